//! One MISP event in the MISP core format (the JSON of `GET /events/view`, which MISP imports
//! and PyMISP's `MISPEvent.load` reads): an attribute per indicator record, with the MISP type and
//! category of its kind, `to_ids`, the record's TLP as a `tlp:` tag, its category and malware
//! family as `watchfire:` machine tags, and its references as `link` attributes.
//!
//! Streaming: the event's own keys come first, then `Attribute` as records arrive, then the
//! event's `Tag` (JSON objects are unordered): the event carries the strictest TLP of its
//! attributes, so the writer remembers one TLP level across the records and nothing else.
//!
//! Types: an address is `ip-dst`, or `ip-src` for a source of attacks (scanner, brute force, spam,
//! amplifier, infected host), `ip-dst|port`/`ip-src|port` when the record has a port; a CIDR the
//! same type (MISP takes networks in `ip-*`); `domain`, `url`, `email-src`, `md5` to `sha512`,
//! `AS` (not for IDS, as MISP's default says), and a STIX pattern `stix2-pattern`. Attribute
//! uuids are the deterministic STIX indicator uuids, the event uuid a UUIDv5 of source and time.

use std::io::{self, Write};

use serde_json::{Value, json};
use uuid::Uuid;
use watchfire_model::ObservableKind;
use watchfire_model::record::{Category, IndicatorRecord, Record, Subject};
use watchfire_model::stix::{WATCHFIRE_NAMESPACE, indicator_id};
use watchfire_model::tlp::Tlp;

use super::{Outcome, WriteOptions, Writer, indicator_of};

/// Writes one MISP event.
#[derive(Debug)]
pub(super) struct MispWriter {
    options: WriteOptions,
    n_attributes: u64,
    strictest_tlp: Option<Tlp>,
}

impl MispWriter {
    pub(super) fn new(options: WriteOptions) -> MispWriter {
        MispWriter { options, n_attributes: 0, strictest_tlp: None }
    }

    fn write_attribute(&mut self, out: &mut dyn Write, attribute: &Value) -> io::Result<()> {
        if self.n_attributes > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"\n")?;
        serde_json::to_writer(&mut *out, attribute)?;
        self.n_attributes += 1;
        Ok(())
    }

    fn write_indicator(&mut self, out: &mut dyn Write, record: &IndicatorRecord) -> io::Result<()> {
        let timestamp = self.options.created.unix_seconds().to_string();
        let (uuid, misp_type, category, value, to_ids) = match &record.subject {
            Subject::Observable(observable) => {
                let uuid = indicator_id(&self.options.source, observable).uuid();
                let (misp_type, category, to_ids) = misp_type(observable.kind(), record);
                let value = match record.port {
                    Some(port) if misp_type.ends_with("|port") => {
                        format!("{}|{port}", observable.value())
                    }
                    _ => observable.value().to_owned(),
                };
                (uuid, misp_type, category, value, to_ids)
            }
            Subject::Pattern(pattern) => {
                let text = pattern.to_string();
                let name = [self.options.source.as_str(), "stix-pattern", &text].join("\0");
                let uuid = Uuid::new_v5(&WATCHFIRE_NAMESPACE, name.as_bytes());
                (uuid, "stix2-pattern", "Network activity", text, true)
            }
        };
        let mut tags = Vec::new();
        if let Some(tlp) = record.tlp {
            tags.push(json!({"name": tlp.misp_tag()}));
            self.strictest_tlp = self.strictest_tlp.max(Some(tlp));
        }
        if let Some(category) = record.category {
            tags.push(json!({"name": format!("watchfire:category=\"{category}\"")}));
        }
        if let Some(malware) = &record.malware {
            tags.push(
                json!({"name": format!("watchfire:malware=\"{}\"", malware.replace('"', "'"))}),
            );
        }
        tags.extend(record.tags.iter().map(|tag| json!({"name": tag})));
        let mut attribute = json!({
            "uuid": uuid.to_string(),
            "type": misp_type,
            "category": category,
            "value": value,
            "to_ids": to_ids,
            "timestamp": timestamp,
            "comment": record.description.clone().unwrap_or_default(),
        });
        if let Some(first_seen) = &record.first_seen {
            attribute["first_seen"] = json!(first_seen);
        }
        if let Some(last_seen) = &record.last_seen {
            attribute["last_seen"] = json!(last_seen);
        }
        if !tags.is_empty() {
            attribute["Tag"] = Value::Array(tags);
        }
        self.write_attribute(out, &attribute)?;
        for reference in &record.references {
            let name = [uuid.to_string().as_str(), "link", reference].join("\0");
            let link = json!({
                "uuid": Uuid::new_v5(&WATCHFIRE_NAMESPACE, name.as_bytes()).to_string(),
                "type": "link",
                "category": "External analysis",
                "value": reference,
                "to_ids": false,
                "timestamp": timestamp,
                "comment": "",
            });
            self.write_attribute(out, &link)?;
        }
        Ok(())
    }
}

