//! Key rotation (`jiuzhu rekey`): after a new key is added to the key file and the servers are
//! restarted with it (they then write under it and still read the older keys), every value
//! encrypted under an older key or algorithm is re-encrypted, a batch per transaction, while the
//! platform serves. The run records where it is, so an interrupted one resumes there.

use jiuzhu_store::{Interface, ENCRYPTED};
use serde::Serialize;
use serde_json::json;

use crate::{Actor, Keys, Result, ServiceError};

const PROGRESS: &str = "rekey_progress";

/// What a rotation re-encrypted.
#[derive(Debug, Clone, Serialize)]
pub struct RekeyReport {
    pub key_id: u8,
    pub algorithm: &'static str,
    /// Per column, `table.column` and the values rewritten in this run.
    pub columns: Vec<(String, u64)>,
    /// True when the run continued one that was interrupted.
    pub resumed: bool,
    /// False when it stopped at its batch limit: the next run continues.
    pub finished: bool,
}

impl Keys<'_> {
    /// Re-encrypts every stale value under the current key, `batch` rows at a time, stopping
    /// after `limit_batches` when given (a maintenance window; the next run continues);
    /// `progress` hears of each batch (column, last row, values rewritten so far in it).
    pub async fn rekey(
        &self,
        actor: &Actor,
        batch: i64,
        limit_batches: Option<u64>,
        mut progress: impl FnMut(&str, i64, u64),
    ) -> Result<RekeyReport> {
        if !(actor.user_id.is_none() && actor.interface == Interface::Cli) {
            return Err(ServiceError::Forbidden);
        }
        let cipher = self.store.cipher();
        let run = format!("{}:{}", cipher.current_key(), cipher.algorithm().name());
        let (mut which, mut after, resumed) = {
            let mut tx = self.store.begin_read().await?;
            match tx.setting(PROGRESS).await?.as_deref().and_then(|p| {
                let (r, rest) = p.rsplit_once('@')?;
                let (w, a) = rest.split_once(':')?;
                (r == run).then(|| Some((w.parse().ok()?, a.parse().ok()?)))?
            }) {
                Some((w, a)) => (w, a, true),
                None => (0usize, 0i64, false),
            }
        };
        let mut columns: Vec<(String, u64)> = ENCRYPTED
            .iter()
            .map(|(t, c, _)| (format!("{t}.{c}"), 0))
            .collect();
        let mut batches = 0u64;
        while which < ENCRYPTED.len() {
            if limit_batches.is_some_and(|n| batches >= n) {
                return Ok(RekeyReport {
                    key_id: cipher.current_key(),
                    algorithm: cipher.algorithm().name(),
                    columns,
                    resumed,
                    finished: false,
                });
            }
            batches += 1;
            let mut tx = self.store.begin().await?;
            let (last, rewritten) = tx.rekey_batch(which, after, batch.max(1)).await?;
            columns[which].1 += rewritten;
            match last {
                Some(id) => after = id,
                None => {
                    which += 1;
                    after = 0;
                }
            }
            tx.set_setting(PROGRESS, &format!("{run}@{which}:{after}"))
                .await?;
            tx.commit().await?;
            if let Some((name, n)) = columns.get(which.min(ENCRYPTED.len() - 1)) {
                progress(name, after, *n);
            }
        }
        let mut tx = self.store.begin().await?;
        tx.rekey_check_value().await?;
        tx.set_setting(PROGRESS, &format!("{run}@done")).await?;
        tx.append_audit(&actor.audit(
            "keys.rekey",
            "setting",
            "encryption",
            None,
            json!({"key_id": cipher.current_key(), "algorithm": cipher.algorithm().name(), "rewritten": columns, "resumed": resumed}),
        ))
        .await?;
        tx.commit().await?;
        Ok(RekeyReport {
            key_id: cipher.current_key(),
            algorithm: cipher.algorithm().name(),
            columns,
            resumed,
            finished: true,
        })
    }
}
