//! End-to-end tests of `watchfire lookup` on a store filled by `watchfire import`.

mod common;

use common::{Running, fixture, watchfire};
use serde_json::Value;

fn filled_store() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    for file in ["abusech-urlhaus/csv_recent.csv", "spamhaus-drop/drop.txt"] {
        let run = watchfire(&["--data", &data, "import", &fixture(file)], b"");
        assert!(run.ok(), "{}", run.stderr);
    }
    (dir, data)
}

fn answers(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect()
}

#[test]
fn json_answers_give_the_canonical_form_and_the_claims() {
    let (_dir, data) = filled_store();
    let run = watchfire(
        &[
            "--data",
            &data,
            "lookup",
            "--json",
            "hxxp://182.126.120[.]150:58801/i",
            "1.4.0.77",
            "1.4.200.1",
        ],
        b"",
    );
    assert!(run.ok(), "{}", run.stderr);
    let answers = answers(&run.stdout);
    assert_eq!(answers.len(), 3);
    assert_eq!(answers[0]["canonical"], "http://182.126.120.150:58801/i");
    assert_eq!(answers[0]["hits"][0]["how"], "exact");
    assert_eq!(answers[0]["hits"][0]["claims"][0]["source"], "abusech-urlhaus");
    assert_eq!(answers[1]["kind"], "ipv4");
    assert_eq!(answers[1]["hits"][0]["how"], "network");
    assert_eq!(answers[1]["hits"][0]["matched"]["value"], "1.4.0.0/17");
    assert_eq!(answers[1]["hits"][0]["matched"]["kind"], "cidr");
    assert_eq!(answers[1]["hits"][0]["claims"][0]["category"], "bogon");
    assert_eq!(answers[2]["hits"], Value::Array(Vec::new()));
}

#[test]
fn values_come_from_standard_input_and_bad_ones_are_reported() {
    let (_dir, data) = filled_store();
    let run =
        watchfire(&["--data", &data, "lookup", "-"], b"182.126.120.150\nnot a value\n\n1.4.0.1\n");
    assert_eq!(run.code, Some(1), "one value is no observable");
    assert!(run.stdout.contains("182.126.120.150 (ipv4): not known"), "{}", run.stdout);
    assert!(run.stdout.contains("not a value: not an observable"), "{}", run.stdout);
    assert!(run.stdout.contains("1.4.0.1 (ipv4): 1 hit\n  network 1.4.0.0/17\n"), "{}", run.stdout);
}

#[test]
fn expired_claims_can_be_hidden() {
    let (_dir, data) = filled_store();
    // The DROP list of the fixture is from 2015: its claims are long past their validity.
    let run = watchfire(&["--data", &data, "lookup", "--json", "--hide-expired", "1.4.0.77"], b"");
    assert!(run.ok());
    assert_eq!(answers(&run.stdout)[0]["hits"], Value::Array(Vec::new()));
}

/// Values piped in as they come (a script feeding an analyst's queue) are answered as they come,
/// while standard input stays open.
#[test]
fn values_from_a_pipe_are_answered_while_it_stays_open() {
    let (_dir, data) = filled_store();
    let mut run = Running::start(&["--data", &data, "lookup", "--json", "-"]);
    for (value, canonical) in [
        ("1.4.0.77", "1.4.0.77"),
        ("hxxp://182.126.120[.]150:58801/i", "http://182.126.120.150:58801/i"),
    ] {
        run.write(&format!("{value}\n"));
        let line = run.next_line(value);
        let answer: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(answer["canonical"], canonical);
        assert!(!answer["hits"].as_array().unwrap().is_empty(), "{line}");
    }
    let (rest, ok) = run.finish();
    assert!(ok);
    assert!(rest.is_empty(), "nothing after the two answers: {rest:?}");
}
