//! How file rows change contacts: every upsert rule, in one place for every
//! store. A row into a contact ([`UpdatePolicy`]), the default source, which
//! rows of a repeated phone count ([`DuplicatePolicy`]), which rows the
//! import mode leaves out, and a batch's rows in file order ([`BatchMerge`]).

use jiff::Timestamp;
use smallvec::SmallVec;

use crate::batch::{Batch, BatchRow};
use crate::contact::{Attribute, Contact};
use crate::normalize::{Cell, RowUpdate};
use crate::options::{
    DuplicatePolicy, FieldPolicy, ImportMode, ImportOptions, NamePolicy, OptInPolicy, TagPolicy,
    UpdatePolicy,
};
use crate::phone::{Phone, PhoneMap, phone_map};
use crate::plan::RowOutcome;
use crate::report::{Warning, WarningCode};
use crate::row_cells::{RowCells, update_from};
use crate::store::{Stored, Version, WriteBatch};

/// What a row's opt-in cell did that its warnings must say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OptInNote {
    /// The cell said opted in to an opted-out contact, which stayed out.
    Kept,
    /// The cell opted an opted-out contact in again, as the policy allows.
    AgainIn,
}

/// What merging a row into a contact did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Merged {
    /// Whether the contact changed.
    pub changed: bool,
    /// What the opt-in cell did, when a warning must say it.
    pub opt_in: Option<OptInNote>,
}

impl ImportOptions {
    /// Merges `update` into the contact its row creates. The contact takes
    /// the default source when the row gives none; a row that clears the
    /// source (the clear token) leaves it empty.
    pub(crate) fn apply_to_new(&self, contact: &mut Contact, update: &mut RowUpdate) {
        let clears_source = update.source == Cell::Clear;
        self.update.apply_owned(contact, update, true);
        if contact.source.is_none() && !clears_source {
            contact.source.clone_from(&self.default_source);
        }
    }

    /// Merges `update` into a contact that exists (stored, or created by an
    /// earlier row of the batch). An empty Source cell under the overwrite
    /// policy gives the default source, as it does to a new contact.
    fn apply_to_existing(&self, contact: &mut Contact, mut update: RowUpdate) -> Merged {
        if update.source == Cell::Empty && self.update.source == FieldPolicy::Overwrite {
            update.source = self.default_source.clone().map_or(Cell::Empty, Cell::Set);
        }
        self.update.apply_owned(contact, &mut update, false)
    }
}

impl UpdatePolicy {
    /// The policy of one attribute column.
    pub(crate) fn attribute_policy(&self, attribute: &Attribute) -> FieldPolicy {
        self.attribute(attribute.as_str())
    }

    /// Merges `update` into `contact`, moving its values out (by reference:
    /// a row is a few hundred bytes); `is_new` when the
    /// contact was just created. Fields the import does not own
    /// (`created_at`, `last_active`, `state`) are never touched. Returns
    /// whether the contact changed (so that nobody has to keep a copy to
    /// compare with), and what the opt-in cell did.
    pub(crate) fn apply_owned(
        &self,
        contact: &mut Contact,
        update: &mut RowUpdate,
        is_new: bool,
    ) -> Merged {
        let (mut changed, opt_in) = self.apply_opt_in(contact, update.opt_in);
        if is_new || self.name == NamePolicy::Replace {
            changed |= contact.name() != update.name.as_str();
            contact.set_normalized_name(std::mem::take(&mut update.name));
        }
        changed |= self.apply_tags(contact, take_cell(&mut update.tags));
        let source = take_cell(&mut update.source);
        changed |= self.merge(&mut contact.source, source, self.source);
        let first_message = take_cell(&mut update.first_message);
        changed |= self.merge(
            &mut contact.first_message,
            first_message,
            self.first_message,
        );
        if contact.attributes.is_empty() {
            // A new contact (the common case) takes the row's values as they are.
            changed |= !update.attributes.is_empty();
            contact.attributes = std::mem::take(&mut update.attributes);
        } else if !update.attributes.is_empty() || !update.cleared.is_empty() {
            // One rebuild of the attributes for the whole row.
            let set = update
                .attributes
                .iter()
                .map(|(name, value)| (name.clone(), Some(value.to_owned())));
            let cleared = update.cleared.drain(..).map(|name| (name, None));
            let changes: SmallVec<[_; 8]> = set.chain(cleared).collect();
            changed |= contact.attributes.update(changes);
        }
        Merged { changed, opt_in }
    }

