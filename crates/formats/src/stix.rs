//! STIX 2.1 and 2.0 bundles (format `stix`), streamed object by object.
//!
//! The bundle's `objects` array is split with [`json_stream`](crate::json_stream), so a bundle
//! of any size is read one object at a time (each at most
//! [`MAX_ELEMENT`](crate::json_stream::MAX_ELEMENT) bytes).
//!
//! What comes out:
//! - every object that parses becomes a `Record::Stix`, kept as it came (2.0 upgraded to 2.1);
//! - an `indicator` whose `pattern_type` is `stix` additionally yields `Record::Indicator`s
//!   right after its `Record::Stix`: one per observable when the pattern is a plain list of
//!   observables ([`Pattern::observables`]), else one whose subject is the pattern itself. The
//!   store keeps the STIX object; writers and the match index use the indicator records.
//!   Revoked indicators, indicators typed only `benign`, and patterns that do not parse yield
//!   the `Record::Stix` alone.
//! - an object that is not JSON or not valid STIX is a reject naming its line and id; a
//!   truncated bundle yields the objects before the break and one reject at the line where the
//!   unfinished object starts.
//!
//! Indicator records carry: `confidence`; `valid_from` as `first_seen` (the record has no
//! `valid_from`; it is when the producer started to claim it); `valid_until`; the TLP of the
//! object's `object_marking_refs` (TLP 1.0 and 2.0 marking ids); `description` (or else
//! `name`); the `labels` as tags; the urls of `external_references` as references.
//!
//! The category comes from the labels when one names a precise threat (containing `phish` →
//! phishing; `c2`, `c&c`, `command-and-control`, `botnet` → botnet_c2; `scan` → scanner;
//! `spam` → spam; `brute` → brute_force; `malware-distribution`, `exploit-kit` →
//! malware_distribution; `tor-exit` → tor_exit), else from `indicator_types`:
//! `compromised` → compromised; `malicious-activity` and `attribution` → malicious;
//! `anomalous-activity`, `anonymization` and `unknown` give no category (they do not claim
//! malice), and nothing is invented from the name or description.
//!
//! Versions: a bundle whose `spec_version` is `"2.0"` is STIX 2.0, and each object is upgraded
//! with the model's rules ([`upgrade_2_0_object`]). Since the bundle's `spec_version` may come
//! after `objects`, an object without `spec_version` that has `created` (an SDO, SRO or marking
//! definition, which STIX 2.1 requires to carry `spec_version`) is taken as 2.0 and upgraded
//! too. A bare top-level array of objects, and a single object that is not a bundle, are read
//! the same way.

use std::io::BufRead;

use serde_json::{Map, Value};
use watchfire_model::pattern::Pattern;
use watchfire_model::record::{Category, Confidence, IndicatorRecord, Record, Subject};
use watchfire_model::stix::{self, StixObject, upgrade_2_0_object};
use watchfire_model::tlp::Tlp;

use crate::json_stream::{self, Piece, SplitError, Splitter};
use crate::{Context, Error, Format, Item};

/// The format this module reads.
pub const FORMATS: &[Format] = &[Format {
    name: "stix",
    summary: "STIX 2.1 or 2.0 bundle (objects, and indicator records from matchable patterns)",
    read,
    detect: Some(detect),
}];

fn detect(head: &[u8], _file_name: &str) -> bool {
    json_stream::first_byte(head) == Some(b'{')
        && json_stream::head_has_string_member(head, "type", "bundle")
}

