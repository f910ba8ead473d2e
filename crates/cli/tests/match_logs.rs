//! `watchfire match` against the ground truth of the log generator (`cargo xtask gen-logs`):
//! exactly the injected malicious values match (exact addresses, addresses inside networks,
//! subdomains, URLs, hashes), no decoy does.

mod common;

#[path = "../../../xtask/src/gen_logs.rs"]
mod gen_logs;

use std::collections::BTreeSet;
use std::path::Path;

use common::{Running, watchfire};
use serde_json::Value;

/// Both shapes of the logs: every column Zeek writes by default and Suricata's usual members
/// (with referrer URLs, user agents, flow events), and the minimal one.
#[test]
fn match_reports_exactly_the_ground_truth() {
    for shape in [gen_logs::Shape::Full, gen_logs::Shape::Minimal] {
        let dir = tempfile::tempdir().unwrap();
        let options = gen_logs::Options { lines: 700, extra_indicators: 0, spread: 1, shape };
        gen_logs::generate_with(dir.path(), &options).unwrap();
        match_reports_the_ground_truth_in(dir.path(), shape);
    }
}

fn match_reports_the_ground_truth_in(dir: &Path, shape: gen_logs::Shape) {
    let data = dir.join("store").display().to_string();
    let indicators = dir.join("indicators.txt").display().to_string();
    let import = watchfire(&["--data", &data, "import", "--format", "freetext", &indicators], b"");
    assert!(import.ok(), "{}", import.stderr);
    let logs: Vec<String> = ["conn.log", "dns.log", "http.log", "eve.json"]
        .iter()
        .map(|name| dir.join(name).display().to_string())
        .collect();
    for threads in ["1", "3"] {
        let mut args = vec!["--data", &data, "match", "--json", "--threads", threads];
        args.extend(logs.iter().map(String::as_str));
        let run = watchfire(&args, b"");
        assert!(run.ok(), "{}", run.stderr);
        let mut lines: Vec<Value> =
            run.stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        let summary = lines.pop().expect("a summary line");
        assert_eq!(summary["summary"]["files"], 4);
        assert_eq!(summary["summary"]["lines"], 4 * 700 + 3 * 8 + 1);
        let found: BTreeSet<String> = lines
            .iter()
            .map(|hit| {
                let file = hit["file"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
                format!(
                    "{file}\t{}\t{}\t{}\t{}",
                    hit["line"],
                    hit["field"].as_str().unwrap(),
                    hit["value"].as_str().unwrap(),
                    hit["matched"]["value"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(found.len(), lines.len(), "one hit per value and field");
        let truth = std::fs::read_to_string(dir.join("truth.tsv")).unwrap();
        let truth: BTreeSet<String> = truth.lines().map(str::to_owned).collect();
        assert!(truth.len() > 300, "the generator injects enough values: {}", truth.len());
        let missed: Vec<_> = truth.difference(&found).collect();
        let extra: Vec<_> = found.difference(&truth).collect();
        assert!(
            missed.is_empty() && extra.is_empty(),
            "{shape:?} shape, threads {threads}: missed {missed:#?}\nextra {extra:#?}"
        );
        assert_eq!(summary["summary"]["hits"], lines.len());
    }
}

#[test]
fn gzip_logs_match_like_plain_ones() {
    use std::io::Write as _;

    let dir = tempfile::tempdir().unwrap();
    gen_logs::generate(dir.path(), 200).unwrap();
    let data = dir.path().join("store").display().to_string();
    let indicators = dir.path().join("indicators.txt").display().to_string();
    assert!(watchfire(&["--data", &data, "import", "--format", "freetext", &indicators], b"").ok());
    let plain = dir.path().join("dns.log");
    let packed = dir.path().join("dns.log.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&packed).unwrap(),
        flate2::Compression::fast(),
    );
    encoder.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    encoder.finish().unwrap();
    let hits = |path: &Path| -> Vec<String> {
        let run =
            watchfire(&["--data", &data, "match", "--json", &path.display().to_string()], b"");
        assert!(run.ok(), "{}", run.stderr);
        let mut lines: Vec<&str> = run.stdout.lines().collect();
        lines.pop();
        lines
            .iter()
            .map(|line| {
                let hit: Value = serde_json::from_str(line).unwrap();
                format!("{}\t{}\t{}", hit["line"], hit["field"], hit["value"])
            })
            .collect()
    };
    let expected = hits(&plain);
    assert!(!expected.is_empty());
    assert_eq!(hits(&packed), expected);
}

/// A store in a temporary directory listing the one address `192.0.2.77`: the directory (kept
/// while the test runs) and the store's path.
fn store_listing_one_address() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store").display().to_string();
    let indicators = dir.path().join("indicators.txt");
    std::fs::write(&indicators, "192.0.2.77\n").unwrap();
    let imported = watchfire(
        &["--data", &data, "import", "--format", "plain-ip", &indicators.display().to_string()],
        b"",
    );
    assert!(imported.ok(), "{}", imported.stderr);
    (dir, data)
}

/// `match --json --format FORMAT` of `log`, written to `name` in `dir`, against the store at
/// `data`: the hit lines and the summary line.
fn match_log(dir: &Path, data: &str, format: &str, name: &str, log: &[u8]) -> (Vec<Value>, Value) {
    let path = dir.join(name);
    std::fs::write(&path, log).unwrap();
    let run = watchfire(
        &["--data", data, "match", "--json", "--format", format, &path.display().to_string()],
        b"",
    );
    assert!(run.ok(), "{}", run.stderr);
    let mut lines: Vec<Value> =
        run.stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let summary = lines.pop().unwrap();
    (lines, summary)
}

/// EVE flow line `n` (1-9) from the listed address `192.0.2.77`.
fn eve_flow(n: u32) -> String {
    format!(
        "{{\"timestamp\":\"2026-01-01T00:00:0{n}Z\",\"event_type\":\"flow\",\"src_ip\":\"192.0.2.77\",\"dest_ip\":\"198.51.100.{n}\"}}\n"
    )
}

#[test]
fn bad_lines_are_skipped_and_counted_and_the_good_ones_still_match() {
    let (dir, data) = store_listing_one_address();
    let good = eve_flow;
    let mut log = Vec::new();
    log.extend_from_slice(good(1).as_bytes());
    log.extend_from_slice(b"\x00\x01\x02\xff\xfe binary 192.0.2.77 garbage\n");
    log.extend_from_slice(b"{\"src_ip\":\"192.0.2.77\",\"dest_ip\":\"\xc3\x28\"}\n");
    log.extend_from_slice(b"{\"event_type\":\"flow\",\"src_ip\":\"192.0.2.77\",\"dest_\n");
    log.extend_from_slice(b"\n");
    let mut long = b"{\"src_ip\":\"192.0.2.77\",\"pad\":\"".to_vec();
    long.extend(std::iter::repeat_n(b'a', 2 << 20));
    long.extend_from_slice(b"\"}\n");
    log.extend_from_slice(&long);
    log.extend_from_slice(good(2).as_bytes());
    let (hits, summary) = match_log(dir.path(), &data, "eve", "eve.json", &log);
    let hit_lines: Vec<u64> = hits.iter().map(|hit| hit["line"].as_u64().unwrap()).collect();
    assert_eq!(hit_lines, [1, 7], "{hits:?}");
    assert_eq!(summary["summary"]["lines"], 7);
    // Binary garbage, invalid UTF-8, truncated JSON and the over-long line; not the blank one.
    assert_eq!(summary["summary"]["skipped"], 4, "{summary}");
}

/// Hits in a log of many chunks, scanned by several workers that finish out of order, carry
/// their lines' numbers in the whole file (each worker numbers its chunk's lines from 1).
#[test]
fn hits_in_later_chunks_carry_their_lines_numbers_in_the_file() {
    let (dir, data) = store_listing_one_address();
    let mut log = String::new();
    let mut expected = Vec::new();
    let n_lines = 40_000;
    for n in 1..=n_lines {
        let source = if n % 997 == 0 || n == n_lines { "192.0.2.77" } else { "198.51.100.1" };
        if source == "192.0.2.77" {
            expected.push(n);
        }
        log.push_str(&format!(
            "{{\"timestamp\":\"2026-01-01T00:00:00Z\",\"event_type\":\"flow\",\"src_ip\":\"{source}\",\"dest_ip\":\"198.51.100.{}\",\"pad\":\"{}\"}}\n",
            n % 200,
            "x".repeat(n as usize % 90)
        ));
    }
    assert!(log.len() > 3 << 20, "several chunks: {}", log.len());
    let path = dir.path().join("eve.json");
    std::fs::write(&path, &log).unwrap();
    for threads in ["1", "3"] {
        let path = path.display().to_string();
        let run =
            watchfire(&["--data", &data, "match", "--json", "--threads", threads, &path], b"");
        assert!(run.ok(), "{}", run.stderr);
        let mut lines: Vec<Value> =
            run.stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        let summary = lines.pop().unwrap();
        assert_eq!(summary["summary"]["lines"], n_lines, "{summary}");
        let hit_lines: Vec<u64> = lines.iter().map(|hit| hit["line"].as_u64().unwrap()).collect();
        assert_eq!(hit_lines, expected, "{threads} threads");
        // The readable output numbers the same lines.
        let run = watchfire(&["--data", &data, "match", "--threads", threads, &path], b"");
        let numbers: Vec<u64> = run
            .stdout
            .lines()
            .filter_map(|line| line.strip_prefix(&format!("{path}:")))
            .map(|rest| rest.split(':').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(numbers, expected, "{threads} threads, readable");
    }
}

/// The Zeek TSV path cuts lines and fields from masks of whole blocks: a line of garbage, one
/// with far more fields than the header, one cut short and one over the length cap each end where
/// they should, and the lines after them keep their numbers and their fields.
#[test]
fn bad_zeek_lines_are_skipped_and_counted_and_the_fields_after_them_still_line_up() {
    let (dir, data) = store_listing_one_address();
    let mut log = Vec::new();
    log.extend_from_slice(b"#separator \\x09\n");
    log.extend_from_slice(b"#fields\tts\tuid\tid.orig_h\tid.resp_h\n");
    log.extend_from_slice(b"#types\ttime\tstring\taddr\taddr\n");
    log.extend_from_slice(b"1.0\tC1\t192.0.2.77\t10.0.0.1\n");
    log.extend_from_slice(b"\x00\x01\t\xff\xfe\t192.0.2.77\tgarbage\n");
    // The address lies in the 5 004th field, past the header's four columns.
    let mut wide = b"2.0\tC2\t10.0.0.2\t10.0.0.3".to_vec();
    wide.extend(std::iter::repeat_n(b'\t', 5000));
    wide.extend_from_slice(b"192.0.2.77\n");
    log.extend_from_slice(&wide);
    log.extend_from_slice(b"3.0\tC3\n");
    let mut long = b"4.0\tC4\t192.0.2.77\t".to_vec();
    long.extend(std::iter::repeat_n(b'a', 2 << 20));
    long.push(b'\n');
    log.extend_from_slice(&long);
    log.extend_from_slice(b"5.0\tC5\t10.0.0.9\t192.0.2.77\n");
    let (hits, summary) = match_log(dir.path(), &data, "zeek", "conn.log", &log);
    let found: Vec<(u64, &str)> = hits
        .iter()
        .map(|hit| (hit["line"].as_u64().unwrap(), hit["field"].as_str().unwrap()))
        .collect();
    assert_eq!(found, [(4, "id.orig_h"), (9, "id.resp_h")], "{hits:?}");
    assert_eq!(summary["summary"]["lines"], 9);
    // The invalid UTF-8 and the over-long line.
    assert_eq!(summary["summary"]["skipped"], 2, "{summary}");
}

/// A sensor's pipe stays open for hours: each line must be matched as it comes, not when a chunk
/// fills or the pipe closes. Both standard input and a named pipe given as a file.
#[test]
fn lines_from_a_pipe_are_matched_while_it_stays_open() {
    let (dir, data) = store_listing_one_address();
    let fifo = dir.path().join("eve.pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    for source in ["-", fifo.to_str().unwrap()] {
        let mut run =
            Running::start(&["--data", &data, "match", "--json", "--format", "eve", source]);
        // Opening a named pipe for writing waits for its reader: `match` itself.
        let mut fifo_input =
            (source != "-").then(|| std::fs::OpenOptions::new().write(true).open(&fifo).unwrap());
        for n in 1..=2 {
            match &mut fifo_input {
                Some(fifo_input) => {
                    use std::io::Write as _;
                    fifo_input.write_all(eve_flow(n).as_bytes()).unwrap();
                }
                None => run.write(&eve_flow(n)),
            }
            let hit: Value =
                serde_json::from_str(&run.next_line(&format!("{source} line {n}"))).unwrap();
            assert_eq!(
                (hit["line"].as_u64(), hit["value"].as_str()),
                (Some(n.into()), Some("192.0.2.77"))
            );
        }
        drop(fifo_input);
        let (rest, ok) = run.finish();
        assert!(ok);
        let summary: Value = serde_json::from_str(&rest.concat()).unwrap();
        assert_eq!(
            (summary["summary"]["lines"].as_u64(), summary["summary"]["hits"].as_u64()),
            (Some(2), Some(2))
        );
    }
}

/// A compressed log cut short (a gzip whose end is missing): the whole lines before the cut are
/// matched and counted, across chunks, the line the cut went through is skipped, and the
/// command names the file and fails.
#[test]
fn a_truncated_gzip_log_matches_its_whole_lines_and_fails_naming_the_file() {
    use std::io::{Read as _, Write as _};

    let (dir, data) = store_listing_one_address();
    let hit_lines: [u32; 2] = [3, 11_000];
    let mut log = String::new();
    for n in 1..=20_000 {
        let source = if hit_lines.contains(&n) { "192.0.2.77" } else { "198.51.100.1" };
        log.push_str(&format!(
            "{{\"timestamp\":\"2026-01-01T00:00:00Z\",\"event_type\":\"flow\",\"src_ip\":\"{source}\",\"dest_ip\":\"203.0.113.{}\",\"n\":{n}}}\n",
            n % 250
        ));
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(log.as_bytes()).unwrap();
    let packed = encoder.finish().unwrap();
    let cut = &packed[..packed.len() * 6 / 10];
    // What a reader gets out of the cut stream before it fails: its whole lines are the ones
    // to match.
    let mut decoded = Vec::new();
    let mut decoder = flate2::read::MultiGzDecoder::new(cut);
    assert!(decoder.read_to_end(&mut decoded).is_err());
    let whole_lines = decoded.iter().filter(|byte| **byte == b'\n').count() as u64;
    assert!(whole_lines > 11_000 && whole_lines < 20_000, "{whole_lines}");
    assert!(log.len() > 1 << 20, "more than one chunk");

    let path = dir.path().join("eve.json.gz");
    std::fs::write(&path, cut).unwrap();
    let run = watchfire(&["--data", &data, "match", "--json", &path.display().to_string()], b"");
    assert!(!run.ok(), "a log cut short fails the command");
    assert!(
        run.stderr.contains("cannot read") && run.stderr.contains("eve.json.gz"),
        "{}",
        run.stderr
    );
    let mut lines: Vec<Value> =
        run.stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let summary = lines.pop().unwrap();
    let found: Vec<u64> = lines.iter().map(|hit| hit["line"].as_u64().unwrap()).collect();
    assert_eq!(found, hit_lines.map(u64::from), "{lines:?}");
    assert_eq!(summary["summary"]["lines"], whole_lines + 1, "{summary}");
    assert_eq!(summary["summary"]["skipped"], 1, "{summary}");
    assert_eq!(summary["summary"]["hits"], 2, "{summary}");
}
