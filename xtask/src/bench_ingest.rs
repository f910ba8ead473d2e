//! `cargo xtask bench-ingest`: the end-to-end import rate of `watchfire import` (issue 4), from
//! the command starting to its exit, for a million generated distinct indicators: into a fresh
//! SQLite store, into a fresh database of a private PostgreSQL cluster, and again into the
//! filled SQLite store (which must add no version). The goal is 200 k objects/s embedded.
//!
//! The input is deterministic (the fixed-seed generator of [`bench_formats`](crate::bench_formats)) and mixes kinds
//! as feeds do: IPv4 and IPv6 addresses, domains, URLs, SHA-256 and MD5 hashes. The plain-list
//! formats take one kind each, so the default input is a list of one value a line read as
//! `freetext` (whose extractor yields exactly the one value of each line); `--input threatfox`
//! writes a ThreatFox CSV export instead, whose rows also carry a category, times, a malware
//! family, a confidence, a reference and tags, read by the `abusech-threatfox` mapping.
//!
//! The release binary is built once. Each import runs with a fresh `--data` directory under
//! `target/bench-ingest/` (on disk, unlike a tmpfs `/tmp`), and the PostgreSQL cluster lives
//! there too and keeps its default durability (fsync on), so both figures include real syncs.

use std::collections::HashSet;
use std::fs::{self, File};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::bench_formats::{
    BenchOption, Rng, bench_options, cpu_model, load_average, median, thousands,
};
use crate::node;
use crate::postgres::{self, Durability};

const USAGE: &str = "\
usage: cargo xtask bench-ingest [--records N] [--runs N] [--input list|threatfox] [--keep]

  --records N        distinct indicators in the generated input (default 1000000)
  --runs N           timed imports per case; the median is reported (default 3)
  --input list       one value a line, mixed kinds, read as `freetext` (default)
  --input threatfox  a ThreatFox CSV export with every column filled, read as `abusech-threatfox`
  --keep             keep the generated input in target/bench-ingest/ instead of deleting it
";

/// The issue's goal for the embedded store, in objects per second.
const GOAL_PER_SECOND: f64 = 200_000.0;

/// The `--source` every import names.
const SOURCE: &str = "bench";

/// Where the input, the stores and the PostgreSQL cluster go.
const DIRECTORY: &str = "target/bench-ingest";

#[derive(Debug)]
struct Options {
    records: u64,
    runs: u32,
    input: InputKind,
    keep: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut options =
            Options { records: 1_000_000, runs: 3, input: InputKind::List, keep: false };
        for option in bench_options(args, USAGE) {
            match option? {
                BenchOption::Keep => options.keep = true,
                BenchOption::Value { name, value } => {
                    let number = || -> Result<u64> {
                        value.parse().with_context(|| format!("{name}: bad number {value:?}"))
                    };
                    match name {
                        "--records" => options.records = number()?,
                        "--runs" => options.runs = u32::try_from(number()?)?,
                        "--input" => {
                            options.input = match value {
                                "list" => InputKind::List,
                                "threatfox" => InputKind::Threatfox,
                                _ => bail!("--input: unknown input {value:?}\n\n{USAGE}"),
                            }
                        }
                        _ => bail!("unknown option {name:?}\n\n{USAGE}"),
                    }
                }
            }
        }
        if options.runs == 0 || options.records == 0 {
            bail!("--records and --runs must be at least 1");
        }
        Ok(options)
    }
}

/// The generated input's layout.
#[derive(Clone, Copy, Debug)]
enum InputKind {
    /// One value a line, read as `freetext`.
    List,
    /// A ThreatFox CSV export, read as `abusech-threatfox`.
    Threatfox,
}

impl InputKind {
    fn format(self) -> &'static str {
        match self {
            InputKind::List => "freetext",
            InputKind::Threatfox => "abusech-threatfox",
        }
    }

    fn file_name(self) -> &'static str {
        match self {
            InputKind::List => "indicators.txt",
            InputKind::Threatfox => "threatfox.csv",
        }
    }
}

/// What the summary line of `watchfire import --json` (its last line) says.
#[derive(Debug)]
struct Summary {
    records: u64,
    rejects: u64,
    new_versions: u64,
    /// The `by_kind` object as printed.
    by_kind: String,
}

