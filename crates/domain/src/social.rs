//! Social forces (seed 003 §三(三)2–3, seed 000 §三(三)1, seed 004 §17–19) and new citizens (seed
//! 000 §三(一)2): how a social-work project's money is shared between city and township, when the
//! spending on government-bought services nears its cap, what verified volunteer hours earn, and
//! which residence-permit holders temporary assistance and the accident insurance cover.

use chrono::NaiveDate;

use crate::person::coded_enum;
use crate::{age_between, Money};
use serde::{Deserialize, Serialize};

coded_enum! {
    /// A project of the social forces.
    ProjectKind {
        /// 慈善项目: a charity raises funds towards a target (e.g. 99公益日).
        Charity => "charity", "慈善项目";
        /// 社工项目: government-bought social work, funded city : township 3 : 7.
        SocialWork => "social_work", "社会工作服务项目";
    }
}

coded_enum! {
    /// What a published need asks for.
    NeedUnit {
        Yuan => "yuan", "元";
        Hours => "hours", "小时";
        Visits => "visits", "次";
        Items => "items", "件";
    }
}

coded_enum! {
    /// Kinds of service a social worker or volunteer logs.
    ServiceKind {
        Visit => "visit", "探访关爱";
        Housework => "housework", "家政服务";
        Tutoring => "tutoring", "学业辅导";
        Repair => "repair", "维修";
        Counselling => "counselling", "心理疏导";
        Escort => "escort", "陪同就医";
        Meals => "meals", "助餐";
        Other => "other", "其他";
    }
}

/// A social-work project's funds split city : township 3 : 7 (seed 000 §三(三)1): the city's
/// share rounded to the fen, the township's the rest, so the two add up to the whole.
pub fn social_work_split(total: Money) -> (Money, Money) {
    let city = total.mul_ratio(3, 10);
    (city, Money::from_fen(total.fen() - city.fen()))
}

/// Where the year's spending on government-bought services stands against its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CapStanding {
    Within,
    /// At or above `warn_percent` of the cap: a warning before it is exceeded.
    Near,
    Exceeded,
}

/// The cap is `cap_percent` of the year's special funds (seed 004 §19: 2%).
pub fn cap_of(special_funds: Money, cap_percent: i64) -> Money {
    Money::from_fen(special_funds.fen() * cap_percent / 100)
}

pub fn cap_standing(spent: Money, cap: Money, warn_percent: i64) -> CapStanding {
    if spent.fen() > cap.fen() {
        CapStanding::Exceeded
    } else if spent.fen() * 100 >= cap.fen() * warn_percent {
        CapStanding::Near
    } else {
        CapStanding::Within
    }
}

/// Points for verified service: whole points per hour, hours kept in tenths.
pub fn points_for(hours_tenths: i64, per_hour: i64) -> i64 {
    hours_tenths * per_hour / 10
}

/// A residence-permit holder living here at least `months` months by `on` is covered by
/// temporary assistance where the household registration is elsewhere (seed 000 §三(一)2).
pub fn covered_by_temporary(resident_since: Option<NaiveDate>, on: NaiveDate, months: u32) -> bool {
    resident_since
        .and_then(|d| d.checked_add_months(chrono::Months::new(months)))
        .is_some_and(|d| d <= on)
}

/// The accident insurance for new citizens: working, aged 16 to 60 and holding the permit at
/// least a year.
pub fn accident_insurance_eligible(
    birth: NaiveDate,
    permit_issued: Option<NaiveDate>,
    working: bool,
    on: NaiveDate,
) -> bool {
    let age = age_between(birth, on);
    working
        && (16..=60).contains(&age)
        && permit_issued
            .and_then(|d| d.checked_add_months(chrono::Months::new(12)))
            .is_some_and(|d| d <= on)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn social_work_funds_split_three_to_seven_to_the_fen() {
        let (city, town) = social_work_split(Money::from_fen(10_000_001));
        assert_eq!(city.fen(), 3_000_000);
        assert_eq!(town.fen(), 7_000_001);
        let (city, town) = social_work_split(Money::from_fen(20_000_000));
        assert_eq!((city.fen(), town.fen()), (6_000_000, 14_000_000));
    }

    #[test]
    fn the_cap_warns_before_it_is_exceeded() {
        let cap = cap_of(Money::from_fen(10_000_000_000), 2);
        assert_eq!(cap.fen(), 200_000_000);
        assert_eq!(
            cap_standing(Money::from_fen(170_000_000), cap, 90),
            CapStanding::Within
        );
        assert_eq!(
            cap_standing(Money::from_fen(180_000_000), cap, 90),
            CapStanding::Near
        );
        assert_eq!(
            cap_standing(Money::from_fen(200_000_000), cap, 90),
            CapStanding::Near
        );
        assert_eq!(
            cap_standing(Money::from_fen(200_000_001), cap, 90),
            CapStanding::Exceeded
        );
    }

    #[test]
    fn points_follow_verified_tenths_of_hours() {
        assert_eq!(points_for(25, 10), 25);
        assert_eq!(points_for(-25, 10), -25);
        assert_eq!(points_for(5, 1), 0);
    }

    #[test]
    fn new_citizens_are_covered_after_six_months_and_insured_after_a_year() {
        let on = d(2026, 12, 6);
        assert!(covered_by_temporary(Some(d(2026, 6, 6)), on, 6));
        assert!(!covered_by_temporary(Some(d(2026, 6, 7)), on, 6));
        assert!(!covered_by_temporary(None, on, 6));
        let birth = d(1990, 3, 1);
        assert!(accident_insurance_eligible(
            birth,
            Some(d(2025, 12, 6)),
            true,
            on
        ));
        assert!(!accident_insurance_eligible(
            birth,
            Some(d(2025, 12, 7)),
            true,
            on
        ));
        assert!(!accident_insurance_eligible(
            birth,
            Some(d(2020, 1, 1)),
            false,
            on
        ));
        assert!(
            !accident_insurance_eligible(d(1965, 12, 6), Some(d(2020, 1, 1)), true, on),
            "61"
        );
        assert!(
            accident_insurance_eligible(d(1966, 12, 6), Some(d(2020, 1, 1)), true, on),
            "60"
        );
        assert!(
            !accident_insurance_eligible(d(2010, 12, 7), Some(d(2020, 1, 1)), true, on),
            "15"
        );
    }
}
