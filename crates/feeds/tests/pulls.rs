//! Pulls of http and MISP feeds against a loopback server serving the fixtures: conditional GET,
//! backoff and the circuit breaker, corrupt responses, MISP manifests, and bad configuration.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{Reply, Server, entries, fixture, store};
use watchfire_feeds::source::{self, Auth, Source, SourceKind};
use watchfire_feeds::{Error, Options, Scheduler, pull_now};
use watchfire_store::{Put, Store};

/// Fast options: one retry after 1 ms, so failing tests do not sleep.
fn options() -> Options {
    Options {
        retries: 1,
        retry_delay: Duration::from_millis(1),
        failure_backoff: Duration::from_secs(60),
        circuit_after: 3,
        circuit_cooldown: Duration::from_secs(3600),
        ..Options::default()
    }
}

fn http_source(name: &str, url: &str, format: Option<&str>) -> Source {
    Source { format: format.map(str::to_owned), ..Source::new(name, SourceKind::Http, url) }
}

fn add(store: &dyn Store, source: &Source) {
    source::put(store, source, Put::Insert).expect("add the source");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

const URLHAUS: &str = "abusech-urlhaus/csv_recent.csv";

#[test]
fn stores_a_feed_then_gets_304_for_its_etag() {
    let server = Server::start();
    server.route("/urlhaus.csv", |request| match request.header("if-none-match") {
        Some("\"v1\"") => Reply::status(304),
        _ => Reply::ok(fixture(URLHAUS)).header("ETag", "\"v1\""),
    });
    let (_dir, store) = store();
    add(&store, &http_source("urlhaus", &server.url("/urlhaus.csv"), Some("abusech-urlhaus")));

    let first = pull_now(&store, "urlhaus", &options()).expect("first pull");
    assert_eq!((first.records, first.rejects, first.not_modified), (10, 0, false));
    assert!(first.new_versions >= 10, "{first:?}");
    let stored = entries(&store);
    assert!(stored.iter().all(|entry| entry.source == "urlhaus"));

    let second = pull_now(&store, "urlhaus", &options()).expect("second pull");
    assert!(second.not_modified, "{second:?}");
    assert_eq!((second.records, second.new_versions), (0, 0));
    let requests = server.requests("/urlhaus.csv");
    assert_eq!(requests[0].header("if-none-match"), None);
    assert_eq!(requests[1].header("if-none-match"), Some("\"v1\""));
    assert_eq!(entries(&store), stored, "a 304 stores nothing");

    // The health keeps the counts of the pull that read something.
    let health = source::state(&store, "urlhaus").unwrap().health;
    assert_eq!((health.records, health.failures, health.last_error), (10, 0, None));
    assert!(health.last_success.is_some());
}

#[test]
fn sends_if_modified_since_and_unpacks_gzip() {
    let server = Server::start();
    let stamp = "Wed, 25 Feb 2026 10:00:00 GMT";
    server.route("/hosts.gz", move |request| match request.header("if-modified-since") {
        Some(since) if since == stamp => Reply::status(304),
        _ => Reply::ok(gzip(&fixture(URLHAUS))).header("Last-Modified", stamp),
    });
    let (_dir, store) = store();
    // No format named: detected from the unpacked head.
    add(&store, &http_source("urlhaus-gz", &server.url("/hosts.gz"), None));
    let first = pull_now(&store, "urlhaus-gz", &options()).unwrap();
    assert_eq!(first.records, 10);
    let second = pull_now(&store, "urlhaus-gz", &options()).unwrap();
    assert!(second.not_modified);
}

#[test]
fn a_failing_source_backs_off_and_opens_its_circuit_while_others_pull() {
    let server = Server::start();
    server.fixed("/broken", Reply::status(500));
    server.fixed("/good", Reply::ok(fixture(URLHAUS)));
    let (_dir, store) = store();
    add(&store, &http_source("broken", &server.url("/broken"), Some("abusech-urlhaus")));
    let good = http_source("good", &server.url("/good"), Some("abusech-urlhaus"));
    add(&store, &Source { interval_secs: 7 * 86_400, ..good });
    let scheduler = Scheduler::new(options());
    let second = 1_000_000;
    let start = watchfire_store::now_micros();

    // Each tick pulls what is due; the broken source's waits grow: 60 s, 120 s, then the circuit
    // opens with a cool-down of an hour, then two.
    let mut now = start;
    let mut waits = Vec::new();
    for round in 1..=4 {
        let pulled = scheduler.tick(&store, now).unwrap();
        let names: Vec<&str> = pulled.iter().map(|pulled| pulled.name.as_str()).collect();
        let broken = pulled.iter().find(|pulled| pulled.name == "broken").expect("broken is due");
        let error = broken.result.as_ref().unwrap_err().to_string();
        assert!(error.starts_with("broken: ") && error.contains("HTTP 500"), "{error}");
        if round == 1 {
            assert_eq!(names, ["broken", "good"], "a failing source does not hold up the others");
            assert!(pulled[1].result.as_ref().unwrap().records == 10);
        }
        let health = source::state(&store, "broken").unwrap().health;
        assert_eq!(health.failures, round);
        assert_eq!(health.circuit_open, round >= 3, "round {round}");
        assert!(health.last_error.as_deref().is_some_and(|error| error.contains("HTTP 500")));
        waits.push((health.next_due - now + second / 2) / second);
        // Not due just before its time, due at it.
        assert!(scheduler.tick(&store, health.next_due - second).unwrap().is_empty());
        now = health.next_due;
    }
    assert_eq!(waits, [60, 120, 3600, 7200]);
    // One retry per pull: two requests each.
    assert_eq!(server.requests("/broken").len(), 8);
    assert_eq!(server.requests("/good").len(), 1, "good is not due within its week");

    // A success closes the circuit and resets the count.
    server.fixed("/broken", Reply::ok(fixture(URLHAUS)));
    pull_now(&store, "broken", &options()).unwrap();
    let health = source::state(&store, "broken").unwrap().health;
    assert_eq!((health.failures, health.circuit_open, health.last_error), (0, false, None));
}

#[test]
fn a_corrupt_response_is_rejected_without_touching_earlier_data() {
    let server = Server::start();
    let (_dir, store) = store();
    add(&store, &http_source("urlhaus", &server.url("/feed"), Some("abusech-urlhaus")));
    add(&store, &http_source("detected", &server.url("/feed"), None));
    server.fixed("/feed", Reply::ok(gzip(&fixture(URLHAUS))).header("ETag", "\"a\""));
    pull_now(&store, "urlhaus", &options()).unwrap();
    let before = entries(&store);
    assert!(!before.is_empty());

    let whole = gzip(&fixture(URLHAUS));
    let cases: [(&str, &str, Vec<u8>, &str); 4] = [
        ("urlhaus", "truncated gzip", whole[..whole.len() / 2].to_vec(), "nothing stored"),
        (
            "urlhaus",
            "an HTML page instead of the CSV",
            b"<html><body>maintenance</body></html>\n<p>back soon</p>\n".to_vec(),
            "every one of 2 lines was rejected as abusech-urlhaus",
        ),
        ("detected", "binary noise", vec![0u8, 159, 146, 150, 1, 2, 3, 255], "cannot recognise"),
        ("urlhaus", "a corrupt zip", b"PK\x03\x04garbage".to_vec(), "bad zip archive"),
    ];
    for (name, what, body, reason) in cases {
        server.fixed("/feed", Reply::ok(body).header("ETag", "\"b\""));
        let error = pull_now(&store, name, &options()).unwrap_err();
        let Error::Pull { name: failed, reason: text } = &error else {
            panic!("{what}: expected a pull error, got {error:?}");
        };
        assert_eq!(failed, name, "{what}");
        assert!(text.contains(reason), "{what}: {text}");
        assert_eq!(entries(&store), before, "{what}: the store is unchanged");
        let health = source::state(&store, name).unwrap().health;
        assert!(health.last_error.as_deref().is_some_and(|error| error.contains(reason)), "{what}");
    }
    // The failed responses left the validators of the stored one: the next GET is conditional
    // on it, and a good answer stores again.
    let last = server.requests("/feed").pop().unwrap();
    assert_eq!(last.header("if-none-match"), Some("\"a\""));
}

#[test]
fn a_response_over_the_cap_is_an_error() {
    let server = Server::start();
    server.fixed("/big", Reply::ok(fixture(URLHAUS)));
    let (_dir, store) = store();
    add(&store, &http_source("big", &server.url("/big"), Some("abusech-urlhaus")));
    let options = Options { body_bytes: 100, ..options() };
    let error = pull_now(&store, "big", &options).unwrap_err().to_string();
    assert!(error.starts_with("big: ") && error.contains("larger than 100 bytes"), "{error}");
    assert!(entries(&store).is_empty());
}

const EVENT_A: &str = "56bf399d-c46c-4fdb-a9cf-d9bb02de0b81";
const EVENT_B: &str = "57c4445b-c548-4654-af0b-4be3950d210f";

fn manifest(timestamp_a: i64, timestamp_b: i64) -> String {
    serde_json::json!({
        EVENT_A: {"info": "OSINT - Hunting for Malware with Machine Learning", "date": "2015-12-18",
                  "analysis": 2, "threat_level_id": 3, "timestamp": timestamp_a},
        EVENT_B: {"info": "OSINT - Ransomware Xorist", "date": "2016-05-24",
                  "analysis": 2, "threat_level_id": 3, "timestamp": timestamp_b},
    })
    .to_string()
}

#[test]
fn a_misp_feed_fetches_only_new_or_changed_events() {
    let server = Server::start();
    for uuid in [EVENT_A, EVENT_B] {
        server.fixed(
            &format!("/misp/{uuid}.json"),
            Reply::ok(fixture(&format!("misp-feed-osint/{uuid}.json"))),
        );
    }
    server.fixed("/misp/manifest.json", Reply::ok(manifest(1_455_373_240, 1_464_073_400)));
    let (_dir, store) = store();
    add(&store, &Source::new("circl", SourceKind::Misp, &server.url("/misp/")));

    let first = pull_now(&store, "circl", &options()).unwrap();
    assert_eq!(first.fetched, 2, "{first:?}");
    assert!(first.records > 0 && first.new_versions > 0, "{first:?}");
    let stored = entries(&store);

    // Nothing changed: the manifest only.
    server.clear_requests();
    let again = pull_now(&store, "circl", &options()).unwrap();
    assert!(again.not_modified && again.fetched == 0, "{again:?}");
    assert!(server.requests(&format!("/misp/{EVENT_A}.json")).is_empty());
    assert_eq!(entries(&store), stored);

    // Event B's timestamp rises: only B is fetched.
    server.fixed("/misp/manifest.json", Reply::ok(manifest(1_455_373_240, 1_464_073_401)));
    server.clear_requests();
    let third = pull_now(&store, "circl", &options()).unwrap();
    assert_eq!(third.fetched, 1, "{third:?}");
    assert!(server.requests(&format!("/misp/{EVENT_A}.json")).is_empty());
    assert_eq!(server.requests(&format!("/misp/{EVENT_B}.json")).len(), 1);
    let state = source::state(&store, "circl").unwrap();
    assert_eq!(state.misp_events.get(EVENT_B), Some(&1_464_073_401));
}

#[test]
fn a_bad_misp_event_fails_the_pull_keeps_the_good_ones_and_is_fetched_again() {
    let server = Server::start();
    server.fixed(&format!("/misp/{EVENT_A}.json"), Reply::ok("{\"Event\": {\"uuid\": "));
    server.fixed(
        &format!("/misp/{EVENT_B}.json"),
        Reply::ok(fixture(&format!("misp-feed-osint/{EVENT_B}.json"))),
    );
    server.fixed("/misp/manifest.json", Reply::ok(manifest(1, 2)));
    let (_dir, store) = store();
    add(&store, &Source::new("circl", SourceKind::Misp, &server.url("/misp")));
    let error = pull_now(&store, "circl", &options()).unwrap_err().to_string();
    assert!(error.starts_with(&format!("circl: event {EVENT_A}: nothing stored")), "{error}");
    let state = source::state(&store, "circl").unwrap();
    assert_eq!(state.misp_events.keys().collect::<Vec<_>>(), [EVENT_B]);
    assert!(!entries(&store).is_empty(), "event B is stored");

    server.fixed(
        &format!("/misp/{EVENT_A}.json"),
        Reply::ok(fixture(&format!("misp-feed-osint/{EVENT_A}.json"))),
    );
    server.clear_requests();
    let report = pull_now(&store, "circl", &options()).unwrap();
    assert_eq!(report.fetched, 1);
    assert!(server.requests(&format!("/misp/{EVENT_B}.json")).is_empty());

    // A manifest that is not one is a clear error too.
    server.fixed("/misp/manifest.json", Reply::ok("[1, 2"));
    let error = pull_now(&store, "circl", &options()).unwrap_err().to_string();
    assert!(error.starts_with("circl: manifest: "), "{error}");
}

#[test]
fn bad_configuration_and_unreachable_sources_are_clear_errors() {
    let (_dir, store) = store();
    assert!(matches!(pull_now(&store, "nope", &options()), Err(Error::UnknownSource(_))));

    let bad_name = http_source("a/b", "http://127.0.0.1:9/", None);
    let error = source::put(&store, &bad_name, Put::Insert).unwrap_err().to_string();
    assert!(error.contains("bad source name"), "{error}");
    let bad_url = http_source("ftp", "ftp://127.0.0.1/list", None);
    assert!(source::put(&store, &bad_url, Put::Insert).unwrap_err().to_string().contains("ftp://"));
    let bad_format = http_source("fmt", "http://127.0.0.1:9/", Some("no-such-format"));
    assert!(source::put(&store, &bad_format, Put::Insert).is_err());
    let misp_format = Source {
        format: Some("stix".to_owned()),
        ..Source::new("m", SourceKind::Misp, "http://127.0.0.1:9/")
    };
    let error = source::put(&store, &misp_format, Put::Insert).unwrap_err().to_string();
    assert!(error.contains("a format applies to http sources, not misp"), "{error}");
    let not_collection = Source::new("t", SourceKind::Taxii, "http://127.0.0.1:9/taxii2/");
    let error = source::put(&store, &not_collection, Put::Insert).unwrap_err().to_string();
    assert!(error.contains("is no TAXII collection URL"), "{error}");
    add(&store, &http_source("taken", "http://127.0.0.1:9/", None));
    let taken =
        source::put(&store, &http_source("taken", "http://127.0.0.1:9/", None), Put::Insert);
    assert!(taken.unwrap_err().to_string().contains("exists"));

    // A token from a variable that is not set: the error names the variable, never a value.
    let secret = Source {
        auth: Auth::Token { token_env: "WATCHFIRE_TEST_NO_SUCH_TOKEN".to_owned(), header: None },
        ..http_source("secret", "http://127.0.0.1:9/", None)
    };
    add(&store, &secret);
    let error = pull_now(&store, "secret", &options()).unwrap_err().to_string();
    assert_eq!(
        error,
        "secret: environment variable WATCHFIRE_TEST_NO_SUCH_TOKEN is not set or not UTF-8"
    );

    // Nothing listens on the port: a transport error, after the retries.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/feed", closed.local_addr().unwrap());
    drop(closed);
    add(&store, &http_source("down", &url, None));
    let error = pull_now(&store, "down", &options()).unwrap_err().to_string();
    assert!(error.starts_with(&format!("down: {url}: ")), "{error}");
    assert_eq!(source::state(&store, "down").unwrap().health.failures, 1);

    // Removing a source removes its state.
    assert!(source::remove(&store, "down").unwrap());
    assert!(!source::remove(&store, "down").unwrap());
    assert_eq!(source::state(&store, "down").unwrap(), Default::default());
}

#[test]
fn a_token_is_sent_in_the_header_the_source_names() {
    let server = Server::start();
    server.fixed("/keyed", Reply::ok(fixture(URLHAUS)));
    let (_dir, store) = store();
    // A test cannot set a variable (`set_var` is unsafe, and unsafe code is forbidden), so the
    // token is one that cargo sets for every test run.
    let token = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let keyed = Source {
        auth: Auth::Token {
            token_env: "CARGO_MANIFEST_DIR".to_owned(),
            header: Some("Auth-Key".to_owned()),
        },
        ..http_source("keyed", &server.url("/keyed"), Some("abusech-urlhaus"))
    };
    add(&store, &keyed);
    pull_now(&store, "keyed", &options()).unwrap();
    let request = server.requests("/keyed").pop().unwrap();
    assert_eq!(request.header("auth-key"), Some(token.as_str()));
    assert_eq!(request.header("authorization"), None);
}

#[test]
fn disabled_sources_are_not_scheduled_and_catalogue_entries_keep_their_defaults() {
    let (_dir, store) = store();
    let entry = watchfire_formats::catalogue::catalogue()
        .iter()
        .find(|entry| entry.name == "abusech-urlhaus-misp")
        .unwrap();
    let misp = Source::from_catalogue(entry);
    assert_eq!((misp.kind, misp.format.as_deref()), (SourceKind::Misp, None));
    assert_eq!(misp.interval_secs, entry.refresh.get());
    let disabled = Source { enabled: false, ..http_source("off", "http://127.0.0.1:9/", None) };
    add(&store, &disabled);
    assert!(Scheduler::new(options()).tick(&store, i64::MAX).unwrap().is_empty());
}

#[test]
fn the_scheduler_runs_until_stopped_even_during_a_hanging_pull() {
    let server = Server::start();
    server.fixed("/good", Reply::ok(fixture(URLHAUS)));
    // Accepts connections (the backlog) but never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (_dir, store) = store();
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(store);
    add(&*store, &http_source("a-good", &server.url("/good"), Some("abusech-urlhaus")));
    let hanging =
        http_source("z-hanging", &format!("http://{}/", silent.local_addr().unwrap()), None);
    add(&*store, &Source { timeout_secs: 300, ..hanging });

    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let runner = scope.spawn(|| Scheduler::new(options()).run(&store, &stop));
        let started = std::time::Instant::now();
        while source::state(&*store, "a-good").unwrap().health.records != 10 {
            assert!(started.elapsed() < Duration::from_secs(30), "a-good was not pulled");
            std::thread::sleep(Duration::from_millis(20));
        }
        // z-hanging is being fetched now; stopping does not wait for its 300 s timeout.
        std::thread::sleep(Duration::from_millis(300));
        let stopping = std::time::Instant::now();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        runner.join().unwrap();
        assert!(stopping.elapsed() < Duration::from_secs(2), "{:?}", stopping.elapsed());
    });
}
