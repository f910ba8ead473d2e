//! Early warning end to end: the demo organisations own networks, an AS and domain suffixes that
//! cover addresses and hosts in the Feodo, Spamhaus, Shadowserver and URLhaus fixtures. Importing
//! the fixtures as the node's feeds yields exactly the alerts a brute-force reading of the same
//! fixtures expects for each organisation, and none for the others; the lifecycle, reports and
//! inhibitions over the API.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::net::IpAddr;
use std::time::Duration;

use serde_json::Value;
use watchfire_formats::Item;
use watchfire_model::Observable;
use watchfire_model::policy::{Audience, Member, OrgId, Principal, may_see};
use watchfire_model::record::Record;
use watchfire_model::stix::{Precision, Timestamp};
use watchfire_model::tlp::Tlp;
use watchfire_store::Store;
use watchfire_warn::{Claim, Target};

use crate::common::{Auth, TestNode};

/// The fixtures imported, with the source name and TLP each gets: the public feeds are CLEAR,
/// the Shadowserver reports GREEN (for the community).
const FIXTURES: [(&str, &str, Tlp); 7] = [
    ("abusech-feodotracker/ipblocklist.csv", "feodo", Tlp::Clear),
    ("spamhaus-drop/drop_v4.json", "spamhaus-drop", Tlp::Clear),
    ("shadowserver/scan_rdp.csv", "shadowserver-scan-rdp", Tlp::Green),
    ("shadowserver/event4_sinkhole_http.csv", "shadowserver-sinkhole", Tlp::Green),
    ("shadowserver/scan_ssl.csv", "shadowserver-scan-ssl", Tlp::Green),
    ("abusech-urlhaus/csv_recent.csv", "urlhaus", Tlp::Clear),
    ("abusech-urlhaus/tld_ch_intelmq.csv", "urlhaus-ch", Tlp::Clear),
];

