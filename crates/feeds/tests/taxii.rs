//! The TAXII 2.1 client against medallion 3.0.0 (the OASIS reference server, from the test venv:
//! `cargo xtask test` sets `WATCHFIRE_VENV`) and against fake servers on loopback that page
//! forever or send malformed envelopes.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Reply, Server, entries, store};
use serde_json::{Value, json};
use watchfire_feeds::source::{self, Auth, Source, SourceKind};
use watchfire_feeds::{Error, Options, taxii};
use watchfire_store::{Put, Store};

const COLLECTION: &str = "365fed99-08fa-fdcd-a1b3-fb247eb41d01";

fn options() -> Options {
    Options {
        retries: 0,
        retry_delay: Duration::from_millis(1),
        page_size: 10,
        ..Options::default()
    }
}

fn indicator(n: u32, time: &str) -> Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--{n:08x}-0000-4000-8000-000000000000"),
        "created": time,
        "modified": time,
        "name": format!("test indicator {n}"),
        "pattern": format!("[ipv4-addr:value = '198.51.100.{n}']"),
        "pattern_type": "stix",
        "valid_from": time,
    })
}

fn taxii_source(name: &str, url: &str) -> Source {
    Source::new(name, SourceKind::Taxii, url)
}

/// medallion on a loopback port, killed when dropped.
struct Medallion {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Medallion {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Medallion {
    /// Starts medallion with the memory backend holding `objects` (added at the given times)
    /// in one collection of the API root `api1`, and the user `admin` with `password`.
    fn start(objects: &[(Value, String)], password: &str) -> Medallion {
        let venv = std::env::var("WATCHFIRE_VENV").expect(
            "WATCHFIRE_VENV is not set: run the tests with `cargo xtask test`, which makes the \
             Python venv with medallion 3.0.0",
        );
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let manifest: Vec<Value> = objects
            .iter()
            .map(|(object, added)| {
                json!({
                    "id": object["id"],
                    "date_added": added,
                    "version": object["modified"],
                    "media_type": "application/stix+json;version=2.1",
                })
            })
            .collect();
        let data = json!({
            "/discovery": {
                "title": "watchfire test", "description": "", "contact": "",
                "default": format!("{base}/api1/"), "api_roots": [format!("{base}/api1/")],
            },
            "api1": {
                "information": {
                    "title": "api1", "description": "",
                    "versions": ["application/taxii+json;version=2.1"],
                    "max_content_length": 10_485_760,
                },
                "status": [],
                "collections": [{
                    "id": COLLECTION, "title": "test", "description": "",
                    "can_read": true, "can_write": true,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": objects.iter().map(|(object, _)| object.clone()).collect::<Vec<_>>(),
                    "manifest": manifest,
                }],
            },
        });
        let data_path = dir.path().join("data.json");
        std::fs::write(&data_path, data.to_string()).unwrap();
        let config = json!({
            "backend": {
                "module": "medallion.backends.memory_backend",
                "module_class": "MemoryBackend",
                "filename": data_path,
            },
            "users": {"admin": password},
            "taxii": {"max_page_size": 100},
        });
        let config_path = dir.path().join("config.json");
        std::fs::write(&config_path, config.to_string()).unwrap();
        let program: PathBuf = Path::new(&venv).join("bin/medallion");
        let child = Command::new(&program)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("start {}: {error}", program.display()));
        let medallion = Medallion { child, base, _dir: dir };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "medallion did not start in 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        medallion
    }

