//! An import in progress: batches read, merged, and committed one by one.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::Read;

use jiff::Timestamp;
use smallvec::SmallVec;

use crate::contact::{Attribute, Contact, Tags};
use crate::error::{Contended, ImportError};
use crate::mapping::Columns;
use crate::merge::{Merged, OptInNote};
use crate::normalize::{Cell, RowNormalizer, RowUpdate};
use crate::options::{DuplicatePolicy, ImportMode, Settings};
use crate::options::{FieldPolicy, TagPolicy};
use crate::phone::{Phone, PhoneIndex, PhoneMap, PhoneNormalizer, phone_map};
use crate::plan::{self, PlannedRow, RowOutcome};
use crate::reader::{Input, Record, RecordReader, Records};
use crate::report::Progress;
use crate::report::{DuplicatePhone, FailureCode, ImportReport, RowFailure, Warning, WarningCode};
use crate::store::{Stored, Version, WriteBatch};

/// Rounds of conflicts one batch may meet before the import gives up on
/// the contacts that keep changing: each round fetches them again and
/// merges their rows again.
pub(crate) const MAX_ROUNDS: u32 = 16;

/// One row of a batch; a valid row's contact and cells are in
/// `Batch::contacts` and `Batch::cells`, a failure in `Batch::failures`, in
/// the order of the rows. Small, so that the
/// batch's bookkeeping does not move every row's values around.
#[derive(Clone, Copy, Debug)]
struct BatchRow {
    row: u64,
    phone: Option<Phone>,
    /// `Failed` for a failure; for a valid row, what merging it did
    /// (`Unchanged` until it is merged).
    outcome: RowOutcome,
}

/// A batch of normalized rows on its way to the store.
#[derive(Debug, Default)]
pub struct Batch {
    rows: Vec<BatchRow>,
    /// For each valid row, the contact it creates when its phone is new
    /// (built on the normalizing thread, so that the common case only
    /// moves it to the store), with what its cells said.
    contacts: Vec<Contact>,
    cells: Vec<RowCells>,
    failures: Vec<RowFailure>,
    warnings: Vec<Warning>,
    /// Warnings of the last merge (an opt-out kept), which depend on what
    /// the store held: merged again with the rows after a conflict.
    merge_warnings: Vec<Warning>,
    phones: Vec<Phone>,
    /// Each phone's first valid row in the batch (its place in `contacts`).
    first_rows: PhoneMap<usize>,
    last_row: u64,
    /// The rows of the phones whose write conflicted, to merge again
    /// (driven imports), and how many rounds of conflicts the batch met.
    retry: Option<Box<Batch>>,
    rounds: u32,
    /// Writes that conflicted, over all rounds.
    conflicts: u64,
}

impl Batch {
    /// The phones to fetch from the store before the next
    /// [`merge`](Import::merge): the distinct phones of the batch's valid
    /// rows, or, after a write that conflicted, the phones that conflicted.
    pub fn phones(&self) -> &[Phone] {
        match &self.retry {
            Some(retry) => &retry.phones,
            None => &self.phones,
        }
    }

    /// The spreadsheet row number of the batch's last row.
    pub fn last_row(&self) -> u64 {
        self.last_row
    }

    /// Empties the batch, keeping its buffers.
    fn clear(&mut self) {
        self.rows.clear();
        self.contacts.clear();
        self.cells.clear();
        self.failures.clear();
        self.warnings.clear();
        self.merge_warnings.clear();
        self.phones.clear();
        self.first_rows.clear();
        self.retry = None;
        self.rounds = 0;
        self.conflicts = 0;
    }

    /// The batch's valid rows whose phone is in `phones` (sorted), with
    /// their values: what merges again after those phones conflicted.
    fn subset(&self, phones: &[Phone]) -> Batch {
        let mut sub = Batch {
            last_row: self.last_row,
            ..Batch::default()
        };
        let valid = self.rows.iter().filter(|r| r.outcome != RowOutcome::Failed);
        for ((row, contact), cells) in valid.zip(&self.contacts).zip(&self.cells) {
            let Some(phone) = row.phone.filter(|p| phones.binary_search(p).is_ok()) else {
                continue;
            };
            let earlier = sub.note_first_row(phone);
            sub.rows.push(*row);
            sub.contacts.push(contact.clone());
            sub.cells.push(RowCells {
                earlier,
                ..cells.clone()
            });
        }
        sub
    }

