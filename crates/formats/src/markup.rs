//! A small streaming tokenizer for the XML and tag-soup HTML that some feeds are: start and end
//! tags with attributes, text with entities decoded, CDATA; comments, doctypes and processing
//! instructions are skipped. It reads from a `BufRead` with a line count, never holds more than
//! one token (capped at [`MAX_TOKEN`] bytes), and never fails on bad markup: it hands back a
//! [`Token::Bad`] and goes on.
//!
//! It does not check well-formedness (the readers look at the few elements they need) and knows
//! no DTD. An XML declaration naming ISO-8859-1, ISO-8859-15, Latin-1 or windows-1252 makes it
//! decode bytes as ISO-8859-15 (Latin-1 with the euro sign and friends); otherwise text is UTF-8,
//! invalid sequences becoming U+FFFD. In HTML mode tag names are lower-cased and the contents of
//! `<script>` and `<style>` are skipped.

use std::borrow::Cow;
use std::io::{self, BufRead};

/// The most bytes one token (a text run, a tag, a CDATA section) may have.
pub(crate) const MAX_TOKEN: usize = 1 << 20;

/// One piece of markup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Token {
    /// A start tag; `self_closing` for `<name/>`.
    Start { name: String, attributes: Vec<(String, String)>, self_closing: bool },
    /// An end tag.
    End { name: String },
    /// Text (entities decoded) or a CDATA section (as it is).
    Text(String),
    /// Markup that could not be read, and why; reading goes on after it.
    Bad(String),
}

/// Whether to read XML or HTML.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Html,
    Xml,
}

/// Reads tokens from a `BufRead`.
#[derive(Debug)]
pub(crate) struct Tokenizer<R> {
    reader: R,
    mode: Mode,
    /// The line of the next byte, 1-based.
    line: u64,
    is_latin: bool,
    /// In HTML, the element whose raw contents come next (`script`, `style`).
    raw_text_of: Option<String>,
}

impl<R: BufRead> Tokenizer<R> {
    /// Starts reading `reader` at line 1.
    pub(crate) fn new(reader: R, mode: Mode) -> Tokenizer<R> {
        Tokenizer { reader, mode, line: 1, is_latin: false, raw_text_of: None }
    }

    /// Returns the next token and the line it starts on, `None` at the end, or an I/O error.
    pub(crate) fn next_token(&mut self) -> io::Result<Option<(u64, Token)>> {
        loop {
            let line = self.line;
            if let Some(name) = self.raw_text_of.take() {
                self.skip_raw_text(&name)?;
                return Ok(Some((line, Token::End { name })));
            }
            let Some(byte) = self.peek()? else {
                return Ok(None);
            };
            if byte != b'<' {
                return Ok(Some((line, self.text()?)));
            }
            self.bump()?;
            let token = match self.peek()? {
                Some(b'!') => self.bang()?,
                Some(b'?') => self.processing_instruction()?,
                Some(b'/') => {
                    self.bump()?;
                    self.tag(true)?
                }
                Some(byte) if byte.is_ascii_alphabetic() => self.tag(false)?,
                // A lone `<` (`a < b` in tag soup) is text.
                _ => Some(Token::Text("<".to_owned())),
            };
            if let Some(token) = token {
                return Ok(Some((line, token)));
            }
        }
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(self.reader.fill_buf()?.first().copied())
    }

    fn bump(&mut self) -> io::Result<Option<u8>> {
        let byte = self.peek()?;
        if let Some(byte) = byte {
            self.reader.consume(1);
            self.line += u64::from(byte == b'\n');
        }
        Ok(byte)
    }

