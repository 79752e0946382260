//! One-window intake and collaborative handling: file an application, register it, transfer
//! each accepted item to its department, take the departments' steps, close with the combined
//! result. Every step is checked by the case's folded state and recorded as an event in the
//! same transaction as its audit row and the per-item projection.

mod register;
mod views;

pub use register::{stage_label, RegisterRow};
pub use views::{CaseView, DeadlineView, EventView, ItemView, PublicItem, PublicStatus};

use chrono::{DateTime, NaiveDate, Utc};
use jiuzhu_domain::case::{
    case_deadlines, china_date, CaseError, CaseEvent, CaseState, Cause, Channel, MissingMaterials,
    NeedsAssessment, Outcome, Recorded,
};
use jiuzhu_domain::{Catalogue, Department, Item, Money, Permission, Role};
use jiuzhu_store::{
    AuditRepo, CaseItemFilter, CaseItemRow, CaseRepo, CaseRow, CatalogueRepo, ItemProjection,
    NewCase, Organisation, PeopleRepo, Tx,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{Actor, Result, ServiceError, Services};

/// An application as taken at the window, by a village assistant, online, from the hotline, a grid
/// worker or a data match.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ApplicationInput {
    pub applicant_person_id: i64,
    /// window, online, village_assistant, hotline, grid_worker, proactive
    pub channel: String,
    /// The hardship in the applicant's words.
    pub hardship: String,
    /// illness, disability, disaster, unemployment, education, accident, other
    pub causes: Vec<String>,
    /// Catalogue item codes, e.g. `dibao`, `medical_assistance`.
    pub items: Vec<String>,
    /// When the request was made, if earlier than now (a hotline call logged later); never future.
    pub received_at: Option<DateTime<Utc>>,
    /// The same key twice files one case: forms carry one, API clients send their own.
    pub idempotency_key: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct MissingInput {
    pub item: String,
    /// Materials missing for this item, from its catalogue list.
    pub materials: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ReasonedItem {
    pub item: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct AssessmentInput {
    pub structure: String,
    pub health: String,
    pub labour_capacity: String,
    /// Rigid expenditure over 12 months, in fen.
    pub rigid_expenditure_fen: i64,
    pub notes: String,
}

/// The window's registration decisions, taken together.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RegistrationInput {
    /// Items the window suggests in addition; they join the request and can be decided below.
    pub suggest: Vec<ReasonedItem>,
    pub accept: Vec<String>,
    /// Not eligible at the window: the policy explanation for each.
    pub refuse: Vec<ReasonedItem>,
    /// The one-time notice of missing materials; it must cover every item left undecided.
    pub missing: Vec<MissingInput>,
    pub assessment: Option<AssessmentInput>,
    /// Transfer every accepted item to its department at once.
    pub transfer: bool,
}

/// A department's step on one item.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct DepartmentStep {
    pub item: String,
    /// receive, refuse, initial_check, complete, feedback
    pub action: String,
    /// The written reason (refuse) or note (initial_check, feedback).
    pub note: String,
    /// For complete: granted, service or refused.
    pub outcome: Option<String>,
    /// For a granted amount, in fen.
    pub amount_fen: Option<i64>,
    pub monthly: bool,
}

/// A window step on a case.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct WindowStep {
    /// transfer, withdraw, close, reopen, refer, referral_answer, supervise, supervision_answer,
    /// feedback (relaying a department's result)
    pub action: String,
    pub item: Option<String>,
    pub note: String,
    pub organisation_id: Option<i64>,
    pub accepted: bool,
    pub number: Option<u32>,
}

/// Which projection rows a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// A liaison's inbox: items with the department, not yet reported.
    Inbox,
    /// The window's queue: items waiting for the window.
    Window,
    /// Open items due today or overdue.
    Due,
}

fn refused(e: CaseError) -> ServiceError {
    ServiceError::Conflict {
        field: None,
        message: e.to_string(),
    }
}

fn text(field: &str, s: &str, what: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ServiceError::invalid(field, format!("请填写{what}")));
    }
    Ok(t.to_string())
}

pub(crate) struct Loaded {
    pub row: CaseRow,
    pub events: Vec<Recorded>,
    pub state: CaseState,
}

