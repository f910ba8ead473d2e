//! End-to-end tests of `watchfire convert`: the real binary reading inputs written here and
//! writing an export format, with its summary on standard error, and the usage errors.

use std::path::PathBuf;

use expect_test::expect;

mod common;
use common::watchfire;

/// Returns a fresh directory for `test`.
fn test_directory(test: &str) -> PathBuf {
    let directory = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("convert").join(test);
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).expect("the test directory is created");
    directory
}

const PLAIN_IPS: &str = "# a comment\n192.0.2.1\nnot-an-ip\n198.51.100.7\n";

#[test]
fn an_unknown_export_format_is_a_usage_error_listing_the_known_ones() {
    let run = watchfire(&["convert", "--to", "no-such-writer", "-"], b"");
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains(r#"--to: unknown export format "no-such-writer"; known formats:"#),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn an_unknown_input_format_is_a_usage_error_listing_the_known_ones() {
    let run = watchfire(&["convert", "--from", "no-such-format", "--to", "text", "-"], b"");
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains(r#"--from: unknown format "no-such-format"; known formats: "#),
        "{}",
        run.stderr
    );
    for format in watchfire_formats::formats() {
        assert!(run.stderr.contains(format.name), "{} is not listed: {}", format.name, run.stderr);
    }
}

#[test]
fn the_export_format_is_required() {
    let run = watchfire(&["convert", "-"], b"");
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("--to <FORMAT>"), "{}", run.stderr);
}

// The tests below need the `plain-ip` reader and the `text` and `hosts` writers.

#[test]
fn converts_to_standard_output_with_a_summary_on_standard_error() {
    let run =
        watchfire(&["convert", "--from", "plain-ip", "--to", "text", "-"], PLAIN_IPS.as_bytes());
    assert_eq!(run.code, Some(0), "rejects are data: {}", run.stderr);
    expect![[r#"
        192.0.2.1
        198.51.100.7
    "#]]
    .assert_eq(&run.stdout);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines[0], "-: format plain-ip, written 2, skipped 0, rejects 1");
    assert_eq!(lines[1], "total: written 2, skipped 0, rejects 1");
    assert!(lines[2].starts_with("  reject: -: line 3: "), "{}", run.stderr);
}

#[test]
fn writes_every_file_to_one_output_file() {
    let directory = test_directory("output-file");
    let first = directory.join("first.txt");
    std::fs::write(&first, "192.0.2.1\n").expect("input written");
    let output = directory.join("out.txt");
    let run = watchfire(
        &[
            "convert",
            "--from",
            "plain-ip",
            "--to",
            "text",
            "-o",
            output.to_str().expect("utf-8 path"),
            first.to_str().expect("utf-8 path"),
            "-",
        ],
        b"198.51.100.7\n",
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        std::fs::read_to_string(&output).expect("output written"),
        "192.0.2.1\n198.51.100.7\n"
    );
    assert!(run.stderr.contains("total: written 2, skipped 0, rejects 0"), "{}", run.stderr);
}

#[test]
fn records_the_export_format_cannot_express_are_counted_as_skipped() {
    let run =
        watchfire(&["convert", "--from", "plain-ip", "--to", "hosts", "-"], PLAIN_IPS.as_bytes());
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!run.stdout.contains("192.0.2.1"), "a hosts file holds domains only: {}", run.stdout);
    assert!(
        run.stderr.contains("total: written 0, skipped 2 (ipv4 observable 2), rejects 1"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_missing_file_fails_the_run_but_the_others_are_converted() {
    let run = watchfire(
        &["convert", "--from", "plain-ip", "--to", "text", "/nonexistent/feed.txt", "-"],
        b"192.0.2.1\n",
    );
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("cannot open /nonexistent/feed.txt"), "{}", run.stderr);
    assert_eq!(run.stdout, "192.0.2.1\n");
}
