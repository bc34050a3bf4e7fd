//! SqliteStore on real SQLite files in temporary directories.
#![cfg(feature = "sqlite")]

use std::io::Cursor;

use crate::common::{assert_migrated_into_the_default_account, phone};
use contact_import::{
    Catalog, ContactStore, ImportEngine, Phone, SqliteError, SqliteStore, Timestamp,
};

const FILE: &str = "\
Name,Mobile Number,Tags,City
Mohit Dua,+919876543452,MBA,Delhi
Priya Sharma,9876543210,MBA | Finance,Mumbai
Broken,12345,MBA,Pune
";

fn engine(catalog: Catalog) -> ImportEngine {
    ImportEngine::new(catalog, Timestamp::constant(1_750_000_000, 0))
}

/// The schema version of the store's file.
fn user_version(store: &SqliteStore) -> i64 {
    store
        .connection()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap()
}

/// The filter indexes lead with the account, and a filter of the default
/// account's source uses one.
fn filter_index_is_used(store: &SqliteStore) {
    let plan: String = store
        .connection()
        .query_row(
            "EXPLAIN QUERY PLAN SELECT phone FROM contacts WHERE account_id = 'default' AND source = 'API'",
            [],
            |row| row.get(3),
        )
        .unwrap();
    assert!(plan.contains("contacts_source"), "{plan}");
}

#[cfg(feature = "testkit")]
#[test]
fn sqlite_files_pass_the_conformance_kit() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    let conformance = contact_import::testkit::check_store(|| {
        n += 1;
        SqliteStore::open(dir.path().join(format!("store-{n}.db"))).unwrap()
    })
    .unwrap();
    crate::common::assert_database_conformance(conformance);
}

#[cfg(feature = "testkit")]
#[test]
fn sqlite_in_memory_passes_the_conformance_kit() {
    let conformance =
        contact_import::testkit::check_store(|| SqliteStore::open_in_memory().unwrap()).unwrap();
    crate::common::assert_database_conformance(conformance);
}

#[cfg(feature = "testkit")]
#[test]
fn contacts_catalog_and_history_survive_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contacts.db");
    contact_import::testkit::check_reopen(|| SqliteStore::open(&path).unwrap()).unwrap();
}

#[test]
fn the_file_is_created_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let store = SqliteStore::open(&path).unwrap();
    assert!(path.exists());
    let mode: String = store
        .connection()
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_file_from_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    let store = SqliteStore::open(&path).unwrap();
    store
        .connection()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    drop(store);
    match SqliteStore::open(&path) {
        Err(SqliteError::NewerSchema { found, supported }) => {
            assert_eq!(found, 99);
            assert!(supported < 99);
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
}

/// The rows done after each batch of an import of `rows` distinct phones
/// into `store` with the engine's default options.
fn progress_of_import(store: &mut SqliteStore, rows: u32) -> Vec<u64> {
    let mut done = Vec::new();
    let file = crate::common::distinct_phones(rows);
    let report = crate::common::engine()
        .import_with_progress(std::io::Cursor::new(file), store, |progress| {
            done.push(progress.rows_done)
        })
        .unwrap_or_else(|e| panic!("the import: {e}"));
    assert_eq!(report.added, u64::from(rows));
    done
}

#[test]
fn an_import_commits_batches_of_ten_thousand_rows_unless_told_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path().join("batches.db")).unwrap();
    assert_eq!(progress_of_import(&mut store, 10_001), [10_000, 10_001]);
}

#[test]
fn an_update_leaves_what_the_service_set_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path().join("live.db")).unwrap();
    let engine = engine(Catalog::new().with_tags(["MBA", "Finance"]));
    engine.import_bytes(FILE.as_bytes(), &mut store).unwrap();
    // The messaging service records a message after the import.
    store
        .connection()
        .execute(
            "UPDATE contacts SET last_active = 1760000000000000, state = 'Intervened' WHERE phone = '+919876543452'",
            [],
        )
        .unwrap();
    let update = "Name,Phone,Tags\nMohit Kumar Dua,9876543452,Finance\n";
    engine.import_bytes(update.as_bytes(), &mut store).unwrap();
    let mohit = store.get(&phone("+919876543452")).unwrap().unwrap();
    assert_eq!(mohit.name(), "Mohit Kumar Dua");
    assert_eq!(
        mohit.last_active,
        Some(Timestamp::constant(1_760_000_000, 0))
    );
    assert_eq!(mohit.state, Some(contact_import::State::Intervened));
    assert_eq!(mohit.created_at, Timestamp::constant(1_750_000_000, 0));
}

