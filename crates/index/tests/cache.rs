//! The snapshot's cache file: a loaded snapshot answers every lookup as the one saved (claims of
//! every kind, invisible, expired and benign ones, several callers); a truncated, damaged or
//! foreign file is refused with an error, and a body changed behind a valid checksum either is
//! refused or loads into a snapshot whose lookups do not panic. `open_cached` writes, loads and
//! rebuilds the file as the store moves.

mod common;

use common::{NOW, Rng, amber_of, each_caller, option_sets};

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use uuid::Uuid;
use watchfire_index::{
    CacheErrorKind, CacheKey, Found, LookupOptions, Snapshot, from_claims, open_cached,
};
use watchfire_model::Observable;
use watchfire_model::policy::Audience;
use watchfire_model::record::Category;
use watchfire_model::stix::{Indicator, Precision, StixObject, Timestamp, indicator_id};
use watchfire_model::tlp::Tlp;
use watchfire_store::{Claim, Fact, Reader, SqliteStore, Store};

const KEY: CacheKey = CacheKey { seq: 7, head_added_micros: 42, scores_version: 3, build: 9 };

/// Where the header keeps the body's checksum, and where the body starts.
const CHECKSUM_AT: usize = 56;
const BODY_AT: usize = 64;

fn audience(rng: &mut Rng) -> Audience {
    match rng.below(4) {
        0 | 1 => Audience::node(Tlp::Clear),
        2 => Audience::node(Tlp::Green),
        _ => amber_of(1 + u128::from(rng.below(2))),
    }
}

/// An observable of any kind, from small ranges so that values, networks and claims collide.
fn observable(rng: &mut Rng) -> Observable {
    let v4 = |rng: &mut Rng| IpAddr::V4(Ipv4Addr::from((10 << 24) | rng.below(1 << 14) as u32));
    let v6 = |rng: &mut Rng| {
        IpAddr::V6(Ipv6Addr::from((0x2001_0db8_u128 << 96) | u128::from(rng.below(1 << 12))))
    };
    let hex = |rng: &mut Rng, len: usize| -> String {
        (0..len).map(|_| char::from(b"0123456789abcdef"[rng.below(16) as usize])).collect()
    };
    let text = match rng.below(16) {
        0..=3 => return Observable::from_ip(v4(rng)),
        4 | 5 => return Observable::from_network(v4(rng), 8 + rng.below(24) as u8),
        6 => return Observable::from_ip(v6(rng)),
        7 => return Observable::from_network(v6(rng), 100 + rng.below(28) as u8),
        8 => return Observable::from_asn(64_500 + rng.below(20) as u32),
        9 if rng.below(10) == 0 => "github.io".to_owned(),
        9 | 10 => format!("d{}.example", rng.below(60)),
        11 => format!("http://d{}.example/p{}", rng.below(60), rng.below(4)),
        12 => format!("user{}@d{}.example", rng.below(3), rng.below(60)),
        13 => hex(rng, 32),
        14 => hex(rng, 40),
        _ => hex(rng, 64),
    };
    Observable::parse(&text).unwrap()
}

fn claims(rng: &mut Rng, n: u64) -> (Vec<Claim>, Vec<String>) {
    let mut claims = Vec::new();
    let mut benign = Vec::new();
    for seq in 0..n {
        let observable = observable(rng);
        if rng.below(40) == 0 {
            benign.push(observable.value().to_owned());
        }
        let source = format!("feed-{}", rng.below(3));
        let indicator = match rng.below(4) {
            0 => format!("indicator--{}", Uuid::from_u128(u128::from(seq) + 1)),
            _ => indicator_id(&source, &observable).as_str().to_owned(),
        };
        let valid_until_micros = match rng.below(4) {
            0 => Some(NOW - 1),
            1 => Some(NOW + 1),
            _ => None,
        };
        claims.push(Claim {
            indicator,
            observable,
            source,
            category: [None, Some(Category::BotnetC2), Some(Category::Phishing)]
                [rng.below(3) as usize],
            confidence: [None, Some(0), Some(85)][rng.below(3) as usize],
            audience: audience(rng),
            valid_until_micros,
            last_seen_micros: 0,
            score: rng.below(101) as u8,
            seq,
        });
    }
    (claims, benign)
}

