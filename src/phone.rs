//! Phone numbers: the E.164 key of every contact, and the rules that turn what
//! people type into a spreadsheet into that key.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;

pub use crate::numbering_plan::NumberType;
use crate::numbering_plan::NumberingPlans;
use crate::phone_metadata;

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

    /// The type of a phone the Indian fast path gives: +91 and ten digits.
    fn indian_type(&self) -> NumberType {
        let national = self.bytes.get(3..usize::from(self.len)).unwrap_or_default();
        NumberingPlans::get().number_type_of_digits(91, national)
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
    ///
    /// Read as two words of eight digits (several lookups a row need it):
    /// the digits' values moved to the top of sixteen bytes, the rest zeros.
    pub(crate) fn key(&self) -> u64 {
        let digits = (u128::from_le_bytes(self.bytes) >> 8) & u128::from_le_bytes([0x0F; 16]);
        let padding = 16u32.saturating_sub(u32::from(self.len.saturating_sub(1)));
        let digits = digits.checked_shl(padding * 8).unwrap_or(0);
        let (high, low) = (digits as u64, (digits >> 64) as u64);
        eight_digits(high) * 100_000_000 + eight_digits(low)
    }
}

/// The number eight digits (values 0 to 9, the first in the lowest byte)
/// write: pairs, then fours, then all eight, with a multiplication each.
fn eight_digits(word: u64) -> u64 {
    let pairs = word.wrapping_mul(10).wrapping_add(word >> 8);
    let ones = (pairs & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32));
    let tens = ((pairs >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32));
    ones.wrapping_add(tens) >> 32
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
#[non_exhaustive]
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

impl Phone {
    /// The number's type per the metadata, e.g. [`NumberType::Mobile`];
    /// [`NumberType::Unknown`] for a phone built with
    /// [`Phone::parse_e164`] that is not a valid number.
    ///
    /// ```
    /// use contact_import::{NumberType, Phone};
    /// let phone = |s| Phone::parse_e164(s).unwrap();
    /// assert_eq!(phone("+919876543210").number_type(), NumberType::Mobile);
    /// assert_eq!(phone("+9118001234567").number_type(), NumberType::TollFree);
    /// ```
    pub fn number_type(&self) -> NumberType {
        let plans = NumberingPlans::get();
        let digits = self.as_str().get(1..).unwrap_or("");
        (1..=3)
            .filter_map(|len| Some((digits.get(..len)?.parse::<u16>().ok()?, digits.get(len..)?)))
            .map(|(code, national)| plans.number_type(code, national))
            .find(|kind| *kind != NumberType::Unknown)
            .unwrap_or(NumberType::Unknown)
    }
}

/// The version of Google's libphonenumber whose metadata decides which
/// numbers are valid and of what type, e.g. `"9.0.43"`
/// (`scripts/update-phone-metadata` updates it; see INTERNALS.md, "Phone metadata").
pub const LIBPHONENUMBER_VERSION: &str = phone_metadata::LIBPHONENUMBER_VERSION;

/// A region given by its ISO 3166 code, e.g. `IN`, for numbers written
/// without a country code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    id: &'static str,
    code: u16,
}

impl Region {
    /// India, the default: numbers without a country code get +91.
    pub const INDIA: Region = Region { id: "IN", code: 91 };

    /// The country calling code, e.g. 91.
    pub fn calling_code(self) -> u16 {
        self.code
    }

    /// The ISO 3166 code, e.g. `IN`.
    pub fn id(self) -> &'static str {
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
        let meta = phone_metadata::region(&upper).ok_or_else(|| {
            format!("unknown region {code:?}: expected an ISO 3166 code such as IN or US")
        })?;
        Ok(Region {
            id: meta.id,
            code: meta.country_code,
        })
    }
}

