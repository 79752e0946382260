//! Payments on pages: the rolls, one roll with its steps, the bank file, the return (uploaded
//! through the API from the page), and the payee on an enrolment's page.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use jiuzhu_domain::Permission;
use jiuzhu_services::payments::{PayeeInput, RollInput};
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
) -> Result<Response, PageError> {
    render_roll(&state, &user, id, None).await
}

async fn render_roll(
    state: &AppState,
    user: &WebUser,
    id: i64,
    error: Option<String>,
) -> Result<Response, PageError> {
    let roll = state.services.payments().roll(&user.actor, id).await?;
    let html = state.templates.render(
        "roll.html",
        context! { ..frame(user, "/rolls"), ..context! {
            r => roll, error => error,
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
        Err(e) => render_roll(&state, &user, id, Some(refusal(e)?)).await,
    }
}

pub async fn bank_file(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let unit = user.actor.region.as_str().to_string();
    match state
        .services
        .payments()
        .bank_file(&user.actor, id, &unit)
        .await
    {
        Ok(bytes) => Ok((
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; charset=GBK".to_string(),
                ),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"roll-{id}.txt\""),
                ),
            ],
            bytes,
        )
            .into_response()),
        Err(e) => render_roll(&state, &user, id, Some(refusal(e)?)).await,
    }
}

/// The payee form on an enrolment's page.
pub async fn set_payee(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let input = PayeeInput {
        person_id: field(&f, "person_id").parse().unwrap_or(0),
        holder_name: field(&f, "holder_name").to_string(),
        bank: field(&f, "bank").to_string(),
        account: field(&f, "account").to_string(),
    };
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
