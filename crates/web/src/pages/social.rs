//! Social forces and the resident's own door: the township's needs and consents, projects and
//! funds (`/social`); an organisation's needs board and volunteers (`/needs`, `/volunteers`);
//! new citizens (`/new-citizens`); and the public pages that need no sign-in — the service
//! guides, the online application and the honour board.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use jiuzhu_domain::social::{NeedUnit, ServiceKind};
use jiuzhu_domain::{Money, Permission};
use jiuzhu_services::cases::{OnlineApplication, OnlineMember, VERIFICATION_CONSENT};
use jiuzhu_services::people::PermitInput;
use jiuzhu_services::social::{
    CommitInput, ConsentInput, NeedInput, ProjectInput, ServiceLogInput, VolunteerInput,
};
use jiuzhu_services::ServiceError;
use minijinja::context;
use serde::Deserialize;

use super::people::refusal;
use super::{all, field, form_map, opt, options, unprocessable, Fields};
use crate::auth::{ClientIp, WebUser};
use crate::error::PageError;
use crate::render::{frame, xlsx_download};
use crate::AppState;

fn yuan(field_name: &str, text: &str) -> Result<i64, ServiceError> {
    match opt(text) {
        None => Ok(0),
        Some(t) => Money::parse_yuan(&t)
            .map(|m| m.fen())
            .map_err(|e| ServiceError::invalid(field_name, e.to_string())),
    }
}

fn number(field_name: &str, text: &str) -> Result<i64, ServiceError> {
    text.trim()
        .parse()
        .map_err(|_| ServiceError::invalid(field_name, "请填写整数"))
}

// ---------------------------------------------------------------- the township: /social

async fn render_social(
    state: &AppState,
    user: &WebUser,
    form: Option<&Fields>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let s = state.services.social();
    let manage = user.actor.role.allows(Permission::ManageRecipients) && !user.actor.read_only;
    let publishable = if manage {
        s.publishable(&user.actor).await?
    } else {
        Vec::new()
    };
    let needs = if user.actor.role.allows(Permission::ReadPeople) {
        s.needs(&user.actor).await?
    } else {
        Vec::new()
    };
    let funds = s.funds(&user.actor, None).await?;
    let units = options(NeedUnit::ALL, NeedUnit::code, NeedUnit::label);
    let regions = state.services.regions().list(&user.actor).await?;
    let townships: Vec<_> = regions
        .iter()
        .filter(|r| r.level != "village")
        .map(|r| context! { code => r.code, label => if r.level == "county" { "全市".to_string() } else { r.name.clone() } })
        .collect();
    let organisations = state.services.organisations().list(&user.actor).await?;
    let html = state.templates.render(
        "social.html",
        context! { ..frame(user, "/social"), ..context! {
            publishable => publishable, needs => needs, funds => funds, units => units,
            townships => townships, organisations => organisations, manage => manage,
            admin => user.actor.role.allows(Permission::EditCatalogue),
            form => form_map(form), error => error, notice => notice,
            month => state.services.today().format("%Y-%m").to_string(),
        }},
    )?;
    Ok(unprocessable(html, &error))
}

pub async fn social(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    render_social(&state, &user, None, None, None).await
}