    /// Notes that the next valid row has `phone`; returns the phone's
    /// earlier row in the batch (its place in `contacts`), if there is one.
    fn note_first_row(&mut self, phone: Phone) -> Option<usize> {
        match self.first_rows.entry(phone) {
            Entry::Occupied(first) => Some(*first.get()),
            Entry::Vacant(slot) => {
                slot.insert(self.contacts.len());
                self.phones.push(phone);
                None
            }
        }
    }

    /// Takes what merging `sub` (some of this batch's rows) did to its rows.
    pub(crate) fn take_outcomes(&mut self, sub: &Batch) {
        for merged in &sub.rows {
            if let Ok(at) = self.rows.binary_search_by_key(&merged.row, |r| r.row)
                && let Some(row) = self.rows.get_mut(at)
            {
                row.outcome = merged.outcome;
            }
        }
        if !self.merge_warnings.is_empty() || !sub.merge_warnings.is_empty() {
            let merged_again = |w: &Warning| {
                let row = w.row.unwrap_or(0);
                sub.rows.binary_search_by_key(&row, |r| r.row).is_ok()
            };
            self.merge_warnings.retain(|w| !merged_again(w));
            self.merge_warnings
                .extend(sub.merge_warnings.iter().cloned());
            self.merge_warnings.sort_by_key(|w| w.row);
        }
    }

    /// Counts a round of conflicts; an error once the batch has met too many.
    pub(crate) fn conflicted(&mut self, phones: &mut Vec<Phone>) -> Result<(), Contended> {
        self.rounds += 1;
        self.conflicts += phones.len() as u64;
        phones.sort_unstable();
        phones.dedup();
        if self.rounds > MAX_ROUNDS {
            return Err(Contended {
                phones: std::mem::take(phones),
                rounds: self.rounds - 1,
            });
        }
        Ok(())
    }

    /// The valid rows with what their cells said, in file order.
    fn valid_rows_mut(&mut self) -> impl Iterator<Item = (&mut BatchRow, &mut RowCells)> {
        let valid = self
            .rows
            .iter_mut()
            .filter(|r| r.outcome != RowOutcome::Failed);
        valid.zip(self.cells.iter_mut())
    }
}

/// What a valid row's cells said, beside its values in the contact it
/// creates: enough to turn the row back into an update of another contact.
#[derive(Clone, Debug)]
struct RowCells {
    tags: Cell<()>,
    source: Cell<()>,
    first_message: Cell<()>,
    /// The row's tags under [`TagPolicy::Remove`], which leaves a new
    /// contact without them.
    removed_tags: Tags,
    cleared: SmallVec<[Attribute; 2]>,
    /// The earlier valid row of the batch with the same phone (its place in
    /// `Batch::contacts`), if there is one: found while normalizing, so that
    /// the merge looks up no phone it need not.
    earlier: Option<usize>,
}

/// Where the contact a row merges into is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    /// Created by an earlier row of the batch, which keeps it.
    New(usize),
    /// Stored: the how-manyth stored contact the batch updates.
    Stored(usize),
    /// None: the import mode leaves the row out.
    Skipped,
}

/// Whether the import mode leaves out row `own` (the how-manyth valid row
/// of the batch) merging into `target`: add-only leaves out every row but
/// one that creates its contact, update-only every row that would.
fn skipped_by(mode: ImportMode, target: Target, own: usize) -> bool {
    match (mode, target) {
        (_, Target::Skipped) => true,
        (ImportMode::AddAndUpdate, _) => false,
        (ImportMode::AddOnly, target) => target != Target::New(own),
        (ImportMode::UpdateOnly, target) => target == Target::New(own),
    }
}

/// A cell of kind `kind` with `value` if it is set.
fn with_value<T>(kind: Cell<()>, value: Option<T>) -> Cell<T> {
    match (kind, value) {
        (Cell::Set(()), Some(value)) => Cell::Set(value),
        (Cell::Set(()) | Cell::Absent, _) => Cell::Absent,
        (Cell::Empty, _) => Cell::Empty,
        (Cell::Clear, _) => Cell::Clear,
    }
}

