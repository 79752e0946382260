//! Public notices and objections, complaints, random inspections, statistics and performance.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use jiuzhu_services::openness::{
    AnswerInput, ComplaintInput, ComplaintStep, ComplaintView, InspectionInput,
    InspectionResultInput, MonthlyReport, NoticeInput, NoticeView, ObjectionInput, ObjectionView,
    Performance, PlanView,
};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::recipients::MonthQuery;
use super::{ApiJson, ApiPath, ApiQuery, ApiResult, Created};
use crate::auth::ApiUser;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(notices, publish))
        .routes(routes!(notice))
        .routes(routes!(record_objection))
        .routes(routes!(objections))
        .routes(routes!(answer_objection))
        .routes(routes!(complaints, record_complaint))
        .routes(routes!(complaint))
        .routes(routes!(complaint_step))
        .routes(routes!(inspections, plan_inspection))
        .routes(routes!(inspection))
        .routes(routes!(record_inspection))
        .routes(routes!(publish_inspection))
        .routes(routes!(monthly_statistics))
        .routes(routes!(performance))
}

/// The tracking number of an objection and the code that looks up its answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Tracking {
    pub number: String,
    pub code: String,
}

#[utoipa::path(get, path = "/notices", tag = "openness", responses((status = 200, body = Vec<NoticeView>)))]
pub async fn notices(State(s): State<AppState>, ApiUser(a): ApiUser) -> ApiResult<Vec<NoticeView>> {
    Ok(Json(s.services.openness().notices(&a).await?))
}

#[utoipa::path(post, path = "/notices", tag = "openness", request_body = NoticeInput, responses((status = 201, body = NoticeView)))]
pub async fn publish(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(input): ApiJson<NoticeInput>,
) -> Created<NoticeView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.openness().publish(&a, &input).await?),
    ))
}

#[utoipa::path(get, path = "/notices/{id}", tag = "openness", params(("id" = i64, Path)), responses((status = 200, body = NoticeView)))]
pub async fn notice(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<NoticeView> {
    Ok(Json(s.services.openness().notice(&a, id).await?))
}

#[utoipa::path(post, path = "/notices/{id}/objections", tag = "openness", params(("id" = i64, Path)), request_body = ObjectionInput, responses((status = 201, body = Tracking)))]
pub async fn record_objection(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ObjectionInput>,
) -> Created<Tracking> {
    let (number, code) = s
        .services
        .openness()
        .record_objection(&a, id, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(Tracking { number, code })))
}

#[utoipa::path(get, path = "/objections", tag = "openness", responses((status = 200, body = Vec<ObjectionView>)))]
pub async fn objections(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<ObjectionView>> {
    Ok(Json(s.services.openness().objections(&a).await?))
}

#[utoipa::path(post, path = "/objections/{id}/answer", tag = "openness", params(("id" = i64, Path)), request_body = AnswerInput, responses((status = 200, body = ObjectionView)))]
pub async fn answer_objection(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<AnswerInput>,
) -> ApiResult<ObjectionView> {
    Ok(Json(
        s.services
            .openness()
            .answer_objection(&a, id, &input)
            .await?,
    ))
}

#[utoipa::path(get, path = "/complaints", tag = "openness", responses((status = 200, body = Vec<ComplaintView>)))]
pub async fn complaints(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<ComplaintView>> {
    Ok(Json(s.services.openness().complaints(&a).await?))
}

#[utoipa::path(post, path = "/complaints", tag = "openness", request_body = ComplaintInput, responses((status = 201, body = ComplaintView)))]
pub async fn record_complaint(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(input): ApiJson<ComplaintInput>,
) -> Created<ComplaintView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.openness().record_complaint(&a, &input).await?),
    ))
}

#[utoipa::path(get, path = "/complaints/{id}", tag = "openness", params(("id" = i64, Path)), responses((status = 200, body = ComplaintView)))]
pub async fn complaint(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<ComplaintView> {
    Ok(Json(s.services.openness().complaint(&a, id).await?))
}

#[utoipa::path(post, path = "/complaints/{id}/steps", tag = "openness", params(("id" = i64, Path)), request_body = ComplaintStep, responses((status = 200, body = ComplaintView)))]
pub async fn complaint_step(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(step): ApiJson<ComplaintStep>,
) -> ApiResult<ComplaintView> {
    Ok(Json(s.services.openness().step(&a, id, &step).await?))
}

#[utoipa::path(get, path = "/inspections", tag = "openness", responses((status = 200, body = Vec<PlanView>)))]
pub async fn inspections(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<PlanView>> {
    Ok(Json(s.services.openness().inspections(&a).await?))
}

#[utoipa::path(post, path = "/inspections", tag = "openness", request_body = InspectionInput, responses((status = 201, body = PlanView)))]
pub async fn plan_inspection(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(input): ApiJson<InspectionInput>,
) -> Created<PlanView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.openness().plan_inspection(&a, &input).await?),
    ))
}

#[utoipa::path(get, path = "/inspections/{id}", tag = "openness", params(("id" = i64, Path)), responses((status = 200, body = PlanView)))]
pub async fn inspection(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<PlanView> {
    Ok(Json(s.services.openness().inspection(&a, id).await?))
}

#[utoipa::path(post, path = "/inspections/targets/{id}/result", tag = "openness", params(("id" = i64, Path)), request_body = InspectionResultInput, responses((status = 200, body = PlanView)))]
pub async fn record_inspection(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<InspectionResultInput>,
) -> ApiResult<PlanView> {
    Ok(Json(
        s.services
            .openness()
            .record_inspection(&a, id, &input)
            .await?,
    ))
}

#[utoipa::path(post, path = "/inspections/{id}/publish", tag = "openness", params(("id" = i64, Path)), responses((status = 200, body = PlanView)))]
pub async fn publish_inspection(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<PlanView> {
    Ok(Json(
        s.services.openness().publish_inspection(&a, id).await?,
    ))
}

#[utoipa::path(get, path = "/statistics/monthly", tag = "openness", params(MonthQuery), responses((status = 200, body = MonthlyReport)))]
pub async fn monthly_statistics(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> ApiResult<MonthlyReport> {
    Ok(Json(
        s.services
            .openness()
            .monthly_report(&a, q.month.as_deref())
            .await?,
    ))
}

#[utoipa::path(get, path = "/statistics/performance", tag = "openness", params(MonthQuery), responses((status = 200, body = Performance)))]
pub async fn performance(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> ApiResult<Performance> {
    Ok(Json(
        s.services
            .openness()
            .performance(&a, q.month.as_deref())
            .await?,
    ))
}
