//! `cargo xtask bench-taxii`: paging through a TAXII 2.1 collection of 1 M objects, our server
//! beside medallion 3.0.0 (the OASIS reference server, memory backend) holding the same objects,
//! in the same run (issue 7).
//!
//! It generates 1 M STIX 2.1 indicators (GREEN, so that every member sees them), imports them
//! into a fresh SQLite store under `target/bench-taxii/`, makes an administrator, and starts
//! `watchfire serve`; it writes the same objects into a medallion data file (objects and
//! manifest) and starts medallion from the test venv. One client (Rust, ureq, keep-alive,
//! Basic authentication, `Accept: application/taxii+json;version=2.1`) pages through the
//! collection with `limit=1000` and `next` until `more` is false, counting objects; medallion is
//! given a time budget (its memory backend copies the whole collection on the first request and
//! shifts a Python list on every page), and its rate is the objects it served in that time.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use base64::Engine as _;

use crate::bench_formats::{BenchOption, bench_options, cpu_model, load_average, thousands};
use crate::node;
use crate::tools;

const USAGE: &str = "\
usage: cargo xtask bench-taxii [--records N] [--medallion-seconds S] [--keep]

  --records N             objects in the collection (default 1000000)
  --medallion-seconds S   the time medallion is given to page (default 120)
  --keep                  keep target/bench-taxii/ afterwards
";

const DIRECTORY: &str = "target/bench-taxii";
const TAXII: &str = "application/taxii+json;version=2.1";
const PAGE: usize = 1000;
const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";

struct Options {
    records: u64,
    medallion_seconds: u64,
    keep: bool,
}

/// What one server did.
struct Run {
    objects: u64,
    pages: u64,
    seconds: f64,
    finished: bool,
}

/// Runs the benchmark and prints the Markdown report.
pub fn run(args: &[String]) -> Result<()> {
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        print!("{USAGE}");
        return Ok(());
    }
    let mut options = Options { records: 1_000_000, medallion_seconds: 120, keep: false };
    for option in bench_options(args, USAGE) {
        match option? {
            BenchOption::Keep => options.keep = true,
            BenchOption::Value { name: "--records", value } => {
                options.records = value.parse().context("--records")?;
            }
            BenchOption::Value { name: "--medallion-seconds", value } => {
                options.medallion_seconds = value.parse().context("--medallion-seconds")?;
            }
            BenchOption::Value { name, .. } => {
                bail!("bench-taxii: unknown option {name}\n\n{USAGE}")
            }
        }
    }
    let directory = PathBuf::from(DIRECTORY);
    node::fresh_directory(&directory)?;
    let venv = tools::ensure_venv()?;
    let binary = node::build_release()?;
    let load_before = load_average();
    let mut rows = Vec::new();
    let mut sizes: Vec<u64> =
        [1_000, 10_000].into_iter().filter(|size| *size < options.records).collect();
    sizes.push(options.records);
    for size in sizes {
        let (ours, theirs) = compare(&binary, &venv, &directory, size, &options)?;
        rows.push((size, ours, theirs));
    }
    let load_after = load_average();
    println!();
    println!("{}", report(&rows, &options, &load_before, &load_after));
    if !options.keep {
        fs::remove_dir_all(&directory)
            .with_context(|| format!("cannot delete {}", directory.display()))?;
    }
    Ok(())
}

