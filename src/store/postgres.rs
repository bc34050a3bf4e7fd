//! [`PostgresStore`]: a contact book in PostgreSQL (feature `postgres`).

use std::ops::ControlFlow;
use std::time::SystemTime;

use jiff::Timestamp;
use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Row, Statement};

use crate::account::Account;
use crate::catalog::Catalog;
use crate::contact::Contact;
use crate::filter::Filter;
use crate::history::{ImportId, ImportRecord, ImportSummary};
use crate::phone::Phone;
use crate::store::codec::{
    ContactColumns, DecodeError, SummaryColumns, record_from, report_to_json, signed, unsigned,
};
use crate::store::pg_write::{WRITE, Writes, fresh_write, run_in_halves};
use crate::store::pushdown::{self, Dialect, Param};
use crate::store::{ContactScan, ContactStore, Stored, Version, WriteBatch, count_visits};

/// The schema, one migration per version; `contact_import_schema` holds the
/// versions applied. Plain SQL that Citus, YugabyteDB and CockroachDB also
/// accept: no extensions, functions or triggers. The second version adds
/// the indexes that filters use (B-trees, and GIN on the tags and
/// attributes, which the fifth drops again). A contact's version is its row's
/// `xmin` (the transaction that last wrote it), which every writer's
/// UPDATE changes: no column or trigger is needed for it.
const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE contacts (
    phone         text PRIMARY KEY,
    name          text NOT NULL CHECK (name <> ''),
    tags          jsonb NOT NULL DEFAULT '[]',
    source        text,
    first_message text,
    attributes    jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL,
    last_active   timestamptz,
    state         text
);
CREATE TABLE catalog_tags (
    seq  bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE
);
CREATE TABLE catalog_attributes (
    seq  bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE
);
CREATE TABLE imports (
    id           bigserial PRIMARY KEY,
    file_name    text NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    rows_read    bigint NOT NULL,
    rows_added   bigint NOT NULL,
    rows_updated bigint NOT NULL,
    rows_unchanged bigint NOT NULL,
    rows_failed  bigint NOT NULL,
    error        text,
    report       jsonb NOT NULL
);
",
    "
CREATE INDEX contacts_tags ON contacts USING GIN (tags);
CREATE INDEX contacts_attributes ON contacts USING GIN (attributes);
CREATE INDEX contacts_source ON contacts (source);
CREATE INDEX contacts_first_message ON contacts (first_message);
CREATE INDEX contacts_state ON contacts (state);
CREATE INDEX contacts_created_at ON contacts (created_at);
CREATE INDEX contacts_last_active ON contacts (last_active);
",
    // v3: accounts. Every table gains `account_id`, first in every primary
    // key and unique constraint (what Citus needs to distribute the tables
    // by account, co-located); the rows of a v2 schema go to `default`.
    // The filter indexes lead with the account, as every query does.
    "
ALTER TABLE contacts ADD COLUMN account_id text NOT NULL DEFAULT 'default';
ALTER TABLE contacts ALTER COLUMN account_id DROP DEFAULT;
ALTER TABLE contacts DROP CONSTRAINT contacts_pkey, ADD PRIMARY KEY (account_id, phone);
DROP INDEX contacts_source, contacts_first_message, contacts_state, contacts_created_at,
           contacts_last_active;
CREATE INDEX contacts_source ON contacts (account_id, source);
CREATE INDEX contacts_first_message ON contacts (account_id, first_message);
CREATE INDEX contacts_state ON contacts (account_id, state);
CREATE INDEX contacts_created_at ON contacts (account_id, created_at);
CREATE INDEX contacts_last_active ON contacts (account_id, last_active);
ALTER TABLE catalog_tags ADD COLUMN account_id text NOT NULL DEFAULT 'default';
ALTER TABLE catalog_tags ALTER COLUMN account_id DROP DEFAULT;
ALTER TABLE catalog_tags DROP CONSTRAINT catalog_tags_pkey, DROP CONSTRAINT catalog_tags_name_key,
    ADD PRIMARY KEY (account_id, seq), ADD UNIQUE (account_id, name);
ALTER TABLE catalog_attributes ADD COLUMN account_id text NOT NULL DEFAULT 'default';
ALTER TABLE catalog_attributes ALTER COLUMN account_id DROP DEFAULT;
ALTER TABLE catalog_attributes DROP CONSTRAINT catalog_attributes_pkey,
    DROP CONSTRAINT catalog_attributes_name_key,
    ADD PRIMARY KEY (account_id, seq), ADD UNIQUE (account_id, name);
ALTER TABLE imports ADD COLUMN account_id text NOT NULL DEFAULT 'default';
ALTER TABLE imports ALTER COLUMN account_id DROP DEFAULT;
ALTER TABLE imports DROP CONSTRAINT imports_pkey, ADD PRIMARY KEY (account_id, id);
",
    // v4: the WhatsApp opt-in (NULL: unknown; existing contacts migrate to
    // unknown). On partitioned tables (`create_partitioned_schema`, version
    // 3) it reaches every partition.
    "
