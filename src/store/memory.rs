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
    // Contacts side by side in fixed-size chunks, and where each phone's is:
    // a hash map of whole contacts would spread 200,000 of them over a table
    // a third larger, and one growing vector would briefly hold two copies.
    chunks: Vec<Vec<Contact>>,
    index: PhoneIndex<u32>,
    catalog: Catalog,
    imports: Vec<ImportRecord>,
}

/// Contacts per chunk.
const CHUNK: usize = 4096;

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
        let i = usize::try_from(*self.index.get(&phone.key())?).ok()?;
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
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
        let next = u32::try_from(self.index.len()).unwrap_or(u32::MAX);
        let i = *self.index.entry(contact.phone.key()).or_insert(next);
        match self.slot(i) {
            Some(stored) => *stored = contact,
            None => self.push(contact),
        }
    }

    fn slot(&mut self, i: u32) -> Option<&mut Contact> {
        let i = usize::try_from(i).ok()?;
        self.chunks.get_mut(i / CHUNK)?.get_mut(i % CHUNK)
    }

    /// Stores a contact whose phone was just indexed at the end.
    fn push(&mut self, contact: Contact) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push(contact),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(contact);
                self.chunks.push(chunk);
            }
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Contact> {
        self.chunks.iter().flatten()
    }
}

impl ContactStore for MemoryStore {
    type Error = Infallible;

    fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Contact>) -> Result<(), Infallible> {
        found.extend(phones.iter().filter_map(|p| self.contact(p).cloned()));
        Ok(())
    }

    fn write_batch(&mut self, contacts: Vec<Contact>) -> Result<(), Infallible> {
        self.index.reserve(contacts.len());
        for mut contact in contacts {
            let next = u32::try_from(self.index.len()).unwrap_or(u32::MAX);
            let i = *self.index.entry(contact.phone.key()).or_insert(next);
            if let Some(stored) = self.slot(i).filter(|_| i != next) {
                contact.created_at = stored.created_at;
                contact.last_active = stored.last_active;
                contact.state = stored.state;
                *stored = contact;
                continue;
            }
            self.push(contact);
        }
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
