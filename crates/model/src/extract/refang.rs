//! Refanging of one chunk into a scratch buffer that remembers where each byte came from, so a
//! hit found in the refanged text can be reported with its raw span.

/// Writes `raw` refanged into `out` and, for each byte of `out`, the offset in `raw` of the
/// token it came from into `map`, followed by `raw.len()`. Returns whether anything changed.
///
/// Handles the bracketed forms `[.]`, `(.)`, `{.}`, `[dot]`, `[:]`, `[://]`, `[/]`, `[//]`,
/// `[@]`, `[at]` (with any of the three bracket pairs, any case) and `\.`. Defanged schemes
/// (`hxxp`) are the URL step's business, since they keep their length.
pub(super) fn refang_chunk(raw: &[u8], out: &mut Vec<u8>, map: &mut Vec<usize>) -> bool {
    out.clear();
    map.clear();
    let mut changed = false;
    let mut position = 0;
    while position < raw.len() {
        let byte = raw[position];
        let replacement = match byte {
            b'[' | b'(' | b'{' => bracketed(&raw[position..]),
            b'\\' if raw.get(position + 1) == Some(&b'.') => Some((&b"."[..], 2)),
            _ => None,
        };
        match replacement {
            Some((text, consumed)) => {
                out.extend_from_slice(text);
                map.extend(std::iter::repeat_n(position, text.len()));
                position += consumed;
                changed = true;
            }
            None => {
                out.push(byte);
                map.push(position);
                position += 1;
            }
        }
    }
    map.push(raw.len());
    changed
}

/// Recognises a defang token at the start of `text`, which starts with an opening bracket.
/// Returns the replacement and the number of bytes the token takes.
fn bracketed(text: &[u8]) -> Option<(&'static [u8], usize)> {
    let close = match text.first()? {
        b'[' => b']',
        b'(' => b')',
        _ => b'}',
    };
    // The longest inner text is `://` or `dot`; look no further than that.
    let inner_len = text.iter().skip(1).take(4).position(|&byte| byte == close)?;
    let inner = &text[1..1 + inner_len];
    let replacement: &'static [u8] = if inner == b"." || inner.eq_ignore_ascii_case(b"dot") {
        b"."
    } else if inner == b"@" || inner.eq_ignore_ascii_case(b"at") {
        b"@"
    } else if inner == b":" {
        b":"
    } else if inner == b"://" {
        b"://"
    } else if inner == b"/" {
        b"/"
    } else if inner == b"//" {
        b"//"
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
        let mut out = Vec::new();
        let mut map = Vec::new();
        refang_chunk(raw.as_bytes(), &mut out, &mut map);
        (String::from_utf8(out).unwrap(), map)
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
