//! The match index: an immutable in-memory snapshot of every claim in the store, answering "is
//! this IP, name, URL, hash or e-mail known, and who says so?" without a database round trip,
//! with the access policy applied to every claim.
//!
//! Layout: the claims sit once in a table ([`Snapshot::claims`]); each key (an address, a
//! network, a name, a URL, a hash) maps to a range of claim ids in one shared list. No key holds
//! metadata, so the maps stay small and cache-friendly. Audiences and source names are
//! deduplicated: a claim names them by number.
//!
//! Matching:
//! - an IPv4 or IPv6 address matches its exact entry and the longest network holding it that has
//!   a visible claim (a `cidr` indicator is stored as ISSUBSET of its network);
//! - a domain matches itself and each parent domain up to its registrable domain (an indicator
//!   `evil.example` matches `a.b.evil.example`; matching never walks past the public suffix, so
//!   an indicator on `co.uk` could never match every British name);
//! - a URL matches its canonical form exactly; failing that, its host (a domain or an address)
//!   matches as a weaker [`MatchKind::UrlHost`];
//! - hashes, e-mails and ASNs match exactly.
//!
//! Access: [`Snapshot::access`] turns a reader into one bit per audience; a claim the caller may
//! not see is never returned, and a key whose claims are all invisible is no hit at all, so
//! neither a hit nor a count reveals it. Expired claims (past `valid_until`) and known-benign
//! values (warninglists) are flagged, or left out, as [`LookupOptions`] asks.

#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod build;
mod int_hash;
mod v4;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use serde::Serialize;
use watchfire_model::policy::Audience;
use watchfire_model::record::Category;
use watchfire_model::{Observable, ObservableKind};
use watchfire_store::{Reader, Seq};

pub use crate::build::{BuildError, build, from_claims};
use crate::int_hash::{IntBuild, TextBuild};

/// A range of claim ids in [`Snapshot`]'s shared list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ListRef {
    start: u32,
    len: u32,
}

/// One claim, compact: numbers into the snapshot's tables.
#[derive(Clone, Debug)]
pub struct IndexedClaim {
    /// The observable the indicator names (the network, the parent domain, ...).
    pub observable: Observable,
    /// The indicator's STIX id.
    pub indicator: Box<str>,
    source: u32,
    audience: u32,
    /// The category.
    pub category: Option<Category>,
    /// The source's confidence.
    pub confidence: Option<u8>,
    /// The decayed score as of the store's last refresh.
    pub score: u8,
    /// The end of validity, microseconds since the epoch.
    pub valid_until_micros: Option<i64>,
}

/// An immutable snapshot of the claims of the store up to one log entry.
#[derive(Debug, Default)]
pub struct Snapshot {
    seq: Seq,
    claims: Vec<IndexedClaim>,
    audiences: Vec<Audience>,
    sources: Vec<Box<str>>,
    lists: Vec<u32>,
    v4: v4::V4Table,
    v6: HashMap<u128, ListRef, IntBuild>,
    /// IPv6 networks by prefix length, longest first, masked addresses as keys.
    v6_networks: Vec<(u8, HashMap<u128, ListRef, IntBuild>)>,
    asns: HashMap<u32, ListRef, IntBuild>,
    /// Domains, URLs, hashes and e-mails by canonical value (their kinds cannot collide).
    texts: HashMap<Box<str>, ListRef, TextBuild>,
    /// Listed domains that are themselves public suffixes: they match only themselves, never
    /// their subdomains (an indicator on `co.uk` must not match every British name).
    suffixes: HashSet<Box<str>, TextBuild>,
    /// Known-benign values (warninglists) by canonical value (the canonical values of different
    /// kinds never coincide: a domain has a dot, an e-mail an `@`, a URL a scheme, a hash none).
    benign: HashSet<Box<str>, TextBuild>,
}

/// How a hit matched the value looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The same canonical value.
    Exact,
    /// A network holding the address (or the network looked up).
    Network,
    /// A parent domain of the name.
    Subdomain,
    /// The host of a URL, when the URL itself is not known: a weaker match.
    UrlHost,
}

/// What a lookup shows of a claim.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClaimView<'a> {
    /// The source.
    pub source: &'a str,
    /// The indicator's STIX id.
    pub indicator: &'a str,
    /// The category.
    pub category: Option<Category>,
    /// The source's confidence.
    pub confidence: Option<u8>,
    /// The decayed score.
    pub score: u8,
    /// The claim's TLP.
    pub tlp: watchfire_model::tlp::Tlp,
    /// The end of validity, microseconds since the epoch.
    pub valid_until_micros: Option<i64>,
    /// Whether the claim is past its validity.
    pub expired: bool,
}

/// One hit of a lookup: a known observable that matches, and its visible claims.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Hit<'a> {
    /// The observable the claims name.
    pub matched: &'a Observable,
    /// How it matched.
    pub how: MatchKind,
    /// Whether a warninglist calls the matched value known-benign (a likely false positive).
    pub benign: bool,
    /// The claims the caller may see (never empty).
    pub claims: Vec<ClaimView<'a>>,
}

