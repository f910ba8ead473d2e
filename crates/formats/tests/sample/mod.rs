//! The fixed records every writer test exports: each observable kind, an IPv4 and an IPv6 CIDR,
//! a STIX pattern subject, every TLP level, a host event, a benign entry, a feed definition and
//! STIX objects kept as they came (one a TLP marking definition the bundle already holds).

#![allow(dead_code)] // Each test binary uses a different part.

use std::collections::BTreeMap;

use watchfire_formats::write::WriteOptions;
use watchfire_model::pattern::Pattern;
use watchfire_model::record::{
    BenignRecord, Category, Confidence, FeedDefinition, HostEvent, IndicatorRecord, Record, Subject,
};
use watchfire_model::stix::{StixObject, Timestamp};
use watchfire_model::tlp::Tlp;
use watchfire_model::{Observable, ObservableKind};

/// The options of every writer test: a fixed producer, export time and sid base.
pub fn options() -> WriteOptions {
    WriteOptions::new("Example CERT", time("2024-05-01T12:00:00Z"))
}

pub fn time(text: &str) -> Timestamp {
    Timestamp::parse(text).expect("valid timestamp")
}

fn observable(kind: ObservableKind, text: &str) -> Observable {
    Observable::parse_as(kind, text).unwrap_or_else(|error| panic!("{text}: {error}"))
}

fn indicator(kind: ObservableKind, text: &str, category: Option<Category>) -> IndicatorRecord {
    let mut indicator = IndicatorRecord::new(observable(kind, text));
    indicator.category = category;
    indicator
}

/// Returns the records, in a fixed order.
pub fn records() -> Vec<Record> {
    use ObservableKind as Kind;

    let mut c2 = indicator(Kind::Ipv4, "192.0.2.1", Some(Category::BotnetC2));
    c2.confidence = Confidence::new(80);
    c2.first_seen = Some(time("2024-03-01T10:00:00Z"));
    c2.last_seen = Some(time("2024-04-30T08:15:00Z"));
    c2.malware = Some("Emotet".to_owned());
    c2.port = Some(8080);
    c2.tags = vec!["emotet".to_owned(), "epoch5".to_owned()];
    c2.references = vec!["https://feodotracker.abuse.ch/browse/host/192.0.2.1/".to_owned()];
    c2.tlp = Some(Tlp::Green);

    let mut scanner = indicator(Kind::Ipv6, "2001:db8::7", Some(Category::Scanner));
    scanner.tlp = Some(Tlp::Clear);
    scanner.description = Some("scans tcp/22; \"ssh\"\tbrute".to_owned());

    let mut spam_network = indicator(Kind::Cidr, "203.0.113.0/24", Some(Category::Spam));
    spam_network.valid_until = Some(time("2024-06-01T00:00:00Z"));
    let bogon_v6 = indicator(Kind::Cidr, "2001:db8:1234::/48", Some(Category::Bogon));

    let mut domain = indicator(Kind::Domain, "evil.example", Some(Category::MalwareDistribution));
    domain.tlp = Some(Tlp::Amber);
    domain.malware = Some("emotet".to_owned());
    let mut url =
        indicator(Kind::Url, "http://evil.example:8080/gate.php?id=1;x", Some(Category::BotnetC2));
    url.tlp = Some(Tlp::Amber);
    let phishing =
        indicator(Kind::Url, "https://login.phish.example.net/", Some(Category::Phishing));
    let email = indicator(Kind::Email, "spammer@evil.example", Some(Category::Spam));

    let mut md5 = indicator(Kind::Md5, "44d88612fea8a8f36de82e1278abb02f", None);
    md5.malware = Some("EICAR".to_owned());
    let sha1 = indicator(Kind::Sha1, "3395856ce81f2b7382dee72602f798b642f14140", None);
    let sha256 = indicator(
        Kind::Sha256,
        "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
        Some(Category::MalwareDistribution),
    );
    let sha512 = indicator(
        Kind::Sha512,
        "cc805d5fab1fd71a4ab352a9c533e65fb2d5b885518f4e565e68847223b8e6b85cb48f3afad842726d99239c9e36505c64b0dc9a061d9e507d833277ada336ab",
        None,
    );
    let asn = indicator(Kind::Asn, "AS64500", Some(Category::Malicious));

    let pattern = Pattern::parse(
        "[ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY [domain-name:value = 'c2.evil.example']",
    )
    .expect("valid pattern");
    let mut pattern = IndicatorRecord::for_subject(Subject::Pattern(pattern));
    pattern.category = Some(Category::BotnetC2);
    pattern.tlp = Some(Tlp::AmberStrict);

    let event = HostEvent {
        ip: "192.0.2.50".parse().expect("valid address"),
        port: Some(3389),
        asn: Some(64500),
        country: Some("NL".to_owned()),
        hostname: None,
        event_type: "scan_rdp".to_owned(),
        category: Some(Category::Exposed),
        time: Some(time("2024-04-30T03:00:00Z")),
        malware: None,
        tags: Vec::new(),
        details: BTreeMap::from([("product".to_owned(), "Remote Desktop".to_owned())]),
    };
    let benign = BenignRecord {
        observable: observable(Kind::Ipv4, "198.51.100.53"),
        list: "Example public resolvers".to_owned(),
    };
    let feed = FeedDefinition {
        name: "Feodo Tracker".to_owned(),
        provider: "abuse.ch".to_owned(),
        url: "https://feodotracker.abuse.ch/downloads/ipblocklist.csv".to_owned(),
        format: "abusech-feodo".to_owned(),
        enabled: true,
    };
    let vulnerability = stix_object(
        r#"{"type":"vulnerability","spec_version":"2.1","id":"vulnerability--0c5a6ef1-7b04-4a42-a11b-5e0b1b0b3c4e","created":"2024-04-01T00:00:00.000Z","modified":"2024-04-01T00:00:00.000Z","name":"CVE-2024-3400","external_references":[{"source_name":"cve","external_id":"CVE-2024-3400"}],"object_marking_refs":["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]}"#,
    );
    let green_marking = stix_object(
        r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb","created":"2022-10-01T00:00:00.000Z","name":"TLP:GREEN","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"green"}}}"#,
    );

    let indicators = [
        c2,
        scanner,
        spam_network,
        bogon_v6,
        domain,
        url,
        phishing,
        email,
        md5,
        sha1,
        sha256,
        sha512,
        asn,
        pattern,
    ];
    let mut records: Vec<Record> = indicators.into_iter().map(Record::Indicator).collect();
    records.extend([
        Record::Event(event),
        Record::Benign(benign),
        Record::Feed(feed),
        Record::Stix(Box::new(vulnerability)),
        Record::Stix(Box::new(green_marking)),
    ]);
    records
}

fn stix_object(json: &str) -> StixObject {
    serde_json::from_str(json).expect("valid STIX object")
}
