//! Households as shown: in lists, and one with its members and incomes.

use chrono::{DateTime, NaiveDate, Utc};
use jiuzhu_domain::{IncomeKind, Money};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HouseholdView {
    #[serde(flatten)]
    #[schema(inline)]
    pub household: HouseholdRecord,
    pub region_name: String,
    pub head_name: String,
    /// Declared monthly incomes of the current members.
    pub incomes: Vec<IncomeRecord>,
    /// Monthly household income that counts for means tests (excluded kinds left out), in fen.
    #[schema(value_type = i64)]
    pub counted_monthly_income: Money,
    /// Counted income divided by the current members, rounded to the fen.
    #[schema(value_type = i64)]
    pub per_capita_monthly_income: Money,
}

/// A household in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HouseholdSummary {
    pub id: i64,
    pub region_code: String,
    pub address: String,
    pub head_person_id: i64,
    pub head_name: String,
    pub head_id_number_masked: String,
    pub member_count: i64,
}

impl From<jiuzhu_store::HouseholdSummary> for HouseholdSummary {
    fn from(r: jiuzhu_store::HouseholdSummary) -> Self {
        HouseholdSummary {
            id: r.id,
            region_code: r.region_code,
            address: r.address,
            head_person_id: r.head_person_id,
            head_name: r.head_name,
            head_id_number_masked: r.head_id_number_masked,
            member_count: r.member_count,
        }
    }
}

/// A household with every membership, current and past (current first).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HouseholdRecord {
    pub id: i64,
    pub region_code: String,
    pub address: String,
    pub head_person_id: i64,
    pub revision: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Every membership, current and past, current first.
    pub members: Vec<MemberRecord>,
}

impl HouseholdRecord {
    /// The members who have not left.
    pub fn current_members(&self) -> impl Iterator<Item = &MemberRecord> {
        self.members.iter().filter(|m| m.to_date.is_none())
    }
}

impl From<jiuzhu_store::HouseholdRecord> for HouseholdRecord {
    fn from(r: jiuzhu_store::HouseholdRecord) -> Self {
        HouseholdRecord {
            id: r.id,
            region_code: r.region_code,
            address: r.address,
            head_person_id: r.head_person_id,
            revision: r.revision,
            created_at: r.created_at,
            updated_at: r.updated_at,
            members: r.members.into_iter().map(Into::into).collect(),
        }
    }
}

/// One membership of a household, current or past.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberRecord {
    pub member_id: i64,
    pub person_id: i64,
    pub name: String,
    pub id_number_masked: String,
    pub sex: String,
    /// Age in whole years today; lists show no birth date.
    pub age: u32,
    pub disability_grade: Option<i64>,
    pub relation: String,
    pub from_date: NaiveDate,
    pub to_date: Option<NaiveDate>,
}

impl From<jiuzhu_store::MemberRecord> for MemberRecord {
    fn from(r: jiuzhu_store::MemberRecord) -> Self {
        MemberRecord {
            member_id: r.member_id,
            person_id: r.person_id,
            name: r.name,
            id_number_masked: r.id_number_masked,
            sex: r.sex,
            age: jiuzhu_domain::age_between(r.birth_date, crate::clock::today()),
            disability_grade: r.disability_grade,
            relation: r.relation,
            from_date: r.from_date,
            to_date: r.to_date,
        }
    }
}

/// A declared (or verified) monthly income of a member.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IncomeRecord {
    pub id: i64,
    pub person_id: i64,
    #[schema(value_type = String)]
    pub kind: IncomeKind,
    #[schema(value_type = i64)]
    pub monthly: Money,
    pub since: NaiveDate,
    /// `declared`, or the feed it came from.
    pub source: String,
}

impl From<jiuzhu_store::IncomeRecord> for IncomeRecord {
    fn from(r: jiuzhu_store::IncomeRecord) -> Self {
        IncomeRecord {
            id: r.id,
            person_id: r.person_id,
            kind: r.kind,
            monthly: r.monthly,
            since: r.since,
            source: r.source,
        }
    }
}
