//! Helpers shared by the integration tests.
#![allow(dead_code)]

#[cfg(feature = "spreadsheet")]
pub mod sheets;

use std::io::Cursor;

use proptest::prelude::*;

use contact_import::{
    Catalog, Contact, FieldPolicy, FileError, ImportEngine, ImportError, ImportOptions,
    ImportReport, MemoryStore, NamePolicy, OptInPolicy, Phone, Stored, TagPolicy, Timestamp,
    UpdatePolicy, WriteBatch,
};

/// The catalog of the product guide's example.
pub fn guide_catalog() -> Catalog {
    Catalog::new()
        .with_tags(["MBA", "Finance", "Marketing"])
        .with_attributes(["City", "email", "State"])
}

/// Any import mode.
pub fn import_mode() -> impl Strategy<Value = contact_import::ImportMode> {
    use contact_import::ImportMode;
    proptest::sample::select(vec![
        ImportMode::AddAndUpdate,
        ImportMode::AddOnly,
        ImportMode::UpdateOnly,
    ])
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

/// The server of `CONTACT_IMPORT_PG_URL`, or `None`, with a note on stderr
/// (past the test harness's capture), when it is not set.
#[cfg(feature = "postgres")]
pub fn postgres_url() -> Option<String> {
    use std::io::Write;
    match std::env::var("CONTACT_IMPORT_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let _ = writeln!(
                std::io::stderr(),
                "note: CONTACT_IMPORT_PG_URL is not set: PostgreSQL test skipped (see the README)"
            );
            None
        }
    }
}

/// An instant written as RFC 3339 text.
pub fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
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

/// Imports `csv` into a new store with the default engine and `options`.
pub fn import_with(options: ImportOptions, csv: &str) -> (ImportReport, MemoryStore) {
    let mut store = MemoryStore::new();
    let report = import_into(&engine_with(options), &mut store, csv);
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

pub const HEADER: [&str; 7] = [
    "Name",
    "Phone",
    "Tags",
    "Source",
    "First Message",
    "City",
    "WhatsApp Opt-in",
];

pub fn cell(options: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(options).prop_map(str::to_owned)
}

/// A random row of a file with [`HEADER`]: phones from a small pool written
/// several ways, so that they repeat within and across batches.
pub fn row() -> impl Strategy<Value = Vec<String>> {
    (
        cell(&[
            "Asha Rao",
            "  Ravi  Kumar ",
            "",
            "Meera",
            "राहुल वर्मा",
            "=SUM(A1)",
        ]),
        // A small pool, written several ways, so phones repeat across and within batches.
        cell(&[
            "9876543201",
            "+91 98765 43201",
            "919876543202",
            "09876543203",
            "9876543204",
            "+15417543010",
            "12345",
            "",
            "9.19876E+11",
        ]),
        cell(&[
            "",
            "MBA",
            "MBA | Finance",
            "Finance|Sales",
            "mba",
            "Marketing | MBA | Finance",
        ]),
        cell(&["", "Website", "Referral"]),
        cell(&["", "MBA", "Finance | MBA", "Nope"]),
        cell(&["", "Delhi", "Pune"]),
        // Opt-ins and opt-outs in several spellings, and one that is neither.
        cell(&["", "", "yes", "no", "Opted Out", "TRUE", "0", "maybe"]),
    )
        .prop_map(|(a, b, c, d, e, f, g)| vec![a, b, c, d, e, f, g])
}

/// The rows of `rows` up to spreadsheet row `last` (row 2 is rows[0]):
/// what an import that stopped after `last` wrote.
pub fn upto(rows: &[Vec<String>], last: Option<u64>) -> Vec<Vec<String>> {
    let n = last.map_or(0, |l| (l - 1) as usize);
    rows[..n.min(rows.len())].to_vec()
}

/// The CSV text of a file with [`HEADER`] and `rows`.
pub fn csv_text(rows: &[Vec<String>]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADER).unwrap();
    for row in rows {
        writer.write_record(row).unwrap();
    }
    String::from_utf8(writer.into_inner().unwrap()).unwrap()
}

/// A random update policy.
pub fn update_policy() -> impl Strategy<Value = UpdatePolicy> {
    let field = || {
        proptest::sample::select(vec![
            FieldPolicy::KeepWhenEmpty,
            FieldPolicy::Overwrite,
            FieldPolicy::ClearOnToken,
        ])
    };
    (
        proptest::sample::select(vec![TagPolicy::Add, TagPolicy::Replace, TagPolicy::Remove]),
        proptest::sample::select(vec![NamePolicy::Replace, NamePolicy::KeepExisting]),
        field(),
        field(),
        field(),
        proptest::sample::select(vec![OptInPolicy::KeepOptOut, OptInPolicy::AllowOptInAgain]),
    )
        .prop_map(|(tags, name, source, first_message, attributes, opt_in)| {
            UpdatePolicy::new()
                .with_tags(tags)
                .with_name(name)
                .with_source(source)
                .with_first_message(first_message)
                .with_attributes(attributes)
                .with_opt_in(opt_in)
                // A token the random rows use, so that clearing happens.
                .with_clear_token("Referral")
        })
}

/// A store that fails on its `fail_on`-th write; with `half`, it writes the
/// first half of that batch before failing, as a store without transactions would.
pub struct FailingStore {
    pub inner: MemoryStore,
    pub fail_on: usize,
    pub half: bool,
    pub writes: usize,
}

/// The error of a [`FailingStore`].
#[derive(Debug, thiserror::Error)]
#[error("the store failed on write {0}")]
pub struct StoreDown(pub usize);

