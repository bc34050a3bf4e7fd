//! Normalizing records into a batch.

use jiff::Timestamp;

use crate::batch::{Batch, BatchRow, RecordBatch};
use crate::contact::{Contact, Tags};
use crate::mapping::Columns;
use crate::merge::duplicate_failure;
use crate::normalize::{Cell, RowNormalizer, RowUpdate};
use crate::options::{Settings, TagPolicy};
use crate::phone::{Phone, PhoneMap, PhoneNormalizer};
use crate::plan::RowOutcome;
use crate::reader::Record;
use crate::report::{FailureCode, RowFailure};
use crate::row_cells::RowCells;

/// Everything that turns records into a batch: shareable with a thread that
/// normalizes while the import merges.
#[derive(Clone, Copy)]
pub(crate) struct BatchRows<'a> {
    pub settings: Settings<'a>,
    pub columns: &'a Columns,
    pub headers: &'a [String],
    pub repeated: &'a PhoneMap<Vec<u64>>,
    /// When the import started: new contacts' `created_at`.
    pub now: Timestamp,
}

impl<'a> BatchRows<'a> {
    /// A normalizer of these rows, for one thread to keep over many batches:
    /// what it learns of the file (tag cells, attribute name lists) serves
    /// them all.
    pub fn normalizer(&self) -> RowNormalizer<'a> {
        let settings = self.settings;
        RowNormalizer::new(
            settings.catalog,
            self.columns,
            self.headers,
            PhoneNormalizer::new(settings.options.region),
            &settings.options.update,
        )
        .reject_not_mobile(settings.options.reject_not_mobile)
    }

    /// Normalizes `records` into a batch.
    pub fn normalize(&self, records: &RecordBatch) -> Batch {
        let mut batch = Batch::default();
        self.normalize_into(&self.normalizer(), records, &mut batch);
        batch
    }

    /// Normalizes `records` into `batch` with `normalizer` (one of
    /// [`normalizer`](Self::normalizer)), reusing the batch's buffers.
    pub fn normalize_into(
        &self,
        normalizer: &RowNormalizer<'_>,
        records: &RecordBatch,
        batch: &mut Batch,
    ) {
        batch.clear();
        let rows = &records.rows[..records.len];
        batch.last_row = rows.last().map_or(0, |(row, _)| *row);
        batch.rows.reserve(rows.len());
        batch.contacts.reserve(rows.len());
        batch.cells.reserve(rows.len());
        batch.phones.reserve(rows.len());
        batch.first_rows.reserve(rows.len());
        for &(row, ref record) in rows {
            let (phone, failure) = self.normalize_row(normalizer, row, record, batch);
            let outcome = match failure {
                Some(failure) => {
                    batch.failures.push(failure);
                    RowOutcome::Failed
                }
                None => RowOutcome::Unchanged,
            };
            batch.rows.push(BatchRow {
                row,
                phone,
                outcome,
            });
        }
    }
}

impl BatchRows<'_> {
    /// Normalizes one row into `batch`: its phone, if it has a valid one,
    /// and its failure, if it fails.
    fn normalize_row(
        &self,
        normalizer: &RowNormalizer<'_>,
        row: u64,
        record: &Record,
        batch: &mut Batch,
    ) -> (Option<Phone>, Option<RowFailure>) {
        let update = match normalizer.normalize(row, record, &mut batch.warnings) {
            Ok(update) => update,
            Err(failure) => return (None, Some(failure)),
        };
        let phone = update.phone;
        let duplicates = self.settings.options.duplicates;
        match duplicate_failure(self.repeated, duplicates, &update) {
            Some(message) => (
                Some(phone),
                Some(RowFailure {
                    position: crate::report::Position {
                        row,
                        column: self.columns.phone.map(|c| self.headers[c].clone()),
                    },
                    code: FailureCode::DuplicateInFile,
                    message,
                    values: record.lossy(),
                }),
            ),
            None => {
                let earlier = batch.note_first_row(phone);
                self.push_as_new(update, earlier, batch);
                (Some(phone), None)
            }
        }
    }

    /// Pushes the contact a valid row creates when its phone is new, and
    /// what its cells said (to merge it into another contact instead).
    fn push_as_new(&self, mut update: RowUpdate, earlier: Option<usize>, batch: &mut Batch) {
        let options = self.settings.options;
        let removed_tags = match (&mut update.tags, options.update.tags) {
            (Cell::Set(tags), TagPolicy::Remove) => std::mem::take(tags),
            _ => Tags::new(),
        };
        let cells = RowCells {
            tags: update.tags.kind(),
            source: update.source.kind(),
            first_message: update.first_message.kind(),
            removed_tags,
            cleared: std::mem::take(&mut update.cleared),
            earlier,
        };
        // Built where it stays: a contact is a few hundred bytes.
        batch
            .contacts
            .push(Contact::new(update.phone, String::new(), self.now));
        if let Some(contact) = batch.contacts.last_mut() {
            options.apply_to_new(contact, &mut update);
        }
        batch.cells.push(cells);
    }
}
