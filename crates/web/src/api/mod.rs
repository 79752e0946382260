//! `/api/v1`: the same use cases as the pages, as JSON, for department systems and scripts.
//! Authenticate with `Authorization: Bearer <token>` (issued by an administrator), or with the
//! page session cookie plus `X-CSRF-Token` for unsafe methods.

mod extract;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use jiuzhu_domain::CalendarDate;
use jiuzhu_services::audit::AuditQuery;
use jiuzhu_services::auth::{IssuedToken, TokenInput, UserInput, UserView};
use jiuzhu_services::calendar::CalendarYearView;
use jiuzhu_services::cases::{
    ApplicationInput, CaseView, DepartmentStep, PublicStatus, Queue, RegistrationInput, WindowStep,
};
use jiuzhu_services::catalogue::{CatalogueView, ItemInput, ItemView};
use jiuzhu_services::households::{
    HouseholdInput, HouseholdQuery, HouseholdUpdate, HouseholdView, MemberInput,
};
use jiuzhu_services::people::{Page, PersonInput, PersonQuery, PersonView};
use jiuzhu_services::policy::simulate::{SimulationInput, SimulationReport};
use jiuzhu_services::policy::{NewValueInput, ParametersView, StoredEvaluation};
use jiuzhu_services::regions::RegionView;
use jiuzhu_store::{
    ApiTokenRecord, AuditRecord, CaseItemRow, HouseholdSummary, Organisation, PersonSummary,
};
use serde::{Deserialize, Serialize};

pub use extract::{ApiJson, ApiPath, ApiQuery};

use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::AppState;

type ApiResult<T> = Result<Json<T>, ApiError>;
type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/me", get(me))
        .route("/regions", get(regions))
        .route("/people", get(search_people).post(create_person))
        .route("/people/{id}", get(get_person).put(update_person))
        .route("/households", get(search_households).post(create_household))
        .route("/households/{id}", get(get_household).put(update_household))
        .route("/households/{id}/members", post(add_member))
        .route(
            "/households/{id}/members/{member}/end",
            post(end_membership),
        )
        .route("/catalogue", get(catalogue))
        .route("/catalogue/items/{code}", get(item).put(update_item))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}/active", post(set_user_active))
        .route("/users/{id}/tokens", get(tokens_of))
        .route("/tokens", post(issue_token))
        .route("/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/cases", post(file_application))
        .route("/cases/{id}", get(get_case))
        .route("/cases/{id}/registration", post(register))
        .route("/cases/{id}/department-steps", post(department_step))
        .route("/cases/{id}/window-steps", post(window_step))
        .route("/queues/{queue}", get(queue))
        .route("/organisations", get(organisations).post(add_organisation))
        .route("/status", get(public_status))
        .route("/audit", get(audit))
        .route("/calendar", get(calendar).post(load_calendar))
        .route("/calendar/due", get(due_date))
        .route("/evaluate", post(evaluate))
        .route("/parameters", get(parameters).post(add_parameter_value))
        .route("/simulate", post(simulate))
        .route(
            "/cases/{id}/evaluations",
            get(case_evaluations).post(evaluate_case),
        )
        .route(
            "/cases/{id}/verifications",
            get(case_reports).post(verify_case),
        )
        // Department files run to hundreds of megabytes; larger ones go through `jiuzhu import`.
        .route(
            "/feeds/{category}",
            post(import_feed).layer(axum::extract::DefaultBodyLimit::max(256 << 20)),
        )
        .route("/feed-files", get(feed_files))
        .route("/feed-files/{id}", get(feed_file))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "接口不存在", None)
        })
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::document())
}

/// Who the caller is, as the platform sees them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub role_label: String,
    pub region_code: String,
    pub department_code: Option<String>,
    pub read_only: bool,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "session", responses((status = 200, body = Me), (status = 401, body = jiuzhu_services::ErrorBody)))]
pub async fn me(ApiUser(a): ApiUser) -> ApiResult<Me> {
    Ok(Json(Me {
        username: a.username,
        display_name: a.display_name,
        role: a.role.code().into(),
        role_label: a.role.label().into(),
        region_code: a.region.to_string(),
        department_code: a.department,
        read_only: a.read_only,
    }))
}

#[utoipa::path(get, path = "/api/v1/regions", tag = "regions", responses((status = 200, body = Vec<RegionView>)))]
pub async fn regions(State(s): State<AppState>, ApiUser(a): ApiUser) -> ApiResult<Vec<RegionView>> {
    Ok(Json(s.services.regions(&a).await?))
}

#[utoipa::path(get, path = "/api/v1/people", tag = "people", params(PersonQuery),
    responses((status = 200, body = Page<PersonSummary>), (status = 422, body = jiuzhu_services::ErrorBody)))]
