//! MemoryStore against the conformance kit.
#![cfg(feature = "testkit")]

use contact_import::{MemoryStore, testkit};

#[test]
fn memory_store_passes_the_conformance_kit() {
    let conformance = testkit::check_store(MemoryStore::new).unwrap();
    assert!(conformance.keeps_catalog);
    assert!(conformance.keeps_history);
    // MemoryStore cannot fail, so it accepts every batch whole.
    assert!(!conformance.refused_batch);
}
