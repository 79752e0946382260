//! Dates as the bureau sees them: China Standard Time (UTC+8), whatever the server's zone.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&china()).date_naive()
}

/// The instant a China calendar day begins.
pub fn day_start(d: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    china()
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("a fixed offset has no gaps")
        .to_utc()
}

/// The instants of the China days `from` to `to`, both included, as `[start, end)`.
pub fn days(from: NaiveDate, to: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    (day_start(from), day_start(to + chrono::Duration::days(1)))
}

pub fn local(at: DateTime<Utc>) -> String {
    at.with_timezone(&china())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}
