//! The working-day calendar in force: the schedules shipped with the platform plus the years an
//! administrator has loaded since.

use chrono::NaiveDate;
use jiuzhu_domain::{CalendarDate, Permission, WorkCalendar, YearSchedule};

use serde::Serialize;
use serde_json::json;

use crate::{Actor, Calendar, Result, ServiceError, Services};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CalendarYearView {
    pub year: i32,
    pub papers: Vec<String>,
    pub holidays: usize,
    pub adjusted_workdays: usize,
    /// `built_in` or the user who loaded it.
    pub source: String,
}

impl Services {
    /// Reads the administrator-loaded years from the database into the calendar in force.
    pub(crate) async fn load_calendar(&self) -> Result<()> {
        let mut calendar = WorkCalendar::official();
        let mut tx = self.store.begin_read().await?;
        for stored in tx.stored_years().await? {
            let schedule: YearSchedule = serde_json::from_str(&stored.schedule).map_err(|e| {
                ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(format!(
                    "{}年节假日安排：{e}",
                    stored.year
                )))
            })?;
            calendar.load(schedule);
        }
        *self.calendar.write().expect("calendar lock") = calendar;
        Ok(())
    }
}

impl Calendar<'_> {
    /// The calendar in force.
    pub fn current(&self) -> WorkCalendar {
        self.calendar.read().expect("calendar lock").clone()
    }

    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> CalendarDate {
        self.calendar
            .read()
            .expect("calendar lock")
            .add_working_days(date, n)
    }

    /// The years the calendar knows, with where each came from.
    pub fn years(&self) -> Vec<CalendarYearView> {
        let builtin: Vec<i32> = WorkCalendar::official().years().map(|y| y.year).collect();
        let loaded = self.loaded_by.read().expect("lock").clone();
        self.calendar
            .read()
            .expect("calendar lock")
            .years()
            .map(|y| CalendarYearView {
                year: y.year,
                papers: y.papers.clone(),
                holidays: y.holidays.len(),
                adjusted_workdays: y.adjusted_workdays.len(),
                source: loaded
                    .iter()
                    .find(|(year, _)| *year == y.year)
                    .map(|(_, by)| by.clone())
                    .unwrap_or_else(|| {
                        if builtin.contains(&y.year) {
                            "built_in".into()
                        } else {
                            "-".into()
                        }
                    }),
            })
            .collect()
    }

    /// Loads a year's official schedule (holiday-cn JSON format) and puts it in force.
    pub async fn load_year(&self, actor: &Actor, json_text: &str) -> Result<CalendarYearView> {
        actor.require(Permission::ManageCalendar)?;
        let schedule = YearSchedule::from_json(json_text)
            .map_err(|e| ServiceError::invalid("schedule", e.to_string()))?;
        if !(2000..=2100).contains(&schedule.year) {
            return Err(ServiceError::invalid(
                "schedule",
                format!("年份{}超出范围", schedule.year),
            ));
        }
        let stored = serde_json::to_string(&schedule).expect("schedule serialises");
        let mut tx = self.store.begin().await?;
        tx.save_year(schedule.year, &stored, &actor.username)
            .await?;
        tx.append_audit(&actor.audit(
            "calendar.load",
            "calendar_year",
            schedule.year,
            None,
            json!({"holidays": schedule.holidays.len(), "adjusted_workdays": schedule.adjusted_workdays.len(), "papers": schedule.papers}),
        ))
        .await?;
        tx.commit().await?;
        let year = schedule.year;
        self.calendar.write().expect("calendar lock").load(schedule);
        self.loaded_by
            .write()
            .expect("lock")
            .push((year, actor.username.clone()));
        self.years()
            .into_iter()
            .find(|y| y.year == year)
            .ok_or(ServiceError::NotFound)
    }
}
