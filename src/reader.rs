//! CSV records with bounded memory, on csv-core.
//!
//! The csv crate's `ByteRecord` grows to hold whatever a field holds; an
//! upload with a 100 MiB cell would be held whole. This reader stops storing a
//! row once it passes the row limit, reads on to the row's end, and marks it
//! as too large, so memory stays bounded by the limit whatever the file holds.
//!
//! Most rows hold no quote. Such a row, when it is whole in the buffer, is
//! split on the delimiter directly (memchr finds the line's end, a scan of
//! eight bytes at a time its delimiters), which gives csv-core's fields at
//! a fraction of its cost; a row with a quote, or one that crosses the end
//! of the buffer, goes through csv-core. Both start at a record boundary, where csv-core has no state.

use std::io::{self, Read};

use csv_core::{ReadRecordResult, Reader as CoreReader, ReaderBuilder};
use memchr::{memchr, memchr2, memchr2_iter};

const BUFFER: usize = 64 * 1024;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// Bytes a record keeps room for, at least, once it holds a line.
const MIN_RECORD: usize = 256;

/// One record: its fields' bytes, and where each field ends.
#[derive(Clone, Debug, Default)]
pub(crate) struct Record {
    data: Vec<u8>,
    ends: Vec<usize>,
    /// Bytes between two fields in `data`: 1 when a plain line is kept
    /// whole with its delimiters, 0 when csv-core wrote the fields back to back.
    gap: usize,
    len: usize,
    too_large: bool,
    /// Fields a spreadsheet held as a date or time (none in a CSV record).
    dates: Vec<usize>,
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
        self.data.get(self.range(i)?)
    }

    /// Where field `i` is in [`bytes`](Self::bytes).
    pub fn range(&self, i: usize) -> Option<std::ops::Range<usize>> {
        if self.too_large || i >= self.len {
            return None;
        }
        let start = if i == 0 {
            0
        } else {
            self.ends[i - 1] + self.gap
        };
        Some(start..self.ends[i])
    }

    /// Every field's bytes (with the delimiters between them, for a row
    /// read without csv-core).
    pub fn bytes(&self) -> &[u8] {
        let end = match self.len.checked_sub(1) {
            Some(last) if !self.too_large => self.ends[last],
            _ => 0,
        };
        &self.data[..end]
    }

    /// True for a row whose cells are all blank, as a spreadsheet writes an
    /// empty row (`,,,`).
    #[inline]
    pub fn is_blank(&self) -> bool {
        !self.too_large
            && (0..self.len).all(|i| self.field(i).is_some_and(|f| f.trim_ascii().is_empty()))
    }

    /// True when field `i` was a date or time cell of a spreadsheet.
    pub fn is_date(&self, i: usize) -> bool {
        self.dates.contains(&i)
    }

    /// Empties the record, to fill it with cells.
    #[cfg(feature = "spreadsheet")]
    pub fn clear_cells(&mut self) {
        self.data.clear();
        self.ends.clear();
        self.dates.clear();
        self.gap = 0;
        self.len = 0;
        self.too_large = false;
    }

    /// Appends a cell (a date or time cell when `date`), within the limits:
    /// past them the record is too large and keeps no field.
    #[cfg(feature = "spreadsheet")]
    pub fn push_cell(&mut self, text: &str, date: bool, max_row_bytes: usize, max_fields: usize) {
        self.len += 1;
        if self.too_large {
            return;
        }
        if self.data.len() + text.len() > max_row_bytes || self.len > max_fields {
            self.too_large = true;
            self.data.clear();
            self.ends.clear();
            self.dates.clear();
            return;
        }
        self.data.extend_from_slice(text.as_bytes());
        self.ends.push(self.data.len());
        if date {
            self.dates.push(self.len - 1);
        }
    }

    /// Every field as text, invalid UTF-8 replaced.
    pub fn lossy(&self) -> Vec<String> {
        (0..self.len)
            .filter_map(|i| self.field(i))
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect()
    }
}

/// Where an import's records come from: a CSV file, or a spreadsheet's rows.
pub(crate) trait Records {
    /// Reads the next record into `record`; false at the end.
    fn read(&mut self, record: &mut Record) -> io::Result<bool>;

