//! Those in assistance: enrolments and their append-only changes, one-off awards, review
//! proposals and their decisions, household plans (versioned) and visits.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::{like_prefix, on_tx, Result, Tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EnrolmentRecord {
    pub id: i64,
    pub household_id: i64,
    /// The one person covered, for individual enrolments (单人户, individual allowances).
    pub person_id: Option<i64>,
    /// The catalogue item.
    pub program: String,
    pub region_code: String,
    pub case_id: Option<i64>,
    pub evaluation_id: Option<i64>,
    pub report_id: Option<i64>,
    pub amount_fen: i64,
    /// JSON list of the person ids covered at enrolment.
    pub members: String,
    pub first_month: NaiveDate,
    pub stage: String,
    pub granted_by: String,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_note: String,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub next_review: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
}

const ENROLMENT_COLUMNS: &str = "id, household_id, person_id, program, region_code, case_id,
    evaluation_id, report_id, amount_fen, members, first_month, stage, granted_by, reviewed_by,
    reviewed_at, review_note, confirmed_by, confirmed_at, next_review, created_at";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ChangeRecord {
    pub id: i64,
    pub enrolment_id: i64,
    pub region_code: String,
    pub month: NaiveDate,
    pub kind: String,
    /// The change as JSON (`jiuzhu_domain::enrolment::EnrolmentChange`).
    pub body: String,
    pub reason: String,
    pub recorded_by: String,
    pub approved_by: String,
    pub created_at: DateTime<Utc>,
}

const CHANGE_COLUMNS: &str =
    "id, enrolment_id, region_code, month, kind, body, reason, recorded_by, approved_by, created_at";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AwardRecord {
    pub id: i64,
    pub household_id: i64,
    pub case_id: Option<i64>,
    pub item: String,
    pub region_code: String,
    pub amount_fen: i64,
    pub note: String,
    /// JSON list of the payments in fen: one, or the stages of a staged grant (分期).
    pub stages: String,
    pub granted_by: String,
    pub granted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ReviewRecord {
    pub id: i64,
    pub enrolment_id: i64,
    pub region_code: String,
    pub month: NaiveDate,
    /// unchanged, adjust, gradual_exit, end
    pub outcome: String,
    /// The change the outcome makes, as JSON; none when nothing changes.
    pub change_body: Option<String>,
    /// What the outcome rests on, as JSON: the verification and the evaluation.
    pub basis: String,
    pub proposed_by: String,
    pub proposed_at: DateTime<Utc>,
    /// proposed, confirmed, rejected
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: String,
}

const REVIEW_COLUMNS: &str = "id, enrolment_id, region_code, month, outcome, change_body, basis,
    proposed_by, proposed_at, status, decided_by, decided_at, decision_note";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PlanRecord {
    pub id: i64,
    pub household_id: i64,
    pub region_code: String,
    pub version: i64,
    pub causes: String,
    pub needs: String,
    pub changes: String,
    pub based_on: String,
    /// draft, approved
    pub status: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
}

const PLAN_COLUMNS: &str = "id, household_id, region_code, version, causes, needs, changes,
    based_on, status, created_by, created_at, approved_by, approved_at";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct VisitRecord {
    pub id: i64,
    pub household_id: i64,
    pub region_code: String,
    pub visit_date: NaiveDate,
    pub visitor: String,
    pub findings: String,
    pub follow_up: String,
    pub recorded_by: String,
    pub created_at: DateTime<Utc>,
}

const VISIT_COLUMNS: &str =
    "id, household_id, region_code, visit_date, visitor, findings, follow_up, recorded_by, created_at";

