//! Policy parameters, evaluating a household or a case with its trace, what-if simulation.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use jiuzhu_services::policy::simulate::{SimulationInput, SimulationReport};
use jiuzhu_services::policy::{NewValueInput, ParametersView, StoredEvaluation};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiPath, ApiQuery, ApiResult, Created};
use crate::auth::ApiUser;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(evaluate))
        .routes(routes!(parameters, add_parameter_value))
        .routes(routes!(simulate))
        .routes(routes!(case_evaluations, evaluate_case))
}

#[utoipa::path(post, path = "/evaluate", tag = "policy",
    request_body(content = Object, description = "A household: {jurisdiction?, month?, members: [{age | birth_date | id_number, incomes: [{kind, monthly}], disability, serious_illness, labour_capacity, self_care, ...}], assets, rigid_expenditure_12m, benefits, temporary, disaster, price_index_rise, parameters}. Money in yuan. See README, \"Evaluating a household\"."),
    responses((status = 200, description = "Every program's decision with its trace", body = Object), (status = 422, body = jiuzhu_services::ErrorBody)))]
pub async fn evaluate(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(input): ApiJson<jiuzhu_policy::HouseholdInput>,
) -> ApiResult<jiuzhu_policy::Evaluation> {
    Ok(Json(s.services.policy().evaluate_household(&a, &input)?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ParametersQuery {
    /// Policy pack id; the one governing the user's region when left out.
    pub jurisdiction: Option<String>,
}

#[utoipa::path(get, path = "/parameters", tag = "policy", params(ParametersQuery), responses((status = 200, body = ParametersView)))]
pub async fn parameters(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiQuery(q): ApiQuery<ParametersQuery>,
) -> ApiResult<ParametersView> {
    Ok(Json(
        s.services
            .policy()
            .parameters(&a, q.jurisdiction.as_deref())?,
    ))
}

#[utoipa::path(post, path = "/parameters", tag = "policy", request_body = NewValueInput,
    responses((status = 201, body = ParametersView), (status = 409, body = jiuzhu_services::ErrorBody), (status = 422, body = jiuzhu_services::ErrorBody)))]
pub async fn add_parameter_value(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(input): ApiJson<NewValueInput>,
) -> Created<ParametersView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.policy().add_value(&a, &input).await?),
    ))
}

#[utoipa::path(post, path = "/simulate", tag = "policy", request_body = SimulationInput,
    responses((status = 200, body = SimulationReport), (status = 422, body = jiuzhu_services::ErrorBody)))]
pub async fn simulate(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(input): ApiJson<SimulationInput>,
) -> ApiResult<SimulationReport> {
    Ok(Json(s.services.policy().simulate(&a, &input).await?))
}

#[utoipa::path(get, path = "/cases/{id}/evaluations", tag = "policy", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<StoredEvaluation>)))]
pub async fn case_evaluations(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Vec<StoredEvaluation>> {
    Ok(Json(s.services.policy().case_evaluations(&a, id).await?))
}

#[utoipa::path(post, path = "/cases/{id}/evaluations", tag = "policy", params(("id" = i64, Path)),
    responses((status = 201, description = "The household evaluated this month and kept with the case", body = Object)))]
pub async fn evaluate_case(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Created<jiuzhu_policy::Evaluation> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.policy().evaluate_case(&a, id, true).await?),
    ))
}
