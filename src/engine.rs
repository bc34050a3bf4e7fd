//! The import engine: reads a file, normalizes each row, and upserts the
//! contacts batch by batch.

use std::io::{Read, Seek, SeekFrom};

use jiff::Timestamp;

use crate::catalog::Catalog;
use crate::contact::Contact;
use crate::error::{FileError, FileErrorKind, ImportError, Position};
use crate::history::ImportRecord;
use crate::mapping::Columns;
use crate::normalize::RowNormalizer;
use crate::options::Settings;
pub use crate::options::{DuplicatePolicy, HEADER_SEARCH_ROWS, ImportMode, ImportOptions};
use crate::phone::{PhoneMap, PhoneNormalizer, phone_map};
use crate::plan::PlannedRow;
use crate::reader::{Input, Record, RecordReader, Records, sniff_delimiter};
pub use crate::report::Progress;
use crate::report::{ImportReport, Warning, WarningCode};
use crate::row_source::RowRecords;
use crate::session::Import;
use crate::store::{ContactStore, Stored, Version};
use crate::tally::Cause;
use crate::text::unquote;

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

/// How many times in a row an import fetches and merges again the
/// contacts of a batch that other writers changed before it could write
/// them; past that, the import stops with [`ImportError::Contended`].
pub const MAX_CONFLICT_ROUNDS: u32 = crate::batch::MAX_ROUNDS;

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
    pub(crate) catalog: Catalog,
    pub(crate) options: ImportOptions,
    pub(crate) clock: Box<dyn Clock + Send + Sync>,
}

