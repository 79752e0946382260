use jiuzhu_store::StoreError;
use serde::Serialize;
use thiserror::Error;

/// What a use case can refuse, each with a stable code, a Chinese message and, where it
/// concerns one input, the field.
#[derive(Debug, Error)]
pub enum ServiceError {
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{message}")]
    Conflict {
        field: Option<String>,
        message: String,
    },
    /// Also what a record outside the caller's region looks like: its existence is not revealed.
    #[error("记录不存在或不在您的管辖范围内")]
    NotFound,
    #[error("您的角色无权进行此操作")]
    Forbidden,
    #[error("记录已被他人修改，请刷新后重试")]
    Stale,
    #[error("用户名或密码错误")]
    BadCredentials,
    #[error("账号因多次登录失败已锁定，请于{until}后再试或联系管理员")]
    Locked { until: String },
    #[error("登录已过期，请重新登录")]
    Unauthenticated,
    #[error("服务内部错误，请稍后重试（已记录）")]
    Internal(#[source] StoreError),
}

impl ServiceError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ServiceError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Invalid { .. } => "invalid",
            ServiceError::Conflict { .. } => "conflict",
            ServiceError::NotFound => "not_found",
            ServiceError::Forbidden => "forbidden",
            ServiceError::Stale => "stale",
            ServiceError::BadCredentials => "bad_credentials",
            ServiceError::Locked { .. } => "locked",
            ServiceError::Unauthenticated => "unauthenticated",
            ServiceError::Internal(_) => "internal",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            ServiceError::Invalid { field, .. } => Some(field),
            ServiceError::Conflict { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code().to_string(),
            message: self.to_string(),
            field: self.field().map(str::to_string),
        }
    }
}

/// The JSON of every API error.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine code: invalid, conflict, not_found, forbidden, stale, bad_credentials,
    /// locked, unauthenticated, csrf, rate_limited, payload, internal.
    pub code: String,
    /// What went wrong, in Chinese, for the user.
    pub message: String,
    /// The input field concerned, when there is one.
    pub field: Option<String>,
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Stale => ServiceError::Stale,
            StoreError::Duplicate(what) => ServiceError::Conflict {
                field: None,
                message: format!("记录已存在（{what}）"),
            },
            other => ServiceError::Internal(other),
        }
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
