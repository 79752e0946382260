//! Monitoring runs, the warnings they raise and their handling, and households registered as
//! in difficulty by a village assistant or grid worker.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::{like_prefix, on_tx, Result, StoreError, Tx};

/// One monthly run: what it read and a digest of what it found.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MonitorRun {
    pub id: i64,
    pub month: NaiveDate,
    /// 1 for the month's first run; a rerun asked for adds one.
    pub attempt: i64,
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    /// JSON: the feed files whose facts were read, with how many facts of each.
    pub files: String,
    /// JSON: the parameter values in force, with their sources.
    pub parameters: String,
    pub facts_read: i64,
    pub warnings: i64,
    /// SHA-256 over the run's warnings: the same month on the same data gives the same digest.
    pub digest: String,
}

/// A fact the monitoring rules read; its file comes beside it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MonitorFact {
    pub person_key: i64,
    pub fact_date: Option<NaiveDate>,
    pub amount_fen: Option<i64>,
    pub detail: String,
    pub row_no: i64,
}

/// A feed file the monitoring reads.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MonitorFile {
    pub id: i64,
    pub category: String,
    pub file_name: String,
}

/// A registered person as the monitoring sees them: their household and where they live.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MonitorPerson {
    pub person_id: i64,
    pub id_number_index: Option<String>,
    pub household_id: Option<i64>,
    /// The household's village, else the person's residence.
    pub region_code: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct WarningRecord {
    pub id: i64,
    pub run_id: i64,
    pub month: NaiveDate,
    pub region_code: String,
    pub household_id: Option<i64>,
    pub person_id: i64,
    pub rule: String,
    pub grade: String,
    pub discovery: bool,
    pub fingerprint: String,
    pub fact_date: Option<NaiveDate>,
    pub figure_fen: Option<i64>,
    pub basis: String,
    pub due: NaiveDate,
    pub status: String,
    pub assigned_to: Option<String>,
    pub visit_date: Option<NaiveDate>,
    pub visit_findings: Option<String>,
    pub outcome: Option<String>,
    pub outcome_note: Option<String>,
    pub case_id: Option<i64>,
    pub closed_on: Option<NaiveDate>,
    pub closed_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revision: i64,
}

const WARNING_COLUMNS: &str =
    "id, run_id, month, region_code, household_id, person_id, rule, grade,
    discovery, fingerprint, fact_date, figure_fen, basis, due, status, assigned_to, visit_date,
    visit_findings, outcome, outcome_note, case_id, closed_on, closed_by, created_at, revision";

/// What a warning's handling changes; `revision` guards against two people at once.
#[derive(Debug, Clone, Default)]
pub struct WarningUpdate {
    pub status: String,
    pub assigned_to: Option<String>,
    pub visit_date: Option<NaiveDate>,
    pub visit_findings: Option<String>,
    pub outcome: Option<String>,
    pub outcome_note: Option<String>,
    pub case_id: Option<i64>,
    pub closed_on: Option<NaiveDate>,
    pub closed_by: Option<String>,
}

/// A raised warning as the next run sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WarningKey {
    pub person_id: i64,
    pub fingerprint: String,
    pub run_id: i64,
    pub rule: String,
    pub open: bool,
    /// Nobody has assigned, checked or settled it: a rerun of its month may replace it.
    pub untouched: bool,
}

/// Filters of the warning list.
#[derive(Debug, Clone, Default)]
pub struct WarningFilter {
    pub scope: String,
    pub status: Option<String>,
    pub grade: Option<String>,
    /// Open and past their due date on this day.
    pub overdue_on: Option<NaiveDate>,
    pub limit: i64,
    pub offset: i64,
}

