//! Cheap shape checks that decide whether a run of bytes is worth handing to the canonical parser.
//! None of them allocates.

use crate::observable::ObservableKind;
use crate::observable::domain::{self, SuffixKind};

/// The length of the shortest observable text: `::1` and `AS1`; an e-mail address, a domain
/// (`a.io`), an IPv4 address and a URL are longer.
pub(super) const MIN_OBSERVABLE_LEN: usize = 3;

/// The length of the shortest hash (MD5, 32 hex digits).
pub(super) const MIN_HASH_LEN: usize = 32;

/// Public suffixes that are also common file extensions. A literal two-label name ending in one
/// (`invoice.zip`, `setup.py`, `README.md`) is a file name, not a domain. Suffixes at least as
/// common as real domains in threat data (`.cc`, `.pl`, `.in`, `.ml`, `.app`, ...) are left out.
const FILE_EXTENSION_SUFFIXES: [&[u8]; 13] = [
    b"download",
    b"md",
    b"mov",
    b"pid",
    b"pm",
    b"pub",
    b"py",
    b"rs",
    b"run",
    b"sh",
    b"so",
    b"tf",
    b"zip",
];

/// First labels that mark a reverse-DNS identifier (`com.google.android`, `org.apache.commons`):
/// Java packages and app bundle ids, which name no host.
const REVERSE_DNS_FIRST_LABELS: [&[u8]; 6] = [b"com", b"edu", b"gov", b"io", b"net", b"org"];

/// A letter, a digit or `_`.
const WORD: u8 = 1;
/// A word byte, `-` or `.`.
const HOST: u8 = 1 << 1;
/// A hex digit.
const HEX: u8 = 1 << 2;
/// A letter.
pub(super) const ALPHA: u8 = 1 << 3;
/// `-` or `_`.
pub(super) const DASH: u8 = 1 << 4;

/// The class bits of the steps, one table look-up per byte.
static BYTE_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 128 {
        let b = byte as u8;
        let is_word = b.is_ascii_alphanumeric() || b == b'_';
        table[byte] = if is_word { WORD | HOST } else { 0 }
            | if b == b'-' || b == b'.' { HOST } else { 0 }
            | if b.is_ascii_hexdigit() { HEX } else { 0 }
            | if b.is_ascii_alphabetic() { ALPHA } else { 0 }
            | if b == b'-' || b == b'_' { DASH } else { 0 };
        byte += 1;
    }
    table
};

/// Returns the class bits of a byte; a host byte has [`is_host_byte`], a letter [`ALPHA`].
pub(super) fn byte_class(byte: u8) -> u8 {
    BYTE_CLASS[usize::from(byte)]
}

/// Whether the class bits are those of a host byte.
pub(super) fn is_host_class(class: u8) -> bool {
    class & HOST != 0
}

/// Whether the byte can be part of a word: a letter, a digit or `_`.
pub(super) fn is_word_byte(byte: u8) -> bool {
    BYTE_CLASS[usize::from(byte)] & WORD != 0
}

/// Whether the byte can be part of a host name: a letter, a digit, `-`, `_` or `.`.
pub(super) fn is_host_byte(byte: u8) -> bool {
    BYTE_CLASS[usize::from(byte)] & HOST != 0
}

/// Whether the bytes hold a run of at least [`MIN_HASH_LEN`] hex digits.
pub(super) fn has_long_hex_run(bytes: &[u8]) -> bool {
    let mut run = 0;
    for &byte in bytes {
        run = if BYTE_CLASS[usize::from(byte)] & HEX != 0 { run + 1 } else { 0 };
        if run >= MIN_HASH_LEN {
            return true;
        }
    }
    false
}

/// Whether the bytes hold `AS` or `as` followed by a digit or `N`, where an ASN might be.
pub(super) fn has_asn_start(bytes: &[u8]) -> bool {
    // `byte | 0x20` folds the case of letters: only `S` and `s` give `s`, only `A` and `a` give `a`.
    let mut from = 1;
    while let Some(found) =
        bytes.get(from..).and_then(|rest| rest.iter().position(|&byte| byte | 0x20 == b's'))
    {
        let ess = from + found;
        let next = bytes.get(ess + 1).copied().unwrap_or_default();
        if bytes[ess - 1] | 0x20 == b'a' && (next.is_ascii_digit() || next | 0x20 == b'n') {
            return true;
        }
        from = ess + 1;
    }
    false
}

