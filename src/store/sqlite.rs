//! [`SqliteStore`]: a contact book in a SQLite file (feature `sqlite`).

use std::ops::ControlFlow;
use std::path::Path;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use crate::account::Account;
use crate::catalog::Catalog;
use crate::contact::Contact;
use crate::filter::Filter;
use crate::history::{ImportId, ImportRecord, ImportSummary};
use crate::phone::Phone;
use crate::store::codec::{
    ContactColumns, DecodeError, Decoder, SummaryColumns, record_from, report_to_json, signed,
    unsigned,
};
use crate::store::pushdown::{self, Dialect, Param};
use crate::store::{ContactScan, ContactStore, Stored, Version, WriteBatch, count_visits};

/// The schema, one migration per version (the second adds the indexes
/// that filters use; tags and attributes are JSON, which SQLite cannot
/// index, so conditions on them read each row's JSON): the database's `PRAGMA
/// user_version` says how many have run. Times are microseconds since the
/// Unix epoch (UTC); tags and attributes are JSON (query them with
/// `json_each`).
const MIGRATIONS: &[&str] = &[
    "
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
",
    "
CREATE INDEX contacts_source ON contacts (source);
CREATE INDEX contacts_first_message ON contacts (first_message);
CREATE INDEX contacts_state ON contacts (state);
CREATE INDEX contacts_created_at ON contacts (created_at);
CREATE INDEX contacts_last_active ON contacts (last_active);
",
    // v3: a rowid table. Keyed by phone, every batch of an import wrote
    // pages all over the table and its five indexes (random phones, and
    // index entries ordered by phone within each value): 15.8 s for the
    // realistic 200,000-row file. With rowids, new rows and their index
    // entries go at the end, and only the phone index takes random writes.
    "
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
",
    // v4: accounts. Every table gains `account_id`, and every key and
    // unique constraint starts with it; the rows of a v3 file go to the
    // `default` account. The tables are rebuilt: SQLite cannot drop the
    // UNIQUE of v3's phone column.
    "
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
",
    // v5: each contact's version, so that a write lands only on the version
    // it merged into (many writers). The trigger gives a new version to
    // every update of an imported field that does not set one itself: your
    // service's own SQL needs nothing. `last_active` and `state` are not
    // imported, so setting them makes no import merge again.
    "
ALTER TABLE contacts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE TRIGGER contacts_version
AFTER UPDATE OF account_id, phone, name, tags, source, first_message, attributes ON contacts
FOR EACH ROW WHEN NEW.version = OLD.version
BEGIN
    UPDATE contacts SET version = OLD.version + 1 WHERE id = NEW.id;
END;
",
    // v6: the WhatsApp opt-in (NULL: unknown; existing contacts migrate to
    // unknown). The version trigger covers it: a service that records an
    // opt-out while an import runs makes the import merge that contact
    // again, and the import keeps the opt-out.
    "
ALTER TABLE contacts ADD COLUMN opt_in INTEGER CHECK (opt_in IN (0, 1));
DROP TRIGGER contacts_version;
CREATE TRIGGER contacts_version
AFTER UPDATE OF account_id, phone, name, tags, source, first_message, attributes, opt_in ON contacts
FOR EACH ROW WHEN NEW.version = OLD.version
BEGIN
    UPDATE contacts SET version = OLD.version + 1 WHERE id = NEW.id;
END;
",
];

const CONTACT_COLUMNS: &str =
    "phone, name, tags, source, first_message, attributes, created_at, last_active, state, opt_in";

/// A new contact lands only if its phone is still absent from the
/// account (`?10`).
const CREATE: &str = "
INSERT INTO contacts (phone, name, tags, source, first_message, attributes, created_at, last_active, state, account_id, opt_in)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
ON CONFLICT (account_id, phone) DO NOTHING";