impl Tx {
    pub async fn monitor_runs_of(&mut self, month: NaiveDate) -> Result<Vec<MonitorRun>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT id, month, attempt, started_by, started_at, files, parameters, facts_read,
                    warnings, digest FROM monitor_runs WHERE month = $1 ORDER BY attempt")
            .bind(month)
            .fetch_all(c)
            .await)?)
    }

    pub async fn recent_monitor_runs(&mut self, limit: i64) -> Result<Vec<MonitorRun>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT id, month, attempt, started_by, started_at, files, parameters, facts_read,
                    warnings, digest FROM monitor_runs ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(c)
            .await)?)
    }

    /// Records a run; the (month, attempt) key makes a second server's run of the same month
    /// fail here, so a month is run once however many servers start it.
    pub async fn insert_monitor_run(&mut self, r: &MonitorRun) -> Result<i64> {
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO monitor_runs (month, attempt, started_by, started_at, files, parameters,
                facts_read, warnings, digest) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
            .bind(r.month).bind(r.attempt).bind(&r.started_by).bind(r.started_at).bind(&r.files)
            .bind(&r.parameters).bind(r.facts_read).bind(r.warnings).bind(&r.digest)
            .fetch_one(c)
            .await)?)
    }

    /// Facts of these categories dated within `[from, until)`, streamed file by file; those
    /// about a person `wanted` accepts go to `visit` with their file, the rest are only counted
    /// (a city's facts are mostly about people the registry does not hold). A file's facts lie
    /// together, so each file is one sequential read. Returns each file with its count.
    pub async fn monitor_facts(
        &mut self,
        categories: &[&str],
        from: NaiveDate,
        until: NaiveDate,
        wanted: impl Fn(i64) -> bool + Send,
        mut visit: impl FnMut(&MonitorFile, MonitorFact) + Send,
    ) -> Result<Vec<(MonitorFile, i64)>> {
        use futures_util::TryStreamExt;
        let list = categories
            .iter()
            .map(|c| format!("'{}'", c.replace('\'', "")))
            .collect::<Vec<_>>()
            .join(", ");
        let files: Vec<MonitorFile> = on_tx!(self, c => sqlx::query_as(&format!(
            "SELECT id, category, file_name FROM feed_files WHERE category IN ({list}) ORDER BY id"))
            .fetch_all(c)
            .await)?;
        let sql = "SELECT person_key, fact_date, amount_fen, row_no, detail FROM facts
                   WHERE file_id = $1 AND fact_date >= $2 AND fact_date < $3";
        let mut out = Vec::with_capacity(files.len());
        for file in files {
            let mut n = 0i64;
            match &mut self.inner {
                // SQLite through its own interface: the driver's per-column cost made a
                // city's scan take a minute; the detail is read only for wanted people.
                crate::TxInner::Sqlite(t) => {
                    n = crate::with_raw_sqlite(t, "读取核对数据", |db| {
                        let mut stmt = db.prepare(&sql.replace('$', "?"))?;
                        let mut rows = stmt.query(rusqlite::params![
                            file.id,
                            from.to_string(),
                            until.to_string()
                        ])?;
                        let mut n = 0i64;
                        while let Some(row) = rows.next()? {
                            n += 1;
                            let key: i64 = row.get(0)?;
                            if !wanted(key) {
                                continue;
                            }
                            let date: Option<String> = row.get(1)?;
                            visit(
                                &file,
                                MonitorFact {
                                    person_key: key,
                                    fact_date: date.as_deref().and_then(|d| d.parse().ok()),
                                    amount_fen: row.get(2)?,
                                    row_no: row.get(3)?,
                                    detail: row.get(4)?,
                                },
                            );
                        }
                        Ok(n)
                    })
                    .await?;
                }
                crate::TxInner::Postgres(t) => {
                    let c: &mut sqlx::PgConnection = t;
                    let mut rows = sqlx::query_as::<_, MonitorFact>(sql)
                        .bind(file.id)
                        .bind(from)
                        .bind(until)
                        .fetch(c);
                    while let Some(row) = rows.try_next().await? {
                        n += 1;
                        if wanted(row.person_key) {
                            visit(&file, row);
                        }
                    }
                }
            }
            out.push((file, n));
        }
        Ok(out)
    }

    /// Every declared or found monthly income, streamed: (person, kind, fen).
    pub async fn all_incomes(
        &mut self,
        mut visit: impl FnMut(i64, &str, i64) + Send,
    ) -> Result<()> {
        use futures_util::TryStreamExt;
        let sql = "SELECT person_id, kind, monthly_fen FROM incomes";
        match &mut self.inner {
            crate::TxInner::Sqlite(t) => {
                crate::with_raw_sqlite(t, "读取收入", |db| {
                    let mut stmt = db.prepare(sql)?;
                    let mut rows = stmt.query([])?;
                    while let Some(row) = rows.next()? {
                        let kind: String = row.get(1)?;
                        visit(row.get(0)?, &kind, row.get(2)?);
                    }
                    Ok(())
                })
                .await?;
            }
            crate::TxInner::Postgres(t) => {
                let c: &mut sqlx::PgConnection = t;
                let mut rows = sqlx::query_as::<_, (i64, String, i64)>(sql).fetch(c);
                while let Some((p, k, fen)) = rows.try_next().await? {
                    visit(p, &k, fen);
                }
            }
        }
        Ok(())
    }

    /// Every registered person with their current household, if any, streamed.
    pub async fn monitor_people(
        &mut self,
        mut visit: impl FnMut(MonitorPerson) + Send,
    ) -> Result<()> {
        use futures_util::TryStreamExt;
        let sql = "SELECT p.id AS person_id, p.id_number_index, m.household_id,
                        COALESCE(h.region_code, p.region_code) AS region_code
                 FROM persons p
                 LEFT JOIN household_members m ON m.person_id = p.id AND m.to_date IS NULL
                 LEFT JOIN households h ON h.id = m.household_id";
        match &mut self.inner {
            crate::TxInner::Sqlite(t) => {
                crate::with_raw_sqlite(t, "读取人员", |db| {
                    let mut stmt = db.prepare(sql)?;
                    let mut rows = stmt.query([])?;
                    while let Some(row) = rows.next()? {
                        visit(MonitorPerson {
                            person_id: row.get(0)?,
                            id_number_index: row.get(1)?,
                            household_id: row.get(2)?,
                            region_code: row.get(3)?,
                        });
                    }
                    Ok(())
                })
                .await?;
            }
            crate::TxInner::Postgres(t) => {
                let c: &mut sqlx::PgConnection = t;
                let mut rows = sqlx::query_as::<_, MonitorPerson>(sql).fetch(c);
                while let Some(row) = rows.try_next().await? {
                    visit(row);
                }
            }
        }
        Ok(())
    }

    /// Registers a household as in difficulty, to be watched.
    pub async fn register_monitored(
        &mut self,
        household_id: i64,
        region_code: &str,
        reason: &str,
        by: &str,
    ) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO monitored_households (household_id, region_code, reason, registered_by, registered_at)
             VALUES ($1, $2, $3, $4, $5)")
            .bind(household_id).bind(region_code).bind(reason).bind(by).bind(Utc::now())
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Every warning raised so far, as the run weighs new ones against them.
    pub async fn warning_keys(&mut self) -> Result<Vec<WarningKey>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT person_id, fingerprint, run_id, rule, status <> 'closed' AS open,
                    (status = 'new' AND revision = 0) AS untouched
             FROM warnings")
            .fetch_all(c)
            .await)?)
    }

    /// Removes a month's warnings nobody has touched yet, before that month is run again.
    pub async fn delete_untouched_warnings(&mut self, runs: &[i64]) -> Result<u64> {
        let mut n = 0;
        for run in runs {
            n += on_tx!(self, c => sqlx::query(
                "DELETE FROM warnings WHERE run_id = $1 AND status = 'new' AND revision = 0")
                .bind(*run)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
        Ok(n)
    }

    pub async fn insert_warning(&mut self, w: &WarningRecord) -> Result<i64> {
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO warnings (run_id, month, region_code, household_id, person_id, rule, grade,
                discovery, fingerprint, fact_date, figure_fen, basis, due, status, created_at, revision)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'new', $14, 0) RETURNING id")
            .bind(w.run_id).bind(w.month).bind(&w.region_code).bind(w.household_id).bind(w.person_id)
            .bind(&w.rule).bind(&w.grade).bind(w.discovery).bind(&w.fingerprint).bind(w.fact_date)
            .bind(w.figure_fen).bind(&w.basis).bind(w.due).bind(w.created_at)
            .fetch_one(c)
            .await)?)
    }

    pub async fn warning(&mut self, id: i64) -> Result<Option<WarningRecord>> {
        let sql = format!("SELECT {WARNING_COLUMNS} FROM warnings WHERE id = $1");
        Ok(on_tx!(self, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?)
    }

    pub async fn warnings(&mut self, f: &WarningFilter) -> Result<(Vec<WarningRecord>, i64)> {
        let cond =
            "region_code LIKE $1 AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR grade = $3)
             AND ($4 IS NULL OR (status <> 'closed' AND due < $4))";
        let sql = format!(
            "SELECT {WARNING_COLUMNS} FROM warnings WHERE {cond}
             ORDER BY CASE grade WHEN 'red' THEN 0 WHEN 'orange' THEN 1 ELSE 2 END, due, id
             LIMIT $5 OFFSET $6"
        );
        let rows = on_tx!(self, c => sqlx::query_as(&sql)
            .bind(like_prefix(&f.scope)).bind(&f.status).bind(&f.grade).bind(f.overdue_on)
            .bind(f.limit).bind(f.offset)
            .fetch_all(c)
            .await)?;
        let count_sql = format!("SELECT COUNT(*) FROM warnings WHERE {cond}");
        let total: i64 = on_tx!(self, c => sqlx::query_scalar(&count_sql)
            .bind(like_prefix(&f.scope)).bind(&f.status).bind(&f.grade).bind(f.overdue_on)
            .fetch_one(c)
            .await)?;
        Ok((rows, total))
    }

    /// Every warning within `scope`, for counts by township.
    pub async fn warnings_in(&mut self, scope: &str) -> Result<Vec<WarningRecord>> {
        let sql = format!("SELECT {WARNING_COLUMNS} FROM warnings WHERE region_code LIKE $1");
        Ok(on_tx!(self, c => sqlx::query_as(&sql)
            .bind(like_prefix(scope))
            .fetch_all(c)
            .await)?)
    }

    /// Open red death warnings of these persons: their payment waits for the township.
    pub async fn held_for_death(&mut self, scope: &str) -> Result<Vec<i64>> {
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "SELECT person_id FROM warnings
             WHERE rule = 'death' AND status <> 'closed' AND region_code LIKE $1")
            .bind(like_prefix(scope))
            .fetch_all(c)
            .await)?)
    }

    pub async fn update_warning(
        &mut self,
        id: i64,
        revision: i64,
        u: &WarningUpdate,
    ) -> Result<()> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE warnings SET status = $3, assigned_to = $4, visit_date = $5, visit_findings = $6,
                outcome = $7, outcome_note = $8, case_id = $9, closed_on = $10, closed_by = $11,
                revision = revision + 1
             WHERE id = $1 AND revision = $2")
            .bind(id).bind(revision).bind(&u.status).bind(&u.assigned_to).bind(u.visit_date)
            .bind(&u.visit_findings).bind(&u.outcome).bind(&u.outcome_note).bind(u.case_id)
            .bind(u.closed_on).bind(&u.closed_by)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::Stale);
        }
        Ok(())
    }
}

