//! Observables: one canonical atomic value (an IP, a domain, a hash, ...).
//! Two spellings of one thing parse to one `Observable`.
//!
//! [`Observable::parse`] refangs its input, trims it, guesses the kind from the text's shape and
//! hands it to the parser of that kind. The first shape that matches wins, and a text that has a
//! kind's shape but is invalid gets that kind's reason (`010.0.0.1`: "ipv4 octet has a leading
//! zero") rather than "not an observable". The shapes, in order:
//!
//! 1. asn: `AS` or `ASN`, an optional space, digits with at most one dot (`AS64500`, `AS1.10`);
//!    a bare number is never guessed to be an ASN;
//! 2. ipv4: a digit, then digits and dots only (so `010.0.0.1` and `1.2.3.256` get an ipv4 error);
//! 3. ipv6: hex digits, dots and at least two colons, optionally a `%` zone id, or anything in
//!    square brackets;
//! 4. cidr: an IP-shaped address, `/`, digits;
//! 5. hash: 16 or more hex digits, the kind by length (other lengths get a hash length error);
//! 6. url: a scheme followed by `://`;
//! 7. email: `mailto:` or an `@`;
//! 8. url without a scheme: a `/` or `?` after a host that contains a dot or is bracketed;
//! 9. domain: anything else with a dot (ASCII or ideographic) and a letter or digit.
//!
//! Everything else is [`ObservableError::Unrecognised`].
//! The per-kind modules hold the rules of each kind and allocation-free helpers for hot loops.

pub mod asn;
pub mod cidr;
pub mod domain;
pub mod email;
mod error;
pub mod hash;
pub mod ipv4;
pub mod ipv6;
pub mod refang;
pub mod url;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::de::Error as _;
use serde::ser::SerializeStruct as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use self::error::{ObservableError, Reason};
pub use self::refang::refang;

/// The kind of an observable.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObservableKind {
    /// An autonomous system number, `AS64500`.
    Asn,
    /// An IPv4 or IPv6 network with host bits cleared, `203.0.113.0/24`.
    Cidr,
    /// A domain name ending in a public suffix, punycode, lower-case.
    Domain,
    /// An e-mail address whose domain part is canonical.
    Email,
    /// An IPv4 address, dotted quad.
    Ipv4,
    /// An IPv6 address in RFC 5952 form.
    Ipv6,
    /// An MD5 hash, 32 lower-case hex digits.
    Md5,
    /// A SHA-1 hash, 40 lower-case hex digits.
    Sha1,
    /// A SHA-256 hash, 64 lower-case hex digits.
    Sha256,
    /// A SHA-512 hash, 128 lower-case hex digits.
    Sha512,
    /// A URL with canonical scheme, host and port.
    Url,
}

impl ObservableKind {
    /// Every kind, in alphabetical order.
    pub const ALL: [ObservableKind; 11] = [
        ObservableKind::Asn,
        ObservableKind::Cidr,
        ObservableKind::Domain,
        ObservableKind::Email,
        ObservableKind::Ipv4,
        ObservableKind::Ipv6,
        ObservableKind::Md5,
        ObservableKind::Sha1,
        ObservableKind::Sha256,
        ObservableKind::Sha512,
        ObservableKind::Url,
    ];

    /// Returns the kind's stable lower-case name, as used in JSON output (`"ipv4"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ObservableKind::Asn => "asn",
            ObservableKind::Cidr => "cidr",
            ObservableKind::Domain => "domain",
            ObservableKind::Email => "email",
            ObservableKind::Ipv4 => "ipv4",
            ObservableKind::Ipv6 => "ipv6",
            ObservableKind::Md5 => "md5",
            ObservableKind::Sha1 => "sha1",
            ObservableKind::Sha256 => "sha256",
            ObservableKind::Sha512 => "sha512",
            ObservableKind::Url => "url",
        }
    }
}

impl fmt::Display for ObservableKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ObservableKind {
    type Err = UnknownKind;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ObservableKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| UnknownKind(text.to_owned()))
    }
}