/// A row back as an update, its values taken from the contact it created.
fn update_from(mut contact: Contact, cells: &mut RowCells, row: u64) -> RowUpdate {
    let tags = match cells.tags {
        Cell::Set(()) if !cells.removed_tags.is_empty() => std::mem::take(&mut cells.removed_tags),
        _ => std::mem::take(&mut contact.tags),
    };
    RowUpdate {
        row,
        phone: contact.phone,
        name: contact.take_name(),
        tags: with_value(cells.tags.clone(), Some(tags)),
        source: with_value(cells.source.clone(), contact.source),
        first_message: with_value(cells.first_message.clone(), contact.first_message),
        attributes: contact.attributes,
        cleared: std::mem::take(&mut cells.cleared),
        opt_in: contact.opt_in,
    }
}

/// What the import knows of one phone of the file, in 8 bytes (it keeps
/// one for every phone of the file): the first row that has it, whether a
/// row added it, and whether it is listed as updated. Where a repeated
/// phone's rows are listed is kept apart: few phones repeat.
#[derive(Clone, Copy, Debug)]
struct PhoneSeen(u64);

impl PhoneSeen {
    const ADDED: u64 = 1 << 63;
    const LISTED_UPDATED: u64 = 1 << 62;
    /// Rows past 2^62 (no file has them) are remembered as that row.
    const ROW: u64 = Self::LISTED_UPDATED - 1;

    fn new(first_row: u64) -> PhoneSeen {
        PhoneSeen(first_row.min(Self::ROW))
    }

    fn first_row(self) -> u64 {
        self.0 & Self::ROW
    }

    fn has(self, flag: u64) -> bool {
        self.0 & flag != 0
    }

    fn set(&mut self, flag: u64) {
        self.0 |= flag;
    }
}

/// An import in progress, driven batch by batch (see [`ImportEngine::start`]).
pub struct Import<'e, R: Read> {
    pub(crate) source: RowSource<'e, R>,
    pub(crate) state: ImportState<'e>,
    /// Records of the last batch, kept for their buffers.
    records: RecordBatch,
}

/// The reading half of an import: the file's records in order, numbered
/// as spreadsheet rows. A pipelined import reads on its second thread.
pub(crate) struct RowSource<'e, R: Read> {
    settings: Settings<'e>,
    reader: RowRecords<R>,
    next_row: u64,
    /// The first data row (the row after the header).
    first_row: u64,
    total_rows: u64,
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

/// The merging half of an import: what its rows did so far.
pub(crate) struct ImportState<'e> {
    pub settings: Settings<'e>,
    pub columns: Columns,
    pub report: ImportReport,
    /// Phones that several rows share, with their rows (from the first
    /// pass; only when the duplicate policy or a plan needs it).
    pub repeated: PhoneMap<Vec<u64>>,
    pub now: Timestamp,
    seen: PhoneIndex<PhoneSeen>,
    /// Where in `report.duplicates` each repeated phone's rows are.
    duplicate_at: PhoneIndex<usize>,
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
            report,
            repeated,
            now: settings.now,
            // Sized for the file up front: growing it at 200,000 phones
            // would hold the old and the new table at once.
            seen: PhoneIndex::with_capacity_and_hasher(
                usize::try_from(total_rows).unwrap_or(0).min(1 << 22),
                Default::default(),
            ),
            duplicate_at: PhoneIndex::default(),
        };
        Import {
            source: RowSource {
                settings,
                reader,
                next_row: first_row,
                first_row,
                total_rows,
            },
            state,
            records: RecordBatch::default(),
        }
    }

    /// The file's header row.
    pub fn headers(&self) -> &[String] {
        &self.state.report.headers
    }

    /// Data rows in the file (blank rows included).
    pub fn total_rows(&self) -> u64 {
        self.source.total_rows
    }

    /// Rows done and the total.
    pub fn progress(&self) -> Progress {
        self.source.progress()
    }

    /// The report of the batches committed so far.
    pub fn report(&self) -> &ImportReport {
        &self.state.report
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
                let writes = self.state.merge_changed(&mut retry, existing, true);
                batch.take_outcomes(&retry);
                writes
            }
            None => self.state.merge_changed(batch, existing, false),
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
        batch.conflicted(&mut conflicts)?;
        batch.retry = Some(Box::new(batch.subset(&conflicts)));
        Ok(false)
    }

    /// Records a batch the store has written (once [`written`](Self::written)
    /// said so).
    pub fn commit(&mut self, batch: Batch) {
        self.state.commit(batch)
    }

    /// The final report.
    pub fn finish(self) -> ImportReport {
        self.state.report
    }

    pub(crate) fn plan_batch(
        &mut self,
        batch: &mut Batch,
        existing: Vec<Stored>,
    ) -> (Vec<Contact>, Vec<PlannedRow>) {
        self.state.plan_batch(batch, existing)
    }

    pub(crate) fn store_failed<E>(self, error: E) -> ImportError<E> {
        self.state.store_failed(error)
    }

    pub(crate) fn read_failed<E>(self, error: std::io::Error) -> ImportError<E> {
        self.state.read_failed(error)
    }
}

