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
/// [`ImportOptions::with_header_row`] does not name it.
pub const HEADER_SEARCH_ROWS: u64 = 10;

/// How an import reads, normalizes and merges. [`ImportOptions::new`] (the
/// same as `Default`) gives the product's rules: India for numbers without
/// a country code, source `IMPORT`, blank cells keep what is stored, tags
/// are added, repeated phones merge in file order.
///
/// Change what you need with the `with_*` setters, each of which takes the
/// options and returns them changed, and read any option back with the
/// getter of the same name. The fields are private, so that a new option
/// is not a breaking change. The setters come in three groups: [reading the
/// file](#reading-the-file), [what the rows do](#what-the-rows-do), and [how
/// the import runs](#how-the-import-runs).
///
/// ```
/// use contact_import::{Catalog, ImportEngine, ImportMode, ImportOptions, UpdatePolicy};
///
/// let options = ImportOptions::new()
///     .with_header_row(Some(3))
///     .with_mode(ImportMode::AddOnly)
///     .with_update(UpdatePolicy::overwrite())
///     .with_batch_size(5_000);
/// assert_eq!(options.batch_size(), 5_000);
/// assert_eq!(options.max_rows(), ImportOptions::default().max_rows());
/// let engine = ImportEngine::new(Catalog::new(), jiff::Timestamp::now).with_options(options);
/// assert_eq!(engine.options().header_row(), Some(3));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "the setters return the changed options"]
pub struct ImportOptions {
    pub(crate) region: Region,
    pub(crate) default_source: Option<String>,
    pub(crate) mapping: ColumnMapping,
    pub(crate) update: UpdatePolicy,
    pub(crate) duplicates: DuplicatePolicy,
    pub(crate) batch_size: Option<usize>,
    pub(crate) max_rows: u64,
    pub(crate) max_row_bytes: usize,
    pub(crate) max_fields: usize,
    pub(crate) delimiter: Option<u8>,
    pub(crate) resume_after_row: Option<u64>,
    pub(crate) encoding: Option<&'static encoding_rs::Encoding>,
    pub(crate) mode: ImportMode,
    pub(crate) header_row: Option<u64>,
    pub(crate) sheet: Sheet,
    pub(crate) reject_not_mobile: bool,
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions {
            region: Region::INDIA,
            default_source: Some("IMPORT".to_owned()),
            mapping: ColumnMapping::new(),
            update: UpdatePolicy::default(),
            duplicates: DuplicatePolicy::Merge,
            batch_size: None,
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

impl ImportOptions {
    /// The product's rules, the same as `ImportOptions::default()`.
    pub fn new() -> ImportOptions {
        ImportOptions::default()
    }
}

/// # Reading the file
///
/// How the bytes of an upload become rows: the encoding, the delimiter,
/// where the header is, which sheet, and the limits that keep a hostile
/// file from taking the memory.
impl ImportOptions {
    /// The file's encoding when it is not UTF-8, e.g.
    /// `Some(encoding_rs::WINDOWS_1252)` for a file saved by an older Excel,
    /// whose rows with accented names would otherwise fail with `invalid_utf8`.
    /// `None` (the default) reads UTF-8, and UTF-16 when the file starts with
    /// a UTF-16 byte order mark (Excel's "Unicode Text"): a byte order mark
    /// says what the file is, while the bytes of a legacy code page do not,
    /// so only the caller can name one.
    pub fn with_encoding(mut self, encoding: Option<&'static encoding_rs::Encoding>) -> Self {
        self.encoding = encoding;
        self
    }

    /// The encoding set with [`with_encoding`](Self::with_encoding).
    pub fn encoding(&self) -> Option<&'static encoding_rs::Encoding> {
        self.encoding
    }

    /// The field delimiter. `None` (the default) takes the most frequent of
    /// `,`, `;` and tab in the header line, so that files saved by a
    /// spreadsheet in a locale that writes `;`, or as "Text (Tab
    /// delimited)", work without the user knowing what a delimiter is. Set
    /// it when the file comes from a system whose delimiter you know.
    pub fn with_delimiter(mut self, delimiter: Option<u8>) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// The delimiter set with [`with_delimiter`](Self::with_delimiter).
    pub fn delimiter(&self) -> Option<u8> {
        self.delimiter
    }

    /// The header's row number (1 for the first row). `None` (the default)
    /// takes the first of the first [`HEADER_SEARCH_ROWS`] rows that maps
    /// to both a name and a phone, because exported sheets often start with
    /// a title or notes; the rows above it are skipped and named in one
    /// warning. Set it when the header is further down, or when a row above
    /// it could pass for a header.
    pub fn with_header_row(mut self, row: Option<u64>) -> Self {
        self.header_row = row;
        self
    }

    /// The header row set with [`with_header_row`](Self::with_header_row).
    pub fn header_row(&self) -> Option<u64> {
        self.header_row
    }

    /// The sheet a spreadsheet import reads (default the first, where a
    /// one-sheet workbook keeps its data); CSV imports ignore it.
    pub fn with_sheet(mut self, sheet: Sheet) -> Self {
        self.sheet = sheet;
        self
    }

    /// The sheet set with [`with_sheet`](Self::with_sheet).
    pub fn sheet(&self) -> &Sheet {
        &self.sheet
    }

    /// The most data rows a file may have (default 200,000). A larger file
    /// is refused whole before anything is written (the rows are counted
    /// first), rather than stopped halfway.
    pub fn with_max_rows(mut self, rows: u64) -> Self {
        self.max_rows = rows;
        self
    }

    /// The row limit set with [`with_max_rows`](Self::with_max_rows).
    pub fn max_rows(&self) -> u64 {
        self.max_rows
    }

    /// The largest row, in bytes, that is read (default 1 MiB). A larger row
    /// fails with `row_too_large` and is not held in memory: a file with an
    /// unclosed quote reads the rest of the file as one cell.
    pub fn with_max_row_bytes(mut self, bytes: usize) -> Self {
        self.max_row_bytes = bytes;
        self
    }

    /// The row size limit set with [`with_max_row_bytes`](Self::with_max_row_bytes).
    pub fn max_row_bytes(&self) -> usize {
        self.max_row_bytes
    }

    /// The most fields a row may have (default 10,000), for the same reason
    /// as [`with_max_row_bytes`](Self::with_max_row_bytes): a row of a
    /// million empty fields is small in bytes but not in memory.
    pub fn with_max_fields(mut self, fields: usize) -> Self {
        self.max_fields = fields;
        self
    }

    /// The field limit set with [`with_max_fields`](Self::with_max_fields).
    pub fn max_fields(&self) -> usize {
        self.max_fields
    }
}

/// # What the rows do
///
/// How a row becomes a contact and what it does to the stored one: the
/// columns, the country of local numbers, the field policies, repeated
/// phones and which rows are written at all.
impl ImportOptions {
    /// Explicit column choices, for headers the automatic mapping does not
    /// recognize or maps to the wrong field; other headers are still mapped
    /// automatically.
    pub fn with_mapping(mut self, mapping: ColumnMapping) -> Self {
        self.mapping = mapping;
        self
    }