    fn collection_url(&self) -> String {
        format!("{}/api1/collections/{COLLECTION}/", self.base)
    }
}

#[test]
fn pulls_medallion_incrementally_over_several_pages() {
    // A test cannot set a variable (`set_var` is unsafe, and unsafe code is forbidden), so the
    // password is the value of one that cargo sets for every test run.
    let password = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let objects: Vec<(Value, String)> = (1..=25)
        .map(|n| {
            let time = format!("2025-01-01T00:00:{n:02}.000Z");
            (indicator(n, &time), format!("2025-01-02T00:00:{n:02}.000000Z"))
        })
        .collect();
    let medallion = Medallion::start(&objects, &password);
    let (_dir, store) = store();
    let source = Source {
        auth: Auth::Basic {
            user: "admin".to_owned(),
            password_env: "CARGO_MANIFEST_DIR".to_owned(),
        },
        ..taxii_source("medallion", &medallion.collection_url())
    };
    source::put(&store, &source, Put::Insert).unwrap();

    let first = taxii::pull(&store, &source, &options()).expect("first pull");
    assert_eq!((first.records, first.rejects, first.fetched), (25, 0, 3), "{first:?}");
    assert_eq!(first.new_versions, 25);
    assert_eq!(entries(&store).len(), 25);
    let state = source::state(&store, "medallion").unwrap();
    assert_eq!(state.cursor.as_deref(), Some("2025-01-02T00:00:25.000000Z"));

    // Five more, pushed through medallion's POST; the status resource says they were stored.
    let new: Vec<Value> =
        (26..=30).map(|n| indicator(n, &format!("2025-02-01T00:00:{n:02}.000Z"))).collect();
    let status = taxii::push(&source, &new, &options()).expect("push");
    assert_eq!(
        (status.status.as_str(), status.total_count, status.success_count),
        ("complete", 5, 5)
    );

    let second = taxii::pull(&store, &source, &options()).expect("second pull");
    assert_eq!((second.records, second.new_versions, second.fetched), (5, 5, 1), "{second:?}");
    assert_eq!(entries(&store).len(), 30);

    let third = taxii::pull(&store, &source, &options()).expect("third pull");
    assert!(third.not_modified && third.records == 0, "{third:?}");

    // A wrong password is a clear error, and the cursor stays.
    let wrong = Source {
        auth: Auth::Basic { user: "admin".to_owned(), password_env: "PATH".to_owned() },
        ..source.clone()
    };
    let error = taxii::pull(&store, &wrong, &options()).unwrap_err().to_string();
    assert!(error.starts_with("medallion: page 1: ") && error.contains("401"), "{error}");
}

/// A fake collection at `/collections/c/` whose objects endpoint answers with `reply`.
fn fake(reply: impl Fn(&common::Request) -> Reply + Send + Sync + 'static) -> (Server, Source) {
    let server = Server::start();
    server.route("/collections/c/objects/", reply);
    let source = taxii_source("peer", &server.url("/collections/c/"));
    (server, source)
}

fn envelope(body: &Value) -> Reply {
    Reply::ok(body.to_string()).header("Content-Type", taxii::MEDIA_TYPE)
}

fn pull_error(store: &dyn Store, source: &Source, options: &Options) -> String {
    source::put(store, source, Put::Replace).unwrap();
    match taxii::pull(store, source, options) {
        Err(Error::Pull { name, reason }) => {
            assert_eq!(name, source.name);
            reason
        }
        other => panic!("expected a pull error, got {other:?}"),
    }
}

#[test]
fn a_server_saying_more_forever_without_moving_ends_the_run() {
    let (server, source) = fake(|_| {
        envelope(&json!({"more": true, "objects": [indicator(1, "2025-01-01T00:00:00.000Z")]}))
            .header("X-TAXII-Date-Added-Last", "2025-01-01T00:00:00.000000Z")
    });
    let (_dir, store) = store();
    let reason = pull_error(&store, &source, &options());
    assert!(reason.contains("says more without next and without moving"), "{reason}");
    assert_eq!(server.requests("/collections/c/objects/").len(), 2);
    let second = &server.requests("/collections/c/objects/")[1];
    assert_eq!(second.param("added_after").as_deref(), Some("2025-01-01T00:00:00.000000Z"));
    assert_eq!(second.header("accept"), Some(taxii::MEDIA_TYPE));

    // The same `next` over and over, with empty pages.
    let (server, source) =
        fake(|_| envelope(&json!({"more": true, "next": "again", "objects": []})));
    let reason = pull_error(&store, &source, &options());
    assert!(reason.contains("sends nothing and repeats next"), "{reason}");
    assert_eq!(server.requests("/collections/c/objects/").len(), 2);

    // A new `next` every time: the page cap ends the run, which says there is more.
    let counter = std::sync::atomic::AtomicU32::new(0);
    let (server, source) = fake(move |_| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        envelope(&json!({"more": true, "next": format!("token-{n}"), "objects": []}))
    });
    source::put(&store, &source, Put::Replace).unwrap();
    let capped = Options { max_pages: 5, ..options() };
    let report = taxii::pull(&store, &source, &capped).unwrap();
    assert!(report.more, "{report:?}");
    assert_eq!(server.requests("/collections/c/objects/").len(), 5);
    assert_eq!(
        server.requests("/collections/c/objects/")[4].param("next").as_deref(),
        Some("token-3")
    );
}

