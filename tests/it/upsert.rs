//! Upsert by E.164 phone: what is added, what an update changes, and what it never touches.

use std::io::Cursor;

use crate::common::*;
use contact_import::{
    Contact, ContactStore, FileErrorKind, ImportError, ImportOptions, MemoryStore, Phone, Progress,
    State, Stored, TagPolicy, Timestamp, UpdatePolicy, WriteBatch,
};

const GUIDE: &str = "\
Name,Mobile Number,Tags,Source,First Message,City,email,State
Mohit Dua,+919876543452,MBA,Website,,Delhi,mohit@example.com,Delhi
Contact Two,919876543453,MBA | Finance,,,Mumbai,,Maharashtra
Contact Three,9876543454,Marketing | Finance | MBA,,MBA,Pune,,
";

/// A contact as the messaging service left it: chatted, intervened, older.
fn existing_mohit() -> Contact {
    let mut mohit = Contact::new(
        phone("+919876543452"),
        "Mohit".into(),
        "2025-05-01T10:00:00Z".parse().unwrap(),
    );
    mohit.tags.push("Finance".into());
    mohit.source = Some("ORGANIC".into());
    mohit.attributes.set("City".into(), "Noida".into());
    mohit.attributes.set("State".into(), "UP".into());
    mohit.last_active = Some("2026-01-01T09:00:00Z".parse().unwrap());
    mohit.state = Some(State::Intervened);
    mohit
}

#[test]
fn the_guides_example_imports() {
    let (report, store) = import(GUIDE);
    assert_eq!(
        (report.rows, report.added, report.updated, report.failed),
        (3, 3, 0, 0)
    );
    let mohit = contact(&store, "+919876543452");
    assert_eq!((mohit.first_name(), mohit.last_name()), ("Mohit", "Dua"));
    assert_eq!(mohit.first_message, None);
    assert_eq!(mohit.created_at, t0());
    assert_eq!(
        tags(contact(&store, "+919876543454")),
        ["Marketing", "Finance", "MBA"]
    );
    assert_eq!(
        report.phones_added,
        [
            phone("+919876543452"),
            phone("+919876543453"),
            phone("+919876543454")
        ]
    );
}

#[test]
fn an_update_merges_and_keeps_what_the_store_holds() {
    let mut store = MemoryStore::new();
    store.insert(existing_mohit());
    let report = import_into(&engine(), &mut store, GUIDE);
    assert_eq!((report.added, report.updated), (2, 1));
    assert_eq!(report.phones_updated, [phone("+919876543452")]);

    let mohit = contact(&store, "+919876543452");
    assert_eq!(mohit.name(), "Mohit Dua", "a non-empty name replaces");
    assert_eq!(
        tags(mohit),
        ["Finance", "MBA"],
        "tags are added, order kept"
    );
    assert_eq!(
        mohit.source.as_deref(),
        Some("Website"),
        "a non-empty source replaces"
    );
    assert_eq!(
        mohit.attributes.get("City"),
        Some("Delhi"),
        "non-empty cells overwrite"
    );
    assert_eq!(mohit.attributes.get("State"), Some("Delhi"));
    assert_eq!(mohit.attributes.get("email"), Some("mohit@example.com"));
    let before = existing_mohit();
    assert_eq!(mohit.created_at, before.created_at, "created_at untouched");
    assert_eq!(
        mohit.last_active, before.last_active,
        "last_active untouched"
    );
    assert_eq!(mohit.state, Some(State::Intervened), "state untouched");
}

#[test]
fn empty_cells_keep_stored_values() {
    let mut store = MemoryStore::new();
    store.insert(existing_mohit());
    import_into(
        &engine(),
        &mut store,
        "Name,Phone,Tags,Source,City\nMohit,9876543452,,,\n",
    );
    let mohit = contact(&store, "+919876543452");
    assert_eq!(tags(mohit), ["Finance"]);
    assert_eq!(
        mohit.source.as_deref(),
        Some("ORGANIC"),
        "the default source is only for new contacts"
    );
    assert_eq!(mohit.attributes.get("City"), Some("Noida"));
}

#[test]
fn clear_on_empty_clears_only_the_files_columns() {
    let engine = engine_with(ImportOptions::new().with_update(UpdatePolicy::overwrite()));
    let mut store = MemoryStore::new();
    store.insert(existing_mohit());
    import_into(
        &engine,
        &mut store,
        "Name,Phone,Tags,Source,City\nMohit,9876543452,,,\n",
    );
    let mohit = contact(&store, "+919876543452");
    assert!(mohit.tags.is_empty());
    assert_eq!(
        mohit.source.as_deref(),
        Some("IMPORT"),
        "the default, not nothing"
    );
    assert_eq!(mohit.attributes.get("City"), None);
    assert_eq!(
        mohit.attributes.get("State"),
        Some("UP"),
        "no State column: kept"
    );
    assert_eq!(mohit.state, Some(State::Intervened));
}

