//! Expiry dates as Bybit writes them (`3SEP25`), zero-padded (`03SEP25`) or ISO (`2025-09-03`).
//!
//! An [`Expiry`] is a calendar date; its ordering is chronological, which string order of the
//! codes is not (`10SEP25` < `3SEP25` as text). Options expire at 08:00 UTC of that date.

use std::fmt;

use crate::error::ParseError;

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

/// Milliseconds from midnight UTC to the 08:00 UTC delivery time.
const DELIVERY_OFFSET_MS: i64 = 8 * 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// A calendar date on which options expire. Field order makes the derived `Ord` chronological.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Expiry {
    year: u16,
    month: u8,
    day: u8,
}

impl Expiry {
    /// A date, checked for existence (leap years included). Years are 2000..=2099 because the
    /// two-digit codes cannot name any other century.
    pub fn from_ymd(year: u16, month: u8, day: u8) -> Result<Self, ParseError> {
        if !(2000..=2099).contains(&year) || !(1..=12).contains(&month) {
            return Err(ParseError::Expiry(format!("{year:04}-{month:02}-{day:02}")));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(ParseError::Expiry(format!("{year:04}-{month:02}-{day:02}")));
        }
        Ok(Expiry { year, month, day })
    }

    /// Parses `3SEP25`, `03SEP25`, `2025-09-03` (any letter case).
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let bad = || ParseError::Expiry(text.to_string());
        let b = text.as_bytes();
        if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
            let year = parse_digits(&b[0..4]).ok_or_else(bad)?;
            let month = parse_digits(&b[5..7]).ok_or_else(bad)?;
            let day = parse_digits(&b[8..10]).ok_or_else(bad)?;
            return Expiry::from_ymd(year as u16, month as u8, day as u8).map_err(|_| bad());
        }
        // D[D]MMMYY
        let day_len = match b.len() {
            6 => 1,
            7 => 2,
            _ => return Err(bad()),
        };
        let day = parse_digits(&b[..day_len]).ok_or_else(bad)?;
        let mon = &b[day_len..day_len + 3];
        let month = MONTHS
            .iter()
            .position(|m| m.as_bytes().eq_ignore_ascii_case(mon))
            .ok_or_else(bad)?;
        let yy = parse_digits(&b[day_len + 3..]).ok_or_else(bad)?;
        Expiry::from_ymd(2000 + yy as u16, month as u8 + 1, day as u8).map_err(|_| bad())
    }

    pub fn year(&self) -> u16 {
        self.year
    }
    pub fn month(&self) -> u8 {
        self.month
    }
    pub fn day(&self) -> u8 {
        self.day
    }

    /// Bybit's own form, as used inside symbols: `3SEP25`, `26DEC25`.
    pub fn code(&self) -> String {
        format!(
            "{}{}{:02}",
            self.day,
            MONTHS[self.month as usize - 1],
            self.year % 100
        )
    }

    /// The seed's display form with a two-digit day: `03SEP25`.
    pub fn padded(&self) -> String {
        format!(
            "{:02}{}{:02}",
            self.day,
            MONTHS[self.month as usize - 1],
            self.year % 100
        )
    }

    /// `2025-09-03`.
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// Days since 1970-01-01.
    pub fn days_since_epoch(&self) -> i64 {
        days_from_civil(self.year as i64, self.month as i64, self.day as i64)
    }

    /// Delivery time: 08:00 UTC on the expiry date, in Unix milliseconds.
    pub fn timestamp_ms(&self) -> i64 {
        self.days_since_epoch() * DAY_MS + DELIVERY_OFFSET_MS
    }

    /// The date `days` after 1970-01-01, if it is within the codes' century.
    pub fn from_unix_days(days: i64) -> Option<Self> {
        let (y, m, d) = civil_from_days(days);
        Expiry::from_ymd(u16::try_from(y).ok()?, m as u8, d as u8).ok()
    }

    /// Years until delivery from `now_ms`, floored at zero (Black-76's `T`).
    pub fn years_until(&self, now_ms: i64) -> f64 {
        ((self.timestamp_ms() - now_ms) as f64 / (365.0 * DAY_MS as f64)).max(0.0)
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

fn parse_digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
}

fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        _ => 28,
    }
}

// Howard Hinnant's civil-date algorithms: exact for the proleptic Gregorian calendar.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_all_three_forms_case_insensitively() {
        let e = Expiry::from_ymd(2025, 9, 3).unwrap();
        for text in ["3SEP25", "03SEP25", "3sep25", "03Sep25", "2025-09-03"] {
            assert_eq!(Expiry::parse(text).unwrap(), e, "{text}");
        }
        assert_eq!(e.code(), "3SEP25");
        assert_eq!(e.padded(), "03SEP25");
        assert_eq!(e.iso(), "2025-09-03");
    }

    #[test]
    fn rejects_impossible_dates_and_garbage() {
        for text in [
            "",
            "SEP25",
            "32JAN25",
            "0JAN25",
            "29FEB25",
            "31APR26",
            "3SEPT25",
            "3SEP2025",
            "123SEP25",
            "2025-13-01",
            "2025-02-30",
            "2025/09/03",
            "1999-01-01",
            "3S3P25",
            "+3SEP25",
        ] {
            assert!(Expiry::parse(text).is_err(), "{text:?} should be rejected");
        }
        assert!(Expiry::parse("29FEB28").is_ok());
    }

    #[test]
    fn delivery_is_eight_utc() {
        // 2025-12-26T08:00:00Z
        assert_eq!(
            Expiry::parse("26DEC25").unwrap().timestamp_ms(),
            1_766_736_000_000
        );
        assert!(Expiry::parse("1JAN70").is_ok(), "two-digit years are 20YY");
    }

    #[test]
    fn ordering_is_chronological_not_textual() {
        let mut v: Vec<Expiry> = ["10SEP25", "3SEP25", "26DEC25", "27MAR26", "30SEP25"]
            .iter()
            .map(|s| Expiry::parse(s).unwrap())
            .collect();
        v.sort();
        let codes: Vec<String> = v.iter().map(Expiry::code).collect();
        assert_eq!(
            codes,
            ["3SEP25", "10SEP25", "30SEP25", "26DEC25", "27MAR26"]
        );
    }

    proptest! {
        #[test]
        fn code_padded_iso_round_trip(days in 10_957i64..47_482) {
            let e = Expiry::from_unix_days(days).unwrap();
            prop_assert_eq!(Expiry::parse(&e.code()).unwrap(), e);
            prop_assert_eq!(Expiry::parse(&e.padded()).unwrap(), e);
            prop_assert_eq!(Expiry::parse(&e.iso()).unwrap(), e);
            prop_assert_eq!(e.days_since_epoch(), days);
        }

        #[test]
        fn order_matches_timestamps(a in 10_957i64..47_482, b in 10_957i64..47_482) {
            let (ea, eb) = (Expiry::from_unix_days(a).unwrap(), Expiry::from_unix_days(b).unwrap());
            prop_assert_eq!(ea.cmp(&eb), ea.timestamp_ms().cmp(&eb.timestamp_ms()));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,12}") {
            let _ = Expiry::parse(&s);
        }
    }
}
