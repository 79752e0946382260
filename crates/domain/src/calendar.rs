//! Working days on the official calendar (法定工作日).
//!
//! Weekends are off and Monday to Friday are working days, except where the State Council's
//! yearly notice says otherwise: public holidays are off, and some weekend days are official
//! workdays (调休). The notices are data (`data/holidays/`), loaded per year; a date in a year
//! with no published schedule is counted by the week alone and the result is marked provisional.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The schedules shipped with the platform (State Council notices for 2024–2026).
pub const BUILT_IN_SCHEDULES: [&str; 3] = [
    include_str!("../../../data/holidays/2024.json"),
    include_str!("../../../data/holidays/2025.json"),
    include_str!("../../../data/holidays/2026.json"),
];

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CalendarError {
    #[error("节假日安排文件无法解析：{0}")]
    Malformed(String),
    #[error("节假日安排文件中{date}不属于{year}年")]
    WrongYear { year: i32, date: NaiveDate },
    #[error("节假日安排文件中{0}重复出现")]
    Duplicate(NaiveDate),
    #[error("{0}是工作日，不能标为调休上班日；调休上班日只能是周末")]
    WorkdayOnWeekday(NaiveDate),
}

/// One year's official schedule: the days off that would otherwise be workdays,
/// and the weekend days that are workdays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearSchedule {
    pub year: i32,
    /// Documents the schedule comes from (the notice's address or number).
    pub papers: Vec<String>,
    /// Public holidays, by date, with their names (春节, 国庆节, ...).
    pub holidays: BTreeMap<NaiveDate, String>,
    /// Weekend days that are official workdays (调休上班).
    pub adjusted_workdays: BTreeMap<NaiveDate, String>,
}

/// The holiday-cn file format used by `data/holidays/`.
#[derive(Deserialize)]
struct HolidayCnFile {
    year: i32,
    #[serde(default)]
    papers: Vec<String>,
    days: Vec<HolidayCnDay>,
}

#[derive(Deserialize)]
struct HolidayCnDay {
    name: String,
    date: NaiveDate,
    #[serde(rename = "isOffDay")]
    is_off_day: bool,
}

impl YearSchedule {
    /// Reads a schedule in the holiday-cn JSON format (`{"year", "papers", "days": [{"name", "date", "isOffDay"}]}`).
    pub fn from_json(text: &str) -> Result<Self, CalendarError> {
        let file: HolidayCnFile =
            serde_json::from_str(text).map_err(|e| CalendarError::Malformed(e.to_string()))?;
        let mut schedule = YearSchedule {
            year: file.year,
            papers: file.papers,
            holidays: BTreeMap::new(),
            adjusted_workdays: BTreeMap::new(),
        };
        let mut seen = BTreeSet::new();
        for day in file.days {
            if day.date.year() != file.year {
                return Err(CalendarError::WrongYear {
                    year: file.year,
                    date: day.date,
                });
            }
            if !seen.insert(day.date) {
                return Err(CalendarError::Duplicate(day.date));
            }
            if day.is_off_day {
                schedule.holidays.insert(day.date, day.name);
            } else {
                if !is_weekend(day.date) {
                    return Err(CalendarError::WorkdayOnWeekday(day.date));
                }
                schedule.adjusted_workdays.insert(day.date, day.name);
            }
        }
        Ok(schedule)
    }
}

/// A date computed on the calendar; `provisional` when any day counted lies in a year whose
/// schedule is not loaded, so holidays there were not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarDate {
    pub date: NaiveDate,
    pub provisional: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    years: BTreeMap<i32, YearSchedule>,
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

impl WorkCalendar {
    pub fn new() -> Self {
        Self::default()
    }

    /// The calendar with the schedules shipped in `data/holidays/`.
    pub fn official() -> Self {
        let mut calendar = Self::new();
        for text in BUILT_IN_SCHEDULES {
            let schedule = YearSchedule::from_json(text).expect("built-in schedule is valid");
            calendar.load(schedule);
        }
        calendar
    }

    /// Adds or replaces one year's schedule.
    pub fn load(&mut self, schedule: YearSchedule) {
        self.years.insert(schedule.year, schedule);
    }

    pub fn years(&self) -> impl Iterator<Item = &YearSchedule> {
        self.years.values()
    }

