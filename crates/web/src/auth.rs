//! Who is asking: session cookies for people, bearer tokens for department systems, the CSRF
//! guard on every form, and login rate limiting.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiuzhu_services::auth::ResolvedSession;
use jiuzhu_services::{Actor, ServiceError};
use jiuzhu_store::Interface;

use crate::error::{ApiError, PageError};
use crate::AppState;

pub const SESSION_COOKIE: &str = "jz_session";
pub const LOGIN_COOKIE: &str = "jz_login";

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// The client's address: the socket peer, or, when the peer is a trusted proxy, the address the
/// proxies appended to `X-Forwarded-For`. Entries a client wrote itself stand to the left of what
/// the proxies appended, so the list is read from the right and only past trusted proxies.
pub fn client_ip(parts: &Parts, state: &AppState) -> String {
    let Some(peer) = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    else {
        return "unknown".into();
    };
    forwarded_client(peer, &parts.headers, &state.config).to_string()
}

fn forwarded_client(peer: IpAddr, headers: &HeaderMap, config: &crate::WebConfig) -> IpAddr {
    if !config.trusts(peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !config.trusts(ip) {
                    break;
                }
            }
            // Not an address a proxy writes: stop at the last hop a trusted proxy vouched for.
            Err(_) => break,
        }
    }
    client
}

/// A signed-in person using the pages.
#[derive(Debug, Clone)]
pub struct WebUser {
    pub actor: Actor,
    /// Where the user works, by name, for the page header.
    pub region_name: String,
    pub csrf: String,
    pub session_token: String,
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(PageError::Login)?;
        let resolved = match parts.extensions.get::<ResolvedSession>() {
            Some(resolved) => resolved.clone(),
            None => {
                let ip = client_ip(parts, state);
                state
                    .services
                    .auth()
                    .resolve_session(&token, &ip, Interface::Web)
                    .await?
            }
        };
        // The second factor comes before anything else, then a reset or expired password.
        if resolved.second_factor_pending && !matches!(parts.uri.path(), "/two-factor" | "/logout")
        {
            return Err(PageError::SecondFactor);
        }
        if resolved.must_change_password && !matches!(parts.uri.path(), "/password" | "/logout") {
            return Err(PageError::ChangePassword);
        }
        let region_name = state
            .services
            .regions()
            .name_of(resolved.actor.region.as_str())
            .await
            .unwrap_or_default();
        Ok(WebUser {
            region_name,
            actor: resolved.actor,
            csrf: resolved.csrf_token,
            session_token: token,
        })
    }
}

/// A caller of the JSON API: a department system with a bearer token, or a signed-in person
/// whose unsafe requests carry the session's CSRF token in `X-CSRF-Token`.
#[derive(Debug, Clone)]
pub struct ApiUser(pub Actor);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = client_ip(parts, state);
        if let Some(auth) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            let token = auth.strip_prefix("Bearer ").ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "Authorization 头应为 Bearer 令牌",
                    None,
                )
            })?;
            return Ok(ApiUser(
                state
                    .services
                    .auth()
                    .resolve_token(token.trim(), &ip)
                    .await?,
            ));
        }
        let token = cookie(&parts.headers, SESSION_COOKIE)
            .ok_or_else(|| ApiError::from(ServiceError::Unauthenticated))?;
        let resolved = state
            .services
            .auth()
            .resolve_session(&token, &ip, Interface::Api)
            .await?;
        if resolved.second_factor_pending {
            return Err(ServiceError::Unauthenticated.into());
        }
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(sent, &resolved.csrf_token) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "缺少或错误的 X-CSRF-Token 请求头",
                    None,
                ));
            }
        }
        Ok(ApiUser(resolved.actor))
    }
}

pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Every unsafe request to a page must carry the session's CSRF token in its `_csrf` field (the
/// login form: the token of its pre-login cookie), and come from this site when the browser says
/// where it comes from. The API checks its own callers in [`ApiUser`].
pub async fn csrf_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe || request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let multipart = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    if let (Some(origin), Some(host)) = (
        parts
            .headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok()),
        parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok()),
    ) {
        let origin_host = origin.split("://").nth(1).unwrap_or(origin);
        if origin != "null" && origin_host != host {
            return PageError::Csrf.into_response();
        }
    }
    // A file upload carries its token in the address of its form, so the file itself is not
    // read here; only the public upload page takes one.
    if multipart {
        let sent = parts
            .uri
            .query()
            .and_then(|q| form_field(q.as_bytes(), "_csrf"))
            .unwrap_or_default();
        let expected = (parts.uri.path() == "/public/materials")
            .then(|| cookie(&parts.headers, LOGIN_COOKIE))
            .flatten();
        return match expected {
            Some(expected) if !sent.is_empty() && constant_time_eq(&sent, &expected) => {
                next.run(Request::from_parts(parts, body)).await
            }
            _ => PageError::Csrf.into_response(),
        };
    }
    let bytes = match to_bytes(body, 1 << 20).await {
        Ok(b) => b,
        Err(_) => {
            return crate::error::error_page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "提交内容过大",
                "表单内容超过1MB。",
            )
        }
    };
    let sent = form_field(&bytes, "_csrf").unwrap_or_default();
    // The login form and the public forms have no session: their token is a cookie set with
    // the form (double submit).
    let expected = if parts.uri.path() == "/login" || parts.uri.path().starts_with("/public/") {
        cookie(&parts.headers, LOGIN_COOKIE)
    } else {
        match cookie(&parts.headers, SESSION_COOKIE) {
            Some(token) => {
                let ip = client_ip(&parts, &state);
                match state
                    .services
                    .auth()
                    .resolve_session(&token, &ip, Interface::Web)
                    .await
                {
                    Ok(resolved) => {
                        let csrf = resolved.csrf_token.clone();
                        parts.extensions.insert(resolved);
                        Some(csrf)
                    }
                    Err(_) => return PageError::Login.into_response(),
                }
            }
            None => return PageError::Login.into_response(),
        }
    };
    match expected {
        Some(expected) if !sent.is_empty() && constant_time_eq(&sent, &expected) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        _ => PageError::Csrf.into_response(),
    }
}

