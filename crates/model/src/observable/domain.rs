//! Domain names: lower-case, punycode (IDNA per UTS 46), no trailing dot, ending in a public suffix.
//!
//! A canonical domain:
//! - has at least two labels, each 1 to 63 octets, and at most 253 octets in all (after punycode);
//! - has labels of letters, digits and hyphens (LDH), none starting or ending with a hyphen;
//!   internationalised labels are encoded with UTS 46 (transitional processing off, as browsers do),
//!   and `xn--` labels must decode to a valid internationalised label;
//! - ends in a suffix that the public suffix list names explicitly. The list's implicit `*` rule is
//!   not enough, so `report.pdf`, `setup.exe` and `localhost` are not domains. Three special-use
//!   top-level names the list leaves out count as suffixes too: `example` and `test` (RFC 6761:
//!   documentation, test data and anonymised feeds use them, `evil.example` among them) and `onion`
//!   (RFC 7686: Tor services, which threat data often names);
//! - is more than a public suffix: `co.uk` is rejected. A name that is itself a suffix of the list's
//!   private section (`duckdns.org`, `github.io`) is accepted, because it is registered under an
//!   ICANN suffix and feeds list such names.
//!
//! Underscores: allowed in labels below the registrable domain (`_dmarc.example.com`,
//! `my_host.victim.example.com`), where DNS permits them and malware infrastructure uses them, and
//! rejected in the registrable label and the suffix, which registries never allocate with one.
//! Under a private-section suffix the registrable label is the one the suffix's operator hands
//! out, so `my_host.duckdns.org` is rejected and `_acme.my-host.duckdns.org` accepted.

use std::borrow::Cow;

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
use psl::Psl;

use super::Reason;

/// The longest domain in octets, without the trailing dot (RFC 1035 section 2.3.4, less the root).
pub const MAX_LEN: usize = 253;

/// The longest label in octets (RFC 1035 section 2.3.4).
pub const MAX_LABEL_LEN: usize = 63;

/// ASCII that UTS 46 processing must not produce: everything but letters, digits, hyphen, dot and
/// underscore. Evaluated at compile time, so the constructor's panic cannot happen at run time.
const DENY_LIST: AsciiDenyList = AsciiDenyList::new(true, "!\"#$%&'()*+,/:;<=>?@[\\]^`{|}~");

/// Special-use top-level names accepted as suffixes although the public suffix list leaves them out.
const SPECIAL_USE_SUFFIXES: [&[u8]; 3] = [b"example", b"onion", b"test"];

/// Which part of the public suffix list a suffix comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuffixKind {
    /// The ICANN section: top-level domains and the registries' own second levels (`co.uk`).
    Icann,
    /// The private section: names whose operator hands out subdomains (`duckdns.org`, `github.io`).
    Private,
    /// A special-use top-level name of [`SPECIAL_USE_SUFFIXES`].
    SpecialUse,
}

/// Returns the length in bytes of the known public suffix that ends `name` (lower-case ASCII, no
/// trailing dot) and where it comes from, or `None` when only the list's implicit `*` rule matches.
/// This is the one suffix check of the crate.
pub fn public_suffix(name: &[u8]) -> Option<(usize, SuffixKind)> {
    let last_label = name.rsplit(|&byte| byte == b'.').next().unwrap_or(name);
    if SPECIAL_USE_SUFFIXES.contains(&last_label) {
        return Some((last_label.len(), SuffixKind::SpecialUse));
    }
    let suffix = psl::List.suffix(name)?;
    let kind = match suffix.typ()? {
        psl::Type::Icann => SuffixKind::Icann,
        psl::Type::Private => SuffixKind::Private,
    };
    Some((suffix.as_bytes().len(), kind))
}

