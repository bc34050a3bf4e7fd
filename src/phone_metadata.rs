//! Google's libphonenumber metadata, as static tables: what the phone rules
//! need of every region (its prefixes and the patterns of its number types).
//!
//! The tables are generated into `data/phone_metadata.rs` by
//! `scripts/update-phone-metadata` from the newest release of the metadata
//! (see INTERNALS.md, "Phone metadata"); [`numbering_plan`](crate::numbering_plan)
//! compiles a region's patterns when a number first needs them.

/// One region's metadata (a country, or a non-geographic entity such as +800).
pub(crate) struct RegionMeta {
    /// ISO 3166 code, or `001` for a non-geographic entity.
    pub id: &'static str,
    pub country_code: u16,
    /// A pattern: the prefix dialled to call abroad from here (`00` in India).
    pub international_prefix: Option<&'static str>,
    /// A pattern matched at the start of a national number: the national
    /// prefix (`0`), sometimes with a carrier code.
    pub national_prefix_for_parsing: Option<&'static str>,
    /// What replaces the match of `national_prefix_for_parsing` when its last
    /// group took part (a replacement of the regex crate: `${1}`).
    pub national_prefix_transform_rule: Option<&'static str>,
    /// A pattern: which national numbers belong to this region when several
    /// share its calling code.
    pub leading_digits: Option<&'static str>,
    /// Fixed-line and mobile numbers are told apart by no pattern.
    pub same_mobile_and_fixed_line_pattern: bool,
    pub general: Option<Desc>,
    /// In [`TYPE_ORDER`](crate::numbering_plan) order: premium rate, toll
    /// free, shared cost, VoIP, personal number, pager, UAN, voicemail,
    /// fixed line, mobile.
    pub types: [Option<Desc>; 10],
}

/// A number type of a region: its pattern and lengths.
pub(crate) struct Desc {
    /// Matched against the whole national number.
    pub pattern: Option<&'static str>,
    /// The national numbers' lengths, ascending (`-1`: none is possible).
    pub lengths: &'static [i8],
    /// Lengths of numbers dialled without their area code.
    pub local_lengths: &'static [i8],
}

include!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/phone_metadata.rs"
));

/// Every calling code of the metadata with its regions (main region first),
/// by ascending code.
pub(crate) fn codes() -> &'static [(u16, &'static [RegionMeta])] {
    CODES
}

/// The region with this ISO 3166 code (e.g. `IN`); `None` for `001` and
/// codes the metadata does not know.
pub(crate) fn region(id: &str) -> Option<&'static RegionMeta> {
    CODES
        .iter()
        .flat_map(|(_, regions)| regions.iter())
        .find(|region| region.id == id && id != "001")
}
