//! The match index's lookup rate, for `cargo xtask bench-match`: builds a snapshot of generated
//! claims in memory and times random lookups on one thread.
//!
//! `bench_match --ipv4 N --cidr M --domains D --queries Q` prints one JSON line per kind:
//! `{"kind":…,"indicators":…,"queries":…,"seconds":…,"lookups_per_s":…,"hits":…}` and one with the
//! snapshot's resident memory per indicator. Inputs come from a fixed-seed generator; IPv4
//! queries are uniform random addresses (as scanning traffic looks), domain queries a mix of
//! known names, subdomains of known names and unknown names.

#![allow(clippy::print_stdout)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use watchfire_index::{LookupOptions, from_claims};
use watchfire_model::Observable;
use watchfire_model::policy::Audience;
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

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn claim(observable: Observable, n: u64) -> Claim {
    Claim {
        indicator: format!(
            "indicator--{:08x}-0000-5000-8000-{:012x}",
            n >> 32,
            n & 0xffff_ffff_ffff
        ),
        observable,
        source: format!("feed-{}", n % 20),
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
    let mut rng = Rng(0x0123_4567_89ab_cdef);

    let before = resident_bytes();
    let mut claims = Vec::new();
    for n in 0..n_ipv4 {
        let address = Ipv4Addr::from(rng.next() as u32);
        claims.push(claim(Observable::from_ip(IpAddr::V4(address)), n));
    }
    for n in 0..n_cidr {
        // DROP-like networks: /16 to /24.
        let len = 16 + (rng.next() % 9) as u8;
        let address = Ipv4Addr::from(rng.next() as u32);
        claims.push(claim(Observable::from_network(IpAddr::V4(address), len), n_ipv4 + n));
    }
    let mut domains = Vec::new();
    for n in 0..n_domains {
        let name = format!("d{:x}.example", rng.next() % (1 << 40));
        let observable = Observable::parse(&name).expect("a valid domain");
        domains.push(name);
        claims.push(claim(observable, n_ipv4 + n_cidr + n));
    }
    let n_indicators = claims.len() as u64;
    let started = Instant::now();
    let snapshot = from_claims(n_indicators, claims, Vec::new()).expect("a snapshot");
    let build_seconds = started.elapsed().as_secs_f64();
    let after = resident_bytes();
    println!(
        "{{\"kind\":\"memory\",\"indicators\":{n_indicators},\"build_seconds\":{build_seconds:.2},\"resident_bytes\":{},\"bytes_per_indicator\":{:.0}}}",
        after.saturating_sub(before),
        after.saturating_sub(before) as f64 / n_indicators.max(1) as f64
    );
    let access = snapshot.access(Reader::Operator);
    let options = LookupOptions::flag_all(0);

    // IPv4: uniform random addresses.
    let queries: Vec<IpAddr> =
        (0..n_queries).map(|_| IpAddr::V4(Ipv4Addr::from(rng.next() as u32))).collect();
    let started = Instant::now();
    let mut hits = 0usize;
    for address in &queries {
        hits += snapshot.lookup_address(&access, *address, options).len();
    }
    report("ipv4", n_ipv4 + n_cidr, n_queries, started, hits);
    drop(queries);

    // Domains: 10 % known names, 10 % subdomains of known names, 80 % unknown names.
    let n_domain_queries = (n_queries / 4).max(1);
    let queries: Vec<Observable> = (0..n_domain_queries)
        .map(|_| {
            let roll = rng.next() % 10;
            let known = &domains[(rng.next() % domains.len().max(1) as u64) as usize];
            let name = match roll {
                0 => known.clone(),
                1 => format!("www.{known}"),
                _ => format!("u{:x}.example", rng.next() % (1 << 40)),
            };
            Observable::parse(&name).expect("a valid domain")
        })
        .collect();
    let started = Instant::now();
    let mut hits = 0usize;
    for observable in &queries {
        hits += snapshot.lookup(&access, observable, options).len();
    }
    report("domain", n_domains, n_domain_queries, started, hits);
}

fn report(kind: &str, indicators: u64, queries: u64, started: Instant, hits: usize) {
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{{\"kind\":\"{kind}\",\"indicators\":{indicators},\"queries\":{queries},\"seconds\":{seconds:.3},\"lookups_per_s\":{:.0},\"hits\":{hits}}}",
        queries as f64 / seconds
    );
}