/// Parses a domain name and returns its canonical form, borrowed when `text` is already canonical.
/// Does not refang or trim. Does not allocate for canonical input.
pub fn parse(text: &str) -> Result<Cow<'_, str>, Reason> {
    let name = text.strip_suffix('.').unwrap_or(text);
    if name.is_empty() {
        return Err(Reason::Empty);
    }
    // One pass for what the checks below ask of the bytes: this runs for every domain and URL.
    let (mut has_bad_byte, mut is_ascii, mut has_upper, mut has_double_hyphen) =
        (false, true, false, false);
    let mut previous = 0;
    for byte in name.bytes() {
        has_bad_byte |= byte.is_ascii() && !is_name_byte(byte);
        is_ascii &= byte.is_ascii();
        has_upper |= byte.is_ascii_uppercase();
        has_double_hyphen |= previous == b'-' && byte == b'-';
        previous = byte;
    }
    if has_bad_byte {
        return Err(Reason::DomainCharacter);
    }
    // Only ASCII can be rejected on length before UTS 46: mapping may drop non-ASCII characters.
    if name.len() > MAX_LEN && is_ascii {
        return Err(Reason::DomainTooLong);
    }
    // An `xn--` label holds `--`, which rules most names out without the case-blind search.
    let needs_idna =
        !is_ascii || (has_double_hyphen && contains_ignore_ascii_case(name.as_bytes(), b"xn--"));
    let mut ascii = match needs_idna {
        false if has_upper => Cow::Owned(name.to_ascii_lowercase()),
        false => Cow::Borrowed(name),
        true => {
            // Length checks come after, with our own reasons.
            let uts46 = Uts46::new();
            uts46
                .to_ascii(name.as_bytes(), DENY_LIST, Hyphens::Allow, DnsLength::Ignore)
                .map_err(|_| Reason::DomainIdna)?
        }
    };
    // UTS 46 maps ideographic full stops to dots, so a trailing one becomes a trailing dot; only
    // one trailing dot is allowed in all.
    let has_stripped_dot = name.len() < text.len();
    if ascii.ends_with('.') && !has_stripped_dot {
        match &mut ascii {
            Cow::Borrowed(borrowed) => *borrowed = &borrowed[..borrowed.len() - 1],
            Cow::Owned(owned) => {
                owned.pop();
            }
        }
    }
    validate(&ascii)?;
    Ok(ascii)
}

/// Tells whether `text` is a valid domain (in any case, with or without a trailing dot).
/// Does not allocate for ASCII input without `xn--` labels, so it suits hot loops.
pub fn is_domain(text: &str) -> bool {
    let name = text.strip_suffix('.').unwrap_or(text);
    let is_plain_ascii = name.is_ascii() && !contains_ignore_ascii_case(name.as_bytes(), b"xn--");
    if !is_plain_ascii {
        return parse(text).is_ok();
    }
    let mut buffer = [0u8; MAX_LEN];
    let Some(lowered) = buffer.get_mut(..name.len()) else {
        return false;
    };
    lowered.copy_from_slice(name.as_bytes());
    lowered.make_ascii_lowercase();
    std::str::from_utf8(lowered).is_ok_and(|lowered| validate(lowered).is_ok())
}

/// Returns the registrable part of a canonical domain (the public suffix plus one label), or
/// `None` when the domain is itself a (private-section) public suffix.
pub fn registrable(domain: &str) -> Option<&str> {
    let registrable = psl::List.domain(domain.as_bytes())?;
    // The registrable part is a suffix of `domain` that starts after a dot, so a char boundary.
    domain.get(domain.len() - registrable.as_bytes().len()..)
}

/// Checks a lower-case ASCII name without trailing dot against every rule of the module docs.
///
/// One pass over the bytes checks each label as its dot (or the end) is reached, in the order of
/// the rules (empty, too long, a bad byte, an end hyphen), and notes the last underscore for the
/// check of the registrable part: this runs for every domain a feed, a cache file or a log holds.
fn validate(name: &str) -> Result<(), Reason> {
    let bytes = name.as_bytes();
    validate_classed(bytes, byte_classes(bytes))
}

// The intersection and the union of the classes of `bytes`: one table load a byte, without a
// branch.
fn byte_classes(bytes: &[u8]) -> (u8, u8) {
    bytes.iter().fold((LABEL_OR_DOT, 0), |(all, any), byte| {
        let class = BYTE_CLASSES[usize::from(*byte)];
        (all & class, any | class)
    })
}

// [`validate`] of a name whose [`byte_classes`] are known. A name with a byte outside the rules
// is checked a byte at a time, which finds the label whose reason comes first.
fn validate_classed(bytes: &[u8], (all, any): (u8, u8)) -> Result<(), Reason> {
    if bytes.len() > MAX_LEN {
        return Err(Reason::DomainTooLong);
    }
    let n_labels = match all & LABEL_OR_DOT != 0 {
        true => count_labels(bytes)?,
        false => count_labels_by_byte(bytes)?,
    };
    if n_labels < 2 {
        return Err(Reason::DomainSingleLabel);
    }
    let (suffix_len, suffix_kind) = public_suffix(bytes).ok_or(Reason::DomainUnknownSuffix)?;
    let registrable_start = match (suffix_kind, suffix_len == bytes.len()) {
        (SuffixKind::Icann | SuffixKind::SpecialUse, true) => return Err(Reason::DomainIsSuffix),
        (SuffixKind::Private, true) => 0,
        (_, false) => {
            // The label before the suffix starts after the previous dot (or at 0).
            let before_suffix = &bytes[..bytes.len() - suffix_len - 1];
            before_suffix.iter().rposition(|byte| *byte == b'.').map_or(0, |dot| dot + 1)
        }
    };
    let last_underscore = match any & UNDERSCORE != 0 {
        true => bytes.iter().rposition(|byte| *byte == b'_'),
        false => None,
    };
    if last_underscore.is_some_and(|at| at >= registrable_start) {
        return Err(Reason::DomainUnderscore);
    }
    Ok(())
}

