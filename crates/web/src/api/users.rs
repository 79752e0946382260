//! Accounts and API tokens.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use jiuzhu_services::auth::ApiTokenRecord;
use jiuzhu_services::auth::{IssuedToken, TokenInput, UserInput, UserView};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiPath, ApiResult, Created};
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(set_user_active))
        .routes(routes!(tokens_of))
        .routes(routes!(issue_token))
        .routes(routes!(revoke_token))
        .routes(routes!(change_password))
        .routes(routes!(reset_password))
        .routes(routes!(password_policy, set_password_policy))
}

/// A new password for oneself, with the current one.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    pub current: String,
    pub password: String,
}

#[utoipa::path(post, path = "/me/password", tag = "users", request_body = PasswordChange,
    responses((status = 204), (status = 422, body = jiuzhu_services::ErrorBody), (status = 403, body = jiuzhu_services::ErrorBody)))]
pub async fn change_password(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(c): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    s.services
        .auth()
        .change_password(&a, &c.current, &c.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A temporary password, shown once; its user must choose a new one at the next sign-in.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TemporaryPassword {
    pub password: String,
}

#[utoipa::path(post, path = "/users/{id}/password", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = TemporaryPassword), (status = 403, body = jiuzhu_services::ErrorBody), (status = 404, body = jiuzhu_services::ErrorBody)))]
pub async fn reset_password(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<TemporaryPassword> {
    Ok(Json(TemporaryPassword {
        password: s.services.users().reset_password(&a, id).await?.1,
    }))
}

#[utoipa::path(get, path = "/password-policy", tag = "users",
    responses((status = 200, body = jiuzhu_services::auth::PasswordPolicy)))]
pub async fn password_policy(
    State(s): State<AppState>,
    _user: ApiUser,
) -> ApiResult<jiuzhu_services::auth::PasswordPolicy> {
    Ok(Json(s.services.auth().password_policy().await?))
}

#[utoipa::path(put, path = "/password-policy", tag = "users", request_body = jiuzhu_services::auth::PasswordPolicy,
    responses((status = 200, body = jiuzhu_services::auth::PasswordPolicy), (status = 403, body = jiuzhu_services::ErrorBody), (status = 422, body = jiuzhu_services::ErrorBody)))]
pub async fn set_password_policy(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(p): ApiJson<jiuzhu_services::auth::PasswordPolicy>,
) -> ApiResult<jiuzhu_services::auth::PasswordPolicy> {
    Ok(Json(s.services.users().set_password_policy(&a, &p).await?))
}

#[utoipa::path(get, path = "/users", tag = "users", responses((status = 200, body = Vec<UserView>)))]
pub async fn list_users(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<UserView>> {
    Ok(Json(s.services.users().list(&a).await?))
}

#[utoipa::path(post, path = "/users", tag = "users", request_body = UserInput, responses((status = 201, body = UserView)))]
pub async fn create_user(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(u): ApiJson<UserInput>,
) -> Created<UserView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.users().create(&a, &u).await?),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActiveInput {
    pub active: bool,
}

#[utoipa::path(post, path = "/users/{id}/active", tag = "users", params(("id" = i64, Path)), request_body = ActiveInput, responses((status = 200, body = UserView)))]
pub async fn set_user_active(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<ActiveInput>,
) -> ApiResult<UserView> {
    Ok(Json(s.services.users().set_active(&a, id, i.active).await?))
}

#[utoipa::path(get, path = "/users/{id}/tokens", tag = "users", params(("id" = i64, Path)), responses((status = 200, body = Vec<ApiTokenRecord>)))]
pub async fn tokens_of(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Vec<ApiTokenRecord>> {
    Ok(Json(s.services.users().tokens_of(&a, id).await?))
}

#[utoipa::path(post, path = "/tokens", tag = "users", request_body = TokenInput, responses((status = 201, body = IssuedToken)))]
pub async fn issue_token(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(t): ApiJson<TokenInput>,
) -> Created<IssuedToken> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.users().issue_token(&a, &t).await?),
    ))
}

#[utoipa::path(delete, path = "/tokens/{id}", tag = "users", params(("id" = i64, Path)), responses((status = 204)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    s.services.users().revoke_token(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
