//! Those in assistance: enrolments and their changes, the register, reviews, plans, visits and
//! the household file.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use chrono::NaiveDate;
use jiuzhu_services::recipients::{
    BatchReview, ChangeInput, DecisionInput, DueReview, EnrolInput, EnrolmentView, HouseholdFile,
    PlanInput, PlanView, RegisterQuery, RegisterView, ReviewDecision, ReviewView, VisitDue,
    VisitInput, VisitView,
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
        .routes(routes!(awaiting))
        .routes(routes!(enrol))
        .routes(routes!(enrolment))
        .routes(routes!(decide))
        .routes(routes!(change))
        .routes(routes!(register))
        .routes(routes!(register_xlsx))
        .routes(routes!(reviews_due))
        .routes(routes!(propose_reviews))
        .routes(routes!(proposals))
        .routes(routes!(decide_review))
        .routes(routes!(household_file))
        .routes(routes!(plans, save_plan))
        .routes(routes!(approve_plan))
        .routes(routes!(visits, record_visit))
        .routes(routes!(visits_due))
}

#[utoipa::path(get, path = "/enrolments/awaiting", tag = "recipients",
    responses((status = 200, body = Vec<EnrolmentView>, description = "待审核、待确认的保障")))]
pub async fn awaiting(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<EnrolmentView>> {
    Ok(Json(s.services.recipients().awaiting(&a).await?))
}

#[utoipa::path(post, path = "/enrolments", tag = "recipients", request_body = EnrolInput,
    responses((status = 201, body = EnrolmentView, description = "手工录入的纳入（纸质审批、旧名册移交），待审核确认；与同一项目月份重叠的予以拒绝")))]
pub async fn enrol(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(e): ApiJson<EnrolInput>,
) -> Created<EnrolmentView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.recipients().enrol(&a, &e).await?),
    ))
}

#[utoipa::path(get, path = "/enrolments/{id}", tag = "recipients",
    params(("id" = i64, Path), MonthQuery),
    responses((status = 200, body = EnrolmentView, description = "某月（默认本月）的保障状态、金额和保障人口，以及全部变更")))]
pub async fn enrolment(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> ApiResult<EnrolmentView> {
    let on = month_or_now(&s, &q)?;
    Ok(Json(
        s.services.recipients().enrolment_at(&a, id, on).await?,
    ))
}

#[utoipa::path(post, path = "/enrolments/{id}/decision", tag = "recipients",
    params(("id" = i64, Path)), request_body = DecisionInput,
    responses((status = 200, body = EnrolmentView, description = "审核（乡镇）或确认（县级民政部门，或权限下放后的乡镇；不能是审核人）")))]
pub async fn decide(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<DecisionInput>,
) -> ApiResult<EnrolmentView> {
    Ok(Json(s.services.recipients().decide(&a, id, &d).await?))
}

#[utoipa::path(post, path = "/enrolments/{id}/changes", tag = "recipients",
    params(("id" = i64, Path)), request_body = ChangeInput,
    responses((status = 201, body = EnrolmentView, description = "调整金额、增减保障人口、暂停、恢复、渐退、退出")))]
pub async fn change(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(c): ApiJson<ChangeInput>,
) -> Created<EnrolmentView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.recipients().change(&a, id, &c).await?),
    ))
}

#[utoipa::path(get, path = "/register", tag = "recipients", params(RegisterQuery),
    responses((status = 200, body = RegisterView, description = "救助对象名册：某月在册的户、人、金额，按乡镇和项目合计")))]
pub async fn register(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiQuery(q): ApiQuery<RegisterQuery>,
) -> ApiResult<RegisterView> {
    Ok(Json(s.services.recipients().register(&a, &q).await?))
}

#[utoipa::path(get, path = "/register.xlsx", tag = "recipients", params(RegisterQuery),
    responses((status = 200, description = "花名册 .xlsx", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn register_xlsx(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiQuery(q): ApiQuery<RegisterQuery>,
) -> Result<Response, ApiError> {
    let bytes = s.services.recipients().register_xlsx(&a, &q).await?;
    let month = q.month.clone().unwrap_or_default();
    Ok(crate::render::xlsx_download(
        bytes,
        &format!("roster-{month}.xlsx"),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct MonthQuery {
    /// YYYY-MM; this month when left out.
    pub month: Option<String>,
}

fn month_or_now(s: &AppState, q: &MonthQuery) -> Result<NaiveDate, ApiError> {
    match q.month.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").map_err(|_| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "月份应写作2026-03",
                Some("month".into()),
            )
        }),
        None => Ok(s.services.today()),
    }
}

#[utoipa::path(get, path = "/reviews/due", tag = "recipients", params(MonthQuery),
    responses((status = 200, body = Vec<DueReview>, description = "本月（或所给月份）到期的定期复核")))]