impl ImportEngine {
    /// What an import starting now reads of this engine.
    fn settings(&self) -> Settings<'_> {
        Settings {
            options: &self.options,
            catalog: &self.catalog,
            now: self.clock.now(),
        }
    }

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
    /// [`ImportOptions::with_max_rows`] is refused before anything is written),
    /// once to import it. For a stream, read it into memory or a temporary
    /// file first.
    ///
    /// The import uses two threads: a second one reads the file and
    /// normalizes its rows (hence `Send`), while the caller's thread merges
    /// and writes them in file order, so the store need not be `Send`. For
    /// a reader that cannot move to another thread, drive the import
    /// yourself with [`start`](Self::start).
    ///
    /// # Beside other writers
    ///
    /// Other imports, agents and the messaging service may write the same
    /// contact book at the same time. Each batch is written with
    /// preconditions ([`WriteBatch`](crate::WriteBatch)): a contact another
    /// writer changed since the fetch, or a phone another writer added, is
    /// not overwritten but fetched again, its rows merged again into what
    /// the store holds now, and written again. So nothing another writer
    /// wrote is lost, and the report counts what this import did: a phone
    /// another import added first is `updated` (or `unchanged`) here, never
    /// `added` twice. A batch whose contacts keep changing
    /// [`MAX_CONFLICT_ROUNDS`] times in a row stops the import with
    /// [`ImportError::Contended`].
    pub fn import<R, S>(
        &self,
        source: R,
        store: &mut S,
    ) -> Result<ImportReport, ImportError<S::Error>>
    where
        R: Read + Seek + Send,
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
        progress: impl FnMut(Progress),
    ) -> Result<ImportReport, ImportError<S::Error>>
    where
        R: Read + Seek + Send,
        S: ContactStore + ?Sized,
    {
        // Rows are read and normalized on a second thread, ahead of the merges.
        crate::pipeline::run(self.start(source)?, store, progress)
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
    /// A store that fails because it is unreachable or full (a stopped
    /// server, a full disk) usually refuses the record as well, right after:
    /// the import then leaves no trace in the history. The crate does not
    /// keep the record to retry later, since it has nowhere to keep it that
    /// outlives the process; the error carries the report
    /// ([`ImportError::report`]), so a service that wants the history
    /// complete records it itself once the store is back
    /// ([`ImportRecord::new`], then [`ContactStore::record_import`]).
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
    /// let history = store.import_history()?;
    /// assert_eq!(history[0].file_name, "leads.csv");
    /// let again = store.import_record(record.id)?.unwrap();
    /// assert_eq!(again.report.failures[0].position.row, 3);
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
        R: Read + Seek + Send,
        S: ContactStore + ?Sized,
    {
        self.recorded(file_name, store, |engine, store| {
            engine.import_with_progress(source, store, progress)
        })
    }

    /// Runs `import` and records it under `file_name`: the rules of
    /// [`import_recorded`](Self::import_recorded), for CSV and spreadsheets.
    fn recorded<S: ContactStore + ?Sized>(
        &self,
        file_name: &str,
        store: &mut S,
        import: impl FnOnce(&Self, &mut S) -> Result<ImportReport, ImportError<S::Error>>,
    ) -> Result<ImportRecord, ImportError<S::Error>> {
        let started_at = self.clock.now();
        let outcome = import(self, store);
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

    /// A dry run: everything [`import`](Self::import) would do, without
    /// writing. `each` receives every row's [`PlannedRow`] in file order as
    /// it is planned (nothing holds the whole plan), and the report returned
    /// has the counts the real import would have.
    ///
    /// Only contacts of phones that occur more than once in the file are
    /// kept between batches, so memory stays bounded by the batch size and
    /// the file's repeats.
    ///
    /// The plan predicts the import when nothing else writes the store in
    /// between: another writer's changes, made after the plan read a
    /// contact, are merged by the import but not by the plan.
    ///
    /// ```
    /// # use std::io::Cursor;
    /// # use contact_import::*;
    /// let engine = ImportEngine::new(Catalog::new().with_tags(["MBA"]), Timestamp::UNIX_EPOCH);
    /// let mut store = MemoryStore::new();
    /// engine.import(Cursor::new("Name,Phone\nAsha,9876543210\n"), &mut store)?;
    ///
    /// let mut planned = Vec::new();
    /// let report = engine.plan(Cursor::new("Name,Phone,Tags\nAsha Rao,9876543210,MBA\n"), &mut store, |row| planned.push(row))?;
    /// assert_eq!(report.updated, 1);
    /// assert_eq!(planned[0].outcome, RowOutcome::Updated);
    /// assert_eq!(planned[0].changes[0].field, "name");
    /// assert_eq!(planned[0].changes[0].after.as_deref(), Some("Asha Rao"));
    /// assert_eq!(store.contacts()[0].name(), "Asha", "nothing written");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn plan<R, S>(
        &self,
        source: R,
        store: &mut S,
        mut each: impl FnMut(PlannedRow),
    ) -> Result<ImportReport, ImportError<S::Error>>
    where
        R: Read + Seek,
        S: ContactStore + ?Sized,
    {
        plan_import(self.open(source, true)?, store, &mut each)
    }

    /// Imports a spreadsheet (`.xlsx`, `.xls` or `.ods`, as `format` says)
    /// into `store`, like [`import_with_progress`](Self::import_with_progress)
    /// a CSV file: the sheet [`ImportOptions::with_sheet`] names, with the same
    /// limits, rows numbered as the sheet shows them, and the same report
    /// and failure file. Feature `spreadsheet`.
    ///
    /// The sheet is read on a thread of its own; an `.xlsx` sheet is
    /// streamed (memory bounded by the batches in flight, and the count
    /// pass reads the sheet's declared dimension), while calamine reads
    /// `.xls` and `.ods` sheets whole. A file that is no workbook of that
    /// format, a protected workbook, or a missing sheet is refused before
    /// anything is written.
    #[cfg(feature = "spreadsheet")]
    pub fn import_spreadsheet<R, S>(
        &self,
        source: R,
        format: crate::spreadsheet::SpreadsheetFormat,
        store: &mut S,
        progress: impl FnMut(Progress),
    ) -> Result<ImportReport, ImportError<S::Error>>
    where
        R: Read + Seek + Send,
        S: ContactStore + ?Sized,
    {
        self.with_sheet(source, format, self.index_repeats(), |import| {
            crate::pipeline::run(import, store, progress)
        })
    }

    /// [`import_spreadsheet`](Self::import_spreadsheet), recorded in the
    /// store's history under `file_name` as
    /// [`import_recorded`](Self::import_recorded) records a CSV file (the
    /// same rules for an import that stops part-way). Feature `spreadsheet`.
    #[cfg(feature = "spreadsheet")]
    pub fn import_spreadsheet_recorded<R, S>(
        &self,
        file_name: &str,
        source: R,
        format: crate::spreadsheet::SpreadsheetFormat,
        store: &mut S,
        progress: impl FnMut(Progress),
    ) -> Result<ImportRecord, ImportError<S::Error>>
    where
        R: Read + Seek + Send,
        S: ContactStore + ?Sized,
    {
        self.recorded(file_name, store, |engine, store| {
            engine.import_spreadsheet(source, format, store, progress)
        })
    }

    /// A dry run of [`import_spreadsheet`](Self::import_spreadsheet), as
    /// [`plan`](Self::plan) is of [`import`](Self::import). Feature `spreadsheet`.
    #[cfg(feature = "spreadsheet")]
    pub fn plan_spreadsheet<R, S>(
        &self,
        source: R,
        format: crate::spreadsheet::SpreadsheetFormat,
        store: &mut S,
        mut each: impl FnMut(PlannedRow),
    ) -> Result<ImportReport, ImportError<S::Error>>
    where
        R: Read + Seek + Send,
        S: ContactStore + ?Sized,
    {
        self.with_sheet(source, format, true, |import| {
            plan_import(import, store, &mut each)
        })
    }

    /// Runs `run` on an import of the sheet, read on a scoped thread.
    #[cfg(feature = "spreadsheet")]
    fn with_sheet<R, T, E>(
        &self,
        source: R,
        format: crate::spreadsheet::SpreadsheetFormat,
        index: bool,
        run: impl FnOnce(Import<'_, std::io::Empty>) -> Result<T, ImportError<E>>,
    ) -> Result<T, ImportError<E>>
    where
        R: Read + Seek + Send,
    {
        use crate::spreadsheet::{SheetJob, SheetRecords, channel, produce};
        let o = &self.options;
        let job = SheetJob {
            format,
            sheet: o.sheet.clone(),
            full_first_pass: index,
            count_limit: self.count_limit(),
            max_row_bytes: o.max_row_bytes,
            max_fields: o.max_fields,
        };
        let (sender, receiver) = channel();
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("contact-import sheet".to_owned())
                .spawn_scoped(scope, move || produce(source, &job, &sender))
                .map_err(FileError::from)?;
            // Dropped on every way out, which stops the reading thread.
            let mut records = SheetRecords::new(receiver);
            let scan = self.scan(&mut records, index)?;
            records.next_pass();
            let import = self.open_records(RowRecords::Sheet(records), scan)?;
            run(import)
        })
    }

    /// Starts an import whose batches the caller drives: for a store the
    /// engine cannot call itself, e.g. an async database client.
    ///
    /// Each batch is fetched, merged and written until no write conflicts:
    /// when another writer changed a contact between the fetch and the
    /// write, [`Import::written`](crate::Import::written) says so, and the
    /// batch's [`phones`](crate::Batch::phones) are then the ones to fetch
    /// and merge again. The guarantees are those of
    /// [`import`](Self::import).
    ///
    /// ```
    /// # use std::io::Cursor;
    /// # use contact_import::*;
    /// # let engine = ImportEngine::new(Catalog::new(), jiff::Timestamp::UNIX_EPOCH);
    /// # let mut store = MemoryStore::new();
    /// let mut import = engine.start(Cursor::new("Name,Phone\nAsha,9876543210\n"))?;
    /// while let Some(mut batch) = import.next_batch()? {
    ///     loop {
    ///         let mut stored = Vec::new();
    ///         store.fetch(batch.phones(), &mut stored).unwrap(); // e.g. an .await here
    ///         let writes = import.merge(&mut batch, stored);
    ///         let conflicts = store.write_batch(writes).unwrap(); // and here
    ///         if import.written(&mut batch, conflicts)? {
    ///             break;
    ///         }
    ///     }
    ///     import.commit(batch);
    /// }
    /// assert_eq!(import.finish().added, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start<R: Read + Seek>(&self, source: R) -> Result<Import<'_, R>, FileError> {
        self.open(source, self.index_repeats())
    }

    /// Whether an import's first pass finds the phones that repeat: the
    /// duplicate policies other than `Merge` act on them.
    fn index_repeats(&self) -> bool {
        self.options.duplicates != DuplicatePolicy::Merge
    }

    /// The first pass (count, and with `index` the phones that repeat), then
    /// the header of the second.
    fn open<R: Read + Seek>(&self, mut source: R, index: bool) -> Result<Import<'_, R>, FileError> {
        let origin = source.stream_position()?;
        let encoding = self.options.encoding;
        let delimiter = match self.options.delimiter {
            Some(delimiter) => delimiter,
            None => {
                let delimiter = sniff_delimiter(Input::open(&mut source, encoding)?)?;
                source.seek(SeekFrom::Start(origin))?;
                delimiter
            }
        };
        let mut first = self.reader(Input::open(&mut source, encoding)?, delimiter);
        let scan = self.scan(&mut first, index)?;
        drop(first);
        source.seek(SeekFrom::Start(origin))?;
        let reader = self.reader(Input::open(source, encoding)?, delimiter);
        self.open_records(RowRecords::Csv(reader), scan)
    }

    /// The second pass's header, once the first pass found `scan`.
    pub(crate) fn open_records<R: Read>(
        &self,
        mut records: RowRecords<R>,
        scan: Scan,
    ) -> Result<Import<'_, R>, FileError> {
        let header = self.header(&mut records)?;
        let rows = scan.records.saturating_sub(header.row);
        if rows > self.options.max_rows {
            return Err(self.too_many_rows());
        }
        let mut report = ImportReport {
            headers: header.headers,
            ..ImportReport::default()
        };
        report.warnings.extend(header.skipped);
        report
            .warnings
            .extend(column_warnings(&report.headers, &header.columns));
        Ok(Import::new(
            self.settings(),
            records,
            header.columns,
            report,
            rows,
            scan.repeated,
            header.row + 1,
        ))
    }

    fn reader<R: Read>(&self, source: R, delimiter: u8) -> RecordReader<R> {
        let o = &self.options;
        RecordReader::new(source, delimiter, o.max_row_bytes, o.max_fields)
    }

    /// How many records a count without `index` reads at most: the rows up
    /// to the header and one row more than the limit tell it is too many.
    fn count_limit(&self) -> u64 {
        let above = self.options.header_row.unwrap_or(HEADER_SEARCH_ROWS);
        self.options
            .max_rows
            .saturating_add(above)
            .saturating_add(1)
    }

    fn too_many_rows(&self) -> FileError {
        FileError::new(FileErrorKind::TooManyRows {
            max: self.options.max_rows,
        })
    }

    /// Reads up to the header row and maps its columns: the row
    /// [`ImportOptions::with_header_row`] names, or the first of the first rows
    /// that maps to both a name and a phone (when none does, the first
    /// row's error).
    fn header<S: Records>(&self, records: &mut S) -> Result<Header, FileError> {
        let explicit = self.options.header_row.map(|row| row.max(1));
        let last = explicit.unwrap_or(HEADER_SEARCH_ROWS);
        let mut record = Record::default();
        let mut above: Vec<(u64, String)> = Vec::new();
        let mut first_error = None;
        let mut row = 0;
        while records.read(&mut record)? {
            row += 1;
            let blank = record.is_blank();
            let candidate = match explicit {
                Some(at) => row == at,
                None => !blank,
            };
            if candidate {
                let mapped = read_headers(&record, row).and_then(|headers| {
                    let columns = self.options.mapping.resolve(&headers, &self.catalog)?;
                    Ok((headers, columns))
                });
                match mapped {
                    Ok((headers, columns)) => {
                        return Ok(Header {
                            row,
                            headers,
                            columns,
                            skipped: rows_above_warning(&above, row),
                        });
                    }
                    Err(error) if explicit.is_some() => return Err(error),
                    Err(error) => {
                        first_error.get_or_insert(error);
                    }
                }
            }
            if !blank {
                let first_cell = record.lossy().into_iter().find(|c| !c.trim().is_empty());
                above.push((row, first_cell.unwrap_or_default()));
            }
            if row >= last {
                break;
            }
        }
        Err(first_error.unwrap_or_else(|| FileError::new(FileErrorKind::Empty)))
    }

    /// Counts records (the header and any rows above it included), refusing
    /// the file when there are too many; with `index`, also finds the phones
    /// that several valid rows share.
    fn scan<S: Records>(&self, source: &mut S, index: bool) -> Result<Scan, FileError> {
        let mut record = Record::default();
        if !index {
            if let Some(records) = source.declared_records()? {
                return Ok(Scan {
                    records,
                    repeated: phone_map(0),
                });
            }
            let records = source.skip_records(&mut record, self.count_limit())?;
            return Ok(Scan {
                records,
                repeated: phone_map(0),
            });
        }
        let header = self.header(source)?;
        let normalizer = RowNormalizer::new(
            &self.catalog,
            &header.columns,
            &header.headers,
            PhoneNormalizer::new(self.options.region),
            &self.options.update,
        )
        .reject_not_mobile(self.options.reject_not_mobile);
        let mut phones: PhoneMap<Vec<u64>> = phone_map(0);
        let mut ignored = Vec::new();
        let mut rows = 0u64;
        while source.read(&mut record)? {
            rows += 1;
            if rows > self.options.max_rows {
                return Err(self.too_many_rows());
            }
            if record.is_blank() {
                continue;
            }
            let row = header.row + rows;
            if let Ok(update) = normalizer.normalize(row, &record, &mut ignored) {
                phones.entry(update.phone).or_default().push(row);
            }
            ignored.clear();
        }
        phones.retain(|_, rows| rows.len() > 1);
        Ok(Scan {
            records: header.row + rows,
            repeated: phones,
        })
    }
}

