//! End-to-end tests of `watchfire import --dry-run`: the real binary on inputs written here, its
//! exact `--json` lines, the readable summary, detection, decompression, and the errors.

use std::io::Write;
use std::path::PathBuf;

use expect_test::expect;

mod common;
use common::{fixture, watchfire};
use flate2::Compression;
use flate2::write::GzEncoder;

/// Writes `bytes` to a file named `name` in a directory of its own for `test`, and returns its path.
fn input_file(test: &str, name: &str, bytes: &[u8]) -> String {
    let directory = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("import").join(test);
    std::fs::create_dir_all(&directory).expect("the test directory is created");
    let path = directory.join(name);
    std::fs::write(&path, bytes).expect("the input file is written");
    path.to_str().expect("utf-8 path").to_owned()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).expect("gzip in memory");
    encoder.finish().expect("gzip in memory")
}

/// Replaces the reason of every reject line with `<reason>`: the wording is the reader's.
fn redact_reasons(json_lines: &str) -> String {
    let mut out = String::new();
    for line in json_lines.lines() {
        let mut value: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        if let Some(reason) = value.pointer_mut("/reject/reason") {
            assert!(reason.as_str().is_some_and(|text| !text.is_empty()), "a reason: {line}");
            *reason = "<reason>".into();
        }
        out.push_str(&value.to_string());
        out.push('\n');
    }
    out
}

const PLAIN_IPS: &str = "# a comment\n192.0.2.1\nnot-an-ip\n198.51.100.7\n";

#[test]
fn an_unknown_format_is_a_usage_error_listing_every_known_format() {
    let run = watchfire(&["import", "--dry-run", "--format", "no-such-format", "-"], b"");
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains(r#"unknown format "no-such-format"; known formats: "#),
        "{}",
        run.stderr
    );
    for format in watchfire_formats::formats() {
        assert!(run.stderr.contains(format.name), "{} is not listed: {}", format.name, run.stderr);
    }
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let run = watchfire(&["import", "--dry-run", "/nonexistent/feed.txt"], b"");
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("cannot open /nonexistent/feed.txt"), "{}", run.stderr);
}

#[test]
fn content_no_format_recognises_asks_for_a_format() {
    let path = input_file("unrecognised", "notes.bin", b"\x00\x01\x02 not a feed \xff\n");
    let run = watchfire(&["import", "--dry-run", &path], b"");
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("cannot recognise the format of notes.bin; name one with --format"),
        "{}",
        run.stderr
    );
}

#[test]
fn files_are_required() {
    let run = watchfire(&["import", "--dry-run"], b"");
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("<FILE>"), "{}", run.stderr);
}

#[test]
fn json_prints_each_reject_then_one_summary_line() {
    let run = watchfire(
        &["import", "--dry-run", "--format", "plain-ip", "--json", "-"],
        PLAIN_IPS.as_bytes(),
    );
    assert_eq!(run.code, Some(0), "rejects are data: {}", run.stderr);
    expect![[r#"
        {"reject":{"file":"-","line":3,"reason":"<reason>"}}
        {"file":"-","format":"plain-ip","records":2,"rejects":1,"by_kind":{"ipv4":2}}
    "#]]
    .assert_eq(&redact_reasons(&run.stdout));
}

#[test]
fn several_files_give_one_summary_each_in_order() {
    let first = input_file("several", "first.txt", b"192.0.2.1\n192.0.2.2\n");
    let run = watchfire(
        &["import", "--dry-run", "--format", "plain-ip", "--json", &first, "-"],
        b"198.51.100.7\n",
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let summaries: Vec<serde_json::Value> =
        run.stdout.lines().map(|line| serde_json::from_str(line).expect("JSON")).collect();
    assert_eq!(summaries.len(), 2, "{}", run.stdout);
    assert_eq!(summaries[0]["file"], first.as_str());
    assert_eq!(summaries[0]["records"], 2);
    assert_eq!(summaries[1]["file"], "-");
    assert_eq!(summaries[1]["records"], 1);
}

#[test]
fn the_readable_summary_shows_kinds_and_the_first_twenty_rejects() {
    let mut input = String::from("192.0.2.1\n198.51.100.7\n");
    for index in 0..25 {
        input.push_str(&format!("bad-{index}\n"));
    }
    let path = input_file("readable", "list.txt", input.as_bytes());
    let run = watchfire(&["import", "--dry-run", "--format", "plain-ip", &path], b"");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], format!("{path}: format plain-ip"));
    assert_eq!(lines[1..4], ["  records: 2", "    ipv4  2", "  rejects: 25"]);
    let shown: Vec<&&str> = lines.iter().filter(|line| line.starts_with("    line ")).collect();
    assert_eq!(shown.len(), 20, "{}", run.stdout);
    assert!(shown[0].starts_with("    line 3: "), "{}", shown[0]);
    assert_eq!(lines.last(), Some(&"    ... and 5 more (--json lists them all)"));
}

#[test]
fn gzip_input_is_unpacked() {
    let path = input_file("gzip", "list.txt.gz", &gzip(PLAIN_IPS.as_bytes()));
    let run = watchfire(&["import", "--dry-run", "--format", "plain-ip", "--json", &path], b"");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let summary = run.stdout.lines().last().expect("a summary line");
    assert!(summary.contains(r#""records":2,"rejects":1,"by_kind":{"ipv4":2}"#), "{summary}");
}

#[test]
fn a_truncated_gzip_is_an_unreadable_file() {
    let mut bytes = gzip(PLAIN_IPS.repeat(50).as_bytes());
    bytes.truncate(bytes.len() / 2);
    let path = input_file("truncated", "list.txt.gz", &bytes);
    let run = watchfire(&["import", "--dry-run", "--format", "plain-ip", &path], b"");
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(run.stderr.contains("list.txt.gz"), "{}", run.stderr);
}

#[test]
fn auto_detects_the_format_inside_a_gzip_file() {
    let bytes =
        std::fs::read(fixture("abusech-feodotracker/ipblocklist.csv")).expect("the fixture");
    let path = input_file("detect", "ipblocklist.csv.gz", &gzip(&bytes));
    let run = watchfire(&["import", "--dry-run", "--json", &path], b"");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "{{\"file\":\"{path}\",\"format\":\"abusech-feodotracker\",\"records\":6,\"rejects\":0,\"by_kind\":{{\"ipv4\":6}}}}\n"
        )
    );
}
