//! 投诉举报 with 首问负责: the unit that first receives a complaint owns it until another unit
//! accepts a transfer; it is answered within `complaints.answer_days` working days or goes up
//! to the supervisor; one about a named staff member is never shown to that member's unit. A
//! report of improper receipt opens a review of the household, and a finding of fraud records
//! the money to recover.

use chrono::NaiveDate;
use jiuzhu_domain::openness::{ComplaintCategory, ComplaintChannel, ComplaintStatus};
use jiuzhu_domain::{Money, Permission, RegionCode, RegionLevel, Role};
use jiuzhu_store::{ComplaintRecord, Tx, CONTACT_CONTEXT};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    actor_unit, bounded, contact, public_audit, tracking_number, unit_of, MAX_PUBLIC_TEXT,
};
use crate::{Actor, Openness, Result, ServiceError};

/// A complaint or report, from the public page or recorded by staff.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ComplaintInput {
    /// improper_receipt, staff_conduct, payments or service.
    pub category: String,
    /// Staff: hotline, letter or visit. The public page is always online.
    pub channel: String,
    /// The township (or county) the complaint concerns.
    pub region: String,
    pub content: String,
    /// The complainant may stay anonymous; then no name or contact is kept.
    pub anonymous: bool,
    pub name: String,
    pub contact: String,
    /// The staff member complained about, by name as the complainant gives it.
    pub about: String,
    /// Staff: the household reported for improper receipt.
    pub household_id: Option<i64>,
}

/// A step in a complaint's handling.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum ComplaintStep {
    /// Offer it to another unit; the owner keeps it until that unit accepts.
    Transfer { unit: String, note: String },
    /// The unit offered it takes it over.
    Accept { note: String },
    /// The unit offered it declines; it stays with its owner.
    Decline { note: String },
    /// Report of improper receipt: review the household's assistance now.
    Review { household_id: Option<i64> },
    /// The outcome and what the complainant is told. `finding`: unfounded, founded or fraud;
    /// a fraud finding records `recover_fen` to be recovered from the household.
    Answer {
        finding: String,
        reply: String,
        #[serde(default)]
        recover_fen: Option<i64>,
    },
}

/// A unit a complaint can be transferred to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Unit {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ComplaintEventView {
    pub at: chrono::DateTime<chrono::Utc>,
    pub by: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ComplaintView {
    pub id: i64,
    pub number: String,
    pub channel_label: String,
    pub category: String,
    pub category_label: String,
    pub region_name: String,
    pub content: String,
    pub anonymous: bool,
    /// Name and contact of the complainant, for the unit handling it.
    pub contact: Option<String>,
    /// The staff member complained about.
    pub about: Option<String>,
    pub household_id: Option<i64>,
    /// Who first received it (首问负责人); none for the public page.
    pub received_by: Option<String>,
    pub owner: String,
    pub offered_to: Option<String>,
    pub received_on: NaiveDate,
    pub due: NaiveDate,
    /// Unanswered past its due day: gone up to the supervisor.
    pub escalated: bool,
    pub status: String,
    pub status_label: String,
    pub finding_label: Option<String>,
    pub reply: Option<String>,
    #[schema(value_type = Option<i64>)]
    pub recovered: Option<Money>,
    pub receivable_id: Option<i64>,
    pub answered_by: Option<String>,
    pub answered_on: Option<NaiveDate>,
    /// The actor's unit owns it and may act on it.
    pub may_handle: bool,
    /// The actor's unit has been offered it.
    pub may_accept: bool,
    /// Recorded by the actor but handed to another unit because it names one of the actor's
    /// colleagues: the actor sees nothing more of it.
    pub handed_on: bool,
    pub events: Vec<ComplaintEventView>,
}

/// What the public sees of a complaint with its number and code.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicComplaintStatus {
    pub number: String,
    pub category_label: String,
    pub status_label: String,
    pub received_on: NaiveDate,
    pub due: NaiveDate,
    pub reply: Option<String>,
    pub answered_on: Option<NaiveDate>,
}

/// What the public page gives back: the number and the code to look it up with.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicComplaint {
    pub number: String,
    pub code: String,
    pub due: NaiveDate,
}

fn finding_label(code: &str) -> &'static str {
    match code {
        "unfounded" => "经核查不属实",
        "founded" => "经核查属实，已处理",
        "fraud" => "经核查属实，骗取救助资金，责令退回",
        _ => "",
    }
}

