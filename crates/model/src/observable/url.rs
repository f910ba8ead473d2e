//! URLs, canonical as `scheme://[userinfo@]host[:port]/path[?query]`.
//!
//! The rules, following RFC 3986 section 6.2.2 (syntax-based normalisation) where it applies:
//! - the scheme is lower-cased; a URL without one (`evil.example/login`, `//evil.example/`) is
//!   taken as `http`, while a known scheme without `//` (`http:/evil.example`) is rejected;
//! - the host is lower-cased and canonical as a [`domain`] (so it must end in a
//!   public suffix), an [`ipv4`] dotted quad or a bracketed [`ipv6`] address
//!   (kept as IPv6 even when IPv4-mapped, since that is what the URL says);
//! - the port is dropped when it is the scheme's default (http 80, https 443, ftp 21, ws 80,
//!   wss 443) or empty, and written without leading zeros otherwise;
//! - userinfo is kept as written;
//! - in the path and query, percent-encoded unreserved characters (`%41` -> `A`) are decoded and
//!   other escapes upper-cased (`%2f` -> `%2F`); a `%` not followed by two hex digits, spaces,
//!   non-ASCII characters (as their UTF-8 bytes) and other characters that RFC 3986 does not
//!   allow there are percent-encoded; case is kept;
//! - dot segments (`/a/./b/../c`) are removed from the path as in RFC 3986 section 5.2.4, after
//!   decoding, so `%2E%2E` counts too: a browser or HTTP client requests the resolved path, and
//!   the resolved path is what shows up in proxy logs;
//! - an empty path becomes `/`; an empty query (`?`) is kept; the fragment is dropped, because it
//!   never leaves the client;
//! - a defanged marker that decoding or dot-segment removal would form (`/(%2E)` becoming `/(.)`)
//!   has its first character percent-encoded (`/%28.)`), so the canonical URL is its own canonical
//!   form even though parsing refangs.

use std::borrow::Cow;
use std::fmt::Write;

use super::refang::{marker_in_tail, refang};
use super::{Reason, domain, ipv4, ipv6};

/// The longest URL accepted, in bytes. Longer texts are junk or attacks on the parser's callers.
pub const MAX_LEN: usize = 32 * 1024;

/// Parses a URL and returns its canonical form. Does not refang or trim.
pub fn parse(text: &str) -> Result<String, Reason> {
    let mut url = String::new();
    parse_into(&mut url, text)?;
    Ok(url)
}

/// Writes the canonical form of the URL `text` to `url`, which it clears first, so that a caller
/// can reuse one buffer. Does not refang or trim. On error `url` holds unspecified text.
pub(crate) fn parse_into(url: &mut String, text: &str) -> Result<(), Reason> {
    if text.len() > MAX_LEN {
        return Err(Reason::UrlTooLong);
    }
    let (scheme, rest) = split_scheme(text)?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    if authority.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'\\') {
        return Err(Reason::UrlAuthorityCharacter);
    }
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(userinfo), host_port),
        None => (None, authority),
    };
    let (host, port) = split_host_port(host_port)?;
    let port = parse_port(port)?.filter(|port| Some(*port) != default_port(&scheme));
    let tail = tail.split_once('#').map_or(tail, |(before_fragment, _)| before_fragment);
    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (tail, None),
    };

    url.clear();
    url.reserve(text.len() + 8);
    url.push_str(&scheme);
    url.push_str("://");
    if let Some(userinfo) = userinfo {
        url.push_str(userinfo);
        url.push('@');
    }
    push_host(url, host)?;
    if let Some(port) = port {
        // Cannot fail: writing to a `String` is infallible.
        write!(url, ":{port}").expect("write to String");
    }
    let path_start = url.len();
    match path.is_empty() {
        true => url.push('/'),
        false => {
            normalise_escapes(url, path, is_path_byte);
            if let Cow::Owned(resolved) = remove_dot_segments(&url[path_start..]) {
                url.truncate(path_start);
                url.push_str(&resolved);
            }
        }
    }
    if let Some(query) = query {
        url.push('?');
        normalise_escapes(url, query, is_query_byte);
    }
    if let Cow::Owned(defused) = defuse_markers(&url[path_start..]) {
        url.truncate(path_start);
        url.push_str(&defused);
    }
    Ok(())
}

