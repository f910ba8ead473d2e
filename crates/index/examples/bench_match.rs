//! The match index's lookup rate and size, for `cargo xtask bench-match`: builds a snapshot of
//! generated claims in memory and times random lookups on one thread.
//!
//! `bench_match --ipv4 N --cidr M --domains D --queries Q` prints one JSON line with the
//! snapshot's size (resident bytes added by the build, the process's peak, the tables' heap bytes,
//! each per indicator) and one per lookup kind:
//! `{"kind":…,"indicators":…,"queries":…,"seconds":…,"cpu_seconds":…,"lookups_per_s":…,"hits":…}`.
//! Inputs come from a fixed-seed generator; claims carry the indicator ids an import derives
//! from source and value. IPv4 queries are uniform random addresses (as scanning traffic
//! looks); domain queries a mix of known names, subdomains of known names and unknown names.
//!
//! Kinds: `ipv4` is `find_ipv4` per address into a reused buffer, as `watchfire match` looks up
//! one value at a time; `ipv4_batch` is `find_ipv4_batch` over the whole slice; `ipv4_lookup`
//! is `lookup_address`, which also builds every hit's claims (a `Vec` per hit); `domain` is
//! `find_name` per canonical name; `domain_batch` is `find_names_batch` over the whole slice.

#![allow(clippy::print_stdout)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use watchfire_index::{LookupOptions, from_claims};
use watchfire_model::Observable;
use watchfire_model::policy::Audience;
use watchfire_model::stix::indicator_id;
use watchfire_model::tlp::Tlp;
use watchfire_store::{Claim, Reader};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn argument(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|arg| arg == name)
        .and_then(|index| args.get(index + 1))
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// A field of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`).
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// User + system CPU time of this process (`/proc/self/stat` fields 14 and 15, in clock ticks
/// of 1/100 s).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<u64> =
        after_name.split_whitespace().skip(11).take(2).filter_map(|n| n.parse().ok()).collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

/// The name of known domain `n`.
fn domain(n: u64) -> String {
    format!("d{:x}.example", n.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 24)
}

