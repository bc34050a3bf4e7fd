//! Export: the import format, formula injection, and the round trip through import.

use std::io;

use crate::common::{at, guide_catalog, phone};
use contact_import::{
    Catalog, Contact, ContactStore, ExportError, Filter, ImportEngine, ImportOptions, MemoryStore,
    Phone, State, Status, Tag, export, export_headers, guard_formula,
};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

fn export_text(
    store: &mut MemoryStore,
    filter: &Filter,
    catalog: &Catalog,
    now: Timestamp,
) -> String {
    let mut out = Vec::new();
    export(store, filter, catalog, now, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Imports `csv` into an empty store with `catalog`, keeping empty sources empty.
fn import_into_empty(csv: &str, catalog: &Catalog) -> (MemoryStore, contact_import::ImportReport) {
    let options = ImportOptions::new().with_default_source(None);
    let engine =
        ImportEngine::new(catalog.clone(), at("2030-01-01T00:00:00Z")).with_options(options);
    let mut store = MemoryStore::new();
    let report = engine.import_bytes(csv.as_bytes(), &mut store).unwrap();
    (store, report)
}

/// What an export carries back into an import.
fn imported_fields(c: &Contact) -> impl PartialEq + std::fmt::Debug + use<> {
    (
        c.phone,
        c.name().to_owned(),
        c.tags.to_vec(),
        c.source.clone(),
        c.first_message.clone(),
        c.attributes.clone(),
    )
}

#[test]
fn headers_follow_the_import_format_and_the_catalog_order() {
    let catalog = Catalog::new().with_attributes(["email", "City"]);
    assert_eq!(
        export_headers(&catalog),
        [
            "Name",
            "Mobile Number",
            "Tags",
            "Source",
            "First Message",
            "WhatsApp Opt-in",
            "email",
            "City",
            "Status",
            "State",
            "Last Active",
            "Created At"
        ]
    );
}

#[test]
fn platform_columns_step_aside_for_attributes_of_the_same_name() {
    // The guide's catalog has a State attribute; an import would map both
    // "State" columns to it and refuse the file.
    let headers = export_headers(&guide_catalog());
    assert_eq!(headers[8], "State");
    assert_eq!(headers[10], "Contact State");
    let catalog =
        Catalog::new().with_attributes(["status", "State", "Contact State", "created_at"]);
    assert_eq!(
        export_headers(&catalog)[10..],
        [
            "Contact Status",
            "Contact Contact State",
            "Last Active",
            "Contact Created At"
        ]
    );
}

#[test]
fn export_writes_every_field_of_the_segment_in_phone_order() {
    let now = at("2024-06-01T12:00:00Z");
    let catalog = guide_catalog();
    let mut store = MemoryStore::new();
    let mut mohit = Contact::new(
        phone("+919876543452"),
        "Mohit Dua".into(),
        at("2024-01-15T10:00:00Z"),
    );
    mohit.tags = ["MBA", "Finance"].into_iter().map(Tag::new).collect();
    mohit.source = Some("Website".into());
    mohit.first_message = Some(Tag::new("MBA"));
    mohit.attributes.set("City".into(), "Delhi".into());
    mohit.attributes.set("State".into(), "Delhi".into());
    mohit.last_active = Some(at("2024-06-01T08:30:15.5Z"));
    mohit.state = Some(State::HandledByAssistant);
    mohit.opt_in = Some(true);
    store.insert(mohit);
    let mut john = Contact::new(
        phone("+15417543010"),
        "John Smith".into(),
        at("2023-12-31T23:59:59Z"),
    );
    john.attributes
        .set("email".into(), "john@example.com".into());
    john.attributes
        .set("Pet".into(), "not in the catalog".into());
    john.last_active = Some(at("2024-05-01T00:00:00Z"));
    store.insert(john);
    let mut closed = Contact::new(
        phone("+919876543210"),
        "Priya Sharma".into(),
        at("2024-01-15T10:00:00Z"),
    );
    closed.tags.push(Tag::new("Marketing"));
    closed.opt_in = Some(false);
    store.insert(closed);

    let everyone = export_text(&mut store, &Filter::everyone(), &catalog, now);
    assert_eq!(
        everyone,
        "\
Name,Mobile Number,Tags,Source,First Message,WhatsApp Opt-in,City,email,State,Status,Contact State,Last Active,Created At
John Smith,+15417543010,,,,,,john@example.com,,INACTIVE,,2024-05-01T00:00:00Z,2023-12-31T23:59:59Z
Priya Sharma,+919876543210,Marketing,,,no,,,,INACTIVE,,,2024-01-15T10:00:00Z
Mohit Dua,+919876543452,MBA | Finance,Website,MBA,yes,Delhi,,Delhi,ACTIVE,Handled by Assistant,2024-06-01T08:30:15Z,2024-01-15T10:00:00Z
"
    );
    // The status is computed at the given now.
    let later = export_text(
        &mut store,
        &Filter::any_tag(["MBA"]),
        &catalog,
        at("2024-06-03T00:00:00Z"),
    );
    assert!(
        later
            .lines()
            .nth(1)
            .unwrap()
            .contains(",INACTIVE,Handled by Assistant,")
    );
    assert_eq!(later.lines().count(), 2);

    let mut out = Vec::new();
    let written = export(
        &mut store,
        &!Filter::any_tag(["MBA"]),
        &catalog,
        now,
        &mut out,
    )
    .unwrap();
    assert_eq!(written, 2);
    let mut out = Vec::new();
    let written = export(
        &mut store,
        &Filter::source("nowhere"),
        &catalog,
        now,
        &mut out,
    )
    .unwrap();
    assert_eq!(written, 0);
    assert_eq!(String::from_utf8(out).unwrap().lines().count(), 1);
}

#[test]
fn text_cells_that_a_spreadsheet_would_run_get_a_leading_quote() {
    let catalog = Catalog::new()
        .with_tags(["=VIP", "MBA"])
        .with_attributes(["City", "Note", "=Score"]);
    let mut store = MemoryStore::new();
    let mut c = Contact::new(
        phone("+919876543452"),
        "=HYPERLINK(\"http://evil\")".into(),
        Timestamp::UNIX_EPOCH,
    );
    c.tags = ["=VIP", "MBA"].into_iter().map(Tag::new).collect();
    c.source = Some("+cmd|' /C calc'!A0".into());
    c.first_message = Some(Tag::new("=VIP"));
    c.attributes.set("City".into(), "@SUM(1+1)".into());
    c.attributes.set("Note".into(), "\t=1+1".into());
    c.attributes.set("=Score".into(), "-2+3".into());
    store.insert(c);
    let text = export_text(
        &mut store,
        &Filter::everyone(),
        &catalog,
        Timestamp::UNIX_EPOCH,
    );
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[8], "'=Score");
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(&row[0], "'=HYPERLINK(\"http://evil\")");
    assert_eq!(&row[1], "+919876543452", "the phone is E.164, never quoted");
    assert_eq!(&row[2], "'=VIP | MBA");
    assert_eq!(&row[3], "'+cmd|' /C calc'!A0");
    assert_eq!(&row[4], "'=VIP");
    assert_eq!(&row[5], "", "the opt-in is unknown");
    assert_eq!(&row[6], "'@SUM(1+1)");
    assert_eq!(&row[7], "'\t=1+1");
    assert_eq!(&row[8], "'-2+3");
    for cell in row
        .iter()
        .chain(headers.iter())
        .filter(|c| !c.starts_with("+91"))
    {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "{cell:?}"
        );
    }
}

