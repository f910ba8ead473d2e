//! Properties of extraction over arbitrary bytes: no panic, every hit's `raw` is the text at its
//! offset on the line it names, and extraction in chunks cut at newlines equals one call.

use proptest::prelude::*;
use watchfire_model::extract::{ExtractOptions, extract};

/// A hit with everything owned and the offset made absolute.
type Row = (String, String, String, u64, usize);

fn rows(text: &[u8], options: &ExtractOptions, first_line: u64, base: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    extract(text, options, first_line, |hit| {
        rows.push((
            hit.observable.kind().as_str().to_owned(),
            hit.observable.value().to_owned(),
            hit.raw.to_owned(),
            hit.line,
            base + hit.offset,
        ));
    });
    rows
}

/// Fragments that exercise every step of the scanner when glued together at random.
const FRAGMENTS: &[&[u8]] = &[
    b"http://",
    b"hxxps",
    b"://",
    b"[.]",
    b"(dot)",
    b"[@]",
    b"[:]",
    b"\\.",
    b".",
    b"..",
    b":",
    b"::",
    b"@",
    b"/",
    b"/24",
    b"/64",
    b"192",
    b"0",
    b"2",
    b"255",
    b"1",
    b"2001",
    b"db8",
    b"ffff",
    b"evil",
    b"example",
    b"com",
    b"zip",
    b"co",
    b"uk",
    b"xn--p1ai",
    b"\n",
    b"\n",
    b" ",
    b"\t",
    b"\r\n",
    b"\xff",
    b"\xc3\xa9",
    b"d41d8cd98f00b204e9800998ecf8427e",
    b"da39a3ee5e6b4b0d",
    b"AS",
    b"64500",
    b"[",
    b"]",
    b"(",
    b")",
    b"{",
    b"}",
    b"<",
    b">",
    b"\"",
    b"'",
    b",",
    b";",
    b"-",
    b"_",
    b"x",
    b"?a=b",
    b"#",
    b"%",
    b"%eth0",
    b"*",
    b"mailto:",
    b"Chrome",
    b"GE",
    b"=",
    // Whole observables, so that hits are frequent and the cuts fall between and inside them.
    b"192.0.2.1",
    b"198.51.100.0/24",
    b"evil.example.com",
    b"http://x.example.com/a?b=c",
    b"2001:db8::1",
    b"user@example.org",
    b"192.0.2[.]55",
    b"hxxp://evil[.]example[.]net/x",
    b"AS64500",
    b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
];

fn soup() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..64)
        .prop_map(|fragments| fragments.concat())
}

fn text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![proptest::collection::vec(any::<u8>(), 0..256), soup()]
}

proptest! {
    #[test]
    fn hits_point_at_their_raw_text(text in text(), refang in any::<bool>(), first_line in 1u64..1000) {
        let options = ExtractOptions { refang };
        let rows = rows(&text, &options, first_line, 0);
        let mut previous_offset = 0;
        for (kind, value, raw, line, offset) in &rows {
            prop_assert_eq!(text.get(*offset..offset + raw.len()), Some(raw.as_bytes()), "{} {}", kind, value);
            prop_assert!(!raw.is_empty() && !raw.bytes().any(|byte| byte.is_ascii_whitespace()));
            let newlines = text[..*offset].iter().filter(|&&byte| byte == b'\n').count() as u64;
            prop_assert_eq!(*line, first_line + newlines);
            prop_assert!(*offset >= previous_offset, "hits come in offset order");
            previous_offset = *offset;
        }
    }

    #[test]
    fn chunks_cut_at_newlines_give_the_same_hits(
        text in text(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let options = ExtractOptions::default();
        let whole = rows(&text, &options, 1, 0);

        let newline_ends: Vec<usize> = text
            .iter()
            .enumerate()
            .filter(|(_, byte)| **byte == b'\n')
            .map(|(position, _)| position + 1)
            .collect();
        let mut boundaries: Vec<usize> = match newline_ends.is_empty() {
            true => Vec::new(),
            false => cuts.iter().map(|cut| newline_ends[cut.index(newline_ends.len())]).collect(),
        };
        boundaries.push(text.len());
        boundaries.sort_unstable();
        boundaries.dedup();

        let mut chunked = Vec::new();
        let mut start = 0;
        let mut line = 1;
        for end in boundaries {
            let piece = &text[start..end];
            chunked.extend(rows(piece, &options, line, start));
            line += piece.iter().filter(|&&byte| byte == b'\n').count() as u64;
            start = end;
        }
        prop_assert_eq!(chunked, whole);
    }
}
