//! Lookups against a snapshot built from a real (SQLite) store: exact values, networks, parent
//! domains, URL hosts, decoys that must not match, and the access policy on every hit.

use serde_json::json;
use uuid::Uuid;
use watchfire_index::{LookupOptions, MatchKind, Snapshot, build};
use watchfire_model::Observable;
use watchfire_model::policy::{Audience, Member, OrgId, Origin, Principal, Role};
use watchfire_model::stix::{Indicator, Precision, StixObject, Timestamp};
use watchfire_model::tlp::Tlp;
use watchfire_store::{Fact, Reader, SqliteStore, Store};

const NOW: i64 = 1_800_000_000_000_000;

fn time(micros: i64) -> Timestamp {
    Timestamp::from_unix_nanos(micros * 1000, Precision::Millis)
}

fn indicator(source: &str, value: &str, valid_until: Option<i64>) -> StixObject {
    let observable = Observable::parse(value).expect("valid observable");
    let mut indicator = Indicator::for_observable(source, &observable, time(NOW - 1_000_000));
    indicator.confidence = Some(90);
    indicator.valid_until = valid_until.map(time);
    StixObject::Indicator(indicator)
}

fn org(n: u128) -> OrgId {
    OrgId(Uuid::from_u128(n))
}

fn amber_of_a() -> Audience {
    Audience {
        owner: Some(org(1)),
        tlp: Tlp::Amber,
        organisations: Vec::new(),
        users: Vec::new(),
        origin: Origin::Local,
    }
}

fn member(n: u128) -> Principal {
    Principal::Member(Member {
        org: org(n),
        user: None,
        roles: vec![Role::Analyst],
        in_community: true,
        client_of: Vec::new(),
    })
}

fn snapshot() -> (Snapshot, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("watchfire.db")).unwrap();
    let clear = |source: &str, value: &str| {
        Fact::object(source, Audience::node(Tlp::Clear), indicator(source, value, None))
    };
    let benign = StixObject::from_properties(
        json!({
            "type": "x-watchfire-benign",
            "spec_version": "2.1",
            "id": "x-watchfire-benign--6a1f3a5e-6f0a-4b55-9d8e-1c0d2f3a4b5c",
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z",
            "list": "public DNS resolvers",
            "kind": "ipv4",
            "value": "9.9.9.9",
        })
        .as_object()
        .unwrap()
        .clone(),
    )
    .unwrap();
    store
        .append(&[
            clear("feed", "1.2.3.4"),
            clear("feed", "10.0.0.0/8"),
            Fact::object("partner", amber_of_a(), indicator("partner", "10.1.0.0/16", None)),
            clear("feed", "2001:db8::/32"),
            clear("feed", "2001:db8::1"),
            clear("feed", "evil.example"),
            clear("other", "evil.example"),
            clear("feed", "http://bad.example/x.exe"),
            clear("feed", "d41d8cd98f00b204e9800998ecf8427e"),
            clear("feed", "phish@evil.example"),
            clear("feed", "9.9.9.9"),
            clear("feed", "AS64500"),
            clear("feed", "github.io"),
            Fact::object(
                "feed",
                Audience::node(Tlp::Clear),
                indicator("feed", "192.0.2.99", Some(NOW - 1)),
            ),
            Fact::object("partner", amber_of_a(), indicator("partner", "secret.example", None)),
            Fact::object("warninglist", Audience::node(Tlp::Clear), benign),
        ])
        .unwrap();
    (build(&store).unwrap(), dir)
}

fn hits(
    snapshot: &Snapshot,
    principal: &Principal,
    value: &str,
) -> Vec<(MatchKind, String, usize)> {
    let access = snapshot.access(Reader::Principal(principal));
    let observable = Observable::parse(value).unwrap();
    snapshot
        .lookup(&access, &observable, LookupOptions::flag_all(NOW))
        .iter()
        .map(|hit| (hit.how, hit.matched.value().to_owned(), hit.claims.len()))
        .collect()
}

#[test]
fn exact_values_match_and_decoys_do_not() {
    let (snapshot, _dir) = snapshot();
    let anyone = Principal::Anonymous;
    assert_eq!(hits(&snapshot, &anyone, "1.2.3.4"), [(MatchKind::Exact, "1.2.3.4".to_owned(), 1)]);
    assert!(hits(&snapshot, &anyone, "1.2.3.40").is_empty());
    assert_eq!(hits(&snapshot, &anyone, "D41D8CD98F00B204E9800998ECF8427E").len(), 1);
    assert_eq!(hits(&snapshot, &anyone, "phish@evil.example")[0].0, MatchKind::Exact);
    assert_eq!(hits(&snapshot, &anyone, "AS64500").len(), 1);
    assert!(hits(&snapshot, &anyone, "AS64501").is_empty());
}

