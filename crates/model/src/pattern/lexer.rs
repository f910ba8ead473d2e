//! Splits a pattern into tokens, following the lexer rules of the STIX 2.1 ANTLR grammar
//! (`STIXPattern.g4`): case-sensitive keywords, `'...'` strings with `\'` and `\\` escapes,
//! prefixed `b'...'`, `h'...'`, `t'...'` literals, and `/* */` and `//` comments skipped as space.

use crate::pattern::ast::Timestamp;
use crate::pattern::{PatternError, PatternErrorKind};

/// One token with where it starts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token<'a> {
    pub kind: TokenKind,
    /// The 1-based char column of the token's first char.
    pub column: usize,
    /// The token's source text.
    pub text: &'a str,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TokenKind {
    LBracket,
    RBracket,
    LParen,
    RParen,
    Colon,
    Dot,
    Comma,
    Star,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Keyword(Keyword),
    /// `[A-Za-z_][A-Za-z0-9_-]*` that is no keyword; its text is the token text.
    Identifier,
    String(String),
    Int(i64),
    Float(f64),
    Binary(Vec<u8>),
    Hex(Vec<u8>),
    Bool(bool),
    Timestamp(Timestamp),
    End,
}

/// The grammar's reserved words. `LAST` is reserved although no rule uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keyword {
    And,
    Exists,
    False,
    FollowedBy,
    In,
    IsSubset,
    IsSuperset,
    Last,
    Like,
    Matches,
    Not,
    Or,
    Repeats,
    Seconds,
    Start,
    Stop,
    Times,
    True,
    Within,
}

/// Returns the keyword spelled exactly `word`, if any; keywords are case-sensitive.
pub(crate) fn keyword(word: &str) -> Option<Keyword> {
    Some(match word {
        "AND" => Keyword::And,
        "EXISTS" => Keyword::Exists,
        "false" => Keyword::False,
        "FOLLOWEDBY" => Keyword::FollowedBy,
        "IN" => Keyword::In,
        "ISSUBSET" => Keyword::IsSubset,
        "ISSUPERSET" => Keyword::IsSuperset,
        "LAST" => Keyword::Last,
        "LIKE" => Keyword::Like,
        "MATCHES" => Keyword::Matches,
        "NOT" => Keyword::Not,
        "OR" => Keyword::Or,
        "REPEATS" => Keyword::Repeats,
        "SECONDS" => Keyword::Seconds,
        "START" => Keyword::Start,
        "STOP" => Keyword::Stop,
        "TIMES" => Keyword::Times,
        "true" => Keyword::True,
        "WITHIN" => Keyword::Within,
        _ => return None,
    })
}

/// Returns whether `text` is one identifier token, hyphens allowed.
pub(crate) fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(is_identifier_start) && chars.all(is_identifier_char)
}

/// Returns whether `text` is a property name that needs no quotes: an identifier without hyphens
/// that is no keyword.
pub(crate) fn is_plain_property(text: &str) -> bool {
    is_identifier(text) && !text.contains('-') && keyword(text).is_none()
}