ALTER TABLE contacts ADD COLUMN opt_in boolean;
",
    // v5: no GIN indexes on tags and attributes. Every query names one
    // account, whose rows the (account_id, ...) B-trees already narrow to;
    // a GIN shared by all accounts answered a tag filter with every
    // account's rows of that tag, and cost each import the maintenance of
    // an index as large as the primary key (INTERNALS.md, "PostgreSQL: no
    // GIN indexes"). A service with one large account may create its own.
    "
DROP INDEX IF EXISTS contacts_tags, contacts_attributes;
",
];

/// The schema version that [`ACCOUNT_TABLES`] is.
const ACCOUNT_TABLES_VERSION: i64 = 3;

/// The tables as version 3 of [`MIGRATIONS`] leaves them, written at once
/// for [`PostgresStore::create_partitioned_schema`]: `{partition}` follows
/// each `CREATE TABLE` (a `PARTITION BY` clause, or nothing). A test checks
/// that both give the same columns, keys and indexes.
const ACCOUNT_TABLES: &str = "
CREATE TABLE contacts (
    account_id    text NOT NULL,
    phone         text NOT NULL,
    name          text NOT NULL CHECK (name <> ''),
    tags          jsonb NOT NULL DEFAULT '[]',
    source        text,
    first_message text,
    attributes    jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL,
    last_active   timestamptz,
    state         text,
    PRIMARY KEY (account_id, phone)
) {partition};
CREATE TABLE catalog_tags (
    seq        bigserial,
    account_id text NOT NULL,
    name       text NOT NULL,
    PRIMARY KEY (account_id, seq),
    UNIQUE (account_id, name)
) {partition};
CREATE TABLE catalog_attributes (
    seq        bigserial,
    account_id text NOT NULL,
    name       text NOT NULL,
    PRIMARY KEY (account_id, seq),
    UNIQUE (account_id, name)
) {partition};
CREATE TABLE imports (
    id           bigserial,
    account_id   text NOT NULL,
    file_name    text NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    rows_read    bigint NOT NULL,
    rows_added   bigint NOT NULL,
    rows_updated bigint NOT NULL,
    rows_unchanged bigint NOT NULL,
    rows_failed  bigint NOT NULL,
    error        text,
    report       jsonb NOT NULL,
    PRIMARY KEY (account_id, id)
) {partition};
CREATE INDEX contacts_tags ON contacts USING GIN (tags);
CREATE INDEX contacts_attributes ON contacts USING GIN (attributes);
CREATE INDEX contacts_source ON contacts (account_id, source);
CREATE INDEX contacts_first_message ON contacts (account_id, first_message);
CREATE INDEX contacts_state ON contacts (account_id, state);
CREATE INDEX contacts_created_at ON contacts (account_id, created_at);
CREATE INDEX contacts_last_active ON contacts (account_id, last_active);
";

/// The tables of [`ACCOUNT_TABLES`], each hash-partitioned by account.
const PARTITIONED_TABLES: [&str; 4] = ["contacts", "catalog_tags", "catalog_attributes", "imports"];

const SELECT_CONTACTS: &str = "
SELECT phone, name, tags::text, source, first_message, attributes::text, created_at, last_active, state,
       opt_in
FROM contacts";

/// The contacts of a batch's phones, each with its version (`xmin`).
const FETCH: &str = "
SELECT phone, name, tags::text, source, first_message, attributes::text, created_at, last_active, state,
       opt_in, xmin::text::bigint
FROM contacts WHERE account_id = $2::text AND phone = ANY($1::text[])";

/// Serializes migrations across sessions, so that two processes creating
/// the schema at once both succeed (the second finds it made): the key of
/// `pg_advisory_xact_lock`, held until the migration commits.
const MIGRATION_LOCK: i64 = 0x636f_6e74_6163_7431; // "contact1"

const SUMMARY_COLUMNS: &str = "id, file_name, started_at, finished_at, error, rows_read, rows_added, rows_updated, rows_unchanged, rows_failed";

