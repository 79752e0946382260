//! The monitored population (低收入人口库): who is watched and why, for the township to see,
//! the bureau to export and each partner department to read the people it serves.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use jiuzhu_domain::{IdNumber, Permission, Role};
use jiuzhu_store::PopulationSource;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::people::{Page, PER_PAGE};
use crate::{Actor, Monitoring, Result, ServiceError};

/// The groups of the population, in the order a household is counted under the first that fits.
pub const GROUPS: &[(&str, &str)] = &[
    ("tekun", "特困人员"),
    ("dibao", "低保家庭"),
    ("near_dibao", "低保边缘家庭"),
    ("expenditure_hardship", "支出型困难家庭"),
    ("assisted", "其他救助对象"),
    ("left", "近期退出救助"),
    ("refused", "近期申请未获批准"),
    ("registered", "村（社区）登记困难家庭"),
];

pub fn group_label(code: &str) -> &'static str {
    GROUPS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("", |(_, l)| *l)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PopulationHousehold {
    pub household_id: i64,
    pub region_code: String,
    pub region_name: String,
    pub head_name: String,
    pub members: i64,
    pub group: String,
    pub group_label: String,
    /// When the household came under this group.
    pub since: NaiveDate,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct PopulationQuery {
    /// One of the groups: tekun, dibao, near_dibao, expenditure_hardship, assisted, left, refused, registered.
    pub group: Option<String>,
    /// A township or village within the user's region.
    pub region: Option<String>,
    pub page: Option<i64>,
}

/// A person a partner department reads from the population, with the full identity number it
/// needs to act (the read is recorded).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SharedPerson {
    pub name: String,
    pub id_number: String,
    pub age: u32,
    pub region_name: String,
    pub group_label: String,
}

/// The group a household is counted under, from its enrolments and registrations.
fn group_of(sources: &[&PopulationSource], cutoff: NaiveDate) -> Option<(&'static str, NaiveDate)> {
    let cutoff_ts: DateTime<Utc> = cutoff.and_hms_opt(0, 0, 0).map(|t| t.and_utc())?;
    let day = |t: DateTime<Utc>| t.date_naive();
    let current: Vec<&&PopulationSource> = sources
        .iter()
        .filter(|s| s.stage == "confirmed" && s.ended.is_none())
        .collect();
    for (code, _) in GROUPS.iter().take(4) {
        if let Some(s) = current.iter().find(|s| s.program == *code) {
            return Some((code, day(s.since)));
        }
    }
    if let Some(s) = current.first() {
        return Some(("assisted", day(s.since)));
    }
    if let Some(s) = sources
        .iter()
        .filter(|s| s.stage == "confirmed" && s.ended.is_some_and(|e| e >= cutoff))
        .max_by_key(|s| s.ended)
    {
        return Some(("left", s.ended.unwrap_or(cutoff)));
    }
    if let Some(s) = sources
        .iter()
        .filter(|s| s.stage == "refused" && s.since >= cutoff_ts)
        .max_by_key(|s| s.since)
    {
        return Some(("refused", day(s.since)));
    }
    sources
        .iter()
        .find(|s| s.stage == "registered")
        .map(|s| ("registered", day(s.since)))
}

