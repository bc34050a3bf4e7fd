//! Conformance checks for a [`ContactStore`] (feature `testkit`): every
//! behaviour the import engine relies on, run against your store.
//!
//! Each check is a public function, in the manner of object_store's
//! integration suite: a store's tests call the ones its capabilities allow.
//! [`check_store`] runs every check that needs nothing but fresh, empty
//! stores, each on a new one, skipping those of a capability the store
//! declares it lacks ([`Capabilities`]); the [`Conformance`] it returns says
//! what ran and what was skipped:
//!
//! ```
//! use contact_import::{MemoryStore, testkit};
//!
//! let conformance = testkit::check_store(MemoryStore::new)?;
//! assert!(conformance.keeps_catalog && conformance.keeps_history);
//! assert!(conformance.skipped().is_empty());
//!
//! // One check on its own, e.g. while making a new store pass them one by one:
//! testkit::check_upsert_rules(&mut MemoryStore::new())?;
//! # Ok::<(), testkit::Failure>(())
//! ```
//!
//! What [`check_store`] runs, in this order (each name is the
//! [`Failure::check`] of its failures):
//!
//! | check | what it checks | runs when |
//! |---|---|---|
//! | [`check_empty`] | a fresh store is empty | always |
//! | [`check_insert_round_trip`] | every field of a new contact round-trips through `write_batch` and `fetch` (times to the microsecond) | always |
//! | [`check_update_keeps_service_fields`] | an update replaces the import's fields (the opt-in among them) and leaves `created_at`, `last_active` and `state` as stored | always |
//! | [`check_batch_atomicity`] | a batch lands whole or not at all (see [`Conformance::refused_batch`]) | always |
//! | [`check_upsert_rules`] | imports through the engine give the same contacts and counts as the [`MemoryStore`] reference, with the update rules (added tags, blank cells, `FieldPolicy::Overwrite`, `TagPolicy::Replace`) | always |
//! | [`check_sticky_opt_out`] | the opt-in through imports: kept, opted out, and an opt-out (also one the service wrote) never turned into an opt-in unless the policy allows it | always |
//! | [`check_duplicates_in_one_file`] | a phone repeated inside one file, within a batch and across batches | always |
//! | [`check_catalog`] | the catalog is kept, in order, without repeats | [`Capabilities::catalog`] |
//! | [`check_history`] | the import history: ids, newest first, each record read back whole | [`Capabilities::history`] |
//! | [`check_large_batches`] | batches of 12,000 contacts, and a 25,000-row import | always |
//! | [`check_batch_sizes`] | random files imported in random batch sizes leave what importing their rows one by one leaves | always |
//! | [`check_conditional_writes`] | the preconditions of `write_batch`: a create lands only on an absent phone, an update only on the version fetched, the others come back as conflicts | [`Capabilities::conditional_writes`] |
//! | [`check_creates_without_fetch`] | an import that writes phones it did not fetch as creates ([`ContactStore::creates_without_fetch`]) finds the contacts stored after all, and leaves what an import that fetched every phone leaves | [`ContactStore::creates_without_fetch`] |
//!
//! The checks that need more than fresh stores are for a store's tests to
//! call as far as the store can:
//!
//! | check | what the store must offer |
//! |---|---|
//! | [`check_scan`] | [`ContactScan`]: a scan in phone order that stops when the visitor says so |
//! | [`check_filtered_scan`] | [`ContactScan`]: segments and counts exactly [`MemoryStore`]'s, on random contacts and filters |
//! | [`check_reopen`] | persistence: a new handle onto the same contact book reads the contacts, catalog and history an earlier one wrote |
//! | [`check_failing_batch`] | failure injection: a way to make the store refuse one phone (a trigger), and the import history |
//! | [`check_account_isolation`] | account scoping: handles onto one database for two accounts |
//! | [`check_racing_writers`] | several handles onto one contact book, on threads, and conditional writes |

mod accounts;
mod failure;
mod filters;
mod race;
mod reopen;
mod scan;

pub use accounts::check_account_isolation;
pub use failure::check_failing_batch;
pub use filters::{arb_contact, arb_filter, check_filtered_scan};
pub use race::{
    Edit, Editor, Race, add_tag_through_store, check_conditional_writes, check_racing_writers,
};
pub use reopen::check_reopen;
pub use scan::check_scan;

use std::fmt::Debug;
use std::io::Cursor;

use jiff::Timestamp;

use crate::catalog::Catalog;
use crate::contact::{Contact, State, Tag};
use crate::engine::{ImportEngine, ImportMode, ImportOptions};
use crate::options::{FieldPolicy, OptInPolicy, TagPolicy, UpdatePolicy};
use crate::phone::Phone;
use crate::report::ImportReport;
use crate::splitmix::SplitMix64;
#[cfg(doc)]
use crate::store::ContactScan;
use crate::store::{ContactStore, MemoryStore, WriteBatch};

/// A check the store failed: which one, and what was wrong.
#[derive(Debug, thiserror::Error)]
#[error("store conformance check {check:?} failed: {message}")]
pub struct Failure {
    /// The check's name, e.g. `update_keeps_service_fields`.
    pub check: &'static str,
    /// What was expected and what the store did.
    pub message: String,
}

