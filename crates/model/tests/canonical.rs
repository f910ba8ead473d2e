//! Table-driven canonicalisation tests: every row of `data/canonical/cases.tsv` is parsed and
//! compared, and every failing row is reported, not only the first.

use watchfire_model::observable::{Observable, ObservableError, ObservableKind};

const CASES: &str = include_str!("data/canonical/cases.tsv");

#[test]
fn canonical_cases() {
    let mut n_cases = 0;
    let mut failures = Vec::new();
    for (line_idx, line) in CASES.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        n_cases += 1;
        let line_no = line_idx + 1;
        let fields: Vec<&str> = line.split('\t').collect();
        let [kind, input, expected] = fields[..] else {
            failures.push(format!(
                "line {line_no}: expected 3 tab-separated fields, got {}",
                fields.len()
            ));
            continue;
        };
        let input = unescape(input);
        let parsed = match kind {
            "auto" => Observable::parse(&input),
            name => match name.parse::<ObservableKind>() {
                Ok(kind) => Observable::parse_as(kind, &input),
                Err(error) => {
                    failures.push(format!("line {line_no}: {error}"));
                    continue;
                }
            },
        };
        if let Err(mismatch) = check(&parsed, expected) {
            failures
                .push(format!("line {line_no}: {kind} {input:?}: expected {expected}, {mismatch}"));
        }
    }
    assert!(n_cases >= 150, "only {n_cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {n_cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Compares one parse result with an expectation from the table.
fn check(parsed: &Result<Observable, ObservableError>, expected: &str) -> Result<(), String> {
    let matches = match (parsed, expected.split_once(':')) {
        (Err(ObservableError::Unrecognised { .. }), _) => expected == "unrecognised",
        (Err(error), Some(("error", reason))) => error.to_string().contains(reason),
        (Ok(observable), Some((kind, value))) => {
            observable.kind().as_str() == kind && observable.value() == value
        }
        _ => false,
    };
    match (matches, parsed) {
        (true, _) => Ok(()),
        (false, Ok(observable)) => Err(format!("got {}:{}", observable.kind(), observable.value())),
        (false, Err(error)) => Err(format!("got error: {error}")),
    }
}

/// Replaces `\t` with a tab and `\s` with a space, leaving every other backslash alone.
fn unescape(input: &str) -> String {
    input.replace("\\t", "\t").replace("\\s", " ")
}
