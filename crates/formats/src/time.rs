//! The timestamp spellings feeds use, all read as UTC into a STIX [`Timestamp`].
//!
//! Accepted: RFC 3339 (`2021-08-17T10:51:12Z`, fractions, `+00:00` and other offsets), the
//! space-separated form most CSV feeds write (`2021-08-17 10:51:12`, optionally with ` UTC`),
//! a bare date (`2021-08-17`, midnight), day-first dates (`06-02-2018 15:16:06 UTC`, OpenPhish),
//! and Unix seconds (`1613000000`, ten digits or fewer).

use watchfire_model::stix::{Precision, Timestamp};

/// Parses a feed timestamp, or says why it cannot.
pub fn parse(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    match parse_common(text) {
        Some(timestamp) => Ok(timestamp),
        None => parse_any(text),
    }
}

/// The fast path for the spelling most feeds write, `YYYY-MM-DD HH:MM:SS` (or with `T`, and
/// optionally `Z`, ` UTC` or ` GMT` after it) in the years 1900 to 2199: rewritten in place as
/// the STIX text `YYYY-MM-DDTHH:MM:SS.000Z`, which [`Timestamp::parse`] range-checks and keeps as
/// it is. That is the text, and the instant, that [`parse_any`] builds for it; anything else, a
/// bad date included, is `None` and left to [`parse_any`], which also words the error.
///
/// The years are limited because [`parse_any`] counts nanoseconds in an `i64`, which only reaches
/// 1677 to 2262, and this path must not answer differently where that overflows.
fn parse_common(text: &str) -> Option<Timestamp> {
    let text = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix(" UTC"))
        .or_else(|| text.strip_suffix(" GMT"))
        .unwrap_or(text);
    let bytes: &[u8; 19] = text.as_bytes().try_into().ok()?;
    let is_common_shape = bytes.iter().enumerate().all(|(idx, &byte)| match idx {
        4 | 7 => byte == b'-',
        10 => byte == b' ' || byte == b'T',
        13 | 16 => byte == b':',
        _ => byte.is_ascii_digit(),
    });
    let is_in_years = matches!(&bytes[..2], b"19" | b"20" | b"21");
    if !is_common_shape || !is_in_years {
        return None;
    }
    let mut stix_text = [0u8; 24];
    stix_text[..19].copy_from_slice(bytes);
    stix_text[10] = b'T';
    stix_text[19..].copy_from_slice(b".000Z");
    // Cannot fail: every byte was checked to be ASCII above.
    let stix_text = std::str::from_utf8(&stix_text).ok()?;
    Timestamp::parse(stix_text).ok()
}

/// Parses any accepted spelling (see the module documentation), or says why it cannot.
fn parse_any(text: &str) -> Result<Timestamp, String> {
    let bad = || format!("bad timestamp {text:?}");
    if text.is_empty() {
        return Err("empty timestamp".to_owned());
    }
    if text.bytes().all(|byte| byte.is_ascii_digit()) {
        if text.len() > 10 {
            return Err(bad());
        }
        let seconds: i64 = text.parse().map_err(|_| bad())?;
        return Ok(Timestamp::from_unix_nanos(seconds * 1_000_000_000, Precision::Millis));
    }
    let text = text.strip_suffix(" UTC").or_else(|| text.strip_suffix(" GMT")).unwrap_or(text);
    let (date, rest) = match text.find(['T', ' ']) {
        Some(split) => (&text[..split], &text[split + 1..]),
        None => (text, ""),
    };
    let (year, month, day) = parse_date(date).ok_or_else(bad)?;
    let (clock, offset_seconds) = split_offset(rest).ok_or_else(bad)?;
    let (hour, minute, second, nanos) = parse_clock(clock).ok_or_else(bad)?;
    let days = days_from_civil(year, month, day);
    let seconds =
        days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second)
            - offset_seconds;
    let precision = if nanos % 1_000_000 == 0 { Precision::Millis } else { Precision::Micros };
    // Nanoseconds in an i64 reach the years 1677 to 2262: a date outside is a bad timestamp,
    // never an overflow.
    let unix_nanos = seconds
        .checked_mul(1_000_000_000)
        .and_then(|nanos_of_seconds| nanos_of_seconds.checked_add(i64::from(nanos)))
        .ok_or_else(|| format!("timestamp {text:?} is outside the years 1678 to 2261"))?;
    Ok(Timestamp::from_unix_nanos(unix_nanos, precision))
}

/// `YYYY-MM-DD` or `DD-MM-YYYY` (also with `/` or `.`), range-checked.
fn parse_date(date: &str) -> Option<(i64, u32, u32)> {
    let mut parts = date.split(['-', '/', '.']);
    let (first, second, third) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (year, month, day) = match (first.len(), third.len()) {
        (4, 1..=2) => (first, second, third),
        (1..=2, 4) => (third, second, first),
        _ => return None,
    };
    let year: i64 = digits(year)?.into();
    let month = digits(month)?;
    let day = digits(day)?;
    let is_leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days_in_month).contains(&day).then_some((year, month, day))
}

