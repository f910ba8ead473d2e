//! Spamhaus formats: every fixture snapshotted, plus targeted checks.

mod common;

use common::{check_fixture, read_bytes, records, rejects};
use watchfire_formats::detect;
use watchfire_model::record::{Category, Record};

fn indicator(record: &Record) -> &watchfire_model::record::IndicatorRecord {
    match record {
        Record::Indicator(indicator) => indicator,
        other => panic!("expected an indicator, got {other:?}"),
    }
}

#[test]
fn drop_text_fixtures() {
    let items = check_fixture("spamhaus-drop", "spamhaus-drop/drop.txt");
    let all = records(&items);
    assert_eq!(all.len(), 2);
    let first = indicator(all[0]);
    assert_eq!(first.observable().unwrap().value(), "1.4.0.0/17");
    assert_eq!(first.category, Some(Category::Bogon));
    assert_eq!(first.tags, ["SBL256893"]);
    assert_eq!(first.last_seen.as_ref().unwrap().as_str(), "2015-09-14T04:39:22.000Z");
    assert_eq!(first.valid_until.as_ref().unwrap().as_str(), "2015-09-14T10:13:00.000Z");
    assert_eq!(indicator(all[1]).observable().unwrap().value(), "2a06:e480::/29");
    let items = check_fixture("spamhaus-drop", "spamhaus-drop/drop.lasso");
    assert_eq!(records(&items).len(), 10, "the last line has no newline");
    assert_eq!(records(&check_fixture("spamhaus-drop", "spamhaus-drop/drop_2025.txt")).len(), 40);
    assert_eq!(records(&check_fixture("spamhaus-drop", "spamhaus-drop/dropv6.txt")).len(), 26);
    assert_eq!(records(&check_fixture("spamhaus-drop", "spamhaus-drop/edrop.txt")).len(), 40);
    let tombstone = check_fixture("spamhaus-drop", "spamhaus-drop/edrop_2024_tombstone.txt");
    assert!(tombstone.is_empty());
    let items = check_fixture("spamhaus-drop", "spamhaus-drop/asndrop.txt");
    let all = records(&items);
    assert_eq!(indicator(all[0]).observable().unwrap().value(), "AS260");
    assert_eq!(
        indicator(all[0]).description.as_deref(),
        Some("XCONNECT24 - Xconnect24 Inc., US (AE)")
    );
    assert_eq!(indicator(all[1]).description.as_deref(), Some("Orb-bit Design Group"));
}

#[test]
fn drop_json_fixture() {
    let items = check_fixture("spamhaus-drop-json", "spamhaus-drop/drop_v4.json");
    assert_eq!(
        (records(&items).len(), rejects(&items).len()),
        (27, 0),
        "the metadata line is skipped"
    );
    let items = read_bytes(
        "spamhaus-drop-json",
        "asndrop.json",
        b"{\"asn\":64500,\"rir\":\"arin\",\"cc\":\"US\",\"asname\":\"EXAMPLE\"}\r\n{\"cidr\":\"1.2.3.0/33\",\"sblid\":\"SBL1\"}\r\nnot json\n",
    )
    .unwrap();
    assert_eq!(indicator(records(&items)[0]).observable().unwrap().value(), "AS64500");
    let lines: Vec<u64> = rejects(&items).iter().map(|reject| reject.line).collect();
    assert_eq!(lines, [2, 3]);
}

#[test]
fn a_bad_drop_line_is_a_reject_with_its_number() {
    let input =
        b"; Spamhaus DROP List\r\n1.4.0.0/17 ; SBL1\r\n1.4.0.0/40 ; SBL2\r\nexample ; SBL3\r\n";
    let items = read_bytes("spamhaus-drop", "drop.txt", input).unwrap();
    assert_eq!(records(&items).len(), 1);
    let lines: Vec<u64> = rejects(&items).iter().map(|reject| reject.line).collect();
    assert_eq!(lines, [3, 4]);
}

#[test]
fn cert_export_is_host_events() {
    let items = check_fixture("spamhaus-cert", "spamhaus-cert/cert.txt");
    let all = records(&items);
    assert_eq!(all.len(), 19);
    assert!(rejects(&items).is_empty());
    let Record::Event(first) = all[0] else { panic!("expected an event") };
    assert_eq!(first.ip.to_string(), "109.126.64.2");
    assert_eq!(first.asn, Some(12635));
    assert_eq!(first.country.as_deref(), Some("AT"));
    assert_eq!(first.time.as_ref().unwrap().as_str(), "2015-08-31T08:16:10.000Z");
    assert_eq!(first.malware.as_deref(), Some("asprox"));
    assert_eq!(first.category, Some(Category::Infected));
    assert_eq!(first.port, Some(25));
    let Record::Event(unknowns) = all[3] else { panic!("expected an event") };
    assert!(unknowns.details.is_empty(), "- and ? are unknown: {:?}", unknowns.details);
    let Record::Event(relay) = all[4] else { panic!("expected an event") };
    assert_eq!(relay.category, Some(Category::BruteForce));
    assert_eq!(relay.event_type, "iotrdp");
}

#[test]
fn detection_recognises_spamhaus_banners() {
    for (fixture, expected) in [
        ("spamhaus-drop/drop.txt", "spamhaus-drop"),
        ("spamhaus-drop/drop.lasso", "spamhaus-drop"),
        ("spamhaus-drop/drop_2025.txt", "spamhaus-drop"),
        ("spamhaus-drop/dropv6.txt", "spamhaus-drop"),
        ("spamhaus-drop/edrop.txt", "spamhaus-drop"),
        ("spamhaus-drop/edrop_2024_tombstone.txt", "spamhaus-drop"),
        ("spamhaus-drop/asndrop.txt", "spamhaus-drop"),
        ("spamhaus-drop/drop_v4.json", "spamhaus-drop-json"),
        ("spamhaus-cert/cert.txt", "spamhaus-cert"),
    ] {
        let bytes = std::fs::read(common::fixture(fixture)).unwrap();
        assert_eq!(
            detect(&bytes, fixture).map(|format| format.name).ok(),
            Some(expected),
            "{fixture}"
        );
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        for name in ["spamhaus-drop", "spamhaus-drop-json", "spamhaus-cert"] {
            let _ = read_bytes(name, "fuzz", &bytes);
        }
    }
}