    /// Skips up to `limit` records; returns how many it skipped.
    fn skip_records(&mut self, scratch: &mut Record, limit: u64) -> io::Result<u64> {
        let mut skipped = 0;
        while skipped < limit && self.read(scratch)? {
            skipped += 1;
        }
        Ok(skipped)
    }

    /// How many records there are, when the source declares it without
    /// being read (a spreadsheet's dimension): for the count pass.
    fn declared_records(&mut self) -> io::Result<Option<u64>> {
        Ok(None)
    }
}

impl<R: Read> Records for RecordReader<R> {
    fn read(&mut self, record: &mut Record) -> io::Result<bool> {
        RecordReader::read(self, record)
    }

    fn skip_records(&mut self, scratch: &mut Record, limit: u64) -> io::Result<u64> {
        RecordReader::skip_records(self, scratch, limit)
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
    delimiter: u8,
    /// Off in tests, to compare with csv-core alone.
    plain_rows: bool,
    /// csv-core strips a byte order mark at the start of its first input
    /// (a second one, after ours): the first record always goes through it.
    core_started: bool,
    started: bool,
    /// Where the buffer's next quote is (`cap` when it holds none), once
    /// looked for: found once for all the lines before it.
    quote: Option<usize>,
}

impl<R: Read> RecordReader<R> {
    pub fn new(
        input: R,
        delimiter: u8,
        max_row_bytes: usize,
        max_fields: usize,
    ) -> RecordReader<R> {
        Self::with_buffer(input, delimiter, max_row_bytes, max_fields, BUFFER)
    }

    fn with_buffer(
        input: R,
        delimiter: u8,
        max_row_bytes: usize,
        max_fields: usize,
        buffer: usize,
    ) -> RecordReader<R> {
        RecordReader {
            input,
            core: ReaderBuilder::new().delimiter(delimiter).build(),
            buf: vec![0; buffer.max(UTF8_BOM.len())].into_boxed_slice(),
            pos: 0,
            cap: 0,
            eof: false,
            max_row_bytes,
            max_fields,
            delimiter,
            plain_rows: true,
            core_started: false,
            started: false,
            quote: None,
        }
    }