    /// The column choices set with [`with_mapping`](Self::with_mapping).
    pub fn mapping(&self) -> &ColumnMapping {
        &self.mapping
    }

    /// The region of numbers written without a country code (default
    /// [`Region::INDIA`]): people write local numbers as they dial them.
    pub fn with_region(mut self, region: Region) -> Self {
        self.region = region;
        self
    }

    /// The region set with [`with_region`](Self::with_region).
    pub fn region(&self) -> Region {
        self.region
    }

    /// The source a new contact gets when its Source cell is empty or the
    /// file has no Source column (default `Some("IMPORT")`: the source
    /// says how a contact was created, `IMPORT` beside the messaging
    /// service's `ORGANIC` and `API`). `None` leaves such contacts without
    /// a source.
    pub fn with_default_source(mut self, source: Option<String>) -> Self {
        self.default_source = source;
        self
    }

    /// The source set with [`with_default_source`](Self::with_default_source).
    pub fn default_source(&self) -> Option<&str> {
        self.default_source.as_deref()
    }

    /// How rows update contacts that exist, field by field (default
    /// [`UpdatePolicy::default`]: blank cells keep, tags are added).
    pub fn with_update(mut self, update: UpdatePolicy) -> Self {
        self.update = update;
        self
    }

    /// The update policy set with [`with_update`](Self::with_update).
    pub fn update(&self) -> &UpdatePolicy {
        &self.update
    }

    /// What to do with rows of one file that share a phone (default
    /// [`DuplicatePolicy::Merge`], the result of importing them one by one).
    pub fn with_duplicates(mut self, duplicates: DuplicatePolicy) -> Self {
        self.duplicates = duplicates;
        self
    }

    /// The duplicate policy set with [`with_duplicates`](Self::with_duplicates).
    pub fn duplicates(&self) -> DuplicatePolicy {
        self.duplicates
    }

