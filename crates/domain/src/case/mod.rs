//! A request for help and its handling across departments (一门受理、协同办理, seed 002 §三(六)).
//!
//! A case is the append-only list of what happened to it ([`CaseEvent`]); its state is never
//! stored as truth but folded from the events ([`CaseState`]). Every step is checked against the
//! state before it is recorded, so an impossible step (feedback before acceptance, closing with
//! open items, a department acting on another's item) is refused with a [`CaseError`].

mod deadline;
mod state;

pub use deadline::{case_deadlines, china_date, item_deadlines, Deadline, DeadlineKind};
pub use state::{CaseState, CaseStatus, ItemStage, ItemState, Referral, Supervision};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::person::coded_enum;
use crate::Money;

coded_enum! {
    /// How the request reached the platform (seed 002 §三(六)1, seed 003 §三(五), seed 004 §20).
    Channel {
        Window => "window", "窗口申请";
        Online => "online", "网上申请";
        VillageAssistant => "village_assistant", "村（社区）代为申请";
        Hotline => "hotline", "12345热线";
        GridWorker => "grid_worker", "网格员发现";
        Proactive => "proactive", "数据比对主动发现";
    }
}

coded_enum! {
    /// 致困原因.
    Cause {
        Illness => "illness", "因病";
        Disability => "disability", "因残";
        Disaster => "disaster", "因灾";
        Unemployment => "unemployment", "失业";
        Education => "education", "因学";
        Accident => "accident", "意外事故";
        Other => "other", "其他";
    }
}

/// The whole-household needs assessment recorded at registration (综合评估, seed 004 §21).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NeedsAssessment {
    /// Household structure in words: who lives there, who depends on whom.
    pub structure: String,
    pub health: String,
    pub labour_capacity: String,
    /// Rigid expenditure over the last 12 months (illness, education, disaster), in fen.
    pub rigid_expenditure: Money,
    pub notes: String,
}

/// What the department decided when it completed an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Granted money: monthly or once.
    Amount {
        amount: Money,
        monthly: bool,
        note: String,
    },
    /// Granted a service (a job placement, legal aid, a housing subsidy in kind).
    Service {
        description: String,
    },
    Refused {
        reason: String,
    },
}

impl Outcome {
    pub fn is_granted(&self) -> bool {
        !matches!(self, Outcome::Refused { .. })
    }
}

/// One thing that happened to a case. Item codes are catalogue codes (`dibao`, `medical_assistance`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CaseEvent {
    /// The application: who, which household, the hardship in the applicant's words, the causes,
    /// and the items asked for.
    Filed {
        channel: Channel,
        applicant_person_id: i64,
        household_id: i64,
        hardship: String,
        causes: Vec<Cause>,
        items: Vec<String>,
    },
    /// The window accepts an item and issues the acceptance form (申请受理单).
    ItemAccepted {
        item: String,
        form_no: String,
    },
    /// The one-time notice of everything missing (一次性告知), for every item still waiting.
    MaterialsMissing {
        missing: Vec<MissingMaterials>,
    },
    /// The window explains why an item does not apply.
    ItemRefused {
        item: String,
        explanation: String,
    },
    /// The applicant withdrew an item (or never brought the missing materials).
    ItemWithdrawn {
        item: String,
        reason: String,
    },
    NeedsAssessed {
        assessment: NeedsAssessment,
    },
    /// The window suggests an item the applicant did not ask for; it joins the request.
    ItemSuggested {
        item: String,
        reason: String,
    },
    /// The accepted item is sent to its department (申请转办单).
    Transferred {
        item: String,
        department: String,
        /// Why the transfer came after its working-day limit.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        late_reason: Option<String>,
    },
    /// The department's liaison takes the transfer in.
    TransferReceived {
        item: String,
    },
    /// The department finds the applicant not eligible, with the written reason.
    DepartmentRefused {
        item: String,
        reason: String,
    },
    /// The department finds the applicant eligible on initial verification.
    InitialCheckDone {
        item: String,
        note: String,
    },
    DepartmentCompleted {
        item: String,
        outcome: Outcome,
    },
    /// The department (or the window relaying it) reports the result.
    FeedbackGiven {
        item: String,
        note: String,
    },
    Referred {
        organisation_id: i64,
        organisation_name: String,
        need: String,
    },
    ReferralAnswered {
        organisation_id: i64,
        accepted: bool,
        answer: String,
    },
    /// The window gives the applicant the combined result; the case closes.
    Closed {
        summary: String,
    },
    Reopened {
        reason: String,
    },
    /// 督办: a supervisor asks the responsible person to account for an overdue step.
    SupervisionNoted {
        number: u32,
        item: Option<String>,
        note: String,
    },
    SupervisionAnswered {
        number: u32,
        answer: String,
    },
}

