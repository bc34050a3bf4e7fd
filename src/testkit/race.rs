//! The many-writers checks: conditional writes one by one, then imports
//! and an editor racing on one contact book.

use std::sync::Barrier;

use jiff::Timestamp;

use crate::catalog::Catalog;
use crate::contact::{Contact, Tag};
use crate::engine::{ImportEngine, ImportOptions};
use crate::phone::Phone;
use crate::report::ImportReport;
use crate::store::{ContactStore, Stored, WriteBatch};
use crate::testkit::{Failure, call, ensure, fail, same};

const NOW: Timestamp = Timestamp::constant(1_750_000_000, 0);

/// The tag each racing importer assigns, and the one the editor adds.
const IMPORTER_TAGS: [&str; 3] = ["Alpha", "Beta", "Gamma"];
const EDITOR_TAG: &str = "VIP";

/// Phones the editor changes per call of its edit function.
const EDIT_CHUNK: usize = 100;

/// The `n`-th phone of the race: a valid Indian mobile, as a file writes it
/// (ten digits) and as the store keys it.
fn race_phone(n: u32) -> (String, Phone) {
    let local = format!("97{:08}", n % 100_000_000);
    let phone = Phone::parse_e164(&format!("+91{local}")).expect("+9197 and 8 digits is E.164");
    (local, phone)
}

/// Checks the preconditions of [`ContactStore::write_batch`] on a fresh,
/// empty store, one writer at a time: a create lands only on an absent
/// phone, an update only on the version fetched, every write gives a new
/// version, and the writes whose precondition fails change nothing and
/// come back as conflicts while the others of the batch land; an update of
/// a phone not stored conflicts and stores nothing. For a store with
/// [`Capabilities::conditional_writes`](crate::testkit::Capabilities::conditional_writes).
pub fn check_conditional_writes<S: ContactStore>(store: &mut S) -> Result<(), Failure> {
    const CHECK: &str = "conditional_writes";
    let (_, asha_phone) = race_phone(1);
    let (_, ravi_phone) = race_phone(2);
    let asha = Contact::new(asha_phone, "Asha Rao".to_owned(), NOW);
    let create = WriteBatch {
        create: vec![asha.clone()],
        update: Vec::new(),
    };
    let conflicts = call(CHECK, store.write_batch(create.clone()))?;
    same(CHECK, "conflicts of a first create", &conflicts, &vec![])?;
    let first = stored(CHECK, store, asha_phone)?;

    let again = call(CHECK, store.write_batch(create))?;
    same(
        CHECK,
        "conflicts of a create of a stored phone",
        &again,
        &vec![asha_phone],
    )?;

    let mut renamed = asha.clone();
    renamed.set_name("Asha Iyer");
    let update = WriteBatch {
        create: Vec::new(),
        update: vec![(renamed.clone(), first.version)],
    };
    let conflicts = call(CHECK, store.write_batch(update.clone()))?;
    same(
        CHECK,
        "conflicts of an update at the fetched version",
        &conflicts,
        &vec![],
    )?;
    let second = stored(CHECK, store, asha_phone)?;
    same(
        CHECK,
        "the contact after an update",
        &second.contact,
        &renamed,
    )?;
    ensure(CHECK, second.version != first.version, || {
        format!("an update left the version at {:?}", first.version)
    })?;

    // A stale update beside a good create: the create lands, the update not.
    let mut stale = asha.clone();
    stale.set_name("Stale Name");
    let ravi = Contact::new(ravi_phone, "Ravi Kumar".to_owned(), NOW);
    let mixed = WriteBatch {
        create: vec![ravi.clone()],
        update: vec![(stale, first.version)],
    };
    let conflicts = call(CHECK, store.write_batch(mixed))?;
    same(
        CHECK,
        "conflicts of a stale update",
        &conflicts,
        &vec![asha_phone],
    )?;
    let after = stored(CHECK, store, asha_phone)?;
    same(
        CHECK,
        "the contact after a stale update (unchanged)",
        &after,
        &second,
    )?;
    let ravi_stored = stored(CHECK, store, ravi_phone)?;
    same(
        CHECK,
        "a create beside a stale update",
        &ravi_stored.contact,
        &ravi,
    )?;

    let (_, nobody) = race_phone(3);
    let ghost = WriteBatch {
        create: Vec::new(),
        update: vec![(
            Contact::new(nobody, "Nobody".to_owned(), NOW),
            first.version,
        )],
    };
    let conflicts = call(CHECK, store.write_batch(ghost))?;
    same(
        CHECK,
        "conflicts of an update of a phone not stored",
        &conflicts,
        &vec![nobody],
    )?;
    let missing = call(CHECK, store.get(&nobody))?;
    same(CHECK, "a phone updated but not stored", &missing, &None)
}

fn stored<S: ContactStore>(
    check: &'static str,
    store: &mut S,
    phone: Phone,
) -> Result<Stored, Failure> {
    call(check, store.get_stored(&phone))?
        .ok_or_else(|| fail(check, format!("{phone} is not stored")))
}

