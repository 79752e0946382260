//! What a case looks like to the people who handle it, and to the applicant.

use chrono::{DateTime, NaiveDate, Utc};
use jiuzhu_domain::case::{case_deadlines, CaseEvent, CaseState, ItemStage, Outcome};
use jiuzhu_domain::Catalogue;
use jiuzhu_store::Tx;
use serde::Serialize;

use super::Loaded;
use crate::{Actor, Result, ServiceError, Services};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    pub code: String,
    pub name: String,
    pub department: String,
    pub department_name: String,
    pub stage: String,
    pub stage_label: String,
    pub settled: bool,
    pub suggested: bool,
    pub form_no: Option<String>,
    pub missing_materials: Vec<String>,
    pub window_explanation: Option<String>,
    pub department_reason: Option<String>,
    /// The result in words: "每月1,280.00元", "提供公益性岗位", "不予救助：…".
    pub outcome: Option<String>,
    pub outcome_amount_fen: Option<i64>,
    pub feedback_note: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeadlineView {
    pub item: String,
    pub item_name: String,
    pub kind: String,
    pub kind_label: String,
    pub start: NaiveDate,
    pub limit_days: u32,
    pub due: NaiveDate,
    /// The due date was counted partly in a year without a published holiday schedule.
    pub provisional: bool,
    pub done: Option<NaiveDate>,
    pub late: bool,
    pub due_today: bool,
    /// Working days left (negative when overdue); none once done.
    pub days_left: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub department: Option<String>,
    pub kind: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub id: i64,
    pub region_code: String,
    pub region_name: String,
    pub household_id: i64,
    pub applicant_person_id: i64,
    pub applicant_name: String,
    pub applicant_id_number: String,
    pub channel: String,
    pub channel_label: String,
    pub status: String,
    pub filed_at: DateTime<Utc>,
    pub filed_by: String,
    pub hardship: String,
    pub causes: Vec<String>,
    pub items: Vec<ItemView>,
    pub deadlines: Vec<DeadlineView>,
    pub events: Vec<EventView>,
    #[schema(value_type = Object)]
    pub assessment: Option<jiuzhu_domain::case::NeedsAssessment>,
    #[schema(value_type = Vec<Object>)]
    pub referrals: Vec<jiuzhu_domain::case::Referral>,
    #[schema(value_type = Vec<Object>)]
    pub supervisions: Vec<jiuzhu_domain::case::Supervision>,
    pub summary: Option<String>,
    /// Event count; the next step is appended after it.
    pub revision: i64,
}

/// The applicant's view: their own case in plain words, nothing about anyone else.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicStatus {
    /// The window that took the application, e.g. 杨舍镇社会救助服务窗口.
    pub office: String,
    pub applicant: String,
    pub filed_on: NaiveDate,
    pub closed: bool,
    pub summary: Option<String>,
    pub items: Vec<PublicItem>,
    /// Item by item, the materials uploaded and those still wanted.
    pub materials: Vec<ItemMaterials>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicItem {
    pub name: String,
    pub department_name: String,
    pub progress: String,
}

/// What an item asks the applicant to bring or send, and what they have uploaded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemMaterials {
    pub item: String,
    pub uploaded: Vec<String>,
    /// Still to bring to the window or upload.
    pub missing: Vec<String>,
}

pub(crate) fn outcome_text(o: &Outcome) -> String {
    match o {
        Outcome::Amount {
            amount,
            monthly: true,
            ..
        } => format!("每月{amount}元"),
        Outcome::Amount {
            amount,
            monthly: false,
            ..
        } => format!("一次性{amount}元"),
        Outcome::Service { description } => description.clone(),
        Outcome::Refused { reason } => format!("不予救助：{reason}"),
    }
}

/// The department an item went to, or the one the catalogue gives it before the transfer.
pub(super) fn department_of(c: &Catalogue, i: &jiuzhu_domain::case::ItemState) -> String {
    i.department
        .clone()
        .or_else(|| c.item(&i.item).map(|x| x.department.clone()))
        .unwrap_or_default()
}

fn name_of(c: &Catalogue, code: &str) -> String {
    c.item(code)
        .map_or_else(|| code.to_string(), |i| i.name.clone())
}

fn department_name(c: &Catalogue, code: &str) -> String {
    c.departments
        .iter()
        .find(|d| d.code == code)
        .map_or_else(|| code.to_string(), |d| d.name.clone())
}

