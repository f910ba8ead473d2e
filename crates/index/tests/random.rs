//! Lookups over random queries against a brute-force reference: the exact entry and the
//! longest network with a claim the caller may see, with invisible, expired and benign claims
//! mixed in; the batched IPv4 lookup and the allocation-free `find` functions give the same
//! answers as `lookup`.

mod common;

use common::{NOW, Rng, amber_of, each_caller, member, option_sets};

use std::net::{IpAddr, Ipv4Addr};

use uuid::Uuid;
use watchfire_index::{Found, IPV4_BATCH, LookupOptions, MatchKind, Snapshot, from_claims};
use watchfire_model::Observable;
use watchfire_model::policy::Audience;
use watchfire_model::stix::indicator_id;
use watchfire_model::tlp::Tlp;
use watchfire_store::{Claim, Reader};

fn claim(rng: &mut Rng, observable: Observable, n: u64) -> Claim {
    let source = format!("feed-{}", rng.below(3));
    // Most ids are derived from the source and value (as imports make them), some are not.
    let indicator = match rng.below(4) {
        0 => format!("indicator--{}", Uuid::from_u128(u128::from(n) + 1)),
        _ => indicator_id(&source, &observable).as_str().to_owned(),
    };
    let audience = match rng.below(3) {
        0 => amber_of(1 + u128::from(rng.below(2))),
        _ => Audience::node(Tlp::Clear),
    };
    let valid_until_micros = match rng.below(5) {
        0 => Some(NOW - 1),
        1 => Some(NOW + 1),
        _ => None,
    };
    Claim {
        indicator,
        observable,
        source,
        category: None,
        confidence: Some(50),
        audience,
        valid_until_micros,
        last_seen_micros: 0,
        score: 70,
        seq: n,
    }
}

/// Claims in 10.0.0.0/14 so that addresses, networks (/8 to /31) and claims collide often.
fn claims(rng: &mut Rng) -> (Vec<Claim>, Vec<String>) {
    claims_in(rng, 18, 8..=31)
}

/// Claims in the low `span` bits of 10.0.0.0/8, networks of the lengths `lengths`.
fn claims_in(
    rng: &mut Rng,
    span: u32,
    lengths: std::ops::RangeInclusive<u8>,
) -> (Vec<Claim>, Vec<String>) {
    let mut claims = Vec::new();
    let mut benign = Vec::new();
    for n in 0..6000 {
        let bits = (10 << 24) | rng.below(1 << span) as u32;
        let observable = match rng.below(3) {
            0 => {
                let len = lengths.start()
                    + rng.below(u64::from(lengths.end() - lengths.start()) + 1) as u8;
                Observable::from_network(IpAddr::V4(Ipv4Addr::from(bits)), len)
            }
            // Now and then a public suffix (private section), which matches only itself.
            1 if n % 500 == 0 => Observable::parse("github.io").unwrap(),
            1 => Observable::parse(&format!("d{}.example", rng.below(300))).unwrap(),
            _ => Observable::from_ip(IpAddr::V4(Ipv4Addr::from(bits))),
        };
        if rng.below(50) == 0 {
            benign.push(observable.value().to_owned());
        }
        claims.push(claim(rng, observable, n));
    }
    (claims, benign)
}

/// The reference: the hits of an address by a scan over every claim.
fn reference(
    claims: &[Claim],
    benign: &[String],
    reader: Reader<'_>,
    options: LookupOptions,
    address: Ipv4Addr,
) -> Vec<(MatchKind, String, Vec<String>)> {
    let shows = |claim: &Claim| {
        let expired = claim.valid_until_micros.is_some_and(|until| until <= options.now_micros);
        reader.may_see(&claim.audience)
            && (options.include_expired || !expired)
            && (options.include_benign
                || !benign.iter().any(|value| value == claim.observable.value()))
    };
    let indicators = |value: &str| -> Vec<String> {
        claims
            .iter()
            .filter(|claim| claim.observable.value() == value && shows(claim))
            .map(|claim| claim.indicator.clone())
            .collect()
    };
    let mut hits = Vec::new();
    let exact = indicators(&address.to_string());
    if !exact.is_empty() {
        hits.push((MatchKind::Exact, address.to_string(), exact));
    }
    let mut networks: Vec<(u8, String)> = claims
        .iter()
        .filter_map(|claim| {
            let (IpAddr::V4(network), len) = claim.observable.cidr()? else { return None };
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            (u32::from(address) & mask == u32::from(network))
                .then(|| (len, claim.observable.value().to_owned()))
        })
        .collect();
    networks.sort();
    networks.dedup();
    for (_, network) in networks.iter().rev() {
        let visible = indicators(network);
        if !visible.is_empty() {
            hits.push((MatchKind::Network, network.clone(), visible));
            break;
        }
    }
    hits
}