/// What went wrong in a [`PostgresStore`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresError {
    /// The server refused an operation or could not be reached; the
    /// client's error says which (`code()` gives the SQLSTATE). The message
    /// is the server's; it is not repeated as a `source`.
    #[error("PostgreSQL: {}", server_message(.0))]
    Postgres(postgres::Error),
    /// The database's schema was created by a newer version of this crate.
    #[error(
        "the database's schema is version {found}, newer than the {supported} this version of contact-import knows: upgrade contact-import"
    )]
    NewerSchema {
        /// The newest version in `contact_import_schema`.
        found: i64,
        /// The newest version this crate knows.
        supported: i64,
    },
    /// A stored value could not be read back, or a value not written.
    #[error(transparent)]
    Data(#[from] DecodeError),
    /// The connection's `search_path` starts with a schema that does not
    /// exist. PostgreSQL would skip it and create or use the tables of the
    /// next schema (often `public`): another business's contact book.
    #[error(
        "the search_path's first schema {schema:?} does not exist (search_path is {search_path:?}): create it (CREATE SCHEMA ...) or correct the search_path; the store does not fall back to a later schema"
    )]
    MissingSchema {
        /// The first schema of the search_path.
        schema: String,
        /// The whole search_path, as `SHOW search_path` gives it.
        search_path: String,
    },
    /// The client given to
    /// [`with_second_client`](PostgresStore::with_second_client) works on
    /// another database or schema than the store's, where its half of each
    /// batch would go.
    #[error(
        "the second client is on {second}, the store on {first}: connect it to the same database, with the same search_path"
    )]
    SecondClientElsewhere {
        /// The store's database and schema, as `database.schema`.
        first: String,
        /// The second client's.
        second: String,
    },
}

impl From<postgres::Error> for PostgresError {
    fn from(error: postgres::Error) -> PostgresError {
        PostgresError::Postgres(error)
    }
}

/// The server's own message when there is one ("db error" alone says
/// nothing), or the client's with its cause (a connection refused, a
/// closed connection), once.
fn server_message(error: &postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    match std::error::Error::source(error) {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}

/// Errors after which the same write, tried again, may land: the server
/// rolled back this transaction to let another one go on, or a row lock
/// waited longer than the session's `lock_timeout` (which the halves of a
/// batch on two connections set).
fn is_transient(error: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    error.code().is_some_and(|code| {
        *code == SqlState::T_R_DEADLOCK_DETECTED
            || *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::LOCK_NOT_AVAILABLE
    })
}

/// A contact book in PostgreSQL, for services that outgrow one machine's
/// file: the same tables and semantics as `SqliteStore`.
///
/// One database (or schema) holds the books of many accounts (businesses,
/// see [`Account`]): a store handle works for one account, and no method
/// reads or writes another account's rows. [`connect`](Self::connect) and
/// [`with_client`](Self::with_client) give the [`Account::DEFAULT`] account;
/// [`connect_account`](Self::connect_account) and
/// [`for_account`](Self::for_account) another. Every table has an
/// `account_id` column, first in every primary key and unique constraint,
/// so that Citus can distribute the tables by account (see the README's
/// "Many businesses in one database").
///
/// The schema is created (or migrated) when the store is made, in the
/// connection's current schema (`search_path`; a `search_path` whose first
/// schema is missing is refused with [`PostgresError::MissingSchema`]). Each batch is written by
/// one statement (an `INSERT ... SELECT FROM UNNEST(...)` of the new
/// contacts and a conditional `UPDATE` of the others): one round trip,
/// and it lands whole or not at all. The insert first goes without `ON
/// CONFLICT`; if a new phone is no longer absent (another writer added it),
/// the statement fails whole with `unique_violation`, which the server logs
/// as an `ERROR`, and the batch is written again with `ON CONFLICT
/// (account_id, phone) DO NOTHING`. With a second connection
/// ([`with_second_client`](Self::with_second_client)), a batch's two halves
/// are written at once, one on each, and committed together. Times are
/// kept to the whole microsecond, the digits past it dropped toward 1970
/// as `SqliteStore` drops them; tags and attributes are `jsonb`.
///
/// An import into a new or unrelated book does not fetch the phones it
/// takes as new ([`ContactStore::creates_without_fetch`]): their creates
/// are checked by the primary key. The history keeps each import's report
/// as `jsonb`, compressed with LZ4 when the server offers it (PostgreSQL
/// 14 and later, built with LZ4, as Debian's is): about five times faster
/// than the default `pglz` on the report of a 200,000-row file.
///
/// The store uses the blocking `postgres` client. In an async (tokio)
/// service, run the import inside `tokio::task::spawn_blocking`, or drive
/// the batches yourself with [`ImportEngine::start`](crate::ImportEngine::start)
/// and an async client (the README shows both).
///
/// ```no_run
/// use contact_import::{Catalog, ImportEngine, PostgresStore};
/// let mut store = PostgresStore::connect("postgresql://app@localhost/crm")?;
/// let engine = ImportEngine::new(Catalog::new(), || jiff::Timestamp::now());
/// let file = std::fs::File::open("contacts.csv")?;
/// let record = engine.import_recorded("contacts.csv", file, &mut store, |_| {})?;
/// println!("import {}: {} added", record.id, record.report.added);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PostgresStore {
    client: Client,
    account: Account,
    fetch: Statement,
    /// The parameter types of [`WRITE`], which its first attempt without
    /// `ON CONFLICT` shares.
    write_types: Vec<Type>,
    write_fresh_sql: String,
    /// The connection that fetches and writes the second half of each
    /// batch ([`with_second_client`](Self::with_second_client)).
    second: Option<Second>,
    /// Whether the server compresses TOAST values with LZ4 (for the
    /// history's reports).
    lz4: bool,
}

