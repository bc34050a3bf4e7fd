//! Importing a 200,000-row file into the database stores: SqliteStore on a
//! file on disk and, when CONTACT_IMPORT_PG_URL is set, PostgresStore.
//!
//! ```text
//! cargo bench --bench stores --features sqlite,postgres
//! PG_FSYNC=on .ci/with-postgres cargo bench --bench stores --features sqlite,postgres
//! ```
//!
//! MemoryStore is the baseline: the engine's own cost. Each store is
//! measured importing into an empty store and importing the same file again
//! (its rows are then unchanged: every batch is fetched, none written), and,
//! for the store's part alone, writing the file's contacts into an empty
//! store and over themselves. Criterion reports rows (or contacts) per second.
use std::hint::black_box;
use std::time::Duration;

use contact_import::generate::{self, RealisticFile};
use contact_import::{
    Catalog, Contact, ContactStore, ImportEngine, ImportReport, MemoryStore, Phone, Version,
    WriteBatch,
};
use criterion::{
    BatchSize, BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main,
};

const ROWS: u64 = 200_000;

/// The realistic file of the speed benchmarks (`contact_import::generate`).
fn generate(rows: u64) -> Vec<u8> {
    RealisticFile::new(rows as usize).to_bytes()
}

fn engine() -> ImportEngine {
    let catalog = Catalog::new()
        .with_tags(generate::TAGS)
        .with_attributes(generate::ATTRIBUTES);
    ImportEngine::new(catalog, jiff::Timestamp::now)
}

fn import<S: ContactStore>(engine: &ImportEngine, file: &[u8], store: &mut S) -> ImportReport {
    match engine.import_bytes(file, store) {
        Ok(report) => report,
        Err(error) => panic!("import failed: {error}"),
    }
}

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// The two workloads: the whole import, and the store's part of it alone.
struct Workloads {
    file: Vec<u8>,
    batches: Vec<Vec<Contact>>,
}

/// Adding into a fresh store from `fresh`, then updating a store that
/// already holds the contacts, for both workloads.
fn bench_store<S: ContactStore>(
    c: &mut Criterion,
    work: &Workloads,
    name: &str,
    mut fresh: impl FnMut() -> S,
) {
    let engine = engine();
    let mut import_group = group(c, "import_200k", ROWS);
    bench_pair(
        &mut import_group,
        name,
        &mut fresh,
        || (),
        |store, ()| {
            black_box(import(&engine, &work.file, store));
        },
    );
    import_group.finish();
    let contacts = work.batches.iter().map(Vec::len).sum::<usize>() as u64;
    let mut write_group = group(c, "store_only_200k", contacts);
    bench_pair(
        &mut write_group,
        name,
        &mut fresh,
        || work.batches.clone(),
        write_all,
    );
    write_group.finish();
}

/// Measures `run` on a fresh store (add) and on one that `run` filled
/// before (update); `input` is made outside the measurement.
fn bench_pair<S: ContactStore, I>(
    group: &mut Group<'_>,
    name: &str,
    fresh: &mut impl FnMut() -> S,
    input: impl Fn() -> I,
    run: impl Fn(&mut S, I),
) {
    group.bench_function(format!("{name}/add"), |b| {
        b.iter_batched(
            || (fresh(), input()),
            |(mut store, input)| run(&mut store, input),
            BatchSize::PerIteration,
        )
    });
    let mut store = fresh();
    run(&mut store, input());
    group.bench_function(format!("{name}/update"), |b| {
        b.iter_batched(
            &input,
            |input| run(&mut store, input),
            BatchSize::PerIteration,
        )
    });
}

/// A group reporting `elements` (rows of the file, or contacts) per second.
fn group<'a>(c: &'a mut Criterion, name: &str, elements: u64) -> Group<'a> {
    let mut group = c.benchmark_group(name);
    group
        .throughput(Throughput::Elements(elements))
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    group
}

#[cfg(feature = "sqlite")]
fn sqlite(c: &mut Criterion, work: &Workloads) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut n = 0;
    bench_store(c, work, "sqlite_file", || {
        n += 1;
        contact_import::SqliteStore::open(dir.path().join(format!("bench-{n}.db")))
            .expect("a SQLite file")
    });
}

#[cfg(not(feature = "sqlite"))]
fn sqlite(_: &mut Criterion, _: &Workloads) {
    eprintln!("note: SqliteStore not measured: run with --features sqlite");
}

#[cfg(feature = "postgres")]
fn postgres(c: &mut Criterion, work: &Workloads) {
    use contact_import::postgres::{Client, NoTls};
    let Ok(url) = std::env::var("CONTACT_IMPORT_PG_URL") else {
        eprintln!("note: PostgresStore not measured: set CONTACT_IMPORT_PG_URL");
        return;
    };
    let connect = || Client::connect(&url, NoTls).expect("CONTACT_IMPORT_PG_URL is reachable");
    let mut n = 0;
    bench_store(c, work, "postgres", || {
        n += 1;
        let mut client = connect();
        let schema = format!("contact_import_bench_{n}");
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path TO {schema}"
            ))
            .expect("a fresh schema");
        contact_import::PostgresStore::with_client(client).expect("the store's schema")
    });
    let mut client = connect();
    for i in 1..=n {
        let _ = client.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS contact_import_bench_{i} CASCADE"
        ));
    }
}

#[cfg(not(feature = "postgres"))]
fn postgres(_: &mut Criterion, _: &Workloads) {
    eprintln!("note: PostgresStore not measured: run with --features postgres");
}

/// The store's own work for the same file, without the engine: fetch then
/// write each batch of 1,000 normalized contacts (the file's contacts,
/// repeats merged, failed rows left out), created or updated at the
/// version fetched.
fn write_all<S: ContactStore>(store: &mut S, batches: Vec<Vec<Contact>>) {
    let mut found = Vec::new();
    for batch in batches {
        let phones: Vec<Phone> = batch.iter().map(|c| c.phone).collect();
        found.clear();
        if let Err(error) = store.fetch(&phones, &mut found) {
            panic!("fetch failed: {error}");
        }
        let versions: std::collections::HashMap<Phone, Version> =
            found.iter().map(|s| (s.contact.phone, s.version)).collect();
        let mut writes = WriteBatch::default();
        for contact in batch {
            match versions.get(&contact.phone) {
                Some(&version) => writes.update.push((contact, version)),
                None => writes.create.push(contact),
            }
        }
        match store.write_batch(writes) {
            Ok(conflicts) => assert!(conflicts.is_empty(), "nobody else writes"),
            Err(error) => panic!("write failed: {error}"),
        }
    }
}

/// The contacts the file holds, in batches of 1,000, each phone once per batch.
fn batches(file: &[u8]) -> Vec<Vec<Contact>> {
    let mut store = MemoryStore::new();
    import(&engine(), file, &mut store);
    let contacts: Vec<Contact> = store.contacts().into_iter().cloned().collect();
    contacts.chunks(1_000).map(<[Contact]>::to_vec).collect()
}

fn stores(c: &mut Criterion) {
    let file = generate(ROWS);
    let work = Workloads {
        batches: batches(&file),
        file,
    };
    bench_store(c, &work, "memory", MemoryStore::new);
    sqlite(c, &work);
    postgres(c, &work);
}

criterion_group!(benches, stores);
criterion_main!(benches);