#[cfg(feature = "testkit")]
#[test]
fn a_failing_batch_leaves_nothing_and_the_import_is_recorded_with_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path().join("failing.db")).unwrap();
    contact_import::testkit::check_failing_batch(&mut store, |store, phone, message| {
        let trigger = format!(
            "CREATE TRIGGER refuse BEFORE INSERT ON contacts WHEN NEW.phone = '{phone}'
             BEGIN SELECT RAISE(ABORT, '{message}'); END;"
        );
        store.connection().execute_batch(&trigger).unwrap();
    })
    .unwrap();
}

#[cfg(feature = "testkit")]
#[test]
fn scan_lists_what_memory_store_lists_in_phone_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path().join("scan.db")).unwrap();
    contact_import::testkit::check_scan(&mut store).unwrap();
}

#[cfg(feature = "testkit")]
#[test]
fn sqlite_segments_are_exactly_memory_store_segments() {
    contact_import::testkit::check_filtered_scan(|| SqliteStore::open_in_memory().unwrap(), 256)
        .unwrap();
}

#[test]
fn an_older_file_is_migrated_keeping_its_contacts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contacts.db");
    // A file as the first schema version left it, with a contact.
    let old = contact_import::rusqlite::Connection::open(&path).unwrap();
    old.execute_batch(SCHEMA_V1).unwrap();
    old.execute_batch(
        "INSERT INTO contacts VALUES ('+919876543452', 'Mohit Dua', '[\"MBA\"]', 'IMPORT', NULL,
             '{\"City\":\"Delhi\"}', 0, NULL, NULL);
         PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(old);

    let mut store = SqliteStore::open(&path).unwrap();
    assert_eq!(user_version(&store), 6);
    filter_index_is_used(&store);
    let phone = Phone::parse_e164("+919876543452").unwrap();
    let mut found = Vec::new();
    store.fetch(&[phone], &mut found).unwrap();
    assert_eq!(found.len(), 1);
    let found = &found[0].contact;
    assert_eq!(found.name(), "Mohit Dua");
    assert_eq!(found.attributes.get("City"), Some("Delhi"));
    assert!(found.has_tag("MBA"));
}

/// The schema of a v3 file as contact-import made it before accounts: its
/// three migrations, copied verbatim from `src/store/sqlite.rs` at commit
/// 6cda2ee, run in order (this is the first; it leaves `user_version` 0).
const SCHEMA_V1: &str = "
CREATE TABLE contacts (
    phone         TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL CHECK (name <> ''),
    tags          TEXT NOT NULL DEFAULT '[]',
    source        TEXT,
    first_message TEXT,
    attributes    TEXT NOT NULL DEFAULT '{}',
    created_at    INTEGER NOT NULL,
    last_active   INTEGER,
    state         TEXT
) WITHOUT ROWID;
CREATE TABLE catalog_tags (
    seq  INTEGER PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE
);
CREATE TABLE catalog_attributes (
    seq  INTEGER PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE
);
CREATE TABLE imports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    file_name    TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER NOT NULL,
    rows_read    INTEGER NOT NULL,
    rows_added   INTEGER NOT NULL,
    rows_updated INTEGER NOT NULL,
    rows_unchanged INTEGER NOT NULL,
    rows_failed  INTEGER NOT NULL,
    error        TEXT,
    report       TEXT NOT NULL
);
";

/// Versions 2 and 3 of the same (see [`SCHEMA_V1`]).
const SCHEMA_V2_V3: &str = "
CREATE INDEX contacts_source ON contacts (source);
CREATE INDEX contacts_first_message ON contacts (first_message);
CREATE INDEX contacts_state ON contacts (state);
CREATE INDEX contacts_created_at ON contacts (created_at);
CREATE INDEX contacts_last_active ON contacts (last_active);
CREATE TABLE contacts_v3 (
    id            INTEGER PRIMARY KEY,
    phone         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL CHECK (name <> ''),
    tags          TEXT NOT NULL DEFAULT '[]',
    source        TEXT,
    first_message TEXT,
    attributes    TEXT NOT NULL DEFAULT '{}',
    created_at    INTEGER NOT NULL,
    last_active   INTEGER,
    state         TEXT
);
INSERT INTO contacts_v3 (phone, name, tags, source, first_message, attributes, created_at, last_active, state)
    SELECT phone, name, tags, source, first_message, attributes, created_at, last_active, state
    FROM contacts ORDER BY phone;
