//! Segments: which contacts a broadcast, an export or a count is about.

use std::ops::{BitAnd, BitOr, Not};

use caseless::Caseless;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::contact::{Attribute, Contact, State, Status, Tag};

/// A condition on contacts: a segment of the contact book.
///
/// Conditions combine with [`and`](Filter::and) (`&`), [`or`](Filter::or)
/// (`|`) and `!`. The empty filter, [`Filter::everyone`] (also `Default`),
/// matches every contact.
///
/// A filter is plain data: it serializes with serde (externally tagged,
/// snake_case, e.g. `{"all": [{"any_tag": ["MBA"]}, {"source": "IMPORT"}]}`),
/// so a service can store segments and send them over the wire. A
/// [`ContactScan`](crate::ContactScan) store answers it; a database store
/// translates it into its query language, and must give exactly what
/// [`Filter::matches`] gives.
///
/// ```
/// use contact_import::{Contact, Filter, Phone, Status, Tag};
/// use jiff::Timestamp;
///
/// let now: Timestamp = "2024-06-01T12:00:00Z".parse()?;
/// let mut mohit = Contact::new(Phone::parse_e164("+919876543452").unwrap(), "Mohit Dua".into(), now);
/// mohit.tags.push(Tag::new("MBA"));
/// mohit.attributes.set("City".into(), "Delhi".into());
///
/// let segment = Filter::any_tag(["MBA", "Finance"])
///     & !Filter::any_tag(["Closed"])
///     & Filter::attribute_equals("City", "Delhi")
///     & Filter::name_contains("DUA");
/// assert!(segment.matches(&mohit));
/// assert!(!(segment & Filter::status(Status::Active, now)).matches(&mohit));
/// assert!(Filter::everyone().matches(&mohit));
/// # Ok::<(), jiff::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Filter {
    /// Every condition holds. No condition: everyone.
    All(Vec<Filter>),
    /// At least one condition holds. No condition: no one.
    Any(Vec<Filter>),
    /// The condition does not hold.
    Not(Box<Filter>),
    /// The contact has at least one of these tags (none listed: no one).
    AnyTag(Vec<Tag>),
    /// The contact has every one of these tags (none listed: everyone).
    AllTags(Vec<Tag>),
    /// The contact has none of these tags (none listed: everyone).
    NoTag(Vec<Tag>),
    /// The contact's first-message tag is this one.
    FirstMessage(Tag),
    /// The contact's source is exactly this text (`IMPORT`, `ORGANIC`, ...).
    Source(String),
    /// The attribute's value is exactly this text.
    AttributeEquals {
        /// The attribute.
        attribute: Attribute,
        /// The value, compared exactly.
        value: String,
    },
    /// The attribute has a value that is not empty.
    AttributeSet(Attribute),
    /// The attribute has no value, or an empty one.
    AttributeEmpty(Attribute),
    /// The name contains this text, ignoring case (Unicode case folding,
    /// after NFKC normalization: see [`fold_case`]). Empty text: everyone.
    NameContains(String),
    /// `created_at` is in the range.
    CreatedAt(TimeRange),
    /// `last_active` is in the range; a contact never active is in no range.
    LastActive(TimeRange),
    /// The contact's [`Status`] at a given instant.
    Status {
        /// ACTIVE or INACTIVE.
        status: Status,
        /// The `now` the status is computed at.
        at: Timestamp,
    },
    /// The contact's [`State`]; `None` matches contacts without a state.
    State(Option<State>),
    /// The contact's WhatsApp opt-in: `Some(true)` opted in, `Some(false)`
    /// opted out, `None` unknown (`{"opt_in": true}`, `{"opt_in": null}`).
    OptIn(Option<bool>),
}

impl Default for Filter {
    fn default() -> Filter {
        Filter::everyone()
    }
}

/// An interval of time, `from` included and `to` excluded; a missing bound
/// is open. Serializes as `{"from": "2024-06-01T00:00:00Z", "to": null}`.
///
/// ```
/// use contact_import::TimeRange;
/// use jiff::Timestamp;
/// let june: TimeRange = TimeRange::between("2024-06-01T00:00:00Z".parse()?, "2024-07-01T00:00:00Z".parse()?);
/// assert!(june.contains("2024-06-30T23:59:59Z".parse()?));
/// assert!(!june.contains("2024-07-01T00:00:00Z".parse()?));
/// assert!(TimeRange::default().contains(Timestamp::UNIX_EPOCH));
/// # Ok::<(), jiff::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeRange {
    /// The first instant in the range, if bounded below.
    #[serde(default)]
    pub from: Option<Timestamp>,
    /// The first instant after the range, if bounded above.
    #[serde(default)]
    pub to: Option<Timestamp>,
}