impl<R: Read> RowSource<'_, R> {
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
        let size = self.settings.options.batch_size.max(1);
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

impl ImportState<'_> {
    /// What normalizes rows into batches, borrowing this import.
    pub(crate) fn rows(&self) -> BatchRows<'_> {
        BatchRows {
            settings: self.settings,
            columns: &self.columns,
            headers: &self.report.headers,
            repeated: &self.repeated,
            now: self.now,
        }
    }

    /// Like [`Import::merge`]; with `take`, the rows' values are moved
    /// into the contacts instead of copied, and the batch can only be
    /// committed afterwards, not merged again.
    pub(crate) fn merge_changed(
        &mut self,
        batch: &mut Batch,
        existing: impl IntoIterator<Item = Stored>,
        take: bool,
    ) -> WriteBatch {
        let no_observer = None::<fn(u64, Option<&Contact>, &Contact)>;
        let (mut writes, changed) = self.merge_observed(batch, existing, take, no_observer);
        // Only stored contacts that no row changed are left out.
        let mut changed = changed.into_iter();
        writes.update.retain(|_| changed.next().unwrap_or(false));
        writes
    }

    /// Merges like [`Import::merge`], calling `observe(row, before, after)`
    /// for every valid row when given, and returns every contact of the
    /// batch (the new ones, and the stored ones it updates) and, beside
    /// the stored ones, whether a row changed them. With `take`, the rows'
    /// values are moved into the contacts. Without `observe`, no contact is
    /// copied to see what a row changed.
    pub(crate) fn merge_observed(
        &mut self,
        batch: &mut Batch,
        existing: impl IntoIterator<Item = Stored>,
        take: bool,
        mut observe: Option<impl FnMut(u64, Option<&Contact>, &Contact)>,
    ) -> (WriteBatch, Vec<bool>) {
        let mut stored: PhoneMap<Stored> = phone_map(0);
        stored.extend(existing.into_iter().map(|s| (s.contact.phone, s)));
        let mut contacts = if take {
            std::mem::take(&mut batch.contacts)
        } else {
            batch.contacts.clone()
        };
        // A row whose phone is new and first in the batch keeps the contact
        // it created; the others merge into another contact.
        let mut merged_away = vec![false; contacts.len()];
        let mut updated: Vec<(Contact, Version)> = Vec::new();
        let mut changed: Vec<bool> = Vec::new();
        // Where each valid row's contact is, by the row's place.
        let mut targets: Vec<Target> = Vec::with_capacity(contacts.len());
        let mut notes: Vec<(u64, Phone, OptInNote)> = Vec::new();
        for (i, (row, cells)) in batch.valid_rows_mut().enumerate() {
            let earlier = cells.earlier.and_then(|first| targets.get(first).copied());
            let from_store = match (earlier, row.phone) {
                (None, Some(phone)) if !stored.is_empty() => stored.remove(&phone),
                _ => None,
            };
            let target = match (earlier, from_store) {
                (Some(target), _) => target,
                (None, Some(Stored { contact, version })) => {
                    updated.push((contact, version));
                    changed.push(false);
                    Target::Stored(updated.len() - 1)
                }
                (None, None) => Target::New(i),
            };
            let target = if skipped_by(self.settings.options.mode, target, i) {
                Target::Skipped
            } else {
                target
            };
            targets.push(target);
            if target == Target::Skipped {
                row.outcome = RowOutcome::Skipped;
                if let Some(away) = merged_away.get_mut(i) {
                    *away = true;
                }
                continue;
            }
            // The row's own contact: its phone is new and first in the batch.
            if target == Target::New(i) {
                row.outcome = RowOutcome::Added;
                if let (Some(observe), Some(contact)) = (&mut observe, contacts.get(i)) {
                    observe(row.row, None, contact);
                }
                continue;
            }
            let (Some(own), Some(away)) = (contacts.get_mut(i), merged_away.get_mut(i)) else {
                continue;
            };
            *away = true;
            let own = std::mem::replace(own, Contact::new(own.phone, String::new(), self.now));
            let values = if take {
                update_from(own, cells, row.row)
            } else {
                update_from(own, &mut cells.clone(), row.row)
            };
            let contact = match target {
                Target::New(k) => contacts.get_mut(k),
                Target::Stored(k) => updated.get_mut(k).map(|(c, _)| c),
                Target::Skipped => None,
            };
            let Some(contact) = contact else { continue };
            let merged = self.update(contact, values, row.row, &mut observe);
            let row_changed = merged.changed;
            if let (Some(note), Some(phone)) = (merged.opt_in, row.phone) {
                notes.push((row.row, phone, note));
            }
            row.outcome = if row_changed {
                RowOutcome::Updated
            } else {
                RowOutcome::Unchanged
            };
            if let (Target::Stored(k), true) = (target, row_changed)
                && let Some(changed) = changed.get_mut(k)
            {
                *changed = true;
            }
        }
        batch.merge_warnings.clear();
        for (row, phone, note) in notes {
            let warning = self.opt_in_warning(row, phone, note);
            batch.merge_warnings.push(warning);
        }
        let mut away = merged_away.into_iter();
        contacts.retain(|_| !away.next().unwrap_or(false));
        let writes = WriteBatch {
            create: contacts,
            update: updated,
        };
        (writes, changed)
    }

    /// Merges a row into a contact that exists (stored, or created by an
    /// earlier row of the batch); returns whether it changed.
    fn update(
        &self,
        contact: &mut Contact,
        mut values: RowUpdate,
        row: u64,
        observe: &mut Option<impl FnMut(u64, Option<&Contact>, &Contact)>,
    ) -> Merged {
        let policy = &self.settings.options.update;
        // An empty Source cell under the overwrite policy gives the default
        // source, as it does to a new contact.
        if values.source == Cell::Empty && policy.source == FieldPolicy::Overwrite {
            values.source = self.default_source().map_or(Cell::Empty, Cell::Set);
        }
        let before = observe.is_some().then(|| contact.clone());
        let merged = policy.apply_owned(contact, &mut values, false);
        if let (Some(observe), Some(before)) = (observe, &before) {
            debug_assert_eq!(merged.changed, contact != before);
            observe(row, Some(before), contact);
        }
        merged
    }

    /// The warning a row's opt-in cell earned in the merge.
    fn opt_in_warning(&self, row: u64, phone: Phone, note: OptInNote) -> Warning {
        let (code, message) = match note {
            OptInNote::Kept => (
                WarningCode::OptOutKept,
                format!(
                    "the cell says opted in, but {phone} opted out, so it stays opted out (opt-in policy keep_opt_out); import with the opt-in policy allow_opt_in_again only to record a new opt-in the person gave"
                ),
            ),
            OptInNote::AgainIn => (
                WarningCode::OptedInAgain,
                format!(
                    "{phone} had opted out and is opted in again, as the opt-in policy allow_opt_in_again allows"
                ),
            ),
        };
        Warning {
            row: Some(row),
            column: self.columns.opt_in.map(|c| self.report.headers[c].clone()),
            code,
            message,
            value: Some("opted in".to_owned()),
        }
    }

    /// The source of an imported contact whose row gives none. A row that
    /// clears the source (the clear token) leaves it empty.
    fn default_source(&self) -> Option<String> {
        self.settings.options.default_source.clone()
    }

    /// Records a batch the store has written.
    pub fn commit(&mut self, mut batch: Batch) {
        self.commit_emptying(&mut batch);
    }

    /// Records a batch the store has written, leaving it empty, its
    /// buffers kept for another batch.
    pub fn commit_emptying(&mut self, batch: &mut Batch) {
        for row in batch.rows.drain(..) {
            self.report.rows += 1;
            let seen = row.phone.map(|phone| {
                let duplicates = &mut self.report.duplicates;
                (
                    phone,
                    note_phone(
                        &mut self.seen,
                        &mut self.duplicate_at,
                        duplicates,
                        phone,
                        row.row,
                    ),
                )
            });
            match (row.outcome, seen) {
                (RowOutcome::Failed, _) => self.report.failed += 1,
                (outcome, Some((phone, seen))) => count(&mut self.report, seen, phone, outcome),
                // A valid row always has a phone.
                (_, None) => {}
            }
        }
        self.report.conflicts += batch.conflicts;
        self.report.not_mobile +=
            crate::normalize::not_mobile_rows(&batch.warnings, &batch.failures);
        self.report.failures.append(&mut batch.failures);
        if !batch.merge_warnings.is_empty() {
            batch.warnings.append(&mut batch.merge_warnings);
            batch.warnings.sort_by_key(|w| w.row);
        }
        self.report.warnings.append(&mut batch.warnings);
        self.report.last_row = Some(batch.last_row);
        batch.clear();
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
        let (writes, _) = self.merge_observed(batch, existing, false, Some(observe));
        let mut contacts = writes.create;
        contacts.extend(writes.update.into_iter().map(|(contact, _)| contact));
        let mut warnings: HashMap<u64, Vec<Warning>> = HashMap::new();
        for warning in batch.warnings.iter().chain(&batch.merge_warnings) {
            warnings
                .entry(warning.row.unwrap_or(0))
                .or_default()
                .push(warning.clone());
        }
        let mut failures = batch.failures.iter();
        let rows = batch
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
            .collect();
        (contacts, rows)
    }

    pub(crate) fn store_failed<E>(self, error: E) -> ImportError<E> {
        ImportError::Store {
            error,
            report: Box::new(self.report),
        }
    }

    /// Like `store_failed`, for a caller that cannot give the import up:
    /// the report so far moves into the error.
    pub(crate) fn store_failed_ref<E>(&mut self, error: E) -> ImportError<E> {
        ImportError::Store {
            error,
            report: Box::new(std::mem::take(&mut self.report)),
        }
    }

    /// Like `store_failed_ref`, for contacts that kept changing.
    pub(crate) fn contended_ref<E>(&mut self, error: Contended) -> ImportError<E> {
        ImportError::Contended {
            error,
            report: Box::new(std::mem::take(&mut self.report)),
        }
    }

    /// Like `read_failed`, for a caller that cannot give the import up.
    pub(crate) fn read_failed_ref<E>(&mut self, error: std::io::Error) -> ImportError<E> {
        ImportError::Read {
            error,
            report: Box::new(std::mem::take(&mut self.report)),
        }
    }

    pub(crate) fn read_failed<E>(self, error: std::io::Error) -> ImportError<E> {
        ImportError::Read {
            error,
            report: Box::new(self.report),
        }
    }
}

