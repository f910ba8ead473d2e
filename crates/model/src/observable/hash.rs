//! Hashes: MD5, SHA-1, SHA-256 and SHA-512 as lower-case hex of exact length.
//!
//! The kind follows from the length alone (32, 40, 64 or 128 hex digits). No prefix (`0x`,
//! `sha256:`) or separator is accepted: feeds write bare hex, and a prefix would hide typos.

use std::borrow::Cow;

use super::{ObservableKind, Reason};

/// Parses a hash of any supported kind and returns the kind (by length) and the lower-case hex,
/// borrowed when `text` is already lower-case. Does not refang or trim.
pub fn parse(text: &str) -> Result<(ObservableKind, Cow<'_, str>), Reason> {
    check_hex(text)?;
    let kind = kind_for_len(text.len()).ok_or(Reason::HashLength { len: text.len() })?;
    Ok((kind, lower_case(text)))
}

/// Parses a hash of the given kind. Returns [`Reason::HashLengthFor`] when `text` has the length
/// of another kind and [`Reason::HashLength`] when `kind` is not a hash kind.
pub fn parse_as(kind: ObservableKind, text: &str) -> Result<Cow<'_, str>, Reason> {
    check_hex(text)?;
    let expected = hex_len(kind).ok_or(Reason::HashLength { len: text.len() })?;
    if text.len() != expected {
        return Err(Reason::HashLengthFor { kind, expected, len: text.len() });
    }
    Ok(lower_case(text))
}

/// Returns the hash kind with `len` hex digits.
pub fn kind_for_len(len: usize) -> Option<ObservableKind> {
    match len {
        32 => Some(ObservableKind::Md5),
        40 => Some(ObservableKind::Sha1),
        64 => Some(ObservableKind::Sha256),
        128 => Some(ObservableKind::Sha512),
        _ => None,
    }
}

/// Returns the number of hex digits of a hash kind, or `None` for other kinds.
pub fn hex_len(kind: ObservableKind) -> Option<usize> {
    match kind {
        ObservableKind::Md5 => Some(32),
        ObservableKind::Sha1 => Some(40),
        ObservableKind::Sha256 => Some(64),
        ObservableKind::Sha512 => Some(128),
        _ => None,
    }
}

/// Tells whether `text` is all hex digits and long enough (16 or more) to be meant as a hash
/// rather than a word like `cafe` or a number.
pub(crate) fn has_shape(text: &str) -> bool {
    text.len() >= 16 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn check_hex(text: &str) -> Result<(), Reason> {
    match text.bytes().all(|b| b.is_ascii_hexdigit()) {
        true => Ok(()),
        false => Err(Reason::HashCharacter),
    }
}

fn lower_case(hex: &str) -> Cow<'_, str> {
    match hex.bytes().any(|b| b.is_ascii_uppercase()) {
        true => Cow::Owned(hex.to_ascii_lowercase()),
        false => Cow::Borrowed(hex),
    }
}