/// What [`check_store`] checked of the store's optional capabilities.
/// Assert the ones your store is meant to have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Conformance {
    /// The store keeps a catalog ([`ContactStore::add_to_catalog`] then
    /// [`ContactStore::load_catalog`] gives it back): [`check_catalog`] ran
    /// and passed. False when the store declared it keeps none.
    pub keeps_catalog: bool,
    /// The store keeps the import history ([`ContactStore::record_import`]
    /// returns ids): [`check_history`] ran and passed. False when the store
    /// declared it keeps none.
    pub keeps_history: bool,
    /// The store refused a batch whose last contact has an empty name (the
    /// engine never writes one; the database stores refuse it with a CHECK
    /// constraint), and was checked to hold nothing of that batch and to
    /// work on afterwards. When false, the store accepted the batch and was
    /// checked to hold all of it: the rollback path was not exercised.
    pub refused_batch: bool,
    /// The preconditions of `write_batch` were checked
    /// ([`check_conditional_writes`]; see [`Capabilities::conditional_writes`]).
    pub conditional_writes: bool,
}

impl Conformance {
    /// The checks [`check_store`] skipped, by name (as in
    /// [`Failure::check`]), because the store declared it lacks their
    /// capability. Empty for a store with every capability.
    pub fn skipped(&self) -> Vec<&'static str> {
        [
            (self.keeps_catalog, "catalog"),
            (self.keeps_history, "history"),
            (self.conditional_writes, "conditional_writes"),
        ]
        .into_iter()
        .filter(|(ran, _)| !ran)
        .map(|(_, name)| name)
        .collect()
    }
}

/// What a store declares it can do, for [`check_store_with`]: the checks
/// of a capability it lacks are skipped, and those of a capability it
/// declares must pass (a store that declares the history but keeps none
/// fails [`check_history`]).
///
/// Start from [`Capabilities::default`] (everything) and take away what
/// the store lacks:
///
/// ```
/// use contact_import::testkit::Capabilities;
///
/// let plain = Capabilities::default().with_catalog(false).with_history(false);
/// assert!(plain.conditional_writes && !plain.history);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// `write_batch` honours [`WriteBatch`]'s preconditions, so the store
    /// is safe with many writers. A store that writes every contact
    /// whatever is stored is correct for one writer only.
    pub conditional_writes: bool,
    /// The store keeps the catalog ([`ContactStore::load_catalog`] and
    /// [`ContactStore::add_to_catalog`] are implemented).
    pub catalog: bool,
    /// The store keeps the import history ([`ContactStore::record_import`],
    /// [`ContactStore::import_history`] and [`ContactStore::import_record`]
    /// are implemented).
    pub history: bool,
}

impl Default for Capabilities {
    /// Everything a store of the crate can do.
    fn default() -> Capabilities {
        Capabilities {
            conditional_writes: true,
            catalog: true,
            history: true,
        }
    }
}

impl Capabilities {
    /// A store for one writer: it ignores the preconditions of writes (and
    /// keeps the catalog and the history).
    pub fn single_writer() -> Capabilities {
        Capabilities::default().with_conditional_writes(false)
    }

    /// Whether `write_batch` honours the preconditions of writes.
    pub fn with_conditional_writes(mut self, yes: bool) -> Capabilities {
        self.conditional_writes = yes;
        self
    }

    /// Whether the store keeps the catalog.
    pub fn with_catalog(mut self, yes: bool) -> Capabilities {
        self.catalog = yes;
        self
    }

    /// Whether the store keeps the import history.
    pub fn with_history(mut self, yes: bool) -> Capabilities {
        self.history = yes;
        self
    }
}

/// Runs every check of the table in the [module docs](self) on stores made
/// by `fresh`, each check on a new one, for a store with every capability
/// ([`Capabilities::default`]).
///
/// Returns the first failure, or what was checked.
pub fn check_store<S, F>(fresh: F) -> Result<Conformance, Failure>
where
    S: ContactStore,
    F: FnMut() -> S,
{
    check_store_with(fresh, Capabilities::default())
}

/// Like [`check_store`], skipping the checks of what `capabilities` says
/// the store cannot do ([`Conformance::skipped`] lists them).
///
/// ```
/// use contact_import::{MemoryStore, testkit};
///
/// let conformance = testkit::check_store_with(MemoryStore::new, testkit::Capabilities::single_writer())?;
/// assert_eq!(conformance.skipped(), ["conditional_writes"]);
/// # Ok::<(), testkit::Failure>(())
/// ```
pub fn check_store_with<S, F>(
    mut fresh: F,
    capabilities: Capabilities,
) -> Result<Conformance, Failure>
where
    S: ContactStore,
    F: FnMut() -> S,
{
    check_empty(&mut fresh())?;
    check_insert_round_trip(&mut fresh())?;
    check_update_keeps_service_fields(&mut fresh())?;
    let refused_batch = check_batch_atomicity(&mut fresh())?;
    check_upsert_rules(&mut fresh())?;
    check_sticky_opt_out(&mut fresh())?;
    check_duplicates_in_one_file(&mut fresh)?;
    if capabilities.catalog {
        check_catalog(&mut fresh())?;
    }
    if capabilities.history {
        check_history(&mut fresh())?;
    }
    check_large_batches(&mut fresh())?;
    check_batch_sizes(&mut fresh, BATCHING_CASES)?;
    if capabilities.conditional_writes {
        check_conditional_writes(&mut fresh())?;
    }
    let mut store = fresh();
    if store.creates_without_fetch() {
        check_creates_without_fetch(&mut store)?;
    }
    Ok(Conformance {
        keeps_catalog: capabilities.catalog,
        keeps_history: capabilities.history,
        refused_batch,
        conditional_writes: capabilities.conditional_writes,
    })
}

/// The engine's clock in every check: whole microseconds, the precision
/// the database stores keep.
const NOW: Timestamp = Timestamp::constant(1_750_000_000, 123_456_000);
const EARLIER: Timestamp = Timestamp::constant(1_600_000_000, 654_321_000);
const ACTIVE: Timestamp = Timestamp::constant(1_700_000_000, 1_000);

