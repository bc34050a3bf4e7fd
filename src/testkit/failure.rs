//! The failing-batch check: a store that fails mid-import keeps the
//! batches before the failure, nothing of the failed one, and the record of
//! the import with its error.

use std::io::Cursor;

use crate::catalog::Catalog;
use crate::engine::{ImportEngine, ImportOptions};
use crate::error::ImportError;
use crate::filter::Filter;
use crate::phone::Phone;
use crate::store::ContactScan;
use crate::testkit::{Failure, NOW, call, ensure, fail, fetch_sorted, same};

const CHECK: &str = "failing_batch";

/// The text the store's refusal must carry.
const MESSAGE: &str = "refused by the testkit";

/// The `i`-th phone of the file, as the file writes it and as the store keys it.
fn row_phone(i: u32) -> (String, Result<Phone, Failure>) {
    let local = format!("98000000{i:02}");
    let phone = Phone::parse_e164(&format!("+91{local}"))
        .ok_or_else(|| fail(CHECK, format!("+91{local} is not E.164")));
    (local, phone)
}

/// Checks, on a fresh `store`, what an import leaves when the store fails
/// in the middle: 30 rows in batches of 10, the store refusing the 15th
/// row's phone. The import must fail with a store error whose report says
/// that the first batch landed (last row 11, 10 added); the store must hold
/// exactly the first batch's contacts, nothing of the refused batch; and
/// its history must hold the import, with 10 added and the store's error.
///
/// `refuse(store, phone, message)` must make the store refuse every later
/// write of a contact with `phone`, with an error whose text holds
/// `message` (for a database, a trigger that raises `message`). The store
/// must keep the import history.
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use contact_import::{SqliteStore, testkit};
///
/// let mut store = SqliteStore::open_in_memory().unwrap();
/// testkit::check_failing_batch(&mut store, |store, phone, message| {
///     let trigger = format!(
///         "CREATE TRIGGER refuse BEFORE INSERT ON contacts WHEN NEW.phone = '{phone}'
///          BEGIN SELECT RAISE(ABORT, '{message}'); END;"
///     );
///     store.connection().execute_batch(&trigger).unwrap();
/// })?;
/// # }
/// # Ok::<(), contact_import::testkit::Failure>(())
/// ```
pub fn check_failing_batch<S, R>(store: &mut S, refuse: R) -> Result<(), Failure>
where
    S: ContactScan,
    R: FnOnce(&mut S, &Phone, &str),
{
    let mut file = String::from("Name,Phone\n");
    let mut phones = Vec::new();
    for i in 0..30 {
        let (local, phone) = row_phone(i);
        file.push_str(&format!("Person {i},{local}\n"));
        phones.push(phone?);
    }
    refuse(store, &phones[14], MESSAGE);
    let engine = ImportEngine::new(Catalog::new(), NOW)
        .with_options(ImportOptions::new().with_batch_size(10));
    let outcome = engine.import_recorded("big.csv", Cursor::new(file), store, |_| {});
    let report = match outcome {
        Err(ImportError::Store { report, .. }) => report,
        Err(other) => {
            return Err(fail(
                CHECK,
                format!("expected the store's error, the import failed with: {other}"),
            ));
        }
        Ok(record) => {
            return Err(fail(
                CHECK,
                format!(
                    "the import succeeded ({} added) though the store was to refuse {}",
                    record.report.added, phones[14]
                ),
            ));
        }
    };
    same(
        CHECK,
        "(last_row, added) of the failed import's report",
        &(report.last_row, report.added),
        &(Some(11), 10),
    )?;
    let everyone = call(CHECK, store.count(&Filter::everyone()))?;
    same(CHECK, "contacts stored after the failure", &everyone, &10)?;
    let found: Vec<Phone> = fetch_sorted(CHECK, store, &phones)?
        .iter()
        .map(|c| c.phone)
        .collect();
    same(
        CHECK,
        "phones stored after the failure (the first batch's, nothing of the refused one)",
        &found,
        &phones[..10].to_vec(),
    )?;

    let history = call(CHECK, store.import_history())?;
    same(CHECK, "imports in the history", &history.len(), &1)?;
    same(
        CHECK,
        "contacts the recorded import added",
        &history[0].added,
        &10,
    )?;
    let error = history[0].error.as_deref().unwrap_or_default();
    ensure(CHECK, error.contains(MESSAGE), || {
        format!("the recorded import's error {error:?} does not hold the store's {MESSAGE:?}")
    })
}
