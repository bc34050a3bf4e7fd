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

/// A MemoryStore that prefers batches of `preferred` rows, and keeps the
/// number of phones of every fetch and of contacts of every write.
struct Preferring {
    inner: contact_import::MemoryStore,
    preferred: Option<usize>,
    fetched: Vec<usize>,
    written: Vec<usize>,
}

impl Preferring {
    fn new(preferred: Option<usize>) -> Preferring {
        Preferring {
            inner: contact_import::MemoryStore::new(),
            preferred,
            fetched: Vec::new(),
            written: Vec::new(),
        }
    }
}

impl contact_import::ContactStore for Preferring {
    type Error = std::convert::Infallible;

    fn fetch(
        &mut self,
        phones: &[contact_import::Phone],
        found: &mut Vec<contact_import::Stored>,
    ) -> Result<(), Self::Error> {
        self.fetched.push(phones.len());
        self.inner.fetch(phones, found)
    }

    fn write_batch(
        &mut self,
        batch: contact_import::WriteBatch,
    ) -> Result<Vec<contact_import::Phone>, Self::Error> {
        self.written.push(batch.len());
        self.inner.write_batch(batch)
    }

    fn preferred_batch_size(&self) -> Option<usize> {
        self.preferred
    }
}

fn batches_written(options: ImportOptions, preferred: Option<usize>, rows: u32) -> Vec<usize> {
    let mut store = Preferring::new(preferred);
    let report = engine_with(options)
        .import_bytes(distinct_phones(rows).as_bytes(), &mut store)
        .expect("the import");
    assert_eq!(report.added, u64::from(rows));
    store.written
}

#[test]
fn an_import_cuts_the_batches_the_store_prefers_when_the_options_set_none() {
    assert_eq!(batches_written(ImportOptions::new(), Some(3), 7), [3, 3, 1]);
}

#[test]
fn a_batch_size_the_options_set_wins_over_the_stores_preference() {
    let options = ImportOptions::new().with_batch_size(2);
    assert_eq!(batches_written(options, Some(3), 5), [2, 2, 1]);
}

#[test]
fn a_store_without_a_preference_gets_the_default_batch_size() {
    let rows = ImportOptions::DEFAULT_BATCH_SIZE as u32 + 1;
    assert_eq!(
        batches_written(ImportOptions::new(), None, rows),
        [ImportOptions::DEFAULT_BATCH_SIZE, 1]
    );
}

#[test]
fn a_dry_run_reads_the_batches_the_store_prefers() {
    let mut store = Preferring::new(Some(3));
    let mut planned = Vec::new();
    let report = engine()
        .plan(
            std::io::Cursor::new(distinct_phones(7)),
            &mut store,
            |row| planned.push(row.row),
        )
        .expect("the plan");
    assert_eq!(report.added, 7);
    assert!(store.written.is_empty(), "a plan writes nothing");
    assert_eq!(store.fetched, [3, 3, 1], "one fetch a batch");
    assert_eq!(planned, (2..=8).collect::<Vec<u64>>());
}
