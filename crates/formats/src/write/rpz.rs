//! A DNS response policy zone (RPZ, draft-vixie-dnsop-dns-rpz) in master-file syntax, for BIND,
//! Knot Resolver, Unbound and PowerDNS: an SOA and NS, then for each domain a QNAME trigger for
//! the name and its subdomains (`evil.example CNAME .` and `*.evil.example CNAME .`, NXDOMAIN),
//! and for each address or CIDR a response-IP trigger (`32.1.2.0.192.rpz-ip CNAME .`; IPv6 as
//! `128.1.zz.db8.2001.rpz-ip`, 16-bit groups reversed and the longest zero run as `zz`).
//!
//! The serial is the export time in Unix seconds (modulo 2^32), so a newer export has a higher
//! serial. URLs, emails, hashes and ASNs are not DNS triggers and are skipped.

use std::io::{self, Write};
use std::net::IpAddr;

use watchfire_model::ObservableKind;
use watchfire_model::record::Record;

use super::{Outcome, SkipReason, WriteOptions, Writer, indicator_observable, skip_or};

/// Writes an RPZ zone file.
#[derive(Debug)]
pub(super) struct RpzWriter {
    options: WriteOptions,
}

impl RpzWriter {
    pub(super) fn new(options: WriteOptions) -> RpzWriter {
        RpzWriter { options }
    }
}

impl Writer for RpzWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        // The serial wraps as RFC 1982 serial arithmetic allows.
        let serial = self.options.created.unix_seconds().rem_euclid(1 << 32);
        let source = self.options.source.replace(['\r', '\n'], " ");
        writeln!(out, "; watchfire response policy zone from {source}, {}", self.options.created)?;
        writeln!(out, "$ORIGIN {}.", self.options.rpz_zone)?;
        writeln!(out, "$TTL 300")?;
        writeln!(out, "@ IN SOA localhost. hostmaster.localhost. {serial} 3600 600 604800 300")?;
        writeln!(out, "@ IN NS localhost.")
    }

    fn write(&mut self, out: &mut dyn Write, record: &Record) -> io::Result<Outcome> {
        let trigger = indicator_observable(record).and_then(|(_, observable)| {
            match (observable.kind(), observable.network()) {
                (ObservableKind::Domain, _) => Ok(Trigger::Name(observable.value())),
                (_, Some((address, prefix_len))) => Ok(Trigger::Ip(address, prefix_len)),
                (kind, None) => Err(SkipReason::Kind(kind)),
            }
        });
        skip_or(trigger, |trigger| match trigger {
            Trigger::Name(domain) => {
                writeln!(out, "{domain} CNAME .")?;
                writeln!(out, "*.{domain} CNAME .")
            }
            Trigger::Ip(address, prefix_len) => {
                writeln!(out, "{} CNAME .", rpz_ip_name(address, prefix_len))
            }
        })
    }

    fn finish(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

enum Trigger<'a> {
    Name(&'a str),
    Ip(IpAddr, u8),
}

/// The owner name of a response-IP trigger, without the zone: `24.0.113.0.203.rpz-ip`.
fn rpz_ip_name(address: IpAddr, prefix_len: u8) -> String {
    let groups: Vec<String> = match address {
        IpAddr::V4(v4) => v4.octets().iter().rev().map(u8::to_string).collect(),
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            let zero_run = longest_zero_run(&segments);
            let mut groups = Vec::new();
            let mut index = 0;
            while index < segments.len() {
                match zero_run {
                    Some((start, len)) if index == start => {
                        groups.push("zz".to_owned());
                        index += len;
                    }
                    _ => {
                        groups.push(format!("{:x}", segments[index]));
                        index += 1;
                    }
                }
            }
            groups.reverse();
            groups
        }
    };
    format!("{prefix_len}.{}.rpz-ip", groups.join("."))
}

// RFC 5952 section 4.2: the longest run of two or more zero groups, the first one on a tie.
fn longest_zero_run(segments: &[u16; 8]) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    let mut start = 0;
    while start < segments.len() {
        let len = segments[start..].iter().take_while(|segment| **segment == 0).count();
        if len >= 2 && best.is_none_or(|(_, best_len)| len > best_len) {
            best = Some((start, len));
        }
        start += len.max(1);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpz_ip_names_follow_the_draft() {
        let cases = [
            ("192.0.2.1", 32, "32.1.2.0.192.rpz-ip"),
            ("203.0.113.0", 24, "24.0.113.0.203.rpz-ip"),
            ("2001:db8::1", 128, "128.1.zz.db8.2001.rpz-ip"),
            ("2001:db8::", 32, "32.zz.db8.2001.rpz-ip"),
            ("2001:2:3:0:0:0:0:1", 128, "128.1.zz.3.2.2001.rpz-ip"),
            ("2001:db8:0:1:0:0:0:1", 128, "128.1.zz.1.0.db8.2001.rpz-ip"),
            ("::", 0, "0.zz.rpz-ip"),
        ];
        for (address, prefix_len, expected) in cases {
            let address: IpAddr = address.parse().unwrap();
            assert_eq!(rpz_ip_name(address, prefix_len), expected, "{address}/{prefix_len}");
        }
    }
}
