//! Thailand's six geographical regions (the National Geographical
//! Committee's division of 1977), and the region of each province by its
//! ISO 3166-2 code.

use async_graphql::Enum;

/// A geographical region of Thailand (six-region system).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Region {
    /// The north (ภาคเหนือ): Chiang Mai, Chiang Rai, Nan, ... (9 provinces).
    North,
    /// The northeast, Isan (ภาคตะวันออกเฉียงเหนือ): 20 provinces.
    Northeast,
    /// The central plains with Bangkok (ภาคกลาง): 22 provinces.
    Central,
    /// The east (ภาคตะวันออก): 7 provinces.
    East,
    /// The west (ภาคตะวันตก): 5 provinces.
    West,
    /// The south (ภาคใต้): 14 provinces.
    South,
}

impl Region {
    /// Every region, in the order above.
    pub const ALL: [Region; 6] =
        [Region::North, Region::Northeast, Region::Central, Region::East, Region::West, Region::South];

    /// The region of the province with ISO code `code` (`TH-57`), if it is one.
    pub fn of_province(code: &str) -> Option<Region> {
        let number: u32 = code.strip_prefix("TH-")?.parse().ok()?;
        Some(match number {
            50..=58 => Region::North,
            30..=49 => Region::Northeast,
            10..=19 | 26 | 60..=62 | 64..=67 | 72..=75 => Region::Central,
            20..=25 | 27 => Region::East,
            63 | 70 | 71 | 76 | 77 => Region::West,
            80..=86 | 90..=96 => Region::South,
            _ => return None,
        })
    }

    /// The ISO codes of the provinces of any of `regions`.
    pub fn province_codes(regions: &[Region]) -> Vec<String> {
        (10..=96)
            .map(|n| format!("TH-{n}"))
            .filter(|code| Region::of_province(code).is_some_and(|r| regions.contains(&r)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_province_has_a_region_and_the_regions_have_their_sizes() {
        let codes: Vec<String> = include_str!("../../../migration/data/th-provinces.csv")
            .lines()
            .skip(1)
            .filter_map(|line| line.split(',').next().map(str::to_owned))
            .collect();
        assert_eq!(codes.len(), 77);
        let mut sizes = std::collections::HashMap::new();
        for code in &codes {
            let region = Region::of_province(code).unwrap_or_else(|| panic!("{code} has no region"));
            *sizes.entry(region).or_insert(0) += 1;
        }
        let expected = [
            (Region::North, 9),
            (Region::Northeast, 20),
            (Region::Central, 22),
            (Region::East, 7),
            (Region::West, 5),
            (Region::South, 14),
        ];
        for (region, size) in expected {
            assert_eq!(sizes[&region], size, "{region:?}");
            assert_eq!(Region::province_codes(&[region]).len(), size, "{region:?}");
        }
    }
}