/// The header row found, and the warning naming the rows above it.
struct Header {
    row: u64,
    headers: Vec<String>,
    columns: Columns,
    skipped: Option<Warning>,
}

/// One warning naming the rows skipped above the header, by their first cell.
fn rows_above_warning(above: &[(u64, String)], header_row: u64) -> Option<Warning> {
    if above.is_empty() {
        return None;
    }
    let named: Vec<String> = above
        .iter()
        .map(|(row, text)| {
            format!(
                "row {row} ({:?})",
                text.chars().take(60).collect::<String>()
            )
        })
        .collect();
    Some(Warning {
        row: None,
        column: None,
        code: WarningCode::RowsAboveHeader,
        message: format!(
            "the header is row {header_row}; the rows above it were skipped: {}; set the header row if this is not the header",
            named.join(", ")
        ),
        value: None,
    })
}

/// Plans `import` against `store`, handing every row to `each`.
fn plan_import<R: Read, S: ContactStore + ?Sized>(
    mut import: Import<'_, R>,
    store: &mut S,
    each: &mut impl FnMut(PlannedRow),
) -> Result<ImportReport, ImportError<S::Error>> {
    import.size_batches_for(store);
    let mut overlay: PhoneMap<Contact> = phone_map(0);
    let mut to_fetch = Vec::new();
    loop {
        let mut batch = match import.next_batch() {
            Ok(Some(batch)) => batch,
            Ok(None) => break,
            Err(error) => return Err(import.state.tally.failed(Cause::Read(error))),
        };
        let mut existing = Vec::new();
        to_fetch.clear();
        for phone in batch.phones() {
            match overlay.remove(phone) {
                // Never written: the plan writes nothing.
                Some(contact) => existing.push(Stored {
                    contact,
                    version: Version::new(0),
                }),
                None => to_fetch.push(*phone),
            }
        }
        if let Err(error) = store.fetch(&to_fetch, &mut existing) {
            return Err(import.state.tally.failed(Cause::Store(error)));
        }
        let (contacts, rows) = import.plan_batch(&mut batch, existing);
        overlay.extend(
            contacts
                .into_iter()
                .filter(|c| import.state.repeated.contains_key(&c.phone))
                .map(|c| (c.phone, c)),
        );
        import.commit(batch);
        rows.into_iter().for_each(&mut *each);
    }
    Ok(import.finish())
}

