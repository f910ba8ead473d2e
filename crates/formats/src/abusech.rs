//! abuse.ch feeds: URLhaus, Feodo Tracker, ThreatFox, SSL Blacklist, and the discontinued Feodo
//! domain, ZeuS and Ransomware Tracker lists.
//!
//! The CSV and list formats are built-in [`csvmap`](crate::csvmap) mappings
//! (`crates/formats/mappings/abusech-*.toml`, which say per feed what they handle); the API and
//! JSON formats are read here, whole with the [`json_elements`](crate::json_elements) cap.
//!
//! Categories the feeds imply: URLhaus = `malware_distribution`, Feodo Tracker, SSLBL and ZeuS =
//! `botnet_c2`, ThreatFox by `threat_type` (`botnet_cc` = `botnet_c2`, `payload_delivery` =
//! `malware_distribution`, others `malicious`), JA3 = `malicious`.
//!
//! Quirks handled:
//! - URLhaus CSV: the header is a comment line; `tags` is a comma list in one quoted cell, `None`
//!   meaning none; older dumps lack `last_online`; a bare row without banner reads by position.
//! - URLhaus API: `id` is a string, times end in ` UTC`, `tags` may be `null`.
//! - Feodo CSV: an uncommented quoted header row and a `# END` footer; Feodo JSON: `first_seen`
//!   may be missing and `hostname` `null`.
//! - ThreatFox CSV: `", "` separators, `None` and `""` for no value, `ip:port` values; the API:
//!   escaped slashes, `null` for `last_seen`, `reference`, `malware_alias`, `ip:port` values.
//! - SSLBL: the subject is `[x509-certificate:hashes.'SHA-1' = '...']`, since the SHA1 is a
//!   certificate fingerprint and not a file hash; the JA3 list gives
//!   `[network-traffic:extensions.'x-ja3'.md5 = '...']` (STIX has no JA3 property) tagged `ja3`.

use std::io::BufRead;

use memchr::memmem;
use serde_json::Value;
use watchfire_model::observable::Observable;
use watchfire_model::record::{Category, Confidence, IndicatorRecord, Record};

use crate::csvmap::{mapping_reader, split_port};
use crate::json_elements::for_each_element;
use crate::{Context, Error, Format, Item, time};