pub(crate) fn fail(check: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        check,
        message: message.into(),
    }
}

pub(crate) fn ensure(
    check: &'static str,
    ok: bool,
    message: impl FnOnce() -> String,
) -> Result<(), Failure> {
    if ok {
        Ok(())
    } else {
        Err(fail(check, message()))
    }
}

pub(crate) fn same<T: PartialEq + Debug>(
    check: &'static str,
    what: &str,
    got: &T,
    expected: &T,
) -> Result<(), Failure> {
    ensure(check, got == expected, || {
        format!("{what}: expected {expected:#?}, the store gave {got:#?}")
    })
}

/// Runs a store call, turning its error into a failure of `check`.
pub(crate) fn call<T, E: std::error::Error>(
    check: &'static str,
    result: Result<T, E>,
) -> Result<T, Failure> {
    result.map_err(|e| fail(check, format!("the store failed: {e}")))
}

/// The `n`-th test phone: a valid Indian mobile number.
fn phone(n: u32) -> Phone {
    let text = format!("+9198{:08}", n % 100_000_000);
    Phone::parse_e164(&text).expect("+9198 and 8 digits is E.164 whatever n is")
}

fn fetch_sorted<S: ContactStore>(
    check: &'static str,
    store: &mut S,
    phones: &[Phone],
) -> Result<Vec<Contact>, Failure> {
    let mut found = Vec::new();
    call(check, store.fetch(phones, &mut found))?;
    let mut found: Vec<Contact> = found.into_iter().map(|s| s.contact).collect();
    found.sort_by_key(|c| c.phone);
    Ok(found)
}

/// `contacts` as one write: the new ones created, the stored ones updated
/// at the version the store holds now.
fn upsert<S: ContactStore>(
    check: &'static str,
    store: &mut S,
    contacts: Vec<Contact>,
) -> Result<WriteBatch, Failure> {
    let phones: Vec<Phone> = contacts.iter().map(|c| c.phone).collect();
    let mut found = Vec::new();
    call(check, store.fetch(&phones, &mut found))?;
    let mut batch = WriteBatch::default();
    for contact in contacts {
        match found.iter().find(|s| s.contact.phone == contact.phone) {
            Some(stored) => batch.update.push((contact, stored.version)),
            None => batch.create.push(contact),
        }
    }
    Ok(batch)
}

/// Writes `contacts` with nobody else writing: nothing may conflict.
fn write_all<S: ContactStore>(
    check: &'static str,
    store: &mut S,
    contacts: Vec<Contact>,
) -> Result<(), Failure> {
    let batch = upsert(check, store, contacts)?;
    let conflicts = call(check, store.write_batch(batch))?;
    same(
        check,
        "phones that conflicted in a write nobody raced",
        &conflicts,
        &Vec::new(),
    )
}

fn sorted(mut contacts: Vec<Contact>) -> Vec<Contact> {
    contacts.sort_by_key(|c| c.phone);
    contacts
}

/// Contacts that use every field, with awkward text.
fn sample_contacts() -> Vec<Contact> {
    let names = [
        "Mohit Dua",
        "प्रिया शर्मा",
        "Arjun",
        "O'Brien \"Junior\" Smith",
        "அருண் குமார் ராஜா",
    ];
    let states = [
        None,
        Some(State::Intervened),
        Some(State::Requesting),
        Some(State::Closed),
        Some(State::HandledByAssistant),
    ];
    (0..5u32)
        .map(|i| {
            let idx = i as usize;
            let mut c = Contact::new(phone(i), names[idx].to_owned(), EARLIER);
            c.tags = ["MBA", "Finance, Jobs", "मार्केटिंग"]
                .iter()
                .take(idx % 4)
                .map(|t| Tag::new(t))
                .collect();
            c.source = (i % 2 == 0).then(|| format!("Website \"{i}\", campaign"));
            c.first_message = (i % 3 == 0).then(|| Tag::new("MBA"));
            if i > 0 {
                c.attributes.set("City".into(), "Delhi, \"NCR\"".into());
                c.attributes
                    .set("email".into(), format!("user{i}@example.in"));
                c.attributes
                    .set("Notes".into(), "line one\nline two ✓".into());
            }
            c.last_active = (i % 2 == 1).then_some(ACTIVE);
            c.state = states[idx];
            c.opt_in = [None, Some(true), Some(false)][idx % 3];
            c
        })
        .collect()
}

/// Checks that `store` (fresh) is empty: `fetch` finds nothing, `get`
/// gives `None`.
pub fn check_empty<S: ContactStore>(store: &mut S) -> Result<(), Failure> {
    const CHECK: &str = "empty";
    let found = fetch_sorted(CHECK, store, &[phone(0), phone(1)])?;
    same(CHECK, "contacts in a fresh store", &found, &Vec::new())?;
    let one = call(CHECK, store.get(&phone(0)))?;
    same(CHECK, "get on a fresh store", &one, &None)
}

/// Checks, on a fresh `store`, that contacts using every field, with
/// awkward text (quotes, commas, new lines, Devanagari and Tamil), read back
/// exactly as written, times to the microsecond; a phone not written is not
/// found.
pub fn check_insert_round_trip<S: ContactStore>(store: &mut S) -> Result<(), Failure> {
    const CHECK: &str = "insert_round_trip";
    let contacts = sample_contacts();
    write_all(CHECK, store, contacts.clone())?;
    let mut asked: Vec<Phone> = contacts.iter().map(|c| c.phone).collect();
    asked.push(phone(99));
    let found = fetch_sorted(CHECK, store, &asked)?;
    same(
        CHECK,
        "contacts read back",
        &found,
        &sorted(contacts.clone()),
    )?;
    let one = call(CHECK, store.get(&phone(1)))?;
    same(CHECK, "get", &one, &contacts.get(1).cloned())
}