fn read(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    let mut splitter = Splitter::new(input, &["objects"]);
    let mut is_2_0 = false;
    loop {
        let piece = match splitter.next_piece() {
            Ok(Some(piece)) => piece,
            Ok(None) => break,
            Err(SplitError::Io(error)) => return Err(Error::io(&context.file, error)),
            Err(SplitError::Broken { line, reason }) => {
                on_item(context.reject(line, reason));
                return Ok(());
            }
        };
        match piece {
            Piece::Property { name: "spec_version", value, .. } => is_2_0 = value == b"\"2.0\"",
            Piece::Property { .. } => {}
            Piece::Element { line, bytes, .. } => {
                read_element(context, on_item, line, bytes, is_2_0);
            }
            Piece::Reject { line, reason } => on_item(context.reject(line, reason)),
        }
    }
    // A document that is one object rather than a bundle: its members were kept as properties.
    let properties: Map<String, Value> = splitter
        .properties()
        .iter()
        .filter_map(|(name, raw)| Some((name.clone(), serde_json::from_slice(raw).ok()?)))
        .collect();
    match properties.get("type").and_then(Value::as_str) {
        None | Some("bundle") => {}
        Some(_) => read_object(context, on_item, 1, properties, false),
    }
    Ok(())
}

/// Reads the text of one object of the bundle (starting at `line`) into its records.
///
/// The typed fast path ([`StixObject::from_slice_fast`]) reads most objects; it is not tried in a
/// 2.0 bundle, and its object is kept only when it has `spec_version` (an object without it may
/// be 2.0 and need the upgrade). Everything else takes the general path, which gives the same
/// objects where the fast path succeeds and the rejects where it gives up.
fn read_element(
    context: &Context,
    on_item: &mut dyn FnMut(Item),
    line: u64,
    bytes: &[u8],
    is_2_0: bool,
) {
    if !is_2_0 {
        let fast =
            StixObject::from_slice_fast(bytes).filter(|object| object.spec_version().is_some());
        if let Some(object) = fast {
            emit_object(on_item, object);
            return;
        }
    }
    read_element_general(context, on_item, line, bytes, is_2_0);
}

/// Reads the text of one object through a JSON map, upgrading 2.0, and rejects what is wrong.
fn read_element_general(
    context: &Context,
    on_item: &mut dyn FnMut(Item),
    line: u64,
    bytes: &[u8],
    is_2_0: bool,
) {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(properties)) => read_object(context, on_item, line, properties, is_2_0),
        Ok(_) => on_item(context.reject(line, "object: expected a json object")),
        Err(error) => on_item(context.reject(line, format!("object: invalid json: {error}"))),
    }
}

/// Reads one object of the bundle (starting at `line`) into its records.
fn read_object(
    context: &Context,
    on_item: &mut dyn FnMut(Item),
    line: u64,
    mut properties: Map<String, Value>,
    is_2_0: bool,
) {
    let looks_2_0 = !properties.contains_key("spec_version") && properties.contains_key("created");
    if is_2_0 || looks_2_0 {
        upgrade_2_0_object(&mut properties);
    }
    let id = properties.get("id").and_then(Value::as_str).unwrap_or("without id").to_owned();
    let object = match StixObject::from_properties(properties) {
        Ok(object) => object,
        Err(error) => {
            on_item(context.reject(line, format!("object {id}: {error}")));
            return;
        }
    };
    emit_object(on_item, object);
}

/// Hands out an object's `Record::Stix` and then its indicator records.
fn emit_object(on_item: &mut dyn FnMut(Item), object: StixObject) {
    let indicators = match &object {
        StixObject::Indicator(indicator) => indicator_records(indicator),
        _ => Vec::new(),
    };
    on_item(Item::Record(Record::Stix(Box::new(object))));
    for indicator in indicators {
        on_item(Item::Record(Record::Indicator(indicator)));
    }
}

