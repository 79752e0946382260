//! Monitoring: the monthly run, its warnings and their handling.

use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use jiuzhu_services::monitoring::population::{PopulationHousehold, PopulationQuery, SharedPerson};
use jiuzhu_services::monitoring::{
    RunReport, TownshipWarnings, WarningQuery, WarningStep, WarningView,
};
use jiuzhu_services::people::Page;
use jiuzhu_services::ServiceError;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::auth::ApiUser;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(run_month))
        .routes(routes!(list_warnings))
        .routes(routes!(get_warning))
        .routes(routes!(warning_step))
        .routes(routes!(townships))
        .routes(routes!(population))
        .routes(routes!(population_share))
}

#[utoipa::path(get, path = "/population", tag = "monitoring", params(PopulationQuery), responses((status = 200, body = Page<PopulationHousehold>)))]
pub async fn population(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiQuery(q): ApiQuery<PopulationQuery>,
) -> ApiResult<Page<PopulationHousehold>> {
    Ok(Json(s.services.monitoring().population(&a, &q).await?.0))
}

/// What a partner department's system account reads: the people of the population it serves.
#[utoipa::path(get, path = "/population/share", tag = "monitoring", responses((status = 200, body = Vec<SharedPerson>)))]
pub async fn population_share(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<SharedPerson>> {
    Ok(Json(
        s.services.monitoring().share_with_department(&a).await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RunInput {
    /// YYYY-MM.
    pub month: String,
    /// Run a month already run again.
    pub rerun: bool,
}

#[utoipa::path(post, path = "/monitoring/runs", tag = "monitoring", request_body = RunInput, responses((status = 200, body = RunReport)))]
pub async fn run_month(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(r): ApiJson<RunInput>,
) -> ApiResult<RunReport> {
    let month = NaiveDate::parse_from_str(&format!("{}-01", r.month.trim()), "%Y-%m-%d")
        .map_err(|_| ServiceError::invalid("month", "月份应写作 YYYY-MM"))?;
    Ok(Json(s.services.monitoring().run(&a, month, r.rerun).await?))
}

#[utoipa::path(get, path = "/warnings", tag = "monitoring", params(WarningQuery), responses((status = 200, body = Page<WarningView>)))]
pub async fn list_warnings(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiQuery(q): ApiQuery<WarningQuery>,
) -> ApiResult<Page<WarningView>> {
    Ok(Json(s.services.monitoring().warnings(&a, &q).await?))
}

#[utoipa::path(get, path = "/warnings/{id}", tag = "monitoring", params(("id" = i64, Path)), responses((status = 200, body = WarningView)))]
pub async fn get_warning(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<WarningView> {
    Ok(Json(s.services.monitoring().warning(&a, id).await?))
}

#[utoipa::path(post, path = "/warnings/{id}/steps", tag = "monitoring", params(("id" = i64, Path)), request_body = WarningStep, responses((status = 200, body = WarningView)))]
pub async fn warning_step(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(step): ApiJson<WarningStep>,
) -> ApiResult<WarningView> {
    Ok(Json(s.services.monitoring().step(&a, id, &step).await?))
}

#[utoipa::path(get, path = "/warnings/townships", tag = "monitoring", responses((status = 200, body = Vec<TownshipWarnings>)))]
pub async fn townships(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<TownshipWarnings>> {
    Ok(Json(s.services.monitoring().by_township(&a).await?))
}