#[test]
fn replace_tags_replaces_instead_of_adding() {
    let engine = engine_with(
        ImportOptions::new().with_update(UpdatePolicy::new().with_tags(TagPolicy::Replace)),
    );
    let mut store = MemoryStore::new();
    store.insert(existing_mohit());
    import_into(
        &engine,
        &mut store,
        "Name,Phone,Tags\nMohit,9876543452,Marketing | MBA\n",
    );
    assert_eq!(tags(contact(&store, "+919876543452")), ["Marketing", "MBA"]);
}

#[test]
fn a_phone_repeated_in_the_file_is_added_then_updated() {
    let csv = "Name,Phone,Tags,City\nAsha,9876543210,MBA,Pune\nAsha Rao,+91 98765 43210,Finance,\n";
    let (report, store) = import(csv);
    assert_eq!((report.added, report.updated), (1, 1));
    assert_eq!(report.phones_added, [phone("+919876543210")]);
    assert!(
        report.phones_updated.is_empty(),
        "a contact is in one list only"
    );
    let asha = contact(&store, "+919876543210");
    assert_eq!(asha.name(), "Asha Rao");
    assert_eq!(tags(asha), ["MBA", "Finance"]);
    assert_eq!(asha.attributes.get("City"), Some("Pune"));
}

#[test]
fn importing_twice_changes_nothing_and_says_so() {
    let mut store = MemoryStore::new();
    let first = import_into(&engine(), &mut store, GUIDE);
    let snapshot: Vec<Contact> = store.contacts().into_iter().cloned().collect();
    let later = contact_import::ImportEngine::new(guide_catalog(), Timestamp::MAX);
    let second = import_into(&later, &mut store, GUIDE);
    assert_eq!(
        (second.added, second.updated, second.unchanged),
        (0, 0, first.added)
    );
    assert!(second.phones_updated.is_empty());
    let after: Vec<Contact> = store.contacts().into_iter().cloned().collect();
    assert_eq!(after, snapshot, "created_at comes from the first import");
}

#[test]
fn a_file_over_max_rows_is_refused_whole() {
    let engine = engine_with(ImportOptions::new().with_max_rows(3).with_batch_size(1));
    let mut store = MemoryStore::new();
    let csv = "Name,Phone\nA,9876543201\nB,9876543202\nC,9876543203\nD,9876543204\n";
    match engine.import(Cursor::new(csv), &mut store) {
        Err(ImportError::File(e)) => {
            assert!(matches!(e.kind(), FileErrorKind::TooManyRows { max: 3 }))
        }
        other => panic!("expected TooManyRows, got {other:?}"),
    }
    assert!(store.is_empty(), "nothing written");
    let exactly_three = "Name,Phone\nA,9876543201\nB,9876543202\nC,9876543203\n";
    assert_eq!(import_into(&engine, &mut store, exactly_three).added, 3);
}

#[test]
fn the_import_starts_where_the_reader_is() {
    let mut cursor = Cursor::new(b"junk line\nName,Phone\nA,9876543201\n".to_vec());
    cursor.set_position(10);
    let report = engine().import(cursor, &mut MemoryStore::new()).unwrap();
    assert_eq!(report.added, 1);
}

/// A store that fails on its n-th write, to check what an interrupted import reports.
struct FailingStore {
    inner: MemoryStore,
    fail_on_write: usize,
    writes: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("disk full")]
struct DiskFull;

impl ContactStore for FailingStore {
    type Error = DiskFull;
    fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Stored>) -> Result<(), DiskFull> {
        self.inner.fetch(phones, found).map_err(|e| match e {})
    }
    fn write_batch(&mut self, batch: WriteBatch) -> Result<Vec<Phone>, DiskFull> {
        self.writes += 1;
        if self.writes == self.fail_on_write {
            return Err(DiskFull);
        }
        self.inner.write_batch(batch).map_err(|e| match e {})
    }
}

