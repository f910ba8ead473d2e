//! The alert engine on a SQLite store with the real feed fixtures: who gets which alert, and
//! nobody else; aggregation, replays after a crash, inhibitions, the access policy, host events,
//! outbreaks from sightings, expiry and the lifecycle.

use std::collections::BTreeSet;
use std::fs::File;

use uuid::Uuid;
use watchfire_formats::Item;
use watchfire_model::Observable;
use watchfire_model::policy::{Audience, Member, OrgId, Principal};
use watchfire_model::record::{Category, IndicatorRecord, Record};
use watchfire_model::stix::{Precision, Timestamp};
use watchfire_model::tlp::Tlp;
use watchfire_store::{Fact, Query, Reader, SqliteStore, Store};
use watchfire_warn::{
    ALERT_TYPE, Alert, ClaimKind, Direction, Engine, InhibitionKind, NewInhibition, Settings,
    Status,
};

fn org(n: u128) -> OrgId {
    OrgId(Uuid::from_u128(n))
}

const A: u128 = 0xa;
const B: u128 = 0xb;
const C: u128 = 0xc;

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("watchfire.db")).unwrap();
    (dir, store)
}

fn principal(org: OrgId) -> Option<Principal> {
    Some(Principal::Member(Member {
        org,
        user: None,
        roles: Vec::new(),
        in_community: true,
        client_of: Vec::new(),
    }))
}

fn approve(store: &dyn Store, owner: OrgId, kind: ClaimKind, value: &str) {
    let claim = watchfire_warn::claim(store, owner, kind, value, "tester", 1).unwrap();
    watchfire_warn::approve(store, &claim.id, "admin", 2).unwrap();
}

