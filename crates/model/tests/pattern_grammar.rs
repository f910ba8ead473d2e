//! Tests of the STIX 2.1 pattern grammar: the spec's examples and other valid patterns, invalid
//! patterns with their error columns, every indicator pattern of the STIX fixtures, the nesting
//! bound, and property tests over arbitrary text and random trees.

use std::fmt::Write as _;
use std::fs;

use expect_test::expect_file;
use proptest::prelude::*;
use watchfire_model::pattern::{
    Comparison, ComparisonExpression, Literal, MAX_DEPTH, ObjectPath, ObjectType,
    ObservationExpression, PathStep, Pattern, PatternErrorKind, Qualifier, Seconds, Test,
    Timestamp,
};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/pattern");
const FEEDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/feeds");

/// Returns the lines of a data file that are neither blank nor `#` comments.
fn data_lines(name: &str) -> Vec<String> {
    let text = fs::read_to_string(format!("{DATA}/{name}")).unwrap();
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Parses `text`, checks that its print parses back to an equal tree and prints the same again,
/// and returns the print.
fn check_round_trip(text: &str) -> String {
    let pattern = Pattern::parse(text).unwrap_or_else(|error| panic!("{text:?}: {error}"));
    let printed = pattern.to_string();
    let reparsed =
        Pattern::parse(&printed).unwrap_or_else(|error| panic!("print {printed:?}: {error}"));
    assert_eq!(reparsed, pattern, "print {printed:?} of {text:?} parses to another tree");
    assert_eq!(reparsed.to_string(), printed, "print of {text:?} is not stable");
    printed
}

#[test]
fn valid_patterns_parse_and_print_canonically() {
    let mut report = String::new();
    for line in data_lines("valid.txt") {
        let printed = check_round_trip(&line);
        writeln!(report, "{line}\n  => {printed}").unwrap();
    }
    expect_file!["data/pattern/valid.expected"].assert_eq(&report);
}

#[test]
fn invalid_patterns_fail_at_their_column() {
    let mut mismatches = Vec::new();
    let lines = data_lines("invalid.txt");
    assert!(lines.len() > 50, "the table lost its rows");
    for line in &lines {
        let mut parts = line.splitn(3, " | ");
        let (Some(column), Some(message), Some(text)) = (parts.next(), parts.next(), parts.next())
        else {
            panic!("malformed line {line:?}");
        };
        let column: usize = column.parse().unwrap();
        let expected = format!("column {column}: {message}");
        match Pattern::parse(text) {
            Ok(pattern) => mismatches.push(format!("{text:?} parsed as {pattern}")),
            Err(error) if error.to_string() != expected || error.column != column => {
                mismatches.push(format!("{text:?}: got {error:?} ({error}), expected {expected}"));
            }
            Err(_) => {}
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Collects the `pattern` of every indicator in a JSON value, however deeply nested.
fn collect_indicator_patterns(patterns: &mut Vec<String>, value: &serde_json::Value) {
    match value {
        serde_json::Value::Object(object) => {
            let is_indicator =
                object.get("type").and_then(|kind| kind.as_str()) == Some("indicator");
            if is_indicator && let Some(pattern) = object.get("pattern").and_then(|p| p.as_str()) {
                patterns.push(pattern.to_owned());
            }
            for child in object.values() {
                collect_indicator_patterns(patterns, child);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                collect_indicator_patterns(patterns, item);
            }
        }
        _ => {}
    }
}

#[test]
fn every_fixture_indicator_pattern_round_trips() {
    let mut patterns = Vec::new();
    for directory in ["stix20", "stix21"] {
        for entry in fs::read_dir(format!("{FEEDS}/{directory}")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|extension| extension == "json") {
                let json: serde_json::Value =
                    serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
                collect_indicator_patterns(&mut patterns, &json);
            }
        }
    }
    assert!(patterns.len() >= 14, "found only {} indicator patterns", patterns.len());
    for pattern in &patterns {
        check_round_trip(pattern);
    }
}

/// Renders a tree fully parenthesised, `(OR a b)`, with each observation as its first value.
fn shape(expression: &ObservationExpression) -> String {
    let group = |operator: &str, operands: &[ObservationExpression]| {
        let operands: Vec<String> = operands.iter().map(shape).collect();
        format!("({operator} {})", operands.join(" "))
    };
    match expression {
        ObservationExpression::Observation(comparison) => comparison_shape(comparison),
        ObservationExpression::And(operands) => group("AND", operands),
        ObservationExpression::Or(operands) => group("OR", operands),
        ObservationExpression::FollowedBy(operands) => group("FOLLOWEDBY", operands),
        ObservationExpression::Qualified { expression, qualifier } => {
            format!("({qualifier} {})", shape(expression))
        }
    }
}

fn comparison_shape(expression: &ComparisonExpression) -> String {
    let group = |operator: &str, operands: &[ComparisonExpression]| {
        let operands: Vec<String> = operands.iter().map(comparison_shape).collect();
        format!("({operator} {})", operands.join(" "))
    };
    match expression {
        ComparisonExpression::And(operands) => group("and", operands),
        ComparisonExpression::Or(operands) => group("or", operands),
        ComparisonExpression::Comparison(Comparison {
            negated: false,
            test: Test::Equal(value),
            ..
        }) => value.to_string(),
        other => other.to_string(),
    }
}

#[test]
fn operators_group_by_precedence() {
    let cases = [
        (
            "[a:x = 1] OR [a:x = 2] AND [a:x = 3] FOLLOWEDBY [a:x = 4]",
            "(FOLLOWEDBY (OR 1 (AND 2 3)) 4)",
        ),
        (
            "[a:x = 1] FOLLOWEDBY [a:x = 2] OR [a:x = 3] AND [a:x = 4]",
            "(FOLLOWEDBY 1 (OR 2 (AND 3 4)))",
        ),
        ("[a:x = 1] AND [a:x = 2] AND [a:x = 3]", "(AND 1 2 3)"),
        ("([a:x = 1] AND [a:x = 2]) AND [a:x = 3]", "(AND (AND 1 2) 3)"),
        ("[a:x = 1] AND [a:x = 2] WITHIN 5 SECONDS", "(AND 1 (WITHIN 5 SECONDS 2))"),
        (
            "([a:x = 1] OR [a:x = 2]) REPEATS 2 TIMES WITHIN 9 SECONDS",
            "(WITHIN 9 SECONDS (REPEATS 2 TIMES (OR 1 2)))",
        ),
        ("[a:x = 1 OR a:x = 2 AND a:x = 3 OR a:x = 4]", "(or 1 (and 2 3) 4)"),
        ("[(a:x = 1 OR a:x = 2) AND a:x = 3]", "(and (or 1 2) 3)"),
        ("[a:x = 1 AND a:x NOT = 2 AND EXISTS a:y]", "(and 1 a:x NOT = 2 EXISTS a:y)"),
    ];
    for (text, expected) in cases {
        let pattern = Pattern::parse(text).unwrap();
        assert_eq!(shape(&pattern.expression), expected, "{text}");
    }
}

#[test]
fn parentheses_nest_up_to_the_bound() {
    // The observation's brackets count as one level.
    let depth = MAX_DEPTH - 1;
    let text = format!("{}[a:x = 1]{}", "(".repeat(depth), ")".repeat(depth));
    assert_eq!(check_round_trip(&text), "[a:x = 1]");

    let text = format!("{}[a:x = 1]{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    let error = Pattern::parse(&text).unwrap_err();
    assert_eq!(error.kind, PatternErrorKind::TooDeep { limit: MAX_DEPTH });
    assert_eq!(error.column, MAX_DEPTH + 1);
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let n = 100_000;
    let observations = format!("{}[a:x = 1]{}", "(".repeat(n), ")".repeat(n));
    let comparisons = format!("[{}a:x = 1{}]", "(".repeat(n), ")".repeat(n));
    let qualifiers = format!("[a:x = 1]{}", " WITHIN 1 SECONDS".repeat(n));
    let unclosed = "(".repeat(n);
    for text in [observations, comparisons, qualifiers, unclosed] {
        let error = Pattern::parse(&text).unwrap_err();
        assert_eq!(error.kind, PatternErrorKind::TooDeep { limit: MAX_DEPTH });
    }
}

#[test]
fn long_flat_chains_parse_without_depth() {
    let n = 20_000;
    let observations = vec!["[a:x = 1]"; n].join(" OR ");
    let pattern = Pattern::parse(&observations).unwrap();
    let ObservationExpression::Or(operands) = &pattern.expression else {
        panic!("not an OR: {pattern:?}");
    };
    assert_eq!(operands.len(), n);
    assert_eq!(pattern.to_string(), observations);

    let comparisons = format!("[{}]", vec!["a:x = 1"; n].join(" AND "));
    assert_eq!(check_round_trip(&comparisons), comparisons);
}

#[test]
fn error_columns_count_chars_not_bytes() {
    // `é` is two bytes: a byte offset would say column 23.
    let error = Pattern::parse("[a:x = 'é' AND a:y = 1 AND]").unwrap_err();
    assert_eq!(error.to_string(), "column 27: expected an object path, 'EXISTS' or '(', found ']'");
}

#[test]
fn constructors_reject_what_would_not_print_back() {
    assert!(ObjectType::new("x-usb-device").is_some());
    for name in ["", "1abc", "AND", "true", "a b", "a:b", "a.b"] {
        assert_eq!(ObjectType::new(name), None, "{name:?}");
    }
    assert!(Timestamp::new("2016-02-29T23:59:60.5Z").is_some());
    for text in
        ["2016-00-01T00:00:00Z", "2016-01-32T00:00:00Z", "2016-01-01T00:60:00Z", "2016-01-01"]
    {
        assert_eq!(Timestamp::new(text), None, "{text:?}");
    }
}

/// Fragments from which the token soup below builds near-valid patterns.
const FRAGMENTS: &[&str] = &[
    "[",
    "]",
    "(",
    ")",
    ",",
    ".",
    ":",
    "*",
    "=",
    "!=",
    "<",
    ">=",
    "AND",
    "OR",
    "NOT",
    "FOLLOWEDBY",
    "IN",
    "LIKE",
    "MATCHES",
    "ISSUBSET",
    "EXISTS",
    "WITHIN",
    "SECONDS",
    "REPEATS",
    "TIMES",
    "START",
    "STOP",
    "true",
    "1",
    "-2",
    "0.5",
    "'x'",
    "'it\\'s'",
    "b'AQ=='",
    "h'ff'",
    "t'2016-01-01T00:00:00Z'",
    "a:b",
    "file:hashes.'SHA-256'",
    "x-y:z[*]",
    "[0]",
    "/* c */",
    "'",
    "\\",
    "é",
];

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = Pattern::parse(&text);
    }

    #[test]
    fn token_soup_never_panics_and_round_trips(
        indices in proptest::collection::vec(0..FRAGMENTS.len(), 0..24),
    ) {
        let text = indices.iter().map(|&i| FRAGMENTS[i]).collect::<Vec<_>>().join(" ");
        if let Ok(pattern) = Pattern::parse(&text) {
            let printed = pattern.to_string();
            prop_assert_eq!(Pattern::parse(&printed), Ok(pattern));
        }
    }

    #[test]
    fn random_trees_print_and_parse_back_equal(pattern in pattern_strategy()) {
        let printed = pattern.to_string();
        let reparsed = Pattern::parse(&printed);
        prop_assert_eq!(reparsed, Ok(pattern), "{}", printed);
    }
}

fn pattern_strategy() -> impl Strategy<Value = Pattern> {
    observation_strategy().prop_map(|expression| Pattern { expression })
}

fn observation_strategy() -> impl Strategy<Value = ObservationExpression> {
    let leaf = comparison_expression_strategy().prop_map(ObservationExpression::Observation);
    leaf.prop_recursive(4, 24, 3, |inner| {
        let operands = proptest::collection::vec(inner.clone(), 2..4);
        prop_oneof![
            operands.clone().prop_map(ObservationExpression::And),
            operands.clone().prop_map(ObservationExpression::Or),
            operands.prop_map(ObservationExpression::FollowedBy),
            (inner, qualifier_strategy()).prop_map(|(expression, qualifier)| {
                ObservationExpression::Qualified { expression: Box::new(expression), qualifier }
            }),
        ]
    })
}

fn qualifier_strategy() -> impl Strategy<Value = Qualifier> {
    // The parser reads counts as 64-bit signed integers.
    let count = 0..=i64::MAX as u64;
    prop_oneof![
        count.clone().prop_map(Qualifier::Repeats),
        count.prop_map(|seconds| Qualifier::Within(Seconds::Int(seconds))),
        (0.0..1e9f64).prop_map(|seconds| Qualifier::Within(Seconds::Float(seconds))),
        (timestamp_strategy(), timestamp_strategy())
            .prop_map(|(start, stop)| Qualifier::StartStop { start, stop }),
    ]
}

fn comparison_expression_strategy() -> impl Strategy<Value = ComparisonExpression> {
    let leaf = prop_oneof![
        4 => comparison_strategy().prop_map(ComparisonExpression::Comparison),
        1 => path_strategy().prop_map(ComparisonExpression::Exists),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        let operands = proptest::collection::vec(inner, 2..4);
        prop_oneof![
            operands.clone().prop_map(ComparisonExpression::And),
            operands.prop_map(ComparisonExpression::Or),
        ]
    })
}

fn comparison_strategy() -> impl Strategy<Value = Comparison> {
    (path_strategy(), any::<bool>(), test_strategy()).prop_map(|(path, negated, test)| Comparison {
        path,
        negated,
        test,
    })
}

fn test_strategy() -> impl Strategy<Value = Test> {
    prop_oneof![
        literal_strategy(true).prop_map(Test::Equal),
        literal_strategy(true).prop_map(Test::NotEqual),
        literal_strategy(false).prop_map(Test::Greater),
        literal_strategy(false).prop_map(Test::GreaterOrEqual),
        literal_strategy(false).prop_map(Test::Less),
        literal_strategy(false).prop_map(Test::LessOrEqual),
        proptest::collection::vec(literal_strategy(true), 0..4).prop_map(Test::In),
        any::<String>().prop_map(Test::Like),
        any::<String>().prop_map(Test::Matches),
        any::<String>().prop_map(Test::IsSubset),
        any::<String>().prop_map(Test::IsSuperset),
    ]
}

fn literal_strategy(allow_bool: bool) -> BoxedStrategy<Literal> {
    let orderable = prop_oneof![
        proptest::collection::vec(any::<u8>(), 1..12).prop_map(Literal::Binary),
        any::<f64>().prop_filter("finite", |value| value.is_finite()).prop_map(Literal::Float),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Literal::Hex),
        any::<i64>().prop_map(Literal::Int),
        any::<String>().prop_map(Literal::String),
        timestamp_strategy().prop_map(Literal::Timestamp),
    ];
    match allow_bool {
        true => prop_oneof![orderable, any::<bool>().prop_map(Literal::Bool)].boxed(),
        false => orderable.boxed(),
    }
}

