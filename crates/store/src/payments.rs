//! Payees, monthly rolls and their lines, and the bank's returns. Bank account numbers are
//! encrypted like identity numbers and shown masked.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::{like_prefix, on_tx, Result, Tx};

pub const ACCOUNT_CONTEXT: &str = "payees.account";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PayeeRecord {
    pub id: i64,
    pub enrolment_id: Option<i64>,
    pub award_id: Option<i64>,
    pub household_id: i64,
    pub region_code: String,
    pub person_id: i64,
    pub holder_name: String,
    pub bank: String,
    #[serde(skip)]
    pub account_cipher: Vec<u8>,
    pub account_masked: String,
    /// head, member, or guardian (监护人, who need not be in the household).
    pub role: String,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

const PAYEE_COLUMNS: &str = "id, enrolment_id, award_id, household_id, region_code, person_id,
    holder_name, bank, account_cipher, account_masked, role, updated_by, updated_at";

/// A bank's return file as imported: its counts and the lines kept as errors (JSON list).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BankReturnRecord {
    pub id: i64,
    pub roll_id: i64,
    pub file_name: String,
    pub paid: i64,
    pub failed: i64,
    pub errors: String,
    pub imported_by: String,
    pub imported_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RollRecord {
    pub id: i64,
    pub month: NaiveDate,
    pub program: Option<String>,
    pub region_code: String,
    pub stage: String,
    pub lines: i64,
    pub total_fen: i64,
    pub digest: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub checked_by: Option<String>,
    pub checked_at: Option<DateTime<Utc>>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

const ROLL_COLUMNS: &str = "id, month, program, region_code, stage, lines, total_fen, digest,
    created_by, created_at, checked_by, checked_at, approved_by, approved_at, sent_at, closed_at";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RollLine {
    pub id: i64,
    pub roll_id: i64,
    pub seq: i64,
    pub enrolment_id: Option<i64>,
    pub award_id: Option<i64>,
    pub household_id: i64,
    pub program: String,
    pub month: NaiveDate,
    pub region_code: String,
    pub person_id: i64,
    pub holder_name: String,
    #[serde(skip)]
    pub account_cipher: Vec<u8>,
    pub account_masked: String,
    pub amount_fen: i64,
    /// The failed line this one pays again.
    pub reissue_of: Option<i64>,
    /// pending, paid, failed, reissued
    pub status: String,
    pub reason: String,
    pub locked: bool,
    /// Withheld from this payment towards a receivable (从后续发放中扣减); `amount_fen` is
    /// what is paid.
    pub deduction_fen: i64,
    pub receivable_id: Option<i64>,
    /// Members covered by the payment, for the report.
    pub persons: i64,
}

const LINE_COLUMNS: &str = "id, roll_id, seq, enrolment_id, award_id, household_id, program, month,
    region_code, person_id, holder_name, account_cipher, account_masked, amount_fen, reissue_of,
    status, reason, locked, deduction_fen, receivable_id, persons";

/// The lines of a roll by their answer from the bank.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineTally {
    pub pending: i64,
    pub paid: i64,
    pub failed: i64,
    pub paid_fen: i64,
    pub failed_fen: i64,
}

/// One payment a draft is due to make, before its payee's account is joined: an enrolment's
/// month, an award's stage, or a failed payment made again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub enrolment_id: Option<i64>,
    pub award_id: Option<i64>,
    pub month: NaiveDate,
    /// What is paid, after any deduction.
    pub amount_fen: i64,
    pub deduction_fen: i64,
    pub receivable_id: Option<i64>,
    pub reissue_of: Option<i64>,
    pub persons: i64,
}

/// A month's locked lines added up per township (the first nine digits of the place) and
/// program.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MonthTotals {
    pub township: String,
    pub program: String,
    pub households: i64,
    pub persons: i64,
    pub amount_fen: i64,
    pub paid_fen: i64,
    pub failed_fen: i64,
    pub reissued_fen: i64,
    pub deducted_fen: i64,
}