/// What the first pass found.
pub(crate) struct Scan {
    /// Records up to the last, the header and the rows above it included.
    pub records: u64,
    pub repeated: PhoneMap<Vec<u64>>,
}

fn read_headers(record: &Record, row: u64) -> Result<Vec<String>, FileError> {
    let header_error = |kind| FileError::new(kind).at(Position { row, column: None });
    if record.too_large() {
        return Err(header_error(FileErrorKind::HeaderTooLarge));
    }
    (0..record.len())
        .map(|i| {
            let bytes = record.field(i).unwrap_or_default();
            std::str::from_utf8(bytes)
                .map(|h| unquote(h.trim()).to_owned())
                .map_err(|_| header_error(FileErrorKind::HeaderNotUtf8))
        })
        .collect()
}

fn column_warnings(headers: &[String], columns: &Columns) -> Vec<Warning> {
    let mut seen = std::collections::HashSet::new();
    let unknown = columns
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
            value: None,
        });
    let superseded = columns.superseded.iter().map(|&i| Warning {
        row: None,
        column: Some(headers[i].clone()),
        code: WarningCode::SupersededColumn,
        message: format!(
            "column {:?} was ignored because the file has a Name column; map Name to ignore to build the name from first and last names",
            headers[i]
        ),
        value: None,
    });
    unknown.chain(superseded).collect()
}
