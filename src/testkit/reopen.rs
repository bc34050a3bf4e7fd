//! The reopen check: what one handle wrote, a new handle reads.

use std::io::Cursor;

use crate::catalog::Catalog;
use crate::engine::ImportEngine;
use crate::filter::Filter;
use crate::phone::Phone;
use crate::store::ContactScan;
use crate::testkit::{Failure, NOW, call, fail, same};

const CHECK: &str = "reopen";

/// Two contacts and a failing row.
const FILE: &str = "\
Name,Mobile Number,Tags,City
Mohit Dua,+919876543452,MBA,Delhi
Priya Sharma,9876543210,MBA | Finance,Mumbai
Broken,12345,MBA,Pune
";

/// Checks that what a store keeps outlives its handle: `open` must give a
/// new handle onto one and the same contact book each time (the same
/// SQLite file, PostgreSQL schema, or a clone of a
/// [`SharedMemoryStore`](crate::SharedMemoryStore)), empty when the check
/// starts.
///
/// Through a first handle, a catalog is added and a file recorded (two
/// contacts added, one row failed), and the handle is dropped. Through a
/// new one: the catalog, the contacts (with their attributes) and the
/// import's record are there; importing the file again adds and updates
/// nothing; the history lists both imports, newest first. The store must
/// keep the catalog and the import history.
///
/// ```
/// use contact_import::{SharedMemoryStore, testkit};
///
/// let book = SharedMemoryStore::new();
/// testkit::check_reopen(|| book.clone())?;
/// # Ok::<(), testkit::Failure>(())
/// ```
pub fn check_reopen<S, F>(mut open: F) -> Result<(), Failure>
where
    S: ContactScan,
    F: FnMut() -> S,
{
    let catalog = Catalog::new()
        .with_tags(["MBA", "Finance"])
        .with_attributes(["City"]);
    let first = {
        let mut store = open();
        call(CHECK, store.add_to_catalog(&catalog))?;
        let engine = ImportEngine::new(catalog.clone(), NOW);
        let recorded =
            engine.import_recorded("contacts.csv", Cursor::new(FILE), &mut store, |_| {});
        let record = call(CHECK, recorded)?;
        same(
            CHECK,
            "(added, failed) of the first import",
            &(record.report.added, record.report.failed),
            &(2, 1),
        )?;
        record
    };

    let mut store = open();
    let loaded = call(CHECK, store.load_catalog())?;
    same(CHECK, "the catalog through a new handle", &loaded, &catalog)?;
    let everyone = call(CHECK, store.count(&Filter::everyone()))?;
    same(CHECK, "contacts through a new handle", &everyone, &2)?;
    let priya = Phone::parse_e164("+919876543210")
        .ok_or_else(|| fail(CHECK, "+919876543210 is not E.164"))?;
    let priya = call(CHECK, store.get(&priya))?
        .ok_or_else(|| fail(CHECK, "Priya is missing through a new handle"))?;
    same(
        CHECK,
        "Priya's City through a new handle",
        &priya.attributes.get("City"),
        &Some("Mumbai"),
    )?;
    let kept = call(CHECK, store.import_record(first.id))?;
    same(
        CHECK,
        "the first import's record through a new handle",
        &kept.as_ref(),
        &Some(&first),
    )?;

    let engine = ImportEngine::new(loaded, NOW);
    let recorded = engine.import_recorded("contacts.csv", Cursor::new(FILE), &mut store, |_| {});
    let again = call(CHECK, recorded)?;
    same(
        CHECK,
        "(added, updated, unchanged) of the same file again (its contacts are stored already)",
        &(
            again.report.added,
            again.report.updated,
            again.report.unchanged,
        ),
        &(0, 0, 2),
    )?;
    let ids: Vec<u64> = call(CHECK, store.import_history())?
        .iter()
        .map(|s| s.id)
        .collect();
    same(
        CHECK,
        "the ids of the history, newest first",
        &ids,
        &vec![again.id, first.id],
    )
}
