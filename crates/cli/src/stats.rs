//! `watchfire stats [--json]`: what the store holds, counted by the local operator.
//!
//! The readable report lists the log's last sequence number, the live objects (current versions
//! of objects not deleted) per STIX type, source and TLP, and the claims per observable kind.
//! `--json` prints the same as one object (`watchfire_store::Stats`).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use watchfire_store::{Reader, Stats};

/// Arguments of `watchfire stats`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print one JSON object instead of the readable report.
    #[arg(long)]
    json: bool,
}

/// Runs `watchfire stats` on the store at `data` or `database`.
pub fn run(args: &Args, data: &Path, database: Option<&str>) -> Result<ExitCode> {
    let stats =
        watchfire_store::open(data, database).and_then(|store| store.stats(Reader::Operator));
    let stats = match stats {
        Ok(stats) => stats,
        Err(error) => {
            eprintln!("watchfire: stats: {error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let written = if args.json {
        serde_json::to_writer(&mut out, &stats)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        write_readable(&mut out, &stats)
    };
    match written {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        other => other.context("cannot write to standard output").map(|()| ExitCode::SUCCESS),
    }
}

fn write_readable(out: &mut impl Write, stats: &Stats) -> io::Result<()> {
    writeln!(out, "log: last sequence number {}", stats.last_seq)?;
    writeln!(out, "objects: {}", stats.objects)?;
    write_counts(out, "by type", &stats.by_type)?;
    write_counts(out, "by source", &stats.by_source)?;
    write_counts(out, "by TLP", &stats.by_tlp)?;
    writeln!(out, "claims: {} on {} observables", stats.claims, stats.observables)?;
    write_counts(out, "by kind", &stats.claims_by_kind)
}

fn write_counts(
    out: &mut impl Write,
    title: &str,
    counts: &BTreeMap<String, u64>,
) -> io::Result<()> {
    if counts.is_empty() {
        return Ok(());
    }
    writeln!(out, "  {title}:")?;
    let width = counts.keys().map(String::len).max().unwrap_or(0);
    for (name, count) in counts {
        writeln!(out, "    {name:<width$}  {count}")?;
    }
    Ok(())
}
