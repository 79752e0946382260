//! Openness and supervision pages: 公示 (publish, print for the board, record and answer
//! objections), 投诉举报 (record, transfer, accept, answer), 双随机抽查 (plan, inspect, publish),
//! the statistical report and the performance indicators — and the public pages that need no
//! sign-in: notices in force with the objection form, the complaint form, look-ups by number and
//! code, the public figures and the published inspection results.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use jiuzhu_domain::openness::{
    ComplaintCategory, ComplaintChannel, InspectionResult, NameMask, ObjectionMethod,
};
use jiuzhu_domain::{Money, Permission};
use jiuzhu_services::openness::{
    AnswerInput, ComplaintInput, ComplaintStep, InspectionInput, InspectionResultInput,
    NoticeInput, ObjectionInput,
};
use jiuzhu_services::ServiceError;
use minijinja::context;
use serde::Deserialize;

use super::people::refusal;
use super::{
    all, field, form_map, opt, options, public_townships, sessionless_token, unprocessable,
    with_form_cookie, Fields,
};
use crate::auth::{ClientIp, WebUser};
use crate::error::PageError;
use crate::render::{frame, xlsx_download};
use crate::AppState;

/// Yuan typed into a form, as fen; the field named in the refusal.
fn fen(field_name: &str, text: &str) -> Result<Option<i64>, ServiceError> {
    match opt(text) {
        None => Ok(None),
        Some(t) => Money::parse_yuan(&t)
            .map(|m| Some(m.fen()))
            .map_err(|e| ServiceError::invalid(field_name, e.to_string())),
    }
}

fn date(field_name: &str, text: &str) -> Result<Option<NaiveDate>, ServiceError> {
    opt(text)
        .map(|d| d.parse::<NaiveDate>())
        .transpose()
        .map_err(|_| ServiceError::invalid(field_name, "日期格式应为 YYYY-MM-DD"))
}

fn count(field_name: &str, text: &str) -> Result<Option<i64>, ServiceError> {
    opt(text)
        .map(|d| d.parse::<i64>())
        .transpose()
        .map_err(|_| ServiceError::invalid(field_name, "请填写整数"))
}

// ---------------------------------------------------------------- publicity (staff)

async fn render_publicity(
    state: &AppState,
    user: &WebUser,
    form: Option<&Fields>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let o = state.services.openness();
    let notices = o.notices(&user.actor).await?;
    let objections = o.objections(&user.actor).await?;
    let regions = state.services.regions().list(&user.actor).await?;
    let names = super::region_names(&regions);
    let places: Vec<_> = regions
        .iter()
        .filter(|r| r.level == "township" || r.level == "village")
        .map(|r| {
            let label = match (&r.parent_code, r.level.as_str()) {
                (Some(p), "village") => {
                    format!("{} {}", names.get(p).cloned().unwrap_or_default(), r.name)
                }
                _ => format!("{}（全镇）", r.name),
            };
            context! { code => r.code, label => label }
        })
        .collect();
    let catalogue = state.services.catalogue().all().await?;
    let mut programs = Vec::new();
    for i in catalogue.items.iter().filter(|i| i.recurring) {
        let mask = o.mask_of(&i.code).await?;
        programs.push(context! { code => i.code, name => i.name, mask => mask.code() });
    }
    let today = state.services.today();
    let township = regions
        .iter()
        .find(|r| r.level == "township")
        .map(|r| r.name.clone())
        .unwrap_or_default();
    let contact = match state.config.service_phone.trim() {
        "" => format!("{township}社会事务办公室（来人、来信、来电均可）"),
        phone => format!("电话{phone}；{township}社会事务办公室（来人、来信、来电均可）"),
    };
    let form = form.map(|f| {
        context! {
            program => field(f, "program"), region => field(f, "region"), from => field(f, "from"),
            to => field(f, "to"), contact => field(f, "contact"),
        }
    });
    let html = state.templates.render(
        "publicity.html",
        context! { ..frame(user, "/publicity"), ..context! {
            notices => notices, objections => objections, places => places, programs => programs,
            masks => options(NameMask::ALL, NameMask::code, NameMask::label),
            can_publish => user.actor.role.allows(Permission::ManageRecipients) && !user.actor.read_only,
            can_set_mask => user.actor.role.allows(Permission::EditPolicy),
            form => form, error => error, contact => contact,
            first_of_month => today.format("%Y-%m-01").to_string(), today => today.to_string(),
        }},
    )?;
    Ok(unprocessable(html, &error))
}

