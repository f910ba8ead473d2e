//! Project automation: `cargo xtask test` runs every check CI runs; the other commands run the
//! long benchmarks and fuzzers that stay out of the test suite.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

mod bench_formats;
mod tools;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test                 fmt --check, clippy -D warnings, every test, and a short run of each fuzz target
  bench-extract        criterion benchmark of `watchfire extract` on a generated 100+ MB mixed log
  bench-formats [...]  feed readers vs Python (stix2, csv, json, PyMISP) on generated 1M-record inputs
  fuzz [RUNS]          run every fuzz target for RUNS executions each (default 1000000)
";

/// The fuzz targets under `fuzz/fuzz_targets/`, each fed untrusted bytes.
const FUZZ_TARGETS: [&str; 3] = ["observable_parse", "extract", "pattern_parse"];

/// Executions per fuzz target inside `cargo xtask test`: enough to catch a shallow crash, short enough for CI.
const FUZZ_RUNS_IN_TEST: u64 = 20_000;

fn main() -> Result<()> {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = project_root();
    env::set_current_dir(&root).with_context(|| format!("cannot enter {}", root.display()))?;
    match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("bench-extract") => cargo(&["bench", "-p", "watchfire-model", "--bench", "extract"]),
        Some("bench-formats") => bench_formats::run(&args[1..]),
        Some("fuzz") => {
            let runs = match args.get(1) {
                Some(runs) => {
                    runs.parse().with_context(|| format!("fuzz: bad run count {runs:?}"))?
                }
                None => 1_000_000,
            };
            fuzz(runs)
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
    step("tests", || cargo(&["test", "--workspace", "--locked"]))?;
    step("writer consumer checks", tools::consumer_checks)?;
    step("fuzz smoke", || fuzz(FUZZ_RUNS_IN_TEST))?;
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

/// Runs each fuzz target for `runs` executions with cargo-fuzz, installing it first if needed.
///
/// cargo-fuzz needs a nightly compiler only for its sanitizers; the machine has one stable
/// toolchain, so the targets run with `--sanitizer none` (the code is safe Rust: a crash is a panic,
/// which libFuzzer catches without a sanitizer).
fn fuzz(runs: u64) -> Result<()> {
    ensure_cargo_fuzz()?;
    for target in FUZZ_TARGETS {
        let started = Instant::now();
        let corpus = PathBuf::from("fuzz/corpus").join(target);
        std::fs::create_dir_all(&corpus)
            .with_context(|| format!("cannot create {}", corpus.display()))?;
        let status = Command::new("cargo")
            .args(["fuzz", "run", "--sanitizer", "none", "--release", target])
            .arg(&corpus)
            .arg(PathBuf::from("fuzz/seeds").join(target))
            .args(["--", &format!("-runs={runs}"), "-max_len=4096", "-print_final_stats=1"])
            .status()
            .context("cannot run cargo fuzz")?;
        if !status.success() {
            bail!("fuzz target {target} failed ({status}): see fuzz/artifacts/{target}");
        }
        println!("fuzz target {target}: {runs} runs, no crash, in {:.1?}", started.elapsed());
    }
    Ok(())
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

fn cargo(args: &[&str]) -> Result<()> {
    let status = Command::new("cargo")
        .args(args)
        .status()
        .with_context(|| format!("cannot run cargo {args:?}"))?;
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
