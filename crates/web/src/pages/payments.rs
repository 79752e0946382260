//! Payments on pages: the rolls, one roll with its steps, the bank file, the return (uploaded
//! through the API from the page), and the payee on an enrolment's page.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use jiuzhu_domain::Money;
use jiuzhu_domain::Permission;
use jiuzhu_services::payments::{
    BankTemplateInput, DeductionInput, PayeeInput, ReceivableInput, RollInput,
};
use minijinja::context;

use super::page_reply;
use super::people::refusal;
use crate::auth::WebUser;
use crate::error::PageError;
use crate::render::frame;
use crate::AppState;

use super::{field, Fields};

pub async fn rolls(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    render_rolls(&state, &user, None).await
}

async fn render_rolls(
    state: &AppState,
    user: &WebUser,
    error: Option<String>,
) -> Result<Response, PageError> {
    let a = &user.actor;
    let rolls = state.services.payments().rolls(a).await?;
    let regions = state.services.regions().list(a).await?;
    let townships: Vec<_> = regions
        .iter()
        .filter(|r| r.level == "township")
        .map(|r| context! { code => r.code, name => r.name })
        .collect();
    let html = state.templates.render(
        "rolls.html",
        context! { ..frame(user, "/rolls"), ..context! {
            rolls => rolls, error => error, townships => townships,
            month => state.services.today().format("%Y-%m").to_string(),
            can_generate => a.role.allows(Permission::ManageRecipients),
        }},
    )?;
    Ok(page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub async fn generate(
    State(state): State<AppState>,
    user: WebUser,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let input = RollInput {
        month: field(&f, "month").to_string(),
        program: Some(field(&f, "program").to_string()).filter(|p| !p.is_empty()),
        region: Some(field(&f, "region").to_string()).filter(|r| !r.is_empty()),
    };
    match state
        .services
        .payments()
        .generate(&user.actor, &input)
        .await
    {
        Ok(r) => Ok(Redirect::to(&format!("/rolls/{}", r.id)).into_response()),
        Err(e) => render_rolls(&state, &user, Some(refusal(e)?)).await,
    }
}

pub async fn roll(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Query(f): Query<Fields>,
) -> Result<Response, PageError> {
    let page = field(&f, "page").parse().unwrap_or(1);
    let status = Some(field(&f, "status")).filter(|s| !s.is_empty());
    render_roll(&state, &user, id, page, status, None).await
}

async fn render_roll(
    state: &AppState,
    user: &WebUser,
    id: i64,
    page: i64,
    status: Option<&str>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let payments = state.services.payments();
    let roll = payments.roll_lines(&user.actor, id, page, status).await?;
    let layouts = payments.bank_templates(&user.actor).await?;
    let html = state.templates.render(
        "roll.html",
        context! { ..frame(user, "/rolls"), ..context! {
            r => roll, error => error, layouts => layouts,
            can_approve => user.actor.role.allows(Permission::ApproveAssistance),
            me => user.actor.display_name,
        }},
    )?;
    Ok(page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub async fn advance(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, step)): Path<(i64, String)>,
) -> Result<Response, PageError> {
    match state
        .services
        .payments()
        .advance(&user.actor, id, &step)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/rolls/{id}")).into_response()),
        Err(e) => render_roll(&state, &user, id, 1, None, Some(refusal(e)?)).await,
    }
}

/// The bank file in the layout picked on the roll's page.
pub async fn bank_file(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Query(f): Query<Fields>,
) -> Result<Response, PageError> {
    let unit = user.actor.region.as_str().to_string();
    let code = Some(field(&f, "layout"))
        .filter(|c| !c.is_empty())
        .unwrap_or("pipe");
    let payments = state.services.payments();
    let file = match payments.bank_template(code).await {
        Ok(t) => payments
            .bank_file_with(&user.actor, id, &unit, &t)
            .await
            .map(|bytes| (t, bytes)),
        Err(e) => Err(e),
    };
    match file {
        Ok((t, bytes)) => {
            let ext = if t.separator == ',' { "csv" } else { "txt" };
            Ok((
                [
                    (
                        axum::http::header::CONTENT_TYPE,
                        format!("text/plain; charset={}", t.encoding.label()),
                    ),
                    (
                        axum::http::header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"roll-{id}-{code}.{ext}\""),
                    ),
                ],
                bytes,
            )
                .into_response())
        }
        Err(e) => render_roll(&state, &user, id, 1, None, Some(refusal(e)?)).await,
    }
}

