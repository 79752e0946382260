//! Those in assistance: the register (花名册), enrolments waiting for review and confirmation,
//! an enrolment's history and its changes, reviews due and their proposals, the household file
//! with its plan and visits, and the visits due.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use jiuzhu_domain::enrolment::{month_end, month_of, EnrolmentChange, ExitCause};
use jiuzhu_domain::{Money, Permission};
use jiuzhu_services::recipients::{
    ChangeInput, DecisionInput, Measure, Need, PlanInput, RegisterQuery, ReviewDecision,
    VisitInput, HARDSHIP_CAUSES,
};
use minijinja::context;

use super::page_reply;
use super::people::refusal;
use crate::auth::WebUser;
use crate::error::PageError;
use crate::render::frame;
use crate::AppState;

use super::{all, field, Fields};

const PROGRAMS: [(&str, &str); 4] = [
    ("dibao", "最低生活保障"),
    ("tekun", "特困人员供养"),
    ("near_dibao", "低保边缘家庭"),
    ("disability_subsidies", "残疾人两项补贴"),
];

fn exit_causes() -> Vec<serde_json::Value> {
    ExitCause::ALL
        .iter()
        .map(|c| serde_json::json!({"code": c.code(), "label": c.label()}))
        .collect()
}

/// The register page: a month, a program, a township or village, a name.
pub async fn register(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<RegisterQuery>,
) -> Result<Response, PageError> {
    let a = &user.actor;
    let (view, error) = match state.services.recipients().register(a, &q).await {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(refusal(e)?)),
    };
    let regions = state.services.regions().list(a).await?;
    let places: Vec<serde_json::Value> = regions
        .iter()
        .filter(|r| r.level != "county")
        .map(|r| {
            let town = r
                .parent_code
                .as_ref()
                .and_then(|p| regions.iter().find(|x| &x.code == p))
                .filter(|_| r.level == "village")
                .map(|t| format!("{} ", t.name))
                .unwrap_or_default();
            serde_json::json!({"code": r.code, "label": format!("{town}{}", r.name)})
        })
        .collect();
    let month = q
        .month
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| state.services.today().format("%Y-%m").to_string());
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("month", &month)
        .append_pair("program", q.program.as_deref().unwrap_or(""))
        .append_pair("region", q.region.as_deref().unwrap_or(""))
        .append_pair("q", q.q.as_deref().unwrap_or(""))
        .finish();
    let html = state.templates.render(
        "recipients.html",
        context! { ..frame(&user, "/recipients"), ..context! {
            view => view, error => error, month => month, q => q, programs => PROGRAMS,
            places => places, query => query,
            can_reveal => a.role.allows(Permission::RevealIdentity),
        }},
    )?;
    Ok(page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub async fn register_xlsx(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<RegisterQuery>,
) -> Result<Response, PageError> {
    let bytes = state
        .services
        .recipients()
        .register_xlsx(&user.actor, &q)
        .await?;
    let month = q.month.clone().unwrap_or_default();
    Ok(crate::render::xlsx_download(
        bytes,
        &format!("roster-{month}.xlsx"),
    ))
}

/// Enrolments waiting for the signed-in reviewer or approver.
pub async fn awaiting(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    render_awaiting(&state, &user, None).await
}

async fn render_awaiting(
    state: &AppState,
    user: &WebUser,
    error: Option<String>,
) -> Result<Response, PageError> {
    let list = state.services.recipients().awaiting(&user.actor).await?;
    // Objections raised while a decision was on notice hold its confirmation: say so beside it.
    let mut objections: std::collections::BTreeMap<String, Vec<(i64, String)>> = Default::default();
    for o in state.services.openness().objections(&user.actor).await? {
        if o.status == "open" {
            objections
                .entry(o.enrolment_id.to_string())
                .or_default()
                .push((o.id, o.number));
        }
    }
    let html = state.templates.render(
        "enrolments.html",
        context! { ..frame(user, "/enrolments"), ..context! { list => list, error => error, objections => objections }},
    )?;
    Ok(page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub async fn decide(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let d = DecisionInput {
        approve: field(&f, "approve") == "yes",
        note: field(&f, "note").to_string(),
    };
    match state
        .services
        .recipients()
        .decide(&user.actor, id, &d)
        .await
    {
        Ok(_) => Ok(Redirect::to("/enrolments").into_response()),
        Err(e) => render_awaiting(&state, &user, Some(refusal(e)?)).await,
    }
}

/// One enrolment: where it stands, its history, its reviews, and the change form.
pub async fn enrolment(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    render_enrolment(&state, &user, id, None, &Fields::new()).await
}

/// The enrolment's page again, with a refused form's reason and what was typed.
pub(crate) async fn enrolment_with_error(
    state: &AppState,
    user: &WebUser,
    id: i64,
    error: String,
    typed: &Fields,
) -> Result<Response, PageError> {
    render_enrolment(state, user, id, Some(error), typed).await
}

async fn render_enrolment(
    state: &AppState,
    user: &WebUser,
    id: i64,
    error: Option<String>,
    typed: &Fields,
) -> Result<Response, PageError> {
    let r = state.services.recipients();
    let e = r.enrolment(&user.actor, id).await?;
    let reviews = r.reviews_of(&user.actor, id).await?;
    let payee = state.services.payments().payee(&user.actor, id).await?;
    let next = jiuzhu_domain::enrolment::add_months(month_of(state.services.today()), 1);
    let typed: std::collections::BTreeMap<&str, &str> = typed
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let html = state.templates.render(
        "enrolment.html",
        context! { ..frame(user, "/recipients"), ..context! {
            e => e, reviews => reviews, error => error, causes => exit_causes(), payee => payee,
            can_manage => user.actor.role.allows(Permission::ManageRecipients),
            next_month => next.format("%Y-%m").to_string(), typed => typed,
            can_change => user.actor.role.allows(Permission::ApproveAssistance),
        }},
    )?;
    Ok(page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub async fn change(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let bad = |m: &str| Some(m.to_string());
    let change = match field(&f, "kind") {
        "adjusted" => match Money::parse_yuan(field(&f, "amount_yuan")) {
            Ok(m) => Ok(EnrolmentChange::Adjusted {
                amount_fen: m.fen(),
            }),
            Err(e) => Err(bad(&format!("调整后金额：{e}"))),
        },
        "member_added" | "member_removed" => match field(&f, "person_id").parse::<i64>() {
            Ok(p) if field(&f, "kind") == "member_added" => {
                Ok(EnrolmentChange::MemberAdded { person_id: p })
            }
            Ok(p) => Ok(EnrolmentChange::MemberRemoved { person_id: p }),
            Err(_) => Err(bad("请选择成员")),
        },
        "suspended" => Ok(EnrolmentChange::Suspended),
        "resumed" => Ok(EnrolmentChange::Resumed),
        "gradual_exit" => match field(&f, "months").trim().parse::<u32>() {
            Ok(months) => Ok(EnrolmentChange::GradualExit { months }),
            Err(_) => Err(bad("渐退期：请填写月数")),
        },
        "ended" => match ExitCause::from_code(field(&f, "cause")) {
            Some(cause) => Ok(EnrolmentChange::Ended { cause }),
            None => Err(bad("退出原因：请选择")),
        },
        _ => Err(bad("请选择变更事项")),
    };
    let change = match change {
        Ok(c) => c,
        Err(error) => return render_enrolment(&state, &user, id, error, &f).await,
    };
    let input = ChangeInput {
        month: field(&f, "month").to_string(),
        change,
        reason: field(&f, "reason").to_string(),
    };
    match state
        .services
        .recipients()
        .change(&user.actor, id, &input)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/enrolments/{id}")).into_response()),
        Err(e) => render_enrolment(&state, &user, id, Some(refusal(e)?), &f).await,
    }
}

/// Reviews due this month (or the month asked) and the proposals waiting for confirmation.
pub async fn reviews(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    render_reviews(&state, &user, field(&q, "month"), None, None).await
}

async fn render_reviews(
    state: &AppState,
    user: &WebUser,
    month: &str,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let today = state.services.today();
    let month = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .unwrap_or_else(|_| month_of(today));
    let r = state.services.recipients();
    let due = r.reviews_due(&user.actor, month).await?;
    let proposals = r.proposals(&user.actor).await?;
    let to_review = due.iter().filter(|d| d.proposal_id.is_none()).count();
    let html = state.templates.render(
        "reviews.html",
        context! { ..frame(user, "/reviews"), ..context! {
            due => due, to_review => to_review, proposals => proposals, month => month.format("%Y-%m").to_string(),
            notice => notice, error => error,
            can_review => user.actor.role.allows(Permission::ManageRecipients),
            can_confirm => user.actor.role.allows(Permission::ApproveAssistance),
            me => user.actor.display_name,
        }},
    )?;
    Ok(page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub async fn propose(
    State(state): State<AppState>,
    user: WebUser,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let month = field(&f, "month").to_string();
    let r = state.services.recipients();
    let result = match field(&f, "enrolment_id").parse::<i64>() {
        Ok(id) => r.review(&user.actor, &[id]).await,
        Err(_) => {
            let m = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
                .unwrap_or_else(|_| month_of(state.services.today()));
            r.review_due(&user.actor, m).await
        }
    };
    match result {
        Ok(b) => {
            let outcomes: Vec<String> = b
                .outcomes
                .iter()
                .map(|(label, n)| format!("{label}{n}户"))
                .collect();
            let notice = format!(
                "已复核{}户，结果待确认：{}",
                b.reviewed,
                if outcomes.is_empty() {
                    "无".to_string()
                } else {
                    outcomes.join("，")
                }
            );
            render_reviews(&state, &user, &month, Some(notice), None).await
        }
        Err(e) => render_reviews(&state, &user, &month, None, Some(refusal(e)?)).await,
    }
}

pub async fn decide_review(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let d = ReviewDecision {
        confirm: field(&f, "confirm") == "yes",
        note: field(&f, "note").to_string(),
    };
    match state
        .services
        .recipients()
        .decide_review(&user.actor, id, &d)
        .await
    {
        Ok(v) => {
            let notice = format!(
                "{}户：{}（{}）",
                v.head_name, v.outcome_label, v.status_label
            );
            render_reviews(&state, &user, "", Some(notice), None).await
        }
        Err(e) => render_reviews(&state, &user, "", None, Some(refusal(e)?)).await,
    }
}

/// 一户一档: the household's file, printable, with the plan and visit forms.
pub async fn household_file(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    render_file(&state, &user, id, None, None).await
}

pub(crate) async fn render_file(
    state: &AppState,
    user: &WebUser,
    id: i64,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let file = state
        .services
        .recipients()
        .household_file(&user.actor, id)
        .await?;
    let latest_plan = file.plans.last().cloned();
    let html = state.templates.render(
        "household_file.html",
        context! { ..frame(user, "/households"), ..context! {
            f => file, plan => latest_plan, notice => notice, error => error,
            causes => HARDSHIP_CAUSES.iter().map(|(c, l)| serde_json::json!({"code": c, "label": l})).collect::<Vec<_>>(),
            today => state.services.today(), relations => super::households::relations(),
            can_manage => user.actor.role.allows(Permission::ManageRecipients),
            can_approve => user.actor.role.allows(Permission::ApproveAssistance),
        }},
    )?;
    Ok(page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

/// The plan form: the causes ticked, and up to five needs, each with its measure or reason.
pub async fn save_plan(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let needs: Vec<Need> = (0..5)
        .filter_map(|i| {
            let need = field(&f, &format!("need_{i}")).trim().to_string();
            if need.is_empty() {
                return None;
            }
            let by = field(&f, &format!("by_{i}")).trim().to_string();
            let what = field(&f, &format!("what_{i}")).trim().to_string();
            let measure = (!by.is_empty() || !what.is_empty()).then(|| Measure {
                by,
                what,
                due_days: field(&f, &format!("days_{i}")).trim().parse().unwrap_or(0),
                status: field(&f, &format!("status_{i}")).to_string(),
            });
            Some(Need {
                need,
                measure,
                no_measure_reason: field(&f, &format!("reason_{i}")).to_string(),
            })
        })
        .collect();
    let input = PlanInput {
        causes: all(&f, "causes"),
        needs,
        changes: field(&f, "changes").to_string(),
    };
    match state
        .services
        .recipients()
        .save_plan(&user.actor, id, &input)
        .await
    {
        Ok(p) => {
            render_file(
                &state,
                &user,
                id,
                Some(format!("帮扶计划第{}版已保存（草稿）", p.version)),
                None,
            )
            .await
        }
        Err(e) => render_file(&state, &user, id, None, Some(refusal(e)?)).await,
    }
}

pub async fn approve_plan(
    State(state): State<AppState>,
    user: WebUser,
    Path((household, plan)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    match state
        .services
        .recipients()
        .approve_plan(&user.actor, plan)
        .await
    {
        Ok(p) => {
            render_file(
                &state,
                &user,
                household,
                Some(format!("帮扶计划第{}版已审定", p.version)),
                None,
            )
            .await
        }
        Err(e) => render_file(&state, &user, household, None, Some(refusal(e)?)).await,
    }
}

pub async fn record_visit(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let input = VisitInput {
        date: NaiveDate::parse_from_str(field(&f, "date"), "%Y-%m-%d").ok(),
        findings: field(&f, "findings").to_string(),
        follow_up: field(&f, "follow_up").to_string(),
    };
    match state
        .services
        .recipients()
        .record_visit(&user.actor, id, &input)
        .await
    {
        Ok(v) => {
            render_file(
                &state,
                &user,
                id,
                Some(format!("已记录{}的走访", v.date)),
                None,
            )
            .await
        }
        Err(e) => render_file(&state, &user, id, None, Some(refusal(e)?)).await,
    }
}

/// The visits due this month and overdue: the village assistant's list.
pub async fn visits(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    let today = state.services.today();
    let due = state
        .services
        .recipients()
        .visits_due(&user.actor, month_end(today))
        .await?;
    let overdue = due.iter().filter(|d| d.overdue).count();
    let html = state.templates.render(
        "visits.html",
        context! { ..frame(&user, "/visits"), ..context! {
            due => due, overdue => overdue, today => today,
        }},
    )?;
    Ok(html.into_response())
}
