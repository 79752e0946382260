//! Social forces and the public's own door: consents to verification and to sharing needs,
//! needs published to organisations and their commitments, charity and social-work projects,
//! volunteers with their logged services and points, and residence permits of new citizens.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::{like_prefix, on_tx, Result, StoreError, Tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ConsentRecord {
    pub id: i64,
    pub household_id: i64,
    pub person_id: i64,
    pub case_id: Option<i64>,
    /// verification (授权核对) or share_needs (同意向社会组织发布需求).
    pub kind: String,
    pub channel: String,
    pub text: String,
    pub given_at: DateTime<Utc>,
    pub recorded_by: String,
    pub ip: String,
}

/// A material an applicant uploaded: the file lies in the upload directory under `stored_as`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MaterialRecord {
    pub id: i64,
    pub case_id: i64,
    pub region_code: String,
    pub material: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub stored_as: String,
    pub uploaded_at: DateTime<Utc>,
    pub ip: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PublishedNeedRecord {
    pub id: i64,
    pub household_id: i64,
    pub plan_id: i64,
    pub need_index: i64,
    /// The township, never finer.
    pub region_code: String,
    pub cause: String,
    pub description: String,
    pub quantity: i64,
    pub unit: String,
    pub status: String,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
    pub revision: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CommitmentRecord {
    pub id: i64,
    pub need_id: i64,
    pub organisation_id: i64,
    pub quantity: i64,
    pub status: String,
    pub note: String,
    pub committed_by: String,
    pub committed_at: DateTime<Utc>,
    pub delivered_by: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ProjectRecord {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub organisation_id: Option<i64>,
    pub region_code: String,
    pub year: i64,
    pub target_fen: i64,
    pub raised_fen: i64,
    pub city_fen: i64,
    pub township_fen: i64,
    pub government_bought: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct VolunteerRecord {
    pub id: i64,
    pub name: String,
    pub organisation_id: i64,
    pub region_code: String,
    pub show_on_board: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ServiceLogRecord {
    pub id: i64,
    pub volunteer_id: i64,
    pub household_id: Option<i64>,
    pub region_code: String,
    pub kind: String,
    pub service_date: NaiveDate,
    pub hours_tenths: i64,
    pub note: String,
    pub status: String,
    pub logged_by: String,
    pub logged_at: DateTime<Utc>,
    pub verified_by: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
}

/// A volunteer's points in a period, for the honour board.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PointsRow {
    pub volunteer_id: i64,
    pub name: String,
    pub organisation_id: i64,
    pub region_code: String,
    pub show_on_board: bool,
    pub points: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PermitRow {
    pub person_id: i64,
    pub name: String,
    pub birth_date: NaiveDate,
    pub id_number_masked: String,
    pub region_code: String,
    pub issued_on: NaiveDate,
    pub resident_since: NaiveDate,
    pub working: bool,
    pub points: i64,
}

const NEED_COLUMNS: &str = "id, household_id, plan_id, need_index, region_code, cause,
    description, quantity, unit, status, published_by, published_at, revision";
const COMMITMENT_COLUMNS: &str = "id, need_id, organisation_id, quantity, status, note,
    committed_by, committed_at, delivered_by, delivered_at";
const LOG_COLUMNS: &str = "id, volunteer_id, household_id, region_code, kind, service_date,
    hours_tenths, note, status, logged_by, logged_at, verified_by, verified_at";

impl Tx {
    pub async fn insert_consent(&mut self, c: &ConsentRecord) -> Result<i64> {
        Ok(on_tx!(self, x => sqlx::query_scalar(
            "INSERT INTO consents (household_id, person_id, case_id, kind, channel, text,
                given_at, recorded_by, ip) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
            .bind(c.household_id).bind(c.person_id).bind(c.case_id).bind(&c.kind)
            .bind(&c.channel).bind(&c.text).bind(c.given_at).bind(&c.recorded_by).bind(&c.ip)
            .fetch_one(x)
            .await)?)
    }

    /// Consents of a household of one kind, newest first.
    pub async fn consents(&mut self, household: i64, kind: &str) -> Result<Vec<ConsentRecord>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT id, household_id, person_id, case_id, kind, channel, text, given_at,
                    recorded_by, ip FROM consents WHERE household_id = $1 AND kind = $2
             ORDER BY id DESC")
            .bind(household)
            .bind(kind)
            .fetch_all(c)
            .await)?)
    }

    /// Records an uploaded material once per case and content; false when it was there.
    pub async fn insert_material(&mut self, m: &MaterialRecord) -> Result<bool> {
        let seen: Option<i64> = on_tx!(self, c => sqlx::query_scalar(
            "SELECT id FROM case_materials WHERE case_id = $1 AND sha256 = $2")
            .bind(m.case_id).bind(&m.sha256)
            .fetch_optional(c)
            .await)?;
        if seen.is_some() {
            return Ok(false);
        }
        on_tx!(self, c => sqlx::query(
            "INSERT INTO case_materials (case_id, region_code, material, file_name, content_type,
                size, sha256, stored_as, uploaded_at, ip)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(m.case_id).bind(&m.region_code).bind(&m.material).bind(&m.file_name)
            .bind(&m.content_type).bind(m.size).bind(&m.sha256).bind(&m.stored_as)
            .bind(m.uploaded_at).bind(&m.ip)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(true)
    }

    pub async fn materials_of(&mut self, case_id: i64) -> Result<Vec<MaterialRecord>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT id, case_id, region_code, material, file_name, content_type, size, sha256,
                    stored_as, uploaded_at, ip FROM case_materials WHERE case_id = $1 ORDER BY id")
            .bind(case_id)
            .fetch_all(c)
            .await)?)
    }

    pub async fn insert_published_need(&mut self, n: &PublishedNeedRecord) -> Result<i64> {
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO published_needs (household_id, plan_id, need_index, region_code, cause,
                description, quantity, unit, status, published_by, published_at, revision)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0) RETURNING id")
            .bind(n.household_id).bind(n.plan_id).bind(n.need_index).bind(&n.region_code)
            .bind(&n.cause).bind(&n.description).bind(n.quantity).bind(&n.unit).bind(&n.status)
            .bind(&n.published_by).bind(n.published_at)
            .fetch_one(c)
            .await)?)
    }

    pub async fn published_need(&mut self, id: i64) -> Result<Option<PublishedNeedRecord>> {
        let sql = format!("SELECT {NEED_COLUMNS} FROM published_needs WHERE id = $1");
        Ok(on_tx!(self, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?)
    }

    /// Needs of townships under `scope`, newest first; `status` narrows.
    pub async fn published_needs(
        &mut self,
        scope: &str,
        status: Option<&str>,
    ) -> Result<Vec<PublishedNeedRecord>> {
        let sql = format!(
            "SELECT {NEED_COLUMNS} FROM published_needs WHERE region_code LIKE $1
               AND ($2 IS NULL OR status = $2) ORDER BY id DESC"
        );
        Ok(on_tx!(self, c => sqlx::query_as(&sql)
            .bind(like_prefix(scope))
            .bind(status)
            .fetch_all(c)
            .await)?)
    }

    /// Moves a need to `status`; false when someone changed it since `revision`.
    pub async fn set_need_status(&mut self, id: i64, status: &str, revision: i64) -> Result<bool> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE published_needs SET status = $1, revision = revision + 1
             WHERE id = $2 AND revision = $3")
            .bind(status).bind(id).bind(revision)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn insert_commitment(&mut self, c: &CommitmentRecord) -> Result<i64> {
        Ok(on_tx!(self, x => sqlx::query_scalar(
            "INSERT INTO need_commitments (need_id, organisation_id, quantity, status, note,
                committed_by, committed_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(c.need_id).bind(c.organisation_id).bind(c.quantity).bind(&c.status)
            .bind(&c.note).bind(&c.committed_by).bind(c.committed_at)
            .fetch_one(x)
            .await)?)
    }

    pub async fn commitment(&mut self, id: i64) -> Result<Option<CommitmentRecord>> {
        let sql = format!("SELECT {COMMITMENT_COLUMNS} FROM need_commitments WHERE id = $1");
        Ok(on_tx!(self, c => sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(c)
            .await)?)
    }

    pub async fn commitments_of(&mut self, need: i64) -> Result<Vec<CommitmentRecord>> {
        let sql = format!(
            "SELECT {COMMITMENT_COLUMNS} FROM need_commitments WHERE need_id = $1 ORDER BY id"
        );
        Ok(on_tx!(self, c => sqlx::query_as(&sql)
            .bind(need)
            .fetch_all(c)
            .await)?)
    }

    /// Marks a commitment delivered once; false when it was already.
    pub async fn deliver_commitment(
        &mut self,
        id: i64,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE need_commitments SET status = 'delivered', delivered_by = $1, delivered_at = $2
             WHERE id = $3 AND status = 'committed'")
            .bind(by).bind(at).bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Sets the status of one measure of a plan version (its needs are kept as JSON).
    pub async fn set_measure_status(&mut self, plan: i64, index: i64, status: &str) -> Result<()> {
        let needs: String = on_tx!(self, c => sqlx::query_scalar(
            "SELECT needs FROM plans WHERE id = $1")
            .bind(plan)
            .fetch_one(c)
            .await)?;
        let mut value: serde_json::Value = serde_json::from_str(&needs)
            .map_err(|e| StoreError::Corrupt(format!("帮扶计划{plan}的需求：{e}")))?;
        if let Some(m) = value
            .get_mut(index as usize)
            .and_then(|n| n.get_mut("measure"))
            .and_then(|m| m.as_object_mut())
        {
            m.insert("status".into(), serde_json::Value::String(status.into()));
        }
        on_tx!(self, c => sqlx::query("UPDATE plans SET needs = $1 WHERE id = $2")
            .bind(value.to_string())
            .bind(plan)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The newest version of every household plan under `scope`: (plan, household, region,
    /// needs JSON, causes JSON).
    pub async fn latest_plans(
        &mut self,
        scope: &str,
    ) -> Result<Vec<(i64, i64, String, String, String)>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT p.id, p.household_id, p.region_code, p.needs, p.causes FROM plans p
             WHERE p.region_code LIKE $1 AND p.version =
                (SELECT MAX(q.version) FROM plans q WHERE q.household_id = p.household_id)
             ORDER BY p.household_id")
            .bind(like_prefix(scope))
            .fetch_all(c)
            .await)?)
    }

    pub async fn insert_project(&mut self, p: &ProjectRecord) -> Result<i64> {
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO projects (kind, name, organisation_id, region_code, year, target_fen,
                raised_fen, city_fen, township_fen, government_bought, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id")
            .bind(&p.kind).bind(&p.name).bind(p.organisation_id).bind(&p.region_code)
            .bind(p.year).bind(p.target_fen).bind(p.raised_fen).bind(p.city_fen)
            .bind(p.township_fen).bind(p.government_bought).bind(&p.created_by).bind(p.created_at)
            .fetch_one(c)
            .await)?)
    }

    pub async fn projects(&mut self, scope: &str, year: i64) -> Result<Vec<ProjectRecord>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT id, kind, name, organisation_id, region_code, year, target_fen, raised_fen,
                    city_fen, township_fen, government_bought, created_by, created_at
             FROM projects WHERE region_code LIKE $1 AND year = $2 ORDER BY id")
            .bind(like_prefix(scope))
            .bind(year)
            .fetch_all(c)
            .await)?)
    }

    pub async fn set_project_raised(&mut self, id: i64, raised_fen: i64) -> Result<bool> {
        let n = on_tx!(self, c => sqlx::query("UPDATE projects SET raised_fen = $1 WHERE id = $2")
            .bind(raised_fen).bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn insert_volunteer(&mut self, v: &VolunteerRecord) -> Result<i64> {
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO volunteers (name, organisation_id, region_code, show_on_board,
                created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(&v.name).bind(v.organisation_id).bind(&v.region_code).bind(v.show_on_board)
            .bind(&v.created_by).bind(v.created_at)
            .fetch_one(c)
            .await)?)
    }

    pub async fn volunteer(&mut self, id: i64) -> Result<Option<VolunteerRecord>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT id, name, organisation_id, region_code, show_on_board, created_by, created_at
             FROM volunteers WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await)?)
    }

    /// Volunteers of one organisation, or of every organisation under `scope`.
    pub async fn volunteers(
        &mut self,
        scope: &str,
        organisation: Option<i64>,
    ) -> Result<Vec<VolunteerRecord>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT id, name, organisation_id, region_code, show_on_board, created_by, created_at
             FROM volunteers WHERE region_code LIKE $1 AND ($2 IS NULL OR organisation_id = $2)
             ORDER BY id")
            .bind(like_prefix(scope))
            .bind(organisation)
            .fetch_all(c)
            .await)?)
    }

    pub async fn insert_service_log(&mut self, l: &ServiceLogRecord) -> Result<i64> {
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO service_logs (volunteer_id, household_id, region_code, kind,
                service_date, hours_tenths, note, status, logged_by, logged_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
            .bind(l.volunteer_id).bind(l.household_id).bind(&l.region_code).bind(&l.kind)
            .bind(l.service_date).bind(l.hours_tenths).bind(&l.note).bind(&l.status)
            .bind(&l.logged_by).bind(l.logged_at)
            .fetch_one(c)
            .await)?)
    }

    pub async fn service_log(&mut self, id: i64) -> Result<Option<ServiceLogRecord>> {
        let sql = format!("SELECT {LOG_COLUMNS} FROM service_logs WHERE id = $1");
        Ok(on_tx!(self, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?)
    }

    /// Services logged for the volunteers of one organisation, or all under `scope`.
    pub async fn service_logs(
        &mut self,
        scope: &str,
        organisation: Option<i64>,
    ) -> Result<Vec<ServiceLogRecord>> {
        let sql = format!(
            "SELECT {LOG_COLUMNS} FROM service_logs l WHERE l.region_code LIKE $1
               AND ($2 IS NULL OR EXISTS (SELECT 1 FROM volunteers v
                     WHERE v.id = l.volunteer_id AND v.organisation_id = $2))
             ORDER BY l.service_date DESC, l.id DESC"
        );
        Ok(on_tx!(self, c => sqlx::query_as(&sql)
            .bind(like_prefix(scope))
            .bind(organisation)
            .fetch_all(c)
            .await)?)
    }

    /// Moves a log from `from` to `to` (logged → verified → corrected) once.
    pub async fn set_log_status(
        &mut self,
        id: i64,
        from: &str,
        to: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE service_logs SET status = $1, verified_by = COALESCE(verified_by, $2),
                verified_at = COALESCE(verified_at, $3)
             WHERE id = $4 AND status = $5")
            .bind(to).bind(by).bind(at).bind(id).bind(from)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn insert_point_entry(
        &mut self,
        volunteer: i64,
        log: Option<i64>,
        points: i64,
        reason: &str,
        month: NaiveDate,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO point_entries (volunteer_id, service_log_id, points, reason, month,
                created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(volunteer).bind(log).bind(points).bind(reason).bind(month).bind(by).bind(at)
            .fetch_one(c)
            .await)?)
    }

    /// Each volunteer's points under `scope` in `[from, until)` months (all time when `from`
    /// is none), most first.
    pub async fn points(
        &mut self,
        scope: &str,
        from: Option<NaiveDate>,
        until: Option<NaiveDate>,
    ) -> Result<Vec<PointsRow>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT v.id AS volunteer_id, v.name, v.organisation_id, v.region_code,
                    v.show_on_board, CAST(COALESCE(SUM(p.points), 0) AS BIGINT) AS points
             FROM volunteers v LEFT JOIN point_entries p ON p.volunteer_id = v.id
                AND ($2 IS NULL OR p.month >= $2) AND ($3 IS NULL OR p.month < $3)
             WHERE v.region_code LIKE $1
             GROUP BY v.id, v.name, v.organisation_id, v.region_code, v.show_on_board
             ORDER BY 6 DESC, v.id")
            .bind(like_prefix(scope))
            .bind(from)
            .bind(until)
            .fetch_all(c)
            .await)?)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn upsert_permit(
        &mut self,
        person: i64,
        region: &str,
        issued_on: NaiveDate,
        resident_since: NaiveDate,
        working: bool,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO residence_permits (person_id, region_code, issued_on, resident_since,
                working, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (person_id) DO UPDATE SET region_code = excluded.region_code,
                issued_on = excluded.issued_on, resident_since = excluded.resident_since,
                working = excluded.working, recorded_by = excluded.recorded_by,
                recorded_at = excluded.recorded_at")
            .bind(person).bind(region).bind(issued_on).bind(resident_since).bind(working)
            .bind(by).bind(at)
            .execute(c).await.map(|r| r.rows_affected()))?;
        on_tx!(self, c => sqlx::query("UPDATE persons SET residence_permit = TRUE WHERE id = $1")
            .bind(person)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Residence-permit holders living under `scope`, with their points.
    pub async fn permits(&mut self, scope: &str) -> Result<Vec<PermitRow>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT r.person_id, p.name, p.birth_date, p.id_number_masked, r.region_code,
                    r.issued_on, r.resident_since, r.working,
                    CAST(COALESCE((SELECT SUM(x.points) FROM permit_points x
                        WHERE x.person_id = r.person_id), 0) AS BIGINT) AS points
             FROM residence_permits r JOIN persons p ON p.id = r.person_id
             WHERE r.region_code LIKE $1 ORDER BY r.region_code, p.name")
            .bind(like_prefix(scope))
            .fetch_all(c)
            .await)?)
    }

    /// Persons under `scope` flagged as holding a residence permit without one recorded yet:
    /// (person, identity number), at most `limit`.
    pub async fn permit_candidates(
        &mut self,
        scope: &str,
        limit: i64,
    ) -> Result<Vec<(i64, String)>> {
        let ids: Vec<i64> = on_tx!(self, c => sqlx::query_scalar(
            "SELECT p.id FROM persons p WHERE p.region_code LIKE $1 AND p.residence_permit
               AND NOT EXISTS (SELECT 1 FROM residence_permits r WHERE r.person_id = p.id)
             ORDER BY p.id LIMIT $2")
            .bind(like_prefix(scope))
            .bind(limit)
            .fetch_all(c)
            .await)?;
        self.identity_numbers(&ids).await
    }

    pub async fn add_permit_points(
        &mut self,
        person: i64,
        points: i64,
        reason: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO permit_points (person_id, points, reason, recorded_by, recorded_at)
             VALUES ($1, $2, $3, $4, $5)")
            .bind(person).bind(points).bind(reason).bind(by).bind(at)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
