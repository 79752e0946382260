//! The one-window pages: the intake form, the case page with each role's steps, the work
//! queues, the printed forms, the register, and the applicant's status page.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use jiuzhu_domain::case::{Cause, Channel};
use jiuzhu_domain::{Permission, Role};
use jiuzhu_services::cases::{
    ApplicationInput, AssessmentInput, Completion, DepartmentStep, MissingInput, Queue,
    ReasonedItem, RegistrationInput, WindowStep,
};
use jiuzhu_services::ServiceError;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::opt;
use super::people::refusal;
use crate::auth::{ClientIp, WebUser};
use crate::error::PageError;
use crate::render::frame;
use crate::AppState;

use super::{all, field, Fields};

fn choices<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<serde_json::Value> {
    all.iter()
        .map(|&k| serde_json::json!({"code": code(k), "label": label(k)}))
        .collect()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    person: i64,
}

async fn render_new(
    state: &AppState,
    user: &WebUser,
    person_id: i64,
    fields: &Fields,
    error: Option<String>,
) -> Result<Response, PageError> {
    let person = state
        .services
        .people()
        .get(&user.actor, person_id, false)
        .await?;
    let catalogue = state.services.catalogue().all().await?;
    let key = if field(fields, "idempotency_key").is_empty() {
        // A fresh key per rendered form: submitting it twice files one case.
        let digest = jiuzhu_services::auth::digest(&format!(
            "{person_id}{:?}{}",
            std::time::SystemTime::now(),
            rand::random::<u64>()
        ));
        format!("form-{}", &digest[..24])
    } else {
        field(fields, "idempotency_key").to_string()
    };
    let html = state.templates.render(
        "case_new.html",
        context! { ..frame(user, "/queue"), ..context! {
            p => person, departments => catalogue.departments, items => catalogue.items, key => key, error => error,
            channels => choices(Channel::ALL, Channel::code, Channel::label),
            causes => choices(Cause::ALL, Cause::code, Cause::label),
            chosen_items => all(fields, "items"), chosen_causes => all(fields, "causes"),
            channel => match field(fields, "channel") {
                // A village assistant files on the applicant's behalf.
                "" if user.actor.role == Role::VillageAssistant => Channel::VillageAssistant.code(),
                "" => Channel::Window.code(),
                c => c,
            },
            hardship => field(fields, "hardship"),
        }},
    )?;
    Ok(super::page_reply(
        html,
        &error,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub async fn new_form(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<NewQuery>,
) -> Result<Response, PageError> {
    render_new(&state, &user, q.person, &Vec::new(), None).await
}

pub async fn file(
    State(state): State<AppState>,
    user: WebUser,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let person: i64 = field(&f, "applicant_person_id").parse().unwrap_or(0);
    let input = ApplicationInput {
        applicant_person_id: person,
        channel: field(&f, "channel").into(),
        hardship: field(&f, "hardship").into(),
        causes: all(&f, "causes"),
        items: all(&f, "items"),
        received_at: None,
        idempotency_key: field(&f, "idempotency_key").into(),
    };
    match state.services.cases().file(&user.actor, &input).await {
        Ok(case) => Ok(Redirect::to(&format!("/cases/{}", case.id)).into_response()),
        Err(e) => render_new(&state, &user, person, &f, Some(refusal(e)?)).await,
    }
}

pub(crate) async fn render_case_with(
    state: &AppState,
    user: &WebUser,
    id: i64,
    error: Option<String>,
) -> Result<Response, PageError> {
    render_case(state, user, id, error).await
}

async fn render_case(
    state: &AppState,
    user: &WebUser,
    id: i64,
    error: Option<String>,
) -> Result<Response, PageError> {
    let case = state.services.cases().get(&user.actor, id).await?;
    let catalogue = state.services.catalogue().all().await?;
    let materials: BTreeMap<String, Vec<String>> = catalogue
        .items
        .iter()
        .map(|i| (i.code.clone(), i.materials.clone()))
        .collect();
    let a = &user.actor;
    let organisations = state
        .services
        .organisations()
        .list(a)
        .await
        .unwrap_or_default();
    let evaluations = state.services.policy().case_evaluations(a, id).await?;
    let reports = state.services.verification().case_reports(a, id).await?;
    let uploaded = state.services.cases().materials(a, id).await?;
    let html = state.templates.render(
        "case.html",
        context! { ..frame(user, "/queue"), ..context! {
            c => case, error => error, materials => materials, items => catalogue.items, organisations => organisations,
            uploaded => uploaded,
            evaluation => evaluations.first(), evaluations_count => evaluations.len(),
            report => reports.first(), reports_count => reports.len(), reports => reports,
            assumptions => jiuzhu_services::policy::REGISTRY_ASSUMPTIONS,
            is_window => a.role.allows(Permission::WritePeople) && !a.read_only,
            is_liaison => a.role == Role::DepartmentLiaison,
            my_department => a.department,
            can_supervise => matches!(a.role, Role::Supervisor | Role::TownshipReviewer | Role::BureauAdmin),
        }},
    )?;
    Ok(super::page_reply(html, &error, StatusCode::CONFLICT))
}

pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    render_case(&state, &user, id, None).await
}

async fn after(
    state: &AppState,
    user: &WebUser,
    id: i64,
    r: Result<jiuzhu_services::cases::CaseView, ServiceError>,
) -> Result<Response, PageError> {
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(e) => render_case(state, user, id, Some(refusal(e)?)).await,
    }
}

pub async fn register(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let mut input = RegistrationInput {
        transfer: field(&f, "transfer") == "on",
        ..Default::default()
    };
    for code in all(&f, "item") {
        let reason = field(&f, &format!("reason_{code}")).to_string();
        match field(&f, &format!("decision_{code}")) {
            "accept" => input.accept.push(code.clone()),
            "refuse" => input.refuse.push(ReasonedItem {
                item: code.clone(),
                reason,
            }),
            "missing" => input.missing.push(MissingInput {
                item: code.clone(),
                materials: all(&f, &format!("materials_{code}")),
            }),
            _ => {}
        }
    }
    if let Some(code) = opt(field(&f, "suggest")) {
        input.suggest.push(ReasonedItem {
            item: code,
            reason: field(&f, "suggest_reason").into(),
        });
    }
    if !field(&f, "structure").trim().is_empty() || !field(&f, "rigid_yuan").trim().is_empty() {
        let rigid = match opt(field(&f, "rigid_yuan")).map(|y| jiuzhu_domain::Money::parse_yuan(&y))
        {
            Some(Ok(m)) => m.fen(),
            Some(Err(e)) => {
                return render_case(&state, &user, id, Some(format!("刚性支出：{e}"))).await
            }
            None => 0,
        };
        input.assessment = Some(AssessmentInput {
            structure: field(&f, "structure").into(),
            health: field(&f, "health").into(),
            labour_capacity: field(&f, "labour").into(),
            rigid_expenditure_fen: rigid,
            notes: field(&f, "notes").into(),
        });
    }
    let r = state
        .services
        .cases()
        .register(&user.actor, id, &input)
        .await;
    after(&state, &user, id, r).await
}

pub async fn department(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let amount = match opt(field(&f, "amount_yuan")).map(|y| jiuzhu_domain::Money::parse_yuan(&y)) {
        Some(Ok(m)) => Some(m.fen()),
        Some(Err(e)) => {
            return render_case(&state, &user, id, Some(format!("救助金额：{e}"))).await
        }
        None => None,
    };
    let item = field(&f, "item").to_string();
    let note = field(&f, "note").to_string();
    let step = match field(&f, "action") {
        "receive" => DepartmentStep::Receive { item },
        "refuse" => DepartmentStep::Refuse { item, note },
        "initial_check" => DepartmentStep::InitialCheck { item, note },
        "feedback" => DepartmentStep::Feedback { item, note },
        "complete" => {
            let outcome = match field(&f, "outcome") {
                "granted" => Completion::Granted,
                "service" => Completion::Service,
                "refused" => Completion::Refused,
                _ => return render_case(&state, &user, id, Some("请选择办理结果".into())).await,
            };
            DepartmentStep::Complete {
                item,
                outcome,
                amount_fen: amount,
                monthly: field(&f, "monthly") == "on",
                note,
            }
        }
        _ => return render_case(&state, &user, id, Some("请选择办理操作".into())).await,
    };
    let r = state
        .services
        .cases()
        .department_step(&user.actor, id, &step)
        .await;
    after(&state, &user, id, r).await
}

pub async fn window(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let item = field(&f, "item").to_string();
    let note = field(&f, "note").to_string();
    let organisation = field(&f, "organisation_id").parse::<i64>();
    let step = match field(&f, "action") {
        "transfer" => WindowStep::Transfer { item, note },
        "withdraw" => WindowStep::Withdraw { item, note },
        "feedback" => WindowStep::Feedback { item, note },
        "close" => WindowStep::Close { note },
        "reopen" => WindowStep::Reopen { note },
        "supervise" => WindowStep::Supervise {
            item: opt(&item),
            note,
        },
        "refer" | "referral_answer" => {
            let Ok(organisation_id) = organisation else {
                return render_case(&state, &user, id, Some("请选择转介机构".into())).await;
            };
            if field(&f, "action") == "refer" {
                WindowStep::Refer {
                    organisation_id,
                    note,
                }
            } else {
                WindowStep::ReferralAnswer {
                    organisation_id,
                    accepted: field(&f, "accepted") == "yes",
                    note,
                }
            }
        }
        "supervision_answer" => match field(&f, "number").parse() {
            Ok(number) => WindowStep::SupervisionAnswer { number, note },
            Err(_) => {
                return render_case(&state, &user, id, Some("请指明答复哪一条督办".into())).await
            }
        },
        _ => return render_case(&state, &user, id, Some("请选择操作".into())).await,
    };
    let r = state
        .services
        .cases()
        .window_step(&user.actor, id, &step)
        .await;
    after(&state, &user, id, r).await
}

/// What a work list is narrowed to: a township, a department, an item, a stage (by name).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct QueueFilter {
    township: String,
    department: String,
    item: String,
    stage: String,
    page: String,
}

