//! Contacts and import reports to database columns and back, for the
//! database stores: tags and attributes are JSON, as are whole reports.

use crate::contact::{Attributes, Contact, State, Tag};
use crate::history::{ImportRecord, ImportSummary};
use crate::phone::Phone;
use crate::report::ImportReport;

/// Data that could not be converted between the crate's types and a
/// database's columns: a stored value that the crate did not write (or that
/// was edited by hand), or a value that cannot be encoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A stored value is not valid.
    #[error("stored {what} {value:?} is not valid: {reason}")]
    Stored {
        /// Which column, e.g. `phone` or `tags of +919876543452`.
        what: String,
        /// The stored value, cut to 100 characters.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A value could not be encoded for the database.
    #[error("cannot encode {what}: {reason}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
}

fn stored(what: impl Into<String>, value: &str, reason: impl ToString) -> DecodeError {
    DecodeError::Stored {
        what: what.into(),
        value: value.chars().take(100).collect(),
        reason: reason.to_string(),
    }
}

fn encode<T: serde::Serialize + ?Sized>(
    what: &'static str,
    value: &T,
) -> Result<String, DecodeError> {
    serde_json::to_string(value).map_err(|e| DecodeError::Encode {
        what,
        reason: e.to_string(),
    })
}

/// A contact's columns, as the database stores keep them.
pub(crate) struct ContactColumns<T> {
    pub phone: String,
    pub name: String,
    /// JSON array of tag names.
    pub tags: String,
    pub source: Option<String>,
    pub first_message: Option<String>,
    /// JSON object of attribute names to values.
    pub attributes: String,
    pub created_at: T,
    pub last_active: Option<T>,
    pub state: Option<String>,
    pub opt_in: Option<bool>,
}

impl<T> ContactColumns<T> {
    /// The columns of `contact`, with timestamps converted by `time`.
    pub fn encode(
        contact: &Contact,
        time: impl Fn(jiff::Timestamp) -> T,
    ) -> Result<ContactColumns<T>, DecodeError> {
        Ok(ContactColumns {
            phone: contact.phone.as_str().to_owned(),
            name: contact.name().to_owned(),
            tags: encode("tags", &contact.tags)?,
            source: contact.source.clone(),
            first_message: contact
                .first_message
                .as_ref()
                .map(|t| t.as_str().to_owned()),
            attributes: encode("attributes", &contact.attributes)?,
            created_at: time(contact.created_at),
            last_active: contact.last_active.map(&time),
            state: contact.state.map(|s| s.as_str().to_owned()),
            opt_in: contact.opt_in,
        })
    }

    /// The contact these columns hold, with timestamps converted by `time`.
    pub fn decode(
        self,
        time: impl Fn(T) -> Result<jiff::Timestamp, String>,
    ) -> Result<Contact, DecodeError> {
        let phone = Phone::parse_e164(&self.phone)
            .ok_or_else(|| stored("phone", &self.phone, "not an E.164 number"))?;
        let of = |column: &str| format!("{column} of {phone}");
        let created_at = time(self.created_at).map_err(|e| stored(of("created_at"), "", e))?;
        let mut contact = Contact::new(phone, self.name, created_at);
        let tags: Vec<String> =
            serde_json::from_str(&self.tags).map_err(|e| stored(of("tags"), &self.tags, e))?;
        contact.tags = tags.iter().map(|t| Tag::new(t)).collect();
        contact.source = self.source;
        contact.first_message = self.first_message.as_deref().map(Tag::new);
        contact.attributes = serde_json::from_str::<Attributes>(&self.attributes)
            .map_err(|e| stored(of("attributes"), &self.attributes, e))?;
        contact.last_active = match self.last_active {
            Some(t) => Some(time(t).map_err(|e| stored(of("last_active"), "", e))?),
            None => None,
        };
        contact.state = match self.state {
            Some(s) => {
                Some(State::parse(&s).ok_or_else(|| stored(of("state"), &s, "unknown state"))?)
            }
            None => None,
        };
        contact.opt_in = self.opt_in;
        Ok(contact)
    }
}

/// A report as JSON, for the import history.
pub(crate) fn report_to_json(report: &ImportReport) -> Result<String, DecodeError> {
    encode("import report", report)
}

/// A stored id or count as the crate's `u64`.
pub(crate) fn unsigned(what: &str, value: i64) -> Result<u64, DecodeError> {
    u64::try_from(value).map_err(|e| stored(what, &value.to_string(), e))
}

/// A count or id as a database integer.
pub(crate) fn signed(what: &'static str, value: u64) -> Result<i64, DecodeError> {
    i64::try_from(value).map_err(|e| DecodeError::Encode {
        what,
        reason: e.to_string(),
    })
}

/// An import summary's columns, as the database stores keep them.
pub(crate) struct SummaryColumns<T> {
    pub id: i64,
    pub file_name: String,
    pub started_at: T,
    pub finished_at: T,
    pub error: Option<String>,
    /// Rows read, added, updated, unchanged, failed.
    pub counts: [i64; 5],
}

impl<T> SummaryColumns<T> {
    /// The summary these columns hold, with timestamps converted by `time`.
    pub fn decode(
        self,
        time: impl Fn(T) -> Result<jiff::Timestamp, String>,
    ) -> Result<ImportSummary, DecodeError> {
        let id = self.id;
        let time = |t| time(t).map_err(|e| stored(format!("time of import {id}"), "", e));
        let [rows, added, updated, unchanged, failed] =
            self.counts.map(|n| unsigned("import count", n));
        Ok(ImportSummary {
            id: unsigned("import id", id)?,
            file_name: self.file_name,
            started_at: time(self.started_at)?,
            finished_at: time(self.finished_at)?,
            error: self.error,
            rows: rows?,
            added: added?,
            updated: updated?,
            unchanged: unchanged?,
            failed: failed?,
        })
    }
}

/// The whole record of an import: its summary and its report's JSON.
pub(crate) fn record_from(
    summary: ImportSummary,
    report_json: &str,
) -> Result<ImportRecord, DecodeError> {
    let report = serde_json::from_str(report_json)
        .map_err(|e| stored(format!("report of import {}", summary.id), report_json, e))?;
    Ok(ImportRecord {
        id: summary.id,
        file_name: summary.file_name,
        started_at: summary.started_at,
        finished_at: summary.finished_at,
        error: summary.error,
        report,
    })
}