/// Pages through `size` objects on both servers.
fn compare(
    binary: &Path,
    venv: &Path,
    directory: &Path,
    size: u64,
    options: &Options,
) -> Result<(Run, Run)> {
    let directory = directory.join(size.to_string());
    fs::create_dir_all(&directory)?;
    let bundle = directory.join("bundle.json");
    let medallion_data = directory.join("medallion-data.json");
    let medallion_port = node::free_port()?;
    write_inputs(&bundle, &medallion_data, size, medallion_port)?;

    let data = directory.join("data");
    println!("{size}: importing into watchfire");
    let imported = node::watchfire(binary, &data)
        .args(["import", "--format", "stix", "--source", "bench"])
        .arg(&bundle)
        .stdout(Stdio::null())
        .status()
        .context("cannot run watchfire import")?;
    if !imported.success() {
        bail!("watchfire import failed: {imported}");
    }
    let node::Admin { user, password, .. } = node::admin_init(binary, &data)?;
    let ours = {
        let (_server, base) = node::serve(binary, &data, node::free_port()?)?;
        wait_for(&format!("{base}/taxii2/"), &user, &password)?;
        let collection = all_collection(&base, &user, &password)?;
        let url = format!("{base}/taxii2/root/collections/{collection}/objects/");
        page_through(&url, &user, &password, Duration::from_secs(3600))?
    };
    println!(
        "{size}: watchfire {} objects in {} pages, {:.2} s",
        thousands(ours.objects),
        ours.pages,
        ours.seconds
    );
    if ours.objects != size {
        bail!("watchfire served {} objects, not the {size} imported", ours.objects);
    }

    let config = directory.join("medallion.json");
    fs::write(
        &config,
        serde_json::json!({
            "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend", "filename": medallion_data},
            "users": {"bench": "bench-password"},
            "taxii": {"max_page_size": PAGE},
        })
        .to_string(),
    )?;
    let theirs = {
        let _server = node::Process(
            Command::new(venv.join("bin/medallion"))
                .args(["--host", "127.0.0.1", "--port", &medallion_port.to_string()])
                .arg(&config)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("cannot start medallion")?,
        );
        let base = format!("http://127.0.0.1:{medallion_port}");
        wait_for(&format!("{base}/taxii2/"), "bench", "bench-password")?;
        let url = format!("{base}/api1/collections/{MEDALLION_COLLECTION}/objects/");
        let budget = Duration::from_secs(options.medallion_seconds);
        page_through(&url, "bench", "bench-password", budget)?
    };
    println!(
        "{size}: medallion {} objects in {} pages, {:.2} s",
        thousands(theirs.objects),
        theirs.pages,
        theirs.seconds
    );
    Ok((ours, theirs))
}

const MEDALLION_COLLECTION: &str = "5f5e0c3b-8d46-4c53-a8a5-2d0b4b7f3e11";

/// Writes the bundle for watchfire and medallion's data file with the same objects.
fn write_inputs(bundle: &Path, medallion: &Path, n: u64, medallion_port: u16) -> Result<()> {
    let mut bundle_out = BufWriter::with_capacity(1 << 20, File::create(bundle)?);
    let mut objects_out = BufWriter::with_capacity(1 << 20, File::create(medallion)?);
    let root = format!("http://127.0.0.1:{medallion_port}/api1/");
    write!(
        objects_out,
        "{{\"/discovery\":{{\"title\":\"bench\",\"default\":\"{root}\",\"api_roots\":[\"{root}\"]}},\
         \"api1\":{{\"information\":{{\"title\":\"api1\",\"versions\":[\"{TAXII}\"],\"max_content_length\":1000000000}},\
         \"status\":[],\"collections\":[{{\"id\":\"{MEDALLION_COLLECTION}\",\"title\":\"bench\",\"can_read\":true,\
         \"can_write\":false,\"media_types\":[\"application/stix+json;version=2.1\"],\"objects\":["
    )?;
    bundle_out.write_all(b"{\"type\":\"bundle\",\"id\":\"bundle--9f7e5a1e-0c1b-4b36-9a33-1f6c7a2e0d54\",\"objects\":[\n")?;
    let mut versions = Vec::with_capacity(n as usize);
    for index in 0..n {
        let second = index % 60;
        let minute = (index / 60) % 60;
        let hour = (index / 3600) % 24;
        let day = 1 + (index / 86_400) % 28;
        let modified = format!("2026-01-{day:02}T{hour:02}:{minute:02}:{second:02}.000Z");
        let object = format!(
            "{{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--{:08x}-0000-4000-8000-{:012x}\",\
             \"created\":\"{modified}\",\"modified\":\"{modified}\",\"name\":\"bench {index}\",\
             \"indicator_types\":[\"malicious-activity\"],\"pattern\":\"[ipv4-addr:value = '{}.{}.{}.{}']\",\
             \"pattern_type\":\"stix\",\"valid_from\":\"{modified}\",\"object_marking_refs\":[\"{GREEN}\"]}}",
            index >> 16,
            index,
            10 + (index >> 24) % 200,
            (index >> 16) & 255,
            (index >> 8) & 255,
            index & 255
        );
        let separator = if index == 0 { "" } else { ",\n" };
        write!(bundle_out, "{separator}{object}")?;
        write!(objects_out, "{separator}{object}")?;
        versions.push(modified);
    }
    bundle_out.write_all(b"\n]}\n")?;
    bundle_out.flush()?;
    objects_out.write_all(b"],\"manifest\":[")?;
    for (index, modified) in versions.iter().enumerate() {
        let separator = if index == 0 { "" } else { ",\n" };
        // Distinct, increasing date_added values with six fractional digits.
        let added =
            format!("2026-02-01T00:00:{:02}.{:06}Z", index / 1_000_000 % 60, index % 1_000_000);
        write!(
            objects_out,
            "{separator}{{\"id\":\"indicator--{:08x}-0000-4000-8000-{:012x}\",\"date_added\":\"{added}\",\
             \"version\":\"{modified}\",\"media_type\":\"application/stix+json;version=2.1\"}}",
            index >> 16,
            index
        )?;
    }
    objects_out.write_all(b"]}]}}\n")?;
    objects_out.flush()?;
    Ok(())
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into()
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn get_json(
    agent: &ureq::Agent,
    url: &str,
    user: &str,
    password: &str,
) -> Result<serde_json::Value> {
    let mut response = agent
        .get(url)
        .header("accept", TAXII)
        .header("authorization", basic(user, password))
        .call()
        .with_context(|| format!("GET {url}"))?;
    let status = response.status().as_u16();
    let body = response.body_mut().with_config().limit(1 << 30).read_to_string()?;
    if status != 200 {
        bail!("GET {url}: {status}: {}", body.chars().take(300).collect::<String>());
    }
    serde_json::from_str(&body).with_context(|| format!("GET {url}: not JSON"))
}

fn wait_for(url: &str, user: &str, password: &str) -> Result<()> {
    let agent = agent();
    let deadline = Instant::now() + Duration::from_secs(900);
    while Instant::now() < deadline {
        if get_json(&agent, url, user, password).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    bail!("{url} did not answer in 900 s")
}

fn all_collection(base: &str, user: &str, password: &str) -> Result<String> {
    let collections =
        get_json(&agent(), &format!("{base}/taxii2/root/collections/"), user, password)?;
    collections["collections"]
        .as_array()
        .and_then(|list| list.iter().find(|collection| collection["alias"] == "all"))
        .and_then(|collection| collection["id"].as_str())
        .map(str::to_owned)
        .context("no `all` collection")
}

/// Pages through a collection until `more` is false or `budget` has passed (a request still
/// running when the budget ends is cut off and does not count).
fn page_through(url: &str, user: &str, password: &str, budget: Duration) -> Result<Run> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(budget))
        .build()
        .into();
    let started = Instant::now();
    let mut next: Option<String> = None;
    let mut run = Run { objects: 0, pages: 0, seconds: 0.0, finished: false };
    while started.elapsed() < budget {
        let page_url = match &next {
            Some(next) => format!("{url}?limit={PAGE}&next={next}"),
            None => format!("{url}?limit={PAGE}"),
        };
        let Ok(envelope) = get_json(&agent, &page_url, user, password) else {
            break;
        };
        run.pages += 1;
        run.objects += envelope["objects"].as_array().map_or(0, Vec::len) as u64;
        let more = envelope["more"].as_bool().unwrap_or(false);
        next = envelope["next"].as_str().map(str::to_owned);
        if !more || next.is_none() {
            run.finished = true;
            break;
        }
    }
    run.seconds = started.elapsed().as_secs_f64().min(budget.as_secs_f64());
    Ok(run)
}

