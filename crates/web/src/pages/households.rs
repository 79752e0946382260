use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use jiuzhu_domain::{IncomeKind, Money, Relation};
use jiuzhu_services::households::{
    HouseholdInput, HouseholdQuery, HouseholdUpdate, IncomeInput, MemberInput,
};
use jiuzhu_services::people::PersonQuery;
use jiuzhu_services::ServiceError;
use minijinja::context;
use serde::Deserialize;

use super::people::refusal;
use super::{opt, page_or_reason, region_names, village_options};
use crate::auth::WebUser;
use crate::error::PageError;
use crate::render::frame;
use crate::AppState;

pub async fn list(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<HouseholdQuery>,
) -> Result<Html<String>, PageError> {
    let regions = state.services.regions().list(&user.actor).await?;
    let (page, error) = page_or_reason(
        state.services.households().search(&user.actor, &q).await,
        50,
    )?;
    state.templates.render(
        "households_list.html",
        context! { ..frame(&user, "/households"), ..context! {
            page => page, error => error, q => q.q.unwrap_or_default(), region => q.region.unwrap_or_default(),
            regions => regions.iter().filter(|r| r.level != "county").collect::<Vec<_>>(),
            region_names => region_names(&regions),
        }},
    )
}

pub(crate) fn relations() -> BTreeMap<&'static str, &'static str> {
    Relation::ALL
        .iter()
        .map(|r| (r.code(), r.label()))
        .collect()
}

