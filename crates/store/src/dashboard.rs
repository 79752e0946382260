//! The counts the home pages open on: work by stage and deadline, applications and their
//! timeliness by month, overdue items by township and department. Aggregates in the database,
//! a few rows each.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{like_prefix, on_tx, Result, Tx};

/// Open items of one stage: how many, due today, past due.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct StageCount {
    pub stage: String,
    pub items: i64,
    pub due_today: i64,
    pub overdue: i64,
}

/// Applications filed in a month, their items, and the items late (done after their limit or
/// past it now).
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct MonthCount {
    pub month: String,
    pub cases: i64,
    pub items: i64,
    pub late: i64,
}

impl Tx {
    /// Case items within a region (of one department) by stage, with those due today and
    /// those past due.
    pub async fn stage_counts(
        &mut self,
        scope: &str,
        department: Option<&str>,
        today: NaiveDate,
    ) -> Result<Vec<StageCount>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT stage, COUNT(*) AS items,
                CAST(COALESCE(SUM(CASE WHEN next_due = $3 THEN 1 ELSE 0 END), 0) AS BIGINT) AS due_today,
                CAST(COALESCE(SUM(CASE WHEN next_due < $3 THEN 1 ELSE 0 END), 0) AS BIGINT) AS overdue
             FROM case_items WHERE region_code LIKE $1 AND ($2 IS NULL OR department_code = $2)
             GROUP BY stage")
            .bind(like_prefix(scope))
            .bind(department)
            .bind(today)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// Applications filed since `from`, by month (`YYYY-MM`), with their items and the late ones.
    pub async fn monthly_applications(
        &mut self,
        scope: &str,
        from: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Vec<MonthCount>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT SUBSTR(CAST(c.filed_at AS TEXT), 1, 7) AS month,
                COUNT(DISTINCT c.id) AS cases, COUNT(*) AS items,
                CAST(COALESCE(SUM(CASE WHEN ci.late OR ci.next_due < $3 THEN 1 ELSE 0 END), 0)
                    AS BIGINT) AS late
             FROM cases c JOIN case_items ci ON ci.case_id = c.id
             WHERE c.region_code LIKE $1 AND c.filed_at >= $2
             GROUP BY SUBSTR(CAST(c.filed_at AS TEXT), 1, 7) ORDER BY 1")
            .bind(like_prefix(scope))
            .bind(from)
            .bind(today)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// Open items past due by township (division code) and department.
    pub async fn overdue_by_place(
        &mut self,
        scope: &str,
        open_stages: &[String],
        today: NaiveDate,
    ) -> Result<Vec<(String, String, i64)>> {
        let mut w = crate::Where::default();
        w.and("region_code LIKE ?", crate::Param::Text(like_prefix(scope)));
        w.and("next_due < ?", crate::Param::Date(today));
        w.and_in("stage", open_stages);
        let sql = format!(
            "SELECT SUBSTR(region_code, 1, 9), department_code, COUNT(*) FROM case_items {}
             GROUP BY SUBSTR(region_code, 1, 9), department_code ORDER BY 3 DESC",
            w.sql()
        );
        let rows = on_tx!(self, c => crate::bind_params!(sqlx::query_as(&sql), &w.params)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }
}
