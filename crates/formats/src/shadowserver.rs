//! Shadowserver CSV reports: one row per host of the receiving constituency, read into
//! [`HostEvent`]s (and, for `malware_url`, into indicators too).
//!
//! # Report types
//!
//! The report type comes from the input's file name when the name holds a known report name
//! (`scan_rdp.csv`, `2019-09-04-scan_rdp-at-geo.csv`; the longest known name wins, so
//! `event4_sinkhole_http` is not read as `event4_sinkhole`). Otherwise it comes from the header's
//! column set (the first report in the table below whose signature columns are all present), so
//! a renamed file still works. The `event4_*` reports share most of their columns, so a header
//! with only the shared ones (`src_ip`, `dst_ip`, `infection`, ...) is taken as `event4_sinkhole`,
//! and `event6_sinkhole_http` is recognised as its IPv4 twin (both are `sinkhole_http`). An input
//! whose type is neither named nor recognised fails as a whole, listing the known types.
//!
//! | report | `event_type` | category | signature columns |
//! |---|---|---|---|
//! | `scan_ssl` | `scan_ssl` | `vulnerable` (the report is about weak TLS set-ups) | `cipher_suite`, `ssl_poodle` |
//! | `scan_rdp` | `scan_rdp` | `exposed`; `vulnerable` when `bluekeep_vulnerable` or `cve20190708_vulnerable` is `Y` | `rdp_protocol` |
//! | `scan_smb` | `scan_smb` | `exposed` | `smbv1_support` |
//! | `scan_ntp` | `scan_ntp` | `ddos_amplifier` | `clk_wander`, `refid` |
//! | `scan_dns` | `scan_dns` | `ddos_amplifier` (open resolver) | `dns_version`, `min_amplification` |
//! | `scan_http` | `scan_http` | `exposed` | `http_reason`, `www_authenticate` |
//! | `scan_telnet` | `scan_telnet` | `exposed` | `ip`, `protocol`, `banner` |
//! | `device_id` | `device_id` | none (it identifies a device, it claims no threat) | `ip`, `device_vendor`, `device_model` |
//! | `blocklist` | `blocklist` | `malicious` | `ip`, `source`, `reason` |
//! | `compromised_website` | `compromised_website` | `compromised` | `detected_since`, `redirect_target` |
//! | `malware_url` | `malware_url` | `malware_distribution` | `url`, `sha256` |
//! | `event4_honeypot_brute_force` | `honeypot_brute_force` | `brute_force` | `src_ip`, `username`, `password` |
//! | `event4_ip_spoofer` | `ip_spoofer` | `vulnerable` (the network lets spoofed packets out) | `src_ip`, `routedspoof` |
//! | `event4_sinkhole_http`, `event6_sinkhole_http` | `sinkhole_http` | `infected` | `src_ip`, `http_url` |
//! | `event4_sinkhole_dns` | `sinkhole_dns` | `infected` | `src_ip`, `query_type`, `query` |
//! | `event4_sinkhole`, `event6_sinkhole` | `sinkhole` | `infected` | `src_ip`, `dst_ip`, `infection` |
//!
//! # Columns
//!
//! `timestamp` is the event's time; `ip`/`src_ip` the host (IPv4 or IPv6; a blocklist row may
//! name a whole network, which becomes the event's `ip` with the network in `details.network`);
//! `port`/`src_port`, `asn`/`src_asn`, `geo`/`src_geo` (a two-letter code, else kept in
//! `details`), `hostname`/`src_hostname` and `tag` (a comma list) fill their fields. For the
//! `infected` reports `infection` is the malware family (`family` when `infection` is empty). Every
//! other non-empty column is kept in `details` under its column name; every other `*_ip` column
//! (`dst_ip`) is checked and kept canonical.
//!
//! A `malware_url` row is about a threat hosted on the constituent's host, so it gives the host
//! event (for warning the host's owner) and an indicator for its `url` (`malware_distribution`,
//! first and last seen at the row's time, `tag` as tags), plus one for its `sha256`
//! (`malicious`). A `blocklist` row stays a host event only: it relays third-party listings of the
//! constituent's own addresses.
//!
//! # Quirks handled
//!
//! - Strings are quoted, numbers are not, empty values are bare (`,,`).
//! - Python byte-string literals (`b'SSH-2.0-Go'`, with `\xNN` escapes) are decoded to their text.
//! - A row whose host, `*_ip`, port, ASN or timestamp is malformed (the anonymisation artefact
//!   `148.81.111.11.12`) is one reject naming the column; a row with more non-empty cells than the
//!   header has columns is a reject too. A row with fewer cells (Shadowserver adds columns at the
//!   end, and rows written before lack them) reads the missing ones as empty.
//! - Each record is one line: a quoted value spanning lines is rejected (unterminated quote).