/// Checks, on a fresh `store`, that an update replaces the import's fields
/// (name, tags, source, first message, attributes, opt-in) and leaves
/// `created_at`, `last_active` and `state` as stored.
pub fn check_update_keeps_service_fields<S: ContactStore>(store: &mut S) -> Result<(), Failure> {
    const CHECK: &str = "update_keeps_service_fields";
    let stored = sample_contacts();
    write_all(CHECK, store, stored.clone())?;
    let updates: Vec<Contact> = stored
        .iter()
        .map(|old| {
            let mut new = Contact::new(old.phone, format!("{} Updated", old.name()), NOW);
            new.tags = [Tag::new("Marketing")].into_iter().collect();
            new.source = old.source.is_none().then(|| "Referral".to_owned());
            new.attributes.set("State".into(), "Kerala".into());
            new
        })
        .collect();
    write_all(CHECK, store, updates.clone())?;
    let expected: Vec<Contact> = updates
        .into_iter()
        .zip(&stored)
        .map(|(mut new, old)| {
            new.created_at = old.created_at;
            new.last_active = old.last_active;
            new.state = old.state;
            new
        })
        .collect();
    let phones: Vec<Phone> = stored.iter().map(|c| c.phone).collect();
    let found = fetch_sorted(CHECK, store, &phones)?;
    same(
        CHECK,
        "updated contacts (name, tags, source, first message and attributes replaced; created_at, last_active and state as stored)",
        &found,
        &sorted(expected),
    )
}

/// Checks, on a fresh `store`, that a batch lands whole or not at all: a
/// batch over stored contacts whose last contact has an empty name either
/// is refused and leaves nothing of itself (and a good batch lands after
/// it), or is accepted and lands whole. Returns whether the store refused
/// it (see [`Conformance::refused_batch`]): assert it for a store meant to
/// refuse an empty name.
pub fn check_batch_atomicity<S: ContactStore>(store: &mut S) -> Result<bool, Failure> {
    const CHECK: &str = "batch_atomicity";
    let before = sample_contacts();
    write_all(CHECK, store, before.clone())?;
    let mut batch: Vec<Contact> = before
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.set_name("Changed Name");
            c
        })
        .collect();
    batch.extend((100..150).map(|i| Contact::new(phone(i), format!("New {i}"), NOW)));
    batch.push(Contact::new(phone(150), String::new(), NOW));
    let phones: Vec<Phone> = batch.iter().map(|c| c.phone).collect();
    let write = upsert(CHECK, store, batch.clone())?;
    let refused = store.write_batch(write).is_err();
    let found = fetch_sorted(CHECK, store, &phones)?;
    if refused {
        same(
            CHECK,
            "contacts after a refused batch (nothing of it may remain)",
            &found,
            &sorted(before),
        )?;
        let retry: Vec<Contact> = batch.into_iter().filter(|c| !c.name().is_empty()).collect();
        write_all(CHECK, store, retry.clone())?;
        let found = fetch_sorted(CHECK, store, &phones)?;
        same(
            CHECK,
            "a good batch written after a refused one",
            &found,
            &sorted(retry),
        )?;
    } else {
        same(
            CHECK,
            "contacts after an accepted batch (all of it)",
            &found,
            &sorted(batch),
        )?;
    }
    Ok(refused)
}

fn catalog() -> Catalog {
    Catalog::new()
        .with_tags(["MBA", "Finance", "Marketing", "VIP"])
        .with_attributes(["City", "email", "State"])
}

const FIRST_FILE: &str = "\
Name,Mobile Number,Tags,Source,First Message,City,email,State
Mohit Dua,+919876543452,MBA,Website,,Delhi,mohit@example.com,Delhi
Priya Sharma,9876543210,MBA | Finance,Facebook Ad,Finance,Mumbai,priya@example.com,Maharashtra
Arjun Mehta,919812345678,Marketing,,MBA,Bengaluru,,Karnataka
Sneha Iyer,098450 12345,Finance,Referral,,Chennai,,Tamil Nadu
Broken,12345,MBA,,,,,
";

const SECOND_FILE: &str = "\
Name,Phone,Tags,Source,First Message,City,email,State
Mohit  Kumar Dua,9876543452,Finance | MBA,,,,,Haryana
Priya Sharma,+91 98765 43210,VIP,Newsletter,Marketing,,,
Asha Rao,9000012345,Unknown Tag,,,Pune,asha@example.com,
";

/// Imports `files` one after the other, with `options`, into `store` and
/// into a reference [`MemoryStore`], and checks both give the same reports
/// and contacts. Returns the store's reports.
fn import_like_reference<S: ContactStore>(
    check: &'static str,
    store: &mut S,
    reference: &mut MemoryStore,
    files: &[&str],
    options: &ImportOptions,
) -> Result<Vec<ImportReport>, Failure> {
    let engine = ImportEngine::new(catalog(), NOW).with_options(options.clone());
    let mut reports = Vec::new();
    let mut phones = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let report = call(check, engine.import_bytes(file.as_bytes(), store))?;
        let expected = call(check, engine.import_bytes(file.as_bytes(), reference))?;
        same(
            check,
            &format!("report of file {}", i + 1),
            &report,
            &expected,
        )?;
        phones.extend(report.phones_added.iter().chain(&report.phones_updated));
        reports.push(report);
    }
    phones.sort_unstable();
    phones.dedup();
    let found = fetch_sorted(check, store, &phones)?;
    let expected = fetch_sorted(check, reference, &phones)?;
    same(check, "contacts after the imports", &found, &expected)?;
    Ok(reports)
}

