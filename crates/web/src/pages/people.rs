use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use jiuzhu_domain::{DisabilityKind, LabourCapacity, SelfCare};
use jiuzhu_services::people::{PersonInput, PersonQuery, PersonView};
use jiuzhu_services::ServiceError;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::{opt, page_or_reason, region_names, village_options};
use crate::auth::WebUser;
use crate::error::PageError;
use crate::render::frame;
use crate::AppState;

pub async fn list(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<PersonQuery>,
) -> Result<Html<String>, PageError> {
    let regions = state.services.regions().list(&user.actor).await?;
    let (page, error) = page_or_reason(state.services.people().search(&user.actor, &q).await, 50)?;
    state.templates.render(
        "people_list.html",
        context! { ..frame(&user, "/people"), ..context! {
            page => page, error => error, q => q.q.unwrap_or_default(), region => q.region.unwrap_or_default(),
            regions => regions.iter().filter(|r| r.level != "county").collect::<Vec<_>>(),
            region_names => region_names(&regions),
        }},
    )
}

/// The person form as typed: every field text, so a wrong entry comes back as it was.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct PersonForm {
    name: String,
    id_number: String,
    residence_region: String,
    hukou_region: String,
    residence_since: String,
    phone: String,
    disability_grade: String,
    disability_kind: String,
    serious_illness: String,
    labour_capacity: String,
    self_care: String,
    residence_permit: Option<String>,
    revision: String,
}

impl PersonForm {
    fn to_input(&self) -> Result<PersonInput, ServiceError> {
        let residence_since = opt(&self.residence_since)
            .map(|d| {
                d.parse::<NaiveDate>().map_err(|_| {
                    ServiceError::invalid("residence_since", "日期格式应为 YYYY-MM-DD")
                })
            })
            .transpose()?;
        let disability_grade = opt(&self.disability_grade)
            .map(|g| {
                g.parse::<u8>()
                    .map_err(|_| ServiceError::invalid("disability_grade", "残疾等级应为1至4"))
            })
            .transpose()?;
        Ok(PersonInput {
            id_number: self.id_number.clone(),
            name: self.name.clone(),
            hukou_region: self.hukou_region.clone(),
            residence_region: self.residence_region.clone(),
            residence_since,
            phone: opt(&self.phone),
            disability_grade,
            disability_kind: opt(&self.disability_kind),
            serious_illness: opt(&self.serious_illness),
            labour_capacity: self.labour_capacity.clone(),
            self_care: self.self_care.clone(),
            residence_permit: self.residence_permit.is_some(),
        })
    }

    fn from_view(p: &PersonView, full_id: String) -> Self {
        PersonForm {
            name: p.name.clone(),
            id_number: full_id,
            residence_region: p.residence_region.clone(),
            // The place by name, as the form takes it; a place outside the platform by its code.
            hukou_region: if p.hukou_region_name.is_empty() {
                p.hukou_region.clone()
            } else {
                p.hukou_region_name.replace(' ', "")
            },
            residence_since: p.residence_since.map(|d| d.to_string()).unwrap_or_default(),
            phone: p.phone.clone().unwrap_or_default(),
            disability_grade: p
                .disability_grade
                .map(|g| g.to_string())
                .unwrap_or_default(),
            disability_kind: p.disability_kind.clone().unwrap_or_default(),
            serious_illness: p.serious_illness.clone().unwrap_or_default(),
            labour_capacity: p.labour_capacity.clone(),
            self_care: p.self_care.clone(),
            residence_permit: p.residence_permit.then(|| "on".into()),
            revision: p.revision.to_string(),
        }
    }
}

fn choices<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<serde_json::Value> {
    all.iter()
        .map(|&k| serde_json::json!({"code": code(k), "label": label(k)}))
        .collect()
}

/// The hukou place as written on the form (a name or a code) turned into its code.
async fn with_place(
    state: &AppState,
    input: Result<PersonInput, ServiceError>,
) -> Result<PersonInput, ServiceError> {
    let mut input = input?;
    input.hukou_region = state
        .services
        .regions()
        .place("hukou_region", &input.hukou_region)
        .await?;
    Ok(input)
}

