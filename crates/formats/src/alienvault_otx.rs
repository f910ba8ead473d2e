//! AlienVault OTX pulses (format `alienvault-otx`): the `/api/v1/pulses/subscribed` response
//! (`{"results": [...], "next": ...}`) or the flat pulse list the OTX SDK's `getall()` writes.
//!
//! Pulses are streamed one at a time (each at most
//! [`MAX_ELEMENT`](crate::json_stream::MAX_ELEMENT) bytes); rejects name the line where the
//! pulse starts. Each active indicator whose type names an observable becomes an indicator
//! record: `IPv4`, `IPv6`, `CIDR`, `domain`, `hostname`, `URL`, `URI` (when it is a whole URL;
//! OTX also files bare paths such as `/woolen/` as URIs, which are skipped), `email`,
//! `FileHash-MD5`, `-SHA1`, `-SHA256`, `-SHA512`. `CVE` indicators become tags (`CVE-2012-0158`)
//! of the pulse's records; other types (`YARA`, `Mutex`, `FilePath`, ...) are skipped. An
//! indicator with `is_active: 0` is skipped.
//!
//! Fields: category malicious (a pulse reports malicious activity; its tags describe the whole
//! campaign, so a `spearphishing` tag does not make each of its C2 addresses phishing);
//! `first_seen` is the indicator's `created` and `valid_until` its `expiration` (OTX writes ISO
//! times without a zone, read as UTC); tags are the pulse's tags; references are the pulse's
//! `references` that are URLs plus the pulse's own page; the TLP is the pulse's `TLP`/`tlp`
//! (`white` is CLEAR); malware is the first of `malware_families`; the description is the
//! indicator's own, else the pulse's name.

use std::io::BufRead;

use serde::Deserialize;
use serde_json::Value;
use watchfire_model::record::{Category, IndicatorRecord, Record};
use watchfire_model::tlp::Tlp;
use watchfire_model::{Observable, ObservableKind};

use crate::json_stream::{self, Piece, SplitError, Splitter};
use crate::{Context, Error, Format, Item, time};

/// The format this module reads.
pub const FORMATS: &[Format] = &[Format {
    name: "alienvault-otx",
    summary: "AlienVault OTX subscribed pulses (JSON, with indicators)",
    read,
    detect: Some(detect),
}];

fn detect(head: &[u8], _file_name: &str) -> bool {
    json_stream::head_has_key(head, "indicators")
        && json_stream::head_has_key(head, "author_name")
        && (json_stream::head_has_key(head, "results")
            || json_stream::first_byte(head) == Some(b'['))
}

#[derive(Deserialize)]
struct Pulse {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default, alias = "tlp", rename = "TLP")]
    tlp: Option<String>,
    #[serde(default)]
    malware_families: Vec<Value>,
    #[serde(default)]
    indicators: Vec<OtxIndicator>,
}

#[derive(Deserialize)]
struct OtxIndicator {
    indicator: String,
    #[serde(rename = "type")]
    indicator_type: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    expiration: Option<String>,
    #[serde(default)]
    is_active: Option<Value>,
}

fn read(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    let mut splitter = Splitter::new(input, &["results"]);
    loop {
        let (line, bytes) = match splitter.next_piece() {
            Ok(None) => return Ok(()),
            Ok(Some(Piece::Element { line, bytes, .. })) => (line, bytes),
            Ok(Some(Piece::Property { .. })) => continue,
            Ok(Some(Piece::Reject { line, reason })) => {
                on_item(context.reject(line, reason));
                continue;
            }
            Err(SplitError::Io(error)) => return Err(Error::io(&context.file, error)),
            Err(SplitError::Broken { line, reason }) => {
                on_item(context.reject(line, reason));
                return Ok(());
            }
        };
        match serde_json::from_slice::<Pulse>(bytes) {
            Ok(pulse) => read_pulse(context, on_item, line, &pulse),
            Err(error) => on_item(context.reject(line, format!("pulse: {error}"))),
        }
    }
}

fn read_pulse(context: &Context, on_item: &mut dyn FnMut(Item), line: u64, pulse: &Pulse) {
    let pulse_id = match &pulse.id {
        Some(Value::String(id)) => id.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let mut tags = pulse.tags.clone();
    tags.extend(
        pulse
            .indicators
            .iter()
            .filter(|indicator| indicator.indicator_type == "CVE")
            .map(|indicator| indicator.indicator.clone()),
    );
    let mut references: Vec<String> = pulse
        .references
        .iter()
        .filter(|reference| reference.starts_with("http"))
        .cloned()
        .collect();
    if !pulse_id.is_empty() {
        references.push(format!("https://otx.alienvault.com/pulse/{pulse_id}"));
    }
    let malware = pulse.malware_families.iter().find_map(|family| match family {
        Value::String(name) => Some(name.clone()),
        Value::Object(object) => {
            object.get("display_name").and_then(Value::as_str).map(str::to_owned)
        }
        _ => None,
    });
    let tlp = pulse.tlp.as_deref().and_then(Tlp::from_level_name);
    for (index, indicator) in pulse.indicators.iter().enumerate() {
        let is_inactive = matches!(&indicator.is_active, Some(Value::Number(n)) if n.as_u64() == Some(0))
            || indicator.is_active == Some(Value::Bool(false));
        if is_inactive {
            continue;
        }
        let kind = match indicator.indicator_type.as_str() {
            "IPv4" => ObservableKind::Ipv4,
            "IPv6" => ObservableKind::Ipv6,
            "CIDR" => ObservableKind::Cidr,
            "domain" | "hostname" => ObservableKind::Domain,
            "URL" => ObservableKind::Url,
            "URI" if indicator.indicator.contains("://") => ObservableKind::Url,
            "email" => ObservableKind::Email,
            "FileHash-MD5" => ObservableKind::Md5,
            "FileHash-SHA1" => ObservableKind::Sha1,
            "FileHash-SHA256" => ObservableKind::Sha256,
            "FileHash-SHA512" => ObservableKind::Sha512,
            _ => continue,
        };
        let observable = match Observable::parse_as(kind, &indicator.indicator) {
            Ok(observable) => observable,
            Err(error) => {
                let reason = format!(
                    "pulse {pulse_id} indicator {} ({}): {error}",
                    index + 1,
                    indicator.indicator_type
                );
                on_item(context.reject(line, reason));
                continue;
            }
        };
        let timestamp =
            |text: &Option<String>| text.as_deref().and_then(|text| time::parse(text).ok());
        let description = indicator
            .description
            .as_deref()
            .filter(|text| !text.trim().is_empty())
            .or(pulse.name.as_deref());
        let record = IndicatorRecord {
            category: Some(Category::Malicious),
            first_seen: timestamp(&indicator.created),
            valid_until: timestamp(&indicator.expiration),
            malware: malware.clone(),
            tags: tags.clone(),
            references: references.clone(),
            tlp,
            description: description.map(str::to_owned),
            ..IndicatorRecord::new(observable)
        };
        on_item(Item::Record(Record::Indicator(record)));
    }
}
