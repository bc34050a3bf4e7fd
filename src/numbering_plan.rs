//! libphonenumber's parse, validity and number type, applied to the tables of
//! [`phone_metadata`](crate::phone_metadata) with patterns compiled once.
//!
//! The steps are those of libphonenumber's `parse` (`PhoneNumberUtil.java`;
//! Python's `phonenumbers.parse`) on a cell already reduced to digits and
//! whether it began with `+`: the international prefix of the default
//! region, the country code, the default region's code written without `+`,
//! the national prefix (kept when removing it leaves a number the region
//! cannot have), and then `is_valid_number` / `getNumberType`, where a type
//! matches only the whole national number. `tests/it/phone_reference.rs` holds
//! the result to the reference library on a corpus of about 50,000 cells.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use regex_automata::dfa::{Automaton, StartKind, dense};
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind};
use serde::{Deserialize, Serialize};

use crate::phone_metadata::{self, Desc, RegionMeta};

/// libphonenumber's bounds on a national significant number.
const MIN_NATIONAL_LEN: usize = 2;
const MAX_NATIONAL_LEN: usize = 17;
/// The import rules' own bound (stricter than libphonenumber's): E.164 has
/// at most 15 digits, so a cell with more digits after its `+` or
/// international prefix is refused rather than cut down to a number.
pub(crate) const MAX_DIGITS: usize = 15;

/// The types [`Plan::number_type`] tries before fixed line and mobile, in
/// libphonenumber's order (that of [`RegionMeta::types`]).
const TYPE_ORDER: [NumberType; 8] = [
    NumberType::PremiumRate,
    NumberType::TollFree,
    NumberType::SharedCost,
    NumberType::Voip,
    NumberType::PersonalNumber,
    NumberType::Pager,
    NumberType::Uan,
    NumberType::Voicemail,
];
const FIXED_LINE: usize = 8;
const MOBILE: usize = 9;
/// Index of the general descriptor in a [`Plan`]'s pattern set.
const GENERAL: usize = 10;

/// What kind of line a number is, per libphonenumber's metadata (its
/// `PhoneNumberType`). Serialized in snake case: `"mobile"`,
/// `"fixed_line_or_mobile"`, `"toll_free"`, ...
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NumberType {
    /// A mobile number.
    Mobile,
    /// A landline.
    FixedLine,
    /// A number the metadata cannot tell apart (the US, Canada, ...).
    FixedLineOrMobile,
    /// Free to the caller, e.g. India's 1800 numbers.
    TollFree,
    /// Charged above the normal rate.
    PremiumRate,
    /// The cost is shared between caller and recipient (India's 1860).
    SharedCost,
    /// Voice over IP.
    Voip,
    /// A personal number that forwards to another.
    PersonalNumber,
    /// A pager.
    Pager,
    /// A company's universal access number.
    Uan,
    /// Voicemail access.
    Voicemail,
    /// A number the metadata gives no type: not valid.
    Unknown,
}

impl NumberType {
    /// Whether a number of this type can be a WhatsApp mobile: mobile,
    /// fixed line or mobile, VoIP and personal numbers can; landlines,
    /// toll-free, premium, shared-cost, pager, UAN and voicemail numbers
    /// cannot (a row with one gets the warning `not_mobile`).
    pub fn can_be_mobile(self) -> bool {
        matches!(
            self,
            NumberType::Mobile
                | NumberType::FixedLineOrMobile
                | NumberType::Voip
                | NumberType::PersonalNumber
        )
    }

    /// The snake-case name of the serde form, e.g. `toll_free`.
    pub fn as_str(self) -> &'static str {
        match self {
            NumberType::Mobile => "mobile",
            NumberType::FixedLine => "fixed_line",
            NumberType::FixedLineOrMobile => "fixed_line_or_mobile",
            NumberType::TollFree => "toll_free",
            NumberType::PremiumRate => "premium_rate",
            NumberType::SharedCost => "shared_cost",
            NumberType::Voip => "voip",
            NumberType::PersonalNumber => "personal_number",
            NumberType::Pager => "pager",
            NumberType::Uan => "uan",
            NumberType::Voicemail => "voicemail",
            NumberType::Unknown => "unknown",
        }
    }
}

