//! `watchfire match`: scan logs for values the store knows, on every core.
//!
//! Formats (`--format`, or `auto` per file from its first line):
//! - `zeek`: Zeek logs, TSV (with their `#fields` header, also when it changes mid-file) or JSON
//!   lines; every field is a candidate (`id.orig_h`, `query`, `host`, ...), and `host` + `uri`
//!   make the request's URL (field `url`).
//! - `eve`: Suricata EVE JSON lines, the same way (`src_ip`, `dns.rrname`, `http.hostname` +
//!   `http.url`, `tls.sni`, `fileinfo.sha256`, ...).
//! - `dns`: BIND and dnsmasq query logs: the extractor finds the name (field `query`) and the
//!   client address (field `client`).
//! - `text`: anything else, through the extractor (field `text`), defanged values included.
//!
//! Files may be gzip or zip compressed (unpacked with the same caps as feeds). A reader thread cuts each file into chunks of whole lines; workers (`--threads`, default every
//! core) match them against one snapshot of the index; hits come out in file and line order, a
//! readable line each (`file:line: field value: how matched (sources)`), or with `--json` one JSON
//! line each: `{"file":…,"line":N,"kind":…,"value":…,"field":…,"how":…,"matched":…,
//! "benign":…,"claims":[…]}`, then one summary line `{"summary":{"files":…,"lines":…,"bytes":…,
//! "hits":…,"seconds":…,"mb_per_s":…}}`. The command reads the store's own files, so it sees
//! every claim (as the local operator).

use std::fs::File;
use std::io::{self, BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, mpsc};
use std::time::Instant;

use anyhow::{Context as _, Result};
use serde::Serialize;
use serde_json::Value;
use watchfire_formats::input;
use watchfire_index::{Access, Hit, LookupOptions, Snapshot};
use watchfire_model::extract::{self as extractor, ExtractOptions};
use watchfire_model::{Observable, ObservableKind};
use watchfire_store::Reader;

use crate::import::EXIT_USAGE;

/// Bytes of whole lines per chunk handed to a worker.
const CHUNK: usize = 1 << 20;

/// Arguments of `watchfire match`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print one JSON line per hit and a JSON summary instead of the readable report.
    #[arg(long)]
    json: bool,

    /// The log format: auto, zeek, eve, dns or text.
    #[arg(long, value_name = "FORMAT", default_value = "auto")]
    format: String,

    /// Worker threads (default: every core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,

    /// Log files (`-` or none: standard input).
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// A log format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LogFormat {
    Zeek,
    Eve,
    Dns,
    Text,
}

impl LogFormat {
    fn parse(name: &str) -> Option<Option<LogFormat>> {
        match name {
            "auto" => Some(None),
            "zeek" => Some(Some(LogFormat::Zeek)),
            "eve" => Some(Some(LogFormat::Eve)),
            "dns" => Some(Some(LogFormat::Dns)),
            "text" => Some(Some(LogFormat::Text)),
            _ => None,
        }
    }

    // Recognises a file from its first line.
    fn detect(first_line: &[u8]) -> LogFormat {
        if first_line.starts_with(b"#separator") || first_line.starts_with(b"#fields") {
            return LogFormat::Zeek;
        }
        if first_line.starts_with(b"{") {
            // EVE records carry `event_type`; Zeek JSON does not.
            return if memchr::memmem::find(first_line, b"\"event_type\"").is_some() {
                LogFormat::Eve
            } else {
                LogFormat::Zeek
            };
        }
        let dns = memchr::memmem::find(first_line, b"query: ").is_some()
            || memchr::memmem::find(first_line, b"query[").is_some();
        if dns { LogFormat::Dns } else { LogFormat::Text }
    }
}

/// A chunk of whole lines for a worker.
struct Chunk {
    index: usize,
    file: Arc<str>,
    format: LogFormat,
    /// The Zeek TSV column names in force (empty for other formats).
    fields: Arc<Vec<String>>,
    first_line: u64,
    bytes: Vec<u8>,
}

/// One hit line.
#[derive(Serialize)]
struct HitLine<'a> {
    file: &'a str,
    line: u64,
    kind: &'a str,
    value: &'a str,
    field: &'a str,
    #[serde(flatten)]
    hit: &'a Hit<'a>,
}

#[derive(Serialize)]
struct Summary {
    files: u64,
    lines: u64,
    bytes: u64,
    hits: u64,
    seconds: f64,
    mb_per_s: f64,
}

