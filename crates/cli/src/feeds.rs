//! `watchfire feeds`: the sources a node pulls on its own (http feeds, MISP feeds, TAXII 2.1
//! collections), kept in the store's directory: add one, enable one from the built-in catalogue,
//! pull one now, list them with their health, remove one; and the catalogue itself.
//!
//! `watchfire serve` pulls the enabled sources on their schedule.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use watchfire_feeds::source::{self, Auth, Source, SourceKind};
use watchfire_feeds::{Options, Report};
use watchfire_formats::catalogue::{self, CatalogueEntry};
use watchfire_model::record::{Category, Confidence, Reliability};
use watchfire_model::tlp::Tlp;
use watchfire_store::{Put, Store};

/// Arguments of `watchfire feeds`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Adds a source: an http feed, a MISP feed or a TAXII 2.1 collection.
    ///
    /// Credentials are never stored: --password-env and --token-env name the environment
    /// variables that hold them when the source is pulled (by `feeds run` or `serve`).
    Add(AddArgs),

    /// Lists the built-in catalogue of public feeds (name, provider, format, defaults, URL).
    ///
    /// docs/feeds.md describes every field and the sources of the data.
    Catalogue(JsonArgs),

    /// Stops pulling a source on schedule (it stays configured, and `feeds run` still pulls it).
    Disable(NameArgs),

    /// Enables a source: an existing one, or a catalogue entry, which becomes a source with the
    /// entry's defaults (format, interval, TLP, category, confidence).
    Enable(EnableArgs),

    /// Lists the sources with their health: last success, last error, records, rejects,
    /// failures in a row, circuit, next pull.
    List(JsonArgs),

    /// Removes a source and its state (what it brought stays in the store).
    Remove(NameArgs),

    /// Pulls a source now, whether due or not, and prints what the pull did.
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
struct JsonArgs {
    /// Print JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct NameArgs {
    /// The source's name.
    name: String,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The source's name.
    name: String,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    /// The source's name (1 to 64 of a-z, A-Z, 0-9, '-', '_', '.'); the source of what it brings.
    name: String,
    /// How it is pulled: http (a feed URL), misp (a MISP feed directory), taxii (a collection URL).
    #[arg(long, value_parser = parse_kind)]
    kind: SourceKind,
    /// The URL: the feed, the MISP feed's directory, or `{api_root}collections/{id}/`.
    #[arg(long)]
    url: String,
    /// The format of an http feed (see `watchfire import --help`); detected when not given.
    #[arg(long)]
    format: Option<String>,
    /// Time between pulls (90s, 30m, 1h, 1d).
    #[arg(long, default_value = "1h", value_parser = source::parse_duration)]
    interval: std::time::Duration,
    /// Time one request may take.
    #[arg(long, default_value = "60s", value_parser = source::parse_duration)]
    timeout: std::time::Duration,
    /// The TLP of records that carry none.
    #[arg(long, default_value = "clear")]
    tlp: Tlp,
    /// The category of indicators that carry none (botnet_c2, phishing, ...).
    #[arg(long)]
    category: Option<Category>,
    /// The confidence of indicators that carry none, 0 to 100.
    #[arg(long, value_parser = parse_confidence)]
    confidence: Option<Confidence>,
    /// How far the source is trusted: the Admiralty code's letter, A (completely reliable) to E
    /// (unreliable), F (cannot be judged); it weighs in the severity of the alerts it raises.
    #[arg(long)]
    reliability: Option<Reliability>,
    #[command(flatten)]
    credentials: Credentials,
    /// Add it disabled (pulled by `feeds run` only).
    #[arg(long)]
    disabled: bool,
}

#[derive(Debug, clap::Args)]
struct EnableArgs {
    /// A source's name, or a catalogue entry's.
    name: String,
    #[command(flatten)]
    credentials: Credentials,
}

