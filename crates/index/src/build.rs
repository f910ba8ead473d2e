//! Building a snapshot from the store: every claim (read as the node itself; callers are
//! filtered at lookup time) and every known-benign value of the warninglists.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use serde::Deserialize;
use watchfire_model::observable::domain;
use watchfire_model::policy::{Audience, Principal};
use watchfire_model::stix::indicator_id;
use watchfire_model::{Observable, ObservableKind};
use watchfire_store::{Claim, Query, Reader, Store};

use crate::int_hash::IntBuild;
use crate::text::{TextKey, TextTable};
use crate::{ClaimsRef, CompactClaim, Snapshot, mask_v4, mask_v6};

/// Claims or entries read from the store per call.
const PAGE: usize = 10_000;

/// Why a snapshot cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] watchfire_store::Error),
    /// More claims than a snapshot can number (2^32).
    #[error("too many claims for one snapshot: {0}")]
    TooLarge(usize),
}

/// A known-benign value, as the key it would be filed under.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    V4(u32),
    V6(u128),
    V4Network(u32, u8),
    V6Network(u128, u8),
    Asn(u32),
    Text(Box<str>),
}

/// Builds a snapshot of everything `store` holds now.
pub fn build(store: &dyn Store) -> Result<Snapshot, BuildError> {
    // Read the head first: the snapshot holds at least everything up to it.
    let seq = store.last_seq()?;
    let mut builder = Builder::default();
    let mut cursor = 0;
    loop {
        let page = store.claims_after(Reader::Operator, cursor, PAGE)?;
        for (_, claim) in page.claims {
            builder.add(claim)?;
        }
        match page.next {
            Some(next) => cursor = next,
            None => break,
        }
    }
    let benign = read_benign(store)?;
    builder.finish(seq, benign)
}

/// Builds a snapshot from claims held in memory (for benchmarks and tools that hold their own),
/// as of log position `seq`, with the known-benign values `benign`.
pub fn from_claims(
    seq: watchfire_store::Seq,
    claims: impl IntoIterator<Item = Claim>,
    benign: impl IntoIterator<Item = String>,
) -> Result<Snapshot, BuildError> {
    let mut builder = Builder::default();
    for claim in claims {
        builder.add(claim)?;
    }
    builder.finish(seq, benign)
}

/// Collects claims and their keys (as plain pairs, sorted and grouped at the end: no map of
/// lists while reading), then lays them out.
#[derive(Default)]
struct Builder {
    snapshot: Snapshot,
    audiences: HashMap<String, u32>,
    /// The audience of the claim before: consecutive claims mostly share it.
    last_audience: Option<(Audience, u32)>,
    sources: HashMap<String, u32>,
    v4: Vec<(u32, u32)>,
    v4_networks: Vec<((u32, u8), u32)>,
    v6: Vec<(u128, u32)>,
    v6_networks: Vec<((u128, u8), u32)>,
    asns: Vec<(u32, u32)>,
    texts: Vec<(Observable, u32)>,
}

