//! Server-rendered pages. Every form posts back to the page it came from; an invalid entry
//! re-renders the form with what was typed and the reason, so nothing is lost.

mod admin;
mod cases;
mod catalogue;
mod evaluate_sheet;
mod feeds;
mod households;
mod monitoring;
mod openness;
mod organisations;
mod payments;
mod people;
mod policy;
mod recipients;
mod session;
mod social;

use std::collections::BTreeMap;

use axum::routing::{get, post};
use axum::Router;
use jiuzhu_services::regions::RegionView;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(session::home))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route(
            "/two-factor",
            get(session::two_factor_page).post(session::give_two_factor),
        )
        .route(
            "/password",
            get(session::password_page).post(session::change_password),
        )
        .route("/people", get(people::list).post(people::create))
        .route("/find", get(cases::find))
        .route("/people/new", get(people::new_form))
        .route("/people/{id}", get(people::show).post(people::update))
        .route("/people/{id}/edit", get(people::edit_form))
        .route(
            "/households",
            get(households::list).post(households::create),
        )
        .route("/households/new", get(households::new_form))
        .route("/households/{id}", get(households::show))
        .route(
            "/households/{id}/edit",
            get(households::edit_form).post(households::update),
        )
        .route("/households/{id}/members", post(households::add_member))
        .route("/households/{id}/incomes", post(households::add_income))
        .route(
            "/organisations",
            get(organisations::list).post(organisations::create),
        )
        .route("/organisations/{id}", post(organisations::update))
        .route(
            "/publicity",
            get(openness::publicity).post(openness::publish),
        )
        .route("/publicity/masks", post(openness::set_mask))
        .route("/publicity/{id}", get(openness::notice))
        .route("/publicity/{id}/print", get(openness::notice_print))
        .route(
            "/publicity/{id}/objections",
            post(openness::record_objection),
        )
        .route("/objections/{id}", get(openness::objection))
        .route("/objections/{id}/answer", post(openness::answer_objection))
        .route(
            "/complaints",
            get(openness::complaints).post(openness::record_complaint),
        )
        .route("/complaints/{id}", get(openness::complaint))
        .route("/complaints/{id}/steps", post(openness::complaint_step))
        .route(
            "/inspections",
            get(openness::inspections).post(openness::plan_inspection),
        )
        .route("/inspections/{id}", get(openness::inspection))
        .route(
            "/inspections/{id}/publish",
            post(openness::publish_inspection),
        )
        .route(
            "/inspections/{plan}/targets/{target}",
            post(openness::record_inspection),
        )
        .route("/statistics", get(openness::statistics))
        .route("/statistics.xlsx", get(openness::statistics_xlsx))
        .route("/performance", get(openness::performance))
        .route("/social", get(social::social).post(social::social_post))
        .route("/social/needs-report.xlsx", get(social::needs_report_xlsx))
        .route("/needs", get(social::board))
        .route("/needs/{id}/commitments", post(social::commit))
        .route("/commitments/{id}/delivery", post(social::deliver))
        .route(
            "/volunteers",
            get(social::volunteers).post(social::volunteers_post),
        )
        .route(
            "/new-citizens",
            get(social::new_citizens).post(social::new_citizens_post),
        )
        .route("/new-citizens.xlsx", get(social::new_citizens_xlsx))
        .route("/public/guides", get(social::guides))
        .route("/public/guides/{code}", get(social::guide))
        .route("/public/apply", get(social::apply_form).post(social::apply))
        .route("/public/honour", get(social::honour))
        .route(
            "/public/materials",
            get(social::materials_form)
                .post(social::upload_material)
                .layer(axum::extract::DefaultBodyLimit::max(6 << 20)),
        )
        .route("/cases/{case}/materials/{id}", get(social::material_file))
        .route("/public", get(openness::public_index))
        .route("/public/notices/{id}", get(openness::public_notice))
        .route(
            "/public/notices/{id}/print",
            get(openness::public_notice_print),
        )
        .route(
            "/public/notices/{id}/objections",
            post(openness::public_object),
        )
        .route(
            "/public/complaints",
            get(openness::public_complaint_form).post(openness::public_complain),
        )
        .route("/public/lookup", get(openness::public_lookup))
        .route("/public/statistics", get(openness::public_statistics))
        .route("/warnings", get(monitoring::list))
        .route("/warnings/{id}", get(monitoring::show))
        .route("/warnings/{id}/steps", post(monitoring::step))
        .route("/monitoring/run", post(monitoring::run))
        .route("/monitoring/population", get(monitoring::population))
        .route(
            "/monitoring/population.csv",
            get(monitoring::population_csv),
        )
        .route(
            "/households/{id}/monitor",
            post(monitoring::register_household),
        )
        .route(
            "/households/{id}/incomes/{income}",
            post(households::save_income),
        )
        .route(
            "/households/{id}/members/{member}/end",
            post(households::end_member),
        )
        .route("/cases", post(cases::file))
        .route("/cases/new", get(cases::new_form))
        .route("/cases/{id}", get(cases::show))
        .route("/cases/{id}/registration", post(cases::register))
        .route("/cases/{id}/department", post(cases::department))
        .route("/cases/{id}/window", post(cases::window))
        .route("/cases/{id}/print/{kind}", get(cases::print))
        .route("/queue", get(cases::window_queue))
        .route("/inbox", get(cases::inbox))
        .route("/overdue", get(cases::overdue))
        .route("/register", get(cases::register_page))
        .route("/register.xlsx", get(cases::register_xlsx))
        .route("/status", get(cases::status))
        .route("/recipients", get(recipients::register))
        .route("/recipients.xlsx", get(recipients::register_xlsx))
        .route("/enrolments", get(recipients::awaiting))
        .route("/enrolments/{id}", get(recipients::enrolment))
        .route("/enrolments/{id}/decision", post(recipients::decide))
        .route("/enrolments/{id}/changes", post(recipients::change))
        .route(
            "/reviews",
            get(recipients::reviews).post(recipients::propose),
        )
        .route("/reviews/{id}/decision", post(recipients::decide_review))
        .route("/households/{id}/file", get(recipients::household_file))
        .route("/households/{id}/plans", post(recipients::save_plan))
        .route(
            "/households/{id}/plans/{plan}/approval",
            post(recipients::approve_plan),
        )
        .route("/households/{id}/visits", post(recipients::record_visit))
        .route("/visits", get(recipients::visits))
        .route("/enrolments/{id}/payee", post(payments::set_payee))
        .route("/rolls", get(payments::rolls).post(payments::generate))
        .route("/receivables", get(payments::receivables))
        .route("/receivables/{id}/recoveries", post(payments::recover))
        .route("/receivables/{id}/deduction", post(payments::set_deduction))
        .route(
            "/households/{id}/receivables",
            post(payments::add_receivable),
        )
        .route(
            "/households/{id}/awards/{award}/payee",
            post(payments::set_award_payee),
        )
        .route(
            "/bank-templates",
            get(payments::bank_templates).post(payments::put_bank_template),
        )
        .route("/rolls/{id}", get(payments::roll))
        .route("/rolls/{id}/bank-file", get(payments::bank_file))
        .route("/rolls/{id}/{step}", post(payments::advance))
        .route("/catalogue", get(catalogue::list))
        .route("/catalogue/{code}", get(catalogue::show))
        .route(
            "/catalogue/{code}/edit",
            get(catalogue::edit_form).post(catalogue::update),
        )
        .route("/users", get(admin::users).post(admin::create_user))
        .route("/users/{id}/active", post(admin::set_active))
        .route("/users/{id}/password", post(admin::reset_password))
        .route(
            "/users/{id}/tokens",
            get(admin::tokens).post(admin::issue_token),
        )
        .route("/tokens/{id}/revoke", post(admin::revoke_token))
        .route("/audit", get(admin::audit))
        .route("/calendar", get(admin::calendar).post(admin::load_calendar))
        .route("/cases/{id}/evaluate", post(policy::evaluate_case))
        .route("/cases/{id}/verify", post(policy::verify_case))
        .route(
            "/cases/{id}/verifications/{report}",
            get(policy::verification_report),
        )
        .route("/feeds", get(feeds::list))
        .route("/feeds/{id}", get(feeds::show))
        .route("/feeds/{id}/rejected.csv", get(feeds::rejections_csv))
        .route("/policy", get(policy::parameters).post(policy::add_value))
        .route(
            "/policy/simulate",
            get(policy::simulate_page).post(policy::simulate),
        )
        .route(
            "/policy/simulate/households",
            get(policy::simulate_households),
        )
        .route(
            "/policy/simulate/households.xlsx",
            get(policy::simulate_households_xlsx),
        )
        .route(
            "/policy/evaluate",
            get(policy::evaluate_page).post(policy::evaluate),
        )
}

