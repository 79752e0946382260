//! Filing an application: at the window, by a village assistant, online, from the hotline, a
//! grid worker or a data match. The same idempotency key files one case, however often it is
//! sent.

use chrono::{DateTime, NaiveDate, Utc};
use jiuzhu_domain::case::{CaseEvent, CaseState, Cause, Channel, Recorded};
use jiuzhu_domain::Permission;
use jiuzhu_store::{CaseRow, NewCase, Tx};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{refused, text, CaseView, Loaded};
use crate::{Actor, Cases, Result, ServiceError};

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

/// An application as parsed: every code known, the hardship stated, the time not in the future.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub applicant_person_id: i64,
    pub channel: Channel,
    pub hardship: String,
    pub causes: Vec<Cause>,
    /// Catalogue item codes, trimmed; whether each exists is checked against the catalogue.
    pub items: Vec<String>,
    pub filed_at: DateTime<Utc>,
    pub idempotency_key: String,
}

impl ApplicationInput {
    /// Checks the input as far as it can without the database; `now` bounds `received_at`.
    pub fn parse(&self, now: DateTime<Utc>) -> Result<Application> {
        let key = self.idempotency_key.trim();
        if key.len() < 8 || key.len() > 100 {
            return Err(ServiceError::invalid(
                "idempotency_key",
                "请提供8至100个字符的防重复提交标识",
            ));
        }
        let channel = Channel::from_code(self.channel.trim())
            .ok_or_else(|| ServiceError::invalid("channel", "申请渠道无效"))?;
        let hardship = text("hardship", &self.hardship, "申请人陈述的困难情况")?;
        let causes = self
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
        let items: Vec<String> = self.items.iter().map(|s| s.trim().to_string()).collect();
        if items.is_empty() {
            return Err(ServiceError::invalid("items", "请选择至少一个救助事项"));
        }
        let filed_at = match self.received_at {
            Some(t) if t > now + chrono::Duration::minutes(5) => {
                return Err(ServiceError::invalid("received_at", "申请时间不能晚于现在"))
            }
            Some(t) => t,
            None => now,
        };
        Ok(Application {
            applicant_person_id: self.applicant_person_id,
            channel,
            hardship,
            causes,
            items,
            filed_at,
            idempotency_key: key.to_string(),
        })
    }
}

impl Cases<'_> {
    /// Files an application. The same idempotency key returns the case already filed.
    pub async fn file(&self, actor: &Actor, input: &ApplicationInput) -> Result<CaseView> {
        actor.require(Permission::WritePeople)?;
        let app = input.parse(self.now())?;
        let Application {
            applicant_person_id,
            channel,
            hardship,
            causes,
            items,
            filed_at,
            idempotency_key,
        } = app.clone();
        let key = idempotency_key.as_str();
        // Everything that only reads happens before the write transaction, so the single SQLite
        // writer is held just for the inserts.
        let mut read = self.store.begin_read().await?;
        if let Some(existing) = read.case_by_key(key).await? {
            drop(read);
            return self.replay(actor, existing, &app).await;
        }
        let catalogue = self.catalogue_now(&mut read).await?;
        for code in &items {
            if catalogue.item(code).is_none() {
                return Err(ServiceError::invalid(
                    "items",
                    format!("救助事项“{code}”不存在"),
                ));
            }
        }
        let person = read
            .get_person(applicant_person_id, actor.scope())
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
                return self.replay(actor, existing, &app).await;
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
                items: items.clone(),
            },
        };
        loaded.state.apply(&filed).map_err(refused(&catalogue))?;
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
            json!({"applicant_person_id": person.id, "channel": channel.code(), "items": items}),
        ))
        .await?;
        tx.commit().await?;
        self.fresh_view(actor, case_id).await
    }

    /// Writes a case whose events are already decided (the demo city's history, a migration
    /// from an earlier system). The events are checked by folding them, exactly as live steps
    /// are, in the caller's transaction.
    pub async fn record_history(
        &self,
        tx: &mut Tx,
        region: &str,
        household_id: i64,
        applicant_person_id: i64,
        key: &str,
        events: Vec<Recorded>,
    ) -> Result<i64> {
        let catalogue = self.catalogue_now(tx).await?;
        let state = CaseState::fold(&events).map_err(refused(&catalogue))?;
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
        app: &Application,
    ) -> Result<CaseView> {
        let reused = |message: &str| ServiceError::Conflict {
            field: Some("idempotency_key".into()),
            message: message.into(),
        };
        if existing.applicant_person_id != app.applicant_person_id {
            return Err(reused("该防重复提交标识已用于另一申请人的申请"));
        }
        // The same key with a different request is a mistake (or a replay attack), not a
        // double submit: say so rather than answer with the other request's case.
        let mut read = self.store.begin_read().await?;
        let events = read.case_events(existing.id).await?;
        drop(read);
        let same = events.first().is_some_and(|first| match &first.event {
            CaseEvent::Filed {
                channel,
                hardship,
                causes,
                items,
                ..
            } => {
                let sorted = |mut v: Vec<String>| {
                    v.sort();
                    v
                };
                let mut a = causes.clone();
                let mut b = app.causes.clone();
                a.sort();
                b.sort();
                *channel == app.channel
                    && *hardship == app.hardship
                    && a == b
                    && sorted(items.clone()) == sorted(app.items.clone())
            }
            _ => false,
        });
        if !same {
            return Err(reused(
                "该防重复提交标识已用于内容不同的另一份申请，请换用新的标识",
            ));
        }
        self.get(actor, existing.id).await
    }

    /// The next acceptance form number: SL, the township code, the day, and that day's sequence.
    pub async fn next_form_no(&self, tx: &mut Tx, region: &str, day: NaiveDate) -> Result<String> {
        let township = &region[..region.len().min(9)];
        let counter = format!("form:{township}:{}", day.format("%Y%m%d"));
        let n = tx.next_counter(&counter).await?;
        Ok(format!("SL{township}{}{n:04}", day.format("%Y%m%d")))
    }
}
