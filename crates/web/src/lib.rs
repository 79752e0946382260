//! The HTTP front end: server-rendered Chinese pages (plain HTML forms that work without
//! JavaScript and print cleanly) and the `/api/v1` JSON API with its OpenAPI document.
//! Handlers are thin: parse, call one service, render.

pub mod api;
mod auth;
mod error;
pub mod metrics;
mod pages;
mod render;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::{middleware, Router};
use jiuzhu_services::Services;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use auth::LoginLimiter;

/// Settings of the HTTP layer.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure` (set when served over HTTPS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// The reverse proxies in front of the platform. A request from one of them is taken to come
    /// from the address that proxy appended to `X-Forwarded-For` (the rightmost entry that is not
    /// itself a trusted proxy); any other request from its socket address, whatever it claims.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The address applicants reach the platform at (printed on the acceptance form with the
    /// status page), e.g. `https://jiuzhu.zjg.gov.cn`; the address the clerk uses when empty.
    pub public_url: String,
    /// The bureau's telephone for applicants' questions, printed and shown on the status page.
    pub service_phone: String,
}

impl WebConfig {
    pub fn trusts(&self, ip: std::net::IpAddr) -> bool {
        self.trusted_proxies.contains(&ip)
    }
}

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub config: Arc<WebConfig>,
    /// Failed logins per account and address: one person's mistakes never lock out the office
    /// behind the same gateway.
    pub limiter: Arc<LoginLimiter>,
    /// Failed logins per address whatever the account, at a level no office reaches by mistake:
    /// guessing many accounts from one place stays slow.
    pub address_limiter: Arc<LoginLimiter>,
    pub metrics: Arc<metrics::Metrics>,
    /// The applicant's status look-up, by address: guessing form numbers must stay slow.
    pub status_limiter: Arc<LoginLimiter>,
    /// Objections and complaints sent from the public pages, per address.
    pub public_limiter: Arc<LoginLimiter>,
    templates: Arc<render::Templates>,
}

impl AppState {
    pub fn new(services: Services, config: WebConfig) -> AppState {
        AppState {
            services,
            config: Arc::new(config),
            limiter: Arc::new(LoginLimiter::new(10, Duration::from_secs(300))),
            address_limiter: Arc::new(LoginLimiter::new(100, Duration::from_secs(300))),
            metrics: Arc::new(metrics::Metrics::default()),
            status_limiter: Arc::new(LoginLimiter::new(20, Duration::from_secs(600))),
            public_limiter: Arc::new(LoginLimiter::new(10, Duration::from_secs(600))),
            templates: Arc::new(render::Templates::new()),
        }
    }
}

/// Every route of the platform.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::routes())
        .merge(api::routes())
        .route("/healthz", get(health))
        .route("/metrics", get(metrics::metrics))
        .route("/static/app.css", get(css))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::csrf_guard,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::audit_refusals,
        ))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::measure,
        ))
        .layer(DefaultBodyLimit::max(1 << 20))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Headers every answer carries: pages and API answers hold personal data, so no cache keeps
/// them (the style sheet excepted), no other site frames them, and content is what it says.
async fn security_headers(
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let cacheable = req.uri().path().starts_with("/static/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if !cacheable {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    res
}

/// A request that panicked answers the same JSON error as any other failure, and the panic is
/// logged; the server goes on serving.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("-");
    tracing::error!(panic = what, "request panicked");
    axum::response::IntoResponse::into_response(error::ApiError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "服务器内部错误，请稍后再试",
        None,
    ))
}

async fn health(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let backend = match state.services.store.backend() {
        jiuzhu_store::Backend::Sqlite => "sqlite",
        jiuzhu_store::Backend::Postgres => "postgres",
    };
    match state.services.store.ping().await {
        Ok(()) => axum::Json(serde_json::json!({"status": "ok", "database": backend})).into_response(),
        Err(e) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "error", "database": backend, "message": e.to_string()})),
        )
            .into_response(),
    }
}

async fn css() -> impl axum::response::IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        include_str!("../static/app.css"),
    )
}

/// Serves until Ctrl-C or SIGTERM, finishing requests in flight.
pub async fn serve(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_on(state, listener).await
}

pub async fn serve_on(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
