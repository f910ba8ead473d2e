//! A STIX 2.1 bundle (STIX 2.1 section 8): an `identity` for the producer, an `indicator` per
//! indicator record, a `malware` family with an `indicates` relationship when the record names
//! one, the TLP 2.0 `marking-definition` of each level used, and STIX records as they came.
//!
//! The bundle is written as it goes, one object per line: `{"type":"bundle",...,"objects":[`,
//! then each object, then `]}`. STIX does not order a bundle, so a marking definition or a
//! malware family is written right after the first object that refers to it. The writer remembers
//! which of the five TLP levels and which malware family names it has written: the first is
//! bounded by five, the second by the number of families in the export, not by its records.
//!
//! Ids are deterministic, so exporting the same claims twice yields the same objects: indicators
//! use `watchfire_model::stix::indicator_id` (a pattern subject: the same UUIDv5 scheme over
//! `source NUL stix-pattern NUL pattern`), the identity, families and relationships UUIDv5s of
//! their names. An indicator is `created` (and valid from) its first sighting (else its last one), or the export time
//! when the source gave none; `modified` is the last sighting when later. A `valid_until` that is
//! not after `valid_from` (which STIX forbids) is left out. Timestamps are written to the
//! millisecond, as STIX 2.1 asks of `created` and `modified`. The record's port has no place in an
//! indicator of one observable and is left out.

use std::collections::BTreeSet;
use std::io::{self, Write};

use serde_json::{Value, json};
use uuid::Uuid;
use watchfire_model::record::{Category, Confidence, IndicatorRecord, Record, Subject};
use watchfire_model::stix::{
    ExternalReference, Indicator, MarkingDefinition, Precision, StixId, StixObject,
    WATCHFIRE_NAMESPACE,
};
use watchfire_model::tlp::Tlp;

use super::{Outcome, SkipReason, WriteOptions, Writer};

/// The `created` of the objects watchfire defines once for all exports (the producer identity,
/// malware families): a fixed time, so every export carries the same version of them.
const FIXED_CREATED: &str = "2020-01-01T00:00:00.000Z";

/// Turns indicator records into STIX objects the way every export and the store do: the
/// indicator, and for a named malware family the family and the `indicates` relationship.
#[derive(Clone, Debug)]
pub struct StixConverter {
    options: WriteOptions,
    identity_id: StixId,
}

/// Writes a STIX 2.1 bundle.
#[derive(Debug)]
pub(super) struct StixWriter {
    converter: StixConverter,
    /// Which levels of `Tlp::ALL` have had their marking definition written.
    markings_written: [bool; 5],
    /// The lower-cased names of the malware families written.
    families_written: BTreeSet<String>,
}

impl StixConverter {
    /// Returns a converter for objects produced by `options.source`, with `options.created` as the
    /// `created` of records without a first sighting.
    pub fn new(options: WriteOptions) -> StixConverter {
        let identity_id = stix_id("identity", &["identity", &options.source]);
        StixConverter { options, identity_id }
    }

    /// Returns the `identity` of the producer, which every object names as `created_by_ref`.
    pub fn identity(&self) -> Value {
        json!({
            "type": "identity",
            "spec_version": "2.1",
            "id": self.identity_id,
            "created": FIXED_CREATED,
            "modified": FIXED_CREATED,
            "name": self.options.source,
            "identity_class": "organization",
        })
    }

    /// Returns the malware family `name` (its id depends on the lower-cased name only).
    pub fn family(&self, name: &str) -> (StixId, Value) {
        let id = stix_id("malware", &["malware", &name.to_lowercase()]);
        let family = json!({
            "type": "malware",
            "spec_version": "2.1",
            "id": id,
            "created_by_ref": self.identity_id,
            "created": FIXED_CREATED,
            "modified": FIXED_CREATED,
            "name": name,
            "is_family": true,
        });
        (id, family)
    }

