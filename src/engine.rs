//! The import engine: reads a file, normalizes each row, and upserts the
//! contacts batch by batch.

use std::io::{Read, Seek, SeekFrom};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::contact::Contact;
use crate::error::{FileError, FileErrorKind, ImportError, Position};
use crate::history::ImportRecord;
use crate::mapping::{ColumnMapping, Columns};
use crate::merge::UpdatePolicy;
use crate::normalize::{RowNormalizer, unquote};
use crate::phone::{PhoneMap, PhoneNormalizer, Region, phone_map};
use crate::plan::PlannedRow;
use crate::reader::{Input, Record, RecordReader, sniff_delimiter};
use crate::report::{ImportReport, Warning, WarningCode};
use crate::session::Import;
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

/// What an import does with rows of one file that share a phone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicatePolicy {
    /// Apply every row, in file order: the result of importing the rows one
    /// by one (the default).
    #[default]
    Merge,
    /// Import the first row of each phone; the others fail with `duplicate_in_file`.
    FirstWins,
    /// Import the last row of each phone; the others fail with `duplicate_in_file`.
    LastWins,
    /// Import none of them: every row that shares a phone fails with
    /// `duplicate_in_file`, naming the other rows.
    Reject,
}

/// How an import reads, normalizes and merges. `Default` gives the product's
/// rules: India for numbers without a country code, source `IMPORT`, blank
/// cells keep what is stored, tags are added, repeated phones merge in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// The region of numbers written without a country code (default `IN`).
    pub region: Region,
    /// The source a new contact gets when its Source cell is empty or the
    /// file has no Source column (default `Some("IMPORT")`).
    pub default_source: Option<String>,
    /// Explicit column choices; other headers are mapped automatically.
    pub mapping: ColumnMapping,
    /// How rows update contacts that exist, field by field.
    pub update: UpdatePolicy,
    /// What to do with rows that share a phone.
    pub duplicates: DuplicatePolicy,
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
    /// The field delimiter; `None` (the default) takes the most frequent of
    /// `,`, `;` and tab in the header line, so that files saved by a
    /// spreadsheet in a locale that writes `;` or as "Text (Tab delimited)" work.
    pub delimiter: Option<u8>,
    /// Skip every row up to and including this spreadsheet row: to resume
    /// an import that stopped, pass the [`ImportReport::last_row`] of its
    /// report. Skipped rows are not counted. Duplicate policies still
    /// consider the whole file, so they decide as the stopped import did.
    pub resume_after_row: Option<u64>,
    /// The file's encoding when it is not UTF-8, e.g.
    /// `Some(encoding_rs::WINDOWS_1252)` for a file saved by an older Excel.
    /// `None` (the default) reads UTF-8, and UTF-16 when the file starts with
    /// a UTF-16 byte order mark (Excel's "Unicode Text").
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// Rows whose number cannot be a WhatsApp mobile (a landline, toll-free,
    /// premium-rate, ... number) fail with `not_mobile` instead of importing
    /// with the warning `not_mobile` (default `false`).
    pub reject_not_mobile: bool,
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions {
            region: Region::INDIA,
            default_source: Some("IMPORT".to_owned()),
            mapping: ColumnMapping::new(),
            update: UpdatePolicy::default(),
            duplicates: DuplicatePolicy::Merge,
            batch_size: 1_000,
            max_rows: 200_000,
            max_row_bytes: 1 << 20,
            max_fields: 10_000,
            delimiter: None,
            resume_after_row: None,
            encoding: None,
            reject_not_mobile: false,
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
    pub(crate) catalog: Catalog,
    pub(crate) options: ImportOptions,
    pub(crate) clock: Box<dyn Clock + Send + Sync>,
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
    ///
    /// The import uses two threads: a second one reads the file and
    /// normalizes its rows (hence `Send`), while the caller's thread merges
    /// and writes them in file order, so the store need not be `Send`. For
    /// a reader that cannot move to another thread, drive the import
    /// yourself with [`start`](Self::start).
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
        R: Read + Seek + Send,
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

    /// A dry run: everything [`import`](Self::import) would do, without
    /// writing. `each` receives every row's [`PlannedRow`] in file order as
    /// it is planned (nothing holds the whole plan), and the report returned
    /// has the counts the real import would have.
    ///
    /// Only contacts of phones that occur more than once in the file are
    /// kept between batches, so memory stays bounded by the batch size and
    /// the file's repeats.
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
        let mut import = self.open(source, true)?;
        let mut overlay: PhoneMap<Contact> = phone_map(0);
        let mut to_fetch = Vec::new();
        loop {
            let mut batch = match import.next_batch() {
                Ok(Some(batch)) => batch,
                Ok(None) => break,
                Err(error) => return Err(import.read_failed(error)),
            };
            let mut existing = Vec::new();
            to_fetch.clear();
            for phone in batch.phones() {
                match overlay.remove(phone) {
                    Some(contact) => existing.push(contact),
                    None => to_fetch.push(*phone),
                }
            }
            if let Err(error) = store.fetch(&to_fetch, &mut existing) {
                return Err(import.store_failed(error));
            }
            let (contacts, rows) = import.plan_batch(&mut batch, existing);
            overlay.extend(
                contacts
                    .into_iter()
                    .filter(|c| import.state.repeated.contains_key(&c.phone))
                    .map(|c| (c.phone, c)),
            );
            import.commit(batch);
            rows.into_iter().for_each(&mut each);
        }
        Ok(import.finish())
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
    pub fn start<R: Read + Seek>(&self, source: R) -> Result<Import<'_, R>, FileError> {
        self.open(source, self.options.duplicates != DuplicatePolicy::Merge)
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
        let scan = self.scan(Input::open(&mut source, encoding)?, delimiter, index)?;
        source.seek(SeekFrom::Start(origin))?;
        let (reader, headers, columns) = self.header(Input::open(source, encoding)?, delimiter)?;
        let mut report = ImportReport {
            headers,
            ..ImportReport::default()
        };
        report
            .warnings
            .extend(column_warnings(&report.headers, &columns));
        Ok(Import::new(
            self,
            reader,
            columns,
            report,
            scan.rows,
            scan.repeated,
        ))
    }

    fn reader<R: Read>(&self, source: R, delimiter: u8) -> RecordReader<R> {
        let o = &self.options;
        RecordReader::new(source, delimiter, o.max_row_bytes, o.max_fields)
    }

    /// Reads the header row and maps its columns.
    fn header<R: Read>(
        &self,
        source: R,
        delimiter: u8,
    ) -> Result<(RecordReader<R>, Vec<String>, Columns), FileError> {
        let mut reader = self.reader(source, delimiter);
        let mut record = Record::default();
        if !reader.read(&mut record)? {
            return Err(FileError::new(FileErrorKind::Empty));
        }
        let headers = read_headers(&record)?;
        let columns = self.options.mapping.resolve(&headers, &self.catalog)?;
        Ok((reader, headers, columns))
    }

    /// Counts data rows, refusing the file when there are too many; with
    /// `index`, also finds the phones that several valid rows share.
    fn scan<R: Read>(&self, source: R, delimiter: u8, index: bool) -> Result<Scan, FileError> {
        let too_many = || {
            FileError::new(FileErrorKind::TooManyRows {
                max: self.options.max_rows,
            })
        };
        let mut record = Record::default();
        let mut rows = 0u64;
        if !index {
            let mut reader = self.reader(source, delimiter);
            // The header and one row more than the limit tell it is too many.
            let limit = self.options.max_rows.saturating_add(2);
            rows = reader.skip_records(&mut record, limit)?;
            if rows > self.options.max_rows.saturating_add(1) {
                return Err(too_many());
            }
            return Ok(Scan {
                rows: rows.saturating_sub(1),
                repeated: phone_map(0),
            });
        }
        let (mut reader, headers, columns) = self.header(source, delimiter)?;
        let normalizer = RowNormalizer::new(
            &self.catalog,
            &columns,
            &headers,
            PhoneNormalizer::new(self.options.region),
            &self.options.update,
        )
        .reject_not_mobile(self.options.reject_not_mobile);
        let mut phones: PhoneMap<Vec<u64>> = phone_map(0);
        let mut ignored = Vec::new();
        while reader.read(&mut record)? {
            rows += 1;
            if rows > self.options.max_rows {
                return Err(too_many());
            }
            if record.is_blank() {
                continue;
            }
            if let Ok(update) = normalizer.normalize(rows + 1, &record, &mut ignored) {
                phones.entry(update.phone).or_default().push(rows + 1);
            }
            ignored.clear();
        }
        phones.retain(|_, rows| rows.len() > 1);
        Ok(Scan {
            rows,
            repeated: phones,
        })
    }
}

/// What the first pass found.
struct Scan {
    rows: u64,
    repeated: PhoneMap<Vec<u64>>,
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
        });
    let superseded = columns.superseded.iter().map(|&i| Warning {
        row: None,
        column: Some(headers[i].clone()),
        code: WarningCode::SupersededColumn,
        message: format!(
            "column {:?} was ignored because the file has a Name column; map Name to ignore to build the name from first and last names",
            headers[i]
        ),
    });
    unknown.chain(superseded).collect()
}
