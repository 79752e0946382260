//! Residents: search, register, read (a reveal of the full identity number is audited), correct.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use jiuzhu_services::people::PersonSummary;
use jiuzhu_services::people::{Page, PersonInput, PersonQuery, PersonView};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiPath, ApiQuery, ApiResult, Created};
use crate::auth::ApiUser;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_people, create_person))
        .routes(routes!(get_person, update_person))
}

#[utoipa::path(get, path = "/people", tag = "people", params(PersonQuery),
    responses((status = 200, body = Page<PersonSummary>), (status = 422, body = jiuzhu_services::ErrorBody)))]
pub async fn search_people(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiQuery(q): ApiQuery<PersonQuery>,
) -> ApiResult<Page<PersonSummary>> {
    Ok(Json(s.services.people().search(&a, &q).await?))
}

#[utoipa::path(post, path = "/people", tag = "people", request_body = PersonInput,
    responses((status = 201, body = PersonView), (status = 409, body = jiuzhu_services::ErrorBody), (status = 422, body = jiuzhu_services::ErrorBody)))]
pub async fn create_person(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(input): ApiJson<PersonInput>,
) -> Created<PersonView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.people().create(&a, &input).await?),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct RevealQuery {
    /// Return the full identity number and phone (the read is audited as a reveal).
    pub reveal: bool,
}

#[utoipa::path(get, path = "/people/{id}", tag = "people", params(("id" = i64, Path), RevealQuery),
    responses((status = 200, body = PersonView), (status = 404, body = jiuzhu_services::ErrorBody)))]
pub async fn get_person(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<RevealQuery>,
) -> ApiResult<PersonView> {
    Ok(Json(s.services.people().get(&a, id, q.reveal).await?))
}

/// A correction of a person: the revision read, and every field as it should be.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PersonUpdate {
    pub revision: i64,
    #[serde(flatten)]
    pub person: PersonInput,
}

#[utoipa::path(put, path = "/people/{id}", tag = "people", params(("id" = i64, Path)), request_body = PersonUpdate,
    responses((status = 200, body = PersonView), (status = 409, body = jiuzhu_services::ErrorBody)))]
pub async fn update_person(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(u): ApiJson<PersonUpdate>,
) -> ApiResult<PersonView> {
    Ok(Json(
        s.services
            .people()
            .update(&a, id, u.revision, &u.person)
            .await?,
    ))
}
