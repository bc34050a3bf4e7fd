//! The import engine: reads a file, normalizes each row, and upserts the
//! contacts batch by batch.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom};

use jiff::Timestamp;

use crate::catalog::Catalog;
use crate::contact::Contact;
use crate::error::{FileError, FileErrorKind, ImportError, Position};
use crate::history::ImportRecord;
use crate::mapping::{ColumnMapping, Columns};
use crate::merge::{EmptyCells, TagUpdates, UpdateRules};
use crate::normalize::{RowNormalizer, RowUpdate};
use crate::phone::{Phone, PhoneNormalizer, Region};
use crate::reader::{Record, RecordReader};
use crate::report::{ImportReport, RowFailure, Warning, WarningCode};
use crate::store::ContactStore;

/// Where the engine gets the time from. The engine never reads the system
/// clock itself: pass `|| jiff::Timestamp::now()` for the real time, or a
/// fixed [`Timestamp`] in tests.
pub trait Clock {
    /// The current time.
    fn now(&self) -> Timestamp;
}

impl Clock for Timestamp {
    fn now(&self) -> Timestamp {
        *self
    }
}

impl<F: Fn() -> Timestamp> Clock for F {
    fn now(&self) -> Timestamp {
        self()
    }
}

/// How an import reads, normalizes and merges. `Default` gives the product's
/// rules: India for numbers without a country code, source `IMPORT`, blank
/// cells keep what is stored, tags are added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// The region of numbers written without a country code (default `IN`).
    pub region: Region,
    /// The source a new contact gets when its Source cell is empty or the
    /// file has no Source column (default `Some("IMPORT")`).
    pub default_source: Option<String>,
    /// Explicit column choices; other headers are mapped automatically.
    pub mapping: ColumnMapping,
    /// What an empty cell does to a stored value (default: keep it).
    pub empty_cells: EmptyCells,
    /// Whether a Tags cell adds to or replaces stored tags (default: add).
    pub tags: TagUpdates,
    /// Rows per store batch (default 1,000). The result does not depend on it.
    pub batch_size: usize,
    /// The most data rows a file may have (default 200,000); a larger file is
    /// refused whole before anything is written.
    pub max_rows: u64,
    /// The largest row, in bytes, that is read (default 1 MiB); a larger row
    /// fails with `row_too_large` and is not held in memory.
    pub max_row_bytes: usize,
    /// The most fields a row may have (default 10,000).
    pub max_fields: usize,
    /// The field delimiter (default `,`).
    pub delimiter: u8,
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions {
            region: Region::INDIA,
            default_source: Some("IMPORT".to_owned()),
            mapping: ColumnMapping::new(),
            empty_cells: EmptyCells::Keep,
            tags: TagUpdates::Add,
            batch_size: 1_000,
            max_rows: 200_000,
            max_row_bytes: 1 << 20,
            max_fields: 10_000,
            delimiter: b',',
        }
    }
}

/// How far an import has got, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Data rows processed so far (written or failed).
    pub rows_done: u64,
    /// Data rows in the file, when known.
    pub total_rows: Option<u64>,
}

/// Imports contact files into a [`ContactStore`].
///
/// ```
/// use std::io::Cursor;
/// use contact_import::{Catalog, ImportEngine, MemoryStore, Phone};
///
/// let catalog = Catalog::new()
///     .with_tags(["MBA", "Finance", "Marketing"])
///     .with_attributes(["City"]);
/// let engine = ImportEngine::new(catalog, || jiff::Timestamp::now());
/// let mut store = MemoryStore::new();
/// let file = "Name,Mobile Number,Tags,City\nMohit Dua,+919876543452,MBA | Finance,Delhi\n";
/// let report = engine.import(Cursor::new(file), &mut store).unwrap();
/// assert_eq!(report.added, 1);
///
/// let mohit = store.contact(&Phone::parse_e164("+919876543452").unwrap()).unwrap();
/// assert_eq!(mohit.first_name(), "Mohit");
/// assert_eq!(mohit.tags.len(), 2);
/// assert_eq!(mohit.source.as_deref(), Some("IMPORT"));
/// ```
pub struct ImportEngine {
    catalog: Catalog,
    options: ImportOptions,
    clock: Box<dyn Clock + Send + Sync>,
}

