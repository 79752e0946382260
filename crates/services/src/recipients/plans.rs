//! 一户一策 (seed 000 §三(三)2, seed 003 §三(四)): the household's causes of hardship, its needs,
//! and for each need a measure — who does what by when — or why none can be taken; versioned,
//! each version saying what changed and on what state of the household it was made. And the
//! visits (走访、回访) that follow it, at a frequency per program (policy parameters).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use jiuzhu_domain::enrolment::{add_months, month_of, EnrolmentStage, MonthStatus};
use jiuzhu_domain::Permission;
use jiuzhu_store::{PlanRecord, VisitRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{display_names, states_in};
use crate::{Actor, Recipients, Result, ServiceError};

/// 致困原因, coded.
pub const HARDSHIP_CAUSES: [(&str, &str); 9] = [
    ("illness", "因病"),
    ("disability", "因残"),
    ("schooling", "因学"),
    ("disaster", "因灾"),
    ("lack_of_labour", "缺劳动力"),
    ("lack_of_skills", "缺技术"),
    ("unemployment", "失业"),
    ("emergency", "突发事件"),
    ("other", "其他"),
];

pub fn cause_label(code: &str) -> Option<&'static str> {
    HARDSHIP_CAUSES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
}

/// What is done for a need.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Measure {
    /// The department or organisation that acts.
    pub by: String,
    /// What it does.
    pub what: String,
    /// Working days from the plan's date.
    pub due_days: u32,
    /// planned, in_progress, done
    pub status: String,
}

/// A need, with its measure or the reason none can be taken.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Need {
    pub need: String,
    pub measure: Option<Measure>,
    pub no_measure_reason: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PlanInput {
    /// Codes of the causes of hardship: illness, disability, schooling, disaster,
    /// lack_of_labour, lack_of_skills, unemployment, emergency, other.
    pub causes: Vec<String>,
    pub needs: Vec<Need>,
    /// What changed since the last version (required from the second version on).
    pub changes: String,
}

/// A need as shown, with its measure's due date on the working-day calendar.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NeedView {
    pub need: String,
    pub measure: Option<Measure>,
    pub status_label: String,
    pub due: Option<NaiveDate>,
    pub no_measure_reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanView {
    pub id: i64,
    pub household_id: i64,
    pub version: i64,
    /// Labels of the causes.
    pub causes: Vec<String>,
    pub cause_codes: Vec<String>,
    pub needs: Vec<NeedView>,
    pub changes: String,
    /// The household's state the plan was made on, in words.
    pub based_on: String,
    pub status: String,
    pub status_label: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct VisitInput {
    /// The day of the visit (not in the future).
    pub date: Option<NaiveDate>,
    /// What was found.
    pub findings: String,
    /// What follows (a referral, a change to report, nothing).
    pub follow_up: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VisitView {
    pub id: i64,
    pub household_id: i64,
    pub date: NaiveDate,
    pub visitor: String,
    pub findings: String,
    pub follow_up: String,
    pub recorded_at: DateTime<Utc>,
}

/// A household whose visit is due.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VisitDue {
    pub household_id: i64,
    pub head_name: String,
    pub region_name: String,
    /// The village's division code.
    #[serde(skip)]
    pub region_code: String,
    pub program_name: String,
    /// Every how many months it is visited.
    pub every_months: i64,
    pub last_visit: Option<NaiveDate>,
    pub due: NaiveDate,
    pub overdue: bool,
}

fn measure_status_label(status: &str) -> &'static str {
    match status {
        "in_progress" => "落实中",
        "done" => "已落实",
        _ => "待落实",
    }
}

/// Why a plan cannot be approved: the first need with neither a measure nor a reason.
fn unanswered(needs: &[Need]) -> Option<usize> {
    needs.iter().position(|n| {
        let measured = n
            .measure
            .as_ref()
            .is_some_and(|m| !m.by.trim().is_empty() && !m.what.trim().is_empty());
        !measured && n.no_measure_reason.trim().is_empty()
    })
}