/// The abuse.ch formats.
pub const FORMATS: &[Format] = &[
    Format {
        name: "abusech-urlhaus",
        summary: "abuse.ch URLhaus CSV dump (recent, online, full) or legacy per-TLD CSV",
        read: read_urlhaus,
        detect: Some(detect_urlhaus),
    },
    Format {
        name: "abusech-urlhaus-hostfile",
        summary: "abuse.ch URLhaus hosts file (127.0.0.1<TAB>host)",
        read: read_urlhaus_hostfile,
        detect: Some(|head, _| has(head, b"# abuse.ch URLhaus Host file")),
    },
    Format {
        name: "abusech-urlhaus-api",
        summary: "abuse.ch URLhaus API urls/recent JSON response",
        read: read_urlhaus_api,
        detect: Some(|head, _| {
            has(head, b"\"query_status\"") && has(head, b"\"urls\"") && has(head, b"\"url_status\"")
        }),
    },
    Format {
        name: "abusech-feodotracker",
        summary: "abuse.ch Feodo Tracker botnet C2 IP blocklist (CSV)",
        read: read_feodotracker,
        detect: Some(|head, _| {
            has(head, b"Feodo Tracker Botnet C2 IP Blocklist (CSV)")
                || has(head, b"\"first_seen_utc\",\"dst_ip\"")
        }),
    },
    Format {
        name: "abusech-feodotracker-json",
        summary: "abuse.ch Feodo Tracker botnet C2 IP blocklist (JSON array)",
        read: read_feodotracker_json,
        detect: Some(|head, _| {
            head.trim_ascii_start().starts_with(b"[")
                && has(head, b"\"ip_address\"")
                && has(head, b"\"as_number\"")
                && has(head, b"\"malware\"")
        }),
    },
    Format {
        name: "abusech-threatfox",
        summary: "abuse.ch ThreatFox IOC CSV export (full or recent)",
        read: read_threatfox,
        detect: Some(|head, _| has(head, b"# ThreatFox IOCs") && has(head, b"CSV format")),
    },
    Format {
        name: "abusech-threatfox-api",
        summary: "abuse.ch ThreatFox API get_iocs JSON response",
        read: read_threatfox_api,
        detect: Some(|head, _| {
            has(head, b"\"query_status\"")
                && has(head, b"\"ioc_type\"")
                && has(head, b"\"threat_type\"")
        }),
    },
    Format {
        name: "abusech-sslbl",
        summary: "abuse.ch SSL Blacklist of certificate SHA1 fingerprints (CSV)",
        read: read_sslbl,
        detect: Some(|head, _| {
            has(head, b"SSLBL SSL Certificate Blacklist")
                || has(head, b"# Listingdate,SHA1,Listingreason")
        }),
    },
    Format {
        name: "abusech-sslbl-ja3",
        summary: "abuse.ch SSLBL JA3 fingerprint blacklist (CSV)",
        read: read_sslbl_ja3,
        detect: Some(|head, _| {
            has(head, b"JA3 Fingerprint Blacklist") || has(head, b"# ja3_md5,Firstseen,Lastseen")
        }),
    },
    Format {
        name: "abusech-feodo-domains",
        summary: "abuse.ch Feodo Tracker domain blocklist (discontinued)",
        read: read_feodo_domains,
        detect: Some(|head, _| has(head, b"# Feodo Domain Blocklist")),
    },
    Format {
        name: "abusech-zeus-ips",
        summary: "abuse.ch ZeuS Tracker IP blocklist (discontinued)",
        read: read_zeus_ips,
        detect: Some(|head, _| has(head, b"# abuse.ch ZeuS IP blocklist")),
    },
    Format {
        name: "abusech-ransomwaretracker",
        summary: "abuse.ch Ransomware Tracker CSV feed (discontinued)",
        read: read_ransomwaretracker,
        detect: Some(|head, _| has(head, b"# Ransomware Tracker CSV Feed")),
    },
];

mapping_reader!(read_urlhaus, "abusech-urlhaus");
mapping_reader!(read_urlhaus_hostfile, "abusech-urlhaus-hostfile");
mapping_reader!(read_feodotracker, "abusech-feodotracker");
mapping_reader!(read_threatfox, "abusech-threatfox");
mapping_reader!(read_sslbl, "abusech-sslbl");
mapping_reader!(read_sslbl_ja3, "abusech-sslbl-ja3");
mapping_reader!(read_feodo_domains, "abusech-feodo-domains");
mapping_reader!(read_zeus_ips, "abusech-zeus-ips");
mapping_reader!(read_ransomwaretracker, "abusech-ransomwaretracker");

/// Whether `head` contains `needle`.
pub(crate) fn has(head: &[u8], needle: &[u8]) -> bool {
    memmem::find(head, needle).is_some()
}

/// URLhaus: the dump banner, the TLD feed banner, or a bare row linking a URLhaus entry.
fn detect_urlhaus(head: &[u8], _file_name: &str) -> bool {
    has(head, b"# abuse.ch URLhaus Database Dump")
        || has(head, b"# URLhaus TLD CSV Feed")
        || (head.starts_with(b"\"") && has(head, b"\",\"https://urlhaus.abuse.ch/url/"))
}

fn read_urlhaus_api(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    for_each_element(input, context, Some("urls"), on_item, &mut |_, element| {
        let url = string(element, "url")?.ok_or("missing \"url\"")?;
        let observable = Observable::parse_as(watchfire_model::ObservableKind::Url, url)
            .map_err(|error| format!("\"url\": {error}"))?;
        let mut record = IndicatorRecord::new(observable);
        record.category = Some(match string(element, "threat")? {
            Some("malware_download") | None => Category::MalwareDistribution,
            Some(_) => Category::Malicious,
        });
        record.first_seen = timestamp(element, "date_added")?;
        record.tags = string_list(element, "tags")?;
        record.references.extend(string(element, "urlhaus_reference")?.map(str::to_owned));
        Ok(Item::Record(Record::Indicator(record)))
    })
}

