//! The AlienVault OTX, PhishTank and OpenPhish readers on real samples.

mod common;

use proptest::prelude::*;
use watchfire_formats::Item;
use watchfire_model::record::{Category, IndicatorRecord, Record};
use watchfire_model::tlp::Tlp;

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
fn fixtures() {
    common::check_fixture("alienvault-otx", "alienvault-otx/pulses_subscribed.json");
    common::check_fixture("phishtank", "phishtank/online-valid.json");
    common::check_fixture("openphish", "openphish/feed.txt");
    common::check_fixture("openphish", "openphish/feed_commercial.txt");
}

#[test]
fn otx_pulses_give_tlp_cves_and_skip_paths() {
    let items =
        common::read("alienvault-otx", &common::fixture("alienvault-otx/pulses_subscribed.json"));
    let indicators = indicators(&items);
    assert!(common::rejects(&items).is_empty());
    // 57 indicators: the CVE, the bare-path URI and none else are left out.
    assert_eq!(indicators.len(), 55);
    assert!(indicators.iter().any(|i| i.tags.iter().any(|tag| tag == "CVE-2012-0158")));
    assert!(indicators.iter().any(|i| i.tlp == Some(Tlp::Clear)));
    assert!(indicators.iter().any(|i| i.tlp == Some(Tlp::Green)));
    assert!(indicators.iter().all(|i| i.references.iter().all(|r| r.starts_with("http"))));
    // Pulse tags (`spearphishing`) describe the campaign, not each indicator.
    assert!(indicators.iter().all(|i| i.category == Some(Category::Malicious)));
}

#[test]
fn otx_results_wrapper_and_bad_value() {
    let document = br#"{"results": [{"id": "p1", "name": "x", "author_name": "a", "TLP": "amber", "tags": [],
      "indicators": [{"indicator": "198.51.100.300", "type": "IPv4"}, {"indicator": "Evil.Example.com", "type": "hostname",
      "created": "2016-11-03T20:15:43", "expiration": "2017-01-01T00:00:00"}]}], "next": null}"#;
    let items = common::read_bytes("alienvault-otx", "subscribed.json", document).unwrap();
    let indicators = indicators(&items);
    assert_eq!(indicators.len(), 1);
    assert_eq!(
        indicators[0].observable().map(watchfire_model::Observable::value),
        Some("evil.example.com")
    );
    assert_eq!(indicators[0].tlp, Some(Tlp::Amber));
    assert_eq!(indicators[0].category, Some(Category::Malicious));
    assert_eq!(
        indicators[0].valid_until.as_ref().map(ToString::to_string).as_deref(),
        Some("2017-01-01T00:00:00.000Z")
    );
    let rejects = common::rejects(&items);
    assert_eq!(rejects.len(), 1);
    assert!(
        rejects[0].reason.starts_with("pulse p1 indicator 1 (IPv4): "),
        "{}",
        rejects[0].reason
    );
}

#[test]
fn phishtank_entries_are_phishing_urls() {
    let items = common::read("phishtank", &common::fixture("phishtank/online-valid.json"));
    let indicators = indicators(&items);
    assert_eq!(indicators.len(), 3);
    assert!(
        indicators.iter().all(|i| i.category == Some(Category::Phishing) && i.first_seen.is_some())
    );
    assert_eq!(indicators[0].tags, ["target:AEON Card"]);
    assert!(indicators[1].tags.is_empty(), "target Other is left out");
}

#[test]
fn openphish_invalid_host_is_a_reject_and_crlf_works() {
    let items = common::read_bytes(
        "openphish",
        "feed.txt",
        b"# comment\r\nhttp://www..example.com/x\r\n\r\nhttps://Phish.Example.com/login\r\n",
    )
    .unwrap();
    let values: Vec<_> =
        indicators(&items).iter().filter_map(|i| i.observable()).map(ToString::to_string).collect();
    assert_eq!(values, ["https://phish.example.com/login"]);
    let rejects = common::rejects(&items);
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].line, 2);
}

#[test]
fn detects_the_json_feeds() {
    for (relative, format) in [
        ("alienvault-otx/pulses_subscribed.json", "alienvault-otx"),
        ("phishtank/online-valid.json", "phishtank"),
        ("openphish/feed_commercial.txt", "openphish"),
    ] {
        let head = std::fs::read(common::fixture(relative)).unwrap();
        assert_eq!(watchfire_formats::detect(&head, "input").unwrap().name, format, "{relative}");
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for format in ["alienvault-otx", "phishtank", "openphish"] {
            let _ = common::read_bytes(format, "fuzz", &bytes);
        }
    }
}