/// Region code → name, for showing codes as places.
pub(crate) fn region_names(regions: &[RegionView]) -> BTreeMap<String, String> {
    regions
        .iter()
        .map(|r| (r.code.clone(), r.name.clone()))
        .collect()
}

/// Villages with their township's name, for choosing where someone lives.
pub(crate) fn village_options(regions: &[RegionView]) -> Vec<serde_json::Value> {
    let names = region_names(regions);
    regions
        .iter()
        .filter(|r| r.level == "village")
        .map(|r| {
            let town = r
                .parent_code
                .as_ref()
                .and_then(|p| names.get(p))
                .cloned()
                .unwrap_or_default();
            serde_json::json!({"code": r.code, "label": format!("{town} {}", r.name)})
        })
        .collect()
}

/// A search's page, or an empty page and the reason when the query itself was refused (a
/// malformed identity number or region code), so the search form comes back with the message.
pub(crate) fn page_or_reason<T>(
    result: Result<jiuzhu_services::people::Page<T>, jiuzhu_services::ServiceError>,
    per_page: i64,
) -> Result<(jiuzhu_services::people::Page<T>, Option<String>), crate::error::PageError> {
    match result {
        Ok(p) => Ok((p, None)),
        Err(jiuzhu_services::ServiceError::Invalid { message, .. }) => Ok((
            jiuzhu_services::people::Page {
                items: vec![],
                total: 0,
                page: 1,
                per_page,
            },
            Some(message),
        )),
        Err(e) => Err(e.into()),
    }
}

