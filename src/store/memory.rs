use std::convert::Infallible;
use std::ops::ControlFlow;

use crate::catalog::Catalog;
use crate::contact::Contact;
use crate::filter::Filter;
use crate::history::{ImportId, ImportRecord, ImportSummary};
use crate::phone::{Phone, PhoneIndex};
use crate::store::{ContactScan, ContactStore};

/// A contact book in memory: the embedded default, and the reference every
/// other store is checked against. It keeps a catalog and the import history
/// too, for as long as it lives.
///
/// ```
/// use contact_import::{ContactStore, MemoryStore, Phone};
/// let mut store = MemoryStore::new();
/// assert!(store.is_empty());
/// assert_eq!(store.get(&Phone::parse_e164("+919876543452").unwrap()).unwrap(), None);
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    // Contacts side by side in chunks, and where each phone's is (see
    // `Location`): a hash map of whole contacts would spread 200,000 of them
    // over a table a third larger, and one growing vector would briefly hold
    // two copies. A batch of new contacts becomes a chunk as it is, unmoved.
    chunks: Vec<Vec<Contact>>,
    index: PhoneIndex<Location>,
    catalog: Catalog,
    imports: Vec<ImportRecord>,
}

/// Where a contact is: its chunk in the high 32 bits, its place in the
/// chunk in the low 32 (no chunk holds more than `MAX_CHUNK` contacts).
type Location = u64;

/// Contacts per chunk, when contacts are stored one by one.
const CHUNK: usize = 4096;
/// The fewest new contacts of a batch that become a chunk of their own.
const OWN_CHUNK: usize = 256;
/// The most contacts in one chunk.
const MAX_CHUNK: usize = 1 << 20;

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// How many contacts are stored.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when no contact is stored.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The contact stored under `phone`.
    pub fn contact(&self, phone: &Phone) -> Option<&Contact> {
        let (chunk, at) = split(*self.index.get(&phone.key())?);
        self.chunks.get(chunk)?.get(at)
    }

    /// Every contact, sorted by phone.
    pub fn contacts(&self) -> Vec<&Contact> {
        let mut all: Vec<&Contact> = self.iter().collect();
        all.sort_unstable_by_key(|c| c.phone);
        all
    }

    /// Stores `contact` as it is, replacing any contact with its phone
    /// (as your service would, e.g. to set `last_active` when a message
    /// arrives). Unlike [`write_batch`](ContactStore::write_batch), it
    /// replaces every field.
    pub fn insert(&mut self, contact: Contact) {
        match self.stored_mut(&contact.phone) {
            Some(stored) => *stored = contact,
            None => self.push(contact),
        }
    }

    fn stored_mut(&mut self, phone: &Phone) -> Option<&mut Contact> {
        let (chunk, at) = split(*self.index.get(&phone.key())?);
        self.chunks.get_mut(chunk)?.get_mut(at)
    }

    /// Stores a contact whose phone is not stored yet.
    fn push(&mut self, contact: Contact) {
        let room = |chunk: &Vec<Contact>| chunk.len() < chunk.capacity().min(MAX_CHUNK);
        if !self.chunks.last().is_some_and(room) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        let chunk = self.chunks.len() - 1;
        if let Some(last) = self.chunks.last_mut() {
            self.index
                .insert(contact.phone.key(), location(chunk, last.len()));
            last.push(contact);
        }
    }

    /// Stores contacts whose phones are not stored yet, many as a chunk of
    /// their own.
    fn push_all(&mut self, mut contacts: Vec<Contact>) {
        if !(OWN_CHUNK..=MAX_CHUNK).contains(&contacts.len()) {
            contacts.into_iter().for_each(|c| self.push(c));
            return;
        }
        // Room the batch kept for rows that failed or merged elsewhere.
        contacts.shrink_to_fit();
        let chunk = self.chunks.len();
        let places = contacts.iter().enumerate();
        self.index
            .extend(places.map(|(at, c)| (c.phone.key(), location(chunk, at))));
        self.chunks.push(contacts);
    }

    fn iter(&self) -> impl Iterator<Item = &Contact> {
        self.chunks.iter().flatten()
    }
}

fn location(chunk: usize, at: usize) -> Location {
    ((chunk as u64) << 32) | at as u64
}

fn split(location: Location) -> (usize, usize) {
    ((location >> 32) as usize, (location & 0xffff_ffff) as usize)
}

impl ContactStore for MemoryStore {
    type Error = Infallible;

    fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Contact>) -> Result<(), Infallible> {
        found.extend(phones.iter().filter_map(|p| self.contact(p).cloned()));
        Ok(())
    }

    fn write_batch(&mut self, mut contacts: Vec<Contact>) -> Result<(), Infallible> {
        self.index.reserve(contacts.len());
        // Known phones are updated in place; the new ones stay in `contacts`.
        contacts.retain_mut(|contact| {
            let Some(stored) = self.stored_mut(&contact.phone) else {
                return true;
            };
            std::mem::swap(stored, contact);
            // `contact` now holds what was stored: keep the fields an import
            // does not own.
            stored.created_at = contact.created_at;
            stored.last_active = contact.last_active;
            stored.state = contact.state;
            false
        });
        self.push_all(contacts);
        Ok(())
    }

    fn load_catalog(&mut self) -> Result<Catalog, Infallible> {
        Ok(self.catalog.clone())
    }

    fn add_to_catalog(&mut self, catalog: &Catalog) -> Result<(), Infallible> {
        self.catalog.merge(catalog);
        Ok(())
    }

    fn record_import(&mut self, record: &ImportRecord) -> Result<Option<ImportId>, Infallible> {
        let id = self.imports.last().map_or(1, |last| last.id + 1);
        self.imports.push(ImportRecord {
            id,
            ..record.clone()
        });
        Ok(Some(id))
    }

    fn imports(&mut self) -> Result<Vec<ImportSummary>, Infallible> {
        Ok(self
            .imports
            .iter()
            .rev()
            .map(ImportRecord::summary)
            .collect())
    }

    fn import(&mut self, id: ImportId) -> Result<Option<ImportRecord>, Infallible> {
        Ok(self.imports.iter().find(|r| r.id == id).cloned())
    }
}

impl ContactScan for MemoryStore {
    fn scan(
        &mut self,
        visit: &mut dyn FnMut(&Contact) -> ControlFlow<()>,
    ) -> Result<(), Infallible> {
        visit_in_order(self.iter(), visit);
        Ok(())
    }

    /// Filters before sorting, so only the segment is sorted.
    fn scan_filtered(
        &mut self,
        filter: &Filter,
        visit: &mut dyn FnMut(&Contact) -> ControlFlow<()>,
    ) -> Result<(), Infallible> {
        visit_in_order(self.iter().filter(|c| filter.matches(c)), visit);
        Ok(())
    }

    fn count(&mut self, filter: &Filter) -> Result<u64, Infallible> {
        Ok(self.iter().filter(|c| filter.matches(c)).count() as u64)
    }
}

/// Visits `contacts` sorted by phone, until the visitor stops.
fn visit_in_order<'a>(
    contacts: impl Iterator<Item = &'a Contact>,
    visit: &mut dyn FnMut(&Contact) -> ControlFlow<()>,
) {
    let mut sorted: Vec<&Contact> = contacts.collect();
    sorted.sort_unstable_by_key(|c| c.phone);
    for contact in sorted {
        if visit(contact).is_break() {
            break;
        }
    }
}
