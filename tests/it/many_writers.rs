//! Many writers on one contact book: imports beside other imports, agents
//! editing contacts and the messaging service, in MemoryStore (threads),
//! SQLite (connections of their own) and PostgreSQL (sessions of their own;
//! set CONTACT_IMPORT_PG_URL, or run `.ci/with-postgres cargo test
//! --all-features`). A write never overwrites a change it did not see.

use std::io::Cursor;

use crate::common::phone;
use contact_import::{
    Catalog, ContactStore, ImportEngine, ImportError, ImportOptions, MemoryStore, Phone, Stored,
    Tag, Timestamp, WriteBatch,
};

/// How many stored phones the racing imports and the editor share.
#[cfg(feature = "testkit")]
const RACE_PHONES: u32 = 50_000;

/// Races the importers against `editor` on [`RACE_PHONES`] stored phones
/// and checks that the writers did race (at least one conflict).
#[cfg(feature = "testkit")]
fn assert_race<S, O>(open: O, editor: contact_import::testkit::Editor<'_, S>)
where
    S: ContactStore + Send,
    O: Fn() -> S + Sync,
{
    let race = contact_import::testkit::check_racing_writers(open, RACE_PHONES, editor).unwrap();
    assert!(race.conflicts() > 0, "the writers never raced: {race:?}");
}

fn engine() -> ImportEngine {
    let catalog = Catalog::new().with_tags(["MBA", "Finance", "VIP"]);
    ImportEngine::new(catalog, Timestamp::constant(1_750_000_000, 0))
}

fn tags(store: &mut impl ContactStore, e164: &str) -> Vec<String> {
    let contact = store.get(&phone(e164)).unwrap().unwrap();
    contact.tags.iter().map(|t| t.as_str().to_owned()).collect()
}

/// A MemoryStore that lets another writer in between the engine's fetch
/// and its write: before each of the first `interrupt` writes, `edit` runs
/// on the book, as an agent's edit landing at that moment would.
struct Interrupted<F> {
    inner: MemoryStore,
    edit: F,
    interrupt: usize,
}

impl<F: FnMut(&mut MemoryStore)> ContactStore for Interrupted<F> {
    type Error = std::convert::Infallible;

    fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Stored>) -> Result<(), Self::Error> {
        self.inner.fetch(phones, found)
    }

    fn write_batch(&mut self, batch: WriteBatch) -> Result<Vec<Phone>, Self::Error> {
        if self.interrupt > 0 {
            self.interrupt -= 1;
            (self.edit)(&mut self.inner);
        }
        self.inner.write_batch(batch)
    }
}

fn add_tag(store: &mut MemoryStore, e164: &str, tag: &str) {
    assert!(store.update(&phone(e164), |c| c.tags.push(Tag::new(tag))));
}

#[test]
fn an_edit_between_fetch_and_write_is_merged_not_overwritten() {
    let engine = engine();
    let mut inner = MemoryStore::new();
    engine
        .import_bytes(
            b"Name,Phone\nAsha,9876543210\nRavi,9876543211\n",
            &mut inner,
        )
        .unwrap();
    let mut store = Interrupted {
        inner,
        edit: |book: &mut MemoryStore| {
            add_tag(book, "+919876543210", "VIP");
            book.update(&phone("+919876543211"), |c| {
                c.attributes.set("email".into(), "ravi@example.com".into())
            });
        },
        interrupt: 1,
    };
    let file = "Name,Phone,Tags\nAsha Rao,9876543210,MBA\nRavi,9876543211,Finance\n";
    let report = engine.import_bytes(file.as_bytes(), &mut store).unwrap();
    assert_eq!((report.added, report.updated, report.unchanged), (0, 2, 0));
    assert_eq!(report.conflicts, 2, "both contacts were merged again");
    assert_eq!(tags(&mut store.inner, "+919876543210"), ["VIP", "MBA"]);
    let ravi = store.inner.contact(&phone("+919876543211")).unwrap();
    assert_eq!(ravi.attributes.get("email"), Some("ravi@example.com"));
    assert!(ravi.has_tag("Finance"));
}

