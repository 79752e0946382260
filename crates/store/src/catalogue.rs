//! Departments and assistance items, editable by the bureau; each edit bumps the revision.

use chrono::Utc;
use jiuzhu_domain::{Catalogue, Department, Item};

use crate::{on_tx, Result, StoreError, Tx};

pub struct ItemUpdate<'a> {
    pub name: &'a str,
    pub time_limit_days: u32,
    pub time_limit_source: &'a str,
    pub materials: &'a [String],
    pub guide: &'a str,
    pub recurring: bool,
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    code: String,
    name: String,
    department_code: String,
    time_limit_days: i64,
    time_limit_source: String,
    materials: String,
    guide: String,
    revision: i64,
    recurring: bool,
}

impl ItemRow {
    fn into_item(self) -> Result<(Item, i64)> {
        let materials: Vec<String> = serde_json::from_str(&self.materials)
            .map_err(|e| StoreError::Corrupt(format!("事项{}的材料清单：{e}", self.code)))?;
        Ok((
            Item {
                code: self.code,
                name: self.name,
                department: self.department_code,
                time_limit_days: u32::try_from(self.time_limit_days).unwrap_or(0),
                time_limit_source: self.time_limit_source,
                materials,
                guide: self.guide,
                recurring: self.recurring,
            },
            self.revision,
        ))
    }
}

impl Tx {
    /// Writes the seed catalogue where it is missing; existing rows (perhaps edited) are kept.
    pub async fn seed_catalogue(&mut self, catalogue: &Catalogue) -> Result<usize> {
        let mut written = 0;
        for d in &catalogue.departments {
            let r = on_tx!(self, c => sqlx::query(
                "INSERT INTO departments (code, name) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING")
                .bind(&d.code)
                .bind(&d.name)
                .execute(c).await.map(|r| r.rows_affected()))?;
            written += r as usize;
        }
        let now = Utc::now();
        for i in &catalogue.items {
            let materials = serde_json::to_string(&i.materials).expect("strings serialise");
            let r = on_tx!(self, c => sqlx::query(
                "INSERT INTO items (code, name, department_code, time_limit_days, time_limit_source,
                    materials, guide, revision, updated_at, updated_by, recurring)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, 'system', $9) ON CONFLICT (code) DO NOTHING")
                .bind(&i.code)
                .bind(&i.name)
                .bind(&i.department)
                .bind(i64::from(i.time_limit_days))
                .bind(&i.time_limit_source)
                .bind(materials)
                .bind(&i.guide)
                .bind(now)
                .bind(i.recurring)
                .execute(c).await.map(|r| r.rows_affected()))?;
            written += r as usize;
        }
        Ok(written)
    }

    pub async fn departments(&mut self) -> Result<Vec<Department>> {
        let rows: Vec<(String, String)> = on_tx!(self, c => sqlx::query_as(
            "SELECT code, name FROM departments ORDER BY code")
            .fetch_all(c)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(code, name)| Department { code, name })
            .collect())
    }

    /// Items with their revision, in catalogue order (by department, then name).
    pub async fn items(&mut self) -> Result<Vec<(Item, i64)>> {
        let rows: Vec<ItemRow> = on_tx!(self, c => sqlx::query_as(
            "SELECT code, name, department_code, time_limit_days, time_limit_source, materials,
                    guide, revision, recurring FROM items ORDER BY department_code, code")
            .fetch_all(c)
            .await)?;
        rows.into_iter().map(ItemRow::into_item).collect()
    }

    pub async fn item(&mut self, code: &str) -> Result<Option<(Item, i64)>> {
        let row: Option<ItemRow> = on_tx!(self, c => sqlx::query_as(
            "SELECT code, name, department_code, time_limit_days, time_limit_source, materials,
                    guide, revision, recurring FROM items WHERE code = $1")
            .bind(code)
            .fetch_optional(c)
            .await)?;
        row.map(ItemRow::into_item).transpose()
    }

    pub async fn update_item(
        &mut self,
        code: &str,
        u: ItemUpdate<'_>,
        revision: i64,
        by: &str,
    ) -> Result<()> {
        let materials = serde_json::to_string(u.materials).expect("strings serialise");
        let done = on_tx!(self, c => sqlx::query(
            "UPDATE items SET name = $1, time_limit_days = $2, time_limit_source = $3, materials = $4,
                guide = $5, revision = revision + 1, updated_at = $6, updated_by = $7,
                recurring = $10
             WHERE code = $8 AND revision = $9")
            .bind(u.name)
            .bind(i64::from(u.time_limit_days))
            .bind(u.time_limit_source)
            .bind(materials)
            .bind(u.guide)
            .bind(Utc::now())
            .bind(by)
            .bind(code)
            .bind(revision)
            .bind(u.recurring)
            .execute(c).await.map(|r| r.rows_affected()))?;
        if done == 1 {
            Ok(())
        } else {
            Err(StoreError::Stale)
        }
    }
}