fn timestamp_strategy() -> impl Strategy<Value = Timestamp> {
    (
        0..10_000u32,
        1..=12u32,
        1..=31u32,
        0..24u32,
        0..60u32,
        0..=60u32,
        prop::option::of(0..1_000_000u32),
    )
        .prop_map(|(year, month, day, hour, minute, second, fraction)| {
            let fraction = fraction.map(|digits| format!(".{digits}")).unwrap_or_default();
            let text = format!(
                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}Z"
            );
            Timestamp::new(&text).unwrap()
        })
}

fn path_strategy() -> impl Strategy<Value = ObjectPath> {
    let object_type =
        "[A-Za-z_][A-Za-z0-9_-]{0,12}".prop_filter_map("keyword", |name| ObjectType::new(&name));
    let step = prop_oneof![
        property_strategy().prop_map(PathStep::Key),
        any::<i64>().prop_map(PathStep::Index),
        Just(PathStep::AnyIndex),
    ];
    (object_type, property_strategy(), proptest::collection::vec(step, 0..4))
        .prop_map(|(object_type, property, steps)| ObjectPath { object_type, property, steps })
}

fn property_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z_][A-Za-z0-9_]{0,10}",
        Just("AND".to_owned()),
        Just("SHA-256".to_owned()),
        any::<String>(),
    ]
}
