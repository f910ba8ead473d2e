//! `cargo xtask bench-scan [--lines N] [--indicators N] [--spread N] [--shape full|minimal]
//! [--rounds N] [--keep]`: `watchfire match` over generated logs (issue 5) beside `rg -F -f` and `grep -F -f`,
//! in one run.
//!
//! `cargo xtask gen-logs` writes Zeek conn/dns/http and EVE logs (`--lines` each; the default
//! 1 000 000 makes about 1.1 GB of logs of the full shape, every column Zeek writes by default and
//! Suricata's usual members; the minimal shape's default 2 300 000 makes about 1.07 GB) with their
//! ground truth, and the indicators padded to
//! `--indicators` with values no line holds. The indicators go into a fresh store
//! (`import --format freetext`, as the ground-truth test does), and the same file is the literal
//! pattern list of `rg -F -f` and `LC_ALL=C grep -F -f`. A first `match` on an empty log builds
//! the index and writes its cache file (`index.snapshot`). Each tool then runs once on one thread
//! (`match --threads 1`, `rg -j1`) under `/usr/bin/time`, writing what it finds into a file:
//! `match` once building its index from the store (`--no-cache`) and once loading the cache, then
//! again on every core; the three `match` runs take turns, `--rounds` times (default 5), and the
//! table gives each one's medians (every round must report the same lines), since the speed of
//! this kind of machine drifts from one minute to the next. `rg` and `grep` run once (about a
//! minute each). Each run of a tool follows one on an empty log: its setup (building or loading
//! the index; compiling a million patterns), which the scan rate after setup leaves out. The
//! ratios against `rg` and `grep` are those of `match --threads 1` with its cache.
//!
//! Reported per tool: wall seconds, CPU seconds (user + sys), MB/s of wall time and of CPU time,
//! peak resident memory, lines reported, and against the ground truth: lines with a real hit
//! found, false positives (lines reported that hold no hit: substrings such as `1.2.3.40` for
//! `1.2.3.4`, `notevil.example` for `evil.example`) and misses (hits inside networks, which no
//! literal string finds). Inputs live under `target/bench-scan` and are deleted afterwards
//! unless `--keep`.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::bench_formats::{cpu_model, load_average, median, thousands};
use crate::gen_logs;

const DIRECTORY: &str = "target/bench-scan";
const LOGS: [&str; 4] = ["conn.log", "dns.log", "http.log", "eve.json"];

struct Options {
    /// Lines a log; `None` for the shape's default.
    lines: Option<usize>,
    indicators: usize,
    spread: usize,
    shape: gen_logs::Shape,
    /// Runs of each `match` command.
    rounds: usize,
    keep: bool,
}

/// The (file name, line number) pairs of the lines a tool reported.
type Lines = HashSet<(String, u64)>;

/// One tool's run.
struct Run {
    label: String,
    wall: f64,
    cpu: f64,
    /// CPU seconds of the same command on an empty log.
    setup_cpu: f64,
    /// CPU seconds of the scan after setup (`cpu - setup_cpu`; the median of the rounds' for
    /// a median run).
    scan_cpu: f64,
    max_rss_kib: u64,
    /// The (file, line) pairs it reported.
    lines: Lines,
}

/// Runs the benchmark.
pub fn run(args: &[String]) -> Result<()> {
    let options = parse(args)?;
    println!(
        "machine: {} CPUs, {}; load average before: {}",
        std::thread::available_parallelism().map_or(1, usize::from),
        cpu_model(),
        load_average()
    );
    let status = Command::new("cargo")
        .args(["build", "--release", "-p", "watchfire-cli"])
        .status()
        .context("cannot run cargo build")?;
    if !status.success() {
        bail!("cargo build --release -p watchfire-cli failed");
    }
    if Command::new("rg").arg("--version").output().is_err() {
        crate::tools::apt_install(&["ripgrep"])?;
    }
    let directory = Path::new(DIRECTORY);
    if directory.exists() {
        fs::remove_dir_all(directory).context("cannot clear target/bench-scan")?;
    }
    let result = bench(directory, &options);
    if !options.keep {
        fs::remove_dir_all(directory).context("cannot delete target/bench-scan")?;
    }
    result
}