#[test]
fn the_guard_adds_a_quote_only_where_needed() {
    for risky in ["=1", "+1", "-1", "@x", "\tx", "\rx", "'x"] {
        assert_eq!(guard_formula(risky), format!("'{risky}"));
    }
    for plain in ["", "Mohit", " =1", "1=1", "x'"] {
        assert_eq!(guard_formula(plain), plain);
    }
}

#[test]
fn an_export_imports_back_into_the_same_contacts() {
    let catalog = Catalog::new()
        .with_tags(["MBA", "=VIP", "'Quoted", "Finance"])
        .with_attributes(["City", "State", "Status", "=Score", "Date of Birth"]);
    let mut store = MemoryStore::new();
    let nasty = [
        "=SUM(A1:A2)",
        "+91 is my code",
        "-minus",
        "@handle",
        "'already quoted",
        "''two quotes",
        "comma, \"quote\" and\nnewline",
        "'",
        "राहुल वर्मा",
    ];
    for (i, text) in nasty.iter().enumerate() {
        let mut c = Contact::new(
            phone(&format!("+91987654320{i}")),
            (*text).into(),
            at("2024-01-01T00:00:00Z"),
        );
        c.tags = ["=VIP", "'Quoted", "MBA"]
            .into_iter()
            .map(Tag::new)
            .take(i % 4)
            .collect();
        c.source = (i % 3 != 0).then(|| text.to_string());
        c.first_message = (i % 2 == 0).then(|| Tag::new("'Quoted"));
        c.attributes.set("City".into(), text.to_string());
        c.attributes.set("=Score".into(), format!("-{i}"));
        c.attributes.set("State".into(), "Maharashtra".into());
        c.attributes.set("Status".into(), "=lead".into());
        c.last_active = Some(at("2024-05-31T00:00:00Z"));
        c.state = Some(State::Closed);
        store.insert(c);
    }
    let text = export_text(
        &mut store,
        &Filter::everyone(),
        &catalog,
        at("2024-06-01T00:00:00Z"),
    );
    let (back, report) = import_into_empty(&text, &catalog);
    assert_eq!((report.added, report.failed), (nasty.len() as u64, 0));
    let original: Vec<_> = store.contacts().into_iter().map(imported_fields).collect();
    let imported: Vec<_> = back.contacts().into_iter().map(imported_fields).collect();
    assert_eq!(imported, original);
}