impl fmt::Display for NumberType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why digits are not a phone number at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// Too few digits to be any number.
    NotANumber,
    /// Too few digits after the international prefix or `+`.
    TooShortAfterPrefix,
    /// No country calling code starts the digits after `+`.
    UnknownCountryCode,
    /// More digits than E.164 allows.
    TooManyDigits,
    /// Too few digits after the country code.
    TooShort { code: u16 },
    /// Too many digits after the country code.
    TooLong { code: u16 },
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::NotANumber => f.write_str("too few digits"),
            Rejection::TooShortAfterPrefix => {
                f.write_str("too few digits after the international prefix")
            }
            Rejection::UnknownCountryCode => f.write_str("it starts with no known country code"),
            Rejection::TooManyDigits => write!(
                f,
                "more than {MAX_DIGITS} digits after the country prefix; a phone number has at most {MAX_DIGITS}"
            ),
            Rejection::TooShort { code } => write!(f, "too few digits after country code +{code}"),
            Rejection::TooLong { code } => write!(f, "too many digits after country code +{code}"),
        }
    }
}

/// A parsed number: country code and national significant number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Number<'a> {
    pub code: u16,
    pub national: Cow<'a, str>,
}

/// libphonenumber's `ValidationResult` for a length (type unknown).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Length {
    Possible,
    LocalOnly,
    TooShort,
    TooLong,
    Invalid,
}

/// One region's metadata and its patterns, compiled on first use.
pub(crate) struct Plan {
    meta: &'static RegionMeta,
    /// Compiled on its own: finding the region of a number (+1 has 25)
    /// needs only the leading digits of the regions it is not in.
    leading_digits: OnceLock<Option<Regex>>,
    /// The international prefix and the national prefix: only national
    /// input (and the main region of a `+` number's code) needs them.
    prefixes: OnceLock<Prefixes>,
    /// Every type's pattern (and the general one last), each matched
    /// against the whole number, in one pass over it.
    types: OnceLock<Types>,
    /// The general pattern alone, for parsing.
    general: OnceLock<Option<Regex>>,
}

struct Prefixes {
    international: Option<Regex>,
    national: Option<Regex>,
}

/// The largest DFA built ahead for a region's types; a region whose
/// patterns need more is matched by the regex crate's lazy DFA instead.
const DENSE_TYPES_LIMIT: usize = 2 << 20;

/// A region's type patterns, each anchored at both ends, matched in one pass.
///
/// A DFA built ahead (every region of today's metadata fits) costs a
/// table lookup a digit and allocates nothing; `RegexSet::matches`
/// allocates its answer and runs a lazy DFA through its caches, which was
/// most of the cost of a number's type.
enum TypeSet {
    Dense(Box<dense::DFA<Vec<u32>>>),
    Lazy(RegexSet),
}

/// The patterns of a [`TypeSet`] that matched, one bit each by index.
#[derive(Clone, Copy)]
struct Matched(u16);

impl Matched {
    fn has(self, index: usize) -> bool {
        self.0 & (1 << index) != 0
    }
}

impl TypeSet {
    fn new(patterns: &[String]) -> TypeSet {
        match dense_set(patterns) {
            Some(dfa) => TypeSet::Dense(Box::new(dfa)),
            None => {
                let build = |unicode| RegexSetBuilder::new(patterns).unicode(unicode).build();
                TypeSet::Lazy(
                    build(false)
                        .or_else(|_| build(true))
                        .unwrap_or_else(|_| RegexSet::empty()),
                )
            }
        }
    }

    fn matches(&self, national: &[u8]) -> Matched {
        match self {
            TypeSet::Dense(dfa) => dense_matches(dfa, national),
            TypeSet::Lazy(set) => Matched(
                set.matches(std::str::from_utf8(national).unwrap_or_default())
                    .iter()
                    .fold(0, |bits, i| bits | 1 << i),
            ),
        }
    }
}

fn dense_set(patterns: &[String]) -> Option<dense::DFA<Vec<u32>>> {
    dense::Builder::new()
        .configure(
            dense::Config::new()
                .match_kind(MatchKind::All)
                .start_kind(StartKind::Anchored)
                .dfa_size_limit(Some(DENSE_TYPES_LIMIT))
                .determinize_size_limit(Some(4 * DENSE_TYPES_LIMIT)),
        )
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .build_many(patterns)
        .ok()
}

