//! Deadline arithmetic: lag (1930:173) om beräkning av lagstadgad tid, and the protocol deadlines
//! of kommunallagen (2017:725).
//!
//! This module owns the rules that turn a start date into a last day: § 1 of the 1930 act (periods
//! in weeks end on the same weekday, periods in months on the same date number or the month's
//! last day), § 2 (a last day on a Saturday, Sunday, other allmän helgdag, midsommarafton,
//! julafton or nyårsafton moves to the next vardag), and the chain a protocol goes through in a
//! municipality: justering, the notice on the anslagstavla, and the three-week period for
//! laglighetsprövning. Which days are vardagar is decided in [`super::holidays`]; this module
//! only counts. Everything here is a pure function of its arguments: no IO, no clock.

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::holidays::next_vardag;

/// The day `weeks` weeks after `start`: the same weekday, per lag (1930:173) § 1.
///
/// This is the raw last day; apply [`statutory_last_day`] for § 2.
///
/// # Panics
///
/// Only if the result is outside the range chrono's [`NaiveDate`] can represent.
pub fn add_weeks(start: NaiveDate, weeks: u32) -> NaiveDate {
    start
        .checked_add_days(Days::new(u64::from(weeks) * 7))
        .expect("a date a realistic number of weeks ahead exists")
}

/// The day `months` months after `start`, per lag (1930:173) § 1: the same date number, or the
/// last day of the final month when that number does not exist in it (31 January + 1 month is
/// 28 or 29 February).
///
/// This is the raw last day; apply [`statutory_last_day`] for § 2.
///
/// # Panics
///
/// Only if the result is outside the range chrono's [`NaiveDate`] can represent.
pub fn add_months(start: NaiveDate, months: u32) -> NaiveDate {
    // chrono clamps a missing day to the month's last day, which is exactly § 1.
    start
        .checked_add_months(Months::new(months))
        .expect("a date a realistic number of months ahead exists")
}

/// The last day on which an action may be taken, per lag (1930:173) § 2: `raw` itself if it is a
/// vardag, otherwise the next vardag (a Saturday, Sunday, allmän helgdag, midsommarafton, julafton
/// or nyårsafton is skipped). The criminal-procedure exceptions in § 2 are not modelled.
pub fn statutory_last_day(raw: NaiveDate) -> NaiveDate {
    next_vardag(raw)
}

/// The last day to appeal a decision by laglighetsprövning, given the day the justering of its
/// protocol was announced on the kommun's anslagstavla.
///
/// Kommunallagen (2017:725) 13 kap. 5 §: the appeal must come in within three weeks from the day
/// the announcement was made; three weeks is the same weekday three weeks later (lag (1930:173)
/// § 1), moved to the next vardag by § 2. Posted Monday 2023-12-04 gives Wednesday 2023-12-27,
/// because the raw day is juldagen and the next day annandag jul.
pub fn appeal_last_day(posted: NaiveDate) -> NaiveDate {
    statutory_last_day(add_weeks(posted, 3))
}

/// The last day the protocol of a meeting may be justerat: 14 days after the meeting.
///
/// Kommunallagen (2017:725) 5 kap. 69 § (fullmäktige; nämndernas protokoll follow the same
/// rule). The date is not moved under lag (1930:173) § 2: it is the kommun's own deadline, and
/// the project treats it as a fixed count of days.
///
/// # Panics
///
/// Only if the result is outside the range chrono's [`NaiveDate`] can represent.
pub fn justering_latest(meeting: NaiveDate) -> NaiveDate {
    meeting
        .checked_add_days(Days::new(14))
        .expect("the date two weeks after a meeting exists")
}

/// The last day the justering may be announced on the anslagstavla: the second day after the
/// justering.
///
/// Kommunallagen (2017:725) 8 kap. 12 §: the justering is to be announced "senast andra dagen
/// efter justeringen". \[unverified\] Whether lag (1930:173) § 2 extends this deadline when it falls
/// on a weekend or helgdag is plausible by the act's wording but no source applying it was found,
/// so the date is deliberately NOT moved here: the earlier, safe date is given.
///
/// # Panics
///
/// Only if the result is outside the range chrono's [`NaiveDate`] can represent.
pub fn posting_latest(justered: NaiveDate) -> NaiveDate {
    justered
        .checked_add_days(Days::new(2))
        .expect("the date two days after a justering exists")
}

/// The first day the notice of justering may be taken down from the anslagstavla: the day after
/// [`appeal_last_day`].
///
/// Kommunallagen (2017:725) 8 kap. 12 §: the notice stays available on the anslagstavla until the
/// time for appeal has run out.
///
/// # Panics
///
/// Only if the result is outside the range chrono's [`NaiveDate`] can represent.
pub fn notice_taken_down(posted: NaiveDate) -> NaiveDate {
    appeal_last_day(posted)
        .succ_opt()
        .expect("the day after an appeal deadline exists")
}

/// The latest dates a meeting's protocol must meet before it is posted, per kommunallagen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolDates {
    /// The day of the meeting.
    pub meeting: NaiveDate,
    /// The last day the protocol may be justerat ([`justering_latest`], KL 5 kap. 69 §).
    pub justering_latest: NaiveDate,
    /// The last day the justering may be announced if it is justerat on the last allowed day
    /// ([`posting_latest`], KL 8 kap. 12 §; not moved by lag (1930:173) § 2, see there).
    pub posted_latest: NaiveDate,
}

