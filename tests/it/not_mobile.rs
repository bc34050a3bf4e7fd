//! A number that cannot be a WhatsApp mobile imports with the warning
//! `not_mobile` (or fails with it when the options say so), and every
//! contact carries its number's type.

use crate::common::phone;
use contact_import::{
    Catalog, FailureCode, ImportEngine, ImportOptions, ImportReport, MemoryStore, NumberType,
    WarningCode,
};

const CSV: &str = "Name,Phone\n\
    Mobile One,98765 43210\n\
    Bangalore Office,080 2345 6789\n\
    Free Call,1800 632 8268\n\
    New York,+1 212 555 0123\n\
    Shared Cost,1860 345 1234\n";

fn import(options: ImportOptions) -> (ImportReport, MemoryStore) {
    let engine =
        ImportEngine::new(Catalog::new(), jiff::Timestamp::UNIX_EPOCH).with_options(options);
    let mut store = MemoryStore::new();
    let report = engine.import_bytes(CSV.as_bytes(), &mut store).unwrap();
    (report, store)
}

#[test]
fn landlines_and_toll_free_numbers_import_with_a_warning() {
    let (report, store) = import(ImportOptions::default());
    assert_eq!((report.added, report.failed), (5, 0));
    let warned: Vec<(Option<u64>, Option<&str>)> = report
        .warnings
        .iter()
        .filter(|w| w.code == WarningCode::NotMobile)
        .map(|w| (w.row, w.column.as_deref()))
        .collect();
    // The US number may be a mobile: the metadata cannot tell.
    assert_eq!(
        warned,
        [
            (Some(3), Some("Phone")),
            (Some(4), Some("Phone")),
            (Some(6), Some("Phone"))
        ]
    );
    assert_eq!(report.not_mobile, 3);
    let message = &report
        .warnings
        .iter()
        .find(|w| w.row == Some(4))
        .unwrap()
        .message;
    assert!(
        message.contains("+9118006328268") && message.contains("toll free"),
        "{message}"
    );
    let kinds = [
        ("+919876543210", NumberType::Mobile),
        ("+918023456789", NumberType::FixedLine),
        ("+9118006328268", NumberType::TollFree),
        ("+12125550123", NumberType::FixedLineOrMobile),
        ("+9118603451234", NumberType::SharedCost),
    ];
    for (e164, kind) in kinds {
        let contact = store.contact(&phone(e164)).unwrap();
        assert_eq!(contact.number_type(), kind, "{e164}");
        let json = serde_json::to_value(contact).unwrap();
        assert_eq!(json["number_type"], kind.as_str(), "{e164}");
    }
}

#[test]
fn an_option_makes_them_fail() {
    let options = ImportOptions::new().with_reject_not_mobile(true);
    let (report, store) = import(options);
    assert_eq!((report.added, report.failed), (2, 3));
    let failed: Vec<(u64, FailureCode)> = report
        .failures
        .iter()
        .map(|f| (f.position.row, f.code))
        .collect();
    let code = FailureCode::NotMobile;
    assert_eq!(failed, [(3, code), (4, code), (6, code)]);
    assert_eq!(report.not_mobile, 3);
    assert!(
        report
            .warnings
            .iter()
            .all(|w| w.code != WarningCode::NotMobile)
    );
    assert!(store.contact(&phone("+918023456789")).is_none());
    assert!(report.failures[0].message.contains("mobile number"));
}

#[test]
fn a_contact_read_back_from_json_derives_its_type_again() {
    let (_, store) = import(ImportOptions::default());
    let contact = store.contact(&phone("+9118006328268")).unwrap();
    let json = serde_json::to_string(contact).unwrap();
    let back: contact_import::Contact = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, contact);
    assert_eq!(back.number_type(), NumberType::TollFree);
}
