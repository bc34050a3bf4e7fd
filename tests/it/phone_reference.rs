//! Phone normalization agrees with Google's libphonenumber.
//!
//! `tests/data/phone_reference.tsv` holds about 38,000 cells and what
//! libphonenumber (the Python `phonenumbers` port, same metadata as
//! `LIBPHONENUMBER_VERSION`) answers for each with default region IN: its
//! E.164 form when valid, and the number's type. `scripts/phone_reference.py`
//! built the corpus and the answers: every region's example number of every
//! type in `+`, spaced `+` and `00` forms, with a digit more, a digit less
//! and a digit changed, and with the national prefix after the country code;
//! Indian mobiles, landlines, toll-free and shared-cost numbers in many
//! written forms; spreadsheet damage; letters; random digits of 1 to 20.
//!
//! The import rules differ from libphonenumber on purpose for some cells
//! (README, "The rules"): letters are refused, more than 15 digits are
//! refused, characters that are no phone punctuation are refused, and
//! spreadsheet floats and formulas are repaired. Those cells are counted
//! apart; on every other cell the answers must be the same.

use std::collections::BTreeMap;

use contact_import::{LIBPHONENUMBER_VERSION, PhoneNormalizer};

const FIXTURE: &str = include_str!("../data/phone_reference.tsv");

struct Case {
    cell: String,
    e164: Option<String>,
    kind: Option<String>,
    region: String,
}

fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            (c, false) => out.push(c),
        }
    }
    out
}

fn cases() -> Vec<Case> {
    let answer = |s: &str| (s != "-").then(|| s.to_owned());
    FIXTURE
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 4, "{line:?}");
            Case {
                cell: unescape(fields[0]),
                e164: answer(fields[1]),
                kind: answer(fields[2]),
                region: fields[3].to_owned(),
            }
        })
        .collect()
}

/// Why the rules answer this cell differently from libphonenumber on
/// purpose, if they do.
fn deliberate(cell: &str) -> Option<&'static str> {
    let trimmed = cell.trim().trim_start_matches('\'');
    if trimmed.chars().any(char::is_alphabetic) {
        return Some("letters");
    }
    if trimmed.starts_with('=') {
        return Some("formula");
    }
    let digits: String = trimmed.chars().filter(|c| c.is_numeric()).collect();
    let after_prefix = digits.strip_prefix("00").unwrap_or(&digits);
    if after_prefix.len() > 15 {
        return Some("more than 15 digits");
    }
    let float = |s: &str| {
        s.split_once('.').is_some_and(|(int, zeros)| {
            !int.is_empty() && !zeros.is_empty() && zeros.bytes().all(|b| b == b'0')
        })
    };
    if float(trimmed) {
        return Some("float");
    }
    let punctuation = |c: char| {
        c.is_numeric()
            || c.is_whitespace()
            || "+-.()/[]~'\u{2010}\u{2011}\u{2012}\u{2013}\u{2014}\u{2015}\u{2212}\u{200B}\u{2060}\u{FEFF}\u{00AD}\u{FF0B}"
                .contains(c)
    };
    if !trimmed.chars().all(punctuation) {
        return Some("other characters");
    }
    None
}

/// The regions the issue asks full agreement for.
const FULL: [&str; 16] = [
    "IN", "AE", "SA", "US", "GB", "SG", "NP", "BD", "LK", "QA", "OM", "KW", "BH", "MY", "AU", "CA",
];

#[derive(Default)]
struct Tally {
    cells: usize,
    agree: usize,
}

#[test]
fn normalization_agrees_with_libphonenumber() {
    let header = FIXTURE.lines().next().unwrap_or_default();
    assert!(
        header.contains(&format!("phonenumbers {LIBPHONENUMBER_VERSION},")),
        "the fixture ({header}) was made with another metadata than {LIBPHONENUMBER_VERSION}: run scripts/update-phone-metadata"
    );
    let phones = PhoneNormalizer::default();
    let mut overall = Tally::default();
    let mut by_region: BTreeMap<String, Tally> = BTreeMap::new();
    let mut set_apart: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut differences = Vec::new();
    let cases = cases();
    assert!(cases.len() > 30_000, "{} cells", cases.len());
    for case in &cases {
        let ours = phones.normalize_typed(&case.cell).ok();
        let e164 = ours.map(|(phone, _)| phone.to_string());
        let kind = ours.map(|(_, kind)| kind.as_str().to_owned());
        let agree = e164 == case.e164 && kind == case.kind;
        if let Some(why) = deliberate(&case.cell) {
            let tally = set_apart.entry(why).or_default();
            tally.cells += 1;
            tally.agree += usize::from(agree);
            if !agree && tally.cells - tally.agree <= 3 {
                println!(
                    "set apart ({why}): {:?}: ours {e164:?}, libphonenumber {:?}",
                    case.cell, case.e164
                );
            }
            continue;
        }
        for tally in [
            &mut overall,
            by_region.entry(case.region.clone()).or_default(),
        ] {
            tally.cells += 1;
            tally.agree += usize::from(agree);
        }
        if !agree {
            differences.push(format!(
                "{:?} ({}): ours {:?} {:?}, libphonenumber {:?} {:?}",
                case.cell, case.region, e164, kind, case.e164, case.kind
            ));
        }
    }
    let share = |t: &Tally| 100.0 * t.agree as f64 / t.cells.max(1) as f64;
    println!(
        "agreement outside the deliberate rules: {}/{} ({:.3}%)",
        overall.agree,
        overall.cells,
        share(&overall)
    );
    for (why, tally) in &set_apart {
        println!(
            "set apart, {why}: {} cells, {} agree anyway",
            tally.cells, tally.agree
        );
    }
    for region in FULL {
        let tally = by_region.get(region);
        let (agree, cells) = tally.map_or((0, 0), |t| (t.agree, t.cells));
        println!("{region}: {agree}/{cells}");
        assert!(cells > 20, "{region}: only {cells} cells");
    }
    for difference in differences.iter().take(200) {
        println!("{difference}");
    }
    // Every cell of the listed regions, and every cell at all, agrees.
    assert!(differences.is_empty(), "{} differences", differences.len());
}
