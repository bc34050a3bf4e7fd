use std::collections::hash_map::Entry;
use std::convert::Infallible;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::catalog::Catalog;
use crate::contact::Contact;
use crate::filter::Filter;
use crate::history::{ImportId, ImportRecord, ImportSummary};
use crate::phone::{Phone, PhoneIndex};
use crate::store::packed::PackedRecord;
use crate::store::{ContactScan, ContactStore, Stored, Version, WriteBatch};

/// A contact book in memory: the embedded default, and the reference every
/// other store is checked against. It keeps a catalog and the import history
/// too, for as long as it lives.
///
/// Each contact has a [`Version`] from a counter of the store's writes, so
/// conditional writes work as in the database stores. To share one book
/// between threads (several imports, an editor), use [`SharedMemoryStore`].
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
    index: PhoneIndex<Slot>,
    /// The last version handed out: every write takes the next one, so a
    /// version is never seen twice.
    version: u64,
    catalog: Catalog,
    /// The history, packed: a plain copy of the realistic file's report
    /// was 11 MB of the process's peak, packed it is 4 MB.
    imports: Vec<PackedRecord>,
}

/// Where a contact is: its chunk in the high 32 bits, its place in the
/// chunk in the low 32 (no chunk holds more than `MAX_CHUNK` contacts).
type Location = u64;

