//! End-to-end tests of `watchfire extract`: the real binary, its exact output format, files and
//! stdin, refanging on and off, and streaming across chunk boundaries.

use expect_test::expect;

mod common;
use common::{Running, fixture, watchfire};

#[test]
fn prints_one_json_object_per_hit_with_exactly_the_four_fields() {
    let text = "first line\nC2 at 192.0.2[.]55, payload hxxps://evil[.]example/a.exe\nmd5 D41D8CD98F00B204E9800998ECF8427E\n";
    let run = watchfire(&["extract"], text.as_bytes());
    assert!(run.ok(), "{}", run.stderr);
    expect![[r#"
        {"kind":"ipv4","value":"192.0.2.55","raw":"192.0.2[.]55","line":2}
        {"kind":"url","value":"https://evil.example/a.exe","raw":"hxxps://evil[.]example/a.exe","line":2}
        {"kind":"md5","value":"d41d8cd98f00b204e9800998ecf8427e","raw":"D41D8CD98F00B204E9800998ECF8427E","line":3}
    "#]]
    .assert_eq(&run.stdout);
}

#[test]
fn no_refang_finds_only_literal_observables() {
    let text = "literal 198.51.100.7 and defanged 192.0.2[.]55 hxxp://evil[.]example/x\n";
    let run = watchfire(&["extract", "--no-refang"], text.as_bytes());
    assert!(run.ok());
    expect![[r#"
        {"kind":"ipv4","value":"198.51.100.7","raw":"198.51.100.7","line":1}
    "#]]
    .assert_eq(&run.stdout);
}

#[test]
fn reads_files_and_dash_for_stdin_in_order() {
    let file = fixture("plain-ip-list/blocklist-de_imap.txt");
    let run = watchfire(&["extract", &file, "-"], b"from stdin 203.0.113.9\n");
    assert!(run.ok(), "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines.len() > 1, "the fixture has IPs: {}", run.stdout);
    assert_eq!(
        lines.last(),
        Some(&r#"{"kind":"ipv4","value":"203.0.113.9","raw":"203.0.113.9","line":1}"#)
    );
    assert!(lines[0].contains(r#""line":1}"#), "line numbers restart per file: {}", lines[0]);
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let run = watchfire(&["extract", "/nonexistent/advisory.txt"], b"");
    assert!(!run.ok());
    assert!(run.stderr.contains("cannot open /nonexistent/advisory.txt"), "{}", run.stderr);
}

#[test]
fn streams_across_chunk_boundaries_and_over_long_lines() {
    // 5 MiB of filler lines crosses the 4 MiB chunk size; one 6 MiB line forces the buffer to grow.
    let mut text = Vec::new();
    let filler = "Nov 27 10:00:00 host sshd[42]: session opened for user nobody by (uid=0) x\n";
    let mut expected_lines = Vec::new();
    let mut line = 1u64;
    while text.len() < 5 << 20 {
        if line.is_multiple_of(10_000) {
            text.extend_from_slice(b"Failed password from 192.0.2.77 port 22\n");
            expected_lines.push(line);
        } else {
            text.extend_from_slice(filler.as_bytes());
        }
        line += 1;
    }
    text.extend(std::iter::repeat_n(b'a', 6 << 20));
    text.extend_from_slice(b" 198.51.100.200\nlast 203.0.113.1");
    let run = watchfire(&["extract"], &text);
    assert!(run.ok(), "{}", run.stderr);
    let mut found: Vec<(String, u64)> = Vec::new();
    for output_line in run.stdout.lines() {
        let hit: serde_json::Value = serde_json::from_str(output_line).expect("json line");
        found.push((
            hit["value"].as_str().expect("value").to_owned(),
            hit["line"].as_u64().expect("line"),
        ));
    }
    let mut expected: Vec<(String, u64)> =
        expected_lines.iter().map(|&n| ("192.0.2.77".to_owned(), n)).collect();
    expected.push(("198.51.100.200".to_owned(), line));
    expected.push(("203.0.113.1".to_owned(), line + 1));
    assert_eq!(found, expected);
}

#[test]
fn every_command_has_help() {
    for args in [&["--help"][..], &["extract", "--help"]] {
        let run = watchfire(args, b"");
        assert!(run.ok() && run.stdout.contains("Usage: watchfire"), "{args:?}: {}", run.stdout);
    }
}

/// A log piped in as it is written (`tail -F mail.log | watchfire extract`): each line's
/// observables are written out as the line comes, while standard input stays open.
#[test]
fn lines_from_a_pipe_are_extracted_while_it_stays_open() {
    let mut run = Running::start(&["extract"]);
    run.write("C2 at 192.0.2[.]55\n");
    expect![[r#"{"kind":"ipv4","value":"192.0.2.55","raw":"192.0.2[.]55","line":1}"#]]
        .assert_eq(&run.next_line("line 1"));
    run.write("no observable here\npayload hxxps://evil[.]example/a.exe\n");
    expect![[r#"{"kind":"url","value":"https://evil.example/a.exe","raw":"hxxps://evil[.]example/a.exe","line":3}"#]]
        .assert_eq(&run.next_line("line 3"));
    let (rest, ok) = run.finish();
    assert!(ok && rest.is_empty(), "{rest:?}");
}