/// Turns phone cells into [`Phone`]s following the import rules.
///
/// * A leading `'` (a spreadsheet's "text" marker), spaces, dashes
///   (Unicode ones too), dots, slashes, brackets and parentheses are removed.
/// * Spreadsheet damage is repaired when no digit was lost: a float
///   (`919876543452.0`, `9.876543452E9`) and a formula kept as text
///   (`="9876543452"`).
/// * The rest is libphonenumber's parse with the default region (India
///   unless [`PhoneNormalizer::new`] says otherwise): a leading `+` or the
///   region's international prefix (`00`) means the number carries its
///   country code; the region's own code may be written without `+`
///   (`919876543452`); the national prefix (`0`) is removed when the number
///   is still one the country can have without it.
/// * The result must be a valid number (its whole national number matches
///   one of the country's number types) per libphonenumber's metadata
///   ([`LIBPHONENUMBER_VERSION`]).
/// * Stricter than libphonenumber: letters are refused (no keypad
///   conversion), and so are cells with more than 15 digits after `+` or
///   the international prefix.
///
/// ```
/// use contact_import::{PhoneNormalizer, PhoneError};
/// let phones = PhoneNormalizer::default();
/// for typed in ["9876543452", "919876543452", "+91 98765-43452", "098765 43452", "91 (0) 98765 43452"] {
///     assert_eq!(phones.normalize(typed).unwrap().as_str(), "+919876543452");
/// }
/// assert_eq!(phones.normalize("1800 123 4567").unwrap().as_str(), "+9118001234567");
/// assert_eq!(phones.normalize("+1 (541) 754-3010").unwrap().as_str(), "+15417543010");
/// assert!(matches!(phones.normalize("9.19876E+11"), Err(PhoneError::ScientificNotation(_))));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct PhoneNormalizer {
    region: Region,
}

impl PhoneNormalizer {
    /// A normalizer for numbers that lack a country code in `region`.
    pub fn new(region: Region) -> PhoneNormalizer {
        PhoneNormalizer { region }
    }

    /// The default region.
    pub fn region(&self) -> Region {
        self.region
    }

    /// Normalizes one cell.
    ///
    /// Indian mobile numbers (+91 and ten digits starting with 6 to 9, all
    /// valid in the metadata: a test checks it) take a path without
    /// regexes; every other number goes through libphonenumber's steps with
    /// its patterns compiled once (see INTERNALS.md, "Phones: the matcher").
    pub fn normalize(&self, cell: &str) -> Result<Phone, PhoneError> {
        if let Some(phone) = self.plain_indian_mobile(cell) {
            return Ok(phone);
        }
        let (plus, digits) = cell_digits(cell)?;
        if let Some(phone) = self.indian_mobile(&digits, plus) {
            return Ok(phone);
        }
        self.general(text(&digits), plus).map(|(phone, _)| phone)
    }

    /// [`normalize`](Self::normalize), and the number's type.
    pub fn normalize_typed(&self, cell: &str) -> Result<(Phone, NumberType), PhoneError> {
        if let Some(phone) = self.plain_indian_mobile(cell) {
            return Ok((phone, phone.indian_type()));
        }
        let (plus, digits) = cell_digits(cell)?;
        if let Some(phone) = self.indian_mobile(&digits, plus) {
            return Ok((phone, phone.indian_type()));
        }
        self.general(text(&digits), plus)
    }

    /// The fast path, straight from the cell: [`plain_indian_mobile`].
    fn plain_indian_mobile(&self, cell: &str) -> Option<Phone> {
        (self.region == Region::INDIA)
            .then(|| plain_indian_mobile(cell))
            .flatten()
    }

    /// The fast path, from the cell's digits: [`indian_mobile`].
    fn indian_mobile(&self, digits: &[u8], plus: bool) -> Option<Phone> {
        (self.region == Region::INDIA)
            .then(|| indian_mobile(digits, plus))
            .flatten()
    }

    /// libphonenumber's parse and `getNumberType`, for every number.
    fn general(&self, digits: &str, plus: bool) -> Result<(Phone, NumberType), PhoneError> {
        let plans = NumberingPlans::get();
        let written = |digits: &str| match plus {
            true => format!("+{digits}"),
            false => digits.to_owned(),
        };
        let region = plans.plan(self.region.code, self.region.id);
        let region = region.ok_or_else(|| {
            PhoneError::Invalid(format!("region {} has no numbering plan", self.region.id))
        })?;
        let number = plans.parse(digits, plus, region).map_err(|why| {
            PhoneError::Invalid(format!("{} is not a phone number: {why}", written(digits)))
        })?;
        let kind = plans.number_type(number.code, &number.national);
        if kind == NumberType::Unknown {
            let hint = match (
                number.code == self.region.code,
                self.region == Region::INDIA,
            ) {
                (true, true) => {
                    "; an Indian mobile has 10 digits, a landline its area code and number, and a number from another country needs + and its country code"
                }
                (true, false) => "; a number from another country needs + and its country code",
                (false, _) => "",
            };
            return Err(PhoneError::Invalid(format!(
                "{} ({} digits) is not a valid number for country code +{}{hint}",
                written(digits),
                digits.len(),
                number.code
            )));
        }
        let code = number.code.to_string();
        let phone = Phone::from_parts(code.as_bytes(), number.national.as_bytes())
            .ok_or_else(|| PhoneError::Invalid(format!("{} is too long", written(digits))))?;
        Ok((phone, kind))
    }
}

