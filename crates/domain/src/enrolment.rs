//! Those in assistance (在册): an enrolment in a recurring program and the changes to it. The
//! enrolment's state in any month is derived from its events, never stored over, so "who was on
//! 低保 in March" is answered from the same history that shows how each household got there.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::person::coded_enum;
use crate::Money;

coded_enum! {
    /// Why an enrolment ends (应退尽退).
    ExitCause {
        /// Per-capita income above the standard, after the gradual exit.
        IncomeAboveStandard => "income_above_standard", "收入超过标准（渐退期满）";
        Assets => "assets", "财产超过规定";
        Death => "death", "死亡";
        MovedAway => "moved_away", "迁出本地";
        RefusedReview => "refused_review", "无正当理由拒不配合复核";
        AskedToLeave => "asked_to_leave", "本人申请退出";
    }
}

coded_enum! {
    /// Where an enrolment stands before it pays: the township reviews (审核), then the county
    /// bureau, or the township where the power is delegated, confirms (确认).
    EnrolmentStage {
        PendingReview => "pending_review", "待审核";
        PendingConfirmation => "pending_confirmation", "待确认";
        Confirmed => "confirmed", "已确认";
        Refused => "refused", "未予确认";
    }
}

/// The first day of the month `date` falls in.
pub fn month_of(date: NaiveDate) -> NaiveDate {
    date.with_day(1).expect("every month has a first day")
}

pub fn add_months(month: NaiveDate, n: u32) -> NaiveDate {
    month_of(month)
        .checked_add_months(Months::new(n))
        .expect("dates stay in range")
}

/// The last day of the month `date` falls in.
pub fn month_end(date: NaiveDate) -> NaiveDate {
    add_months(date, 1).pred_opt().expect("dates stay in range")
}

/// Whole months from `from` to `to` (both firsts of months); negative when `to` is earlier.
pub fn months_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to.year() as i64 - from.year() as i64) * 12 + to.month() as i64 - from.month() as i64
}

/// One change to an enrolment, effective from a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EnrolmentChange {
    /// 纳入: paid from its month, for these members.
    Enrolled { amount_fen: i64, members: Vec<i64> },
    /// 调整金额: the monthly amount from this month.
    Adjusted { amount_fen: i64 },
    /// 增加保障人口.
    MemberAdded { person_id: i64 },
    /// 减少保障人口 (a death, a marriage out, a move).
    MemberRemoved { person_id: i64 },
    /// 暂停发放 (a review pending, whereabouts unknown).
    Suspended,
    /// 恢复发放.
    Resumed,
    /// 渐退: still paid for `months` months from this month, then ended.
    GradualExit { months: u32 },
    /// 退出: no payment from this month.
    Ended { cause: ExitCause },
}

impl EnrolmentChange {
    pub fn code(&self) -> &'static str {
        match self {
            EnrolmentChange::Enrolled { .. } => "enrolled",
            EnrolmentChange::Adjusted { .. } => "adjusted",
            EnrolmentChange::MemberAdded { .. } => "member_added",
            EnrolmentChange::MemberRemoved { .. } => "member_removed",
            EnrolmentChange::Suspended => "suspended",
            EnrolmentChange::Resumed => "resumed",
            EnrolmentChange::GradualExit { .. } => "gradual_exit",
            EnrolmentChange::Ended { .. } => "ended",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            EnrolmentChange::Enrolled { .. } => "纳入保障",
            EnrolmentChange::Adjusted { .. } => "调整金额",
            EnrolmentChange::MemberAdded { .. } => "增加保障人口",
            EnrolmentChange::MemberRemoved { .. } => "减少保障人口",
            EnrolmentChange::Suspended => "暂停发放",
            EnrolmentChange::Resumed => "恢复发放",
            EnrolmentChange::GradualExit { .. } => "开始渐退",
            EnrolmentChange::Ended { .. } => "退出保障",
        }
    }
}

/// A change as recorded: its effective month and order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatedChange {
    pub month: NaiveDate,
    pub change: EnrolmentChange,
}

coded_enum! {
    /// How an enrolment stands in a month.
    MonthStatus {
        NotYet => "not_yet", "尚未纳入";
        Paid => "paid", "正常发放";
        Suspended => "suspended", "暂停发放";
        GradualExit => "gradual_exit", "渐退期";
        Ended => "ended", "已退出";
    }
}

/// An enrolment in one month, derived from its changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthState {
    pub status: MonthStatus,
    /// What is paid this month (zero unless paid or in the gradual exit).
    pub amount: Money,
    /// The monthly amount in force, paid or not.
    pub amount_in_force: Money,
    pub members: Vec<i64>,
    /// In the gradual exit: months paid so far in it (this one included) and months left.
    pub exit_months_paid: u32,
    pub exit_months_left: u32,
    pub exit_cause: Option<ExitCause>,
    /// The month the enrolment ended from, when it has.
    pub ended_from: Option<NaiveDate>,
}

