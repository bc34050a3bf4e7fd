//! The phone rules on the cases the issue that brought libphonenumber's
//! behaviour in named (tests/phone_reference.rs compares a whole corpus).
//! Every expected answer below is what libphonenumber 9.0.43 (Python
//! `phonenumbers`) gives with default region IN.

use contact_import::{
    LIBPHONENUMBER_VERSION, NumberType, Phone, PhoneError, PhoneNormalizer, Region,
};
use proptest::prelude::*;

fn ours(cell: &str) -> Option<String> {
    PhoneNormalizer::default()
        .normalize(cell)
        .ok()
        .map(|p| p.to_string())
}

#[test]
fn a_national_prefix_is_kept_when_the_number_needs_it() {
    // The prefix is stripped only where the number is still a number of the
    // country without it.
    assert_eq!(ours("+7 800 123-45-67").as_deref(), Some("+78001234567"));
    assert_eq!(ours("+375 801 123 4567").as_deref(), Some("+3758011234567"));
    assert_eq!(
        ours("+91 000800 1001234").as_deref(),
        Some("+910008001001234")
    );
    // Not silently a different number (+81662658022).
    assert_eq!(ours("+8100662658022").as_deref(), Some("+8100662658022"));
    assert_eq!(ours("+39 02 3661 8300").as_deref(), Some("+390236618300"));
    // A national prefix after the country code is dropped.
    assert_eq!(ours("+44 020 7946 0958").as_deref(), Some("+442079460958"));
    assert_eq!(
        ours("+44 (0)20 7946 0958").as_deref(),
        Some("+442079460958")
    );
}

#[test]
fn a_type_must_match_the_whole_number() {
    // One digit too many.
    assert_eq!(ours("+601234567898"), None);
    assert_eq!(ours("+880271112340"), None);
    assert_eq!(ours("+91 98765 432101"), None);
}

#[test]
fn current_metadata_knows_new_ranges() {
    assert_eq!(ours("+1 983 555 0123").as_deref(), Some("+19835550123"));
    assert_eq!(ours("+61 496 123 456").as_deref(), Some("+61496123456"));
    assert_eq!(ours("+965 5999 1234").as_deref(), Some("+96559991234"));
    assert_eq!(ours("+880 96 1234 5678").as_deref(), Some("+8809612345678"));
}

#[test]
fn indian_national_forms_follow_the_numbering_plan() {
    for cell in [
        "1800 632 8268",
        "18006328268",
        "018006328268",
        "91 1800 632 8268",
    ] {
        assert_eq!(ours(cell).as_deref(), Some("+9118006328268"), "{cell}");
    }
    assert_eq!(ours("1860 345 1234").as_deref(), Some("+9118603451234"));
    assert_eq!(
        ours("000 800 100 1234").as_deref(),
        Some("+910008001001234")
    );
    assert_eq!(ours("91 (0) 98765 43210").as_deref(), Some("+919876543210"));
    assert_eq!(ours("080 2345 6789").as_deref(), Some("+918023456789"));
    // Ten digits starting with 91 are a national number, not +91 and eight.
    assert_eq!(ours("9105925395").as_deref(), Some("+919105925395"));
}

#[test]
fn unicode_dashes_and_phone_punctuation_are_separators() {
    for dash in [
        '\u{2010}', '\u{2011}', '\u{2012}', '\u{2013}', '\u{2014}', '\u{2015}', '\u{2212}',
        '\u{FF0D}', '/', '~',
    ] {
        let cell = format!("98765{dash}43210");
        assert_eq!(ours(&cell).as_deref(), Some("+919876543210"), "{cell:?}");
    }
    assert_eq!(ours("[+91] 98765.43210").as_deref(), Some("+919876543210"));
}

#[test]
fn formula_cells_are_repaired() {
    for cell in [
        "=\"6880060198\"",
        "= \"6880060198\"",
        "=6880060198",
        "'=\"6880060198\"",
    ] {
        assert_eq!(ours(cell).as_deref(), Some("+916880060198"), "{cell:?}");
    }
    assert_eq!(
        ours("=\"+44 20 7946 0958\"").as_deref(),
        Some("+442079460958")
    );
    assert_eq!(ours("=\"98765abcde\""), None);
}