fn fixture(path: &str) -> String {
    format!("{}/../../../shared/fixtures/feeds/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn now() -> Timestamp {
    Timestamp::from_unix_nanos(watchfire_store::now_micros() * 1000, Precision::Millis)
}

/// Imports a fixture the way `watchfire import` does, as node data at `tlp`.
fn import(store: &dyn Store, path: &str, source: &str, audience: Audience) {
    let file = File::open(fixture(path)).unwrap();
    let mut ingest =
        watchfire_feeds::Ingest::new(source, audience.tlp, &now()).with_audience(audience);
    let mut facts = Vec::new();
    watchfire_feeds::read(path, Box::new(file), None, &mut |_| {}, &mut |item| {
        if let Item::Record(record) = item {
            ingest.facts(&record, &mut facts);
        }
    })
    .unwrap();
    store.append(&facts).unwrap();
}

fn indicator(store: &dyn Store, source: &str, value: &str, category: Category, audience: Audience) {
    let mut record = IndicatorRecord::new(Observable::parse(value).unwrap());
    record.category = Some(category);
    record.first_seen = Some(now());
    let mut facts = Vec::new();
    watchfire_feeds::Ingest::new(source, audience.tlp, &now())
        .with_audience(audience)
        .facts(&Record::Indicator(record), &mut facts);
    store.append(&facts).unwrap();
}

fn engine(store: &dyn Store) -> Engine {
    Engine::open(store, Settings::default(), None).unwrap()
}

fn run(engine: &mut Engine, store: &dyn Store) -> watchfire_warn::StepOutcome {
    engine.catch_up(store, &principal).unwrap()
}

/// Every current alert on the log, as the operator reads it.
fn alerts(store: &dyn Store) -> Vec<Alert> {
    let query = Query {
        limit: 10_000,
        types: vec![ALERT_TYPE.to_owned()],
        latest_only: true,
        ..Query::default()
    };
    let page = store.query(Reader::Operator, &query).unwrap();
    page.entries.iter().map(|entry| Alert::from_entry(entry).unwrap()).collect()
}

fn of(alerts: &[Alert], owner: OrgId) -> BTreeSet<(String, String, Category)> {
    alerts
        .iter()
        .filter(|alert| alert.organisation == Some(owner))
        .map(|alert| {
            (
                alert.observable.value().to_owned(),
                alert.matched.as_ref().unwrap().value.clone(),
                alert.category,
            )
        })
        .collect()
}

fn set(items: &[(&str, &str, Category)]) -> BTreeSet<(String, String, Category)> {
    items
        .iter()
        .map(|(value, matched, category)| (value.to_string(), matched.to_string(), *category))
        .collect()
}

#[test]
fn feeds_alert_exactly_the_owners_of_what_they_list() {
    let (_dir, store) = store();
    // A: one Feodo C2 (67.213.75.205) and a Spamhaus DROP network inside its /8;
    // B: a URLhaus host by address and an IPv6 network nobody lists; C: nothing listed.
    approve(&store, org(A), ClaimKind::Cidr, "67.213.75.0/24");
    approve(&store, org(A), ClaimKind::Cidr, "1.10.16.0/22");
    approve(&store, org(B), ClaimKind::Cidr, "222.138.150.0/24");
    approve(&store, org(B), ClaimKind::Cidr, "2001:db8::/32");
    approve(&store, org(C), ClaimKind::Cidr, "198.51.100.0/24");
    let green = Audience::node(Tlp::Green);
    import(&store, "abusech-feodotracker/ipblocklist.csv", "feodo", green.clone());
    import(&store, "spamhaus-drop/drop_v4.json", "spamhaus-drop", green.clone());
    // An expired listing (valid until 2015) warns nobody.
    import(&store, "spamhaus-drop/drop.lasso", "spamhaus-old", green.clone());
    import(&store, "abusech-urlhaus/csv_recent.csv", "urlhaus", green);
    let mut engine = engine(&store);
    let outcome = run(&mut engine, &store);
    assert!(outcome.entries > 0 && outcome.unreadable == 0, "{outcome:?}");

    let alerts = alerts(&store);
    assert_eq!(
        of(&alerts, org(A)),
        set(&[
            ("67.213.75.205", "67.213.75.0/24", Category::BotnetC2),
            // The listed /20 holds A's /22: A's network is listed.
            ("1.10.16.0/20", "1.10.16.0/22", Category::Bogon),
        ])
    );
    assert_eq!(
        of(&alerts, org(B)),
        set(&[
            ("http://222.138.150.74:43262/i", "222.138.150.0/24", Category::MalwareDistribution),
            (
                "http://222.138.150.74:43262/bin.sh",
                "222.138.150.0/24",
                Category::MalwareDistribution
            ),
        ])
    );
    assert!(of(&alerts, org(C)).is_empty());
    assert_eq!(alerts.len(), 4, "{alerts:#?}");
    for alert in &alerts {
        assert_eq!(
            (alert.direction, alert.status, alert.count),
            (Direction::Hosted, Status::New, 1)
        );
        assert_eq!(alert.evidence.len(), 1);
    }
    // Nothing new: a second run raises nothing.
    assert_eq!(run(&mut engine, &store).raised, 0);
}

#[test]
fn alerts_are_visible_to_their_organisation_alone() {
    let (_dir, store) = store();
    approve(&store, org(A), ClaimKind::Cidr, "192.0.2.0/24");
    indicator(&store, "feed", "192.0.2.7", Category::BotnetC2, Audience::node(Tlp::Clear));
    run(&mut engine(&store), &store);
    let query = Query { limit: 100, types: vec![ALERT_TYPE.to_owned()], ..Query::default() };
    let seen_by = |owner: u128| {
        let principal = principal(org(owner)).unwrap();
        store.query(Reader::Principal(&principal), &query).unwrap().entries.len()
    };
    assert_eq!((seen_by(A), seen_by(B)), (1, 0));
    assert_eq!(
        store.query(Reader::Principal(&Principal::Anonymous), &query).unwrap().entries.len(),
        0
    );
}

#[test]
fn evidence_the_organisation_may_not_see_raises_no_alert() {
    let (_dir, store) = store();
    approve(&store, org(A), ClaimKind::Cidr, "192.0.2.0/24");
    // C's AMBER upload about A's address: A may not see it, so A gets no alert from it.
    let amber_of_c = Audience { owner: Some(org(C)), ..Audience::node(Tlp::Amber) };
    indicator(&store, "c/upload", "192.0.2.8", Category::Phishing, amber_of_c.clone());
    let mut engine = engine(&store);
    run(&mut engine, &store);
    assert!(alerts(&store).is_empty());
    // Named in the distribution, A may see it: the next version alerts A.
    let named = Audience { organisations: vec![org(A)], ..amber_of_c };
    indicator(&store, "c/upload2", "192.0.2.8", Category::Phishing, named);
    run(&mut engine, &store);
    assert_eq!(
        of(&alerts(&store), org(A)),
        set(&[("192.0.2.8", "192.0.2.0/24", Category::Phishing)])
    );
}

#[test]
fn repeats_in_the_window_are_counted_and_a_replay_counts_nothing_twice() {
    let (_dir, store) = store();
    approve(&store, org(A), ClaimKind::Domain, "example.net");
    let green = Audience::node(Tlp::Green);
    indicator(&store, "one", "login.example.net", Category::Phishing, green.clone());
    let mut engine = engine(&store);
    assert_eq!(run(&mut engine, &store).raised, 1);
    indicator(&store, "two", "login.example.net", Category::Phishing, green.clone());
    indicator(&store, "three", "login.example.net", Category::Phishing, green);
    let outcome = run(&mut engine, &store);
    assert_eq!((outcome.raised, outcome.updated), (0, 1));
    let alert = &alerts(&store)[0];
    assert_eq!(alert.count, 3);
    assert_eq!(alert.sources, ["one", "three", "two"]);
    assert_eq!(alert.matched.as_ref().unwrap().value, "example.net");
    // Phishing weighs 70 with the default confidence and reliability; two corroborating
    // sources add 5 each.
    assert_eq!((alert.score, alert.severity), (80, watchfire_warn::Severity::High));

    // A crash before the cursor was saved: the engine reads everything again.
    store.directory_delete(watchfire_warn::STATE_KIND, "cursor").unwrap();
    let mut replay = Engine::open(&store, Settings::default(), None).unwrap();
    let outcome = run(&mut replay, &store);
    assert_eq!((outcome.raised, outcome.updated), (0, 0));
    assert_eq!(alerts(&store)[0].count, 3);
}

#[test]
fn inhibitions_mute_and_count_until_they_expire() {
    let (_dir, store) = store();
    approve(&store, org(A), ClaimKind::Cidr, "203.0.113.0/24");
    let now = watchfire_store::now_micros();
    let inhibition = watchfire_warn::inhibit(
        &store,
        org(A),
        &NewInhibition {
            kind: InhibitionKind::Network,
            value: "203.0.113.128/25".to_owned(),
            reason: "our honeypots".to_owned(),
            expires_micros: now + 3_600_000_000,
        },
        "alice",
        now,
    )
    .unwrap();
    let green = Audience::node(Tlp::Green);
    indicator(&store, "scan", "203.0.113.200", Category::Scanner, green.clone());
    indicator(&store, "scan", "203.0.113.10", Category::Scanner, green);
    let mut engine = engine(&store);
    let outcome = run(&mut engine, &store);
    assert_eq!((outcome.raised, outcome.inhibited), (1, 1));
    assert_eq!(alerts(&store)[0].observable.value(), "203.0.113.10");
    let stored = watchfire_warn::inhibitions(&store, Some(org(A))).unwrap();
    assert_eq!(stored[0].muted, 1);
    // Another organisation cannot lift it; A can.
    assert!(!watchfire_warn::lift(&store, org(B), &inhibition.id).unwrap());
    assert!(watchfire_warn::lift(&store, org(A), &inhibition.id).unwrap());

    for (kind, value, reason) in [
        (InhibitionKind::Network, "10.0.0.0/33", "prefix"),
        (InhibitionKind::Category, "nonsense", "unknown category"),
        (InhibitionKind::Domain, "not a domain", ""),
    ] {
        let new = NewInhibition {
            kind,
            value: value.into(),
            reason: String::new(),
            expires_micros: now + 1,
        };
        let error = watchfire_warn::inhibit(&store, org(A), &new, "alice", now).unwrap_err();
        assert!(error.to_string().contains(value) && error.to_string().contains(reason), "{error}");
    }
    let too_long = NewInhibition {
        kind: InhibitionKind::Category,
        value: "spam".into(),
        reason: String::new(),
        expires_micros: now + 2 * watchfire_warn::MAX_INHIBITION_MICROS,
    };
    assert!(watchfire_warn::inhibit(&store, org(A), &too_long, "alice", now).is_err());
}

#[test]
fn shadowserver_rows_report_the_owners_hosts_by_network_and_by_asn() {
    let (_dir, store) = store();
    // scan_rdp.csv lists 198.123.245.178 and .233; event4_sinkhole_http.csv lists infected
    // hosts, one of them 5.14.3.4 in AS8708.
    approve(&store, org(A), ClaimKind::Cidr, "198.123.245.128/25");
    approve(&store, org(B), ClaimKind::Asn, "AS8708");
    let green = Audience::node(Tlp::Green);
    import(&store, "shadowserver/scan_rdp.csv", "shadowserver", green.clone());
    import(&store, "shadowserver/event4_sinkhole_http.csv", "shadowserver", green);
    run(&mut engine(&store), &store);
    let alerts = alerts(&store);
    let mine = |owner: u128| {
        alerts
            .iter()
            .filter(|alert| alert.organisation == Some(org(owner)))
            .map(|alert| {
                assert_eq!(alert.direction, Direction::Reported);
                (
                    alert.observable.value().to_owned(),
                    alert.category,
                    alert.event_type.clone().unwrap(),
                )
            })
            .collect::<BTreeSet<_>>()
    };
    let expected = |rows: &[(&str, Category, &str)]| {
        rows.iter()
            .map(|(ip, category, report)| (ip.to_string(), *category, report.to_string()))
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        mine(A),
        expected(&[
            ("198.123.245.178", Category::Exposed, "scan_rdp"),
            ("198.123.245.233", Category::Exposed, "scan_rdp"),
        ])
    );
    // By AS: the row's own src_asn says so.
    assert_eq!(mine(B), expected(&[("5.14.3.4", Category::Infected, "sinkhole_http")]));
    assert_eq!(alerts.len(), 3);
    assert!(alerts.iter().all(|alert| alert.port.is_some()));
    let b = alerts.iter().find(|alert| alert.organisation == Some(org(B))).unwrap();
    assert_eq!(b.matched.as_ref().unwrap().value, "AS8708");
    assert_eq!(b.evidence[0].detail, "sinkhole_http: andromeda");
}

#[test]
fn sightings_by_k_organisations_raise_an_outbreak() {
    let (_dir, store) = store();
    let green = Audience::node(Tlp::Green);
    indicator(&store, "feed", "evil.example.org", Category::BotnetC2, green);
    let indicator_id = store
        .query(
            Reader::Operator,
            &Query { limit: 10, types: vec!["indicator".into()], ..Query::default() },
        )
        .unwrap()
        .entries[0]
        .id
        .clone();
    let sight = |owner: u128, n: u32| {
        let id = format!("sighting--{}", Uuid::from_u128(owner * 1000 + u128::from(n)));
        let time = now();
        let object = watchfire_model::stix::StixObject::from_properties(
            serde_json::json!({
                "type": "sighting", "spec_version": "2.1", "id": id,
                "created": time.as_str(), "modified": time.as_str(),
                "sighting_of_ref": indicator_id, "count": 2
            })
            .as_object()
            .unwrap()
            .clone(),
        )
        .unwrap();
        let audience = Audience { owner: Some(org(owner)), ..Audience::node(Tlp::Amber) };
        store.append(&[Fact::object(format!("org{owner}/sightings"), audience, object)]).unwrap();
    };
    let mut engine = engine(&store);
    sight(A, 1);
    sight(A, 2);
    sight(B, 1);
    run(&mut engine, &store);
    assert!(alerts(&store).is_empty(), "two organisations are no outbreak");
    sight(C, 1);
    run(&mut engine, &store);
    let alerts = alerts(&store);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!((alerts[0].direction, alerts[0].organisation), (Direction::Outbreak, None));
    assert!(
        !serde_json::to_string(&alerts[0]).unwrap().contains("org1"),
        "no sighting organisation is named"
    );
    // The outbreak has the audience of the indicator: community members see it.
    let query = Query { limit: 10, types: vec![ALERT_TYPE.to_owned()], ..Query::default() };
    let member = principal(org(0x99)).unwrap();
    assert_eq!(store.query(Reader::Principal(&member), &query).unwrap().entries.len(), 1);
}

#[test]
fn open_alerts_expire_and_a_repeat_opens_a_resolved_one_again() {
    let (_dir, store) = store();
    approve(&store, org(A), ClaimKind::Cidr, "192.0.2.0/24");
    let green = Audience::node(Tlp::Green);
    indicator(&store, "feed", "192.0.2.1", Category::BotnetC2, green.clone());
    indicator(&store, "feed", "192.0.2.2", Category::BotnetC2, green.clone());
    let mut engine = engine(&store);
    run(&mut engine, &store);
    let ids: Vec<String> = alerts(&store).iter().map(|alert| alert.id.clone()).collect();

    // Status changes go through the policy: B cannot touch A's alert.
    let b = principal(org(B)).unwrap();
    let a = principal(org(A)).unwrap();
    assert!(
        engine
            .set_status(&store, Reader::Principal(&b), &ids[0], Status::Resolved, "mallory", None)
            .unwrap()
            .is_none()
    );
    let resolved = engine
        .set_status(
            &store,
            Reader::Principal(&a),
            &ids[0],
            Status::Resolved,
            "alice",
            Some("took it down".into()),
        )
        .unwrap()
        .unwrap();
    assert_eq!((resolved.status, resolved.status_by.as_deref()), (Status::Resolved, Some("alice")));
    let versions = store.get(Reader::Operator, &ids[0], watchfire_store::Versions::All).unwrap();
    assert_eq!(versions.len(), 2);

    // A week and a day later the other one expires; the resolved one stays resolved.
    let later = watchfire_store::now_micros() + 8 * 86_400_000_000;
    assert_eq!(engine.expire(&store, later).unwrap(), 1);
    let statuses: BTreeSet<Status> = alerts(&store).iter().map(|alert| alert.status).collect();
    assert_eq!(statuses, BTreeSet::from([Status::Resolved, Status::Expired]));

    // Reported again in the same window: the resolved alert is open again, counted.
    indicator(&store, "other", "192.0.2.1", Category::BotnetC2, green);
    run(&mut engine, &store);
    let alert = alerts(&store).into_iter().find(|alert| alert.id == ids[0]).unwrap();
    assert_eq!((alert.status, alert.count), (Status::New, 2));
}

/// Tells AS 64500 and FR for 203.0.113.0/24, AS 64501 and DE elsewhere (as a MaxMind file would;
/// the files themselves are read in `geo.rs`).
#[derive(Debug)]
struct TwoNetworks;

impl watchfire_warn::Locator for TwoNetworks {
    fn asn(&self, address: std::net::IpAddr) -> Option<u32> {
        Some(if address.to_string().starts_with("203.0.113.") { 64500 } else { 64501 })
    }

    fn country(&self, address: std::net::IpAddr) -> Option<String> {
        Some(if address.to_string().starts_with("203.0.113.") { "FR" } else { "DE" }.to_owned())
    }
}

#[test]
fn addresses_reach_the_owners_of_their_as_then_their_country() {
    let (_dir, store) = store();
    approve(&store, org(A), ClaimKind::Asn, "AS64500");
    approve(&store, org(B), ClaimKind::Country, "FR");
    approve(&store, org(C), ClaimKind::Country, "DE");
    approve(&store, org(C), ClaimKind::Cidr, "203.0.113.128/25");
    let green = Audience::node(Tlp::Green);
    // In AS64500 (A, more specific than B's country), in C's network (more specific than A's
    // AS), and elsewhere in DE (C's country).
    indicator(&store, "feed", "203.0.113.5", Category::BotnetC2, green.clone());
    indicator(&store, "feed", "203.0.113.200", Category::BotnetC2, green.clone());
    indicator(&store, "feed", "192.0.2.1", Category::BotnetC2, green);
    let locator: std::sync::Arc<dyn watchfire_warn::Locator> = std::sync::Arc::new(TwoNetworks);
    let mut engine = Engine::open(&store, Settings::default(), Some(locator)).unwrap();
    run(&mut engine, &store);
    let alerts = alerts(&store);
    assert_eq!(of(&alerts, org(A)), set(&[("203.0.113.5", "AS64500", Category::BotnetC2)]));
    assert!(of(&alerts, org(B)).is_empty());
    assert_eq!(
        of(&alerts, org(C)),
        set(&[
            ("203.0.113.200", "203.0.113.128/25", Category::BotnetC2),
            ("192.0.2.1", "DE", Category::BotnetC2),
        ])
    );
}

#[test]
fn a_source_rated_reliable_raises_a_more_severe_alert() {
    let (_dir, store) = store();
    approve(&store, org(A), ClaimKind::Cidr, "192.0.2.0/24");
    for (name, letter) in [("trusted", "A"), ("doubtful", "E"), ("unrated", "F")] {
        let mut source = watchfire_feeds::Source::new(
            name,
            watchfire_feeds::SourceKind::Http,
            "https://feeds.example/list.txt",
        );
        source.reliability = Some(letter.parse().unwrap());
        watchfire_feeds::source::put(&store, &source, watchfire_store::Put::Insert).unwrap();
    }
    let green = Audience::node(Tlp::Green);
    indicator(&store, "trusted", "192.0.2.1", Category::Scanner, green.clone());
    indicator(&store, "doubtful", "192.0.2.2", Category::Scanner, green.clone());
    indicator(&store, "unrated", "192.0.2.3", Category::Scanner, green.clone());
    indicator(&store, "unknown", "192.0.2.4", Category::Scanner, green);
    run(&mut engine(&store), &store);
    let score = |value: &str| {
        alerts(&store).into_iter().find(|alert| alert.observable.value() == value).unwrap().score
    };
    // Scanner weighs 40; A (100) adds 8, E (20) takes 8; F and an unknown source count 60.
    assert_eq!(
        [score("192.0.2.1"), score("192.0.2.2"), score("192.0.2.3"), score("192.0.2.4")],
        [48, 32, 40, 40]
    );
}

#[test]
fn a_claim_approved_after_the_data_looks_back_at_what_is_still_listed() {
    let (_dir, store) = store();
    approve(&store, org(A), ClaimKind::Cidr, "67.213.75.0/24");
    let green = Audience::node(Tlp::Green);
    import(&store, "abusech-feodotracker/ipblocklist.csv", "feodo", green.clone());
    import(&store, "spamhaus-drop/drop_v4.json", "spamhaus-drop", green.clone());
    // Listed only in 2015 (valid until then): nothing to warn of today.
    import(&store, "spamhaus-drop/drop.lasso", "spamhaus-old", green.clone());
    import(&store, "abusech-urlhaus/csv_recent.csv", "urlhaus", green.clone());
    import(&store, "shadowserver/scan_rdp.csv", "shadowserver", green);
    let mut engine = engine(&store);
    let first = run(&mut engine, &store);
    assert_eq!((first.raised, first.looked_back), (1, 0), "{first:?}");
    let a_before = of(&alerts(&store), org(A));

    // B joins later. No feed lists anything again, yet B hears of what is listed in its space
    // now: two URLhaus URLs, the DROP /20 over its /22 and two exposed RDP hosts.
    let approved_at = watchfire_store::now_micros();
    approve(&store, org(B), ClaimKind::Cidr, "222.138.150.0/24");
    approve(&store, org(B), ClaimKind::Cidr, "1.10.16.0/22");
    approve(&store, org(B), ClaimKind::Cidr, "198.123.245.128/25");
    approve(&store, org(B), ClaimKind::Cidr, "1.4.0.0/17");
    let outcome = run(&mut engine, &store);
    assert!(outcome.looked_back > 0, "{outcome:?}");
    let alerts_now = alerts(&store);
    assert_eq!(
        of(&alerts_now, org(B)),
        set(&[
            ("http://222.138.150.74:43262/i", "222.138.150.0/24", Category::MalwareDistribution),
            (
                "http://222.138.150.74:43262/bin.sh",
                "222.138.150.0/24",
                Category::MalwareDistribution
            ),
            ("1.10.16.0/20", "1.10.16.0/22", Category::Bogon),
            ("198.123.245.178", "198.123.245.128/25", Category::Exposed),
            ("198.123.245.233", "198.123.245.128/25", Category::Exposed),
        ])
    );
    let reported: BTreeSet<&str> = alerts_now
        .iter()
        .filter(|alert| alert.direction == Direction::Reported)
        .map(|alert| alert.observable.value())
        .collect();
    assert_eq!(reported, BTreeSet::from(["198.123.245.178", "198.123.245.233"]));
    for alert in alerts_now.iter().filter(|alert| alert.organisation == Some(org(B))) {
        assert_eq!(alert.count, 1, "{alert:?}");
        // Dated when B could first hear of it.
        assert!(
            alert.first_seen.unix_nanos() / 1000 >= i128::from(approved_at - 1000),
            "{alert:?}"
        );
    }
    // A's alerts are untouched: the look-back matches the new claims only.
    assert_eq!(of(&alerts_now, org(A)), a_before);
    assert!(alerts_now.iter().filter(|a| a.organisation == Some(org(A))).all(|a| a.count == 1));
    assert_eq!(engine.lookback_pending(), 0);
    let again = run(&mut engine, &store);
    assert_eq!((again.raised, again.updated, again.looked_back), (0, 0, 0));
}

#[test]
fn a_look_back_cut_short_by_a_restart_finishes_and_counts_nothing_twice() {
    let (_dir, store) = store();
    approve(&store, org(A), ClaimKind::Cidr, "67.213.75.0/24");
    let green = Audience::node(Tlp::Green);
    import(&store, "abusech-urlhaus/csv_recent.csv", "urlhaus", green.clone());
    let settings = Settings { batch: 7, ..Settings::default() };
    let mut engine = Engine::open(&store, settings.clone(), None).unwrap();
    run(&mut engine, &store);
    approve(&store, org(B), ClaimKind::Cidr, "222.138.150.0/24");
    // One page of the look-back, then the node stops.
    let step = engine.step(&store, &principal).unwrap();
    assert!(step.more && step.looked_back > 0, "{step:?}");
    assert_eq!(engine.lookback_pending(), 1);
    drop(engine);
    let mut restarted = Engine::open(&store, settings, None).unwrap();
    run(&mut restarted, &store);
    assert_eq!(restarted.lookback_pending(), 0);
    let b: Vec<Alert> =
        alerts(&store).into_iter().filter(|alert| alert.organisation == Some(org(B))).collect();
    assert_eq!(b.len(), 2, "{b:#?}");
    assert!(b.iter().all(|alert| alert.count == 1));

    // A claim withdrawn while its look-back runs owes nothing more; approved again, it looks
    // back again.
    let claim =
        watchfire_warn::claim(&store, org(C), ClaimKind::Cidr, "1.10.16.0/22", "t", 1).unwrap();
    watchfire_warn::approve(&store, &claim.id, "admin", 2).unwrap();
    assert!(restarted.step(&store, &principal).unwrap().more);
    assert_eq!(restarted.lookback_pending(), 1);
    watchfire_warn::reject(&store, &claim.id, "admin", 3).unwrap();
    let step = restarted.step(&store, &principal).unwrap();
    assert_eq!((restarted.lookback_pending(), step.looked_back), (0, 0), "{step:?}");
    watchfire_warn::approve(&store, &claim.id, "admin", 4).unwrap();
    restarted.step(&store, &principal).unwrap();
    assert_eq!(restarted.lookback_pending(), 1);
}
