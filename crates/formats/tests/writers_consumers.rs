//! Each export handed to the program that consumes it in the field: the OASIS STIX validator,
//! PyMISP, idstools (the rule parser of Suricata/Snort rule managers), BIND's `named-checkzone`
//! and `nft`.
//!
//! These tests need third-party tools, which `cargo xtask test` installs and passes in the
//! environment (`WATCHFIRE_CONSUMER_CHECKS=1`, `WATCHFIRE_VENV`, `WATCHFIRE_NAMED_CHECKZONE`,
//! `WATCHFIRE_NFT`). Under a plain `cargo test` they print that they did not run and return; once
//! `WATCHFIRE_CONSUMER_CHECKS` is set, a missing tool fails them.

#[path = "common/consumer_tools.rs"]
mod consumer_tools;
mod sample;

use consumer_tools::{check_nft, run, text};

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use watchfire_formats::write::{SnortVersion, Summary, WriteOptions, WriterKind, write_records};
use watchfire_model::record::{Category, IndicatorRecord, Record};
use watchfire_model::{Observable, ObservableKind};

/// Where the consumer programs are.
struct Consumers {
    venv: PathBuf,
    named_checkzone: PathBuf,
    nft: PathBuf,
}

impl Consumers {
    /// Returns the tools, or `None` (after saying so) when consumer checks are off.
    fn get(test: &str) -> Option<Consumers> {
        if env::var_os("WATCHFIRE_CONSUMER_CHECKS").is_none() {
            eprintln!(
                "{test}: consumer check not run; `cargo xtask test` installs the tools and runs it"
            );
            return None;
        }
        let path = |name: &str| {
            let value = env::var_os(name).unwrap_or_else(|| {
                panic!("WATCHFIRE_CONSUMER_CHECKS is set but {name} is not: run `cargo xtask test`")
            });
            let path = PathBuf::from(value);
            assert!(
                path.exists(),
                "{name}={} does not exist: run `cargo xtask test`",
                path.display()
            );
            path
        };
        Some(Consumers {
            venv: path("WATCHFIRE_VENV"),
            named_checkzone: path("WATCHFIRE_NAMED_CHECKZONE"),
            nft: path("WATCHFIRE_NFT"),
        })
    }

    fn venv_program(&self, name: &str) -> PathBuf {
        self.venv.join("bin").join(name)
    }
}

/// Writes the sample records in `kind` to a file of the test's scratch directory.
fn export(
    kind: WriterKind,
    options: &WriteOptions,
    records: &[Record],
    file_name: &str,
) -> (PathBuf, Summary) {
    let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join("writers_consumers");
    fs::create_dir_all(&directory).expect("scratch directory");
    let path = directory.join(file_name);
    let mut out = Vec::new();
    let summary = write_records(kind, options, &mut out, records).expect("writing to memory");
    fs::write(&path, out).expect("scratch file");
    (path, summary)
}

// The OASIS validator, all checks as errors (`--strict`) but two best practices watchfire departs
// from on purpose: 103 (ids SHOULD be UUIDv4; watchfire's are deterministic UUIDv5s, so a re-export
// yields the same objects) and 302 (an external reference with a URL SHOULD carry the page's hash;
// feeds give links to live pages, whose hashes nobody has).
const STIX_VALIDATOR_ARGS: [&str; 3] = ["--strict", "--disable", "103,302"];