impl Builder {
    fn add(&mut self, claim: Claim) -> Result<(), BuildError> {
        let snapshot = &mut self.snapshot;
        let id = u32::try_from(snapshot.claims.len())
            .ok()
            .filter(|id| *id <= ClaimsRef::MAX)
            .ok_or(BuildError::TooLarge(snapshot.claims.len()))?;
        let audience = match &self.last_audience {
            Some((last, number)) if *last == claim.audience => *number,
            _ => {
                // Cannot fail: an audience is ids, enums and a TLP.
                let key = serde_json::to_string(&claim.audience).expect("an audience serialises");
                let next = snapshot.audiences.len() as u32;
                let number = *self.audiences.entry(key).or_insert_with(|| {
                    snapshot.audiences.push(claim.audience.clone());
                    next
                });
                self.last_audience = Some((claim.audience.clone(), number));
                number
            }
        };
        let source = match self.sources.get(&claim.source) {
            Some(number) => *number,
            None => {
                let number = snapshot.sources.len() as u32;
                snapshot.sources.push(claim.source.clone().into_boxed_str());
                self.sources.insert(claim.source.clone(), number);
                number
            }
        };
        // Ids of indicators made from feeds are UUIDv5 of the source and the observable
        // (`indicator_id`): those are derived again on a hit instead of being kept. The version
        // digit rules most others out before hashing.
        let maybe_derived = claim.indicator.len() == 47 && claim.indicator.as_bytes()[25] == b'5';
        let derived_id = maybe_derived
            && indicator_id(&claim.source, &claim.observable).as_str() == claim.indicator;
        if !derived_id {
            snapshot.indicators.insert(id, claim.indicator.into_boxed_str());
        }
        snapshot.claims.push(CompactClaim {
            valid_until_micros: claim.valid_until_micros.unwrap_or(i64::MAX),
            source,
            audience,
            score: claim.score,
            confidence: claim.confidence,
            category: claim.category,
            derived_id,
        });
        let observable = claim.observable;
        match observable.kind() {
            ObservableKind::Ipv4 | ObservableKind::Ipv6 => match observable.ip() {
                Some(IpAddr::V4(v4)) => self.v4.push((u32::from(v4), id)),
                Some(IpAddr::V6(v6)) => self.v6.push((u128::from(v6), id)),
                None => {}
            },
            ObservableKind::Cidr => match observable.network() {
                Some((IpAddr::V4(v4), len)) => {
                    self.v4_networks.push(((mask_v4(u32::from(v4), len), len), id));
                }
                Some((IpAddr::V6(v6), len)) => {
                    self.v6_networks.push(((mask_v6(u128::from(v6), len), len), id));
                }
                None => {}
            },
            ObservableKind::Asn => {
                if let Some(number) = observable.asn() {
                    self.asns.push((number, id));
                }
            }
            _ => self.texts.push((observable, id)),
        }
        Ok(())
    }

    fn finish(
        self,
        seq: watchfire_store::Seq,
        benign: impl IntoIterator<Item = String>,
    ) -> Result<Snapshot, BuildError> {
        let benign: HashSet<Key> = benign
            .into_iter()
            .filter_map(|value| Observable::parse(&value).ok())
            .filter_map(|observable| key_of(&observable))
            .collect();
        let mut snapshot = self.snapshot;
        snapshot.seq = seq;
        let anonymous = Reader::Principal(&Principal::Anonymous);
        let open_audiences: Vec<bool> =
            snapshot.audiences.iter().map(|audience| anonymous.may_see(audience)).collect();
        let claims = &snapshot.claims;
        let mut lists = Lists {
            lists: std::mem::take(&mut snapshot.lists),
            is_open: &|id: u32| {
                let claim = &claims[id as usize];
                open_audiences[claim.audience as usize] && claim.valid_until_micros == i64::MAX
            },
            is_lasting: &|id: u32| claims[id as usize].valid_until_micros == i64::MAX,
        };
        let v4 = group(self.v4, &mut lists, |bits| benign.contains(&Key::V4(*bits)))?;
        let v4_networks = group(self.v4_networks, &mut lists, |(bits, len)| {
            benign.contains(&Key::V4Network(*bits, *len))
        })?;
        let v6 = group(self.v6, &mut lists, |bits| benign.contains(&Key::V6(*bits)))?;
        let v6_networks = group(self.v6_networks, &mut lists, |(bits, len)| {
            benign.contains(&Key::V6Network(*bits, *len))
        })?;
        let asns = group(self.asns, &mut lists, |number| benign.contains(&Key::Asn(*number)))?;
        let texts = group_texts(self.texts, &mut lists, &benign)?;
        snapshot.lists = lists.lists;
        snapshot.v4 = crate::v4::V4Table::new(
            v4,
            v4_networks.into_iter().map(|((bits, len), claims)| (bits, len, claims)).collect(),
        );
        snapshot.v6 = v6.into_iter().collect();
        let mut by_len: HashMap<u8, HashMap<u128, ClaimsRef, IntBuild>> = HashMap::new();
        for ((bits, len), claims) in v6_networks {
            by_len.entry(len).or_default().insert(bits, claims);
        }
        snapshot.v6_networks = by_len.into_iter().collect();
        snapshot.v6_networks.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
        snapshot.asns = asns.into_iter().collect();
        snapshot.texts = TextTable::new(texts);
        snapshot.claims.shrink_to_fit();
        snapshot.lists.shrink_to_fit();
        Ok(snapshot)
    }
}

