//! The bureau's pages: users and API tokens, the working-day calendar, and the auditor's log.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use chrono::NaiveDate;
use jiuzhu_domain::Role;
use jiuzhu_services::audit::AuditQuery;
use jiuzhu_services::auth::{TokenInput, UserInput};
use jiuzhu_services::ServiceError;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::people::refusal;
use super::{opt, page_or_reason, region_names};
use crate::auth::WebUser;
use crate::error::PageError;
use crate::render::frame;
use crate::AppState;

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct UserForm {
    username: String,
    display_name: String,
    role: String,
    region_code: String,
    department_code: String,
    password: String,
    system_account: String,
    organisation_id: String,
}

async fn render_users(
    state: &AppState,
    user: &WebUser,
    form: UserForm,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let users = state.services.users().list(&user.actor).await?;
    let regions = state.services.regions().list(&user.actor).await?;
    let catalogue = state.services.catalogue().all().await?;
    let organisations = state.services.organisations().list(&user.actor).await?;
    let organisation_names: BTreeMap<String, String> = organisations
        .iter()
        .map(|o| (o.id.to_string(), o.name.clone()))
        .collect();
    let department_names: BTreeMap<String, String> = catalogue
        .departments
        .iter()
        .map(|d| (d.code.clone(), d.name.clone()))
        .collect();
    // The three administrators' accounts are made at installation, not here.
    let roles: Vec<_> = Role::ALL
        .iter()
        .filter(|r| !r.is_administrator())
        .map(|r| context! { code => r.code(), label => r.label(), level => r.region_level().label() })
        .collect();
    let html = state.templates.render(
        "users.html",
        context! { ..frame(user, "/users"), ..context! {
            users => users, regions => regions.clone(), region_names => region_names(&regions), roles => roles,
            departments => catalogue.departments, department_names => department_names,
            organisations => organisations, organisation_names => organisation_names,
            form => UserForm { password: String::new(), ..form }, error => error, notice => notice,
        }},
    )?;
    Ok(super::page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub async fn users(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    render_users(&state, &user, UserForm::default(), None, None).await
}

pub async fn create_user(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<UserForm>,
) -> Result<Response, PageError> {
    let input = UserInput {
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        role: form.role.clone(),
        region_code: form.region_code.clone(),
        department_code: opt(&form.department_code),
        password: form.password.clone(),
        system_account: form.system_account == "on",
        organisation_id: form.organisation_id.trim().parse().ok(),
    };
    match state.services.users().create(&user.actor, &input).await {
        Ok(u) => {
            render_users(
                &state,
                &user,
                UserForm::default(),
                None,
                Some(format!("已创建用户 {}", u.username)),
            )
            .await
        }
        Err(e) => render_users(&state, &user, form, Some(refusal(e)?), None).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActiveForm {
    active: String,
}

/// Resets a user's password and shows the temporary one once.
pub async fn reset_password(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    match state.services.users().reset_password(&user.actor, id).await {
        Ok((target, temporary)) => {
            render_users(
                &state,
                &user,
                UserForm::default(),
                None,
                Some(format!(
                    "已重置{}（{}）的密码，临时密码（只显示这一次）：{temporary}；该用户下次登录时须设置新密码",
                    target.display_name, target.username
                )),
            )
            .await
        }
        Err(e) => render_users(&state, &user, UserForm::default(), Some(refusal(e)?), None).await,
    }
}

pub async fn set_active(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(form): Form<ActiveForm>,
) -> Result<Response, PageError> {
    let active = form.active == "true";
    match state
        .services
        .users()
        .set_active(&user.actor, id, active)
        .await
    {
        Ok(u) => {
            let what = if active { "已启用" } else { "已停用" };
            render_users(
                &state,
                &user,
                UserForm::default(),
                None,
                Some(format!("{what}用户 {}", u.username)),
            )
            .await
        }
        Err(e) => render_users(&state, &user, UserForm::default(), Some(refusal(e)?), None).await,
    }
}

async fn render_tokens(
    state: &AppState,
    user: &WebUser,
    id: i64,
    issued: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let tokens = state.services.users().tokens_of(&user.actor, id).await?;
    let target = state
        .services
        .users()
        .list(&user.actor)
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or(ServiceError::NotFound)?;
    let html = state.templates.render(
        "tokens.html",
        context! { ..frame(user, "/users"), ..context! { tokens => tokens, target => target, issued => issued, error => error }},
    )?;
    Ok(html.into_response())
}

pub async fn tokens(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    render_tokens(&state, &user, id, None, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenForm {
    name: String,
    expires_in_days: String,
    read_only: Option<String>,
    user_id: i64,
}

pub async fn issue_token(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    let expires = match opt(&form.expires_in_days).map(|d| d.parse::<i64>()) {
        Some(Ok(d)) => Some(d),
        Some(Err(_)) => {
            return render_tokens(&state, &user, id, None, Some("有效天数应为整数".into())).await
        }
        None => None,
    };
    let input = TokenInput {
        user_id: id,
        name: form.name,
        read_only: form.read_only.is_some(),
        expires_in_days: expires,
    };
    match state
        .services
        .users()
        .issue_token(&user.actor, &input)
        .await
    {
        Ok(t) => render_tokens(&state, &user, id, Some(t.token), None).await,
        Err(e) => render_tokens(&state, &user, id, None, Some(refusal(e)?)).await,
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    state.services.users().revoke_token(&user.actor, id).await?;
    render_tokens(&state, &user, form.user_id, None, None).await
}

/// What each recorded action is called on the audit page, and what a search in Chinese means.
fn action_labels() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("access.refused", "越权访问被拒绝"),
        ("audit.export", "导出审计日志"),
        ("audit.search", "查询审计日志"),
        ("audit.verify", "校验审计日志"),
        ("bank_template.put", "设置银行代发模板"),
        ("calendar.load", "载入节假日安排"),
        ("case.evaluate", "救助测算"),
        ("case.file", "受理申请"),
        ("case.public_status", "申请人查询办理进度"),
        ("case.read", "查看案件"),
        ("case.step", "办理环节"),
        ("case.verify", "家庭经济状况核对"),
        ("demo.generate", "生成示范数据"),
        ("enrolment.approve", "保障审核通过"),
        ("enrolment.change", "保障变更"),
        ("enrolment.create", "纳入保障"),
        ("enrolment.read", "查看保障"),
        ("enrolment.refuse", "保障审核不通过"),
        ("feed.import", "导入部门数据"),
        ("household.create", "建立家庭档案"),
        ("household.file", "查看一户一档"),
        ("household.member_add", "家庭成员迁入"),
        ("household.income_add", "登记申报收入"),
        ("monitoring.run", "运行动态监测"),
        ("population.search", "查询监测对象"),
        ("population.export", "导出监测对象"),
        ("population.register", "登记困难家庭"),
        ("population.share", "部门读取监测对象"),
        ("warning.search", "查询监测预警"),
        ("warning.read", "查看监测预警"),
        ("warning.assign", "分派预警核查"),
        ("warning.check", "记录预警核查"),
        ("warning.close", "办结监测预警"),
        ("organisation.update", "修改转介机构"),
        ("household.income_change", "修改申报收入"),
        ("household.income_remove", "删除申报收入"),
        ("household.member_end", "家庭成员迁出"),
        ("household.read", "查看家庭档案"),
        ("household.search", "查找家庭"),
        ("household.update", "修改家庭"),
        ("households.review", "批量核对家庭"),
        ("item.update", "修改救助事项"),
        ("keys.rekey", "更换加密密钥"),
        ("login.failed", "登录失败"),
        ("login.locked", "登录失败并锁定"),
        ("login.ok", "登录成功"),
        ("login.second_factor", "动态码验证"),
        ("logout", "退出"),
        ("organisation.create", "登记社会组织"),
        ("password.change", "修改密码"),
        ("password.policy", "设置密码策略"),
        ("password.reset", "重置密码"),
        ("payee.set", "设置收款账户"),
        ("person.create", "登记人员"),
        ("person.identities", "查看身份证号"),
        ("person.lookup", "按身份证号查询"),
        ("person.read", "查看人员档案"),
        ("person.reveal", "查看完整身份证号和电话"),
        ("person.search", "查找人员"),
        ("person.update", "修改人员"),
        ("plan.approve", "批准帮扶计划"),
        ("plan.save", "保存帮扶计划"),
        ("policy.add_value", "新增政策参数值"),
        ("policy.simulate", "调整模拟"),
        ("receivable.create", "登记应追回"),
        ("receivable.deduction", "设置从发放中扣减"),
        ("receivable.recover", "登记追回"),
        ("register.export", "导出花名册"),
        ("register.read", "查看救助对象名册"),
        ("notice.publish", "发布救助对象公示"),
        ("notice.mask", "设置公示姓名遮蔽方式"),
        ("objection.create", "登记公示异议"),
        ("objection.read", "查看公示异议"),
        ("objection.answer", "答复公示异议"),
        ("objection.public_status", "公众查询异议结果"),
        ("complaint.create", "受理投诉举报"),
        ("complaint.read", "查看投诉举报"),
        ("complaint.transfer", "转办投诉举报"),
        ("complaint.accept", "接收转办的投诉举报"),
        ("complaint.decline", "不接收转办的投诉举报"),
        ("complaint.review", "复核被举报家庭"),
        ("complaint.answer", "答复投诉举报"),
        ("complaint.public_status", "公众查询投诉结果"),
        ("inspection.plan", "制定双随机抽查计划"),
        ("inspection.read", "查看抽查计划"),
        ("inspection.result", "记录抽查结果"),
        ("inspection.review", "复核抽查发现的问题"),
        ("inspection.publish", "公开抽查结果"),
        ("statistics.read", "查看统计月报"),
        ("consent.record", "登记授权"),
        ("need.publish", "发布帮扶需求"),
        ("need.commit", "认领帮扶需求"),
        ("need.deliver", "报告帮扶完成"),
        ("funds.set", "登记社会救助专项资金"),
        ("project.create", "登记社会帮扶项目"),
        ("project.raised", "更新项目募集金额"),
        ("volunteer.create", "登记志愿者"),
        ("service.log", "登记志愿服务"),
        ("service.verify", "核实志愿服务时长"),
        ("service.correct", "更正志愿服务（冲回积分）"),
        ("permit.record", "登记居住证"),
        ("permit.points", "记录新市民积分"),
        ("permit.insurance_export", "导出新市民意外保险名单"),
        ("case.apply_online", "网上申请"),
        ("register.reveal", "名册显示完整身份证号"),
        ("review.confirm", "确认复核结果"),
        ("review.propose", "提出复核意见"),
        ("review.reject", "退回复核意见"),
        ("roll.approve", "审批发放花名册"),
        ("roll.bank_file", "生成银行代发文件"),
        ("roll.check", "审核发放花名册"),
        ("roll.generate", "生成发放花名册"),
        ("roll.return", "导入银行回盘"),
        ("token.issue", "签发API令牌"),
        ("token.revoke", "吊销API令牌"),
        ("two_factor.bind", "绑定动态码"),
        ("two_factor.reset", "解绑动态码"),
        ("user.create", "创建用户"),
        ("user.disable", "停用用户"),
        ("user.enable", "启用用户"),
        ("visit.record", "记录走访"),
    ])
}

/// Names of the facts an audit record keeps, as people call them.
const DETAIL_LABELS: &[(&str, &str)] = &[
    ("accepted", "已接收"),
    ("action", "操作"),
    ("actor", "操作人"),
    ("address", "住址"),
    ("adjusted_workdays", "调整工作日"),
    ("affected", "受影响户次"),
    ("after", "改后"),
    ("algorithm", "算法"),
    ("amount_fen", "金额"),
    ("applicant_person_id", "申请人编号"),
    ("before", "改前"),
    ("broken", "断链"),
    ("bytes", "字节数"),
    ("case", "案件"),
    ("cases", "案件"),
    ("category", "类别"),
    ("cause", "原因"),
    ("causes", "原因"),
    ("change", "变更"),
    ("changed", "变更数"),
    ("channel", "渠道"),
    ("closed", "已结案"),
    ("code", "代码"),
    ("config", "配置"),
    ("database", "数据库"),
    ("date", "日期"),
    ("department", "部门"),
    ("digest", "摘要值"),
    ("eligible", "符合条件"),
    ("enrolments", "保障"),
    ("entity", "对象"),
    ("entity_id", "对象编号"),
    ("errors", "错误"),
    ("evaluated_fen", "测算金额"),
    ("evaluation", "测算"),
    ("evaluations", "测算"),
    ("events", "事件"),
    ("facts", "部门数据条数"),
    ("failed", "失败"),
    ("failures", "失败"),
    ("file", "文件"),
    ("findings", "核对发现"),
    ("first_month", "首月"),
    ("form_no", "受理单号"),
    ("found", "查到"),
    ("from", "起"),
    ("hardship", "困难情形"),
    ("head_person_id", "户主编号"),
    ("holder", "账户人"),
    ("holidays", "节假日"),
    ("households", "户数"),
    ("id_number", "身份证号"),
    ("idempotency_key", "防重复提交键"),
    ("income_id", "收入记录"),
    ("items", "事项"),
    ("jurisdiction", "政策地区"),
    ("key_id", "密钥编号"),
    ("kind", "类别"),
    ("label", "名称"),
    ("line", "行"),
    ("lines", "行数"),
    ("materials", "材料"),
    ("members", "成员"),
    ("message", "说明"),
    ("method", "方式"),
    ("month", "月份"),
    ("months", "月数"),
    ("monthly_fen", "月收入"),
    ("name", "名称"),
    ("note", "备注"),
    ("outcome", "结果"),
    ("page", "页码"),
    ("paid", "已发放"),
    ("papers", "材料"),
    ("per_capita_income_fen", "人均收入"),
    ("per_month_fen", "每月金额"),
    ("person", "人员"),
    ("person_id", "人员编号"),
    ("persons", "人数"),
    ("phases", "阶段"),
    ("plan", "帮扶计划"),
    ("program", "救助项目"),
    ("q", "查询词"),
    ("raised", "新增"),
    ("warnings", "预警数"),
    ("read_only", "只读"),
    ("reason", "理由"),
    ("receivable", "应追回"),
    ("rejected", "拒收"),
    ("relation", "关系"),
    ("report", "核对报告"),
    ("reports", "核对报告"),
    ("resumed", "续传"),
    ("review", "复核"),
    ("rewritten", "重写"),
    ("role", "角色"),
    ("rows", "行数"),
    ("seq", "序号"),
    ("set", "调整"),
    ("shown", "显示记录"),
    ("since", "起始"),
    ("source", "依据"),
    ("stage", "环节"),
    ("status", "状态"),
    ("summary", "摘要"),
    ("system_account", "系统账户"),
    ("time_limit_days", "时限（工作日）"),
    ("time_limit_source", "时限依据"),
    ("to", "止"),
    ("total_fen", "合计"),
    ("user", "用户"),
    ("username", "用户名"),
    ("value", "数值"),
    ("version", "版本"),
    ("visit", "走访"),
    ("days", "公示天数"),
    ("drawn", "抽取户数"),
    ("entries", "公示户数"),
    ("entry", "公示对象"),
    ("enrolment", "保障"),
    ("household", "家庭"),
    ("mask", "遮蔽方式"),
    ("notice", "公示"),
    ("number", "编号"),
    ("percent", "比例"),
    ("result", "结果"),
    ("seed", "随机种子"),
    ("target", "抽查对象"),
    ("upheld", "异议成立"),
    ("organisation", "社会组织"),
    ("quantity", "数量"),
    ("points", "积分"),
    ("log", "服务记录"),
    ("hours_tenths", "时长（0.1小时）"),
    ("closed", "已落实"),
    ("commitment", "认领"),
    ("index", "需求序号"),
    ("year", "年度"),
    ("working", "就业"),
    ("issued_on", "签发日期"),
    ("resident_since", "居住起"),
    ("merged", "重复提交已合并"),
    ("applicant", "申请人"),
    ("items", "事项"),
    ("show_on_board", "公开姓名"),
    ("city_fen", "市级承担"),
    ("township_fen", "镇级承担"),
    ("target_fen", "金额"),
    ("raised_fen", "已募集"),
];

/// One fact of an audit record: its name, and its value as text (codes marked as such).
#[derive(serde::Serialize)]
struct DetailItem {
    label: String,
    text: String,
    code: bool,
}

/// An audit record's detail read as named facts instead of raw JSON; money in yuan.
fn detail_items(detail: &str) -> Vec<DetailItem> {
    fn text_of(key: &str, v: &serde_json::Value) -> String {
        use serde_json::Value;
        match v {
            Value::Null => "—".into(),
            Value::Bool(b) => if *b { "是" } else { "否" }.into(),
            Value::Number(n) if key.ends_with("_fen") => n
                .as_i64()
                .map(|f| format!("{}元", jiuzhu_domain::Money::from_fen(f)))
                .unwrap_or_else(|| n.to_string()),
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            Value::Array(a) => a
                .iter()
                .map(|x| text_of(key, x))
                .collect::<Vec<_>>()
                .join("、"),
            Value::Object(o) => o
                .iter()
                .map(|(k, x)| format!("{}：{}", label_of(k), text_of(k, x)))
                .collect::<Vec<_>>()
                .join("，"),
        }
    }
    fn label_of(key: &str) -> String {
        DETAIL_LABELS
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, l)| l.to_string())
            .unwrap_or_else(|| "其他".into())
    }
    let looks_like_code =
        |t: &str| t.is_ascii() && t.chars().any(|c| c.is_ascii_lowercase()) && !t.contains(' ');
    match serde_json::from_str::<serde_json::Value>(detail) {
        Ok(serde_json::Value::Object(o)) => o
            .iter()
            .map(|(k, v)| {
                let text = text_of(k, v);
                DetailItem {
                    label: label_of(k),
                    code: looks_like_code(&text),
                    text,
                }
            })
            .collect(),
        _ if detail.trim().is_empty() => Vec::new(),
        _ => vec![DetailItem {
            label: "内容".into(),
            code: false,
            text: detail.to_string(),
        }],
    }
}

/// What is recorded about, as people call it.
fn entity_labels() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("award", "一次性救助"),
        ("bank_template", "代发模板"),
        ("case", "案件"),
        ("enrolment", "保障"),
        ("feed_file", "部门数据文件"),
        ("household", "家庭"),
        ("item", "救助事项"),
        ("organisation", "社会组织"),
        ("warning", "监测预警"),
        ("monitor_run", "监测运行"),
        ("notice", "公示"),
        ("objection", "公示异议"),
        ("complaint", "投诉举报"),
        ("inspection", "抽查计划"),
        ("need", "帮扶需求"),
        ("project", "社会帮扶项目"),
        ("volunteer", "志愿者"),
        ("person", "人员"),
        ("plan", "帮扶计划"),
        ("receivable", "应追回"),
        ("roll", "发放花名册"),
        ("token", "API令牌"),
        ("user", "用户"),
    ])
}

