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
            Piece::Element { line, bytes, .. } => match serde_json::from_slice(bytes) {
                Ok(Value::Object(properties)) => {
                    read_object(context, on_item, line, properties, is_2_0);
                }
                Ok(_) => on_item(context.reject(line, "object: expected a json object")),
                Err(error) => {
                    on_item(context.reject(line, format!("object: invalid json: {error}")));
                }
            },
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
    let indicators = match &object {
        StixObject::Indicator(indicator) => indicator_records(indicator),
        _ => Vec::new(),
    };
    on_item(Item::Record(Record::Stix(Box::new(object))));
    for indicator in indicators {
        on_item(Item::Record(Record::Indicator(indicator)));
    }
}

/// Returns the indicator records of a STIX indicator (see the module doc).
fn indicator_records(indicator: &stix::Indicator) -> Vec<IndicatorRecord> {
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
pub(crate) fn category(labels: &[String], indicator_types: &[String]) -> Option<Category> {
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
