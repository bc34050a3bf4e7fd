//! What an import did: counts, the phones added and updated, every failed row
//! with a reason a person can act on, and the failure file to fix and upload again.

use std::fmt;
use std::io;

use serde::{Deserialize, Serialize};

use crate::formula::guard_formula;
use crate::phone::Phone;
use crate::text::read_cell;

/// Why a row was not imported. The codes are stable: match on them, store
/// them, show your own text for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FailureCode {
    /// The Name cell is empty.
    MissingName,
    /// The phone cell is empty.
    MissingPhone,
    /// The phone is in scientific notation (`9.19876E+11`): digits were lost.
    PhoneScientificNotation,
    /// The phone is not a valid number.
    InvalidPhone,
    /// The row has more or fewer fields than the header.
    FieldCountMismatch,
    /// A cell the import reads is not valid UTF-8.
    InvalidUtf8,
    /// The row is larger than [`ImportOptions::max_row_bytes`](crate::ImportOptions::max_row_bytes)
    /// (or has more fields than the limit); it was skipped unread.
    RowTooLarge,
    /// Another row of the file has the same phone, and the import's
    /// [`DuplicatePolicy`](crate::DuplicatePolicy) did not take this one.
    DuplicateInFile,
    /// A cell the import reads contains a control character such as NUL.
    ControlCharacter,
    /// The phone cell of a spreadsheet holds a date or time, not a number.
    PhoneIsDate,
    /// The number cannot be a WhatsApp mobile (a landline, toll-free,
    /// premium, ... number), and
    /// [`ImportOptions::reject_not_mobile`](crate::ImportOptions::reject_not_mobile) is set.
    NotMobile,
}

impl FailureCode {
    /// The code as it appears in JSON and in failure files, e.g. `invalid_phone`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureCode::MissingName => "missing_name",
            FailureCode::MissingPhone => "missing_phone",
            FailureCode::PhoneScientificNotation => "phone_scientific_notation",
            FailureCode::InvalidPhone => "invalid_phone",
            FailureCode::FieldCountMismatch => "field_count_mismatch",
            FailureCode::InvalidUtf8 => "invalid_utf8",
            FailureCode::RowTooLarge => "row_too_large",
            FailureCode::DuplicateInFile => "duplicate_in_file",
            FailureCode::ControlCharacter => "control_character",
            FailureCode::PhoneIsDate => "phone_is_date",
            FailureCode::NotMobile => "not_mobile",
        }
    }
}

impl fmt::Display for FailureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in the file something applies: a row as a spreadsheet numbers it
/// (the header is row 1) and, when it is about one cell, the column's header.
///
/// A [`FileError`](crate::FileError) and a [`RowFailure`] say where with
/// it; a [`Warning`] can be about a column of the whole file, with no row,
/// and gives a `Position` only for a row ([`Warning::position`]).
///
/// ```
/// use contact_import::Position;
/// let at = Position { row: 4, column: Some("Mobile Number".into()) };
/// assert_eq!(at.to_string(), r#"row 4, column "Mobile Number""#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The row number; the header row is 1, the first data row is 2.
    pub row: u64,
    /// The header of the column, when the problem is in one cell.
    pub column: Option<String>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}", self.row)?;
        if let Some(column) = &self.column {
            write!(f, ", column {column:?}")?;
        }
        Ok(())
    }
}

/// One row that was not imported.
///
/// Its serde form is flat, as before `position` held the row and the
/// column: `{"row": 4, "code": "invalid_phone", "message": "...",
/// "column": "Mobile Number", "values": [...]}` (`column` left out when
/// there is none), so reports stored by older versions load.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "RowFailureForm")]
#[non_exhaustive]
pub struct RowFailure {
    /// The row, as a spreadsheet numbers it (the header is row 1), and the
    /// header of the offending column when one cell is at fault.
    pub position: Position,
    /// Why, as a stable code.
    pub code: FailureCode,
    /// Why, for a person: what was wrong and how to fix it.
    pub message: String,
    /// The row's cells as read (invalid UTF-8 replaced by U+FFFD), for the
    /// failure file.
    pub values: Vec<String>,
}