impl FailingStore {
    pub fn new(inner: MemoryStore, fail_on: usize, half: bool) -> FailingStore {
        FailingStore {
            inner,
            fail_on,
            half,
            writes: 0,
        }
    }
}

impl contact_import::ContactStore for FailingStore {
    type Error = StoreDown;

    fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Stored>) -> Result<(), StoreDown> {
        self.inner.fetch(phones, found).map_err(|e| match e {})
    }

    fn write_batch(&mut self, mut batch: WriteBatch) -> Result<Vec<Phone>, StoreDown> {
        self.writes += 1;
        if self.writes != self.fail_on {
            return self.inner.write_batch(batch).map_err(|e| match e {});
        }
        if self.half {
            // The first half of the batch: its new contacts come first.
            let half = batch.len() / 2;
            let updates = half.saturating_sub(batch.create.len());
            batch.create.truncate(half);
            batch.update.truncate(updates);
            self.inner.write_batch(batch).map_err(|e| match e {})?;
        }
        Err(StoreDown(self.writes))
    }
}

/// Every contact of a store, sorted by phone.
pub fn snapshot(store: &MemoryStore) -> Vec<Contact> {
    store.contacts().into_iter().cloned().collect()
}

/// A store that already holds one contact of the random rows' phone pool
/// (+919876543203), with a tag and an attribute, opted out, created before
/// the import.
pub fn seeded_store() -> MemoryStore {
    let mut store = MemoryStore::new();
    let created = "2020-01-01T00:00:00Z".parse().unwrap();
    let mut known = Contact::new(phone("+919876543203"), "Old Name".into(), created);
    known.tags.push("Finance".into());
    known.attributes.set("City".into(), "Agra".into());
    known.opt_in = Some(false);
    store.insert(known);
    store
}

/// Checks a database store migrated from a schema before accounts, as the
/// SQLite and PostgreSQL migration tests make it: `store`, the default
/// account, holds the old data (two contacts, among them Mohit Dua at
/// +919876543452 with his City, state and last activity; the catalog `MBA`,
/// `Finance` and `City`; `old_import`, whole and listed). `other`, another
/// account of the same database, starts empty; `engine`'s import of `file`
/// (two valid phones, Mohit's among them) adds two contacts there and
/// leaves the default account's Mohit as he was.
pub fn assert_migrated_into_the_default_account<S: contact_import::ContactScan>(
    store: &mut S,
    other: &mut S,
    old_import: &contact_import::ImportRecord,
    engine: &ImportEngine,
    file: &str,
) where
    S::Error: std::fmt::Debug,
{
    use contact_import::{Filter, State};
    let everyone = Filter::everyone();
    assert_eq!(store.count(&everyone).unwrap(), 2);
    let mohit_phone = Phone::parse_e164("+919876543452").unwrap();
    let mohit = store.get(&mohit_phone).unwrap().unwrap();
    assert_eq!(mohit.name(), "Mohit Dua");
    assert_eq!(mohit.attributes.get("City"), Some("Delhi"));
    assert_eq!(mohit.state, Some(State::Intervened));
    assert_eq!(
        mohit.last_active,
        Some(Timestamp::constant(1_760_000_000, 0))
    );
    assert_eq!(
        store.load_catalog().unwrap(),
        Catalog::new()
            .with_tags(["MBA", "Finance"])
            .with_attributes(["City"])
    );
    assert_eq!(
        store.import_record(old_import.id).unwrap().as_ref(),
        Some(old_import)
    );
    assert_eq!(store.import_history().unwrap(), vec![old_import.summary()]);

    assert_eq!(other.count(&everyone).unwrap(), 0);
    assert_eq!(other.load_catalog().unwrap(), Catalog::new());
    assert!(other.import_history().unwrap().is_empty());
    assert_eq!(other.import_record(old_import.id).unwrap(), None);
    let report = engine.import_bytes(file.as_bytes(), other).unwrap();
    assert_eq!((report.added, report.updated), (2, 0));
    assert_eq!(store.get(&mohit_phone).unwrap().unwrap(), mohit);
}

/// What a database store must show in the conformance kit: no check
/// skipped, and the batch with an empty name refused (its CHECK constraint).
#[cfg(feature = "testkit")]
pub fn assert_database_conformance(conformance: contact_import::testkit::Conformance) {
    assert!(conformance.keeps_catalog && conformance.keeps_history);
    assert!(conformance.conditional_writes);
    assert_eq!(conformance.skipped(), Vec::<&str>::new());
    assert!(
        conformance.refused_batch,
        "the empty-name contact must be refused"
    );
}

/// After the service wrote an opt-out for Mohit (+919876543452) in plain
/// SQL: an import that says yes leaves him unchanged, warns
/// `OptOutKept`, and the opt-out stays.
pub fn assert_sql_opt_out_kept<S: contact_import::ContactStore>(
    store: &mut S,
    engine: &ImportEngine,
) where
    S::Error: std::fmt::Debug,
{
    let yes = b"Name,Phone,Opt-in\nMohit Dua,+919876543452,yes\n";
    let report = engine.import_bytes(yes, store).unwrap();
    assert_eq!(report.unchanged, 1);
    assert_eq!(
        report.warnings[0].code,
        contact_import::WarningCode::OptOutKept
    );
    let mohit = Phone::parse_e164("+919876543452").unwrap();
    assert_eq!(store.get(&mohit).unwrap().unwrap().opt_in, Some(false));
}

/// A file of `rows` rows of distinct phones.
pub fn distinct_phones(rows: u32) -> String {
    let mut file = String::from("Name,Phone\n");
    for n in 0..rows {
        file.push_str(&format!("Person {n},98{n:08}\n"));
    }
    file
}
