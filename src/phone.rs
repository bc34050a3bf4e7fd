//! Phone numbers: the E.164 key of every contact, and the rules that turn what
//! people type into a spreadsheet into that key.

use std::fmt;
use std::str::FromStr;

use phonenumber::country;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;

use crate::numbering_plan::NumberingPlans;
use crate::plan_metadata;

/// A valid phone number in E.164 form (`+` and up to 15 digits), such as
/// `+919876543452`. It is the unique key of a contact.
///
/// It is stored inline (no allocation) and is `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Phone {
    // '+' then the digits; bytes past `len` are zero so that derived
    // comparisons order phones the way their strings do.
    bytes: [u8; 16],
    len: u8,
}

impl Phone {
    /// Accepts a string that is already E.164 (`+`, a country code that does
    /// not start with 0, at most 15 digits in all) without checking that the
    /// number exists. Use [`PhoneNormalizer`] for user input.
    ///
    /// ```
    /// use contact_import::Phone;
    /// assert_eq!(Phone::parse_e164("+15417543010").unwrap().as_str(), "+15417543010");
    /// assert!(Phone::parse_e164("15417543010").is_none());
    /// ```
    pub fn parse_e164(text: &str) -> Option<Phone> {
        let digits = text.strip_prefix('+')?;
        let ok = (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        ok.then(|| Phone::from_parts(digits.as_bytes(), b""))
            .flatten()
    }

    /// `+`, then `code` and `national` (ASCII digits); `None` past 15 digits.
    fn from_parts(code: &[u8], national: &[u8]) -> Option<Phone> {
        let len = 1 + code.len() + national.len();
        let mut bytes = [0u8; 16];
        bytes[0] = b'+';
        bytes.get_mut(1..=code.len())?.copy_from_slice(code);
        bytes
            .get_mut(1 + code.len()..len)?
            .copy_from_slice(national);
        Some(Phone {
            bytes,
            len: len as u8,
        })
    }

    /// The number as E.164 text, e.g. `+919876543452`.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored, so this cannot fail.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }
}

// Phones key every map of an import: one 16-byte write hashes faster than
// the derived slice-and-length. Equal phones have equal bytes (the length
// follows from them: the bytes past it are zero).
impl std::hash::Hash for Phone {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u128(u128::from_le_bytes(self.bytes));
    }
}

impl Phone {
    /// The number as an integer, a smaller key for the maps that hold every
    /// phone of a file: distinct phones have distinct keys, since E.164
    /// digits never start with 0 and are at most 15.
    pub(crate) fn key(&self) -> u64 {
        let digits = self.bytes.get(1..usize::from(self.len)).unwrap_or_default();
        digits.iter().fold(0, |key, digit| {
            key.wrapping_mul(10)
                .wrapping_add(u64::from(digit.wrapping_sub(b'0')))
        })
    }
}

/// A map keyed by [`Phone::key`]: for the maps that hold every phone of a file.
pub(crate) type PhoneIndex<V> = std::collections::HashMap<u64, V, foldhash::fast::RandomState>;

/// A map keyed by phone, with a fast seeded hasher (foldhash): an import
/// looks a phone up several times a row.
pub(crate) type PhoneMap<V> = std::collections::HashMap<Phone, V, foldhash::fast::RandomState>;

/// An empty [`PhoneMap`] with room for `capacity` phones.
pub(crate) fn phone_map<V>(capacity: usize) -> PhoneMap<V> {
    PhoneMap::with_capacity_and_hasher(capacity, foldhash::fast::RandomState::default())
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for Phone {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Serialize for Phone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Phone, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Phone::parse_e164(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not an E.164 phone number: {text:?}")))
    }
}

/// Why a cell could not be turned into a phone number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// The cell is empty (or holds only separators).
    #[error("the phone number is empty")]
    Missing,
    /// A spreadsheet turned the number into scientific notation, e.g.
    /// `9.19876E+11`, and the digits it dropped cannot be recovered.
    #[error(
        "{0:?} is in scientific notation, so digits were lost; format the phone column as text in your spreadsheet and export again"
    )]
    ScientificNotation(String),
    /// Anything else: the message says what was wrong.
    #[error("{0}")]
    Invalid(String),
}

