//! Administrative division codes (行政区划代码): a county or county-level city has 6 digits
//! (GB/T 2260), a township or street 9 (GB/T 10114), a village or community 12.
//! A code contains another when it is a prefix of it; that is how region scope is enforced.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RegionCodeError {
    #[error("行政区划代码应为6位（县/市）、9位（乡镇/街道）或12位（村/社区）数字，实际为“{0}”")]
    Shape(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    /// 县/县级市/区
    County,
    /// 乡镇/街道
    Township,
    /// 村/社区
    Village,
}

impl RegionLevel {
    pub fn label(self) -> &'static str {
        match self {
            RegionLevel::County => "县（市、区）",
            RegionLevel::Township => "乡镇（街道）",
            RegionLevel::Village => "村（社区）",
        }
    }

    pub fn digits(self) -> usize {
        match self {
            RegionLevel::County => 6,
            RegionLevel::Township => 9,
            RegionLevel::Village => 12,
        }
    }
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(text: &str) -> Result<Self, RegionCodeError> {
        let t = text.trim();
        let ok = matches!(t.len(), 6 | 9 | 12) && t.bytes().all(|b| b.is_ascii_digit());
        if ok {
            Ok(RegionCode(t.to_string()))
        } else {
            Err(RegionCodeError::Shape(t.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the first two digits name a province of GB/T 2260 (including Hong Kong, Macao
    /// and Taiwan): `99…` or `00…` is no place at all.
    pub fn in_known_province(&self) -> bool {
        const PROVINCES: [&str; 34] = [
            "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
            "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
            "63", "64", "65", "71", "81", "82",
        ];
        PROVINCES.contains(&&self.0[..2])
    }

    pub fn level(&self) -> RegionLevel {
        match self.0.len() {
            6 => RegionLevel::County,
            9 => RegionLevel::Township,
            _ => RegionLevel::Village,
        }
    }

    /// The enclosing region one level up; a county has none in this tree.
    pub fn parent(&self) -> Option<RegionCode> {
        match self.level() {
            RegionLevel::County => None,
            RegionLevel::Township => Some(RegionCode(self.0[..6].to_string())),
            RegionLevel::Village => Some(RegionCode(self.0[..9].to_string())),
        }
    }

    /// The code of a child: `suffix` is 3 digits (a township under a county, a village under a township).
    pub fn child(&self, suffix: u16) -> Option<RegionCode> {
        if self.level() == RegionLevel::Village || suffix > 999 {
            return None;
        }
        Some(RegionCode(format!("{}{:03}", self.0, suffix)))
    }

    /// True when `other` is this region or lies inside it.
    pub fn contains(&self, other: &RegionCode) -> bool {
        other.0.starts_with(&self.0)
    }

    /// This region's code at `level`, when this region is at that level or below it.
    pub fn at_level(&self, level: RegionLevel) -> Option<RegionCode> {
        (self.0.len() >= level.digits()).then(|| RegionCode(self.0[..level.digits()].to_string()))
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionCode({})", self.0)
    }
}

impl std::str::FromStr for RegionCode {
    type Err = RegionCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RegionCode::parse(s)
    }
}

impl Serialize for RegionCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RegionCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        RegionCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_real_provinces_are_places() {
        assert!(RegionCode::parse("320582100201")
            .unwrap()
            .in_known_province());
        assert!(RegionCode::parse("810000").unwrap().in_known_province());
        assert!(!RegionCode::parse("999999999999")
            .unwrap()
            .in_known_province());
        assert!(!RegionCode::parse("000000").unwrap().in_known_province());
    }
    use proptest::prelude::*;

    #[test]
    fn levels_parents_and_containment() {
        let county = RegionCode::parse("320582").unwrap();
        let town = county.child(101).unwrap();
        let village = town.child(203).unwrap();
        assert_eq!(town.as_str(), "320582101");
        assert_eq!(village.as_str(), "320582101203");
        assert_eq!(village.level(), RegionLevel::Village);
        assert_eq!(village.parent(), Some(town.clone()));
        assert_eq!(town.parent(), Some(county.clone()));
        assert_eq!(county.parent(), None);
        assert!(county.contains(&village));
        assert!(town.contains(&village));
        assert!(town.contains(&town));
        assert!(!village.contains(&town));
        let other_town = county.child(102).unwrap();
        assert!(!other_town.contains(&village));
        assert_eq!(village.at_level(RegionLevel::Township), Some(town));
        assert_eq!(county.at_level(RegionLevel::Township), None);
        assert!(village.child(1).is_none());
    }

    #[test]
    fn malformed_codes_are_refused() {
        for bad in ["", "32058", "3205821", "32058210a", "3205821012034"] {
            assert!(RegionCode::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn a_child_is_contained_and_its_parent_is_the_origin(code in "[0-9]{6}", a in 0u16..1000, b in 0u16..1000) {
            let county = RegionCode::parse(&code).unwrap();
            let town = county.child(a).unwrap();
            let village = town.child(b).unwrap();
            prop_assert!(county.contains(&village));
            prop_assert_eq!(village.parent().unwrap().parent().unwrap(), county);
        }
    }
}
