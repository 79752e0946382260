//! The state of a case, folded from its events. [`CaseState::apply`] is the only way state
//! changes: it checks the step against the state first and refuses an impossible one, so the
//! services record an event only after `apply` accepted it, and replaying stored events always
//! gives the same state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::person::coded_enum;

use super::{CaseError, CaseEvent, Cause, Channel, NeedsAssessment, Outcome, Recorded};

coded_enum! {
    /// Where one item of a case stands. The code is stored in the item projection and sent in the
    /// API; the label is what people read.
    ItemStage {
        /// Asked for; the window has not decided yet.
        Requested => "requested", "待受理";
        /// Told once what is missing; waiting for the applicant.
        MaterialsMissing => "materials_missing", "待补齐材料";
        /// Acceptance form issued; to be transferred within 1 working day.
        Accepted => "accepted", "已受理，待转办";
        /// Sent to the department; not yet taken in.
        Transferred => "transferred", "已转办，待部门接收";
        /// Taken in by the department; initial verification under way.
        Received => "received", "部门核查中";
        /// Eligible on initial verification; being completed.
        InitialChecked => "initial_checked", "初核符合，办理中";
        /// Completed by the department; result to be reported within 1 working day.
        Completed => "completed", "已办结，待反馈";
        /// Result reported: settled.
        FedBack => "fed_back", "已反馈结果";
        /// The window explained the item does not apply: settled.
        RefusedAtWindow => "refused_at_window", "窗口告知不符合";
        /// The department found the applicant not eligible and said why: settled.
        DepartmentRefused => "department_refused", "部门认定不符合";
        /// Withdrawn by the applicant: settled.
        Withdrawn => "withdrawn", "已撤回";
    }
}

