//! Wall-clock time in Unix milliseconds, the one clock every crate reads, and the instant
//! notation the tools take on their command lines (`2026-12-01T09:00:00Z`).

use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::ParseError;
use crate::Expiry;

/// Milliseconds since the Unix epoch; 0 for a clock set before 1970.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The UTC date of `ms` (`2026-12-01`) and the milliseconds into that day.
fn civil(ms: i64) -> (String, i64) {
    let date = Expiry::from_unix_days(ms.div_euclid(86_400_000))
        .map(|e| e.iso())
        .unwrap_or_default();
    (date, ms.rem_euclid(86_400_000))
}

/// `2026-12-01T09:00:00.000Z`: the timestamps of the replaced system's JSON.
pub fn iso_ms(ms: i64) -> String {
    let (date, t) = civil(ms);
    format!(
        "{date}T{:02}:{:02}:{:02}.{:03}Z",
        t / 3_600_000,
        t / 60_000 % 60,
        t / 1000 % 60,
        t % 1000
    )
}

/// The present as `iso_ms` writes it.
pub fn now_iso() -> String {
    iso_ms(now_ms())
}

/// `2026-12-01 09:00:00 UTC`: a time written for people (alert messages).
pub fn utc_seconds(ms: i64) -> String {
    let (date, t) = civil(ms);
    let s = t / 1000;
    format!(
        "{date} {:02}:{:02}:{:02} UTC",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Parses an instant in UTC: `2026-12-01T09:00:00Z` (seconds and the `Z` optional, a space
/// allowed for the `T`, fractions of a second allowed), a bare date `2026-12-01` (midnight), or
/// Unix milliseconds. Dates are those of expiry codes: years 2000 to 2099.
pub fn parse_instant_ms(text: &str) -> Result<i64, ParseError> {
    let bad = || ParseError::Instant(text.to_string());
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<i64>().map_err(|_| bad());
    }
    if t.len() < 10 || !t.is_char_boundary(10) {
        return Err(bad());
    }
    let (date, rest) = t.split_at(10);
    let day = Expiry::parse(date).map_err(|_| bad())?;
    let mut ms = day.days_since_epoch() * 86_400_000;
    if rest.is_empty() {
        return Ok(ms);
    }
    let rest = rest
        .strip_prefix(['T', 't', ' '])
        .ok_or_else(bad)?
        .trim_end_matches(['Z', 'z']);
    let (hms, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let parts: Vec<&str> = hms.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(bad());
    }
    let limits = [24, 60, 60];
    let mut scale = 3_600_000;
    for (part, limit) in parts.iter().zip(limits) {
        if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let v: i64 = part.parse().map_err(|_| bad())?;
        if v >= limit {
            return Err(bad());
        }
        ms += v * scale;
        scale /= 60;
    }
    if !frac.is_empty() {
        if parts.len() != 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let digits: String = frac.chars().chain("000".chars()).take(3).collect();
        ms += digits.parse::<i64>().map_err(|_| bad())?;
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_in_every_accepted_notation() {
        assert_eq!(parse_instant_ms("2000-01-01").unwrap(), 946_684_800_000);
        assert_eq!(
            parse_instant_ms("2026-12-01T09:00:00Z").unwrap(),
            1_796_115_600_000
        );
        assert_eq!(
            parse_instant_ms("2026-12-01 09:00").unwrap(),
            1_796_115_600_000
        );
        assert_eq!(
            parse_instant_ms("2026-12-01T09:00:00.25Z").unwrap(),
            1_796_115_600_250
        );
        assert_eq!(
            parse_instant_ms("1796115600000").unwrap(),
            1_796_115_600_000
        );
        assert_eq!(
            parse_instant_ms("2028-02-29T23:59:59Z").unwrap() + 1000,
            parse_instant_ms("2028-03-01").unwrap()
        );
    }

    #[test]
    fn malformed_instants_are_refused() {
        for t in [
            "",
            "2026-13-01",
            "2027-02-29",
            "2026-12-01T24:00",
            "2026-12-01T09",
            "2026-12-01T9:00",
            "2026-12-01X09:00",
            "2026-12-01T09:00.5",
            "-5",
            "yesterday",
            "2026-12-01T09:00:00+01:00",
        ] {
            assert!(parse_instant_ms(t).is_err(), "{t:?} accepted");
        }
    }

    #[test]
    fn instants_written_for_json_and_for_people() {
        let ms = parse_instant_ms("2026-12-01T09:05:07.25Z").unwrap();
        assert_eq!(iso_ms(ms), "2026-12-01T09:05:07.250Z");
        assert_eq!(utc_seconds(ms), "2026-12-01 09:05:07 UTC");
    }

    #[test]
    fn the_clock_is_after_this_code_was_written() {
        assert!(now_ms() > parse_instant_ms("2026-01-01").unwrap());
    }
}
