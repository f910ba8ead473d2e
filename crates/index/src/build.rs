//! Building a snapshot from the store: every claim (read as the node itself; callers are
//! filtered at lookup time) and every known-benign value of the warninglists.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Deserialize;
use watchfire_model::ObservableKind;
use watchfire_model::observable::domain;
use watchfire_store::{Claim, Query, Reader, Store};

use crate::int_hash::IntBuild;
use crate::{IndexedClaim, ListRef, Snapshot, mask_v4, mask_v6};

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

/// The key a claim is indexed under.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    V4(u32),
    V6(u128),
    V4Network(u8, u32),
    V6Network(u8, u128),
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
    let mut snapshot = builder.finish(seq)?;
    read_benign(store, &mut snapshot)?;
    Ok(snapshot)
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
    let mut snapshot = builder.finish(seq)?;
    snapshot.benign.extend(benign.into_iter().map(String::into_boxed_str));
    Ok(snapshot)
}

/// Collects claims, then lays them out.
#[derive(Default)]
struct Builder {
    snapshot: Snapshot,
    audiences: HashMap<String, u32>,
    sources: HashMap<String, u32>,
    keys: HashMap<Key, Vec<u32>>,
}

impl Builder {
    fn add(&mut self, claim: Claim) -> Result<(), BuildError> {
        let snapshot = &mut self.snapshot;
        let id = u32::try_from(snapshot.claims.len())
            .map_err(|_| BuildError::TooLarge(snapshot.claims.len()))?;
        // Cannot fail: an audience is ids, enums and a TLP.
        let audience_key = serde_json::to_string(&claim.audience).expect("an audience serialises");
        let next_audience = snapshot.audiences.len() as u32;
        let audience = *self.audiences.entry(audience_key).or_insert_with(|| {
            snapshot.audiences.push(claim.audience.clone());
            next_audience
        });
        let next_source = snapshot.sources.len() as u32;
        let source = *self.sources.entry(claim.source.clone()).or_insert_with(|| {
            snapshot.sources.push(claim.source.clone().into_boxed_str());
            next_source
        });
        if claim.observable.kind() == ObservableKind::Domain
            && domain::registrable(claim.observable.value()).is_none()
        {
            snapshot.suffixes.insert(Box::from(claim.observable.value()));
        }
        if let Some(key) = key_of(&claim.observable) {
            self.keys.entry(key).or_default().push(id);
        }
        snapshot.claims.push(IndexedClaim {
            observable: claim.observable,
            indicator: claim.indicator.into_boxed_str(),
            source,
            audience,
            category: claim.category,
            confidence: claim.confidence,
            score: claim.score,
            valid_until_micros: claim.valid_until_micros,
        });
        Ok(())
    }

    fn finish(self, seq: watchfire_store::Seq) -> Result<Snapshot, BuildError> {
        let mut snapshot = self.snapshot;
        snapshot.seq = seq;
        let mut v4_exact = Vec::new();
        let mut v4_networks = Vec::new();
        let mut v6_networks: HashMap<u8, HashMap<u128, ListRef, IntBuild>> = HashMap::new();
        for (key, ids) in self.keys {
            let list = ListRef {
                start: u32::try_from(snapshot.lists.len())
                    .map_err(|_| BuildError::TooLarge(snapshot.lists.len()))?,
                len: ids.len() as u32,
            };
            snapshot.lists.extend(ids);
            match key {
                Key::V4(bits) => v4_exact.push((bits, list)),
                Key::V6(bits) => {
                    snapshot.v6.insert(bits, list);
                }
                Key::V4Network(len, bits) => v4_networks.push((bits, len, list)),
                Key::V6Network(len, bits) => {
                    v6_networks.entry(len).or_default().insert(bits, list);
                }
                Key::Asn(number) => {
                    snapshot.asns.insert(number, list);
                }
                Key::Text(text) => {
                    snapshot.texts.insert(text, list);
                }
            }
        }
        snapshot.v4 = crate::v4::V4Table::new(v4_exact, v4_networks);
        snapshot.v6_networks = v6_networks.into_iter().collect();
        snapshot.v6_networks.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
        Ok(snapshot)
    }
}

fn key_of(observable: &watchfire_model::Observable) -> Option<Key> {
    match observable.kind() {
        ObservableKind::Ipv4 | ObservableKind::Ipv6 => match observable.ip()? {
            IpAddr::V4(v4) => Some(Key::V4(u32::from(v4))),
            IpAddr::V6(v6) => Some(Key::V6(u128::from(v6))),
        },
        ObservableKind::Cidr => match observable.network()? {
            (IpAddr::V4(v4), len) => Some(Key::V4Network(len, mask_v4(u32::from(v4), len))),
            (IpAddr::V6(v6), len) => Some(Key::V6Network(len, mask_v6(u128::from(v6), len))),
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

fn read_benign(store: &dyn Store, snapshot: &mut Snapshot) -> Result<(), BuildError> {
    let mut query = Query {
        limit: PAGE,
        types: vec!["x-watchfire-benign".to_owned()],
        latest_only: true,
        ..Query::default()
    };
    loop {
        let page = store.query(Reader::Operator, &query)?;
        for entry in &page.entries {
            if let Ok(body) = serde_json::from_str::<BenignBody>(&entry.body) {
                snapshot.benign.insert(body.value.into_boxed_str());
            }
        }
        match page.next {
            Some(next) => query.after = next,
            None => return Ok(()),
        }
    }
}
