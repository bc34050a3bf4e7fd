//! Where contacts live: the [`ContactStore`] trait that callers implement,
//! [`ContactScan`] for stores that can list their contacts (export and
//! segments), [`MemoryStore`], the store shipped with the crate, and the
//! database stores behind cargo features: `SqliteStore` (`sqlite`) and
//! `PostgresStore` (`postgres`).

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod codec;
mod memory;
mod packed;
#[cfg(feature = "postgres")]
mod pg_array;
#[cfg(feature = "postgres")]
mod pg_write;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod pushdown;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use codec::DecodeError;
pub use memory::{MemoryStore, SharedMemoryStore};
#[cfg(feature = "postgres")]
pub use postgres::{PostgresError, PostgresStore};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteError, SqliteStore};

use std::ops::ControlFlow;

use crate::catalog::Catalog;
use crate::contact::Contact;
use crate::filter::Filter;
use crate::history::{ImportId, ImportRecord, ImportSummary};
use crate::phone::Phone;

/// The version of a stored contact, as its store numbers it: it changes
/// whenever any writer changes what an import writes (name, tags, source,
/// first message, attributes). Opaque: stores compare it for equality only.
///
/// An update in a [`WriteBatch`] carries the version its contact was
/// fetched at, and lands only if the stored contact still has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Version(u64);

impl Version {
    /// A version from the store's own number for it (a counter, a row
    /// version, PostgreSQL's `xmin`, ...).
    pub const fn new(value: u64) -> Version {
        Version(value)
    }

    /// The store's number for this version.
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// A contact as a store holds it: the contact, and the version
/// [`ContactStore::fetch`] read it at.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    /// The contact.
    pub contact: Contact,
    /// Its version when it was read.
    pub version: Version,
}

/// A batch of contacts to write, each under a precondition (as
/// object_store's `PutMode::Create` and `PutMode::Update`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WriteBatch {
    /// New contacts: each lands only if no contact is stored under its phone.
    pub create: Vec<Contact>,
    /// Updated contacts, each with the version it was fetched at: each lands
    /// only if the stored contact is still at that version.
    pub update: Vec<(Contact, Version)>,
}

impl WriteBatch {
    /// How many contacts the batch writes.
    pub fn len(&self) -> usize {
        self.create.len() + self.update.len()
    }

    /// True when the batch writes nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every contact of the batch: the new ones, then the updated ones.
    pub fn contacts(&self) -> impl Iterator<Item = &Contact> {
        self.create.iter().chain(self.update.iter().map(|(c, _)| c))
    }
}

