//! Projects of the social forces: charity projects with a target and the funds raised (e.g. 99
//! 公益日), and social-work projects the government buys, funded city : township 3 : 7 (seed 000
//! §三(三)1). The year's spending on bought services is held to `social.service_cap_percent` of
//! the year's special assistance funds (seed 004 §19: 2%), with a warning from
//! `social.cap_warn_percent` of the cap and a refusal beyond it.

use std::collections::HashMap;

use jiuzhu_domain::social::{cap_of, cap_standing, social_work_split, CapStanding, ProjectKind};
use jiuzhu_domain::{Money, Permission, RegionCode, RegionLevel};
use jiuzhu_store::ProjectRecord;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::openness::bounded;
use crate::{Actor, Result, ServiceError, Social};

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ProjectInput {
    /// charity or social_work.
    pub kind: String,
    pub name: String,
    pub organisation_id: Option<i64>,
    /// The township served (social work), or the county.
    pub region: String,
    /// The year; this year when left out.
    pub year: Option<i64>,
    /// Charity: the fundraising target; social work: the project's funds. In fen.
    pub target_fen: i64,
    /// Charity: raised so far, in fen.
    pub raised_fen: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectView {
    pub id: i64,
    pub kind: String,
    pub kind_label: String,
    pub name: String,
    pub organisation: String,
    pub place: String,
    pub year: i64,
    #[schema(value_type = i64)]
    pub target: Money,
    #[schema(value_type = i64)]
    pub raised: Money,
    pub raised_percent: Option<i64>,
    /// Social work: the city's 3 and the township's 7 tenths.
    #[schema(value_type = i64)]
    pub city: Money,
    #[schema(value_type = i64)]
    pub township: Money,
    pub government_bought: bool,
}

/// A year's projects and where the bought services stand against their cap.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FundsView {
    pub year: i64,
    #[schema(value_type = Option<i64>)]
    pub special_funds: Option<Money>,
    pub cap_percent: i64,
    #[schema(value_type = Option<i64>)]
    pub cap: Option<Money>,
    #[schema(value_type = i64)]
    pub spent: Money,
    /// within, near or exceeded; none until the special funds are entered.
    pub standing: Option<String>,
    pub standing_label: String,
    pub projects: Vec<ProjectView>,
}

fn funds_key(year: i64, county: &str) -> String {
    format!("social.special_funds.{county}.{year}")
}