impl Writer for MispWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let created = &self.options.created;
        let name = ["misp-event", &self.options.source, created.as_str()].join("\0");
        let head = json!({
            "uuid": Uuid::new_v5(&WATCHFIRE_NAMESPACE, name.as_bytes()).to_string(),
            "info": format!("watchfire export from {}", self.options.source),
            "date": created.as_str().get(..10).unwrap_or("1970-01-01"),
            "timestamp": created.unix_seconds().to_string(),
            "published": false,
            "analysis": "2",
            "threat_level_id": "4",
            "Orgc": {"name": self.options.source},
        });
        // The head object without its closing brace, so `Attribute` and `Tag` can follow.
        let head = head.to_string();
        let head = head.strip_suffix('}').unwrap_or(&head);
        write!(out, "{{\"Event\":{head},\"Attribute\":[")
    }

    fn write(&mut self, out: &mut dyn Write, record: &Record) -> io::Result<Outcome> {
        match indicator_of(record) {
            Ok(indicator) => {
                self.write_indicator(out, indicator)?;
                Ok(Outcome::Written)
            }
            Err(reason) => Ok(Outcome::Skipped(reason)),
        }
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let tags: Vec<Value> =
            self.strictest_tlp.map(|tlp| json!({"name": tlp.misp_tag()})).into_iter().collect();
        write!(out, "\n],\"Tag\":{}}}}}\n", Value::Array(tags))
    }
}

/// The MISP type, category and `to_ids` of an observable kind (MISP's `describeTypes.json`).
fn misp_type(kind: ObservableKind, record: &IndicatorRecord) -> (&'static str, &'static str, bool) {
    let is_attack_source = matches!(
        record.category,
        Some(
            Category::BruteForce
                | Category::DdosAmplifier
                | Category::Infected
                | Category::Scanner
                | Category::Spam
        )
    );
    let has_port = record.port.is_some();
    match kind {
        ObservableKind::Ipv4 | ObservableKind::Ipv6 => match (is_attack_source, has_port) {
            (true, true) => ("ip-src|port", "Network activity", true),
            (true, false) => ("ip-src", "Network activity", true),
            (false, true) => ("ip-dst|port", "Network activity", true),
            (false, false) => ("ip-dst", "Network activity", true),
        },
        ObservableKind::Cidr if is_attack_source => ("ip-src", "Network activity", true),
        ObservableKind::Cidr => ("ip-dst", "Network activity", true),
        ObservableKind::Domain => ("domain", "Network activity", true),
        ObservableKind::Url => ("url", "Network activity", true),
        ObservableKind::Email => ("email-src", "Payload delivery", true),
        ObservableKind::Md5 => ("md5", "Payload delivery", true),
        ObservableKind::Sha1 => ("sha1", "Payload delivery", true),
        ObservableKind::Sha256 => ("sha256", "Payload delivery", true),
        ObservableKind::Sha512 => ("sha512", "Payload delivery", true),
        ObservableKind::Asn => ("AS", "Network activity", false),
        // `ObservableKind` is non-exhaustive; a new kind is sent as text until mapped.
        _ => ("text", "Other", false),
    }
}
