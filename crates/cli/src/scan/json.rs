//! The string values of one JSON line with their dotted key paths (`dns.rrname`), read in place:
//! no tree, no allocation unless a string holds escapes. Arrays keep their parent's path.
//!
//! Checks are those that matter for finding values (structure, escapes, the UTF-8 of unescaped
//! strings, nesting depth); the line itself is text the caller checked. The caller confirms a
//! line with a hit with serde_json, so a line that serde_json rejects never reports one.

/// The most containers open at once; a deeper line is refused (serde_json's `Value` stops
/// at 127, its `IgnoredAny`, which confirms a line with a hit, has no limit).
const MAX_DEPTH: usize = 128;

/// The buffers a walk reuses from line to line.
#[derive(Default)]
pub(super) struct Buffers {
    /// The open containers.
    stack: Vec<Open>,
    /// The text of the last string with escapes.
    unescaped: Vec<u8>,
    /// The text of the line's keys that had escapes.
    keys: String,
}

/// The keys of the value visited: the current key of each object around it, outermost first
/// (an array adds none). Nothing is joined until a caller asks for the dotted path.
pub(super) struct Keys<'a> {
    open: &'a [Open],
    line: &'a str,
    /// The text of the keys that had escapes.
    escaped: &'a str,
}

impl<'a> Keys<'a> {
    fn all(&self) -> impl DoubleEndedIterator<Item = &'a str> + '_ {
        self.open.iter().filter(|open| open.is_object()).map(|open| self.text(*open))
    }

    fn text(&self, open: Open) -> &'a str {
        let text = if open.is_escaped() { self.escaped } else { self.line };
        // Cannot fail: a key lies between quotes (ASCII, so character boundaries), or is the
        // whole of an unescaped key.
        text.get(open.key_start as usize..open.key_end as usize).unwrap_or_default()
    }

    /// The length in bytes of the innermost key (0 for a value outside every object): a
    /// cheaper first question than the key's text.
    pub(super) fn last_len(&self) -> usize {
        let open = self.open.iter().rev().find(|open| open.is_object());
        open.map_or(0, |open| (open.key_end - open.key_start) as usize)
    }

    /// The innermost key (none for a value outside every object).
    pub(super) fn last(&self) -> Option<&'a str> {
        self.all().next_back()
    }

    /// Whether the keys are `keys`.
    pub(super) fn are(&self, keys: &[&str]) -> bool {
        self.all().eq(keys.iter().copied())
    }

    /// Writes the dotted path (`dns.rrname`) into `out`.
    pub(super) fn path(&self, out: &mut String) {
        out.clear();
        for (index, key) in self.all().enumerate() {
            if index > 0 {
                out.push('.');
            }
            out.push_str(key);
        }
    }
}

/// Calls `visit(keys, value)` for each string value of `line`; returns false when the line is
/// not JSON (the values visited so far must then be dropped).
///
/// One loop over the line with an explicit stack of open containers (no call a value): a log's
/// lines are flat and short, and the work per token, not per byte, is what costs. A key is kept
/// as where it is in the line, not copied into a path.
// Inlined, as `Reader::walk` is (see there).
#[inline(always)]
pub(super) fn walk(
    line: &str,
    buffers: &mut Buffers,
    visit: &mut impl FnMut(&Keys<'_>, &str),
) -> bool {
    buffers.stack.clear();
    buffers.keys.clear();
    let mut reader = Reader { line, bytes: line.as_bytes(), at: 0 };
    reader.walk(buffers, visit).is_some() && {
        reader.skip_whitespace();
        reader.at == line.len()
    }
}

struct Reader<'a> {
    line: &'a str,
    bytes: &'a [u8],
    at: usize,
}

/// Where a string's text is: in the line, or (when it had escapes) in the unescape buffer.
enum Text {
    Line(usize, usize),
    Unescaped,
}

/// What the walk reads next.
#[derive(Clone, Copy)]
enum Next {
    /// A value (the line's, an array item, or after a key's `:`).
    Value,
    /// A key of the innermost object (after its `{` or a `,`).
    Key,
    /// What follows a value: `,` or the end of the innermost container (or of the line).
    After,
}

