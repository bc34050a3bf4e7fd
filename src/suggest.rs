//! Mapping suggestions for a UI to confirm: per header, the field it
//! probably is, how sure the guess is, and why.

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::mapping::{ALIASES, ColumnMapping, Field, header_key};
use crate::phone::PhoneNormalizer;

/// Why a header was matched to a field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum Reason {
    /// The header is the field's own name or a catalog attribute's name
    /// (ignoring case, spaces, `_`, `-` and a leading `$`).
    Exact,
    /// The header is a known alias of the field (English, Hindi, or a column
    /// of a Google, Outlook, HubSpot or Zoho export).
    Alias,
    /// The header is a few edits away from a name or alias of the field.
    Fuzzy {
        /// The name or alias it is close to.
        near: String,
        /// How many single-character edits away.
        distance: usize,
    },
    /// The header means nothing known, but its sample values look like the field's.
    Values {
        /// What the values look like: `phone` or `email`.
        looks_like: String,
        /// The share of non-empty samples that do, from 0 to 1.
        share: f32,
    },
    /// Nothing matched: the column would be ignored.
    NoMatch,
}

/// The suggested field for one header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// The header as in the file.
    pub header: String,
    /// The suggested field ([`Field::Ignore`] when nothing matched).
    pub field: Field,
    /// How sure the suggestion is, from 0 (a guess) to 1 (certain).
    pub confidence: f32,
    /// Why.
    pub reason: Reason,
}

/// A name or alias the fuzzy match may compare against, with its field.
fn candidates(catalog: &Catalog) -> Vec<(String, Field)> {
    let canonical = [
        ("name", Field::Name),
        ("phone", Field::Phone),
        ("tags", Field::Tags),
        ("source", Field::Source),
        ("firstmessage", Field::FirstMessage),
    ];
    canonical
        .into_iter()
        .chain(ALIASES.iter().cloned())
        .map(|(k, f)| (k.to_owned(), f))
        .chain(
            catalog
                .attributes()
                .iter()
                .map(|a| (header_key(a.as_str()), Field::Attribute(a.to_string()))),
        )
        .collect()
}

impl ColumnMapping {
    /// Suggests a field for each header, from its name and, when given,
    /// sample values of its column (`samples[row][column]`).
    ///
    /// ```
    /// use contact_import::{Catalog, ColumnMapping, Field, suggest::Reason};
    /// let catalog = Catalog::new().with_attributes(["City", "email"]);
    /// let headers = ["Given Name", "Mobil No", "Cell", "E-mail 1 - Value", "नाम"];
    /// let samples = [vec!["Asha", "98765 43210", "x", "asha@example.in", "आशा"]];
    /// let s = ColumnMapping::suggest(&headers, &samples, &catalog);
    /// assert_eq!(s[0].field, Field::FirstName);
    /// assert_eq!(s[0].reason, Reason::Alias);
    /// assert_eq!(s[1].field, Field::Phone);
    /// assert!(matches!(s[1].reason, Reason::Fuzzy { distance: 1, .. }));
    /// assert_eq!(s[3].field, Field::Attribute("email".into()));
    /// assert_eq!(s[4].field, Field::Name);
    /// ```
    pub fn suggest<H, S>(headers: &[H], samples: &[Vec<S>], catalog: &Catalog) -> Vec<Suggestion>
    where
        H: AsRef<str>,
        S: AsRef<str>,
    {
        let candidates = candidates(catalog);
        headers
            .iter()
            .enumerate()
            .map(|(column, header)| {
                let values: Vec<&str> = samples
                    .iter()
                    .filter_map(|row| row.get(column))
                    .map(|v| v.as_ref().trim())
                    .filter(|v| !v.is_empty())
                    .collect();
                suggest_one(header.as_ref(), &values, catalog, &candidates)
            })
            .collect()
    }

    /// The mapping that takes every suggestion at least `min_confidence`
    /// sure; when two headers are suggested for one field, the surer one
    /// wins and the other is ignored.
    pub fn from_suggestions(suggestions: &[Suggestion], min_confidence: f32) -> ColumnMapping {
        let mut mapping = ColumnMapping::new();
        for (i, s) in suggestions.iter().enumerate() {
            let beaten = suggestions.iter().enumerate().any(|(j, other)| {
                j != i
                    && other.field == s.field
                    && (other.confidence > s.confidence
                        || (other.confidence == s.confidence && j < i))
            });
            let take = s.field != Field::Ignore && s.confidence >= min_confidence && !beaten;
            mapping = mapping.map(
                &s.header,
                if take { s.field.clone() } else { Field::Ignore },
            );
        }
        mapping
    }
}

fn suggest_one(
    header: &str,
    values: &[&str],
    catalog: &Catalog,
    candidates: &[(String, Field)],
) -> Suggestion {
    let suggestion = |field, confidence, reason| Suggestion {
        header: header.to_owned(),
        field,
        confidence,
        reason,
    };
    let key = header_key(header);
    let exact = candidates
        .iter()
        .take(5)
        .chain(candidates.iter().skip(5 + ALIASES.len()));
    if let Some((_, field)) = exact.clone().find(|(k, _)| *k == key) {
        return suggestion(field.clone(), 1.0, Reason::Exact);
    }
    if let Some((_, field)) = ALIASES.iter().find(|(k, _)| *k == key) {
        return suggestion(field.clone(), 0.95, Reason::Alias);
    }
    if let Some((near, field, distance)) = nearest(&key, candidates) {
        let confidence = 0.85 - 0.15 * distance as f32;
        return suggestion(field, confidence, Reason::Fuzzy { near, distance });
    }
    if let Some(by_values) = by_values(values, catalog) {
        return suggestion(by_values.0, by_values.1, by_values.2);
    }
    suggestion(Field::Ignore, 0.0, Reason::NoMatch)
}

/// The candidate closest to `key`, if it is close enough: one edit for
/// short keys, two for keys of eight characters or more.
fn nearest(key: &str, candidates: &[(String, Field)]) -> Option<(String, Field, usize)> {
    let limit = if key.chars().count() >= 8 { 2 } else { 1 };
    candidates
        .iter()
        .map(|(k, f)| (k, f, strsim::levenshtein(key, k)))
        .filter(|(_, _, d)| *d <= limit)
        .min_by_key(|(_, _, d)| *d)
        .map(|(k, f, d)| (k.clone(), f.clone(), d))
}

/// A field whose values the samples look like: phones, or emails when the
/// catalog has an attribute named like email.
fn by_values(values: &[&str], catalog: &Catalog) -> Option<(Field, f32, Reason)> {
    if values.is_empty() {
        return None;
    }
    let share = |pred: &dyn Fn(&str) -> bool| {
        values.iter().filter(|v| pred(v)).count() as f32 / values.len() as f32
    };
    let phones = PhoneNormalizer::default();
    let phone_share = share(&|v| phones.normalize(v).is_ok());
    if phone_share >= 0.8 {
        let reason = Reason::Values {
            looks_like: "phone".into(),
            share: phone_share,
        };
        return Some((Field::Phone, 0.5 + 0.3 * phone_share, reason));
    }
    let email_share = share(&looks_like_email);
    let email_attribute = catalog
        .attributes()
        .iter()
        .find(|a| header_key(a.as_str()).contains("mail"))?;
    (email_share >= 0.8).then(|| {
        let reason = Reason::Values {
            looks_like: "email".into(),
            share: email_share,
        };
        (
            Field::Attribute(email_attribute.to_string()),
            0.5 + 0.3 * email_share,
            reason,
        )
    })
}

fn looks_like_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !value.contains(char::is_whitespace)
}
