//! STIX timestamps: RFC 3339 in UTC (`2016-01-20T12:31:12.123Z`), kept as the exact text given
//! and compared by the instant they denote.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::{Error, ErrorKind};

/// How many fractional-second digits a formatted timestamp has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Precision {
    /// Three digits, `12:31:12.123Z`: what STIX 2.1 asks for `created` and `modified`.
    Millis,
    /// Six digits, `12:31:12.123456Z`: what TAXII 2.1 uses for its dates.
    Micros,
}

/// A STIX 2.1 timestamp (section 3.2 of the specification).
///
/// Parsing keeps the text exactly as given, so serialising yields it again. Equality, ordering and
/// hashing follow the instant (to the nanosecond), so `…00Z` and `…00.000Z` are equal.
/// Fraction digits past the ninth are kept in the text but do not take part in comparisons.
/// Leap seconds (`:60`) are rejected.
#[derive(Clone, Debug)]
pub struct Timestamp {
    // Invariant: `text` is `YYYY-MM-DDTHH:MM:SS[.f+]Z` with a valid date and time, and
    // `seconds`/`nanos` are the instant it denotes (seconds since the Unix epoch, nanoseconds).
    text: Box<str>,
    seconds: i64,
    nanos: u32,
}

impl Timestamp {
    /// Parses an RFC 3339 timestamp with the time zone `Z`, as STIX requires.
    pub fn parse(text: &str) -> Result<Timestamp, Error> {
        let invalid = |reason: &str| {
            Error::new(ErrorKind::Timestamp, format!("invalid timestamp {text:?}: {reason}"))
        };
        let bytes = text.as_bytes();
        if bytes.len() < 20 {
            return Err(invalid("too short"));
        }
        let shape_ok = bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes[10] == b'T'
            && bytes[13] == b':'
            && bytes[16] == b':';
        if !shape_ok {
            return Err(invalid("expected YYYY-MM-DDTHH:MM:SS"));
        }
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            let digits = &bytes[range];
            digits
                .iter()
                .all(u8::is_ascii_digit)
                .then(|| digits.iter().fold(0, |acc, digit| acc * 10 + u32::from(digit - b'0')))
        };
        let fields = (
            number(0..4),
            number(5..7),
            number(8..10),
            number(11..13),
            number(14..16),
            number(17..19),
        );
        let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = fields
        else {
            return Err(invalid("expected digits"));
        };
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(invalid("no such date"));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(invalid("no such time of day"));
        }
        let rest = &bytes[19..];
        let (fraction, zone) = match rest.split_first() {
            Some((b'.', after_dot)) => {
                let n_digits = after_dot.iter().take_while(|byte| byte.is_ascii_digit()).count();
                (&after_dot[..n_digits], &after_dot[n_digits..])
            }
            _ => (&rest[..0], rest),
        };
        if rest.first() == Some(&b'.') && fraction.is_empty() {
            return Err(invalid("empty fraction of a second"));
        }
        if zone != b"Z" {
            return Err(invalid("expected the time zone Z at the end"));
        }
        let nanos = fraction
            .iter()
            .chain(std::iter::repeat(&b'0'))
            .take(9)
            .fold(0, |acc, digit| acc * 10 + u32::from(digit - b'0'));
        let days = days_from_civil(i64::from(year), month, day);
        let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
        Ok(Timestamp { text: text.into(), seconds, nanos })
    }

    /// Builds the timestamp for `unix_nanos` nanoseconds since the Unix epoch, formatted with
    /// `precision` fraction digits (extra digits are truncated, not rounded).
    pub fn from_unix_nanos(unix_nanos: i64, precision: Precision) -> Timestamp {
        let seconds = unix_nanos.div_euclid(1_000_000_000);
        // Cannot fail: `rem_euclid` of 10^9 lies in 0..10^9, which fits in u32.
        let nanos = u32::try_from(unix_nanos.rem_euclid(1_000_000_000)).expect("below 10^9");
        Timestamp::from_parts(seconds, nanos, precision)
    }

    /// Returns the same instant formatted with `precision` fraction digits (truncating).
    pub fn with_precision(&self, precision: Precision) -> Timestamp {
        Timestamp::from_parts(self.seconds, self.nanos, precision)
    }

    /// Returns the text, exactly as parsed or built.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Returns whole seconds since the Unix epoch (negative before 1970).
    pub fn unix_seconds(&self) -> i64 {
        self.seconds
    }

    /// Returns the nanoseconds past [`Timestamp::unix_seconds`], below 10^9.
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// Returns nanoseconds since the Unix epoch.
    pub fn unix_nanos(&self) -> i128 {
        i128::from(self.seconds) * 1_000_000_000 + i128::from(self.nanos)
    }

    fn from_parts(seconds: i64, nanos: u32, precision: Precision) -> Timestamp {
        let days = seconds.div_euclid(86_400);
        // Cannot truncate: `rem_euclid` of 86 400 lies in 0..86 400.
        let second_of_day = seconds.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        let (hour, minute, second) =
            (second_of_day / 3600, second_of_day % 3600 / 60, second_of_day % 60);
        let (fraction, n_digits) = match precision {
            Precision::Millis => (nanos / 1_000_000, 3),
            Precision::Micros => (nanos / 1_000, 6),
        };
        let truncated_nanos = match precision {
            Precision::Millis => nanos / 1_000_000 * 1_000_000,
            Precision::Micros => nanos / 1_000 * 1_000,
        };
        // Built digit by digit: readers make a timestamp per feed row, and `format!` was a tenth
        // of the time of a CSV row.
        let text = match u32::try_from(year) {
            Ok(year) if year <= 9999 => {
                let mut text = String::with_capacity(27);
                let parts = [
                    (year, 4, '-'),
                    (month, 2, '-'),
                    (day, 2, 'T'),
                    (hour, 2, ':'),
                    (minute, 2, ':'),
                    (second, 2, '.'),
                    (fraction, n_digits, 'Z'),
                ];
                for (value, width, separator) in parts {
                    push_padded(&mut text, value, width);
                    text.push(separator);
                }
                text
            }
            _ => format!(
                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{fraction:0width$}Z",
                width = n_digits as usize
            ),
        };
        Timestamp { text: text.into(), seconds, nanos: truncated_nanos }
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Timestamp) -> bool {
        (self.seconds, self.nanos) == (other.seconds, other.nanos)
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Timestamp) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Timestamp) -> Ordering {
        (self.seconds, self.nanos).cmp(&(other.seconds, other.nanos))
    }
}

