//! Monthly incomes of persons, by kind, with where each figure came from.

use chrono::{NaiveDate, Utc};
use jiuzhu_domain::{IncomeKind, Money};
use serde::Serialize;

use crate::{on_tx, value_rows, Result, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncomeRecord {
    pub id: i64,
    pub person_id: i64,
    pub kind: IncomeKind,
    pub monthly: Money,
    pub since: NaiveDate,
    /// `declared`, or the feed it came from.
    pub source: String,
}

pub struct NewIncome<'a> {
    pub person_id: i64,
    pub region_code: &'a str,
    pub kind: IncomeKind,
    pub monthly: Money,
    pub since: NaiveDate,
    pub source: &'a str,
}

#[derive(sqlx::FromRow)]
struct IncomeRow {
    id: i64,
    person_id: i64,
    kind: String,
    monthly_fen: i64,
    since: NaiveDate,
    source: String,
}

fn into_record(r: IncomeRow) -> Result<IncomeRecord> {
    Ok(IncomeRecord {
        kind: IncomeKind::from_code(&r.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("收入类别“{}”", r.kind)))?,
        id: r.id,
        person_id: r.person_id,
        monthly: Money::from_fen(r.monthly_fen),
        since: r.since,
        source: r.source,
    })
}

impl Tx {
    pub async fn insert_incomes(&mut self, rows: &[NewIncome<'_>]) -> Result<()> {
        let now = Utc::now();
        for chunk in rows.chunks(1000) {
            let sql = format!(
                "INSERT INTO incomes (person_id, region_code, kind, monthly_fen, since, source, recorded_at) VALUES {}",
                value_rows(self.backend(), chunk.len(), 7)
            );
            on_tx!(self, c => {
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = q.bind(r.person_id).bind(r.region_code).bind(r.kind.code())
                        .bind(r.monthly.fen()).bind(r.since).bind(r.source).bind(now);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    /// Incomes of the current members of a household.
    pub async fn household_incomes(&mut self, household_id: i64) -> Result<Vec<IncomeRecord>> {
        let rows: Vec<IncomeRow> = on_tx!(self, c => sqlx::query_as(
            "SELECT i.id, i.person_id, i.kind, i.monthly_fen, i.since, i.source
             FROM incomes i JOIN household_members m ON m.person_id = i.person_id
             WHERE m.household_id = $1 AND m.to_date IS NULL ORDER BY i.person_id, i.id")
            .bind(household_id)
            .fetch_all(c)
            .await)?;
        rows.into_iter().map(into_record).collect()
    }

    /// Every income recorded within `scope`, by person.
    pub async fn scope_incomes(&mut self, scope: &str) -> Result<Vec<IncomeRecord>> {
        let rows: Vec<IncomeRow> = on_tx!(self, c => sqlx::query_as(
            "SELECT id, person_id, kind, monthly_fen, since, source FROM incomes
             WHERE region_code LIKE $1 ORDER BY person_id, id")
            .bind(crate::like_prefix(scope))
            .fetch_all(c)
            .await)?;
        rows.into_iter().map(into_record).collect()
    }

    /// The incomes of these persons.
    pub async fn incomes_of(&mut self, persons: &[i64]) -> Result<Vec<IncomeRecord>> {
        let rows: Vec<IncomeRow> = self
            .fetch_for_ids(
                "SELECT id, person_id, kind, monthly_fen, since, source FROM incomes
                 WHERE person_id IN {ids} ORDER BY person_id, id",
                persons,
                500,
            )
            .await?;
        rows.into_iter().map(into_record).collect()
    }

    pub async fn person_incomes(&mut self, person_id: i64) -> Result<Vec<IncomeRecord>> {
        let rows: Vec<IncomeRow> = on_tx!(self, c => sqlx::query_as(
            "SELECT id, person_id, kind, monthly_fen, since, source FROM incomes
             WHERE person_id = $1 ORDER BY id")
            .bind(person_id)
            .fetch_all(c)
            .await)?;
        rows.into_iter().map(into_record).collect()
    }
}

impl Tx {
    /// One income record, whoever it belongs to; callers check the household.
    pub async fn get_income(&mut self, id: i64) -> Result<Option<IncomeRecord>> {
        let row: Option<IncomeRow> = on_tx!(self, c => sqlx::query_as(
            "SELECT id, person_id, kind, monthly_fen, since, source FROM incomes WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await)?;
        row.map(into_record).transpose()
    }

    /// Changes a declared income's amount and start; department figures are never edited.
    pub async fn update_declared_income(
        &mut self,
        id: i64,
        kind: IncomeKind,
        monthly: Money,
        since: NaiveDate,
    ) -> Result<()> {
        let now = Utc::now();
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE incomes SET kind = $2, monthly_fen = $3, since = $4, recorded_at = $5
             WHERE id = $1 AND source = 'declared'")
            .bind(id).bind(kind.code()).bind(monthly.fen()).bind(since).bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn delete_declared_income(&mut self, id: i64) -> Result<()> {
        let n = on_tx!(self, c => sqlx::query(
            "DELETE FROM incomes WHERE id = $1 AND source = 'declared'")
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