    /// Returns the relationship "`indicator` indicates `family_id`", with the indicator's markings.
    pub fn indicates(&self, indicator: &Indicator, family_id: &StixId) -> Value {
        let relationship_id =
            stix_id("relationship", &[indicator.id.as_str(), "indicates", family_id.as_str()]);
        let mut relationship = json!({
            "type": "relationship",
            "spec_version": "2.1",
            "id": relationship_id,
            "created_by_ref": self.identity_id,
            "created": indicator.created,
            "modified": indicator.created,
            "relationship_type": "indicates",
            "source_ref": indicator.id,
            "target_ref": family_id,
        });
        if !indicator.object_marking_refs.is_empty() {
            relationship["object_marking_refs"] = json!(indicator.object_marking_refs);
        }
        relationship
    }

    /// Returns the STIX indicator of `record` (see the module doc for ids and times).
    pub fn indicator(&self, record: &IndicatorRecord) -> Indicator {
        // STIX 2.1 section 3.2: `created` and `modified` are precise to the millisecond.
        let created = record
            .first_seen
            .as_ref()
            .or(record.last_seen.as_ref())
            .unwrap_or(&self.options.created);
        let created = created.with_precision(Precision::Millis);
        let mut indicator = match &record.subject {
            Subject::Observable(observable) => {
                Indicator::for_observable(&self.options.source, observable, created.clone())
            }
            Subject::Pattern(pattern) => {
                let text = pattern.to_string();
                let id = stix_id("indicator", &[&self.options.source, "stix-pattern", &text]);
                Indicator::with_pattern(id, text, created.clone())
            }
        };
        if let Some(last_seen) = &record.last_seen
            && last_seen.unix_nanos() > created.unix_nanos()
        {
            indicator.modified = last_seen.with_precision(Precision::Millis);
        }
        indicator.valid_until = record
            .valid_until
            .as_ref()
            .filter(|until| until.unix_nanos() > indicator.valid_from.unix_nanos())
            .map(|until| until.with_precision(Precision::Millis));
        indicator.created_by_ref = Some(self.identity_id.clone());
        indicator.name = Some(match &record.subject {
            Subject::Observable(observable) => observable.value().to_owned(),
            Subject::Pattern(_) => format!("{} pattern", super::category_name(record)),
        });
        // STIX asks for both a name and a description (best practice 303): without the source's
        // own words, say what the indicator is and who lists it.
        let kind = super::subject_kind(&record.subject);
        indicator.description = Some(record.description.clone().unwrap_or_else(|| {
            format!("{} {kind} listed by {}", super::category_name(record), self.options.source)
        }));
        indicator.indicator_types = record.category.map(indicator_type).into_iter().collect();
        indicator.labels = record.tags.clone();
        indicator.confidence = record.confidence.map(Confidence::get);
        indicator.external_references = record
            .references
            .iter()
            .map(|url| ExternalReference {
                source_name: self.options.source.clone(),
                description: None,
                url: Some(url.clone()),
                hashes: None,
                external_id: None,
                extra: serde_json::Map::new(),
            })
            .collect();
        indicator.object_marking_refs = record.tlp.map(tlp_marking_id).into_iter().collect();
        indicator
    }
}

impl StixWriter {
    pub(super) fn new(options: WriteOptions) -> StixWriter {
        StixWriter {
            converter: StixConverter::new(options),
            markings_written: [false; 5],
            families_written: BTreeSet::new(),
        }
    }

    // Writes the marking definition of `tlp` unless it was written before.
    fn write_marking(&mut self, out: &mut dyn Write, tlp: Tlp) -> io::Result<()> {
        let slot = tlp_slot(tlp);
        if self.markings_written[slot] {
            return Ok(());
        }
        self.markings_written[slot] = true;
        write_object(out, &StixObject::MarkingDefinition(MarkingDefinition::for_tlp(tlp)))
    }

    // Writes the family `name` unless written before, and returns its id.
    fn write_family(&mut self, out: &mut dyn Write, name: &str) -> io::Result<StixId> {
        let (id, family) = self.converter.family(name);
        if self.families_written.insert(name.to_lowercase()) {
            write_value(out, &family)?;
        }
        Ok(id)
    }