/// What a lookup leaves out.
#[derive(Clone, Copy, Debug)]
pub struct LookupOptions {
    /// The time that decides expiry, microseconds since the epoch.
    pub now_micros: i64,
    /// Keep claims past their validity (flagged `expired`).
    pub include_expired: bool,
    /// Keep hits on known-benign values (flagged `benign`).
    pub include_benign: bool,
}

impl LookupOptions {
    /// Returns options at `now_micros` that flag expired claims and benign values, keeping both.
    pub fn flag_all(now_micros: i64) -> LookupOptions {
        LookupOptions { now_micros, include_expired: true, include_benign: true }
    }
}

/// Which audiences of one snapshot a caller may see: one bit per audience, computed once per
/// caller with the one access policy.
#[derive(Clone, Debug)]
pub struct Access {
    visible: Vec<bool>,
}

impl Snapshot {
    /// Returns the log position the snapshot holds the claims up to.
    pub fn seq(&self) -> Seq {
        self.seq
    }

    /// Returns the number of claims.
    pub fn n_claims(&self) -> usize {
        self.claims.len()
    }

    /// Returns the access of `reader` to this snapshot's audiences.
    pub fn access(&self, reader: Reader<'_>) -> Access {
        Access { visible: self.audiences.iter().map(|audience| reader.may_see(audience)).collect() }
    }

    /// Returns the hits of `observable` that the caller with `access` may see, most specific
    /// first: the exact entry, then networks or parent domains, or a URL's host.
    pub fn lookup<'a>(
        &'a self,
        access: &Access,
        observable: &Observable,
        options: LookupOptions,
    ) -> Vec<Hit<'a>> {
        let mut hits = Vec::new();
        match observable.kind() {
            ObservableKind::Ipv4 | ObservableKind::Ipv6 => {
                if let Some(address) = observable.ip() {
                    self.match_address(access, address, MatchKind::Exact, options, &mut hits);
                }
            }
            ObservableKind::Cidr => {
                if let Some((address, prefix_len)) = observable.network() {
                    self.match_network(
                        access,
                        address,
                        prefix_len,
                        MatchKind::Network,
                        options,
                        &mut hits,
                    );
                }
            }
            ObservableKind::Domain => {
                self.match_domain(access, observable.value(), MatchKind::Exact, options, &mut hits);
            }
            ObservableKind::Url => {
                self.push_text(access, observable.value(), MatchKind::Exact, options, &mut hits);
                if hits.is_empty()
                    && let Some(host) = observable.host()
                {
                    match host.parse::<IpAddr>() {
                        Ok(address) => {
                            self.match_address(
                                access,
                                address,
                                MatchKind::UrlHost,
                                options,
                                &mut hits,
                            );
                        }
                        Err(_) => {
                            self.match_domain(access, host, MatchKind::UrlHost, options, &mut hits);
                        }
                    }
                }
            }
            ObservableKind::Asn => {
                if let Some(list) = observable.asn().and_then(|asn| self.asns.get(&asn)) {
                    self.push_hit(access, *list, MatchKind::Exact, options, &mut hits);
                }
            }
            _ => self.push_text(access, observable.value(), MatchKind::Exact, options, &mut hits),
        }
        hits
    }

    /// Returns the hits of one address, as [`Snapshot::lookup`] does for an `ipv4` or `ipv6`
    /// observable, without building one (the hot path of log scanning).
    pub fn lookup_address<'a>(
        &'a self,
        access: &Access,
        address: IpAddr,
        options: LookupOptions,
    ) -> Vec<Hit<'a>> {
        let mut hits = Vec::new();
        self.match_address(access, address, MatchKind::Exact, options, &mut hits);
        hits
    }

    fn match_address<'a>(
        &'a self,
        access: &Access,
        address: IpAddr,
        how: MatchKind,
        options: LookupOptions,
        hits: &mut Vec<Hit<'a>>,
    ) {
        let exact = match address {
            IpAddr::V4(v4) => self.v4.exact(u32::from(v4)),
            IpAddr::V6(v6) => self.v6.get(&u128::from(v6)).copied(),
        };
        if let Some(list) = exact {
            self.push_hit(access, list, how, options, hits);
        }
        let network_how = if how == MatchKind::Exact { MatchKind::Network } else { how };
        let full = if address.is_ipv4() { 32 } else { 128 };
        self.match_network(access, address, full, network_how, options, hits);
    }

    // The longest network holding `address`/`prefix_len` (itself included) with a visible claim.
    fn match_network<'a>(
        &'a self,
        access: &Access,
        address: IpAddr,
        prefix_len: u8,
        how: MatchKind,
        options: LookupOptions,
        hits: &mut Vec<Hit<'a>>,
    ) {
        let before = hits.len();
        match address {
            IpAddr::V4(v4) => {
                let mut network = self.v4.longest(u32::from(v4), prefix_len);
                while let Some(id) = network {
                    let (list, parent) = self.v4.network(id);
                    self.push_hit(access, list, how, options, hits);
                    if hits.len() > before {
                        return;
                    }
                    network = parent;
                }
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                for (len, networks) in self.v6_networks.iter().filter(|(len, _)| *len <= prefix_len)
                {
                    if let Some(list) = networks.get(&mask_v6(bits, *len)) {
                        self.push_hit(access, *list, how, options, hits);
                        if hits.len() > before {
                            return;
                        }
                    }
                }
            }
        }
    }

    // The name itself, then each parent up to the registrable domain.
    fn match_domain<'a>(
        &'a self,
        access: &Access,
        name: &str,
        how: MatchKind,
        options: LookupOptions,
        hits: &mut Vec<Hit<'a>>,
    ) {
        self.push_text(access, name, how, options, hits);
        // Every parent name is probed; a listed name that is itself a public suffix was marked
        // at build time and matches only itself, so no lookup needs the public suffix list.
        let parent_how = if how == MatchKind::Exact { MatchKind::Subdomain } else { how };
        let mut rest = name;
        while let Some(dot) = rest.find('.') {
            rest = &rest[dot + 1..];
            if let Some(list) = self.texts.get(rest)
                && !self.suffixes.contains(rest)
            {
                self.push_hit(access, *list, parent_how, options, hits);
            }
        }
    }

    fn push_text<'a>(
        &'a self,
        access: &Access,
        value: &str,
        how: MatchKind,
        options: LookupOptions,
        hits: &mut Vec<Hit<'a>>,
    ) {
        if let Some(list) = self.texts.get(value) {
            self.push_hit(access, *list, how, options, hits);
        }
    }

    // Adds a hit with the visible claims of `list`, unless none is left.
    fn push_hit<'a>(
        &'a self,
        access: &Access,
        list: ListRef,
        how: MatchKind,
        options: LookupOptions,
        hits: &mut Vec<Hit<'a>>,
    ) {
        let ids = &self.lists[list.start as usize..(list.start + list.len) as usize];
        let mut matched = None;
        let mut claims = Vec::new();
        for &id in ids {
            let claim = &self.claims[id as usize];
            if !access.visible.get(claim.audience as usize).copied().unwrap_or(false) {
                continue;
            }
            let expired = claim.valid_until_micros.is_some_and(|until| until <= options.now_micros);
            if expired && !options.include_expired {
                continue;
            }
            matched = Some(&claim.observable);
            claims.push(ClaimView {
                source: &self.sources[claim.source as usize],
                indicator: &claim.indicator,
                category: claim.category,
                confidence: claim.confidence,
                score: if expired { 0 } else { claim.score },
                tlp: self.audiences[claim.audience as usize].tlp,
                valid_until_micros: claim.valid_until_micros,
                expired,
            });
        }
        let Some(matched) = matched else {
            return;
        };
        let benign = self.benign.contains(matched.value());
        if benign && !options.include_benign {
            return;
        }
        hits.push(Hit { matched, how, benign, claims });
    }
}