pub(crate) async fn render_household(
    state: &AppState,
    user: &WebUser,
    id: i64,
    error: Option<String>,
) -> Result<Response, PageError> {
    let v = state.services.households().get(&user.actor, id).await?;
    let current: Vec<_> = v.household.current_members().cloned().collect();
    let past: Vec<_> = v
        .household
        .members
        .iter()
        .filter(|m| m.to_date.is_some())
        .cloned()
        .collect();
    let member_names: BTreeMap<String, String> = v
        .household
        .members
        .iter()
        .map(|m| (m.person_id.to_string(), m.name.clone()))
        .collect();
    let cases: Vec<_> = state
        .services
        .cases().of_household(&user.actor, id)
        .await?
        .into_iter()
        .map(|c| {
            let channel = jiuzhu_domain::case::Channel::from_code(&c.channel).map_or("", |x| x.label());
            context! { id => c.id, filed_at => c.filed_at, channel => channel, closed => c.status == "closed" }
        })
        .collect();
    let income_kinds: BTreeMap<&str, &str> = IncomeKind::ALL
        .iter()
        .map(|k| (k.code(), k.label()))
        .collect();
    let incomes: Vec<_> = v
        .incomes
        .iter()
        .map(|i| context! { id => i.id, person_id => i.person_id.to_string(), kind => i.kind.code(), monthly => i.monthly.fen(), since => i.since, source => i.source })
        .collect();
    let html = state.templates.render(
        "household.html",
        context! { ..frame(user, "/households"), ..context! {
            h => v.household, head_name => v.head_name, region_name => v.region_name, current => current, past => past,
            incomes => incomes, member_names => member_names, income_kinds => income_kinds, relations => relations(),
            counted_monthly_income => v.counted_monthly_income.fen(),
            per_capita_monthly_income => v.per_capita_monthly_income.fen(), error => error, cases => cases,
        }},
    )?;
    Ok(super::page_reply(
        html,
        &error,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    render_household(&state, &user, id, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    head: i64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct HouseholdForm {
    region_code: String,
    address: String,
    head_person_id: i64,
    from_date: String,
    revision: i64,
}

fn date(field: &str, s: &str) -> Result<Option<NaiveDate>, ServiceError> {
    opt(s)
        .map(|d| {
            d.parse::<NaiveDate>()
                .map_err(|_| ServiceError::invalid(field, "日期格式应为 YYYY-MM-DD"))
        })
        .transpose()
}

async fn render_new(
    state: &AppState,
    user: &WebUser,
    form: &HouseholdForm,
    error: Option<String>,
) -> Result<Response, PageError> {
    let head = state
        .services
        .people()
        .get(&user.actor, form.head_person_id, false)
        .await?;
    let regions = state.services.regions().list(&user.actor).await?;
    let region_code = if form.region_code.is_empty() {
        head.residence_region.clone()
    } else {
        form.region_code.clone()
    };
    let html = state.templates.render(
        "household_form.html",
        context! { ..frame(user, "/households"), ..context! {
            head_person_id => head.id, head_name => format!("{}（{}）", head.name, head.id_number),
            region_code => region_code, villages => village_options(&regions), address => form.address,
            error => error, revision => 0,
        }},
    )?;
    Ok(html.into_response())
}

pub async fn new_form(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<NewQuery>,
) -> Result<Response, PageError> {
    render_new(
        &state,
        &user,
        &HouseholdForm {
            head_person_id: q.head,
            ..Default::default()
        },
        None,
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<HouseholdForm>,
) -> Result<Response, PageError> {
    let result = match date("from_date", &form.from_date) {
        Ok(from_date) => {
            let input = HouseholdInput {
                region_code: form.region_code.clone(),
                address: form.address.clone(),
                head_person_id: form.head_person_id,
                from_date,
            };
            state
                .services
                .households()
                .create(&user.actor, &input)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(v) => Ok(Redirect::to(&format!("/households/{}", v.household.id)).into_response()),
        Err(e) => render_new(&state, &user, &form, Some(refusal(e)?)).await,
    }
}

async fn render_edit(
    state: &AppState,
    user: &WebUser,
    id: i64,
    address: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let v = state.services.households().get(&user.actor, id).await?;
    let members: Vec<_> = v.household.current_members().cloned().collect();
    let html = state.templates.render(
        "household_form.html",
        context! { ..frame(user, "/households"), ..context! {
            household_id => id, members => members, head_person_id => v.household.head_person_id,
            address => address.unwrap_or(v.household.address.clone()), revision => v.household.revision, error => error,
        }},
    )?;
    Ok(html.into_response())
}

pub async fn edit_form(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    render_edit(&state, &user, id, None, None).await
}

pub async fn update(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(form): Form<HouseholdForm>,
) -> Result<Response, PageError> {
    let input = HouseholdUpdate {
        address: form.address.clone(),
        head_person_id: form.head_person_id,
        revision: form.revision,
    };
    match state
        .services
        .households()
        .update(&user.actor, id, &input)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/households/{id}")).into_response()),
        Err(e) => render_edit(&state, &user, id, Some(form.address), Some(refusal(e)?)).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AddMemberForm {
    id_number: String,
    relation: String,
    from_date: String,
}

pub async fn add_member(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(form): Form<AddMemberForm>,
) -> Result<Response, PageError> {
    let result = async {
        let from_date = date("from_date", &form.from_date)?;
        let found = state
            .services
            .people()
            .search(
                &user.actor,
                &PersonQuery {
                    q: Some(form.id_number.clone()),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| match e {
                ServiceError::Invalid { message, .. } => {
                    ServiceError::invalid("id_number", message)
                }
                other => other,
            })?;
        let person = found.items.first().ok_or_else(|| {
            ServiceError::invalid("id_number", "未找到该身份证号的登记人员，请先登记人员")
        })?;
        let input = MemberInput {
            person_id: person.id,
            relation: form.relation.clone(),
            from_date,
        };
        state
            .services
            .households()
            .add_member(&user.actor, id, &input)
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/households/{id}")).into_response()),
        Err(e) => render_household(&state, &user, id, Some(refusal(e)?)).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EndForm {
    to_date: String,
}

pub async fn end_member(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, member)): Path<(i64, i64)>,
    Form(form): Form<EndForm>,
) -> Result<Response, PageError> {
    let result = match date("to_date", &form.to_date) {
        Ok(to) => {
            state
                .services
                .households()
                .end_membership(&user.actor, id, member, to)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/households/{id}")).into_response()),
        Err(e) => render_household(&state, &user, id, Some(refusal(e)?)).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct IncomeForm {
    person_id: i64,
    kind: String,
    monthly_yuan: String,
    since: String,
    /// `remove` on the delete button; saving otherwise.
    action: String,
}

impl IncomeForm {
    fn input(&self) -> Result<IncomeInput, ServiceError> {
        let monthly = Money::parse_yuan(self.monthly_yuan.trim())
            .map_err(|e| ServiceError::invalid("monthly", e.to_string()))?;
        Ok(IncomeInput {
            person_id: self.person_id,
            kind: self.kind.clone(),
            monthly,
            since: date("since", &self.since)?,
        })
    }
}

pub async fn add_income(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Form(form): Form<IncomeForm>,
) -> Result<Response, PageError> {
    let result = match form.input() {
        Ok(input) => {
            state
                .services
                .households()
                .record_income(&user.actor, id, &input)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/households/{id}#incomes")).into_response()),
        Err(e) => render_household(&state, &user, id, Some(refusal(e)?)).await,
    }
}

pub async fn save_income(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, income)): Path<(i64, i64)>,
    Form(form): Form<IncomeForm>,
) -> Result<Response, PageError> {
    let households = state.services.households();
    let result = if form.action == "remove" {
        households.remove_income(&user.actor, id, income).await
    } else {
        match form.input() {
            Ok(input) => {
                households
                    .change_income(&user.actor, id, income, &input)
                    .await
            }
            Err(e) => Err(e),
        }
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/households/{id}#incomes")).into_response()),
        Err(e) => render_household(&state, &user, id, Some(refusal(e)?)).await,
    }
}
