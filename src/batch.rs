//! The batch model: rows on their way to the store, and their records.

use std::collections::hash_map::Entry;

use crate::contact::Contact;
use crate::error::Contended;
use crate::phone::{Phone, PhoneMap};
use crate::plan::RowOutcome;
use crate::reader::Record;
use crate::report::{Progress, RowFailure, Warning};
use crate::row_cells::RowCells;

/// Rounds of conflicts one batch may meet before the import gives up on
/// the contacts that keep changing: each round fetches them again and
/// merges their rows again.
pub(crate) const MAX_ROUNDS: u32 = 16;

/// One row of a batch; a valid row's contact and cells are in
/// `Batch::contacts` and `Batch::cells`, a failure in `Batch::failures`, in
/// the order of the rows. Small, so that the
/// batch's bookkeeping does not move every row's values around.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BatchRow {
    pub(crate) row: u64,
    pub(crate) phone: Option<Phone>,
    /// `Failed` for a failure; for a valid row, what merging it did
    /// (`Unchanged` until it is merged).
    pub(crate) outcome: RowOutcome,
}

/// A batch of normalized rows on its way to the store.
#[derive(Debug, Default)]
pub struct Batch {
    pub(crate) rows: Vec<BatchRow>,
    /// For each valid row, the contact it creates when its phone is new
    /// (built on the normalizing thread, so that the common case only
    /// moves it to the store), with what its cells said.
    pub(crate) contacts: Vec<Contact>,
    pub(crate) cells: Vec<RowCells>,
    pub(crate) failures: Vec<RowFailure>,
    pub(crate) warnings: Vec<Warning>,
    /// Warnings of the last merge (an opt-out kept), which depend on what
    /// the store held: merged again with the rows after a conflict.
    pub(crate) merge_warnings: Vec<Warning>,
    pub(crate) phones: Vec<Phone>,
    /// Each phone's first valid row in the batch (its place in `contacts`).
    pub(crate) first_rows: PhoneMap<usize>,
    pub(crate) last_row: u64,
    /// The rows of the phones whose write conflicted, to merge again
    /// (driven imports), and how many rounds of conflicts the batch met.
    pub(crate) retry: Option<Box<Batch>>,
    pub(crate) rounds: u32,
    /// Writes that conflicted, over all rounds.
    pub(crate) conflicts: u64,
}

impl Batch {
    /// The phones to fetch from the store before the next
    /// [`merge`](crate::Import::merge): the distinct phones of the batch's valid
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
    pub(crate) fn clear(&mut self) {
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
    pub(crate) fn subset(&self, phones: &[Phone]) -> Batch {
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
    pub(crate) fn note_first_row(&mut self, phone: Phone) -> Option<usize> {
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
    /// The first `guessed_wrong` of them were no other writer's doing (see
    /// [`ContactStore::creates_without_fetch`](crate::ContactStore::creates_without_fetch)):
    /// they count neither as conflicts nor, alone, as a round.
    pub(crate) fn conflicted(
        &mut self,
        phones: &mut Vec<Phone>,
        guessed_wrong: usize,
    ) -> Result<(), Contended> {
        let conflicts = phones.len().saturating_sub(guessed_wrong);
        if conflicts > 0 {
            self.rounds += 1;
        }
        self.conflicts += conflicts as u64;
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
    pub(crate) fn valid_rows_mut(
        &mut self,
    ) -> impl Iterator<Item = (&mut BatchRow, &mut RowCells)> {
        let valid = self
            .rows
            .iter_mut()
            .filter(|r| r.outcome != RowOutcome::Failed);
        valid.zip(self.cells.iter_mut())
    }
}

/// The records of a batch with their spreadsheet rows; the records past
/// `len` are spares whose buffers the next batch reuses.
#[derive(Debug)]
pub(crate) struct RecordBatch {
    pub(crate) rows: Vec<(u64, Record)>,
    pub(crate) len: usize,
    /// The import's progress once these records were read.
    pub(crate) progress: Progress,
}

impl RecordBatch {
    /// The records of `batch`'s valid rows whose phone is in `phones`
    /// (sorted): to normalize again the rows whose write conflicted, when
    /// the batch's values were moved into the store.
    pub(crate) fn subset(&self, batch: &Batch, phones: &[Phone]) -> RecordBatch {
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