DROP TABLE contacts;
ALTER TABLE contacts_v3 RENAME TO contacts;
CREATE INDEX contacts_source ON contacts (source);
CREATE INDEX contacts_first_message ON contacts (first_message);
CREATE INDEX contacts_state ON contacts (state);
CREATE INDEX contacts_created_at ON contacts (created_at);
CREATE INDEX contacts_last_active ON contacts (last_active);
";

/// A v3 file made with today's schema SQL: two contacts, a catalog and a
/// recorded import (its report as the store wrote it, JSON).
fn v3_file(path: &std::path::Path) -> contact_import::ImportRecord {
    let catalog = Catalog::new()
        .with_tags(["MBA", "Finance"])
        .with_attributes(["City"]);
    let mut memory = contact_import::MemoryStore::new();
    let mut record = engine(catalog)
        .import_recorded("old.csv", Cursor::new(FILE), &mut memory, |_| {})
        .unwrap();
    let old = contact_import::rusqlite::Connection::open(path).unwrap();
    old.execute_batch(SCHEMA_V1).unwrap();
    old.execute_batch(SCHEMA_V2_V3).unwrap();
    old.pragma_update(None, "user_version", 3).unwrap();
    old.execute_batch(
        "INSERT INTO contacts (phone, name, tags, source, first_message, attributes, created_at, last_active, state)
         VALUES ('+919876543452', 'Mohit Dua', '[\"MBA\"]', 'IMPORT', 'MBA', '{\"City\":\"Delhi\"}',
                 1750000000000000, 1760000000000000, 'Intervened'),
                ('+919876543210', 'Priya Sharma', '[\"MBA\",\"Finance\"]', 'IMPORT', NULL,
                 '{\"City\":\"Mumbai\"}', 1750000000000000, NULL, NULL);
         INSERT INTO catalog_tags (name) VALUES ('MBA'), ('Finance');
         INSERT INTO catalog_attributes (name) VALUES ('City');",
    )
    .unwrap();
    let report = serde_json::to_string(&record.report).unwrap();
    old.execute(
        "INSERT INTO imports (file_name, started_at, finished_at, rows_read, rows_added, rows_updated, rows_unchanged, rows_failed, error, report)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9)",
        contact_import::rusqlite::params![
            record.file_name,
            record.started_at.as_microsecond(),
            record.finished_at.as_microsecond(),
            record.report.rows as i64,
            record.report.added as i64,
            record.report.updated as i64,
            record.report.unchanged as i64,
            record.report.failed as i64,
            report
        ],
    )
    .unwrap();
    record.id = old.last_insert_rowid() as u64;
    record
}

#[test]
fn a_v3_file_migrates_with_its_data_into_the_default_account() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.db");
    let old_import = v3_file(&path);

    let mut store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.account().as_str(), "default");
    assert_eq!(user_version(&store), 6);
    // Another account of the same file starts empty, and its own phone
    // +919876543452 is a second contact.
    let mut acme = SqliteStore::open_account(&path, "acme".parse().unwrap()).unwrap();
    let engine = engine(Catalog::new().with_tags(["MBA"]));
    assert_migrated_into_the_default_account(&mut store, &mut acme, &old_import, &engine, FILE);

    // The filter indexes lead with the account, and are used.
    filter_index_is_used(&store);
}

#[cfg(feature = "testkit")]
#[test]
fn accounts_of_one_file_share_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    contact_import::testkit::check_account_isolation(|account| {
        SqliteStore::open_account(&path, account.clone()).unwrap()
    })
    .unwrap();
}

/// Versions 4 (accounts) and 5 (contact versions) as they were released:
/// with [`SCHEMA_V1`] and [`SCHEMA_V2_V3`], a file of schema version 5.
const SCHEMA_V4_V5: &str = "
CREATE TABLE contacts_v4 (
    id            INTEGER PRIMARY KEY,
    account_id    TEXT NOT NULL,
    phone         TEXT NOT NULL,
    name          TEXT NOT NULL CHECK (name <> ''),
    tags          TEXT NOT NULL DEFAULT '[]',
    source        TEXT,
    first_message TEXT,
    attributes    TEXT NOT NULL DEFAULT '{}',
    created_at    INTEGER NOT NULL,
    last_active   INTEGER,
    state         TEXT,
    UNIQUE (account_id, phone)
);
INSERT INTO contacts_v4 (id, account_id, phone, name, tags, source, first_message, attributes, created_at, last_active, state)
    SELECT id, 'default', phone, name, tags, source, first_message, attributes, created_at, last_active, state
    FROM contacts ORDER BY id;