/// Tells whether `text` is a URL in its canonical form, that is, whether [`parse_into`] would
/// write `text` itself, by checks cheaper than building the canonical form: `true` only for a
/// lower-case scheme, a host (no userinfo, no brackets) that parses to itself, no port or a
/// non-default one without leading zeros, and a non-empty path and optional query of bytes
/// written as they are (no escape, no fragment) without dot segments or defanged markers.
/// `false` for every other text, canonical URLs with userinfo or an escape among them, which
/// [`parse_into`] then reads the long way.
pub(crate) fn is_canonical(text: &str) -> bool {
    let scheme_len = scheme_len(text);
    let (scheme, after_scheme) = text.split_at(scheme_len);
    let Some(rest) = after_scheme.strip_prefix("://") else { return false };
    if text.len() > MAX_LEN || scheme_len == 0 || scheme.bytes().any(|b| b.is_ascii_uppercase()) {
        return false;
    }
    // `parse_into` adds a `/` to an empty path, so a canonical URL has one after the authority.
    let Some(authority_end) = rest.bytes().position(|b| matches!(b, b'/' | b'?' | b'#')) else {
        return false;
    };
    let (authority, path_and_query) = rest.split_at(authority_end);
    let is_plain_authority = path_and_query.starts_with('/')
        && authority.bytes().all(|b| b > b' ' && !matches!(b, 0x7f | b'\\' | b'@' | b'['));
    if !is_plain_authority {
        return false;
    }
    // Byte scans rather than `split_once`: a `char` search costs more than the rest of the checks.
    let (host, port) = match authority.bytes().position(|b| b == b':') {
        Some(colon) => (&authority[..colon], Some(&authority[colon + 1..])),
        None => (authority, None),
    };
    let is_canonical_port = port.is_none_or(|port| {
        let is_decimal = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
        let has_leading_zero = port.len() > 1 && port.starts_with('0');
        is_decimal
            && !has_leading_zero
            && port.parse::<u16>().is_ok_and(|port| Some(port) != default_port(scheme))
    });
    // `%`, `#` and bytes that must be escaped are neither path nor query bytes, and `?` is no
    // path byte, so the path ends at the first byte that is not a path byte, which must be `?`.
    let path_end =
        path_and_query.bytes().position(|b| !is_path_byte(b)).unwrap_or(path_and_query.len());
    let (path, query) = path_and_query.split_at(path_end);
    let is_verbatim = match query.strip_prefix('?') {
        Some(query) => query.bytes().all(is_query_byte),
        None => query.is_empty(),
    };
    // Every dot segment follows a `/`.
    let has_dot_segment = path.as_bytes().windows(2).any(|pair| pair == b"/.")
        && matches!(remove_dot_segments(path), Cow::Owned(_));
    let is_canonical_tail = is_verbatim
        && !has_dot_segment
        && matches!(defuse_markers(path_and_query), Cow::Borrowed(_));
    if !is_canonical_port || !is_canonical_tail {
        return false;
    }
    match ipv4::has_shape(host) {
        // A dotted quad that parses is its own canonical text (see `ipv4::parse`).
        true => ipv4::parse(host).is_ok(),
        false => domain::parse(host).is_ok_and(|canonical| canonical == host),
    }
}

/// Tells whether `text` starts with a scheme followed by `://`.
pub fn has_scheme(text: &str) -> bool {
    let scheme_len = scheme_len(text);
    scheme_len > 0 && text[scheme_len..].starts_with("://")
}

/// Returns the host of a canonical URL: a domain, a dotted quad, or an IPv6 address without its
/// brackets. Returns `None` when `url` has no `://`.
pub fn host(url: &str) -> Option<&str> {
    let (_scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port =
        authority.rsplit_once('@').map_or(authority, |(_userinfo, host_port)| host_port);
    match host_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once(']').map(|(host, _port)| host),
        None => Some(host_port.rsplit_once(':').map_or(host_port, |(host, _port)| host)),
    }
}