/// A store's second connection, with [`FETCH`] prepared on it.
struct Second {
    client: Client,
    fetch: Statement,
}

/// Fewer phones than this are fetched on one connection: a second round
/// trip at once gains nothing on a small fetch.
const SPLIT_FETCH_AT: usize = 256;

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("account", &self.account.as_str())
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects without TLS to `params`, a URL
    /// (`postgresql://user:password@host:port/database`) or key-value string
    /// (`host=localhost user=app`), and creates or migrates the schema.
    /// For TLS, connect a [`Client`] with a TLS connector and use
    /// [`with_client`](Self::with_client).
    pub fn connect(params: &str) -> Result<PostgresStore, PostgresError> {
        PostgresStore::with_client(Client::connect(params, NoTls)?)
    }

    /// Connects as [`connect`](Self::connect) does, for `account`.
    pub fn connect_account(params: &str, account: Account) -> Result<PostgresStore, PostgresError> {
        Ok(PostgresStore::connect(params)?.for_account(account))
    }

    /// A store on a client you connected, creating or migrating the schema
    /// in the client's current schema, for the [`Account::DEFAULT`] account.
    ///
    /// A schema per business (the client's `search_path` set to it) works
    /// as before; the schema must exist (see [`PostgresError::MissingSchema`]).
    pub fn with_client(mut client: Client) -> Result<PostgresStore, PostgresError> {
        check_search_path(&mut client)?;
        migrate(&mut client)?;
        let fetch = client.prepare(FETCH)?;
        let write_types = client.prepare(WRITE)?.params().to_vec();
        let lz4 = offers_lz4(&mut client)?;
        Ok(PostgresStore {
            client,
            account: Account::default(),
            fetch,
            write_types,
            write_fresh_sql: fresh_write(),
            second: None,
            lz4,
        })
    }

    /// The same connection, working for `account` instead: its contacts,
    /// catalog and import history only.
    ///
    /// ```no_run
    /// use contact_import::PostgresStore;
    /// let url = "postgresql://app@localhost/crm";
    /// let mut acme = PostgresStore::connect(url)?.for_account("acme".parse()?);
    /// let mut globex = PostgresStore::connect_account(url, "globex".parse()?)?;
    /// println!("{} and {} contacts", acme.len()?, globex.len()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn for_account(self, account: Account) -> PostgresStore {
        PostgresStore { account, ..self }
    }

    /// The same store, writing each batch in two halves at once, one on
    /// its own connection and one on `client`: the server then writes on
    /// two backends, which on a machine with cores to spare makes an
    /// import faster, into a new book or an unchanged file again (README,
    /// "Database stores"). `client`
    /// must be connected to the same database with the same `search_path`
    /// ([`PostgresError::SecondClientElsewhere`] otherwise).
    ///
    /// A fetch of many phones (an import's first batch, every batch of a
    /// file imported again) is split the same way, each half read and
    /// decoded on its own connection and thread. The catalog, the history
    /// and listing stay on the store's connection. The two halves of
    /// a batch are two transactions that commit only when both are
    /// written, one after the other, so the batch still lands whole or not
    /// at all, with one exception: if the connection fails between the two
    /// commits, the first half stays written, as a store without
    /// transactions would leave it; importing the file again, or resuming
    /// after the report's `last_row`, still ends as an uninterrupted import
    /// would. Each half waits at most 2 s for a row lock (`SET LOCAL
    /// lock_timeout`): two such stores whose halves wait for each other
    /// would otherwise wait for ever, as no server sees the whole cycle;
    /// the batch is then rolled back and merged again, as after a deadlock.
    /// This is measured and tested on PostgreSQL 15 only, not on the
    /// servers that speak its protocol (Citus, YugabyteDB, CockroachDB).
    ///
    /// ```no_run
    /// use contact_import::PostgresStore;
    /// use contact_import::postgres::{Client, NoTls};
    /// let url = "postgresql://app@localhost/crm";
    /// let second = Client::connect(url, NoTls)?;
    /// let store = PostgresStore::connect(url)?.with_second_client(second)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_second_client(
        mut self,
        mut client: Client,
    ) -> Result<PostgresStore, PostgresError> {
        check_search_path(&mut client)?;
        let first = database_and_schema(&mut self.client)?;
        let second = database_and_schema(&mut client)?;
        if first != second {
            return Err(PostgresError::SecondClientElsewhere { first, second });
        }
        let fetch = client.prepare(FETCH)?;
        self.second = Some(Second { client, fetch });
        Ok(self)
    }

    /// The account this handle works for.
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// Creates the store's tables in the client's current schema, each one
    /// `PARTITION BY HASH (account_id)` into `partitions` partitions
    /// (`contacts_p0`, ...), for a PostgreSQL server that partitions a large
    /// database by account itself. Call it once, on a schema without the
    /// store's tables, before [`with_client`](Self::with_client) (which then
    /// finds the schema up to date). PostgreSQL refuses a primary key or
    /// unique constraint without the partition key, as Citus refuses one
    /// without the distribution column: the store's tests run on these
    /// tables for that reason.
    ///
    /// For Citus, do not call this: let the store create plain tables and
    /// distribute them (the README gives the DDL).
    pub fn create_partitioned_schema(
        client: &mut Client,
        partitions: u32,
    ) -> Result<(), PostgresError> {
        check_search_path(client)?;
        let partitions = partitions.max(1);
        let mut sql = ACCOUNT_TABLES.replace("{partition}", "PARTITION BY HASH (account_id)");
        for table in PARTITIONED_TABLES {
            for n in 0..partitions {
                sql.push_str(&format!(
                    "CREATE TABLE {table}_p{n} PARTITION OF {table} \
                     FOR VALUES WITH (MODULUS {partitions}, REMAINDER {n});\n"
                ));
            }
        }
        let mut transaction = client.transaction()?;
        transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        transaction.batch_execute(&format!(
            "CREATE TABLE contact_import_schema (version bigint PRIMARY KEY);\n{sql}"
        ))?;
        transaction.execute(
            "INSERT INTO contact_import_schema (version) SELECT generate_series(1, $1::bigint)",
            &[&ACCOUNT_TABLES_VERSION],
        )?;
        transaction.commit()?;
        Ok(())
    }

    /// The client, for your own queries. Every table has an `account_id`
    /// column: name the account in your queries.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// How many contacts the account holds.
    pub fn len(&mut self) -> Result<u64, PostgresError> {
        let count: i64 = self
            .client
            .query_one(
                "SELECT count(*) FROM contacts WHERE account_id = $1",
                &[&self.account.as_str()],
            )?
            .get(0);
        Ok(unsigned("contact count", count)?)
    }

    /// True when the account holds no contact.
    pub fn is_empty(&mut self) -> Result<bool, PostgresError> {
        Ok(self.len()? == 0)
    }
}