/// Whether the cell began with `+`, and its digits.
fn cell_digits(cell: &str) -> Result<(bool, Digits), PhoneError> {
    let trimmed = trim(cell);
    let trimmed = trim(trimmed.strip_prefix('\'').unwrap_or(trimmed));
    // Most cells are digits with a few separators: no repair, no folding.
    let (plus, digits) = match clean_plain(trimmed) {
        Some(plain) => plain,
        None => {
            // libphonenumber drops what follows the last digit, a stray `+` too.
            let trimmed = trimmed.trim_end_matches(|c: char| c == '+' || is_separator(c));
            let trimmed = repair_formula(trimmed);
            let folded = fold_digits(trimmed);
            let trimmed = folded.as_ref();
            let repaired = repair_spreadsheet_number(trimmed)?;
            clean(repaired.as_deref().unwrap_or(trimmed))?
        }
    };
    if digits.is_empty() {
        return Err(PhoneError::Missing);
    }
    Ok((plus, digits))
}

/// India's mobiles without regexes: `+91`/`0091`/`91`/`0` or nothing, then
/// ten digits starting with 6, 7, 8 or 9. libphonenumber's steps give each
/// of these shapes +91 and those ten digits, which are all valid
/// (`tests/it/phone.rs` checks both on the metadata, and a property test in
/// this module that this path and the general one agree).
fn indian_mobile(digits: &[u8], plus: bool) -> Option<Phone> {
    let national = match plus {
        true => digits.strip_prefix(b"91")?,
        false => match digits.len() {
            10 => digits,
            11 => digits.strip_prefix(b"0")?,
            12 => digits.strip_prefix(b"91")?,
            14 => digits.strip_prefix(b"0091")?,
            _ => return None,
        },
    };
    let mobile = national.len() == 10 && matches!(national.first(), Some(b'6'..=b'9'));
    mobile.then(|| Phone::from_parts(b"91", national)).flatten()
}

/// [`indian_mobile`] of a cell holding only what [`clean_plain`] takes
/// (ASCII digits, spaces, dashes, parentheses, a leading `+`), after an
/// optional text marker `'`: the digits of most cells, read without the
/// trims, repairs and buffer of [`cell_digits`], which give such a cell
/// the same digits. `None` for any other cell.
fn plain_indian_mobile(cell: &str) -> Option<Phone> {
    let text = cell.trim_ascii();
    let text = text.strip_prefix('\'').unwrap_or(text);
    // Most often digits alone, after a `+` or not.
    let (plus, number) = match text.strip_prefix('+') {
        Some(number) => (true, number),
        None => (false, text),
    };
    if number.bytes().all(|b| b.is_ascii_digit()) {
        return indian_mobile(number.as_bytes(), plus);
    }
    let mut digits = [0u8; 14];
    let mut len = 0;
    let mut plus = false;
    for &b in text.as_bytes() {
        match b {
            b'0'..=b'9' => {
                *digits.get_mut(len)? = b;
                len += 1;
            }
            b' ' | b'-' | b'(' | b')' => {}
            b'+' if len == 0 && !plus => plus = true,
            _ => return None,
        }
    }
    indian_mobile(digits.get(..len)?, plus)
}

/// `="9876543452"`: a formula a spreadsheet uses to keep a number as text;
/// `=9876543452` is the same number.
fn repair_formula(text: &str) -> &str {
    let Some(formula) = text.strip_prefix('=') else {
        return text;
    };
    let formula = trim(formula);
    let quoted = formula.strip_prefix('"').and_then(|f| f.strip_suffix('"'));
    trim(quoted.unwrap_or(formula))
}

/// The digits of a cell: on the stack for any real phone number.
type Digits = SmallVec<[u8; 24]>;

fn text(digits: &Digits) -> &str {
    // Only ASCII digits are ever pushed.
    std::str::from_utf8(digits).unwrap_or_default()
}

