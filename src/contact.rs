//! The contact record and the small value types it is made of.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use compact_str::CompactString;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;

use crate::phone::{NumberType, Phone};

/// A tag that exists in the [`Catalog`](crate::Catalog), such as `MBA`.
///
/// Tags are shared (`Arc<str>`) so that assigning one to 200,000 contacts
/// clones a pointer, not a string.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(Arc<str>);

impl Tag {
    /// Creates a tag with this exact name.
    pub fn new(name: &str) -> Tag {
        Tag(Arc::from(name))
    }

    /// The tag's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name of a custom attribute that exists in the [`Catalog`](crate::Catalog),
/// such as `City` or `email`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Attribute(Arc<str>);

impl Attribute {
    /// Creates an attribute name.
    pub fn new(name: &str) -> Attribute {
        Attribute(Arc::from(name))
    }

    /// The attribute's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `==`, answered without comparing the text for the names an import
    /// shares (one allocation).
    pub(crate) fn is(&self, other: &Attribute) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self == other
    }
}

macro_rules! string_like {
    ($ty:ident) => {
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl From<&str> for $ty {
            fn from(name: &str) -> $ty {
                $ty::new(name)
            }
        }
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
        impl std::borrow::Borrow<str> for $ty {
            fn borrow(&self) -> &str {
                self.as_str()
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok($ty::new(&name))
            }
        }
    };
}
string_like!(Tag);
string_like!(Attribute);

/// The tags of one contact, in the order they were first assigned.
///
/// Read it as a slice (`Tags` derefs to `[Tag]`: `iter`, `len`, `contains`,
/// `first`, ...). Its serde form is a list of names, `["MBA", "Finance"]`.
///
/// ```
/// use contact_import::{Tag, Tags};
/// let mut tags: Tags = ["MBA", "Finance"].into_iter().map(Tag::new).collect();
/// tags.push(Tag::new("Marketing"));
/// assert_eq!(tags.len(), 3);
/// assert!(tags.contains(&Tag::new("Finance")));
/// assert_eq!(tags.iter().map(Tag::as_str).collect::<Vec<_>>(), ["MBA", "Finance", "Marketing"]);
/// assert_eq!(serde_json::to_string(&tags).unwrap(), r#"["MBA","Finance","Marketing"]"#);
/// ```
// Two tags are held inline, more on the heap: most contacts have two or
// fewer, and every inline slot costs each contact of the book 16 bytes. A
// newtype, so that the inline vector stays a detail (DESIGN.md).
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tags(SmallVec<[Tag; 2]>);

impl Tags {
    /// No tags.
    pub fn new() -> Tags {
        Tags(SmallVec::new())
    }

    /// Adds `tag` at the end. It does not check whether the contact
    /// already has it (imports do: see [`contains`](slice::contains)).
    pub fn push(&mut self, tag: Tag) {
        self.0.push(tag);
    }

    /// Inserts `tag` at `index`, shifting the tags after it.
    ///
    /// Panics when `index > len()`, as [`Vec::insert`] does.
    pub fn insert(&mut self, index: usize, tag: Tag) {
        self.0.insert(index, tag);
    }

    /// Removes and returns the tag at `index`, keeping the others in order.
    ///
    /// Panics when `index >= len()`, as [`Vec::remove`] does.
    pub fn remove(&mut self, index: usize) -> Tag {
        self.0.remove(index)
    }

    /// Keeps only the tags for which `keep` returns true, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&Tag) -> bool) {
        self.0.retain(|tag| keep(tag));
    }

    /// Removes every tag.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// The tags as a slice.
    pub fn as_slice(&self) -> &[Tag] {
        &self.0
    }
}

impl fmt::Debug for Tags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl std::ops::Deref for Tags {
    type Target = [Tag];

    fn deref(&self) -> &[Tag] {
        &self.0
    }
}

impl std::ops::DerefMut for Tags {
    fn deref_mut(&mut self) -> &mut [Tag] {
        &mut self.0
    }
}

impl AsRef<[Tag]> for Tags {
    fn as_ref(&self) -> &[Tag] {
        &self.0
    }
}

impl From<Vec<Tag>> for Tags {
    fn from(tags: Vec<Tag>) -> Tags {
        Tags(SmallVec::from_vec(tags))
    }
}

impl<const N: usize> From<[Tag; N]> for Tags {
    fn from(tags: [Tag; N]) -> Tags {
        tags.into_iter().collect()
    }
}

impl From<Tags> for Vec<Tag> {
    fn from(tags: Tags) -> Vec<Tag> {
        tags.0.into_vec()
    }
}