    /// Applies an opt-in cell (`None`: empty, unreadable or no column):
    /// anything may become an opt-out, an opt-out becomes an opt-in only
    /// under [`OptInPolicy::AllowOptInAgain`].
    fn apply_opt_in(&self, contact: &mut Contact, cell: Option<bool>) -> (bool, Option<OptInNote>) {
        match (cell, contact.opt_in, self.opt_in) {
            (None, _, _) => (false, None),
            (Some(true), Some(false), OptInPolicy::KeepOptOut) => (false, Some(OptInNote::Kept)),
            (Some(true), Some(false), OptInPolicy::AllowOptInAgain) => {
                contact.opt_in = Some(true);
                (true, Some(OptInNote::AgainIn))
            }
            (Some(value), before, _) => {
                contact.opt_in = Some(value);
                (before != Some(value), None)
            }
        }
    }

    /// Applies a Tags cell; returns whether the tags changed.
    fn apply_tags(&self, contact: &mut Contact, cell: Cell<crate::Tags>) -> bool {
        let before = contact.tags.len();
        match (cell, self.tags) {
            // The row's tags are distinct already.
            (Cell::Set(tags), TagPolicy::Add) if contact.tags.is_empty() => {
                contact.tags = tags;
                !contact.tags.is_empty()
            }
            (Cell::Set(tags), TagPolicy::Add) => {
                for tag in tags {
                    if !contact.tags.contains(&tag) {
                        contact.tags.push(tag);
                    }
                }
                contact.tags.len() != before
            }
            (Cell::Set(tags), TagPolicy::Replace) => {
                let changed = contact.tags != tags;
                contact.tags = tags;
                changed
            }
            (Cell::Set(tags), TagPolicy::Remove) => {
                contact.tags.retain(|t| !tags.contains(t));
                contact.tags.len() != before
            }
            (Cell::Empty, TagPolicy::Replace) => {
                contact.tags.clear();
                before != 0
            }
            (Cell::Empty | Cell::Absent | Cell::Clear, _) => false,
        }
    }

    /// Applies a cell to an optional value; returns whether the value changed.
    fn merge<T: PartialEq>(
        &self,
        slot: &mut Option<T>,
        cell: Cell<T>,
        policy: FieldPolicy,
    ) -> bool {
        let next = match cell {
            Cell::Set(value) => Some(value),
            cell if cell.clears(policy) => None,
            _ => return false,
        };
        let changed = *slot != next;
        *slot = next;
        changed
    }
}

/// The cell's value, leaving `Absent` in its place.
fn take_cell<T>(cell: &mut Cell<T>) -> Cell<T> {
    std::mem::replace(cell, Cell::Absent)
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

/// What merging a batch reads of its import.
pub(crate) struct BatchMerge<'a> {
    pub(crate) options: &'a ImportOptions,
    /// When the import started: new contacts' `created_at`.
    pub(crate) now: Timestamp,
    /// The opt-in column's header, named by the warnings of opt-in cells.
    pub(crate) opt_in_column: Option<&'a str>,
}

impl BatchMerge<'_> {
    /// Like [`Import::merge`](crate::Import::merge); with `take`, the rows' values are moved
    /// into the contacts instead of copied, and the batch can only be
    /// committed afterwards, not merged again.
    pub(crate) fn merge_changed(
        &self,
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

    /// Merges like [`Import::merge`](crate::Import::merge), calling `observe(row, before, after)`
    /// for every valid row when given, and returns every contact of the
    /// batch (the new ones, and the stored ones it updates) and, beside
    /// the stored ones, whether a row changed them. With `take`, the rows'
    /// values are moved into the contacts. Without `observe`, no contact is
    /// copied to see what a row changed.
    pub(crate) fn merge_observed(
        &self,
        batch: &mut Batch,
        existing: impl IntoIterator<Item = Stored>,
        take: bool,
        mut observe: Option<impl FnMut(u64, Option<&Contact>, &Contact)>,
    ) -> (WriteBatch, Vec<bool>) {
        let mut merging = Merging::new(batch, existing, take);
        let mut notes: Vec<(u64, Phone, OptInNote)> = Vec::new();
        for (i, (row, cells)) in batch.valid_rows_mut().enumerate() {
            let target = merging.target(i, row.phone, cells.earlier);
            let target = if skipped_by(self.options.mode, target, i) {
                Target::Skipped
            } else {
                target
            };
            merging.targets.push(target);
            if target == Target::Skipped {
                row.outcome = RowOutcome::Skipped;
                if let Some(away) = merging.merged_away.get_mut(i) {
                    *away = true;
                }
                continue;
            }
            // The row's own contact: its phone is new and first in the batch.
            if target == Target::New(i) {
                row.outcome = RowOutcome::Added;
                if let (Some(observe), Some(contact)) = (&mut observe, merging.contacts.get(i)) {
                    observe(row.row, None, contact);
                }
                continue;
            }
            let Some(merged) = self.merge_into(&mut merging, i, target, row, cells, &mut observe)
            else {
                continue;
            };
            if let (Some(note), Some(phone)) = (merged.opt_in, row.phone) {
                notes.push((row.row, phone, note));
            }
            row.outcome = if merged.changed {
                RowOutcome::Updated
            } else {
                RowOutcome::Unchanged
            };
        }
        batch.merge_warnings.clear();
        for (row, phone, note) in notes {
            let warning = self.opt_in_warning(row, phone, note);
            batch.merge_warnings.push(warning);
        }
        merging.into_writes()
    }

    /// Merges valid row `i` into `target`, a contact other than the one the
    /// row created; `None` when there is no such contact.
    fn merge_into(
        &self,
        merging: &mut Merging,
        i: usize,
        target: Target,
        row: &BatchRow,
        cells: &mut RowCells,
        observe: &mut Option<impl FnMut(u64, Option<&Contact>, &Contact)>,
    ) -> Option<Merged> {
        let (Some(own), Some(away)) = (merging.contacts.get_mut(i), merging.merged_away.get_mut(i))
        else {
            return None;
        };
        *away = true;
        let own = std::mem::replace(own, Contact::new(own.phone, String::new(), self.now));
        let values = if merging.take {
            update_from(own, cells, row.row)
        } else {
            update_from(own, &mut cells.clone(), row.row)
        };
        let contact = merging.contact_mut(target)?;
        let merged = self.update(contact, values, row.row, observe);
        if let (Target::Stored(k), true) = (target, merged.changed)
            && let Some(changed) = merging.changed.get_mut(k)
        {
            *changed = true;
        }
        Some(merged)
    }

    /// Merges a row into a contact that exists (stored, or created by an
    /// earlier row of the batch); returns whether it changed.
    fn update(
        &self,
        contact: &mut Contact,
        values: RowUpdate,
        row: u64,
        observe: &mut Option<impl FnMut(u64, Option<&Contact>, &Contact)>,
    ) -> Merged {
        let before = observe.is_some().then(|| contact.clone());
        let merged = self.options.apply_to_existing(contact, values);
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
            column: self.opt_in_column.map(str::to_owned),
            code,
            message,
            value: Some("opted in".to_owned()),
        }
    }
}

