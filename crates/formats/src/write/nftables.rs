//! An nftables script for `nft -f`: an `inet` table with an IPv4 and an IPv6 interval set, drop
//! rules in the input, forward and output hooks matching either direction, and the addresses and
//! CIDRs added to the sets with `add element` commands.
//!
//! The script first creates and deletes the table, so loading it again replaces the old one in
//! one transaction. The sets have `auto-merge`, so overlapping or repeated entries (a CIDR and an
//! address inside it) merge instead of failing the load.
//!
//! Buffering: IPv4 elements are written in batches of [`BATCH`] as they come, but the IPv6
//! elements are held until the end (at most [`MAX_HELD_V6`], beyond which writing fails). nft 1.0.6
//! (Debian 12) fails a whole transaction with "File exists" when `add element` commands of one
//! auto-merge set are interleaved with another set's and a later CIDR covers an earlier address;
//! each set's commands must therefore be contiguous, and IPv6 lists are the smaller family in
//! practice. Domains, URLs, hashes, emails and ASNs have no place in a firewall set and are skipped.

use std::io::{self, Write};

use watchfire_model::record::Record;

use super::{Outcome, SkipReason, WriteOptions, Writer, indicator_observable, skip_or};

/// How many elements one `add element` command carries.
const BATCH: usize = 256;

/// How many IPv6 elements the writer holds until the end of the export (see the module doc).
const MAX_HELD_V6: usize = 1 << 20;

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

    // Writes the pending elements of one family in commands of at most `BATCH` elements.
    fn flush(&mut self, out: &mut dyn Write, is_v6: bool) -> io::Result<()> {
        let (set, pending) = match is_v6 {
            true => ("blocklist_v6", &mut self.pending_v6),
            false => ("blocklist_v4", &mut self.pending_v4),
        };
        let table = &self.options.nft_table;
        for batch in pending.chunks(BATCH) {
            writeln!(out, "add element inet {table} {set} {{ {} }}", batch.join(", "))?;
        }
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
            if address.is_ipv6() {
                if self.pending_v6.len() >= MAX_HELD_V6 {
                    return Err(io::Error::other(format!(
                        "nftables: more than {MAX_HELD_V6} IPv6 entries in one script; split the export"
                    )));
                }
                self.pending_v6.push(value);
                return Ok(());
            }
            self.pending_v4.push(value);
            if self.pending_v4.len() >= BATCH {
                self.flush(out, false)?;
            }
            Ok(())
        })
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.flush(out, false)?;
        self.flush(out, true)
    }
}