impl Social<'_> {
    /// Enters the year's special assistance funds, which the cap is a share of.
    pub async fn set_special_funds(
        &self,
        actor: &Actor,
        year: i64,
        amount_fen: i64,
    ) -> Result<FundsView> {
        actor.require(Permission::EditCatalogue)?;
        if amount_fen <= 0 {
            return Err(ServiceError::invalid(
                "amount_fen",
                "请填写本年度专项资金金额",
            ));
        }
        let county = actor.county();
        let mut tx = self.store.begin().await?;
        tx.set_setting(&funds_key(year, county), &amount_fen.to_string())
            .await?;
        tx.append_audit(&actor.audit(
            "funds.set",
            "region",
            county,
            Some(county),
            json!({"year": year, "amount_fen": amount_fen}),
        ))
        .await?;
        tx.commit().await?;
        self.funds(actor, Some(year)).await
    }

    /// The year's projects, the 3:7 split of each social-work project, and the spending on
    /// bought services against the cap.
    pub async fn funds(&self, actor: &Actor, year: Option<i64>) -> Result<FundsView> {
        if !(actor.role.allows(Permission::ReadPeople)
            || actor.role.allows(Permission::EditCatalogue))
        {
            return Err(ServiceError::Forbidden);
        }
        let year = year.unwrap_or_else(|| chrono::Datelike::year(&self.today()) as i64);
        let county = actor.county().to_string();
        let mut tx = self.store.begin_read().await?;
        let special = tx
            .setting(&funds_key(year, &county))
            .await?
            .and_then(|v| v.parse::<i64>().ok())
            .map(Money::from_fen);
        let names: HashMap<i64, String> = tx
            .all_organisations("")
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let records = tx.projects(&county, year).await?;
        let mut projects = Vec::new();
        for p in &records {
            let place = self.region_name(&mut tx, &p.region_code).await?;
            let kind = ProjectKind::from_code(&p.kind).unwrap_or(ProjectKind::Charity);
            projects.push(ProjectView {
                id: p.id,
                kind: p.kind.clone(),
                kind_label: kind.label().into(),
                name: p.name.clone(),
                organisation: p
                    .organisation_id
                    .and_then(|id| names.get(&id).cloned())
                    .unwrap_or_default(),
                place: if place.is_empty() {
                    "全市".into()
                } else {
                    place
                },
                year: p.year,
                target: Money::from_fen(p.target_fen),
                raised: Money::from_fen(p.raised_fen),
                raised_percent: (p.target_fen > 0 && kind == ProjectKind::Charity)
                    .then(|| p.raised_fen * 100 / p.target_fen),
                city: Money::from_fen(p.city_fen),
                township: Money::from_fen(p.township_fen),
                government_bought: p.government_bought,
            });
        }
        drop(tx);
        let today = self.today();
        let cap_percent = self.count_param(&county, "social.service_cap_percent", today)?;
        let warn = self.count_param(&county, "social.cap_warn_percent", today)?;
        let spent = Money::from_fen(
            records
                .iter()
                .filter(|p| p.government_bought)
                .map(|p| p.target_fen)
                .sum(),
        );
        let cap = special.map(|s| cap_of(s, cap_percent));
        let standing = cap.map(|c| cap_standing(spent, c, warn));
        Ok(FundsView {
            year,
            special_funds: special,
            cap_percent,
            cap,
            spent,
            standing: standing.map(|s| {
                match s {
                    CapStanding::Within => "within",
                    CapStanding::Near => "near",
                    CapStanding::Exceeded => "exceeded",
                }
                .to_string()
            }),
            standing_label: match (standing, cap) {
                (Some(CapStanding::Within), Some(c)) => format!("在上限以内（上限{c}元）"),
                (Some(CapStanding::Near), Some(c)) => {
                    format!("接近上限：已用{spent}元，上限{c}元，请控制新增购买服务")
                }
                (Some(CapStanding::Exceeded), Some(c)) => format!("已超过上限{c}元"),
                _ => "尚未登记本年度社会救助专项资金，无法核对购买服务上限".into(),
            },
            projects,
        })
    }

    /// Adds a project. A social-work project is bought by the government: its funds are split
    /// 3 : 7 and it is refused when it would take the year's bought services beyond the cap.
    pub async fn add_project(&self, actor: &Actor, input: &ProjectInput) -> Result<FundsView> {
        actor.require(Permission::EditCatalogue)?;
        let kind = ProjectKind::from_code(&input.kind)
            .ok_or_else(|| ServiceError::invalid("kind", "请选择项目类别"))?;
        let name = bounded("name", &input.name, "项目名称", 60)?;
        if !(1..=10_000_000_000).contains(&input.target_fen) {
            return Err(ServiceError::invalid(
                "target_fen",
                match kind {
                    ProjectKind::Charity => "请填写募集目标金额",
                    ProjectKind::SocialWork => "请填写项目资金",
                },
            ));
        }
        if input.raised_fen < 0 {
            return Err(ServiceError::invalid("raised_fen", "已募集金额不能为负"));
        }
        let region = crate::Services::scope_within(actor, Some(&input.region))?;
        let code = RegionCode::parse(&region)
            .map_err(|e| ServiceError::invalid("region", e.to_string()))?;
        if kind == ProjectKind::SocialWork && code.level() != RegionLevel::Township {
            return Err(ServiceError::invalid(
                "region",
                "社会工作服务项目由市、镇按3:7出资：请选择服务的乡镇（街道）",
            ));
        }
        let year = input
            .year
            .unwrap_or_else(|| chrono::Datelike::year(&self.today()) as i64);
        let target = Money::from_fen(input.target_fen);
        let (city, township) = match kind {
            ProjectKind::SocialWork => social_work_split(target),
            ProjectKind::Charity => (Money::ZERO, Money::ZERO),
        };
        if kind == ProjectKind::SocialWork {
            let funds = self.funds(actor, Some(year)).await?;
            let Some(cap) = funds.cap else {
                return Err(ServiceError::invalid("year", funds.standing_label));
            };
            if (funds.spent + target).fen() > cap.fen() {
                return Err(ServiceError::invalid(
                    "target_fen",
                    format!(
                        "超过购买服务上限：本年度已购买{}元，加上本项目{}元，超过专项资金的{}%（{}元）",
                        funds.spent, target, funds.cap_percent, cap
                    ),
                ));
            }
        }
        let mut tx = self.store.begin().await?;
        if let Some(o) = input.organisation_id {
            if tx.organisation(o).await?.is_none() {
                return Err(ServiceError::invalid("organisation_id", "未登记的社会组织"));
            }
        }
        let id = tx
            .insert_project(&ProjectRecord {
                id: 0,
                kind: kind.code().into(),
                name,
                organisation_id: input.organisation_id,
                region_code: region.clone(),
                year,
                target_fen: target.fen(),
                raised_fen: input.raised_fen,
                city_fen: city.fen(),
                township_fen: township.fen(),
                government_bought: kind == ProjectKind::SocialWork,
                created_by: actor.username.clone(),
                created_at: self.now(),
            })
            .await?;
        tx.append_audit(&actor.audit(
            "project.create",
            "project",
            id,
            Some(&region),
            json!({"kind": kind.code(), "target_fen": target.fen(), "city_fen": city.fen(), "township_fen": township.fen()}),
        ))
        .await?;
        tx.commit().await?;
        self.funds(actor, Some(year)).await
    }

    /// Records the funds a charity project has raised so far.
    pub async fn set_raised(
        &self,
        actor: &Actor,
        project: i64,
        raised_fen: i64,
    ) -> Result<FundsView> {
        actor.require(Permission::EditCatalogue)?;
        if raised_fen < 0 {
            return Err(ServiceError::invalid("raised_fen", "已募集金额不能为负"));
        }
        let mut tx = self.store.begin().await?;
        if !tx.set_project_raised(project, raised_fen).await? {
            return Err(ServiceError::NotFound);
        }
        tx.append_audit(&actor.audit(
            "project.raised",
            "project",
            project,
            Some(actor.scope()),
            json!({"raised_fen": raised_fen}),
        ))
        .await?;
        tx.commit().await?;
        self.funds(actor, None).await
    }
}
