//! Department files and the verification reports made from them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiPath, ApiQuery, ApiResult, Created};
use crate::auth::ApiUser;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(feed_files))
        .routes(routes!(feed_file))
        .routes(routes!(case_reports, verify_case))
        // Department files run to hundreds of megabytes; larger ones go through `jiuzhu import`.
        .merge(
            OpenApiRouter::new()
                .routes(routes!(import_feed))
                .layer(axum::extract::DefaultBodyLimit::max(256 << 20)),
        )
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct FeedQuery {
    /// The file's name as the department calls it, kept with every fact.
    pub file_name: Option<String>,
}

#[utoipa::path(post, path = "/feeds/{category}", tag = "feeds",
    params(("category" = String, Path, description = "wage, pension, social_insurance, vehicle, real_estate, bank_deposit, medical_claim, ..."), FeedQuery),
    request_body(content = String, content_type = "text/csv", description = "The department's CSV file, UTF-8, GBK or GB18030, header row first; column names as departments write them"),
    responses((status = 201, body = jiuzhu_services::feeds::ImportReport), (status = 200, description = "The same file was imported before: nothing changed", body = jiuzhu_services::feeds::ImportReport), (status = 422, body = jiuzhu_services::ErrorBody)))]
pub async fn import_feed(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(category): ApiPath<String>,
    ApiQuery(q): ApiQuery<FeedQuery>,
    body: axum::body::Bytes,
) -> Created<jiuzhu_services::feeds::ImportReport> {
    let name = q.file_name.unwrap_or_else(|| format!("{category}.csv"));
    let report = s
        .services
        .feeds()
        .import_bytes(&a, &category, &name, &body)
        .await?;
    let status = if report.already_imported {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(report)))
}

#[utoipa::path(get, path = "/feed-files", tag = "feeds",
    responses((status = 200, description = "The latest files of the categories this token may send, newest first", body = Vec<jiuzhu_services::feeds::FeedFileRecord>)))]
pub async fn feed_files(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<jiuzhu_services::feeds::FeedFileRecord>> {
    Ok(Json(s.services.feeds().files(&a).await?))
}

#[utoipa::path(get, path = "/feed-files/{id}", tag = "feeds", params(("id" = i64, Path)),
    responses((status = 200, description = "One imported file with every rejected row", body = jiuzhu_services::feeds::ImportReport), (status = 404, body = jiuzhu_services::ErrorBody)))]
pub async fn feed_file(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<jiuzhu_services::feeds::ImportReport> {
    Ok(Json(s.services.feeds().file_report(&a, id).await?))
}

#[utoipa::path(get, path = "/cases/{id}/verifications", tag = "feeds", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<jiuzhu_services::verification::StoredReport>)))]
pub async fn case_reports(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Vec<jiuzhu_services::verification::StoredReport>> {
    Ok(Json(s.services.verification().case_reports(&a, id).await?))
}

#[utoipa::path(post, path = "/cases/{id}/verifications", tag = "feeds", params(("id" = i64, Path)),
    responses((status = 201, body = jiuzhu_services::verification::StoredReport)))]
pub async fn verify_case(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Created<jiuzhu_services::verification::StoredReport> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.verification().verify_case(&a, id).await?),
    ))
}
