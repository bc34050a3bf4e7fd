//! Spreadsheet uploads (.xlsx and .ods, written by the tests) give the same
//! contacts and counts as the same sheet saved as CSV.
#![cfg(feature = "spreadsheet")]

use std::io::Cursor;

use crate::common::sheets::*;
use crate::common::*;
use contact_import::{
    FailureCode, FileErrorKind, ImportEngine, ImportError, ImportOptions, ImportReport,
    MemoryStore, RowOutcome, Sheet, SpreadsheetFormat, WarningCode,
};

/// The upload of the issue: a title and a blank row above the header, a
/// phone stored as a number, one as text, a date in the phone column, a
/// formula, an unknown tag, a number in an attribute.
fn contacts() -> TestSheet {
    TestSheet {
        name: "Contacts",
        rows: vec![
            vec![text("Contacts export, December")],
            vec![],
            vec![
                text("Name"),
                text("Mobile Number"),
                text("Tags"),
                text("City"),
            ],
            vec![
                text("Mohit Dua"),
                Number(919876543452.0),
                text("MBA"),
                text("Delhi"),
            ],
            vec![
                text("Priya Sharma"),
                text("9876543210"),
                text("MBA | Finance"),
                text("Mumbai"),
            ],
            vec![text("Date Person"), Date(2026, 1, 15), Empty, text("Pune")],
            vec![
                text("Formula Person"),
                Formula("=9876543200+11", 9876543211.0),
                text("NEET"),
            ],
            vec![
                text("Pin Code"),
                Number(9876543212.0),
                text("NEET"),
                Number(110001.0),
            ],
            vec![
                text("Priya Sharma"),
                Number(9876543210.0),
                text("Marketing"),
                Empty,
            ],
        ],
    }
}

fn second() -> TestSheet {
    TestSheet {
        name: "More",
        rows: vec![
            vec![text("Name"), text("Phone")],
            vec![text("Asha Rao"), Number(9876500001.0)],
            vec![text("Ravi Kumar"), text("+91 98765 00002")],
        ],
    }
}

fn import_sheet(
    bytes: &[u8],
    format: SpreadsheetFormat,
    options: ImportOptions,
) -> (ImportReport, MemoryStore) {
    let mut store = MemoryStore::new();
    let report = import_sheet_into(&engine_with(options), bytes, format, &mut store);
    (report, store)
}

/// Imports the workbook `bytes` into `store`, expecting it to be accepted.
fn import_sheet_into(
    engine: &ImportEngine,
    bytes: &[u8],
    format: SpreadsheetFormat,
    store: &mut MemoryStore,
) -> ImportReport {
    engine
        .import_spreadsheet(Cursor::new(bytes), format, store, |_| {})
        .unwrap()
}

/// The counts, rows and warnings that must not depend on the file's format.
fn assert_same(sheet: &(ImportReport, MemoryStore), csv: &(ImportReport, MemoryStore)) {
    let (a, b) = (&sheet.0, &csv.0);
    let counts = |r: &ImportReport| (r.rows, r.added, r.updated, r.unchanged, r.skipped, r.failed);
    assert_eq!(counts(a), counts(b));
    let rows = |r: &ImportReport| {
        r.failures
            .iter()
            .map(|f| f.position.row)
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(a), rows(b));
    assert_eq!(a.warnings, b.warnings);
    assert_eq!(a.headers, b.headers);
    assert_eq!(a.phones_added, b.phones_added);
    assert_eq!(snapshot(&sheet.1), snapshot(&csv.1));
}

#[test]
fn xlsx_and_ods_import_as_their_csv_does() {
    let sheets = [contacts(), second()];
    let csv = import_with(ImportOptions::default(), &sheets[0].csv());
    for (bytes, format) in [
        (xlsx(&sheets), SpreadsheetFormat::Xlsx),
        (ods(&sheets), SpreadsheetFormat::Ods),
    ] {
        let sheet = import_sheet(&bytes, format, ImportOptions::default());
        assert_same(&sheet, &csv);
        let report = &sheet.0;
        assert_eq!(
            (report.rows, report.added, report.updated, report.failed),
            (6, 4, 1, 1)
        );
        // The number comes back exact; the formula gives its cached value.
        contact(&sheet.1, "+919876543452");
        contact(&sheet.1, "+919876543211");
        assert_eq!(
            contact(&sheet.1, "+919876543212").attributes.get("City"),
            Some("110001")
        );
        // Rows as the sheet numbers them: the header is row 3.
        let failure = &report.failures[0];
        assert_eq!(
            (failure.position.row, failure.code),
            (6, FailureCode::PhoneIsDate),
            "{format:?}"
        );
        assert!(
            failure.message.contains("2026-01-15"),
            "{}",
            failure.message
        );
        assert_eq!(failure.values[0], "Date Person");
        let above = &report.warnings[0];
        assert_eq!(above.code, WarningCode::RowsAboveHeader);
        assert!(
            above.message.contains("Contacts export, December"),
            "{}",
            above.message
        );
        let groups = report.warning_groups();
        let neet = groups
            .iter()
            .find(|g| g.value.as_deref() == Some("NEET"))
            .unwrap();
        assert_eq!((neet.count, neet.rows.clone()), (2, vec![7, 8]));
    }
}

