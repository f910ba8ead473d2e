//! Leak tests: objects of each TLP owned by organisation `a`, read through every route by a
//! principal of `a`, of `b`, a named RED recipient (of `b`) and an anonymous caller (the node
//! serves CLEAR publicly). Exactly the visible objects come back; invisible ones are absent from
//! lists, counts and streams, and an invisible id answers exactly like a missing one.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};

use crate::common::{Auth, TestNode, agent};

/// One object per TLP level: (level, its IPv4 value).
const OBJECTS: [(&str, &str); 5] = [
    ("clear", "192.0.2.1"),
    ("green", "192.0.2.2"),
    ("amber", "192.0.2.3"),
    ("amber+strict", "192.0.2.4"),
    ("red", "192.0.2.5"),
];

/// The value of a CLEAR object added after the others: the stream is read until it.
const SENTINEL: &str = "198.51.100.77";

/// The principals and the levels each may see.
fn principals() -> Vec<(&'static str, Auth, BTreeSet<&'static str>)> {
    let all = ["clear", "green", "amber", "amber+strict", "red"];
    vec![
        ("owner a-analyst", Auth::user("a-analyst"), all.into_iter().collect()),
        ("b-analyst", Auth::user("b-analyst"), ["clear", "green"].into_iter().collect()),
        (
            "red recipient b-red",
            Auth::user("b-red"),
            ["clear", "green", "red"].into_iter().collect(),
        ),
        ("anonymous", Auth::None, ["clear"].into_iter().collect()),
    ]
}

struct Fixture {
    node: TestNode,
    /// (level, value, indicator id)
    objects: Vec<(&'static str, &'static str, String)>,
}