impl ImportEngine {
    /// An engine for `catalog` with the default options, reading the time from `clock`.
    pub fn new(catalog: Catalog, clock: impl Clock + Send + Sync + 'static) -> ImportEngine {
        ImportEngine {
            catalog,
            options: ImportOptions::default(),
            clock: Box::new(clock),
        }
    }

    /// Replaces the options.
    pub fn with_options(mut self, options: ImportOptions) -> ImportEngine {
        self.options = options;
        self
    }

    /// The options in force.
    pub fn options(&self) -> &ImportOptions {
        &self.options
    }

    /// The catalog imports are checked against.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Imports `source` into `store`.
    ///
    /// The file is read twice: once to count its rows (so that a file over
    /// [`ImportOptions::max_rows`] is refused before anything is written),
    /// once to import it. For a stream, read it into memory or a temporary
    /// file first.
    pub fn import<R, S>(
        &self,
        source: R,
        store: &mut S,
    ) -> Result<ImportReport, ImportError<S::Error>>
    where
        R: Read + Seek,
        S: ContactStore + ?Sized,
    {
        self.import_with_progress(source, store, |_| {})
    }

    /// Imports `bytes`, the whole file in memory, into `store`.
    pub fn import_bytes<S>(
        &self,
        bytes: &[u8],
        store: &mut S,
    ) -> Result<ImportReport, ImportError<S::Error>>
    where
        S: ContactStore + ?Sized,
    {
        self.import(std::io::Cursor::new(bytes), store)
    }

    /// Like [`import`](Self::import), calling `progress` after every batch.
    pub fn import_with_progress<R, S>(
        &self,
        source: R,
        store: &mut S,
        mut progress: impl FnMut(Progress),
    ) -> Result<ImportReport, ImportError<S::Error>>
    where
        R: Read + Seek,
        S: ContactStore + ?Sized,
    {
        let mut import = self.start(source)?;
        let mut existing = Vec::new();
        loop {
            let mut batch = match import.next_batch() {
                Ok(Some(batch)) => batch,
                Ok(None) => break,
                Err(error) => return Err(import.read_failed(error)),
            };
            existing.clear();
            if let Err(error) = store.fetch(batch.phones(), &mut existing) {
                return Err(import.store_failed(error));
            }
            let contacts = import.merge(&mut batch, existing.drain(..));
            if let Err(error) = store.write_batch(contacts) {
                return Err(import.store_failed(error));
            }
            import.commit(batch);
            progress(import.progress());
        }
        Ok(import.finish())
    }