/// What `watchfire stats --json` says.
#[derive(Debug)]
struct Stats {
    /// Objects in the store (each with one version after a first import).
    objects: u64,
    indicators: u64,
}

/// One line of the table: the runs of one case.
#[derive(Debug)]
struct Row {
    label: &'static str,
    records: u64,
    seconds: Vec<f64>,
}

impl Row {
    fn median(&self) -> f64 {
        median(self.seconds.clone())
    }

    fn objects_per_second(&self) -> f64 {
        self.records as f64 / self.median()
    }
}

/// Runs the whole benchmark and prints the Markdown report.
pub fn run(args: &[String]) -> Result<()> {
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        print!("{USAGE}");
        return Ok(());
    }
    let options = Options::parse(args)?;
    let directory = PathBuf::from(DIRECTORY);
    node::fresh_directory(&directory)?;
    let binary = node::build_release()?;

    let input = directory.join(options.input.file_name());
    let started = Instant::now();
    let bytes = write_input(&input, options.input, options.records)?;
    println!(
        "generated {} ({} indicators, {:.0} MB) in {:.1?}",
        input.display(),
        thousands(options.records),
        bytes as f64 / 1e6,
        started.elapsed()
    );

    let load_before = load_average();
    let rows = time_cases(&binary, &directory, &input, &options)?;
    let load_after = load_average();
    println!();
    println!("{}", report(&rows, &options, bytes, &load_before, &load_after));
    if !options.keep {
        fs::remove_dir_all(&directory)
            .with_context(|| format!("cannot delete {}", directory.display()))?;
    }
    Ok(())
}

/// Times the three cases: SQLite fresh, PostgreSQL fresh, SQLite re-import.
fn time_cases(
    binary: &Path,
    directory: &Path,
    input: &Path,
    options: &Options,
) -> Result<Vec<Row>> {
    let n = options.records;
    let format = options.input.format();

    // A fresh SQLite store each run; the last one stays filled for the re-import.
    let store = directory.join("sqlite");
    let mut fresh = Row { label: "SQLite, fresh store", records: n, seconds: Vec::new() };
    for run in 1..=options.runs {
        remove_if_exists(&store)?;
        let (seconds, summary) = import(node::watchfire(binary, &store), format, input)?;
        let stats = stats(node::watchfire(binary, &store))?;
        check_fresh(&summary, &stats, n).with_context(|| format!("sqlite fresh run {run}"))?;
        println!("sqlite fresh run {run}: {} in {seconds:.2} s", describe(&summary));
        fresh.seconds.push(seconds);
    }

    let mut again = Row { label: "SQLite, re-import (0 new)", records: n, seconds: Vec::new() };
    for run in 1..=options.runs {
        let (seconds, summary) = import(node::watchfire(binary, &store), format, input)?;
        check_again(&summary, n).with_context(|| format!("sqlite re-import run {run}"))?;
        println!("sqlite re-import run {run}: {} in {seconds:.2} s", describe(&summary));
        again.seconds.push(seconds);
    }
    remove_if_exists(&store)?;

    // A fresh database each run, dropped afterwards; the node's own data directory is fresh too.
    let cluster = postgres::Cluster::start(directory, Durability::Default)?;
    let mut postgres_row =
        Row { label: "PostgreSQL, fresh database", records: n, seconds: Vec::new() };
    let data = directory.join("postgres-node");
    for run in 1..=options.runs {
        let database = format!("bench_ingest_{run}");
        cluster.execute(&format!("CREATE DATABASE {database}"))?;
        remove_if_exists(&data)?;
        let node = || {
            let mut command = node::watchfire(binary, &data);
            command.arg("--database").arg(cluster.database_url(&database));
            command
        };
        let (seconds, summary) = import(node(), format, input)?;
        let stats = stats(node())?;
        check_fresh(&summary, &stats, n).with_context(|| format!("postgres fresh run {run}"))?;
        println!("postgres fresh run {run}: {} in {seconds:.2} s", describe(&summary));
        postgres_row.seconds.push(seconds);
        cluster.execute(&format!("DROP DATABASE {database}"))?;
    }
    remove_if_exists(&data)?;
    drop(cluster);

    Ok(vec![fresh, postgres_row, again])
}