/// Refuses a `search_path` whose first schema does not exist (`"$user"`
/// first is PostgreSQL's default, and skipping it is what it means).
fn check_search_path(client: &mut Client) -> Result<(), PostgresError> {
    let search_path: String = client.query_one("SHOW search_path", &[])?.try_get(0)?;
    let Some(first) = search_path_schemas(&search_path).into_iter().next() else {
        return Ok(());
    };
    if first == "$user" {
        return Ok(());
    }
    let exists: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
            &[&first],
        )?
        .try_get(0)?;
    if exists {
        return Ok(());
    }
    Err(PostgresError::MissingSchema {
        schema: first,
        search_path,
    })
}

/// The schema names of a `search_path` as PostgreSQL reads them: split at
/// commas outside double quotes, unquoted names folded to lower case.
/// `database.schema`: where the client's unqualified tables are.
fn database_and_schema(client: &mut Client) -> Result<String, PostgresError> {
    let row = client.query_one(
        "SELECT current_database() || '.' || coalesce(current_schema(), '')",
        &[],
    )?;
    Ok(row.try_get(0)?)
}

fn search_path_schemas(search_path: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut chars = search_path.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut name = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '"' if chars.next_if_eq(&'"').is_some() => name.push('"'),
                    '"' => break,
                    c => name.push(c),
                }
            }
            while chars.next_if(|&c| c != ',').is_some() {}
        } else {
            while let Some(c) = chars.next_if(|&c| c != ',') {
                name.push(c.to_ascii_lowercase());
            }
            name.truncate(name.trim_end().len());
        }
        if !name.is_empty() {
            names.push(name);
        }
        if chars.next().is_none() {
            return names;
        }
    }
}

/// Whether `default_toast_compression` may be `lz4` on this server.
fn offers_lz4(client: &mut Client) -> Result<bool, PostgresError> {
    let offered = client.query_one(
        "SELECT count(*) FROM pg_settings
         WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)",
        &[],
    )?;
    Ok(offered.try_get::<_, i64>(0)? > 0)
}

fn migrate(client: &mut Client) -> Result<(), PostgresError> {
    let supported = MIGRATIONS.len() as i64;
    let mut transaction = client.transaction()?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    transaction.batch_execute(
        "CREATE TABLE IF NOT EXISTS contact_import_schema (version bigint PRIMARY KEY)",
    )?;
    let found: i64 = transaction
        .query_one(
            "SELECT coalesce(max(version), 0)::bigint FROM contact_import_schema",
            &[],
        )?
        .get(0);
    if found > supported {
        return Err(PostgresError::NewerSchema { found, supported });
    }
    for (version, migration) in (1i64..).zip(MIGRATIONS).skip(found.max(0) as usize) {
        transaction.batch_execute(migration)?;
        transaction.execute(
            "INSERT INTO contact_import_schema (version) VALUES ($1)",
            &[&version],
        )?;
    }
    transaction.commit()?;
    Ok(())
}