#[test]
fn another_sheet_by_name_or_index() {
    let sheets = [contacts(), second()];
    let csv = import_with(ImportOptions::default(), &sheets[1].csv());
    for (bytes, format) in [
        (xlsx(&sheets), SpreadsheetFormat::Xlsx),
        (ods(&sheets), SpreadsheetFormat::Ods),
    ] {
        for choice in [Sheet::Name("More".into()), Sheet::Index(1)] {
            let options = ImportOptions::new().with_sheet(choice);
            let sheet = import_sheet(&bytes, format, options);
            assert_same(&sheet, &csv);
            assert_eq!(sheet.0.added, 2);
        }
        let options = ImportOptions::new().with_sheet(Sheet::Name("Missing".into()));
        let refused = engine_with(options).import_spreadsheet(
            Cursor::new(&bytes),
            format,
            &mut MemoryStore::new(),
            |_| {},
        );
        match refused {
            Err(ImportError::File(e)) => {
                let message = e.to_string();
                assert!(
                    message.contains("\"Missing\"") && message.contains("\"More\""),
                    "{message}"
                );
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}

#[test]
fn an_explicit_header_row_and_the_failure_file() {
    let sheets = [contacts()];
    let options = || ImportOptions::new().with_header_row(Some(3));
    let csv = import_with(options(), &sheets[0].csv());
    let sheet = import_sheet(&xlsx(&sheets), SpreadsheetFormat::Xlsx, options());
    assert_same(&sheet, &csv);
    let mut file = Vec::new();
    sheet.0.write_failures(&mut file).unwrap();
    let file = String::from_utf8(file).unwrap();
    let mut lines = file.lines();
    assert_eq!(
        lines.next(),
        Some("Name,Mobile Number,Tags,City,Row,Reason")
    );
    let line = lines.next().unwrap();
    assert!(
        line.starts_with("Date Person,2026-01-15,,Pune,6,\"phone_is_date: "),
        "{line}"
    );
}

#[test]
fn a_sheet_over_max_rows_is_refused_before_any_write() {
    let mut rows = vec![vec![text("Name"), text("Phone")]];
    rows.extend((0..11).map(|i| vec![text("Someone"), Number(9876500000.0 + f64::from(i))]));
    let sheets = [TestSheet { name: "S", rows }];
    for (bytes, format) in [
        (xlsx(&sheets), SpreadsheetFormat::Xlsx),
        (ods(&sheets), SpreadsheetFormat::Ods),
    ] {
        for limit in [10, 11] {
            let mut store = MemoryStore::new();
            let options = ImportOptions::new().with_max_rows(limit).with_batch_size(2);
            let result = engine_with(options).import_spreadsheet(
                Cursor::new(&bytes),
                format,
                &mut store,
                |_| {},
            );
            match (limit, result) {
                (10, Err(ImportError::File(e))) => {
                    assert!(matches!(e.kind(), FileErrorKind::TooManyRows { max: 10 }));
                    assert!(store.contacts().is_empty());
                }
                (11, Ok(report)) => assert_eq!(report.added, 11),
                (_, other) => panic!("{format:?} with max_rows {limit}: {other:?}"),
            }
        }
    }
}

#[test]
fn plan_predicts_the_spreadsheet_import() {
    let sheets = [contacts()];
    let bytes = xlsx(&sheets);
    let mut store = seeded_store();
    let mut planned = Vec::new();
    let plan = engine()
        .plan_spreadsheet(
            Cursor::new(&bytes),
            SpreadsheetFormat::Xlsx,
            &mut store,
            |row| planned.push(row),
        )
        .unwrap();
    let report = import_sheet_into(&engine(), &bytes, SpreadsheetFormat::Xlsx, &mut store);
    assert_eq!(plan, report);
    assert_eq!(planned.len() as u64, report.rows);
    assert_eq!(
        planned
            .iter()
            .filter(|r| r.outcome == RowOutcome::Failed)
            .count(),
        1
    );
}

#[test]
fn suggestions_read_the_sheets_first_rows() {
    let sheets = [second()];
    let bytes = xlsx(&sheets);
    let rows = contact_import::spreadsheet::read_rows(
        Cursor::new(&bytes),
        SpreadsheetFormat::Xlsx,
        &Sheet::First,
        2,
    )
    .unwrap();
    assert_eq!(
        rows,
        [vec!["Name", "Phone"], vec!["Asha Rao", "9876500001"]]
    );
    let suggested = contact_import::ColumnMapping::suggest(&rows[0], &rows[1..], &guide_catalog());
    assert_eq!(suggested[1].field, contact_import::Field::Phone);
}

#[test]
fn a_recorded_spreadsheet_import_is_in_the_history_with_its_failed_rows() {
    use contact_import::ContactStore;
    let mut store = MemoryStore::new();
    let record = engine_with(ImportOptions::default())
        .import_spreadsheet_recorded(
            "march.xlsx",
            Cursor::new(xlsx(&[contacts()])),
            SpreadsheetFormat::Xlsx,
            &mut store,
            |_| {},
        )
        .unwrap();
    assert!(record.id > 0);
    let history = store.import_history().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].file_name, "march.xlsx");
    let kept = store.import_record(record.id).unwrap().unwrap();
    assert_eq!(kept.report, record.report);
    assert!(kept.report.failed > 0, "the sheet has failing rows");
}

#[test]
fn a_recorded_spreadsheet_that_is_no_workbook_is_refused_and_not_recorded() {
    use contact_import::ContactStore;
    let mut store = MemoryStore::new();
    let refused = engine_with(ImportOptions::default()).import_spreadsheet_recorded(
        "photo.xlsx",
        Cursor::new(b"\x89PNG\r\n".to_vec()),
        SpreadsheetFormat::Xlsx,
        &mut store,
        |_| {},
    );
    assert!(matches!(refused, Err(ImportError::File(_))), "{refused:?}");
    assert!(store.import_history().unwrap().is_empty());
}