#[test]
fn the_failure_file_is_guarded_and_imports_as_the_original_would() {
    let catalog = Catalog::new()
        .with_tags(["MBA"])
        .with_attributes(["City", "=Score"]);
    let engine = ImportEngine::new(catalog.clone(), Timestamp::UNIX_EPOCH);
    let file = "\
Name,Phone,Tags,City,'=Score
=Mohit,12345,MBA,@Delhi,'-3
'Tis Priya,+91 98765 43210x,MBA,  -Pune  ,''5
";
    let mut store = MemoryStore::new();
    let report = engine.import_bytes(file.as_bytes(), &mut store).unwrap();
    assert_eq!(report.failed, 2);
    let mut out = Vec::new();
    report.write_failures(&mut out).unwrap();
    let failures = String::from_utf8(out).unwrap();
    let mut reader = csv::Reader::from_reader(failures.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["Name", "Phone", "Tags", "City", "'=Score", "Row", "Reason"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(&rows[0][0], "'=Mohit");
    assert_eq!(&rows[0][1], "12345");
    assert_eq!(&rows[0][3], "'@Delhi");
    assert_eq!(&rows[0][4], "'-3");
    assert_eq!(&rows[0][5], "2");
    assert!(rows[0][6].starts_with("invalid_phone: "));
    assert_eq!(&rows[1][0], "Tis Priya", "the import reads 'Tis as Tis");
    assert_eq!(&rows[1][1], "'+91 98765 43210x");
    assert_eq!(&rows[1][3], "'-Pune");
    assert_eq!(&rows[1][4], "''5");
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
        }
    }

    // The user fixes the phones; the failure file imports exactly as the
    // original file with the same fixes.
    let fix = |text: &str| {
        text.replace("12345,", "9876543452,")
            .replace("43210x", "43210")
    };
    let (from_original, _) = import_into_empty(&fix(file), &catalog);
    let (from_failures, fixed_report) = import_into_empty(&fix(&failures), &catalog);
    assert_eq!(fixed_report.added, 2);
    let a: Vec<_> = from_original
        .contacts()
        .into_iter()
        .map(imported_fields)
        .collect();
    let b: Vec<_> = from_failures
        .contacts()
        .into_iter()
        .map(imported_fields)
        .collect();
    assert_eq!(a, b);
    let mohit = from_failures.contact(&phone("+919876543452")).unwrap();
    assert_eq!(mohit.name(), "=Mohit");
    assert_eq!(mohit.attributes.get("=Score"), Some("-3"));
    assert_eq!(mohit.attributes.get("City"), Some("@Delhi"));
}

