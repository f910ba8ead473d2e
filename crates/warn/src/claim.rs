//! Claims: what an organisation says it owns, their states, and how they are kept in the
//! store's directory.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use watchfire_model::observable::{Observable, ObservableKind};
use watchfire_model::policy::OrgId;
use watchfire_store::{Put, Store};

use crate::Error;

/// The directory kind claims are kept under.
pub const DIRECTORY_KIND: &str = "constituency_claim";

/// What a claim is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ClaimKind {
    /// An autonomous system number.
    Asn,
    /// An IPv4 or IPv6 network (a single address is its own `/32` or `/128`).
    Cidr,
    /// A country, by its ISO 3166-1 alpha-2 code.
    Country,
    /// A domain suffix: the domain and all its subdomains.
    Domain,
}

impl ClaimKind {
    /// Every kind.
    pub const ALL: [ClaimKind; 4] =
        [ClaimKind::Asn, ClaimKind::Cidr, ClaimKind::Country, ClaimKind::Domain];

    /// Returns the kind's name as the API and the CLI write it.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimKind::Asn => "asn",
            ClaimKind::Cidr => "cidr",
            ClaimKind::Country => "country",
            ClaimKind::Domain => "domain",
        }
    }
}

impl fmt::Display for ClaimKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ClaimKind {
    type Err = String;

    fn from_str(text: &str) -> Result<ClaimKind, String> {
        ClaimKind::ALL.into_iter().find(|kind| kind.as_str() == text).ok_or_else(|| {
            format!("unknown claim kind {text:?}: expected one of asn, cidr, country, domain")
        })
    }
}

/// Where a claim is in claim-and-approve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimState {
    /// Approved by an admin: it counts.
    Approved,
    /// Waiting for an admin.
    Pending,
    /// Refused (or withdrawn) by an admin.
    Rejected,
}

impl ClaimState {
    /// Returns the state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimState::Approved => "approved",
            ClaimState::Pending => "pending",
            ClaimState::Rejected => "rejected",
        }
    }
}

impl fmt::Display for ClaimState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The canonical value of a claim.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// An AS number.
    Asn(u32),
    /// A country code: two upper-case ASCII letters.
    Country(String),
    /// A domain suffix in canonical form (lower-case punycode, ends in a public suffix).
    Domain(String),
    /// A network address (host bits clear) and its prefix length.
    Network(IpAddr, u8),
}

impl Target {
    /// Parses a claimed value of `kind`: CIDRs, ASNs and domains as observables (refanged and
    /// canonical), countries as two ASCII letters.
    pub fn parse(kind: ClaimKind, text: &str) -> Result<Target, Error> {
        let invalid = |reason: String| Error::Invalid { kind, value: text.to_owned(), reason };
        let observable = |observable_kind| {
            Observable::parse_as(observable_kind, text).map_err(|error| invalid(error.to_string()))
        };
        Ok(match kind {
            ClaimKind::Asn => match observable(ObservableKind::Asn)?.asn() {
                Some(number) => Target::Asn(number),
                None => return Err(invalid("not an AS number".to_owned())),
            },
            ClaimKind::Cidr => match observable(ObservableKind::Cidr)?.network() {
                Some((address, prefix_len)) => Target::Network(address, prefix_len),
                None => return Err(invalid("not a network".to_owned())),
            },
            ClaimKind::Domain => {
                let domain = observable(ObservableKind::Domain)?;
                match domain.kind() {
                    ObservableKind::Domain => Target::Domain(domain.value().to_owned()),
                    _ => return Err(invalid("not a domain".to_owned())),
                }
            }
            ClaimKind::Country => {
                let code = text.trim();
                let is_code =
                    code.len() == 2 && code.bytes().all(|byte| byte.is_ascii_alphabetic());
                if !is_code {
                    return Err(invalid(
                        "a country is an ISO 3166-1 alpha-2 code of two letters".to_owned(),
                    ));
                }
                Target::Country(code.to_ascii_uppercase())
            }
        })
    }

    /// Returns the kind of claim this is the value of.
    pub fn kind(&self) -> ClaimKind {
        match self {
            Target::Asn(_) => ClaimKind::Asn,
            Target::Country(_) => ClaimKind::Country,
            Target::Domain(_) => ClaimKind::Domain,
            Target::Network(..) => ClaimKind::Cidr,
        }
    }

    /// Tells whether two claims overlap: one network contains the other, or the same AS number,
    /// domain suffix or country.
    pub fn overlaps(&self, other: &Target) -> bool {
        match (self, other) {
            (Target::Network(address, prefix_len), Target::Network(other, other_len)) => {
                let shorter = (*prefix_len).min(*other_len);
                match (bits(*address), bits(*other)) {
                    ((a, width), (b, other_width)) if width == other_width => {
                        mask(a, width, shorter) == mask(b, width, shorter)
                    }
                    _ => false,
                }
            }
            _ => self == other,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Asn(number) => write!(f, "AS{number}"),
            Target::Country(code) | Target::Domain(code) => f.write_str(code),
            Target::Network(address, prefix_len) => write!(f, "{address}/{prefix_len}"),
        }
    }
}

