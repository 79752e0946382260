//! Social forces: needs and commitments, consents, projects and funds, volunteers and their
//! services, new citizens.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use jiuzhu_services::people::{NewCitizens, PermitInput};
use jiuzhu_services::social::{
    CommitInput, ConsentInput, FundsView, NeedBoardItem, NeedInput, NeedView, ProjectInput,
    ServiceLogInput, ServiceLogView, VolunteerInput, VolunteerView,
};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiPath, ApiQuery, ApiResult, Created};
use crate::auth::ApiUser;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(needs, publish_need))
        .routes(routes!(need_board))
        .routes(routes!(commit))
        .routes(routes!(deliver))
        .routes(routes!(record_consent))
        .routes(routes!(funds, add_project))
        .routes(routes!(set_special_funds))
        .routes(routes!(volunteers, add_volunteer))
        .routes(routes!(service_logs, log_service))
        .routes(routes!(verify_service))
        .routes(routes!(correct_service))
        .routes(routes!(new_citizens, record_permit))
}

#[utoipa::path(get, path = "/needs", tag = "social", responses((status = 200, body = Vec<NeedView>)))]
pub async fn needs(State(s): State<AppState>, ApiUser(a): ApiUser) -> ApiResult<Vec<NeedView>> {
    Ok(Json(s.services.social().needs(&a).await?))
}

#[utoipa::path(post, path = "/needs", tag = "social", request_body = NeedInput, responses((status = 201, body = NeedView)))]
pub async fn publish_need(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(i): ApiJson<NeedInput>,
) -> Created<NeedView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.social().publish_need(&a, &i).await?),
    ))
}

#[utoipa::path(get, path = "/needs/board", tag = "social", responses((status = 200, body = Vec<NeedBoardItem>)))]
pub async fn need_board(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<NeedBoardItem>> {
    Ok(Json(s.services.social().board(&a).await?))
}

#[utoipa::path(post, path = "/needs/{id}/commitments", tag = "social", params(("id" = i64, Path)), request_body = CommitInput, responses((status = 201, body = NeedBoardItem)))]
pub async fn commit(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<CommitInput>,
) -> Created<NeedBoardItem> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.social().commit(&a, id, &i).await?),
    ))
}

#[utoipa::path(post, path = "/commitments/{id}/delivery", tag = "social", params(("id" = i64, Path)), responses((status = 200, body = NeedBoardItem)))]
pub async fn deliver(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<NeedBoardItem> {
    Ok(Json(s.services.social().deliver(&a, id).await?))
}

#[utoipa::path(post, path = "/consents", tag = "social", request_body = ConsentInput, responses((status = 204)))]
pub async fn record_consent(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(i): ApiJson<ConsentInput>,
) -> Result<StatusCode, crate::error::ApiError> {
    s.services.social().record_consent(&a, &i).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct YearQuery {
    /// The year; this year when left out.
    pub year: Option<i64>,
}

#[utoipa::path(get, path = "/projects", tag = "social", params(YearQuery), responses((status = 200, body = FundsView)))]
pub async fn funds(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<FundsView> {
    Ok(Json(s.services.social().funds(&a, q.year).await?))
}

#[utoipa::path(post, path = "/projects", tag = "social", request_body = ProjectInput, responses((status = 201, body = FundsView)))]
pub async fn add_project(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(i): ApiJson<ProjectInput>,
) -> Created<FundsView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.social().add_project(&a, &i).await?),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct FundsInput {
    /// The year's special assistance funds, in fen.
    pub amount_fen: i64,
}

#[utoipa::path(put, path = "/special-funds/{year}", tag = "social", params(("year" = i64, Path)), request_body = FundsInput, responses((status = 200, body = FundsView)))]
pub async fn set_special_funds(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(year): ApiPath<i64>,
    ApiJson(i): ApiJson<FundsInput>,
) -> ApiResult<FundsView> {
    Ok(Json(
        s.services
            .social()
            .set_special_funds(&a, year, i.amount_fen)
            .await?,
    ))
}

#[utoipa::path(get, path = "/volunteers", tag = "social", responses((status = 200, body = Vec<VolunteerView>)))]
pub async fn volunteers(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<VolunteerView>> {
    Ok(Json(s.services.social().volunteers(&a).await?))
}

#[utoipa::path(post, path = "/volunteers", tag = "social", request_body = VolunteerInput, responses((status = 201, body = VolunteerView)))]
pub async fn add_volunteer(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(i): ApiJson<VolunteerInput>,
) -> Created<VolunteerView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.social().add_volunteer(&a, &i).await?),
    ))
}

#[utoipa::path(get, path = "/service-logs", tag = "social", responses((status = 200, body = Vec<ServiceLogView>)))]
pub async fn service_logs(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<ServiceLogView>> {
    Ok(Json(s.services.social().service_logs(&a).await?))
}

#[utoipa::path(post, path = "/service-logs", tag = "social", request_body = ServiceLogInput, responses((status = 201, body = ServiceLogView)))]
pub async fn log_service(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(i): ApiJson<ServiceLogInput>,
) -> Created<ServiceLogView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.social().log_service(&a, &i).await?),
    ))
}

#[utoipa::path(post, path = "/service-logs/{id}/verification", tag = "social", params(("id" = i64, Path)), responses((status = 200, body = ServiceLogView)))]
pub async fn verify_service(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<ServiceLogView> {
    Ok(Json(s.services.social().verify_service(&a, id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CorrectionInput {
    pub reason: String,
}

#[utoipa::path(post, path = "/service-logs/{id}/correction", tag = "social", params(("id" = i64, Path)), request_body = CorrectionInput, responses((status = 200, body = ServiceLogView)))]
pub async fn correct_service(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<CorrectionInput>,
) -> ApiResult<ServiceLogView> {
    Ok(Json(
        s.services
            .social()
            .correct_service(&a, id, &i.reason)
            .await?,
    ))
}

#[utoipa::path(get, path = "/new-citizens", tag = "social", responses((status = 200, body = NewCitizens)))]
pub async fn new_citizens(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<NewCitizens> {
    Ok(Json(s.services.people().new_citizens(&a).await?))
}

#[utoipa::path(post, path = "/new-citizens", tag = "social", request_body = PermitInput, responses((status = 201, body = NewCitizens)))]
pub async fn record_permit(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(i): ApiJson<PermitInput>,
) -> Created<NewCitizens> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.people().record_permit(&a, &i).await?),
    ))
}
