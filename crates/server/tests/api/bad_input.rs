//! Bad input: oversized bodies, malformed JSON, unknown formats, huge NDJSON lines, broken
//! uploads. Each gets a 4xx with a clear code, nothing half-stored, and the node keeps serving.

use watchfire_server::Limits;

use crate::common::{Auth, TestNode};

#[test]
fn bad_requests_get_clear_codes_and_the_node_keeps_serving() {
    let limits = Limits {
        import_bytes: 64 * 1024,
        json_bytes: 4096,
        bulk_bytes: 64 * 1024,
        line_bytes: 256,
        ..Limits::default()
    };
    let node = TestNode::start_with(false, limits).with_people();
    let analyst = Auth::user("a-analyst");
    let cases: Vec<(&str, crate::common::Answer, u16, &str)> = vec![
        (
            "oversized upload",
            node.post(
                "/api/v1/import?format=plain-ip",
                &analyst,
                "text/plain",
                &vec![b'1'; 65 * 1024],
            ),
            413,
            "payload_too_large",
        ),
        (
            "oversized JSON",
            node.post(
                "/api/v1/sightings",
                &analyst,
                "application/json",
                format!(r#"{{"value":"{}"}}"#, "a".repeat(5000)).as_bytes(),
            ),
            413,
            "payload_too_large",
        ),
        (
            "malformed JSON",
            node.post(
                "/api/v1/sightings",
                &analyst,
                "application/json",
                br#"{"value": "192.0.2.1""#,
            ),
            400,
            "invalid_json",
        ),
        (
            "JSON of the wrong shape",
            node.post(
                "/api/v1/users",
                &Auth::user("a-admin"),
                "application/json",
                br#"{"name": 5}"#,
            ),
            400,
            "invalid_json",
        ),
        (
            "unknown import format",
            node.post("/api/v1/import?format=nope", &analyst, "text/plain", b"192.0.2.1\n"),
            400,
            "unknown_format",
        ),
        (
            "unrecognisable upload",
            node.post(
                "/api/v1/import",
                &analyst,
                "application/octet-stream",
                &[0u8, 159, 146, 150, 0, 1, 2],
            ),
            400,
            "unknown_format",
        ),
        (
            "unknown export format",
            node.get("/api/v1/export?format=nope", &analyst),
            400,
            "unknown_format",
        ),
        (
            "huge NDJSON line",
            node.post(
                "/api/v1/lookup",
                &analyst,
                "application/x-ndjson",
                format!("192.0.2.1\n{}\n", "a".repeat(300)).as_bytes(),
            ),
            400,
            "line_too_long",
        ),
        (
            "NDJSON line that is broken JSON",
            node.post("/api/v1/lookup", &analyst, "application/x-ndjson", b"{\"value\":\n"),
            400,
            "invalid_json",
        ),
        (
            "unknown query parameter",
            node.get("/api/v1/indicators?colour=red", &analyst),
            400,
            "bad_request",
        ),
        (
            "unknown parameter of an object",
            node.get(
                "/api/v1/objects/indicator--00000000-0000-4000-8000-000000000000?colour=red",
                &analyst,
            ),
            400,
            "bad_request",
        ),
        (
            "limit out of range",
            node.get("/api/v1/indicators?limit=100000", &analyst),
            400,
            "bad_request",
        ),
        (
            "bad time",
            node.get("/api/v1/indicators?added_after=yesterday", &analyst),
            400,
            "bad_request",
        ),
        (
            "bad lookup value",
            node.get("/api/v1/lookup?value=not%20a%20thing", &analyst),
            400,
            "bad_request",
        ),
        ("unknown route", node.get("/api/v1/nothing", &analyst), 404, "not_found"),
        (
            "wrong method",
            node.call("PUT", "/api/v1/indicators", &analyst, &[], None),
            405,
            "method_not_allowed",
        ),
        (
            "bad Last-Event-ID",
            node.call("GET", "/api/v1/stream", &analyst, &[("last-event-id", "yesterday")], None),
            400,
            "bad_request",
        ),
    ];
    for (what, answer, status, code) in cases {
        assert_eq!(answer.status, status, "{what}: {}", answer.body);
        assert_eq!(answer.code(), code, "{what}: {}", answer.body);
        let message = answer.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(!message.is_empty(), "{what}");
    }
    // Still serving, and nothing was stored by the failed uploads.
    assert_eq!(node.get("/healthz", &Auth::None).status, 200);
    let stats = node.get("/api/v1/stats", &analyst).json();
    assert_eq!(stats["objects"], 0, "{stats}");
}

#[test]
fn a_truncated_archive_stores_nothing_and_rejected_lines_do_not_stop_the_good_ones() {
    let node = TestNode::start(false).with_people();
    let analyst = Auth::user("a-analyst");
    // A gzip stream cut in the middle.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, "192.0.2.20\n".repeat(5000).as_bytes()).unwrap();
    let gzip = encoder.finish().unwrap();
    let cut = &gzip[..gzip.len() / 2];
    let answer = node.post("/api/v1/import?format=plain-ip", &analyst, "application/gzip", cut);
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer.json()["error"]["message"].as_str().unwrap().contains("nothing stored"),
        "{}",
        answer.body
    );
    assert_eq!(node.get("/api/v1/stats", &analyst).json()["objects"], 0);
    // A list with bad lines: the good ones land, the bad ones are reported with their line.
    let answer =
        node.import("a-analyst", "format=plain-ip", "192.0.2.21\nnot an address\n192.0.2.22\n");
    assert_eq!(answer["records"], 2, "{answer}");
    assert_eq!(answer["rejects"], 1, "{answer}");
    assert_eq!(answer["shown_rejects"][0]["line"], 2, "{answer}");
}

#[test]
fn a_slow_client_is_cut_off_and_others_are_served() {
    use std::io::{Read, Write};
    let limits =
        Limits { header_timeout: std::time::Duration::from_millis(500), ..Limits::default() };
    let node = TestNode::start_with(false, limits).with_people();
    let address = node.base.trim_start_matches("http://").to_owned();
    let mut slow = std::net::TcpStream::connect(&address).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").unwrap();
    // The head never ends: the node closes the connection after the header timeout.
    slow.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let _ = slow.read_to_end(&mut answer);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "not cut off in time");
    assert!(
        !String::from_utf8_lossy(&answer).contains("200 OK"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(node.get("/healthz", &Auth::None).status, 200);
}

#[test]
fn a_caller_over_its_rate_is_told_to_wait_and_others_are_not() {
    let limits = Limits { rate_per_second: 1, rate_burst: 3, ..Limits::default() };
    let node = TestNode::start_with(false, limits).with_people();
    let token =
        node.token("a", Some("a-analyst"), vec![watchfire_server::accounts::Scope::Read], None);
    let auth = Auth::Bearer(token);
    let statuses: Vec<u16> = (0..5).map(|_| node.get("/api/v1/stats", &auth).status).collect();
    assert_eq!(&statuses[..3], &[200, 200, 200], "{statuses:?}");
    let limited = node.get("/api/v1/stats", &auth);
    assert_eq!(limited.status, 429);
    assert_eq!(limited.code(), "too_many_requests");
    assert!(limited.header("retry-after").is_some());
    // Another caller has its own allowance.
    assert_eq!(node.get("/api/v1/stats", &Auth::user("b-analyst")).status, 200);
}
