//! The match index: an immutable in-memory snapshot of every claim in the store, answering "is
//! this IP, name, URL, hash or e-mail known, and who says so?" without a database round trip,
//! with the access policy applied to every claim.
//!
//! Layout: the claims sit once in a table of 24-byte records with no strings (a claim's
//! observable is the key it is filed under; its indicator id is derived again from source and
//! value, as imports make them, unless it is another one kept aside); each key (an address, a
//! network, a name, a URL, a hash) holds 4 bytes: one claim id or a list in one shared array,
//! with flags that often spare reading the claims. No key holds metadata, so the tables stay
//! small and cache-friendly. Audiences and source names are deduplicated: a claim names them by
//! number.
//!
//! Lookups: [`Snapshot::lookup`] returns [`Hit`]s with their claims; the `find` functions
//! ([`Snapshot::find`], [`Snapshot::find_ipv4`], [`Snapshot::find_ipv4_batch`],
//! [`Snapshot::find_name`]) return small [`Found`] handles and allocate nothing, for callers that
//! look up many values and gather claims only for the few that hit ([`Snapshot::hit`]).
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
//!
//! Cache: [`Snapshot::save`] and [`Snapshot::load`] keep a snapshot in a file, and
//! [`open_cached`] loads that file instead of building when it was written for the store's
//! current state (its log head and scores version) by the running build.

#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod build;
mod cache;
mod int_hash;
mod text;
mod v4;

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;
use watchfire_model::policy::{Audience, Principal};
use watchfire_model::record::Category;
use watchfire_model::{Observable, ObservableKind};
use watchfire_store::{Reader, Seq};

pub use crate::build::{BuildError, build, from_claims};
pub use crate::cache::{
    CacheError, CacheErrorKind, CacheKey, CacheReport, FORMAT_VERSION, open_cached,
};
use crate::int_hash::IntBuild;
use crate::text::TextTable;

/// Where a key's claims are, in 4 bytes: one claim id, or (with [`ClaimsRef::LIST`]) the offset
/// of a list in [`Snapshot`]'s shared list (its length first, then the ids); whether a
/// warninglist calls the key known-benign ([`ClaimsRef::BENIGN`]); and whether one of its claims
/// is open ([`ClaimsRef::OPEN`]): anonymous callers may see it and it never expires, so a caller
/// who sees every open audience sees the hit without reading the claims; and whether one of its
/// claims never expires ([`ClaimsRef::LASTING`]), which is enough for a caller who sees every
/// audience (the node's operator).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ClaimsRef(u32);

impl ClaimsRef {
    const LIST: u32 = 1 << 31;
    const BENIGN: u32 = 1 << 30;
    const OPEN: u32 = 1 << 29;
    const LASTING: u32 = 1 << 28;
    /// The largest claim id or list offset.
    pub(crate) const MAX: u32 = (1 << 28) - 1;

    pub(crate) fn single(id: u32) -> ClaimsRef {
        debug_assert!(id <= ClaimsRef::MAX);
        ClaimsRef(id)
    }

    pub(crate) fn list(offset: u32) -> ClaimsRef {
        debug_assert!(offset <= ClaimsRef::MAX);
        ClaimsRef(offset | ClaimsRef::LIST)
    }

    pub(crate) fn benign(self) -> ClaimsRef {
        ClaimsRef(self.0 | ClaimsRef::BENIGN)
    }

    pub(crate) fn open(self) -> ClaimsRef {
        ClaimsRef(self.0 | ClaimsRef::OPEN)
    }

    pub(crate) fn lasting(self) -> ClaimsRef {
        ClaimsRef(self.0 | ClaimsRef::LASTING)
    }

    fn is_open(self) -> bool {
        self.0 & ClaimsRef::OPEN != 0
    }

    fn is_benign(self) -> bool {
        self.0 & ClaimsRef::BENIGN != 0
    }
}

/// One claim, compact (24 bytes): numbers into the snapshot's tables. Its observable is the key
/// it is filed under, and its indicator id is derived from the source and the observable unless
/// [`Snapshot`] keeps another one aside.
#[derive(Clone, Copy, Debug)]
struct CompactClaim {
    /// The end of validity, microseconds since the epoch; `i64::MAX` for none.
    valid_until_micros: i64,
    source: u32,
    audience: u32,
    score: u8,
    confidence: Option<u8>,
    category: Option<Category>,
    /// Whether the indicator id is `indicator_id(source, observable)`.
    derived_id: bool,
}

