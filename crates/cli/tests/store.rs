//! End-to-end tests of `watchfire import` storing into the log and `watchfire stats`, on the
//! embedded store and on PostgreSQL (the private cluster `cargo xtask test` starts).

mod common;

use std::path::Path;

use common::{Running, fixture, watchfire};
use serde_json::Value;

/// Every fixture file (a few are no feeds, such as the MISP feed manifest and the warninglist
/// schema, or need `--format`: `import` reports them as unreadable files).
fn fixture_files() -> Vec<String> {
    let root = fixture("");
    let mut files = Vec::new();
    let mut folders = vec![std::path::PathBuf::from(&root)];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("fixture folder") {
            let path = entry.expect("fixture entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.file_name().is_some_and(|name| name != "SOURCES.md") {
                files.push(path.display().to_string());
            }
        }
    }
    files.sort();
    files
}

fn data_args(dir: &Path) -> Vec<String> {
    vec!["--data".to_owned(), dir.display().to_string()]
}

fn run_with(location: &[String], args: &[&str]) -> common::Run {
    let mut all: Vec<&str> = location.iter().map(String::as_str).collect();
    all.extend(args);
    watchfire(&all, b"")
}

fn summary(stdout: &str) -> Value {
    let last = stdout.lines().last().expect("a summary line");
    serde_json::from_str(last).expect("JSON summary")
}

#[test]
fn importing_stores_and_reimporting_adds_no_version() {
    let dir = tempfile::tempdir().unwrap();
    let location = data_args(dir.path());
    for file in [
        "abusech-urlhaus/csv_recent.csv",
        "misp-event/5a0ac036-6fbc-4855-83af-422b950d210f.json",
        "stix21/indicators-for-C2-with-COA.json",
        "spamhaus-drop/drop.txt",
        "tor-exit-nodes/exit-addresses",
        "shadowserver/scan_rdp.csv",
        "plain-ip-list/blocklist-de_imap.txt",
        "misp-warninglists/rfc1918/list.json",
    ] {
        let path = fixture(file);
        let first = run_with(&location, &["import", "--json", &path]);
        assert!(first.ok(), "{file}: {}", first.stderr);
        let first = summary(&first.stdout);
        let records = first["records"].as_u64().unwrap();
        let new = first["new_versions"].as_u64().unwrap();
        assert!(records > 0 && new > 0, "{file}: {first}");
        let again = run_with(&location, &["import", "--json", &path]);
        assert!(again.ok(), "{file}: {}", again.stderr);
        assert_eq!(summary(&again.stdout)["new_versions"], 0, "{file}: re-import");
    }
    let stats = run_with(&location, &["stats", "--json"]);
    assert!(stats.ok(), "{}", stats.stderr);
    let stats: Value = serde_json::from_str(&stats.stdout).unwrap();
    for kind in [
        "indicator",
        "x-watchfire-host-event",
        "x-watchfire-benign",
        "course-of-action",
        "marking-definition",
    ] {
        assert!(stats["by_type"][kind].as_u64().unwrap_or(0) > 0, "{kind}: {stats}");
    }
    assert!(stats["claims_by_kind"]["url"].as_u64().unwrap() > 0);
    assert!(stats["by_source"]["abusech-urlhaus"].as_u64().unwrap() > 0);
}

#[test]
fn source_and_tlp_options_apply_to_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let location = data_args(dir.path());
    let path = fixture("plain-ip-list/blocklist-de_imap.txt");
    let run = run_with(&location, &["import", "--source", "my-feed", "--tlp", "amber", &path]);
    assert!(run.ok(), "{}", run.stderr);
    assert!(run.stdout.contains("stored: "), "{}", run.stdout);
    let stats = run_with(&location, &["stats", "--json"]);
    let stats: Value = serde_json::from_str(&stats.stdout).unwrap();
    let indicators = stats["by_type"]["indicator"].as_u64().unwrap();
    assert_eq!(stats["by_tlp"]["amber"].as_u64(), Some(indicators));
    assert!(stats["by_source"]["my-feed"].as_u64().unwrap() >= indicators);
    let bad = run_with(&location, &["import", "--tlp", "purple", &path]);
    assert_eq!(bad.code, Some(2));
    assert!(bad.stderr.contains("--tlp \"purple\" is no TLP level"), "{}", bad.stderr);
}

