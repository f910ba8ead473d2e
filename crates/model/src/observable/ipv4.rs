//! IPv4 addresses: a strict dotted quad.
//!
//! Leading zeros are rejected rather than read as decimal or octal: `010.0.0.1` is `8.0.0.1` to
//! `inet_aton` and `10.0.0.1` to most people, so guessing would file an indicator under the wrong
//! address. Shortened (`10.1`), hexadecimal and integer forms are rejected for the same reason.

use std::net::Ipv4Addr;

use super::Reason;

/// Parses a strict dotted-quad IPv4 address. Does not refang or trim, and does not allocate.
///
/// A text that parses is its own canonical form: exactly what `Ipv4Addr` displays.
pub fn parse(text: &str) -> Result<Ipv4Addr, Reason> {
    let bytes = text.as_bytes();
    if bytes.iter().filter(|&&b| b == b'.').count() != 3 {
        return Err(Reason::Ipv4Syntax);
    }
    let mut octets = [0u8; 4];
    for (slot, part) in octets.iter_mut().zip(bytes.split(|&b| b == b'.')) {
        *slot = parse_octet(part)?;
    }
    Ok(Ipv4Addr::from(octets))
}

/// Tells whether `text` has the shape of an IPv4 address: a digit, then digits and dots with at
/// least one dot.
pub(crate) fn has_shape(text: &str) -> bool {
    let starts_with_digit = text.bytes().next().is_some_and(|b| b.is_ascii_digit());
    starts_with_digit && text.contains('.') && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

fn parse_octet(part: &[u8]) -> Result<u8, Reason> {
    let is_decimal = !part.is_empty() && part.iter().all(u8::is_ascii_digit);
    if !is_decimal {
        return Err(Reason::Ipv4Syntax);
    }
    if part.len() > 1 && part[0] == b'0' {
        return Err(Reason::Ipv4LeadingZero);
    }
    if part.len() > 3 {
        return Err(Reason::Ipv4OctetRange);
    }
    let value = part.iter().fold(0u16, |value, &digit| value * 10 + u16::from(digit - b'0'));
    u8::try_from(value).map_err(|_| Reason::Ipv4OctetRange)
}
