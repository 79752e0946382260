//! Department feed files and the facts read from them, each with its provenance: department,
//! category, file, row and import time. A file is stored whole or not at all, once.

use chrono::{DateTime, NaiveDate, Utc};

use std::fmt::Write as _;

use crate::{blind_key_of_index, like_prefix, on_tx, value_rows, Result, Tx, TxInner};

/// A feed file as imported.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
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
    /// `FieldCipher::blind_key` of the identity number.
    pub person_key: i64,
    pub fact_date: Option<NaiveDate>,
    pub amount_fen: Option<i64>,
    /// The row's typed values as JSON (account numbers already masked).
    pub detail: String,
}

/// A rejected row of a file.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
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

/// A current member of a household under review.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReviewMember {
    pub household_id: i64,
    pub region_code: String,
    pub person_id: i64,
    pub name: String,
    pub id_number_index: Option<String>,
}

/// A fact found by its person key, with the file it came from by id.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyedFact {
    pub person_key: i64,
    pub fact_date: Option<NaiveDate>,
    pub amount_fen: Option<i64>,
    pub detail: String,
    pub row_no: i64,
    pub file_id: i64,
}

const FILE_COLUMNS: &str = "id, category, department, file_name, sha256, encoding, accepted, rejected, imported_by, imported_at";

impl Tx {
    /// Every fact about the current members of a household, matched by identity number.
    pub async fn household_facts(&mut self, household_id: i64) -> Result<Vec<MemberFact>> {
        let members: Vec<(i64, Option<String>)> = on_tx!(self, c => sqlx::query_as(
            "SELECT p.id, p.id_number_index FROM household_members m
             JOIN persons p ON p.id = m.person_id
             WHERE m.household_id = $1 AND m.to_date IS NULL ORDER BY p.id")
            .bind(household_id)
            .fetch_all(c)
            .await)?;
        let mut facts = Vec::new();
        for (person_id, index) in members {
            let Some(key) = index.as_deref().and_then(blind_key_of_index) else {
                continue;
            };
            let rows: Vec<MemberFact> = on_tx!(self, c => sqlx::query_as(
                "SELECT $1 AS person_id, ff.category, f.fact_date, f.amount_fen, f.detail, f.row_no,
                        ff.file_name, ff.department
                 FROM facts f JOIN feed_files ff ON ff.id = f.file_id
                 WHERE f.person_key = $2
                 ORDER BY ff.category, f.fact_date, f.file_id, f.row_no")
                .bind(person_id)
                .bind(key)
                .fetch_all(c)
                .await)?;
            facts.extend(rows);
        }
        Ok(facts)
    }

    pub async fn save_report(
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

    pub async fn case_reports(&mut self, case_id: i64) -> Result<Vec<ReportRecord>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT id, case_id, report, created_by, created_at FROM verification_reports
             WHERE case_id = $1 ORDER BY id DESC")
            .bind(case_id)
            .fetch_all(c)
            .await)?)
    }