use std::collections::BTreeMap;
use std::io::BufRead;
use std::net::IpAddr;

use watchfire_model::observable::{Observable, ObservableKind};
use watchfire_model::record::{Category, HostEvent, IndicatorRecord, Record};
use watchfire_model::stix::Timestamp;

use crate::input::Lines;
use crate::{Context, Error, Format, Item, time};

/// The formats this module reads.
pub const FORMATS: &[Format] = &[Format {
    name: "shadowserver",
    summary: "Shadowserver CSV reports (scan_*, event4/6_* sinkhole and honeypot, device_id, blocklist, compromised_website, malware_url)",
    read,
    detect: Some(detect),
}];

/// A Shadowserver report type and how its rows are read.
#[derive(Clone, Copy, Debug)]
struct Report {
    /// The report's name, as in Shadowserver's file names.
    name: &'static str,
    /// The stable event type of its rows.
    event_type: &'static str,
    /// The category of its rows.
    category: Option<Category>,
    /// Columns that, all present, identify the report from its header.
    signature: &'static [&'static str],
}

/// Every known report, in header-detection order: the most specific signatures first.
const REPORTS: &[Report] = &[
    report("scan_ssl", "scan_ssl", Some(Category::Vulnerable), &["cipher_suite", "ssl_poodle"]),
    report("scan_rdp", "scan_rdp", Some(Category::Exposed), &["rdp_protocol"]),
    report("scan_smb", "scan_smb", Some(Category::Exposed), &["smbv1_support"]),
    report("scan_ntp", "scan_ntp", Some(Category::DdosAmplifier), &["clk_wander", "refid"]),
    report(
        "scan_dns",
        "scan_dns",
        Some(Category::DdosAmplifier),
        &["dns_version", "min_amplification"],
    ),
    report("scan_http", "scan_http", Some(Category::Exposed), &["http_reason", "www_authenticate"]),
    report("scan_telnet", "scan_telnet", Some(Category::Exposed), &["ip", "protocol", "banner"]),
    report("device_id", "device_id", None, &["ip", "device_vendor", "device_model"]),
    report("blocklist", "blocklist", Some(Category::Malicious), &["ip", "source", "reason"]),
    report(
        "compromised_website",
        "compromised_website",
        Some(Category::Compromised),
        &["detected_since", "redirect_target"],
    ),
    report("malware_url", "malware_url", Some(Category::MalwareDistribution), &["url", "sha256"]),
    report(
        "event4_honeypot_brute_force",
        "honeypot_brute_force",
        Some(Category::BruteForce),
        &["src_ip", "username", "password"],
    ),
    report(
        "event4_ip_spoofer",
        "ip_spoofer",
        Some(Category::Vulnerable),
        &["src_ip", "routedspoof"],
    ),
    report(
        "event4_sinkhole_http",
        "sinkhole_http",
        Some(Category::Infected),
        &["src_ip", "http_url"],
    ),
    report(
        "event6_sinkhole_http",
        "sinkhole_http",
        Some(Category::Infected),
        &["src_ip", "http_url"],
    ),
    report(
        "event4_sinkhole_dns",
        "sinkhole_dns",
        Some(Category::Infected),
        &["src_ip", "query_type", "query"],
    ),
    report(
        "event4_sinkhole",
        "sinkhole",
        Some(Category::Infected),
        &["src_ip", "dst_ip", "infection"],
    ),
    report(
        "event6_sinkhole",
        "sinkhole",
        Some(Category::Infected),
        &["src_ip", "dst_ip", "infection"],
    ),
];

const fn report(
    name: &'static str,
    event_type: &'static str,
    category: Option<Category>,
    signature: &'static [&'static str],
) -> Report {
    Report { name, event_type, category, signature }
}