    /// Imports `source` like [`import_with_progress`](Self::import_with_progress)
    /// and records it in the store's history
    /// ([`ContactStore::record_import`]) under `file_name`, with start and
    /// end times from the engine's clock. Returns the record with the id the
    /// store gave it (0 for a store that keeps no history).
    ///
    /// An import that stops part-way (a store or read error) is recorded
    /// too, with its error, when the store still accepts the record; the
    /// error returned is the one that stopped the import. A file refused
    /// before anything was written is not recorded. If the import ran to the
    /// end but recording it fails, the store's error is returned with the
    /// whole report.
    ///
    /// ```
    /// # use std::io::Cursor;
    /// use contact_import::{Catalog, ContactStore, ImportEngine, MemoryStore};
    /// let engine = ImportEngine::new(Catalog::new(), jiff::Timestamp::UNIX_EPOCH);
    /// let mut store = MemoryStore::new();
    /// let file = Cursor::new("Name,Phone\nAsha,9876543210\nNo Phone,\n");
    /// let record = engine.import_recorded("leads.csv", file, &mut store, |_| {})?;
    /// assert_eq!((record.report.added, record.report.failed), (1, 1));
    ///
    /// let history = store.imports()?;
    /// assert_eq!(history[0].file_name, "leads.csv");
    /// let again = store.import(record.id)?.unwrap();
    /// assert_eq!(again.report.failures[0].row, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn import_recorded<R, S>(
        &self,
        file_name: &str,
        source: R,
        store: &mut S,
        progress: impl FnMut(Progress),
    ) -> Result<ImportRecord, ImportError<S::Error>>
    where
        R: Read + Seek,
        S: ContactStore + ?Sized,
    {
        let started_at = self.clock.now();
        let outcome = self.import_with_progress(source, store, progress);
        let finished_at = self.clock.now();
        match outcome {
            Ok(report) => {
                let mut record = ImportRecord::new(file_name, started_at, finished_at, report);
                match store.record_import(&record) {
                    Ok(id) => record.id = id.unwrap_or(0),
                    Err(error) => {
                        return Err(ImportError::Store {
                            error,
                            report: Box::new(record.report),
                        });
                    }
                }
                Ok(record)
            }
            Err(error) => {
                if let Some(report) = error.report() {
                    let mut record =
                        ImportRecord::new(file_name, started_at, finished_at, report.clone());
                    record.error = Some(error.to_string());
                    // The error that stopped the import is the one to return;
                    // a store that fails again cannot record it.
                    let _ = store.record_import(&record);
                }
                Err(error)
            }
        }
    }

    /// Starts an import whose batches the caller drives: for a store the
    /// engine cannot call itself, e.g. an async database client.
    ///
    /// ```
    /// # use std::io::Cursor;
    /// # use contact_import::*;
    /// # let engine = ImportEngine::new(Catalog::new(), jiff::Timestamp::UNIX_EPOCH);
    /// # let mut store = MemoryStore::new();
    /// let mut import = engine.start(Cursor::new("Name,Phone\nAsha,9876543210\n"))?;
    /// while let Some(mut batch) = import.next_batch()? {
    ///     let mut existing = Vec::new();
    ///     store.fetch(batch.phones(), &mut existing).unwrap(); // e.g. an .await here
    ///     let contacts = import.merge(&mut batch, existing);
    ///     store.write_batch(contacts).unwrap(); // and here
    ///     import.commit(batch);
    /// }
    /// assert_eq!(import.finish().added, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start<R: Read + Seek>(&self, mut source: R) -> Result<Import<'_, R>, FileError> {
        let origin = source.stream_position()?;
        let total_rows = self.count_rows(&mut source)?;
        source.seek(SeekFrom::Start(origin))?;
        let mut reader = self.reader(source);
        let mut record = Record::default();
        if !reader.read(&mut record)? {
            return Err(FileError::new(FileErrorKind::Empty));
        }
        let headers = read_headers(&record)?;
        let columns = self.options.mapping.resolve(&headers, &self.catalog)?;
        let mut report = ImportReport {
            headers,
            ..ImportReport::default()
        };
        report
            .warnings
            .extend(unknown_column_warnings(&report.headers, &columns));
        Ok(Import {
            engine: self,
            reader,
            record,
            columns,
            total_rows,
            next_row: 2,
            report,
            added: HashSet::new(),
            updated: HashSet::new(),
            now: self.clock.now(),
        })
    }

    fn reader<R: Read>(&self, source: R) -> RecordReader<R> {
        let o = &self.options;
        RecordReader::new(source, o.delimiter, o.max_row_bytes, o.max_fields)
    }

    /// Counts data rows, refusing the file when there are too many.
    fn count_rows<R: Read>(&self, source: R) -> Result<u64, FileError> {
        let mut reader = self.reader(source);
        let mut record = Record::default();
        let mut records = 0u64;
        while reader.read(&mut record)? {
            records += 1;
            if records > self.options.max_rows + 1 {
                return Err(FileError::new(FileErrorKind::TooManyRows {
                    max: self.options.max_rows,
                }));
            }
        }
        Ok(records.saturating_sub(1))
    }
}

