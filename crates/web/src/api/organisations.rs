//! Organisations the window refers cases to.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use jiuzhu_services::organisations::{Organisation, OrganisationInput};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiPath, ApiResult, Created};
use crate::auth::ApiUser;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(organisations, add_organisation))
        .routes(routes!(update_organisation))
}

#[utoipa::path(get, path = "/organisations", tag = "cases", responses((status = 200, body = Vec<Organisation>)))]
pub async fn organisations(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<Organisation>> {
    Ok(Json(s.services.organisations().list(&a).await?))
}

#[utoipa::path(post, path = "/organisations", tag = "cases", request_body = OrganisationInput, responses((status = 201, body = Organisation)))]
pub async fn add_organisation(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(o): ApiJson<OrganisationInput>,
) -> Created<Organisation> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.organisations().add(&a, &o).await?),
    ))
}

#[utoipa::path(put, path = "/organisations/{id}", tag = "cases", params(("id" = i64, Path)), request_body = OrganisationInput, responses((status = 200, body = Organisation)))]
pub async fn update_organisation(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(o): ApiJson<OrganisationInput>,
) -> ApiResult<Organisation> {
    Ok(Json(s.services.organisations().update(&a, id, &o).await?))
}
