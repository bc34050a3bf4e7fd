//! How a file row changes a contact: the upsert rules, in one place for every store.

use serde::{Deserialize, Serialize};

use crate::contact::Contact;
use crate::normalize::{Cell, RowUpdate};

/// What an empty cell does to a contact that already has a value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmptyCells {
    /// Keep the stored value (the default: a blank cell is "no news").
    #[default]
    Keep,
    /// Clear the stored value. Only columns the file has are cleared.
    Clear,
}

/// What a Tags cell does to the tags a contact already has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagUpdates {
    /// Add the cell's tags to the stored ones (the default).
    #[default]
    Add,
    /// Replace the stored tags with the cell's.
    Replace,
}

/// The update rules of an import.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UpdateRules {
    pub empty_cells: EmptyCells,
    pub tags: TagUpdates,
}

impl UpdateRules {
    /// Merges `update` into `contact`. Fields the import does not own
    /// (`created_at`, `last_active`, `state`) are never touched.
    pub fn apply(&self, contact: &mut Contact, update: &RowUpdate) {
        contact.set_name(&update.name);
        let clear = self.empty_cells == EmptyCells::Clear;
        match &update.tags {
            Cell::Set(tags) if self.tags == TagUpdates::Replace => contact.tags = tags.clone(),
            Cell::Set(tags) => {
                for tag in tags {
                    if !contact.tags.contains(tag) {
                        contact.tags.push(tag.clone());
                    }
                }
            }
            Cell::Empty if clear => contact.tags.clear(),
            Cell::Empty | Cell::Absent => {}
        }
        merge_option(&mut contact.source, &update.source, clear);
        merge_option(&mut contact.first_message, &update.first_message, clear);
        for (attribute, cell) in &update.attributes {
            match cell {
                Cell::Set(value) => contact.attributes.set(attribute.clone(), value.clone()),
                Cell::Empty if clear => {
                    contact.attributes.remove(attribute.as_str());
                }
                Cell::Empty | Cell::Absent => {}
            }
        }
    }
}

fn merge_option<T: Clone>(slot: &mut Option<T>, cell: &Cell<T>, clear: bool) {
    match cell {
        Cell::Set(value) => *slot = Some(value.clone()),
        Cell::Empty if clear => *slot = None,
        Cell::Empty | Cell::Absent => {}
    }
}