/// Walks the digits through the DFA by hand: the patterns match whole
/// numbers, so only the state after the end of the input says which did.
fn dense_matches(dfa: &dense::DFA<Vec<u32>>, national: &[u8]) -> Matched {
    let start = dfa.universal_start_state(Anchored::Yes).map(Ok);
    let start = start
        .unwrap_or_else(|| dfa.start_state_forward(&Input::new(national).anchored(Anchored::Yes)));
    let Ok(mut state) = start else {
        return Matched(0);
    };
    // A national number is short, and the dead state is never left: one
    // look at the end, not one a digit.
    for &byte in national {
        state = dfa.next_state(state, byte);
    }
    state = dfa.next_eoi_state(state);
    if !dfa.is_match_state(state) {
        return Matched(0);
    }
    let bits = (0..dfa.match_len(state))
        .map(|i| dfa.match_pattern(state, i).as_usize())
        .fold(0, |bits, pattern| bits | 1 << pattern);
    Matched(bits)
}

/// A pattern of the metadata, compiled as `^(?:pattern)` plus `suffix`.
///
/// The patterns only ever see ASCII digits, on which `\d` means the same
/// with or without Unicode; without it the compiled patterns are several
/// times smaller and faster to build. A pattern that does not compile
/// matches nothing (a test checks that every pattern compiles).
fn compile(pattern: &str, suffix: &str) -> Option<Regex> {
    let source = format!("^(?:{pattern}){suffix}");
    let build = |unicode| RegexBuilder::new(&source).unicode(unicode).build();
    build(false).or_else(|_| build(true)).ok()
}

/// Matches nothing: for a type the region does not have.
const NOTHING: &str = "[0-9&&a]";

fn whole(desc: &Option<Desc>) -> String {
    let pattern = desc
        .as_ref()
        .and_then(|d| d.pattern)
        .filter(|p| !p.is_empty());
    match pattern {
        Some(p) if compile(p, "$").is_some() => format!("^(?:{p})$"),
        _ => NOTHING.to_owned(),
    }
}

/// A region's type patterns, and the lengths of each type (by the index of
/// its pattern): one bit a length, a number's length checked with a shift.
struct Types {
    set: TypeSet,
    lengths: [Lengths; GENERAL + 1],
}

/// The national lengths a descriptor allows; `None` when it lists none
/// (any length), and no length for a type the region does not have.
#[derive(Clone, Copy)]
struct Lengths(Option<u128>);

impl Lengths {
    fn of(desc: Option<&Desc>) -> Lengths {
        let Some(desc) = desc else {
            return Lengths(Some(0));
        };
        if desc.lengths.is_empty() {
            return Lengths(None);
        }
        let bits = desc
            .lengths
            .iter()
            .filter_map(|&n| u32::try_from(n).ok())
            .fold(0u128, |bits, n| bits | 1u128.checked_shl(n).unwrap_or(0));
        Lengths(Some(bits))
    }

    /// `national.len()` is one of the lengths.
    fn fit(self, national: &[u8]) -> bool {
        match self.0 {
            None => true,
            Some(bits) => u32::try_from(national.len())
                .ok()
                .and_then(|n| bits.checked_shr(n))
                .is_some_and(|bits| bits & 1 == 1),
        }
    }
}

impl Plan {
    fn new(meta: &'static RegionMeta) -> Plan {
        Plan {
            meta,
            leading_digits: OnceLock::new(),
            prefixes: OnceLock::new(),
            types: OnceLock::new(),
            general: OnceLock::new(),
        }
    }

    fn leading_digits(&self) -> Option<&Regex> {
        self.leading_digits
            .get_or_init(|| self.meta.leading_digits.and_then(|p| compile(p, "")))
            .as_ref()
    }

    fn prefixes(&self) -> &Prefixes {
        self.prefixes.get_or_init(|| Prefixes {
            international: self.meta.international_prefix.and_then(|p| compile(p, "")),
            national: self
                .meta
                .national_prefix_for_parsing
                .and_then(|p| compile(p, "")),
        })
    }