#[test]
fn stix_bundle_passes_the_oasis_validator() {
    let Some(consumers) = Consumers::get("stix") else { return };
    let (path, summary) =
        export(WriterKind::Stix, &sample::options(), &sample::records(), "bundle.json");
    assert_eq!(summary.written, 15, "{summary}");
    let validator = consumers.venv_program("stix2_validator");
    let output = run(Command::new(&validator).args(STIX_VALIDATOR_ARGS).arg(&path));
    assert!(output.status.success(), "stix2_validator rejects the bundle:\n{}", text(&output));
    assert!(text(&output).contains("STIX JSON: Valid"), "{}", text(&output));

    // The validator really looks: the same bundle with one timestamp not to the millisecond fails.
    let bundle = fs::read_to_string(&path).expect("bundle");
    let broken = bundle.replacen(
        "\"valid_from\":\"2024-03-01T10:00:00.000Z\"",
        "\"valid_from\":\"2024-03-01\"",
        1,
    );
    assert_ne!(broken, bundle, "the sample has the c2 indicator");
    let broken_path = path.with_file_name("bundle-broken.json");
    fs::write(&broken_path, broken).expect("scratch file");
    let output = run(Command::new(&validator).args(STIX_VALIDATOR_ARGS).arg(&broken_path));
    assert!(
        !output.status.success(),
        "stix2_validator accepts a broken bundle:\n{}",
        text(&output)
    );
}

// Loads the event with PyMISP and checks, on the raw JSON (PyMISP silently replaces a category
// that does not fit the type), that every type is a MISP type, every category one the type allows,
// and the event carries the strictest TLP tag. Prints the number of attributes.
const MISP_CHECK: &str = r#"
import copy, json, sys
from pymisp import MISPEvent
raw = json.load(open(sys.argv[1]))
event = MISPEvent()
event.load(copy.deepcopy(raw))  # load takes the dictionary apart
types = event.describe_types
for attribute in raw["Event"]["Attribute"]:
    kind, category = attribute["type"], attribute["category"]
    if kind not in types["types"]:
        sys.exit(f"{attribute['value']}: unknown MISP type {kind}")
    if kind not in types["category_type_mappings"][category]:
        sys.exit(f"{attribute['value']}: category {category} does not allow type {kind}")
if len(event.attributes) != len(raw["Event"]["Attribute"]):
    sys.exit("pymisp dropped attributes")
if [tag.name for tag in event.tags] != ["tlp:amber+strict"]:
    sys.exit(f"event tags {[tag.name for tag in event.tags]}")
if event.info != "watchfire export from Example CERT":
    sys.exit(f"info {event.info}")
print(len(event.attributes))
"#;

#[test]
fn misp_event_loads_in_pymisp() {
    let Some(consumers) = Consumers::get("misp") else { return };
    let (path, summary) =
        export(WriterKind::Misp, &sample::options(), &sample::records(), "event.json");
    let output =
        run(Command::new(consumers.venv_program("python")).args(["-c", MISP_CHECK]).arg(&path));
    assert!(output.status.success(), "PyMISP check fails:\n{}", text(&output));
    // One attribute per written record, and one `link` attribute for the c2's reference.
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), (summary.written + 1).to_string());
}

// Parses every rule with idstools and checks that each has only the options the writer means to
// write (an escaping mistake would split an option), a `watchfire` message and a unique sid.
// Prints the number of rules and the lowest sid.
// Shared with the rule snippets' check in `warn` (`crates/warn/tests/playbook.rs`).
const RULES_CHECK: &str = include_str!("rules_check.py");

fn check_rules(
    consumers: &Consumers,
    kind: WriterKind,
    options: &WriteOptions,
    file_name: &str,
    allowed: &str,
) {
    let (path, summary) = export(kind, options, &sample::records(), file_name);
    let output = run(Command::new(consumers.venv_program("python"))
        .args(["-c", RULES_CHECK])
        .arg(&path)
        .arg(allowed));
    assert!(output.status.success(), "idstools check of {file_name} fails:\n{}", text(&output));
    let expected = format!("{} {}", summary.written, options.sid_base);
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), expected, "rules and first sid");
}

#[test]
fn suricata_rules_parse_in_idstools() {
    let Some(consumers) = Consumers::get("suricata") else { return };
    let options = WriteOptions { sid_base: 3_100_000, ..sample::options() };
    let allowed = "msg,flow,dns.query,dotprefix,http.host,http.uri,content,nocase,endswith,bsize,classtype,sid,rev";
    check_rules(&consumers, WriterKind::Suricata, &options, "suricata.rules", allowed);
}

