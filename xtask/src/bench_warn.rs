//! `cargo xtask bench-warn`: how long after an import is acknowledged its alert reaches the
//! member's live stream, while the node imports 10 000 indicators a second (issue 8).
//!
//! It builds the release binary, imports a base of generated indicators into a fresh SQLite
//! store under `target/bench-warn/`, makes an administrator (whose organisation is the member),
//! starts `watchfire serve`, claims and approves the network 198.18.0.0/15 (RFC 2544's benchmark
//! range) for the member, and opens the member's stream of alerts
//! (`/api/v1/stream?types=x-watchfire-alert`). Then, every 100 ms for the given time, it uploads
//! a list of `rate / 10` indicators (`POST /api/v1/import`, GREEN): all in 10.0.0.0/8 but
//! `--hits` per upload, fresh addresses in the member's network. For each of those, the latency
//! is from the moment the upload's answer arrived (the node acknowledges only once the batch is
//! durable) to the moment its alert's event arrived on the stream. The report gives the rate
//! reached, the alerts received and missing, and p50, p99 and the maximum.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench_formats::{BenchOption, Rng, bench_options, cpu_model, load_average, thousands};
use crate::bench_ingest::write_list;
use crate::node;

const USAGE: &str = "\
usage: cargo xtask bench-warn [--records N] [--rate R] [--hits H] [--seconds S] [--keep]

  --records N   indicators in the store before the run (default 100000)
  --rate R      indicators imported per second (default 10000)
  --hits H      indicators of each 100 ms upload in the member's network (default 10)
  --seconds S   how long the import runs (default 30)
  --keep        keep target/bench-warn/ afterwards
";

const DIRECTORY: &str = "target/bench-warn";

/// The member's network: RFC 2544's benchmark range.
const MEMBER_NETWORK: &str = "198.18.0.0/15";

struct Options {
    records: u64,
    rate: u64,
    hits: u64,
    seconds: u64,
    keep: bool,
}