pub async fn reviews_due(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> ApiResult<Vec<DueReview>> {
    let month = month_or_now(&s, &q)?;
    Ok(Json(s.services.recipients().reviews_due(&a, month).await?))
}

/// Which enrolments to review: those listed, or every one due by the month given.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ReviewRequest {
    pub enrolment_ids: Vec<i64>,
    /// YYYY-MM: review every enrolment due by the end of this month.
    pub due_month: Option<String>,
}

#[utoipa::path(post, path = "/reviews", tag = "recipients", request_body = ReviewRequest,
    responses((status = 201, body = BatchReview, description = "重新核对、测算，提出复核结果待确认")))]
pub async fn propose_reviews(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(r): ApiJson<ReviewRequest>,
) -> Created<BatchReview> {
    let batch = match &r.due_month {
        Some(m) => {
            let month = month_or_now(
                &s,
                &MonthQuery {
                    month: Some(m.clone()),
                },
            )?;
            s.services.recipients().review_due(&a, month).await?
        }
        None => s.services.recipients().review(&a, &r.enrolment_ids).await?,
    };
    Ok((StatusCode::CREATED, Json(batch)))
}

#[utoipa::path(get, path = "/reviews/proposals", tag = "recipients",
    responses((status = 200, body = Vec<ReviewView>, description = "待确认的复核结果")))]
pub async fn proposals(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<ReviewView>> {
    Ok(Json(s.services.recipients().proposals(&a).await?))
}

#[utoipa::path(post, path = "/reviews/{id}/decision", tag = "recipients",
    params(("id" = i64, Path)), request_body = ReviewDecision,
    responses((status = 200, body = ReviewView, description = "确认或不采纳复核结果（不能是提出人）")))]
pub async fn decide_review(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<ReviewDecision>,
) -> ApiResult<ReviewView> {
    Ok(Json(
        s.services.recipients().decide_review(&a, id, &d).await?,
    ))
}

#[utoipa::path(get, path = "/households/{id}/file", tag = "recipients",
    params(("id" = i64, Path)), responses((status = 200, body = HouseholdFile, description = "一户一档")))]
pub async fn household_file(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<HouseholdFile> {
    Ok(Json(s.services.recipients().household_file(&a, id).await?))
}

#[utoipa::path(get, path = "/households/{id}/plans", tag = "recipients",
    params(("id" = i64, Path)), responses((status = 200, body = Vec<PlanView>)))]
pub async fn plans(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Vec<PlanView>> {
    Ok(Json(s.services.recipients().plans(&a, id).await?))
}

#[utoipa::path(post, path = "/households/{id}/plans", tag = "recipients",
    params(("id" = i64, Path)), request_body = PlanInput,
    responses((status = 201, body = PlanView, description = "保存帮扶计划的新版本（草稿）")))]
pub async fn save_plan(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<PlanInput>,
) -> Created<PlanView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.recipients().save_plan(&a, id, &p).await?),
    ))
}

#[utoipa::path(post, path = "/plans/{id}/approval", tag = "recipients",
    params(("id" = i64, Path)),
    responses((status = 200, body = PlanView, description = "审定：每项需求须有措施或无法采取措施的原因")))]
pub async fn approve_plan(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<PlanView> {
    Ok(Json(s.services.recipients().approve_plan(&a, id).await?))
}

#[utoipa::path(get, path = "/households/{id}/visits", tag = "recipients",
    params(("id" = i64, Path)), responses((status = 200, body = Vec<VisitView>)))]
pub async fn visits(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Vec<VisitView>> {
    Ok(Json(s.services.recipients().visits(&a, id).await?))
}

#[utoipa::path(post, path = "/households/{id}/visits", tag = "recipients",
    params(("id" = i64, Path)), request_body = VisitInput,
    responses((status = 201, body = VisitView)))]
pub async fn record_visit(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(v): ApiJson<VisitInput>,
) -> Created<VisitView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.recipients().record_visit(&a, id, &v).await?),
    ))
}

#[utoipa::path(get, path = "/visits/due", tag = "recipients",
    responses((status = 200, body = Vec<VisitDue>, description = "本月到期和逾期的走访")))]
pub async fn visits_due(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<VisitDue>> {
    let today = s.services.today();
    let end = jiuzhu_domain::enrolment::month_end(today);
    Ok(Json(s.services.recipients().visits_due(&a, end).await?))
}