/// Returns the default port of a scheme whose default port is dropped from canonical URLs.
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// Returns the length of the RFC 3986 scheme at the start of `text`, or 0 if there is none.
fn scheme_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    if !bytes.first().is_some_and(u8::is_ascii_alphabetic) {
        return 0;
    }
    bytes
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
        .unwrap_or(bytes.len())
}

/// Splits off the lower-cased scheme, defaulting to `http` when there is none.
fn split_scheme(text: &str) -> Result<(Cow<'_, str>, &str), Reason> {
    let scheme_len = scheme_len(text);
    let (scheme, after_scheme) = text.split_at(scheme_len);
    if scheme_len > 0 {
        let lowered = match scheme.bytes().any(|b| b.is_ascii_uppercase()) {
            true => Cow::Owned(scheme.to_ascii_lowercase()),
            false => Cow::Borrowed(scheme),
        };
        if let Some(rest) = after_scheme.strip_prefix("://") {
            return Ok((lowered, rest));
        }
        if after_scheme.starts_with(':') && (default_port(&lowered).is_some() || lowered == "ftps")
        {
            return Err(Reason::UrlNoAuthority);
        }
    }
    let rest = text.strip_prefix("//").unwrap_or(text);
    Ok((Cow::Borrowed("http"), rest))
}

/// Splits `host[:port]` or `[ipv6][:port]`, leaving the brackets on the host.
fn split_host_port(host_port: &str) -> Result<(&str, Option<&str>), Reason> {
    if host_port.starts_with('[') {
        let close = host_port.find(']').ok_or(Reason::Ipv6Syntax)?;
        let (host, after) = host_port.split_at(close + 1);
        return match after {
            "" => Ok((host, None)),
            _ => after.strip_prefix(':').map(|port| (host, Some(port))).ok_or(Reason::UrlPort),
        };
    }
    match host_port.bytes().filter(|&b| b == b':').count() {
        0 => Ok((host_port, None)),
        1 => Ok(host_port
            .split_once(':')
            .map_or((host_port, None), |(host, port)| (host, Some(port)))),
        _ => Err(Reason::UrlIpv6Brackets),
    }
}

fn push_host(url: &mut String, host: &str) -> Result<(), Reason> {
    if host.is_empty() {
        return Err(Reason::UrlNoHost);
    }
    if let Some(bracketed) = host.strip_prefix('[') {
        let inner = bracketed.strip_suffix(']').ok_or(Reason::Ipv6Syntax)?;
        let address = ipv6::parse(inner)?;
        // Cannot fail: writing to a `String` is infallible.
        write!(url, "[{address}]").expect("write to String");
        return Ok(());
    }
    if ipv4::has_shape(host) {
        // A dotted quad that parses is its own canonical text (see `ipv4::parse`).
        ipv4::parse(host)?;
        url.push_str(host);
        return Ok(());
    }
    url.push_str(&domain::parse(host)?);
    Ok(())
}

fn parse_port(port: Option<&str>) -> Result<Option<u16>, Reason> {
    let Some(port) = port.filter(|port| !port.is_empty()) else {
        return Ok(None);
    };
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Reason::UrlPort);
    }
    port.parse().map(Some).map_err(|_| Reason::UrlPort)
}

/// Appends `text` to `out`, decoding escaped unreserved characters, upper-casing other escapes
/// and percent-encoding every byte that `is_allowed` rejects (non-ASCII included).
fn normalise_escapes(out: &mut String, text: &str, is_allowed: fn(u8) -> bool) {
    let bytes = text.as_bytes();
    let mut idx = 0;
    while idx < bytes.len() {
        let byte = bytes[idx];
        let escaped = match byte {
            b'%' => bytes.get(idx + 1..idx + 3).and_then(decode_hex_pair),
            _ => None,
        };
        match escaped {
            Some(value) if is_unreserved(value) => out.push(char::from(value)),
            Some(value) => push_escape(out, value),
            None if is_allowed(byte) && byte != b'%' => out.push(char::from(byte)),
            None => push_escape(out, byte),
        }
        idx += if escaped.is_some() { 3 } else { 1 };
    }
}