DROP TABLE contacts;
ALTER TABLE contacts_v4 RENAME TO contacts;
CREATE INDEX contacts_source ON contacts (account_id, source);
CREATE INDEX contacts_first_message ON contacts (account_id, first_message);
CREATE INDEX contacts_state ON contacts (account_id, state);
CREATE INDEX contacts_created_at ON contacts (account_id, created_at);
CREATE INDEX contacts_last_active ON contacts (account_id, last_active);
CREATE TABLE catalog_tags_v4 (
    seq        INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    UNIQUE (account_id, name)
);
INSERT INTO catalog_tags_v4 (seq, account_id, name)
    SELECT seq, 'default', name FROM catalog_tags ORDER BY seq;
DROP TABLE catalog_tags;
ALTER TABLE catalog_tags_v4 RENAME TO catalog_tags;
CREATE TABLE catalog_attributes_v4 (
    seq        INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    UNIQUE (account_id, name)
);
INSERT INTO catalog_attributes_v4 (seq, account_id, name)
    SELECT seq, 'default', name FROM catalog_attributes ORDER BY seq;
DROP TABLE catalog_attributes;
ALTER TABLE catalog_attributes_v4 RENAME TO catalog_attributes;
ALTER TABLE imports ADD COLUMN account_id TEXT NOT NULL DEFAULT 'default';
CREATE INDEX imports_account ON imports (account_id, id);
ALTER TABLE contacts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE TRIGGER contacts_version
AFTER UPDATE OF account_id, phone, name, tags, source, first_message, attributes ON contacts
FOR EACH ROW WHEN NEW.version = OLD.version
BEGIN
    UPDATE contacts SET version = OLD.version + 1 WHERE id = NEW.id;
END;
";

#[test]
fn a_v5_file_migrates_with_every_opt_in_unknown_and_keeps_opt_outs_its_service_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v5.db");
    let old_import = v3_file(&path);
    let old = contact_import::rusqlite::Connection::open(&path).unwrap();
    old.execute_batch(SCHEMA_V4_V5).unwrap();
    old.pragma_update(None, "user_version", 5).unwrap();
    // A contact edited once since: version 2.
    old.execute(
        "UPDATE contacts SET name = 'Priya S' WHERE phone = '+919876543210'",
        [],
    )
    .unwrap();
    drop(old);

    let mut store = SqliteStore::open(&path).unwrap();
    assert_eq!(user_version(&store), 6);
    let mohit = store.get(&phone("+919876543452")).unwrap().unwrap();
    assert_eq!(mohit.opt_in, None);
    assert_eq!(mohit.state, Some(contact_import::State::Intervened));
    assert_eq!(mohit.attributes.get("City"), Some("Delhi"));
    let mut found = Vec::new();
    store.fetch(&[phone("+919876543210")], &mut found).unwrap();
    assert_eq!(found[0].contact.name(), "Priya S");
    assert_eq!(found[0].contact.opt_in, None);
    assert_eq!(found[0].version.get(), 2, "versions survive the migration");
    assert_eq!(store.import_history().unwrap(), vec![old_import.summary()]);

    // The service records a STOP in plain SQL: the version moves (the
    // trigger covers the opt-in), and an import that says yes keeps it.
    let engine = engine(Catalog::new());
    engine
        .import_bytes(
            b"Name,Phone,Opt-in\nMohit Dua,+919876543452,yes\n",
            &mut store,
        )
        .unwrap();
    assert_eq!(
        store.get(&phone("+919876543452")).unwrap().unwrap().opt_in,
        Some(true)
    );
    let before: i64 = store
        .connection()
        .query_row(
            "SELECT version FROM contacts WHERE phone = '+919876543452'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    store
        .connection()
        .execute("UPDATE contacts SET opt_in = 0 WHERE account_id = 'default' AND phone = '+919876543452'", [])
        .unwrap();
    let after: i64 = store
        .connection()
        .query_row(
            "SELECT version FROM contacts WHERE phone = '+919876543452'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(after, before + 1);
    crate::common::assert_sql_opt_out_kept(&mut store, &engine);
    // The column refuses what is not a boolean.
    assert!(
        store
            .connection()
            .execute(
                "UPDATE contacts SET opt_in = 2 WHERE phone = '+919876543452'",
                []
            )
            .is_err()
    );
}
