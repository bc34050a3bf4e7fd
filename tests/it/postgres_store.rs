//! PostgresStore against a real server: set CONTACT_IMPORT_PG_URL (or run
//! `.ci/with-postgres cargo test --features postgres,testkit`). Without the
//! variable these tests are skipped with a note; with it, an unreachable
//! server fails them.
#![cfg(feature = "postgres")]

use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{assert_migrated_into_the_default_account, phone, postgres_url};
use contact_import::postgres::{Client, NoTls};
use contact_import::{
    Catalog, Contact, ContactStore, ImportEngine, ImportError, ImportOptions, Phone, PostgresError,
    PostgresStore, State, Stored, Timestamp, WriteBatch,
};

/// Schemas made by this test process, one per fresh store, dropped at the end.
struct Server {
    url: String,
    schemas: Vec<String>,
}

static NEXT_SCHEMA: AtomicUsize = AtomicUsize::new(0);

fn server() -> Option<Server> {
    postgres_url().map(|url| Server {
        url,
        schemas: Vec::new(),
    })
}

impl Server {
    fn client(&self) -> Client {
        Client::connect(&self.url, NoTls).unwrap_or_else(|e| {
            panic!(
                "CONTACT_IMPORT_PG_URL={} is set but unreachable: {e}",
                self.url
            )
        })
    }

    /// A client whose search_path is a new, empty schema.
    fn fresh_client(&mut self) -> Client {
        let n = NEXT_SCHEMA.fetch_add(1, Ordering::Relaxed);
        let schema = format!("contact_import_test_{}_{n}", std::process::id());
        let mut client = self.client();
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path TO {schema}"
            ))
            .unwrap();
        self.schemas.push(schema);
        client
    }

    fn fresh(&mut self) -> PostgresStore {
        PostgresStore::with_client(self.fresh_client()).unwrap()
    }

    /// A store on a new schema that writes each batch in halves on two
    /// connections.
    fn fresh_on_two_connections(&mut self) -> PostgresStore {
        let client = self.fresh_client();
        let schema = self.schemas.last().unwrap().clone();
        let second = self.client_in(&schema);
        PostgresStore::with_client(client)
            .unwrap()
            .with_second_client(second)
            .unwrap()
    }

    /// A store on a new schema whose tables are hash-partitioned by account.
    fn fresh_partitioned(&mut self) -> PostgresStore {
        let mut client = self.fresh_client();
        PostgresStore::create_partitioned_schema(&mut client, 4).unwrap();
        PostgresStore::with_client(client).unwrap()
    }

    /// A new client whose search_path is `search_path`.
    fn client_in(&self, search_path: &str) -> Client {
        let mut client = self.client();
        client
            .batch_execute(&format!("SET search_path TO {search_path}"))
            .unwrap();
        client
    }
}

