//! The import history: what each past import did, kept by the store so that a
//! user can see their imports and download a failure file again.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::report::ImportReport;

/// The id a store gave an import when it recorded it.
pub type ImportId = u64;

/// One past import, as a store keeps it: the file, when it ran, whether it
/// ran to the end, and its whole [`ImportReport`] (counts, the phones added
/// and updated, every failure with its row's cells, and the headers, so the
/// failure file can be written again).
///
/// ```
/// use contact_import::{ImportRecord, ImportReport};
/// let report = ImportReport { rows: 3, added: 2, failed: 1, ..ImportReport::default() };
/// let record = ImportRecord::new("contacts.csv", jiff::Timestamp::UNIX_EPOCH, jiff::Timestamp::UNIX_EPOCH, report);
/// let summary = record.summary();
/// assert_eq!((summary.rows, summary.added, summary.failed), (3, 2, 1));
/// assert!(record.error.is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRecord {
    /// The id the store gave the import (0 until it is recorded).
    pub id: ImportId,
    /// The name of the imported file, as the user knows it.
    pub file_name: String,
    /// When the import started.
    pub started_at: Timestamp,
    /// When it ended.
    pub finished_at: Timestamp,
    /// Why it stopped before the end of the file (a store or read error);
    /// `None` when it ran to the end. The report then covers what the store
    /// holds: every row up to [`ImportReport::last_row`].
    pub error: Option<String>,
    /// What it did.
    pub report: ImportReport,
}

impl ImportRecord {
    /// A record of an import that ran to the end, not yet given an id.
    pub fn new(
        file_name: &str,
        started_at: Timestamp,
        finished_at: Timestamp,
        report: ImportReport,
    ) -> ImportRecord {
        ImportRecord {
            id: 0,
            file_name: file_name.to_owned(),
            started_at,
            finished_at,
            error: None,
            report,
        }
    }

    /// The record without its lists, as [`ContactStore::import_history`](crate::ContactStore::import_history) returns it.
    pub fn summary(&self) -> ImportSummary {
        ImportSummary {
            id: self.id,
            file_name: self.file_name.clone(),
            started_at: self.started_at,
            finished_at: self.finished_at,
            error: self.error.clone(),
            rows: self.report.rows,
            added: self.report.added,
            updated: self.report.updated,
            unchanged: self.report.unchanged,
            failed: self.report.failed,
        }
    }
}

/// A past import's counts, for a list of imports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// The id the store gave the import.
    pub id: ImportId,
    /// The name of the imported file.
    pub file_name: String,
    /// When the import started.
    pub started_at: Timestamp,
    /// When it ended.
    pub finished_at: Timestamp,
    /// Why it stopped before the end of the file, if it did.
    pub error: Option<String>,
    /// Data rows read.
    pub rows: u64,
    /// Rows that created a contact.
    pub added: u64,
    /// Rows that updated a contact.
    pub updated: u64,
    /// Rows that matched a stored contact and changed nothing.
    pub unchanged: u64,
    /// Rows that were not imported.
    pub failed: u64,
}
