//! An import record as `MemoryStore` keeps it in its history: the report's
//! long lists packed, about a third of the memory of a copy.
//!
//! A copy of a report costs an allocation for every text (three a warning,
//! about ten a failure with its cells) and 17 bytes a phone. Packed, the
//! phones are integers ([`Phone::key`]) and every text of the warnings and
//! failures is in one string. The record is unpacked only when it is read
//! back ([`ContactStore::import_record`](crate::ContactStore::import_record)).

use crate::history::ImportRecord;
use crate::phone::Phone;
use crate::report::{FailureCode, ImportReport, Position, RowFailure, Warning, WarningCode};

/// A record with its report's phones, warnings and failures packed.
#[derive(Clone, Debug)]
pub(crate) struct PackedRecord {
    /// The record, its report without the four lists.
    record: ImportRecord,
    phones_added: Vec<u64>,
    phones_updated: Vec<u64>,
    warnings: Vec<PackedWarning>,
    failures: Vec<PackedFailure>,
    texts: Texts,
}

/// A warning; its texts are, in order, its column (if any), its message
/// and its value (if any).
#[derive(Clone, Copy, Debug)]
struct PackedWarning {
    row: Option<u64>,
    code: WarningCode,
    column: bool,
    value: bool,
}

/// A failure; its texts are its message, its column (if any), then its
/// `values` cells.
#[derive(Clone, Copy, Debug)]
struct PackedFailure {
    row: u64,
    code: FailureCode,
    column: bool,
    values: usize,
}

/// Texts one after another in one string, with where each ends.
#[derive(Clone, Debug, Default)]
struct Texts {
    all: String,
    ends: Vec<usize>,
}

impl Texts {
    fn push(&mut self, text: &str) {
        self.all.push_str(text);
        self.ends.push(self.all.len());
    }

    /// Pushes `text` if there is one; whether there was.
    fn push_some(&mut self, text: Option<&str>) -> bool {
        text.map(|text| self.push(text)).is_some()
    }

    fn shrink_to_fit(&mut self) {
        self.all.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

/// Reads packed texts back in the order they were pushed.
struct TextReader<'a> {
    texts: &'a Texts,
    next: usize,
}

impl TextReader<'_> {
    fn next(&mut self) -> String {
        let start = match self.next {
            0 => 0,
            n => self.texts.ends.get(n - 1).copied().unwrap_or(0),
        };
        let end = self.texts.ends.get(self.next).copied().unwrap_or(start);
        self.next += 1;
        self.texts
            .all
            .get(start..end)
            .unwrap_or_default()
            .to_owned()
    }

    fn next_if(&mut self, present: bool) -> Option<String> {
        present.then(|| self.next())
    }
}

impl PackedRecord {
    /// Packs a copy of `record`, with `id`.
    pub(crate) fn new(record: &ImportRecord, id: u64) -> PackedRecord {
        let report = &record.report;
        let mut texts = Texts::default();
        let warnings = report
            .warnings
            .iter()
            .map(|w| pack_warning(w, &mut texts))
            .collect();
        let failures = report
            .failures
            .iter()
            .map(|f| pack_failure(f, &mut texts))
            .collect();
        texts.shrink_to_fit();
        PackedRecord {
            record: ImportRecord {
                id,
                file_name: record.file_name.clone(),
                started_at: record.started_at,
                finished_at: record.finished_at,
                error: record.error.clone(),
                report: without_lists(report),
            },
            phones_added: report.phones_added.iter().map(Phone::key).collect(),
            phones_updated: report.phones_updated.iter().map(Phone::key).collect(),
            warnings,
            failures,
            texts,
        }
    }

    /// The record's id.
    pub(crate) fn id(&self) -> u64 {
        self.record.id
    }

    /// The record without its lists (its counts are whole).
    pub(crate) fn summary_record(&self) -> &ImportRecord {
        &self.record
    }

    /// The whole record, as it was recorded.
    pub(crate) fn unpack(&self) -> ImportRecord {
        let mut record = self.record.clone();
        let report = &mut record.report;
        let mut texts = TextReader {
            texts: &self.texts,
            next: 0,
        };
        report.phones_added = self
            .phones_added
            .iter()
            .filter_map(|&k| phone_of(k))
            .collect();
        report.phones_updated = self
            .phones_updated
            .iter()
            .filter_map(|&k| phone_of(k))
            .collect();
        report.warnings = self
            .warnings
            .iter()
            .map(|w| unpack_warning(w, &mut texts))
            .collect();
        report.failures = self
            .failures
            .iter()
            .map(|f| unpack_failure(f, &mut texts))
            .collect();
        record
    }
}

