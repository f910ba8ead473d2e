//! The MISP readers on real events, feeds, the feed catalogue and warninglists.

mod common;

use proptest::prelude::*;
use watchfire_formats::{Context, Item, input};
use watchfire_model::record::{Category, IndicatorRecord, Record};
use watchfire_model::tlp::Tlp;

const WARNINGLISTS: &[(&str, usize, usize)] = &[
    // (list, benign records, rejects)
    ("automated-malware-analysis", 0, 1),
    ("common-contact-emails", 0, 1),
    ("empty-hashes", 4, 0),
    ("google-gmail-sending-ips", 8, 0),
    ("public-dns-hostname", 33, 1),
    ("public-dns-v4", 37, 0),
    ("rfc1918", 3, 0),
    ("rfc5735", 15, 0),
    ("rfc6761", 21, 0),
    ("shadowserver", 27, 0),
    ("tranco10k", 40, 0),
];

fn indicators(items: &[Item]) -> Vec<&IndicatorRecord> {
    common::records(items)
        .into_iter()
        .filter_map(|record| match record {
            Record::Indicator(indicator) => Some(indicator),
            _ => None,
        })
        .collect()
}

#[test]
fn event_fixtures() {
    for file in [
        "misp-event/5a0ac036-6fbc-4855-83af-422b950d210f.json",
        "misp-event/intelmq_misp_attribute.json",
        "misp-event/intelmq_misp_event.json",
        "misp-event/pymisp_event_obj_attr_tag.json",
    ] {
        common::check_fixture("misp-event", file);
    }
    for file in [
        "misp-feed-osint/56bf399d-c46c-4fdb-a9cf-d9bb02de0b81.json",
        "misp-feed-osint/57c4445b-c548-4654-af0b-4be3950d210f.json",
    ] {
        common::check_fixture("misp-feed", file);
    }
}

#[test]
fn catalogue_and_warninglist_fixtures() {
    common::check_fixture("misp-feed-metadata", "misp-feed-metadata/defaults.json");
    for (list, n_benign, n_rejects) in WARNINGLISTS {
        let relative = format!("misp-warninglists/{list}/list.json");
        let items = common::read("misp-warninglists", &common::fixture(&relative));
        assert_eq!(common::records(&items).len(), *n_benign, "{list}");
        assert_eq!(common::rejects(&items).len(), *n_rejects, "{list}");
    }
    // One snapshot per list type (the harness names snapshots after the file, `list.json`).
    common::check_fixture(
        "misp-warninglists",
        "misp-warninglists/google-gmail-sending-ips/list.json",
    );
}

#[test]
fn qakbot_event_reads_tlp_galaxy_to_ids_and_ports() {
    let items = common::read(
        "misp-event",
        &common::fixture("misp-event/5a0ac036-6fbc-4855-83af-422b950d210f.json"),
    );
    let indicators = indicators(&items);
    assert!(common::rejects(&items).is_empty());
    // 19 ip-dst + 15 hashes, and the 24 ip-port objects' addresses.
    assert_eq!(indicators.len(), 19 + 15 + 24);
    for indicator in &indicators {
        assert_eq!(indicator.tlp, Some(Tlp::Clear));
        assert_eq!(indicator.malware.as_deref(), Some("Emotet"));
        assert_eq!(indicator.references.len(), 6);
    }
    let in_objects = &indicators[34..];
    assert!(in_objects.iter().all(|indicator| indicator.port.is_some()));
    assert_eq!(
        in_objects[0].observable().map(watchfire_model::Observable::value),
        Some("64.183.173.170")
    );
    assert_eq!(in_objects[0].port, Some(995));
    assert_eq!(indicators[0].category, Some(Category::Malicious));
}

#[test]
fn to_ids_false_is_tagged_and_uncategorised() {
    let items = common::read("misp-event", &common::fixture("misp-event/intelmq_misp_event.json"));
    let indicators = indicators(&items);
    assert_eq!(indicators.len(), 1, "the url; `text` is no observable");
    assert!(indicators[0].tags.iter().any(|tag| tag == "to_ids:false"));
    // Payload delivery url: malware distribution even without to_ids.
    assert_eq!(indicators[0].category, Some(Category::MalwareDistribution));
}

