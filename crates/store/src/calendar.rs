//! Holiday schedules loaded by an administrator, beside the ones shipped with the platform.

use chrono::{DateTime, Utc};

use crate::{on_tx, Result, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredYear {
    pub year: i64,
    /// The schedule as JSON (`YearSchedule`).
    pub schedule: String,
    pub loaded_at: DateTime<Utc>,
    pub loaded_by: String,
}

impl Tx {
    pub async fn save_year(&mut self, year: i32, schedule_json: &str, by: &str) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO calendar_years (year, schedule, loaded_at, loaded_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (year) DO UPDATE SET schedule = excluded.schedule,
                loaded_at = excluded.loaded_at, loaded_by = excluded.loaded_by")
            .bind(i64::from(year))
            .bind(schedule_json)
            .bind(Utc::now())
            .bind(by)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn stored_years(&mut self) -> Result<Vec<StoredYear>> {
        let rows = on_tx!(self, c => sqlx::query_as(
            "SELECT year, schedule, loaded_at, loaded_by FROM calendar_years ORDER BY year")
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }
}
