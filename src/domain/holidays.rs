//! The Swedish days that are not vardagar, computed per year without tables.
//!
//! This module owns the calendar facts that deadline arithmetic (`super::deadline`) rests on:
//! the allmänna helgdagar of lag (1989:253) om allmänna helgdagar, the three eves that
//! lag (1930:173) om beräkning av lagstadgad tid § 2 treats like helgdagar (midsommarafton,
//! julafton, nyårsafton), and the Gregorian computus that the Easter-dependent days hang on.
//! Everything here is a pure function of the year or the date: no IO, no clock, no tables, so
//! any year (tested for 1900..=2200 and beyond) is computed the same way.
//!
//! Annandag pingst is deliberately absent: it stopped being an allmän helgdag in 2005 when
//! Sveriges nationaldag took its place. Every Sunday is also an allmän helgdag; Sundays are
//! not listed as named [`Holiday`]s but are never vardagar.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Easter Sunday of a Gregorian year, by the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
///
/// # Panics
///
/// Only if `year` is outside the range chrono's [`NaiveDate`] can represent (about ±262 000).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    // month is 3 or 4 and day is 1..=31 in March or 1..=25 in April by construction.
    NaiveDate::from_ymd_opt(
        year,
        u32::try_from(month).expect("computus month is 3 or 4"),
        u32::try_from(day).expect("computus day is positive"),
    )
    .expect("computus yields a real day in March or April")
}

/// A named Swedish holiday or holiday eve.
///
/// Covers the allmänna helgdagar of lag (1989:253) other than ordinary Sundays, the eves that
/// lag (1930:173) § 2 treats like helgdagar, and påskafton, which is kept for display only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holiday {
    /// Nyårsdagen, 1 January.
    Nyarsdagen,
    /// Trettondedag jul, 6 January.
    TrettondedagJul,
    /// Långfredagen, the Friday before Easter.
    Langfredagen,
    /// Påskafton, the Saturday before Easter. Not an allmän helgdag and not listed in
    /// lag (1930:173) § 2 since the 1961 wording was replaced; a Saturday anyway.
    Paskafton,
    /// Påskdagen, Easter Sunday.
    Paskdagen,
    /// Annandag påsk, the Monday after Easter.
    AnnandagPask,
    /// Första maj, 1 May.
    ForstaMaj,
    /// Kristi himmelsfärdsdag, the sixth Thursday after Easter (Easter + 39 days).
    KristiHimmelsfardsdag,
    /// Pingstdagen, the seventh Sunday after Easter (Easter + 49 days).
    Pingstdagen,
    /// Sveriges nationaldag, 6 June.
    Nationaldagen,
    /// Midsommarafton, the Friday between 19 and 25 June. Not an allmän helgdag, but listed in
    /// lag (1930:173) § 2.
    Midsommarafton,
    /// Midsommardagen, the Saturday between 20 and 26 June.
    Midsommardagen,
    /// Alla helgons dag, the Saturday between 31 October and 6 November.
    AllaHelgonsDag,
    /// Julafton, 24 December. Not an allmän helgdag, but listed in lag (1930:173) § 2.
    Julafton,
    /// Juldagen, 25 December.
    Juldagen,
    /// Annandag jul, 26 December.
    AnnandagJul,
    /// Nyårsafton, 31 December. Not an allmän helgdag, but listed in lag (1930:173) § 2.
    Nyarsafton,
}

impl Holiday {
    /// Every named day, in the order they fall in a year (ties broken as in [`holidays`]).
    pub const ALL: [Holiday; 17] = [
        Holiday::Nyarsdagen,
        Holiday::TrettondedagJul,
        Holiday::Langfredagen,
        Holiday::Paskafton,
        Holiday::Paskdagen,
        Holiday::AnnandagPask,
        Holiday::ForstaMaj,
        Holiday::KristiHimmelsfardsdag,
        Holiday::Pingstdagen,
        Holiday::Nationaldagen,
        Holiday::Midsommarafton,
        Holiday::Midsommardagen,
        Holiday::AllaHelgonsDag,
        Holiday::Julafton,
        Holiday::Juldagen,
        Holiday::AnnandagJul,
        Holiday::Nyarsafton,
    ];