/// Recognises a Shadowserver report: a first line that is a quoted CSV header starting with
/// `"timestamp"` whose columns identify a known report, or (as a second signal) a file name that
/// names one with such a header.
fn detect(head: &[u8], file_name: &str) -> bool {
    let first_line = head.split(|&byte| byte == b'\n').next().unwrap_or_default();
    let Ok(first_line) = std::str::from_utf8(first_line) else {
        return false;
    };
    let first_line = first_line.trim_end_matches('\r');
    if !first_line.starts_with("\"timestamp\",") {
        return false;
    }
    let Ok(columns) = split_csv_line(first_line) else {
        return false;
    };
    report_by_header(&columns).is_some() || report_by_file_name(file_name).is_some()
}

/// Returns the report a file name names: the longest known report name in it that ends at a
/// non-word byte (or the end).
fn report_by_file_name(file_name: &str) -> Option<&'static Report> {
    let lowered = file_name.to_ascii_lowercase();
    REPORTS
        .iter()
        .filter(|report| {
            lowered.match_indices(report.name).any(|(start, name)| {
                let after = lowered.as_bytes().get(start + name.len());
                let before = start.checked_sub(1).and_then(|index| lowered.as_bytes().get(index));
                let is_boundary = |byte: Option<&u8>| {
                    byte.is_none_or(|byte| !(byte.is_ascii_alphanumeric() || *byte == b'_'))
                };
                is_boundary(after) && is_boundary(before)
            })
        })
        .max_by_key(|report| report.name.len())
}

/// Returns the first report whose signature columns are all in `columns`.
fn report_by_header(columns: &[String]) -> Option<&'static Report> {
    REPORTS.iter().find(|report| {
        report.signature.iter().all(|wanted| columns.iter().any(|column| column == wanted))
    })
}