fn mask_v4(bits: u32, len: u8) -> u32 {
    if len == 0 { 0 } else { bits & (u32::MAX << (32 - u32::from(len))) }
}

fn mask_v6(bits: u128, len: u8) -> u128 {
    if len == 0 { 0 } else { bits & (u128::MAX << (128 - u32::from(len))) }
}

/// The current snapshot of a node, kept up to date by following the log: a new snapshot is
/// built and swapped in; lookups running on the old one finish undisturbed.
#[derive(Debug, Default)]
pub struct Index {
    current: std::sync::RwLock<std::sync::Arc<Snapshot>>,
}

impl Index {
    /// Builds the first snapshot from `store`.
    pub fn open(store: &dyn watchfire_store::Store) -> Result<Index, BuildError> {
        Ok(Index { current: std::sync::RwLock::new(std::sync::Arc::new(build(store)?)) })
    }

    /// Returns the current snapshot (a cheap shared handle; hold it for a batch of lookups).
    pub fn snapshot(&self) -> std::sync::Arc<Snapshot> {
        // A panic while swapping cannot leave a half-written Arc: a poisoned lock still holds a
        // whole snapshot.
        std::sync::Arc::clone(
            &self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Builds a new snapshot when the log has moved past the current one; returns whether it did.
    pub fn refresh(&self, store: &dyn watchfire_store::Store) -> Result<bool, BuildError> {
        if store.last_seq()? <= self.snapshot().seq() {
            return Ok(false);
        }
        let fresh = std::sync::Arc::new(build(store)?);
        *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        Ok(true)
    }

    /// Builds a new snapshot even when the log has not moved (after the store's scores were
    /// refreshed, say) and swaps it in.
    pub fn rebuild(&self, store: &dyn watchfire_store::Store) -> Result<(), BuildError> {
        let fresh = std::sync::Arc::new(build(store)?);
        *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        Ok(())
    }

    /// Follows the log until `stop` returns true: waits for new entries (woken by other
    /// processes' appends on PostgreSQL) and refreshes.
    pub fn follow(
        &self,
        store: &dyn watchfire_store::Store,
        mut stop: impl FnMut() -> bool,
    ) -> Result<(), BuildError> {
        while !stop() {
            let seq = self.snapshot().seq();
            store.wait(seq, std::time::Duration::from_millis(500))?;
            self.refresh(store)?;
        }
        Ok(())
    }
}