    pub fn has_year(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// Whether `date` is a working day, and whether that answer is provisional.
    pub fn is_working_day(&self, date: NaiveDate) -> CalendarAnswer {
        match self.years.get(&date.year()) {
            Some(s) => {
                let working = if s.holidays.contains_key(&date) {
                    false
                } else if s.adjusted_workdays.contains_key(&date) {
                    true
                } else {
                    !is_weekend(date)
                };
                CalendarAnswer {
                    working,
                    provisional: false,
                }
            }
            None => CalendarAnswer {
                working: !is_weekend(date),
                provisional: true,
            },
        }
    }

    /// The name of the holiday or 调休 workday that falls on `date`, if any.
    pub fn day_name(&self, date: NaiveDate) -> Option<&str> {
        let s = self.years.get(&date.year())?;
        s.holidays
            .get(&date)
            .or_else(|| s.adjusted_workdays.get(&date))
            .map(String::as_str)
    }

    /// The date `n` working days after `date`: the day a time limit of `n` working days expires.
    /// The start day itself is not counted (a transfer due "within 1 working day" of a Friday
    /// acceptance is due on the next working day). `n == 0` gives `date` itself.
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> CalendarDate {
        let mut current = date;
        let mut provisional = false;
        let mut left = n;
        while left > 0 {
            current = current.succ_opt().expect("date in range");
            let answer = self.is_working_day(current);
            provisional |= answer.provisional;
            if answer.working {
                left -= 1;
            }
        }
        CalendarDate {
            date: current,
            provisional,
        }
    }

    /// Working days after `from` up to and including `to` (0 when `to` is not after `from`).
    /// A deadline is overdue when the working days elapsed exceed its limit.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut count = 0;
        let mut current = from;
        while current < to {
            current = current.succ_opt().expect("date in range");
            if self.is_working_day(current).working {
                count += 1;
            }
        }
        count
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarAnswer {
    pub working: bool,
    pub provisional: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn national_day_2025_is_skipped_and_the_adjusted_saturday_counts() {
        let cal = WorkCalendar::official();
        // 2025: 10-01..10-08 off; Sunday 09-28 and Saturday 10-11 are workdays.
        assert!(cal.is_working_day(d(2025, 9, 28)).working);
        assert!(!cal.is_working_day(d(2025, 10, 1)).working);
        assert!(cal.is_working_day(d(2025, 10, 11)).working);
        assert_eq!(cal.day_name(d(2025, 10, 11)), Some("国庆节、中秋节"));
        // Accepted Tuesday 09-30; one working day later is Thursday 10-09 (after the holiday).
        let due = cal.add_working_days(d(2025, 9, 30), 1);
        assert_eq!(
            due,
            CalendarDate {
                date: d(2025, 10, 9),
                provisional: false
            }
        );
        // Two working days after 10-09: 10-10 (Fri), then the adjusted Saturday 10-11.
        assert_eq!(
            cal.add_working_days(d(2025, 10, 9), 2).date,
            d(2025, 10, 11)
        );
        assert_eq!(cal.working_days_between(d(2025, 9, 30), d(2025, 10, 11)), 3);
    }

    #[test]
    fn spring_festival_2026() {
        let cal = WorkCalendar::official();
        // 2026-02-14 (Saturday) is a workday; 02-15 to 02-23 are off.
        assert!(cal.is_working_day(d(2026, 2, 14)).working);
        assert_eq!(cal.add_working_days(d(2026, 2, 13), 2).date, d(2026, 2, 24));
    }

    #[test]
    fn a_year_without_a_schedule_counts_weekends_only_and_says_so() {
        let cal = WorkCalendar::official();
        // 2027 is not published: 2026-12-31 (Thu) + 2 → Fri 2027-01-01 would be New Year's Day in
        // reality; by the week alone it is a working day, so the answer is provisional.
        let due = cal.add_working_days(d(2026, 12, 31), 2);
        assert_eq!(
            due,
            CalendarDate {
                date: d(2027, 1, 4),
                provisional: true
            }
        );
        assert!(!cal.add_working_days(d(2026, 12, 28), 3).provisional);
    }

    #[test]
    fn loading_a_year_replaces_the_week_rule() {
        let mut cal = WorkCalendar::official();
        let text = r#"{"year": 2027, "papers": ["国办发明电〔2026〕7号"], "days": [
            {"name": "元旦", "date": "2027-01-01", "isOffDay": true}]}"#;
        cal.load(YearSchedule::from_json(text).unwrap());
        assert_eq!(
            cal.add_working_days(d(2026, 12, 31), 2),
            CalendarDate {
                date: d(2027, 1, 5),
                provisional: false
            }
        );
    }

    #[test]
    fn malformed_schedules_are_refused() {
        let wrong_year =
            r#"{"year": 2027, "days": [{"name": "元旦", "date": "2026-01-01", "isOffDay": true}]}"#;
        assert!(matches!(
            YearSchedule::from_json(wrong_year),
            Err(CalendarError::WrongYear { .. })
        ));
        let weekday_work =
            r#"{"year": 2027, "days": [{"name": "x", "date": "2027-01-06", "isOffDay": false}]}"#;
        assert!(matches!(
            YearSchedule::from_json(weekday_work),
            Err(CalendarError::WorkdayOnWeekday(_))
        ));
        assert!(matches!(
            YearSchedule::from_json("{"),
            Err(CalendarError::Malformed(_))
        ));
    }

    proptest! {
        #[test]
        fn adding_working_days_never_lands_on_a_day_off(offset in 0i64..(365 * 4), n in 1u32..40) {
            let cal = WorkCalendar::official();
            let start = d(2024, 1, 1) + chrono::Duration::days(offset);
            let due = cal.add_working_days(start, n);
            prop_assert!(cal.is_working_day(due.date).working);
            prop_assert_eq!(cal.working_days_between(start, due.date), n);
        }
    }
}
