//! Provider blocklists, generic CSV feeds and the plain lists: every fixture snapshotted, plus
//! targeted checks of categories, timestamps and rejected lines.

mod common;

use common::{check_fixture, read_bytes, records, rejects};
use watchfire_formats::detect;
use watchfire_model::record::{Category, IndicatorRecord, Record};

fn indicators(items: &[watchfire_formats::Item]) -> Vec<&IndicatorRecord> {
    records(items)
        .into_iter()
        .map(|record| match record {
            Record::Indicator(indicator) => indicator,
            other => panic!("expected an indicator, got {other:?}"),
        })
        .collect()
}

fn values(items: &[watchfire_formats::Item]) -> Vec<String> {
    indicators(items).iter().map(|record| record.observable().unwrap().value().to_owned()).collect()
}

fn reject_lines(items: &[watchfire_formats::Item]) -> Vec<u64> {
    rejects(items).iter().map(|reject| reject.line).collect()
}

#[test]
fn alienvault_reputation() {
    let items = check_fixture("alienvault-reputation", "alienvault-reputation/reputation.data");
    let all = indicators(&items);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].category, Some(Category::Malicious));
    assert_eq!(all[1].category, Some(Category::Scanner));
    assert_eq!(all[1].tags, ["Scanning Host"]);
}

#[test]
fn bambenek() {
    let items = check_fixture("bambenek-c2", "bambenek/c2-dommasterlist.txt");
    let record = indicators(&items)[0];
    assert_eq!(record.observable().unwrap().value(), "sfkh21okrrnlu.com");
    assert_eq!(record.category, Some(Category::BotnetC2));
    assert_eq!(record.last_seen.as_ref().unwrap().as_str(), "2016-11-12T15:02:00.000Z");
    assert_eq!(record.references, ["http://osint.bambenekconsulting.com/manual/bebloh.txt"]);
    let items = check_fixture("bambenek-c2", "bambenek/c2-ipmasterlist.txt");
    assert_eq!(values(&items), ["213.247.47.190"]);
    let items = check_fixture("bambenek-dga", "bambenek/dga-feed.txt");
    let record = indicators(&items)[0];
    assert_eq!(record.category, Some(Category::Dga));
    assert_eq!(record.first_seen.as_ref().unwrap().as_str(), "2016-11-10T00:00:00.000Z");
}

#[test]
fn bare_ip_lists() {
    let items = check_fixture("blocklist-de", "blocklist-de/imap.txt");
    assert_eq!(indicators(&items).len(), 6);
    assert_eq!(indicators(&items)[0].category, Some(Category::BruteForce));
    let items = check_fixture("cins-army", "cins-army/ci-badguys.txt");
    assert_eq!(indicators(&items).len(), 10);
    let items = check_fixture("cins-army", "cins-army/ci-badguys_intelmq.txt");
    assert_eq!(values(&items), ["10.0.0.9", "192.168.0.8"]);
    let items = check_fixture(
        "emergingthreats-compromised",
        "emergingthreats-compromised/compromised-ips.txt",
    );
    assert_eq!(indicators(&items).len(), 40);
    assert_eq!(indicators(&items)[0].category, Some(Category::Compromised));
    let items = check_fixture("tor-bulk-exit-list", "tor-exit-nodes/torbulkexitlist");
    assert_eq!(indicators(&items).len(), 40);
    assert_eq!(indicators(&items)[0].category, Some(Category::TorExit));
}

#[test]
fn danger_rulez_and_dataplane() {
    let items = check_fixture("danger-rulez", "danger-rulez/blist.txt");
    let all = indicators(&items);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].last_seen.as_ref().unwrap().as_str(), "2016-11-10T09:11:03.000Z");
    let items = check_fixture("dataplane", "dataplane/sshpwauth.txt");
    assert_eq!(
        values(&items),
        ["170.239.104.183", "117.21.224.121", "1.2.3.4"],
        "the pipe in an AS name is fine"
    );
    let all = indicators(&items);
    assert_eq!(all[0].category, Some(Category::BruteForce));
    assert_eq!(all[2].last_seen.as_ref().unwrap().as_str(), "2024-04-02T12:00:00.000Z");
}

