//! Which numbers are valid, per the phonenumber crate's metadata, without the
//! crate's parser.
//!
//! `phonenumber::parse` + `is_valid` cost about 10 µs a number in 0.3.10: every
//! regex goes through a global, mutex-guarded cache that hashes the pattern
//! text on each call. This module applies the same steps to `+` and digits
//! (country code, national prefix, the region's number patterns) with the
//! metadata's patterns compiled once per region into our own [`Regex`]es.
//! The metadata stays the crate's (`phonenumber::metadata::DATABASE`), copied
//! at build time into [`plan_metadata`](crate::plan_metadata)'s tables; only
//! the matching is ours. The steps mirror phonenumber 0.3.10
//! (`parser::parse_with` with no region, `validator::is_valid_with`), quirks
//! included, so that both agree on every number: `tests/phone.rs` checks that
//! with a property test.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};

use crate::plan_metadata::{self, CodeRegions, DescriptorMeta, RegionMeta};

/// phonenumber's bounds on a national significant number (its `consts`).
const MIN_NATIONAL_LEN: usize = 2;
const MAX_NATIONAL_LEN: usize = 17;
/// `NationalNumber` keeps the value in 56 bits.
const MAX_NATIONAL_VALUE: u64 = 1 << 56;

/// Why `+` and these digits are not a phone number at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// Fewer than three digits.
    TooFewDigits,
    /// No country calling code starts the digits.
    UnknownCountryCode,
    /// Too few digits after the country code.
    TooShort { code: u16 },
    /// Too many digits after the country code.
    TooLong { code: u16 },
    /// Nothing but zeros after the country code.
    OnlyZeros { code: u16 },
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::TooFewDigits => f.write_str("too few digits"),
            Rejection::UnknownCountryCode => f.write_str("it starts with no known country code"),
            Rejection::TooShort { code } => write!(f, "too few digits after country code +{code}"),
            Rejection::TooLong { code } => write!(f, "too many digits after country code +{code}"),
            Rejection::OnlyZeros { code } => {
                write!(f, "only zeros after country code +{code}")
            }
        }
    }
}

/// A number split as phonenumber splits it: the country code, and the
/// national significant number (national prefix removed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Split<'a> {
    pub code: u16,
    pub national: Cow<'a, str>,
    /// Whether the number is valid, when finding its region to parse it
    /// told already.
    valid: Option<bool>,
}

/// What looking for a number's region found.
#[derive(Clone, Copy)]
enum Found<'p> {
    /// No region: the number is not valid.
    Nothing,
    /// The region (the code's only one, or the first whose leading digits
    /// match): the number is valid if one of its types matches.
    Region(&'p Plan),
    /// A region without leading digits, found because one of its types
    /// matches: the number is valid.
    Valid(&'p Plan),
}

impl<'p> Found<'p> {
    fn plan(self) -> Option<&'p Plan> {
        match self {
            Found::Nothing => None,
            Found::Region(plan) | Found::Valid(plan) => Some(plan),
        }
    }

    /// phonenumber's `is_valid` for the number the region was looked up for.
    fn is_valid(self, national: &str) -> bool {
        match self {
            Found::Nothing => false,
            Found::Region(plan) => plan.has_type(national),
            Found::Valid(_) => true,
        }
    }
}

/// The metadata of every country calling code, with patterns compiled on first use.
pub(crate) struct NumberingPlans {
    codes: HashMap<u16, Regions>,
}

/// The regions of one calling code, in phonenumber's order (main region first).
enum Regions {
    /// One region (or a non-geographic entity): numbers are checked against it.
    /// `None` when phonenumber would find no metadata for it.
    One(Option<Plan>),
    /// Several: the first whose leading digits match (or, when it has none,
    /// whose patterns match) is the number's.
    Many(Vec<Plan>),
}

/// One region's metadata and its compiled patterns.
struct Plan {
    meta: &'static RegionMeta,
    /// Compiled on its own: finding the region of a number (+1 has 25)
    /// needs only the leading digits of the regions it is not in.
    leading_digits: OnceLock<Option<Regex>>,
    patterns: OnceLock<Patterns>,
}

struct Patterns {
    general: Pattern,
    /// The number types `is_valid` accepts (every type but those that
    /// phonenumber's `number_type` does not look at).
    types: Vec<Pattern>,
    /// `national_prefix_for_parsing`, unanchored, as phonenumber uses it.
    prefix_for_parsing: Option<Regex>,
}

/// A descriptor: phonenumber's `Descriptor::is_match` is "one of the
/// possible lengths, and the pattern matches at the start".
struct Pattern {
    at_start: Option<Regex>,
    lengths: &'static [u16],
}

impl Pattern {
    fn new(descriptor: &'static DescriptorMeta) -> Pattern {
        Pattern {
            at_start: anchored(descriptor.national_number),
            lengths: descriptor.possible_length,
        }
    }

