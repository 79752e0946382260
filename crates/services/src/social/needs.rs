//! Needs and matching: a need of a household's plan, with the household's recorded consent, is
//! published to the registered organisations without name, identity number or any place finer
//! than the township; an organisation commits to part or all of it (never beyond what remains),
//! reports delivery, and the last delivery closes the plan's measure. Each township's monthly
//! needs report goes to the charity association (seed 003 §三(三)2(1)).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use jiuzhu_domain::enrolment::{add_months, month_of};
use jiuzhu_domain::social::NeedUnit;
use jiuzhu_domain::{Permission, Role};
use jiuzhu_store::{CommitmentRecord, ConsentRecord, PublishedNeedRecord};
use rust_xlsxwriter::{Format, Workbook};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{area_of, organisation_of};
use crate::openness::bounded;
use crate::recipients::cause_label;
use crate::{Actor, Result, ServiceError, Social};

/// Consent recorded for a household: to verification (授权核对) or to sharing its needs.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ConsentInput {
    pub household_id: i64,
    /// The member who signs.
    pub person_id: i64,
    /// share_needs or verification.
    pub kind: String,
    /// window, visit or online.
    pub channel: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct NeedInput {
    pub plan_id: i64,
    /// The need's place in the plan (0 for the first).
    pub need_index: i64,
    /// What is needed, in words that name nobody.
    pub description: String,
    pub quantity: i64,
    /// yuan, hours, visits or items.
    pub unit: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct CommitInput {
    pub quantity: i64,
    pub note: String,
}

/// A need as organisations see it: no household, no name, the township only.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NeedBoardItem {
    pub id: i64,
    pub township: String,
    pub cause_label: String,
    pub description: String,
    pub quantity: i64,
    pub unit_label: String,
    pub committed: i64,
    pub remaining: i64,
    pub status: String,
    pub status_label: String,
    pub published_on: NaiveDate,
    /// The reader's own organisation's commitments: (id, quantity, delivered).
    pub mine: Vec<MyCommitment>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MyCommitment {
    pub id: i64,
    pub quantity: i64,
    pub delivered: bool,
}

/// A need as the township sees it: with its household and every commitment.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NeedView {
    pub item: NeedBoardItem,
    pub household_id: i64,
    pub plan_id: i64,
    pub commitments: Vec<CommitmentView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommitmentView {
    pub organisation: String,
    pub quantity: i64,
    pub status_label: String,
    pub committed_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A township's needs of a month, for the charity association.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NeedReportRow {
    pub township: String,
    pub published: i64,
    pub committed: i64,
    pub delivered: i64,
    pub open: i64,
    /// The open needs in words: cause, description, what remains.
    pub open_needs: Vec<String>,
}

/// A need of a household's current plan that may be published.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Publishable {
    pub plan_id: i64,
    pub need_index: i64,
    pub household_id: i64,
    pub head_person_id: i64,
    pub head_name: String,
    pub place: String,
    pub need: String,
    /// Who the plan says acts on it.
    pub measure: String,
    /// The household agreed to its needs being shared.
    pub consent: bool,
}

fn status_label(status: &str) -> &'static str {
    match status {
        "open" => "待认领",
        "committed" => "已认领",
        "delivered" => "已完成",
        _ => "已撤回",
    }
}

