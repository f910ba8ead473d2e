//! Project automation: `cargo xtask test` runs every check CI runs; the other commands run the
//! long benchmarks and fuzzers that stay out of the test suite.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

mod bench_api;
mod bench_formats;
mod bench_ingest;
mod bench_match;
mod bench_scan;
mod bench_taxii;
mod bench_warn;
mod gen_logs;
mod node;
mod postgres;
mod tools;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test                 fmt --check, clippy -D warnings, every test, and a short run of each fuzz target
  bench-api [...]      requests/s and p99 of lookups and searches of `watchfire serve` on 1M indicators
  bench-extract        criterion benchmark of `watchfire extract` on a generated 100+ MB mixed log
  bench-formats [...]  feed readers vs Python (stix2, csv, json, PyMISP) on generated 1M-record inputs
  bench-ingest [...]   end-to-end `watchfire import` rate of 1M generated indicators into SQLite
                       and into a private PostgreSQL cluster
  bench-match          match-index lookups/s (1M and 10M indicators) beside PostgreSQL inet + GiST
  bench-scan [...]     `watchfire match` over >= 1 GB of generated logs with 1M indicators beside
                       `rg -F -f` and `grep -F -f` (MB/s, hits, substring false positives)
  bench-taxii [...]    paging a 1M-object TAXII collection: our server beside medallion 3.0.0
  bench-warn [...]     p99 from an import's acknowledgement to its alert on the member's live
                       stream, while importing 10 000 indicators/s
  gen-logs [--lines N] [--extra-indicators N] [--spread N] DIR
                       deterministic Zeek and EVE logs with known malicious values and decoys,
                       their indicators and the ground truth of `watchfire match` (default 10000
                       lines a log; extra indicators no line holds; bad values in 1 block of N)
  postgres             start a private PostgreSQL cluster (as the tests use), print its URL, and
                       stop and delete it on Ctrl-D or Ctrl-C
  fuzz [RUNS [TARGET...]]
                       run every fuzz target (or the named ones) for RUNS executions each
                       (default 1000000), starting from the shared feed samples
";

/// A fuzz target under `fuzz/fuzz_targets/` and where its seeds come from.
struct FuzzTarget {
    name: &'static str,
    /// Folders of [`FIXTURES`] whose files are copied into the target's corpus before a run.
    fixtures: &'static [&'static str],
    /// Folders of this project whose files are copied into the corpus too.
    project_seeds: &'static [&'static str],
}

