//! abuse.ch formats: every fixture snapshotted, plus targeted checks of what analysts rely on.

mod common;

use common::{check_fixture, read_bytes, records, rejects};
use watchfire_formats::{Item, detect};
use watchfire_model::record::{Category, Record, Subject};

fn indicator(item: &Record) -> &watchfire_model::record::IndicatorRecord {
    match item {
        Record::Indicator(indicator) => indicator,
        other => panic!("expected an indicator, got {other:?}"),
    }
}

#[test]
fn urlhaus_fixtures() {
    let items = check_fixture("abusech-urlhaus", "abusech-urlhaus/csv_recent.csv");
    let all = records(&items);
    assert_eq!(all.len(), 10);
    let first = indicator(all[0]);
    assert_eq!(first.observable().unwrap().value(), "http://182.126.120.150:58801/i");
    assert_eq!(first.category, Some(Category::MalwareDistribution));
    assert_eq!(first.tags, ["32-bit", "elf", "mips", "Mozi"]);
    assert_eq!(first.first_seen.as_ref().unwrap().as_str(), "2026-02-26T12:05:20.000Z");
    assert_eq!(first.references, ["https://urlhaus.abuse.ch/url/3786237/"]);
    let offline = indicator(all[6]);
    assert_eq!(offline.last_seen, None, "an empty last_online is no value");
    assert!(indicator(all[8]).tags.is_empty(), "None means no tags");
    check_fixture("abusech-urlhaus", "abusech-urlhaus/csv_recent_row_tenzir.csv");
    let items = check_fixture("abusech-urlhaus", "abusech-urlhaus/tld_ch_intelmq.csv");
    let all = records(&items);
    assert_eq!(all.len(), 2);
    assert_eq!(indicator(all[0]).first_seen.as_ref().unwrap().as_str(), "2019-02-13T00:34:42.000Z");
    assert!(rejects(&items).is_empty());
}

#[test]
fn urlhaus_hostfile_and_api() {
    let items = check_fixture("abusech-urlhaus-hostfile", "abusech-urlhaus/hostfile.txt");
    assert_eq!(records(&items).len(), 5);
    let items =
        check_fixture("abusech-urlhaus-api", "abusech-urlhaus/api_urls_recent_docs_example.json");
    let record = indicator(records(&items)[0]);
    assert_eq!(record.first_seen.as_ref().unwrap().as_str(), "2019-08-10T09:02:05.000Z");
    assert_eq!(record.tags, ["elf"]);
}

#[test]
fn feodotracker_fixtures() {
    let items = check_fixture("abusech-feodotracker", "abusech-feodotracker/ipblocklist.csv");
    let all = records(&items);
    assert_eq!(all.len(), 6);
    let first = indicator(all[0]);
    assert_eq!(first.port, Some(443));
    assert_eq!(first.malware.as_deref(), Some("Dridex"));
    assert_eq!(first.category, Some(Category::BotnetC2));
    assert_eq!(first.last_seen.as_ref().unwrap().as_str(), "2021-08-18T00:00:00.000Z");
    let items =
        check_fixture("abusech-feodotracker", "abusech-feodotracker/ipblocklist_intelmq.csv");
    assert_eq!(
        (records(&items).len(), rejects(&items).len()),
        (2, 0),
        "the # END footer is no row"
    );
    let items = check_fixture("abusech-feodotracker-json", "abusech-feodotracker/ipblocklist.json");
    let all = records(&items);
    assert_eq!(all.len(), 4);
    assert_eq!(indicator(all[3]).first_seen, None, "the 4th record has no first_seen");
    assert_eq!(indicator(all[0]).port, Some(4643));
}

#[test]
fn threatfox_fixtures() {
    let items = check_fixture("abusech-threatfox", "abusech-threatfox/export_csv_full.csv");
    let record = indicator(records(&items)[0]);
    assert_eq!(record.observable().unwrap().value(), "8.223.20.63");
    assert_eq!(record.port, Some(443));
    assert_eq!(record.category, Some(Category::BotnetC2));
    assert_eq!(record.confidence.map(watchfire_model::record::Confidence::get), Some(100));
    assert_eq!(record.malware.as_deref(), Some("Cobalt Strike"));
    assert!(record.references.is_empty(), "None is no reference");
    assert_eq!(record.last_seen, None, "\"\" is no value");
    let items = check_fixture("abusech-threatfox-api", "abusech-threatfox/api_docs_example.json");
    let record = indicator(records(&items)[0]);
    assert_eq!(record.references[0], "https://twitter.com/JAMESWT_MHT/status/1336229725082177536");
    let items =
        check_fixture("abusech-threatfox-api", "abusech-threatfox/api_get_iocs_response.json");
    let all = records(&items);
    assert_eq!(all[0].kind_name(), "indicator");
    assert_eq!(indicator(all[1]).category, Some(Category::MalwareDistribution));
    assert_eq!(indicator(all[0]).malware, None, "Unknown malware is no family");
}