/// Runs `import --source bench --format FORMAT --json INPUT` and returns its wall-clock time
/// and summary line.
fn import(mut command: Command, format: &str, input: &Path) -> Result<(f64, Summary)> {
    command.args(["import", "--source", SOURCE, "--format", format, "--json"]).arg(input);
    let started = Instant::now();
    let output = command.output().context("cannot run watchfire import")?;
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("watchfire import failed ({}): {}", output.status, stderr.trim());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last_line = stdout.lines().rfind(|line| !line.trim().is_empty()).unwrap_or_default();
    let summary = parse_summary(last_line)
        .with_context(|| format!("bad summary line {last_line:?}; stderr: {}", stderr.trim()))?;
    Ok((seconds, summary))
}

fn parse_summary(line: &str) -> Result<Summary> {
    let value: serde_json::Value = serde_json::from_str(line).context("not JSON")?;
    let number = |field: &str| {
        value.get(field).and_then(serde_json::Value::as_u64).with_context(|| format!("no {field}"))
    };
    Ok(Summary {
        records: number("records")?,
        rejects: number("rejects")?,
        new_versions: number("new_versions")?,
        by_kind: value.get("by_kind").map(ToString::to_string).unwrap_or_default(),
    })
}

/// Runs `stats --json` and returns the objects of the store and how many are indicators.
fn stats(mut command: Command) -> Result<Stats> {
    let output =
        command.args(["stats", "--json"]).output().context("cannot run watchfire stats")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "watchfire stats failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    parse_stats(&stdout).with_context(|| format!("bad stats {:?}", stdout.trim()))
}

fn parse_stats(text: &str) -> Result<Stats> {
    let value: serde_json::Value = serde_json::from_str(text).context("not JSON")?;
    let objects = value.get("objects").and_then(serde_json::Value::as_u64).context("no objects")?;
    let indicators = value
        .pointer("/by_type/indicator")
        .and_then(serde_json::Value::as_u64)
        .context("no by_type.indicator")?;
    Ok(Stats { objects, indicators })
}

/// Fails unless an import into a fresh store read `records` records without a reject, stored
/// one indicator for each, and found every object it stored new (the indicators, and the
/// objects they refer to, such as the source's identity).
fn check_fresh(summary: &Summary, stats: &Stats, records: u64) -> Result<()> {
    let is_complete = summary.records == records
        && summary.rejects == 0
        && stats.indicators == records
        && summary.new_versions == stats.objects;
    if !is_complete {
        bail!(
            "expected {records} records, 0 rejects, {records} indicators stored and every stored \
             object new, got {}; the store holds {} indicators in {} objects",
            describe(summary),
            stats.indicators,
            stats.objects
        );
    }
    Ok(())
}

/// Fails unless a re-import read `records` records without a reject and added no version.
fn check_again(summary: &Summary, records: u64) -> Result<()> {
    if summary.records != records || summary.rejects != 0 || summary.new_versions != 0 {
        bail!(
            "expected {records} records, 0 rejects and 0 new versions, got {}",
            describe(summary)
        );
    }
    Ok(())
}

fn describe(summary: &Summary) -> String {
    format!(
        "{} records ({}), {} rejects, {} new versions",
        thousands(summary.records),
        summary.by_kind,
        summary.rejects,
        thousands(summary.new_versions)
    )
}

fn remove_if_exists(path: &Path) -> Result<()> {
    match fs::remove_dir_all(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => {
            Err(error).with_context(|| format!("cannot delete {}", path.display()))
        }
        _ => Ok(()),
    }
}