fn system_time(time: Timestamp) -> Result<SystemTime, DecodeError> {
    SystemTime::try_from(time).map_err(|e| DecodeError::Encode {
        what: "a time",
        reason: e.to_string(),
    })
}

fn timestamp(time: SystemTime) -> Result<Timestamp, String> {
    Timestamp::try_from(time).map_err(|e| e.to_string())
}

/// Appends to `found` the stored contacts of `phones`, by `fetch`
/// ([`FETCH`] prepared on `client`).
fn fetch_on(
    client: &mut Client,
    fetch: &Statement,
    phones: &[Phone],
    account: &str,
    found: &mut Vec<Stored>,
) -> Result<(), PostgresError> {
    let phones: Vec<&str> = phones.iter().map(Phone::as_str).collect();
    for row in client.query(fetch, &[&phones, &account])? {
        let contact = contact_from_row(&row)?;
        let version = unsigned("version", row.try_get(10)?)?;
        found.push(Stored {
            contact,
            version: Version::new(version),
        });
    }
    Ok(())
}

fn contact_from_row(row: &Row) -> Result<Contact, PostgresError> {
    let columns = ContactColumns {
        phone: row.try_get(0)?,
        name: row.try_get(1)?,
        tags: row.try_get(2)?,
        source: row.try_get(3)?,
        first_message: row.try_get(4)?,
        attributes: row.try_get(5)?,
        created_at: row.try_get(6)?,
        last_active: row.try_get(7)?,
        state: row.try_get(8)?,
        opt_in: row.try_get(9)?,
    };
    Ok(columns.decode(timestamp)?)
}

fn load_names(
    client: &mut Client,
    account: &Account,
    table: &str,
) -> Result<Vec<String>, PostgresError> {
    let rows = client.query(
        &format!("SELECT name FROM {table} WHERE account_id = $1 ORDER BY seq"),
        &[&account.as_str()],
    )?;
    Ok(rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?)
}

fn add_names(
    transaction: &mut postgres::Transaction<'_>,
    account: &Account,
    table: &str,
    names: &[&str],
) -> Result<(), PostgresError> {
    let sql = format!(
        "INSERT INTO {table} (account_id, name)
         SELECT $2::text, name FROM UNNEST($1::text[]) WITH ORDINALITY AS added (name, n) ORDER BY n
         ON CONFLICT (account_id, name) DO NOTHING"
    );
    transaction.execute(&sql, &[&names, &account.as_str()])?;
    Ok(())
}

fn summary_from_row(row: &Row) -> Result<ImportSummary, PostgresError> {
    let count = |i: usize| row.try_get::<_, i64>(i);
    let columns = SummaryColumns {
        id: row.try_get(0)?,
        file_name: row.try_get(1)?,
        started_at: row.try_get(2)?,
        finished_at: row.try_get(3)?,
        error: row.try_get(4)?,
        counts: [count(5)?, count(6)?, count(7)?, count(8)?, count(9)?],
    };
    Ok(columns.decode(timestamp)?)
}

impl ContactStore for PostgresStore {
    type Error = PostgresError;

    /// True: a create is checked by the primary key, and a fetch of a
    /// batch's 1,000 phones, new ones included, was a sixth of the
    /// server's time in an import into a new book.
    fn creates_without_fetch(&self) -> bool {
        true
    }

