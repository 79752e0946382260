//! Who works in the platform, and what each role may do. Region scope is checked separately,
//! against the user's region code.

use crate::person::coded_enum;
use serde::{Deserialize, Serialize};

coded_enum! {
    Role {
        WindowClerk => "window_clerk", "窗口受理员";
        VillageAssistant => "village_assistant", "村（社区）协理员";
        DepartmentLiaison => "department_liaison", "部门联络专员";
        TownshipReviewer => "township_reviewer", "乡镇（街道）审核员";
        BureauAdmin => "bureau_admin", "民政局管理员";
        Supervisor => "supervisor", "督导员";
        Auditor => "auditor", "审计员";
    }
}

/// What an action needs; each role grants a fixed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ReadPeople,
    WritePeople,
    EditCatalogue,
    ManageUsers,
    ReadAudit,
    ManageCalendar,
    /// Add effective-dated parameter values to the policy packs.
    EditPolicy,
    /// Run what-if simulations over the whole registry.
    Simulate,
    /// Import department feed files of any category.
    ImportFeeds,
}

impl Role {
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::WindowClerk | Role::VillageAssistant => matches!(p, ReadPeople | WritePeople),
            Role::TownshipReviewer => matches!(p, ReadPeople),
            Role::Supervisor => matches!(p, ReadPeople | Simulate),
            Role::BureauAdmin => matches!(
                p,
                ReadPeople
                    | WritePeople
                    | EditCatalogue
                    | ManageUsers
                    | ManageCalendar
                    | EditPolicy
                    | Simulate
                    | ImportFeeds
            ),
            Role::Auditor => matches!(p, ReadAudit),
            // Liaisons see the people of the cases transferred to their department, not the registry.
            Role::DepartmentLiaison => false,
        }
    }

    /// The region level a user of this role is attached to.
    pub fn region_level(self) -> crate::RegionLevel {
        use crate::RegionLevel::*;
        match self {
            Role::VillageAssistant => Village,
            Role::WindowClerk | Role::TownshipReviewer => Township,
            Role::DepartmentLiaison | Role::BureauAdmin | Role::Supervisor | Role::Auditor => {
                County
            }
        }
    }

    pub fn needs_department(self) -> bool {
        self == Role::DepartmentLiaison
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supervisors_read_and_never_write() {
        assert!(Role::Supervisor.allows(Permission::ReadPeople));
        assert!(!Role::Supervisor.allows(Permission::WritePeople));
        assert!(Role::Auditor.allows(Permission::ReadAudit));
        assert!(!Role::BureauAdmin.allows(Permission::ReadAudit));
        assert!(!Role::Auditor.allows(Permission::ReadPeople));
        assert!(Role::BureauAdmin.allows(Permission::EditCatalogue));
        assert!(!Role::WindowClerk.allows(Permission::EditCatalogue));
    }
}
