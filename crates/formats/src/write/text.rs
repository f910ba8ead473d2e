//! Plain text: one canonical observable value per line, every kind, as firewalls, proxies and
//! scripts read lists. STIX patterns, host events and other records are skipped.

use std::io::{self, Write};

use watchfire_model::record::Record;

use super::{Outcome, Writer, indicator_observable, skip_or};

/// Writes one value per line.
#[derive(Debug)]
pub(super) struct TextWriter;

impl Writer for TextWriter {
    fn begin(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }

    fn write(&mut self, out: &mut dyn Write, record: &Record) -> io::Result<Outcome> {
        skip_or(indicator_observable(record), |(_, observable)| {
            writeln!(out, "{}", observable.value())
        })
    }

    fn finish(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}
