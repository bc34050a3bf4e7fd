//! Reading an import's rows: the file's records in order.

use std::io::Read;

use crate::batch::RecordBatch;
use crate::options::Settings;
use crate::reader::{Input, Record, RecordReader, Records};
use crate::report::Progress;

/// The reading half of an import: the file's records in order, numbered
/// as spreadsheet rows. A pipelined import reads on its second thread.
pub(crate) struct RowSource<'e, R: Read> {
    settings: Settings<'e>,
    reader: RowRecords<R>,
    next_row: u64,
    /// The first data row (the row after the header).
    first_row: u64,
    total_rows: u64,
    /// Records per batch (at least 1).
    batch_size: usize,
}

/// Where an import's records come from (one per import: the size of the
/// CSV reader's state does not matter).
#[allow(clippy::large_enum_variant)]
pub(crate) enum RowRecords<R: Read> {
    /// A CSV file.
    Csv(RecordReader<Input<R>>),
    /// A spreadsheet's rows, read on their own thread.
    #[cfg(feature = "spreadsheet")]
    Sheet(crate::spreadsheet::SheetRecords),
}

impl<R: Read> Records for RowRecords<R> {
    fn read(&mut self, record: &mut Record) -> std::io::Result<bool> {
        match self {
            RowRecords::Csv(reader) => reader.read(record),
            #[cfg(feature = "spreadsheet")]
            RowRecords::Sheet(sheet) => sheet.read(record),
        }
    }
}

impl<'e, R: Read> RowSource<'e, R> {
    pub(crate) fn new(
        settings: Settings<'e>,
        reader: RowRecords<R>,
        first_row: u64,
        total_rows: u64,
    ) -> RowSource<'e, R> {
        RowSource {
            settings,
            reader,
            next_row: first_row,
            first_row,
            total_rows,
            batch_size: settings.options.batch_size().max(1),
        }
    }

    /// Cuts batches of `rows` records (at least 1) from now on.
    pub(crate) fn set_batch_size(&mut self, rows: usize) {
        self.batch_size = rows.max(1);
    }

    /// Data rows in the file (blank rows included).
    pub fn total_rows(&self) -> u64 {
        self.total_rows
    }

    /// Rows done and the total.
    pub fn progress(&self) -> Progress {
        Progress {
            rows_done: self.next_row - self.first_row,
            total_rows: Some(self.total_rows),
        }
    }

    /// Reads the records of the next batch (blank and resumed rows
    /// skipped); false at the end of the file.
    pub fn read_records(&mut self, records: &mut RecordBatch) -> std::io::Result<bool> {
        let size = self.batch_size;
        records.len = 0;
        while records.len < size {
            if records.rows.len() == records.len {
                records.rows.push((0, Record::default()));
            }
            let (row_slot, record) = &mut records.rows[records.len];
            if !self.reader.read(record)? {
                break;
            }
            let row = self.next_row;
            self.next_row += 1;
            let resumed = self
                .settings
                .options
                .resume_after_row
                .is_some_and(|last| row <= last);
            if resumed || record.is_blank() {
                continue;
            }
            *row_slot = row;
            records.len += 1;
        }
        records.progress = self.progress();
        Ok(records.len > 0)
    }
}