impl ProtocolDates {
    /// The latest dates for a meeting held on `meeting`, assuming every step is taken on the last
    /// allowed day.
    pub fn for_meeting(meeting: NaiveDate) -> Self {
        let justering_latest = justering_latest(meeting);
        Self {
            meeting,
            justering_latest,
            posted_latest: posting_latest(justering_latest),
        }
    }
}

/// The dates that follow from posting the notice of justering on the anslagstavla: what the
/// kansli shows as "sista dag för överklagande" and "anslaget tas ned".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealDates {
    /// The day the justering was announced on the anslagstavla.
    pub posted: NaiveDate,
    /// The last day to appeal by laglighetsprövning ([`appeal_last_day`], KL 13 kap. 5 §).
    pub appeal_last_day: NaiveDate,
    /// The first day the notice may be taken down ([`notice_taken_down`], KL 8 kap. 12 §).
    pub notice_taken_down: NaiveDate,
}

impl AppealDates {
    /// The appeal dates for a notice posted on `posted`.
    pub fn for_posting(posted: NaiveDate) -> Self {
        Self {
            posted,
            appeal_last_day: appeal_last_day(posted),
            notice_taken_down: notice_taken_down(posted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_appeal_period_ends_on_the_next_vardag_after_christmas() {
        // Raw last day Mon 2023-12-25 (juldagen), then annandag jul.
        assert_eq!(add_weeks(date(2023, 12, 4), 3), date(2023, 12, 25));
        assert_eq!(appeal_last_day(date(2023, 12, 4)), date(2023, 12, 27));
    }

    #[test]
    fn the_appeal_period_ending_on_nyarsafton_runs_past_nyarsdagen() {
        assert_eq!(add_weeks(date(2024, 12, 10), 3), date(2024, 12, 31));
        assert_eq!(appeal_last_day(date(2024, 12, 10)), date(2025, 1, 2));
    }

    #[test]
    fn the_appeal_period_ending_on_midsommardagen_runs_to_the_monday() {
        assert_eq!(add_weeks(date(2024, 6, 1), 3), date(2024, 6, 22));
        assert_eq!(appeal_last_day(date(2024, 6, 1)), date(2024, 6, 24));
    }

    #[test]
    fn an_appeal_period_ending_on_an_ordinary_weekday_is_not_moved() {
        // Posted Tue 2026-03-03, three weeks later Tue 2026-03-24.
        assert_eq!(appeal_last_day(date(2026, 3, 3)), date(2026, 3, 24));
    }

    #[test]
    fn a_month_from_the_31st_of_january_ends_on_the_last_day_of_february() {
        assert_eq!(add_months(date(2024, 1, 31), 1), date(2024, 2, 29));
        assert_eq!(add_months(date(2023, 1, 31), 1), date(2023, 2, 28));
        assert_eq!(add_months(date(2023, 1, 15), 1), date(2023, 2, 15));
        assert_eq!(add_months(date(2023, 8, 31), 13), date(2024, 9, 30));
        assert_eq!(add_months(date(2023, 5, 10), 0), date(2023, 5, 10));
    }

    #[test]
    fn weeks_end_on_the_same_weekday() {
        use chrono::Datelike;
        let start = date(2026, 2, 11);
        for weeks in 0..60 {
            let end = add_weeks(start, weeks);
            assert_eq!(end.weekday(), start.weekday());
            assert_eq!((end - start).num_days(), i64::from(weeks) * 7);
        }
    }

    #[test]
    fn a_statutory_last_day_on_a_vardag_stays_and_on_a_weekend_moves_to_monday() {
        assert_eq!(statutory_last_day(date(2026, 3, 9)), date(2026, 3, 9));
        assert_eq!(statutory_last_day(date(2026, 3, 7)), date(2026, 3, 9));
        assert_eq!(statutory_last_day(date(2026, 3, 8)), date(2026, 3, 9));
        // Julafton Thu 2026-12-24 -> past juldagen, annandag jul and the Sunday.
        assert_eq!(statutory_last_day(date(2026, 12, 24)), date(2026, 12, 28));
    }

    #[test]
    fn the_protocol_must_be_justerat_within_14_days_and_posted_by_the_second_day_after() {
        // Meeting Tue 2026-12-15: justering by Tue 2026-12-29, posting by Thu 2026-12-31
        // (nyårsafton, deliberately not moved).
        assert_eq!(justering_latest(date(2026, 12, 15)), date(2026, 12, 29));
        assert_eq!(posting_latest(date(2026, 12, 29)), date(2026, 12, 31));
        assert_eq!(
            ProtocolDates::for_meeting(date(2026, 12, 15)),
            ProtocolDates {
                meeting: date(2026, 12, 15),
                justering_latest: date(2026, 12, 29),
                posted_latest: date(2026, 12, 31),
            }
        );
        // A justering on a Friday must be posted by the Sunday: not moved to Monday.
        assert_eq!(posting_latest(date(2026, 3, 6)), date(2026, 3, 8));
    }

    #[test]
    fn the_notice_comes_down_the_day_after_the_appeal_period_runs_out() {
        assert_eq!(notice_taken_down(date(2023, 12, 4)), date(2023, 12, 28));
        assert_eq!(notice_taken_down(date(2024, 12, 10)), date(2025, 1, 3));
        assert_eq!(
            AppealDates::for_posting(date(2024, 6, 1)),
            AppealDates {
                posted: date(2024, 6, 1),
                appeal_last_day: date(2024, 6, 24),
                notice_taken_down: date(2024, 6, 25),
            }
        );
    }
}
