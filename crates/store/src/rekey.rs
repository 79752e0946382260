//! Key rotation: every encrypted value re-encrypted under the current key and algorithm, a batch
//! at a time, each batch its own transaction, so the platform keeps serving and an interrupted
//! run picks up where it stopped.

use crate::{on_tx, Result, Tx};

/// The encrypted columns: (table, column, the context the values are bound to).
pub const ENCRYPTED: [(&str, &str, &str); 7] = [
    ("persons", "id_number_cipher", crate::people::ID_CONTEXT),
    ("persons", "phone_cipher", crate::people::PHONE_CONTEXT),
    ("users", "totp_secret", "users.totp_secret"),
    ("payees", "account_cipher", crate::payments::ACCOUNT_CONTEXT),
    (
        "roll_lines",
        "account_cipher",
        crate::payments::ACCOUNT_CONTEXT,
    ),
    (
        "objections",
        "contact_cipher",
        crate::openness::CONTACT_CONTEXT,
    ),
    (
        "complaints",
        "contact_cipher",
        crate::openness::CONTACT_CONTEXT,
    ),
];

impl Tx {
    /// Re-encrypts the stale values among the next `limit` rows of column `which` of
    /// [`ENCRYPTED`] after row `after`. Returns the last row id read (none when the column is
    /// done) and how many values were rewritten.
    pub async fn rekey_batch(
        &mut self,
        which: usize,
        after: i64,
        limit: i64,
    ) -> Result<(Option<i64>, u64)> {
        let (table, column, context) = ENCRYPTED[which];
        let sql = format!(
            "SELECT id, {column} FROM {table} WHERE id > $1 AND {column} IS NOT NULL
             ORDER BY id LIMIT $2"
        );
        let rows: Vec<(i64, Vec<u8>)> = on_tx!(self, c => sqlx::query_as(&sql)
            .bind(after)
            .bind(limit)
            .fetch_all(c)
            .await)?;
        let last = rows.last().map(|(id, _)| *id);
        let update = format!("UPDATE {table} SET {column} = $1 WHERE id = $2");
        let mut rewritten = 0;
        for (id, blob) in rows {
            if !self.cipher().is_stale(&blob) {
                continue;
            }
            let plain = self.cipher().decrypt(context, &blob)?;
            let fresh = self.cipher().encrypt(context, &plain);
            on_tx!(self, c => sqlx::query(&update)
                .bind(fresh)
                .bind(id)
                .execute(c).await.map(|r| r.rows_affected()))?;
            rewritten += 1;
        }
        Ok((last, rewritten))
    }

    /// Re-encrypts the key check value under the current key.
    pub async fn rekey_check_value(&mut self) -> Result<()> {
        crate::settings::rewrite_key_check(self).await
    }
}

impl Tx {
    /// Every identity-number ciphertext as stored (to check which key and cipher sealed it).
    pub async fn raw_id_ciphers(&mut self) -> Result<Vec<(Vec<u8>,)>> {
        let rows = on_tx!(self, c => sqlx::query_as("SELECT id_number_cipher FROM persons ORDER BY id")
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }
}