/// Returns the indicator records of a STIX indicator (see the module doc): what the writers
/// export for a stored indicator.
pub fn indicator_records(indicator: &stix::Indicator) -> Vec<IndicatorRecord> {
    let is_benign_only = !indicator.indicator_types.is_empty()
        && indicator.indicator_types.iter().all(|kind| kind == "benign");
    if indicator.pattern_type != "stix" || indicator.revoked == Some(true) || is_benign_only {
        return Vec::new();
    }
    let Ok(pattern) = Pattern::parse(&indicator.pattern) else { return Vec::new() };
    let subjects = match pattern.observables() {
        Ok(observables) => observables.into_iter().map(Subject::Observable).collect(),
        Err(_) => vec![Subject::Pattern(pattern)],
    };
    let category = category(&indicator.labels, &indicator.indicator_types);
    let references: Vec<String> = indicator
        .external_references
        .iter()
        .filter_map(|reference| reference.url.clone())
        .collect();
    let tlp =
        Tlp::from_marking_refs(indicator.object_marking_refs.iter().map(stix::StixId::as_str));
    subjects
        .into_iter()
        .map(|subject| IndicatorRecord {
            category,
            confidence: indicator.confidence.and_then(Confidence::new),
            first_seen: Some(indicator.valid_from.clone()),
            valid_until: indicator.valid_until.clone(),
            tags: indicator.labels.clone(),
            references: references.clone(),
            tlp,
            description: [&indicator.description, &indicator.name]
                .into_iter()
                .flatten()
                .find(|text| !text.trim().is_empty())
                .cloned(),
            ..IndicatorRecord::for_subject(subject)
        })
        .collect()
}

/// Maps labels and `indicator_types` to a category (see the module doc).
pub fn category(labels: &[String], indicator_types: &[String]) -> Option<Category> {
    let from_labels = labels.iter().find_map(|label| label_category(&label.to_ascii_lowercase()));
    from_labels.or_else(|| {
        indicator_types.iter().find_map(|kind| match kind.as_str() {
            "compromised" => Some(Category::Compromised),
            "malicious-activity" | "attribution" => Some(Category::Malicious),
            _ => None,
        })
    })
}