impl Monitoring<'_> {
    /// Households of the population within `scope` as of `on`, with their group, in household
    /// order. The monthly run watches exactly these.
    pub(super) async fn groups_in(
        &self,
        scope: &str,
        on: NaiveDate,
    ) -> Result<Vec<(i64, String, &'static str, NaiveDate)>> {
        let months = self
            .recipients()
            .count_param(scope, "monitoring.population_months", on)?
            .clamp(0, 120) as u32;
        let cutoff = jiuzhu_domain::monitoring::window_start(on, months.max(1));
        let mut read = self.store.begin_read().await?;
        let sources = read.population_sources(scope).await?;
        drop(read);
        let mut by_household: BTreeMap<i64, Vec<&PopulationSource>> = BTreeMap::new();
        for s in &sources {
            by_household.entry(s.household_id).or_default().push(s);
        }
        Ok(by_household
            .into_iter()
            .filter_map(|(h, list)| {
                let region = list[0].region_code.clone();
                group_of(&list, cutoff).map(|(g, since)| (h, region, g, since))
            })
            .collect())
    }

    async fn describe(
        &self,
        rows: &[(i64, String, &'static str, NaiveDate)],
    ) -> Result<Vec<PopulationHousehold>> {
        let mut read = self.store.begin_read().await?;
        let mut out = Vec::with_capacity(rows.len());
        for (h, region, group, since) in rows {
            let Some(household) = read.get_household(*h, "").await? else {
                continue;
            };
            let head_name = household
                .members
                .iter()
                .find(|m| m.person_id == household.head_person_id)
                .map(|m| m.name.clone())
                .unwrap_or_default();
            out.push(PopulationHousehold {
                household_id: *h,
                region_name: self.region_name(&mut read, region).await?,
                region_code: region.clone(),
                head_name,
                members: household.current_members().count() as i64,
                group: group.to_string(),
                group_label: group_label(group).to_string(),
                since: *since,
            });
        }
        Ok(out)
    }

    /// The monitored population of one's region, a page at a time, by group.
    pub async fn population(
        &self,
        actor: &Actor,
        q: &PopulationQuery,
    ) -> Result<(Page<PopulationHousehold>, Vec<(String, String, i64)>)> {
        actor.require(Permission::ReadPeople)?;
        let scope = crate::Services::scope_within(actor, q.region.as_deref())?;
        let group = q.group.as_deref().filter(|g| !g.is_empty());
        if let Some(g) = group {
            if group_label(g).is_empty() {
                return Err(ServiceError::invalid("group", "监测对象类别无效"));
            }
        }
        let all = self.groups_in(&scope, self.today()).await?;
        let counts: Vec<(String, String, i64)> = GROUPS
            .iter()
            .map(|(c, l)| {
                (
                    c.to_string(),
                    l.to_string(),
                    all.iter().filter(|r| r.2 == *c).count() as i64,
                )
            })
            .collect();
        let chosen: Vec<_> = all
            .into_iter()
            .filter(|r| group.is_none_or(|g| r.2 == g))
            .collect();
        let page = q.page.unwrap_or(1).max(1);
        let shown: Vec<_> = chosen
            .iter()
            .skip(((page - 1) * PER_PAGE) as usize)
            .take(PER_PAGE as usize)
            .cloned()
            .collect();
        let items = self.describe(&shown).await?;
        self.reads
            .record(actor.audit(
                "population.search",
                "household",
                "-",
                Some(&scope),
                json!({"group": group, "page": page, "shown": items.iter().map(|h| h.household_id).collect::<Vec<_>>()}),
            ))
            .await?;
        Ok((
            Page {
                items,
                total: chosen.len() as i64,
                page,
                per_page: PER_PAGE,
            },
            counts,
        ))
    }

    /// The whole population of one's region, for the bureau's export (recorded).
    pub async fn population_all(&self, actor: &Actor) -> Result<Vec<PopulationHousehold>> {
        actor.require(Permission::ReadPeople)?;
        let all = self.groups_in(actor.scope(), self.today()).await?;
        let items = self.describe(&all).await?;
        let mut tx = self.store.begin().await?;
        tx.append_audit(&actor.audit(
            "population.export",
            "household",
            "-",
            Some(actor.scope()),
            json!({"households": items.len()}),
        ))
        .await?;
        tx.commit().await?;
        Ok(items)
    }

    /// Registers a household found in difficulty by a village assistant or grid worker: it is
    /// watched from the next run.
    pub async fn register_household(
        &self,
        actor: &Actor,
        household_id: i64,
        reason: &str,
    ) -> Result<()> {
        actor.require(Permission::WritePeople)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ServiceError::invalid("reason", "请写明家庭的困难情况"));
        }
        let mut tx = self.store.begin().await?;
        let household = tx
            .get_household(household_id, actor.scope())
            .await?
            .ok_or(ServiceError::NotFound)?;
        tx.register_monitored(
            household_id,
            &household.region_code,
            reason,
            &actor.username,
        )
        .await?;
        tx.append_audit(&actor.audit(
            "population.register",
            "household",
            household_id,
            Some(&household.region_code),
            json!({"reason": reason}),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// What a partner department reads from the population: medical insurance everyone (to
    /// subsidise their contributions), education the children and students, human resources
    /// those of working age. Full identity numbers; each read recorded.
    pub async fn share_with_department(&self, actor: &Actor) -> Result<Vec<SharedPerson>> {
        if actor.role != Role::DepartmentLiaison {
            return Err(ServiceError::Forbidden);
        }
        let department = actor.department.clone().unwrap_or_default();
        let ages: std::ops::RangeInclusive<u32> = match department.as_str() {
            "medical_insurance" => 0..=150,
            "education" => 3..=22,
            "hrss" => 16..=59,
            _ => return Err(ServiceError::Forbidden),
        };
        let all = self.groups_in(actor.scope(), self.today()).await?;
        let group_of: BTreeMap<i64, (&'static str, String)> = all
            .iter()
            .map(|(h, r, g, _)| (*h, (*g, r.clone())))
            .collect();
        let mut read = self.store.begin_read().await?;
        let households: Vec<i64> = group_of.keys().copied().collect();
        let members = read.current_members_of(&households).await?;
        let persons: Vec<i64> = members.iter().map(|(_, p)| *p).collect();
        let ids: BTreeMap<i64, String> =
            read.identity_numbers(&persons).await?.into_iter().collect();
        let names: BTreeMap<i64, String> = read.person_names(&persons).await?.into_iter().collect();
        let today = self.today();
        let mut out = Vec::new();
        let mut region_names: BTreeMap<String, String> = BTreeMap::new();
        for (h, p) in &members {
            let (Some(id), Some((group, region))) = (ids.get(p), group_of.get(h)) else {
                continue;
            };
            let Ok(parsed) = IdNumber::parse(id, today) else {
                continue;
            };
            let age = jiuzhu_domain::age_between(parsed.birth_date(), today);
            if !ages.contains(&age) {
                continue;
            }
            if !region_names.contains_key(region) {
                let name = self.region_name(&mut read, region).await?;
                region_names.insert(region.clone(), name);
            }
            out.push(SharedPerson {
                name: names.get(p).cloned().unwrap_or_default(),
                id_number: id.clone(),
                age,
                region_name: region_names[region].clone(),
                group_label: group_label(group).to_string(),
            });
        }
        drop(read);
        let mut tx = self.store.begin().await?;
        tx.append_audit(&actor.audit(
            "population.share",
            "household",
            "-",
            Some(actor.scope()),
            json!({"department": department, "persons": out.len()}),
        ))
        .await?;
        tx.commit().await?;
        Ok(out)
    }
}
