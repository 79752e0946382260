use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use jiuzhu_services::catalogue::ItemInput;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::people::refusal;
use crate::auth::WebUser;
use crate::error::PageError;
use crate::render::frame;
use crate::AppState;

pub async fn list(State(state): State<AppState>, user: WebUser) -> Result<Html<String>, PageError> {
    let c = state.services.catalogue().all().await?;
    state.templates.render(
        "catalogue.html",
        context! { ..frame(&user, "/catalogue"), ..context! { departments => c.departments, items => c.items }},
    )
}

pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    Path(code): Path<String>,
) -> Result<Html<String>, PageError> {
    let item = state.services.catalogue().item(&code).await?;
    state.templates.render(
        "item.html",
        context! { ..frame(&user, "/catalogue"), ..context! { item => item }},
    )
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ItemForm {
    name: String,
    time_limit_days: String,
    time_limit_source: String,
    materials: String,
    guide: String,
    revision: i64,
    /// The checkbox: present when ticked.
    recurring: Option<String>,
}

async fn render_form(
    state: &AppState,
    user: &WebUser,
    code: &str,
    form: Option<ItemForm>,
    error: Option<String>,
) -> Result<Response, PageError> {
    if !user
        .actor
        .role
        .allows(jiuzhu_domain::Permission::EditCatalogue)
    {
        return Err(jiuzhu_services::ServiceError::Forbidden.into());
    }
    let item = state.services.catalogue().item(code).await?;
    let form = form.unwrap_or_else(|| ItemForm {
        name: item.name.clone(),
        time_limit_days: item.time_limit_days.to_string(),
        time_limit_source: item.time_limit_source.clone(),
        materials: item.materials.join("\n"),
        guide: item.guide.clone(),
        revision: item.revision,
        recurring: item.recurring.then(|| "on".to_string()),
    });
    let html = state.templates.render(
        "item_form.html",
        context! { ..frame(user, "/catalogue"), ..context! { item => item, form => form, error => error }},
    )?;
    Ok(html.into_response())
}

pub async fn edit_form(
    State(state): State<AppState>,
    user: WebUser,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    render_form(&state, &user, &code, None, None).await
}

pub async fn update(
    State(state): State<AppState>,
    user: WebUser,
    Path(code): Path<String>,
    Form(form): Form<ItemForm>,
) -> Result<Response, PageError> {
    let result = match form.time_limit_days.trim().parse::<u32>() {
        Ok(days) => {
            let input = ItemInput {
                name: form.name.clone(),
                time_limit_days: days,
                time_limit_source: form.time_limit_source.clone(),
                materials: form.materials.lines().map(str::to_string).collect(),
                guide: form.guide.clone(),
                revision: form.revision,
                recurring: Some(form.recurring.is_some()),
            };
            state
                .services
                .catalogue()
                .update_item(&user.actor, &code, &input)
                .await
        }
        Err(_) => Err(jiuzhu_services::ServiceError::invalid(
            "time_limit_days",
            "办理时限应为整数个工作日",
        )),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/catalogue/{code}")).into_response()),
        Err(e) => render_form(&state, &user, &code, Some(form), Some(refusal(e)?)).await,
    }
}
