//! A department's steps on an item transferred to it: take it in, refuse in writing or report
//! the initial check, complete it with an amount, a service or a refusal, report back. Money is
//! granted only on a recent verification report (逢救必核).

use jiuzhu_domain::case::{CaseEvent, Outcome};
use jiuzhu_domain::{Money, Role};
use jiuzhu_store::Tx;
use serde::{Deserialize, Serialize};

use super::{text, CaseView};
use crate::{Actor, Cases, Result, ServiceError};

/// The most one item can grant, monthly or once: 100万元. A larger figure is a typing error
/// (or an attack), never a decision.
pub const MAX_GRANT: Money = Money::from_fen(100_000_000);

/// A department's step on one item; `action` names the step and each step has exactly its
/// fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum DepartmentStep {
    /// 接收: the liaison takes the transfer in.
    Receive { item: String },
    /// 不符合条件: the department finds the applicant not eligible, with the written reason.
    Refuse {
        item: String,
        /// The written reason.
        #[serde(default)]
        note: String,
    },
    /// 初核符合: eligible on initial verification.
    InitialCheck {
        item: String,
        #[serde(default)]
        note: String,
    },
    /// 办结: the item is completed with money, a service or a refusal.
    Complete {
        item: String,
        outcome: Completion,
        /// The amount granted, in fen (granted only).
        #[serde(default)]
        amount_fen: Option<i64>,
        /// Paid every month rather than once (granted only).
        #[serde(default)]
        monthly: bool,
        /// A note on the grant, the service provided, or the reason for the refusal.
        #[serde(default)]
        note: String,
    },
    /// 反馈结果: the department reports the result.
    Feedback {
        item: String,
        #[serde(default)]
        note: String,
    },
}

/// How a department completed an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Completion {
    /// 给予救助金.
    Granted,
    /// 提供服务.
    Service,
    /// 不予救助.
    Refused,
}

impl DepartmentStep {
    /// What the liaison wrote with the step (empty for receiving a transfer).
    fn note(&self) -> &str {
        match self {
            DepartmentStep::Receive { .. } => "",
            DepartmentStep::Refuse { note, .. }
            | DepartmentStep::InitialCheck { note, .. }
            | DepartmentStep::Complete { note, .. }
            | DepartmentStep::Feedback { note, .. } => note.trim(),
        }
    }

    /// The catalogue code of the item the step is on.
    pub fn item(&self) -> &str {
        match self {
            DepartmentStep::Receive { item }
            | DepartmentStep::Refuse { item, .. }
            | DepartmentStep::InitialCheck { item, .. }
            | DepartmentStep::Complete { item, .. }
            | DepartmentStep::Feedback { item, .. } => item,
        }
    }

    /// The case event the step records, once its required words are there.
    fn event(&self) -> Result<CaseEvent> {
        let item = self.item().trim().to_string();
        Ok(match self {
            DepartmentStep::Receive { .. } => CaseEvent::TransferReceived { item },
            DepartmentStep::Refuse { note, .. } => CaseEvent::DepartmentRefused {
                item,
                reason: text("note", note, "不符合条件的书面理由")?,
            },
            DepartmentStep::InitialCheck { note, .. } => CaseEvent::InitialCheckDone {
                item,
                note: note.trim().to_string(),
            },
            DepartmentStep::Feedback { note, .. } => CaseEvent::FeedbackGiven {
                item,
                note: note.trim().to_string(),
            },
            DepartmentStep::Complete {
                outcome,
                amount_fen,
                monthly,
                note,
                ..
            } => {
                let outcome = match outcome {
                    Completion::Granted => {
                        let fen = amount_fen
                            .ok_or_else(|| ServiceError::invalid("amount_fen", "请填写救助金额"))?;
                        if !(1..=MAX_GRANT.fen()).contains(&fen) {
                            return Err(ServiceError::invalid(
                                "amount_fen",
                                format!("救助金额应在0.01元至{MAX_GRANT}元之间"),
                            ));
                        }
                        Outcome::Amount {
                            amount: Money::from_fen(fen),
                            monthly: *monthly,
                            note: note.trim().to_string(),
                        }
                    }
                    Completion::Service => Outcome::Service {
                        description: text("note", note, "提供的服务")?,
                    },
                    Completion::Refused => Outcome::Refused {
                        reason: text("note", note, "不予救助的理由")?,
                    },
                };
                CaseEvent::DepartmentCompleted { item, outcome }
            }
        })
    }
}