    /// The file already imported with these bytes in this category, if any.
    pub async fn feed_file_by_hash(
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

    pub async fn insert_feed_file(&mut self, f: &NewFeedFile<'_>) -> Result<i64> {
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

    /// Writes a file's facts batch by batch, inside this transaction.
    pub async fn fact_writer(&mut self, file_id: i64) -> Result<FactWriter<'_>> {
        Ok(match &mut self.inner {
            TxInner::Sqlite(t) => FactWriter::Sqlite { conn: t, file_id },
            TxInner::Postgres(t) => FactWriter::Postgres {
                copy: t
                    .copy_in_raw(
                        "COPY facts (file_id, row_no, person_key, fact_date, amount_fen, detail)
                         FROM STDIN",
                    )
                    .await?,
                file_id,
                buf: String::new(),
            },
        })
    }

    pub async fn insert_rejections(&mut self, file_id: i64, rows: &[FeedRejection]) -> Result<()> {
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

    pub async fn finish_feed_file(
        &mut self,
        file_id: i64,
        accepted: i64,
        rejected: i64,
    ) -> Result<()> {
        on_tx!(self, c => sqlx::query("UPDATE feed_files SET accepted = $1, rejected = $2 WHERE id = $3")
            .bind(accepted)
            .bind(rejected)
            .bind(file_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn feed_file(&mut self, id: i64) -> Result<Option<FeedFileRecord>> {
        let sql = format!("SELECT {FILE_COLUMNS} FROM feed_files WHERE id = $1");
        Ok(on_tx!(self, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?)
    }

    /// The latest files, newest first, of the given categories (all when `None`).
    pub async fn recent_feed_files(
        &mut self,
        categories: Option<&[&str]>,
        limit: i64,
    ) -> Result<Vec<FeedFileRecord>> {
        let all: Vec<FeedFileRecord> = on_tx!(self, c => sqlx::query_as(
            &format!("SELECT {FILE_COLUMNS} FROM feed_files ORDER BY id DESC"))
            .fetch_all(c)
            .await)?;
        // Few files a month per category: filtering here keeps one query for both databases.
        Ok(all
            .into_iter()
            .filter(|f| categories.is_none_or(|cs| cs.contains(&f.category.as_str())))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect())
    }

    pub async fn feed_rejections(&mut self, file_id: i64) -> Result<Vec<FeedRejection>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT row_no, field, reason FROM feed_rejections WHERE file_id = $1 ORDER BY row_no")
            .bind(file_id)
            .fetch_all(c)
            .await)?)
    }

    /// The current members of every household within `scope`, by household then person id.
    pub async fn review_members(&mut self, scope: &str) -> Result<Vec<ReviewMember>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT m.household_id, h.region_code, p.id AS person_id, p.name, p.id_number_index
             FROM household_members m
             JOIN households h ON h.id = m.household_id
             JOIN persons p ON p.id = m.person_id
             WHERE m.to_date IS NULL AND h.region_code LIKE $1
             ORDER BY m.household_id, p.id")
            .bind(like_prefix(scope))
            .fetch_all(c)
            .await)?)
    }

    /// The current members of these households within `scope`, as `review_members` gives them.
    pub async fn review_members_of(
        &mut self,
        scope: &str,
        households: &[i64],
    ) -> Result<Vec<ReviewMember>> {
        let mut out = Vec::new();
        for chunk in households.chunks(500) {
            let sql = format!(
                "SELECT m.household_id, h.region_code, p.id AS person_id, p.name, p.id_number_index
                 FROM household_members m
                 JOIN households h ON h.id = m.household_id
                 JOIN persons p ON p.id = m.person_id
                 WHERE m.to_date IS NULL AND h.region_code LIKE {} AND m.household_id IN {}
                 ORDER BY m.household_id, p.id",
                match self.backend() {
                    crate::Backend::Sqlite => "?".to_string(),
                    crate::Backend::Postgres => "$1".to_string(),
                },
                match self.backend() {
                    crate::Backend::Sqlite => value_rows(self.backend(), 1, chunk.len()),
                    crate::Backend::Postgres => {
                        let list: Vec<String> =
                            (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
                        format!("({})", list.join(", "))
                    }
                }
            );
            let rows: Vec<ReviewMember> = on_tx!(self, c => {
                let mut q = sqlx::query_as(&sql).bind(like_prefix(scope));
                for h in chunk {
                    q = q.bind(*h);
                }
                q.fetch_all(c).await
            })?;
            out.extend(rows);
        }
        out.sort_by_key(|m| (m.household_id, m.person_id));
        Ok(out)
    }

    /// Every fact stored under these person keys.
    pub async fn facts_by_keys(&mut self, keys: &[i64]) -> Result<Vec<KeyedFact>> {
        self.fetch_for_ids(
            "SELECT person_key, fact_date, amount_fen, detail, row_no, file_id
             FROM facts WHERE person_key IN {ids} ORDER BY person_key, fact_date, file_id, row_no",
            keys,
            500,
        )
        .await
    }

    pub async fn count_facts(&mut self, file_id: i64) -> Result<i64> {
        Ok(
            on_tx!(self, c => sqlx::query_scalar("SELECT COUNT(*) FROM facts WHERE file_id = $1")
            .bind(file_id)
            .fetch_one(c)
            .await)?,
        )
    }
}

/// Where an import's facts go: on SQLite, one prepared statement on the connection (and inside
/// the transaction) sqlx holds; on PostgreSQL, one `COPY` open for the whole file, so the server
/// stores one batch while the next is read.
pub enum FactWriter<'t> {
    Sqlite {
        conn: &'t mut sqlx::SqliteConnection,
        file_id: i64,
    },
    Postgres {
        copy: sqlx::postgres::PgCopyIn<&'t mut sqlx::PgConnection>,
        file_id: i64,
        buf: String,
    },
}

