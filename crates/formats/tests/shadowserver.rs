//! The `shadowserver` reader on every report type of the shared fixtures, with targeted checks of
//! event types, categories, rejects, IPv6 and byte-literal decoding.

mod common;

use proptest::prelude::*;
use watchfire_formats::{Item, detect};
use watchfire_model::record::{Category, HostEvent, Record};

/// Every fixture with the event type and category its rows get.
const REPORTS: &[(&str, &str, Option<Category>)] = &[
    ("blocklist.csv", "blocklist", Some(Category::Malicious)),
    ("compromised_website.csv", "compromised_website", Some(Category::Compromised)),
    ("device_id.csv", "device_id", None),
    ("event4_honeypot_brute_force.csv", "honeypot_brute_force", Some(Category::BruteForce)),
    ("event4_ip_spoofer.csv", "ip_spoofer", Some(Category::Vulnerable)),
    ("event4_sinkhole.csv", "sinkhole", Some(Category::Infected)),
    ("event4_sinkhole_dns.csv", "sinkhole_dns", Some(Category::Infected)),
    ("event4_sinkhole_http.csv", "sinkhole_http", Some(Category::Infected)),
    ("event6_sinkhole_http.csv", "sinkhole_http", Some(Category::Infected)),
    ("malware_url.csv", "malware_url", Some(Category::MalwareDistribution)),
    ("scan_dns.csv", "scan_dns", Some(Category::DdosAmplifier)),
    ("scan_http.csv", "scan_http", Some(Category::Exposed)),
    ("scan_ntp.csv", "scan_ntp", Some(Category::DdosAmplifier)),
    ("scan_rdp.csv", "scan_rdp", Some(Category::Exposed)),
    ("scan_smb.csv", "scan_smb", Some(Category::Exposed)),
    ("scan_ssl.csv", "scan_ssl", Some(Category::Vulnerable)),
    ("scan_telnet.csv", "scan_telnet", Some(Category::Exposed)),
];

fn events(items: &[Item]) -> Vec<&HostEvent> {
    common::records(items)
        .into_iter()
        .filter_map(|record| match record {
            Record::Event(event) => Some(event),
            _ => None,
        })
        .collect()
}

fn fixture_bytes(file: &str) -> Vec<u8> {
    std::fs::read(common::fixture(&format!("shadowserver/{file}"))).expect("fixture readable")
}

#[test]
fn fixtures_match_snapshots_with_their_event_types_and_categories() {
    for (file, event_type, category) in REPORTS {
        let items = common::check_fixture("shadowserver", &format!("shadowserver/{file}"));
        let events = events(&items);
        assert!(!events.is_empty(), "{file}: no events");
        for event in events {
            assert_eq!(event.event_type, *event_type, "{file}");
            assert_eq!(event.category, *category, "{file}");
            assert!(event.time.is_some(), "{file}: no time");
        }
    }
}

#[test]
fn report_types_come_from_the_header_when_the_file_name_says_nothing() {
    for (file, event_type, category) in REPORTS {
        let by_name = common::read_bytes("shadowserver", file, &fixture_bytes(file)).unwrap();
        let by_header =
            common::read_bytes("shadowserver", "report.csv", &fixture_bytes(file)).unwrap();
        let by_header_events = events(&by_header);
        assert_eq!(by_header_events.len(), events(&by_name).len(), "{file}");
        for event in by_header_events {
            assert_eq!(
                (event.event_type.as_str(), event.category),
                (*event_type, *category),
                "{file}"
            );
        }
    }
}

#[test]
fn every_fixture_is_detected_from_its_content() {
    for (file, _, _) in REPORTS {
        let format = detect(&fixture_bytes(file), "report.csv").map(|format| format.name);
        assert_eq!(format.ok(), Some("shadowserver"), "{file}");
    }
    assert!(detect(b"\"timestamp\",\"ip\",\"port\"\n", "report.csv").is_err());
    assert!(detect(b"\"timestamp\",\"ip\",\"port\"\n", "scan_rdp.csv").is_ok());
}