impl Tx {
    pub async fn insert_enrolment(&mut self, e: &EnrolmentRecord) -> Result<i64> {
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO enrolments (household_id, person_id, program, region_code, case_id,
                evaluation_id, report_id, amount_fen, members, first_month, stage, granted_by,
                reviewed_by, reviewed_at, review_note, confirmed_by, confirmed_at, next_review,
                created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                $18, $19) RETURNING id")
            .bind(e.household_id)
            .bind(e.person_id)
            .bind(&e.program)
            .bind(&e.region_code)
            .bind(e.case_id)
            .bind(e.evaluation_id)
            .bind(e.report_id)
            .bind(e.amount_fen)
            .bind(&e.members)
            .bind(e.first_month)
            .bind(&e.stage)
            .bind(&e.granted_by)
            .bind(&e.reviewed_by)
            .bind(e.reviewed_at)
            .bind(&e.review_note)
            .bind(&e.confirmed_by)
            .bind(e.confirmed_at)
            .bind(e.next_review)
            .bind(e.created_at)
            .fetch_one(c)
            .await)?;
        Ok(id)
    }

    pub async fn enrolment(&mut self, id: i64) -> Result<Option<EnrolmentRecord>> {
        let sql = format!("SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE id = $1");
        let row = on_tx!(self, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?;
        Ok(row)
    }

    pub async fn enrolments_of_household(
        &mut self,
        household_id: i64,
    ) -> Result<Vec<EnrolmentRecord>> {
        let sql = format!(
            "SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE household_id = $1 ORDER BY id"
        );
        let rows = on_tx!(self, c => sqlx::query_as(&sql).bind(household_id).fetch_all(c).await)?;
        Ok(rows)
    }

    /// Enrolments within a region, optionally of one program, in region then id order.
    pub async fn enrolments_in(
        &mut self,
        scope: &str,
        program: Option<&str>,
    ) -> Result<Vec<EnrolmentRecord>> {
        let sql = format!(
            "SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE region_code LIKE $1
               AND ($2 IS NULL OR program = $2) ORDER BY region_code, id"
        );
        let rows = on_tx!(self, c => sqlx::query_as(&sql)
            .bind(like_prefix(scope))
            .bind(program)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// 审核 done: the enrolment waits for confirmation. False when it was not waiting for review
    /// (someone else did it first).
    pub async fn mark_enrolment_reviewed(
        &mut self,
        id: i64,
        by: &str,
        note: &str,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE enrolments SET stage = 'pending_confirmation', reviewed_by = $1,
                reviewed_at = $2, review_note = $3
             WHERE id = $4 AND stage = 'pending_review'")
            .bind(by)
            .bind(at)
            .bind(note)
            .bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// 确认: the enrolment pays from `first_month`. False when it was not waiting.
    pub async fn confirm_enrolment(
        &mut self,
        id: i64,
        by: &str,
        at: DateTime<Utc>,
        first_month: NaiveDate,
        next_review: NaiveDate,
    ) -> Result<bool> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE enrolments SET stage = 'confirmed', confirmed_by = $1, confirmed_at = $2,
                first_month = $3, next_review = $4
             WHERE id = $5 AND stage = 'pending_confirmation'")
            .bind(by)
            .bind(at)
            .bind(first_month)
            .bind(next_review)
            .bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Not confirmed, at review or at confirmation, with the reason. False when not waiting.
    pub async fn refuse_enrolment(
        &mut self,
        id: i64,
        by: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE enrolments SET stage = 'refused', confirmed_by = $1, confirmed_at = $2,
                review_note = $3
             WHERE id = $4 AND stage IN ('pending_review', 'pending_confirmation')")
            .bind(by)
            .bind(at)
            .bind(reason)
            .bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn set_next_review(&mut self, id: i64, due: Option<NaiveDate>) -> Result<()> {
        on_tx!(self, c => sqlx::query("UPDATE enrolments SET next_review = $1 WHERE id = $2")
            .bind(due)
            .bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn insert_change(&mut self, r: &ChangeRecord) -> Result<i64> {
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO enrolment_changes (enrolment_id, region_code, month, kind, body, reason,
                recorded_by, approved_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
            .bind(r.enrolment_id)
            .bind(&r.region_code)
            .bind(r.month)
            .bind(&r.kind)
            .bind(&r.body)
            .bind(&r.reason)
            .bind(&r.recorded_by)
            .bind(&r.approved_by)
            .bind(r.created_at)
            .fetch_one(c)
            .await)?;
        Ok(id)
    }

    pub async fn changes_of(&mut self, enrolment_id: i64) -> Result<Vec<ChangeRecord>> {
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM enrolment_changes WHERE enrolment_id = $1 ORDER BY id"
        );
        let rows = on_tx!(self, c => sqlx::query_as(&sql).bind(enrolment_id).fetch_all(c).await)?;
        Ok(rows)
    }

    /// Every change within a region, in enrolment then recording order.
    pub async fn changes_in(&mut self, scope: &str) -> Result<Vec<ChangeRecord>> {
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM enrolment_changes WHERE region_code LIKE $1
             ORDER BY enrolment_id, id"
        );
        let rows = on_tx!(self, c => sqlx::query_as(&sql)
            .bind(like_prefix(scope))
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    pub async fn insert_award(&mut self, a: &AwardRecord) -> Result<i64> {
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO awards (household_id, case_id, item, region_code, amount_fen, note,
                granted_by, granted_at, stages)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
            .bind(a.household_id)
            .bind(a.case_id)
            .bind(&a.item)
            .bind(&a.region_code)
            .bind(a.amount_fen)
            .bind(&a.note)
            .bind(&a.granted_by)
            .bind(a.granted_at)
            .bind(&a.stages)
            .fetch_one(c)
            .await)?;
        Ok(id)
    }

    pub async fn award(&mut self, id: i64) -> Result<Option<AwardRecord>> {
        let row = on_tx!(self, c => sqlx::query_as(
            "SELECT id, household_id, case_id, item, region_code, amount_fen, note, stages,
                granted_by, granted_at FROM awards WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await)?;
        Ok(row)
    }

    pub async fn awards_of_household(&mut self, household_id: i64) -> Result<Vec<AwardRecord>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT id, household_id, case_id, item, region_code, amount_fen, note, stages,
                granted_by, granted_at FROM awards WHERE household_id = $1 ORDER BY id")
            .bind(household_id)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    pub async fn insert_review(&mut self, r: &ReviewRecord) -> Result<i64> {
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO enrolment_reviews (enrolment_id, region_code, month, outcome, change_body,
                basis, proposed_by, proposed_at, status, decision_note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'proposed', '') RETURNING id")
            .bind(r.enrolment_id)
            .bind(&r.region_code)
            .bind(r.month)
            .bind(&r.outcome)
            .bind(&r.change_body)
            .bind(&r.basis)
            .bind(&r.proposed_by)
            .bind(r.proposed_at)
            .fetch_one(c)
            .await)?;
        Ok(id)
    }

    pub async fn review(&mut self, id: i64) -> Result<Option<ReviewRecord>> {
        let sql = format!("SELECT {REVIEW_COLUMNS} FROM enrolment_reviews WHERE id = $1");
        let row = on_tx!(self, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?;
        Ok(row)
    }

    pub async fn reviews_of(&mut self, enrolment_id: i64) -> Result<Vec<ReviewRecord>> {
        let sql = format!(
            "SELECT {REVIEW_COLUMNS} FROM enrolment_reviews WHERE enrolment_id = $1 ORDER BY id"
        );
        let rows = on_tx!(self, c => sqlx::query_as(&sql).bind(enrolment_id).fetch_all(c).await)?;
        Ok(rows)
    }

    /// Review proposals within a region in a status, oldest first.
    pub async fn reviews_in(&mut self, scope: &str, status: &str) -> Result<Vec<ReviewRecord>> {
        let sql = format!(
            "SELECT {REVIEW_COLUMNS} FROM enrolment_reviews WHERE region_code LIKE $1
               AND status = $2 ORDER BY id"
        );
        let rows = on_tx!(self, c => sqlx::query_as(&sql)
            .bind(like_prefix(scope))
            .bind(status)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// Decides a proposal once: false when it was decided already.
    pub async fn decide_review(
        &mut self,
        id: i64,
        status: &str,
        by: &str,
        at: DateTime<Utc>,
        note: &str,
    ) -> Result<bool> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE enrolment_reviews SET status = $1, decided_by = $2, decided_at = $3,
                decision_note = $4 WHERE id = $5 AND status = 'proposed'")
            .bind(status)
            .bind(by)
            .bind(at)
            .bind(note)
            .bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn insert_plan(&mut self, p: &PlanRecord) -> Result<i64> {
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO plans (household_id, region_code, version, causes, needs, changes,
                based_on, status, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
            .bind(p.household_id)
            .bind(&p.region_code)
            .bind(p.version)
            .bind(&p.causes)
            .bind(&p.needs)
            .bind(&p.changes)
            .bind(&p.based_on)
            .bind(&p.status)
            .bind(&p.created_by)
            .bind(p.created_at)
            .fetch_one(c)
            .await)?;
        Ok(id)
    }

    pub async fn plans_of(&mut self, household_id: i64) -> Result<Vec<PlanRecord>> {
        let sql =
            format!("SELECT {PLAN_COLUMNS} FROM plans WHERE household_id = $1 ORDER BY version");
        let rows = on_tx!(self, c => sqlx::query_as(&sql).bind(household_id).fetch_all(c).await)?;
        Ok(rows)
    }

    pub async fn plan(&mut self, id: i64) -> Result<Option<PlanRecord>> {
        let sql = format!("SELECT {PLAN_COLUMNS} FROM plans WHERE id = $1");
        let row = on_tx!(self, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?;
        Ok(row)
    }

    pub async fn approve_plan(&mut self, id: i64, by: &str, at: DateTime<Utc>) -> Result<bool> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE plans SET status = 'approved', approved_by = $1, approved_at = $2
             WHERE id = $3 AND status = 'draft'")
            .bind(by)
            .bind(at)
            .bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn insert_visit(&mut self, v: &VisitRecord) -> Result<i64> {
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO visits (household_id, region_code, visit_date, visitor, findings,
                follow_up, recorded_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
            .bind(v.household_id)
            .bind(&v.region_code)
            .bind(v.visit_date)
            .bind(&v.visitor)
            .bind(&v.findings)
            .bind(&v.follow_up)
            .bind(&v.recorded_by)
            .bind(v.created_at)
            .fetch_one(c)
            .await)?;
        Ok(id)
    }

    pub async fn visits_of(&mut self, household_id: i64) -> Result<Vec<VisitRecord>> {
        let sql = format!(
            "SELECT {VISIT_COLUMNS} FROM visits WHERE household_id = $1 ORDER BY visit_date DESC, id DESC"
        );
        let rows = on_tx!(self, c => sqlx::query_as(&sql).bind(household_id).fetch_all(c).await)?;
        Ok(rows)
    }

    /// The latest visit date of each household within a region.
    pub async fn last_visits_in(&mut self, scope: &str) -> Result<Vec<(i64, NaiveDate)>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT household_id, MAX(visit_date) FROM visits WHERE region_code LIKE $1
             GROUP BY household_id")
            .bind(like_prefix(scope))
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }
}

/// The person an enrolment is listed under: the one covered, or the household's head.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EnrolmentPerson {
    pub enrolment_id: i64,
    pub person_id: i64,
    pub name: String,
    pub id_number_masked: String,
}

impl Tx {
    pub async fn enrolment_people(&mut self, scope: &str) -> Result<Vec<EnrolmentPerson>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT e.id AS enrolment_id, p.id AS person_id, p.name, p.id_number_masked
             FROM enrolments e JOIN households h ON h.id = e.household_id
             JOIN persons p ON p.id = COALESCE(e.person_id, h.head_person_id)
             WHERE e.region_code LIKE $1")
            .bind(like_prefix(scope))
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }
}

/// Many rows at once, for the demo city and migrations of a bureau's existing register.
impl Tx {
    /// Inserts enrolments; each row's (household, program, person) must be distinct within the
    /// call. Returns their ids in the order given.
    pub async fn insert_enrolments(&mut self, rows: &[EnrolmentRecord]) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(1000) {
            let sql = format!(
                "INSERT INTO enrolments (household_id, person_id, program, region_code, case_id,
                    evaluation_id, report_id, amount_fen, members, first_month, stage, granted_by,
                    reviewed_by, reviewed_at, review_note, confirmed_by, confirmed_at, next_review,
                    created_at)
                 VALUES {} RETURNING id, household_id, program, person_id",
                crate::value_rows(self.backend(), chunk.len(), 19)
            );
            let got: Vec<(i64, i64, String, Option<i64>)> = on_tx!(self, c => {
                let mut q = sqlx::query_as(&sql);
                for e in chunk {
                    q = q.bind(e.household_id).bind(e.person_id).bind(&e.program)
                        .bind(&e.region_code).bind(e.case_id).bind(e.evaluation_id)
                        .bind(e.report_id).bind(e.amount_fen).bind(&e.members)
                        .bind(e.first_month).bind(&e.stage).bind(&e.granted_by)
                        .bind(&e.reviewed_by).bind(e.reviewed_at).bind(&e.review_note)
                        .bind(&e.confirmed_by).bind(e.confirmed_at).bind(e.next_review)
                        .bind(e.created_at);
                }
                q.fetch_all(c).await
            })?;
            let by_key: std::collections::HashMap<(i64, String, Option<i64>), i64> = got
                .into_iter()
                .map(|(id, h, p, person)| ((h, p, person), id))
                .collect();
            for e in chunk {
                ids.push(
                    *by_key
                        .get(&(e.household_id, e.program.clone(), e.person_id))
                        .ok_or(crate::StoreError::NotFound)?,
                );
            }
        }
        Ok(ids)
    }

    pub async fn insert_changes(&mut self, rows: &[ChangeRecord]) -> Result<()> {
        for chunk in rows.chunks(1000) {
            let sql = format!(
                "INSERT INTO enrolment_changes (enrolment_id, region_code, month, kind, body,
                    reason, recorded_by, approved_by, created_at) VALUES {}",
                crate::value_rows(self.backend(), chunk.len(), 9)
            );
            on_tx!(self, c => {
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = q.bind(r.enrolment_id).bind(&r.region_code).bind(r.month).bind(&r.kind)
                        .bind(&r.body).bind(&r.reason).bind(&r.recorded_by)
                        .bind(&r.approved_by).bind(r.created_at);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    pub async fn insert_visits(&mut self, rows: &[VisitRecord]) -> Result<()> {
        for chunk in rows.chunks(1000) {
            let sql = format!(
                "INSERT INTO visits (household_id, region_code, visit_date, visitor, findings,
                    follow_up, recorded_by, created_at) VALUES {}",
                crate::value_rows(self.backend(), chunk.len(), 8)
            );
            on_tx!(self, c => {
                let mut q = sqlx::query(&sql);
                for v in chunk {
                    q = q.bind(v.household_id).bind(&v.region_code).bind(v.visit_date)
                        .bind(&v.visitor).bind(&v.findings).bind(&v.follow_up)
                        .bind(&v.recorded_by).bind(v.created_at);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    pub async fn insert_plans(&mut self, rows: &[PlanRecord]) -> Result<()> {
        for chunk in rows.chunks(1000) {
            let sql = format!(
                "INSERT INTO plans (household_id, region_code, version, causes, needs, changes,
                    based_on, status, created_by, created_at, approved_by, approved_at) VALUES {}",
                crate::value_rows(self.backend(), chunk.len(), 12)
            );
            on_tx!(self, c => {
                let mut q = sqlx::query(&sql);
                for p in chunk {
                    q = q.bind(p.household_id).bind(&p.region_code).bind(p.version)
                        .bind(&p.causes).bind(&p.needs).bind(&p.changes).bind(&p.based_on)
                        .bind(&p.status).bind(&p.created_by).bind(p.created_at)
                        .bind(&p.approved_by).bind(p.approved_at);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }
}

impl Tx {
    /// The person keys of a feed file's facts.
    pub async fn fact_keys_of_file(&mut self, file_id: i64) -> Result<Vec<i64>> {
        let rows = on_tx!(self, c => sqlx::query_scalar(
            "SELECT DISTINCT person_key FROM facts WHERE file_id = $1")
            .bind(file_id)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// Each confirmed enrolment's members' blind indexes: (enrolment, person, index).
    pub async fn enrolled_indexes(&mut self) -> Result<Vec<(i64, i64, Option<String>)>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT e.id, p.id, p.id_number_index FROM enrolments e
             JOIN household_members m ON m.household_id = e.household_id AND m.to_date IS NULL
             JOIN persons p ON p.id = m.person_id
             WHERE e.stage = 'confirmed'")
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }
}

impl Tx {
    /// Full identity numbers of these persons, decrypted (for an audited reveal).
    pub async fn identity_numbers(&mut self, ids: &[i64]) -> Result<Vec<(i64, String)>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id, id_number_cipher FROM persons WHERE id IN {}",
                crate::value_rows(self.backend(), 1, chunk.len())
            );
            let rows: Vec<(i64, Vec<u8>)> = on_tx!(self, c => {
                let mut q = sqlx::query_as(&sql);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(c).await
            })?;
            for (id, blob) in rows {
                out.push((id, self.cipher().decrypt(crate::people::ID_CONTEXT, &blob)?));
            }
        }
        Ok(out)
    }
}

/// An enrolment as the register lists it: what the month's state is derived for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EnrolmentLine {
    pub id: i64,
    pub household_id: i64,
    pub person_id: Option<i64>,
    pub program: String,
    pub region_code: String,
    pub first_month: NaiveDate,
    pub next_review: Option<NaiveDate>,
}

impl Tx {
    /// Confirmed enrolments within a region, optionally of one program: the register's lines,
    /// read with only the columns it needs (a city's register reads tens of thousands).
    pub async fn enrolment_lines(
        &mut self,
        scope: &str,
        program: Option<&str>,
    ) -> Result<Vec<EnrolmentLine>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT id, household_id, person_id, program, region_code, first_month, next_review
             FROM enrolments WHERE region_code LIKE $1 AND stage = 'confirmed'
               AND ($2 IS NULL OR program = $2)")
            .bind(like_prefix(scope))
            .bind(program)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// Every change within a region: (enrolment, month, change as JSON).
    pub async fn change_bodies(&mut self, scope: &str) -> Result<Vec<(i64, NaiveDate, String)>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT enrolment_id, month, body FROM enrolment_changes WHERE region_code LIKE $1
             ORDER BY enrolment_id, id")
            .bind(like_prefix(scope))
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// The persons these enrolments are listed under.
    pub async fn enrolment_people_of(&mut self, ids: &[i64]) -> Result<Vec<EnrolmentPerson>> {
        self.fetch_for_ids(
            "SELECT e.id AS enrolment_id, p.id AS person_id, p.name, p.id_number_masked
             FROM enrolments e JOIN households h ON h.id = e.household_id
             JOIN persons p ON p.id = COALESCE(e.person_id, h.head_person_id)
             WHERE e.id IN {ids}",
            ids,
            500,
        )
        .await
    }

    /// Enrolments within a region listed under a person whose name contains `part`.
    pub async fn enrolments_named(&mut self, scope: &str, part: &str) -> Result<Vec<i64>> {
        let rows = on_tx!(self, c => sqlx::query_scalar(
            "SELECT e.id FROM enrolments e JOIN households h ON h.id = e.household_id
             JOIN persons p ON p.id = COALESCE(e.person_id, h.head_person_id)
             WHERE e.region_code LIKE $1 AND p.name LIKE $2")
            .bind(like_prefix(scope))
            .bind(format!("%{}%", part.replace(['%', '_'], "")))
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }
}