/// A snapshot of `n` random claims, and the observables they name.
fn snapshot(seed: u64, n: u64) -> (Snapshot, Vec<Observable>) {
    let mut rng = Rng(seed);
    let (claims, benign) = claims(&mut rng, n);
    let keys = claims.iter().map(|claim| claim.observable.clone()).collect();
    (from_claims(KEY.seq, claims, benign).unwrap(), keys)
}

fn saved(snapshot: &Snapshot) -> Vec<u8> {
    let mut bytes = Vec::new();
    snapshot.save(&KEY, &mut bytes).unwrap();
    bytes
}

fn load(bytes: &[u8]) -> Result<Snapshot, CacheErrorKind> {
    Snapshot::load(&mut &bytes[..], &KEY)
}

/// Every lookup path on `snapshot` for every key, `n_values` random values and subdomains and
/// URLs of the names, for several readers and options, as comparable text (a loaded snapshot
/// keeps the numbering of its tables, so `Found` handles compare too).
fn answers(snapshot: &Snapshot, keys: &[Observable], n_values: usize) -> Vec<String> {
    let mut rng = Rng(n_values as u64);
    let mut values: Vec<Observable> = keys.to_vec();
    values.extend((0..n_values).map(|_| observable(&mut rng)));
    for n in 0..60 {
        values.push(Observable::parse(&format!("www.d{n}.example")).unwrap());
        values.push(Observable::parse(&format!("http://a.d{n}.example/x")).unwrap());
        values.push(Observable::parse(&format!("shop{n}.github.io")).unwrap());
    }
    let addresses: Vec<Ipv4Addr> = values
        .iter()
        .filter_map(|value| match value.ip() {
            Some(IpAddr::V4(v4)) => Some(v4),
            _ => None,
        })
        .collect();
    let names: Vec<&str> = values
        .iter()
        .filter(|value| value.kind() == watchfire_model::ObservableKind::Domain)
        .map(Observable::value)
        .collect();
    let mut answers = Vec::new();
    each_caller(|reader| {
        let access = snapshot.access(reader);
        for options in option_sets() {
            for value in &values {
                answers.push(format!("{value} {:?}", snapshot.lookup(&access, value, options)));
            }
            let mut found: Vec<(usize, Found)> = Vec::new();
            snapshot.find_ipv4_batch(&access, &addresses, options, &mut found);
            snapshot.find_names_batch(&access, &names, options, &mut found);
            answers.push(format!("{found:?}"));
        }
        // Which /16 blocks the scan is told are empty (kept apart from the blocks' records).
        let empty: Vec<u16> =
            (0..=u16::MAX).filter(|high16| snapshot.ipv4_block_misses(&access, *high16)).collect();
        answers.push(format!("{reader:?} empty blocks {empty:?}"));
        // Which URL hosts the scan is told no listed URL has (a filter rebuilt on load).
        let url_hosts: Vec<bool> = values
            .iter()
            .filter_map(|value| value.value().strip_prefix("http://"))
            .map(|rest| rest.split(['/', '?', ':']).next().unwrap_or_default())
            .map(|host| snapshot.url_host_misses(&access, host))
            .collect();
        answers.push(format!("{reader:?} URL hosts missing {url_hosts:?}"));
    });
    answers
}

#[test]
fn a_loaded_snapshot_answers_every_lookup_as_the_original() {
    for seed in [0x5eed_0001, 0x5eed_0002] {
        let (original, keys) = snapshot(seed, 3000);
        let loaded = load(&saved(&original)).unwrap();
        assert_eq!(loaded.seq(), KEY.seq);
        assert_eq!(loaded.n_claims(), original.n_claims());
        let expected = answers(&original, &keys, 1500);
        assert!(
            expected.iter().filter(|answer| answer.contains("claims: [ClaimView")).count() > 1000
        );
        assert!(expected.iter().any(|answer| answer.contains("benign: true")));
        assert!(expected.iter().any(|answer| answer.contains("expired: true")));
        assert_eq!(answers(&loaded, &keys, 1500), expected);
        // Saved again, the same bytes: nothing is lost or reordered.
        assert_eq!(saved(&loaded), saved(&original));
    }
    let empty = Snapshot::default();
    assert_eq!(load(&saved(&empty)).unwrap().n_claims(), 0);
}