fn payee_input(f: &Fields) -> PayeeInput {
    let guardian = field(f, "guardian_id").trim();
    PayeeInput {
        person_id: if guardian.is_empty() {
            field(f, "person_id").parse().unwrap_or(0)
        } else {
            guardian.parse().unwrap_or(0)
        },
        guardian: !guardian.is_empty(),
        holder_name: field(f, "holder_name").to_string(),
        bank: field(f, "bank").to_string(),
        account: field(f, "account").to_string(),
    }
}

/// The payee form of a one-off award, on the household's file.
pub async fn set_award_payee(
    State(state): State<AppState>,
    user: WebUser,
    Path((household, award)): Path<(i64, i64)>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let file = |n, e| super::recipients::render_file(&state, &user, household, n, e);
    match state
        .services
        .payments()
        .set_award_payee(&user.actor, award, &payee_input(&f))
        .await
    {
        Ok(p) => {
            file(
                Some(format!(
                    "已登记收款账户：{}，{}",
                    p.holder_name, p.account_masked
                )),
                None,
            )
            .await
        }
        Err(e) => file(None, Some(refusal(e)?)).await,
    }
}

/// Money obtained wrongly, entered from the household's file.
pub async fn add_receivable(
    State(state): State<AppState>,
    user: WebUser,
    Path(household): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let file = |n, e| super::recipients::render_file(&state, &user, household, n, e);
    let amount = match Money::parse_yuan(field(&f, "amount_yuan")) {
        Ok(m) => m.fen(),
        Err(e) => return file(None, Some(format!("应追回金额：{e}"))).await,
    };
    let input = ReceivableInput {
        household_id: household,
        amount_fen: amount,
        cause: field(&f, "cause").to_string(),
    };
    match state
        .services
        .payments()
        .add_receivable(&user.actor, &input)
        .await
    {
        Ok(r) => {
            file(
                Some(format!("已列入应追回{}元", Money::from_fen(r.amount_fen))),
                None,
            )
            .await
        }
        Err(e) => file(None, Some(refusal(e)?)).await,
    }
}

/// The payee form on an enrolment's page.
pub async fn set_payee(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let input = payee_input(&f);
    match state
        .services
        .payments()
        .set_payee(&user.actor, id, &input)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/enrolments/{id}")).into_response()),
        Err(e) => super::recipients::enrolment_with_error(&state, &user, id, refusal(e)?, &f).await,
    }
}

/// Money to be recovered, with a recovery form on each line still owed.
pub async fn receivables(
    State(state): State<AppState>,
    user: WebUser,
) -> Result<Response, PageError> {
    render_receivables(&state, &user, None, None).await
}