#[test]
fn a_failing_writer_stops_the_export_with_its_error() {
    struct Full;
    impl io::Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut store = MemoryStore::new();
    store.insert(Contact::new(
        phone("+919876543452"),
        "Mohit".into(),
        Timestamp::UNIX_EPOCH,
    ));
    let error = export(
        &mut store,
        &Filter::everyone(),
        &Catalog::new(),
        Timestamp::UNIX_EPOCH,
        Full,
    )
    .unwrap_err();
    match error {
        ExportError::Write(e) => assert!(e.to_string().contains("disk full")),
        other => panic!("expected a write error, got {other:?}"),
    }
}

#[test]
fn a_failing_store_stops_the_export_with_its_error() {
    #[derive(Debug, thiserror::Error)]
    #[error("connection lost")]
    struct Lost;
    struct Remote;
    impl ContactStore for Remote {
        type Error = Lost;
        fn fetch(&mut self, _: &[Phone], _: &mut Vec<contact_import::Stored>) -> Result<(), Lost> {
            Err(Lost)
        }
        fn write_batch(&mut self, _: contact_import::WriteBatch) -> Result<Vec<Phone>, Lost> {
            Err(Lost)
        }
    }
    impl contact_import::ContactScan for Remote {
        fn scan(
            &mut self,
            _: &mut dyn FnMut(&Contact) -> std::ops::ControlFlow<()>,
        ) -> Result<(), Lost> {
            Err(Lost)
        }
    }
    let error = export(
        &mut Remote,
        &Filter::everyone(),
        &Catalog::new(),
        Timestamp::UNIX_EPOCH,
        io::sink(),
    )
    .unwrap_err();
    assert!(matches!(error, ExportError::Store(Lost)));
    assert_eq!(
        error.to_string(),
        "the store failed while listing contacts: connection lost"
    );
}

// ---- The round trip over random stores ----

/// Text an import keeps as it is: trimmed, not empty. Rich in what breaks
/// CSV and spreadsheets: formula starters, quotes, commas, line breaks.
fn arb_text() -> impl Strategy<Value = String> {
    "[=+@'\\-]?[a-zA-Zé\u{0930}\u{093e}=+@' ,\"\\-|\n\t]{0,12}"
        .prop_map(|s| s.trim().to_owned())
        .prop_filter("import drops empty cells", |s| !s.is_empty())
}

