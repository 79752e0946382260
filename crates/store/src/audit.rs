//! The audit log: one row for every write and every read of a person's full record. The table
//! refuses UPDATE and DELETE by trigger on both backends; rows are written in the same
//! transaction as the change they record, so there is no change without its record.

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::{bind_params, like_prefix, on_tx, Param, Result, Tx, Where};

/// The way an action reached the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interface {
    Web,
    Api,
    Cli,
    System,
}

impl Interface {
    pub fn code(self) -> &'static str {
        match self {
            Interface::Web => "web",
            Interface::Api => "api",
            Interface::Cli => "cli",
            Interface::System => "system",
        }
    }
}

#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub actor_role: String,
    pub interface: Interface,
    pub ip: String,
    /// What was done, e.g. `person.read`, `person.create`, `item.update`, `login.failed`.
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub region_code: Option<String>,
    /// What changed (field names and, for non-sensitive fields, values), as JSON text.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub actor_role: String,
    pub interface: String,
    pub ip: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub region_code: Option<String>,
    pub detail: String,
}

/// A row with its place in the chain and its seal.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SealedRecord {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub record: AuditRecord,
    pub chain_seq: i64,
    pub seal: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_name: Option<String>,
    /// Rows of actors in this role only (the other administrators see the auditor's).
    pub actor_role: Option<String>,
    /// Prefix of the action: `person` finds `person.read` and `person.update`.
    pub action_prefix: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// Entries within this region, and the county-wide ones that have no region.
    pub region_prefix: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: i64,
    pub offset: i64,
}

/// What the chain's seals are keyed for.
const CHAIN: &str = "audit_log.chain";

/// The text a row's seal covers: the seal before it, its place in the chain and every field,
/// as a JSON array so that no two rows read the same.
fn chained(prev: &str, seq: i64, r: &AuditRecord) -> String {
    serde_json::to_string(&(
        prev,
        seq,
        r.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        r.actor_id,
        &r.actor_name,
        &r.actor_role,
        &r.interface,
        &r.ip,
        &r.action,
        &r.entity,
        &r.entity_id,
        &r.region_code,
        &r.detail,
    ))
    .expect("strings and numbers serialise")
}

/// Where the audit chain was found broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    /// The row, when the break is a row (not a missing one).
    pub id: Option<i64>,
    /// Its place in the chain (0 for the rows sealed together when the chain began).
    pub seq: i64,
    pub reason: String,
}

/// The outcome of checking every seal of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Rows checked: those of the chain and those sealed together before it began.
    pub rows: i64,
    pub genesis_rows: i64,
    /// The first break, in chain order; `None` when every seal holds.
    pub broken: Option<ChainBreak>,
}

const RECORD_COLUMNS: &str = "id, at, actor_id, actor_name, actor_role, interface, ip, action,
    entity, entity_id, region_code, detail";

