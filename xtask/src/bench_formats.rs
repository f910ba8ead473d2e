//! `cargo xtask bench-formats`: reading speed of the feed readers on generated inputs of a
//! million records each (STIX bundle, MISP events, URLhaus CSV, plain IP and domain lists),
//! beside the Python code a CERT would otherwise use on the same files, measured in the same run.
//!
//! Our side runs `crates/formats/examples/read_bench.rs`, built in release: it goes through the
//! real registry path (`format_by_name`, `input::open`, the format's `read`) on one thread, so
//! the timing does not depend on how xtask itself was compiled. The Python side runs a script
//! (below) in the venv of [`tools`](crate::tools), also on one thread. Both time from opening
//! the file to the last record, file in the page cache, interpreter start and imports excluded.
//!
//! The inputs are deterministic (a fixed-seed xorshift), written under `target/bench-inputs/`
//! and deleted at the end unless `--keep` is given.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::tools;

const USAGE: &str = "\
usage: cargo xtask bench-formats [--records N] [--runs N] [--python-runs N]
                                 [--python-stix N] [--pymisp-events N] [--keep]

  --records N        records per generated input (default 1000000)
  --runs N           timed runs of our readers per input; the median is reported (default 3)
  --python-runs N    timed runs of each Python reference (default 3)
  --python-stix N    objects of the STIX bundle stix2.parse reads (default 100000: stix2 is slow
                     and holds the whole bundle as Python objects)
  --pymisp-events N  events of 1000 attributes PyMISP's MISPEvent.load reads (default 20)
  --keep             keep the inputs under target/bench-inputs/ instead of deleting them
";

/// Attributes per generated MISP event: a REST `response` of 1000-attribute events stays far
/// below the reader's per-event cap, as real search results do.
const MISP_ATTRIBUTES_PER_EVENT: u64 = 1000;

#[derive(Debug)]
struct Options {
    records: u64,
    runs: u32,
    python_runs: u32,
    python_stix: u64,
    pymisp_events: u64,
    keep: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options {
            records: 1_000_000,
            runs: 3,
            python_runs: 3,
            python_stix: 100_000,
            pymisp_events: 20,
            keep: false,
        };
        for option in bench_options(args, USAGE) {
            match option? {
                BenchOption::Keep => options.keep = true,
                BenchOption::Value { name, value } => {
                    let number = || -> Result<u64> {
                        value.parse().with_context(|| format!("{name}: bad number {value:?}"))
                    };
                    match name {
                        "--records" => options.records = number()?,
                        "--runs" => options.runs = u32::try_from(number()?)?,
                        "--python-runs" => options.python_runs = u32::try_from(number()?)?,
                        "--python-stix" => options.python_stix = number()?,
                        "--pymisp-events" => options.pymisp_events = number()?,
                        _ => bail!("unknown option {name:?}\n\n{USAGE}"),
                    }
                }
            }
        }
        if options.runs == 0 || options.python_runs == 0 || options.records == 0 {
            bail!("--records, --runs and --python-runs must be at least 1");
        }
        Ok(options)
    }
}

/// One option of a bench command: `--keep`, or a name with its value.
pub enum BenchOption<'a> {
    /// `--keep`: keep the generated inputs.
    Keep,
    /// `--name value`.
    Value {
        /// The option's name, dashes included.
        name: &'a str,
        /// Its value.
        value: &'a str,
    },
}

/// Splits the arguments of a bench command into its options; an option other than `--keep`
/// without a value is an error that shows `usage`.
pub fn bench_options<'a>(
    args: &'a [String],
    usage: &'a str,
) -> impl Iterator<Item = Result<BenchOption<'a>>> + 'a {
    let mut args = args.iter();
    std::iter::from_fn(move || {
        let arg = args.next()?;
        if arg == "--keep" {
            return Some(Ok(BenchOption::Keep));
        }
        Some(match args.next() {
            Some(value) => Ok(BenchOption::Value { name: arg, value }),
            None => Err(anyhow::anyhow!("{arg} needs a value\n\n{usage}")),
        })
    })
}