    /// The day's Swedish name, as written in running text (e.g. "trettondedag jul").
    pub fn name(self) -> &'static str {
        match self {
            Holiday::Nyarsdagen => "nyårsdagen",
            Holiday::TrettondedagJul => "trettondedag jul",
            Holiday::Langfredagen => "långfredagen",
            Holiday::Paskafton => "påskafton",
            Holiday::Paskdagen => "påskdagen",
            Holiday::AnnandagPask => "annandag påsk",
            Holiday::ForstaMaj => "första maj",
            Holiday::KristiHimmelsfardsdag => "Kristi himmelsfärdsdag",
            Holiday::Pingstdagen => "pingstdagen",
            Holiday::Nationaldagen => "Sveriges nationaldag",
            Holiday::Midsommarafton => "midsommarafton",
            Holiday::Midsommardagen => "midsommardagen",
            Holiday::AllaHelgonsDag => "alla helgons dag",
            Holiday::Julafton => "julafton",
            Holiday::Juldagen => "juldagen",
            Holiday::AnnandagJul => "annandag jul",
            Holiday::Nyarsafton => "nyårsafton",
        }
    }

    /// Whether the day is an allmän helgdag under lag (1989:253) om allmänna helgdagar.
    /// False for the eves and påskafton.
    pub fn is_allman_helgdag(self) -> bool {
        !matches!(
            self,
            Holiday::Paskafton | Holiday::Midsommarafton | Holiday::Julafton | Holiday::Nyarsafton
        )
    }

    /// Whether lag (1930:173) § 2 moves a last day that falls on this day: every allmän
    /// helgdag plus midsommarafton, julafton and nyårsafton. False only for påskafton, which the
    /// current wording no longer lists (it is a Saturday, so it is moved anyway).
    pub fn moves_a_deadline(self) -> bool {
        self != Holiday::Paskafton
    }

    /// The date of this day in `year`.
    ///
    /// # Panics
    ///
    /// Only if `year` is outside the range chrono's [`NaiveDate`] can represent.
    pub fn date_in(self, year: i32) -> NaiveDate {
        let fixed = |month: u32, day: u32| {
            NaiveDate::from_ymd_opt(year, month, day).expect("fixed holiday dates exist every year")
        };
        let from_easter = |offset: i64| {
            let easter = easter_sunday(year);
            if offset >= 0 {
                easter
                    .checked_add_days(Days::new(offset.unsigned_abs()))
                    .expect("a date within weeks of Easter exists")
            } else {
                easter
                    .checked_sub_days(Days::new(offset.unsigned_abs()))
                    .expect("a date within weeks of Easter exists")
            }
        };
        match self {
            Holiday::Nyarsdagen => fixed(1, 1),
            Holiday::TrettondedagJul => fixed(1, 6),
            Holiday::Langfredagen => from_easter(-2),
            Holiday::Paskafton => from_easter(-1),
            Holiday::Paskdagen => from_easter(0),
            Holiday::AnnandagPask => from_easter(1),
            Holiday::ForstaMaj => fixed(5, 1),
            Holiday::KristiHimmelsfardsdag => from_easter(39),
            Holiday::Pingstdagen => from_easter(49),
            Holiday::Nationaldagen => fixed(6, 6),
            Holiday::Midsommarafton => first_on_or_after(fixed(6, 19), Weekday::Fri),
            Holiday::Midsommardagen => first_on_or_after(fixed(6, 20), Weekday::Sat),
            Holiday::AllaHelgonsDag => first_on_or_after(fixed(10, 31), Weekday::Sat),
            Holiday::Julafton => fixed(12, 24),
            Holiday::Juldagen => fixed(12, 25),
            Holiday::AnnandagJul => fixed(12, 26),
            Holiday::Nyarsafton => fixed(12, 31),
        }
    }
}

/// The first `weekday` on or after `from` (within the following six days).
fn first_on_or_after(from: NaiveDate, weekday: Weekday) -> NaiveDate {
    let ahead = (7 + weekday.num_days_from_monday() - from.weekday().num_days_from_monday()) % 7;
    from.checked_add_days(Days::new(u64::from(ahead)))
        .expect("a date at most six days later exists")
}

