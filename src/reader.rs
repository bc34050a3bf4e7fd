//! CSV records with bounded memory, on csv-core.
//!
//! The csv crate's `ByteRecord` grows to hold whatever a field holds; an
//! upload with a 100 MiB cell would be held whole. This reader stops storing a
//! row once it passes the row limit, reads on to the row's end, and marks it
//! as too large, so memory stays bounded by the limit whatever the file holds.

use std::io::{self, Read};

use csv_core::{ReadRecordResult, Reader as CoreReader, ReaderBuilder};

const BUFFER: usize = 64 * 1024;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// One record: its fields' bytes back to back, and where each field ends.
#[derive(Debug, Default)]
pub(crate) struct Record {
    data: Vec<u8>,
    ends: Vec<usize>,
    len: usize,
    too_large: bool,
}

impl Record {
    /// How many fields the record has.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the record passed the row limit and its fields were not kept.
    pub fn too_large(&self) -> bool {
        self.too_large
    }

    /// The bytes of field `i`.
    pub fn field(&self, i: usize) -> Option<&[u8]> {
        if self.too_large || i >= self.len {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.data[start..self.ends[i]])
    }

    /// True for a row whose cells are all blank, as a spreadsheet writes an
    /// empty row (`,,,`).
    pub fn is_blank(&self) -> bool {
        !self.too_large
            && (0..self.len).all(|i| self.field(i).is_some_and(|f| f.trim_ascii().is_empty()))
    }

    /// Every field as text, invalid UTF-8 replaced.
    pub fn lossy(&self) -> Vec<String> {
        (0..self.len)
            .filter_map(|i| self.field(i))
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect()
    }
}

/// Reads records from `R`, skipping a UTF-8 byte order mark.
pub(crate) struct RecordReader<R> {
    input: R,
    core: CoreReader,
    buf: Box<[u8]>,
    pos: usize,
    cap: usize,
    eof: bool,
    max_row_bytes: usize,
    max_fields: usize,
    started: bool,
}

impl<R: Read> RecordReader<R> {
    pub fn new(
        input: R,
        delimiter: u8,
        max_row_bytes: usize,
        max_fields: usize,
    ) -> RecordReader<R> {
        RecordReader {
            input,
            core: ReaderBuilder::new().delimiter(delimiter).build(),
            buf: vec![0; BUFFER].into_boxed_slice(),
            pos: 0,
            cap: 0,
            eof: false,
            max_row_bytes,
            max_fields,
            started: false,
        }
    }

    /// Reads the next record into `record`; false at the end of the input.
    pub fn read(&mut self, record: &mut Record) -> io::Result<bool> {
        if !self.started {
            self.skip_bom()?;
        }
        record.too_large = false;
        let (mut out, mut nends) = (0, 0);
        loop {
            if self.pos == self.cap && !self.eof {
                self.fill()?;
            }
            if record.data.len() == out {
                self.grow_data(record, &mut out);
            }
            if record.ends.len() == nends {
                self.grow_ends(record, &mut nends);
            }
            let input = &self.buf[self.pos..self.cap];
            let (result, nin, nout, nend) =
                self.core
                    .read_record(input, &mut record.data[out..], &mut record.ends[nends..]);
            self.pos += nin;
            out += nout;
            nends += nend;
            match result {
                ReadRecordResult::InputEmpty
                | ReadRecordResult::OutputFull
                | ReadRecordResult::OutputEndsFull => {}
                ReadRecordResult::Record => {
                    record.len = nends;
                    return Ok(true);
                }
                ReadRecordResult::End => {
                    record.len = 0;
                    return Ok(false);
                }
            }
        }
    }

    fn grow_data(&self, record: &mut Record, out: &mut usize) {
        if record.data.len() < self.max_row_bytes {
            let next = (record.data.len() * 2).max(1024).min(self.max_row_bytes);
            record.data.resize(next, 0);
        } else {
            // Over the limit: keep parsing, drop what was stored.
            record.too_large = true;
            *out = 0;
        }
    }

    fn grow_ends(&self, record: &mut Record, nends: &mut usize) {
        if record.ends.len() < self.max_fields {
            let next = (record.ends.len() * 2).max(16).min(self.max_fields);
            record.ends.resize(next, 0);
        } else {
            record.too_large = true;
            *nends = 0;
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        self.pos = 0;
        self.cap = loop {
            match self.input.read(&mut self.buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.eof = self.cap == 0;
        Ok(())
    }

    fn skip_bom(&mut self) -> io::Result<()> {
        self.started = true;
        while self.cap < UTF8_BOM.len() && !self.eof {
            let n = self.input.read(&mut self.buf[self.cap..])?;
            self.eof = n == 0;
            self.cap += n;
        }
        self.eof = false;
        if self.buf[..self.cap].starts_with(UTF8_BOM) {
            self.pos = UTF8_BOM.len();
        }
        Ok(())
    }
}

/// The bytes of a file as UTF-8 (or as they are, when they claim to be
/// UTF-8): UTF-16 with a byte order mark and an explicitly chosen encoding
/// are transcoded while reading; anything else passes through untouched, so
/// that invalid UTF-8 fails only the rows it is in.
pub(crate) enum Input<R: Read> {
    Raw(R),
    Decoded(Box<encoding_rs_io::DecodeReaderBytes<R, Vec<u8>>>),
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::Raw(r) => r.read(buf),
            Input::Decoded(r) => r.read(buf),
        }
    }
}

impl<R: Read + io::Seek> Input<R> {
    /// Opens `source` at its current position, which it keeps.
    pub fn open(
        mut source: R,
        encoding: Option<&'static encoding_rs::Encoding>,
    ) -> io::Result<Input<R>> {
        let start = source.stream_position()?;
        let mut head = [0u8; 2];
        let mut n = 0;
        while n < head.len() {
            match source.read(&mut head[n..])? {
                0 => break,
                k => n += k,
            }
        }
        source.seek(io::SeekFrom::Start(start))?;
        let utf16 = matches!(&head[..n], [0xFF, 0xFE] | [0xFE, 0xFF]);
        if encoding.is_none() && !utf16 {
            return Ok(Input::Raw(source));
        }
        let decoder = encoding_rs_io::DecodeReaderBytesBuilder::new()
            .encoding(encoding)
            .strip_bom(true)
            .build(source);
        Ok(Input::Decoded(Box::new(decoder)))
    }
}

/// The delimiter of the header line: the most frequent of `,`, `;` and tab
/// outside quotes (`,` when none occurs).
pub(crate) fn sniff_delimiter<R: Read>(input: R) -> io::Result<u8> {
    let mut head = Vec::with_capacity(4096);
    input.take(64 * 1024).read_to_end(&mut head)?;
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for &b in &head {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(count) = counts.iter_mut().find(|(d, _)| *d == b) {
                    count.1 += 1;
                }
            }
            _ => {}
        }
    }
    // max_by_key keeps the last maximum; reversed, ties go to the comma.
    let best = counts.iter().rev().max_by_key(|(_, n)| *n);
    Ok(best.filter(|(_, n)| *n > 0).map_or(b',', |(d, _)| *d))
}
