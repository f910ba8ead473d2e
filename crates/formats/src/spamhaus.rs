//! Spamhaus: the DROP family (DROP, EDROP, DROPv6, ASN-DROP) as text and as NDJSON, and the
//! CERT Insight portal export of a constituency's infected or abusive hosts.
//!
//! DROP ("Don't Route Or Peer") lists networks hijacked or run by criminals, so every entry is
//! category `bogon` (the category for space that should not be routed). Quirks handled:
//! - Text lists: `;` comments; `CIDR ; SBLnnnnnn` entries (the SBL id becomes a tag); ASN-DROP's
//!   `AS260 ; AE | name` (the country may be empty; name and country go to the description).
//!   The header's `Last-Modified` becomes each entry's `last_seen` and `Expires` its
//!   `valid_until`: the list is a snapshot that holds until then. The EDROP tombstone (only
//!   comments) reads as no records; a missing final newline is fine.
//! - NDJSON (`drop_v4.json`, `drop_v6.json`, `asndrop.json`): one object a line with `cidr` and
//!   `sblid` (or `asn`, `cc`, `asname`); the trailing `{"type":"metadata",...}` line is skipped.
//! - CERT export: a report about the CERT's own hosts, so each row is a [`HostEvent`], not an
//!   indicator. `lastseen` is epoch seconds; `-` and `?` mean unknown; the `domain` column may
//!   hold an IP, an `ip:port` or a URL and goes to `details` as written. `event_type` is the bot
//!   name; the category comes from it (log-in attempts `brute_force`, scans `scanner`, spam
//!   `spam`, open relays `vulnerable`, open proxies `exposed`), and any other name is a malware
//!   family, so the host is `infected` with that `malware`.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::net::IpAddr;

use serde_json::Value;
use watchfire_model::observable::{Observable, ObservableKind};
use watchfire_model::record::{Category, HostEvent, IndicatorRecord, Record};
use watchfire_model::stix::Timestamp;

use crate::abusech::has;
use crate::input::for_each_line;
use crate::{Context, Error, Format, Item, time};

/// The Spamhaus formats.
pub const FORMATS: &[Format] = &[
    Format {
        name: "spamhaus-drop",
        summary: "Spamhaus DROP, EDROP, DROPv6 or ASN-DROP text list",
        read: read_drop,
        detect: Some(detect_drop),
    },
    Format {
        name: "spamhaus-drop-json",
        summary: "Spamhaus DROP or ASN-DROP NDJSON (drop_v4.json, drop_v6.json, asndrop.json)",
        read: read_drop_json,
        detect: Some(|head, _| {
            (head.starts_with(b"{\"cidr\":") && has(head, b"\"sblid\""))
                || (head.starts_with(b"{\"asn\":") && has(head, b"\"asname\""))
        }),
    },
    Format {
        name: "spamhaus-cert",
        summary: "Spamhaus CERT Insight portal export of a constituency's hosts",
        read: read_cert,
        detect: Some(|head, _| {
            has(head, b"; ip, asn, country, lastseen, botname")
                || (head.starts_with(b"; Bots filtered by") && has(head, b"Spamhaus"))
        }),
    },
];

fn detect_drop(head: &[u8], _file_name: &str) -> bool {
    let first_line = head.split(|byte| *byte == b'\n').next().unwrap_or_default();
    let is_banner = first_line.starts_with(b"; Spamhaus ") && has(first_line, b"DROP List");
    is_banner
        || first_line
            .starts_with(b"; This list has been merged into https://www.spamhaus.org/drop/")
}

