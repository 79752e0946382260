//! Department feed files and the facts read from them, each with its provenance: department,
//! category, file, row and import time. A file is stored whole or not at all, once.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{on_tx, value_rows, Result, Tx};

/// A feed file as imported.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct FeedFileRecord {
    pub id: i64,
    pub category: String,
    pub department: String,
    pub file_name: String,
    /// SHA-256 of the file's bytes: the same file is imported once.
    pub sha256: String,
    pub encoding: String,
    pub accepted: i64,
    pub rejected: i64,
    pub imported_by: String,
    pub imported_at: DateTime<Utc>,
}

pub struct NewFeedFile<'a> {
    pub category: &'a str,
    pub department: &'a str,
    pub file_name: &'a str,
    pub sha256: &'a str,
    pub encoding: &'a str,
    pub imported_by: &'a str,
}

/// A fact ready to store. The person is found by the blind index of the identity number, so a
/// fact about someone not yet registered matches them when they are.
pub struct NewFact {
    pub row_no: i64,
    pub person_index: String,
    pub fact_date: Option<NaiveDate>,
    pub amount_fen: Option<i64>,
    /// The row's typed values as JSON (account numbers already masked).
    pub detail: String,
}

/// A rejected row of a file.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct FeedRejection {
    pub row_no: i64,
    pub field: String,
    pub reason: String,
}

/// A fact about a current member of a household, with where it came from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberFact {
    pub person_id: i64,
    pub category: String,
    pub fact_date: Option<NaiveDate>,
    pub amount_fen: Option<i64>,
    pub detail: String,
    pub row_no: i64,
    pub file_name: String,
    pub department: String,
}

/// A stored verification report.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRecord {
    pub id: i64,
    pub case_id: i64,
    pub report: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[allow(async_fn_in_trait)]
