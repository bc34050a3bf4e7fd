//! The account isolation check: two businesses in one database share
//! phones, and nothing of one reaches the other.

use std::io::Cursor;

use crate::account::Account;
use crate::catalog::Catalog;
use crate::engine::ImportEngine;
use crate::export::{export, export_phones};
use crate::filter::Filter;
use crate::history::ImportRecord;
use crate::phone::Phone;
use crate::store::{ContactScan, MemoryStore};
use crate::testkit::{Failure, NOW, call, ensure, fetch_sorted, same};

const CHECK: &str = "account_isolation";

/// Both files hold +919800000001 and +919800000002, and one failing row.
const ACME_FILE: &str = "\
Name,Phone,Tags,City
Asha Acme,9800000001,MBA,Delhi
Ravi Acme,9800000002,MBA,Pune
Only Acme,9800000003,,Delhi
Broken Acme,12345,MBA,Delhi
";
const GLOBEX_FILE: &str = "\
Name,Phone,Tags,Plan
Asha Globex,9800000001,Finance,Gold
Ravi Globex,9800000002,,Silver
Only Globex,9800000004,Finance,Gold
Broken Globex,999,Finance,Gold
";
/// Globex's second import: renames a shared phone, adds none.
const GLOBEX_UPDATE: &str = "Name,Phone,Tags\nAsha G. Globex,9800000001,\n";

/// One account's side of the check: its handle, the same imports into a
/// [`MemoryStore`] (what the handle must hold), and its records.
struct Side<S> {
    store: S,
    reference: MemoryStore,
    engine: ImportEngine,
    records: Vec<ImportRecord>,
}

impl<S: ContactScan> Side<S> {
    fn new(mut store: S, catalog: Catalog) -> Result<Side<S>, Failure> {
        call(CHECK, store.add_to_catalog(&catalog))?;
        let loaded = call(CHECK, store.load_catalog())?;
        same(CHECK, "the account's catalog", &loaded, &catalog)?;
        Ok(Side {
            store,
            reference: MemoryStore::new(),
            engine: ImportEngine::new(loaded, NOW),
            records: Vec::new(),
        })
    }

    fn import(&mut self, name: &str, file: &str) -> Result<&ImportRecord, Failure> {
        let record = self
            .engine
            .import_recorded(name, Cursor::new(file), &mut self.store, |_| {});
        let record = call(CHECK, record)?;
        let expected = call(
            CHECK,
            self.engine
                .import_bytes(file.as_bytes(), &mut self.reference),
        )?;
        same(
            CHECK,
            &format!("the report of {name} (the same import into an empty MemoryStore)"),
            &record.report,
            &expected,
        )?;
        ensure(CHECK, record.id > 0, || {
            format!(
                "{name} was not recorded: the check needs a store that keeps the import history"
            )
        })?;
        self.records.push(record);
        Ok(self.records.last().expect("pushed above"))
    }

    /// The export of the whole account must be the reference's.
    fn check_export(&mut self, what: &str) -> Result<(), Failure> {
        let catalog = self.engine.catalog();
        let everyone = Filter::everyone();
        let mut got = Vec::new();
        let exported = export(&mut self.store, &everyone, catalog, NOW, &mut got);
        call(CHECK, exported.map_err(|e| e.to_string()).map_err(Error))?;
        let mut expected = Vec::new();
        let reference = export(&mut self.reference, &everyone, catalog, NOW, &mut expected);
        call(CHECK, reference.map_err(|e| e.to_string()).map_err(Error))?;
        same(
            CHECK,
            &format!("{what}: the export of every contact"),
            &String::from_utf8_lossy(&got),
            &String::from_utf8_lossy(&expected),
        )
    }

    /// The history lists this account's imports only, newest first, and
    /// each one's failure file holds this account's failed rows.
    fn check_history(&mut self, what: &str, own: &str, other: &str) -> Result<(), Failure> {
        let listed = call(CHECK, self.store.import_history())?;
        let expected: Vec<_> = self.records.iter().rev().map(|r| r.summary()).collect();
        same(
            CHECK,
            &format!("{what}: the import history"),
            &listed,
            &expected,
        )?;
        for record in &self.records {
            let kept = call(CHECK, self.store.import_record(record.id))?;
            same(
                CHECK,
                &format!("{what}: import #{}", record.id),
                &kept,
                &Some(record.clone()),
            )?;
        }
        let first = &self.records[0];
        let mut failures = Vec::new();
        call(CHECK, first.report.write_failures(&mut failures))?;
        let failures = String::from_utf8_lossy(&failures);
        ensure(
            CHECK,
            failures.contains(own) && !failures.contains(other),
            || {
                format!(
                    "{what}: the failure file of import #{} is {failures:?}",
                    first.id
                )
            },
        )
    }

    /// The download of what an import added or updated: the account's
    /// contacts as they are now, as the reference gives them.
    fn check_downloads(&mut self, what: &str, record: usize) -> Result<(), Failure> {
        let catalog = self.engine.catalog().clone();
        let report = &self.records[record].report;
        for (list, phones) in [
            ("added", &report.phones_added),
            ("updated", &report.phones_updated),
        ] {
            let mut got = Vec::new();
            let written = export_phones(&mut self.store, phones, &catalog, NOW, &mut got);
            call(CHECK, written.map_err(|e| e.to_string()).map_err(Error))?;
            let mut expected = Vec::new();
            let reference =
                export_phones(&mut self.reference, phones, &catalog, NOW, &mut expected);
            call(CHECK, reference.map_err(|e| e.to_string()).map_err(Error))?;
            same(
                CHECK,
                &format!(
                    "{what}: the contacts import #{} {list}",
                    self.records[record].id
                ),
                &String::from_utf8_lossy(&got),
                &String::from_utf8_lossy(&expected),
            )?;
        }
        Ok(())
    }