/// Every named [`Holiday`] of `year` with its date, sorted by date.
///
/// The list always has one entry per [`Holiday`] (17), so two entries can share a date: Kristi
/// himmelsfärdsdag can fall on första maj (as in 2008) and pingstdagen on the national day (as in
/// 2049). Entries on the same date keep the order of [`Holiday::ALL`].
pub fn holidays(year: i32) -> Vec<(NaiveDate, Holiday)> {
    let mut days: Vec<(NaiveDate, Holiday)> = Holiday::ALL
        .iter()
        .map(|&holiday| (holiday.date_in(year), holiday))
        .collect();
    days.sort();
    days
}

/// Whether `date` is a vardag in the sense of lag (1930:173) § 2.
///
/// False for Saturdays, Sundays, every allmän helgdag of lag (1989:253), midsommarafton,
/// julafton and nyårsafton; true for every other day.
pub fn is_vardag(date: NaiveDate) -> bool {
    if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        return false;
    }
    !Holiday::ALL
        .iter()
        .any(|holiday| holiday.moves_a_deadline() && holiday.date_in(date.year()) == date)
}

/// `date` itself if it is a vardag, otherwise the first vardag after it.
///
/// # Panics
///
/// Only at the very end of chrono's representable range.
pub fn next_vardag(date: NaiveDate) -> NaiveDate {
    let mut day = date;
    while !is_vardag(day) {
        day = day
            .succ_opt()
            .expect("the day after a date near the present exists");
    }
    day
}

