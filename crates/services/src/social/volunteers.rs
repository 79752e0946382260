//! Volunteers and social workers: an organisation registers its volunteers (each saying whether
//! their name may appear on the public honour board), logs their services — kind, household,
//! date, hours — and an organiser other than the one who logged verifies the hours. Verified hours
//! earn `volunteers.points_per_hour` points in an append-only ledger; a correction is a reversing
//! entry. The monthly 爱心榜 ranks each township's volunteers by their points.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use jiuzhu_domain::enrolment::{add_months, month_of};
use jiuzhu_domain::social::{points_for, ServiceKind};
use jiuzhu_domain::{RegionCode, RegionLevel};
use jiuzhu_store::{ServiceLogRecord, VolunteerRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::organisation_of;
use crate::openness::bounded;
use crate::{Actor, Result, ServiceError, Social};

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct VolunteerInput {
    pub name: String,
    /// The township the volunteer serves.
    pub region: String,
    /// The volunteer agrees to their name on the public honour board.
    pub show_on_board: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ServiceLogInput {
    pub volunteer_id: i64,
    /// The household served, when one was.
    pub household_id: Option<i64>,
    /// visit, housework, tutoring, repair, counselling, escort, meals, other.
    pub kind: String,
    pub date: Option<NaiveDate>,
    /// Hours, to a tenth: "2.5".
    pub hours: String,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VolunteerView {
    pub id: i64,
    pub name: String,
    pub township: String,
    pub show_on_board: bool,
    /// Points all told, and this month.
    pub points: i64,
    pub points_this_month: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceLogView {
    pub id: i64,
    pub volunteer: String,
    pub volunteer_id: i64,
    pub household_id: Option<i64>,
    pub kind_label: String,
    pub date: NaiveDate,
    /// "2.5"
    pub hours: String,
    pub note: String,
    pub status: String,
    pub status_label: String,
    pub logged_by: String,
    pub verified_by: Option<String>,
}

/// One line of the public honour board.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HonourRow {
    pub rank: usize,
    /// The volunteer's name where they agreed, else 爱心志愿者.
    pub name: String,
    pub organisation: String,
    pub township: String,
    pub points: i64,
}

fn tenths(field: &str, text: &str) -> Result<i64> {
    let t = text.trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, "0"));
    let ok = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.len() == 1
        && frac.bytes().all(|b| b.is_ascii_digit());
    let n = if ok {
        whole
            .parse::<i64>()
            .ok()
            .map(|w| w * 10 + frac.parse::<i64>().unwrap_or(0))
    } else {
        None
    };
    match n {
        Some(n) if (1..=240).contains(&n) => Ok(n),
        _ => Err(ServiceError::invalid(
            field,
            format!("服务时长“{t}”应为0.1至24小时，最多一位小数"),
        )),
    }
}

fn show_tenths(n: i64) -> String {
    format!("{}.{}", n / 10, n.abs() % 10)
}

fn status_label(s: &str) -> &'static str {
    match s {
        "logged" => "待核实",
        "verified" => "已核实",
        _ => "已更正（积分已冲回）",
    }
}

