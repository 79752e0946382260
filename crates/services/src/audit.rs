//! The auditor's search of the audit log.

use chrono::{DateTime, NaiveDate, Utc};
use jiuzhu_domain::{Permission, Role};
use jiuzhu_store::{AuditFilter, ChainReport, SealedRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::people::Page;
use crate::{clock, Actor, Audit, Result, ServiceError};

/// One row of the audit log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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

impl From<jiuzhu_store::AuditRecord> for AuditRecord {
    fn from(r: jiuzhu_store::AuditRecord) -> Self {
        AuditRecord {
            id: r.id,
            at: r.at,
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            actor_role: r.actor_role,
            interface: r.interface,
            ip: r.ip,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            region_code: r.region_code,
            detail: r.detail,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct AuditQuery {
    /// Username of who acted.
    pub actor: Option<String>,
    /// Action or its prefix: `person` finds person.read, person.update, ...
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// First day (China time), inclusive.
    pub from: Option<NaiveDate>,
    /// Last day (China time), inclusive.
    pub to: Option<NaiveDate>,
    pub page: Option<i64>,
}

const AUDIT_PER_PAGE: i64 = 100;

fn text(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl Audit<'_> {
    /// The auditor searches the whole log. The system and security administrators see the
    /// auditor's own actions, so that whoever watches is watched too (三权分立).
    pub async fn search(&self, actor: &Actor, q: &AuditQuery) -> Result<Page<AuditRecord>> {
        let only_auditors = if actor.role.allows(Permission::ReadAudit) {
            None
        } else if matches!(actor.role, Role::BureauAdmin | Role::SecurityAdmin) && !actor.read_only
        {
            Some(Role::Auditor.code().to_string())
        } else {
            return Err(ServiceError::Forbidden);
        };
        if let (Some(from), Some(to)) = (q.from, q.to) {
            if to < from {
                return Err(ServiceError::invalid("to", "结束日期不能早于开始日期"));
            }
        }
        let start_of = clock::day_start;
        let page = q.page.unwrap_or(1).max(1);
        let filter = AuditFilter {
            actor_name: text(&q.actor),
            actor_role: only_auditors,
            action_prefix: text(&q.action),
            entity: text(&q.entity),
            entity_id: text(&q.entity_id),
            region_prefix: Some(actor.scope().to_string()),
            from: q.from.map(start_of),
            to: q.to.and_then(|d| d.succ_opt()).map(start_of),
            limit: AUDIT_PER_PAGE,
            offset: (page - 1) * AUDIT_PER_PAGE,
        };
        let mut tx = self.store.begin().await?;
        let (items, total) = tx.search_audit(&filter).await?;
        tx.append_audit(&actor.audit(
            "audit.search",
            "audit_log",
            "-",
            None,
            json!({"actor": filter.actor_name, "action": filter.action_prefix, "entity": filter.entity, "entity_id": filter.entity_id}),
        ))
        .await?;
        tx.commit().await?;
        Ok(Page {
            items: items.into_iter().map(Into::into).collect(),
            total,
            page,
            per_page: AUDIT_PER_PAGE,
        })
    }

    /// A request refused to someone signed in: out of their region (answered "not found") or
    /// beyond their role. Written with the reads, in groups.
    pub async fn refused(
        &self,
        actor: &Actor,
        method: &str,
        path: &str,
        status: u16,
    ) -> Result<()> {
        self.reads
            .record(actor.audit(
                "access.refused",
                "request",
                path,
                None,
                json!({"method": method, "status": status}),
            ))
            .await
    }

    /// Checks every seal of the audit chain (the auditor, or the platform itself at start and
    /// from the command line). The check is itself recorded.
    pub async fn verify(&self, actor: &Actor) -> Result<ChainReport> {
        actor.require(Permission::ReadAudit)?;
        let mut tx = self.store.begin().await?;
        let report = tx.verify_audit_chain().await?;
        tx.append_audit(&actor.audit(
            "audit.verify",
            "audit_log",
            "-",
            None,
            json!({"rows": report.rows, "broken": report.broken}),
        ))
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// The rows of a period (China dates, both included) with their seals, for archiving. The
    /// platform never deletes audit rows; an archive is a copy.
    pub async fn export(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SealedRecord>> {
        actor.require(Permission::ReadAudit)?;
        if to < from {
            return Err(ServiceError::invalid("to", "结束日期不能早于开始日期"));
        }
        let (start, end) = clock::days(from, to);
        let mut tx = self.store.begin().await?;
        let rows = tx.audit_rows_between(start, end).await?;
        tx.append_audit(&actor.audit(
            "audit.export",
            "audit_log",
            "-",
            None,
            json!({"from": from, "to": to, "rows": rows.len()}),
        ))
        .await?;
        tx.commit().await?;
        Ok(rows)
    }
}
