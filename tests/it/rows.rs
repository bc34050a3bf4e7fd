//! How each row is normalized, and why a row fails.

use crate::common::*;
use contact_import::{
    FailureCode, ImportOptions, PhoneError, PhoneNormalizer, Region, WarningCode,
};

fn normalize(cell: &str) -> Result<String, PhoneError> {
    PhoneNormalizer::default()
        .normalize(cell)
        .map(|p| p.to_string())
}

#[test]
fn indian_numbers_in_every_written_form_become_e164() {
    for cell in [
        "9876543452",
        "919876543452",
        "+919876543452",
        "09876543452",
        "+91 98765 43452",
        "98765-43452",
        "(+91) 98765.43452",
        "'9876543452",
        "00919876543452",
        " 9876543452 ",
    ] {
        assert_eq!(
            normalize(cell).as_deref(),
            Ok("+919876543452"),
            "cell {cell:?}"
        );
    }
}

#[test]
fn international_numbers_keep_their_country_code() {
    assert_eq!(normalize("+15417543010").as_deref(), Ok("+15417543010"));
    assert_eq!(
        normalize("+1 (541) 754-3010").as_deref(),
        Ok("+15417543010")
    );
    assert_eq!(normalize("0015417543010").as_deref(), Ok("+15417543010"));
    assert_eq!(
        normalize("+44 20 7946 0958").as_deref(),
        Ok("+442079460958")
    );
}

// libphonenumber keeps a bare 10-digit national number starting with 91
// (phonenumber 0.3.10 took the 91 for the country code).
#[test]
fn ten_digits_starting_with_91_are_a_national_number() {
    assert_eq!(normalize("9105925395").as_deref(), Ok("+919105925395"));
}

// A national prefix is kept where the number needs it (phonenumber 0.3.10
// stripped the default region's from international numbers).
#[test]
fn italian_leading_zero_survives() {
    assert_eq!(
        normalize("+39 02 3661 8300").as_deref(),
        Ok("+390236618300")
    );
}

// libphonenumber reads letters as keypad digits; the rules refuse them.
#[test]
fn letters_make_a_number_invalid() {
    let error = normalize("98765abcde").unwrap_err();
    assert!(
        matches!(&error, PhoneError::Invalid(m) if m.contains("letter")),
        "{error}"
    );
    assert!(normalize("9876543452 x123").is_err());
}

#[test]
fn scientific_notation_asks_for_a_text_column() {
    for cell in ["9.19876E+11", "9.19876e11", "9E+11"] {
        let error = normalize(cell).unwrap_err();
        assert!(matches!(error, PhoneError::ScientificNotation(_)), "{cell}");
        assert!(error.to_string().contains("as text"));
    }
}

#[test]
fn unusable_numbers_say_what_was_wrong() {
    assert_eq!(normalize(""), Err(PhoneError::Missing));
    assert_eq!(normalize(" - "), Err(PhoneError::Missing));
    let short = normalize("12345").unwrap_err().to_string();
    assert!(short.contains("5 digits"), "{short}");
    let invalid = normalize("+91 55555 55555").unwrap_err().to_string();
    assert!(invalid.contains("not a valid number"), "{invalid}");
    let plus = normalize("98765+43452").unwrap_err().to_string();
    assert!(plus.contains("'+'"), "{plus}");
}

#[test]
fn another_default_region_can_be_chosen() {
    let us = PhoneNormalizer::new("US".parse::<Region>().unwrap());
    assert_eq!(
        us.normalize("(541) 754-3010").unwrap().as_str(),
        "+15417543010"
    );
    assert_eq!(
        us.normalize("+919876543452").unwrap().as_str(),
        "+919876543452"
    );
    assert!("XX".parse::<Region>().is_err());
}

#[test]
fn the_region_option_reaches_the_rows() {
    let engine = engine_with(ImportOptions::new().with_region("GB".parse().unwrap()));
    let mut store = contact_import::MemoryStore::new();
    let report = import_into(&engine, &mut store, "Name,Phone\nJo,020 7946 0958\n");
    assert_eq!(report.added, 1, "{report:?}");
    contact(&store, "+442079460958");
}

#[test]
fn name_is_trimmed_collapsed_and_split() {
    let (_, store) =
        import("Name,Phone\n  Mohit   Dua  ,9876543452\nCher,9876543453\nA  B\tC D,9876543454\n");
    let mohit = contact(&store, "+919876543452");
    assert_eq!(
        (mohit.name(), mohit.first_name(), mohit.last_name()),
        ("Mohit Dua", "Mohit", "Dua")
    );
    let cher = contact(&store, "+919876543453");
    assert_eq!((cher.first_name(), cher.last_name()), ("Cher", ""));
    let abcd = contact(&store, "+919876543454");
    assert_eq!(
        (abcd.name(), abcd.first_name(), abcd.last_name()),
        ("A B C D", "A", "B C D")
    );
}