/// An update lands only on the version it merged into, and leaves
/// created_at, last_active and state as they are: a live service may have
/// changed them since the engine fetched the contact. `?8` is the
/// handle's account, `?9` the opt-in.
const UPDATE: &str = "
UPDATE contacts SET
    name = ?2, tags = ?3, source = ?4, first_message = ?5, attributes = ?6, opt_in = ?9,
    version = version + 1
WHERE account_id = ?8 AND phone = ?1 AND version = ?7";

/// How long a statement waits for another connection's lock: long enough
/// for several imports and a busy service to take turns on one file.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

const SUMMARY_COLUMNS: &str = "id, file_name, started_at, finished_at, error, rows_read, rows_added, rows_updated, rows_unchanged, rows_failed";

/// What went wrong in a [`SqliteStore`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqliteError {
    /// SQLite refused an operation (a locked, read-only or corrupt file, a
    /// contact the schema refuses, ...). The message is SQLite's, with what
    /// to do for the common cases; it is not repeated as a `source`.
    #[error("{}", sqlite_message(.0))]
    Sqlite(rusqlite::Error),
    /// The file was written by a newer version of this crate.
    #[error(
        "the database's schema is version {found}, newer than the {supported} this version of contact-import knows: upgrade contact-import"
    )]
    NewerSchema {
        /// The file's schema version (`PRAGMA user_version`).
        found: i64,
        /// The newest version this crate knows.
        supported: i64,
    },
    /// A stored value could not be read back, or a value not written.
    #[error(transparent)]
    Data(#[from] DecodeError),
}

impl From<rusqlite::Error> for SqliteError {
    fn from(error: rusqlite::Error) -> SqliteError {
        SqliteError::Sqlite(error)
    }
}

/// SQLite's message, once (rusqlite's error repeats it in its source),
/// with what to do next where SQLite's code says what happened.
fn sqlite_message(error: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode;
    let advice = match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            "another connection held the database's lock for longer than the busy timeout (30 s); import again when it is done (the report says which rows are saved)"
        }
        Some(ErrorCode::DiskFull) => {
            "the disk is full; free some space and import again (the report says which rows are saved)"
        }
        Some(ErrorCode::ReadOnly) => {
            "the database is read-only; check the file's permissions, or open another file"
        }
        Some(ErrorCode::CannotOpen) => {
            "the database file cannot be opened; check that its folder exists and is writable"
        }
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            "the file is not a SQLite database, or is damaged; open another file"
        }
        _ => return format!("SQLite: {error}"),
    };
    format!("SQLite: {error}: {advice}")
}

/// A contact book in a SQLite file: contacts keyed by E.164 phone with their
/// tags and attributes, the catalog, and the import history.
///
/// One file holds the books of many accounts (businesses, see [`Account`]):
/// a store handle works for one account, and no method reads or writes
/// another account's rows. [`open`](Self::open) and the other constructors
/// give the [`Account::DEFAULT`] account; [`for_account`](Self::for_account)
/// (or [`open_account`](Self::open_account)) gives another. The same phone
/// in two accounts is two contacts.
///
/// The store creates its schema and migrates older files itself (versioned
/// with `PRAGMA user_version`), and runs in WAL mode, so readers (e.g. your
/// service) are not blocked by an import. Each batch is written in one
/// transaction: it lands whole or not at all. Times are kept to the
/// microsecond.
///
/// ```
/// use std::io::Cursor;
/// use contact_import::{Catalog, ContactStore, ImportEngine, Phone, SqliteStore};
///
/// let dir = tempfile::tempdir()?;
/// let mut store = SqliteStore::open(dir.path().join("contacts.db"))?;
/// store.add_to_catalog(&Catalog::new().with_tags(["MBA"]))?;
///
/// let engine = ImportEngine::new(store.load_catalog()?, || jiff::Timestamp::now());
/// let file = "Name,Mobile Number,Tags\nMohit Dua,9876543452,MBA\n";
/// let report = engine.import(Cursor::new(file), &mut store)?;
/// assert_eq!(report.added, 1);
///
/// let mohit = store.get(&Phone::parse_e164("+919876543452").unwrap())?.unwrap();
/// assert!(mohit.has_tag("MBA"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SqliteStore {
    connection: Connection,
    account: Account,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.connection.path())
            .field("account", &self.account.as_str())
            .finish()
    }
}