/// Percent-encodes the first byte of every defanged marker (`(.)`, `hxxp:`) in a normalised path
/// and query, so that refanging the canonical URL leaves it unchanged and parsing it again gives
/// it back. Such markers can only appear when decoding (`(%2E)`) or dot-segment removal forms
/// them, since the input was refanged before. Both `(` and the scheme letters stay readable as
/// `%28`, `%68` and so on; an escaped `h` is decoded and escaped again on every parse.
fn defuse_markers(path_and_query: &str) -> Cow<'_, str> {
    if matches!(refang(path_and_query), Cow::Borrowed(_)) {
        return Cow::Borrowed(path_and_query);
    }
    let mut defused = String::with_capacity(path_and_query.len() + 8);
    for ch in path_and_query.chars() {
        defused.push(ch);
        if let Some(marker) = marker_in_tail(defused.as_bytes()) {
            // Markers start with an ASCII byte, so `marker.start` is a char boundary.
            let first = defused.as_bytes()[marker.start];
            let mut escape = String::with_capacity(3);
            push_escape(&mut escape, first);
            defused.replace_range(marker.start..=marker.start, &escape);
        }
    }
    Cow::Owned(defused)
}

/// Removes `.` and `..` segments from an absolute path (RFC 3986 section 5.2.4); borrows when
/// there are none.
fn remove_dot_segments(path: &str) -> Cow<'_, str> {
    let segments = path.strip_prefix('/').unwrap_or(path).split('/');
    let has_dot_segment = segments.clone().any(|segment| segment == "." || segment == "..");
    if !has_dot_segment {
        return Cow::Borrowed(path);
    }
    let n_segments = segments.clone().count();
    let mut kept: Vec<&str> = Vec::with_capacity(n_segments);
    for (idx, segment) in segments.enumerate() {
        match segment {
            "." => {}
            ".." => {
                kept.pop();
            }
            _ => {
                kept.push(segment);
                continue;
            }
        }
        // A trailing dot segment leaves the path ending in a slash: `/a/b/..` is `/a/`.
        if idx + 1 == n_segments {
            kept.push("");
        }
    }
    Cow::Owned(format!("/{}", kept.join("/")))
}

fn decode_hex_pair(pair: &[u8]) -> Option<u8> {
    let digit = |byte: u8| char::from(byte).to_digit(16);
    let high = digit(pair[0])?;
    let low = digit(pair[1])?;
    // Cannot fail: two hex digits make at most 255.
    Some(u8::try_from(high * 16 + low).expect("two hex digits fit in u8"))
}

fn push_escape(out: &mut String, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(byte >> 4)]));
    out.push(char::from(HEX[usize::from(byte & 0x0f)]));
}

/// RFC 3986 section 2.3.
const fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 section 3.3: `pchar` and `/`.
fn is_path_byte(byte: u8) -> bool {
    // A table, since every byte of every path comes here.
    const IS_PATH_BYTE: [bool; 256] = {
        let mut table = [false; 256];
        let mut byte = 0u8;
        loop {
            table[byte as usize] = is_unreserved(byte)
                || matches!(
                    byte,
                    b'!' | b'$'
                        | b'&'
                        | b'\''
                        | b'('
                        | b')'
                        | b'*'
                        | b'+'
                        | b','
                        | b';'
                        | b'='
                        | b':'
                        | b'@'
                        | b'/'
                );
            if byte == u8::MAX {
                break table;
            }
            byte += 1;
        }
    };
    IS_PATH_BYTE[usize::from(byte)]
}

