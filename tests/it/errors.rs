//! Errors say each cause once: in their message or as their `source()`,
//! never both (a chain printer such as anyhow's `{:#}` would print it
//! twice). And reports keep their serde form, the one the stores keep in
//! their history.

use std::convert::Infallible;
use std::error::Error;
use std::io::{self, Cursor, Read, Seek, SeekFrom};

use crate::common::*;
use contact_import::{
    Account, ContactStore, ExportError, ImportError, ImportReport, MemoryStore, Phone,
    PhoneNormalizer, Region, Stored, Template, WriteBatch,
};

/// Fails when a message of `error`'s chain contains its source's message.
fn assert_said_once(error: &dyn Error) {
    let mut current = error;
    assert!(
        !current.to_string().is_empty(),
        "{current:?} has no message"
    );
    while let Some(source) = current.source() {
        let (outer, inner) = (current.to_string(), source.to_string());
        assert!(
            !outer.contains(&inner),
            "{outer:?} repeats its source {inner:?}"
        );
        current = source;
    }
}

/// A file that cannot be read at all.
struct Unreadable;

impl Read for Unreadable {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::other("the disk went away"))
    }
}

impl Seek for Unreadable {
    fn seek(&mut self, _: SeekFrom) -> io::Result<u64> {
        Ok(0)
    }
}

/// A store where another writer changed every contact before each write.
struct AlwaysChanged(MemoryStore);

impl ContactStore for AlwaysChanged {
    type Error = Infallible;

    fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Stored>) -> Result<(), Infallible> {
        self.0.fetch(phones, found)
    }

    fn write_batch(&mut self, batch: WriteBatch) -> Result<Vec<Phone>, Infallible> {
        Ok(batch.contacts().map(|contact| contact.phone).collect())
    }
}

#[test]
fn file_and_import_errors_say_each_cause_once() {
    assert_said_once(&refused(""));
    assert_said_once(&refused("Foo,Bar\n1,2\n"));

    let unreadable = engine()
        .import(Unreadable, &mut MemoryStore::new())
        .unwrap_err();
    let ImportError::File(file) = &unreadable else {
        panic!("expected a file error, got {unreadable}");
    };
    assert!(file.to_string().contains("the disk went away"), "{file}");
    assert_said_once(&unreadable);
    assert_said_once(file.kind());

    let mut failing = FailingStore::new(MemoryStore::new(), 1, false);
    let store_down = engine()
        .import(Cursor::new("Name,Phone\nAsha,9876543210\n"), &mut failing)
        .unwrap_err();
    assert!(
        matches!(store_down, ImportError::Store { .. }),
        "{store_down}"
    );
    assert_said_once(&store_down);

    let read = ImportError::<Infallible>::Read {
        error: io::Error::other("the disk went away"),
        report: Box::default(),
    };
    assert_said_once(&read);

    let mut racing = AlwaysChanged(MemoryStore::new());
    let contended = engine()
        .import(Cursor::new("Name,Phone\nAsha,9876543210\n"), &mut racing)
        .unwrap_err();
    let ImportError::Contended { error, .. } = &contended else {
        panic!("expected Contended, got {contended}");
    };
    assert_said_once(&contended);
    assert_said_once(error);
}

#[test]
fn value_and_export_errors_say_each_cause_once() {
    let phone = PhoneNormalizer::new(Region::INDIA)
        .normalize("12345")
        .unwrap_err();
    assert_said_once(&phone);
    assert_said_once(&Account::new("two words").unwrap_err());
    let template = Template::parse("Hi $Nmae", &guide_catalog()).unwrap_err();
    assert_said_once(&template);
    assert_said_once(&ExportError::Store(StoreDown(1)));
    assert_said_once(&ExportError::<StoreDown>::Write(io::Error::other(
        "disk full",
    )));
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_errors_say_each_cause_once() {
    use contact_import::{ImportRecord, SqliteError, SqliteStore};

    let dir = tempfile::tempdir().unwrap();
    let missing = SqliteStore::open(dir.path().join("no folder").join("c.db")).unwrap_err();
    assert!(matches!(missing, SqliteError::Sqlite(_)), "{missing}");
    assert_said_once(&missing);
    let in_import = ImportError::Store {
        error: missing,
        report: Box::default(),
    };
    assert_said_once(&in_import);

    let path = dir.path().join("newer.db");
    let store = SqliteStore::open(&path).unwrap();
    store
        .connection()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    drop(store);
    let newer = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(newer, SqliteError::NewerSchema { .. }), "{newer}");
    assert_said_once(&newer);

    let mut store = SqliteStore::open_in_memory().unwrap();
    let record = ImportRecord::new("c.csv", t0(), t0(), ImportReport::default());
    let id = store.record_import(&record).unwrap().unwrap();
    store
        .connection()
        .execute("UPDATE imports SET report = 'not JSON'", [])
        .unwrap();
    let data = store.import_record(id).unwrap_err();
    assert!(matches!(data, SqliteError::Data(_)), "{data}");
    assert_said_once(&data);
}

