//! Errors that stop an import as a whole.
//!
//! A bad *row* is not an error: it becomes a [`RowFailure`](crate::RowFailure)
//! in the report and the import goes on. The errors here are for a file that
//! cannot be imported at all ([`FileError`], raised before anything is
//! written) and for failures part-way through ([`ImportError`], which carries
//! the report of what the store holds).

use std::fmt;
use std::io;

use crate::phone::Phone;
use crate::report::ImportReport;
pub use crate::report::Position;

/// What made a file unimportable. Match on it to show your own message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileErrorKind {
    /// The file has no header row.
    #[error("the file is empty: expected a header row such as \"Name,Mobile Number\"")]
    Empty,
    /// A mandatory field has no column.
    #[error(
        "no column for {field}; the headers found were: {}",
        quote_all(headers)
    )]
    MissingColumn {
        /// The field, e.g. `name` or `phone`.
        field: String,
        /// Every header of the file.
        headers: Vec<String>,
    },
    /// Two columns map to the same field.
    #[error(
        "columns {} both map to {field}; map one of them to another field or to ignore",
        quote_all(headers)
    )]
    DuplicateColumn {
        /// The field both columns map to.
        field: String,
        /// The headers of the two columns.
        headers: Vec<String>,
    },
    /// An explicit mapping names an attribute that is not in the catalog.
    #[error(
        "column {header:?} is mapped to attribute {attribute:?}, which is not in the catalog; create it first"
    )]
    UnknownAttribute {
        /// The column's header.
        header: String,
        /// The attribute it was mapped to.
        attribute: String,
    },
    /// The file has more data rows than the import allows.
    #[error("the file has more than {max} data rows; split it into files of at most {max} rows")]
    TooManyRows {
        /// The limit, [`ImportOptions::max_rows`](crate::ImportOptions).
        max: u64,
    },
    /// The header row is larger than the row limit.
    #[error(
        "the header row is larger than the row limit (ImportOptions::max_row_bytes / max_fields)"
    )]
    HeaderTooLarge,
    /// The header row is not valid UTF-8.
    #[error("the header row is not valid UTF-8; save the file as \"CSV UTF-8\"")]
    HeaderNotUtf8,
    /// Reading the file failed. The message includes the I/O error's; it
    /// is not also a `source`.
    #[error("could not read the file: {0}")]
    Io(io::Error),
}

fn quote_all(headers: &[String]) -> String {
    if headers.is_empty() {
        return "(none)".to_owned();
    }
    headers
        .iter()
        .map(|h| format!("{h:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A file that cannot be imported at all. Nothing was written.
#[derive(Debug)]
pub struct FileError {
    kind: FileErrorKind,
    position: Option<Position>,
}

impl FileError {
    pub(crate) fn new(kind: FileErrorKind) -> FileError {
        FileError {
            kind,
            position: None,
        }
    }

    pub(crate) fn at(mut self, position: Position) -> FileError {
        self.position = Some(position);
        self
    }

    /// What was wrong.
    pub fn kind(&self) -> &FileErrorKind {
        &self.kind
    }

    /// Where, when it is about one place in the file.
    pub fn position(&self) -> Option<&Position> {
        self.position.as_ref()
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.position {
            Some(position) => write!(f, "{position}: {}", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

/// The message says it all, the I/O error included (read it from
/// [`FileError::kind`]): no `source`, so that a chain prints it once.
impl std::error::Error for FileError {}

impl From<io::Error> for FileError {
    fn from(e: io::Error) -> FileError {
        FileError::new(FileErrorKind::Io(e))
    }
}

/// An import that did not run to the end.
///
/// `E` is the store's error type. For the errors that struck after writing
/// began, the report says what the store holds: every row up to
/// [`ImportReport::last_row`] was written (or failed). Of the batch in
/// flight, contacts may have been written too; importing again with
/// [`resume_after_row`](crate::ImportOptions::resume_after_row) set to
/// `last_row` applies its rows again, which the merge rules make safe.
///
/// Each variant's message says what happened once: the store's or the
/// reader's own error is in the message, not again in
/// [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError<E> {
    /// The file was refused before anything was written.
    #[error(transparent)]
    File(#[from] FileError),
    /// The store failed; the report covers the batches it acknowledged.
    #[error("the store failed after {}: {error}", written_through(report))]
    Store {
        /// The store's error.
        error: E,
        /// What was imported before the failure.
        report: Box<ImportReport>,
    },
    /// Reading the file failed part-way through.
    #[error("reading the file failed after {}: {error}", written_through(report))]
    Read {
        /// The I/O error.
        error: io::Error,
        /// What was imported before the failure.
        report: Box<ImportReport>,
    },
    /// Other writers kept changing some contacts of a batch, so that the
    /// import could not write them (see [`Contended`]).
    #[error("the import stopped after {}: {error}", written_through(report))]
    Contended {
        /// The contacts that kept changing.
        error: Contended,
        /// What was imported before.
        report: Box<ImportReport>,
    },
}

/// Contacts that other writers changed every time an import fetched and
/// merged them again, [`MAX_CONFLICT_ROUNDS`](crate::MAX_CONFLICT_ROUNDS) times in a row.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error(
    "{} contact(s) kept changing while the import wrote them ({rounds} tries), first {}: another writer changes them continuously; import the file again when it stops",
    phones.len(),
    phones.first().map_or("(none)", Phone::as_str)
)]
pub struct Contended {
    /// The phones of the contacts that kept changing, sorted.
    pub phones: Vec<Phone>,
    /// How many times they were fetched and merged again.
    pub rounds: u32,
}

impl<E> ImportError<E> {
    /// The report of what was imported before the failure, when writing had begun.
    pub fn report(&self) -> Option<&ImportReport> {
        match self {
            ImportError::File(_) => None,
            ImportError::Store { report, .. }
            | ImportError::Read { report, .. }
            | ImportError::Contended { report, .. } => Some(report),
        }
    }
}

fn written_through(report: &ImportReport) -> String {
    match report.last_row {
        Some(row) => format!("row {row} (the store holds every row up to it)"),
        None => "no row was written".to_owned(),
    }
}