#[test]
fn a_file_for_another_key_or_format_is_refused_before_its_body() {
    let bytes = saved(&snapshot(3, 100).0);
    let other = CacheKey { scores_version: KEY.scores_version + 1, ..KEY };
    assert!(matches!(Snapshot::load(&mut &bytes[..], &other), Err(CacheErrorKind::Stale)));
    let mut newer = bytes.clone();
    newer[8] += 1;
    assert!(matches!(load(&newer), Err(CacheErrorKind::Version { .. })));
    assert!(matches!(load(b"SQLite format 3\0 and more"), Err(CacheErrorKind::Foreign)));
    assert!(matches!(load(b""), Err(CacheErrorKind::Truncated { .. })));
}

#[test]
fn a_truncated_file_is_refused_at_every_cut() {
    let bytes = saved(&snapshot(4, 400).0);
    let cuts = (0..BODY_AT + 200)
        .chain((BODY_AT + 200..bytes.len()).step_by(997))
        .chain([bytes.len() - 1]);
    for cut in cuts {
        let error = load(&bytes[..cut]).err();
        assert!(
            matches!(error, Some(CacheErrorKind::Truncated { .. })),
            "cut at {cut} of {}: {error:?}",
            bytes.len()
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(load(&longer), Err(CacheErrorKind::Invalid(_))));
}

#[test]
fn a_flipped_byte_is_refused() {
    let bytes = saved(&snapshot(5, 400).0);
    let mut rng = Rng(5);
    let positions = (0..BODY_AT)
        .chain((0..3000).map(|_| BODY_AT + rng.below((bytes.len() - BODY_AT) as u64) as usize));
    for at in positions {
        for flip in [0x01, 0x80, 0xff] {
            let mut damaged = bytes.clone();
            damaged[at] ^= flip;
            assert!(load(&damaged).is_err(), "byte {at} ^ {flip:#x}");
        }
    }
}

#[test]
fn a_changed_body_behind_a_valid_checksum_is_refused_or_harmless() {
    let (original, keys) = snapshot(6, 300);
    let bytes = saved(&original);
    let body_len = bytes.len() - BODY_AT;
    let mut rng = Rng(6);
    let (mut n_refused, mut n_loaded) = (0, 0);
    for _ in 0..1000 {
        let mut changed = bytes.clone();
        for _ in 0..1 + rng.below(3) {
            // Most changes near the ends, where the strings, claims, lists and the small tables
            // sit (the middle is the IPv4 table's fixed arrays); a bit, or a whole word.
            let offset = match rng.below(3) {
                0 => rng.below(body_len as u64) as usize,
                1 => rng.below(8192) as usize,
                _ => body_len - 1 - rng.below(8192) as usize,
            };
            match rng.below(2) {
                0 => changed[BODY_AT + offset] ^= 1 << rng.below(8),
                _ => {
                    let at = BODY_AT + offset / 4 * 4;
                    let word = [0, 1, u32::MAX, rng.next() as u32, 1 << 31][rng.below(5) as usize];
                    changed[at..at + 4].copy_from_slice(&word.to_le_bytes());
                }
            }
        }
        let checksum = xxhash_rust::xxh3::xxh3_64(&changed[BODY_AT..]);
        changed[CHECKSUM_AT..BODY_AT].copy_from_slice(&checksum.to_le_bytes());
        match load(&changed) {
            Ok(snapshot) => {
                // Whatever it answers, it must answer without a panic.
                answers(&snapshot, &keys, 50);
                n_loaded += 1;
            }
            Err(CacheErrorKind::Invalid(_)) => n_refused += 1,
            Err(other) => panic!("a body change is no {other:?}"),
        }
    }
    assert!(n_refused > 100 && n_loaded > 100, "refused {n_refused}, loaded {n_loaded}");
}

/// When the indicators of the store tests were made: 2026-01-01.
const CREATED_MICROS: i64 = 1_767_225_600_000_000;

fn append(store: &dyn Store, value: &str) {
    let observable = Observable::parse(value).unwrap();
    let created = Timestamp::from_unix_nanos(CREATED_MICROS * 1000, Precision::Millis);
    let mut indicator = Indicator::for_observable("feed", &observable, created);
    indicator.confidence = Some(90);
    let fact = Fact::object("feed", Audience::node(Tlp::Clear), StixObject::Indicator(indicator));
    store.append(&[fact]).unwrap();
}

fn score_of(snapshot: &Snapshot, value: &str) -> Option<u8> {
    let access = snapshot.access(Reader::Operator);
    let hits =
        snapshot.lookup(&access, &Observable::parse(value).unwrap(), LookupOptions::flag_all(NOW));
    hits.first().map(|hit| hit.claims[0].score)
}

#[test]
fn open_cached_writes_loads_and_rebuilds_as_the_store_moves() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("watchfire.db")).unwrap();
    let path = dir.path().join("index.snapshot");
    append(&store, "192.0.2.1");

    let (first, report) = open_cached(&store, &path).unwrap();
    assert!(!report.loaded && report.load_error.is_none() && report.save_error.is_none());
    assert!(path.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let (second, report) = open_cached(&store, &path).unwrap();
    assert!(report.loaded, "{report:?}");
    assert_eq!(second.n_claims(), first.n_claims());

    // A new log entry: rebuilt, and the new value is known.
    append(&store, "192.0.2.2");
    let (third, report) = open_cached(&store, &path).unwrap();
    assert!(!report.loaded && report.load_error.is_none(), "{report:?}");
    assert!(score_of(&third, "192.0.2.2").is_some());
    assert!(open_cached(&store, &path).unwrap().1.loaded);

    // Scores refreshed in place (as of the day the indicators were made, so they differ from
    // the scores of the import, decayed to today): rebuilt with the new scores.
    let before = score_of(&third, "192.0.2.1").unwrap();
    assert!(store.refresh_scores(CREATED_MICROS).unwrap() > 0);
    let (fourth, report) = open_cached(&store, &path).unwrap();
    assert!(!report.loaded, "{report:?}");
    assert_ne!(score_of(&fourth, "192.0.2.1").unwrap(), before);

    // A damaged file: reported, rebuilt and written again.
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let (fifth, report) = open_cached(&store, &path).unwrap();
    let error = report.load_error.expect("the damage is reported");
    assert!(error.to_string().contains("index.snapshot") && error.to_string().contains("checksum"));
    assert_eq!(fifth.n_claims(), 2);
    assert!(open_cached(&store, &path).unwrap().1.loaded);

    // A file that cannot be written: the snapshot still comes, and the reason.
    let unwritable = dir.path().join("missing").join("index.snapshot");
    let (sixth, report) = open_cached(&store, &unwritable).unwrap();
    assert_eq!(sixth.n_claims(), 2);
    assert!(report.save_error.is_some());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A loaded snapshot tells the scan the same /16 blocks empty as the one saved (with no network
/// longer than /24: one of those leaves no block empty).
#[test]
fn a_loaded_snapshot_tells_the_same_blocks_empty() {
    let mut rng = Rng(0x5eed_0003);
    let (claims, benign) = claims(&mut rng, 3000);
    let at_most_24 = |claim: &Claim| {
        let value = claim.observable.value();
        value.rsplit_once('/').is_none_or(|(_, len)| len.parse::<u8>().is_ok_and(|len| len <= 24))
    };
    let claims: Vec<Claim> = claims.into_iter().filter(at_most_24).collect();
    let original = from_claims(KEY.seq, claims, benign).unwrap();
    let loaded = load(&saved(&original)).unwrap();
    let access = original.access(Reader::Operator);
    let empty = |snapshot: &Snapshot| -> Vec<u16> {
        (0..=u16::MAX).filter(|high16| snapshot.ipv4_block_misses(&access, *high16)).collect()
    };
    let expected = empty(&original);
    assert!(expected.len() > 60_000 && expected.len() < 65_536, "{} empty", expected.len());
    assert_eq!(empty(&loaded), expected);
}