/// A contact book the import engine reads from and writes to.
///
/// Two methods are required, one per capability: [`fetch`](Self::fetch) reads
/// the contacts stored under a batch of phones, with their versions, and
/// [`write_batch`](Self::write_batch) writes a batch of contacts, each under
/// a precondition. The engine merges each file row into the fetched contact
/// itself (the rules live in one place, not in every store), so a store never
/// interprets import rules: it stores what it is given.
///
/// # Many writers
///
/// Other writers may change the book between the fetch and the write: other
/// imports, agents editing contacts, the messaging service. A write never
/// overwrites a change it did not see: a contact in [`WriteBatch::create`]
/// lands only if its phone is still absent, one in [`WriteBatch::update`]
/// only if the stored contact is still at the version fetched. `write_batch` skips the writes whose
/// precondition fails and returns their phones; the engine fetches those
/// again, merges their rows again, and writes again (see
/// [`ImportEngine::import`](crate::ImportEngine::import)). A store that
/// ignores the modes (writes everything and reports no conflict) is correct
/// for one writer only.
///
/// Both methods take a whole batch (1,000 rows by default) so that a database
/// store reads and writes it in one round trip each.
///
/// The other methods are capabilities with defaults that keep nothing, for
/// stores that do not need them: the catalog
/// ([`load_catalog`](Self::load_catalog), [`add_to_catalog`](Self::add_to_catalog))
/// and the import history ([`record_import`](Self::record_import),
/// [`import_history`](Self::import_history), [`import_record`](Self::import_record)). The `testkit`
/// feature checks a store against all of it (`contact_import::testkit`),
/// racing writers included.
///
/// # Implementing
///
/// ```
/// use std::collections::HashMap;
/// use contact_import::{Contact, ContactStore, Phone, Stored, Version, WriteBatch};
///
/// #[derive(Default)]
/// struct MyStore(HashMap<Phone, (Contact, u64)>);
///
/// impl ContactStore for MyStore {
///     type Error = std::convert::Infallible;
///
///     fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Stored>) -> Result<(), Self::Error> {
///         found.extend(phones.iter().filter_map(|p| self.0.get(p)).map(|(contact, version)| {
///             Stored { contact: contact.clone(), version: Version::new(*version) }
///         }));
///         Ok(())
///     }
///
///     fn write_batch(&mut self, batch: WriteBatch) -> Result<Vec<Phone>, Self::Error> {
///         // Someone else wrote these first: the engine merges them again.
///         let mut conflicts = Vec::new();
///         for contact in batch.create {
///             match self.0.contains_key(&contact.phone) {
///                 true => conflicts.push(contact.phone),
///                 false => _ = self.0.insert(contact.phone, (contact, 1)),
///             }
///         }
///         for (mut contact, seen) in batch.update {
///             match self.0.get_mut(&contact.phone) {
///                 Some((stored, version)) if *version == seen.get() => {
///                     // What the messaging service sets is never the import's to change.
///                     contact.created_at = stored.created_at;
///                     contact.last_active = stored.last_active;
///                     contact.state = stored.state;
///                     *stored = contact;
///                     *version += 1;
///                 }
///                 _ => conflicts.push(contact.phone),
///             }
///         }
///         Ok(conflicts)
///     }
/// }
/// ```
pub trait ContactStore {
    /// The store's own error, returned by the engine inside
    /// [`ImportError::Store`](crate::ImportError::Store).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Appends to `found` the stored contacts whose phone is in `phones`,
    /// each with its current version (phones that are not stored are
    /// skipped; order does not matter). `phones` holds no duplicates.
    fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Stored>) -> Result<(), Self::Error>;

    /// Writes the contacts of `batch` whose precondition holds, and returns
    /// the phones of those it skipped because theirs did not (in any order;
    /// empty when all landed).
    ///
    /// The batch holds each phone at most once. The writes that land, land
    /// together: when this returns an error, nothing of the batch may
    /// remain.
    ///
    /// A created contact is stored with every field. An updated one gets the
    /// contact's name, tags, source, first message and attributes and a new
    /// version, and keeps its stored `created_at`, `last_active` and
    /// `state`: those belong to the messaging service, which may set them
    /// at any time without making the import's write conflict.
    fn write_batch(&mut self, batch: WriteBatch) -> Result<Vec<Phone>, Self::Error>;

    /// Whether [`ImportEngine::import`](crate::ImportEngine::import) may
    /// write phones it did not fetch as creates, trusting their
    /// precondition. `false` by default.
    ///
    /// An import into a new or unrelated book fetches thousands of phones
    /// to find none of them; for a database, that is an index probe each.
    /// When this is `true` and the import adds contacts (not
    /// [`ImportMode::UpdateOnly`](crate::ImportMode::UpdateOnly)), a batch
    /// whose fetch found none of its phones that no earlier batch wrote
    /// lets the next batches fetch only those an earlier batch wrote: the
    /// others go to [`write_batch`](Self::write_batch) as creates. The
    /// first of those that conflicts (the phone was stored after all)
    /// stops this for the rest of the import; its rows are fetched and
    /// merged again, as after any conflict, and are not counted in
    /// [`ImportReport::conflicts`](crate::ImportReport::conflicts). The
    /// contacts and the report are those of an import that fetched every
    /// phone.
    ///
    /// Return `true` only when `write_batch` honours the create
    /// precondition (a store that overwrites would lose the stored
    /// contact) and a fetch costs more than a create that conflicts, as
    /// in the SQLite and PostgreSQL stores (features `sqlite`, `postgres`).
    /// The `testkit`'s
    /// `check_creates_without_fetch` checks it.
    fn creates_without_fetch(&self) -> bool {
        false
    }

    /// Rows per batch this store writes best, for an import whose options
    /// set no [`batch_size`](crate::ImportOptions::with_batch_size). `None`
    /// (the default) leaves the engine's
    /// [`DEFAULT_BATCH_SIZE`](crate::ImportOptions::DEFAULT_BATCH_SIZE).
    ///
    /// Each batch is one [`write_batch`](Self::write_batch); a store that
    /// commits each one (a database) writes its indexes' changed pages or
    /// flushes its log once a batch, so fewer, larger batches are faster.
    /// Larger batches hold more rows in memory, make another writer wait
    /// longer for a write lock, and leave more rows to import again after
    /// a crash. The SQLite store (feature `sqlite`) prefers 10,000; the
    /// PostgreSQL store none (batches of 10,000 imported a new book no
    /// faster, and an unchanged file again more slowly). The result of an
    /// import does not depend on it.
    fn preferred_batch_size(&self) -> Option<usize> {
        None
    }

    /// Looks up one contact. The default calls [`fetch`](Self::fetch).
    fn get(&mut self, phone: &Phone) -> Result<Option<Contact>, Self::Error> {
        Ok(self.get_stored(phone)?.map(|stored| stored.contact))
    }

    /// Looks up one contact with its version. The default calls
    /// [`fetch`](Self::fetch).
    fn get_stored(&mut self, phone: &Phone) -> Result<Option<Stored>, Self::Error> {
        let mut found = Vec::with_capacity(1);
        self.fetch(std::slice::from_ref(phone), &mut found)?;
        Ok(found.pop())
    }

    /// The catalog the store keeps: the tags and attributes that exist, in
    /// the order they were added. The default keeps none and returns an
    /// empty catalog.
    fn load_catalog(&mut self) -> Result<Catalog, Self::Error> {
        Ok(Catalog::new())
    }

    /// Adds the tags and attributes of `catalog` that the store does not
    /// hold yet, after the ones it holds; never removes any. The default
    /// keeps nothing.
    fn add_to_catalog(&mut self, catalog: &Catalog) -> Result<(), Self::Error> {
        let _ = catalog;
        Ok(())
    }

    /// Keeps `record` in the import history under a new id, which it
    /// returns (`record.id` is ignored). The default keeps nothing and
    /// returns `None`.
    fn record_import(&mut self, record: &ImportRecord) -> Result<Option<ImportId>, Self::Error> {
        let _ = record;
        Ok(None)
    }

    /// The recorded imports, newest first. The default has none.
    fn import_history(&mut self) -> Result<Vec<ImportSummary>, Self::Error> {
        Ok(Vec::new())
    }

    /// The recorded import with this id, whole. The default has none.
    fn import_record(&mut self, id: ImportId) -> Result<Option<ImportRecord>, Self::Error> {
        let _ = id;
        Ok(None)
    }
}

