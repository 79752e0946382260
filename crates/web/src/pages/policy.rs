//! Policy pages: the parameters of a jurisdiction with history and sources (administrators add
//! values), the household calculator, and what-if simulation with its chart.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use jiuzhu_domain::{DisabilityKind, IncomeKind, LabourCapacity, SelfCare};
use jiuzhu_services::policy::simulate::{SimulationInput, SimulationReport};
use jiuzhu_services::policy::NewValueInput;
use jiuzhu_services::ServiceError;
use minijinja::context;
use serde::Deserialize;

use super::evaluate_sheet::{field_in_chinese, EvaluateSheet};
use super::opt;
use super::people::refusal;
use crate::auth::WebUser;
use crate::error::PageError;
use crate::render::frame;
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PolicyQuery {
    jurisdiction: String,
}

#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct ValueForm {
    jurisdiction: String,
    name: String,
    from: String,
    value: String,
    source: String,
}

async fn render_parameters(
    state: &AppState,
    user: &WebUser,
    jurisdiction: Option<&str>,
    form: ValueForm,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let view = match state
        .services
        .policy()
        .parameters(&user.actor, jurisdiction)
    {
        Ok(v) => v,
        Err(ServiceError::Invalid { .. }) if jurisdiction.is_some() => {
            state.services.policy().parameters(&user.actor, None)?
        }
        Err(e) => return Err(e.into()),
    };
    let html = state.templates.render(
        "policy.html",
        context! { ..frame(user, "/policy"), ..context! {
            p => view, form => form, error => error, notice => notice,
            can_edit => user.actor.role.allows(jiuzhu_domain::Permission::EditPolicy) && !user.actor.read_only,
        }},
    )?;
    Ok(super::page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub async fn parameters(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<PolicyQuery>,
) -> Result<Response, PageError> {
    let j = opt(&q.jurisdiction);
    render_parameters(
        &state,
        &user,
        j.as_deref(),
        ValueForm::default(),
        None,
        None,
    )
    .await
}

pub async fn add_value(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<ValueForm>,
) -> Result<Response, PageError> {
    let from = form.from.trim().parse::<NaiveDate>();
    let value: serde_json::Value = match serde_json::from_str(form.value.trim()) {
        Ok(v @ serde_json::Value::Array(_)) => v,
        _ => serde_json::Value::String(form.value.trim().to_string()),
    };
    let result = match from {
        Ok(from) => {
            state
                .services
                .policy()
                .add_value(
                    &user.actor,
                    &NewValueInput {
                        jurisdiction: form.jurisdiction.clone(),
                        name: form.name.clone(),
                        from,
                        value,
                        source: form.source.clone(),
                    },
                )
                .await
        }
        Err(_) => Err(ServiceError::invalid("from", "请填写生效日期")),
    };
    let j = form.jurisdiction.clone();
    match result {
        Ok(_) => {
            let notice = format!(
                "已新增参数值：{} 自{}起为{}",
                form.name, form.from, form.value
            );
            render_parameters(
                &state,
                &user,
                Some(&j),
                ValueForm::default(),
                None,
                Some(notice),
            )
            .await
        }
        Err(e) => {
            let reason = refusal(e)?;
            render_parameters(&state, &user, Some(&j), form, Some(reason), None).await
        }
    }
}

#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct SimulateForm {
    month: String,
    jurisdiction: String,
    /// Changes picked on the form: a parameter from the list and its new value or percentage.
    param1: String,
    change1: String,
    param2: String,
    change2: String,
    param3: String,
    change3: String,
    /// Changes typed as `参数代码=值`, one a line (for what the list does not offer).
    set: String,
    /// Page of the full list of affected households.
    page: Option<usize>,
}

impl SimulateForm {
    /// The form as a query string: the full list and its workbook rerun the same simulation.
    fn query(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("month", &self.month)
            .append_pair("jurisdiction", &self.jurisdiction)
            .append_pair("param1", &self.param1)
            .append_pair("change1", &self.change1)
            .append_pair("param2", &self.param2)
            .append_pair("change2", &self.change2)
            .append_pair("param3", &self.param3)
            .append_pair("change3", &self.change3)
            .append_pair("set", &self.set)
            .finish()
    }

    fn input(&self, list_limit: usize) -> SimulationInput {
        SimulationInput {
            month: opt(&self.month),
            jurisdiction: opt(&self.jurisdiction),
            set: self.changes(),
            list_limit: Some(list_limit),
        }
    }

    /// Every change asked for: the picked ones, then the typed ones.
    fn changes(&self) -> Vec<String> {
        let picked = [
            (&self.param1, &self.change1),
            (&self.param2, &self.change2),
            (&self.param3, &self.change3),
        ];
        picked
            .into_iter()
            .filter(|(p, c)| !p.trim().is_empty() && !c.trim().is_empty())
            .map(|(p, c)| {
                // 调高8% and +8% mean the same; a bare number is the new value.
                let c = c
                    .trim()
                    .replace("调高", "+")
                    .replace("调低", "-")
                    .replace('％', "%");
                format!("{}={}", p.trim(), c)
            })
            .chain(
                self.set
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string),
            )
            .collect()
    }
}