impl Serialize for ObservableKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ObservableKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(D::Error::custom)
    }
}

/// The error for a kind name that is not one of [`ObservableKind::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown observable kind {0:?}")]
pub struct UnknownKind(pub String);

/// One canonical observable.
///
/// Serialises as `{"kind":"ipv4","value":"192.0.2.1"}` and deserialises through
/// [`Observable::parse_as`], so a non-canonical value becomes canonical and an invalid one is an error.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Observable {
    kind: ObservableKind,
    // Invariant: `value` is the canonical text form for `kind`, so equal values mean the same thing.
    value: Box<str>,
}

impl Observable {
    /// Parses any observable, guessing its kind (see the [module docs](self)), refanging first.
    pub fn parse(text: &str) -> Result<Observable, ObservableError> {
        let refanged = refang(text);
        let token = refanged.trim();
        if token.is_empty() {
            return Err(ObservableError::Invalid { reason: Reason::Empty, input: text.to_owned() });
        }
        let kind = match guess(token) {
            Ok(kind) => kind,
            Err(Some(reason)) => {
                return Err(ObservableError::Invalid { reason, input: text.to_owned() });
            }
            Err(None) => return Err(ObservableError::Unrecognised { input: text.to_owned() }),
        };
        parse_token(kind, token, &mut String::new())
            .map_err(|reason| ObservableError::Invalid { reason, input: text.to_owned() })
    }

    /// Parses `text` as the given kind, refanging first. A `/32` or `/128` cidr yields the address
    /// itself and an IPv4-mapped IPv6 address yields the IPv4 address, so the result's kind may differ.
    /// A cidr without a prefix length is the address itself too, and an asn may be a bare number.
    pub fn parse_as(kind: ObservableKind, text: &str) -> Result<Observable, ObservableError> {
        // A domain in its canonical form, as a store and an index cache file hold each one they
        // give back, is only checked against the rules (see `domain::check_canonical`).
        let canonical_domain = match kind {
            ObservableKind::Domain => domain::check_canonical(text),
            _ => None,
        };
        let parsed = match canonical_domain {
            Some(checked) => checked.map(|()| Observable::from_canonical(kind, text)),
            None => parse_token(kind, refang(text).trim(), &mut String::new()),
        };
        parsed.map_err(|reason| ObservableError::Invalid { reason, input: text.to_owned() })
    }