    /// With a second connection, a large fetch is two halves at once, one
    /// on each (each decoded on its own thread).
    fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Stored>) -> Result<(), PostgresError> {
        let account = self.account.as_str();
        let Some(second) = self
            .second
            .as_mut()
            .filter(|_| phones.len() >= SPLIT_FETCH_AT)
        else {
            return fetch_on(&mut self.client, &self.fetch, phones, account, found);
        };
        let (mine, theirs) = phones.split_at(phones.len() / 2);
        let mut more = Vec::new();
        let (fetched, more_fetched) = std::thread::scope(|scope| {
            let other = scope.spawn(|| {
                fetch_on(
                    &mut second.client,
                    &second.fetch,
                    theirs,
                    account,
                    &mut more,
                )
            });
            let fetched = fetch_on(&mut self.client, &self.fetch, mine, account, found);
            let more_fetched = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (fetched, more_fetched)
        });
        fetched?;
        more_fetched?;
        found.append(&mut more);
        Ok(())
    }

    /// Rows are written in phone order, so that two imports writing the
    /// same phones take their row locks in the same order. A deadlock with
    /// another writer that locks rows in another order rolls the statement
    /// back: every phone of the batch is then a conflict, merged again.
    fn write_batch(&mut self, mut batch: WriteBatch) -> Result<Vec<Phone>, PostgresError> {
        batch.create.sort_unstable_by_key(|c| c.phone);
        batch.update.sort_unstable_by_key(|(c, _)| c.phone);
        let created: Vec<&Contact> = batch.create.iter().collect();
        let updated: Vec<&Contact> = batch.update.iter().map(|(c, _)| c).collect();
        let writes = Writes {
            created: &created,
            updated: &updated,
            versions: &batch.update,
            account: self.account.as_str(),
        };
        let types = &self.write_types;
        // The first attempt: the creates without `ON CONFLICT` (a batch of
        // updates only has nothing to lose by it, and goes as it is).
        let sql = match batch.create.is_empty() {
            true => WRITE,
            false => self.write_fresh_sql.as_str(),
        };
        let first = match &mut self.second {
            Some(second) => run_in_halves(&mut self.client, &mut second.client, sql, types, writes),
            None => writes.run(&mut self.client, sql, types),
        };
        // Whether the rows returned are the updates' only: the creates all landed.
        let created = first.is_ok();
        let written = match first {
            Err(error)
                if !batch.create.is_empty()
                    && error.code() == Some(&SqlState::UNIQUE_VIOLATION) =>
            {
                writes.run(&mut self.client, WRITE, types)
            }
            other => other,
        };
        let written = match written {
            Ok(rows) => rows,
            Err(error) if is_transient(&error) => Vec::new(),
            Err(error) => return Err(error.into()),
        };
        let mut landed: Vec<&str> = written
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
        landed.sort_unstable();
        let mut sent: Vec<Phone> = match created {
            true => batch.update.iter().map(|(c, _)| c.phone).collect(),
            false => batch.contacts().map(|c| c.phone).collect(),
        };
        sent.sort_unstable();
        // Every write that did not land, a phone sent twice counted twice:
        // both lists are sorted, and every phone landed was sent.
        let mut landed = landed.into_iter().peekable();
        let conflicts = sent
            .into_iter()
            .filter(|phone| landed.next_if_eq(&phone.as_str()).is_none())
            .collect();
        Ok(conflicts)
    }

    fn load_catalog(&mut self) -> Result<Catalog, PostgresError> {
        let tags = load_names(&mut self.client, &self.account, "catalog_tags")?;
        let attributes = load_names(&mut self.client, &self.account, "catalog_attributes")?;
        Ok(Catalog::new().with_tags(tags).with_attributes(attributes))
    }

    fn add_to_catalog(&mut self, catalog: &Catalog) -> Result<(), PostgresError> {
        let tags: Vec<&str> = catalog.tags().iter().map(|t| t.as_str()).collect();
        let attributes: Vec<&str> = catalog.attributes().iter().map(|a| a.as_str()).collect();
        let mut transaction = self.client.transaction()?;
        add_names(&mut transaction, &self.account, "catalog_tags", &tags)?;
        add_names(
            &mut transaction,
            &self.account,
            "catalog_attributes",
            &attributes,
        )?;
        transaction.commit()?;
        Ok(())
    }

    fn record_import(&mut self, record: &ImportRecord) -> Result<Option<ImportId>, PostgresError> {
        let report = &record.report;
        let mut transaction = self.client.transaction()?;
        if self.lz4 {
            // The 10 MB report of a 200,000-row file: pglz took 0.3 s of it.
            transaction.batch_execute("SET LOCAL default_toast_compression = lz4")?;
        }
        let row = transaction.query_one(
            "INSERT INTO imports (file_name, started_at, finished_at, rows_read, rows_added, rows_updated, rows_unchanged, rows_failed, error, report, account_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::jsonb, $11) RETURNING id",
            &[
                &record.file_name,
                &system_time(record.started_at)?,
                &system_time(record.finished_at)?,
                &signed("rows", report.rows)?,
                &signed("added", report.added)?,
                &signed("updated", report.updated)?,
                &signed("unchanged", report.unchanged)?,
                &signed("failed", report.failed)?,
                &record.error,
                &report_to_json(report)?,
                &self.account.as_str(),
            ],
        )?;
        let id: i64 = row.try_get(0)?;
        transaction.commit()?;
        Ok(Some(unsigned("import id", id)?))
    }

    fn import_history(&mut self) -> Result<Vec<ImportSummary>, PostgresError> {
        let sql =
            format!("SELECT {SUMMARY_COLUMNS} FROM imports WHERE account_id = $1 ORDER BY id DESC");
        let rows = self.client.query(&sql, &[&self.account.as_str()])?;
        rows.iter().map(summary_from_row).collect()
    }

    fn import_record(&mut self, id: ImportId) -> Result<Option<ImportRecord>, PostgresError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}, report::text FROM imports WHERE account_id = $1 AND id = $2"
        );
        let Some(row) = self
            .client
            .query_opt(&sql, &[&self.account.as_str(), &id])?
        else {
            return Ok(None);
        };
        let json: String = row.try_get(10)?;
        Ok(Some(record_from(summary_from_row(&row)?, &json)?))
    }
}