/// A horizontal bar chart of signed values, one bar per row, as inline SVG.
pub(crate) fn bar_chart(rows: &[(String, i64)], unit: impl Fn(i64) -> String) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let (label_w, bar_w, row_h) = (150.0, 420.0, 26.0);
    let max = rows.iter().map(|(_, v)| v.abs()).max().unwrap_or(0).max(1) as f64;
    let any_negative = rows.iter().any(|(_, v)| *v < 0);
    let zero = if any_negative {
        label_w + bar_w / 2.0
    } else {
        label_w
    };
    let scale = if any_negative { bar_w / 2.0 } else { bar_w } / max;
    let height = row_h * rows.len() as f64 + 10.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{w}" height="{height}" viewBox="0 0 {w} {height}" font-size="13">"#,
        w = label_w + bar_w + 130.0
    );
    for (i, (label, v)) in rows.iter().enumerate() {
        let y = 5.0 + row_h * i as f64;
        let len = (*v as f64).abs() * scale;
        let x = if *v < 0 { zero - len } else { zero };
        let colour = if *v < 0 { "#b03a2e" } else { "#1f6f8b" };
        svg.push_str(&format!(
            r#"<text x="{tx}" y="{ty}" text-anchor="end">{label}</text><rect x="{x:.1}" y="{y:.1}" width="{len:.1}" height="{h}" fill="{colour}"><title>{label}：{value}</title></rect><text x="{vx:.1}" y="{ty}">{value}</text>"#,
            tx = label_w - 8.0,
            ty = y + 15.0,
            h = row_h - 8.0,
            label = esc(label),
            value = esc(&unit(*v)),
            vx = zero.max(x + len) + 6.0,
        ));
    }
    svg.push_str(&format!(
        r##"<line x1="{zero}" y1="0" x2="{zero}" y2="{height}" stroke="#555"/></svg>"##
    ));
    svg
}

fn charts(report: &SimulationReport) -> (String, String) {
    let cost: Vec<(String, i64)> = report
        .townships
        .iter()
        .map(|t| (t.name.clone(), t.after_monthly_fen - t.before_monthly_fen))
        .collect();
    let yuan = |fen: i64| format!("{}元", jiuzhu_domain::Money::from_fen(fen));
    let moved: Vec<(String, i64)> = report
        .townships
        .iter()
        .map(|t| (t.name.clone(), t.gained as i64 - t.lost as i64))
        .collect();
    (
        bar_chart(&cost, yuan),
        bar_chart(&moved, |n| format!("{n:+}户")),
    )
}