    fn matches(&self, national: &str) -> bool {
        let length_ok = self.lengths.is_empty()
            || u16::try_from(national.len()).is_ok_and(|n| self.lengths.contains(&n));
        length_ok
            && self
                .at_start
                .as_ref()
                .is_some_and(|re| re.is_match(national))
    }
}

/// The metadata's patterns are written with insignificant whitespace. A
/// pattern that does not compile matches nothing (phonenumber would panic).
///
/// They only ever see ASCII digits, on which `\d` means the same with or
/// without Unicode; without it, the compiled patterns are several times
/// smaller and faster to build (Unicode `\d` is hundreds of code points).
fn compile(pattern: &str) -> Option<Regex> {
    let build = |unicode| {
        RegexBuilder::new(pattern)
            .ignore_whitespace(true)
            .unicode(unicode)
            .build()
    };
    build(false).or_else(|_| build(true)).ok()
}

/// `pattern` matching only at the start of the text: phonenumber takes a
/// match that starts at 0, and the leftmost match starts at 0 whenever any
/// match does. The newline ends a `#` comment, should a pattern hold one.
fn anchored(pattern: &str) -> Option<Regex> {
    compile(&format!("^(?:{pattern}\n)"))
}

impl Plan {
    fn new(meta: &'static RegionMeta) -> Plan {
        Plan {
            meta,
            leading_digits: OnceLock::new(),
            patterns: OnceLock::new(),
        }
    }

    fn patterns(&self) -> &Patterns {
        self.patterns.get_or_init(|| Patterns {
            general: Pattern::new(&self.meta.general),
            types: self.meta.types.iter().map(Pattern::new).collect(),
            prefix_for_parsing: self.meta.national_prefix_for_parsing.and_then(compile),
        })
    }

    fn leading_digits(&self) -> Option<&Regex> {
        self.leading_digits
            .get_or_init(|| self.meta.leading_digits.and_then(anchored))
            .as_ref()
    }

    /// phonenumber's `number_type(..) != Type::Unknown`.
    fn has_type(&self, national: &str) -> bool {
        let p = self.patterns();
        // Mobile and fixed line come last in the metadata's order and are
        // what most numbers are: tried first (the answer is the same).
        p.general.matches(national) && p.types.iter().rev().any(|t| t.matches(national))
    }

    /// phonenumber's `helper::national_number`: strips the national prefix
    /// (or applies the region's transform rule).
    fn strip_prefix_for_parsing<'a>(&self, national: Cow<'a, str>) -> Cow<'a, str> {
        let patterns = self.patterns();
        let Some(parsing) = &patterns.prefix_for_parsing else {
            return match self.meta.national_prefix {
                Some(prefix) => strip(national, prefix),
                None => national,
            };
        };
        // Most numbers do not start with the prefix: finding the leftmost
        // match (the same as the captures' whole match) is much cheaper.
        if parsing.find(&national).is_none_or(|m| m.start() != 0) {
            return national;
        }
        let found = parsing.captures(&national).and_then(|captures| {
            let whole = captures.get(0).filter(|m| m.start() == 0)?;
            Some((whole.end(), captures.get(captures.len() - 1).is_some()))
        });
        let Some((end, has_last_group)) = found else {
            return national;
        };
        match self.meta.national_prefix_transform_rule {
            Some(rule) if has_last_group => {
                let transformed = parsing.replace(&national, rule).into_owned();
                // phonenumber keeps the number when it matched the general
                // pattern before the transform and no longer does after it.
                if patterns.general.matches(&national) && !patterns.general.matches(&transformed) {
                    national
                } else {
                    Cow::Owned(transformed)
                }
            }
            // phonenumber's viability check compares the number with itself
            // here, so the prefix is always removed.
            _ => cut(national, end),
        }
    }

    /// phonenumber's `validator::length(.., Type::Unknown) == TooShort`.
    /// (The general descriptors of phonenumber 0.3.10's data carry no
    /// lengths, so this never holds today; it is kept so that newer data
    /// cannot make the two disagree.)
    fn too_short(&self, len: usize) -> bool {
        let general = &self.meta.general;
        let Some(&minimum) = general.possible_length.first() else {
            return false;
        };
        let len = u16::try_from(len).unwrap_or(u16::MAX);
        !general.possible_local_length.contains(&len) && len < minimum
    }
}

fn strip<'a>(national: Cow<'a, str>, prefix: &str) -> Cow<'a, str> {
    if national.starts_with(prefix) {
        cut(national, prefix.len())
    } else {
        national
    }
}

fn cut(text: Cow<'_, str>, start: usize) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(s) => Cow::Borrowed(s.get(start..).unwrap_or("")),
        Cow::Owned(s) => Cow::Owned(s.get(start..).unwrap_or("").to_owned()),
    }
}