fn parse(args: &[String]) -> Result<Options> {
    let usage = "usage: cargo xtask bench-scan [--lines N] [--indicators N] [--spread N] [--shape full|minimal] [--rounds N] [--keep]";
    let mut options = Options {
        lines: None,
        indicators: 1_000_000,
        spread: 1,
        shape: gen_logs::Shape::Full,
        rounds: 5,
        keep: false,
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut number = |name: &str| -> Result<usize> {
            let value = rest.next().with_context(|| format!("{name} takes a number; {usage}"))?;
            value.parse().with_context(|| format!("{name} takes a number; {usage}"))
        };
        match arg.as_str() {
            "--lines" => options.lines = Some(number("--lines")?),
            "--indicators" => options.indicators = number("--indicators")?,
            "--spread" => options.spread = number("--spread")?,
            "--rounds" => options.rounds = number("--rounds")?.max(1),
            "--shape" => {
                let name = rest.next().map(String::as_str).unwrap_or_default();
                options.shape = gen_logs::Shape::parse(name)
                    .with_context(|| format!("--shape takes full or minimal; {usage}"))?;
            }
            "--keep" => options.keep = true,
            _ => bail!("{usage}"),
        }
    }
    Ok(options)
}

fn bench(directory: &Path, options: &Options) -> Result<()> {
    let logs_dir = directory.join("logs");
    let n_bad = 6 * 40;
    let lines = options.lines.unwrap_or(match options.shape {
        gen_logs::Shape::Full => 1_000_000,
        gen_logs::Shape::Minimal => 2_300_000,
    });
    let generate = gen_logs::Options {
        lines,
        extra_indicators: options.indicators.saturating_sub(n_bad),
        spread: options.spread,
        shape: options.shape,
    };
    gen_logs::generate_with(&logs_dir, &generate).context("cannot generate the logs")?;
    let logs: Vec<PathBuf> = LOGS.iter().map(|name| logs_dir.join(name)).collect();
    let mut bytes = 0;
    for log in &logs {
        bytes += fs::metadata(log).with_context(|| format!("cannot stat {}", log.display()))?.len();
    }
    let indicators = logs_dir.join("indicators.txt");
    let n_indicators = BufReader::new(File::open(&indicators)?).lines().count();
    println!(
        "logs ({:?} shape): {} lines each, {} bytes in 4 files; {} indicators",
        options.shape,
        thousands(lines as u64),
        thousands(bytes),
        thousands(n_indicators as u64)
    );

    let binary = Path::new("target/release/watchfire");
    let store = directory.join("store");
    let mut import = Command::new(binary);
    import.env_remove("WATCHFIRE_DATA").env_remove("WATCHFIRE_DATABASE");
    import.arg("--data").arg(&store).args(["import", "--format", "freetext", "--json"]);
    import.arg(&indicators);
    let (wall, cpu, _) = timed(&import, &directory.join("import.out"), directory)?;
    println!("import of the indicators: {wall:.1} s ({cpu:.1} CPU s)");

    let truth = read_truth(&logs_dir.join("truth.tsv"))?;
    let match_command = |extra: &[&str]| {
        let mut command = Command::new(binary);
        command.env_remove("WATCHFIRE_DATA").env_remove("WATCHFIRE_DATABASE");
        command.arg("--data").arg(&store).args(["match", "--json"]).args(extra);
        command
    };
    // The first `match` builds the index and writes its cache file; the runs after load it.
    let empty = directory.join("empty.log");
    File::create(&empty)?;
    let mut first = match_command(&["--threads", "1"]);
    first.arg(&empty);
    let (_, first_cpu, _) = timed(&first, &directory.join("tool.out"), directory)?;
    let cache_bytes = fs::metadata(store.join("index.snapshot")).map_or(0, |meta| meta.len());
    println!(
        "first match: built the index and wrote its cache ({} bytes) in {first_cpu:.2} CPU s",
        thousands(cache_bytes)
    );
    let configurations = [
        ("watchfire match --threads 1 --no-cache", &["--threads", "1", "--no-cache"][..]),
        ("watchfire match --threads 1", &["--threads", "1"][..]),
        ("watchfire match (every core)", &[][..]),
    ];
    let mut rounds: Vec<Vec<Run>> = configurations.iter().map(|_| Vec::new()).collect();
    for round in 1..=options.rounds {
        println!("round {round} of {}", options.rounds);
        for ((label, extra), runs) in configurations.iter().zip(&mut rounds) {
            runs.push(run_tool(directory, label, &match_command(extra), &logs, read_match_output)?);
        }
    }
    let mut runs = Vec::new();
    for samples in rounds {
        let rates: Vec<f64> = samples.iter().map(|run| bytes as f64 / 1e6 / run.cpu).collect();
        let low = rates.iter().copied().fold(f64::INFINITY, f64::min);
        let high = rates.iter().copied().fold(0.0, f64::max);
        let median_run = median_of(samples)?;
        println!(
            "{}: MB per CPU-s over {} rounds: {low:.0} to {high:.0}, median {:.0}",
            median_run.label,
            options.rounds,
            bytes as f64 / 1e6 / median_run.cpu
        );
        runs.push(median_run);
    }
    let mut rg = Command::new("rg");
    rg.args(["-F", "-f"]).arg(&indicators).args(["-n", "-H", "--no-heading", "-j1"]);
    runs.push(run_tool(directory, "rg -F -f (1 thread)", &rg, &logs, read_grep_output)?);
    let mut grep = Command::new("grep");
    grep.env("LC_ALL", "C").args(["-F", "-f"]).arg(&indicators).args(["-n", "-H"]);
    runs.push(run_tool(directory, "LC_ALL=C grep -F -f", &grep, &logs, read_grep_output)?);

    println!(
        "\nThe `match` rows are medians of {} rounds (each figure its own); `rg` and `grep` ran once.",
        options.rounds
    );
    println!(
        "\n| tool | wall s | CPU s | setup CPU s | MB/s (wall) | MB/s per CPU-s | MB/s per CPU-s after setup | peak RSS MB | lines reported | real hit lines found | false positives | misses |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for run in &runs {
        let found = run.lines.intersection(&truth).count();
        let false_positives = run.lines.len() - found;
        let misses = truth.len() - found;
        println!(
            "| {} | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {} of {} | {} | {} |",
            run.label,
            run.wall,
            run.cpu,
            run.setup_cpu,
            bytes as f64 / 1e6 / run.wall,
            bytes as f64 / 1e6 / run.cpu,
            bytes as f64 / 1e6 / run.scan_cpu.max(1e-3),
            run.max_rss_kib as f64 / 1024.0,
            thousands(run.lines.len() as u64),
            thousands(found as u64),
            thousands(truth.len() as u64),
            thousands(false_positives as u64),
            thousands(misses as u64),
        );
    }
    // `match` with its cache against the others.
    let ours = &runs[1];
    for other in &runs[3..] {
        println!(
            "match / {}: {:.1}x per CPU-second, {:.1}x per CPU-second after setup, {:.1}x wall",
            other.label,
            other.cpu / ours.cpu,
            other.scan_cpu / ours.scan_cpu.max(1e-3),
            other.wall / ours.wall
        );
    }
    println!("load average after: {}", load_average());
    Ok(())
}