impl FromIterator<Tag> for Tags {
    fn from_iter<I: IntoIterator<Item = Tag>>(iter: I) -> Tags {
        Tags(iter.into_iter().collect())
    }
}

impl Extend<Tag> for Tags {
    fn extend<I: IntoIterator<Item = Tag>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl IntoIterator for Tags {
    type Item = Tag;
    type IntoIter = TagsIntoIter;

    fn into_iter(self) -> TagsIntoIter {
        TagsIntoIter(self.0.into_iter())
    }
}

/// The tags of a [`Tags`], by value and in order (`Tags::into_iter`).
pub struct TagsIntoIter(smallvec::IntoIter<[Tag; 2]>);

impl Iterator for TagsIntoIter {
    type Item = Tag;

    fn next(&mut self) -> Option<Tag> {
        self.0.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for TagsIntoIter {
    fn next_back(&mut self) -> Option<Tag> {
        self.0.next_back()
    }
}

impl ExactSizeIterator for TagsIntoIter {}

impl std::iter::FusedIterator for TagsIntoIter {}

impl fmt::Debug for TagsIntoIter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.as_slice()).finish()
    }
}

impl<'a> IntoIterator for &'a Tags {
    type Item = &'a Tag;
    type IntoIter = std::slice::Iter<'a, Tag>;

    fn into_iter(self) -> std::slice::Iter<'a, Tag> {
        self.0.iter()
    }
}

impl PartialEq<[Tag]> for Tags {
    fn eq(&self, other: &[Tag]) -> bool {
        self.as_slice() == other
    }
}

/// A contact's custom attribute values, kept sorted by attribute name so that
/// two contacts with the same values compare equal whatever order they were set in.
///
/// Serializes as a JSON object: `{"City": "Delhi", "email": "a@b.in"}`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    // The sorted names, shared: an import gives every contact with the same
    // set of attributes the same list. The values are back to back in
    // `text`, each ending at its entry of `ends`. A contact book of 200,000
    // would otherwise spend tens of MB on a string and a name list apiece.
    names: Option<Arc<[Attribute]>>,
    // `u32`, not `usize`: 8 bytes less on every contact. One contact's
    // values would need 4 GiB together to overflow it (see `with_names`).
    ends: SmallVec<[u32; 3]>,
    text: Box<str>,
}

impl Attributes {
    /// No attributes.
    pub fn new() -> Attributes {
        Attributes::default()
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.position(name).ok().map(|i| self.value(i))
    }

    /// Sets `name` to `value`, replacing any earlier value.
    pub fn set(&mut self, name: Attribute, value: String) {
        self.update([(name, Some(value))]);
    }

    /// Removes `name`, returning its value if it was set.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let i = self.position(name).ok()?;
        let value = self.value(i).to_owned();
        let attribute = self.names().get(i)?.clone();
        self.update([(attribute, None)]);
        Some(value)
    }

    /// Sets (`Some`) or removes (`None`) several attributes at once; the
    /// last change of a name wins. Returns whether anything changed.
    pub(crate) fn update(
        &mut self,
        changes: impl IntoIterator<Item = (Attribute, Option<String>)>,
    ) -> bool {
        let mut entries: SmallVec<[(Attribute, Cow<'_, str>); 8]> = self
            .iter()
            .map(|(name, value)| (name.clone(), Cow::Borrowed(value)))
            .collect();
        for (name, change) in changes {
            let at = entries.binary_search_by(|(k, _)| k.as_str().cmp(name.as_str()));
            match (at, change) {
                (Ok(i), Some(value)) => entries[i].1 = Cow::Owned(value),
                (Err(i), Some(value)) => entries.insert(i, (name, Cow::Owned(value))),
                (Ok(i), None) => {
                    entries.remove(i);
                }
                (Err(_), None) => {}
            }
        }
        let names: Arc<[Attribute]> = entries.iter().map(|(name, _)| name.clone()).collect();
        let values = entries.iter().map(|(_, value)| value.as_ref());
        let updated = Attributes::with_names(names, values);
        drop(entries);
        let changed = updated != *self;
        *self = updated;
        changed
    }

    /// Attributes with these names (sorted, all different) and their values
    /// in the same order. An import passes the same `names` for every
    /// contact with the same set of attributes.
    pub(crate) fn with_names<'v>(
        names: Arc<[Attribute]>,
        values: impl Iterator<Item = &'v str> + Clone,
    ) -> Attributes {
        if names.is_empty() {
            return Attributes::new();
        }
        debug_assert!(names.is_sorted_by(|a, b| a.as_str() < b.as_str()));
        let mut text = String::with_capacity(values.clone().map(str::len).sum());
        let mut ends = SmallVec::with_capacity(names.len());
        for value in values {
            text.push_str(value);
            // Past 4 GiB the last values read as empty rather than panic.
            ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
        }
        Attributes {
            names: Some(names),
            ends,
            text: text.into_boxed_str(),
        }
    }

    /// The sorted names of the attributes set.
    pub(crate) fn names(&self) -> &[Attribute] {
        self.names.as_deref().unwrap_or_default()
    }

    /// The attributes as `(name, value)` pairs, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&Attribute, &str)> {
        self.names()
            .iter()
            .enumerate()
            .map(|(i, name)| (name, self.value(i)))
    }

    /// How many attributes are set.
    pub fn len(&self) -> usize {
        self.names().len()
    }

    /// True when no attribute is set.
    pub fn is_empty(&self) -> bool {
        self.names().is_empty()
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.names().binary_search_by(|k| k.as_str().cmp(name))
    }

    fn value(&self, i: usize) -> &str {
        let start = i.checked_sub(1).and_then(|p| self.ends.get(p)).copied();
        let end = self.ends.get(i).copied().unwrap_or(0);
        self.text
            .get(start.unwrap_or(0) as usize..end as usize)
            .unwrap_or("")
    }
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Into<Attribute>, V: Into<String>> FromIterator<(K, V)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Attributes {
        let mut attributes = Attributes::new();
        for (k, v) in iter {
            attributes.set(k.into(), v.into());
        }
        attributes
    }
}

impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Attributes, D::Error> {
        let map = std::collections::BTreeMap::<String, String>::deserialize(d)?;
        Ok(map
            .into_iter()
            .map(|(k, v)| (Attribute::new(&k), v))
            .collect())
    }
}

/// Where a conversation with the contact stands, as set by the messaging
/// service (never by an import, which keeps whatever is there).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum State {
    /// An agent took over the chat.
    Intervened,
    /// The user is waiting for an agent.
    Requesting,
    /// The agent resolved the query and closed the ticket.
    Closed,
    /// A chatbot is handling the chat.
    #[serde(rename = "Handled by Assistant")]
    HandledByAssistant,
}

impl State {
    /// The state's name as the dashboard shows it, e.g. `Handled by Assistant`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Intervened => "Intervened",
            State::Requesting => "Requesting",
            State::Closed => "Closed",
            State::HandledByAssistant => "Handled by Assistant",
        }
    }

    /// Parses a state from its name, ignoring case and surrounding spaces.
    pub fn parse(text: &str) -> Option<State> {
        [
            State::Intervened,
            State::Requesting,
            State::Closed,
            State::HandledByAssistant,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a contact is in its 24-hour window: ACTIVE when its last
/// activity is less than 24 hours before a given `now`, INACTIVE otherwise
/// (and when it has no activity at all).
///
/// A status is computed, never stored: it changes as time passes. The crate
/// never reads a clock; the caller passes `now`. A `last_active` later than
/// `now` (two machines whose clocks differ) counts as ACTIVE.
///
/// ```
/// use contact_import::Status;
/// use jiff::{SignedDuration, Timestamp};
///
/// let now: Timestamp = "2024-06-01T12:00:00Z".parse()?;
/// let an_hour_ago = now - SignedDuration::from_hours(1);
/// let two_days_ago = now - SignedDuration::from_hours(48);
/// assert_eq!(Status::at(Some(an_hour_ago), now), Status::Active);
/// assert_eq!(Status::at(Some(two_days_ago), now), Status::Inactive);
/// assert_eq!(Status::at(None, now), Status::Inactive);
/// assert_eq!(Status::Active.to_string(), "ACTIVE");
/// # Ok::<(), jiff::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// The last activity is less than 24 hours old.
    Active,
    /// No activity in the last 24 hours, or none at all.
    Inactive,
}

impl Status {
    /// How long a contact stays ACTIVE after its last activity.
    pub const WINDOW: SignedDuration = SignedDuration::from_hours(24);

    /// The status at `now` of a contact last active at `last_active`.
    pub fn at(last_active: Option<Timestamp>, now: Timestamp) -> Status {
        match last_active {
            Some(last) if last > Status::active_since(now) => Status::Active,
            _ => Status::Inactive,
        }
    }

    /// The instant after which an activity makes a contact ACTIVE at `now`:
    /// `now` minus 24 hours. A store that filters in SQL compares
    /// `last_active > active_since(now)`, the exact rule of [`Status::at`].
    pub fn active_since(now: Timestamp) -> Timestamp {
        now.saturating_sub(Status::WINDOW).unwrap_or(Timestamp::MIN)
    }

    /// `ACTIVE` or `INACTIVE`, as the dashboard and exports show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "ACTIVE",
            Status::Inactive => "INACTIVE",
        }
    }

    /// Parses `ACTIVE` or `INACTIVE`, ignoring case and surrounding spaces.
    pub fn parse(text: &str) -> Option<Status> {
        [Status::Active, Status::Inactive]
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One contact of the contact book, keyed by its E.164 phone number.
///
/// `first_name` and `last_name` are not stored: they are derived from the
/// normalized `name` (first word, and the remaining words), which is what the
/// template variables `$FirstName` and `$LastName` show. `number_type` is
/// derived from the phone in the same way.
///
/// # Serde form
///
/// ```
/// use contact_import::{Contact, Phone};
/// let mut contact = Contact::new(Phone::parse_e164("+919876543452").unwrap(), "Mohit  Dua".into(), jiff::Timestamp::UNIX_EPOCH);
/// contact.attributes.set("City".into(), "Delhi".into());
/// let json = serde_json::to_value(&contact).unwrap();
/// assert_eq!(json["phone"], "+919876543452");
/// assert_eq!(json["name"], "Mohit Dua");
/// assert_eq!(json["first_name"], "Mohit");
/// assert_eq!(json["last_name"], "Dua");
/// assert_eq!(json["number_type"], "mobile");
/// assert_eq!(json["attributes"]["City"], "Delhi");
/// assert_eq!(json["last_active"], serde_json::Value::Null);
/// assert_eq!(json["opt_in"], serde_json::Value::Null); // unknown
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    /// The unique key: the phone number in E.164 form, e.g. `+919876543452`.
    pub phone: Phone,
    /// The full name, trimmed, with inner whitespace collapsed to one space;
    /// inline up to 24 bytes, so that most contacts allocate nothing for it.
    name: CompactString,
    /// Tags from the catalog, in the order they were assigned.
    pub tags: Tags,
    /// Where the contact came from: `IMPORT`, `ORGANIC`, `API` or free text.
    pub source: Option<String>,
    /// The single tag assigned from the contact's first message.
    pub first_message: Option<Tag>,
    /// Custom attribute values.
    pub attributes: Attributes,
    /// When the contact was first created in the contact book.
    pub created_at: Timestamp,
    /// When the contact last sent a message; set by the messaging service.
    pub last_active: Option<Timestamp>,
    /// The conversation's state; set by the messaging service.
    pub state: Option<State>,
    /// Whether the contact agreed to WhatsApp messages: `Some(true)` opted
    /// in, `Some(false)` opted out, `None` unknown. An import sets it from
    /// an opt-in column, but never turns an opt-out into an opt-in unless
    /// its [`UpdatePolicy::opt_in`](crate::UpdatePolicy::opt_in) says so.
    pub opt_in: Option<bool>,
}