/// The enrolment's state in `month`. Changes apply in their months' order (and, within a month,
/// the order they were recorded); a gradual exit that has run its months ends the enrolment
/// with the cause "income above the standard".
pub fn state_in(changes: &[DatedChange], month: NaiveDate) -> MonthState {
    let month = month_of(month);
    let mut ordered: Vec<&DatedChange> = changes.iter().collect();
    ordered.sort_by_key(|c| c.month);
    let mut s = MonthState {
        status: MonthStatus::NotYet,
        amount: Money::ZERO,
        amount_in_force: Money::ZERO,
        members: Vec::new(),
        exit_months_paid: 0,
        exit_months_left: 0,
        exit_cause: None,
        ended_from: None,
    };
    let mut exit: Option<(NaiveDate, u32)> = None;
    let mut suspended = false;
    for c in ordered.iter().filter(|c| c.month <= month) {
        if s.status == MonthStatus::Ended {
            break;
        }
        // A gradual exit that ran out before this change ended the enrolment first.
        if let Some((from, n)) = exit {
            let end = add_months(from, n);
            if end <= c.month {
                s.status = MonthStatus::Ended;
                s.exit_cause = Some(ExitCause::IncomeAboveStandard);
                s.ended_from = Some(end);
                break;
            }
        }
        match &c.change {
            EnrolmentChange::Enrolled {
                amount_fen,
                members,
            } => {
                s.status = MonthStatus::Paid;
                s.amount_in_force = Money::from_fen(*amount_fen);
                s.members = members.clone();
            }
            EnrolmentChange::Adjusted { amount_fen } => {
                s.amount_in_force = Money::from_fen(*amount_fen)
            }
            EnrolmentChange::MemberAdded { person_id } => {
                if !s.members.contains(person_id) {
                    s.members.push(*person_id)
                }
            }
            EnrolmentChange::MemberRemoved { person_id } => s.members.retain(|m| m != person_id),
            EnrolmentChange::Suspended => suspended = true,
            EnrolmentChange::Resumed => suspended = false,
            EnrolmentChange::GradualExit { months } => exit = Some((c.month, *months)),
            EnrolmentChange::Ended { cause } => {
                s.status = MonthStatus::Ended;
                s.exit_cause = Some(*cause);
                s.ended_from = Some(c.month);
            }
        }
    }
    if s.status == MonthStatus::Ended || s.status == MonthStatus::NotYet {
        return s;
    }
    if let Some((from, n)) = exit {
        let paid = months_between(from, month) + 1;
        if paid > n as i64 {
            s.status = MonthStatus::Ended;
            s.exit_cause = Some(ExitCause::IncomeAboveStandard);
            s.ended_from = Some(add_months(from, n));
            return s;
        }
        s.exit_months_paid = paid as u32;
        s.exit_months_left = n - paid as u32;
    }
    s.status = if suspended {
        MonthStatus::Suspended
    } else if exit.is_some() {
        MonthStatus::GradualExit
    } else {
        MonthStatus::Paid
    };
    if !suspended {
        s.amount = s.amount_in_force;
    }
    s
}

