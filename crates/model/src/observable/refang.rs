//! Refanging: undoing the "defanged" spellings analysts use so that an indicator in a report
//! cannot be clicked or resolved by accident (`hxxp://evil[.]example`).
//!
//! The rule is to refang what analysts actually write and never to turn ordinary prose into
//! an observable. Every form below is a marker nobody writes except to defang something:
//!
//! | written | becomes | notes |
//! | --- | --- | --- |
//! | `[.]` `(.)` `{.}` `[dot]` `(dot)` `{dot}` | `.` | any case, spaces allowed inside: `[ . ]`, `[DOT]` |
//! | `[@]` `(@)` `{@}` `[at]` `(at)` `{at}` | `@` | any case, spaces allowed inside |
//! | `[:]` `[/]` `[//]` `[://]` `[:/]` (any bracket) | the same without brackets | |
//! | `hxxp` `hXXp` `hxxps` `hxtp` `fxp` `fxps` | `http` `https` `ftp` `ftps` | only as a scheme: at a word start and followed by `:` or a bracket |
//! | `\.` | `.` | only between two letters or digits, as in `evil\.example` |
//! | `[.` and `.]` | `.` | half brackets, only between two letters or digits |
//!
//! The bracketed markers also swallow spaces and tabs next to them, because analysts write
//! `user [at] example [dot] com` as often as `user[at]example[dot]com`.
//! Bare words (`example dot com`, `user at example`) are left alone: they are prose far more
//! often than they are indicators.
//! `meow://` and other rare scheme spellings are left alone as well.

use std::borrow::Cow;

/// Refangs `text`, returning it borrowed when it contains no defanged marker.
///
/// Works on whole documents as well as single tokens: markers are ASCII, so the output is the input
/// with each marker replaced and never splits a UTF-8 character.
pub fn refang(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    // `copied_to` is the end of the input already copied to `out` (or, while `out` is `None`,
    // the end of the prefix that needs no change).
    let mut copied_to = 0;
    let mut pos = 0;
    while pos < bytes.len() {
        let Some(marker) = marker_at(bytes, pos) else {
            pos += 1;
            continue;
        };
        let buffer = out.get_or_insert_with(|| String::with_capacity(text.len()));
        buffer.push_str(&text[copied_to..pos]);
        if marker.swallows_spaces {
            let trimmed_len = buffer.trim_end_matches([' ', '\t']).len();
            buffer.truncate(trimmed_len);
        }
        buffer.push_str(marker.replacement);
        pos = marker.end;
        if marker.swallows_spaces {
            while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t') {
                pos += 1;
            }
        }
        copied_to = pos;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut buffer) => {
            buffer.push_str(&text[copied_to..]);
            Cow::Owned(buffer)
        }
    }
}

/// One defanged marker found in the input.
struct Marker {
    /// The index just past the marker.
    end: usize,
    replacement: &'static str,
    /// Whether spaces and tabs next to the marker are dropped too.
    swallows_spaces: bool,
}

/// Returns the marker starting at `pos`, if any. Only ever matches ASCII, so `pos` and the
/// returned `end` are char boundaries.
fn marker_at(bytes: &[u8], pos: usize) -> Option<Marker> {
    match bytes[pos] {
        b'[' | b'(' | b'{' => bracketed_at(bytes, pos).or_else(|| half_bracket_at(bytes, pos)),
        b'.' => half_bracket_at(bytes, pos),
        b'\\' => {
            let is_escaped_dot =
                bytes.get(pos + 1) == Some(&b'.') && is_between_alnum(bytes, pos, pos + 2);
            is_escaped_dot.then_some(Marker {
                end: pos + 2,
                replacement: ".",
                swallows_spaces: false,
            })
        }
        b'h' | b'H' | b'f' | b'F' => scheme_at(bytes, pos),
        _ => None,
    }
}