impl Social<'_> {
    /// An organisation registers one of its volunteers.
    pub async fn add_volunteer(
        &self,
        actor: &Actor,
        input: &VolunteerInput,
    ) -> Result<VolunteerView> {
        let name = bounded("name", &input.name, "志愿者姓名", 30)?;
        let mut tx = self.store.begin().await?;
        let organisation = organisation_of(&mut tx, actor).await?;
        let region = RegionCode::parse(input.region.trim())
            .ok()
            .filter(|r| {
                r.level() == RegionLevel::Township && r.as_str().starts_with(actor.county())
            })
            .ok_or_else(|| ServiceError::invalid("region", "请选择志愿者服务的乡镇（街道）"))?;
        let id = tx
            .insert_volunteer(&VolunteerRecord {
                id: 0,
                name,
                organisation_id: organisation,
                region_code: region.as_str().into(),
                show_on_board: input.show_on_board,
                created_by: actor.username.clone(),
                created_at: self.now(),
            })
            .await?;
        tx.append_audit(&actor.audit(
            "volunteer.create",
            "volunteer",
            id,
            Some(region.as_str()),
            json!({"show_on_board": input.show_on_board}),
        ))
        .await?;
        tx.commit().await?;
        self.volunteers(actor)
            .await?
            .into_iter()
            .find(|v| v.id == id)
            .ok_or(ServiceError::NotFound)
    }

    /// The organisation's volunteers with their points.
    pub async fn volunteers(&self, actor: &Actor) -> Result<Vec<VolunteerView>> {
        let mut tx = self.store.begin_read().await?;
        let organisation = organisation_of(&mut tx, actor).await?;
        let county = actor.county();
        let month = month_of(self.today());
        let all: HashMap<i64, i64> = tx
            .points(county, None, None)
            .await?
            .into_iter()
            .map(|p| (p.volunteer_id, p.points))
            .collect();
        let this: HashMap<i64, i64> = tx
            .points(county, Some(month), Some(add_months(month, 1)))
            .await?
            .into_iter()
            .map(|p| (p.volunteer_id, p.points))
            .collect();
        let mut out = Vec::new();
        for v in tx.volunteers(county, Some(organisation)).await? {
            out.push(VolunteerView {
                township: self.region_name(&mut tx, &v.region_code).await?,
                points: all.get(&v.id).copied().unwrap_or(0),
                points_this_month: this.get(&v.id).copied().unwrap_or(0),
                id: v.id,
                name: v.name,
                show_on_board: v.show_on_board,
            });
        }
        Ok(out)
    }

    /// Logs a service of one of the organisation's volunteers; it earns nothing until verified.
    pub async fn log_service(
        &self,
        actor: &Actor,
        input: &ServiceLogInput,
    ) -> Result<ServiceLogView> {
        let kind = ServiceKind::from_code(&input.kind)
            .ok_or_else(|| ServiceError::invalid("kind", "请选择服务类别"))?;
        let date = input
            .date
            .ok_or_else(|| ServiceError::invalid("date", "请填写服务日期"))?;
        if date > self.today() {
            return Err(ServiceError::invalid("date", "服务日期不能晚于今天"));
        }
        let hours = tenths("hours", &input.hours)?;
        let note = input.note.trim();
        if note.chars().count() > 200 {
            return Err(ServiceError::invalid("note", "服务内容不能超过200字"));
        }
        let mut tx = self.store.begin().await?;
        let organisation = organisation_of(&mut tx, actor).await?;
        let v = tx
            .volunteer(input.volunteer_id)
            .await?
            .filter(|v| v.organisation_id == organisation)
            .ok_or_else(|| ServiceError::invalid("volunteer_id", "请选择本组织的志愿者"))?;
        if let Some(h) = input.household_id {
            if tx.get_household(h, actor.county()).await?.is_none() {
                return Err(ServiceError::invalid("household_id", "未找到该家庭"));
            }
        }
        let id = tx
            .insert_service_log(&ServiceLogRecord {
                id: 0,
                volunteer_id: v.id,
                household_id: input.household_id,
                region_code: v.region_code.clone(),
                kind: kind.code().into(),
                service_date: date,
                hours_tenths: hours,
                note: note.into(),
                status: "logged".into(),
                logged_by: actor.username.clone(),
                logged_at: self.now(),
                verified_by: None,
                verified_at: None,
            })
            .await?;
        tx.append_audit(&actor.audit(
            "service.log",
            "volunteer",
            v.id,
            Some(&v.region_code),
            json!({"log": id, "hours_tenths": hours, "household": input.household_id}),
        ))
        .await?;
        tx.commit().await?;
        self.log_view(actor, id).await
    }

    async fn log_view(&self, actor: &Actor, id: i64) -> Result<ServiceLogView> {
        self.service_logs(actor)
            .await?
            .into_iter()
            .find(|l| l.id == id)
            .ok_or(ServiceError::NotFound)
    }

    /// The services logged by the organisation's volunteers, newest first.
    pub async fn service_logs(&self, actor: &Actor) -> Result<Vec<ServiceLogView>> {
        let mut tx = self.store.begin_read().await?;
        let organisation = organisation_of(&mut tx, actor).await?;
        let county = actor.county();
        let names: HashMap<i64, String> = tx
            .volunteers(county, Some(organisation))
            .await?
            .into_iter()
            .map(|v| (v.id, v.name))
            .collect();
        let logs = tx.service_logs(county, Some(organisation)).await?;
        let mut users: Vec<&str> = logs.iter().map(|l| l.logged_by.as_str()).collect();
        users.extend(logs.iter().filter_map(|l| l.verified_by.as_deref()));
        let people = crate::recipients::display_names(&mut tx, users).await?;
        let shown = |u: &str| people.get(u).cloned().unwrap_or_else(|| u.to_string());
        Ok(logs
            .iter()
            .map(|l| ServiceLogView {
                id: l.id,
                volunteer: names.get(&l.volunteer_id).cloned().unwrap_or_default(),
                volunteer_id: l.volunteer_id,
                household_id: l.household_id,
                kind_label: ServiceKind::from_code(&l.kind)
                    .map_or("", |k| k.label())
                    .into(),
                date: l.service_date,
                hours: show_tenths(l.hours_tenths),
                note: l.note.clone(),
                status: l.status.clone(),
                status_label: status_label(&l.status).into(),
                logged_by: shown(&l.logged_by),
                verified_by: l.verified_by.as_deref().map(shown),
            })
            .collect())
    }

    /// An organiser verifies the hours of a logged service (not the one who logged it): the
    /// verified hours become points.
    pub async fn verify_service(&self, actor: &Actor, log_id: i64) -> Result<ServiceLogView> {
        let mut tx = self.store.begin().await?;
        let organisation = organisation_of(&mut tx, actor).await?;
        let (log, v) = self.own_log(&mut tx, organisation, log_id).await?;
        if log.logged_by == actor.username {
            return Err(ServiceError::invalid(
                "verified_by",
                "登记服务的人不能核实自己登记的时长：须由另一名组织者核实",
            ));
        }
        let now = Utc::now();
        if !tx
            .set_log_status(log.id, "logged", "verified", &actor.username, now)
            .await?
        {
            return Err(ServiceError::Conflict {
                field: None,
                message: "该服务已核实或已更正（可能是重复提交）".into(),
            });
        }
        let per_hour =
            self.count_param(&v.region_code, "volunteers.points_per_hour", self.today())?;
        let points = points_for(log.hours_tenths, per_hour);
        tx.insert_point_entry(
            v.id,
            Some(log.id),
            points,
            &format!("{} {}小时", log.service_date, show_tenths(log.hours_tenths)),
            month_of(log.service_date),
            &actor.username,
            now,
        )
        .await?;
        tx.append_audit(&actor.audit(
            "service.verify",
            "volunteer",
            v.id,
            Some(&v.region_code),
            json!({"log": log.id, "points": points}),
        ))
        .await?;
        tx.commit().await?;
        self.log_view(actor, log_id).await
    }

    /// Corrects a verified service found wrong: its points are reversed by a new entry; the
    /// ledger itself is never edited.
    pub async fn correct_service(
        &self,
        actor: &Actor,
        log_id: i64,
        reason: &str,
    ) -> Result<ServiceLogView> {
        let reason = bounded("reason", reason, "更正理由", 200)?;
        let mut tx = self.store.begin().await?;
        let organisation = organisation_of(&mut tx, actor).await?;
        let (log, v) = self.own_log(&mut tx, organisation, log_id).await?;
        let now = Utc::now();
        if !tx
            .set_log_status(log.id, "verified", "corrected", &actor.username, now)
            .await?
        {
            return Err(ServiceError::invalid("status", "只有已核实的服务需要更正"));
        }
        let per_hour =
            self.count_param(&v.region_code, "volunteers.points_per_hour", self.today())?;
        let points = -points_for(log.hours_tenths, per_hour);
        tx.insert_point_entry(
            v.id,
            Some(log.id),
            points,
            &format!("冲回：{reason}"),
            month_of(log.service_date),
            &actor.username,
            now,
        )
        .await?;
        tx.append_audit(&actor.audit(
            "service.correct",
            "volunteer",
            v.id,
            Some(&v.region_code),
            json!({"log": log.id, "points": points, "reason": reason}),
        ))
        .await?;
        tx.commit().await?;
        self.log_view(actor, log_id).await
    }

    async fn own_log(
        &self,
        tx: &mut jiuzhu_store::Tx,
        organisation: i64,
        log_id: i64,
    ) -> Result<(ServiceLogRecord, VolunteerRecord)> {
        let log = tx
            .service_log(log_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let v = tx
            .volunteer(log.volunteer_id)
            .await?
            .filter(|v| v.organisation_id == organisation)
            .ok_or(ServiceError::NotFound)?;
        Ok((log, v))
    }

    /// The public 爱心榜 of a month: volunteers by points, a township's or all; a volunteer who
    /// did not agree is shown as 爱心志愿者.
    pub async fn honour_board(
        &self,
        region: Option<&str>,
        month: NaiveDate,
    ) -> Result<Vec<HonourRow>> {
        let month = month_of(month);
        let region = region
            .map(str::trim)
            .filter(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or("");
        let mut tx = self.store.begin_read().await?;
        let names: HashMap<i64, String> = tx
            .all_organisations("")
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let mut out = Vec::new();
        for (i, p) in tx
            .points(region, Some(month), Some(add_months(month, 1)))
            .await?
            .into_iter()
            .filter(|p| p.points > 0)
            .take(50)
            .enumerate()
        {
            out.push(HonourRow {
                rank: i + 1,
                name: if p.show_on_board {
                    p.name
                } else {
                    "爱心志愿者".into()
                },
                organisation: names.get(&p.organisation_id).cloned().unwrap_or_default(),
                township: self.region_name(&mut tx, &p.region_code).await?,
                points: p.points,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_are_read_to_a_tenth() {
        assert_eq!(tenths("hours", "2.5").unwrap(), 25);
        assert_eq!(tenths("hours", "3").unwrap(), 30);
        assert!(tenths("hours", "2.55").is_err());
        assert!(tenths("hours", "0").is_err());
        assert!(tenths("hours", "25").is_err());
        assert!(tenths("hours", "两小时").is_err());
        assert_eq!(show_tenths(25), "2.5");
    }
}
