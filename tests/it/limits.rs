//! Row limits hold at their edges, and names normalize the same on every path.

use crate::common::*;
use contact_import::{FailureCode, FileErrorKind, ImportError, ImportOptions, MemoryStore};

#[test]
fn a_row_exactly_at_the_byte_limit_is_read() {
    // "Asha" + "9876543210": 14 bytes of cells (delimiters do not count).
    let csv = "Name,Phone\nAsha,9876543210\nAshaa,9876543211\n";
    let engine = engine_with(ImportOptions::new().with_max_row_bytes(14));
    let report = import_into(&engine, &mut MemoryStore::new(), csv);
    assert_eq!(report.added, 1, "{report:?}");
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].position.row, 3);
    assert_eq!(report.failures[0].code, FailureCode::RowTooLarge);
}

#[test]
fn zero_limits_refuse_the_file_instead_of_hanging() {
    for options in [
        ImportOptions::new().with_max_row_bytes(0),
        ImportOptions::new().with_max_fields(0),
    ] {
        let result = engine_with(options)
            .import_bytes(b"Name,Phone\nAsha,9876543210\n", &mut MemoryStore::new());
        match result {
            Err(ImportError::File(e)) => assert!(matches!(e.kind(), FileErrorKind::HeaderTooLarge)),
            other => panic!("expected the header to be too large, got {other:?}"),
        }
    }
}

proptest::proptest! {
    /// Names are trimmed and their whitespace collapsed, whatever mix of
    /// plain words, runs of spaces, tabs and other scripts they hold.
    #[test]
    fn names_collapse_whitespace(name in "[a-zA-Z~ \t\u{0915}\u{00A0}]{0,24}") {
        let contact = contact_import::Contact::new(phone("+919876543210"), name.clone(), t0());
        let words: Vec<&str> = name.split_whitespace().collect();
        proptest::prop_assert_eq!(contact.name(), words.join(" "));
    }
}
