//! One CSV row to one normalized contact update, or to a failure.

use smallvec::SmallVec;

use crate::catalog::Catalog;
use crate::contact::{Attribute, Tag, Tags, normalize_name};
use crate::mapping::Columns;
use crate::phone::{Phone, PhoneError, PhoneNormalizer};
use crate::reader::Record;
use crate::report::{FailureCode, RowFailure, Warning, WarningCode};

/// What one cell says about a field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cell<T> {
    /// The file has no column for the field: nothing to say.
    Absent,
    /// The column is there and the cell is empty.
    Empty,
    /// The cell's value.
    Set(T),
}

/// A row, normalized: what the import will merge into the contact under `phone`.
#[derive(Clone, Debug)]
pub(crate) struct RowUpdate {
    pub phone: Phone,
    pub name: String,
    pub tags: Cell<Tags>,
    pub source: Cell<String>,
    pub first_message: Cell<Tag>,
    pub attributes: SmallVec<[(Attribute, Cell<String>); 4]>,
}

pub(crate) struct RowNormalizer<'a> {
    pub catalog: &'a Catalog,
    pub columns: &'a Columns,
    pub headers: &'a [String],
    pub phones: PhoneNormalizer,
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
            Ok(unquote(text.trim()))
        };
        let cols = self.columns;
        // Mapping guarantees both mandatory columns.
        let (name_col, phone_col) = (cols.name.unwrap_or(0), cols.phone.unwrap_or(0));
        let name = normalize_name(cell(name_col)?);
        if name.is_empty() {
            return Err(fail(
                FailureCode::MissingName,
                "the name is empty; every contact needs a name".to_owned(),
                Some(name_col),
            ));
        }
        let phone = self.phones.normalize(cell(phone_col)?).map_err(|e| {
            let code = match e {
                PhoneError::Missing => FailureCode::MissingPhone,
                PhoneError::ScientificNotation(_) => FailureCode::PhoneScientificNotation,
                PhoneError::Invalid(_) => FailureCode::InvalidPhone,
            };
            fail(code, e.to_string(), Some(phone_col))
        })?;
        let mut update = RowUpdate {
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
            update.source = text_cell(cell(col)?);
        }
        if let Some(col) = cols.first_message {
            update.first_message = self.first_message(cell(col)?, |m| {
                warn(col, WarningCode::InvalidFirstMessage, m)
            });
        }
        for (col, attribute) in &cols.attributes {
            update
                .attributes
                .push((attribute.clone(), text_cell(cell(*col)?)));
        }
        Ok(update)
    }

    fn count_message(&self, record: &Record) -> String {
        format!(
            "the row has {} fields but the header has {}; check for a missing or extra delimiter, or an unquoted comma",
            record.len(),
            self.headers.len()
        )
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

fn text_cell(text: &str) -> Cell<String> {
    if text.is_empty() {
        Cell::Empty
    } else {
        Cell::Set(text.to_owned())
    }
}

/// Strips the leading `'` a spreadsheet (or an export guarding against
/// formula injection) puts before text.
pub(crate) fn unquote(text: &str) -> &str {
    text.strip_prefix('\'').unwrap_or(text)
}
