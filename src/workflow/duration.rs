//! Durations as people write them in workflow files: `30d`, `2w`, `12h`, `90m`, `1d12h`.

use chrono::Duration;

/// Parses a duration: one or more `<number><unit>` parts, units `w` (weeks), `d` (days),
/// `h` (hours), `m` (minutes), `s` (seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration; write e.g. 30d, 2w, 12h, 90m or 1d12h");
    let mut total = Duration::zero();
    let mut digits = String::new();
    let mut any = false;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        total += match c {
            'w' => Duration::weeks(n),
            'd' => Duration::days(n),
            'h' => Duration::hours(n),
            'm' => Duration::minutes(n),
            's' => Duration::seconds(n),
            _ => return Err(bad()),
        };
        any = true;
    }
    if !digits.is_empty() || !any || total <= Duration::zero() {
        return Err(bad());
    }
    Ok(total)
}

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