fn describe(e: &CaseEvent, c: &Catalogue) -> String {
    match e {
        CaseEvent::Filed {
            items, hardship, ..
        } => {
            let names: Vec<String> = items.iter().map(|i| name_of(c, i)).collect();
            format!("申请{}。{hardship}", names.join("、"))
        }
        CaseEvent::ItemAccepted { item, form_no } => {
            format!("受理{}，受理单号{form_no}", name_of(c, item))
        }
        CaseEvent::MaterialsMissing { missing } => missing
            .iter()
            .map(|m| format!("{}缺：{}", name_of(c, &m.item), m.materials.join("、")))
            .collect::<Vec<_>>()
            .join("；"),
        CaseEvent::ItemRefused { item, explanation } => {
            format!("{}：{explanation}", name_of(c, item))
        }
        CaseEvent::ItemWithdrawn { item, reason } => format!("{}：{reason}", name_of(c, item)),
        CaseEvent::NeedsAssessed { assessment } => format!(
            "家庭结构：{}；健康：{}；劳动能力：{}；近12个月刚性支出{}元",
            assessment.structure,
            assessment.health,
            assessment.labour_capacity,
            assessment.rigid_expenditure
        ),
        CaseEvent::ItemSuggested { item, reason } => format!("{}：{reason}", name_of(c, item)),
        CaseEvent::Transferred {
            item,
            department,
            late_reason,
        } => {
            let sent = format!("{}转{}", name_of(c, item), department_name(c, department));
            match late_reason {
                Some(r) => format!("{sent}（逾期原因：{r}）"),
                None => sent,
            }
        }
        CaseEvent::TransferReceived { item } => name_of(c, item),
        CaseEvent::DepartmentRefused { item, reason } => format!("{}：{reason}", name_of(c, item)),
        CaseEvent::InitialCheckDone { item, note } => format!("{}：{note}", name_of(c, item)),
        CaseEvent::DepartmentCompleted { item, outcome } => {
            format!("{}：{}", name_of(c, item), outcome_text(outcome))
        }
        CaseEvent::FeedbackGiven { item, note } => format!("{}：{note}", name_of(c, item)),
        CaseEvent::Referred {
            organisation_name,
            need,
            ..
        } => format!("转介{organisation_name}：{need}"),
        CaseEvent::ReferralAnswered {
            accepted, answer, ..
        } => {
            format!("{}：{answer}", if *accepted { "接受" } else { "未接受" })
        }
        CaseEvent::Closed { summary } => summary.clone(),
        CaseEvent::Reopened { reason } => reason.clone(),
        CaseEvent::SupervisionNoted { number, note, .. } => format!("第{number}号：{note}"),
        CaseEvent::SupervisionAnswered { number, answer } => format!("第{number}号：{answer}"),
    }
}

