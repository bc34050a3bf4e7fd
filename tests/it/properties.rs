//! Properties that hold for every input.

use std::io::Cursor;

use crate::common::*;
use contact_import::{ImportError, ImportOptions, MemoryStore};
use proptest::prelude::*;

/// Bytes that look enough like CSV to get past the header often.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"Name,Phone,Tags,City\n".to_vec()),
        Just(b"Name;Phone\n".to_vec()),
        Just(b",".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"9876543210".to_vec()),
        Just(b"+91 98765".to_vec()),
        Just(b"MBA | Finance".to_vec()),
        Just("राहुल\u{200b}".as_bytes().to_vec()),
        Just(b"\xff\xfe".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"9.19876E+11".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..8),
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
}

fn check_any_input(
    bytes: &[u8],
    batch_size: usize,
    mode: contact_import::ImportMode,
) -> Result<(), TestCaseError> {
    let engine = engine_with(
        ImportOptions::new()
            .with_batch_size(batch_size)
            .with_mode(mode)
            .with_max_row_bytes(256),
    );
    let mut store = MemoryStore::new();
    match engine.import(Cursor::new(bytes), &mut store) {
        Ok(report) => {
            prop_assert_eq!(
                report.rows,
                report.added + report.updated + report.unchanged + report.skipped + report.failed
            );
            prop_assert_eq!(store.len(), report.phones_added.len());
            let mut failures = Vec::new();
            prop_assert!(report.write_failures(&mut failures).is_ok());
        }
        Err(ImportError::File(error)) => prop_assert!(store.is_empty(), "{}", error),
        Err(other) => prop_assert!(false, "{}", other),
    }
    // A dry run of the same bytes neither panics nor writes.
    let _ = engine.plan(Cursor::new(bytes), &mut store, |_| {});
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn any_bytes_give_a_report_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..600), batch in 1usize..5, mode in import_mode()) {
        check_any_input(&bytes, batch, mode)?;
    }

    #[test]
    fn any_csvish_bytes_give_a_report_or_an_error(bytes in csvish(), batch in 1usize..5, mode in import_mode()) {
        check_any_input(&bytes, batch, mode)?;
    }

    #[test]
    fn importing_the_same_file_twice_adds_and_changes_nothing(
        rows in proptest::collection::vec(row(), 0..30),
        update in update_policy(),
    ) {
        let engine = engine_with(ImportOptions::new().with_update(update));
        let csv = csv_text(&rows);
        let mut store = MemoryStore::new();
        let first = import_into(&engine, &mut store, &csv);
        let after_first: Vec<_> = store.contacts().into_iter().cloned().collect();
        let second = import_into(&engine, &mut store, &csv);
        prop_assert_eq!(second.added, 0);
        prop_assert_eq!(second.failed, first.failed);
        let after_second: Vec<_> = store.contacts().into_iter().cloned().collect();
        prop_assert_eq!(after_first, after_second);
    }
}
