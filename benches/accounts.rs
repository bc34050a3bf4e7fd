//! Many businesses in one PostgreSQL database: importing the realistic
//! 200,000-row file into one new account of a database that holds
//! 2,000,000 contacts across 100 accounts, against importing it into an
//! empty database (the README's "Many businesses in one database").
//!
//! ```text
//! PG_FSYNC=on .ci/with-postgres cargo bench --bench accounts --features postgres
//! BENCH_PARTITIONS=32 PG_FSYNC=on .ci/with-postgres cargo bench --bench accounts --features postgres
//! ```
//!
//! With `BENCH_PARTITIONS=N`, both databases' tables are created
//! `PARTITION BY HASH (account_id)` into N partitions
//! (`PostgresStore::create_partitioned_schema`), as Citus shards them.
//!
//! Not criterion: one run takes seconds and the seeding a minute, so the
//! bench runs each case `BENCH_RUNS` times (default 5), alternating (empty,
//! shared, empty, ...), after one warm-up pair that is printed but not
//! counted (the first import after seeding meets a cold cache), and prints
//! every run and the medians. Before each run the server
//! checkpoints, so that no run pays for the writes of the one before. Each
//! run into the shared database uses a new account, deleted (and vacuumed)
//! after the run, so every run meets the same 2,000,000 contacts.
use std::time::{Duration, Instant};

use contact_import::generate::{self, RealisticFile};
use contact_import::postgres::{Client, NoTls};
use contact_import::{Account, Catalog, ImportEngine, PostgresStore};

const ACCOUNTS: u64 = 100;
/// Rows of each seeded account's file: about 20,000 contacts once the
/// file's failing and repeated rows are taken out.
const SEED_ROWS: usize = 21_700;
/// Alternated pairs of runs when `BENCH_RUNS` is not set.
const RUNS: usize = 5;

/// How many pairs of runs are counted (`BENCH_RUNS`, default [`RUNS`]).
fn runs() -> usize {
    std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .filter(|&runs| runs > 0)
        .unwrap_or(RUNS)
}

fn engine() -> ImportEngine {
    let catalog = Catalog::new()
        .with_tags(generate::TAGS)
        .with_attributes(generate::ATTRIBUTES);
    ImportEngine::new(catalog, jiff::Timestamp::now)
}

fn client(url: &str, schema: &str) -> Client {
    let mut client = Client::connect(url, NoTls).expect("CONTACT_IMPORT_PG_URL is unreachable");
    client
        .batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}"
        ))
        .expect("cannot create the bench's schema");
    client
}

/// 0 for plain tables.
fn partitions() -> u32 {
    std::env::var("BENCH_PARTITIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn open_store(url: &str, schema: &str, account: &str) -> PostgresStore {
    let mut client = client(url, schema);
    let exists: bool = client
        .query_one("SELECT to_regclass('contacts') IS NOT NULL", &[])
        .expect("cannot look for the tables")
        .get(0);
    if !exists && partitions() > 0 {
        PostgresStore::create_partitioned_schema(&mut client, partitions())
            .expect("cannot create the partitioned tables");
    }
    PostgresStore::with_client(client)
        .expect("cannot create the store")
        .for_account(Account::new(account).expect("a valid account"))
}

fn main() {
    let Ok(url) = std::env::var("CONTACT_IMPORT_PG_URL") else {
        eprintln!(
            "note: CONTACT_IMPORT_PG_URL is not set: run with .ci/with-postgres (see the file's docs)"
        );
        return;
    };
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let file = RealisticFile::new(200_000).to_bytes();
    let engine = engine();

    let seeding = Instant::now();
    let mut admin = client(&url, "bench_shared");
    admin
        .batch_execute("DROP SCHEMA bench_shared CASCADE; CREATE SCHEMA bench_shared")
        .expect("cannot reset the shared schema");
    for n in 0..ACCOUNTS {
        let seed = RealisticFile::new(SEED_ROWS)
            .with_seed(1_000 + n)
            .to_bytes();
        let mut store = open_store(&url, "bench_shared", &format!("business-{n}"));
        engine
            .import_bytes(&seed[..], &mut store)
            .expect("seeding failed");
    }
    for table in ["contacts", "catalog_tags", "catalog_attributes", "imports"] {
        admin
            .batch_execute(&format!("VACUUM ANALYZE bench_shared.{table}"))
            .expect("VACUUM failed");
    }
    let held: i64 = admin
        .query_one("SELECT count(*) FROM bench_shared.contacts", &[])
        .expect("count failed")
        .get(0);
    let accounts: i64 = admin
        .query_one(
            "SELECT count(DISTINCT account_id) FROM bench_shared.contacts",
            &[],
        )
        .expect("count failed")
        .get(0);
    println!(
        "seeded {held} contacts in {accounts} accounts in {:.1?} ({} partitions)",
        seeding.elapsed(),
        partitions()
    );

    let mut empty = Vec::new();
    let mut shared = Vec::new();
    let runs = runs();
    for run in 0..=runs {
        let warm_up = run == 0;
        let schema = format!("bench_empty_{run}");
        admin
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .expect("cannot drop the empty schema");
        let mut store = open_store(&url, &schema, "new");
        let took = timed(&engine, &file, &mut store, &mut admin);
        println!("run {run}: empty database  {took:.2?}{}", note(warm_up));
        if !warm_up {
            empty.push(took);
        }
        drop(store);
        admin
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .expect("cannot drop the empty schema");

        let account = format!("new-{run}");
        let mut store = open_store(&url, "bench_shared", &account);
        let took = timed(&engine, &file, &mut store, &mut admin);
        println!(
            "run {run}: new account of {held}  {took:.2?}{}",
            note(warm_up)
        );
        if !warm_up {
            shared.push(took);
        }
        drop(store);
        admin
            .execute(
                "DELETE FROM bench_shared.contacts WHERE account_id = $1",
                &[&account],
            )
            .expect("cannot delete the run's account");
        admin
            .batch_execute("VACUUM bench_shared.contacts")
            .expect("VACUUM failed");
    }
    let (empty, shared) = (median(empty), median(shared));
    println!(
        "median of {runs}: empty database {:.2?}, new account of {held} contacts {:.2?}: {:.3}x",
        empty,
        shared,
        shared.as_secs_f64() / empty.as_secs_f64()
    );
}

fn timed(
    engine: &ImportEngine,
    file: &[u8],
    store: &mut PostgresStore,
    admin: &mut Client,
) -> Duration {
    admin
        .batch_execute("CHECKPOINT")
        .expect("CHECKPOINT failed");
    let start = Instant::now();
    let report = engine.import_bytes(file, store).expect("the import failed");
    let elapsed = start.elapsed();
    assert_eq!(
        report.added, 184_694,
        "the realistic file adds 184,694 contacts"
    );
    elapsed
}

/// Marks the warm-up pair in the output.
fn note(warm_up: bool) -> &'static str {
    if warm_up {
        " (warm-up, not counted)"
    } else {
        ""
    }
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}
