//! Which column of the file feeds which contact field.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::contact::Attribute;
use crate::error::{FileError, FileErrorKind};

/// A contact field that a column can feed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Field {
    /// The full name (mandatory, unless First Name is mapped).
    Name,
    /// The first (given) name, joined with Last Name into the name when the
    /// file has no full-name column (Google, Outlook, HubSpot, Zoho exports).
    FirstName,
    /// The last (family) name, joined after First Name.
    LastName,
    /// The phone number (mandatory).
    Phone,
    /// Tags separated by `|`.
    Tags,
    /// The lead source.
    Source,
    /// The first-message tag.
    FirstMessage,
    /// The country of the row's phone (ISO code, English name or calling
    /// code), instead of the import's region.
    Country,
    /// Whether the contact opted in to WhatsApp messages (`yes`/`no`,
    /// `true`/`false`, `1`/`0`, `opted in`/`opted out`,
    /// `subscribed`/`unsubscribed`).
    OptIn,
    /// A custom attribute of the catalog, by name.
    Attribute(String),
    /// The column is not imported.
    Ignore,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Name => f.write_str("name"),
            Field::FirstName => f.write_str("first_name"),
            Field::LastName => f.write_str("last_name"),
            Field::Phone => f.write_str("phone"),
            Field::Tags => f.write_str("tags"),
            Field::Source => f.write_str("source"),
            Field::FirstMessage => f.write_str("first_message"),
            Field::Country => f.write_str("country"),
            Field::OptIn => f.write_str("opt_in"),
            Field::Attribute(name) => write!(f, "attr:{name}"),
            Field::Ignore => f.write_str("ignore"),
        }
    }
}

impl FromStr for Field {
    type Err = String;

    /// Parses `name`, `first_name`, `last_name`, `phone`, `tags`, `source`, `first_message`,
    /// `country`, `opt_in`, `attr:NAME` or `ignore` (the form the example's `--map` takes).
    fn from_str(text: &str) -> Result<Field, String> {
        if let Some(name) = text.strip_prefix("attr:") {
            return Ok(Field::Attribute(name.to_owned()));
        }
        Ok(match text.trim().to_ascii_lowercase().as_str() {
            "name" => Field::Name,
            "first_name" => Field::FirstName,
            "last_name" => Field::LastName,
            "phone" => Field::Phone,
            "tags" => Field::Tags,
            "source" => Field::Source,
            "first_message" => Field::FirstMessage,
            "country" => Field::Country,
            "opt_in" => Field::OptIn,
            "ignore" => Field::Ignore,
            _ => {
                return Err(format!(
                    "unknown field {text:?}: expected name, first_name, last_name, phone, tags, source, first_message, country, opt_in, attr:NAME or ignore"
                ));
            }
        })
    }
}

/// Explicit column choices, by header text. Headers not named here are
/// mapped automatically: case-insensitively, ignoring spaces, `_`, `-` and a
/// leading `$`, with common aliases ("Full Name" and "User Name" for Name;
/// "Mobile Number", "Mobile", "Phone Number" and "WhatsApp Number" for Phone;
/// "First Message Tag" for First Message; "WhatsApp Opt-in", "Opt-in",
/// "Opted In", "Consent" and "Subscribed" for the opt-in) and catalog
/// attributes by name.
///
/// ```
/// use contact_import::{ColumnMapping, Field};
/// let mapping = ColumnMapping::new()
///     .map("Cell", Field::Phone)
///     .map("Notes", Field::Ignore);
/// assert_eq!(mapping.get("Cell"), Some(&Field::Phone));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ColumnMapping {
    columns: BTreeMap<String, Field>,
}

impl ColumnMapping {
    /// No explicit choices: every header is mapped automatically.
    pub fn new() -> ColumnMapping {
        ColumnMapping::default()
    }

    /// Maps the column whose header is `header` (compared after trimming) to `field`.
    pub fn map(mut self, header: &str, field: Field) -> ColumnMapping {
        self.columns.insert(header.trim().to_owned(), field);
        self
    }