impl<S: ContactStore + ?Sized> ContactStore for &mut S {
    type Error = S::Error;

    fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Stored>) -> Result<(), Self::Error> {
        (**self).fetch(phones, found)
    }

    fn write_batch(&mut self, batch: WriteBatch) -> Result<Vec<Phone>, Self::Error> {
        (**self).write_batch(batch)
    }

    fn creates_without_fetch(&self) -> bool {
        (**self).creates_without_fetch()
    }

    fn preferred_batch_size(&self) -> Option<usize> {
        (**self).preferred_batch_size()
    }

    fn get(&mut self, phone: &Phone) -> Result<Option<Contact>, Self::Error> {
        (**self).get(phone)
    }

    fn get_stored(&mut self, phone: &Phone) -> Result<Option<Stored>, Self::Error> {
        (**self).get_stored(phone)
    }

    fn load_catalog(&mut self) -> Result<Catalog, Self::Error> {
        (**self).load_catalog()
    }

    fn add_to_catalog(&mut self, catalog: &Catalog) -> Result<(), Self::Error> {
        (**self).add_to_catalog(catalog)
    }

    fn record_import(&mut self, record: &ImportRecord) -> Result<Option<ImportId>, Self::Error> {
        (**self).record_import(record)
    }

    fn import_history(&mut self) -> Result<Vec<ImportSummary>, Self::Error> {
        (**self).import_history()
    }

    fn import_record(&mut self, id: ImportId) -> Result<Option<ImportRecord>, Self::Error> {
        (**self).import_record(id)
    }
}

