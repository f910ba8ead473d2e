//! `cargo xtask bench-match`: the match index's lookup rate (issue 5) beside PostgreSQL.
//!
//! Ours: `crates/index/examples/bench_match.rs` in release, one thread, on a snapshot of
//! generated claims in memory: 1 M exact IPv4 addresses + 50 000 networks (/16 to /24) + 1 M
//! domains, then 10 M + 50 000 + 10 M; uniform random IPv4 queries, and domain queries of which
//! 10 % are known names and 10 % subdomains of known names. It reports lookups/s per kind (per
//! value into a reused buffer as `watchfire match` asks, batched, and with every hit's claims
//! built) and the snapshot's bytes per indicator; then the bytes per indicator of snapshots of
//! 1 M and 10 M exact IPv4 addresses only (the memory goal's case).
//!
//! PostgreSQL: a private cluster (server defaults), a table `ioc (net inet)` with the same counts
//! of random /32 addresses and /16-/24 networks and a GiST index (`inet_ops`), queried as a
//! database-backed platform does, one lookup a statement, `net >>= address` with a uniform
//! random address, by `pgbench` on one connection for 20 s; its transactions per second are its
//! lookups per second.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::bench_formats::{cpu_model, load_average};
use crate::postgres::{self, Durability};

const DIRECTORY: &str = "target/bench-match";

/// Runs the benchmark.
pub fn run(args: &[String]) -> Result<()> {
    if !args.is_empty() {
        bail!("usage: cargo xtask bench-match");
    }
    println!(
        "machine: {} CPUs, {}; load average before: {}",
        std::thread::available_parallelism().map_or(1, usize::from),
        cpu_model(),
        load_average()
    );
    let status = Command::new("cargo")
        .args(["build", "--release", "-p", "watchfire-index", "--example", "bench_match"])
        .status()
        .context("cannot run cargo build")?;
    if !status.success() {
        bail!("cargo build of the bench_match example failed");
    }
    for (ipv4, cidr, domains) in [(1_000_000, 50_000, 1_000_000), (10_000_000, 500_000, 10_000_000)]
    {
        let output = Command::new("target/release/examples/bench_match")
            .args([
                "--ipv4",
                &ipv4.to_string(),
                "--cidr",
                &cidr.to_string(),
                "--domains",
                &domains.to_string(),
                "--queries",
                "20000000",
            ])
            .output()
            .context("cannot run bench_match")?;
        if !output.status.success() {
            bail!("bench_match failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        println!("ours, {ipv4} IPv4 + {cidr} networks + {domains} domains:");
        print!("{}", String::from_utf8_lossy(&output.stdout));
    }
    // The memory goal is per exact-IP indicator: snapshots of exact IPv4 addresses only.
    for ipv4 in [1_000_000, 10_000_000] {
        let output = Command::new("target/release/examples/bench_match")
            .args(["--ipv4", &ipv4.to_string(), "--cidr", "0", "--domains", "0"])
            .args(["--queries", "0"])
            .output()
            .context("cannot run bench_match")?;
        if !output.status.success() {
            bail!("bench_match failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        println!("ours, {ipv4} exact IPv4 addresses only:");
        let stdout = String::from_utf8_lossy(&output.stdout);
        print!("{}", stdout.lines().next().unwrap_or_default());
        println!();
    }
    fs_create(DIRECTORY)?;
    let cluster = postgres::Cluster::start(Path::new(DIRECTORY), Durability::Default)?;
    cluster.execute("CREATE TABLE ioc (net inet NOT NULL)")?;
    cluster.execute(
        "INSERT INTO ioc SELECT '0.0.0.0'::inet + (random() * 4294967295)::bigint
         FROM generate_series(1, 1000000)",
    )?;
    cluster.execute(
        "INSERT INTO ioc SELECT network(set_masklen('0.0.0.0'::inet + (random() * 4294967295)::bigint,
             16 + (random() * 8)::int))
         FROM generate_series(1, 50000)",
    )?;
    cluster.execute("CREATE INDEX ioc_net ON ioc USING gist (net inet_ops)")?;
    cluster.execute("VACUUM ANALYZE ioc")?;
    let script = Path::new(DIRECTORY).join("lookup.sql");
    std::fs::write(
        &script,
        "\\set a random(0, 4294967295)\nSELECT count(*) FROM ioc WHERE net >>= '0.0.0.0'::inet + :a;\n",
    )?;
    let output = Command::new(cluster.bin().join("pgbench"))
        .args(["-n", "-c", "1", "-j", "1", "-T", "20", "-f"])
        .arg(&script)
        .arg(cluster.url())
        .output()
        .context("cannot run pgbench")?;
    if !output.status.success() {
        bail!("pgbench failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let report = String::from_utf8_lossy(&output.stdout);
    let tps = report
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse::<f64>().ok())
        .context("pgbench printed no tps")?;
    println!(
        "postgresql (inet + GiST, `net >>= address`, pgbench 1 connection, 20 s): {tps:.0} IPv4 lookups/s (1 M addresses + 50 000 networks)"
    );
    println!("load average after: {}", load_average());
    Ok(())
}

fn fs_create(directory: &str) -> Result<()> {
    std::fs::create_dir_all(directory).with_context(|| format!("cannot create {directory}"))
}