/// The schema versions applied to `store`'s schema, in order.
fn schema_versions(store: &mut PostgresStore) -> Vec<i64> {
    store
        .client()
        .query(
            "SELECT version FROM contact_import_schema ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn search_path(client: &mut Client) -> String {
    client.query_one("SHOW search_path", &[]).unwrap().get(0)
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(mut client) = Client::connect(&self.url, NoTls) {
            for schema in &self.schemas {
                let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

fn engine() -> ImportEngine {
    ImportEngine::new(
        Catalog::new()
            .with_tags(["MBA", "Finance"])
            .with_attributes(["City"]),
        Timestamp::constant(1_750_000_000, 0),
    )
}

#[cfg(feature = "testkit")]
#[test]
fn postgres_passes_the_conformance_kit() {
    let Some(mut server) = server() else { return };
    let conformance = contact_import::testkit::check_store(|| server.fresh()).unwrap();
    crate::common::assert_database_conformance(conformance);
}

#[cfg(feature = "testkit")]
#[test]
fn postgres_segments_are_exactly_memory_store_segments() {
    let Some(mut server) = server() else { return };
    contact_import::testkit::check_filtered_scan(|| server.fresh(), 64).unwrap();
}

#[cfg(feature = "testkit")]
#[test]
fn the_schema_is_created_once_and_data_survives_reconnecting() {
    let Some(mut server) = server() else { return };
    let path = search_path(&mut server.fresh_client());
    contact_import::testkit::check_reopen(|| {
        PostgresStore::with_client(server.client_in(&path)).unwrap()
    })
    .unwrap();
    let mut store = PostgresStore::with_client(server.client_in(&path)).unwrap();
    let versions: i64 = store
        .client()
        .query_one("SELECT count(*) FROM contact_import_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(versions, 5, "each of the five schema versions applied once");
}

#[test]
fn an_older_schema_gains_the_filter_indexes() {
    let Some(mut server) = server() else { return };
    // A schema as the first version left it.
    let mut client = server.fresh_client();
    client
        .batch_execute(&format!(
            "{SCHEMA_V1}
             CREATE TABLE contact_import_schema (version bigint PRIMARY KEY);
             INSERT INTO contact_import_schema VALUES (1);"
        ))
        .unwrap();
    let mut store = PostgresStore::with_client(client).unwrap();
    let indexes: i64 = store
        .client()
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()
             AND tablename = 'contacts' AND indexname <> 'contacts_pkey'",
            &[],
        )
        .unwrap()
        .get(0);
    // The five B-trees of version 2 (leading with the account since
    // version 3); version 5 drops its two GIN indexes.
    assert_eq!(indexes, 5);
}

#[test]
fn a_schema_newer_than_the_crate_is_refused() {
    let Some(mut server) = server() else { return };
    let mut store = server.fresh();
    store
        .client()
        .execute(
            "INSERT INTO contact_import_schema (version) VALUES (99)",
            &[],
        )
        .unwrap();
    let search_path: String = store
        .client()
        .query_one("SHOW search_path", &[])
        .unwrap()
        .get(0);
    let mut client = server.client();
    client
        .batch_execute(&format!("SET search_path TO {search_path}"))
        .unwrap();
    match PostgresStore::with_client(client) {
        Err(PostgresError::NewerSchema { found: 99, .. }) => {}
        other => panic!("expected NewerSchema, got {other:?}"),
    }
}

/// The engine never sends a phone twice in a batch, but a caller might: the
/// store must not break on it ("cannot affect row a second time"); the
/// first create lands and the second conflicts, as written one by one.
#[test]
fn a_phone_twice_in_one_batch_gives_the_sequential_result() {
    let Some(mut server) = server() else { return };
    a_phone_twice_in_one_batch(server.fresh());
}

/// On two connections the phone's two creates stay in one half: in two,
/// the second would wait for the first until its lock timeout.
#[test]
fn a_phone_twice_in_one_batch_on_two_connections_gives_the_sequential_result() {
    let Some(mut server) = server() else { return };
    a_phone_twice_in_one_batch(server.fresh_on_two_connections());
}

fn a_phone_twice_in_one_batch(mut store: PostgresStore) {
    let p = phone("+919876543452");
    let t1 = Timestamp::constant(1_600_000_000, 0);
    let mut first = Contact::new(p, "First".into(), t1);
    first.last_active = Some(t1);
    first.state = Some(State::Closed);
    let mut second = Contact::new(p, "Second".into(), Timestamp::constant(1_700_000_000, 0));
    second.source = Some("API".into());
    let batch = WriteBatch {
        create: vec![first.clone(), second],
        update: Vec::new(),
    };
    let conflicts = store.write_batch(batch).unwrap();
    assert_eq!(conflicts, [p]);
    assert_eq!(store.get(&p).unwrap().unwrap(), first);
}

/// A time is kept to the whole microsecond, the digits past it dropped
/// toward 1970 as `SqliteStore` drops them, before 1970 and 2000 (the
/// epochs of Unix and of PostgreSQL) as after.
#[test]
fn times_are_kept_to_the_microsecond_on_either_side_of_both_epochs() {
    let Some(mut server) = server() else { return };
    let mut store = server.fresh();
    let times = [
        Timestamp::new(-86_400, -123_456_789).unwrap(),
        Timestamp::new(946_684_799, 123_456_789).unwrap(),
        Timestamp::new(946_684_800, 999).unwrap(),
        Timestamp::new(1_750_000_000, 987_654_321).unwrap(),
    ];
    let contacts: Vec<Contact> = times
        .iter()
        .enumerate()
        .map(|(i, &time)| {
            let mut contact = Contact::new(phone(&format!("+9198765434{i:02}")), "A".into(), time);
            contact.last_active = Some(time);
            contact
        })
        .collect();
    let batch = WriteBatch {
        create: contacts.clone(),
        update: Vec::new(),
    };
    assert_eq!(store.write_batch(batch).unwrap(), []);
    for (contact, time) in contacts.iter().zip(times) {
        let kept = Timestamp::from_microsecond(time.as_microsecond()).unwrap();
        let stored = store.get(&contact.phone).unwrap().unwrap();
        assert_eq!(
            (stored.created_at, stored.last_active),
            (kept, Some(kept)),
            "{time}"
        );
    }
}

#[cfg(feature = "testkit")]
#[test]
fn a_failing_batch_leaves_nothing_and_the_import_is_recorded_with_its_error() {
    let Some(mut server) = server() else { return };
    let mut store = server.fresh();
    contact_import::testkit::check_failing_batch(&mut store, |store, phone, message| {
        refuse_by_trigger(store, phone.as_str(), message);
    })
    .unwrap();
}

/// Makes the server refuse, with `message`, every insert of `phone`.
#[cfg(feature = "testkit")]
fn refuse_by_trigger(store: &mut PostgresStore, phone: &str, message: &str) {
    let trigger = format!(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION '{message}'; END $$;
         CREATE TRIGGER refuse BEFORE INSERT ON contacts FOR EACH ROW
         WHEN (NEW.phone = '{phone}') EXECUTE FUNCTION refuse();"
    );
    store.client().batch_execute(&trigger).unwrap();
}

#[cfg(feature = "testkit")]
#[test]
fn postgres_on_two_connections_passes_the_conformance_kit() {
    let Some(mut server) = server() else { return };
    let conformance =
        contact_import::testkit::check_store(|| server.fresh_on_two_connections()).unwrap();
    crate::common::assert_database_conformance(conformance);
}

/// The check refuses the 15th row's phone, which the first connection
/// writes (its half holds rows 11 to 15 of the batch of 10, sorted by
/// phone); the trigger here refuses the 18th row's instead, in the half
/// the second connection writes. The first half, written and not yet
/// committed, must go too.
#[cfg(feature = "testkit")]
#[test]
fn a_failing_half_batch_on_two_connections_leaves_nothing_of_the_batch() {
    let Some(mut server) = server() else { return };
    let mut store = server.fresh_on_two_connections();
    contact_import::testkit::check_failing_batch(&mut store, |store, phone, message| {
        let fifteenth = phone.as_str();
        assert!(fifteenth.ends_with("14"), "{fifteenth}");
        let eighteenth = format!("{}17", &fifteenth[..fifteenth.len() - 2]);
        refuse_by_trigger(store, &eighteenth, message);
    })
    .unwrap();
}

#[test]
fn an_import_on_two_connections_stores_what_one_connection_stores() {
    let Some(mut server) = server() else { return };
    let file = contact_import::generate::RealisticFile::new(5_000).to_bytes();
    let engine = engine_with(ImportOptions::new().with_batch_size(700));
    let mut one = server.fresh();
    let mut two = server.fresh_on_two_connections();
    let report_one = engine.import_bytes(&file[..], &mut one).unwrap();
    let report_two = engine.import_bytes(&file[..], &mut two).unwrap();
    assert!(report_two.added > 4_000, "{report_two:?}");
    assert_eq!(report_two, report_one);
    assert_eq!(contacts_of(&mut two), contacts_of(&mut one));
    // Again: every batch is fetched whole (in halves, on two connections)
    // and its changes are updates only.
    let again_one = engine.import_bytes(&file[..], &mut one).unwrap();
    let again_two = engine.import_bytes(&file[..], &mut two).unwrap();
    assert!(
        again_two.updated > 100 && again_two.added == 0,
        "{again_two:?}"
    );
    assert_eq!(again_two, again_one);
    assert_eq!(contacts_of(&mut two), contacts_of(&mut one));
}

#[test]
fn a_second_client_on_another_schema_is_refused() {
    let Some(mut server) = server() else { return };
    let store = server.fresh();
    let elsewhere = server.fresh_client();
    let error = store.with_second_client(elsewhere).unwrap_err();
    assert!(
        matches!(error, PostgresError::SecondClientElsewhere { .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("contact_import_test_"), "{message}");
    assert!(message.contains("same search_path"), "{message}");
}

#[cfg(feature = "testkit")]
#[test]
fn scan_lists_what_memory_store_lists_in_phone_order() {
    let Some(mut server) = server() else { return };
    contact_import::testkit::check_scan(&mut server.fresh()).unwrap();
}

/// A PostgresStore whose connection is terminated by the server (from a
/// second connection, `pg_terminate_backend`) just before batch `drop_on`.
struct DroppedConnection {
    inner: PostgresStore,
    killer: Client,
    pid: i32,
    drop_on: usize,
    writes: usize,
}

impl ContactStore for DroppedConnection {
    type Error = PostgresError;

    fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Stored>) -> Result<(), PostgresError> {
        self.inner.fetch(phones, found)
    }

    fn write_batch(&mut self, batch: WriteBatch) -> Result<Vec<Phone>, PostgresError> {
        self.writes += 1;
        if self.writes == self.drop_on {
            // Waits (up to 5 s) until the backend is gone.
            let gone: bool = self
                .killer
                .query_one("SELECT pg_terminate_backend($1, 5000)", &[&self.pid])
                .unwrap()
                .get(0);
            assert!(gone, "the import's backend was not terminated");
        }
        self.inner.write_batch(batch)
    }
}

fn contacts_of(store: &mut impl contact_import::ContactScan) -> Vec<Contact> {
    let mut all = Vec::new();
    store
        .scan(&mut |c| {
            all.push(c.clone());
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    all
}

fn engine_with(options: ImportOptions) -> ImportEngine {
    engine().with_options(options)
}

fn memory_import(engine: &ImportEngine, file: &str) -> Vec<Contact> {
    let mut store = contact_import::MemoryStore::new();
    engine.import_bytes(file.as_bytes(), &mut store).unwrap();
    store.contacts().into_iter().cloned().collect()
}

/// 55 rows in batches of 10, phones repeated across batches, some failing
/// rows; the connection drops before batch k, for every k.
#[test]
fn a_dropped_connection_keeps_the_committed_batches_and_importing_again_completes() {
    let Some(mut server) = server() else { return };
    check_dropped_connection(&mut server, |server| {
        let mut store = server.fresh();
        let pid = backend_pid(store.client());
        (store, pid)
    });
}

/// The same when the connection that drops is the second of a store that
/// writes each batch in halves on two: batch k fails whole, with the
/// connection's error, though the first connection is still there.
#[test]
fn a_dropped_second_connection_keeps_the_committed_batches_and_importing_again_completes() {
    let Some(mut server) = server() else { return };
    check_dropped_connection(&mut server, |server| {
        let client = server.fresh_client();
        let schema = server.schemas.last().unwrap().clone();
        let mut second = server.client_in(&schema);
        let pid = backend_pid(&mut second);
        let store = PostgresStore::with_client(client)
            .unwrap()
            .with_second_client(second)
            .unwrap();
        (store, pid)
    });
}

fn backend_pid(client: &mut Client) -> i32 {
    client
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0)
}

/// The dropped-connection check on the stores `open` makes, each with the
/// backend to terminate.
fn check_dropped_connection(
    server: &mut Server,
    open: impl Fn(&mut Server) -> (PostgresStore, i32),
) {
    let header = "Name,Phone,Tags,City";
    let rows: Vec<String> = (0..55)
        .map(|i| {
            let phone = if i % 7 == 6 {
                "12345".to_owned()
            } else {
                format!("98000000{:02}", i % 40)
            };
            let tags = ["MBA", "", "Finance | MBA"][i % 3];
            let city = ["Delhi", "Pune", ""][(i / 3) % 3];
            format!("Person {i},{phone},{tags},{city}")
        })
        .collect();
    let file = format!("{header}\n{}\n", rows.join("\n"));
    let options = ImportOptions::new().with_batch_size(10);
    let engine = engine_with(options.clone());
    let uninterrupted = memory_import(&engine, &file);

    for k in 1..=6 {
        let (mut inner, pid) = open(server);
        let search_path: String = inner
            .client()
            .query_one("SHOW search_path", &[])
            .unwrap()
            .get(0);
        let mut store = DroppedConnection {
            inner,
            killer: server.client(),
            pid,
            drop_on: k,
            writes: 0,
        };
        let error = engine
            .import_bytes(file.as_bytes(), &mut store)
            .unwrap_err();
        let ImportError::Store { error, report } = error else {
            panic!("k = {k}: expected a store error, got {error:?}");
        };
        assert!(
            error.to_string().contains("terminat") || error.to_string().contains("closed"),
            "k = {k}: the error does not say the connection went: {error}"
        );
        let expected_last = (k > 1).then(|| 1 + 10 * (k as u64 - 1));
        assert_eq!(report.last_row, expected_last, "k = {k}");

        // The committed batches are intact: exactly the rows up to last_row.
        let mut client = server.client();
        client
            .batch_execute(&format!("SET search_path TO {search_path}"))
            .unwrap();
        let mut store = PostgresStore::with_client(client).unwrap();
        let held = report.last_row.map_or(0, |row| row as usize - 1);
        let prefix = format!("{header}\n{}\n", rows[..held].join("\n"));
        assert_eq!(
            contacts_of(&mut store),
            memory_import(&engine, &prefix),
            "k = {k}"
        );

        // Importing again (resumed for odd k, the whole file for even k)
        // ends as the uninterrupted import.
        let resume_after_row = report.last_row.filter(|_| k % 2 == 1);
        let again = engine_with(options.clone().with_resume_after_row(resume_after_row));
        again.import_bytes(file.as_bytes(), &mut store).unwrap();
        assert_eq!(contacts_of(&mut store), uninterrupted, "k = {k}");
    }
}

/// The schema of version 1 as contact-import made it before accounts,
/// copied verbatim from `src/store/postgres.rs` at commit 6cda2ee.
const SCHEMA_V1: &str = "
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
";

/// Version 2 of the same.
const SCHEMA_V2: &str = "
CREATE INDEX contacts_tags ON contacts USING GIN (tags);
CREATE INDEX contacts_attributes ON contacts USING GIN (attributes);
CREATE INDEX contacts_source ON contacts (source);
CREATE INDEX contacts_first_message ON contacts (first_message);
CREATE INDEX contacts_state ON contacts (state);
CREATE INDEX contacts_created_at ON contacts (created_at);
CREATE INDEX contacts_last_active ON contacts (last_active);
";

#[test]
fn a_v2_schema_migrates_with_its_data_into_the_default_account() {
    let Some(mut server) = server() else { return };
    let mut client = server.fresh_client();
    let path = search_path(&mut client);
    let mut memory = contact_import::MemoryStore::new();
    let file = "Name,Phone,Tags,City\nMohit Dua,9876543452,MBA,Delhi\nAsha,9000012345,Finance,\nBad,123,,\n";
    let mut old_import = engine()
        .import_recorded("old.csv", Cursor::new(file), &mut memory, |_| {})
        .unwrap();
    client
        .batch_execute(&format!(
            "{SCHEMA_V1}{SCHEMA_V2}
             CREATE TABLE contact_import_schema (version bigint PRIMARY KEY);
             INSERT INTO contact_import_schema VALUES (1), (2);
             INSERT INTO contacts (phone, name, tags, source, first_message, attributes, created_at, last_active, state)
             VALUES ('+919876543452', 'Mohit Dua', '[\"MBA\"]', 'IMPORT', 'MBA', '{{\"City\": \"Delhi\"}}',
                     '2025-06-15T15:06:40Z', '2025-10-09T08:53:20Z', 'Intervened'),
                    ('+919000012345', 'Asha', '[\"Finance\"]', 'IMPORT', NULL, '{{}}',
                     '2025-06-15T15:06:40Z', NULL, NULL);
             INSERT INTO catalog_tags (name) VALUES ('MBA'), ('Finance');
             INSERT INTO catalog_attributes (name) VALUES ('City');"
        ))
        .unwrap();
    let report = serde_json::to_string(&old_import.report).unwrap();
    let id: i64 = client
        .query_one(
            "INSERT INTO imports (file_name, started_at, finished_at, rows_read, rows_added, rows_updated, rows_unchanged, rows_failed, error, report)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9::text::jsonb) RETURNING id",
            &[
                &old_import.file_name,
                &std::time::SystemTime::try_from(old_import.started_at).unwrap(),
                &std::time::SystemTime::try_from(old_import.finished_at).unwrap(),
                &(old_import.report.rows as i64),
                &(old_import.report.added as i64),
                &(old_import.report.updated as i64),
                &(old_import.report.unchanged as i64),
                &(old_import.report.failed as i64),
                &report,
            ],
        )
        .unwrap()
        .get(0);
    old_import.id = id as u64;

    let mut store = PostgresStore::with_client(client).unwrap();
    assert_eq!(store.account().as_str(), "default");
    assert_eq!(schema_versions(&mut store), [1, 2, 3, 4, 5]);
    // Another account of the same schema starts empty; the same phone there
    // is a second contact.
    let mut acme = PostgresStore::with_client(server.client_in(&path))
        .unwrap()
        .for_account("acme".parse().unwrap());
    assert_migrated_into_the_default_account(&mut store, &mut acme, &old_import, &engine(), file);
}

#[cfg(feature = "testkit")]
#[test]
fn postgres_accounts_share_nothing() {
    let Some(mut server) = server() else { return };
    let path = search_path(&mut server.fresh_client());
    contact_import::testkit::check_account_isolation(|account| {
        PostgresStore::with_client(server.client_in(&path))
            .unwrap()
            .for_account(account.clone())
    })
    .unwrap();
}

/// Both halves of a batch are written for the handle's account.
#[cfg(feature = "testkit")]
#[test]
fn postgres_accounts_on_two_connections_share_nothing() {
    let Some(mut server) = server() else { return };
    let path = search_path(&mut server.fresh_client());
    contact_import::testkit::check_account_isolation(|account| {
        PostgresStore::with_client(server.client_in(&path))
            .unwrap()
            .with_second_client(server.client_in(&path))
            .unwrap()
            .for_account(account.clone())
    })
    .unwrap();
}

#[cfg(feature = "testkit")]
#[test]
fn postgres_passes_the_testkit_on_tables_partitioned_by_account() {
    let Some(mut server) = server() else { return };
    let conformance = contact_import::testkit::check_store(|| server.fresh_partitioned()).unwrap();
    crate::common::assert_database_conformance(conformance);
    contact_import::testkit::check_filtered_scan(|| server.fresh_partitioned(), 32).unwrap();

    let mut store = server.fresh_partitioned();
    let path = search_path(store.client());
    contact_import::testkit::check_account_isolation(|account| {
        PostgresStore::with_client(server.client_in(&path))
            .unwrap()
            .for_account(account.clone())
    })
    .unwrap();

    // The tables are partitioned, and PostgreSQL holds them to Citus's
    // rule: a unique constraint without the account is refused.
    let partitioned: i64 = store
        .client()
        .query_one(
            "SELECT count(*) FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
             WHERE c.relnamespace = current_schema()::regnamespace",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(partitioned, 4);
    let error = store
        .client()
        .batch_execute("ALTER TABLE contacts ADD UNIQUE (phone)")
        .unwrap_err();
    assert!(
        error.to_string().contains("partition") || format!("{error:?}").contains("partition"),
        "{error:?}"
    );
}

/// Columns, keys and indexes of the store's tables in `client`'s schema,
/// without the schema's name, ONLY (of partitioned tables) or column order.
fn schema_shape(client: &mut Client) -> Vec<String> {
    let mut shape: Vec<String> = client
        .query(
            "SELECT format('column %s.%s %s %s %s', table_name, column_name, data_type, is_nullable,
                           coalesce(column_default, ''))
             FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name !~ '_p[0-9]+$' AND table_name <> 'contact_import_schema'
             UNION ALL
             SELECT format('constraint %s %s', conrelid::regclass::text, pg_get_constraintdef(oid))
             FROM pg_constraint WHERE connamespace = current_schema()::regnamespace AND conparentid = 0
               AND conrelid::regclass::text !~ '_p[0-9]+$' AND conrelid::regclass::text <> 'contact_import_schema'
             UNION ALL
             SELECT format('index %s', replace(replace(indexdef, ' ONLY ', ' '), current_schema() || '.', ''))
             FROM pg_indexes WHERE schemaname = current_schema() AND tablename !~ '_p[0-9]+$'
               AND tablename <> 'contact_import_schema'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    shape.sort();
    shape
}

/// The partitioned tables are written apart from the migrations: they must
/// be what the migrations leave.
#[test]
fn the_partitioned_schema_is_the_migrated_schema() {
    let Some(mut server) = server() else { return };
    let mut plain = server.fresh();
    let mut partitioned = server.fresh_partitioned();
    let plain = schema_shape(plain.client());
    assert!(
        plain
            .iter()
            .any(|s| s.contains("PRIMARY KEY (account_id, phone)")),
        "{plain:#?}"
    );
    assert_eq!(schema_shape(partitioned.client()), plain);
}

#[test]
fn a_search_path_whose_first_schema_is_missing_is_refused() {
    let Some(server) = server() else { return };
    let missing = format!("contact_import_missing_{}", std::process::id());
    let client = server.client_in(&format!("{missing}, public"));
    match PostgresStore::with_client(client) {
        Err(error @ PostgresError::MissingSchema { .. }) => {
            let message = error.to_string();
            assert!(
                message.contains(&missing) && message.contains("CREATE SCHEMA"),
                "{message}"
            );
        }
        other => panic!("expected MissingSchema, got {other:?}"),
    }
    let mut client = server.client_in(&format!("{missing}, public"));
    assert!(matches!(
        PostgresStore::create_partitioned_schema(&mut client, 2),
        Err(PostgresError::MissingSchema { .. })
    ));
}

#[test]
fn a_v3_schema_migrates_with_every_opt_in_unknown_and_keeps_opt_outs_its_service_writes() {
    use contact_import::ContactScan;
    let Some(mut server) = server() else { return };
    // A v3 schema with data: today's tables with versions 4 and 5 undone.
    let mut old = server.fresh();
    let path = search_path(old.client());
    let file = "Name,Phone,Tags,City\nMohit Dua,9876543452,MBA,Delhi\nAsha,9000012345,Finance,\n";
    engine().import_bytes(file.as_bytes(), &mut old).unwrap();
    old.client()
        .batch_execute(
            "UPDATE contacts SET state = 'Intervened' WHERE phone = '+919876543452';
             ALTER TABLE contacts DROP COLUMN opt_in;
             CREATE INDEX contacts_tags ON contacts USING GIN (tags);
             CREATE INDEX contacts_attributes ON contacts USING GIN (attributes);
             DELETE FROM contact_import_schema WHERE version >= 4;",
        )
        .unwrap();
    drop(old);

    let mut store = PostgresStore::with_client(server.client_in(&path)).unwrap();
    assert_eq!(schema_versions(&mut store), [1, 2, 3, 4, 5]);
    let mohit = store.get(&phone("+919876543452")).unwrap().unwrap();
    assert_eq!((mohit.opt_in, mohit.state), (None, Some(State::Intervened)));
    assert_eq!(mohit.attributes.get("City"), Some("Delhi"));
    assert_eq!(
        store.get(&phone("+919000012345")).unwrap().unwrap().opt_in,
        None
    );

    // The service records a STOP in plain SQL; an import that says yes keeps it.
    let yes = b"Name,Phone,Opt-in\nMohit Dua,9876543452,yes\n";
    engine().import_bytes(yes, &mut store).unwrap();
    assert_eq!(
        store.get(&phone("+919876543452")).unwrap().unwrap().opt_in,
        Some(true)
    );
    store
        .client()
        .execute(
            "UPDATE contacts SET opt_in = false WHERE account_id = 'default' AND phone = '+919876543452'",
            &[],
        )
        .unwrap();
    crate::common::assert_sql_opt_out_kept(&mut store, &engine());
    let opted_in = store.count(&contact_import::Filter::opted_in()).unwrap();
    assert_eq!(opted_in, 0);
    let unknown = store.count(&contact_import::Filter::opt_in(None)).unwrap();
    assert_eq!(unknown, 1);
}

#[test]
fn the_history_compresses_reports_with_lz4_when_the_server_offers_it() {
    let Some(mut server) = server() else { return };
    let mut store = server.fresh();
    let offered: i64 = store
        .client()
        .query_one(
            "SELECT count(*) FROM pg_settings
             WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)",
            &[],
        )
        .unwrap()
        .get(0);
    // A report large enough to be compressed (TOAST compresses past 2 kB).
    let mut file = String::from("Name,Phone\n");
    for n in 0..2_000 {
        file.push_str(&format!("Person {n},98{n:08}\n"));
    }
    let record = engine()
        .import_recorded("big.csv", Cursor::new(file), &mut store, |_| {})
        .unwrap();
    let row = store
        .client()
        .query_one(
            "SELECT pg_column_compression(report) FROM imports WHERE id = $1",
            &[&(record.id as i64)],
        )
        .unwrap();
    let expected = if offered > 0 { "lz4" } else { "pglz" };
    assert_eq!(row.get::<_, Option<String>>(0).as_deref(), Some(expected));
    // And the session's own setting is left as it was.
    let setting: String = store
        .client()
        .query_one("SHOW default_toast_compression", &[])
        .unwrap()
        .get(0);
    assert_eq!(setting, "pglz");
    let again = store.import_record(record.id).unwrap().unwrap();
    assert_eq!(again.report, record.report);
}
