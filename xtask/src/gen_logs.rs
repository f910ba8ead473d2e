//! `cargo xtask gen-logs [--lines N] DIR`: deterministic sensor logs with a known set of
//! malicious values, for checking `watchfire match` against a ground truth.
//!
//! It writes into DIR:
//! - `indicators.txt`: the known-bad values, one a line (read with `--format freetext`): exact
//!   IPv4 and IPv6 addresses, networks, domains, URLs and SHA-256 hashes;
//! - `conn.log`, `dns.log`, `http.log`: Zeek TSV logs; `eve.json`: Suricata EVE lines;
//! - `truth.tsv`: every hit `watchfire match` must report, `file line field value matched`,
//!   sorted; nothing else may match.
//!
//! Lines are mostly clean traffic (private addresses, `*.test-clean.example` names); some carry a
//! bad value (an exact address, an address inside a bad network, a subdomain of a bad domain, a
//! bad URL, a bad hash) and others a decoy that must not match: `1.2.3.40` for `1.2.3.4`, the
//! address just past a bad network, `notevil7.example` and `evil7.example.org` for
//! `evil7.example`, another path on a bad URL's host, a hash one digit off.
//!
//! The file is shared: xtask runs it as a command, and the `watchfire` end-to-end tests include
//! it (`#[path]`) to generate their ground truth, so both use one generator. Only std.

#![allow(dead_code)] // Each includer uses a different part.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

/// The seed: the same logs on every machine.
const SEED: u64 = 0x5eed_1095_0000_0001;

/// Bad values of each kind.
const N_BAD: usize = 40;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The bad values.
pub struct Bad {
    /// Exact IPv4 addresses, `45.{i}.{j}.4` style, far from the clean ranges.
    pub ipv4: Vec<String>,
    /// IPv4 networks /24.
    pub networks: Vec<(String, [u8; 3])>,
    /// Exact IPv6 addresses.
    pub ipv6: Vec<String>,
    /// Domains `evil{i}.example`.
    pub domains: Vec<String>,
    /// URLs on hosts `dl{i}.badhost.example` (not bad domains themselves).
    pub urls: Vec<(String, String, String)>,
    /// SHA-256 hashes.
    pub hashes: Vec<String>,
}

fn bad_values(rng: &mut Rng) -> Bad {
    let ipv4 = (0..N_BAD).map(|i| format!("45.{}.{}.4", 10 + i, rng.below(250))).collect();
    let networks = (0..N_BAD)
        .map(|i| {
            let octets = [77, 20 + i as u8, rng.below(250) as u8];
            (format!("{}.{}.{}.0/24", octets[0], octets[1], octets[2]), octets)
        })
        .collect();
    // Written canonical (as std prints an address), as `watchfire match` reports values.
    let ipv6 = (0..N_BAD)
        .map(|i| {
            let text = format!("2001:db8:bad:{i:x}::{:x}", 1 + rng.below(4000));
            text.parse::<std::net::Ipv6Addr>().map_or(text, |address| address.to_string())
        })
        .collect();
    let domains = (0..N_BAD).map(|i| format!("evil{i}.example")).collect();
    let urls = (0..N_BAD)
        .map(|i| {
            let host = format!("dl{i}.badhost.example");
            let path = format!("/payload/{}.exe", rng.next() % 100_000);
            (format!("http://{host}{path}"), host, path)
        })
        .collect();
    let hashes = (0..N_BAD)
        .map(|_| {
            format!("{:016x}{:016x}{:016x}{:016x}", rng.next(), rng.next(), rng.next(), rng.next())
        })
        .collect();
    Bad { ipv4, networks, ipv6, domains, urls, hashes }
}

/// One expected hit.
struct Truth {
    file: &'static str,
    line: usize,
    field: &'static str,
    value: String,
    matched: String,
}

/// What [`generate_with`] writes.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Lines per log.
    pub lines: usize,
    /// Indicators added to the bad values that no log line holds (IPv4 addresses and networks
    /// outside the logs' ranges, domains and URLs under names the logs never use), so the index
    /// and the literal-string matchers get a realistic size.
    pub extra_indicators: usize,
    /// One block of lines in `spread` carries bad values and decoys, the others only clean
    /// traffic (1: every block, the default; sensors see far fewer hits).
    pub spread: usize,
}

