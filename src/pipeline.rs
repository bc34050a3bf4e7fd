//! The import on two cores: normalizing rows (pure, and most of the work)
//! runs ahead of the merges and store writes, which stay on the caller's
//! thread in file order.
//!
//! The caller's thread reads the records of a batch and hands them to a
//! second thread, which normalizes them and sends the batch back. When that
//! thread already has enough queued, the caller's thread normalizes the
//! batch itself, so both cores stay busy whichever side is slower (reading
//! and merging or normalizing; it depends on the file and the store). The
//! caller's thread fetches, merges, writes and commits batches in the order
//! they were read, exactly as the driven import (`ImportEngine::start`)
//! does, so the result is that of a row-by-row import. A few batches are in
//! flight at most, so memory stays bounded; their record buffers are reused.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};

use crate::contact::Contact;
use crate::engine::Progress;
use crate::error::ImportError;
use crate::report::ImportReport;
use crate::session::{Batch, BatchRows, Import, RecordBatch};
use crate::store::ContactStore;

/// Batches queued for the normalizing thread.
const IN_FLIGHT: usize = 2;
/// Batches read ahead of the one being merged, wherever they are normalized.
const AHEAD: usize = 4;

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
        let worker = std::thread::Builder::new()
            .name("contact-import rows".to_owned())
            .spawn_scoped(scope, move || normalize(rows, records_in, to_merge));
        match worker {
            Ok(_) => merge(
                &mut import,
                rows,
                store,
                &mut progress,
                to_worker,
                batches_in,
            )?,
            // No thread to be had: the same import on this one.
            Err(_) => merge_inline(&mut import, rows, store, &mut progress)?,
        }
        Ok(import.finish())
    })
}

/// The import on the caller's thread alone, batch after batch.
fn merge_inline<R, S>(
    import: &mut Import<'_, R>,
    rows: BatchRows<'_>,
    store: &mut S,
    progress: &mut impl FnMut(Progress),
) -> Result<(), ImportError<S::Error>>
where
    R: Read,
    S: ContactStore + ?Sized,
{
    let mut records = RecordBatch::default();
    let mut existing = Vec::new();
    loop {
        match import.read_records(&mut records) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(error) => return Err(import.read_failed_ref(error)),
        }
        write(import, store, &mut existing, rows.normalize(&records))?;
        progress(records.progress);
    }
}

/// Fetches, merges, writes and commits one batch.
fn write<R, S>(
    import: &mut Import<'_, R>,
    store: &mut S,
    existing: &mut Vec<Contact>,
    mut batch: Batch,
) -> Result<(), ImportError<S::Error>>
where
    R: Read,
    S: ContactStore + ?Sized,
{
    existing.clear();
    if let Err(error) = store.fetch(batch.phones(), existing) {
        return Err(import.store_failed_ref(error));
    }
    let contacts = import.merge_changed(&mut batch, existing.drain(..), true);
    if let Err(error) = store.write_batch(contacts) {
        return Err(import.store_failed_ref(error));
    }
    import.commit(batch);
    Ok(())
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

/// A batch read and on its way to being written, in file order.
enum Pending {
    /// Sent to the normalizing thread, which sends batches back in the order
    /// it got them.
    Sent,
    /// Normalized on this thread, while the other was busy.
    Here(Batch, RecordBatch),
}

/// The caller's thread: reads records ahead and hands them to the
/// normalizing thread; when that thread has enough to do, normalizes them
/// itself, so that both cores work however the work falls between reading,
/// normalizing and merging. Merges and writes each batch in file order.
/// Returning drops `to_worker`, which ends the normalizing thread.
fn merge<R, S>(
    import: &mut Import<'_, R>,
    rows: BatchRows<'_>,
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
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let mut read_error = None;
    let mut end = false;
    let mut existing: Vec<Contact> = Vec::new();
    loop {
        let next = match pending.front() {
            Some(Pending::Here(..)) => pending.pop_front(),
            Some(Pending::Sent) => match batches_in.try_recv() {
                Ok((batch, records)) => {
                    pending.pop_front();
                    Some(Pending::Here(batch, records))
                }
                Err(TryRecvError::Empty) => None,
                // The normalizing thread panicked; the scope re-raises it.
                Err(TryRecvError::Disconnected) => break,
            },
            None => None,
        };
        if let Some(Pending::Here(batch, records)) = next {
            let done = records.progress;
            spare.push(records);
            write(import, store, &mut existing, batch)?;
            progress(done);
            continue;
        }
        if !end && read_error.is_none() && pending.len() < AHEAD {
            let mut records = spare.pop().unwrap_or_default();
            match import.read_records(&mut records) {
                Ok(true) => match to_worker.try_send(records) {
                    Ok(()) => pending.push_back(Pending::Sent),
                    Err(TrySendError::Full(records) | TrySendError::Disconnected(records)) => {
                        let batch = rows.normalize(&records);
                        pending.push_back(Pending::Here(batch, records));
                    }
                },
                Ok(false) => end = true,
                // The batches read before the error are written first, as a
                // batch-by-batch import would have.
                Err(error) => read_error = Some(error),
            }
            continue;
        }
        if pending.is_empty() {
            break;
        }
        // Nothing to read, the next batch is the other thread's: wait for it.
        match batches_in.recv() {
            Ok((batch, records)) => {
                pending.pop_front();
                pending.push_front(Pending::Here(batch, records));
            }
            Err(_) => break,
        }
    }
    match read_error {
        Some(error) => Err(import.read_failed_ref(error)),
        None => Ok(()),
    }
}