// Runs one tool on an empty log (its setup), then on `logs` into a file, and reads the (file,
// line) pairs it reported.
fn run_tool(
    directory: &Path,
    label: &str,
    command: &Command,
    logs: &[PathBuf],
    read: fn(&Path) -> Result<Lines>,
) -> Result<Run> {
    let output = directory.join("tool.out");
    let empty = directory.join("empty.log");
    File::create(&empty)?;
    println!("running {label}");
    let mut on_empty = clone(command);
    on_empty.arg(&empty);
    let (_, setup_cpu, _) = timed(&on_empty, &output, directory)?;
    let mut on_logs = clone(command);
    on_logs.args(logs);
    let (wall, cpu, max_rss_kib) = timed(&on_logs, &output, directory)?;
    let lines = read(&output).with_context(|| format!("cannot read the output of {label}"))?;
    fs::remove_file(&output).ok();
    let scan_cpu = cpu - setup_cpu;
    Ok(Run { label: label.to_owned(), wall, cpu, setup_cpu, scan_cpu, max_rss_kib, lines })
}

// One run of the medians of `samples` (runs of one command), each figure's own; fails when the
// runs did not all report the same lines.
fn median_of(samples: Vec<Run>) -> Result<Run> {
    let figure = |of: fn(&Run) -> f64| median(samples.iter().map(of).collect());
    let (wall, cpu) = (figure(|run| run.wall), figure(|run| run.cpu));
    let (setup_cpu, scan_cpu) = (figure(|run| run.setup_cpu), figure(|run| run.scan_cpu));
    let max_rss_kib = figure(|run| run.max_rss_kib as f64) as u64;
    let mut samples = samples.into_iter();
    let first = samples.next().context("no run")?;
    for (round, run) in samples.enumerate() {
        if run.lines != first.lines {
            bail!("{}: round {} reported other lines than round 1", run.label, round + 2);
        }
    }
    Ok(Run { wall, cpu, setup_cpu, scan_cpu, max_rss_kib, ..first })
}

