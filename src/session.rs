//! An import in progress: batches read, merged, and committed one by one.

use std::collections::HashMap;
use std::io::Read;

use crate::batch::{Batch, BatchRow, RecordBatch};
use crate::batch_rows::BatchRows;
use crate::contact::Contact;
use crate::error::Contended;
use crate::mapping::Columns;
use crate::merge::BatchMerge;
use crate::options::Settings;
use crate::phone::{Phone, PhoneMap};
use crate::plan::{self, PlannedRow, RowOutcome};
use crate::report::{ImportReport, Progress, Warning};
use crate::row_source::{RowRecords, RowSource};
use crate::store::{ContactStore, Stored, WriteBatch};
use crate::tally::Tally;

/// An import in progress, driven batch by batch (see [`ImportEngine::start`](crate::ImportEngine::start)).
pub struct Import<'e, R: Read> {
    pub(crate) source: RowSource<'e, R>,
    pub(crate) state: ImportState<'e>,
    /// Records of the last batch, kept for their buffers.
    records: RecordBatch,
}

/// The merging half of an import: what its rows did so far.
pub(crate) struct ImportState<'e> {
    pub(crate) settings: Settings<'e>,
    pub(crate) columns: Columns,
    pub(crate) tally: Tally,
    /// Phones that several rows share, with their rows (from the first
    /// pass; only when the duplicate policy or a plan needs it).
    pub(crate) repeated: PhoneMap<Vec<u64>>,
}

impl<'e, R: Read> Import<'e, R> {
    pub(crate) fn new(
        settings: Settings<'e>,
        reader: RowRecords<R>,
        columns: Columns,
        report: ImportReport,
        total_rows: u64,
        repeated: PhoneMap<Vec<u64>>,
        first_row: u64,
    ) -> Import<'e, R> {
        let state = ImportState {
            settings,
            columns,
            tally: Tally::new(report, total_rows),
            repeated,
        };
        Import {
            source: RowSource::new(settings, reader, first_row, total_rows),
            state,
            records: RecordBatch::default(),
        }
    }

    /// Cuts the batches for `store`: the batch size the options set, else
    /// the store's preferred one, else the default.
    pub(crate) fn size_batches_for<S: ContactStore + ?Sized>(&mut self, store: &S) {
        if self.state.settings.options.batch_size.is_none()
            && let Some(rows) = store.preferred_batch_size()
        {
            self.source.set_batch_size(rows);
        }
    }

    /// The file's header row.
    pub fn headers(&self) -> &[String] {
        &self.state.tally.report.headers
    }

    /// Data rows in the file (blank rows included).
    pub fn total_rows(&self) -> u64 {
        self.source.total_rows()
    }

    /// Rows done and the total.
    pub fn progress(&self) -> Progress {
        self.source.progress()
    }

    /// The report of the batches committed so far.
    pub fn report(&self) -> &ImportReport {
        &self.state.tally.report
    }

    /// Reads and normalizes the next batch; `None` at the end of the file.
    pub fn next_batch(&mut self) -> std::io::Result<Option<Batch>> {
        let mut records = std::mem::take(&mut self.records);
        let read = self.source.read_records(&mut records);
        let batch = read.map(|any| any.then(|| self.state.rows().normalize(&records)));
        self.records = records;
        batch
    }

    /// Merges the batch's rows, in file order, into `existing` (what the
    /// store holds for [`Batch::phones`], with versions) and returns what to
    /// write: each changed phone once, with the result of applying its rows
    /// one by one, under the precondition that the store still holds what
    /// was fetched. After a write that conflicted, only the rows of the
    /// phones that conflicted merge again.
    pub fn merge(
        &mut self,
        batch: &mut Batch,
        existing: impl IntoIterator<Item = Stored>,
    ) -> WriteBatch {
        match batch.retry.take() {
            Some(mut retry) => {
                let writes = self.state.merge().merge_changed(&mut retry, existing, true);
                batch.take_outcomes(&retry);
                writes
            }
            None => self.state.merge().merge_changed(batch, existing, false),
        }
    }

    /// Hands the import the phones whose write conflicted (what
    /// [`ContactStore::write_batch`](crate::ContactStore::write_batch)
    /// returned). True when the batch is written: [`commit`](Self::commit)
    /// it. False when another writer changed some of its contacts first:
    /// fetch [`Batch::phones`] again and merge again. After
    /// [`MAX_CONFLICT_ROUNDS`](crate::MAX_CONFLICT_ROUNDS) rounds in a row, the contacts that keep
    /// changing are an error.
    pub fn written(
        &mut self,
        batch: &mut Batch,
        mut conflicts: Vec<Phone>,
    ) -> Result<bool, Contended> {
        if conflicts.is_empty() {
            batch.retry = None;
            return Ok(true);
        }
        batch.conflicted(&mut conflicts, 0)?;
        batch.retry = Some(Box::new(batch.subset(&conflicts)));
        Ok(false)
    }

    /// Records a batch the store has written (once [`written`](Self::written)
    /// said so).
    pub fn commit(&mut self, mut batch: Batch) {
        self.state.tally.commit_emptying(&mut batch)
    }

    /// The final report.
    pub fn finish(self) -> ImportReport {
        self.state.tally.report
    }

    pub(crate) fn plan_batch(
        &mut self,
        batch: &mut Batch,
        existing: Vec<Stored>,
    ) -> (Vec<Contact>, Vec<PlannedRow>) {
        self.state.plan_batch(batch, existing)
    }
}