#[test]
fn dshield() {
    let items = check_fixture("dshield-block", "dshield/block.txt");
    assert_eq!(values(&items), ["43.229.53.0/24", "194.63.140.0/24"]);
    assert_eq!(indicators(&items)[0].description.as_deref(), Some("Japan Inet (JP)"));
    assert_eq!(indicators(&items)[0].category, Some(Category::Scanner));
    let broken = read_bytes(
        "dshield-block",
        "block.txt",
        b"Start\tEnd\tNetblock\r\n192.0.2.0\t192.0.2.255\t24\r\n192.0.2.0\t192.0.2.127\t24\r\n192.0.2.0\t192.0.2.255\tx\r\n",
    )
    .unwrap();
    assert_eq!(values(&broken), ["192.0.2.0/24"]);
    assert_eq!(reject_lines(&broken), [3, 4]);
    assert_eq!(
        rejects(&broken)[0].reason,
        "192.0.2.0 to 192.0.2.127 is not the network 192.0.2.0/24"
    );
    let items = check_fixture("dshield-suspicious-domains", "dshield/suspiciousdomains_High.txt");
    assert_eq!(values(&items), ["example.com", "example.org"]);
}

#[test]
fn malwaredomains_and_turris() {
    let items = check_fixture("malwaredomains", "malwaredomains/domains.txt");
    let all = indicators(&items);
    assert_eq!(values(&items), ["example.com", "example.net"]);
    assert_eq!(all[1].category, Some(Category::BotnetC2));
    assert_eq!(reject_lines(&items), [6], "example.invalid has no public suffix");
    let items = check_fixture("turris-greylist", "turris-greylist/greylist-latest.csv");
    let all = indicators(&items);
    assert_eq!(all.len(), 6);
    assert_eq!(all[4].tags, ["ftp", "http", "port_scan", "smtp", "telnet"]);
    let items = check_fixture("turris-greylist", "turris-greylist/greylist-latest_2019.csv");
    assert_eq!(indicators(&items)[0].tags, ["dns"]);
}

#[test]
fn fullbogons_and_tor_exit_addresses() {
    let items = check_fixture("team-cymru-fullbogons", "team-cymru-fullbogons/fullbogons-ipv4.txt");
    let all = indicators(&items);
    assert_eq!(all.len(), 39);
    assert_eq!(all[0].category, Some(Category::Bogon));
    assert_eq!(all[0].last_seen.as_ref().unwrap().as_str(), "2022-03-16T12:50:02.000Z");
    check_fixture("team-cymru-fullbogons", "team-cymru-fullbogons/fullbogons-ipv4_intelmq.txt");
    let items = check_fixture("team-cymru-fullbogons", "team-cymru-fullbogons/fullbogons-ipv6.txt");
    assert_eq!(indicators(&items)[0].observable().unwrap().value(), "::/8");
    check_fixture("team-cymru-fullbogons", "team-cymru-fullbogons/fullbogons-ipv6_intelmq.txt");
    let items = check_fixture("tor-exit-addresses", "tor-exit-nodes/exit-addresses");
    let all = indicators(&items);
    assert_eq!(all.len(), 15);
    assert_eq!(all[0].last_seen.as_ref().unwrap().as_str(), "2024-03-12T08:10:51.000Z");
    assert_eq!(
        all[0].description.as_deref(),
        Some("tor relay FE39F07EBE7870DCE124AB30DF3ABD0700A43F75")
    );
}