fn clone(command: &Command) -> Command {
    let mut copy = Command::new(command.get_program());
    copy.args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => copy.env(key, value),
            None => copy.env_remove(key),
        };
    }
    copy
}

// Runs `command` under `/usr/bin/time` with its standard output in `output`; returns wall
// seconds, CPU seconds (user + sys) and peak resident KiB. Exit code 1 (grep's "nothing found")
// is no failure.
fn timed(command: &Command, output: &Path, directory: &Path) -> Result<(f64, f64, u64)> {
    let times = directory.join("time.out");
    let mut timed = Command::new("/usr/bin/time");
    timed.arg("-o").arg(&times).args(["-f", "%e %U %S %M"]).arg(command.get_program());
    timed.args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => timed.env(key, value),
            None => timed.env_remove(key),
        };
    }
    timed.stdout(File::create(output)?);
    let status = timed.status().context("cannot run /usr/bin/time")?;
    if !status.success() && status.code() != Some(1) {
        bail!("{:?} failed: {status}", command.get_program());
    }
    let text = fs::read_to_string(&times)?;
    let fields: Vec<f64> = text
        .lines()
        .last()
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    let [wall, user, sys, rss] = fields[..] else {
        bail!("unexpected /usr/bin/time output {text:?}");
    };
    Ok((wall, user + sys, rss as u64))
}

fn read_truth(path: &Path) -> Result<Lines> {
    let mut truth = HashSet::new();
    for line in BufReader::new(File::open(path)?).lines() {
        let line = line?;
        let mut fields = line.split('\t');
        if let (Some(file), Some(number)) = (fields.next(), fields.next()) {
            truth.insert((file.to_owned(), number.parse()?));
        }
    }
    Ok(truth)
}

// `{"file":…,"line":N,…}` per hit, then a summary line.
fn read_match_output(path: &Path) -> Result<Lines> {
    let mut lines = HashSet::new();
    for line in BufReader::new(File::open(path)?).lines() {
        let value: serde_json::Value = serde_json::from_str(&line?)?;
        let (Some(file), Some(number)) = (value["file"].as_str(), value["line"].as_u64()) else {
            continue;
        };
        lines.insert((base_name(file), number));
    }
    Ok(lines)
}

// `path:line:text` per line found.
fn read_grep_output(path: &Path) -> Result<Lines> {
    let mut lines = HashSet::new();
    for line in BufReader::new(File::open(path)?).split(b'\n') {
        let line = line?;
        let mut fields = line.splitn(3, |byte| *byte == b':');
        let (Some(file), Some(number)) = (fields.next(), fields.next()) else { continue };
        let number = std::str::from_utf8(number)?.parse()?;
        lines.insert((base_name(&String::from_utf8_lossy(file)), number));
    }
    Ok(lines)
}

fn base_name(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_owned()
}
