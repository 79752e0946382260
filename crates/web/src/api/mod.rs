//! `/api/v1`: the same use cases as the pages, as JSON, for department systems and scripts.
//! Authenticate with `Authorization: Bearer <token>` (issued by an administrator), or with the
//! page session cookie plus `X-CSRF-Token` for unsafe methods.
//!
//! One file per area, each with its `routes()`: a handler is registered together with its
//! OpenAPI entry (`routes!`), so the document cannot miss a route or describe one that is gone.

mod audit;
mod calendar;
mod cases;
mod catalogue;
mod extract;
mod feeds;
mod households;
mod monitoring;
mod openness;
mod organisations;
mod payments;
mod people;
mod policy;
mod recipients;
mod social;
mod users;

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use jiuzhu_services::regions::RegionView;
use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use extract::{ApiJson, ApiPath, ApiQuery};

use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::AppState;

type ApiResult<T> = Result<Json<T>, ApiError>;
type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "jiuzhu 社会救助综合服务平台 API",
        version = "1",
        description = "一门受理、协同办理。认证：管理员签发的令牌（Authorization: Bearer jz_…），或网页会话 Cookie 加 X-CSRF-Token 请求头。每个错误返回 JSON {code, message, field}。金额均为整数分。"
    ),
    modifiers(&Security),
    security(("bearer" = [])),
    tags(
        (name = "cases", description = "一门受理、协同办理：申请、受理登记、转办、部门办理、反馈、结案、督办"),
        (name = "people", description = "人员登记与查询（按区划授权，读取记入审计）"),
        (name = "households", description = "家庭档案与成员变动"),
        (name = "catalogue", description = "救助事项目录"),
        (name = "users", description = "用户与 API 令牌"),
        (name = "audit", description = "审计日志"),
        (name = "calendar", description = "法定工作日历"),
        (name = "policy", description = "救助政策参数、家庭测算（含每步依据）与调整模拟"),
        (name = "feeds", description = "部门数据导入与家庭经济状况核对报告"),
        (name = "payments", description = "发放：收款账户、月度发放花名册（审核、审批）、银行批量代发文件与回盘对账、补发"),
        (name = "monitoring", description = "低收入人口动态监测预警：月度监测运行、分级预警、限时核查与处置"),
        (name = "recipients", description = "救助对象：纳入审核确认、保障变更、名册、定期复核、一户一档一策、走访"),
        (name = "social", description = "社会力量：帮扶需求发布与认领、授权、项目与资金（市镇3:7、购买服务2%上限）、志愿服务与积分、新市民"),
        (name = "openness", description = "公开与监督：救助对象公示与异议、投诉举报（首问负责）、双随机抽查、统计月报与绩效指标"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Every API route with its OpenAPI entry.
fn api() -> OpenApiRouter<AppState> {
    let v1 = OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(regions))
        .merge(people::routes())
        .merge(households::routes())
        .merge(catalogue::routes())
        .merge(users::routes())
        .merge(audit::routes())
        .merge(calendar::routes())
        .merge(cases::routes())
        .merge(organisations::routes())
        .merge(policy::routes())
        .merge(feeds::routes())
        .merge(recipients::routes())
        .merge(payments::routes())
        .merge(monitoring::routes())
        .merge(openness::routes())
        .merge(social::routes())
        .route("/openapi.json", get(openapi))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "接口不存在", None)
        });
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest("/api/v1", v1)
}

/// The API's routes, under `/api/v1`.
pub fn routes() -> Router<AppState> {
    api().split_for_parts().0
}

/// The OpenAPI document of `/api/v1`, made from the routes themselves.
pub fn document() -> utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT
        .get_or_init(|| {
            let mut doc = api().into_openapi();
            document_errors(&mut doc);
            doc
        })
        .clone()
}

/// Every operation answers its errors as `{code, message, field}`: each gets the error
/// responses any request can meet, where its own annotation did not say more.
fn document_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let public = path.ends_with("/status") || path.ends_with("/openapi.json");
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            let r = &mut op.responses.responses;
            let mut add = |code: &str, description: &str| {
                r.entry(code.to_string())
                    .or_insert_with(|| error(description).into());
            };
            if !public {
                add("401", "未登录、令牌无效或已过期");
                add("403", "角色无权进行此操作（或缺少 X-CSRF-Token）");
            }
            add("404", "不存在，或不在调用者的管辖范围内");
            add("422", "请求内容不符：message 说明原因，field 指出字段");
            add("500", "服务器内部错误（已记录）");
        }
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

/// Who the caller is, as the platform sees them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub role_label: String,
    pub region_code: String,
    pub department_code: Option<String>,
    pub read_only: bool,
}

#[utoipa::path(get, path = "/me", tag = "session", responses((status = 200, body = Me), (status = 401, body = jiuzhu_services::ErrorBody)))]
pub async fn me(ApiUser(a): ApiUser) -> ApiResult<Me> {
    Ok(Json(Me {
        username: a.username,
        display_name: a.display_name,
        role: a.role.code().into(),
        role_label: a.role.label().into(),
        region_code: a.region.to_string(),
        department_code: a.department,
        read_only: a.read_only,
    }))
}

#[utoipa::path(get, path = "/regions", tag = "regions", responses((status = 200, body = Vec<RegionView>)))]
pub async fn regions(State(s): State<AppState>, ApiUser(a): ApiUser) -> ApiResult<Vec<RegionView>> {
    Ok(Json(s.services.regions().list(&a).await?))
}