/// Adds `tag` to each stored contact of `phones` through the store's own
/// conditional writes, as an agent's edit on the Contacts page would:
/// fetch, change, write at the version fetched, and again for the
/// contacts another writer changed in between. A phone not stored is
/// left alone.
///
/// This is the editor [`check_racing_writers`] uses with
/// [`Editor::ThroughStore`]; it shows how a host's own edits go through a
/// [`ContactStore`].
pub fn add_tag_through_store<S: ContactStore>(
    store: &mut S,
    phones: &[Phone],
    tag: &str,
) -> Result<(), S::Error> {
    let tag = Tag::new(tag);
    let mut pending = phones.to_vec();
    while !pending.is_empty() {
        let mut found = Vec::new();
        store.fetch(&pending, &mut found)?;
        let mut batch = WriteBatch::default();
        for Stored {
            mut contact,
            version,
        } in found
        {
            if !contact.tags.contains(&tag) {
                contact.tags.push(tag.clone());
                batch.update.push((contact, version));
            }
        }
        pending = store.write_batch(batch)?;
    }
    Ok(())
}

/// Who edits the contacts while [`check_racing_writers`] imports.
pub enum Editor<'a, S> {
    /// [`add_tag_through_store`], on a handle of its own.
    ThroughStore,
    /// Your service's own writes (e.g. plain SQL on the store's
    /// connection): called with a handle of its own and phones, it must add
    /// the tag `VIP` to each of them that is stored, and leave the rest of
    /// each contact as it is.
    Custom(&'a Edit<S>),
}

/// Your service's edit for [`Editor::Custom`].
pub type Edit<S> = dyn Fn(&mut S, &[Phone]) -> Result<(), String> + Sync;

/// What [`check_racing_writers`] saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Race {
    /// The reports of the three imports of stored phones.
    pub stored: Vec<ImportReport>,
    /// The reports of the three imports of new phones.
    pub new: Vec<ImportReport>,
}

impl Race {
    /// Writes that conflicted, over all six imports: how much they raced.
    pub fn conflicts(&self) -> u64 {
        self.stored
            .iter()
            .chain(&self.new)
            .map(|r| r.conflicts)
            .sum()
    }
}

/// Races writers on one contact book and checks that none loses another's
/// writes. `open` must give a new handle onto the same book each time it is
/// called (a new connection to the same SQLite file or PostgreSQL schema,
/// a clone of a [`SharedMemoryStore`](crate::SharedMemoryStore)); the book
/// must start empty.
///
/// The imports cut batches of
/// [`DEFAULT_BATCH_SIZE`](ImportOptions::DEFAULT_BATCH_SIZE) rows, whatever
/// the store prefers, so that with a few thousand phones each writes
/// several batches between the others'.
///
/// 1. `phones` contacts are imported. Then three imports of those phones,
///    each file with another tag, run on three threads at once, while
///    `editor` adds the tag `VIP` to every one of them on a fourth.
///    Every contact must end with all four tags, and the three reports must
///    count every row and add none.
/// 2. Three imports of `phones` new phones, each with another tag, run at
///    once. Their `added` must sum to `phones` exactly, and every contact
///    must end with the three tags.
///
/// For a store that cannot race (it ignores the preconditions of
/// [`ContactStore::write_batch`]), do not call it: declare
/// [`Capabilities::single_writer`](crate::testkit::Capabilities::single_writer).
///
/// ```
/// use contact_import::{SharedMemoryStore, testkit};
///
/// let book = SharedMemoryStore::new();
/// let race = testkit::check_racing_writers(|| book.clone(), 2_000, testkit::Editor::ThroughStore)?;
/// assert_eq!(race.new.iter().map(|r| r.added).sum::<u64>(), 2_000);
/// # Ok::<(), testkit::Failure>(())
/// ```
pub fn check_racing_writers<S, O>(
    open: O,
    phones: u32,
    editor: Editor<'_, S>,
) -> Result<Race, Failure>
where
    S: ContactStore + Send,
    O: Fn() -> S + Sync,
{
    const CHECK: &str = "racing_writers";
    let mut tags: Vec<&str> = IMPORTER_TAGS.to_vec();
    tags.push(EDITOR_TAG);
    let catalog = Catalog::new().with_tags(tags);
    // Whatever batch size the store prefers: each import writes several
    // batches, which the others' land between.
    let options = ImportOptions::new().with_batch_size(ImportOptions::DEFAULT_BATCH_SIZE);
    let engine = ImportEngine::new(catalog, NOW).with_options(options);
    let stored: Vec<u32> = (0..phones).collect();
    let mut first = open();
    let preload = call(
        CHECK,
        engine.import_bytes(race_file(&stored, "").as_bytes(), &mut first),
    )?;
    same(
        CHECK,
        "contacts added before the race",
        &preload.added,
        &u64::from(phones),
    )?;

    let reports = race(CHECK, &open, &engine, &stored, Some(&editor))?;
    for report in &reports {
        counts_add_up(CHECK, report)?;
        same(
            CHECK,
            "rows of an import of stored phones",
            &report.rows,
            &u64::from(phones),
        )?;
    }
    let added: u64 = reports.iter().map(|r| r.added).sum();
    same(
        CHECK,
        "contacts added by imports of stored phones",
        &added,
        &0,
    )?;
    all_tagged(CHECK, &mut first, &stored, true)?;

    let new: Vec<u32> = (phones..2 * phones).collect();
    let new_reports = race(CHECK, &open, &engine, &new, None)?;
    for report in &new_reports {
        counts_add_up(CHECK, report)?;
    }
    let added: u64 = new_reports.iter().map(|r| r.added).sum();
    same(
        CHECK,
        "contacts added by three imports of the same new phones",
        &added,
        &u64::from(phones),
    )?;
    all_tagged(CHECK, &mut first, &new, false)?;
    Ok(Race {
        stored: reports,
        new: new_reports,
    })
}