/// One generated input.
#[derive(Debug)]
struct Input {
    path: PathBuf,
    records: u64,
    bytes: u64,
}

/// One Python reference run over an input.
#[derive(Debug)]
struct Reference {
    /// What the Python code does, for the table.
    label: String,
    /// The mode of the Python script.
    mode: &'static str,
    input: Input,
    /// An extra argument of the script (the event limit for PyMISP).
    extra: Option<String>,
}

/// One line of the table: one of our formats over one input, and its Python references.
#[derive(Debug)]
struct Case {
    label: &'static str,
    format: &'static str,
    input: Input,
    references: Vec<Reference>,
}

/// Medians of one side of one row.
#[derive(Debug, Clone, Copy)]
struct Timing {
    records: u64,
    bytes: u64,
    /// Median wall-clock time.
    seconds: f64,
    /// Median CPU time of the reading thread (process for Python).
    cpu_seconds: f64,
}

impl Timing {
    fn records_per_second(self) -> f64 {
        self.records as f64 / self.seconds
    }

    fn records_per_cpu_second(self) -> f64 {
        self.records as f64 / self.cpu_seconds
    }

    fn megabytes_per_second(self) -> f64 {
        self.bytes as f64 / 1e6 / self.seconds
    }
}

/// Runs the whole benchmark and prints the Markdown report.
pub fn run(args: &[String]) -> Result<()> {
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        print!("{USAGE}");
        return Ok(());
    }
    let options = Options::parse(args)?;
    let directory = PathBuf::from("target/bench-inputs");
    fs::create_dir_all(&directory)
        .with_context(|| format!("cannot create {}", directory.display()))?;
    let load_before = load_average();

    println!("building the reader harness (release)");
    let status = Command::new("cargo")
        .args(["build", "--release", "--quiet", "-p", "watchfire-formats"])
        .args(["--example", "read_bench"])
        .env("CARGO_INCREMENTAL", "0")
        .status()
        .context("cannot run cargo build")?;
    if !status.success() {
        bail!("building the read_bench example failed: {status}");
    }
    let harness = PathBuf::from("target/release/examples/read_bench");
    let venv = tools::ensure_venv()?;
    let script = directory.join("reference.py");
    fs::write(&script, PYTHON_REFERENCE)
        .with_context(|| format!("cannot write {}", script.display()))?;

    let cases = generate(&directory, &options)?;
    let mut rows = Vec::new();
    for case in &cases {
        let ours = time_ours(&harness, case, options.runs)?;
        let mut references = Vec::new();
        for reference in &case.references {
            references.push(time_python(&venv, &script, reference, options.python_runs)?);
        }
        rows.push((ours, references));
    }
    let load_after = load_average();

    println!();
    println!("{}", report(&cases, &rows, &options, &load_before, &load_after));
    if !options.keep {
        fs::remove_dir_all(&directory)
            .with_context(|| format!("cannot delete {}", directory.display()))?;
    }
    Ok(())
}