impl RowFailure {
    /// A failure at `position`, with no cells (see [`with_values`](Self::with_values)).
    ///
    /// ```
    /// use contact_import::{FailureCode, Position, RowFailure};
    /// let failure = RowFailure::new(Position { row: 3, column: None }, FailureCode::MissingName, "the Name cell is empty")
    ///     .with_values(vec![String::new(), "9876543210".into()]);
    /// assert_eq!(failure.position.row, 3);
    /// ```
    pub fn new(position: Position, code: FailureCode, message: impl Into<String>) -> RowFailure {
        RowFailure {
            position,
            code,
            message: message.into(),
            values: Vec::new(),
        }
    }

    /// The failure with the row's cells, for the failure file.
    pub fn with_values(mut self, values: Vec<String>) -> RowFailure {
        self.values = values;
        self
    }
}

/// [`RowFailure`]'s serde form, written without copying the row's cells.
#[derive(Serialize)]
struct RowFailureRef<'a> {
    row: u64,
    code: FailureCode,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<&'a str>,
    values: &'a [String],
}

/// [`RowFailure`]'s serde form, read.
#[derive(Deserialize)]
struct RowFailureForm {
    row: u64,
    code: FailureCode,
    message: String,
    #[serde(default)]
    column: Option<String>,
    #[serde(default)]
    values: Vec<String>,
}

impl Serialize for RowFailure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RowFailureRef {
            row: self.position.row,
            code: self.code,
            message: &self.message,
            column: self.position.column.as_deref(),
            values: &self.values,
        }
        .serialize(s)
    }
}

impl From<RowFailureForm> for RowFailure {
    fn from(form: RowFailureForm) -> RowFailure {
        RowFailure {
            position: Position {
                row: form.row,
                column: form.column,
            },
            code: form.code,
            message: form.message,
            values: form.values,
        }
    }
}

/// What a warning is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WarningCode {
    /// A header matched no field and no catalog attribute: the column was ignored.
    UnknownColumn,
    /// A tag is not in the catalog and was not assigned.
    UnknownTag,
    /// The first-message cell is not a single catalog tag and was not assigned.
    InvalidFirstMessage,
    /// A First Name or Last Name column was ignored because the file has a Name column.
    SupersededColumn,
    /// The number is valid but cannot be a WhatsApp mobile: a landline,
    /// toll-free, premium-rate, shared-cost, pager, UAN or voicemail number.
    /// The row was imported (see
    /// [`ImportOptions::reject_not_mobile`](crate::ImportOptions::reject_not_mobile)).
    NotMobile,
    /// Rows above the header row (a title, notes) were skipped.
    RowsAboveHeader,
    /// The Country cell names no known country: the import's region applied.
    UnknownCountry,
    /// The opt-in cell is none of the values an opt-in takes (yes/no,
    /// true/false, 1/0, opted in/opted out, subscribed/unsubscribed): the
    /// contact's opt-in was left as it was.
    InvalidOptIn,
    /// The row says opted in, but the contact opted out: it stays opted
    /// out, because [`UpdatePolicy::opt_in`](crate::UpdatePolicy::opt_in)
    /// is [`OptInPolicy::KeepOptOut`](crate::OptInPolicy::KeepOptOut).
    OptOutKept,
    /// The row turned an opt-out into an opt-in, as
    /// [`OptInPolicy::AllowOptInAgain`](crate::OptInPolicy::AllowOptInAgain) allows.
    OptedInAgain,
}

impl WarningCode {
    /// The code as it appears in JSON, e.g. `unknown_tag`.
    pub fn as_str(self) -> &'static str {
        match self {
            WarningCode::UnknownColumn => "unknown_column",
            WarningCode::UnknownTag => "unknown_tag",
            WarningCode::InvalidFirstMessage => "invalid_first_message",
            WarningCode::SupersededColumn => "superseded_column",
            WarningCode::RowsAboveHeader => "rows_above_header",
            WarningCode::UnknownCountry => "unknown_country",
            WarningCode::NotMobile => "not_mobile",
            WarningCode::InvalidOptIn => "invalid_opt_in",
            WarningCode::OptOutKept => "opt_out_kept",
            WarningCode::OptedInAgain => "opted_in_again",
        }
    }
}