impl Services {
    /// The catalogue in force, from memory after the first read.
    async fn catalogue_now(&self, tx: &mut Tx) -> Result<std::sync::Arc<Catalogue>> {
        if let Some(c) = self.catalogue_cache.read().expect("catalogue lock").clone() {
            return Ok(c);
        }
        let departments: Vec<Department> = tx.departments().await?;
        let items: Vec<Item> = tx.items().await?.into_iter().map(|(i, _)| i).collect();
        let c = std::sync::Arc::new(Catalogue {
            source: String::new(),
            departments,
            items,
        });
        *self.catalogue_cache.write().expect("catalogue lock") = Some(c.clone());
        Ok(c)
    }

    /// The case as it now stands, read after a step committed (the step itself was audited).
    async fn fresh_view(&self, actor: &Actor, id: i64) -> Result<CaseView> {
        let mut tx = self.store.begin_read().await?;
        let loaded = self.load_case(&mut tx, actor, id).await?;
        self.case_view(&mut tx, actor, &loaded).await
    }

    /// The case if the actor may see it: by region, and for a liaison only when an item of the
    /// case went to their department.
    pub(crate) async fn load_case(&self, tx: &mut Tx, actor: &Actor, id: i64) -> Result<Loaded> {
        let row = tx
            .case_row(id, actor.scope())
            .await?
            .ok_or(ServiceError::NotFound)?;
        let events = tx.case_events(id).await?;
        let state = CaseState::fold(&events).map_err(|e| {
            ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(format!("案件{id}：{e}")))
        })?;
        if actor.role == Role::DepartmentLiaison {
            let mine = state
                .items
                .iter()
                .any(|i| i.department.is_some() && i.department == actor.department);
            if !mine {
                return Err(ServiceError::NotFound);
            }
        } else if !actor.role.allows(Permission::ReadPeople) {
            return Err(ServiceError::Forbidden);
        }
        Ok(Loaded { row, events, state })
    }

    /// Checks `events` against the case, records them, refreshes the projection and audits.
    async fn record(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        loaded: &mut Loaded,
        events: Vec<CaseEvent>,
    ) -> Result<()> {
        let now = self.now();
        let mut recorded = Vec::with_capacity(events.len());
        for event in events {
            let r = Recorded {
                at: now,
                actor: actor.username.clone(),
                department: if actor.role == Role::DepartmentLiaison {
                    actor.department.clone()
                } else {
                    None
                },
                event,
            };
            loaded.state.apply(&r).map_err(refused)?;
            recorded.push(r);
        }
        let seq = loaded.row.last_seq;
        let new_seq = tx
            .append_events(
                loaded.row.id,
                &loaded.row.region_code,
                seq,
                actor.interface.code(),
                &recorded,
            )
            .await?;
        loaded.row.last_seq = new_seq;
        self.project(tx, loaded).await?;
        let kinds: Vec<String> = recorded
            .iter()
            .map(|r| views::event_kind(&r.event).to_string())
            .collect();
        tx.append_audit(&actor.audit(
            "case.step",
            "case",
            loaded.row.id,
            Some(&loaded.row.region_code),
            json!({"events": kinds, "seq": new_seq}),
        ))
        .await?;
        loaded.events.extend(recorded);
        Ok(())
    }

    async fn project(&self, tx: &mut Tx, loaded: &Loaded) -> Result<()> {
        let catalogue = self.catalogue_now(tx).await?;
        let today = self.today();
        let calendar = self.calendar();
        let limit = |code: &str| catalogue.item(code).map_or(30, |i| i.time_limit_days);
        let deadlines = case_deadlines(&loaded.state, limit, &calendar, today);
        let items: Vec<ItemProjection> = loaded
            .state
            .items
            .iter()
            .map(|i| {
                let mine: Vec<_> = deadlines.iter().filter(|d| d.item == i.item).collect();
                let next = mine
                    .iter()
                    .filter(|d| d.is_open())
                    .min_by_key(|d| d.due.date);
                ItemProjection {
                    item_code: i.item.clone(),
                    department_code: i
                        .department
                        .clone()
                        .or_else(|| catalogue.item(&i.item).map(|c| c.department.clone()))
                        .unwrap_or_default(),
                    stage: i.stage.code().to_string(),
                    form_no: i.form_no.clone(),
                    next_due: if i.stage.is_settled() {
                        None
                    } else {
                        next.map(|d| d.due.date)
                    },
                    next_due_kind: next.map(|d| d.kind.code().to_string()),
                    late: mine.iter().any(|d| d.late),
                }
            })
            .collect();
        let status = if loaded.state.is_closed() {
            "closed"
        } else {
            "open"
        };
        tx.save_projection(loaded.row.id, &loaded.row.region_code, status, &items)
            .await?;
        Ok(())
    }

    /// Files an application. The same idempotency key returns the case already filed.
    pub async fn file_application(
        &self,
        actor: &Actor,
        input: &ApplicationInput,
    ) -> Result<CaseView> {
        actor.require(Permission::WritePeople)?;
        let key = input.idempotency_key.trim();
        if key.len() < 8 || key.len() > 100 {
            return Err(ServiceError::invalid(
                "idempotency_key",
                "请提供8至100个字符的防重复提交标识",
            ));
        }
        let channel = Channel::from_code(input.channel.trim())
            .ok_or_else(|| ServiceError::invalid("channel", "申请渠道无效"))?;
        let hardship = text("hardship", &input.hardship, "申请人陈述的困难情况")?;
        let causes = input
            .causes
            .iter()
            .map(|c| {
                Cause::from_code(c.trim())
                    .ok_or_else(|| ServiceError::invalid("causes", format!("致困原因“{c}”无效")))
            })
            .collect::<Result<Vec<_>>>()?;
        if causes.is_empty() {
            return Err(ServiceError::invalid("causes", "请选择至少一项致困原因"));
        }
        if input.items.is_empty() {
            return Err(ServiceError::invalid("items", "请选择至少一个救助事项"));
        }
        let now = self.now();
        let filed_at = match input.received_at {
            Some(t) if t > now + chrono::Duration::minutes(5) => {
                return Err(ServiceError::invalid("received_at", "申请时间不能晚于现在"))
            }
            Some(t) => t,
            None => now,
        };
        // Everything that only reads happens before the write transaction, so the single SQLite
        // writer is held just for the inserts.
        let mut read = self.store.begin_read().await?;
        if let Some(existing) = read.case_by_key(key).await? {
            drop(read);
            return self
                .replay(actor, existing, input.applicant_person_id)
                .await;
        }
        let catalogue = self.catalogue_now(&mut read).await?;
        for code in &input.items {
            if catalogue.item(code).is_none() {
                return Err(ServiceError::invalid(
                    "items",
                    format!("救助事项“{code}”不存在"),
                ));
            }
        }
        let person = read
            .get_person(input.applicant_person_id, actor.scope())
            .await?
            .ok_or_else(|| {
                ServiceError::invalid("applicant_person_id", "申请人未登记或不在您的管辖范围内")
            })?;
        drop(read);
        let household_id = person.household_id.ok_or_else(|| {
            ServiceError::invalid("applicant_person_id", "申请人尚未建立家庭档案，请先建户")
        })?;
        let region = person.person.residence_region.to_string();
        let mut tx = self.store.begin().await?;
        let inserted = tx
            .insert_case(NewCase {
                region_code: &region,
                household_id,
                applicant_person_id: person.id,
                channel: channel.code(),
                idempotency_key: key,
                filed_at,
                filed_by: &actor.username,
            })
            .await;
        let case_id = match inserted {
            Ok(id) => id,
            // The same form submitted twice at once: the other submission filed it.
            Err(jiuzhu_store::StoreError::Duplicate(_)) => {
                drop(tx);
                let mut read = self.store.begin_read().await?;
                let existing = read.case_by_key(key).await?.ok_or(ServiceError::Stale)?;
                drop(read);
                return self
                    .replay(actor, existing, input.applicant_person_id)
                    .await;
            }
            Err(e) => return Err(e.into()),
        };
        let mut loaded = Loaded {
            row: CaseRow {
                id: case_id,
                region_code: region.clone(),
                household_id,
                applicant_person_id: person.id,
                channel: channel.code().to_string(),
                status: "open".into(),
                filed_at,
                filed_by: actor.username.clone(),
                last_seq: 0,
            },
            events: Vec::new(),
            state: CaseState::default(),
        };
        let filed = Recorded {
            at: filed_at,
            actor: actor.username.clone(),
            department: None,
            event: CaseEvent::Filed {
                channel,
                applicant_person_id: person.id,
                household_id,
                hardship,
                causes,
                items: input.items.iter().map(|s| s.trim().to_string()).collect(),
            },
        };
        loaded.state.apply(&filed).map_err(refused)?;
        let seq = tx
            .append_events(
                case_id,
                &region,
                0,
                actor.interface.code(),
                std::slice::from_ref(&filed),
            )
            .await?;
        loaded.row.last_seq = seq;
        loaded.events.push(filed);
        self.project(&mut tx, &loaded).await?;
        tx.append_audit(&actor.audit(
            "case.file",
            "case",
            case_id,
            Some(&region),
            json!({"applicant_person_id": person.id, "channel": channel.code(), "items": input.items}),
        ))
        .await?;
        tx.commit().await?;
        self.fresh_view(actor, case_id).await
    }

    /// Writes a case whose events are already decided (the demo city's history). The events are
    /// checked by folding them, exactly as live steps are.
    pub(crate) async fn seed_case(
        &self,
        tx: &mut Tx,
        region: &str,
        household_id: i64,
        applicant_person_id: i64,
        key: &str,
        events: Vec<Recorded>,
    ) -> Result<i64> {
        let state = CaseState::fold(&events).map_err(refused)?;
        let filed_at = state
            .filed_at
            .ok_or(ServiceError::invalid("events", "缺少申请事件"))?;
        let channel = state.channel.map_or("window", |c| c.code());
        let id = tx
            .insert_case(NewCase {
                region_code: region,
                household_id,
                applicant_person_id,
                channel,
                idempotency_key: key,
                filed_at,
                filed_by: &events[0].actor,
            })
            .await?;
        let seq = tx.append_events(id, region, 0, "system", &events).await?;
        let row = CaseRow {
            id,
            region_code: region.to_string(),
            household_id,
            applicant_person_id,
            channel: channel.to_string(),
            status: "open".into(),
            filed_at,
            filed_by: events[0].actor.clone(),
            last_seq: seq,
        };
        self.project(tx, &Loaded { row, events, state }).await?;
        Ok(id)
    }

    /// A filing whose idempotency key was seen before: the case it filed, if it is the same applicant.
    async fn replay(
        &self,
        actor: &Actor,
        existing: CaseRow,
        applicant_person_id: i64,
    ) -> Result<CaseView> {
        if existing.applicant_person_id != applicant_person_id {
            return Err(ServiceError::Conflict {
                field: Some("idempotency_key".into()),
                message: "该防重复提交标识已用于另一申请人的申请".into(),
            });
        }
        self.get_case(actor, existing.id).await
    }

    /// The acceptance form number: SL, the township code, the day, and that day's sequence.
    pub(crate) async fn form_no(
        &self,
        tx: &mut Tx,
        region: &str,
        day: NaiveDate,
    ) -> Result<String> {
        let township = &region[..region.len().min(9)];
        let counter = format!("form:{township}:{}", day.format("%Y%m%d"));
        let n = tx.next_counter(&counter).await?;
        Ok(format!("SL{township}{}{n:04}", day.format("%Y%m%d")))
    }

    pub async fn register(
        &self,
        actor: &Actor,
        case_id: i64,
        input: &RegistrationInput,
    ) -> Result<CaseView> {
        actor.require(Permission::WritePeople)?;
        let mut tx = self.store.begin().await?;
        let mut loaded = self.load_case(&mut tx, actor, case_id).await?;
        let catalogue = self.catalogue_now(&mut tx).await?;
        let known = |field: &str, code: &str| -> Result<Item> {
            catalogue
                .item(code)
                .cloned()
                .ok_or_else(|| ServiceError::invalid(field, format!("救助事项“{code}”不存在")))
        };
        let mut events = Vec::new();
        for s in &input.suggest {
            known("suggest", &s.item)?;
            events.push(CaseEvent::ItemSuggested {
                item: s.item.clone(),
                reason: s.reason.trim().to_string(),
            });
        }
        let today = self.today();
        for code in &input.accept {
            known("accept", code)?;
            let form_no = self
                .form_no(&mut tx, &loaded.row.region_code, today)
                .await?;
            events.push(CaseEvent::ItemAccepted {
                item: code.clone(),
                form_no,
            });
        }
        for r in &input.refuse {
            known("refuse", &r.item)?;
            events.push(CaseEvent::ItemRefused {
                item: r.item.clone(),
                explanation: text("refuse", &r.reason, "不符合条件的政策解释")?,
            });
        }
        if !input.missing.is_empty() {
            let mut missing = Vec::new();
            for m in &input.missing {
                let item = known("missing", &m.item)?;
                let materials: Vec<String> = if m.materials.is_empty() {
                    item.materials.clone()
                } else {
                    m.materials.clone()
                };
                if let Some(bad) = materials.iter().find(|x| !item.materials.contains(x)) {
                    return Err(ServiceError::invalid(
                        "missing",
                        format!("“{bad}”不在{}的材料清单中", item.name),
                    ));
                }
                missing.push(MissingMaterials {
                    item: m.item.clone(),
                    materials,
                });
            }
            events.push(CaseEvent::MaterialsMissing { missing });
        }
        if let Some(a) = &input.assessment {
            if a.rigid_expenditure_fen < 0 {
                return Err(ServiceError::invalid(
                    "assessment.rigid_expenditure_fen",
                    "刚性支出不能为负数",
                ));
            }
            events.push(CaseEvent::NeedsAssessed {
                assessment: NeedsAssessment {
                    structure: a.structure.trim().into(),
                    health: a.health.trim().into(),
                    labour_capacity: a.labour_capacity.trim().into(),
                    rigid_expenditure: Money::from_fen(a.rigid_expenditure_fen),
                    notes: a.notes.trim().into(),
                },
            });
        }
        if input.transfer {
            for code in &input.accept {
                let department = known("accept", code)?.department;
                events.push(CaseEvent::Transferred {
                    item: code.clone(),
                    department,
                });
            }
        }
        if events.is_empty() {
            return Err(ServiceError::invalid(
                "accept",
                "请至少作出一项受理登记决定",
            ));
        }
        self.record(&mut tx, actor, &mut loaded, events).await?;
        tx.commit().await?;
        self.fresh_view(actor, case_id).await
    }

    pub async fn department_step(
        &self,
        actor: &Actor,
        case_id: i64,
        step: &DepartmentStep,
    ) -> Result<CaseView> {
        if actor.role != Role::DepartmentLiaison || actor.read_only {
            return Err(ServiceError::Forbidden);
        }
        let item = step.item.trim().to_string();
        let note = step.note.trim().to_string();
        let event = match step.action.as_str() {
            "receive" => CaseEvent::TransferReceived { item },
            "refuse" => CaseEvent::DepartmentRefused {
                item,
                reason: text("note", &note, "不符合条件的书面理由")?,
            },
            "initial_check" => CaseEvent::InitialCheckDone { item, note },
            "feedback" => CaseEvent::FeedbackGiven { item, note },
            "complete" => {
                let outcome = match step.outcome.as_deref() {
                    Some("granted") => {
                        let fen = step
                            .amount_fen
                            .ok_or_else(|| ServiceError::invalid("amount_fen", "请填写救助金额"))?;
                        Outcome::Amount {
                            amount: Money::from_fen(fen),
                            monthly: step.monthly,
                            note,
                        }
                    }
                    Some("service") => Outcome::Service {
                        description: text("note", &note, "提供的服务")?,
                    },
                    Some("refused") => Outcome::Refused {
                        reason: text("note", &note, "不予救助的理由")?,
                    },
                    _ => {
                        return Err(ServiceError::invalid(
                            "outcome",
                            "办理结果应为 granted、service 或 refused",
                        ))
                    }
                };
                CaseEvent::DepartmentCompleted { item, outcome }
            }
            other => {
                return Err(ServiceError::invalid(
                    "action",
                    format!("部门操作“{other}”无效"),
                ))
            }
        };
        let mut tx = self.store.begin().await?;
        let mut loaded = self.load_case(&mut tx, actor, case_id).await?;
        if let CaseEvent::DepartmentCompleted {
            item,
            outcome: Outcome::Amount { .. },
        } = &event
        {
            self.require_recent_report(&mut tx, &loaded.row.region_code, case_id, item)
                .await?;
        }
        self.record(&mut tx, actor, &mut loaded, vec![event])
            .await?;
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
        let region = jiuzhu_domain::RegionCode::parse(region)
            .map_err(|e| ServiceError::invalid("region", e.to_string()))?;
        let today = self.today();
        let book = self.policy_book();
        let ps = book.params(
            &self.jurisdiction_of(&region)?,
            today,
            &jiuzhu_policy::Overrides::default(),
        )?;
        let days = ps.get("verification.max_age_days")?.count();
        let latest = jiuzhu_store::FeedRepo::case_reports(tx, case_id)
            .await?
            .into_iter()
            .next();
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

    pub async fn window_step(
        &self,
        actor: &Actor,
        case_id: i64,
        step: &WindowStep,
    ) -> Result<CaseView> {
        let supervising = matches!(step.action.as_str(), "supervise");
        let answering = step.action == "supervision_answer";
        if supervising {
            if !matches!(
                actor.role,
                Role::Supervisor | Role::TownshipReviewer | Role::BureauAdmin
            ) || actor.read_only
            {
                return Err(ServiceError::Forbidden);
            }
        } else if !(answering && actor.role == Role::DepartmentLiaison) {
            actor.require(Permission::WritePeople)?;
        }
        let item = || {
            step.item
                .clone()
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| ServiceError::invalid("item", "请选择事项"))
        };
        let mut tx = self.store.begin().await?;
        let mut loaded = self.load_case(&mut tx, actor, case_id).await?;
        let event = match step.action.as_str() {
            "transfer" => {
                let code = item()?;
                let catalogue = self.catalogue_now(&mut tx).await?;
                let department = catalogue
                    .item(&code)
                    .map(|i| i.department.clone())
                    .ok_or_else(|| ServiceError::invalid("item", "事项不存在"))?;
                CaseEvent::Transferred {
                    item: code,
                    department,
                }
            }
            "withdraw" => CaseEvent::ItemWithdrawn {
                item: item()?,
                reason: text("note", &step.note, "撤回原因")?,
            },
            "feedback" => CaseEvent::FeedbackGiven {
                item: item()?,
                note: text("note", &step.note, "反馈内容")?,
            },
            "close" => CaseEvent::Closed {
                summary: text("note", &step.note, "告知申请人的综合办理结果")?,
            },
            "reopen" => CaseEvent::Reopened {
                reason: text("note", &step.note, "重新开启的理由")?,
            },
            "refer" => {
                let id = step
                    .organisation_id
                    .ok_or_else(|| ServiceError::invalid("organisation_id", "请选择转介机构"))?;
                let org: Organisation = tx
                    .organisation(id)
                    .await?
                    .filter(|o| o.active)
                    .ok_or_else(|| ServiceError::invalid("organisation_id", "机构不存在"))?;
                CaseEvent::Referred {
                    organisation_id: id,
                    organisation_name: org.name,
                    need: text("note", &step.note, "转介需求")?,
                }
            }
            "referral_answer" => CaseEvent::ReferralAnswered {
                organisation_id: step
                    .organisation_id
                    .ok_or_else(|| ServiceError::invalid("organisation_id", "请选择转介机构"))?,
                accepted: step.accepted,
                answer: text("note", &step.note, "机构答复")?,
            },
            "supervise" => CaseEvent::SupervisionNoted {
                number: loaded.state.supervisions.len() as u32 + 1,
                item: step.item.clone().filter(|s| !s.trim().is_empty()),
                note: text("note", &step.note, "督办意见")?,
            },
            "supervision_answer" => CaseEvent::SupervisionAnswered {
                number: step
                    .number
                    .ok_or_else(|| ServiceError::invalid("number", "请指明答复哪一条督办"))?,
                answer: text("note", &step.note, "督办答复")?,
            },
            other => {
                return Err(ServiceError::invalid(
                    "action",
                    format!("操作“{other}”无效"),
                ))
            }
        };
        self.record(&mut tx, actor, &mut loaded, vec![event])
            .await?;
        tx.commit().await?;
        self.fresh_view(actor, case_id).await
    }

    /// A case with its items, time limits and history. Audited as a read of the applicant's file.
    pub async fn get_case(&self, actor: &Actor, id: i64) -> Result<CaseView> {
        // Read on the readers' pool; the audit row goes through the group-commit sink, and the
        // case is returned only once that row is committed.
        let mut tx = self.store.begin_read().await?;
        let loaded = self.load_case(&mut tx, actor, id).await?;
        let view = self.case_view(&mut tx, actor, &loaded).await?;
        drop(tx);
        self.reads
            .record(actor.audit("case.read", "case", id, Some(&view.region_code), json!({})))
            .await?;
        Ok(view)
    }

    /// A work list from the item projection, within the actor's region.
    pub async fn case_queue(&self, actor: &Actor, queue: Queue) -> Result<Vec<CaseItemRow>> {
        let stages = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let mut filter = CaseItemFilter {
            scope: actor.scope().to_string(),
            limit: 500,
            ..Default::default()
        };
        match queue {
            Queue::Inbox => {
                if actor.role != Role::DepartmentLiaison {
                    return Err(ServiceError::Forbidden);
                }
                filter.department = actor.department.clone();
                filter.stages =
                    stages(&["transferred", "received", "initial_checked", "completed"]);
            }
            Queue::Window => {
                actor.require(Permission::ReadPeople)?;
                filter.stages = stages(&["requested", "materials_missing", "accepted"]);
            }
            Queue::Due => {
                if actor.role == Role::DepartmentLiaison {
                    filter.department = actor.department.clone();
                } else {
                    actor.require(Permission::ReadPeople)?;
                }
                filter.due_by = Some(self.today());
                filter.stages = stages(&[
                    "accepted",
                    "transferred",
                    "received",
                    "initial_checked",
                    "completed",
                ]);
            }
        }
        let mut tx = self.store.begin_read().await?;
        Ok(tx.case_items(&filter).await?)
    }

    /// The applications of a household the actor may see, newest first.
    pub async fn cases_of_household(
        &self,
        actor: &Actor,
        household_id: i64,
    ) -> Result<Vec<CaseRow>> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin_read().await?;
        let rows = tx.cases_of_household(household_id).await?;
        Ok(rows
            .into_iter()
            .filter(|c| c.region_code.starts_with(actor.scope()))
            .collect())
    }

    pub async fn organisations(&self, actor: &Actor) -> Result<Vec<Organisation>> {
        let mut tx = self.store.begin_read().await?;
        Ok(tx.organisations(actor.scope()).await?)
    }

    pub async fn add_organisation(&self, actor: &Actor, o: &Organisation) -> Result<Organisation> {
        actor.require(Permission::ManageUsers)?;
        let name = text("name", &o.name, "机构名称")?;
        if !matches!(o.kind.as_str(), "social_work" | "charity" | "volunteer") {
            return Err(ServiceError::invalid(
                "kind",
                "机构类别应为 social_work、charity 或 volunteer",
            ));
        }
        let region = jiuzhu_domain::RegionCode::parse(&o.region_code)
            .map_err(|e| ServiceError::invalid("region_code", e.to_string()))?;
        if !actor.covers(&region) {
            return Err(ServiceError::invalid("region_code", "不在您的管辖范围内"));
        }
        let mut tx = self.store.begin().await?;
        let mut saved = Organisation {
            id: 0,
            name,
            active: true,
            ..o.clone()
        };
        saved.id = tx.insert_organisation(&saved).await?;
        tx.append_audit(&actor.audit(
            "organisation.create",
            "organisation",
            saved.id,
            Some(region.as_str()),
            json!({"name": saved.name}),
        ))
        .await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// The applicant's status page: the acceptance form number and the last four characters of
    /// the identity number, nothing else; only that case, in plain words.
    pub async fn public_status(&self, form_no: &str, last4: &str) -> Result<PublicStatus> {
        let mut tx = self.store.begin().await?;
        let case_id = tx
            .case_id_by_form_no(form_no.trim())
            .await?
            .ok_or(ServiceError::NotFound)?;
        let row = tx
            .case_row(case_id, "")
            .await?
            .ok_or(ServiceError::NotFound)?;
        let person = tx
            .get_person(row.applicant_person_id, "")
            .await?
            .ok_or(ServiceError::NotFound)?;
        if !person
            .person
            .id_number
            .last4()
            .eq_ignore_ascii_case(last4.trim())
        {
            return Err(ServiceError::NotFound);
        }
        let events = tx.case_events(case_id).await?;
        let state = CaseState::fold(&events).map_err(|e| {
            ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(e.to_string()))
        })?;
        let catalogue = self.catalogue_now(&mut tx).await?;
        tx.append_audit(&jiuzhu_store::AuditEntry {
            actor_id: None,
            actor_name: "applicant".into(),
            actor_role: "applicant".into(),
            interface: jiuzhu_store::Interface::Web,
            ip: "-".into(),
            action: "case.public_status".into(),
            entity: "case".into(),
            entity_id: case_id.to_string(),
            region_code: Some(row.region_code.clone()),
            detail: json!({"form_no": form_no.trim()}).to_string(),
        })
        .await?;
        tx.commit().await?;
        Ok(views::public_status(
            &state,
            &person.person.name,
            &catalogue,
            china_date(row.filed_at),
        ))
    }
}