impl SqliteStore {
    /// Opens the contact book of the [`Account::DEFAULT`] account in the file
    /// at `path`, creating the file and its schema if missing and migrating
    /// an older schema.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, SqliteError> {
        SqliteStore::with_connection(Connection::open(path)?)
    }

    /// Opens the contact book of `account` in the file at `path`, as
    /// [`open`](Self::open) then [`for_account`](Self::for_account).
    ///
    /// ```
    /// use contact_import::{Account, ContactStore, ImportEngine, Catalog, SqliteStore};
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("crm.db");
    /// let engine = ImportEngine::new(Catalog::new(), jiff::Timestamp::UNIX_EPOCH);
    /// let file = b"Name,Phone\nMohit Dua,9876543452\n";
    ///
    /// let mut acme = SqliteStore::open_account(&path, "acme".parse()?)?;
    /// let mut globex = SqliteStore::open_account(&path, "globex".parse()?)?;
    /// assert_eq!(engine.import_bytes(file, &mut acme)?.added, 1);
    /// // The same phone in another account is another contact.
    /// assert_eq!(engine.import_bytes(file, &mut globex)?.added, 1);
    /// assert_eq!((acme.len()?, globex.len()?), (1, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_account(
        path: impl AsRef<Path>,
        account: Account,
    ) -> Result<SqliteStore, SqliteError> {
        Ok(SqliteStore::open(path)?.for_account(account))
    }

    /// The same connection, working for `account` instead: its contacts,
    /// catalog and import history only.
    pub fn for_account(self, account: Account) -> SqliteStore {
        SqliteStore { account, ..self }
    }

    /// The account this handle works for.
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// A contact book in memory, gone when the store is dropped.
    pub fn open_in_memory() -> Result<SqliteStore, SqliteError> {
        SqliteStore::with_connection(Connection::open_in_memory()?)
    }

    /// A contact book on a connection you opened (e.g. with your own flags),
    /// creating or migrating its schema.
    pub fn with_connection(mut connection: Connection) -> Result<SqliteStore, SqliteError> {
        connection.busy_timeout(BUSY_TIMEOUT)?;
        // Another process may be creating the same file at this moment.
        // Switching to WAL takes an exclusive lock, and SQLite answers
        // "busy" at once, without waiting, to one of two connections that
        // would otherwise deadlock: so try again until the busy timeout.
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match set_up(&mut connection) {
                Err(SqliteError::Sqlite(error))
                    if is_busy(&error) && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(error) => return Err(error),
                Ok(()) => {
                    return Ok(SqliteStore {
                        connection,
                        account: Account::default(),
                    });
                }
            }
        }
    }

    /// The connection, for your own queries (e.g. your service setting
    /// `last_active` when a message arrives). Every table has an
    /// `account_id` column: name the account in your queries.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// How many contacts the account holds.
    pub fn len(&self) -> Result<u64, SqliteError> {
        let count: i64 = self.connection.query_row(
            "SELECT count(*) FROM contacts WHERE account_id = ?1",
            [self.account.as_str()],
            |row| row.get(0),
        )?;
        Ok(unsigned("contact count", count)?)
    }

    /// True when the account holds no contact.
    pub fn is_empty(&self) -> Result<bool, SqliteError> {
        Ok(self.len()? == 0)
    }
}

/// The page cache of each connection, in KiB as `PRAGMA cache_size`
/// takes it when negative: 32 MiB, the phone index of about a million
/// contacts.
const CACHE_KIB: i64 = -32 * 1024;

/// The page cache during a scan: SQLite's default, 2 MiB.
const SCAN_CACHE_KIB: i64 = -2000;

