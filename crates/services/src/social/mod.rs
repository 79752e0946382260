//! Social forces (社会帮助、邻里互助, seed 003 §三(三)2–3, seed 000 §三(三)1, seed 004 §17–19):
//! needs from households' plans published de-identified to the registered organisations, which
//! commit and deliver (`needs.rs`); charity and social-work projects with the city : township
//! 3 : 7 split and the cap on government-bought services (`projects.rs`); volunteers, their
//! services, verified hours, points and the honour board (`volunteers.rs`).

mod needs;
mod projects;
mod volunteers;

pub use needs::{
    CommitInput, ConsentInput, NeedBoardItem, NeedInput, NeedReportRow, NeedView, Publishable,
};
pub use projects::{FundsView, ProjectInput, ProjectView};
pub use volunteers::{HonourRow, ServiceLogInput, ServiceLogView, VolunteerInput, VolunteerView};

use jiuzhu_domain::{Permission, Role};
use jiuzhu_store::Tx;

use crate::{Actor, Result, ServiceError};

/// The organisation a social organisation's account works for.
pub(crate) async fn organisation_of(tx: &mut Tx, actor: &Actor) -> Result<i64> {
    if actor.role != Role::Organisation {
        return Err(ServiceError::Forbidden);
    }
    actor.require(Permission::ServeNeeds)?;
    tx.user_by_name(actor.username.split('#').next().unwrap_or(&actor.username))
        .await?
        .and_then(|u| u.organisation_id)
        .ok_or(ServiceError::Forbidden)
}

/// The area an organisation serves: its township, or the whole county.
pub(crate) async fn area_of(tx: &mut Tx, organisation: i64) -> Result<String> {
    Ok(tx
        .organisation(organisation)
        .await?
        .map(|o| o.region_code)
        .unwrap_or_default())
}