/// A region given by its ISO 3166 code, e.g. `IN`, for numbers written
/// without a country code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    id: country::Id,
    code: u16,
}

impl Region {
    /// India, the default: numbers without a country code get +91.
    pub const INDIA: Region = Region {
        id: country::Id::IN,
        code: 91,
    };

    /// The country calling code, e.g. 91.
    pub fn calling_code(self) -> u16 {
        self.code
    }

    /// The ISO 3166 code, e.g. `IN`.
    pub fn id(self) -> country::Id {
        self.id
    }
}

impl Default for Region {
    fn default() -> Region {
        Region::INDIA
    }
}

impl FromStr for Region {
    type Err = String;

    fn from_str(code: &str) -> Result<Region, String> {
        let upper = code.trim().to_ascii_uppercase();
        let unknown =
            || format!("unknown region {code:?}: expected an ISO 3166 code such as IN or US");
        let id: country::Id = upper.parse().map_err(|_| unknown())?;
        let code = plan_metadata::country_code(id.as_ref()).ok_or_else(unknown)?;
        Ok(Region { id, code })
    }
}

/// Turns phone cells into [`Phone`]s following the import rules.
///
/// * A leading `'` (a spreadsheet's "text" marker), spaces, dashes, dots and
///   parentheses are removed.
/// * A leading `+` or `00` means the number carries its country code.
/// * Otherwise the number belongs to the default region. For India (the
///   default) a 10-digit number gets +91, `91` followed by 10 digits is +91,
///   and `0` followed by 10 digits is the trunk prefix (+91).
/// * The result must be a valid number per the phonenumber crate's metadata.
///
/// ```
/// use contact_import::{PhoneNormalizer, PhoneError};
/// let phones = PhoneNormalizer::default();
/// for typed in ["9876543452", "919876543452", "+91 98765-43452", "098765 43452"] {
///     assert_eq!(phones.normalize(typed).unwrap().as_str(), "+919876543452");
/// }
/// assert_eq!(phones.normalize("+1 (541) 754-3010").unwrap().as_str(), "+15417543010");
/// assert!(matches!(phones.normalize("9.19876E+11"), Err(PhoneError::ScientificNotation(_))));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct PhoneNormalizer {
    region: Region,
}

impl PhoneNormalizer {
    /// A normalizer for numbers that lack a country code in `region`.
    ///
    /// With a region other than India, such numbers go through the
    /// phonenumber crate's parser (it knows every region's trunk and
    /// international prefixes), which loads the crate's whole metadata
    /// database the first time, once per process: tens of milliseconds and
    /// a few MiB. India's numbers and `+` numbers never load it.
    pub fn new(region: Region) -> PhoneNormalizer {
        PhoneNormalizer { region }
    }

    /// The default region.
    pub fn region(&self) -> Region {
        self.region
    }

    /// Normalizes one cell.
    ///
    /// Indian mobile numbers (+91 and ten digits starting with 6 to 9, which
    /// the metadata holds valid whatever follows) take a path without
    /// regexes; every other number is checked against the phonenumber
    /// crate's metadata, with its patterns compiled once (see DESIGN.md).
    pub fn normalize(&self, cell: &str) -> Result<Phone, PhoneError> {
        let trimmed = trim(cell);
        let trimmed = trim(trimmed.strip_prefix('\'').unwrap_or(trimmed));
        // Most cells are digits with a few separators: no repair, no folding.
        let (international, digits) = match clean_plain(trimmed) {
            Some(plain) => plain,
            None => {
                let folded = fold_digits(trimmed);
                let trimmed = folded.as_ref();
                let repaired = repair_spreadsheet_number(trimmed)?;
                clean(repaired.as_deref().unwrap_or(trimmed))?
            }
        };
        let digits = text(&digits);
        if digits.is_empty() {
            return Err(PhoneError::Missing);
        }
        if international {
            return self.international(digits);
        }
        if let Some(rest) = digits.strip_prefix("00") {
            return self.international(rest);
        }
        self.national(digits)
    }