impl Services {
    pub(crate) async fn case_view(
        &self,
        tx: &mut Tx,
        _actor: &Actor,
        loaded: &Loaded,
    ) -> Result<CaseView> {
        let catalogue = self.catalogue_now(tx).await?;
        let s = &loaded.state;
        let (applicant_name, applicant_id_number) = tx
            .person_brief(loaded.row.applicant_person_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let calendar = self.calendar().current();
        let today = self.today();
        let limit = |code: &str| catalogue.item(code).map_or(30, |i| i.time_limit_days);
        let deadlines = case_deadlines(s, limit, &calendar, today)
            .into_iter()
            .map(|d| {
                let days_left = d.done.is_none().then(|| {
                    if d.due.date >= today {
                        i64::from(calendar.working_days_between(today, d.due.date))
                    } else {
                        -i64::from(calendar.working_days_between(d.due.date, today))
                    }
                });
                DeadlineView {
                    item_name: name_of(&catalogue, &d.item),
                    item: d.item,
                    kind: d.kind.code().to_string(),
                    kind_label: d.kind.label().into(),
                    start: d.start,
                    limit_days: d.limit_days,
                    due: d.due.date,
                    provisional: d.due.provisional,
                    done: d.done,
                    late: d.late,
                    due_today: d.due_today,
                    days_left,
                }
            })
            .collect();
        let items = s
            .items
            .iter()
            .map(|i| {
                let department = department_of(&catalogue, i);
                ItemView {
                    code: i.item.clone(),
                    name: name_of(&catalogue, &i.item),
                    department_name: department_name(&catalogue, &department),
                    department,
                    stage: i.stage.code().into(),
                    stage_label: i.stage.label().into(),
                    settled: i.stage.is_settled(),
                    suggested: i.suggested,
                    form_no: i.form_no.clone(),
                    missing_materials: i.missing_materials.clone(),
                    window_explanation: i.window_explanation.clone(),
                    department_reason: i.department_reason.clone(),
                    outcome: i.outcome.as_ref().map(outcome_text),
                    outcome_amount_fen: match &i.outcome {
                        Some(Outcome::Amount { amount, .. }) => Some(amount.fen()),
                        _ => None,
                    },
                    feedback_note: i.feedback_note.clone(),
                }
            })
            .collect();
        // Accounts by the names of the people who hold them.
        let mut names: std::collections::HashMap<String, String> = Default::default();
        for r in &loaded.events {
            if !names.contains_key(&r.actor) {
                let name = tx
                    .user_by_name(&r.actor)
                    .await?
                    .map_or_else(|| r.actor.clone(), |u| u.display_name);
                names.insert(r.actor.clone(), name);
            }
        }
        let events = loaded
            .events
            .iter()
            .map(|r| EventView {
                at: r.at,
                actor: names.get(&r.actor).cloned().unwrap_or_default(),
                department: r
                    .department
                    .as_ref()
                    .map(|d| department_name(&catalogue, d)),
                kind: r.event.kind().label().into(),
                text: describe(&r.event, &catalogue),
            })
            .collect();
        let channel = jiuzhu_domain::case::Channel::from_code(&loaded.row.channel);
        // The clerk's name, not the account's.
        let filed_by = tx
            .user_by_name(&loaded.row.filed_by)
            .await?
            .map_or_else(|| loaded.row.filed_by.clone(), |u| u.display_name);
        Ok(CaseView {
            id: loaded.row.id,
            region_name: self.region_name(tx, &loaded.row.region_code).await?,
            region_code: loaded.row.region_code.clone(),
            household_id: loaded.row.household_id,
            applicant_person_id: loaded.row.applicant_person_id,
            applicant_name,
            applicant_id_number,
            channel: loaded.row.channel.clone(),
            channel_label: channel.map_or("", |c| c.label()).into(),
            status: if s.is_closed() { "closed" } else { "open" }.into(),
            filed_at: s.filed_at.unwrap_or(loaded.row.filed_at),
            filed_by,
            hardship: s.hardship.clone(),
            causes: s.causes.iter().map(|c| c.label().to_string()).collect(),
            items,
            deadlines,
            events,
            assessment: s.assessment.clone(),
            referrals: s.referrals.clone(),
            supervisions: s.supervisions.clone(),
            summary: s.summary.clone(),
            revision: loaded.row.last_seq,
        })
    }
}

/// Progress in words an applicant understands, without internal names or other people.
pub(crate) fn public_status(
    s: &CaseState,
    name: &str,
    c: &Catalogue,
    filed_on: NaiveDate,
    township: &str,
) -> PublicStatus {
    let masked: String = name
        .chars()
        .take(1)
        .chain(name.chars().skip(1).map(|_| '*'))
        .collect();
    let items = s
        .items
        .iter()
        .map(|i| {
            let department = department_of(c, i);
            let progress = match i.stage {
                ItemStage::Requested => "已收到申请，等待窗口受理".to_string(),
                ItemStage::MaterialsMissing => {
                    format!("请补齐材料：{}", i.missing_materials.join("、"))
                }
                ItemStage::Accepted => "已受理，正在转交主管部门".to_string(),
                ItemStage::Transferred => "已转交主管部门，等待部门接收".to_string(),
                ItemStage::Received => "主管部门正在核查".to_string(),
                ItemStage::InitialChecked => "初步核查符合条件，正在办理".to_string(),
                ItemStage::Completed => "已办结，结果将在1个工作日内告知您".to_string(),
                ItemStage::FedBack => format!(
                    "已办结：{}",
                    i.outcome.as_ref().map(outcome_text).unwrap_or_default()
                ),
                ItemStage::RefusedAtWindow => format!(
                    "不符合申请条件：{}",
                    i.window_explanation.clone().unwrap_or_default()
                ),
                ItemStage::DepartmentRefused => format!(
                    "经核查不符合条件：{}",
                    i.department_reason.clone().unwrap_or_default()
                ),
                ItemStage::Withdrawn => "已撤回".to_string(),
            };
            PublicItem {
                name: name_of(c, &i.item),
                department_name: department_name(c, &department),
                progress,
            }
        })
        .collect();
    PublicStatus {
        office: format!("{township}社会救助服务窗口"),
        applicant: masked,
        filed_on,
        closed: s.is_closed(),
        summary: s.summary.clone(),
        items,
        materials: Vec::new(),
    }
}

/// A case whose every item has its outcome, waiting for the window to tell the applicant.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseToClose {
    pub case_id: i64,
    pub applicant_name: String,
    /// The township (street), by name.
    pub township_name: String,
    pub form_no: Option<String>,
    /// The day the last item got its outcome (China time).
    pub settled_on: NaiveDate,
    /// The day the applicant is due to be told: 1 working day later.
    pub due: NaiveDate,
}

/// One line of an inbox or an overdue list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseItemRow {
    pub case_id: i64,
    pub item_code: String,
    pub region_code: String,
    pub department_code: String,
    pub stage: String,
    pub form_no: Option<String>,
    pub next_due: Option<NaiveDate>,
    pub next_due_kind: Option<String>,
    pub late: bool,
    pub applicant_name: String,
    pub filed_at: DateTime<Utc>,
    /// The township (street), by name.
    pub township_name: String,
}

impl From<jiuzhu_store::CaseItemRow> for CaseItemRow {
    fn from(r: jiuzhu_store::CaseItemRow) -> Self {
        CaseItemRow {
            case_id: r.case_id,
            item_code: r.item_code,
            region_code: r.region_code,
            department_code: r.department_code,
            stage: r.stage,
            form_no: r.form_no,
            next_due: r.next_due,
            next_due_kind: r.next_due_kind,
            late: r.late,
            applicant_name: r.applicant_name,
            filed_at: r.filed_at,
            township_name: r.township_name.unwrap_or_default(),
        }
    }
}
