//! Throughput of observable extraction over a generated, deterministic 100+ MB mixed log:
//! syslog (sshd), web-server access logs, Zeek conn and dns TSV, Suricata EVE JSON, mail logs,
//! EDR lines with hashes, and advisory prose with defanged values.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use watchfire_model::extract::{ExtractOptions, extract};

/// The size of the generated log.
const LOG_BYTES: usize = 100 * 1024 * 1024;

/// A xorshift64 generator: deterministic, and enough for picking words and numbers.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "the",
    "actor",
    "used",
    "a",
    "loader",
    "to",
    "deliver",
    "payload",
    "campaign",
    "targeting",
    "banks",
    "and",
    "ministries",
    "in",
    "several",
    "countries",
    "with",
    "spear-phishing",
    "e-mails",
    "containing",
    "malicious",
    "attachments",
    "persistence",
    "via",
    "scheduled",
    "tasks",
    "observed",
    "between",
    "January",
    "March",
    "infrastructure",
    "overlaps",
    "earlier",
    "activity",
    "report.pdf",
    "setup.exe",
    "version",
    "2.4.1",
    "v1.2.3",
    "e.g.",
    "i.e.",
    "(see",
    "below)",
    "traffic,",
    "C2.",
];
const HOSTS: &[&str] = &["web01", "db-02", "fw-edge", "mail", "proxy3", "dc01"];
const USERS: &[&str] = &["root", "admin", "alice", "bob", "oracle", "git", "test"];
const TLDS: &[&str] = &["com", "net", "org", "ru", "xyz", "top", "co.uk", "de", "info"];
const LABELS: &[&str] =
    &["evil", "login", "secure", "update", "cdn", "mail", "portal", "files", "acme"];
const PATHS: &[&str] =
    &["/", "/index.php?id=42", "/wp-login.php", "/gate.php", "/a/b/c.js", "/login"];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "curl/8.4.0",
    "python-requests/2.31.0",
];

fn ipv4(rng: &mut Xorshift, out: &mut String) {
    let [a, b, c, d] = (rng.next() as u32).to_be_bytes();
    write!(out, "{}.{b}.{c}.{d}", a.max(1)).unwrap();
}

fn domain(rng: &mut Xorshift, out: &mut String) {
    write!(out, "{}{}.{}", rng.pick(LABELS), rng.below(100), rng.pick(TLDS)).unwrap();
}

fn hex(rng: &mut Xorshift, digits: usize, out: &mut String) {
    let mut left = digits;
    while left > 0 {
        let chunk = format!("{:016x}", rng.next());
        let take = left.min(16);
        out.push_str(&chunk[..take]);
        left -= take;
    }
}

fn base64(rng: &mut Xorshift, chars: usize, out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for _ in 0..chars {
        out.push(char::from(ALPHABET[rng.below(64) as usize]));
    }
}

fn timestamp(rng: &mut Xorshift, out: &mut String) {
    write!(
        out,
        "Jan {:2} {:02}:{:02}:{:02}",
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        rng.below(60)
    )
    .unwrap();
}