pub async fn search_people(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiQuery(q): ApiQuery<PersonQuery>,
) -> ApiResult<Page<PersonSummary>> {
    Ok(Json(s.services.search_people(&a, &q).await?))
}

#[utoipa::path(post, path = "/api/v1/people", tag = "people", request_body = PersonInput,
    responses((status = 201, body = PersonView), (status = 409, body = jiuzhu_services::ErrorBody), (status = 422, body = jiuzhu_services::ErrorBody)))]
pub async fn create_person(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(input): ApiJson<PersonInput>,
) -> Created<PersonView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.create_person(&a, &input).await?),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct RevealQuery {
    /// Return the full identity number and phone (the read is audited as a reveal).
    pub reveal: bool,
}

#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "people", params(("id" = i64, Path), RevealQuery),
    responses((status = 200, body = PersonView), (status = 404, body = jiuzhu_services::ErrorBody)))]
pub async fn get_person(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<RevealQuery>,
) -> ApiResult<PersonView> {
    Ok(Json(s.services.get_person(&a, id, q.reveal).await?))
}

/// A correction of a person: the revision read, and every field as it should be.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PersonUpdate {
    pub revision: i64,
    #[serde(flatten)]
    pub person: PersonInput,
}

#[utoipa::path(put, path = "/api/v1/people/{id}", tag = "people", params(("id" = i64, Path)), request_body = PersonUpdate,
    responses((status = 200, body = PersonView), (status = 409, body = jiuzhu_services::ErrorBody)))]
pub async fn update_person(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(u): ApiJson<PersonUpdate>,
) -> ApiResult<PersonView> {
    Ok(Json(
        s.services
            .update_person(&a, id, u.revision, &u.person)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/households", tag = "households", params(HouseholdQuery), responses((status = 200, body = Page<HouseholdSummary>)))]
pub async fn search_households(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiQuery(q): ApiQuery<HouseholdQuery>,
) -> ApiResult<Page<HouseholdSummary>> {
    Ok(Json(s.services.search_households(&a, &q).await?))
}

#[utoipa::path(post, path = "/api/v1/households", tag = "households", request_body = HouseholdInput, responses((status = 201, body = HouseholdView)))]
pub async fn create_household(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(input): ApiJson<HouseholdInput>,
) -> Created<HouseholdView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.create_household(&a, &input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/households/{id}", tag = "households", params(("id" = i64, Path)), responses((status = 200, body = HouseholdView)))]
pub async fn get_household(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<HouseholdView> {
    Ok(Json(s.services.get_household(&a, id).await?))
}

#[utoipa::path(put, path = "/api/v1/households/{id}", tag = "households", params(("id" = i64, Path)), request_body = HouseholdUpdate, responses((status = 200, body = HouseholdView)))]
pub async fn update_household(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(u): ApiJson<HouseholdUpdate>,
) -> ApiResult<HouseholdView> {
    Ok(Json(s.services.update_household(&a, id, &u).await?))
}

#[utoipa::path(post, path = "/api/v1/households/{id}/members", tag = "households", params(("id" = i64, Path)), request_body = MemberInput, responses((status = 201, body = HouseholdView)))]
pub async fn add_member(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(m): ApiJson<MemberInput>,
) -> Created<HouseholdView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.add_member(&a, id, &m).await?),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct EndMembership {
    /// The day the member left; today when omitted.
    pub to_date: Option<NaiveDate>,
}

#[utoipa::path(post, path = "/api/v1/households/{id}/members/{member}/end", tag = "households",
    params(("id" = i64, Path), ("member" = i64, Path)), request_body = EndMembership, responses((status = 200, body = HouseholdView)))]
pub async fn end_membership(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath((id, member)): ApiPath<(i64, i64)>,
    ApiJson(e): ApiJson<EndMembership>,
) -> ApiResult<HouseholdView> {
    Ok(Json(
        s.services.end_membership(&a, id, member, e.to_date).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/catalogue", tag = "catalogue", responses((status = 200, body = CatalogueView)))]
pub async fn catalogue(State(s): State<AppState>, _user: ApiUser) -> ApiResult<CatalogueView> {
    Ok(Json(s.services.catalogue().await?))
}

#[utoipa::path(get, path = "/api/v1/catalogue/items/{code}", tag = "catalogue", params(("code" = String, Path)), responses((status = 200, body = ItemView)))]
pub async fn item(
    State(s): State<AppState>,
    _user: ApiUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<ItemView> {
    Ok(Json(s.services.item(&code).await?))
}

#[utoipa::path(put, path = "/api/v1/catalogue/items/{code}", tag = "catalogue", params(("code" = String, Path)), request_body = ItemInput, responses((status = 200, body = ItemView)))]
pub async fn update_item(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(i): ApiJson<ItemInput>,
) -> ApiResult<ItemView> {
    Ok(Json(s.services.update_item(&a, &code, &i).await?))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses((status = 200, body = Vec<UserView>)))]
pub async fn list_users(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<UserView>> {
    Ok(Json(s.services.list_users(&a).await?))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = UserInput, responses((status = 201, body = UserView)))]
pub async fn create_user(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(u): ApiJson<UserInput>,
) -> Created<UserView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.create_user(&a, &u).await?),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActiveInput {
    pub active: bool,
}

#[utoipa::path(post, path = "/api/v1/users/{id}/active", tag = "users", params(("id" = i64, Path)), request_body = ActiveInput, responses((status = 200, body = UserView)))]
pub async fn set_user_active(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<ActiveInput>,
) -> ApiResult<UserView> {
    Ok(Json(s.services.set_user_active(&a, id, i.active).await?))
}

#[utoipa::path(get, path = "/api/v1/users/{id}/tokens", tag = "users", params(("id" = i64, Path)), responses((status = 200, body = Vec<ApiTokenRecord>)))]
pub async fn tokens_of(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Vec<ApiTokenRecord>> {
    Ok(Json(s.services.tokens_of(&a, id).await?))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "users", request_body = TokenInput, responses((status = 201, body = IssuedToken)))]
pub async fn issue_token(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(t): ApiJson<TokenInput>,
) -> Created<IssuedToken> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.issue_token(&a, &t).await?),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "users", params(("id" = i64, Path)), responses((status = 204)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    s.services.revoke_token(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = Page<AuditRecord>)))]
pub async fn audit(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Page<AuditRecord>> {
    Ok(Json(s.services.search_audit(&a, &q).await?))
}

#[utoipa::path(get, path = "/api/v1/calendar", tag = "calendar", responses((status = 200, body = Vec<CalendarYearView>)))]
pub async fn calendar(
    State(s): State<AppState>,
    _user: ApiUser,
) -> ApiResult<Vec<CalendarYearView>> {
    Ok(Json(s.services.calendar_years()))
}

#[utoipa::path(post, path = "/api/v1/calendar", tag = "calendar",
    request_body(content = Object, description = "A year's schedule in the holiday-cn format: {year, papers, days: [{name, date, isOffDay}]}"),
    responses((status = 201, body = CalendarYearView)))]
