//! Openness and supervision (seed 000 §三(三)4, seed 003 §三(五), seed 004 §20, §22): public
//! notices of decisions with masked names and the objections to them (`publicity.rs`),
//! complaints and reports with first-contact responsibility (`complaints.rs`), random
//! inspections drawn from a published seed (`inspections.rs`), and the monthly statistics and
//! performance indicators (`statistics.rs`).
//!
//! Members of the public reach notices, objections and complaints without signing in; what they
//! send is checked field by field, kept as plain text and never rendered as markup, and each
//! submission is audited under the address it came from.

mod complaints;
mod inspections;
mod publicity;
mod statistics;

pub use complaints::{
    ComplaintInput, ComplaintStep, ComplaintView, PublicComplaint, PublicComplaintStatus, Unit,
};
pub use inspections::{
    InspectionInput, InspectionResultInput, Inspector, PlanView, PublicPlan, TargetView,
};
pub(crate) use publicity::open_objections;
pub use publicity::{
    AnswerInput, EntryView, NoticeInput, NoticeView, ObjectionInput, ObjectionView,
    PublicObjectionStatus,
};
pub use statistics::{
    MonthlyReport, Performance, PerformanceRow, PublicStatistics, ReportRow, TrendPoint,
};

use jiuzhu_domain::Role;
use jiuzhu_store::{AuditEntry, Interface, Tx};
use rand::Rng;

use crate::{Actor, Result, ServiceError};

/// Longest text a member of the public may send in one field.
pub const MAX_PUBLIC_TEXT: usize = 2000;

/// The unit a staff member works in: their department, or their township or county office. A
/// complaint is owned by a unit (首问负责), and one about a staff member is hidden from theirs.
pub fn unit_of(role: Role, region: &str, department: Option<&str>) -> String {
    match (role, department) {
        (Role::DepartmentLiaison, Some(d)) => format!("dept:{d}"),
        _ => region.to_string(),
    }
}

pub(crate) fn actor_unit(actor: &Actor) -> String {
    unit_of(actor.role, actor.scope(), actor.department.as_deref())
}

/// A free-text field from the public or staff: trimmed, required or not, within its length.
pub(crate) fn bounded(field: &str, value: &str, what: &str, max: usize) -> Result<String> {
    let t = value.trim();
    if t.is_empty() {
        return Err(ServiceError::invalid(field, format!("请填写{what}")));
    }
    if t.chars().count() > max {
        return Err(ServiceError::invalid(
            field,
            format!("{what}不能超过{max}字（现为{}字）", t.chars().count()),
        ));
    }
    Ok(t.to_string())
}

/// An optional contact (a phone number or an address) of an objector or complainant.
pub(crate) fn contact(value: &str) -> Result<Option<String>> {
    let t = value.trim();
    if t.is_empty() {
        return Ok(None);
    }
    bounded("contact", t, "联系方式", 100).map(Some)
}

/// A tracking number (`TS20261206003`) and the six-digit code that must come with it to look
/// the reply up: the number alone, printed or guessed, shows nothing.
pub(crate) async fn tracking_number(
    tx: &mut Tx,
    table: &str,
    prefix: &str,
    on: chrono::NaiveDate,
) -> Result<(String, String)> {
    let day = format!("{prefix}{}", on.format("%Y%m%d"));
    let n = tx.count_numbers_like(table, &day).await?;
    let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000));
    Ok((format!("{day}{:03}", n + 1), code))
}

/// The audit record of what a member of the public did, under the address it came from.
pub(crate) fn public_audit(
    ip: &str,
    action: &str,
    entity: &str,
    id: impl ToString,
    region: &str,
    detail: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        actor_id: None,
        actor_name: "public".into(),
        actor_role: "public".into(),
        interface: Interface::Web,
        ip: ip.to_string(),
        action: action.into(),
        entity: entity.into(),
        entity_id: id.to_string(),
        region_code: Some(region.to_string()),
        detail: detail.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_text_is_bounded_with_its_length_said() {
        assert!(bounded("content", "  ", "异议内容", 10).is_err());
        let e = bounded("content", &"很".repeat(11), "异议内容", 10).unwrap_err();
        assert!(e.to_string().contains("不能超过10字（现为11字）"), "{e}");
        assert_eq!(bounded("content", " 有 ", "异议内容", 10).unwrap(), "有");
    }

    #[test]
    fn liaisons_work_in_their_department_others_in_their_office() {
        assert_eq!(
            unit_of(Role::DepartmentLiaison, "320582", Some("medical_insurance")),
            "dept:medical_insurance"
        );
        assert_eq!(unit_of(Role::WindowClerk, "320582100", None), "320582100");
    }
}
