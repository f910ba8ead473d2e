//! E-mail addresses: `local@domain`, with the domain canonical and the local part as written.
//!
//! The local part must be an RFC 5322 dot-atom (letters, digits and ``!#$%&'*+/=?^_`{|}~-``, with
//! single dots between them), of at most 64 octets; non-ASCII characters are allowed as RFC 6531
//! permits. Its case is kept, because only the receiving server may decide it does not matter.
//! Quoted local parts (`"john doe"@example.com`) and address literals (`user@[192.0.2.1]`) are
//! rejected: they do not occur in threat feeds and would complicate every consumer.
//! A leading `mailto:` is dropped.

use super::{Reason, domain};

/// The longest address in octets (RFC 5321 section 4.5.3.1.3, less the angle brackets).
pub const MAX_LEN: usize = 254;

/// The longest local part in octets (RFC 5321 section 4.5.3.1.1).
pub const MAX_LOCAL_LEN: usize = 64;

/// Parses an e-mail address and returns its canonical form. Does not refang or trim.
pub fn parse(text: &str) -> Result<String, Reason> {
    let mut email = String::new();
    parse_into(&mut email, text)?;
    Ok(email)
}

/// Writes the canonical form of the e-mail address `text` to `email`, which it clears first, so
/// that a caller can reuse one buffer. Does not refang or trim.
pub(crate) fn parse_into(email: &mut String, text: &str) -> Result<(), Reason> {
    let address = strip_mailto(text);
    let (local, domain) = address.rsplit_once('@').ok_or(Reason::EmailNoAt)?;
    check_local(local)?;
    let domain = domain::parse(domain)?;
    if local.len() + 1 + domain.len() > MAX_LEN {
        return Err(Reason::EmailTooLong);
    }
    email.clear();
    email.push_str(local);
    email.push('@');
    email.push_str(&domain);
    Ok(())
}

/// Returns the domain part of a canonical e-mail address.
pub fn domain(email: &str) -> Option<&str> {
    email.rsplit_once('@').map(|(_local, domain)| domain)
}

/// Tells whether `text` starts with `mailto:` in any case.
pub(crate) fn has_mailto(text: &str) -> bool {
    text.get(..7).is_some_and(|head| head.eq_ignore_ascii_case("mailto:"))
}

fn strip_mailto(text: &str) -> &str {
    match has_mailto(text) {
        true => &text[7..],
        false => text,
    }
}

fn check_local(local: &str) -> Result<(), Reason> {
    if local.is_empty() {
        return Err(Reason::EmailLocalEmpty);
    }
    if local.len() > MAX_LOCAL_LEN {
        return Err(Reason::EmailLocalTooLong);
    }
    let is_atext =
        |b: u8| !b.is_ascii() || b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b);
    if !local.bytes().all(|b| b == b'.' || is_atext(b)) {
        return Err(Reason::EmailLocalCharacter);
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(Reason::EmailLocalDot);
    }
    Ok(())
}
