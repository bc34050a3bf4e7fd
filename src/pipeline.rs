//! The import on two cores: reading and normalizing rows (pure, and most of
//! the work) run ahead of the merges and store writes, which stay on the
//! caller's thread in file order.
//!
//! A second thread reads the file batch by batch and normalizes the
//! batches. The caller's thread fetches, merges, writes and commits them in
//! the order they were read, exactly as the driven import
//! ([`ImportEngine::start`](crate::ImportEngine::start)) does, so the result
//! is that of a row-by-row import. When the next batch to write is not
//! ready, the caller's thread normalizes a batch that is read and waiting,
//! so both cores stay busy whichever side is slower (it depends on the file
//! and the store). A few batches are in flight at most, so memory stays
//! bounded; their record buffers are reused.

use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::batch::{Batch, RecordBatch};
use crate::batch_rows::BatchRows;
use crate::error::ImportError;
use crate::fetch_plan::FetchPlan;
use crate::normalize::RowNormalizer;
use crate::options::ImportMode;
use crate::phone::Phone;
use crate::report::ImportReport;
use crate::report::Progress;
use crate::row_source::RowSource;
use crate::session::{Import, ImportState};
use crate::store::{ContactStore, Stored};
use crate::tally::Cause;

/// Batches read and not yet written, at most.
const AHEAD: u64 = 4;
/// Batches the reading thread keeps read and waiting, so that the caller's
/// thread has one to normalize when it would otherwise wait.
const WAITING: usize = 1;

/// Runs `import` into `store` to the end, calling `progress` after every batch.
pub(crate) fn run<R, S>(
    mut import: Import<'_, R>,
    store: &mut S,
    mut progress: impl FnMut(Progress),
) -> Result<ImportReport, ImportError<S::Error>>
where
    R: Read + Send,
    S: ContactStore + ?Sized,
{
    import.size_batches_for(store);
    let Import {
        source, mut state, ..
    } = import;
    // Read by the second thread, or by this one when no thread is to be had.
    let source = Mutex::new(source);
    // Both threads normalize with these, while this one writes the report.
    let columns = state.columns.clone();
    let headers = state.tally.report.headers.clone();
    let repeated = state.repeated.clone();
    let rows = BatchRows {
        settings: state.settings,
        columns: &columns,
        headers: &headers,
        repeated: &repeated,
        now: state.settings.now,
    };
    let shared = Shared::default();
    let adds = state.settings.options.mode != ImportMode::UpdateOnly;
    let mut writer = BatchWriter {
        plan: FetchPlan::new(adds && store.creates_without_fetch()),
        existing: Vec::new(),
    };
    let writer = &mut writer;
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("contact-import rows".to_owned())
            .spawn_scoped(scope, || {
                if let Ok(mut source) = source.lock() {
                    read_ahead(&mut source, rows, &shared);
                }
            });
        match worker {
            Ok(_) => {
                let written = merge(&mut state, rows, store, writer, &mut progress, &shared);
                shared.stop();
                written?
            }
            // No thread to be had: the same import on this one.
            Err(_) => {
                // No other thread ever held it.
                let mut source = source.lock().unwrap_or_else(PoisonError::into_inner);
                merge_inline(&mut source, &mut state, rows, store, writer, &mut progress)?
            }
        }
        Ok(shrunk(state.tally.report))
    })
}

/// The report without the room its lists grew into: it outlives the
/// import (the caller keeps it, a store's history copies it), and a list
/// grown by doubling can be almost half empty (1.3 MB of the 185,000 phones
/// added, 1.2 MB of the 20,000 warnings of the realistic file).
fn shrunk(mut report: ImportReport) -> ImportReport {
    report.phones_added.shrink_to_fit();
    report.phones_updated.shrink_to_fit();
    report.failures.shrink_to_fit();
    report.warnings.shrink_to_fit();
    report.duplicates.shrink_to_fit();
    report
}

/// The import on the caller's thread alone, batch after batch.
fn merge_inline<R, S>(
    source: &mut RowSource<'_, R>,
    state: &mut ImportState<'_>,
    rows: BatchRows<'_>,
    store: &mut S,
    writer: &mut BatchWriter,
    progress: &mut impl FnMut(Progress),
) -> Result<(), ImportError<S::Error>>
where
    R: Read,
    S: ContactStore + ?Sized,
{
    let mut records = RecordBatch::default();
    let mut batch = Batch::default();
    let normalizer = rows.normalizer();
    loop {
        match source.read_records(&mut records) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(error) => return Err(state.tally.failed(Cause::Read(error))),
        }
        rows.normalize_into(&normalizer, &records, &mut batch);
        write(state, rows, store, writer, &mut batch, &records)?;
        progress(records.progress);
    }
}