/// The forms of `/social`, told apart by `action`.
pub async fn social_post(
    State(state): State<AppState>,
    user: WebUser,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let s = state.services.social();
    let a = &user.actor;
    let result: Result<String, ServiceError> = async {
        match field(&f, "action") {
            "consent" => {
                s.record_consent(
                    a,
                    &ConsentInput {
                        household_id: number("household_id", field(&f, "household_id"))?,
                        person_id: number("person_id", field(&f, "person_id"))?,
                        kind: "share_needs".into(),
                        channel: field(&f, "channel").into(),
                    },
                )
                .await?;
                Ok("已登记授权：同意向社会组织发布帮扶需求".to_string())
            }
            "publish" => {
                let (plan, index) = field(&f, "need")
                    .split_once(':')
                    .and_then(|(p, i)| Some((p.parse().ok()?, i.parse().ok()?)))
                    .ok_or_else(|| ServiceError::invalid("need_index", "请选择要发布的需求"))?;
                let n = s
                    .publish_need(
                        a,
                        &NeedInput {
                            plan_id: plan,
                            need_index: index,
                            description: field(&f, "description").into(),
                            quantity: number("quantity", field(&f, "quantity"))?,
                            unit: field(&f, "unit").into(),
                        },
                    )
                    .await?;
                Ok(format!("已发布需求：{}", n.item.description))
            }
            "funds" => {
                let year = number("year", field(&f, "year"))?;
                s.set_special_funds(a, year, yuan("amount_fen", field(&f, "amount"))?)
                    .await?;
                Ok(format!("已登记{year}年度社会救助专项资金"))
            }
            "project" => {
                let funds = s
                    .add_project(
                        a,
                        &ProjectInput {
                            kind: field(&f, "kind").into(),
                            name: field(&f, "name").into(),
                            organisation_id: field(&f, "organisation_id").parse().ok(),
                            region: field(&f, "region").into(),
                            year: None,
                            target_fen: yuan("target_fen", field(&f, "target"))?,
                            raised_fen: yuan("raised_fen", field(&f, "raised"))?,
                        },
                    )
                    .await?;
                Ok(format!("已登记项目。{}", funds.standing_label))
            }
            _ => Err(ServiceError::invalid("action", "未知的操作")),
        }
    }
    .await;
    match result {
        Ok(notice) => render_social(&state, &user, None, None, Some(notice)).await,
        Err(e) => render_social(&state, &user, Some(&f), Some(refusal(e)?), None).await,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MonthQuery {
    month: String,
}

pub async fn needs_report_xlsx(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<MonthQuery>,
) -> Result<Response, PageError> {
    let month = NaiveDate::parse_from_str(&format!("{}-01", q.month.trim()), "%Y-%m-%d")
        .unwrap_or_else(|_| state.services.today());
    let bytes = state
        .services
        .social()
        .needs_report_xlsx(&user.actor, month)
        .await?;
    Ok(xlsx_download(
        bytes,
        &format!("帮扶需求月报-{}.xlsx", month.format("%Y-%m")),
    ))
}

// ---------------------------------------------------------------- an organisation: /needs, /volunteers

async fn render_board(
    state: &AppState,
    user: &WebUser,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let board = state.services.social().board(&user.actor).await?;
    let html = state.templates.render(
        "needs.html",
        context! { ..frame(user, "/needs"), ..context! { board => board, error => error, notice => notice }},
    )?;
    Ok(unprocessable(html, &error))
}

pub async fn board(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    render_board(&state, &user, None, None).await
}

pub async fn commit(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let result = match number("quantity", field(&f, "quantity")) {
        Ok(quantity) => {
            state
                .services
                .social()
                .commit(
                    &user.actor,
                    id,
                    &CommitInput {
                        quantity,
                        note: field(&f, "note").into(),
                    },
                )
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(n) => {
            let note = format!(
                "已认领{}{}：{}",
                n.mine.last().map_or(0, |c| c.quantity),
                n.unit_label,
                n.description
            );
            render_board(&state, &user, None, Some(note)).await
        }
        Err(e) => render_board(&state, &user, Some(refusal(e)?), None).await,
    }
}

pub async fn deliver(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    match state.services.social().deliver(&user.actor, id).await {
        Ok(n) => {
            let note = if n.status == "delivered" {
                format!("已完成：{}，帮扶计划中的这项措施已落实", n.description)
            } else {
                format!("已报告完成：{}", n.description)
            };
            render_board(&state, &user, None, Some(note)).await
        }
        Err(e) => render_board(&state, &user, Some(refusal(e)?), None).await,
    }
}

async fn render_volunteers(
    state: &AppState,
    user: &WebUser,
    form: Option<&Fields>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let s = state.services.social();
    let volunteers = s.volunteers(&user.actor).await?;
    let logs = s.service_logs(&user.actor).await?;
    let kinds = options(ServiceKind::ALL, ServiceKind::code, ServiceKind::label);
    let regions = state.services.regions().list(&user.actor).await?;
    let townships: Vec<_> = regions
        .iter()
        .filter(|r| r.level == "township")
        .map(|r| context! { code => r.code, label => r.name })
        .collect();
    let html = state.templates.render(
        "volunteers.html",
        context! { ..frame(user, "/volunteers"), ..context! {
            volunteers => volunteers, logs => logs, kinds => kinds, townships => townships,
            me => user.actor.username, error => error, form => form_map(form),
            today => state.services.today().to_string(),
        }},
    )?;
    Ok(unprocessable(html, &error))
}

pub async fn volunteers(
    State(state): State<AppState>,
    user: WebUser,
) -> Result<Response, PageError> {
    render_volunteers(&state, &user, None, None).await
}

pub async fn volunteers_post(
    State(state): State<AppState>,
    user: WebUser,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let s = state.services.social();
    let a = &user.actor;
    let result: Result<(), ServiceError> = async {
        match field(&f, "action") {
            "add" => {
                s.add_volunteer(
                    a,
                    &VolunteerInput {
                        name: field(&f, "name").into(),
                        region: field(&f, "region").into(),
                        show_on_board: field(&f, "show_on_board") == "1",
                    },
                )
                .await?;
            }
            "log" => {
                let date = opt(field(&f, "date"))
                    .map(|d| d.parse::<NaiveDate>())
                    .transpose()
                    .map_err(|_| ServiceError::invalid("date", "日期格式应为 YYYY-MM-DD"))?;
                s.log_service(
                    a,
                    &ServiceLogInput {
                        volunteer_id: number("volunteer_id", field(&f, "volunteer_id"))?,
                        household_id: field(&f, "household_id").trim().parse().ok(),
                        kind: field(&f, "kind").into(),
                        date,
                        hours: field(&f, "hours").into(),
                        note: field(&f, "note").into(),
                    },
                )
                .await?;
            }
            "verify" => {
                s.verify_service(a, number("log", field(&f, "log"))?)
                    .await?;
            }
            "correct" => {
                s.correct_service(a, number("log", field(&f, "log"))?, field(&f, "reason"))
                    .await?;
            }
            _ => return Err(ServiceError::invalid("action", "未知的操作")),
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to("/volunteers").into_response()),
        Err(e) => render_volunteers(&state, &user, Some(&f), Some(refusal(e)?)).await,
    }
}

// ---------------------------------------------------------------- new citizens

async fn render_new_citizens(
    state: &AppState,
    user: &WebUser,
    form: Option<&Fields>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let list = state.services.people().new_citizens(&user.actor).await?;
    let html = state.templates.render(
        "new_citizens.html",
        context! { ..frame(user, "/new-citizens"), ..context! {
            list => list, error => error, form => form_map(form),
            can_write => user.actor.role.allows(Permission::WritePeople) && !user.actor.read_only,
            can_export => user.actor.role.allows(Permission::RevealIdentity),
        }},
    )?;
    Ok(unprocessable(html, &error))
}

pub async fn new_citizens(
    State(state): State<AppState>,
    user: WebUser,
) -> Result<Response, PageError> {
    render_new_citizens(&state, &user, None, None).await
}

pub async fn new_citizens_post(
    State(state): State<AppState>,
    user: WebUser,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let p = state.services.people();
    let date = |name: &str| {
        opt(field(&f, name))
            .map(|d| d.parse::<NaiveDate>())
            .transpose()
            .map_err(|_| ServiceError::invalid(name, "日期格式应为 YYYY-MM-DD"))
    };
    let result = match field(&f, "action") {
        "points" => match (
            number("person_id", field(&f, "person_id")),
            number("points", field(&f, "points")),
        ) {
            (Ok(person), Ok(points)) => {
                p.add_permit_points(&user.actor, person, points, field(&f, "reason"))
                    .await
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
        _ => match (date("issued_on"), date("resident_since")) {
            (Ok(issued_on), Ok(resident_since)) => {
                p.record_permit(
                    &user.actor,
                    &PermitInput {
                        id_number: field(&f, "id_number").into(),
                        issued_on,
                        resident_since,
                        working: field(&f, "working") == "1",
                    },
                )
                .await
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
    };
    match result {
        Ok(_) => Ok(Redirect::to("/new-citizens").into_response()),
        Err(e) => render_new_citizens(&state, &user, Some(&f), Some(refusal(e)?)).await,
    }
}

pub async fn new_citizens_xlsx(
    State(state): State<AppState>,
    user: WebUser,
) -> Result<Response, PageError> {
    let bytes = state.services.people().insurance_xlsx(&user.actor).await?;
    Ok(xlsx_download(bytes, "新市民意外保险名单.xlsx"))
}

// ---------------------------------------------------------------- public: guides, apply, honour

pub async fn guides(State(state): State<AppState>) -> Result<Response, PageError> {
    let catalogue = state.services.catalogue().all().await?;
    let html = state.templates.render(
        "public_guides.html",
        context! { items => catalogue.items, departments => catalogue.departments },
    )?;
    Ok(html.into_response())
}

pub async fn guide(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let catalogue = state.services.catalogue().all().await?;
    let Some(item) = catalogue.items.iter().find(|i| i.code == code) else {
        return Ok(crate::error::error_page(
            StatusCode::NOT_FOUND,
            "未找到",
            "没有这项救助事项。",
        ));
    };
    let department = catalogue
        .departments
        .iter()
        .find(|d| d.code == item.department)
        .map(|d| d.name.clone())
        .unwrap_or_default();
    let html = state.templates.render(
        "public_guide.html",
        context! { item => item, department => department, phone => state.config.service_phone },
    )?;
    Ok(html.into_response())
}

async fn villages(state: &AppState) -> Result<Vec<minijinja::Value>, PageError> {
    let regions = super::public_regions(state).await?;
    Ok(super::village_options(&regions)
        .into_iter()
        .map(minijinja::Value::from_serialize)
        .collect())
}

async fn render_apply(
    state: &AppState,
    form: Option<&Fields>,
    error: Option<String>,
    done: Option<jiuzhu_services::cases::OnlineReceipt>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let catalogue = state.services.catalogue().all().await?;
    let token = super::sessionless_token();
    let members = form.map_or(2, |f| all(f, "member_name").len().max(2));
    let html = state.templates.render(
        "public_apply.html",
        context! {
            csrf => token, error => error, done => done, items => catalogue.items,
            villages => villages(state).await?, consent => VERIFICATION_CONSENT,
            form => form_map(form),
            chosen => form.map(|f| all(f, "items")).unwrap_or_default(),
            causes => form.map(|f| all(f, "causes")).unwrap_or_default(),
            member_names => form.map(|f| all(f, "member_name")).unwrap_or_default(),
            member_ids => form.map(|f| all(f, "member_id_number")).unwrap_or_default(),
            member_relations => form.map(|f| all(f, "member_relation")).unwrap_or_default(),
            member_rows => (0..members + usize::from(form.is_some_and(|f| field(f, "more") == "1"))).collect::<Vec<_>>(),
            cause_list => options(jiuzhu_domain::case::Cause::ALL, jiuzhu_domain::case::Cause::code, jiuzhu_domain::case::Cause::label),
            relations => jiuzhu_domain::Relation::ALL.iter().filter(|r| r.code() != "head").map(|r| context! { code => r.code(), label => r.label() }).collect::<Vec<_>>(),
        },
    )?;
    Ok(super::with_form_cookie(state, html, &token, status))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ApplyQuery {
    item: String,
}

/// The form, with the item chosen when it comes from a guide.
pub async fn apply_form(
    State(state): State<AppState>,
    Query(q): Query<ApplyQuery>,
) -> Result<Response, PageError> {
    let preset: Fields = opt(&q.item)
        .map(|i| vec![("items".to_string(), i)])
        .unwrap_or_default();
    render_apply(
        &state,
        (!preset.is_empty()).then_some(&preset),
        None,
        None,
        StatusCode::OK,
    )
    .await
}

pub async fn apply(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    if field(&f, "more") == "1" {
        // 增加一名成员: the form again with one more row, nothing sent.
        return render_apply(&state, Some(&f), None, None, StatusCode::OK).await;
    }
    if !state.public_limiter.allow(&ip) {
        let error = Some("提交过于频繁，请10分钟后再试".to_string());
        return render_apply(&state, Some(&f), error, None, StatusCode::TOO_MANY_REQUESTS).await;
    }
    let names = all(&f, "member_name");
    let ids = all(&f, "member_id_number");
    let relations = all(&f, "member_relation");
    let members = names
        .iter()
        .zip(&ids)
        .zip(&relations)
        .filter(|((n, i), _)| !n.trim().is_empty() || !i.trim().is_empty())
        .map(|((n, i), r)| OnlineMember {
            id_number: i.clone(),
            name: n.clone(),
            relation: r.clone(),
        })
        .collect();
    let input = OnlineApplication {
        id_number: field(&f, "id_number").into(),
        name: field(&f, "name").into(),
        phone: field(&f, "phone").into(),
        village: field(&f, "village").into(),
        address: field(&f, "address").into(),
        hardship: field(&f, "hardship").into(),
        causes: all(&f, "causes"),
        items: all(&f, "items"),
        members,
        consent: field(&f, "consent") == "1",
    };
    match state.services.cases().apply_online(&ip, &input).await {
        Ok(done) => render_apply(&state, None, None, Some(done), StatusCode::OK).await,
        Err(e @ ServiceError::Invalid { .. }) => {
            let message = refusal(e)?;
            render_apply(
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HonourQuery {
    region: String,
    month: String,
}

pub async fn honour(
    State(state): State<AppState>,
    Query(q): Query<HonourQuery>,
) -> Result<Response, PageError> {
    let month = NaiveDate::parse_from_str(&format!("{}-01", q.month.trim()), "%Y-%m-%d")
        .unwrap_or_else(|_| state.services.today());
    let rows = state
        .services
        .social()
        .honour_board(opt(&q.region).as_deref(), month)
        .await?;
    let townships = super::public_townships(&state).await?;
    let html = state.templates.render(
        "public_honour.html",
        context! { rows => rows, townships => townships, region => q.region, month => month.format("%Y-%m").to_string() },
    )?;
    Ok(html.into_response())
}

// ---------------------------------------------------------------- public: materials

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MaterialsQuery {
    number: String,
    last4: String,
}

async fn render_materials(
    state: &AppState,
    number: &str,
    last4: &str,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let token = super::sessionless_token();
    let status = if number.trim().is_empty() {
        None
    } else {
        match state.services.cases().public_status(number, last4).await {
            Ok(s) => Some(s),
            Err(ServiceError::NotFound) => None,
            Err(e) => return Err(e.into()),
        }
    };
    let not_found = !number.trim().is_empty() && status.is_none();
    let html = state.templates.render(
        "public_materials.html",
        context! {
            csrf => token, number => number, last4 => last4, status => status, error => error,
            notice => notice, not_found => not_found,
        },
    )?;
    let code = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else if not_found {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    Ok(super::with_form_cookie(state, html, &token, code))
}

pub async fn materials_form(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(q): Query<MaterialsQuery>,
) -> Result<Response, PageError> {
    if !q.number.trim().is_empty() && !state.status_limiter.allow(&ip) {
        return render_materials(
            &state,
            "",
            "",
            Some("查询过于频繁，请10分钟后再试".into()),
            None,
        )
        .await;
    }
    render_materials(&state, &q.number, &q.last4, None, None).await
}

/// A photo or scan of a material, sent as a multipart form.
pub async fn upload_material(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    if !state.public_limiter.allow(&ip) {
        return render_materials(
            &state,
            "",
            "",
            Some("提交过于频繁，请10分钟后再试".into()),
            None,
        )
        .await;
    }
    let (mut number, mut last4, mut material, mut file_name) =
        (String::new(), String::new(), String::new(), String::new());
    let mut bytes = Vec::new();
    let mut too_large = false;
    while let Ok(Some(mut field)) = multipart.next_field().await {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                file_name = field.file_name().unwrap_or_default().to_string();
                while let Ok(Some(chunk)) = field.chunk().await {
                    if bytes.len() + chunk.len() > jiuzhu_services::cases::MAX_UPLOAD {
                        too_large = true;
                        break;
                    }
                    bytes.extend_from_slice(&chunk);
                }
            }
            other => {
                let text = field.text().await.unwrap_or_default();
                match other {
                    "number" => number = text,
                    "last4" => last4 = text,
                    "material" => material = text,
                    _ => {}
                }
            }
        }
    }
    if too_large {
        let e = Some("文件：文件过大：每个文件不超过5MB".to_string());
        return render_materials(&state, &number, &last4, e, None).await;
    }
    let up = jiuzhu_services::cases::MaterialUpload {
        number: &number,
        last4: &last4,
        material: &material,
        file_name: &file_name,
        bytes: &bytes,
    };
    match state.services.cases().upload_material(&ip, &up).await {
        Ok(_) => {
            let note = format!("已收到“{material}”。");
            render_materials(&state, &number, &last4, None, Some(note)).await
        }
        Err(e @ ServiceError::Invalid { .. }) => {
            let message = refusal(e)?;
            render_materials(&state, &number, &last4, Some(message), None).await
        }
        Err(ServiceError::NotFound) => render_materials(&state, &number, &last4, None, None).await,
        Err(e) => Err(e.into()),
    }
}

/// An uploaded file, for staff of the case's region.
pub async fn material_file(
    State(state): State<AppState>,
    user: WebUser,
    Path((case, id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let (content_type, name, bytes) = state
        .services
        .cases()
        .material_file(&user.actor, case, id)
        .await?;
    let encoded: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("inline; filename*=UTF-8''{encoded}"),
            ),
            (
                axum::http::header::HeaderName::from_static("x-content-type-options"),
                "nosniff".to_string(),
            ),
        ],
        bytes,
    )
        .into_response())
}
