//! The 200,000-row import, against the floor of reading the same file.
//!
//! ```text
//! cargo bench --bench import --features sqlite -- --warm-up-time 1 --measurement-time 5
//! ```
//!
//! Without `--features sqlite` the SqliteStore group is left out.
//!
//! Every group reports elements per second (rows, or phones); compare the
//! groups of one run, not runs on different days: the machine is shared.
use std::hint::black_box;
use std::time::Duration;

use contact_import::generate::RealisticFile;
use contact_import::{ImportEngine, MemoryStore, PhoneNormalizer, Timestamp};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

/// The guide's limit on one import.
const ROWS: usize = 200_000;

fn file() -> (RealisticFile, Vec<u8>) {
    let file = RealisticFile::new(ROWS);
    let bytes = file.to_bytes();
    (file, bytes)
}

/// The floor: the csv crate with one reused `ByteRecord`, touching every field.
fn csv_floor(c: &mut Criterion) {
    let (_, bytes) = file();
    let mut group = c.benchmark_group("csv_floor");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("read_200k_rows", |b| {
        b.iter(|| {
            let mut reader = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
            let mut record = csv::ByteRecord::new();
            let mut touched = 0usize;
            while reader.read_byte_record(&mut record).unwrap_or(false) {
                for field in &record {
                    touched += field.len();
                }
            }
            black_box(touched)
        })
    });
    group.finish();
}

/// Phone normalization alone, over the phone cells of the realistic file.
fn phones(c: &mut Criterion) {
    let (_, bytes) = file();
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let cells: Vec<String> = reader
        .records()
        .filter_map(|r| Some(r.ok()?.get(1)?.to_owned()))
        .collect();
    let normalizer = PhoneNormalizer::default();
    // Compiles the patterns of the regions the file's numbers need outside the measurement.
    let _ = normalizer.normalize("+442079460958");
    let mut group = c.benchmark_group("phone_normalize");
    group.throughput(Throughput::Elements(cells.len() as u64));
    group.bench_function("realistic_mix", |b| {
        b.iter(|| {
            let mut valid = 0usize;
            for cell in &cells {
                valid += usize::from(normalizer.normalize(black_box(cell)).is_ok());
            }
            valid
        })
    });
    // What a row costs: the phone and its type (for the `not_mobile` warning).
    group.bench_function("realistic_mix_typed", |b| {
        b.iter(|| {
            let mut mobile = 0usize;
            for cell in &cells {
                let typed = normalizer.normalize_typed(black_box(cell));
                mobile += usize::from(typed.is_ok_and(|(_, kind)| kind.can_be_mobile()));
            }
            mobile
        })
    });
    group.finish();
}

/// The whole import of the file, in memory, into a `MemoryStore`.
fn import_memory(c: &mut Criterion) {
    let (file, bytes) = file();
    let engine = ImportEngine::new(file.catalog(), Timestamp::UNIX_EPOCH);
    let mut group = c.benchmark_group("import");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("memory_store_200k", |b| {
        b.iter_batched(
            MemoryStore::new,
            |mut store| {
                let report = engine.import_bytes(&bytes, &mut store);
                // The store is dropped outside the measurement.
                (report.map(|r| r.added).unwrap_or_default(), store)
            },
            BatchSize::PerIteration,
        )
    });
    sqlite(&mut group, &engine, &bytes);
    group.finish();
}

/// The whole import of the file into a new `SqliteStore` file on disk.
#[cfg(feature = "sqlite")]
fn sqlite(group: &mut Group<'_>, engine: &ImportEngine, bytes: &[u8]) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut n = 0;
    group.bench_function("sqlite_store_200k", |b| {
        b.iter_batched(
            || {
                n += 1;
                let path = dir.path().join(format!("import-{n}.db"));
                contact_import::SqliteStore::open(path).expect("a SQLite file")
            },
            |mut store| {
                let report = engine.import_bytes(bytes, &mut store);
                (report.map(|r| r.added).unwrap_or_default(), store)
            },
            BatchSize::PerIteration,
        )
    });
}

#[cfg(not(feature = "sqlite"))]
fn sqlite(_: &mut Group<'_>, _: &ImportEngine, _: &[u8]) {
    eprintln!("note: SqliteStore not measured: run with --features sqlite");
}

type Group<'a> = criterion::BenchmarkGroup<'a, criterion::measurement::WallTime>;

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args()
}

criterion_group! {
    name = benches;
    config = config();
    targets = csv_floor, phones, import_memory
}
criterion_main!(benches);
