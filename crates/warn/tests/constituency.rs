//! Constituencies end to end on a SQLite store: claim-and-approve, the overlap rule, bad values,
//! and the index's most-specific rule (with a property test against a brute-force scan).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use uuid::Uuid;
use watchfire_model::policy::OrgId;
use watchfire_store::{SqliteStore, Store};
use watchfire_warn::{ClaimKind, ClaimState, ConstituencyIndex, Error};

fn org(n: u128) -> OrgId {
    OrgId(Uuid::from_u128(n))
}

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("watchfire.db")).unwrap();
    (dir, store)
}

/// Claims and approves `value` for `owner`; returns the claim's id.
fn approved(store: &dyn Store, owner: OrgId, kind: ClaimKind, value: &str) -> String {
    let claim = watchfire_warn::claim(store, owner, kind, value, "tester", 1).unwrap();
    watchfire_warn::approve(store, &claim.id, "admin", 2).unwrap().id
}

fn index(store: &dyn Store) -> ConstituencyIndex {
    ConstituencyIndex::new(&watchfire_warn::claims(store).unwrap())
}

#[test]
fn claim_is_pending_until_approved() {
    let (_dir, store) = store();
    let claim =
        watchfire_warn::claim(&store, org(1), ClaimKind::Cidr, "192.0.2.77/24", "alice", 10)
            .unwrap();
    assert_eq!((claim.state, claim.value()), (ClaimState::Pending, "192.0.2.0/24".to_owned()));
    let address = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 5));
    assert!(index(&store).owners(address).is_empty());

    let approved = watchfire_warn::approve(&store, &claim.id, "admin", 20).unwrap();
    assert_eq!(approved.state, ClaimState::Approved);
    assert_eq!(
        (approved.decided_by.as_deref(), approved.decided_micros),
        (Some("admin"), Some(20))
    );
    assert_eq!(watchfire_warn::find(&store, &claim.id).unwrap(), Some(approved));
    assert_eq!(index(&store).owners(address), [org(1)]);

    assert!(matches!(
        watchfire_warn::approve(&store, &claim.id, "admin", 30),
        Err(Error::Decided { state: ClaimState::Approved, .. })
    ));
    watchfire_warn::reject(&store, &claim.id, "admin", 40).unwrap();
    assert!(index(&store).owners(address).is_empty());
    assert!(watchfire_warn::remove(&store, &claim.id).unwrap());
    assert!(watchfire_warn::claims(&store).unwrap().is_empty());
}

#[test]
fn malformed_values_name_the_value() {
    let (_dir, store) = store();
    let cases = [
        (ClaimKind::Cidr, "10.0.0.0/33"),
        (ClaimKind::Cidr, "300.1.2.3/8"),
        (ClaimKind::Cidr, "example.com"),
        (ClaimKind::Asn, "AS-1"),
        (ClaimKind::Domain, "not a domain"),
        (ClaimKind::Country, "FRA"),
        (ClaimKind::Country, "1x"),
    ];
    for (kind, value) in cases {
        let error = watchfire_warn::claim(&store, org(1), kind, value, "alice", 1).unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, Error::Invalid { .. }), "{kind} {value}: {message}");
        assert!(message.contains(&format!("{value:?}")), "{message}");
    }
    assert!(watchfire_warn::claims(&store).unwrap().is_empty());
}

