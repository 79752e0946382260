//! Those in assistance (救助对象): a department's grant of a recurring item enrols the household
//! (or the person); the township reviews (审核) and the county bureau — or the township, where
//! the power is delegated — confirms (确认) 低保 and 特困; every later change is an event with
//! its month, reason and approver. One-off grants are kept as awards. `register.rs` is the
//! 花名册, `reviews.rs` the periodic reviews, `plans.rs` plans and visits, `file.rs` the
//! household file.

mod file;
mod plans;
mod register;
mod reviews;

pub use file::{AwardView, CaseFile, EnrolmentFile, HouseholdFile};
pub use plans::{
    cause_label, Measure, Need, NeedView, PlanInput, PlanView, VisitDue, VisitInput, VisitView,
    HARDSHIP_CAUSES,
};
pub use register::{RegisterQuery, RegisterRow, RegisterTotal, RegisterView};
pub use reviews::{BatchReview, DueReview, ReviewDecision, ReviewOutcome, ReviewView};

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use jiuzhu_domain::enrolment::{
    add_months, month_of, refuse_change, state_in, DatedChange, EnrolmentChange, EnrolmentStage,
    MonthState, MonthStatus,
};
use jiuzhu_domain::{LabourCapacity, Money, Permission, RegionCode, Role};
use jiuzhu_store::{ChangeRecord, EnrolmentRecord, Tx};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{Actor, Recipients, Result, ServiceError, Services};

/// The programs whose enrolment the county confirms after the township's review (seed 004 §22),
/// unless the jurisdiction delegates that to the township.
pub const CONFIRMED_PROGRAMS: [&str; 2] = ["dibao", "tekun"];
/// Items granted to one person, not the household.
const INDIVIDUAL_ITEMS: [&str; 1] = ["disability_subsidies"];

/// A person covered by an enrolment.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CoveredPerson {
    pub person_id: i64,
    pub name: String,
}

/// One change as shown: when, what, why, who recorded and who approved it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangeView {
    pub id: i64,
    /// YYYY-MM the change takes effect.
    pub month: String,
    pub kind: String,
    pub label: String,
    /// The change in words, e.g. "月救助金调整为1,200.00元".
    pub description: String,
    pub reason: String,
    pub recorded_by: String,
    pub approved_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// An enrolment with its history and its state this month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EnrolmentView {
    pub id: i64,
    pub household_id: i64,
    pub head_name: String,
    /// The one person covered, for individual enrolments.
    pub person_id: Option<i64>,
    pub program: String,
    pub program_name: String,
    pub region_code: String,
    pub region_name: String,
    pub case_id: Option<i64>,
    pub evaluation_id: Option<i64>,
    pub report_id: Option<i64>,
    /// The monthly amount granted, in fen.
    pub granted_fen: i64,
    /// First month paid, YYYY-MM.
    pub first_month: String,
    pub stage: String,
    pub stage_label: String,
    pub granted_by: String,
    pub reviewed_by: Option<String>,
    pub review_note: String,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Where it stands this month.
    pub status: String,
    pub status_label: String,
    /// What is paid this month, in fen.
    pub amount_fen: i64,
    pub members: Vec<CoveredPerson>,
    /// In the gradual exit: months paid in it and months left.
    pub exit_months_paid: u32,
    pub exit_months_left: u32,
    pub exit_cause: Option<String>,
    pub next_review: Option<NaiveDate>,
    pub changes: Vec<ChangeView>,
}

/// A change to record.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ChangeInput {
    /// YYYY-MM the change takes effect.
    pub month: String,
    /// The change: `{"kind": "adjusted", "amount_fen": 120000}`, `{"kind": "ended", "cause":
    /// "death"}`, `{"kind": "gradual_exit", "months": 6}`, `{"kind": "member_removed",
    /// "person_id": 7}`, `{"kind": "suspended"}`, `{"kind": "resumed"}`.
    #[schema(value_type = Object)]
    pub change: EnrolmentChange,
    /// Why (required).
    pub reason: String,
}

/// An enrolment entered by hand (an application decided on paper, a household carried over
/// from the bureau's old register): it is reviewed and confirmed like a grant.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct EnrolInput {
    pub household_id: i64,
    /// A recurring catalogue item: dibao, tekun, near_dibao, disability_subsidies.
    pub program: String,
    /// The one person covered, for individual items (the disability subsidies).
    pub person_id: Option<i64>,
    /// Monthly amount in fen.
    pub amount_fen: i64,
    /// YYYY-MM of the first payment.
    pub first_month: String,
    /// Why, and on what decision.
    pub note: String,
}