/// WAL pages between automatic checkpoints (SQLite's default is 1,000).
const CHECKPOINT_PAGES: i64 = 10_000;

/// The WAL file's size kept after a checkpoint, in bytes.
const WAL_LIMIT: i64 = 64 * 1024 * 1024;

/// WAL mode, its sync level, the cache and checkpoints, and the schema.
fn set_up(connection: &mut Connection) -> Result<(), SqliteError> {
    // WAL lets readers work during an import; with WAL, NORMAL sync is
    // safe from corruption and may only lose the last commits on power loss.
    let _mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    // An import commits every batch, and each commit writes to the WAL every
    // page it changed: with SQLite's 2 MiB cache the phone index's pages
    // were also read again from the file for nearly every row, and with a
    // checkpoint every 1,000 WAL pages nearly every commit copied its pages
    // into the file a second time (DESIGN.md, "SQLite write path"). The
    // cache fills only as pages are read; the WAL is cut back to
    // `WAL_LIMIT` bytes after a checkpoint.
    connection.pragma_update(None, "cache_size", CACHE_KIB)?;
    let _: i64 = connection.query_row(
        &format!("PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}"),
        [],
        |row| row.get(0),
    )?;
    let _: i64 = connection.query_row(
        &format!("PRAGMA journal_size_limit = {WAL_LIMIT}"),
        [],
        |row| row.get(0),
    )?;
    migrate(connection)
}

