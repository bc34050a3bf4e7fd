//! PostgresStore against a real server: set CONTACT_IMPORT_PG_URL (or run
//! `.ci/with-postgres cargo test --features postgres,testkit`). Without the
//! variable these tests are skipped with a note; with it, an unreachable
//! server fails them.
#![cfg(feature = "postgres")]

use std::io::{Cursor, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

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
    match std::env::var("CONTACT_IMPORT_PG_URL") {
        Ok(url) if !url.is_empty() => Some(Server {
            url,
            schemas: Vec::new(),
        }),
        _ => {
            // Straight to stderr, past the test harness's capture.
            let _ = writeln!(
                std::io::stderr(),
                "note: CONTACT_IMPORT_PG_URL is not set: PostgreSQL test skipped (see the README)"
            );
            None
        }
    }
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

fn phone(e164: &str) -> Phone {
    Phone::parse_e164(e164).unwrap()
}

#[cfg(feature = "testkit")]
#[test]
fn postgres_passes_the_conformance_kit() {
    let Some(mut server) = server() else { return };
    let conformance = contact_import::testkit::check_store(|| server.fresh()).unwrap();
    assert!(conformance.keeps_catalog);
    assert!(conformance.keeps_history);
    assert!(
        conformance.refused_batch,
        "the empty-name contact must be refused"
    );
}

#[cfg(feature = "testkit")]
#[test]
fn postgres_segments_are_exactly_memory_store_segments() {
    let Some(mut server) = server() else { return };
    contact_import::testkit::check_filtered_scan(|| server.fresh(), 64).unwrap();
}

#[test]
fn the_schema_is_created_once_and_data_survives_reconnecting() {
    let Some(mut server) = server() else { return };
    let mut client = server.fresh_client();
    let search_path: String = client.query_one("SHOW search_path", &[]).unwrap().get(0);
    let file = "Name,Phone,Tags,City\nMohit Dua,9876543452,MBA,Delhi\nAsha,9000012345,,\n";
    let first = {
        let mut store = PostgresStore::with_client(client).unwrap();
        store
            .add_to_catalog(&Catalog::new().with_tags(["MBA"]))
            .unwrap();
        engine()
            .import_recorded("a.csv", Cursor::new(file), &mut store, |_| {})
            .unwrap()
    };
    let mut client = server.client();
    client
        .batch_execute(&format!("SET search_path TO {search_path}"))
        .unwrap();
    let mut store = PostgresStore::with_client(client).unwrap();
    assert_eq!(store.len().unwrap(), 2);
    assert_eq!(
        store.load_catalog().unwrap(),
        Catalog::new().with_tags(["MBA"])
    );
    assert_eq!(store.import(first.id).unwrap(), Some(first.clone()));
    let again = engine()
        .import_recorded("a.csv", Cursor::new(file), &mut store, |_| {})
        .unwrap();
    assert_eq!(
        (
            again.report.added,
            again.report.updated,
            again.report.unchanged
        ),
        (0, 0, 2),
        "the contacts are stored already"
    );
    let versions: i64 = store
        .client()
        .query_one("SELECT count(*) FROM contact_import_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(versions, 2, "each of the two schema versions applied once");
}

#[test]
fn an_older_schema_gains_the_filter_indexes() {
    let Some(mut server) = server() else { return };
    let mut client = server.fresh_client();
    let search_path: String = client.query_one("SHOW search_path", &[]).unwrap().get(0);
    let store = PostgresStore::with_client(client).unwrap();
    drop(store);
    // A schema as the first version left it.
    let mut client = server.client();
    client
        .batch_execute(&format!(
            "SET search_path TO {search_path};
             DROP INDEX contacts_tags, contacts_attributes, contacts_source, contacts_first_message,
                        contacts_state, contacts_created_at, contacts_last_active;
             DELETE FROM contact_import_schema WHERE version = 2;"
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
    assert_eq!(indexes, 7);
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
    let mut store = server.fresh();
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

/// 30 rows in batches of 10; a trigger refuses the 15th row's phone.
#[test]
fn a_failing_batch_leaves_nothing_and_the_import_is_recorded_with_its_error() {
    let Some(mut server) = server() else { return };
    let mut store = server.fresh();
    store
        .client()
        .batch_execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
             CREATE TRIGGER refuse BEFORE INSERT ON contacts FOR EACH ROW
             WHEN (NEW.phone = '+919800000014') EXECUTE FUNCTION refuse();",
        )
        .unwrap();
    let mut file = String::from("Name,Phone\n");
    for i in 0..30 {
        file.push_str(&format!("Person {i},98000000{i:02}\n"));
    }
    let engine = engine().with_options(ImportOptions {
        batch_size: 10,
        ..ImportOptions::default()
    });
    let error = engine
        .import_recorded("big.csv", Cursor::new(file), &mut store, |_| {})
        .unwrap_err();
    let ImportError::Store { report, .. } = &error else {
        panic!("expected a store error, got {error:?}");
    };
    assert_eq!((report.last_row, report.added), (Some(11), 10));
    assert_eq!(store.len().unwrap(), 10);
    assert!(store.get(&phone("+919800000010")).unwrap().is_none());
    let history = store.imports().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].added, 10);
    assert!(
        history[0]
            .error
            .as_deref()
            .unwrap()
            .contains("refused by the test")
    );
}

/// Export and segments list contacts through ContactScan: in phone order,
/// the same contacts as MemoryStore, stopping when the visitor says so.
#[test]
fn scan_lists_what_memory_store_lists_in_phone_order() {
    use contact_import::{ContactScan, Filter, MemoryStore};
    use std::ops::ControlFlow;

    let Some(mut server) = server() else { return };
    let mut store = server.fresh();
    let mut reference = MemoryStore::new();
    let file = "Name,Phone,Tags\nMohit Dua,9876543452,MBA\nAsha,+1 415 555 2671,Finance\nRavi,9000012345,\n";
    engine().import_bytes(file.as_bytes(), &mut store).unwrap();
    engine()
        .import_bytes(file.as_bytes(), &mut reference)
        .unwrap();

    let mut listed = Vec::new();
    store
        .scan(&mut |c| {
            listed.push(c.clone());
            ControlFlow::Continue(())
        })
        .unwrap();
    let expected: Vec<Contact> = reference.contacts().into_iter().cloned().collect();
    assert_eq!(listed, expected);

    let mut first = Vec::new();
    store
        .scan(&mut |c| {
            first.push(c.phone);
            ControlFlow::Break(())
        })
        .unwrap();
    assert_eq!(first, vec![expected[0].phone]);
    assert_eq!(store.count(&Filter::any_tag(["MBA"])).unwrap(), 1);
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
    let options = ImportOptions {
        batch_size: 10,
        ..ImportOptions::default()
    };
    let engine = engine_with(options.clone());
    let uninterrupted = memory_import(&engine, &file);

    for k in 1..=6 {
        let mut inner = server.fresh();
        let pid: i32 = inner
            .client()
            .query_one("SELECT pg_backend_pid()", &[])
            .unwrap()
            .get(0);
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
        let again = engine_with(ImportOptions {
            resume_after_row,
            ..options.clone()
        });
        again.import_bytes(file.as_bytes(), &mut store).unwrap();
        assert_eq!(contacts_of(&mut store), uninterrupted, "k = {k}");
    }
}
