//! `cargo xtask bench-api`: requests per second and latency of `watchfire serve` on 1 M
//! indicators, over loopback HTTP (issue 6).
//!
//! It builds the release binary, imports 1 M generated indicators (the list of `bench-ingest`)
//! into a fresh SQLite store under `target/bench-api/`, makes an administrator with
//! `watchfire admin init`, starts `watchfire serve` on a free loopback port, and drives each
//! case for a fixed time from client threads with keep-alive connections, Bearer token:
//!
//! - `lookup`: `GET /api/v1/lookup?value=V`, half known values, half unknown;
//! - `search by value`: `GET /api/v1/indicators?value=V` (the index, then the store);
//! - `search page`: `GET /api/v1/indicators?limit=100&cursor=C` at random cursors;
//! - `bulk lookup`: `POST /api/v1/lookup` with 1000 values a request (values/s = 1000 x requests/s).
//!
//! Every answer must be 200; the report gives requests/s, p50 and p99 per case. The store is
//! deleted afterwards unless `--keep`.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench_formats::{BenchOption, Rng, bench_options, cpu_model, load_average, thousands};
use crate::bench_ingest::write_list;
use crate::node;

const USAGE: &str = "\
usage: cargo xtask bench-api [--records N] [--seconds S] [--clients C] [--keep]

  --records N   indicators in the store (default 1000000)
  --seconds S   how long each case runs (default 10)
  --clients C   client threads, each with its own keep-alive connection (default 4)
  --keep        keep target/bench-api/ (the store and the input) afterwards
";

const DIRECTORY: &str = "target/bench-api";

struct Options {
    records: u64,
    seconds: u64,
    clients: usize,
    keep: bool,
}

/// One case's result.
struct Outcome {
    label: &'static str,
    requests: u64,
    seconds: f64,
    latencies_micros: Vec<u64>,
    values_per_request: u64,
}

/// Runs the benchmark and prints the Markdown report.
pub fn run(args: &[String]) -> Result<()> {
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        print!("{USAGE}");
        return Ok(());
    }
    let mut options = Options { records: 1_000_000, seconds: 10, clients: 4, keep: false };
    for option in bench_options(args, USAGE) {
        match option? {
            BenchOption::Keep => options.keep = true,
            BenchOption::Value { name: "--records", value } => {
                options.records = value.parse().context("--records")?;
            }
            BenchOption::Value { name: "--seconds", value } => {
                options.seconds = value.parse().context("--seconds")?;
            }
            BenchOption::Value { name: "--clients", value } => {
                options.clients = value.parse().context("--clients")?;
            }
            BenchOption::Value { name, .. } => bail!("bench-api: unknown option {name}\n\n{USAGE}"),
        }
    }
    let directory = PathBuf::from(DIRECTORY);
    node::fresh_directory(&directory)?;
    let binary = node::build_release()?;
    let data = directory.join("data");

    let input = directory.join("indicators.txt");
    {
        let file =
            File::create(&input).with_context(|| format!("cannot create {}", input.display()))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        write_list(&mut out, options.records).and_then(|()| out.flush())?;
    }
    let known = known_values(&input, 10_000)?;
    println!("importing {} indicators", thousands(options.records));
    let started = Instant::now();
    let imported = node::watchfire(&binary, &data)
        .args(["import", "--format", "freetext", "--source", "bench", "--tlp", "green"])
        .arg(&input)
        .stdout(Stdio::null())
        .status()
        .context("cannot run watchfire import")?;
    if !imported.success() {
        bail!("watchfire import failed: {imported}");
    }
    println!("imported in {:.1?}", started.elapsed());
    let token = node::admin_init(&binary, &data)?.token;
    let (mut server, base) = node::serve(&binary, &data, node::free_port()?)?;
    node::wait_ready(&base, &mut server.0)?;
    let last_seq = node::last_seq(&base, &token)?;

    let load_before = load_average();
    let mut outcomes = Vec::new();
    let duration = Duration::from_secs(options.seconds);
    let cases: [(&'static str, u64); 4] = [
        ("lookup", 1),
        ("search by value", 1),
        ("search page (100)", 1),
        ("bulk lookup (1000 values)", 1000),
    ];
    for (label, values_per_request) in cases {
        let outcome = drive(
            &base,
            &token,
            options.clients,
            duration,
            label,
            values_per_request,
            &known,
            last_seq,
        )?;
        println!(
            "{label}: {} requests in {:.1} s, p50 {} µs, p99 {} µs",
            thousands(outcome.requests),
            outcome.seconds,
            percentile(&outcome.latencies_micros, 50.0),
            percentile(&outcome.latencies_micros, 99.0)
        );
        outcomes.push(outcome);
    }
    let load_after = load_average();
    drop(server);
    println!();
    println!("{}", report(&outcomes, &options, &load_before, &load_after));
    if !options.keep {
        fs::remove_dir_all(&directory)
            .with_context(|| format!("cannot delete {}", directory.display()))?;
    }
    Ok(())
}

