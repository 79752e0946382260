//! 定期核查 (seed 004 §7): each enrolment's next review, the township's list of reviews due, and
//! reviews that re-verify and re-evaluate a household and propose an outcome a person confirms.
//! A review whose household shows no marked change leaves the level as it is.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use jiuzhu_domain::enrolment::{
    add_months, month_of, refuse_change, state_in, DatedChange, EnrolmentChange, EnrolmentStage,
    ExitCause, MonthStatus,
};
use jiuzhu_domain::{Money, Permission};
use jiuzhu_feeds::verify::Report;
use jiuzhu_policy::Program;
use jiuzhu_store::{EnrolmentRecord, ReviewRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{dated, display_names, states_in};
use crate::{Actor, Recipients, Result, ServiceError};

/// What a review proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// 无明显变化，维持原保障水平.
    Unchanged,
    /// 调整金额 from next month.
    Adjust,
    /// 渐退.
    GradualExit,
    /// 退出.
    End,
    /// 减少保障人口 (a member died).
    RemoveMember,
}

impl ReviewOutcome {
    pub fn code(self) -> &'static str {
        match self {
            ReviewOutcome::Unchanged => "unchanged",
            ReviewOutcome::Adjust => "adjust",
            ReviewOutcome::GradualExit => "gradual_exit",
            ReviewOutcome::End => "end",
            ReviewOutcome::RemoveMember => "remove_member",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReviewOutcome::Unchanged => "无明显变化，维持原保障",
            ReviewOutcome::Adjust => "调整救助金额",
            ReviewOutcome::GradualExit => "进入渐退期",
            ReviewOutcome::End => "退出保障",
            ReviewOutcome::RemoveMember => "减少保障人口",
        }
    }

    fn from_code(code: &str) -> Option<ReviewOutcome> {
        [
            ReviewOutcome::Unchanged,
            ReviewOutcome::Adjust,
            ReviewOutcome::GradualExit,
            ReviewOutcome::End,
            ReviewOutcome::RemoveMember,
        ]
        .into_iter()
        .find(|o| o.code() == code)
    }
}

/// An enrolment whose review falls due.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DueReview {
    pub enrolment_id: i64,
    pub household_id: i64,
    pub head_name: String,
    pub program_name: String,
    pub region_name: String,
    pub due: NaiveDate,
    pub overdue: bool,
    pub amount_fen: i64,
    /// A proposal waiting for confirmation, if one was made.
    pub proposal_id: Option<i64>,
}

/// A review's proposal (or decision) as shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    pub id: i64,
    pub enrolment_id: i64,
    pub household_id: i64,
    pub head_name: String,
    pub program_name: String,
    pub month: String,
    pub outcome: ReviewOutcome,
    pub outcome_label: String,
    /// The change confirmation records, in words; empty when nothing changes.
    pub change: String,
    pub current_fen: i64,
    /// The amount the evaluation gives now (for 低保), in fen.
    pub evaluated_fen: Option<i64>,
    /// What the proposal rests on, line by line.
    pub basis: Vec<String>,
    pub proposed_by: String,
    pub proposed_at: DateTime<Utc>,
    /// proposed, confirmed, rejected
    pub status: String,
    pub status_label: String,
    pub decided_by: Option<String>,
    pub decision_note: String,
}

/// The outcome of a batch of reviews.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchReview {
    pub month: String,
    pub reviewed: usize,
    /// Reviews proposed per outcome label.
    pub outcomes: Vec<(String, usize)>,
    /// Households skipped with the reason (already proposed, no members).
    pub skipped: Vec<(i64, String)>,
    pub elapsed_ms: u128,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ReviewDecision {
    /// True confirms the outcome; false rejects it (with the note), leaving the enrolment as is.
    pub confirm: bool,
    pub note: String,
}

/// Households weighed side by side and written in one transaction during a batch review.
const REVIEW_GROUP: usize = 64;