coded_enum! {
    /// The kinds of [`CaseEvent`]: the code stored beside each event, the label people read.
    EventKind {
        Filed => "filed", "提交申请";
        ItemAccepted => "item_accepted", "受理";
        MaterialsMissing => "materials_missing", "一次性告知补充材料";
        ItemRefused => "item_refused", "告知不符合条件";
        ItemWithdrawn => "item_withdrawn", "撤回";
        NeedsAssessed => "needs_assessed", "综合评估";
        ItemSuggested => "item_suggested", "建议增加事项";
        Transferred => "transferred", "转办";
        TransferReceived => "transfer_received", "部门接收";
        DepartmentRefused => "department_refused", "部门认定不符合";
        InitialCheckDone => "initial_check_done", "初核符合";
        DepartmentCompleted => "department_completed", "办结";
        FeedbackGiven => "feedback_given", "反馈结果";
        Referred => "referred", "转介";
        ReferralAnswered => "referral_answered", "转介答复";
        Closed => "closed", "结案";
        Reopened => "reopened", "重新开启";
        SupervisionNoted => "supervision_noted", "督办";
        SupervisionAnswered => "supervision_answered", "督办答复";
    }
}

impl CaseEvent {
    /// Which kind of event this is; its code equals the event's serde tag.
    pub fn kind(&self) -> EventKind {
        match self {
            CaseEvent::Filed { .. } => EventKind::Filed,
            CaseEvent::ItemAccepted { .. } => EventKind::ItemAccepted,
            CaseEvent::MaterialsMissing { .. } => EventKind::MaterialsMissing,
            CaseEvent::ItemRefused { .. } => EventKind::ItemRefused,
            CaseEvent::ItemWithdrawn { .. } => EventKind::ItemWithdrawn,
            CaseEvent::NeedsAssessed { .. } => EventKind::NeedsAssessed,
            CaseEvent::ItemSuggested { .. } => EventKind::ItemSuggested,
            CaseEvent::Transferred { .. } => EventKind::Transferred,
            CaseEvent::TransferReceived { .. } => EventKind::TransferReceived,
            CaseEvent::DepartmentRefused { .. } => EventKind::DepartmentRefused,
            CaseEvent::InitialCheckDone { .. } => EventKind::InitialCheckDone,
            CaseEvent::DepartmentCompleted { .. } => EventKind::DepartmentCompleted,
            CaseEvent::FeedbackGiven { .. } => EventKind::FeedbackGiven,
            CaseEvent::Referred { .. } => EventKind::Referred,
            CaseEvent::ReferralAnswered { .. } => EventKind::ReferralAnswered,
            CaseEvent::Closed { .. } => EventKind::Closed,
            CaseEvent::Reopened { .. } => EventKind::Reopened,
            CaseEvent::SupervisionNoted { .. } => EventKind::SupervisionNoted,
            CaseEvent::SupervisionAnswered { .. } => EventKind::SupervisionAnswered,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingMaterials {
    pub item: String,
    pub materials: Vec<String>,
}

/// Who recorded an event, when, and why: the envelope every stored event carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    pub at: DateTime<Utc>,
    pub actor: String,
    /// The department the actor acted for, when a liaison.
    pub department: Option<String>,
    pub event: CaseEvent,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CaseError {
    #[error("案件已结案，如需继续办理请先重新开启")]
    Closed,
    #[error("案件尚未结案，无需重新开启")]
    NotClosed,
    #[error("本案未申请事项“{0}”")]
    UnknownItem(String),
    #[error("事项“{0}”已在申请中")]
    DuplicateItem(String),
    #[error("事项“{item}”当前为“{stage}”，不能{action}")]
    WrongStage {
        item: String,
        stage: &'static str,
        action: &'static str,
    },
    #[error("事项“{0}”不属于您的部门")]
    OtherDepartment(String),
    #[error("仍有事项未办结（{0}），不能结案")]
    OpenItems(String),
    #[error("申请至少应包含一个救助事项")]
    NoItems,
    #[error("申请须先受理登记")]
    NotFiled,
    #[error("已登记，不能重复提交申请")]
    AlreadyFiled,
    #[error("所有待补材料的事项都须列入一次性告知（缺少：{0}）")]
    IncompleteNotice(String),
    #[error("未找到第{0}号督办")]
    UnknownSupervision(u32),
    #[error("第{0}号督办已答复")]
    SupervisionAnswered(u32),
    #[error("该机构未收到本案转介")]
    UnknownReferral,
    #[error("{0}")]
    Missing(&'static str),
}

impl CaseError {
    /// The same refusal with item and department codes replaced by their names, as people read
    /// it: “仍有事项未办结（临时救助），不能结案”.
    pub fn named(self, name: impl Fn(&str) -> String) -> CaseError {
        let list = |codes: String| codes.split('、').map(&name).collect::<Vec<_>>().join("、");
        match self {
            CaseError::UnknownItem(c) => CaseError::UnknownItem(name(&c)),
            CaseError::DuplicateItem(c) => CaseError::DuplicateItem(name(&c)),
            CaseError::WrongStage {
                item,
                stage,
                action,
            } => CaseError::WrongStage {
                item: name(&item),
                stage,
                action,
            },
            CaseError::OtherDepartment(c) => CaseError::OtherDepartment(name(&c)),
            CaseError::OpenItems(c) => CaseError::OpenItems(list(c)),
            CaseError::IncompleteNotice(c) => CaseError::IncompleteNotice(list(c)),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Money, WorkCalendar};
    use chrono::{NaiveDate, TimeZone};

    /// An instant given in China time.
    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        chrono::FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .unwrap()
            .to_utc()
    }

    fn rec(when: DateTime<Utc>, dept: Option<&str>, event: CaseEvent) -> Recorded {
        Recorded {
            at: when,
            actor: "tester".into(),
            department: dept.map(str::to_string),
            event,
        }
    }

    fn filed(items: &[&str]) -> Recorded {
        rec(
            at(2025, 9, 30, 9),
            None,
            CaseEvent::Filed {
                channel: Channel::Window,
                applicant_person_id: 7,
                household_id: 3,
                hardship: "丈夫患尿毒症，每周透析三次，家中无其他收入".into(),
                causes: vec![Cause::Illness],
                items: items.iter().map(|s| s.to_string()).collect(),
            },
        )
    }

    #[test]
    fn each_event_kind_code_is_the_stored_tag() {
        let e = CaseEvent::SupervisionNoted {
            number: 1,
            item: None,
            note: "请说明".into(),
        };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["type"], e.kind().code());
        assert_eq!(e.kind().label(), "督办");
        assert_eq!(EventKind::from_code("supervision_noted"), Some(e.kind()));
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_whole_journey_across_national_day() {
        let cal = WorkCalendar::official();
        let events = vec![
            filed(&["dibao", "medical_assistance"]),
            rec(
                at(2025, 9, 30, 10),
                None,
                CaseEvent::ItemAccepted {
                    item: "dibao".into(),
                    form_no: "SL20250930-0001".into(),
                },
            ),
            rec(
                at(2025, 9, 30, 10),
                None,
                CaseEvent::MaterialsMissing {
                    missing: vec![MissingMaterials {
                        item: "medical_assistance".into(),
                        materials: vec!["住院费用结算单及发票".into()],
                    }],
                },
            ),
            // Accepted Tuesday 09-30; the holiday runs 10-01..10-08, so transfer is due Thursday 10-09.
            rec(
                at(2025, 10, 9, 9),
                None,
                CaseEvent::Transferred {
                    item: "dibao".into(),
                    department: "civil_affairs".into(),
                    late_reason: None,
                },
            ),
            rec(
                at(2025, 10, 9, 14),
                Some("civil_affairs"),
                CaseEvent::TransferReceived {
                    item: "dibao".into(),
                },
            ),
            // Six working days from 10-09 count the adjusted Saturday 10-11: due 10-16.
            rec(
                at(2025, 10, 16, 16),
                Some("civil_affairs"),
                CaseEvent::InitialCheckDone {
                    item: "dibao".into(),
                    note: "初核符合".into(),
                },
            ),
            rec(
                at(2025, 10, 20, 10),
                Some("civil_affairs"),
                CaseEvent::DepartmentCompleted {
                    item: "dibao".into(),
                    outcome: Outcome::Amount {
                        amount: Money::from_yuan(1_280),
                        monthly: true,
                        note: "按差额发放".into(),
                    },
                },
            ),
            rec(
                at(2025, 10, 22, 10),
                Some("civil_affairs"),
                CaseEvent::FeedbackGiven {
                    item: "dibao".into(),
                    note: "已书面告知".into(),
                },
            ),
            rec(
                at(2025, 10, 22, 11),
                None,
                CaseEvent::ItemWithdrawn {
                    item: "medical_assistance".into(),
                    reason: "申请人未补齐材料".into(),
                },
            ),
            rec(
                at(2025, 10, 23, 9),
                None,
                CaseEvent::Closed {
                    summary: "低保获批每月1,280元".into(),
                },
            ),
        ];
        let state = CaseState::fold(&events).unwrap();
        assert!(state.is_closed());
        let dibao = state.item("dibao").unwrap();
        assert_eq!(dibao.stage, ItemStage::FedBack);
        let ds = case_deadlines(&state, |_| 30, &cal, d(2025, 10, 23));
        let get = |k| {
            ds.iter()
                .find(|x| x.item == "dibao" && x.kind == k)
                .unwrap()
        };
        assert_eq!(get(DeadlineKind::Transfer).due.date, d(2025, 10, 9));
        assert!(!get(DeadlineKind::Transfer).late);
        assert_eq!(get(DeadlineKind::InitialCheck).due.date, d(2025, 10, 16));
        assert!(!get(DeadlineKind::InitialCheck).late);
        // Feedback two working days after completion (10-20 → due 10-21, given 10-22): late.
        let fb = get(DeadlineKind::Feedback);
        assert_eq!(
            (fb.due.date, fb.done, fb.late),
            (d(2025, 10, 21), Some(d(2025, 10, 22)), true)
        );
        // Thirty working days from 09-30, skipping the holiday and counting 10-11.
        assert_eq!(
            get(DeadlineKind::Completion).due.date,
            cal.add_working_days(d(2025, 9, 30), 30).date
        );
        // Reopened with a reason, the case can take new steps again.
        let mut s = state.clone();
        s.apply(&rec(
            at(2025, 11, 3, 9),
            None,
            CaseEvent::Reopened {
                reason: "申请人补交医疗票据".into(),
            },
        ))
        .unwrap();
        assert!(!s.is_closed());
    }

    #[test]
    fn impossible_steps_are_refused() {
        let mut s = CaseState::fold(&[filed(&["dibao", "legal_aid"])]).unwrap();
        let now = at(2025, 9, 30, 11);
        let step =
            |s: &mut CaseState, dept: Option<&str>, e: CaseEvent| s.apply(&rec(now, dept, e));
        // Feedback, department steps and transfer before acceptance.
        assert!(matches!(
            step(
                &mut s,
                Some("civil_affairs"),
                CaseEvent::FeedbackGiven {
                    item: "dibao".into(),
                    note: String::new()
                }
            ),
            Err(CaseError::WrongStage { .. })
        ));
        assert!(matches!(
            step(
                &mut s,
                None,
                CaseEvent::Transferred {
                    item: "dibao".into(),
                    department: "civil_affairs".into(),
                    late_reason: None,
                }
            ),
            Err(CaseError::WrongStage { .. })
        ));
        // Closing with open items names them.
        assert_eq!(
            step(
                &mut s,
                None,
                CaseEvent::Closed {
                    summary: String::new()
                }
            ),
            Err(CaseError::OpenItems("dibao、legal_aid".into()))
        );
        let catalogue = crate::catalogue::Catalogue::seed();
        let named = CaseError::OpenItems("dibao、legal_aid".into()).named(|c| {
            catalogue
                .item(c)
                .map_or_else(|| c.to_string(), |i| i.name.clone())
        });
        assert_eq!(
            named.to_string(),
            "仍有事项未办结（最低生活保障、法律援助），不能结案"
        );
        // A notice that leaves out an item still waiting would mean telling the applicant twice.
        let partial = CaseEvent::MaterialsMissing {
            missing: vec![MissingMaterials {
                item: "dibao".into(),
                materials: vec!["户口簿".into()],
            }],
        };
        assert_eq!(
            step(&mut s, None, partial),
            Err(CaseError::IncompleteNotice("legal_aid".into()))
        );
        step(
            &mut s,
            None,
            CaseEvent::ItemAccepted {
                item: "dibao".into(),
                form_no: "SL1".into(),
            },
        )
        .unwrap();
        step(
            &mut s,
            None,
            CaseEvent::Transferred {
                item: "dibao".into(),
                department: "civil_affairs".into(),
                late_reason: None,
            },
        )
        .unwrap();
        // Another department cannot act on it; the owner takes it in once.
        assert_eq!(
            step(
                &mut s,
                Some("justice"),
                CaseEvent::TransferReceived {
                    item: "dibao".into()
                }
            ),
            Err(CaseError::OtherDepartment("dibao".into()))
        );
        step(
            &mut s,
            Some("civil_affairs"),
            CaseEvent::TransferReceived {
                item: "dibao".into(),
            },
        )
        .unwrap();
        assert!(matches!(
            step(
                &mut s,
                Some("civil_affairs"),
                CaseEvent::TransferReceived {
                    item: "dibao".into()
                }
            ),
            Err(CaseError::WrongStage { .. })
        ));
        // A refusal needs its written reason; an unknown item is named.
        assert!(matches!(
            step(
                &mut s,
                Some("civil_affairs"),
                CaseEvent::DepartmentRefused {
                    item: "dibao".into(),
                    reason: " ".into()
                }
            ),
            Err(CaseError::Missing(_))
        ));
        assert_eq!(
            step(
                &mut s,
                None,
                CaseEvent::ItemAccepted {
                    item: "housing_assistance".into(),
                    form_no: "SL2".into()
                }
            ),
            Err(CaseError::UnknownItem("housing_assistance".into()))
        );
        // Filing twice, and anything on a closed case.
        assert_eq!(
            step(&mut s, None, filed(&["dibao"]).event),
            Err(CaseError::AlreadyFiled)
        );
        step(
            &mut s,
            Some("civil_affairs"),
            CaseEvent::DepartmentRefused {
                item: "dibao".into(),
                reason: "家庭人均收入高于低保标准".into(),
            },
        )
        .unwrap();
        step(
            &mut s,
            None,
            CaseEvent::ItemRefused {
                item: "legal_aid".into(),
                explanation: "所涉事项不属于法律援助范围".into(),
            },
        )
        .unwrap();
        step(
            &mut s,
            None,
            CaseEvent::Closed {
                summary: "均不符合".into(),
            },
        )
        .unwrap();
        assert_eq!(
            step(
                &mut s,
                None,
                CaseEvent::NeedsAssessed {
                    assessment: NeedsAssessment::default()
                }
            ),
            Err(CaseError::Closed)
        );
        assert_eq!(
            step(
                &mut s,
                None,
                CaseEvent::Reopened {
                    reason: String::new()
                }
            ),
            Err(CaseError::Missing("请写明重新开启的理由"))
        );
    }

    #[test]
    fn a_department_refusal_counts_two_working_days() {
        let cal = WorkCalendar::official();
        let s = CaseState::fold(&[
            filed(&["employment_assistance"]),
            rec(
                at(2025, 9, 30, 10),
                None,
                CaseEvent::ItemAccepted {
                    item: "employment_assistance".into(),
                    form_no: "SL3".into(),
                },
            ),
            rec(
                at(2025, 9, 30, 15),
                None,
                CaseEvent::Transferred {
                    item: "employment_assistance".into(),
                    department: "hrss".into(),
                    late_reason: None,
                },
            ),
            rec(
                at(2025, 10, 9, 9),
                Some("hrss"),
                CaseEvent::TransferReceived {
                    item: "employment_assistance".into(),
                },
            ),
        ])
        .unwrap();
        // Transferred 09-30: while undecided, the 6-day initial check applies (10-09, 10-10,
        // the adjusted Saturday 10-11, 10-13, 10-14, 10-15).
        let open = case_deadlines(&s, |_| 15, &cal, d(2025, 10, 13));
        let check = open
            .iter()
            .find(|x| x.kind == DeadlineKind::InitialCheck)
            .unwrap();
        assert_eq!(check.due.date, d(2025, 10, 15));
        assert!(!check.late);
        // A refusal must have been written within 2 (10-09, 10-10): on 10-13 it is late.
        let mut refused = s.clone();
        refused
            .apply(&rec(
                at(2025, 10, 13, 9),
                Some("hrss"),
                CaseEvent::DepartmentRefused {
                    item: "employment_assistance".into(),
                    reason: "无就业意愿登记".into(),
                },
            ))
            .unwrap();
        let ds = case_deadlines(&refused, |_| 15, &cal, d(2025, 10, 13));
        let notice = ds
            .iter()
            .find(|x| x.kind == DeadlineKind::RefusalNotice)
            .unwrap();
        assert_eq!((notice.due.date, notice.late), (d(2025, 10, 10), true));
    }
}
