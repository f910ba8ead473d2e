//! Refanging of one chunk into a scratch buffer that remembers where each byte came from, so a
//! hit found in the refanged text can be reported with its raw span.

/// Writes `raw` refanged into `out` and, for each byte of `out`, the offset in `raw` of the
/// token it came from into `map`, followed by `raw.len()`. Returns false, without writing, when
/// there is nothing to refang.
///
/// Handles the bracketed forms `[.]`, `(.)`, `{.}`, `[dot]`, `[:]`, `[://]`, `[/]`, `[//]`,
/// `[@]`, `[at]` (with any of the three bracket pairs, any case) and `\.`. Defanged schemes
/// (`hxxp`) are the URL step's business, since they keep their length.
pub(super) fn refang_chunk(raw: &str, out: &mut String, map: &mut Vec<usize>) -> bool {
    let raw_bytes = raw.as_bytes();
    let marker_at = |position: usize| match raw_bytes[position] {
        b'[' | b'(' | b'{' => bracketed(&raw_bytes[position..]),
        b'\\' if raw_bytes.get(position + 1) == Some(&b'.') => Some((".", 2)),
        _ => None,
    };
    let is_opening = |byte: &u8| matches!(byte, b'[' | b'(' | b'{' | b'\\');
    let mut first = None;
    let mut from = 0;
    while let Some(found) = raw_bytes[from..].iter().position(is_opening) {
        if marker_at(from + found).is_some() {
            first = Some(from + found);
            break;
        }
        from += found + 1;
    }
    let Some(first) = first else { return false };
    out.clear();
    map.clear();
    out.push_str(&raw[..first]);
    map.extend(0..first);
    let mut position = first;
    while position < raw.len() {
        match marker_at(position) {
            Some((text, consumed)) => {
                out.push_str(text);
                map.extend(std::iter::repeat_n(position, text.len()));
                position += consumed;
            }
            None => {
                out.push(char::from(raw_bytes[position]));
                map.push(position);
                position += 1;
            }
        }
    }
    map.push(raw.len());
    true
}

/// Recognises a defang token at the start of `text`, which starts with an opening bracket.
/// Returns the replacement and the number of bytes the token takes.
fn bracketed(text: &[u8]) -> Option<(&'static str, usize)> {
    // Every token starts with one of these, which rules out `sshd[42]` and `(see` at once.
    if !matches!(text.get(1)?, b'.' | b'@' | b':' | b'/' | b'd' | b'D' | b'a' | b'A') {
        return None;
    }
    let close = match text.first()? {
        b'[' => b']',
        b'(' => b')',
        _ => b'}',
    };
    // The longest inner text is `://` or `dot`; look no further than that.
    let inner_len = text.iter().skip(1).take(4).position(|&byte| byte == close)?;
    let inner = &text[1..1 + inner_len];
    let replacement = if inner == b"." || inner.eq_ignore_ascii_case(b"dot") {
        "."
    } else if inner == b"@" || inner.eq_ignore_ascii_case(b"at") {
        "@"
    } else if inner == b":" {
        ":"
    } else if inner == b"://" {
        "://"
    } else if inner == b"/" {
        "/"
    } else if inner == b"//" {
        "//"
    } else {
        return None;
    };
    Some((replacement, inner_len + 2))
}

/// Returns the canonical scheme for a literal or (when `refang`) defanged scheme, or `None` for a
/// scheme that is not extracted.
pub(super) fn canonical_scheme(scheme: &[u8], refang: bool) -> Option<&'static str> {
    const LITERAL: [&str; 7] = ["http", "https", "ftp", "ftps", "sftp", "ws", "wss"];
    if let Some(known) = LITERAL.iter().find(|known| scheme.eq_ignore_ascii_case(known.as_bytes()))
    {
        return Some(known);
    }
    if !refang {
        return None;
    }
    let lower = |index: usize| scheme.get(index).map(u8::to_ascii_lowercase);
    let is_mask = |byte: Option<u8>| matches!(byte, Some(b'x' | b't' | b'*' | b'_'));
    // `hxxp`, `hXXps`, `hxtp`, `h**p`, ...: an `h`, two masked letters, a `p`, maybe an `s`.
    let is_http_like = (scheme.len() == 4 || scheme.len() == 5)
        && lower(0) == Some(b'h')
        && is_mask(lower(1))
        && is_mask(lower(2))
        && lower(3) == Some(b'p');
    if is_http_like {
        return match lower(4) {
            None => Some("http"),
            Some(b's') => Some("https"),
            Some(_) => None,
        };
    }
    [("fxp", "ftp"), ("fxps", "ftps"), ("sfxp", "sftp")]
        .into_iter()
        .find(|(defanged, _)| scheme.eq_ignore_ascii_case(defanged.as_bytes()))
        .map(|(_, canonical)| canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refanged(raw: &str) -> (String, Vec<usize>) {
        let mut out = String::new();
        let mut map = Vec::new();
        match refang_chunk(raw, &mut out, &mut map) {
            true => (out, map),
            false => (raw.to_owned(), Vec::new()),
        }
    }

    #[test]
    fn replaces_tokens_and_maps_offsets() {
        let (text, map) = refanged("a[.]b(dot)c");
        assert_eq!(text, "a.b.c");
        assert_eq!(map, [0, 1, 4, 5, 10, 11]);
        assert_eq!(refanged("user[@]x{.}y\\.z[at]w").0, "user@x.y.z@w");
        assert_eq!(refanged("hxxp[://]x[:]80[/]").0, "hxxp://x:80/");
        assert_eq!(
            refanged("[CDATA[x]] [2001:db8::1] (see) [").0,
            "[CDATA[x]] [2001:db8::1] (see) ["
        );
    }

    #[test]
    fn maps_schemes() {
        assert_eq!(canonical_scheme(b"HTTPS", false), Some("https"));
        assert_eq!(canonical_scheme(b"hxxp", false), None);
        assert_eq!(canonical_scheme(b"hXXps", true), Some("https"));
        assert_eq!(canonical_scheme(b"fxp", true), Some("ftp"));
        assert_eq!(canonical_scheme(b"hxxpx", true), None);
        assert_eq!(canonical_scheme(b"mailto", true), None);
    }
}
