//! Dates as the bureau sees them: China Standard Time (UTC+8), whatever the server's zone.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&china()).date_naive()
}

pub fn local(at: DateTime<Utc>) -> String {
    at.with_timezone(&china())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}
