//! Files that cannot be read to the end: the batches read before the
//! failure are written, the error says how far the import got, and
//! resuming after it ends as if nothing had failed.

use std::io::{self, Cursor, Read, Seek, SeekFrom};

use crate::common::*;
use contact_import::{ImportError, ImportOptions, ImportReport, MemoryStore};
use proptest::prelude::*;

/// A file whose bytes from `fail_at` on cannot be read once it has been
/// read to the end: the import's first pass (counting rows) reads it whole,
/// the second fails.
struct FailsOnSecondPass {
    bytes: Cursor<Vec<u8>>,
    fail_at: u64,
    read_to_end: bool,
}

impl Read for FailsOnSecondPass {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let at = self.bytes.position();
        if !self.read_to_end {
            let n = self.bytes.read(buf)?;
            self.read_to_end = n == 0 && !buf.is_empty();
            return Ok(n);
        }
        if at >= self.fail_at {
            return Err(io::Error::other("the disk went away"));
        }
        let room = usize::try_from(self.fail_at - at).unwrap_or(usize::MAX);
        let len = buf.len().min(room);
        self.bytes.read(&mut buf[..len])
    }
}

impl Seek for FailsOnSecondPass {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.bytes.seek(to)
    }
}

fn options(batch_size: usize) -> ImportOptions {
    ImportOptions::new()
        .with_batch_size(batch_size)
        // No sniffing, which reads the file's start before the first pass.
        .with_delimiter(Some(b','))
}

/// Imports `csv`, failing at byte `fail_at` of the second pass: the
/// error's report and the store, or `None` when the failure struck in
/// the header, before anything was written.
fn interrupted(csv: &str, batch_size: usize, fail_at: u64) -> Option<(ImportReport, MemoryStore)> {
    let file = FailsOnSecondPass {
        bytes: Cursor::new(csv.as_bytes().to_vec()),
        fail_at,
        read_to_end: false,
    };
    let mut store = seeded_store();
    match engine_with(options(batch_size)).import(file, &mut store) {
        Ok(_) => panic!("the import read past byte {fail_at}"),
        Err(ImportError::File(_)) => {
            assert_eq!(snapshot(&store), snapshot(&seeded_store()));
            None
        }
        Err(ImportError::Read { error, report }) => {
            assert_eq!(error.to_string(), "the disk went away");
            Some((*report, store))
        }
        Err(other) => panic!("unexpected {other}"),
    }
}

/// The spreadsheet row that ends the last whole batch of rows read before
/// byte `fail_at` (blank rows are skipped and fill no batch).
fn last_whole_batch(csv: &str, batch_size: usize, fail_at: u64) -> Option<u64> {
    let mut end = 0;
    let mut read = Vec::new();
    for (i, line) in csv.lines().enumerate() {
        end += line.len() + 1;
        if end as u64 > fail_at {
            break;
        }
        let blank = line.split(',').all(|cell| cell.trim().is_empty());
        if i > 0 && !blank {
            read.push(i as u64 + 1);
        }
    }
    let whole = read.len() / batch_size * batch_size;
    whole.checked_sub(1).map(|last| read[last])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_read_failure_leaves_the_batches_before_it_and_resuming_completes(
        rows in proptest::collection::vec(row(), 1..40),
        batch_size in 1usize..6,
        fail_at in any::<prop::sample::Index>(),
    ) {
        let csv = csv_text(&rows);
        let fail_at = fail_at.index(csv.len()) as u64;
        let mut full_store = seeded_store();
        let full = import_into(&engine_with(options(batch_size)), &mut full_store, &csv);
        let Some((report, store)) = interrupted(&csv, batch_size, fail_at) else {
            return Ok(());
        };
        // Every whole batch read before the failure is written, no more.
        prop_assert_eq!(report.last_row, last_whole_batch(&csv, batch_size, fail_at));
        let mut expected = seeded_store();
        import_into(&engine(), &mut expected, &csv_text(&upto(&rows, report.last_row)));
        prop_assert_eq!(snapshot(&store), snapshot(&expected));

        let mut resumed_store = store;
        let resume = engine_with(options(batch_size).with_resume_after_row(report.last_row));
        let resumed = import_into(&resume, &mut resumed_store, &csv);
        prop_assert_eq!(snapshot(&resumed_store), snapshot(&full_store));
        prop_assert_eq!(report.rows + resumed.rows, full.rows);
        prop_assert_eq!(report.added + resumed.added, full.added);
    }
}
