//! Where contacts live: the [`ContactStore`] trait that callers implement,
//! and [`MemoryStore`], the store shipped with the crate.

mod memory;

pub use memory::MemoryStore;

use crate::contact::Contact;
use crate::phone::Phone;

/// A contact book the import engine reads from and writes to.
///
/// Two methods are required, one per capability: [`fetch`](Self::fetch) reads
/// the contacts stored under a batch of phones, and
/// [`write_batch`](Self::write_batch) writes a batch of contacts. The engine
/// merges each file row into the fetched contact itself (the rules live in one
/// place, not in every store), so a store never interprets import rules: it
/// stores what it is given.
///
/// Both methods take a whole batch (1,000 rows by default) so that a database
/// store reads and writes it in one round trip each.
///
/// # Implementing
///
/// ```
/// use std::collections::HashMap;
/// use contact_import::{Contact, ContactStore, Phone};
///
/// #[derive(Default)]
/// struct MyStore(HashMap<Phone, Contact>);
///
/// impl ContactStore for MyStore {
///     type Error = std::convert::Infallible;
///
///     fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Contact>) -> Result<(), Self::Error> {
///         found.extend(phones.iter().filter_map(|p| self.0.get(p).cloned()));
///         Ok(())
///     }
///
///     fn write_batch(&mut self, contacts: Vec<Contact>) -> Result<(), Self::Error> {
///         for contact in contacts {
///             self.0.insert(contact.phone, contact);
///         }
///         Ok(())
///     }
/// }
/// ```
pub trait ContactStore {
    /// The store's own error, returned by the engine inside
    /// [`ImportError::Store`](crate::ImportError::Store).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Appends to `found` the stored contacts whose phone is in `phones`
    /// (phones that are not stored are skipped; order does not matter).
    /// `phones` holds no duplicates.
    fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Contact>) -> Result<(), Self::Error>;

    /// Writes `contacts`, inserting new phones and replacing stored ones.
    ///
    /// The batch holds each phone at most once. It must land whole or not at
    /// all: when this returns an error, nothing of the batch may remain.
    ///
    /// The contacts carry the `created_at`, `last_active` and `state` that
    /// [`fetch`](Self::fetch) returned; a store shared with a live service
    /// should nevertheless leave those columns untouched on update, so that a
    /// message arriving during the import is not overwritten.
    fn write_batch(&mut self, contacts: Vec<Contact>) -> Result<(), Self::Error>;

    /// Looks up one contact. The default calls [`fetch`](Self::fetch).
    fn get(&mut self, phone: &Phone) -> Result<Option<Contact>, Self::Error> {
        let mut found = Vec::with_capacity(1);
        self.fetch(std::slice::from_ref(phone), &mut found)?;
        Ok(found.pop())
    }
}

impl<S: ContactStore + ?Sized> ContactStore for &mut S {
    type Error = S::Error;

    fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Contact>) -> Result<(), Self::Error> {
        (**self).fetch(phones, found)
    }

    fn write_batch(&mut self, contacts: Vec<Contact>) -> Result<(), Self::Error> {
        (**self).write_batch(contacts)
    }
}