/// Any run of digits long enough to be an identity number or a phone.
fn holds_number(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            run += 1;
            if run >= 11 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

impl Social<'_> {
    /// Records a household member's consent (signed at the window, on a visit or online).
    pub async fn record_consent(&self, actor: &Actor, input: &ConsentInput) -> Result<()> {
        actor.require(Permission::ManageRecipients)?;
        let text = match input.kind.as_str() {
            "share_needs" => "同意将本户的帮扶需求（不含姓名、身份证号和详细住址）发布给登记的社会组织，用于对接社会帮扶",
            "verification" => "授权民政部门会同有关部门、机构核对本户成员的收入、财产等家庭经济状况",
            _ => return Err(ServiceError::invalid("kind", "请选择授权事项")),
        };
        let channel = match input.channel.as_str() {
            c @ ("window" | "visit") => c,
            _ => {
                return Err(ServiceError::invalid(
                    "channel",
                    "请选择签署方式：窗口或入户",
                ))
            }
        };
        let mut tx = self.store.begin().await?;
        let h = tx
            .get_household(input.household_id, actor.scope())
            .await?
            .ok_or(ServiceError::NotFound)?;
        if !h.current_members().any(|m| m.person_id == input.person_id) {
            return Err(ServiceError::invalid("person_id", "签署人须为本户现有成员"));
        }
        let id = tx
            .insert_consent(&ConsentRecord {
                id: 0,
                household_id: h.id,
                person_id: input.person_id,
                case_id: None,
                kind: input.kind.clone(),
                channel: channel.into(),
                text: text.into(),
                given_at: self.now(),
                recorded_by: actor.username.clone(),
                ip: actor.ip.clone(),
            })
            .await?;
        tx.append_audit(&actor.audit(
            "consent.record",
            "household",
            h.id,
            Some(&h.region_code),
            json!({"consent": id, "kind": input.kind, "person": input.person_id}),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The needs of the current plans within the actor's region not yet published, those with
    /// the household's consent first.
    pub async fn publishable(&self, actor: &Actor) -> Result<Vec<Publishable>> {
        actor.require(Permission::ManageRecipients)?;
        let mut tx = self.store.begin_read().await?;
        let published: std::collections::HashSet<(i64, i64)> = tx
            .published_needs(actor.scope(), None)
            .await?
            .iter()
            .map(|n| (n.plan_id, n.need_index))
            .collect();
        let mut out = Vec::new();
        for (plan, household, region, needs, _) in tx.latest_plans(actor.scope()).await? {
            let needs: Vec<crate::recipients::Need> =
                serde_json::from_str(&needs).unwrap_or_default();
            let open: Vec<(usize, &crate::recipients::Need)> = needs
                .iter()
                .enumerate()
                .filter(|(i, n)| {
                    !published.contains(&(plan, *i as i64))
                        && n.measure.as_ref().is_some_and(|m| m.status != "done")
                })
                .collect();
            if open.is_empty() {
                continue;
            }
            let consent = !tx.consents(household, "share_needs").await?.is_empty();
            let h = tx.get_household(household, "").await?;
            let head_name = h
                .as_ref()
                .and_then(|h| h.members.iter().find(|m| m.person_id == h.head_person_id))
                .map(|m| m.name.clone())
                .unwrap_or_default();
            let head_person_id = h.as_ref().map_or(0, |h| h.head_person_id);
            let place = self.region_name(&mut tx, &region).await?;
            for (i, n) in open {
                out.push(Publishable {
                    plan_id: plan,
                    need_index: i as i64,
                    household_id: household,
                    head_person_id,
                    head_name: head_name.clone(),
                    place: place.clone(),
                    need: n.need.clone(),
                    measure: n
                        .measure
                        .as_ref()
                        .map(|m| format!("{}：{}", m.by, m.what))
                        .unwrap_or_default(),
                    consent,
                });
            }
        }
        out.sort_by_key(|p| !p.consent);
        Ok(out)
    }

    /// Publishes one need of a household's plan to the organisations, once, with the household's
    /// consent; the words may not carry a name, an identity number or a phone.
    pub async fn publish_need(&self, actor: &Actor, input: &NeedInput) -> Result<NeedView> {
        actor.require(Permission::ManageRecipients)?;
        let description = bounded("description", &input.description, "需求说明", 200)?;
        let unit = NeedUnit::from_code(&input.unit)
            .ok_or_else(|| ServiceError::invalid("unit", "请选择计量单位"))?;
        if !(1..=10_000_000).contains(&input.quantity) {
            return Err(ServiceError::invalid("quantity", "数量应为正整数"));
        }
        let mut tx = self.store.begin().await?;
        let plan = tx
            .plan(input.plan_id)
            .await?
            .filter(|p| p.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        let needs: Vec<serde_json::Value> = serde_json::from_str(&plan.needs).unwrap_or_default();
        if input.need_index < 0 || input.need_index as usize >= needs.len() {
            return Err(ServiceError::invalid(
                "need_index",
                "帮扶计划中没有这项需求",
            ));
        }
        if tx
            .consents(plan.household_id, "share_needs")
            .await?
            .is_empty()
        {
            return Err(ServiceError::invalid(
                "consent",
                "该户尚未签署同意向社会组织发布需求的授权，请先在家庭档案中登记授权",
            ));
        }
        let household = tx
            .get_household(plan.household_id, "")
            .await?
            .ok_or(ServiceError::NotFound)?;
        if holds_number(&description)
            || household
                .members
                .iter()
                .any(|m| m.name.chars().count() >= 2 && description.contains(&m.name))
        {
            return Err(ServiceError::invalid(
                "description",
                "需求说明不能出现姓名、身份证号或电话：发布给社会组织的需求须去除身份信息",
            ));
        }
        let causes: Vec<String> = serde_json::from_str(&plan.causes).unwrap_or_default();
        let record = PublishedNeedRecord {
            id: 0,
            household_id: plan.household_id,
            plan_id: plan.id,
            need_index: input.need_index,
            region_code: plan.region_code[..9.min(plan.region_code.len())].to_string(),
            cause: causes.first().cloned().unwrap_or_else(|| "other".into()),
            description,
            quantity: input.quantity,
            unit: unit.code().into(),
            status: "open".into(),
            published_by: actor.username.clone(),
            published_at: self.now(),
            revision: 0,
        };
        let id = match tx.insert_published_need(&record).await {
            Ok(id) => id,
            Err(jiuzhu_store::StoreError::Duplicate(_)) => {
                return Err(ServiceError::Conflict {
                    field: Some("need_index".into()),
                    message: "这项需求已经发布".into(),
                })
            }
            Err(e) => return Err(e.into()),
        };
        tx.set_measure_status(plan.id, input.need_index, "in_progress")
            .await?;
        tx.append_audit(&actor.audit(
            "need.publish",
            "household",
            plan.household_id,
            Some(&plan.region_code),
            json!({"need": id, "plan": plan.id, "index": input.need_index, "quantity": input.quantity}),
        ))
        .await?;
        tx.commit().await?;
        // Just published: nobody has committed yet.
        let mut read = self.store.begin_read().await?;
        let need = read
            .published_need(id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        Ok(NeedView {
            item: self.board_item(&mut read, &need, &[], None).await?,
            household_id: need.household_id,
            plan_id: need.plan_id,
            commitments: Vec::new(),
        })
    }

    async fn board_item(
        &self,
        tx: &mut jiuzhu_store::Tx,
        n: &PublishedNeedRecord,
        commitments: &[CommitmentRecord],
        mine: Option<i64>,
    ) -> Result<NeedBoardItem> {
        let committed: i64 = commitments.iter().map(|c| c.quantity).sum();
        Ok(NeedBoardItem {
            id: n.id,
            township: self.region_name(tx, &n.region_code).await?,
            cause_label: cause_label(&n.cause).unwrap_or("其他").to_string(),
            description: n.description.clone(),
            quantity: n.quantity,
            unit_label: NeedUnit::from_code(&n.unit)
                .map_or("", |u| u.label())
                .into(),
            committed,
            remaining: n.quantity - committed,
            status: n.status.clone(),
            status_label: status_label(&n.status).into(),
            published_on: jiuzhu_domain::case::china_date(n.published_at),
            mine: commitments
                .iter()
                .filter(|c| Some(c.organisation_id) == mine)
                .map(|c| MyCommitment {
                    id: c.id,
                    quantity: c.quantity,
                    delivered: c.status == "delivered",
                })
                .collect(),
        })
    }

    /// The needs board of an organisation's account: the townships it serves (every one of the
    /// county for a county-wide organisation), nothing that names a household.
    pub async fn board(&self, actor: &Actor) -> Result<Vec<NeedBoardItem>> {
        let mut tx = self.store.begin_read().await?;
        let organisation = organisation_of(&mut tx, actor).await?;
        let area = area_of(&mut tx, organisation).await?;
        let mut out = Vec::new();
        for n in tx.published_needs(&area, None).await? {
            if n.status == "withdrawn" {
                continue;
            }
            let commitments = tx.commitments_of(n.id).await?;
            out.push(
                self.board_item(&mut tx, &n, &commitments, Some(organisation))
                    .await?,
            );
        }
        Ok(out)
    }

    /// The needs the actor's township published, with households and commitments.
    pub async fn needs(&self, actor: &Actor) -> Result<Vec<NeedView>> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin_read().await?;
        let names: HashMap<i64, String> = tx
            .all_organisations("")
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let mut out = Vec::new();
        for n in tx.published_needs(actor.scope(), None).await? {
            let commitments = tx.commitments_of(n.id).await?;
            let item = self.board_item(&mut tx, &n, &commitments, None).await?;
            out.push(NeedView {
                item,
                household_id: n.household_id,
                plan_id: n.plan_id,
                commitments: commitments
                    .iter()
                    .map(|c| CommitmentView {
                        organisation: names.get(&c.organisation_id).cloned().unwrap_or_default(),
                        quantity: c.quantity,
                        status_label: if c.status == "delivered" {
                            "已完成"
                        } else {
                            "已认领"
                        }
                        .into(),
                        committed_at: c.committed_at,
                        delivered_at: c.delivered_at,
                    })
                    .collect(),
            });
        }
        Ok(out)
    }

    /// An organisation commits to part or all of what a need still wants; more is refused.
    pub async fn commit(
        &self,
        actor: &Actor,
        need_id: i64,
        input: &CommitInput,
    ) -> Result<NeedBoardItem> {
        let note = input.note.trim();
        if note.chars().count() > 200 {
            return Err(ServiceError::invalid("note", "说明不能超过200字"));
        }
        let mut tx = self.store.begin().await?;
        let organisation = organisation_of(&mut tx, actor).await?;
        let area = area_of(&mut tx, organisation).await?;
        let need = tx
            .published_need(need_id)
            .await?
            .filter(|n| n.region_code.starts_with(&area) && n.status == "open")
            .ok_or_else(|| ServiceError::invalid("need", "该需求已认领满或已完成"))?;
        let commitments = tx.commitments_of(need.id).await?;
        let remaining = need.quantity - commitments.iter().map(|c| c.quantity).sum::<i64>();
        let unit = NeedUnit::from_code(&need.unit).map_or("", |u| u.label());
        if input.quantity < 1 || input.quantity > remaining {
            return Err(ServiceError::invalid(
                "quantity",
                format!("认领数量应在1至{remaining}{unit}之间（尚需{remaining}{unit}）"),
            ));
        }
        tx.insert_commitment(&CommitmentRecord {
            id: 0,
            need_id: need.id,
            organisation_id: organisation,
            quantity: input.quantity,
            status: "committed".into(),
            note: note.into(),
            committed_by: actor.username.clone(),
            committed_at: self.now(),
            delivered_by: None,
            delivered_at: None,
        })
        .await?;
        if input.quantity == remaining
            && !tx
                .set_need_status(need.id, "committed", need.revision)
                .await?
        {
            return Err(ServiceError::Stale);
        }
        tx.append_audit(&actor.audit(
            "need.commit",
            "need",
            need.id,
            Some(&need.region_code),
            json!({"organisation": organisation, "quantity": input.quantity}),
        ))
        .await?;
        tx.commit().await?;
        self.board_one(actor, need_id).await
    }

    /// One need of the board, as the organisation now sees it.
    async fn board_one(&self, actor: &Actor, need_id: i64) -> Result<NeedBoardItem> {
        let mut tx = self.store.begin_read().await?;
        let organisation = organisation_of(&mut tx, actor).await?;
        let need = tx
            .published_need(need_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let commitments = tx.commitments_of(need.id).await?;
        self.board_item(&mut tx, &need, &commitments, Some(organisation))
            .await
    }

    /// The organisation reports a commitment delivered; the last delivery of a fully
    /// committed need closes it and the plan's measure.
    pub async fn deliver(&self, actor: &Actor, commitment_id: i64) -> Result<NeedBoardItem> {
        let mut tx = self.store.begin().await?;
        let organisation = organisation_of(&mut tx, actor).await?;
        let c = tx
            .commitment(commitment_id)
            .await?
            .filter(|c| c.organisation_id == organisation)
            .ok_or(ServiceError::NotFound)?;
        let need = tx
            .published_need(c.need_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if !tx
            .deliver_commitment(c.id, &actor.username, self.now())
            .await?
        {
            return Err(ServiceError::Conflict {
                field: None,
                message: "已报告完成（可能是重复提交）".into(),
            });
        }
        let all = tx.commitments_of(need.id).await?;
        let done = all.iter().all(|c| c.status == "delivered")
            && all.iter().map(|c| c.quantity).sum::<i64>() == need.quantity;
        if done {
            if !tx
                .set_need_status(need.id, "delivered", need.revision)
                .await?
            {
                return Err(ServiceError::Stale);
            }
            tx.set_measure_status(need.plan_id, need.need_index, "done")
                .await?;
        }
        tx.append_audit(&actor.audit(
            "need.deliver",
            "need",
            need.id,
            Some(&need.region_code),
            json!({"commitment": c.id, "closed": done}),
        ))
        .await?;
        tx.commit().await?;
        self.board_one(actor, need.id).await
    }

    /// Each township's needs published in a month: how many, committed, delivered, still open,
    /// and the open ones in words — the report to the charity association.
    pub async fn needs_report(
        &self,
        actor: &Actor,
        month: NaiveDate,
    ) -> Result<Vec<NeedReportRow>> {
        actor.require(Permission::ReadPeople)?;
        if actor.role == Role::Organisation {
            return Err(ServiceError::Forbidden);
        }
        let month = month_of(month);
        let until = add_months(month, 1);
        let mut tx = self.store.begin_read().await?;
        let mut rows: BTreeMap<String, NeedReportRow> = BTreeMap::new();
        for n in tx.published_needs(actor.scope(), None).await? {
            let on = jiuzhu_domain::case::china_date(n.published_at);
            if on < month || on >= until || n.status == "withdrawn" {
                continue;
            }
            let commitments = tx.commitments_of(n.id).await?;
            let item = self.board_item(&mut tx, &n, &commitments, None).await?;
            let row = rows
                .entry(n.region_code.clone())
                .or_insert_with(|| NeedReportRow {
                    township: item.township.clone(),
                    published: 0,
                    committed: 0,
                    delivered: 0,
                    open: 0,
                    open_needs: Vec::new(),
                });
            row.published += 1;
            match n.status.as_str() {
                "delivered" => row.delivered += 1,
                "committed" => row.committed += 1,
                _ => {
                    row.open += 1;
                    row.open_needs.push(format!(
                        "{}：{}（尚需{}{}）",
                        item.cause_label, item.description, item.remaining, item.unit_label
                    ));
                }
            }
        }
        Ok(rows.into_values().collect())
    }

    /// The month's needs report as a workbook.
    pub async fn needs_report_xlsx(&self, actor: &Actor, month: NaiveDate) -> Result<Vec<u8>> {
        let rows = self.needs_report(actor, month).await?;
        let mut book = Workbook::new();
        let bold = Format::new().set_bold();
        let xl = |e: rust_xlsxwriter::XlsxError| ServiceError::invalid("xlsx", e.to_string());
        let sheet = book.add_worksheet();
        sheet.set_name("帮扶需求").map_err(xl)?;
        sheet
            .write_string_with_format(
                0,
                0,
                format!("{}帮扶需求月报（报慈善总会）", month.format("%Y年%-m月")),
                &bold,
            )
            .map_err(xl)?;
        for (c, h) in [
            "乡镇（街道）",
            "发布需求",
            "已认领",
            "已完成",
            "待认领",
            "待认领的需求",
        ]
        .iter()
        .enumerate()
        {
            sheet
                .write_string_with_format(2, c as u16, *h, &bold)
                .map_err(xl)?;
        }
        for (i, r) in rows.iter().enumerate() {
            let row = i as u32 + 3;
            sheet.write_string(row, 0, &r.township).map_err(xl)?;
            for (c, v) in [r.published, r.committed, r.delivered, r.open]
                .iter()
                .enumerate()
            {
                sheet
                    .write_number(row, c as u16 + 1, *v as f64)
                    .map_err(xl)?;
            }
            sheet
                .write_string(row, 5, r.open_needs.join("；"))
                .map_err(xl)?;
        }
        book.save_to_buffer().map_err(xl)
    }
}