/// Counts attempts per client address in a window (failed logins, status look-ups), in memory. One server holds
/// its own counts; the per-account lock-out in the database holds across servers.
pub struct LoginLimiter {
    max: u32,
    window: Duration,
    seen: Mutex<HashMap<String, (Instant, u32)>>,
}

impl LoginLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        LoginLimiter {
            max,
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Records an attempt; false when this address has used up its attempts for the window.
    pub fn allow(&self, ip: &str) -> bool {
        self.record(ip);
        !self.blocked(ip)
    }

    /// Whether this address has used up its attempts for the window, without counting one.
    pub fn blocked(&self, ip: &str) -> bool {
        let seen = self.seen.lock().expect("limiter lock");
        seen.get(ip).is_some_and(|(start, n)| {
            Instant::now().duration_since(*start) < self.window && *n > self.max
        })
    }

    /// Counts one attempt of this address (for logins: a failed one).
    pub fn record(&self, ip: &str) {
        let now = Instant::now();
        let mut seen = self.seen.lock().expect("limiter lock");
        if seen.len() > 100_000 {
            seen.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = seen.entry(ip.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}

/// Records every refused access of someone signed in (a 403, or a 404 that may hide a record
/// outside their region) in the audit log: probing leaves a trace.
pub async fn audit_refusals(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    // What browsers ask for on their own (icons, robots) is no access to anything.
    if path.starts_with("/static/")
        || matches!(
            path.as_str(),
            "/healthz" | "/metrics" | "/favicon.ico" | "/robots.txt"
        )
    {
        return next.run(request).await;
    }
    let method = request.method().to_string();
    let (parts, body) = request.into_parts();
    let ip = client_ip(&parts, &state);
    let headers = parts.headers.clone();
    let response = next.run(Request::from_parts(parts, body)).await;
    let status = response.status();
    if status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND {
        let auth = state.services.auth();
        let actor = match headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            Some(token) => auth.resolve_token(token.trim(), &ip).await.ok(),
            None => match cookie(&headers, SESSION_COOKIE) {
                Some(token) => auth
                    .resolve_session(&token, &ip, Interface::Web)
                    .await
                    .ok()
                    .map(|r| r.actor),
                None => None,
            },
        };
        if let Some(actor) = actor {
            let recorded = state
                .services
                .audit()
                .refused(&actor, &method, &path, status.as_u16())
                .await;
            if let Err(e) = recorded {
                tracing::error!(error = %e, "could not record a refused access");
            }
        }
    }
    response
}

/// The client's address as an extractor.
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts, state)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_counts_per_address() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        assert!(l.allow("a") && l.allow("a") && l.allow("a"));
        assert!(!l.allow("a"));
        assert!(l.allow("b"));
    }

    #[test]
    fn only_what_the_trusted_proxy_appended_is_believed() {
        let proxy: IpAddr = "10.1.0.5".parse().unwrap();
        let config = crate::WebConfig {
            trusted_proxies: vec![proxy],
            ..Default::default()
        };
        let mut h = HeaderMap::new();
        // The client forged the first entry; the proxy appended the address it saw.
        h.insert("x-forwarded-for", "1.2.3.4, 203.0.113.7".parse().unwrap());
        assert_eq!(
            forwarded_client(proxy, &h, &config),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        // Straight from the client, the header is ignored.
        let client: IpAddr = "198.51.100.9".parse().unwrap();
        assert_eq!(forwarded_client(client, &h, &config), client);
        // Two proxies in a row: the first one's own address is skipped.
        let edge: IpAddr = "10.1.0.6".parse().unwrap();
        let two = crate::WebConfig {
            trusted_proxies: vec![proxy, edge],
            ..Default::default()
        };
        h.insert(
            "x-forwarded-for",
            "1.2.3.4, 203.0.113.7, 10.1.0.6".parse().unwrap(),
        );
        assert_eq!(
            forwarded_client(proxy, &h, &two),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        // Garbage appended by nobody trusted stops the walk at the proxy.
        h.insert("x-forwarded-for", "evil".parse().unwrap());
        assert_eq!(forwarded_client(proxy, &h, &config), proxy);
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; jz_session=abc; b=2".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "zz"), None);
    }
}
