//! Reading STIX 2.0 as STIX 2.1: the rules that rewrite a 2.0 bundle's JSON before it is typed.
//!
//! A bundle is STIX 2.0 when its own `spec_version` is `"2.0"` (2.1 bundles have none).
//! Its objects are then rewritten as follows, and nothing else changes:
//!
//! 1. The bundle's `spec_version` is removed.
//! 2. Every object without `spec_version` gets `"spec_version": "2.1"`.
//! 3. `indicator`: the `labels` that are terms of the 2.0 `indicator-label-ov` vocabulary move,
//!    in order, to `indicator_types` (2.0 used `labels` for that vocabulary; 2.1 has
//!    `indicator_types`). Other labels stay in `labels`, which is removed when it ends up empty.
//!    `pattern_type: "stix"` is added when absent (2.0 patterns are STIX patterns).
//! 4. `malware`: `labels` from `malware-label-ov` move to `malware_types` the same way, and
//!    `is_family: true` is added when absent (2.0 malware described families).
//! 5. `threat-actor`: `labels` from `threat-actor-label-ov` move to `threat_actor_types`.
//! 6. `tool`: `labels` from `tool-label-ov` move to `tool_types`.
//! 7. `report`: `labels` from `report-label-ov` move to `report_types`.
//! 8. `identity` needs no rule: 2.0 already carried its vocabulary in `identity_class` and
//!    `sectors`, not in `labels`, so its labels stay labels.
//!
//! Matching is exact (case-sensitive): a label such as `Threat-Report` is not the vocabulary
//! term `threat-report` and stays a label. An object that already has the 2.1 property keeps it
//! and its labels are left alone. Deprecated 2.0 constructs that 2.1 still accepts
//! (`observed-data.objects`) are kept as they are.

use serde_json::{Map, Value};

/// The vocabularies STIX 2.0 carried in `labels`, by object type, with their 2.1 property.
const LABEL_VOCABULARIES: &[(&str, &str, &[&str])] = &[
    (
        "indicator",
        "indicator_types",
        &[
            "anomalous-activity",
            "anonymization",
            "benign",
            "compromised",
            "malicious-activity",
            "attribution",
        ],
    ),
    (
        "malware",
        "malware_types",
        &[
            "adware",
            "backdoor",
            "bot",
            "ddos",
            "dropper",
            "exploit-kit",
            "keylogger",
            "ransomware",
            "remote-access-trojan",
            "resource-exploitation",
            "rogue-security-software",
            "rootkit",
            "screen-capture",
            "spyware",
            "trojan",
            "virus",
            "worm",
        ],
    ),
    (
        "threat-actor",
        "threat_actor_types",
        &[
            "activist",
            "competitor",
            "crime-syndicate",
            "criminal",
            "hacker",
            "insider-accidental",
            "insider-disgruntled",
            "nation-state",
            "sensationalist",
            "spy",
            "terrorist",
        ],
    ),
    (
        "tool",
        "tool_types",
        &[
            "denial-of-service",
            "exploitation",
            "information-gathering",
            "network-capture",
            "credential-exploitation",
            "remote-access",
            "vulnerability-scanning",
        ],
    ),
    (
        "report",
        "report_types",
        &[
            "threat-report",
            "attack-pattern",
            "campaign",
            "identity",
            "indicator",
            "intrusion-set",
            "malware",
            "observed-data",
            "threat-actor",
            "tool",
            "vulnerability",
        ],
    ),
];

/// Rewrites one STIX 2.0 object's properties as STIX 2.1 (rules 2 to 8 of the module doc).
pub(crate) fn upgrade_object(object: &mut Map<String, Value>) {
    let object_type = object.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
    if !object.contains_key("spec_version") {
        object.insert("spec_version".to_owned(), Value::from("2.1"));
    }
    let vocabulary = LABEL_VOCABULARIES.iter().find(|(name, _, _)| *name == object_type);
    if let Some((_, property, terms)) = vocabulary {
        move_vocabulary_labels(object, property, terms);
    }
    match object_type.as_str() {
        "indicator" if !object.contains_key("pattern_type") => {
            object.insert("pattern_type".to_owned(), Value::from("stix"));
        }
        "malware" if !object.contains_key("is_family") => {
            object.insert("is_family".to_owned(), Value::Bool(true));
        }
        _ => {}
    }
}

fn move_vocabulary_labels(object: &mut Map<String, Value>, property: &str, terms: &[&str]) {
    if object.contains_key(property) {
        return;
    }
    let Some(Value::Array(labels)) = object.get_mut("labels") else { return };
    let is_term = |label: &Value| label.as_str().is_some_and(|text| terms.contains(&text));
    let (moved, kept): (Vec<Value>, Vec<Value>) = labels.drain(..).partition(is_term);
    *labels = kept;
    if moved.is_empty() {
        return;
    }
    if labels.is_empty() {
        object.remove("labels");
    }
    object.insert(property.to_owned(), Value::Array(moved));
}
