//! What a feed says, normalised: indicators (a source's claim that an observable is malicious),
//! host events (a report about one host, such as a Shadowserver row), known-benign entries
//! (warninglists), feed definitions (catalogues), and STIX objects kept as they came.
//!
//! `formats` parsers produce these, writers consume them, and the store turns them into STIX
//! objects on the log. They carry no source name or owner: the importer adds those.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::observable::Observable;
use crate::pattern::Pattern;
use crate::stix::{StixObject, Timestamp};
use crate::tlp::Tlp;

/// One normalised item of a feed.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// A value a warninglist calls known-benign (so a hit on it is likely a false positive).
    Benign(BenignRecord),
    /// A report about one host of a constituency.
    Event(HostEvent),
    /// A feed that a catalogue describes.
    Feed(FeedDefinition),
    /// A claim that an observable or a pattern is malicious.
    Indicator(IndicatorRecord),
    /// A STIX object kept as it came (reports, malware, relationships, ...), for STIX and MISP inputs.
    Stix(Box<StixObject>),
}

impl Record {
    /// Returns the record's kind name as the CLI counts it (`indicator`, `event`, ...).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Record::Benign(_) => "benign",
            Record::Event(_) => "event",
            Record::Feed(_) => "feed",
            Record::Indicator(_) => "indicator",
            Record::Stix(_) => "stix",
        }
    }
}

/// What an indicator is about: one canonical observable, or a STIX pattern that is not one.
#[derive(Clone, Debug, PartialEq)]
pub enum Subject {
    /// One canonical observable.
    Observable(Observable),
    /// A STIX pattern (for example a JA3 fingerprint or a combination of observables).
    Pattern(Pattern),
}

/// A source's claim that an observable (or a pattern) is malicious.
#[derive(Clone, Debug, PartialEq)]
pub struct IndicatorRecord {
    /// What the claim is about.
    pub subject: Subject,
    /// What kind of threat.
    pub category: Option<Category>,
    /// How sure the source is, 0 to 100.
    pub confidence: Option<Confidence>,
    /// When the source first saw it.
    pub first_seen: Option<Timestamp>,
    /// When the source last saw it.
    pub last_seen: Option<Timestamp>,
    /// Until when the claim holds.
    pub valid_until: Option<Timestamp>,
    /// The malware family, as the source names it (`Emotet`, `win.qakbot`).
    pub malware: Option<String>,
    /// A port the threat uses with the observable (a C2 `ip:port`).
    pub port: Option<u16>,
    /// Free tags of the source.
    pub tags: Vec<String>,
    /// Links to reports or the source's own page about it.
    pub references: Vec<String>,
    /// The TLP the source gave, when it gave one.
    pub tlp: Option<Tlp>,
    /// A short description.
    pub description: Option<String>,
}

impl IndicatorRecord {
    /// Returns a claim about `observable` with nothing else known yet.
    pub fn new(observable: Observable) -> IndicatorRecord {
        IndicatorRecord::for_subject(Subject::Observable(observable))
    }

    /// Returns a claim about `subject` with nothing else known yet.
    pub fn for_subject(subject: Subject) -> IndicatorRecord {
        IndicatorRecord {
            subject,
            category: None,
            confidence: None,
            first_seen: None,
            last_seen: None,
            valid_until: None,
            malware: None,
            port: None,
            tags: Vec::new(),
            references: Vec::new(),
            tlp: None,
            description: None,
        }
    }

    /// Returns the observable, when the subject is one.
    pub fn observable(&self) -> Option<&Observable> {
        match &self.subject {
            Subject::Observable(observable) => Some(observable),
            Subject::Pattern(_) => None,
        }
    }
}

/// A report about one host: infected, scanning, vulnerable, exposing a service.
#[derive(Clone, Debug, PartialEq)]
pub struct HostEvent {
    /// The host's address.
    pub ip: IpAddr,
    /// The port concerned.
    pub port: Option<u16>,
    /// The autonomous system the address belongs to, when the report says.
    pub asn: Option<u32>,
    /// The ISO 3166-1 alpha-2 country code in upper case, when the report says.
    pub country: Option<String>,
    /// The host's name, when the report says.
    pub hostname: Option<String>,
    /// What happened, in the report's own terms made stable: `scan_rdp`, `sinkhole_http`, `honeypot_brute_force`.
    pub event_type: String,
    /// What kind of threat it is, for alert playbooks.
    pub category: Option<Category>,
    /// When it was observed.
    pub time: Option<Timestamp>,
    /// The malware family, for infections.
    pub malware: Option<String>,
    /// Free tags of the report.
    pub tags: Vec<String>,
    /// Every other non-empty column of the report, by column name.
    pub details: BTreeMap<String, String>,
}

/// A value that a warninglist calls known-benign.
#[derive(Clone, Debug, PartialEq)]
pub struct BenignRecord {
    /// The value.
    pub observable: Observable,
    /// The list that says so (`List of RFC 1918 CIDR blocks`).
    pub list: String,
}

/// A feed as a catalogue describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedDefinition {
    /// The feed's name.
    pub name: String,
    /// Who publishes it.
    pub provider: String,
    /// Where it is fetched from.
    pub url: String,
    /// The format name the `formats` crate reads it with.
    pub format: String,
    /// Whether the catalogue had it enabled.
    #[serde(default)]
    pub enabled: bool,
}

