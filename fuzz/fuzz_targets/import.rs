//! The whole path on arbitrary bytes: engine -> MemoryStore -> report ->
//! failure file, and a dry run. Any panic is a bug.
#![no_main]

use std::io::Cursor;

use contact_import::{
    Catalog, DuplicatePolicy, ImportEngine, ImportOptions, MemoryStore, Timestamp, UpdatePolicy,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the options, the rest is the file.
    let Some((&knobs, file)) = data.split_first() else {
        return;
    };
    let options = ImportOptions::new()
        .with_batch_size(1 + (knobs & 0x7) as usize)
        .with_duplicates(match (knobs >> 3) & 0x3 {
            0 => DuplicatePolicy::Merge,
            1 => DuplicatePolicy::FirstWins,
            2 => DuplicatePolicy::LastWins,
            _ => DuplicatePolicy::Reject,
        })
        .with_update(if knobs & 0x20 != 0 { UpdatePolicy::overwrite() } else { UpdatePolicy::default() })
        .with_encoding((knobs & 0x40 != 0).then_some(contact_import::encoding_rs::WINDOWS_1252))
        .with_max_row_bytes(4096)
        .with_max_fields(256);
    let catalog = Catalog::new()
        .with_tags(["MBA", "Finance", "Marketing"])
        .with_attributes(["City", "email", "State"]);
    let engine = ImportEngine::new(catalog, Timestamp::UNIX_EPOCH).with_options(options);
    let mut store = MemoryStore::new();
    if let Ok(report) = engine.import(Cursor::new(file), &mut store) {
        assert_eq!(report.rows, report.added + report.updated + report.unchanged + report.failed);
        let mut failures = Vec::new();
        report.write_failures(&mut failures).expect("writing to a Vec cannot fail");
    }
    let _ = engine.plan(Cursor::new(file), &mut store, |_| {});
});