#[test]
fn a_phone_another_writer_added_first_is_updated_not_added() {
    let engine = engine();
    let mut store = Interrupted {
        inner: MemoryStore::new(),
        edit: |book: &mut MemoryStore| {
            let mut asha = contact_import::Contact::new(
                phone("+919876543210"),
                "Asha".into(),
                Timestamp::UNIX_EPOCH,
            );
            asha.tags.push(Tag::new("VIP"));
            book.insert(asha);
        },
        interrupt: 1,
    };
    let file =
        "Name,Phone,Tags\nAsha Rao,9876543210,MBA\nRavi,9876543211,\nAsha Rao,9876543210,Finance\n";
    let report = engine.import_bytes(file.as_bytes(), &mut store).unwrap();
    // Row 2 merged into the contact the other writer added; row 4 updates it.
    assert_eq!((report.added, report.updated), (1, 2));
    assert_eq!(report.phones_added, [phone("+919876543211")]);
    assert_eq!(report.phones_updated, [phone("+919876543210")]);
    assert_eq!(
        tags(&mut store.inner, "+919876543210"),
        ["VIP", "MBA", "Finance"]
    );
    let asha = store.inner.contact(&phone("+919876543210")).unwrap();
    assert_eq!(
        asha.created_at,
        Timestamp::UNIX_EPOCH,
        "the other writer created it"
    );
}

#[test]
fn a_contact_that_keeps_changing_stops_the_import_with_a_clear_error() {
    let engine = engine().with_options(ImportOptions::new().with_batch_size(1));
    let mut inner = MemoryStore::new();
    engine
        .import_bytes(b"Name,Phone\nAsha,9876543210\n", &mut inner)
        .unwrap();
    let mut store = Interrupted {
        inner,
        edit: |book: &mut MemoryStore| add_tag(book, "+919876543210", "VIP"),
        interrupt: usize::MAX,
    };
    let file = "Name,Phone,Tags\nRavi,9876543211,MBA\nAsha,9876543210,MBA\n";
    let error = engine
        .import_bytes(file.as_bytes(), &mut store)
        .unwrap_err();
    let ImportError::Contended { error, report } = &error else {
        panic!("expected Contended, got {error}");
    };
    assert_eq!(error.phones, [phone("+919876543210")]);
    assert_eq!(error.rounds, contact_import::MAX_CONFLICT_ROUNDS);
    assert_eq!(report.last_row, Some(2), "the first batch was written");
    let message = ImportError::<std::convert::Infallible>::Contended {
        error: error.clone(),
        report: report.clone(),
    }
    .to_string();
    assert!(
        message.contains("+919876543210") && message.contains("import the file again"),
        "{message}"
    );
    assert!(message.contains("row 2"), "{message}");
}

#[test]
fn the_driven_import_merges_conflicted_rows_again() {
    let engine = engine();
    let mut store = MemoryStore::new();
    engine
        .import_bytes(b"Name,Phone\nAsha,9876543210\n", &mut store)
        .unwrap();
    let file = "Name,Phone,Tags\nAsha,9876543210,MBA\nRavi,9876543211,Finance\n";
    let mut import = engine.start(Cursor::new(file)).unwrap();
    let mut rounds = 0;
    while let Some(mut batch) = import.next_batch().unwrap() {
        loop {
            rounds += 1;
            let mut stored = Vec::new();
            store.fetch(batch.phones(), &mut stored).unwrap();
            let writes = import.merge(&mut batch, stored);
            if rounds == 1 {
                // An agent's edit lands while the write is on its way.
                add_tag(&mut store, "+919876543210", "VIP");
                assert_eq!(batch.phones().len(), 2);
            }
            let conflicts = store.write_batch(writes).unwrap();
            if import.written(&mut batch, conflicts).unwrap() {
                break;
            }
            assert_eq!(
                batch.phones(),
                [phone("+919876543210")],
                "only the conflicted phone again"
            );
        }
        import.commit(batch);
    }
    let report = import.finish();
    assert_eq!(rounds, 2);
    assert_eq!((report.added, report.updated, report.conflicts), (1, 1, 1));
    assert_eq!(tags(&mut store, "+919876543210"), ["VIP", "MBA"]);
}

#[cfg(feature = "testkit")]
mod memory {
    use contact_import::SharedMemoryStore;
    use contact_import::testkit::Editor;