/// The decision on an enrolment waiting for review or confirmation.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct DecisionInput {
    /// False refuses (with the note as the reason).
    pub approve: bool,
    pub note: String,
}

pub(crate) fn parse_month(field: &str, text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d")
        .map_err(|_| ServiceError::invalid(field, format!("“{text}”不是月份：应写作2026-03")))
}

pub(crate) fn dated(changes: &[ChangeRecord]) -> Result<Vec<DatedChange>> {
    changes
        .iter()
        .map(|c| {
            Ok(DatedChange {
                month: c.month,
                change: serde_json::from_str(&c.body).map_err(|e| {
                    ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(format!(
                        "保障变更{}：{e}",
                        c.id
                    )))
                })?,
            })
        })
        .collect()
}

fn describe(change: &EnrolmentChange, names: &HashMap<i64, String>) -> String {
    let name = |id: &i64| {
        names
            .get(id)
            .cloned()
            .unwrap_or_else(|| format!("人员{id}"))
    };
    match change {
        EnrolmentChange::Enrolled {
            amount_fen,
            members,
        } => format!(
            "纳入保障，月救助金{}元，保障{}人",
            Money::from_fen(*amount_fen),
            members.len()
        ),
        EnrolmentChange::Adjusted { amount_fen } => {
            format!("月救助金调整为{}元", Money::from_fen(*amount_fen))
        }
        EnrolmentChange::MemberAdded { person_id } => format!("增加保障人口：{}", name(person_id)),
        EnrolmentChange::MemberRemoved { person_id } => {
            format!("减少保障人口：{}", name(person_id))
        }
        EnrolmentChange::Suspended => "暂停发放".into(),
        EnrolmentChange::Resumed => "恢复发放".into(),
        EnrolmentChange::GradualExit { months } => format!("开始{months}个月渐退期，期满退出"),
        EnrolmentChange::Ended { cause } => format!("退出保障：{}", cause.label()),
    }
}

/// Display names of users by username, for showing who did what.
pub(crate) async fn display_names(
    tx: &mut Tx,
    usernames: Vec<&str>,
) -> Result<HashMap<String, String>> {
    let mut names = HashMap::new();
    for u in usernames {
        if names.contains_key(u) {
            continue;
        }
        // Tokens act as `name#tokenN`; the person is the name.
        let base = u.split('#').next().unwrap_or(u);
        let shown = match tx.user_by_name(base).await? {
            Some(user) => user.display_name,
            None => base.to_string(),
        };
        names.insert(u.to_string(), shown);
    }
    Ok(names)
}

/// The review period of an enrolment in months (seed 004 §7): 特困 and stable 低保 households
/// yearly; 低保 households with a member able to work (16–59, full capacity) every six months.
pub(crate) fn review_months(
    program: &str,
    members_able_to_work: bool,
    stable: i64,
    unstable: i64,
) -> i64 {
    if program == "dibao" && members_able_to_work {
        unstable
    } else {
        stable
    }
}