/// Checks `text` when it is written as [`parse`] writes a name (lower-case label bytes and dots,
/// no trailing dot, no `xn--` label): refanging, trimming and `parse` leave such text as it is,
/// so [`validate`] alone decides, with the reason `parse` would give. `None` for other text,
/// which takes the whole way. Names read back from a store or an index cache file are written
/// so: a cache load checks 250 000 of them, and this skips most of the work for each.
pub(crate) fn check_canonical(text: &str) -> Option<Result<(), Reason>> {
    let bytes = text.as_bytes();
    let (all, any) = byte_classes(bytes);
    let is_written_so = all & LABEL_OR_DOT != 0
        && !bytes.is_empty()
        && bytes.last() != Some(&b'.')
        && (any & HYPHEN == 0 || !bytes.windows(4).any(|four| four == b"xn--"));
    is_written_so.then(|| validate_classed(bytes, (all, any)))
}

/// A byte of a label (a lower-case letter, a digit, `-`, `_`) or a dot.
const LABEL_OR_DOT: u8 = 1;
const UNDERSCORE: u8 = 2;
const HYPHEN: u8 = 4;

/// The classes of each byte value.
const BYTE_CLASSES: [u8; 256] = {
    let mut classes = [0; 256];
    let mut byte = 0;
    while byte < 256 {
        // Cannot truncate: below 256.
        classes[byte] = match byte as u8 {
            b'a'..=b'z' | b'0'..=b'9' | b'.' => LABEL_OR_DOT,
            b'-' => LABEL_OR_DOT | HYPHEN,
            b'_' => LABEL_OR_DOT | UNDERSCORE,
            _ => 0,
        };
        byte += 1;
    }
    classes
};

/// The number of labels of a name of label bytes and dots, or the reason of the first label
/// that breaks a rule.
fn count_labels(bytes: &[u8]) -> Result<usize, Reason> {
    let mut n_labels = 0;
    for label in bytes.split(|byte| *byte == b'.') {
        n_labels += 1;
        match label {
            [] => return Err(Reason::DomainEmptyLabel),
            _ if label.len() > MAX_LABEL_LEN => return Err(Reason::DomainLabelTooLong),
            [b'-', ..] | [.., b'-'] => return Err(Reason::DomainHyphen),
            _ => {}
        }
    }
    Ok(n_labels)
}