/// An open container, and for an object the key of the member being read: where its text is,
/// in the line or (when it had escapes) in [`Buffers::keys`].
#[derive(Clone, Copy)]
struct Open {
    key_start: u32,
    key_end: u32,
    flags: u8,
}

impl Open {
    const OBJECT: u8 = 1;
    const ESCAPED: u8 = 2;

    fn is_object(self) -> bool {
        self.flags & Open::OBJECT != 0
    }

    fn is_escaped(self) -> bool {
        self.flags & Open::ESCAPED != 0
    }
}

impl Reader<'_> {
    // The byte at `at`, or 0 past the end (which no JSON token starts with).
    fn byte(&self) -> u8 {
        self.bytes.get(self.at).copied().unwrap_or(0)
    }

    fn skip_whitespace(&mut self) {
        while let b' ' | b'\t' | b'\n' | b'\r' = self.byte() {
            self.at += 1;
        }
    }

    // The byte at `at` after any whitespace (most lines have none).
    fn next_byte(&mut self) -> u8 {
        let byte = self.byte();
        if byte > b' ' {
            return byte;
        }
        self.skip_whitespace();
        self.byte()
    }

    // Inlined into the line loop with the visit closure: out of line, an EVE line cost 7 % more
    // instructions.
    #[inline(always)]
    fn walk(
        &mut self,
        buffers: &mut Buffers,
        visit: &mut impl FnMut(&Keys<'_>, &str),
    ) -> Option<()> {
        let Buffers { stack, unescaped, keys } = buffers;
        let mut next = Next::Value;
        loop {
            match next {
                Next::Value => match self.next_byte() {
                    opening @ (b'{' | b'[') => {
                        if stack.len() == MAX_DEPTH {
                            return None;
                        }
                        self.at += 1;
                        let is_object = opening == b'{';
                        let closing = if is_object { b'}' } else { b']' };
                        if self.next_byte() == closing {
                            self.at += 1;
                            next = Next::After;
                        } else {
                            let flags = if is_object { Open::OBJECT } else { 0 };
                            stack.push(Open { key_start: 0, key_end: 0, flags });
                            next = if is_object { Next::Key } else { Next::Value };
                        }
                    }
                    b'"' => {
                        let text = self.string(unescaped)?;
                        let keys = Keys { open: stack, line: self.line, escaped: keys };
                        visit(&keys, self.text(&text, unescaped));
                        next = Next::After;
                    }
                    b't' => {
                        self.literal(b"true")?;
                        next = Next::After;
                    }
                    b'f' => {
                        self.literal(b"false")?;
                        next = Next::After;
                    }
                    b'n' => {
                        self.literal(b"null")?;
                        next = Next::After;
                    }
                    b'-' | b'0'..=b'9' => {
                        // Most numbers are digits only: those are skipped a word at a time.
                        self.at += super::swar::leading_digits(&self.bytes[self.at..]);
                        while let b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E' = self.byte() {
                            self.at += 1;
                        }
                        next = Next::After;
                    }
                    _ => return None,
                },
                Next::Key => {
                    if self.next_byte() != b'"' {
                        return None;
                    }
                    let key = self.string(unescaped)?;
                    // Cannot truncate: a line is at most MAX_LINE bytes (and an unescaped key
                    // is shorter than its text in the line).
                    let (key_start, key_end, flags) = match key {
                        Text::Line(start, end) => (start as u32, end as u32, Open::OBJECT),
                        Text::Unescaped => {
                            let start = keys.len() as u32;
                            keys.push_str(self.text(&key, unescaped));
                            (start, keys.len() as u32, Open::OBJECT | Open::ESCAPED)
                        }
                    };
                    // The innermost container is the object this key is of.
                    if let Some(open) = stack.last_mut() {
                        *open = Open { key_start, key_end, flags };
                    }
                    if self.next_byte() != b':' {
                        return None;
                    }
                    self.at += 1;
                    next = Next::Value;
                }
                Next::After => {
                    let Some(open) = stack.last().copied() else { return Some(()) };
                    match self.next_byte() {
                        b',' => {
                            self.at += 1;
                            next = if open.is_object() { Next::Key } else { Next::Value };
                        }
                        b'}' if open.is_object() => {
                            self.at += 1;
                            stack.pop();
                        }
                        b']' if !open.is_object() => {
                            self.at += 1;
                            stack.pop();
                        }
                        _ => return None,
                    }
                }
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let matches = self.bytes[self.at..].starts_with(word);
        matches.then(|| self.at += word.len())
    }

    fn text<'b>(&'b self, text: &Text, unescaped: &'b [u8]) -> &'b str {
        // Cannot fail: a string in the line lies between quotes (ASCII, so character
        // boundaries), and `string` checked the UTF-8 of an unescaped one.
        match *text {
            Text::Line(start, end) => self.line.get(start..end).unwrap_or_default(),
            Text::Unescaped => std::str::from_utf8(unescaped).unwrap_or_default(),
        }
    }

    // Reads the string at `at` (its opening quote); checks the UTF-8 of an unescaped one.
    // Inlined: most strings hold no escape, and their span then stays in registers (returned
    // through memory, it was read back before the two halves were written, a stall a string).
    #[inline(always)]
    fn string(&mut self, unescaped: &mut Vec<u8>) -> Option<Text> {
        let start = self.at + 1;
        let rest = &self.bytes[start..];
        let end = start + super::mask::find2(rest, b'"', b'\\')?;
        if self.bytes[end] == b'"' {
            self.at = end + 1;
            return Some(Text::Line(start, end));
        }
        let reader = Reader { line: self.line, bytes: self.bytes, at: self.at };
        let (text, at) = reader.escaped(start, end, unescaped)?;
        self.at = at;
        Some(text)
    }

    // The rest of a string with escapes: `start` is its first byte, `end` its first backslash.
    // Takes the reader by value and gives back where the string ends: a reader passed by
    // reference to a call out of line lives in memory for the whole walk, its place loaded
    // and stored at every step.
    #[inline(never)]
    fn escaped(
        mut self,
        start: usize,
        end: usize,
        unescaped: &mut Vec<u8>,
    ) -> Option<(Text, usize)> {
        unescaped.clear();
        unescaped.extend_from_slice(&self.bytes[start..end]);
        self.at = end;
        loop {
            // At a backslash.
            let escape = *self.bytes.get(self.at + 1)?;
            self.at += 2;
            match escape {
                b'"' | b'\\' | b'/' => unescaped.push(escape),
                b'b' => unescaped.push(8),
                b'f' => unescaped.push(12),
                b'n' => unescaped.push(b'\n'),
                b'r' => unescaped.push(b'\r'),
                b't' => unescaped.push(b'\t'),
                b'u' => {
                    let mut code = u32::from(self.hex4()?);
                    if (0xd800..0xdc00).contains(&code) {
                        // A high surrogate: its low half must follow.
                        if self.bytes.get(self.at..self.at + 2)? != b"\\u" {
                            return None;
                        }
                        self.at += 2;
                        let low = u32::from(self.hex4()?);
                        if !(0xdc00..0xe000).contains(&low) {
                            return None;
                        }
                        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                    }
                    let ch = char::from_u32(code)?;
                    unescaped.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                }
                _ => return None,
            }
            let rest = &self.bytes[self.at..];
            let next = self.at + memchr::memchr2(b'"', b'\\', rest)?;
            unescaped.extend_from_slice(&self.bytes[self.at..next]);
            self.at = next;
            if self.bytes[next] == b'"' {
                self.at += 1;
                std::str::from_utf8(unescaped).ok()?;
                return Some((Text::Unescaped, self.at));
            }
        }
    }

    fn hex4(&mut self) -> Option<u16> {
        let digits = std::str::from_utf8(self.bytes.get(self.at..self.at + 4)?).ok()?;
        let value = u16::from_str_radix(digits, 16).ok()?;
        // `from_str_radix` takes a sign; JSON does not.
        if digits.starts_with('+') {
            return None;
        }
        self.at += 4;
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str) -> Option<Vec<String>> {
        let mut seen = Vec::new();
        let mut path = String::new();
        let ok = walk(line, &mut Buffers::default(), &mut |keys, value| {
            keys.path(&mut path);
            seen.push(format!("{path}={value}"));
        });
        ok.then_some(seen)
    }

    #[test]
    fn strings_come_with_their_paths() {
        let line = r#"{"a":"x","b":{"c":"y","d":[1,"z",{"e":"w"}],"n":null},"t":true,"f":-1.5e3}"#;
        assert_eq!(check(line).unwrap(), ["a=x", "b.c=y", "b.d=z", "b.d.e=w"]);
        let escaped = r#" {"k\"ey":"a\\b\u00e9\ud83d\ude00\/"} "#;
        assert_eq!(check(escaped).unwrap(), ["k\"ey=a\\bé😀/"]);
        assert_eq!(check("[]").unwrap(), Vec::<String>::new());
    }

    /// A value's keys, asked one by one, are those its path joins (a key may hold a dot).
    #[test]
    fn keys_are_read_where_they_are() {
        let line = r#"{"http":{"hostname":"a","u\u0072l":"b","x.y":["c",{"z":"d"}]},"e":"f"}"#;
        let mut seen = Vec::new();
        let ok = walk(line, &mut Buffers::default(), &mut |keys, value| {
            let last = keys.last().unwrap_or_default().to_owned();
            assert_eq!(keys.last_len(), last.len());
            let is_request = keys.are(&["http", "hostname"]) || keys.are(&["http", "url"]);
            seen.push(format!("{value}:{last}:{is_request}"));
        });
        assert!(ok);
        assert_eq!(
            seen,
            ["a:hostname:true", "b:url:true", "c:x.y:false", "d:z:false", "f:e:false"]
        );
        assert!(walk(r#""top""#, &mut Buffers::default(), &mut |keys, _| {
            assert_eq!((keys.last(), keys.are(&[])), (None, true));
        }));
    }

    #[test]
    fn lines_that_are_not_json_are_rejected() {
        for line in [
            r#"{"a":"x""#,
            r#"{"a":"x"} trailing"#,
            r#"{"a" "x"}"#,
            r#"{"a":"\x"}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\u+123"}"#,
            r#"{"a":tru}"#,
            r#"{"a":"x",}"#,
            "",
            // Structure between strings out of place.
            r#"{"a":"x":"y"}"#,
            r#"{"a":"x","b"}"#,
            r#"{"a","b"}"#,
            r#"{"a"::"x"}"#,
            r#"{"a":"x",,"b":"y"}"#,
            r#"{,"a":"x"}"#,
            r#"["a":"b"]"#,
            r#"["a",]"#,
            r#"[,"a"]"#,
            r#""a""b""#,
            r#""a","b""#,
            r#"{"a":"x"}}"#,
            r#"{"a":"x"]"#,
            r#"["a"}"#,
            r#"{"a":"x"},"#,
            r#"{"a":"x""#,
            r#"{"a":"x"#,
            r#"{"a":1"b"}"#,
            r#"{"a":"x"1}"#,
            r#"{"a":nul}"#,
            r#"{"a":truefalse}"#,
            "{\"a\":\"x\" é}",
        ] {
            assert_eq!(check(line), None, "{line}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(check(&deep), None);
        // An escape that makes no character (a lone low surrogate) is refused too.
        assert_eq!(check(r#"{"a":"\udc00"}"#), None);
    }

    // The (path, string) pairs of a parsed value, in order, as the walk must give them.
    fn strings_of(value: &serde_json::Value, path: &str, out: &mut Vec<String>) {
        match value {
            serde_json::Value::String(text) => out.push(format!("{path}={text}")),
            serde_json::Value::Array(items) => {
                items.iter().for_each(|item| strings_of(item, path, out));
            }
            serde_json::Value::Object(members) => {
                for (key, member) in members {
                    let inner = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                    strings_of(member, &inner, out);
                }
            }
            _ => {}
        }
    }

    // A random JSON text: nested objects and arrays, strings with escapes and non-ASCII text,
    // numbers and literals, whitespace between tokens; keys distinct within an object.
    fn random_json(next: &mut impl FnMut() -> u64, depth: usize, out: &mut String) {
        let space = |next: &mut dyn FnMut() -> u64, out: &mut String| {
            if next().is_multiple_of(4) {
                out.push_str([" ", "\t", "\r\n", "  "][(next() % 4) as usize]);
            }
        };
        let string = |next: &mut dyn FnMut() -> u64, out: &mut String| {
            out.push('"');
            for _ in 0..next() % 6 {
                let part = [
                    "a",
                    "evil.example",
                    "\\\"",
                    "\\\\",
                    "\\/",
                    "\\n",
                    "\\u00e9",
                    "é",
                    "\\ud83d\\ude00",
                    "10.0.0.1",
                    ".",
                    "-",
                ];
                out.push_str(part[(next() % part.len() as u64) as usize]);
            }
            out.push('"');
        };
        space(next, out);
        match next() % if depth > 4 { 4 } else { 6 } {
            0 | 3 => string(next, out),
            1 => out.push_str(["0", "-1.5e3", "42", "1E+2"][(next() % 4) as usize]),
            2 => out.push_str(["true", "false", "null"][(next() % 3) as usize]),
            4 => {
                out.push('[');
                for item in 0..next() % 4 {
                    if item > 0 {
                        out.push(',');
                    }
                    random_json(next, depth + 1, out);
                }
                space(next, out);
                out.push(']');
            }
            _ => {
                out.push('{');
                for member in 0..next() % 4 {
                    if member > 0 {
                        out.push(',');
                    }
                    space(next, out);
                    out.push_str(&format!("\"k{member}"));
                    if next().is_multiple_of(3) {
                        out.push_str(["\\u00e9", ".x", "\\\""][(next() % 3) as usize]);
                    }
                    out.push('"');
                    space(next, out);
                    out.push(':');
                    random_json(next, depth + 1, out);
                }
                space(next, out);
                out.push('}');
            }
        }
        space(next, out);
    }

    /// On random JSON the walk gives serde_json's strings with their paths; every cut of a line
    /// (a truncated log line) and every line serde_json refuses after one byte is changed is
    /// refused too, unless the change left JSON the walk reads the same way.
    #[test]
    fn the_walk_reads_what_serde_json_reads() {
        let mut next = crate::scan::tests::random(0x9e37_79b9_7f4a_7c15);
        let mut seen = 0;
        for _ in 0..20_000 {
            let mut line = String::from("{\"a\":");
            random_json(&mut next, 1, &mut line);
            line.push('}');
            let value: serde_json::Value = serde_json::from_str(&line).unwrap();
            let mut expected = Vec::new();
            strings_of(&value, "", &mut expected);
            assert_eq!(check(&line).as_ref(), Some(&expected), "{line}");
            seen += expected.len();
            for cut in (0..line.len()).filter(|cut| line.is_char_boundary(*cut)) {
                let prefix = &line[..cut];
                if serde_json::from_str::<serde::de::IgnoredAny>(prefix).is_err() {
                    assert_eq!(check(prefix), None, "{prefix}");
                }
            }
            let at = (next() % line.len() as u64) as usize;
            if line.is_char_boundary(at) && line.is_char_boundary(at + 1) {
                // No digit: turning `k0` into `k1` would make a duplicate key, which a map
                // collapses and the walk keeps.
                let byte = [b'{', b'}', b'[', b']', b',', b':', b'"', b'\\', b'x', b' '];
                let mut changed = line.clone().into_bytes();
                changed[at] = byte[(next() % byte.len() as u64) as usize];
                let Ok(changed) = String::from_utf8(changed) else { continue };
                match serde_json::from_str::<serde_json::Value>(&changed) {
                    Ok(value) => {
                        let mut expected = Vec::new();
                        strings_of(&value, "", &mut expected);
                        assert_eq!(check(&changed), Some(expected), "{changed}");
                    }
                    // The walk checks less than serde_json: numbers' grammar (and control
                    // characters, which no change here makes). A line with a hit is confirmed
                    // by serde_json.
                    Err(_) if b"0123456789+-.eE".contains(&line.as_bytes()[at]) => {}
                    Err(_) => assert_eq!(check(&changed), None, "{changed}"),
                }
            }
        }
        assert!(seen > 10_000, "random lines hold strings: {seen}");
    }

    /// Nesting is read up to MAX_DEPTH open containers and refused past it.
    #[test]
    fn nesting_stops_at_the_limit() {
        for depth in [1, 64, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 200] {
            for inner in ["", "\"x\""] {
                let line = "[".repeat(depth) + inner + &"]".repeat(depth);
                let expected = (depth <= MAX_DEPTH).then(|| match inner {
                    "" => vec![],
                    _ => vec!["=x".to_owned()],
                });
                assert_eq!(check(&line), expected, "depth {depth} {inner}");
            }
        }
    }
}