impl Hash for Timestamp {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.seconds, self.nanos).hash(state);
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Timestamp {
    type Err = Error;

    fn from_str(text: &str) -> Result<Timestamp, Error> {
        Timestamp::parse(text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        super::common::parse_string(deserializer, Timestamp::parse)
    }
}

fn is_leap_year(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Days since 1970-01-01 of a proleptic Gregorian date, after Howard Hinnant's `days_from_civil`
// (http://howardhinnant.github.io/date_algorithms.html).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

// The inverse of `days_from_civil`.
/// Appends `value` in decimal, zero-padded to `width` digits (more digits if it needs them).
fn push_padded(text: &mut String, mut value: u32, width: u32) {
    // A u32 has at most 10 digits, and the widths asked for are at most 6.
    let mut digits = [0u8; 10];
    let mut n_digits = 0;
    while (value > 0 || n_digits < width as usize) && n_digits < digits.len() {
        // Cannot truncate: a decimal digit is below 10.
        digits[n_digits] = b'0' + (value % 10) as u8;
        value /= 10;
        n_digits += 1;
    }
    text.extend(digits[..n_digits].iter().rev().map(|&digit| char::from(digit)));
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    // Cannot fail: the day lies in 1..=31 and the month in 1..=12 by construction.
    let day = u32::try_from(day_of_year - (153 * month_index + 2) / 5 + 1).expect("day in 1..=31");
    let month = u32::try_from(if month_index < 10 { month_index + 3 } else { month_index - 9 })
        .expect("month in 1..=12");
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}
