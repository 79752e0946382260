//! People and households: the attributes assistance depends on.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use crate::id_number::Sex;
use crate::{IdNumber, RegionCode};

/// Defines a closed set of codes with their Chinese labels, stored and sent as snake_case text.
macro_rules! coded_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

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

coded_enum! {
    /// Kinds of income, after the National Bureau of Statistics' four groups, with the incomes
    /// that policy excludes from household income kept apart (seed 001 §二㈠7, §二㈣).
    IncomeKind {
        Wage => "wage", "工资性收入";
        Business => "business", "经营净收入";
        Property => "property", "财产净收入";
        Pension => "pension", "养老金";
        OtherTransfer => "other_transfer", "其他转移性收入";
        SpecialCare => "special_care", "优抚金（不计入家庭收入）";
        VeteranSubsidy => "veteran_subsidy", "革命“五老”补助及护理费（不计入家庭收入）";
    }
}

impl IncomeKind {
    /// Whether this income counts towards household income for means tests.
    pub fn counts(self) -> bool {
        !matches!(self, IncomeKind::SpecialCare | IncomeKind::VeteranSubsidy)
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

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PersonError {
    #[error("姓名不能为空")]
    EmptyName,
    #[error("姓名过长（最多50个字符）")]
    LongName,
    #[error("联系电话“{0}”无效：应为11位手机号或带区号的固定电话")]
    Phone(String),
    #[error("居住起始日期{since}早于出生日期{birth}")]
    ResidenceBeforeBirth { since: NaiveDate, birth: NaiveDate },
}

impl PersonError {
    /// The form field the error concerns.
    pub fn field(&self) -> &'static str {
        match self {
            PersonError::EmptyName | PersonError::LongName => "name",
            PersonError::Phone(_) => "phone",
            PersonError::ResidenceBeforeBirth { .. } => "residence_since",
        }
    }
}

/// A telephone number: an 11-digit mobile starting with 1, or a landline with its area code.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(text: &str) -> Result<Phone, PersonError> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let mobile = digits.len() == 11 && digits.starts_with('1');
        let landline = digits.starts_with('0') && (10..=12).contains(&digits.len());
        if digits.bytes().all(|b| b.is_ascii_digit()) && (mobile || landline) {
            Ok(Phone(digits))
        } else {
            Err(PersonError::Phone(text.trim().to_string()))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `138****5678`: the first three and the last four digits.
    pub fn masked(&self) -> String {
        let s = &self.0;
        format!("{}****{}", &s[..3], &s[s.len() - 4..])
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

/// A resident as the registry knows them. Sex and birth date come from the identity number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id_number: IdNumber,
    pub name: String,
    pub hukou_region: RegionCode,
    /// Where the person lives; the region whose staff serve them, and the record's scope.
    pub residence_region: RegionCode,
    pub residence_since: Option<NaiveDate>,
    pub phone: Option<Phone>,
    pub disability: Option<Disability>,
    /// The serious illness (重病) diagnosed, if any, in the words of the diagnosis.
    pub serious_illness: Option<String>,
    pub labour_capacity: LabourCapacity,
    pub self_care: SelfCare,
    /// Holds a residence permit (居住证) of this place.
    pub residence_permit: bool,
}

impl Person {
    /// Checks the rules that tie the fields together; the parts are valid by their types.
    pub fn validate(&self) -> Result<(), PersonError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(PersonError::EmptyName);
        }
        if name.chars().count() > 50 {
            return Err(PersonError::LongName);
        }
        if let Some(since) = self.residence_since {
            let birth = self.id_number.birth_date();
            if since < birth {
                return Err(PersonError::ResidenceBeforeBirth { since, birth });
            }
        }
        Ok(())
    }

    pub fn sex(&self) -> Sex {
        self.id_number.sex()
    }

    pub fn birth_date(&self) -> NaiveDate {
        self.id_number.birth_date()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_checked_and_masked() {
        let p = Phone::parse("138 1234 5678").unwrap();
        assert_eq!(p.expose(), "13812345678");
        assert_eq!(p.to_string(), "138****5678");
        assert!(Phone::parse("0512-58681234").is_ok());
        assert!(Phone::parse("12345").is_err());
        assert!(Phone::parse("2381234567a").is_err());
    }

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
    fn excluded_incomes_do_not_count() {
        assert!(IncomeKind::Wage.counts());
        assert!(!IncomeKind::SpecialCare.counts());
        assert!(!IncomeKind::VeteranSubsidy.counts());
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
