use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::header;
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::Form;
use jiuzhu_domain::Permission;
use jiuzhu_services::ServiceError;
use jiuzhu_store::Interface;
use minijinja::context;
use serde::Deserialize;

use crate::auth::{set_cookie, ClientIp, WebUser, LOGIN_COOKIE, SESSION_COOKIE};
use crate::error::PageError;
use crate::render::frame;
use crate::AppState;

fn login_form(
    state: &AppState,
    error: Option<String>,
    username: &str,
) -> Result<Response, PageError> {
    // Double-submit token for the login form, which has no session yet.
    let token = super::sessionless_token();
    let html = state.templates.render(
        "login.html",
        context! { csrf => token, error => error, username => username },
    )?;
    let status = if error.is_some() {
        axum::http::StatusCode::UNAUTHORIZED
    } else {
        axum::http::StatusCode::OK
    };
    Ok((
        status,
        [(
            header::SET_COOKIE,
            set_cookie(
                LOGIN_COOKIE,
                &token,
                Some(3600),
                state.config.secure_cookies,
            ),
        )],
        html,
    )
        .into_response())
}

pub async fn login_page(State(state): State<AppState>) -> Result<Response, PageError> {
    login_form(&state, None, "")
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    // Only failures count, per account and address: an office behind one gateway signs in all
    // at once every morning, and one clerk's typos are not the office's.
    let account_key = format!("{}\u{0}{ip}", form.username.trim().to_lowercase());
    if state.limiter.blocked(&account_key) || state.address_limiter.blocked(&ip) {
        return login_form(
            &state,
            Some("登录尝试过于频繁，请5分钟后再试".into()),
            &form.username,
        );
    }
    match state
        .services
        .auth()
        .login(&form.username, &form.password, &ip, Interface::Web)
        .await
    {
        Ok(session) => Ok((
            AppendHeaders([
                (
                    header::SET_COOKIE,
                    set_cookie(
                        SESSION_COOKIE,
                        &session.token,
                        None,
                        state.config.secure_cookies,
                    ),
                ),
                (
                    header::SET_COOKIE,
                    set_cookie(LOGIN_COOKIE, "", Some(0), state.config.secure_cookies),
                ),
            ]),
            Redirect::to("/"),
        )
            .into_response()),
        Err(e @ (ServiceError::BadCredentials | ServiceError::Locked { .. })) => {
            state.limiter.record(&account_key);
            state.address_limiter.record(&ip);
            login_form(&state, Some(e.to_string()), &form.username)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

async fn two_factor_form(
    state: &AppState,
    user: &WebUser,
    error: Option<String>,
) -> Result<Response, PageError> {
    let prompt = state
        .services
        .auth()
        .second_factor_prompt(&user.session_token)
        .await?;
    let qr = prompt
        .enrolment
        .as_ref()
        .map(|e| crate::render::qr_svg(&e.uri));
    // The secret in groups of four, as authenticator apps ask for it by hand.
    let grouped = prompt.enrolment.as_ref().map(|e| {
        e.secret
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    });
    let html = state.templates.render(
        "two_factor.html",
        context! {
            csrf => user.csrf, error => error, name => prompt.display_name,
            enrolment => prompt.enrolment, grouped => grouped, qr => qr,
        },
    )?;
    let status = if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, html).into_response())
}

/// The second sign-in step of the administrator roles: bind an authenticator the first time,
/// then give its code.
pub async fn two_factor_page(
    State(state): State<AppState>,
    user: WebUser,
) -> Result<Response, PageError> {
    match two_factor_form(&state, &user, None).await {
        // Already given (a reload after signing in): nothing more to ask.
        Err(PageError::Login) => Ok(Redirect::to("/").into_response()),
        other => other,
    }
}

pub async fn give_two_factor(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: WebUser,
    Form(f): Form<CodeForm>,
) -> Result<Response, PageError> {
    match state
        .services
        .auth()
        .give_second_factor(&user.session_token, &f.code, &ip, Interface::Web)
        .await
    {
        Ok(()) => Ok(Redirect::to("/").into_response()),
        Err(ServiceError::Invalid { message, .. }) => {
            two_factor_form(&state, &user, Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn logout(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    state
        .services
        .auth()
        .logout(&user.session_token, &user.actor)
        .await?;
    Ok((
        [(
            header::SET_COOKIE,
            set_cookie(SESSION_COOKIE, "", Some(0), state.config.secure_cookies),
        )],
        Redirect::to("/login"),
    )
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    current: String,
    password: String,
    confirm: String,
}

async fn password_form(
    state: &AppState,
    user: &WebUser,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let auth = state.services.auth();
    let policy = auth.password_policy().await?;
    let must = auth
        .resolve_session(&user.session_token, &user.actor.ip, Interface::Web)
        .await
        .map(|r| r.must_change_password)
        .unwrap_or(false);
    let html = state.templates.render(
        "password.html",
        context! { ..frame(user, "/password"), ..context! {
            policy => policy, must => must, notice => notice, error => error,
        }},
    )?;
    let status = if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, html).into_response())
}

pub async fn password_page(
    State(state): State<AppState>,
    user: WebUser,
) -> Result<Response, PageError> {
    password_form(&state, &user, None, None).await
}

pub async fn change_password(
    State(state): State<AppState>,
    user: WebUser,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    if f.password != f.confirm {
        return password_form(&state, &user, None, Some("两次输入的新密码不一致".into())).await;
    }
    match state
        .services
        .auth()
        .change_password(&user.actor, &f.current, &f.password)
        .await
    {
        Ok(()) => password_form(&state, &user, Some("密码已修改"), None).await,
        Err(ServiceError::Invalid { message, .. }) => {
            password_form(&state, &user, None, Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn home(State(state): State<AppState>, user: WebUser) -> Result<Html<String>, PageError> {
    let a = &user.actor;
    let overview = state.services.overview(a).await?;
    let regions = state.services.regions().list(a).await?;
    let region_name = regions
        .iter()
        .find(|r| r.code == a.region.as_str())
        .map(|r| r.name.clone())
        .unwrap_or_default();
    let townships: Vec<_> = regions
        .iter()
        .filter(|r| r.level == "township")
        .map(|t| {
            let villages = regions
                .iter()
                .filter(|v| v.parent_code.as_deref() == Some(t.code.as_str()))
                .count();
            context! { code => t.code, name => t.name, villages => villages }
        })
        .collect();
    let (department_name, department_items) = match &a.department {
        Some(d) => {
            let c = state.services.catalogue().all().await?;
            let name = c
                .departments
                .iter()
                .find(|x| &x.code == d)
                .map(|x| x.name.clone());
            (
                name,
                c.items.into_iter().filter(|i| &i.department == d).collect(),
            )
        }
        None => (None, Vec::new()),
    };
    let today = state.services.today_work(a).await?;
    let most = today
        .trend
        .iter()
        .map(|m| m.cases)
        .max()
        .unwrap_or(0)
        .max(1);
    // Bars of the chart, as heights out of 100.
    let bars: Vec<_> = today
        .trend
        .iter()
        .map(|m| {
            context! { month => m.month, cases => m.cases, on_time => m.on_time_percent,
            short => m.month.split('年').nth(1).unwrap_or(&m.month),
            height => m.cases * 100 / most }
        })
        .collect();
    let mut by_township: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_department: BTreeMap<String, i64> = BTreeMap::new();
    for c in &today.overdue {
        *by_township.entry(c.township.clone()).or_default() += c.items;
        *by_department.entry(c.department.clone()).or_default() += c.items;
    }
    let rank = |m: BTreeMap<String, i64>| {
        let mut v: Vec<_> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    };
    state.templates.render(
        "home.html",
        context! {
            ..frame(&user, "/"),
            ..context! {
                today => today,
                bars => bars,
                overdue_total => today.overdue.iter().map(|c| c.items).sum::<i64>(),
                overdue_townships => rank(by_township),
                overdue_departments => rank(by_department),
                date => state.services.today(),
                overview => overview,
                region_name => region_name,
                townships => townships,
                can_read_people => a.role.allows(Permission::ReadPeople),
                department_name => department_name,
                department_items => department_items,
            }
        },
    )
}