fn is_busy(error: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode;
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

fn migrate(connection: &mut Connection) -> Result<(), SqliteError> {
    let supported = MIGRATIONS.len() as i64;
    let transaction =
        connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found: i64 = transaction.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > supported {
        return Err(SqliteError::NewerSchema { found, supported });
    }
    for (version, migration) in (1i64..).zip(MIGRATIONS).skip(found.max(0) as usize) {
        transaction.execute_batch(migration)?;
        transaction.pragma_update(None, "user_version", version)?;
    }
    transaction.commit()?;
    Ok(())
}

fn micros(time: Timestamp) -> i64 {
    time.as_microsecond()
}

fn from_micros(micros: i64) -> Result<Timestamp, String> {
    Timestamp::from_microsecond(micros).map_err(|e| e.to_string())
}

fn contact_from_row(row: &Row<'_>, decoder: &mut Decoder) -> Result<Contact, SqliteError> {
    let columns = ContactColumns {
        phone: row.get(0)?,
        name: row.get(1)?,
        tags: row.get(2)?,
        source: row.get(3)?,
        first_message: row.get(4)?,
        attributes: row.get(5)?,
        created_at: row.get(6)?,
        last_active: row.get(7)?,
        state: row.get(8)?,
        opt_in: row.get(9)?,
    };
    Ok(columns.decode_with(decoder, from_micros)?)
}

/// Writes the batch's contacts whose precondition holds, in `account`;
/// pushes the phones of the others to `conflicts`.
fn write(
    transaction: &Transaction<'_>,
    account: &Account,
    batch: &WriteBatch,
    conflicts: &mut Vec<Phone>,
) -> Result<(), SqliteError> {
    let mut create = transaction.prepare_cached(CREATE)?;
    for contact in &batch.create {
        let c = ContactColumns::encode(contact, micros)?;
        let created = create.execute(params![
            c.phone,
            c.name,
            c.tags,
            c.source,
            c.first_message,
            c.attributes,
            c.created_at,
            c.last_active,
            c.state,
            account.as_str(),
            c.opt_in
        ])?;
        if created == 0 {
            conflicts.push(contact.phone);
        }
    }
    let mut update = transaction.prepare_cached(UPDATE)?;
    for (contact, version) in &batch.update {
        let c = ContactColumns::encode(contact, micros)?;
        let version = signed("version", version.get())?;
        let updated = update.execute(params![
            c.phone,
            c.name,
            c.tags,
            c.source,
            c.first_message,
            c.attributes,
            version,
            account.as_str(),
            c.opt_in
        ])?;
        if updated == 0 {
            conflicts.push(contact.phone);
        }
    }
    Ok(())
}

fn add_names(
    transaction: &Transaction<'_>,
    account: &Account,
    table: &str,
    names: &[&str],
) -> Result<(), SqliteError> {
    let sql = format!(
        "INSERT INTO {table} (account_id, name) VALUES (?1, ?2) ON CONFLICT (account_id, name) DO NOTHING"
    );
    let mut statement = transaction.prepare_cached(&sql)?;
    for name in names {
        statement.execute([account.as_str(), name])?;
    }
    Ok(())
}

fn load_names(
    connection: &Connection,
    account: &Account,
    table: &str,
) -> Result<Vec<String>, SqliteError> {
    let sql = format!("SELECT name FROM {table} WHERE account_id = ?1 ORDER BY seq");
    let mut statement = connection.prepare_cached(&sql)?;
    let names = statement.query_map([account.as_str()], |row| row.get(0))?;
    Ok(names.collect::<Result<_, _>>()?)
}

fn summary_from_row(row: &Row<'_>) -> Result<ImportSummary, SqliteError> {
    let count = |i: usize| row.get::<_, i64>(i);
    let columns = SummaryColumns {
        id: row.get(0)?,
        file_name: row.get(1)?,
        started_at: row.get(2)?,
        finished_at: row.get(3)?,
        error: row.get(4)?,
        counts: [count(5)?, count(6)?, count(7)?, count(8)?, count(9)?],
    };
    Ok(columns.decode(from_micros)?)
}

impl ContactStore for SqliteStore {
    type Error = SqliteError;

    /// True: a create is checked by the `(account_id, phone)` key (`ON
    /// CONFLICT DO NOTHING`), and an import into a new book no longer looks
    /// up each of its new phones first.
    fn creates_without_fetch(&self) -> bool {
        true
    }

    /// 10,000 rows: each batch's commit appends to the WAL every page it
    /// changed, most of the phone index for 1,000 random phones, so
    /// batches of 10,000 import a new file in about two thirds of the time
    /// of batches of 1,000 (README, "Database stores"). Another writer may
    /// wait for the write lock as long as one batch's write takes: about
    /// 0.2 s at most on the machine of the README's figures (200,000 rows
    /// in about 4 s, 20 batches, while the next batch is normalized).
    fn preferred_batch_size(&self) -> Option<usize> {
        Some(10_000)
    }

    fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Stored>) -> Result<(), SqliteError> {
        let sql = format!(
            "SELECT {CONTACT_COLUMNS}, version FROM contacts WHERE phone = ?1 AND account_id = ?2"
        );
        // One read transaction for the batch: one snapshot, and one
        // acquisition of the WAL's read lock instead of one per phone.
        let transaction = self.connection.unchecked_transaction()?;
        let mut statement = self.connection.prepare_cached(&sql)?;
        let mut decoder = Decoder::default();
        for phone in phones {
            let mut rows = statement.query([phone.as_str(), self.account.as_str()])?;
            if let Some(row) = rows.next()? {
                let contact = contact_from_row(row, &mut decoder)?;
                let version = unsigned("version", row.get(10)?)?;
                found.push(Stored {
                    contact,
                    version: Version::new(version),
                });
            }
        }
        drop(statement);
        transaction.commit()?;
        Ok(())
    }

    /// One `BEGIN IMMEDIATE` transaction: it waits (up to the busy
    /// timeout) for the write lock instead of failing on a snapshot that
    /// another writer made stale.
    ///
    /// Rows are written in phone order: the phone index's pages are then
    /// visited in order, not at random.
    fn write_batch(&mut self, mut batch: WriteBatch) -> Result<Vec<Phone>, SqliteError> {
        batch.create.sort_unstable_by_key(|c| c.phone);
        batch.update.sort_unstable_by_key(|(c, _)| c.phone);
        let mut conflicts = Vec::new();
        let transaction = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        write(&transaction, &self.account, &batch, &mut conflicts)?;
        transaction.commit()?;
        Ok(conflicts)
    }

    fn load_catalog(&mut self) -> Result<Catalog, SqliteError> {
        let tags = load_names(&self.connection, &self.account, "catalog_tags")?;
        let attributes = load_names(&self.connection, &self.account, "catalog_attributes")?;
        Ok(Catalog::new().with_tags(tags).with_attributes(attributes))
    }

    fn add_to_catalog(&mut self, catalog: &Catalog) -> Result<(), SqliteError> {
        let tags: Vec<&str> = catalog.tags().iter().map(|t| t.as_str()).collect();
        let attributes: Vec<&str> = catalog.attributes().iter().map(|a| a.as_str()).collect();
        let transaction = self.connection.transaction()?;
        add_names(&transaction, &self.account, "catalog_tags", &tags)?;
        add_names(
            &transaction,
            &self.account,
            "catalog_attributes",
            &attributes,
        )?;
        transaction.commit()?;
        Ok(())
    }

    fn record_import(&mut self, record: &ImportRecord) -> Result<Option<ImportId>, SqliteError> {
        let report = &record.report;
        self.connection.execute(
            "INSERT INTO imports (file_name, started_at, finished_at, rows_read, rows_added, rows_updated, rows_unchanged, rows_failed, error, report, account_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                record.file_name,
                micros(record.started_at),
                micros(record.finished_at),
                signed("rows", report.rows)?,
                signed("added", report.added)?,
                signed("updated", report.updated)?,
                signed("unchanged", report.unchanged)?,
                signed("failed", report.failed)?,
                record.error,
                report_to_json(report)?,
                self.account.as_str(),
            ],
        )?;
        let id = self.connection.last_insert_rowid();
        Ok(Some(unsigned("import id", id)?))
    }

    fn import_history(&mut self) -> Result<Vec<ImportSummary>, SqliteError> {
        let sql =
            format!("SELECT {SUMMARY_COLUMNS} FROM imports WHERE account_id = ?1 ORDER BY id DESC");
        let mut statement = self.connection.prepare_cached(&sql)?;
        let mut rows = statement.query([self.account.as_str()])?;
        let mut summaries = Vec::new();
        while let Some(row) = rows.next()? {
            summaries.push(summary_from_row(row)?);
        }
        Ok(summaries)
    }

    fn import_record(&mut self, id: ImportId) -> Result<Option<ImportRecord>, SqliteError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}, report FROM imports WHERE id = ?1 AND account_id = ?2"
        );
        let mut statement = self.connection.prepare_cached(&sql)?;
        let found = statement
            .query_row(params![id, self.account.as_str()], |row| {
                Ok((summary_from_row(row), row.get::<_, String>(10)?))
            })
            .optional()?;
        let Some((summary, json)) = found else {
            return Ok(None);
        };
        Ok(Some(record_from(summary?, &json)?))
    }
}