async fn render_receivables(
    state: &AppState,
    user: &WebUser,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let list = state.services.payments().receivables(&user.actor).await?;
    let outstanding: i64 = list.iter().map(|r| r.outstanding_fen).sum();
    let html = state.templates.render(
        "receivables.html",
        context! { ..frame(user, "/receivables"), ..context! {
            list => list, outstanding => outstanding, notice => notice, error => error,
            can_recover => user.actor.role.allows(Permission::ManageRecipients),
            can_deduct => user.actor.role.allows(Permission::ApproveAssistance),
        }},
    )?;
    Ok(page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub async fn recover(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let amount = match jiuzhu_domain::Money::parse_yuan(field(&f, "amount_yuan")) {
        Ok(m) => m.fen(),
        Err(e) => {
            return render_receivables(&state, &user, None, Some(format!("追回金额：{e}"))).await
        }
    };
    let input = jiuzhu_services::payments::RecoveryInput {
        amount_fen: amount,
        method: field(&f, "method").to_string(),
        note: field(&f, "note").to_string(),
    };
    match state
        .services
        .payments()
        .recover(&user.actor, id, &input)
        .await
    {
        Ok(r) => {
            let notice = format!(
                "已记录追回{}元{}",
                jiuzhu_domain::Money::from_fen(amount),
                if r.cleared {
                    "，该笔已追回完毕"
                } else {
                    ""
                }
            );
            render_receivables(&state, &user, Some(notice), None).await
        }
        Err(e) => render_receivables(&state, &user, None, Some(refusal(e)?)).await,
    }
}

/// Withholding from later payments, set on the 追回 page.
pub async fn set_deduction(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let per_month = match Money::parse_yuan(field(&f, "per_month_yuan")) {
        Ok(m) => m.fen(),
        Err(e) => {
            return render_receivables(&state, &user, None, Some(format!("每月扣减：{e}"))).await
        }
    };
    match state
        .services
        .payments()
        .set_deduction(
            &user.actor,
            id,
            &DeductionInput {
                per_month_fen: per_month,
            },
        )
        .await
    {
        Ok(_) => {
            let notice = if per_month == 0 {
                "已停止从后续发放中扣减".to_string()
            } else {
                format!(
                    "此后每月从发放中扣减{}元，直至追回完毕（每次不超过当月发放额的规定比例）",
                    Money::from_fen(per_month)
                )
            };
            render_receivables(&state, &user, Some(notice), None).await
        }
        Err(e) => render_receivables(&state, &user, None, Some(refusal(e)?)).await,
    }
}

/// The banks' layouts, and a form to add one.
pub async fn bank_templates(
    State(state): State<AppState>,
    user: WebUser,
) -> Result<Response, PageError> {
    render_templates(&state, &user, None, None, &Fields::new()).await
}

async fn render_templates(
    state: &AppState,
    user: &WebUser,
    notice: Option<String>,
    error: Option<String>,
    typed: &Fields,
) -> Result<Response, PageError> {
    let list = state
        .services
        .payments()
        .bank_templates(&user.actor)
        .await?;
    let columns: Vec<_> = jiuzhu_domain::payment::BankColumn::ALL
        .iter()
        .map(|c| context! { code => c.code(), label => c.label() })
        .collect();
    let html = state.templates.render(
        "bank_templates.html",
        context! { ..frame(user, "/bank-templates"), ..context! {
            list => list, notice => notice, error => error, columns => columns,
            typed => typed.iter().cloned().collect::<std::collections::HashMap<_, _>>(),
            can_edit => user.actor.role.allows(Permission::EditCatalogue),
        }},
    )?;
    Ok(page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub async fn put_bank_template(
    State(state): State<AppState>,
    user: WebUser,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    // Columns are picked position by position (第1列, 第2列, …); blanks are skipped.
    let columns: Vec<String> = (1..=7)
        .map(|i| field(&f, &format!("col_{i}")).to_string())
        .filter(|c| !c.is_empty())
        .collect();
    let input = BankTemplateInput {
        code: field(&f, "code").to_string(),
        name: field(&f, "name").to_string(),
        columns,
        separator: field(&f, "separator").to_string(),
        encoding: field(&f, "encoding").to_string(),
        summary_line: !field(&f, "summary_line").is_empty(),
        header_row: !field(&f, "header_row").is_empty(),
        total_row: !field(&f, "total_row").is_empty(),
        amount_in_fen: field(&f, "amount_unit") == "fen",
    };
    match state
        .services
        .payments()
        .put_bank_template(&user.actor, &input)
        .await
    {
        Ok(t) => {
            render_templates(
                &state,
                &user,
                Some(format!("已保存模板“{}”", t.name)),
                None,
                &Fields::new(),
            )
            .await
        }
        Err(e) => render_templates(&state, &user, None, Some(refusal(e)?), &f).await,
    }
}