/// Checks, on a fresh `store`, that two imports through the engine give
/// the same reports and contacts as the same imports into a [`MemoryStore`],
/// with the upsert rules: a contact the service created keeps its
/// `created_at`, `last_active`, `state` and source (a blank cell keeps a
/// value), its tags are added to, and with `FieldPolicy::Overwrite` and
/// `TagPolicy::Replace` a blank cell clears and tags are replaced.
pub fn check_upsert_rules<S: ContactStore>(store: &mut S) -> Result<(), Failure> {
    const CHECK: &str = "upsert_rules";
    // A contact the service created and chatted with before the import.
    let mut known = Contact::new(parse(CHECK, "+919812345678")?, "Arjun".to_owned(), EARLIER);
    known.tags = [Tag::new("VIP")].into_iter().collect();
    known.last_active = Some(ACTIVE);
    known.state = Some(State::Intervened);
    known.source = Some("ORGANIC".to_owned());
    write_all(CHECK, store, vec![known.clone()])?;
    let mut reference = MemoryStore::new();
    reference.insert(known.clone());

    let files = [FIRST_FILE, SECOND_FILE];
    let reports = import_like_reference(
        CHECK,
        store,
        &mut reference,
        &files,
        &ImportOptions::default(),
    )?;
    let counts: Vec<(u64, u64, u64)> = reports
        .iter()
        .map(|r| (r.added, r.updated, r.failed))
        .collect();
    same(
        CHECK,
        "(added, updated, failed) of the two files",
        &counts,
        &vec![(3, 1, 1), (1, 2, 0)],
    )?;

    let arjun =
        call(CHECK, store.get(&known.phone))?.ok_or_else(|| fail(CHECK, "Arjun is gone"))?;
    same(CHECK, "Arjun's created_at", &arjun.created_at, &EARLIER)?;
    same(
        CHECK,
        "Arjun's last_active",
        &arjun.last_active,
        &Some(ACTIVE),
    )?;
    same(
        CHECK,
        "Arjun's state",
        &arjun.state,
        &Some(State::Intervened),
    )?;
    same(CHECK, "Arjun's name", &arjun.name(), &"Arjun Mehta")?;
    let tags: Vec<&str> = arjun.tags.iter().map(|t| t.as_str()).collect();
    same(
        CHECK,
        "Arjun's tags (added to the stored ones)",
        &tags,
        &vec!["VIP", "Marketing"],
    )?;
    same(
        CHECK,
        "Arjun's source (blank cell keeps it)",
        &arjun.source.as_deref(),
        &Some("ORGANIC"),
    )?;

    let mohit = call(CHECK, store.get(&parse(CHECK, "+919876543452")?))?
        .ok_or_else(|| fail(CHECK, "Mohit is missing"))?;
    same(CHECK, "Mohit's name", &mohit.name(), &"Mohit Kumar Dua")?;
    same(
        CHECK,
        "Mohit's City (blank cell keeps it)",
        &mohit.attributes.get("City"),
        &Some("Delhi"),
    )?;
    same(
        CHECK,
        "Mohit's State",
        &mohit.attributes.get("State"),
        &Some("Haryana"),
    )?;
    same(CHECK, "Mohit's created_at", &mohit.created_at, &NOW)?;

    let clearing = ImportOptions::new().with_update(
        UpdatePolicy::new()
            .with_tags(TagPolicy::Replace)
            .with_source(FieldPolicy::Overwrite)
            .with_first_message(FieldPolicy::Overwrite)
            .with_attributes(FieldPolicy::Overwrite),
    );
    import_like_reference(CHECK, store, &mut reference, &[SECOND_FILE], &clearing)?;
    let priya = call(CHECK, store.get(&parse(CHECK, "+919876543210")?))?
        .ok_or_else(|| fail(CHECK, "Priya is missing"))?;
    same(
        CHECK,
        "Priya's City after a blank cell with FieldPolicy::Overwrite",
        &priya.attributes.get("City"),
        &None,
    )?;
    let tags: Vec<&str> = priya.tags.iter().map(|t| t.as_str()).collect();
    same(
        CHECK,
        "Priya's tags with TagPolicy::Replace",
        &tags,
        &vec!["VIP"],
    )
}

/// An opt-in per contact; Ravi and a contact the service opted out
/// before any import say yes later, and stay opted out.
const OPT_IN_FIRST: &str = "\
Name,Phone,WhatsApp Opt-in
Asha Rao,9876500001,yes
Ravi Kumar,9876500002,no
Meera Nair,9876500003,
John Smith,9876500004,maybe
Stopped Before,9876500005,TRUE
";

/// An old sheet uploaded again: everyone says opted in but Asha, who
/// said STOP, and says yes again in a later row of the same file.
const OPT_IN_SECOND: &str = "\
Name,Phone,Opted In
Asha Rao,9876500001,Opted Out
Ravi Kumar,9876500002,yes
Meera Nair,9876500003,subscribed
John Smith,9876500004,
Asha Rao,9876500001,1
";

