//! Alerts: a warning addressed to one organisation, kept on the log as a STIX 2.1 custom object
//! `x-watchfire-alert`.
//!
//! An alert is a fact like any other: it gets a sequence number, reaches its organisation over the
//! live stream and TAXII, and survives restarts. Its audience is its organisation alone
//! (AMBER+STRICT, owned by it, nobody named), so the one access policy keeps it from everybody
//! else. Every change (a repeat counted in the aggregation window, an acknowledgement, a
//! resolution, the expiry) is a new version of the same object; the id is derived from the dedup
//! key and the window, so the same threat in the same window is always the same alert.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;
use watchfire_model::observable::Observable;
use watchfire_model::policy::{Audience, OrgId, Origin};
use watchfire_model::record::Category;
use watchfire_model::stix::{StixObject, Timestamp, WATCHFIRE_NAMESPACE};
use watchfire_model::tlp::Tlp;
use watchfire_store::{Entry, Seq};

use crate::ClaimKind;

/// The STIX type of an alert.
pub const ALERT_TYPE: &str = "x-watchfire-alert";

/// The source name alerts are appended under.
pub const ALERT_SOURCE: &str = "watchfire/warn";

/// The most evidence items an alert keeps (the most recent; `count` counts them all).
pub const MAX_EVIDENCE: usize = 20;

/// Which way a threat touches an organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// A threat is hosted in the organisation's space: a C2 in its range, phishing on its domain.
    Hosted,
    /// The organisation's own host is reported: infected, scanning, vulnerable, exposed.
    Reported,
    /// An observable was sighted by many organisations: a community-wide alert.
    Outbreak,
}

impl Direction {
    /// Returns the direction's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Hosted => "hosted",
            Direction::Reported => "reported",
            Direction::Outbreak => "outbreak",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgent an alert is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Low,
    /// Act this week.
    Medium,
    /// Act today.
    High,
    /// Act now.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 4] =
        [Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    /// Returns the severity's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Returns the severity of a score from 0 to 100.
    pub fn of_score(score: u8) -> Severity {
        match score {
            0..=39 => Severity::Low,
            40..=64 => Severity::Medium,
            65..=84 => Severity::High,
            _ => Severity::Critical,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(text: &str) -> Result<Severity, String> {
        Severity::ALL.into_iter().find(|severity| severity.as_str() == text).ok_or_else(|| {
            format!("unknown severity {text:?}: expected one of low, medium, high, critical")
        })
    }
}

/// Where an alert is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Raised, nobody has looked yet.
    New,
    /// Somebody of the organisation has seen it and works on it.
    Acknowledged,
    /// Dealt with.
    Resolved,
    /// Its window passed without anybody acting and nothing repeated it.
    Expired,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 4] =
        [Status::New, Status::Acknowledged, Status::Resolved, Status::Expired];

    /// Returns the status's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Acknowledged => "acknowledged",
            Status::Resolved => "resolved",
            Status::Expired => "expired",
        }
    }

    /// Tells whether the alert is still open (new or acknowledged).
    pub fn is_open(self) -> bool {
        matches!(self, Status::New | Status::Acknowledged)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(text: &str) -> Result<Status, String> {
        Status::ALL.into_iter().find(|status| status.as_str() == text).ok_or_else(|| {
            format!("unknown status {text:?}: expected one of new, acknowledged, resolved, expired")
        })
    }
}

/// The constituency claim an alert matched (none for an outbreak).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Matched {
    /// What kind of claim.
    pub kind: ClaimKind,
    /// The claimed value (a network, an AS `AS64500`, a domain suffix, a country code).
    pub value: String,
}

/// One piece of evidence: which source said what, when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The source that said it.
    pub source: String,
    /// The STIX id of the object that said it (an indicator, a host event, a sighting).
    pub object: String,
    /// Its log entry.
    pub seq: Seq,
    /// When the source says it happened (else when it reached the node).
    pub time: Timestamp,
    /// The source's category, when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// The source's confidence, 0 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u8>,
    /// What the source reported, in a few words (a report type, a malware family, a port).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// A warning addressed to one organisation (or, for an outbreak, the community).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The STIX id, `x-watchfire-alert--<uuid>`, derived from the dedup key and the window.
    pub id: String,
    /// When the alert was raised.
    pub created: Timestamp,
    /// When this version was made.
    pub modified: Timestamp,
    /// The organisation addressed; `None` for an outbreak, which goes to everyone who may see
    /// the observable's indicator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<OrgId>,
    /// Which way the threat touches the organisation.
    pub direction: Direction,
    /// What kind of threat.
    pub category: Category,
    /// The observable at the heart of it.
    pub observable: Observable,
    /// The claim it matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched: Option<Matched>,
    /// The report type of a host event (`scan_rdp`, `sinkhole_http_drone`), when one raised it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// The port concerned, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// How urgent.
    pub severity: Severity,
    /// The highest confidence a source gave, 0 to 100 (`None`: no source gave one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u8>,
    /// The score behind the severity, 0 to 100.
    pub score: u8,
    /// Where it is in its lifecycle.
    pub status: Status,
    /// Who changed the status last (a user's name), and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_by: Option<String>,
    /// A note given with the last status change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_note: Option<String>,
    /// How many reports the alert aggregates.
    pub count: u64,
    /// The distinct sources that reported it, sorted.
    pub sources: Vec<String>,
    /// The first report's time.
    pub first_seen: Timestamp,
    /// The last report's time.
    pub last_seen: Timestamp,
    /// The aggregation window the alert belongs to.
    pub window_start: Timestamp,
    /// The end of the window: reports after it raise a new alert.
    pub window_end: Timestamp,
    /// The dedup key: organisation, observable and category (and direction).
    pub dedup_key: String,
    /// The most recent evidence, oldest first, at most [`MAX_EVIDENCE`].
    pub evidence: Vec<Evidence>,
    /// The last log entry counted in the alert: the engine never counts an entry twice, also
    /// when it reads the log again after a crash.
    pub through_seq: Seq,
    /// The organisations the addressed one shared the alert with (named in its distribution).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_with: Vec<OrgId>,
}