async fn render_simulate(
    state: &AppState,
    user: &WebUser,
    form: SimulateForm,
    report: Option<SimulationReport>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let view = state.services.policy().parameters(&user.actor, None)?;
    let (cost_chart, count_chart) = report.as_ref().map(charts).unzip();
    let html = state.templates.render(
        "simulate.html",
        context! { ..frame(user, "/policy/simulate"), ..context! {
            query => form.query(), form => form, report => report, error => error, p => view,
            cost_chart => cost_chart.map(minijinja::Value::from_safe_string),
            count_chart => count_chart.map(minijinja::Value::from_safe_string),
        }},
    )?;
    Ok(super::page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub async fn simulate_page(
    State(state): State<AppState>,
    user: WebUser,
) -> Result<Response, PageError> {
    user.actor.require(jiuzhu_domain::Permission::Simulate)?;
    let form = SimulateForm {
        param1: "dibao.standard".into(),
        change1: "+8%".into(),
        ..Default::default()
    };
    render_simulate(&state, &user, form, None, None).await
}

pub async fn simulate(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<SimulateForm>,
) -> Result<Response, PageError> {
    match state
        .services
        .policy()
        .simulate(&user.actor, &form.input(200))
        .await
    {
        Ok(report) => render_simulate(&state, &user, form, Some(report), None).await,
        Err(e) => {
            let reason = refusal(e)?;
            render_simulate(&state, &user, form, None, Some(reason)).await
        }
    }
}

const AFFECTED_PER_PAGE: usize = 100;

/// Every household a simulated change affects, a page at a time.
pub async fn simulate_households(
    State(state): State<AppState>,
    user: WebUser,
    Query(form): Query<SimulateForm>,
) -> Result<Response, PageError> {
    let report = state
        .services
        .policy()
        .simulate(&user.actor, &form.input(usize::MAX))
        .await?;
    let pages = report.affected.len().div_ceil(AFFECTED_PER_PAGE).max(1);
    let page = form.page.unwrap_or(1).clamp(1, pages);
    let rows: Vec<_> = report
        .affected
        .iter()
        .enumerate()
        .skip((page - 1) * AFFECTED_PER_PAGE)
        .take(AFFECTED_PER_PAGE)
        .map(|(i, a)| context! {
            n => i + 1, household_id => a.household_id, township => a.township, program => a.program,
            change => jiuzhu_services::policy::simulate::change_label(&a.change),
            before_fen => a.before_fen, after_fen => a.after_fen,
        })
        .collect();
    let html = state.templates.render(
        "simulate_households.html",
        context! { ..frame(&user, "/policy/simulate"), ..context! {
            report => report, rows => rows, page => page, pages => pages, query => form.query(),
        }},
    )?;
    Ok(axum::response::Html(html).into_response())
}

pub async fn simulate_households_xlsx(
    State(state): State<AppState>,
    user: WebUser,
    Query(form): Query<SimulateForm>,
) -> Result<Response, PageError> {
    let report = state
        .services
        .policy()
        .simulate(&user.actor, &form.input(usize::MAX))
        .await?;
    let bytes = jiuzhu_services::policy::simulate::affected_xlsx(&report)?;
    Ok(crate::render::xlsx_download(
        bytes,
        &format!("simulation-{}.xlsx", report.month),
    ))
}

async fn render_evaluate(
    state: &AppState,
    user: &WebUser,
    sheet: EvaluateSheet,
    evaluation: Option<jiuzhu_policy::Evaluation>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let options = |all: Vec<(&'static str, &'static str)>| -> Vec<_> {
        all.into_iter()
            .map(|(code, label)| context! { code => code, label => label })
            .collect()
    };
    let html = state.templates.render(
        "evaluate.html",
        context! { ..frame(user, "/policy/evaluate"), ..context! {
            sheet => sheet, evaluation => evaluation, error => error,
            income_kinds => options(IncomeKind::ALL.iter().map(|k| (k.code(), k.label())).collect()),
            labour => options(LabourCapacity::ALL.iter().map(|k| (k.code(), k.label())).collect()),
            self_care => options(SelfCare::ALL.iter().map(|k| (k.code(), k.label())).collect()),
            disability_kinds => options(DisabilityKind::ALL.iter().map(|k| (k.code(), k.label())).collect()),
        }},
    )?;
    Ok(super::page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EvaluateQuery {
    /// Any value fills the form with the user guide's worked example.
    example: String,
}

pub async fn evaluate_page(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<EvaluateQuery>,
) -> Result<Response, PageError> {
    let sheet = if q.example.is_empty() {
        EvaluateSheet::fresh(jiuzhu_services::clock::today().format("%Y-%m").to_string())
    } else {
        EvaluateSheet::example()
    };
    render_evaluate(&state, &user, sheet, None, None).await
}

pub async fn evaluate(
    State(state): State<AppState>,
    user: WebUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let sheet = EvaluateSheet::from_pairs(&pairs);
    if sheet.action == "add_row" {
        return render_evaluate(&state, &user, sheet, None, None).await;
    }
    let result = match sheet.to_input() {
        Ok(input) => state
            .services
            .policy()
            .evaluate_household(&user.actor, &input)
            .map_err(|e| match e {
                ServiceError::Invalid { field, message } => ServiceError::Invalid {
                    message: format!("{}：{message}", field_in_chinese(&field)),
                    field,
                },
                other => other,
            }),
        Err(e) => Err(e),
    };
    match result {
        Ok(evaluation) => render_evaluate(&state, &user, sheet, Some(evaluation), None).await,
        Err(ServiceError::Invalid { message, .. }) => {
            render_evaluate(&state, &user, sheet, None, Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Evaluates a case's household now and keeps the result with the case.
pub async fn evaluate_case(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    match state
        .services
        .policy()
        .evaluate_case(&user.actor, id, true)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}#evaluation")).into_response()),
        Err(e) => {
            let reason = refusal(e)?;
            super::cases::render_case_with(&state, &user, id, Some(reason)).await
        }
    }
}

/// Verifies a case's household against the department facts and keeps the report.
/// One verification report laid out for printing.
pub async fn verification_report(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, report)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let case = state.services.cases().get(&user.actor, id).await?;
    let reports = state
        .services
        .verification()
        .case_reports(&user.actor, id)
        .await?;
    let report = reports
        .into_iter()
        .find(|r| r.id == report)
        .ok_or(ServiceError::NotFound)?;
    let html = state.templates.render(
        "verification.html",
        context! { c => case, report => report, printed_on => jiuzhu_services::clock::today() },
    )?;
    Ok(html.into_response())
}

pub async fn verify_case(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    match state
        .services
        .verification()
        .verify_case(&user.actor, id)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}#verification")).into_response()),
        Err(e) => {
            let reason = refusal(e)?;
            super::cases::render_case_with(&state, &user, id, Some(reason)).await
        }
    }
}