/// Reads a Shadowserver report.
fn read(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    let mut lines = Lines::new(input);
    let mut header: Option<(Vec<String>, &'static Report)> = None;
    while let Some(next) =
        lines.next_line(&context.file).map_err(|e| Error::io(&context.file, e))?
    {
        let (line, text) = match next {
            Ok(line_and_text) => line_and_text,
            Err(reject) => {
                on_item(Item::Reject(reject));
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        let cells = match split_csv_line(text) {
            Ok(cells) => cells,
            Err(reason) => {
                on_item(context.reject(line, reason));
                continue;
            }
        };
        let Some((columns, report)) = &header else {
            let report = report_by_file_name(context.file_name())
                .or_else(|| report_by_header(&cells))
                .ok_or_else(|| {
                    let known: Vec<&str> = REPORTS.iter().map(|report| report.name).collect();
                    Error::input(
                        &context.file,
                        format!(
                            "cannot tell the shadowserver report type from the file name or the header; known types: {}",
                            known.join(", ")
                        ),
                    )
                })?;
            let has_host_column = cells.iter().any(|column| column == "ip" || column == "src_ip");
            if !has_host_column {
                return Err(Error::input(
                    &context.file,
                    format!("line {line}: header has no ip or src_ip column"),
                ));
            }
            header = Some((cells, report));
            continue;
        };
        match read_row(report, columns, cells) {
            Ok(records) => records.into_iter().for_each(|record| on_item(Item::Record(record))),
            Err(reason) => on_item(context.reject(line, reason)),
        }
    }
    Ok(())
}

/// Reads one data row into its host event (and indicators, for `malware_url`).
fn read_row(
    report: &Report,
    columns: &[String],
    cells: Vec<String>,
) -> Result<Vec<Record>, String> {
    // A short row (Shadowserver adds columns at the end; `scan_rdp.csv` lacks `jarm`) reads its
    // missing cells as empty; a long one is only fine when its extra cells are empty.
    if cells.len() > columns.len() && cells[columns.len()..].iter().any(|cell| !cell.is_empty()) {
        return Err(format!("expected {} columns, found {}", columns.len(), cells.len()));
    }
    let mut host: Option<Observable> = None;
    let mut event = HostEvent {
        // Replaced below: the header has an ip or src_ip column (checked when it was read).
        ip: IpAddr::from([0, 0, 0, 0]),
        port: None,
        asn: None,
        country: None,
        hostname: None,
        event_type: report.event_type.to_owned(),
        category: report.category,
        time: None,
        malware: None,
        tags: Vec::new(),
        details: BTreeMap::new(),
    };
    let is_infection = report.category == Some(Category::Infected);
    for (index, (column, cell)) in columns.iter().zip(cells).enumerate() {
        let cell = match decode_byte_literal(&cell) {
            Some(decoded) => decoded,
            None => cell,
        };
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        let bad = |what: &str| format!("column {} ({column}): {what}", index + 1);
        match column.as_str() {
            "timestamp" => event.time = Some(time::parse(cell).map_err(|reason| bad(&reason))?),
            "ip" | "src_ip" => {
                host = Some(parse_address(cell).map_err(|reason| bad(&reason))?);
            }
            "port" | "src_port" => {
                let port = cell.parse().map_err(|_| bad(&format!("bad port {cell:?}")))?;
                event.port = Some(port);
            }
            "asn" | "src_asn" => {
                let asn = cell.parse().map_err(|_| bad(&format!("bad asn {cell:?}")))?;
                event.asn = Some(asn);
            }
            "geo" | "src_geo"
                if cell.len() == 2 && cell.bytes().all(|b| b.is_ascii_alphabetic()) =>
            {
                event.country = Some(cell.to_ascii_uppercase());
            }
            "hostname" | "src_hostname" => event.hostname = Some(cell.to_owned()),
            "tag" => event.tags.extend(
                cell.split([',', ';'])
                    .map(str::trim)
                    .filter(|tag| !tag.is_empty())
                    .map(str::to_owned),
            ),
            "infection" if is_infection => event.malware = Some(cell.to_owned()),
            "family" if is_infection && event.malware.is_none() => {
                event.malware = Some(cell.to_owned());
            }
            other if other.ends_with("_ip") => {
                let address = parse_address(cell).map_err(|reason| bad(&reason))?;
                event.details.insert(other.to_owned(), address.value().to_owned());
            }
            other => {
                event.details.insert(other.to_owned(), cell.to_owned());
            }
        }
    }
    let host = host.ok_or_else(|| "no host address (ip or src_ip is empty)".to_owned())?;
    event.ip = match (host.ip(), host.cidr()) {
        (Some(address), _) => address,
        (None, Some((network, _))) => {
            event.details.insert("network".to_owned(), host.value().to_owned());
            network
        }
        (None, None) => return Err(format!("no host address in {:?}", host.value())),
    };
    if report.name == "scan_rdp" {
        let is_vulnerable = ["bluekeep_vulnerable", "cve20190708_vulnerable"]
            .iter()
            .any(|column| event.details.get(*column).is_some_and(|value| value == "Y"));
        if is_vulnerable {
            event.category = Some(Category::Vulnerable);
        }
    }
    let mut records = Vec::with_capacity(1);
    if report.name == "malware_url" {
        records.extend(malware_url_indicators(&event)?);
    }
    records.insert(0, Record::Event(event));
    Ok(records)
}

/// Returns the indicators of a `malware_url` row: its URL, and its payload's SHA-256.
fn malware_url_indicators(event: &HostEvent) -> Result<Vec<Record>, String> {
    let mut indicators = Vec::new();
    let seen = |mut indicator: IndicatorRecord, time: Option<&Timestamp>| {
        indicator.first_seen = time.cloned();
        indicator.last_seen = time.cloned();
        indicator
    };
    if let Some(url) = event.details.get("url") {
        let observable = Observable::parse_as(ObservableKind::Url, url)
            .map_err(|error| format!("column url: {error}"))?;
        let mut indicator = seen(IndicatorRecord::new(observable), event.time.as_ref());
        indicator.category = Some(Category::MalwareDistribution);
        indicator.tags = event.tags.clone();
        indicators.push(Record::Indicator(indicator));
    }
    if let Some(sha256) = event.details.get("sha256") {
        let observable = Observable::parse_as(ObservableKind::Sha256, sha256)
            .map_err(|error| format!("column sha256: {error}"))?;
        let mut indicator = seen(IndicatorRecord::new(observable), event.time.as_ref());
        indicator.category = Some(Category::Malicious);
        indicator.description = event.details.get("url").map(|url| format!("served by {url}"));
        indicators.push(Record::Indicator(indicator));
    }
    Ok(indicators)
}

/// Parses an address cell: IPv4, IPv6 or a network (`198.51.100.0/24`), canonical.
fn parse_address(text: &str) -> Result<Observable, String> {
    let kind = match (text.contains('/'), text.contains(':')) {
        (true, _) => ObservableKind::Cidr,
        (false, true) => ObservableKind::Ipv6,
        (false, false) => ObservableKind::Ipv4,
    };
    Observable::parse_as(kind, text).map_err(|error| error.to_string())
}

/// Splits one CSV line: `,`-separated, `"`-quoted with `""` for a quote. Text after a closing
/// quote and before the next comma is kept (lenient); an unterminated quote is an error.
pub(crate) fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut cells = Vec::new();
    let mut rest = line;
    loop {
        let (cell, after) = match rest.strip_prefix('"') {
            Some(quoted) => {
                let mut cell = String::new();
                let mut tail = quoted;
                loop {
                    let Some(quote) = tail.find('"') else {
                        return Err(format!(
                            "column {}: unterminated quoted value",
                            cells.len() + 1
                        ));
                    };
                    cell.push_str(&tail[..quote]);
                    tail = &tail[quote + 1..];
                    match tail.strip_prefix('"') {
                        Some(after_escape) => {
                            cell.push('"');
                            tail = after_escape;
                        }
                        None => break,
                    }
                }
                match tail.split_once(',') {
                    Some((junk, after)) => {
                        cell.push_str(junk);
                        (cell, Some(after))
                    }
                    None => {
                        cell.push_str(tail);
                        (cell, None)
                    }
                }
            }
            None => match rest.split_once(',') {
                Some((cell, after)) => (cell.to_owned(), Some(after)),
                None => (rest.to_owned(), None),
            },
        };
        cells.push(cell);
        match after {
            Some(after) => rest = after,
            None => return Ok(cells),
        }
    }
}

/// Decodes a Python byte-string literal (`b'SSH-2.0-Go'`, `b"..."`, with `\xNN`, `\n`, `\t`,
/// `\r`, `\\` and quote escapes) to its text; invalid UTF-8 becomes U+FFFD. Returns `None` when
/// `cell` is not such a literal.
fn decode_byte_literal(cell: &str) -> Option<String> {
    let inner = cell
        .strip_prefix("b'")
        .and_then(|rest| rest.strip_suffix('\''))
        .or_else(|| cell.strip_prefix("b\"").and_then(|rest| rest.strip_suffix('"')))?;
    let raw = inner.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut index = 0;
    while index < raw.len() {
        let byte = raw[index];
        index += 1;
        if byte != b'\\' {
            bytes.push(byte);
            continue;
        }
        let escaped = raw.get(index).copied();
        let hex = raw.get(index + 1..index + 3).and_then(|digits| {
            std::str::from_utf8(digits).ok().and_then(|digits| u8::from_str_radix(digits, 16).ok())
        });
        let simple = match escaped {
            Some(b'n') => Some(b'\n'),
            Some(b't') => Some(b'\t'),
            Some(b'r') => Some(b'\r'),
            Some(quote @ (b'\\' | b'\'' | b'"')) => Some(quote),
            _ => None,
        };
        match (escaped, hex, simple) {
            (Some(b'x'), Some(value), _) => {
                bytes.push(value);
                index += 3;
            }
            (_, _, Some(value)) => {
                bytes.push(value);
                index += 1;
            }
            _ => bytes.push(b'\\'),
        }
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quoted_and_bare_cells() {
        let cells = split_csv_line(r#""a",1,,"b,c","say ""hi""",x"#).unwrap();
        assert_eq!(cells, ["a", "1", "", "b,c", r#"say "hi""#, "x"]);
        assert!(split_csv_line(r#""a,1"#).is_err());
        assert_eq!(split_csv_line("").unwrap(), [""]);
    }

    #[test]
    fn decodes_python_byte_literals() {
        assert_eq!(decode_byte_literal("b'SSH-2.0-Go'").as_deref(), Some("SSH-2.0-Go"));
        assert_eq!(decode_byte_literal(r"b'a\x41\n\\'").as_deref(), Some("aA\n\\"));
        assert_eq!(decode_byte_literal(r#"b"it's""#).as_deref(), Some("it's"));
        assert_eq!(decode_byte_literal(r"b'\x4'").as_deref(), Some(r"\x4"));
        assert_eq!(decode_byte_literal("bob"), None);
        assert_eq!(decode_byte_literal("b'"), None);
    }

    #[test]
    fn file_names_pick_the_longest_report_name() {
        let name = |file: &str| report_by_file_name(file).map(|report| report.name);
        assert_eq!(name("event4_sinkhole_http.csv"), Some("event4_sinkhole_http"));
        assert_eq!(name("2021-03-04-event4_sinkhole-at-geo.csv"), Some("event4_sinkhole"));
        assert_eq!(name("/tmp/scan_rdp.csv.gz"), Some("scan_rdp"));
        assert_eq!(name("myscan_rdp.csv"), None);
        assert_eq!(name("report.csv"), None);
    }
}
