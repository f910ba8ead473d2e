//! The match index's cache file (`index.snapshot` in the data directory) through the real
//! binary: the first `match` writes it, the next one loads it; a new import, a score refresh or
//! a damaged file makes the next run build again with the store's current answers; `--no-cache`
//! neither reads nor writes it; a file that cannot be replaced costs warnings, not the command.

mod common;

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use common::{Run, watchfire, watchfire_with_env};
use serde_json::Value;
use watchfire_store::Store as _;

const LOG: &str = "accepted from 192.0.2.77 port 22\n\
                   accepted from 198.51.100.9 port 22\n\
                   dropped 203.0.113.5\n";

struct Node {
    dir: tempfile::TempDir,
    data: String,
}

impl Node {
    fn new() -> Node {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("store").display().to_string();
        let node = Node { dir, data };
        node.import("192.0.2.77\n");
        std::fs::write(node.dir.path().join("auth.log"), LOG).unwrap();
        node
    }

    fn cache(&self) -> PathBuf {
        Path::new(&self.data).join("index.snapshot")
    }

    fn import(&self, list: &str) {
        let path = self.dir.path().join("list.txt");
        std::fs::write(&path, list).unwrap();
        let path = path.display().to_string();
        let run = watchfire(&["--data", &self.data, "import", "--format", "plain-ip", &path], b"");
        assert!(run.ok(), "{}", run.stderr);
    }

    /// Runs `match --json` on the log with `extra` arguments, logging at debug level.
    fn scan(&self, extra: &[&str]) -> Run {
        let log = self.dir.path().join("auth.log").display().to_string();
        let mut args = vec!["--data", &self.data, "match", "--json", "--format", "text"];
        args.extend(extra);
        args.push(&log);
        let run = watchfire_with_env(&args, &[("WATCHFIRE_LOG", "watchfire=debug")], b"");
        assert!(run.ok(), "{}", run.stderr);
        run
    }

    /// The matched values of a scan, in line order.
    fn hits(&self, extra: &[&str]) -> Vec<String> {
        let run = self.scan(extra);
        let mut lines: Vec<Value> =
            run.stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        lines.pop();
        lines.iter().map(|hit| hit["matched"]["value"].as_str().unwrap().to_owned()).collect()
    }

    fn score(&self, value: &str) -> u64 {
        let run = watchfire(&["--data", &self.data, "lookup", "--json", value], b"");
        assert!(run.ok(), "{}", run.stderr);
        let answer: Value = serde_json::from_str(run.stdout.trim()).unwrap();
        answer["hits"][0]["claims"][0]["score"].as_u64().unwrap()
    }

    /// The cache file's identity: a rewrite (a new file renamed over it) changes it.
    fn cache_identity(&self) -> (u64, i64, i64) {
        let metadata = std::fs::metadata(self.cache()).unwrap();
        (metadata.ino(), metadata.mtime(), metadata.mtime_nsec())
    }
}

#[test]
fn the_first_match_writes_the_cache_and_the_next_one_loads_it() {
    let node = Node::new();
    let first = node.scan(&[]);
    assert!(first.stderr.contains("built the match index"), "{}", first.stderr);
    let written = node.cache_identity();
    let second = node.scan(&[]);
    assert!(second.stderr.contains("loaded the match index"), "{}", second.stderr);
    assert_eq!(node.cache_identity(), written, "a loaded file is not written again");
    assert_eq!(node.hits(&[]), ["192.0.2.77"]);
}

#[test]
fn a_new_import_rebuilds_the_cache_and_its_indicator_hits() {
    let node = Node::new();
    assert_eq!(node.hits(&[]), ["192.0.2.77"]);
    let written = node.cache_identity();
    node.import("203.0.113.5\n");
    let run = node.scan(&[]);
    assert!(run.stderr.contains("built the match index"), "{}", run.stderr);
    assert_ne!(node.cache_identity(), written);
    assert_eq!(node.hits(&[]), ["192.0.2.77", "203.0.113.5"]);
}

#[test]
fn a_score_refresh_rebuilds_the_cache_with_the_new_score() {
    let node = Node::new();
    let fresh = node.score("192.0.2.77");
    assert!(fresh > 0);
    assert_eq!(node.score("192.0.2.77"), fresh, "from the cache");
    // A month later an address's score (half-life 14 days) has dropped to a quarter or so.
    let store =
        watchfire_store::SqliteStore::open(&Path::new(&node.data).join("watchfire.db")).unwrap();
    let month = 30 * 86_400 * 1_000_000;
    assert_eq!(store.refresh_scores(watchfire_store::now_micros() + month).unwrap(), 1);
    drop(store);
    let decayed = node.score("192.0.2.77");
    assert!(decayed < fresh / 2, "{decayed} after {fresh}");
}

#[test]
fn a_damaged_cache_gives_the_same_hits_as_none_and_is_rewritten() {
    let node = Node::new();
    let expected = node.hits(&["--no-cache"]);
    assert_eq!(expected, ["192.0.2.77"]);
    node.scan(&[]);
    let mut bytes = std::fs::read(node.cache()).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(node.cache(), &bytes).unwrap();
    let run = node.scan(&[]);
    assert!(
        run.stderr.contains("warning: index cache") && run.stderr.contains("checksum"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("built the match index"), "{}", run.stderr);
    assert_eq!(node.hits(&[]), expected);
    assert!(node.scan(&[]).stderr.contains("loaded the match index"));
    // Not even an index cache.
    std::fs::write(node.cache(), b"hello").unwrap();
    assert_eq!(node.hits(&[]), expected);
}

#[test]
fn no_cache_neither_reads_nor_writes_the_file() {
    let node = Node::new();
    let run = node.scan(&["--no-cache"]);
    assert!(run.stderr.contains("built the match index"), "{}", run.stderr);
    let lookup = watchfire(&["--data", &node.data, "lookup", "--no-cache", "192.0.2.77"], b"");
    assert!(lookup.ok(), "{}", lookup.stderr);
    assert!(!node.cache().exists());
}

#[test]
fn a_cache_that_cannot_be_replaced_costs_warnings_not_the_command() {
    let node = Node::new();
    // A directory where the file should be: it can be neither read nor replaced.
    std::fs::create_dir_all(node.cache()).unwrap();
    let run = node.scan(&[]);
    let warnings: Vec<&str> = run.stderr.lines().filter(|line| line.contains("warning")).collect();
    assert_eq!(warnings.len(), 2, "{}", run.stderr);
    assert!(warnings[1].contains("not written"), "{}", run.stderr);
    assert_eq!(node.hits(&[]), ["192.0.2.77"]);
}