/// A page that may carry a refusal: `refused_status` when it does, 200 otherwise, so a form sent
/// back with its reason is not mistaken for success by scripts and tests.
pub(crate) fn page_reply(
    html: axum::response::Html<String>,
    error: &Option<String>,
    refused_status: axum::http::StatusCode,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let status = if error.is_some() {
        refused_status
    } else {
        axum::http::StatusCode::OK
    };
    (status, html).into_response()
}

/// The choices of a coded enum for a select: code and Chinese label.
pub(crate) fn options<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<serde_json::Value> {
    all.iter()
        .map(|x| serde_json::json!({"code": code(*x), "label": label(*x)}))
        .collect()
}

/// A page that may carry a refusal of what was typed: 422 when it does.
pub(crate) fn unprocessable(
    html: axum::response::Html<String>,
    error: &Option<String>,
) -> axum::response::Response {
    page_reply(html, error, axum::http::StatusCode::UNPROCESSABLE_ENTITY)
}

/// What was typed into a form, by field, for a template that puts it back.
pub(crate) fn form_map(f: Option<&Fields>) -> Option<BTreeMap<String, String>> {
    f.map(|f| f.iter().cloned().collect())
}

/// The double-submit token of a form without a session (the login form, the public forms):
/// sent as a cookie with the form and checked by the CSRF guard when the form comes back.
pub(crate) fn sessionless_token() -> String {
    jiuzhu_services::auth::digest(&format!(
        "{:?}{}",
        std::time::SystemTime::now(),
        rand::random::<u64>()
    ))
}

/// A public page carrying the cookie of its form's token.
pub(crate) fn with_form_cookie(
    state: &AppState,
    html: axum::response::Html<String>,
    token: &str,
    status: axum::http::StatusCode,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        status,
        [(
            axum::http::header::SET_COOKIE,
            crate::auth::set_cookie(
                crate::auth::LOGIN_COOKIE,
                token,
                Some(3600),
                state.config.secure_cookies,
            ),
        )],
        html,
    )
        .into_response()
}

/// The installation's division tree, for pages nobody is signed in to.
pub(crate) async fn public_regions(
    state: &AppState,
) -> Result<Vec<RegionView>, crate::error::PageError> {
    let Some(county) = state.services.regions().county().await? else {
        return Ok(Vec::new());
    };
    let reader = jiuzhu_services::Actor::system(county, jiuzhu_store::Interface::Web);
    Ok(state.services.regions().list(&reader).await?)
}

/// The townships of the installation as choices (code, label) of a public form.
pub(crate) async fn public_townships(
    state: &AppState,
) -> Result<Vec<serde_json::Value>, crate::error::PageError> {
    Ok(public_regions(state)
        .await?
        .into_iter()
        .filter(|r| r.level == "township")
        .map(|r| serde_json::json!({"code": r.code, "label": r.name}))
        .collect())
}

/// A submitted form as sent, repeated names kept (checkboxes).
pub(crate) type Fields = Vec<(String, String)>;

/// The first value of a form field, empty when absent.
pub(crate) fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// Every value of a repeated form field.
pub(crate) fn all(f: &Fields, name: &str) -> Vec<String> {
    f.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

/// Empty form fields are absent values.
pub(crate) fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}
