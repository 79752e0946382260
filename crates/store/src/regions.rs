//! The administrative division tree the platform serves.

use serde::Serialize;

use crate::{like_prefix, on_tx, value_rows, Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
}

impl Tx {
    pub async fn insert_regions(&mut self, regions: &[Region]) -> Result<()> {
        for chunk in regions.chunks(200) {
            let sql = format!(
                "INSERT INTO regions (code, name, level, parent_code) VALUES {}",
                value_rows(self.backend(), chunk.len(), 4)
            );
            on_tx!(self, c => {
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = q.bind(&r.code).bind(&r.name).bind(&r.level).bind(&r.parent_code);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    pub async fn get_region(&mut self, code: &str) -> Result<Option<Region>> {
        let r = on_tx!(self, c => sqlx::query_as(
            "SELECT code, name, level, parent_code FROM regions WHERE code = $1")
            .bind(code)
            .fetch_optional(c)
            .await)?;
        Ok(r)
    }

    /// The region and everything under it, ordered by code.
    pub async fn regions_under(&mut self, code: &str) -> Result<Vec<Region>> {
        let r = on_tx!(self, c => sqlx::query_as(
            "SELECT code, name, level, parent_code FROM regions WHERE code LIKE $1 ORDER BY code")
            .bind(like_prefix(code))
            .fetch_all(c)
            .await)?;
        Ok(r)
    }

    pub async fn count_regions(&mut self) -> Result<i64> {
        let n = on_tx!(self, c => sqlx::query_scalar("SELECT COUNT(*) FROM regions")
            .fetch_one(c)
            .await)?;
        Ok(n)
    }
}
