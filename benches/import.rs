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
//! Last, the import and the floor are timed in alternated pairs and the
//! ratio printed (`IMPORT_RATIO_RUNS`, 5 by default; 0 skips them; what
//! the import made, the store and the report, is dropped outside its
//! time), and,
//! when asked (`IMPORT_COLUMN_COSTS` pairs a column), what each optional
//! column costs the import: the file without it against the whole file.
use std::hint::black_box;
use std::time::{Duration, Instant};

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
        b.iter(|| black_box(read_floor(&bytes)))
    });
    group.finish();
}

/// The floor's work: every field of every record, read into one `ByteRecord`.
fn read_floor(bytes: &[u8]) -> usize {
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    let mut touched = 0usize;
    while reader.read_byte_record(&mut record).unwrap_or(false) {
        for field in &record {
            touched += field.len();
        }
    }
    touched
}

/// The goal's ratio, the `MemoryStore` import against the floor, measured
/// in alternated pairs: criterion measures the groups one after the
/// other, and on a shared machine the load changes in between. Prints each
/// pair's ratio, the medians and the median ratio. `IMPORT_RATIO_RUNS`
/// pairs (5 by default; 0 skips them); only under `cargo bench`, not when
/// `cargo test` runs the benches once.
fn floor_ratio(_: &mut Criterion) {
    let runs = pairs_asked("IMPORT_RATIO_RUNS", 5);
    if runs == 0 {
        return;
    }
    let (file, bytes) = file();
    let engine = ImportEngine::new(file.catalog(), Timestamp::UNIX_EPOCH);
    let (mut floors, mut imports, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let mut drops = Vec::new();
    for _ in 0..runs {
        let floor = time_floor(&bytes);
        let (import, dropping) = time_import_and_drop(&engine, &bytes);
        floors.push(floor);
        imports.push(import);
        ratios.push(import / floor);
        drops.push(dropping);
    }
    let pairs: Vec<String> = ratios.iter().map(|r| format!("{r:.2}x")).collect();
    println!(
        "floor_ratio: {runs} alternated pairs: csv floor {:.1} ms, MemoryStore import {:.1} ms, then dropping its report {:.1} ms (medians); median ratio of the pairs {:.2}x (each: {})",
        median(&mut floors) * 1e3,
        median(&mut imports) * 1e3,
        median(&mut drops) * 1e3,
        median(&mut ratios),
        pairs.join(", ")
    );
}

/// The pairs the environment variable `name` asks for (`default` when it
/// is unset); 0 when the benches only run once under `cargo test`.
fn pairs_asked(name: &str, default: usize) -> usize {
    if !std::env::args().any(|arg| arg == "--bench") {
        return 0;
    }
    std::env::var(name)
        .ok()
        .and_then(|pairs| pairs.parse().ok())
        .unwrap_or(default)
}

/// What each optional column costs the import: the import of the file
/// without it against the whole file's, into a new `MemoryStore`, timed in
/// pairs whose order alternates (`IMPORT_COLUMN_COSTS` pairs a column; 0,
/// the default, skips them). Prints each column's median ratio, beside the
/// csv floor's for the same two files: a column costs the floor its bytes,
/// and the import its bytes and its cells' work, which is what to watch
/// while that work changes.
fn column_costs(_: &mut Criterion) {
    let pairs = pairs_asked("IMPORT_COLUMN_COSTS", 0);
    if pairs == 0 {
        return;
    }
    let (file, bytes) = file();
    let engine = ImportEngine::new(file.catalog(), Timestamp::UNIX_EPOCH);
    // Written again like the files without a column, so that quoting
    // cannot tell them apart.
    let whole = without_columns(&bytes, &[]);
    let optional: [&[&str]; 4] = [
        &["Tags"],
        &["Source"],
        &["First Message"],
        &["City", "email", "State"],
    ];
    for columns in optional {
        let less = without_columns(&whole, columns);
        let (mut imports, mut floors) = (Vec::new(), Vec::new());
        for pair in 0..pairs {
            let ratio = |time: &dyn Fn(&[u8]) -> f64| {
                if pair % 2 == 0 {
                    let whole_time = time(&whole);
                    time(&less) / whole_time
                } else {
                    let less_time = time(&less);
                    less_time / time(&whole)
                }
            };
            imports.push(ratio(&|bytes| time_import(&engine, bytes)));
            floors.push(ratio(&time_floor));
        }
        println!(
            "column_costs: without {columns:?} ({:.1}% of the bytes): the import {:.3}x the whole file's, the csv floor {:.3}x ({pairs} pairs, medians)",
            100.0 * (whole.len() - less.len()) as f64 / whole.len() as f64,
            median(&mut imports),
            median(&mut floors),
        );
    }
}

/// The CSV `bytes` without the named columns, every field quoted only
/// where it must be.
fn without_columns(bytes: &[u8], columns: &[&str]) -> Vec<u8> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader.headers().expect("the file's header").clone();
    let kept: Vec<usize> = (0..headers.len())
        .filter(|&i| !columns.contains(&&headers[i]))
        .collect();
    assert_eq!(
        kept.len() + columns.len(),
        headers.len(),
        "every column to leave out is in the file"
    );
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(bytes.len()));
    let keep = |record: &csv::StringRecord| -> Vec<String> {
        kept.iter()
            .map(|&i| record.get(i).unwrap_or_default().to_owned())
            .collect()
    };
    writer
        .write_record(keep(&headers))
        .expect("a header in memory");
    for record in reader.records() {
        let record = record.expect("a record of the generated file");
        writer
            .write_record(keep(&record))
            .expect("a record in memory");
    }
    writer.into_inner().expect("a file in memory")
}

