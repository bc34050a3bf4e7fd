//! Creates without a fetch (`ContactStore::creates_without_fetch`): an
//! import into a book that holds none of its first batch's phones fetches
//! only the phones an earlier batch wrote, and still finds, updates and
//! never overwrites a contact that was stored after all. PostgreSQL runs
//! the same checks in postgres_store.rs and many_writers.rs.

use contact_import::{
    Catalog, ContactStore, ImportEngine, ImportMode, ImportOptions, MemoryStore, Phone, Stored,
    Timestamp, WriteBatch,
};

/// A store that allows creates without a fetch, and counts the phones it
/// was asked to fetch.
struct Unfetched<S> {
    inner: S,
    fetched: usize,
}

impl<S> Unfetched<S> {
    fn new(inner: S) -> Unfetched<S> {
        Unfetched { inner, fetched: 0 }
    }
}

impl<S: ContactStore> ContactStore for Unfetched<S> {
    type Error = S::Error;

    fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Stored>) -> Result<(), S::Error> {
        self.fetched += phones.len();
        self.inner.fetch(phones, found)
    }

    fn write_batch(&mut self, batch: WriteBatch) -> Result<Vec<Phone>, S::Error> {
        self.inner.write_batch(batch)
    }

    fn creates_without_fetch(&self) -> bool {
        true
    }
}

fn engine(batch_size: usize) -> ImportEngine {
    let options = ImportOptions::new().with_batch_size(batch_size);
    ImportEngine::new(Catalog::new(), Timestamp::constant(1_750_000_000, 0)).with_options(options)
}

/// `rows` rows of distinct phones, then the `repeat`-th phone again with
/// another name.
fn file(rows: u32, repeat: u32) -> String {
    let mut file = crate::common::distinct_phones(rows);
    file.push_str(&format!("Person {repeat} again,98{repeat:08}\n"));
    file
}

#[cfg(feature = "testkit")]
#[test]
fn a_store_that_creates_without_fetch_passes_the_conformance_kit() {
    let plain = contact_import::testkit::Capabilities::default()
        .with_catalog(false)
        .with_history(false);
    let conformance =
        contact_import::testkit::check_store_with(|| Unfetched::new(MemoryStore::new()), plain);
    assert_eq!(conformance.unwrap().skipped(), ["catalog", "history"]);
    contact_import::testkit::check_creates_without_fetch(&mut Unfetched::new(MemoryStore::new()))
        .unwrap();
}

#[cfg(feature = "testkit")]
#[test]
fn imports_racing_to_create_the_same_new_phones_without_fetching_lose_nothing() {
    let book = contact_import::SharedMemoryStore::new();
    let race = contact_import::testkit::check_racing_writers(
        || Unfetched::new(book.clone()),
        20_000,
        contact_import::testkit::Editor::ThroughStore,
    )
    .unwrap();
    assert_eq!(race.new.iter().map(|r| r.added).sum::<u64>(), 20_000);
}

#[test]
fn an_import_into_a_new_book_fetches_its_first_batch_and_the_repeated_phones_only() {
    let mut store = Unfetched::new(MemoryStore::new());
    let report = engine(100)
        .import_bytes(file(1_000, 7).as_bytes(), &mut store)
        .unwrap();
    assert_eq!(
        (report.added, report.updated, report.conflicts),
        (1_000, 1, 0)
    );
    // The first batch's 100, then only phone 7 again in the last batch.
    assert_eq!(store.fetched, 101);
}

#[test]
fn a_store_that_does_not_allow_it_is_fetched_every_phone() {
    struct Plain(MemoryStore, usize);
    impl ContactStore for Plain {
        type Error = std::convert::Infallible;
        fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Stored>) -> Result<(), Self::Error> {
            self.1 += phones.len();
            self.0.fetch(phones, found)
        }
        fn write_batch(&mut self, batch: WriteBatch) -> Result<Vec<Phone>, Self::Error> {
            self.0.write_batch(batch)
        }
    }
    let mut store = Plain(MemoryStore::new(), 0);
    engine(100)
        .import_bytes(file(1_000, 7).as_bytes(), &mut store)
        .unwrap();
    assert_eq!(store.1, 1_001);
}

#[test]
fn an_import_into_a_book_that_holds_its_first_phones_fetches_every_phone() {
    let engine = engine(100);
    let mut store = Unfetched::new(MemoryStore::new());
    engine
        .import_bytes(file(50, 0).as_bytes(), &mut store)
        .unwrap();
    store.fetched = 0;
    let report = engine
        .import_bytes(file(1_000, 7).as_bytes(), &mut store)
        .unwrap();
    assert_eq!(report.added, 950);
    assert_eq!(store.fetched, 1_001);
}

#[test]
fn a_stored_phone_met_without_a_fetch_is_updated_and_fetching_resumes() {
    let engine = engine(100);
    let mut store = Unfetched::new(MemoryStore::new());
    // Phone 500, in the sixth batch, is stored before the import.
    engine
        .import_bytes(b"Name,Phone\nKnown,9800000500\n", &mut store)
        .unwrap();
    store.fetched = 0;
    let report = engine
        .import_bytes(file(1_000, 7).as_bytes(), &mut store)
        .unwrap();
    assert_eq!((report.added, report.conflicts), (999, 0));
    assert_eq!(report.updated, 2, "phone 500 renamed, phone 7 met again");
    // The first batch; phone 500 after its create conflicted; every phone
    // of the four batches after it; phone 7 again in the last.
    assert_eq!(store.fetched, 100 + 1 + 400 + 1);
    let known = store
        .get(&crate::common::phone("+919800000500"))
        .unwrap()
        .unwrap();
    assert_eq!(known.name(), "Person 500");
}

#[test]
fn an_update_only_import_fetches_every_phone() {
    let options = ImportOptions::new()
        .with_batch_size(100)
        .with_mode(ImportMode::UpdateOnly);
    let mut store = Unfetched::new(MemoryStore::new());
    engine(100)
        .import_bytes(b"Name,Phone\nKnown,9800000500\n", &mut store)
        .unwrap();
    let engine = engine(100).with_options(options);
    store.fetched = 0;
    let report = engine
        .import_bytes(file(1_000, 7).as_bytes(), &mut store)
        .unwrap();
    assert_eq!((report.added, report.updated), (0, 1));
    assert_eq!(store.fetched, 1_001);
}
