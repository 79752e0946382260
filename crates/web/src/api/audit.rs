//! The audit record, for the auditor.

use axum::extract::State;
use axum::Json;
use jiuzhu_services::audit::AuditQuery;
use jiuzhu_services::audit::AuditRecord;
use jiuzhu_services::people::Page;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiQuery, ApiResult};
use crate::auth::ApiUser;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(audit))
}

#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = Page<AuditRecord>)))]
pub async fn audit(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Page<AuditRecord>> {
    Ok(Json(s.services.audit().search(&a, &q).await?))
}