#[test]
fn generic_csv_mappings() {
    let items = check_fixture("cert-eu", "generic-csv/cert-eu_example.csv");
    let all = indicators(&items);
    assert_eq!(values(&items), ["http://example.com/", "http://example.com/"]);
    assert_eq!(all[0].category, Some(Category::MalwareDistribution));
    assert_eq!(all[1].category, Some(Category::Phishing));
    assert_eq!(all[0].tlp.map(watchfire_model::tlp::Tlp::as_str), Some("TLP:AMBER"));
    assert_eq!(all[0].confidence.map(watchfire_model::record::Confidence::get), Some(51));
    assert_eq!(all[0].valid_until.as_ref().unwrap().as_str(), "2019-05-01T09:27:55.000Z");
    let items = check_fixture("zone-h", "generic-csv/zone-h_defacement_accepted.csv");
    assert_eq!(
        values(&items),
        ["http://defaced.example.com/", "http://defaced2.example.com/mayhab.txt"]
    );
    assert_eq!(indicators(&items)[0].category, Some(Category::Compromised));
}

#[test]
fn intelmq_sample_report_with_a_user_mapping() {
    // A headerless TSV with indented comments and blank-only lines, read with a mapping written
    // for it (the way an operator adds a feed without code).
    let mapping = watchfire_formats::csvmap::CsvMapping::from_toml(
        "delimiter = \"\\t\"\nquote = \"\"\n[defaults]\ncategory = \"malware_distribution\"\n\
         [fields]\nvalue = { index = 5, kind = \"url\" }\nfirst_seen = { index = 0 }\ndescription = { index = 2 }",
    )
    .unwrap();
    let bytes = std::fs::read(common::fixture("generic-csv/intelmq_sample_report.tsv")).unwrap();
    let mut items = Vec::new();
    watchfire_formats::csvmap::read_with_mapping(
        &mapping,
        &mut bytes.as_slice(),
        &watchfire_formats::Context::new("intelmq_sample_report.tsv"),
        &mut |item| items.push(item),
    )
    .unwrap();
    assert_eq!(
        values(&items),
        [
            "http://www.cennoworld.com/Payment_Confirmation/Payment_Confirmation.zip",
            "http://www.cennoworld.com/Payment_Confirmation/Payment_Confirmation.zip",
        ]
    );
    assert!(rejects(&items).is_empty());
    expect_test::expect_file!["../test_data/csv-mapping/intelmq_sample_report.tsv.expected"]
        .assert_eq(&common::render(&items));
}

#[test]
fn plain_lists() {
    let items = check_fixture("plain-ip", "plain-ip-list/ipsum_level8.txt");
    assert_eq!(indicators(&items).len(), 20);
    assert_eq!(indicators(&items)[0].category, None, "a plain list states no category");
    check_fixture("plain-ip", "plain-ip-list/blocklist-de_imap.txt");
    let items = check_fixture("plain-domain", "plain-domain-list/openphish_domains_pihole.txt");
    assert_eq!(indicators(&items).len(), 30);
    let items = check_fixture("plain-domain", "plain-domain-list/abusech_feododomains.txt");
    assert_eq!(values(&items), ["arta.romail3arnest.info"]);
    let input = "; comment\r\n# comment\r\n192.0.2.1 # trailing\r\n192.0.2.2\t22\r\n2001:db8::/32\r\nexample.com\r\n";
    let items = read_bytes("plain-ip", "list.txt", input.as_bytes()).unwrap();
    assert_eq!(values(&items), ["192.0.2.1", "192.0.2.2", "2001:db8::/32"]);
    assert_eq!(reject_lines(&items), [6]);
    let input = "0.0.0.0 evil.example.com\n127.0.0.1\tbad.example.org # hosts\nEXAMPLE.NET.\nnot a domain\n";
    let items = read_bytes("plain-domain", "hosts", input.as_bytes()).unwrap();
    assert_eq!(values(&items), ["evil.example.com", "bad.example.org", "example.net"]);
    assert_eq!(reject_lines(&items), [4]);
}