fn read_headers(record: &Record) -> Result<Vec<String>, FileError> {
    let header_error = |kind| {
        FileError::new(kind).at(Position {
            row: 1,
            column: None,
        })
    };
    if record.too_large() {
        return Err(header_error(FileErrorKind::HeaderTooLarge));
    }
    (0..record.len())
        .map(|i| {
            let bytes = record.field(i).unwrap_or_default();
            std::str::from_utf8(bytes)
                .map(|h| h.trim().to_owned())
                .map_err(|_| header_error(FileErrorKind::HeaderNotUtf8))
        })
        .collect()
}

fn unknown_column_warnings(headers: &[String], columns: &Columns) -> Vec<Warning> {
    let mut seen = HashSet::new();
    columns
        .unknown
        .iter()
        .filter(|&&i| seen.insert(headers[i].as_str()))
        .map(|&i| Warning {
            row: None,
            column: Some(headers[i].clone()),
            code: WarningCode::UnknownColumn,
            message: format!(
                "column {:?} matches no contact field and no attribute of the catalog, so it was ignored; create the attribute or map the column",
                headers[i]
            ),
        })
        .collect()
}

/// How a row ended, once merged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Added,
    Updated,
}

/// A batch of normalized rows on its way to the store.
#[derive(Debug)]
pub struct Batch {
    updates: Vec<RowUpdate>,
    outcomes: Vec<Outcome>,
    failures: Vec<RowFailure>,
    warnings: Vec<Warning>,
    phones: Vec<Phone>,
    rows: u64,
    last_row: u64,
}

impl Batch {
    /// The distinct phones of the batch: fetch these from the store.
    pub fn phones(&self) -> &[Phone] {
        &self.phones
    }

    /// The spreadsheet row number of the batch's last row.
    pub fn last_row(&self) -> u64 {
        self.last_row
    }
}

/// An import in progress, driven batch by batch (see [`ImportEngine::start`]).
pub struct Import<'e, R> {
    engine: &'e ImportEngine,
    reader: RecordReader<R>,
    record: Record,
    columns: Columns,
    total_rows: u64,
    next_row: u64,
    report: ImportReport,
    added: HashSet<Phone>,
    updated: HashSet<Phone>,
    now: Timestamp,
}