/// A store that can list its contacts: what [`export`](crate::export()),
/// segments and counts need. Import needs only [`ContactStore`], so a store
/// that cannot list (say, one that forwards to a remote API) is still a store.
///
/// One method is required: [`scan`](Self::scan), which hands every contact,
/// in ascending phone order, to a visitor that may stop early. The filtered
/// scan and the count are defaults that filter in Rust; a database store
/// overrides them to evaluate the [`Filter`] in its query language, and must
/// return exactly the contacts [`Filter::matches`] accepts, in the same order.
///
/// No method returns the whole store at once: contacts stream through the
/// visitor, so an export of a million contacts holds one at a time.
///
/// ```
/// use std::ops::ControlFlow;
/// use contact_import::{ContactScan, Filter, MemoryStore};
///
/// let mut store = MemoryStore::new();
/// # let engine = contact_import::ImportEngine::new(contact_import::Catalog::new().with_tags(["MBA"]), jiff::Timestamp::UNIX_EPOCH);
/// # engine.import_bytes(b"Name,Phone,Tags\nAsha,9876543210,MBA\nRavi,9876543211,\nMohit,9876543212,MBA\n", &mut store).unwrap();
/// let mut names = Vec::new();
/// store.scan_filtered(&Filter::any_tag(["MBA"]), &mut |contact| {
///     names.push(contact.name().to_owned());
///     ControlFlow::Continue(())
/// })?;
/// assert_eq!(names, ["Asha", "Mohit"]);
/// assert_eq!(store.count(&Filter::everyone())?, 3);
/// # Ok::<(), std::convert::Infallible>(())
/// ```
pub trait ContactScan: ContactStore {
    /// Calls `visit` with every contact, in ascending phone order (the order
    /// of their E.164 text), until it returns [`ControlFlow::Break`].
    fn scan(
        &mut self,
        visit: &mut dyn FnMut(&Contact) -> ControlFlow<()>,
    ) -> Result<(), Self::Error>;

    /// Calls `visit` with every contact that `filter` matches, in ascending
    /// phone order, until it returns [`ControlFlow::Break`]. The default
    /// scans every contact and filters in Rust.
    fn scan_filtered(
        &mut self,
        filter: &Filter,
        visit: &mut dyn FnMut(&Contact) -> ControlFlow<()>,
    ) -> Result<(), Self::Error> {
        self.scan(&mut |contact| {
            if filter.matches(contact) {
                visit(contact)
            } else {
                ControlFlow::Continue(())
            }
        })
    }

    /// How many contacts `filter` matches. The default counts a filtered scan.
    fn count(&mut self, filter: &Filter) -> Result<u64, Self::Error> {
        count_visits(|visit| self.scan_filtered(filter, visit))
    }
}

/// How many contacts `scan` visits.
pub(crate) fn count_visits<E>(
    scan: impl FnOnce(&mut dyn FnMut(&Contact) -> ControlFlow<()>) -> Result<(), E>,
) -> Result<u64, E> {
    let mut count = 0;
    scan(&mut |_| {
        count += 1;
        ControlFlow::Continue(())
    })?;
    Ok(count)
}

impl<S: ContactScan + ?Sized> ContactScan for &mut S {
    fn scan(
        &mut self,
        visit: &mut dyn FnMut(&Contact) -> ControlFlow<()>,
    ) -> Result<(), Self::Error> {
        (**self).scan(visit)
    }

    fn scan_filtered(
        &mut self,
        filter: &Filter,
        visit: &mut dyn FnMut(&Contact) -> ControlFlow<()>,
    ) -> Result<(), Self::Error> {
        (**self).scan_filtered(filter, visit)
    }

    fn count(&mut self, filter: &Filter) -> Result<u64, Self::Error> {
        (**self).count(filter)
    }
}