/// Checks, on a fresh `store`, the opt-in through imports in batches of
/// two, against [`MemoryStore`]: a yes is kept, an opt-out (also one the
/// service wrote before any import, and one earlier in the same file) is
/// never turned into an opt-in, with the warnings that say so, unless
/// `OptInPolicy::AllowOptInAgain` allows it; an unsubscribe then opts out.
pub fn check_sticky_opt_out<S: ContactStore>(store: &mut S) -> Result<(), Failure> {
    const CHECK: &str = "sticky_opt_out";
    let mut stopped = Contact::new(
        parse(CHECK, "+919876500005")?,
        "Stopped Before".into(),
        EARLIER,
    );
    stopped.opt_in = Some(false);
    write_all(CHECK, store, vec![stopped.clone()])?;
    let mut reference = MemoryStore::new();
    reference.insert(stopped);
    // Batches of two: the repeated phone is in another batch.
    let options = ImportOptions::new().with_batch_size(2);
    let files = [OPT_IN_FIRST, OPT_IN_SECOND];
    let reports = import_like_reference(CHECK, store, &mut reference, &files, &options)?;
    let opt_in = |store: &mut S, e164: &str| -> Result<Option<bool>, Failure> {
        let contact = call(CHECK, store.get(&parse(CHECK, e164)?))?;
        Ok(contact
            .ok_or_else(|| fail(CHECK, format!("{e164} is missing")))?
            .opt_in)
    };
    let all = [
        "+919876500001",
        "+919876500002",
        "+919876500003",
        "+919876500004",
        "+919876500005",
    ];
    let mut found = Vec::new();
    for e164 in all {
        found.push(opt_in(store, e164)?);
    }
    same(
        CHECK,
        "opt-ins of Asha, Ravi, Meera, John and the contact opted out before (yes then opted out; no then yes; unknown then subscribed; maybe then empty; stored opt-out then TRUE)",
        &found,
        &vec![Some(false), Some(false), Some(true), None, Some(false)],
    )?;
    let codes = |report: &ImportReport| -> Vec<(Option<u64>, &'static str)> {
        report
            .warnings
            .iter()
            .map(|w| (w.row, w.code.as_str()))
            .collect()
    };
    same(
        CHECK,
        "warnings of the two files",
        &(codes(&reports[0]), codes(&reports[1])),
        &(
            vec![(Some(5), "invalid_opt_in"), (Some(6), "opt_out_kept")],
            vec![(Some(3), "opt_out_kept"), (Some(6), "opt_out_kept")],
        ),
    )?;
    let again = options.with_update(UpdatePolicy::new().with_opt_in(OptInPolicy::AllowOptInAgain));
    let fresh_consent = "Name,Phone,Consent\nRavi Kumar,9876500002,1\n";
    let report = import_like_reference(CHECK, store, &mut reference, &[fresh_consent], &again)?;
    same(
        CHECK,
        "Ravi's opt-in under allow_opt_in_again",
        &opt_in(store, "+919876500002")?,
        &Some(true),
    )?;
    same(
        CHECK,
        "the warning of an opt-in under allow_opt_in_again",
        &report.first().map(codes),
        &Some(vec![(Some(2), "opted_in_again")]),
    )?;
    let stop = "Name,Phone,Consent\nRavi Kumar,9876500002,unsubscribed\n";
    import_like_reference(CHECK, store, &mut reference, &[stop], &again)?;
    same(
        CHECK,
        "Ravi's opt-in after unsubscribed",
        &opt_in(store, "+919876500002")?,
        &Some(false),
    )
}

fn parse(check: &'static str, e164: &str) -> Result<Phone, Failure> {
    Phone::parse_e164(e164).ok_or_else(|| fail(check, format!("{e164} is not E.164")))
}

/// Checks, on stores made by `fresh` (one for each batch size: 1, 2 and
/// 1,000), that a phone written three ways in one file is one contact,
/// added once and updated after, within a batch and across batches, as in
/// [`MemoryStore`].
pub fn check_duplicates_in_one_file<S, F>(mut fresh: F) -> Result<(), Failure>
where
    S: ContactStore,
    F: FnMut() -> S,
{
    const CHECK: &str = "duplicates_in_one_file";
    let file = "\
Name,Phone,Tags,City
Asha Rao,9876543210,MBA,Pune
Other One,9000000001,,
Asha R,+91 98765-43210,Finance,
Asha Rao Iyer,09876543210,MBA | VIP,Mumbai
Other One,9000000001,VIP,Delhi
";
    for batch_size in [1, 2, 1_000] {
        let options = ImportOptions::new().with_batch_size(batch_size);
        let mut store = fresh();
        let mut reference = MemoryStore::new();
        let reports = import_like_reference(CHECK, &mut store, &mut reference, &[file], &options)?;
        let counts = reports.first().map(|r| (r.added, r.updated));
        same(
            CHECK,
            &format!("(added, updated) with batch size {batch_size}"),
            &counts,
            &Some((2, 3)),
        )?;
    }
    Ok(())
}

