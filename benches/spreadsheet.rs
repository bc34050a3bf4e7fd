//! A 200,000-row .xlsx import, against calamine alone reading its cells
//! (the floor: the import reads the sheet once more than nothing).
//!
//! ```text
//! cargo bench --bench spreadsheet --features spreadsheet
//! ```
use std::hint::black_box;
use std::io::Cursor;
use std::time::Duration;

use calamine::{DataRef, Reader, Xlsx};
use contact_import::generate::RealisticFile;
use contact_import::{ImportEngine, MemoryStore, SpreadsheetFormat, Timestamp};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const ROWS: usize = 200_000;

/// The realistic file as a workbook: cells of up to 15 digits as numbers
/// (as a spreadsheet stores typed phones), the rest as text.
fn workbook(file: &RealisticFile) -> Vec<u8> {
    let csv = file.to_bytes();
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv.as_slice());
    for (r, record) in reader.records().enumerate() {
        for (c, cell) in record.unwrap().iter().enumerate() {
            let number =
                !cell.is_empty() && cell.len() <= 15 && cell.bytes().all(|b| b.is_ascii_digit());
            match cell.parse::<f64>() {
                Ok(value) if number => sheet.write_number(r as u32, c as u16, value),
                _ => sheet.write_string(r as u32, c as u16, cell),
            }
            .unwrap();
        }
    }
    workbook.save_to_buffer().unwrap()
}

fn spreadsheet(c: &mut Criterion) {
    let file = RealisticFile::new(ROWS);
    let bytes = workbook(&file);
    let mut group = c.benchmark_group("xlsx_200k");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("calamine_cells", |b| {
        b.iter(|| {
            let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(&bytes)).unwrap();
            let name = workbook.sheet_names()[0].clone();
            let mut cells = workbook.worksheet_cells_reader(&name).unwrap();
            let mut touched = 0usize;
            while let Some(cell) = cells.next_cell().unwrap() {
                touched += match cell.get_value() {
                    DataRef::SharedString(s) => s.len(),
                    DataRef::String(s) => s.len(),
                    DataRef::Float(f) => *f as usize & 1,
                    _ => 1,
                };
            }
            black_box(touched)
        })
    });
    let engine = ImportEngine::new(file.catalog(), Timestamp::UNIX_EPOCH);
    group.bench_function("import", |b| {
        b.iter_batched(
            MemoryStore::new,
            |mut store| {
                let report = engine
                    .import_spreadsheet(
                        Cursor::new(&bytes),
                        SpreadsheetFormat::Xlsx,
                        &mut store,
                        |_| {},
                    )
                    .unwrap();
                black_box(report.added);
                store
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, spreadsheet);
criterion_main!(benches);
