//! 双随机、一公开: an inspection plan draws a share of the month's recipients per township and
//! program (rounded up) and assigns inspectors from a pool at random, never to their own
//! township. The draw is SHA-256 of `seed:enrolment id` in order, so the published seed lets
//! anyone repeat it. Results are recorded per household; an irregularity is reviewed by the
//! household's township or its money recovered; the results are published.

use std::collections::BTreeMap;

use chrono::{NaiveDate, Utc};
use jiuzhu_domain::enrolment::month_of;
use jiuzhu_domain::openness::{assign_inspectors, draw, sample_size, InspectionResult};
use jiuzhu_domain::{Money, Permission, Role};
use jiuzhu_store::{InspectionPlanRecord, InspectionTargetRecord, Tx};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::bounded;
use crate::recipients::{RegisterQuery, RegisterRow};
use crate::{Actor, Openness, Result, ServiceError};

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct InspectionInput {
    pub title: String,
    /// YYYY-MM of the recipients drawn from; this month when empty.
    pub month: String,
    /// Programs drawn from; every recurring program when empty.
    pub programs: Vec<String>,
    /// Share drawn per township and program, in percent; `inspections.sample_percent` when
    /// left out.
    pub percent: Option<u32>,
    /// The random seed; one is made (and recorded) when empty.
    pub seed: String,
    /// Accounts of the inspectors drawn from.
    pub inspectors: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct InspectionResultInput {
    /// compliant, review or recovery.
    pub result: String,
    pub findings: String,
    /// For recovery: the amount paid wrongly, in fen.
    pub amount_fen: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TargetView {
    pub id: i64,
    pub enrolment_id: i64,
    pub household_id: i64,
    pub head_name: String,
    pub township: String,
    pub village: String,
    pub program_name: String,
    pub inspector: String,
    pub inspector_username: String,
    pub result_label: Option<String>,
    pub findings: Option<String>,
    #[schema(value_type = Option<i64>)]
    pub amount: Option<Money>,
    pub checked_on: Option<NaiveDate>,
    /// For an irregularity to review: what the township did, or that it waits.
    pub follow_up: Option<String>,
    pub awaiting_review: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StratumView {
    pub township: String,
    pub program_name: String,
    pub recipients: usize,
    pub drawn: usize,
    pub compliant: usize,
    pub irregular: usize,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanView {
    pub id: i64,
    pub title: String,
    pub month: String,
    pub percent: i64,
    pub seed: String,
    /// SHA-256 over the drawn enrolments, in order.
    pub digest: String,
    pub programs: Vec<String>,
    pub inspectors: Vec<String>,
    pub created_by: String,
    pub published: bool,
    pub strata: Vec<StratumView>,
    pub drawn: usize,
    pub checked: usize,
    pub irregular: usize,
    /// The targets the reader may see: all for the supervisor, one's own for an inspector,
    /// the township's irregular ones for its reviewers.
    pub targets: Vec<TargetView>,
}

/// The results notice: no names, only the draw and the counts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicPlan {
    pub id: i64,
    pub title: String,
    pub month: String,
    pub percent: i64,
    pub seed: String,
    pub digest: String,
    pub strata: Vec<StratumView>,
    pub drawn: usize,
    pub compliant: usize,
    pub irregular: usize,
    pub published_on: NaiveDate,
}

fn digest_of(ids: &[i64]) -> String {
    let mut h = Sha256::new();
    for id in ids {
        h.update(id.to_string().as_bytes());
        h.update(b"\n");
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A staff member who may be drawn as an inspector.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Inspector {
    pub username: String,
    /// 顾晓峰（塘桥镇 · 窗口受理员）
    pub label: String,
}

impl Openness<'_> {
    /// The active staff of the county who may inspect: window clerks, reviewers, approvers and
    /// supervisors.
    pub async fn inspector_pool(&self, actor: &Actor) -> Result<Vec<Inspector>> {
        actor.require(Permission::Supervise)?;
        let county = actor.county();
        let mut tx = self.store.begin_read().await?;
        let mut out = Vec::new();
        for u in tx.users_in(county).await? {
            if !u.active
                || !matches!(
                    u.role,
                    Role::WindowClerk
                        | Role::TownshipReviewer
                        | Role::CountyApprover
                        | Role::Supervisor
                )
            {
                continue;
            }
            let place = self.region_name(&mut tx, u.region.as_str()).await?;
            let place = if place.is_empty() {
                "县（市、区）".to_string()
            } else {
                place
            };
            out.push(Inspector {
                label: format!("{}（{} · {}）", u.display_name, place, u.role.label()),
                username: u.username,
            });
        }
        Ok(out)
    }

    /// Draws an inspection plan over the actor's county (supervisor).
    pub async fn plan_inspection(
        &self,
        actor: &Actor,
        input: &InspectionInput,
    ) -> Result<PlanView> {
        actor.require(Permission::Supervise)?;
        let title = bounded("title", &input.title, "检查计划名称", 100)?;
        let month = if input.month.trim().is_empty() {
            month_of(self.today())
        } else {
            crate::recipients::parse_month("month", &input.month)?
        };
        let percent = match input.percent {
            Some(p) => p,
            None => {
                self.count_param(actor.scope(), "inspections.sample_percent", self.today())? as u32
            }
        };
        if !(1..=100).contains(&percent) {
            return Err(ServiceError::invalid(
                "percent",
                "抽查比例应为1至100之间的整数",
            ));
        }
        let seed = match input.seed.trim() {
            "" => format!("{:016x}", rand::thread_rng().gen::<u64>()),
            s if s.chars().count() > 64 => {
                return Err(ServiceError::invalid("seed", "随机种子不能超过64个字符"))
            }
            s => s.to_string(),
        };
        let mut tx = self.store.begin_read().await?;
        let mut pool = Vec::new();
        for name in input
            .inspectors
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            let user = tx
                .user_by_name(name)
                .await?
                .filter(|u| {
                    u.active
                        && u.region.as_str().starts_with(actor.county())
                        && matches!(
                            u.role,
                            Role::WindowClerk
                                | Role::VillageAssistant
                                | Role::TownshipReviewer
                                | Role::CountyApprover
                                | Role::Supervisor
                        )
                })
                .ok_or_else(|| {
                    ServiceError::invalid("inspectors", format!("“{name}”不是本地在岗的工作人员"))
                })?;
            if !pool
                .iter()
                .any(|(u, _): &(String, String)| *u == user.username)
            {
                pool.push((user.username.clone(), user.region.as_str().to_string()));
            }
        }
        if pool.is_empty() {
            return Err(ServiceError::invalid(
                "inspectors",
                "请选择至少一名检查人员",
            ));
        }
        let catalogue = self.catalogue_now(&mut tx).await?;
        let programs: Vec<String> = if input.programs.is_empty() {
            catalogue
                .items
                .iter()
                .filter(|i| i.recurring)
                .map(|i| i.code.clone())
                .collect()
        } else {
            for p in &input.programs {
                if !catalogue.item(p).is_some_and(|i| i.recurring) {
                    return Err(ServiceError::invalid(
                        "programs",
                        format!("“{p}”不是按月发放的救助项目"),
                    ));
                }
            }
            input.programs.clone()
        };
        drop(tx);
        let rows = self
            .recipients()
            .register_lines(
                actor,
                &RegisterQuery {
                    month: Some(month.format("%Y-%m").to_string()),
                    ..Default::default()
                },
            )
            .await?
            .1;
        // Strata: township × program, in code order so the plan reads the same every time.
        let mut strata: BTreeMap<(String, String), Vec<(String, RegisterRow)>> = BTreeMap::new();
        for r in rows
            .into_iter()
            .filter(|r| programs.contains(&r.program) && r.amount_fen > 0)
        {
            strata
                .entry((
                    r.region_code[..9.min(r.region_code.len())].to_string(),
                    r.program.clone(),
                ))
                .or_default()
                .push((r.enrolment_id.to_string(), r));
        }
        let mut drawn: Vec<RegisterRow> = Vec::new();
        for ((township, program), candidates) in &strata {
            let k = sample_size(candidates.len(), percent);
            drawn.extend(draw(&format!("{seed}:{township}:{program}"), candidates, k));
        }
        if drawn.is_empty() {
            return Err(ServiceError::invalid("month", "该月没有可抽查的救助对象"));
        }
        let regions: Vec<String> = drawn.iter().map(|r| r.region_code.clone()).collect();
        let inspectors = assign_inspectors(&seed, &pool, &regions);
        if let Some(i) = inspectors.iter().position(Option::is_none) {
            return Err(ServiceError::invalid(
                "inspectors",
                format!(
                    "没有可派往{}的检查人员：检查人员不能检查本乡镇，请增加其他乡镇的人员",
                    drawn[i].township
                ),
            ));
        }
        let ids: Vec<i64> = drawn.iter().map(|r| r.enrolment_id).collect();
        let mut tx = self.store.begin().await?;
        let plan_id = tx
            .insert_inspection_plan(&InspectionPlanRecord {
                id: 0,
                title,
                month,
                scope: actor.scope().to_string(),
                programs: serde_json::to_string(&programs).expect("codes serialise"),
                percent: percent as i64,
                seed: seed.clone(),
                pool: serde_json::to_string(&pool).expect("pool serialises"),
                digest: digest_of(&ids),
                created_by: actor.username.clone(),
                created_at: self.now(),
                published_at: None,
            })
            .await?;
        for (r, inspector) in drawn.iter().zip(inspectors) {
            tx.insert_inspection_target(&InspectionTargetRecord {
                id: 0,
                plan_id,
                enrolment_id: r.enrolment_id,
                household_id: r.household_id,
                region_code: r.region_code.clone(),
                program: r.program.clone(),
                inspector: inspector.expect("every target has an inspector"),
                result: None,
                findings: None,
                amount_fen: None,
                receivable_id: None,
                checked_on: None,
                follow_up: None,
            })
            .await?;
        }
        tx.append_audit(&actor.audit(
            "inspection.plan",
            "inspection",
            plan_id,
            Some(actor.scope()),
            json!({"seed": seed, "percent": percent, "drawn": ids.len(), "month": month.format("%Y-%m").to_string()}),
        ))
        .await?;
        tx.commit().await?;
        self.inspection(actor, plan_id).await
    }

    /// Plans over the actor's region, or in which the actor inspects.
    pub async fn inspections(&self, actor: &Actor) -> Result<Vec<PlanView>> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin_read().await?;
        let plans = tx
            .inspection_plans(actor.scope(), Some(&actor.username), false)
            .await?;
        let mut out = Vec::new();
        for p in plans {
            let mut v = self.plan_view(&mut tx, Some(actor), p).await?;
            v.targets.clear();
            out.push(v);
        }
        Ok(out)
    }

    /// One plan with the targets the actor may see; the read is recorded.
    pub async fn inspection(&self, actor: &Actor, id: i64) -> Result<PlanView> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin().await?;
        let p = tx
            .inspection_plan(id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let view = self.plan_view(&mut tx, Some(actor), p).await?;
        let involved = view.targets.iter().any(|_| true)
            || tx
                .inspection_plans(actor.scope(), None, false)
                .await?
                .iter()
                .any(|p| p.id == id);
        if !involved {
            return Err(ServiceError::NotFound);
        }
        tx.append_audit(&actor.audit(
            "inspection.read",
            "inspection",
            id,
            Some(actor.scope()),
            json!({"households": view.targets.iter().map(|t| t.household_id).collect::<Vec<_>>()}),
        ))
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    async fn plan_view(
        &self,
        tx: &mut Tx,
        actor: Option<&Actor>,
        p: InspectionPlanRecord,
    ) -> Result<PlanView> {
        let targets = tx.inspection_targets(p.id).await?;
        let catalogue = self.catalogue_now(tx).await?;
        let program_name = |c: &str| {
            catalogue
                .item(c)
                .map_or_else(|| c.to_string(), |i| i.name.clone())
        };
        let programs: Vec<String> = serde_json::from_str(&p.programs).unwrap_or_default();
        let pool: Vec<(String, String)> = serde_json::from_str(&p.pool).unwrap_or_default();
        let mut users: Vec<&str> = pool.iter().map(|(u, _)| u.as_str()).collect();
        users.push(&p.created_by);
        let names = crate::recipients::display_names(tx, users).await?;
        let shown = |u: &str| names.get(u).cloned().unwrap_or_else(|| u.to_string());
        // Recipients per stratum, for the notice: the month's register at plan time.
        let mut strata: BTreeMap<(String, String), StratumView> = BTreeMap::new();
        for t in &targets {
            let township = self.region_name(tx, &t.region_code[..9]).await?;
            let s = strata
                .entry((t.region_code[..9].to_string(), t.program.clone()))
                .or_insert_with(|| StratumView {
                    township,
                    program_name: program_name(&t.program),
                    recipients: 0,
                    drawn: 0,
                    compliant: 0,
                    irregular: 0,
                });
            s.drawn += 1;
            match t.result.as_deref().and_then(InspectionResult::from_code) {
                Some(InspectionResult::Compliant) => s.compliant += 1,
                Some(_) => s.irregular += 1,
                None => {}
            }
        }
        let mut shown_targets = Vec::new();
        for t in &targets {
            let visible = match actor {
                None => false,
                Some(a) if a.role == Role::Supervisor && p.scope.starts_with(a.scope()) => true,
                Some(a) if t.inspector == a.username => true,
                // The household's township sees its irregular ones, to review them.
                Some(a) => {
                    t.region_code.starts_with(a.scope())
                        && a.scope().len() >= 9
                        && t.result.as_deref() == Some(InspectionResult::Review.code())
                }
            };
            if !visible {
                continue;
            }
            let household = tx.get_household(t.household_id, "").await?;
            let head_name = household
                .as_ref()
                .and_then(|h| h.members.iter().find(|m| m.person_id == h.head_person_id))
                .map(|m| m.name.clone())
                .unwrap_or_default();
            let place = self.region_name(tx, &t.region_code).await?;
            let mut parts = place.splitn(2, ' ');
            shown_targets.push(TargetView {
                id: t.id,
                enrolment_id: t.enrolment_id,
                household_id: t.household_id,
                head_name,
                township: parts.next().unwrap_or_default().to_string(),
                village: parts.next().unwrap_or_default().to_string(),
                program_name: program_name(&t.program),
                inspector: shown(&t.inspector),
                inspector_username: t.inspector.clone(),
                result_label: t
                    .result
                    .as_deref()
                    .and_then(InspectionResult::from_code)
                    .map(|r| r.label().to_string()),
                findings: t.findings.clone(),
                amount: t.amount_fen.map(Money::from_fen),
                checked_on: t.checked_on,
                awaiting_review: t.result.as_deref() == Some(InspectionResult::Review.code())
                    && t.follow_up.is_none(),
                follow_up: t.follow_up.clone(),
            });
        }
        let checked = targets.iter().filter(|t| t.result.is_some()).count();
        let irregular = targets
            .iter()
            .filter(|t| {
                t.result
                    .as_deref()
                    .is_some_and(|r| r != InspectionResult::Compliant.code())
            })
            .count();
        Ok(PlanView {
            id: p.id,
            title: p.title,
            month: p.month.format("%Y-%m").to_string(),
            percent: p.percent,
            seed: p.seed,
            digest: p.digest,
            programs: programs.iter().map(|c| program_name(c)).collect(),
            inspectors: pool.iter().map(|(u, _)| shown(u)).collect(),
            created_by: shown(&p.created_by),
            published: p.published_at.is_some(),
            strata: strata.into_values().collect(),
            drawn: targets.len(),
            checked,
            irregular,
            targets: shown_targets,
        })
    }

    /// The assigned inspector records a household's result, once.
    pub async fn record_inspection(
        &self,
        actor: &Actor,
        target_id: i64,
        input: &InspectionResultInput,
    ) -> Result<PlanView> {
        actor.require(Permission::ReadPeople)?;
        let result = InspectionResult::from_code(&input.result)
            .ok_or_else(|| ServiceError::invalid("result", "请选择检查结果"))?;
        let findings = if result == InspectionResult::Compliant && input.findings.trim().is_empty()
        {
            "符合救助条件，资金发放无误".to_string()
        } else {
            bounded("findings", &input.findings, "检查发现的问题", 1000)?
        };
        let mut tx = self.store.begin().await?;
        let mut t = tx
            .inspection_target(target_id)
            .await?
            .filter(|t| t.inspector == actor.username)
            .ok_or(ServiceError::NotFound)?;
        if t.result.is_some() {
            return Err(ServiceError::Conflict {
                field: Some("result".into()),
                message: "该户已记录检查结果（可能是重复提交）".into(),
            });
        }
        let plan = tx
            .inspection_plan(t.plan_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if result == InspectionResult::Recovery {
            let amount = input
                .amount_fen
                .filter(|a| *a > 0 && *a <= crate::cases::MAX_GRANT.fen() * 120)
                .ok_or_else(|| ServiceError::invalid("amount_fen", "请填写应追回的金额"))?;
            t.amount_fen = Some(amount);
            t.receivable_id = tx
                .insert_receivable(
                    t.household_id,
                    Some(t.enrolment_id),
                    None,
                    &t.region_code,
                    None,
                    amount,
                    &format!("{}抽查发现：{findings}", plan.title),
                    &actor.username,
                )
                .await?;
        }
        t.result = Some(result.code().to_string());
        t.findings = Some(findings);
        t.checked_on = Some(self.today());
        if !tx.record_inspection(&t).await? {
            return Err(ServiceError::Conflict {
                field: Some("result".into()),
                message: "该户已记录检查结果（可能是重复提交）".into(),
            });
        }
        tx.append_audit(&actor.audit(
            "inspection.result",
            "inspection",
            t.plan_id,
            Some(&t.region_code),
            json!({"target": t.id, "household": t.household_id, "result": result.code(), "amount_fen": t.amount_fen}),
        ))
        .await?;
        tx.commit().await?;
        self.inspection(actor, t.plan_id).await
    }

    /// The household's township reviews an irregularity an inspector found.
    pub async fn review_inspection(&self, actor: &Actor, target_id: i64) -> Result<PlanView> {
        actor.require(Permission::ManageRecipients)?;
        let mut read = self.store.begin_read().await?;
        let t = read
            .inspection_target(target_id)
            .await?
            .filter(|t| t.region_code.starts_with(actor.scope()))
            .filter(|t| t.result.as_deref() == Some(InspectionResult::Review.code()))
            .ok_or(ServiceError::NotFound)?;
        drop(read);
        if t.follow_up.is_some() {
            return Err(ServiceError::Conflict {
                field: None,
                message: "该户已经启动复核".into(),
            });
        }
        let note = self
            .recipients()
            .review_household(actor, t.household_id, "抽查发现问题")
            .await?;
        let mut tx = self.store.begin().await?;
        tx.set_inspection_follow_up(t.id, &note).await?;
        tx.append_audit(&actor.audit(
            "inspection.review",
            "inspection",
            t.plan_id,
            Some(&t.region_code),
            json!({"target": t.id, "household": t.household_id, "note": note}),
        ))
        .await?;
        tx.commit().await?;
        self.inspection(actor, t.plan_id).await
    }

    /// Publishes a plan's results once every drawn household is checked.
    pub async fn publish_inspection(&self, actor: &Actor, id: i64) -> Result<PlanView> {
        actor.require(Permission::Supervise)?;
        let mut tx = self.store.begin().await?;
        let p = tx
            .inspection_plan(id)
            .await?
            .filter(|p| p.scope.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        let left = tx
            .inspection_targets(id)
            .await?
            .iter()
            .filter(|t| t.result.is_none())
            .count();
        if left > 0 {
            return Err(ServiceError::invalid(
                "plan",
                format!("尚有{left}户未检查，全部检查后才能公开结果"),
            ));
        }
        if !tx.publish_inspection(p.id, Utc::now()).await? {
            return Err(ServiceError::Conflict {
                field: None,
                message: "检查结果已经公开".into(),
            });
        }
        tx.append_audit(&actor.audit(
            "inspection.publish",
            "inspection",
            id,
            Some(&p.scope),
            json!({}),
        ))
        .await?;
        tx.commit().await?;
        self.inspection(actor, id).await
    }

    /// Published plans, as the public sees them: the draw and the counts, no names.
    pub async fn public_inspections(&self) -> Result<Vec<PublicPlan>> {
        let mut tx = self.store.begin_read().await?;
        let plans = tx.inspection_plans("", None, true).await?;
        let mut out = Vec::new();
        for p in plans {
            let published_on = p
                .published_at
                .map(jiuzhu_domain::case::china_date)
                .unwrap_or_default();
            let v = self.plan_view(&mut tx, None, p).await?;
            out.push(PublicPlan {
                id: v.id,
                title: v.title,
                month: v.month,
                percent: v.percent,
                seed: v.seed,
                digest: v.digest,
                drawn: v.drawn,
                compliant: v.drawn - v.irregular,
                irregular: v.irregular,
                strata: v.strata,
                published_on,
            });
        }
        Ok(out)
    }
}