/// A bank's layout as an administrator added it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BankTemplateRecord {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// The layout as JSON (`jiuzhu_domain::payment::BankTemplate`).
    pub config: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl Tx {
    pub async fn payee_of_enrolment(&mut self, enrolment_id: i64) -> Result<Option<PayeeRecord>> {
        let sql = format!("SELECT {PAYEE_COLUMNS} FROM payees WHERE enrolment_id = $1");
        let row =
            on_tx!(self, c => sqlx::query_as(&sql).bind(enrolment_id).fetch_optional(c).await)?;
        Ok(row)
    }

    pub async fn payee_of_award(&mut self, award_id: i64) -> Result<Option<PayeeRecord>> {
        let sql = format!("SELECT {PAYEE_COLUMNS} FROM payees WHERE award_id = $1");
        let row = on_tx!(self, c => sqlx::query_as(&sql).bind(award_id).fetch_optional(c).await)?;
        Ok(row)
    }

    pub async fn payees_in(&mut self, scope: &str) -> Result<Vec<PayeeRecord>> {
        let sql = format!("SELECT {PAYEE_COLUMNS} FROM payees WHERE region_code LIKE $1");
        let rows =
            on_tx!(self, c => sqlx::query_as(&sql).bind(like_prefix(scope)).fetch_all(c).await)?;
        Ok(rows)
    }

    /// Sets the payee of an enrolment or an award (replacing the one before).
    pub async fn set_payee(&mut self, p: &PayeeRecord) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "DELETE FROM payees WHERE enrolment_id = $1 OR award_id = $2")
            .bind(p.enrolment_id)
            .bind(p.award_id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        on_tx!(self, c => sqlx::query(
            "INSERT INTO payees (enrolment_id, award_id, household_id, region_code, person_id,
                holder_name, bank, account_cipher, account_masked, updated_by, updated_at, role)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
            .bind(p.enrolment_id)
            .bind(p.award_id)
            .bind(p.household_id)
            .bind(&p.region_code)
            .bind(p.person_id)
            .bind(&p.holder_name)
            .bind(&p.bank)
            .bind(&p.account_cipher)
            .bind(&p.account_masked)
            .bind(&p.updated_by)
            .bind(p.updated_at)
            .bind(&p.role)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Many payees at once (the demo city, an old register carried over).
    pub async fn insert_payees(&mut self, rows: &[PayeeRecord]) -> Result<()> {
        for chunk in rows.chunks(500) {
            let sql = format!(
                "INSERT INTO payees (enrolment_id, award_id, household_id, region_code, person_id,
                    holder_name, bank, account_cipher, account_masked, updated_by, updated_at, role)
                 VALUES {}",
                crate::value_rows(self.backend(), chunk.len(), 12)
            );
            on_tx!(self, c => {
                let mut q = sqlx::query(&sql);
                for p in chunk {
                    q = q.bind(p.enrolment_id).bind(p.award_id).bind(p.household_id)
                        .bind(&p.region_code).bind(p.person_id).bind(&p.holder_name)
                        .bind(&p.bank).bind(&p.account_cipher).bind(&p.account_masked)
                        .bind(&p.updated_by).bind(p.updated_at).bind(&p.role);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    pub async fn insert_roll(&mut self, r: &RollRecord) -> Result<i64> {
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO rolls (month, program, region_code, stage, lines, total_fen, digest,
                created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
            .bind(r.month)
            .bind(&r.program)
            .bind(&r.region_code)
            .bind(&r.stage)
            .bind(r.lines)
            .bind(r.total_fen)
            .bind(&r.digest)
            .bind(&r.created_by)
            .bind(r.created_at)
            .fetch_one(c)
            .await)?;
        Ok(id)
    }

    pub async fn roll(&mut self, id: i64) -> Result<Option<RollRecord>> {
        let sql = format!("SELECT {ROLL_COLUMNS} FROM rolls WHERE id = $1");
        let row = on_tx!(self, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?;
        Ok(row)
    }

    pub async fn rolls_in(&mut self, scope: &str) -> Result<Vec<RollRecord>> {
        let sql = format!(
            "SELECT {ROLL_COLUMNS} FROM rolls WHERE region_code LIKE $1 ORDER BY month DESC, id DESC"
        );
        let rows =
            on_tx!(self, c => sqlx::query_as(&sql).bind(like_prefix(scope)).fetch_all(c).await)?;
        Ok(rows)
    }

    /// A draft made again from what it is due: its lines are the dues that have a payee, with
    /// the payee's account joined in the database (a city's roll is a million lines), numbered
    /// by place, household and month. Returns the count and total.
    pub async fn replace_draft(&mut self, roll_id: i64, dues: &[Due]) -> Result<(i64, i64)> {
        for table in ["roll_lines", "roll_dues"] {
            let sql = format!("DELETE FROM {table} WHERE roll_id = $1");
            on_tx!(self, c => sqlx::query(&sql).bind(roll_id).execute(c).await.map(|r| r.rows_affected()))?;
        }
        for chunk in dues.chunks(2000) {
            let sql = format!(
                "INSERT INTO roll_dues (roll_id, enrolment_id, award_id, month, amount_fen,
                    deduction_fen, receivable_id, reissue_of, persons) VALUES {}",
                crate::value_rows(self.backend(), chunk.len(), 9)
            );
            on_tx!(self, c => {
                let mut q = sqlx::query(&sql);
                for d in chunk {
                    q = q.bind(roll_id).bind(d.enrolment_id).bind(d.award_id).bind(d.month)
                        .bind(d.amount_fen).bind(d.deduction_fen).bind(d.receivable_id)
                        .bind(d.reissue_of).bind(d.persons);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        let null = "CAST(NULL AS BIGINT)";
        let sql = format!(
            "INSERT INTO roll_lines (roll_id, seq, enrolment_id, award_id, household_id, program,
                month, region_code, person_id, holder_name, account_cipher, account_masked,
                amount_fen, reissue_of, status, reason, locked, deduction_fen, receivable_id,
                persons)
             SELECT $1, ROW_NUMBER() OVER (ORDER BY x.region_code, x.household_id, x.month,
                    COALESCE(x.enrolment_id, 0), COALESCE(x.award_id, 0)),
                x.enrolment_id, x.award_id, x.household_id, x.program, x.month, x.region_code,
                x.person_id, x.holder_name, x.account_cipher, x.account_masked, x.amount_fen,
                x.reissue_of, 'pending', '', FALSE, x.deduction_fen, x.receivable_id, x.persons
             FROM (
                SELECT d.enrolment_id, {null} AS award_id, e.household_id, e.program, d.month,
                    e.region_code, p.person_id, p.holder_name, p.account_cipher, p.account_masked,
                    d.amount_fen, d.reissue_of, d.deduction_fen, d.receivable_id, d.persons
                FROM roll_dues d JOIN enrolments e ON e.id = d.enrolment_id
                JOIN payees p ON p.enrolment_id = d.enrolment_id
                WHERE d.roll_id = $1
                UNION ALL
                SELECT {null}, d.award_id, a.household_id, a.item, d.month,
                    a.region_code, p.person_id, p.holder_name, p.account_cipher, p.account_masked,
                    d.amount_fen, d.reissue_of, d.deduction_fen, d.receivable_id, d.persons
                FROM roll_dues d JOIN awards a ON a.id = d.award_id
                JOIN payees p ON p.award_id = d.award_id
                WHERE d.roll_id = $1
             ) x"
        );
        on_tx!(self, c => sqlx::query(&sql).bind(roll_id).execute(c).await.map(|r| r.rows_affected()))?;
        let (count, total): (i64, i64) = on_tx!(self, c => sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM roll_lines
             WHERE roll_id = $1")
            .bind(roll_id)
            .fetch_one(c)
            .await)?;
        Ok((count, total))
    }

    /// A draft's count, total and digest, once its lines are written.
    pub async fn set_draft_summary(
        &mut self,
        roll_id: i64,
        lines: i64,
        total_fen: i64,
        digest: &str,
    ) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "UPDATE rolls SET lines = $1, total_fen = $2, digest = $3 WHERE id = $4 AND stage = 'draft'")
            .bind(lines)
            .bind(total_fen)
            .bind(digest)
            .bind(roll_id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// What a draft is due to pay that has no payee account: (enrolment, award, household,
    /// name), the first `limit`, and how many there are.
    pub async fn dues_without_account(
        &mut self,
        roll_id: i64,
        limit: i64,
    ) -> Result<(Vec<(Option<i64>, Option<i64>, i64, String)>, i64)> {
        let from = "FROM roll_dues d LEFT JOIN enrolments e ON e.id = d.enrolment_id
            LEFT JOIN awards a ON a.id = d.award_id
            JOIN households h ON h.id = COALESCE(e.household_id, a.household_id)
            JOIN persons p ON p.id = COALESCE(e.person_id, h.head_person_id)
            WHERE d.roll_id = $1
              AND NOT EXISTS (SELECT 1 FROM payees y WHERE y.enrolment_id = d.enrolment_id)
              AND NOT EXISTS (SELECT 1 FROM payees y WHERE y.award_id = d.award_id)";
        let sql = format!(
            "SELECT d.enrolment_id, d.award_id, h.id, p.name {from} ORDER BY h.region_code, h.id
             LIMIT $2"
        );
        let rows =
            on_tx!(self, c => sqlx::query_as(&sql).bind(roll_id).bind(limit).fetch_all(c).await)?;
        let sql = format!("SELECT COUNT(*) {from}");
        let count: i64 =
            on_tx!(self, c => sqlx::query_scalar(&sql).bind(roll_id).fetch_one(c).await)?;
        Ok((rows, count))
    }

    pub async fn roll_lines(&mut self, roll_id: i64) -> Result<Vec<RollLine>> {
        let sql = format!("SELECT {LINE_COLUMNS} FROM roll_lines WHERE roll_id = $1 ORDER BY seq");
        let rows = on_tx!(self, c => sqlx::query_as(&sql).bind(roll_id).fetch_all(c).await)?;
        Ok(rows)
    }

    /// A page of a roll's lines after `after_seq`, in order: what reads a million-line roll
    /// without holding it.
    pub async fn roll_lines_after(
        &mut self,
        roll_id: i64,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<RollLine>> {
        let sql = format!(
            "SELECT {LINE_COLUMNS} FROM roll_lines WHERE roll_id = $1 AND seq > $2
             ORDER BY seq LIMIT $3"
        );
        let rows = on_tx!(self, c => sqlx::query_as(&sql)
            .bind(roll_id)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// A page of a roll's lines for its digest and the approval's check, read narrow (a city's
    /// roll is a million lines): (seq, the line as digest text, the enrolment when the line is
    /// the month's own payment of one, what it pays before any deduction). The text is made by
    /// the database, the same on SQLite and PostgreSQL.
    pub async fn line_digests(
        &mut self,
        roll_id: i64,
        month: NaiveDate,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String, Option<i64>, i64)>> {
        let t = |c: &str| format!("COALESCE(CAST({c} AS TEXT), '')");
        let text = [
            t("seq"),
            t("enrolment_id"),
            t("award_id"),
            t("month"),
            t("amount_fen"),
            t("person_id"),
            "holder_name".to_string(),
            "account_masked".to_string(),
            t("deduction_fen"),
            t("reissue_of"),
        ]
        .join(" || '|' || ");
        let sql = format!(
            "SELECT seq, {text},
                CASE WHEN reissue_of IS NULL AND month = $2 THEN enrolment_id END,
                amount_fen + deduction_fen
             FROM roll_lines WHERE roll_id = $1 AND seq > $3 ORDER BY seq LIMIT $4"
        );
        let rows = on_tx!(self, c => sqlx::query_as(&sql)
            .bind(roll_id)
            .bind(month)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// The lines of a roll that withhold towards a receivable: (seq, receivable, withheld,
    /// month, region).
    pub async fn withholding_lines(
        &mut self,
        roll_id: i64,
    ) -> Result<Vec<(i64, i64, i64, NaiveDate, String)>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT seq, receivable_id, deduction_fen, month, region_code FROM roll_lines
             WHERE roll_id = $1 AND receivable_id IS NOT NULL AND deduction_fen > 0 ORDER BY seq")
            .bind(roll_id)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// A page of a roll's lines as the bank file needs them: (seq, holder, account cipher,
    /// amount, month, program, the payee's identity-number cipher).
    #[allow(clippy::type_complexity)]
    pub async fn bank_lines(
        &mut self,
        roll_id: i64,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String, Vec<u8>, i64, NaiveDate, String, Vec<u8>)>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT l.seq, l.holder_name, l.account_cipher, l.amount_fen, l.month, l.program,
                p.id_number_cipher
             FROM roll_lines l JOIN persons p ON p.id = l.person_id
             WHERE l.roll_id = $1 AND l.seq > $2 ORDER BY l.seq LIMIT $3")
            .bind(roll_id)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// A page of a roll's lines as a return is matched against them: (seq, id, amount, masked
    /// account, status).
    pub async fn return_keys(
        &mut self,
        roll_id: i64,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<(i64, i64, i64, String, String)>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT seq, id, amount_fen, account_masked, status FROM roll_lines
             WHERE roll_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
            .bind(roll_id)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// Every line of a roll still waiting for the bank's answer is paid: a return that answers
    /// them all, after its failures are marked.
    pub async fn mark_pending_paid(&mut self, roll_id: i64) -> Result<u64> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE roll_lines SET status = 'paid' WHERE roll_id = $1 AND status = 'pending'")
            .bind(roll_id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n)
    }

    /// A page of a roll's lines of one status, in order.
    pub async fn roll_lines_of_status(
        &mut self,
        roll_id: i64,
        status: &str,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<RollLine>> {
        let sql = format!(
            "SELECT {LINE_COLUMNS} FROM roll_lines WHERE roll_id = $1 AND status = $2
             ORDER BY seq LIMIT $3 OFFSET $4"
        );
        let rows = on_tx!(self, c => sqlx::query_as(&sql)
            .bind(roll_id)
            .bind(status)
            .bind(limit)
            .bind(offset)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// Lines of a roll by status.
    pub async fn roll_line_counts(&mut self, roll_id: i64) -> Result<LineTally> {
        let rows: Vec<(String, i64, i64)> = on_tx!(self, c => sqlx::query_as(
            "SELECT status, COUNT(*), CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT)
             FROM roll_lines WHERE roll_id = $1 GROUP BY status")
            .bind(roll_id)
            .fetch_all(c)
            .await)?;
        let n = |s: &str| {
            rows.iter()
                .find(|(k, _, _)| k == s)
                .map_or((0, 0), |(_, n, f)| (*n, *f))
        };
        let ((pending, _), (paid, paid_fen), (failed, failed_fen)) =
            (n("pending"), n("paid"), n("failed"));
        Ok(LineTally {
            pending,
            paid,
            failed,
            paid_fen,
            failed_fen,
        })
    }

    /// What approved rolls already pay in a month within a region: (enrolment, award).
    pub async fn locked_in_month(
        &mut self,
        scope: &str,
        month: NaiveDate,
    ) -> Result<Vec<(Option<i64>, Option<i64>)>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT enrolment_id, award_id FROM roll_lines
             WHERE month = $1 AND region_code LIKE $2 AND locked AND status <> 'failed'")
            .bind(month)
            .bind(like_prefix(scope))
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// Award stages already paid (or being paid) within a region: (award, month).
    pub async fn locked_award_stages(&mut self, scope: &str) -> Result<Vec<(i64, NaiveDate)>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT award_id, month FROM roll_lines
             WHERE award_id IS NOT NULL AND region_code LIKE $1 AND locked AND status <> 'failed'")
            .bind(like_prefix(scope))
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// Lines of a roll whose enrolment or award another approved roll already pays for the
    /// same month: (seq, holder, month), the first fifty.
    pub async fn lines_paid_elsewhere(
        &mut self,
        roll_id: i64,
    ) -> Result<Vec<(i64, String, NaiveDate)>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT l.seq, l.holder_name, l.month FROM roll_lines l WHERE l.roll_id = $1 AND (
                (l.enrolment_id IS NOT NULL AND EXISTS (SELECT 1 FROM roll_lines o
                    WHERE o.enrolment_id = l.enrolment_id AND o.month = l.month
                      AND o.enrolment_id IS NOT NULL AND o.locked AND o.status <> 'failed'))
             OR (l.award_id IS NOT NULL AND EXISTS (SELECT 1 FROM roll_lines o
                    WHERE o.award_id = l.award_id AND o.month = l.month
                      AND o.award_id IS NOT NULL AND o.locked AND o.status <> 'failed')))
             ORDER BY l.seq LIMIT 50")
            .bind(roll_id)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// Failed lines not yet paid again, within a region.
    pub async fn failed_lines_in(&mut self, scope: &str) -> Result<Vec<RollLine>> {
        let sql = format!(
            "SELECT {LINE_COLUMNS} FROM roll_lines l WHERE l.status = 'failed' AND l.locked
               AND l.region_code LIKE $1
               AND NOT EXISTS (SELECT 1 FROM roll_lines r WHERE r.reissue_of = l.id AND r.locked)
             ORDER BY l.id"
        );
        let rows =
            on_tx!(self, c => sqlx::query_as(&sql).bind(like_prefix(scope)).fetch_all(c).await)?;
        Ok(rows)
    }

    /// Moves a roll from one stage to the next, naming who; false when it was not in `from`.
    pub async fn advance_roll(
        &mut self,
        id: i64,
        from: &str,
        to: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let set = match to {
            "checked" => "checked_by = $1, checked_at = $2",
            "approved" => "approved_by = $1, approved_at = $2",
            "sent" => "sent_at = $2, approved_by = COALESCE(approved_by, $1)",
            _ => "closed_at = $2, checked_by = COALESCE(checked_by, $1)",
        };
        let sql = format!("UPDATE rolls SET stage = $3, {set} WHERE id = $4 AND stage = $5");
        let n = on_tx!(self, c => sqlx::query(&sql)
            .bind(by)
            .bind(at)
            .bind(to)
            .bind(id)
            .bind(from)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Locks an approved roll's lines: from now on they count as paid for their months.
    pub async fn lock_lines(&mut self, roll_id: i64) -> Result<()> {
        on_tx!(self, c => sqlx::query("UPDATE roll_lines SET locked = TRUE WHERE roll_id = $1")
            .bind(roll_id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn mark_line(&mut self, id: i64, status: &str, reason: &str) -> Result<()> {
        on_tx!(self, c => sqlx::query("UPDATE roll_lines SET status = $1, reason = $2 WHERE id = $3")
            .bind(status)
            .bind(reason)
            .bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Marks many lines paid at once (a return of a million lines is mostly successes).
    pub async fn mark_paid(&mut self, ids: &[i64]) -> Result<()> {
        for chunk in ids.chunks(5000) {
            let sql = format!(
                "UPDATE roll_lines SET status = 'paid' WHERE id IN {}",
                crate::value_rows(self.backend(), 1, chunk.len())
            );
            on_tx!(self, c => {
                let mut q = sqlx::query(&sql);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    pub async fn bank_return_seen(&mut self, roll_id: i64, sha256: &str) -> Result<bool> {
        let seen: Option<i64> = on_tx!(self, c => sqlx::query_scalar(
            "SELECT id FROM bank_returns WHERE roll_id = $1 AND sha256 = $2")
            .bind(roll_id)
            .bind(sha256)
            .fetch_optional(c)
            .await)?;
        Ok(seen.is_some())
    }

    /// Records a return file once: false when the same file was imported for the roll before.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_bank_return(
        &mut self,
        roll_id: i64,
        sha256: &str,
        file_name: &str,
        paid: i64,
        failed: i64,
        errors: &str,
        by: &str,
    ) -> Result<bool> {
        let seen: Option<i64> = on_tx!(self, c => sqlx::query_scalar(
            "SELECT id FROM bank_returns WHERE roll_id = $1 AND sha256 = $2")
            .bind(roll_id)
            .bind(sha256)
            .fetch_optional(c)
            .await)?;
        if seen.is_some() {
            return Ok(false);
        }
        on_tx!(self, c => sqlx::query(
            "INSERT INTO bank_returns (roll_id, sha256, file_name, paid, failed, errors,
                imported_by, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(roll_id)
            .bind(sha256)
            .bind(file_name)
            .bind(paid)
            .bind(failed)
            .bind(errors)
            .bind(by)
            .bind(Utc::now())
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(true)
    }

    /// The return files imported for a roll, in order.
    pub async fn bank_returns(&mut self, roll_id: i64) -> Result<Vec<BankReturnRecord>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT id, roll_id, file_name, paid, failed, errors, imported_by, imported_at
             FROM bank_returns WHERE roll_id = $1 ORDER BY id")
            .bind(roll_id)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// The payments of a household, newest first.
    pub async fn lines_of_household(&mut self, household_id: i64) -> Result<Vec<RollLine>> {
        let sql = format!(
            "SELECT {LINE_COLUMNS} FROM roll_lines WHERE household_id = $1 AND locked
             ORDER BY month DESC, id DESC"
        );
        let rows = on_tx!(self, c => sqlx::query_as(&sql).bind(household_id).fetch_all(c).await)?;
        Ok(rows)
    }
}

/// Money to be recovered (应追回), and what was recovered of it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ReceivableRecord {
    pub id: i64,
    pub household_id: i64,
    pub enrolment_id: Option<i64>,
    pub line_id: Option<i64>,
    pub region_code: String,
    pub month: Option<NaiveDate>,
    pub amount_fen: i64,
    pub cause: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub recovered_fen: i64,
}

const RECEIVABLE_SELECT: &str = "SELECT r.id, r.household_id, r.enrolment_id, r.line_id,
    r.region_code, r.month, r.amount_fen, r.cause, r.created_by, r.created_at,
    CAST(COALESCE((SELECT SUM(v.amount_fen) FROM recoveries v WHERE v.receivable_id = r.id), 0) AS BIGINT)
        AS recovered_fen
    FROM receivables r";

impl Tx {
    /// Locked lines that pay (or paid) an enrolment, not failed.
    pub async fn paid_lines_of_enrolment(&mut self, enrolment_id: i64) -> Result<Vec<RollLine>> {
        let sql = format!(
            "SELECT {LINE_COLUMNS} FROM roll_lines WHERE enrolment_id = $1 AND locked
               AND status <> 'failed' ORDER BY month"
        );
        let rows = on_tx!(self, c => sqlx::query_as(&sql).bind(enrolment_id).fetch_all(c).await)?;
        Ok(rows)
    }

    /// A receivable; false when the line already has one.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_receivable(
        &mut self,
        household_id: i64,
        enrolment_id: Option<i64>,
        line_id: Option<i64>,
        region_code: &str,
        month: Option<NaiveDate>,
        amount_fen: i64,
        cause: &str,
        by: &str,
    ) -> Result<Option<i64>> {
        if let Some(line) = line_id {
            let seen: Option<i64> = on_tx!(self, c => sqlx::query_scalar(
                "SELECT id FROM receivables WHERE line_id = $1")
                .bind(line)
                .fetch_optional(c)
                .await)?;
            if seen.is_some() {
                return Ok(None);
            }
        }
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO receivables (household_id, enrolment_id, line_id, region_code, month,
                amount_fen, cause, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
            .bind(household_id)
            .bind(enrolment_id)
            .bind(line_id)
            .bind(region_code)
            .bind(month)
            .bind(amount_fen)
            .bind(cause)
            .bind(by)
            .bind(Utc::now())
            .fetch_one(c)
            .await)?;
        Ok(Some(id))
    }

    pub async fn receivable(&mut self, id: i64) -> Result<Option<ReceivableRecord>> {
        let sql = format!("{RECEIVABLE_SELECT} WHERE r.id = $1");
        let row = on_tx!(self, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?;
        Ok(row)
    }

    pub async fn receivables_in(&mut self, scope: &str) -> Result<Vec<ReceivableRecord>> {
        let sql = format!("{RECEIVABLE_SELECT} WHERE r.region_code LIKE $1 ORDER BY r.id DESC");
        let rows =
            on_tx!(self, c => sqlx::query_as(&sql).bind(like_prefix(scope)).fetch_all(c).await)?;
        Ok(rows)
    }

    pub async fn receivables_of_household(
        &mut self,
        household_id: i64,
    ) -> Result<Vec<ReceivableRecord>> {
        let sql = format!("{RECEIVABLE_SELECT} WHERE r.household_id = $1 ORDER BY r.id");
        let rows = on_tx!(self, c => sqlx::query_as(&sql).bind(household_id).fetch_all(c).await)?;
        Ok(rows)
    }

    pub async fn insert_recovery(
        &mut self,
        receivable_id: i64,
        region_code: &str,
        amount_fen: i64,
        method: &str,
        note: &str,
        by: &str,
    ) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO recoveries (receivable_id, region_code, amount_fen, method, note,
                recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(receivable_id)
            .bind(region_code)
            .bind(amount_fen)
            .bind(method)
            .bind(note)
            .bind(by)
            .bind(Utc::now())
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Tx {
    /// The locked lines paying in `month` within a region, added up per township and program
    /// (persons are counted on first payments, not on re-issues).
    pub async fn month_totals(
        &mut self,
        scope: &str,
        month: NaiveDate,
    ) -> Result<Vec<MonthTotals>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT substr(l.region_code, 1, 9) AS township, l.program,
                COUNT(DISTINCT l.household_id) AS households,
                CAST(SUM(CASE WHEN l.reissue_of IS NULL THEN l.persons ELSE 0 END) AS BIGINT) AS persons,
                CAST(SUM(l.amount_fen) AS BIGINT) AS amount_fen,
                CAST(SUM(CASE WHEN l.status = 'paid' THEN l.amount_fen ELSE 0 END) AS BIGINT) AS paid_fen,
                CAST(SUM(CASE WHEN l.status = 'failed' THEN l.amount_fen ELSE 0 END) AS BIGINT) AS failed_fen,
                CAST(SUM(CASE WHEN l.reissue_of IS NOT NULL THEN l.amount_fen ELSE 0 END) AS BIGINT) AS reissued_fen,
                CAST(SUM(l.deduction_fen) AS BIGINT) AS deducted_fen
             FROM roll_lines l JOIN rolls r ON r.id = l.roll_id
             WHERE r.month = $1 AND l.locked AND l.region_code LIKE $2
             GROUP BY substr(l.region_code, 1, 9), l.program
             ORDER BY 1, 2")
            .bind(month)
            .bind(like_prefix(scope))
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// Recoveries recorded within a region between two instants: (receivable's household,
    /// amount).
    pub async fn recoveries_between(
        &mut self,
        scope: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(String, i64)>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT region_code, amount_fen FROM recoveries
             WHERE region_code LIKE $1 AND recorded_at >= $2 AND recorded_at < $3")
            .bind(like_prefix(scope))
            .bind(from)
            .bind(to)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// The highest enrolment id, to read a city's changes in ranges of ids.
    pub async fn max_enrolment_id(&mut self) -> Result<i64> {
        let n: Option<i64> = on_tx!(self, c => sqlx::query_scalar("SELECT MAX(id) FROM enrolments")
            .fetch_one(c)
            .await)?;
        Ok(n.unwrap_or(0))
    }

    /// The changes of confirmed enrolments with ids in `(after, upto]` within a region, optionally
    /// of one program: (enrolment, month, change as JSON), in order.
    pub async fn change_bodies_between(
        &mut self,
        scope: &str,
        program: Option<&str>,
        after: i64,
        upto: i64,
    ) -> Result<Vec<(i64, NaiveDate, String)>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT c.enrolment_id, c.month, c.body FROM enrolment_changes c
             JOIN enrolments e ON e.id = c.enrolment_id
             WHERE c.enrolment_id > $1 AND c.enrolment_id <= $2 AND c.region_code LIKE $3
               AND e.stage = 'confirmed' AND ($4 IS NULL OR e.program = $4)
             ORDER BY c.enrolment_id, c.id")
            .bind(after)
            .bind(upto)
            .bind(like_prefix(scope))
            .bind(program)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// One-off awards within a region, optionally of one item.
    pub async fn awards_in(
        &mut self,
        scope: &str,
        item: Option<&str>,
    ) -> Result<Vec<crate::AwardRecord>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT id, household_id, case_id, item, region_code, amount_fen, note, stages,
                granted_by, granted_at
             FROM awards WHERE region_code LIKE $1 AND ($2 IS NULL OR item = $2) ORDER BY id")
            .bind(like_prefix(scope))
            .bind(item)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    pub async fn count_enrolments(&mut self) -> Result<i64> {
        let n = on_tx!(self, c => sqlx::query_scalar("SELECT COUNT(*) FROM enrolments")
            .fetch_one(c)
            .await)?;
        Ok(n)
    }

    /// Households with no enrolment, after an id: (household, place, head). The payments
    /// benchmark enrols them to reach a city's million enrolments.
    pub async fn households_not_enrolled(
        &mut self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String, i64, String)>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT h.id, h.region_code, h.head_person_id, p.name FROM households h
             JOIN persons p ON p.id = h.head_person_id
             WHERE h.id > $1 AND NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.household_id = h.id)
             ORDER BY h.id LIMIT $2")
            .bind(after)
            .bind(limit)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// Current members of households: (household, person).
    pub async fn current_members_of(&mut self, households: &[i64]) -> Result<Vec<(i64, i64)>> {
        self.fetch_for_ids(
            "SELECT household_id, person_id FROM household_members
             WHERE to_date IS NULL AND household_id IN {ids} ORDER BY household_id, id",
            households,
            2000,
        )
        .await
    }

    /// Sets how much of each later payment is withheld towards a receivable (0 stops it).
    pub async fn insert_deduction(
        &mut self,
        receivable_id: i64,
        region_code: &str,
        per_month_fen: i64,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO receivable_deductions (receivable_id, region_code, per_month_fen, set_by,
                set_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(receivable_id)
            .bind(region_code)
            .bind(per_month_fen)
            .bind(by)
            .bind(at)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The deduction in force for each receivable within a region that has one: (receivable,
    /// per month).
    pub async fn deductions_in(&mut self, scope: &str) -> Result<Vec<(i64, i64)>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT d.receivable_id, d.per_month_fen FROM receivable_deductions d
             WHERE d.region_code LIKE $1 AND d.id = (SELECT MAX(x.id) FROM receivable_deductions x
                WHERE x.receivable_id = d.receivable_id)")
            .bind(like_prefix(scope))
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    pub async fn bank_templates(&mut self) -> Result<Vec<BankTemplateRecord>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT id, code, name, config, created_by, created_at FROM bank_templates ORDER BY id")
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// Adds or replaces a bank's layout under its code.
    pub async fn put_bank_template(&mut self, t: &BankTemplateRecord) -> Result<()> {
        on_tx!(self, c => sqlx::query("DELETE FROM bank_templates WHERE code = $1")
            .bind(&t.code)
            .execute(c).await.map(|r| r.rows_affected()))?;
        on_tx!(self, c => sqlx::query(
            "INSERT INTO bank_templates (code, name, config, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5)")
            .bind(&t.code)
            .bind(&t.name)
            .bind(&t.config)
            .bind(&t.created_by)
            .bind(t.created_at)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