/// RFC 3986 section 3.4.
fn is_query_byte(byte: u8) -> bool {
    is_path_byte(byte) || byte == b'?'
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{is_canonical, is_path_byte, parse, remove_dot_segments};

    #[test]
    fn path_bytes_are_pchar_and_slash() {
        for byte in 0..=u8::MAX {
            let expected = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&byte);
            assert_eq!(is_path_byte(byte), expected, "byte {byte:#04x}");
        }
    }

    /// Checks that `is_canonical` says `true` only for a text that `parse` gives back unchanged.
    fn check_canonical_shortcut(text: &str) -> Result<(), TestCaseError> {
        if is_canonical(text) {
            let parsed = parse(text);
            prop_assert_eq!(parsed.as_deref(), Ok(text), "is_canonical({:?})", text);
        }
        Ok(())
    }

    #[test]
    fn canonical_shortcut_takes_plain_canonical_urls() {
        let canonical = [
            "http://evil.example/",
            "https://192.0.2.1:8443/bin.sh",
            "http://a.b.example.co.uk:0/x?q=1&r=/a/../b",
            "ftp://files.example.org/pub/",
            "ssh://host.example:22/",
            "http://evil.example/?",
            "http://_acme.host.example/(x)",
        ];
        for text in canonical {
            assert!(is_canonical(text), "{text:?} takes the shortcut");
            assert_eq!(parse(text).as_deref(), Ok(text));
        }
        let not_taken = [
            "HTTP://evil.example/",
            "http://Evil.example/",
            "http://evil.example",
            "http://evil.example?q",
            "http://evil.example./",
            "http://evil.example:80/",
            "https://evil.example:443/",
            "http://evil.example:/",
            "http://evil.example:08080/",
            "http://evil.example:65536/",
            "http://user@evil.example/",
            "http://[2001:db8::1]/",
            "http://010.0.0.1/",
            "http://evil.example/%41",
            "http://evil.example/a b",
            "http://evil.example/#top",
            "http://evil.example/a/./b",
            "http://evil.example/a/..",
            "http://evil.example/(.)",
            "http://evil.example/x?y#z",
            "http://evil.example/\u{e9}",
            "http://xn--a.example/",
            "evil.example/",
            "//evil.example/",
            "http:/evil.example/",
        ];
        for text in not_taken {
            assert!(!is_canonical(text), "{text:?} takes the long way");
        }
    }

    proptest! {
        #[test]
        fn canonical_shortcut_agrees_with_parse(
            text in "(http|https|HTTP|ftp|ws|x-y)://[a-z0-9.:@\\[\\]_-]{0,20}(/[a-zA-Z0-9._~%!$&'()*+,;=:@?#/ \u{e9}-]{0,16})?",
        ) {
            check_canonical_shortcut(&text)?;
        }

        #[test]
        fn canonical_shortcut_agrees_with_parse_on_hosts_and_ports(
            scheme in prop::sample::select(&["http", "https", "ftp", "ws", "wss", "gopher"][..]),
            host in prop::sample::select(&[
                "evil.example", "192.0.2.1", "1.2.3.256", "a-.example", "co.uk", "x.co.uk",
                "_x.y.example", "x_y.example", "xn--p1ai", "xn--d1acufc.xn--p1ai", "localhost",
            ][..]),
            port in prop::option::of(prop::sample::select(&[
                "", "0", "00", "21", "80", "443", "8080", "08080", "65535", "65536",
            ][..])),
            tail in "[a-z/.?=&()%:]{0,10}",
        ) {
            let port = port.map_or_else(String::new, |port| format!(":{port}"));
            check_canonical_shortcut(&format!("{scheme}://{host}{port}/{tail}"))?;
        }
    }

    #[test]
    fn removes_dot_segments() {
        let cases = [
            ("/a/b/c/./../../g", "/a/g"),
            ("/mid/content=5/../6", "/mid/6"),
            ("/a/b/..", "/a/"),
            ("/..", "/"),
            ("/a//../b", "/a/b"),
            ("/a/b", "/a/b"),
            ("/.//a", "//a"),
        ];
        for (path, expected) in cases {
            assert_eq!(remove_dot_segments(path), expected, "path {path:?}");
        }
    }
}