/// [`count_labels`] for a name that may hold other bytes, a byte at a time: a label with one
/// breaks the rules at its dot, unless it is empty or too long.
fn count_labels_by_byte(bytes: &[u8]) -> Result<usize, Reason> {
    let mut n_labels = 0;
    let mut label_start = 0;
    // Of the current label: one with a bad byte ends the check at its dot, so none is reset.
    let mut has_bad_byte = false;
    // A dot past the end closes the last label.
    for at in 0..=bytes.len() {
        let byte = bytes.get(at).copied().unwrap_or(b'.');
        if byte != b'.' {
            has_bad_byte |= !matches!(byte, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_');
            continue;
        }
        let label = &bytes[label_start..at];
        n_labels += 1;
        if label.is_empty() {
            return Err(Reason::DomainEmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(Reason::DomainLabelTooLong);
        }
        if has_bad_byte {
            return Err(Reason::DomainCharacter);
        }
        if label.first() == Some(&b'-') || label.last() == Some(&b'-') {
            return Err(Reason::DomainHyphen);
        }
        label_start = at + 1;
    }
    Ok(n_labels)
}

/// Tells whether an ASCII byte may appear in a domain as given (before lower-casing).
fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.')
}

fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules of the module docs, checked one at a time as plainly as they read.
    fn validate_plainly(name: &str) -> Result<(), Reason> {
        if name.len() > MAX_LEN {
            return Err(Reason::DomainTooLong);
        }
        let labels: Vec<&str> = name.split('.').collect();
        for label in &labels {
            if label.is_empty() {
                return Err(Reason::DomainEmptyLabel);
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(Reason::DomainLabelTooLong);
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
            {
                return Err(Reason::DomainCharacter);
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(Reason::DomainHyphen);
            }
        }
        if labels.len() < 2 {
            return Err(Reason::DomainSingleLabel);
        }
        let (suffix_len, kind) =
            public_suffix(name.as_bytes()).ok_or(Reason::DomainUnknownSuffix)?;
        if suffix_len == name.len() && kind != SuffixKind::Private {
            return Err(Reason::DomainIsSuffix);
        }
        let registrable = match suffix_len == name.len() {
            true => name,
            false => {
                let before = &name[..name.len() - suffix_len - 1];
                &name[before.rfind('.').map_or(0, |dot| dot + 1)..]
            }
        };
        match registrable.contains('_') {
            true => Err(Reason::DomainUnderscore),
            false => Ok(()),
        }
    }

    // The labels of a random name: 1 to `max_labels` of them, each 1 to 3 of `pieces` joined.
    fn random_labels(
        next: &mut impl FnMut() -> u64,
        pieces: &[&str],
        max_labels: u64,
    ) -> Vec<String> {
        let n_labels = 1 + next() % max_labels;
        (0..n_labels)
            .map(|_| {
                let n_pieces = 1 + next() % 3;
                (0..n_pieces).map(|_| pieces[(next() % pieces.len() as u64) as usize]).collect()
            })
            .collect()
    }

    /// The bytes and labels the rules are about, for random names.
    const NAME_PIECES: [&str; 21] = [
        "a",
        "b0",
        "-",
        "_",
        "x-y",
        "_dmarc",
        "co",
        "uk",
        "com",
        "example",
        "test",
        "onion",
        "github",
        "io",
        "duckdns",
        "org",
        "A",
        "\u{e9}",
        "",
        "xn--bcher-kva",
        "0",
    ];

    /// The one-pass check gives the plain check's answer, reason included, for random names
    /// built from the bytes and labels the rules are about.
    #[test]
    fn the_one_pass_check_agrees_with_the_plain_rules() {
        let pieces = NAME_PIECES;
        let mut next = crate::observable::test_random(0x9e37_79b9_7f4a_7c15);
        let long_label = "l".repeat(64);
        for _ in 0..200_000 {
            let mut labels = random_labels(&mut next, &pieces, 5);
            for label in &mut labels {
                if next().is_multiple_of(50) {
                    label.clone_from(&long_label);
                }
            }
            let name = labels.join(".");
            assert_eq!(validate(&name), validate_plainly(&name), "{name:?}");
            // Names of label bytes and dots take the label-at-a-time count: it agrees with the
            // count a byte at a time that other names take.
            if name.bytes().all(|byte| BYTE_CLASSES[usize::from(byte)] != 0) {
                let by_byte = count_labels_by_byte(name.as_bytes());
                assert_eq!(count_labels(name.as_bytes()), by_byte, "{name:?}");
            }
        }
        let long_name = ["a"; 130].join(".");
        assert_eq!(validate(&long_name), Err(Reason::DomainTooLong));
    }

    /// A domain parsed with the shortcut for canonical text gives what the whole way (refang,
    /// trim, `parse`) gives, observable or reason, for random text near and far from canonical;
    /// and the shortcut is taken for canonical names.
    #[test]
    fn canonical_names_take_the_shortcut_to_the_same_answer() {
        use crate::observable::refang::refang;
        use crate::observable::{Observable, ObservableKind, parse_token};
        // Text near and far from canonical: upper case, defanging, blanks, `xn--` not
        // making a label, a trailing dot.
        let more = [
            "evil", "xn--", "xn-", "-xn--a", "[.]", "[dot]", "(.)", " ", "\t", ".", "hxxp", ":",
            "--",
        ];
        let pieces: Vec<&str> = NAME_PIECES.iter().chain(&more).copied().collect();
        let mut next = crate::observable::test_random(0x2545_f491_4f6c_dd1d);
        let mut n_shortcuts = 0;
        for _ in 0..100_000 {
            let mut text = random_labels(&mut next, &pieces, 4).join(".");
            if next().is_multiple_of(8) {
                text.push('.');
            }
            let whole_way =
                parse_token(ObservableKind::Domain, refang(&text).trim(), &mut String::new());
            let parsed = Observable::parse_as(ObservableKind::Domain, &text);
            match (&parsed, whole_way) {
                (Ok(parsed), Ok(expected)) => assert_eq!(*parsed, expected, "{text:?}"),
                (Err(error), Err(reason)) => {
                    let expected =
                        crate::observable::ObservableError::Invalid { reason, input: text.clone() };
                    assert_eq!(*error, expected, "{text:?}");
                }
                (parsed, expected) => panic!("{text:?}: {parsed:?} against {expected:?}"),
            }
            n_shortcuts += usize::from(check_canonical(&text).is_some());
        }
        // Most of the random names are not written canonically; enough of them are.
        assert!(n_shortcuts > 5_000, "{n_shortcuts}");
        for name in ["evil.example", "a-b.c_d.evil.co.uk", "my-host.duckdns.org"] {
            assert_eq!(check_canonical(name), Some(Ok(())), "{name}");
        }
        for name in ["Evil.example", "evil.example.", "xn--bcher-kva.example", " evil.example"] {
            assert_eq!(check_canonical(name), None, "{name}");
        }
    }
}