impl FactWriter<'_> {
    pub async fn write(&mut self, facts: &[NewFact]) -> Result<()> {
        match self {
            FactWriter::Sqlite { conn, file_id } => {
                crate::with_raw_sqlite(conn, "写入核对数据", |db| {
                    insert_facts_sqlite(db, *file_id, facts)
                })
                .await
            }
            FactWriter::Postgres { copy, file_id, buf } => {
                buf.clear();
                for f in facts {
                    copy_row(buf, *file_id, f);
                }
                copy.send(buf.as_bytes()).await?;
                Ok(())
            }
        }
    }

    /// Ends the file's facts (the transaction still decides whether they stay).
    pub async fn finish(self) -> Result<()> {
        if let FactWriter::Postgres { copy, .. } = self {
            copy.finish().await?;
        }
        Ok(())
    }
}

/// Inserts facts through SQLite's own interface: one prepared statement bound row by row,
/// without an allocation per value.
fn insert_facts_sqlite(
    conn: &rusqlite::Connection,
    file_id: i64,
    facts: &[NewFact],
) -> rusqlite::Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO facts (file_id, row_no, person_key, fact_date, amount_fen, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut date = String::with_capacity(10);
    for f in facts {
        date.clear();
        if let Some(d) = f.fact_date {
            push_iso_date(&mut date, d);
        }
        insert.execute(rusqlite::params![
            file_id,
            f.row_no,
            f.person_key,
            f.fact_date.map(|_| date.as_str()),
            f.amount_fen,
            f.detail,
        ])?;
    }
    Ok(())
}

/// Appends `YYYY-MM-DD`, as sqlx stores dates in SQLite and PostgreSQL reads them, without
/// going through a format string (a tenth of an import's time went there).
pub fn push_iso_date(buf: &mut String, d: NaiveDate) {
    use chrono::Datelike;
    let y = d.year();
    if !(0..=9999).contains(&y) {
        let _ = write!(buf, "{}", d.format("%Y-%m-%d"));
        return;
    }
    let digits = [
        y / 1000,
        y / 100 % 10,
        y / 10 % 10,
        y % 10,
        -1,
        d.month() as i32 / 10,
        d.month() as i32 % 10,
        -1,
        d.day() as i32 / 10,
        d.day() as i32 % 10,
    ];
    for x in digits {
        buf.push(if x < 0 {
            '-'
        } else {
            char::from(b'0' + x as u8)
        });
    }
}

/// One row of `COPY ... FROM STDIN` in text format: tab-separated, `\N` for NULL, backslashes
/// doubled (the JSON detail escapes every other control character itself).
fn copy_row(buf: &mut String, file_id: i64, f: &NewFact) {
    let _ = write!(buf, "{file_id}\t{}\t{}\t", f.row_no, f.person_key);
    match f.fact_date {
        Some(d) => push_iso_date(buf, d),
        None => buf.push_str("\\N"),
    }
    buf.push('\t');
    match f.amount_fen {
        Some(a) => {
            let _ = write!(buf, "{a}");
        }
        None => buf.push_str("\\N"),
    }
    buf.push('\t');
    for ch in f.detail.chars() {
        match ch {
            '\\' => buf.push_str("\\\\"),
            '\t' => buf.push_str("\\t"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            c => buf.push(c),
        }
    }
    buf.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_iso_dates() {
        for (y, m, d) in [
            (2025, 3, 1),
            (1949, 10, 1),
            (2026, 12, 31),
            (5, 1, 9),
            (12345, 6, 7),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let mut buf = String::new();
            push_iso_date(&mut buf, date);
            assert_eq!(buf, date.format("%Y-%m-%d").to_string());
        }
    }

    #[test]
    fn copy_rows_escape_what_copy_reads_specially() {
        let mut buf = String::new();
        let fact = NewFact {
            row_no: 7,
            person_key: -42,
            fact_date: None,
            amount_fen: Some(120_000),
            // A backslash and a tab inside the detail.
            detail: "王\\芳\t1".to_string(),
        };
        copy_row(&mut buf, 3, &fact);
        assert_eq!(buf, "3\t7\t-42\t\\N\t120000\t王\\\\芳\\t1\n");
    }
}