/// What the caller's thread keeps from batch to batch while it writes:
/// which phones to fetch, and the buffer the fetched contacts go to.
struct BatchWriter {
    plan: FetchPlan,
    existing: Vec<Stored>,
}

/// Fetches, merges, writes and commits one batch, leaving it empty. The
/// rows of phones whose write conflicted (another writer changed them
/// since the fetch, or the fetch plan took them as new) are normalized
/// again from their records, merged into what the store holds now, and
/// written again, until none conflicts.
fn write<S>(
    state: &mut ImportState<'_>,
    rows: BatchRows<'_>,
    store: &mut S,
    writer: &mut BatchWriter,
    batch: &mut Batch,
    records: &RecordBatch,
) -> Result<(), ImportError<S::Error>>
where
    S: ContactStore + ?Sized,
{
    let BatchWriter { plan, existing } = writer;
    fetch(state, store, existing, plan.phones_to_fetch(&batch.phones))?;
    plan.fetched(existing);
    let mut conflicts = merge_write(state, store, existing, batch)?;
    let mut guessed_wrong = plan.guessed_wrong(&conflicts);
    while !conflicts.is_empty() {
        if let Err(error) = batch.conflicted(&mut conflicts, guessed_wrong) {
            return Err(state.tally.failed(Cause::Contended(error)));
        }
        guessed_wrong = 0;
        // The batch's values went to the store: its records still hold them.
        let mut retry = rows.normalize(&records.subset(batch, &conflicts));
        fetch(state, store, existing, &retry.phones)?;
        conflicts = merge_write(state, store, existing, &mut retry)?;
        batch.take_outcomes(&retry);
    }
    plan.wrote(&batch.phones);
    state.tally.commit_emptying(batch);
    Ok(())
}

/// Fetches `phones` into `existing`, emptied first.
fn fetch<S>(
    state: &mut ImportState<'_>,
    store: &mut S,
    existing: &mut Vec<Stored>,
    phones: &[Phone],
) -> Result<(), ImportError<S::Error>>
where
    S: ContactStore + ?Sized,
{
    existing.clear();
    if phones.is_empty() {
        return Ok(());
    }
    store
        .fetch(phones, existing)
        .map_err(|error| state.tally.failed(Cause::Store(error)))
}

/// Merges the batch's rows into the contacts fetched (moving the rows'
/// values) and writes the result; returns the phones that conflicted.
fn merge_write<S>(
    state: &mut ImportState<'_>,
    store: &mut S,
    existing: &mut Vec<Stored>,
    batch: &mut Batch,
) -> Result<Vec<Phone>, ImportError<S::Error>>
where
    S: ContactStore + ?Sized,
{
    let writes = state.merge().merge_changed(batch, existing.drain(..), true);
    store
        .write_batch(writes)
        .map_err(|error| state.tally.failed(Cause::Store(error)))
}

/// What the two threads share: batches by their number in the file.
#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// Signalled whenever the queue changes.
    changed: Condvar,
}

#[derive(Default)]
struct Queue {
    /// Read, waiting for a thread to normalize them, oldest first.
    read: VecDeque<(u64, RecordBatch)>,
    /// Normalized, waiting to be written.
    normalized: BTreeMap<u64, (Batch, RecordBatch)>,
    /// Batches read so far.
    next_read: u64,
    /// Batches written so far.
    written: u64,
    /// How reading ended, once it has: at the end of the file, or at an
    /// error after the batches read before it.
    ended: Option<std::io::Result<()>>,
    /// Buffers to reuse.
    spare: Vec<RecordBatch>,
    spare_batches: Vec<Batch>,
    /// The caller's thread is done (or failed): the reading thread stops.
    stopped: bool,
    /// The reading thread panicked: the caller's thread stops waiting for
    /// it (and the scope re-raises the panic).
    panicked: bool,
}

/// A batch read and taken to be normalized: its number in the file, its
/// records, and a batch to normalize them into.
type Taken = (u64, RecordBatch, Batch);

impl Queue {
    /// Takes the oldest batch read and waiting, to normalize it.
    fn take_waiting(&mut self) -> Option<Taken> {
        let (number, records) = self.read.pop_front()?;
        Some((
            number,
            records,
            self.spare_batches.pop().unwrap_or_default(),
        ))
    }
}

/// Normalizes a batch taken from the queue with this thread's `normalizer`
/// and puts it back, ready to write.
fn normalize(
    shared: &Shared,
    rows: BatchRows<'_>,
    normalizer: &RowNormalizer<'_>,
    (number, records, mut batch): Taken,
) {
    rows.normalize_into(normalizer, &records, &mut batch);
    shared.update(|queue| {
        queue.normalized.insert(number, (batch, records));
    });
}