/// Remembers that `row` has `phone`, listing the rows of repeated
/// phones; returns what is known of the phone (one lookup a row).
fn note_phone<'a>(
    seen: &'a mut PhoneIndex<PhoneSeen>,
    duplicate_at: &mut PhoneIndex<usize>,
    duplicates: &mut Vec<DuplicatePhone>,
    phone: Phone,
    row: u64,
) -> &'a mut PhoneSeen {
    match seen.entry(phone.key()) {
        Entry::Vacant(vacant) => vacant.insert(PhoneSeen::new(row)),
        Entry::Occupied(occupied) => {
            let seen = occupied.into_mut();
            let at = *duplicate_at.entry(phone.key()).or_insert(duplicates.len());
            match duplicates.get_mut(at) {
                Some(duplicate) => duplicate.rows.push(row),
                None => duplicates.push(DuplicatePhone {
                    phone,
                    rows: vec![seen.first_row(), row],
                }),
            }
            seen
        }
    }
}

/// Counts a merged row in `report`, listing its phone once.
fn count(report: &mut ImportReport, seen: &mut PhoneSeen, phone: Phone, outcome: RowOutcome) {
    match outcome {
        RowOutcome::Added => {
            report.added += 1;
            seen.set(PhoneSeen::ADDED);
            report.phones_added.push(phone);
        }
        RowOutcome::Updated => {
            report.updated += 1;
            if !seen.has(PhoneSeen::ADDED) && !seen.has(PhoneSeen::LISTED_UPDATED) {
                seen.set(PhoneSeen::LISTED_UPDATED);
                report.phones_updated.push(phone);
            }
        }
        RowOutcome::Unchanged => report.unchanged += 1,
        RowOutcome::Skipped => report.skipped += 1,
        RowOutcome::Failed => report.failed += 1,
    }
}