impl Openness<'_> {
    /// A complaint from the public page. The township it concerns owns it; one naming a staff
    /// member of that township goes to the county bureau instead.
    pub async fn complain(&self, ip: &str, input: &ComplaintInput) -> Result<PublicComplaint> {
        let (record, about) = self
            .new_complaint(input, ComplaintChannel::Online, None)
            .await?;
        let mut tx = self.store.begin().await?;
        let (id, number, code, due) = self.insert_complaint(&mut tx, record, about).await?;
        tx.append_audit(&public_audit(
            ip,
            "complaint.create",
            "complaint",
            id,
            &input.region,
            json!({"number": number, "category": input.category}),
        ))
        .await?;
        tx.commit().await?;
        Ok(PublicComplaint { number, code, due })
    }

    /// A complaint taken by staff from a 12345 call, a letter or a visit: the receiver's unit
    /// owns it (首问负责) unless it names one of the unit's own staff.
    pub async fn record_complaint(
        &self,
        actor: &Actor,
        input: &ComplaintInput,
    ) -> Result<ComplaintView> {
        actor.require(Permission::HandleComplaints)?;
        let channel = match ComplaintChannel::from_code(&input.channel) {
            Some(c) if c != ComplaintChannel::Online => c,
            _ => {
                return Err(ServiceError::invalid(
                    "channel",
                    "请选择投诉来源：12345热线、来信或来访",
                ))
            }
        };
        let (mut record, about) = self.new_complaint(input, channel, Some(actor)).await?;
        if let Some(h) = input.household_id {
            let mut read = self.store.begin_read().await?;
            read.get_household(h, actor.scope()).await?.ok_or_else(|| {
                ServiceError::invalid("household_id", "未找到该家庭或不在您的管辖范围内")
            })?;
            record.household_id = Some(h);
        }
        let mut tx = self.store.begin().await?;
        let (id, number, _, _) = self.insert_complaint(&mut tx, record, about).await?;
        tx.append_audit(&actor.audit(
            "complaint.create",
            "complaint",
            id,
            Some(&input.region),
            json!({"number": number, "channel": channel.code(), "category": input.category}),
        ))
        .await?;
        tx.commit().await?;
        if !self.may_see_id(actor, id).await? {
            // Recorded, but it names someone of the receiver's own unit: the receiver gets back
            // what they typed and where it went, never its contact or its handling.
            let mut tx = self.store.begin_read().await?;
            let c = tx.complaint(id).await?.ok_or(ServiceError::NotFound)?;
            let mut view = self.complaint_view(&mut tx, actor, c, false).await?;
            view.handed_on = true;
            return Ok(view);
        }
        self.complaint(actor, id).await
    }

    async fn new_complaint(
        &self,
        input: &ComplaintInput,
        channel: ComplaintChannel,
        receiver: Option<&Actor>,
    ) -> Result<(ComplaintRecord, Option<(String, String)>)> {
        let category = ComplaintCategory::from_code(&input.category)
            .ok_or_else(|| ServiceError::invalid("category", "请选择投诉类别"))?;
        let region = RegionCode::parse(input.region.trim())
            .map_err(|_| ServiceError::invalid("region", "请选择投诉涉及的乡镇（街道）"))?;
        if region.level() > RegionLevel::Township || region.level() < RegionLevel::County {
            return Err(ServiceError::invalid(
                "region",
                "请选择投诉涉及的乡镇（街道）",
            ));
        }
        let content = bounded("content", &input.content, "投诉内容", MAX_PUBLIC_TEXT)?;
        let contact = if input.anonymous {
            None
        } else {
            let name = input.name.trim();
            if name.chars().count() > 30 {
                return Err(ServiceError::invalid("name", "姓名不能超过30字"));
            }
            match (name, contact(&input.contact)?) {
                ("", None) => None,
                (n, c) => Some(format!("{n} {}", c.unwrap_or_default()).trim().to_string()),
            }
        };
        let about_text = input.about.trim();
        if about_text.chars().count() > 30 {
            return Err(ServiceError::invalid("about", "被投诉人姓名不能超过30字"));
        }
        let mut tx = self.store.begin_read().await?;
        if tx.get_region(region.as_str()).await?.is_none() {
            return Err(ServiceError::invalid("region", "未知的乡镇（街道）"));
        }
        // The staff member named: matched by display name within the county.
        let about = if about_text.is_empty() {
            None
        } else {
            let county = &region.as_str()[..6];
            tx.users_in(county)
                .await?
                .into_iter()
                .find(|u| u.display_name == about_text || u.username == about_text)
                .map(|u| {
                    (
                        u.username.clone(),
                        unit_of(u.role, u.region.as_str(), u.department_code.as_deref()),
                    )
                })
        };
        let today = self.today();
        let days = self.count_param(region.as_str(), "complaints.answer_days", today)?;
        let due = self
            .calendar()
            .add_working_days(today, days.max(1) as u32)
            .date;
        let mut owner = match receiver {
            Some(a) => actor_unit(a),
            None => region.as_str().to_string(),
        };
        if about.as_ref().is_some_and(|(_, unit)| *unit == owner) {
            owner = region.as_str()[..6].to_string();
        }
        let record = ComplaintRecord {
            id: 0,
            number: String::new(),
            query_code: String::new(),
            channel: channel.code().to_string(),
            category: category.code().to_string(),
            region_code: region.as_str().to_string(),
            content: if about.is_none() && !about_text.is_empty() {
                format!("{content}\n（被投诉人：{about_text}）")
            } else {
                content
            },
            anonymous: input.anonymous,
            contact_cipher: contact.map(|c| {
                let cipher = self.store.cipher();
                cipher.encrypt(CONTACT_CONTEXT, &c)
            }),
            about_user: about.as_ref().map(|a| a.0.clone()),
            about_unit: about.as_ref().map(|a| a.1.clone()),
            household_id: None,
            received_by: receiver.map(|a| a.username.clone()),
            owner_unit: owner,
            offered_unit: None,
            received_on: today,
            due,
            status: ComplaintStatus::Received.code().to_string(),
            finding: None,
            reply: None,
            recovered_fen: None,
            receivable_id: None,
            answered_by: None,
            answered_on: None,
            revision: 0,
        };
        Ok((record, about))
    }

    async fn insert_complaint(
        &self,
        tx: &mut Tx,
        mut record: ComplaintRecord,
        about: Option<(String, String)>,
    ) -> Result<(i64, String, String, NaiveDate)> {
        let (number, code) = tracking_number(tx, "complaints", "TS", record.received_on).await?;
        record.number = number.clone();
        record.query_code = code.clone();
        let id = tx.insert_complaint(&record).await?;
        let by = record
            .received_by
            .clone()
            .unwrap_or_else(|| "public".into());
        let label = self.unit_label(tx, &record.owner_unit).await?;
        tx.append_complaint_event(
            id,
            "received",
            Some(&record.owner_unit),
            &match about {
                Some((_, unit)) if unit != record.owner_unit && record.owner_unit.len() == 6 => {
                    format!("受理；涉及被投诉人所在单位，由{label}办理")
                }
                _ => format!("受理，由{label}首问负责"),
            },
            &by,
            self.now(),
        )
        .await?;
        Ok((id, number, code, record.due))
    }

    /// The units a complaint can go to: the county bureau, its townships and the partner
    /// departments.
    pub async fn units(&self, actor: &Actor) -> Result<Vec<Unit>> {
        actor.require(Permission::HandleComplaints)?;
        let county = actor.county();
        let mut tx = self.store.begin_read().await?;
        let mut out = vec![Unit {
            code: county.to_string(),
            label: self.unit_label(&mut tx, county).await?,
        }];
        for r in tx.regions_under(county).await? {
            if r.code.len() == 9 {
                out.push(Unit {
                    label: r.name.clone(),
                    code: r.code,
                });
            }
        }
        for d in &self.catalogue_now(&mut tx).await?.departments {
            out.push(Unit {
                code: format!("dept:{}", d.code),
                label: d.name.clone(),
            });
        }
        Ok(out)
    }

    async fn unit_label(&self, tx: &mut Tx, unit: &str) -> Result<String> {
        if let Some(dept) = unit.strip_prefix("dept:") {
            return Ok(self
                .catalogue_now(tx)
                .await?
                .departments
                .iter()
                .find(|d| d.code == dept)
                .map_or_else(|| "其他部门".to_string(), |d| d.name.clone()));
        }
        let name = tx
            .get_region(unit)
            .await?
            .map(|r| r.name)
            .unwrap_or_default();
        Ok(if unit.len() == 6 {
            format!("{name}民政局")
        } else {
            name
        })
    }

    fn may_see(actor: &Actor, c: &ComplaintRecord) -> bool {
        let unit = actor_unit(actor);
        if c.about_user.as_deref() == Some(actor.username.as_str())
            || c.about_unit.as_deref() == Some(unit.as_str())
        {
            return false;
        }
        unit == c.owner_unit
            || c.offered_unit.as_deref() == Some(unit.as_str())
            || (actor.role == Role::Supervisor && c.region_code.starts_with(actor.scope()))
    }

    async fn may_see_id(&self, actor: &Actor, id: i64) -> Result<bool> {
        let mut tx = self.store.begin_read().await?;
        Ok(tx
            .complaint(id)
            .await?
            .is_some_and(|c| Self::may_see(actor, &c)))
    }

    /// The complaints the actor's unit owns or is offered (a supervisor: all in the county),
    /// never those naming someone of the actor's unit; open ones first, by due day.
    pub async fn complaints(&self, actor: &Actor) -> Result<Vec<ComplaintView>> {
        actor.require(Permission::HandleComplaints)?;
        let mut tx = self.store.begin_read().await?;
        let region = (actor.role == Role::Supervisor).then(|| actor.scope());
        let records = tx.complaints_for(&[actor_unit(actor)], region).await?;
        let mut out = Vec::new();
        for c in records.into_iter().filter(|c| Self::may_see(actor, c)) {
            out.push(self.complaint_view(&mut tx, actor, c, false).await?);
        }
        Ok(out)
    }

    /// One complaint with its history and the complainant's contact; the read is recorded.
    pub async fn complaint(&self, actor: &Actor, id: i64) -> Result<ComplaintView> {
        actor.require(Permission::HandleComplaints)?;
        let mut tx = self.store.begin().await?;
        let c = tx
            .complaint(id)
            .await?
            .filter(|c| Self::may_see(actor, c))
            .ok_or(ServiceError::NotFound)?;
        tx.append_audit(&actor.audit(
            "complaint.read",
            "complaint",
            id,
            Some(&c.region_code),
            json!({"number": c.number}),
        ))
        .await?;
        let view = self.complaint_view(&mut tx, actor, c, true).await?;
        tx.commit().await?;
        Ok(view)
    }

    async fn complaint_view(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        c: ComplaintRecord,
        full: bool,
    ) -> Result<ComplaintView> {
        let unit = actor_unit(actor);
        let today = self.today();
        let answered = c.status == ComplaintStatus::Answered.code();
        let events = if full {
            tx.complaint_events(c.id).await?
        } else {
            Vec::new()
        };
        let mut users: Vec<&str> = events.iter().map(|e| e.by_user.as_str()).collect();
        users.extend(c.received_by.as_deref());
        users.extend(c.answered_by.as_deref());
        users.extend(c.about_user.as_deref());
        let names = crate::recipients::display_names(tx, users).await?;
        let name = |u: &str| {
            if u == "public" {
                "网上投诉".to_string()
            } else {
                names.get(u).cloned().unwrap_or_else(|| u.to_string())
            }
        };
        let owner = self.unit_label(tx, &c.owner_unit).await?;
        let offered_to = match &c.offered_unit {
            Some(u) => Some(self.unit_label(tx, u).await?),
            None => None,
        };
        let region_name = self
            .region_name(tx, &c.region_code)
            .await
            .unwrap_or_default();
        let contact = match (&c.contact_cipher, full) {
            (Some(blob), true) => Some(tx.cipher().decrypt(CONTACT_CONTEXT, blob)?),
            _ => None,
        };
        Ok(ComplaintView {
            id: c.id,
            number: c.number.clone(),
            channel_label: ComplaintChannel::from_code(&c.channel)
                .map_or("", |x| x.label())
                .to_string(),
            category_label: ComplaintCategory::from_code(&c.category)
                .map_or("", |x| x.label())
                .to_string(),
            category: c.category.clone(),
            region_name: if c.region_code.len() == 6 {
                format!(
                    "{}民政局",
                    self.unit_label(tx, &c.region_code)
                        .await?
                        .trim_end_matches("民政局")
                )
            } else {
                region_name
            },
            content: c.content.clone(),
            anonymous: c.anonymous,
            contact,
            about: c.about_user.as_deref().map(name),
            household_id: c.household_id,
            received_by: c.received_by.as_deref().map(name),
            owner,
            offered_to,
            received_on: c.received_on,
            due: c.due,
            escalated: !answered && today > c.due,
            status_label: ComplaintStatus::from_code(&c.status)
                .map_or("", |x| x.label())
                .to_string(),
            status: c.status.clone(),
            finding_label: c.finding.as_deref().map(|f| finding_label(f).to_string()),
            reply: c.reply.clone(),
            recovered: c.recovered_fen.map(Money::from_fen),
            receivable_id: c.receivable_id,
            answered_by: c.answered_by.as_deref().map(name),
            answered_on: c.answered_on,
            may_handle: !answered && c.owner_unit == unit,
            may_accept: !answered && c.offered_unit.as_deref() == Some(unit.as_str()),
            handed_on: false,
            events: events
                .iter()
                .map(|e| ComplaintEventView {
                    at: e.at,
                    by: name(&e.by_user),
                    text: e.note.clone(),
                })
                .collect(),
        })
    }

    /// A step in a complaint's handling by the unit that owns it (or is offered it).
    pub async fn step(
        &self,
        actor: &Actor,
        id: i64,
        step: &ComplaintStep,
    ) -> Result<ComplaintView> {
        actor.require(Permission::HandleComplaints)?;
        let unit = actor_unit(actor);
        let mut read = self.store.begin_read().await?;
        let mut c = read
            .complaint(id)
            .await?
            .filter(|c| Self::may_see(actor, c))
            .ok_or(ServiceError::NotFound)?;
        drop(read);
        if c.status == ComplaintStatus::Answered.code() {
            return Err(ServiceError::Conflict {
                field: Some("step".into()),
                message: "该投诉已经答复（可能是重复提交）".into(),
            });
        }
        let owns = c.owner_unit == unit;
        let offered = c.offered_unit.as_deref() == Some(unit.as_str());
        let not_owner = || {
            ServiceError::invalid(
                "step",
                "该投诉由首问单位负责办理：只有首问单位（或接收转办后的单位）可以办理",
            )
        };
        let mut tx = self.store.begin().await?;
        let (kind, note, event_unit) = match step {
            ComplaintStep::Transfer { unit: to, note } => {
                if !owns {
                    return Err(not_owner());
                }
                if *to == unit {
                    return Err(ServiceError::invalid("unit", "不能转给本单位"));
                }
                let label = self.unit_label(&mut tx, to).await?;
                if label.is_empty()
                    || c.about_unit.as_deref() == Some(to.as_str())
                    || (!to.starts_with("dept:") && !to.starts_with(&c.region_code[..6]))
                {
                    return Err(ServiceError::invalid(
                        "unit",
                        "请选择本县（市、区）的乡镇、民政局或部门（不能转给被投诉人所在单位）",
                    ));
                }
                let note = bounded("note", note, "转办理由", 500)?;
                c.offered_unit = Some(to.clone());
                c.status = ComplaintStatus::TransferOffered.code().to_string();
                (
                    "transfer",
                    format!("转{label}办理（待接收）：{note}"),
                    Some(to.clone()),
                )
            }
            ComplaintStep::Accept { note } => {
                if !offered {
                    return Err(ServiceError::invalid("step", "该投诉没有转给本单位"));
                }
                c.owner_unit = unit.clone();
                c.offered_unit = None;
                c.status = ComplaintStatus::Received.code().to_string();
                let label = self.unit_label(&mut tx, &unit).await?;
                let note = note.trim();
                (
                    "accept",
                    format!(
                        "{label}接收转办，此后由{label}负责{}",
                        if note.is_empty() {
                            String::new()
                        } else {
                            format!("：{note}")
                        }
                    ),
                    Some(unit.clone()),
                )
            }
            ComplaintStep::Decline { note } => {
                if !offered {
                    return Err(ServiceError::invalid("step", "该投诉没有转给本单位"));
                }
                let note = bounded("note", note, "不接收的理由", 500)?;
                c.offered_unit = None;
                c.status = ComplaintStatus::Received.code().to_string();
                let label = self.unit_label(&mut tx, &unit).await?;
                (
                    "decline",
                    format!("{label}未接收：{note}；仍由首问单位负责"),
                    Some(unit.clone()),
                )
            }
            ComplaintStep::Review { household_id } => {
                if !owns {
                    return Err(not_owner());
                }
                if c.category != ComplaintCategory::ImproperReceipt.code() {
                    return Err(ServiceError::invalid(
                        "step",
                        "只有违规享受救助的举报需要复核家庭",
                    ));
                }
                let household = household_id
                    .or(c.household_id)
                    .ok_or_else(|| ServiceError::invalid("household_id", "请指明被举报的家庭"))?;
                tx.get_household(household, actor.scope())
                    .await?
                    .ok_or_else(|| {
                        ServiceError::invalid("household_id", "未找到该家庭或不在您的管辖范围内")
                    })?;
                drop(tx);
                let proposed = self
                    .recipients()
                    .review_household(actor, household, "举报核查")
                    .await?;
                tx = self.store.begin().await?;
                c.household_id = Some(household);
                ("review", proposed, None)
            }
            ComplaintStep::Answer {
                finding,
                reply,
                recover_fen,
            } => {
                if !owns {
                    return Err(not_owner());
                }
                if finding_label(finding).is_empty() {
                    return Err(ServiceError::invalid("finding", "请选择核查结果"));
                }
                let reply = bounded("reply", reply, "答复内容", MAX_PUBLIC_TEXT)?;
                if finding == "fraud" {
                    let amount = recover_fen.filter(|f| *f > 0).ok_or_else(|| {
                        ServiceError::invalid("recover_fen", "骗取救助资金须填写应追回的金额")
                    })?;
                    let household = c.household_id.ok_or_else(|| {
                        ServiceError::invalid("household_id", "请先指明被举报的家庭（复核家庭）")
                    })?;
                    let region = tx_region(&mut tx, household).await?;
                    let receivable = tx
                        .insert_receivable(
                            household,
                            None,
                            None,
                            &region,
                            None,
                            amount,
                            &format!("投诉举报{}查实骗取救助资金", c.number),
                            &actor.username,
                        )
                        .await?;
                    c.recovered_fen = Some(amount);
                    c.receivable_id = receivable;
                }
                c.finding = Some(finding.clone());
                c.reply = Some(reply.clone());
                c.answered_by = Some(actor.username.clone());
                c.answered_on = Some(self.today());
                c.status = ComplaintStatus::Answered.code().to_string();
                (
                    "answer",
                    format!("{}。答复：{reply}", finding_label(finding)),
                    None,
                )
            }
        };
        if !tx.update_complaint(&c).await? {
            return Err(ServiceError::Conflict {
                field: Some("step".into()),
                message: "该投诉刚被他人办理过，请刷新后再试".into(),
            });
        }
        tx.append_complaint_event(
            id,
            kind,
            event_unit.as_deref(),
            &note,
            &actor.username,
            self.now(),
        )
        .await?;
        tx.append_audit(&actor.audit(
            &format!("complaint.{kind}"),
            "complaint",
            id,
            Some(&c.region_code),
            json!({"number": c.number, "note": note}),
        ))
        .await?;
        tx.commit().await?;
        self.complaint(actor, id).await
    }

    /// What the complainant may see, with the number and code they were given.
    pub async fn complaint_status(
        &self,
        ip: &str,
        number: &str,
        code: &str,
    ) -> Result<PublicComplaintStatus> {
        let mut tx = self.store.begin().await?;
        let c = tx
            .complaint_by_number(number.trim())
            .await?
            .filter(|c| c.query_code == code.trim())
            .ok_or(ServiceError::NotFound)?;
        tx.append_audit(&public_audit(
            ip,
            "complaint.public_status",
            "complaint",
            c.id,
            &c.region_code,
            json!({"number": c.number}),
        ))
        .await?;
        tx.commit().await?;
        Ok(PublicComplaintStatus {
            number: c.number,
            category_label: ComplaintCategory::from_code(&c.category)
                .map_or("", |x| x.label())
                .to_string(),
            status_label: match ComplaintStatus::from_code(&c.status) {
                Some(ComplaintStatus::Answered) => "已答复",
                _ => "办理中",
            }
            .to_string(),
            received_on: c.received_on,
            due: c.due,
            reply: c.reply,
            answered_on: c.answered_on,
        })
    }
}

async fn tx_region(tx: &mut Tx, household: i64) -> Result<String> {
    tx.get_household(household, "")
        .await?
        .map(|h| h.region_code)
        .ok_or(ServiceError::NotFound)
}