/// Writes the logs, the indicators and the ground truth into `dir`, `lines` lines per log.
pub fn generate(dir: &Path, lines: usize) -> io::Result<()> {
    generate_with(dir, &Options { lines, extra_indicators: 0, spread: 1 })
}

/// Writes the logs, the indicators and the ground truth into `dir` as `options` asks.
pub fn generate_with(dir: &Path, options: &Options) -> io::Result<()> {
    let Options { lines, extra_indicators, spread } = *options;
    let spread = spread.max(1);
    fs::create_dir_all(dir)?;
    let mut rng = Rng(SEED);
    let bad = bad_values(&mut rng);
    let mut truth = Vec::new();

    let mut indicators = String::new();
    for value in bad.ipv4.iter().chain(&bad.ipv6).chain(&bad.domains).chain(&bad.hashes) {
        writeln!(indicators, "{value}").ok();
    }
    for (network, _) in &bad.networks {
        writeln!(indicators, "{network}").ok();
    }
    for (url, _, _) in &bad.urls {
        writeln!(indicators, "{url}").ok();
    }
    write_extra_indicators(&mut indicators, extra_indicators);
    fs::write(dir.join("indicators.txt"), indicators)?;

    fs::write(dir.join("conn.log"), conn_log(&mut rng, &bad, lines, spread, &mut truth))?;
    fs::write(dir.join("dns.log"), dns_log(&mut rng, &bad, lines, spread, &mut truth))?;
    fs::write(dir.join("http.log"), http_log(&mut rng, &bad, lines, spread, &mut truth))?;
    fs::write(dir.join("eve.json"), eve_log(&mut rng, &bad, lines, spread, &mut truth))?;

    let mut rows: Vec<String> = truth
        .iter()
        .map(|hit| {
            format!("{}\t{}\t{}\t{}\t{}", hit.file, hit.line, hit.field, hit.value, hit.matched)
        })
        .collect();
    rows.sort();
    rows.dedup();
    fs::write(dir.join("truth.tsv"), rows.join("\n") + "\n")
}

/// Which arm of a log's `match` line `index` takes: `index % n` in one block of `n` lines out of
/// `spread`, else 0 (clean traffic in every log).
fn arm(index: usize, n: usize, spread: usize) -> usize {
    if (index / n).is_multiple_of(spread) { index % n } else { 0 }
}

/// Appends `n` indicators that no generated line holds: 70 % IPv4 addresses and 2 % networks
/// outside 10/8, 45/8 and 77/8 (the logs' ranges), 25 % domains `f….example` and 3 % URLs on
/// hosts `u….example` (the logs' names are `host….test-clean.example`, `evil….example`,
/// `dl….badhost.example` and the decoys around them).
fn write_extra_indicators(out: &mut String, n: usize) {
    let mut rng = Rng(SEED ^ 0xe7e7_a000);
    let first_octet = |rng: &mut Rng| loop {
        let octet = 1 + rng.below(223);
        if ![10, 45, 77, 127].contains(&octet) {
            return octet;
        }
    };
    for _ in 0..n {
        let roll = rng.below(100);
        let octet = first_octet(&mut rng);
        match roll {
            0..70 => {
                let (b, c, d) = (rng.below(256), rng.below(256), rng.below(256));
                writeln!(out, "{octet}.{b}.{c}.{d}").ok();
            }
            70..72 => {
                let (b, c) = (rng.below(256), rng.below(256));
                writeln!(out, "{octet}.{b}.{c}.0/24").ok();
            }
            72..97 => {
                writeln!(out, "f{:x}.example", rng.next() >> 24).ok();
            }
            _ => {
                writeln!(
                    out,
                    "http://u{:x}.example/{:x}.php",
                    rng.next() >> 32,
                    rng.below(1 << 20)
                )
                .ok();
            }
        }
    }
}

fn clean_ipv4(rng: &mut Rng) -> String {
    format!("10.{}.{}.{}", rng.below(256), rng.below(256), 1 + rng.below(254))
}

fn clean_name(rng: &mut Rng) -> String {
    format!("host{}.test-clean.example", rng.below(10_000))
}