    /// Reads text up to the next `<` (not consumed).
    fn text(&mut self) -> io::Result<Token> {
        let mut bytes = Vec::new();
        let mut is_too_long = false;
        loop {
            let buffer = self.reader.fill_buf()?;
            if buffer.is_empty() {
                break;
            }
            let end = memchr::memchr(b'<', buffer).unwrap_or(buffer.len());
            let room = MAX_TOKEN.saturating_sub(bytes.len());
            is_too_long |= end > room;
            bytes.extend_from_slice(&buffer[..end.min(room)]);
            self.line += memchr::memchr_iter(b'\n', &buffer[..end]).count() as u64;
            let found = end < buffer.len();
            self.reader.consume(end);
            if found {
                break;
            }
        }
        if is_too_long {
            return Ok(Token::Bad(format!("text longer than {MAX_TOKEN} bytes")));
        }
        Ok(Token::Text(decode_entities(&self.decode(&bytes)).into_owned()))
    }

    /// Reads what follows `<!`: CDATA (a text token), a comment or a doctype (skipped).
    fn bang(&mut self) -> io::Result<Option<Token>> {
        self.bump()?;
        let mut opener = Vec::new();
        while let Some(byte) = self.peek()? {
            let mut candidate = opener.clone();
            candidate.push(byte);
            let is_prefix = b"[CDATA[".starts_with(&candidate) || b"--".starts_with(&candidate);
            if !is_prefix {
                break;
            }
            self.bump()?;
            opener = candidate;
            if opener == b"--" || opener == b"[CDATA[" {
                break;
            }
        }
        match opener.as_slice() {
            b"[CDATA[" => {
                let mut bytes = Vec::new();
                let (is_closed, is_too_long) = self.until(b"]]>", Some(&mut bytes))?;
                Ok(Some(match (is_closed, is_too_long) {
                    (false, _) => Token::Bad("cdata section not closed".to_owned()),
                    (true, true) => {
                        Token::Bad(format!("cdata section longer than {MAX_TOKEN} bytes"))
                    }
                    (true, false) => Token::Text(self.decode(&bytes).into_owned()),
                }))
            }
            b"--" => {
                let (is_closed, _) = self.until(b"-->", None)?;
                Ok((!is_closed).then(|| Token::Bad("comment not closed".to_owned())))
            }
            _ => {
                let (is_closed, _) = self.until(b">", None)?;
                Ok((!is_closed).then(|| Token::Bad("declaration not closed".to_owned())))
            }
        }
    }

    /// Reads a processing instruction; the XML declaration may set the encoding.
    fn processing_instruction(&mut self) -> io::Result<Option<Token>> {
        let mut bytes = Vec::new();
        let (is_closed, _) = self.until(b"?>", Some(&mut bytes))?;
        if !is_closed {
            return Ok(Some(Token::Bad("processing instruction not closed".to_owned())));
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Some(declaration) = text.strip_prefix("?xml") {
            let (_, attributes) = split_tag(&format!("xml {declaration}"));
            let encoding = attributes.iter().find(|(name, _)| name == "encoding");
            self.is_latin = encoding.is_some_and(|(_, value)| {
                let value = value.to_ascii_lowercase();
                ["iso-8859-1", "iso-8859-15", "latin1", "latin-1", "windows-1252"]
                    .contains(&value.as_str())
            });
        }
        Ok(None)
    }

    /// Reads a tag after `<` (or `</`) up to its `>`, minding quoted attribute values.
    fn tag(&mut self, is_end: bool) -> io::Result<Option<Token>> {
        let mut bytes = Vec::new();
        let mut quote = None;
        loop {
            let Some(byte) = self.bump()? else {
                return Ok(Some(Token::Bad("tag not closed".to_owned())));
            };
            match (quote, byte) {
                (None, b'>') => break,
                (None, b'"' | b'\'') => quote = Some(byte),
                (Some(open), _) if open == byte => quote = None,
                _ => {}
            }
            if bytes.len() == MAX_TOKEN {
                return Ok(Some(Token::Bad(format!("tag longer than {MAX_TOKEN} bytes"))));
            }
            bytes.push(byte);
        }
        let text = self.decode(&bytes);
        let self_closing = text.trim_end().ends_with('/');
        let (name, attributes) = split_tag(text.trim_end().trim_end_matches('/'));
        let name = match self.mode {
            Mode::Html => name.to_ascii_lowercase(),
            Mode::Xml => name,
        };
        if is_end {
            return Ok(Some(Token::End { name }));
        }
        if self.mode == Mode::Html && !self_closing && (name == "script" || name == "style") {
            self.raw_text_of = Some(name.clone());
        }
        Ok(Some(Token::Start { name, attributes, self_closing }))
    }

    /// Skips an HTML raw-text element's contents through its end tag (`</script ...>`).
    fn skip_raw_text(&mut self, name: &str) -> io::Result<()> {
        let closer = format!("</{name}");
        let mut tail: Vec<u8> = Vec::with_capacity(closer.len());
        while let Some(byte) = self.bump()? {
            if tail.len() == closer.len() {
                tail.remove(0);
            }
            tail.push(byte.to_ascii_lowercase());
            if tail == closer.as_bytes() {
                self.until(b">", None)?;
                return Ok(());
            }
        }
        Ok(())
    }

    /// Consumes bytes through `closer`, collecting those before it into `out` (up to
    /// [`MAX_TOKEN`]). Returns whether `closer` was found and whether `out` overflowed.
    fn until(&mut self, closer: &[u8], mut out: Option<&mut Vec<u8>>) -> io::Result<(bool, bool)> {
        let mut tail: Vec<u8> = Vec::with_capacity(closer.len());
        let mut is_too_long = false;
        while let Some(byte) = self.bump()? {
            if tail.len() == closer.len() {
                let oldest = tail.remove(0);
                if let Some(out) = out.as_deref_mut() {
                    match out.len() < MAX_TOKEN {
                        true => out.push(oldest),
                        false => is_too_long = true,
                    }
                }
            }
            tail.push(byte);
            if tail == closer {
                return Ok((true, is_too_long));
            }
        }
        Ok((false, is_too_long))
    }

    fn decode<'a>(&self, bytes: &'a [u8]) -> Cow<'a, str> {
        match self.is_latin {
            true => Cow::Owned(bytes.iter().map(|&byte| latin9_char(byte)).collect()),
            false => String::from_utf8_lossy(bytes),
        }
    }
}

