//! A huge cell is not held in memory. Alone in its test binary (not a
//! module of tests/it), so that the process's peak memory is this test's.

use std::io::{self, Read, Seek, SeekFrom};

#[path = "it/common/mod.rs"]
mod common;
use common::*;
use contact_import::{FailureCode, MemoryStore};

/// A file of `Name,Phone`, one row whose name is `size` bytes of `x`, and one
/// normal row: produced on the fly, never held whole.
struct HugeCell {
    size: u64,
    pos: u64,
}

const HEAD: &[u8] = b"Name,Phone\n";
const TAIL: &[u8] = b",9876543210\nAsha,9876543211\n";

impl HugeCell {
    fn len(&self) -> u64 {
        HEAD.len() as u64 + self.size + TAIL.len() as u64
    }

    fn byte(&self, at: u64) -> u8 {
        let head = HEAD.len() as u64;
        if at < head {
            HEAD[at as usize]
        } else if at < head + self.size {
            b'x'
        } else {
            TAIL[(at - head - self.size) as usize]
        }
    }
}

impl Read for HugeCell {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (self.len() - self.pos).min(buf.len() as u64) as usize;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = self.byte(self.pos + i as u64);
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for HugeCell {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = match to {
            SeekFrom::Start(p) => p,
            SeekFrom::End(d) => self.len().saturating_add_signed(d),
            SeekFrom::Current(d) => self.pos.saturating_add_signed(d),
        };
        Ok(self.pos)
    }
}

/// The process's peak resident memory, from /proc (Linux).
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[test]
fn a_100_mib_cell_fails_its_row_without_being_held() {
    const FIELD: u64 = 100 << 20;
    let mut store = MemoryStore::new();
    let report = engine()
        .import(
            HugeCell {
                size: FIELD,
                pos: 0,
            },
            &mut store,
        )
        .unwrap();
    assert_eq!(report.added, 1);
    assert_eq!(report.failures[0].code, FailureCode::RowTooLarge);
    assert!(
        report.failures[0].values.is_empty(),
        "the row's cells were not kept"
    );
    match peak_rss_bytes() {
        Some(peak) => assert!(
            peak < FIELD / 4,
            "peak memory {} MiB for a 100 MiB cell",
            peak >> 20
        ),
        None => eprintln!("note: /proc/self/status unreadable, peak memory not checked"),
    }
}
