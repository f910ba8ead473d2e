//! From parsed records to facts for the store, the way `watchfire import` stores a feed.
//!
//! - An indicator becomes a STIX `indicator` (through the same `StixConverter` as the STIX
//!   export), plus the malware family and the `indicates` relationship when the record names one.
//!   It is marked with its TLP: the record's own, else the import's `--tlp`.
//! - A STIX object is stored as it came, at the TLP of its markings, else the import's.
//! - A host event becomes an `x-watchfire-host-event` object and a warninglist entry an
//!   `x-watchfire-benign` object (STIX 2.1 custom objects), with ids derived from their content,
//!   so the same row imported twice is one object.
//! - A feed definition (a catalogue entry) is no fact and is not stored.
//!
//! Who may see the facts: the node's own data by default (`Audience::node`); an organisation's
//! upload is owned by it and shared as it says ([`Ingest::with_audience`]). The TLP of each fact
//! is the record's own, else the import's default. The producer identity and the TLP marking
//! definitions are public (CLEAR) whoever imports.
//!
//! When a record has no time of its own, its objects are created at the import time and the
//! fact says so (`times_made_up`): the store then compares content only, and re-importing the
//! same list adds no version. Such an object is emitted once per import: a list that names the
//! same value twice yields its first entry.

use std::collections::HashSet;

use serde_json::{Map, Value, json};
use uuid::Uuid;
use watchfire_formats::write::{StixConverter, WriteOptions};
use watchfire_model::policy::Audience;
use watchfire_model::record::{BenignRecord, HostEvent, IndicatorRecord, Record};
use watchfire_model::stix::{
    MarkingDefinition, Precision, StixId, StixObject, Timestamp, WATCHFIRE_NAMESPACE,
};
use watchfire_model::tlp::Tlp;
use watchfire_store::Fact;
use xxhash_rust::xxh3::{Xxh3DefaultBuilder, xxh3_64};

/// Turns the records of one import into facts.
#[derive(Debug)]
pub struct Ingest {
    converter: StixConverter,
    source: String,
    default_tlp: Tlp,
    /// The owner and distribution of every fact; its `tlp` is replaced per fact.
    audience: Audience,
    now: Timestamp,
    /// Which levels of `Tlp::ALL` have had their marking definition emitted.
    markings: [bool; 5],
    identity_emitted: bool,
    /// Whether the last record was a STIX indicator: the indicator records a STIX reader hands
    /// out right after it are the same claims, already stored with the object.
    after_stix_indicator: bool,
    /// Hashes of the ids of objects with made-up times emitted so far: a list naming a value
    /// twice yields its first entry only, so that re-importing the list finds it unchanged
    /// (two entries would take turns as the current version).
    made_up_ids: HashSet<u64, Xxh3DefaultBuilder>,
}

impl Ingest {
    /// Returns the converter of an import from `source` at `now`, with `default_tlp` for records
    /// that carry none.
    pub fn new(source: &str, default_tlp: Tlp, now: &Timestamp) -> Ingest {
        let now = now.with_precision(Precision::Millis);
        Ingest {
            converter: StixConverter::new(WriteOptions::new(source, now.clone())),
            source: source.to_owned(),
            default_tlp,
            audience: Audience::node(default_tlp),
            now,
            markings: [false; 5],
            identity_emitted: false,
            after_stix_indicator: false,
            made_up_ids: HashSet::with_hasher(Xxh3DefaultBuilder),
        }
    }

    /// Makes every fact owned and shared as `audience` says (its TLP is replaced by each
    /// record's own, else the import's default).
    pub fn with_audience(mut self, audience: Audience) -> Ingest {
        self.audience = audience;
        self
    }

    fn audience(&self, tlp: Tlp) -> Audience {
        Audience { tlp, ..self.audience.clone() }
    }

    /// Appends the facts of `record` to `out`; returns false for a record that is not stored.
    pub fn facts(&mut self, record: &Record, out: &mut Vec<Fact>) -> bool {
        let after_stix_indicator = std::mem::take(&mut self.after_stix_indicator);
        match record {
            // Derived from the STIX indicator just stored: storing it again would make a second
            // indicator (with watchfire's id) of the same claim.
            Record::Indicator(_) if after_stix_indicator => self.after_stix_indicator = true,
            Record::Indicator(indicator) => self.indicator(indicator, out),
            Record::Stix(object) => {
                let refs = object.object_marking_refs().iter().map(StixId::as_str);
                let tlp = Tlp::from_marking_refs(refs).unwrap_or(self.default_tlp);
                let mut fact = Fact::object(&self.source, self.audience(tlp), (**object).clone());
                if let StixObject::Indicator(indicator) = &**object {
                    // The category the reader gives its indicator records (labels first).
                    fact.category = watchfire_formats::stix::category(
                        &indicator.labels,
                        &indicator.indicator_types,
                    );
                    self.after_stix_indicator = true;
                }
                out.push(fact);
            }
            Record::Event(event) => {
                let tlp = self.default_tlp;
                let (object, made_up) = self.event_object(event);
                self.push(out, self.audience(tlp), object, made_up);
            }
            Record::Benign(benign) => {
                let tlp = self.default_tlp;
                let object = self.benign_object(benign);
                self.push(out, self.audience(tlp), object, true);
            }
            _ => return false,
        }
        true
    }