fn known_values(input: &Path, n: usize) -> Result<Vec<String>> {
    let file = File::open(input)?;
    let mut values = Vec::with_capacity(n);
    for line in BufReader::new(file).lines().take(n) {
        values.push(line?);
    }
    Ok(values)
}

#[allow(clippy::too_many_arguments)]
fn drive(
    base: &str,
    token: &str,
    clients: usize,
    duration: Duration,
    label: &'static str,
    values_per_request: u64,
    known: &[String],
    last_seq: u64,
) -> Result<Outcome> {
    let started = Instant::now();
    let results: Vec<Result<Vec<u64>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|client| {
                scope.spawn(move || -> Result<Vec<u64>> {
                    let agent = node::agent();
                    let mut rng = Rng::new(0xa91 + client as u64);
                    let mut latencies = Vec::new();
                    let authorization = format!("Bearer {token}");
                    while started.elapsed() < duration {
                        let value = if rng.below(2) == 0 {
                            known[rng.below(known.len() as u64) as usize].clone()
                        } else {
                            rng.ipv4()
                        };
                        let sent = Instant::now();
                        let mut response = match label {
                            "lookup" => agent
                                .get(format!("{base}/api/v1/lookup"))
                                .query("value", &value)
                                .header("authorization", &authorization)
                                .call()?,
                            "search by value" => agent
                                .get(format!("{base}/api/v1/indicators"))
                                .query("value", &value)
                                .header("authorization", &authorization)
                                .call()?,
                            "search page (100)" => agent
                                .get(format!("{base}/api/v1/indicators"))
                                .query("limit", "100")
                                .query("cursor", rng.below(last_seq.max(1)).to_string())
                                .header("authorization", &authorization)
                                .call()?,
                            _ => {
                                let body: String = (0..1000)
                                    .map(|index| {
                                        if index % 2 == 0 {
                                            format!(
                                                "{}\n",
                                                known[rng.below(known.len() as u64) as usize]
                                            )
                                        } else {
                                            format!("{}\n", rng.ipv4())
                                        }
                                    })
                                    .collect();
                                agent
                                    .post(format!("{base}/api/v1/lookup"))
                                    .header("authorization", &authorization)
                                    .header("content-type", "application/x-ndjson")
                                    .send(body.as_bytes())?
                            }
                        };
                        let status = response.status().as_u16();
                        let body =
                            response.body_mut().with_config().limit(64 << 20).read_to_vec()?;
                        latencies.push(sent.elapsed().as_micros() as u64);
                        if status != 200 || body.is_empty() {
                            bail!("{label}: status {status}: {}", String::from_utf8_lossy(&body));
                        }
                    }
                    Ok(latencies)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or_else(|_| Err(anyhow::anyhow!("client panicked"))))
            .collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    let mut latencies_micros = Vec::new();
    for result in results {
        latencies_micros.extend(result?);
    }
    latencies_micros.sort_unstable();
    Ok(Outcome {
        label,
        requests: latencies_micros.len() as u64,
        seconds,
        latencies_micros,
        values_per_request,
    })
}

fn percentile(sorted: &[u64], percent: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((percent / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn report(outcomes: &[Outcome], options: &Options, load_before: &str, load_after: &str) -> String {
    let mut lines = vec![
        format!(
            "machine: {} CPUs, {}; load average before {load_before}, after {load_after}",
            std::thread::available_parallelism().map_or(1, usize::from),
            cpu_model()
        ),
        format!(
            "store: SQLite, {} indicators; {} client threads with keep-alive, Bearer token, {} s per case",
            thousands(options.records),
            options.clients,
            options.seconds
        ),
        String::new(),
        "| case | requests | requests/s | values/s | p50 | p99 |".to_owned(),
        "|---|---|---|---|---|---|".to_owned(),
    ];
    for outcome in outcomes {
        let per_second = outcome.requests as f64 / outcome.seconds;
        lines.push(format!(
            "| {} | {} | {} | {} | {:.2} ms | {:.2} ms |",
            outcome.label,
            thousands(outcome.requests),
            thousands(per_second as u64),
            thousands((per_second * outcome.values_per_request as f64) as u64),
            percentile(&outcome.latencies_micros, 50.0) as f64 / 1000.0,
            percentile(&outcome.latencies_micros, 99.0) as f64 / 1000.0,
        ));
    }
    lines.join("\n")
}
