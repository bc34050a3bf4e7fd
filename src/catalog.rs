//! The catalog: the tags and custom attributes that exist before an import.

/// Tag names are looked up once or more a row: a fast seeded hasher.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::contact::{Attribute, Tag};

/// The tags and custom attributes that exist in the contact book.
///
/// An import assigns only tags that are in the catalog (matched exactly, as
/// the product guide says: "word-to-word"), and maps only columns that name a
/// catalog attribute. Order is kept: it is the column order of an export.
///
/// ```
/// use contact_import::Catalog;
/// let catalog = Catalog::new()
///     .with_tags(["MBA", "Finance", "Marketing"])
///     .with_attributes(["City", "email", "State"]);
/// assert_eq!(catalog.tag("MBA").unwrap().as_str(), "MBA");
/// assert!(catalog.tag("mba").is_none());
/// assert_eq!(catalog.suggest_tag("mba").unwrap().as_str(), "MBA");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalog {
    tags: Vec<Tag>,
    attributes: Vec<Attribute>,
    tag_index: HashMap<Tag, usize>,
    loose_tags: HashMap<String, usize>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Catalog {
        Catalog::default()
    }

    /// Adds tags (names are trimmed; blanks and repeats are skipped).
    pub fn with_tags<I, S>(mut self, tags: I) -> Catalog
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for tag in tags {
            self.add_tag(tag.as_ref());
        }
        self
    }

    /// Adds custom attributes (names are trimmed; blanks and repeats are skipped).
    pub fn with_attributes<I, S>(mut self, attributes: I) -> Catalog
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for attribute in attributes {
            self.add_attribute(attribute.as_ref());
        }
        self
    }

    /// Adds one tag; returns false if it was blank or already there.
    pub fn add_tag(&mut self, name: &str) -> bool {
        let name = name.trim();
        if name.is_empty() || self.tag(name).is_some() {
            return false;
        }
        let tag = Tag::new(name);
        self.tag_index.insert(tag.clone(), self.tags.len());
        self.loose_tags
            .entry(loose_key(name))
            .or_insert(self.tags.len());
        self.tags.push(tag);
        true
    }

    /// Adds one custom attribute; returns false if it was blank or already there.
    pub fn add_attribute(&mut self, name: &str) -> bool {
        let name = name.trim();
        if name.is_empty() || self.attribute(name).is_some() {
            return false;
        }
        self.attributes.push(Attribute::new(name));
        true
    }

    /// The tags, in the order they were added.
    pub fn tags(&self) -> &[Tag] {
        &self.tags
    }

    /// The custom attributes, in the order they were added.
    pub fn attributes(&self) -> &[Attribute] {
        &self.attributes
    }

    /// The tag with exactly this name.
    pub fn tag(&self, name: &str) -> Option<&Tag> {
        self.tag_index.get(name).map(|&i| &self.tags[i])
    }

    /// The attribute with exactly this name.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.as_str() == name)
    }

    /// A tag whose name differs from `name` only in case or spacing: what the
    /// user probably meant when `name` itself is not in the catalog.
    pub fn suggest_tag(&self, name: &str) -> Option<&Tag> {
        self.loose_tags
            .get(&loose_key(name))
            .map(|&i| &self.tags[i])
    }

    /// The same tags in new allocations of their own, without the
    /// attributes: for one normalizing thread. Cloning a tag counts a
    /// reference in its allocation, and two threads counting on the same
    /// tags pass those counts' cache lines back and forth a row at a time.
    pub(crate) fn own_tags(&self) -> Catalog {
        Catalog::new().with_tags(self.tags.iter().map(Tag::as_str))
    }

    /// Adds every tag and attribute of `other` that is not here yet.
    pub fn merge(&mut self, other: &Catalog) {
        for tag in &other.tags {
            self.add_tag(tag.as_str());
        }
        for attribute in &other.attributes {
            self.add_attribute(attribute.as_str());
        }
    }
}

/// Lowercase with all whitespace removed: `" Fin ance"` and `"finance"` meet.
fn loose_key(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

#[derive(Serialize, Deserialize)]
struct CatalogForm {
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    attributes: Vec<String>,
}

impl Serialize for Catalog {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        CatalogForm {
            tags: self.tags.iter().map(|t| t.to_string()).collect(),
            attributes: self.attributes.iter().map(|a| a.to_string()).collect(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Catalog {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Catalog, D::Error> {
        let form = CatalogForm::deserialize(d)?;
        Ok(Catalog::new()
            .with_tags(form.tags)
            .with_attributes(form.attributes))
    }
}
