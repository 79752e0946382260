//! Monitoring warnings (预警): the township's list with counts and on-time rates, one warning
//! with its basis and the steps to settle it, and the bureau's monthly run.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use jiuzhu_domain::monitoring::{Grade, Outcome, WarningStatus};
use jiuzhu_domain::Permission;
use jiuzhu_services::monitoring::{WarningQuery, WarningStep};
use jiuzhu_services::ServiceError;
use minijinja::context;
use serde::Deserialize;

use super::people::refusal;
use super::{field, opt, page_reply, Fields};
use crate::auth::WebUser;
use crate::error::PageError;
use crate::render::frame;
use crate::AppState;

#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    grade: String,
    region: String,
    overdue: String,
    page: Option<i64>,
}

fn options<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<serde_json::Value> {
    all.iter()
        .map(|x| serde_json::json!({"code": code(*x), "label": label(*x)}))
        .collect()
}

async fn render_list(
    state: &AppState,
    user: &WebUser,
    q: ListQuery,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let m = state.services.monitoring();
    let query = WarningQuery {
        status: opt(&q.status),
        grade: opt(&q.grade),
        region: opt(&q.region),
        overdue: (!q.overdue.is_empty()).then_some(true),
        page: q.page,
    };
    let (page, refused) = super::page_or_reason(m.warnings(&user.actor, &query).await, 20)?;
    let towns = m.by_township(&user.actor).await?;
    let runs = if user.actor.role.allows(Permission::ImportFeeds) {
        m.recent_runs(&user.actor).await?
    } else {
        Vec::new()
    };
    let here = form_urlencoded::Serializer::new(String::new())
        .append_pair("status", &q.status)
        .append_pair("grade", &q.grade)
        .append_pair("region", &q.region)
        .append_pair("overdue", &q.overdue)
        .finish();
    let pages = (page.total + page.per_page - 1) / page.per_page.max(1);
    let error = error.or(refused);
    let html = state.templates.render(
        "warnings.html",
        context! { ..frame(user, "/warnings"), ..context! {
            page => page, pages => pages, q => q, towns => towns, runs => runs, here => here,
            notice => notice, error => error,
            statuses => options(WarningStatus::ALL, WarningStatus::code, WarningStatus::label),
            grades => options(Grade::ALL, Grade::code, Grade::label),
            can_run => user.actor.role.allows(Permission::ImportFeeds),
            this_month => state.services.today().format("%Y-%m").to_string(),
        }},
    )?;
    Ok(page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub async fn list(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    render_list(&state, &user, q, None, None).await
}

/// The bureau runs a month (or runs it again).
pub async fn run(
    State(state): State<AppState>,
    user: WebUser,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let month = NaiveDate::parse_from_str(&format!("{}-01", field(&f, "month")), "%Y-%m-%d")
        .map_err(|_| ServiceError::invalid("month", "月份应写作 YYYY-MM"));
    let rerun = field(&f, "rerun") == "1";
    let result = match month {
        Ok(m) => state.services.monitoring().run(&user.actor, m, rerun).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(r) if r.already_run => {
            let notice = format!(
                "{}已运行过监测（第{}次，预警{}条），未作改动；如需重新运行请勾选“重新运行”",
                r.month, r.attempt, r.warnings
            );
            render_list(&state, &user, ListQuery::default(), Some(notice), None).await
        }
        Ok(r) => {
            let notice = format!(
                "{}监测完成（第{}次）：读取部门数据{}条，本月预警{}条，新增{}条（红色{}、橙色{}、黄色{}，主动发现{}）",
                r.month, r.attempt, r.facts_read, r.warnings, r.raised, r.red, r.orange, r.yellow, r.discoveries
            );
            render_list(&state, &user, ListQuery::default(), Some(notice), None).await
        }
        Err(e) => render_list(&state, &user, ListQuery::default(), None, Some(refusal(e)?)).await,
    }
}

async fn render_one(
    state: &AppState,
    user: &WebUser,
    id: i64,
    error: Option<String>,
) -> Result<Response, PageError> {
    let w = state.services.monitoring().warning(&user.actor, id).await?;
    let html = state.templates.render(
        "warning.html",
        context! { ..frame(user, "/warnings"), ..context! {
            w => w, error => error,
            outcomes => options(Outcome::ALL, Outcome::code, Outcome::label),
            can_handle => user.actor.role.allows(Permission::ManageRecipients) && !user.actor.read_only,
            today => state.services.today(),
        }},
    )?;
    Ok(page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    render_one(&state, &user, id, None).await
}

pub async fn step(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let revision = field(&f, "revision").parse().unwrap_or(0);
    let step = match field(&f, "action") {
        "assign" => Ok(WarningStep::Assign {
            to: field(&f, "to").to_string(),
            revision,
        }),
        "check" => opt(field(&f, "date"))
            .map(|d| d.parse::<NaiveDate>())
            .transpose()
            .map_err(|_| ServiceError::invalid("date", "核查日期格式应为 YYYY-MM-DD"))
            .map(|date| WarningStep::Check {
                date,
                findings: field(&f, "findings").to_string(),
                revision,
            }),
        _ => Ok(WarningStep::Close {
            outcome: field(&f, "outcome").to_string(),
            note: field(&f, "note").to_string(),
            revision,
        }),
    };
    let result = match step {
        Ok(s) => state.services.monitoring().step(&user.actor, id, &s).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(w) => match w.case_id {
            Some(case)
                if w.status == "closed" && w.outcome.as_deref() == Some("proactive_case") =>
            {
                Ok(Redirect::to(&format!("/cases/{case}")).into_response())
            }
            _ => Ok(Redirect::to(&format!("/warnings/{id}")).into_response()),
        },
        Err(e) => render_one(&state, &user, id, Some(refusal(e)?)).await,
    }
}