/// An alert that cannot be read back from the log.
#[derive(Debug, thiserror::Error)]
#[error("log entry {seq} ({id}) is not a readable alert: {reason}")]
pub struct BadAlert {
    /// The entry's sequence number.
    pub seq: Seq,
    /// The object's id.
    pub id: String,
    /// Why.
    pub reason: String,
}

impl Alert {
    /// Returns a new alert, counting nothing yet, for `organisation` (`None`: an outbreak) about
    /// `observable` in `category`, in the window from `window_start` to `window_end`, raised at
    /// `now` (also its first and last sighting until reports are counted in); its id and dedup
    /// key are derived, its severity is low with score 0.
    pub fn new(
        organisation: Option<OrgId>,
        direction: Direction,
        category: Category,
        observable: Observable,
        window: (Timestamp, Timestamp),
        now: Timestamp,
    ) -> Alert {
        let dedup_key = Alert::dedup_key(organisation, direction, &observable, category);
        let (window_start, window_end) = window;
        Alert {
            id: Alert::derive_id(&dedup_key, &window_start),
            created: now.clone(),
            modified: now.clone(),
            organisation,
            direction,
            category,
            observable,
            matched: None,
            event_type: None,
            port: None,
            severity: Severity::Low,
            confidence: None,
            score: 0,
            status: Status::New,
            status_by: None,
            status_note: None,
            count: 0,
            sources: Vec::new(),
            first_seen: now.clone(),
            last_seen: now,
            window_start,
            window_end,
            dedup_key,
            evidence: Vec::new(),
            through_seq: 0,
            shared_with: Vec::new(),
        }
    }

    /// Returns the dedup key of an alert for `organisation` about `observable` in `category`.
    pub fn dedup_key(
        organisation: Option<OrgId>,
        direction: Direction,
        observable: &Observable,
        category: Category,
    ) -> String {
        let organisation =
            organisation.map_or_else(|| "community".to_owned(), |org| org.0.to_string());
        format!(
            "{organisation}|{direction}|{}|{}|{category}",
            observable.kind().as_str(),
            observable.value()
        )
    }

    /// Returns the id of the alert with `dedup_key` in the window starting at `window_start`.
    pub fn derive_id(dedup_key: &str, window_start: &Timestamp) -> String {
        let name = format!("{ALERT_TYPE}\0{dedup_key}\0{}", window_start.unix_seconds());
        format!("{ALERT_TYPE}--{}", Uuid::new_v5(&WATCHFIRE_NAMESPACE, name.as_bytes()))
    }

    /// Returns who may see the alert: its organisation alone (AMBER+STRICT, owned by it); for an
    /// outbreak, `outbreak_audience` (that of the indicator sighted).
    pub fn audience(&self, outbreak_audience: Option<&Audience>) -> Audience {
        match (self.organisation, outbreak_audience) {
            (Some(org), _) => Audience {
                owner: Some(org),
                tlp: Tlp::AmberStrict,
                organisations: Vec::new(),
                users: Vec::new(),
                origin: Origin::Local,
            },
            (None, Some(audience)) => audience.clone(),
            (None, None) => Audience::node(Tlp::Green),
        }
    }

    /// Returns the alert as a STIX 2.1 custom object; fails only on an id that is not a STIX id
    /// of type `x-watchfire-alert`, which [`Alert::derive_id`] never makes.
    pub fn to_object(&self) -> Result<StixObject, watchfire_model::stix::Error> {
        let mut properties = Map::new();
        properties.insert("type".into(), ALERT_TYPE.into());
        properties.insert("spec_version".into(), "2.1".into());
        // Serialising plain data with string keys cannot fail.
        if let Ok(Value::Object(fields)) = serde_json::to_value(self) {
            properties.extend(fields);
        }
        StixObject::from_properties(properties)
    }

    /// Reads an alert back from its log entry.
    pub fn from_entry(entry: &Entry) -> Result<Alert, BadAlert> {
        let bad = |reason: String| BadAlert { seq: entry.seq, id: entry.id.clone(), reason };
        if entry.object_type != ALERT_TYPE {
            return Err(bad(format!("it is a {}", entry.object_type)));
        }
        Alert::from_json(&entry.body).map_err(bad)
    }

    /// Reads an alert from the JSON of its STIX object.
    pub fn from_json(json: &str) -> Result<Alert, String> {
        serde_json::from_str(json).map_err(|error| error.to_string())
    }
}