#[test]
fn a_store_error_stops_the_import_with_the_report_so_far() {
    let engine = engine_with(ImportOptions::new().with_batch_size(2));
    let csv = "Name,Phone\nA,9876543201\nB,bad\nC,9876543203\nD,9876543204\nE,9876543205\n";
    let mut store = FailingStore {
        inner: MemoryStore::new(),
        fail_on_write: 2,
        writes: 0,
    };
    let Err(ImportError::Store {
        error: DiskFull,
        report,
    }) = engine.import(Cursor::new(csv), &mut store)
    else {
        panic!("expected the store's error");
    };
    assert_eq!(
        report.last_row,
        Some(3),
        "rows 2 and 3 were the first batch"
    );
    assert_eq!((report.rows, report.added, report.failed), (2, 1, 1));
    assert_eq!(store.inner.len(), 1);
    let error = ImportError::Store {
        error: DiskFull,
        report,
    };
    let message = error.to_string();
    assert!(
        message.contains("row 3") && message.contains("disk full"),
        "{message}"
    );
    // Said once: a chain printer (anyhow's `{:#}`) would repeat a source.
    assert!(std::error::Error::source(&error).is_none());
}

#[test]
fn progress_reports_rows_done_and_the_total() {
    let engine = engine_with(ImportOptions::new().with_batch_size(2));
    let mut seen = Vec::new();
    engine
        .import_with_progress(
            Cursor::new(GUIDE),
            &mut MemoryStore::new(),
            |p: Progress| seen.push(p),
        )
        .unwrap();
    let done: Vec<_> = seen.iter().map(|p| (p.rows_done, p.total_rows)).collect();
    assert_eq!(done, [(2, Some(3)), (3, Some(3))]);
}

#[test]
fn the_report_serializes_in_the_documented_form() {
    let (report, _) = import("Name,Phone,Colour\nA,9876543201,red\nB,12,blue\n");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["rows"], 2);
    assert_eq!(json["added"], 1);
    assert_eq!(json["updated"], 0);
    assert_eq!(json["failed"], 1);
    assert_eq!(json["failures"][0]["row"], 3);
    assert_eq!(json["failures"][0]["code"], "invalid_phone");
    assert!(
        json["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("digits")
    );
    assert_eq!(json["warnings"][0]["code"], "unknown_column");
    assert_eq!(json["phones_added"][0], "+919876543201");
    let back: contact_import::ImportReport = serde_json::from_value(json).unwrap();
    assert_eq!(back, report);
}

#[test]
fn the_contact_serializes_in_the_documented_form() {
    let (_, store) = import(GUIDE);
    let json = serde_json::to_value(contact(&store, "+919876543452")).unwrap();
    let expected = serde_json::json!({
        "phone": "+919876543452", "name": "Mohit Dua", "first_name": "Mohit", "last_name": "Dua",
        "number_type": "mobile", "tags": ["MBA"], "source": "Website", "first_message": null,
        "attributes": {"City": "Delhi", "State": "Delhi", "email": "mohit@example.com"},
        "created_at": "2026-01-01T00:00:00Z", "last_active": null, "state": null,
        "opt_in": null
    });
    assert_eq!(json, expected);
    let back: Contact = serde_json::from_value(json).unwrap();
    assert_eq!(&back, contact(&store, "+919876543452"));
}

#[test]
fn the_failure_file_can_be_fixed_and_imported_again() {
    let csv = "Name,Mobile Number,City\nAsha,12345,Pune\n,9876543202,\"Delhi, NCR\"\nRavi,9876543203,Agra\n";
    let (report, mut store) = import(csv);
    let mut failures = Vec::new();
    report.write_failures(&mut failures).unwrap();
    let text = String::from_utf8(failures).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["Name", "Mobile Number", "City", "Row", "Reason"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        &rows[0].iter().take(4).collect::<Vec<_>>(),
        &["Asha", "12345", "Pune", "2"]
    );
    assert!(rows[0][4].starts_with("invalid_phone: "), "{}", &rows[0][4]);
    assert_eq!(
        &rows[1].iter().take(4).collect::<Vec<_>>(),
        &["", "9876543202", "Delhi, NCR", "3"]
    );
    assert!(rows[1][4].starts_with("missing_name: "));

    let fixed = text
        .replace("Asha,12345", "Asha,9876543201")
        .replace("\n,9876543202", "\nMeera,9876543202");
    let again = import_into(&engine(), &mut store, &fixed);
    assert_eq!((again.added, again.failed), (2, 0));
    assert_eq!(
        contact(&store, "+919876543202").attributes.get("City"),
        Some("Delhi, NCR")
    );
    assert!(
        again.warnings.is_empty(),
        "Row and Reason are ignored quietly: {:?}",
        again.warnings
    );
}