/// Appends one log line of a randomly chosen type.
fn line(rng: &mut Xorshift, out: &mut String) {
    match rng.below(12) {
        0 | 1 => {
            timestamp(rng, out);
            write!(
                out,
                " {} sshd[{}]: Failed password for invalid user {} from ",
                rng.pick(HOSTS),
                rng.below(65536),
                rng.pick(USERS)
            )
            .unwrap();
            ipv4(rng, out);
            writeln!(out, " port {} ssh2", rng.below(65536)).unwrap();
        }
        2 | 3 => {
            ipv4(rng, out);
            write!(
                out,
                " - - [15/Jan/2024:{:02}:{:02}:{:02} +0000] \"GET {} HTTP/1.1\" {} {} \"https://",
                rng.below(24),
                rng.below(60),
                rng.below(60),
                rng.pick(PATHS),
                200 + rng.below(300),
                rng.below(100_000)
            )
            .unwrap();
            domain(rng, out);
            writeln!(out, "{}\" \"{}\"", rng.pick(PATHS), rng.pick(AGENTS)).unwrap();
        }
        4 => {
            write!(
                out,
                "{}.{:06}\tC{:x}\t",
                1_700_000_000 + rng.below(10_000_000),
                rng.below(1_000_000),
                rng.next()
            )
            .unwrap();
            ipv4(rng, out);
            write!(out, "\t{}\t", rng.below(65536)).unwrap();
            ipv4(rng, out);
            write!(out, "\t53\tudp\tdns\t0.{:03}\t", rng.below(1000)).unwrap();
            domain(rng, out);
            writeln!(out, "\tA\tNOERROR\tF\tT\t0\t-").unwrap();
        }
        6 => {
            timestamp(rng, out);
            write!(out, " {} sshd[{}]: Accepted publickey for {} from 2001:db8:{:x}::{:x} port {} ssh2: RSA SHA256:", rng.pick(HOSTS), rng.below(65536), rng.pick(USERS), rng.below(65536), rng.below(65536), rng.below(65536))
                .unwrap();
            // OpenSSH prints the SHA-256 fingerprint as unpadded base64.
            base64(rng, 43, out);
            out.push('\n');
        }
        7 => {
            timestamp(rng, out);
            write!(
                out,
                " mail postfix/smtp[{}]: {:X}: to=<{}@",
                rng.below(65536),
                rng.next() >> 24,
                rng.pick(USERS)
            )
            .unwrap();
            domain(rng, out);
            out.push_str(">, relay=mx.");
            domain(rng, out);
            out.push('[');
            ipv4(rng, out);
            writeln!(
                out,
                "]:25, delay=0.{}, dsn=2.0.0, status=sent (250 2.0.0 OK)",
                rng.below(100)
            )
            .unwrap();
        }
        8 => {
            write!(out, "2024-01-15T{:02}:{:02}:{:02}.{:03}Z edr process=C:\\Windows\\System32\\rundll32.exe pid={} md5=", rng.below(24), rng.below(60), rng.below(60), rng.below(1000), rng.below(65536))
                .unwrap();
            hex(rng, 32, out);
            out.push_str(" sha256=");
            hex(rng, 64, out);
            writeln!(out, " user={} asn=AS{}", rng.pick(USERS), rng.below(400_000)).unwrap();
        }
        5 => {
            // Zeek conn.log: ts uid orig_h orig_p resp_h resp_p proto service duration orig_bytes
            // resp_bytes conn_state local_orig local_resp missed_bytes history orig_pkts
            // orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents.
            write!(
                out,
                "{}.{:06}\tC{:x}\t",
                1_700_000_000 + rng.below(10_000_000),
                rng.below(1_000_000),
                rng.next()
            )
            .unwrap();
            ipv4(rng, out);
            write!(out, "\t{}\t", 1024 + rng.below(64_000)).unwrap();
            ipv4(rng, out);
            let (port, service) =
                [(443, "ssl"), (80, "http"), (22, "ssh"), (445, "-")][rng.below(4) as usize];
            writeln!(
                out,
                "\t{port}\ttcp\t{service}\t{}.{:06}\t{}\t{}\tSF\tF\tF\t0\tShADadFf\t{}\t{}\t{}\t{}\t-",
                rng.below(60),
                rng.below(1_000_000),
                rng.below(100_000),
                rng.below(1_000_000),
                rng.below(500),
                rng.below(50_000),
                rng.below(1000),
                rng.below(1_000_000)
            )
            .unwrap();
        }
        9 => {
            // Suricata EVE JSON alert with its HTTP metadata.
            write!(
                out,
                "{{\"timestamp\":\"2024-01-15T{:02}:{:02}:{:02}.{:06}+0000\",\"flow_id\":{},\"in_iface\":\"eth0\",\"event_type\":\"alert\",\"src_ip\":\"",
                rng.below(24),
                rng.below(60),
                rng.below(60),
                rng.below(1_000_000),
                rng.below(1 << 52)
            )
            .unwrap();
            ipv4(rng, out);
            write!(out, "\",\"src_port\":{},\"dest_ip\":\"", 1024 + rng.below(64_000)).unwrap();
            ipv4(rng, out);
            write!(
                out,
                "\",\"dest_port\":80,\"proto\":\"TCP\",\"alert\":{{\"action\":\"allowed\",\"gid\":1,\"signature_id\":{},\"rev\":{},\"signature\":\"ET MALWARE Generic Loader Checkin\",\"category\":\"A Network Trojan was detected\",\"severity\":1}},\"http\":{{\"hostname\":\"",
                2_000_000 + rng.below(100_000),
                1 + rng.below(9)
            )
            .unwrap();
            domain(rng, out);
            writeln!(
                out,
                "\",\"url\":\"{}\",\"http_user_agent\":\"{}\",\"http_method\":\"GET\",\"protocol\":\"HTTP/1.1\",\"status\":200,\"length\":{}}}}}",
                rng.pick(PATHS),
                rng.pick(AGENTS),
                rng.below(100_000)
            )
            .unwrap();
        }
        _ => {
            // Advisory prose with a defanged indicator now and then.
            for _ in 0..12 + rng.below(12) {
                out.push_str(rng.pick(WORDS));
                out.push(' ');
            }
            match rng.below(4) {
                0 => {
                    out.push_str("hxxp://");
                    domain(rng, out);
                    let dot = out.rfind('.').unwrap();
                    out.replace_range(dot..=dot, "[.]");
                    out.push_str("/payload.bin");
                }
                1 => {
                    ipv4(rng, out);
                    let dot = out.rfind('.').unwrap();
                    out.replace_range(dot..=dot, "[.]");
                }
                2 => {
                    out.push_str("contact soc@");
                    domain(rng, out);
                    out.push('.');
                }
                _ => out.push_str("with no indicator at all."),
            }
            out.push('\n');
        }
    }
}