// Sorts (key, claim id) pairs and gives each key its claims: the one id, or a list.
fn group<K: Ord + Copy>(
    mut pairs: Vec<(K, u32)>,
    lists: &mut Lists<'_>,
    mut is_benign: impl FnMut(&K) -> bool,
) -> Result<Vec<(K, ClaimsRef)>, BuildError> {
    // Ids are unique, so the unstable sort keeps each key's claims in the order they came.
    pairs.sort_unstable();
    let mut grouped = Vec::with_capacity(pairs.len());
    for run in pairs.chunk_by(|left, right| left.0 == right.0) {
        let key = run[0].0;
        let claims = lists.claims_ref(run.iter().map(|(_, id)| *id), run.len())?;
        grouped.push((key, if is_benign(&key) { claims.benign() } else { claims }));
    }
    Ok(grouped)
}

fn group_texts(
    mut pairs: Vec<(Observable, u32)>,
    lists: &mut Lists<'_>,
    benign: &HashSet<Key>,
) -> Result<Vec<TextKey>, BuildError> {
    pairs.sort_unstable_by(|left, right| (left.0.value(), left.1).cmp(&(right.0.value(), right.1)));
    let mut keys = Vec::new();
    for run in pairs.chunk_by(|left, right| left.0.value() == right.0.value()) {
        let observable = run[0].0.clone();
        let claims = lists.claims_ref(run.iter().map(|(_, id)| *id), run.len())?;
        let is_benign =
            !benign.is_empty() && benign.contains(&Key::Text(Box::from(observable.value())));
        let is_suffix = observable.kind() == ObservableKind::Domain
            && domain::registrable(observable.value()).is_none();
        let claims = if is_benign { claims.benign() } else { claims };
        keys.push(TextKey { observable, claims, is_suffix });
    }
    Ok(keys)
}

/// The shared list of claim ids, and which claims are open (see [`ClaimsRef`]).
struct Lists<'a> {
    lists: Vec<u32>,
    is_open: &'a dyn Fn(u32) -> bool,
    is_lasting: &'a dyn Fn(u32) -> bool,
}

impl Lists<'_> {
    // The claims of one key: its one id, or a new list.
    fn claims_ref(
        &mut self,
        ids: impl Iterator<Item = u32> + Clone,
        len: usize,
    ) -> Result<ClaimsRef, BuildError> {
        let is_open = ids.clone().any(self.is_open);
        let is_lasting = ids.clone().any(self.is_lasting);
        let claims = match len {
            // Cannot fail: the run has one id.
            1 => ClaimsRef::single(ids.clone().next().expect("one id")),
            _ => {
                let offset = u32::try_from(self.lists.len())
                    .ok()
                    .filter(|offset| *offset <= ClaimsRef::MAX)
                    .ok_or(BuildError::TooLarge(self.lists.len()))?;
                self.lists.push(len as u32);
                self.lists.extend(ids);
                ClaimsRef::list(offset)
            }
        };
        let claims = if is_open { claims.open() } else { claims };
        Ok(if is_lasting { claims.lasting() } else { claims })
    }
}

fn key_of(observable: &Observable) -> Option<Key> {
    match observable.kind() {
        ObservableKind::Ipv4 | ObservableKind::Ipv6 => match observable.ip()? {
            IpAddr::V4(v4) => Some(Key::V4(u32::from(v4))),
            IpAddr::V6(v6) => Some(Key::V6(u128::from(v6))),
        },
        ObservableKind::Cidr => match observable.network()? {
            (IpAddr::V4(v4), len) => Some(Key::V4Network(mask_v4(u32::from(v4), len), len)),
            (IpAddr::V6(v6), len) => Some(Key::V6Network(mask_v6(u128::from(v6), len), len)),
        },
        ObservableKind::Asn => observable.asn().map(Key::Asn),
        _ => Some(Key::Text(Box::from(observable.value()))),
    }
}

/// The part of an `x-watchfire-benign` object the index reads.
#[derive(Deserialize)]
struct BenignBody {
    value: String,
}

fn read_benign(store: &dyn Store) -> Result<Vec<String>, BuildError> {
    let mut query = Query {
        limit: PAGE,
        types: vec!["x-watchfire-benign".to_owned()],
        latest_only: true,
        ..Query::default()
    };
    let mut values = Vec::new();
    loop {
        let page = store.query(Reader::Operator, &query)?;
        for entry in &page.entries {
            if let Ok(body) = serde_json::from_str::<BenignBody>(&entry.body) {
                values.push(body.value);
            }
        }
        match page.next {
            Some(next) => query.after = next,
            None => return Ok(values),
        }
    }
}