/// Runs the benchmark and prints the Markdown report.
pub fn run(args: &[String]) -> Result<()> {
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        print!("{USAGE}");
        return Ok(());
    }
    let mut options =
        Options { records: 100_000, rate: 10_000, hits: 10, seconds: 30, keep: false };
    for option in bench_options(args, USAGE) {
        match option? {
            BenchOption::Keep => options.keep = true,
            BenchOption::Value { name: "--records", value } => {
                options.records = value.parse().context("--records")?;
            }
            BenchOption::Value { name: "--rate", value } => {
                options.rate = value.parse().context("--rate")?;
            }
            BenchOption::Value { name: "--hits", value } => {
                options.hits = value.parse().context("--hits")?;
            }
            BenchOption::Value { name: "--seconds", value } => {
                options.seconds = value.parse().context("--seconds")?;
            }
            BenchOption::Value { name, .. } => {
                bail!("bench-warn: unknown option {name}\n\n{USAGE}")
            }
        }
    }
    let per_upload = (options.rate / 10).max(options.hits + 1);
    let directory = PathBuf::from(DIRECTORY);
    node::fresh_directory(&directory)?;
    let binary = node::build_release()?;
    let data = directory.join("data");

    let input = directory.join("indicators.txt");
    {
        let mut out = std::io::BufWriter::new(fs::File::create(&input)?);
        write_list(&mut out, options.records)?;
        std::io::Write::flush(&mut out)?;
    }
    println!("importing {} indicators", thousands(options.records));
    let imported = node::watchfire(&binary, &data)
        .args(["import", "--format", "freetext", "--source", "base", "--tlp", "green"])
        .arg(&input)
        .stdout(Stdio::null())
        .status()
        .context("cannot run watchfire import")?;
    if !imported.success() {
        bail!("watchfire import failed: {imported}");
    }
    let token = node::admin_init(&binary, &data)?.token;
    let (mut server, base) = node::serve(&binary, &data, node::free_port()?)?;
    node::wait_ready(&base, &mut server.0)?;
    let agent = node::agent();
    let auth = format!("Bearer {token}");

    // The member (the administrator's organisation) owns the benchmark range.
    let claim = serde_json::json!({ "kind": "cidr", "value": MEMBER_NETWORK }).to_string();
    let claimed = agent
        .post(format!("{base}/api/v1/constituency/claims"))
        .header("authorization", &auth)
        .header("content-type", "application/json")
        .send(claim.as_bytes())?
        .body_mut()
        .read_to_string()?;
    let claimed: serde_json::Value = serde_json::from_str(&claimed)?;
    let id = claimed["id"].as_str().with_context(|| format!("no claim id in {claimed}"))?;
    let approved = agent
        .post(format!("{base}/api/v1/constituency/claims/{id}/approve"))
        .header("authorization", &auth)
        .send(&[][..])?;
    if approved.status() != 200 {
        bail!("cannot approve the member's claim: {}", approved.status());
    }

    // The stream of the member's alerts, on its own thread.
    let received: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let listener = {
        let (received, stop, base, auth) =
            (Arc::clone(&received), Arc::clone(&stop), base.clone(), auth.clone());
        let head = node::last_seq(&base, &token)?;
        std::thread::spawn(move || listen(&base, &auth, head, &received, &stop))
    };
    std::thread::sleep(Duration::from_millis(500));

    let load_before = load_average();
    let mut acknowledged: HashMap<String, Instant> = HashMap::new();
    let mut rng = Rng::new(0x5eed_0a1e);
    let mut next_hit: u32 = 0;
    let mut uploaded = 0u64;
    let started = Instant::now();
    let ticks = options.seconds * 10;
    for tick in 0..ticks {
        let due = started + Duration::from_millis(100 * tick);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let mut body = String::with_capacity(per_upload as usize * 16);
        let mut hits = Vec::new();
        for index in 0..per_upload {
            if index < options.hits {
                // Fresh addresses of the member's network, in order: 198.18.0.0 upwards.
                let value = format!(
                    "198.{}.{}.{}",
                    18 + (next_hit >> 16),
                    (next_hit >> 8) & 255,
                    next_hit & 255
                );
                next_hit += 1;
                body.push_str(&value);
                hits.push(value);
            } else {
                let bits = rng.next();
                body.push_str(&format!(
                    "10.{}.{}.{}",
                    bits & 255,
                    (bits >> 8) & 255,
                    (bits >> 16) & 255
                ));
            }
            body.push('\n');
        }
        let response = agent
            .post(format!("{base}/api/v1/import?source=bench-warn&tlp=green&format=plain-ip"))
            .header("authorization", &auth)
            .header("content-type", "text/plain")
            .send(body.as_bytes())?;
        let at = Instant::now();
        if response.status() != 200 {
            bail!("an upload failed: {}", response.status());
        }
        uploaded += per_upload;
        for value in hits {
            acknowledged.insert(value, at);
        }
    }
    let import_seconds = started.elapsed().as_secs_f64();
    // Let the last alerts arrive.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let got = received.lock().map_or(0, |received| received.len());
        if got >= acknowledged.len() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let load_after = load_average();
    stop.store(true, Ordering::Relaxed);
    drop(server);
    let _ = listener.join();

    let received = received.lock().map(|received| received.clone()).unwrap_or_default();
    let mut latencies: Vec<u64> = acknowledged
        .iter()
        .filter_map(|(value, at)| {
            let arrived = received.get(value)?;
            // An event can arrive before the upload's answer is read: count it as 0.
            Some(arrived.checked_duration_since(*at).unwrap_or_default().as_micros() as u64)
        })
        .collect();
    latencies.sort_unstable();
    let missing = acknowledged.len() - latencies.len();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * latencies.len() as f64).ceil() as usize;
        latencies[rank.clamp(1, latencies.len()) - 1] as f64 / 1000.0
    };
    let rate = uploaded as f64 / import_seconds;
    println!();
    println!("### bench-warn: import acknowledged → alert on the member's stream");
    println!();
    println!(
        "- machine: {} ({} CPUs)",
        cpu_model(),
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!(
        "- command: `cargo xtask bench-warn --records {} --rate {} --hits {} --seconds {}`",
        options.records, options.rate, options.hits, options.seconds
    );
    println!("- load average before / after: {load_before} / {load_after}");
    println!();
    println!(
        "| imported | rate | alerts expected | received | missing | p50 | p99 | max | goal p99 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} in {:.1} s | {} indicators/s | {} | {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | ≤ 100 ms: {} |",
        thousands(uploaded),
        import_seconds,
        thousands(rate as u64),
        acknowledged.len(),
        latencies.len(),
        missing,
        percentile(50.0),
        percentile(99.0),
        percentile(100.0),
        if missing == 0 && percentile(99.0) <= 100.0 { "met" } else { "not met" }
    );
    if !options.keep {
        fs::remove_dir_all(&directory)
            .with_context(|| format!("cannot delete {}", directory.display()))?;
    }
    Ok(())
}

// Reads the member's alert stream; records when each observable's first alert arrived.
fn listen(
    base: &str,
    auth: &str,
    after: u64,
    received: &Mutex<HashMap<String, Instant>>,
    stop: &AtomicBool,
) -> Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(None)
        .build()
        .into();
    let mut response = agent
        .get(format!("{base}/api/v1/stream?types=x-watchfire-alert&after={after}"))
        .header("authorization", auth)
        .call()?;
    let reader = BufReader::new(response.body_mut().as_reader());
    for line in reader.lines() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let line = line?;
        let Some(data) = line.strip_prefix("data:") else { continue };
        let at = Instant::now();
        let Ok(event) = serde_json::from_str::<serde_json::Value>(data.trim()) else { continue };
        if let Some(value) = event["object"]["observable"]["value"].as_str()
            && let Ok(mut received) = received.lock()
        {
            received.entry(value.to_owned()).or_insert(at);
        }
    }
    Ok(())
}
