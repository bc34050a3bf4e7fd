//! What a valid row's cells said, and the row back as an update.

use smallvec::SmallVec;

use crate::contact::{Attribute, Contact, Tags};
use crate::normalize::{Cell, RowUpdate};

/// What a valid row's cells said, beside its values in the contact it
/// creates: enough to turn the row back into an update of another contact.
#[derive(Clone, Debug)]
pub(crate) struct RowCells {
    pub(crate) tags: Cell<()>,
    pub(crate) source: Cell<()>,
    pub(crate) first_message: Cell<()>,
    /// The row's tags under [`TagPolicy::Remove`], which leaves a new
    /// contact without them.
    pub(crate) removed_tags: Tags,
    pub(crate) cleared: SmallVec<[Attribute; 2]>,
    /// The earlier valid row of the batch with the same phone (its place in
    /// `Batch::contacts`), if there is one: found while normalizing, so that
    /// the merge looks up no phone it need not.
    pub(crate) earlier: Option<usize>,
}

/// A cell of kind `kind` with `value` if it is set.
pub(crate) fn with_value<T>(kind: Cell<()>, value: Option<T>) -> Cell<T> {
    match (kind, value) {
        (Cell::Set(()), Some(value)) => Cell::Set(value),
        (Cell::Set(()) | Cell::Absent, _) => Cell::Absent,
        (Cell::Empty, _) => Cell::Empty,
        (Cell::Clear, _) => Cell::Clear,
    }
}

/// A row back as an update, its values taken from the contact it created.
pub(crate) fn update_from(mut contact: Contact, cells: &mut RowCells, row: u64) -> RowUpdate {
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