    fn international(&self, digits: &str) -> Result<Phone, PhoneError> {
        if digits.len() < 3 || digits.len() > 15 {
            return Err(PhoneError::Invalid(format!(
                "+{digits} has {} digits; an international number has 8 to 15 including the country code",
                digits.len()
            )));
        }
        if let Some(phone) = digits.strip_prefix("91").and_then(indian_mobile) {
            return Ok(phone);
        }
        validate(digits)
    }

    fn national(&self, digits: &str) -> Result<Phone, PhoneError> {
        if self.region == Region::INDIA {
            return indian(digits);
        }
        // Other regions: the crate's parser knows their national and
        // international prefixes. Letters were already refused, so its keypad
        // mapping cannot bite here. (The one path that loads the crate's
        // `DATABASE`: see `new`.)
        let parsed = phonenumber::parse(Some(self.region.id), digits)
            .map_err(|e| PhoneError::Invalid(format!("{digits} is not a phone number: {e}")))?;
        let full = format!("{}{}", parsed.code().value(), parsed.national());
        validate(&full)
    }
}

fn indian(digits: &str) -> Result<Phone, PhoneError> {
    let national = match digits.len() {
        10 => digits,
        11 if digits.starts_with('0') => &digits[1..],
        12 if digits.starts_with("91") => &digits[2..],
        n => {
            return Err(PhoneError::Invalid(format!(
                "{digits} has {n} digits; an Indian number has 10 (or 91 and 10 digits), and a number from another country needs + and its country code"
            )));
        }
    };
    if let Some(phone) = indian_mobile(national) {
        return Ok(phone);
    }
    // Built by hand and checked as `+91…`: phonenumber 0.3.10 would otherwise
    // take a national number starting with 91 (9105925395) for a country code.
    let mut full = Digits::new();
    full.extend_from_slice(b"91");
    full.extend_from_slice(national.as_bytes());
    validate(text(&full))
}

/// +91 and ten digits starting with 6, 7, 8 or 9: valid in phonenumber's
/// metadata whatever the other nine digits are (`tests/phone.rs` checks the
/// metadata for it), and the national number is kept as it is.
fn indian_mobile(national: &str) -> Option<Phone> {
    let bytes = national.as_bytes();
    let mobile = bytes.len() == 10
        && matches!(bytes.first(), Some(b'6'..=b'9'))
        && bytes.iter().all(u8::is_ascii_digit);
    mobile.then(|| Phone::from_parts(b"91", bytes)).flatten()
}

/// Checks `digits` (country code first) against the phonenumber metadata and
/// formats the number as E.164, `+{country code}{national number}`.
///
/// Checked as phonenumber parses a `+` number without a default region: with
/// one, phonenumber 0.3.10 strips that region's national prefix from
/// international numbers (`+39 02 …`).
fn validate(digits: &str) -> Result<Phone, PhoneError> {
    let plans = NumberingPlans::get();
    let split = plans
        .split(digits)
        .map_err(|why| PhoneError::Invalid(format!("+{digits} is not a phone number: {why}")))?;
    if !plans.is_valid(&split) {
        return Err(PhoneError::Invalid(format!(
            "+{digits} is not a valid number for country code +{}",
            split.code
        )));
    }
    let code = split.code.to_string();
    Phone::from_parts(code.as_bytes(), split.national.as_bytes())
        .ok_or_else(|| PhoneError::Invalid(format!("+{digits} is too long for a phone number")))
}

/// The digits of a cell: on the stack for any real phone number.
type Digits = SmallVec<[u8; 24]>;

fn text(digits: &Digits) -> &str {
    // Only ASCII digits are ever pushed.
    std::str::from_utf8(digits).unwrap_or_default()
}

/// `str::trim`, with the shortcut cells take.
fn trim(text: &str) -> &str {
    crate::normalize::trim_with(text, |_| false)
}

