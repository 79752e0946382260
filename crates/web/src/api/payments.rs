//! Payments: payees, monthly rolls, the bank's batch file and its return.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiuzhu_services::payments::{
    BankTemplateInput, BankTemplateView, DeductionInput, PayeeInput, PayeeView, PaymentReport,
    ReceivableInput, ReceivableView, RecoveryInput, ReturnReport, RollInput, RollView,
};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiPath, ApiQuery, ApiResult, Created};
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_payee))
        .routes(routes!(set_award_payee))
        .routes(routes!(bank_templates, put_bank_template))
        .routes(routes!(set_deduction))
        .routes(routes!(rolls, generate))
        .routes(routes!(roll))
        .routes(routes!(check))
        .routes(routes!(approve))
        .routes(routes!(bank_file))
        .routes(routes!(bank_return))
        .routes(routes!(receivables, add_receivable))
        .routes(routes!(recover))
        .routes(routes!(report))
        .routes(routes!(report_xlsx))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReportQuery {
    /// YYYY-MM.
    pub month: String,
}

#[utoipa::path(get, path = "/payment-report", tag = "payments", params(ReportQuery),
    responses((status = 200, body = PaymentReport, description = "某月按乡镇、项目的户数、应发、已发、失败、补发金额和本月追回；合计等于当月花名册合计")))]
pub async fn report(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> ApiResult<PaymentReport> {
    Ok(Json(s.services.payments().report(&a, &q.month).await?))
}

#[utoipa::path(get, path = "/payment-report.xlsx", tag = "payments", params(ReportQuery),
    responses((status = 200, description = "发放统计 .xlsx", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn report_xlsx(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    let bytes = s.services.payments().report_xlsx(&a, &q.month).await?;
    Ok(crate::render::xlsx_download(
        bytes,
        &format!("payments-{}.xlsx", q.month),
    ))
}

#[utoipa::path(get, path = "/receivables", tag = "payments",
    responses((status = 200, body = Vec<ReceivableView>, description = "应追回款项及已追回金额")))]
pub async fn receivables(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<ReceivableView>> {
    Ok(Json(s.services.payments().receivables(&a).await?))
}

#[utoipa::path(post, path = "/receivables", tag = "payments", request_body = ReceivableInput,
    responses((status = 201, body = ReceivableView, description = "骗取等原因的应追回款项（死亡、退出后已发放的由系统自动生成）")))]
pub async fn add_receivable(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(r): ApiJson<ReceivableInput>,
) -> Created<ReceivableView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.payments().add_receivable(&a, &r).await?),
    ))
}

#[utoipa::path(post, path = "/receivables/{id}/recoveries", tag = "payments",
    params(("id" = i64, Path)), request_body = RecoveryInput,
    responses((status = 201, body = ReceivableView, description = "记录追回：银行退回、本人退回或从后续发放中扣减；不超过未追回金额")))]
pub async fn recover(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<RecoveryInput>,
) -> Created<ReceivableView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.payments().recover(&a, id, &r).await?),
    ))
}

#[utoipa::path(put, path = "/receivables/{id}/deduction", tag = "payments",
    params(("id" = i64, Path)), request_body = DeductionInput,
    responses((status = 200, body = ReceivableView, description = "从后续发放中扣减：每月扣减金额（0为停止）；每次不超过当月发放额的参数比例，审批花名册时记为追回")))]
pub async fn set_deduction(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<DeductionInput>,
) -> ApiResult<ReceivableView> {
    Ok(Json(s.services.payments().set_deduction(&a, id, &d).await?))
}

#[utoipa::path(get, path = "/bank-templates", tag = "payments",
    responses((status = 200, body = Vec<BankTemplateView>, description = "银行代发文件模板：系统自带的文本格式、表格格式和管理员添加的")))]
pub async fn bank_templates(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
) -> ApiResult<Vec<BankTemplateView>> {
    Ok(Json(s.services.payments().bank_templates(&a).await?))
}

#[utoipa::path(post, path = "/bank-templates", tag = "payments", request_body = BankTemplateInput,
    responses((status = 201, body = BankTemplateView, description = "添加（或按代码替换）一家银行的代发文件模板：列及顺序、分隔符、编码、汇总行、标题行、合计行、金额单位")))]
pub async fn put_bank_template(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(t): ApiJson<BankTemplateInput>,
) -> Created<BankTemplateView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.payments().put_bank_template(&a, &t).await?),
    ))
}

#[utoipa::path(put, path = "/awards/{id}/payee", tag = "payments",
    params(("id" = i64, Path)), request_body = PayeeInput,
    responses((status = 200, body = PayeeView, description = "一次性救助（含分期）的收款人及账号")))]
pub async fn set_award_payee(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<PayeeInput>,
) -> ApiResult<PayeeView> {
    Ok(Json(
        s.services.payments().set_award_payee(&a, id, &p).await?,
    ))
}

