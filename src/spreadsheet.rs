//! Spreadsheet uploads (`.xlsx`, `.xls`, `.ods`, feature `spreadsheet`),
//! read with calamine into the same records a CSV file gives, so that they
//! go through the same import.
//!
//! A sheet's rows are read on a thread of their own and handed over a
//! bounded channel a few hundred rows at a time, numbered as the sheet
//! numbers them (a row the sheet skips comes as a blank row). An `.xlsx`
//! sheet is streamed cell by cell: memory stays bounded by the batches in
//! flight, and the count pass reads the sheet's declared dimension. calamine
//! reads `.xls` and `.ods` sheets whole, so those are held in memory.
//!
//! Cells become text as a CSV export would hold them, except numbers: a
//! whole number is written as an integer without exponent (a phone stored as
//! the number 919876543452 comes back exact), other numbers in the shortest
//! form that reads back the same. Formula cells give their cached value.
//! Dates and times are written in ISO 8601 and marked, so that a date in the
//! phone column fails its row.

use serde::{Deserialize, Serialize};

/// Which sheet of a workbook an import reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sheet {
    /// The first sheet (the default).
    #[default]
    First,
    /// The sheet with this name.
    Name(String),
    /// The sheet at this position, 0 for the first.
    Index(usize),
}

#[cfg(feature = "spreadsheet")]
pub(crate) use reading::{SheetJob, SheetRecords, channel, produce};
#[cfg(feature = "spreadsheet")]
pub use reading::{SpreadsheetFormat, read_rows};

#[cfg(feature = "spreadsheet")]
mod reading {
    use std::io::{self, Read, Seek};
    use std::sync::mpsc::{Receiver, SyncSender};

    use calamine::{Data, DataRef, Ods, Range, Reader, Xls, Xlsx};

    use super::Sheet;
    use crate::reader::{Record, Records};

    /// Rows handed over at a time.
    const CHUNK: usize = 256;

