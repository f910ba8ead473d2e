//! End-to-end tests of `watchfire feeds`: the catalogue lists every built-in feed; sources are
//! added, enabled from the catalogue, pulled from a loopback server, listed with their health and
//! removed.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use watchfire_formats::catalogue;

fn watchfire(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_watchfire")).args(args).output().expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8 output")
}

#[test]
fn json_prints_one_object_per_feed_with_every_field() {
    let stdout = watchfire(&["feeds", "catalogue", "--json"]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), catalogue::catalogue().len());
    for (line, entry) in lines.iter().zip(catalogue::catalogue()) {
        let parsed: catalogue::CatalogueEntry = serde_json::from_str(line).expect("an entry");
        assert_eq!(&parsed, entry);
    }
    let feodo =
        lines.iter().find(|line| line.contains(r#""name":"abusech-feodotracker-ipblocklist""#));
    assert_eq!(
        feodo,
        Some(
            &r#"{"name":"abusech-feodotracker-ipblocklist","provider":"abuse.ch","description":"Feodo Tracker: botnet C2 servers (Dridex, Emotet, QakBot, ...) with port and malware","url":"https://feodotracker.abuse.ch/downloads/ipblocklist.csv","format":"abusech-feodotracker","terms":"CC0 1.0 (abuse.ch terms of use)","tlp":"TLP:CLEAR","category":"botnet_c2","confidence":95,"refresh":300,"api_key":false}"#
        )
    );
}

#[test]
fn the_table_has_a_header_and_a_row_per_feed() {
    let stdout = watchfire(&["feeds", "catalogue"]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("NAME "), "{}", lines[0]);
    assert_eq!(lines.len(), catalogue::catalogue().len() + 1);
    for (line, entry) in lines[1..].iter().zip(catalogue::catalogue()) {
        assert!(line.starts_with(&format!("{} ", entry.name)), "{line}");
        assert!(line.ends_with(&entry.url), "{line}");
    }
}

/// A loopback HTTP server answering every request with the current reply (status, body, ETag),
/// honouring `If-None-Match`, and keeping the request heads it got.
struct Feed {
    url: String,
    reply: Arc<Mutex<(u16, Vec<u8>)>>,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Feed {
    fn start(body: Vec<u8>) -> Feed {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/feed.csv", listener.local_addr().unwrap());
        let reply = Arc::new(Mutex::new((200, body)));
        let heads: Arc<Mutex<Vec<String>>> = Arc::default();
        let (thread_reply, thread_heads) = (Arc::clone(&reply), Arc::clone(&heads));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                while reader.read_line(&mut head).unwrap_or(0) > 2 && !head.ends_with("\r\n\r\n") {}
                thread_heads.lock().unwrap().push(head.to_ascii_lowercase());
                let (status, body) = thread_reply.lock().unwrap().clone();
                let status = match head.to_ascii_lowercase().contains("if-none-match: \"v1\"") {
                    true => 304,
                    false => status,
                };
                let body = if status == 304 { Vec::new() } else { body };
                let answer = format!(
                    "HTTP/1.1 {status} X\r\nConnection: close\r\nETag: \"v1\"\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        Feed { url, reply, heads }
    }
}

fn run_in(data: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_watchfire"))
        .arg("--data")
        .arg(data)
        .args(args)
        .envs(envs.iter().copied())
        .env_remove("WATCHFIRE_DATABASE")
        .output()
        .expect("runs")
}

fn ok_in(data: &Path, args: &[&str]) -> String {
    let output = run_in(data, args, &[]);
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn list_json(data: &Path) -> Vec<serde_json::Value> {
    ok_in(data, &["feeds", "list", "--json"])
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn urlhaus() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/feeds/abusech-urlhaus/csv_recent.csv"
    );
    std::fs::read(path).unwrap()
}

#[test]
fn add_run_list_and_remove_a_source() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let feed = Feed::start(urlhaus());
    ok_in(
        data,
        &[
            "feeds",
            "add",
            "urlhaus",
            "--kind",
            "http",
            "--url",
            &feed.url,
            "--format",
            "abusech-urlhaus",
            "--interval",
            "30m",
            "--tlp",
            "green",
            "--reliability",
            "b",
        ],
    );
    let report: serde_json::Value =
        serde_json::from_str(&ok_in(data, &["feeds", "run", "urlhaus", "--json"])).unwrap();
    assert_eq!(
        (report["records"].as_u64(), report["not_modified"].as_bool()),
        (Some(10), Some(false))
    );
    assert_eq!(
        ok_in(data, &["feeds", "run", "urlhaus"]),
        "urlhaus: not modified, nothing stored\n"
    );
    assert!(feed.heads.lock().unwrap()[1].contains("if-none-match: \"v1\""));

    let listed = list_json(data);
    assert_eq!(listed.len(), 1);
    let row = &listed[0];
    assert_eq!((row["name"].as_str(), row["kind"].as_str()), (Some("urlhaus"), Some("http")));
    assert_eq!((row["records"].as_u64(), row["failures"].as_u64()), (Some(10), Some(0)));
    assert_eq!(
        (row["interval_secs"].as_u64(), row["tlp"].as_str()),
        (Some(1800), Some("TLP:GREEN"))
    );
    assert_eq!(row["reliability"], "B");
    assert!(row["last_success"].as_str().is_some_and(|time| time.ends_with('Z')));
    assert!(row["last_error"].is_null());

    // A failing pull exits 1 with the source and the reason, and the health keeps it.
    *feed.reply.lock().unwrap() = (404, Vec::new());
    ok_in(data, &["feeds", "remove", "urlhaus"]);
    ok_in(data, &["feeds", "add", "urlhaus", "--kind", "http", "--url", &feed.url]);
    let failed = run_in(data, &["feeds", "run", "urlhaus"], &[]);
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.starts_with("watchfire: feeds run: urlhaus: ") && stderr.contains("HTTP 404"),
        "{stderr}"
    );
    let row = &list_json(data)[0];
    assert_eq!(row["failures"].as_u64(), Some(1));
    assert!(row["last_error"].as_str().is_some_and(|error| error.contains("HTTP 404")));
    let table = ok_in(data, &["feeds", "list"]);
    assert!(
        table.starts_with("NAME ") && table.lines().nth(1).unwrap().starts_with("urlhaus "),
        "{table}"
    );

    ok_in(data, &["feeds", "remove", "urlhaus"]);
    assert!(list_json(data).is_empty());
    let again = run_in(data, &["feeds", "remove", "urlhaus"], &[]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("no source named \"urlhaus\""));
}

#[test]
fn enable_makes_a_catalogue_entry_a_source_and_asks_for_keys() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok_in(data, &["feeds", "enable", "abusech-feodotracker-ipblocklist"]);
    let row = &list_json(data)[0];
    assert_eq!(row["format"].as_str(), Some("abusech-feodotracker"));
    assert_eq!((row["interval_secs"].as_u64(), row["enabled"].as_bool()), (Some(300), Some(true)));
    ok_in(data, &["feeds", "disable", "abusech-feodotracker-ipblocklist"]);
    assert_eq!(list_json(data)[0]["enabled"].as_bool(), Some(false));

    let keyed = catalogue::catalogue().iter().find(|entry| entry.api_key).expect("a keyed entry");
    let refused = run_in(data, &["feeds", "enable", &keyed.name], &[]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("needs an API key") && stderr.contains("--token-env"), "{stderr}");
    ok_in(data, &["feeds", "enable", &keyed.name, "--token-env", "KEY_VAR"]);
    assert_eq!(list_json(data).len(), 2);

    let unknown = run_in(data, &["feeds", "enable", "no-such-feed"], &[]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no source or catalogue entry"));
}

#[test]
fn credentials_come_from_the_environment_and_are_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let feed = Feed::start(urlhaus());
    ok_in(
        data,
        &[
            "feeds",
            "add",
            "keyed",
            "--kind",
            "http",
            "--url",
            &feed.url,
            "--format",
            "abusech-urlhaus",
            "--token-env",
            "WATCHFIRE_TEST_FEED_KEY",
            "--token-header",
            "Auth-Key",
        ],
    );
    let secret = "s3cr3t-value-1234";
    let pulled = run_in(data, &["feeds", "run", "keyed"], &[("WATCHFIRE_TEST_FEED_KEY", secret)]);
    assert!(pulled.status.success(), "{}", String::from_utf8_lossy(&pulled.stderr));
    assert!(feed.heads.lock().unwrap()[0].contains(&format!("auth-key: {secret}")));
    // Neither the listing nor the store's files hold the value.
    let listing = ok_in(data, &["feeds", "list", "--json"]);
    assert!(!listing.contains(secret) && listing.contains("\"auth\":\"token\""), "{listing}");
    for entry in std::fs::read_dir(data).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(secret.len()).any(|window| window == secret.as_bytes()));
    }
    // Without the variable: the error names it.
    let missing = run_in(data, &["feeds", "run", "keyed"], &[]);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("environment variable WATCHFIRE_TEST_FEED_KEY is not set"), "{stderr}");
}

