//! Extraction of observables from free text: the boundary rules as a table of cases, and real
//! feed samples against checked-in expected output.

use std::fmt::Write as _;
use std::path::Path;

use watchfire_model::extract::{ExtractOptions, Extracted, extract};

/// Runs the extractor and returns its hits as owned `(kind, value, raw, line, offset)` rows.
fn hits(text: &[u8], options: &ExtractOptions) -> Vec<(String, String, String, u64, usize)> {
    let mut hits = Vec::new();
    extract(text, options, 1, |hit: Extracted<'_>| {
        hits.push((
            hit.observable.kind().as_str().to_owned(),
            hit.observable.value().to_owned(),
            hit.raw.to_owned(),
            hit.line,
            hit.offset,
        ));
    });
    hits
}

/// One case of `boundaries.cases`.
struct Case {
    title: String,
    input: Vec<u8>,
    expected: Vec<String>,
}

/// Reads the cases file; see its header for the format.
fn read_cases(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(title) = line.strip_prefix("== ") else { continue };
        let mut input = Vec::new();
        for line in lines.by_ref().take_while(|line| *line != "--") {
            input.extend_from_slice(&unescape(line));
            input.push(b'\n');
        }
        let mut expected = Vec::new();
        while let Some(line) = lines.next_if(|line| !line.starts_with("== ")) {
            if !line.is_empty() && !line.starts_with('#') {
                expected.push(line.to_owned());
            }
        }
        cases.push(Case { title: title.to_owned(), input, expected });
    }
    cases
}

/// Replaces `\xNN` with the byte NN.
fn unescape(line: &str) -> Vec<u8> {
    let bytes = line.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut position = 0;
    while position < bytes.len() {
        let escaped = bytes[position..]
            .strip_prefix(b"\\x")
            .and_then(|rest| rest.get(..2))
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                position += 4;
            }
            None => {
                out.push(bytes[position]);
                position += 1;
            }
        }
    }
    out
}

/// Formats a hit the way the cases file writes it, with only the parts the expectation names.
fn format_hit(hit: &(String, String, String, u64, usize), expectation: &str) -> String {
    let (kind, value, raw, line, _) = hit;
    let mut out = format!("{kind} {value}");
    let names_raw = expectation.split(' ').nth(2).is_some_and(|token| !token.starts_with('@'));
    if raw != value || names_raw {
        write!(out, " {raw}").unwrap();
    }
    if expectation.contains(" @") {
        write!(out, " @{line}").unwrap();
    }
    out
}

#[test]
fn boundary_rules() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/extract/boundaries.cases");
    let cases = read_cases(&std::fs::read_to_string(path).unwrap());
    assert!(cases.len() >= 30, "only {} cases read", cases.len());
    let mut failures = String::new();
    for case in &cases {
        let options = ExtractOptions { refang: !case.title.ends_with("(literal)") };
        let hits = hits(&case.input, &options);
        let actual: Vec<String> = hits
            .iter()
            .enumerate()
            .map(|(index, hit)| {
                format_hit(hit, case.expected.get(index).map_or("", String::as_str))
            })
            .collect();
        if actual != case.expected {
            writeln!(
                failures,
                "== {}\n{}--\nexpected:\n  {}\nactual:\n  {}\n",
                case.title,
                String::from_utf8_lossy(&case.input),
                case.expected.join("\n  "),
                actual.join("\n  "),
            )
            .unwrap();
        }
    }
    assert!(failures.is_empty(), "cases that failed:\n\n{failures}");
}

/// Real feed samples, read in place from the shared fixtures, and the name of their expected file.
const FIXTURES: [(&str, &str); 11] = [
    ("plain-ip-list/blocklist-de_imap.txt", "plain_ip_list_blocklist_de_imap"),
    ("plain-ip-list/ipsum_level8.txt", "plain_ip_list_ipsum_level8"),
    ("plain-domain-list/abusech_feododomains.txt", "plain_domain_list_abusech_feododomains"),
    ("plain-domain-list/openphish_domains_pihole.txt", "plain_domain_list_openphish_pihole"),
    ("cleanmx/xmlphishing", "cleanmx_xmlphishing"),
    ("cleanmx/xmlviruses", "cleanmx_xmlviruses"),
    ("alienvault-otx/pulses_subscribed.json", "alienvault_otx_pulses_subscribed"),
    ("openphish/feed.txt", "openphish_feed"),
    ("openphish/feed_commercial.txt", "openphish_feed_commercial"),
    ("malwaredomains/domains.txt", "malwaredomains_domains"),
    ("cybercrime-tracker/index.php.html", "cybercrime_tracker_index"),
];

/// Formats hits as the CLI prints them: one JSON object per line.
fn json_lines(text: &[u8]) -> String {
    let mut out = String::new();
    extract(text, &ExtractOptions::default(), 1, |hit| {
        let line = serde_json::json!({
            "kind": hit.observable.kind().as_str(),
            "value": hit.observable.value(),
            "raw": hit.raw,
            "line": hit.line,
        });
        writeln!(out, "{line}").unwrap();
    });
    out
}

#[test]
fn feed_fixtures_match_expected_output() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/feeds");
    let expected_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/extract");
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut problems = Vec::new();
    for (fixture, name) in FIXTURES {
        let text = std::fs::read(Path::new(fixtures).join(fixture)).unwrap();
        let actual = json_lines(&text);
        let expected_path = expected_dir.join(format!("{name}.expected"));
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == actual => {}
            Ok(_) if update => std::fs::write(&expected_path, &actual).unwrap(),
            Ok(expected) => problems.push(format!(
                "{fixture}: output differs from {name}.expected (UPDATE_EXPECT=1 rewrites it)\n\
                 expected:\n{expected}\nactual:\n{actual}"
            )),
            Err(_) => {
                std::fs::write(&expected_path, &actual).unwrap();
                if !update {
                    problems.push(format!("{fixture}: wrote {name}.expected, review it"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