/// Checks, on a fresh `store`, an import that writes phones it did not
/// fetch as creates, for a store whose
/// [`creates_without_fetch`](ContactStore::creates_without_fetch) is true
/// (on another, it checks the plain import). In batches of two, the first
/// batch finds none of its phones, so the next ones fetch only the phones
/// an earlier batch wrote; a contact the service created before the import
/// is in the third batch, and must be found by its create's conflict and
/// updated (its service fields, tags and opt-out kept), not overwritten,
/// with no conflict reported. The same with add-only (the stored contact
/// is left as it is) and update-only imports (nothing is added). Each
/// import is compared with the same import into a [`MemoryStore`].
pub fn check_creates_without_fetch<S: ContactStore>(store: &mut S) -> Result<(), Failure> {
    const CHECK: &str = "creates_without_fetch";
    let modes = [
        (ImportMode::AddAndUpdate, (5, 2, 0)),
        (ImportMode::AddOnly, (5, 0, 0)),
        (ImportMode::UpdateOnly, (0, 1, 0)),
    ];
    let mut reference = MemoryStore::new();
    for (n, (mode, expected)) in (1..).zip(modes) {
        // Other phones for each import, so that each starts into a book
        // that holds none of its first batch's phones.
        let file = format!(
            "\
Name,Phone,Tags,City,WhatsApp Opt-in
Asha Rao,98765{n}0101,MBA,Pune,yes
Ravi Kumar,98765{n}0102,,Delhi,
Meera Nair,98765{n}0103,Finance,,
Asha R,98765{n}0101,VIP,,
Known Person,98765{n}0199,MBA,Chennai,yes
Dev Shah,98765{n}0104,,Surat,
Tara Das,98765{n}0105,MBA,,
"
        );
        let mut known = Contact::new(
            parse(CHECK, &format!("+9198765{n}0199"))?,
            "Known".to_owned(),
            EARLIER,
        );
        known.tags = [Tag::new("VIP")].into_iter().collect();
        known.source = Some("ORGANIC".to_owned());
        known.last_active = Some(ACTIVE);
        known.state = Some(State::Intervened);
        known.opt_in = Some(false);
        write_all(CHECK, store, vec![known.clone()])?;
        reference.insert(known.clone());

        let options = ImportOptions::new().with_batch_size(2).with_mode(mode);
        let reports = import_like_reference(CHECK, store, &mut reference, &[&file], &options)?;
        let counts = reports.first().map(|r| (r.added, r.updated, r.conflicts));
        same(
            CHECK,
            &format!("(added, updated, conflicts) of the {mode:?} import"),
            &counts,
            &Some(expected),
        )?;
        let stored = call(CHECK, store.get(&known.phone))?
            .ok_or_else(|| fail(CHECK, "the contact stored before the import is gone"))?;
        same(CHECK, "its created_at", &stored.created_at, &EARLIER)?;
        same(CHECK, "its state", &stored.state, &Some(State::Intervened))?;
        same(CHECK, "its opt-in", &stored.opt_in, &Some(false))?;
        ensure(
            CHECK,
            stored.tags.iter().any(|t| t.as_str() == "VIP"),
            || format!("its VIP tag was lost: {stored:?}"),
        )?;
    }
    Ok(())
}

/// Checks, on a fresh `store`, that the catalog starts empty, and that
/// what is added to it twice is given back in order, without repeats.
/// For a store that keeps the catalog ([`Capabilities::catalog`]).
pub fn check_catalog<S: ContactStore>(store: &mut S) -> Result<(), Failure> {
    const CHECK: &str = "catalog";
    let empty = call(CHECK, store.load_catalog())?;
    same(CHECK, "catalog of a fresh store", &empty, &Catalog::new())?;
    let first = Catalog::new()
        .with_tags(["MBA", "Finance", "मार्केटिंग"])
        .with_attributes(["City", "email"]);
    call(CHECK, store.add_to_catalog(&first))?;
    let loaded = call(CHECK, store.load_catalog())?;
    ensure(CHECK, loaded != Catalog::new(), || {
        "the store kept nothing of the catalog added to it: implement load_catalog and add_to_catalog, or declare Capabilities::with_catalog(false)".to_owned()
    })?;
    same(CHECK, "catalog after adding to it", &loaded, &first)?;
    let second = Catalog::new()
        .with_tags(["VIP", "MBA"])
        .with_attributes(["State", "City"]);
    call(CHECK, store.add_to_catalog(&second))?;
    let mut expected = first;
    expected.merge(&second);
    let loaded = call(CHECK, store.load_catalog())?;
    same(
        CHECK,
        "catalog after adding to it twice (order kept, no repeats)",
        &loaded,
        &expected,
    )
}

/// Checks, on a fresh `store`, the import history: it starts empty; two
/// recorded imports get ids of their own, are listed newest first, and
/// read back whole (the second's file name has a space); an id never
/// recorded finds nothing; a stored import's failure file holds its failed
/// row's cells. For a store that keeps the history
/// ([`Capabilities::history`]).
pub fn check_history<S: ContactStore>(store: &mut S) -> Result<(), Failure> {
    const CHECK: &str = "history";
    let none = call(CHECK, store.import_history())?;
    same(CHECK, "history of a fresh store", &none.len(), &0)?;
    let engine = ImportEngine::new(catalog(), NOW);
    let first = call(
        CHECK,
        engine.import_recorded("first.csv", Cursor::new(FIRST_FILE), store, |_| {}),
    )?;
    let second = call(
        CHECK,
        engine.import_recorded("second file.csv", Cursor::new(SECOND_FILE), store, |_| {}),
    )?;
    ensure(CHECK, first.id != 0 || second.id != 0, || {
        "record_import gave no id: implement the history methods, or declare Capabilities::with_history(false)".to_owned()
    })?;
    ensure(CHECK, first.id != second.id, || {
        format!("two imports got the same id {}", first.id)
    })?;
    let listed = call(CHECK, store.import_history())?;
    same(
        CHECK,
        "imports, newest first",
        &listed,
        &vec![second.summary(), first.summary()],
    )?;
    for record in [&first, &second] {
        let loaded = call(CHECK, store.import_record(record.id))?;
        same(
            CHECK,
            &format!("import {} read back", record.id),
            &loaded.as_ref(),
            &Some(record),
        )?;
    }
    let missing = first.id.max(second.id) + 1_000;
    let loaded = call(CHECK, store.import_record(missing))?;
    same(CHECK, "an import that was never recorded", &loaded, &None)?;
    let mut failures = Vec::new();
    call(CHECK, first.report.write_failures(&mut failures))?;
    ensure(
        CHECK,
        String::from_utf8_lossy(&failures).contains("Broken,12345"),
        || "the failure file of a stored import lacks the failed row's cells".to_owned(),
    )
}