/// Returns an address as an integer and its width in bits (32 or 128).
pub(crate) fn bits(address: IpAddr) -> (u128, u8) {
    match address {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

/// Clears all but the first `prefix_len` bits of a `width`-bit address.
pub(crate) fn mask(address: u128, width: u8, prefix_len: u8) -> u128 {
    let host_bits = u32::from(width.saturating_sub(prefix_len));
    match host_bits {
        128 => 0,
        _ => address >> host_bits << host_bits,
    }
}

/// A claim of an organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ClaimRecord", into = "ClaimRecord")]
pub struct Claim {
    /// Its id (a UUID).
    pub id: String,
    /// The organisation claiming.
    pub org: OrgId,
    /// What is claimed; canonical by construction.
    target: Target,
    /// Where it is in claim-and-approve.
    pub state: ClaimState,
    /// Who asked (a user's log-in name, or `operator` for the CLI).
    pub requested_by: String,
    /// When it was asked, microseconds since the epoch.
    pub requested_micros: i64,
    /// Who approved or rejected it last.
    pub decided_by: Option<String>,
    /// When, microseconds since the epoch.
    pub decided_micros: Option<i64>,
}

impl Claim {
    /// Returns what is claimed.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Returns the kind of claim.
    pub fn kind(&self) -> ClaimKind {
        self.target.kind()
    }

    /// Returns the canonical value claimed (`203.0.113.0/24`, `AS64500`, `example.com`, `FR`).
    pub fn value(&self) -> String {
        self.target.to_string()
    }
}

/// A claim as stored: the value as canonical text, parsed again on load.
#[derive(Serialize, Deserialize)]
struct ClaimRecord {
    id: String,
    org: OrgId,
    kind: ClaimKind,
    value: String,
    state: ClaimState,
    requested_by: String,
    requested_micros: i64,
    decided_by: Option<String>,
    decided_micros: Option<i64>,
}

impl TryFrom<ClaimRecord> for Claim {
    type Error = String;

    fn try_from(record: ClaimRecord) -> Result<Claim, String> {
        let target =
            Target::parse(record.kind, &record.value).map_err(|error| error.to_string())?;
        Ok(Claim {
            id: record.id,
            org: record.org,
            target,
            state: record.state,
            requested_by: record.requested_by,
            requested_micros: record.requested_micros,
            decided_by: record.decided_by,
            decided_micros: record.decided_micros,
        })
    }
}

impl From<Claim> for ClaimRecord {
    fn from(claim: Claim) -> ClaimRecord {
        ClaimRecord {
            id: claim.id,
            org: claim.org,
            kind: claim.target.kind(),
            value: claim.target.to_string(),
            state: claim.state,
            requested_by: claim.requested_by,
            requested_micros: claim.requested_micros,
            decided_by: claim.decided_by,
            decided_micros: claim.decided_micros,
        }
    }
}

/// Lists every claim of every organisation, ordered by id.
pub fn claims(store: &dyn Store) -> Result<Vec<Claim>, Error> {
    let mut claims = Vec::new();
    for (key, document) in store.directory_list(DIRECTORY_KIND)? {
        claims.push(decode(&key, &document)?);
    }
    Ok(claims)
}

/// Returns the claim with this id, if there is one.
pub fn find(store: &dyn Store, id: &str) -> Result<Option<Claim>, Error> {
    match store.directory_get(DIRECTORY_KIND, id)? {
        Some(document) => Ok(Some(decode(id, &document)?)),
        None => Ok(None),
    }
}

/// Records a pending claim of `org` on `value`, asked by `by` at `now_micros`. A malformed value
/// and one that overlaps another organisation's approved claim are refused.
pub fn claim(
    store: &dyn Store,
    org: OrgId,
    kind: ClaimKind,
    value: &str,
    by: &str,
    now_micros: i64,
) -> Result<Claim, Error> {
    let target = Target::parse(kind, value)?;
    let _lock = DecisionLock::take(store)?;
    check_overlap(store, org, &target)?;
    let claim = Claim {
        id: uuid::Uuid::new_v4().to_string(),
        org,
        target,
        state: ClaimState::Pending,
        requested_by: by.to_owned(),
        requested_micros: now_micros,
        decided_by: None,
        decided_micros: None,
    };
    write(store, &claim, Put::Insert)?;
    Ok(claim)
}

/// Approves a pending (or earlier rejected) claim, checking the overlap rule again against the
/// claims approved since it was made. The check and the write hold the decision lock, so two
/// admins approving overlapping claims of two organisations at once (on one node or on several
/// sharing a database) cannot both pass.
pub fn approve(store: &dyn Store, id: &str, by: &str, now_micros: i64) -> Result<Claim, Error> {
    let _lock = DecisionLock::take(store)?;
    let mut claim = find(store, id)?.ok_or_else(|| Error::NotFound(id.to_owned()))?;
    if claim.state == ClaimState::Approved {
        return Err(Error::Decided { id: claim.id, state: claim.state });
    }
    check_overlap(store, claim.org, &claim.target)?;
    decide(store, &mut claim, ClaimState::Approved, by, now_micros)?;
    Ok(claim)
}

/// Rejects a pending claim, or withdraws an approved one.
pub fn reject(store: &dyn Store, id: &str, by: &str, now_micros: i64) -> Result<Claim, Error> {
    let mut claim = find(store, id)?.ok_or_else(|| Error::NotFound(id.to_owned()))?;
    if claim.state == ClaimState::Rejected {
        return Err(Error::Decided { id: claim.id, state: claim.state });
    }
    decide(store, &mut claim, ClaimState::Rejected, by, now_micros)?;
    Ok(claim)
}

/// Deletes a claim; returns whether it existed.
pub fn remove(store: &dyn Store, id: &str) -> Result<bool, Error> {
    Ok(store.directory_delete(DIRECTORY_KIND, id)?)
}

fn decide(
    store: &dyn Store,
    claim: &mut Claim,
    state: ClaimState,
    by: &str,
    now_micros: i64,
) -> Result<(), Error> {
    claim.state = state;
    claim.decided_by = Some(by.to_owned());
    claim.decided_micros = Some(now_micros);
    write(store, claim, Put::Replace)
}

/// The directory kind of the decision lock.
const LOCK_KIND: &str = "constituency_lock";

/// A lock older than this is left over by a process that died holding it, and is broken.
const STALE_LOCK_MICROS: i64 = 30_000_000;

/// How long a decision waits for the lock before giving up.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The lock every overlap check and the write after it hold: a directory document only one
/// caller can insert (`Put::Insert` is atomic in both backends), deleted when dropped. It works
/// across processes and nodes sharing one database, where a mutex in memory would not.
struct DecisionLock<'a> {
    store: &'a dyn Store,
    token: String,
}

impl<'a> DecisionLock<'a> {
    fn take(store: &'a dyn Store) -> Result<DecisionLock<'a>, Error> {
        let token = uuid::Uuid::new_v4().to_string();
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        loop {
            let now = watchfire_store::now_micros();
            let document = serde_json::json!({ "token": token, "taken_micros": now }).to_string();
            if store.directory_put(LOCK_KIND, "decisions", &document, Put::Insert)? {
                return Ok(DecisionLock { store, token });
            }
            // Break a lock left by a process that died holding it.
            if let Some(held) = store.directory_get(LOCK_KIND, "decisions")? {
                let taken = serde_json::from_str::<serde_json::Value>(&held)
                    .ok()
                    .and_then(|held| held["taken_micros"].as_i64())
                    .unwrap_or(0);
                if now.saturating_sub(taken) > STALE_LOCK_MICROS {
                    store.directory_delete(LOCK_KIND, "decisions")?;
                    continue;
                }
            }
            if std::time::Instant::now() >= deadline {
                return Err(Error::Busy);
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

impl Drop for DecisionLock<'_> {
    fn drop(&mut self) {
        // Only our own lock is deleted (a stale one may have been broken and taken by another).
        let held = self.store.directory_get(LOCK_KIND, "decisions").ok().flatten();
        if held.is_some_and(|held| held.contains(&self.token)) {
            let _ = self.store.directory_delete(LOCK_KIND, "decisions");
        }
    }
}

// Refuses a target that overlaps an approved claim of another organisation.
fn check_overlap(store: &dyn Store, org: OrgId, target: &Target) -> Result<(), Error> {
    let other = claims(store)?.into_iter().find(|other| {
        other.org != org && other.state == ClaimState::Approved && other.target.overlaps(target)
    });
    match other {
        Some(other) => Err(Error::Overlap {
            kind: target.kind(),
            value: target.to_string(),
            other_id: other.id.clone(),
            other_value: other.value(),
        }),
        None => Ok(()),
    }
}

fn write(store: &dyn Store, claim: &Claim, put: Put) -> Result<(), Error> {
    // Cannot fail: a claim serialises to a JSON object of strings and numbers.
    let document = serde_json::to_string(claim).expect("a claim serialises to JSON");
    store.directory_put(DIRECTORY_KIND, &claim.id, &document, put)?;
    Ok(())
}

fn decode(key: &str, document: &str) -> Result<Claim, Error> {
    serde_json::from_str(document).map_err(|error| Error::Damaged {
        kind: DIRECTORY_KIND,
        key: key.to_owned(),
        reason: error.to_string(),
    })
}
