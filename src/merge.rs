//! How a file row changes a contact: the upsert rules, in one place for every store.

use smallvec::SmallVec;

use crate::contact::{Attribute, Contact};
use crate::normalize::{Cell, RowUpdate};
use crate::options::{FieldPolicy, NamePolicy, OptInPolicy, TagPolicy, UpdatePolicy};

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
            changed |= contact.name() != update.name;
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
