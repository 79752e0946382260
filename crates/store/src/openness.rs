//! Public notices (公示) and the objections to them, complaints and reports (投诉举报) with
//! their transfers, random inspections (双随机) and the figures of the monthly statistics.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::{like_prefix, on_tx, Result, Tx};

/// The context an objector's or complainant's contact is encrypted under.
pub const CONTACT_CONTEXT: &str = "openness.contact";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct NoticeRecord {
    pub id: i64,
    pub program: String,
    pub region_code: String,
    pub title: String,
    pub decided_from: NaiveDate,
    pub decided_to: NaiveDate,
    pub published_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub mask: String,
    pub contact: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct NoticeEntryRecord {
    pub id: i64,
    pub notice_id: i64,
    pub seq: i64,
    pub kind: String,
    /// What was decided, once per region: `review:<enrolment>` or `change:<change id>`.
    pub decision: String,
    pub enrolment_id: i64,
    pub region_code: String,
    pub masked_name: String,
    pub members: i64,
    pub per_capita_fen: Option<i64>,
    pub amount_fen: i64,
    pub place: String,
    pub note: String,
}

/// A decision a notice may publish: a township's review of an enrolment, or a change to one.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Decision {
    pub decision: String,
    pub kind: String,
    pub enrolment_id: i64,
    pub household_id: i64,
    pub region_code: String,
    pub members: String,
    pub amount_fen: i64,
    pub evaluation_id: Option<i64>,
    pub body: Option<String>,
    pub decided_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ObjectionRecord {
    pub id: i64,
    pub number: String,
    pub query_code: String,
    pub notice_id: i64,
    pub entry_id: i64,
    pub enrolment_id: i64,
    pub region_code: String,
    pub channel: String,
    pub content: String,
    #[serde(skip)]
    pub contact_cipher: Option<Vec<u8>>,
    pub recorded_by: Option<String>,
    pub received_at: DateTime<Utc>,
    pub status: String,
    pub method: Option<String>,
    pub visit_date: Option<NaiveDate>,
    pub findings: Option<String>,
    pub participants: Option<String>,
    pub votes_for: Option<i64>,
    pub votes_against: Option<i64>,
    pub votes_abstain: Option<i64>,
    pub upheld: Option<bool>,
    pub reply: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

const OBJECTION_COLUMNS: &str = "id, number, query_code, notice_id, entry_id, enrolment_id,
    region_code, channel, content, contact_cipher, recorded_by, received_at, status, method,
    visit_date, findings, participants, votes_for, votes_against, votes_abstain, upheld, reply,
    answered_by, answered_at";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ComplaintRecord {
    pub id: i64,
    pub number: String,
    pub query_code: String,
    pub channel: String,
    pub category: String,
    pub region_code: String,
    pub content: String,
    pub anonymous: bool,
    #[serde(skip)]
    pub contact_cipher: Option<Vec<u8>>,
    pub about_user: Option<String>,
    pub about_unit: Option<String>,
    pub household_id: Option<i64>,
    pub received_by: Option<String>,
    pub owner_unit: String,
    pub offered_unit: Option<String>,
    pub received_on: NaiveDate,
    pub due: NaiveDate,
    pub status: String,
    pub finding: Option<String>,
    pub reply: Option<String>,
    pub recovered_fen: Option<i64>,
    pub receivable_id: Option<i64>,
    pub answered_by: Option<String>,
    pub answered_on: Option<NaiveDate>,
    pub revision: i64,
}

const COMPLAINT_COLUMNS: &str = "id, number, query_code, channel, category, region_code,
    content, anonymous, contact_cipher, about_user, about_unit, household_id, received_by,
    owner_unit, offered_unit, received_on, due, status, finding, reply, recovered_fen,
    receivable_id, answered_by, answered_on, revision";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ComplaintEvent {
    pub id: i64,
    pub complaint_id: i64,
    pub kind: String,
    pub unit: Option<String>,
    pub note: String,
    pub by_user: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct InspectionPlanRecord {
    pub id: i64,
    pub title: String,
    pub month: NaiveDate,
    pub scope: String,
    /// JSON list of program codes.
    pub programs: String,
    pub percent: i64,
    pub seed: String,
    /// JSON list of [username, region] of the inspectors drawn from.
    pub pool: String,
    pub digest: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct InspectionTargetRecord {
    pub id: i64,
    pub plan_id: i64,
    pub enrolment_id: i64,
    pub household_id: i64,
    pub region_code: String,
    pub program: String,
    pub inspector: String,
    pub result: Option<String>,
    pub findings: Option<String>,
    pub amount_fen: Option<i64>,
    pub receivable_id: Option<i64>,
    pub checked_on: Option<NaiveDate>,
    pub follow_up: Option<String>,
}

const TARGET_COLUMNS: &str = "id, plan_id, enrolment_id, household_id, region_code, program,
    inspector, result, findings, amount_fen, receivable_id, checked_on, follow_up";

/// One-window applications of a month by item and stage.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemStageCount {
    pub region_code: String,
    pub item_code: String,
    pub stage: String,
    pub n: i64,
}

/// One-off grants of a month, by region and item.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AwardRow {
    pub region_code: String,
    pub item: String,
    pub amount_fen: i64,
    pub household_id: i64,
}

