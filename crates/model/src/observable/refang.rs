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

/// The most spaces allowed between a bracket and its content, as in `[ . ]`.
const MAX_INNER_SPACES: usize = 3;

/// Refangs `text`, returning it borrowed when it contains no defanged marker.
///
/// Works on whole documents as well as single tokens: markers are ASCII, so the output is the input
/// with each marker replaced and never splits a UTF-8 character. Refanging is idempotent: markers
/// that only appear once inner ones are replaced (`{{.}}`) are replaced too, so the output holds
/// no marker. It runs in linear time: every replacement shortens the output or, for schemes,
/// cannot complete another scheme.
pub fn refang(text: &str) -> Cow<'_, str> {
    // The output is built as a stack: each input char is pushed, and whenever the output then
    // ends with a complete marker, the marker is replaced. Up to the end of the first marker the
    // output is the input's prefix, so that prefix is skipped without pushing, and nothing is
    // allocated for text without markers.
    let Some(first_end) = first_marker_end(text.as_bytes()) else {
        return Cow::Borrowed(text);
    };
    // `first_end` is the index of an ASCII byte (markers are ASCII), so a char boundary.
    let mut out = text[..first_end].to_owned();
    let mut pending = Vec::new();
    let mut swallows_spaces = false;
    for ch in text[first_end..].chars() {
        if swallows_spaces && matches!(ch, ' ' | '\t') {
            continue;
        }
        swallows_spaces = push_reducing(&mut out, &mut pending, ch);
    }
    Cow::Owned(out)
}

/// Returns the index of the last byte of the first marker in `bytes`, or `None` when there is
/// none, without allocating.
///
/// Every marker holds a bracket, a backslash or a `:` among its last three bytes (see
/// [`marker_in_tail`]: a bracketed marker or a scheme ends in one, and in a half bracket or `\.`
/// it is one or two bytes before the last byte), so only the three ends starting at each such
/// byte are tried, in increasing order.
fn first_marker_end(bytes: &[u8]) -> Option<usize> {
    // One table lookup a byte: this scan runs over every URL and line, and with eight
    // comparisons (or a 128-bit mask) a byte it took half again as long (6 % of a URLhaus row).
    const IS_MARKER_BYTE: [bool; 256] = {
        let mut table = [false; 256];
        let marker_bytes = [b'[', b']', b'(', b')', b'{', b'}', b'\\', b':'];
        let mut idx = 0;
        while idx < marker_bytes.len() {
            table[marker_bytes[idx] as usize] = true;
            idx += 1;
        }
        table
    };
    let is_marker_byte = |byte: &u8| IS_MARKER_BYTE[usize::from(*byte)];
    let mut from = 0;
    loop {
        let special = from + bytes.get(from..)?.iter().position(is_marker_byte)?;
        let window_end = (special + 3).min(bytes.len());
        let found = (special..window_end).find(|&end| marker_in_tail(&bytes[..=end]).is_some());
        if found.is_some() {
            return found;
        }
        from = special + 1;
    }
}

/// Pushes `ch` onto `buffer` and replaces every marker that completes, including markers that a
/// replacement completes in turn (`hxxp [://]`: the `:` of `://` completes `hxxp:`). Tells whether
/// spaces after the last replacement are to be swallowed. `pending` is scratch space.
fn push_reducing(buffer: &mut String, pending: &mut Vec<char>, ch: char) -> bool {
    let mut swallows_spaces = false;
    pending.clear();
    pending.push(ch);
    while let Some(next) = pending.pop() {
        buffer.push(next);
        let Some(marker) = marker_in_tail(buffer.as_bytes()) else {
            continue;
        };
        // `marker.start` is the index of an ASCII byte, so a char boundary.
        buffer.truncate(marker.start);
        if marker.swallows_spaces {
            let trimmed_len = buffer.trim_end_matches([' ', '\t']).len();
            buffer.truncate(trimmed_len);
        }
        swallows_spaces |= marker.swallows_spaces;
        // Pushed in reverse, so the replacement comes out first and the kept byte last.
        pending.extend(marker.kept.map(char::from));
        pending.extend(marker.replacement.chars().rev());
    }
    swallows_spaces
}

/// A marker found at the end of the output.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Marker {
    /// Where the marker starts in the output.
    pub(crate) start: usize,
    replacement: &'static str,
    /// The last output byte, which completed the marker without being part of it (the `:` after
    /// `hxxp`, the letter after `[.`), to be pushed back after the replacement.
    kept: Option<u8>,
    /// Whether spaces and tabs next to the marker are dropped too.
    swallows_spaces: bool,
}

/// Returns the marker that `tail` ends with, if any. Only ever matches ASCII.
pub(crate) fn marker_in_tail(tail: &[u8]) -> Option<Marker> {
    match *tail.last()? {
        b']' | b')' | b'}' => bracketed_in_tail(tail),
        b':' | b'[' | b'(' | b'{' => scheme_in_tail(tail),
        last if last.is_ascii_alphanumeric() => dot_in_tail(tail),
        _ => None,
    }
}

