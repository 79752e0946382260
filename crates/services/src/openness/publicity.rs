//! 公示: notices of a period's decisions per village or township — proposed approvals, amount
//! changes and exits — with the head of household's name masked and nothing finer than the
//! village; the objections anyone may raise while a notice is up; and their answer by a new
//! investigation or a democratic appraisal (民主评议). An open objection holds the confirmation
//! of the enrolment it concerns (see `recipients::decide`).

use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use jiuzhu_domain::enrolment::EnrolmentChange;
use jiuzhu_domain::openness::{
    mask_name, NameMask, NoticeEntryKind, ObjectionMethod, ObjectionStatus,
};
use jiuzhu_domain::{Money, Permission, RegionCode, RegionLevel};
use jiuzhu_store::{NoticeEntryRecord, NoticeRecord, ObjectionRecord, Tx, CONTACT_CONTEXT};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{bounded, contact, public_audit, tracking_number, MAX_PUBLIC_TEXT};
use crate::recipients::{VisitInput, CONFIRMED_PROGRAMS};
use crate::{Actor, Openness, Result, ServiceError};

/// What to publish: a program's decisions within a region over a period.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct NoticeInput {
    /// A recurring item (dibao, tekun, near_dibao, disability_subsidies).
    pub program: String,
    /// The village or township the notice is for; the actor's own region when empty.
    pub region: String,
    /// First and last day of the decisions covered, YYYY-MM-DD.
    pub from: String,
    pub to: String,
    /// How to object: telephone and address of the office receiving objections.
    pub contact: String,
}

/// One line of a notice as published.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntryView {
    pub id: i64,
    pub seq: i64,
    pub kind: String,
    pub kind_label: String,
    /// The head of household, masked (刘*兵).
    pub name: String,
    pub members: i64,
    #[schema(value_type = Option<i64>)]
    pub per_capita_income: Option<Money>,
    #[schema(value_type = i64)]
    pub amount: Money,
    /// The village or community, never finer.
    pub place: String,
    pub note: String,
    /// Staff only: the enrolment the line is about and its open objections.
    pub enrolment_id: Option<i64>,
    pub open_objections: usize,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeView {
    pub id: i64,
    pub title: String,
    pub program: String,
    pub program_name: String,
    pub region_name: String,
    pub decided_from: NaiveDate,
    pub decided_to: NaiveDate,
    pub published_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// Up today (on the public page).
    pub in_force: bool,
    pub mask_label: String,
    /// How to object.
    pub contact: String,
    pub basis: String,
    pub entries: Vec<EntryView>,
    pub approvals: usize,
    pub changes: usize,
    pub exits: usize,
}

/// An objection from the public page, or recorded by staff from a call, letter or visit.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ObjectionInput {
    /// The notice line objected to.
    pub entry_id: i64,
    pub content: String,
    /// Optional: a telephone or address for the answer.
    pub contact: String,
    /// For staff: hotline, letter or visit (网上 for the public page).
    pub channel: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ObjectionView {
    pub id: i64,
    pub number: String,
    pub notice_id: i64,
    pub notice_title: String,
    pub enrolment_id: i64,
    /// The line objected to, as published.
    pub entry: String,
    pub channel_label: String,
    pub content: String,
    /// Shown to those handling it.
    pub contact: Option<String>,
    pub recorded_by: Option<String>,
    pub received_at: DateTime<Utc>,
    pub status: String,
    pub status_label: String,
    pub method_label: Option<String>,
    pub visit_date: Option<NaiveDate>,
    pub findings: Option<String>,
    pub participants: Option<String>,
    pub votes_for: Option<i64>,
    pub votes_against: Option<i64>,
    pub votes_abstain: Option<i64>,
    pub upheld: Option<bool>,
    pub reply: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// The answer to an objection: a new investigation (a visit, and a new verification where the
/// decision came from an application) or a democratic appraisal.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct AnswerInput {
    /// investigation or appraisal.
    pub method: String,
    /// The day of the visit or of the appraisal meeting.
    pub date: Option<NaiveDate>,
    /// What the investigation found, or the appraisal's conclusion.
    pub findings: String,
    /// Appraisal: who took part.
    pub participants: String,
    pub votes_for: Option<i64>,
    pub votes_against: Option<i64>,
    pub votes_abstain: Option<i64>,
    /// Whether the objection holds.
    pub upheld: bool,
    /// What the objector is told.
    pub reply: String,
}