pub async fn load_calendar(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(v): ApiJson<serde_json::Value>,
) -> Created<CalendarYearView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.load_calendar_year(&a, &v.to_string()).await?),
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

#[utoipa::path(get, path = "/api/v1/calendar/due", tag = "calendar", params(DueQuery), responses((status = 200, body = DueDate)))]
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
    let CalendarDate { date, provisional } = s.services.add_working_days(q.from, q.days);
    Ok(Json(DueDate { date, provisional }))
}

#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = ApplicationInput,
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
        Json(s.services.file_application(&a, &input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = CaseView), (status = 404, body = jiuzhu_services::ErrorBody)))]
pub async fn get_case(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<CaseView> {
    Ok(Json(s.services.get_case(&a, id).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/registration", tag = "cases", params(("id" = i64, Path)), request_body = RegistrationInput,
    responses((status = 200, body = CaseView), (status = 409, body = jiuzhu_services::ErrorBody)))]
pub async fn register(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<RegistrationInput>,
) -> ApiResult<CaseView> {
    Ok(Json(s.services.register(&a, id, &r).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/department-steps", tag = "cases", params(("id" = i64, Path)), request_body = DepartmentStep,
    responses((status = 200, body = CaseView), (status = 409, body = jiuzhu_services::ErrorBody)))]
pub async fn department_step(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<DepartmentStep>,
) -> ApiResult<CaseView> {
    Ok(Json(s.services.department_step(&a, id, &d).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/window-steps", tag = "cases", params(("id" = i64, Path)), request_body = WindowStep,
    responses((status = 200, body = CaseView), (status = 409, body = jiuzhu_services::ErrorBody)))]
pub async fn window_step(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(w): ApiJson<WindowStep>,
) -> ApiResult<CaseView> {
    Ok(Json(s.services.window_step(&a, id, &w).await?))
}

#[utoipa::path(get, path = "/api/v1/queues/{queue}", tag = "cases",
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
    Ok(Json(s.services.case_queue(&a, q).await?))
}

#[utoipa::path(get, path = "/api/v1/organisations", tag = "cases", responses((status = 200, body = Vec<Organisation>)))]
pub async fn organisations(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<Organisation>> {
    Ok(Json(s.services.organisations(&a).await?))
}

#[utoipa::path(post, path = "/api/v1/organisations", tag = "cases", request_body = Organisation, responses((status = 201, body = Organisation)))]
pub async fn add_organisation(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(o): ApiJson<Organisation>,
) -> Created<Organisation> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.add_organisation(&a, &o).await?),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct StatusQuery {
    /// The acceptance form number (受理单号).
    pub form_no: String,
    /// The last four characters of the applicant's identity number.
    pub last4: String,
}

/// The applicant's own case, without signing in; limited per address.
#[utoipa::path(get, path = "/api/v1/status", tag = "cases", params(StatusQuery), security(()),
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
    Ok(Json(s.services.public_status(&q.form_no, &q.last4).await?))
}

#[utoipa::path(post, path = "/api/v1/evaluate", tag = "policy",
    request_body(content = Object, description = "A household: {jurisdiction?, month?, members: [{age | birth_date | id_number, incomes: [{kind, monthly}], disability, serious_illness, labour_capacity, self_care, ...}], assets, rigid_expenditure_12m, benefits, temporary, disaster, price_index_rise, parameters}. Money in yuan. See README, \"Evaluating a household\"."),
    responses((status = 200, description = "Every program's decision with its trace", body = Object), (status = 422, body = jiuzhu_services::ErrorBody)))]
