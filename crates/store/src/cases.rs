//! Cases: the application row, its append-only events, and the per-item projection that
//! inboxes and overdue lists read. Events are appended with the sequence number the writer
//! expects next; a concurrent writer hits the unique `(case_id, seq)` and gets `Stale`.

use chrono::{DateTime, NaiveDate, Utc};
use jiuzhu_domain::case::{CaseEvent, Recorded};
use serde::Serialize;

use crate::{bind_params, like_prefix, on_tx, Param, Result, StoreError, Tx, Where};

pub struct NewCase<'a> {
    pub region_code: &'a str,
    pub household_id: i64,
    pub applicant_person_id: i64,
    pub channel: &'a str,
    pub idempotency_key: &'a str,
    pub filed_at: DateTime<Utc>,
    pub filed_by: &'a str,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CaseRow {
    pub id: i64,
    pub region_code: String,
    pub household_id: i64,
    pub applicant_person_id: i64,
    pub channel: String,
    pub status: String,
    pub filed_at: DateTime<Utc>,
    pub filed_by: String,
    pub last_seq: i64,
}

/// The row written per item after each event.
#[derive(Debug, Clone)]
pub struct ItemProjection {
    pub item_code: String,
    pub department_code: String,
    pub stage: String,
    pub form_no: Option<String>,
    pub next_due: Option<NaiveDate>,
    pub next_due_kind: Option<String>,
    pub late: bool,
}

/// One line of an inbox or an overdue list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CaseItemRow {
    pub case_id: i64,
    pub item_code: String,
    pub region_code: String,
    pub department_code: String,
    pub stage: String,
    pub form_no: Option<String>,
    pub next_due: Option<NaiveDate>,
    pub next_due_kind: Option<String>,
    pub late: bool,
    pub applicant_name: String,
    pub filed_at: DateTime<Utc>,
    /// The township (street) the case is in, by name.
    pub township_name: Option<String>,
}

/// A case whose every item has its outcome, still open: the window tells the applicant the
/// combined result and closes it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ReadyToClose {
    pub case_id: i64,
    pub applicant_name: String,
    pub region_code: String,
    pub township_name: Option<String>,
    pub form_no: Option<String>,
    /// When the last item got its outcome.
    pub settled_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct CaseItemFilter {
    pub scope: String,
    pub department: Option<String>,
    pub stages: Vec<String>,
    /// Only items whose next time limit falls on or before this day.
    pub due_by: Option<NaiveDate>,
    pub limit: i64,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, sqlx::FromRow)]
#[serde(default)]
pub struct Organisation {
    pub id: i64,
    pub name: String,
    /// social_work, charity, volunteer
    pub kind: String,
    pub region_code: String,
    pub services: String,
    pub contact: String,
    pub active: bool,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    at: DateTime<Utc>,
    actor: String,
    department: Option<String>,
    payload: String,
}

const CASE_COLUMNS: &str =
    "id, region_code, household_id, applicant_person_id, channel, status, filed_at, filed_by, last_seq";

/// Counts the operators watch: open items, and those past their due date.
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkCounts {
    pub open_items: i64,
    pub overdue_items: i64,
}

