//! Which column feeds which field, and files refused before anything is written.

use crate::common::*;
use contact_import::{ColumnMapping, Field, FileErrorKind, ImportOptions, WarningCode};

#[test]
fn guide_headers_map_automatically() {
    let (report, store) = import(
        "Name,Mobile Number,Tags,Source,First Message,City,email,State\n\
         Mohit Dua,+919876543452,MBA,Website,Finance,Delhi,mohit@example.com,Delhi\n",
    );
    assert_eq!(report.added, 1);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let mohit = contact(&store, "+919876543452");
    assert_eq!(mohit.source.as_deref(), Some("Website"));
    assert_eq!(
        mohit.first_message.as_ref().map(|t| t.as_str()),
        Some("Finance")
    );
    assert_eq!(mohit.attributes.get("email"), Some("mohit@example.com"));
}

#[test]
fn aliases_and_spelling_variants_map() {
    for (name, phone_header) in [
        ("Full Name", "Mobile"),
        ("user_name", "Phone"),
        ("NAME", "phone-number"),
        ("  Name ", "WhatsApp Number"),
        ("Name", "mobile_number"),
    ] {
        let csv = format!("{name},{phone_header}\nAsha Rao,9876543210\n");
        let (report, _) = import(&csv);
        assert_eq!(report.added, 1, "headers {name:?}, {phone_header:?}");
    }
}

#[test]
fn first_message_tag_and_dollar_attributes_map() {
    let (report, store) =
        import("Name,Phone,First Message Tag,$City,E-Mail\nAsha,9876543210,MBA,Pune,a@b.in\n");
    assert_eq!(report.added, 1);
    let asha = contact(&store, "+919876543210");
    assert_eq!(asha.first_message.as_ref().unwrap().as_str(), "MBA");
    assert_eq!(asha.attributes.get("City"), Some("Pune"));
    assert_eq!(asha.attributes.get("email"), Some("a@b.in"));
}

#[test]
fn explicit_mapping_overrides_automatic() {
    let mapping = ColumnMapping::new()
        .map("Cell", Field::Phone)
        .map("Phone", Field::Ignore)
        .map("Town", Field::Attribute("City".into()));
    let (report, store) = import_with(
        ImportOptions::new().with_mapping(mapping),
        "Name,Phone,Cell,Town\nAsha,000,9876543210,Pune\n",
    );
    assert_eq!(report.added, 1);
    assert_eq!(
        contact(&store, "+919876543210").attributes.get("City"),
        Some("Pune")
    );
}

#[test]
fn unknown_header_is_ignored_with_one_warning() {
    let (report, _) = import("Name,Phone,Favourite Colour\nA,9876543210,red\nB,9876543211,blue\n");
    assert_eq!(report.added, 2);
    let warnings: Vec<_> = report
        .warnings
        .iter()
        .filter(|w| w.code == WarningCode::UnknownColumn)
        .collect();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].row, None);
    assert_eq!(warnings[0].column.as_deref(), Some("Favourite Colour"));
}

#[test]
fn missing_name_column_is_refused_naming_the_headers() {
    let error = refused("Mobile Number,City\n9876543210,Delhi\n");
    match error.kind() {
        FileErrorKind::MissingColumn { field, headers } => {
            assert_eq!(field, "name");
            assert_eq!(headers, &["Mobile Number", "City"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("\"Mobile Number\"") && message.contains("\"City\""),
        "{message}"
    );
}

#[test]
fn missing_phone_column_is_refused() {
    let error = refused("Name,City\nAsha,Delhi\n");
    assert!(matches!(error.kind(), FileErrorKind::MissingColumn { field, .. } if field == "phone"));
}

#[test]
fn two_columns_for_one_field_are_refused() {
    let error = refused("Name,Mobile,Phone\nAsha,9876543210,9876543211\n");
    match error.kind() {
        FileErrorKind::DuplicateColumn { field, headers } => {
            assert_eq!(field, "phone");
            assert_eq!(headers, &["Mobile", "Phone"]);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn mapping_to_an_attribute_outside_the_catalog_is_refused() {
    let engine = engine_with(
        ImportOptions::new()
            .with_mapping(ColumnMapping::new().map("Pet", Field::Attribute("Pet".into()))),
    );
    let result = engine.import(
        std::io::Cursor::new("Name,Phone,Pet\nA,9876543210,cat\n"),
        &mut contact_import::MemoryStore::new(),
    );
    assert!(matches!(
        result,
        Err(contact_import::ImportError::File(e)) if matches!(e.kind(), FileErrorKind::UnknownAttribute { .. })
    ));
}

#[test]
fn refused_files_write_nothing() {
    let mut store = contact_import::MemoryStore::new();
    let _ = engine().import(
        std::io::Cursor::new("Name,Name,Phone\nA,B,9876543210\n"),
        &mut store,
    );
    assert!(store.is_empty());
}

#[test]
fn empty_file_is_refused() {
    assert!(matches!(refused("").kind(), FileErrorKind::Empty));
}

#[test]
fn bom_crlf_and_quoted_fields_work() {
    let csv =
        "\u{feff}Name,Phone,City\r\n\"Dua, Mohit\",9876543452,\"New\r\nDelhi \"\"NCR\"\"\"\r\n";
    let (report, store) = import(csv);
    assert_eq!(report.added, 1, "{report:?}");
    let mohit = contact(&store, "+919876543452");
    assert_eq!(mohit.name(), "Dua, Mohit");
    assert_eq!(mohit.attributes.get("City"), Some("New\r\nDelhi \"NCR\""));
}

#[test]
fn mapping_round_trips_through_serde() {
    let mapping = ColumnMapping::new()
        .map("Cell", Field::Phone)
        .map("Town", Field::Attribute("City".into()));
    let json = serde_json::to_string(&mapping).unwrap();
    let back: ColumnMapping = serde_json::from_str(&json).unwrap();
    assert_eq!(back, mapping);
}

#[test]
fn field_parses_from_the_example_flag_syntax() {
    assert_eq!("first_message".parse::<Field>(), Ok(Field::FirstMessage));
    assert_eq!(
        "attr:City".parse::<Field>(),
        Ok(Field::Attribute("City".into()))
    );
    assert!("colour".parse::<Field>().is_err());
}

#[test]
fn columns_this_crate_writes_are_ignored_quietly() {
    let (report, _) = import(
        "Name,Phone,Status,Contact State,Last Active,Created At,Row,Reason\nA,9876543210,ACTIVE,,,,2,x\n",
    );
    assert_eq!(report.added, 1);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[test]
fn a_catalog_attribute_wins_over_an_own_column() {
    let engine =
        contact_import::ImportEngine::new(guide_catalog().with_attributes(["Status"]), t0());
    let mut store = contact_import::MemoryStore::new();
    import_into(
        &engine,
        &mut store,
        "Name,Phone,Status\nA,9876543210,Gold\n",
    );
    assert_eq!(
        contact(&store, "+919876543210").attributes.get("Status"),
        Some("Gold")
    );
}