pub async fn publicity(
    State(state): State<AppState>,
    user: WebUser,
) -> Result<Response, PageError> {
    render_publicity(&state, &user, None, None).await
}

pub async fn publish(
    State(state): State<AppState>,
    user: WebUser,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let input = NoticeInput {
        program: field(&f, "program").into(),
        region: field(&f, "region").into(),
        from: field(&f, "from").into(),
        to: field(&f, "to").into(),
        contact: field(&f, "contact").into(),
    };
    match state.services.openness().publish(&user.actor, &input).await {
        Ok(n) => Ok(Redirect::to(&format!("/publicity/{}", n.id)).into_response()),
        Err(e) => render_publicity(&state, &user, Some(&f), Some(refusal(e)?)).await,
    }
}

pub async fn set_mask(
    State(state): State<AppState>,
    user: WebUser,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    match state
        .services
        .openness()
        .set_mask(&user.actor, field(&f, "program"), field(&f, "mask"))
        .await
    {
        Ok(()) => Ok(Redirect::to("/publicity#masks").into_response()),
        Err(e) => render_publicity(&state, &user, None, Some(refusal(e)?)).await,
    }
}

async fn render_notice(
    state: &AppState,
    user: &WebUser,
    id: i64,
    form: Option<&Fields>,
    error: Option<String>,
    recorded: Option<String>,
) -> Result<Response, PageError> {
    let o = state.services.openness();
    let notice = o.notice(&user.actor, id).await?;
    let objections: Vec<_> = o
        .objections(&user.actor)
        .await?
        .into_iter()
        .filter(|x| x.notice_id == id)
        .collect();
    let html = state.templates.render(
        "notice.html",
        context! { ..frame(user, "/publicity"), ..context! {
            n => notice, objections => objections, error => error, recorded => recorded,
            can_record => user.actor.role.allows(Permission::ManageRecipients) && !user.actor.read_only,
            form => form.map(|f| context! { entry_id => field(f, "entry_id"), channel => field(f, "channel"), content => field(f, "content"), contact => field(f, "contact") }),
        }},
    )?;
    Ok(unprocessable(html, &error))
}

pub async fn notice(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    render_notice(&state, &user, id, None, None, None).await
}

/// The notice as printed for the village board: A4, no menu, the masked list only.
pub async fn notice_print(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let notice = state.services.openness().notice(&user.actor, id).await?;
    let html = state.templates.render(
        "notice_print.html",
        context! { n => notice, public => false },
    )?;
    Ok(html.into_response())
}

pub async fn record_objection(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let input = ObjectionInput {
        entry_id: field(&f, "entry_id").parse().unwrap_or(0),
        content: field(&f, "content").into(),
        contact: field(&f, "contact").into(),
        channel: field(&f, "channel").into(),
    };
    match state
        .services
        .openness()
        .record_objection(&user.actor, id, &input)
        .await
    {
        Ok((number, code)) => {
            let note = format!("已登记异议，编号{number}，查询码{code}（请告知异议人）");
            render_notice(&state, &user, id, None, None, Some(note)).await
        }
        Err(e) => render_notice(&state, &user, id, Some(&f), Some(refusal(e)?), None).await,
    }
}

async fn render_objection(
    state: &AppState,
    user: &WebUser,
    id: i64,
    form: Option<&Fields>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let x = state.services.openness().objection(&user.actor, id).await?;
    let html = state.templates.render(
        "objection.html",
        context! { ..frame(user, "/publicity"), ..context! {
            x => x, error => error, today => state.services.today().to_string(),
            methods => options(ObjectionMethod::ALL, ObjectionMethod::code, ObjectionMethod::label),
            can_answer => user.actor.role.allows(Permission::ManageRecipients) && !user.actor.read_only,
            form => form_map(form),
        }},
    )?;
    Ok(unprocessable(html, &error))
}

pub async fn objection(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    render_objection(&state, &user, id, None, None).await
}

