//! Observables: one canonical atomic value (an IP, a domain, a hash, ...).
//! Two spellings of one thing parse to one `Observable`.

use std::fmt;
use std::str::FromStr;

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

/// The error for a kind name that is not one of [`ObservableKind::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown observable kind {0:?}")]
pub struct UnknownKind(pub String);

/// One canonical observable.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Observable {
    kind: ObservableKind,
    // Invariant: `value` is the canonical text form for `kind`, so equal values mean the same thing.
    value: Box<str>,
}

impl Observable {
    /// Parses any observable, guessing its kind, refanging first.
    pub fn parse(text: &str) -> Result<Observable, ObservableError> {
        Err(ObservableError::Unrecognised { input: text.to_owned() })
    }

    /// Parses `text` as the given kind, refanging first. A `/32` or `/128` cidr yields the address
    /// itself and an IPv4-mapped IPv6 address yields the IPv4 address, so the result's kind may differ.
    pub fn parse_as(kind: ObservableKind, text: &str) -> Result<Observable, ObservableError> {
        let _ = kind;
        Err(ObservableError::Unrecognised { input: text.to_owned() })
    }

    /// Returns the kind.
    pub fn kind(&self) -> ObservableKind {
        self.kind
    }

    /// Returns the canonical text.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for Observable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// Why a text is not an observable.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ObservableError {
    /// The text matches no observable kind.
    #[error("not an observable: {input:?}")]
    Unrecognised {
        /// The text as given.
        input: String,
    },
}
