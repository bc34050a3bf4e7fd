//! MemoryStore against the conformance kit.
#![cfg(feature = "testkit")]

use std::ops::ControlFlow;

use contact_import::{
    Catalog, Contact, ContactScan, ContactStore, ImportId, ImportRecord, ImportSummary,
    MemoryStore, Phone, SharedMemoryStore, Stored, WriteBatch, testkit,
};

#[test]
fn memory_store_passes_the_conformance_kit() {
    let conformance = testkit::check_store(MemoryStore::new).unwrap();
    assert!(conformance.keeps_catalog);
    assert!(conformance.keeps_history);
    // MemoryStore cannot fail, so it accepts every batch whole.
    assert!(!conformance.refused_batch);
    assert!(conformance.skipped().is_empty());
}

#[test]
fn a_shared_memory_store_keeps_what_an_earlier_clone_wrote() {
    let book = SharedMemoryStore::new();
    testkit::check_reopen(|| book.clone()).unwrap();
    // A new, empty store each time keeps nothing across handles.
    let failure = testkit::check_reopen(MemoryStore::new).unwrap_err();
    assert_eq!(failure.check, "reopen");
    assert!(failure.message.contains("new handle"), "{failure}");
}

#[test]
fn memory_store_scans_in_phone_order() {
    testkit::check_scan(&mut MemoryStore::new()).unwrap();
}

/// A MemoryStore with faults to order, to show that the checks moved into
/// the testkit fail on the faults they are there to catch.
#[derive(Default)]
struct Faulty {
    inner: MemoryStore,
    /// Writes of this phone fail with this message.
    refused: Option<(Phone, String)>,
    /// A refused batch writes the contacts before the refused one.
    partial: bool,
    /// `scan` visits every contact whatever the visitor returns.
    ignores_break: bool,
    /// Keeps no catalog and no history (the trait's defaults).
    forgets: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refused(String);

impl ContactStore for Faulty {
    type Error = Refused;

    fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Stored>) -> Result<(), Refused> {
        self.inner.fetch(phones, found).map_err(|e| match e {})
    }

    fn write_batch(&mut self, mut batch: WriteBatch) -> Result<Vec<Phone>, Refused> {
        if let Some((phone, message)) = &self.refused
            && let Some(at) = batch.create.iter().position(|c| c.phone == *phone)
        {
            if self.partial {
                batch.create.truncate(at);
                batch.update.clear();
                self.inner.write_batch(batch).map_err(|e| match e {})?;
            }
            return Err(Refused(message.clone()));
        }
        self.inner.write_batch(batch).map_err(|e| match e {})
    }

    fn load_catalog(&mut self) -> Result<Catalog, Refused> {
        if self.forgets {
            return Ok(Catalog::new());
        }
        self.inner.load_catalog().map_err(|e| match e {})
    }

    fn add_to_catalog(&mut self, catalog: &Catalog) -> Result<(), Refused> {
        if self.forgets {
            return Ok(());
        }
        self.inner.add_to_catalog(catalog).map_err(|e| match e {})
    }

    fn record_import(&mut self, record: &ImportRecord) -> Result<Option<ImportId>, Refused> {
        if self.forgets {
            return Ok(None);
        }
        self.inner.record_import(record).map_err(|e| match e {})
    }

    fn import_history(&mut self) -> Result<Vec<ImportSummary>, Refused> {
        self.inner.import_history().map_err(|e| match e {})
    }

    fn import_record(&mut self, id: ImportId) -> Result<Option<ImportRecord>, Refused> {
        self.inner.import_record(id).map_err(|e| match e {})
    }
}

impl ContactScan for Faulty {
    fn scan(&mut self, visit: &mut dyn FnMut(&Contact) -> ControlFlow<()>) -> Result<(), Refused> {
        let ignores_break = self.ignores_break;
        let scanned = self.inner.scan(&mut |contact| {
            let flow = visit(contact);
            if ignores_break {
                ControlFlow::Continue(())
            } else {
                flow
            }
        });
        scanned.map_err(|e| match e {})
    }
}

fn refuse(store: &mut Faulty, phone: &Phone, message: &str) {
    store.refused = Some((*phone, message.to_owned()));
}

#[test]
fn memory_store_keeps_the_batches_before_a_failing_one() {
    testkit::check_failing_batch(&mut Faulty::default(), refuse).unwrap();
}

#[test]
fn a_store_that_keeps_part_of_a_failed_batch_fails_the_failing_batch_check() {
    let mut partial = Faulty {
        partial: true,
        ..Faulty::default()
    };
    let failure = testkit::check_failing_batch(&mut partial, refuse).unwrap_err();
    assert_eq!(failure.check, "failing_batch");
    assert!(failure.message.contains("after the failure"), "{failure}");
    let never_refused = testkit::check_failing_batch(&mut Faulty::default(), |_, _, _| {});
    assert!(never_refused.unwrap_err().message.contains("succeeded"));
}

#[test]
fn a_scan_that_ignores_break_fails_the_scan_check() {
    let mut store = Faulty {
        ignores_break: true,
        ..Faulty::default()
    };
    let failure = testkit::check_scan(&mut store).unwrap_err();
    assert_eq!(failure.check, "scan");
    assert!(failure.message.contains("broke at the first"), "{failure}");
    testkit::check_scan(&mut Faulty::default()).unwrap();
}

/// A capability declared must be there: the store that keeps nothing fails
/// the catalog check, then (declared without a catalog) the history check.
#[test]
fn a_store_that_lacks_a_declared_capability_fails_its_check() {
    let forgetful = || Faulty {
        forgets: true,
        ..Faulty::default()
    };
    let failure = testkit::check_store(forgetful).unwrap_err();
    assert_eq!(failure.check, "catalog");
    let no_catalog = testkit::Capabilities::default().with_catalog(false);
    let failure = testkit::check_store_with(forgetful, no_catalog).unwrap_err();
    assert_eq!(failure.check, "history");
    let neither = no_catalog.with_history(false);
    let conformance = testkit::check_store_with(forgetful, neither).unwrap();
    assert_eq!(conformance.skipped(), ["catalog", "history"]);
}