#[test]
fn overlap_with_another_organisations_approved_claim_is_refused() {
    let (_dir, store) = store();
    let wide = approved(&store, org(1), ClaimKind::Cidr, "10.0.0.0/8");
    approved(&store, org(1), ClaimKind::Asn, "AS64500");
    approved(&store, org(1), ClaimKind::Domain, "example.com");
    approved(&store, org(1), ClaimKind::Country, "fr");
    // Nested claims of the same organisation are fine.
    approved(&store, org(1), ClaimKind::Cidr, "10.1.0.0/16");

    for (kind, value) in [
        (ClaimKind::Cidr, "10.2.0.0/16"),
        (ClaimKind::Cidr, "0.0.0.0/0"),
        (ClaimKind::Asn, "64500"),
        (ClaimKind::Domain, "EXAMPLE.com"),
        (ClaimKind::Country, "FR"),
    ] {
        let error = watchfire_warn::claim(&store, org(2), kind, value, "bob", 1).unwrap_err();
        assert!(matches!(error, Error::Overlap { .. }), "{kind} {value}: {error}");
    }
    let error = watchfire_warn::claim(&store, org(2), ClaimKind::Cidr, "10.9.0.0/16", "bob", 1)
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        format!(
            "cidr claim 10.9.0.0/16 overlaps claim {wide} (10.0.0.0/8) approved for another organisation"
        )
    );

    // A pending claim does not block; approving re-checks.
    let first =
        watchfire_warn::claim(&store, org(2), ClaimKind::Cidr, "2001:db8::/32", "b", 1).unwrap();
    let second =
        watchfire_warn::claim(&store, org(3), ClaimKind::Cidr, "2001:db8:1::/48", "c", 1).unwrap();
    watchfire_warn::approve(&store, &second.id, "admin", 2).unwrap();
    let error = watchfire_warn::approve(&store, &first.id, "admin", 3).unwrap_err();
    assert!(matches!(error, Error::Overlap { ref other_id, .. } if *other_id == second.id));

    // IPv4 and IPv6 never overlap; nested domain suffixes of two organisations are allowed.
    approved(&store, org(3), ClaimKind::Cidr, "::/0");
    approved(&store, org(2), ClaimKind::Domain, "cert.example.com");
}

