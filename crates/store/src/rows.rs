//! The rows a batch writes, and the preparation of a fact into them: serialising the object,
//! its version and digest, and the claims and sighting it carries. Preparation is pure CPU work
//! done before the backend takes its write lock.

use watchfire_model::pattern::Pattern;
use watchfire_model::policy::{Audience, Origin};
use watchfire_model::record::Category;
use watchfire_model::stix::{StixObject, Timestamp};
use watchfire_model::tlp::Tlp;
use watchfire_model::{Observable, ObservableKind};

use crate::digest::digest;
use crate::{EntryKind, Error, Fact, FactBody, Seq};

/// At most this many claims come from one indicator (a pattern ORing more observables is kept in
/// the log but claims only its first ones; the match index will read patterns itself).
pub(crate) const MAX_CLAIMS_PER_INDICATOR: usize = 256;

/// A fact ready to be planned.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub kind: EntryKind,
    pub id: String,
    pub object_type: String,
    pub version: i64,
    pub digest: i64,
    pub source: String,
    pub tlp: Tlp,
    /// The audience as JSON, or `None` for the node's own data at `tlp` (the common case).
    pub audience: Option<String>,
    pub body: String,
    pub claims: Vec<ClaimDraft>,
    pub revoked: bool,
    pub sighting: Option<SightingDraft>,
}

/// A claim of an indicator version, before it knows its log entry.
#[derive(Clone, Debug)]
pub(crate) struct ClaimDraft {
    pub value: String,
    pub kind: ObservableKind,
    pub category: Option<Category>,
    pub confidence: Option<u8>,
    pub valid_until: Option<i64>,
    pub last_seen: i64,
}

/// What a sighting object counts.
#[derive(Clone, Debug)]
pub(crate) struct SightingDraft {
    pub of: String,
    pub count: i64,
    pub last_seen: i64,
}

/// A log row.
#[derive(Clone, Debug)]
pub(crate) struct LogRow {
    pub seq: Seq,
    pub added: i64,
    pub kind: EntryKind,
    pub id: String,
    pub object_type: String,
    pub version: i64,
    pub source: String,
    pub tlp: Tlp,
    pub audience: Option<String>,
    pub body: String,
}

/// The row of the "latest version per id" view.
#[derive(Clone, Debug)]
pub(crate) struct CurrentRow {
    pub id: String,
    pub seq: Seq,
    pub version: i64,
    pub digest: i64,
    pub object_type: String,
    pub source: String,
    pub tlp: Tlp,
    pub audience: Option<String>,
    pub deleted: bool,
}

/// The row of the "observable → claims" view.
#[derive(Clone, Debug)]
pub(crate) struct ClaimRow {
    pub value: String,
    pub indicator: String,
    pub kind: ObservableKind,
    pub source: String,
    pub category: Option<Category>,
    pub confidence: Option<u8>,
    pub tlp: Tlp,
    pub audience: Option<String>,
    pub valid_until: Option<i64>,
    pub last_seen: i64,
    pub score: u8,
    pub seq: Seq,
}

/// The row of the sightings view (one per sighting object).
#[derive(Clone, Debug)]
pub(crate) struct SightingRow {
    pub id: String,
    pub of: String,
    pub count: i64,
    pub last_seen: i64,
    pub tlp: Tlp,
    pub audience: Option<String>,
    pub seq: Seq,
}

/// Returns microseconds since the epoch of a timestamp, saturating far outside the i64 range.
pub(crate) fn micros(timestamp: &Timestamp) -> i64 {
    i64::try_from(timestamp.unix_nanos() / 1000).unwrap_or(i64::MAX)
}

/// Encodes an audience for storage: `None` for the node's own local data (only the TLP matters).
pub(crate) fn encode_audience(audience: &Audience) -> Option<String> {
    let trivial = audience.owner.is_none()
        && audience.organisations.is_empty()
        && audience.users.is_empty()
        && audience.origin == Origin::Local;
    if trivial {
        return None;
    }
    // Cannot fail: an audience is ids, an enum and a TLP.
    Some(serde_json::to_string(audience).expect("an audience serialises"))
}

