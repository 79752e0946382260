//! The working-day calendar: the years in force, loading a year, a due date.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use jiuzhu_domain::CalendarDate;
use jiuzhu_services::calendar::CalendarYearView;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiQuery, ApiResult, Created};
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(calendar, load_calendar))
        .routes(routes!(due_date))
}

#[utoipa::path(get, path = "/calendar", tag = "calendar", responses((status = 200, body = Vec<CalendarYearView>)))]
pub async fn calendar(
    State(s): State<AppState>,
    _user: ApiUser,
) -> ApiResult<Vec<CalendarYearView>> {
    Ok(Json(s.services.calendar().years()))
}

#[utoipa::path(post, path = "/calendar", tag = "calendar",
    request_body(content = Object, description = "A year's schedule in the holiday-cn format: {year, papers, days: [{name, date, isOffDay}]}"),
    responses((status = 201, body = CalendarYearView)))]
pub async fn load_calendar(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(v): ApiJson<serde_json::Value>,
) -> Created<CalendarYearView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.calendar().load_year(&a, &v.to_string()).await?),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DueQuery {
    /// The day the time limit starts (not counted).
    pub from: NaiveDate,
    /// Working days allowed.
    pub days: u32,
}

/// The date a time limit of `days` working days from `from` expires.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DueDate {
    pub date: NaiveDate,
    /// True when a year without a published schedule was counted by the week only.
    pub provisional: bool,
}

#[utoipa::path(get, path = "/calendar/due", tag = "calendar", params(DueQuery), responses((status = 200, body = DueDate)))]
pub async fn due_date(
    State(s): State<AppState>,
    _user: ApiUser,
    ApiQuery(q): ApiQuery<DueQuery>,
) -> ApiResult<DueDate> {
    if q.days > 365 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "工作日数应为0至365",
            Some("days".into()),
        ));
    }
    let CalendarDate { date, provisional } = s.services.calendar().add_working_days(q.from, q.days);
    Ok(Json(DueDate { date, provisional }))
}