/// An immutable snapshot of the claims of the store up to one log entry.
#[derive(Debug, Default)]
pub struct Snapshot {
    seq: Seq,
    claims: Vec<CompactClaim>,
    /// Indicator ids that are not derived from the source and observable, by claim id.
    indicators: HashMap<u32, Box<str>, IntBuild>,
    audiences: Vec<Audience>,
    sources: Vec<Box<str>>,
    lists: Vec<u32>,
    v4: v4::V4Table,
    v6: HashMap<u128, ClaimsRef, IntBuild>,
    /// IPv6 networks by prefix length, longest first, masked addresses as keys.
    v6_networks: Vec<(u8, HashMap<u128, ClaimsRef, IntBuild>)>,
    asns: HashMap<u32, ClaimsRef, IntBuild>,
    /// Domains, URLs, hashes and e-mails by canonical value (their kinds cannot collide).
    texts: TextTable,
}

/// How a hit matched the value looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
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
    pub indicator: Cow<'a, str>,
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
    pub matched: Observable,
    /// How it matched.
    pub how: MatchKind,
    /// Whether a warninglist calls the matched value known-benign (a likely false positive).
    pub benign: bool,
    /// The claims the caller may see (never empty).
    pub claims: Vec<ClaimView<'a>>,
}

/// A hit as the `find` functions return it, before its claims are gathered: which key matched
/// and how. It is small and `Copy`, and finding it allocates nothing; [`Snapshot::hit`] builds
/// the [`Hit`]. The key has a claim the caller may see (checked when it was found).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Found {
    key: FoundKey,
    claims: ClaimsRef,
    how: MatchKind,
}

/// The key a [`Found`] names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum FoundKey {
    V4(u32),
    /// A network id of the IPv4 table.
    V4Network(u32),
    /// The address as two halves (a `u128` would double the alignment of [`Found`]).
    V6([u64; 2]),
    V6Network([u64; 2], u8),
    Asn(u32),
    /// A key number of the text table.
    Text(u32),
}

impl Found {
    /// Returns how it matched.
    pub fn how(&self) -> MatchKind {
        self.how
    }

    /// Returns whether a warninglist calls the matched value known-benign.
    pub fn benign(&self) -> bool {
        self.claims.is_benign()
    }
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
    /// Whether the caller sees every audience an anonymous caller sees (then an open key's hit
    /// shows without reading its claims).
    sees_open: bool,
    /// Whether the caller sees every audience of the snapshot.
    sees_all: bool,
}

/// IPv4 addresses [`Snapshot::find_ipv4_batch`] looks up together.
pub const IPV4_BATCH: usize = v4::BATCH;

/// Names looked up together by [`Snapshot::find_names_batch`].
pub const NAME_BATCH: usize = 16;

impl Snapshot {
    /// Returns the log position the snapshot holds the claims up to.
    pub fn seq(&self) -> Seq {
        self.seq
    }

    /// Returns the number of claims.
    pub fn n_claims(&self) -> usize {
        self.claims.len()
    }