    /// The format of a spreadsheet upload.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub enum SpreadsheetFormat {
        /// Excel 2007 and later (`.xlsx`, `.xlsm`): streamed.
        Xlsx,
        /// Excel 97-2003 (`.xls`): read whole.
        Xls,
        /// OpenDocument (`.ods`, LibreOffice, Google Sheets): read whole.
        Ods,
    }

    impl SpreadsheetFormat {
        /// The format of a file with this extension (case-insensitive,
        /// without the dot), or `None` for another file (e.g. `csv`).
        pub fn from_extension(extension: &str) -> Option<SpreadsheetFormat> {
            match extension.to_ascii_lowercase().as_str() {
                "xlsx" | "xlsm" => Some(SpreadsheetFormat::Xlsx),
                "xls" => Some(SpreadsheetFormat::Xls),
                "ods" => Some(SpreadsheetFormat::Ods),
                _ => None,
            }
        }

        fn extension(self) -> &'static str {
            match self {
                SpreadsheetFormat::Xlsx => ".xlsx",
                SpreadsheetFormat::Xls => ".xls",
                SpreadsheetFormat::Ods => ".ods",
            }
        }
    }

    /// What the reading thread sends.
    pub(crate) enum Message {
        /// The count pass's answer: records up to the sheet's last row.
        Count(u64),
        /// The next rows of the pass.
        Rows(Vec<Record>),
        /// The pass is over.
        End,
        /// Reading failed.
        Failed(io::Error),
    }

    /// What the reading thread is asked to do.
    pub(crate) struct SheetJob {
        pub format: SpreadsheetFormat,
        pub sheet: Sheet,
        /// A first pass over every row (for the duplicate index), instead
        /// of a count.
        pub full_first_pass: bool,
        /// Rows the count pass need not count past.
        pub count_limit: u64,
        pub max_row_bytes: usize,
        pub max_fields: usize,
    }

    /// The receiving end: a pass's rows as records, then the next pass's.
    pub(crate) struct SheetRecords {
        receiver: Receiver<Message>,
        rows: std::vec::IntoIter<Record>,
        pending: Option<Message>,
        ended: bool,
    }

    impl SheetRecords {
        /// Rows sent by [`produce`] over the channel of `receiver`.
        pub fn new(receiver: Receiver<Message>) -> SheetRecords {
            SheetRecords {
                receiver,
                rows: Vec::new().into_iter(),
                pending: None,
                ended: false,
            }
        }

        /// Moves on to the next pass.
        pub fn next_pass(&mut self) {
            self.ended = false;
        }

        fn receive(&mut self) -> io::Result<Message> {
            if let Some(message) = self.pending.take() {
                return Ok(message);
            }
            self.receiver
                .recv()
                .map_err(|_| io::Error::other("the spreadsheet's reading thread stopped"))
        }
    }

    /// The first `limit` rows of a sheet as text, as an import reads them
    /// (empty rows included, every row as wide as the sheet): for showing
    /// a sheet, or for [`ColumnMapping::suggest`](crate::ColumnMapping::suggest).
    pub fn read_rows<R: Read + Seek + Send>(
        source: R,
        format: SpreadsheetFormat,
        sheet: &Sheet,
        limit: usize,
    ) -> io::Result<Vec<Vec<String>>> {
        let job = SheetJob {
            format,
            sheet: sheet.clone(),
            full_first_pass: true,
            count_limit: 0,
            max_row_bytes: 1 << 20,
            max_fields: 10_000,
        };
        let (sender, receiver) = channel();
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("contact-import sheet".to_owned())
                .spawn_scoped(scope, move || produce(source, &job, &sender))?;
            let mut records = SheetRecords::new(receiver);
            let mut record = Record::default();
            let mut rows = Vec::new();
            while rows.len() < limit && records.read(&mut record)? {
                rows.push(record.lossy());
            }
            Ok(rows)
        })
    }

    /// A channel for [`produce`] and [`SheetRecords`].
    pub(crate) fn channel() -> (SyncSender<Message>, Receiver<Message>) {
        // Two chunks in flight: the reader parses while the import works.
        std::sync::mpsc::sync_channel(2)
    }

    impl Records for SheetRecords {
        fn read(&mut self, record: &mut Record) -> io::Result<bool> {
            loop {
                if let Some(next) = self.rows.next() {
                    *record = next;
                    return Ok(true);
                }
                if self.ended {
                    return Ok(false);
                }
                match self.receive()? {
                    Message::Rows(rows) => self.rows = rows.into_iter(),
                    Message::End | Message::Count(_) => self.ended = true,
                    Message::Failed(error) => return Err(error),
                }
            }
        }

        fn declared_records(&mut self) -> io::Result<Option<u64>> {
            match self.receive()? {
                Message::Count(records) => Ok(Some(records)),
                Message::Failed(error) => Err(error),
                other => {
                    self.pending = Some(other);
                    Ok(None)
                }
            }
        }
    }

    /// Reads the sheet `job` names from `source` and sends its rows: the
    /// first pass (a count, or every row), then every row again. Stops
    /// when the receiver is gone.
    pub(crate) fn produce<R: Read + Seek>(source: R, job: &SheetJob, sender: &SyncSender<Message>) {
        let sent = match job.format {
            SpreadsheetFormat::Xlsx => produce_xlsx(source, job, sender),
            SpreadsheetFormat::Xls => {
                open::<Xls<R>, R>(source, job).and_then(|wb| produce_range(wb, job, sender))
            }
            SpreadsheetFormat::Ods => {
                open::<Ods<R>, R>(source, job).and_then(|wb| produce_range(wb, job, sender))
            }
        };
        if let Err(error) = sent {
            let _ = sender.send(Message::Failed(error));
        }
    }

    /// Why a workbook could not be opened, with what to do.
    fn refused(job: &SheetJob, error: impl std::fmt::Display) -> io::Error {
        let message = error.to_string();
        let hint = if message.contains("password") {
            "remove the password (save a copy without protection) and upload it again"
        } else {
            "check that the file is a spreadsheet of that format, or save it again from the spreadsheet program"
        };
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "not a readable {} workbook ({message}); {hint}",
                job.format.extension()
            ),
        )
    }

    fn open<W: Reader<R>, R: Read + Seek>(source: R, job: &SheetJob) -> io::Result<W>
    where
        W::Error: std::fmt::Display,
    {
        W::new(source).map_err(|e| refused(job, e))
    }

    /// The name of the sheet `job` asks for, or an error listing the sheets.
    fn sheet_name(names: &[String], job: &SheetJob) -> io::Result<String> {
        let found = match &job.sheet {
            Sheet::First => names.first(),
            Sheet::Name(name) => names
                .iter()
                .find(|n| *n == name)
                .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(name))),
            Sheet::Index(index) => names.get(*index),
        };
        found.cloned().ok_or_else(|| {
            let listed: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
            io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "the workbook has no sheet {}; its sheets are {}",
                    match &job.sheet {
                        Sheet::First => "at all".to_owned(),
                        Sheet::Name(name) => format!("{name:?}"),
                        Sheet::Index(index) => format!("number {index} (counting from 0)"),
                    },
                    if listed.is_empty() {
                        "(none)".to_owned()
                    } else {
                        listed.join(", ")
                    }
                ),
            )
        })
    }

    fn produce_xlsx<R: Read + Seek>(
        source: R,
        job: &SheetJob,
        sender: &SyncSender<Message>,
    ) -> io::Result<()> {
        let mut workbook: Xlsx<R> = open(source, job)?;
        let name = sheet_name(&workbook.sheet_names(), job)?;
        let xml = |e: calamine::XlsxError| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the sheet {name:?} could not be read: {e}"),
            )
        };
        let mut cells = workbook.worksheet_cells_reader(&name).map_err(xml)?;
        let dimensions = cells.dimensions();
        // A sheet without a dimension declares (0, 0) to (0, 0).
        let declared = (dimensions.end != (0, 0)).then(|| u64::from(dimensions.end.0) + 1);
        let width = declared.map(|_| dimensions.end.1 as usize + 1);
        // The rows the import may read: those the count pass counted.
        let mut counted = None;
        if job.full_first_pass {
            if !stream_xlsx(&mut cells, width, None, job, sender)? {
                return Ok(());
            }
        } else {
            let records = match declared {
                Some(records) => records,
                None => count_xlsx(&mut cells, job.count_limit).map_err(xml)?,
            };
            counted = Some(records);
            if sender.send(Message::Count(records)).is_err() {
                return Ok(());
            }
        }
        drop(cells);
        let mut cells = workbook.worksheet_cells_reader(&name).map_err(xml)?;
        stream_xlsx(&mut cells, width, counted, job, sender)?;
        Ok(())
    }

    /// Records up to the last row with a cell, counting no further than `limit`.
    fn count_xlsx<R: Read + Seek>(
        cells: &mut calamine::XlsxCellReader<'_, R>,
        limit: u64,
    ) -> Result<u64, calamine::XlsxError> {
        let mut records = 0;
        while let Some(cell) = cells.next_cell()? {
            records = records.max(u64::from(cell.get_position().0) + 1);
            if records > limit {
                break;
            }
        }
        Ok(records)
    }

    /// Builds the records of a pass and sends them a chunk at a time.
    struct Rows<'s> {
        job: &'s SheetJob,
        sender: &'s SyncSender<Message>,
        chunk: Vec<Record>,
        record: Record,
        /// The row being built (0-based), and the columns it has so far.
        row: u64,
        columns: usize,
        width: Option<usize>,
    }

    impl Rows<'_> {
        /// Appends the cell at `column` of `row` (cells come in order).
        /// False when the receiver is gone.
        fn cell(&mut self, row: u64, column: usize, text: &str, date: bool) -> bool {
            while self.row < row {
                if !self.end_row() {
                    return false;
                }
            }
            while self.columns < column {
                self.push("", false);
            }
            self.push(text, date);
            true
        }

        fn push(&mut self, text: &str, date: bool) {
            let job = self.job;
            self.record
                .push_cell(text, date, job.max_row_bytes, job.max_fields);
            self.columns += 1;
        }

        /// Ends the current row, padded to the sheet's width.
        fn end_row(&mut self) -> bool {
            while self.width.is_some_and(|w| self.columns < w) {
                self.push("", false);
            }
            self.chunk.push(std::mem::take(&mut self.record));
            self.record.clear_cells();
            self.row += 1;
            self.columns = 0;
            if self.chunk.len() >= CHUNK {
                let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
                return self.sender.send(Message::Rows(chunk)).is_ok();
            }
            true
        }

        /// Sends the rows ended so far.
        fn flush(&mut self) -> bool {
            let chunk = std::mem::take(&mut self.chunk);
            chunk.is_empty() || self.sender.send(Message::Rows(chunk)).is_ok()
        }

        /// Ends the pass after its last row. False when the receiver is gone.
        fn finish(mut self, any: bool) -> bool {
            if any && !self.end_row() {
                return false;
            }
            if !self.chunk.is_empty() && self.sender.send(Message::Rows(self.chunk)).is_err() {
                return false;
            }
            self.sender.send(Message::End).is_ok()
        }
    }

    fn rows<'s>(
        job: &'s SheetJob,
        sender: &'s SyncSender<Message>,
        width: Option<usize>,
    ) -> Rows<'s> {
        Rows {
            job,
            sender,
            chunk: Vec::with_capacity(CHUNK),
            record: Record::default(),
            row: 0,
            columns: 0,
            width,
        }
    }

    /// Sends every row of the sheet, then the end of the pass; false when
    /// the receiver is gone. A row past `counted` (a sheet that holds more
    /// rows than its dimension declares) fails the pass: those rows were
    /// never held against the row limit.
    fn stream_xlsx<R: Read + Seek>(
        cells: &mut calamine::XlsxCellReader<'_, R>,
        width: Option<usize>,
        counted: Option<u64>,
        job: &SheetJob,
        sender: &SyncSender<Message>,
    ) -> io::Result<bool> {
        let mut rows = rows(job, sender, width);
        let mut text = String::new();
        let mut any = false;
        let invalid = |message: String| io::Error::new(io::ErrorKind::InvalidData, message);
        loop {
            // The rows before a failure go first, so that it stops the
            // import where it is.
            let cell = match cells.next_cell() {
                Ok(Some(cell)) => cell,
                Ok(None) => break,
                Err(e) => {
                    rows.flush();
                    return Err(invalid(format!("the sheet could not be read: {e}")));
                }
            };
            let (row, column) = cell.get_position();
            if counted.is_some_and(|counted| u64::from(row) >= counted) {
                rows.flush();
                return Err(invalid(format!(
                    "row {} is past the {} rows the sheet declares (its dimension); save the file again from the spreadsheet program",
                    u64::from(row) + 1,
                    counted.unwrap_or_default()
                )));
            }
            let date = data_ref_text(cell.get_value(), &mut text);
            any = true;
            if !rows.cell(u64::from(row), column as usize, &text, date) {
                return Ok(false);
            }
        }
        Ok(rows.finish(any))
    }

    /// An `.xls` or `.ods` sheet, read whole by calamine, sent row by row.
    fn produce_range<W: Reader<R>, R: Read + Seek>(
        mut workbook: W,
        job: &SheetJob,
        sender: &SyncSender<Message>,
    ) -> io::Result<()>
    where
        W::Error: std::fmt::Display,
    {
        let name = sheet_name(&workbook.sheet_names(), job)?;
        let range: Range<Data> = workbook.worksheet_range(&name).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the sheet {name:?} could not be read: {e}"),
            )
        })?;
        let (start, end) = match (range.start(), range.end()) {
            (Some(start), Some(end)) => (start, end),
            _ => ((0, 0), (0, 0)),
        };
        let records = if range.is_empty() {
            0
        } else {
            u64::from(end.0) + 1
        };
        if job.full_first_pass {
            if !send_range(&range, start, job, sender) {
                return Ok(());
            }
        } else if sender.send(Message::Count(records)).is_err() {
            return Ok(());
        }
        send_range(&range, start, job, sender);
        Ok(())
    }

    fn send_range(
        range: &Range<Data>,
        start: (u32, u32),
        job: &SheetJob,
        sender: &SyncSender<Message>,
    ) -> bool {
        let width = (!range.is_empty()).then(|| start.1 as usize + range.width());
        let mut rows = rows(job, sender, width);
        let mut text = String::new();
        let mut any = false;
        for (i, cells) in range.rows().enumerate() {
            let row = u64::from(start.0) + i as u64;
            for (j, value) in cells.iter().enumerate() {
                let date = data_text(value, &mut text);
                any = true;
                if !rows.cell(row, start.1 as usize + j, &text, date) {
                    return false;
                }
            }
        }
        rows.finish(any)
    }

    /// A cell as text into `out`; true for a date or time.
    fn data_ref_text(value: &DataRef<'_>, out: &mut String) -> bool {
        out.clear();
        match value {
            DataRef::Empty => {}
            DataRef::String(s) => out.push_str(s),
            DataRef::SharedString(s) => out.push_str(s),
            DataRef::Int(i) => out.push_str(&i.to_string()),
            DataRef::Float(f) => number(*f, out),
            DataRef::Bool(b) => out.push_str(if *b { "TRUE" } else { "FALSE" }),
            DataRef::DateTime(d) => return date_time(d, out),
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
                out.push_str(s);
                return true;
            }
            DataRef::Error(e) => out.push_str(&e.to_string()),
        }
        false
    }

    /// Like [`data_ref_text`], for a cell of a sheet read whole.
    fn data_text(value: &Data, out: &mut String) -> bool {
        out.clear();
        match value {
            Data::Empty => {}
            Data::String(s) => out.push_str(s),
            Data::Int(i) => out.push_str(&i.to_string()),
            Data::Float(f) => number(*f, out),
            Data::Bool(b) => out.push_str(if *b { "TRUE" } else { "FALSE" }),
            Data::DateTime(d) => return date_time(d, out),
            Data::DateTimeIso(s) | Data::DurationIso(s) => {
                out.push_str(s);
                return true;
            }
            Data::Error(e) => out.push_str(&e.to_string()),
        }
        false
    }

    /// A whole number as an integer (no exponent, no `.0`), any other in
    /// the shortest form that reads back the same.
    pub(crate) fn number(value: f64, out: &mut String) {
        use std::fmt::Write;
        // Whole numbers up to 2^53 are exact in an f64.
        const EXACT: f64 = 9_007_199_254_740_992.0;
        if value.fract() == 0.0 && value.abs() <= EXACT {
            let _ = write!(out, "{}", value as i64);
        } else {
            // Display never writes an exponent.
            let _ = write!(out, "{value}");
        }
    }

    /// A date, a time or both, in ISO 8601; always true (a date).
    fn date_time(value: &calamine::ExcelDateTime, out: &mut String) -> bool {
        use std::fmt::Write;
        if value.is_duration() {
            let _ = write!(out, "{}", value.as_f64());
            return true;
        }
        let (y, mo, d, h, mi, s, _) = value.to_ymd_hms_milli();
        let whole_day = value.as_f64().fract() == 0.0;
        if value.as_f64() < 1.0 {
            let _ = write!(out, "{h:02}:{mi:02}:{s:02}");
        } else if whole_day {
            let _ = write!(out, "{y:04}-{mo:02}-{d:02}");
        } else {
            let _ = write!(out, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
        }
        true
    }

    #[cfg(test)]
    mod tests {
        use super::number;

        fn text(value: f64) -> String {
            let mut out = String::new();
            number(value, &mut out);
            out
        }

        #[test]
        fn whole_numbers_have_no_exponent() {
            assert_eq!(text(919876543452.0), "919876543452");
            assert_eq!(text(9876543210.0), "9876543210");
            assert_eq!(text(-0.0), "0");
            assert_eq!(text(1e20), "100000000000000000000");
            assert_eq!(text(12.5), "12.5");
            assert_eq!(text(0.1), "0.1");
        }
    }
}
