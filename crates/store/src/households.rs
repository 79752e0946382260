//! Households and their membership over time. A member who leaves keeps their row with a
//! `to_date`, so a household's composition on any past date can be answered.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::{bind_params, like_prefix, on_tx, value_rows, Param, Result, StoreError, Tx, Where};

pub struct NewHousehold<'a> {
    pub region_code: &'a str,
    pub address: &'a str,
    pub head_person_id: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct HouseholdSummary {
    pub id: i64,
    pub region_code: String,
    pub address: String,
    pub head_person_id: i64,
    pub head_name: String,
    pub head_id_number_masked: String,
    pub member_count: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MemberRecord {
    pub member_id: i64,
    pub person_id: i64,
    pub name: String,
    pub id_number_masked: String,
    pub sex: String,
    pub birth_date: NaiveDate,
    pub disability_grade: Option<i64>,
    pub relation: String,
    pub from_date: NaiveDate,
    pub to_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
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
    pub fn current_members(&self) -> impl Iterator<Item = &MemberRecord> {
        self.members.iter().filter(|m| m.to_date.is_none())
    }
}

#[derive(sqlx::FromRow)]
struct HouseholdRow {
    id: i64,
    region_code: String,
    address: String,
    head_person_id: i64,
    revision: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct HouseholdFilter {
    pub scope: String,
    pub region_prefix: Option<String>,
    pub head_name_prefix: Option<String>,
    pub head_pinyin_prefix: Option<String>,
    pub address_contains: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

impl Tx {
    pub async fn insert_household(&mut self, h: NewHousehold<'_>) -> Result<i64> {
        let now = Utc::now();
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO households (region_code, address, head_person_id, revision, created_at, updated_at)
             VALUES ($1, $2, $3, 1, $4, $4) RETURNING id")
            .bind(h.region_code)
            .bind(h.address.trim())
            .bind(h.head_person_id)
            .bind(now)
            .fetch_one(c)
            .await)?;
        Ok(id)
    }

    /// Inserts many households; returns their ids in order (heads are unique per household).
    pub async fn insert_households(&mut self, rows: &[NewHousehold<'_>]) -> Result<Vec<i64>> {
        let now = Utc::now();
        let mut ids = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(1000) {
            let sql = format!(
                "INSERT INTO households (region_code, address, head_person_id, revision, created_at, updated_at)
                 VALUES {} RETURNING id, head_person_id",
                value_rows(self.backend(), chunk.len(), 6)
            );
            let got: Vec<(i64, i64)> = on_tx!(self, c => {
                let mut q = sqlx::query_as(&sql);
                for h in chunk {
                    q = q.bind(h.region_code).bind(h.address.trim()).bind(h.head_person_id).bind(1i64).bind(now).bind(now);
                }
                q.fetch_all(c).await
            })?;
            let by_head: std::collections::HashMap<i64, i64> =
                got.into_iter().map(|(id, head)| (head, id)).collect();
            for h in chunk {
                ids.push(*by_head.get(&h.head_person_id).ok_or(StoreError::NotFound)?);
            }
        }
        Ok(ids)
    }

    /// Inserts many memberships: (household, person, region, relation, from).
    pub async fn add_members(&mut self, rows: &[(i64, i64, &str, &str, NaiveDate)]) -> Result<()> {
        for chunk in rows.chunks(1000) {
            let sql = format!(
                "INSERT INTO household_members (household_id, person_id, region_code, relation, from_date) VALUES {}",
                value_rows(self.backend(), chunk.len(), 5)
            );
            on_tx!(self, c => {
                let mut q = sqlx::query(&sql);
                for (h, p, r, rel, from) in chunk {
                    q = q.bind(*h).bind(*p).bind(*r).bind(*rel).bind(*from);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    pub async fn add_member(
        &mut self,
        household_id: i64,
        person_id: i64,
        region_code: &str,
        relation: &str,
        from: NaiveDate,
    ) -> Result<i64> {
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO household_members (household_id, person_id, region_code, relation, from_date)
             VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(household_id)
            .bind(person_id)
            .bind(region_code)
            .bind(relation)
            .bind(from)
            .fetch_one(c)
            .await)?;
        Ok(id)
    }

    /// Ends a current membership on `to`; Stale when it is not current.
    pub async fn end_membership(
        &mut self,
        member_id: i64,
        household_id: i64,
        to: NaiveDate,
    ) -> Result<()> {
        let done = on_tx!(self, c => sqlx::query(
            "UPDATE household_members SET to_date = $1
             WHERE id = $2 AND household_id = $3 AND to_date IS NULL AND from_date < $1")
            .bind(to)
            .bind(member_id)
            .bind(household_id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        if done == 1 {
            Ok(())
        } else {
            Err(StoreError::Stale)
        }
    }

    pub async fn update_household(
        &mut self,
        id: i64,
        address: &str,
        head_person_id: i64,
        revision: i64,
    ) -> Result<()> {
        let done = on_tx!(self, c => sqlx::query(
            "UPDATE households SET address = $1, head_person_id = $2, revision = revision + 1,
             updated_at = $3 WHERE id = $4 AND revision = $5")
            .bind(address.trim())
            .bind(head_person_id)
            .bind(Utc::now())
            .bind(id)
            .bind(revision)
            .execute(c).await.map(|r| r.rows_affected()))?;
        if done == 1 {
            Ok(())
        } else {
            Err(StoreError::Stale)
        }
    }

    pub async fn get_household(&mut self, id: i64, scope: &str) -> Result<Option<HouseholdRecord>> {
        let row: Option<HouseholdRow> = on_tx!(self, c => sqlx::query_as(
            "SELECT id, region_code, address, head_person_id, revision, created_at, updated_at
             FROM households WHERE id = $1 AND region_code LIKE $2")
            .bind(id)
            .bind(like_prefix(scope))
            .fetch_optional(c)
            .await)?;
        let Some(h) = row else { return Ok(None) };
        let members: Vec<MemberRecord> = on_tx!(self, c => sqlx::query_as(
            "SELECT m.id AS member_id, p.id AS person_id, p.name, p.id_number_masked, p.sex,
                    p.birth_date, p.disability_grade, m.relation, m.from_date, m.to_date
             FROM household_members m JOIN persons p ON p.id = m.person_id
             WHERE m.household_id = $1
             ORDER BY CASE WHEN m.to_date IS NULL THEN 0 ELSE 1 END,
                      CASE WHEN m.relation = 'head' THEN 0 ELSE 1 END, p.birth_date, m.id")
            .bind(id)
            .fetch_all(c)
            .await)?;
        Ok(Some(HouseholdRecord {
            id: h.id,
            region_code: h.region_code,
            address: h.address,
            head_person_id: h.head_person_id,
            revision: h.revision,
            created_at: h.created_at,
            updated_at: h.updated_at,
            members,
        }))
    }

    pub async fn search_households(
        &mut self,
        f: &HouseholdFilter,
    ) -> Result<(Vec<HouseholdSummary>, i64)> {
        let mut w = Where::default();
        w.and("h.region_code LIKE ?", Param::Text(like_prefix(&f.scope)));
        if let Some(r) = &f.region_prefix {
            w.and("h.region_code LIKE ?", Param::Text(like_prefix(r)));
        }
        if let Some(n) = &f.head_name_prefix {
            w.and("p.name LIKE ? ESCAPE '\\'", Param::Text(like_prefix(n)));
        }
        if let Some(py) = &f.head_pinyin_prefix {
            w.and(
                "(p.name_pinyin LIKE ? ESCAPE '\\' OR (' ' || p.name_initials) LIKE ('% ' || ?) ESCAPE '\\')",
                Param::Text(like_prefix(py)),
            );
        }
        if let Some(a) = &f.address_contains {
            w.and(
                "h.address LIKE ('%' || ?) ESCAPE '\\'",
                Param::Text(like_prefix(a)),
            );
        }
        let from = "FROM households h JOIN persons p ON p.id = h.head_person_id";
        let count_sql = format!("SELECT COUNT(*) {from}{}", w.sql());
        let total: i64 = on_tx!(self, c => bind_params!(sqlx::query_scalar(&count_sql), &w.params)
            .fetch_one(c)
            .await)?;
        let n = w.next();
        let sql = format!(
            "SELECT h.id, h.region_code, h.address, h.head_person_id, p.name AS head_name,
                    p.id_number_masked AS head_id_number_masked,
                    (SELECT COUNT(*) FROM household_members m
                      WHERE m.household_id = h.id AND m.to_date IS NULL) AS member_count
             {from}{} ORDER BY h.region_code, h.id LIMIT ${n} OFFSET ${}",
            w.sql(),
            n + 1
        );
        let rows: Vec<HouseholdSummary> = on_tx!(self, c => bind_params!(sqlx::query_as(&sql), &w.params)
            .bind(f.limit)
            .bind(f.offset)
            .fetch_all(c)
            .await)?;
        Ok((rows, total))
    }

    pub async fn count_households(&mut self, scope: &str) -> Result<i64> {
        let n: i64 = on_tx!(self, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM households WHERE region_code LIKE $1")
            .bind(like_prefix(scope))
            .fetch_one(c)
            .await)?;
        Ok(n)
    }
}
