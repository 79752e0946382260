//! Households and their members: found, created, corrected, members joining and leaving.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use jiuzhu_services::households::HouseholdSummary;
use jiuzhu_services::households::{
    HouseholdInput, HouseholdQuery, HouseholdUpdate, HouseholdView, IncomeInput, MemberInput,
};
use jiuzhu_services::people::Page;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiPath, ApiQuery, ApiResult, Created};
use crate::auth::ApiUser;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_households, create_household))
        .routes(routes!(get_household, update_household))
        .routes(routes!(add_member))
        .routes(routes!(end_membership))
        .routes(routes!(record_income))
        .routes(routes!(change_income, remove_income))
}

#[utoipa::path(get, path = "/households", tag = "households", params(HouseholdQuery), responses((status = 200, body = Page<HouseholdSummary>)))]
pub async fn search_households(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiQuery(q): ApiQuery<HouseholdQuery>,
) -> ApiResult<Page<HouseholdSummary>> {
    Ok(Json(s.services.households().search(&a, &q).await?))
}

#[utoipa::path(post, path = "/households", tag = "households", request_body = HouseholdInput, responses((status = 201, body = HouseholdView)))]
pub async fn create_household(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(input): ApiJson<HouseholdInput>,
) -> Created<HouseholdView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.households().create(&a, &input).await?),
    ))
}

#[utoipa::path(get, path = "/households/{id}", tag = "households", params(("id" = i64, Path)), responses((status = 200, body = HouseholdView)))]
pub async fn get_household(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<HouseholdView> {
    Ok(Json(s.services.households().get(&a, id).await?))
}

#[utoipa::path(put, path = "/households/{id}", tag = "households", params(("id" = i64, Path)), request_body = HouseholdUpdate, responses((status = 200, body = HouseholdView)))]
pub async fn update_household(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(u): ApiJson<HouseholdUpdate>,
) -> ApiResult<HouseholdView> {
    Ok(Json(s.services.households().update(&a, id, &u).await?))
}

#[utoipa::path(post, path = "/households/{id}/members", tag = "households", params(("id" = i64, Path)), request_body = MemberInput, responses((status = 201, body = HouseholdView)))]
pub async fn add_member(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(m): ApiJson<MemberInput>,
) -> Created<HouseholdView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.households().add_member(&a, id, &m).await?),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct EndMembership {
    /// The day the member left; today when omitted.
    pub to_date: Option<NaiveDate>,
}

#[utoipa::path(post, path = "/households/{id}/members/{member}/end", tag = "households",
    params(("id" = i64, Path), ("member" = i64, Path)), request_body = EndMembership, responses((status = 200, body = HouseholdView)))]
pub async fn end_membership(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath((id, member)): ApiPath<(i64, i64)>,
    ApiJson(e): ApiJson<EndMembership>,
) -> ApiResult<HouseholdView> {
    Ok(Json(
        s.services
            .households()
            .end_membership(&a, id, member, e.to_date)
            .await?,
    ))
}

#[utoipa::path(post, path = "/households/{id}/incomes", tag = "households", params(("id" = i64, Path)), request_body = IncomeInput, responses((status = 201, body = HouseholdView)))]
pub async fn record_income(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<IncomeInput>,
) -> Created<HouseholdView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.households().record_income(&a, id, &i).await?),
    ))
}

#[utoipa::path(put, path = "/households/{id}/incomes/{income}", tag = "households",
    params(("id" = i64, Path), ("income" = i64, Path)), request_body = IncomeInput, responses((status = 200, body = HouseholdView)))]
pub async fn change_income(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath((id, income)): ApiPath<(i64, i64)>,
    ApiJson(i): ApiJson<IncomeInput>,
) -> ApiResult<HouseholdView> {
    Ok(Json(
        s.services
            .households()
            .change_income(&a, id, income, &i)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/households/{id}/incomes/{income}", tag = "households",
    params(("id" = i64, Path), ("income" = i64, Path)), responses((status = 200, body = HouseholdView)))]
pub async fn remove_income(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath((id, income)): ApiPath<(i64, i64)>,
) -> ApiResult<HouseholdView> {
    Ok(Json(
        s.services
            .households()
            .remove_income(&a, id, income)
            .await?,
    ))
}