#[test]
fn snort_rules_parse_in_idstools() {
    let Some(consumers) = Consumers::get("snort") else { return };
    let options = sample::options();
    let allowed = "msg,flow,http_uri,http_header,content,classtype,sid,rev";
    check_rules(&consumers, WriterKind::Snort, &options, "snort3.rules", allowed);
    let options = WriteOptions { snort_version: SnortVersion::V2_9, ..options };
    let allowed = "msg,flow,http_uri,http_header,content,nocase,fast_pattern,classtype,sid,rev";
    check_rules(&consumers, WriterKind::Snort, &options, "snort2.rules", allowed);
}

#[test]
fn rpz_zone_loads_in_named_checkzone() {
    let Some(consumers) = Consumers::get("rpz") else { return };
    let options = sample::options();
    let (path, _) = export(WriterKind::Rpz, &options, &sample::records(), "rpz.zone");
    // `-k fail`: bad names fail the load; `-D`: print the zone as BIND loaded it.
    let output = run(Command::new(&consumers.named_checkzone)
        .args(["-k", "fail", "-D", "-o", "-"])
        .arg(&options.rpz_zone)
        .arg(&path));
    assert!(output.status.success(), "named-checkzone rejects the zone:\n{}", text(&output));
    let loaded: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    for trigger in [
        "evil.example.rpz.watchfire.invalid. 300 IN CNAME .",
        "*.evil.example.rpz.watchfire.invalid. 300 IN CNAME .",
        "32.1.2.0.192.rpz-ip.rpz.watchfire.invalid. 300 IN CNAME .",
        "128.7.zz.db8.2001.rpz-ip.rpz.watchfire.invalid. 300 IN CNAME .",
        "48.zz.1234.db8.2001.rpz-ip.rpz.watchfire.invalid. 300 IN CNAME .",
    ] {
        assert!(
            loaded.iter().any(|line| line == trigger),
            "BIND did not load {trigger:?}:\n{loaded:#?}"
        );
    }
}

#[test]
fn nftables_script_loads_in_nft() {
    let Some(consumers) = Consumers::get("nftables") else { return };
    let (path, summary) =
        export(WriterKind::Nftables, &sample::options(), &sample::records(), "blocklist.nft");
    assert_eq!(summary.written, 4, "{summary}");
    check_nft(&consumers.nft, &path);
}

/// An export large enough for several `add element` batches, IPv4 and IPv6 interleaved, with
/// CIDRs covering earlier addresses and repeats: what made nft 1.0.6 fail the whole transaction
/// before the writer held IPv6 elements to the end.
#[test]
fn large_overlapping_nftables_script_loads_in_nft() {
    let Some(consumers) = Consumers::get("nftables") else { return };
    let mut records = Vec::new();
    for index in 0..1200_u32 {
        let (third, fourth) = (index % 8, index % 251);
        let text = match index % 7 {
            0 => format!("10.0.{third}.0/24"),
            1 => format!("2001:db8:{third:x}::{fourth:x}"),
            2 => format!("2001:db8:{third:x}::/48"),
            _ => format!("10.0.{third}.{fourth}"),
        };
        let kind = if text.contains('/') {
            ObservableKind::Cidr
        } else if text.contains(':') {
            ObservableKind::Ipv6
        } else {
            ObservableKind::Ipv4
        };
        let observable = Observable::parse_as(kind, &text).expect("valid network");
        let mut indicator = IndicatorRecord::new(observable);
        indicator.category = Some(Category::Scanner);
        records.push(Record::Indicator(indicator));
    }
    let (path, summary) = export(WriterKind::Nftables, &sample::options(), &records, "large.nft");
    assert_eq!(summary.written, 1200, "{summary}");
    check_nft(&consumers.nft, &path);
}
