//! A recursive-descent parser for the STIX 2.1 pattern grammar (STIX 2.1 section 9 and its ANTLR
//! grammar `STIXPattern.g4`), one function per precedence level, with one token of lookahead.

use std::mem;

use crate::pattern::ast::{
    Comparison, ComparisonExpression, Literal, ObjectPath, ObjectType, ObservationExpression,
    PathStep, Pattern, Qualifier, Seconds, Test, Timestamp,
};
use crate::pattern::lexer::{Keyword, Lexer, Token, TokenKind};
use crate::pattern::{MAX_DEPTH, PatternError, PatternErrorKind};

/// Parses a whole pattern; trailing tokens are an error.
pub(crate) fn parse(text: &str) -> Result<Pattern, PatternError> {
    let mut lexer = Lexer::new(text);
    let token = lexer.next_token()?;
    let mut parser = Parser { lexer, token, depth: 0 };
    let expression = parser.followed_by()?;
    if parser.token.kind != TokenKind::End {
        return Err(parser.unexpected("end of pattern"));
    }
    Ok(Pattern { expression })
}

#[derive(Debug)]
struct Parser<'a> {
    lexer: Lexer<'a>,
    /// The lookahead token.
    token: Token<'a>,
    /// How many brackets, parentheses and qualifiers enclose the current position; bounded by
    /// `MAX_DEPTH` so that neither this parser nor the tree's recursive drop can exhaust the stack.
    depth: usize,
}

impl<'a> Parser<'a> {
    /// `observationExpressions`: `FOLLOWEDBY` binds loosest.
    fn followed_by(&mut self) -> Result<ObservationExpression, PatternError> {
        self.operands(
            Keyword::FollowedBy,
            Parser::observation_or,
            ObservationExpression::FollowedBy,
        )
    }

    fn observation_or(&mut self) -> Result<ObservationExpression, PatternError> {
        self.operands(Keyword::Or, Parser::observation_and, ObservationExpression::Or)
    }

    fn observation_and(&mut self) -> Result<ObservationExpression, PatternError> {
        self.operands(Keyword::And, Parser::qualified, ObservationExpression::And)
    }

    /// An observation expression followed by any number of qualifiers, which bind tightest.
    fn qualified(&mut self) -> Result<ObservationExpression, PatternError> {
        let mut expression = self.observation()?;
        let depth_before = self.depth;
        loop {
            let is_qualifier = [Keyword::Within, Keyword::Repeats, Keyword::Start]
                .into_iter()
                .any(|keyword| self.is_keyword(keyword));
            if !is_qualifier {
                break;
            }
            // Each qualifier wraps the tree once more, so it counts towards the depth bound.
            self.enter()?;
            let qualifier = self.qualifier()?;
            expression =
                ObservationExpression::Qualified { expression: Box::new(expression), qualifier };
        }
        self.depth = depth_before;
        Ok(expression)
    }

    /// `[ comparison ]` or `( observations )`.
    fn observation(&mut self) -> Result<ObservationExpression, PatternError> {
        match self.token.kind {
            TokenKind::LBracket => {
                self.enter()?;
                self.advance()?;
                let comparison = self.comparison_or()?;
                self.expect(&TokenKind::RBracket, "']'")?;
                self.depth -= 1;
                Ok(ObservationExpression::Observation(comparison))
            }
            TokenKind::LParen => {
                self.enter()?;
                self.advance()?;
                let expression = self.followed_by()?;
                self.expect(&TokenKind::RParen, "')'")?;
                self.depth -= 1;
                Ok(expression)
            }
            _ => Err(self.unexpected("'[' or '('")),
        }
    }

    fn qualifier(&mut self) -> Result<Qualifier, PatternError> {
        let keyword = self.advance()?;
        Ok(match keyword.kind {
            TokenKind::Keyword(Keyword::Within) => {
                let is_negative = self.token.text.starts_with('-');
                let seconds = match self.token.kind {
                    TokenKind::Int(value) if !is_negative => Seconds::Int(value.unsigned_abs()),
                    TokenKind::Float(value) if !is_negative => Seconds::Float(value),
                    _ => return Err(self.unexpected("a non-negative number")),
                };
                self.advance()?;
                self.expect_keyword(Keyword::Seconds, "'SECONDS'")?;
                Qualifier::Within(seconds)
            }
            TokenKind::Keyword(Keyword::Repeats) => {
                let count = match self.token.kind {
                    TokenKind::Int(value) if !self.token.text.starts_with('-') => {
                        value.unsigned_abs()
                    }
                    _ => return Err(self.unexpected("a non-negative integer")),
                };
                self.advance()?;
                self.expect_keyword(Keyword::Times, "'TIMES'")?;
                Qualifier::Repeats(count)
            }
            _ => {
                let start = self.timestamp()?;
                self.expect_keyword(Keyword::Stop, "'STOP'")?;
                let stop = self.timestamp()?;
                Qualifier::StartStop { start, stop }
            }
        })
    }

