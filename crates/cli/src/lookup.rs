//! `watchfire lookup [--json] VALUE...`: what the store knows of each value, through the match
//! index: its canonical form, and per hit the known observable that matched (the value itself,
//! a network holding it, a parent domain, a URL's host) with the sources' claims.
//!
//! `-` reads values from standard input, one a line. The command runs on the store's own files,
//! so it reads as the local operator (every claim); the server answers members through the same
//! index with their access. Expired claims and known-benign values are shown and flagged unless
//! `--hide-expired` or `--hide-benign` asks to leave them out. A value that is no observable is
//! reported with its reason and makes the exit code 1 after the other values.
//!
//! The index comes from its cache file as for `match` (`snapshot.rs`); `--no-cache` builds it.

use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use serde::Serialize;
use watchfire_index::{Hit, LookupOptions, Snapshot};
use watchfire_model::Observable;
use watchfire_store::Reader;

use crate::live::Live;

/// Arguments of `watchfire lookup`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print one JSON line per value instead of the readable report.
    #[arg(long)]
    json: bool,

    /// Leave out claims past their validity instead of flagging them.
    #[arg(long)]
    hide_expired: bool,

    /// Leave out hits on known-benign values (warninglists) instead of flagging them.
    #[arg(long)]
    hide_benign: bool,

    /// Build the index from the store, without reading or writing its cache file
    /// (`index.snapshot` in the data directory).
    #[arg(long)]
    no_cache: bool,

    /// Values to look up (refanged first); `-` reads one value a line from standard input.
    #[arg(value_name = "VALUE", required = true)]
    values: Vec<String>,
}

/// The JSON line of one value.
#[derive(Serialize)]
struct JsonAnswer<'a> {
    value: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    canonical: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    hits: &'a [Hit<'a>],
}

/// Runs `watchfire lookup` on the store at `data` or `database`.
pub fn run(args: &Args, data: &Path, database: Option<&str>) -> Result<ExitCode> {
    let snapshot = crate::snapshot::open(data, database, args.no_cache, "lookup");
    let snapshot = match snapshot {
        Ok(snapshot) => snapshot,
        Err(error) => {
            eprintln!("watchfire: lookup: {error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let options = LookupOptions {
        now_micros: watchfire_store::now_micros(),
        include_expired: !args.hide_expired,
        include_benign: !args.hide_benign,
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut n_invalid = 0;
    let mut answer = |out: &mut BufWriter<_>, value: &str| -> io::Result<()> {
        if !answer_one(out, &snapshot, options, args.json, value)? {
            n_invalid += 1;
        }
        Ok(())
    };
    let mut written = Ok(());
    for value in &args.values {
        if value == "-" {
            // A pipe fed as it goes gets its answers as it goes: they are flushed before a read
            // that would wait (a list read in one go is still written in large blocks).
            let live = Live::stdin();
            let mut input = BufReader::new(io::stdin());
            let mut line = String::new();
            loop {
                if input.buffer().is_empty() && live.would_wait() && written.is_ok() {
                    written = out.flush();
                }
                line.clear();
                if input.read_line(&mut line).context("cannot read standard input")? == 0 {
                    break;
                }
                let value = line.trim();
                if !value.is_empty() && written.is_ok() {
                    written = answer(&mut out, value);
                }
            }
        } else if written.is_ok() {
            written = answer(&mut out, value);
        }
    }
    let written = written.and_then(|()| out.flush());
    match written {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other.context("cannot write to standard output")?,
    }
    Ok(if n_invalid == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

// Answers one value; returns false when it is no observable.
fn answer_one(
    out: &mut impl Write,
    snapshot: &Snapshot,
    options: LookupOptions,
    json: bool,
    value: &str,
) -> io::Result<bool> {
    let access = snapshot.access(Reader::Operator);
    let observable = match Observable::parse(value) {
        Ok(observable) => observable,
        Err(error) => {
            if json {
                let answer = JsonAnswer {
                    value,
                    kind: None,
                    canonical: None,
                    error: Some(error.to_string()),
                    hits: &[],
                };
                serde_json::to_writer(&mut *out, &answer)?;
                writeln!(out)?;
            } else {
                writeln!(out, "{value}: {error}")?;
            }
            return Ok(false);
        }
    };
    let hits = snapshot.lookup(&access, &observable, options);
    if json {
        let answer = JsonAnswer {
            value,
            kind: Some(observable.kind().as_str()),
            canonical: Some(observable.value()),
            error: None,
            hits: &hits,
        };
        serde_json::to_writer(&mut *out, &answer)?;
        return writeln!(out).map(|()| true);
    }
    let kind = observable.kind().as_str();
    match hits.len() {
        0 => writeln!(out, "{} ({kind}): not known", observable.value())?,
        n => writeln!(
            out,
            "{} ({kind}): {n} hit{}",
            observable.value(),
            if n == 1 { "" } else { "s" }
        )?,
    }
    for hit in &hits {
        let benign = if hit.benign { " [known benign]" } else { "" };
        let how = serde_json::to_value(hit.how).ok();
        let how = how.as_ref().and_then(serde_json::Value::as_str).unwrap_or("match");
        writeln!(out, "  {how} {}{benign}", hit.matched.value())?;
        for claim in &hit.claims {
            let category = claim.category.map_or("unknown", |category| category.as_str());
            let confidence = claim
                .confidence
                .map_or_else(|| "-".to_owned(), |confidence| confidence.to_string());
            let expired = if claim.expired { " [expired]" } else { "" };
            writeln!(
                out,
                "    {}: {category}, confidence {confidence}, score {}, {}{expired}",
                claim.source, claim.score, claim.tlp
            )?;
        }
    }
    Ok(true)
}