impl ItemStage {
    /// Waiting for the window: to register or to transfer.
    pub const AT_WINDOW: &'static [ItemStage] = &[
        ItemStage::Requested,
        ItemStage::MaterialsMissing,
        ItemStage::Accepted,
    ];
    /// With the department, not yet reported back.
    pub const WITH_DEPARTMENT: &'static [ItemStage] = &[
        ItemStage::Transferred,
        ItemStage::Received,
        ItemStage::InitialChecked,
        ItemStage::Completed,
    ];

    /// Whether the item has its outcome and needs nothing more.
    pub fn is_settled(self) -> bool {
        matches!(
            self,
            ItemStage::FedBack
                | ItemStage::RefusedAtWindow
                | ItemStage::DepartmentRefused
                | ItemStage::Withdrawn
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemState {
    pub item: String,
    pub stage: ItemStage,
    /// Added at the window's suggestion rather than asked for.
    pub suggested: bool,
    pub form_no: Option<String>,
    /// The department it was transferred to.
    pub department: Option<String>,
    pub missing_materials: Vec<String>,
    pub window_explanation: Option<String>,
    pub department_reason: Option<String>,
    pub initial_check_note: Option<String>,
    pub outcome: Option<Outcome>,
    pub feedback_note: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub noticed_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub transferred_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub refused_at: Option<DateTime<Utc>>,
    pub initial_check_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub fed_back_at: Option<DateTime<Utc>>,
}

impl ItemState {
    fn new(item: &str, at: DateTime<Utc>, suggested: bool) -> Self {
        ItemState {
            item: item.to_string(),
            stage: ItemStage::Requested,
            suggested,
            form_no: None,
            department: None,
            missing_materials: Vec::new(),
            window_explanation: None,
            department_reason: None,
            initial_check_note: None,
            outcome: None,
            feedback_note: None,
            requested_at: at,
            noticed_at: None,
            accepted_at: None,
            transferred_at: None,
            received_at: None,
            refused_at: None,
            initial_check_at: None,
            completed_at: None,
            fed_back_at: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Referral {
    pub organisation_id: i64,
    pub organisation_name: String,
    pub need: String,
    pub referred_at: DateTime<Utc>,
    pub answer: Option<(bool, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Supervision {
    pub number: u32,
    pub item: Option<String>,
    pub note: String,
    pub by: String,
    pub at: DateTime<Utc>,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseState {
    pub filed_at: Option<DateTime<Utc>>,
    pub channel: Option<Channel>,
    pub applicant_person_id: i64,
    pub household_id: i64,
    pub hardship: String,
    pub causes: Vec<Cause>,
    pub status: CaseStatus,
    pub items: Vec<ItemState>,
    pub assessment: Option<NeedsAssessment>,
    pub referrals: Vec<Referral>,
    pub supervisions: Vec<Supervision>,
    pub closed_at: Option<DateTime<Utc>>,
    pub summary: Option<String>,
    pub reopen_reasons: Vec<String>,
}

impl Default for CaseState {
    fn default() -> Self {
        CaseState {
            filed_at: None,
            channel: None,
            applicant_person_id: 0,
            household_id: 0,
            hardship: String::new(),
            causes: Vec::new(),
            status: CaseStatus::Open,
            items: Vec::new(),
            assessment: None,
            referrals: Vec::new(),
            supervisions: Vec::new(),
            closed_at: None,
            summary: None,
            reopen_reasons: Vec::new(),
        }
    }
}

fn wrong(item: &ItemState, action: &'static str) -> CaseError {
    CaseError::WrongStage {
        item: item.item.clone(),
        stage: item.stage.label(),
        action,
    }
}

impl CaseState {
    /// The state after all `events`, or the first refusal (stored events never give one).
    pub fn fold<'a>(
        events: impl IntoIterator<Item = &'a Recorded>,
    ) -> Result<CaseState, CaseError> {
        let mut state = CaseState::default();
        for e in events {
            state.apply(e)?;
        }
        Ok(state)
    }

    pub fn item(&self, code: &str) -> Option<&ItemState> {
        self.items.iter().find(|i| i.item == code)
    }

    fn item_mut(&mut self, code: &str) -> Result<&mut ItemState, CaseError> {
        self.items
            .iter_mut()
            .find(|i| i.item == code)
            .ok_or_else(|| CaseError::UnknownItem(code.to_string()))
    }

    /// Item codes not yet settled.
    pub fn open_items(&self) -> Vec<&str> {
        self.items
            .iter()
            .filter(|i| !i.stage.is_settled())
            .map(|i| i.item.as_str())
            .collect()
    }

    pub fn is_closed(&self) -> bool {
        self.status == CaseStatus::Closed
    }

    /// A department's step on one of its items: the actor must act for the department the item
    /// was transferred to.
    fn department_item(
        &mut self,
        code: &str,
        department: &Option<String>,
    ) -> Result<&mut ItemState, CaseError> {
        let item = self.item_mut(code)?;
        match (&item.department, department) {
            (Some(owner), Some(actor)) if owner == actor => Ok(item),
            (None, _) => Err(wrong(item, "由部门办理（尚未转办）")),
            _ => Err(CaseError::OtherDepartment(code.to_string())),
        }
    }

    /// Checks one step against the state and, when it is possible, applies it.
    pub fn apply(&mut self, r: &Recorded) -> Result<(), CaseError> {
        let at = r.at;
        if self.filed_at.is_none() && !matches!(r.event, CaseEvent::Filed { .. }) {
            return Err(CaseError::NotFiled);
        }
        if self.is_closed() && !matches!(r.event, CaseEvent::Reopened { .. }) {
            return Err(CaseError::Closed);
        }
        match &r.event {
            CaseEvent::Filed {
                channel,
                applicant_person_id,
                household_id,
                hardship,
                causes,
                items,
            } => {
                if self.filed_at.is_some() {
                    return Err(CaseError::AlreadyFiled);
                }
                if items.is_empty() {
                    return Err(CaseError::NoItems);
                }
                if hardship.trim().is_empty() {
                    return Err(CaseError::Missing("请记录申请人陈述的困难情况"));
                }
                let mut seen = Vec::new();
                for code in items {
                    if seen.contains(code) {
                        return Err(CaseError::DuplicateItem(code.clone()));
                    }
                    seen.push(code.clone());
                }
                self.filed_at = Some(at);
                self.channel = Some(*channel);
                self.applicant_person_id = *applicant_person_id;
                self.household_id = *household_id;
                self.hardship = hardship.clone();
                self.causes = causes.clone();
                self.items = items.iter().map(|c| ItemState::new(c, at, false)).collect();
            }
            CaseEvent::ItemAccepted { item, form_no } => {
                let i = self.item_mut(item)?;
                if !matches!(i.stage, ItemStage::Requested | ItemStage::MaterialsMissing) {
                    return Err(wrong(i, "受理"));
                }
                i.stage = ItemStage::Accepted;
                i.form_no = Some(form_no.clone());
                i.accepted_at = Some(at);
            }
            CaseEvent::MaterialsMissing { missing } => {
                if missing.is_empty() {
                    return Err(CaseError::Missing("一次性告知应列明所缺材料"));
                }
                // One notice covers every item still waiting for a decision, so nobody is told twice.
                let waiting: Vec<String> = self
                    .items
                    .iter()
                    .filter(|i| i.stage == ItemStage::Requested)
                    .map(|i| i.item.clone())
                    .collect();
                let left_out: Vec<&str> = waiting
                    .iter()
                    .filter(|w| !missing.iter().any(|m| &m.item == *w))
                    .map(String::as_str)
                    .collect();
                if !left_out.is_empty() {
                    return Err(CaseError::IncompleteNotice(left_out.join("、")));
                }
                for m in missing {
                    let i = self.item_mut(&m.item)?;
                    if i.stage != ItemStage::Requested {
                        return Err(wrong(i, "告知补充材料（每项只告知一次）"));
                    }
                    if m.materials.is_empty() {
                        return Err(CaseError::Missing("一次性告知应列明每个事项所缺的材料"));
                    }
                    i.stage = ItemStage::MaterialsMissing;
                    i.missing_materials = m.materials.clone();
                    i.noticed_at = Some(at);
                }
            }
            CaseEvent::ItemRefused { item, explanation } => {
                let i = self.item_mut(item)?;
                if !matches!(i.stage, ItemStage::Requested | ItemStage::MaterialsMissing) {
                    return Err(wrong(i, "告知不符合"));
                }
                if explanation.trim().is_empty() {
                    return Err(CaseError::Missing("请写明不符合条件的政策解释"));
                }
                i.stage = ItemStage::RefusedAtWindow;
                i.window_explanation = Some(explanation.clone());
            }
            CaseEvent::ItemWithdrawn { item, .. } => {
                let i = self.item_mut(item)?;
                if !matches!(
                    i.stage,
                    ItemStage::Requested | ItemStage::MaterialsMissing | ItemStage::Accepted
                ) {
                    return Err(wrong(i, "撤回"));
                }
                i.stage = ItemStage::Withdrawn;
            }
            CaseEvent::NeedsAssessed { assessment } => {
                self.assessment = Some(assessment.clone());
            }
            CaseEvent::ItemSuggested { item, .. } => {
                if self.item(item).is_some() {
                    return Err(CaseError::DuplicateItem(item.clone()));
                }
                self.items.push(ItemState::new(item, at, true));
            }
            CaseEvent::Transferred {
                item, department, ..
            } => {
                let i = self.item_mut(item)?;
                if i.stage != ItemStage::Accepted {
                    return Err(wrong(i, "转办"));
                }
                i.stage = ItemStage::Transferred;
                i.department = Some(department.clone());
                i.transferred_at = Some(at);
            }
            CaseEvent::TransferReceived { item } => {
                let i = self.department_item(item, &r.department)?;
                if i.stage != ItemStage::Transferred {
                    return Err(wrong(i, "接收"));
                }
                i.stage = ItemStage::Received;
                i.received_at = Some(at);
            }
            CaseEvent::DepartmentRefused { item, reason } => {
                let i = self.department_item(item, &r.department)?;
                if !matches!(i.stage, ItemStage::Received | ItemStage::InitialChecked) {
                    return Err(wrong(i, "认定不符合"));
                }
                if reason.trim().is_empty() {
                    return Err(CaseError::Missing("请写明不符合条件的书面理由"));
                }
                i.stage = ItemStage::DepartmentRefused;
                i.department_reason = Some(reason.clone());
                i.refused_at = Some(at);
            }
            CaseEvent::InitialCheckDone { item, note } => {
                let i = self.department_item(item, &r.department)?;
                if i.stage != ItemStage::Received {
                    return Err(wrong(i, "反馈初核结果"));
                }
                i.stage = ItemStage::InitialChecked;
                i.initial_check_note = Some(note.clone());
                i.initial_check_at = Some(at);
            }
            CaseEvent::DepartmentCompleted { item, outcome } => {
                let i = self.department_item(item, &r.department)?;
                if i.stage != ItemStage::InitialChecked {
                    return Err(wrong(i, "办结"));
                }
                if let Outcome::Amount { amount, .. } = outcome {
                    if amount.fen() <= 0 {
                        return Err(CaseError::Missing("救助金额应大于零"));
                    }
                }
                i.stage = ItemStage::Completed;
                i.outcome = Some(outcome.clone());
                i.completed_at = Some(at);
            }
            CaseEvent::FeedbackGiven { item, note } => {
                let department = r.department.clone();
                let i = self.item_mut(item)?;
                if let (Some(actor), Some(owner)) = (&department, &i.department) {
                    if actor != owner {
                        return Err(CaseError::OtherDepartment(item.clone()));
                    }
                }
                if i.stage != ItemStage::Completed {
                    return Err(wrong(i, "反馈结果"));
                }
                i.stage = ItemStage::FedBack;
                i.feedback_note = Some(note.clone());
                i.fed_back_at = Some(at);
            }
            CaseEvent::Referred {
                organisation_id,
                organisation_name,
                need,
            } => {
                if self
                    .referrals
                    .iter()
                    .any(|x| x.organisation_id == *organisation_id && x.answer.is_none())
                {
                    return Err(CaseError::Missing("已转介该机构，尚待答复"));
                }
                self.referrals.push(Referral {
                    organisation_id: *organisation_id,
                    organisation_name: organisation_name.clone(),
                    need: need.clone(),
                    referred_at: at,
                    answer: None,
                });
            }
            CaseEvent::ReferralAnswered {
                organisation_id,
                accepted,
                answer,
            } => {
                let referral = self
                    .referrals
                    .iter_mut()
                    .find(|x| x.organisation_id == *organisation_id && x.answer.is_none())
                    .ok_or(CaseError::UnknownReferral)?;
                referral.answer = Some((*accepted, answer.clone()));
            }
            CaseEvent::Closed { summary } => {
                let open = self.open_items();
                if !open.is_empty() {
                    return Err(CaseError::OpenItems(open.join("、")));
                }
                self.status = CaseStatus::Closed;
                self.closed_at = Some(at);
                self.summary = Some(summary.clone());
            }
            CaseEvent::Reopened { reason } => {
                if !self.is_closed() {
                    return Err(CaseError::NotClosed);
                }
                if reason.trim().is_empty() {
                    return Err(CaseError::Missing("请写明重新开启的理由"));
                }
                self.status = CaseStatus::Open;
                self.closed_at = None;
                self.reopen_reasons.push(reason.clone());
            }
            CaseEvent::SupervisionNoted { number, item, note } => {
                if *number as usize != self.supervisions.len() + 1 {
                    return Err(CaseError::UnknownSupervision(*number));
                }
                if let Some(code) = item {
                    self.item_mut(code)?;
                }
                self.supervisions.push(Supervision {
                    number: *number,
                    item: item.clone(),
                    note: note.clone(),
                    by: r.actor.clone(),
                    at,
                    answer: None,
                    answered_by: None,
                    answered_at: None,
                });
            }
            CaseEvent::SupervisionAnswered { number, answer } => {
                let s = self
                    .supervisions
                    .iter_mut()
                    .find(|s| s.number == *number)
                    .ok_or(CaseError::UnknownSupervision(*number))?;
                if s.answer.is_some() {
                    return Err(CaseError::SupervisionAnswered(*number));
                }
                s.answer = Some(answer.clone());
                s.answered_by = Some(r.actor.clone());
                s.answered_at = Some(at);
            }
        }
        Ok(())
    }
}