impl Cases<'_> {
    /// A step taken after its time limit says why: the note is where the liaison writes it.
    /// Receiving a transfer is exempt (it has no note, and the lateness is the transfer's).
    async fn require_late_reason(
        &self,
        tx: &mut jiuzhu_store::Tx,
        loaded: &super::Loaded,
        step: &DepartmentStep,
    ) -> Result<()> {
        if matches!(step, DepartmentStep::Receive { .. }) || !step.note().is_empty() {
            return Ok(());
        }
        self.refuse_late_step_without_reason(tx, loaded, step.item())
            .await
    }

    /// Refuses a step on `item` taken after its deadline with nothing said about why.
    pub(super) async fn refuse_late_step_without_reason(
        &self,
        tx: &mut jiuzhu_store::Tx,
        loaded: &super::Loaded,
        item: &str,
    ) -> Result<()> {
        let catalogue = self.catalogue_now(tx).await?;
        let limit = |code: &str| catalogue.item(code).map_or(30, |i| i.time_limit_days);
        let today = self.today();
        let calendar = self.calendar().current();
        let deadlines = jiuzhu_domain::case::case_deadlines(&loaded.state, limit, &calendar, today);
        if let Some(late) = deadlines
            .iter()
            .filter(|d| d.item == item && d.is_open() && d.due.date < today)
            .min_by_key(|d| d.due.date)
        {
            return Err(ServiceError::invalid(
                "note",
                format!(
                    "本环节已逾期（应于{}前完成）：请在说明中写明逾期原因",
                    late.due.date
                ),
            ));
        }
        Ok(())
    }

    /// A department's step on one of its items.
    pub async fn department_step(
        &self,
        actor: &Actor,
        case_id: i64,
        step: &DepartmentStep,
    ) -> Result<CaseView> {
        if actor.role != Role::DepartmentLiaison || actor.read_only {
            return Err(ServiceError::Forbidden);
        }
        let event = step.event()?;
        let mut tx = self.store.begin().await?;
        let mut loaded = self.load_case(&mut tx, actor, case_id).await?;
        self.require_late_reason(&mut tx, &loaded, step).await?;
        if let CaseEvent::DepartmentCompleted {
            item,
            outcome: Outcome::Amount { .. },
        } = &event
        {
            self.require_recent_report(&mut tx, &loaded.row.region_code, case_id, item)
                .await?;
        }
        let grant = match &event {
            CaseEvent::DepartmentCompleted {
                item,
                outcome:
                    Outcome::Amount {
                        amount,
                        monthly,
                        note,
                    },
            } => Some((item.clone(), *amount, *monthly, note.clone())),
            _ => None,
        };
        self.record(&mut tx, actor, &mut loaded, vec![event])
            .await?;
        // The decision is where the bureau's work begins: a recurring grant enrols the
        // household, a one-off one is kept as an award — in the grant's transaction.
        if let Some((item, amount, monthly, note)) = grant {
            self.on_grant(
                &mut tx,
                actor,
                case_id,
                loaded.row.household_id,
                loaded.row.applicant_person_id,
                &loaded.row.region_code,
                &item,
                amount,
                monthly,
                &note,
            )
            .await?;
        }
        tx.commit().await?;
        self.fresh_view(actor, case_id).await
    }

    /// 逢救必核: money is granted only on a verification report younger than the jurisdiction's
    /// `verification.max_age_days`. Emergency aid that is paid first and verified after is exempt.
    async fn require_recent_report(
        &self,
        tx: &mut Tx,
        region: &str,
        case_id: i64,
        item: &str,
    ) -> Result<()> {
        const PAID_FIRST: [&str; 2] = ["emergency_medical_aid", "disaster_relief"];
        if PAID_FIRST.contains(&item) {
            return Ok(());
        }
        let today = self.today();
        let days = self.count_param(region, "verification.max_age_days", today)?;
        let latest = tx.case_reports(case_id).await?.into_iter().next();
        let Some(latest) = latest else {
            return Err(ServiceError::invalid(
                "verification",
                "逢救必核：该申请尚无家庭经济状况核对报告，请先核对再作出救助决定",
            ));
        };
        let made = jiuzhu_domain::case::china_date(latest.created_at);
        if (today - made).num_days() > days {
            return Err(ServiceError::invalid(
                "verification",
                format!(
                    "逢救必核：最近的核对报告（第{}号，{made}）已超过{days}天，请重新核对后再作出救助决定",
                    latest.id
                ),
            ));
        }
        Ok(())
    }
}
