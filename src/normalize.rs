//! One CSV row to one normalized contact update, or to a failure.

use std::cell::RefCell;
use std::sync::Arc;

use compact_str::CompactString;
use smallvec::SmallVec;

use crate::catalog::Catalog;
use crate::contact::{Attribute, Attributes, Tag, Tags, normalize_name, parse_opt_in};
use crate::mapping::Columns;
use crate::options::{FieldPolicy, UpdatePolicy};
use crate::phone::{NumberType, Phone, PhoneError, PhoneNormalizer, Region};
use crate::reader::Record;
use crate::report::{FailureCode, Position, RowFailure, Warning, WarningCode};
use crate::text::read_cell;
// Until phone.rs and engine.rs import them from `text` (issue 17).

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
    /// The cell with its value mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Cell<U> {
        match self {
            Cell::Absent => Cell::Absent,
            Cell::Empty => Cell::Empty,
            Cell::Clear => Cell::Clear,
            Cell::Set(value) => Cell::Set(f(value)),
        }
    }

    /// The cell without its value: `Set(())` for a value.
    pub fn kind(&self) -> Cell<()> {
        match self {
            Cell::Absent => Cell::Absent,
            Cell::Empty => Cell::Empty,
            Cell::Clear => Cell::Clear,
            Cell::Set(_) => Cell::Set(()),
        }
    }

    /// Whether this cell clears the stored value under `policy`: an empty
    /// cell under [`FieldPolicy::Overwrite`], the clear token under
    /// [`FieldPolicy::ClearOnToken`].
    pub fn clears(&self, policy: FieldPolicy) -> bool {
        matches!(
            (self, policy),
            (Cell::Empty, FieldPolicy::Overwrite) | (Cell::Clear, FieldPolicy::ClearOnToken)
        )
    }
}

/// A row, normalized: what the import will merge into the contact under `phone`.
#[derive(Clone, Debug)]
pub(crate) struct RowUpdate {
    pub row: u64,
    pub phone: Phone,
    pub name: CompactString,
    pub tags: Cell<Tags>,
    pub source: Cell<String>,
    pub first_message: Cell<Tag>,
    /// The attribute values the row sets, packed as a contact holds them
    /// (so that a new contact takes them as they are).
    pub attributes: Attributes,
    /// The attributes the row clears, under their policies.
    pub cleared: SmallVec<[Attribute; 2]>,
    /// What the opt-in cell says; `None` when it is empty or unreadable,
    /// or the file has no opt-in column.
    pub opt_in: Option<bool>,
}

pub(crate) struct RowNormalizer<'a> {
    /// The catalog's tags, this normalizer's own ([`Catalog::own_tags`]).
    catalog: Catalog,
    columns: &'a Columns,
    headers: &'a [String],
    phones: PhoneNormalizer,
    policy: &'a UpdatePolicy,
    /// The attribute columns sorted by attribute name, with their policies.
    attributes: Vec<(usize, Attribute, FieldPolicy)>,
    /// Whether two columns name the same attribute (the last one wins).
    repeated_attribute: bool,
    /// The sets of attribute names rows have set so far, shared by their contacts.
    name_lists: RefCell<Vec<Arc<[Attribute]>>>,
    /// Tag cells read so far that warned of nothing, with their tags: the
    /// cells of a file repeat (the realistic file's 150,000 hold 9,649 texts).
    tag_cells: RefCell<TagCells>,
    /// Whether a number that cannot be a WhatsApp mobile fails its row.
    reject_not_mobile: bool,
}

/// Distinct attribute name lists one normalizer shares; past it, a row's
/// list is its own.
const NAME_LISTS: usize = 64;

type TagCells = std::collections::HashMap<Box<str>, Cell<Tags>, foldhash::fast::RandomState>;

/// Distinct tag cells one normalizer keeps; past it, new ones are read
/// each time. 4,096 cost the example 2 MB of peak (104.9 to 105.2 MB
/// against 103.1 to 103.3 MB with 512, /usr/bin/time, the realistic file).
const TAG_CELLS: usize = 512;