/// Whether the bytes start like `AS64500` or `ASN64500`.
pub(super) fn starts_like_asn(bytes: &[u8]) -> bool {
    matches!(bytes, [b'A', b'S', next, ..] | [b'a', b's', next, ..]
        if next.is_ascii_digit() || next.eq_ignore_ascii_case(&b'n'))
}

/// Whether the word is `AS` or `ASN` (either case, not mixed) followed by one to ten digits.
pub(super) fn is_asn(word: &[u8]) -> bool {
    let ([b'A', b'S', b'N', digits @ ..]
    | [b'a', b's', b'n', digits @ ..]
    | [b'A', b'S', digits @ ..]
    | [b'a', b's', digits @ ..]) = word
    else {
        return false;
    };
    (1..=10).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit)
}

/// Returns the hash kind of a word that is exactly a hash's length of hex digits and holds both
/// digits and letters (an all-digit run is a number, an all-letter one a word).
pub(super) fn hash_kind(word: &[u8]) -> Option<ObservableKind> {
    let kind = match word.len() {
        32 => ObservableKind::Md5,
        40 => ObservableKind::Sha1,
        64 => ObservableKind::Sha256,
        128 => ObservableKind::Sha512,
        _ => return None,
    };
    let mut has_digit = false;
    let mut has_letter = false;
    for &byte in word {
        match byte {
            b'0'..=b'9' => has_digit = true,
            b'a'..=b'f' | b'A'..=b'F' => has_letter = true,
            _ => return None,
        }
    }
    (has_digit && has_letter).then_some(kind)
}

/// Whether the text is four dot-separated runs of one to three digits.
pub(super) fn is_dotted_quad(text: &[u8]) -> bool {
    let mut n_dots = 0;
    let mut part_len = 0;
    for &byte in text {
        match byte {
            b'0'..=b'9' if part_len < 3 => part_len += 1,
            b'.' if part_len > 0 && n_dots < 3 => {
                n_dots += 1;
                part_len = 0;
            }
            _ => return false,
        }
    }
    n_dots == 3 && part_len > 0
}

/// Whether the text (hex digits, `:` and `.` only) has the shape of an IPv6 address worth
/// parsing: two or more colons; either `::` or all eight groups (the last two may be a dotted
/// quad); groups of at most four hex digits; and at least one decimal digit, so words like
/// `dead::beef` and times like `12:30:45` are left alone.
pub(super) fn is_ipv6_like(text: &[u8]) -> bool {
    let mut n_colons = 0;
    let mut has_double_colon = false;
    let mut has_digit = false;
    let mut previous = 0;
    for &byte in text {
        if byte == b':' {
            n_colons += 1;
            has_double_colon |= previous == b':';
        } else {
            has_digit |= byte.is_ascii_digit();
        }
        previous = byte;
    }
    // Without `::`, all eight groups are needed, the last two maybe as a dotted quad.
    if !(2..=7).contains(&n_colons) || !has_digit || (!has_double_colon && n_colons < 6) {
        return false;
    }
    let mut groups = text.split(|&byte| byte == b':').peekable();
    let mut ends_in_quad = false;
    while let Some(group) = groups.next() {
        let is_last = groups.peek().is_none();
        if is_last && group.contains(&b'.') {
            if !is_dotted_quad(group) {
                return false;
            }
            ends_in_quad = true;
        } else if group.len() > 4 || group.contains(&b'.') {
            return false;
        }
    }
    let full_groups = if ends_in_quad { 6 } else { 7 };
    has_double_colon || n_colons == full_groups
}

