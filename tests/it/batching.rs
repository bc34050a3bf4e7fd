//! The result of an import equals importing its rows one by one, in file
//! order, whatever the batch size and the import mode.

use crate::common::*;
use contact_import::ImportOptions;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn batched_import_equals_row_by_row(
        rows in proptest::collection::vec(row(), 0..40),
        batch_size in 1usize..12,
        update in update_policy(),
        mode in import_mode(),
    ) {
        let batched_engine = engine_with(ImportOptions::new().with_batch_size(batch_size).with_update(update.clone()).with_mode(mode));
        let single_engine = engine_with(ImportOptions::new().with_update(update).with_mode(mode));
        let mut batched = seeded_store();
        let report = import_into(&batched_engine, &mut batched, &csv_text(&rows));

        let mut one_by_one = seeded_store();
        let (mut added, mut updated, mut unchanged, mut skipped, mut failed) = (0, 0, 0, 0, 0);
        for row in &rows {
            let single = import_into(&single_engine, &mut one_by_one, &csv_text(std::slice::from_ref(row)));
            added += single.added;
            updated += single.updated;
            unchanged += single.unchanged;
            skipped += single.skipped;
            failed += single.failed;
        }
        prop_assert_eq!(snapshot(&batched), snapshot(&one_by_one));
        prop_assert_eq!(
            (report.added, report.updated, report.unchanged, report.skipped, report.failed),
            (added, updated, unchanged, skipped, failed)
        );
        prop_assert_eq!(report.rows, report.added + report.updated + report.unchanged + report.skipped + report.failed);
    }
}