fn report(
    rows: &[Row],
    options: &Options,
    bytes: u64,
    load_before: &str,
    load_after: &str,
) -> String {
    let n_cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mut lines = vec![
        format!("- Machine: {n_cpus} CPUs (`nproc`), {}", cpu_model()),
        format!("- Load average (1, 5, 15 min): {load_before} before, {load_after} after"),
        format!(
            "- Input: {} distinct indicators, {:.0} MB, `--input {}` read as `{}`; median of {} \
             runs; wall-clock time of the whole `watchfire import` process",
            thousands(options.records),
            bytes as f64 / 1e6,
            match options.input {
                InputKind::List => "list",
                InputKind::Threatfox => "threatfox",
            },
            options.input.format(),
            options.runs
        ),
        String::new(),
        "| Backend | Records | Median | Objects/s | Of the 200 k/s goal |".to_owned(),
        "|---|--:|--:|--:|--:|".to_owned(),
    ];
    for row in rows {
        lines.push(format!(
            "| {} | {} | {:.2} s | {} | {:.2}x |",
            row.label,
            thousands(row.records),
            row.median(),
            thousands(row.objects_per_second() as u64),
            row.objects_per_second() / GOAL_PER_SECOND
        ));
    }
    lines.join("\n")
}

// ---------------------------------------------------------------------------------------------
// The input.

/// The kinds of generated indicators and their shares in percent (they add up to 100).
const MIX: [(Kind, u64); 6] = [
    (Kind::Ipv4, 35),
    (Kind::Ipv6, 5),
    (Kind::Domain, 20),
    (Kind::Url, 25),
    (Kind::Sha256, 10),
    (Kind::Md5, 5),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ipv4,
    Ipv6,
    Domain,
    Url,
    Sha256,
    Md5,
}

/// Draws indicators of the [`MIX`], never the same value twice.
#[derive(Debug)]
struct Indicators {
    rng: Rng,
    /// Hashes of the values drawn so far (a colliding hash only costs a redraw).
    seen: HashSet<u64>,
}

impl Indicators {
    fn new(seed: u64) -> Indicators {
        Indicators { rng: Rng::new(seed), seen: HashSet::new() }
    }

    fn next(&mut self) -> (Kind, String) {
        loop {
            let kind = {
                let mut roll = self.rng.below(100);
                let mut chosen = Kind::Ipv4;
                for (kind, percent) in MIX {
                    if roll < percent {
                        chosen = kind;
                        break;
                    }
                    roll -= percent;
                }
                chosen
            };
            let value = match kind {
                Kind::Ipv4 => self.rng.ipv4(),
                Kind::Ipv6 => self.rng.ipv6(),
                Kind::Domain => self.rng.domain(),
                Kind::Url => self.rng.url(),
                Kind::Sha256 => self.hash(64),
                Kind::Md5 => self.hash(32),
            };
            let mut hasher = DefaultHasher::new();
            value.hash(&mut hasher);
            if self.seen.insert(hasher.finish()) {
                return (kind, value);
            }
        }
    }

    /// A hex hash with both digits and letters: the extractor takes an all-digit run for a
    /// number, not a hash.
    fn hash(&mut self, n_chars: usize) -> String {
        loop {
            let hex = self.rng.hex(n_chars);
            let has_letter = hex.bytes().any(|byte| byte.is_ascii_alphabetic());
            let has_digit = hex.bytes().any(|byte| byte.is_ascii_digit());
            if has_letter && has_digit {
                return hex;
            }
        }
    }
}

/// Writes `n` indicators in the `kind` layout and returns the file's size.
fn write_input(path: &Path, kind: InputKind, n: u64) -> Result<u64> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let written = match kind {
        InputKind::List => write_list(&mut out, n),
        InputKind::Threatfox => write_threatfox(&mut out, n),
    };
    written
        .and_then(|()| out.flush())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(fs::metadata(path).with_context(|| format!("cannot stat {}", path.display()))?.len())
}

/// One value a line, nothing else (the same values on every call: `bench-api` imports them too).
pub fn write_list(out: &mut dyn Write, n: u64) -> io::Result<()> {
    let mut indicators = Indicators::new(0x1a6e_2026);
    for _ in 0..n {
        let (_, value) = indicators.next();
        writeln!(out, "{value}")?;
    }
    Ok(())
}

