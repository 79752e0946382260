//! People and households: the attributes assistance depends on.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use crate::id_number::Sex;

/// Defines a closed set of codes with their Chinese labels, stored and sent as snake_case text.
macro_rules! coded_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $code:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }
    };
}
pub(crate) use coded_enum;

coded_enum! {
    /// 残疾类别 (GB/T 26341).
    DisabilityKind {
        Visual => "visual", "视力残疾";
        Hearing => "hearing", "听力残疾";
        Speech => "speech", "言语残疾";
        Physical => "physical", "肢体残疾";
        Intellectual => "intellectual", "智力残疾";
        Mental => "mental", "精神残疾";
        Multiple => "multiple", "多重残疾";
    }
}

coded_enum! {
    /// 劳动能力.
    LabourCapacity {
        Full => "full", "有劳动能力";
        Partial => "partial", "部分丧失劳动能力";
        None => "none", "无劳动能力";
    }
}

coded_enum! {
    /// 生活自理能力: the three tiers of the 特困 care standard (seed 004 §6).
    SelfCare {
        Full => "full", "生活能够自理";
        Partial => "partial", "生活部分自理";
        None => "none", "生活不能自理";
    }
}

coded_enum! {
    /// A member's relation to the head of household (与户主关系).
    Relation {
        Head => "head", "户主";
        Spouse => "spouse", "配偶";
        Child => "child", "子女";
        Parent => "parent", "父母";
        Grandchild => "grandchild", "孙子女";
        Grandparent => "grandparent", "祖父母";
        Sibling => "sibling", "兄弟姐妹";
        ChildInLaw => "child_in_law", "儿媳/女婿";
        Other => "other", "其他";
    }
}

/// 残疾等级: grade 1 is the most severe; grades 1–2 are 重度残疾.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct DisabilityGrade(u8);

impl DisabilityGrade {
    pub fn new(grade: u8) -> Option<Self> {
        (1..=4).contains(&grade).then_some(DisabilityGrade(grade))
    }

    pub fn get(self) -> u8 {
        self.0
    }

    pub fn is_severe(self) -> bool {
        self.0 <= 2
    }

    pub fn label(self) -> &'static str {
        ["一级", "二级", "三级", "四级"][usize::from(self.0 - 1)]
    }
}

impl TryFrom<u8> for DisabilityGrade {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, String> {
        DisabilityGrade::new(v).ok_or_else(|| format!("残疾等级应为1至4级，实际为{v}"))
    }
}

impl From<DisabilityGrade> for u8 {
    fn from(g: DisabilityGrade) -> u8 {
        g.0
    }
}

/// A disability certificate's grade and kind; both or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disability {
    pub grade: DisabilityGrade,
    pub kind: DisabilityKind,
}

/// Household membership over time: members join and leave, and history survives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipPeriod {
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

impl MembershipPeriod {
    pub fn is_current_on(&self, date: NaiveDate) -> bool {
        self.from <= date && self.to.is_none_or(|to| date < to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_grades_are_bounded() {
        for r in Relation::ALL {
            assert_eq!(Relation::from_code(r.code()), Some(*r));
        }
        assert_eq!(
            SelfCare::from_code("partial").unwrap().label(),
            "生活部分自理"
        );
        assert!(DisabilityGrade::new(0).is_none());
        assert!(DisabilityGrade::new(5).is_none());
        assert!(DisabilityGrade::new(2).unwrap().is_severe());
        assert!(!DisabilityGrade::new(3).unwrap().is_severe());
    }

    #[test]
    fn membership_is_half_open() {
        let d = |m, day| NaiveDate::from_ymd_opt(2025, m, day).unwrap();
        let p = MembershipPeriod {
            from: d(3, 1),
            to: Some(d(6, 1)),
        };
        assert!(!p.is_current_on(d(2, 28)));
        assert!(p.is_current_on(d(3, 1)));
        assert!(p.is_current_on(d(5, 31)));
        assert!(!p.is_current_on(d(6, 1)));
    }
}
