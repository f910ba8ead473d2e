//! The bridge between patterns and observables: which patterns mean "any of these observables",
//! and the one canonical pattern for each observable.
//!
//! A pattern is matchable when it is one observation, or several joined by `OR`, whose comparisons
//! are joined by `OR` and each test one supported path with `=`, `IN`, or (for addresses) `ISSUBSET`:
//!
//! | path | observable |
//! | --- | --- |
//! | `ipv4-addr:value`, `ipv6-addr:value` | ipv4 / ipv6, or cidr when the value has a `/` or the operator is `ISSUBSET` |
//! | `domain-name:value` | domain |
//! | `url:value` | url |
//! | `email-addr:value` | email |
//! | `file:hashes.MD5`, `.'SHA-1'`, `.'SHA-256'`, `.'SHA-512'` | md5, sha1, sha256, sha512 |
//! | `autonomous-system:number` | asn |
//!
//! Hash names are compared ignoring case and any `-` or `_`, since feeds write `SHA256`, `sha-256`
//! and `SHA_256` for the vocabulary's `SHA-256`.

use std::collections::HashSet;
use std::net::IpAddr;

use crate::pattern::ast::{
    Comparison, ComparisonExpression, Literal, ObjectPath, ObjectType, ObservationExpression,
    PathStep, Pattern, Test,
};
use crate::{Observable, ObservableError, ObservableKind};