/// Runs the three imports of `numbers`, and the editor if any, at once.
fn race<S, O>(
    check: &'static str,
    open: &O,
    engine: &ImportEngine,
    numbers: &[u32],
    editor: Option<&Editor<'_, S>>,
) -> Result<Vec<ImportReport>, Failure>
where
    S: ContactStore + Send,
    O: Fn() -> S + Sync,
{
    let files: Vec<String> = IMPORTER_TAGS
        .iter()
        .map(|tag| race_file(numbers, tag))
        .collect();
    let phones: Vec<Phone> = numbers.iter().map(|&n| race_phone(n).1).collect();
    let start = Barrier::new(files.len() + usize::from(editor.is_some()));
    std::thread::scope(|scope| {
        let importers: Vec<_> = files
            .iter()
            .map(|file| {
                let start = &start;
                scope.spawn(move || {
                    let mut store = open();
                    start.wait();
                    engine
                        .import_bytes(file.as_bytes(), &mut store)
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        let edits = editor.map(|editor| {
            let (start, phones) = (&start, &phones);
            scope.spawn(move || {
                let mut store = open();
                start.wait();
                for chunk in phones.chunks(EDIT_CHUNK) {
                    match editor {
                        Editor::ThroughStore => {
                            add_tag_through_store(&mut store, chunk, EDITOR_TAG)
                                .map_err(|e| e.to_string())?
                        }
                        Editor::Custom(edit) => edit(&mut store, chunk)?,
                    }
                }
                Ok::<(), String>(())
            })
        });
        if let Some(edits) = edits {
            let outcome = edits
                .join()
                .map_err(|_| fail(check, "the editor panicked"))?;
            outcome.map_err(|e| fail(check, format!("the editor failed: {e}")))?;
        }
        importers
            .into_iter()
            .map(|importer| {
                let outcome = importer
                    .join()
                    .map_err(|_| fail(check, "an import panicked"))?;
                outcome.map_err(|e| fail(check, format!("an import failed: {e}")))
            })
            .collect()
    })
}

fn counts_add_up(check: &'static str, report: &ImportReport) -> Result<(), Failure> {
    let sum = report.added + report.updated + report.unchanged + report.failed;
    ensure(check, sum == report.rows, || {
        format!(
            "rows {} != added {} + updated {} + unchanged {} + failed {}",
            report.rows, report.added, report.updated, report.unchanged, report.failed
        )
    })
}

/// Checks that every contact of `numbers` has every importer's tag, and
/// the editor's when it ran.
fn all_tagged<S: ContactStore>(
    check: &'static str,
    store: &mut S,
    numbers: &[u32],
    edited: bool,
) -> Result<(), Failure> {
    let mut expected: Vec<&str> = IMPORTER_TAGS.to_vec();
    if edited {
        expected.push(EDITOR_TAG);
    }
    let phones: Vec<Phone> = numbers.iter().map(|&n| race_phone(n).1).collect();
    let mut missing = 0usize;
    let mut example = None;
    let mut found = 0usize;
    for chunk in phones.chunks(1_000) {
        let mut contacts = Vec::new();
        call(check, store.fetch(chunk, &mut contacts))?;
        found += contacts.len();
        for Stored { contact, .. } in contacts {
            let lacks: Vec<&str> = expected
                .iter()
                .copied()
                .filter(|tag| !contact.has_tag(tag))
                .collect();
            if !lacks.is_empty() {
                missing += 1;
                example.get_or_insert_with(|| format!("{} lacks {lacks:?}", contact.phone));
            }
        }
    }
    same(
        check,
        "contacts stored after the race",
        &found,
        &phones.len(),
    )?;
    ensure(check, missing == 0, || {
        format!(
            "{missing} of {} contacts lost a tag another writer gave them, e.g. {}",
            phones.len(),
            example.unwrap_or_default()
        )
    })
}

/// A file of the phones `numbers`, each row with `tag`.
fn race_file(numbers: &[u32], tag: &str) -> String {
    let mut file = String::from("Name,Phone,Tags\n");
    for &n in numbers {
        let (local, _) = race_phone(n);
        file.push_str(&format!("Person {n},{local},{tag}\n"));
    }
    file
}
