//! Networks in CIDR notation, with host bits cleared: `203.0.113.77/24` is `203.0.113.0/24`.
//!
//! The address follows the strict [`ipv4`] and [`ipv6`] rules and the
//! prefix length is decimal without leading zeros. An IPv4-mapped IPv6 network with a prefix of
//! at least 96 (`::ffff:192.0.2.0/120`) is the IPv4 network (`192.0.2.0/24`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Reason, ipv4, ipv6};

/// Parses `address/prefix` and returns the network address (host bits cleared) and the prefix
/// length. Does not refang or trim, and does not allocate.
pub fn parse(text: &str) -> Result<(IpAddr, u8), Reason> {
    let (address, prefix) = text.split_once('/').ok_or(Reason::CidrNoPrefix)?;
    let address = match ipv4::has_shape(address) {
        true => IpAddr::V4(ipv4::parse(address)?),
        false => IpAddr::V6(ipv6::parse(address)?),
    };
    let max = match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    let prefix_len = parse_prefix_len(prefix, max)?;
    Ok(network(address, prefix_len))
}

/// Clears the host bits of `address` for a prefix of `prefix_len` bits, turning an IPv4-mapped
/// IPv6 network of prefix 96 or more into the IPv4 network.
///
/// `prefix_len` must not exceed the address's bit count; larger values are clamped.
pub fn network(address: IpAddr, prefix_len: u8) -> (IpAddr, u8) {
    match address {
        IpAddr::V4(v4) => {
            let prefix_len = prefix_len.min(32);
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix_len)).unwrap_or(0);
            (IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask)), prefix_len)
        }
        IpAddr::V6(v6) => {
            let prefix_len = prefix_len.min(128);
            if let (Some(v4), 96..) = (v6.to_ipv4_mapped(), prefix_len) {
                return network(IpAddr::V4(v4), prefix_len - 96);
            }
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix_len)).unwrap_or(0);
            (IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask)), prefix_len)
        }
    }
}

/// Tells whether `text` has the shape of a cidr: an IP-shaped address, `/`, and digits.
pub(crate) fn has_shape(text: &str) -> bool {
    let Some((address, prefix)) = text.split_once('/') else {
        return false;
    };
    let is_ip_shaped = ipv4::has_shape(address) || ipv6::has_shape(address);
    is_ip_shaped && !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit())
}

fn parse_prefix_len(text: &str, max: u8) -> Result<u8, Reason> {
    let is_decimal = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if !is_decimal {
        return Err(Reason::CidrPrefixSyntax);
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(Reason::CidrPrefixLeadingZero);
    }
    match text.parse::<u8>() {
        Ok(prefix_len) if prefix_len <= max => Ok(prefix_len),
        _ => Err(Reason::CidrPrefixRange { max }),
    }
}