impl TimeRange {
    /// From `from` (included) to `to` (excluded).
    pub fn between(from: Timestamp, to: Timestamp) -> TimeRange {
        TimeRange {
            from: Some(from),
            to: Some(to),
        }
    }

    /// From `from` on, included.
    pub fn since(from: Timestamp) -> TimeRange {
        TimeRange {
            from: Some(from),
            to: None,
        }
    }

    /// Everything before `to`, excluded.
    pub fn before(to: Timestamp) -> TimeRange {
        TimeRange {
            from: None,
            to: Some(to),
        }
    }

    /// True when `time` is in the range.
    pub fn contains(&self, time: Timestamp) -> bool {
        self.from.is_none_or(|from| time >= from) && self.to.is_none_or(|to| time < to)
    }
}

impl Filter {
    /// Everyone: the empty filter.
    pub fn everyone() -> Filter {
        Filter::All(Vec::new())
    }

    /// True for the empty filter, which matches every contact.
    pub fn is_everyone(&self) -> bool {
        matches!(self, Filter::All(conditions) if conditions.iter().all(Filter::is_everyone))
    }

    /// Both `self` and `other` hold (also written `self & other`).
    pub fn and(self, other: Filter) -> Filter {
        match (self, other) {
            (Filter::All(mut a), Filter::All(b)) => {
                a.extend(b);
                Filter::All(a)
            }
            (Filter::All(mut a), other) => {
                a.push(other);
                Filter::All(a)
            }
            (this, Filter::All(mut b)) => {
                b.insert(0, this);
                Filter::All(b)
            }
            (this, other) => Filter::All(vec![this, other]),
        }
    }

    /// `self` or `other` holds (also written `self | other`).
    pub fn or(self, other: Filter) -> Filter {
        match (self, other) {
            (Filter::Any(mut a), Filter::Any(b)) => {
                a.extend(b);
                Filter::Any(a)
            }
            (Filter::Any(mut a), other) => {
                a.push(other);
                Filter::Any(a)
            }
            (this, Filter::Any(mut b)) => {
                b.insert(0, this);
                Filter::Any(b)
            }
            (this, other) => Filter::Any(vec![this, other]),
        }
    }

    /// Contacts with at least one of `tags`.
    pub fn any_tag<I: IntoIterator<Item = S>, S: AsRef<str>>(tags: I) -> Filter {
        Filter::AnyTag(tag_list(tags))
    }

    /// Contacts with every one of `tags`.
    pub fn all_tags<I: IntoIterator<Item = S>, S: AsRef<str>>(tags: I) -> Filter {
        Filter::AllTags(tag_list(tags))
    }

    /// Contacts with none of `tags`.
    pub fn no_tag<I: IntoIterator<Item = S>, S: AsRef<str>>(tags: I) -> Filter {
        Filter::NoTag(tag_list(tags))
    }

    /// Contacts whose first-message tag is `tag`.
    pub fn first_message(tag: &str) -> Filter {
        Filter::FirstMessage(Tag::new(tag))
    }

    /// Contacts whose source is exactly `source`.
    pub fn source(source: &str) -> Filter {
        Filter::Source(source.to_owned())
    }

    /// Contacts whose `attribute` is exactly `value`.
    pub fn attribute_equals(attribute: &str, value: &str) -> Filter {
        Filter::AttributeEquals {
            attribute: Attribute::new(attribute),
            value: value.to_owned(),
        }
    }

    /// Contacts with a non-empty value for `attribute`.
    pub fn attribute_set(attribute: &str) -> Filter {
        Filter::AttributeSet(Attribute::new(attribute))
    }

    /// Contacts without a value (or with an empty one) for `attribute`.
    pub fn attribute_empty(attribute: &str) -> Filter {
        Filter::AttributeEmpty(Attribute::new(attribute))
    }

    /// Contacts whose name contains `text`, ignoring case.
    pub fn name_contains(text: &str) -> Filter {
        Filter::NameContains(text.to_owned())
    }

    /// Contacts created in `range`.
    pub fn created(range: TimeRange) -> Filter {
        Filter::CreatedAt(range)
    }

