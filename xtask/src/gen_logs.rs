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
//! The logs hold every column of Zeek's default `conn`, `dns` and `http` logs and the members
//! Suricata writes in its EVE events (flow id, interface, ports, flow counters, ...), as a
//! sensor writes them ([`Shape::Full`], the default); [`Shape::Minimal`] keeps only the columns
//! and members around the matched values (the logs of the benchmarks up to 2026-12-07). Both
//! shapes hold the same matched values on the same lines: the full shape's other values come from
//! a generator of their own.
//!
//! Lines are mostly clean traffic (private clients, servers at public addresses in the full shape
//! and private ones in the minimal, `*.test-clean.example` names); some carry a
//! bad value (an exact address, an address inside a bad network, a subdomain of a bad domain, a
//! bad URL, a bad hash) and others a decoy that must not match: `1.2.3.40` for `1.2.3.4`, the
//! address just past a bad network, `notevil7.example` and `evil7.example.org` for
//! `evil7.example`, another path on a bad URL's host, a hash one digit off.
//!
//! The file is shared: xtask runs it as a command, and the `watchfire` end-to-end tests include
//! it (`#[path]`) to generate their ground truth, so both use one generator. Only std.

#![allow(dead_code)] // Each includer uses a different part.

use std::collections::HashSet;
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

/// How much of each record the logs hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Every column of Zeek's default logs and Suricata's usual EVE members.
    Full,
    /// Only the columns and members around the matched values.
    Minimal,
}

impl Shape {
    /// The shape named `name` (`full` or `minimal`).
    pub fn parse(name: &str) -> Option<Shape> {
        match name {
            "full" => Some(Shape::Full),
            "minimal" => Some(Shape::Minimal),
            _ => None,
        }
    }
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
    /// How much of each record the logs hold.
    pub shape: Shape,
}

/// Writes the logs, the indicators and the ground truth into `dir`, `lines` lines per log.
pub fn generate(dir: &Path, lines: usize) -> io::Result<()> {
    generate_with(dir, &Options { lines, extra_indicators: 0, spread: 1, shape: Shape::Full })
}

/// Writes the logs, the indicators and the ground truth into `dir` as `options` asks.
pub fn generate_with(dir: &Path, options: &Options) -> io::Result<()> {
    let Options { lines, extra_indicators, spread, shape } = *options;
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
    let listed = write_extra_indicators(&mut indicators, extra_indicators);
    fs::write(dir.join("indicators.txt"), indicators)?;

    // The full shape's other values: a generator of their own, so that both shapes draw the
    // same matched values.
    let mut extra = Rng(SEED ^ 0xf111_0000);
    let mut log =
        Log { rng: &mut rng, extra: &mut extra, bad: &bad, listed: &listed, lines, spread, shape };
    fs::write(dir.join("conn.log"), conn_log(&mut log, &mut truth))?;
    fs::write(dir.join("dns.log"), dns_log(&mut log, &mut truth))?;
    fs::write(dir.join("http.log"), http_log(&mut log, &mut truth))?;
    fs::write(dir.join("eve.json"), eve_log(&mut log, &mut truth))?;

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

/// The extra indicators' IPv4 addresses and /24 networks (as the address's top 24 bits), which
/// the full shape's public addresses avoid.
#[derive(Default)]
struct Listed {
    addresses: HashSet<u32>,
    networks: HashSet<u32>,
}

/// Appends `n` indicators that no generated line holds: 70 % IPv4 addresses and 2 % networks
/// outside 10/8, 45/8 and 77/8 (the logs' ranges), 25 % domains `f….example` and 3 % URLs on
/// hosts `u….example` (the logs' names are `host….test-clean.example`, `evil….example`,
/// `dl….badhost.example` and the decoys around them). Returns the addresses and networks, which
/// the full shape's public addresses (of the same /16 blocks) keep clear of.
fn write_extra_indicators(out: &mut String, n: usize) -> Listed {
    let mut listed = Listed::default();
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
                listed.addresses.insert(u32::from_be_bytes([octet, b, c, d].map(|n| n as u8)));
            }
            70..72 => {
                let (b, c) = (rng.below(256), rng.below(256));
                writeln!(out, "{octet}.{b}.{c}.0/24").ok();
                listed.networks.insert(u32::from_be_bytes([0, octet, b, c].map(|n| n as u8)));
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
    listed
}

fn clean_ipv4(rng: &mut Rng) -> String {
    format!("10.{}.{}.{}", rng.below(256), rng.below(256), 1 + rng.below(254))
}

fn clean_name(rng: &mut Rng) -> String {
    format!("host{}.test-clean.example", rng.below(10_000))
}

/// The columns every full-shape log starts with, as `name:type`: the time, the connection's
/// uid and its endpoints.
const ZEEK_ID: &str =
    "ts:time uid:string id.orig_h:addr id.orig_p:port id.resp_h:addr id.resp_p:port";

/// A Zeek header for `columns`, each written `name:type`, separated by spaces.
fn zeek_header(path: &str, columns: &str) -> String {
    let (fields, types): (Vec<&str>, Vec<&str>) =
        columns.split(' ').filter_map(|column| column.split_once(':')).unzip();
    format!(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{path}\n#open\t2026-11-27-00-00-00\n#fields\t{}\n#types\t{}\n",
        fields.join("\t"),
        types.join("\t")
    )
}

/// What every log writer draws from.
struct Log<'a> {
    /// The matched values and the minimal shape's values.
    rng: &'a mut Rng,
    /// The full shape's other values.
    extra: &'a mut Rng,
    bad: &'a Bad,
    listed: &'a Listed,
    lines: usize,
    spread: usize,
    shape: Shape,
}