fn summary(hits: &[watchfire_index::Hit<'_>]) -> Vec<(MatchKind, String, Vec<String>)> {
    hits.iter()
        .map(|hit| {
            let indicators = hit.claims.iter().map(|claim| claim.indicator.to_string()).collect();
            (hit.how, hit.matched.value().to_owned(), indicators)
        })
        .collect()
}

fn queries(rng: &mut Rng, claims: &[Claim]) -> Vec<Ipv4Addr> {
    queries_in(rng, claims, 18)
}

/// Addresses in the claims' space (the low `span` bits of 10.0.0.0/8), anywhere, and the
/// claims' own.
fn queries_in(rng: &mut Rng, claims: &[Claim], span: u32) -> Vec<Ipv4Addr> {
    (0..2000)
        .map(|n| match n % 3 {
            0 => Ipv4Addr::from((10 << 24) | rng.below(1 << span) as u32),
            1 => Ipv4Addr::from(rng.next() as u32),
            _ => {
                let claim = &claims[rng.below(claims.len() as u64) as usize];
                match claim.observable.network() {
                    Some((IpAddr::V4(address), _)) => address,
                    _ => Ipv4Addr::new(10, 0, 0, 1),
                }
            }
        })
        .collect()
}

#[test]
fn address_lookups_agree_with_a_scan_over_every_claim() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let (claims, benign) = claims(&mut rng);
    let snapshot = from_claims(1, claims.clone(), benign.clone()).unwrap();
    let queries = queries(&mut rng, &claims);
    let mut n_hits = 0;
    each_caller(|reader| {
        let access = snapshot.access(reader);
        for options in option_sets() {
            for address in &queries {
                let hits = snapshot.lookup_address(&access, IpAddr::V4(*address), options);
                let expected = reference(&claims, &benign, reader, options, *address);
                assert_eq!(summary(&hits), expected, "{address} as {reader:?}");
                n_hits += hits.len();
            }
        }
    });
    assert!(n_hits > 2000, "the queries hit often enough: {n_hits}");
}