async fn render_form(
    state: &AppState,
    user: &WebUser,
    person_id: Option<i64>,
    form: &PersonForm,
    error: Option<String>,
) -> Result<Response, PageError> {
    let regions = state.services.regions().list(&user.actor).await?;
    let html = state.templates.render(
        "person_form.html",
        context! { ..frame(user, "/people"), ..context! {
            person_id => person_id, form => form, error => error, revision => form.revision,
            villages => village_options(&regions),
            places => state.services.regions().village_names().await?,
            disability_kinds => choices(DisabilityKind::ALL, DisabilityKind::code, DisabilityKind::label),
            labour => choices(LabourCapacity::ALL, LabourCapacity::code, LabourCapacity::label),
            self_care => choices(SelfCare::ALL, SelfCare::code, SelfCare::label),
        }},
    )?;
    Ok(super::page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

fn field_label(field: &str) -> &'static str {
    match field {
        "id_number" => "公民身份号码",
        "name" => "姓名",
        "residence_region" => "居住地",
        "hukou_region" => "户籍地",
        "residence_since" => "居住起始日期",
        "phone" => "联系电话",
        "disability_grade" => "残疾等级",
        "disability_kind" => "残疾类别",
        "labour_capacity" => "劳动能力",
        "self_care" => "生活自理能力",
        "month" => "生效月份",
        "reason" => "变更理由",
        "amount_fen" => "救助金额",
        "stage" => "办理环节",
        "confirmed_by" => "确认人",
        "decided_by" => "确认人",
        "note" => "意见",
        "causes" => "致困原因",
        "changes" => "版本变化说明",
        "date" => "走访日期",
        "findings" => "走访情况",
        "person_id" => "人员",
        "months" => "渐退期",
        "kind" => "类别",
        "monthly" => "月收入",
        "since" => "起始日期",
        "income_id" => "收入记录",
        "region_code" => "所在区划",
        "contact" => "联系方式",
        "enrolment_ids" => "复核对象",
        f if f.starts_with("needs") => "帮扶需求",
        "content" => "内容",
        "entry_id" => "公示对象",
        "method" => "答复方式",
        "participants" => "参加评议人员",
        "votes_for" => "赞成票",
        "votes_against" => "反对票",
        "votes_abstain" => "弃权票",
        "reply" => "答复内容",
        "category" => "投诉类别",
        "channel" => "来源",
        "region" => "所涉乡镇",
        "finding" => "核查结果",
        "recover_fen" => "追回金额",
        "household_id" => "被举报家庭",
        "title" => "名称",
        "percent" => "抽查比例",
        "seed" => "随机种子",
        "inspectors" => "检查人员",
        "result" => "检查结果",
        "program" | "programs" => "救助项目",
        "from" => "起始日期",
        "to" => "截止日期",
        "mask" => "姓名遮蔽方式",
        "about" => "被投诉人",
        "objection" => "公示异议",
        "plan" => "检查计划",
        "step" => "办理",
        "description" => "需求说明",
        "quantity" => "数量",
        "unit" => "单位",
        "need_index" | "need" => "帮扶需求",
        "consent" => "授权",
        "target_fen" => "项目资金",
        "raised_fen" => "已募集金额",
        "year" => "年度",
        "organisation_id" => "社会组织",
        "volunteer_id" => "志愿者",
        "hours" => "服务时长",
        "verified_by" => "核实人",
        "issued_on" => "居住证签发日期",
        "resident_since" => "居住起始日期",
        "points" => "积分",
        "village" => "居住的村（社区）",
        "address" => "详细住址",
        "hardship" => "困难情况",
        "items" => "申请事项",
        "members" => "家庭成员",
        f if f.starts_with("members[") => "家庭成员",
        _ => "输入",
    }
}

/// A refusal the person can fix on the form, or a real error page.
pub(crate) fn form_error(e: ServiceError) -> Result<String, PageError> {
    match e {
        ServiceError::Invalid { field, message } => {
            Ok(format!("{}：{message}", field_label(&field)))
        }
        ServiceError::Conflict { message, .. } => Ok(message),
        ServiceError::Stale => Ok(ServiceError::Stale.to_string()),
        other => Err(other.into()),
    }
}

pub async fn new_form(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    let form = PersonForm {
        labour_capacity: "full".into(),
        self_care: "full".into(),
        revision: "0".into(),
        ..Default::default()
    };
    render_form(&state, &user, None, &form, None).await
}

pub async fn create(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<PersonForm>,
) -> Result<Response, PageError> {
    let result = match with_place(&state, form.to_input()).await {
        Ok(input) => state.services.people().create(&user.actor, &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(p) => Ok(Redirect::to(&format!("/people/{}", p.id)).into_response()),
        Err(e) => render_form(&state, &user, None, &form, Some(form_error(e)?)).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ShowQuery {
    reveal: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Result<Html<String>, PageError> {
    // Only an explicit yes reveals: `?reveal=false` or `?reveal=0` does not.
    let revealed = matches!(q.reveal.as_deref(), Some("1" | "true" | "yes"));
    let p = state
        .services
        .people()
        .get(&user.actor, id, revealed)
        .await?;
    state.templates.render(
        "person.html",
        context! { ..frame(&user, "/people"), ..context! { p => p, revealed => revealed }},
    )
}

pub async fn edit_form(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    // Editing needs the full number in the form; the read is audited as a reveal.
    let p = state.services.people().get(&user.actor, id, true).await?;
    let form = PersonForm::from_view(&p, p.id_number.clone());
    render_form(&state, &user, Some(id), &form, None).await
}

pub async fn update(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(form): Form<PersonForm>,
) -> Result<Response, PageError> {
    let revision: i64 = form.revision.parse().unwrap_or(0);
    let result = match with_place(&state, form.to_input()).await {
        Ok(input) => {
            state
                .services
                .people()
                .update(&user.actor, id, revision, &input)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/people/{id}")).into_response()),
        Err(e) => render_form(&state, &user, Some(id), &form, Some(form_error(e)?)).await,
    }
}

pub(crate) use form_error as refusal;