impl Log<'_> {
    /// The `ts` and `uid` columns of a Zeek line: one second per line from 2025-11-27, and a
    /// uid (of Zeek's 18 characters in the full shape).
    fn zeek_start(&mut self, index: usize, uid_letter: char) -> String {
        let micros = self.rng.below(1_000_000);
        let mut start = format!(
            "{}.{micros:06}\t{uid_letter}{:x}",
            1_764_201_600 + index,
            self.rng.next() % 0xffff_ffff
        );
        if self.shape == Shape::Full {
            let uid_length = start.len() - start.find('\t').unwrap_or(0) - 1;
            for _ in uid_length..18 {
                start.push(base62(self.extra));
            }
        }
        start
    }

    /// A number below `n` from the full shape's generator.
    fn extra_below(&mut self, n: usize) -> usize {
        self.extra.below(n)
    }

    /// The clean address of a server or a DNS answer: in the minimal shape `private` (drawn
    /// from the main generator, as it always was); in the full shape a public address, as most
    /// of a sensor's traffic has on one side, outside the reserved ranges and the logs' own
    /// (10/8, 45/8, 77/8), and neither listed nor inside a listed network, though its /16 block
    /// usually holds indicators (a million of them cover most blocks).
    fn server_ipv4(&mut self, private: String) -> String {
        if self.shape == Shape::Minimal {
            return private;
        }
        loop {
            let bytes = self.extra.next().to_be_bytes();
            let [a, b, c, d] = [bytes[4], bytes[5], bytes[6], bytes[7]];
            let is_reserved = matches!(a, 0 | 10 | 45 | 77 | 127 | 224..)
                || (a == 100 && (64..128).contains(&b))
                || (a == 169 && b == 254)
                || (a == 172 && (16..32).contains(&b))
                || (a == 192 && b == 168);
            let address = u32::from_be_bytes([a, b, c, d]);
            let is_listed = self.listed.addresses.contains(&address)
                || self.listed.networks.contains(&(address >> 8));
            if !is_reserved && !is_listed && d != 0 && d != 255 {
                return format!("{a}.{b}.{c}.{d}");
            }
        }
    }
}

/// A letter or a digit, as in Zeek's uids and file ids.
fn base62(rng: &mut Rng) -> char {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    char::from(DIGITS[rng.below(DIGITS.len())])
}

/// Zeek's file id: `F` and 17 letters or digits.
fn file_id(rng: &mut Rng) -> String {
    std::iter::once('F').chain((0..17).map(|_| base62(rng))).collect()
}

/// A browser's user agent, as most web requests carry.
const USER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// The header's number of lines (the first data line is this plus one).
const ZEEK_HEADER_LINES: usize = 8;