#[test]
fn failures_carry_code_row_column_and_message() {
    let (report, store) = import(
        "Name,Phone\n\
         ,9876543452\n\
         Asha,\n\
         Ravi,9.19876E+11\n\
         Meera,12345\n\
         Kiran,9876543210\n",
    );
    assert_eq!((report.rows, report.added, report.failed), (5, 1, 4));
    let got: Vec<_> = report
        .failures
        .iter()
        .map(|f| (f.position.row, f.code, f.position.column.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (2, FailureCode::MissingName, Some("Name")),
            (3, FailureCode::MissingPhone, Some("Phone")),
            (4, FailureCode::PhoneScientificNotation, Some("Phone")),
            (5, FailureCode::InvalidPhone, Some("Phone")),
        ]
    );
    assert!(report.failures.iter().all(|f| !f.message.is_empty()));
    assert_eq!(store.len(), 1);
}

#[test]
fn rows_are_numbered_as_a_spreadsheet_shows_them() {
    // Row 2 spans two lines of the file but is one spreadsheet row.
    let (report, _) = import("Name,Phone,City\nAsha,9876543210,\"Pune\nEast\"\nRavi,123,Delhi\n");
    assert_eq!(report.failures[0].position.row, 3);
}

#[test]
fn wrong_field_counts_fail_the_row() {
    let (report, store) = import(
        "Name,Phone,City\nAsha,9876543210\nRavi,9876543211,Delhi,extra\nKiran,9876543212,Pune\n",
    );
    assert_eq!(report.added, 1);
    let codes: Vec<_> = report
        .failures
        .iter()
        .map(|f| (f.position.row, f.code))
        .collect();
    assert_eq!(
        codes,
        [
            (2, FailureCode::FieldCountMismatch),
            (3, FailureCode::FieldCountMismatch)
        ]
    );
    assert!(
        report.failures[0]
            .message
            .contains("2 fields but the header has 3")
    );
    assert_eq!(store.len(), 1);
}

#[test]
fn invalid_utf8_fails_the_row_and_names_the_column() {
    let mut file = b"Name,Phone\nCaf".to_vec();
    file.push(0xE9);
    file.extend_from_slice(b",9876543210\nAsha,9876543211\n");
    let mut store = contact_import::MemoryStore::new();
    let report = engine().import_bytes(&file, &mut store).unwrap();
    assert_eq!((report.added, report.failed), (1, 1));
    assert_eq!(report.failures[0].code, FailureCode::InvalidUtf8);
    assert_eq!(report.failures[0].position.column.as_deref(), Some("Name"));
    assert_eq!(report.failures[0].values[0], "Caf\u{fffd}");
}

#[test]
fn tags_split_on_pipes_and_keep_only_catalog_tags() {
    let (report, store) = import(
        "Name,Phone,Tags\n\
         C1,9876543201,MBA\n\
         C2,9876543202,MBA | Finance\n\
         C3,9876543203,Marketing | Finance | MBA\n\
         C4,9876543204, | MBA||MBA | Finance |\n\
         C5,9876543205,mba | Sales\n",
    );
    assert_eq!(tags(contact(&store, "+919876543201")), ["MBA"]);
    assert_eq!(tags(contact(&store, "+919876543202")), ["MBA", "Finance"]);
    assert_eq!(
        tags(contact(&store, "+919876543203")),
        ["Marketing", "Finance", "MBA"]
    );
    assert_eq!(tags(contact(&store, "+919876543204")), ["MBA", "Finance"]);
    assert!(tags(contact(&store, "+919876543205")).is_empty());
    let warnings: Vec<_> = report
        .warnings
        .iter()
        .filter(|w| w.code == WarningCode::UnknownTag)
        .collect();
    assert_eq!(warnings.len(), 2);
    assert_eq!(warnings[0].row, Some(6));
    assert!(
        warnings[0].message.contains("did you mean \"MBA\""),
        "{}",
        warnings[0].message
    );
    assert!(!warnings[1].message.contains("did you mean"));
}

#[test]
fn first_message_takes_one_catalog_tag() {
    let (report, store) = import(
        "Name,Phone,First Message\n\
         A,9876543201,Finance\n\
         B,9876543202,MBA | Finance\n\
         C,9876543203,Sales\n\
         D,9876543204,\n",
    );
    assert_eq!(report.added, 4);
    let first = |p: &str| {
        contact(&store, p)
            .first_message
            .as_ref()
            .map(|t| t.to_string())
    };
    assert_eq!(first("+919876543201").as_deref(), Some("Finance"));
    assert_eq!(first("+919876543202"), None);
    assert_eq!(first("+919876543203"), None);
    assert_eq!(first("+919876543204"), None);
    let rows: Vec<_> = report
        .warnings
        .iter()
        .filter(|w| w.code == WarningCode::InvalidFirstMessage)
        .map(|w| w.row)
        .collect();
    assert_eq!(rows, [Some(3), Some(4)]);
}

#[test]
fn source_defaults_to_import_for_new_contacts() {
    let (_, store) = import("Name,Phone,Source\nA,9876543201,Facebook Ad\nB,9876543202,\n");
    assert_eq!(
        contact(&store, "+919876543201").source.as_deref(),
        Some("Facebook Ad")
    );
    assert_eq!(
        contact(&store, "+919876543202").source.as_deref(),
        Some("IMPORT")
    );
    let (_, store) = import("Name,Phone\nA,9876543201\n");
    assert_eq!(
        contact(&store, "+919876543201").source.as_deref(),
        Some("IMPORT")
    );
}