const fn target(name: &'static str, fixtures: &'static [&'static str]) -> FuzzTarget {
    FuzzTarget { name, fixtures, project_seeds: &[] }
}

/// Every fuzz target, each fed untrusted bytes: the `model` parsers, then `formats`' input layer,
/// detection, and one target per reader family.
const FUZZ_TARGETS: &[FuzzTarget] = &[
    target("observable_parse", &[]),
    target("extract", &[]),
    target("pattern_parse", &[]),
    target("input", &["plain-ip-list", "spamhaus-drop", "abusech-urlhaus"]),
    // The whole fixture folder (every family, and SOURCES.md as free text).
    target("detect", &[""]),
    target(
        "abusech",
        &[
            "abusech-feodotracker",
            "abusech-legacy",
            "abusech-sslbl",
            "abusech-threatfox",
            "abusech-urlhaus",
        ],
    ),
    target("spamhaus", &["spamhaus-drop", "spamhaus-cert"]),
    target(
        "blocklists",
        &[
            "alienvault-reputation",
            "bambenek",
            "blocklist-de",
            "cins-army",
            "danger-rulez",
            "dataplane",
            "dshield",
            "emergingthreats-compromised",
            "generic-csv",
            "malwaredomains",
            "team-cymru-fullbogons",
            "tor-exit-nodes",
            "turris-greylist",
        ],
    ),
    target("team_cymru", &["team-cymru-cap"]),
    target("plain", &["plain-ip-list", "plain-domain-list"]),
    FuzzTarget {
        name: "csvmap",
        fixtures: &["generic-csv", "abusech-urlhaus", "turris-greylist", "bambenek"],
        project_seeds: &["crates/formats/mappings"],
    },
    target("stix", &["stix20", "stix21"]),
    target("misp", &["misp-event", "misp-feed-metadata", "misp-feed-osint", "misp-warninglists"]),
    target("alienvault_otx", &["alienvault-otx"]),
    target("phishtank", &["phishtank"]),
    target("openphish", &["openphish"]),
    target("json_stream", &["stix21", "misp-event", "phishtank", "abusech-threatfox"]),
    target("shadowserver", &["shadowserver"]),
    target("cleanmx", &["cleanmx"]),
    target("cybercrime_tracker", &["cybercrime-tracker"]),
    target("freetext", &["cybercrime-tracker", "openphish", "dshield"]),
];

/// The shared feed samples the fuzz corpora start from (outside the project, never committed).
const FIXTURES: &str = "../shared/fixtures/feeds";

/// Executions per fuzz target inside `cargo xtask test`: enough to catch a shallow crash, short enough for CI.
const FUZZ_RUNS_IN_TEST: u64 = 20_000;

/// Where the smoke run keeps its corpus: a fresh one each time (removed afterwards), so the smoke
/// never loads the big corpus a long `cargo xtask fuzz` grows in `fuzz/corpus/`.
const SMOKE_CORPUS: &str = "target/fuzz-smoke-corpus";

/// The longest input libFuzzer makes; the feed samples are cut to it.
const FUZZ_MAX_LEN: usize = 4096;

fn main() -> Result<()> {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = project_root();
    env::set_current_dir(&root).with_context(|| format!("cannot enter {}", root.display()))?;
    match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("bench-extract") => cargo(&["bench", "-p", "watchfire-model", "--bench", "extract"]),
        Some("bench-formats") => bench_formats::run(&args[1..]),
        Some("bench-ingest") => bench_ingest::run(&args[1..]),
        Some("bench-api") => bench_api::run(&args[1..]),
        Some("gen-logs") => gen_logs_command(&args[1..]),
        Some("bench-match") => bench_match::run(&args[1..]),
        Some("bench-scan") => bench_scan::run(&args[1..]),
        Some("bench-taxii") => bench_taxii::run(&args[1..]),
        Some("bench-warn") => bench_warn::run(&args[1..]),
        Some("postgres") => postgres::serve(),
        Some("fuzz") => {
            let runs = match args.get(1) {
                Some(runs) => {
                    runs.parse().with_context(|| format!("fuzz: bad run count {runs:?}"))?
                }
                None => 1_000_000,
            };
            let names = &args[args.len().min(2)..];
            if let Some(unknown) =
                names.iter().find(|name| !FUZZ_TARGETS.iter().any(|target| target.name == *name))
            {
                bail!("fuzz: unknown target {unknown:?}");
            }
            fuzz(runs, names, Path::new("fuzz/corpus"))
        }
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}

/// Runs everything CI runs, stopping at the first failure.
fn test() -> Result<()> {
    let started = Instant::now();
    step("format", || cargo(&["fmt", "--all", "--check"]))?;
    step("clippy", || {
        cargo(&["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"])
    })?;
    // Debian programs and the venv, before the tests that run them (openssl and curl in the
    // server's TLS test) and the writer consumer checks.
    let mut venv = None;
    step("test tools", || {
        venv = Some(tools::ensure_test_tools()?.venv);
        Ok(())
    })?;
    // The store's tests run against this cluster too; it is stopped and deleted when dropped,
    // whether the steps pass or fail.
    let postgres = postgres::Cluster::start(&env::temp_dir(), postgres::Durability::Unsafe)?;
    step("tests", || {
        let mut command = Command::new("cargo");
        command.args(["test", "--workspace", "--locked"]);
        command.env(postgres::TEST_URL_VAR, postgres.url());
        // The TAXII conformance tests run taxii2-client and medallion from the venv.
        if let Some(venv) = &venv {
            command.env("WATCHFIRE_VENV", venv);
        }
        run_cargo(&mut command)
    })?;
    step("writer consumer checks", tools::consumer_checks)?;
    drop(postgres);
    step("fuzz smoke", || fuzz(FUZZ_RUNS_IN_TEST, &[], Path::new(SMOKE_CORPUS)))?;
    println!("xtask test: all checks passed in {:.0?}", started.elapsed());
    Ok(())
}

fn step(name: &str, run: impl FnOnce() -> Result<()>) -> Result<()> {
    let started = Instant::now();
    println!("==> {name}");
    run().with_context(|| format!("xtask test: step {name} failed"))?;
    println!("==> {name}: ok in {:.1?}", started.elapsed());
    Ok(())
}

/// Runs each fuzz target named in `names` (every one when empty) for `runs` executions, growing its
/// corpus in `corpus_root/<target>/`, with cargo-fuzz, installing it first if needed.
///
/// cargo-fuzz needs a nightly compiler only for its sanitizers; the machine has one stable
/// toolchain, so the targets run with `--sanitizer none` (the code is safe Rust: a crash is a panic,
/// which libFuzzer catches without a sanitizer). All targets are built in one `cargo fuzz build`
/// first, so each run starts at once.
fn fuzz(runs: u64, names: &[String], corpus_root: &Path) -> Result<()> {
    let is_smoke = corpus_root == Path::new(SMOKE_CORPUS);
    ensure_cargo_fuzz()?;
    let started = Instant::now();
    let status = Command::new("cargo")
        .args(["fuzz", "build", "--sanitizer", "none", "--release"])
        .status()
        .context("cannot run cargo fuzz build")?;
    if !status.success() {
        bail!("cargo fuzz build failed ({status})");
    }
    println!("fuzz targets built in {:.1?}", started.elapsed());
    let is_chosen =
        |target: &&FuzzTarget| names.is_empty() || names.iter().any(|name| name == target.name);
    for target in FUZZ_TARGETS.iter().filter(is_chosen) {
        let started = Instant::now();
        let corpus = corpus_root.join(target.name);
        if is_smoke && corpus.exists() {
            std::fs::remove_dir_all(&corpus)
                .with_context(|| format!("cannot remove {}", corpus.display()))?;
        }
        std::fs::create_dir_all(&corpus)
            .with_context(|| format!("cannot create {}", corpus.display()))?;
        let n_seeds = copy_seeds(target, &corpus)?;
        let mut command = Command::new("cargo");
        command.args(["fuzz", "run", "--sanitizer", "none", "--release", target.name]).arg(&corpus);
        let seeds = PathBuf::from("fuzz/seeds").join(target.name);
        if seeds.is_dir() {
            command.arg(seeds);
        }
        let max_len = format!("-max_len={FUZZ_MAX_LEN}");
        command.args(["--", &format!("-runs={runs}"), &max_len, "-print_final_stats=1"]);
        let status = command.status().context("cannot run cargo fuzz")?;
        if is_smoke {
            std::fs::remove_dir_all(&corpus)
                .with_context(|| format!("cannot remove {}", corpus.display()))?;
        }
        if !status.success() {
            bail!(
                "fuzz target {} failed ({status}): see fuzz/artifacts/{}",
                target.name,
                target.name
            );
        }
        println!(
            "fuzz target {}: {runs} runs ({n_seeds} sample files copied), no crash, in {:.1?}",
            target.name,
            started.elapsed()
        );
    }
    Ok(())
}

/// Copies the files of the target's fixture and project seed folders (recursively) into its
/// corpus, named after their paths, and returns how many. A missing fixture folder is skipped
/// with a note: the shared samples are not part of the project.
fn copy_seeds(target: &FuzzTarget, corpus: &Path) -> Result<usize> {
    let fixtures = target.fixtures.iter().map(|folder| Path::new(FIXTURES).join(folder));
    let project = target.project_seeds.iter().map(PathBuf::from);
    let mut n_copied = 0;
    for folder in fixtures.chain(project) {
        if !folder.is_dir() {
            println!("fuzz target {}: no seed folder {}, skipped", target.name, folder.display());
            continue;
        }
        let mut pending = vec![folder.clone()];
        while let Some(directory) = pending.pop() {
            let entries = std::fs::read_dir(&directory)
                .with_context(|| format!("cannot list {}", directory.display()))?;
            for entry in entries {
                let path =
                    entry.with_context(|| format!("cannot list {}", directory.display()))?.path();
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                let relative = path.strip_prefix(&folder).unwrap_or(&path);
                let name = format!(
                    "sample-{}-{}",
                    folder.file_name().unwrap_or_default().to_string_lossy(),
                    relative.to_string_lossy().replace(['/', '\\'], "-")
                );
                std::fs::copy(&path, corpus.join(name))
                    .with_context(|| format!("cannot copy {}", path.display()))?;
                n_copied += 1;
            }
        }
    }
    Ok(n_copied)
}

fn ensure_cargo_fuzz() -> Result<()> {
    let installed = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    if installed {
        return Ok(());
    }
    println!("installing cargo-fuzz from crates.io");
    cargo(&["install", "cargo-fuzz", "--locked", "--version", "0.13.2"])
}

fn gen_logs_command(args: &[String]) -> Result<()> {
    let usage = "usage: cargo xtask gen-logs [--lines N] [--extra-indicators N] [--spread N] [--shape full|minimal] DIR";
    let mut options = gen_logs::Options {
        lines: 10_000,
        extra_indicators: 0,
        spread: 1,
        shape: gen_logs::Shape::Full,
    };
    let mut dir = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut number = |name: &str| -> Result<usize> {
            let value = rest.next().with_context(|| format!("{name} takes a number; {usage}"))?;
            value.parse().with_context(|| format!("{name} takes a number; {usage}"))
        };
        match arg.as_str() {
            "--lines" => options.lines = number("--lines")?,
            "--extra-indicators" => options.extra_indicators = number("--extra-indicators")?,
            "--spread" => options.spread = number("--spread")?,
            "--shape" => {
                let name = rest.next().map(String::as_str).unwrap_or_default();
                options.shape = gen_logs::Shape::parse(name)
                    .with_context(|| format!("--shape takes full or minimal; {usage}"))?;
            }
            _ if dir.is_none() && !arg.starts_with("--") => dir = Some(Path::new(arg)),
            _ => bail!("{usage}"),
        }
    }
    let dir = dir.with_context(|| usage.to_owned())?;
    gen_logs::generate_with(dir, &options)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    println!(
        "wrote {}: indicators.txt (import with --format freetext), conn.log, dns.log, http.log, eve.json ({} lines each), truth.tsv",
        dir.display(),
        options.lines
    );
    Ok(())
}

fn cargo(args: &[&str]) -> Result<()> {
    run_cargo(Command::new("cargo").args(args))
}

fn run_cargo(command: &mut Command) -> Result<()> {
    let args: Vec<_> = command.get_args().map(|arg| arg.to_string_lossy().into_owned()).collect();
    let status = command.status().with_context(|| format!("cannot run cargo {args:?}"))?;
    if !status.success() {
        bail!("cargo {} failed: {status}", args.join(" "));
    }
    Ok(())
}

fn project_root() -> PathBuf {
    // Cannot fail: xtask/ always sits in the project root, where Cargo puts CARGO_MANIFEST_DIR.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask has a parent directory")
        .to_path_buf()
}