fn fixture() -> Fixture {
    let node = TestNode::start(true).with_people();
    let mut objects = Vec::new();
    for (level, value) in OBJECTS {
        let shared = if level == "red" { "&share_users=b-red" } else { "" };
        let encoded = level.replace('+', "%2B");
        let answer = node.import(
            "a-analyst",
            &format!("format=plain-ip&source=leak&tlp={encoded}{shared}"),
            value,
        );
        assert_eq!(answer["records"], 1, "{answer}");
        let owner = Auth::user("a-analyst");
        let found =
            node.get(&format!("/api/v1/indicators?source=a/leak&tlp={encoded}"), &owner).json();
        let id = found["indicators"][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{level}: {found}"))
            .to_owned();
        objects.push((level, value, id));
    }
    // The stream's sentinel: a CLEAR object after the others.
    node.import("a-analyst", "format=plain-ip&source=sentinel&tlp=clear", SENTINEL);
    node.settle();
    Fixture { node, objects }
}

fn values_in(text: &str) -> BTreeSet<String> {
    OBJECTS
        .iter()
        .filter(|(_, value)| text.contains(value))
        .map(|(_, value)| (*value).to_owned())
        .collect()
}

fn expected_values(fixture: &Fixture, visible: &BTreeSet<&str>) -> BTreeSet<String> {
    fixture
        .objects
        .iter()
        .filter(|(level, ..)| visible.contains(level))
        .map(|(_, value, _)| (*value).to_owned())
        .collect()
}

#[test]
fn every_route_shows_exactly_the_visible_objects() {
    let fixture = fixture();
    let node = &fixture.node;
    let missing_id = "indicator--00000000-0000-4000-8000-000000000000";
    for (who, auth, visible) in principals() {
        let expected = expected_values(&fixture, &visible);

        // Search: the list and its filters.
        let search = node.get("/api/v1/indicators?source=a/leak", &auth);
        assert_eq!(search.status, 200, "{who}: {}", search.body);
        assert_eq!(values_in(&search.body), expected, "{who}: search");
        assert_eq!(
            search.json()["indicators"].as_array().unwrap().len(),
            expected.len(),
            "{who}: search count"
        );

        // Objects by id, and their versions: an invisible id is a missing id, byte for byte.
        let missing = node.get(&format!("/api/v1/objects/{missing_id}"), &auth);
        assert_eq!(missing.status, 404, "{who}");
        let missing_all = node.get(&format!("/api/v1/objects/{missing_id}?versions=all"), &auth);
        let missing_sightings = node.get(&format!("/api/v1/sightings?of={missing_id}"), &auth);
        for (level, value, id) in &fixture.objects {
            let is_visible = visible.contains(level);
            let by_id = node.get(&format!("/api/v1/objects/{id}"), &auth);
            let all = node.get(&format!("/api/v1/objects/{id}?versions=all"), &auth);
            let sightings = node.get(&format!("/api/v1/sightings?of={id}"), &auth);
            let by_value = node.get(&format!("/api/v1/indicators?value={value}"), &auth);
            let lookup = node.get(&format!("/api/v1/lookup?value={value}"), &auth);
            if is_visible {
                assert_eq!(by_id.status, 200, "{who} {level}");
                assert!(by_id.body.contains(value), "{who} {level}");
                assert_eq!(all.status, 200, "{who} {level}");
                assert_eq!(sightings.status, 200, "{who} {level}");
                assert!(by_value.body.contains(id.as_str()), "{who} {level}: {}", by_value.body);
                assert!(lookup.body.contains(id.as_str()), "{who} {level}: {}", lookup.body);
            } else {
                assert_eq!((by_id.status, &by_id.body), (404, &missing.body), "{who} {level}");
                assert_eq!((all.status, &all.body), (404, &missing_all.body), "{who} {level}");
                assert_eq!(
                    (sightings.status, &sightings.body),
                    (404, &missing_sightings.body),
                    "{who} {level}"
                );
                assert_eq!(by_value.json()["indicators"], serde_json::json!([]), "{who} {level}");
                assert_eq!(
                    lookup.json()["hits"],
                    serde_json::json!([]),
                    "{who} {level}: {}",
                    lookup.body
                );
            }
        }

        // Bulk lookup.
        let values: String = OBJECTS.iter().map(|(_, value)| format!("{value}\n")).collect();
        let bulk = node.post("/api/v1/lookup", &auth, "application/x-ndjson", values.as_bytes());
        assert_eq!(bulk.status, 200, "{who}: {}", bulk.body);
        let hit_values: BTreeSet<String> = bulk
            .body
            .lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
            .filter(|answer| !answer["hits"].as_array().unwrap().is_empty())
            .map(|answer| answer["value"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(hit_values, expected, "{who}: bulk lookup");

        // Exports: a block list and a STIX bundle.
        for format in ["text", "stix", "suricata", "csv"] {
            let export = node.get(&format!("/api/v1/export?format={format}&source=a/leak"), &auth);
            assert_eq!(export.status, 200, "{who} {format}: {}", export.body);
            assert_eq!(values_in(&export.body), expected, "{who}: export {format}");
        }

        // Counts: stats and sources count only what the caller may see.
        let stats = node.get("/api/v1/stats", &auth).json();
        let by_tlp = stats["by_tlp"].as_object().unwrap();
        for (level, ..) in &fixture.objects {
            if !visible.contains(level) {
                assert!(!by_tlp.contains_key(*level), "{who}: stats count {level}: {stats}");
            }
        }
        let indicators = stats["by_type"]["indicator"].as_u64().unwrap_or(0);
        // Every principal sees the CLEAR sentinel besides the leak objects.
        assert_eq!(indicators, expected.len() as u64 + 1, "{who}: stats");
        let sources = node.get("/api/v1/sources", &auth).json();
        let leak =
            sources["sources"].as_array().unwrap().iter().find(|source| source["name"] == "a/leak");
        let n_leak = leak.map_or(0, |source| source["objects"].as_u64().unwrap());
        // The source's identity and marking definitions are CLEAR; the rest are the indicators.
        assert!(n_leak >= expected.len() as u64, "{who}: sources {sources}");

        // The live stream from the start of the log.
        let streamed = stream_values(node, &auth);
        assert_eq!(streamed, expected, "{who}: stream");
    }
}

/// Reads the stream from the start until the sentinel (a CLEAR object added after the others).
fn stream_values(node: &TestNode, auth: &Auth) -> BTreeSet<String> {
    let mut request =
        ureq::http::Request::builder().method("GET").uri(node.url("/api/v1/stream?after=0"));
    match auth {
        Auth::Basic(name, password) => {
            use base64::Engine as _;
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"));
            request = request.header("authorization", format!("Basic {encoded}"));
        }
        Auth::None => {}
        other => panic!("unexpected auth {other:?}"),
    }
    let response = agent().run(request.body(()).unwrap()).unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let reader = BufReader::new(response.into_body().into_reader());
    let mut seen = String::new();
    for line in reader.lines() {
        let line = line.unwrap();
        if line.starts_with("data:") {
            if line.contains(SENTINEL) {
                break;
            }
            seen.push_str(&line);
            seen.push('\n');
        }
    }
    values_in(&seen)
}

#[test]
fn a_caller_never_learns_of_invisible_claims_through_a_sighting() {
    let fixture = fixture();
    let node = &fixture.node;
    // b-analyst reports the AMBER value of `a`: it cannot see that indicator, so the answer is
    // the same as for a value nobody claims.
    let amber = r#"{"value":"192.0.2.3"}"#;
    let unknown = r#"{"value":"192.0.2.99"}"#;
    let on_amber = node.post(
        "/api/v1/sightings",
        &Auth::user("b-analyst"),
        "application/json",
        amber.as_bytes(),
    );
    let on_unknown = node.post(
        "/api/v1/sightings",
        &Auth::user("b-analyst"),
        "application/json",
        unknown.as_bytes(),
    );
    assert_eq!(on_amber.status, 200, "{}", on_amber.body);
    assert_eq!(on_amber.body, on_unknown.body);
    assert!(on_amber.body.contains("\"unknown\":true"), "{}", on_amber.body);
    // The owner's sighting of the same value is recorded against its indicator.
    let owner = node.post(
        "/api/v1/sightings",
        &Auth::user("a-analyst"),
        "application/json",
        amber.as_bytes(),
    );
    assert_eq!(owner.json()["stored"], 1, "{}", owner.body);
}