/// Matches `[.]`, `( dot )`, `{@}`, `[://]` and friends at the end of `tail`.
fn bracketed_in_tail(tail: &[u8]) -> Option<Marker> {
    let (&close, before_close) = tail.split_last()?;
    let open = match close {
        b']' => b'[',
        b')' => b'(',
        _ => b'{',
    };
    let content_end = before_close.len() - count_spaces_back(before_close);
    let is_content_byte = |b: &u8| b.is_ascii_alphabetic() || b"./:@".contains(b);
    let content_len =
        before_close[..content_end].iter().rev().take(5).take_while(|b| is_content_byte(b)).count();
    let content_start = content_end - content_len;
    let content = &before_close[content_start..content_end];
    let open_at =
        content_start.checked_sub(count_spaces_back(&before_close[..content_start]) + 1)?;
    if before_close[open_at] != open {
        return None;
    }
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
    Some(Marker { start: open_at, replacement, kept: None, swallows_spaces: true })
}

/// Counts the spaces (at most [`MAX_INNER_SPACES`]) at the end of `bytes`.
fn count_spaces_back(bytes: &[u8]) -> usize {
    bytes.iter().rev().take(MAX_INNER_SPACES).take_while(|&&b| b == b' ').count()
}

/// Matches `hxxp`, `hxxps`, `hxtp`, `hxtps`, `fxp` and `fxps` at a word start, followed by the
/// last byte of `tail` (a `:` or an opening bracket).
fn scheme_in_tail(tail: &[u8]) -> Option<Marker> {
    let (&kept, word_and_before) = tail.split_last()?;
    // Each defanged scheme has an `x` among its last four letters; this rules out `http:` and a
    // port's `:` without trying every scheme.
    let tail_has_x = word_and_before.iter().rev().take(4).any(|b| b.eq_ignore_ascii_case(&b'x'));
    if !tail_has_x {
        return None;
    }
    const SCHEMES: [(&[u8], &str); 6] = [
        (b"hxxps", "https"),
        (b"hxtps", "https"),
        (b"hxxp", "http"),
        (b"hxtp", "http"),
        (b"fxps", "ftps"),
        (b"fxp", "ftp"),
    ];
    SCHEMES.into_iter().find_map(|(defanged, replacement)| {
        let start = word_and_before.len().checked_sub(defanged.len())?;
        let is_defanged = word_and_before[start..].eq_ignore_ascii_case(defanged);
        let is_word_start = start == 0 || !word_and_before[start - 1].is_ascii_alphanumeric();
        (is_defanged && is_word_start).then_some(Marker {
            start,
            replacement,
            kept: Some(kept),
            swallows_spaces: false,
        })
    })
}

/// Matches the half brackets `[.` and `.]` and the escaped dot `\.` between two letters or digits
/// at the end of `tail`.
fn dot_in_tail(tail: &[u8]) -> Option<Marker> {
    let [.., before, first, second, after] = *tail else {
        return None;
    };
    let is_dot_marker = matches!([first, second], [b'[', b'.'] | [b'.', b']'] | [b'\\', b'.']);
    (is_dot_marker && before.is_ascii_alphanumeric() && after.is_ascii_alphanumeric()).then_some(
        Marker {
            start: tail.len() - 3,
            replacement: ".",
            kept: Some(after),
            swallows_spaces: false,
        },
    )
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use proptest::prelude::*;

    use super::{marker_in_tail, push_reducing, refang};

    /// Refangs by trying every char end for a marker, as `refang` did before it learnt to skip to
    /// the first possible marker end; `refang` must agree with it on every input.
    fn refang_char_by_char(text: &str) -> Cow<'_, str> {
        let mut out: Option<String> = None;
        let mut pending = Vec::new();
        let mut swallows_spaces = false;
        for (idx, ch) in text.char_indices() {
            if swallows_spaces && matches!(ch, ' ' | '\t') {
                out.get_or_insert_with(|| text[..idx].to_owned());
                continue;
            }
            let end = idx + ch.len_utf8();
            let buffer = match &mut out {
                Some(buffer) => buffer,
                None if marker_in_tail(&text.as_bytes()[..end]).is_none() => continue,
                None => out.insert(text[..idx].to_owned()),
            };
            swallows_spaces = push_reducing(buffer, &mut pending, ch);
        }
        match out {
            None => Cow::Borrowed(text),
            Some(buffer) => Cow::Owned(buffer),
        }
    }

    proptest! {
        #[test]
        fn skipping_to_the_first_marker_changes_nothing(
            text in "[a-dhopxtsfDAOT.@:/\\\\\\[\\](){} \té]{0,24}"
        ) {
            let expected = refang_char_by_char(&text);
            let actual = refang(&text);
            prop_assert_eq!(matches!(actual, Cow::Borrowed(_)), matches!(expected, Cow::Borrowed(_)));
            prop_assert_eq!(actual, expected);
        }
    }

    #[test]
    fn borrows_when_nothing_changes() {
        assert!(matches!(refang("plain text, example.com"), Cow::Borrowed(_)));
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
    fn refangs_markers_made_by_refanging() {
        let cases =
            [("a{{.}}b", "a.b"), ("[ [.] ]", "."), ("hxxp [:]//x", "http://x"), ("a[.] ]b", "a.b")];
        for (input, expected) in cases {
            assert_eq!(refang(input), expected, "input {input:?}");
            assert_eq!(refang(expected), expected, "refanged {expected:?}");
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