#[test]
fn detection() {
    for (fixture, expected) in [
        ("bambenek/c2-dommasterlist.txt", "bambenek-c2"),
        ("bambenek/c2-ipmasterlist.txt", "bambenek-c2"),
        ("bambenek/dga-feed.txt", "bambenek-dga"),
        ("danger-rulez/blist.txt", "danger-rulez"),
        ("dataplane/sshpwauth.txt", "dataplane"),
        ("dshield/block.txt", "dshield-block"),
        ("dshield/suspiciousdomains_High.txt", "dshield-suspicious-domains"),
        ("malwaredomains/domains.txt", "malwaredomains"),
        ("team-cymru-fullbogons/fullbogons-ipv4.txt", "team-cymru-fullbogons"),
        ("team-cymru-fullbogons/fullbogons-ipv6_intelmq.txt", "team-cymru-fullbogons"),
        ("tor-exit-nodes/exit-addresses", "tor-exit-addresses"),
        ("turris-greylist/greylist-latest.csv", "turris-greylist"),
        ("turris-greylist/greylist-latest_2019.csv", "turris-greylist"),
        ("generic-csv/cert-eu_example.csv", "cert-eu"),
        ("generic-csv/zone-h_defacement_accepted.csv", "zone-h"),
        ("plain-ip-list/ipsum_level8.txt", "plain-ip"),
        ("blocklist-de/imap.txt", "plain-ip"),
        ("cins-army/ci-badguys.txt", "plain-ip"),
        ("emergingthreats-compromised/compromised-ips.txt", "plain-ip"),
        ("tor-exit-nodes/torbulkexitlist", "plain-ip"),
        ("plain-domain-list/openphish_domains_pihole.txt", "plain-domain"),
    ] {
        let bytes = std::fs::read(common::fixture(fixture)).unwrap();
        assert_eq!(
            detect(&bytes, fixture).map(|format| format.name).ok(),
            Some(expected),
            "{fixture}"
        );
    }
    for text in [
        "hello world\nthis is prose\n",
        "192.0.2.1 192.0.2.2\n192.0.2.3 192.0.2.4\n",
        "a,b,c\n1,2,3\n",
    ] {
        assert!(detect(text.as_bytes(), "x.txt").is_err(), "{text:?} is no list");
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        for format in watchfire_formats::blocklists::FORMATS.iter().chain(watchfire_formats::plain::FORMATS) {
            let _ = read_bytes(format.name, "fuzz", &bytes);
            if let Some(detect) = format.detect {
                let _ = detect(&bytes, "fuzz");
            }
        }
    }

    #[test]
    fn arbitrary_lines_never_panic(lines in proptest::collection::vec("[ -~\t]{0,40}", 0..20)) {
        let text = lines.join("\n");
        for format in watchfire_formats::formats() {
            let _ = read_bytes(format.name, "fuzz", text.as_bytes());
        }
    }
}

#[test]
fn team_cymru_cap_reports_are_host_events() {
    let items = check_fixture("team-cymru-cap", "team-cymru-cap/certname_20190327.txt");
    assert!(rejects(&items).is_empty());
    let events: Vec<&watchfire_model::record::HostEvent> = records(&items)
        .into_iter()
        .map(|record| match record {
            Record::Event(event) => event,
            other => panic!("expected an event, got {other:?}"),
        })
        .collect();
    assert_eq!(events.len(), 35);
    assert_eq!(events[0].malware.as_deref(), Some("Conficker"));
    assert_eq!(events[0].category, Some(Category::Infected));
    assert_eq!(events[0].country.as_deref(), Some("AT"));
    assert_eq!(events[0].asn, Some(64496));
    assert_eq!(events[1].details.get("dest_port").map(String::as_str), Some("80"));
    assert_eq!(events[14].malware.as_deref(), Some("Conficker"), "the srcport/mwtype form");
    let items = check_fixture("team-cymru-cap", "team-cymru-cap/infected_20171031.txt");
    let first_bot = records(&items)
        .into_iter()
        .find_map(|record| match record {
            Record::Event(event) if event.event_type == "bot" => Some(event),
            _ => None,
        })
        .expect("a bots row");
    assert_eq!(first_bot.malware.as_deref(), Some("Conficker"));
    for fixture in ["team-cymru-cap/certname_20190327.txt", "team-cymru-cap/infected_20171031.txt"]
    {
        let bytes = std::fs::read(common::fixture(fixture)).unwrap();
        assert_eq!(detect(&bytes, fixture).map(|format| format.name).ok(), Some("team-cymru-cap"));
    }
}