/// `str::trim`, with the shortcut cells take.
fn trim(text: &str) -> &str {
    crate::text::trim_with(text, |_| false)
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
/// digits. Letters are refused (no keypad conversion: libphonenumber would
/// turn `98765abcde` into digits).
fn clean(text: &str) -> Result<(bool, Digits), PhoneError> {
    let mut digits = Digits::new();
    let mut international = false;
    for c in text.chars() {
        match c {
            '0'..='9' => digits.push(c as u8),
            c if is_separator(c) || c.is_whitespace() || is_invisible(c) => {}
            '+' if digits.is_empty() => international = true,
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
                    "{text:?} contains {c:?}; a phone number has only digits, spaces, dashes, dots, slashes, brackets, parentheses and a leading +"
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

/// libphonenumber's punctuation (its `VALID_PUNCTUATION`, less `x`, which
/// starts an extension): dashes of every kind, slashes, dots, brackets,
/// tildes and their full-width forms.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '-' | '.' | '(' | ')' | '/' | '[' | ']' | '~'
            | '\u{2010}'..='\u{2015}'
            | '\u{2212}'
            | '\u{30FC}'
            | '\u{FF0D}'..='\u{FF0F}'
            | '\u{3000}'
            | '\u{FF08}' | '\u{FF09}' | '\u{FF3B}' | '\u{FF3D}'
            | '\u{2053}' | '\u{223C}' | '\u{FF5E}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The general path alone, for a cell's digits.
    fn general(digits: &str, plus: bool) -> Option<(Phone, NumberType)> {
        PhoneNormalizer::default().general(digits, plus).ok()
    }

    /// The fast path takes every +91 number whose ten national digits
    /// start with 6 to 9 as valid, without the metadata. The patterns tell
    /// ranges apart by the first six digits at most; every six digits are
    /// tried with three different endings, in each shape the fast path takes.
    #[test]
    fn every_indian_ten_digit_number_from_6_to_9_is_valid_in_the_metadata() {
        for first_six in 600_000u32..1_000_000 {
            let mixed = first_six.wrapping_mul(2_654_435_761) % 10_000;
            for last_four in [0, 9_999, mixed] {
                let national = format!("{first_six}{last_four:04}");
                let expected = Phone::from_parts(b"91", national.as_bytes());
                let found = general(&format!("91{national}"), true).map(|(p, _)| p);
                assert_eq!(found, expected, "+91{national}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Whatever digits a cell holds, the fast path answers only what
        /// the general path answers.
        #[test]
        fn the_indian_fast_path_agrees_with_the_general_path(
            prefix in prop::sample::select(vec!["", "0", "91", "0091", "00", "9", "1"]),
            national in "[0-9]{8,11}",
            plus in any::<bool>(),
        ) {
            let digits = format!("{prefix}{national}");
            if let Some(fast) = indian_mobile(digits.as_bytes(), plus) {
                prop_assert_eq!(Some(fast), general(&digits, plus).map(|(p, _)| p));
            }
        }

        /// Whatever a cell of digits and separators holds, the fast path
        /// from the cell answers only what the general path answers, type
        /// included.
        #[test]
        fn the_plain_cell_fast_path_agrees_with_the_general_path(
            cell in prop_oneof![
                "[ \t']{0,2}[+]?[(]?(91|0|0091|00|9|)[)]?[ -]?[6-9][0-9 ()+-]{8,13}[ \t]{0,2}",
                "[0-9 ()+'.\t-]{0,20}",
                "'?[+]?[0-9]{10,14}",
            ],
        ) {
            if let Some(fast) = plain_indian_mobile(&cell) {
                let (plus, digits) = cell_digits(&cell).expect("the digits of a phone");
                let general = general(text(&digits), plus);
                prop_assert_eq!(Some((fast, fast.indian_type())), general);
            }
        }

        /// The key is the number the digits write.
        #[test]
        fn a_phone_key_is_its_number(digits in "[1-9][0-9]{1,14}") {
            let phone = Phone::parse_e164(&format!("+{digits}")).expect("an E.164 phone");
            prop_assert_eq!(phone.key(), digits.parse::<u64>().expect("at most 15 digits"));
        }

        #[test]
        fn indian_mobiles_in_every_shape_take_the_fast_path(national in "[6-9][0-9]{9}") {
            for (digits, plus) in [
                (national.clone(), false),
                (format!("0{national}"), false),
                (format!("91{national}"), false),
                (format!("0091{national}"), false),
                (format!("91{national}"), true),
            ] {
                let fast = indian_mobile(digits.as_bytes(), plus);
                prop_assert!(fast.is_some());
                prop_assert_eq!(fast, general(&digits, plus).map(|(p, _)| p));
                let cell = if plus { format!("+{digits}") } else { digits.clone() };
                prop_assert_eq!(plain_indian_mobile(&cell), fast);
            }
        }
    }
}
