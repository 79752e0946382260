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
use super::{field, opt, options, page_reply, Fields};
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

#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct PopulationForm {
    group: String,
    region: String,
    page: Option<i64>,
}

/// The monitored population (低收入人口库) by group and place.
pub async fn population(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<PopulationForm>,
) -> Result<Response, PageError> {
    let query = jiuzhu_services::monitoring::population::PopulationQuery {
        group: opt(&q.group),
        region: opt(&q.region),
        page: q.page,
    };
    let m = state.services.monitoring();
    let (page, counts, error) = match m.population(&user.actor, &query).await {
        Ok((p, c)) => (p, c, None),
        Err(ServiceError::Invalid { message, .. }) => (
            jiuzhu_services::people::Page {
                items: vec![],
                total: 0,
                page: 1,
                per_page: 20,
            },
            vec![],
            Some(message),
        ),
        Err(e) => return Err(e.into()),
    };
    let regions = state.services.regions().list(&user.actor).await?;
    let townships: Vec<_> = regions
        .iter()
        .filter(|r| r.level == "township")
        .map(|r| context! { code => r.code, name => r.name })
        .collect();
    let here = form_urlencoded::Serializer::new(String::new())
        .append_pair("group", &q.group)
        .append_pair("region", &q.region)
        .finish();
    let pages = (page.total + page.per_page - 1) / page.per_page.max(1);
    let html = state.templates.render(
        "population.html",
        context! { ..frame(&user, "/warnings"), ..context! {
            page => page, pages => pages, counts => counts, q => q, here => here,
            townships => townships, error => error,
        }},
    )?;
    Ok(page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

/// The whole population as a CSV the bureau sends on.
pub async fn population_csv(
    State(state): State<AppState>,
    user: WebUser,
) -> Result<Response, PageError> {
    let rows = state
        .services
        .monitoring()
        .population_all(&user.actor)
        .await?;
    let mut out = String::from("\u{feff}序号,户编号,户主,所在村（社区）,人数,类别,纳入日期\r\n");
    for (i, h) in rows.iter().enumerate() {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\r\n",
            i + 1,
            h.household_id,
            jiuzhu_services::export::spreadsheet_safe(&h.head_name),
            jiuzhu_services::export::spreadsheet_safe(&h.region_name),
            h.members,
            h.group_label,
            h.since
        ));
    }
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"population.csv\"".to_string(),
            ),
        ],
        out,
    )
        .into_response())
}

/// A village assistant or clerk registers a household as in difficulty.
pub async fn register_household(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    match state
        .services
        .monitoring()
        .register_household(&user.actor, id, field(&f, "reason"))
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/households/{id}")).into_response()),
        Err(e) => {
            let reason = refusal(e)?;
            super::households::render_household(&state, &user, id, Some(reason)).await
        }
    }
}