/// A batch's contacts while its rows merge in file order.
struct Merging {
    stored: PhoneMap<Stored>,
    /// The contacts the batch's valid rows created, by the row's place.
    contacts: Vec<Contact>,
    /// A row whose phone is new and first in the batch keeps the contact
    /// it created; the others merge into another contact.
    merged_away: Vec<bool>,
    updated: Vec<(Contact, Version)>,
    /// Beside `updated`: whether a row changed the contact.
    changed: Vec<bool>,
    /// Where each valid row's contact is, by the row's place.
    targets: Vec<Target>,
    /// Whether the rows' values move into the contacts (or are copied).
    take: bool,
}

impl Merging {
    fn new(batch: &mut Batch, existing: impl IntoIterator<Item = Stored>, take: bool) -> Merging {
        let mut stored: PhoneMap<Stored> = phone_map(0);
        stored.extend(existing.into_iter().map(|s| (s.contact.phone, s)));
        let contacts = if take {
            std::mem::take(&mut batch.contacts)
        } else {
            batch.contacts.clone()
        };
        Merging {
            stored,
            merged_away: vec![false; contacts.len()],
            targets: Vec::with_capacity(contacts.len()),
            contacts,
            updated: Vec::new(),
            changed: Vec::new(),
            take,
        }
    }

    /// Where valid row `i`, with `phone`, merges before the import mode
    /// has its say: the target of its earlier row of the batch, if it has
    /// one, else the stored contact, else the contact it created.
    fn target(&mut self, i: usize, phone: Option<Phone>, earlier: Option<usize>) -> Target {
        let earlier = earlier.and_then(|first| self.targets.get(first).copied());
        let from_store = match (earlier, phone) {
            (None, Some(phone)) if !self.stored.is_empty() => self.stored.remove(&phone),
            _ => None,
        };
        match (earlier, from_store) {
            (Some(target), _) => target,
            (None, Some(Stored { contact, version })) => {
                self.updated.push((contact, version));
                self.changed.push(false);
                Target::Stored(self.updated.len() - 1)
            }
            (None, None) => Target::New(i),
        }
    }

    fn contact_mut(&mut self, target: Target) -> Option<&mut Contact> {
        match target {
            Target::New(k) => self.contacts.get_mut(k),
            Target::Stored(k) => self.updated.get_mut(k).map(|(c, _)| c),
            Target::Skipped => None,
        }
    }

    /// The contacts to write: the ones rows created and kept, and the
    /// stored ones, with whether a row changed them.
    fn into_writes(mut self) -> (WriteBatch, Vec<bool>) {
        let mut away = self.merged_away.into_iter();
        self.contacts.retain(|_| !away.next().unwrap_or(false));
        let writes = WriteBatch {
            create: self.contacts,
            update: self.updated,
        };
        (writes, self.changed)
    }
}

/// Why the duplicate policy does not take this row, if it does not.
pub(crate) fn duplicate_failure(
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
