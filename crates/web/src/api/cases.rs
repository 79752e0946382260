//! One-window intake and collaborative handling: filing, registration, department and window steps, work lists, the applicant's status.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use jiuzhu_services::cases::CaseItemRow;
use jiuzhu_services::cases::{
    ApplicationInput, CaseView, DepartmentStep, PublicStatus, Queue, RegistrationInput, WindowStep,
};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiPath, ApiQuery, ApiResult, Created};
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(file_application))
        .routes(routes!(get_case))
        .routes(routes!(register))
        .routes(routes!(department_step))
        .routes(routes!(window_step))
        .routes(routes!(queue))
        .routes(routes!(public_status))
}

#[utoipa::path(post, path = "/cases", tag = "cases", request_body = ApplicationInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Used when the body has no idempotency_key")),
    responses((status = 201, body = CaseView), (status = 422, body = jiuzhu_services::ErrorBody)))]
pub async fn file_application(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    headers: axum::http::HeaderMap,
    ApiJson(mut input): ApiJson<ApplicationInput>,
) -> Created<CaseView> {
    if input.idempotency_key.trim().is_empty() {
        if let Some(k) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
            input.idempotency_key = k.to_string();
        }
    }
    Ok((
        StatusCode::CREATED,
        Json(s.services.cases().file(&a, &input).await?),
    ))
}

#[utoipa::path(get, path = "/cases/{id}", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = CaseView), (status = 404, body = jiuzhu_services::ErrorBody)))]
pub async fn get_case(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<CaseView> {
    Ok(Json(s.services.cases().get(&a, id).await?))
}

#[utoipa::path(post, path = "/cases/{id}/registration", tag = "cases", params(("id" = i64, Path)), request_body = RegistrationInput,
    responses((status = 200, body = CaseView), (status = 409, body = jiuzhu_services::ErrorBody)))]
pub async fn register(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<RegistrationInput>,
) -> ApiResult<CaseView> {
    Ok(Json(s.services.cases().register(&a, id, &r).await?))
}

#[utoipa::path(post, path = "/cases/{id}/department-steps", tag = "cases", params(("id" = i64, Path)), request_body = DepartmentStep,
    responses((status = 200, body = CaseView), (status = 409, body = jiuzhu_services::ErrorBody)))]
pub async fn department_step(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<DepartmentStep>,
) -> ApiResult<CaseView> {
    Ok(Json(s.services.cases().department_step(&a, id, &d).await?))
}

#[utoipa::path(post, path = "/cases/{id}/window-steps", tag = "cases", params(("id" = i64, Path)), request_body = WindowStep,
    responses((status = 200, body = CaseView), (status = 409, body = jiuzhu_services::ErrorBody)))]
pub async fn window_step(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(w): ApiJson<WindowStep>,
) -> ApiResult<CaseView> {
    Ok(Json(s.services.cases().window_step(&a, id, &w).await?))
}

#[utoipa::path(get, path = "/queues/{queue}", tag = "cases",
    params(("queue" = String, Path, description = "inbox (a liaison's department), window (waiting for the window), due (due today or overdue)")),
    responses((status = 200, body = Vec<CaseItemRow>)))]
pub async fn queue(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Vec<CaseItemRow>> {
    let q = match name.as_str() {
        "inbox" => Queue::Inbox,
        "window" => Queue::Window,
        "due" => Queue::Due,
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "队列应为 inbox、window 或 due",
                None,
            ))
        }
    };
    Ok(Json(s.services.cases().queue(&a, q).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct StatusQuery {
    /// The acceptance form number (受理单号).
    pub form_no: String,
    /// The last four characters of the applicant's identity number.
    pub last4: String,
}

/// The applicant's own case, without signing in; limited per address.
#[utoipa::path(get, path = "/status", tag = "cases", params(StatusQuery), security(()),
    responses((status = 200, body = PublicStatus), (status = 404, body = jiuzhu_services::ErrorBody), (status = 429, body = jiuzhu_services::ErrorBody)))]
pub async fn public_status(
    State(s): State<AppState>,
    crate::auth::ClientIp(ip): crate::auth::ClientIp,
    ApiQuery(q): ApiQuery<StatusQuery>,
) -> ApiResult<PublicStatus> {
    if !s.status_limiter.allow(&ip) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "查询过于频繁，请稍后再试",
            None,
        ));
    }
    Ok(Json(
        s.services
            .cases()
            .public_status(&q.form_no, &q.last4)
            .await?,
    ))
}