/// Rows of one file that share a phone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicatePhone {
    /// The phone, in E.164.
    pub phone: Phone,
    /// The rows that have it, in file order.
    pub rows: Vec<u64>,
}

/// Something the user should know that did not stop a row from importing.
///
/// Unlike a [`RowFailure`], a warning can be about a column of the whole
/// file (an ignored column): a column with no row, which a [`Position`]
/// cannot hold. So it keeps `row` and `column`, and
/// [`position`](Self::position) gives the `Position` of a row warning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Warning {
    /// The row, or `None` for the whole file (an ignored column).
    pub row: Option<u64>,
    /// The header of the column concerned.
    pub column: Option<String>,
    /// What kind of warning.
    pub code: WarningCode,
    /// For a person.
    pub message: String,
    /// The value the warning is about (the unknown tag, the unknown
    /// country), which [`WarningGroup`]s group by; `None` when the warning
    /// is about no one value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Warning {
    /// A warning about the whole file, with no row, column or value (see
    /// the `with_*` methods).
    ///
    /// ```
    /// use contact_import::{Position, Warning, WarningCode};
    /// let warning = Warning::new(WarningCode::UnknownTag, "unknown tag \"NEET\"")
    ///     .with_row(7)
    ///     .with_column("Tags")
    ///     .with_value("NEET");
    /// assert_eq!(warning.position(), Some(Position { row: 7, column: Some("Tags".into()) }));
    /// ```
    pub fn new(code: WarningCode, message: impl Into<String>) -> Warning {
        Warning {
            row: None,
            column: None,
            code,
            message: message.into(),
            value: None,
        }
    }

    /// The warning about `row`.
    pub fn with_row(mut self, row: u64) -> Warning {
        self.row = Some(row);
        self
    }

    /// The warning about the column headed `column`.
    pub fn with_column(mut self, column: impl Into<String>) -> Warning {
        self.column = Some(column.into());
        self
    }

    /// The warning about `value` (what [`WarningGroup`]s group by).
    pub fn with_value(mut self, value: impl Into<String>) -> Warning {
        self.value = Some(value.into());
        self
    }

    /// Where the warning applies, for a row warning; `None` for a warning
    /// about the whole file (which may still name a [`column`](Self::column)).
    pub fn position(&self) -> Option<Position> {
        self.row.map(|row| Position {
            row,
            column: self.column.clone(),
        })
    }
}

/// Warnings of one kind about one value (or one column), for a person to act on once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningGroup {
    /// What kind of warning.
    pub code: WarningCode,
    /// The column concerned, when there is one.
    pub column: Option<String>,
    /// The value the warnings are about, when there is one.
    pub value: Option<String>,
    /// How many warnings the group holds.
    pub count: u64,
    /// The first rows of the group (at most [`WarningGroup::EXAMPLES`]), in file order.
    pub rows: Vec<u64>,
    /// The first warning's message.
    pub message: String,
}

impl WarningGroup {
    /// Example rows a group keeps.
    pub const EXAMPLES: usize = 5;
}