fn report(
    rows: &[(u64, Run, Run)],
    options: &Options,
    load_before: &str,
    load_after: &str,
) -> String {
    let rate = |run: &Run| run.objects as f64 / run.seconds.max(1e-9);
    let mut lines = vec![
        format!(
            "machine: {} CPUs, {}; load average before {load_before}, after {load_after}",
            std::thread::available_parallelism().map_or(1, usize::from),
            cpu_model()
        ),
        format!(
            "one client, keep-alive, Basic, limit={PAGE}; medallion 3.0.0 (memory backend) given {} s per collection",
            options.medallion_seconds
        ),
        String::new(),
        "| objects in the collection | watchfire: s | watchfire: objects/s | medallion: objects served | medallion: s | medallion: objects/s | ratio |".to_owned(),
        "|---|---|---|---|---|---|---|".to_owned(),
    ];
    for (size, ours, theirs) in rows {
        let ratio = if theirs.objects == 0 {
            // Had it served one page just as the budget ended, it would have made PAGE / budget.
            let at_most = PAGE as f64 / theirs.seconds.max(1e-9);
            format!("> {:.0}x (medallion served no page)", rate(ours) / at_most)
        } else {
            format!("{:.0}x", rate(ours) / rate(theirs))
        };
        lines.push(format!(
            "| {} | {:.2} | {} | {}{} | {:.1} | {} | {ratio} |",
            thousands(*size),
            ours.seconds,
            thousands(rate(ours) as u64),
            thousands(theirs.objects),
            if theirs.finished { "" } else { " (budget ended)" },
            theirs.seconds,
            thousands(rate(theirs) as u64),
        ));
    }
    lines.join("\n")
}