/// Decodes a stored audience; `tlp` is the row's TLP column, which the JSON repeats.
pub(crate) fn decode_audience(tlp: &str, audience: Option<&str>) -> Result<Audience, Error> {
    match audience {
        Some(json) => serde_json::from_str(json)
            .map_err(|error| Error::Corrupt(format!("stored audience {json:?}: {error}"))),
        None => decode_tlp(tlp).map(Audience::node),
    }
}

/// Decodes a stored TLP name.
pub(crate) fn decode_tlp(tlp: &str) -> Result<Tlp, Error> {
    tlp.parse().map_err(|_| Error::Corrupt(format!("stored TLP {tlp:?} is unknown")))
}

/// Prepares one fact.
pub(crate) fn prepare(fact: &Fact) -> Result<Prepared, Error> {
    let audience = encode_audience(&fact.audience);
    let tlp = fact.audience.tlp;
    let source = fact.source.clone();
    let object = match &fact.body {
        FactBody::Tombstone(id) => {
            return Ok(Prepared {
                kind: EntryKind::Tombstone,
                id: id.as_str().to_owned(),
                object_type: id.object_type().to_owned(),
                version: 0,
                digest: 0,
                source,
                tlp,
                audience,
                body: String::new(),
                claims: Vec::new(),
                revoked: false,
                sighting: None,
            });
        }
        FactBody::Object(object) => object,
    };
    let id = object.id().as_str().to_owned();
    let body = serde_json::to_string(object)
        .map_err(|error| Error::Fact { id: id.clone(), reason: error.to_string() })?;
    let version = object.modified().or_else(|| object.created()).map_or(0, micros);
    let mut prepared = Prepared {
        kind: EntryKind::Object,
        object_type: object.object_type().to_owned(),
        version,
        digest: digest(&body, fact.times_made_up),
        id,
        source,
        tlp,
        audience,
        body,
        claims: Vec::new(),
        revoked: false,
        sighting: None,
    };
    match &**object {
        StixObject::Indicator(indicator) => {
            prepared.revoked = indicator.revoked == Some(true);
            let category = fact
                .category
                .or_else(|| indicator.indicator_types.iter().find_map(|term| category_of(term)));
            let valid_until = indicator.valid_until.as_ref().map(micros);
            prepared.claims = claim_observables(&indicator.pattern, &indicator.pattern_type)
                .into_iter()
                .map(|observable| ClaimDraft {
                    kind: observable.kind(),
                    value: observable.value().to_owned(),
                    category,
                    confidence: indicator.confidence,
                    valid_until,
                    last_seen: version,
                })
                .collect();
        }
        StixObject::Sighting(sighting) => {
            prepared.sighting = Some(SightingDraft {
                of: sighting.sighting_of_ref.as_str().to_owned(),
                count: sighting.count.map_or(1, |count| i64::try_from(count).unwrap_or(i64::MAX)),
                last_seen: sighting.last_seen.as_ref().map_or(version, micros),
            });
        }
        _ => {}
    }
    Ok(prepared)
}

/// Returns the observables a STIX pattern claims: each observable of a pattern that is an OR of
/// equalities (or CIDR subsets); nothing for other patterns or pattern languages.
pub(crate) fn claim_observables(pattern: &str, pattern_type: &str) -> Vec<Observable> {
    if pattern_type != "stix" {
        return Vec::new();
    }
    let Ok(pattern) = Pattern::parse(pattern) else {
        return Vec::new();
    };
    let mut observables = pattern.observables().unwrap_or_default();
    observables.truncate(MAX_CLAIMS_PER_INDICATOR);
    observables
}

/// Returns the observables claimed by a stored indicator body (for deleting its claims).
pub(crate) fn claim_observables_of_body(body: &str) -> Vec<Observable> {
    #[derive(serde::Deserialize)]
    struct PatternOnly {
        #[serde(default)]
        pattern: String,
        #[serde(default)]
        pattern_type: String,
    }
    serde_json::from_str::<PatternOnly>(body)
        .map(|indicator| claim_observables(&indicator.pattern, &indicator.pattern_type))
        .unwrap_or_default()
}

/// The watchfire category closest to an `indicator-type-ov` term, for indicators that came
/// without one of ours.
fn category_of(term: &str) -> Option<Category> {
    match term {
        "anonymization" => Some(Category::TorExit),
        "compromised" => Some(Category::Compromised),
        "malicious-activity" | "attribution" => Some(Category::Malicious),
        _ => None,
    }
}