fn read_feodotracker_json(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    for_each_element(input, context, None, on_item, &mut |_, element| {
        let address = string(element, "ip_address")?.ok_or("missing \"ip_address\"")?;
        let observable =
            Observable::parse(address).map_err(|error| format!("\"ip_address\": {error}"))?;
        let mut record = IndicatorRecord::new(observable);
        record.category = Some(Category::BotnetC2);
        record.port = port(element, "port")?;
        record.first_seen = timestamp(element, "first_seen")?;
        record.last_seen = timestamp(element, "last_online")?;
        record.malware = string(element, "malware")?.map(str::to_owned);
        Ok(Item::Record(Record::Indicator(record)))
    })
}

fn read_threatfox_api(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    for_each_element(input, context, Some("data"), on_item, &mut |_, element| {
        let ioc = string(element, "ioc")?.ok_or("missing \"ioc\"")?;
        let (value, split) = match string(element, "ioc_type")? {
            Some("ip:port") => split_port(ioc),
            _ => (ioc, None),
        };
        let observable = Observable::parse(value).map_err(|error| format!("\"ioc\": {error}"))?;
        let mut record = IndicatorRecord::new(observable);
        record.port = split;
        record.category = Some(match string(element, "threat_type")? {
            Some("botnet_cc") => Category::BotnetC2,
            Some("payload_delivery") => Category::MalwareDistribution,
            _ => Category::Malicious,
        });
        record.malware = string(element, "malware_printable")?
            .filter(|name| *name != "Unknown malware")
            .map(str::to_owned);
        record.confidence = match element.get("confidence_level") {
            None | Some(Value::Null) => None,
            Some(level) => Some(
                level
                    .as_u64()
                    .and_then(|level| u8::try_from(level).ok())
                    .and_then(Confidence::new)
                    .ok_or_else(|| format!("\"confidence_level\": bad confidence {level}"))?,
            ),
        };
        record.first_seen = timestamp(element, "first_seen")?;
        record.last_seen = timestamp(element, "last_seen")?;
        record.tags = string_list(element, "tags")?;
        record.references.extend(string(element, "reference")?.map(str::to_owned));
        record.references.extend(string(element, "malware_malpedia")?.map(str::to_owned));
        Ok(Item::Record(Record::Indicator(record)))
    })
}

/// Returns a string member; `null`, absent and empty are `None`, other types an error.
pub(crate) fn string<'a>(element: &'a Value, key: &str) -> Result<Option<&'a str>, String> {
    match element.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.trim())),
        Some(_) if !element.is_object() => Err("element is not an object".to_owned()),
        Some(other) => Err(format!("{key:?}: expected a string, got {other}")),
    }
}

fn timestamp(
    element: &Value,
    key: &str,
) -> Result<Option<watchfire_model::stix::Timestamp>, String> {
    match string(element, key)? {
        Some(text) => time::parse(text).map(Some).map_err(|reason| format!("{key:?}: {reason}")),
        None => Ok(None),
    }
}

fn port(element: &Value, key: &str) -> Result<Option<u16>, String> {
    match element.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => number
            .as_u64()
            .and_then(|number| u16::try_from(number).ok())
            .map(Some)
            .ok_or_else(|| format!("{key:?}: bad port {number}")),
        Some(Value::String(text)) => {
            text.trim().parse().map(Some).map_err(|_| format!("{key:?}: bad port {text:?}"))
        }
        Some(other) => Err(format!("{key:?}: bad port {other}")),
    }
}

fn string_list(element: &Value, key: &str) -> Result<Vec<String>, String> {
    match element.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => Ok(text.trim().to_owned()),
                other => Err(format!("{key:?}: expected strings, got {other}")),
            })
            .filter(|tag| tag.as_ref().map_or(true, |tag| !tag.is_empty()))
            .collect(),
        Some(other) => Err(format!("{key:?}: expected an array, got {other}")),
    }
}