    /// Reads the next record into `record`; false at the end of the input.
    pub fn read(&mut self, record: &mut Record) -> io::Result<bool> {
        if !self.started {
            self.skip_bom()?;
        }
        if self.pos == self.cap && !self.eof {
            self.fill()?;
        }
        if self.read_plain(record) {
            return Ok(true);
        }
        record.too_large = false;
        record.gap = 0;
        record.dates.clear();
        // A plain line may have left the buffers larger than the limits,
        // which csv-core's rows must meet.
        record.data.truncate(self.max_row_bytes.saturating_add(1));
        record.ends.truncate(self.max_fields);
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
            self.core_started = true;
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

    /// Skips the next record (reading it into `scratch` only when csv-core
    /// has to); false at the end of the input. For counting rows.
    pub fn skip(&mut self, scratch: &mut Record) -> io::Result<bool> {
        if !self.started {
            self.skip_bom()?;
        }
        if self.pos == self.cap && !self.eof {
            self.fill()?;
        }
        if let Some((start, end)) = self.plain_line() {
            self.pos += start + end + 1;
            return Ok(true);
        }
        self.read(scratch)
    }

    /// Skips up to `limit` records; returns how many it skipped (fewer only
    /// at the end of the input). For counting rows: whole lines before the
    /// buffer's first quote are counted in one pass over their line ends.
    pub fn skip_records(&mut self, scratch: &mut Record, limit: u64) -> io::Result<u64> {
        let mut skipped = 0;
        while skipped < limit {
            if !self.started {
                self.skip_bom()?;
            }
            if self.pos == self.cap && !self.eof {
                self.fill()?;
            }
            let lines = self.skip_plain_lines(limit - skipped);
            if lines > 0 {
                skipped += lines;
            } else if self.skip(scratch)? {
                skipped += 1;
            } else {
                break;
            }
        }
        Ok(skipped)
    }

    /// Skips up to `limit` whole lines of the buffer that come before its
    /// first quote, as `skip` would one by one: a line is a record when
    /// something comes before its end (empty lines are no records).
    fn skip_plain_lines(&mut self, limit: u64) -> u64 {
        if !self.plain_rows || !self.core_started {
            return 0;
        }
        let quote = self.next_quote();
        let before_quote = &self.buf[self.pos..quote];
        let (mut lines, mut consumed) = (0, 0);
        for at in memchr2_iter(b'\r', b'\n', before_quote) {
            if lines == limit {
                break;
            }
            // The byte before `pos` ended a record (or there is none yet).
            if at > 0 && !matches!(before_quote[at - 1], b'\r' | b'\n') {
                lines += 1;
            }
            consumed = at + 1;
        }
        self.pos += consumed;
        lines
    }

    /// Where the next record starts and ends in the buffer (from `pos`),
    /// when it holds no quote and its line end is in the buffer: such a
    /// record needs no csv-core.
    fn plain_line(&mut self) -> Option<(usize, usize)> {
        if !self.plain_rows || !self.core_started {
            return None;
        }
        let quote = self.next_quote();
        let input = &self.buf[self.pos..self.cap];
        let start = input.iter().position(|&b| b != b'\r' && b != b'\n')?;
        let end = memchr2(b'\r', b'\n', &input[start..])?;
        (self.pos + start + end <= quote).then_some((start, end))
    }

    /// Where the buffer's next quote from `pos` is, `cap` when there is none.
    fn next_quote(&mut self) -> usize {
        match self.quote {
            Some(at) if at >= self.pos => at,
            _ => {
                let rest = &self.buf[self.pos..self.cap];
                let at = self.pos + memchr(b'"', rest).unwrap_or(rest.len());
                self.quote = Some(at);
                at
            }
        }
    }

    /// Reads a record that holds no quote and ends within the buffer, as
    /// csv-core would: empty lines skipped, fields split on the delimiter,
    /// the record ended by `\r` or `\n`. False (nothing consumed) otherwise.
    fn read_plain(&mut self, record: &mut Record) -> bool {
        let Some((start, end)) = self.plain_line() else {
            return false;
        };
        let line = &self.buf[self.pos + start..self.pos + start + end];
        // The line is kept whole, delimiters included: one copy, and the
        // field ends found in one pass.
        record.ends.clear();
        record.ends.reserve(16);
        let mut fields = 1;
        each_position(line, self.delimiter, |at| {
            if record.ends.len() < self.max_fields {
                record.ends.push(at);
            }
            fields += 1;
        });
        record.ends.push(line.len());
        let bytes = line.len() + 1 - fields;
        record.too_large = bytes > self.max_row_bytes || fields > self.max_fields;
        record.len = fields;
        record.gap = 1;
        record.dates.clear();
        record.data.clear();
        if !record.too_large {
            // Room for longer lines than this one, so that a reused record
            // seldom grows again.
            if record.data.capacity() < line.len() {
                record.data.reserve(line.len().max(MIN_RECORD));
            }
            record.data.extend_from_slice(line);
        }
        self.pos += start + end + 1;
        true
    }

    // The data buffer holds one byte more than the limit: csv-core reports
    // a full buffer as soon as it is full, so a row that exactly fits the
    // limit would otherwise be taken for a larger one.
    fn grow_data(&self, record: &mut Record, out: &mut usize) {
        let room = self.max_row_bytes.saturating_add(1);
        if record.data.len() < room {
            let next = (record.data.len() * 2).max(1024).min(room);
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
            // Over the limit: keep parsing into at least one slot, or
            // csv-core could not move on.
            record.too_large = true;
            *nends = 0;
            if record.ends.is_empty() {
                record.ends.push(0);
            }
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        self.pos = 0;
        self.quote = None;
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
        self.quote = None;
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

/// Calls `found` with each position of `byte` in `text`, in order: eight
/// bytes at a time, one bit for each that equals `byte`. A row's few
/// delimiters cost less so than a memchr call each.
fn each_position(text: &[u8], byte: u8, mut found: impl FnMut(usize)) {
    const LOW: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let pattern = u64::from_le_bytes([byte; 8]);
    let (words, rest) = text.as_chunks::<8>();
    for (i, word) in words.iter().enumerate() {
        let x = u64::from_le_bytes(*word) ^ pattern;
        // The high bit of each byte of `x` that is zero, and no other bit.
        let mut zeros = !(((x & LOW) + LOW) | x | LOW);
        while zeros != 0 {
            found(i * 8 + zeros.trailing_zeros() as usize / 8);
            zeros &= zeros - 1;
        }
    }
    let base = words.len() * 8;
    for (i, _) in rest.iter().enumerate().filter(|(_, b)| **b == byte) {
        found(base + i);
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    type Records = Vec<Option<Vec<Vec<u8>>>>;

    /// Every record as its fields, or `None` for one over the limits.
    fn read_all(text: &[u8], buffer: usize, max_row_bytes: usize, plain_rows: bool) -> Records {
        let mut reader = RecordReader::with_buffer(text, b',', max_row_bytes, 8, buffer);
        reader.plain_rows = plain_rows;
        let mut record = Record::default();
        let mut records = Vec::new();
        while reader.read(&mut record).unwrap() {
            records.push((!record.too_large()).then(|| {
                (0..record.len())
                    .filter_map(|i| record.field(i))
                    .map(<[u8]>::to_vec)
                    .collect()
            }));
        }
        records
    }

    /// What the csv crate (csv-core underneath) reads.
    fn csv_crate(text: &[u8]) -> Records {
        let text = text.strip_prefix(UTF8_BOM).unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text);
        reader
            .byte_records()
            .map(|r| Some(r.unwrap().iter().map(<[u8]>::to_vec).collect()))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Bytes that differ from the delimiter in the high bit only
        /// (0xAC for a comma) are not taken for it.
        #[test]
        fn each_position_finds_what_memchr_finds(
            text in proptest::collection::vec(
                prop_oneof![Just(b','), Just(0xAC), any::<u8>()],
                0..80,
            ),
            byte in prop_oneof![Just(b','), any::<u8>()],
        ) {
            let mut found = Vec::new();
            each_position(&text, byte, |at| found.push(at));
            prop_assert_eq!(found, memchr::memchr_iter(byte, &text).collect::<Vec<_>>());
        }

        /// Plain rows split without csv-core read as csv-core reads them,
        /// whatever the quotes, line ends, buffer size and row limit.
        #[test]
        fn plain_rows_read_as_csv_core_reads_them(
            text in proptest::collection::vec(
                prop_oneof![
                    4 => Just(&b"ab"[..]), 2 => Just(&b","[..]), 1 => Just(&b"\""[..]),
                    1 => Just(&b"\n"[..]), 1 => Just(&b"\r\n"[..]), 1 => Just(&b"\r"[..]),
                    1 => Just(&b" "[..]), 1 => Just(&b"\xEF\xBB\xBF"[..]),
                ],
                0..60,
            ),
            // From 7 bytes: a second byte order mark filling csv-core's first
            // input on its own would read as the end of the file (csv-core).
            buffer in 7usize..40,
            max_row_bytes in 0usize..24,
        ) {
            let text = text.concat();
            let plain = read_all(&text, buffer, max_row_bytes, true);
            prop_assert_eq!(&plain, &read_all(&text, buffer, max_row_bytes, false));
            // Skipping counts the same records.
            let mut reader = RecordReader::with_buffer(&text[..], b',', max_row_bytes, 8, buffer);
            let (mut scratch, mut skipped) = (Record::default(), 0);
            while reader.skip(&mut scratch).unwrap() {
                skipped += 1;
            }
            prop_assert_eq!(skipped, plain.len());
            // So does skipping in bulk, up to a limit.
            for limit in [0, 1, 3, u64::MAX] {
                let mut reader =
                    RecordReader::with_buffer(&text[..], b',', max_row_bytes, 8, buffer);
                let skipped = reader.skip_records(&mut scratch, limit).unwrap();
                prop_assert_eq!(skipped, (plain.len() as u64).min(limit));
            }
            // Without limits, both read what the csv crate reads.
            let records: Records = csv_crate(&text)
                .into_iter()
                .map(|r| r.filter(|f| f.len() <= 8))
                .collect();
            prop_assert_eq!(read_all(&text, buffer, 1 << 20, true), records);
        }
    }
}
