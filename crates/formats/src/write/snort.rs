//! Snort rules, in the syntax of Snort 3 or Snort 2.9 (`WriteOptions::snort_version`), with the
//! same sids, messages and classes as the Suricata rules:
//! - an address or CIDR: the same `alert ip` rule as Suricata's;
//! - a domain: `alert udp` to port 53 with the name in DNS wire form
//!   (`content:"|04|evil|07|example|00|"; nocase;`), which matches the name and its subdomains:
//!   Snort has no DNS query buffer;
//! - a URL: an HTTP rule on the `Host` header and the URI (Snort 3: `http_header:field host;` and
//!   `http_uri;` sticky buffers; 2.9: `http_header` and `http_uri` content modifiers). Snort
//!   matches the path anywhere in the URI, not exactly as Suricata's `bsize` does.
//!
//! Hashes, emails, ASNs and STIX patterns are skipped.

use std::io::{self, Write};

use watchfire_model::ObservableKind;
use watchfire_model::record::Record;

use super::suricata::{classtype, content_text, ip_header, msg, take_sid, url_parts};
use super::{
    Outcome, SkipReason, SnortVersion, WriteOptions, Writer, indicator_observable, skip_or,
};

/// Writes Snort rules.
#[derive(Debug)]
pub(super) struct SnortWriter {
    options: WriteOptions,
    next_sid: u32,
}

impl SnortWriter {
    pub(super) fn new(options: WriteOptions) -> SnortWriter {
        let next_sid = options.sid_base;
        SnortWriter { options, next_sid }
    }
}

impl Writer for SnortWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let source = self.options.source.replace(['\r', '\n'], " ");
        let version = match self.options.snort_version {
            SnortVersion::V2_9 => "2.9",
            SnortVersion::V3 => "3",
        };
        writeln!(out, "# watchfire Snort {version} rules from {source}, {}", self.options.created)
    }

    fn write(&mut self, out: &mut dyn Write, record: &Record) -> io::Result<Outcome> {
        let is_v3 = self.options.snort_version == SnortVersion::V3;
        let rule = indicator_observable(record).and_then(|(indicator, observable)| {
            let msg = msg(&self.options, indicator, observable);
            let body = match observable.kind() {
                ObservableKind::Cidr | ObservableKind::Ipv4 | ObservableKind::Ipv6 => {
                    format!("{} ({msg}", ip_header(indicator, observable))
                }
                ObservableKind::Domain => {
                    let mut wire = String::new();
                    for label in observable.value().split('.') {
                        wire.push_str(&format!("|{:02x}|{}", label.len(), content_text(label.as_bytes())));
                    }
                    wire.push_str("|00|");
                    let content = match is_v3 {
                        true => format!("content:\"{wire}\",nocase,fast_pattern;"),
                        false => format!("content:\"{wire}\"; nocase; fast_pattern;"),
                    };
                    format!("alert udp $HOME_NET any -> any 53 ({msg} {content}")
                }
                ObservableKind::Url => {
                    let (host, uri) = url_parts(observable);
                    let host = content_text(host.as_bytes());
                    let uri = content_text(uri.as_bytes());
                    match is_v3 {
                        true => format!(
                            "alert http $HOME_NET any -> $EXTERNAL_NET any ({msg} flow:established,to_server; http_uri; content:\"{uri}\"; http_header:field host; content:\"{host}\",nocase;"
                        ),
                        false => format!(
                            "alert tcp $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS ({msg} flow:established,to_server; content:\"{uri}\"; http_uri; content:\"Host|3a 20|{host}|0d 0a|\"; http_header; nocase;"
                        ),
                    }
                }
                kind => return Err(SkipReason::Kind(kind)),
            };
            Ok((body, indicator))
        });
        skip_or(rule, |(body, indicator)| {
            let sid = take_sid(&mut self.next_sid)?;
            writeln!(out, "{body} classtype:{}; sid:{sid}; rev:1;)", classtype(indicator))
        })
    }

    fn finish(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}
