//! Stores that fail mid-import: the report says what the store holds, and
//! importing again (whole, or resumed) ends as if nothing had failed.

use std::io::Cursor;

use crate::common::*;
use contact_import::{ImportError, ImportOptions, ImportReport, MemoryStore};
use proptest::prelude::*;

fn options(batch_size: usize) -> ImportOptions {
    ImportOptions::new().with_batch_size(batch_size)
}

/// Imports `csv` into a store that fails on write `k`; returns the error's report and the store.
fn interrupted(
    csv: &str,
    batch_size: usize,
    k: usize,
    half: bool,
) -> Option<(ImportReport, MemoryStore)> {
    let mut store = FailingStore::new(seeded_store(), k, half);
    match engine_with(options(batch_size)).import(Cursor::new(csv), &mut store) {
        Ok(_) => None,
        Err(ImportError::Store { error, report }) => {
            assert_eq!(error.0, k);
            Some((*report, store.inner))
        }
        Err(other) => panic!("unexpected {other}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]

    #[test]
    fn every_failing_batch_leaves_exactly_the_rows_before_it(
        rows in proptest::collection::vec(row(), 1..30),
        batch_size in 1usize..6,
    ) {
        let csv = csv_text(&rows);
        let mut full_store = seeded_store();
        let full = import_into(&engine_with(options(batch_size)), &mut full_store, &csv);
        for k in 1.. {
            let Some((report, store)) = interrupted(&csv, batch_size, k, false) else { break };
            // The store holds exactly what an import of the rows up to last_row gives.
            let mut expected = seeded_store();
            import_into(&engine(), &mut expected, &csv_text(&upto(&rows, report.last_row)));
            prop_assert_eq!(snapshot(&store), snapshot(&expected), "k = {}", k);
            let written = upto(&rows, report.last_row);
            let non_blank = written.iter().filter(|r| r.iter().any(|c| !c.trim().is_empty())).count();
            prop_assert_eq!(report.rows, non_blank as u64);

            // Resuming after last_row ends as the uninterrupted import, counting nothing twice.
            let mut resumed_store = store.clone();
            let resume = engine_with(options(batch_size).with_resume_after_row(report.last_row));
            let resumed = import_into(&resume, &mut resumed_store, &csv);
            prop_assert_eq!(snapshot(&resumed_store), snapshot(&full_store), "resumed, k = {}", k);
            prop_assert_eq!(report.rows + resumed.rows, full.rows);
            prop_assert_eq!(report.added + resumed.added, full.added);
            prop_assert_eq!(report.failed + resumed.failed, full.failed);
            prop_assert_eq!(
                report.updated + report.unchanged + resumed.updated + resumed.unchanged,
                full.updated + full.unchanged
            );

            // Importing the whole file again ends the same way.
            let mut again_store = store;
            import_into(&engine_with(options(batch_size)), &mut again_store, &csv);
            prop_assert_eq!(snapshot(&again_store), snapshot(&full_store), "again, k = {}", k);
        }
    }

    #[test]
    fn a_store_that_fails_half_way_through_a_batch_is_repaired_by_importing_again(
        rows in proptest::collection::vec(row(), 1..30),
        batch_size in 2usize..6,
    ) {
        let csv = csv_text(&rows);
        let mut full_store = seeded_store();
        import_into(&engine_with(options(batch_size)), &mut full_store, &csv);
        for k in 1.. {
            let Some((report, store)) = interrupted(&csv, batch_size, k, true) else { break };
            let mut resumed_store = store.clone();
            let resume = engine_with(options(batch_size).with_resume_after_row(report.last_row));
            import_into(&resume, &mut resumed_store, &csv);
            prop_assert_eq!(snapshot(&resumed_store), snapshot(&full_store), "resumed, k = {}", k);
            let mut again_store = store;
            import_into(&engine_with(options(batch_size)), &mut again_store, &csv);
            prop_assert_eq!(snapshot(&again_store), snapshot(&full_store), "again, k = {}", k);
        }
    }
}
