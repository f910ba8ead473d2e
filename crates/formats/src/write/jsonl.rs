//! JSON lines: one JSON object per record, every record kind, for pipelines (`jq`, log shippers).
//!
//! The schema is stable: each object has `record` first, then every key of its kind in this order,
//! `null` (or `[]`, `{}`) when absent, so consumers can rely on the keys being there.
//!
//! - `indicator`: `kind` (observable kind or `stix-pattern`), `value` (canonical value or pattern),
//!   `category`, `confidence`, `first_seen`, `last_seen`, `valid_until`, `malware`, `port`, `tlp`
//!   (`TLP:AMBER`), `tags`, `references`, `description`.
//! - `event`: `ip`, `port`, `asn`, `country`, `hostname`, `event_type`, `category`, `time`,
//!   `malware`, `tags`, `details` (an object of the report's other columns).
//! - `benign`: `kind`, `value`, `list`.
//! - `feed`: `name`, `provider`, `url`, `format`, `enabled`.
//! - `stix`: `object` (the STIX object as it came).
//!
//! Timestamps are RFC 3339 in UTC, as STIX writes them.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use watchfire_model::record::{Category, Confidence, HostEvent, IndicatorRecord, Record};
use watchfire_model::stix::{StixObject, Timestamp};
use watchfire_model::tlp::Tlp;

use super::{Outcome, SkipReason, Writer, subject_kind, subject_value};

/// Writes one JSON object per line.
#[derive(Debug)]
pub(super) struct JsonlWriter;

#[derive(Serialize)]
#[serde(tag = "record", rename_all = "snake_case")]
enum Line<'a> {
    Indicator {
        kind: &'a str,
        value: String,
        category: Option<Category>,
        confidence: Option<u8>,
        first_seen: Option<&'a Timestamp>,
        last_seen: Option<&'a Timestamp>,
        valid_until: Option<&'a Timestamp>,
        malware: Option<&'a str>,
        port: Option<u16>,
        tlp: Option<&'a str>,
        tags: &'a [String],
        references: &'a [String],
        description: Option<&'a str>,
    },
    Event {
        ip: String,
        port: Option<u16>,
        asn: Option<u32>,
        country: Option<&'a str>,
        hostname: Option<&'a str>,
        event_type: &'a str,
        category: Option<Category>,
        time: Option<&'a Timestamp>,
        malware: Option<&'a str>,
        tags: &'a [String],
        details: &'a BTreeMap<String, String>,
    },
    Benign {
        kind: &'a str,
        value: &'a str,
        list: &'a str,
    },
    Feed {
        name: &'a str,
        provider: &'a str,
        url: &'a str,
        format: &'a str,
        enabled: bool,
    },
    Stix {
        object: &'a StixObject,
    },
}

impl Writer for JsonlWriter {
    fn begin(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }

    fn write(&mut self, out: &mut dyn Write, record: &Record) -> io::Result<Outcome> {
        let line = match record {
            Record::Indicator(indicator) => indicator_line(indicator),
            Record::Event(event) => event_line(event),
            Record::Benign(benign) => Line::Benign {
                kind: benign.observable.kind().as_str(),
                value: benign.observable.value(),
                list: &benign.list,
            },
            Record::Feed(feed) => Line::Feed {
                name: &feed.name,
                provider: &feed.provider,
                url: &feed.url,
                format: &feed.format,
                enabled: feed.enabled,
            },
            Record::Stix(object) => Line::Stix { object },
            _ => return Ok(Outcome::Skipped(SkipReason::Stix)),
        };
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
        Ok(Outcome::Written)
    }

    fn finish(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

fn indicator_line(indicator: &IndicatorRecord) -> Line<'_> {
    Line::Indicator {
        kind: subject_kind(&indicator.subject),
        value: subject_value(&indicator.subject),
        category: indicator.category,
        confidence: indicator.confidence.map(Confidence::get),
        first_seen: indicator.first_seen.as_ref(),
        last_seen: indicator.last_seen.as_ref(),
        valid_until: indicator.valid_until.as_ref(),
        malware: indicator.malware.as_deref(),
        port: indicator.port,
        tlp: indicator.tlp.map(Tlp::as_str),
        tags: &indicator.tags,
        references: &indicator.references,
        description: indicator.description.as_deref(),
    }
}

fn event_line(event: &HostEvent) -> Line<'_> {
    Line::Event {
        ip: event.ip.to_string(),
        port: event.port,
        asn: event.asn,
        country: event.country.as_deref(),
        hostname: event.hostname.as_deref(),
        event_type: &event.event_type,
        category: event.category,
        time: event.time.as_ref(),
        malware: event.malware.as_deref(),
        tags: &event.tags,
        details: &event.details,
    }
}