#[test]
fn response_wrapper_and_composite_types() {
    let document = br#"{"response": [{"Event": {"info": "one", "Tag": [{"name": "tlp:amber"}, {"name": "ecsirt:fraud=\"phishing\""}],
      "Attribute": [
        {"type": "ip-dst|port", "value": "198.51.100.7|8443", "to_ids": true, "uuid": "a1", "timestamp": "1465681304"},
        {"type": "domain|ip", "value": "Evil.Example.com|198.51.100.8", "to_ids": true, "uuid": "a2"},
        {"type": "filename|sha256", "value": "x.exe|E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "to_ids": true, "uuid": "a3"},
        {"type": "url", "value": "not a url", "to_ids": true, "uuid": "a4"},
        {"type": "AS", "value": "64500", "to_ids": false, "uuid": "a5", "deleted": true}
      ]}},
      {"Event": {"info": "two", "Attribute": [{"type": "email-src", "value": "bad@example.com", "to_ids": true,
        "Tag": [{"name": "tlp:red"}]}]}}]}"#;
    let items = common::read_bytes("misp-event", "search.json", document).unwrap();
    let rendered: Vec<String> = indicators(&items)
        .iter()
        .map(|i| {
            format!(
                "{} {:?} {:?} {:?} {:?}",
                i.observable().unwrap(),
                i.port,
                i.category,
                i.tlp,
                i.description
            )
        })
        .collect();
    assert_eq!(
        rendered,
        [
            "198.51.100.7 Some(8443) Some(Phishing) Some(Amber) Some(\"one\")",
            "evil.example.com None Some(Phishing) Some(Amber) Some(\"one\")",
            "198.51.100.8 None Some(Phishing) Some(Amber) Some(\"one\")",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 None Some(Phishing) Some(Amber) Some(\"one\")",
            "bad@example.com None Some(Malicious) Some(Red) Some(\"two\")",
        ]
    );
    let rejects = common::rejects(&items);
    assert_eq!(rejects.len(), 1);
    assert!(
        rejects[0].reason.starts_with("attribute a4 (url): invalid observable \"not a url\""),
        "{}",
        rejects[0].reason
    );
}

#[test]
fn manifest_lists_the_feed_events() {
    let path = common::fixture("misp-feed-osint/manifest.json");
    let mut reader = input::open("manifest.json", std::fs::File::open(&path).unwrap()).unwrap();
    let mut rejects = Vec::new();
    let events = watchfire_formats::misp::read_manifest(
        &mut reader,
        &Context::new("manifest.json"),
        &mut |item| rejects.push(item),
    )
    .unwrap();
    assert!(rejects.is_empty());
    let summary: Vec<_> = events
        .iter()
        .map(|event| (event.uuid.as_str(), event.timestamp.as_ref().map(ToString::to_string)))
        .collect();
    assert_eq!(summary.len(), 1, "{summary:?}");
    assert_eq!(summary[0].0, "56bf399d-c46c-4fdb-a9cf-d9bb02de0b81");
    assert!(
        summary[0].1.as_deref().is_some_and(|time| time.starts_with("2016-02-13T14:20:40")),
        "{summary:?}"
    );
    // Reading the manifest as a feed event is an error that says what to do.
    let bytes = std::fs::read(&path).unwrap();
    let error = common::read_bytes("misp-feed", "manifest.json", &bytes).unwrap_err();
    assert!(error.to_string().contains("manifest"), "{error}");
}

#[test]
fn detects_misp_documents() {
    for (relative, format) in [
        ("misp-event/5a0ac036-6fbc-4855-83af-422b950d210f.json", "misp-event"),
        ("misp-event/intelmq_misp_event.json", "misp-event"),
        ("misp-event/pymisp_event_obj_attr_tag.json", "misp-event"),
        ("misp-feed-osint/57c4445b-c548-4654-af0b-4be3950d210f.json", "misp-event"),
        ("misp-feed-osint/manifest.json", "misp-feed"),
        ("misp-feed-metadata/defaults.json", "misp-feed-metadata"),
        ("misp-warninglists/rfc1918/list.json", "misp-warninglists"),
        ("misp-warninglists/tranco10k/list.json", "misp-warninglists"),
    ] {
        let head = std::fs::read(common::fixture(relative)).unwrap();
        let name = std::path::Path::new(relative).file_name().unwrap().to_str().unwrap();
        assert_eq!(watchfire_formats::detect(&head, name).unwrap().name, format, "{relative}");
    }
}

#[test]
fn truncated_event_is_a_reject() {
    let bytes =
        std::fs::read(common::fixture("misp-feed-osint/57c4445b-c548-4654-af0b-4be3950d210f.json"))
            .unwrap();
    let items = common::read_bytes("misp-feed", "cut.json", &bytes[..bytes.len() / 2]).unwrap();
    assert!(indicators(&items).is_empty());
    let rejects = common::rejects(&items);
    assert_eq!(rejects.len(), 1);
    assert!(rejects[0].reason.starts_with("truncated document"), "{}", rejects[0].reason);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for format in ["misp-event", "misp-feed", "misp-feed-metadata", "misp-warninglists"] {
            let _ = common::read_bytes(format, "fuzz.json", &bytes);
        }
        let mut reader = bytes.as_slice();
        let _ = watchfire_formats::misp::read_manifest(&mut reader, &Context::new("m.json"), &mut |_| {});
    }
}