    fn timestamp(&mut self) -> Result<Timestamp, PatternError> {
        let TokenKind::Timestamp(timestamp) = &self.token.kind else {
            return Err(self.unexpected("a timestamp"));
        };
        let timestamp = timestamp.clone();
        self.advance()?;
        Ok(timestamp)
    }

    /// `comparisonExpression`: `OR` binds looser than `AND`.
    fn comparison_or(&mut self) -> Result<ComparisonExpression, PatternError> {
        self.operands(Keyword::Or, Parser::comparison_and, ComparisonExpression::Or)
    }

    fn comparison_and(&mut self) -> Result<ComparisonExpression, PatternError> {
        self.operands(Keyword::And, Parser::comparison, ComparisonExpression::And)
    }

    /// `propTest`: `( comparison )`, `EXISTS path` or `path [NOT] operator value`.
    fn comparison(&mut self) -> Result<ComparisonExpression, PatternError> {
        match self.token.kind {
            TokenKind::LParen => {
                self.enter()?;
                self.advance()?;
                let expression = self.comparison_or()?;
                self.expect(&TokenKind::RParen, "')'")?;
                self.depth -= 1;
                Ok(expression)
            }
            TokenKind::Keyword(Keyword::Exists) => {
                self.advance()?;
                Ok(ComparisonExpression::Exists(self.object_path()?))
            }
            TokenKind::Identifier => {
                let path = self.object_path()?;
                let negated = self.is_keyword(Keyword::Not);
                if negated {
                    self.advance()?;
                }
                let test = self.test()?;
                Ok(ComparisonExpression::Comparison(Comparison { path, negated, test }))
            }
            _ => Err(self.unexpected("an object path, 'EXISTS' or '('")),
        }
    }

    fn test(&mut self) -> Result<Test, PatternError> {
        let operator = self.token.kind.clone();
        let is_operator = matches!(
            operator,
            TokenKind::Equal
                | TokenKind::NotEqual
                | TokenKind::Greater
                | TokenKind::GreaterOrEqual
                | TokenKind::Less
                | TokenKind::LessOrEqual
                | TokenKind::Keyword(
                    Keyword::In
                        | Keyword::Like
                        | Keyword::Matches
                        | Keyword::IsSubset
                        | Keyword::IsSuperset
                )
        );
        if !is_operator {
            return Err(self.unexpected("a comparison operator"));
        }
        self.advance()?;
        Ok(match operator {
            TokenKind::Equal => Test::Equal(self.literal(true)?),
            TokenKind::NotEqual => Test::NotEqual(self.literal(true)?),
            TokenKind::Greater => Test::Greater(self.literal(false)?),
            TokenKind::GreaterOrEqual => Test::GreaterOrEqual(self.literal(false)?),
            TokenKind::Less => Test::Less(self.literal(false)?),
            TokenKind::LessOrEqual => Test::LessOrEqual(self.literal(false)?),
            TokenKind::Keyword(Keyword::In) => Test::In(self.set()?),
            TokenKind::Keyword(Keyword::Like) => Test::Like(self.string()?),
            TokenKind::Keyword(Keyword::Matches) => Test::Matches(self.string()?),
            TokenKind::Keyword(Keyword::IsSubset) => Test::IsSubset(self.string()?),
            _ => Test::IsSuperset(self.string()?),
        })
    }

    /// `primitiveLiteral`, or `orderableLiteral` (no booleans) when `allow_bool` is false.
    fn literal(&mut self, allow_bool: bool) -> Result<Literal, PatternError> {
        // The token's value is taken, not copied: the token is passed right after.
        let literal = match &mut self.token.kind {
            TokenKind::Binary(bytes) => Literal::Binary(mem::take(bytes)),
            TokenKind::Bool(value) if allow_bool => Literal::Bool(*value),
            TokenKind::Float(value) => Literal::Float(*value),
            TokenKind::Hex(bytes) => Literal::Hex(mem::take(bytes)),
            TokenKind::Int(value) => Literal::Int(*value),
            TokenKind::String(value) => Literal::String(mem::take(value)),
            TokenKind::Timestamp(value) => Literal::Timestamp(value.clone()),
            _ if allow_bool => return Err(self.unexpected("a literal")),
            _ => return Err(self.unexpected("an orderable literal")),
        };
        self.advance()?;
        Ok(literal)
    }

    /// `setLiteral`: `( )` or `( literal, ... )`.
    fn set(&mut self) -> Result<Vec<Literal>, PatternError> {
        self.expect(&TokenKind::LParen, "'('")?;
        let mut values = Vec::new();
        if self.token.kind == TokenKind::RParen {
            self.advance()?;
            return Ok(values);
        }
        loop {
            values.push(self.literal(true)?);
            match self.token.kind {
                TokenKind::Comma => self.advance()?,
                TokenKind::RParen => break,
                _ => return Err(self.unexpected("',' or ')'")),
            };
        }
        self.advance()?;
        Ok(values)
    }

