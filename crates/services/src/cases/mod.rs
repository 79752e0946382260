//! One-window intake and collaborative handling: file an application, register it, transfer
//! each accepted item to its department, take the departments' steps, close with the combined
//! result. Every step is checked by the case's folded state and recorded as an event in the
//! same transaction as its audit row and the per-item projection.
//!
//! One file per use case: `intake` (filing), `registration` (the window's decisions),
//! `department` (a department's steps on its item), `window` (the window's later steps and
//! 督办), `queries` (reading cases, work lists, the applicant's status page), `register` (the
//! 登记表). `events` is the plumbing every step goes through; `views` what is sent back.

mod department;
mod events;
mod intake;
mod materials;
mod online;
mod queries;
mod register;
mod registration;
mod views;
mod window;

pub use department::{Completion, DepartmentStep, MAX_GRANT};
pub use intake::{Application, ApplicationInput};
pub use materials::{sniff, MaterialUpload, MaterialView, MAX_UPLOAD};
pub use online::{
    application_no, case_of_application_no, OnlineApplication, OnlineMember, OnlineReceipt,
    VERIFICATION_CONSENT,
};
pub use queries::Queue;
pub use register::{stage_label, RegisterRow};
pub use registration::{AssessmentInput, MissingInput, ReasonedItem, RegistrationInput};
pub use views::{
    CaseItemRow, CaseToClose, CaseView, DeadlineView, EventView, ItemMaterials, ItemView,
    PublicItem, PublicStatus,
};
pub use window::WindowStep;

pub(crate) use events::Loaded;

use jiuzhu_domain::case::CaseError;

use crate::{Result, ServiceError};

/// A refusal of the case's rules, with items and departments named as the catalogue names them.
fn refused(
    catalogue: &jiuzhu_domain::catalogue::Catalogue,
) -> impl Fn(CaseError) -> ServiceError + '_ {
    move |e| ServiceError::Conflict {
        field: None,
        message: e
            .named(|code| {
                catalogue
                    .item(code)
                    .map(|i| i.name.clone())
                    .or_else(|| {
                        catalogue
                            .departments
                            .iter()
                            .find(|d| d.code == code)
                            .map(|d| d.name.clone())
                    })
                    .unwrap_or_else(|| code.to_string())
            })
            .to_string(),
    }
}

/// The trimmed text of a required field, or the request to fill it in.
pub(crate) fn text(field: &str, s: &str, what: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ServiceError::invalid(field, format!("请填写{what}")));
    }
    Ok(t.to_string())
}