#[test]
fn most_specific_claim_wins() {
    let (_dir, store) = store();
    // Claims that the overlap rule would refuse today may still be in the index (approved before
    // the other), so the index resolves them by specificity.
    let claims = [
        (1, ClaimKind::Cidr, "10.0.0.0/8"),
        (1, ClaimKind::Cidr, "10.1.2.0/24"),
        (2, ClaimKind::Cidr, "10.1.0.0/16"),
        (1, ClaimKind::Cidr, "2001:db8::/32"),
        (2, ClaimKind::Cidr, "2001:db8:1::/48"),
        (1, ClaimKind::Domain, "example.com"),
        (2, ClaimKind::Domain, "b.example.com"),
        (1, ClaimKind::Asn, "AS64500"),
        (2, ClaimKind::Country, "de"),
    ];
    let mut all = Vec::new();
    for (owner, kind, value) in claims {
        let mut claim = watchfire_warn::claim(&store, org(owner), kind, value, "t", 1).unwrap();
        claim.state = ClaimState::Approved;
        all.push(claim);
    }
    all.push(watchfire_warn::claim(&store, org(3), ClaimKind::Cidr, "10.1.2.3", "t", 1).unwrap());
    let index = ConstituencyIndex::new(&all);

    let v4 = |a, b, c, d| IpAddr::V4(Ipv4Addr::new(a, b, c, d));
    assert_eq!(index.owners(v4(10, 9, 9, 9)), [org(1)]);
    assert_eq!(index.owners(v4(10, 1, 9, 9)), [org(2)]);
    assert_eq!(index.owners(v4(10, 1, 2, 3)), [org(1)], "the pending /32 does not count");
    assert_eq!(index.owners(v4(11, 0, 0, 0)), [] as [OrgId; 0]);
    let mapped = IpAddr::V6(Ipv4Addr::new(10, 1, 0, 1).to_ipv6_mapped());
    assert_eq!(index.owners(mapped), [org(2)]);
    let v6 = |text: &str| IpAddr::V6(text.parse::<Ipv6Addr>().unwrap());
    assert_eq!(index.owners(v6("2001:db8:2::1")), [org(1)]);
    assert_eq!(index.owners(v6("2001:db8:1::1")), [org(2)]);
    assert_eq!(index.owners(v6("2001:db9::1")), [] as [OrgId; 0]);

    assert_eq!(index.owners_of_domain("a.b.example.com"), [org(2)]);
    assert_eq!(index.owners_of_domain("b.example.com"), [org(2)]);
    assert_eq!(index.owners_of_domain("c.example.com"), [org(1)]);
    assert_eq!(index.owners_of_domain("example.com"), [org(1)]);
    assert_eq!(index.owners_of_domain("notexample.com"), [] as [OrgId; 0]);
    assert_eq!(index.owners_of_asn(64500), [org(1)]);
    assert_eq!(index.owners_of_asn(64501), [] as [OrgId; 0]);
    assert_eq!(index.owners_of_country("DE"), [org(2)]);
    assert_eq!(index.owners_of_country("fr"), [] as [OrgId; 0]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The index agrees with a scan of every claim for the longest network holding the address.
    #[test]
    fn owners_match_a_brute_force_scan(
        networks in proptest::collection::vec((0u128..4, 10u8..12, any::<u32>(), 8u8..=32), 1..24),
        addresses in proptest::collection::vec((10u8..12, any::<u32>()), 1..32),
    ) {
        let (_dir, store) = store();
        let mut all = Vec::new();
        let mut scan = Vec::new();
        for (owner, first, rest, prefix_len) in networks {
            let address = (u32::from(first) << 24) | (rest & 0x00ff_ffff);
            let network = if prefix_len == 0 { 0 } else { address >> (32 - prefix_len) << (32 - prefix_len) };
            let text = format!("{}/{prefix_len}", Ipv4Addr::from(address));
            let mut claim = watchfire_warn::claim(&store, org(owner), ClaimKind::Cidr, &text, "t", 1).unwrap();
            claim.state = ClaimState::Approved;
            all.push(claim);
            scan.push((network, prefix_len, org(owner)));
        }
        let index = ConstituencyIndex::new(&all);
        for (first, rest) in addresses {
            let address = (u32::from(first) << 24) | (rest & 0x00ff_ffff);
            let holding = scan.iter().filter(|(network, prefix_len, _)| {
                address >> (32 - prefix_len) << (32 - prefix_len) == *network
            });
            let longest = holding.clone().map(|(_, prefix_len, _)| *prefix_len).max();
            let mut expected: Vec<OrgId> = holding
                .filter(|(_, prefix_len, _)| Some(*prefix_len) == longest)
                .map(|(_, _, owner)| *owner)
                .collect();
            expected.sort_unstable();
            expected.dedup();
            prop_assert_eq!(index.owners(IpAddr::V4(Ipv4Addr::from(address))), expected.as_slice());
        }
    }
}

#[test]
fn simultaneous_approvals_of_overlapping_claims_let_one_pass() {
    let (_dir, store) = store();
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(store);
    // Eight organisations claim networks nested in one another; all pending, none approved.
    let ids: Vec<String> = (0..8u8)
        .map(|n| {
            let value = format!("10.0.0.0/{}", 8 + n);
            watchfire_warn::claim(
                &*store,
                org(100 + u128::from(n)),
                ClaimKind::Cidr,
                &value,
                "t",
                1,
            )
            .unwrap()
            .id
        })
        .collect();
    // Eight admins approve at once.
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(ids.len()));
    let threads: Vec<_> = ids
        .into_iter()
        .map(|id| {
            let (store, barrier) = (std::sync::Arc::clone(&store), std::sync::Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                watchfire_warn::approve(&*store, &id, "admin", 2)
            })
        })
        .collect();
    let outcomes: Vec<_> = threads.into_iter().map(|thread| thread.join().unwrap()).collect();
    let passed = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    assert_eq!(passed, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .filter_map(|outcome| outcome.as_ref().err())
            .all(|error| matches!(error, Error::Overlap { .. }))
    );
    let approved = watchfire_warn::claims(&*store)
        .unwrap()
        .into_iter()
        .filter(|claim| claim.state == ClaimState::Approved)
        .count();
    assert_eq!(approved, 1);
    // The lock is gone: the next decision does not wait for it.
    let started = std::time::Instant::now();
    watchfire_warn::claim(&*store, org(1), ClaimKind::Cidr, "192.0.2.0/24", "t", 3).unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}
