//! Durations as people write them in workflow files: `30d`, `2w`, `12h`, `90m`, `1d12h`.

use chrono::Duration;

/// Parses a duration: one or more `<number><unit>` parts, units `w` (weeks), `d` (days),
/// `h` (hours), `m` (minutes), `s` (seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration; write e.g. 30d, 2w, 12h, 90m or 1d12h");
    let too_long = || format!("{text:?} is longer than {MAX_DAYS} days");
    let mut seconds: i64 = 0;
    let mut digits = String::new();
    let mut any = false;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        let unit: i64 = match c {
            'w' => 7 * 86_400,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        // Counted in checked seconds and bounded: a date must be able to move this far.
        seconds = n
            .checked_mul(unit)
            .and_then(|s| seconds.checked_add(s))
            .filter(|s| *s <= MAX_DAYS * 86_400)
            .ok_or_else(too_long)?;
        any = true;
    }
    if !digits.is_empty() || !any || seconds <= 0 {
        return Err(bad());
    }
    Ok(Duration::seconds(seconds))
}

/// The longest duration a workflow may name: a hundred years, beyond any deadline a
/// municipality keeps and well within how far a date can be moved (so a timer of any length
/// that validates can be started).
pub const MAX_DAYS: i64 = 36_525;

/// Writes a duration back in the same notation.
pub fn format_duration(d: Duration) -> String {
    let mut secs = d.num_seconds();
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzzing findings F4 and F5 (`fuzz/FINDINGS.md`): a duration too long for chrono panicked
    /// the parser, and one too long for a date panicked the engine.
    #[test]
    fn a_duration_longer_than_a_century_is_refused_not_a_panic() {
        for text in [
            "99999999999w",
            "9999999999w9999999999w",
            "99999999999d",
            "36526d",
        ] {
            let err = parse_duration(text).unwrap_err();
            assert!(err.contains("longer than 36525 days"), "{text}: {err}");
        }
        assert_eq!(parse_duration("36525d"), Ok(Duration::days(MAX_DAYS)));
        let far = crate::domain::calendar::add_local(chrono::Utc::now(), Duration::days(MAX_DAYS));
        assert!(far > chrono::Utc::now());
    }

    #[test]
    fn durations_read_in_every_unit_and_in_combination() {
        assert_eq!(parse_duration("30d"), Ok(Duration::days(30)));
        assert_eq!(parse_duration("2w"), Ok(Duration::weeks(2)));
        assert_eq!(parse_duration("1d12h"), Ok(Duration::hours(36)));
        assert_eq!(format_duration(Duration::hours(36)), "1d12h");
        for bad in ["", "30", "d", "3x", "0d", "-1d", "1.5d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
