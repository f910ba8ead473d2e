//! `watchfire feeds`: the feeds a node knows. Today it lists the built-in catalogue; subscribing
//! and fetching come with the feeds issue.

use std::io::{self, BufWriter, Write};

use anyhow::{Context as _, Result};
use watchfire_formats::catalogue::{self, CatalogueEntry};

/// Arguments of `watchfire feeds`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Lists the built-in catalogue of public feeds (name, provider, format, defaults, URL).
    ///
    /// docs/feeds.md describes every field and the sources of the data.
    Catalogue(CatalogueArgs),
}

/// Arguments of `watchfire feeds catalogue`.
#[derive(Debug, clap::Args)]
struct CatalogueArgs {
    /// Print one JSON object per feed, with every field.
    #[arg(long)]
    json: bool,
}

/// Runs `watchfire feeds`.
pub fn run(args: &Args) -> Result<()> {
    let Command::Catalogue(catalogue_args) = &args.command;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = if catalogue_args.json {
        write_json(&mut out, catalogue::catalogue())
    } else {
        write_table(&mut out, catalogue::catalogue())
    };
    match written.and_then(|()| out.flush()) {
        // A closed pipe (`watchfire feeds catalogue | head`) is the reader saying it has enough.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

fn write_json(out: &mut impl Write, entries: &[CatalogueEntry]) -> io::Result<()> {
    for entry in entries {
        serde_json::to_writer(&mut *out, entry)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn write_table(out: &mut impl Write, entries: &[CatalogueEntry]) -> io::Result<()> {
    let name_width = entries.iter().map(|entry| entry.name.len()).max().unwrap_or(0);
    let format_width = entries.iter().map(|entry| entry.format.len()).max().unwrap_or(0);
    writeln!(
        out,
        "{:<name_width$}  {:<format_width$}  {:<20}  KEY  URL",
        "NAME", "FORMAT", "CATEGORY"
    )?;
    for entry in entries {
        let category = entry.category.map_or("per row", |category| category.as_str());
        let key = if entry.api_key { "yes" } else { "no" };
        writeln!(
            out,
            "{:<name_width$}  {:<format_width$}  {category:<20}  {key:<3}  {}",
            entry.name, entry.format, entry.url
        )?;
    }
    Ok(())
}