#[test]
fn the_default_source_is_configurable_and_may_be_none() {
    let engine = engine_with(ImportOptions::new().with_default_source(None));
    let mut store = contact_import::MemoryStore::new();
    import_into(&engine, &mut store, "Name,Phone\nA,9876543201\n");
    assert_eq!(contact(&store, "+919876543201").source, None);
}

#[test]
fn names_of_any_length_and_script_are_kept_whole() {
    // Names up to 24 bytes are kept inline, longer ones on the heap: both
    // read back the same, and so does a name whose spaces are collapsed.
    let long = "Venkata Subrahmanya Lakshmi Narasimha Rao";
    let devanagari = "अमिताभ   बच्चन"; // 40 bytes, three spaces
    let file = format!("Name,Phone\nAsha,9876543201\n{long},9876543202\n{devanagari},9876543203\n");
    let (_, store) = import(&file);
    assert_eq!(contact(&store, "+919876543201").name(), "Asha");
    let rao = contact(&store, "+919876543202");
    assert_eq!((rao.name(), rao.first_name()), (long, "Venkata"));
    assert_eq!(contact(&store, "+919876543203").name(), "अमिताभ बच्चन");
}

#[test]
fn attributes_of_every_length_read_back_as_set() {
    let email = "a.very.long.address.for.someone@example.co.in";
    let (_, store) = import(&format!(
        "Name,Phone,City,email,State\nA,9876543201,Delhi,{email},\nB,9876543202,,x@y.in,Goa\n"
    ));
    let a = contact(&store, "+919876543201");
    let values = |c: &contact_import::Contact| {
        ["City", "email", "State"].map(|name| c.attributes.get(name).map(str::to_owned))
    };
    assert_eq!(values(a), [Some("Delhi".into()), Some(email.into()), None]);
    let b = contact(&store, "+919876543202");
    assert_eq!(values(b), [None, Some("x@y.in".into()), Some("Goa".into())]);
}

#[test]
fn attributes_are_trimmed_and_empty_cells_set_nothing() {
    let (_, store) = import("Name,Phone,City,email\nA,9876543201,  Delhi ,\n");
    let a = contact(&store, "+919876543201");
    assert_eq!(a.attributes.get("City"), Some("Delhi"));
    assert_eq!(a.attributes.get("email"), None);
}

#[test]
fn a_leading_apostrophe_is_stripped_from_every_cell() {
    let (_, store) = import("Name,Phone,City\n'=Asha,'9876543201,'Delhi\n");
    let a = contact(&store, "+919876543201");
    assert_eq!(a.name(), "=Asha");
    assert_eq!(a.attributes.get("City"), Some("Delhi"));
}

#[test]
fn blank_rows_are_skipped_but_keep_their_row_number() {
    let (report, _) = import("Name,Phone\nA,9876543201\n,\n , \nB,123\n");
    assert_eq!((report.rows, report.added, report.failed), (2, 1, 1));
    assert_eq!(report.failures[0].position.row, 5);
}

#[test]
fn a_row_over_the_size_limit_fails_without_being_held() {
    let engine = engine_with(ImportOptions::new().with_max_row_bytes(64));
    let big = "x".repeat(10_000);
    let mut store = contact_import::MemoryStore::new();
    let report = import_into(
        &engine,
        &mut store,
        &format!("Name,Phone\n{big},9876543201\nB,9876543202\n"),
    );
    assert_eq!((report.added, report.failed), (1, 1));
    assert_eq!(report.failures[0].code, FailureCode::RowTooLarge);
    assert_eq!(report.failures[0].position.row, 2);
}

#[test]
fn spreadsheet_floats_are_repaired_when_no_digit_was_lost() {
    assert_eq!(normalize("919876543452.0").as_deref(), Ok("+919876543452"));
    assert_eq!(normalize("9876543452.00").as_deref(), Ok("+919876543452"));
    assert_eq!(normalize("9.876543452E9").as_deref(), Ok("+919876543452"));
    assert_eq!(
        normalize("9.19876543452E+11").as_deref(),
        Ok("+919876543452")
    );
    assert_eq!(normalize("'9.876543452e9").as_deref(), Ok("+919876543452"));
    // Digits were lost: the spreadsheet rounded to what it could show.
    assert!(matches!(
        normalize("9.19876E+11"),
        Err(PhoneError::ScientificNotation(_))
    ));
    // Not an integer at all.
    assert!(matches!(
        normalize("9.8765434521E9"),
        Err(PhoneError::ScientificNotation(_))
    ));
    assert!(normalize("9876543452.5").is_err());
}

#[test]
fn repaired_floats_import() {
    let (report, store) = import("Name,Phone\nAsha,919876543452.0\nRavi,9.19876E+11\n");
    assert_eq!((report.added, report.failed), (1, 1));
    contact(&store, "+919876543452");
    assert_eq!(
        report.failures[0].code,
        FailureCode::PhoneScientificNotation
    );
}
