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
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

const PAYEE_COLUMNS: &str = "id, enrolment_id, award_id, household_id, region_code, person_id,
    holder_name, bank, account_cipher, account_masked, updated_by, updated_at";

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
}

const LINE_COLUMNS: &str = "id, roll_id, seq, enrolment_id, award_id, household_id, program, month,
    region_code, person_id, holder_name, account_cipher, account_masked, amount_fen, reissue_of,
    status, reason, locked";

impl Tx {
    pub async fn payee_of_enrolment(&mut self, enrolment_id: i64) -> Result<Option<PayeeRecord>> {
        let sql = format!("SELECT {PAYEE_COLUMNS} FROM payees WHERE enrolment_id = $1");
        let row =
            on_tx!(self, c => sqlx::query_as(&sql).bind(enrolment_id).fetch_optional(c).await)?;
        Ok(row)
    }

    pub async fn payees_in(&mut self, scope: &str) -> Result<Vec<PayeeRecord>> {
        let sql = format!("SELECT {PAYEE_COLUMNS} FROM payees WHERE region_code LIKE $1");
        let rows =
            on_tx!(self, c => sqlx::query_as(&sql).bind(like_prefix(scope)).fetch_all(c).await)?;
        Ok(rows)
    }

    /// Sets the payee of an enrolment (replacing the one before).
    pub async fn set_payee(&mut self, p: &PayeeRecord) -> Result<()> {
        on_tx!(self, c => sqlx::query("DELETE FROM payees WHERE enrolment_id = $1")
            .bind(p.enrolment_id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        on_tx!(self, c => sqlx::query(
            "INSERT INTO payees (enrolment_id, award_id, household_id, region_code, person_id,
                holder_name, bank, account_cipher, account_masked, updated_by, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
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
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Many payees at once (the demo city, an old register carried over).
    pub async fn insert_payees(&mut self, rows: &[PayeeRecord]) -> Result<()> {
        for chunk in rows.chunks(500) {
            let sql = format!(
                "INSERT INTO payees (enrolment_id, award_id, household_id, region_code, person_id,
                    holder_name, bank, account_cipher, account_masked, updated_by, updated_at)
                 VALUES {}",
                crate::value_rows(self.backend(), chunk.len(), 11)
            );
            on_tx!(self, c => {
                let mut q = sqlx::query(&sql);
                for p in chunk {
                    q = q.bind(p.enrolment_id).bind(p.award_id).bind(p.household_id)
                        .bind(&p.region_code).bind(p.person_id).bind(&p.holder_name)
                        .bind(&p.bank).bind(&p.account_cipher).bind(&p.account_masked)
                        .bind(&p.updated_by).bind(p.updated_at);
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

    /// A draft's lines replaced, with its count, total and digest.
    pub async fn replace_draft_lines(
        &mut self,
        roll_id: i64,
        lines: &[RollLine],
        total_fen: i64,
        digest: &str,
    ) -> Result<()> {
        on_tx!(self, c => sqlx::query("DELETE FROM roll_lines WHERE roll_id = $1")
            .bind(roll_id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        for chunk in lines.chunks(500) {
            let sql = format!(
                "INSERT INTO roll_lines (roll_id, seq, enrolment_id, award_id, household_id,
                    program, month, region_code, person_id, holder_name, account_cipher,
                    account_masked, amount_fen, reissue_of, status, reason, locked) VALUES {}",
                crate::value_rows(self.backend(), chunk.len(), 17)
            );
            on_tx!(self, c => {
                let mut q = sqlx::query(&sql);
                for l in chunk {
                    q = q.bind(roll_id).bind(l.seq).bind(l.enrolment_id).bind(l.award_id)
                        .bind(l.household_id).bind(&l.program).bind(l.month).bind(&l.region_code)
                        .bind(l.person_id).bind(&l.holder_name).bind(&l.account_cipher)
                        .bind(&l.account_masked).bind(l.amount_fen).bind(l.reissue_of)
                        .bind("pending").bind("").bind(false);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        on_tx!(self, c => sqlx::query(
            "UPDATE rolls SET lines = $1, total_fen = $2, digest = $3 WHERE id = $4 AND stage = 'draft'")
            .bind(lines.len() as i64)
            .bind(total_fen)
            .bind(digest)
            .bind(roll_id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn roll_lines(&mut self, roll_id: i64) -> Result<Vec<RollLine>> {
        let sql = format!("SELECT {LINE_COLUMNS} FROM roll_lines WHERE roll_id = $1 ORDER BY seq");
        let rows = on_tx!(self, c => sqlx::query_as(&sql).bind(roll_id).fetch_all(c).await)?;
        Ok(rows)
    }

    /// Lines of approved rolls that paid (or will pay) an enrolment's month, or an award:
    /// what a new roll must not pay again. (enrolment or award, month, roll).
    pub async fn locked_lines_in(
        &mut self,
        scope: &str,
    ) -> Result<Vec<(Option<i64>, Option<i64>, NaiveDate, i64)>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT enrolment_id, award_id, month, roll_id FROM roll_lines
             WHERE locked AND status <> 'failed' AND region_code LIKE $1")
            .bind(like_prefix(scope))
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
    /// The locked lines of the rolls paying in `month`, within a region.
    pub async fn lines_of_month(&mut self, scope: &str, month: NaiveDate) -> Result<Vec<RollLine>> {
        let sql = format!(
            "SELECT {} FROM roll_lines l JOIN rolls r ON r.id = l.roll_id
             WHERE r.month = $1 AND l.locked AND l.region_code LIKE $2 ORDER BY l.id",
            LINE_COLUMNS
                .split(',')
                .map(|c| format!("l.{}", c.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows = on_tx!(self, c => sqlx::query_as(&sql)
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
}