/// A copy of `report` with empty lists of phones, warnings and failures.
fn without_lists(report: &ImportReport) -> ImportReport {
    ImportReport {
        rows: report.rows,
        added: report.added,
        updated: report.updated,
        unchanged: report.unchanged,
        skipped: report.skipped,
        failed: report.failed,
        phones_added: Vec::new(),
        phones_updated: Vec::new(),
        failures: Vec::new(),
        warnings: Vec::new(),
        not_mobile: report.not_mobile,
        duplicates: report.duplicates.clone(),
        headers: report.headers.clone(),
        last_row: report.last_row,
        conflicts: report.conflicts,
    }
}

fn pack_warning(warning: &Warning, texts: &mut Texts) -> PackedWarning {
    let column = texts.push_some(warning.column.as_deref());
    texts.push(&warning.message);
    let value = texts.push_some(warning.value.as_deref());
    PackedWarning {
        row: warning.row,
        code: warning.code,
        column,
        value,
    }
}

fn unpack_warning(warning: &PackedWarning, texts: &mut TextReader<'_>) -> Warning {
    let column = texts.next_if(warning.column);
    let message = texts.next();
    let value = texts.next_if(warning.value);
    Warning {
        row: warning.row,
        column,
        code: warning.code,
        message,
        value,
    }
}

fn pack_failure(failure: &RowFailure, texts: &mut Texts) -> PackedFailure {
    texts.push(&failure.message);
    let column = texts.push_some(failure.position.column.as_deref());
    failure.values.iter().for_each(|value| texts.push(value));
    PackedFailure {
        row: failure.position.row,
        code: failure.code,
        column,
        values: failure.values.len(),
    }
}

fn unpack_failure(failure: &PackedFailure, texts: &mut TextReader<'_>) -> RowFailure {
    let message = texts.next();
    let column = texts.next_if(failure.column);
    let values = (0..failure.values).map(|_| texts.next()).collect();
    RowFailure {
        position: Position {
            row: failure.row,
            column,
        },
        code: failure.code,
        message,
        values,
    }
}

/// The phone whose [`Phone::key`] is `key`.
fn phone_of(key: u64) -> Option<Phone> {
    // '+' and the at most 20 digits of a u64.
    let mut text = [0u8; 21];
    let mut at = text.len();
    let mut rest = key;
    loop {
        at -= 1;
        *text.get_mut(at)? = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    at -= 1;
    *text.get_mut(at)? = b'+';
    Phone::parse_e164(std::str::from_utf8(text.get(at..)?).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_record_unpacks_to_the_record() {
        let phone = |s: &str| Phone::parse_e164(s).unwrap();
        let report = ImportReport {
            rows: 4,
            added: 1,
            updated: 1,
            failed: 2,
            phones_added: vec![phone("+919876543452"), phone("+15417543010")],
            phones_updated: vec![phone("+447911123456")],
            warnings: vec![
                Warning {
                    row: None,
                    column: Some("Notes".into()),
                    code: WarningCode::UnknownColumn,
                    message: "column \"Notes\" matches no field".into(),
                    value: None,
                },
                Warning {
                    row: Some(3),
                    column: None,
                    code: WarningCode::NotMobile,
                    message: String::new(),
                    value: Some("fixed_line".into()),
                },
            ],
            failures: vec![
                RowFailure::new(
                    Position {
                        row: 4,
                        column: Some("Phone".into()),
                    },
                    FailureCode::InvalidPhone,
                    "not a phone",
                )
                .with_values(vec!["Asha".into(), String::new(), "12".into()]),
                RowFailure::new(
                    Position {
                        row: 5,
                        column: None,
                    },
                    FailureCode::FieldCountMismatch,
                    "2 fields",
                ),
            ],
            headers: vec!["Name".into(), "Phone".into(), "Notes".into()],
            last_row: Some(5),
            ..ImportReport::default()
        };
        let mut record = ImportRecord::new(
            "leads.csv",
            jiff::Timestamp::UNIX_EPOCH,
            jiff::Timestamp::UNIX_EPOCH,
            report,
        );
        record.error = Some("disk full".into());
        let packed = PackedRecord::new(&record, 7);
        record.id = 7;
        assert_eq!(packed.unpack(), record);
        assert_eq!(packed.summary_record().summary(), record.summary());
    }

    #[test]
    fn every_key_gives_its_phone_back() {
        for text in [
            "+12",
            "+919876543452",
            "+999999999999999",
            "+100000000000000",
        ] {
            let phone = Phone::parse_e164(text).unwrap();
            assert_eq!(phone_of(phone.key()), Some(phone));
        }
    }
}