#[test]
fn the_deliberately_stricter_rules_hold() {
    // Letters are no keypad digits (libphonenumber would read 98765abcde).
    let letters = PhoneNormalizer::default()
        .normalize("98765abcde")
        .unwrap_err();
    assert!(
        matches!(&letters, PhoneError::Invalid(m) if m.contains("letter")),
        "{letters}"
    );
    // More than 15 digits, though libphonenumber holds this German number valid.
    let long = PhoneNormalizer::default()
        .normalize("+4980012345678905")
        .unwrap_err();
    assert!(long.to_string().contains("15 digits"), "{long}");
    // Floats are repaired (libphonenumber reads the dot's zero as a digit).
    assert_eq!(ours("919876543210.0").as_deref(), Some("+919876543210"));
}

#[test]
fn a_phone_knows_its_type() {
    let cases = [
        ("+919876543210", NumberType::Mobile),
        ("+918023456789", NumberType::FixedLine),
        ("+9118006328268", NumberType::TollFree),
        ("+9118603451234", NumberType::SharedCost),
        ("+12025550123", NumberType::FixedLineOrMobile),
        ("+8809612345678", NumberType::Voip),
        ("+919876", NumberType::Unknown),
    ];
    for (e164, kind) in cases {
        let phone = Phone::parse_e164(e164).unwrap();
        assert_eq!(phone.number_type(), kind, "{e164}");
        let typed = PhoneNormalizer::default().normalize_typed(e164).ok();
        let expected = (kind != NumberType::Unknown).then_some((phone, kind));
        assert_eq!(typed, expected, "{e164}");
    }
    assert!(NumberType::Mobile.can_be_mobile());
    assert!(!NumberType::TollFree.can_be_mobile());
    assert_eq!(
        serde_json::to_string(&NumberType::FixedLineOrMobile).unwrap(),
        "\"fixed_line_or_mobile\""
    );
}

#[test]
fn regions_are_the_metadata_s() {
    for (written, id, code) in [
        ("IN", "IN", 91),
        ("us", "US", 1),
        (" gb ", "GB", 44),
        ("ae", "AE", 971),
    ] {
        let region: Region = written.parse().unwrap();
        assert_eq!(
            (region.id(), region.calling_code()),
            (id, code),
            "{written:?}"
        );
    }
    for unknown in ["001", "XX", "", "IND"] {
        assert!(unknown.parse::<Region>().is_err(), "{unknown:?}");
    }
    // A region's own national forms.
    let gb = PhoneNormalizer::new("GB".parse().unwrap());
    assert_eq!(
        gb.normalize("020 7946 0958").unwrap().as_str(),
        "+442079460958"
    );
    assert_eq!(
        gb.normalize("00 91 98765 43210").unwrap().as_str(),
        "+919876543210"
    );
    let us = PhoneNormalizer::new("US".parse().unwrap());
    assert_eq!(
        us.normalize("1 (202) 555-0123").unwrap().as_str(),
        "+12025550123"
    );
    assert_eq!(
        us.normalize("011 44 20 7946 0958").unwrap().as_str(),
        "+442079460958"
    );
}

#[test]
fn the_metadata_is_no_older_than_the_newest_in_a_rust_crate() {
    let version: Vec<u32> = LIBPHONENUMBER_VERSION
        .split('.')
        .map(|part| part.parse().unwrap())
        .collect();
    // rlibphonenumber 2.2.15 carries 9.0.42, phonenumber 0.3.10 carries 9.0.33.
    assert!(version >= vec![9, 0, 42], "{LIBPHONENUMBER_VERSION}");
}

proptest! {
    /// Separators, `00` for `+` and a leading `'` change nothing.
    #[test]
    fn written_forms_do_not_change_the_answer(
        digits in "[1-9][0-9]{2,14}",
        cuts in prop::collection::vec(0usize..15, 0..4),
        sep in prop::sample::select(vec![" ", "-", ".", "\u{2013}", " - ", "/"]),
    ) {
        let plain = ours(&format!("+{digits}"));
        prop_assert_eq!(ours(&format!("00{digits}")), plain.clone());
        prop_assert_eq!(ours(&format!("'+{digits}")), plain.clone());
        let mut spaced = digits.clone();
        let mut cuts = cuts;
        cuts.sort_unstable();
        for cut in cuts.into_iter().rev().filter(|&c| c > 0 && c < digits.len()) {
            spaced.insert_str(cut, sep);
        }
        prop_assert_eq!(ours(&format!("+{spaced}")), plain);
    }
}