/// Returns whether `text` matches the grammar's `TimestampLiteral` body:
/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` with months 01-12, days 01-31, hours 00-23 and seconds up to 60.
pub(crate) fn is_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some((head, tail)) = bytes.split_at_checked(19) else {
        return false;
    };
    let digits = |range: std::ops::Range<usize>| head[range].iter().all(u8::is_ascii_digit);
    let number = |range: std::ops::Range<usize>| {
        head[range].iter().fold(0u32, |acc, digit| acc * 10 + u32::from(digit - b'0'))
    };
    let is_shaped = digits(0..4)
        && head[4] == b'-'
        && digits(5..7)
        && head[7] == b'-'
        && digits(8..10)
        && head[10] == b'T'
        && digits(11..13)
        && head[13] == b':'
        && digits(14..16)
        && head[16] == b':'
        && digits(17..19);
    if !is_shaped {
        return false;
    }
    let is_in_range = (1..=12).contains(&number(5..7))
        && (1..=31).contains(&number(8..10))
        && number(11..13) <= 23
        && number(14..16) <= 59
        && number(17..19) <= 60;
    let is_tail_valid = match tail {
        [b'Z'] => true,
        [b'.', fraction @ .., b'Z'] => {
            !fraction.is_empty() && fraction.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    };
    is_in_range && is_tail_valid
}

/// Yields the tokens of a pattern one at a time, so a parse error is reported at the first fault.
#[derive(Debug)]
pub(crate) struct Lexer<'a> {
    text: &'a str,
    /// Byte offset of the next char.
    pos: usize,
    /// 1-based char column of the next char.
    column: usize,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(text: &'a str) -> Lexer<'a> {
        Lexer { text, pos: 0, column: 1 }
    }

    /// Returns the next token, or an `End` token once the text is used up.
    pub(crate) fn next_token(&mut self) -> Result<Token<'a>, PatternError> {
        self.skip_trivia()?;
        let start = self.pos;
        let column = self.column;
        let error = |kind| PatternError { column, kind };
        let Some(first) = self.bump() else {
            return Ok(Token { kind: TokenKind::End, column, text: "" });
        };
        let kind = match first {
            '[' => TokenKind::LBracket,
            ']' => TokenKind::RBracket,
            '(' => TokenKind::LParen,
            ')' => TokenKind::RParen,
            ':' => TokenKind::Colon,
            ',' => TokenKind::Comma,
            '*' => TokenKind::Star,
            '=' => {
                self.bump_if('=');
                TokenKind::Equal
            }
            '!' if self.bump_if('=') => TokenKind::NotEqual,
            '<' if self.bump_if('>') => TokenKind::NotEqual,
            '<' if self.bump_if('=') => TokenKind::LessOrEqual,
            '<' => TokenKind::Less,
            '>' if self.bump_if('=') => TokenKind::GreaterOrEqual,
            '>' => TokenKind::Greater,
            '\'' => TokenKind::String(self.quoted(column)?),
            '.' if !self.peek().is_some_and(|next| next.is_ascii_digit()) => TokenKind::Dot,
            '+' | '-' | '.' | '0'..='9' => self.number(first, start, column)?,
            first if is_identifier_start(first) => self.word(start, column)?,
            other => return Err(error(PatternErrorKind::UnexpectedCharacter(other))),
        };
        Ok(Token { kind, column, text: &self.text[start..self.pos] })
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let next = self.peek()?;
        self.pos += next.len_utf8();
        self.column += 1;
        Some(next)
    }

    fn bump_if(&mut self, expected: char) -> bool {
        let is_match = self.peek() == Some(expected);
        if is_match {
            self.bump();
        }
        is_match
    }

    fn bump_digits(&mut self) {
        while self.peek().is_some_and(|next| next.is_ascii_digit()) {
            self.bump();
        }
    }

    fn skip_trivia(&mut self) -> Result<(), PatternError> {
        loop {
            let rest = &self.text[self.pos..];
            if let Some(comment) = rest.strip_prefix("/*") {
                let column = self.column;
                let Some(length) = comment.find("*/") else {
                    return Err(PatternError {
                        column,
                        kind: PatternErrorKind::UnterminatedComment,
                    });
                };
                let end = self.pos + 2 + length + 2;
                while self.pos < end {
                    self.bump();
                }
            } else if rest.starts_with("//") {
                while self.peek().is_some_and(|next| next != '\n' && next != '\r') {
                    self.bump();
                }
            } else if self.peek().is_some_and(is_space) {
                self.bump();
            } else {
                return Ok(());
            }
        }
    }

    /// Reads a quoted body after its opening quote, unescaping `\'` and `\\`.
    fn quoted(&mut self, column: usize) -> Result<String, PatternError> {
        let mut value = String::new();
        loop {
            // Take the run up to the next quote or backslash at once; both are ASCII, so the run
            // ends on a char boundary.
            let rest = &self.text[self.pos..];
            let run = &rest[..memchr::memchr2(b'\'', b'\\', rest.as_bytes()).unwrap_or(rest.len())];
            value.push_str(run);
            self.pos += run.len();
            self.column += run.chars().count();
            let escape_column = self.column;
            match self.bump() {
                None => {
                    return Err(PatternError {
                        column,
                        kind: PatternErrorKind::UnterminatedString,
                    });
                }
                Some('\'') => return Ok(value),
                Some('\\') => match self.bump() {
                    Some(escaped @ ('\'' | '\\')) => value.push(escaped),
                    other => {
                        let kind = PatternErrorKind::InvalidEscape(other);
                        return Err(PatternError { column: escape_column, kind });
                    }
                },
                Some(other) => value.push(other),
            }
        }
    }

    /// Reads `[+-]?[0-9]*(\.[0-9]+)?` whose first char, `first`, is already consumed.
    fn number(
        &mut self,
        first: char,
        start: usize,
        column: usize,
    ) -> Result<TokenKind, PatternError> {
        let error = |kind| PatternError { column, kind };
        // A leading `.` is only lexed as a number when a digit follows it.
        let mut is_float = first == '.';
        self.bump_digits();
        let rest = &self.text[self.pos..];
        if !is_float
            && rest.starts_with('.')
            && rest[1..].starts_with(|next: char| next.is_ascii_digit())
        {
            is_float = true;
            self.bump();
            self.bump_digits();
        }
        if is_float {
            let text = &self.text[start..self.pos];
            let value: f64 = text.parse().map_err(|_| error(PatternErrorKind::InvalidNumber))?;
            if !value.is_finite() {
                return Err(error(PatternErrorKind::NumberOutOfRange));
            }
            return Ok(TokenKind::Float(value));
        }
        let text = &self.text[start..self.pos];
        let digits = text.trim_start_matches(['+', '-']);
        // The grammar has no octal: `0` alone, or digits without a leading zero.
        let is_valid = !digits.is_empty() && (digits == "0" || !digits.starts_with('0'));
        if !is_valid {
            return Err(error(PatternErrorKind::InvalidNumber));
        }
        let value: i64 = text.parse().map_err(|_| error(PatternErrorKind::NumberOutOfRange))?;
        Ok(TokenKind::Int(value))
    }

    /// Reads an identifier, keyword, boolean or prefixed literal whose first char is consumed.
    fn word(&mut self, start: usize, column: usize) -> Result<TokenKind, PatternError> {
        // Identifier chars are ASCII: one byte, one char, one column each.
        let n_chars = self.text.as_bytes()[self.pos..]
            .iter()
            .take_while(|&&byte| is_identifier_char(char::from(byte)))
            .count();
        self.pos += n_chars;
        self.column += n_chars;
        let word = &self.text[start..self.pos];
        let error = |kind| PatternError { column, kind };
        if matches!(word, "b" | "h" | "t") && self.bump_if('\'') {
            let body = self.quoted(column)?;
            return match word {
                "b" => decode_base64(&body)
                    .map(TokenKind::Binary)
                    .ok_or_else(|| error(PatternErrorKind::InvalidBinary)),
                "h" => decode_hex(&body)
                    .map(TokenKind::Hex)
                    .ok_or_else(|| error(PatternErrorKind::InvalidHex)),
                _ => Timestamp::new(&body)
                    .map(TokenKind::Timestamp)
                    .ok_or_else(|| error(PatternErrorKind::InvalidTimestamp)),
            };
        }
        Ok(match keyword(word) {
            Some(Keyword::True) => TokenKind::Bool(true),
            Some(Keyword::False) => TokenKind::Bool(false),
            Some(keyword) => TokenKind::Keyword(keyword),
            None => TokenKind::Identifier,
        })
    }
}

