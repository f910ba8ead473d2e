//! STIX 2.1 patterns (STIX 2.1 section 9, "STIX Patterning"): a hand-written parser for the whole
//! grammar, a typed tree, a canonical printer, and the bridge between patterns and observables.
//!
//! ```
//! use watchfire_model::pattern::Pattern;
//!
//! let pattern = Pattern::parse("[ipv4-addr:value='192.0.2.1' OR ipv4-addr:value = '192.0.2.2']").unwrap();
//! assert_eq!(pattern.to_string(), "[ipv4-addr:value = '192.0.2.1' OR ipv4-addr:value = '192.0.2.2']");
//! ```
//!
//! The parser follows the OASIS ANTLR grammar (`STIXPattern.g4`, the 2.1 version) exactly, keywords
//! case-sensitive, with one leniency seen in real feeds: an unquoted property name may contain a hyphen
//! (`file:hashes.SHA-256`), and prints quoted (`file:hashes.'SHA-256'`).
//! Errors name the 1-based char column, counted from the start of the pattern across any line breaks.
//! Nesting of brackets, parentheses and qualifiers is bounded by [`MAX_DEPTH`], so no input can
//! overflow the stack; long flat chains (`[a] OR [b] OR ...`) are n-ary nodes and cost no depth.

mod ast;
mod display;
mod lexer;
mod observables;
mod parser;

use std::str::FromStr;

pub use ast::{
    Comparison, ComparisonExpression, Literal, ObjectPath, ObjectType, ObservationExpression,
    PathStep, Pattern, Qualifier, Seconds, Test, Timestamp,
};
pub use observables::NotMatchable;

/// How deeply brackets, parentheses and qualifiers may nest before parsing fails with
/// [`PatternErrorKind::TooDeep`]. Real patterns nest two or three levels.
pub const MAX_DEPTH: usize = 64;

impl Pattern {
    /// Parses a STIX 2.1 pattern.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        parser::parse(text)
    }
}

impl FromStr for Pattern {
    type Err = PatternError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Pattern::parse(text)
    }
}

/// Why a text is not a valid pattern, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {kind}")]
pub struct PatternError {
    /// The 1-based char column where the fault starts.
    pub column: usize,
    /// What is wrong there.
    pub kind: PatternErrorKind,
}

/// What is wrong with a pattern.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatternErrorKind {
    /// A token other than the grammar allows here.
    #[error("expected {expected}, found {found}")]
    Unexpected {
        /// What the grammar allows, `"']'"`.
        expected: &'static str,
        /// The token found, quoted, or `end of pattern`.
        found: String,
    },
    /// A backslash in a string is followed by neither `'` nor `\`, or ends the pattern.
    #[error("invalid escape in string: only \\' and \\\\ are allowed")]
    InvalidEscape(Option<char>),
    /// A `b'...'` literal is not padded base64 of at least one byte.
    #[error("invalid base64 in binary literal")]
    InvalidBinary,
    /// A `h'...'` literal is not pairs of hex digits.
    #[error("invalid hex literal")]
    InvalidHex,
    /// A number is malformed: a sign without digits or a leading zero.
    #[error("invalid number")]
    InvalidNumber,
    /// A `t'...'` literal is not `YYYY-MM-DDTHH:MM:SS[.f]Z` with fields in range.
    #[error("invalid timestamp")]
    InvalidTimestamp,
    /// An integer does not fit 64 bits, or a float is infinite.
    #[error("number out of range")]
    NumberOutOfRange,
    /// Brackets, parentheses and qualifiers nest deeper than [`MAX_DEPTH`].
    #[error("nesting deeper than {limit} levels")]
    TooDeep {
        /// The bound passed.
        limit: usize,
    },
    /// A char that starts no token.
    #[error("unexpected character {0:?}")]
    UnexpectedCharacter(char),
    /// A `/*` comment has no closing `*/`.
    #[error("unterminated comment")]
    UnterminatedComment,
    /// A quoted literal has no closing quote.
    #[error("unterminated string")]
    UnterminatedString,
}