impl ContactScan for SqliteStore {
    fn scan(
        &mut self,
        visit: &mut dyn FnMut(&Contact) -> ControlFlow<()>,
    ) -> Result<(), SqliteError> {
        let sql =
            format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE account_id = ?1 ORDER BY phone");
        let account = self.account.as_str().to_owned();
        self.with_scan_cache(|connection| {
            let mut statement = connection.prepare_cached(&sql)?;
            let mut rows = statement.query([account])?;
            let mut decoder = Decoder::default();
            while let Some(row) = rows.next()? {
                if visit(&contact_from_row(row, &mut decoder)?).is_break() {
                    break;
                }
            }
            Ok(())
        })
    }

    /// Evaluates the filter in SQL (see the README's "Export and segments"):
    /// every condition but a non-empty `NameContains`, which is checked in
    /// Rust on the rows the SQL selects.
    fn scan_filtered(
        &mut self,
        filter: &Filter,
        visit: &mut dyn FnMut(&Contact) -> ControlFlow<()>,
    ) -> Result<(), SqliteError> {
        let condition = pushdown::condition(filter, &SqliteDialect);
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE {} AND ({}) ORDER BY phone",
            account_condition(&condition),
            condition.sql
        );
        let params = self.params_with_account(&condition);
        self.with_scan_cache(|connection| {
            let mut statement = connection.prepare_cached(&sql)?;
            let mut rows = statement.query(rusqlite::params_from_iter(params))?;
            let mut decoder = Decoder::default();
            while let Some(row) = rows.next()? {
                let contact = contact_from_row(row, &mut decoder)?;
                if (condition.exact || filter.matches(&contact)) && visit(&contact).is_break() {
                    break;
                }
            }
            Ok(())
        })
    }

    fn count(&mut self, filter: &Filter) -> Result<u64, SqliteError> {
        let condition = pushdown::condition(filter, &SqliteDialect);
        if !condition.exact {
            return count_visits(|visit| self.scan_filtered(filter, visit));
        }
        let sql = format!(
            "SELECT count(*) FROM contacts WHERE {} AND ({})",
            account_condition(&condition),
            condition.sql
        );
        let mut statement = self.connection.prepare_cached(&sql)?;
        let params = self.params_with_account(&condition);
        let count: i64 =
            statement.query_row(rusqlite::params_from_iter(params), |row| row.get(0))?;
        Ok(unsigned("contact count", count)?)
    }
}

