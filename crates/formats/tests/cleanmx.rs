//! The `cleanmx` reader on the Clean-MX phishing and viruses XML feeds.

mod common;

use proptest::prelude::*;
use watchfire_formats::detect;
use watchfire_model::record::{Category, IndicatorRecord, Record};

fn indicators(items: &[watchfire_formats::Item]) -> Vec<&IndicatorRecord> {
    common::records(items)
        .into_iter()
        .filter_map(|record| match record {
            Record::Indicator(indicator) => Some(indicator),
            _ => None,
        })
        .collect()
}

fn summary(indicator: &IndicatorRecord) -> String {
    let observable = indicator.observable().expect("an observable");
    format!(
        "{} {} {:?} {:?}",
        observable.kind().as_str(),
        observable.value(),
        indicator.category.map(Category::as_str),
        indicator.first_seen.as_ref().map(|time| time.as_str().to_owned()),
    )
}

#[test]
fn phishing_fixture() {
    let items = common::check_fixture("cleanmx", "cleanmx/xmlphishing");
    let summaries: Vec<String> = indicators(&items).into_iter().map(summary).collect();
    expect_test::expect![[r#"
        [
            "url http://www.autoposting.com.br/i/ Some(\"phishing\") Some(\"2017-08-06T14:59:50.000Z\")",
            "ipv4 104.28.15.106 Some(\"phishing\") Some(\"2017-08-06T14:59:50.000Z\")",
            "url http://mvptrades.xyz/ad0be/view/?email=abuse@exxonmobil.com Some(\"phishing\") Some(\"2017-08-23T17:04:43.000Z\")",
            "ipv4 198.38.90.108 Some(\"phishing\") Some(\"2017-08-23T17:04:43.000Z\")",
            "url http://accounts.google.com/ Some(\"phishing\") Some(\"2017-10-18T17:48:09.000Z\")",
        ]
    "#]]
    .assert_debug_eq(&summaries);
    let rejects = common::rejects(&items);
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].line, 68, "the line of the bad <ip>");
    assert!(rejects[0].reason.starts_with("element ip: invalid observable \"accounts.google.\""));
    let first = indicators(&items)[0];
    assert_eq!(first.references, ["https://www.phishtank.com/phish_detail.php?phish_id=5140280"]);
    assert_eq!(first.last_seen, None, "last is 0 while the entry is live");
    assert_eq!(indicators(&items)[2].tags, ["target:Adobe"]);
}

#[test]
fn viruses_fixture() {
    let items = common::check_fixture("cleanmx", "cleanmx/xmlviruses");
    assert!(common::rejects(&items).is_empty());
    let indicators = indicators(&items);
    let summaries: Vec<String> = indicators.iter().map(|indicator| summary(indicator)).collect();
    assert_eq!(summaries.len(), 6);
    assert!(
        summaries[0].starts_with(
            "url http://quotescar.typepad.com/24wer.html Some(\"malware_distribution\")"
        )
    );
    assert!(summaries[2].starts_with("md5 14404b4610a945706d802a54eed2429b Some(\"malicious\")"));
    assert_eq!(indicators[0].malware.as_deref(), Some("js.agent.uo.2"));
    assert_eq!(
        indicators[0].references,
        ["http://www.virustotal.com/latest-report.html?resource=14404b4610a945706d802a54eed2429b"]
    );
    assert_eq!(
        indicators[2].description.as_deref(),
        Some("served by http://quotescar.typepad.com/24wer.html")
    );
}

#[test]
fn both_fixtures_are_detected() {
    for file in ["cleanmx/xmlphishing", "cleanmx/xmlviruses"] {
        let bytes = std::fs::read(common::fixture(file)).unwrap();
        assert_eq!(
            detect(&bytes, "feed").map(|format| format.name).ok(),
            Some("cleanmx"),
            "{file}"
        );
    }
    assert!(detect(b"<?xml version=\"1.0\"?><rss></rss>", "feed.xml").is_err());
}

#[test]
fn latin9_entities_crlf_and_broken_entries() {
    let input = b"<?xml version=\"1.0\" encoding=\"iso-8859-15\"?>\r\n<output><entries>\r\n\
        <entry><first>1513117810</first><url>http://example.com/a?b=1&amp;c=\xa4</url><virusname>x</virusname></entry>\r\n\
        <entry><first>yesterday</first><url>http://exa mple.com/</url></entry>\r\n\
        <entry><url><![CDATA[http://example.org/x]]></url><md5>abc</md5>\r\n";
    let items = common::read_bytes("cleanmx", "xmlviruses", input).unwrap();
    let summaries: Vec<String> = indicators(&items).into_iter().map(summary).collect();
    expect_test::expect![[r#"
        [
            "url http://example.com/a?b=1&c=%E2%82%AC Some(\"malware_distribution\") Some(\"2017-12-12T22:30:10.000Z\")",
        ]
    "#]]
    .assert_debug_eq(&summaries);
    let rejects: Vec<String> = common::rejects(&items)
        .iter()
        .map(|reject| format!("{}: {}", reject.line, reject.reason))
        .collect();
    expect_test::expect![[r#"
        [
            "4: element first: bad timestamp \"yesterday\"",
            "4: element url: invalid observable \"http://exa mple.com/\": url authority contains whitespace, a control character or a backslash",
            "4: entry has no valid url, ip or md5",
            "5: entry not closed at the end of the input",
        ]
    "#]]
    .assert_debug_eq(&rejects);
}

#[test]
fn other_xml_fails_as_a_whole() {
    let error =
        common::read_bytes("cleanmx", "x.xml", b"<?xml version=\"1.0\"?><rss/>").unwrap_err();
    assert!(error.to_string().contains("not the clean-mx <output>"), "{error}");
    assert!(common::read_bytes("cleanmx", "x.xml", b"").is_err());
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = common::read_bytes("cleanmx", "xmlphishing", &bytes);
        let mut framed = b"<output><entries><entry><url>".to_vec();
        framed.extend_from_slice(&bytes);
        let _ = common::read_bytes("cleanmx", "xmlphishing", &framed);
    }
}
