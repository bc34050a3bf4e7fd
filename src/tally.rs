//! Tallying the report: what each committed row did.

use std::collections::hash_map::Entry;

use crate::batch::Batch;
use crate::error::{Contended, ImportError};
use crate::phone::{Phone, PhoneIndex};
use crate::plan::RowOutcome;
use crate::report::{DuplicatePhone, ImportReport};

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

/// The report of an import so far, with what it knows of each phone.
pub(crate) struct Tally {
    pub(crate) report: ImportReport,
    seen: PhoneIndex<PhoneSeen>,
    /// Where in `report.duplicates` each repeated phone's rows are.
    duplicate_at: PhoneIndex<usize>,
}

/// Why an import stopped before its end.
pub(crate) enum Cause<E> {
    /// Reading the file failed.
    Read(std::io::Error),
    /// The store failed.
    Store(E),
    /// Contacts kept changing under the import.
    Contended(Contended),
}

impl Tally {
    pub(crate) fn new(report: ImportReport, total_rows: u64) -> Tally {
        Tally {
            report,
            // Sized for the file up front: growing it at 200,000 phones
            // would hold the old and the new table at once.
            seen: PhoneIndex::with_capacity_and_hasher(
                usize::try_from(total_rows).unwrap_or(0).min(1 << 22),
                Default::default(),
            ),
            duplicate_at: PhoneIndex::default(),
        }
    }

    /// The error that ends the import, with the report so far (which moves
    /// into it).
    pub(crate) fn failed<E>(&mut self, cause: Cause<E>) -> ImportError<E> {
        let report = Box::new(std::mem::take(&mut self.report));
        match cause {
            Cause::Read(error) => ImportError::Read { error, report },
            Cause::Store(error) => ImportError::Store { error, report },
            Cause::Contended(error) => ImportError::Contended { error, report },
        }
    }

    /// Records a batch the store has written, leaving it empty, its
    /// buffers kept for another batch.
    pub(crate) fn commit_emptying(&mut self, batch: &mut Batch) {
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