    /// Contacts last active in `range`.
    pub fn last_active(range: TimeRange) -> Filter {
        Filter::LastActive(range)
    }

    /// Contacts whose status at `at` is `status`.
    pub fn status(status: Status, at: Timestamp) -> Filter {
        Filter::Status { status, at }
    }

    /// Contacts in `state` (`None`: contacts without a state).
    pub fn state(state: Option<State>) -> Filter {
        Filter::State(state)
    }

    /// Contacts whose opt-in is `opt_in` (`Some(true)`: opted in,
    /// `Some(false)`: opted out, `None`: unknown).
    pub fn opt_in(opt_in: Option<bool>) -> Filter {
        Filter::OptIn(opt_in)
    }

    /// Contacts who opted in: the only ones a WhatsApp broadcast may reach.
    pub fn opted_in() -> Filter {
        Filter::OptIn(Some(true))
    }

    /// True when `contact` is in the segment.
    pub fn matches(&self, contact: &Contact) -> bool {
        match self {
            Filter::All(conditions) => conditions.iter().all(|f| f.matches(contact)),
            Filter::Any(conditions) => conditions.iter().any(|f| f.matches(contact)),
            Filter::Not(condition) => !condition.matches(contact),
            Filter::AnyTag(tags) => tags.iter().any(|t| contact.tags.contains(t)),
            Filter::AllTags(tags) => tags.iter().all(|t| contact.tags.contains(t)),
            Filter::NoTag(tags) => !tags.iter().any(|t| contact.tags.contains(t)),
            Filter::FirstMessage(tag) => contact.first_message.as_ref() == Some(tag),
            Filter::Source(source) => contact.source.as_deref() == Some(source.as_str()),
            Filter::AttributeEquals { attribute, value } => {
                contact.attributes.get(attribute.as_str()) == Some(value.as_str())
            }
            Filter::AttributeSet(attribute) => attribute_is_set(contact, attribute),
            Filter::AttributeEmpty(attribute) => !attribute_is_set(contact, attribute),
            Filter::NameContains(text) => contains_ignoring_case(contact.name(), text),
            Filter::CreatedAt(range) => range.contains(contact.created_at),
            Filter::LastActive(range) => contact.last_active.is_some_and(|t| range.contains(t)),
            Filter::Status { status, at } => contact.status(*at) == *status,
            Filter::State(state) => contact.state == *state,
            Filter::OptIn(opt_in) => contact.opt_in == *opt_in,
        }
    }
}

impl BitAnd for Filter {
    type Output = Filter;

    fn bitand(self, other: Filter) -> Filter {
        self.and(other)
    }
}

impl BitOr for Filter {
    type Output = Filter;

    fn bitor(self, other: Filter) -> Filter {
        self.or(other)
    }
}

impl Not for Filter {
    type Output = Filter;

    fn not(self) -> Filter {
        match self {
            Filter::Not(inner) => *inner,
            other => Filter::Not(Box::new(other)),
        }
    }
}

fn tag_list<I: IntoIterator<Item = S>, S: AsRef<str>>(tags: I) -> Vec<Tag> {
    tags.into_iter().map(|t| Tag::new(t.as_ref())).collect()
}

fn attribute_is_set(contact: &Contact, attribute: &Attribute) -> bool {
    contact
        .attributes
        .get(attribute.as_str())
        .is_some_and(|v| !v.is_empty())
}

/// The text [`Filter::NameContains`] compares: NFKC-normalized and
/// Unicode case folded, so that `MOHIT`, `mohit` and `Ｍｏｈｉｔ` meet, as do
/// `STRASSE` and `straße`. Accents are kept: `e` does not match `é`.
///
/// A store that filters in SQL keeps this folded form of each name in a
/// column of its own and searches it for the folded needle, so that it
/// answers exactly as [`Filter::matches`].
///
/// ```
/// use contact_import::filter::fold_case;
/// assert_eq!(fold_case("Mohit DUA"), "mohit dua");
/// assert_eq!(fold_case("Straße"), "strasse");
/// assert_eq!(fold_case("ΣΑΣ"), fold_case("σας"));
/// ```
pub fn fold_case(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    text.chars()
        .nfd()
        .default_case_fold()
        .nfkd()
        .default_case_fold()
        .nfkc()
        .collect()
}

fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() && needle.is_ascii() {
        let needle = needle.as_bytes();
        return needle.is_empty()
            || haystack
                .as_bytes()
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle));
    }
    fold_case(haystack).contains(&fold_case(needle))
}