fn read_drop(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    let mut last_modified = None;
    let mut expires = None;
    for_each_line(input, context, on_item, &mut |number, text, on_item| {
        let text = text.trim();
        if let Some(comment) = text.strip_prefix(';') {
            let comment = comment.trim();
            if let Some(date) = comment.strip_prefix("Last-Modified:") {
                last_modified = http_date(date.trim());
            } else if let Some(date) = comment.strip_prefix("Expires:") {
                expires = http_date(date.trim());
            }
            return;
        }
        if text.is_empty() {
            return;
        }
        let (entry, rest) = match text.split_once(';') {
            Some((entry, rest)) => (entry.trim(), rest.trim()),
            None => (text, ""),
        };
        let is_asn = entry.get(..2).is_some_and(|prefix| prefix.eq_ignore_ascii_case("AS"));
        let kind = if is_asn { ObservableKind::Asn } else { ObservableKind::Cidr };
        let observable = match Observable::parse_as(kind, entry) {
            Ok(observable) => observable,
            Err(error) => {
                on_item(context.reject(number, format!("entry: {error}")));
                return;
            }
        };
        let mut record = IndicatorRecord::new(observable);
        record.category = Some(Category::Bogon);
        record.last_seen = last_modified.clone();
        record.valid_until = expires.clone();
        match is_asn {
            true => {
                let (country, name) = rest.split_once('|').unwrap_or(("", rest));
                let (country, name) = (country.trim(), name.trim());
                record.description = match (name.is_empty(), country.is_empty()) {
                    (true, true) => None,
                    (false, true) => Some(name.to_owned()),
                    (true, false) => Some(country.to_owned()),
                    (false, false) => Some(format!("{name} ({country})")),
                };
            }
            false => record.tags.extend((!rest.is_empty()).then(|| rest.to_owned())),
        }
        on_item(Item::Record(Record::Indicator(record)));
    })
}

/// Parses an HTTP date, `Mon, 14 Sep 2015 04:39:22 GMT`.
fn http_date(text: &str) -> Option<Timestamp> {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let mut parts = text.split_whitespace();
    let _weekday = parts.next()?;
    let day = parts.next()?;
    let month = parts.next()?;
    let year = parts.next()?;
    let clock = parts.next()?;
    let month = MONTHS.iter().position(|name| name.eq_ignore_ascii_case(month))? + 1;
    time::parse(&format!("{year}-{month:02}-{day:0>2} {clock}")).ok()
}

fn read_drop_json(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    for_each_line(input, context, on_item, &mut |number, text, on_item| {
        if text.trim().is_empty() {
            return;
        }
        match drop_json_record(text) {
            Ok(Some(record)) => on_item(Item::Record(Record::Indicator(record))),
            Ok(None) => {}
            Err(reason) => on_item(context.reject(number, reason)),
        }
    })
}

fn drop_json_record(text: &str) -> Result<Option<IndicatorRecord>, String> {
    let object: Value = serde_json::from_str(text).map_err(|error| format!("bad JSON: {error}"))?;
    if !object.is_object() {
        return Err("line is not a JSON object".to_owned());
    }
    if object.get("type").and_then(Value::as_str) == Some("metadata") {
        return Ok(None);
    }
    let text_of = |key: &str| object.get(key).and_then(Value::as_str).map(str::trim);
    let observable = match (object.get("cidr"), object.get("asn")) {
        (Some(cidr), _) => {
            let cidr = cidr.as_str().ok_or("\"cidr\": expected a string")?;
            Observable::parse_as(ObservableKind::Cidr, cidr)
                .map_err(|error| format!("\"cidr\": {error}"))?
        }
        (None, Some(asn)) => {
            let number = match asn {
                Value::Number(number) => {
                    number.as_u64().and_then(|number| u32::try_from(number).ok())
                }
                Value::String(text) => text.trim().trim_start_matches("AS").parse().ok(),
                _ => None,
            };
            Observable::from_asn(number.ok_or_else(|| format!("\"asn\": bad asn {asn}"))?)
        }
        (None, None) => return Err("no \"cidr\" or \"asn\"".to_owned()),
    };
    let mut record = IndicatorRecord::new(observable);
    record.category = Some(Category::Bogon);
    record.tags.extend(text_of("sblid").filter(|id| !id.is_empty()).map(str::to_owned));
    record.description = match (text_of("asname"), text_of("cc")) {
        (Some(name), Some(country)) if !country.is_empty() => Some(format!("{name} ({country})")),
        (Some(name), _) => Some(name.to_owned()),
        _ => None,
    };
    Ok(Some(record))
}