#[test]
fn malformed_envelopes_are_clear_errors_with_nothing_written() {
    let (_dir, store) = store();
    let good = indicator(1, "2025-01-01T00:00:00.000Z");
    let cases: Vec<(&str, Reply, &str)> = vec![
        ("truncated JSON", Reply::ok("{\"more\": false, \"objects\": [{"), "malformed envelope"),
        ("not an envelope", Reply::ok("[1, 2, 3]"), "malformed envelope"),
        (
            "an object without an id",
            envelope(&json!({"objects": [good.clone(), {"type": "indicator"}]})),
            "object 2 has no id",
        ),
        (
            "a string for an object",
            envelope(&json!({"objects": ["x"]})),
            "object 1 is not a JSON object",
        ),
        (
            "a huge envelope",
            envelope(&json!({"objects": vec![good.clone(); 50]})),
            "larger than 4096 bytes",
        ),
        ("an HTTP error", Reply::status(404), "HTTP 404"),
    ];
    let options = Options { envelope_bytes: 4096, ..options() };
    for (what, reply, expected) in cases {
        let (_server, source) = fake(move |_| reply.clone());
        let reason = pull_error(&store, &source, &options);
        assert!(reason.contains(expected), "{what}: {reason}");
        assert!(entries(&store).is_empty(), "{what}: nothing written");
        let state = source::state(&store, "peer").unwrap();
        assert_eq!(state.cursor, None, "{what}");
        assert!(state.health.last_error.is_some_and(|error| error.contains(expected)), "{what}");
    }

    // An object with an id that is not valid STIX is a reject; the rest of the page is stored.
    let page = json!({"objects": [good, {"type": "indicator", "id": "indicator--bad"}]});
    let (_server, source) = fake(move |_| {
        envelope(&page).header("X-TAXII-Date-Added-Last", "2025-01-03T00:00:00.000000Z")
    });
    source::put(&store, &source, Put::Replace).unwrap();
    let report = taxii::pull(&store, &source, &options).unwrap();
    assert_eq!((report.records, report.rejects), (1, 1), "{report:?}");
    assert_eq!(entries(&store).len(), 1);
    let state = source::state(&store, "peer").unwrap();
    assert_eq!(state.cursor.as_deref(), Some("2025-01-03T00:00:00.000000Z"));
}

#[test]
fn a_caller_holding_a_token_pulls_with_it() {
    let (server, source) = fake(|request| match request.header("authorization") {
        Some("Bearer wf_test_token") => {
            envelope(&json!({"objects": [indicator(7, "2025-01-01T00:00:00.000Z")]}))
                .header("X-TAXII-Date-Added-Last", "2025-01-05T00:00:00.000000Z")
        }
        _ => Reply::status(401),
    });
    let (_dir, store) = store();
    source::put(&store, &source, Put::Insert).unwrap();
    let report =
        taxii::pull_with_authorization(&store, &source, "Bearer wf_test_token", &options())
            .unwrap();
    assert_eq!(report.records, 1);
    let reason = pull_error(&store, &source, &options());
    assert!(reason.contains("HTTP 401"), "{reason}");
    // The health holds the reason, without the source's name in front.
    let health = source::state(&store, "peer").unwrap().health;
    assert!(health.last_error.is_some_and(|error| error.starts_with("page 1: ")));
    assert_eq!(server.requests("/collections/c/objects/").len(), 2);
}