/// Returns the precise category a free label names, if any.
pub(crate) fn label_category(label: &str) -> Option<Category> {
    const KEYWORDS: &[(&str, Category)] = &[
        ("phish", Category::Phishing),
        ("command-and-control", Category::BotnetC2),
        ("command and control", Category::BotnetC2),
        ("c&c", Category::BotnetC2),
        ("botnet", Category::BotnetC2),
        ("malware-distribution", Category::MalwareDistribution),
        ("exploit-kit", Category::MalwareDistribution),
        ("tor-exit", Category::TorExit),
        ("brute", Category::BruteForce),
        ("scan", Category::Scanner),
        ("spam", Category::Spam),
    ];
    let is_c2 = label.split(|c: char| !c.is_ascii_alphanumeric()).any(|word| word == "c2");
    if is_c2 {
        return Some(Category::BotnetC2);
    }
    KEYWORDS.iter().find(|(keyword, _)| label.contains(keyword)).map(|(_, category)| *category)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/feeds");

    /// Splits a bundle as `read` does and reads each object with the fast path first (as `read`
    /// does) and with the general path alone; returns both item lists and how many objects the
    /// fast path read.
    fn items_both_ways(bundle: &[u8]) -> (Vec<Item>, Vec<Item>, usize) {
        let context = Context::new("bundle.json");
        let mut splitter = Splitter::new(bundle, &["objects"]);
        let (mut with_fast_path, mut general, mut n_fast) = (Vec::new(), Vec::new(), 0);
        let mut is_2_0 = false;
        while let Some(piece) = splitter.next_piece().expect("splits") {
            match piece {
                Piece::Property { name: "spec_version", value, .. } => {
                    is_2_0 = value == b"\"2.0\"";
                }
                Piece::Element { line, bytes, .. } => {
                    let on_fast = &mut |item| with_fast_path.push(item);
                    read_element(&context, on_fast, line, bytes, is_2_0);
                    let on_general = &mut |item| general.push(item);
                    read_element_general(&context, on_general, line, bytes, is_2_0);
                    let fast = StixObject::from_slice_fast(bytes);
                    n_fast +=
                        usize::from(!is_2_0 && fast.is_some_and(|o| o.spec_version().is_some()));
                }
                Piece::Property { .. } | Piece::Reject { .. } => {}
            }
        }
        (with_fast_path, general, n_fast)
    }

    fn check_same(bundle: &[u8]) -> usize {
        let (with_fast_path, general, n_fast) = items_both_ways(bundle);
        assert_eq!(with_fast_path, general);
        assert_eq!(format!("{with_fast_path:#?}"), format!("{general:#?}"));
        n_fast
    }

    #[test]
    fn fast_path_gives_the_same_items_on_every_fixture() {
        for version_dir in ["stix20", "stix21"] {
            let directory = std::path::Path::new(FIXTURES).join(version_dir);
            let mut n_fast = 0;
            for entry in std::fs::read_dir(directory).unwrap() {
                let bundle = std::fs::read(entry.unwrap().path()).unwrap();
                n_fast += check_same(&bundle);
            }
            // The 2.0 bundles take the general path; most 2.1 objects take the fast one.
            match version_dir {
                "stix20" => assert_eq!(n_fast, 0),
                _ => assert!(n_fast > 20, "{n_fast} objects read by the fast path"),
            }
        }
    }

    #[test]
    fn fast_path_gives_the_same_items_on_odd_objects() {
        let objects = [
            // Custom and unknown properties, `type` last, escapes.
            r#"{"spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z", "x_score": 7, "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix", "valid_from": "2016-04-06T20:03:48Z", "name": "caf\u00e9", "x_tags": ["a"], "type": "indicator"}"#,
            r#"{"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z", "x_a": 1, "pattern": "[domain-name:value = 'example.com']", "x_b": {"k": 2}, "pattern_type": "stix", "valid_from": "2016-04-06T20:03:48Z", "x_c": "last"}"#,
            // Custom types, and types without a Rust type.
            r#"{"type": "x-acme-thing", "spec_version": "2.1", "id": "x-acme-thing--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2016-04-06T20:03:48.000Z"}"#,
            r#"{"type": "process", "spec_version": "2.1", "id": "process--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "pid": 4}"#,
            // Bad ids, a bad type, a bad confidence, a missing property.
            r#"{"type": "indicator", "spec_version": "2.1", "id": "indicator--nonsense"}"#,
            r#"{"type": "malware", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z", "is_family": true}"#,
            r#"{"type": "Bad_Type", "spec_version": "2.1", "id": "Bad_Type--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}"#,
            r#"{"type": "identity", "spec_version": "2.1", "id": "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z", "name": "a", "confidence": 101}"#,
            r#"{"type": "identity", "spec_version": "2.1", "id": "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z"}"#,
            // Empty values, duplicates, a second type.
            r#"{"type": "identity", "spec_version": "2.1", "id": "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z", "name": "a", "description": null, "labels": [], "extensions": {}}"#,
            r#"{"type": "identity", "spec_version": "2.1", "id": "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z", "name": "a", "name": "b"}"#,
            r#"{"type": "identity", "spec_version": "2.1", "id": "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z", "x_a": 1, "name": "a", "x_b": 2, "x_a": 3}"#,
            r#"{"type": "identity", "spec_version": "2.1", "id": "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z", "name": "a", "type": "identity"}"#,
            // No spec_version: an SCO (2.1 allows it), and an SDO, which looks like 2.0.
            r#"{"type": "ipv4-addr", "id": "ipv4-addr--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "value": "198.51.100.1"}"#,
            r#"{"type": "malware", "id": "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z", "name": "Poison Ivy", "labels": ["remote-access-trojan"]}"#,
            // Not an object, not JSON.
            r#"["type", "indicator"]"#,
            r#"{"type": "indicator", "id": }"#,
        ];
        for spec_version in ["", r#""spec_version": "2.0", "#] {
            let bundle = format!(
                "{{{spec_version}\"type\": \"bundle\", \"id\": \"bundle--44af6c39-c09b-49c5-9de2-394224b04982\", \"objects\": [\n{}\n]}}",
                objects.join(",\n")
            );
            let n_fast = check_same(bundle.as_bytes());
            match spec_version {
                "" => assert_eq!(n_fast, 3),
                _ => assert_eq!(n_fast, 0),
            }
        }
    }
}
