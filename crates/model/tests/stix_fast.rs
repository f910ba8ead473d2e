//! `StixObject::from_slice_fast` gives exactly what the general path (parse into a JSON map, then
//! `StixObject::from_properties`) gives, member order of `extra` included, or gives up: on every
//! object of the STIX fixtures, written in several ways, and on objects altered at random.

use std::fs;
use std::path::Path;
use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use watchfire_model::stix::{StixObject, upgrade_2_0_object};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/feeds");

static FIXTURE_OBJECTS: LazyLock<Vec<Vec<(String, Value)>>> = LazyLock::new(fixture_objects);

/// Every object of every bundle in `stix20/` and `stix21/`, as its members in order; the 2.0
/// ones twice, as given and upgraded.
fn fixture_objects() -> Vec<Vec<(String, Value)>> {
    let mut objects = Vec::new();
    for version_dir in ["stix20", "stix21"] {
        let directory = Path::new(FIXTURES).join(version_dir);
        let mut paths: Vec<_> =
            fs::read_dir(&directory).unwrap().map(|entry| entry.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let bundle: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
            for object in bundle["objects"].as_array().unwrap() {
                let mut properties = object.as_object().unwrap().clone();
                objects.push(properties.clone().into_iter().collect());
                if version_dir == "stix20" {
                    upgrade_2_0_object(&mut properties);
                    objects.push(properties.into_iter().collect());
                }
            }
        }
    }
    objects
}

/// Writes members as a JSON object, in order, duplicates included.
fn object_text(members: &[(String, Value)], pretty: bool) -> Vec<u8> {
    let mut text = String::from("{");
    for (position, (name, value)) in members.iter().enumerate() {
        if position > 0 {
            text.push(',');
        }
        if pretty {
            text.push_str("\n  ");
        }
        text.push_str(&serde_json::to_string(name).unwrap());
        text.push_str(if pretty { ": " } else { ":" });
        let value = match pretty {
            true => serde_json::to_string_pretty(value),
            false => serde_json::to_string(value),
        };
        text.push_str(&value.unwrap());
    }
    text.push_str(if pretty { "\n}" } else { "}" });
    text.into_bytes()
}

/// Reads `bytes` both ways; panics if the fast path gives anything but what the general path
/// gives. Returns whether the fast path read it.
fn check_same(bytes: &[u8]) -> bool {
    let general = match serde_json::from_slice(bytes) {
        Ok(Value::Object(properties)) => StixObject::from_properties(properties),
        _ => return assert_gives_up(bytes),
    };
    let Some(fast) = StixObject::from_slice_fast(bytes) else { return false };
    let text = String::from_utf8_lossy(bytes);
    let general =
        general.unwrap_or_else(|error| panic!("fast path read a reject ({error}): {text}"));
    assert_eq!(fast, general, "{text}");
    assert_eq!(format!("{fast:?}"), format!("{general:?}"), "{text}");
    assert_eq!(serde_json::to_string(&fast).unwrap(), serde_json::to_string(&general).unwrap());
    true
}

fn assert_gives_up(bytes: &[u8]) -> bool {
    assert_eq!(StixObject::from_slice_fast(bytes), None, "{}", String::from_utf8_lossy(bytes));
    false
}

/// Whether the fast path is expected to read `bytes`: the general path reads them into a typed
/// object, and they hold no `null`, `[]` or `{}`.
fn expect_fast(bytes: &[u8]) -> bool {
    let general = serde_json::from_slice(bytes)
        .ok()
        .and_then(|properties| StixObject::from_properties(properties).ok());
    let text = String::from_utf8_lossy(bytes);
    let compact: String = text.split_whitespace().collect();
    let has_empty = ["null", "[]", "{}"].iter().any(|empty| compact.contains(empty));
    matches!(general, Some(object) if !matches!(object, StixObject::Other(_))) && !has_empty
}

#[test]
fn fixture_objects_read_the_same_both_ways() {
    let mut n_fast = 0;
    for members in FIXTURE_OBJECTS.iter() {
        let mut type_last = members.clone();
        type_last.sort_by_key(|(name, _)| name == "type");
        let mut reversed = members.clone();
        reversed.reverse();
        let mut custom = members.clone();
        custom.insert(0, ("x_first".to_owned(), json!({"a": [1, 2.5, "b"]})));
        custom.insert(custom.len() / 2, ("x_middle".to_owned(), json!("m")));
        custom.push(("x_last".to_owned(), json!(-3)));
        for variant in [members, &type_last, &reversed, &custom] {
            for pretty in [false, true] {
                let bytes = object_text(variant, pretty);
                let is_fast = check_same(&bytes);
                assert_eq!(is_fast, expect_fast(&bytes), "{}", String::from_utf8_lossy(&bytes));
                n_fast += usize::from(is_fast);
            }
        }
    }
    assert!(n_fast > 500, "the fast path read only {n_fast} variants");
}

