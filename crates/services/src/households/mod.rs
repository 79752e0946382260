//! Households: one address, one head, members who join and leave with dates.

mod views;

pub use views::{HouseholdRecord, HouseholdSummary, HouseholdView, IncomeRecord, MemberRecord};

use chrono::NaiveDate;
use jiuzhu_domain::{IncomeKind, Money, Permission, RegionCode, RegionLevel, Relation};
use jiuzhu_store::{HouseholdFilter, NewHousehold, StoreError, Tx};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::people::{Page, PER_PAGE};
use crate::{clock, Actor, Households, Result, ServiceError};

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct HouseholdInput {
    /// Village or community (12 digits) of the household.
    pub region_code: String,
    pub address: String,
    /// The registered person who heads the household.
    pub head_person_id: i64,
    /// Date the household is recorded from; today when omitted.
    pub from_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct MemberInput {
    pub person_id: i64,
    /// spouse, child, parent, grandchild, grandparent, sibling, child_in_law, other
    pub relation: String,
    /// The date the person joined; today when omitted.
    pub from_date: Option<NaiveDate>,
}

/// A monthly income a member declares, by kind.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct IncomeInput {
    /// A current member of the household.
    pub person_id: i64,
    /// wage, business, property, pension, other_transfer, special_care, veteran_subsidy
    pub kind: String,
    /// Monthly amount in fen.
    #[schema(value_type = i64)]
    pub monthly: Money,
    /// The month the income started; today when omitted.
    pub since: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct HouseholdUpdate {
    pub address: String,
    pub head_person_id: i64,
    pub revision: i64,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct HouseholdQuery {
    /// Head's name (prefix), pinyin or initials, or part of the address.
    pub q: Option<String>,
    pub region: Option<String>,
    pub page: Option<i64>,
}

fn date_or_today(field: &str, d: Option<NaiveDate>) -> Result<NaiveDate> {
    let today = clock::today();
    let d = d.unwrap_or(today);
    if d > today {
        return Err(ServiceError::invalid(field, "日期不能晚于今天"));
    }
    Ok(d)
}

fn conflict_in_household(e: StoreError) -> ServiceError {
    match e {
        StoreError::Duplicate(_) => ServiceError::Conflict {
            field: Some("person_id".into()),
            message: "该人员已是另一户的现有成员，请先在原户办理迁出".into(),
        },
        other => other.into(),
    }
}

fn checked_income(input: &IncomeInput) -> Result<(IncomeKind, Money, NaiveDate)> {
    let kind = IncomeKind::from_code(input.kind.trim())
        .ok_or_else(|| ServiceError::invalid("kind", "请选择收入类别"))?;
    if input.monthly < Money::ZERO {
        return Err(ServiceError::invalid("monthly", "月收入不能为负数"));
    }
    // A declared monthly income above a million yuan is a slip of the keyboard.
    if input.monthly > Money::from_yuan(1_000_000) {
        return Err(ServiceError::invalid(
            "monthly",
            "月收入超过100万元，请核对金额（单位为元）",
        ));
    }
    let since = date_or_today("since", input.since)?;
    Ok((kind, input.monthly, since))
}

/// A declared income of a current member; department figures cannot be changed by hand.
async fn declared_income_of(
    tx: &mut Tx,
    household: &jiuzhu_store::HouseholdRecord,
    income_id: i64,
) -> Result<jiuzhu_store::IncomeRecord> {
    let income = tx
        .get_income(income_id)
        .await?
        .filter(|i| {
            household
                .current_members()
                .any(|m| m.person_id == i.person_id)
        })
        .ok_or(ServiceError::NotFound)?;
    if income.source != "declared" {
        return Err(ServiceError::invalid(
            "income_id",
            "部门核对数据不能手工修改，请由部门重新报送",
        ));
    }
    Ok(income)
}

/// The household if it lies within the actor's region; "not found" otherwise.
async fn in_scope(tx: &mut Tx, actor: &Actor, id: i64) -> Result<jiuzhu_store::HouseholdRecord> {
    tx.get_household(id, actor.scope())
        .await?
        .ok_or(ServiceError::NotFound)
}

impl Households<'_> {
    pub async fn create(&self, actor: &Actor, input: &HouseholdInput) -> Result<HouseholdView> {
        actor.require(Permission::WritePeople)?;
        let region = RegionCode::parse(&input.region_code)
            .map_err(|e| ServiceError::invalid("region_code", e.to_string()))?;
        if region.level() != RegionLevel::Village {
            return Err(ServiceError::invalid(
                "region_code",
                "户所在地应填写到村（社区），即12位行政区划代码",
            ));
        }
        if !actor.covers(&region) {
            return Err(ServiceError::invalid(
                "region_code",
                format!("{region}不在您的管辖范围（{}）内", actor.region),
            ));
        }
        if input.address.trim().is_empty() {
            return Err(ServiceError::invalid("address", "家庭住址不能为空"));
        }
        let from = date_or_today("from_date", input.from_date)?;
        let mut tx = self.store.begin().await?;
        if tx.get_region(region.as_str()).await?.is_none() {
            return Err(ServiceError::invalid(
                "region_code",
                format!("行政区划代码{region}不存在"),
            ));
        }
        let head = tx
            .get_person(input.head_person_id, actor.scope())
            .await?
            .ok_or_else(|| {
                ServiceError::invalid("head_person_id", "户主未登记或不在您的管辖范围内")
            })?;
        let id = tx
            .insert_household(NewHousehold {
                region_code: region.as_str(),
                address: &input.address,
                head_person_id: head.id,
            })
            .await?;
        tx.add_member(id, head.id, region.as_str(), Relation::Head.code(), from)
            .await
            .map_err(conflict_in_household)?;
        tx.append_audit(&actor.audit(
            "household.create",
            "household",
            id,
            Some(region.as_str()),
            json!({"head_person_id": head.id, "address": input.address.trim()}),
        ))
        .await?;
        self.commit_view(tx, actor, id).await
    }

    pub async fn add_member(
        &self,
        actor: &Actor,
        household_id: i64,
        input: &MemberInput,
    ) -> Result<HouseholdView> {
        actor.require(Permission::WritePeople)?;
        let mut tx = self.store.begin().await?;
        let household = in_scope(&mut tx, actor, household_id).await?;
        let relation = Relation::from_code(input.relation.trim())
            .filter(|r| *r != Relation::Head)
            .ok_or_else(|| {
                ServiceError::invalid("relation", "与户主关系无效（户主须通过变更户主办理）")
            })?;
        let from = date_or_today("from_date", input.from_date)?;
        let person = tx
            .get_person(input.person_id, actor.scope())
            .await?
            .ok_or_else(|| {
                ServiceError::invalid("person_id", "该人员未登记或不在您的管辖范围内")
            })?;
        tx.add_member(
            household_id,
            person.id,
            &household.region_code,
            relation.code(),
            from,
        )
        .await
        .map_err(conflict_in_household)?;
        tx.append_audit(&actor.audit(
            "household.member_add",
            "household",
            household_id,
            Some(&household.region_code),
            json!({"person_id": person.id, "relation": relation.code(), "from": from}),
        ))
        .await?;
        self.commit_view(tx, actor, household_id).await
    }

    /// Records that a member left on `to` (moved out, married out, died); history is kept.
    pub async fn end_membership(
        &self,
        actor: &Actor,
        household_id: i64,
        member_id: i64,
        to: Option<NaiveDate>,
    ) -> Result<HouseholdView> {
        actor.require(Permission::WritePeople)?;
        let mut tx = self.store.begin().await?;
        let household = in_scope(&mut tx, actor, household_id).await?;
        let to = date_or_today("to_date", to)?;
        let member = household
            .members
            .iter()
            .find(|m| m.member_id == member_id && m.to_date.is_none())
            .ok_or_else(|| ServiceError::invalid("member_id", "该成员不是本户现有成员"))?;
        if member.person_id == household.head_person_id {
            return Err(ServiceError::invalid(
                "member_id",
                "户主不能直接迁出，请先变更户主",
            ));
        }
        if to <= member.from_date {
            return Err(ServiceError::invalid("to_date", "迁出日期应晚于迁入日期"));
        }
        tx.end_membership(member_id, household_id, to).await?;
        tx.append_audit(&actor.audit(
            "household.member_end",
            "household",
            household_id,
            Some(&household.region_code),
            json!({"person_id": member.person_id, "to": to}),
        ))
        .await?;
        self.commit_view(tx, actor, household_id).await
    }

    /// Records a member's declared monthly income (申报收入).
    pub async fn record_income(
        &self,
        actor: &Actor,
        household_id: i64,
        input: &IncomeInput,
    ) -> Result<HouseholdView> {
        actor.require(Permission::WritePeople)?;
        let mut tx = self.store.begin().await?;
        let household = in_scope(&mut tx, actor, household_id).await?;
        let (kind, monthly, since) = checked_income(input)?;
        if !household
            .current_members()
            .any(|m| m.person_id == input.person_id)
        {
            return Err(ServiceError::invalid("person_id", "收入人须为本户现有成员"));
        }
        tx.insert_incomes(&[jiuzhu_store::NewIncome {
            person_id: input.person_id,
            region_code: &household.region_code,
            kind,
            monthly,
            since,
            source: "declared",
        }])
        .await?;
        tx.append_audit(&actor.audit(
            "household.income_add",
            "household",
            household_id,
            Some(&household.region_code),
            json!({"person_id": input.person_id, "kind": kind.code(), "monthly_fen": monthly.fen(), "since": since}),
        ))
        .await?;
        self.commit_view(tx, actor, household_id).await
    }

    /// Corrects a declared income; the audit keeps the figure it replaced.
    pub async fn change_income(
        &self,
        actor: &Actor,
        household_id: i64,
        income_id: i64,
        input: &IncomeInput,
    ) -> Result<HouseholdView> {
        actor.require(Permission::WritePeople)?;
        let mut tx = self.store.begin().await?;
        let household = in_scope(&mut tx, actor, household_id).await?;
        let before = declared_income_of(&mut tx, &household, income_id).await?;
        let (kind, monthly, since) = checked_income(input)?;
        tx.update_declared_income(income_id, kind, monthly, since)
            .await?;
        tx.append_audit(&actor.audit(
            "household.income_change",
            "household",
            household_id,
            Some(&household.region_code),
            json!({"income_id": income_id, "person_id": before.person_id,
                   "before": {"kind": before.kind.code(), "monthly_fen": before.monthly.fen(), "since": before.since},
                   "after": {"kind": kind.code(), "monthly_fen": monthly.fen(), "since": since}}),
        ))
        .await?;
        self.commit_view(tx, actor, household_id).await
    }

    /// Removes a declared income that no longer exists; the audit keeps what it was.
    pub async fn remove_income(
        &self,
        actor: &Actor,
        household_id: i64,
        income_id: i64,
    ) -> Result<HouseholdView> {
        actor.require(Permission::WritePeople)?;
        let mut tx = self.store.begin().await?;
        let household = in_scope(&mut tx, actor, household_id).await?;
        let before = declared_income_of(&mut tx, &household, income_id).await?;
        tx.delete_declared_income(income_id).await?;
        tx.append_audit(&actor.audit(
            "household.income_remove",
            "household",
            household_id,
            Some(&household.region_code),
            json!({"income_id": income_id, "person_id": before.person_id, "kind": before.kind.code(),
                   "monthly_fen": before.monthly.fen(), "since": before.since}),
        ))
        .await?;
        self.commit_view(tx, actor, household_id).await
    }

    pub async fn update(
        &self,
        actor: &Actor,
        id: i64,
        input: &HouseholdUpdate,
    ) -> Result<HouseholdView> {
        actor.require(Permission::WritePeople)?;
        let mut tx = self.store.begin().await?;
        let household = in_scope(&mut tx, actor, id).await?;
        if input.address.trim().is_empty() {
            return Err(ServiceError::invalid("address", "家庭住址不能为空"));
        }
        if !household
            .current_members()
            .any(|m| m.person_id == input.head_person_id)
        {
            return Err(ServiceError::invalid(
                "head_person_id",
                "新户主须为本户现有成员",
            ));
        }
        tx.update_household(id, &input.address, input.head_person_id, input.revision)
            .await?;
        tx.append_audit(&actor.audit(
            "household.update",
            "household",
            id,
            Some(&household.region_code),
            json!({"address": input.address.trim(), "head_person_id": input.head_person_id}),
        ))
        .await?;
        self.commit_view(tx, actor, id).await
    }

    /// A household with its members (masked). Audited: it lists people's details.
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<HouseholdView> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin().await?;
        let view = self.household_view(&mut tx, actor, id).await?;
        tx.append_audit(&actor.audit(
            "household.read",
            "household",
            id,
            Some(&view.household.region_code),
            json!({}),
        ))
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    pub async fn search(
        &self,
        actor: &Actor,
        q: &HouseholdQuery,
    ) -> Result<Page<HouseholdSummary>> {
        actor.require(Permission::ReadPeople)?;
        let page = q.page.unwrap_or(1).max(1);
        let mut filter = HouseholdFilter {
            scope: actor.scope().to_string(),
            limit: PER_PAGE,
            offset: (page - 1) * PER_PAGE,
            ..Default::default()
        };
        if let Some(r) = q.region.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let r =
                RegionCode::parse(r).map_err(|e| ServiceError::invalid("region", e.to_string()))?;
            filter.region_prefix = Some(r.to_string());
        }
        if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            if text.chars().all(|c| c.is_ascii_alphabetic()) {
                filter.head_pinyin_prefix = Some(text.to_ascii_lowercase());
            } else if text.chars().count() <= 4 && !text.chars().any(|c| c.is_ascii_digit()) {
                filter.head_name_prefix = Some(text.to_string());
            } else {
                filter.address_contains = Some(text.to_string());
            }
        }
        let mut tx = self.store.begin_read().await?;
        let (items, total) = tx.search_households(&filter).await?;
        drop(tx);
        self.reads
            .record(actor.audit(
                "household.search",
                "household",
                "-",
                filter.region_prefix.as_deref(),
                json!({"q": q.q, "page": page, "shown": items.iter().map(|h| h.id).collect::<Vec<_>>()}),
            ))
            .await?;
        Ok(Page {
            items: items.into_iter().map(Into::into).collect(),
            total,
            page,
            per_page: PER_PAGE,
        })
    }

    /// The household as it stands after a change, committed with it.
    async fn commit_view(&self, mut tx: Tx, actor: &Actor, id: i64) -> Result<HouseholdView> {
        let view = self.household_view(&mut tx, actor, id).await?;
        tx.commit().await?;
        Ok(view)
    }

    pub(crate) async fn household_view(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        id: i64,
    ) -> Result<HouseholdView> {
        let household = in_scope(tx, actor, id).await?;
        let region_name = self.region_name(tx, &household.region_code).await?;
        let head_name = household
            .members
            .iter()
            .find(|m| m.person_id == household.head_person_id)
            .map(|m| m.name.clone())
            .unwrap_or_default();
        let incomes = tx.household_incomes(id).await?;
        let counted: Money = incomes
            .iter()
            .filter(|i| i.kind.counts())
            .map(|i| i.monthly)
            .sum();
        let members = household.current_members().count().max(1) as i64;
        Ok(HouseholdView {
            household: household.into(),
            region_name,
            head_name,
            incomes: incomes.into_iter().map(Into::into).collect(),
            counted_monthly_income: counted,
            per_capita_monthly_income: counted.mul_ratio(1, members),
        })
    }
}