    #[test]
    fn imports_and_an_editor_racing_on_threads_lose_nothing() {
        let book = SharedMemoryStore::new();
        super::assert_race(|| book.clone(), Editor::ThroughStore);
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::path::Path;

    #[cfg(feature = "testkit")]
    use contact_import::Phone;
    use contact_import::SqliteStore;
    #[cfg(feature = "testkit")]
    use contact_import::testkit::{self, Editor};

    /// Adds VIP by plain SQL on the store's connection, as a host service
    /// that knows nothing of this crate would: one transaction per call.
    #[cfg(feature = "testkit")]
    fn add_vip_by_sql(store: &mut SqliteStore, phones: &[Phone]) -> Result<(), String> {
        let connection = store.connection();
        let run = || -> contact_import::rusqlite::Result<()> {
            connection.execute_batch("BEGIN IMMEDIATE")?;
            let mut update = connection.prepare_cached(
                "UPDATE contacts SET tags = json_insert(tags, '$[#]', 'VIP')
                 WHERE account_id = 'default' AND phone = ?1
                   AND NOT EXISTS (SELECT 1 FROM json_each(contacts.tags) WHERE value = 'VIP')",
            )?;
            for phone in phones {
                update.execute([phone.as_str()])?;
            }
            connection.execute_batch("COMMIT")
        };
        run().map_err(|e| {
            let _ = connection.execute_batch("ROLLBACK");
            e.to_string()
        })
    }

    #[cfg(feature = "testkit")]
    #[test]
    fn imports_and_a_plain_sql_editor_on_one_file_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("contacts.db");
        let open = || SqliteStore::open(&path).unwrap();
        super::assert_race(open, Editor::Custom(&add_vip_by_sql));
    }

    #[cfg(feature = "testkit")]
    #[test]
    fn imports_and_an_editor_through_the_store_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("contacts.db");
        testkit::check_racing_writers(
            || SqliteStore::open(&path).unwrap(),
            5_000,
            Editor::ThroughStore,
        )
        .unwrap();
    }

    #[test]
    fn a_store_error_says_what_happened_once_and_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no such folder").join("contacts.db");
        let error = SqliteStore::open(&missing).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("check that its folder exists"),
            "{message}"
        );
        assert_eq!(message.matches("unable to open").count(), 1, "{message}");
        assert!(
            std::error::Error::source(&error).is_none(),
            "said in the message already"
        );
    }

    /// In a child process (see below): opens the store at the path given,
    /// at the moment given, so that two processes create it at once.
    #[test]
    fn child_opens_a_sqlite_file() {
        let Ok(path) = std::env::var("CONTACT_IMPORT_CHILD_SQLITE") else {
            return;
        };
        super::wait_for_start();
        if let Err(error) = SqliteStore::open(Path::new(&path)) {
            panic!("open failed: {error}");
        }
    }

    #[test]
    fn two_processes_creating_one_file_at_once_both_succeed() {
        let dir = tempfile::tempdir().unwrap();
        for attempt in 0..20 {
            let path = dir.path().join(format!("new-{attempt}.db"));
            super::run_children(
                "sqlite::child_opens_a_sqlite_file",
                "CONTACT_IMPORT_CHILD_SQLITE",
                path.to_str().unwrap(),
            );
            let store = SqliteStore::open(&path).unwrap();
            assert_eq!(store.len().unwrap(), 0);
        }
    }
}

/// Waits until the time in CONTACT_IMPORT_CHILD_START (ms since the epoch).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn wait_for_start() {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};
    let start: u64 = std::env::var("CONTACT_IMPORT_CHILD_START")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    if start > now {
        std::thread::sleep(Duration::from_millis(start - now));
    }
}

