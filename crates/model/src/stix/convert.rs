//! From watchfire's canonical observables to STIX: the SCO of an observable with its
//! deterministic id, the STIX pattern that matches it, and an indicator for it.

use serde_json::{Map, Value};

use super::StixObject;
use super::error::{Error, ErrorKind};
use super::id::{StixId, indicator_id, sco_id};
use super::sco::{AutonomousSystem, DomainName, EmailAddr, File, Ipv4Addr, Ipv6Addr, Url};
use super::sdo::Indicator;
use super::timestamp::Timestamp;
use crate::pattern::Pattern;
use crate::{Observable, ObservableKind};

/// Returns the SCO for `observable`, with its deterministic id (STIX 2.1 section 2.9).
///
/// ipv4 and ipv6 become `ipv4-addr`/`ipv6-addr`, a cidr becomes one of them with the CIDR as
/// value, domain `domain-name`, url `url`, email `email-addr`, asn `autonomous-system`, and a
/// hash a `file` whose `hashes` has the one entry `MD5`, `SHA-1`, `SHA-256` or `SHA-512`.
pub fn sco_for_observable(observable: &Observable) -> Result<StixObject, Error> {
    let object_type = sco_type(observable);
    let value = Value::from(observable.value());
    let contributing = match observable.kind() {
        ObservableKind::Asn => {
            Map::from_iter([("number".to_owned(), Value::from(asn_number(observable)?))])
        }
        ObservableKind::Md5
        | ObservableKind::Sha1
        | ObservableKind::Sha256
        | ObservableKind::Sha512 => {
            let algorithm = hash_algorithm(observable.kind()).to_owned();
            let hashes = Map::from_iter([(algorithm, value)]);
            Map::from_iter([("hashes".to_owned(), Value::Object(hashes))])
        }
        ObservableKind::Cidr
        | ObservableKind::Domain
        | ObservableKind::Email
        | ObservableKind::Ipv4
        | ObservableKind::Ipv6
        | ObservableKind::Url => Map::from_iter([("value".to_owned(), value)]),
    };
    let id = sco_id(object_type, &contributing).ok_or_else(|| {
        Error::new(
            ErrorKind::Observable,
            format!("no id for {object_type} {:?}", observable.value()),
        )
    })?;
    let mut properties = Map::new();
    properties.insert("type".to_owned(), Value::from(object_type));
    properties.insert("spec_version".to_owned(), Value::from("2.1"));
    properties.insert("id".to_owned(), Value::from(id.as_str()));
    properties.extend(contributing);
    StixObject::from_properties(properties)
}

/// Returns the STIX pattern that matches `observable` exactly, such as
/// `[ipv4-addr:value = '192.0.2.1']`, `[file:hashes.'SHA-256' = '…']`,
/// `[ipv4-addr:value ISSUBSET '203.0.113.0/24']` or `[autonomous-system:number = 64500]`.
///
/// The pattern module builds it, so an indicator's pattern always parses back to its observable.
pub fn equality_pattern(observable: &Observable) -> String {
    Pattern::from_observable(observable).to_string()
}

impl Indicator {
    /// Builds the indicator that `source` claims `observable` to be, created (and valid from)
    /// `created`, with the deterministic id of [`indicator_id`] and the pattern of
    /// [`equality_pattern`]. Name, types, confidence and markings are left for the caller.
    pub fn for_observable(source: &str, observable: &Observable, created: Timestamp) -> Indicator {
        Indicator::with_pattern(
            indicator_id(source, observable),
            equality_pattern(observable),
            created,
        )
    }

    /// Builds an indicator of a STIX `pattern` with only the required properties set, created and
    /// valid from `created`.
    pub fn with_pattern(id: StixId, pattern: String, created: Timestamp) -> Indicator {
        Indicator {
            spec_version: Some("2.1".to_owned()),
            id,
            created_by_ref: None,
            created: created.clone(),
            modified: created.clone(),
            revoked: None,
            labels: Vec::new(),
            confidence: None,
            lang: None,
            external_references: Vec::new(),
            object_marking_refs: Vec::new(),
            granular_markings: Vec::new(),
            extensions: Map::new(),
            pattern,
            pattern_type: "stix".to_owned(),
            valid_from: created,
            name: None,
            description: None,
            indicator_types: Vec::new(),
            pattern_version: Some("2.1".to_owned()),
            valid_until: None,
            kill_chain_phases: Vec::new(),
            extra: Map::new(),
        }
    }
}

// The SCO type an observable maps to.
fn sco_type(observable: &Observable) -> &'static str {
    match observable.kind() {
        ObservableKind::Asn => AutonomousSystem::TYPE,
        ObservableKind::Cidr if observable.value().contains(':') => Ipv6Addr::TYPE,
        ObservableKind::Cidr | ObservableKind::Ipv4 => Ipv4Addr::TYPE,
        ObservableKind::Ipv6 => Ipv6Addr::TYPE,
        ObservableKind::Domain => DomainName::TYPE,
        ObservableKind::Email => EmailAddr::TYPE,
        ObservableKind::Md5
        | ObservableKind::Sha1
        | ObservableKind::Sha256
        | ObservableKind::Sha512 => File::TYPE,
        ObservableKind::Url => Url::TYPE,
    }
}

// The key of a hash kind in STIX's `hashes` dictionaries (the `hash-algorithm-ov` vocabulary).
fn hash_algorithm(kind: ObservableKind) -> &'static str {
    match kind {
        ObservableKind::Md5 => "MD5",
        ObservableKind::Sha1 => "SHA-1",
        ObservableKind::Sha256 => "SHA-256",
        _ => "SHA-512",
    }
}

fn asn_number(observable: &Observable) -> Result<u32, Error> {
    observable.asn().ok_or_else(|| {
        Error::new(ErrorKind::Observable, format!("bad asn {:?}", observable.value()))
    })
}