    fn types(&self) -> &Types {
        self.types.get_or_init(|| {
            let patterns: Vec<String> = self
                .meta
                .types
                .iter()
                .chain([&self.meta.general])
                .map(whole)
                .collect();
            let lengths = std::array::from_fn(|index| {
                Lengths::of(match index {
                    GENERAL => self.meta.general.as_ref(),
                    i => self.meta.types.get(i).and_then(Option::as_ref),
                })
            });
            Types {
                set: TypeSet::new(&patterns),
                lengths,
            }
        })
    }

    /// libphonenumber's `matchNationalNumber` against the general
    /// descriptor: the whole number matches its pattern (lengths unchecked).
    fn general_matches(&self, national: &str) -> bool {
        let general = self.general.get_or_init(|| {
            let pattern = self.meta.general.as_ref().and_then(|d| d.pattern);
            pattern
                .filter(|p| !p.is_empty())
                .and_then(|p| compile(p, "$"))
        });
        general.as_ref().is_some_and(|re| re.is_match(national))
    }

    /// libphonenumber's `getNumberTypeHelper`: [`NumberType::Unknown`] when
    /// the region has no such number.
    pub fn number_type(&self, national: &[u8]) -> NumberType {
        let types = self.types();
        let matched = types.set.matches(national);
        let fits = |index: usize| types.lengths.get(index).is_some_and(|l| l.fit(national));
        let is = |index: usize| matched.has(index) && fits(index);
        if !is(GENERAL) {
            return NumberType::Unknown;
        }
        if let Some(found) = (0..TYPE_ORDER.len()).find(|&i| is(i)) {
            return TYPE_ORDER[found];
        }
        let same = self.meta.same_mobile_and_fixed_line_pattern;
        if is(FIXED_LINE) {
            return match same || is(MOBILE) {
                true => NumberType::FixedLineOrMobile,
                false => NumberType::FixedLine,
            };
        }
        match !same && is(MOBILE) {
            true => NumberType::Mobile,
            false => NumberType::Unknown,
        }
    }

    /// libphonenumber's `testNumberLength` for an unknown type.
    fn length(&self, national: &str) -> Length {
        let Some(general) = &self.meta.general else {
            return Length::Invalid;
        };
        let (Some(&min), Some(&max)) = (general.lengths.first(), general.lengths.last()) else {
            return Length::Invalid;
        };
        let Ok(len) = i8::try_from(national.len()) else {
            return Length::TooLong;
        };
        if min == -1 {
            Length::Invalid
        } else if general.local_lengths.contains(&len) {
            Length::LocalOnly
        } else if len == min {
            Length::Possible
        } else if len < min {
            Length::TooShort
        } else if len > max {
            Length::TooLong
        } else if general.lengths.contains(&len) {
            Length::Possible
        } else {
            Length::Invalid
        }
    }

    /// libphonenumber's `maybeStripNationalPrefixAndCarrierCode`: removes
    /// the national prefix (or applies the region's transform rule), unless
    /// the number fits the region's general pattern and would no longer.
    fn strip_national_prefix<'a>(&self, national: Cow<'a, str>) -> Cow<'a, str> {
        let Some(prefix) = &self.prefixes().national else {
            return national;
        };
        if national.is_empty() || !prefix.is_match(&national) {
            return national;
        }
        let Some(captures) = prefix.captures(&national) else {
            return national;
        };
        let end = captures.get(0).map_or(0, |m| m.end());
        let last_group = captures.len() - 1;
        let transformed = match self.meta.national_prefix_transform_rule {
            Some(rule) if last_group > 0 && captures.get(last_group).is_some() => {
                Cow::Owned(prefix.replacen(&national, 1, rule).into_owned())
            }
            _ => match &national {
                Cow::Borrowed(s) => Cow::Borrowed(s.get(end..).unwrap_or("")),
                Cow::Owned(s) => Cow::Owned(s.get(end..).unwrap_or("").to_owned()),
            },
        };
        if self.general_matches(&national) && !self.general_matches(&transformed) {
            national
        } else {
            transformed
        }
    }

    /// The digits after the region's international prefix, if they start
    /// with it (and not with a 0 after it: no country code starts with 0).
    fn strip_international_prefix<'a>(&self, digits: &'a str) -> Option<&'a str> {
        let prefix = self.prefixes().international.as_ref()?;
        let rest = digits.get(prefix.find(digits)?.end()..)?;
        (!rest.starts_with('0')).then_some(rest)
    }
}