/// Checks, on a fresh `store`, 12,000 contacts written in one batch and
/// read back equal, then a 25,000-row import in batches of 12,500 over
/// them, against [`MemoryStore`].
pub fn check_large_batches<S: ContactStore>(store: &mut S) -> Result<(), Failure> {
    const CHECK: &str = "large_batches";
    let contacts: Vec<Contact> = (0..12_000u32)
        .map(|i| {
            let mut c = Contact::new(phone(i), format!("Bulk Contact {i}"), EARLIER);
            c.tags = [Tag::new("MBA")].into_iter().collect();
            c.attributes.set("City".into(), format!("City {}", i % 97));
            c
        })
        .collect();
    write_all(CHECK, store, contacts.clone())?;
    let phones: Vec<Phone> = contacts.iter().map(|c| c.phone).collect();
    let found = fetch_sorted(CHECK, store, &phones)?;
    same(
        CHECK,
        "12,000 contacts written in one batch",
        &found.len(),
        &contacts.len(),
    )?;
    ensure(CHECK, found == sorted(contacts.clone()), || {
        "12,000 contacts written in one batch do not read back equal".to_owned()
    })?;

    let mut reference = MemoryStore::new();
    for contact in contacts {
        reference.insert(contact);
    }
    let mut file = String::from("Name,Phone,Tags,City\n");
    for i in 6_000..31_000u32 {
        let local = phone(i).as_str().trim_start_matches("+91").to_owned();
        file.push_str(&format!("Row {i},{local},Finance,Town {}\n", i % 13));
    }
    let options = ImportOptions::new().with_batch_size(12_500);
    let reports = import_like_reference(CHECK, store, &mut reference, &[&file], &options)?;
    let counts = reports.first().map(|r| (r.added, r.updated));
    same(
        CHECK,
        "(added, updated) of a 25,000-row import",
        &counts,
        &Some((19_000, 6_000)),
    )
}

/// How many random files [`check_store`] runs through [`check_batch_sizes`].
const BATCHING_CASES: u64 = 12;

/// Checks, on stores made by `fresh`, that batching changes nothing: for
/// `cases` random files (phones repeated within and across batches, blank
/// and unknown cells, failing rows), importing the file with a random batch
/// size leaves the same contacts, and the same counts, as importing each of
/// its rows on its own, in file order, into another fresh store.
///
/// The files and batch sizes come from a fixed seed, so a failure repeats.
///
/// ```
/// use contact_import::{MemoryStore, testkit};
///
/// testkit::check_batch_sizes(MemoryStore::new, 5)?;
/// # Ok::<(), testkit::Failure>(())
/// ```
pub fn check_batch_sizes<S, F>(mut fresh: F, cases: u64) -> Result<(), Failure>
where
    S: ContactStore,
    F: FnMut() -> S,
{
    const CHECK: &str = "batch_sizes";
    for case in 0..cases {
        let mut random = SplitMix64::new(case);
        let rows = random_rows(&mut random);
        let batch_size = 2 + random.below(7);
        let batched_engine = ImportEngine::new(catalog(), NOW)
            .with_options(ImportOptions::new().with_batch_size(batch_size));
        let mut batched = fresh();
        let report = call(
            CHECK,
            batched_engine.import_bytes(random_file(&rows).as_bytes(), &mut batched),
        )?;

        let single_engine = ImportEngine::new(catalog(), NOW);
        let mut one_by_one = fresh();
        let mut counts = (0, 0, 0, 0);
        let mut phones = Vec::new();
        for row in &rows {
            let file = random_file(std::slice::from_ref(row));
            let single = call(
                CHECK,
                single_engine.import_bytes(file.as_bytes(), &mut one_by_one),
            )?;
            counts.0 += single.added;
            counts.1 += single.updated;
            counts.2 += single.unchanged;
            counts.3 += single.failed;
            phones.extend(single.phones_added);
        }
        let what = format!("case {case} ({} rows, batches of {batch_size})", rows.len());
        same(
            CHECK,
            &format!("(added, updated, unchanged, failed) of {what}"),
            &(
                report.added,
                report.updated,
                report.unchanged,
                report.failed,
            ),
            &counts,
        )?;
        let found = fetch_sorted(CHECK, &mut batched, &phones)?;
        let expected = fetch_sorted(CHECK, &mut one_by_one, &phones)?;
        same(CHECK, &format!("contacts of {what}"), &found, &expected)?;
    }
    Ok(())
}

/// Up to 40 rows of Name, Phone, Tags, Source, City and an opt-in over
/// eight phones, so phones repeat inside batches and across them.
fn random_rows(random: &mut SplitMix64) -> Vec<[String; 6]> {
    let count = 1 + random.below(40);
    (0..count)
        .map(|_| {
            let phone = match random.below(10) {
                0 => "12345".to_owned(),
                1 => String::new(),
                n => phone(n as u32).as_str().to_owned(),
            };
            [
                random
                    .pick(&["Asha", "Ravi Kumar", "", "  Mohit  Dua "])
                    .to_owned(),
                phone,
                random
                    .pick(&["", "MBA", "Finance | MBA", "VIP", "Unknown"])
                    .to_owned(),
                random.pick(&["", "Website", "Referral"]).to_owned(),
                random.pick(&["", "Pune", "Delhi"]).to_owned(),
                random.pick(&["", "yes", "no", "maybe"]).to_owned(),
            ]
        })
        .collect()
}

fn random_file(rows: &[[String; 6]]) -> String {
    let mut file = String::from("Name,Phone,Tags,Source,City,Opt-in\n");
    for row in rows {
        file.push_str(&row.join(","));
        file.push('\n');
    }
    file
}