/// Why a change cannot be recorded on an enrolment with these changes: the field and the reason.
pub fn refuse_change(changes: &[DatedChange], new: &DatedChange) -> Option<(&'static str, String)> {
    let start = changes
        .iter()
        .filter(|c| matches!(c.change, EnrolmentChange::Enrolled { .. }))
        .map(|c| c.month)
        .min();
    let Some(start) = start else {
        return Some(("month", "该保障尚未确认纳入，不能变更".into()));
    };
    if new.month < start {
        return Some((
            "month",
            format!(
                "生效月份{}早于纳入保障的月份{}",
                new.month.format("%Y-%m"),
                start.format("%Y-%m")
            ),
        ));
    }
    if let Some(last) = changes.iter().map(|c| c.month).max() {
        if new.month < last {
            return Some((
                "month",
                format!(
                    "生效月份{}早于最近一次变更的月份{}：历史记录不改写，请从之后的月份起变更",
                    new.month.format("%Y-%m"),
                    last.format("%Y-%m")
                ),
            ));
        }
    }
    let state = state_in(changes, new.month);
    if state.status == MonthStatus::Ended {
        return Some(("month", "该保障在这个月份已经退出".into()));
    }
    match &new.change {
        EnrolmentChange::Enrolled { .. } => Some(("kind", "已经纳入保障".into())),
        EnrolmentChange::Adjusted { amount_fen } if *amount_fen <= 0 => Some((
            "amount_fen",
            "调整后的金额应大于零；不再保障请办理退出".into(),
        )),
        EnrolmentChange::MemberAdded { person_id } if state.members.contains(person_id) => {
            Some(("person_id", "该成员已在保障人口中".into()))
        }
        EnrolmentChange::MemberRemoved { person_id } if !state.members.contains(person_id) => {
            Some(("person_id", "该成员不在保障人口中".into()))
        }
        EnrolmentChange::Suspended if state.status == MonthStatus::Suspended => {
            Some(("kind", "已暂停发放".into()))
        }
        EnrolmentChange::Resumed if state.status != MonthStatus::Suspended => {
            Some(("kind", "未暂停发放，无需恢复".into()))
        }
        EnrolmentChange::GradualExit { months } if *months == 0 || *months > 24 => {
            Some(("months", "渐退期应为1至24个月".into()))
        }
        EnrolmentChange::GradualExit { .. } if state.status == MonthStatus::GradualExit => {
            Some(("kind", "已在渐退期".into()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(y: i32, mo: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, mo, 1).unwrap()
    }

    fn at(month: NaiveDate, change: EnrolmentChange) -> DatedChange {
        DatedChange { month, change }
    }

    fn enrolled() -> Vec<DatedChange> {
        vec![at(
            m(2025, 3),
            EnrolmentChange::Enrolled {
                amount_fen: 150_000,
                members: vec![1, 2, 3],
            },
        )]
    }

    #[test]
    fn the_state_of_any_month_comes_from_the_changes() {
        let mut c = enrolled();
        c.push(at(
            m(2025, 9),
            EnrolmentChange::Adjusted {
                amount_fen: 120_000,
            },
        ));
        c.push(at(
            m(2026, 1),
            EnrolmentChange::MemberRemoved { person_id: 3 },
        ));
        assert_eq!(state_in(&c, m(2025, 2)).status, MonthStatus::NotYet);
        let march = state_in(&c, m(2025, 3));
        assert_eq!(
            (march.status, march.amount.fen()),
            (MonthStatus::Paid, 150_000)
        );
        assert_eq!(state_in(&c, m(2025, 8)).amount.fen(), 150_000);
        assert_eq!(state_in(&c, m(2025, 9)).amount.fen(), 120_000);
        assert_eq!(state_in(&c, m(2026, 1)).members, vec![1, 2]);
        assert_eq!(state_in(&c, m(2025, 12)).members, vec![1, 2, 3]);
    }

    #[test]
    fn a_gradual_exit_pays_its_months_then_ends() {
        let mut c = enrolled();
        c.push(at(m(2026, 1), EnrolmentChange::GradualExit { months: 6 }));
        let first = state_in(&c, m(2026, 1));
        assert_eq!(
            (first.status, first.exit_months_paid, first.exit_months_left),
            (MonthStatus::GradualExit, 1, 5)
        );
        let sixth = state_in(&c, m(2026, 6));
        assert_eq!(
            (sixth.status, sixth.exit_months_left),
            (MonthStatus::GradualExit, 0)
        );
        assert_eq!(sixth.amount.fen(), 150_000);
        let after = state_in(&c, m(2026, 7));
        assert_eq!(after.status, MonthStatus::Ended);
        assert_eq!(after.exit_cause, Some(ExitCause::IncomeAboveStandard));
        assert_eq!(after.ended_from, Some(m(2026, 7)));
        assert_eq!(after.amount, Money::ZERO);
    }

    #[test]
    fn suspension_pays_nothing_until_resumed() {
        let mut c = enrolled();
        c.push(at(m(2025, 5), EnrolmentChange::Suspended));
        c.push(at(m(2025, 7), EnrolmentChange::Resumed));
        assert_eq!(state_in(&c, m(2025, 6)).amount, Money::ZERO);
        assert_eq!(state_in(&c, m(2025, 6)).status, MonthStatus::Suspended);
        assert_eq!(state_in(&c, m(2025, 7)).amount.fen(), 150_000);
    }

    #[test]
    fn changes_before_the_start_or_after_the_end_are_refused() {
        let mut c = enrolled();
        let early = at(m(2025, 1), EnrolmentChange::Suspended);
        assert_eq!(refuse_change(&c, &early).unwrap().0, "month");
        c.push(at(
            m(2025, 10),
            EnrolmentChange::Ended {
                cause: ExitCause::Death,
            },
        ));
        let late = at(m(2025, 11), EnrolmentChange::Adjusted { amount_fen: 1 });
        assert!(refuse_change(&c, &late).unwrap().1.contains("已经退出"));
        let back = at(m(2025, 6), EnrolmentChange::Adjusted { amount_fen: 1 });
        assert!(refuse_change(&c, &back).unwrap().1.contains("不改写"));
        assert!(refuse_change(&enrolled(), &at(m(2025, 4), EnrolmentChange::Resumed)).is_some());
        assert!(refuse_change(
            &enrolled(),
            &at(m(2025, 4), EnrolmentChange::MemberRemoved { person_id: 2 })
        )
        .is_none());
    }
}
