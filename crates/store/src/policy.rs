//! Parameter values added by administrators, evaluations kept with their cases, and the
//! whole-city scan behind what-if simulation.

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::TryStreamExt;

use crate::{like_prefix, on_tx, Result, Tx};

/// A parameter value added on the platform, on top of the shipped policy packs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PolicyValueRecord {
    pub id: i64,
    pub pack_id: String,
    pub name: String,
    pub from_date: NaiveDate,
    /// The value as JSON: a string, or `[[key, value], ...]` for a scale.
    pub value: String,
    pub source: String,
    pub added_by: String,
    pub added_at: DateTime<Utc>,
}

pub struct NewPolicyValue<'a> {
    pub pack_id: &'a str,
    pub name: &'a str,
    pub from_date: NaiveDate,
    pub value: &'a str,
    pub source: &'a str,
    pub added_by: &'a str,
}

/// An evaluation of a case's household, as it was decided: the JSON holds every parameter
/// value used, so a later change of a pack never changes it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EvaluationRecord {
    pub id: i64,
    pub case_id: i64,
    pub month: String,
    pub jurisdiction: String,
    pub result: String,
    pub evaluated_by: String,
    pub evaluated_at: DateTime<Utc>,
}

pub struct NewEvaluation<'a> {
    pub case_id: i64,
    pub region: &'a str,
    pub household_id: i64,
    pub month: &'a str,
    pub jurisdiction: &'a str,
    /// The `Evaluation` as JSON.
    pub result: &'a str,
    pub by: &'a str,
}

/// One current member of a household, as the simulation reads it: no names, no numbers.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SimulationRow {
    pub household_id: i64,
    pub person_id: i64,
    /// The township's 9-digit code as a number.
    pub township: i64,
    pub birth_date: NaiveDate,
    pub hukou_local: bool,
    pub disability_grade: Option<i64>,
    /// 1 intellectual, 2 mental, 0 other or none.
    pub disability_kind: i64,
    pub ill: bool,
    /// 0 full, 1 partial, 2 none.
    pub labour: i64,
    /// 0 full, 1 partial, 2 none.
    pub self_care: i64,
    /// Monthly income that counts, in fen.
    pub counted: i64,
    /// 优抚金 and 五老 subsidies, in fen.
    pub excluded: i64,
}

const SCAN: &str = "
SELECT m.household_id,
       m.person_id,
       CAST(substr(h.region_code, 1, 9) AS BIGINT) AS township,
       p.birth_date,
       (substr(p.hukou_region, 1, 6) = substr(h.region_code, 1, 6)) AS hukou_local,
       p.disability_grade,
       CAST(CASE p.disability_kind WHEN 'intellectual' THEN 1 WHEN 'mental' THEN 2 ELSE 0 END AS BIGINT) AS disability_kind,
       (p.serious_illness IS NOT NULL) AS ill,
       CAST(CASE p.labour_capacity WHEN 'partial' THEN 1 WHEN 'none' THEN 2 ELSE 0 END AS BIGINT) AS labour,
       CAST(CASE p.self_care WHEN 'partial' THEN 1 WHEN 'none' THEN 2 ELSE 0 END AS BIGINT) AS self_care,
       CAST(COALESCE(i.counted, 0) AS BIGINT) AS counted,
       CAST(COALESCE(i.excluded, 0) AS BIGINT) AS excluded
FROM household_members m
JOIN households h ON h.id = m.household_id
JOIN persons p ON p.id = m.person_id
LEFT JOIN (
    SELECT person_id,
           SUM(CASE WHEN kind IN ('special_care', 'veteran_subsidy') THEN 0 ELSE monthly_fen END) AS counted,
           SUM(CASE WHEN kind IN ('special_care', 'veteran_subsidy') THEN monthly_fen ELSE 0 END) AS excluded
    FROM incomes WHERE since <= $2 GROUP BY person_id
) i ON i.person_id = m.person_id
WHERE m.to_date IS NULL AND h.region_code LIKE $1";

impl Tx {
    pub async fn add_policy_value(&mut self, v: &NewPolicyValue<'_>) -> Result<i64> {
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO policy_values (pack_id, name, from_date, value, source, added_by, added_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(v.pack_id)
            .bind(v.name)
            .bind(v.from_date)
            .bind(v.value)
            .bind(v.source)
            .bind(v.added_by)
            .bind(Utc::now())
            .fetch_one(c)
            .await)?;
        Ok(id)
    }

    pub async fn policy_values(&mut self) -> Result<Vec<PolicyValueRecord>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT id, pack_id, name, from_date, value, source, added_by, added_at
             FROM policy_values ORDER BY id")
            .fetch_all(c)
            .await)?)
    }

    pub async fn save_evaluation(&mut self, e: &NewEvaluation<'_>) -> Result<i64> {
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO evaluations (case_id, region_code, household_id, month, jurisdiction, result, evaluated_by, evaluated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
            .bind(e.case_id)
            .bind(e.region)
            .bind(e.household_id)
            .bind(e.month)
            .bind(e.jurisdiction)
            .bind(e.result)
            .bind(e.by)
            .bind(Utc::now())
            .fetch_one(c)
            .await)?;
        Ok(id)
    }

    pub async fn case_evaluations(&mut self, case_id: i64) -> Result<Vec<EvaluationRecord>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT id, case_id, month, jurisdiction, result, evaluated_by, evaluated_at
             FROM evaluations WHERE case_id = $1 ORDER BY id DESC")
            .bind(case_id)
            .fetch_all(c)
            .await)?)
    }

    /// Every current member of every household in `scope` (or of one household), household by
    /// household, with incomes in force on `until` summed by whether they count.
    pub async fn scan_households(
        &mut self,
        scope: &str,
        household: Option<i64>,
        until: NaiveDate,
        mut visit: impl FnMut(SimulationRow) + Send,
    ) -> Result<()> {
        let prefix = like_prefix(scope);
        on_tx!(self, c => {
            let sql = match household {
                // One household: its members' incomes only, not the whole registry's summed.
                Some(_) => format!("{SCAN} AND m.household_id = $3 ORDER BY m.person_id").replace(
                    "FROM incomes WHERE since <= $2 GROUP BY person_id",
                    "FROM incomes WHERE since <= $2 AND person_id IN (SELECT person_id FROM household_members WHERE household_id = $3) GROUP BY person_id",
                ),
                None => format!("{SCAN} ORDER BY m.household_id"),
            };
            let mut query = sqlx::query_as::<_, SimulationRow>(&sql).bind(&prefix).bind(until);
            if let Some(id) = household {
                query = query.bind(id);
            }
            let mut rows = query.fetch(c);
            while let Some(row) = rows.try_next().await? {
                visit(row);
            }
            Ok::<(), sqlx::Error>(())
        })?;
        Ok(())
    }
}