    /// The explicit choice for `header`, if any.
    pub fn get(&self, header: &str) -> Option<&Field> {
        self.columns.get(header.trim())
    }

    /// The field that `header` maps to: the explicit choice, else the
    /// automatic one, else `None` (an unknown header, which is ignored).
    pub fn field_for(&self, header: &str, catalog: &Catalog) -> Option<Field> {
        if let Some(field) = self.get(header) {
            return Some(field.clone());
        }
        auto_field(header, catalog)
    }

    /// Resolves the header row into column positions. Refuses the file when
    /// Name or Phone has no column, or when two columns feed one field.
    pub(crate) fn resolve(
        &self,
        headers: &[String],
        catalog: &Catalog,
    ) -> Result<Columns, FileError> {
        let mut columns = Columns::default();
        let mut seen: Vec<(Field, usize)> = Vec::new();
        for (index, header) in headers.iter().enumerate() {
            let Some(field) = self.field_for(header, catalog) else {
                columns.unknown.push(index);
                continue;
            };
            if field == Field::Ignore {
                continue;
            }
            if let Some((_, first)) = seen.iter().find(|(f, _)| *f == field) {
                return Err(FileError::new(FileErrorKind::DuplicateColumn {
                    field: field.to_string(),
                    headers: vec![headers[*first].clone(), header.clone()],
                }));
            }
            seen.push((field.clone(), index));
            columns.assign(field, index, catalog, header)?;
        }
        columns.check_required(headers)?;
        Ok(columns)
    }
}

/// Column positions resolved from the header row.
#[derive(Clone, Debug, Default)]
pub(crate) struct Columns {
    pub name: Option<usize>,
    pub first_name: Option<usize>,
    pub last_name: Option<usize>,
    pub phone: Option<usize>,
    pub tags: Option<usize>,
    pub source: Option<usize>,
    pub first_message: Option<usize>,
    pub country: Option<usize>,
    pub opt_in: Option<usize>,
    pub attributes: Vec<(usize, Attribute)>,
    /// Headers that matched nothing: ignored, with one warning each.
    pub unknown: Vec<usize>,
    /// First/Last Name columns ignored because the file has a Name column.
    pub superseded: Vec<usize>,
}

impl Columns {
    fn assign(
        &mut self,
        field: Field,
        index: usize,
        catalog: &Catalog,
        header: &str,
    ) -> Result<(), FileError> {
        match field {
            Field::Name => self.name = Some(index),
            Field::FirstName => self.first_name = Some(index),
            Field::LastName => self.last_name = Some(index),
            Field::Phone => self.phone = Some(index),
            Field::Tags => self.tags = Some(index),
            Field::Source => self.source = Some(index),
            Field::FirstMessage => self.first_message = Some(index),
            Field::Country => self.country = Some(index),
            Field::OptIn => self.opt_in = Some(index),
            Field::Attribute(name) => {
                let attribute = catalog.attribute(&name).cloned().ok_or_else(|| {
                    FileError::new(FileErrorKind::UnknownAttribute {
                        header: header.to_owned(),
                        attribute: name.clone(),
                    })
                })?;
                self.attributes.push((index, attribute));
            }
            Field::Ignore => {}
        }
        Ok(())
    }

    fn check_required(&mut self, headers: &[String]) -> Result<(), FileError> {
        if self.name.is_some() {
            self.superseded.extend(self.first_name.take());
            self.superseded.extend(self.last_name.take());
        }
        let missing = if self.name.is_none() && self.first_name.is_none() {
            Some(Field::Name)
        } else if self.phone.is_none() {
            Some(Field::Phone)
        } else {
            None
        };
        match missing {
            Some(field) => Err(FileError::new(FileErrorKind::MissingColumn {
                field: field.to_string(),
                headers: headers.to_vec(),
            })),
            None => Ok(()),
        }
    }
}