/// Splits a trailing `Z` or `±HH:MM` / `±HHMM` offset off a clock; returns the offset in seconds.
fn split_offset(rest: &str) -> Option<(&str, i64)> {
    if let Some(clock) = rest.strip_suffix('Z').or_else(|| rest.strip_suffix('z')) {
        return Some((clock, 0));
    }
    let Some(sign_at) = rest.rfind(['+', '-']) else { return Some((rest, 0)) };
    let (clock, offset) = rest.split_at(sign_at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let digits_only: String = offset[1..].chars().filter(|character| *character != ':').collect();
    // Checking the bytes before slicing keeps a multi-byte character out of the two-byte halves.
    if digits_only.len() != 4 || !digits_only.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let hours = i64::from(digits(&digits_only[..2])?);
    let minutes = i64::from(digits(&digits_only[2..])?);
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((clock, sign * (hours * 3600 + minutes * 60)))
}

/// `HH:MM[:SS[.fraction]]`, or empty for midnight.
fn parse_clock(clock: &str) -> Option<(u32, u32, u32, u32)> {
    if clock.is_empty() {
        return Some((0, 0, 0, 0));
    }
    let (whole, fraction) = match clock.split_once(['.', ',']) {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (clock, None),
    };
    let mut parts = whole.split(':');
    let hour = digits(parts.next()?)?;
    let minute = digits(parts.next()?)?;
    let second = match parts.next() {
        Some(second) => digits(second)?,
        None => 0,
    };
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let nanos = match fraction {
        Some(fraction) if !fraction.is_empty() && fraction.len() <= 9 => {
            let value = digits(fraction)?;
            value * 10u32.pow(9 - fraction.len() as u32)
        }
        Some(_) => return None,
        None => 0,
    };
    Some((hour, minute, second, nanos))
}

fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a year outside what nanoseconds in an i64 reach overflowed (a panic in debug
    /// builds, a wrong time in release); it is a bad timestamp, with the years it may take.
    #[test]
    fn years_beyond_the_nanosecond_range_are_bad_timestamps() {
        for text in
            ["0001-01-01 00:00:00", "9999-12-31T23:59:59Z", "1600-06-01", "2300-01-01 12:00:00"]
        {
            let error = parse(text).unwrap_err();
            assert!(error.contains("outside the years 1678 to 2261"), "{text}: {error}");
        }
        assert_eq!(parse("2261-12-31 23:59:59").unwrap().as_str(), "2261-12-31T23:59:59.000Z");
        assert_eq!(parse("1678-01-01 00:00:00").unwrap().as_str(), "1678-01-01T00:00:00.000Z");
    }

    /// The fast path gives the same timestamp, text included, as the general one wherever it
    /// answers, over every field at and around its limits.
    #[test]
    fn common_spelling_fast_path_matches_the_general_path() {
        let (mut n_checked, mut n_fast) = (0, 0);
        for year in ["0000", "1677", "1899", "1900", "1970", "2000", "2023", "2024", "2199", "2200"]
        {
            for month in 0..=13 {
                for day in [0, 1, 9, 28, 29, 30, 31, 32] {
                    for (hour, minute, second) in
                        [(0, 0, 0), (23, 59, 59), (24, 0, 0), (0, 60, 0), (0, 0, 60), (9, 5, 7)]
                    {
                        for separator in [' ', 'T', '_'] {
                            for suffix in ["", "Z", "z", " UTC", " GMT", ".5", "+01:00"] {
                                let text = format!(
                                    "{year}-{month:02}-{day:02}{separator}\
                                     {hour:02}:{minute:02}:{second:02}{suffix}"
                                );
                                n_checked += 1;
                                let Some(fast) = parse_common(&text) else { continue };
                                n_fast += 1;
                                let general = parse_any(&text).unwrap_or_else(|error| {
                                    panic!("{text:?}: fast path accepts, general path says {error}")
                                });
                                assert_eq!(fast.as_str(), general.as_str(), "{text:?}");
                                assert_eq!(fast.unix_nanos(), general.unix_nanos(), "{text:?}");
                            }
                        }
                    }
                }
            }
        }
        assert!(n_fast > n_checked / 20, "the fast path answered {n_fast} of {n_checked}");
    }

    #[test]
    fn every_feed_spelling() {
        let cases = [
            ("2021-08-17 10:51:12", "2021-08-17T10:51:12.000Z"),
            ("2021-08-17 10:51:12 UTC", "2021-08-17T10:51:12.000Z"),
            ("2021-08-17T10:51:12Z", "2021-08-17T10:51:12.000Z"),
            ("2021-08-17T10:51:12.123456Z", "2021-08-17T10:51:12.123456Z"),
            ("2021-08-17T12:51:12+02:00", "2021-08-17T10:51:12.000Z"),
            ("2021-08-17T05:51:12-0500", "2021-08-17T10:51:12.000Z"),
            ("2021-08-17", "2021-08-17T00:00:00.000Z"),
            ("06-02-2018 15:16:06 UTC", "2018-02-06T15:16:06.000Z"),
            ("1613000000", "2021-02-10T23:33:20.000Z"),
            ("2024-02-29 00:00", "2024-02-29T00:00:00.000Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse(input).map(|timestamp| timestamp.as_str().to_owned()),
                Ok(expected.to_owned()),
                "{input}"
            );
        }
    }

    #[test]
    fn bad_timestamps_say_so() {
        for input in [
            "",
            "None",
            "2021-13-01",
            "2023-02-29",
            "2021-08-17 25:00:00",
            "12345678901",
            "2021-08-17T10:51:12+2",
        ] {
            assert!(parse(input).is_err(), "{input:?} should be rejected");
        }
        assert_eq!(parse("yesterday"), Err("bad timestamp \"yesterday\"".to_owned()));
    }

    /// Found by the `cybercrime_tracker` fuzz target: a 4-byte offset holding a 3-byte character
    /// was sliced in the middle of the character.
    #[test]
    fn offset_with_a_multibyte_character_is_an_error_not_a_panic() {
        for input in [
            "15-02-2019 00:00+\u{e464}P",
            "2021-08-17T10:51:12+1\u{e9}1",
            "2021-08-17 10:51+\u{20ac}0",
        ] {
            assert_eq!(parse(input), Err(format!("bad timestamp {input:?}")), "{input:?}");
        }
    }
}