    /// Returns the observable of an IP address: an IPv4-mapped IPv6 address becomes IPv4.
    pub fn from_ip(address: IpAddr) -> Observable {
        match address {
            IpAddr::V4(v4) => Observable::from_ipv4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Observable::from_ipv4(v4),
                None => Observable::new(ObservableKind::Ipv6, v6.to_string()),
            },
        }
    }

    /// Returns the observable of a network: host bits are cleared, a full-length prefix yields the
    /// address itself and a prefix longer than the address is clamped to its length.
    pub fn from_network(address: IpAddr, prefix_len: u8) -> Observable {
        let (network, prefix_len) = cidr::network(address, prefix_len);
        let is_host = match network {
            IpAddr::V4(_) => prefix_len == 32,
            IpAddr::V6(_) => prefix_len == 128,
        };
        match is_host {
            true => Observable::from_ip(network),
            false => Observable::new(ObservableKind::Cidr, format!("{network}/{prefix_len}")),
        }
    }

    /// Returns the observable of an autonomous system number.
    pub fn from_asn(number: u32) -> Observable {
        let mut value = String::with_capacity(2 + decimal_len(number));
        value.push_str("AS");
        push_decimal(&mut value, number);
        Observable::new(ObservableKind::Asn, value)
    }

    /// Returns the kind.
    pub fn kind(&self) -> ObservableKind {
        self.kind
    }

    /// Returns the canonical text.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Returns the address of an ipv4 or ipv6 observable.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.kind {
            ObservableKind::Ipv4 => self.value.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
            ObservableKind::Ipv6 => self.value.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
            _ => None,
        }
    }

    /// Returns the network address and prefix length of a cidr observable.
    pub fn cidr(&self) -> Option<(IpAddr, u8)> {
        match self.kind {
            ObservableKind::Cidr => cidr::parse(&self.value).ok(),
            _ => None,
        }
    }

    /// Returns the network covered by an ipv4, ipv6 or cidr observable: an address is its own `/32`
    /// or `/128`. This is what a prefix match index stores.
    pub fn network(&self) -> Option<(IpAddr, u8)> {
        match self.ip() {
            Some(address @ IpAddr::V4(_)) => Some((address, 32)),
            Some(address @ IpAddr::V6(_)) => Some((address, 128)),
            None => self.cidr(),
        }
    }

    /// Returns the number of an asn observable.
    pub fn asn(&self) -> Option<u32> {
        match self.kind {
            ObservableKind::Asn => asn::parse(&self.value).ok(),
            _ => None,
        }
    }

    /// Returns the host name of a domain (the domain itself), the host of a url (a domain, a
    /// dotted quad or an IPv6 address without brackets) or the domain part of an email.
    pub fn host(&self) -> Option<&str> {
        match self.kind {
            ObservableKind::Domain => Some(&self.value),
            ObservableKind::Url => url::host(&self.value),
            ObservableKind::Email => email::domain(&self.value),
            _ => None,
        }
    }

    /// Builds an observable from text that is canonical for `kind`.
    fn new(kind: ObservableKind, value: String) -> Observable {
        Observable { kind, value: value.into_boxed_str() }
    }

    /// Builds an observable from borrowed text that is canonical for `kind`, with one allocation.
    fn from_canonical(kind: ObservableKind, value: &str) -> Observable {
        Observable { kind, value: Box::from(value) }
    }

    /// Returns the observable of an IPv4 address, written without the formatting machinery.
    fn from_ipv4(address: Ipv4Addr) -> Observable {
        let octets = address.octets();
        let len = 3 + octets.iter().map(|&octet| decimal_len(u32::from(octet))).sum::<usize>();
        let mut value = String::with_capacity(len);
        for (idx, octet) in octets.into_iter().enumerate() {
            if idx > 0 {
                value.push('.');
            }
            push_decimal(&mut value, u32::from(octet));
        }
        Observable::new(ObservableKind::Ipv4, value)
    }
}

impl fmt::Display for Observable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl Serialize for Observable {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut object = serializer.serialize_struct("Observable", 2)?;
        object.serialize_field("kind", &self.kind)?;
        object.serialize_field("value", &*self.value)?;
        object.end()
    }
}

impl<'de> Deserialize<'de> for Observable {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            kind: ObservableKind,
            value: String,
        }
        let raw = Raw::deserialize(deserializer)?;
        Observable::parse_as(raw.kind, &raw.value).map_err(D::Error::custom)
    }
}

/// Guesses the kind of a refanged, trimmed token from its shape, in the order of the module docs.
/// `Err(Some(_))` is a token that looks like a hash of no known length.
fn guess(token: &str) -> Result<ObservableKind, Option<Reason>> {
    if asn::has_shape(token) {
        return Ok(ObservableKind::Asn);
    }
    if ipv4::has_shape(token) {
        return Ok(ObservableKind::Ipv4);
    }
    if ipv6::has_shape(token) {
        return Ok(ObservableKind::Ipv6);
    }
    if cidr::has_shape(token) {
        return Ok(ObservableKind::Cidr);
    }
    if hash::has_shape(token) {
        return hash::kind_for_len(token.len())
            .ok_or(Some(Reason::HashLength { len: token.len() }));
    }
    if url::has_scheme(token) {
        return Ok(ObservableKind::Url);
    }
    if email::has_mailto(token) || token.contains('@') {
        return Ok(ObservableKind::Email);
    }
    let host = token.split(['/', '?']).next().unwrap_or(token);
    let has_path_or_query = host.len() < token.len();
    let is_host_shaped = host.contains('.') || (host.starts_with('[') && host.ends_with(']'));
    if has_path_or_query && is_host_shaped {
        return Ok(ObservableKind::Url);
    }
    // UTS 46 maps the ideographic and fullwidth full stops to dots.
    let has_dot = token.contains(['.', '\u{3002}', '\u{ff0e}', '\u{ff61}']);
    let has_name_char = token.chars().any(char::is_alphanumeric);
    if has_dot && has_name_char {
        return Ok(ObservableKind::Domain);
    }
    Err(None)
}