fn is_identifier_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Returns whether `c` is one of the grammar's `WS` chars.
fn is_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t'
            | '\r'
            | '\n'
            | '\u{0B}'
            | '\u{0C}'
            | '\u{85}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Decodes the grammar's `BinaryLiteral` body: one or more padded groups of four base64 chars.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
        return None;
    }
    let padding = bytes.iter().rev().take_while(|&&byte| byte == b'=').count();
    if padding > 2 {
        return None;
    }
    let mut decoded = Vec::with_capacity(bytes.len() / 4 * 3);
    let mut bits: u32 = 0;
    let mut n_bits = 0;
    for &byte in &bytes[..bytes.len() - padding] {
        let sextet = BASE64_ALPHABET.iter().position(|&letter| letter == byte)?;
        // Cannot truncate: `position` in a 64-entry table is below 64.
        bits = (bits << 6) | sextet as u32;
        n_bits += 6;
        if n_bits >= 8 {
            n_bits -= 8;
            decoded.push((bits >> n_bits) as u8);
            bits &= (1 << n_bits) - 1;
        }
    }
    Some(decoded)
}

/// Encodes bytes as padded base64.
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    let mut encoded = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let group = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &byte)| acc | (u32::from(byte) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                let sextet = (group >> (18 - 6 * i)) & 0x3f;
                encoded.push(char::from(BASE64_ALPHABET[sextet as usize]));
            } else {
                encoded.push('=');
            }
        }
    }
    encoded
}

/// Decodes the grammar's `HexLiteral` body: pairs of hex digits, possibly none.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |byte: u8| char::from(byte).to_digit(16);
    let mut decoded = Vec::with_capacity(bytes.len() / 2);
    for pair in bytes.chunks(2) {
        // Cannot truncate: two hex digits make at most 0xff.
        decoded.push((nibble(pair[0])? * 16 + nibble(pair[1])?) as u8);
    }
    Some(decoded)
}
