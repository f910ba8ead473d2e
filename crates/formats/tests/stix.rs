//! The `stix` reader on real STIX 2.0 and 2.1 bundles, truncated bundles and arbitrary bytes.

mod common;

use proptest::prelude::*;
use watchfire_formats::Item;
use watchfire_model::record::{Category, Record, Subject};
use watchfire_model::stix::StixObject;
use watchfire_model::tlp::Tlp;

#[test]
fn fixtures() {
    for file in [
        "stix20/indicator-for-c2-ip-address.json",
        "stix20/indicators-for-C2-with-COA.json",
        "stix20/malicious-email-indicator-with-attachment.json",
        "stix20/misp2stix2_report_bundle.json",
        "stix21/feeds2stix_cinsscore_bundle.json",
        "stix21/feeds2stix_sslbl_BRAT_bundle.json",
        "stix21/indicator-for-c2-ip-address.json",
        "stix21/indicators-for-C2-with-COA.json",
        "stix21/infrastructure.json",
        "stix21/malicious-email-indicator-with-attachment.json",
    ] {
        let items = check_fixture(file);
        assert!(common::rejects(&items).is_empty(), "{file} has rejects");
    }
}

/// Checks a fixture like `common::check_fixture`, but names the snapshot after the folder too
/// (`stix20-indicator-for-c2-ip-address.json.expected`): stix20 and stix21 share file names.
fn check_fixture(fixture_relative: &str) -> Vec<Item> {
    let items = common::read("stix", &common::fixture(fixture_relative));
    let snapshot = fixture_relative.replace('/', "-");
    let expected_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test_data/stix")
        .join(format!("{snapshot}.expected"));
    expect_test::expect_file![expected_path].assert_eq(&common::render(&items));
    items
}

fn read(bytes: &[u8]) -> Vec<Item> {
    common::read_bytes("stix", "bundle.json", bytes).expect("reads")
}

fn stix_ids(items: &[Item]) -> Vec<String> {
    common::records(items)
        .into_iter()
        .filter_map(|record| match record {
            Record::Stix(object) => Some(object.id().to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn stix_2_0_is_upgraded() {
    let items = common::read("stix", &common::fixture("stix20/indicator-for-c2-ip-address.json"));
    let Record::Stix(object) = common::records(&items)[0] else { panic!("a stix record first") };
    let StixObject::Indicator(indicator) = object.as_ref() else { panic!("an indicator") };
    assert_eq!(indicator.spec_version.as_deref(), Some("2.1"));
    assert_eq!(indicator.indicator_types, ["malicious-activity"]);
    assert!(indicator.labels.is_empty());
    assert_eq!(indicator.pattern_type, "stix");
    let Record::Indicator(record) = common::records(&items)[1] else {
        panic!("an indicator record")
    };
    assert_eq!(record.observable().map(watchfire_model::Observable::value), Some("10.0.0.0"));
    assert_eq!(record.category, Some(Category::Malicious));
}

#[test]
fn spec_version_after_objects_still_upgrades() {
    let bundle = br#"{"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982", "objects": [
        {"type": "malware", "id": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b", "created": "2016-04-06T20:07:09.000Z",
         "modified": "2016-04-06T20:07:09.000Z", "name": "Poison Ivy", "labels": ["remote-access-trojan"]}
    ], "spec_version": "2.0"}"#;
    let items = read(bundle);
    let Record::Stix(object) = common::records(&items)[0] else { panic!("a stix record") };
    let StixObject::Malware(malware) = object.as_ref() else { panic!("a malware") };
    assert_eq!(malware.malware_types, ["remote-access-trojan"]);
    assert!(malware.is_family);
}

#[test]
fn tlp_labels_and_references_are_read() {
    let bundle = br#"{"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982", "objects": [
      {"type": "indicator", "spec_version": "2.1", "id": "indicator--33fe3b22-0201-47cf-85d0-97c02164528d",
       "created": "2024-01-01T00:00:00Z", "modified": "2024-01-01T00:00:00Z", "confidence": 80,
       "labels": ["phishing-kit"], "indicator_types": ["malicious-activity"],
       "object_marking_refs": ["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"],
       "external_references": [{"source_name": "x", "url": "https://example.org/report"}],
       "pattern": "[domain-name:value = 'EVIL.example.com' OR url:value = 'http://evil.example.com/login']",
       "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z", "valid_until": "2024-02-01T00:00:00Z"}
    ]}"#;
    let items = read(bundle);
    let indicators: Vec<_> = common::records(&items)
        .into_iter()
        .filter_map(|record| match record {
            Record::Indicator(indicator) => Some(indicator),
            _ => None,
        })
        .collect();
    let values: Vec<_> = indicators
        .iter()
        .filter_map(|i| i.observable())
        .map(watchfire_model::Observable::value)
        .collect();
    assert_eq!(values, ["evil.example.com", "http://evil.example.com/login"]);
    for indicator in indicators {
        assert_eq!(indicator.tlp, Some(Tlp::Amber));
        assert_eq!(indicator.category, Some(Category::Phishing));
        assert_eq!(indicator.confidence.map(watchfire_model::record::Confidence::get), Some(80));
        assert_eq!(indicator.references, ["https://example.org/report"]);
        assert_eq!(indicator.tags, ["phishing-kit"]);
        assert_eq!(
            indicator.valid_until.as_ref().map(ToString::to_string).as_deref(),
            Some("2024-02-01T00:00:00Z")
        );
    }
}