impl<'a> RowNormalizer<'a> {
    pub fn new(
        catalog: &'a Catalog,
        columns: &'a Columns,
        headers: &'a [String],
        phones: PhoneNormalizer,
        policy: &'a UpdatePolicy,
    ) -> RowNormalizer<'a> {
        // By name (a stable sort keeps the column order of a repeated
        // name), so that a row's values come out sorted, as a contact keeps them.
        let mut attributes: Vec<_> = columns
            .attributes
            .iter()
            .map(|(col, attribute)| (*col, attribute.clone(), policy.attribute_policy(attribute)))
            .collect();
        attributes.sort_by(|(_, a, _), (_, b, _)| a.as_str().cmp(b.as_str()));
        RowNormalizer {
            catalog: catalog.own_tags(),
            columns,
            headers,
            phones,
            policy,
            repeated_attribute: attributes.windows(2).any(|w| w[0].1 == w[1].1),
            attributes,
            name_lists: RefCell::new(Vec::new()),
            tag_cells: RefCell::new(TagCells::default()),
            reject_not_mobile: false,
        }
    }

    /// Rows whose number cannot be a WhatsApp mobile fail with `not_mobile`
    /// (`true`) or import with that warning (`false`, the default).
    pub fn reject_not_mobile(mut self, reject: bool) -> RowNormalizer<'a> {
        self.reject_not_mobile = reject;
        self
    }
    /// Normalizes the record of spreadsheet row `row`, adding its warnings to `warnings`.
    pub fn normalize(
        &self,
        row: u64,
        record: &Record,
        warnings: &mut Vec<Warning>,
    ) -> Result<RowUpdate, RowFailure> {
        let fail = |code, message: String, column: Option<usize>| RowFailure {
            position: Position {
                row,
                column: column.map(|c| self.headers[c].clone()),
            },
            code,
            message,
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
        // Most rows are valid UTF-8 without control characters: checked
        // once for the whole row instead of cell by cell.
        let clean = simdutf8::basic::from_utf8(record.bytes())
            .ok()
            .filter(|text| control_character(text).is_none());
        let cell = |column: usize| -> Result<&str, RowFailure> {
            let whole = clean.zip(record.range(column));
            // A field boundary inside a character needs the check per cell.
            match whole.and_then(|(text, range)| text.get(range)) {
                Some(text) => Ok(read_cell(text)),
                None => self.checked_cell(record, column, &fail),
            }
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
        if record.is_date(phone_col) {
            let message = format!(
                "the {:?} cell holds a date or time ({}), not a phone number; format the column as Text, type the numbers again and upload the file again",
                self.headers[phone_col],
                cell(phone_col)?
            );
            return Err(fail(FailureCode::PhoneIsDate, message, Some(phone_col)));
        }
        let (phones, unknown_country) = match cols.country {
            Some(col) => match country_region(cell(col)?) {
                Ok(Some(region)) => (PhoneNormalizer::new(region), None),
                Ok(None) => (self.phones, None),
                Err(value) => (self.phones, Some((col, value))),
            },
            None => (self.phones, None),
        };
        let (phone, kind) = phones.normalize_typed(cell(phone_col)?).map_err(|e| {
            let (code, message) = match e {
                PhoneError::Missing => (FailureCode::MissingPhone, e.to_string()),
                PhoneError::ScientificNotation(_) => {
                    (FailureCode::PhoneScientificNotation, e.to_string())
                }
                // Its message is the whole text: no copy.
                PhoneError::Invalid(message) => (FailureCode::InvalidPhone, message),
            };
            fail(code, message, Some(phone_col))
        })?;
        let not_mobile = (!kind.can_be_mobile()).then(|| not_mobile_message(phone, kind));
        if let Some(message) = &not_mobile
            && self.reject_not_mobile
        {
            let message = format!("{message}; give the contact's mobile number");
            return Err(fail(FailureCode::NotMobile, message, Some(phone_col)));
        }
        let mut update = RowUpdate {
            row,
            phone,
            name,
            tags: Cell::Absent,
            source: Cell::Absent,
            first_message: Cell::Absent,
            attributes: Attributes::new(),
            cleared: SmallVec::new(),
            opt_in: None,
        };
        let mut warn = |column: usize, code, mut message: String, value: &str| {
            // `format!` leaves room to grow (96 bytes for the 72 of a
            // not_mobile message), and the report keeps every warning.
            message.shrink_to_fit();
            warnings.push(Warning {
                row: Some(row),
                column: Some(self.headers[column].clone()),
                code,
                message,
                value: Some(value.to_owned()),
            })
        };
        if let Some((col, value)) = unknown_country {
            let message = format!(
                "country {value:?} is not a known country, so the phone was read as a number of {}; write an ISO code such as IN, a country name, or a calling code such as +971",
                self.phones.region().id()
            );
            warn(col, WarningCode::UnknownCountry, message, &value);
        }
        if let Some(message) = not_mobile {
            warn(phone_col, WarningCode::NotMobile, message, kind.as_str());
        }
        if let Some(col) = cols.tags {
            update.tags = self.tags(cell(col)?, |m, name| {
                warn(col, WarningCode::UnknownTag, m, name)
            });
        }
        if let Some(col) = cols.source {
            update.source = self.text(cell(col)?, self.policy.source).map(str::to_owned);
        }
        if let Some(col) = cols.first_message {
            update.first_message = self.first_message(cell(col)?, |m, value| {
                warn(col, WarningCode::InvalidFirstMessage, m, value)
            });
        }
        if let Some(col) = cols.opt_in {
            let text = cell(col)?;
            update.opt_in = parse_opt_in(text);
            if update.opt_in.is_none() && !text.is_empty() {
                let message = format!(
                    "opt-in {text:?} is not yes or no, so the contact's opt-in was left as it was; write yes/no, true/false, 1/0, opted in/opted out or subscribed/unsubscribed"
                );
                warn(col, WarningCode::InvalidOptIn, message, text);
            }
        }
        // The last column wins when two name the same attribute.
        let mut set: SmallVec<[(&Attribute, &str); 8]> = SmallVec::new();
        for (col, attribute, policy) in &self.attributes {
            let policy = *policy;
            let cell = self.text(cell(*col)?, policy);
            if !matches!(cell, Cell::Set(_)) && !cell.clears(policy) {
                continue;
            }
            if self.repeated_attribute {
                set.retain(|(a, _)| *a != attribute);
                update.cleared.retain(|a| a != attribute);
            }
            match cell {
                Cell::Set(value) => set.push((attribute, value)),
                _ => update.cleared.push(attribute.clone()),
            }
        }
        update.attributes = self.attributes(&set);
        Ok(update)
    }

    /// A cell of a row that is not valid UTF-8 without control characters
    /// as a whole: checked on its own, failing the row when it is not.
    #[cold]
    fn checked_cell<'r>(
        &self,
        record: &'r Record,
        column: usize,
        fail: &impl Fn(FailureCode, String, Option<usize>) -> RowFailure,
    ) -> Result<&'r str, RowFailure> {
        let bytes = record.field(column).unwrap_or_default();
        let text = std::str::from_utf8(bytes).map_err(|_| {
            let message = format!(
                "the {:?} cell is not valid UTF-8; save the file as \"CSV UTF-8\"",
                self.headers[column]
            );
            fail(FailureCode::InvalidUtf8, message, Some(column))
        })?;
        if let Some(c) = control_character(text) {
            let message = format!(
                "the {:?} cell contains the control character U+{:04X}; the file may be damaged or not a text CSV",
                self.headers[column], c as u32
            );
            return Err(fail(FailureCode::ControlCharacter, message, Some(column)));
        }
        Ok(read_cell(text))
    }

    /// The values a row sets (sorted by name, each name once), with a name
    /// list shared by every row that sets the same attributes.
    fn attributes(&self, set: &[(&Attribute, &str)]) -> Attributes {
        if set.is_empty() {
            return Attributes::new();
        }
        let mut lists = self.name_lists.borrow_mut();
        let same = |list: &&Arc<[Attribute]>| {
            list.len() == set.len() && list.iter().zip(set).all(|(a, (b, _))| a.is(b))
        };
        let names = match lists.iter().find(same) {
            Some(names) => names.clone(),
            None => {
                let names: Arc<[Attribute]> = set.iter().map(|(name, _)| (*name).clone()).collect();
                if lists.len() < NAME_LISTS {
                    lists.push(names.clone());
                }
                names
            }
        };
        Attributes::with_names(names, set.iter().map(|(_, value)| *value))
    }

    /// The name from the Name column, or from First Name and Last Name
    /// joined; with the column to blame when it is empty.
    fn name<'r>(
        &self,
        cell: &impl Fn(usize) -> Result<&'r str, RowFailure>,
    ) -> Result<(CompactString, usize), RowFailure> {
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

    fn text<'t>(&self, text: &'t str, policy: FieldPolicy) -> Cell<&'t str> {
        if text.is_empty() {
            Cell::Empty
        } else if policy == FieldPolicy::ClearOnToken && text == self.policy.clear_token {
            Cell::Clear
        } else {
            Cell::Set(text)
        }
    }

    /// [`read_tags`](Self::read_tags), kept for the next cell with the same
    /// text unless it warned.
    fn tags(&self, text: &str, mut warn: impl FnMut(String, &str)) -> Cell<Tags> {
        if text.is_empty() {
            return Cell::Empty;
        }
        if let Some(tags) = self.tag_cells.borrow().get(text) {
            return tags.clone();
        }
        let mut warned = false;
        let tags = self.read_tags(text, |message, name| {
            warned = true;
            warn(message, name)
        });
        let mut cells = self.tag_cells.borrow_mut();
        if !warned && cells.len() < TAG_CELLS {
            cells.insert(text.into(), tags.clone());
        }
        tags
    }

    /// `MBA | Finance`: split on `|`, trimmed, empties and repeats dropped,
    /// order kept; tags not in the catalog are warned about and dropped.
    fn read_tags(&self, text: &str, mut warn: impl FnMut(String, &str)) -> Cell<Tags> {
        let mut tags = Tags::new();
        let mut named = false;
        for name in text.split('|').map(str::trim).filter(|n| !n.is_empty()) {
            named = true;
            match self.catalog.tag(name) {
                Some(tag) if !tags.contains(tag) => tags.push(tag.clone()),
                Some(_) => {}
                None => warn(self.unknown_tag(name), name),
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

    fn first_message(&self, text: &str, mut warn: impl FnMut(String, &str)) -> Cell<Tag> {
        if text.is_empty() {
            return Cell::Empty;
        }
        if self.policy.first_message == FieldPolicy::ClearOnToken && text == self.policy.clear_token
        {
            return Cell::Clear;
        }
        if text.contains('|') {
            warn(
                format!(
                    "first message {text:?} holds several tags; it takes exactly one, so it was not assigned"
                ),
                text,
            );
            return Cell::Absent;
        }
        match self.catalog.tag(text) {
            Some(tag) => Cell::Set(tag.clone()),
            None => {
                warn(format!("first message {}", self.unknown_tag(text)), text);
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

/// The region a Country cell names: an ISO code (`AE`, `ARE`), an
/// English name (`United Arab Emirates`, `UAE`) or a calling code (`+971`,
/// `971`); `Ok(None)` for an empty cell, `Err` with the cell for anything else.
pub(crate) fn country_region(text: &str) -> Result<Option<Region>, String> {
    let unknown = || Err(text.to_owned());
    if text.is_empty() {
        return Ok(None);
    }
    let digits = text.strip_prefix('+').unwrap_or(text).trim();
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        let Ok(code) = digits.parse::<u16>() else {
            return unknown();
        };
        let main = crate::phone_metadata::codes()
            .iter()
            .find(|(c, _)| *c == code)
            .and_then(|(_, regions)| regions.first().map(|region| region.id));
        return match main.and_then(|id| id.parse::<Region>().ok()) {
            Some(region) => Ok(Some(region)),
            None => unknown(),
        };
    }
    if let Ok(region) = text.parse::<Region>() {
        return Ok(Some(region));
    }
    let key: String = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    if key.is_empty() || key.bytes().all(|b| b.is_ascii_digit()) {
        return unknown();
    }
    match key.parse::<celes::Country>() {
        Ok(country) => country
            .alpha2
            .parse::<Region>()
            .map(Some)
            .or_else(|_| unknown()),
        Err(_) => unknown(),
    }
}

/// The first control character (Unicode category Cc) in `text` other than
/// tab, line feed and carriage return: C0 and DEL are single bytes, C1
/// (U+0080 to U+009F) is 0xC2 followed by 0x80 to 0x9F.
fn control_character(text: &str) -> Option<char> {
    let bytes = text.as_bytes();
    // A pass without branches first (the compiler vectorizes it): most
    // text holds no byte that can start a control character.
    let suspect = |chunk: &[u8]| {
        chunk.iter().fold(false, |any, &b| {
            any | (b < 0x20) | (b == 0x7F) | (b == 0xC2)
        })
    };
    if !bytes.chunks(32).any(suspect) {
        return None;
    }
    let at = bytes.iter().enumerate().position(|(i, &b)| match b {
        b'\t' | b'\n' | b'\r' => false,
        0..=0x1F | 0x7F => true,
        0xC2 => matches!(bytes.get(i + 1), Some(0x80..=0x9F)),
        _ => false,
    })?;
    text.get(at..)?.chars().next()
}

/// `{phone} is a {kind} number, which cannot be a WhatsApp mobile`, `kind`
/// with spaces for underscores, at its exact length (the report keeps
/// every warning, and `format!` would leave room to grow).
fn not_mobile_message(phone: Phone, kind: NumberType) -> String {
    let (a, kind, b) = (
        " is a ",
        kind.as_str(),
        " number, which cannot be a WhatsApp mobile",
    );
    let mut message = String::with_capacity(phone.as_str().len() + a.len() + kind.len() + b.len());
    message.push_str(phone.as_str());
    message.push_str(a);
    message.extend(kind.chars().map(|c| if c == '_' { ' ' } else { c }));
    message.push_str(b);
    message
}

/// The rows of a batch whose number cannot be a WhatsApp mobile: warned
/// `not_mobile`, or failed with it.
pub(crate) fn not_mobile_rows(warnings: &[Warning], failures: &[RowFailure]) -> u64 {
    let warned = warnings.iter().filter(|w| w.code == WarningCode::NotMobile);
    let failed = failures.iter().filter(|f| f.code == FailureCode::NotMobile);
    (warned.count() + failed.count()) as u64
}
