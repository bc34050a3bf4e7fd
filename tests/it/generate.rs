//! The generated realistic file has the mix the benchmarks rely on.
use std::collections::HashMap;

use contact_import::generate::{HEADER, RealisticFile, TAGS};
use contact_import::{FailureCode, ImportEngine, MemoryStore, Timestamp, WarningCode};

const ROWS: usize = 20_000;

fn rows(file: &RealisticFile) -> Vec<csv::StringRecord> {
    let bytes = file.to_bytes();
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(
        reader
            .headers()
            .unwrap()
            .iter()
            .collect::<Vec<_>>()
            .join(","),
        HEADER
    );
    reader.records().map(Result::unwrap).collect()
}

/// The share of rows, in percent, for which `pick` holds.
fn percent(rows: &[csv::StringRecord], pick: impl Fn(&csv::StringRecord) -> bool) -> f64 {
    rows.iter().filter(|r| pick(r)).count() as f64 * 100.0 / rows.len() as f64
}

fn near(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= 2.0
}

#[test]
fn the_same_seed_gives_the_same_file_and_another_seed_another() {
    let file = RealisticFile::new(500);
    assert_eq!(file.to_bytes(), RealisticFile::new(500).to_bytes());
    assert_ne!(file.to_bytes(), file.with_seed(7).to_bytes());
    let mut written = Vec::new();
    file.write_to(&mut written).unwrap();
    assert_eq!(written, file.to_bytes());
}

#[test]
fn phones_come_in_the_realistic_mix() {
    let rows = rows(&RealisticFile::new(ROWS));
    assert_eq!(rows.len(), ROWS);
    let phone = |r: &csv::StringRecord| r[1].to_owned();
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let bare = percent(&rows, |r| phone(r).len() == 10 && digits(&phone(r)));
    let with_91 = percent(&rows, |r| {
        phone(r).len() == 12 && phone(r).starts_with("91") && digits(&phone(r))
    });
    let plus_91 = percent(&rows, |r| {
        phone(r).len() == 13 && phone(r).starts_with("+91") && digits(&phone(r)[1..])
    });
    let other = percent(&rows, |r| {
        let p = phone(r);
        p.starts_with('+') && !p.starts_with("+91") && digits(&p[1..])
    });
    assert!(near(bare, 40.0), "bare 10 digits: {bare}%");
    assert!(near(with_91, 20.0), "91 and 10 digits: {with_91}%");
    assert!(near(plus_91, 20.0), "+91: {plus_91}%");
    assert!(
        (3.0..10.0).contains(&other),
        "other countries, unspaced: {other}%"
    );
    let spaced = percent(&rows, |r| phone(r).contains([' ', '-', '(']));
    assert!((5.0..15.0).contains(&spaced), "separators: {spaced}%");
}

#[test]
fn the_catalog_matches_and_the_import_sees_every_case() {
    let file = RealisticFile::new(ROWS);
    let catalog = file.catalog();
    assert_eq!(catalog.tags().len(), TAGS.len());
    let engine = ImportEngine::new(catalog, Timestamp::UNIX_EPOCH);
    let mut store = MemoryStore::new();
    let report = engine.import_bytes(&file.to_bytes(), &mut store).unwrap();
    let rows = ROWS as f64;
    assert!(
        near(report.updated as f64 * 100.0 / rows, 3.0),
        "{} updated",
        report.updated
    );
    assert!(
        (3.0..8.0).contains(&(report.failed as f64 * 100.0 / rows)),
        "{} failed",
        report.failed
    );
    let mut codes: HashMap<FailureCode, usize> = HashMap::new();
    for failure in &report.failures {
        *codes.entry(failure.code).or_default() += 1;
    }
    for code in [
        FailureCode::MissingPhone,
        FailureCode::InvalidPhone,
        FailureCode::PhoneScientificNotation,
    ] {
        assert!(
            codes.get(&code).copied().unwrap_or(0) > 0,
            "no {code} in {codes:?}"
        );
    }
    // Mostly catalog tags; a few in the wrong case.
    let tag_warnings = report
        .warnings
        .iter()
        .filter(|w| w.code == WarningCode::UnknownTag);
    let warned = tag_warnings.count() as f64 * 100.0 / rows;
    // Random Indian numbers include landlines: warned, counted, imported.
    let not_mobile = report
        .warnings
        .iter()
        .filter(|w| w.code == WarningCode::NotMobile);
    assert_eq!(not_mobile.count() as u64, report.not_mobile);
    assert!(report.not_mobile > 0);
    assert!(warned > 0.0 && warned < 3.0, "{warned}% rows warned");
    let tagged = store
        .contacts()
        .iter()
        .filter(|c| !c.tags.is_empty())
        .count();
    assert!(tagged as f64 > 0.6 * store.len() as f64);
    assert!(store.contacts().iter().all(|c| c.tags.len() <= 3 + 3));
}

#[test]
fn names_have_one_to_three_words_in_five_scripts() {
    let rows = rows(&RealisticFile::new(ROWS));
    let words = |n: usize| percent(&rows, |r| r[0].split_whitespace().count() == n);
    for n in 1..=3 {
        assert!(words(n) > 5.0, "{n} words: {}%", words(n));
    }
    // Devanagari, Tamil, Bengali, Gurmukhi blocks.
    for (script, block) in [
        ("Devanagari", '\u{0900}'..='\u{097F}'),
        ("Tamil", '\u{0B80}'..='\u{0BFF}'),
        ("Bengali", '\u{0980}'..='\u{09FF}'),
        ("Gurmukhi", '\u{0A00}'..='\u{0A7F}'),
    ] {
        let share = percent(&rows, |r| r[0].chars().any(|c| block.contains(&c)));
        assert!(share > 3.0, "{script}: {share}%");
    }
    let quoted = percent(&rows, |r| r[0].contains(','));
    assert!(quoted > 0.0, "no quoted name");
}