/// Credentials: names of environment variables, never values.
#[derive(Debug, clap::Args)]
struct Credentials {
    /// The user of HTTP Basic authentication (with --password-env).
    #[arg(long, requires = "password_env", conflicts_with = "token_env")]
    user: Option<String>,
    /// The environment variable that holds the Basic password.
    #[arg(long, value_name = "VAR", requires = "user")]
    password_env: Option<String>,
    /// The environment variable that holds a token (sent as `Authorization: Bearer`).
    #[arg(long, value_name = "VAR")]
    token_env: Option<String>,
    /// The header that carries the bare token instead (`Auth-Key`, `X-OTX-API-KEY`).
    #[arg(long, value_name = "NAME", requires = "token_env")]
    token_header: Option<String>,
}

impl Credentials {
    fn auth(&self) -> Auth {
        match (&self.user, &self.password_env, &self.token_env) {
            (Some(user), Some(password_env), _) => {
                Auth::Basic { user: user.clone(), password_env: password_env.clone() }
            }
            (_, _, Some(token_env)) => {
                Auth::Token { token_env: token_env.clone(), header: self.token_header.clone() }
            }
            _ => Auth::None,
        }
    }
}

fn parse_kind(text: &str) -> Result<SourceKind, String> {
    text.parse()
}

fn parse_confidence(text: &str) -> Result<Confidence, String> {
    text.parse::<u8>()
        .ok()
        .and_then(Confidence::new)
        .ok_or_else(|| format!("bad confidence {text:?}: 0 to 100"))
}

/// Runs `watchfire feeds`.
pub fn run(args: &Args, data: &Path, database: Option<&str>) -> Result<ExitCode> {
    let open = || watchfire_store::open(data, database).context("cannot open the store");
    match &args.command {
        Command::Catalogue(json) => print(|out| match json.json {
            true => write_catalogue_json(out, catalogue::catalogue()),
            false => write_catalogue_table(out, catalogue::catalogue()),
        }),
        Command::Add(add) => add_source(&*open()?, add),
        Command::Enable(enable) => enable_source(&*open()?, enable),
        Command::Disable(disable) => disable_source(&*open()?, &disable.name),
        Command::Remove(remove) => {
            if !source::remove(&*open()?, &remove.name)? {
                bail!("no source named {:?}", remove.name);
            }
            eprintln!("removed source {}", remove.name);
            Ok(ExitCode::SUCCESS)
        }
        Command::List(json) => list(&*open()?, json.json),
        Command::Run(run) => run_now(&*open()?, run),
    }
}

fn add_source(store: &dyn Store, add: &AddArgs) -> Result<ExitCode> {
    let source = Source {
        format: add.format.clone(),
        interval_secs: add.interval.as_secs(),
        timeout_secs: add.timeout.as_secs(),
        tlp: add.tlp,
        category: add.category,
        confidence: add.confidence,
        reliability: add.reliability,
        enabled: !add.disabled,
        auth: add.credentials.auth(),
        ..Source::new(&add.name, add.kind, &add.url)
    };
    source::put(store, &source, Put::Insert)?;
    eprintln!("added {} source {}", source.kind, source.name);
    Ok(ExitCode::SUCCESS)
}

// Enables a source; a catalogue entry that is no source yet becomes one.
fn enable_source(store: &dyn Store, enable: &EnableArgs) -> Result<ExitCode> {
    let name = &enable.name;
    let auth = enable.credentials.auth();
    let source = match existing(store, name)? {
        Some(source) => {
            let auth = if auth == Auth::None { source.auth.clone() } else { auth };
            Source { enabled: true, auth, ..source }
        }
        None => {
            let entry = catalogue::catalogue().iter().find(|entry| entry.name == *name);
            let Some(entry) = entry else {
                bail!(
                    "no source or catalogue entry named {name:?}; see `watchfire feeds catalogue`"
                )
            };
            if entry.api_key && auth == Auth::None {
                bail!(
                    "{name} needs an API key ({}): give --token-env VAR (and --token-header NAME \
                     when the provider reads it from its own header)",
                    entry.terms
                );
            }
            Source { auth, ..Source::from_catalogue(entry) }
        }
    };
    source::put(store, &source, Put::Replace)?;
    eprintln!("enabled {} source {name}, pulled every {} s", source.kind, source.interval_secs);
    Ok(ExitCode::SUCCESS)
}

