//! Named installation settings, and the check that the configured key fits the database.

use crate::{on_tx, Result, StoreError, Tx};

const KEY_CHECK: &str = "key_check";
const KEY_CHECK_PLAIN: &str = "jiuzhu encryption key check";
/// A blind index of a constant: the same key and algorithm must index a database all its life.
const INDEX_CHECK: &str = "index_check";
const INDEX_ALGORITHM: &str = "index_algorithm";

impl Tx {
    pub async fn setting(&mut self, name: &str) -> Result<Option<String>> {
        let v = on_tx!(self, c => sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(c)
            .await)?;
        Ok(v)
    }

    pub async fn set_setting(&mut self, name: &str, value: &str) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value")
            .bind(name)
            .bind(value)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// On first start, records a value encrypted under the key; later starts must decrypt it, so a
/// wrong key is refused before it can write data nobody could read back. The key itself is never
/// stored.
pub(crate) async fn check_key(tx: &mut Tx) -> Result<()> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let checked: Result<()> = match tx.setting(KEY_CHECK).await? {
        None => {
            let blob = tx.cipher().encrypt(KEY_CHECK, KEY_CHECK_PLAIN);
            tx.set_setting(KEY_CHECK, &b64.encode(blob)).await
        }
        Some(stored) => {
            let blob = b64
                .decode(stored)
                .map_err(|e| StoreError::Corrupt(format!("密钥校验值：{e}")))?;
            match tx.cipher().decrypt(KEY_CHECK, &blob) {
                Ok(text) if text == KEY_CHECK_PLAIN => Ok(()),
                _ => Err(StoreError::Config(
                    "加密密钥与数据库不匹配：请使用创建该数据库时的密钥".to_string(),
                )),
            }
        }
    };
    checked?;
    let index = tx.cipher().blind_index(INDEX_CHECK, KEY_CHECK_PLAIN);
    let algorithm = tx.cipher().index_algorithm().name();
    match tx.setting(INDEX_CHECK).await? {
        None => {
            tx.set_setting(INDEX_CHECK, &index).await?;
            tx.set_setting(INDEX_ALGORITHM, algorithm).await?;
        }
        Some(stored) if stored == index => {}
        Some(_) => {
            let recorded = tx.setting(INDEX_ALGORITHM).await?.unwrap_or_default();
            return Err(StoreError::Config(if recorded != algorithm {
                format!(
                    "盲索引算法与数据库不符：数据库使用{recorded}，配置为{algorithm}；盲索引算法在建库时确定，不能更改"
                )
            } else {
                "盲索引密钥与数据库不符：密钥文件中须保留建库时的第一个密钥（轮换后仍用于索引和审计封印）"
                    .to_string()
            }));
        }
    }
    Ok(())
}

/// The key check value encrypted afresh under the current key (after a rotation).
pub(crate) async fn rewrite_key_check(tx: &mut Tx) -> Result<()> {
    use base64::Engine;
    let blob = tx.cipher().encrypt(KEY_CHECK, KEY_CHECK_PLAIN);
    tx.set_setting(
        KEY_CHECK,
        &base64::engine::general_purpose::STANDARD.encode(blob),
    )
    .await
}