const INDICATOR: &str = r#"{"type": "indicator", "spec_version": "2.1",
    "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2016-04-06T20:03:48.000Z",
    "modified": "2016-04-06T20:03:48.000Z", "pattern": "[ipv4-addr:value = '198.51.100.1']",
    "pattern_type": "stix", "valid_from": "2016-04-06T20:03:48Z""#;

#[test]
fn odd_objects_read_the_same_both_ways() {
    let fast = |rest: &str| check_same(format!("{INDICATOR}{rest}}}").as_bytes());
    // Read by the fast path.
    assert!(fast(""));
    assert!(fast(r#", "x_score": 7, "labels": ["a"], "x_tags": {"k": [1, {"d": 2}]}"#));
    assert!(fast(r#", "x_a": 1, "x_b": 2, "x_c": 3"#));
    assert!(fast(r#", "x_a": 1, "x_b": 2, "x_a": 3"#));
    assert!(fast(r#", "name": "caf\u00e9 \"quoted\"", "x_\u0061": "escaped name""#));
    assert!(fast(
        r#", "kill_chain_phases": [{"kill_chain_name": "k", "phase_name": "p", "x": 1}]"#
    ));
    // Given up on; the general path reads or rejects them.
    assert!(!fast(r#", "description": null"#));
    assert!(!fast(r#", "labels": []"#));
    assert!(!fast(r#", "extensions": { }"#));
    assert!(!fast(r#", "x_text": "not null""#));
    assert!(!fast(r#", "type": "indicator""#));
    assert!(!fast(r#", "type": "malware""#));
    assert!(!fast(r#", "name": "a", "name": "b""#));
    assert!(!fast(r#", "confidence": 101"#));
    assert!(!fast(r#", "confidence": 50.0"#));
    assert!(!fast(r#", "valid_until": "2016-13-01T00:00:00Z""#));
    assert!(!fast(r#", "external_references": [{"source_name": "a", "url": "u", "url": "v"}]"#));
    assert!(!fast(r#"} "#));
    for text in [
        r#"{"type": "indicator", "id": "indicator--nonsense"}"#,
        r#"{"type": "malware", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}"#,
        r#"{"type": "x-custom", "id": "x-custom--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}"#,
        r#"{"type": "process", "id": "process--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}"#,
        r#"{"type": 3, "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}"#,
        r#"{"id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}"#,
        r#"["type", "indicator"]"#,
        r#"{"type": "indicator""#,
        "",
    ] {
        assert!(!check_same(text.as_bytes()), "{text}");
    }
}

/// Names and values the random alterations insert: duplicates of typed and custom properties,
/// a second `type`, and the empty values the general path sets aside.
const NAMES: &[&str] =
    &["x_a", "x_b", "x_c", "x_d", "type", "name", "labels", "spec_version", "confidence"];

fn values() -> Vec<Value> {
    vec![
        json!(1),
        json!(-0),
        json!(2.5),
        json!("indicator"),
        json!("text"),
        json!(["a", "b"]),
        json!({"k": "v"}),
        json!(true),
        Value::Null,
        json!([]),
        Value::Object(Map::new()),
    ]
}

proptest! {
    #[test]
    fn altered_objects_read_the_same_both_ways(
        object in any::<prop::sample::Index>(),
        swaps in proptest::collection::vec((0usize..64, 0usize..64), 0..6),
        drops in proptest::collection::vec(0usize..64, 0..2),
        inserts in proptest::collection::vec(
            (0usize..64, 0..NAMES.len(), any::<prop::sample::Index>()), 0..6),
        pretty in any::<bool>(),
    ) {
        let objects = &*FIXTURE_OBJECTS;
        let mut members = objects[object.index(objects.len())].clone();
        for drop in drops {
            if !members.is_empty() {
                members.remove(drop % members.len());
            }
        }
        for (from, to) in swaps {
            if !members.is_empty() {
                let n_members = members.len();
                members.swap(from % n_members, to % n_members);
            }
        }
        let values = values();
        for (position, name, value) in inserts {
            let position = position % (members.len() + 1);
            members.insert(position, (NAMES[name].to_owned(), value.get(&values).clone()));
        }
        let bytes = object_text(&members, pretty);
        let is_fast = check_same(&bytes);
        prop_assert!(!is_fast || expect_fast(&bytes));
    }
}