impl Services {
    /// Whether one of the household's current members is of working age with full capacity.
    pub(crate) async fn able_to_work(
        &self,
        tx: &mut Tx,
        household_id: i64,
        on: NaiveDate,
    ) -> Result<bool> {
        let Some(h) = tx.get_household(household_id, "").await? else {
            return Ok(false);
        };
        for m in h.current_members() {
            let age = jiuzhu_domain::age_between(m.birth_date, on);
            if !(16..60).contains(&age) {
                continue;
            }
            if let Some(p) = tx.get_person(m.person_id, "").await? {
                if p.person.labour_capacity == LabourCapacity::Full {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// A parameter of the jurisdiction a region belongs to, as in force on a date.
    pub(crate) fn param(
        &self,
        region: &str,
        name: &str,
        on: NaiveDate,
    ) -> Result<jiuzhu_policy::Resolved> {
        let region = RegionCode::parse(region)
            .map_err(|e| ServiceError::invalid("region", e.to_string()))?;
        let book = self.policy().book();
        let ps = book.params(
            &self.policy().jurisdiction_of(&region)?,
            on,
            &jiuzhu_policy::Overrides::default(),
        )?;
        Ok(ps.get(name)?)
    }

    pub(crate) fn count_param(&self, region: &str, name: &str, on: NaiveDate) -> Result<i64> {
        Ok(self.param(region, name, on)?.count())
    }

    pub(crate) fn money_param(&self, region: &str, name: &str, on: NaiveDate) -> Result<Money> {
        Ok(self.param(region, name, on)?.money())
    }

    /// The region a request asks about: one within the actor's, or the actor's own.
    pub(crate) fn scope_within(actor: &Actor, region: Option<&str>) -> Result<String> {
        match region.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) if r.starts_with(actor.scope()) => Ok(r.to_string()),
            Some(_) => Err(ServiceError::invalid(
                "region",
                "所选区划不在您的管辖范围内",
            )),
            None => Ok(actor.scope().to_string()),
        }
    }

    /// The next review date of an enrolment paid from `from`.
    pub(crate) async fn next_review_after(
        &self,
        tx: &mut Tx,
        e: &EnrolmentRecord,
        from: NaiveDate,
    ) -> Result<NaiveDate> {
        let stable = self.count_param(&e.region_code, "review.stable_months", from)?;
        let unstable = self.count_param(&e.region_code, "review.unstable_months", from)?;
        let able = self.able_to_work(tx, e.household_id, from).await?;
        let months = review_months(&e.program, able, stable, unstable);
        Ok(add_months(from, months.clamp(1, 120) as u32))
    }

    /// 应保尽保, not twice: refused when the household (or the person) already has an
    /// enrolment in the program waiting for a decision, or one not ended by `from`.
    pub(crate) async fn refuse_overlap(
        &self,
        tx: &mut Tx,
        household_id: i64,
        program: &str,
        person: Option<i64>,
        from: NaiveDate,
        field: &str,
    ) -> Result<()> {
        let catalogue = self.catalogue_now(tx).await?;
        for other in tx.enrolments_of_household(household_id).await? {
            if other.program != program || (person.is_some() && other.person_id != person) {
                continue;
            }
            let open = match EnrolmentStage::from_code(&other.stage) {
                Some(EnrolmentStage::PendingReview | EnrolmentStage::PendingConfirmation) => true,
                Some(EnrolmentStage::Confirmed) => {
                    let changes = dated(&tx.changes_of(other.id).await?)?;
                    let later = changes.iter().map(|c| c.month).max().unwrap_or(from);
                    // Ended by `from`, and nothing after: the months do not overlap.
                    let ended = state_in(&changes, from.max(later));
                    !(ended.status == MonthStatus::Ended
                        && ended.ended_from.is_some_and(|m| m <= from))
                }
                _ => false,
            };
            if open {
                return Err(ServiceError::Conflict {
                    field: Some(field.into()),
                    message: format!(
                        "该{}已在{}保障中（第{}号），月份重叠，不能重复纳入；如需调整金额请办理保障变更",
                        if person.is_some() { "人员" } else { "家庭" },
                        catalogue.item(program).map_or(program, |i| i.name.as_str()),
                        other.id
                    ),
                });
            }
        }
        Ok(())
    }

    /// A department granted an item with money (inside the grant's transaction): a recurring
    /// item paid monthly enrols the household (or the person); anything else is a one-off award.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn on_grant(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        case_id: i64,
        household_id: i64,
        applicant_id: i64,
        region: &str,
        item: &str,
        amount: Money,
        monthly: bool,
        note: &str,
    ) -> Result<()> {
        let catalogue = self.catalogue_now(tx).await?;
        let recurring = catalogue.item(item).is_some_and(|i| i.recurring);
        let now = self.now();
        if !(recurring && monthly) {
            // A staged grant (临时救助 分期) pays as its evaluation staged it, when the amounts
            // agree; otherwise in one payment.
            let stages: Vec<i64> = tx
                .case_evaluations(case_id)
                .await?
                .into_iter()
                .max_by_key(|e| e.id)
                .and_then(|e| serde_json::from_str::<serde_json::Value>(&e.result).ok())
                .and_then(|v| {
                    v["decisions"].as_array()?.iter().find_map(|d| {
                        let stages: Vec<i64> = d["stages_fen"]
                            .as_array()?
                            .iter()
                            .filter_map(|x| x.as_i64())
                            .collect();
                        (d["program"] == "temporary"
                            && item == "temporary_assistance"
                            && stages.iter().sum::<i64>() == amount.fen())
                        .then_some(stages)
                    })
                })
                .unwrap_or_else(|| vec![amount.fen()]);
            tx.insert_award(&jiuzhu_store::AwardRecord {
                id: 0,
                household_id,
                case_id: Some(case_id),
                item: item.to_string(),
                region_code: region.to_string(),
                amount_fen: amount.fen(),
                note: note.to_string(),
                stages: serde_json::to_string(&stages).expect("amounts serialise"),
                granted_by: actor.username.clone(),
                granted_at: now,
            })
            .await?;
            return Ok(());
        }
        let household = tx
            .get_household(household_id, "")
            .await?
            .ok_or(ServiceError::NotFound)?;
        let individual = INDIVIDUAL_ITEMS.contains(&item);
        let members: Vec<i64> = if individual {
            vec![applicant_id]
        } else {
            household.current_members().map(|m| m.person_id).collect()
        };
        let month = month_of(self.today());
        self.refuse_overlap(
            tx,
            household_id,
            item,
            individual.then_some(applicant_id),
            add_months(month, 1),
            "item",
        )
        .await?;
        let evaluation_id = tx
            .case_evaluations(case_id)
            .await?
            .into_iter()
            .map(|e| e.id)
            .max();
        let report_id = tx.case_reports(case_id).await?.first().map(|r| r.id);
        let two_step = CONFIRMED_PROGRAMS.contains(&item);
        let first_month = add_months(month, 1);
        let mut record = EnrolmentRecord {
            id: 0,
            household_id,
            person_id: individual.then_some(applicant_id),
            program: item.to_string(),
            region_code: region.to_string(),
            case_id: Some(case_id),
            evaluation_id,
            report_id,
            amount_fen: amount.fen(),
            members: serde_json::to_string(&members).expect("ids serialise"),
            first_month,
            stage: if two_step {
                EnrolmentStage::PendingReview
            } else {
                EnrolmentStage::Confirmed
            }
            .code()
            .to_string(),
            granted_by: actor.username.clone(),
            reviewed_by: None,
            reviewed_at: None,
            review_note: String::new(),
            confirmed_by: (!two_step).then(|| actor.username.clone()),
            confirmed_at: (!two_step).then_some(now),
            next_review: None,
            created_at: now,
        };
        if !two_step {
            record.next_review = Some(self.next_review_after(tx, &record, first_month).await?);
        }
        let id = tx.insert_enrolment(&record).await?;
        if !two_step {
            self.append_change(
                tx,
                actor,
                id,
                region,
                first_month,
                &EnrolmentChange::Enrolled {
                    amount_fen: amount.fen(),
                    members,
                },
                "部门批准给予救助",
                &actor.username,
            )
            .await?;
        }
        tx.append_audit(&actor.audit(
            "enrolment.create",
            "enrolment",
            id,
            Some(region),
            json!({"case": case_id, "program": item, "amount_fen": amount.fen(), "stage": record.stage}),
        ))
        .await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn append_change(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        enrolment_id: i64,
        region: &str,
        month: NaiveDate,
        change: &EnrolmentChange,
        reason: &str,
        approved_by: &str,
    ) -> Result<i64> {
        let id = tx
            .insert_change(&ChangeRecord {
                id: 0,
                enrolment_id,
                region_code: region.to_string(),
                month,
                kind: change.code().to_string(),
                body: serde_json::to_string(change).expect("changes serialise"),
                reason: reason.to_string(),
                recorded_by: actor.username.clone(),
                approved_by: approved_by.to_string(),
                created_at: self.now(),
            })
            .await?;
        tx.append_audit(&actor.audit(
            "enrolment.change",
            "enrolment",
            enrolment_id,
            Some(region),
            json!({"change": change, "month": month.format("%Y-%m").to_string(), "reason": reason}),
        ))
        .await?;
        self.receivables_after_change(tx, actor, enrolment_id, change)
            .await?;
        Ok(id)
    }

    /// Months already paid that the enrolment, as now changed, no longer pays (a death or an
    /// exit recorded late, an amount lowered) become receivables (应追回), once per payment.
    async fn receivables_after_change(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        enrolment_id: i64,
        change: &EnrolmentChange,
    ) -> Result<()> {
        let lines = tx.paid_lines_of_enrolment(enrolment_id).await?;
        if lines.is_empty() {
            return Ok(());
        }
        let changes = dated(&tx.changes_of(enrolment_id).await?)?;
        let cause = match change {
            EnrolmentChange::Ended { cause } => format!("{}后已发放", cause.label()),
            EnrolmentChange::MemberRemoved { .. } => "减少保障人口后已发放".to_string(),
            _ => "保障变更后多发放".to_string(),
        };
        for l in lines {
            let state = state_in(&changes, l.month);
            let due = match state.status {
                MonthStatus::Paid | MonthStatus::GradualExit => state.amount.fen(),
                _ => 0,
            };
            if l.amount_fen <= due {
                continue;
            }
            let over = l.amount_fen - due;
            let created = tx
                .insert_receivable(
                    l.household_id,
                    Some(enrolment_id),
                    Some(l.id),
                    &l.region_code,
                    Some(l.month),
                    over,
                    &format!("{}{}", l.month.format("%Y年%-m月"), cause),
                    &actor.username,
                )
                .await?;
            if let Some(id) = created {
                tx.append_audit(&actor.audit(
                    "receivable.create",
                    "enrolment",
                    enrolment_id,
                    Some(&l.region_code),
                    json!({"receivable": id, "line": l.id, "month": l.month.format("%Y-%m").to_string(), "amount_fen": over}),
                ))
                .await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn enrolment_view(
        &self,
        tx: &mut Tx,
        e: EnrolmentRecord,
        month: NaiveDate,
    ) -> Result<EnrolmentView> {
        let changes = tx.changes_of(e.id).await?;
        let dated = dated(&changes)?;
        let state = if e.stage == EnrolmentStage::Confirmed.code() {
            state_in(&dated, month)
        } else {
            state_in(&[], month)
        };
        let household = tx.get_household(e.household_id, "").await?;
        let names: HashMap<i64, String> = household
            .iter()
            .flat_map(|h| h.members.iter())
            .map(|m| (m.person_id, m.name.clone()))
            .collect();
        let head_name = household
            .as_ref()
            .and_then(|h| names.get(&h.head_person_id).cloned())
            .unwrap_or_default();
        let mut users: Vec<&str> = vec![e.granted_by.as_str()];
        users.extend(e.reviewed_by.as_deref());
        users.extend(e.confirmed_by.as_deref());
        for c in &changes {
            users.push(&c.recorded_by);
            users.push(&c.approved_by);
        }
        let people = display_names(tx, users).await?;
        let shown = |u: &str| people.get(u).cloned().unwrap_or_else(|| u.to_string());
        let catalogue = self.catalogue_now(tx).await?;
        let members: Vec<i64> = if state.status == MonthStatus::NotYet {
            serde_json::from_str(&e.members).unwrap_or_default()
        } else {
            state.members.clone()
        };
        let stage = EnrolmentStage::from_code(&e.stage).unwrap_or(EnrolmentStage::Refused);
        let region_name = self.region_name(tx, &e.region_code).await?;
        Ok(EnrolmentView {
            id: e.id,
            household_id: e.household_id,
            head_name,
            person_id: e.person_id,
            program_name: catalogue
                .item(&e.program)
                .map_or_else(|| e.program.clone(), |i| i.name.clone()),
            program: e.program.clone(),
            region_name,
            region_code: e.region_code.clone(),
            case_id: e.case_id,
            evaluation_id: e.evaluation_id,
            report_id: e.report_id,
            granted_fen: e.amount_fen,
            first_month: e.first_month.format("%Y-%m").to_string(),
            stage: stage.code().to_string(),
            stage_label: stage.label().to_string(),
            granted_by: shown(&e.granted_by),
            reviewed_by: e.reviewed_by.as_deref().map(shown),
            review_note: e.review_note.clone(),
            confirmed_by: e.confirmed_by.as_deref().map(shown),
            confirmed_at: e.confirmed_at,
            status: state.status.code().to_string(),
            status_label: if stage == EnrolmentStage::Confirmed {
                state.status.label().to_string()
            } else {
                stage.label().to_string()
            },
            amount_fen: state.amount.fen(),
            members: members
                .iter()
                .map(|id| CoveredPerson {
                    person_id: *id,
                    name: names.get(id).cloned().unwrap_or_default(),
                })
                .collect(),
            exit_months_paid: state.exit_months_paid,
            exit_months_left: state.exit_months_left,
            exit_cause: state.exit_cause.map(|c| c.label().to_string()),
            next_review: e.next_review,
            changes: changes
                .iter()
                .zip(&dated)
                .map(|(c, d)| ChangeView {
                    id: c.id,
                    month: c.month.format("%Y-%m").to_string(),
                    kind: c.kind.clone(),
                    label: d.change.label().to_string(),
                    description: describe(&d.change, &names),
                    reason: c.reason.clone(),
                    recorded_by: shown(&c.recorded_by),
                    approved_by: shown(&c.approved_by),
                    recorded_at: c.created_at,
                })
                .collect(),
        })
    }

    /// An enrolment within the actor's region, or not found.
    async fn enrolment_in_scope(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        id: i64,
    ) -> Result<EnrolmentRecord> {
        tx.enrolment(id)
            .await?
            .filter(|e| e.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)
    }
}

impl Recipients<'_> {
    /// One enrolment, with its history and its state this month.
    pub async fn enrolment(&self, actor: &Actor, id: i64) -> Result<EnrolmentView> {
        self.enrolment_at(actor, id, self.today()).await
    }

    /// One enrolment as it stood (or will stand) in the month of `on`: what was paid, to whom.
    pub async fn enrolment_at(
        &self,
        actor: &Actor,
        id: i64,
        on: NaiveDate,
    ) -> Result<EnrolmentView> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin().await?;
        let e = self.enrolment_in_scope(&mut tx, actor, id).await?;
        let view = self.enrolment_view(&mut tx, e, month_of(on)).await?;
        tx.append_audit(&actor.audit(
            "enrolment.read",
            "enrolment",
            id,
            Some(&view.region_code),
            json!({}),
        ))
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Enters an enrolment by hand, waiting for review and confirmation. The household's
    /// current members are covered (or the one person, for individual items); one overlapping an
    /// enrolment in the same program is refused.
    pub async fn enrol(&self, actor: &Actor, input: &EnrolInput) -> Result<EnrolmentView> {
        actor.require(Permission::ManageRecipients)?;
        let first_month = parse_month("first_month", &input.first_month)?;
        if !(1..=crate::cases::MAX_GRANT.fen()).contains(&input.amount_fen) {
            return Err(ServiceError::invalid(
                "amount_fen",
                format!("救助金额应在0.01元至{}元之间", crate::cases::MAX_GRANT),
            ));
        }
        let note = crate::cases::text("note", &input.note, "纳入依据")?;
        let mut tx = self.store.begin().await?;
        let catalogue = self.catalogue_now(&mut tx).await?;
        let item = catalogue
            .item(&input.program)
            .filter(|i| i.recurring)
            .ok_or_else(|| {
                ServiceError::invalid(
                    "program",
                    format!("“{}”不是按月发放的救助项目", input.program),
                )
            })?;
        let household = tx
            .get_household(input.household_id, actor.scope())
            .await?
            .ok_or(ServiceError::NotFound)?;
        let current: Vec<i64> = household.current_members().map(|m| m.person_id).collect();
        let individual = INDIVIDUAL_ITEMS.contains(&item.code.as_str());
        let members = match (individual, input.person_id) {
            (true, Some(p)) if current.contains(&p) => vec![p],
            (true, _) => {
                return Err(ServiceError::invalid(
                    "person_id",
                    "个人救助项目须指定本户现有成员",
                ))
            }
            (false, _) => current,
        };
        self.refuse_overlap(
            &mut tx,
            household.id,
            &item.code,
            individual.then(|| members[0]),
            first_month,
            "program",
        )
        .await?;
        let now = self.now();
        let id = tx
            .insert_enrolment(&EnrolmentRecord {
                id: 0,
                household_id: household.id,
                person_id: individual.then(|| members[0]),
                program: item.code.clone(),
                region_code: household.region_code.clone(),
                case_id: None,
                evaluation_id: None,
                report_id: None,
                amount_fen: input.amount_fen,
                members: serde_json::to_string(&members).expect("ids serialise"),
                first_month,
                stage: EnrolmentStage::PendingReview.code().to_string(),
                granted_by: actor.username.clone(),
                reviewed_by: None,
                reviewed_at: None,
                review_note: note.clone(),
                confirmed_by: None,
                confirmed_at: None,
                next_review: None,
                created_at: now,
            })
            .await?;
        tx.append_audit(&actor.audit(
            "enrolment.create",
            "enrolment",
            id,
            Some(&household.region_code),
            json!({"program": item.code, "amount_fen": input.amount_fen, "first_month": input.first_month, "note": note}),
        ))
        .await?;
        tx.commit().await?;
        self.enrolment(actor, id).await
    }

    /// 审核 and 确认 of an enrolment waiting for them. The township reviews; the county bureau
    /// confirms, or the township where the jurisdiction delegates it (`approval.delegated`);
    /// never the same person who reviewed.
    pub async fn decide(
        &self,
        actor: &Actor,
        id: i64,
        decision: &DecisionInput,
    ) -> Result<EnrolmentView> {
        actor.require(Permission::ApproveAssistance)?;
        let note = decision.note.trim();
        if !decision.approve && note.is_empty() {
            return Err(ServiceError::invalid("note", "不予确认须写明理由"));
        }
        let mut tx = self.store.begin().await?;
        let e = self.enrolment_in_scope(&mut tx, actor, id).await?;
        let now = self.now();
        match EnrolmentStage::from_code(&e.stage) {
            Some(EnrolmentStage::PendingReview) => {
                if actor.role != Role::TownshipReviewer {
                    return Err(ServiceError::invalid(
                        "stage",
                        "该保障待乡镇（街道）审核，请由乡镇审核员审核",
                    ));
                }
                let done = if decision.approve {
                    tx.mark_enrolment_reviewed(id, &actor.username, note, now)
                        .await?
                } else {
                    tx.refuse_enrolment(id, &actor.username, note, now).await?
                };
                if !done {
                    return Err(already_decided());
                }
            }
            Some(EnrolmentStage::PendingConfirmation) => {
                let delegated = !CONFIRMED_PROGRAMS.contains(&e.program.as_str())
                    || self.count_param(&e.region_code, "approval.delegated", self.today())? == 1;
                let may = if delegated {
                    matches!(actor.role, Role::TownshipReviewer | Role::CountyApprover)
                } else {
                    actor.role == Role::CountyApprover
                };
                if !may {
                    return Err(ServiceError::invalid(
                        "stage",
                        if delegated {
                            "本地审核确认权限已下放乡镇：请由乡镇（街道）审核员确认"
                        } else {
                            "该保障须由县（市、区）民政局审批员确认"
                        },
                    ));
                }
                if e.reviewed_by.as_deref() == Some(actor.username.as_str()) {
                    return Err(ServiceError::invalid(
                        "confirmed_by",
                        "审核人不能确认自己审核的保障：须由另一人确认",
                    ));
                }
                // An objection raised while the decision was on public notice holds the
                // confirmation until it is answered (seed 004 §22).
                let open = crate::openness::open_objections(&mut tx, id).await?;
                if decision.approve && !open.is_empty() {
                    return Err(ServiceError::Conflict {
                        field: Some("objection".into()),
                        message: format!(
                            "公示期间收到异议（编号{}）尚未答复：须重新调查核实或民主评议并答复异议人后才能确认",
                            open.join("、")
                        ),
                    });
                }
                // A grant pays from the month after confirmation; an enrolment entered by hand
                // from the month it names.
                let first_month = match e.case_id {
                    Some(_) => add_months(month_of(self.today()), 1),
                    None => e.first_month,
                };
                let done = if decision.approve {
                    let mut confirmed = e.clone();
                    confirmed.first_month = first_month;
                    let next = self
                        .next_review_after(&mut tx, &confirmed, first_month)
                        .await?;
                    tx.confirm_enrolment(id, &actor.username, now, first_month, next)
                        .await?
                } else {
                    tx.refuse_enrolment(id, &actor.username, note, now).await?
                };
                if !done {
                    return Err(already_decided());
                }
                if decision.approve {
                    let members: Vec<i64> = serde_json::from_str(&e.members).unwrap_or_default();
                    self.append_change(
                        &mut tx,
                        actor,
                        id,
                        &e.region_code,
                        first_month,
                        &EnrolmentChange::Enrolled {
                            amount_fen: e.amount_fen,
                            members,
                        },
                        if note.is_empty() {
                            "审核确认"
                        } else {
                            note
                        },
                        &actor.username,
                    )
                    .await?;
                }
            }
            _ => return Err(already_decided()),
        }
        tx.append_audit(&actor.audit(
            if decision.approve {
                "enrolment.approve"
            } else {
                "enrolment.refuse"
            },
            "enrolment",
            id,
            Some(&e.region_code),
            json!({"stage": e.stage, "note": note}),
        ))
        .await?;
        tx.commit().await?;
        self.enrolment(actor, id).await
    }

    /// Records a change to a confirmed enrolment: an adjustment, a member added or removed, a
    /// suspension, a resumption, a gradual exit or an exit. The one recording approves it and
    /// must hold that power; a change before the last recorded one, before the enrolment began,
    /// or after it ended is refused with the field.
    pub async fn change(
        &self,
        actor: &Actor,
        id: i64,
        input: &ChangeInput,
    ) -> Result<EnrolmentView> {
        actor.require(Permission::ApproveAssistance)?;
        let month = parse_month("month", &input.month)?;
        let reason = crate::cases::text("reason", &input.reason, "变更理由")?;
        if let EnrolmentChange::Adjusted { amount_fen } = input.change {
            if amount_fen > crate::cases::MAX_GRANT.fen() {
                return Err(ServiceError::invalid(
                    "amount_fen",
                    format!("救助金额应在0.01元至{}元之间", crate::cases::MAX_GRANT),
                ));
            }
        }
        let mut tx = self.store.begin().await?;
        let e = self.enrolment_in_scope(&mut tx, actor, id).await?;
        if e.stage != EnrolmentStage::Confirmed.code() {
            return Err(ServiceError::invalid(
                "stage",
                "该保障尚未确认纳入，不能变更",
            ));
        }
        let changes = dated(&tx.changes_of(id).await?)?;
        let new = DatedChange {
            month,
            change: input.change.clone(),
        };
        if let Some((field, message)) = refuse_change(&changes, &new) {
            return Err(ServiceError::invalid(field, message));
        }
        if let EnrolmentChange::MemberAdded { person_id } = &new.change {
            let h = tx
                .get_household(e.household_id, "")
                .await?
                .ok_or(ServiceError::NotFound)?;
            if !h.current_members().any(|m| m.person_id == *person_id) {
                return Err(ServiceError::invalid("person_id", "该人员不是本户现有成员"));
            }
        }
        self.append_change(
            &mut tx,
            actor,
            id,
            &e.region_code,
            month,
            &new.change,
            &reason,
            &actor.username,
        )
        .await?;
        tx.commit().await?;
        self.enrolment(actor, id).await
    }

    /// Enrolments waiting for the actor's review or confirmation.
    pub async fn awaiting(&self, actor: &Actor) -> Result<Vec<EnrolmentView>> {
        actor.require(Permission::ApproveAssistance)?;
        let mut tx = self.store.begin_read().await?;
        let waiting: Vec<EnrolmentRecord> = tx
            .enrolments_in(actor.scope(), None)
            .await?
            .into_iter()
            .filter(|e| {
                matches!(
                    EnrolmentStage::from_code(&e.stage),
                    Some(EnrolmentStage::PendingReview | EnrolmentStage::PendingConfirmation)
                )
            })
            .collect();
        let month = month_of(self.today());
        let mut views = Vec::with_capacity(waiting.len());
        for e in waiting {
            views.push(self.enrolment_view(&mut tx, e, month).await?);
        }
        Ok(views)
    }
}

fn already_decided() -> ServiceError {
    ServiceError::Conflict {
        field: Some("stage".into()),
        message: "该保障已经审核或确认过（可能是重复提交）".into(),
    }
}

/// The state of each enrolment in a month, from (enrolment, month, change) rows.
pub(crate) fn states_from(
    changes: &[(i64, NaiveDate, String)],
    month: NaiveDate,
) -> Result<HashMap<i64, MonthState>> {
    let mut by: HashMap<i64, Vec<DatedChange>> = HashMap::new();
    for (id, m, body) in changes {
        let change = serde_json::from_str(body).map_err(|e| {
            ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(format!(
                "保障{id}的变更：{e}"
            )))
        })?;
        by.entry(*id)
            .or_default()
            .push(DatedChange { month: *m, change });
    }
    Ok(by
        .into_iter()
        .map(|(id, cs)| (id, state_in(&cs, month)))
        .collect())
}

/// The state of each enrolment in a month, from changes already loaded.
pub(crate) fn states_in(
    changes: &[ChangeRecord],
    month: NaiveDate,
) -> Result<HashMap<i64, MonthState>> {
    let mut by: HashMap<i64, Vec<DatedChange>> = HashMap::new();
    for (c, d) in changes.iter().zip(dated(changes)?) {
        by.entry(c.enrolment_id).or_default().push(d);
    }
    Ok(by
        .into_iter()
        .map(|(id, cs)| (id, state_in(&cs, month)))
        .collect())
}