#[test]
fn bad_arguments_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let cases: [(&[&str], &str); 5] = [
        (
            &["feeds", "add", "x", "--kind", "ftp", "--url", "http://127.0.0.1/"],
            "unknown source kind",
        ),
        (
            &["feeds", "add", "x y", "--kind", "http", "--url", "http://127.0.0.1/"],
            "bad source name",
        ),
        (&["feeds", "add", "x", "--kind", "http", "--url", "file:///etc/passwd"], "is not http"),
        (
            &[
                "feeds",
                "add",
                "x",
                "--kind",
                "http",
                "--url",
                "http://127.0.0.1/",
                "--interval",
                "0s",
            ],
            "bad duration",
        ),
        (&["feeds", "run", "nothing"], "no source named \"nothing\""),
    ];
    for (args, expected) in cases {
        let output = run_in(data, args, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success() && stderr.contains(expected), "{args:?}: {stderr}");
    }
}

// One HTTP/1.1 request to the node; returns the whole answer (head and body).
fn request(address: &str, method: &str, path: &str, token: Option<&str>) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).ok()?;
    let authorization =
        token.map(|token| format!("Authorization: Bearer {token}\r\n")).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{authorization}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).ok()?;
    Some(answer)
}

fn answer_json(answer: &str) -> serde_json::Value {
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    serde_json::from_str(body).unwrap_or_else(|error| panic!("{error}: {answer}"))
}

