//! Autonomous system numbers, canonical as `AS64500`.
//!
//! Accepted: `AS64500`, `as64500`, `ASN64500`, `AS 64500` (one space), and the asdot form of
//! RFC 5396 (`AS1.10` is `AS65546`). Both halves of an asdot number are at most 65535, and no
//! number has a leading zero. A bare number (`64500`) is an ASN only when the caller says so with
//! [`Observable::parse_as`](super::Observable::parse_as); guessing never reads a number as an ASN.

use super::Reason;

/// Parses an ASN with or without its `AS`/`ASN` prefix. Does not refang, trim or allocate.
pub fn parse(text: &str) -> Result<u32, Reason> {
    let number = strip_prefix(text).unwrap_or(text);
    match number.split_once('.') {
        None => parse_number(number, u32::MAX),
        Some((high, low)) => {
            let high = parse_number(high, u32::from(u16::MAX))?;
            let low = parse_number(low, u32::from(u16::MAX))?;
            Ok(high << 16 | low)
        }
    }
}

/// Tells whether `text` has the shape of a prefixed ASN: `AS` or `ASN`, an optional space, and
/// digits with at most one dot.
pub(crate) fn has_shape(text: &str) -> bool {
    let Some(number) = strip_prefix(text) else {
        return false;
    };
    let n_dots = number.bytes().filter(|&b| b == b'.').count();
    let starts_with_digit = number.bytes().next().is_some_and(|b| b.is_ascii_digit());
    starts_with_digit && n_dots <= 1 && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// Strips `AS`, `ASN`, `AS ` or `ASN ` in any case.
fn strip_prefix(text: &str) -> Option<&str> {
    let head = text.get(..2).filter(|head| head.eq_ignore_ascii_case("as"))?;
    let rest = &text[head.len()..];
    let rest = match rest.as_bytes().first() {
        Some(b'n' | b'N') => &rest[1..],
        _ => rest,
    };
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

fn parse_number(digits: &str, max: u32) -> Result<u32, Reason> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Reason::AsnSyntax);
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(Reason::AsnLeadingZero);
    }
    match digits.parse::<u32>() {
        Ok(number) if number <= max => Ok(number),
        _ => Err(Reason::AsnRange),
    }
}
