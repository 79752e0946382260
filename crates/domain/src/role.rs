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
        /// 县级民政部门审批: confirms 低保 and 特困 after the township's review, unless the
        /// jurisdiction delegates that to the township.
        CountyApprover => "county_approver", "县（市、区）民政局审批员";
        /// 系统管理员: configuration, the catalogue, the calendar, policy values, department files.
        BureauAdmin => "bureau_admin", "系统管理员";
        /// 安全管理员: accounts, roles and the tokens of department systems; nothing else.
        SecurityAdmin => "security_admin", "安全管理员";
        Supervisor => "supervisor", "督导员";
        /// 社会组织: a charity, social-work organisation, volunteer team or neighbour mutual-aid
        /// team registered with the bureau; reads the de-identified needs and answers them.
        Organisation => "organisation", "社会组织";
        /// 审计员: the audit log; nothing else.
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
    /// See a person's full identity number and phone (each time recorded as a reveal).
    RevealIdentity,
    /// Keep recipients: record changes, propose review outcomes, write plans and visits.
    ManageRecipients,
    /// Review (审核) and confirm (确认) enrolments and review outcomes; never one's own.
    ApproveAssistance,
    /// Receive, transfer and answer complaints (首问负责): every staff member who meets the public.
    HandleComplaints,
    /// Plan random inspections and publish their results; watch every complaint of the county.
    Supervise,
    /// Read the needs published to organisations, commit to them and report delivery; log the
    /// services of one's volunteers.
    ServeNeeds,
}

impl Role {
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        // 三权分立 (等保 三级): the system, security and audit administrators each hold one
        // power, and none holds another's.
        match self {
            Role::WindowClerk | Role::VillageAssistant => {
                matches!(
                    p,
                    ReadPeople | WritePeople | RevealIdentity | ManageRecipients | HandleComplaints
                )
            }
            Role::TownshipReviewer => matches!(
                p,
                ReadPeople
                    | RevealIdentity
                    | ManageRecipients
                    | ApproveAssistance
                    | HandleComplaints
            ),
            Role::CountyApprover => matches!(
                p,
                ReadPeople | RevealIdentity | ApproveAssistance | HandleComplaints
            ),
            Role::Supervisor => matches!(
                p,
                ReadPeople | Simulate | RevealIdentity | HandleComplaints | Supervise
            ),
            Role::BureauAdmin => matches!(
                p,
                ReadPeople | EditCatalogue | ManageCalendar | EditPolicy | Simulate | ImportFeeds
            ),
            Role::SecurityAdmin => matches!(p, ManageUsers),
            Role::Auditor => matches!(p, ReadAudit),
            // Liaisons see the people of the cases transferred to their department, not the
            // registry; a complaint transferred to their department is theirs to answer.
            Role::DepartmentLiaison => p == HandleComplaints,
            Role::Organisation => p == ServeNeeds,
        }
    }

    /// The three administrators of 三权分立: their accounts are made at installation, not by
    /// one another.
    pub fn is_administrator(self) -> bool {
        matches!(
            self,
            Role::BureauAdmin | Role::SecurityAdmin | Role::Auditor
        )
    }

    /// The region level a user of this role is attached to.
    pub fn region_level(self) -> crate::RegionLevel {
        use crate::RegionLevel::*;
        match self {
            Role::VillageAssistant => Village,
            Role::WindowClerk | Role::TownshipReviewer => Township,
            Role::DepartmentLiaison
            | Role::CountyApprover
            | Role::BureauAdmin
            | Role::SecurityAdmin
            | Role::Supervisor
            | Role::Organisation
            | Role::Auditor => County,
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

    #[test]
    fn no_administrator_holds_another_ones_power() {
        let powers = [
            Permission::EditCatalogue,
            Permission::ManageUsers,
            Permission::ReadAudit,
        ];
        for (role, own) in [
            (Role::BureauAdmin, Permission::EditCatalogue),
            (Role::SecurityAdmin, Permission::ManageUsers),
            (Role::Auditor, Permission::ReadAudit),
        ] {
            for p in powers {
                assert_eq!(role.allows(p), p == own, "{role:?} {p:?}");
            }
            assert!(!role.allows(Permission::RevealIdentity), "{role:?}");
        }
    }
}
