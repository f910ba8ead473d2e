//! CSV (RFC 4180, CRLF-free: lines end in LF) with a header row and one indicator per row, for
//! spreadsheets and SIEM lookups. Columns, in this stable order:
//! `kind,value,category,confidence,first_seen,last_seen,valid_until,malware,port,tlp,tags,references,description`.
//! `kind` is the observable kind (`ipv4`, `sha256`) or `stix-pattern` (then `value` is the
//! pattern); empty cells are absent values; `tags` and `references` are joined with `;`.
//! Host events and other records are skipped (JSON lines carries them).

use std::io::{self, Write};

use watchfire_model::record::{IndicatorRecord, Record};

use super::{Outcome, Writer, indicator_of, skip_or, subject_kind, subject_value};

const HEADER: &str = "kind,value,category,confidence,first_seen,last_seen,valid_until,malware,port,tlp,tags,references,description";

/// Writes the header and one row per indicator.
#[derive(Debug)]
pub(super) struct CsvWriter;

impl Writer for CsvWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{HEADER}")
    }

    fn write(&mut self, out: &mut dyn Write, record: &Record) -> io::Result<Outcome> {
        skip_or(indicator_of(record), |indicator| write_row(out, indicator))
    }

    fn finish(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

fn write_row(out: &mut dyn Write, indicator: &IndicatorRecord) -> io::Result<()> {
    let text = |value: Option<String>| value.unwrap_or_default();
    let cells = [
        subject_kind(&indicator.subject).to_owned(),
        subject_value(&indicator.subject),
        text(indicator.category.map(|category| category.as_str().to_owned())),
        text(indicator.confidence.map(|confidence| confidence.get().to_string())),
        text(indicator.first_seen.as_ref().map(ToString::to_string)),
        text(indicator.last_seen.as_ref().map(ToString::to_string)),
        text(indicator.valid_until.as_ref().map(ToString::to_string)),
        text(indicator.malware.clone()),
        text(indicator.port.map(|port| port.to_string())),
        text(indicator.tlp.map(|tlp| tlp.as_str().to_owned())),
        indicator.tags.join(";"),
        indicator.references.join(";"),
        text(indicator.description.clone()),
    ];
    for (position, cell) in cells.iter().enumerate() {
        if position > 0 {
            out.write_all(b",")?;
        }
        write_cell(out, cell)?;
    }
    out.write_all(b"\n")
}

// RFC 4180 section 2: a cell holding a comma, a quote or a line break is quoted, with quotes doubled.
fn write_cell(out: &mut dyn Write, cell: &str) -> io::Result<()> {
    let needs_quotes = cell.contains([',', '"', '\n', '\r']);
    if !needs_quotes {
        return out.write_all(cell.as_bytes());
    }
    write!(out, "\"{}\"", cell.replace('"', "\"\""))
}