#[test]
fn the_readable_stats_list_counts_by_type_source_and_tlp() {
    let dir = tempfile::tempdir().unwrap();
    let location = data_args(dir.path());
    let path = fixture("abusech-urlhaus/csv_recent.csv");
    assert!(run_with(&location, &["import", &path]).ok());
    let run = run_with(&location, &["stats"]);
    assert!(run.ok(), "{}", run.stderr);
    for line in
        ["log: last sequence number ", "  by type:", "    indicator ", "  by TLP:", "claims: "]
    {
        assert!(run.stdout.contains(line), "{line:?} in {}", run.stdout);
    }
}

#[test]
fn a_store_of_a_newer_schema_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let location = data_args(dir.path());
    let path = fixture("plain-ip-list/blocklist-de_imap.txt");
    assert!(run_with(&location, &["import", &path]).ok());
    let db = dir.path().join("watchfire.db");
    {
        let connection = rusqlite::Connection::open(&db).unwrap();
        connection
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA user_version = 99;")
            .unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    for args in [&["import", path.as_str()][..], &["stats"][..]] {
        let run = run_with(&location, args);
        assert_eq!(run.code, Some(1), "{args:?}");
        assert!(
            run.stderr.contains("schema version 99, newer than this watchfire's"),
            "{}",
            run.stderr
        );
        assert_eq!(run.stdout, "");
    }
    assert_eq!(std::fs::read(&db).unwrap(), before, "the file is untouched");
}

#[test]
fn a_corrupt_store_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let location = data_args(dir.path());
    let db = dir.path().join("watchfire.db");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&db, &garbage).unwrap();
    let run = run_with(&location, &["import", &fixture("plain-ip-list/blocklist-de_imap.txt")]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("the store is corrupt or not a watchfire store"), "{}", run.stderr);
    assert_eq!(std::fs::read(&db).unwrap(), garbage);
}

/// The acceptance check of the two backends: the same fixtures give the same stats.
#[test]
fn all_fixtures_give_identical_stats_on_sqlite_and_postgresql() {
    let files = fixture_files();
    let file_args: Vec<&str> = files.iter().map(String::as_str).collect();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = data_args(dir.path());
    let postgres = vec!["--database".to_owned(), fresh_postgres_database()];
    let mut outputs = Vec::new();
    for location in [&sqlite, &postgres] {
        let mut args = vec!["import", "--json"];
        args.extend(&file_args);
        let run = run_with(location, &args);
        // A few fixture files are not feeds or need --format: exit 1 after the rest.
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        let stats = run_with(location, &["stats", "--json"]);
        assert!(stats.ok(), "{}", stats.stderr);
        outputs.push((run.stdout, run.stderr, stats.stdout));
    }
    assert_eq!(outputs[0].0, outputs[1].0, "import summaries");
    assert_eq!(outputs[0].1, outputs[1].1, "unreadable files");
    assert_eq!(outputs[0].2, outputs[1].2, "stats");
    let stats: Value = serde_json::from_str(&outputs[0].2).unwrap();
    assert!(stats["objects"].as_u64().unwrap() > 1000, "{stats}");
}

fn fresh_postgres_database() -> String {
    let admin = std::env::var("WATCHFIRE_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!("WATCHFIRE_TEST_POSTGRES is not set: run the tests with `cargo xtask test`")
    });
    let name = format!("wf_cli_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
    let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("test cluster");
    client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create database");
    let (base, _) = admin.rsplit_once('/').expect("the URL names a database");
    format!("{base}/{name}")
}

