//! Why a text is not an observable: [`ObservableError`] for callers, and the allocation-free
//! [`Reason`] that the per-kind parsers return.

use super::ObservableKind;

/// Why a text is not an observable.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ObservableError {
    /// The text has the shape of no observable kind, so [`Observable::parse`](super::Observable::parse)
    /// could not guess one.
    #[error("not an observable: {input:?}")]
    Unrecognised {
        /// The text as given.
        input: String,
    },
    /// The text has the shape of an observable kind (or was parsed as one) but is not a valid one.
    #[error("invalid observable {input:?}: {reason}")]
    Invalid {
        /// What is wrong with it.
        reason: Reason,
        /// The text as given.
        input: String,
    },
}

impl ObservableError {
    /// Returns the text as given to the parser, before refanging.
    pub fn input(&self) -> &str {
        match self {
            ObservableError::Unrecognised { input } | ObservableError::Invalid { input, .. } => {
                input
            }
        }
    }

    /// Returns why the text is invalid, or `None` when no kind could be guessed.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            ObservableError::Unrecognised { .. } => None,
            ObservableError::Invalid { reason, .. } => Some(*reason),
        }
    }
}

/// Why a text is not a valid observable of some kind. Each message names the kind and the reason.
///
/// It is `Copy` and carries no input, so the per-kind parsers (which the extractor calls on
/// millions of tokens) return it without allocating.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Reason {
    /// The text is empty or only whitespace.
    #[error("text is empty")]
    Empty,

    /// An ASN has a leading zero.
    #[error("asn has a leading zero")]
    AsnLeadingZero,
    /// An ASN (or an asdot half) is out of range.
    #[error("asn is larger than 4294967295, or an asdot half is larger than 65535")]
    AsnRange,
    /// An ASN is not a number in asplain or asdot form.
    #[error("asn is not a number like AS64500, ASN64500, AS1.10 or 64500")]
    AsnSyntax,

    /// A cidr has no `/` and prefix length.
    #[error("cidr has no prefix length")]
    CidrNoPrefix,
    /// A cidr prefix length has a leading zero.
    #[error("cidr prefix length has a leading zero")]
    CidrPrefixLeadingZero,
    /// A cidr prefix length is larger than the address has bits.
    #[error("cidr prefix length is larger than {max}")]
    CidrPrefixRange {
        /// The largest prefix length for the address family (32 or 128).
        max: u8,
    },
    /// A cidr prefix length is not a decimal number.
    #[error("cidr prefix length is not a decimal number")]
    CidrPrefixSyntax,

    /// A domain contains a character that is not a letter, digit, hyphen, underscore or dot.
    #[error(
        "domain contains a character other than letters, digits, hyphens, underscores and dots"
    )]
    DomainCharacter,
    /// A domain has an empty label (a leading dot or two dots in a row).
    #[error("domain has an empty label")]
    DomainEmptyLabel,
    /// A domain label starts or ends with a hyphen.
    #[error("domain label starts or ends with a hyphen")]
    DomainHyphen,
    /// A domain's internationalised form is not valid under UTS 46.
    #[error("domain is not a valid internationalised domain name")]
    DomainIdna,
    /// A domain is a public suffix itself, such as `co.uk`.
    #[error("domain is a public suffix itself")]
    DomainIsSuffix,
    /// A domain label is longer than 63 octets.
    #[error("domain label is longer than 63 octets")]
    DomainLabelTooLong,
    /// A domain has one label only, such as `localhost`.
    #[error("domain has a single label")]
    DomainSingleLabel,
    /// A domain is longer than 253 octets.
    #[error("domain is longer than 253 octets")]
    DomainTooLong,
    /// A domain has an underscore in its registrable label or its public suffix.
    #[error("domain has an underscore in its registrable label or public suffix")]
    DomainUnderscore,
    /// A domain does not end in a suffix listed in the public suffix list, such as `report.pdf`.
    #[error("domain does not end in a known public suffix")]
    DomainUnknownSuffix,

    /// An e-mail local part has a character outside the RFC 5322 dot-atom.
    #[error("email local part contains a forbidden character")]
    EmailLocalCharacter,
    /// An e-mail local part starts or ends with a dot, or has two dots in a row.
    #[error("email local part has a leading, trailing or doubled dot")]
    EmailLocalDot,
    /// An e-mail local part is empty.
    #[error("email local part is empty")]
    EmailLocalEmpty,
    /// An e-mail local part is longer than 64 octets.
    #[error("email local part is longer than 64 octets")]
    EmailLocalTooLong,
    /// An e-mail address has no `@`.
    #[error("email has no @")]
    EmailNoAt,
    /// An e-mail address is longer than 254 octets.
    #[error("email is longer than 254 octets")]
    EmailTooLong,

    /// A hash contains a character that is not a hex digit.
    #[error("hash contains a character that is not a hex digit")]
    HashCharacter,
    /// A hash has a number of hex digits that no supported algorithm produces.
    #[error("hash has {len} hex digits, not 32, 40, 64 or 128")]
    HashLength {
        /// The number of characters found.
        len: usize,
    },
    /// A hash has the wrong number of hex digits for the requested kind.
    #[error("{kind} hash has {len} hex digits, expected {expected}")]
    HashLengthFor {
        /// The requested hash kind.
        kind: ObservableKind,
        /// The number of hex digits the kind has.
        expected: usize,
        /// The number of characters found.
        len: usize,
    },

    /// An IPv4 octet has a leading zero (which some parsers read as octal).
    #[error("ipv4 octet has a leading zero")]
    Ipv4LeadingZero,
    /// An IPv4 octet is larger than 255.
    #[error("ipv4 octet is larger than 255")]
    Ipv4OctetRange,
    /// An IPv4 address is not four dot-separated decimal octets.
    #[error("ipv4 address is not four dot-separated decimal octets")]
    Ipv4Syntax,

    /// An IPv6 address is malformed.
    #[error("ipv6 address is malformed")]
    Ipv6Syntax,
    /// An IPv6 address has a zone id (`%eth0`), which only means something on one host.
    #[error("ipv6 address has a zone id")]
    Ipv6ZoneId,

    /// A URL's authority contains whitespace, a control character or a backslash.
    #[error("url authority contains whitespace, a control character or a backslash")]
    UrlAuthorityCharacter,
    /// A URL has an IPv6 host without square brackets, so its port cannot be told apart.
    #[error("url ipv6 host is not in square brackets")]
    UrlIpv6Brackets,
    /// A URL has a scheme but no `//` authority after it, such as `http:/example.com`.
    #[error("url has no // after its scheme")]
    UrlNoAuthority,
    /// A URL has an empty host.
    #[error("url has no host")]
    UrlNoHost,
    /// A URL port is not a number from 0 to 65535.
    #[error("url port is not a number from 0 to 65535")]
    UrlPort,
    /// A URL is longer than [`url::MAX_LEN`](super::url::MAX_LEN) bytes.
    #[error("url is longer than 32768 bytes")]
    UrlTooLong,
}