/// Where most /16 blocks hold no network around them and most /23 blocks no listed address,
/// the /16 record alone answers for most addresses; the answers still agree with the scan.
/// Networks of /17 to /24 in 10.0.0.0/12, then of /23 to /30 in 10.0.0.0/10 (those longer
/// than /24 are kept apart from the records, so no record may answer alone then).
#[test]
fn addresses_answered_by_their_block_record_agree_with_a_scan() {
    for (span, lengths) in [(20, 17..=24), (22, 23..=30)] {
        let mut rng = Rng(0x5eed_0f16_b10c_0001);
        let (claims, benign) = claims_in(&mut rng, span, lengths.clone());
        let snapshot = from_claims(1, claims.clone(), benign.clone()).unwrap();
        let queries = queries_in(&mut rng, &claims, span);
        let mut n_hits = 0;
        let options = option_sets()[0];
        each_caller(|reader| {
            let access = snapshot.access(reader);
            let mut found = Vec::new();
            for address in &queries {
                let hits = snapshot.lookup_address(&access, IpAddr::V4(*address), options);
                let expected = reference(&claims, &benign, reader, options, *address);
                assert_eq!(summary(&hits), expected, "{address} as {reader:?}, {lengths:?}");
                found.clear();
                snapshot.find_ipv4(&access, *address, options, &mut found);
                assert_eq!(found.len(), hits.len(), "{address} as {reader:?}, {lengths:?}");
                n_hits += hits.len();
            }
        });
        assert!(n_hits > 1000, "the queries hit often enough: {n_hits}, {lengths:?}");
        // A /16 block holding no claim at all misses for every address in it, and only a caller
        // who sees every audience is told so (a member cannot see every claim here).
        let outside = ["10.16.0.1", "10.200.5.5", "11.0.0.1", "192.168.1.1"]
            .map(|address| address.parse::<Ipv4Addr>().unwrap());
        let mut n_empty = 0;
        each_caller(|reader| {
            let access = snapshot.access(reader);
            for address in queries.iter().chain(&outside) {
                let high16 = (u32::from(*address) >> 16) as u16;
                if !snapshot.ipv4_block_misses(&access, high16) {
                    continue;
                }
                assert!(matches!(reader, Reader::Operator), "{address} as {reader:?}");
                let expected = reference(&claims, &benign, reader, options, *address);
                assert!(expected.is_empty(), "{address}: {expected:?}, {lengths:?}");
                n_empty += 1;
            }
        });
        // Networks longer than /24 sit outside the blocks' records: then no block is told empty.
        match *lengths.end() <= 24 {
            true => assert!(n_empty >= outside.len(), "{n_empty} addresses in empty blocks"),
            false => assert_eq!(n_empty, 0),
        }
    }
}

#[test]
fn batched_and_allocation_free_lookups_give_what_lookup_gives() {
    let mut rng = Rng(0x0fed_cba9_8765_4321);
    let (claims, benign) = claims(&mut rng);
    let snapshot: Snapshot = from_claims(1, claims.clone(), benign).unwrap();
    let queries = queries(&mut rng, &claims);
    let principal = member(1);
    for reader in [Reader::Principal(&principal), Reader::Operator] {
        let access = snapshot.access(reader);
        for options in option_sets() {
            let mut batched: Vec<(usize, Found)> = Vec::new();
            // An odd length, so the last block is partial.
            let addresses = &queries[..queries.len() - IPV4_BATCH / 2 - 1];
            snapshot.find_ipv4_batch(&access, addresses, options, &mut batched);
            let mut found = Vec::new();
            for (index, address) in addresses.iter().enumerate() {
                let expected = snapshot.lookup_address(&access, IpAddr::V4(*address), options);
                found.clear();
                snapshot.find_ipv4(&access, *address, options, &mut found);
                let single: Vec<_> =
                    found.iter().map(|found| snapshot.hit(&access, options, *found)).collect();
                assert_eq!(single, expected, "{address}");
                let from_batch: Vec<_> = batched
                    .iter()
                    .filter(|(at, _)| *at == index)
                    .map(|(_, found)| snapshot.hit(&access, options, *found))
                    .collect();
                assert_eq!(from_batch, expected, "{address} in a batch");
            }
            let mut names = Vec::new();
            for n in 0..400 {
                let name = match n % 5 {
                    0 => format!("d{n}.example"),
                    1 => format!("www.d{n}.example"),
                    2 => format!("unknown{n}.example"),
                    3 => format!("shop{n}.github.io"),
                    _ => format!("a.b.d{n}.example"),
                };
                let observable = Observable::parse(&name).unwrap();
                found.clear();
                snapshot.find_name(&access, observable.value(), options, &mut found);
                let hits: Vec<_> =
                    found.iter().map(|found| snapshot.hit(&access, options, *found)).collect();
                assert_eq!(hits, snapshot.lookup(&access, &observable, options), "{name}");
                names.push((observable, hits.len()));
            }
            // The same names in batches (an odd count, so the last batch is partial).
            let values: Vec<&str> = names
                .iter()
                .take(names.len() - 3)
                .map(|(observable, _)| observable.value())
                .collect();
            let mut batched: Vec<(usize, Found)> = Vec::new();
            snapshot.find_names_batch(&access, &values, options, &mut batched);
            for (index, (observable, _)) in names.iter().take(values.len()).enumerate() {
                let from_batch: Vec<_> = batched
                    .iter()
                    .filter(|(at, _)| *at == index)
                    .map(|(_, found)| snapshot.hit(&access, options, *found))
                    .collect();
                assert_eq!(
                    from_batch,
                    snapshot.lookup(&access, observable, options),
                    "{observable} in a batch"
                );
            }
            assert!(names.iter().any(|(_, hits)| *hits > 0), "some names hit");
        }
    }
}