impl fmt::Display for WarningGroup {
    /// E.g. `unknown tag "NEET" in 14,812 rows (e.g. rows 2, 5, 9): add it
    /// to the catalog or correct the cells`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows = match self.count {
            1 => "1 row".to_owned(),
            n => format!("{} rows", thousands(n)),
        };
        let examples = || {
            let list: Vec<String> = self.rows.iter().map(u64::to_string).collect();
            let more = if self.count as usize > self.rows.len() {
                ", …"
            } else {
                ""
            };
            format!(
                "(e.g. row{} {}{more})",
                if list.len() == 1 { "" } else { "s" },
                list.join(", ")
            )
        };
        let value = self.value.as_deref().unwrap_or_default();
        let column = self.column.as_deref().unwrap_or_default();
        match self.code {
            WarningCode::UnknownTag => match self.message.split_once("did you mean ") {
                // The catalog has a tag that differs only in case or spacing.
                Some((_, suggestion)) => write!(
                    f,
                    "unknown tag {value:?} in {rows} {}: did you mean {suggestion} correct the cells, or add the tag to the catalog",
                    examples()
                ),
                None => write!(
                    f,
                    "unknown tag {value:?} in {rows} {}: add it to the catalog or correct the cells",
                    examples()
                ),
            },
            WarningCode::InvalidFirstMessage => write!(
                f,
                "first message {value:?} is not one catalog tag in {rows} {}: add the tag or correct the cells",
                examples()
            ),
            WarningCode::UnknownCountry => write!(
                f,
                "unknown country {value:?} in {rows} {}: the import's region was used; write an ISO code such as IN, a country name or a calling code such as +971",
                examples()
            ),
            WarningCode::InvalidOptIn => write!(
                f,
                "opt-in {value:?} is not yes or no in {rows} {}: the opt-in was left as it was; write yes/no, true/false, 1/0, opted in/opted out or subscribed/unsubscribed",
                examples()
            ),
            WarningCode::OptOutKept => write!(
                f,
                "opt-out kept in {rows} {}: the cell says opted in, but the contact opted out, so it stays opted out (opt-in policy keep_opt_out); to record a new opt-in the person gave, import with the opt-in policy allow_opt_in_again",
                examples()
            ),
            WarningCode::OptedInAgain => write!(
                f,
                "opted in again in {rows} {}: contacts who had opted out are opted in, as the opt-in policy allow_opt_in_again allows",
                examples()
            ),
            WarningCode::UnknownColumn => {
                write!(f, "column {column:?} matches no field: ignored")
            }
            _ => f.write_str(&self.message),
        }
    }
}

/// `14812` as `14,812`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The warnings grouped by kind, column and value, most frequent first
/// (ties in the order of their first warning).
pub fn group_warnings(warnings: &[Warning]) -> Vec<WarningGroup> {
    let mut groups: Vec<WarningGroup> = Vec::new();
    // foldhash, not SipHash: 20,000 warnings hashed 3 strings each cost
    // the example 1% of its instructions.
    let mut index: std::collections::HashMap<
        (WarningCode, Option<&str>, Option<&str>),
        usize,
        foldhash::fast::RandomState,
    > = Default::default();
    for warning in warnings {
        // A row warning without a value (none so far) is a group of its own message.
        let value = warning
            .value
            .as_deref()
            .or(warning.row.map(|_| warning.message.as_str()));
        let key = (warning.code, warning.column.as_deref(), value);
        let at = *index.entry(key).or_insert_with(|| {
            groups.push(WarningGroup {
                code: warning.code,
                column: warning.column.clone(),
                value: warning.value.clone(),
                count: 0,
                rows: Vec::new(),
                message: warning.message.clone(),
            });
            groups.len() - 1
        });
        let group = &mut groups[at];
        group.count += 1;
        if let Some(row) = warning.row
            && group.rows.len() < WarningGroup::EXAMPLES
        {
            group.rows.push(row);
        }
    }
    // Stable: equal counts keep the order of their first warning.
    groups.sort_by_key(|g| std::cmp::Reverse(g.count));
    groups
}