#[test]
fn the_invalid_sinkhole_address_is_a_reject_at_its_line() {
    let items = common::read("shadowserver", &common::fixture("shadowserver/event4_sinkhole.csv"));
    let rejects = common::rejects(&items);
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].line, 4);
    assert!(
        rejects[0]
            .reason
            .starts_with("column 15 (dst_ip): invalid observable \"148.81.111.11.12\""),
        "{}",
        rejects[0].reason
    );
    assert_eq!(events(&items).len(), 2);
}

#[test]
fn sinkhole_rows_carry_the_infection_and_the_other_side() {
    let items =
        common::read("shadowserver", &common::fixture("shadowserver/event4_sinkhole_http.csv"));
    let event = events(&items)[0];
    assert_eq!(event.ip.to_string(), "103.196.1.2");
    assert_eq!(
        (event.port, event.asn, event.country.as_deref()),
        (Some(60902), Some(134707), Some("PH"))
    );
    assert_eq!(
        event.malware.as_deref(),
        Some("andromeda"),
        "family stands in for an empty infection"
    );
    assert_eq!(event.tags, ["avalanche-andromeda"]);
    assert!(!event.details.contains_key("family"));
    assert_eq!(event.details["dst_ip"], "184.105.1.2");
    assert_eq!(event.details["http_host"], "differentia.ru");
}

#[test]
fn ipv6_reports_give_canonical_ipv6_hosts() {
    let items =
        common::read("shadowserver", &common::fixture("shadowserver/event6_sinkhole_http.csv"));
    let events = events(&items);
    assert_eq!(events.len(), 3);
    assert_eq!(events[0].ip.to_string(), "2001:448a:1082:4d9b:7491:bf9e:3d5f:a634");
    assert_eq!(events[0].details["dst_ip"], "2001:470:1:332::fe");
    assert_eq!(events[0].malware.as_deref(), Some("boaxxe"));
    assert_eq!(events[0].tags, ["3ve"]);
}

#[test]
fn byte_literals_are_decoded_and_brute_force_is_not_malware() {
    let items = common::read(
        "shadowserver",
        &common::fixture("shadowserver/event4_honeypot_brute_force.csv"),
    );
    let events = events(&items);
    assert_eq!(events.len(), 6);
    assert_eq!(events[0].details["client_version"], "SSH-2.0-Go");
    assert_eq!(events[0].details["infection"], "ssh-brute-force");
    assert_eq!(events[0].malware, None);
    assert_eq!(events[0].ip.to_string(), "141.98.1.2");
    assert_eq!(events[0].details["dst_port"], "22");
    assert!(!events[2].details.contains_key("client_version"));
}

#[test]
fn tags_split_and_geo_is_the_country() {
    let items = common::read("shadowserver", &common::fixture("shadowserver/device_id.csv"));
    let event = events(&items)[0];
    assert_eq!(event.tags, ["ssl", "vpn"]);
    assert_eq!(event.country.as_deref(), Some("NO"));
    assert_eq!(event.details["device_vendor"], "Fortinet");
    assert!(!event.details.contains_key("hostname"), "empty cells are dropped");
}

#[test]
fn a_blocklisted_network_keeps_its_prefix_in_details() {
    let items = common::read("shadowserver", &common::fixture("shadowserver/blocklist.csv"));
    let events = events(&items);
    assert_eq!(events.len(), 3);
    assert_eq!(events[2].ip.to_string(), "198.123.245.0");
    assert_eq!(events[2].details["network"], "198.123.245.0/24");
    assert_eq!(events[0].hostname.as_deref(), Some("host.local"));
}