pub async fn evaluate(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(input): ApiJson<jiuzhu_policy::HouseholdInput>,
) -> ApiResult<jiuzhu_policy::Evaluation> {
    Ok(Json(s.services.evaluate_household(&a, &input)?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ParametersQuery {
    /// Policy pack id; the one governing the user's region when left out.
    pub jurisdiction: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/parameters", tag = "policy", params(ParametersQuery), responses((status = 200, body = ParametersView)))]
pub async fn parameters(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiQuery(q): ApiQuery<ParametersQuery>,
) -> ApiResult<ParametersView> {
    Ok(Json(s.services.parameters(&a, q.jurisdiction.as_deref())?))
}

#[utoipa::path(post, path = "/api/v1/parameters", tag = "policy", request_body = NewValueInput,
    responses((status = 201, body = ParametersView), (status = 409, body = jiuzhu_services::ErrorBody), (status = 422, body = jiuzhu_services::ErrorBody)))]
pub async fn add_parameter_value(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(input): ApiJson<NewValueInput>,
) -> Created<ParametersView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.add_parameter_value(&a, &input).await?),
    ))
}

#[utoipa::path(post, path = "/api/v1/simulate", tag = "policy", request_body = SimulationInput,
    responses((status = 200, body = SimulationReport), (status = 422, body = jiuzhu_services::ErrorBody)))]
pub async fn simulate(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(input): ApiJson<SimulationInput>,
) -> ApiResult<SimulationReport> {
    Ok(Json(s.services.simulate(&a, &input).await?))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/evaluations", tag = "policy", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<StoredEvaluation>)))]
pub async fn case_evaluations(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Vec<StoredEvaluation>> {
    Ok(Json(s.services.case_evaluations(&a, id).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/evaluations", tag = "policy", params(("id" = i64, Path)),
    responses((status = 201, description = "The household evaluated this month and kept with the case", body = Object)))]
pub async fn evaluate_case(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Created<jiuzhu_policy::Evaluation> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.evaluate_case(&a, id, true).await?),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct FeedQuery {
    /// The file's name as the department calls it, kept with every fact.
    pub file_name: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/feeds/{category}", tag = "feeds",
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
        .import_feed_bytes(&a, &category, &name, &body)
        .await?;
    let status = if report.already_imported {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(report)))
}

#[utoipa::path(get, path = "/api/v1/feed-files", tag = "feeds",
    responses((status = 200, description = "The latest files of the categories this token may send, newest first", body = Vec<jiuzhu_store::FeedFileRecord>)))]
pub async fn feed_files(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<jiuzhu_store::FeedFileRecord>> {
    Ok(Json(s.services.feed_files(&a).await?))
}

#[utoipa::path(get, path = "/api/v1/feed-files/{id}", tag = "feeds", params(("id" = i64, Path)),
    responses((status = 200, description = "One imported file with every rejected row", body = jiuzhu_services::feeds::ImportReport), (status = 404, body = jiuzhu_services::ErrorBody)))]
pub async fn feed_file(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<jiuzhu_services::feeds::ImportReport> {
    Ok(Json(s.services.feed_file_report(&a, id).await?))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/verifications", tag = "feeds", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<jiuzhu_services::feeds::verify::StoredReport>)))]
pub async fn case_reports(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Vec<jiuzhu_services::feeds::verify::StoredReport>> {
    Ok(Json(s.services.case_reports(&a, id).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/verifications", tag = "feeds", params(("id" = i64, Path)),
    responses((status = 201, body = jiuzhu_services::feeds::verify::StoredReport)))]
pub async fn verify_case(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Created<jiuzhu_services::feeds::verify::StoredReport> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.verify_case(&a, id).await?),
    ))
}
