use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("数据库错误：{0}")]
    Database(#[source] sqlx::Error),
    /// A unique constraint refused the write; the text names the constraint or column.
    #[error("记录已存在（{0}）")]
    Duplicate(String),
    #[error("记录不存在")]
    NotFound,
    /// The record changed since it was read (optimistic concurrency on `revision`).
    #[error("记录已被他人修改，请刷新后重试")]
    Stale,
    #[error("数据库配置错误：{0}")]
    Config(String),
    #[error("加密数据无法解密：{0}")]
    Crypto(String),
    #[error("数据库中的数据不符合规则：{0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                let what = db
                    .constraint()
                    .map(str::to_string)
                    .unwrap_or_else(|| db.message().to_string());
                return StoreError::Duplicate(what);
            }
        }
        if let sqlx::Error::RowNotFound = e {
            return StoreError::NotFound;
        }
        StoreError::Database(e)
    }
}