impl<R: Read> Import<'_, R> {
    /// The file's header row.
    pub fn headers(&self) -> &[String] {
        &self.report.headers
    }

    /// Data rows in the file.
    pub fn total_rows(&self) -> u64 {
        self.total_rows
    }

    /// Rows done and the total.
    pub fn progress(&self) -> Progress {
        Progress {
            rows_done: self.next_row - 2,
            total_rows: Some(self.total_rows),
        }
    }

    /// The report of the batches committed so far.
    pub fn report(&self) -> &ImportReport {
        &self.report
    }

    /// Reads and normalizes the next batch; `None` at the end of the file.
    pub fn next_batch(&mut self) -> std::io::Result<Option<Batch>> {
        let engine = self.engine;
        let normalizer = RowNormalizer {
            catalog: &engine.catalog,
            columns: &self.columns,
            headers: &self.report.headers,
            phones: PhoneNormalizer::new(engine.options.region),
        };
        let size = engine.options.batch_size.max(1);
        let mut batch = Batch {
            updates: Vec::with_capacity(size),
            outcomes: Vec::new(),
            failures: Vec::new(),
            warnings: Vec::new(),
            phones: Vec::with_capacity(size),
            rows: 0,
            last_row: 0,
        };
        let mut seen = HashSet::with_capacity(size);
        while batch.updates.len() + batch.failures.len() < size
            && self.reader.read(&mut self.record)?
        {
            let row = self.next_row;
            self.next_row += 1;
            if is_blank(&self.record) {
                continue;
            }
            batch.rows += 1;
            batch.last_row = row;
            match normalizer.normalize(row, &self.record, &mut batch.warnings) {
                Ok(update) => {
                    if seen.insert(update.phone) {
                        batch.phones.push(update.phone);
                    }
                    batch.updates.push(update);
                }
                Err(failure) => batch.failures.push(failure),
            }
        }
        Ok((batch.rows > 0).then_some(batch))
    }

    /// Merges the batch's rows, in file order, into `existing` (what the
    /// store holds for [`Batch::phones`]) and returns the contacts to write:
    /// each phone once, with the result of applying its rows one by one.
    pub fn merge(
        &mut self,
        batch: &mut Batch,
        existing: impl IntoIterator<Item = Contact>,
    ) -> Vec<Contact> {
        let mut stored: HashMap<Phone, Contact> =
            existing.into_iter().map(|c| (c.phone, c)).collect();
        let rules = UpdateRules {
            empty_cells: self.engine.options.empty_cells,
            tags: self.engine.options.tags,
        };
        let mut out: Vec<Contact> = Vec::with_capacity(batch.phones.len());
        let mut index: HashMap<Phone, usize> = HashMap::with_capacity(batch.phones.len());
        batch.outcomes.clear();
        for update in &batch.updates {
            let outcome = match index.get(&update.phone) {
                Some(&i) => {
                    rules.apply(&mut out[i], update);
                    Outcome::Updated
                }
                None => {
                    let (mut contact, outcome) = match stored.remove(&update.phone) {
                        Some(contact) => (contact, Outcome::Updated),
                        None => (self.new_contact(update), Outcome::Added),
                    };
                    rules.apply(&mut contact, update);
                    if contact.source.is_none() && outcome == Outcome::Added {
                        contact.source = self.engine.options.default_source.clone();
                    }
                    index.insert(update.phone, out.len());
                    out.push(contact);
                    outcome
                }
            };
            batch.outcomes.push(outcome);
        }
        out
    }

    fn new_contact(&self, update: &RowUpdate) -> Contact {
        Contact::new(update.phone, String::new(), self.now)
    }

    /// Records a batch the store has written.
    pub fn commit(&mut self, batch: Batch) {
        let report = &mut self.report;
        for (update, outcome) in batch.updates.iter().zip(&batch.outcomes) {
            match outcome {
                Outcome::Added => {
                    report.added += 1;
                    if self.added.insert(update.phone) {
                        report.phones_added.push(update.phone);
                    }
                }
                Outcome::Updated => {
                    report.updated += 1;
                    if !self.added.contains(&update.phone) && self.updated.insert(update.phone) {
                        report.phones_updated.push(update.phone);
                    }
                }
            }
        }
        report.rows += batch.rows;
        report.failed += batch.failures.len() as u64;
        report.failures.extend(batch.failures);
        report.warnings.extend(batch.warnings);
        report.last_row = Some(batch.last_row);
    }

    /// The final report.
    pub fn finish(self) -> ImportReport {
        self.report
    }

    fn store_failed<E>(self, error: E) -> ImportError<E> {
        ImportError::Store {
            error,
            report: Box::new(self.report),
        }
    }

    fn read_failed<E>(self, error: std::io::Error) -> ImportError<E> {
        ImportError::Read {
            error,
            report: Box::new(self.report),
        }
    }
}

/// A row whose cells are all blank, as a spreadsheet writes an empty row
/// (`,,,`): skipped, not counted.
fn is_blank(record: &Record) -> bool {
    !record.too_large()
        && (0..record.len()).all(|i| record.field(i).is_some_and(|f| f.trim_ascii().is_empty()))
}