    fn string(&mut self) -> Result<String, PatternError> {
        let TokenKind::String(value) = &mut self.token.kind else {
            return Err(self.unexpected("a string"));
        };
        let value = mem::take(value);
        self.advance()?;
        Ok(value)
    }

    /// `objectPath`: `type:property` followed by `.key`, `.'key'`, `[n]` or `[*]` steps.
    fn object_path(&mut self) -> Result<ObjectPath, PatternError> {
        let object_type = match self.token.kind {
            TokenKind::Identifier => ObjectType::new(self.token.text),
            _ => None,
        };
        let Some(object_type) = object_type else {
            return Err(self.unexpected("an object type"));
        };
        self.advance()?;
        self.expect(&TokenKind::Colon, "':'")?;
        let property = self.property()?;
        let mut steps = Vec::new();
        loop {
            match self.token.kind {
                TokenKind::Dot => {
                    self.advance()?;
                    steps.push(PathStep::Key(self.property()?));
                }
                TokenKind::LBracket => {
                    self.advance()?;
                    let step = match self.token.kind {
                        TokenKind::Int(index) => PathStep::Index(index),
                        TokenKind::Star => PathStep::AnyIndex,
                        _ => return Err(self.unexpected("an index or '*'")),
                    };
                    self.advance()?;
                    self.expect(&TokenKind::RBracket, "']'")?;
                    steps.push(step);
                }
                _ => break,
            }
        }
        Ok(ObjectPath { object_type, property, steps })
    }

    /// A property name: an identifier or a quoted string.
    ///
    /// The grammar forbids hyphens in unquoted property names, but feeds write
    /// `file:hashes.SHA-256`; this parser accepts them, and Display quotes them.
    fn property(&mut self) -> Result<String, PatternError> {
        let property = match &mut self.token.kind {
            TokenKind::Identifier => self.token.text.to_owned(),
            TokenKind::String(value) => mem::take(value),
            _ => return Err(self.unexpected("a property name")),
        };
        self.advance()?;
        Ok(property)
    }

    /// Parses `item (keyword item)*`: the only item, or the n-ary node `build` makes of several.
    fn operands<T>(
        &mut self,
        keyword: Keyword,
        item: fn(&mut Parser<'a>) -> Result<T, PatternError>,
        build: fn(Vec<T>) -> T,
    ) -> Result<T, PatternError> {
        let first = item(self)?;
        // Most patterns are one comparison: no list for a level without its keyword.
        if !self.is_keyword(keyword) {
            return Ok(first);
        }
        let mut operands = vec![first];
        while self.is_keyword(keyword) {
            self.advance()?;
            operands.push(item(self)?);
        }
        Ok(build(operands))
    }

    fn is_keyword(&self, keyword: Keyword) -> bool {
        self.token.kind == TokenKind::Keyword(keyword)
    }

    /// Moves to the next token and returns the one passed.
    fn advance(&mut self) -> Result<Token<'a>, PatternError> {
        let next = self.lexer.next_token()?;
        Ok(mem::replace(&mut self.token, next))
    }

    fn expect(&mut self, kind: &TokenKind, expected: &'static str) -> Result<(), PatternError> {
        if self.token.kind != *kind {
            return Err(self.unexpected(expected));
        }
        self.advance()?;
        Ok(())
    }

    fn expect_keyword(
        &mut self,
        keyword: Keyword,
        expected: &'static str,
    ) -> Result<(), PatternError> {
        self.expect(&TokenKind::Keyword(keyword), expected)
    }

    /// Goes one level deeper, or fails at the current token when that passes `MAX_DEPTH`.
    fn enter(&mut self) -> Result<(), PatternError> {
        if self.depth >= MAX_DEPTH {
            let kind = PatternErrorKind::TooDeep { limit: MAX_DEPTH };
            return Err(PatternError { column: self.token.column, kind });
        }
        self.depth += 1;
        Ok(())
    }

    fn unexpected(&self, expected: &'static str) -> PatternError {
        let found = describe(&self.token);
        PatternError {
            column: self.token.column,
            kind: PatternErrorKind::Unexpected { expected, found },
        }
    }
}

/// Describes a token for an error message: its text in quotes, cut to a readable length.
fn describe(token: &Token<'_>) -> String {
    const MAX_CHARS: usize = 32;
    if token.kind == TokenKind::End {
        return "end of pattern".to_owned();
    }
    let mut text: String = token.text.chars().take(MAX_CHARS).collect();
    if token.text.chars().nth(MAX_CHARS).is_some() {
        text.push_str("...");
    }
    // Prefixed literals carry their own quotes; a plain string is named so it reads apart from a
    // quoted keyword or identifier.
    match token.kind {
        TokenKind::String(_) => format!("string {text}"),
        TokenKind::Binary(_) | TokenKind::Hex(_) | TokenKind::Timestamp(_) => text,
        _ => format!("'{text}'"),
    }
}