/// Matches `[.]`, `( dot )`, `{@}`, `[://]` and friends at `pos`.
fn bracketed_at(bytes: &[u8], pos: usize) -> Option<Marker> {
    let close = match bytes[pos] {
        b'[' => b']',
        b'(' => b')',
        _ => b'}',
    };
    let skip_spaces = |mut idx: usize| {
        while bytes.get(idx) == Some(&b' ') {
            idx += 1;
        }
        idx
    };
    let content_start = skip_spaces(pos + 1);
    let mut content_end = content_start;
    while content_end - content_start < 4
        && bytes.get(content_end).is_some_and(|b| b.is_ascii_alphabetic() || b"./:@".contains(b))
    {
        content_end += 1;
    }
    let close_at = skip_spaces(content_end);
    if bytes.get(close_at) != Some(&close) {
        return None;
    }
    let content = &bytes[content_start..content_end];
    let replacement = if content.eq_ignore_ascii_case(b"dot") {
        "."
    } else if content.eq_ignore_ascii_case(b"at") {
        "@"
    } else {
        match content {
            b"." => ".",
            b"@" => "@",
            b":" => ":",
            b"/" => "/",
            b"//" => "//",
            b":/" => ":/",
            b"://" => "://",
            _ => return None,
        }
    };
    Some(Marker { end: close_at + 1, replacement, swallows_spaces: true })
}

/// Matches the half brackets `[.` and `.]` between two letters or digits.
fn half_bracket_at(bytes: &[u8], pos: usize) -> Option<Marker> {
    let pair = bytes.get(pos..pos + 2)?;
    let is_half_bracket = pair == b"[." || pair == b".]";
    (is_half_bracket && is_between_alnum(bytes, pos, pos + 2)).then_some(Marker {
        end: pos + 2,
        replacement: ".",
        swallows_spaces: false,
    })
}

/// Matches `hxxp`, `hxxps`, `hxtp`, `fxp` and `fxps` used as a scheme at `pos`.
fn scheme_at(bytes: &[u8], pos: usize) -> Option<Marker> {
    let at_word_start = pos == 0 || !bytes[pos - 1].is_ascii_alphanumeric();
    if !at_word_start {
        return None;
    }
    let rest = &bytes[pos..];
    let starts_with = |prefix: &[u8]| {
        rest.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    let (len, replacement) = if starts_with(b"hxxps") || starts_with(b"hxtps") {
        (5, "https")
    } else if starts_with(b"hxxp") || starts_with(b"hxtp") {
        (4, "http")
    } else if starts_with(b"fxps") {
        (4, "ftps")
    } else if starts_with(b"fxp") {
        (3, "ftp")
    } else {
        return None;
    };
    let is_scheme = matches!(rest.get(len), Some(b':' | b'[' | b'(' | b'{'));
    is_scheme.then_some(Marker { end: pos + len, replacement, swallows_spaces: false })
}

/// Tells whether the bytes just before `start` and at `end` are both ASCII letters or digits.
fn is_between_alnum(bytes: &[u8], start: usize, end: usize) -> bool {
    let before = start.checked_sub(1).and_then(|idx| bytes.get(idx));
    let after = bytes.get(end);
    before.is_some_and(u8::is_ascii_alphanumeric) && after.is_some_and(u8::is_ascii_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::refang;

    #[test]
    fn borrows_when_nothing_changes() {
        assert!(matches!(refang("plain text, example.com"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn refangs_markers() {
        let cases = [
            ("hxxps[://]evil[.]example[/]path", "https://evil.example/path"),
            ("user [at] example [dot] com", "user@example.com"),
            ("a[.b.]c", "a.b.c"),
            ("evil\\.example", "evil.example"),
            ("HXXP://x(.)y", "http://x.y"),
            ("fxp://x{ DOT }y", "ftp://x.y"),
        ];
        for (input, expected) in cases {
            assert_eq!(refang(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn leaves_prose_alone() {
        let cases = [
            "a dot com",
            "see [1].",
            "[...]",
            "hxxp is a word",
            "shxxp://x",
            "(at the time)",
            "C:\\.x",
        ];
        for input in cases {
            assert_eq!(refang(input), input);
        }
    }
}
