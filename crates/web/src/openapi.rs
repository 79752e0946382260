//! The OpenAPI document of `/api/v1`, built from the handlers' annotations.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "jiuzhu 社会救助综合服务平台 API",
        version = "1",
        description = "一门受理、协同办理。认证：管理员签发的令牌（Authorization: Bearer jz_…），或网页会话 Cookie 加 X-CSRF-Token 请求头。每个错误返回 JSON {code, message, field}。金额均为整数分。"
    ),
    paths(
        api::me, api::regions,
        api::search_people, api::create_person, api::get_person, api::update_person,
        api::search_households, api::create_household, api::get_household, api::update_household,
        api::add_member, api::end_membership,
        api::catalogue, api::item, api::update_item,
        api::list_users, api::create_user, api::set_user_active, api::tokens_of, api::issue_token, api::revoke_token,
        api::audit, api::calendar, api::load_calendar, api::due_date,
        api::file_application, api::get_case, api::register, api::department_step, api::window_step,
        api::queue, api::organisations, api::add_organisation, api::public_status,
        api::evaluate, api::parameters, api::add_parameter_value, api::simulate,
        api::case_evaluations, api::evaluate_case,
        api::import_feed, api::feed_files, api::feed_file, api::case_reports, api::verify_case,
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

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