/// The match index's cache file is for SQLite stores only: with PostgreSQL the data directory
/// is left alone and every run builds from the database.
#[test]
fn a_postgresql_node_writes_no_index_cache() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    let url = fresh_postgres_database();
    let list = dir.path().join("list.txt");
    std::fs::write(&list, "192.0.2.77\n").unwrap();
    let list = list.display().to_string();
    let location = ["--data", &data, "--database", &url];
    let import =
        watchfire(&[&location[..], &["import", "--format", "plain-ip", &list]].concat(), b"");
    assert!(import.ok(), "{}", import.stderr);
    for _ in 0..2 {
        let lookup = watchfire(&[&location[..], &["lookup", "192.0.2.77"]].concat(), b"");
        assert!(lookup.stdout.contains("1 hit"), "{}{}", lookup.stdout, lookup.stderr);
    }
    assert!(!dir.path().join("index.snapshot").exists());
}

/// Two processes on one PostgreSQL: a follower here waits on the log while a `watchfire import`
/// process appends; LISTEN/NOTIFY wakes it, long before its timeout.
#[test]
fn a_follower_process_is_woken_by_an_import_in_another_process() {
    use watchfire_store::{PostgresStore, Store};

    let url = fresh_postgres_database();
    let follower = PostgresStore::connect(&url).expect("connect");
    // Listening before the other process starts.
    assert_eq!(follower.wait(0, std::time::Duration::from_millis(1)).unwrap(), 0);
    let path = fixture("abusech-urlhaus/csv_recent.csv");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_watchfire"))
        .args(["--database", &url, "import", "--json", &path])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start watchfire import");
    let started = std::time::Instant::now();
    let seq = follower.wait(0, std::time::Duration::from_secs(60)).unwrap();
    let waited = started.elapsed();
    let status = child.wait_with_output().expect("import finishes").status;
    assert!(status.success());
    assert!(seq > 0, "woken with the import's entries");
    assert!(waited < std::time::Duration::from_secs(30), "woken by the notification: {waited:?}");
}

/// Regression: a STIX bundle's indicators were stored twice, as they came and again as the
/// indicator records the STIX reader derives from them (with watchfire's ids).
#[test]
fn a_stix_bundle_stores_each_indicator_once_with_the_category_of_its_labels() {
    let dir = tempfile::tempdir().unwrap();
    let location = data_args(dir.path());
    let path = fixture("stix21/feeds2stix_cinsscore_bundle.json");
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let in_file = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|object| object["type"] == "indicator")
        .count();
    assert!(in_file > 1);
    let imported = run_with(&location, &["import", "--json", &path]);
    assert!(imported.ok(), "{}", imported.stderr);
    let stats = run_with(&location, &["stats", "--json"]);
    let stats: Value = serde_json::from_str(&stats.stdout).unwrap();
    assert_eq!(stats["by_type"]["indicator"].as_u64().unwrap(), in_file as u64, "{stats}");
    assert_eq!(
        stats["claims"].as_u64().unwrap(),
        in_file as u64,
        "one claim per indicator: {stats}"
    );
}

/// A feed piped in as it is written (a script relaying a vendor's stream): each line is stored
/// while the pipe stays open, not when a batch of 100 000 fills or the pipe closes. `lookup`
/// reads the store meanwhile.
#[test]
fn records_from_a_pipe_are_stored_while_it_stays_open() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    let mut run =
        Running::start(&["--data", &data, "import", "--json", "--format", "plain-ip", "-"]);
    for address in ["192.0.2.1", "192.0.2.2"] {
        run.write(&format!("{address}\n"));
        // Generous for a loaded machine: a record held until the pipe closes never shows.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let lookup = watchfire(&["--data", &data, "lookup", "--json", address], b"");
            let answer: Value = serde_json::from_str(lookup.stdout.trim()).unwrap_or_default();
            if answer["hits"].as_array().is_some_and(|hits| !hits.is_empty()) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{address} is not stored 30 s after it was written: {}{}",
                lookup.stdout,
                lookup.stderr
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    let (lines, ok) = run.finish();
    assert!(ok, "{lines:?}");
    let summary: Value = serde_json::from_str(lines.last().expect("a summary line")).unwrap();
    assert_eq!(summary["records"], 2, "{summary}");
}