impl Tx {
    /// Open case items and those due before `today`, over the whole database.
    pub async fn work_counts(&mut self, today: chrono::NaiveDate) -> Result<WorkCounts> {
        let (open_items, overdue_items): (i64, i64) = on_tx!(self, c => sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN next_due < $1 THEN 1 ELSE 0 END), 0)
             FROM case_items WHERE next_due IS NOT NULL")
            .bind(today)
            .fetch_one(c)
            .await)?;
        Ok(WorkCounts {
            open_items,
            overdue_items,
        })
    }

    pub async fn insert_case(&mut self, c: NewCase<'_>) -> Result<i64> {
        let id: i64 = on_tx!(self, conn => sqlx::query_scalar(
            "INSERT INTO cases (region_code, household_id, applicant_person_id, channel, status,
                idempotency_key, filed_at, filed_by, last_seq, updated_at)
             VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, 0, $6) RETURNING id")
            .bind(c.region_code)
            .bind(c.household_id)
            .bind(c.applicant_person_id)
            .bind(c.channel)
            .bind(c.idempotency_key)
            .bind(c.filed_at)
            .bind(c.filed_by)
            .fetch_one(conn)
            .await)?;
        Ok(id)
    }

    pub async fn case_by_key(&mut self, key: &str) -> Result<Option<CaseRow>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE idempotency_key = $1");
        let row = on_tx!(self, c => sqlx::query_as(&sql).bind(key).fetch_optional(c).await)?;
        Ok(row)
    }

    pub async fn case_row(&mut self, id: i64, scope: &str) -> Result<Option<CaseRow>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1 AND region_code LIKE $2");
        let row = on_tx!(self, c => sqlx::query_as(&sql).bind(id).bind(like_prefix(scope)).fetch_optional(c).await)?;
        Ok(row)
    }

    /// Appends events after `expected_seq` (the number of events the caller folded).
    pub async fn append_events(
        &mut self,
        case_id: i64,
        region_code: &str,
        expected_seq: i64,
        interface: &str,
        events: &[Recorded],
    ) -> Result<i64> {
        let mut seq = expected_seq;
        for r in events {
            seq += 1;
            let payload = serde_json::to_string(&r.event).expect("events serialise");
            let inserted = on_tx!(self, c => sqlx::query(
                "INSERT INTO case_events (case_id, region_code, seq, at, actor, department, interface, kind, payload)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .bind(case_id)
                .bind(region_code)
                .bind(seq)
                .bind(r.at)
                .bind(&r.actor)
                .bind(&r.department)
                .bind(interface)
                .bind(r.event.kind().code())
                .bind(payload)
                .execute(c)
                .await
                .map(|r| r.rows_affected()));
            match inserted.map_err(StoreError::from) {
                Err(StoreError::Duplicate(_)) => return Err(StoreError::Stale),
                other => other?,
            };
        }
        let updated = on_tx!(self, c => sqlx::query(
            "UPDATE cases SET last_seq = $1, updated_at = $2 WHERE id = $3 AND last_seq = $4")
            .bind(seq)
            .bind(Utc::now())
            .bind(case_id)
            .bind(expected_seq)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        if updated != 1 {
            return Err(StoreError::Stale);
        }
        Ok(seq)
    }

    pub async fn case_events(&mut self, case_id: i64) -> Result<Vec<Recorded>> {
        let rows: Vec<EventRow> = on_tx!(self, c => sqlx::query_as(
            "SELECT at, actor, department, payload FROM case_events WHERE case_id = $1 ORDER BY seq")
            .bind(case_id)
            .fetch_all(c)
            .await)?;
        rows.into_iter()
            .map(|r| {
                let event: CaseEvent = serde_json::from_str(&r.payload)
                    .map_err(|e| StoreError::Corrupt(format!("案件{case_id}的事件：{e}")))?;
                Ok(Recorded {
                    at: r.at,
                    actor: r.actor,
                    department: r.department,
                    event,
                })
            })
            .collect()
    }

    pub async fn save_projection(
        &mut self,
        case_id: i64,
        region_code: &str,
        status: &str,
        items: &[ItemProjection],
    ) -> Result<()> {
        let now = Utc::now();
        on_tx!(self, c => sqlx::query("UPDATE cases SET status = $1 WHERE id = $2")
            .bind(status)
            .bind(case_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        for i in items {
            on_tx!(self, c => sqlx::query(
                "INSERT INTO case_items (case_id, item_code, region_code, department_code, stage, form_no,
                    next_due, next_due_kind, late, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (case_id, item_code) DO UPDATE SET department_code = excluded.department_code,
                    stage = excluded.stage, form_no = excluded.form_no, next_due = excluded.next_due,
                    next_due_kind = excluded.next_due_kind, late = excluded.late, updated_at = excluded.updated_at")
                .bind(case_id)
                .bind(&i.item_code)
                .bind(region_code)
                .bind(&i.department_code)
                .bind(&i.stage)
                .bind(&i.form_no)
                .bind(i.next_due)
                .bind(&i.next_due_kind)
                .bind(i.late)
                .bind(now)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    pub async fn case_items(&mut self, f: &CaseItemFilter) -> Result<Vec<CaseItemRow>> {
        let mut w = Where::default();
        w.and("ci.region_code LIKE ?", Param::Text(like_prefix(&f.scope)));
        if let Some(d) = &f.department {
            w.and("ci.department_code = ?", Param::Text(d.clone()));
        }
        if !f.stages.is_empty() {
            w.and_in("ci.stage", &f.stages);
        }
        if let Some(d) = f.due_by {
            w.and("ci.next_due <= ?", Param::Date(d));
        }
        let n = w.next();
        let sql = format!(
            "SELECT ci.case_id, ci.item_code, ci.region_code, ci.department_code, ci.stage, ci.form_no,
                    ci.next_due, ci.next_due_kind, ci.late, p.name AS applicant_name, c.filed_at,
                    (SELECT t.name FROM regions t WHERE t.code = SUBSTR(ci.region_code, 1, 9))
                        AS township_name
             FROM case_items ci JOIN cases c ON c.id = ci.case_id JOIN persons p ON p.id = c.applicant_person_id
             {} ORDER BY ci.next_due IS NULL, ci.next_due, ci.case_id LIMIT ${n}",
            w.sql()
        );
        let rows = on_tx!(self, c => bind_params!(sqlx::query_as(&sql), &w.params)
            .bind(f.limit)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// Open cases within a region whose every item is settled, the longest waiting first.
    pub async fn cases_ready_to_close(
        &mut self,
        scope: &str,
        settled: &[&str],
        limit: i64,
    ) -> Result<Vec<ReadyToClose>> {
        let list = settled
            .iter()
            .map(|s| format!("'{}'", s.replace('\'', "")))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT c.id AS case_id, p.name AS applicant_name, c.region_code,
                (SELECT t.name FROM regions t WHERE t.code = SUBSTR(c.region_code, 1, 9))
                    AS township_name,
                MIN(ci.form_no) AS form_no, MAX(ci.updated_at) AS settled_at
             FROM cases c JOIN persons p ON p.id = c.applicant_person_id
             JOIN case_items ci ON ci.case_id = c.id
             WHERE c.status <> 'closed' AND c.region_code LIKE $1
             GROUP BY c.id, p.name, c.region_code
             HAVING SUM(CASE WHEN ci.stage IN ({list}) THEN 0 ELSE 1 END) = 0
             ORDER BY MAX(ci.updated_at), c.id LIMIT $2"
        );
        let rows = on_tx!(self, c => sqlx::query_as(&sql)
            .bind(like_prefix(scope))
            .bind(limit)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    pub async fn case_id_by_form_no(&mut self, form_no: &str) -> Result<Option<i64>> {
        let id = on_tx!(self, c => sqlx::query_scalar("SELECT case_id FROM case_items WHERE form_no = $1")
            .bind(form_no)
            .fetch_optional(c)
            .await)?;
        Ok(id)
    }

    pub async fn cases_of_household(&mut self, household_id: i64) -> Result<Vec<CaseRow>> {
        let sql =
            format!("SELECT {CASE_COLUMNS} FROM cases WHERE household_id = $1 ORDER BY id DESC");
        let rows = on_tx!(self, c => sqlx::query_as(&sql).bind(household_id).fetch_all(c).await)?;
        Ok(rows)
    }

    /// Cases filed in `[from, to)` within `scope`, oldest first.
    pub async fn cases_filed(
        &mut self,
        scope: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<CaseRow>> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE region_code LIKE $1 AND filed_at >= $2 AND filed_at < $3
             ORDER BY filed_at, id LIMIT $4"
        );
        let rows = on_tx!(self, c => sqlx::query_as(&sql)
            .bind(like_prefix(scope))
            .bind(from)
            .bind(to)
            .bind(limit)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// The next value of a named counter (acceptance form numbers), atomically.
    pub async fn next_counter(&mut self, name: &str) -> Result<i64> {
        let v: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO counters (name, value) VALUES ($1, 1)
             ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value")
            .bind(name)
            .fetch_one(c)
            .await)?;
        Ok(v)
    }

    pub async fn insert_organisation(&mut self, o: &Organisation) -> Result<i64> {
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO organisations (name, kind, region_code, services, contact, active)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(&o.name)
            .bind(&o.kind)
            .bind(&o.region_code)
            .bind(&o.services)
            .bind(&o.contact)
            .bind(o.active)
            .fetch_one(c)
            .await)?;
        Ok(id)
    }

    pub async fn organisations(&mut self, scope: &str) -> Result<Vec<Organisation>> {
        // Organisations of the county serve everyone in it; township ones their township.
        let county = &scope[..scope.len().min(6)];
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT id, name, kind, region_code, services, contact, active FROM organisations
             WHERE active AND (region_code = $1 OR region_code LIKE $2) ORDER BY name")
            .bind(county)
            .bind(like_prefix(scope))
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// Every organisation registered within `scope`, withdrawn ones too (for managing them).
    pub async fn all_organisations(&mut self, scope: &str) -> Result<Vec<Organisation>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT id, name, kind, region_code, services, contact, active FROM organisations
             WHERE region_code LIKE $1 ORDER BY active DESC, name")
            .bind(like_prefix(scope))
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    pub async fn update_organisation(&mut self, o: &Organisation) -> Result<()> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE organisations SET name = $2, kind = $3, region_code = $4, services = $5,
             contact = $6, active = $7 WHERE id = $1")
            .bind(o.id)
            .bind(&o.name)
            .bind(&o.kind)
            .bind(&o.region_code)
            .bind(&o.services)
            .bind(&o.contact)
            .bind(o.active)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(crate::StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn organisation(&mut self, id: i64) -> Result<Option<Organisation>> {
        let row = on_tx!(self, c => sqlx::query_as(
            "SELECT id, name, kind, region_code, services, contact, active FROM organisations WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await)?;
        Ok(row)
    }
}