/// What a member of the public sees of their objection.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicObjectionStatus {
    pub number: String,
    pub status_label: String,
    pub received_on: NaiveDate,
    pub method_label: Option<String>,
    pub upheld: Option<bool>,
    pub reply: Option<String>,
    pub answered_on: Option<NaiveDate>,
}

/// The start of a day in China as an instant.
pub(crate) fn china_midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&(d.and_hms_opt(0, 0, 0).expect("midnight") - Duration::hours(8)))
}

fn day(field: &str, text: &str) -> Result<NaiveDate> {
    text.trim()
        .parse()
        .map_err(|_| ServiceError::invalid(field, "日期格式应为 YYYY-MM-DD，例如 2026-12-01"))
}

fn setting_key(program: &str) -> String {
    format!("publicity.mask.{program}")
}

impl Openness<'_> {
    /// How names are masked on a program's notices.
    pub async fn mask_of(&self, program: &str) -> Result<NameMask> {
        let mut tx = self.store.begin_read().await?;
        mask_in(&mut tx, program).await
    }

    /// Sets how names are masked on a program's notices (bureau administrator).
    pub async fn set_mask(&self, actor: &Actor, program: &str, mask: &str) -> Result<()> {
        actor.require(Permission::EditPolicy)?;
        let rule = NameMask::from_code(mask)
            .ok_or_else(|| ServiceError::invalid("mask", "请选择姓名遮蔽方式"))?;
        let mut tx = self.store.begin().await?;
        if self.catalogue_now(&mut tx).await?.item(program).is_none() {
            return Err(ServiceError::invalid("program", "未知的救助项目"));
        }
        tx.set_setting(&setting_key(program), rule.code()).await?;
        tx.append_audit(&actor.audit(
            "notice.mask",
            "item",
            program,
            None,
            json!({"mask": rule.code()}),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Publishes a notice of the program's decisions in a village or township over a period:
    /// each decision once per region (a second notice of the same region skips what the first
    /// published). Up for `publicity.days` calendar days from today.
    pub async fn publish(&self, actor: &Actor, input: &NoticeInput) -> Result<NoticeView> {
        actor.require(Permission::ManageRecipients)?;
        let region = crate::Services::scope_within(actor, Some(&input.region))?;
        let code = RegionCode::parse(&region)
            .map_err(|e| ServiceError::invalid("region", e.to_string()))?;
        if code.level() < RegionLevel::Township {
            return Err(ServiceError::invalid(
                "region",
                "公示按村（社区）或乡镇（街道）发布，请选择一个村或乡镇",
            ));
        }
        let from = day("from", &input.from)?;
        let to = day("to", &input.to)?;
        if to < from {
            return Err(ServiceError::invalid("to", "截止日期不能早于起始日期"));
        }
        let today = self.today();
        if to > today {
            return Err(ServiceError::invalid(
                "to",
                "只能公示已经作出的决定：截止日期不能晚于今天",
            ));
        }
        let contact = bounded("contact", &input.contact, "异议受理电话和地址", 200)?;
        let mut tx = self.store.begin().await?;
        let catalogue = self.catalogue_now(&mut tx).await?;
        let item = catalogue
            .item(&input.program)
            .filter(|i| i.recurring)
            .ok_or_else(|| ServiceError::invalid("program", "请选择按月发放的救助项目"))?
            .clone();
        let mask = mask_in(&mut tx, &item.code).await?;
        let done: HashSet<String> = tx
            .published_decisions(&region, &item.code)
            .await?
            .into_iter()
            .collect();
        let decisions: Vec<_> = tx
            .decisions(
                &region,
                &item.code,
                china_midnight(from),
                china_midnight(to + Duration::days(1)),
            )
            .await?
            .into_iter()
            .filter(|d| !done.contains(&d.decision))
            .collect();
        if decisions.is_empty() {
            return Err(ServiceError::invalid(
                "from",
                format!("{from}至{to}没有尚未公示的{}决定", item.name),
            ));
        }
        let days = self.count_param(&region, "publicity.days", today)?.max(1);
        let region_name = self.region_name(&mut tx, &region).await?;
        let now = self.now();
        let notice_id = tx
            .insert_notice(&NoticeRecord {
                id: 0,
                program: item.code.clone(),
                region_code: region.clone(),
                title: format!("{}{}公示", region_name.replace(' ', ""), item.name),
                decided_from: from,
                decided_to: to,
                published_on: today,
                ends_on: today + Duration::days(days - 1),
                mask: mask.code().to_string(),
                contact,
                created_by: actor.username.clone(),
                created_at: now,
            })
            .await?;
        for (i, d) in decisions.iter().enumerate() {
            let household = self
                .households()
                .household_view(&mut tx, actor, d.household_id)
                .await?;
            let change: Option<EnrolmentChange> =
                d.body.as_deref().and_then(|b| serde_json::from_str(b).ok());
            let (kind, amount, note) = match &change {
                Some(EnrolmentChange::Adjusted { amount_fen }) => (
                    NoticeEntryKind::Change,
                    *amount_fen,
                    format!("调整为每月{}元", Money::from_fen(*amount_fen)),
                ),
                Some(EnrolmentChange::GradualExit { months }) => (
                    NoticeEntryKind::Exit,
                    d.amount_fen,
                    format!("收入超过标准，渐退{months}个月后退出"),
                ),
                Some(EnrolmentChange::Ended { cause }) => {
                    (NoticeEntryKind::Exit, 0, format!("退出：{}", cause.label()))
                }
                _ => (NoticeEntryKind::Approval, d.amount_fen, String::new()),
            };
            let members = serde_json::from_str::<Vec<i64>>(&d.members)
                .map(|m| m.len())
                .unwrap_or(0) as i64;
            let place = self.region_name(&mut tx, &d.region_code).await?;
            tx.insert_notice_entry(&NoticeEntryRecord {
                id: 0,
                notice_id,
                seq: i as i64 + 1,
                kind: kind.code().to_string(),
                decision: d.decision.clone(),
                enrolment_id: d.enrolment_id,
                region_code: d.region_code.clone(),
                masked_name: mask_name(&household.head_name, mask),
                members,
                per_capita_fen: Some(household.per_capita_monthly_income.fen()),
                amount_fen: amount,
                // The village: the last part of "乡镇 村".
                place: place.rsplit(' ').next().unwrap_or_default().to_string(),
                note,
            })
            .await?;
        }
        tx.append_audit(&actor.audit(
            "notice.publish",
            "notice",
            notice_id,
            Some(&region),
            json!({"program": item.code, "from": from.to_string(), "to": to.to_string(), "entries": decisions.len(), "days": days}),
        ))
        .await?;
        tx.commit().await?;
        self.notice(actor, notice_id).await
    }

    /// Notices within the actor's region, newest first.
    pub async fn notices(&self, actor: &Actor) -> Result<Vec<NoticeView>> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin_read().await?;
        let records = tx.notices(actor.scope(), None).await?;
        let mut out = Vec::new();
        for n in records {
            out.push(self.notice_view(&mut tx, n, true).await?);
        }
        Ok(out)
    }

    /// One notice, for staff: with the enrolment of each line and its open objections.
    pub async fn notice(&self, actor: &Actor, id: i64) -> Result<NoticeView> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin_read().await?;
        let n = tx
            .notice(id)
            .await?
            .filter(|n| n.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        self.notice_view(&mut tx, n, true).await
    }

    /// Notices up today, for the public page: of a region (a prefix of its code) or all.
    pub async fn public_notices(&self, region: Option<&str>) -> Result<Vec<NoticeView>> {
        let mut tx = self.store.begin_read().await?;
        let region = region
            .map(str::trim)
            .filter(|r| r.chars().all(|c| c.is_ascii_digit()));
        let records = tx.notices(region.unwrap_or(""), Some(self.today())).await?;
        let mut out = Vec::new();
        for n in records {
            out.push(self.notice_view(&mut tx, n, false).await?);
        }
        Ok(out)
    }

    /// A notice up today, as the public sees it; taken down (not found) once its period ends.
    pub async fn public_notice(&self, id: i64) -> Result<NoticeView> {
        let mut tx = self.store.begin_read().await?;
        let today = self.today();
        let n = tx
            .notice(id)
            .await?
            .filter(|n| n.published_on <= today && today <= n.ends_on)
            .ok_or(ServiceError::NotFound)?;
        self.notice_view(&mut tx, n, false).await
    }

    async fn notice_view(&self, tx: &mut Tx, n: NoticeRecord, staff: bool) -> Result<NoticeView> {
        let catalogue = self.catalogue_now(tx).await?;
        let program_name = catalogue
            .item(&n.program)
            .map_or_else(|| n.program.clone(), |i| i.name.clone());
        let entries = tx.notice_entries(n.id).await?;
        let open: Vec<i64> = if staff {
            tx.objections_of_notice(n.id)
                .await?
                .into_iter()
                .filter(|o| o.status == ObjectionStatus::Open.code())
                .map(|o| o.entry_id)
                .collect()
        } else {
            Vec::new()
        };
        let count = |k: NoticeEntryKind| entries.iter().filter(|e| e.kind == k.code()).count();
        let (approvals, changes, exits) = (
            count(NoticeEntryKind::Approval),
            count(NoticeEntryKind::Change),
            count(NoticeEntryKind::Exit),
        );
        let today = self.today();
        let region_name = self.region_name(tx, &n.region_code).await?;
        let basis = if CONFIRMED_PROGRAMS.contains(&n.program.as_str()) {
            "《社会救助暂行办法》第十一条：乡镇人民政府（街道办事处）审核后，在申请人所在村（社区）公示；对公示有异议的，由乡镇（街道）重新组织家庭经济状况调查或开展民主评议".to_string()
        } else {
            "完善社会救助公示制度，落实社会救助对象网络公示；对公示有异议的，由乡镇（街道）重新组织调查或开展民主评议".to_string()
        };
        Ok(NoticeView {
            id: n.id,
            title: n.title,
            program_name,
            program: n.program,
            region_name,
            decided_from: n.decided_from,
            decided_to: n.decided_to,
            published_on: n.published_on,
            ends_on: n.ends_on,
            in_force: n.published_on <= today && today <= n.ends_on,
            mask_label: NameMask::from_code(&n.mask)
                .unwrap_or(NameMask::KeepLast)
                .label()
                .to_string(),
            contact: n.contact,
            basis,
            approvals,
            changes,
            exits,
            entries: entries
                .into_iter()
                .map(|e| EntryView {
                    id: e.id,
                    seq: e.seq,
                    kind_label: NoticeEntryKind::from_code(&e.kind)
                        .map_or("", |k| k.label())
                        .to_string(),
                    kind: e.kind,
                    name: e.masked_name,
                    members: e.members,
                    per_capita_income: e.per_capita_fen.map(Money::from_fen),
                    amount: Money::from_fen(e.amount_fen),
                    place: e.place,
                    note: e.note,
                    enrolment_id: staff.then_some(e.enrolment_id),
                    open_objections: open.iter().filter(|id| **id == e.id).count(),
                })
                .collect(),
        })
    }

    /// An objection from the public page while the notice is up. Returns its number and the
    /// code to look up the answer with.
    pub async fn object(
        &self,
        ip: &str,
        notice_id: i64,
        input: &ObjectionInput,
    ) -> Result<(String, String)> {
        let content = bounded("content", &input.content, "异议内容", MAX_PUBLIC_TEXT)?;
        let contact = contact(&input.contact)?;
        let mut tx = self.store.begin().await?;
        let today = self.today();
        let notice = tx
            .notice(notice_id)
            .await?
            .filter(|n| n.published_on <= today && today <= n.ends_on)
            .ok_or(ServiceError::NotFound)?;
        let out = self
            .insert_objection(
                &mut tx,
                &notice,
                input.entry_id,
                "online",
                content,
                contact,
                None,
            )
            .await?;
        tx.append_audit(&public_audit(
            ip,
            "objection.create",
            "objection",
            &out.0,
            &notice.region_code,
            json!({"notice": notice_id, "entry": input.entry_id}),
        ))
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// An objection taken by staff from a call, a letter or a visit.
    pub async fn record_objection(
        &self,
        actor: &Actor,
        notice_id: i64,
        input: &ObjectionInput,
    ) -> Result<(String, String)> {
        actor.require(Permission::ManageRecipients)?;
        let channel = match input.channel.as_str() {
            c @ ("hotline" | "letter" | "visit") => c,
            _ => {
                return Err(ServiceError::invalid(
                    "channel",
                    "请选择异议的来源：电话、来信或来访",
                ))
            }
        };
        let content = bounded("content", &input.content, "异议内容", MAX_PUBLIC_TEXT)?;
        let contact = contact(&input.contact)?;
        let mut tx = self.store.begin().await?;
        let notice = tx
            .notice(notice_id)
            .await?
            .filter(|n| n.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        let out = self
            .insert_objection(
                &mut tx,
                &notice,
                input.entry_id,
                channel,
                content,
                contact,
                Some(actor.username.clone()),
            )
            .await?;
        tx.append_audit(&actor.audit(
            "objection.create",
            "objection",
            &out.0,
            Some(&notice.region_code),
            json!({"notice": notice_id, "entry": input.entry_id, "channel": channel}),
        ))
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_objection(
        &self,
        tx: &mut Tx,
        notice: &NoticeRecord,
        entry_id: i64,
        channel: &str,
        content: String,
        contact: Option<String>,
        recorded_by: Option<String>,
    ) -> Result<(String, String)> {
        let entry = tx
            .notice_entries(notice.id)
            .await?
            .into_iter()
            .find(|e| e.id == entry_id)
            .ok_or_else(|| ServiceError::invalid("entry_id", "请选择公示名单中的一户"))?;
        let (number, code) = tracking_number(tx, "objections", "YY", self.today()).await?;
        tx.insert_objection(&ObjectionRecord {
            id: 0,
            number: number.clone(),
            query_code: code.clone(),
            notice_id: notice.id,
            entry_id,
            enrolment_id: entry.enrolment_id,
            region_code: entry.region_code,
            channel: channel.to_string(),
            content,
            contact_cipher: contact.map(|c| tx.cipher().encrypt(CONTACT_CONTEXT, &c)),
            recorded_by,
            received_at: self.now(),
            status: ObjectionStatus::Open.code().to_string(),
            method: None,
            visit_date: None,
            findings: None,
            participants: None,
            votes_for: None,
            votes_against: None,
            votes_abstain: None,
            upheld: None,
            reply: None,
            answered_by: None,
            answered_at: None,
        })
        .await?;
        Ok((number, code))
    }

    /// Objections within the actor's region, open first.
    pub async fn objections(&self, actor: &Actor) -> Result<Vec<ObjectionView>> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin_read().await?;
        let records = tx.objections(actor.scope(), None).await?;
        let mut out = Vec::new();
        for o in records {
            out.push(self.objection_view(&mut tx, o, false).await?);
        }
        Ok(out)
    }

    /// One objection, with the objector's contact (the read is recorded).
    pub async fn objection(&self, actor: &Actor, id: i64) -> Result<ObjectionView> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin().await?;
        let o = tx
            .objection(id)
            .await?
            .filter(|o| o.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        tx.append_audit(&actor.audit(
            "objection.read",
            "objection",
            &o.number,
            Some(&o.region_code),
            json!({}),
        ))
        .await?;
        let view = self.objection_view(&mut tx, o, true).await?;
        tx.commit().await?;
        Ok(view)
    }

    async fn objection_view(
        &self,
        tx: &mut Tx,
        o: ObjectionRecord,
        with_contact: bool,
    ) -> Result<ObjectionView> {
        let notice = tx
            .notice(o.notice_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let entry = tx
            .notice_entries(o.notice_id)
            .await?
            .into_iter()
            .find(|e| e.id == o.entry_id)
            .map(|e| {
                format!(
                    "第{}号 {} {}（{}人，{}）",
                    e.seq,
                    e.masked_name,
                    e.place,
                    e.members,
                    NoticeEntryKind::from_code(&e.kind).map_or("", |k| k.label())
                )
            })
            .unwrap_or_default();
        let contact = match (&o.contact_cipher, with_contact) {
            (Some(blob), true) => Some(tx.cipher().decrypt(CONTACT_CONTEXT, blob)?),
            _ => None,
        };
        let mut users = Vec::new();
        users.extend(o.recorded_by.as_deref());
        users.extend(o.answered_by.as_deref());
        let names = crate::recipients::display_names(tx, users).await?;
        let shown = |u: &Option<String>| {
            u.as_ref()
                .map(|u| names.get(u).cloned().unwrap_or(u.clone()))
        };
        Ok(ObjectionView {
            id: o.id,
            number: o.number.clone(),
            notice_id: o.notice_id,
            notice_title: notice.title,
            enrolment_id: o.enrolment_id,
            entry,
            channel_label: channel_label(&o.channel).to_string(),
            content: o.content.clone(),
            contact,
            recorded_by: shown(&o.recorded_by),
            received_at: o.received_at,
            status_label: ObjectionStatus::from_code(&o.status)
                .map_or("", |s| s.label())
                .to_string(),
            status: o.status,
            method_label: o
                .method
                .as_deref()
                .and_then(ObjectionMethod::from_code)
                .map(|m| m.label().to_string()),
            visit_date: o.visit_date,
            findings: o.findings,
            participants: o.participants,
            votes_for: o.votes_for,
            votes_against: o.votes_against,
            votes_abstain: o.votes_abstain,
            upheld: o.upheld,
            reply: o.reply,
            answered_by: shown(&o.answered_by),
            answered_at: o.answered_at,
        })
    }

    /// Answers an open objection. An investigation records its visit in the household file and
    /// verifies the household again where the decision came from an application; an appraisal
    /// records its meeting and votes. The reply is what the objector is told.
    pub async fn answer_objection(
        &self,
        actor: &Actor,
        id: i64,
        input: &AnswerInput,
    ) -> Result<ObjectionView> {
        actor.require(Permission::ManageRecipients)?;
        let method = ObjectionMethod::from_code(&input.method).ok_or_else(|| {
            ServiceError::invalid("method", "请选择答复方式：重新调查核实或民主评议")
        })?;
        let date = input.date.ok_or_else(|| {
            ServiceError::invalid(
                "date",
                match method {
                    ObjectionMethod::Investigation => "请填写调查走访日期",
                    ObjectionMethod::Appraisal => "请填写民主评议日期",
                },
            )
        })?;
        if date > self.today() {
            return Err(ServiceError::invalid("date", "日期不能晚于今天"));
        }
        let findings = bounded(
            "findings",
            &input.findings,
            match method {
                ObjectionMethod::Investigation => "调查核实的情况",
                ObjectionMethod::Appraisal => "评议结论",
            },
            MAX_PUBLIC_TEXT,
        )?;
        let reply = bounded("reply", &input.reply, "答复异议人的内容", MAX_PUBLIC_TEXT)?;
        let mut participants = None;
        if method == ObjectionMethod::Appraisal {
            participants = Some(bounded(
                "participants",
                &input.participants,
                "参加评议的人员",
                500,
            )?);
            for (field, v) in [
                ("votes_for", input.votes_for),
                ("votes_against", input.votes_against),
                ("votes_abstain", input.votes_abstain),
            ] {
                if !matches!(v, Some(0..=999)) {
                    return Err(ServiceError::invalid(field, "请填写票数（0至999的整数）"));
                }
            }
            if input.votes_for.unwrap_or(0) + input.votes_against.unwrap_or(0) == 0 {
                return Err(ServiceError::invalid(
                    "votes_for",
                    "民主评议须有赞成或反对票",
                ));
            }
        }
        let mut read = self.store.begin_read().await?;
        let o = read
            .objection(id)
            .await?
            .filter(|o| o.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        if o.status != ObjectionStatus::Open.code() {
            return Err(already_answered());
        }
        let enrolment = read
            .enrolment(o.enrolment_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        drop(read);
        if method == ObjectionMethod::Investigation {
            self.recipients()
                .record_visit(
                    actor,
                    enrolment.household_id,
                    &VisitInput {
                        date: Some(date),
                        findings: format!("公示异议{}调查核实：{findings}", o.number),
                        follow_up: reply.clone(),
                    },
                )
                .await?;
            if let Some(case) = enrolment.case_id {
                self.verification().verify_case(actor, case).await?;
            }
        }
        let mut tx = self.store.begin().await?;
        let answered = ObjectionRecord {
            status: ObjectionStatus::Answered.code().to_string(),
            method: Some(method.code().to_string()),
            visit_date: Some(date),
            findings: Some(findings),
            participants,
            votes_for: input
                .votes_for
                .filter(|_| method == ObjectionMethod::Appraisal),
            votes_against: input
                .votes_against
                .filter(|_| method == ObjectionMethod::Appraisal),
            votes_abstain: input
                .votes_abstain
                .filter(|_| method == ObjectionMethod::Appraisal),
            upheld: Some(input.upheld),
            reply: Some(reply),
            answered_by: Some(actor.username.clone()),
            answered_at: Some(self.now()),
            ..o.clone()
        };
        if !tx.answer_objection(&answered).await? {
            return Err(already_answered());
        }
        tx.append_audit(&actor.audit(
            "objection.answer",
            "objection",
            &o.number,
            Some(&o.region_code),
            json!({"method": method.code(), "upheld": input.upheld, "enrolment": o.enrolment_id}),
        ))
        .await?;
        tx.commit().await?;
        self.objection(actor, id).await
    }

    /// What the objector may see of their objection: the number and its code must match.
    pub async fn objection_status(
        &self,
        ip: &str,
        number: &str,
        code: &str,
    ) -> Result<PublicObjectionStatus> {
        let mut tx = self.store.begin().await?;
        let o = tx
            .objection_by_number(number.trim())
            .await?
            .filter(|o| o.query_code == code.trim())
            .ok_or(ServiceError::NotFound)?;
        tx.append_audit(&public_audit(
            ip,
            "objection.public_status",
            "objection",
            &o.number,
            &o.region_code,
            json!({}),
        ))
        .await?;
        tx.commit().await?;
        Ok(PublicObjectionStatus {
            number: o.number,
            status_label: ObjectionStatus::from_code(&o.status)
                .map_or("", |s| s.label())
                .to_string(),
            received_on: jiuzhu_domain::case::china_date(o.received_at),
            method_label: o
                .method
                .as_deref()
                .and_then(ObjectionMethod::from_code)
                .map(|m| m.label().to_string()),
            upheld: o.upheld,
            reply: o.reply,
            answered_on: o.answered_at.map(jiuzhu_domain::case::china_date),
        })
    }
}

/// The open objections to an enrolment: its confirmation waits for their answer.
pub(crate) async fn open_objections(tx: &mut Tx, enrolment: i64) -> Result<Vec<String>> {
    Ok(tx
        .objections("", Some(enrolment))
        .await?
        .into_iter()
        .filter(|o| o.status == ObjectionStatus::Open.code())
        .map(|o| o.number)
        .collect())
}

async fn mask_in(tx: &mut Tx, program: &str) -> Result<NameMask> {
    Ok(tx
        .setting(&setting_key(program))
        .await?
        .and_then(|c| NameMask::from_code(&c))
        .unwrap_or(NameMask::KeepLast))
}

pub(crate) fn channel_label(code: &str) -> &'static str {
    match code {
        "online" => "网上",
        "hotline" => "电话",
        "letter" => "来信",
        "visit" => "来访",
        _ => "其他",
    }
}

fn already_answered() -> ServiceError {
    ServiceError::Conflict {
        field: Some("status".into()),
        message: "该异议已经答复（可能是重复提交）".into(),
    }
}