/// Seconds an import of `bytes` into a new `MemoryStore` takes. What it
/// made, the store and the report, is dropped outside the time, as a
/// caller keeps both past the import (a report of the realistic file holds
/// 20,000 warnings and 9,270 failed rows with their cells: dropping it
/// takes about 8% of the import's time).
fn time_import(engine: &ImportEngine, bytes: &[u8]) -> f64 {
    time_import_and_drop(engine, bytes).0
}

/// [`time_import`]'s seconds, and the seconds the report then takes to drop.
fn time_import_and_drop(engine: &ImportEngine, bytes: &[u8]) -> (f64, f64) {
    let mut store = MemoryStore::new();
    let start = Instant::now();
    let report = engine.import_bytes(bytes, &mut store);
    let seconds = start.elapsed().as_secs_f64();
    let added = report.as_ref().map_or(0, |r| r.added);
    let start = Instant::now();
    drop(black_box(report));
    let dropping = start.elapsed().as_secs_f64();
    black_box((added, store));
    (seconds, dropping)
}

/// Seconds the csv floor takes to read `bytes`.
fn time_floor(bytes: &[u8]) -> f64 {
    let start = Instant::now();
    black_box(read_floor(bytes));
    start.elapsed().as_secs_f64()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
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
    // Numbers of the codes many regions share (+1, +44): finding the
    // region types the number, which the type must not do again.
    let shared_codes = shared_code_cells(20_000);
    group.throughput(Throughput::Elements(shared_codes.len() as u64));
    group.bench_function("plus1_and_plus44_typed", |b| {
        b.iter(|| {
            let mut mobile = 0usize;
            for cell in &shared_codes {
                let typed = normalizer.normalize_typed(black_box(cell));
                mobile += usize::from(typed.is_ok_and(|(_, kind)| kind.can_be_mobile()));
            }
            mobile
        })
    });
    group.finish();
}

/// `pairs` North American and `pairs` British numbers, from a fixed seed.
fn shared_code_cells(pairs: usize) -> Vec<String> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        state >> 24
    };
    let areas = [212, 415, 646, 416, 604, 305, 713, 202];
    (0..pairs)
        .flat_map(|_| {
            let area = areas[(next() % areas.len() as u64) as usize];
            [
                format!("+1 {area} {:07}", next() % 8_000_000 + 2_000_000),
                format!("+44 7{:09}", next() % 1_000_000_000),
            ]
        })
        .collect()
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
                // The store and the report are dropped outside the
                // measurement (see `time_import`).
                let report = engine.import_bytes(&bytes, &mut store);
                (report, store)
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
    targets = csv_floor, phones, import_memory, floor_ratio, column_costs
}
criterion_main!(benches);