fn zeek_header(path: &str, fields: &[&str], types: &[&str]) -> String {
    format!(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{path}\n#open\t2026-11-27-00-00-00\n#fields\t{}\n#types\t{}\n",
        fields.join("\t"),
        types.join("\t")
    )
}

/// The `ts` and `uid` columns of a Zeek line: one second per line from 2025-11-27, and a uid.
fn zeek_start(rng: &mut Rng, index: usize, uid_letter: char) -> String {
    let micros = rng.below(1_000_000);
    format!("{}.{micros:06}\t{uid_letter}{:x}", 1_764_201_600 + index, rng.next() % 0xffff_ffff)
}

/// The header's number of lines (the first data line is this plus one).
const ZEEK_HEADER_LINES: usize = 8;

fn conn_log(
    rng: &mut Rng,
    bad: &Bad,
    lines: usize,
    spread: usize,
    truth: &mut Vec<Truth>,
) -> String {
    let mut out = zeek_header(
        "conn",
        &["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service"],
        &["time", "string", "addr", "port", "addr", "port", "enum", "string"],
    );
    for index in 0..lines {
        let line = ZEEK_HEADER_LINES + 1 + index;
        let origin = clean_ipv4(rng);
        let i = rng.below(N_BAD);
        let responder = match arm(index, 10, spread) {
            1 => {
                let value = bad.ipv4[i].clone();
                truth.push(Truth {
                    file: "conn.log",
                    line,
                    field: "id.resp_h",
                    value: value.clone(),
                    matched: value.clone(),
                });
                value
            }
            2 => {
                let (network, octets) = &bad.networks[i];
                let value =
                    format!("{}.{}.{}.{}", octets[0], octets[1], octets[2], 1 + rng.below(254));
                truth.push(Truth {
                    file: "conn.log",
                    line,
                    field: "id.resp_h",
                    value: value.clone(),
                    matched: network.clone(),
                });
                value
            }
            // Decoys: one digit more, and the address just past a bad network.
            3 => format!("{}0", bad.ipv4[i]),
            4 => {
                let (_, octets) = &bad.networks[i];
                format!("{}.{}.{}.0", octets[0], octets[1], octets[2].wrapping_add(1))
            }
            5 => {
                let value = bad.ipv6[i].clone();
                truth.push(Truth {
                    file: "conn.log",
                    line,
                    field: "id.resp_h",
                    value: value.clone(),
                    matched: value.clone(),
                });
                value
            }
            _ => clean_ipv4(rng),
        };
        let start = zeek_start(rng, index, 'C');
        let port = 1024 + rng.below(60_000);
        writeln!(out, "{start}\t{origin}\t{port}\t{responder}\t443\ttcp\tssl").ok();
    }
    out.push_str("#close\t2026-11-27-01-00-00\n");
    out
}

fn dns_log(
    rng: &mut Rng,
    bad: &Bad,
    lines: usize,
    spread: usize,
    truth: &mut Vec<Truth>,
) -> String {
    let mut out = zeek_header(
        "dns",
        &["ts", "uid", "id.orig_h", "id.resp_h", "query", "qtype_name", "answers"],
        &["time", "string", "addr", "addr", "string", "string", "vector[string]"],
    );
    for index in 0..lines {
        let line = ZEEK_HEADER_LINES + 1 + index;
        let i = rng.below(N_BAD);
        let query = match arm(index, 8, spread) {
            1 => {
                let value = format!("www{}.{}", rng.below(9), bad.domains[i]);
                truth.push(Truth {
                    file: "dns.log",
                    line,
                    field: "query",
                    value: value.clone(),
                    matched: bad.domains[i].clone(),
                });
                value
            }
            2 => {
                let value = bad.domains[i].clone();
                truth.push(Truth {
                    file: "dns.log",
                    line,
                    field: "query",
                    value: value.clone(),
                    matched: value.clone(),
                });
                value
            }
            // Decoys: a longer label, and the bad name under another suffix.
            3 => format!("not{}", bad.domains[i]),
            4 => format!("{}.org", bad.domains[i]),
            _ => clean_name(rng),
        };
        let start = zeek_start(rng, index, 'D');
        let (client, answer) = (clean_ipv4(rng), clean_ipv4(rng));
        writeln!(out, "{start}\t{client}\t10.0.0.53\t{query}\tA\t{answer}").ok();
    }
    out
}