impl Recipients<'_> {
    fn plan_view(&self, p: PlanRecord, names: &HashMap<String, String>) -> PlanView {
        let causes: Vec<String> = serde_json::from_str(&p.causes).unwrap_or_default();
        let needs: Vec<Need> = serde_json::from_str(&p.needs).unwrap_or_default();
        let day = jiuzhu_domain::case::china_date(p.created_at);
        let shown = |u: &str| names.get(u).cloned().unwrap_or_else(|| u.to_string());
        PlanView {
            id: p.id,
            household_id: p.household_id,
            version: p.version,
            causes: causes
                .iter()
                .map(|c| cause_label(c).unwrap_or("其他").to_string())
                .collect(),
            cause_codes: causes,
            needs: needs
                .into_iter()
                .map(|n| NeedView {
                    due: n
                        .measure
                        .as_ref()
                        .map(|m| self.calendar().add_working_days(day, m.due_days).date),
                    status_label: n
                        .measure
                        .as_ref()
                        .map_or("无措施", |m| measure_status_label(&m.status))
                        .to_string(),
                    need: n.need,
                    measure: n.measure,
                    no_measure_reason: n.no_measure_reason,
                })
                .collect(),
            changes: p.changes,
            based_on: serde_json::from_str::<serde_json::Value>(&p.based_on)
                .ok()
                .and_then(|v| v["summary"].as_str().map(str::to_string))
                .unwrap_or_default(),
            status_label: if p.status == "approved" {
                "已审定"
            } else {
                "草稿"
            }
            .to_string(),
            status: p.status,
            created_by: shown(&p.created_by),
            created_at: p.created_at,
            approved_by: p.approved_by.as_deref().map(shown),
            approved_at: p.approved_at,
        }
    }

    /// The household's plans, oldest version first.
    pub async fn plans(&self, actor: &Actor, household_id: i64) -> Result<Vec<PlanView>> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin_read().await?;
        tx.get_household(household_id, actor.scope())
            .await?
            .ok_or(ServiceError::NotFound)?;
        let plans = tx.plans_of(household_id).await?;
        let mut users: Vec<&str> = plans.iter().map(|p| p.created_by.as_str()).collect();
        users.extend(plans.iter().filter_map(|p| p.approved_by.as_deref()));
        let names = display_names(&mut tx, users).await?;
        Ok(plans
            .into_iter()
            .map(|p| self.plan_view(p, &names))
            .collect())
    }

    /// Saves a new version of the household's plan, as a draft. Approval (`approve_plan`) needs
    /// every need answered by a measure or a reason.
    pub async fn save_plan(
        &self,
        actor: &Actor,
        household_id: i64,
        input: &PlanInput,
    ) -> Result<PlanView> {
        actor.require(Permission::ManageRecipients)?;
        if input.causes.is_empty() {
            return Err(ServiceError::invalid("causes", "请选择至少一项致困原因"));
        }
        if let Some(bad) = input.causes.iter().find(|c| cause_label(c).is_none()) {
            return Err(ServiceError::invalid(
                "causes",
                format!("致困原因“{bad}”不在代码表中"),
            ));
        }
        if input.needs.is_empty() {
            return Err(ServiceError::invalid("needs", "请填写至少一项需求"));
        }
        for (i, n) in input.needs.iter().enumerate() {
            if n.need.trim().is_empty() {
                return Err(ServiceError::invalid(
                    &format!("needs[{i}].need"),
                    format!("第{}项需求没有内容", i + 1),
                ));
            }
            if let Some(m) = &n.measure {
                if m.by.trim().is_empty() || m.what.trim().is_empty() {
                    return Err(ServiceError::invalid(
                        &format!("needs[{i}].measure"),
                        format!("第{}项需求的措施须写明责任单位和内容", i + 1),
                    ));
                }
                if !(1..=365).contains(&m.due_days) {
                    return Err(ServiceError::invalid(
                        &format!("needs[{i}].measure.due_days"),
                        format!("第{}项需求的办理时限应为1至365个工作日", i + 1),
                    ));
                }
                if !["planned", "in_progress", "done", ""].contains(&m.status.as_str()) {
                    return Err(ServiceError::invalid(
                        &format!("needs[{i}].measure.status"),
                        "措施状态应为待落实、落实中或已落实",
                    ));
                }
            }
        }
        let mut tx = self.store.begin().await?;
        let household = tx
            .get_household(household_id, actor.scope())
            .await?
            .ok_or(ServiceError::NotFound)?;
        let version = tx.plans_of(household_id).await?.len() as i64 + 1;
        if version > 1 && input.changes.trim().is_empty() {
            return Err(ServiceError::invalid(
                "changes",
                "请写明本版与上一版相比的变化",
            ));
        }
        // The state of the household the plan rests on: members, income, what it receives.
        let view = self
            .households()
            .household_view(&mut tx, actor, household_id)
            .await?;
        let month = month_of(self.today());
        let enrolments = tx.enrolments_of_household(household_id).await?;
        let catalogue = self.catalogue_now(&mut tx).await?;
        let mut receiving = Vec::new();
        for e in &enrolments {
            let changes = super::dated(&tx.changes_of(e.id).await?)?;
            let s = jiuzhu_domain::enrolment::state_in(&changes, month);
            if matches!(s.status, MonthStatus::Paid | MonthStatus::GradualExit) {
                receiving.push(format!(
                    "{}每月{}元",
                    catalogue
                        .item(&e.program)
                        .map_or(e.program.as_str(), |i| i.name.as_str()),
                    s.amount
                ));
            }
        }
        let summary = format!(
            "{}：现有成员{}人，家庭人均月收入{}元；{}",
            self.today(),
            household.current_members().count(),
            view.per_capita_monthly_income,
            if receiving.is_empty() {
                "未享受定期救助".to_string()
            } else {
                format!("享受{}", receiving.join("、"))
            }
        );
        let needs: Vec<Need> = input
            .needs
            .iter()
            .map(|n| Need {
                need: n.need.trim().to_string(),
                measure: n.measure.clone().map(|mut m| {
                    if m.status.is_empty() {
                        m.status = "planned".into();
                    }
                    m
                }),
                no_measure_reason: n.no_measure_reason.trim().to_string(),
            })
            .collect();
        let id = tx
            .insert_plan(&PlanRecord {
                id: 0,
                household_id,
                region_code: household.region_code.clone(),
                version,
                causes: serde_json::to_string(&input.causes).expect("codes serialise"),
                needs: serde_json::to_string(&needs).expect("needs serialise"),
                changes: input.changes.trim().to_string(),
                based_on: json!({"summary": summary, "members": household.current_members().map(|m| m.person_id).collect::<Vec<_>>(), "per_capita_income_fen": view.per_capita_monthly_income.fen()}).to_string(),
                status: "draft".into(),
                created_by: actor.username.clone(),
                created_at: self.now(),
                approved_by: None,
                approved_at: None,
            })
            .await?;
        tx.append_audit(&actor.audit(
            "plan.save",
            "household",
            household_id,
            Some(&household.region_code),
            json!({"plan": id, "version": version}),
        ))
        .await?;
        tx.commit().await?;
        self.plans(actor, household_id)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(ServiceError::NotFound)
    }

    /// Approves a plan version: refused while a need has neither a measure nor a reason.
    pub async fn approve_plan(&self, actor: &Actor, plan_id: i64) -> Result<PlanView> {
        actor.require(Permission::ApproveAssistance)?;
        let mut tx = self.store.begin().await?;
        let plan = tx
            .plan(plan_id)
            .await?
            .filter(|p| p.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        let needs: Vec<Need> = serde_json::from_str(&plan.needs).unwrap_or_default();
        if let Some(i) = unanswered(&needs) {
            return Err(ServiceError::invalid(
                &format!("needs[{i}]"),
                format!(
                    "第{}项需求“{}”既无帮扶措施也未说明无法采取措施的原因，不能审定",
                    i + 1,
                    needs[i].need
                ),
            ));
        }
        if !tx
            .approve_plan(plan_id, &actor.username, self.now())
            .await?
        {
            return Err(ServiceError::Conflict {
                field: Some("status".into()),
                message: "该版帮扶计划已经审定".into(),
            });
        }
        tx.append_audit(&actor.audit(
            "plan.approve",
            "household",
            plan.household_id,
            Some(&plan.region_code),
            json!({"plan": plan_id, "version": plan.version}),
        ))
        .await?;
        tx.commit().await?;
        self.plans(actor, plan.household_id)
            .await?
            .into_iter()
            .find(|p| p.id == plan_id)
            .ok_or(ServiceError::NotFound)
    }

    /// Records a visit to a household by the actor.
    pub async fn record_visit(
        &self,
        actor: &Actor,
        household_id: i64,
        input: &VisitInput,
    ) -> Result<VisitView> {
        actor.require(Permission::ManageRecipients)?;
        let date = input
            .date
            .ok_or_else(|| ServiceError::invalid("date", "请填写走访日期"))?;
        if date > self.today() {
            return Err(ServiceError::invalid("date", "走访日期不能晚于今天"));
        }
        let findings = crate::cases::text("findings", &input.findings, "走访了解的情况")?;
        let mut tx = self.store.begin().await?;
        let household = tx
            .get_household(household_id, actor.scope())
            .await?
            .ok_or(ServiceError::NotFound)?;
        let visitor = display_names(&mut tx, vec![actor.username.as_str()])
            .await?
            .remove(&actor.username)
            .unwrap_or_default();
        let record = VisitRecord {
            id: 0,
            household_id,
            region_code: household.region_code.clone(),
            visit_date: date,
            visitor,
            findings,
            follow_up: input.follow_up.trim().to_string(),
            recorded_by: actor.username.clone(),
            created_at: self.now(),
        };
        let id = tx.insert_visit(&record).await?;
        tx.append_audit(&actor.audit(
            "visit.record",
            "household",
            household_id,
            Some(&household.region_code),
            json!({"visit": id, "date": date}),
        ))
        .await?;
        tx.commit().await?;
        Ok(VisitView {
            id,
            household_id,
            date,
            visitor: record.visitor,
            findings: record.findings,
            follow_up: record.follow_up,
            recorded_at: record.created_at,
        })
    }

    pub async fn visits(&self, actor: &Actor, household_id: i64) -> Result<Vec<VisitView>> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin_read().await?;
        tx.get_household(household_id, actor.scope())
            .await?
            .ok_or(ServiceError::NotFound)?;
        Ok(tx
            .visits_of(household_id)
            .await?
            .into_iter()
            .map(|v| VisitView {
                id: v.id,
                household_id: v.household_id,
                date: v.visit_date,
                visitor: v.visitor,
                findings: v.findings,
                follow_up: v.follow_up,
                recorded_at: v.created_at,
            })
            .collect())
    }

    /// Households in assistance whose visit falls due by `by` (or is overdue), soonest first:
    /// every `visit.*_months` months after the last visit, or after the first month paid.
    pub async fn visits_due(&self, actor: &Actor, by: NaiveDate) -> Result<Vec<VisitDue>> {
        actor.require(Permission::ReadPeople)?;
        let today = self.today();
        let month = month_of(today);
        let mut tx = self.store.begin_read().await?;
        let enrolments = tx.enrolments_in(actor.scope(), None).await?;
        let states = states_in(&tx.changes_in(actor.scope()).await?, month)?;
        let last: HashMap<i64, NaiveDate> = tx
            .last_visits_in(actor.scope())
            .await?
            .into_iter()
            .collect();
        let people: HashMap<i64, String> = tx
            .enrolment_people(actor.scope())
            .await?
            .into_iter()
            .map(|p| (p.enrolment_id, p.name))
            .collect();
        let catalogue = self.catalogue_now(&mut tx).await?;
        // Per household: the most frequent schedule among what it receives.
        let mut by_household: HashMap<i64, (i64, String, String, NaiveDate, String)> =
            HashMap::new();
        for e in enrolments {
            if e.stage != EnrolmentStage::Confirmed.code()
                || !states.get(&e.id).is_some_and(|s| {
                    matches!(
                        s.status,
                        MonthStatus::Paid | MonthStatus::GradualExit | MonthStatus::Suspended
                    )
                })
            {
                continue;
            }
            let parameter = match e.program.as_str() {
                "tekun" => "visit.tekun_months",
                "dibao" => "visit.dibao_months",
                _ => "visit.other_months",
            };
            let every = self.count_param(&e.region_code, parameter, today)?.max(1);
            let entry = by_household.entry(e.household_id).or_insert((
                i64::MAX,
                String::new(),
                String::new(),
                e.first_month,
                e.region_code.clone(),
            ));
            if every < entry.0 {
                *entry = (
                    every,
                    catalogue
                        .item(&e.program)
                        .map_or_else(|| e.program.clone(), |i| i.name.clone()),
                    people.get(&e.id).cloned().unwrap_or_default(),
                    e.first_month,
                    e.region_code.clone(),
                );
            }
        }
        let mut due = Vec::new();
        for (household_id, (every, program_name, head_name, since, region)) in by_household {
            let last_visit = last.get(&household_id).copied();
            let from = last_visit.unwrap_or(since);
            let next = add_months(from, every as u32)
                .with_day0(from.day0().min(27))
                .unwrap_or(from);
            if next > by {
                continue;
            }
            due.push(VisitDue {
                household_id,
                head_name,
                region_name: self.region_name(&mut tx, &region).await?,
                region_code: region,
                program_name,
                every_months: every,
                last_visit,
                due: next,
                overdue: next < today,
            });
        }
        due.sort_by_key(|d| (d.due, d.household_id));
        Ok(due)
    }
}