impl ImportState<'_> {
    /// What merges batches, borrowing this import.
    pub(crate) fn merge(&self) -> BatchMerge<'_> {
        let headers = &self.tally.report.headers;
        BatchMerge {
            options: self.settings.options,
            now: self.settings.now,
            opt_in_column: self
                .columns
                .opt_in
                .and_then(|c| headers.get(c))
                .map(String::as_str),
        }
    }

    /// What normalizes rows into batches, borrowing this import.
    pub(crate) fn rows(&self) -> BatchRows<'_> {
        BatchRows {
            settings: self.settings,
            columns: &self.columns,
            headers: &self.tally.report.headers,
            repeated: &self.repeated,
            now: self.settings.now,
        }
    }

    /// Plans the batch: merges it without writing and describes every row;
    /// returns every contact of the batch as merged.
    pub(crate) fn plan_batch(
        &mut self,
        batch: &mut Batch,
        existing: Vec<Stored>,
    ) -> (Vec<Contact>, Vec<PlannedRow>) {
        let mut observed: HashMap<u64, (Vec<plan::FieldChange>, Contact)> = HashMap::new();
        let observe = |row: u64, before: Option<&Contact>, after: &Contact| {
            let blank = Contact::new(after.phone, String::new(), after.created_at);
            let changes = plan::changes(before.unwrap_or(&blank), after);
            observed.insert(row, (changes, after.clone()));
        };
        let (writes, _) = self
            .merge()
            .merge_observed(batch, existing, false, Some(observe));
        let mut contacts = writes.create;
        contacts.extend(writes.update.into_iter().map(|(contact, _)| contact));
        (contacts, planned_rows(batch, observed))
    }
}

/// Each row of a planned batch, with what merging it changed and the
/// contact it left (`observed`, by row).
fn planned_rows(
    batch: &Batch,
    mut observed: HashMap<u64, (Vec<plan::FieldChange>, Contact)>,
) -> Vec<PlannedRow> {
    let mut warnings: HashMap<u64, Vec<Warning>> = HashMap::new();
    for warning in batch.warnings.iter().chain(&batch.merge_warnings) {
        warnings
            .entry(warning.row.unwrap_or(0))
            .or_default()
            .push(warning.clone());
    }
    let mut failures = batch.failures.iter();
    batch
        .rows
        .iter()
        .map(
            |&BatchRow {
                 row,
                 phone,
                 outcome,
             }| {
                let failure = match outcome {
                    RowOutcome::Failed => failures.next().cloned(),
                    _ => None,
                };
                let (changes, contact) = observed
                    .remove(&row)
                    .map_or((Vec::new(), None), |(c, k)| (c, Some(k)));
                PlannedRow {
                    row,
                    phone,
                    outcome,
                    changes,
                    failure,
                    warnings: warnings.remove(&row).unwrap_or_default(),
                    contact,
                }
            },
        )
        .collect()
}