/// A ThreatFox full CSV export (2024 layout): the banner, the commented header, then one row per
/// indicator, every cell quoted and separated by `", "`.
fn write_threatfox(out: &mut dyn Write, n: u64) -> io::Result<()> {
    const MALWARE: [(&str, &str); 5] = [
        ("win.cobalt_strike", "Cobalt Strike"),
        ("elf.mozi", "Mozi"),
        ("win.asyncrat", "AsyncRAT"),
        ("js.clearfake", "ClearFake"),
        ("unknown", "Unknown malware"),
    ];
    let mut indicators = Indicators::new(0x7f0c_2026);
    out.write_all(
        b"################################################################\n\
          # ThreatFox IOCs: additions - CSV format (full dump)           #\n\
          # generated by cargo xtask bench-ingest                        #\n\
          ################################################################\n\
          #\n\
          # \"first_seen_utc\",\"ioc_id\",\"ioc_value\",\"ioc_type\",\"threat_type\",\"fk_malware\",\
          \"malware_alias\",\"malware_printable\",\"last_seen_utc\",\"confidence_level\",\
          \"reference\",\"tags\",\"anonymous\",\"reporter\"\n",
    )?;
    for id in 0..n {
        let (kind, value) = indicators.next();
        let rng = &mut indicators.rng;
        let (value, ioc_type, threat_type) = match kind {
            Kind::Ipv4 => (format!("{value}:{}", 1 + rng.below(65535)), "ip:port", "botnet_cc"),
            Kind::Ipv6 => (format!("[{value}]:{}", 1 + rng.below(65535)), "ip:port", "botnet_cc"),
            Kind::Domain => (value, "domain", "botnet_cc"),
            Kind::Url => (value, "url", "payload_delivery"),
            Kind::Sha256 => (value, "sha256_hash", "payload"),
            Kind::Md5 => (value, "md5_hash", "payload"),
        };
        let (malware, printable) = *rng.pick(&MALWARE);
        let first_seen = rng.datetime().replace('T', " ");
        // After every first_seen (those are in 2024 and 2025).
        let last_seen = match rng.chance(30) {
            true => format!("2026-{:02}-{:02} 12:00:00", 1 + rng.below(12), 1 + rng.below(28)),
            false => String::new(),
        };
        let confidence = rng.pick(&[50, 75, 100]);
        let reference = match rng.chance(20) {
            true => format!("https://bazaar.abuse.ch/sample/{}/", rng.hex(64)),
            false => "None".to_owned(),
        };
        let tags = rng.pick(&["None", "c2", "botnet,elf", "exe,signed,stealer"]);
        let reporter = rng.pick(&["abuse_ch", "malpulse", "Cryptolaemus1", "DonPasci"]);
        writeln!(
            out,
            "\"{first_seen}\", \"{}\", \"{value}\", \"{ioc_type}\", \"{threat_type}\", \
             \"{malware}\", \"None\", \"{printable}\", \"{last_seen}\", \"{confidence}\", \
             \"{reference}\", \"{tags}\", \"0\", \"{reporter}\"",
            1_000_000 + id
        )?;
    }
    writeln!(out, "# Number of entries: {n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line_of_import_is_read() {
        let line = r#"{"file":"x.txt","format":"freetext","records":3,"rejects":0,"by_kind":{"ipv4":2,"url":1},"new_versions":3}"#;
        let summary = parse_summary(line).unwrap();
        assert_eq!((summary.records, summary.rejects, summary.new_versions), (3, 0, 3));
        assert_eq!(summary.by_kind, r#"{"ipv4":2,"url":1}"#);
        let stats = parse_stats(r#"{"objects":3,"by_type":{"indicator":3}}"#).unwrap();
        assert!(check_fresh(&summary, &stats, 3).is_ok());
        assert!(check_fresh(&summary, &stats, 4).is_err());
        assert!(check_again(&summary, 3).is_err(), "3 new versions on a re-import");
        let with_identity = parse_stats(r#"{"objects":4,"by_type":{"indicator":3}}"#).unwrap();
        assert!(check_fresh(&summary, &with_identity, 3).is_err(), "an object was not new");
        assert!(parse_summary(r#"{"records":3,"rejects":0}"#).is_err(), "new_versions is required");
    }

    #[test]
    fn generated_values_are_distinct_and_mixed() {
        let mut indicators = Indicators::new(1);
        let mut values = HashSet::new();
        let mut kinds = HashSet::new();
        for _ in 0..20_000 {
            let (kind, value) = indicators.next();
            assert!(values.insert(value.clone()), "{value} drawn twice");
            kinds.insert(format!("{kind:?}"));
        }
        assert_eq!(kinds.len(), MIX.len());
    }
}
