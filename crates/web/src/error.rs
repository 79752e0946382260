//! Errors at the edge: JSON `{code, message, field}` for the API, a Chinese page for the UI.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use jiuzhu_services::{ErrorBody, ServiceError};

fn status(e: &ServiceError) -> StatusCode {
    match e {
        ServiceError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Conflict { .. } | ServiceError::Stale => StatusCode::CONFLICT,
        ServiceError::NotFound => StatusCode::NOT_FOUND,
        ServiceError::Forbidden => StatusCode::FORBIDDEN,
        ServiceError::BadCredentials | ServiceError::Unauthenticated => StatusCode::UNAUTHORIZED,
        ServiceError::Locked { .. } => StatusCode::TOO_MANY_REQUESTS,
        ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An API error: a status and the JSON body.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub ErrorBody);

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &str,
        message: impl Into<String>,
        field: Option<String>,
    ) -> Self {
        ApiError(
            status,
            ErrorBody {
                code: code.into(),
                message: message.into(),
                field,
            },
        )
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        if let ServiceError::Internal(inner) = &e {
            tracing::error!(error = %inner, "internal error");
        }
        ApiError(status(&e), e.body())
    }
}

/// How long a client that was told to slow down should wait: the status look-up's window, and no
/// longer than a lock-out lasts.
const RETRY_AFTER_SECONDS: &str = "600";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.0 == StatusCode::TOO_MANY_REQUESTS {
            return (
                self.0,
                [(axum::http::header::RETRY_AFTER, RETRY_AFTER_SECONDS)],
                Json(self.1),
            )
                .into_response();
        }
        (self.0, Json(self.1)).into_response()
    }
}

/// A page error: the error page, or a redirect to the login page when the session is gone.
#[derive(Debug)]
pub enum PageError {
    Service(ServiceError),
    Login,
    /// The password was reset or has expired: the user chooses a new one first.
    ChangePassword,
    /// Signed in with the password; the second factor is still to be given.
    SecondFactor,
    Csrf,
    Render(String),
}

impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Unauthenticated => PageError::Login,
            other => PageError::Service(other),
        }
    }
}

pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main class=\"narrow\">\
         <h1>{title}</h1><p class=\"error\">{}</p><p><a href=\"javascript:history.back()\">返回上一页</a> · \
         <a href=\"/\">返回首页</a></p></main></body></html>",
        html_escape(message)
    );
    (status, Html(body)).into_response()
}

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Login => Redirect::to("/login").into_response(),
            PageError::ChangePassword => Redirect::to("/password").into_response(),
            PageError::SecondFactor => Redirect::to("/two-factor").into_response(),
            PageError::Csrf => error_page(
                StatusCode::FORBIDDEN,
                "表单已失效",
                "表单校验失败（可能已过期或来自其他网站）。请返回、刷新页面后重新提交。",
            ),
            PageError::Render(e) => {
                tracing::error!(error = %e, "template error");
                error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "页面错误",
                    "页面生成失败，已记录，请稍后重试。",
                )
            }
            PageError::Service(e) => {
                if let ServiceError::Internal(inner) = &e {
                    tracing::error!(error = %inner, "internal error");
                }
                let title = match e {
                    ServiceError::NotFound => "未找到",
                    ServiceError::Forbidden => "无权限",
                    _ => "无法完成操作",
                };
                error_page(status(&e), title, &e.to_string())
            }
        }
    }
}
