//! How an import reads, normalizes and merges: the options of an
//! [`ImportEngine`](crate::ImportEngine), and what an import reads of its
//! engine ([`Settings`]), so that the import's own modules need not know
//! the engine.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::mapping::ColumnMapping;
use crate::phone::Region;
use crate::spreadsheet::Sheet;

/// What an import does with rows of one file that share a phone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DuplicatePolicy {
    /// Apply every row, in file order: the result of importing the rows one
    /// by one (the default).
    #[default]
    Merge,
    /// Import the first row of each phone; the others fail with `duplicate_in_file`.
    FirstWins,
    /// Import the last row of each phone; the others fail with `duplicate_in_file`.
    LastWins,
    /// Import none of them: every row that shares a phone fails with
    /// `duplicate_in_file`, naming the other rows.
    Reject,
}

/// Which rows an import writes, by whether their phone is stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ImportMode {
    /// New phones are added, stored ones updated (the default).
    #[default]
    AddAndUpdate,
    /// Only new phones are added: a row whose phone is stored (or was added
    /// by an earlier row of the file) is counted as `skipped`.
    AddOnly,
    /// Only stored phones are updated: a row whose phone is not stored is
    /// counted as `skipped`.
    UpdateOnly,
}

/// How many rows from the top the header is looked for in, when
/// [`ImportOptions::header_row`] does not name it.
pub const HEADER_SEARCH_ROWS: u64 = 10;

/// How an import reads, normalizes and merges. `Default` gives the product's
/// rules: India for numbers without a country code, source `IMPORT`, blank
/// cells keep what is stored, tags are added, repeated phones merge in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// The region of numbers written without a country code (default `IN`).
    pub region: Region,
    /// The source a new contact gets when its Source cell is empty or the
    /// file has no Source column (default `Some("IMPORT")`).
    pub default_source: Option<String>,
    /// Explicit column choices; other headers are mapped automatically.
    pub mapping: ColumnMapping,
    /// How rows update contacts that exist, field by field.
    pub update: UpdatePolicy,
    /// What to do with rows that share a phone.
    pub duplicates: DuplicatePolicy,
    /// Rows per store batch (default 1,000). The result does not depend on it.
    pub batch_size: usize,
    /// The most data rows a file may have (default 200,000); a larger file is
    /// refused whole before anything is written.
    pub max_rows: u64,
    /// The largest row, in bytes, that is read (default 1 MiB); a larger row
    /// fails with `row_too_large` and is not held in memory.
    pub max_row_bytes: usize,
    /// The most fields a row may have (default 10,000).
    pub max_fields: usize,
    /// The field delimiter; `None` (the default) takes the most frequent of
    /// `,`, `;` and tab in the header line, so that files saved by a
    /// spreadsheet in a locale that writes `;` or as "Text (Tab delimited)" work.
    pub delimiter: Option<u8>,
    /// Skip every row up to and including this spreadsheet row: to resume
    /// an import that stopped, pass the [`ImportReport::last_row`] of its
    /// report. Skipped rows are not counted. Duplicate policies still
    /// consider the whole file, so they decide as the stopped import did.
    pub resume_after_row: Option<u64>,
    /// The file's encoding when it is not UTF-8, e.g.
    /// `Some(encoding_rs::WINDOWS_1252)` for a file saved by an older Excel.
    /// `None` (the default) reads UTF-8, and UTF-16 when the file starts with
    /// a UTF-16 byte order mark (Excel's "Unicode Text").
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// Which rows are written: add and update (the default), add only, or
    /// update only.
    pub mode: ImportMode,
    /// The header's row number (1 for the first row). `None` (the default)
    /// takes the first of the first [`HEADER_SEARCH_ROWS`] rows that maps
    /// to both a name and a phone; the rows above it (a title, notes) are
    /// skipped and named in one warning.
    pub header_row: Option<u64>,
    /// The sheet a spreadsheet import reads (default the first); CSV
    /// imports ignore it.
    pub sheet: Sheet,
    /// Rows whose number cannot be a WhatsApp mobile (a landline, toll-free,
    /// premium-rate, ... number) fail with `not_mobile` instead of importing
    /// with the warning `not_mobile` (default `false`).
    pub reject_not_mobile: bool,
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions {
            region: Region::INDIA,
            default_source: Some("IMPORT".to_owned()),
            mapping: ColumnMapping::new(),
            update: UpdatePolicy::default(),
            duplicates: DuplicatePolicy::Merge,
            batch_size: 1_000,
            max_rows: 200_000,
            max_row_bytes: 1 << 20,
            max_fields: 10_000,
            delimiter: None,
            resume_after_row: None,
            encoding: None,
            mode: ImportMode::AddAndUpdate,
            header_row: None,
            sheet: Sheet::First,
            reject_not_mobile: false,
        }
    }
}