/// Header spellings (compared by [`header_key`]) and the field they mean:
/// the product's own, common English variants, Hindi, and the column names
/// of Google Contacts, Outlook, HubSpot and Zoho CSV exports.
pub(crate) const ALIASES: &[(&str, Field)] = &[
    ("name", Field::Name),
    ("fullname", Field::Name),
    ("username", Field::Name),
    ("contactname", Field::Name),
    ("customername", Field::Name),
    ("नाम", Field::Name),
    ("पूरानाम", Field::Name),
    ("firstname", Field::FirstName),
    ("givenname", Field::FirstName),
    ("पहलानाम", Field::FirstName),
    ("lastname", Field::LastName),
    ("familyname", Field::LastName),
    ("surname", Field::LastName),
    ("उपनाम", Field::LastName),
    ("mobilenumber", Field::Phone),
    ("mobile", Field::Phone),
    ("mobileno", Field::Phone),
    ("phone", Field::Phone),
    ("phonenumber", Field::Phone),
    ("phoneno", Field::Phone),
    ("whatsappnumber", Field::Phone),
    ("whatsapp", Field::Phone),
    ("contactnumber", Field::Phone),
    ("mobilephone", Field::Phone),
    ("mobilephonenumber", Field::Phone),
    ("cellphone", Field::Phone),
    ("phone1value", Field::Phone),
    ("मोबाइल", Field::Phone),
    ("मोबाइलनंबर", Field::Phone),
    ("मोबाइलनम्बर", Field::Phone),
    ("फ़ोन", Field::Phone),
    ("फोन", Field::Phone),
    ("फ़ोननंबर", Field::Phone),
    ("फोननंबर", Field::Phone),
    ("tags", Field::Tags),
    ("tag", Field::Tags),
    ("टैग", Field::Tags),
    ("source", Field::Source),
    ("leadsource", Field::Source),
    ("स्रोत", Field::Source),
    ("firstmessage", Field::FirstMessage),
    ("firstmessagetag", Field::FirstMessage),
    ("country", Field::Country),
    ("countrycode", Field::Country),
    ("countryname", Field::Country),
    ("देश", Field::Country),
    ("optin", Field::OptIn),
    ("whatsappoptin", Field::OptIn),
    ("optedin", Field::OptIn),
    ("whatsappoptedin", Field::OptIn),
    ("consent", Field::OptIn),
    ("whatsappconsent", Field::OptIn),
    ("subscribed", Field::OptIn),
    ("optinstatus", Field::OptIn),
    ("marketingoptin", Field::OptIn),
];

/// The key headers are compared by: lowercase, without spaces, `_`, `-` and a
/// leading `$`.
pub(crate) fn header_key(header: &str) -> String {
    let header = header.trim();
    let header = header.strip_prefix('$').unwrap_or(header);
    header
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-' && *c != NUKTA)
        .map(without_nukta)
        .flat_map(char::to_lowercase)
        .collect()
}

/// The Devanagari nukta: फ़ोन and फोन are both written for "phone".
const NUKTA: char = '\u{093C}';

/// क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़ (precomposed) to their letters without the nukta.
fn without_nukta(c: char) -> char {
    const BASES: [char; 8] = ['क', 'ख', 'ग', 'ज', 'ड', 'ढ', 'फ', 'य'];
    match c {
        '\u{0958}'..='\u{095F}' => BASES[c as usize - 0x0958],
        c => c,
    }
}

pub(crate) fn auto_field(header: &str, catalog: &Catalog) -> Option<Field> {
    let key = header_key(header);
    if let Some((_, field)) = ALIASES.iter().find(|(alias, _)| *alias == key) {
        return Some(field.clone());
    }
    let attribute = catalog
        .attributes()
        .iter()
        .find(|a| header_key(a.as_str()) == key)
        .map(|a| Field::Attribute(a.to_string()));
    attribute.or_else(|| OWN_COLUMNS.contains(&key.as_str()).then_some(Field::Ignore))
}

/// Columns this crate writes itself (an export's platform fields, a failure
/// file's Row and Reason): ignored without a warning when such a file is
/// imported again, unless the catalog has an attribute of that name.
const OWN_COLUMNS: &[&str] = &[
    "status",
    "contactstate",
    "lastactive",
    "createdat",
    "row",
    "reason",
];