/// The metadata of every country calling code, with patterns compiled on
/// first use.
pub(crate) struct NumberingPlans {
    /// Indexed by calling code (1 to 999): its regions, main region first.
    codes: Vec<Vec<Plan>>,
    known: Vec<bool>,
}

impl NumberingPlans {
    /// The plans, built from the metadata tables on first use (cheap: a
    /// region's patterns are compiled when a number first needs them).
    pub fn get() -> &'static NumberingPlans {
        static PLANS: OnceLock<NumberingPlans> = OnceLock::new();
        PLANS.get_or_init(NumberingPlans::load)
    }

    fn load() -> NumberingPlans {
        let mut codes: Vec<Vec<Plan>> = (0..1000).map(|_| Vec::new()).collect();
        let mut known = vec![false; 1000];
        for (code, regions) in phone_metadata::codes() {
            let code = usize::from(*code);
            if let Some(slot) = codes.get_mut(code) {
                *slot = regions.iter().map(Plan::new).collect();
                known[code] = true;
            }
        }
        NumberingPlans { codes, known }
    }

    fn plans(&self, code: u16) -> &[Plan] {
        self.codes.get(usize::from(code)).map_or(&[], Vec::as_slice)
    }

    /// The plan of the region with this calling code and ISO 3166 id.
    pub fn plan(&self, code: u16, id: &str) -> Option<&Plan> {
        self.plans(code).iter().find(|plan| plan.meta.id == id)
    }

    /// libphonenumber's `extractCountryCode`: the first one to three digits
    /// that are a calling code, and what follows them.
    fn country_code<'a>(&self, digits: &'a str) -> Option<(u16, &'a str)> {
        if digits.starts_with('0') {
            return None;
        }
        (1..=3).find_map(|len| {
            let code: u16 = digits.get(..len)?.parse().ok()?;
            let known = self.known.get(usize::from(code)).copied().unwrap_or(false);
            known.then(|| (code, digits.get(len..).unwrap_or("")))
        })
    }

    /// libphonenumber's `maybeExtractCountryCode`: the country code the
    /// digits carry (after `+`, after the region's international prefix, or
    /// as the region's own code written without `+`) and the rest;
    /// `Ok(None)` for a national number.
    fn extract<'a>(
        &self,
        digits: &'a str,
        plus: bool,
        region: &Plan,
    ) -> Result<Option<(u16, Cow<'a, str>)>, Rejection> {
        let after_prefix = match plus {
            true => Some(digits),
            false => region.strip_international_prefix(digits),
        };
        if let Some(full) = after_prefix {
            if full.len() > MAX_DIGITS {
                return Err(Rejection::TooManyDigits);
            }
            if full.len() <= MIN_NATIONAL_LEN {
                return Err(Rejection::TooShortAfterPrefix);
            }
            let (code, rest) = self
                .country_code(full)
                .ok_or(Rejection::UnknownCountryCode)?;
            return Ok(Some((code, Cow::Borrowed(rest))));
        }
        if digits.len() > MAX_DIGITS {
            return Err(Rejection::TooManyDigits);
        }
        let own = region.meta.country_code;
        let own_len = if own >= 100 {
            3
        } else if own >= 10 {
            2
        } else {
            1
        };
        let starts_with_own =
            digits.get(..own_len).and_then(|d| d.parse::<u16>().ok()) == Some(own);
        let Some(rest) = digits.get(own_len..).filter(|_| starts_with_own) else {
            return Ok(None);
        };
        let national = region.strip_national_prefix(Cow::Borrowed(rest));
        let better = !region.general_matches(digits) && region.general_matches(&national);
        if better || region.length(digits) == Length::TooLong {
            return Ok(Some((region.meta.country_code, national)));
        }
        Ok(None)
    }

    /// libphonenumber's `parse`, for `digits` (ASCII digits only) that
    /// followed a `+` or not, with `region` the default region.
    pub fn parse<'a>(
        &self,
        digits: &'a str,
        plus: bool,
        region: &Plan,
    ) -> Result<Number<'a>, Rejection> {
        let viable = digits.len() >= if plus { 3 } else { MIN_NATIONAL_LEN };
        if !viable {
            return Err(Rejection::NotANumber);
        }
        let extracted = match self.extract(digits, plus, region) {
            // A `+` before digits that start with no code: libphonenumber
            // tries the digits again without it.
            Err(Rejection::UnknownCountryCode) if plus => self
                .extract(digits, false, region)?
                .ok_or(Rejection::UnknownCountryCode)?,
            found => found?.unwrap_or((region.meta.country_code, Cow::Borrowed(digits))),
        };
        let (code, national) = extracted;
        // A number's prefixes are those of its code's main region.
        let plan = match code == region.meta.country_code {
            true => Some(region),
            false => self.plans(code).first(),
        };
        if national.len() < MIN_NATIONAL_LEN {
            return Err(Rejection::TooShort { code });
        }
        let national = match plan {
            Some(plan) => {
                let stripped = plan.strip_national_prefix(national.clone());
                match plan.length(&stripped) {
                    Length::TooShort | Length::LocalOnly | Length::Invalid => national,
                    Length::Possible | Length::TooLong => stripped,
                }
            }
            None => national,
        };
        if national.len() < MIN_NATIONAL_LEN {
            return Err(Rejection::TooShort { code });
        }
        if national.len() > MAX_NATIONAL_LEN {
            return Err(Rejection::TooLong { code });
        }
        Ok(Number { code, national })
    }

    /// libphonenumber's `getNumberType` (after `getRegionCodeForNumber`):
    /// [`NumberType::Unknown`] for a number that is not valid.
    pub fn number_type(&self, code: u16, national: &str) -> NumberType {
        match self.region_of(code, national) {
            Some((_, Some(known))) => known,
            Some((plan, None)) => plan.number_type(national.as_bytes()),
            None => NumberType::Unknown,
        }
    }

    /// [`number_type`](Self::number_type) of ASCII digits, without a `str`
    /// when the code has one region (whose leading digits need none).
    pub fn number_type_of_digits(&self, code: u16, national: &[u8]) -> NumberType {
        match self.plans(code) {
            [one] => one.number_type(national),
            _ => std::str::from_utf8(national).map_or(NumberType::Unknown, |national| {
                self.number_type(code, national)
            }),
        }
    }

    /// libphonenumber's `getRegionCodeForNumber`: the code's only region,
    /// or the first whose leading digits (or, without them, whose types)
    /// match; with the number's type when finding the region told it, so
    /// that a number of a code of many regions (+1, +44) is typed once.
    fn region_of(&self, code: u16, national: &str) -> Option<(&Plan, Option<NumberType>)> {
        match self.plans(code) {
            [one] => Some((one, None)),
            plans => plans
                .iter()
                .find_map(|plan| match plan.meta.leading_digits {
                    Some(_) => plan
                        .leading_digits()
                        .is_some_and(|re| re.is_match(national))
                        .then_some((plan, None)),
                    None => {
                        let kind = plan.number_type(national.as_bytes());
                        (kind != NumberType::Unknown).then_some((plan, Some(kind)))
                    }
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_types_fit_a_dfa_built_ahead() {
        let mut lazy = Vec::new();
        for (code, regions) in phone_metadata::codes() {
            for region in regions.iter() {
                if let TypeSet::Lazy(_) = Plan::new(region).types().set {
                    lazy.push(format!("+{code} {}", region.id));
                }
            }
        }
        assert!(lazy.is_empty(), "matched by the lazy DFA: {lazy:?}");
    }

    #[test]
    fn every_pattern_of_the_metadata_compiles() {
        let mut checked = 0;
        for (code, regions) in phone_metadata::codes() {
            for region in regions.iter() {
                let descs = region.types.iter().chain([&region.general]);
                let patterns = descs
                    .filter_map(|d| d.as_ref().and_then(|d| d.pattern))
                    .chain(region.international_prefix)
                    .chain(region.national_prefix_for_parsing)
                    .chain(region.leading_digits);
                for pattern in patterns {
                    assert!(
                        compile(pattern, "$").is_some(),
                        "+{code} {}: {pattern}",
                        region.id
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 1500, "{checked} patterns");
    }
}
