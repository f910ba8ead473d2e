//! The `watchfire` command-line binary: one entry point for every job of a node.

mod alerts;
mod constituency;
mod convert;
mod extract;
mod feeds;
mod import;
mod live;
mod lookup;
mod scan;
mod serve;
mod snapshot;
mod stats;
mod store_import;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: bulk imports allocate on one thread and free on
/// another, which glibc's allocator serves several times slower (see BENCHMARKS.md, ingest).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// watchfire: a federated early-warning and collaboration node for CERTs.
#[derive(Debug, Parser)]
#[command(name = "watchfire", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: GlobalOptions,

    #[command(subcommand)]
    command: Command,
}

/// Options every command shares.
#[derive(Debug, clap::Args)]
struct GlobalOptions {
    /// Directory of the embedded store.
    #[arg(
        long,
        global = true,
        env = "WATCHFIRE_DATA",
        default_value = "./watchfire-data",
        value_name = "DIR"
    )]
    data: PathBuf,

    /// PostgreSQL URL (postgres://...); when given, the node uses PostgreSQL instead of the embedded store.
    #[arg(
        long,
        global = true,
        env = "WATCHFIRE_DATABASE",
        value_name = "URL",
        hide_env_values = true
    )]
    database: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Node administration: `admin init` makes the first administrator.
    Admin(serve::AdminArgs),

    /// Lists the alerts: the warnings addressed to organisations whose constituency a threat
    /// touches (and community-wide outbreaks), newest change last.
    ///
    /// One line per alert (last seen, severity, status, organisation, direction, category,
    /// observable, matched claim, count, id), or JSON lines with --json. --match first matches
    /// the log against the constituencies, as a running node does by itself.
    Alerts(alerts::Args),

    /// The networks, AS numbers, domain suffixes and countries organisations claim, and their
    /// approval: `constituency list`, `claim`, `approve`, `reject`, `remove`.
    Constituency(constituency::Args),

    /// Reads feed files in any supported format and writes every record in an export format.
    ///
    /// Records go to one output (standard output or -o); a summary (records written, skipped by
    /// the export format, rejected input lines) goes to standard error.
    Convert(convert::Args),

    /// Finds observables (IPs, domains, URLs, hashes, e-mails, ASNs) in free text, one JSON line each.
    ///
    /// Defanged values (hxxp://, [.], (dot), [@], ...) are refanged unless --no-refang is given.
    /// Prints {"kind":"ipv4","value":"192.0.2.55","raw":"192.0.2[.]55","line":3} per observable.
    Extract(extract::Args),

    /// The sources the node pulls (http feeds, MISP feeds, TAXII 2.1 collections) and the
    /// built-in catalogue: `feeds add`, `enable`, `run`, `list`, `remove`, `catalogue`.
    Feeds(feeds::Args),

    /// Reads feed files in any supported format and stores their records in the log.
    ///
    /// Formats are recognised per file from the first bytes (gzip and zip are unpacked) and the
    /// file name, or named with --format. Rejected lines are data: they are reported and the exit
    /// code stays 0; unreadable files make it 1. Re-importing a file adds no new versions.
    /// --dry-run parses and reports without storing.
    Import(import::Args),

    /// Tells what the store knows of values (IPs, networks, domains, URLs, hashes, e-mails, ASNs).
    ///
    /// Per value: its canonical form, and each hit (the value itself, a network holding it, a
    /// parent domain, a URL's host) with the sources' claims. `-` reads values from standard input.
    Lookup(lookup::Args),

    /// Scans logs (Zeek, Suricata EVE, BIND/dnsmasq, any text) for values the store knows.
    ///
    /// Every core by default; one line per hit in file and line order, then a summary (lines,
    /// bytes, hits, MB/s). --json prints JSON lines.
    Match(scan::Args),

    /// Runs the node server: REST API under /api/v1, live stream, metrics and health.
    ///
    /// Every read is filtered by TLP and distribution for the caller. --demo runs a demo node
    /// on a fresh temporary store with printed demo accounts, on loopback only.
    Serve(serve::Args),

    /// Counts what the store holds: objects per type, source and TLP, claims per observable kind,
    /// and the log's last sequence number.
    Stats(stats::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (data, database) = (&cli.global.data, cli.global.database.as_deref());
    let result = match cli.command {
        Command::Alerts(args) => alerts::run(&args, data, database),
        Command::Constituency(args) => constituency::run(&args, data, database),
        Command::Convert(args) => convert::run(&args),
        Command::Extract(args) => extract::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Feeds(args) => feeds::run(&args, data, database),
        Command::Import(args) => import::run(&args, data, database),
        Command::Lookup(args) => lookup::run(&args, data, database),
        Command::Match(args) => scan::run(&args, data, database),
        Command::Stats(args) => stats::run(&args, data, database),
        Command::Serve(args) => serve::run(&args, data, database),
        Command::Admin(args) => serve::run_admin(&args, data, database),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("watchfire: {error:#}");
            ExitCode::FAILURE
        }
    }
}