impl Contact {
    /// A contact with only a phone, a name and a creation time.
    ///
    /// The name is normalized (trimmed, inner whitespace collapsed).
    pub fn new(phone: Phone, name: String, created_at: Timestamp) -> Contact {
        Contact {
            phone,
            name: normalize_name(&name),
            tags: Tags::new(),
            source: None,
            first_message: None,
            attributes: Attributes::new(),
            created_at,
            last_active: None,
            state: None,
            opt_in: None,
        }
    }

    /// The full name (`$Name`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Replaces the name, normalizing it the way an import does.
    pub fn set_name(&mut self, name: &str) {
        self.name = normalize_name(name);
    }

    /// Replaces the name with one [`normalize_name`] already normalized.
    pub(crate) fn set_normalized_name(&mut self, name: CompactString) {
        self.name = name;
    }

    /// Takes the name out, leaving it empty.
    pub(crate) fn take_name(&mut self) -> CompactString {
        std::mem::take(&mut self.name)
    }

    /// The type of the contact's number (mobile, fixed line, toll free,
    /// ...), derived from the phone by libphonenumber's metadata
    /// ([`Phone::number_type`]).
    pub fn number_type(&self) -> NumberType {
        self.phone.number_type()
    }

    /// The first word of the name (`$FirstName`).
    pub fn first_name(&self) -> &str {
        split_name(&self.name).0
    }

    /// The words of the name after the first, joined by one space
    /// (`$LastName`); empty for a one-word name.
    pub fn last_name(&self) -> &str {
        split_name(&self.name).1
    }

    /// The contact's [`Status`] at `now`: ACTIVE when it was last active less
    /// than 24 hours before `now`.
    pub fn status(&self, now: Timestamp) -> Status {
        Status::at(self.last_active, now)
    }