/// What the index keeps of a contact: where it is, and its version.
#[derive(Clone, Copy, Debug)]
struct Slot {
    location: Location,
    version: u64,
}

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
        let (chunk, at) = split(self.index.get(&phone.key())?.location);
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
    /// replaces every field, unconditionally; the contact gets a new
    /// version, so an import that fetched it before merges it again.
    pub fn insert(&mut self, contact: Contact) {
        match self.stored_mut(&contact.phone) {
            Some(stored) => *stored = contact,
            None => self.push(contact),
        }
    }

    /// Changes the contact stored under `phone` in place (an agent's edit),
    /// giving it a new version; false when no contact has that phone.
    ///
    /// ```
    /// # use contact_import::{Catalog, ImportEngine, MemoryStore, Phone};
    /// # let engine = ImportEngine::new(Catalog::new(), jiff::Timestamp::UNIX_EPOCH);
    /// let mut store = MemoryStore::new();
    /// engine.import_bytes(b"Name,Phone\nAsha,9876543210\n", &mut store)?;
    /// let phone = Phone::parse_e164("+919876543210").unwrap();
    /// assert!(store.update(&phone, |asha| asha.source = Some("AGENT".into())));
    /// assert_eq!(store.contact(&phone).unwrap().source.as_deref(), Some("AGENT"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn update(&mut self, phone: &Phone, change: impl FnOnce(&mut Contact)) -> bool {
        match self.stored_mut(phone) {
            Some(contact) => {
                change(contact);
                true
            }
            None => false,
        }
    }

    /// The stored contact and a new version for it: every caller changes it.
    fn stored_mut(&mut self, phone: &Phone) -> Option<&mut Contact> {
        let version = self.next_version();
        let slot = self.index.get_mut(&phone.key())?;
        slot.version = version;
        let (chunk, at) = split(slot.location);
        self.chunks.get_mut(chunk)?.get_mut(at)
    }

    fn next_version(&mut self) -> u64 {
        self.version += 1;
        self.version
    }

    /// Stores a contact whose phone is not stored yet.
    fn push(&mut self, contact: Contact) {
        let room = |chunk: &Vec<Contact>| chunk.len() < chunk.capacity().min(MAX_CHUNK);
        if !self.chunks.last().is_some_and(room) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        let chunk = self.chunks.len() - 1;
        let version = self.next_version();
        if let Some(last) = self.chunks.last_mut() {
            let location = location(chunk, last.len());
            self.index
                .insert(contact.phone.key(), Slot { location, version });
            last.push(contact);
        }
    }

    /// Stores the contacts whose phones are not stored yet, many as a chunk
    /// of their own; the phones of the others are conflicts. One lookup a
    /// contact: the index is the size of the book, and a lookup to check
    /// and another to insert cost a cache miss each.
    fn create_all(&mut self, mut contacts: Vec<Contact>, conflicts: &mut Vec<Phone>) {
        self.index.reserve(contacts.len());
        if !(OWN_CHUNK..=MAX_CHUNK).contains(&contacts.len()) {
            for contact in contacts {
                if self.index.contains_key(&contact.phone.key()) {
                    conflicts.push(contact.phone);
                } else {
                    self.push(contact);
                }
            }
            return;
        }
        let chunk = self.chunks.len();
        let version = self.next_version();
        let mut kept = 0;
        // `retain` visits the contacts once each, in order: the kept ones
        // take the places they will have in the chunk.
        contacts.retain(|contact| match self.index.entry(contact.phone.key()) {
            Entry::Vacant(vacant) => {
                let location = location(chunk, kept);
                vacant.insert(Slot { location, version });
                kept += 1;
                true
            }
            Entry::Occupied(_) => {
                conflicts.push(contact.phone);
                false
            }
        });
        if !contacts.is_empty() {
            // Room the batch kept for rows that failed or merged elsewhere.
            contacts.shrink_to_fit();
            self.chunks.push(contacts);
        }
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

    fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Stored>) -> Result<(), Infallible> {
        found.extend(phones.iter().filter_map(|phone| {
            let slot = self.index.get(&phone.key())?;
            let (chunk, at) = split(slot.location);
            let contact = self.chunks.get(chunk)?.get(at)?.clone();
            let version = Version::new(slot.version);
            Some(Stored { contact, version })
        }));
        Ok(())
    }

    fn write_batch(&mut self, batch: WriteBatch) -> Result<Vec<Phone>, Infallible> {
        let WriteBatch { create, update } = batch;
        let mut conflicts = Vec::new();
        for (mut contact, seen) in update {
            let stored = self.index.get(&contact.phone.key()).map(|s| s.version);
            let Some(stored) = stored
                .filter(|&version| version == seen.get())
                .and_then(|_| self.stored_mut(&contact.phone))
            else {
                conflicts.push(contact.phone);
                continue;
            };
            std::mem::swap(stored, &mut contact);
            // `contact` now holds what was stored: keep the fields an import
            // does not own.
            stored.created_at = contact.created_at;
            stored.last_active = contact.last_active;
            stored.state = contact.state;
        }
        // The new contacts stay in the batch's vector, as a chunk when many.
        self.create_all(create, &mut conflicts);
        Ok(conflicts)
    }

    fn load_catalog(&mut self) -> Result<Catalog, Infallible> {
        Ok(self.catalog.clone())
    }

    fn add_to_catalog(&mut self, catalog: &Catalog) -> Result<(), Infallible> {
        self.catalog.merge(catalog);
        Ok(())
    }

    fn record_import(&mut self, record: &ImportRecord) -> Result<Option<ImportId>, Infallible> {
        let id = self.imports.last().map_or(1, |last| last.id() + 1);
        self.imports.push(PackedRecord::new(record, id));
        Ok(Some(id))
    }

    fn import_history(&mut self) -> Result<Vec<ImportSummary>, Infallible> {
        Ok(self
            .imports
            .iter()
            .rev()
            .map(|record| record.summary_record().summary())
            .collect())
    }

    fn import_record(&mut self, id: ImportId) -> Result<Option<ImportRecord>, Infallible> {
        let record = self.imports.iter().find(|r| r.id() == id);
        Ok(record.map(PackedRecord::unpack))
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

/// A [`MemoryStore`] shared between threads: a cloneable handle, every
/// clone on the same contact book, each call under the book's lock. Several
/// imports and editors can race on it with the guarantees of the database
/// stores (conditional writes through [`ContactStore`]).
///
/// ```
/// use contact_import::{Catalog, ImportEngine, Phone, SharedMemoryStore};
///
/// let store = SharedMemoryStore::new();
/// let engine = ImportEngine::new(Catalog::new(), jiff::Timestamp::UNIX_EPOCH);
/// std::thread::scope(|scope| {
///     for file in ["Name,Phone\nAsha,9876543210\n", "Name,Phone\nRavi,9876543211\n"] {
///         let mut store = store.clone();
///         let engine = &engine;
///         scope.spawn(move || engine.import_bytes(file.as_bytes(), &mut store).unwrap());
///     }
/// });
/// assert_eq!(store.lock().len(), 2);
/// ```
#[derive(Clone, Debug, Default)]
pub struct SharedMemoryStore {
    book: Arc<Mutex<MemoryStore>>,
}

impl SharedMemoryStore {
    /// A new, empty shared book.
    pub fn new() -> SharedMemoryStore {
        SharedMemoryStore::default()
    }

    /// The book, locked: read it, or change it as your service would
    /// ([`MemoryStore::update`], [`MemoryStore::insert`]). Every other
    /// handle waits until the guard is dropped.
    pub fn lock(&self) -> MutexGuard<'_, MemoryStore> {
        // A thread that panicked holding the lock left the book as its last
        // whole call did: every call changes it in one step.
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl From<MemoryStore> for SharedMemoryStore {
    fn from(store: MemoryStore) -> SharedMemoryStore {
        SharedMemoryStore {
            book: Arc::new(Mutex::new(store)),
        }
    }
}

impl ContactStore for SharedMemoryStore {
    type Error = Infallible;

    fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Stored>) -> Result<(), Infallible> {
        self.lock().fetch(phones, found)
    }

    fn write_batch(&mut self, batch: WriteBatch) -> Result<Vec<Phone>, Infallible> {
        self.lock().write_batch(batch)
    }

    fn load_catalog(&mut self) -> Result<Catalog, Infallible> {
        self.lock().load_catalog()
    }

    fn add_to_catalog(&mut self, catalog: &Catalog) -> Result<(), Infallible> {
        self.lock().add_to_catalog(catalog)
    }

    fn record_import(&mut self, record: &ImportRecord) -> Result<Option<ImportId>, Infallible> {
        self.lock().record_import(record)
    }

    fn import_history(&mut self) -> Result<Vec<ImportSummary>, Infallible> {
        self.lock().import_history()
    }

    fn import_record(&mut self, id: ImportId) -> Result<Option<ImportRecord>, Infallible> {
        self.lock().import_record(id)
    }
}

impl ContactScan for SharedMemoryStore {
    /// Visits a snapshot: the book stays locked while the visitor runs.
    fn scan(
        &mut self,
        visit: &mut dyn FnMut(&Contact) -> ControlFlow<()>,
    ) -> Result<(), Infallible> {
        self.lock().scan(visit)
    }

    fn scan_filtered(
        &mut self,
        filter: &Filter,
        visit: &mut dyn FnMut(&Contact) -> ControlFlow<()>,
    ) -> Result<(), Infallible> {
        self.lock().scan_filtered(filter, visit)
    }

    fn count(&mut self, filter: &Filter) -> Result<u64, Infallible> {
        self.lock().count(filter)
    }
}