#[utoipa::path(put, path = "/enrolments/{id}/payee", tag = "payments",
    params(("id" = i64, Path)), request_body = PayeeInput,
    responses((status = 200, body = PayeeView, description = "收款人及一卡通账号（加密保存，显示时遮蔽）；已审批的花名册不受影响")))]
pub async fn set_payee(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<PayeeInput>,
) -> ApiResult<PayeeView> {
    Ok(Json(s.services.payments().set_payee(&a, id, &p).await?))
}

#[utoipa::path(get, path = "/rolls", tag = "payments",
    responses((status = 200, body = Vec<RollView>, description = "发放花名册（不含明细）")))]
pub async fn rolls(State(s): State<AppState>, ApiUser(a): ApiUser) -> ApiResult<Vec<RollView>> {
    Ok(Json(s.services.payments().rolls(&a).await?))
}

#[utoipa::path(post, path = "/rolls", tag = "payments", request_body = RollInput,
    responses((status = 201, body = RollView, description = "按救助对象名册生成（或重新生成）某月草稿；已审批花名册已发的不再列入，发放失败且已更正账户的补发")))]
pub async fn generate(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiJson(r): ApiJson<RollInput>,
) -> Created<RollView> {
    Ok((
        StatusCode::CREATED,
        Json(s.services.payments().generate(&a, &r).await?),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Page of the lines, 200 a page (from 1).
    pub page: Option<i64>,
    /// Only the lines of a status: pending (待发放), paid (已发放), failed (发放失败).
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/rolls/{id}", tag = "payments",
    params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = RollView, description = "花名册及一页明细（每页200行，可按状态筛选）、已导入的回盘文件；草稿另列尚无账户的应发对象")))]
pub async fn roll(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<RollView> {
    Ok(Json(
        s.services
            .payments()
            .roll_lines(&a, id, q.page.unwrap_or(1), q.status.as_deref())
            .await?,
    ))
}

#[utoipa::path(post, path = "/rolls/{id}/check", tag = "payments",
    params(("id" = i64, Path)), responses((status = 200, body = RollView, description = "审核")))]
pub async fn check(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<RollView> {
    Ok(Json(s.services.payments().advance(&a, id, "check").await?))
}

#[utoipa::path(post, path = "/rolls/{id}/approve", tag = "payments",
    params(("id" = i64, Path)),
    responses((status = 200, body = RollView, description = "审批（不能是审核人）；审批后锁定，同一对象同月不重复发放")))]
pub async fn approve(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<RollView> {
    Ok(Json(
        s.services.payments().advance(&a, id, "approve").await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct BankFileQuery {
    /// The paying unit's code at the bank (代发单位代码).
    pub unit: Option<String>,
    /// The return file's name, for the record.
    pub file_name: Option<String>,
    /// `pipe` (default: summary line, `|`-separated), `csv` (序号,姓名,身份证号,账号,金额,摘要),
    /// or the code of a bank template an administrator added (`GET /bank-templates`).
    pub layout: Option<String>,
}

#[utoipa::path(get, path = "/rolls/{id}/bank-file", tag = "payments",
    params(("id" = i64, Path), BankFileQuery),
    responses((status = 200, description = "批量代发文件：GBK，首行“日期|单位代码|笔数|总金额”，明细“序号|姓名|账号|金额|证件类型|证件号码|摘要”", content_type = "text/plain")))]
pub async fn bank_file(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<BankFileQuery>,
) -> Result<Response, ApiError> {
    let unit = q.unit.unwrap_or_else(|| a.region.as_str().to_string());
    let code = q.layout.unwrap_or_else(|| "pipe".into());
    let payments = s.services.payments();
    let template = payments.bank_template(&code).await?;
    let bytes = payments.bank_file_with(&a, id, &unit, &template).await?;
    let charset = template.encoding.label();
    let (kind, ext) = match template.separator {
        ',' => (format!("text/csv; charset={charset}"), "csv"),
        _ => (format!("text/plain; charset={charset}"), "txt"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"roll-{id}.{ext}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(post, path = "/rolls/{id}/returns", tag = "payments",
    params(("id" = i64, Path), BankFileQuery),
    request_body(content = String, content_type = "text/plain", description = "银行回盘文件（GBK 或 UTF-8）：首行汇总，明细“序号|姓名|账号|金额|成功或失败|原因”"),
    responses((status = 201, body = ReturnReport), (status = 200, body = ReturnReport, description = "同一回盘文件已导入过，未作改动")))]
pub async fn bank_return(
    State(s): State<AppState>,
    ApiUser(a): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<BankFileQuery>,
    body: axum::body::Bytes,
) -> Created<ReturnReport> {
    let name = q
        .file_name
        .unwrap_or_else(|| format!("roll-{id}-return.txt"));
    let report = s
        .services
        .payments()
        .import_return(&a, id, &name, &body)
        .await?;
    let status = if report.already_imported {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(report)))
}
