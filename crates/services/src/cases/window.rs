//! The window's steps after registration: transfer an item, withdraw it, relay a department's
//! result, refer the case to a social organisation and record its answer, close with the combined
//! result and reopen; and 督办, which a supervisor notes and the responsible person answers.

use jiuzhu_domain::case::CaseEvent;
use jiuzhu_domain::{Permission, Role};
use jiuzhu_store::Organisation;
use serde::{Deserialize, Serialize};

use super::{text, CaseView};
use crate::{Actor, Cases, Result, ServiceError};

/// A window step on a case; `action` names the step and each step has exactly its fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum WindowStep {
    /// 转办: send an accepted item to its department.
    Transfer {
        #[serde(default)]
        item: String,
        /// Why, when the transfer comes after its working-day limit (required then).
        #[serde(default)]
        note: String,
    },
    /// 撤回: the applicant withdraws an item.
    Withdraw {
        #[serde(default)]
        item: String,
        /// Why.
        #[serde(default)]
        note: String,
    },
    /// 反馈结果: the window relays a department's result.
    Feedback {
        #[serde(default)]
        item: String,
        #[serde(default)]
        note: String,
    },
    /// 结案: the combined result told to the applicant.
    Close {
        #[serde(default)]
        note: String,
    },
    /// 重新开启, with the reason.
    Reopen {
        #[serde(default)]
        note: String,
    },
    /// 转介: refer the case to a social organisation for a need.
    Refer {
        organisation_id: i64,
        /// The need referred.
        #[serde(default)]
        note: String,
    },
    /// 转介答复: the organisation's answer.
    ReferralAnswer {
        organisation_id: i64,
        #[serde(default)]
        accepted: bool,
        #[serde(default)]
        note: String,
    },
    /// 督办: a supervisor asks for an account of a step (of one item, or of the case).
    Supervise {
        #[serde(default)]
        item: Option<String>,
        #[serde(default)]
        note: String,
    },
    /// 督办答复: the answer to supervision note `number`.
    SupervisionAnswer {
        number: u32,
        #[serde(default)]
        note: String,
    },
}

fn item(code: &str) -> Result<String> {
    let code = code.trim();
    if code.is_empty() {
        return Err(ServiceError::invalid("item", "请选择事项"));
    }
    Ok(code.to_string())
}

impl Cases<'_> {
    /// A window step (or 督办 and its answer) on a case.
    pub async fn window_step(
        &self,
        actor: &Actor,
        case_id: i64,
        step: &WindowStep,
    ) -> Result<CaseView> {
        match step {
            WindowStep::Supervise { .. } => {
                if !matches!(
                    actor.role,
                    Role::Supervisor | Role::TownshipReviewer | Role::BureauAdmin
                ) || actor.read_only
                {
                    return Err(ServiceError::Forbidden);
                }
            }
            WindowStep::SupervisionAnswer { .. }
                if actor.role == Role::DepartmentLiaison && !actor.read_only => {}
            _ => actor.require(Permission::WritePeople)?,
        }
        let mut tx = self.store.begin().await?;
        let mut loaded = self.load_case(&mut tx, actor, case_id).await?;
        let event = match step {
            WindowStep::Transfer { item: code, note } => {
                let code = item(code)?;
                let catalogue = self.catalogue_now(&mut tx).await?;
                let department = catalogue
                    .item(&code)
                    .map(|i| i.department.clone())
                    .ok_or_else(|| ServiceError::invalid("item", "事项不存在"))?;
                let note = note.trim();
                if note.is_empty() {
                    self.refuse_late_step_without_reason(&mut tx, &loaded, &code)
                        .await?;
                }
                CaseEvent::Transferred {
                    item: code,
                    department,
                    late_reason: (!note.is_empty()).then(|| note.to_string()),
                }
            }
            WindowStep::Withdraw { item: code, note } => CaseEvent::ItemWithdrawn {
                item: item(code)?,
                reason: text("note", note, "撤回原因")?,
            },
            WindowStep::Feedback { item: code, note } => CaseEvent::FeedbackGiven {
                item: item(code)?,
                note: text("note", note, "反馈内容")?,
            },
            WindowStep::Close { note } => CaseEvent::Closed {
                summary: text("note", note, "告知申请人的综合办理结果")?,
            },
            WindowStep::Reopen { note } => CaseEvent::Reopened {
                reason: text("note", note, "重新开启的理由")?,
            },
            WindowStep::Refer {
                organisation_id,
                note,
            } => {
                let org: Organisation = tx
                    .organisation(*organisation_id)
                    .await?
                    .filter(|o| o.active)
                    .ok_or_else(|| ServiceError::invalid("organisation_id", "机构不存在"))?;
                CaseEvent::Referred {
                    organisation_id: *organisation_id,
                    organisation_name: org.name,
                    need: text("note", note, "转介需求")?,
                }
            }
            WindowStep::ReferralAnswer {
                organisation_id,
                accepted,
                note,
            } => CaseEvent::ReferralAnswered {
                organisation_id: *organisation_id,
                accepted: *accepted,
                answer: text("note", note, "机构答复")?,
            },
            WindowStep::Supervise { item, note } => CaseEvent::SupervisionNoted {
                number: loaded.state.supervisions.len() as u32 + 1,
                item: item
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
                note: text("note", note, "督办意见")?,
            },
            WindowStep::SupervisionAnswer { number, note } => CaseEvent::SupervisionAnswered {
                number: *number,
                answer: text("note", note, "督办答复")?,
            },
        };
        self.record(&mut tx, actor, &mut loaded, vec![event])
            .await?;
        tx.commit().await?;
        self.fresh_view(actor, case_id).await
    }
}