/// What a cell does to a stored value (Source, First Message, attributes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldPolicy {
    /// A value overwrites; an empty cell keeps what is stored (the default:
    /// a blank cell is "no news").
    #[default]
    KeepWhenEmpty,
    /// The cell wins: a value overwrites, an empty cell clears.
    Overwrite,
    /// A value overwrites, an empty cell keeps, and the cell holding exactly
    /// [`UpdatePolicy::clear_token`] (default `NULL`) clears.
    ClearOnToken,
}

/// What a Tags cell does to the tags a contact already has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagPolicy {
    /// Add the cell's tags after the stored ones (the default).
    #[default]
    Add,
    /// The contact's tags become exactly the cell's; an empty cell clears them.
    Replace,
    /// Take the cell's tags away from the contact.
    Remove,
}

/// What the Name cell does to a stored contact's name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NamePolicy {
    /// The file's name replaces the stored one (the default).
    #[default]
    Replace,
    /// The file's name only names new contacts; stored names are kept (e.g.
    /// names your agents corrected).
    KeepExisting,
}

/// Whether an import may turn a contact's opt-out into an opt-in.
///
/// An opt-out is sticky by default: re-uploading an old sheet that says
/// "yes" must not resubscribe someone who said STOP since. An opt-in can
/// always become an opt-out, whatever the policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptInPolicy {
    /// A row that says opted in leaves an opted-out contact opted out, with
    /// the warning `opt_out_kept` (the default).
    #[default]
    KeepOptOut,
    /// A row that says opted in opts the contact in again, with the warning
    /// `opted_in_again`: for a file of fresh opt-ins (a new consent form),
    /// never for an old export.
    AllowOptInAgain,
}

/// How an import updates contacts that already exist, field by field.
///
/// Serializable, so a service can store a policy per import template.
///
/// ```
/// use contact_import::{FieldPolicy, TagPolicy, UpdatePolicy};
/// let policy = UpdatePolicy {
///     tags: TagPolicy::Replace,
///     ..UpdatePolicy::default()
/// }
/// .with_attribute("email", FieldPolicy::ClearOnToken);
/// let json = serde_json::to_string(&policy).unwrap();
/// assert_eq!(serde_json::from_str::<UpdatePolicy>(&json).unwrap(), policy);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpdatePolicy {
    /// The Name column.
    pub name: NamePolicy,
    /// The Tags column.
    pub tags: TagPolicy,
    /// The Source column.
    pub source: FieldPolicy,
    /// The First Message column.
    pub first_message: FieldPolicy,
    /// Every attribute column without its own entry in `attribute`.
    pub attributes: FieldPolicy,
    /// Policies for single attributes, by name.
    pub attribute: BTreeMap<String, FieldPolicy>,
    /// The cell text that clears a value under [`FieldPolicy::ClearOnToken`]
    /// (compared exactly, after trimming).
    pub clear_token: String,
    /// The opt-in column: whether a row may opt an opted-out contact in
    /// again. An empty or unreadable cell never changes the opt-in.
    pub opt_in: OptInPolicy,
}

impl Default for UpdatePolicy {
    fn default() -> UpdatePolicy {
        UpdatePolicy {
            name: NamePolicy::Replace,
            tags: TagPolicy::Add,
            source: FieldPolicy::KeepWhenEmpty,
            first_message: FieldPolicy::KeepWhenEmpty,
            attributes: FieldPolicy::KeepWhenEmpty,
            attribute: BTreeMap::new(),
            clear_token: "NULL".to_owned(),
            opt_in: OptInPolicy::KeepOptOut,
        }
    }
}

/// What an import reads of its engine: the options, the catalog, and the
/// time the import started (from the engine's clock).
#[derive(Clone, Copy)]
pub(crate) struct Settings<'a> {
    pub options: &'a ImportOptions,
    pub catalog: &'a Catalog,
    pub now: Timestamp,
}