/// Each part of a /16 block's record that files a claim (a network covering the block, one inside
/// it, a listed address) keeps the block from being told empty; a network longer than /24 is
/// filed outside the records, so then no block is.
#[test]
fn a_block_is_told_empty_only_when_nothing_is_filed_under_it() {
    let mut rng = Rng(0x0b10_c4e1_0000_0016);
    let build = |rng: &mut Rng, values: &[&str]| {
        let claims = values
            .iter()
            .zip(0..)
            .map(|(value, n)| claim(rng, Observable::parse(value).unwrap(), n));
        from_claims(1, claims.collect::<Vec<_>>(), Vec::new()).unwrap()
    };
    let filed = ["172.16.0.0/15", "172.18.5.0/24", "172.19.3.4"];
    let snapshot = build(&mut rng, &filed);
    let access = snapshot.access(Reader::Operator);
    let empty = |snapshot: &Snapshot, block: [u8; 2]| {
        snapshot.ipv4_block_misses(&access, u16::from_be_bytes(block))
    };
    for block in [[172, 16], [172, 17], [172, 18], [172, 19]] {
        assert!(!empty(&snapshot, block), "{block:?}");
    }
    assert!(empty(&snapshot, [172, 20]));
    assert!(empty(&snapshot, [10, 0]));
    let with_long = build(&mut rng, &[&filed[..], &["192.0.2.0/25"]].concat());
    assert!(!empty(&with_long, [172, 20]));
}

/// A request's host is told to miss only when no listed URL has that host (the filter has no
/// false "misses", whatever the URL's scheme, port or case), most hosts that no URL has are told
/// so, and only a caller who sees every audience is told anything.
#[test]
fn a_url_host_is_told_to_miss_only_when_no_listed_url_has_it() {
    let mut rng = Rng(0x0b10_c4e1_0000_0017);
    let urls: Vec<String> = (0..3000)
        .map(|n| match n % 3 {
            0 => format!("http://u{n}.example/p/{n}"),
            1 => format!("HTTPS://U{n}.Example/index.php?id={n}"),
            _ => format!("http://u{n}.example:8080/"),
        })
        .collect();
    let listed_domains = (0..3000).map(|n| format!("d{n}.example"));
    let claims: Vec<Claim> = urls
        .iter()
        .cloned()
        .chain(listed_domains)
        .zip(0..)
        .map(|(value, n)| claim(&mut rng, Observable::parse(&value).unwrap(), n))
        .collect();
    let snapshot = from_claims(1, claims, Vec::new()).unwrap();
    let operator = snapshot.access(Reader::Operator);
    for n in (0..3000).filter(|n| n % 3 != 2) {
        let host = format!("u{n}.example");
        assert!(!snapshot.url_host_misses(&operator, &host), "{host}");
    }
    // Hosts no URL has: listed domains (not URL hosts), other names; a false "may" is allowed.
    let others: Vec<String> = (0..3000)
        .map(|n| format!("d{n}.example"))
        .chain((0..3000).map(|n| format!("x{n}.example")))
        .collect();
    let n_missing = others.iter().filter(|host| snapshot.url_host_misses(&operator, host)).count();
    assert!(n_missing > others.len() * 9 / 10, "{n_missing} of {} told to miss", others.len());
    each_caller(|reader| {
        if !matches!(reader, Reader::Operator) {
            let access = snapshot.access(reader);
            assert!(
                others.iter().all(|host| !snapshot.url_host_misses(&access, host)),
                "{reader:?}"
            );
        }
    });
}