#[test]
fn malware_urls_give_the_host_event_and_indicators() {
    let items = common::read("shadowserver", &common::fixture("shadowserver/malware_url.csv"));
    let records = common::records(&items);
    let kinds: Vec<&str> = records.iter().map(|record| record.kind_name()).collect();
    assert_eq!(
        kinds,
        ["event", "indicator", "indicator", "event", "indicator", "event", "indicator"]
    );
    let Record::Indicator(url) = records[1] else { panic!("an indicator") };
    assert_eq!(
        url.observable().map(watchfire_model::observable::Observable::value),
        Some("http://41.86.0.0:50008/Mozi.m")
    );
    assert_eq!(url.category, Some(Category::MalwareDistribution));
    assert_eq!(url.tags, ["CVE-2016-10372"]);
    assert!(url.first_seen.is_some());
    let Record::Indicator(hash) = records[2] else { panic!("an indicator") };
    assert_eq!(hash.category, Some(Category::Malicious));
}

#[test]
fn a_vulnerable_rdp_host_is_vulnerable() {
    let input = "\"timestamp\",\"ip\",\"port\",\"rdp_protocol\",\"bluekeep_vulnerable\"\n\
                 \"2019-09-04 15:45:51\",\"192.0.2.1\",3389,\"RDP\",\"Y\"\n\
                 \"2019-09-04 15:45:51\",\"192.0.2.2\",3389,\"RDP\",\"N\"\n";
    let items = common::read_bytes("shadowserver", "x.csv", input.as_bytes()).unwrap();
    let categories: Vec<_> = events(&items).iter().map(|event| event.category).collect();
    assert_eq!(categories, [Some(Category::Vulnerable), Some(Category::Exposed)]);
}

#[test]
fn crlf_bom_and_broken_rows() {
    let input = "\u{feff}\"timestamp\",\"ip\",\"port\",\"smbv1_support\"\r\n\
                 \"2019-09-04 15:45:51\",\"192.0.2.1\",445,\"Y\"\r\n\
                 \"2019-09-04 15:45:51\",\"192.0.2.2\",445\r\n\
                 \"2019-09-04 15:45:51\",\"192.0.2.3\",445,\"Y\",\"extra\"\r\n\
                 \"2019-09-04 15:45:51\",\"192.0.2.4\",99999,\"Y\"\r\n\
                 \"2019-09-04 15:45:51\",,445,\"Y\"\r\n\
                 \"2019-09-04 15:45:51\",\"192.0.2.5\",445,\"Y\",,\r\n\
                 \"2019-09-04 15:45:51\",\"192.0.2.6";
    let items = common::read_bytes("shadowserver", "input.csv", input.as_bytes()).unwrap();
    let ips: Vec<String> = events(&items).iter().map(|event| event.ip.to_string()).collect();
    assert_eq!(ips, ["192.0.2.1", "192.0.2.2", "192.0.2.5"], "a short row reads as empty cells");
    let rejects: Vec<String> = common::rejects(&items)
        .iter()
        .map(|reject| format!("{}: {}", reject.line, reject.reason))
        .collect();
    expect_test::expect![[r#"
        [
            "4: expected 4 columns, found 5",
            "5: column 3 (port): bad port \"99999\"",
            "6: no host address (ip or src_ip is empty)",
            "8: column 2: unterminated quoted value",
        ]
    "#]]
    .assert_debug_eq(&rejects);
}

#[test]
fn an_unknown_report_type_fails_as_a_whole() {
    let error = common::read_bytes("shadowserver", "x.csv", b"\"timestamp\",\"ip\",\"whatever\"\n")
        .unwrap_err();
    assert!(error.to_string().contains("cannot tell the shadowserver report type"), "{error}");
    let error = common::read_bytes("shadowserver", "scan_rdp.csv", b"\"timestamp\",\"port\"\n")
        .unwrap_err();
    assert!(error.to_string().contains("no ip or src_ip column"), "{error}");
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = common::read_bytes("shadowserver", "scan_rdp.csv", &bytes);
        let mut with_header = b"\"timestamp\",\"src_ip\",\"dst_ip\",\"infection\",\"tag\"\n".to_vec();
        with_header.extend_from_slice(&bytes);
        let _ = common::read_bytes("shadowserver", "x.csv", &with_header);
    }
}