/// Runs the test `name` of this module in two child processes of this
/// binary at once, with `var` set to `value` and the same start time; both
/// must pass.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn run_children(name: &str, var: &str, value: &str) {
    use std::time::{SystemTime, UNIX_EPOCH};
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let start = (now + 300).to_string();
    let exe = std::env::current_exe().unwrap();
    let name = format!("many_writers::{name}");
    let children: Vec<_> = (0..2)
        .map(|_| {
            std::process::Command::new(&exe)
                .args([&name, "--exact", "--test-threads=1", "--nocapture"])
                .env(var, value)
                .env("CONTACT_IMPORT_CHILD_START", &start)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "a child failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[cfg(feature = "postgres")]
mod postgres {

    #[cfg(feature = "testkit")]
    use contact_import::Phone;
    use contact_import::PostgresStore;
    use contact_import::postgres::{Client, NoTls};
    #[cfg(feature = "testkit")]
    use contact_import::testkit::{self, Editor};

    use crate::common::postgres_url;

    /// A new, empty schema, dropped when the guard is.
    struct Schema {
        url: String,
        name: String,
    }

    impl Schema {
        fn new(url: &str, label: &str) -> Schema {
            let name = format!("contact_import_race_{label}_{}", std::process::id());
            let mut client = Client::connect(url, NoTls).unwrap();
            client
                .batch_execute(&format!(
                    "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
                ))
                .unwrap();
            Schema {
                url: url.to_owned(),
                name,
            }
        }

        /// A store on the schema that writes each batch in halves on two
        /// sessions of its own.
        #[cfg(feature = "testkit")]
        fn store_on_two_connections(&self) -> PostgresStore {
            PostgresStore::with_client(self.client())
                .unwrap()
                .with_second_client(self.client())
                .unwrap()
        }

        /// A session of its own whose search_path is the schema.
        fn client(&self) -> Client {
            let mut client = Client::connect(&self.url, NoTls).unwrap();
            client
                .batch_execute(&format!("SET search_path TO {}", self.name))
                .unwrap();
            client
        }
    }

    impl Drop for Schema {
        fn drop(&mut self) {
            if let Ok(mut client) = Client::connect(&self.url, NoTls) {
                let _ =
                    client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
            }
        }
    }

    /// Adds VIP by plain SQL in the store's session, one statement (and
    /// transaction) per phone, as a host service would.
    #[cfg(feature = "testkit")]
    fn add_vip_by_sql(store: &mut PostgresStore, phones: &[Phone]) -> Result<(), String> {
        let client = store.client();
        for phone in phones {
            client
                .execute(
                    "UPDATE contacts SET tags = tags || '[\"VIP\"]'::jsonb
                     WHERE account_id = 'default' AND phone = $1 AND NOT tags @> '[\"VIP\"]'::jsonb",
                    &[&phone.as_str()],
                )
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    #[cfg(feature = "testkit")]
    #[test]
    fn imports_and_a_plain_sql_editor_in_other_sessions_lose_nothing() {
        let Some(url) = postgres_url() else { return };
        let schema = Schema::new(&url, "sql");
        let open = || PostgresStore::with_client(schema.client()).unwrap();
        super::assert_race(open, Editor::Custom(&add_vip_by_sql));
    }

    #[cfg(feature = "testkit")]
    #[test]
    fn imports_and_an_editor_through_the_store_lose_nothing() {
        let Some(url) = postgres_url() else { return };
        let schema = Schema::new(&url, "store");
        let open = || PostgresStore::with_client(schema.client()).unwrap();
        testkit::check_racing_writers(open, 5_000, Editor::ThroughStore).unwrap();
    }

    /// Each import writes its batches in halves on two connections, whose
    /// transactions wait for each other: the racing imports' halves must
    /// neither wait for ever nor lose a write.
    #[cfg(feature = "testkit")]
    #[test]
    fn imports_on_two_connections_each_and_an_editor_lose_nothing() {
        let Some(url) = postgres_url() else { return };
        let schema = Schema::new(&url, "pairs");
        let open = || schema.store_on_two_connections();
        testkit::check_racing_writers(open, 5_000, Editor::ThroughStore).unwrap();
    }

    #[cfg(feature = "testkit")]
    #[test]
    fn imports_on_two_connections_each_and_a_plain_sql_editor_lose_nothing() {
        let Some(url) = postgres_url() else { return };
        let schema = Schema::new(&url, "pairs_sql");
        let open = || schema.store_on_two_connections();
        super::assert_race(open, Editor::Custom(&add_vip_by_sql));
    }

    /// In a child process: creates the store in the schema given, at the
    /// moment given.
    #[test]
    fn child_opens_a_postgres_schema() {
        let (Ok(schema), Some(url)) = (std::env::var("CONTACT_IMPORT_CHILD_PG"), postgres_url())
        else {
            return;
        };
        let mut client = Client::connect(&url, NoTls).unwrap();
        client
            .batch_execute(&format!("SET search_path TO {schema}"))
            .unwrap();
        super::wait_for_start();
        if let Err(error) = PostgresStore::with_client(client) {
            panic!("creating the schema failed: {error}");
        }
    }

    #[test]
    fn two_processes_creating_one_schema_at_once_both_succeed() {
        let Some(url) = postgres_url() else { return };
        for attempt in 0..20 {
            let schema = Schema::new(&url, &format!("open{attempt}"));
            super::run_children(
                "postgres::child_opens_a_postgres_schema",
                "CONTACT_IMPORT_CHILD_PG",
                &schema.name,
            );
            let mut store = PostgresStore::with_client(schema.client()).unwrap();
            assert_eq!(store.len().unwrap(), 0);
        }
    }
}