/// Runs `watchfire match` on the store at `data` or `database`.
pub fn run(args: &Args, data: &Path, database: Option<&str>) -> Result<ExitCode> {
    let Some(format) = LogFormat::parse(&args.format) else {
        eprintln!(
            "watchfire: match: unknown format {:?}; known: auto, zeek, eve, dns, text",
            args.format
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let snapshot = watchfire_store::open(data, database)
        .map_err(anyhow::Error::from)
        .and_then(|store| watchfire_index::build(&*store).map_err(anyhow::Error::from));
    let snapshot = match snapshot {
        Ok(snapshot) => Arc::new(snapshot),
        Err(error) => {
            eprintln!("watchfire: match: {error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let files: Vec<PathBuf> =
        if args.files.is_empty() { vec![PathBuf::from("-")] } else { args.files.clone() };
    let started = Instant::now();
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut totals = Summary { files: 0, lines: 0, bytes: 0, hits: 0, seconds: 0.0, mb_per_s: 0.0 };
    let mut n_failed = 0;
    for path in &files {
        match scan_file(&mut out, &snapshot, path, format, threads, args.json) {
            Ok((lines, bytes, hits)) => {
                totals.files += 1;
                totals.lines += lines;
                totals.bytes += bytes;
                totals.hits += hits;
            }
            Err(error) if crate::import::is_broken_pipe(&error) => return Ok(ExitCode::SUCCESS),
            Err(error) => {
                let _ = out.flush();
                eprintln!("watchfire: match: {error:#}");
                n_failed += 1;
            }
        }
    }
    totals.seconds = started.elapsed().as_secs_f64();
    totals.mb_per_s = totals.bytes as f64 / 1e6 / totals.seconds.max(1e-9);
    let written = if args.json {
        serde_json::to_writer(&mut out, &serde_json::json!({ "summary": totals }))
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        writeln!(
            out,
            "{} files, {} lines, {} bytes, {} hits in {:.2} s ({:.1} MB/s)",
            totals.files, totals.lines, totals.bytes, totals.hits, totals.seconds, totals.mb_per_s
        )
    };
    let written = written.and_then(|()| out.flush());
    match written {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other.context("cannot write to standard output")?,
    }
    Ok(if n_failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

// Scans one file; returns (lines, bytes, hits).
fn scan_file(
    out: &mut impl Write,
    snapshot: &Arc<Snapshot>,
    path: &Path,
    format: Option<LogFormat>,
    threads: usize,
    json: bool,
) -> Result<(u64, u64, u64)> {
    let name: Arc<str> = Arc::from(path.display().to_string());
    let raw: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).with_context(|| format!("cannot open {name}"))?)
    };
    let (chunk_sender, chunk_receiver) = mpsc::sync_channel::<Chunk>(threads * 2);
    let chunk_receiver = Arc::new(std::sync::Mutex::new(chunk_receiver));
    let (result_sender, result_receiver) = mpsc::channel::<(usize, Vec<u8>, u64)>();
    std::thread::scope(|scope| -> Result<(u64, u64, u64)> {
        for _ in 0..threads {
            let receiver = Arc::clone(&chunk_receiver);
            let sender = result_sender.clone();
            let snapshot = Arc::clone(snapshot);
            scope.spawn(move || {
                let access = snapshot.access(Reader::Operator);
                loop {
                    let chunk = {
                        let receiver =
                            receiver.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        receiver.recv()
                    };
                    let Ok(chunk) = chunk else { break };
                    let (output, hits) = scan_chunk(&snapshot, &access, &chunk, json);
                    if sender.send((chunk.index, output, hits)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(result_sender);
        let name_for_reader = Arc::clone(&name);
        // The input layer of `formats` unpacks gzip and zip (rotated Zeek logs are gzipped),
        // capped; it is opened in the reader thread, which owns it.
        let reader = scope.spawn(move || {
            let mut input = input::open(&name_for_reader, raw)?;
            read_chunks(&mut input, &name_for_reader, format, &chunk_sender)
        });
        // Write results in chunk order.
        let mut pending = std::collections::BTreeMap::new();
        let mut next = 0;
        let mut hits = 0;
        let mut write_error = None;
        for (index, output, n_hits) in result_receiver {
            pending.insert(index, (output, n_hits));
            while let Some((output, n_hits)) = pending.remove(&next) {
                if write_error.is_none() {
                    write_error = out.write_all(&output).err();
                }
                hits += n_hits;
                next += 1;
            }
        }
        let (lines, bytes) =
            reader.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        if let Some(error) = write_error {
            return Err(error).context("cannot write to standard output");
        }
        Ok((lines, bytes, hits))
    })
}

// Runs in the reader thread: cuts the input into chunks of whole lines, following Zeek headers.
fn read_chunks(
    input: &mut impl BufRead,
    name: &Arc<str>,
    format: Option<LogFormat>,
    sender: &mpsc::SyncSender<Chunk>,
) -> Result<(u64, u64)> {
    let mut format = format;
    let mut fields: Arc<Vec<String>> = Arc::new(Vec::new());
    let mut line_number = 0u64;
    let mut bytes_read = 0u64;
    let mut index = 0;
    let mut chunk = Vec::with_capacity(CHUNK + 4096);
    let mut chunk_first_line = 1;
    let mut line = Vec::new();
    let flush = |chunk: &mut Vec<u8>,
                 index: &mut usize,
                 first_line: u64,
                 format: LogFormat,
                 fields: &Arc<Vec<String>>| {
        if chunk.is_empty() {
            return true;
        }
        let bytes = std::mem::replace(chunk, Vec::with_capacity(CHUNK + 4096));
        let sent = sender.send(Chunk {
            index: *index,
            file: Arc::clone(name),
            format,
            fields: Arc::clone(fields),
            first_line,
            bytes,
        });
        *index += 1;
        sent.is_ok()
    };
    loop {
        line.clear();
        let n =
            input.read_until(b'\n', &mut line).with_context(|| format!("cannot read {name}"))?;
        if n == 0 {
            break;
        }
        line_number += 1;
        bytes_read += n as u64;
        let current = *format.get_or_insert_with(|| LogFormat::detect(&line));
        if current == LogFormat::Zeek && line.starts_with(b"#fields") {
            // A new header: the lines before it belong to the old one.
            if !flush(&mut chunk, &mut index, chunk_first_line, current, &fields) {
                break;
            }
            let text = String::from_utf8_lossy(&line);
            fields = Arc::new(text.trim_end().split('\t').skip(1).map(str::to_owned).collect());
        }
        if chunk.is_empty() {
            chunk_first_line = line_number;
        }
        chunk.extend_from_slice(&line);
        if !line.ends_with(b"\n") {
            chunk.push(b'\n');
        }
        if chunk.len() >= CHUNK
            && !flush(&mut chunk, &mut index, chunk_first_line, current, &fields)
        {
            break;
        }
    }
    let current = format.unwrap_or(LogFormat::Text);
    flush(&mut chunk, &mut index, chunk_first_line, current, &fields);
    Ok((line_number, bytes_read))
}

// Matches the lines of a chunk; returns the JSON hit lines and their count.
fn scan_chunk(snapshot: &Snapshot, access: &Access, chunk: &Chunk, json: bool) -> (Vec<u8>, u64) {
    let options = LookupOptions::flag_all(watchfire_store::now_micros());
    let mut output = Vec::new();
    let mut n_hits = 0;
    let mut candidates: Vec<(String, Observable)> = Vec::new();
    // Every chunk ends with a newline: the piece after it is no line.
    let n_lines = memchr::memchr_iter(b'\n', &chunk.bytes).count();
    let lines = chunk.bytes.split(|&byte| byte == b'\n').take(n_lines);
    for (line_number, line) in (chunk.first_line..).zip(lines) {
        candidates.clear();
        line_candidates(chunk.format, &chunk.fields, line, &mut candidates);
        for (field, observable) in &candidates {
            for hit in snapshot.lookup(access, observable, options) {
                let hit_line = HitLine {
                    file: &chunk.file,
                    line: line_number,
                    kind: observable.kind().as_str(),
                    value: observable.value(),
                    field,
                    hit: &hit,
                };
                if json {
                    // Cannot fail: writing JSON into a Vec.
                    let _ = serde_json::to_writer(&mut output, &hit_line);
                    output.push(b'\n');
                } else {
                    write_readable(&mut output, &hit_line);
                }
                n_hits += 1;
            }
        }
    }
    (output, n_hits)
}

// The (field, observable) pairs of one line.
fn line_candidates(
    format: LogFormat,
    fields: &[String],
    line: &[u8],
    out: &mut Vec<(String, Observable)>,
) {
    match format {
        LogFormat::Zeek if line.starts_with(b"{") => json_candidates(line, out),
        LogFormat::Eve => json_candidates(line, out),
        LogFormat::Zeek => tsv_candidates(fields, line, out),
        LogFormat::Dns | LogFormat::Text => {
            extractor::extract(line, &ExtractOptions::default(), 1, |found| {
                let field = match (format, found.observable.kind()) {
                    (LogFormat::Text, _) => "text",
                    (_, ObservableKind::Ipv4 | ObservableKind::Ipv6) => "client",
                    _ => "query",
                };
                out.push((field.to_owned(), found.observable));
            });
        }
    }
}

fn tsv_candidates(fields: &[String], line: &[u8], out: &mut Vec<(String, Observable)>) {
    if line.starts_with(b"#") || line.is_empty() {
        return;
    }
    let text = String::from_utf8_lossy(line);
    let mut host = None;
    let mut uri = None;
    for (field, value) in fields.iter().zip(text.split('\t')) {
        if value == "-" || value == "(empty)" {
            continue;
        }
        match field.as_str() {
            "host" => host = Some(value),
            "uri" => uri = Some(value),
            _ => {}
        }
        for item in value.split(',') {
            push_candidate(field, item, out);
        }
    }
    push_url(host, uri, out);
}

fn json_candidates(line: &[u8], out: &mut Vec<(String, Observable)>) {
    let Ok(value) = serde_json::from_slice::<Value>(line) else {
        return;
    };
    let mut path = String::new();
    walk(&value, &mut path, out);
    // Zeek http: host + uri; EVE: http.hostname + http.url.
    let host = value.get("host").and_then(Value::as_str);
    let uri = value.get("uri").and_then(Value::as_str);
    push_url(host, uri, out);
    let http = value.get("http");
    let host = http.and_then(|http| http.get("hostname")).and_then(Value::as_str);
    let uri = http.and_then(|http| http.get("url")).and_then(Value::as_str);
    push_url(host, uri, out);
}

fn walk(value: &Value, path: &mut String, out: &mut Vec<(String, Observable)>) {
    match value {
        Value::String(text) => push_candidate(path, text, out),
        Value::Array(items) => {
            for item in items {
                walk(item, path, out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let length = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                walk(item, path, out);
                path.truncate(length);
            }
        }
        _ => {}
    }
}

// Adds `value` when it is an observable of a kind worth matching; cheap shape checks first.
fn push_candidate(field: &str, value: &str, out: &mut Vec<(String, Observable)>) {
    let plausible = value.len() >= 3
        && value.len() <= 2048
        && (value.contains('.')
            || value.contains(':')
            || value.bytes().all(|byte| byte.is_ascii_hexdigit()));
    if !plausible || value.contains(' ') {
        return;
    }
    if let Ok(observable) = Observable::parse(value)
        && !matches!(observable.kind(), ObservableKind::Asn)
    {
        out.push((field.to_owned(), observable));
    }
}

fn push_url(host: Option<&str>, uri: Option<&str>, out: &mut Vec<(String, Observable)>) {
    let (Some(host), Some(uri)) = (host, uri) else {
        return;
    };
    if !uri.starts_with('/') {
        return;
    }
    if let Ok(observable) =
        Observable::parse_as(ObservableKind::Url, &format!("http://{host}{uri}"))
    {
        out.push(("url".to_owned(), observable));
    }
}

// One readable hit: `file:line: field value: how matched (source category, ...)`.
fn write_readable(output: &mut Vec<u8>, hit: &HitLine<'_>) {
    let how = serde_json::to_value(hit.hit.how).ok();
    let how = how.as_ref().and_then(Value::as_str).unwrap_or("match");
    let claims: Vec<String> = hit
        .hit
        .claims
        .iter()
        .map(|claim| {
            let category = claim.category.map_or("unknown", |category| category.as_str());
            format!("{} {category}", claim.source)
        })
        .collect();
    let benign = if hit.hit.benign { " [known benign]" } else { "" };
    // Cannot fail: writing into a Vec.
    let _ = writeln!(
        output,
        "{}:{}: {} {}: {how} {}{benign} ({})",
        hit.file,
        hit.line,
        hit.field,
        hit.value,
        hit.hit.matched.value(),
        claims.join(", ")
    );
}