fn generate(directory: &Path, options: &Options) -> Result<Vec<Case>> {
    let n = options.records;
    let started = Instant::now();
    println!("generating inputs of {n} records under {}", directory.display());
    let stix = write_input(&directory.join("bundle.json"), |out| write_stix(out, n))?;
    let stix_python = write_input(&directory.join("bundle-python.json"), |out| {
        write_stix(out, options.python_stix.min(n))
    })?;
    let misp = write_input(&directory.join("misp-response.json"), |out| write_misp(out, n))?;
    let pymisp_events = options.pymisp_events.min(n.div_ceil(MISP_ATTRIBUTES_PER_EVENT));
    let pymisp_attributes = (pymisp_events * MISP_ATTRIBUTES_PER_EVENT).min(n);
    // PyMISP reads the first events of the same file; its record count is theirs.
    let pymisp = Input { path: misp.path.clone(), records: pymisp_attributes, bytes: 0 };
    let urlhaus = write_input(&directory.join("csv_recent.csv"), |out| write_urlhaus(out, n))?;
    let ips = write_input(&directory.join("ips.txt"), |out| write_ip_list(out, n))?;
    let domains = write_input(&directory.join("domains.txt"), |out| write_domain_list(out, n))?;
    println!("generated in {:.1?}", started.elapsed());

    let same = |input: &Input| Input { path: input.path.clone(), ..*input };
    Ok(vec![
        Case {
            label: "STIX 2.1 bundle of indicators",
            format: "stix",
            references: vec![Reference {
                label: format!(
                    "`stix2.parse(allow_custom=True)`{}",
                    if stix_python.records == stix.records {
                        String::new()
                    } else {
                        format!(" on the first {} objects", thousands(stix_python.records))
                    }
                ),
                mode: "stix",
                input: stix_python,
                extra: None,
            }],
            input: stix,
        },
        Case {
            label: "MISP `response` of events (attributes)",
            format: "misp-event",
            references: vec![
                Reference {
                    label: "`json.load` + loop over attributes".to_owned(),
                    mode: "misp-json",
                    input: same(&misp),
                    extra: None,
                },
                Reference {
                    label: format!("PyMISP `MISPEvent().load` on the first {pymisp_events} events"),
                    mode: "pymisp",
                    input: pymisp,
                    extra: Some(pymisp_events.to_string()),
                },
            ],
            input: misp,
        },
        Case {
            label: "URLhaus CSV (csv_recent layout)",
            format: "abusech-urlhaus",
            references: vec![Reference {
                label: "`csv.reader`, `#` lines skipped".to_owned(),
                mode: "csv",
                input: same(&urlhaus),
                extra: None,
            }],
            input: urlhaus,
        },
        Case {
            label: "plain IP list",
            format: "plain-ip",
            references: vec![Reference {
                label: "`for line in f` + `ipaddress.ip_address`".to_owned(),
                mode: "ip",
                input: same(&ips),
                extra: None,
            }],
            input: ips,
        },
        Case {
            label: "plain domain list",
            format: "plain-domain",
            references: vec![Reference {
                label: "`for line in f` + `.strip().lower()`".to_owned(),
                mode: "domain",
                input: same(&domains),
                extra: None,
            }],
            input: domains,
        },
    ])
}

/// Writes one input with `write`, which returns its record count.
fn write_input(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<u64>,
) -> Result<Input> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let records = write(&mut out).with_context(|| format!("cannot write {}", path.display()))?;
    out.flush().with_context(|| format!("cannot write {}", path.display()))?;
    let bytes =
        fs::metadata(path).with_context(|| format!("cannot stat {}", path.display()))?.len();
    Ok(Input { path: path.to_owned(), records, bytes })
}