pub async fn answer_objection(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let input = (|| -> Result<AnswerInput, ServiceError> {
        Ok(AnswerInput {
            method: field(&f, "method").into(),
            date: date("date", field(&f, "date"))?,
            findings: field(&f, "findings").into(),
            participants: field(&f, "participants").into(),
            votes_for: count("votes_for", field(&f, "votes_for"))?,
            votes_against: count("votes_against", field(&f, "votes_against"))?,
            votes_abstain: count("votes_abstain", field(&f, "votes_abstain"))?,
            upheld: field(&f, "upheld") == "1",
            reply: field(&f, "reply").into(),
        })
    })();
    let result = match input {
        Ok(i) => {
            state
                .services
                .openness()
                .answer_objection(&user.actor, id, &i)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/objections/{id}")).into_response()),
        Err(e) => render_objection(&state, &user, id, Some(&f), Some(refusal(e)?)).await,
    }
}

// ---------------------------------------------------------------- complaints (staff)

async fn render_complaints(
    state: &AppState,
    user: &WebUser,
    form: Option<&Fields>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let o = state.services.openness();
    let list = o.complaints(&user.actor).await?;
    let units = o.units(&user.actor).await?;
    let townships: Vec<_> = units
        .iter()
        .filter(|u| !u.code.starts_with("dept:"))
        .collect();
    let html = state.templates.render(
        "complaints.html",
        context! { ..frame(user, "/complaints"), ..context! {
            list => list, townships => townships, error => error,
            categories => options(ComplaintCategory::ALL, ComplaintCategory::code, ComplaintCategory::label),
            channels => ComplaintChannel::ALL.iter().filter(|c| **c != ComplaintChannel::Online).map(|c| context! { code => c.code(), label => c.label() }).collect::<Vec<_>>(),
            own => &user.actor.scope()[..9.min(user.actor.scope().len())],
            form => form_map(form),
        }},
    )?;
    Ok(unprocessable(html, &error))
}

pub async fn complaints(
    State(state): State<AppState>,
    user: WebUser,
) -> Result<Response, PageError> {
    render_complaints(&state, &user, None, None).await
}

pub async fn record_complaint(
    State(state): State<AppState>,
    user: WebUser,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let input = ComplaintInput {
        category: field(&f, "category").into(),
        channel: field(&f, "channel").into(),
        region: field(&f, "region").into(),
        content: field(&f, "content").into(),
        anonymous: field(&f, "anonymous") == "1",
        name: field(&f, "name").into(),
        contact: field(&f, "contact").into(),
        about: field(&f, "about").into(),
        household_id: field(&f, "household_id").trim().parse().ok(),
    };
    match state
        .services
        .openness()
        .record_complaint(&user.actor, &input)
        .await
    {
        Ok(c) if c.handed_on => {
            // Recorded but handed on: say so on the list.
            let notice = format!(
                "投诉已登记（编号{}）。因涉及本单位工作人员，已交{}办理，本单位不再查看",
                c.number, c.owner
            );
            render_complaints(&state, &user, None, Some(notice)).await
        }
        Ok(c) => Ok(Redirect::to(&format!("/complaints/{}", c.id)).into_response()),
        Err(e) => render_complaints(&state, &user, Some(&f), Some(refusal(e)?)).await,
    }
}

async fn render_complaint(
    state: &AppState,
    user: &WebUser,
    id: i64,
    error: Option<String>,
) -> Result<Response, PageError> {
    let o = state.services.openness();
    let c = o.complaint(&user.actor, id).await?;
    let units = o.units(&user.actor).await?;
    let html = state.templates.render(
        "complaint.html",
        context! { ..frame(user, "/complaints"), ..context! {
            c => c, units => units, error => error,
            read_only => user.actor.read_only,
        }},
    )?;
    Ok(unprocessable(html, &error))
}

pub async fn complaint(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    render_complaint(&state, &user, id, None).await
}

pub async fn complaint_step(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let note = field(&f, "note").to_string();
    let step = match field(&f, "action") {
        "transfer" => Ok(ComplaintStep::Transfer {
            unit: field(&f, "unit").into(),
            note,
        }),
        "accept" => Ok(ComplaintStep::Accept { note }),
        "decline" => Ok(ComplaintStep::Decline { note }),
        "review" => Ok(ComplaintStep::Review {
            household_id: field(&f, "household_id").trim().parse().ok(),
        }),
        _ => fen("recover_fen", field(&f, "recover")).map(|recover_fen| ComplaintStep::Answer {
            finding: field(&f, "finding").into(),
            reply: field(&f, "reply").into(),
            recover_fen,
        }),
    };
    let result = match step {
        Ok(s) => state.services.openness().step(&user.actor, id, &s).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/complaints/{id}")).into_response()),
        // Transferred away and accepted elsewhere: back to the list.
        Err(ServiceError::NotFound) => Ok(Redirect::to("/complaints").into_response()),
        Err(e) => render_complaint(&state, &user, id, Some(refusal(e)?)).await,
    }
}

// ---------------------------------------------------------------- inspections

async fn render_inspections(
    state: &AppState,
    user: &WebUser,
    form: Option<&Fields>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let plans = state.services.openness().inspections(&user.actor).await?;
    let supervise = user.actor.role.allows(Permission::Supervise) && !user.actor.read_only;
    let staff = if supervise {
        state
            .services
            .openness()
            .inspector_pool(&user.actor)
            .await?
    } else {
        Vec::new()
    };
    let catalogue = state.services.catalogue().all().await?;
    let programs: Vec<_> = catalogue
        .items
        .iter()
        .filter(|i| i.recurring)
        .map(|i| context! { code => i.code, name => i.name })
        .collect();
    let html = state.templates.render(
        "inspections.html",
        context! { ..frame(user, "/inspections"), ..context! {
            plans => plans, supervise => supervise, staff => staff, programs => programs, error => error,
            form => form.map(|f| context! { title => field(f, "title"), percent => field(f, "percent"), seed => field(f, "seed"), inspectors => all(f, "inspectors"), programs => all(f, "programs") }),
            month => state.services.today().format("%Y-%m").to_string(),
        }},
    )?;
    Ok(unprocessable(html, &error))
}

pub async fn inspections(
    State(state): State<AppState>,
    user: WebUser,
) -> Result<Response, PageError> {
    render_inspections(&state, &user, None, None).await
}

pub async fn plan_inspection(
    State(state): State<AppState>,
    user: WebUser,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let percent = match opt(field(&f, "percent")) {
        None => Ok(None),
        Some(p) => p
            .parse::<u32>()
            .map(Some)
            .map_err(|_| ServiceError::invalid("percent", "抽查比例应为1至100之间的整数")),
    };
    let result = match percent {
        Ok(percent) => {
            state
                .services
                .openness()
                .plan_inspection(
                    &user.actor,
                    &InspectionInput {
                        title: field(&f, "title").into(),
                        month: field(&f, "month").into(),
                        programs: all(&f, "programs"),
                        percent,
                        seed: field(&f, "seed").into(),
                        inspectors: all(&f, "inspectors"),
                    },
                )
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(p) => Ok(Redirect::to(&format!("/inspections/{}", p.id)).into_response()),
        Err(e) => render_inspections(&state, &user, Some(&f), Some(refusal(e)?)).await,
    }
}

async fn render_inspection(
    state: &AppState,
    user: &WebUser,
    id: i64,
    error: Option<String>,
) -> Result<Response, PageError> {
    let p = state
        .services
        .openness()
        .inspection(&user.actor, id)
        .await?;
    let html = state.templates.render(
        "inspection.html",
        context! { ..frame(user, "/inspections"), ..context! {
            p => p, error => error, me => user.actor.username,
            results => options(InspectionResult::ALL, InspectionResult::code, InspectionResult::label),
            supervise => user.actor.role.allows(Permission::Supervise) && !user.actor.read_only,
            can_review => user.actor.role.allows(Permission::ManageRecipients) && !user.actor.read_only,
        }},
    )?;
    Ok(unprocessable(html, &error))
}

pub async fn inspection(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    render_inspection(&state, &user, id, None).await
}

#[derive(Deserialize)]
pub struct TargetPath {
    plan: i64,
    target: i64,
}

pub async fn record_inspection(
    State(state): State<AppState>,
    user: WebUser,
    Path(TargetPath { plan, target }): Path<TargetPath>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let o = state.services.openness();
    let result = match field(&f, "action") {
        "review" => o.review_inspection(&user.actor, target).await,
        _ => match fen("amount_fen", field(&f, "amount")) {
            Ok(amount_fen) => {
                o.record_inspection(
                    &user.actor,
                    target,
                    &InspectionResultInput {
                        result: field(&f, "result").into(),
                        findings: field(&f, "findings").into(),
                        amount_fen,
                    },
                )
                .await
            }
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/inspections/{plan}#t{target}")).into_response()),
        Err(e) => render_inspection(&state, &user, plan, Some(refusal(e)?)).await,
    }
}

pub async fn publish_inspection(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    match state
        .services
        .openness()
        .publish_inspection(&user.actor, id)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/inspections/{id}")).into_response()),
        Err(e) => render_inspection(&state, &user, id, Some(refusal(e)?)).await,
    }
}

// ---------------------------------------------------------------- statistics and performance

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MonthQuery {
    month: String,
}

pub async fn statistics(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<MonthQuery>,
) -> Result<Response, PageError> {
    let (report, error) = match state
        .services
        .openness()
        .monthly_report(&user.actor, opt(&q.month).as_deref())
        .await
    {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(refusal(e)?)),
    };
    let max_amount = report
        .as_ref()
        .map(|r| {
            r.trend
                .iter()
                .map(|t| t.amount.fen())
                .max()
                .unwrap_or(0)
                .max(1)
        })
        .unwrap_or(1);
    let html = state.templates.render(
        "statistics.html",
        context! { ..frame(&user, "/statistics"), ..context! {
            r => report, error => error, month => q.month, max_amount => max_amount,
            this_month => state.services.today().format("%Y-%m").to_string(),
        }},
    )?;
    Ok(unprocessable(html, &error))
}

pub async fn statistics_xlsx(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<MonthQuery>,
) -> Result<Response, PageError> {
    let month = opt(&q.month).unwrap_or_else(|| state.services.today().format("%Y-%m").to_string());
    let bytes = state
        .services
        .openness()
        .report_xlsx(&user.actor, Some(&month))
        .await?;
    Ok(xlsx_download(
        bytes,
        &format!("社会救助统计月报-{month}.xlsx"),
    ))
}

pub async fn performance(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<MonthQuery>,
) -> Result<Response, PageError> {
    let (p, error) = match state
        .services
        .openness()
        .performance(&user.actor, opt(&q.month).as_deref())
        .await
    {
        Ok(p) => (Some(p), None),
        Err(ServiceError::Forbidden) => return Err(ServiceError::Forbidden.into()),
        Err(e) => (None, Some(refusal(e)?)),
    };
    let html = state.templates.render(
        "performance.html",
        context! { ..frame(&user, "/performance"), ..context! {
            p => p, error => error, month => q.month,
            this_month => state.services.today().format("%Y-%m").to_string(),
        }},
    )?;
    Ok(unprocessable(html, &error))
}

// ---------------------------------------------------------------- public pages

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PublicQuery {
    region: String,
    number: String,
    code: String,
    month: String,
}

/// 公开: notices in force, with a township filter, and the ways to object or complain.
pub async fn public_index(
    State(state): State<AppState>,
    Query(q): Query<PublicQuery>,
) -> Result<Response, PageError> {
    let notices = state
        .services
        .openness()
        .public_notices(opt(&q.region).as_deref())
        .await?;
    let html = state.templates.render(
        "public_index.html",
        context! {
            notices => notices, townships => public_townships(&state).await?, region => q.region,
            phone => state.config.service_phone,
        },
    )?;
    Ok(html.into_response())
}

async fn render_public_notice(
    state: &AppState,
    id: i64,
    form: Option<&Fields>,
    error: Option<String>,
    done: Option<(String, String)>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let notice = match state.services.openness().public_notice(id).await {
        Ok(n) => n,
        Err(ServiceError::NotFound) => {
            return Ok(crate::error::error_page(
                StatusCode::NOT_FOUND,
                "公示已结束",
                "该公示不存在或公示期已满，已撤下。",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let token = sessionless_token();
    let html = state.templates.render(
        "public_notice.html",
        context! {
            n => notice, csrf => token, error => error,
            done => done.map(|(number, code)| context! { number => number, code => code }),
            form => form.map(|f| context! { entry_id => field(f, "entry_id"), content => field(f, "content"), contact => field(f, "contact") }),
        },
    )?;
    Ok(with_form_cookie(state, html, &token, status))
}

pub async fn public_notice(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    render_public_notice(&state, id, None, None, None, StatusCode::OK).await
}

/// Submissions per address allowed before the public forms ask to wait.
fn limited(state: &AppState, ip: &str) -> bool {
    !state.public_limiter.allow(ip)
}

pub async fn public_object(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    if limited(&state, &ip) {
        let error = Some("提交过于频繁，请10分钟后再试".to_string());
        return render_public_notice(
            &state,
            id,
            Some(&f),
            error,
            None,
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    let input = ObjectionInput {
        entry_id: field(&f, "entry_id").parse().unwrap_or(0),
        content: field(&f, "content").into(),
        contact: field(&f, "contact").into(),
        channel: String::new(),
    };
    match state.services.openness().object(&ip, id, &input).await {
        Ok(done) => render_public_notice(&state, id, None, None, Some(done), StatusCode::OK).await,
        Err(e @ ServiceError::Invalid { .. }) => {
            let message = refusal(e)?;
            render_public_notice(
                &state,
                id,
                Some(&f),
                Some(message),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// The board version of a notice in force, for anyone to print.
pub async fn public_notice_print(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let notice = state.services.openness().public_notice(id).await?;
    Ok(state
        .templates
        .render(
            "notice_print.html",
            context! { n => notice, public => true },
        )?
        .into_response())
}

async fn render_public_complaint(
    state: &AppState,
    form: Option<&Fields>,
    error: Option<String>,
    done: Option<jiuzhu_services::openness::PublicComplaint>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let token = sessionless_token();
    let html = state.templates.render(
        "public_complaint.html",
        context! {
            csrf => token, error => error, done => done, townships => public_townships(state).await?,
            categories => options(ComplaintCategory::ALL, ComplaintCategory::code, ComplaintCategory::label),
            phone => state.config.service_phone,
            form => form_map(form),
        },
    )?;
    Ok(with_form_cookie(state, html, &token, status))
}

pub async fn public_complaint_form(State(state): State<AppState>) -> Result<Response, PageError> {
    render_public_complaint(&state, None, None, None, StatusCode::OK).await
}

pub async fn public_complain(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    if limited(&state, &ip) {
        let error = Some("提交过于频繁，请10分钟后再试".to_string());
        return render_public_complaint(
            &state,
            Some(&f),
            error,
            None,
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    let input = ComplaintInput {
        category: field(&f, "category").into(),
        channel: "online".into(),
        region: field(&f, "region").into(),
        content: field(&f, "content").into(),
        anonymous: field(&f, "anonymous") == "1",
        name: field(&f, "name").into(),
        contact: field(&f, "contact").into(),
        about: field(&f, "about").into(),
        household_id: None,
    };
    match state.services.openness().complain(&ip, &input).await {
        Ok(done) => render_public_complaint(&state, None, None, Some(done), StatusCode::OK).await,
        Err(e @ ServiceError::Invalid { .. }) => {
            let message = refusal(e)?;
            render_public_complaint(
                &state,
                Some(&f),
                Some(message),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Looks up an objection (YY…) or a complaint (TS…) by its number and code.
pub async fn public_lookup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(q): Query<PublicQuery>,
) -> Result<Response, PageError> {
    let mut error = None;
    let (mut objection, mut complaint) = (None, None);
    let asked = !q.number.trim().is_empty() || !q.code.trim().is_empty();
    if asked {
        if !state.status_limiter.allow(&ip) {
            error = Some("查询过于频繁，请10分钟后再试".to_string());
        } else {
            let o = state.services.openness();
            let found = if q.number.trim().starts_with("YY") {
                o.objection_status(&ip, &q.number, &q.code)
                    .await
                    .map(|s| objection = Some(s))
            } else {
                o.complaint_status(&ip, &q.number, &q.code)
                    .await
                    .map(|s| complaint = Some(s))
            };
            match found {
                Ok(()) => {}
                Err(ServiceError::NotFound) => error = Some("未找到：请核对编号和查询码".into()),
                Err(e) => return Err(e.into()),
            }
        }
    }
    let html = state.templates.render(
        "public_lookup.html",
        context! { number => q.number, objection => objection, complaint => complaint, error => error },
    )?;
    let status = if error.is_some() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    Ok((status, html).into_response())
}

pub async fn public_statistics(
    State(state): State<AppState>,
    Query(q): Query<PublicQuery>,
) -> Result<Response, PageError> {
    let (s, error) = match state
        .services
        .openness()
        .public_statistics(opt(&q.month).as_deref())
        .await
    {
        Ok(s) => (Some(s), None),
        Err(e @ ServiceError::Invalid { .. }) => (None, Some(refusal(e)?)),
        Err(e) => return Err(e.into()),
    };
    let plans = state.services.openness().public_inspections().await?;
    let html = state.templates.render(
        "public_statistics.html",
        context! { s => s, plans => plans, error => error },
    )?;
    Ok(unprocessable(html, &error))
}
