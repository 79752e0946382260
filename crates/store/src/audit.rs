//! The audit log: one row for every write and every read of a person's full record. The table
//! refuses UPDATE and DELETE by trigger on both backends; rows are written in the same
//! transaction as the change they record, so there is no change without its record.

use chrono::{DateTime, Utc};
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

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_name: Option<String>,
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

impl Tx {
    pub async fn append_audit(&mut self, e: &AuditEntry) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO audit_log (at, actor_id, actor_name, actor_role, interface, ip, action,
                entity, entity_id, region_code, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
            .bind(Utc::now())
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
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Newest first, with the total count of matches.
    pub async fn search_audit(&mut self, f: &AuditFilter) -> Result<(Vec<AuditRecord>, i64)> {
        let mut w = Where::default();
        if let Some(v) = &f.actor_name {
            w.and("actor_name = ?", Param::Text(v.clone()));
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