#[test]
fn addresses_match_the_longest_visible_network() {
    let (snapshot, _dir) = snapshot();
    // Member of A sees the AMBER /16; member of B only the CLEAR /8.
    assert_eq!(
        hits(&snapshot, &member(1), "10.1.2.3"),
        [(MatchKind::Network, "10.1.0.0/16".to_owned(), 1)]
    );
    assert_eq!(
        hits(&snapshot, &member(2), "10.1.2.3"),
        [(MatchKind::Network, "10.0.0.0/8".to_owned(), 1)]
    );
    assert!(hits(&snapshot, &member(2), "11.1.2.3").is_empty());
    assert_eq!(hits(&snapshot, &member(2), "10.9.0.0/16")[0].1, "10.0.0.0/8");
    let v6 = hits(&snapshot, &member(2), "2001:db8::1");
    assert_eq!(v6[0], (MatchKind::Exact, "2001:db8::1".to_owned(), 1));
    assert_eq!(v6[1], (MatchKind::Network, "2001:db8::/32".to_owned(), 1));
    assert_eq!(hits(&snapshot, &member(2), "2001:db8:ffff::7")[0].0, MatchKind::Network);
}

#[test]
fn names_match_their_parent_domains_but_not_lookalikes() {
    let (snapshot, _dir) = snapshot();
    let anyone = Principal::Anonymous;
    assert_eq!(
        hits(&snapshot, &anyone, "evil.example"),
        [(MatchKind::Exact, "evil.example".to_owned(), 2)]
    );
    assert_eq!(
        hits(&snapshot, &anyone, "a.b.evil.example"),
        [(MatchKind::Subdomain, "evil.example".to_owned(), 2)]
    );
    assert!(hits(&snapshot, &anyone, "notevil.example").is_empty());
    // A listed public suffix (private section) matches itself, never the names below it.
    assert_eq!(hits(&snapshot, &anyone, "github.io")[0].0, MatchKind::Exact);
    assert!(hits(&snapshot, &anyone, "someone.github.io").is_empty());
    assert!(hits(&snapshot, &anyone, "evil.example.org").is_empty());
}

#[test]
fn urls_match_exactly_or_by_their_host() {
    let (snapshot, _dir) = snapshot();
    let anyone = Principal::Anonymous;
    assert_eq!(hits(&snapshot, &anyone, "hxxp://bad[.]example/x.exe")[0].0, MatchKind::Exact);
    assert!(hits(&snapshot, &anyone, "http://bad.example/other").is_empty());
    assert_eq!(
        hits(&snapshot, &anyone, "https://www.evil.example/login"),
        [(MatchKind::UrlHost, "evil.example".to_owned(), 2)]
    );
    assert_eq!(hits(&snapshot, &anyone, "http://1.2.3.4/a")[0].0, MatchKind::UrlHost);
}

#[test]
fn invisible_claims_are_no_hit_at_all() {
    let (snapshot, _dir) = snapshot();
    assert!(hits(&snapshot, &Principal::Anonymous, "secret.example").is_empty());
    assert!(hits(&snapshot, &member(2), "x.secret.example").is_empty());
    assert_eq!(hits(&snapshot, &member(1), "x.secret.example").len(), 1);
}

#[test]
fn expired_and_benign_hits_are_flagged_or_left_out() {
    let (snapshot, _dir) = snapshot();
    let access = snapshot.access(Reader::Principal(&Principal::Anonymous));
    let expired = Observable::parse("192.0.2.99").unwrap();
    let flagged = snapshot.lookup(&access, &expired, LookupOptions::flag_all(NOW));
    assert!(flagged[0].claims[0].expired);
    assert_eq!(flagged[0].claims[0].score, 0);
    let strict = LookupOptions { include_expired: false, ..LookupOptions::flag_all(NOW) };
    assert!(snapshot.lookup(&access, &expired, strict).is_empty());
    let resolver = Observable::parse("9.9.9.9").unwrap();
    let flagged = snapshot.lookup(&access, &resolver, LookupOptions::flag_all(NOW));
    assert!(flagged[0].benign);
    let strict = LookupOptions { include_benign: false, ..LookupOptions::flag_all(NOW) };
    assert!(snapshot.lookup(&access, &resolver, strict).is_empty());
    assert!(!snapshot.lookup(&access, &Observable::parse("1.2.3.4").unwrap(), strict)[0].benign);
}

#[test]
fn the_index_follows_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("watchfire.db")).unwrap();
    let index = watchfire_index::Index::open(&store).unwrap();
    let old = index.snapshot();
    assert_eq!(old.n_claims(), 0);
    assert!(!index.refresh(&store).unwrap(), "nothing new");
    let fact =
        Fact::object("feed", Audience::node(Tlp::Clear), indicator("feed", "203.0.113.9", None));
    store.append(&[fact]).unwrap();
    assert!(index.refresh(&store).unwrap());
    let fresh = index.snapshot();
    assert_eq!(fresh.n_claims(), 1);
    assert_eq!(old.n_claims(), 0, "a held snapshot does not change");
    let access = fresh.access(Reader::Principal(&Principal::Anonymous));
    let observable = Observable::parse("203.0.113.9").unwrap();
    assert_eq!(fresh.lookup(&access, &observable, LookupOptions::flag_all(NOW)).len(), 1);
}
