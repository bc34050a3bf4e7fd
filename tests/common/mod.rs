//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::Cursor;

use contact_import::{
    Catalog, Contact, FileError, ImportEngine, ImportError, ImportOptions, ImportReport,
    MemoryStore, Phone, Timestamp,
};

/// The catalog of the product guide's example.
pub fn guide_catalog() -> Catalog {
    Catalog::new()
        .with_tags(["MBA", "Finance", "Marketing"])
        .with_attributes(["City", "email", "State"])
}

/// The import's clock in tests: a fixed instant.
pub fn t0() -> Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

pub fn engine() -> ImportEngine {
    ImportEngine::new(guide_catalog(), t0())
}

pub fn engine_with(options: ImportOptions) -> ImportEngine {
    engine().with_options(options)
}

pub fn phone(e164: &str) -> Phone {
    Phone::parse_e164(e164).unwrap()
}

/// Imports `csv` into `store` with `engine`, expecting the file to be accepted.
pub fn import_into(engine: &ImportEngine, store: &mut MemoryStore, csv: &str) -> ImportReport {
    engine.import(Cursor::new(csv), store).unwrap()
}

/// Imports `csv` into a new store with the default engine.
pub fn import(csv: &str) -> (ImportReport, MemoryStore) {
    let mut store = MemoryStore::new();
    let report = import_into(&engine(), &mut store, csv);
    (report, store)
}

/// The file-level error that refuses `csv`.
pub fn refused(csv: &str) -> FileError {
    match engine().import(Cursor::new(csv), &mut MemoryStore::new()) {
        Err(ImportError::File(e)) => e,
        other => panic!("expected the file to be refused, got {other:?}"),
    }
}

pub fn contact<'a>(store: &'a MemoryStore, e164: &str) -> &'a Contact {
    store
        .contact(&phone(e164))
        .unwrap_or_else(|| panic!("{e164} is not in the store"))
}

pub fn tags(contact: &Contact) -> Vec<&str> {
    contact.tags.iter().map(|t| t.as_str()).collect()
}