/// The records of a batch with their spreadsheet rows; the records past
/// `len` are spares whose buffers the next batch reuses.
#[derive(Debug)]
pub(crate) struct RecordBatch {
    rows: Vec<(u64, Record)>,
    len: usize,
    /// The import's progress once these records were read.
    pub progress: Progress,
}

impl RecordBatch {
    /// The records of `batch`'s valid rows whose phone is in `phones`
    /// (sorted): to normalize again the rows whose write conflicted, when
    /// the batch's values were moved into the store.
    pub fn subset(&self, batch: &Batch, phones: &[Phone]) -> RecordBatch {
        let rows = self.rows[..self.len].iter().zip(&batch.rows);
        let rows: Vec<(u64, Record)> = rows
            .filter(|(_, row)| row.outcome != RowOutcome::Failed)
            .filter(|(_, row)| row.phone.is_some_and(|p| phones.binary_search(&p).is_ok()))
            .map(|(record, _)| record.clone())
            .collect();
        RecordBatch {
            len: rows.len(),
            rows,
            progress: self.progress,
        }
    }
}

impl Default for RecordBatch {
    fn default() -> RecordBatch {
        RecordBatch {
            rows: Vec::new(),
            len: 0,
            progress: Progress {
                rows_done: 0,
                total_rows: None,
            },
        }
    }
}

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

