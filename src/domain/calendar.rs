//! Dates as people in the municipality read them: stored in UTC, shown and reckoned in
//! Europe/Stockholm.

use chrono::{DateTime, NaiveDate, Offset, TimeZone, Utc};
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

/// Adds a duration the way people count it: whole days (and weeks) on the Stockholm calendar,
/// keeping the local time of day across a daylight-saving change, and any rest (hours,
/// minutes) as elapsed time. "28 days from 07:00 on 1 October" is 07:00 on 29 October.
pub fn add_local(at: DateTime<Utc>, duration: chrono::Duration) -> DateTime<Utc> {
    let days = duration.num_days();
    let rest = duration - chrono::Duration::days(days);
    let local = at.with_timezone(&Stockholm);
    let moved = local.naive_local() + chrono::Duration::days(days);
    let shifted = match Stockholm.from_local_datetime(&moved) {
        chrono::LocalResult::Single(t) => t,
        // The repeated autumn hour: the same side of the change as `at`, so that adding no
        // whole day (or a day to the repeated hour of the day before) never moves it back.
        chrono::LocalResult::Ambiguous(first, second) => {
            match second.offset().fix() == local.offset().fix() {
                true => second,
                false => first,
            }
        }
        // The local time does not exist (the spring gap): the same instant an hour on.
        chrono::LocalResult::None => Stockholm
            .from_local_datetime(&(moved + chrono::Duration::hours(1)))
            .earliest()
            .expect("an hour after the gap exists"),
    };
    shifted.with_timezone(&Utc) + rest
}

/// Subtracts a duration the way [`add_local`] adds it.
pub fn sub_local(at: DateTime<Utc>, duration: chrono::Duration) -> DateTime<Utc> {
    let days = duration.num_days();
    let rest = duration - chrono::Duration::days(days);
    add_local(at - rest, -chrono::Duration::days(days))
}

/// Office hours in Stockholm, when messages to staff are sent: 08:00 to 17:00 on vardagar.
pub const OFFICE_HOURS: (u32, u32) = (8, 17);

/// The first moment at or after `at` that falls in office hours on a vardag, in Stockholm:
/// a reminder due on a Saturday night goes out on Monday at 08:00 (or Tuesday after a holiday).
pub fn next_office_time(at: DateTime<Utc>) -> DateTime<Utc> {
    next_office_time_within(at, OFFICE_HOURS)
}

/// Like [`next_office_time`], for office hours `(opens, closes)` in whole hours.
pub fn next_office_time_within(at: DateTime<Utc>, (open, close): (u32, u32)) -> DateTime<Utc> {
    use chrono::Timelike;
    let local = at.with_timezone(&Stockholm);
    let day = local.date_naive();
    if super::holidays::is_vardag(day) && (open..close).contains(&local.hour()) {
        return at;
    }
    let mut day = if super::holidays::is_vardag(day) && local.hour() < open {
        day
    } else {
        day.succ_opt().expect("a date after today exists")
    };
    day = super::holidays::next_vardag(day);
    let opening = day.and_hms_opt(open, 0, 0).expect("office opening exists");
    // An opening hour that a daylight-saving change skips (fuzzing finding F6) opens at the
    // first moment after the gap: the same instant an hour on.
    Stockholm
        .from_local_datetime(&opening)
        .earliest()
        .or_else(|| {
            Stockholm
                .from_local_datetime(&(opening + chrono::Duration::hours(1)))
                .earliest()
        })
        .expect("an hour after a daylight-saving gap exists")
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

    /// Fuzzing finding F6 (`fuzz/FINDINGS.md`): an opening hour in a daylight-saving gap on a
    /// vardag (1917-04-16 02:00 in Stockholm) panicked.
    #[test]
    fn an_opening_hour_in_a_daylight_saving_gap_opens_after_it() {
        let at = Utc.with_ymd_and_hms(1917, 4, 15, 12, 42, 50).unwrap();
        let opened = next_office_time_within(at, (2, 16));
        assert!(opened > at);
        assert_eq!(
            opened.with_timezone(&Stockholm).date_naive(),
            NaiveDate::from_ymd_opt(1917, 4, 16).unwrap()
        );
    }

    /// Fuzzing finding F1 (`fuzz/FINDINGS.md`): in the repeated autumn hour, less than a day
    /// added went back an hour.
    #[test]
    fn a_duration_from_the_repeated_autumn_hour_never_goes_back() {
        // 01:00–01:59 UTC on 25 October 2026 is the second 02:00–02:59 (CET).
        for minute in [0, 30, 59] {
            let at = Utc.with_ymd_and_hms(2026, 10, 25, 1, minute, 0).unwrap();
            assert_eq!(add_local(at, chrono::Duration::zero()), at);
            assert_eq!(
                add_local(at, chrono::Duration::minutes(30)),
                at + chrono::Duration::minutes(30)
            );
            // The first 02:xx (CEST) keeps its side too.
            let first = at - chrono::Duration::hours(1);
            assert_eq!(add_local(first, chrono::Duration::zero()), first);
        }
        // A whole day from the repeated hour of the day before lands on the same wall time.
        let before = Utc.with_ymd_and_hms(2026, 10, 24, 0, 30, 0).unwrap();
        assert_eq!(
            format_local(add_local(before, chrono::Duration::days(1))),
            "2026-10-25 02:30"
        );
    }

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
    fn whole_days_keep_the_local_time_across_a_daylight_saving_change() {
        // 07:00 CEST on 1 October 2026 is 05:00 UTC; 07:00 CET on 29 October is 06:00 UTC.
        let start = Utc.with_ymd_and_hms(2026, 10, 1, 5, 0, 0).unwrap();
        let due = add_local(start, chrono::Duration::days(28));
        assert_eq!(due, Utc.with_ymd_and_hms(2026, 10, 29, 6, 0, 0).unwrap());
        assert_eq!(sub_local(due, chrono::Duration::days(28)), start);
        // Hours are elapsed time.
        let later = add_local(start, chrono::Duration::hours(36));
        assert_eq!(later, start + chrono::Duration::hours(36));
    }

    #[test]
    fn office_time_skips_nights_weekends_and_holidays() {
        let at = |y, m, d, h| Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap();
        // Wednesday 2026-11-04 10:00 local (09:00 UTC) is already in office hours.
        assert_eq!(next_office_time(at(2026, 11, 4, 9)), at(2026, 11, 4, 9));
        // Saturday 2026-11-07 goes to Monday 08:00 local (07:00 UTC).
        assert_eq!(next_office_time(at(2026, 11, 7, 12)), at(2026, 11, 9, 7));
        // Thursday evening 2026-12-24 (julafton) goes past juldagen, annandag jul and the
        // weekend to Monday 2026-12-28.
        assert_eq!(next_office_time(at(2026, 12, 24, 18)), at(2026, 12, 28, 7));
        // Early morning waits for opening the same day.
        assert_eq!(next_office_time(at(2026, 11, 4, 5)), at(2026, 11, 4, 7));
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