fn claim(observable: Observable, n: u64) -> Claim {
    let source = format!("feed-{}", n % 20);
    Claim {
        indicator: indicator_id(&source, &observable).as_str().to_owned(),
        observable,
        source,
        category: None,
        confidence: Some(80),
        audience: Audience::node(if n.is_multiple_of(3) { Tlp::Green } else { Tlp::Clear }),
        valid_until_micros: None,
        last_seen_micros: 0,
        score: 80,
        seq: n,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n_ipv4 = argument(&args, "--ipv4", 1_000_000);
    let n_cidr = argument(&args, "--cidr", 50_000);
    let n_domains = argument(&args, "--domains", 1_000_000);
    let n_queries = argument(&args, "--queries", 20_000_000);
    // `--kinds ipv4,domain` runs only those kinds (for profiling one).
    let kinds = args
        .iter()
        .position(|arg| arg == "--kinds")
        .and_then(|index| args.get(index + 1))
        .map_or("ipv4,ipv4_batch,ipv4_lookup,domain,domain_batch", String::as_str);
    let runs = |kind: &str| kinds.split(',').any(|name| name == kind);
    let mut rng = Rng(0x0123_4567_89ab_cdef);

    // The claims are made as the build reads them, as `build` reads pages from the store: the
    // resident bytes added are the snapshot's (plus what the allocator keeps of the build).
    let before = status_bytes("VmRSS");
    let n_indicators = n_ipv4 + n_cidr + n_domains;
    let claims = (0..n_indicators).map(|n| {
        let observable = if n < n_ipv4 {
            Observable::from_ip(IpAddr::V4(Ipv4Addr::from(rng.next() as u32)))
        } else if n < n_ipv4 + n_cidr {
            // DROP-like networks: /16 to /24.
            let len = 16 + (rng.next() % 9) as u8;
            Observable::from_network(IpAddr::V4(Ipv4Addr::from(rng.next() as u32)), len)
        } else {
            Observable::parse(&domain(n - n_ipv4 - n_cidr)).expect("a valid domain")
        };
        claim(observable, n)
    });
    let started = Instant::now();
    let snapshot = from_claims(n_indicators, claims, Vec::new()).expect("a snapshot");
    let build_seconds = started.elapsed().as_secs_f64();
    let resident = status_bytes("VmRSS").saturating_sub(before);
    let peak = status_bytes("VmHWM");
    let heap = snapshot.heap_bytes() as u64;
    let per = |bytes: u64| bytes as f64 / n_indicators.max(1) as f64;
    println!(
        "{{\"kind\":\"memory\",\"indicators\":{n_indicators},\"build_seconds\":{build_seconds:.2},\"resident_bytes\":{resident},\"resident_per_indicator\":{:.1},\"peak_bytes\":{peak},\"peak_per_indicator\":{:.1},\"heap_bytes\":{heap},\"heap_per_indicator\":{:.1}}}",
        per(resident),
        per(peak),
        per(heap)
    );
    let access = snapshot.access(Reader::Operator);
    let options = LookupOptions::flag_all(0);
    let mut rng = Rng(0x0fed_cba9_8765_4321);

    if n_ipv4 + n_cidr > 0 {
        let queries: Vec<Ipv4Addr> =
            (0..n_queries).map(|_| Ipv4Addr::from(rng.next() as u32)).collect();
        if runs("ipv4") {
            let mut found = Vec::new();
            let timer = Timer::start();
            let mut hits = 0usize;
            for address in &queries {
                found.clear();
                snapshot.find_ipv4(&access, *address, options, &mut found);
                hits += found.len();
            }
            timer.report("ipv4", n_ipv4 + n_cidr, n_queries, hits);
        }
        if runs("ipv4_batch") {
            let mut found = Vec::new();
            let timer = Timer::start();
            snapshot.find_ipv4_batch(&access, &queries, options, &mut found);
            timer.report("ipv4_batch", n_ipv4 + n_cidr, n_queries, found.len());
        }
        if runs("ipv4_lookup") {
            let timer = Timer::start();
            let mut hits = 0usize;
            for address in &queries {
                hits += snapshot.lookup_address(&access, IpAddr::V4(*address), options).len();
            }
            timer.report("ipv4_lookup", n_ipv4 + n_cidr, n_queries, hits);
        }
    }

    if n_domains > 0 && (runs("domain") || runs("domain_batch")) {
        // 10 % known names, 10 % subdomains of known names, 80 % unknown names.
        let n_domain_queries = (n_queries / 4).max(1);
        let queries: Vec<String> = (0..n_domain_queries)
            .map(|_| {
                let roll = rng.next() % 10;
                let known = domain(rng.next() % n_domains);
                match roll {
                    0 => known,
                    1 => format!("www.{known}"),
                    _ => format!("u{:x}.example", rng.next() % (1 << 40)),
                }
            })
            .collect();
        if runs("domain") {
            let mut found = Vec::new();
            let timer = Timer::start();
            let mut hits = 0usize;
            for name in &queries {
                found.clear();
                snapshot.find_name(&access, name, options, &mut found);
                hits += found.len();
            }
            timer.report("domain", n_domains, n_domain_queries, hits);
        }
        if runs("domain_batch") {
            let names: Vec<&str> = queries.iter().map(String::as_str).collect();
            let mut found = Vec::new();
            let timer = Timer::start();
            snapshot.find_names_batch(&access, &names, options, &mut found);
            timer.report("domain_batch", n_domains, n_domain_queries, found.len());
        }
    }
}

/// Wall and CPU time since its start.
struct Timer {
    wall: Instant,
    cpu: Duration,
}

impl Timer {
    fn start() -> Timer {
        Timer { wall: Instant::now(), cpu: cpu_time() }
    }

    fn report(&self, kind: &str, indicators: u64, queries: u64, hits: usize) {
        let seconds = self.wall.elapsed().as_secs_f64();
        let cpu_seconds = (cpu_time() - self.cpu).as_secs_f64();
        println!(
            "{{\"kind\":\"{kind}\",\"indicators\":{indicators},\"queries\":{queries},\"seconds\":{seconds:.3},\"cpu_seconds\":{cpu_seconds:.2},\"lookups_per_s\":{:.0},\"lookups_per_cpu_s\":{:.0},\"hits\":{hits}}}",
            queries as f64 / seconds,
            queries as f64 / cpu_seconds.max(1e-9),
        );
    }
}