#[test]
fn unmatchable_pattern_is_a_pattern_subject() {
    let items = common::read("stix", &common::fixture("stix21/feeds2stix_sslbl_BRAT_bundle.json"));
    let subjects: Vec<_> = common::records(&items)
        .into_iter()
        .filter_map(|record| match record {
            Record::Indicator(indicator) => Some(&indicator.subject),
            _ => None,
        })
        .collect();
    assert!(matches!(subjects[..], [Subject::Pattern(_)]), "{subjects:?}");
}

#[test]
fn truncated_bundle_keeps_the_objects_before_the_break() {
    let path = common::fixture("stix21/indicators-for-C2-with-COA.json");
    let whole = std::fs::read(&path).unwrap();
    let all_ids = stix_ids(&read(&whole));
    assert_eq!(all_ids.len(), 8);
    // Cut inside the fourth object: the first three come out, then one reject where it starts.
    let text = String::from_utf8(whole.clone()).unwrap();
    let fourth = text.match_indices("\"type\": ").nth(4).unwrap().0;
    let items = read(&whole[..fourth + 5]);
    assert_eq!(stix_ids(&items), all_ids[..3]);
    let rejects = common::rejects(&items);
    assert_eq!(rejects.len(), 1);
    let object_start = text[..fourth].rfind('{').unwrap();
    let expected_line = text[..object_start].matches('\n').count() as u64 + 1;
    assert_eq!(rejects[0].line, expected_line);
    assert!(rejects[0].reason.starts_with("truncated document"), "{}", rejects[0].reason);
}

#[test]
fn bad_object_is_one_reject() {
    let bundle = b"{\"type\": \"bundle\", \"id\": \"bundle--44af6c39-c09b-49c5-9de2-394224b04982\", \"objects\": [\n{\"type\": \"indicator\", \"id\": \"nonsense\"},\n{\"type\": \"x-custom\", \"id\": \"x-custom--44af6c39-c09b-49c5-9de2-394224b04982\", \"spec_version\": \"2.1\"}\n]}";
    let items = read(bundle);
    assert_eq!(stix_ids(&items), ["x-custom--44af6c39-c09b-49c5-9de2-394224b04982"]);
    let rejects = common::rejects(&items);
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].line, 2);
    assert!(rejects[0].reason.starts_with("object nonsense: "), "{}", rejects[0].reason);
}

#[test]
fn detects_bundles() {
    let head = std::fs::read(common::fixture("stix20/misp2stix2_report_bundle.json")).unwrap();
    assert_eq!(watchfire_formats::detect(&head, "x.json").unwrap().name, "stix");
    let head = std::fs::read(common::fixture("stix21/infrastructure.json")).unwrap();
    assert_eq!(watchfire_formats::detect(&head, "x.json").unwrap().name, "stix");
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = common::read_bytes("stix", "fuzz.json", &bytes);
    }

    #[test]
    fn a_cut_bundle_yields_a_prefix_of_the_objects(cut in 0usize..100_000) {
        let whole = std::fs::read(common::fixture("stix21/feeds2stix_sslbl_BRAT_bundle.json")).unwrap();
        let all_ids = stix_ids(&read(&whole));
        let cut = cut % (whole.len() + 1);
        let items = common::read_bytes("stix", "cut.json", &whole[..cut]).expect("reads");
        let ids = stix_ids(&items);
        prop_assert!(all_ids.starts_with(&ids));
        if cut < whole.len() && !whole[cut..].iter().all(u8::is_ascii_whitespace) {
            prop_assert_eq!(common::rejects(&items).len(), 1);
        }
    }
}

#[test]
fn bom_and_crlf_bundle_reads_with_right_lines() {
    let whole = std::fs::read(common::fixture("stix21/indicator-for-c2-ip-address.json")).unwrap();
    let crlf = String::from_utf8(whole.clone()).unwrap().replace('\n', "\r\n");
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend_from_slice(crlf.as_bytes());
    assert_eq!(read(&bytes), read(&whole));
    let broken = crlf.replacen("\"pattern\"", "\"pattern\" oops", 1);
    let rejects_crlf =
        common::rejects(&read(broken.as_bytes())).into_iter().map(|r| r.line).collect::<Vec<_>>();
    let rejects_lf = common::rejects(&read(broken.replace("\r\n", "\n").as_bytes()))
        .into_iter()
        .map(|r| r.line)
        .collect::<Vec<_>>();
    assert_eq!(rejects_crlf.len(), 1);
    assert_eq!(rejects_crlf, rejects_lf);
}
