//! Dates as people in the municipality read them: stored in UTC, shown and reckoned in
//! Europe/Stockholm.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Stockholm;

/// The local calendar day of an instant.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Stockholm).date_naive()
}

/// The year an instant belongs to in Stockholm: a case opened at 00:30 on New Year's Day local
/// time is numbered in the new year although it is still the old year in UTC.
pub fn local_year(at: DateTime<Utc>) -> i32 {
    use chrono::Datelike;
    local_date(at).year()
}

/// An instant as `2026-11-22 18:54` in Stockholm time.
pub fn format_local(at: DateTime<Utc>) -> String {
    at.with_timezone(&Stockholm)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The first instant of a local day, in UTC.
pub fn start_of_local_day(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    // Stockholm never skips midnight (the clocks change at 02:00 and 03:00), so the earliest
    // mapping always exists.
    Stockholm
        .from_local_datetime(&midnight)
        .earliest()
        .expect("midnight exists in Europe/Stockholm")
        .with_timezone(&Utc)
}

/// Parses a `YYYY-MM-DD` date, naming the field when it is not a real day.
pub fn parse_date(field: &str, text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        format!("{field}: {text:?} is not a date that exists (write it as YYYY-MM-DD)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_year_in_stockholm_comes_an_hour_before_new_year_in_utc() {
        let at = Utc.with_ymd_and_hms(2026, 12, 31, 23, 30, 0).unwrap();
        assert_eq!(local_year(at), 2027);
        assert_eq!(format_local(at), "2027-01-01 00:30");
    }

    #[test]
    fn a_day_that_does_not_exist_is_refused_with_the_field_named() {
        assert!(parse_date("--date", "2023-02-28").is_ok());
        let err = parse_date("--date", "2023-02-30").unwrap_err();
        assert!(err.starts_with("--date: \"2023-02-30\""), "{err}");
    }

    #[test]
    fn the_local_day_starts_at_local_midnight() {
        let day = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        assert_eq!(
            start_of_local_day(day),
            Utc.with_ymd_and_hms(2026, 6, 30, 22, 0, 0).unwrap()
        );
    }
}