fn disable_source(store: &dyn Store, name: &str) -> Result<ExitCode> {
    let Some(source) = existing(store, name)? else { bail!("no source named {name:?}") };
    source::put(store, &Source { enabled: false, ..source }, Put::Replace)?;
    eprintln!("disabled source {name}");
    Ok(ExitCode::SUCCESS)
}

fn existing(store: &dyn Store, name: &str) -> Result<Option<Source>> {
    match source::get(store, name) {
        Ok(source) => Ok(Some(source)),
        Err(watchfire_feeds::Error::UnknownSource(_)) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

fn run_now(store: &dyn Store, args: &RunArgs) -> Result<ExitCode> {
    let pulled = watchfire_feeds::pull_now(store, &args.name, &Options::default());
    let report = match pulled {
        Ok(report) => report,
        Err(error @ watchfire_feeds::Error::Pull { .. }) => {
            eprintln!("watchfire: feeds run: {error}");
            return Ok(ExitCode::FAILURE);
        }
        Err(error) => return Err(error.into()),
    };
    print(|out| match args.json {
        true => {
            serde_json::to_writer(&mut *out, &report)?;
            writeln!(out)
        }
        false => write_report(out, &report),
    })
}

fn write_report(out: &mut impl Write, report: &Report) -> io::Result<()> {
    if report.not_modified {
        return writeln!(out, "{}: not modified, nothing stored", report.source);
    }
    writeln!(
        out,
        "{}: {} records, {} rejects, {} new versions, {} unchanged ({} fetched{})",
        report.source,
        report.records,
        report.rejects,
        report.new_versions,
        report.unchanged,
        report.fetched,
        if report.more { ", more next run" } else { "" }
    )?;
    for reject in &report.shown_rejects {
        writeln!(out, "  rejected: {reject}")?;
    }
    Ok(())
}

fn list(store: &dyn Store, json: bool) -> Result<ExitCode> {
    let rows = source::listing(store)?;
    print(|out| {
        if json {
            for row in &rows {
                serde_json::to_writer(&mut *out, row)?;
                writeln!(out)?;
            }
            return Ok(());
        }
        let width = rows.iter().map(|row| row.name.len()).max().unwrap_or(4).max(4);
        writeln!(
            out,
            "{:<width$}  KIND   ON   LAST SUCCESS          RECORDS  REJECTS  FAIL  NEXT PULL             LAST ERROR",
            "NAME"
        )?;
        for row in &rows {
            let fail = match row.circuit_open {
                true => format!("{} open", row.failures),
                false => row.failures.to_string(),
            };
            writeln!(
                out,
                "{:<width$}  {:<5}  {:<3}  {:<20}  {:>7}  {:>7}  {:>4}  {:<20}  {}",
                row.name,
                row.kind.as_str(),
                if row.enabled { "yes" } else { "no" },
                row.last_success.as_deref().unwrap_or("never"),
                row.records,
                row.rejects,
                fail,
                row.next_due.as_deref().unwrap_or("now"),
                row.last_error.as_deref().unwrap_or("")
            )?;
        }
        Ok(())
    })
}

// Writes to standard output, buffered; a closed pipe (`| head`) is the reader having enough.
fn print(
    write: impl FnOnce(&mut BufWriter<io::StdoutLock<'_>>) -> io::Result<()>,
) -> Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        other => other.context("cannot write to standard output").map(|()| ExitCode::SUCCESS),
    }
}

fn write_catalogue_json(out: &mut impl Write, entries: &[CatalogueEntry]) -> io::Result<()> {
    for entry in entries {
        serde_json::to_writer(&mut *out, entry)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn write_catalogue_table(out: &mut impl Write, entries: &[CatalogueEntry]) -> io::Result<()> {
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