fn time_ours(harness: &Path, case: &Case, runs: u32) -> Result<Timing> {
    let output = Command::new(harness)
        .arg(case.format)
        .arg(&case.input.path)
        .arg(runs.to_string())
        .output()
        .with_context(|| format!("cannot run {}", harness.display()))?;
    if !output.status.success() {
        bail!(
            "read_bench {} failed: {}",
            case.format,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let (mut seconds, mut cpu_seconds) = (Vec::new(), Vec::new());
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let [records, rejects, run_seconds, run_cpu_seconds] = fields.as_slice() else {
            bail!("read_bench printed {line:?}");
        };
        let (records, rejects): (u64, u64) = (records.parse()?, rejects.parse()?);
        if rejects != 0 || records < case.input.records {
            bail!(
                "{}: {records} records and {rejects} rejects from {} input records: {}",
                case.format,
                case.input.records,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        seconds.push(run_seconds.parse()?);
        cpu_seconds.push(run_cpu_seconds.parse()?);
        println!(
            "ours {:<16} {records} records in {run_seconds} s ({run_cpu_seconds} s on a CPU)",
            case.format
        );
    }
    Ok(Timing {
        records: case.input.records,
        bytes: case.input.bytes,
        seconds: median(seconds),
        cpu_seconds: median(cpu_seconds),
    })
}

fn time_python(venv: &Path, script: &Path, reference: &Reference, runs: u32) -> Result<Timing> {
    let output = Command::new(venv.join("bin/python"))
        .arg(script)
        .arg(reference.mode)
        .arg(&reference.input.path)
        .arg(runs.to_string())
        .args(&reference.extra)
        .output()
        .context("cannot run the Python reference")?;
    if !output.status.success() {
        bail!(
            "python {} failed: {}",
            reference.mode,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let (mut seconds, mut cpu_seconds) = (Vec::new(), Vec::new());
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let [records, run_seconds, run_cpu_seconds] = fields.as_slice() else {
            bail!("python printed {line:?}");
        };
        let records: u64 = records.parse()?;
        if records != reference.input.records {
            bail!(
                "python {}: {records} records, expected {}",
                reference.mode,
                reference.input.records
            );
        }
        seconds.push(run_seconds.parse()?);
        cpu_seconds.push(run_cpu_seconds.parse()?);
        println!(
            "python {:<14} {records} records in {run_seconds} s ({run_cpu_seconds} s on a CPU)",
            reference.mode
        );
    }
    Ok(Timing {
        records: reference.input.records,
        bytes: reference.input.bytes,
        seconds: median(seconds),
        cpu_seconds: median(cpu_seconds),
    })
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

fn report(
    cases: &[Case],
    rows: &[(Timing, Vec<Timing>)],
    options: &Options,
    load_before: &str,
    load_after: &str,
) -> String {
    let mut out = String::new();
    let cpu = cpu_model();
    let n_cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let python = Command::new("python3")
        .arg("--version")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_default();
    let _ = writeln!(out, "- Machine: {n_cpus} CPUs (`nproc`), {cpu}; {python}");
    let _ =
        writeln!(out, "- Load average (1, 5, 15 min): {load_before} before, {load_after} after");
    let _ = writeln!(
        out,
        "- Ours: median of {} runs, one thread, release build; Python: median of {} runs, one \
         thread. Rates are records per wall-clock second; \"per CPU-s\" divides by the time the \
         thread was on a CPU, which a loaded machine does not inflate. The ratio compares CPU rates.",
        options.runs, options.python_runs
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| Format | Records | MB | Ours median | Ours records/s | Ours MB/s | Ours records per CPU-s | Python reference | Python records | Python median | Python records/s | Python records per CPU-s | Ratio |"
    );
    let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|");
    for (case, (ours, references)) in cases.iter().zip(rows) {
        for (index, (reference, python)) in case.references.iter().zip(references).enumerate() {
            let ours_cells = if index == 0 {
                format!(
                    "{} (`{}`) | {} | {:.0} | {:.2} s | {} | {:.1} | {}",
                    case.label,
                    case.format,
                    thousands(ours.records),
                    ours.bytes as f64 / 1e6,
                    ours.seconds,
                    thousands(ours.records_per_second() as u64),
                    ours.megabytes_per_second(),
                    thousands(ours.records_per_cpu_second() as u64),
                )
            } else {
                "〃 | | | | | | ".to_owned()
            };
            let _ = writeln!(
                out,
                "| {ours_cells} | {} | {} | {:.2} s | {} | {} | {:.1}x |",
                reference.label,
                thousands(python.records),
                python.seconds,
                thousands(python.records_per_second() as u64),
                thousands(python.records_per_cpu_second() as u64),
                ours.records_per_cpu_second() / python.records_per_cpu_second(),
            );
        }
    }
    out
}

/// The `model name` of the first CPU in `/proc/cpuinfo`.
pub fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

pub fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// `1234567` as `1 234 567`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(digit);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Input generators.

/// xorshift64*: deterministic, fast, good enough for test data.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Whether a `percent` chance came up.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn uuid(&mut self) -> String {
        let (high, low) = (self.next(), self.next());
        // Version 4, RFC 4122 variant: stix2 checks both.
        let high = (high & !0xf000) | 0x4000;
        let low = (low & !(0xc << 60)) | (0x8 << 60);
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            high >> 32,
            (high >> 16) & 0xffff,
            high & 0xffff,
            low >> 48,
            low & 0xffff_ffff_ffff
        )
    }

    pub fn hex(&mut self, n_chars: usize) -> String {
        let mut out = String::with_capacity(n_chars + 16);
        while out.len() < n_chars {
            let _ = write!(out, "{:016x}", self.next());
        }
        out.truncate(n_chars);
        out
    }

    /// A public-looking IPv4 address (first octet 1..=223, not 10 or 127).
    pub fn ipv4(&mut self) -> String {
        let first = *self.pick(&[5u64, 23, 31, 45, 62, 77, 91, 103, 117, 141, 176, 185, 194, 212]);
        format!("{first}.{}.{}.{}", self.below(256), self.below(256), 1 + self.below(254))
    }

    pub fn ipv6(&mut self) -> String {
        format!(
            "2a0{:x}:{:x}:{:x}::{:x}",
            self.below(16),
            self.below(0x10000),
            self.below(0x10000),
            1 + self.below(0xffff)
        )
    }

    pub fn label(&mut self) -> String {
        const SYLLABLES: [&str; 16] = [
            "ka", "zu", "mor", "tel", "ex", "vin", "qo", "ra", "pay", "log", "sec", "net", "on",
            "bit", "cl", "dy",
        ];
        let n = 2 + self.below(3);
        let mut label: String = (0..n).map(|_| *self.pick(&SYLLABLES)).collect();
        if self.chance(30) {
            let _ = write!(label, "{}", self.below(1000));
        }
        label
    }

    pub fn domain(&mut self) -> String {
        const SUFFIXES: [&str; 10] =
            ["com", "net", "org", "ru", "xyz", "top", "info", "de", "co.uk", "online"];
        let suffix = *self.pick(&SUFFIXES);
        if self.chance(30) {
            format!("{}.{}.{suffix}", self.label(), self.label())
        } else {
            format!("{}.{suffix}", self.label())
        }
    }

    pub fn url(&mut self) -> String {
        const PATHS: [&str; 8] =
            ["i", "bin.sh", "mozi.m", "x86_64", "wp-admin/login.php", "invoice.zip", "a/b.exe", ""];
        let scheme = if self.chance(25) { "https" } else { "http" };
        let path = *self.pick(&PATHS);
        if self.chance(55) {
            format!("{scheme}://{}:{}/{path}", self.ipv4(), 1024 + self.below(60000))
        } else {
            format!("{scheme}://{}/{path}", self.domain())
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS` in 2024-2025.
    pub fn datetime(&mut self) -> String {
        format!(
            "{}-{:02}-{:02}T{:02}:{:02}:{:02}",
            2024 + self.below(2),
            1 + self.below(12),
            1 + self.below(28),
            self.below(24),
            self.below(60),
            self.below(60)
        )
    }
}

/// The TLP 1.0 and 2.0 marking definition ids, as feeds put them in `object_marking_refs`.
const TLP_MARKINGS: [&str; 6] = [
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
];

/// A STIX 2.1 bundle, one object a line: an identity, then `n - 1` indicators with a mix of
/// observable kinds (a fifth of them compound patterns), labels, TLP markings, and some
/// `valid_until` and external references. Returns the object count.
fn write_stix(out: &mut dyn Write, n: u64) -> std::io::Result<u64> {
    let mut rng = Rng::new(0x5717_2021);
    let identity = format!("identity--{}", rng.uuid());
    writeln!(out, "{{\"type\":\"bundle\",\"id\":\"bundle--{}\",\"objects\":[", rng.uuid())?;
    write!(
        out,
        "{{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"{identity}\",\
         \"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\
         \"name\":\"Example CERT feed\",\"identity_class\":\"organization\"}}"
    )?;
    const LABELS: [&str; 8] =
        ["botnet", "c2", "phishing", "malware-distribution", "scanner", "spam", "emotet", "mirai"];
    for index in 1..n {
        let (pattern, name) = stix_pattern(&mut rng);
        let created = rng.datetime();
        let indicator_type = if rng.chance(85) { "malicious-activity" } else { "compromised" };
        write!(
            out,
            ",\n{{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--{}\",\
             \"created_by_ref\":\"{identity}\",\"created\":\"{created}.{:03}Z\",\
             \"modified\":\"{created}.{:03}Z\",\"name\":\"{name}\",\
             \"indicator_types\":[\"{indicator_type}\"],\"pattern\":\"{pattern}\",\
             \"pattern_type\":\"stix\",\"pattern_version\":\"2.1\",\
             \"valid_from\":\"{created}Z\"",
            rng.uuid(),
            index % 1000,
            index % 1000,
        )?;
        if rng.chance(40) {
            write!(out, ",\"valid_until\":\"2026-{:02}-01T00:00:00Z\"", 1 + rng.below(12))?;
        }
        write!(
            out,
            ",\"labels\":[\"{}\",\"{}\"],\"confidence\":{},\"object_marking_refs\":[\"{}\"]",
            rng.pick(&LABELS),
            rng.pick(&LABELS),
            50 + rng.below(50),
            rng.pick(&TLP_MARKINGS)
        )?;
        if rng.chance(30) {
            write!(
                out,
                ",\"external_references\":[{{\"source_name\":\"example-feed\",\
                 \"url\":\"https://feed.example.org/entry/{index}\"}}]"
            )?;
        }
        out.write_all(b"}")?;
    }
    out.write_all(b"\n]}\n")?;
    Ok(n)
}

/// A pattern and a name for it, with single quotes (the JSON needs no escaping).
fn stix_pattern(rng: &mut Rng) -> (String, &'static str) {
    match rng.below(100) {
        0..30 => (format!("[ipv4-addr:value = '{}']", rng.ipv4()), "C2 address"),
        30..35 => (format!("[ipv6-addr:value = '{}']", rng.ipv6()), "C2 address"),
        35..55 => (format!("[domain-name:value = '{}']", rng.domain()), "Malicious domain"),
        55..70 => (format!("[url:value = '{}']", rng.url()), "Payload URL"),
        70..78 => (format!("[file:hashes.'SHA-256' = '{}']", rng.hex(64)), "Malware sample"),
        78..82 => (format!("[file:hashes.MD5 = '{}']", rng.hex(32)), "Malware sample"),
        82..85 => {
            (format!("[email-addr:value = '{}@{}']", rng.label(), rng.domain()), "Phishing sender")
        }
        85..93 => (
            format!(
                "[ipv4-addr:value = '{}'] OR [domain-name:value = '{}']",
                rng.ipv4(),
                rng.domain()
            ),
            "C2 infrastructure",
        ),
        _ => (
            format!(
                "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value \
                 = '{}' AND network-traffic:dst_port = {}]",
                rng.ipv4(),
                1 + rng.below(65535)
            ),
            "C2 connection",
        ),
    }
}

/// A MISP REST search `response`: events of [`MISP_ATTRIBUTES_PER_EVENT`] attributes, `n`
/// attributes in all, with event tags (TLP, a galaxy) and some attribute tags. Returns `n`.
fn write_misp(out: &mut dyn Write, n: u64) -> std::io::Result<u64> {
    const TYPES: [(&str, &str, u64); 11] = [
        ("ip-dst", "Network activity", 30),
        ("ip-src", "Network activity", 8),
        ("domain", "Network activity", 15),
        ("hostname", "Network activity", 5),
        ("url", "Payload delivery", 15),
        ("md5", "Payload delivery", 5),
        ("sha256", "Payload delivery", 10),
        ("ip-dst|port", "Network activity", 5),
        ("domain|ip", "Network activity", 3),
        ("email-src", "Payload delivery", 2),
        ("text", "Other", 2),
    ];
    const TLPS: [&str; 3] = ["tlp:green", "tlp:amber", "tlp:clear"];
    const GALAXIES: [&str; 4] = ["Emotet", "QakBot", "Mirai", "AgentTesla"];
    let mut rng = Rng::new(0x3159_2024);
    out.write_all(b"{\"response\":[")?;
    let mut written = 0;
    let mut event_id = 0;
    while written < n {
        event_id += 1;
        let in_event = MISP_ATTRIBUTES_PER_EVENT.min(n - written);
        let timestamp = 1_700_000_000 + rng.below(60_000_000);
        if event_id > 1 {
            out.write_all(b",")?;
        }
        write!(
            out,
            "\n{{\"Event\":{{\"id\":\"{event_id}\",\"orgc_id\":\"1\",\"org_id\":\"1\",\
             \"date\":\"2025-{:02}-{:02}\",\"threat_level_id\":\"{}\",\
             \"info\":\"Campaign {event_id}: {} infrastructure\",\"published\":true,\
             \"uuid\":\"{}\",\"analysis\":\"2\",\"timestamp\":\"{timestamp}\",\
             \"distribution\":\"1\",\"publish_timestamp\":\"{timestamp}\",\
             \"sharing_group_id\":\"0\",\"disable_correlation\":false,\
             \"Orgc\":{{\"id\":\"1\",\"name\":\"CERT-EX\",\"uuid\":\"{}\"}},\
             \"Attribute\":[",
            1 + rng.below(12),
            1 + rng.below(28),
            1 + rng.below(4),
            rng.pick(&GALAXIES),
            rng.uuid(),
            rng.uuid()
        )?;
        for index in 0..in_event {
            let mut roll = rng.below(100);
            let &(kind, category, _) = TYPES
                .iter()
                .find(|(_, _, weight)| {
                    let hit = roll < *weight;
                    roll = roll.saturating_sub(*weight);
                    hit
                })
                .unwrap_or(&TYPES[0]);
            let value = match kind {
                "ip-dst" | "ip-src" => rng.ipv4(),
                "domain" | "hostname" => rng.domain(),
                "url" => rng.url(),
                "md5" => rng.hex(32),
                "sha256" => rng.hex(64),
                "ip-dst|port" => format!("{}|{}", rng.ipv4(), 1 + rng.below(65535)),
                "domain|ip" => format!("{}|{}", rng.domain(), rng.ipv4()),
                "email-src" => format!("{}@{}", rng.label(), rng.domain()),
                _ => format!("seen in campaign {event_id}"),
            };
            if index > 0 {
                out.write_all(b",")?;
            }
            write!(
                out,
                "\n{{\"id\":\"{}\",\"type\":\"{kind}\",\"category\":\"{category}\",\
                 \"to_ids\":{},\"uuid\":\"{}\",\"event_id\":\"{event_id}\",\
                 \"distribution\":\"5\",\"timestamp\":\"{}\",\"comment\":\"\",\
                 \"sharing_group_id\":\"0\",\"deleted\":false,\"disable_correlation\":false,\
                 \"object_id\":\"0\",\"object_relation\":null,\"first_seen\":null,\
                 \"last_seen\":null,\"value\":\"{value}\"",
                written + index + 1,
                kind != "text" && rng.chance(90),
                rng.uuid(),
                timestamp - rng.below(86_400),
            )?;
            if rng.chance(10) {
                write!(
                    out,
                    ",\"Tag\":[{{\"id\":\"7\",\"name\":\"{}\",\"colour\":\"#33FF00\"}}]",
                    rng.pick(&TLPS)
                )?;
            }
            out.write_all(b"}")?;
        }
        write!(
            out,
            "],\"Object\":[],\"Tag\":[{{\"id\":\"1\",\"name\":\"{}\",\"colour\":\"#FFC000\"}},\
             {{\"id\":\"2\",\"name\":\"misp-galaxy:malpedia=\\\"{}\\\"\",\"colour\":\"#0088cc\"}}]}}}}",
            rng.pick(&TLPS),
            rng.pick(&GALAXIES)
        )?;
        written += in_event;
    }
    out.write_all(b"\n]}\n")?;
    Ok(n)
}

/// A URLhaus `csv_recent.csv`: its banner, the commented header and `n` fully quoted rows.
fn write_urlhaus(out: &mut dyn Write, n: u64) -> std::io::Result<u64> {
    const TAGS: [&str; 6] =
        ["32-bit,elf,mips,Mozi", "elf,mirai", "None", "exe,AgentTesla", "doc,emotet,heodo", "zip"];
    let mut rng = Rng::new(0x0ab5_ec05);
    out.write_all(
        b"################################################################\n\
          # abuse.ch URLhaus Database Dump (CSV - recent URLs only)      #\n\
          # Last updated: 2025-12-31 23:59:59 (UTC)                      #\n\
          #                                                              #\n\
          # Terms Of Use: https://urlhaus.abuse.ch/api/                  #\n\
          # For questions please contact urlhaus [at] abuse.ch           #\n\
          ################################################################\n\
          #\n\
          # id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n",
    )?;
    for index in 0..n {
        let id = 4_000_000 - index;
        let added = rng.datetime().replace('T', " ");
        let online = rng.chance(30);
        let last_online = if online || rng.chance(50) { added.clone() } else { String::new() };
        writeln!(
            out,
            "\"{id}\",\"{added}\",\"{}\",\"{}\",\"{last_online}\",\"malware_download\",\"{}\",\
             \"https://urlhaus.abuse.ch/url/{id}/\",\"{}\"",
            rng.url(),
            if online { "online" } else { "offline" },
            rng.pick(&TAGS),
            rng.pick(&["geenensp", "abuse_ch", "lrz_urlhaus", "Cryptolaemus1"])
        )?;
    }
    Ok(n)
}

/// A plain IP list: a comment header, then `n` addresses (one in 20 IPv6).
fn write_ip_list(out: &mut dyn Write, n: u64) -> std::io::Result<u64> {
    let mut rng = Rng::new(0x1b_1157);
    out.write_all(b"# generated blocklist of scanning hosts\n# one address a line\n")?;
    for _ in 0..n {
        let address = if rng.chance(5) { rng.ipv6() } else { rng.ipv4() };
        writeln!(out, "{address}")?;
    }
    Ok(n)
}

/// A plain domain list: a comment header, then `n` domains.
fn write_domain_list(out: &mut dyn Write, n: u64) -> std::io::Result<u64> {
    let mut rng = Rng::new(0xd0_3a11);
    out.write_all(b"# generated list of malicious domains\n")?;
    for _ in 0..n {
        writeln!(out, "{}", rng.domain())?;
    }
    Ok(n)
}

/// The Python references: `reference.py MODE FILE RUNS [EXTRA]` prints `records seconds
/// cpu_seconds` per run, timing from opening the file to the last record (imports excluded).
const PYTHON_REFERENCE: &str = r##"
import csv, ipaddress, json, sys, time

mode, path, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
extra = sys.argv[4] if len(sys.argv) > 4 else None
if mode == "stix":
    import stix2
if mode == "pymisp":
    import pymisp

def stix():
    with open(path, encoding="utf-8") as f:
        bundle = stix2.parse(f.read(), allow_custom=True)
    return len(bundle.objects)

def misp_json():
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    n = 0
    for event in data["response"]:
        for attribute in event["Event"]["Attribute"]:
            if attribute["type"] and attribute["value"]:
                n += 1
    return n

def misp_pymisp():
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    n = 0
    for event in data["response"][: int(extra)]:
        loaded = pymisp.MISPEvent()
        loaded.load(event)
        n += len(loaded.attributes)
    return n

def csv_rows():
    n = 0
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.reader(line for line in f if not line.startswith("#")):
            if row:
                n += 1
    return n

def ips():
    n = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                ipaddress.ip_address(line)
                n += 1
    return n

def domains():
    n = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip().lower()
            if line and not line.startswith("#"):
                n += 1
    return n

run = {"stix": stix, "misp-json": misp_json, "pymisp": misp_pymisp, "csv": csv_rows,
       "ip": ips, "domain": domains}[mode]
for _ in range(runs):
    started, cpu_started = time.perf_counter(), time.process_time()
    n = run()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(n, f"{elapsed:.6f}", f"{cpu:.6f}", flush=True)
"##;