fn conn_log(log: &mut Log<'_>, truth: &mut Vec<Truth>) -> String {
    // Each column as `name:type`.
    let columns = match log.shape {
        Shape::Minimal => format!("{ZEEK_ID} proto:enum service:string"),
        Shape::Full => format!(
            "{ZEEK_ID} proto:enum service:string duration:interval orig_bytes:count resp_bytes:count \
             conn_state:string local_orig:bool local_resp:bool missed_bytes:count \
             history:string orig_pkts:count orig_ip_bytes:count resp_pkts:count \
             resp_ip_bytes:count tunnel_parents:set[string]"
        ),
    };
    let mut out = zeek_header("conn", &columns);
    let bad = log.bad;
    for index in 0..log.lines {
        let line = ZEEK_HEADER_LINES + 1 + index;
        let origin = clean_ipv4(log.rng);
        let i = log.rng.below(N_BAD);
        let responder = match arm(index, 10, log.spread) {
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
                    format!("{}.{}.{}.{}", octets[0], octets[1], octets[2], 1 + log.rng.below(254));
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
            _ => {
                let private = clean_ipv4(log.rng);
                log.server_ipv4(private)
            }
        };
        let start = log.zeek_start(index, 'C');
        let port = 1024 + log.rng.below(60_000);
        write!(out, "{start}\t{origin}\t{port}\t{responder}\t443\ttcp\tssl").ok();
        if log.shape == Shape::Full {
            // A TLS session: its duration, bytes and packets each way, and its TCP history.
            let (packets_out, packets_in) = (4 + log.extra_below(40), 4 + log.extra_below(60));
            let (bytes_out, bytes_in) = (
                packets_out * (40 + log.extra_below(400)),
                packets_in * (40 + log.extra_below(1400)),
            );
            write!(
                out,
                "\t{}.{:06}\t{bytes_out}\t{bytes_in}\tSF\tT\tF\t0\tShADadFf\t{packets_out}\t{}\t{packets_in}\t{}\t-",
                log.extra_below(30),
                log.extra_below(1_000_000),
                bytes_out + 52 * packets_out,
                bytes_in + 52 * packets_in,
            )
            .ok();
        }
        out.push('\n');
    }
    out.push_str("#close\t2026-11-27-01-00-00\n");
    out
}