/// What was found for a household: the proposal, its change and its basis.
struct Proposal {
    outcome: ReviewOutcome,
    change: Option<DatedChange>,
    evaluated_fen: Option<i64>,
    basis: Vec<String>,
}

fn death_of(report: &Report, names: &HashMap<String, i64>) -> Vec<(i64, NaiveDate)> {
    report
        .findings
        .iter()
        .filter(|f| f.text.contains("已登记死亡"))
        .filter_map(|f| {
            let person = names.get(&f.member).copied().or_else(|| {
                names
                    .iter()
                    .find(|(n, _)| f.member.contains(n.as_str()))
                    .map(|(_, id)| *id)
            })?;
            let date = NaiveDate::parse_from_str(f.text.get(..10)?, "%Y-%m-%d").ok()?;
            Some((person, date))
        })
        .collect()
}

impl Recipients<'_> {
    /// Enrolments whose review is due by the end of `month`, in the actor's region.
    pub async fn reviews_due(&self, actor: &Actor, month: NaiveDate) -> Result<Vec<DueReview>> {
        actor.require(Permission::ReadPeople)?;
        let month = month_of(month);
        let end = add_months(month, 1).pred_opt().expect("a day");
        let today = self.today();
        let mut tx = self.store.begin_read().await?;
        let enrolments = tx.enrolments_in(actor.scope(), None).await?;
        let changes = tx.changes_in(actor.scope()).await?;
        let states = states_in(&changes, month_of(today))?;
        let proposed: HashMap<i64, i64> = tx
            .reviews_in(actor.scope(), "proposed")
            .await?
            .into_iter()
            .map(|r| (r.enrolment_id, r.id))
            .collect();
        let people: HashMap<i64, String> = tx
            .enrolment_people(actor.scope())
            .await?
            .into_iter()
            .map(|p| (p.enrolment_id, p.name))
            .collect();
        let catalogue = self.catalogue_now(&mut tx).await?;
        let mut due = Vec::new();
        for e in enrolments {
            let Some(next) = e.next_review.filter(|d| *d <= end) else {
                continue;
            };
            if e.stage != EnrolmentStage::Confirmed.code() {
                continue;
            }
            let paying = states
                .get(&e.id)
                .is_some_and(|s| !matches!(s.status, MonthStatus::Ended | MonthStatus::NotYet));
            if !paying {
                continue;
            }
            due.push(DueReview {
                enrolment_id: e.id,
                household_id: e.household_id,
                head_name: people.get(&e.id).cloned().unwrap_or_default(),
                program_name: catalogue
                    .item(&e.program)
                    .map_or_else(|| e.program.clone(), |i| i.name.clone()),
                region_name: self.region_name(&mut tx, &e.region_code).await?,
                due: next,
                overdue: next < today,
                amount_fen: states.get(&e.id).map_or(0, |s| s.amount.fen()),
                proposal_id: proposed.get(&e.id).copied(),
            });
        }
        due.sort_by_key(|d| (d.due, d.enrolment_id));
        Ok(due)
    }

    /// Weighs one enrolment against its household's verification and evaluation.
    async fn propose_for(
        &self,
        e: &EnrolmentRecord,
        report: &Report,
        month: NaiveDate,
    ) -> Result<Proposal> {
        let next_month = add_months(month_of(self.today()), 1);
        let mut tx = self.store.begin_read().await?;
        let changes = dated(&tx.changes_of(e.id).await?)?;
        let household = tx
            .get_household(e.household_id, "")
            .await?
            .ok_or(ServiceError::NotFound)?;
        drop(tx);
        let state = state_in(&changes, month_of(self.today()));
        let names: HashMap<String, i64> = household
            .current_members()
            .map(|m| (m.name.clone(), m.person_id))
            .collect();
        let mut basis = vec![format!(
            "核对{}：家庭月收入（核实）{}元，申报{}元；存款{}元，证券{}元，车辆{}辆，经营主体{}个",
            report.month,
            Money::from_fen(report.verified_monthly_income_fen),
            Money::from_fen(report.declared_monthly_income_fen),
            Money::from_fen(report.deposits_fen),
            Money::from_fen(report.securities_fen),
            report.vehicles,
            report.businesses
        )];
        basis.extend(
            report
                .findings
                .iter()
                .filter(|f| f.attention)
                .map(|f| format!("{}：{}（{}）", f.member, f.text, f.source)),
        );
        // A death ends that member's part from the month after it, or the whole enrolment.
        let deaths: Vec<(i64, NaiveDate)> = death_of(report, &names)
            .into_iter()
            .filter(|(p, _)| state.members.contains(p))
            .collect();
        if let Some((person, date)) = deaths.first() {
            let from = add_months(month_of(*date), 1).max(
                changes
                    .iter()
                    .map(|c| c.month)
                    .max()
                    .unwrap_or(e.first_month),
            );
            let left = state
                .members
                .iter()
                .filter(|m| !deaths.iter().any(|(d, _)| d == *m))
                .count();
            let (outcome, change) = if left == 0 {
                (
                    ReviewOutcome::End,
                    EnrolmentChange::Ended {
                        cause: ExitCause::Death,
                    },
                )
            } else {
                (
                    ReviewOutcome::RemoveMember,
                    EnrolmentChange::MemberRemoved { person_id: *person },
                )
            };
            basis.push(format!("{date}死亡：自{}起", from.format("%Y年%-m月")));
            return Ok(Proposal {
                outcome,
                change: Some(DatedChange {
                    month: from,
                    change,
                }),
                evaluated_fen: None,
                basis,
            });
        }
        let Some(program) = Program::from_code(&e.program) else {
            basis.push("该项目无测算规则：仅核对，维持原保障".into());
            return Ok(Proposal {
                outcome: ReviewOutcome::Unchanged,
                change: None,
                evaluated_fen: None,
                basis,
            });
        };
        let evaluation = self
            .policy()
            .evaluate_registered(
                e.household_id,
                &e.region_code,
                month,
                Some((format!("复核核对（{}）", report.month), report)),
                // Having no one bound to support them was established when a 特困 person
                // was enrolled; the registry does not record it.
                e.program == "tekun",
            )
            .await?;
        basis.extend(evaluation.basis.iter().skip(1).cloned());
        if e.program == "tekun" {
            basis.push("无法定赡养、抚养、扶养义务人：纳入时已调查确认".into());
        }
        let Some(decision) = evaluation.decision(program) else {
            return Ok(Proposal {
                outcome: ReviewOutcome::Unchanged,
                change: None,
                evaluated_fen: None,
                basis,
            });
        };
        basis.push(format!(
            "测算{}：家庭人均月收入{}元；{}",
            evaluation.month,
            Money::from_fen(evaluation.per_capita_income_fen),
            if decision.eligible {
                format!("符合条件，{}", decision.amount_text)
            } else {
                format!(
                    "不符合条件：{}",
                    decision.reason.clone().unwrap_or_default()
                )
            }
        ));
        let current = state.amount_in_force;
        if decision.eligible {
            let threshold =
                self.money_param(&e.region_code, "review.adjust_threshold", self.today())?;
            let new = Money::from_fen(decision.amount_fen);
            let delta = (new.fen() - current.fen()).abs();
            if delta < threshold.fen() || state.status == MonthStatus::GradualExit {
                basis.push(format!(
                    "月救助金测算{new}元，与现发{current}元相差{}元，不足{threshold}元：没有明显变化，不调整（第7条）",
                    Money::from_fen(delta)
                ));
                return Ok(Proposal {
                    outcome: ReviewOutcome::Unchanged,
                    change: None,
                    evaluated_fen: Some(new.fen()),
                    basis,
                });
            }
            return Ok(Proposal {
                outcome: ReviewOutcome::Adjust,
                change: Some(DatedChange {
                    month: next_month,
                    change: EnrolmentChange::Adjusted {
                        amount_fen: new.fen(),
                    },
                }),
                evaluated_fen: Some(new.fen()),
                basis,
            });
        }
        if state.status == MonthStatus::GradualExit {
            basis.push("已在渐退期：期满自动退出".into());
            return Ok(Proposal {
                outcome: ReviewOutcome::Unchanged,
                change: None,
                evaluated_fen: Some(0),
                basis,
            });
        }
        let reason = decision.reason.clone().unwrap_or_default();
        let assets = ["资产", "机动车", "经营"]
            .iter()
            .any(|w| reason.contains(w));
        if e.program == "dibao" && !assets {
            let months = self.count_param(&e.region_code, "dibao.exit_months", self.today())?;
            return Ok(Proposal {
                outcome: ReviewOutcome::GradualExit,
                change: Some(DatedChange {
                    month: next_month,
                    change: EnrolmentChange::GradualExit {
                        months: months.clamp(1, 24) as u32,
                    },
                }),
                evaluated_fen: Some(0),
                basis,
            });
        }
        Ok(Proposal {
            outcome: ReviewOutcome::End,
            change: Some(DatedChange {
                month: next_month,
                change: EnrolmentChange::Ended {
                    cause: if assets {
                        ExitCause::Assets
                    } else {
                        ExitCause::IncomeAboveStandard
                    },
                },
            }),
            evaluated_fen: Some(0),
            basis,
        })
    }

    /// Reviews the confirmed enrolments of a household now (a warning, a report, an
    /// inspection found something); the returned note says what was proposed.
    pub(crate) async fn review_household(
        &self,
        actor: &Actor,
        household: i64,
        note: &str,
    ) -> Result<String> {
        let mut read = self.store.begin_read().await?;
        let ids: Vec<i64> = read
            .enrolments_of_household(household)
            .await?
            .into_iter()
            .filter(|e| e.stage == "confirmed")
            .map(|e| e.id)
            .collect();
        drop(read);
        if ids.is_empty() {
            return Err(ServiceError::invalid(
                "outcome",
                "该户没有在保的救助，无需复核；请选择其他处置结果",
            ));
        }
        let batch = self.review(actor, &ids).await?;
        let proposed: Vec<String> = batch
            .outcomes
            .iter()
            .map(|(label, n)| format!("{label}{n}项"))
            .collect();
        Ok(if proposed.is_empty() {
            format!("{note}（已有待确认的复核建议）")
        } else {
            format!("{note}（已提出复核建议：{}）", proposed.join("、"))
        })
    }

    /// Reviews enrolments: verifies their households against the department facts, evaluates
    /// them and records a proposal for each, to be confirmed by a person. Each household's
    /// proposal is written on its own, so an interruption leaves each reviewed or not; one with
    /// a proposal waiting is skipped.
    pub async fn review(&self, actor: &Actor, enrolment_ids: &[i64]) -> Result<BatchReview> {
        self.review_with(actor, enrolment_ids, |_, _| {}).await
    }

    /// As [`Self::review`], telling `progress` (households done, households to do) as it goes.
    pub async fn review_with(
        &self,
        actor: &Actor,
        enrolment_ids: &[i64],
        mut progress: impl FnMut(usize, usize) + Send,
    ) -> Result<BatchReview> {
        actor.require(Permission::ManageRecipients)?;
        let started = std::time::Instant::now();
        let month = month_of(self.today());
        let mut tx = self.store.begin_read().await?;
        let mut enrolments = Vec::new();
        for id in enrolment_ids {
            let e = tx
                .enrolment(*id)
                .await?
                .filter(|e| e.region_code.starts_with(actor.scope()))
                .ok_or_else(|| {
                    ServiceError::invalid(
                        "enrolment_ids",
                        format!("保障{id}不存在或不在您的管辖范围内"),
                    )
                })?;
            if e.stage != EnrolmentStage::Confirmed.code() {
                return Err(ServiceError::invalid(
                    "enrolment_ids",
                    format!("保障{id}尚未确认纳入"),
                ));
            }
            enrolments.push(e);
        }
        let waiting: std::collections::HashSet<i64> = tx
            .reviews_in(actor.scope(), "proposed")
            .await?
            .into_iter()
            .map(|r| r.enrolment_id)
            .collect();
        drop(tx);
        let households: Vec<i64> = {
            let mut h: Vec<i64> = enrolments.iter().map(|e| e.household_id).collect();
            h.sort_unstable();
            h.dedup();
            h
        };
        let verified = self
            .verification()
            .review_households(actor, Some(&households), month)
            .await?;
        let reports: HashMap<i64, &Report> = verified
            .households
            .iter()
            .map(|h| (h.household_id, &h.report))
            .collect();
        let mut outcomes: HashMap<&'static str, usize> = HashMap::new();
        let mut skipped = Vec::new();
        let mut reviewed = 0;
        let mut todo = Vec::new();
        for e in enrolments {
            if waiting.contains(&e.id) {
                skipped.push((e.household_id, "已有待确认的复核结果".to_string()));
                continue;
            }
            match reports.get(&e.household_id) {
                Some(report) => todo.push((e, (*report).clone())),
                None => skipped.push((e.household_id, "该户当前没有成员".to_string())),
            }
        }
        // Households are weighed a few at a time, side by side; each group's proposals are
        // written in one transaction, so an interruption leaves every household reviewed or not.
        for group in todo.chunks(REVIEW_GROUP) {
            let mut running = tokio::task::JoinSet::new();
            for (i, (e, report)) in group.iter().enumerate() {
                let services = crate::Services::clone(self);
                let (e, report) = (e.clone(), report.clone());
                running.spawn(async move {
                    let p = services.recipients().propose_for(&e, &report, month).await;
                    (i, p)
                });
            }
            let mut proposals: Vec<(usize, Proposal)> = Vec::with_capacity(group.len());
            while let Some(done) = running.join_next().await {
                let (i, p) = done.map_err(|e| {
                    ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(format!(
                        "复核中断：{e}"
                    )))
                })?;
                proposals.push((i, p?));
            }
            proposals.sort_by_key(|(i, _)| *i);
            let mut tx = self.store.begin().await?;
            for (i, p) in &proposals {
                let e = &group[*i].0;
                let id = tx
                    .insert_review(&ReviewRecord {
                        id: 0,
                        enrolment_id: e.id,
                        region_code: e.region_code.clone(),
                        month,
                        outcome: p.outcome.code().to_string(),
                        change_body: p
                            .change
                            .as_ref()
                            .map(|c| serde_json::to_string(c).expect("changes serialise")),
                        basis: json!({"lines": p.basis, "evaluated_fen": p.evaluated_fen})
                            .to_string(),
                        proposed_by: actor.username.clone(),
                        proposed_at: self.now(),
                        status: "proposed".into(),
                        decided_by: None,
                        decided_at: None,
                        decision_note: String::new(),
                    })
                    .await?;
                tx.append_audit(&actor.audit(
                    "review.propose",
                    "enrolment",
                    e.id,
                    Some(&e.region_code),
                    json!({"review": id, "outcome": p.outcome.code()}),
                ))
                .await?;
                *outcomes.entry(p.outcome.label()).or_default() += 1;
                reviewed += 1;
            }
            tx.commit().await?;
            progress(reviewed, todo.len());
        }
        let mut outcomes: Vec<(String, usize)> = outcomes
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        outcomes.sort();
        Ok(BatchReview {
            month: month.format("%Y-%m").to_string(),
            reviewed,
            outcomes,
            skipped,
            elapsed_ms: started.elapsed().as_millis(),
        })
    }

    /// Reviews the enrolments of those a death file names (the platform acting on the file, for
    /// each township to confirm). Returns how many were proposed.
    pub(crate) async fn review_deaths(&self, file_id: i64) -> Result<usize> {
        let mut tx = self.store.begin_read().await?;
        let keys: std::collections::HashSet<i64> =
            tx.fact_keys_of_file(file_id).await?.into_iter().collect();
        let mut hit: Vec<i64> = tx
            .enrolled_indexes()
            .await?
            .into_iter()
            .filter(|(_, _, index)| {
                index
                    .as_deref()
                    .and_then(jiuzhu_store::blind_key_of_index)
                    .is_some_and(|k| keys.contains(&k))
            })
            .map(|(e, _, _)| e)
            .collect();
        let county = tx
            .regions_under("")
            .await?
            .into_iter()
            .find(|r| r.level == "county")
            .and_then(|r| jiuzhu_domain::RegionCode::parse(&r.code).ok());
        hit.sort_unstable();
        hit.dedup();
        // Only those still paid: an enrolment already ended needs nothing.
        let month = month_of(self.today());
        let mut paying = Vec::with_capacity(hit.len());
        for id in hit {
            let state = state_in(&dated(&tx.changes_of(id).await?)?, month);
            if matches!(
                state.status,
                MonthStatus::Paid | MonthStatus::Suspended | MonthStatus::GradualExit
            ) {
                paying.push(id);
            }
        }
        let hit = paying;
        drop(tx);
        let Some(county) = county.filter(|_| !hit.is_empty()) else {
            return Ok(0);
        };
        let actor = Actor {
            role: jiuzhu_domain::Role::WindowClerk,
            display_name: "系统（死亡信息比对）".into(),
            ..Actor::system(county, jiuzhu_store::Interface::Cli)
        };
        Ok(self.review(&actor, &hit).await?.reviewed)
    }

    /// Reviews every enrolment due by the end of `month` in the actor's region.
    pub async fn review_due(&self, actor: &Actor, month: NaiveDate) -> Result<BatchReview> {
        self.review_due_with(actor, month, |_, _| {}).await
    }

    /// As [`Self::review_due`], with progress.
    pub async fn review_due_with(
        &self,
        actor: &Actor,
        month: NaiveDate,
        progress: impl FnMut(usize, usize) + Send,
    ) -> Result<BatchReview> {
        let due: Vec<i64> = self
            .reviews_due(actor, month)
            .await?
            .into_iter()
            .filter(|d| d.proposal_id.is_none())
            .map(|d| d.enrolment_id)
            .collect();
        self.review_with(actor, &due, progress).await
    }

    async fn review_view(&self, tx: &mut jiuzhu_store::Tx, r: ReviewRecord) -> Result<ReviewView> {
        let e = tx
            .enrolment(r.enrolment_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let changes = dated(&tx.changes_of(e.id).await?)?;
        let current = state_in(&changes, r.month).amount_in_force.fen();
        let basis: serde_json::Value = serde_json::from_str(&r.basis).unwrap_or_default();
        let change: Option<DatedChange> = r
            .change_body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok());
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
        let mut users = vec![r.proposed_by.as_str()];
        users.extend(r.decided_by.as_deref());
        let people = display_names(tx, users).await?;
        let catalogue = self.catalogue_now(tx).await?;
        let outcome = ReviewOutcome::from_code(&r.outcome).unwrap_or(ReviewOutcome::Unchanged);
        Ok(ReviewView {
            id: r.id,
            enrolment_id: e.id,
            household_id: e.household_id,
            head_name,
            program_name: catalogue
                .item(&e.program)
                .map_or_else(|| e.program.clone(), |i| i.name.clone()),
            month: r.month.format("%Y-%m").to_string(),
            outcome,
            outcome_label: outcome.label().to_string(),
            change: change
                .map(|c| {
                    format!(
                        "自{}起{}",
                        c.month.format("%Y年%-m月"),
                        super::describe(&c.change, &names)
                    )
                })
                .unwrap_or_default(),
            current_fen: current,
            evaluated_fen: basis["evaluated_fen"].as_i64(),
            basis: basis["lines"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|l| l.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            proposed_by: people.get(&r.proposed_by).cloned().unwrap_or_default(),
            proposed_at: r.proposed_at,
            status_label: match r.status.as_str() {
                "proposed" => "待确认",
                "confirmed" => "已确认",
                _ => "未采纳",
            }
            .to_string(),
            status: r.status,
            decided_by: r
                .decided_by
                .as_deref()
                .map(|u| people.get(u).cloned().unwrap_or_default()),
            decision_note: r.decision_note,
        })
    }

    /// Review proposals waiting for confirmation in the actor's region.
    pub async fn proposals(&self, actor: &Actor) -> Result<Vec<ReviewView>> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin_read().await?;
        let mut views = Vec::new();
        for r in tx.reviews_in(actor.scope(), "proposed").await? {
            views.push(self.review_view(&mut tx, r).await?);
        }
        Ok(views)
    }

    /// The reviews of one enrolment, oldest first.
    pub async fn reviews_of(&self, actor: &Actor, enrolment_id: i64) -> Result<Vec<ReviewView>> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin_read().await?;
        tx.enrolment(enrolment_id)
            .await?
            .filter(|e| e.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        let mut views = Vec::new();
        for r in tx.reviews_of(enrolment_id).await? {
            views.push(self.review_view(&mut tx, r).await?);
        }
        Ok(views)
    }

    /// Confirms or rejects a review's proposal. Someone other than the proposer decides;
    /// confirming records the change (if any) and sets the next review.
    pub async fn decide_review(
        &self,
        actor: &Actor,
        review_id: i64,
        decision: &ReviewDecision,
    ) -> Result<ReviewView> {
        actor.require(Permission::ApproveAssistance)?;
        let note = decision.note.trim();
        if !decision.confirm && note.is_empty() {
            return Err(ServiceError::invalid("note", "不采纳复核结果须写明理由"));
        }
        let mut tx = self.store.begin().await?;
        let r = tx
            .review(review_id)
            .await?
            .filter(|r| r.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        if r.proposed_by == actor.username {
            return Err(ServiceError::invalid(
                "decided_by",
                "提出复核结果的人不能确认自己的复核结果：须由另一人确认",
            ));
        }
        let e = tx
            .enrolment(r.enrolment_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let status = if decision.confirm {
            "confirmed"
        } else {
            "rejected"
        };
        if !tx
            .decide_review(review_id, status, &actor.username, self.now(), note)
            .await?
        {
            return Err(ServiceError::Conflict {
                field: Some("status".into()),
                message: "该复核结果已经处理过（可能是重复提交）".into(),
            });
        }
        if decision.confirm {
            let change: Option<DatedChange> = r
                .change_body
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|err| {
                    ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(format!(
                        "复核{review_id}：{err}"
                    )))
                })?;
            let ends = matches!(
                change.as_ref().map(|c| &c.change),
                Some(EnrolmentChange::Ended { .. })
            );
            if let Some(c) = change {
                let existing = dated(&tx.changes_of(e.id).await?)?;
                if let Some((field, message)) = refuse_change(&existing, &c) {
                    return Err(ServiceError::invalid(field, message));
                }
                self.append_change(
                    &mut tx,
                    actor,
                    e.id,
                    &e.region_code,
                    c.month,
                    &c.change,
                    &format!(
                        "定期复核：{}",
                        if note.is_empty() {
                            "确认复核结果"
                        } else {
                            note
                        }
                    ),
                    &actor.username,
                )
                .await?;
            }
            let next = if ends {
                None
            } else {
                let from = add_months(month_of(self.today()), 1);
                Some(self.next_review_after(&mut tx, &e, from).await?)
            };
            tx.set_next_review(e.id, next).await?;
        }
        tx.append_audit(&actor.audit(
            if decision.confirm {
                "review.confirm"
            } else {
                "review.reject"
            },
            "enrolment",
            e.id,
            Some(&e.region_code),
            json!({"review": review_id, "outcome": r.outcome, "note": note}),
        ))
        .await?;
        let r = tx.review(review_id).await?.ok_or(ServiceError::NotFound)?;
        let view = self.review_view(&mut tx, r).await?;
        tx.commit().await?;
        Ok(view)
    }
}
