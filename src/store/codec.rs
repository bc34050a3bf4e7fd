//! Contacts and import reports to database columns and back, for the
//! database stores: tags and attributes are JSON, as are whole reports.

use std::sync::Arc;

use crate::contact::{Attribute, Attributes, Contact, State, Tag, Tags};
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
    /// The columns of `contact`, with timestamps converted by `time`
    /// (`PostgresStore` encodes its arrays from the contacts themselves).
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
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
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub fn decode(
        self,
        time: impl Fn(T) -> Result<jiff::Timestamp, String>,
    ) -> Result<Contact, DecodeError> {
        self.decode_with(&mut Decoder::default(), time)
    }

    /// [`ContactColumns::decode`], sharing `decoder`'s tags and attribute
    /// names with the rows decoded before (a scan decodes every row).
    pub fn decode_with(
        self,
        decoder: &mut Decoder,
        time: impl Fn(T) -> Result<jiff::Timestamp, String>,
    ) -> Result<Contact, DecodeError> {
        let phone = Phone::parse_e164(&self.phone)
            .ok_or_else(|| stored("phone", &self.phone, "not an E.164 number"))?;
        let of = |column: &str| format!("{column} of {phone}");
        let created_at = time(self.created_at).map_err(|e| stored(of("created_at"), "", e))?;
        let mut contact = Contact::new(phone, self.name, created_at);
        contact.tags = match decoder.tags(&self.tags) {
            Some(tags) => tags,
            None => {
                let tags: Vec<String> = serde_json::from_str(&self.tags)
                    .map_err(|e| stored(of("tags"), &self.tags, e))?;
                tags.iter().map(|t| Tag::new(t)).collect()
            }
        };
        contact.source = self.source;
        contact.first_message = self.first_message.as_deref().map(|t| decoder.tag(t));
        contact.attributes = match decoder.attributes(&self.attributes) {
            Some(attributes) => attributes,
            None => serde_json::from_str::<Attributes>(&self.attributes)
                .map_err(|e| stored(of("attributes"), &self.attributes, e))?,
        };
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

/// Reads back the JSON the stores write for tags (`["MBA","Finance"]`) and
/// attributes (`{"City":"Delhi"}`: names sorted, all different) without
/// serde: strings without escapes, no whitespace. Anything else is `None`,
/// for serde to read (or to explain). Tags and the last row's attribute
/// names are shared with the rows after, as an import shares them.
#[derive(Default)]
pub(crate) struct Decoder {
    tags: Vec<Tag>,
    names: Option<Arc<[Attribute]>>,
}

/// How many different tags a decoder keeps to share.
const SHARED_TAGS: usize = 64;

impl Decoder {
    /// The tag named `name`, shared with earlier rows when it can be.
    fn tag(&mut self, name: &str) -> Tag {
        if let Some(tag) = self.tags.iter().find(|t| t.as_str() == name) {
            return tag.clone();
        }
        let tag = Tag::new(name);
        if self.tags.len() < SHARED_TAGS {
            self.tags.push(tag.clone());
        }
        tag
    }

    /// A JSON array of plain strings.
    fn tags(&mut self, json: &str) -> Option<Tags> {
        let mut rest = json.strip_prefix('[')?;
        let mut tags = Tags::new();
        if rest == "]" {
            return Some(tags);
        }
        loop {
            let (name, after) = plain_string(rest)?;
            tags.push(self.tag(name));
            match after.as_bytes().first()? {
                b']' if after.len() == 1 => return Some(tags),
                b',' => rest = &after[1..],
                _ => return None,
            }
        }
    }

    /// A JSON object of plain strings, names sorted and all different.
    fn attributes(&mut self, json: &str) -> Option<Attributes> {
        let mut rest = json.strip_prefix('{')?;
        if rest == "}" {
            return Some(Attributes::new());
        }
        let mut pairs: smallvec::SmallVec<[(&str, &str); 8]> = smallvec::SmallVec::new();
        loop {
            let (name, after) = plain_string(rest)?;
            let (value, after) = plain_string(after.strip_prefix(':')?)?;
            if pairs.last().is_some_and(|(last, _)| *last >= name) {
                return None;
            }
            pairs.push((name, value));
            match after.as_bytes().first()? {
                b'}' if after.len() == 1 => break,
                b',' => rest = &after[1..],
                _ => return None,
            }
        }
        let same = self.names.as_ref().is_some_and(|names| {
            names.len() == pairs.len()
                && names.iter().zip(&pairs).all(|(n, (p, _))| n.as_str() == *p)
        });
        if !same {
            self.names = Some(pairs.iter().map(|(n, _)| Attribute::new(n)).collect());
        }
        let names = self.names.clone()?;
        Some(Attributes::with_names(
            names,
            pairs.iter().map(|(_, value)| *value),
        ))
    }
}

/// The text of the JSON string at the start of `json` and what follows it,
/// if the string has no escape and no control character.
fn plain_string(json: &str) -> Option<(&str, &str)> {
    let rest = json.strip_prefix('"')?;
    let end = rest
        .bytes()
        .position(|b| b == b'"' || b == b'\\' || b < 0x20)?;
    (rest.as_bytes()[end] == b'"').then(|| (&rest[..end], &rest[end + 1..]))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path reads what serde reads, and leaves the rest to it.
    #[test]
    fn decoder_agrees_with_serde() {
        let mut decoder = Decoder::default();
        for json in [
            r#"[]"#,
            r#"["MBA"]"#,
            r#"["MBA","Finance","MBA"]"#,
            r#"["é, ]"]"#,
        ] {
            let serde: Vec<String> = serde_json::from_str(json).unwrap();
            let fast = decoder.tags(json).expect("the store's own JSON");
            assert_eq!(
                fast.iter().map(Tag::as_str).collect::<Vec<_>>(),
                serde,
                "{json}"
            );
        }
        for json in [
            r#"{}"#,
            r#"{"City":"Delhi"}"#,
            r#"{"City":"Pune","email":"a@b.in"}"#,
        ] {
            let serde: Attributes = serde_json::from_str(json).unwrap();
            assert_eq!(decoder.attributes(json), Some(serde), "{json}");
        }
        for json in [
            r#"["a\"b"]"#,
            r#"[ "a"]"#,
            r#"["a",]"#,
            r#"["a"]x"#,
            "[\"a\u{1}\"]",
            r#"[1]"#,
        ] {
            assert!(decoder.tags(json).is_none(), "{json}");
        }
        for json in [
            r#"{"b":"1","a":"2"}"#,
            r#"{"a":"1","a":"2"}"#,
            r#"{"a":"\n"}"#,
            r#"{"a":1}"#,
        ] {
            assert!(decoder.attributes(json).is_none(), "{json}");
        }
    }

    /// Rows the fast path does not read decode through serde, or fail
    /// saying which column of which contact.
    #[test]
    fn decode_falls_back_to_serde() {
        let columns = |tags: &str, attributes: &str| ContactColumns {
            phone: "+919876543452".to_owned(),
            name: "Mohit Dua".to_owned(),
            tags: tags.to_owned(),
            source: None,
            first_message: None,
            attributes: attributes.to_owned(),
            created_at: 0i64,
            last_active: None,
            state: None,
            opt_in: None,
        };
        let time = |t: i64| jiff::Timestamp::from_second(t).map_err(|e| e.to_string());
        let contact = columns(r#"[ "a\"b" ]"#, r#"{ "b": "2", "a": "1\n" }"#)
            .decode(time)
            .unwrap();
        assert_eq!(
            contact.tags.iter().map(Tag::as_str).collect::<Vec<_>>(),
            ["a\"b"]
        );
        assert_eq!(contact.attributes.get("a"), Some("1\n"));
        assert_eq!(contact.attributes.get("b"), Some("2"));
        let error = columns("[1]", "{}").decode(time).unwrap_err().to_string();
        assert!(error.contains("tags of +919876543452"), "{error}");
    }
}