    fn count(&mut self, filter: &Filter) -> Result<u64, Failure> {
        call(CHECK, self.store.count(filter))
    }
}

/// An error message as an error, for [`call`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Error(String);

/// Checks that two accounts of one database share nothing: `open(account)`
/// must return a store handle for `account` on one and the same database,
/// empty when the check starts (it is called for the accounts `acme` and
/// `globex`, and again for `acme` to check a new handle).
///
/// The two accounts get different catalogs, then import files that share
/// two phones (each file with a failing row). Checked, for each account:
/// - its catalog is its own;
/// - the shared phones are added in both accounts (two contacts each), and
///   an update in one leaves the other's contact as it was;
/// - `fetch` does not find the other account's phones;
/// - counts and filtered scans (tags, attributes, a name search) see its
///   own contacts only, and its export is exactly what the same imports
///   into an empty [`MemoryStore`] export;
/// - its import history lists its imports only; an id of the other
///   account's import finds nothing; its failure file holds its failed
///   rows only;
/// - [`export_phones`] of an import's added and updated phones writes its
///   own contacts only.
///
/// The store must keep the catalog and the import history.
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use contact_import::{SqliteStore, testkit};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("shared.db");
/// testkit::check_account_isolation(|account| {
///     SqliteStore::open(&path).unwrap().for_account(account.clone())
/// })?;
/// # }
/// # Ok::<(), contact_import::testkit::Failure>(())
/// ```
pub fn check_account_isolation<S, F>(mut open: F) -> Result<(), Failure>
where
    S: ContactScan,
    F: FnMut(&Account) -> S,
{
    let acme_account = Account::new("acme").expect("a valid account name");
    let globex_account = Account::new("globex").expect("a valid account name");
    let mut acme = Side::new(
        open(&acme_account),
        Catalog::new().with_tags(["MBA"]).with_attributes(["City"]),
    )?;
    let mut globex = Side::new(
        open(&globex_account),
        Catalog::new()
            .with_tags(["Finance"])
            .with_attributes(["Plan"]),
    )?;

    let added = acme.import("acme.csv", ACME_FILE)?.report.added;
    same(CHECK, "contacts acme.csv added", &added, &3)?;
    let report = &globex.import("globex.csv", GLOBEX_FILE)?.report;
    same(
        CHECK,
        "contacts globex.csv added (its phones are new to globex, whatever acme holds)",
        &(report.added, report.updated),
        &(3, 0),
    )?;
    let updated = globex.import("update.csv", GLOBEX_UPDATE)?.report.updated;
    same(CHECK, "contacts update.csv updated", &updated, &1)?;

    let phone = |n: u32| Phone::parse_e164(&format!("+91980000000{n}")).expect("E.164");
    let acme_only = fetch_sorted(CHECK, &mut acme.store, &[phone(4)])?;
    ensure(CHECK, acme_only.is_empty(), || {
        format!("acme fetched globex's contact: {acme_only:?}")
    })?;
    let globex_only = fetch_sorted(CHECK, &mut globex.store, &[phone(3)])?;
    ensure(CHECK, globex_only.is_empty(), || {
        format!("globex fetched acme's contact: {globex_only:?}")
    })?;
    let shared = fetch_sorted(CHECK, &mut acme.store, &[phone(1)])?;
    let names: Vec<&str> = shared.iter().map(|c| c.name()).collect();
    same(
        CHECK,
        "acme's name of the shared phone",
        &names,
        &vec!["Asha Acme"],
    )?;

    let with_attributes = Filter::attribute_set("Plan") | Filter::attribute_set("City");
    for (side, own_tag, other_tag, other_name) in [
        (&mut acme, "MBA", "Finance", "Only Globex"),
        (&mut globex, "Finance", "MBA", "Only Acme"),
    ] {
        let counts = (
            side.count(&Filter::everyone())?,
            side.count(&Filter::any_tag([own_tag]))?,
            side.count(&Filter::any_tag([other_tag]))?,
            side.count(&Filter::name_contains(other_name))?,
            side.count(&with_attributes)?,
        );
        let expected = (
            side.reference.len() as u64,
            side.reference
                .count(&Filter::any_tag([own_tag]))
                .unwrap_or(0),
            0,
            0,
            side.reference.count(&with_attributes).unwrap_or(0),
        );
        same(
            CHECK,
            "counts of everyone, own tag, other's tag, other's name, attributes",
            &counts,
            &expected,
        )?;
    }

    acme.check_export("acme")?;
    globex.check_export("globex")?;
    acme.check_history("acme", "Broken Acme", "Broken Globex")?;
    globex.check_history("globex", "Broken Globex", "Broken Acme")?;
    let globex_ids: Vec<u64> = globex.records.iter().map(|r| r.id).collect();
    for id in globex_ids {
        let found = call(CHECK, acme.store.import_record(id))?;
        ensure(
            CHECK,
            found.as_ref().is_none_or(|r| acme.records.contains(r)),
            || format!("acme's history gave globex's import #{id}: {found:?}"),
        )?;
    }
    acme.check_downloads("acme", 0)?;
    globex.check_downloads("globex", 0)?;
    globex.check_downloads("globex", 1)?;

    // A new handle on the account sees what the first one wrote.
    let mut again = open(&acme_account);
    let catalog = call(CHECK, again.load_catalog())?;
    same(
        CHECK,
        "acme's catalog through a new handle",
        &catalog,
        acme.engine.catalog(),
    )?;
    let history = call(CHECK, again.import_history())?;
    same(
        CHECK,
        "acme's history through a new handle",
        &history.len(),
        &acme.records.len(),
    )?;
    acme.store = again;
    acme.check_export("acme through a new handle")
}
