//! The organisations the window refers cases to: charities, social-work organisations, volunteer
//! and neighbour mutual-aid teams, kept by the bureau.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use jiuzhu_services::organisations::{OrganisationInput, KINDS};
use minijinja::context;
use serde::Deserialize;

use super::people::refusal;
use super::region_names;
use crate::auth::WebUser;
use crate::error::PageError;
use crate::render::frame;
use crate::AppState;

#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct OrganisationForm {
    name: String,
    kind: String,
    region_code: String,
    services: String,
    contact: String,
    /// The checkbox on an existing organisation: present while it takes referrals.
    active: Option<String>,
}

impl OrganisationForm {
    fn input(&self, new: bool) -> OrganisationInput {
        OrganisationInput {
            name: self.name.clone(),
            kind: self.kind.clone(),
            region_code: self.region_code.clone(),
            services: self.services.clone(),
            contact: self.contact.clone(),
            active: new || self.active.is_some(),
        }
    }
}

async fn render(
    state: &AppState,
    user: &WebUser,
    form: Option<OrganisationForm>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let all = state.services.organisations().all(&user.actor).await?;
    let regions = state.services.regions().list(&user.actor).await?;
    let names = region_names(&regions);
    // Organisations serve a county or a township.
    let places: Vec<_> = regions
        .iter()
        .filter(|r| r.level == "county" || r.level == "township")
        .map(|r| context! { code => r.code, label => r.name })
        .collect();
    let kinds: Vec<_> = KINDS
        .iter()
        .map(|(code, label)| context! { code => code, label => label })
        .collect();
    let rows: Vec<_> = all
        .iter()
        .map(|o| {
            let kind = KINDS
                .iter()
                .find(|(k, _)| *k == o.kind)
                .map_or("其他", |(_, l)| *l);
            context! { o => o, kind_label => kind, place => names.get(&o.region_code).cloned().unwrap_or_default() }
        })
        .collect();
    let html = state.templates.render(
        "organisations.html",
        context! { ..frame(user, "/organisations"), ..context! {
            rows => rows, places => places, kinds => kinds, form => form, error => error,
        }},
    )?;
    Ok(super::page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub async fn list(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    render(&state, &user, None, None).await
}

pub async fn create(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<OrganisationForm>,
) -> Result<Response, PageError> {
    match state
        .services
        .organisations()
        .add(&user.actor, &form.input(true))
        .await
    {
        Ok(_) => Ok(Redirect::to("/organisations").into_response()),
        Err(e) => render(&state, &user, Some(form), Some(refusal(e)?)).await,
    }
}

pub async fn update(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(form): Form<OrganisationForm>,
) -> Result<Response, PageError> {
    match state
        .services
        .organisations()
        .update(&user.actor, id, &form.input(false))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/organisations#org-{id}")).into_response()),
        Err(e) => render(&state, &user, None, Some(refusal(e)?)).await,
    }
}
