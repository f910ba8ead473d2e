//! `watchfire alerts [--json] [--org NAME] [--status S,...] [--severity LOWEST]`: the alerts on
//! the log, read by the local operator (who holds the store's files), newest change last.
//!
//! The readable form prints one line per alert: when it was last seen, severity, status, the
//! organisation, direction, category, the observable, the claim it matched and how often it
//! was reported. `--json` prints each alert as a JSON line (the same object as the API's).
//! `watchfire alerts --match` first runs the alert engine over the log (as `serve` does on its
//! own), so a node that is not running can still be brought up to date.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use watchfire_server::accounts::Accounts;
use watchfire_store::{Query, Reader, Store};
use watchfire_warn::{ALERT_TYPE, Alert, Severity, Status};

/// Arguments of `watchfire alerts`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON lines instead of a table.
    #[arg(long)]
    json: bool,

    /// Only the alerts of this organisation.
    #[arg(long, value_name = "NAME")]
    org: Option<String>,

    /// Only these statuses: new, acknowledged, resolved, expired (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "STATUS")]
    status: Vec<String>,

    /// Only this severity and higher: low, medium, high, critical.
    #[arg(long, value_name = "LOWEST")]
    severity: Option<String>,

    /// Match the log against the constituencies first (what a running node does by itself).
    #[arg(long = "match")]
    run_engine: bool,
}

/// Runs `watchfire alerts` on the store at `data` or `database`.
pub fn run(args: &Args, data: &Path, database: Option<&str>) -> Result<ExitCode> {
    let statuses = args
        .status
        .iter()
        .map(|status| status.parse::<Status>().map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()?;
    let lowest = args
        .severity
        .as_deref()
        .map(|text| text.parse::<Severity>().map_err(anyhow::Error::msg))
        .transpose()?;
    let store: Arc<dyn Store> = Arc::from(watchfire_store::open(data, database)?);
    let accounts = Accounts::new(Arc::clone(&store));
    let orgs = accounts.orgs().map_err(anyhow::Error::msg)?;
    let only = match &args.org {
        Some(name) => match orgs.iter().find(|org| org.name == *name) {
            Some(org) => Some(org.id),
            None => bail!("no organisation {name:?}"),
        },
        None => None,
    };
    if args.run_engine {
        let mut engine =
            watchfire_warn::Engine::open(&*store, watchfire_warn::Settings::default(), None)?;
        let members = |org| accounts.org(org).ok().map(|org| watchfire_server::org_principal(&org));
        let outcome = engine.catch_up(&*store, &members)?;
        eprintln!(
            "watchfire: alerts: matched {} entries: {} raised, {} updated, {} muted",
            outcome.entries, outcome.raised, outcome.updated, outcome.inhibited
        );
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut query = Query {
        limit: 1000,
        types: vec![ALERT_TYPE.to_owned()],
        latest_only: true,
        ..Query::default()
    };
    let mut written = Ok(());
    loop {
        let page = store.query(Reader::Operator, &query)?;
        for entry in &page.entries {
            let alert = match Alert::from_entry(entry) {
                Ok(alert) => alert,
                Err(error) => {
                    eprintln!("watchfire: alerts: {error}");
                    continue;
                }
            };
            let keep = only.is_none_or(|org| alert.organisation == Some(org))
                && (statuses.is_empty() || statuses.contains(&alert.status))
                && lowest.is_none_or(|lowest| alert.severity >= lowest);
            if !keep {
                continue;
            }
            let org_name = match alert.organisation {
                Some(id) => orgs
                    .iter()
                    .find(|org| org.id == id)
                    .map_or_else(|| id.0.to_string(), |org| org.name.clone()),
                None => "community".to_owned(),
            };
            written = if args.json {
                serde_json::to_writer(&mut out, &alert)
                    .map_err(io::Error::from)
                    .and_then(|()| writeln!(out))
            } else {
                writeln!(
                    out,
                    "{}  {:<8} {:<12} {:<16} {:<8} {:<20} {:<40} {:<20} x{}  {}",
                    alert.last_seen,
                    alert.severity,
                    alert.status,
                    org_name,
                    alert.direction,
                    alert.category,
                    alert.observable.value(),
                    alert.matched.as_ref().map_or("-", |matched| matched.value.as_str()),
                    alert.count,
                    alert.id,
                )
            };
            if written.is_err() {
                break;
            }
        }
        match page.next {
            Some(next) if written.is_ok() => query.after = next,
            _ => break,
        }
    }
    let flushed = written.and_then(|()| out.flush());
    match flushed {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        other => other.context("cannot write to standard output").map(|()| ExitCode::SUCCESS),
    }
}