impl SqliteStore {
    /// Runs a scan with SQLite's default 2 MiB page cache instead of
    /// `CACHE_KIB`, then gives the write path its cache back. A scan reads
    /// each page of the table about once, in no order a larger cache
    /// helps, so the large cache only grew the export's peak (INTERNALS.md,
    /// "SQLite export").
    fn with_scan_cache(
        &mut self,
        scan: impl FnOnce(&Connection) -> Result<(), SqliteError>,
    ) -> Result<(), SqliteError> {
        self.connection
            .pragma_update(None, "cache_size", SCAN_CACHE_KIB)?;
        let scanned = scan(&self.connection);
        self.connection
            .pragma_update(None, "cache_size", CACHE_KIB)?;
        scanned
    }
}

/// The account's condition, bound after the filter's parameters.
fn account_condition(condition: &pushdown::Condition) -> String {
    format!("account_id = ?{}", condition.params.len() + 1)
}

impl SqliteStore {
    /// The filter's parameters, then the account (see [`account_condition`]).
    fn params_with_account(&self, condition: &pushdown::Condition) -> Vec<rusqlite::types::Value> {
        let mut params = sqlite_params(&condition.params);
        params.push(rusqlite::types::Value::Text(
            self.account.as_str().to_owned(),
        ));
        params
    }
}

struct SqliteDialect;

impl Dialect for SqliteDialect {
    fn placeholder(&self, n: usize, _param: &Param) -> String {
        format!("?{n}")
    }

    fn has_tag(&self, tag: &str) -> String {
        format!("EXISTS (SELECT 1 FROM json_each(contacts.tags) WHERE json_each.value = {tag})")
    }

    fn attribute_equals(&self, key: &str, value: &str) -> String {
        format!(
            "EXISTS (SELECT 1 FROM json_each(contacts.attributes) WHERE json_each.key = {key} AND json_each.value = {value})"
        )
    }

    fn attribute_set(&self, key: &str) -> String {
        format!(
            "EXISTS (SELECT 1 FROM json_each(contacts.attributes) WHERE json_each.key = {key} AND json_each.value <> '')"
        )
    }
}

fn sqlite_params(params: &[Param]) -> Vec<rusqlite::types::Value> {
    params
        .iter()
        .map(|param| match param {
            Param::Text(text) => rusqlite::types::Value::Text(text.clone()),
            Param::Micros(micros) => rusqlite::types::Value::Integer(*micros),
        })
        .collect()
}
