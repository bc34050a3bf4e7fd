//! One CSV row to one normalized contact update, or to a failure.

use smallvec::SmallVec;

use crate::catalog::Catalog;
use crate::contact::{Attribute, Tag, Tags, normalize_name};
use crate::mapping::Columns;
use crate::merge::{FieldPolicy, UpdatePolicy};
use crate::phone::{Phone, PhoneError, PhoneNormalizer};
use crate::reader::Record;
use crate::report::{FailureCode, RowFailure, Warning, WarningCode};

/// What one cell says about a field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cell<T> {
    /// The file has no column for the field, or the cell says nothing usable.
    Absent,
    /// The column is there and the cell is empty.
    Empty,
    /// The cell holds the clear token of a [`FieldPolicy::ClearOnToken`] field.
    Clear,
    /// The cell's value.
    Set(T),
}

impl<T> Cell<T> {
    /// The cell without its value: `Set(())` for a value.
    pub fn kind(&self) -> Cell<()> {
        match self {
            Cell::Absent => Cell::Absent,
            Cell::Empty => Cell::Empty,
            Cell::Clear => Cell::Clear,
            Cell::Set(_) => Cell::Set(()),
        }
    }
}

/// A row, normalized: what the import will merge into the contact under `phone`.
#[derive(Clone, Debug)]
pub(crate) struct RowUpdate {
    pub row: u64,
    pub phone: Phone,
    pub name: String,
    pub tags: Cell<Tags>,
    pub source: Cell<String>,
    pub first_message: Cell<Tag>,
    pub attributes: SmallVec<[(Attribute, Cell<String>); 4]>,
}

impl RowUpdate {
    /// Moves the row's values out, leaving its row number and phone (all
    /// that committing the batch needs).
    pub fn take_values(&mut self) -> RowUpdate {
        RowUpdate {
            row: self.row,
            phone: self.phone,
            name: std::mem::take(&mut self.name),
            tags: std::mem::replace(&mut self.tags, Cell::Absent),
            source: std::mem::replace(&mut self.source, Cell::Absent),
            first_message: std::mem::replace(&mut self.first_message, Cell::Absent),
            attributes: std::mem::take(&mut self.attributes),
        }
    }
}

pub(crate) struct RowNormalizer<'a> {
    pub catalog: &'a Catalog,
    pub columns: &'a Columns,
    pub headers: &'a [String],
    pub phones: PhoneNormalizer,
    pub policy: &'a UpdatePolicy,
}