fn dns_log(log: &mut Log<'_>, truth: &mut Vec<Truth>) -> String {
    // Each column as `name:type`.
    let columns = match log.shape {
        Shape::Minimal => "ts:time uid:string id.orig_h:addr id.resp_h:addr query:string \
                           qtype_name:string answers:vector[string]"
            .to_owned(),
        Shape::Full => format!(
            "{ZEEK_ID} proto:enum trans_id:count rtt:interval query:string qclass:count \
             qclass_name:string qtype:count qtype_name:string rcode:count rcode_name:string \
             AA:bool TC:bool RD:bool RA:bool Z:count answers:vector[string] \
             TTLs:vector[interval] rejected:bool"
        ),
    };
    let mut out = zeek_header("dns", &columns);
    let bad = log.bad;
    for index in 0..log.lines {
        let line = ZEEK_HEADER_LINES + 1 + index;
        let i = log.rng.below(N_BAD);
        let query = match arm(index, 8, log.spread) {
            1 => {
                let value = format!("www{}.{}", log.rng.below(9), bad.domains[i]);
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
            _ => clean_name(log.rng),
        };
        let start = log.zeek_start(index, 'D');
        let (client, answer) = (clean_ipv4(log.rng), clean_ipv4(log.rng));
        let answer = log.server_ipv4(answer);
        match log.shape {
            Shape::Minimal => {
                writeln!(out, "{start}\t{client}\t10.0.0.53\t{query}\tA\t{answer}").ok();
            }
            Shape::Full => {
                // An answered A query over UDP: its port, id, round trip and the answer's TTL.
                let (port, id) = (1024 + log.extra_below(60_000), log.extra_below(65_536));
                let (rtt, ttl) = (log.extra_below(100_000), 60 + log.extra_below(3600));
                writeln!(
                    out,
                    "{start}\t{client}\t{port}\t10.0.0.53\t53\tudp\t{id}\t0.{rtt:06}\t{query}\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t{answer}\t{ttl}.000000\tF"
                )
                .ok();
            }
        }
    }
    out
}

fn http_log(log: &mut Log<'_>, truth: &mut Vec<Truth>) -> String {
    // Each column as `name:type`.
    let columns = match log.shape {
        Shape::Minimal => "ts:time uid:string id.orig_h:addr id.resp_h:addr method:string \
                           host:string uri:string user_agent:string"
            .to_owned(),
        Shape::Full => format!(
            "{ZEEK_ID} trans_depth:count method:string host:string uri:string referrer:string \
             version:string user_agent:string origin:string request_body_len:count \
             response_body_len:count status_code:count status_msg:string info_code:count \
             info_msg:string tags:set[enum] username:string password:string \
             proxied:set[string] orig_fuids:vector[string] orig_filenames:vector[string] \
             orig_mime_types:vector[string] resp_fuids:vector[string] \
             resp_filenames:vector[string] resp_mime_types:vector[string]"
        ),
    };
    let mut out = zeek_header("http", &columns);
    let bad = log.bad;
    for index in 0..log.lines {
        let line = ZEEK_HEADER_LINES + 1 + index;
        let i = log.rng.below(N_BAD);
        let arm = arm(index, 6, log.spread);
        let (host, uri) = match arm {
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
            _ => (clean_name(log.rng), format!("/page/{}", log.rng.below(1000))),
        };
        let start = log.zeek_start(index, 'H');
        let (client, server) = (clean_ipv4(log.rng), clean_ipv4(log.rng));
        let server = log.server_ipv4(server);
        match log.shape {
            Shape::Minimal => {
                writeln!(out, "{start}\t{client}\t{server}\tGET\t{host}\t{uri}\tMozilla/5.0").ok();
            }
            Shape::Full => {
                // A browser's request answered with a page: half of them came from another
                // page of the same site (only on clean hosts: a referrer is a URL too).
                let port = 1024 + log.extra_below(60_000);
                let referrer = match arm == 0 && log.extra_below(2) == 0 {
                    true => format!("http://{host}/page/{}", log.extra_below(1000)),
                    false => "-".to_owned(),
                };
                let length = 200 + log.extra_below(50_000);
                let file = file_id(log.extra);
                writeln!(
                    out,
                    "{start}\t{client}\t{port}\t{server}\t80\t1\tGET\t{host}\t{uri}\t{referrer}\t1.1\t{USER_AGENT}\t-\t0\t{length}\t200\tOK\t-\t-\t(empty)\t-\t-\t-\t-\t-\t-\t{file}\t-\ttext/html"
                )
                .ok();
            }
        }
    }
    out
}

/// An EVE event's start: its time, and in the full shape the flow id and capture interface.
fn eve_start(log: &mut Log<'_>) -> String {
    let mut start = r#"{"timestamp":"2026-11-27T00:00:00.000000+0000","#.to_owned();
    if log.shape == Shape::Full {
        let flow_id = 1_000_000_000_000_000 + log.extra.next() % 1_000_000_000_000_000;
        write!(start, r#""flow_id":{flow_id},"in_iface":"eth0","#).ok();
    }
    start
}

/// An EVE event's addresses: in the full shape with their ports, the protocol and the source
/// of the packet.
fn eve_addresses(log: &mut Log<'_>, source: &str, destination: &str, port: u16) -> String {
    match log.shape {
        Shape::Minimal => format!(r#""src_ip":"{source}","dest_ip":"{destination}""#),
        Shape::Full => {
            let (protocol, source_port) =
                (if port == 53 { "UDP" } else { "TCP" }, 1024 + log.extra_below(60_000));
            format!(
                r#""src_ip":"{source}","src_port":{source_port},"dest_ip":"{destination}","dest_port":{port},"proto":"{protocol}","pkt_src":"wire/pcap""#
            )
        }
    }
}

/// An EVE `dns` query event for `name`.
fn eve_dns(log: &mut Log<'_>, source: &str, name: &str) -> String {
    let start = eve_start(log);
    let addresses = eve_addresses(log, source, "10.0.0.53", 53);
    let query = match log.shape {
        Shape::Minimal => format!(r#""type":"query","rrname":"{name}","rrtype":"A""#),
        Shape::Full => format!(
            r#""type":"query","id":{},"rrname":"{name}","rrtype":"A","tx_id":0,"opcode":0"#,
            log.extra_below(65_536)
        ),
    };
    format!(r#"{start}"event_type":"dns",{addresses},"dns":{{{query}}}}}"#)
}

/// An EVE `flow` event of a TLS connection to `destination`.
fn eve_flow(log: &mut Log<'_>, source: &str, destination: &str) -> String {
    let start = eve_start(log);
    let addresses = eve_addresses(log, source, destination, 443);
    match log.shape {
        Shape::Minimal => format!(r#"{start}"event_type":"flow",{addresses},"proto":"TCP""#) + "}",
        Shape::Full => {
            let (packets_out, packets_in) = (4 + log.extra_below(40), 4 + log.extra_below(60));
            let (bytes_out, bytes_in) = (
                packets_out * (60 + log.extra_below(400)),
                packets_in * (60 + log.extra_below(1400)),
            );
            let age = log.extra_below(30);
            format!(
                r#"{start}"event_type":"flow",{addresses},"app_proto":"tls","flow":{{"pkts_toserver":{packets_out},"pkts_toclient":{packets_in},"bytes_toserver":{bytes_out},"bytes_toclient":{bytes_in},"start":"2026-11-27T00:00:00.000000+0000","end":"2026-11-27T00:00:{age:02}.000000+0000","age":{age},"state":"closed","reason":"timeout","alerted":false}},"tcp":{{"tcp_flags":"1b","tcp_flags_ts":"1b","tcp_flags_tc":"1b","syn":true,"fin":true,"psh":true,"ack":true,"state":"closed"}}}}"#
            )
        }
    }
}

/// An EVE `fileinfo` event of a file `name` with SHA-256 `hash`, fetched by `client`.
fn eve_fileinfo(log: &mut Log<'_>, client: &str, name: &str, hash: &str) -> String {
    let start = eve_start(log);
    match log.shape {
        Shape::Minimal => format!(
            r#"{start}"event_type":"fileinfo","src_ip":"{client}","dest_ip":"10.0.0.80","fileinfo":{{"filename":"{name}","sha256":"{hash}","size":1024}}}}"#
        ),
        Shape::Full => {
            // Downloaded from a clean host over HTTP: the request's members come with it.
            let addresses = eve_addresses(log, client, "10.0.0.80", 80);
            let host = clean_name(log.extra);
            format!(
                r#"{start}"event_type":"fileinfo",{addresses},"http":{{"hostname":"{host}","url":"{name}","http_user_agent":"{USER_AGENT}","http_content_type":"application/octet-stream","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":1024}},"app_proto":"http","fileinfo":{{"filename":"{name}","gaps":false,"state":"CLOSED","sha256":"{hash}","stored":false,"size":1024,"tx_id":0}}}}"#
            )
        }
    }
}

fn eve_log(log: &mut Log<'_>, truth: &mut Vec<Truth>) -> String {
    let mut out = String::new();
    let bad = log.bad;
    for index in 0..log.lines {
        let line = 1 + index;
        let i = log.rng.below(N_BAD);
        let src = clean_ipv4(log.rng);
        let record = match arm(index, 7, log.spread) {
            1 => {
                let hash = bad.hashes[i].clone();
                truth.push(Truth {
                    file: "eve.json",
                    line,
                    field: "fileinfo.sha256",
                    value: hash.clone(),
                    matched: hash.clone(),
                });
                eve_fileinfo(log, &src, "/a.bin", &hash)
            }
            2 => {
                // Decoy: the bad hash with its last digit changed.
                let mut hash = bad.hashes[i].clone();
                let last = if hash.ends_with('0') { "1" } else { "0" };
                hash.replace_range(63.., last);
                eve_fileinfo(log, &src, "/b.bin", &hash)
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
                eve_dns(log, &src, &name)
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
                eve_flow(log, &src, &address)
            }
            _ => {
                let name = clean_name(log.rng);
                // In the full shape, as many flows as queries: most events of a sensor are
                // flows, and a flow's addresses are all private here.
                match log.shape == Shape::Full && log.extra_below(2) == 0 {
                    true => {
                        let destination = log.server_ipv4(String::new());
                        eve_flow(log, &src, &destination)
                    }
                    false => eve_dns(log, &src, &name),
                }
            }
        };
        out.push_str(&record);
        out.push('\n');
    }
    out
}
