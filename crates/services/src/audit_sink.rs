//! Group commit for the audit rows of reads. Every read of a person's or a case's record must be
//! recorded before the record is shown; committing one row per read would queue every reader
//! behind SQLite's single writer. Reads hand their row to this sink, which writes whatever has
//! arrived in one transaction and then answers each reader: a read still returns only after its
//! own row is committed, and a failed write fails the reads it carried.

use jiuzhu_store::{AuditEntry, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

use crate::{Result, ServiceError};

type Reply = oneshot::Sender<std::result::Result<(), String>>;

/// Rows per transaction, at most.
const BATCH: usize = 512;

#[derive(Clone)]
pub(crate) struct AuditSink {
    queue: mpsc::Sender<(AuditEntry, Reply)>,
}

impl AuditSink {
    pub(crate) fn start(store: Store) -> AuditSink {
        let (queue, mut rx) = mpsc::channel::<(AuditEntry, Reply)>(8 * BATCH);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < BATCH {
                    match rx.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let outcome = write(&store, &batch).await.map_err(|e| e.to_string());
                for (_, reply) in batch {
                    let _ = reply.send(outcome.clone());
                }
            }
        });
        AuditSink { queue }
    }

    /// Records one read; returns once the row is committed.
    pub(crate) async fn record(&self, entry: AuditEntry) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        let lost = || ServiceError::Internal(StoreError::Config("审计记录写入已停止".into()));
        self.queue.send((entry, reply)).await.map_err(|_| lost())?;
        answer.await.map_err(|_| lost())?.map_err(|e| {
            ServiceError::Internal(StoreError::Config(format!("审计记录写入失败：{e}")))
        })
    }
}

async fn write(
    store: &Store,
    batch: &[(AuditEntry, Reply)],
) -> std::result::Result<(), StoreError> {
    let mut tx = store.begin().await?;
    for (entry, _) in batch {
        tx.append_audit(entry).await?;
    }
    tx.commit().await
}