fn fixture(path: &str) -> String {
    format!("{}/../../../shared/fixtures/feeds/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn records(path: &str) -> Vec<Record> {
    let file = File::open(fixture(path)).unwrap();
    let mut records = Vec::new();
    watchfire_feeds::read(path, Box::new(file), None, &mut |_| {}, &mut |item| {
        if let Item::Record(record) = item {
            records.push(record);
        }
    })
    .unwrap();
    records
}

/// Imports every fixture as a feed of the node (GREEN, no owner), the way the scheduler does.
fn import_fixtures(store: &dyn Store) {
    let now = Timestamp::from_unix_nanos(watchfire_store::now_micros() * 1000, Precision::Millis);
    for (path, source, tlp) in FIXTURES {
        let mut ingest =
            watchfire_feeds::Ingest::new(source, tlp, &now).with_audience(Audience::node(tlp));
        let mut facts = Vec::new();
        for record in records(path) {
            ingest.facts(&record, &mut facts);
        }
        store.append(&facts).unwrap();
    }
}

// A brute-force reading of who owns what, independent of the engine's index.
fn contains(network: &Target, address: IpAddr) -> bool {
    let Target::Network(base, len) = network else { return false };
    match (base, address) {
        (IpAddr::V4(base), IpAddr::V4(address)) => {
            let shift = 32 - u32::from(*len);
            u64::from(u32::from(*base)) >> shift == u64::from(u32::from(address)) >> shift
        }
        (IpAddr::V6(base), IpAddr::V6(address)) => {
            let shift = 128 - u32::from(*len);
            u128::from(*base).checked_shr(shift) == u128::from(address).checked_shr(shift)
        }
        _ => false,
    }
}

fn overlaps(network: &Target, other_base: IpAddr, other_len: u8) -> bool {
    let Target::Network(base, len) = network else { return false };
    let shorter = (*len).min(other_len);
    contains(&Target::Network(*base, shorter), other_base)
        && contains(&Target::Network(other_base, shorter), *base)
}

fn domain_owned(suffix: &Target, name: &str) -> bool {
    let Target::Domain(suffix) = suffix else { return false };
    name == suffix || name.ends_with(&format!(".{suffix}"))
}

/// The (organisation, observable, category) alerts the fixtures should raise: the owners by the
/// most specific claim, when the policy lets them see the feed.
fn expected(
    claims: &[Claim],
    sees: &dyn Fn(OrgId, Tlp) -> bool,
) -> BTreeSet<(OrgId, String, String)> {
    let mut expected = BTreeSet::new();
    for (path, _, tlp) in FIXTURES {
        let claims: Vec<Claim> =
            claims.iter().filter(|claim| sees(claim.org, tlp)).cloned().collect();
        let claims = claims.as_slice();
        for record in records(path) {
            match record {
                Record::Indicator(indicator) => {
                    let Some(observable) = indicator.observable().cloned() else { continue };
                    let owners: Vec<OrgId> = claims
                        .iter()
                        .filter(|claim| owns_observable(claim.target(), &observable))
                        .map(|claim| claim.org)
                        .collect();
                    let category =
                        indicator.category.map_or("malicious".to_owned(), |c| c.to_string());
                    for org in owners {
                        expected.insert((org, observable.value().to_owned(), category.clone()));
                    }
                }
                Record::Event(event) => {
                    // A network claim first; else the host name's domain; else the row's AS.
                    let by = |owns: &dyn Fn(&Target) -> bool| -> Vec<OrgId> {
                        claims
                            .iter()
                            .filter(|claim| owns(claim.target()))
                            .map(|claim| claim.org)
                            .collect()
                    };
                    let hostname = event.hostname.clone().unwrap_or_default().to_ascii_lowercase();
                    let mut owners = by(&|target| contains(target, event.ip));
                    if owners.is_empty() && !hostname.is_empty() {
                        owners = by(&|target| domain_owned(target, &hostname));
                    }
                    if owners.is_empty() {
                        owners = by(
                            &|target| matches!(target, Target::Asn(asn) if Some(*asn) == event.asn),
                        );
                    }
                    let category = event.category.map_or("malicious".to_owned(), |c| c.to_string());
                    for org in owners {
                        expected.insert((org, event.ip.to_string(), category.clone()));
                    }
                }
                _ => {}
            }
        }
    }
    expected
}

fn owns_observable(target: &Target, observable: &Observable) -> bool {
    let value = observable.value();
    if let Ok(address) = value.parse::<IpAddr>() {
        return contains(target, address);
    }
    if let Some((base, len)) = observable.network() {
        return overlaps(target, base, len);
    }
    if let Some(rest) = value.split_once("://").map(|(_, rest)| rest) {
        let host = rest.split(['/', ':', '?']).next().unwrap_or_default();
        return match host.parse::<IpAddr>() {
            Ok(address) => contains(target, address),
            Err(_) => domain_owned(target, host),
        };
    }
    domain_owned(target, value)
}

/// Waits until the alert engine has matched the whole log.
fn settle_alerts(node: &TestNode, admin_token: &str) {
    let head = node.store.last_seq().unwrap();
    for _ in 0..1000 {
        let metrics = node.get("/metrics", &Auth::Bearer(admin_token.to_owned()));
        let cursor: u64 = metrics
            .body
            .lines()
            .find_map(|line| line.strip_prefix("watchfire_warn_cursor "))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or(0);
        if cursor >= head {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the alert engine did not catch up with the log");
}

/// Reads `user`'s live stream from the start until an event holding `sentinel`.
fn streamed_until(node: &TestNode, user: &str, sentinel: &str) -> String {
    use base64::Engine as _;
    use std::io::BufRead as _;
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(format!("{user}:{}", crate::common::PASSWORD));
    let request = ureq::http::Request::builder()
        .uri(node.url("/api/v1/stream?after=0"))
        .header("authorization", format!("Basic {encoded}"));
    let response = crate::common::agent().run(request.body(()).unwrap()).unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let reader = std::io::BufReader::new(response.into_body().into_reader());
    let mut seen = String::new();
    for line in reader.lines() {
        let line = line.unwrap();
        if line.starts_with("data:") {
            if line.contains(sentinel) {
                break;
            }
            seen.push_str(&line);
            seen.push('\n');
        }
    }
    seen
}

/// Every alert `auth` sees (all pages).
fn alerts_of(node: &TestNode, auth: &Auth, query: &str) -> Vec<Value> {
    let mut alerts = Vec::new();
    let mut after = 0;
    loop {
        let answer = node.get(&format!("/api/v1/alerts?limit=1000&after={after}{query}"), auth);
        assert_eq!(answer.status, 200, "{}", answer.body);
        let page = answer.json();
        alerts.extend(page["alerts"].as_array().unwrap().iter().cloned());
        match page["next"].as_u64() {
            Some(next) => after = next,
            None => return alerts,
        }
    }
}

#[test]
fn importing_the_fixtures_alerts_exactly_the_owners() {
    let node = TestNode::start(false);
    let accounts = watchfire_server::accounts::Accounts::new(std::sync::Arc::clone(&node.store));
    let demo = watchfire_server::demo::seed(&*node.store, &accounts).unwrap();
    let password =
        |user: &str| demo.logins.iter().find(|login| login.user == user).unwrap().password.clone();
    let claims = watchfire_warn::claims(&*node.store).unwrap();
    let orgs = accounts.orgs().unwrap();
    let sees = |org: OrgId, tlp: Tlp| {
        let org = orgs.iter().find(|candidate| candidate.id == org).unwrap();
        let principal = Principal::Member(Member {
            org: org.id,
            user: None,
            roles: Vec::new(),
            in_community: org.in_community,
            client_of: org.client_of.clone(),
        });
        may_see(&principal, &Audience::node(tlp))
    };
    let expected = expected(&claims, &sees);
    // Every fixture family and both directions are covered by the demo's constituencies.
    let values: BTreeSet<&str> = expected.iter().map(|(_, value, _)| value.as_str()).collect();
    for covered in
        ["67.213.75.205", "162.144.127.197", "1.10.16.0/20", "198.123.245.178", "5.14.3.4"]
    {
        assert!(values.contains(covered), "{covered} is not covered: {values:?}");
    }
    assert!(values.iter().any(|value| value.contains("cbd-planet.ch")), "{values:?}");
    assert!(values.iter().any(|value| value.starts_with("http://222.138.150.74")), "{values:?}");

    import_fixtures(&*node.store);
    settle_alerts(&node, &demo.admin_token);

    let fixture_sources: BTreeSet<&str> = FIXTURES.iter().map(|(_, source, _)| *source).collect();
    let users = [
        ("cert-north", "analyst-north"),
        ("cert-south", "analyst-south"),
        ("cert-east", "analyst-east"),
        ("north-energy", "viewer-energy"),
        ("global-centre", "analyst-centre"),
    ];
    let mut got = BTreeSet::new();
    let mut per_org = BTreeMap::new();
    for (org_name, user) in users {
        let org = orgs.iter().find(|org| org.name == org_name).unwrap();
        let auth = Auth::Basic(user.to_owned(), password(user));
        let alerts = alerts_of(&node, &auth, "");
        for alert in &alerts {
            // Each organisation sees its own alerts only (outbreaks aside: none here).
            assert_eq!(alert["organisation"], org.id.0.to_string(), "{org_name}: {alert}");
            let sources: Vec<&str> =
                alert["sources"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
            if sources.iter().all(|source| fixture_sources.contains(source)) {
                got.insert((
                    org.id,
                    alert["observable"]["value"].as_str().unwrap().to_owned(),
                    alert["category"].as_str().unwrap().to_owned(),
                ));
                *per_org.entry(org_name).or_insert(0) += 1;
            }
        }
    }
    assert_eq!(got, expected);
    assert!(!per_org.contains_key("global-centre"), "{per_org:?}");
    // The energy operator is no community member: it is warned from the public (CLEAR) feeds,
    // not from the GREEN reports.
    assert!(per_org["north-energy"] >= 1 && per_org["cert-east"] >= 1, "{per_org:?}");
}

#[test]
fn an_organisation_acknowledges_resolves_reports_and_mutes_its_alerts() {
    let node = TestNode::start(false).with_people();
    let a = node.accounts.org_by_name("a").unwrap();
    let claim = watchfire_warn::claim(
        &*node.store,
        a.id,
        watchfire_warn::ClaimKind::Cidr,
        "192.0.2.0/24",
        "t",
        1,
    )
    .unwrap();
    watchfire_warn::approve(&*node.store, &claim.id, "admin", 2).unwrap();
    let admin = node.token("a", None, vec![watchfire_server::accounts::Scope::Admin], None);
    node.import("b-analyst", "source=scan&tlp=green", "192.0.2.10\n192.0.2.11\n203.0.113.5\n");
    settle_alerts(&node, &admin);

    let analyst = Auth::user("a-analyst");
    let alerts = alerts_of(&node, &analyst, "");
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert!(alerts_of(&node, &Auth::user("b-analyst"), "").is_empty(), "b owns nothing");
    // The live stream carries them to a, never to b: both read up to a CLEAR sentinel.
    node.import("b-analyst", "source=sentinel&tlp=clear", "sentinel.example.org\n");
    let stream = |user: &str| streamed_until(&node, user, "sentinel.example.org");
    let (to_a, to_b) = (stream("a-analyst"), stream("b-analyst"));
    assert_eq!(to_a.matches("\"type\":\"x-watchfire-alert\",\"source\"").count(), 2, "{to_a}");
    assert!(to_a.contains("192.0.2.10") && to_a.contains("192.0.2.11"));
    assert!(!to_b.contains("x-watchfire-alert"), "{to_b}");
    let id = alerts[0]["id"].as_str().unwrap().to_owned();

    // Another organisation cannot see or change it; a viewer cannot change it.
    assert_eq!(node.get(&format!("/api/v1/alerts/{id}"), &Auth::user("b-analyst")).status, 404);
    let path = format!("/api/v1/alerts/{id}/acknowledge");
    assert_eq!(node.post(&path, &Auth::user("b-analyst"), "application/json", b"").status, 404);
    assert_eq!(node.post(&path, &Auth::user("a-viewer"), "application/json", b"").status, 403);
    let acknowledged = node.post(&path, &analyst, "application/json", br#"{"note":"on it"}"#);
    assert_eq!(acknowledged.status, 200, "{}", acknowledged.body);
    assert_eq!(acknowledged.json()["status"], "acknowledged");
    let resolve = format!("/api/v1/alerts/{id}/resolve");
    assert_eq!(node.post(&resolve, &analyst, "application/json", b"").json()["status"], "resolved");
    let one = node.get(&format!("/api/v1/alerts/{id}"), &analyst).json();
    assert_eq!((one["status"].as_str(), one["versions"].as_u64()), (Some("resolved"), Some(3)));
    assert_eq!(one["status_by"], "a-analyst");
    // Counter-measures come with it: the playbook of an IPv4 listed by a plain list (category
    // malicious, hosted), an nftables drop of the address, and a STIX course-of-action.
    let value = one["observable"]["value"].as_str().unwrap().to_owned();
    assert_eq!(one["guidance"]["playbook"]["key"], "generic.hosted", "{one}");
    let nftables = one["guidance"]["rules"]["nftables"].as_str().unwrap();
    assert!(nftables.contains(&value), "{nftables}");
    assert_eq!(one["course_of_action"]["type"], "course-of-action");

    // Filters.
    assert_eq!(alerts_of(&node, &analyst, "&status=resolved").len(), 1);
    assert_eq!(alerts_of(&node, &analyst, "&status=new,acknowledged").len(), 1);
    assert_eq!(node.get("/api/v1/alerts?status=bogus", &analyst).code(), "bad_request");
    assert_eq!(
        node.get("/api/v1/alerts?severity=critical", &analyst).json()["alerts"],
        serde_json::json!([])
    );

    // Shared with b: b sees it (and nothing else of a's), cannot change it; a repeat keeps it shared.
    let share = format!("/api/v1/alerts/{id}/share");
    let unknown =
        node.post(&share, &analyst, "application/json", br#"{"organisations":["nobody"]}"#);
    assert_eq!(unknown.code(), "bad_request");
    assert!(unknown.body.contains("nobody"), "{}", unknown.body);
    let by_b = node.post(
        &share,
        &Auth::user("b-analyst"),
        "application/json",
        br#"{"organisations":["b"]}"#,
    );
    assert_eq!(by_b.status, 404, "only the organisation addressed shares it");
    let shared = node.post(&share, &analyst, "application/json", br#"{"organisations":["b"]}"#);
    assert_eq!(shared.status, 200, "{}", shared.body);
    assert_eq!(shared.json()["shared_with"], serde_json::json!(["b"]));
    settle_alerts(&node, &admin);
    let seen_by_b = alerts_of(&node, &Auth::user("b-analyst"), "");
    assert_eq!(seen_by_b.len(), 1, "{seen_by_b:?}");
    assert_eq!(seen_by_b[0]["id"], id.as_str());
    let b_resolves = node.post(&resolve, &Auth::user("b-analyst"), "application/json", b"");
    assert_eq!(b_resolves.status, 404);
    let value_shared = seen_by_b[0]["observable"]["value"].as_str().unwrap().to_owned();
    node.import("b-analyst", "source=again&tlp=green", &format!("{value_shared}\n"));
    settle_alerts(&node, &admin);
    let again = alerts_of(&node, &Auth::user("b-analyst"), "");
    assert_eq!((again.len(), again[0]["count"].as_u64()), (1, Some(2)), "{again:?}");
    assert_eq!(again[0]["status"], "new", "a repeat opens the resolved alert again");

    // The report of the last day: CSV with a header and a row per alert; JSON too.
    let csv = node.get("/api/v1/alerts/report", &analyst);
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert!(lines[0].starts_with("id,first_seen,last_seen,severity"), "{}", lines[0]);
    assert_eq!(lines.len(), 3, "{}", csv.body);
    assert!(csv.body.contains("192.0.2.10") && csv.body.contains("192.0.2.11"));
    let report = node.get("/api/v1/alerts/report?format=json", &analyst).json();
    assert_eq!(report["alerts"].as_array().unwrap().len(), 2);
    // b's report holds the one alert a shared with it, nothing else of a's.
    let b_report = node.get("/api/v1/alerts/report?format=json", &Auth::user("b-analyst")).json();
    let b_ids: Vec<&str> = b_report["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|alert| alert["id"].as_str())
        .collect();
    assert_eq!(b_ids, [id.as_str()]);
    assert_eq!(node.get("/api/v1/alerts/report?format=xml", &analyst).code(), "bad_request");

    // Inhibitions: a network muted, then a new listing in it raises nothing and is counted.
    let body = br#"{"kind":"network","value":"192.0.2.128/25","reason":"lab"}"#;
    let made = node.post("/api/v1/inhibitions", &analyst, "application/json", body);
    assert_eq!(made.status, 200, "{}", made.body);
    let bad = br#"{"kind":"network","value":"192.0.2.0/99"}"#;
    let refused = node.post("/api/v1/inhibitions", &analyst, "application/json", bad);
    assert_eq!(refused.code(), "bad_request");
    assert!(refused.body.contains("192.0.2.0/99"), "{}", refused.body);
    node.import("b-analyst", "source=scan2&tlp=green", "192.0.2.200\n192.0.2.20\n");
    settle_alerts(&node, &admin);
    let values: BTreeSet<String> = alerts_of(&node, &analyst, "")
        .iter()
        .map(|alert| alert["observable"]["value"].as_str().unwrap().to_owned())
        .collect();
    assert!(values.contains("192.0.2.20") && !values.contains("192.0.2.200"), "{values:?}");
    let listed = node.get("/api/v1/inhibitions", &analyst).json();
    assert_eq!(listed["inhibitions"][0]["muted"], 1, "{listed}");
    let inhibition = listed["inhibitions"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        node.delete(&format!("/api/v1/inhibitions/{inhibition}"), &Auth::user("b-analyst")).status,
        404
    );
    assert_eq!(node.delete(&format!("/api/v1/inhibitions/{inhibition}"), &analyst).status, 200);
}

#[test]
fn a_claim_approved_over_the_api_warns_of_what_the_node_already_holds() {
    let node = TestNode::start(false).with_people();
    let admin = node.token("a", None, vec![watchfire_server::accounts::Scope::Admin], None);
    node.import("b-analyst", "source=scan&tlp=green", "192.0.2.10\n192.0.2.11\n203.0.113.5\n");
    settle_alerts(&node, &admin);
    let analyst = Auth::user("a-analyst");
    assert!(alerts_of(&node, &analyst, "").is_empty());

    // a claims its network after the data arrived; its administrator approves. Nothing is
    // appended to the log after it, yet a hears of the two addresses listed in it.
    let body = br#"{"kind":"cidr","value":"192.0.2.0/24"}"#;
    let claimed = node.post("/api/v1/constituency/claims", &analyst, "application/json", body);
    assert_eq!(claimed.status, 200, "{}", claimed.body);
    let id = claimed.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/constituency/claims/{id}/approve");
    let approved = node.post(&path, &Auth::user("a-admin"), "application/json", b"");
    assert_eq!(approved.status, 200, "{}", approved.body);
    let mut values = BTreeSet::new();
    for _ in 0..500 {
        values = alerts_of(&node, &analyst, "")
            .iter()
            .map(|alert| alert["observable"]["value"].as_str().unwrap().to_owned())
            .collect();
        if values.len() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(values, BTreeSet::from(["192.0.2.10".to_owned(), "192.0.2.11".to_owned()]));
    assert!(alerts_of(&node, &Auth::user("b-analyst"), "").is_empty());
    let metrics = node.get("/metrics", &Auth::Bearer(admin)).body;
    assert!(metrics.contains("watchfire_warn_lookbacks 0"), "{metrics}");
}

#[test]
fn the_demo_warns_an_organisation_outside_the_community_from_what_it_may_see() {
    let node = TestNode::start(false);
    let accounts = watchfire_server::accounts::Accounts::new(std::sync::Arc::clone(&node.store));
    let demo = watchfire_server::demo::seed(&*node.store, &accounts).unwrap();
    settle_alerts(&node, &demo.admin_token);
    let password =
        |user: &str| demo.logins.iter().find(|login| login.user == user).unwrap().password.clone();
    let energy = Auth::Basic("viewer-energy".to_owned(), password("viewer-energy"));
    let alerts = alerts_of(&node, &energy, "");
    assert!(!alerts.is_empty(), "the demo feed lists addresses of 192.0.2.192/26");
    for alert in &alerts {
        assert_eq!(alert["matched"]["value"], "192.0.2.192/26", "{alert}");
        // Its evidence is data the operator may read: CLEAR, or cert-north's AMBER (it is a
        // client of cert-north); never GREEN, which is for the community.
        let evidence = alert["evidence"][0]["object"].as_str().unwrap();
        let object = node.get(&format!("/api/v1/objects/{evidence}"), &energy);
        assert_eq!(object.status, 200, "{alert}");
        assert!(!object.body.contains("\"tlp\":\"TLP:GREEN\""), "{}", object.body);
    }
    // cert-north, in the community, is warned from the GREEN records of its own /25 as well.
    let north = Auth::Basic("analyst-north".to_owned(), password("analyst-north"));
    let north_alerts = alerts_of(&node, &north, "");
    assert!(north_alerts.iter().all(|alert| alert["matched"]["value"] == "192.0.2.0/25"));
    assert!(north_alerts.len() > alerts.len(), "{} {}", north_alerts.len(), alerts.len());
}
