//! Prints a pattern tree as canonical text: single spaces, `=` and `!=` spellings, the least
//! parentheses that keep the tree's grouping, and quotes only on property names that need them.
//! Parsing the printed text gives back an equal tree.

use std::fmt;

use crate::pattern::ast::{
    Comparison, ComparisonExpression, Literal, ObjectPath, ObjectType, ObservationExpression,
    PathStep, Pattern, Qualifier, Seconds, Test, Timestamp,
};
use crate::pattern::lexer;

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expression.fmt(f)
    }
}

impl ObservationExpression {
    /// Returns the binding strength of the expression's top operator; higher binds tighter.
    fn precedence(&self) -> u8 {
        match self {
            ObservationExpression::FollowedBy(_) => 0,
            ObservationExpression::Or(_) => 1,
            ObservationExpression::And(_) => 2,
            ObservationExpression::Qualified { .. } | ObservationExpression::Observation(_) => 3,
        }
    }
}

impl fmt::Display for ObservationExpression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (operands, operator) = match self {
            ObservationExpression::Observation(comparison) => return write!(f, "[{comparison}]"),
            ObservationExpression::Qualified { expression, qualifier } => {
                // Qualifiers bind tightest, so any operator below one needs parentheses.
                write_operand(f, expression, expression.precedence() < self.precedence())?;
                return write!(f, " {qualifier}");
            }
            ObservationExpression::And(operands) => (operands, " AND "),
            ObservationExpression::Or(operands) => (operands, " OR "),
            ObservationExpression::FollowedBy(operands) => (operands, " FOLLOWEDBY "),
        };
        for (i, operand) in operands.iter().enumerate() {
            if i > 0 {
                f.write_str(operator)?;
            }
            // An operand of equal precedence is a nested group of the same operator: keep it.
            write_operand(f, operand, operand.precedence() <= self.precedence())?;
        }
        Ok(())
    }
}

impl ComparisonExpression {
    fn precedence(&self) -> u8 {
        match self {
            ComparisonExpression::Or(_) => 0,
            ComparisonExpression::And(_) => 1,
            ComparisonExpression::Comparison(_) | ComparisonExpression::Exists(_) => 2,
        }
    }
}

impl fmt::Display for ComparisonExpression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (operands, operator) = match self {
            ComparisonExpression::Comparison(comparison) => return comparison.fmt(f),
            ComparisonExpression::Exists(path) => return write!(f, "EXISTS {path}"),
            ComparisonExpression::And(operands) => (operands, " AND "),
            ComparisonExpression::Or(operands) => (operands, " OR "),
        };
        for (i, operand) in operands.iter().enumerate() {
            if i > 0 {
                f.write_str(operator)?;
            }
            write_operand(f, operand, operand.precedence() <= self.precedence())?;
        }
        Ok(())
    }
}

fn write_operand(
    f: &mut fmt::Formatter<'_>,
    operand: &impl fmt::Display,
    parenthesise: bool,
) -> fmt::Result {
    match parenthesise {
        true => write!(f, "({operand})"),
        false => operand.fmt(f),
    }
}

impl fmt::Display for Qualifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Qualifier::Repeats(count) => write!(f, "REPEATS {count} TIMES"),
            Qualifier::StartStop { start, stop } => write!(f, "START {start} STOP {stop}"),
            Qualifier::Within(Seconds::Int(seconds)) => write!(f, "WITHIN {seconds} SECONDS"),
            Qualifier::Within(Seconds::Float(seconds)) => {
                f.write_str("WITHIN ")?;
                write_float(f, *seconds)?;
                f.write_str(" SECONDS")
            }
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if self.negated {
            f.write_str(" NOT")?;
        }
        let (operator, operand) = match &self.test {
            Test::Equal(literal) => ("=", literal),
            Test::NotEqual(literal) => ("!=", literal),
            Test::Greater(literal) => (">", literal),
            Test::GreaterOrEqual(literal) => (">=", literal),
            Test::Less(literal) => ("<", literal),
            Test::LessOrEqual(literal) => ("<=", literal),
            Test::In(values) => {
                f.write_str(" IN (")?;
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    value.fmt(f)?;
                }
                return f.write_str(")");
            }
            Test::Like(text) => return write_string_test(f, "LIKE", text),
            Test::Matches(text) => return write_string_test(f, "MATCHES", text),
            Test::IsSubset(text) => return write_string_test(f, "ISSUBSET", text),
            Test::IsSuperset(text) => return write_string_test(f, "ISSUPERSET", text),
        };
        write!(f, " {operator} {operand}")
    }
}

fn write_string_test(f: &mut fmt::Formatter<'_>, operator: &str, text: &str) -> fmt::Result {
    write!(f, " {operator} ")?;
    write_string(f, text)
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.object_type)?;
        write_property(f, &self.property)?;
        for step in &self.steps {
            match step {
                PathStep::Key(key) => {
                    f.write_str(".")?;
                    write_property(f, key)?;
                }
                PathStep::Index(index) => write!(f, "[{index}]")?,
                PathStep::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

fn write_property(f: &mut fmt::Formatter<'_>, property: &str) -> fmt::Result {
    match lexer::is_plain_property(property) {
        true => f.write_str(property),
        false => write_string(f, property),
    }
}

impl fmt::Display for ObjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Binary(bytes) => write!(f, "b'{}'", lexer::encode_base64(bytes)),
            Literal::Bool(value) => write!(f, "{value}"),
            Literal::Float(value) => write_float(f, *value),
            Literal::Hex(bytes) => {
                f.write_str("h'")?;
                for byte in bytes {
                    write!(f, "{byte:02x}")?;
                }
                f.write_str("'")
            }
            Literal::Int(value) => write!(f, "{value}"),
            Literal::String(text) => write_string(f, text),
            Literal::Timestamp(timestamp) => timestamp.fmt(f),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t'{}'", self.as_str())
    }
}

/// Writes a float so that it lexes as a float again: Rust prints `7.0` as `7`, an integer token.
fn write_float(f: &mut fmt::Formatter<'_>, value: f64) -> fmt::Result {
    let text = value.to_string();
    f.write_str(&text)?;
    if !text.contains('.') {
        f.write_str(".0")?;
    }
    Ok(())
}

/// Writes `'text'` with `'` and `\` escaped, the only escapes the grammar has.
fn write_string(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_str("'")?;
    for part in text.split_inclusive(['\'', '\\']) {
        match part.strip_suffix(['\'', '\\']) {
            Some(head) => {
                f.write_str(head)?;
                f.write_str("\\")?;
                f.write_str(&part[head.len()..])?;
            }
            None => f.write_str(part)?,
        }
    }
    f.write_str("'")
}