/// Whether the name (letters, digits, `-`, `_`, `.`; no empty label) looks like a domain: its last
/// label is alphabetic or punycode, its case is not that of an anti-virus detection name, and it
/// ends in a known public suffix with at least one label before it (a private-section suffix
/// such as `duckdns.org` may stand alone). When `is_literal` is set (the name stands as written
/// in prose, not defanged nor part of an address), a two-label name with a file-extension suffix
/// (see [`FILE_EXTENSION_SUFFIXES`]) and a reverse-DNS identifier (`com.google.android`) are refused.
pub(super) fn is_domain_like(name: &[u8], is_literal: bool) -> bool {
    const MAX_NAME_LEN: usize = 253;
    if name.len() > MAX_NAME_LEN {
        return false;
    }
    let Some(last_dot) = name.iter().rposition(|&byte| byte == b'.') else { return false };
    let last_label = &name[last_dot + 1..];
    let is_alphabetic = last_label.len() >= 2 && last_label.iter().all(u8::is_ascii_alphabetic);
    let is_punycode = last_label.len() > 4
        && last_label[..4].eq_ignore_ascii_case(b"xn--")
        && last_label.iter().all(|&byte| byte.is_ascii_alphanumeric() || byte == b'-');
    if !is_alphabetic && !is_punycode {
        return false;
    }
    // `Trojan.Script.GE`, `Js.Tr`: an upper-case suffix after lower-case text is a detection name.
    let suffix_has_upper = last_label.iter().any(u8::is_ascii_uppercase);
    if suffix_has_upper && name.iter().any(u8::is_ascii_lowercase) {
        return false;
    }

    let mut buffer = [0u8; MAX_NAME_LEN];
    let lowered = match name.iter().any(u8::is_ascii_uppercase) {
        true => {
            let lowered = &mut buffer[..name.len()];
            lowered.copy_from_slice(name);
            lowered.make_ascii_lowercase();
            &*lowered
        }
        false => name,
    };
    let Some((suffix_len, suffix_kind)) = domain::public_suffix(lowered) else { return false };
    if suffix_len == name.len() {
        return suffix_kind == SuffixKind::Private;
    }
    if !is_literal {
        return true;
    }
    let labels_before_suffix = &lowered[..name.len() - suffix_len - 1];
    let first_label = labels_before_suffix.split(|&byte| byte == b'.').next().unwrap_or_default();
    let is_two_labels = first_label.len() == labels_before_suffix.len();
    let is_file_name =
        is_two_labels && FILE_EXTENSION_SUFFIXES.contains(&&lowered[name.len() - suffix_len..]);
    let is_reverse_dns = !is_two_labels && REVERSE_DNS_FIRST_LABELS.contains(&first_label);
    !is_file_name && !is_reverse_dns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_extension_suffixes_are_public_suffixes() {
        for suffix in FILE_EXTENSION_SUFFIXES {
            let name = [b"invoice.", suffix].concat();
            assert!(is_domain_like(&name, false), "{}", String::from_utf8_lossy(&name));
            assert!(!is_domain_like(&name, true), "{}", String::from_utf8_lossy(&name));
        }
    }

    #[test]
    fn checks_domain_shapes() {
        for (name, expected) in [
            ("example.com", true),
            ("EXAMPLE.COM", true),
            ("Mochahost.com", true),
            ("report.pdf", false),
            ("index.html", false),
            ("Trojan.Script.GE", false),
            ("co.za", false),
            ("duckdns.org", true),
            ("login.invoice.zip", true),
            ("xn--80ak6aa92e.com", true),
            ("example.xn--p1ai", true),
            ("1.2.3.4", false),
            ("example.c0m", false),
            ("com.google.android", false),
            ("org.example.com", false),
        ] {
            assert_eq!(is_domain_like(name.as_bytes(), true), expected, "{name}");
        }
    }

    #[test]
    fn checks_ipv6_shapes() {
        for (text, expected) in [
            ("2001:db8::1", true),
            ("::1", true),
            ("::ffff:192.0.2.1", true),
            ("2001:db8:0:0:0:0:0:1", true),
            ("12:30:45", false),
            ("00:11:22:33:44:55", false),
            ("dead::beef", false),
            ("2001:db8::12345", false),
            ("1:2:3:4:5:6:1.2.3.4", true),
        ] {
            assert_eq!(is_ipv6_like(text.as_bytes()), expected, "{text}");
        }
    }
}
