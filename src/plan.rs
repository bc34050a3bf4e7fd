//! A dry run: what an import would do to each row, without writing.

use serde::{Deserialize, Serialize};

use crate::contact::Contact;
use crate::phone::Phone;
use crate::report::{RowFailure, Warning};

/// How a row ends (or would end, in a plan).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RowOutcome {
    /// The row creates a contact.
    Added,
    /// The row changes a contact.
    Updated,
    /// The row's contact exists and the row changes nothing in it.
    Unchanged,
    /// The import mode leaves the row out (see [`ImportMode`](crate::ImportMode)).
    Skipped,
    /// The row is not imported.
    Failed,
}

/// One field a row changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// `name`, `tags`, `source`, `first_message`, `opt_in` (`true` or
    /// `false`) or `attr:NAME`.
    pub field: String,
    /// The value before the row (tags joined with ` | `).
    pub before: Option<String>,
    /// The value after the row.
    pub after: Option<String>,
}

/// What the import would do with one row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedRow {
    /// The row as a spreadsheet numbers it.
    pub row: u64,
    /// The row's phone, when it could be read.
    pub phone: Option<Phone>,
    /// What happens to the row.
    pub outcome: RowOutcome,
    /// For an update, the fields it changes, with their values before and after.
    pub changes: Vec<FieldChange>,
    /// Why the row fails, when it does.
    pub failure: Option<RowFailure>,
    /// The row's warnings.
    pub warnings: Vec<Warning>,
    /// The contact as it would be after this row.
    pub contact: Option<Contact>,
}

/// The fields that differ between `before` and `after`.
pub(crate) fn changes(before: &Contact, after: &Contact) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let mut push = |field: String, before: Option<String>, after: Option<String>| {
        if before != after {
            changes.push(FieldChange {
                field,
                before,
                after,
            });
        }
    };
    let name = |c: &Contact| (!c.name().is_empty()).then(|| c.name().to_owned());
    push("name".into(), name(before), name(after));
    push("tags".into(), joined_tags(before), joined_tags(after));
    push("source".into(), before.source.clone(), after.source.clone());
    let first = |c: &Contact| c.first_message.as_ref().map(|t| t.to_string());
    push("first_message".into(), first(before), first(after));
    let opt_in = |c: &Contact| c.opt_in.map(|v| v.to_string());
    push("opt_in".into(), opt_in(before), opt_in(after));
    let mut names: Vec<&str> = before
        .attributes
        .iter()
        .chain(after.attributes.iter())
        .map(|(k, _)| k.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        let value = |c: &Contact| c.attributes.get(name).map(str::to_owned);
        push(format!("attr:{name}"), value(before), value(after));
    }
    changes
}

fn joined_tags(contact: &Contact) -> Option<String> {
    let tags: Vec<&str> = contact.tags.iter().map(|t| t.as_str()).collect();
    (!tags.is_empty()).then(|| tags.join(" | "))
}
