//! The time limits of collaborative handling (seed 002 §三(六)), counted in working days on the
//! official calendar from the day the step before was done (that day itself not counted):
//! transfer within 1 working day of acceptance; a department's written refusal within 2, or its
//! initial verification within 6, of the transfer; completion within the item's statutory limit of
//! acceptance; the result reported within 1 of completion.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::person::coded_enum;

use super::state::{CaseState, ItemState};
use crate::{CalendarDate, WorkCalendar};

pub const TRANSFER_DAYS: u32 = 1;
pub const REFUSAL_NOTICE_DAYS: u32 = 2;
pub const INITIAL_CHECK_DAYS: u32 = 6;
pub const FEEDBACK_DAYS: u32 = 1;

/// The calendar day of an instant in China Standard Time, the day every time limit counts from.
pub fn china_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .date_naive()
}

coded_enum! {
    /// The time-limited steps of collaborative handling.
    DeadlineKind {
        /// 转办: the window sends the accepted item to its department.
        Transfer => "transfer", "转办";
        /// 不符合条件书面告知: the department's written refusal.
        RefusalNotice => "refusal_notice", "不符合条件书面告知";
        /// 初核反馈: the department's initial verification.
        InitialCheck => "initial_check", "初核反馈";
        /// 办结: within the item's statutory limit.
        Completion => "completion", "办结";
        /// 结果反馈.
        Feedback => "feedback", "结果反馈";
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    pub item: String,
    pub kind: DeadlineKind,
    /// The day the limit counts from.
    pub start: NaiveDate,
    pub limit_days: u32,
    pub due: CalendarDate,
    pub done: Option<NaiveDate>,
    /// Done after the due date, or still not done after it.
    pub late: bool,
    /// Not done, and the due date is `today`.
    pub due_today: bool,
}

impl Deadline {
    fn new(
        item: &str,
        kind: DeadlineKind,
        start: NaiveDate,
        limit: u32,
        done: Option<NaiveDate>,
        cal: &WorkCalendar,
        today: NaiveDate,
    ) -> Self {
        let due = cal.add_working_days(start, limit);
        let late = match done {
            Some(d) => d > due.date,
            None => today > due.date,
        };
        Deadline {
            item: item.to_string(),
            kind,
            start,
            limit_days: limit,
            due,
            done,
            late,
            due_today: done.is_none() && today == due.date,
        }
    }

    pub fn is_open(&self) -> bool {
        self.done.is_none()
    }
}

fn day(at: Option<DateTime<Utc>>) -> Option<NaiveDate> {
    at.map(china_date)
}

/// Every time limit of one item that has started, done or not.
pub fn item_deadlines(
    i: &ItemState,
    statutory_days: u32,
    cal: &WorkCalendar,
    today: NaiveDate,
) -> Vec<Deadline> {
    let mut out = Vec::new();
    let Some(accepted) = day(i.accepted_at) else {
        return out;
    };
    out.push(Deadline::new(
        &i.item,
        DeadlineKind::Transfer,
        accepted,
        TRANSFER_DAYS,
        day(i.transferred_at),
        cal,
        today,
    ));
    if let Some(transferred) = day(i.transferred_at) {
        // Refused before any initial check: the 2-day written notice applies; otherwise the 6-day check.
        if i.refused_at.is_some() && i.initial_check_at.is_none() {
            out.push(Deadline::new(
                &i.item,
                DeadlineKind::RefusalNotice,
                transferred,
                REFUSAL_NOTICE_DAYS,
                day(i.refused_at),
                cal,
                today,
            ));
        } else {
            out.push(Deadline::new(
                &i.item,
                DeadlineKind::InitialCheck,
                transferred,
                INITIAL_CHECK_DAYS,
                day(i.initial_check_at),
                cal,
                today,
            ));
        }
    }
    if i.initial_check_at.is_some() {
        let done = day(i.completed_at).or(day(i.refused_at));
        out.push(Deadline::new(
            &i.item,
            DeadlineKind::Completion,
            accepted,
            statutory_days,
            done,
            cal,
            today,
        ));
    }
    if let Some(completed) = day(i.completed_at) {
        out.push(Deadline::new(
            &i.item,
            DeadlineKind::Feedback,
            completed,
            FEEDBACK_DAYS,
            day(i.fed_back_at),
            cal,
            today,
        ));
    }
    out
}

/// Every time limit of a case; `statutory_days` gives each item's limit from the catalogue.
pub fn case_deadlines(
    state: &CaseState,
    statutory_days: impl Fn(&str) -> u32,
    cal: &WorkCalendar,
    today: NaiveDate,
) -> Vec<Deadline> {
    state
        .items
        .iter()
        .flat_map(|i| item_deadlines(i, statutory_days(&i.item), cal, today))
        .collect()
}