#[cfg(feature = "postgres")]
#[test]
fn a_postgres_connection_error_says_its_cause_once() {
    // Loopback port 1: nothing listens, so the connection is refused.
    let Err(error) = contact_import::PostgresStore::connect(
        "host=127.0.0.1 port=1 user=nobody dbname=nothing connect_timeout=5",
    ) else {
        panic!("nothing listens on port 1");
    };
    assert_said_once(&error);
}

/// A report as versions before `RowFailure::position` wrote it (and the
/// stores kept it in their history): a failure's row and column are fields
/// of the failure, `column` left out when there is none; older still, no
/// `unchanged`, `skipped`, `conflicts`.
const OLDER_REPORT: &str = r#"{"rows":3,"added":1,"updated":0,"failed":2,"phones_added":["+919876543210"],"phones_updated":[],"failures":[{"row":3,"code":"invalid_phone","message":"too short","column":"Phone","values":["Ravi","12345"]},{"row":4,"code":"missing_name","message":"the Name cell is empty","values":["","9876543211"]}],"warnings":[{"row":null,"column":"Foo","code":"unknown_column","message":"ignored"},{"row":2,"column":"Tags","code":"unknown_tag","message":"unknown","value":"NEET"}],"headers":["Name","Phone","Foo","Tags"],"last_row":4}"#;

#[test]
fn reports_of_older_versions_load_with_their_positions() {
    let report: ImportReport = serde_json::from_str(OLDER_REPORT).unwrap();
    let failures = &report.failures;
    assert_eq!(failures[0].position.row, 3);
    assert_eq!(failures[0].position.column.as_deref(), Some("Phone"));
    assert_eq!(failures[0].values, ["Ravi", "12345"]);
    assert_eq!(
        (failures[1].position.row, &failures[1].position.column),
        (4, &None)
    );
    assert_eq!(report.warnings[0].position(), None);
    assert_eq!(report.warnings[0].column.as_deref(), Some("Foo"));
    let tag = report.warnings[1].position().unwrap();
    assert_eq!((tag.row, tag.column.as_deref()), (2, Some("Tags")));

    // Written back the same way, field for field and in the same order.
    let failures_json = serde_json::to_string(&report.failures).unwrap();
    assert!(OLDER_REPORT.contains(&failures_json), "{failures_json}");
    let warnings_json = serde_json::to_string(&report.warnings).unwrap();
    assert!(OLDER_REPORT.contains(&warnings_json), "{warnings_json}");
}

#[cfg(feature = "sqlite")]
#[test]
fn a_history_stored_by_an_older_version_loads() {
    use contact_import::{ImportRecord, SqliteStore};

    let mut store = SqliteStore::open_in_memory().unwrap();
    let record = ImportRecord::new("c.csv", t0(), t0(), ImportReport::default());
    let id = store.record_import(&record).unwrap().unwrap();
    store
        .connection()
        .execute("UPDATE imports SET report = ?1", [OLDER_REPORT])
        .unwrap();
    let loaded = store.import_record(id).unwrap().unwrap();
    let failure = &loaded.report.failures[0];
    assert_eq!(
        (failure.position.row, failure.position.column.as_deref()),
        (3, Some("Phone"))
    );
    let mut file = Vec::new();
    loaded.report.write_failures(&mut file).unwrap();
    let file = String::from_utf8(file).unwrap();
    assert!(
        file.contains("Ravi,12345,,,3,invalid_phone: too short"),
        "{file}"
    );
}
