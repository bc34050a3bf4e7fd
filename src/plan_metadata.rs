//! What the phone rules need of the phonenumber crate's metadata, copied from
//! `phonenumber::metadata::DATABASE` by `build.rs` into static tables.
//!
//! Loading `DATABASE` compiles every pattern of every region (about 600
//! million instructions, tens of milliseconds, several MiB), which every
//! import would pay even for one Indian number. These tables are the same
//! data, read when the crate is built; [`numbering_plan`](crate::numbering_plan)
//! compiles a region's patterns only when a number needs them. The test below
//! checks the tables against the `DATABASE` of the crate this library links.

/// One region's metadata (a country, or a non-geographic entity such as +800).
pub(crate) struct RegionMeta {
    /// ISO 3166 code, or `001` for a non-geographic entity.
    pub id: &'static str,
    pub country_code: u16,
    pub national_prefix: Option<&'static str>,
    /// A pattern, written with insignificant whitespace.
    pub national_prefix_for_parsing: Option<&'static str>,
    pub national_prefix_transform_rule: Option<&'static str>,
    /// A pattern: which national numbers belong to this region when several
    /// share its calling code.
    pub leading_digits: Option<&'static str>,
    pub general: DescriptorMeta,
    /// The number types `is_valid` accepts that the region has, in the order
    /// premium rate, toll free, shared cost, VoIP, personal number, pager,
    /// UAN, voicemail, fixed line, mobile.
    pub types: &'static [DescriptorMeta],
}

/// A number type of a region: its pattern and lengths.
pub(crate) struct DescriptorMeta {
    /// A pattern, written with insignificant whitespace.
    pub national_number: &'static str,
    pub possible_length: &'static [u16],
    pub possible_local_length: &'static [u16],
}

/// The regions of one calling code, as phonenumber finds them.
pub(crate) enum CodeRegions {
    /// A single region; `None` when phonenumber would find no metadata for it.
    One(Option<&'static RegionMeta>),
    /// Several regions, main region first.
    Many(&'static [RegionMeta]),
}

impl CodeRegions {
    /// The id of the code's main region (`US` for 1), if it has one.
    pub(crate) fn main_id(&self) -> Option<&'static str> {
        self.regions().first().map(|region| region.id)
    }

    fn regions(&self) -> &'static [RegionMeta] {
        match *self {
            CodeRegions::One(Some(region)) => std::slice::from_ref(region),
            CodeRegions::One(None) => &[],
            CodeRegions::Many(regions) => regions,
        }
    }
}

include!(concat!(env!("OUT_DIR"), "/numbering_plans.rs"));

/// Every calling code of the metadata with its regions, by ascending code.
pub(crate) fn codes() -> &'static [(u16, CodeRegions)] {
    CODES
}

/// The calling code of the region with this id (e.g. `IN`): what
/// `DATABASE.by_id(id)` holds, for every id of a country.
pub(crate) fn country_code(id: &str) -> Option<u16> {
    CODES
        .iter()
        .flat_map(|(_, regions)| regions.regions())
        .find(|region| region.id == id)
        .map(|region| region.country_code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonenumber::Metadata;
    use phonenumber::metadata::{DATABASE, Descriptor};

    fn assert_same_descriptor(table: &DescriptorMeta, crate_: &Descriptor, what: &str) {
        assert_eq!(
            table.national_number,
            crate_.national_number().as_str(),
            "{what}"
        );
        assert_eq!(table.possible_length, crate_.possible_length(), "{what}");
        let local = crate_.possible_local_length();
        assert_eq!(table.possible_local_length, local, "{what}");
    }

    fn assert_same_region(table: &RegionMeta, crate_: &Metadata) {
        let id = crate_.id();
        assert_eq!(table.id, id);
        assert_eq!(table.country_code, crate_.country_code(), "{id}");
        assert_eq!(table.national_prefix, crate_.national_prefix(), "{id}");
        let parsing = crate_.national_prefix_for_parsing().map(|re| re.as_str());
        assert_eq!(table.national_prefix_for_parsing, parsing, "{id}");
        let rule = crate_.national_prefix_transform_rule();
        assert_eq!(table.national_prefix_transform_rule, rule, "{id}");
        let leading = crate_.leading_digits().map(|re| re.as_str());
        assert_eq!(table.leading_digits, leading, "{id}");
        let d = crate_.descriptors();
        assert_same_descriptor(&table.general, d.general(), id);
        let types: Vec<_> = [
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
            d.fixed_line(),
            d.mobile(),
        ]
        .into_iter()
        .flatten()
        .collect();
        assert_eq!(table.types.len(), types.len(), "{id}");
        for (table, crate_) in table.types.iter().zip(types) {
            assert_same_descriptor(table, crate_, id);
        }
    }

    #[test]
    fn the_tables_hold_what_the_linked_crate_holds() {
        let in_crate: Vec<u16> = (1..=999)
            .filter(|code| DATABASE.region(code).is_some())
            .collect();
        let in_tables: Vec<u16> = codes().iter().map(|(code, _)| *code).collect();
        assert_eq!(in_tables, in_crate);
        for (code, regions) in codes() {
            let crate_regions = DATABASE.by_code(code).unwrap_or_default();
            if let CodeRegions::One(None) = regions {
                // Only a single region whose id phonenumber does not know.
                let ids = DATABASE.region(code).unwrap_or_default();
                assert!(matches!(ids.as_slice(), [id] if *id != "001"
                    && id.parse::<phonenumber::country::Id>().is_err()));
                continue;
            }
            let tables = regions.regions();
            assert_eq!(tables.len(), crate_regions.len(), "+{code}");
            for (table, crate_) in tables.iter().zip(crate_regions) {
                assert_same_region(table, crate_);
            }
        }
    }
}