    /// Which rows are written: add and update (the default), add only (a
    /// list of new leads must not touch the contacts agents work on), or
    /// update only (enrich the contacts you have, add nobody).
    pub fn with_mode(mut self, mode: ImportMode) -> Self {
        self.mode = mode;
        self
    }

    /// The mode set with [`with_mode`](Self::with_mode).
    pub fn mode(&self) -> ImportMode {
        self.mode
    }

    /// Rows whose number cannot be a WhatsApp mobile (a landline, toll-free,
    /// premium-rate, ... number) fail with `not_mobile` instead of importing
    /// with the warning `not_mobile` (default `false`). Set it when the list
    /// is only for WhatsApp messages, so that such a row is an error to fix
    /// rather than a contact to keep.
    pub fn with_reject_not_mobile(mut self, reject: bool) -> Self {
        self.reject_not_mobile = reject;
        self
    }

    /// Whether [`with_reject_not_mobile`](Self::with_reject_not_mobile) is set.
    pub fn reject_not_mobile(&self) -> bool {
        self.reject_not_mobile
    }
}

/// # How the import runs
///
/// Options that change how the work is cut up, never what a finished
/// import stores.
impl ImportOptions {
    /// Rows per store batch. The result does not depend on it. By default
    /// an import uses the store's
    /// [`preferred_batch_size`](crate::ContactStore::preferred_batch_size)
    /// (10,000 for the SQLite store, whose every commit writes the pages
    /// it changed once more), else
    /// [`DEFAULT_BATCH_SIZE`](Self::DEFAULT_BATCH_SIZE); this sets it for
    /// every store. Smaller batches bound what a crash or a store error
    /// leaves to import again, and how long another writer waits for the
    /// store's write lock; larger ones commit less often. A size of 0 is
    /// taken as 1.
    pub fn with_batch_size(mut self, rows: usize) -> Self {
        self.batch_size = Some(rows);
        self
    }

    /// The batch size set with [`with_batch_size`](Self::with_batch_size),
    /// or [`DEFAULT_BATCH_SIZE`](Self::DEFAULT_BATCH_SIZE) when none was
    /// set. An import into a store with a
    /// [`preferred_batch_size`](crate::ContactStore::preferred_batch_size)
    /// uses that instead of the default; the driven API
    /// ([`ImportEngine::start`](crate::ImportEngine::start)) has no store
    /// to ask and uses this.
    pub fn batch_size(&self) -> usize {
        self.batch_size.unwrap_or(Self::DEFAULT_BATCH_SIZE)
    }

    /// The batch size of an import into a store that prefers none, when
    /// [`with_batch_size`](Self::with_batch_size) set none: 1,000 rows.
    pub const DEFAULT_BATCH_SIZE: usize = 1_000;

    /// Skip every row up to and including this spreadsheet row: to resume
    /// an import that stopped, pass the
    /// [`ImportReport::last_row`](crate::ImportReport::last_row) of its
    /// report (`None`, the default, reads from the top). Skipped rows are
    /// not counted. Duplicate policies still consider the whole file, so
    /// they decide as the stopped import did.
    pub fn with_resume_after_row(mut self, row: Option<u64>) -> Self {
        self.resume_after_row = row;
        self
    }

    /// The row set with [`with_resume_after_row`](Self::with_resume_after_row).
    pub fn resume_after_row(&self) -> Option<u64> {
        self.resume_after_row
    }
}

/// What a cell does to a stored value (Source, First Message, attributes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
/// Built like [`ImportOptions`]: start from [`UpdatePolicy::new`] (the
/// defaults: blank cells keep, tags are added, names are replaced, opt-outs
/// are sticky) or [`UpdatePolicy::overwrite`], change columns with the
/// `with_*` setters, and read them back with the getter of the same name.
///
/// Serializable, so a service can store a policy per import template; the
/// serde form names every column (missing ones take their default).
///
/// ```
/// use contact_import::{FieldPolicy, TagPolicy, UpdatePolicy};
/// let policy = UpdatePolicy::new()
///     .with_tags(TagPolicy::Replace)
///     .with_attribute("email", FieldPolicy::ClearOnToken);
/// assert_eq!(policy.attribute("email"), FieldPolicy::ClearOnToken);
/// assert_eq!(policy.attribute("City"), FieldPolicy::KeepWhenEmpty);
/// let json = serde_json::to_string(&policy).unwrap();
/// assert_eq!(serde_json::from_str::<UpdatePolicy>(&json).unwrap(), policy);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[must_use = "the setters return the changed policy"]
pub struct UpdatePolicy {
    pub(crate) name: NamePolicy,
    pub(crate) tags: TagPolicy,
    pub(crate) source: FieldPolicy,
    pub(crate) first_message: FieldPolicy,
    pub(crate) attributes: FieldPolicy,
    pub(crate) attribute: BTreeMap<String, FieldPolicy>,
    pub(crate) clear_token: String,
    pub(crate) opt_in: OptInPolicy,
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

impl UpdatePolicy {
    /// The default policy, the same as `UpdatePolicy::default()`: a blank
    /// cell is "no news" and keeps what is stored, tags are added, the
    /// file's name replaces the stored one, opt-outs are sticky.
    pub fn new() -> UpdatePolicy {
        UpdatePolicy::default()
    }

