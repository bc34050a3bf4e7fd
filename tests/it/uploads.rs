//! What real uploads hold: a title above the header, a country per row,
//! import modes, and warnings grouped so a person can act on them.

use crate::common::*;
use contact_import::{
    FileErrorKind, ImportMode, ImportOptions, MemoryStore, RowOutcome, WarningCode,
};

#[test]
fn the_header_is_found_below_a_title() {
    let csv = "Leads export\nGenerated on 1 Dec,,\nName,Phone,City\nAsha,9876543210,Delhi\n";
    let (report, store) = import(csv);
    assert_eq!((report.rows, report.added), (1, 1));
    assert_eq!(report.headers, ["Name", "Phone", "City"]);
    contact(&store, "+919876543210");
    let above: Vec<_> = report
        .warnings
        .iter()
        .filter(|w| w.code == WarningCode::RowsAboveHeader)
        .collect();
    assert_eq!(above.len(), 1, "named once");
    assert!(
        above[0].message.contains("row 1 (\"Leads export\")"),
        "{}",
        above[0].message
    );
    assert!(above[0].message.contains("row 2 (\"Generated on 1 Dec\")"));
    // A failed row is numbered as the file shows it.
    let (report, _) = import("Title\nName,Phone\nAsha,12\n");
    assert_eq!(report.failures[0].position.row, 3);
}

#[test]
fn the_header_row_can_be_named() {
    let csv = "Name,Phone\nName,Phone\nAsha,9876543210\n";
    let options = ImportOptions::new().with_header_row(Some(2));
    let mut store = MemoryStore::new();
    let report = import_into(&engine_with(options), &mut store, csv);
    assert_eq!((report.rows, report.added, report.failed), (1, 1, 0));
    // A named row that is not a header is refused with its own error.
    let options = ImportOptions::new().with_header_row(Some(3));
    let refused = engine_with(options).import(std::io::Cursor::new(csv), &mut MemoryStore::new());
    match refused {
        Err(contact_import::ImportError::File(e)) => {
            assert!(
                matches!(e.kind(), FileErrorKind::MissingColumn { .. }),
                "{e}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_header_in_the_first_rows_is_the_first_rows_error() {
    let mut csv = String::from("Title\n");
    for i in 0..12 {
        csv.push_str(&format!("line {i}\n"));
    }
    csv.push_str("Name,Phone\nAsha,9876543210\n");
    let error = refused(&csv);
    assert!(
        matches!(error.kind(), FileErrorKind::MissingColumn { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("\"Title\""), "{error}");
}

#[test]
fn a_country_column_sets_each_rows_region() {
    let csv = "Name,Phone,Country\n\
        Asha,9876543210,\n\
        Omar,501234567,AE\n\
        Sara,501234568,United Arab Emirates\n\
        John,2025550123,+1\n\
        Ali,501234569,971\n\
        Eve,9876543211,Atlantis\n\
        Li,13812345678,china\n";
    let (report, store) = import(csv);
    assert_eq!(report.failed, 0, "{:?}", report.failures);
    for phone in [
        "+919876543210",
        "+971501234567",
        "+971501234568",
        "+12025550123",
        "+971501234569",
        "+919876543211",
        "+8613812345678",
    ] {
        contact(&store, phone);
    }
    let unknown: Vec<_> = report
        .warnings
        .iter()
        .filter(|w| w.code == WarningCode::UnknownCountry)
        .collect();
    assert_eq!(unknown.len(), 1);
    assert_eq!(
        (unknown[0].row, unknown[0].value.as_deref()),
        (Some(7), Some("Atlantis"))
    );
}

#[test]
fn modes_skip_rows_by_whether_their_phone_is_stored() {
    // The seeded store holds +919876543203.
    let csv =
        "Name,Phone\nAsha New,9876543203\nNew Person,9876500001\nNew Person,9876500001\nBad,12\n";
    let run = |mode| {
        let mut store = seeded_store();
        let options = ImportOptions::new().with_mode(mode);
        let report = import_into(&engine_with(options), &mut store, csv);
        let counts = (
            report.added,
            report.updated,
            report.unchanged,
            report.skipped,
            report.failed,
        );
        assert_eq!(
            report.rows,
            counts.0 + counts.1 + counts.2 + counts.3 + counts.4
        );
        (counts, store)
    };
    let before = seeded_store();
    let stored = before
        .contact(&phone("+919876543203"))
        .unwrap()
        .name()
        .to_owned();

    let ((added, updated, unchanged, skipped, failed), store) = run(ImportMode::AddAndUpdate);
    assert_eq!(
        (added, updated, unchanged, skipped, failed),
        (1, 1, 1, 0, 1)
    );
    assert_eq!(contact(&store, "+919876543203").name(), "Asha New");

    let ((added, updated, unchanged, skipped, _), store) = run(ImportMode::AddOnly);
    assert_eq!((added, updated, unchanged, skipped), (1, 0, 0, 2));
    assert_eq!(
        contact(&store, "+919876543203").name(),
        stored,
        "not written"
    );
    contact(&store, "+919876500001");

    let ((added, updated, _, skipped, _), store) = run(ImportMode::UpdateOnly);
    assert_eq!((added, updated, skipped), (0, 1, 2));
    assert!(store.contact(&phone("+919876500001")).is_none());
    assert_eq!(contact(&store, "+919876543203").name(), "Asha New");

    // A plan says the same.
    let options = ImportOptions::new().with_mode(ImportMode::UpdateOnly);
    let mut outcomes = Vec::new();
    engine_with(options)
        .plan(std::io::Cursor::new(csv), &mut seeded_store(), |row| {
            outcomes.push(row.outcome)
        })
        .unwrap();
    assert_eq!(
        outcomes,
        [
            RowOutcome::Updated,
            RowOutcome::Skipped,
            RowOutcome::Skipped,
            RowOutcome::Failed
        ]
    );
}

#[test]
fn warnings_are_grouped_by_kind_and_value_most_frequent_first() {
    let mut csv = String::from("Name,Phone,Tags,Pincode\n");
    for i in 0..30 {
        let tag = if i % 3 == 0 { "JEE" } else { "NEET" };
        csv.push_str(&format!("P{i},98765{i:05},{tag} | MBA,110001\n"));
    }
    let (report, _) = import(&csv);
    let groups = report.warning_groups();
    let lines: Vec<String> = groups.iter().map(ToString::to_string).collect();
    assert_eq!(groups[0].value.as_deref(), Some("NEET"));
    assert_eq!((groups[0].count, groups[1].count), (20, 10));
    assert_eq!(
        groups[0].rows,
        [3, 4, 6, 7, 9],
        "the first rows as examples"
    );
    assert_eq!(
        lines[0],
        "unknown tag \"NEET\" in 20 rows (e.g. rows 3, 4, 6, 7, 9, …): add it to the catalog or correct the cells"
    );
    assert!(
        lines.contains(&"column \"Pincode\" matches no field: ignored".to_owned()),
        "{lines:?}"
    );
    // Every warning is still in the report.
    assert_eq!(report.warnings.len(), 31);
    // A tag the catalog has in another case is suggested.
    let (report, _) = import("Name,Phone,Tags\nAsha,9876543210,mba\n");
    assert_eq!(
        report.warning_groups()[0].to_string(),
        "unknown tag \"mba\" in 1 row (e.g. row 2): did you mean \"MBA\"? correct the cells, or add the tag to the catalog"
    );
}