/// The CERT export's columns, in order; a header comment may name more.
const CERT_COLUMNS: [&str; 10] = [
    "ip",
    "asn",
    "country",
    "lastseen",
    "botname",
    "domain",
    "remote_ip",
    "remote_port",
    "local_port",
    "protocol",
];

fn read_cert(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    let mut names: Vec<String> = CERT_COLUMNS.iter().map(|name| (*name).to_owned()).collect();
    for_each_line(input, context, on_item, &mut |number, text, on_item| {
        let text = text.trim();
        if let Some(comment) = text.strip_prefix(';') {
            if comment.trim_start().starts_with("ip, asn,") {
                names = comment.split(',').map(|name| name.trim().to_owned()).collect();
            }
            return;
        }
        if text.is_empty() {
            return;
        }
        let cells: Vec<&str> = text.split(',').map(str::trim).collect();
        match cert_event(&names, &cells) {
            Ok(event) => on_item(Item::Record(Record::Event(event))),
            Err(reason) => on_item(context.reject(number, reason)),
        }
    })
}

fn cert_event(names: &[String], cells: &[&str]) -> Result<HostEvent, String> {
    if cells.len() < 5 {
        return Err(format!("row has {} columns, expected at least 5", cells.len()));
    }
    let known = |index: usize| {
        cells.get(index).copied().filter(|cell| !cell.is_empty() && *cell != "-" && *cell != "?")
    };
    let ip: IpAddr =
        cells[0].parse().map_err(|_| format!("column 1 (ip): bad ip {:?}", cells[0]))?;
    let asn = match known(1) {
        Some(text) => Some(
            text.trim_start_matches("AS")
                .parse::<u32>()
                .map_err(|_| format!("column 2 (asn): bad asn {text:?}"))?,
        ),
        None => None,
    };
    let time = match known(3) {
        Some(text) => {
            Some(time::parse(text).map_err(|reason| format!("column 4 (lastseen): {reason}"))?)
        }
        None => None,
    };
    let botname = known(4).ok_or("column 5 (botname): empty")?.to_lowercase();
    let port = match known(7) {
        Some(text) => Some(
            text.parse::<u16>()
                .map_err(|_| format!("column 8 (remote_port): bad port {text:?}"))?,
        ),
        None => None,
    };
    let category = match botname.as_str() {
        "sshauth" | "telnetauth" | "smtpauth" | "imap" | "iotrdp" | "w_wplogin" => {
            Category::BruteForce
        }
        "wpscanner" | "iotscan" => Category::Scanner,
        "l_spamlink" | "extortion" | "authspoofbadehlo" => Category::Spam,
        "openrelay" => Category::Vulnerable,
        "proxyget" => Category::Exposed,
        "misc" => Category::Malicious,
        _ => Category::Infected,
    };
    let mut details = BTreeMap::new();
    // Column 8 (remote_port) is the event's port; the others are kept as written.
    for index in (5..cells.len()).filter(|index| *index != 7) {
        if let Some(cell) = known(index) {
            let name = names.get(index).cloned().unwrap_or_else(|| format!("column_{}", index + 1));
            details.insert(name, cell.to_owned());
        }
    }
    Ok(HostEvent {
        ip,
        port,
        asn,
        country: known(2).map(str::to_uppercase),
        hostname: None,
        malware: (category == Category::Infected).then(|| botname.clone()),
        event_type: botname,
        category: Some(category),
        time,
        tags: Vec::new(),
        details,
    })
}
