//! The string values of one JSON line with their dotted key paths (`dns.rrname`), read in place:
//! no tree, no allocation unless a string holds escapes. Arrays keep their parent's path.
//!
//! Checks are those that matter for finding values (structure, escapes, the UTF-8 of unescaped
//! strings, nesting depth); the line itself is text the caller checked. The caller confirms a
//! line with a hit with serde_json, so a line that serde_json rejects never reports one.

/// serde_json's default recursion limit: deeper lines are rejected as serde_json rejects them.
const MAX_DEPTH: usize = 128;

/// Calls `visit(path, value)` for each string value of `line`; returns false when the line is
/// not JSON (the values visited so far must then be dropped).
pub(super) fn walk(
    line: &str,
    path: &mut String,
    unescaped: &mut Vec<u8>,
    visit: &mut dyn FnMut(&str, &str),
) -> bool {
    path.clear();
    let mut reader = Reader { line, bytes: line.as_bytes(), at: 0 };
    reader.value(0, path, unescaped, visit).is_some() && {
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

impl Reader<'_> {
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_whitespace();
        (self.bytes.get(self.at) == Some(&byte)).then(|| self.at += 1)
    }

    fn value(
        &mut self,
        depth: usize,
        path: &mut String,
        unescaped: &mut Vec<u8>,
        visit: &mut dyn FnMut(&str, &str),
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_whitespace();
        match *self.bytes.get(self.at)? {
            b'{' => {
                self.at += 1;
                if self.eat(b'}').is_some() {
                    return Some(());
                }
                loop {
                    self.eat(b'"')?;
                    self.at -= 1;
                    let key = self.string(unescaped)?;
                    let length = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(self.text(&key, unescaped));
                    self.eat(b':')?;
                    self.value(depth + 1, path, unescaped, visit)?;
                    path.truncate(length);
                    self.skip_whitespace();
                    match self.bytes.get(self.at)? {
                        b',' => self.at += 1,
                        b'}' => {
                            self.at += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.at += 1;
                if self.eat(b']').is_some() {
                    return Some(());
                }
                loop {
                    self.value(depth + 1, path, unescaped, visit)?;
                    self.skip_whitespace();
                    match self.bytes.get(self.at)? {
                        b',' => self.at += 1,
                        b']' => {
                            self.at += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => {
                let text = self.string(unescaped)?;
                visit(path, self.text(&text, unescaped));
                Some(())
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => {
                let start = self.at;
                while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') =
                    self.bytes.get(self.at)
                {
                    self.at += 1;
                }
                (self.at > start).then_some(())
            }
            _ => None,
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
        let end = start + super::swar::find2(rest, b'"', b'\\')?;
        if self.bytes[end] == b'"' {
            self.at = end + 1;
            return Some(Text::Line(start, end));
        }
        self.escaped(start, end, unescaped)
    }

    // The rest of a string with escapes: `start` is its first byte, `end` its first backslash.
    #[inline(never)]
    fn escaped(&mut self, start: usize, end: usize, unescaped: &mut Vec<u8>) -> Option<Text> {
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
                return Some(Text::Unescaped);
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
        let ok = walk(line, &mut String::new(), &mut Vec::new(), &mut |path, value| {
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
        ] {
            assert_eq!(check(line), None, "{line}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(check(&deep), None);
        // An escape that makes no character (a lone low surrogate) is refused too.
        assert_eq!(check(r#"{"a":"\udc00"}"#), None);
    }
}