/// Why a pattern does not reduce to a list of observables.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotMatchable {
    /// Observations are joined by `AND` or `FOLLOWEDBY`, so no single observable matches.
    #[error("observations joined by {0}")]
    ObservationOperator(&'static str),
    /// An observation carries a `WITHIN`, `REPEATS` or `START`/`STOP` qualifier.
    #[error("observation has a qualifier")]
    Qualifier,
    /// Comparisons inside one observation are joined by `AND`.
    #[error("comparisons joined by AND")]
    ComparisonAnd,
    /// A comparison is negated with `NOT`.
    #[error("comparison negated with NOT")]
    Negated,
    /// A comparison uses an operator other than `=`, `IN` or an address `ISSUBSET`.
    #[error("unsupported operator {0}")]
    Operator(&'static str),
    /// A comparison tests a path that maps to no observable kind.
    #[error("unsupported object path {0}")]
    Path(String),
    /// A constant has the wrong type for its path, such as a number for `url:value`.
    #[error("unsupported value {value} for {path}")]
    Value {
        /// The object path, as printed.
        path: String,
        /// The constant, as printed.
        value: String,
    },
    /// A constant does not canonicalise as the path's observable kind.
    #[error("bad value for {path}: {error}")]
    Observable {
        /// The object path, as printed.
        path: String,
        /// Why the value is no observable.
        error: ObservableError,
    },
}

impl Pattern {
    /// Returns the observables any of which the pattern matches, in order and without repeats, or
    /// why the pattern is more than such a list.
    pub fn observables(&self) -> Result<Vec<Observable>, NotMatchable> {
        let mut observables = Vec::new();
        collect_observation(&mut observables, &self.expression)?;
        // Most patterns name one or two observables: a hash set pays off only for long lists.
        if observables.len() <= 16 {
            // Invariant: `observables[..n_kept]` holds the first occurrences seen so far, in
            // order, and `observables[n_kept..index]` only repeats of them.
            let mut n_kept = 0;
            for index in 0..observables.len() {
                if !observables[..n_kept].contains(&observables[index]) {
                    observables.swap(n_kept, index);
                    n_kept += 1;
                }
            }
            observables.truncate(n_kept);
        } else {
            let mut seen = HashSet::new();
            observables.retain(|observable| seen.insert(observable.clone()));
        }
        Ok(observables)
    }

    /// Returns the canonical pattern matching exactly `observable`, such as
    /// `[ipv4-addr:value = '192.0.2.1']` or `[file:hashes.'SHA-256' = '...']`.
    ///
    /// A cidr becomes `[ipv4-addr:value ISSUBSET '203.0.113.0/24']` rather than `=`: STIX compares
    /// `=` against the observed value's text, so `=` with a network matches only an observed object
    /// holding that same network, while `ISSUBSET` matches every address inside it.
    pub fn from_observable(observable: &Observable) -> Pattern {
        let value = observable.value();
        let string = || Literal::String(value.to_owned());
        let (object_type, property, steps, test) = match observable.kind() {
            ObservableKind::Asn => {
                // Canonical asns always have a number; the string form would read back the same.
                let literal =
                    observable.asn().map_or_else(string, |number| Literal::Int(number.into()));
                ("autonomous-system", "number", vec![], Test::Equal(literal))
            }
            ObservableKind::Cidr => {
                let is_v6 = matches!(observable.cidr(), Some((IpAddr::V6(_), _)));
                let object_type = if is_v6 { "ipv6-addr" } else { "ipv4-addr" };
                (object_type, "value", vec![], Test::IsSubset(value.to_owned()))
            }
            ObservableKind::Domain => ("domain-name", "value", vec![], Test::Equal(string())),
            ObservableKind::Email => ("email-addr", "value", vec![], Test::Equal(string())),
            ObservableKind::Ipv4 => ("ipv4-addr", "value", vec![], Test::Equal(string())),
            ObservableKind::Ipv6 => ("ipv6-addr", "value", vec![], Test::Equal(string())),
            ObservableKind::Md5 => ("file", "hashes", hash_step("MD5"), Test::Equal(string())),
            ObservableKind::Sha1 => ("file", "hashes", hash_step("SHA-1"), Test::Equal(string())),
            ObservableKind::Sha256 => {
                ("file", "hashes", hash_step("SHA-256"), Test::Equal(string()))
            }
            ObservableKind::Sha512 => {
                ("file", "hashes", hash_step("SHA-512"), Test::Equal(string()))
            }
            ObservableKind::Url => ("url", "value", vec![], Test::Equal(string())),
        };
        let path = ObjectPath {
            object_type: known_type(object_type),
            property: property.to_owned(),
            steps,
        };
        let comparison = Comparison { path, negated: false, test };
        Pattern {
            expression: ObservationExpression::Observation(ComparisonExpression::Comparison(
                comparison,
            )),
        }
    }
}

impl From<&Observable> for Pattern {
    fn from(observable: &Observable) -> Pattern {
        Pattern::from_observable(observable)
    }
}

/// Returns the key step naming a hash algorithm as the STIX `hash-algorithm-ov` vocabulary does.
fn hash_step(algorithm: &str) -> Vec<PathStep> {
    vec![PathStep::Key(algorithm.to_owned())]
}

fn known_type(name: &'static str) -> ObjectType {
    // Cannot fail: every caller passes one of the SCO type names above, all valid identifiers.
    ObjectType::new(name).expect("SCO type names are valid object types")
}

fn collect_observation(
    observables: &mut Vec<Observable>,
    expression: &ObservationExpression,
) -> Result<(), NotMatchable> {
    match expression {
        ObservationExpression::Observation(comparison) => {
            collect_comparison(observables, comparison)
        }
        ObservationExpression::Or(operands) => {
            for operand in operands {
                collect_observation(observables, operand)?;
            }
            Ok(())
        }
        ObservationExpression::And(_) => Err(NotMatchable::ObservationOperator("AND")),
        ObservationExpression::FollowedBy(_) => {
            Err(NotMatchable::ObservationOperator("FOLLOWEDBY"))
        }
        ObservationExpression::Qualified { .. } => Err(NotMatchable::Qualifier),
    }
}

fn collect_comparison(
    observables: &mut Vec<Observable>,
    expression: &ComparisonExpression,
) -> Result<(), NotMatchable> {
    let comparison = match expression {
        ComparisonExpression::Comparison(comparison) => comparison,
        ComparisonExpression::Or(operands) => {
            for operand in operands {
                collect_comparison(observables, operand)?;
            }
            return Ok(());
        }
        ComparisonExpression::And(_) => return Err(NotMatchable::ComparisonAnd),
        ComparisonExpression::Exists(_) => return Err(NotMatchable::Operator("EXISTS")),
    };
    if comparison.negated {
        return Err(NotMatchable::Negated);
    }
    let path = &comparison.path;
    let target = Target::of(path).ok_or_else(|| NotMatchable::Path(path.to_string()))?;
    match &comparison.test {
        Test::Equal(literal) => observables.push(target.observable(path, literal)?),
        Test::In(literals) => {
            for literal in literals {
                observables.push(target.observable(path, literal)?);
            }
        }
        Test::IsSubset(network) if matches!(target, Target::Address(_)) => {
            observables.push(parse(path, ObservableKind::Cidr, network)?);
        }
        other => return Err(NotMatchable::Operator(operator_name(other))),
    }
    Ok(())
}

/// What a supported object path holds.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// An `ipv4-addr` or `ipv6-addr` value: the address kind, or a cidr when the value has a `/`.
    Address(ObservableKind),
    /// An `autonomous-system` number.
    Asn,
    /// A string of one kind.
    Text(ObservableKind),
}