/// Returns the character of an ISO-8859-15 byte.
fn latin9_char(byte: u8) -> char {
    match byte {
        0xa4 => '€',
        0xa6 => 'Š',
        0xa8 => 'š',
        0xb4 => 'Ž',
        0xb8 => 'ž',
        0xbc => 'Œ',
        0xbd => 'œ',
        0xbe => 'Ÿ',
        _ => char::from(byte),
    }
}

/// Splits a tag's text (without `<`, `>`) into its name and attributes (`name="v"`, `name='v'`,
/// `name=v`, bare `name`), entities decoded in the values.
fn split_tag(text: &str) -> (String, Vec<(String, String)>) {
    let text = text.trim();
    let name_end = text.find(|c: char| c.is_ascii_whitespace()).unwrap_or(text.len());
    let name = text[..name_end].to_owned();
    let mut attributes = Vec::new();
    let mut rest = text[name_end..].trim_start();
    while !rest.is_empty() {
        let key_end =
            rest.find(|c: char| c.is_ascii_whitespace() || c == '=').unwrap_or(rest.len());
        let key = rest[..key_end].to_ascii_lowercase();
        rest = rest[key_end..].trim_start();
        let value = match rest.strip_prefix('=') {
            Some(after) => {
                let after = after.trim_start();
                let (value, remaining) = match after.chars().next() {
                    Some(quote @ ('"' | '\'')) => {
                        let inner = &after[1..];
                        let close = inner.find(quote).unwrap_or(inner.len());
                        (&inner[..close], inner.get(close + 1..).unwrap_or(""))
                    }
                    _ => {
                        let end =
                            after.find(|c: char| c.is_ascii_whitespace()).unwrap_or(after.len());
                        (&after[..end], &after[end..])
                    }
                };
                rest = remaining.trim_start();
                decode_entities(value).into_owned()
            }
            None => String::new(),
        };
        if key.is_empty() {
            // A stray `=` or quote: drop one character and go on.
            rest = rest.get(1..).unwrap_or("").trim_start();
            continue;
        }
        attributes.push((key, value));
    }
    (name, attributes)
}