    /// Returns the bytes the snapshot holds on the heap (its tables' capacities; text keys and
    /// kept indicator ids counted with their strings), for memory reports.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let hash_map = |len: usize, entry: usize| {
            // hashbrown: buckets a power of two at most 7/8 full, one control byte each.
            let buckets = if len == 0 { 0 } else { (len * 8 / 7).next_power_of_two() };
            buckets * (entry + 1)
        };
        self.claims.capacity() * size_of::<CompactClaim>()
            + hash_map(self.indicators.len(), size_of::<(u32, Box<str>)>())
            + self.indicators.values().map(|id| id.len()).sum::<usize>()
            + self.lists.capacity() * 4
            + self.v4.heap_bytes()
            + hash_map(self.v6.len(), size_of::<(u128, ClaimsRef)>())
            + self
                .v6_networks
                .iter()
                .map(|(_, map)| hash_map(map.len(), size_of::<(u128, ClaimsRef)>()))
                .sum::<usize>()
            + hash_map(self.asns.len(), size_of::<(u32, ClaimsRef)>())
            + self.texts.heap_bytes()
    }

    /// Returns the access of `reader` to this snapshot's audiences.
    pub fn access(&self, reader: Reader<'_>) -> Access {
        let anonymous = Reader::Principal(&Principal::Anonymous);
        let visible: Vec<bool> =
            self.audiences.iter().map(|audience| reader.may_see(audience)).collect();
        let sees_open = self
            .audiences
            .iter()
            .zip(&visible)
            .all(|(audience, visible)| *visible || !anonymous.may_see(audience));
        let sees_all = visible.iter().all(|visible| *visible);
        Access { visible, sees_open, sees_all }
    }

    /// Returns the hits of `observable` that the caller with `access` may see, most specific
    /// first: the exact entry, then networks or parent domains, or a URL's host.
    pub fn lookup<'a>(
        &'a self,
        access: &Access,
        observable: &Observable,
        options: LookupOptions,
    ) -> Vec<Hit<'a>> {
        let mut found = Vec::new();
        self.find(access, observable, options, &mut found);
        found.into_iter().map(|found| self.hit(access, options, found)).collect()
    }

    /// Returns the hits of one address, as [`Snapshot::lookup`] does for an `ipv4` or `ipv6`
    /// observable, without building one.
    pub fn lookup_address<'a>(
        &'a self,
        access: &Access,
        address: IpAddr,
        options: LookupOptions,
    ) -> Vec<Hit<'a>> {
        let mut found = Vec::new();
        self.find_address(access, address, MatchKind::Exact, options, &mut found);
        found.into_iter().map(|found| self.hit(access, options, found)).collect()
    }

    /// Appends the hits of `observable` to `found` as [`Snapshot::lookup`] finds them, without
    /// gathering their claims: nothing is allocated unless `found` grows.
    pub fn find(
        &self,
        access: &Access,
        observable: &Observable,
        options: LookupOptions,
        found: &mut Vec<Found>,
    ) {
        match observable.kind() {
            ObservableKind::Ipv4 | ObservableKind::Ipv6 => {
                if let Some(address) = observable.ip() {
                    self.find_address(access, address, MatchKind::Exact, options, found);
                }
            }
            ObservableKind::Cidr => {
                if let Some((address, prefix_len)) = observable.network() {
                    self.find_network(
                        access,
                        address,
                        prefix_len,
                        MatchKind::Network,
                        options,
                        found,
                    );
                }
            }
            ObservableKind::Domain => {
                self.find_domain(access, observable.value(), MatchKind::Exact, options, found);
            }
            ObservableKind::Url => {
                let before = found.len();
                self.find_text(access, observable.value(), options, found);
                if found.len() == before
                    && let Some(host) = observable.host()
                {
                    match host.parse::<IpAddr>() {
                        Ok(address) => {
                            self.find_address(access, address, MatchKind::UrlHost, options, found);
                        }
                        Err(_) => {
                            self.find_domain(access, host, MatchKind::UrlHost, options, found);
                        }
                    }
                }
            }
            ObservableKind::Asn => {
                if let Some(number) = observable.asn()
                    && let Some(claims) = self.asns.get(&number)
                {
                    self.push(
                        access,
                        options,
                        FoundKey::Asn(number),
                        *claims,
                        MatchKind::Exact,
                        found,
                    );
                }
            }
            _ => self.find_text(access, observable.value(), options, found),
        }
    }

    /// Appends the hits of an IPv4 address to `found`, as [`Snapshot::find`] does for an `ipv4`
    /// observable: its exact entry, then the longest network holding it with a visible claim.
    pub fn find_ipv4(
        &self,
        access: &Access,
        address: Ipv4Addr,
        options: LookupOptions,
        found: &mut Vec<Found>,
    ) {
        self.find_address(access, IpAddr::V4(address), MatchKind::Exact, options, found);
    }

    /// Whether every IPv4 address `high16.x.y` misses for `access`, known from the /16 block's
    /// record alone (no claim at all on an address or network there): a scanner asks it before
    /// reading the rest of an address. Only a caller who sees every audience gets `true`; for
    /// another, an empty block and a block holding claims it may not see would answer
    /// differently, so it always gets `false` and looks each address up.
    #[inline]
    pub fn ipv4_block_misses(&self, access: &Access, high16: u16) -> bool {
        access.sees_all && !self.v4.block_may_hold(high16)
    }

    /// Whether every URL with the host `host` (in lower case, as a canonical URL writes it:
    /// `http://` + `host` + a path) misses for `access`, known from a small filter of the listed
    /// URLs' hosts: a scanner asks it before it looks up a request's URL. As for
    /// [`Snapshot::ipv4_block_misses`], only a caller who sees every audience gets `true`.
    #[inline]
    pub fn url_host_misses(&self, access: &Access, host: &str) -> bool {
        access.sees_all && !self.texts.may_hold_url_host(host.as_bytes())
    }

    /// Looks up a slice of IPv4 addresses, [`IPV4_BATCH`] at a time with their memory loads
    /// overlapped; appends `(index in addresses, hit)` to `found` for each hit, in the order
    /// [`Snapshot::find_ipv4`] would find them.
    pub fn find_ipv4_batch(
        &self,
        access: &Access,
        addresses: &[Ipv4Addr],
        options: LookupOptions,
        found: &mut Vec<(usize, Found)>,
    ) {
        let mut bits = [0u32; v4::BATCH];
        let mut probes = [v4::Probe::default(); v4::BATCH];
        for (block_index, block) in addresses.chunks(v4::BATCH).enumerate() {
            for (slot, address) in bits.iter_mut().zip(block) {
                *slot = u32::from(*address);
            }
            let bits = &bits[..block.len()];
            self.v4.find_batch(bits, &mut probes);
            for (offset, (address, probe)) in bits.iter().zip(&probes).enumerate() {
                if probe.exact.is_none() && probe.network == v4::NO_PARENT {
                    continue;
                }
                let index = block_index * v4::BATCH + offset;
                if let Some(claims) = probe.exact
                    && self.is_visible(access, options, claims)
                {
                    let key = FoundKey::V4(*address);
                    found.push((index, Found { key, claims, how: MatchKind::Exact }));
                }
                if let Some(hit) =
                    self.visible_v4_network(access, options, probe.network, MatchKind::Network)
                {
                    found.push((index, hit));
                }
            }
        }
    }

    /// Appends the hits of a domain name to `found`, as [`Snapshot::find`] does for a `domain`
    /// observable. `name` must be canonical (as [`Observable::value`] gives it); any other text
    /// finds what its canonical form would only by chance.
    pub fn find_name(
        &self,
        access: &Access,
        name: &str,
        options: LookupOptions,
        found: &mut Vec<Found>,
    ) {
        self.find_domain(access, name, MatchKind::Exact, options, found);
    }

    /// Looks up a slice of canonical domain names, [`NAME_BATCH`] at a time, each name and its
    /// parents with their memory loads overlapped (the filter words, then the slots, the keys and
    /// the keys' texts); appends `(index in names, hit)` to `found` for each hit, in the order
    /// [`Snapshot::find_name`] would find them.
    pub fn find_names_batch(
        &self,
        access: &Access,
        names: &[&str],
        options: LookupOptions,
        found: &mut Vec<(usize, Found)>,
    ) {
        /// A name or one of its parents, on its way through the stages.
        struct Candidate {
            name: usize,
            start: usize,
            hash: u64,
            passed: bool,
            number: Option<u32>,
        }
        let mut candidates: Vec<Candidate> = Vec::with_capacity(NAME_BATCH * 4);
        for (block_index, block) in names.chunks(NAME_BATCH).enumerate() {
            candidates.clear();
            for (offset, name) in block.iter().enumerate() {
                let bytes = name.as_bytes();
                let name = block_index * NAME_BATCH + offset;
                let starts =
                    std::iter::once(0).chain(memchr::memchr_iter(b'.', bytes).map(|dot| dot + 1));
                for start in starts {
                    let hash = text::hash(&bytes[start..]);
                    self.texts.prefetch_filter(hash);
                    candidates.push(Candidate { name, start, hash, passed: false, number: None });
                }
            }
            for candidate in &mut candidates {
                candidate.passed = self.texts.passes(candidate.hash);
            }
            for candidate in candidates.iter_mut().filter(|candidate| candidate.passed) {
                candidate.number = self.texts.first_tagged(candidate.hash);
            }
            for number in candidates.iter().filter_map(|candidate| candidate.number) {
                self.texts.prefetch_text(number);
            }
            for candidate in &candidates {
                let Some(number) = candidate.number else { continue };
                let text = &names[candidate.name].as_bytes()[candidate.start..];
                let number = match self.texts.key(number).observable.value().as_bytes() == text {
                    true => number,
                    // Another key with the same tag came first in the run: the full probe.
                    false => match self.texts.find(text, candidate.hash) {
                        Some(number) => number,
                        None => continue,
                    },
                };
                let key = self.texts.key(number);
                let how = match candidate.start {
                    0 => MatchKind::Exact,
                    _ if key.is_suffix => continue,
                    _ => MatchKind::Subdomain,
                };
                if self.is_visible(access, options, key.claims) {
                    let hit = Found { key: FoundKey::Text(number), claims: key.claims, how };
                    found.push((candidate.name, hit));
                }
            }
        }
    }

    /// Appends the hit of a canonical hash, e-mail or URL value to `found` (exact matches only:
    /// no URL host fallback).
    pub fn find_exact_text(
        &self,
        access: &Access,
        value: &str,
        options: LookupOptions,
        found: &mut Vec<Found>,
    ) {
        self.find_text(access, value, options, found);
    }

    /// Builds the [`Hit`] of `found`: the matched observable and the claims the caller may see.
    pub fn hit<'a>(&'a self, access: &Access, options: LookupOptions, found: Found) -> Hit<'a> {
        let matched = match found.key {
            FoundKey::V4(bits) => Observable::from_ip(IpAddr::V4(Ipv4Addr::from(bits))),
            FoundKey::V4Network(id) => {
                let network = self.v4.network(id);
                Observable::from_network(IpAddr::V4(Ipv4Addr::from(network.bits)), network.len)
            }
            FoundKey::V6(halves) => Observable::from_ip(IpAddr::V6(join(halves).into())),
            FoundKey::V6Network(halves, len) => {
                Observable::from_network(IpAddr::V6(join(halves).into()), len)
            }
            FoundKey::Asn(number) => Observable::from_asn(number),
            FoundKey::Text(number) => self.texts.key(number).observable.clone(),
        };
        let mut claims = Vec::new();
        for id in self.claim_ids(found.claims) {
            let claim = &self.claims[id as usize];
            if !self.shows(access, options, claim) {
                continue;
            }
            let expired = claim.valid_until_micros <= options.now_micros;
            let source = &self.sources[claim.source as usize];
            let indicator = match claim.derived_id {
                true => Cow::Owned(
                    watchfire_model::stix::indicator_id(source, &matched).as_str().to_owned(),
                ),
                false => Cow::Borrowed(self.indicators.get(&id).map_or("", |id| &**id)),
            };
            claims.push(ClaimView {
                source,
                indicator,
                category: claim.category,
                confidence: claim.confidence,
                score: if expired { 0 } else { claim.score },
                tlp: self.audiences[claim.audience as usize].tlp,
                valid_until_micros: (claim.valid_until_micros != i64::MAX)
                    .then_some(claim.valid_until_micros),
                expired,
            });
        }
        Hit { matched, how: found.how, benign: found.claims.is_benign(), claims }
    }

    fn find_address(
        &self,
        access: &Access,
        address: IpAddr,
        how: MatchKind,
        options: LookupOptions,
        found: &mut Vec<Found>,
    ) {
        match address {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4);
                if !self.v4.may_hold(bits) {
                    return;
                }
                if let Some(claims) = self.v4.exact(bits) {
                    self.push(access, options, FoundKey::V4(bits), claims, how, found);
                }
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                if let Some(claims) = self.v6.get(&bits) {
                    self.push(access, options, FoundKey::V6(split(bits)), *claims, how, found);
                }
            }
        }
        let network_how = if how == MatchKind::Exact { MatchKind::Network } else { how };
        let full = if address.is_ipv4() { 32 } else { 128 };
        self.find_network(access, address, full, network_how, options, found);
    }

    // The longest network holding `address`/`prefix_len` (itself included) with a visible claim.
    fn find_network(
        &self,
        access: &Access,
        address: IpAddr,
        prefix_len: u8,
        how: MatchKind,
        options: LookupOptions,
        found: &mut Vec<Found>,
    ) {
        match address {
            IpAddr::V4(v4) => {
                let longest = self.v4.longest(u32::from(v4), prefix_len).unwrap_or(v4::NO_PARENT);
                if let Some(hit) = self.visible_v4_network(access, options, longest, how) {
                    found.push(hit);
                }
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                for (len, networks) in self.v6_networks.iter().filter(|(len, _)| *len <= prefix_len)
                {
                    let masked = mask_v6(bits, *len);
                    if let Some(claims) = networks.get(&masked)
                        && self.is_visible(access, options, *claims)
                    {
                        let key = FoundKey::V6Network(split(masked), *len);
                        found.push(Found { key, claims: *claims, how });
                        return;
                    }
                }
            }
        }
    }

    // The first network with a visible claim on the chain from `id` to shorter ones.
    fn visible_v4_network(
        &self,
        access: &Access,
        options: LookupOptions,
        mut id: u32,
        how: MatchKind,
    ) -> Option<Found> {
        while id != v4::NO_PARENT {
            let network = self.v4.network(id);
            if self.is_visible(access, options, network.claims) {
                return Some(Found { key: FoundKey::V4Network(id), claims: network.claims, how });
            }
            id = network.parent;
        }
        None
    }

    // The name itself, then each parent up to the registrable domain.
    fn find_domain(
        &self,
        access: &Access,
        name: &str,
        how: MatchKind,
        options: LookupOptions,
        found: &mut Vec<Found>,
    ) {
        if let Some(number) = self.texts.find(name.as_bytes(), text::hash(name.as_bytes())) {
            let claims = self.texts.key(number).claims;
            self.push(access, options, FoundKey::Text(number), claims, how, found);
        }
        // Every parent name is probed; a listed name that is itself a public suffix was marked
        // at build time and matches only itself, so no lookup needs the public suffix list.
        let parent_how = if how == MatchKind::Exact { MatchKind::Subdomain } else { how };
        let bytes = name.as_bytes();
        for dot in memchr::memchr_iter(b'.', bytes) {
            let parent = &bytes[dot + 1..];
            let Some(number) = self.texts.find(parent, text::hash(parent)) else {
                continue;
            };
            let key = self.texts.key(number);
            if !key.is_suffix {
                self.push(access, options, FoundKey::Text(number), key.claims, parent_how, found);
            }
        }
    }

    fn find_text(
        &self,
        access: &Access,
        value: &str,
        options: LookupOptions,
        found: &mut Vec<Found>,
    ) {
        if let Some(number) = self.texts.find(value.as_bytes(), text::hash(value.as_bytes())) {
            let claims = self.texts.key(number).claims;
            self.push(access, options, FoundKey::Text(number), claims, MatchKind::Exact, found);
        }
    }

    // Adds a hit on `key` when the caller may see one of its claims.
    fn push(
        &self,
        access: &Access,
        options: LookupOptions,
        key: FoundKey,
        claims: ClaimsRef,
        how: MatchKind,
        found: &mut Vec<Found>,
    ) {
        if self.is_visible(access, options, claims) {
            found.push(Found { key, claims, how });
        }
    }

    // Whether a hit on `claims` shows: a claim the caller may see (and, unless expired claims
    // are kept, still valid), on a value that is not benign unless benign hits are kept.
    fn is_visible(&self, access: &Access, options: LookupOptions, claims: ClaimsRef) -> bool {
        if claims.is_benign() && !options.include_benign {
            return false;
        }
        if claims.is_open() && access.sees_open {
            return true;
        }
        if claims.0 & ClaimsRef::LASTING != 0 && access.sees_all {
            return true;
        }
        self.claim_ids(claims).any(|id| self.shows(access, options, &self.claims[id as usize]))
    }

    fn shows(&self, access: &Access, options: LookupOptions, claim: &CompactClaim) -> bool {
        let visible = access.visible.get(claim.audience as usize).copied().unwrap_or(false);
        let expired = claim.valid_until_micros <= options.now_micros;
        visible && (options.include_expired || !expired)
    }

    fn claim_ids(&self, claims: ClaimsRef) -> impl Iterator<Item = u32> + '_ {
        let (single, list) = match claims.0 & ClaimsRef::LIST {
            0 => (Some(claims.0 & ClaimsRef::MAX), &[][..]),
            _ => {
                let offset = (claims.0 & ClaimsRef::MAX) as usize;
                let len = self.lists[offset] as usize;
                (None, &self.lists[offset + 1..offset + 1 + len])
            }
        };
        single.into_iter().chain(list.iter().copied())
    }
}

/// Asks the CPU to bring `value`'s cache line closer; a hint only, it reads nothing.
#[inline(always)]
fn prefetch<T>(value: &T) {
    mem_prefetch::prefetch_read_data::<T, 3>(value);
}

fn mask_v4(bits: u32, len: u8) -> u32 {
    if len == 0 { 0 } else { bits & (u32::MAX << (32 - u32::from(len))) }
}

fn split(bits: u128) -> [u64; 2] {
    // Truncations on purpose: the high and the low half.
    [(bits >> 64) as u64, bits as u64]
}

fn join(halves: [u64; 2]) -> u128 {
    (u128::from(halves[0]) << 64) | u128::from(halves[1])
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
