//! The import on two cores: normalizing rows (pure, and most of the work)
//! runs on a second thread, ahead of the merges and store writes, which stay
//! on the caller's thread in file order.
//!
//! The caller's thread reads the records of a batch and hands them over; the
//! normalizing thread sends the batch back; the caller's thread fetches,
//! merges, writes and commits batches in the order they were read, exactly
//! as the driven import (`ImportEngine::start`) does, so the result is
//! that of a row-by-row import. A few batches are in flight at most, so
//! memory stays bounded; their record buffers go back and forth for reuse.

use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use crate::contact::Contact;
use crate::engine::Progress;
use crate::error::ImportError;
use crate::report::ImportReport;
use crate::session::{Batch, BatchRows, Import, RecordBatch};
use crate::store::ContactStore;

/// Batches read ahead of the one being merged.
const IN_FLIGHT: usize = 3;

/// Runs `import` into `store` to the end, calling `progress` after every batch.
pub(crate) fn run<R, S>(
    mut import: Import<'_, R>,
    store: &mut S,
    mut progress: impl FnMut(Progress),
) -> Result<ImportReport, ImportError<S::Error>>
where
    R: Read,
    S: ContactStore + ?Sized,
{
    // The normalizing thread reads these while this one reads the file and
    // writes the report.
    let columns = import.columns.clone();
    let headers = import.report.headers.clone();
    let repeated = import.repeated.clone();
    let rows = BatchRows {
        engine: import.engine,
        columns: &columns,
        headers: &headers,
        repeated: &repeated,
    };
    let (to_worker, records_in) = sync_channel::<RecordBatch>(IN_FLIGHT);
    let (to_merge, batches_in) = sync_channel::<(Batch, RecordBatch)>(IN_FLIGHT);
    std::thread::scope(|scope| {
        scope.spawn(move || normalize(rows, records_in, to_merge));
        merge(&mut import, store, &mut progress, to_worker, batches_in)?;
        Ok(import.finish())
    })
}

/// The normalizing thread: records in, batches out, until either side hangs up.
fn normalize(
    rows: BatchRows<'_>,
    records_in: Receiver<RecordBatch>,
    batches_out: SyncSender<(Batch, RecordBatch)>,
) {
    for records in records_in {
        let batch = rows.normalize(&records);
        if batches_out.send((batch, records)).is_err() {
            return;
        }
    }
}

/// The caller's thread: reads records ahead, then merges and writes each
/// batch as it comes back. Returning drops `to_worker`, which ends the
/// normalizing thread.
fn merge<R, S>(
    import: &mut Import<'_, R>,
    store: &mut S,
    progress: &mut impl FnMut(Progress),
    to_worker: SyncSender<RecordBatch>,
    batches_in: Receiver<(Batch, RecordBatch)>,
) -> Result<(), ImportError<S::Error>>
where
    R: Read,
    S: ContactStore + ?Sized,
{
    let mut spare: Vec<RecordBatch> = Vec::new();
    let mut in_flight = 0;
    let mut read_error = None;
    let mut existing: Vec<Contact> = Vec::new();
    loop {
        while in_flight < IN_FLIGHT && read_error.is_none() {
            let mut records = spare.pop().unwrap_or_default();
            match import.read_records(&mut records) {
                Ok(true) if to_worker.send(records).is_ok() => in_flight += 1,
                Ok(_) => break,
                // The batches read before the error are written first, as a
                // batch-by-batch import would have.
                Err(error) => read_error = Some(error),
            }
        }
        if in_flight == 0 {
            break;
        }
        let Ok((mut batch, records)) = batches_in.recv() else {
            break; // The normalizing thread panicked; the scope re-raises it.
        };
        in_flight -= 1;
        let done = records.progress;
        spare.push(records);
        existing.clear();
        if let Err(error) = store.fetch(batch.phones(), &mut existing) {
            return Err(import.store_failed_ref(error));
        }
        let contacts = import.merge_changed(&mut batch, existing.drain(..), true);
        if let Err(error) = store.write_batch(contacts) {
            return Err(import.store_failed_ref(error));
        }
        import.commit(batch);
        progress(done);
    }
    match read_error {
        Some(error) => Err(import.read_failed_ref(error)),
        None => Ok(()),
    }
}
