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

use contact_import::{
    Catalog, Contact, ContactStore, ImportEngine, ImportReport, MemoryStore, Phone,
};
use criterion::{
    BatchSize, BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main,
};

const ROWS: u64 = 200_000;

/// A deterministic file in the guide's format: mostly Indian numbers in the
/// shapes people type, some from other countries, about 3% repeats of an
/// earlier phone and 5% rows that fail.
fn generate(rows: u64) -> Vec<u8> {
    const FIRST: &[&str] = &[
        "Mohit",
        "Priya",
        "Arjun",
        "Sneha",
        "राहुल",
        "அருண்",
        "Ananya",
        "Kabir",
    ];
    const LAST: &[&str] = &["Dua", "Sharma", "Mehta", "Iyer", "शर्मा", "Rao", "Singh", ""];
    const TAGS: &[&str] = &["MBA", "Finance", "Marketing", "Sales", "VIP", "Webinar"];
    const CITIES: &[&str] = &["Delhi", "Mumbai", "Bengaluru", "Chennai", "Pune", "Kolkata"];
    let mut out = String::from("Name,Mobile Number,Tags,Source,First Message,City,email,State\n");
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..rows {
        let r = next();
        let pick = |list: &[&'static str], shift: u32| list[(r >> shift) as usize % list.len()];
        let n = if r % 100 < 3 && i > 0 { r % i } else { i };
        let local = 9_000_000_000 + n * 7 % 999_999_999;
        let phone = match (r >> 8) % 100 {
            0..40 => format!("{local}"),
            40..60 => format!("91{local}"),
            60..80 => format!("+91 {local}"),
            80..90 => format!("+1 415 {:07}", n % 10_000_000),
            90..95 => format!("0{local}"),
            _ => "12345".to_owned(),
        };
        let tags: Vec<&str> = (0..(r >> 16) % 4)
            .map(|k| pick(TAGS, 20 + 3 * k as u32))
            .collect();
        let name = format!("{} {}", pick(FIRST, 32), pick(LAST, 36));
        let city = pick(CITIES, 40);
        out.push_str(&format!(
            "{name},{phone},{},Website,,{city},user{i}@example.in,\n",
            tags.join(" | ")
        ));
    }
    out.into_bytes()
}

fn engine() -> ImportEngine {
    let catalog = Catalog::new()
        .with_tags(["MBA", "Finance", "Marketing", "Sales", "VIP", "Webinar"])
        .with_attributes(["City", "email", "State"]);
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
/// repeats merged, failed rows left out).
fn write_all<S: ContactStore>(store: &mut S, batches: Vec<Vec<Contact>>) {
    let mut found = Vec::new();
    for batch in batches {
        let phones: Vec<Phone> = batch.iter().map(|c| c.phone).collect();
        found.clear();
        if let Err(error) = store.fetch(&phones, &mut found) {
            panic!("fetch failed: {error}");
        }
        if let Err(error) = store.write_batch(batch) {
            panic!("write failed: {error}");
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