    /// True when the contact has this tag.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t.as_str() == tag)
    }

    /// True when the contact opted in to WhatsApp messages (`opt_in` is
    /// `Some(true)`); false when it opted out or nobody knows.
    pub fn is_opted_in(&self) -> bool {
        self.opt_in == Some(true)
    }
}

/// What an opt-in cell says: `yes`/`no`, `true`/`false`, `1`/`0`,
/// `opted in`/`opted out`, `subscribed`/`unsubscribed`, ignoring case,
/// spaces, `-` and `_` (so `Opted-In` too); `None` for anything else.
pub(crate) fn parse_opt_in(text: &str) -> Option<bool> {
    const YES: [&str; 5] = ["yes", "true", "1", "optedin", "subscribed"];
    const NO: [&str; 5] = ["no", "false", "0", "optedout", "unsubscribed"];
    let mut key = [0u8; 12];
    let mut len = 0;
    for b in text.bytes().filter(|b| !matches!(b, b' ' | b'-' | b'_')) {
        *key.get_mut(len)? = b.to_ascii_lowercase();
        len += 1;
    }
    let key = std::str::from_utf8(key.get(..len)?).ok()?;
    if YES.contains(&key) {
        Some(true)
    } else if NO.contains(&key) {
        Some(false)
    } else {
        None
    }
}

/// Trims a name, collapses each run of inner whitespace to one space, and
/// drops zero-width spaces, word joiners and byte order marks (but not the
/// zero-width joiners that Indic scripts and emoji need).
pub(crate) fn normalize_name(raw: &str) -> CompactString {
    if is_plain_ascii_name(raw) || is_normalized_name(raw) {
        return CompactString::new(raw);
    }
    let mut out = CompactString::default();
    let cleaned: std::borrow::Cow<'_, str> = if raw.contains(invisible) {
        raw.replace(invisible, "").into()
    } else {
        raw.into()
    };
    for word in cleaned.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Printable ASCII words separated by single spaces: already normalized
/// (most names; checked in one pass over the bytes).
fn is_plain_ascii_name(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let mut after_space = true;
    for &b in bytes {
        match b {
            b' ' if after_space => return false,
            b' ' => after_space = true,
            b'!'..=b'~' => after_space = false,
            _ => return false,
        }
    }
    !after_space || bytes.is_empty()
}

/// Characters a name loses: zero-width space, word joiner, byte order mark.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}')
}

/// Words separated by single spaces, with no other whitespace and no
/// invisible character: what [`normalize_name`] would return unchanged.
fn is_normalized_name(raw: &str) -> bool {
    let mut after_space = true;
    for c in raw.chars() {
        match c {
            ' ' if after_space => return false,
            ' ' => after_space = true,
            c if c.is_whitespace() || invisible(c) => return false,
            _ => after_space = false,
        }
    }
    !after_space || raw.is_empty()
}

fn split_name(name: &str) -> (&str, &str) {
    name.split_once(' ').unwrap_or((name, ""))
}

#[derive(Serialize, Deserialize)]
struct ContactForm {
    phone: Phone,
    name: String,
    #[serde(default, skip_deserializing)]
    first_name: String,
    #[serde(default, skip_deserializing)]
    last_name: String,
    #[serde(default, skip_deserializing)]
    number_type: Option<NumberType>,
    #[serde(default)]
    tags: Tags,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    first_message: Option<Tag>,
    #[serde(default)]
    attributes: Attributes,
    created_at: Timestamp,
    #[serde(default)]
    last_active: Option<Timestamp>,
    #[serde(default)]
    state: Option<State>,
    #[serde(default)]
    opt_in: Option<bool>,
}

impl Serialize for Contact {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ContactForm {
            phone: self.phone,
            name: self.name.to_string(),
            first_name: self.first_name().to_owned(),
            last_name: self.last_name().to_owned(),
            number_type: Some(self.number_type()),
            tags: self.tags.clone(),
            source: self.source.clone(),
            first_message: self.first_message.clone(),
            attributes: self.attributes.clone(),
            created_at: self.created_at,
            last_active: self.last_active,
            state: self.state,
            opt_in: self.opt_in,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Contact {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Contact, D::Error> {
        let form = ContactForm::deserialize(d)?;
        Ok(Contact {
            phone: form.phone,
            name: normalize_name(&form.name),
            tags: form.tags,
            source: form.source,
            first_message: form.first_message,
            attributes: form.attributes,
            created_at: form.created_at,
            last_active: form.last_active,
            state: form.state,
            opt_in: form.opt_in,
        })
    }
}