/// Decodes `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&nbsp;` and numeric references; an
/// unknown or malformed reference stays as it is (tag soup writes bare `&` in URLs).
pub(crate) fn decode_entities(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let reference = rest[1..].find(';').filter(|&end| end <= 10).map(|end| &rest[1..=end]);
        let decoded = reference.and_then(|reference| match reference {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => {
                let number = reference.strip_prefix('#')?;
                let code = match number.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => number.parse().ok()?,
                };
                char::from_u32(code)
            }
        });
        match (reference, decoded) {
            (Some(reference), Some(character)) => {
                out.push(character);
                rest = &rest[reference.len() + 2..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(mode: Mode, input: &[u8]) -> Vec<(u64, Token)> {
        let mut tokenizer = Tokenizer::new(input, mode);
        let mut tokens = Vec::new();
        while let Some(token) = tokenizer.next_token().unwrap() {
            tokens.push(token);
        }
        tokens
    }

    #[test]
    fn reads_xml_with_cdata_entities_and_lines() {
        let input = b"<?xml version=\"1.0\"?>\n<!-- c -->\n<a x='1'>\n<b>&amp;&#65;&bogus;</b><c/><d><![CDATA[<&>]]></d></a>";
        let rendered: Vec<String> = tokens(Mode::Xml, input)
            .iter()
            .map(|(line, token)| format!("{line} {token:?}"))
            .collect();
        expect_test::expect![[r#"
            [
                "1 Text(\"\\n\")",
                "2 Text(\"\\n\")",
                "3 Start { name: \"a\", attributes: [(\"x\", \"1\")], self_closing: false }",
                "3 Text(\"\\n\")",
                "4 Start { name: \"b\", attributes: [], self_closing: false }",
                "4 Text(\"&A&bogus;\")",
                "4 End { name: \"b\" }",
                "4 Start { name: \"c\", attributes: [], self_closing: true }",
                "4 Start { name: \"d\", attributes: [], self_closing: false }",
                "4 Text(\"<&>\")",
                "4 End { name: \"d\" }",
                "4 End { name: \"a\" }",
            ]
        "#]]
        .assert_debug_eq(&rendered);
    }

    #[test]
    fn reads_latin9_when_declared() {
        let input = b"<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?><a>\xa4 \xe9</a>";
        assert!(tokens(Mode::Xml, input).contains(&(1, Token::Text("€ é".to_owned()))));
        let input = b"<a>\xa4</a>";
        assert!(tokens(Mode::Xml, input).contains(&(1, Token::Text("\u{fffd}".to_owned()))));
    }

    #[test]
    fn reads_tag_soup() {
        let input = b"<TD class=x>a<a href=\"/?a=1&b=2\" target=_blank>b</A><script>if (a<b) {}</script>x < y<br>";
        let rendered: Vec<String> =
            tokens(Mode::Html, input).iter().map(|(_, token)| format!("{token:?}")).collect();
        expect_test::expect![[r#"
            [
                "Start { name: \"td\", attributes: [(\"class\", \"x\")], self_closing: false }",
                "Text(\"a\")",
                "Start { name: \"a\", attributes: [(\"href\", \"/?a=1&b=2\"), (\"target\", \"_blank\")], self_closing: false }",
                "Text(\"b\")",
                "End { name: \"a\" }",
                "Start { name: \"script\", attributes: [], self_closing: false }",
                "End { name: \"script\" }",
                "Text(\"x \")",
                "Text(\"<\")",
                "Text(\" y\")",
                "Start { name: \"br\", attributes: [], self_closing: false }",
            ]
        "#]]
        .assert_debug_eq(&rendered);
    }

    #[test]
    fn unclosed_markup_is_bad_not_an_error() {
        for input in [&b"<a"[..], b"<![CDATA[x", b"<!-- x", b"<?xml", b"<a href='x>"] {
            let tokens = tokens(Mode::Xml, input);
            assert!(matches!(tokens.last(), Some((_, Token::Bad(_)))), "{tokens:?}");
        }
    }
}