pub trait FeedRepo {
    /// Every fact about the current members of a household, matched by identity number.
    async fn household_facts(&mut self, household_id: i64) -> Result<Vec<MemberFact>>;
    async fn save_report(
        &mut self,
        case_id: i64,
        region: &str,
        household_id: i64,
        report: &str,
        by: &str,
    ) -> Result<i64>;
    async fn case_reports(&mut self, case_id: i64) -> Result<Vec<ReportRecord>>;
    /// The file already imported with these bytes in this category, if any.
    async fn feed_file_by_hash(
        &mut self,
        category: &str,
        sha256: &str,
    ) -> Result<Option<FeedFileRecord>>;
    async fn insert_feed_file(&mut self, f: &NewFeedFile<'_>) -> Result<i64>;
    async fn insert_facts(&mut self, file_id: i64, category: &str, facts: &[NewFact])
        -> Result<()>;
    async fn insert_rejections(&mut self, file_id: i64, rows: &[FeedRejection]) -> Result<()>;
    async fn finish_feed_file(&mut self, file_id: i64, accepted: i64, rejected: i64) -> Result<()>;
    async fn feed_file(&mut self, id: i64) -> Result<Option<FeedFileRecord>>;
    async fn feed_rejections(&mut self, file_id: i64) -> Result<Vec<FeedRejection>>;
    async fn count_facts(&mut self, file_id: i64) -> Result<i64>;
}

const FILE_COLUMNS: &str = "id, category, department, file_name, sha256, encoding, accepted, rejected, imported_by, imported_at";

impl FeedRepo for Tx {
    async fn household_facts(&mut self, household_id: i64) -> Result<Vec<MemberFact>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT p.id AS person_id, f.category, f.fact_date, f.amount_fen, f.detail, f.row_no,
                    ff.file_name, ff.department
             FROM household_members m
             JOIN persons p ON p.id = m.person_id
             JOIN facts f ON f.person_index = p.id_number_index
             JOIN feed_files ff ON ff.id = f.file_id
             WHERE m.household_id = $1 AND m.to_date IS NULL
             ORDER BY p.id, f.category, f.fact_date, f.id")
            .bind(household_id)
            .fetch_all(c)
            .await)?)
    }

    async fn save_report(
        &mut self,
        case_id: i64,
        region: &str,
        household_id: i64,
        report: &str,
        by: &str,
    ) -> Result<i64> {
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO verification_reports (case_id, region_code, household_id, report, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(case_id)
            .bind(region)
            .bind(household_id)
            .bind(report)
            .bind(by)
            .bind(Utc::now())
            .fetch_one(c)
            .await)?;
        Ok(id)
    }

    async fn case_reports(&mut self, case_id: i64) -> Result<Vec<ReportRecord>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT id, case_id, report, created_by, created_at FROM verification_reports
             WHERE case_id = $1 ORDER BY id DESC")
            .bind(case_id)
            .fetch_all(c)
            .await)?)
    }

    async fn feed_file_by_hash(
        &mut self,
        category: &str,
        sha256: &str,
    ) -> Result<Option<FeedFileRecord>> {
        let sql =
            format!("SELECT {FILE_COLUMNS} FROM feed_files WHERE category = $1 AND sha256 = $2");
        Ok(
            on_tx!(self, c => sqlx::query_as(&sql).bind(category).bind(sha256).fetch_optional(c).await)?,
        )
    }

    async fn insert_feed_file(&mut self, f: &NewFeedFile<'_>) -> Result<i64> {
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO feed_files (category, department, file_name, sha256, encoding, accepted, rejected, imported_by, imported_at)
             VALUES ($1, $2, $3, $4, $5, 0, 0, $6, $7) RETURNING id")
            .bind(f.category)
            .bind(f.department)
            .bind(f.file_name)
            .bind(f.sha256)
            .bind(f.encoding)
            .bind(f.imported_by)
            .bind(Utc::now())
            .fetch_one(c)
            .await)?;
        Ok(id)
    }

    async fn insert_facts(
        &mut self,
        file_id: i64,
        category: &str,
        facts: &[NewFact],
    ) -> Result<()> {
        for chunk in facts.chunks(1000) {
            let sql = format!(
                "INSERT INTO facts (file_id, category, row_no, person_index, fact_date, amount_fen, detail) VALUES {}",
                value_rows(self.backend(), chunk.len(), 7)
            );
            on_tx!(self, c => {
                let mut q = sqlx::query(&sql);
                for f in chunk {
                    q = q.bind(file_id).bind(category).bind(f.row_no).bind(&f.person_index)
                        .bind(f.fact_date).bind(f.amount_fen).bind(&f.detail);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    async fn insert_rejections(&mut self, file_id: i64, rows: &[FeedRejection]) -> Result<()> {
        for chunk in rows.chunks(1000) {
            let sql = format!(
                "INSERT INTO feed_rejections (file_id, row_no, field, reason) VALUES {}",
                value_rows(self.backend(), chunk.len(), 4)
            );
            on_tx!(self, c => {
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = q.bind(file_id).bind(r.row_no).bind(&r.field).bind(&r.reason);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    async fn finish_feed_file(&mut self, file_id: i64, accepted: i64, rejected: i64) -> Result<()> {
        on_tx!(self, c => sqlx::query("UPDATE feed_files SET accepted = $1, rejected = $2 WHERE id = $3")
            .bind(accepted)
            .bind(rejected)
            .bind(file_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    async fn feed_file(&mut self, id: i64) -> Result<Option<FeedFileRecord>> {
        let sql = format!("SELECT {FILE_COLUMNS} FROM feed_files WHERE id = $1");
        Ok(on_tx!(self, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?)
    }

    async fn feed_rejections(&mut self, file_id: i64) -> Result<Vec<FeedRejection>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT row_no, field, reason FROM feed_rejections WHERE file_id = $1 ORDER BY row_no")
            .bind(file_id)
            .fetch_all(c)
            .await)?)
    }

    async fn count_facts(&mut self, file_id: i64) -> Result<i64> {
        Ok(
            on_tx!(self, c => sqlx::query_scalar("SELECT COUNT(*) FROM facts WHERE file_id = $1")
            .bind(file_id)
            .fetch_one(c)
            .await)?,
        )
    }
}