/// What [`clean`] returns, for text of ASCII digits, spaces, dashes,
/// parentheses and a leading `+` only; `None` for anything else (which
/// `clean` and the repairs before it handle).
fn clean_plain(text: &str) -> Option<(bool, Digits)> {
    let mut digits = Digits::new();
    let mut international = false;
    for &b in text.as_bytes() {
        match b {
            b'0'..=b'9' => digits.push(b),
            b' ' | b'-' | b'(' | b')' => {}
            b'+' if digits.is_empty() && !international => international = true,
            _ => return None,
        }
    }
    Some((international, digits))
}

/// Removes separators. Returns whether the number started with `+`, and its
/// digits. Letters are refused (no keypad conversion: phonenumber 0.3.10 would
/// turn `98765abcde` into digits).
fn clean(text: &str) -> Result<(bool, Digits), PhoneError> {
    let mut digits = Digits::new();
    let mut international = false;
    for c in text.chars() {
        match c {
            '0'..='9' => digits.push(c as u8),
            ' ' | '-' | '.' | '(' | ')' => {}
            c if c.is_whitespace() || is_invisible(c) => {}
            '+' if digits.is_empty() && !international => international = true,
            '+' => {
                return Err(PhoneError::Invalid(format!(
                    "{text:?} has a '+' that is not at the start"
                )));
            }
            c if c.is_alphabetic() => {
                return Err(PhoneError::Invalid(format!(
                    "{text:?} contains the letter {c:?}; a phone number has only digits"
                )));
            }
            c => {
                return Err(PhoneError::Invalid(format!(
                    "{text:?} contains {c:?}; a phone number has only digits, spaces, dashes, dots, parentheses and a leading +"
                )));
            }
        }
    }
    Ok((international, digits))
}

/// Undoes what a spreadsheet does to a long number in a "General" cell,
/// when no digit was lost: `919876543452.0` is `919876543452`, and
/// `9.876543452E9` (every digit still there) is `9876543452`. A number in
/// scientific notation that lost digits (`9.19876E+11`) is an error; any
/// other text is left for the phone rules (`Ok(None)`).
fn repair_spreadsheet_number(text: &str) -> Result<Option<String>, PhoneError> {
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some((int, zeros)) = text.split_once('.')
        && all_digits(int)
        && all_digits(zeros)
        && zeros.bytes().all(|b| b == b'0')
    {
        return Ok(Some(int.to_owned()));
    }
    let Some((mantissa, exponent)) = text.split_once(['e', 'E']) else {
        return Ok(None);
    };
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let scientific =
        all_digits(int) && (frac.is_empty() || all_digits(frac)) && all_digits(exponent);
    if !scientific {
        return Ok(None);
    }
    // Exactly as many fraction digits as the exponent: an integer with all its digits.
    if exponent.parse::<usize>().is_ok_and(|e| e == frac.len()) {
        return Ok(Some(format!("{int}{frac}")));
    }
    Err(PhoneError::ScientificNotation(text.to_owned()))
}

/// The first code point (zero) of each block of decimal digits a phone may
/// be typed in: Arabic-Indic, Extended Arabic-Indic, Devanagari, Bengali,
/// Gurmukhi, Gujarati, Oriya, Tamil, Telugu, Kannada, Malayalam, full-width.
const DIGIT_ZEROS: [u32; 12] = [
    0x0660, 0x06F0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0xFF10,
];

/// `९८७६५४३२१०` and `９８７６` are the same digits as `9876`: a phone typed on
/// a phone's native keyboard or pasted from a PDF.
fn fold_digits(text: &str) -> std::borrow::Cow<'_, str> {
    if text.is_ascii() {
        return text.into();
    }
    let ascii_digit = |c: char| {
        DIGIT_ZEROS
            .iter()
            .find_map(|&zero| (c as u32).checked_sub(zero).filter(|d| *d < 10))
            .and_then(|d| char::from_digit(d, 10))
    };
    let fold = |c: char| match c {
        '\u{FF0B}' => '+',
        c => ascii_digit(c).unwrap_or(c),
    };
    text.chars().map(fold).collect::<String>().into()
}

/// Zero-width characters that copy-paste leaves in numbers.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}