impl ContactScan for PostgresStore {
    /// Streams the contacts from the server (not all held at once). Phones
    /// are `+` and digits, which every collation orders as bytes do.
    fn scan(
        &mut self,
        visit: &mut dyn FnMut(&Contact) -> ControlFlow<()>,
    ) -> Result<(), PostgresError> {
        let sql = format!("{SELECT_CONTACTS} WHERE account_id = $1 ORDER BY phone");
        let mut rows = self
            .client
            .query_raw(&sql, std::iter::once(self.account.as_str()))?;
        while let Some(row) = rows.next()? {
            if visit(&contact_from_row(&row)?).is_break() {
                break;
            }
        }
        Ok(())
    }

    /// Evaluates the filter in SQL on the server (see the README's "Export
    /// and segments"): every condition but a non-empty `NameContains`, which
    /// is checked in Rust on the rows the SQL selects. Rows stream.
    fn scan_filtered(
        &mut self,
        filter: &Filter,
        visit: &mut dyn FnMut(&Contact) -> ControlFlow<()>,
    ) -> Result<(), PostgresError> {
        let condition = pushdown::condition(filter, &PostgresDialect);
        let sql = format!(
            "{SELECT_CONTACTS} WHERE {} AND ({}) ORDER BY phone",
            account_condition(&condition),
            condition.sql
        );
        let params = self.params_with_account(&condition)?;
        let mut rows = self
            .client
            .query_raw(&sql, params.iter().map(|p| p.as_ref()))?;
        while let Some(row) = rows.next()? {
            let contact = contact_from_row(&row)?;
            if (condition.exact || filter.matches(&contact)) && visit(&contact).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn count(&mut self, filter: &Filter) -> Result<u64, PostgresError> {
        let condition = pushdown::condition(filter, &PostgresDialect);
        if !condition.exact {
            return count_visits(|visit| self.scan_filtered(filter, visit));
        }
        let sql = format!(
            "SELECT count(*) FROM contacts WHERE {} AND ({})",
            account_condition(&condition),
            condition.sql
        );
        let params = self.params_with_account(&condition)?;
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
        let count: i64 = self.client.query_one(&sql, &params)?.get(0);
        Ok(unsigned("contact count", count)?)
    }
}

/// The account's condition, bound after the filter's parameters.
fn account_condition(condition: &pushdown::Condition) -> String {
    format!("account_id = ${}::text", condition.params.len() + 1)
}

impl PostgresStore {
    /// The filter's parameters, then the account (see [`account_condition`]).
    fn params_with_account(
        &self,
        condition: &pushdown::Condition,
    ) -> Result<Vec<Box<dyn ToSql + Sync>>, DecodeError> {
        let mut params = postgres_params(&condition.params)?;
        params.push(Box::new(self.account.as_str().to_owned()));
        Ok(params)
    }
}

struct PostgresDialect;

impl Dialect for PostgresDialect {
    fn placeholder(&self, n: usize, param: &Param) -> String {
        match param {
            Param::Text(_) => format!("${n}::text"),
            Param::Micros(_) => format!("${n}::timestamptz"),
        }
    }

    fn has_tag(&self, tag: &str) -> String {
        format!("tags @> jsonb_build_array({tag})")
    }

    fn attribute_equals(&self, key: &str, value: &str) -> String {
        format!("attributes @> jsonb_build_object({key}, {value})")
    }

    fn attribute_set(&self, key: &str) -> String {
        format!("coalesce(attributes ->> {key}, '') <> ''")
    }
}

fn postgres_params(params: &[Param]) -> Result<Vec<Box<dyn ToSql + Sync>>, DecodeError> {
    params
        .iter()
        .map(|param| -> Result<Box<dyn ToSql + Sync>, DecodeError> {
            Ok(match param {
                Param::Text(text) => Box::new(text.clone()),
                Param::Micros(micros) => {
                    let time =
                        Timestamp::from_microsecond(*micros).map_err(|e| DecodeError::Encode {
                            what: "a time in a filter",
                            reason: e.to_string(),
                        })?;
                    Box::new(system_time(time)?)
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::search_path_schemas;

    #[test]
    fn search_paths_are_split_as_postgresql_splits_them() {
        assert_eq!(
            search_path_schemas(r#""$user", public"#),
            ["$user", "public"]
        );
        assert_eq!(search_path_schemas("Acme ,public"), ["acme", "public"]);
        assert_eq!(
            search_path_schemas(r#""Big, ""Co""", public"#),
            [r#"Big, "Co""#, "public"]
        );
        assert!(search_path_schemas("").is_empty());
        assert_eq!(search_path_schemas(r#""""#), Vec::<String>::new());
    }
}
