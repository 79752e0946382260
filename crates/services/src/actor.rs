//! The authenticated user behind every use case: role, region, department, and how they came in.

use jiuzhu_domain::{Permission, RegionCode, Role};
use jiuzhu_store::{AuditEntry, Interface, UserRecord};

use crate::{Result, ServiceError};

#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub region: RegionCode,
    pub department: Option<String>,
    pub interface: Interface,
    pub ip: String,
    /// Set for API tokens issued read-only.
    pub read_only: bool,
}

impl Actor {
    pub fn from_user(user: &UserRecord, interface: Interface, ip: &str) -> Actor {
        Actor {
            user_id: Some(user.id),
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            role: user.role,
            region: user.region.clone(),
            department: user.department_code.clone(),
            interface,
            ip: ip.to_string(),
            read_only: false,
        }
    }

    /// The platform itself, acting over a whole county (migrations, demo data, batch jobs).
    pub fn system(region: RegionCode, interface: Interface) -> Actor {
        Actor {
            user_id: None,
            username: "system".to_string(),
            display_name: "系统".to_string(),
            role: Role::BureauAdmin,
            region,
            department: None,
            interface,
            ip: "local".to_string(),
            read_only: false,
        }
    }

    /// The platform checking its own audit log (at start, from the command line): the auditor's
    /// powers and nothing else.
    pub fn system_auditor(region: RegionCode, interface: Interface) -> Actor {
        Actor {
            role: Role::Auditor,
            ..Actor::system(region, interface)
        }
    }

    /// The person installing the platform at the command line: makes the administrators'
    /// accounts (which no administrator can make for another).
    pub fn installer(region: RegionCode) -> Actor {
        Actor {
            role: Role::SecurityAdmin,
            ..Actor::system(region, Interface::Cli)
        }
    }

    pub fn require(&self, p: Permission) -> Result<()> {
        let writes = !matches!(
            p,
            Permission::ReadPeople | Permission::ReadAudit | Permission::Simulate
        );
        if !self.role.allows(p) || (writes && self.read_only) {
            return Err(ServiceError::Forbidden);
        }
        Ok(())
    }

    /// Whether the actor may act on a case: the window's roles or a department's liaison, never
    /// through a read-only token. Saving a verification report or an evaluation is such an act:
    /// a saved report is what unlocks a grant.
    pub fn require_case_work(&self) -> Result<()> {
        if self.read_only
            || !(self.role.allows(Permission::WritePeople) || self.role == Role::DepartmentLiaison)
        {
            return Err(ServiceError::Forbidden);
        }
        Ok(())
    }

    /// The region prefix every query of this actor is limited to.
    pub fn scope(&self) -> &str {
        self.region.as_str()
    }

    /// The county (or county-level city) the actor works in: the first six digits of the scope.
    pub fn county(&self) -> &str {
        &self.scope()[..6.min(self.scope().len())]
    }

    pub fn covers(&self, region: &RegionCode) -> bool {
        self.region.contains(region)
    }

    pub fn audit(
        &self,
        action: &str,
        entity: &str,
        entity_id: impl ToString,
        region: Option<&str>,
        detail: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            actor_id: self.user_id,
            actor_name: self.username.clone(),
            actor_role: self.role.code().to_string(),
            interface: self.interface,
            ip: self.ip.clone(),
            action: action.to_string(),
            entity: entity.to_string(),
            entity_id: entity_id.to_string(),
            region_code: region.map(str::to_string),
            detail: detail.to_string(),
        }
    }
}