impl BatchRows<'_> {
    /// Normalizes `records` into a batch.
    pub fn normalize(&self, records: &RecordBatch) -> Batch {
        let mut batch = Batch::default();
        self.normalize_into(records, &mut batch);
        batch
    }

    /// Normalizes `records` into `batch`, reusing its buffers.
    pub fn normalize_into(&self, records: &RecordBatch, batch: &mut Batch) {
        batch.clear();
        let settings = self.settings;
        let normalizer = RowNormalizer::new(
            settings.catalog,
            self.columns,
            self.headers,
            PhoneNormalizer::new(settings.options.region),
            &settings.options.update,
        )
        .reject_not_mobile(settings.options.reject_not_mobile);
        let rows = &records.rows[..records.len];
        batch.last_row = rows.last().map_or(0, |(row, _)| *row);
        batch.rows.reserve(rows.len());
        batch.contacts.reserve(rows.len());
        batch.cells.reserve(rows.len());
        batch.phones.reserve(rows.len());
        batch.first_rows.reserve(rows.len());
        for (row, record) in rows {
            let row = *row;
            let (phone, failure) = match normalizer.normalize(row, record, &mut batch.warnings) {
                Ok(update) => {
                    let phone = update.phone;
                    match duplicate_failure(self.repeated, settings.options.duplicates, &update) {
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
                Err(failure) => (None, Some(failure)),
            };
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
    /// Pushes the contact a valid row creates when its phone is new, and
    /// what its cells said (to merge it into another contact instead).
    fn push_as_new(&self, mut update: RowUpdate, earlier: Option<usize>, batch: &mut Batch) {
        let options = self.settings.options;
        let policy = &options.update;
        let removed_tags = match (&mut update.tags, policy.tags) {
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
            policy.apply_owned(contact, &mut update, true);
            // A row that clears the source (the clear token) leaves it empty.
            if contact.source.is_none() && cells.source != Cell::Clear {
                contact.source.clone_from(&options.default_source);
            }
        }
        batch.cells.push(cells);
    }
}

/// Why the duplicate policy does not take this row, if it does not.
fn duplicate_failure(
    repeated: &PhoneMap<Vec<u64>>,
    policy: DuplicatePolicy,
    update: &RowUpdate,
) -> Option<String> {
    let rows = repeated.get(&update.phone)?;
    let (first, last) = (*rows.first()?, *rows.last()?);
    let phone = update.phone;
    match policy {
        DuplicatePolicy::Merge => None,
        DuplicatePolicy::FirstWins if update.row != first => Some(format!(
            "row {first} has the same phone {phone} and was imported instead (the first row wins)"
        )),
        DuplicatePolicy::LastWins if update.row != last => Some(format!(
            "row {last} has the same phone {phone} and was imported instead (the last row wins)"
        )),
        DuplicatePolicy::Reject => {
            let others: Vec<String> = rows
                .iter()
                .filter(|&&r| r != update.row)
                .map(u64::to_string)
                .collect();
            Some(format!(
                "rows {} have the same phone {phone}; rows that share a phone are rejected: keep one and import again",
                others.join(", ")
            ))
        }
        DuplicatePolicy::FirstWins | DuplicatePolicy::LastWins => None,
    }
}
