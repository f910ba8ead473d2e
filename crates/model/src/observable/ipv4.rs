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
    // Most texts asked are well-formed addresses (every log line holds some): one pass takes
    // them; anything else goes the careful way, which names the reason.
    match parse_plain(text.as_bytes()) {
        Some(address) => Ok(address),
        None => parse_careful(text.as_bytes()),
    }
}

/// Parses a strict dotted quad in one pass, as [`parse`] does, without the reason for a refusal
/// (for callers that only need the address, such as a log scanner asking millions of values).
pub fn try_parse(text: &str) -> Option<Ipv4Addr> {
    parse_plain(text.as_bytes())
}

// A strict dotted quad in one pass, or `None` for anything else (then `parse_careful` decides).
// It reads an octet at a time (one to three digits, then a dot or the end), so a branch is taken
// per octet rather than per byte.
fn parse_plain(bytes: &[u8]) -> Option<Ipv4Addr> {
    if !(7..=15).contains(&bytes.len()) {
        return None;
    }
    let mut address = 0u32;
    let mut at = 0;
    for part in 0..4 {
        let (octet, length) = strict_octet(&bytes[at..])?;
        address = address << 8 | u32::from(octet);
        at += length;
        let is_last = part == 3;
        match bytes.get(at) {
            None if is_last => return Some(Ipv4Addr::from(address)),
            Some(b'.') if !is_last => at += 1,
            _ => return None,
        }
    }
    None
}

/// The number `bytes` starts with, as a strict dotted quad writes each of its four (one to three
/// digits without a leading zero, at most 255), and how many bytes it takes; what follows it is
/// the caller's to check. For scanners that read a quad on from a part they already parsed.
#[inline]
pub fn strict_octet(bytes: &[u8]) -> Option<(u8, usize)> {
    // A byte's digit value, or 10 and more for any other byte: a branch a number, not a byte.
    let digit = |at: usize| bytes.get(at).map_or(10, |byte| u16::from(byte.wrapping_sub(b'0')));
    let first = digit(0);
    if first > 9 {
        return None;
    }
    let second = digit(1);
    let (number, length) = if second > 9 {
        (first, 1)
    } else if first == 0 {
        // A leading zero.
        return None;
    } else {
        let third = digit(2);
        if third > 9 { (first * 10 + second, 2) } else { (first * 100 + second * 10 + third, 3) }
    };
    u8::try_from(number).ok().map(|number| (number, length))
}

fn parse_careful(bytes: &[u8]) -> Result<Ipv4Addr, Reason> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass path takes exactly what the careful one takes, as the same address; the
    /// careful one names the reasons.
    #[test]
    fn both_paths_agree_on_every_short_text_of_digits_and_dots() {
        let mut next = crate::observable::test_random(0x2545_f491_4f6c_dd1d);
        let alphabet = b"0123456789.0125.x";
        let mut accepted = 0;
        for _ in 0..300_000 {
            let len = (next() % 18) as usize;
            let text: String =
                (0..len).map(|_| char::from(alphabet[(next() % 17) as usize])).collect();
            let careful = parse_careful(text.as_bytes());
            let plain = parse_plain(text.as_bytes());
            if let Some(address) = plain {
                assert_eq!(careful, Ok(address), "{text}");
            }
            assert_eq!(parse(&text), careful, "{text}");
            assert_eq!(try_parse(&text), careful.ok(), "{text}");
            accepted += usize::from(careful.is_ok());
        }
        for text in ["0.0.0.0", "255.255.255.255", "10.1.2.3", "192.168.100.200"] {
            assert_eq!(parse_plain(text.as_bytes()), Some(text.parse().unwrap()), "{text}");
        }
        for text in ["256.1.1.1", "01.1.1.1", "1.1.1", "1.1.1.1.", "1..1.1", "1.1.1.1000"] {
            assert_eq!(parse_plain(text.as_bytes()), None, "{text}");
            assert!(parse(text).is_err(), "{text}");
        }
        assert!(accepted > 100, "random texts hit valid addresses too: {accepted}");
    }
}