impl Target {
    fn of(path: &ObjectPath) -> Option<Target> {
        let object_type = path.object_type.as_str();
        Some(match (object_type, path.property.as_str(), path.steps.as_slice()) {
            ("autonomous-system", "number", []) => Target::Asn,
            ("domain-name", "value", []) => Target::Text(ObservableKind::Domain),
            ("email-addr", "value", []) => Target::Text(ObservableKind::Email),
            ("file", "hashes", [PathStep::Key(algorithm)]) => Target::Text(hash_kind(algorithm)?),
            ("ipv4-addr", "value", []) => Target::Address(ObservableKind::Ipv4),
            ("ipv6-addr", "value", []) => Target::Address(ObservableKind::Ipv6),
            ("url", "value", []) => Target::Text(ObservableKind::Url),
            _ => return None,
        })
    }

    fn observable(self, path: &ObjectPath, literal: &Literal) -> Result<Observable, NotMatchable> {
        let text = match (self, literal) {
            (Target::Asn, Literal::Int(number)) => {
                return parse(path, ObservableKind::Asn, &number.to_string());
            }
            (_, Literal::String(text)) => text,
            _ => {
                return Err(NotMatchable::Value {
                    path: path.to_string(),
                    value: literal.to_string(),
                });
            }
        };
        let kind = match self {
            Target::Address(_) if text.contains('/') => ObservableKind::Cidr,
            Target::Address(kind) | Target::Text(kind) => kind,
            Target::Asn => ObservableKind::Asn,
        };
        parse(path, kind, text)
    }
}

fn parse(path: &ObjectPath, kind: ObservableKind, text: &str) -> Result<Observable, NotMatchable> {
    Observable::parse_as(kind, text)
        .map_err(|error| NotMatchable::Observable { path: path.to_string(), error })
}

/// Returns the hash kind of a `file:hashes` key, ignoring case, `-` and `_`.
fn hash_kind(algorithm: &str) -> Option<ObservableKind> {
    let name: String = algorithm
        .chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    Some(match name.as_str() {
        "MD5" => ObservableKind::Md5,
        "SHA1" => ObservableKind::Sha1,
        "SHA256" => ObservableKind::Sha256,
        "SHA512" => ObservableKind::Sha512,
        _ => return None,
    })
}

fn operator_name(test: &Test) -> &'static str {
    match test {
        Test::Equal(_) => "=",
        Test::NotEqual(_) => "!=",
        Test::Greater(_) => ">",
        Test::GreaterOrEqual(_) => ">=",
        Test::Less(_) => "<",
        Test::LessOrEqual(_) => "<=",
        Test::In(_) => "IN",
        Test::Like(_) => "LIKE",
        Test::Matches(_) => "MATCHES",
        Test::IsSubset(_) => "ISSUBSET",
        Test::IsSuperset(_) => "ISSUPERSET",
    }
}