    /// Every column of the file wins: empty cells clear, tags are replaced.
    /// Opt-outs stay sticky all the same (see [`OptInPolicy`]).
    pub fn overwrite() -> UpdatePolicy {
        UpdatePolicy::new()
            .with_tags(TagPolicy::Replace)
            .with_source(FieldPolicy::Overwrite)
            .with_first_message(FieldPolicy::Overwrite)
            .with_attributes(FieldPolicy::Overwrite)
    }

    /// What the Name cell does to a stored name (default
    /// [`NamePolicy::Replace`]).
    pub fn with_name(mut self, policy: NamePolicy) -> UpdatePolicy {
        self.name = policy;
        self
    }

    /// The Name column's policy.
    pub fn name(&self) -> NamePolicy {
        self.name
    }

    /// What the Tags cell does to the stored tags (default
    /// [`TagPolicy::Add`]).
    pub fn with_tags(mut self, policy: TagPolicy) -> UpdatePolicy {
        self.tags = policy;
        self
    }

    /// The Tags column's policy.
    pub fn tags(&self) -> TagPolicy {
        self.tags
    }

    /// What the Source cell does to the stored source (default
    /// [`FieldPolicy::KeepWhenEmpty`]).
    pub fn with_source(mut self, policy: FieldPolicy) -> UpdatePolicy {
        self.source = policy;
        self
    }

    /// The Source column's policy.
    pub fn source(&self) -> FieldPolicy {
        self.source
    }

    /// What the First Message cell does to the stored one (default
    /// [`FieldPolicy::KeepWhenEmpty`]).
    pub fn with_first_message(mut self, policy: FieldPolicy) -> UpdatePolicy {
        self.first_message = policy;
        self
    }

    /// The First Message column's policy.
    pub fn first_message(&self) -> FieldPolicy {
        self.first_message
    }

    /// The policy of every attribute column without its own
    /// [`with_attribute`](Self::with_attribute) (default
    /// [`FieldPolicy::KeepWhenEmpty`]).
    pub fn with_attributes(mut self, policy: FieldPolicy) -> UpdatePolicy {
        self.attributes = policy;
        self
    }

    /// The policy of attribute columns without their own.
    pub fn attributes(&self) -> FieldPolicy {
        self.attributes
    }

    /// Sets the policy of one attribute, e.g. `email` cleared by the clear
    /// token while other attributes keep what is stored.
    pub fn with_attribute(mut self, name: &str, policy: FieldPolicy) -> UpdatePolicy {
        self.attribute.insert(name.to_owned(), policy);
        self
    }

    /// The policy the attribute `name` is merged with: its own, else
    /// [`attributes`](Self::attributes).
    pub fn attribute(&self, name: &str) -> FieldPolicy {
        self.attribute.get(name).copied().unwrap_or(self.attributes)
    }

    /// The cell text that clears a value under [`FieldPolicy::ClearOnToken`]
    /// (default `NULL`; compared exactly, after trimming). A token rather
    /// than an empty cell, because a blank cell usually means "not filled
    /// in", not "erase".
    pub fn with_clear_token(mut self, token: impl Into<String>) -> UpdatePolicy {
        self.clear_token = token.into();
        self
    }

    /// The clear token.
    pub fn clear_token(&self) -> &str {
        &self.clear_token
    }

    /// Whether a row may opt an opted-out contact in again (default
    /// [`OptInPolicy::KeepOptOut`]). An empty or unreadable opt-in cell
    /// never changes the opt-in, whatever the policy.
    pub fn with_opt_in(mut self, policy: OptInPolicy) -> UpdatePolicy {
        self.opt_in = policy;
        self
    }

    /// The opt-in column's policy.
    pub fn opt_in(&self) -> OptInPolicy {
        self.opt_in
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
