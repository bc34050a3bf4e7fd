//! A dry run predicts the real import exactly, and writes nothing.

use std::collections::BTreeMap;
use std::io::Cursor;

use crate::common::*;
use contact_import::{
    Contact, DuplicatePolicy, ImportOptions, MemoryStore, Phone, PlannedRow, RowOutcome,
};
use proptest::prelude::*;

fn plan(
    engine: &contact_import::ImportEngine,
    store: &mut MemoryStore,
    csv: &str,
) -> (contact_import::ImportReport, Vec<PlannedRow>) {
    let mut rows = Vec::new();
    let report = engine
        .plan(Cursor::new(csv), store, |row| rows.push(row))
        .unwrap();
    (report, rows)
}

#[test]
fn a_plan_describes_each_row_and_writes_nothing() {
    let mut store = seeded_store();
    let csv = "Name,Phone,Tags,Colour\nOld Name,9876543203,MBA,red\nNew One,9876543201,Sales,blue\nBad,123,,\nOld Name,9876543203,MBA,\n";
    let (report, rows) = plan(&engine(), &mut store, csv);
    assert_eq!(store.len(), 1);
    assert_eq!(
        tags(contact(&store, "+919876543203")),
        ["Finance"],
        "nothing written"
    );
    let outcomes: Vec<_> = rows.iter().map(|r| (r.row, r.outcome)).collect();
    assert_eq!(
        outcomes,
        [
            (2, RowOutcome::Updated),
            (3, RowOutcome::Added),
            (4, RowOutcome::Failed),
            (5, RowOutcome::Unchanged)
        ]
    );
    let change = &rows[0].changes;
    assert_eq!(change.len(), 1);
    assert_eq!(change[0].field, "tags");
    assert_eq!(change[0].before.as_deref(), Some("Finance"));
    assert_eq!(change[0].after.as_deref(), Some("Finance | MBA"));
    assert_eq!(rows[1].warnings.len(), 1, "unknown tag Sales");
    assert!(rows[2].failure.is_some());
    assert_eq!(
        (
            report.added,
            report.updated,
            report.unchanged,
            report.failed
        ),
        (1, 1, 1, 1)
    );
}

fn final_contacts(rows: &[PlannedRow]) -> BTreeMap<Phone, Contact> {
    rows.iter()
        .filter_map(|r| r.contact.clone())
        .map(|c| (c.phone, c))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn the_plan_predicts_the_import(
        rows in proptest::collection::vec(row(), 0..40),
        batch_size in 1usize..12,
        policy in proptest::sample::select(vec![
            DuplicatePolicy::Merge, DuplicatePolicy::FirstWins, DuplicatePolicy::LastWins, DuplicatePolicy::Reject,
        ]),
        update in update_policy(),
        mode in import_mode(),
    ) {
        let engine = engine_with(ImportOptions::new().with_batch_size(batch_size).with_duplicates(policy).with_update(update).with_mode(mode));
        let csv = csv_text(&rows);
        let mut planned_store = seeded_store();
        let (planned, planned_rows) = plan(&engine, &mut planned_store, &csv);
        let mut store = seeded_store();
        let report = import_into(&engine, &mut store, &csv);

        let mut before = seeded_store();
        prop_assert_eq!(planned_store.contacts(), before.contacts(), "the plan wrote nothing");
        prop_assert_eq!(&planned, &report, "same counts, lists and failures");
        // The store after the import is the store before it with each
        // phone's last planned contact.
        for (_, contact) in final_contacts(&planned_rows) {
            before.insert(contact);
        }
        prop_assert_eq!(before.contacts(), store.contacts());
        prop_assert_eq!(planned_rows.len() as u64, report.rows);
    }
}