/// The action code (or prefix) a search in Chinese means: every action whose name holds the
/// words, by their common prefix (登录 → `login.`), else the first; a code is kept as typed.
fn action_code(typed: &str) -> String {
    let typed = typed.trim();
    if typed.is_ascii() {
        return typed.to_string();
    }
    let codes: Vec<&str> = action_labels()
        .into_iter()
        .filter(|(_, label)| label.contains(typed))
        .map(|(code, _)| code)
        .collect();
    match codes.as_slice() {
        [] => typed.to_string(),
        [one] => one.to_string(),
        [first, rest @ ..] => {
            let mut prefix = first.to_string();
            for c in rest {
                while !c.starts_with(&prefix) {
                    prefix.pop();
                }
            }
            if prefix.is_empty() {
                first.to_string()
            } else {
                prefix
            }
        }
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct AuditForm {
    actor: String,
    action: String,
    entity: String,
    entity_id: String,
    from: String,
    to: String,
    page: Option<i64>,
}

pub async fn audit(
    State(state): State<AppState>,
    user: WebUser,
    Query(form): Query<AuditForm>,
) -> Result<Html<String>, PageError> {
    let parse = |s: &str| opt(s).map(|d| d.parse::<NaiveDate>());
    let (from, to) = (parse(&form.from), parse(&form.to));
    let mut error = None;
    let date = |d: Option<Result<NaiveDate, _>>, error: &mut Option<String>| match d {
        Some(Ok(d)) => Some(d),
        Some(Err(_)) => {
            *error = Some("日期格式应为 YYYY-MM-DD".to_string());
            None
        }
        None => None,
    };
    let q = AuditQuery {
        actor: opt(&form.actor),
        action: opt(&form.action).map(|a| action_code(&a)),
        entity: opt(&form.entity),
        entity_id: opt(&form.entity_id),
        from: date(from, &mut error),
        to: date(to, &mut error),
        page: form.page,
    };
    let (page, refused) =
        page_or_reason(state.services.audit().search(&user.actor, &q).await, 100)?;
    error = error.or(refused);
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("actor", &form.actor)
        .append_pair("action", &form.action)
        .append_pair("entity", &form.entity)
        .append_pair("entity_id", &form.entity_id)
        .append_pair("from", &form.from)
        .append_pair("to", &form.to)
        .finish();
    let roles: BTreeMap<&str, &str> = Role::ALL.iter().map(|r| (r.code(), r.label())).collect();
    let region_names: BTreeMap<String, String> = state
        .services
        .regions()
        .list(&user.actor)
        .await?
        .into_iter()
        .map(|r| (r.code, r.name))
        .collect();
    let interfaces = BTreeMap::from([
        ("web", "网页"),
        ("api", "接口"),
        ("cli", "命令行"),
        ("system", "系统"),
    ]);
    let details: Vec<Vec<DetailItem>> =
        page.items.iter().map(|r| detail_items(&r.detail)).collect();
    state.templates.render(
        "audit.html",
        context! { ..frame(&user, "/audit"), ..context! {
            details => details, page => page, q => form, query => query, error => error, roles => roles,
            interfaces => interfaces, actions => action_labels(), entities => entity_labels(),
            region_names => region_names,
        }},
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DueQuery {
    from: String,
    days: String,
}

async fn render_calendar(
    state: &AppState,
    user: &WebUser,
    q: DueQuery,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let mut error = error;
    let due = match (opt(&q.from), opt(&q.days)) {
        (Some(from), Some(days)) => match (from.parse::<NaiveDate>(), days.parse::<u32>()) {
            (Ok(f), Ok(n)) if n <= 365 => Some(state.services.calendar().add_working_days(f, n)),
            _ => {
                error = Some("请填写有效的起算日期和0至365之间的工作日数".into());
                None
            }
        },
        _ => None,
    };
    let html = state.templates.render(
        "calendar.html",
        context! { ..frame(user, "/calendar"), ..context! {
            years => state.services.calendar().years(), due => due, from => q.from,
            days => if q.days.is_empty() { "1".to_string() } else { q.days }, error => error, notice => notice,
        }},
    )?;
    Ok(super::page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub async fn calendar(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<DueQuery>,
) -> Result<Response, PageError> {
    render_calendar(&state, &user, q, None, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ScheduleForm {
    schedule: String,
}

pub async fn load_calendar(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<ScheduleForm>,
) -> Result<Response, PageError> {
    match state
        .services
        .calendar()
        .load_year(&user.actor, &form.schedule)
        .await
    {
        Ok(y) => {
            render_calendar(
                &state,
                &user,
                DueQuery::default(),
                None,
                Some(format!("已载入{}年节假日安排", y.year)),
            )
            .await
        }
        Err(e) => {
            render_calendar(&state, &user, DueQuery::default(), Some(refusal(e)?), None).await
        }
    }
}