/// Kills the server when the test ends, even on a failed assertion.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_pulls_due_sources_and_the_api_shows_their_health_and_runs_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let init = run_in(data, &["admin", "init", "--org", "my-cert"], &[]);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let token = String::from_utf8_lossy(&init.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("token:").map(|token| token.trim().to_owned()))
        .expect("admin init prints a token");
    let feed = Feed::start(urlhaus());
    ok_in(
        data,
        &[
            "feeds",
            "add",
            "urlhaus",
            "--kind",
            "http",
            "--url",
            &feed.url,
            "--format",
            "abusech-urlhaus",
        ],
    );

    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let address = format!("127.0.0.1:{port}");
    let _server = Killed(
        Command::new(env!("CARGO_BIN_EXE_watchfire"))
            .env_remove("WATCHFIRE_DATABASE")
            .arg("--data")
            .arg(data)
            .args(["serve", "--listen", &address])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    // The scheduler pulls the new source at once: its health shows the records.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let sources = loop {
        let listed = request(&address, "GET", "/api/v1/feeds", Some(&token));
        if let Some(answer) = listed.filter(|answer| answer.starts_with("HTTP/1.1 200")) {
            let sources = answer_json(&answer)["sources"].clone();
            if sources[0]["records"].as_u64() == Some(10) {
                break sources;
            }
        }
        assert!(std::time::Instant::now() < deadline, "the scheduler did not pull in 60 s");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(sources[0]["name"], "urlhaus");
    assert_eq!(sources[0]["failures"], 0);
    assert!(sources[0]["next_due"].as_str().is_some());

    let run = request(&address, "POST", "/api/v1/feeds/urlhaus/run", Some(&token)).unwrap();
    let report = answer_json(&run);
    assert_eq!(
        (report["ok"].as_bool(), report["report"]["not_modified"].as_bool()),
        (Some(true), Some(true)),
        "{run}"
    );
    let missing = request(&address, "POST", "/api/v1/feeds/nothing/run", Some(&token)).unwrap();
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    let anonymous = request(&address, "GET", "/api/v1/feeds", None).unwrap();
    assert!(anonymous.starts_with("HTTP/1.1 401"), "{anonymous}");

    // A failed pull is an outcome: ok false with the reason.
    *feed.reply.lock().unwrap() = (404, Vec::new());
    ok_in(data, &["feeds", "remove", "urlhaus"]);
    ok_in(data, &["feeds", "add", "urlhaus", "--kind", "http", "--url", &feed.url, "--disabled"]);
    let failed =
        answer_json(&request(&address, "POST", "/api/v1/feeds/urlhaus/run", Some(&token)).unwrap());
    assert_eq!(failed["ok"], false);
    assert!(failed["error"].as_str().is_some_and(|error| error.contains("HTTP 404")), "{failed}");
}