impl Tx {
    pub async fn append_audit(&mut self, e: &AuditEntry) -> Result<()> {
        // Stored to the microsecond, as both databases keep it, so the seal reads back the same.
        let now = Utc::now();
        let at = now
            .with_nanosecond(now.nanosecond() / 1000 * 1000)
            .unwrap_or(now);
        // Taking the next place in the chain locks its head until this transaction ends, so
        // rows are sealed in the order they commit.
        let (seq, prev): (i64, String) = on_tx!(self, c => sqlx::query_as(
            "UPDATE audit_chain SET seq = seq + 1 WHERE id = 1 RETURNING seq, last_seal")
            .fetch_one(c).await)?;
        let record = AuditRecord {
            id: 0,
            at,
            actor_id: e.actor_id,
            actor_name: e.actor_name.clone(),
            actor_role: e.actor_role.clone(),
            interface: e.interface.code().to_string(),
            ip: e.ip.clone(),
            action: e.action.clone(),
            entity: e.entity.clone(),
            entity_id: e.entity_id.clone(),
            region_code: e.region_code.clone(),
            detail: e.detail.clone(),
        };
        let seal = self.cipher.seal(CHAIN, &chained(&prev, seq, &record));
        on_tx!(self, c => sqlx::query(
            "INSERT INTO audit_log (at, actor_id, actor_name, actor_role, interface, ip, action,
                entity, entity_id, region_code, detail, chain_seq, seal)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
            .bind(at)
            .bind(e.actor_id)
            .bind(&e.actor_name)
            .bind(&e.actor_role)
            .bind(e.interface.code())
            .bind(&e.ip)
            .bind(&e.action)
            .bind(&e.entity)
            .bind(&e.entity_id)
            .bind(&e.region_code)
            .bind(&e.detail)
            .bind(seq)
            .bind(&seal)
            .execute(c).await.map(|r| r.rows_affected()))?;
        on_tx!(self, c => sqlx::query("UPDATE audit_chain SET last_seal = $1 WHERE id = 1")
            .bind(&seal)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The rows written before the chain began, in order, sealed as one link.
    async fn genesis(&mut self) -> Result<(i64, String)> {
        let sql =
            format!("SELECT {RECORD_COLUMNS} FROM audit_log WHERE chain_seq IS NULL ORDER BY id");
        let rows: Vec<AuditRecord> = on_tx!(self, c => sqlx::query_as(&sql).fetch_all(c).await)?;
        let mut seal = self.cipher.seal(CHAIN, "genesis");
        for r in &rows {
            seal = self.cipher.seal(CHAIN, &chained(&seal, 0, r));
        }
        Ok((rows.len() as i64, seal))
    }

    /// Starts the chain where there is none yet: the rows already written become its first link.
    pub(crate) async fn ensure_audit_chain(&mut self) -> Result<()> {
        let head: Option<i64> = on_tx!(self, c => sqlx::query_scalar(
            "SELECT seq FROM audit_chain WHERE id = 1").fetch_optional(c).await)?;
        if head.is_some() {
            return Ok(());
        }
        let (rows, seal) = self.genesis().await?;
        on_tx!(self, c => sqlx::query(
            "INSERT INTO audit_chain (id, seq, last_seal, genesis_rows, genesis_seal)
             VALUES (1, 0, $1, $2, $1)")
            .bind(&seal)
            .bind(rows)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Checks every seal of the audit log, in chain order, and reports the first break: a row
    /// changed, removed or added around the chain, or rows cut off its end.
    pub async fn verify_audit_chain(&mut self) -> Result<ChainReport> {
        let (head_seq, head_seal, genesis_rows, genesis_seal): (i64, String, i64, String) = on_tx!(self, c => sqlx::query_as(
                "SELECT seq, last_seal, genesis_rows, genesis_seal FROM audit_chain WHERE id = 1")
                .fetch_one(c).await)?;
        let (rows, seal) = self.genesis().await?;
        let broken = |id, seq, reason: String| Some(ChainBreak { id, seq, reason });
        if rows != genesis_rows || seal != genesis_seal {
            return Ok(ChainReport {
                rows,
                genesis_rows,
                broken: broken(
                    None,
                    0,
                    format!(
                        "链前记录（{genesis_rows}条）已被改动：现有{rows}条未入链记录，封印不符"
                    ),
                ),
            });
        }
        let mut checked = rows;
        let (mut prev, mut expected) = (genesis_seal, 1i64);
        let sql = format!(
            "SELECT {RECORD_COLUMNS}, chain_seq, seal FROM audit_log
             WHERE chain_seq >= $1 ORDER BY chain_seq LIMIT 10000"
        );
        loop {
            let batch: Vec<SealedRecord> = on_tx!(self, c => sqlx::query_as(&sql)
                .bind(expected)
                .fetch_all(c).await)?;
            if batch.is_empty() {
                break;
            }
            for r in batch {
                if r.chain_seq != expected {
                    return Ok(ChainReport {
                        rows: checked,
                        genesis_rows,
                        broken: broken(
                            None,
                            expected,
                            format!(
                                "第{expected}条记录缺失（下一条是第{}条，编号{}）",
                                r.chain_seq, r.record.id
                            ),
                        ),
                    });
                }
                if self
                    .cipher
                    .seal(CHAIN, &chained(&prev, expected, &r.record))
                    != r.seal
                {
                    return Ok(ChainReport {
                        rows: checked,
                        genesis_rows,
                        broken: broken(
                            Some(r.record.id),
                            expected,
                            format!(
                                "编号{}的记录与其封印不符：内容或其前一条已被改动",
                                r.record.id
                            ),
                        ),
                    });
                }
                checked += 1;
                prev = r.seal;
                expected += 1;
            }
        }
        let last = expected - 1;
        let broken = if last != head_seq || prev != head_seal {
            broken(
                None,
                last + 1,
                format!("链尾应为第{head_seq}条，实际止于第{last}条：末尾记录被删除"),
            )
        } else {
            None
        };
        Ok(ChainReport {
            rows: checked,
            genesis_rows,
            broken,
        })
    }

    /// The rows written in `[from, to)`, oldest first, with their place in the chain and seal:
    /// what is archived.
    pub async fn audit_rows_between(
        &mut self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SealedRecord>> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS}, COALESCE(chain_seq, 0) AS chain_seq, COALESCE(seal, '') AS seal
             FROM audit_log WHERE at >= $1 AND at < $2 ORDER BY id"
        );
        Ok(on_tx!(self, c => sqlx::query_as(&sql).bind(from).bind(to).fetch_all(c).await)?)
    }

    /// Newest first, with the total count of matches.
    pub async fn search_audit(&mut self, f: &AuditFilter) -> Result<(Vec<AuditRecord>, i64)> {
        let mut w = Where::default();
        if let Some(v) = &f.actor_name {
            w.and("actor_name = ?", Param::Text(v.clone()));
        }
        if let Some(v) = &f.actor_role {
            w.and("actor_role = ?", Param::Text(v.clone()));
        }
        if let Some(v) = &f.action_prefix {
            w.and("action LIKE ? ESCAPE '\\'", Param::Text(like_prefix(v)));
        }
        if let Some(v) = &f.entity {
            w.and("entity = ?", Param::Text(v.clone()));
        }
        if let Some(v) = &f.entity_id {
            w.and("entity_id = ?", Param::Text(v.clone()));
        }
        if let Some(v) = &f.region_prefix {
            w.and(
                "(region_code IS NULL OR region_code LIKE ?)",
                Param::Text(like_prefix(v)),
            );
        }
        if let Some(v) = f.from {
            w.and("at >= ?", Param::Ts(v));
        }
        if let Some(v) = f.to {
            w.and("at < ?", Param::Ts(v));
        }
        let count_sql = format!("SELECT COUNT(*) FROM audit_log{}", w.sql());
        let total: i64 = on_tx!(self, c => bind_params!(sqlx::query_scalar(&count_sql), &w.params)
            .fetch_one(c)
            .await)?;
        let n = w.next();
        let sql = format!(
            "SELECT id, at, actor_id, actor_name, actor_role, interface, ip, action, entity,
                    entity_id, region_code, detail
             FROM audit_log{} ORDER BY id DESC LIMIT ${n} OFFSET ${}",
            w.sql(),
            n + 1
        );
        let rows: Vec<AuditRecord> = on_tx!(self, c => bind_params!(sqlx::query_as(&sql), &w.params)
            .bind(f.limit)
            .bind(f.offset)
            .fetch_all(c)
            .await)?;
        Ok((rows, total))
    }
}
