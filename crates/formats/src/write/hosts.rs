//! A hosts file (`/etc/hosts` syntax, as Pi-hole and hosts-file blockers read it): each domain
//! resolves to `0.0.0.0`, one per line, after a comment naming the source. Only domains: an
//! address, a URL (blocking its whole host would over-block) or a hash is skipped.

use std::io::{self, Write};

use watchfire_model::ObservableKind;
use watchfire_model::record::Record;

use super::{Outcome, SkipReason, WriteOptions, Writer, indicator_observable, skip_or};

/// Writes `0.0.0.0 domain` lines.
#[derive(Debug)]
pub(super) struct HostsWriter {
    options: WriteOptions,
}

impl HostsWriter {
    pub(super) fn new(options: WriteOptions) -> HostsWriter {
        HostsWriter { options }
    }
}

impl Writer for HostsWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let source = self.options.source.replace(['\r', '\n'], " ");
        writeln!(out, "# watchfire blocklist from {source}, {}", self.options.created)
    }

    fn write(&mut self, out: &mut dyn Write, record: &Record) -> io::Result<Outcome> {
        let domain =
            indicator_observable(record).and_then(|(_, observable)| match observable.kind() {
                ObservableKind::Domain => Ok(observable.value()),
                kind => Err(SkipReason::Kind(kind)),
            });
        skip_or(domain, |domain| writeln!(out, "0.0.0.0 {domain}"))
    }

    fn finish(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}
