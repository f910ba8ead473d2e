//! The typed syntax tree of a STIX 2.1 pattern (STIX 2.1 section 9).
//!
//! The tree keeps the grouping the text had, but not its spelling: `[a] AND [b] AND [c]` is one
//! n-ary `And`, while `([a] AND [b]) AND [c]` nests one `And` in another. Display prints the least
//! parentheses that keep that structure, so printing and parsing again gives an equal tree.

use crate::pattern::lexer;

/// A parsed STIX pattern: one observation expression.
///
/// Its Display is the canonical text: single spaces, `=` and `!=` spellings, quotes only where a
/// property name needs them, and the least parentheses that keep the tree's grouping.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    /// The whole expression.
    pub expression: ObservationExpression,
}

/// An observation expression: observations joined by observation operators, with qualifiers.
///
/// Precedence, tightest first: qualifiers, `AND`, `OR`, `FOLLOWEDBY` (STIX 2.1 section 9.6).
/// The n-ary variants hold at least two operands; the parser never builds one with fewer.
#[derive(Clone, Debug, PartialEq)]
pub enum ObservationExpression {
    /// `[ comparison ]`: one observation matched against one comparison expression.
    Observation(ComparisonExpression),
    /// `a AND b AND ...`: every operand matches, each in its own observation.
    And(Vec<ObservationExpression>),
    /// `a OR b OR ...`: any operand matches.
    Or(Vec<ObservationExpression>),
    /// `a FOLLOWEDBY b FOLLOWEDBY ...`: the operands match in this order in time.
    FollowedBy(Vec<ObservationExpression>),
    /// `expression WITHIN ...`, `REPEATS ...` or `START ... STOP ...`.
    Qualified {
        /// The qualified expression.
        expression: Box<ObservationExpression>,
        /// The qualifier that follows it.
        qualifier: Qualifier,
    },
}

/// A qualifier restricting which observations may match (STIX 2.1 section 9.7).
#[derive(Clone, Debug, PartialEq)]
pub enum Qualifier {
    /// `REPEATS n TIMES`. The parser reads counts as signed 64-bit integers, so yields at most
    /// `i64::MAX`.
    Repeats(u64),
    /// `START t'...' STOP t'...'`.
    StartStop {
        /// The first instant of the window.
        start: Timestamp,
        /// The instant the window ends.
        stop: Timestamp,
    },
    /// `WITHIN n SECONDS`.
    Within(Seconds),
}

/// The non-negative number of seconds of a `WITHIN` qualifier, as written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Seconds {
    /// A whole number, `WITHIN 300 SECONDS`, at most `i64::MAX` when parsed.
    Int(u64),
    /// A fraction, `WITHIN 0.5 SECONDS`. The parser only yields finite non-negative values.
    Float(f64),
}

/// A comparison expression: the inside of one `[ ... ]`.
///
/// `AND` binds tighter than `OR`. The n-ary variants hold at least two operands.
#[derive(Clone, Debug, PartialEq)]
pub enum ComparisonExpression {
    /// `a AND b AND ...`.
    And(Vec<ComparisonExpression>),
    /// `a OR b OR ...`.
    Or(Vec<ComparisonExpression>),
    /// `path [NOT] operator value`.
    Comparison(Comparison),
    /// `EXISTS path`: the property is present.
    Exists(ObjectPath),
}

/// One test of an object path against a constant, `file:size NOT > 1024`.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// The property compared.
    pub path: ObjectPath,
    /// Whether the test is negated with `NOT`.
    pub negated: bool,
    /// The operator and its operand.
    pub test: Test,
}

/// A comparison operator with its operand (STIX 2.1 section 9.5).
///
/// The ordering operators never hold a [`Literal::Bool`] when parsed, and the string operators take
/// the string's value, unquoted.
#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    /// `= value` (also written `==`).
    Equal(Literal),
    /// `!= value` (also written `<>`).
    NotEqual(Literal),
    /// `> value`.
    Greater(Literal),
    /// `>= value`.
    GreaterOrEqual(Literal),
    /// `< value`.
    Less(Literal),
    /// `<= value`.
    LessOrEqual(Literal),
    /// `IN (a, b, ...)`.
    In(Vec<Literal>),
    /// `LIKE 'pattern'`: SQL `LIKE` wildcards.
    Like(String),
    /// `MATCHES 'regex'`: a PCRE regular expression.
    Matches(String),
    /// `ISSUBSET 'cidr'`: the address lies in the network.
    IsSubset(String),
    /// `ISSUPERSET 'cidr'`: the network contains the given one.
    IsSuperset(String),
}

/// An object path, `file:extensions.'windows-pebinary-ext'.sections[*].entropy`.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectPath {
    /// The SCO type before the colon.
    pub object_type: ObjectType,
    /// The first property after the colon.
    pub property: String,
    /// The steps that follow the first property.
    pub steps: Vec<PathStep>,
}

/// One step of an object path after its first property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    /// `.key` or `.'quoted key'`.
    Key(String),
    /// `[n]`: one list element.
    Index(i64),
    /// `[*]`: any list element.
    AnyIndex,
}

/// An SCO type name in an object path, `ipv4-addr`, `x-usb-device`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectType(
    // Invariant: matches `[A-Za-z_][A-Za-z0-9_-]*` and is no keyword, so it prints and parses back.
    Box<str>,
);

impl ObjectType {
    /// Returns the type if `name` is a valid unquoted object type, `None` otherwise.
    pub fn new(name: &str) -> Option<ObjectType> {
        let is_valid = lexer::is_identifier(name) && lexer::keyword(name).is_none();
        is_valid.then(|| ObjectType(name.into()))
    }

    /// Returns the type name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A constant compared against (STIX 2.1 section 9.4).
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `b'...'`: bytes written in base64. The parser never yields an empty value.
    Binary(Vec<u8>),
    /// `true` or `false`.
    Bool(bool),
    /// `1.5`, `-0.25`. The parser only yields finite values.
    Float(f64),
    /// `h'...'`: bytes written in hex.
    Hex(Vec<u8>),
    /// `42`, `-7`.
    Int(i64),
    /// `'text'`, unescaped.
    String(String),
    /// `t'2016-01-01T00:00:00Z'`.
    Timestamp(Timestamp),
}

/// A UTC timestamp literal in the grammar's RFC 3339 form, `2016-01-01T00:00:00.123Z`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(
    // Invariant: the text passed `lexer::is_timestamp`, so ordering the text orders instants of
    // equal precision, and it prints and parses back unchanged.
    Box<str>,
);

impl Timestamp {
    /// Returns the timestamp if `text` has the grammar's form (`YYYY-MM-DDTHH:MM:SS[.f]Z`).
    pub fn new(text: &str) -> Option<Timestamp> {
        lexer::is_timestamp(text).then(|| Timestamp(text.into()))
    }

    /// Returns the timestamp text, without the `t'...'` wrapping.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