impl Regions {
    /// The plans of the code's regions.
    fn plans(&self) -> &[Plan] {
        match self {
            Regions::One(plan) => plan.as_slice(),
            Regions::Many(plans) => plans,
        }
    }

    /// True when no region's national prefix can be stripped from
    /// `national`: it starts with none of them and no region has a parsing
    /// rule. Finding the number's region is then not needed to parse it.
    fn strips_nothing(&self, national: &str) -> bool {
        self.plans().iter().all(|plan| {
            plan.meta.national_prefix_for_parsing.is_none()
                && plan
                    .meta
                    .national_prefix
                    .is_none_or(|p| !national.starts_with(p))
        })
    }

    /// phonenumber's `validator::source_for`: the region whose metadata
    /// applies to `national`, and how it was found.
    fn source_for(&self, national: &str) -> Found<'_> {
        match self {
            Regions::One(plan) => plan.as_ref().map_or(Found::Nothing, Found::Region),
            Regions::Many(plans) => {
                for plan in plans {
                    match plan.leading_digits() {
                        Some(leading) if leading.is_match(national) => return Found::Region(plan),
                        Some(_) => {}
                        // A region whose leading-digits pattern does not
                        // compile is skipped, as a mismatch would be.
                        None if plan.meta.leading_digits.is_some() => {}
                        None if plan.has_type(national) => return Found::Valid(plan),
                        None => {}
                    }
                }
                Found::Nothing
            }
        }
    }
}

impl NumberingPlans {
    /// The plans, built from the metadata tables on first use (cheap: a
    /// region's patterns are compiled when a number first needs them).
    pub fn get() -> &'static NumberingPlans {
        static PLANS: OnceLock<NumberingPlans> = OnceLock::new();
        PLANS.get_or_init(NumberingPlans::load)
    }

    fn load() -> NumberingPlans {
        let codes = plan_metadata::codes()
            .iter()
            .map(|(code, regions)| {
                let regions = match regions {
                    CodeRegions::One(region) => Regions::One(region.map(Plan::new)),
                    CodeRegions::Many(regions) => {
                        Regions::Many(regions.iter().map(Plan::new).collect())
                    }
                };
                (*code, regions)
            })
            .collect();
        NumberingPlans { codes }
    }

    /// Splits `digits` (what follows a `+`; ASCII digits only) into country
    /// code and national number, as `phonenumber::parse(None, "+…")` does.
    pub fn split<'a>(&self, digits: &'a str) -> Result<Split<'a>, Rejection> {
        if digits.len() < 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Rejection::TooFewDigits);
        }
        if digits.starts_with('0') {
            return Err(Rejection::UnknownCountryCode);
        }
        let (code, regions, rest) = (1..=3)
            .find_map(|len| {
                let code: u16 = digits.get(..len)?.parse().ok()?;
                let regions = self.codes.get(&code)?;
                Some((code, regions, digits.get(len..)?))
            })
            .ok_or(Rejection::UnknownCountryCode)?;
        let mut national = Cow::Borrowed(rest);
        let looked_up = rest.trim_start_matches('0');
        let found = match regions.strips_nothing(rest) {
            true => None,
            false => Some(regions.source_for(looked_up)),
        };
        if let Some(plan) = found.and_then(Found::plan) {
            let stripped = plan.strip_prefix_for_parsing(national.clone());
            let stripped = match plan.meta.national_prefix {
                Some(prefix) => strip(stripped, prefix),
                None => stripped,
            };
            if !plan.too_short(stripped.len()) {
                national = stripped;
            }
        }
        if national.len() < MIN_NATIONAL_LEN {
            return Err(Rejection::TooShort { code });
        }
        if national.len() > MAX_NATIONAL_LEN {
            return Err(Rejection::TooLong { code });
        }
        match national.trim_start_matches('0').parse::<u64>() {
            Ok(value) if value >= MAX_NATIONAL_VALUE => Err(Rejection::TooLong { code }),
            Ok(_) => {
                // The region found for parsing is the number's when the
                // number is what it was looked up for.
                let valid = found
                    .filter(|_| national == looked_up)
                    .map(|found| found.is_valid(&national));
                Ok(Split {
                    code,
                    national,
                    valid,
                })
            }
            Err(_) => Err(Rejection::OnlyZeros { code }),
        }
    }

    /// Whether the metadata knows a type for this number: phonenumber's `is_valid`.
    pub fn is_valid(&self, split: &Split<'_>) -> bool {
        if let Some(valid) = split.valid {
            return valid;
        }
        self.codes.get(&split.code).is_some_and(|regions| {
            regions
                .source_for(&split.national)
                .is_valid(&split.national)
        })
    }
}