    fn write_indicator(&mut self, out: &mut dyn Write, record: &IndicatorRecord) -> io::Result<()> {
        let indicator = self.converter.indicator(record);
        let relationship = match &record.malware {
            Some(malware) => {
                let (family_id, _) = self.converter.family(malware);
                Some((malware, self.converter.indicates(&indicator, &family_id)))
            }
            None => None,
        };
        write_object(out, &StixObject::Indicator(indicator))?;
        if let Some(tlp) = record.tlp {
            self.write_marking(out, tlp)?;
        }
        let Some((malware, relationship)) = relationship else {
            return Ok(());
        };
        self.write_family(out, malware)?;
        write_value(out, &relationship)
    }

    fn write_stix(&mut self, out: &mut dyn Write, object: &StixObject) -> io::Result<Outcome> {
        if let StixObject::MarkingDefinition(marking) = object
            && let Some(tlp) =
                Tlp::ALL.into_iter().find(|tlp| tlp.marking_id() == marking.id.as_str())
        {
            // A standard TLP 2.0 definition: the bundle holds it once, whoever writes it first.
            let slot = tlp_slot(tlp);
            if self.markings_written[slot] {
                return Ok(Outcome::Skipped(SkipReason::Duplicate));
            }
            self.markings_written[slot] = true;
        }
        write_object(out, object)?;
        let tlp2_refs = object.object_marking_refs().iter().filter_map(|marking_ref| {
            Tlp::ALL.into_iter().find(|tlp| tlp.marking_id() == marking_ref.as_str())
        });
        for tlp in tlp2_refs.collect::<Vec<_>>() {
            self.write_marking(out, tlp)?;
        }
        Ok(Outcome::Written)
    }
}

impl Writer for StixWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let options = &self.converter.options;
        let created = options.created.to_string();
        let bundle_id = stix_id("bundle", &["bundle", &options.source, &created]);
        writeln!(out, "{{\"type\":\"bundle\",\"id\":\"{bundle_id}\",\"objects\":[")?;
        serde_json::to_writer(&mut *out, &self.converter.identity())?;
        Ok(())
    }

    fn write(&mut self, out: &mut dyn Write, record: &Record) -> io::Result<Outcome> {
        match record {
            Record::Indicator(indicator) => {
                self.write_indicator(out, indicator)?;
                Ok(Outcome::Written)
            }
            Record::Stix(object) => self.write_stix(out, object),
            Record::Benign(_) => Ok(Outcome::Skipped(SkipReason::Benign)),
            Record::Event(_) => Ok(Outcome::Skipped(SkipReason::Event)),
            Record::Feed(_) => Ok(Outcome::Skipped(SkipReason::Feed)),
            _ => Ok(Outcome::Skipped(SkipReason::Stix)),
        }
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"\n]}\n")
    }
}

// Objects after the identity each start on a new line after a comma.
fn write_object(out: &mut dyn Write, object: &StixObject) -> io::Result<()> {
    out.write_all(b",\n")?;
    serde_json::to_writer(&mut *out, object)?;
    Ok(())
}

fn write_value(out: &mut dyn Write, object: &Value) -> io::Result<()> {
    out.write_all(b",\n")?;
    serde_json::to_writer(&mut *out, object)?;
    Ok(())
}

/// A deterministic id: a UUIDv5 in watchfire's namespace over the NUL-joined `parts`.
fn stix_id(object_type: &str, parts: &[&str]) -> StixId {
    let uuid = Uuid::new_v5(&WATCHFIRE_NAMESPACE, parts.join("\0").as_bytes());
    // Cannot fail: every caller passes a fixed, valid STIX type name.
    StixId::new(object_type, uuid).expect("fixed object types are valid")
}

fn tlp_slot(tlp: Tlp) -> usize {
    Tlp::ALL.iter().position(|level| *level == tlp).unwrap_or(0)
}

fn tlp_marking_id(tlp: Tlp) -> StixId {
    // Cannot fail: the TLP 2.0 marking ids in `model::tlp` are valid STIX ids.
    StixId::parse(tlp.marking_id()).expect("fixed TLP marking ids are valid")
}

/// The `indicator-type-ov` term (STIX 2.1 section 10.12) of a category.
fn indicator_type(category: Category) -> String {
    let term = match category {
        Category::TorExit => "anonymization",
        Category::Compromised | Category::Infected => "compromised",
        Category::Bogon | Category::Exposed | Category::Vulnerable => "anomalous-activity",
        _ => "malicious-activity",
    };
    term.to_owned()
}
