//! The catalogue of assistance items: read by everyone, edited by the bureau.

use axum::extract::State;
use axum::Json;
use jiuzhu_services::catalogue::{CatalogueItemView, CatalogueView, ItemInput};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiPath, ApiResult};
use crate::auth::ApiUser;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(catalogue))
        .routes(routes!(item, update_item))
}

#[utoipa::path(get, path = "/catalogue", tag = "catalogue", responses((status = 200, body = CatalogueView)))]
pub async fn catalogue(State(s): State<AppState>, _user: ApiUser) -> ApiResult<CatalogueView> {
    Ok(Json(s.services.catalogue().all().await?))
}

#[utoipa::path(get, path = "/catalogue/items/{code}", tag = "catalogue", params(("code" = String, Path)), responses((status = 200, body = CatalogueItemView)))]
pub async fn item(
    State(s): State<AppState>,
    _user: ApiUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<CatalogueItemView> {
    Ok(Json(s.services.catalogue().item(&code).await?))
}

#[utoipa::path(put, path = "/catalogue/items/{code}", tag = "catalogue", params(("code" = String, Path)), request_body = ItemInput, responses((status = 200, body = CatalogueItemView)))]
pub async fn update_item(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(i): ApiJson<ItemInput>,
) -> ApiResult<CatalogueItemView> {
    Ok(Json(
        s.services.catalogue().update_item(&a, &code, &i).await?,
    ))
}