fn generate_log() -> String {
    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    let mut log = String::with_capacity(LOG_BYTES + 4096);
    while log.len() < LOG_BYTES {
        line(&mut rng, &mut log);
    }
    log
}

fn bench_extract(c: &mut Criterion) {
    let log = generate_log();
    let options = ExtractOptions::default();
    // `EXTRACT_BENCH_SAMPLE=1` shows what is measured: the first lines and the hits per kind.
    if std::env::var_os("EXTRACT_BENCH_SAMPLE").is_some() {
        let sample_end = log.match_indices('\n').nth(30).map_or(log.len(), |(end, _)| end);
        eprintln!("{}", &log[..sample_end]);
        let mut per_kind = std::collections::BTreeMap::new();
        extract(log.as_bytes(), &options, 1, |hit| {
            *per_kind.entry(hit.observable.kind()).or_insert(0u64) += 1;
        });
        eprintln!("{} bytes, hits per kind: {per_kind:?}", log.len());
    }
    // `EXTRACT_BENCH_DUMP=path` writes every hit to `path`, so two versions of the extractor can
    // be compared hit by hit.
    if let Some(path) = std::env::var_os("EXTRACT_BENCH_DUMP") {
        let mut dump = String::new();
        extract(log.as_bytes(), &options, 1, |hit| {
            let kind = hit.observable.kind();
            writeln!(dump, "{}\t{}\t{kind}\t{}\t{}", hit.line, hit.offset, hit.observable, hit.raw)
                .unwrap();
        });
        std::fs::write(path, dump).unwrap();
    }
    let mut group = c.benchmark_group("extract");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Bytes(log.len() as u64));
    group.bench_function("mixed_log_100mb", |bencher| {
        bencher.iter(|| {
            let mut n_hits = 0usize;
            extract(black_box(log.as_bytes()), &options, 1, |hit| {
                n_hits += hit.raw.len();
            });
            n_hits
        });
    });
    group.finish();
}

criterion_group!(benches, bench_extract);
criterion_main!(benches);