impl Shared {
    /// The queue, unless the other thread panicked holding it (the scope
    /// then re-raises its panic).
    fn lock(&self) -> Option<MutexGuard<'_, Queue>> {
        self.queue.lock().ok()
    }

    fn wait<'a>(&self, queue: MutexGuard<'a, Queue>) -> Option<MutexGuard<'a, Queue>> {
        self.changed.wait(queue).ok()
    }

    fn update(&self, change: impl FnOnce(&mut Queue)) {
        if let Some(mut queue) = self.lock() {
            change(&mut queue);
        }
        self.changed.notify_all();
    }

    fn stop(&self) {
        self.update(|queue| queue.stopped = true);
    }
}

/// What the reading thread does next.
enum ReadStep {
    Read(RecordBatch),
    Normalize(Box<Taken>),
}

/// The second thread: reads batches, keeping one waiting for the caller's
/// thread, and normalizes the others, until the file ends or the caller's
/// thread stops.
fn read_ahead<R: Read>(source: &mut RowSource<'_, R>, rows: BatchRows<'_>, shared: &Shared) {
    /// Tells the caller's thread that reading ended, however this thread ends.
    struct Ended<'a>(&'a Shared);
    impl Drop for Ended<'_> {
        fn drop(&mut self) {
            let panicked = std::thread::panicking();
            self.0.update(|queue| {
                queue.ended.get_or_insert(Ok(()));
                queue.panicked |= panicked;
            });
        }
    }
    let _ended = Ended(shared);
    let normalizer = rows.normalizer();
    while let Some(step) = next_read_step(shared) {
        match step {
            ReadStep::Read(mut records) => {
                let read = source.read_records(&mut records);
                shared.update(|queue| match read {
                    Ok(true) => {
                        queue.read.push_back((queue.next_read, records));
                        queue.next_read += 1;
                    }
                    Ok(false) => queue.ended = Some(Ok(())),
                    Err(error) => queue.ended = Some(Err(error)),
                });
            }
            ReadStep::Normalize(taken) => normalize(shared, rows, &normalizer, *taken),
        }
    }
}

/// Waits for the reading thread's next step; `None` when it has none left.
fn next_read_step(shared: &Shared) -> Option<ReadStep> {
    let mut queue = shared.lock()?;
    loop {
        if queue.stopped {
            return None;
        }
        let room = queue.next_read - queue.written < AHEAD;
        if queue.ended.is_none() && room && queue.read.len() <= WAITING {
            let records = queue.spare.pop().unwrap_or_default();
            return Some(ReadStep::Read(records));
        }
        if (queue.read.len() > WAITING || queue.ended.is_some())
            && let Some(taken) = queue.take_waiting()
        {
            return Some(ReadStep::Normalize(Box::new(taken)));
        }
        if queue.ended.is_some() {
            return None;
        }
        queue = shared.wait(queue)?;
    }
}

/// What the caller's thread does next.
enum MergeStep {
    Write(Batch, RecordBatch),
    Normalize(Taken),
    Done(std::io::Result<()>),
}

/// The caller's thread: writes the batches in file order and, while the
/// next one is not ready, normalizes a batch the reading thread left
/// waiting.
fn merge<S>(
    state: &mut ImportState<'_>,
    rows: BatchRows<'_>,
    store: &mut S,
    writer: &mut BatchWriter,
    progress: &mut impl FnMut(Progress),
    shared: &Shared,
) -> Result<(), ImportError<S::Error>>
where
    S: ContactStore + ?Sized,
{
    let normalizer = rows.normalizer();
    // A panicked reading thread leaves no step: the scope re-raises its panic.
    while let Some(step) = next_merge_step(shared) {
        match step {
            MergeStep::Write(mut batch, records) => {
                write(state, rows, store, writer, &mut batch, &records)?;
                progress(records.progress);
                shared.update(|queue| {
                    queue.written += 1;
                    queue.spare.push(records);
                    queue.spare_batches.push(batch);
                });
            }
            MergeStep::Normalize(taken) => normalize(shared, rows, &normalizer, taken),
            // The batches read before a read error are written first, as
            // a batch-by-batch import would have.
            MergeStep::Done(Ok(())) => return Ok(()),
            MergeStep::Done(Err(error)) => return Err(state.tally.failed(Cause::Read(error))),
        }
    }
    Ok(())
}

/// Waits for the caller's thread's next step.
fn next_merge_step(shared: &Shared) -> Option<MergeStep> {
    let mut queue = shared.lock()?;
    loop {
        if queue.panicked {
            return None;
        }
        let next = queue.written;
        if let Some((batch, records)) = queue.normalized.remove(&next) {
            return Some(MergeStep::Write(batch, records));
        }
        if let Some(taken) = queue.take_waiting() {
            return Some(MergeStep::Normalize(taken));
        }
        if queue.next_read == next && queue.ended.is_some() {
            let ended = queue.ended.replace(Ok(())).unwrap_or(Ok(()));
            return Some(MergeStep::Done(ended));
        }
        queue = shared.wait(queue)?;
    }
}