impl RowNormalizer<'_> {
    /// Normalizes the record of spreadsheet row `row`, adding its warnings to `warnings`.
    pub fn normalize(
        &self,
        row: u64,
        record: &Record,
        warnings: &mut Vec<Warning>,
    ) -> Result<RowUpdate, RowFailure> {
        let fail = |code, message: String, column: Option<usize>| RowFailure {
            row,
            code,
            message,
            column: column.map(|c| self.headers[c].clone()),
            values: record.lossy(),
        };
        if record.too_large() {
            return Err(fail(
                FailureCode::RowTooLarge,
                "the row is larger than the import's row limit and was skipped".to_owned(),
                None,
            ));
        }
        if record.len() != self.headers.len() {
            return Err(fail(
                FailureCode::FieldCountMismatch,
                self.count_message(record),
                None,
            ));
        }
        let cell = |column: usize| -> Result<&str, RowFailure> {
            let bytes = record.field(column).unwrap_or_default();
            let text = std::str::from_utf8(bytes).map_err(|_| {
                let message = format!(
                    "the {:?} cell is not valid UTF-8; save the file as \"CSV UTF-8\"",
                    self.headers[column]
                );
                fail(FailureCode::InvalidUtf8, message, Some(column))
            })?;
            if let Some(c) = text
                .chars()
                .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            {
                let message = format!(
                    "the {:?} cell contains the control character U+{:04X}; the file may be damaged or not a text CSV",
                    self.headers[column], c as u32
                );
                return Err(fail(FailureCode::ControlCharacter, message, Some(column)));
            }
            Ok(read_cell(text))
        };
        let cols = self.columns;
        let (name, name_col) = self.name(&cell)?;
        if name.is_empty() {
            return Err(fail(
                FailureCode::MissingName,
                "the name is empty; every contact needs a name".to_owned(),
                Some(name_col),
            ));
        }
        // Mapping guarantees a phone column.
        let phone_col = cols.phone.unwrap_or(0);
        let phone = self.phones.normalize(cell(phone_col)?).map_err(|e| {
            let code = match e {
                PhoneError::Missing => FailureCode::MissingPhone,
                PhoneError::ScientificNotation(_) => FailureCode::PhoneScientificNotation,
                PhoneError::Invalid(_) => FailureCode::InvalidPhone,
            };
            fail(code, e.to_string(), Some(phone_col))
        })?;
        let mut update = RowUpdate {
            row,
            phone,
            name,
            tags: Cell::Absent,
            source: Cell::Absent,
            first_message: Cell::Absent,
            attributes: SmallVec::new(),
        };
        let mut warn = |column: usize, code, message| {
            warnings.push(Warning {
                row: Some(row),
                column: Some(self.headers[column].clone()),
                code,
                message,
            })
        };
        if let Some(col) = cols.tags {
            update.tags = self.tags(cell(col)?, |m| warn(col, WarningCode::UnknownTag, m));
        }
        if let Some(col) = cols.source {
            update.source = self.text(cell(col)?, self.policy.source);
        }
        if let Some(col) = cols.first_message {
            update.first_message = self.first_message(cell(col)?, |m| {
                warn(col, WarningCode::InvalidFirstMessage, m)
            });
        }
        for (col, attribute) in &cols.attributes {
            let policy = self
                .policy
                .attribute
                .get(attribute.as_str())
                .copied()
                .unwrap_or(self.policy.attributes);
            update
                .attributes
                .push((attribute.clone(), self.text(cell(*col)?, policy)));
        }
        Ok(update)
    }

    /// The name from the Name column, or from First Name and Last Name
    /// joined; with the column to blame when it is empty.
    fn name<'r>(
        &self,
        cell: &impl Fn(usize) -> Result<&'r str, RowFailure>,
    ) -> Result<(String, usize), RowFailure> {
        let cols = self.columns;
        if let Some(col) = cols.name {
            return Ok((normalize_name(cell(col)?), col));
        }
        let first_col = cols.first_name.unwrap_or(0);
        let first = cell(first_col)?;
        let last = match cols.last_name {
            Some(col) => cell(col)?,
            None => "",
        };
        Ok((normalize_name(&format!("{first} {last}")), first_col))
    }

    fn count_message(&self, record: &Record) -> String {
        let spans_lines =
            (0..record.len()).any(|i| record.field(i).is_some_and(|f| f.contains(&b'\n')));
        let hint = if spans_lines && record.len() < self.headers.len() {
            "a quote that is never closed joins the lines after it into one cell; check the quotes in this row"
        } else {
            "check for a missing or extra delimiter, or an unquoted comma"
        };
        format!(
            "the row has {} fields but the header has {}; {hint}",
            record.len(),
            self.headers.len()
        )
    }

    fn text(&self, text: &str, policy: FieldPolicy) -> Cell<String> {
        if text.is_empty() {
            Cell::Empty
        } else if policy == FieldPolicy::ClearOnToken && text == self.policy.clear_token {
            Cell::Clear
        } else {
            Cell::Set(text.to_owned())
        }
    }

    /// `MBA | Finance`: split on `|`, trimmed, empties and repeats dropped,
    /// order kept; tags not in the catalog are warned about and dropped.
    fn tags(&self, text: &str, mut warn: impl FnMut(String)) -> Cell<Tags> {
        let mut tags = Tags::new();
        let mut named = false;
        for name in text.split('|').map(str::trim).filter(|n| !n.is_empty()) {
            named = true;
            match self.catalog.tag(name) {
                Some(tag) if !tags.contains(tag) => tags.push(tag.clone()),
                Some(_) => {}
                None => warn(self.unknown_tag(name)),
            }
        }
        match (named, tags.is_empty()) {
            (false, _) => Cell::Empty,
            // Only unknown tags: the user wrote something, so nothing is
            // cleared, and nothing is assigned.
            (true, true) => Cell::Absent,
            (true, false) => Cell::Set(tags),
        }
    }

    fn first_message(&self, text: &str, mut warn: impl FnMut(String)) -> Cell<Tag> {
        if text.is_empty() {
            return Cell::Empty;
        }
        if self.policy.first_message == FieldPolicy::ClearOnToken && text == self.policy.clear_token
        {
            return Cell::Clear;
        }
        if text.contains('|') {
            warn(format!(
                "first message {text:?} holds several tags; it takes exactly one, so it was not assigned"
            ));
            return Cell::Absent;
        }
        match self.catalog.tag(text) {
            Some(tag) => Cell::Set(tag.clone()),
            None => {
                warn(format!("first message {}", self.unknown_tag(text)));
                Cell::Absent
            }
        }
    }

    fn unknown_tag(&self, name: &str) -> String {
        match self.catalog.suggest_tag(name) {
            Some(tag) => format!(
                "tag {name:?} is not in the catalog and was not assigned; did you mean {:?}?",
                tag.as_str()
            ),
            None => {
                format!("tag {name:?} is not in the catalog and was not assigned; create it first")
            }
        }
    }
}

/// Trims whitespace and the invisible characters copy-paste leaves at the
/// ends of a cell (zero-width space, word joiner, byte order mark).
fn trim_cell(text: &str) -> &str {
    text.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}')
    })
}

/// The value an import reads from a cell's text: trimmed, without the
/// leading `'` of a spreadsheet's text marker.
pub(crate) fn read_cell(text: &str) -> &str {
    unquote(trim_cell(text))
}

/// Strips the leading `'` a spreadsheet (or an export guarding against
/// formula injection) puts before text.
pub(crate) fn unquote(text: &str) -> &str {
    text.strip_prefix('\'').unwrap_or(text)
}
