//! Mapping suggestions, and the headers of common exports and languages.

use crate::common::*;
use contact_import::suggest::Reason;
use contact_import::{ColumnMapping, Field, ImportOptions, WarningCode};

fn fields(headers: &[&str]) -> Vec<Field> {
    let samples: [Vec<&str>; 0] = [];
    ColumnMapping::suggest(headers, &samples, &guide_catalog())
        .into_iter()
        .map(|s| s.field)
        .collect()
}

#[test]
fn exact_and_alias_headers_are_sure() {
    let s = ColumnMapping::suggest(
        &["Name", "Mobile Number", "City"],
        &[] as &[Vec<&str>],
        &guide_catalog(),
    );
    assert_eq!((s[0].reason.clone(), s[0].confidence), (Reason::Exact, 1.0));
    assert_eq!(s[1].reason, Reason::Alias);
    assert!(s[1].confidence > 0.9);
    assert_eq!(s[2].field, Field::Attribute("City".into()));
}

#[test]
fn hindi_headers_are_known() {
    assert_eq!(
        fields(&["नाम", "मोबाइल नंबर", "फ़ोन", "टैग"]),
        [Field::Name, Field::Phone, Field::Phone, Field::Tags]
    );
    // फ़ with its nukta precomposed (U+095E) or combining (U+092B U+093C).
    assert_eq!(
        fields(&["\u{095E}ोन", "\u{092B}\u{093C}ोन"]),
        [Field::Phone, Field::Phone]
    );
}

#[test]
fn export_formats_are_known() {
    // Google Contacts, Outlook, HubSpot and Zoho column names.
    assert_eq!(
        fields(&["Given Name", "Family Name", "Phone 1 - Value"]),
        [Field::FirstName, Field::LastName, Field::Phone]
    );
    assert_eq!(
        fields(&["First Name", "Last Name", "Mobile Phone"])[2],
        Field::Phone
    );
    assert_eq!(
        fields(&["Mobile Phone Number", "Lead Source"]),
        [Field::Phone, Field::Source]
    );
}

#[test]
fn misspelt_headers_are_fuzzy_matches() {
    let s = ColumnMapping::suggest(
        &["Mobile Numbr", "Tagz"],
        &[] as &[Vec<&str>],
        &guide_catalog(),
    );
    assert_eq!(s[0].field, Field::Phone);
    assert!(matches!(&s[0].reason, Reason::Fuzzy { near, distance: 1 } if near == "mobilenumber"));
    assert_eq!(s[1].field, Field::Tags);
    assert!(s[0].confidence < 0.95);
}

#[test]
fn sample_values_that_look_like_phones_or_emails_decide() {
    let samples = vec![
        vec!["98765 43210", "asha@example.in", "blue"],
        vec!["+91 98765 43211", "ravi@example.com", "red"],
    ];
    let s = ColumnMapping::suggest(
        &["Contact", "Mail Address", "Colour"],
        &samples,
        &guide_catalog(),
    );
    assert_eq!(s[0].field, Field::Phone);
    assert!(matches!(s[0].reason, Reason::Values { ref looks_like, .. } if looks_like == "phone"));
    assert_eq!(s[1].field, Field::Attribute("email".into()));
    assert_eq!(
        (s[2].field.clone(), s[2].reason.clone()),
        (Field::Ignore, Reason::NoMatch)
    );
}

#[test]
fn suggestions_become_a_mapping_the_surer_one_winning() {
    let samples = vec![vec!["Asha", "9876543210", "9876543211"]];
    let s = ColumnMapping::suggest(&["Name", "Mobile", "Contact"], &samples, &guide_catalog());
    let mapping = ColumnMapping::from_suggestions(&s, 0.5);
    assert_eq!(mapping.get("Mobile"), Some(&Field::Phone));
    assert_eq!(
        mapping.get("Contact"),
        Some(&Field::Ignore),
        "Phone went to the surer column"
    );
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains("\"kind\":\"alias\""), "{json}");
}

#[test]
fn first_and_last_name_columns_are_joined_into_the_name() {
    let (report, store) =
        import("Given Name,Family Name,Mobile Phone\nAsha,Rao,9876543210\nRavi,,9876543211\n");
    assert_eq!(report.added, 2, "{report:?}");
    let asha = contact(&store, "+919876543210");
    assert_eq!(
        (asha.name(), asha.first_name(), asha.last_name()),
        ("Asha Rao", "Asha", "Rao")
    );
    assert_eq!(contact(&store, "+919876543211").name(), "Ravi");
}

#[test]
fn a_name_column_supersedes_first_and_last_name() {
    let (report, store) =
        import("Name,Given Name,Family Name,Phone\nAsha R.,Asha,Rao,9876543210\n");
    assert_eq!(contact(&store, "+919876543210").name(), "Asha R.");
    let superseded: Vec<_> = report
        .warnings
        .iter()
        .filter(|w| w.code == WarningCode::SupersededColumn)
        .map(|w| w.column.as_deref())
        .collect();
    assert_eq!(superseded, [Some("Given Name"), Some("Family Name")]);
}

#[test]
fn an_empty_first_name_fails_as_missing_name() {
    let (report, _) = import("First Name,Last Name,Phone\n,,9876543210\n");
    assert_eq!(
        report.failures[0].code,
        contact_import::FailureCode::MissingName
    );
    assert_eq!(
        report.failures[0].position.column.as_deref(),
        Some("First Name")
    );
}

#[test]
fn suggested_mappings_import() {
    let headers = ["Full Nme", "Cell No", "Town"];
    let samples = vec![vec!["Asha Rao", "98765 43210", "Pune"]];
    let mapping = ColumnMapping::from_suggestions(
        &ColumnMapping::suggest(&headers, &samples, &guide_catalog()),
        0.5,
    )
    .map("Town", Field::Attribute("City".into()));
    let (report, store) = import_with(
        ImportOptions::new().with_mapping(mapping),
        "Full Nme,Cell No,Town\nAsha Rao,98765 43210,Pune\n",
    );
    assert_eq!(report.added, 1, "{report:?}");
    assert_eq!(
        contact(&store, "+919876543210").attributes.get("City"),
        Some("Pune")
    );
}