    fn indicator(&mut self, record: &IndicatorRecord, out: &mut Vec<Fact>) {
        let tlp = record.tlp.unwrap_or(self.default_tlp);
        self.emit_shared(out, tlp);
        let made_up = record.first_seen.is_none() && record.last_seen.is_none();
        let mut indicator = self.converter.indicator(record);
        if made_up && !self.first_time(indicator.id.as_str()) {
            return;
        }
        indicator.object_marking_refs = vec![marking_id(tlp)];
        let related = record.malware.as_deref().map(|malware| {
            let (family_id, family) = self.converter.family(malware);
            (family, self.converter.indicates(&indicator, &family_id))
        });
        let mut fact =
            Fact::object(&self.source, self.audience(tlp), StixObject::Indicator(indicator));
        fact.category = record.category;
        fact.times_made_up = made_up;
        out.push(fact);
        if let Some((family, relationship)) = related {
            // The family has fixed times; the relationship is as old as its indicator.
            self.push(out, self.audience(tlp), family, false);
            self.push(out, self.audience(tlp), relationship, made_up);
        }
    }

    // The producer's identity once per import, and each TLP marking definition once.
    fn emit_shared(&mut self, out: &mut Vec<Fact>, tlp: Tlp) {
        if !self.identity_emitted {
            self.identity_emitted = true;
            let identity = self.converter.identity();
            self.push(out, Audience::node(Tlp::Clear), identity, false);
        }
        let slot = Tlp::ALL.iter().position(|level| *level == tlp).unwrap_or(0);
        if !self.markings[slot] {
            self.markings[slot] = true;
            let marking = StixObject::MarkingDefinition(MarkingDefinition::for_tlp(tlp));
            out.push(Fact::object(&self.source, Audience::node(Tlp::Clear), marking));
        }
    }

    // Tells whether `id` is new to this import.
    fn first_time(&mut self, id: &str) -> bool {
        self.made_up_ids.insert(xxh3_64(id.as_bytes()))
    }

    fn push(&mut self, out: &mut Vec<Fact>, audience: Audience, object: Value, made_up: bool) {
        let Value::Object(properties) = object else {
            return;
        };
        if made_up
            && !properties.get("id").and_then(Value::as_str).is_some_and(|id| self.first_time(id))
        {
            return;
        }
        // Cannot fail for the objects built in this module and the converter: they are checked
        // by the tests; a failure would drop one derived object, never a record silently.
        if let Ok(object) = StixObject::from_properties(properties) {
            let mut fact = Fact::object(&self.source, audience, object);
            fact.times_made_up = made_up;
            out.push(fact);
        }
    }

    fn event_object(&self, event: &HostEvent) -> (Value, bool) {
        let time = event.time.as_ref().map(|time| time.with_precision(Precision::Millis));
        let made_up = time.is_none();
        let time = time.unwrap_or_else(|| self.now.clone());
        let port = event.port.map(|port| port.to_string()).unwrap_or_default();
        let id = derived_id(
            "x-watchfire-host-event",
            &[&self.source, &event.ip.to_string(), &port, &event.event_type, time.as_str()],
        );
        let mut object = Map::new();
        object.insert("type".into(), "x-watchfire-host-event".into());
        object.insert("spec_version".into(), "2.1".into());
        object.insert("id".into(), id.into());
        object.insert("created".into(), time.as_str().into());
        object.insert("modified".into(), time.as_str().into());
        object.insert("ip".into(), event.ip.to_string().into());
        object.insert("event_type".into(), event.event_type.clone().into());
        if let Some(port) = event.port {
            object.insert("port".into(), port.into());
        }
        if let Some(asn) = event.asn {
            object.insert("asn".into(), asn.into());
        }
        if let Some(country) = &event.country {
            object.insert("country".into(), country.clone().into());
        }
        if let Some(hostname) = &event.hostname {
            object.insert("hostname".into(), hostname.clone().into());
        }
        if let Some(category) = event.category {
            object.insert("category".into(), category.as_str().into());
        }
        if let Some(malware) = &event.malware {
            object.insert("malware".into(), malware.clone().into());
        }
        if !event.tags.is_empty() {
            object.insert("labels".into(), json!(event.tags));
        }
        if !event.details.is_empty() {
            object.insert("details".into(), json!(event.details));
        }
        (Value::Object(object), made_up)
    }

    fn benign_object(&self, benign: &BenignRecord) -> Value {
        let observable = &benign.observable;
        let id = derived_id(
            "x-watchfire-benign",
            &[&benign.list, observable.kind().as_str(), observable.value()],
        );
        json!({
            "type": "x-watchfire-benign",
            "spec_version": "2.1",
            "id": id,
            "created": self.now.as_str(),
            "modified": self.now.as_str(),
            "list": benign.list,
            "kind": observable.kind().as_str(),
            "value": observable.value(),
        })
    }
}

/// The id of a custom object: a UUIDv5 in watchfire's namespace over the NUL-joined `parts`.
fn derived_id(object_type: &str, parts: &[&str]) -> String {
    let uuid = Uuid::new_v5(&WATCHFIRE_NAMESPACE, parts.join("\0").as_bytes());
    format!("{object_type}--{uuid}")
}

fn marking_id(tlp: Tlp) -> StixId {
    // Cannot fail: the TLP 2.0 marking ids in `model::tlp` are valid STIX ids.
    StixId::parse(tlp.marking_id()).expect("fixed TLP marking ids are valid")
}