/// The outcome of an import.
///
/// `rows == added + updated + unchanged + skipped + failed` always holds. Every contact touched
/// appears in exactly one of `phones_added` (created by this import) or
/// `phones_updated` (existed before it), once.
///
/// ```
/// # use contact_import::*;
/// let catalog = Catalog::new().with_tags(["MBA"]);
/// let engine = ImportEngine::new(catalog, jiff::Timestamp::UNIX_EPOCH);
/// let mut store = MemoryStore::new();
/// let csv = "Name,Mobile Number,Tags\nMohit Dua,9876543452,MBA\nNo Phone,,MBA\n";
/// let report = engine.import_bytes(csv.as_bytes(), &mut store).unwrap();
/// assert_eq!((report.rows, report.added, report.failed), (2, 1, 1));
/// assert_eq!(report.rows, report.added + report.updated + report.unchanged + report.skipped + report.failed);
/// assert_eq!(report.failures[0].position.row, 3);
/// assert_eq!(report.failures[0].code, FailureCode::MissingPhone);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Data rows read (the header not counted).
    pub rows: u64,
    /// Rows that created a contact.
    pub added: u64,
    /// Rows that changed a contact that existed, or that an earlier row of
    /// the file created.
    pub updated: u64,
    /// Rows whose contact existed and that changed nothing in it.
    #[serde(default)]
    pub unchanged: u64,
    /// Rows the import mode left out: under
    /// [`ImportMode::AddOnly`](crate::ImportMode::AddOnly) rows whose phone
    /// is stored, under [`ImportMode::UpdateOnly`](crate::ImportMode::UpdateOnly)
    /// rows whose phone is not.
    #[serde(default)]
    pub skipped: u64,
    /// Rows that were not imported.
    pub failed: u64,
    /// Phones of the contacts this import created, in file order.
    pub phones_added: Vec<Phone>,
    /// Phones of the contacts that existed before and were updated, in file order.
    pub phones_updated: Vec<Phone>,
    /// Every failed row, in file order.
    pub failures: Vec<RowFailure>,
    /// Warnings, in file order (file-wide ones first).
    pub warnings: Vec<Warning>,
    /// Rows whose number cannot be a WhatsApp mobile (a landline, toll-free,
    /// ... number): those warned `not_mobile`, or failed with it.
    #[serde(default)]
    pub not_mobile: u64,
    /// Phones that more than one row of the file has, with those rows,
    /// ordered by their first row; whatever the duplicate policy.
    #[serde(default)]
    pub duplicates: Vec<DuplicatePhone>,
    /// The header row as read, for the failure file.
    pub headers: Vec<String>,
    /// The last row the store holds: every row up to it was written or
    /// failed, none after it. `None` before the first batch was written.
    pub last_row: Option<u64>,
    /// Writes of a contact that another writer changed (or added) between
    /// this import's fetch and its write, so that the contact was fetched
    /// again and its rows merged again: how much this import raced others.
    /// Zero with one writer.
    #[serde(default)]
    pub conflicts: u64,
}

impl ImportReport {
    /// The warnings grouped by kind and value, most frequent first, each
    /// with a few example rows: what a person reads instead of every
    /// warning ([`warnings`](Self::warnings) keeps them all).
    pub fn warning_groups(&self) -> Vec<WarningGroup> {
        group_warnings(&self.warnings)
    }

    /// Writes the failure file: the file's own columns with each failed row's
    /// cells, plus `Row` and `Reason`, so that the user can fix the cells and
    /// upload the file again (the extra columns are ignored on import).
    ///
    /// Each cell is written as the import read it (trimmed, a leading `'`
    /// removed) and guarded against formula injection
    /// ([`guard_formula`]), so importing the failure
    /// file reads the same values as the original.
    ///
    /// A row with more cells than the header keeps its first cells; the
    /// reason names the extra ones.
    pub fn write_failures<W: io::Write>(&self, writer: W) -> io::Result<()> {
        let mut csv = csv::WriterBuilder::new()
            .flexible(false)
            .from_writer(writer);
        let header = self
            .headers
            .iter()
            .map(String::as_str)
            .chain(["Row", "Reason"]);
        write_guarded(&mut csv, header)?;
        let width = self.headers.len();
        for failure in &self.failures {
            let cells =
                (0..width).map(|i| read_cell(failure.values.get(i).map_or("", String::as_str)));
            let row = failure.position.row.to_string();
            let reason = format!("{}: {}", failure.code, failure.message);
            write_guarded(&mut csv, cells.chain([row.as_str(), reason.as_str()]))?;
        }
        csv.flush()
    }
}

fn write_guarded<'a, W: io::Write>(
    csv: &mut csv::Writer<W>,
    cells: impl Iterator<Item = &'a str>,
) -> io::Result<()> {
    for cell in cells {
        csv.write_field(guard_formula(cell).as_bytes())?;
    }
    csv.write_record(None::<&[u8]>)?;
    Ok(())
}

/// How far an import has got, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Data rows processed so far (written or failed).
    pub rows_done: u64,
    /// Data rows in the file, when known.
    pub total_rows: Option<u64>,
}