/// Rows of a work list shown on one page.
const QUEUE_PAGE: usize = 100;

/// The work lists: the window's queue, a liaison's inbox, and the overdue board.
pub async fn queue_page(
    state: &AppState,
    user: &WebUser,
    which: &str,
    filter: QueueFilter,
) -> Result<Html<String>, PageError> {
    let a = &user.actor;
    let catalogue = state.services.catalogue().all().await?;
    let item_names: BTreeMap<String, String> = catalogue
        .items
        .iter()
        .map(|i| (i.code.clone(), i.name.clone()))
        .collect();
    let departments: BTreeMap<String, String> = catalogue
        .departments
        .iter()
        .map(|d| (d.code.clone(), d.name.clone()))
        .collect();
    let (title, rows) = match which {
        "inbox" => (
            "转办收件箱",
            state.services.cases().queue(a, Queue::Inbox).await?,
        ),
        "due" => (
            "到期与逾期督办看板",
            state.services.cases().queue(a, Queue::Due).await?,
        ),
        _ => (
            "窗口待办",
            state.services.cases().queue(a, Queue::Window).await?,
        ),
    };
    let today = state.services.today();
    let calendar = state.services.calendar().current();
    let rows: Vec<_> = rows
        .into_iter()
        .map(|r| {
            let left = r.next_due.map(|d| working_days_left(&calendar, today, d));
            context! {
                case_id => r.case_id, item => item_names.get(&r.item_code).cloned().unwrap_or(r.item_code.clone()),
                department => departments.get(&r.department_code).cloned().unwrap_or_default(),
                township => r.township_name,
                stage => jiuzhu_services::cases::stage_label(&r.stage), form_no => r.form_no, next_due => r.next_due,
                countdown => countdown(left), overdue => left.is_some_and(|d| d <= 0),
                applicant => r.applicant_name, filed_at => r.filed_at,
            }
        })
        .collect();
    // The choices come from the whole list; the rows and the summaries from what is chosen.
    let choices = |key: &str| -> Vec<String> {
        let mut v: Vec<String> = rows
            .iter()
            .filter_map(|r| r.get_attr(key).ok())
            .map(|v| v.to_string())
            .filter(|v| !v.is_empty() && v != "none")
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let options = context! {
        township => choices("township"), department => choices("department"),
        item => choices("item"), stage => choices("stage"),
    };
    let keep = |r: &minijinja::Value, key: &str, wanted: &str| {
        wanted.is_empty() || r.get_attr(key).is_ok_and(|v| v.to_string() == wanted)
    };
    let total = rows.len();
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| {
            keep(r, "township", &filter.township)
                && keep(r, "department", &filter.department)
                && keep(r, "item", &filter.item)
                && keep(r, "stage", &filter.stage)
        })
        .collect();
    let summary = |key: &str| {
        let mut m: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for r in &rows {
            let k = r.get_attr(key).map(|v| v.to_string()).unwrap_or_default();
            let e = m
                .entry(if k.is_empty() { "—".into() } else { k })
                .or_default();
            e.0 += 1;
            if r.get_attr("overdue").is_ok_and(|v| v.is_true()) {
                e.1 += 1;
            }
        }
        m.into_iter()
            .map(|(k, (n, late))| context! { name => k, items => n, overdue => late })
            .collect::<Vec<_>>()
    };
    let by_township = summary("township");
    let by_department = summary("department");
    let shown = rows.len();
    let pages = shown.div_ceil(QUEUE_PAGE).max(1);
    let page = filter.page.parse::<usize>().unwrap_or(1).clamp(1, pages);
    let rows: Vec<_> = rows
        .into_iter()
        .skip((page - 1) * QUEUE_PAGE)
        .take(QUEUE_PAGE)
        .collect();
    let here: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("township", &filter.township)
        .append_pair("department", &filter.department)
        .append_pair("item", &filter.item)
        .append_pair("stage", &filter.stage)
        .finish();
    // Cases whose every item has its outcome wait for the window to tell the applicant and
    // close them, within 1 working day of the last outcome.
    let to_close: Vec<_> = if which == "window" {
        state
            .services
            .cases()
            .ready_to_close(a)
            .await?
            .into_iter()
            .map(|c| {
                let left = working_days_left(&calendar, today, c.due);
                context! {
                    case_id => c.case_id, applicant => c.applicant_name,
                    township => c.township_name, form_no => c.form_no,
                    settled => c.settled_on, due => c.due, countdown => countdown(Some(left)),
                    overdue => left <= 0,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let active = match which {
        "inbox" => "/inbox",
        "due" => "/overdue",
        _ => "/queue",
    };
    // Those in assistance left unvisited or unreviewed past their dates reach the board too.
    let mut late_recipients: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    if which == "due" && a.role.allows(Permission::ReadPeople) {
        let r = state.services.recipients();
        let township = |name: &str| name.split(' ').next().unwrap_or(name).to_string();
        for v in r.visits_due(a, today).await? {
            if v.overdue {
                late_recipients
                    .entry(township(&v.region_name))
                    .or_default()
                    .0 += 1;
            }
        }
        for d in r.reviews_due(a, today).await? {
            if d.overdue && d.proposal_id.is_none() {
                late_recipients
                    .entry(township(&d.region_name))
                    .or_default()
                    .1 += 1;
            }
        }
    }
    // Warnings past their on-site check deadline, by township.
    let late_warnings: Vec<_> = if which == "due" && a.role.allows(Permission::ReadPeople) {
        state
            .services
            .monitoring()
            .by_township(a)
            .await?
            .into_iter()
            .filter(|t| t.overdue > 0)
            .map(|t| context! { code => t.code, township => t.name, overdue => t.overdue, red => t.red_open })
            .collect()
    } else {
        Vec::new()
    };
    let late_recipients: Vec<_> = late_recipients
        .into_iter()
        .map(|(t, (visits, reviews))| context! { township => t, visits => visits, reviews => reviews })
        .collect();
    state.templates.render(
        "queue.html",
        context! { ..frame(user, active), ..context! {
            title => title, rows => rows, which => which, late_recipients => late_recipients,
            late_warnings => late_warnings,
            to_close => to_close, options => options, filter => filter, total => total,
            shown => shown, page => page, pages => pages, here => here,
            by_township => by_township, by_department => by_department,
        }},
    )
}

/// Working days from `today` to `due`: negative once it is past.
fn working_days_left(
    calendar: &jiuzhu_domain::WorkCalendar,
    today: chrono::NaiveDate,
    due: chrono::NaiveDate,
) -> i64 {
    if due >= today {
        i64::from(calendar.working_days_between(today, due))
    } else {
        -i64::from(calendar.working_days_between(due, today))
    }
}

/// "剩余3个工作日", "今日到期", "逾期2个工作日".
fn countdown(left: Option<i64>) -> String {
    match left {
        None => String::new(),
        Some(0) => "今日到期".into(),
        Some(d) if d < 0 => format!("逾期{}个工作日", -d),
        Some(d) => format!("剩余{d}个工作日"),
    }
}

pub async fn window_queue(
    State(state): State<AppState>,
    user: WebUser,
    Query(filter): Query<QueueFilter>,
) -> Result<Html<String>, PageError> {
    queue_page(&state, &user, "window", filter).await
}

pub async fn inbox(
    State(state): State<AppState>,
    user: WebUser,
    Query(filter): Query<QueueFilter>,
) -> Result<Html<String>, PageError> {
    queue_page(&state, &user, "inbox", filter).await
}

pub async fn overdue(
    State(state): State<AppState>,
    user: WebUser,
    Query(filter): Query<QueueFilter>,
) -> Result<Html<String>, PageError> {
    queue_page(&state, &user, "due", filter).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PrintQuery {
    item: String,
}

/// Where applicants look up their progress: the configured public address, else the address
/// the clerk reached the platform at.
fn status_url(state: &AppState, headers: &axum::http::HeaderMap) -> String {
    let base = if state.config.public_url.trim().is_empty() {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let scheme = if state.config.secure_cookies {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{host}")
    } else {
        state
            .config
            .public_url
            .trim()
            .trim_end_matches('/')
            .to_string()
    };
    format!("{base}/status")
}

/// 申请受理单, 申请转办单 and the one-time notice, as A4 pages to print and sign.
pub async fn print(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, kind)): Path<(i64, String)>,
    Query(q): Query<PrintQuery>,
    headers: axum::http::HeaderMap,
) -> Result<Html<String>, PageError> {
    let case = state.services.cases().get(&user.actor, id).await?;
    let title = match kind.as_str() {
        "acceptance" => "社会救助申请受理单",
        "transfer" => "社会救助申请转办单",
        "notice" => "补充材料一次性告知书",
        _ => return Err(ServiceError::NotFound.into()),
    };
    let item = case.items.iter().find(|i| i.code == q.item).cloned();
    if kind != "notice" && item.as_ref().and_then(|i| i.form_no.as_ref()).is_none() {
        return Err(ServiceError::invalid("item", "该事项尚未受理，没有受理单").into());
    }
    let accepted_event = case.events.iter().find(|e| {
        e.kind == "受理"
            && e.text
                .contains(item.as_ref().map_or("", |i| i.name.as_str()))
    });
    let transfer_event = case.events.iter().find(|e| {
        e.kind == "转办"
            && e.text
                .contains(item.as_ref().map_or("", |i| i.name.as_str()))
    });
    let due = case
        .deadlines
        .iter()
        .filter(|d| Some(&d.item) == item.as_ref().map(|i| &i.code))
        .cloned()
        .collect::<Vec<_>>();
    state.templates.render(
        "print.html",
        context! { title => title, kind => kind, c => case, item => item, accepted => accepted_event, transferred => transfer_event,
                   deadlines => due, printed_on => jiuzhu_services::clock::today(), user => context! { name => user.actor.display_name },
                   office => format!("{}社会救助服务窗口", case.region_name.split(' ').next().unwrap_or_default()),
                   phone => state.config.service_phone, status_url => status_url(&state, &headers) },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StatusQuery {
    form_no: String,
    last4: String,
}

/// The applicant's status page: no sign-in, their own case only, limited per address.
pub async fn status(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(q): Query<StatusQuery>,
) -> Result<Response, PageError> {
    let mut error = None;
    let mut result = None;
    let mut limited = false;
    if !q.form_no.trim().is_empty() || !q.last4.trim().is_empty() {
        if !state.status_limiter.allow(&ip) {
            limited = true;
            error = Some("查询过于频繁，请10分钟后再试".to_string());
        } else {
            match state
                .services
                .cases()
                .public_status(&q.form_no, &q.last4)
                .await
            {
                Ok(s) => result = Some(s),
                Err(ServiceError::NotFound) => {
                    error = Some("未找到：请核对受理单号和身份证号后四位".into())
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    let html = state.templates.render(
        "status.html",
        context! { form_no => q.form_no, result => result, error => error, phone => state.config.service_phone },
    )?;
    if limited {
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "600")],
            html,
        )
            .into_response());
    }
    let code = if error.is_some() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    Ok((code, html).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RegisterQuery {
    from: String,
    to: String,
}

fn period(q: &RegisterQuery) -> Result<(NaiveDate, NaiveDate), ServiceError> {
    let today = jiuzhu_services::clock::today();
    let parse = |s: &str, default: NaiveDate| match opt(s) {
        Some(t) => t
            .parse::<NaiveDate>()
            .map_err(|_| ServiceError::invalid("from", "日期格式应为 YYYY-MM-DD")),
        None => Ok(default),
    };
    let from = parse(&q.from, today - chrono::Duration::days(30))?;
    let to = parse(&q.to, today)?;
    if to < from {
        return Err(ServiceError::invalid("to", "结束日期不能早于开始日期"));
    }
    Ok((from, to))
}

/// 受理、转办、办理结果登记表 for the user's region and a period.
pub async fn register_page(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<RegisterQuery>,
) -> Result<Response, PageError> {
    let (from, to) = period(&q)?;
    let rows = state
        .services
        .cases()
        .register_rows(&user.actor, from, to)
        .await?;
    let html = state.templates.render(
        "register.html",
        context! { ..frame(&user, "/register"), ..context! { rows => rows, from => from, to => to }},
    )?;
    Ok(html.into_response())
}

pub async fn register_xlsx(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<RegisterQuery>,
) -> Result<Response, PageError> {
    let (from, to) = period(&q)?;
    let bytes = state
        .services
        .cases()
        .register_xlsx(&user.actor, from, to)
        .await?;
    let name = format!("attachment; filename=\"register-{from}-{to}.xlsx\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FindQuery {
    q: String,
}

/// The search box of every page: an acceptance form number opens its case; a name, its pinyin
/// or an identity number lists the people it finds.
pub async fn find(
    State(state): State<AppState>,
    user: WebUser,
    Query(f): Query<FindQuery>,
) -> Result<Response, PageError> {
    let q = f.q.trim();
    if q.is_empty() {
        return Ok(Redirect::to("/people").into_response());
    }
    if let Some(id) = state.services.cases().by_form_no(&user.actor, q).await? {
        return Ok(Redirect::to(&format!("/cases/{id}")).into_response());
    }
    let encoded: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    Ok(Redirect::to(&format!("/people?q={encoded}")).into_response())
}