impl Tx {
    pub async fn insert_notice(&mut self, n: &NoticeRecord) -> Result<i64> {
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO notices (program, region_code, title, decided_from, decided_to,
                published_on, ends_on, mask, contact, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id")
            .bind(&n.program).bind(&n.region_code).bind(&n.title).bind(n.decided_from)
            .bind(n.decided_to).bind(n.published_on).bind(n.ends_on).bind(&n.mask)
            .bind(&n.contact).bind(&n.created_by).bind(n.created_at)
            .fetch_one(c)
            .await)?)
    }

    pub async fn insert_notice_entry(&mut self, e: &NoticeEntryRecord) -> Result<i64> {
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO notice_entries (notice_id, seq, kind, decision, enrolment_id, region_code,
                masked_name, members, per_capita_fen, amount_fen, place, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id")
            .bind(e.notice_id).bind(e.seq).bind(&e.kind).bind(&e.decision).bind(e.enrolment_id)
            .bind(&e.region_code).bind(&e.masked_name).bind(e.members).bind(e.per_capita_fen)
            .bind(e.amount_fen).bind(&e.place).bind(&e.note)
            .fetch_one(c)
            .await)?)
    }

    const NOTICE_COLUMNS: &'static str = "id, program, region_code, title, decided_from,
        decided_to, published_on, ends_on, mask, contact, created_by, created_at";

    pub async fn notice(&mut self, id: i64) -> Result<Option<NoticeRecord>> {
        let sql = format!("SELECT {} FROM notices WHERE id = $1", Self::NOTICE_COLUMNS);
        Ok(on_tx!(self, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?)
    }

    /// Notices of regions under `scope`, or (`covering`) of the regions above it too, newest
    /// first; `in_force_on` keeps those whose period holds that day.
    pub async fn notices(
        &mut self,
        scope: &str,
        in_force_on: Option<NaiveDate>,
    ) -> Result<Vec<NoticeRecord>> {
        let sql = format!(
            "SELECT {} FROM notices WHERE region_code LIKE $1
               AND ($2 IS NULL OR (published_on <= $2 AND ends_on >= $2))
             ORDER BY published_on DESC, id DESC",
            Self::NOTICE_COLUMNS
        );
        Ok(on_tx!(self, c => sqlx::query_as(&sql)
            .bind(like_prefix(scope))
            .bind(in_force_on)
            .fetch_all(c)
            .await)?)
    }

    pub async fn notice_entries(&mut self, notice_id: i64) -> Result<Vec<NoticeEntryRecord>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT id, notice_id, seq, kind, decision, enrolment_id, region_code, masked_name,
                    members, per_capita_fen, amount_fen, place, note
             FROM notice_entries WHERE notice_id = $1 ORDER BY seq")
            .bind(notice_id)
            .fetch_all(c)
            .await)?)
    }

    /// Decisions already published by a notice of this region and program.
    pub async fn published_decisions(
        &mut self,
        region: &str,
        program: &str,
    ) -> Result<Vec<String>> {
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "SELECT e.decision FROM notice_entries e JOIN notices n ON n.id = e.notice_id
             WHERE n.region_code = $1 AND n.program = $2")
            .bind(region)
            .bind(program)
            .fetch_all(c)
            .await)?)
    }

    /// The decisions of a program within `scope` made in `[from, until)`: the township's
    /// reviews of enrolments (still waiting for confirmation or confirmed since), and recorded
    /// adjustments and exits.
    pub async fn decisions(
        &mut self,
        scope: &str,
        program: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<Decision>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT 'review:' || CAST(e.id AS TEXT) AS decision, 'approval' AS kind,
                    e.id AS enrolment_id, e.household_id, e.region_code, e.members, e.amount_fen,
                    e.evaluation_id, NULL AS body, e.reviewed_at AS decided_at
             FROM enrolments e
             WHERE e.region_code LIKE $1 AND e.program = $2 AND e.reviewed_at >= $3
               AND e.reviewed_at < $4 AND e.stage IN ('pending_confirmation', 'confirmed')
             UNION ALL
             SELECT 'change:' || CAST(ch.id AS TEXT), ch.kind, e.id, e.household_id,
                    e.region_code, e.members, e.amount_fen, e.evaluation_id, ch.body, ch.created_at
             FROM enrolment_changes ch JOIN enrolments e ON e.id = ch.enrolment_id
             WHERE e.region_code LIKE $1 AND e.program = $2 AND ch.created_at >= $3
               AND ch.created_at < $4 AND ch.kind IN ('adjusted', 'ended', 'gradual_exit')
             ORDER BY 10, 3")
            .bind(like_prefix(scope))
            .bind(program)
            .bind(from)
            .bind(until)
            .fetch_all(c)
            .await)?)
    }

    pub async fn insert_objection(&mut self, o: &ObjectionRecord) -> Result<i64> {
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO objections (number, query_code, notice_id, entry_id, enrolment_id,
                region_code, channel, content, contact_cipher, recorded_by, received_at, status)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id")
            .bind(&o.number).bind(&o.query_code).bind(o.notice_id).bind(o.entry_id)
            .bind(o.enrolment_id).bind(&o.region_code).bind(&o.channel).bind(&o.content)
            .bind(&o.contact_cipher).bind(&o.recorded_by).bind(o.received_at).bind(&o.status)
            .fetch_one(c)
            .await)?)
    }

    pub async fn objection(&mut self, id: i64) -> Result<Option<ObjectionRecord>> {
        let sql = format!("SELECT {OBJECTION_COLUMNS} FROM objections WHERE id = $1");
        Ok(on_tx!(self, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?)
    }

    pub async fn objection_by_number(&mut self, number: &str) -> Result<Option<ObjectionRecord>> {
        let sql = format!("SELECT {OBJECTION_COLUMNS} FROM objections WHERE number = $1");
        Ok(on_tx!(self, c => sqlx::query_as(&sql).bind(number).fetch_optional(c).await)?)
    }

    /// Objections within `scope`, open ones first, or those of one enrolment.
    pub async fn objections(
        &mut self,
        scope: &str,
        enrolment: Option<i64>,
    ) -> Result<Vec<ObjectionRecord>> {
        let sql = format!(
            "SELECT {OBJECTION_COLUMNS} FROM objections WHERE region_code LIKE $1
               AND ($2 IS NULL OR enrolment_id = $2)
             ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, id DESC"
        );
        Ok(on_tx!(self, c => sqlx::query_as(&sql)
            .bind(like_prefix(scope))
            .bind(enrolment)
            .fetch_all(c)
            .await)?)
    }

    pub async fn objections_of_notice(&mut self, notice: i64) -> Result<Vec<ObjectionRecord>> {
        let sql = format!("SELECT {OBJECTION_COLUMNS} FROM objections WHERE notice_id = $1");
        Ok(on_tx!(self, c => sqlx::query_as(&sql).bind(notice).fetch_all(c).await)?)
    }

    /// Records the answer of an open objection; false when it was answered already.
    pub async fn answer_objection(&mut self, o: &ObjectionRecord) -> Result<bool> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE objections SET status = $1, method = $2, visit_date = $3, findings = $4,
                participants = $5, votes_for = $6, votes_against = $7, votes_abstain = $8,
                upheld = $9, reply = $10, answered_by = $11, answered_at = $12
             WHERE id = $13 AND status = 'open'")
            .bind(&o.status).bind(&o.method).bind(o.visit_date).bind(&o.findings)
            .bind(&o.participants).bind(o.votes_for).bind(o.votes_against).bind(o.votes_abstain)
            .bind(o.upheld).bind(&o.reply).bind(&o.answered_by).bind(o.answered_at).bind(o.id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn insert_complaint(&mut self, r: &ComplaintRecord) -> Result<i64> {
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO complaints (number, query_code, channel, category, region_code, content,
                anonymous, contact_cipher, about_user, about_unit, household_id, received_by,
                owner_unit, offered_unit, received_on, due, status, revision)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 0)
             RETURNING id")
            .bind(&r.number).bind(&r.query_code).bind(&r.channel).bind(&r.category)
            .bind(&r.region_code).bind(&r.content).bind(r.anonymous).bind(&r.contact_cipher)
            .bind(&r.about_user).bind(&r.about_unit).bind(r.household_id).bind(&r.received_by)
            .bind(&r.owner_unit).bind(&r.offered_unit).bind(r.received_on).bind(r.due)
            .bind(&r.status)
            .fetch_one(c)
            .await)?)
    }

    pub async fn complaint(&mut self, id: i64) -> Result<Option<ComplaintRecord>> {
        let sql = format!("SELECT {COMPLAINT_COLUMNS} FROM complaints WHERE id = $1");
        Ok(on_tx!(self, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?)
    }

    pub async fn complaint_by_number(&mut self, number: &str) -> Result<Option<ComplaintRecord>> {
        let sql = format!("SELECT {COMPLAINT_COLUMNS} FROM complaints WHERE number = $1");
        Ok(on_tx!(self, c => sqlx::query_as(&sql).bind(number).fetch_optional(c).await)?)
    }

    /// Complaints owned by or offered to one of `units`, or (`region`) concerning a region
    /// under it; the caller hides those naming the reader's unit.
    pub async fn complaints_for(
        &mut self,
        units: &[String],
        region: Option<&str>,
    ) -> Result<Vec<ComplaintRecord>> {
        let list = units
            .iter()
            .map(|u| format!("'{}'", u.replace('\'', "")))
            .collect::<Vec<_>>()
            .join(", ");
        let list = if list.is_empty() { "''".into() } else { list };
        let sql = format!(
            "SELECT {COMPLAINT_COLUMNS} FROM complaints
             WHERE owner_unit IN ({list}) OR offered_unit IN ({list})
                OR ($1 IS NOT NULL AND region_code LIKE $1)
             ORDER BY CASE WHEN status = 'answered' THEN 1 ELSE 0 END, due, id"
        );
        Ok(on_tx!(self, c => sqlx::query_as(&sql)
            .bind(region.map(like_prefix))
            .fetch_all(c)
            .await)?)
    }

    /// Writes a complaint's handling; false when someone changed it since `revision`.
    pub async fn update_complaint(&mut self, r: &ComplaintRecord) -> Result<bool> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE complaints SET owner_unit = $1, offered_unit = $2, status = $3, finding = $4,
                reply = $5, recovered_fen = $6, receivable_id = $7, answered_by = $8,
                answered_on = $9, household_id = $10, revision = revision + 1
             WHERE id = $11 AND revision = $12")
            .bind(&r.owner_unit).bind(&r.offered_unit).bind(&r.status).bind(&r.finding)
            .bind(&r.reply).bind(r.recovered_fen).bind(r.receivable_id).bind(&r.answered_by)
            .bind(r.answered_on).bind(r.household_id).bind(r.id).bind(r.revision)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn append_complaint_event(
        &mut self,
        complaint: i64,
        kind: &str,
        unit: Option<&str>,
        note: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO complaint_events (complaint_id, kind, unit, note, by_user, at)
             VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(complaint).bind(kind).bind(unit).bind(note).bind(by).bind(at)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn complaint_events(&mut self, complaint: i64) -> Result<Vec<ComplaintEvent>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT id, complaint_id, kind, unit, note, by_user, at FROM complaint_events
             WHERE complaint_id = $1 ORDER BY id")
            .bind(complaint)
            .fetch_all(c)
            .await)?)
    }

    /// Complaints and reports received in a year, for the next tracking number.
    pub async fn count_numbers_like(&mut self, table: &str, prefix: &str) -> Result<i64> {
        let table = if table == "objections" {
            "objections"
        } else {
            "complaints"
        };
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE number LIKE $1");
        Ok(on_tx!(self, c => sqlx::query_scalar(&sql)
            .bind(like_prefix(prefix))
            .fetch_one(c)
            .await)?)
    }

    pub async fn insert_inspection_plan(&mut self, p: &InspectionPlanRecord) -> Result<i64> {
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO inspection_plans (title, month, scope, programs, percent, seed, pool,
                digest, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
            .bind(&p.title).bind(p.month).bind(&p.scope).bind(&p.programs).bind(p.percent)
            .bind(&p.seed).bind(&p.pool).bind(&p.digest).bind(&p.created_by).bind(p.created_at)
            .fetch_one(c)
            .await)?)
    }

    pub async fn insert_inspection_target(&mut self, t: &InspectionTargetRecord) -> Result<i64> {
        Ok(on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO inspection_targets (plan_id, enrolment_id, household_id, region_code,
                program, inspector) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(t.plan_id).bind(t.enrolment_id).bind(t.household_id).bind(&t.region_code)
            .bind(&t.program).bind(&t.inspector)
            .fetch_one(c)
            .await)?)
    }

    const PLAN_COLUMNS: &'static str = "id, title, month, scope, programs, percent, seed, pool,
        digest, created_by, created_at, published_at";

    pub async fn inspection_plan(&mut self, id: i64) -> Result<Option<InspectionPlanRecord>> {
        let sql = format!(
            "SELECT {} FROM inspection_plans WHERE id = $1",
            Self::PLAN_COLUMNS
        );
        Ok(on_tx!(self, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?)
    }

    /// Plans over regions under `scope`, or that drew `inspector`; `published` keeps those whose
    /// results are public.
    pub async fn inspection_plans(
        &mut self,
        scope: &str,
        inspector: Option<&str>,
        published: bool,
    ) -> Result<Vec<InspectionPlanRecord>> {
        let sql = format!(
            "SELECT {} FROM inspection_plans p
             WHERE (p.scope LIKE $1 OR EXISTS (SELECT 1 FROM inspection_targets t
                     WHERE t.plan_id = p.id AND t.inspector = $2))
               AND ($3 = FALSE OR p.published_at IS NOT NULL)
             ORDER BY p.id DESC",
            Self::PLAN_COLUMNS
        );
        Ok(on_tx!(self, c => sqlx::query_as(&sql)
            .bind(like_prefix(scope))
            .bind(inspector)
            .bind(published)
            .fetch_all(c)
            .await)?)
    }

    pub async fn inspection_targets(&mut self, plan: i64) -> Result<Vec<InspectionTargetRecord>> {
        let sql = format!(
            "SELECT {TARGET_COLUMNS} FROM inspection_targets WHERE plan_id = $1 ORDER BY id"
        );
        Ok(on_tx!(self, c => sqlx::query_as(&sql).bind(plan).fetch_all(c).await)?)
    }

    pub async fn inspection_target(&mut self, id: i64) -> Result<Option<InspectionTargetRecord>> {
        let sql = format!("SELECT {TARGET_COLUMNS} FROM inspection_targets WHERE id = $1");
        Ok(on_tx!(self, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?)
    }

    /// Records a target's result once; false when it has one.
    pub async fn record_inspection(&mut self, t: &InspectionTargetRecord) -> Result<bool> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE inspection_targets SET result = $1, findings = $2, amount_fen = $3,
                receivable_id = $4, checked_on = $5, follow_up = $6
             WHERE id = $7 AND result IS NULL")
            .bind(&t.result).bind(&t.findings).bind(t.amount_fen).bind(t.receivable_id)
            .bind(t.checked_on).bind(&t.follow_up).bind(t.id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn set_inspection_follow_up(&mut self, id: i64, note: &str) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "UPDATE inspection_targets SET follow_up = $1 WHERE id = $2")
            .bind(note).bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn publish_inspection(&mut self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE inspection_plans SET published_at = $1 WHERE id = $2 AND published_at IS NULL")
            .bind(at).bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// One-window applications filed within `scope` in `[from, until)`, by item and stage.
    pub async fn applications_by_item(
        &mut self,
        scope: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<ItemStageCount>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT c.region_code, i.item_code, i.stage, COUNT(*) AS n
             FROM case_items i JOIN cases c ON c.id = i.case_id
             WHERE c.region_code LIKE $1 AND c.filed_at >= $2 AND c.filed_at < $3
             GROUP BY c.region_code, i.item_code, i.stage")
            .bind(like_prefix(scope))
            .bind(from)
            .bind(until)
            .fetch_all(c)
            .await)?)
    }

    /// One-off grants within `scope` made in `[from, until)`.
    pub async fn awards_between(
        &mut self,
        scope: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<AwardRow>> {
        Ok(on_tx!(self, c => sqlx::query_as(
            "SELECT region_code, item, amount_fen, household_id FROM awards
             WHERE region_code LIKE $1 AND granted_at >= $2 AND granted_at < $3")
            .bind(like_prefix(scope))
            .bind(from)
            .bind(until)
            .fetch_all(c)
            .await)?)
    }
}