/// Why a household is in the monitored population, as the database holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PopulationSource {
    pub household_id: i64,
    pub region_code: String,
    /// The enrolment's program, or `registered` for a household registered as in difficulty.
    pub program: String,
    /// confirmed, refused, … or `registered`.
    pub stage: String,
    /// The month an enrolment ended, if it did.
    pub ended: Option<NaiveDate>,
    pub since: DateTime<Utc>,
    pub reason: String,
}

impl Tx {
    /// Every enrolment and registration that may put a household of `scope` in the population.
    pub async fn population_sources(&mut self, scope: &str) -> Result<Vec<PopulationSource>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT e.household_id, e.region_code, e.program, e.stage,
                    (SELECT MAX(x.month) FROM enrolment_changes x
                     WHERE x.enrolment_id = e.id AND x.kind = 'ended') AS ended,
                    e.created_at AS since, '' AS reason
             FROM enrolments e WHERE e.region_code LIKE $1
             UNION ALL
             SELECT household_id, region_code, 'registered', 'registered', NULL, registered_at, reason
             FROM monitored_households WHERE region_code LIKE $1
             ORDER BY 1")
            .bind(like_prefix(scope))
            .fetch_all(c)
            .await)?)
    }

    /// Names of these persons, by id.
    pub async fn person_names(&mut self, ids: &[i64]) -> Result<Vec<(i64, String)>> {
        self.fetch_for_ids("SELECT id, name FROM persons WHERE id IN {ids}", ids, 500)
            .await
    }
}