fn arb_name() -> impl Strategy<Value = String> {
    arb_text().prop_map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Tag names a catalog accepts and a Tags cell can hold: no `|`.
fn arb_tag() -> impl Strategy<Value = String> {
    arb_text()
        .prop_map(|s| s.replace('|', "/").trim().to_owned())
        .prop_filter("blank", |s| !s.is_empty())
}

/// Attribute names that auto-map back to themselves, including ones that
/// clash with the platform's columns.
const ATTRIBUTES: [&str; 8] = [
    "City",
    "email",
    "State",
    "Status",
    "=Score",
    "@handle",
    "Date of Birth",
    "Created At",
];

fn arb_store() -> impl Strategy<Value = (Catalog, Vec<Contact>)> {
    (
        prop::collection::btree_set(arb_tag(), 1..5),
        prop::sample::subsequence(ATTRIBUTES.to_vec(), 0..=ATTRIBUTES.len()),
    )
        .prop_flat_map(|(tags, attributes)| {
            let tags: Vec<String> = tags.into_iter().collect();
            let catalog = Catalog::new().with_tags(&tags).with_attributes(&attributes);
            let contact = arb_contact(tags, attributes.iter().map(|a| a.to_string()).collect());
            (
                Just(catalog),
                prop::collection::btree_map(0u32..100_000_000, contact, 0..20),
            )
        })
        .prop_map(|(catalog, contacts)| {
            let contacts = contacts
                .into_iter()
                .map(|(n, mut c)| {
                    c.phone = phone(&format!("+9198{n:08}"));
                    c
                })
                .collect();
            (catalog, contacts)
        })
}

fn arb_contact(tags: Vec<String>, attributes: Vec<String>) -> impl Strategy<Value = Contact> {
    let values = prop::collection::vec(prop::option::of(arb_text()), attributes.len());
    (
        arb_name(),
        prop::sample::subsequence(tags.clone(), 0..=tags.len()).prop_shuffle(),
        prop::option::of(arb_text()),
        prop::option::of(prop::sample::select(tags)),
        values,
        0i64..1_000_000,
        prop::option::of(0i64..1_000_000),
        prop::option::of(prop::sample::select(vec![State::Closed, State::Intervened])),
    )
        .prop_map(
            move |(name, tags, source, first, values, created, active, state)| {
                let epoch = Timestamp::UNIX_EPOCH;
                let mut c = Contact::new(
                    phone("+919800000000"),
                    name,
                    epoch + SignedDuration::from_secs(created),
                );
                c.tags = tags.iter().map(|t| Tag::new(t)).collect();
                c.source = source;
                c.first_message = first.map(|t| Tag::new(&t));
                for (attribute, value) in attributes.iter().zip(values) {
                    if let Some(value) = value {
                        c.attributes.set(attribute.as_str().into(), value);
                    }
                }
                c.last_active = active.map(|s| epoch + SignedDuration::from_secs(s));
                c.state = state;
                c
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn export_then_import_gives_back_the_same_contacts((catalog, contacts) in arb_store()) {
        let mut store = MemoryStore::new();
        for c in &contacts {
            store.insert(c.clone());
        }
        let now = Timestamp::UNIX_EPOCH + SignedDuration::from_secs(500_000);
        let text = export_text(&mut store, &Filter::everyone(), &catalog, now);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for record in reader.records() {
            let record = record.unwrap();
            for (i, cell) in record.iter().enumerate().filter(|(i, _)| *i != 1) {
                prop_assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "cell {}: {:?}", i, cell);
            }
        }
        let (back, report) = import_into_empty(&text, &catalog);
        prop_assert_eq!(report.failed, 0, "{:?}", report.failures);
        prop_assert_eq!(report.added as usize, contacts.len());
        let original: Vec<_> = store.contacts().into_iter().map(imported_fields).collect();
        let imported: Vec<_> = back.contacts().into_iter().map(imported_fields).collect();
        prop_assert_eq!(imported, original);
        // The platform's columns say what the store holds.
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for (record, contact) in reader.records().zip(store.contacts()) {
            let record = record.unwrap();
            let n = record.len();
            prop_assert_eq!(&record[n - 4], contact.status(now).as_str());
            prop_assert_eq!(&record[n - 3], contact.state.map_or("", |s| s.as_str()));
            let last: Option<Timestamp> = (!record[n - 2].is_empty()).then(|| record[n - 2].parse().unwrap());
            prop_assert_eq!(last, contact.last_active);
            prop_assert_eq!(record[n - 1].parse::<Timestamp>().unwrap(), contact.created_at);
        }
    }
}

#[test]
fn status_column_reads_active_within_the_window() {
    let now = at("2024-06-01T12:00:00Z");
    let mut store = MemoryStore::new();
    let mut c = Contact::new(phone("+919876543452"), "Mohit".into(), now);
    c.last_active = Some(now - SignedDuration::from_hours(23));
    store.insert(c);
    let text = export_text(
        &mut store,
        &Filter::status(Status::Active, now),
        &Catalog::new(),
        now,
    );
    assert!(text.lines().nth(1).unwrap().contains(",ACTIVE,"));
}