/// Every day of `year` that is not a vardag, sorted, with a Swedish reason.
///
/// The reason is "lördag" or "söndag" for ordinary weekends, and the holiday's name when a named
/// day falls on the date, also when it falls on a weekend (so påskafton is given by name). When
/// two named days share a date, both names are given, joined by " och ".
pub fn non_vardagar(year: i32) -> Vec<(NaiveDate, String)> {
    let named = holidays(year);
    let Some(first) = NaiveDate::from_ymd_opt(year, 1, 1) else {
        return Vec::new();
    };
    first
        .iter_days()
        .take_while(|day| day.year() == year)
        .filter(|&day| !is_vardag(day))
        .map(|day| {
            let names: Vec<&str> = named
                .iter()
                .filter(|(date, _)| *date == day)
                .map(|(_, holiday)| holiday.name())
                .collect();
            let reason = if !names.is_empty() {
                names.join(" och ")
            } else if day.weekday() == Weekday::Sat {
                "lördag".to_owned()
            } else {
                "söndag".to_owned()
            };
            (day, reason)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Gauss's Easter algorithm for the Gregorian calendar, with its two exceptions; written
    /// independently of the anonymous Gregorian algorithm used by [`easter_sunday`].
    fn gauss_easter(year: i32) -> NaiveDate {
        let a = year % 19;
        let b = year % 4;
        let c = year % 7;
        let k = year / 100;
        let p = (13 + 8 * k) / 25;
        let q = k / 4;
        let m = (15 - p + k - q) % 30;
        let n = (4 + k - q) % 7;
        let d = (19 * a + m) % 30;
        let e = (2 * b + 4 * c + 6 * d + n) % 7;
        let mut days_after_march_22 = d + e;
        if d == 29 && e == 6 {
            days_after_march_22 = 28; // 19 April instead of 26 April
        } else if d == 28 && e == 6 && (11 * m + 11) % 30 < 19 {
            days_after_march_22 = 27; // 18 April instead of 25 April
        }
        date(year, 3, 22) + chrono::Duration::days(i64::from(days_after_march_22))
    }

    fn on(year: i32, holiday: Holiday) -> NaiveDate {
        let matches: Vec<NaiveDate> = holidays(year)
            .into_iter()
            .filter(|(_, h)| *h == holiday)
            .map(|(d, _)| d)
            .collect();
        assert_eq!(matches.len(), 1, "{holiday:?} appears once in {year}");
        matches[0]
    }

    #[test]
    fn easter_agrees_with_gauss_for_every_year_from_1900_to_2100() {
        for year in 1900..=2100 {
            assert_eq!(easter_sunday(year), gauss_easter(year), "Easter {year}");
        }
    }

    #[test]
    fn easter_agrees_with_gauss_through_2200_as_well() {
        for year in 2101..=2200 {
            assert_eq!(easter_sunday(year), gauss_easter(year), "Easter {year}");
        }
    }

    #[test]
    fn easter_falls_on_the_known_dates() {
        assert_eq!(easter_sunday(2024), date(2024, 3, 31));
        assert_eq!(easter_sunday(2025), date(2025, 4, 20));
        assert_eq!(easter_sunday(2026), date(2026, 4, 5));
        assert_eq!(easter_sunday(2027), date(2027, 3, 28));
        assert_eq!(easter_sunday(2000), date(2000, 4, 23));
        assert_eq!(easter_sunday(2038), date(2038, 4, 25));
        // The two Gauss exceptions: 1981 (d = 29, e = 6) and 1954 (d = 28, e = 6).
        assert_eq!(easter_sunday(1981), date(1981, 4, 19));
        assert_eq!(easter_sunday(1954), date(1954, 4, 18));
    }

    #[test]
    fn easter_is_always_a_sunday_between_22_march_and_25_april() {
        for year in 1900..=2200 {
            let easter = easter_sunday(year);
            assert_eq!(easter.weekday(), Weekday::Sun, "{year}");
            assert!(
                easter >= date(year, 3, 22) && easter <= date(year, 4, 25),
                "{year}"
            );
        }
    }

    #[test]
    fn the_movable_days_fall_on_their_weekdays_and_windows_every_year_from_2000_to_2100() {
        let count = holidays(2000).len();
        for year in 2000..=2100 {
            let list = holidays(year);
            assert_eq!(list.len(), count, "{year}");
            assert!(list.windows(2).all(|w| w[0].0 <= w[1].0), "{year} sorted");

            let midsommar = on(year, Holiday::Midsommardagen);
            assert_eq!(midsommar.weekday(), Weekday::Sat, "{year}");
            assert!(midsommar >= date(year, 6, 20) && midsommar <= date(year, 6, 26));

            let afton = on(year, Holiday::Midsommarafton);
            assert_eq!(afton.weekday(), Weekday::Fri, "{year}");
            assert!(afton >= date(year, 6, 19) && afton <= date(year, 6, 25));
            assert_eq!(afton.succ_opt().unwrap(), midsommar);

            let alla_helgon = on(year, Holiday::AllaHelgonsDag);
            assert_eq!(alla_helgon.weekday(), Weekday::Sat, "{year}");
            assert!(alla_helgon >= date(year, 10, 31) && alla_helgon <= date(year, 11, 6));

            assert_eq!(on(year, Holiday::Langfredagen).weekday(), Weekday::Fri);
            assert_eq!(on(year, Holiday::Paskafton).weekday(), Weekday::Sat);
            assert_eq!(on(year, Holiday::AnnandagPask).weekday(), Weekday::Mon);
            assert_eq!(
                on(year, Holiday::KristiHimmelsfardsdag).weekday(),
                Weekday::Thu
            );
            assert_eq!(on(year, Holiday::Pingstdagen).weekday(), Weekday::Sun);
        }
    }

    #[test]
    fn every_year_lists_each_named_day_exactly_once() {
        for year in 1900..=2200 {
            let list = holidays(year);
            assert_eq!(list.len(), Holiday::ALL.len(), "{year}");
            for holiday in Holiday::ALL {
                assert_eq!(list.iter().filter(|(_, h)| *h == holiday).count(), 1);
            }
        }
    }

    #[test]
    fn the_2027_list_has_the_expected_movable_days() {
        let list = holidays(2027);
        for expected in [
            (date(2027, 3, 26), Holiday::Langfredagen),
            (date(2027, 3, 28), Holiday::Paskdagen),
            (date(2027, 3, 29), Holiday::AnnandagPask),
            (date(2027, 5, 6), Holiday::KristiHimmelsfardsdag),
            (date(2027, 5, 16), Holiday::Pingstdagen),
            (date(2027, 6, 25), Holiday::Midsommarafton),
            (date(2027, 6, 26), Holiday::Midsommardagen),
            (date(2027, 11, 6), Holiday::AllaHelgonsDag),
        ] {
            assert!(
                list.contains(&expected),
                "{expected:?} missing from {list:?}"
            );
        }
        assert_eq!(list.first(), Some(&(date(2027, 1, 1), Holiday::Nyarsdagen)));
        assert_eq!(
            list.last(),
            Some(&(date(2027, 12, 31), Holiday::Nyarsafton))
        );
    }

    #[test]
    fn every_day_has_a_swedish_name_and_only_the_eves_and_paskafton_are_not_helgdagar() {
        assert_eq!(Holiday::TrettondedagJul.name(), "trettondedag jul");
        assert_eq!(
            Holiday::KristiHimmelsfardsdag.name(),
            "Kristi himmelsfärdsdag"
        );
        assert_eq!(Holiday::Nationaldagen.name(), "Sveriges nationaldag");
        let not_helgdagar: Vec<Holiday> = Holiday::ALL
            .into_iter()
            .filter(|h| !h.is_allman_helgdag())
            .collect();
        assert_eq!(
            not_helgdagar,
            [
                Holiday::Paskafton,
                Holiday::Midsommarafton,
                Holiday::Julafton,
                Holiday::Nyarsafton
            ]
        );
        let not_moving: Vec<Holiday> = Holiday::ALL
            .into_iter()
            .filter(|h| !h.moves_a_deadline())
            .collect();
        assert_eq!(not_moving, [Holiday::Paskafton]);
    }

    #[test]
    fn the_eves_of_christmas_new_year_and_midsummer_are_not_vardagar() {
        assert!(!is_vardag(date(2026, 12, 24)));
        assert!(!is_vardag(date(2026, 12, 31)));
        assert!(!is_vardag(date(2026, 6, 19)));
        assert!(is_vardag(date(2026, 6, 22)));
    }

    #[test]
    fn weekday_holidays_and_weekends_are_not_vardagar_but_annandag_pingst_is() {
        assert!(!is_vardag(date(2026, 4, 3))); // långfredagen
        assert!(!is_vardag(date(2026, 4, 6))); // annandag påsk
        assert!(!is_vardag(date(2026, 5, 14))); // Kristi himmelsfärdsdag
        assert!(!is_vardag(date(2026, 1, 6))); // trettondedag jul
        assert!(!is_vardag(date(2026, 6, 6))); // Saturday and nationaldagen
        assert!(!is_vardag(date(2026, 3, 7))); // ordinary Saturday
        assert!(!is_vardag(date(2026, 3, 8))); // ordinary Sunday
        assert!(is_vardag(date(2026, 5, 25))); // annandag pingst, abolished 2005
        assert!(is_vardag(date(2026, 3, 9))); // ordinary Monday
    }

    #[test]
    fn the_next_vardag_after_christmas_2026_is_the_28th() {
        assert_eq!(next_vardag(date(2026, 12, 24)), date(2026, 12, 28));
        assert_eq!(next_vardag(date(2026, 12, 28)), date(2026, 12, 28));
        assert_eq!(next_vardag(date(2026, 12, 31)), date(2027, 1, 4));
        assert_eq!(next_vardag(date(2026, 4, 3)), date(2026, 4, 7));
    }

    #[test]
    fn the_non_vardagar_of_2027_are_the_weekends_plus_the_weekday_holidays() {
        let days = non_vardagar(2027);
        assert!(
            days.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, no duplicates"
        );
        // 2027 has 52 Saturdays and 52 Sundays (it starts on a Friday and has 365 days).
        // Named days on Monday–Friday: nyårsdagen (Fri), trettondedag jul (Wed), långfredagen,
        // annandag påsk, Kristi himmelsfärdsdag, midsommarafton, julafton (Fri), nyårsafton (Fri).
        assert_eq!(days.len(), 52 + 52 + 8, "{days:?}");
        let reason = |d: NaiveDate| {
            days.iter()
                .find(|(day, _)| *day == d)
                .map(|(_, r)| r.as_str())
        };
        assert_eq!(reason(date(2027, 1, 2)), Some("lördag"));
        assert_eq!(reason(date(2027, 1, 3)), Some("söndag"));
        assert_eq!(reason(date(2027, 1, 6)), Some("trettondedag jul"));
        assert_eq!(reason(date(2027, 3, 27)), Some("påskafton"));
        assert_eq!(reason(date(2027, 6, 26)), Some("midsommardagen"));
        assert_eq!(reason(date(2027, 12, 25)), Some("juldagen"));
        assert_eq!(reason(date(2027, 6, 7)), None);
    }

    #[test]
    fn two_named_days_on_one_date_are_both_named() {
        // 2008: Easter 23 March, so Kristi himmelsfärdsdag fell on första maj.
        let reason = non_vardagar(2008)
            .into_iter()
            .find(|(d, _)| *d == date(2008, 5, 1))
            .map(|(_, r)| r);
        assert_eq!(
            reason.as_deref(),
            Some("första maj och Kristi himmelsfärdsdag")
        );
    }
}
