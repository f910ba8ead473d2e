//! IPv6 addresses, written in RFC 5952 form (which is what `std`'s `Ipv6Addr` displays).
//!
//! Zone ids (`fe80::1%eth0`) are rejected: they name an interface of one host, so the same text
//! means different things on different machines. IPv4-mapped addresses (`::ffff:192.0.2.1`) parse
//! here as IPv6; [`Observable`](super::Observable) turns them into the IPv4 address.

use std::net::Ipv6Addr;

use super::Reason;

/// Parses an IPv6 address without brackets. Does not refang or trim, and does not allocate.
pub fn parse(text: &str) -> Result<Ipv6Addr, Reason> {
    if text.contains('%') {
        return Err(Reason::Ipv6ZoneId);
    }
    text.parse().map_err(|_| Reason::Ipv6Syntax)
}

/// Tells whether `text` has the shape of an IPv6 address: hex digits, colons (at least two) and
/// dots, optionally followed by a `%` zone id, or anything in square brackets.
pub(crate) fn has_shape(text: &str) -> bool {
    if text.starts_with('[') && text.ends_with(']') {
        return true;
    }
    let address = text.split_once('%').map_or(text, |(address, _zone)| address);
    let n_colons = address.bytes().filter(|&b| b == b':').count();
    n_colons >= 2 && address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
}
