//! Importing a 200,000-row file into the database stores: SqliteStore on a
//! file on disk and, when CONTACT_IMPORT_PG_URL is set, PostgresStore.
//!
//! ```text
//! cargo bench --bench stores --features sqlite,postgres
//! PG_FSYNC=on .ci/with-postgres cargo bench --bench stores --features sqlite,postgres
//! ```
//!
//! First, each database store against its floor, in the same run (see
//! `floors`): the import against SQLite's own bulk load (and the sqlite3
//! shell's, when one is on PATH) or PostgreSQL's `COPY` of the rows the
//! import stored, the same file again against the first import, and the
//! SQLite export against a dump of the table to CSV; it prints the medians
//! and ratios (`STORES_RUNS`, 3 by default; `STORES_FLOORS_ONLY=1` stops
//! there; `STORES_POSTGRES_ONLY=1` skips SQLite's floors).
//!
//! Then criterion's groups. MemoryStore is the baseline: the engine's own cost. Each store is
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
use criterion::{BatchSize, BenchmarkGroup, Criterion, Throughput, criterion_group};

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

/// The floors first (`STORES_FLOORS_ONLY=1`: only them), then criterion's groups.
fn main() {
    let file = generate(ROWS);
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    {
        if std::env::var_os("STORES_POSTGRES_ONLY").is_none() {
            floors::sqlite(&file);
        }
        floors::postgres(&file);
    }
    #[cfg(not(any(feature = "sqlite", feature = "postgres")))]
    eprintln!("note: no database store measured: run with --features sqlite,postgres");
    drop(file);
    if std::env::var_os("STORES_FLOORS_ONLY").is_none() {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
}

/// Each database store against its floor, in the same run (issue 16): the
/// import into a new store, the same file again, and (SQLite) the export,
/// each against the database's own bulk load or dump of the very rows the
/// import stored. Runs alternate (store, floor, store, ...) `STORES_RUNS`
/// times (3 by default); the medians and each run's ratio are printed.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod floors {
    use std::time::{Duration, Instant};

    use contact_import::{ContactStore, ImportEngine};

    /// How many times each case runs.
    fn runs() -> usize {
        std::env::var("STORES_RUNS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(3)
    }

    fn timed<T>(work: impl FnOnce() -> T) -> (Duration, T) {
        let start = Instant::now();
        let out = work();
        (start.elapsed(), out)
    }

    fn median(mut values: Vec<f64>) -> f64 {
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
    }

    /// One line per case: the runs, the medians, the median of the ratios.
    fn print(case: &str, floor: &str, pairs: &[(Duration, Duration)], goal: f64) {
        let ratios: Vec<f64> = pairs
            .iter()
            .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64())
            .collect();
        let runs: Vec<String> = pairs
            .iter()
            .map(|(a, b)| format!("{:.2}/{:.2}", a.as_secs_f64(), b.as_secs_f64()))
            .collect();
        let ratio = median(ratios);
        println!(
            "{case} against {floor}: median {:.3} s against {:.3} s, ratio {ratio:.2}x (goal <= {goal}x{}); runs {}",
            median(pairs.iter().map(|p| p.0.as_secs_f64()).collect()),
            median(pairs.iter().map(|p| p.1.as_secs_f64()).collect()),
            if ratio <= goal { ", met" } else { ", NOT met" },
            runs.join(", ")
        );
    }

    fn import<S: ContactStore>(engine: &ImportEngine, file: &[u8], store: &mut S) {
        if let Err(error) =
            engine.import_recorded("big.csv", std::io::Cursor::new(file), store, |_| {})
        {
            panic!("import failed: {error}");
        }
    }

    #[cfg(feature = "sqlite")]
    pub fn sqlite(file: &[u8]) {
        use contact_import::rusqlite::{Connection, types::Value};
        use contact_import::{Filter, SqliteStore};
        use std::io::BufWriter;
        use std::path::Path;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let engine = super::engine();
        // The engine's default for a store that prefers none, against the
        // store's own 10,000 that `engine` uses.
        let small_engine = super::engine()
            .with_options(contact_import::ImportOptions::new().with_batch_size(1_000));
        let shell = shell::find();
        let (mut import_pairs, mut again_pairs, mut shell_pairs) = (vec![], vec![], vec![]);
        let (mut export_pairs, mut export_shell_pairs) = (vec![], vec![]);
        let (mut small_pairs, mut small_shell_pairs) = (vec![], vec![]);
        for run in 0..runs() {
            let path = dir.path().join(format!("import-{run}.db"));
            let mut store = SqliteStore::open(&path).expect("a SQLite file");
            let (first, ()) = timed(|| import(&engine, file, &mut store));
            let (again, ()) = timed(|| import(&engine, file, &mut store));
            again_pairs.push((again, first));
            // Ten times more commits.
            let small_path = dir.path().join(format!("small-batches-{run}.db"));
            let mut small = SqliteStore::open(&small_path).expect("a SQLite file");
            let (small_first, ()) = timed(|| import(&small_engine, file, &mut small));
            drop(small);
            // The rows the import stored, every column, in their order.
            let rows = stored_rows(store.connection());
            let floor_path = dir.path().join(format!("floor-{run}.db"));
            drop(SqliteStore::open(&floor_path).expect("the same schema"));
            let mut floor = Connection::open(&floor_path).expect("the floor's file");
            floor
                .pragma_update(None, "synchronous", "NORMAL")
                .expect("synchronous");
            let (load, ()) = timed(|| bulk_load(&mut floor, &rows));
            import_pairs.push((first, load));
            small_pairs.push((small_first, load));
            drop(rows);
            let export_path = dir.path().join("export.csv");
            let (export, ()) = timed(|| {
                let out = BufWriter::new(std::fs::File::create(&export_path).expect("a file"));
                let catalog = engine.catalog().clone();
                contact_import::export(
                    &mut store,
                    &Filter::everyone(),
                    &catalog,
                    jiff::Timestamp::now(),
                    out,
                )
                .expect("the export");
            });
            drop(store);
            if let Some(shell) = &shell {
                let csv = dir.path().join("rows.csv");
                let (dump, ()) = timed(|| shell::dump(shell, &path, &csv));
                export_shell_pairs.push((export, dump));
                let shell_path = dir.path().join(format!("shell-{run}.db"));
                drop(SqliteStore::open(&shell_path).expect("the same schema"));
                let (load, ()) = timed(|| shell::load(shell, &shell_path, &csv));
                shell_pairs.push((first, load));
                small_shell_pairs.push((small_first, load));
            }
            let floor_csv = dir.path().join("floor.csv");
            let imported = Connection::open(&path).expect("the imported file");
            let (dump, ()) = timed(|| csv_dump(&imported, &floor_csv));
            export_pairs.push((export, dump));
        }
        println!("SQLite, {} runs:", runs());
        print(
            "  import into a new file (the store's batches of 10,000)",
            "SQLite's own bulk load of its rows (one transaction)",
            &import_pairs,
            1.5,
        );
        if shell.is_some() {
            print(
                "  import into a new file (the store's batches of 10,000)",
                "the sqlite3 shell's .import of its rows",
                &shell_pairs,
                1.5,
            );
        }
        print(
            "  import in batches of 1,000",
            "SQLite's own bulk load of its rows",
            &small_pairs,
            1.5,
        );
        if shell.is_some() {
            print(
                "  import in batches of 1,000",
                "the sqlite3 shell's .import of its rows",
                &small_shell_pairs,
                1.5,
            );
        }
        print(
            "  the same file again",
            "the first import",
            &again_pairs,
            1.0,
        );
        print(
            "  export to CSV",
            "SQLite's own dump of the table to CSV",
            &export_pairs,
            1.5,
        );
        if shell.is_some() {
            print(
                "  export to CSV",
                "the sqlite3 shell writing the table as CSV",
                &export_shell_pairs,
                1.5,
            );
        }

        fn stored_rows(connection: &Connection) -> Vec<Vec<Value>> {
            let mut statement = connection
                .prepare("SELECT * FROM contacts ORDER BY id")
                .expect("the stored rows");
            let width = statement.column_count();
            let rows = statement
                .query_map([], |row| {
                    (0..width).map(|i| row.get::<_, Value>(i)).collect()
                })
                .expect("the stored rows");
            rows.collect::<Result<_, _>>().expect("the stored rows")
        }

        fn bulk_load(connection: &mut Connection, rows: &[Vec<Value>]) {
            let width = rows.first().map_or(0, Vec::len);
            let marks = vec!["?"; width].join(", ");
            let transaction = connection.transaction().expect("a transaction");
            {
                let mut insert = transaction
                    .prepare(&format!("INSERT INTO contacts VALUES ({marks})"))
                    .expect("the insert");
                for row in rows {
                    insert
                        .execute(contact_import::rusqlite::params_from_iter(row))
                        .expect("a row");
                }
            }
            transaction.commit().expect("the commit");
        }

        fn csv_dump(connection: &Connection, path: &Path) {
            let mut out = csv::Writer::from_writer(BufWriter::new(
                std::fs::File::create(path).expect("a file"),
            ));
            let mut statement = connection
                .prepare("SELECT * FROM contacts")
                .expect("the rows");
            let width = statement.column_count();
            let mut rows = statement.query([]).expect("the rows");
            while let Some(row) = rows.next().expect("a row") {
                for i in 0..width {
                    match row.get_ref(i).expect("a value") {
                        contact_import::rusqlite::types::ValueRef::Null => out.write_field(""),
                        contact_import::rusqlite::types::ValueRef::Integer(n) => {
                            out.write_field(n.to_string())
                        }
                        contact_import::rusqlite::types::ValueRef::Text(t) => out.write_field(t),
                        other => out.write_field(format!("{other:?}")),
                    }
                    .expect("writing");
                }
                out.write_record(None::<&[u8]>).expect("writing");
            }
            out.flush().expect("writing");
        }
    }

    #[cfg(not(feature = "sqlite"))]
    pub fn sqlite(_: &[u8]) {
        eprintln!("note: SqliteStore not measured: run with --features sqlite");
    }

    /// The sqlite3 shell, the other floor of SqliteStore, and its two jobs.
    #[cfg(feature = "sqlite")]
    mod shell {
        use std::io::Write;
        use std::path::Path;

        pub fn find() -> Option<std::path::PathBuf> {
            let found = std::process::Command::new("sqlite3")
                .arg("-version")
                .output()
                .is_ok_and(|out| out.status.success());
            if !found {
                eprintln!(
                    "note: no sqlite3 shell on PATH: compared with SQLite's own bulk load only"
                );
            }
            found.then(|| "sqlite3".into())
        }

        pub fn dump(shell: &Path, db: &Path, csv: &Path) {
            let out = std::fs::File::create(csv).expect("a file");
            let status = std::process::Command::new(shell)
                .arg("-csv")
                .arg(db)
                .arg("SELECT * FROM contacts")
                .stdout(out)
                .status()
                .expect("the sqlite3 shell");
            assert!(status.success(), "the sqlite3 shell failed");
        }

        pub fn load(shell: &Path, db: &Path, csv: &Path) {
            let mut child = std::process::Command::new(shell)
                .arg(db)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("the sqlite3 shell");
            // The shell's CSV has no NULL: an unknown opt-in arrives as '', which
            // the column's CHECK (0 or 1) refuses; the floor skips that check.
            let script = format!(
                "PRAGMA synchronous=NORMAL;\nPRAGMA ignore_check_constraints=ON;\n.import --csv {} contacts\n",
                csv.display()
            );
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(script.as_bytes())
                .expect("the script");
            assert!(
                child.wait().expect("the shell").success(),
                "the sqlite3 shell failed"
            );
        }
    }

    #[cfg(feature = "postgres")]
    pub fn postgres(file: &[u8]) {
        use contact_import::PostgresStore;
        use contact_import::postgres::{Client, NoTls};
        use std::io::{Read, Write};
        let Ok(url) = std::env::var("CONTACT_IMPORT_PG_URL") else {
            eprintln!("note: PostgresStore not measured: set CONTACT_IMPORT_PG_URL");
            return;
        };
        let engine = super::engine();
        // A session of its own on `schema`.
        let join = |schema: &str| {
            let mut client =
                Client::connect(&url, NoTls).expect("CONTACT_IMPORT_PG_URL is reachable");
            client
                .batch_execute(&format!("SET search_path TO {schema}"))
                .expect("the schema");
            client
        };
        // A session on `schema`, made new and empty.
        let connect = |schema: &str| {
            let mut client = join(schema);
            client
                .batch_execute(&format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
                ))
                .expect("a fresh schema");
            client
        };
        let (mut import_pairs, mut again_pairs, mut big_pairs) = (vec![], vec![], vec![]);
        let (mut two_pairs, mut two_again_pairs) = (vec![], vec![]);
        // PostgresStore prefers no batch size: `engine` cuts the engine's
        // 1,000, this one ten times fewer commits.
        let big_engine = super::engine()
            .with_options(contact_import::ImportOptions::new().with_batch_size(10_000));
        for _ in 0..runs() {
            let mut store =
                PostgresStore::with_client(connect("contact_import_floor_a")).expect("the schema");
            store
                .client()
                .batch_execute("CHECKPOINT")
                .expect("a checkpoint");
            let (first, ()) = timed(|| import(&engine, file, &mut store));
            store
                .client()
                .batch_execute("CHECKPOINT")
                .expect("a checkpoint");
            let (again, ()) = timed(|| import(&engine, file, &mut store));
            again_pairs.push((again, first));
            let mut big =
                PostgresStore::with_client(connect("contact_import_floor_c")).expect("the schema");
            big.client()
                .batch_execute("CHECKPOINT")
                .expect("a checkpoint");
            let (big_first, ()) = timed(|| import(&big_engine, file, &mut big));
            drop(big);
            let mut two = PostgresStore::with_client(connect("contact_import_floor_d"))
                .and_then(|store| store.with_second_client(join("contact_import_floor_d")))
                .expect("the schema");
            two.client()
                .batch_execute("CHECKPOINT")
                .expect("a checkpoint");
            let (two_first, ()) = timed(|| import(&engine, file, &mut two));
            two.client()
                .batch_execute("CHECKPOINT")
                .expect("a checkpoint");
            let (two_again, ()) = timed(|| import(&engine, file, &mut two));
            two_again_pairs.push((two_again, first));
            drop(two);
            let mut rows = Vec::new();
            store
                .client()
                .copy_out("COPY contacts TO STDOUT")
                .expect("the stored rows")
                .read_to_end(&mut rows)
                .expect("the stored rows");
            drop(store);
            let mut floor =
                PostgresStore::with_client(connect("contact_import_floor_b")).expect("the schema");
            floor
                .client()
                .batch_execute("CHECKPOINT")
                .expect("a checkpoint");
            let (copy, ()) = timed(|| {
                let mut writer = floor
                    .client()
                    .copy_in("COPY contacts FROM STDIN")
                    .expect("COPY");
                writer.write_all(&rows).expect("the rows");
                writer.finish().expect("COPY");
            });
            import_pairs.push((first, copy));
            big_pairs.push((big_first, copy));
            two_pairs.push((two_first, copy));
        }
        let mut client = Client::connect(&url, NoTls).expect("CONTACT_IMPORT_PG_URL is reachable");
        let _ = client.batch_execute(
            "DROP SCHEMA IF EXISTS contact_import_floor_a CASCADE; DROP SCHEMA IF EXISTS contact_import_floor_b CASCADE; DROP SCHEMA IF EXISTS contact_import_floor_c CASCADE; DROP SCHEMA IF EXISTS contact_import_floor_d CASCADE",
        );
        println!("PostgreSQL, {} runs:", runs());
        print(
            "  import into a new schema (batches of 1,000)",
            "COPY of its rows into the same schema",
            &import_pairs,
            1.5,
        );
        print(
            "  import in batches of 10,000",
            "COPY of its rows into the same schema",
            &big_pairs,
            1.5,
        );
        print(
            "  import on two connections (with_second_client, batches of 1,000)",
            "COPY of its rows into the same schema",
            &two_pairs,
            1.5,
        );
        print(
            "  the same file again",
            "the first import",
            &again_pairs,
            1.0,
        );
        print(
            "  the same file again on two connections",
            "the first import on one",
            &two_again_pairs,
            1.0,
        );
    }

    #[cfg(not(feature = "postgres"))]
    pub fn postgres(_: &[u8]) {
        eprintln!("note: PostgresStore not measured: run with --features postgres");
    }
}