#[test]
fn threatfox_recent_export_with_a_header_comment() {
    let input = concat!(
        "# \"first_seen_utc\",\"ioc_id\",\"ioc_value\",\"ioc_type\",\"threat_type\",\"fk_malware\",",
        "\"malware_alias\",\"malware_printable\",\"last_seen_utc\",\"confidence_level\",\"reference\",",
        "\"tags\",\"anonymous\",\"reporter\"\r\n",
        "\"2024-07-16 05:25:33\", \"1\", \"[2001:db8::1]:8080\", \"ip:port\", \"botnet_cc\", \"x\", ",
        "\"None\", \"X\", \"2024-07-17 00:00:00\", \"75\", \"https://example.org/r\", \"a,b\", \"0\", \"me\"\r\n",
    );
    let items = read_bytes("abusech-threatfox", "recent.csv", input.as_bytes()).unwrap();
    let record = indicator(records(&items)[0]);
    assert_eq!(record.observable().unwrap().value(), "2001:db8::1");
    assert_eq!(record.port, Some(8080));
    assert_eq!(record.last_seen.as_ref().unwrap().as_str(), "2024-07-17T00:00:00.000Z");
    assert_eq!(record.tags, ["a", "b"]);
}

#[test]
fn sslbl_fixtures() {
    let items = check_fixture("abusech-sslbl", "abusech-sslbl/sslblacklist.csv");
    let all = records(&items);
    assert_eq!(all.len(), 26);
    let first = indicator(all[0]);
    match &first.subject {
        Subject::Pattern(pattern) => assert_eq!(
            pattern.to_string(),
            "[x509-certificate:hashes.'SHA-1' = 'e8f4490420d0b0fc554d1296a8e9d5c35eb2b36e']"
        ),
        other => panic!("expected a pattern, got {other:?}"),
    }
    assert_eq!(first.malware.as_deref(), Some("Vidar"));
    check_fixture("abusech-sslbl", "abusech-sslbl/sslblacklist_feeds2stix.csv");
    let items = check_fixture("abusech-sslbl-ja3", "abusech-sslbl/ja3_fingerprints.csv");
    let all = records(&items);
    assert_eq!(all.len(), 98, "the # END (98) entries footer agrees");
    let first = indicator(all[0]);
    assert_eq!(first.tags, ["ja3"]);
    match &first.subject {
        Subject::Pattern(pattern) => assert_eq!(
            pattern.to_string(),
            "[network-traffic:extensions.'x-ja3'.md5 = 'b386946a5a44d1ddcc843bc75336dfce']"
        ),
        other => panic!("expected a pattern, got {other:?}"),
    }
}

#[test]
fn legacy_fixtures() {
    let items = check_fixture("abusech-feodo-domains", "abusech-legacy/feododomains.txt");
    assert_eq!(records(&items).len(), 1);
    let items = check_fixture("abusech-zeus-ips", "abusech-legacy/zeusips.txt");
    assert_eq!(indicator(records(&items)[0]).malware.as_deref(), Some("ZeuS"));
    let items = check_fixture("abusech-ransomwaretracker", "abusech-legacy/ransomwaretracker.csv");
    let all = records(&items);
    assert_eq!(all.len(), 3);
    assert_eq!(indicator(all[0]).category, Some(Category::MalwareDistribution));
    assert_eq!(indicator(all[1]).malware.as_deref(), Some("TorrentLocker"));
}