/// Parses a trimmed token that holds no defang marker (as [`refang`] leaves it) as `kind`, with
/// one allocation for the result when it parses. `scratch` is a buffer for kinds whose canonical
/// text is built piece by piece, so a caller parsing many tokens can reuse it.
pub(crate) fn parse_token(
    kind: ObservableKind,
    token: &str,
    scratch: &mut String,
) -> Result<Observable, Reason> {
    debug_assert!(matches!(refang(token), std::borrow::Cow::Borrowed(_)), "{token:?} is defanged");
    if token.is_empty() {
        return Err(Reason::Empty);
    }
    Ok(match kind {
        ObservableKind::Asn => Observable::from_asn(asn::parse(token)?),
        ObservableKind::Cidr if !token.contains('/') => parse_ip(token)?,
        ObservableKind::Cidr => {
            let (address, prefix_len) = cidr::parse(token)?;
            Observable::from_network(address, prefix_len)
        }
        ObservableKind::Domain => Observable::from_canonical(kind, &domain::parse(token)?),
        ObservableKind::Email => {
            email::parse_into(scratch, token)?;
            Observable::from_canonical(kind, scratch)
        }
        ObservableKind::Ipv4 => {
            // A dotted quad that parses is its own canonical text (see `ipv4::parse`).
            ipv4::parse(token)?;
            Observable::from_canonical(kind, token)
        }
        ObservableKind::Ipv6 => {
            let bare =
                token.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')).unwrap_or(token);
            Observable::from_ip(IpAddr::V6(ipv6::parse(bare)?))
        }
        ObservableKind::Md5
        | ObservableKind::Sha1
        | ObservableKind::Sha256
        | ObservableKind::Sha512 => Observable::from_canonical(kind, &hash::parse_as(kind, token)?),
        // Most feed URLs are canonical already, and checking that is cheaper than rebuilding them.
        ObservableKind::Url if url::is_canonical(token) => Observable::from_canonical(kind, token),
        ObservableKind::Url => {
            url::parse_into(scratch, token)?;
            Observable::from_canonical(kind, scratch)
        }
    })
}

/// A small deterministic generator (xorshift64) for the randomised tests of the observables.
#[cfg(test)]
pub(crate) fn test_random(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// Returns the number of decimal digits of `number`.
fn decimal_len(number: u32) -> usize {
    // `checked_ilog10` is `None` only for 0, which has one digit; the result is at most 9.
    number.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// Appends `number` in decimal to `out`, without the formatting machinery.
fn push_decimal(out: &mut String, number: u32) {
    let mut digits = [0u8; 10];
    let mut remaining = number;
    let mut start = digits.len();
    loop {
        start -= 1;
        // Cannot truncate: a remainder of 10 is below 256.
        digits[start] = b'0' + (remaining % 10) as u8;
        remaining /= 10;
        if remaining == 0 {
            break;
        }
    }
    out.extend(digits[start..].iter().map(|&digit| char::from(digit)));
}

/// Parses a bare IPv4 or IPv6 address given where a cidr was expected.
fn parse_ip(token: &str) -> Result<Observable, Reason> {
    let address = match ipv4::has_shape(token) {
        true => IpAddr::V4(ipv4::parse(token)?),
        false => IpAddr::V6(ipv6::parse(token)?),
    };
    Ok(Observable::from_ip(address))
}
