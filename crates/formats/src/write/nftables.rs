//! An nftables script for `nft -f`: an `inet` table with an IPv4 and an IPv6 interval set, drop
//! rules in the input, forward and output hooks matching either direction, and the addresses and
//! CIDRs added to the sets with `add element` commands.
//!
//! The script first creates and deletes the table, so loading it again replaces the old one in
//! one transaction. The sets have `auto-merge`, so overlapping or repeated entries (a CIDR and an
//! address inside it) merge instead of failing the load. Elements are written in batches of
//! [`BATCH`] per family, the only records the writer holds. Domains, URLs, hashes, emails and ASNs
//! have no place in a firewall set and are skipped.

use std::io::{self, Write};
use std::net::IpAddr;

use watchfire_model::record::Record;

use super::{Outcome, SkipReason, WriteOptions, Writer, indicator_observable, skip_or};

/// How many elements one `add element` command carries.
const BATCH: usize = 256;

/// Writes an nftables script.
#[derive(Debug)]
pub(super) struct NftablesWriter {
    options: WriteOptions,
    pending_v4: Vec<String>,
    pending_v6: Vec<String>,
}

impl NftablesWriter {
    pub(super) fn new(options: WriteOptions) -> NftablesWriter {
        NftablesWriter { options, pending_v4: Vec::new(), pending_v6: Vec::new() }
    }

    fn flush(&mut self, out: &mut dyn Write, is_v6: bool) -> io::Result<()> {
        let (set, pending) = match is_v6 {
            true => ("blocklist_v6", &mut self.pending_v6),
            false => ("blocklist_v4", &mut self.pending_v4),
        };
        if pending.is_empty() {
            return Ok(());
        }
        let table = &self.options.nft_table;
        writeln!(out, "add element inet {table} {set} {{ {} }}", pending.join(", "))?;
        pending.clear();
        Ok(())
    }
}

impl Writer for NftablesWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let table = &self.options.nft_table;
        let source = self.options.source.replace(['\r', '\n'], " ");
        write!(
            out,
            "#!/usr/sbin/nft -f
# watchfire blocklist from {source}, {created}
table inet {table}
delete table inet {table}
table inet {table} {{
\tset blocklist_v4 {{
\t\ttype ipv4_addr
\t\tflags interval
\t\tauto-merge
\t}}
\tset blocklist_v6 {{
\t\ttype ipv6_addr
\t\tflags interval
\t\tauto-merge
\t}}
\tchain input {{
\t\ttype filter hook input priority filter; policy accept;
\t\tip saddr @blocklist_v4 drop
\t\tip6 saddr @blocklist_v6 drop
\t}}
\tchain forward {{
\t\ttype filter hook forward priority filter; policy accept;
\t\tip saddr @blocklist_v4 drop
\t\tip daddr @blocklist_v4 drop
\t\tip6 saddr @blocklist_v6 drop
\t\tip6 daddr @blocklist_v6 drop
\t}}
\tchain output {{
\t\ttype filter hook output priority filter; policy accept;
\t\tip daddr @blocklist_v4 drop
\t\tip6 daddr @blocklist_v6 drop
\t}}
}}
",
            created = self.options.created,
        )
    }

    fn write(&mut self, out: &mut dyn Write, record: &Record) -> io::Result<Outcome> {
        let network =
            indicator_observable(record).and_then(|(_, observable)| match observable.network() {
                Some(network) => Ok((observable.value().to_owned(), network)),
                None => Err(SkipReason::Kind(observable.kind())),
            });
        skip_or(network, |(value, (address, _))| {
            let is_v6 = matches!(address, IpAddr::V6(_));
            let pending = if is_v6 { &mut self.pending_v6 } else { &mut self.pending_v4 };
            pending.push(value);
            if pending.len() >= BATCH {
                self.flush(out, is_v6)?;
            }
            Ok(())
        })
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.flush(out, false)?;
        self.flush(out, true)
    }
}