#[test]
fn crlf_bom_and_a_bad_row_with_its_line() {
    let input = "\u{feff}\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\r\n\
        \"2021-01-17 07:30:05\",\"67.213.75.205\",\"443\",\"online\",\"2021-08-18\",\"Dridex\"\r\n\
        \"2021-01-17 07:30:05\",\"67.213.75\",\"443\",\"online\",\"2021-08-18\",\"Dridex\"\r\n\
        \"2021-01-17 07:30:05\",\"192.0.2.1\",\"99999\",\"online\",\"2021-08-18\",\"Dridex\"\r\n\
        \"2021-13-17 07:30:05\",\"192.0.2.1\",\"443\",\"online\",\"2021-08-18\",\"Dridex\"\r\n";
    let items = read_bytes("abusech-feodotracker", "feodo.csv", input.as_bytes()).unwrap();
    assert_eq!(records(&items).len(), 1);
    let reasons: Vec<(u64, &str)> =
        rejects(&items).iter().map(|reject| (reject.line, reject.reason.as_str())).collect();
    assert_eq!(
        reasons,
        [
            (
                3,
                "column 2 (dst_ip): invalid observable \"67.213.75\": ipv4 address is not four dot-separated decimal octets"
            ),
            (4, "column 3 (dst_port): bad port \"99999\""),
            (5, "column 1 (first_seen_utc): bad timestamp \"2021-13-17 07:30:05\""),
        ]
    );
}

#[test]
fn truncated_json_keeps_the_elements_before_the_break() {
    let input = b"[\n {\"ip_address\": \"192.0.2.1\", \"port\": 443},\n {\"ip_address\": \"192.0.2.2\", \"po";
    let items = read_bytes("abusech-feodotracker-json", "feodo.json", input).unwrap();
    assert_eq!(records(&items).len(), 1);
    assert_eq!(rejects(&items)[0].line, 3);
    let not_an_array = read_bytes("abusech-feodotracker-json", "feodo.json", b"{}");
    assert!(not_an_array.is_err());
    let no_result =
        br#"{"query_status": "no_result", "data": "Your search did not yield any results"}"#;
    assert_eq!(
        read_bytes("abusech-threatfox-api", "tf.json", no_result).unwrap(),
        Vec::<Item>::new()
    );
    let refused = br#"{"query_status": "unknown_auth_key"}"#;
    let error = read_bytes("abusech-threatfox-api", "tf.json", refused).unwrap_err();
    assert_eq!(error.to_string(), "tf.json: the API answered query_status \"unknown_auth_key\"");
}

#[test]
fn detection_recognises_each_abusech_banner() {
    let cases = [
        ("abusech-urlhaus/csv_recent.csv", "abusech-urlhaus"),
        ("abusech-urlhaus/csv_recent_row_tenzir.csv", "abusech-urlhaus"),
        ("abusech-urlhaus/tld_ch_intelmq.csv", "abusech-urlhaus"),
        ("abusech-urlhaus/hostfile.txt", "abusech-urlhaus-hostfile"),
        ("abusech-urlhaus/api_urls_recent_docs_example.json", "abusech-urlhaus-api"),
        ("abusech-feodotracker/ipblocklist.csv", "abusech-feodotracker"),
        ("abusech-feodotracker/ipblocklist_intelmq.csv", "abusech-feodotracker"),
        ("abusech-feodotracker/ipblocklist.json", "abusech-feodotracker-json"),
        ("abusech-threatfox/export_csv_full.csv", "abusech-threatfox"),
        ("abusech-threatfox/api_docs_example.json", "abusech-threatfox-api"),
        ("abusech-threatfox/api_get_iocs_response.json", "abusech-threatfox-api"),
        ("abusech-sslbl/sslblacklist.csv", "abusech-sslbl"),
        ("abusech-sslbl/sslblacklist_feeds2stix.csv", "abusech-sslbl"),
        ("abusech-sslbl/ja3_fingerprints.csv", "abusech-sslbl-ja3"),
        ("abusech-legacy/feododomains.txt", "abusech-feodo-domains"),
        ("abusech-legacy/zeusips.txt", "abusech-zeus-ips"),
        ("abusech-legacy/ransomwaretracker.csv", "abusech-ransomwaretracker"),
    ];
    for (fixture, expected) in cases {
        let bytes = std::fs::read(common::fixture(fixture)).unwrap();
        let format = detect(&bytes, fixture).unwrap_or_else(|error| panic!("{fixture}: {error}"));
        assert_eq!(format.name, expected, "{fixture}");
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        for format in watchfire_formats::formats().filter(|format| format.name.starts_with("abusech-")) {
            let _ = read_bytes(format.name, "fuzz", &bytes);
        }
    }
}
