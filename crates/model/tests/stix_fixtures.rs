//! Every STIX bundle among the shared feed fixtures parses and round-trips; the 2.0 ones are
//! upgraded to 2.1.

use std::fs;
use std::path::Path;

use serde_json::Value;
use watchfire_model::stix::{Bundle, SpecVersion};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/feeds");

const STIX20_FILES: &[&str] = &[
    "indicator-for-c2-ip-address.json",
    "indicators-for-C2-with-COA.json",
    "malicious-email-indicator-with-attachment.json",
    "misp2stix2_report_bundle.json",
];

const STIX21_FILES: &[&str] = &[
    "feeds2stix_cinsscore_bundle.json",
    "feeds2stix_sslbl_BRAT_bundle.json",
    "indicator-for-c2-ip-address.json",
    "indicators-for-C2-with-COA.json",
    "infrastructure.json",
    "malicious-email-indicator-with-attachment.json",
];

fn read(version_dir: &str, name: &str) -> Vec<u8> {
    let path = Path::new(FIXTURES).join(version_dir).join(name);
    fs::read(&path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()))
}

fn json_files(version_dir: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(Path::new(FIXTURES).join(version_dir))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    names
}

/// Parses, serialises and parses again; returns the bundle and its serialised JSON value.
fn round_trip(bytes: &[u8], name: &str, expected_version: SpecVersion) -> (Bundle, Value) {
    let (bundle, version) =
        Bundle::parse_versioned(bytes).unwrap_or_else(|error| panic!("{name}: {error}"));
    assert_eq!(version, expected_version, "{name}");
    let serialised = serde_json::to_vec(&bundle).unwrap();
    let (reparsed, reparsed_version) = Bundle::parse_versioned(&serialised)
        .unwrap_or_else(|error| panic!("{name}: reparse: {error}"));
    assert_eq!(reparsed_version, SpecVersion::V2_1, "{name}");
    assert_eq!(reparsed, bundle, "{name}: parse -> serialise -> parse changed the bundle");
    (bundle, serde_json::from_slice(&serialised).unwrap())
}

#[test]
fn every_fixture_is_listed() {
    let mut stix20: Vec<String> = STIX20_FILES.iter().map(|name| (*name).to_owned()).collect();
    let mut stix21: Vec<String> = STIX21_FILES.iter().map(|name| (*name).to_owned()).collect();
    stix20.sort();
    stix21.sort();
    assert_eq!(json_files("stix20"), stix20);
    assert_eq!(json_files("stix21"), stix21);
}

#[test]
fn stix21_fixtures_round_trip_to_the_same_json() {
    for name in STIX21_FILES {
        let bytes = read("stix21", name);
        let (bundle, serialised) = round_trip(&bytes, name, SpecVersion::V2_1);
        let original: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(serialised, original, "{name}: serialised JSON differs from the file");
        let n_objects = original["objects"].as_array().unwrap().len();
        assert_eq!(bundle.objects.len(), n_objects, "{name}");
    }
}

#[test]
fn stix20_fixtures_are_upgraded_and_round_trip() {
    for name in STIX20_FILES {
        let bytes = read("stix20", name);
        let (bundle, serialised) = round_trip(&bytes, name, SpecVersion::V2_0);
        assert!(serialised.get("spec_version").is_none(), "{name}: bundle keeps spec_version");
        for object in &bundle.objects {
            assert_eq!(object.spec_version(), Some("2.1"), "{name}: {}", object.id());
        }
        let n_objects =
            serde_json::from_slice::<Value>(&bytes).unwrap()["objects"].as_array().unwrap().len();
        assert_eq!(bundle.objects.len(), n_objects, "{name}");
    }
}

/// The fixture sets hold the same examples in both versions; the upgraded 2.0 file equals the
/// 2.1 file except for the properties the 2.1 authors changed by hand.
#[test]
fn upgraded_stix20_matches_its_stix21_twin() {
    // (file, property names ignored on every object)
    let twins: &[(&str, &[&str])] = &[
        ("indicator-for-c2-ip-address.json", &["description"]),
        ("indicators-for-C2-with-COA.json", &["description"]),
        ("malicious-email-indicator-with-attachment.json", &["description", "object_marking_refs"]),
    ];
    for (name, ignored) in twins {
        let strip = |mut bundle: Value| {
            for object in bundle["objects"].as_array_mut().unwrap() {
                let object = object.as_object_mut().unwrap();
                for property in *ignored {
                    object.remove(*property);
                }
            }
            bundle
        };
        let upgraded = serde_json::to_value(Bundle::parse(&read("stix20", name)).unwrap()).unwrap();
        let expected: Value = serde_json::from_slice(&read("stix21", name)).unwrap();
        assert_eq!(strip(upgraded), strip(expected), "{name}");
    }
}