fn http_log(
    rng: &mut Rng,
    bad: &Bad,
    lines: usize,
    spread: usize,
    truth: &mut Vec<Truth>,
) -> String {
    let mut out = zeek_header(
        "http",
        &["ts", "uid", "id.orig_h", "id.resp_h", "method", "host", "uri", "user_agent"],
        &["time", "string", "addr", "addr", "string", "string", "string", "string"],
    );
    for index in 0..lines {
        let line = ZEEK_HEADER_LINES + 1 + index;
        let i = rng.below(N_BAD);
        let (host, uri) = match arm(index, 6, spread) {
            1 => {
                let (url, host, path) = &bad.urls[i];
                truth.push(Truth {
                    file: "http.log",
                    line,
                    field: "url",
                    value: url.clone(),
                    matched: url.clone(),
                });
                (host.clone(), path.clone())
            }
            // Decoy: another path on a bad URL's host (the host itself is not bad).
            2 => (bad.urls[i].1.clone(), "/index.html".to_owned()),
            _ => (clean_name(rng), format!("/page/{}", rng.below(1000))),
        };
        let start = zeek_start(rng, index, 'H');
        let (client, server) = (clean_ipv4(rng), clean_ipv4(rng));
        writeln!(out, "{start}\t{client}\t{server}\tGET\t{host}\t{uri}\tMozilla/5.0").ok();
    }
    out
}

fn eve_log(
    rng: &mut Rng,
    bad: &Bad,
    lines: usize,
    spread: usize,
    truth: &mut Vec<Truth>,
) -> String {
    let mut out = String::new();
    for index in 0..lines {
        let line = 1 + index;
        let i = rng.below(N_BAD);
        let src = clean_ipv4(rng);
        let record = match arm(index, 7, spread) {
            1 => {
                let hash = bad.hashes[i].clone();
                truth.push(Truth {
                    file: "eve.json",
                    line,
                    field: "fileinfo.sha256",
                    value: hash.clone(),
                    matched: hash.clone(),
                });
                format!(
                    r#"{{"timestamp":"2026-11-27T00:00:00.000000+0000","event_type":"fileinfo","src_ip":"{src}","dest_ip":"10.0.0.80","fileinfo":{{"filename":"/a.bin","sha256":"{hash}","size":1024}}}}"#
                )
            }
            2 => {
                // Decoy: the bad hash with its last digit changed.
                let mut hash = bad.hashes[i].clone();
                let last = if hash.ends_with('0') { "1" } else { "0" };
                hash.replace_range(63.., last);
                format!(
                    r#"{{"timestamp":"2026-11-27T00:00:00.000000+0000","event_type":"fileinfo","src_ip":"{src}","dest_ip":"10.0.0.80","fileinfo":{{"filename":"/b.bin","sha256":"{hash}","size":1024}}}}"#
                )
            }
            3 => {
                let name = format!("cdn.{}", bad.domains[i]);
                truth.push(Truth {
                    file: "eve.json",
                    line,
                    field: "dns.rrname",
                    value: name.clone(),
                    matched: bad.domains[i].clone(),
                });
                format!(
                    r#"{{"timestamp":"2026-11-27T00:00:00.000000+0000","event_type":"dns","src_ip":"{src}","dest_ip":"10.0.0.53","dns":{{"type":"query","rrname":"{name}","rrtype":"A"}}}}"#
                )
            }
            4 => {
                let address = bad.ipv4[i].clone();
                truth.push(Truth {
                    file: "eve.json",
                    line,
                    field: "dest_ip",
                    value: address.clone(),
                    matched: address.clone(),
                });
                format!(
                    r#"{{"timestamp":"2026-11-27T00:00:00.000000+0000","event_type":"flow","src_ip":"{src}","dest_ip":"{address}","proto":"TCP"}}"#
                )
            }
            _ => {
                let name = clean_name(rng);
                format!(
                    r#"{{"timestamp":"2026-11-27T00:00:00.000000+0000","event_type":"dns","src_ip":"{src}","dest_ip":"10.0.0.53","dns":{{"type":"query","rrname":"{name}","rrtype":"A"}}}}"#
                )
            }
        };
        out.push_str(&record);
        out.push('\n');
    }
    out
}