/// How sure a source is, 0 to 100 (STIX `confidence`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Confidence(u8);

impl Confidence {
    /// Returns the confidence if `value` is at most 100.
    pub fn new(value: u8) -> Option<Confidence> {
        (value <= 100).then_some(Confidence(value))
    }

    /// Returns the value, 0 to 100.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Confidence {
    type Error = String;

    fn try_from(value: u8) -> Result<Confidence, String> {
        Confidence::new(value).ok_or_else(|| format!("confidence {value} is over 100"))
    }
}

impl From<Confidence> for u8 {
    fn from(confidence: Confidence) -> u8 {
        confidence.0
    }
}

/// How far a source is trusted, as the reliability letter of the Admiralty code (NATO
/// AJP-2.1): A completely reliable, B usually reliable, C fairly reliable, D not usually reliable,
/// E unreliable, F reliability cannot be judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Reliability {
    /// Completely reliable.
    A,
    /// Usually reliable.
    B,
    /// Fairly reliable.
    C,
    /// Not usually reliable.
    D,
    /// Unreliable.
    E,
    /// Reliability cannot be judged.
    F,
}

impl Reliability {
    /// Returns the reliability on a 0 to 100 scale (A 100, B 80, C 60, D 40, E 20), or `None`
    /// for F (cannot be judged), which counts as a source nobody rated.
    pub fn score(self) -> Option<u8> {
        match self {
            Reliability::A => Some(100),
            Reliability::B => Some(80),
            Reliability::C => Some(60),
            Reliability::D => Some(40),
            Reliability::E => Some(20),
            Reliability::F => None,
        }
    }
}

impl FromStr for Reliability {
    type Err = String;

    fn from_str(text: &str) -> Result<Reliability, String> {
        match text.trim().to_ascii_uppercase().as_str() {
            "A" => Ok(Reliability::A),
            "B" => Ok(Reliability::B),
            "C" => Ok(Reliability::C),
            "D" => Ok(Reliability::D),
            "E" => Ok(Reliability::E),
            "F" => Ok(Reliability::F),
            _ => Err(format!(
                "unknown reliability {text:?}: expected a letter A to F (Admiralty code)"
            )),
        }
    }
}

/// What kind of threat a record is about. The names are stable: alerts, playbooks and exports use them.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// A network that should never be routed (bogons, hijacked space).
    Bogon,
    /// A botnet command-and-control server.
    BotnetC2,
    /// A source of brute-force log-in attempts.
    BruteForce,
    /// A compromised (hacked, defaced) site or host.
    Compromised,
    /// A host that can be abused for DDoS amplification or reflection.
    DdosAmplifier,
    /// A domain from a domain-generation algorithm.
    Dga,
    /// A service that should not be exposed to the internet.
    Exposed,
    /// An infected host (a bot, seen through a sinkhole or otherwise).
    Infected,
    /// Malicious without a more precise category.
    Malicious,
    /// A host or URL that distributes malware.
    MalwareDistribution,
    /// A phishing site.
    Phishing,
    /// A host that scans the internet or attacks services.
    Scanner,
    /// A source of spam.
    Spam,
    /// A Tor exit node.
    TorExit,
    /// A vulnerable service.
    Vulnerable,
}

impl Category {
    /// Every category, in alphabetical order.
    pub const ALL: [Category; 15] = [
        Category::Bogon,
        Category::BotnetC2,
        Category::BruteForce,
        Category::Compromised,
        Category::DdosAmplifier,
        Category::Dga,
        Category::Exposed,
        Category::Infected,
        Category::Malicious,
        Category::MalwareDistribution,
        Category::Phishing,
        Category::Scanner,
        Category::Spam,
        Category::TorExit,
        Category::Vulnerable,
    ];

    /// Returns the stable snake_case name, `botnet_c2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Bogon => "bogon",
            Category::BotnetC2 => "botnet_c2",
            Category::BruteForce => "brute_force",
            Category::Compromised => "compromised",
            Category::DdosAmplifier => "ddos_amplifier",
            Category::Dga => "dga",
            Category::Exposed => "exposed",
            Category::Infected => "infected",
            Category::Malicious => "malicious",
            Category::MalwareDistribution => "malware_distribution",
            Category::Phishing => "phishing",
            Category::Scanner => "scanner",
            Category::Spam => "spam",
            Category::TorExit => "tor_exit",
            Category::Vulnerable => "vulnerable",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a name that is no [`Category`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown category {0:?}")]
pub struct UnknownCategory(pub String);

impl FromStr for Category {
    type Err = UnknownCategory;

    fn from_str(text: &str) -> Result<Category, UnknownCategory> {
        Category::ALL
            .into_iter()
            .find(|category| category.as_str() == text)
            .ok_or_else(|| UnknownCategory(text.to_owned()))
    }
}

impl Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Category {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Category, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_names_round_trip() {
        for category in Category::ALL {
            assert_eq!(category.as_str().parse::<Category>(), Ok(category));
        }
        assert!("c2".parse::<Category>().is_err());
        assert_eq!(serde_json::to_string(&Category::BotnetC2).unwrap(), r#""botnet_c2""#);
    }

    #[test]
    fn confidence_is_at_most_100() {
        assert_eq!(Confidence::new(100).map(Confidence::get), Some(100));
        assert_eq!(Confidence::new(101), None);
        assert!(serde_json::from_str::<Confidence>("101").is_err());
    }
}
