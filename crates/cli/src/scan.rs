//! `watchfire match`: scan logs for values the store knows, on every core.
//!
//! Formats (`--format`, or `auto` per file from its first line):
//! - `zeek`: Zeek logs, TSV (with their `#fields` header, also when it changes mid-file) or JSON
//!   lines; every field is a candidate (`id.orig_h`, `query`, `host`, ...) except TSV columns
//!   whose `#types` hold numbers, times, ports, booleans or enums, and `host` + `uri` make the
//!   request's URL (field `url`).
//! - `eve`: Suricata EVE JSON lines, the same way (`src_ip`, `dns.rrname`, `http.hostname` +
//!   `http.url`, `tls.sni`, `fileinfo.sha256`, ...).
//! - `dns`: BIND and dnsmasq query logs: the extractor finds the name (field `query`) and the
//!   client address (field `client`).
//! - `text`: anything else, through the extractor (field `text`), defanged values included.
//!
//! Files may be gzip or zip compressed (unpacked with the same caps as feeds). Workers
//! (`--threads`, default every core) take turns reading each file in blocks, cut at the last
//! newline into chunks of whole lines ([`Feed`]), and match each chunk they read against one
//! snapshot of the index; hits come out in file and line order, a
//! readable line each (`file:line: field value: how matched (sources)`), or with `--json` one JSON
//! line each: `{"file":…,"line":N,"kind":…,"value":…,"field":…,"how":…,"matched":…,
//! "benign":…,"claims":[…]}`, then one summary line `{"summary":{"files":…,"lines":…,"bytes":…,
//! "hits":…,"skipped":…,"seconds":…,"mb_per_s":…}}`. The command reads the store's own files, so
//! it sees every claim (as the local operator).
//!
//! The snapshot comes from the cache file beside the store when the store has not moved since it
//! was written (`snapshot.rs`); `--no-cache` builds it from the store without touching the file.
//!
//! Bad lines are skipped and counted (`skipped`), never fatal: a line that is not UTF-8 (binary
//! garbage), a JSON line of a JSON log that does not parse (truncated), and a line longer than
//! [`MAX_LINE`], which is never held whole: once the reader has [`MAX_LINE`] bytes of it (plus at
//! most one read block), it drops its bytes up to the next newline. A file whose reading fails
//! part way (a gzip cut short) still has the whole lines before the failure matched and counted;
//! the line the failure cut is skipped, and the command names the file and exits with failure.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Instant;

use anyhow::{Context as _, Result};
use serde::Serialize;
use serde_json::Value;
use watchfire_formats::input;
use watchfire_index::{Access, Found, Hit, LookupOptions, Snapshot};
use watchfire_model::extract::{self as extractor, ExtractOptions};
use watchfire_model::observable::{hash, ipv4};
use watchfire_model::{Observable, ObservableKind};
use watchfire_store::Reader;

use crate::import::EXIT_USAGE;
use crate::live::Live;

mod json;
mod mask;
mod swar;

/// Bytes of whole lines per chunk handed to a worker.
const CHUNK: usize = 1 << 20;

/// The longest line that is matched; a longer one is skipped (and counted) without being held.
pub const MAX_LINE: usize = 1 << 20;

/// The fewest bytes asked of the input at once: a read asks for the room left in the chunk's
/// buffer, which a chunk not yet full leaves at least this much of.
const READ: usize = 1 << 16;

/// A chunk buffer: a chunk and one read more.
const BUFFER: usize = CHUNK + READ;

// A line that is kept (at most MAX_LINE bytes) leaves room for a read.
const _: () = assert!(MAX_LINE <= CHUNK && BUFFER - MAX_LINE >= READ);

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

    /// Build the index from the store, without reading or writing its cache file
    /// (`index.snapshot` in the data directory).
    #[arg(long)]
    no_cache: bool,

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
    /// The Zeek TSV columns in force (none for other formats).
    columns: Arc<Columns>,
    bytes: Vec<u8>,
}

/// The columns of a Zeek TSV log, from its `#fields` and `#types` headers.
#[derive(Debug, Default)]
struct Columns {
    names: Vec<String>,
    /// The columns read, in order, each with what it holds by its Zeek type (never
    /// [`Column::Skip`], nor one of [`ZEEK_OWN`]). Every other column is read, item by item,
    /// when the log has no `#types` line.
    reading: Vec<(usize, Column)>,
}

/// Columns whose values Zeek makes itself: its identifiers of connections and files, and words
/// of a protocol's vocabulary (a method, a DNS type, class or answer code, a connection's state
/// and history, the services it found, a protocol's version, an HTTP status phrase, MIME types).
/// None is ever an address, a name, a URL, a hash or an e-mail address, so none is read,
/// whatever its type (a `uid` is a `string`). Zeek's own intel framework, likewise, looks only
/// where an indicator can be.
const ZEEK_OWN: [&str; 18] = [
    "uid",
    "fuid",
    "conn_uids",
    "fuids",
    "orig_fuids",
    "resp_fuids",
    "method",
    "qtype_name",
    "qclass_name",
    "rcode_name",
    "conn_state",
    "history",
    "service",
    "version",
    "status_msg",
    "mime_type",
    "orig_mime_types",
    "resp_mime_types",
];

/// What a Zeek column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    /// Numbers, times, ports, booleans and enums: never an observable.
    Skip,
    /// One value (`string`, `addr`, `subnet`).
    Value,
    /// Items separated by commas (`set[…]`, `vector[…]`, or an unknown type).
    Items,
    /// The columns `host` and `uri` (one value each), which make a request's URL.
    Host,
    Uri,
}

impl Columns {
    // The columns of a `#fields` line, with the `#types` line after it when there is one.
    fn parse(fields_line: &str, types_line: Option<&str>) -> Columns {
        let names: Vec<String> =
            fields_line.trim_end().split('\t').skip(1).map(str::to_owned).collect();
        let types: Vec<&str> = types_line
            .map(|line| line.trim_end().split('\t').skip(1).collect())
            .unwrap_or_default();
        // A number, a time, a port, a boolean or an enum is never an observable; nor is a set or
        // a vector of them (DNS answers' `TTLs`, a request's `tags`).
        let is_skipped = |zeek_type: &str| {
            matches!(
                zeek_type,
                "time" | "interval" | "count" | "int" | "double" | "port" | "bool" | "enum"
            )
        };
        let reading = (0..names.len())
            .map(|column| match types.get(column).copied() {
                Some(zeek_type) if is_skipped(zeek_type) => (column, Column::Skip),
                Some(zeek_type)
                    if zeek_type
                        .strip_prefix("set[")
                        .or_else(|| zeek_type.strip_prefix("vector["))
                        .and_then(|inner| inner.strip_suffix(']'))
                        .is_some_and(is_skipped) =>
                {
                    (column, Column::Skip)
                }
                Some("string" | "addr" | "subnet") => (column, Column::Value),
                _ => (column, Column::Items),
            })
            .filter(|(column, kind)| {
                *kind != Column::Skip && !ZEEK_OWN.contains(&names[*column].as_str())
            })
            .map(|(column, kind)| match names[column].as_str() {
                "host" => (column, Column::Host),
                "uri" => (column, Column::Uri),
                _ => (column, kind),
            })
            .collect();
        Columns { names, reading }
    }
}

/// One hit line, as `--json` writes it (through [`LineHit::write`] and [`render_tail`], which
/// give the same bytes; the tests check they do).
#[cfg(test)]
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
    skipped: u64,
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
    let snapshot = crate::snapshot::open(data, database, args.no_cache, "match");
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
    let mut totals =
        Summary { files: 0, lines: 0, bytes: 0, hits: 0, skipped: 0, seconds: 0.0, mb_per_s: 0.0 };
    let mut n_failed = 0;
    for path in &files {
        match scan_file(&mut out, &snapshot, path, format, threads, args.json) {
            Ok(scanned) => {
                totals.files += 1;
                totals.lines += scanned.lines;
                totals.bytes += scanned.bytes;
                totals.hits += scanned.hits;
                totals.skipped += scanned.skipped;
                if let Some(error) = scanned.error {
                    let _ = out.flush();
                    eprintln!("watchfire: match: {error:#}");
                    n_failed += 1;
                }
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
            "{} files, {} lines, {} bytes, {} hits, {} lines skipped in {:.2} s ({:.1} MB/s)",
            totals.files,
            totals.lines,
            totals.bytes,
            totals.hits,
            totals.skipped,
            totals.seconds,
            totals.mb_per_s
        )
    };
    let written = written.and_then(|()| out.flush());
    match written {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other.context("cannot write to standard output")?,
    }
    Ok(if n_failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// What scanning one file counted.
struct Scanned {
    lines: u64,
    bytes: u64,
    hits: u64,
    skipped: u64,
    /// The error that stopped reading the file before its end (a truncated gzip): the lines
    /// before it were matched and counted.
    error: Option<anyhow::Error>,
}

// Scans one file.
fn scan_file(
    out: &mut impl Write,
    snapshot: &Arc<Snapshot>,
    path: &Path,
    format: Option<LogFormat>,
    threads: usize,
    json: bool,
) -> Result<Scanned> {
    let name: Arc<str> = Arc::from(path.display().to_string());
    let (raw, live): (Box<dyn Read + Send>, Live) = if path.as_os_str() == "-" {
        (Box::new(io::stdin()), Live::stdin())
    } else {
        let file = File::open(path).with_context(|| format!("cannot open {name}"))?;
        let live = Live::of(&file);
        (Box::new(file), live)
    };
    let is_live = live.is_live();
    // The input layer of `formats` unpacks gzip and zip (rotated Zeek logs are gzipped), capped.
    let input = input::open_input(&name, raw)?;
    let feed = Mutex::new(Feed::new(input, Arc::clone(&name), format, live));
    let (result_sender, result_receiver) = mpsc::channel::<(usize, ChunkScan)>();
    std::thread::scope(|scope| -> Result<Scanned> {
        for _ in 0..threads {
            let sender = result_sender.clone();
            let snapshot = Arc::clone(snapshot);
            let feed = &feed;
            scope.spawn(move || {
                let access = snapshot.access(Reader::Operator);
                let mut names = NameMisses::new();
                // The buffer of the chunk last scanned: the next is read into it.
                let mut spare = None;
                loop {
                    let chunk = {
                        let mut feed = feed.lock().unwrap_or_else(PoisonError::into_inner);
                        feed.next(spare.take())
                    };
                    let Some(chunk) = chunk else { break };
                    let scanned = scan_chunk(&snapshot, &access, &chunk, json, &mut names);
                    if sender.send((chunk.index, scanned)).is_err() {
                        break;
                    }
                    spare = Some(chunk.bytes);
                }
            });
        }
        drop(result_sender);
        // Write results in chunk order; a chunk's hits are numbered by the lines before it.
        let mut pending = std::collections::BTreeMap::new();
        let mut next = 0;
        let (mut lines, mut hits, mut skipped) = (0, 0, 0);
        let mut write_error = None;
        for (index, scanned) in result_receiver {
            pending.insert(index, scanned);
            while let Some(scanned) = pending.remove(&next) {
                if write_error.is_none() {
                    write_error = scanned.output.write_to(&mut *out, lines).err();
                    // A live input's hits are wanted as they are found, not when a buffer fills.
                    if is_live && scanned.hits > 0 && write_error.is_none() {
                        write_error = out.flush().err();
                    }
                }
                lines += scanned.lines;
                hits += scanned.hits;
                skipped += scanned.skipped;
                next += 1;
            }
        }
        let (bytes, dropped, error) = feed.lock().unwrap_or_else(PoisonError::into_inner).finish();
        if let Some(error) = write_error {
            return Err(error).context("cannot write to standard output");
        }
        Ok(Scanned { lines, bytes, hits, skipped: skipped + dropped, error })
    })
}

/// The input of one file, cut into chunks of whole lines (following Zeek headers) by the
/// workers themselves: the one that wants a chunk reads it, holding the feed's lock, into the
/// buffer of the chunk it scanned last, then scans it. The kernel then copies into memory
/// already in that core's cache, and the lines are scanned on the core that read them (a reader
/// thread of its own made each chunk cross between cores twice: its copy and user time were a
/// fifth higher). Only the piece after a chunk's last newline is copied again, into the next.
///
/// A live input (see [`Live`]) ships the whole lines it holds before a read that would wait, so
/// a quiet pipe's lines are matched now; while bytes keep coming, its chunks fill as a file's do.
struct Feed<R> {
    input: R,
    name: Arc<str>,
    format: Option<LogFormat>,
    live: Live,
    /// The Zeek TSV columns in force.
    columns: Arc<Columns>,
    /// Chunks cut and not yet handed out: a block cut at Zeek headers makes several.
    ready: VecDeque<Chunk>,
    /// The bytes read after the last newline shipped: the start of the next chunk.
    tail: Vec<u8>,
    /// Inside a line longer than [`MAX_LINE`]: its bytes are dropped up to its newline.
    dropping: bool,
    /// The next chunk's index.
    index: usize,
    bytes_read: u64,
    /// Lines skipped for being longer than [`MAX_LINE`], or cut off by a read error (the
    /// workers count the lines, which they read anyway).
    dropped: u64,
    /// The input is read to its end, or failed.
    done: bool,
    error: Option<anyhow::Error>,
}

impl<R: Read> Feed<R> {
    fn new(input: R, name: Arc<str>, format: Option<LogFormat>, live: Live) -> Feed<R> {
        Feed {
            input,
            name,
            format,
            live,
            columns: Arc::new(Columns::default()),
            ready: VecDeque::new(),
            tail: Vec::new(),
            dropping: false,
            index: 0,
            bytes_read: 0,
            dropped: 0,
            done: false,
            error: None,
        }
    }

    /// The next chunk, read into `buffer` (a chunk's buffer given back, or a new one) when one
    /// must be read; None at the end of the input or once reading failed ([`Feed::finish`]
    /// tells which).
    fn next(&mut self, mut buffer: Option<Vec<u8>>) -> Option<Chunk> {
        loop {
            if let Some(chunk) = self.ready.pop_front() {
                return Some(chunk);
            }
            if self.done {
                return None;
            }
            if let Err(error) = self.read(buffer.take().unwrap_or_default()) {
                self.error = Some(error);
                self.done = true;
            }
        }
    }

    /// The bytes read, the lines dropped (too long, or cut off by a read error), and the error
    /// that stopped reading before the end, if one did.
    fn finish(&mut self) -> (u64, u64, Option<anyhow::Error>) {
        (self.bytes_read, self.dropped, self.error.take())
    }

    // Reads into `pending` (the tail of the last read first) until it holds a chunk of whole
    // lines, at least [`CHUNK`] bytes (or, live, the lines before a read that would wait), and
    // ships them; at the end of the input ships what is left and marks the feed done. A buffer
    // given back is still initialised, so it is neither cleared nor copied into (but for the
    // tail).
    fn read(&mut self, mut pending: Vec<u8>) -> Result<()> {
        pending.resize(BUFFER, 0);
        // The bytes of `pending` read so far; at most MAX_LINE before each read, so there is
        // room for READ bytes more.
        let mut filled = self.tail.len();
        pending[..filled].copy_from_slice(&self.tail);
        self.tail.clear();
        // A live input's `pending` holds a whole line (only the bytes of each read are searched,
        // so a line trickling in is not searched again and again).
        let mut has_line = false;
        loop {
            // Whole lines waiting, and nothing more ready: ship them before the read waits.
            if has_line && self.live.would_wait() && self.ship_lines(&mut pending, filled) {
                return Ok(());
            }
            let n_read = match self.input.read(&mut pending[filled..]) {
                Ok(n_read) => n_read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    // The whole lines read before the failure are still matched (the first part
                    // of a truncated gzip); the piece of a line after them is dropped.
                    let cut_off = match self.ship_lines(&mut pending, filled) {
                        true => !self.tail.is_empty(),
                        false => filled > 0,
                    };
                    self.tail.clear();
                    if cut_off || self.dropping {
                        // It still counts as a (skipped) line, as a long line cut off by the
                        // end of the input does (one being dropped was counted already).
                        self.dropped += u64::from(cut_off);
                        self.dropping = false;
                        self.ship(b"\n".to_vec());
                    }
                    return Err(error).with_context(|| format!("cannot read {}", self.name));
                }
            };
            if n_read == 0 {
                break;
            }
            self.bytes_read += n_read as u64;
            if self.dropping {
                // `filled` is 0 while dropping.
                let Some(end) = memchr::memchr(b'\n', &pending[..n_read]) else { continue };
                self.dropping = false;
                // An empty line takes the long line's place, so the lines after keep their
                // numbers.
                pending.copy_within(end + 1..n_read, 1);
                pending[0] = b'\n';
                filled = n_read - end;
            } else {
                filled += n_read;
            }
            if self.live.is_live() {
                let fresh = &pending[filled.saturating_sub(n_read)..filled];
                has_line |= memchr::memchr(b'\n', fresh).is_some();
            }
            if filled < CHUNK {
                continue;
            }
            if self.ship_lines(&mut pending, filled) {
                if self.tail.len() > MAX_LINE {
                    // The rest after the last newline is already too long a line.
                    self.tail.clear();
                    self.dropping = true;
                    self.dropped += 1;
                }
                return Ok(());
            }
            if filled > MAX_LINE {
                filled = 0;
                self.dropping = true;
                self.dropped += 1;
            }
        }
        pending.truncate(filled);
        // A long line cut off by the end of the input still counts as a (skipped) line, and a
        // last line without its newline gets one.
        if self.dropping || (!pending.is_empty() && !pending.ends_with(b"\n")) {
            pending.push(b'\n');
        }
        self.done = true;
        self.ship(pending);
        Ok(())
    }

    // Ships the whole lines of `pending[..filled]` and keeps the piece after the last newline
    // as the tail; false (and nothing shipped) when there is no newline.
    fn ship_lines(&mut self, pending: &mut Vec<u8>, filled: usize) -> bool {
        let Some(last) = memchr::memrchr(b'\n', &pending[..filled]) else { return false };
        self.tail.extend_from_slice(&pending[last + 1..filled]);
        pending.truncate(last + 1);
        self.ship(std::mem::take(pending));
        true
    }

    // Ships a block of whole lines (ending with a newline), as chunks cut at Zeek `#fields`
    // headers.
    fn ship(&mut self, mut block: Vec<u8>) {
        if block.is_empty() {
            return;
        }
        let format = *self.format.get_or_insert_with(|| {
            let end = memchr::memchr(b'\n', &block).unwrap_or(block.len());
            LogFormat::detect(&block[..end])
        });
        if format == LogFormat::Zeek {
            // A new header: the lines before it belong to the old one.
            let header = match block.starts_with(b"#fields") {
                true => Some(0),
                false => next_header(&block),
            };
            if let Some(at) = header {
                if at > 0 {
                    let rest = block[at..].to_vec();
                    block.truncate(at);
                    self.send(block, format);
                    return self.ship(rest);
                }
                let end = memchr::memchr(b'\n', &block).unwrap_or(block.len());
                let text = String::from_utf8_lossy(&block[..end]);
                // Zeek writes `#types` right after `#fields`; without it, every column counts.
                let after = block.get(end + 1..).unwrap_or_default();
                let types_end = memchr::memchr(b'\n', after).unwrap_or(after.len());
                let types = after.starts_with(b"#types\t").then(|| &after[..types_end]);
                let types = types.map(String::from_utf8_lossy);
                self.columns = Arc::new(Columns::parse(&text, types.as_deref()));
                // The header line goes with the lines after it; a later header is cut off.
                if let Some(next) = next_header(&block[end..]) {
                    let at = end + next;
                    let rest = block[at..].to_vec();
                    block.truncate(at);
                    self.send(block, format);
                    return self.ship(rest);
                }
            }
        }
        self.send(block, format);
    }

    fn send(&mut self, bytes: Vec<u8>, format: LogFormat) {
        let chunk = Chunk {
            index: self.index,
            file: Arc::clone(&self.name),
            format,
            columns: Arc::clone(&self.columns),
            bytes,
        };
        self.index += 1;
        self.ready.push_back(chunk);
    }
}

// Matches the lines of a chunk.
fn scan_chunk(
    snapshot: &Snapshot,
    access: &Access,
    chunk: &Chunk,
    json: bool,
    names: &mut NameMisses,
) -> ChunkScan {
    scan_chunk_with(snapshot, access, chunk, json, names, true)
}

/// A candidate that hit, where it was found: its line, how many of the line's other candidates
/// came before it, and whether it waited for a batch of addresses (it then comes before the
/// candidate that had its place in the line's list: that one came after it).
struct LineCandidate {
    line: u64,
    order: usize,
    is_batched: bool,
    field: String,
    observable: Observable,
}

// [`scan_chunk`], with the addresses of Zeek TSV and JSON lines looked up in batches when
// `batching` (the scan's way; the tests compare it with looking each up at once). A batch's
// memory loads overlap: an address in a block with claims costs a few cache misses on its own.
fn scan_chunk_with(
    snapshot: &Snapshot,
    access: &Access,
    chunk: &Chunk,
    json: bool,
    names: &mut NameMisses,
    batching: bool,
) -> ChunkScan {
    let options = LookupOptions::flag_all(watchfire_store::now_micros());
    let mut matcher = Matcher::new(snapshot, access, options);
    matcher.names = std::mem::take(names);
    matcher.batching = batching;
    let mut n_skipped = 0;
    // The candidates that hit, in the order they were found (a batch's come later than the
    // lines around them), and the hits of a batch.
    let mut hit_candidates: Vec<LineCandidate> = Vec::new();
    let mut batch_found = Vec::new();
    // One check for the whole chunk; its lines are checked one by one only when it fails. The
    // check is `simdutf8`'s, with the widest compares the core has (std's is word at a time:
    // half an instruction a byte of ASCII).
    let text = simdutf8::basic::from_utf8(&chunk.bytes).ok();
    // Every chunk ends with a newline: the piece after it is no line.
    let mut start = 0;
    let mut lines = LineEnds::new(chunk);
    // Numbered from 1 in the chunk; the writer adds the lines of the chunks before.
    let mut next_line = 1;
    while let Some(end) = lines.next() {
        let line_number = next_line;
        next_line += 1;
        let bytes = &chunk.bytes[start..end];
        // Cut at a newline, an ASCII byte: both ends are character boundaries.
        let line = match text {
            Some(text) => text.get(start..end),
            None => simdutf8::basic::from_utf8(bytes).ok(),
        };
        start = end + 1;
        matcher.candidates.clear();
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        // A line just over the cap can reach a worker (the reader cuts blocks, not lines).
        // Binary garbage and broken encodings hold no observable worth trusting.
        let Some(line) = line.filter(|line| line.len() <= MAX_LINE) else {
            n_skipped += 1;
            continue;
        };
        matcher.line = line_number;
        matcher.line_span = (end - bytes.len(), end);
        if !line_candidates(&mut matcher, chunk.format, &chunk.columns, line, lines.tabs()) {
            n_skipped += 1;
            continue;
        }
        for (order, (field, observable)) in matcher.candidates.drain(..).enumerate() {
            let is_batched = false;
            hit_candidates.push(LineCandidate {
                line: line_number,
                order,
                is_batched,
                field,
                observable,
            });
        }
        if matcher.batch.len() >= ADDRESS_BATCH {
            n_skipped += matcher.flush_batch(chunk, &mut batch_found, &mut hit_candidates);
        }
    }
    n_skipped += matcher.flush_batch(chunk, &mut batch_found, &mut hit_candidates);
    *names = matcher.names;
    // In line order, and in a line in the order its values stand (stable: a batch keeps its
    // addresses' order).
    hit_candidates.sort_by_key(|hit| (hit.line, hit.order, !hit.is_batched));
    let mut output = Rendered::default();
    let mut n_hits = 0;
    let mut found = Vec::new();
    // The rendered part of each key's hits (see `render_tail`).
    let mut tails: std::collections::HashMap<Found, Vec<u8>> = std::collections::HashMap::new();
    for candidate in &hit_candidates {
        found.clear();
        snapshot.find(access, &candidate.observable, options, &mut found);
        for found in &found {
            let line = LineHit {
                file: &chunk.file,
                line: candidate.line,
                kind: candidate.observable.kind().as_str(),
                value: candidate.observable.value(),
                field: &candidate.field,
            };
            let tail = tails
                .entry(*found)
                .or_insert_with(|| render_tail(&snapshot.hit(access, options, *found), json));
            line.write(&mut output, tail, json);
            n_hits += 1;
        }
    }
    ChunkScan { output, hits: n_hits, skipped: n_skipped, lines: next_line - 1 }
}

/// What a worker found in a chunk.
struct ChunkScan {
    output: Rendered,
    hits: u64,
    skipped: u64,
    lines: u64,
}

/// A chunk's hit lines, written but for their line numbers: each is the line's number in the
/// chunk, and where in `bytes` it goes. The chunk's place in the file is known when the chunks
/// before it are (the reader does not count lines: the workers do, as they read them).
#[derive(Default, Debug, PartialEq)]
struct Rendered {
    bytes: Vec<u8>,
    numbers: Vec<(usize, u64)>,
}

impl Rendered {
    // Writes the hit lines, numbered after `lines_before`.
    fn write_to(&self, out: &mut impl Write, lines_before: u64) -> io::Result<()> {
        let mut written = 0;
        for (at, line) in &self.numbers {
            out.write_all(&self.bytes[written..*at])?;
            write!(out, "{}", lines_before + line)?;
            written = *at;
        }
        out.write_all(&self.bytes[written..])
    }
}

/// Addresses looked up in one batch (a few of the index's batches of 64: fewer calls).
const ADDRESS_BATCH: usize = 256;

/// Where a chunk's lines end. A Zeek TSV chunk's tabs are found with its newlines, a block
/// at a time; other lines are longer and hold fewer separators, and `memchr` finds their ends
/// with wider compares.
enum LineEnds<'a> {
    Tsv(mask::Lines<'a>),
    Other(memchr::Memchr<'a>),
}

impl<'a> LineEnds<'a> {
    fn new(chunk: &'a Chunk) -> LineEnds<'a> {
        match chunk.format {
            LogFormat::Zeek => {
                LineEnds::Tsv(mask::Lines::new(&chunk.bytes, chunk.columns.names.len()))
            }
            _ => LineEnds::Other(memchr::memchr_iter(b'\n', &chunk.bytes)),
        }
    }

    fn next(&mut self) -> Option<usize> {
        match self {
            LineEnds::Tsv(lines) => lines.next(),
            LineEnds::Other(lines) => lines.next(),
        }
    }

    /// The tabs of the line last given, where they are in the line (none outside Zeek TSV).
    fn tabs(&self) -> &[usize] {
        match self {
            LineEnds::Tsv(lines) => lines.tabs(),
            LineEnds::Other(_) => &[],
        }
    }
}

/// Where the first Zeek `#fields` line after the start of `bytes` starts. A `#` is rare in a
/// log's lines, so they are searched for it, a byte `memchr` finds with its widest compares,
/// rather than for the whole `\n#fields`, whose search cost twice as much a byte.
fn next_header(bytes: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'#', bytes)
        .find(|at| *at > 0 && bytes[at - 1] == b'\n' && bytes[*at..].starts_with(b"#fields"))
}

/// Where a hit is: the part of a hit line that is the line's own.
struct LineHit<'a> {
    file: &'a str,
    line: u64,
    kind: &'a str,
    value: &'a str,
    field: &'a str,
}

impl LineHit<'_> {
    // Writes the hit line: its own part, then `tail`, the hit's part ([`render_tail`]). The JSON
    // is that of serialising a [`HitLine`] whole.
    fn write(&self, rendered: &mut Rendered, tail: &[u8], json: bool) {
        let Rendered { bytes: output, numbers } = rendered;
        // Cannot fail: writing into a Vec.
        if json {
            output.extend_from_slice(b"{\"file\":");
            let _ = serde_json::to_writer(&mut *output, self.file);
            output.extend_from_slice(b",\"line\":");
            numbers.push((output.len(), self.line));
            output.extend_from_slice(b",\"kind\":");
            let _ = serde_json::to_writer(&mut *output, self.kind);
            output.extend_from_slice(b",\"value\":");
            let _ = serde_json::to_writer(&mut *output, self.value);
            output.extend_from_slice(b",\"field\":");
            let _ = serde_json::to_writer(&mut *output, self.field);
            output.push(b',');
        } else {
            let _ = write!(output, "{}:", self.file);
            numbers.push((output.len(), self.line));
            let _ = write!(output, ": {} {}: ", self.field, self.value);
        }
        output.extend_from_slice(tail);
    }
}

/// The part of a hit line that depends on the hit alone, and so is the same for every line
/// where the same key hits (a chunk renders it once a key): in JSON, the hit's fields after the
/// line's own up to the end of the line; readable, `how matched (sources)` and the newline.
fn render_tail(hit: &Hit<'_>, json: bool) -> Vec<u8> {
    let mut tail = Vec::new();
    if json {
        // Cannot fail: writing JSON into a Vec. The object's `{` is dropped: the line's own
        // fields come first.
        let _ = serde_json::to_writer(&mut tail, hit);
        tail.remove(0);
        tail.push(b'\n');
        return tail;
    }
    let how = serde_json::to_value(hit.how).ok();
    let how = how.as_ref().and_then(Value::as_str).unwrap_or("match");
    let claims: Vec<String> = hit
        .claims
        .iter()
        .map(|claim| {
            let category = claim.category.map_or("unknown", |category| category.as_str());
            format!("{} {category}", claim.source)
        })
        .collect();
    let benign = if hit.benign { " [known benign]" } else { "" };
    // Cannot fail: writing into a Vec.
    let _ = writeln!(tail, "{how} {}{benign} ({})", hit.matched.value(), claims.join(", "));
    tail
}

/// Finds a line's candidates: the (field, observable) pairs that may hit.
///
/// Most values of a log are known to nothing, and parsing each into an [`Observable`] costs more
/// than asking the index. So a value in one of the two shapes logs are made of is asked first,
/// and parsed only when the index holds a key it could match:
/// - a dotted quad (digits and dots): it is an IPv4 candidate exactly when the strict parser
///   takes it, and its text is canonical, so the index's answer is the answer;
/// - a name (letters, digits, `.`, `-`, `_`, no dot at either end, no defang marker, no `--` as
///   in `xn--`): if it parses, it is a domain or a hash whose canonical text is its lower case,
///   so when neither that text nor a parent name is a key, it cannot hit.
///
/// Every other value (addresses with colons, URLs, e-mails, text with markers) is parsed as
/// before. A value that passes goes through [`Observable::parse`] and the full lookup, so the
/// hits are those of parsing every value; `tests` check both ways agree.
struct Matcher<'a> {
    snapshot: &'a Snapshot,
    access: &'a Access,
    options: LookupOptions,
    candidates: Vec<(String, Observable)>,
    /// The union and intersection of the classes of the last value's bytes, when `consider`
    /// computed them.
    classes: Option<(u8, u8)>,
    /// The lower case of the last name asked that had upper case.
    lower: String,
    found: Vec<Found>,
    /// The keyed hash of the last name asked (0: none yet), and whether it or its parents may
    /// hit.
    last_name: u64,
    last_name_may_hit: bool,
    /// The parent of the last name asked, and whether it or its parents may hit.
    last_parent: Vec<u8>,
    last_parent_may_hit: bool,
    /// What a JSON line's walk reuses, and the dotted path of a value that hit.
    json: json::Buffers,
    path: String,
    misses: Misses,
    names: NameMisses,
    url: String,
    /// A JSON line's `host`, `uri`, `http.hostname` and `http.url`.
    request: [String; 4],
    /// Whether dotted quads wait for a batch (see `scan_chunk_with`), the line being read (its
    /// number, and where it is in the chunk), and where the value being considered stands when
    /// they do.
    batching: bool,
    line: u64,
    line_span: (usize, usize),
    batch_place: Option<Place>,
    /// The string values of a JSON line before the one being considered.
    json_string: usize,
    /// The dotted quads waiting, and where each stands.
    batch: Vec<Ipv4Addr>,
    batch_places: Vec<BatchPlace>,
}

/// Where a value stands in its line: a Zeek TSV column, or the how-manieth string value of a
/// JSON line (its dotted path is found again only for an address that hit).
#[derive(Clone, Copy)]
enum Place {
    Column(usize),
    /// The string is [`Matcher::json_string`].
    JsonString,
}

/// Where an address waiting for a batch stands: its line (number and where it is in the
/// chunk), the line's candidates before it, and its place in the line.
#[derive(Clone, Copy)]
struct BatchPlace {
    line: u64,
    span: (usize, usize),
    order: usize,
    /// The column, or the how-manieth string value of a JSON line.
    place: Place,
    string: usize,
}

/// Names that hit nothing, neither they nor a parent, remembered by a keyed hash of the name, so
/// that a name a log repeats (a host on every request) is not asked again: the index's filter
/// word is far more often out of the cache than this table (128 KiB). A worker keeps it from
/// chunk to chunk. Only the hash is kept; it is keyed with a secret of the process, so that no
/// log line can be made to collide with a name on purpose.
///
/// A name may sit in any of the [`NameMisses::WAYS`] slots of its set (the set is half a cache
/// line), the newest first: with one slot a name, names that share it pushed each other out, and
/// a log of 10 000 names in 16 384 slots asked the index again for almost half of its lines.
#[derive(Default)]
struct NameMisses {
    /// Empty until a name is remembered.
    slots: Vec<u64>,
    key: u64,
}

impl NameMisses {
    const SLOTS: usize = 1 << 14;
    const WAYS: usize = 4;
    // `set` masks a hash into a set's first slot: both must be powers of two.
    const _POWERS_OF_TWO: () =
        assert!(NameMisses::SLOTS.is_power_of_two() && NameMisses::WAYS.is_power_of_two());

    fn new() -> NameMisses {
        use std::hash::BuildHasher as _;
        // The standard library's hasher keys are random for each process.
        let key =
            std::collections::hash_map::RandomState::new().hash_one(0x5761_7463_6866_6972_u64);
        NameMisses { slots: Vec::new(), key }
    }

    // The keyed hash of `name` (never 0, an empty slot).
    fn hash(&self, name: &str) -> u64 {
        xxhash_rust::xxh3::xxh3_64_with_seed(name.as_bytes(), self.key) | 1
    }

    // Where the set of `hash` starts.
    fn set(hash: u64) -> usize {
        let () = NameMisses::_POWERS_OF_TWO;
        // Cannot truncate: masked below SLOTS.
        (hash as usize) & (NameMisses::SLOTS - NameMisses::WAYS)
    }

    fn holds(&self, hash: u64) -> bool {
        let set = NameMisses::set(hash);
        self.slots.get(set..set + NameMisses::WAYS).is_some_and(|ways| ways.contains(&hash))
    }

    fn remember(&mut self, hash: u64) {
        if self.slots.is_empty() {
            self.slots = vec![0; NameMisses::SLOTS];
        }
        let set = NameMisses::set(hash);
        let ways = &mut self.slots[set..set + NameMisses::WAYS];
        if ways.contains(&hash) {
            return;
        }
        // The oldest name of the set makes way.
        ways.rotate_right(1);
        ways[0] = hash;
    }
}

/// The last values of other shapes that hit nothing, one per slot by a hash of the value.
struct Misses {
    slots: Vec<(u64, String)>,
}

impl Misses {
    const SLOTS: usize = 64;

    fn new() -> Misses {
        Misses { slots: vec![(0, String::new()); Misses::SLOTS] }
    }

    // The slot of `value` and its hash (XXH3: a value's words at a time, where a hash a byte
    // at a time waits for a multiplication a byte).
    fn slot(&self, value: &str) -> (usize, u64) {
        let hash = xxhash_rust::xxh3::xxh3_64(value.as_bytes());
        // Cannot truncate: the remainder is below SLOTS.
        ((hash % Misses::SLOTS as u64) as usize, hash)
    }

    fn holds(&self, (slot, hash): (usize, u64), value: &str) -> bool {
        let (held_hash, held) = &self.slots[slot];
        *held_hash == hash && held == value
    }

    fn remember(&mut self, (slot, hash): (usize, u64), value: &str) {
        let (held_hash, held) = &mut self.slots[slot];
        *held_hash = hash;
        held.clear();
        held.push_str(value);
    }
}

impl<'a> Matcher<'a> {
    fn new(snapshot: &'a Snapshot, access: &'a Access, options: LookupOptions) -> Matcher<'a> {
        Matcher {
            snapshot,
            access,
            options,
            candidates: Vec::new(),
            classes: None,
            lower: String::new(),
            found: Vec::new(),
            last_name: 0,
            last_name_may_hit: false,
            last_parent: Vec::new(),
            last_parent_may_hit: false,
            json: json::Buffers::default(),
            path: String::new(),
            misses: Misses::new(),
            names: NameMisses::default(),
            url: String::new(),
            request: Default::default(),
            batching: false,
            line: 0,
            line_span: (0, 0),
            batch_place: None,
            json_string: 0,
            batch: Vec::new(),
            batch_places: Vec::new(),
        }
    }

    // Looks up the dotted quads waiting, and adds those that hit to `hits` as candidates of
    // their lines, named by the chunk's columns or by their JSON paths. A JSON line with such a
    // hit must also pass serde_json, as a line with any candidate must (see `json_candidates`);
    // returns the lines that did not, which are skipped.
    fn flush_batch(
        &mut self,
        chunk: &Chunk,
        found: &mut Vec<(usize, Found)>,
        hits: &mut Vec<LineCandidate>,
    ) -> u64 {
        found.clear();
        self.snapshot.find_ipv4_batch(self.access, &self.batch, self.options, found);
        let mut n_skipped = 0;
        // An address's hits are together (an exact one, then its network's).
        let mut last = None;
        let mut skipped_line = None;
        for (index, _) in found.iter() {
            if last == Some(*index) {
                continue;
            }
            last = Some(*index);
            let BatchPlace { line, span, order, place, string } = self.batch_places[*index];
            let field = match place {
                Place::Column(column) => chunk.columns.names[column].clone(),
                Place::JsonString => {
                    if skipped_line == Some(line) {
                        continue;
                    }
                    match json_path(&chunk.bytes[span.0..span.1], string, &mut self.json) {
                        Some(path) => path,
                        None => {
                            // Counted once, however many of its addresses hit.
                            skipped_line = Some(line);
                            hits.retain(|hit| hit.line != line);
                            n_skipped += 1;
                            continue;
                        }
                    }
                }
            };
            let observable = Observable::from_ip(self.batch[*index].into());
            hits.push(LineCandidate { line, order, is_batched: true, field, observable });
        }
        self.batch.clear();
        self.batch_places.clear();
        n_skipped
    }

    // Adds `value` when it is an observable of a kind worth matching that may hit. Leaves the
    // union and intersection of its bytes' classes in `classes` when it got as far as computing
    // them (a request's host is asked again for its URL).
    fn consider(&mut self, field: &str, value: &str) {
        self.classes = None;
        let bytes = value.as_bytes();
        // No observable is this short (see `is_plausible`): EVE's `A`, `1b`.
        if bytes.len() < 3 {
            return;
        }
        let may_be_quad =
            bytes.first().is_some_and(u8::is_ascii_digit) && (7..=15).contains(&bytes.len());
        // Only digits and dots, whatever their order, is an address or nothing: when its first
        // two numbers name a /16 block the index holds nothing in (a log's own private
        // addresses), it misses without the rest being parsed. Otherwise a dotted quad written
        // strictly, a log's commonest value, is read on from where its first two numbers end
        // (the strict parser's rules, which a test holds it to).
        let mut strict_quad = None;
        if may_be_quad && let Some((high16, rest)) = leading_pair(bytes) {
            if self.snapshot.ipv4_block_misses(self.access, high16) && is_digits_and_dots(rest) {
                return;
            }
            strict_quad = trailing_pair(rest)
                .filter(|_| has_no_leading_zero(bytes))
                .map(|low16| Ipv4Addr::from(u32::from(high16) << 16 | u32::from(low16)));
        }
        // A dotted quad goes straight to the index: an address the strict parser takes is
        // plausible and of the quad shape, so the index's answer is the answer.
        if let Some(address) =
            strict_quad.or_else(|| if may_be_quad { ipv4::try_parse(value) } else { None })
        {
            // The address waits for a batch when the scan asks it to (see `scan_chunk_with`).
            if let Some(place) = self.batch_place {
                self.batch.push(address);
                let (line, span, order) = (self.line, self.line_span, self.candidates.len());
                let string = self.json_string;
                self.batch_places.push(BatchPlace { line, span, order, place, string });
                return;
            }
            self.found.clear();
            self.snapshot.find_ipv4(self.access, address, self.options, &mut self.found);
            // The strict parser's address is the observable `Observable::parse` makes of it,
            // and the index has just answered for it: no second parse or look-up.
            if !self.found.is_empty() {
                self.candidates.push((field.to_owned(), Observable::from_ip(address.into())));
            }
            return;
        }
        // A timestamp (EVE's on every line) is no observable.
        if bytes.first().is_some_and(u8::is_ascii_digit)
            && bytes.get(4) == Some(&b'-')
            && is_timestamp(bytes)
        {
            return;
        }
        // A long value with a space among its first sixteen bytes (a user agent) is no
        // observable: one compare of sixteen bytes, where its classes cost three instructions a
        // byte.
        if bytes.len() > 32 && mask::find2(&bytes[..16], b' ', b' ').is_some() {
            return;
        }
        let (any, all) = classes(bytes);
        self.classes = Some((any, all));
        if !is_plausible(value, any, all) {
            return;
        }
        // Without a dot or a colon, a plausible value is hex digits: only a hash's length makes
        // it an observable (a connection's uid, a short hex word are none).
        if any & DOT_OR_COLON == 0 && hash::kind_for_len(value.len()).is_none() {
            return;
        }
        match self.shape(value, (any, all)) {
            Shape::Miss => {}
            Shape::Maybe => self.add(field, value),
        }
    }

    // Parses `value`, which may hit, and adds it when it does.
    fn add(&mut self, field: &str, value: &str) {
        // Values of other shapes recur in logs (a user agent on every request): the last few
        // that hit nothing are remembered.
        let slot = self.misses.slot(value);
        if self.misses.holds(slot, value) {
            return;
        }
        let Ok(observable) = Observable::parse(value) else {
            self.misses.remember(slot, value);
            return;
        };
        if matches!(observable.kind(), ObservableKind::Asn) {
            return;
        }
        self.found.clear();
        self.snapshot.find(self.access, &observable, self.options, &mut self.found);
        if self.found.is_empty() {
            self.misses.remember(slot, value);
        } else {
            self.candidates.push((field.to_owned(), observable));
        }
    }

    // Whether `value` may hit, asking the index for the shapes it can answer for.
    // `any` and `all` are the union and intersection of the classes of its bytes.
    fn shape(&mut self, value: &str, (any, all): (u8, u8)) -> Shape {
        let bytes = value.as_bytes();
        let is_quad = bytes[0].is_ascii_digit() && all & DIGIT_OR_DOT != 0;
        if is_quad {
            // `0.0.0.0` to `255.255.255.255`: anything shorter or longer (a timestamp, a
            // duration, a count) is no address and never reaches the parser.
            if !(7..=15).contains(&bytes.len()) {
                return Shape::Miss;
            }
            // The strict parser is what `Observable::parse` applies to this shape (without the
            // reason for a refusal, which a scan does not need).
            let Some(address) = ipv4::try_parse(value) else { return Shape::Miss };
            self.found.clear();
            self.snapshot.find_ipv4(self.access, address, self.options, &mut self.found);
            return if self.found.is_empty() { Shape::Miss } else { Shape::Maybe };
        }
        // (Timestamps never get here: `consider` drops them first.)
        if !is_plain_name(bytes, any, all) {
            // A web address of a plain host and path (a request's referrer) is asked as it is.
            return match self.url_value_may_hit(value) {
                Some(false) => Shape::Miss,
                Some(true) | None => Shape::Maybe,
            };
        }
        if self.name_may_hit(value, any & UPPER != 0) { Shape::Maybe } else { Shape::Miss }
    }

    // Whether the plain name `name` (see the type's docs), lowered first when it has upper case,
    // or one of its parents may hit. Most names in logs are in lower case already, and are then
    // asked as they are in the line, without a copy.
    fn name_may_hit(&mut self, name: &str, has_upper: bool) -> bool {
        let mut lower = std::mem::take(&mut self.lower);
        let name = match has_upper {
            false => name,
            true => {
                lower.clear();
                lower.push_str(name);
                lower.make_ascii_lowercase();
                lower.as_str()
            }
        };
        let may_hit = self.lower_name_may_hit(name);
        self.lower = lower;
        may_hit
    }

    // [`Matcher::name_may_hit`] of a name in lower case. The answer for the last name is kept
    // (a request's host is asked again for its URL), and names that missed are remembered, both
    // by the name's keyed hash, as [`NameMisses`] explains.
    fn lower_name_may_hit(&mut self, name: &str) -> bool {
        let hash = self.names.hash(name);
        if hash == self.last_name {
            return self.last_name_may_hit;
        }
        self.last_name = hash;
        if self.names.holds(hash) {
            self.last_name_may_hit = false;
            return false;
        }
        self.last_name_may_hit = self.ask_name(name);
        if !self.last_name_may_hit {
            self.names.remember(hash);
        }
        self.last_name_may_hit
    }

    // What [`Matcher::lower_name_may_hit`] answers, asking the index.
    fn ask_name(&mut self, name: &str) -> bool {
        self.found.clear();
        self.snapshot.find_exact_text(self.access, name, self.options, &mut self.found);
        if !self.found.is_empty() {
            return true;
        }
        // The parents: what `find_name` finds for the first parent is a superset (it also
        // matches a listed public suffix itself), and log names share parents, so the answer
        // for the last one is kept.
        let Some(dot) = swar::find(name.as_bytes(), b'.') else { return false };
        let parent = &name[dot + 1..];
        if parent.as_bytes() != self.last_parent.as_slice() {
            self.found.clear();
            self.snapshot.find_name(self.access, parent, self.options, &mut self.found);
            self.last_parent.clear();
            self.last_parent.extend_from_slice(parent.as_bytes());
            self.last_parent_may_hit = !self.found.is_empty();
        }
        self.last_parent_may_hit
    }

    // Adds the URL of a request, `http://` + host + uri, when it may hit (itself or its host).
    // `host_classes` are its host's classes when the caller has them.
    fn consider_url(&mut self, host: &str, host_classes: Option<(u8, u8)>, uri: &str) {
        if !uri.starts_with('/') {
            return;
        }
        if self.plain_url_may_hit("http://", host, host_classes, uri) == Some(false) {
            return;
        }
        if let Ok(observable) =
            Observable::parse_as(ObservableKind::Url, &format!("http://{host}{uri}"))
        {
            self.candidates.push(("url".to_owned(), observable));
        }
    }

    // [`Matcher::plain_url_may_hit`] of a value written as a web address, `http://` or
    // `https://`, a host, then a path; None for any other value.
    fn url_value_may_hit(&mut self, value: &str) -> Option<bool> {
        let (scheme, rest) = match value.strip_prefix("http://") {
            Some(rest) => ("http://", rest),
            None => ("https://", value.strip_prefix("https://")?),
        };
        let host_end = swar::find(rest.as_bytes(), b'/')?;
        // Cut at a `/`, an ASCII byte: a character boundary.
        let (host, path) = rest.split_at(host_end);
        self.plain_url_may_hit(scheme, host, None, path)
    }

    // Whether the URL `scheme` + `host` + `path` may hit, itself or its host: asked of the index
    // when the host is a plain name (see the type's docs) and the path holds only unreserved
    // characters and `/` without dot segments, which make the URL its own canonical form once
    // its host is in lower case; None for any other URL, which only its parse can answer for.
    // `host_classes` are the host's classes when the caller has them. Inlined into both callers:
    // a request's URL (every `http` line) then pays no call.
    #[inline(always)]
    fn plain_url_may_hit(
        &mut self,
        scheme: &str,
        host: &str,
        host_classes: Option<(u8, u8)>,
        path: &str,
    ) -> Option<bool> {
        let is_plain_path = path.starts_with('/')
            && path.bytes().fold(true, |all, byte| all & PATH[usize::from(byte)])
            && !contains_at(path.as_bytes(), b'/', b"/.");
        let host_bytes = host.as_bytes();
        let is_quad =
            host_bytes.first().is_some_and(u8::is_ascii_digit) && is_digits_and_dots(host_bytes);
        let (any, all) = host_classes.unwrap_or_else(|| classes(host_bytes));
        if !is_plain_path || is_quad || !is_plain_name(host_bytes, any, all) {
            return None;
        }
        let mut url = std::mem::take(&mut self.url);
        url.clear();
        url.push_str(scheme);
        url.push_str(host);
        if any & UPPER != 0 {
            // Cannot fail: the host's bytes, all ASCII, follow the ASCII scheme.
            if let Some(host) = url.get_mut(scheme.len()..scheme.len() + host.len()) {
                host.make_ascii_lowercase();
            }
        }
        url.push_str(path);
        self.found.clear();
        // Most requests go to a host no listed URL has: a small filter says so, where the
        // URL's look-up would read the large one, out of the cache.
        let url_host = url.get(scheme.len()..scheme.len() + host.len()).unwrap_or_default();
        if !self.snapshot.url_host_misses(self.access, url_host) {
            self.snapshot.find_exact_text(self.access, &url, self.options, &mut self.found);
        }
        self.url = url;
        // Or its host: the same question as for a name field (usually its answer is
        // remembered).
        Some(!self.found.is_empty() || self.name_may_hit(host, any & UPPER != 0))
    }
}

// The first two numbers of a value that starts like a dotted quad, `A.B.`, as the /16 block
// `A.B` (each at most 255, of one to three digits), and the bytes after them.
fn leading_pair(bytes: &[u8]) -> Option<(u16, &[u8])> {
    let mut high16 = 0u16;
    let mut at = 0;
    for _ in 0..2 {
        let mut number = 0u16;
        let start = at;
        while let Some(digit) = bytes.get(at).filter(|byte| byte.is_ascii_digit()) {
            number = number * 10 + u16::from(digit - b'0');
            at += 1;
            if at - start > 3 {
                return None;
            }
        }
        if at == start || number > 255 || bytes.get(at) != Some(&b'.') {
            return None;
        }
        high16 = high16 << 8 | number;
        at += 1;
    }
    Some((high16, &bytes[at..]))
}

// Whether the first two numbers of a value [`leading_pair`] took are written without a leading
// zero, as the strict parser wants an address's numbers (asked only of a block with claims,
// so that a log's private addresses do not pay for it).
fn has_no_leading_zero(bytes: &[u8]) -> bool {
    let second = match bytes.get(1) {
        Some(b'.') => 2,
        _ if bytes.first() == Some(&b'0') => return false,
        _ => bytes.iter().position(|byte| *byte == b'.').map_or(0, |dot| dot + 1),
    };
    bytes.get(second) != Some(&b'0') || bytes.get(second + 1) == Some(&b'.')
}

// The last two numbers of a dotted quad, `C.D` (what [`leading_pair`] leaves), as the strict
// parser takes them (each one to three digits without a leading zero, at most 255, and nothing
// after): `C << 8 | D`.
fn trailing_pair(rest: &[u8]) -> Option<u16> {
    let (high, length) = ipv4::strict_octet(rest)?;
    if rest.get(length) != Some(&b'.') {
        return None;
    }
    let tail = &rest[length + 1..];
    let (low, length) = ipv4::strict_octet(tail)?;
    (length == tail.len()).then_some(u16::from(high) << 8 | u16::from(low))
}

// Whether `bytes` is a plain name (see [`Matcher`]'s docs): name bytes only, no dot at either
// end, no `xn--` label (each holds `--`). `any` and `all` are the union and intersection of the
// classes of its bytes. No defang marker can hide in it: every marker holds a bracket, a
// backslash or a `:` (see `refang`), none of which is a name byte.
fn is_plain_name(bytes: &[u8], any: u8, all: u8) -> bool {
    let is_name = all & NAME != 0;
    let has_end_dot = bytes.first() == Some(&b'.') || bytes.last() == Some(&b'.');
    is_name && !has_end_dot && !(any & HYPHEN != 0 && swar::has_pair(bytes, b'-'))
}

// Whether `bytes` holds only digits and dots: one table load and one `and` a byte, without a
// branch a byte (a value checked here is almost always all digits and dots).
fn is_digits_and_dots(bytes: &[u8]) -> bool {
    bytes.iter().fold(DIGIT_OR_DOT, |all, byte| all & CLASSES[usize::from(*byte)]) != 0
}

// Whether `bytes` is a timestamp as sensors write them (EVE's on every line): a date and time
// `2026-11-27T00:00:00`, perhaps a fraction of a second (`.000000`), perhaps a zone (`Z`,
// `+0000`, `-05:00`). No observable has that shape: the `-` rules out addresses and hashes,
// the `:` a domain, and there is no scheme, `/` or `@` (and no defang marker: each holds a
// bracket, a backslash or a scheme's letters). Its fixed places are checked a word at a time;
// any other form is checked as every value is (slower, with the same answer).
fn is_timestamp(bytes: &[u8]) -> bool {
    let word = |at: usize| bytes.get(at..).and_then(<[u8]>::first_chunk::<8>);
    let (Some(date), Some(day), Some(time)) = (word(0), word(3), word(11)) else {
        return false;
    };
    if !(swar::fits(date, b"9999-99-")
        && swar::fits(day, b"9-99-99T")
        && swar::fits(time, b"99:99:99"))
    {
        return false;
    }
    let mut rest = &bytes[19..];
    if let [b'.', fraction @ ..] = rest {
        let n_digits = swar::leading_digits(fraction);
        if n_digits == 0 {
            return false;
        }
        rest = &fraction[n_digits..];
    }
    let zone = match rest {
        [] | [b'Z'] => return true,
        [b'+' | b'-', zone @ ..] => zone,
        _ => return false,
    };
    match zone {
        [h1, h2, m1, m2] | [h1, h2, b':', m1, m2] => {
            [h1, h2, m1, m2].iter().all(|byte| byte.is_ascii_digit())
        }
        _ => false,
    }
}

// Whether `needle` (which starts with `first`) occurs in `haystack`: values are short, and a
// search from each `first` costs less there than setting up a substring searcher per call.
#[inline(always)]
fn contains_at(haystack: &[u8], first: u8, needle: &[u8]) -> bool {
    swar::find_iter(haystack, first).any(|at| haystack[at..].starts_with(needle))
}

// Whether a field value may be an observable at all: a length, a dot or a colon (or only hex
// digits), no space. `any` and `all` are the union and intersection of its bytes' classes.
fn is_plausible(value: &str, any: u8, all: u8) -> bool {
    let length_fits = value.len() >= 3 && value.len() <= 2048;
    length_fits && (any & DOT_OR_COLON != 0 || all & HEX != 0) && any & SPACE == 0
}

// Byte classes, so that one pass over a value answers every shape question.
const DIGIT_OR_DOT: u8 = 1;
const DOT_OR_COLON: u8 = 2;
const HEX: u8 = 4;
/// Letters, digits, `.`, `-`, `_`: the bytes of a plain name.
const NAME: u8 = 8;
const SPACE: u8 = 16;
const HYPHEN: u8 = 32;
const UPPER: u8 = 64;

const CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut index = 0;
    while index < 256 {
        // Cannot truncate: `index` is below 256.
        let byte = index as u8;
        let mut class = 0;
        if byte.is_ascii_digit() || byte == b'.' {
            class |= DIGIT_OR_DOT;
        }
        if byte == b'.' || byte == b':' {
            class |= DOT_OR_COLON;
        }
        if byte.is_ascii_hexdigit() {
            class |= HEX;
        }
        if byte.is_ascii_alphanumeric() || byte == b'.' || byte == b'-' || byte == b'_' {
            class |= NAME;
        }
        if byte == b' ' {
            class |= SPACE;
        }
        if byte == b'-' {
            class |= HYPHEN;
        }
        if byte.is_ascii_uppercase() {
            class |= UPPER;
        }
        table[index] = class;
        index += 1;
    }
    table
};

/// The bytes of a path that is its own canonical form: unreserved characters and `/`.
const PATH: [bool; 256] = {
    let mut table = [false; 256];
    let mut index = 0;
    while index < 256 {
        // Cannot truncate: `index` is below 256.
        let byte = index as u8;
        table[index] =
            byte.is_ascii_alphanumeric() || matches!(byte, b'/' | b'.' | b'-' | b'_' | b'~');
        index += 1;
    }
    table
};

// The union and the intersection of the classes of `bytes`: a load, an `or` and an `and` a
// byte, which every value of a log pays (two hyphens in a row are looked for apart, and only in
// a name with a hyphen).
fn classes(bytes: &[u8]) -> (u8, u8) {
    let (mut any, mut all) = (0, u8::MAX);
    for byte in bytes {
        let class = CLASSES[usize::from(*byte)];
        any |= class;
        all &= class;
    }
    (any, all)
}

/// What the index says of a value's shape.
enum Shape {
    /// It cannot hit.
    Miss,
    /// It may hit: parse it and look it up.
    Maybe,
}

// The (field, observable) pairs of one line that may hit.
/// Returns false for a line that cannot be read in its format (a JSON line that does not parse).
fn line_candidates(
    matcher: &mut Matcher<'_>,
    format: LogFormat,
    columns: &Columns,
    line: &str,
    tabs: &[usize],
) -> bool {
    match format {
        LogFormat::Zeek if line.starts_with('{') => {
            return json_candidates(matcher, line);
        }
        LogFormat::Eve => return json_candidates(matcher, line),
        LogFormat::Zeek => tsv_candidates(matcher, columns, line, tabs),
        LogFormat::Dns | LogFormat::Text => {
            extractor::extract(line.as_bytes(), &ExtractOptions::default(), 1, |found| {
                let field = match (format, found.observable.kind()) {
                    (LogFormat::Text, _) => "text",
                    (_, ObservableKind::Ipv4 | ObservableKind::Ipv6) => "client",
                    _ => "query",
                };
                matcher.candidates.push((field.to_owned(), found.observable));
            });
        }
    }
    true
}

// Zeek TSV: fields split at tabs (`tabs`, where they are in the line, as [`mask::Lines`] found
// them), set items at commas, in place.
//
// Out of the line loop, as `json_candidates` is: each format's reading gets the registers to
// itself (with the JSON walk inlined into the loop, EVE lines cost about 190 instructions more,
// its walk's place and line partly kept on the stack).
#[inline(never)]
fn tsv_candidates(matcher: &mut Matcher<'_>, columns: &Columns, line: &str, tabs: &[usize]) {
    if line.starts_with('#') || line.is_empty() {
        return;
    }
    let mut host = None;
    let mut uri = None;
    // Only the columns read are cut out, each from the tabs around it; a line with fewer fields
    // than the header has them all read.
    for &(column, kind) in &columns.reading {
        let start = match column.checked_sub(1) {
            None => 0,
            Some(before) => match tabs.get(before) {
                Some(before) => before + 1,
                None => break,
            },
        };
        let end = tabs.get(column).copied().unwrap_or(line.len());
        // Cut at tabs, ASCII bytes: both ends are character boundaries.
        let value = line.get(start..end).unwrap_or_default();
        if value == "-" || value == "(empty)" {
            continue;
        }
        let field = &columns.names[column];
        matcher.batch_place = matcher.batching.then_some(Place::Column(column));
        match kind {
            // Most lists hold one item.
            Column::Items if swar::find(value.as_bytes(), b',').is_some() => {
                value.split(',').for_each(|item| matcher.consider(field, item));
            }
            Column::Host => {
                matcher.consider(field, value);
                host = Some((value, matcher.classes));
            }
            Column::Uri => {
                uri = Some(value);
                matcher.consider(field, value);
            }
            _ => matcher.consider(field, value),
        }
    }
    matcher.batch_place = None;
    if let (Some((host, host_classes)), Some(uri)) = (host, uri) {
        matcher.consider_url(host, host_classes, uri);
    }
}

// Zeek JSON and EVE: every string value, by its dotted path; Zeek http's host + uri and EVE's
// http.hostname + http.url make a URL. A line that is not JSON yields nothing. Out of the line
// loop (see `tsv_candidates`).
#[inline(never)]
fn json_candidates(matcher: &mut Matcher<'_>, line: &str) -> bool {
    let mut buffers = std::mem::take(&mut matcher.json);
    let mut path = std::mem::take(&mut matcher.path);
    // The request's parts, kept in buffers the matcher reuses.
    let mut request = std::mem::take(&mut matcher.request);
    let mut has = [false; 4];
    // The classes of each part's bytes, when `consider` computed them.
    let mut classes_of = [None; 4];
    // The addresses this line adds to the batch, dropped again if the line is not JSON.
    let batch_len = matcher.batch.len();
    matcher.batch_place = matcher.batching.then_some(Place::JsonString);
    matcher.json_string = 0;
    let is_json = json::walk(line, &mut buffers, &mut |keys, value| {
        // Most keys are of none of these lengths, and their text is then never read.
        let slot = match keys.last_len() {
            3 | 4 | 8 => keys.last(),
            _ => None,
        };
        let slot = match slot {
            Some("host") if keys.are(&["host"]) => Some(0),
            Some("uri") if keys.are(&["uri"]) => Some(1),
            Some("hostname") if keys.are(&["http", "hostname"]) => Some(2),
            Some("url") if keys.are(&["http", "url"]) => Some(3),
            _ => None,
        };
        // The field is named (its path joined) only for a value that may hit, or for an
        // address that waited for a batch, when it hit.
        let before = matcher.candidates.len();
        matcher.consider("", value);
        matcher.json_string += 1;
        if let Some(slot) = slot {
            request[slot].clear();
            request[slot].push_str(value);
            has[slot] = true;
            classes_of[slot] = matcher.classes;
        }
        if matcher.candidates.len() > before {
            keys.path(&mut path);
            for (field, _) in &mut matcher.candidates[before..] {
                field.clone_from(&path);
            }
        }
    });
    matcher.batch_place = None;
    matcher.json = buffers;
    matcher.path = path;
    if is_json {
        let [host, uri, http_host, http_url] = &request;
        if has[0] && has[1] {
            matcher.consider_url(host, classes_of[0], uri);
        }
        if has[2] && has[3] {
            matcher.consider_url(http_host, classes_of[2], http_url);
        }
    }
    matcher.request = request;
    // The walker checks less than serde_json; a line with a candidate must pass both (one with
    // an address waiting for a batch does when the address hits: `json_path`).
    let is_json = is_json
        && (matcher.candidates.is_empty()
            || serde_json::from_str::<serde::de::IgnoredAny>(line).is_ok());
    if !is_json {
        matcher.candidates.clear();
        matcher.batch.truncate(batch_len);
        matcher.batch_places.truncate(batch_len);
    }
    is_json
}

// The dotted path of the `string`-th string value (from 0) of the JSON line `bytes`, as
// `json_candidates` names its fields, when serde_json reads the line too; None otherwise.
fn json_path(bytes: &[u8], string: usize, buffers: &mut json::Buffers) -> Option<String> {
    let line = std::str::from_utf8(bytes).ok()?;
    serde_json::from_str::<serde::de::IgnoredAny>(line).ok()?;
    let mut n_strings = 0;
    let mut path = None;
    let is_json = json::walk(line, buffers, &mut |keys, _| {
        if n_strings == string {
            let mut text = String::new();
            keys.path(&mut text);
            path = Some(text);
        }
        n_strings += 1;
    });
    path.filter(|_| is_json)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeSet;

    /// A reader that gives at most `block` bytes a read.
    struct Trickle<'a> {
        input: &'a [u8],
        block: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
            let n = buffer.len().min(self.block).min(self.input.len());
            buffer[..n].copy_from_slice(&self.input[..n]);
            self.input = &self.input[n..];
            Ok(n)
        }
    }

    /// Cuts `input` (read `block` bytes at a time) and returns the chunks and the counts. With
    /// `reuse`, each chunk's buffer is given back for the next, as a worker does, but full of
    /// bytes that would change the chunks if any were left in (`#fields` starts a header), and
    /// every other time longer than a buffer.
    fn cut(input: &[u8], block: usize, reuse: bool) -> (Vec<Chunk>, (u64, u64)) {
        let reader = Trickle { input, block };
        let mut feed = Feed::new(reader, Arc::from("test.log"), None, Live::NOT);
        let mut chunks: Vec<Chunk> = Vec::new();
        loop {
            let spare = chunks.last().filter(|_| reuse).map(|last| {
                let length =
                    if chunks.len().is_multiple_of(2) { BUFFER + 100 } else { last.bytes.len() };
                b"\n#fields\tx\n".iter().copied().cycle().take(length).collect()
            });
            let Some(chunk) = feed.next(spare) else { break };
            chunks.push(chunk);
        }
        let (bytes, dropped, error) = feed.finish();
        assert!(error.is_none(), "{error:?}");
        (chunks, (bytes, dropped))
    }

    /// A reader that gives `input` a block at a time, then fails.
    struct FailingAfter<'a> {
        input: &'a [u8],
        block: usize,
    }

    impl Read for FailingAfter<'_> {
        fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
            if self.input.is_empty() {
                return Err(io::Error::other("the device went away"));
            }
            Trickle { input: self.input, block: self.block }.read(buffer).inspect(|n| {
                self.input = &self.input[*n..];
            })
        }
    }

    /// A read that fails part way: the whole lines before it come out as chunks, the line it
    /// cut (or the long line being dropped) is one empty line, counted as dropped, and the
    /// error is kept for the end.
    #[test]
    fn a_failed_read_keeps_the_whole_lines_before_it() {
        let lines: String = (0..30_000).map(|n| format!("{n}\tvalue-{n}\n")).collect();
        let long = "x".repeat(MAX_LINE + 10);
        // (input, the whole lines it holds, lines dropped)
        let cases = [
            (format!("{lines}cut\tshort"), lines.clone(), 1),
            (lines.clone(), lines.clone(), 0),
            (format!("{lines}{long}"), lines.clone(), 1),
        ];
        for (input, whole, n_dropped) in cases {
            for block in [4096, 1 << 20] {
                let reader = FailingAfter { input: input.as_bytes(), block };
                let mut feed = Feed::new(reader, Arc::from("test.log"), None, Live::NOT);
                let chunks: Vec<Chunk> = std::iter::from_fn(|| feed.next(None)).collect();
                let (bytes, dropped, error) = feed.finish();
                let error = format!("{:#}", error.expect("the failure is kept"));
                assert!(error.contains("test.log") && error.contains("went away"), "{error}");
                assert_eq!((bytes, dropped), (input.len() as u64, n_dropped), "block {block}");
                let joined: Vec<u8> = chunks.iter().flat_map(|chunk| chunk.bytes.clone()).collect();
                let mut expected = whole.clone().into_bytes();
                if n_dropped > 0 {
                    expected.push(b'\n');
                }
                assert!(
                    joined == expected,
                    "block {block}: {} against {}",
                    joined.len(),
                    expected.len()
                );
            }
        }
    }

    /// Chunks are whole lines in order, their indexes without gaps (the writer numbers lines
    /// by them); a line over the cap is replaced by an empty one (and counted); each chunk
    /// carries the Zeek header in force.
    #[test]
    fn the_reader_cuts_whole_lines_and_follows_headers_across_blocks() {
        let header = |name: &str| format!("#separator \\x09\n#fields\tts\t{name}\n");
        let mut input = header("first").into_bytes();
        let mut expected = input.clone();
        let mut n = 0;
        while input.len() < 5 * CHUNK / 2 {
            // Some values hold what a header starts with, which starts no header there.
            let line = match n % 1000 {
                0 => format!("{n}\tvalue#fields-{n}\n"),
                _ => format!("{n}\tvalue-{n}\n"),
            };
            input.extend_from_slice(line.as_bytes());
            expected.extend_from_slice(line.as_bytes());
            n += 1;
        }
        let long = vec![b'a'; MAX_LINE + 10];
        input.extend_from_slice(&long);
        input.push(b'\n');
        expected.push(b'\n');
        let second = header("second");
        input.extend_from_slice(second.as_bytes());
        expected.extend_from_slice(second.as_bytes());
        for n in 0..100_000 {
            let line = format!("{n}\tother-{n}\n");
            input.extend_from_slice(line.as_bytes());
            expected.extend_from_slice(line.as_bytes());
        }
        // The last line has no newline.
        input.extend_from_slice(b"end\tlast");
        expected.extend_from_slice(b"end\tlast\n");
        let blocks = [1000, 8192, 1 << 16, 1 << 20];
        for (block, reuse) in blocks.into_iter().flat_map(|block| [(block, false), (block, true)]) {
            let (chunks, (bytes, too_long)) = cut(&input, block, reuse);
            // A line over the cap is dropped by the reader (an empty line in its place) or, when
            // its end came in the block that crossed the cap, passed whole for the worker to skip.
            let mut passed_long = 0;
            let mut joined = Vec::new();
            for chunk in &chunks {
                for line in chunk.bytes.split_inclusive(|byte| *byte == b'\n') {
                    if line.len() > MAX_LINE {
                        passed_long += 1;
                        joined.push(b'\n');
                    } else {
                        joined.extend_from_slice(line);
                    }
                }
            }
            let differs = joined.iter().zip(&expected).position(|(a, b)| a != b);
            assert!(
                joined == expected,
                "block {block}: lengths {} {}, first difference at {differs:?}",
                joined.len(),
                expected.len(),
            );
            assert_eq!((bytes, too_long + passed_long), (input.len() as u64, 1));
            for (index, chunk) in chunks.iter().enumerate() {
                assert_eq!(chunk.index, index);
                // Never more than a chunk and a capped line (and a block) in memory.
                assert!(
                    chunk.bytes.ends_with(b"\n") && chunk.bytes.len() <= CHUNK + MAX_LINE + block
                );
                assert_eq!(chunk.format, LogFormat::Zeek);
                let text = String::from_utf8_lossy(&chunk.bytes);
                let column = chunk.columns.names.last().map(String::as_str);
                if text.contains("value-") {
                    assert_eq!(column, Some("first"), "chunk {index}");
                }
                if text.contains("other-") {
                    assert_eq!(column, Some("second"), "chunk {index}");
                }
            }
        }
    }

    use watchfire_model::policy::Audience;
    use watchfire_model::tlp::Tlp;
    use watchfire_store::Claim;

    use super::*;

    fn snapshot() -> Snapshot {
        let values = [
            "evil.example",
            "1.2.3.4",
            "10.0.0.0/8",
            "2001:db8::1",
            "d41d8cd98f00b204e9800998ecf8427e",
            "phish@evil.example",
            "http://bad.example/x.exe",
            "http://dl.host.example/payload/1.exe",
            "github.io",
            "xn--bcher-kva.example",
            "ev.il",
        ];
        snapshot_of(&values)
    }

    /// A snapshot of one claim of each of `values`, which everyone may see.
    fn snapshot_of(values: &[&str]) -> Snapshot {
        let claims = values.iter().enumerate().map(|(n, value)| Claim {
            indicator: format!("indicator--00000000-0000-4000-8000-{n:012}"),
            observable: Observable::parse(value).unwrap(),
            source: "feed".to_owned(),
            category: None,
            confidence: None,
            audience: Audience::node(Tlp::Clear),
            valid_until_micros: None,
            last_seen_micros: 0,
            score: 50,
            seq: n as u64,
        });
        watchfire_index::from_claims(1, claims, Vec::new()).unwrap()
    }

    fn hits(snapshot: &Snapshot, candidates: &[(String, Observable)]) -> BTreeSet<String> {
        let access = snapshot.access(Reader::Operator);
        let options = LookupOptions::flag_all(0);
        candidates
            .iter()
            .flat_map(|(_, observable)| snapshot.lookup(&access, observable, options))
            .map(|hit| format!("{:?} {}", hit.how, hit.matched.value()))
            .collect()
    }

    /// A small deterministic generator (xorshift64) for the randomised tests of the scan.
    pub(super) fn random(seed: u64) -> impl FnMut() -> u64 {
        let mut state = seed;
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// `length` random bytes, each from `alphabet` (the bytes a search is about, and bytes near
    /// them in value) `in_four` times in four, else any byte.
    pub(super) fn random_bytes(
        next: &mut impl FnMut() -> u64,
        length: usize,
        alphabet: &[u8],
        in_four: u64,
    ) -> Vec<u8> {
        (0..length)
            .map(|_| match next() % 4 < in_four {
                true => alphabet[(next() % alphabet.len() as u64) as usize],
                false => (next() % 256) as u8,
            })
            .collect()
    }

    /// A hit line written from its own part and the key's rendered tail is the serialised
    /// `HitLine`, byte for byte; the readable line too has its parts in place.
    #[test]
    fn hit_lines_from_rendered_tails_are_the_serialised_ones() {
        let snapshot = snapshot();
        let access = snapshot.access(Reader::Operator);
        let options = LookupOptions::flag_all(0);
        let mut n_lines = 0;
        for value in ["1.2.3.4", "10.1.2.3", "www.evil.example", "http://bad.example/x.exe"] {
            let observable = Observable::parse(value).unwrap();
            let mut found = Vec::new();
            snapshot.find(&access, &observable, options, &mut found);
            assert!(!found.is_empty(), "{value}");
            for found in found {
                let hit = snapshot.hit(&access, options, found);
                // The second line of a chunk after 40 others.
                let line = LineHit {
                    file: "dir/\"odd\".log",
                    line: 2,
                    kind: observable.kind().as_str(),
                    value: observable.value(),
                    field: "id.resp_h",
                };
                let written = |tail: &[u8], json: bool| {
                    let mut rendered = Rendered::default();
                    line.write(&mut rendered, tail, json);
                    let mut written = Vec::new();
                    rendered.write_to(&mut written, 40).unwrap();
                    String::from_utf8(written).unwrap()
                };
                let whole = HitLine {
                    file: line.file,
                    line: 42,
                    kind: line.kind,
                    value: line.value,
                    field: line.field,
                    hit: &hit,
                };
                let mut expected = serde_json::to_vec(&whole).unwrap();
                expected.push(b'\n');
                assert_eq!(
                    written(&render_tail(&hit, true), true),
                    String::from_utf8(expected).unwrap()
                );
                let readable = written(&render_tail(&hit, false), false);
                let start = format!("dir/\"odd\".log:42: id.resp_h {value}: ");
                assert!(readable.starts_with(&start), "{readable}");
                assert!(readable.ends_with("(feed unknown)\n"), "{readable}");
                n_lines += 1;
            }
        }
        assert_eq!(n_lines, 4);
    }

    /// A timestamp the scan skips unparsed is never an observable, whatever follows its date.
    #[test]
    fn what_the_scan_calls_a_timestamp_never_parses() {
        // The rule written out a byte at a time.
        fn plain(bytes: &[u8]) -> bool {
            let fixed = b"9999-99-99T99:99:99";
            let fits = |byte: u8, want: u8| {
                if want == b'9' { byte.is_ascii_digit() } else { byte == want }
            };
            if bytes.len() < fixed.len() || !bytes.iter().zip(fixed).all(|(b, w)| fits(*b, *w)) {
                return false;
            }
            let mut rest = &bytes[fixed.len()..];
            if rest.first() == Some(&b'.') {
                let n = rest[1..].iter().take_while(|byte| byte.is_ascii_digit()).count();
                if n == 0 {
                    return false;
                }
                rest = &rest[1 + n..];
            }
            let digits = |part: &[u8]| part.iter().all(u8::is_ascii_digit);
            match rest.len() {
                0 => true,
                1 => rest == b"Z",
                5 => matches!(rest[0], b'+' | b'-') && digits(&rest[1..]),
                6 => {
                    matches!(rest[0], b'+' | b'-')
                        && rest[3] == b':'
                        && digits(&rest[1..3])
                        && digits(&rest[4..])
                }
                _ => false,
            }
        }
        let mut next = random(0x9e37_79b9_7f4a_7c15);
        let pieces =
            ["", ".", ".000000", ".5", "Z", "+0000", "-05:00", "+01", "+01:0", ":", "Zevil"];
        let alphabet = b"0123456789:.+-ZT/@a ";
        let mut n_timestamps = 0;
        for _ in 0..200_000 {
            let mut value = format!(
                "2026-11-{:02}T{:02}:{:02}:{:02}{}{}",
                next() % 40,
                next() % 30,
                next() % 70,
                next() % 70,
                pieces[(next() % 4) as usize],
                pieces[(next() % pieces.len() as u64) as usize],
            )
            .into_bytes();
            // Most values changed in a byte or two, some cut short.
            for _ in 0..next() % 3 {
                let at = (next() % value.len() as u64) as usize;
                value[at] = alphabet[(next() % alphabet.len() as u64) as usize];
            }
            if next().is_multiple_of(8) {
                value.truncate((next() % value.len() as u64) as usize);
            }
            let value = String::from_utf8(value).unwrap();
            let is = is_timestamp(value.as_bytes());
            assert_eq!(is, plain(value.as_bytes()), "{value}");
            if is {
                n_timestamps += 1;
                assert!(Observable::parse(&value).is_err(), "{value}");
            }
        }
        assert!(n_timestamps > 30_000, "{n_timestamps}");
        for value in [
            "2026-11-27T00:00:00.000000+0000",
            "2026-11-27T10:00:00Z",
            "2026-11-27T10:00:00",
            "2026-11-27T10:00:00.1-05:00",
        ] {
            assert!(is_timestamp(value.as_bytes()), "{value}");
        }
        for value in [
            "2026-11-27T00.00",
            "2026-11-27Tevil.example:80",
            "2026-11-27",
            "1.2.3.4",
            "2026-11-27T10:00:00.Z",
            "2026-11-27T10:00:00+5",
            "2026-11-27T10:00:00Z/evil.example",
            "2026-11-27 10:00:00",
        ] {
            assert!(!is_timestamp(value.as_bytes()), "{value}");
        }
    }

    /// The table check of digits and dots answers as the plain rule does, for every byte.
    #[test]
    fn only_digits_and_dots_pass_the_table_check() {
        for byte in 0..=u8::MAX {
            let plain = byte.is_ascii_digit() || byte == b'.';
            assert_eq!(is_digits_and_dots(&[b'1', byte, b'.']), plain, "{byte}");
        }
        assert!(is_digits_and_dots(b""));
        assert!(is_digits_and_dots(b"55.218"));
        assert!(!is_digits_and_dots(b"55.evil"));
    }

    /// Zeek's `#types` line tells which columns may hold observables, and which hold lists;
    /// the columns of Zeek's own identifiers and vocabulary are never read.
    #[test]
    fn zeek_types_decide_which_columns_are_read() {
        let columns = Columns::parse(
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tproto\tquery\tanswers\tduration\tnet\tx\tTTLs\ttags\tsubnets\tvector",
            Some(
                "#types\ttime\tstring\taddr\tport\tenum\tstring\tvector[string]\tinterval\tsubnet\trecord\tvector[interval]\tset[enum]\tset[subnet]\tvector[",
            ),
        );
        use Column::{Items, Value};
        // Sets and vectors of numbers, times or enums are not read; of anything else they are,
        // item by item (as is a type not understood).
        assert_eq!(
            columns.reading,
            [(2, Value), (5, Value), (6, Items), (8, Value), (9, Items), (12, Items), (13, Items)]
        );
        // Without types every column but Zeek's own is read, item by item.
        let untyped = Columns::parse("#fields\tts\tuid\tquery\tqtype_name", None);
        assert_eq!(untyped.reading, [(0, Items), (2, Items)]);
        // A hit in a list column and none from a number column that looks like an address.
        let snapshot = snapshot();
        let access = snapshot.access(Reader::Operator);
        // The (field, value) candidates of one line.
        let candidates = |columns: &Columns, line: &str| -> Vec<(String, String)> {
            let mut matcher = Matcher::new(&snapshot, &access, LookupOptions::flag_all(0));
            let text = format!("{line}\n");
            let mut lines = mask::Lines::new(text.as_bytes(), columns.names.len());
            assert_eq!(lines.next(), Some(line.len()));
            tsv_candidates(&mut matcher, columns, line, lines.tabs());
            let candidates = matcher.candidates.iter();
            candidates
                .map(|(field, observable)| (field.clone(), observable.value().to_owned()))
                .collect()
        };
        // The `uid` holds an address that would hit: it is not read.
        let line = "1.2.3.4\t1.2.3.4\t10.0.0.1\t1.2.3.4\ttcp\tevil.example\tx.example,1.2.3.4\t1.2.3.4\t10.0.0.0/8\t-\t1.2.3.4,1.2.3.4\t1.2.3.4\t10.0.0.0/8,x\t1.2.3.4";
        let found = candidates(&columns, line);
        let found: Vec<(&str, &str)> =
            found.iter().map(|(f, v)| (f.as_str(), v.as_str())).collect();
        assert_eq!(
            found,
            [
                ("id.orig_h", "10.0.0.1"),
                ("query", "evil.example"),
                ("answers", "1.2.3.4"),
                ("net", "10.0.0.0/8"),
                ("subnets", "10.0.0.0/8"),
                ("vector", "1.2.3.4")
            ]
        );
        // Only the columns read are cut out; `host` and `uri` make a URL wherever they stand,
        // and a number column is never read, even when it holds an address.
        // A method, a version, a status phrase or MIME types are not read even when they hold
        // what would hit.
        let http = Columns::parse(
            "#fields\tts\tid.resp_h\turi\thost\tstatus\tlength\tmethod\tversion\tstatus_msg\tresp_mime_types",
            Some(
                "#types\ttime\taddr\tstring\tstring\tcount\tcount\tstring\tstring\tstring\tvector[string]",
            ),
        );
        assert_eq!(http.reading, [(1, Value), (2, Column::Uri), (3, Column::Host)]);
        let line = "1.5\t1.2.3.4\t/x.exe\tBAD.example\t1.2.3.4\t10.0.0.1\tevil.example\t1.2.3.4\tevil.example\tevil.example,1.2.3.4";
        let found = candidates(&http, line);
        let found: Vec<(&str, &str)> =
            found.iter().map(|(f, v)| (f.as_str(), v.as_str())).collect();
        assert_eq!(found, [("id.resp_h", "1.2.3.4"), ("url", "http://bad.example/x.exe")]);
        // A line cut short: the fields it has are read, and no URL is made without a host.
        let found = candidates(&http, "1.5\t1.2.3.4\t/x.exe");
        assert_eq!(found, [("id.resp_h".to_owned(), "1.2.3.4".to_owned())]);
    }

    /// Addresses looked up in batches give the hits, in the same order and bytes, that looking
    /// each up at once gives: lines with several hits of both kinds, lists, a request's URL, and
    /// more addresses than a batch holds.
    #[test]
    fn batched_addresses_hit_as_addresses_asked_at_once() {
        // `1.2.3.4` hits twice: itself and its network.
        let snapshot = snapshot_of(&["1.2.3.4", "1.2.3.0/24", "10.0.0.0/8", "evil.example"]);
        let access = snapshot.access(Reader::Operator);
        let fields = "#fields\tts\tid.orig_h\tid.resp_h\tquery\tanswers\thost\turi";
        let types = "#types\ttime\taddr\taddr\tstring\tvector[string]\tstring\tstring";
        let addresses = ["1.2.3.4", "10.1.2.3", "192.0.2.1", "1.2.3.40", "01.2.3.4", "-"];
        let names = ["evil.example", "a.evil.example", "clean.example", "-"];
        let requests = [("bad.example", "/x.exe"), ("1.2.3.4", "/a"), ("clean.example", "/")];
        let mut next = random(0x510e_527f_ade6_82d1);
        let mut pick = |n: usize| (next() % n as u64) as usize;
        let mut text = format!("{fields}\n{types}\n");
        for n in 0..1500 {
            let answers: Vec<&str> = (0..1 + pick(3))
                .map(|_| match pick(2) {
                    0 => addresses[pick(5)],
                    _ => names[pick(3)],
                })
                .collect();
            let (host, uri) = requests[pick(3)];
            text.push_str(&format!(
                "{n}.5\t{}\t{}\t{}\t{}\t{host}\t{uri}\n",
                addresses[pick(6)],
                addresses[pick(6)],
                names[pick(4)],
                answers.join(","),
            ));
        }
        let chunk = Chunk {
            index: 0,
            file: Arc::from("batch.log"),
            format: LogFormat::Zeek,
            columns: Arc::new(Columns::parse(fields, Some(types))),
            bytes: text.into_bytes(),
        };
        // EVE lines: addresses at several depths and in arrays, one written with an escape,
        // and lines the walker reads but serde_json refuses (`1-2`), which report nothing.
        let mut eve = String::new();
        for n in 0..1500 {
            let (source, destination) = (addresses[pick(5)], addresses[pick(5)]);
            let (answer, name) = (addresses[pick(5)], names[pick(3)]);
            let line = match pick(6) {
                0 => format!(r#"{{"n":{n},"src_ip":"{source}","dest_ip":"{destination}"}}"#),
                1 => format!(
                    r#"{{"dns":{{"rrname":"{name}","answers":["{answer}",{{"ip":"{source}"}}]}}}}"#
                ),
                2 => format!(r#"{{"a":"1\u002e2.3.4","b":"{destination}"}}"#),
                3 => format!(r#"{{"n":1-2,"dest_ip":"{destination}"}}"#),
                4 => format!(r#"{{"n":1-2,"dest_ip":"{destination}","q":"{name}"}}"#),
                _ => format!(r#"{{"x":[["{source}"],"{answer}"],"y":{{"z":"{destination}"}}}}"#),
            };
            eve.push_str(&line);
            eve.push('\n');
        }
        let eve_chunk = Chunk {
            format: LogFormat::Eve,
            columns: Arc::new(Columns::default()),
            bytes: eve.into_bytes(),
            file: Arc::from("eve.json"),
            ..chunk
        };
        for chunk in [&chunk, &eve_chunk] {
            for json in [false, true] {
                let at_once =
                    scan_chunk_with(&snapshot, &access, chunk, json, &mut NameMisses::new(), false);
                let batched =
                    scan_chunk_with(&snapshot, &access, chunk, json, &mut NameMisses::new(), true);
                assert!(at_once.hits > 1000, "enough hits: {}", at_once.hits);
                let counts = |scan: &ChunkScan| (scan.hits, scan.skipped, scan.lines);
                assert_eq!(counts(&batched), counts(&at_once));
                assert_eq!(batched.output, at_once.output);
            }
        }
        // The lines serde_json refuses were skipped, with or without a hit waiting in a batch.
        let skipped =
            scan_chunk_with(&snapshot, &access, &eve_chunk, true, &mut NameMisses::new(), true)
                .skipped;
        assert!(skipped > 100, "{skipped} lines skipped");
    }

    /// A dotted quad read on from where its first two numbers end is the strict parser's
    /// address, and there is none where that parser takes none: leading zeros, numbers above
    /// 255, four digits, parts missing, added or empty, another byte for a dot.
    #[test]
    fn a_quad_read_on_from_its_first_pair_is_the_strict_parsers() {
        let quad = |value: &str| {
            let (high16, rest) = leading_pair(value.as_bytes())?;
            let low16 = trailing_pair(rest).filter(|_| has_no_leading_zero(value.as_bytes()))?;
            Some(Ipv4Addr::from(u32::from(high16) << 16 | u32::from(low16)))
        };
        let mut next = random(0x3c6e_f372_fe94_f82b);
        let mut n_addresses = 0;
        for _ in 0..200_000 {
            let mut value = String::new();
            for part in 0..2 + next() % 4 {
                if part > 0 {
                    value.push(if next().is_multiple_of(40) { ':' } else { '.' });
                }
                let number = match next() % 10 {
                    0 => String::new(),
                    1 => format!("0{}", next() % 100),
                    2 => format!("{}", 1000 + next() % 9000),
                    _ => format!("{}", next() % 300),
                };
                value.push_str(&number);
            }
            // `consider` asks only values of a quad's lengths that start with a digit.
            if !(7..=15).contains(&value.len()) {
                continue;
            }
            let strict = ipv4::try_parse(&value);
            assert_eq!(quad(&value), strict, "{value}");
            n_addresses += usize::from(strict.is_some());
        }
        assert!(n_addresses > 4_000, "enough of the values are addresses: {n_addresses}");
        for value in ["0.0.0.0", "255.255.255.255", "1.2.3.04", "1.2.03.4", "01.2.3.4", "1.2.3.256"]
        {
            assert_eq!(quad(value), ipv4::try_parse(value), "{value}");
        }
    }

    /// Names remembered, fewer than the table has slots, stay remembered whatever their hashes:
    /// of 8 000 names in 16 384 slots about 96 % are held (with one slot a name, about 79 %).
    #[test]
    fn names_that_missed_stay_remembered_while_the_table_has_room() {
        let mut names = NameMisses::new();
        let hashes: Vec<u64> =
            (0..8000).map(|n| names.hash(&format!("host{n}.test-clean.example"))).collect();
        for hash in &hashes {
            names.remember(*hash);
        }
        // A name remembered again takes no second slot from the names of its set.
        for hash in hashes.iter().step_by(2) {
            names.remember(*hash);
        }
        let held = hashes.iter().filter(|hash| names.holds(**hash)).count();
        assert!(held >= 7_400, "{held} of 8 000 names held");
        assert!(!names.holds(names.hash("never.example")));
        assert!(!NameMisses::new().holds(names.hash("never.example")), "an empty table");
    }

    /// The index-first path finds what parsing every value and looking it up finds, for values
    /// near the listed ones in case, dots, markers, encodings and lengths.
    #[test]
    fn asking_the_index_first_finds_what_parsing_every_value_finds() {
        let snapshot = snapshot();
        let access = snapshot.access(Reader::Operator);
        let options = LookupOptions::flag_all(0);
        let bases = [
            "evil.example",
            "www.Evil.Example",
            "a.b.evil.example",
            "notevil.example",
            "evil.example.org",
            "1.2.3.4",
            "10.200.3.4",
            "11.0.0.1",
            // The /16 block 11.0 holds nothing: only digits and dots after `11.0.` miss unread.
            "11.0.999.1",
            "11.0.0.1.5",
            "11.0.1.2.ev.il",
            "11.0.ev.il",
            "1.2.3.40",
            "1.2.ev.il",
            "2001:db8::1",
            "2001:DB8:0::1",
            "D41D8CD98F00B204E9800998ECF8427E",
            "phish@evil.example",
            "http://bad.example/x.exe",
            "https://bad.example/x.exe",
            "http://bad.example/other",
            "http://bad.example",
            "http://bad.example/",
            "http://bad.example:8080/x.exe",
            "http://bad.example/x.exe?a=1",
            "http://bad.example/a/../x.exe",
            "https://www.evil.example/login",
            "http://Bad.Example/x.exe",
            "https://WWW.evil.example/login",
            "Mozilla/5.0 (X11; Linux x86_64) evil.example",
            "http://a.b--c.evil.example/login",
            "http://dl.host.example/payload/1.exe",
            "https://dl.host.example/payload/1.exe",
            "http://dl.host.example/payload/2.exe",
            "http://host.example/payload/1.exe",
            "http://1.2.3.4/a",
            "http://user@bad.example/x.exe",
            "http://xn--bcher-kva.example/a",
            "hxxp://bad[.]example/x.exe",
            "bad.example/x.exe",
            "someone.github.io",
            "xn--bcher-kva.example",
            "www.bücher.example",
            "AS64500",
            "1764201600.123456",
            "2026-11-27T00:00:00.000000+0000",
            "2026-11-27T10:00:00Z",
            "2026-11-27T10:00:00.1.2.3.4",
            "Mozilla/5.0",
            "C524e8330",
            "deadbeef",
            "d41d8cd98f00b204e9800998ecf8427",
        ];
        let mut values = Vec::new();
        for base in bases {
            values.push(base.to_owned());
            values.push(base.to_uppercase());
            values.push(format!("{base}."));
            values.push(format!(".{base}"));
            values.push(format!("x_{base}"));
            values.push(format!("-{base}"));
            values.push(format!("0{base}"));
            values.push(format!("{base}0"));
            values.push(base.replace('.', "[.]"));
            values.push(base.replace('.', ".."));
            values.push(base.replace('.', "(dot)"));
        }
        let mut n_hits = 0;
        // One matcher for every value, as a worker keeps one per chunk (its memos included),
        // and every value twice, so the second answer may come from a memo.
        let mut matcher = Matcher::new(&snapshot, &access, options);
        for value in values.iter().chain(&values) {
            matcher.candidates.clear();
            matcher.consider("field", value);
            let fast = hits(&snapshot, &matcher.candidates);
            // Before: every plausible value was parsed.
            let slow: Vec<(String, Observable)> = Observable::parse(value)
                .into_iter()
                .filter(|_| {
                    let (any, all) = classes(value.as_bytes());
                    is_plausible(value, any, all)
                })
                .filter(|observable| observable.kind() != ObservableKind::Asn)
                .map(|observable| ("field".to_owned(), observable))
                .collect();
            assert_eq!(fast, hits(&snapshot, &slow), "{value}");
            n_hits += fast.len();
        }
        assert!(n_hits > 20, "the values hit often enough: {n_hits}");
        for (host, uri) in [
            ("bad.example", "/x.exe"),
            ("BAD.example", "/x.exe"),
            ("bad.example", "/X.exe"),
            ("bad.example", "/./x.exe"),
            ("bad.example", "/x.exe?a=1"),
            ("bad.example", "/x.exe#top"),
            ("bad.example", "/other"),
            ("bad.example:80", "/x.exe"),
            ("www.evil.example", "/login"),
            ("1.2.3.4", "/a"),
            ("dl.host.example", "/payload/1.exe"),
            ("dl.host.example", "/payload/%31.exe"),
            ("dl.host.example.", "/payload/1.exe"),
        ] {
            let slow: Vec<(String, Observable)> =
                Observable::parse_as(ObservableKind::Url, &format!("http://{host}{uri}"))
                    .into_iter()
                    .map(|observable| ("url".to_owned(), observable))
                    .collect();
            // The URL alone, after its host was asked as a field (as a scan asks it, which
            // leaves the host's lower case for the URL), and after another name was.
            for asked_before in [None, Some(host), Some(&host.to_uppercase()), Some("b.example")] {
                let mut matcher = Matcher::new(&snapshot, &access, options);
                if let Some(field) = asked_before {
                    matcher.consider("host", field);
                    matcher.candidates.clear();
                }
                matcher.consider_url(host, None, uri);
                let fast = hits(&snapshot, &matcher.candidates);
                assert_eq!(fast, hits(&snapshot, &slow), "{host}{uri} after {asked_before:?}");
            }
            // With the host's classes as its field's `consider` gave them.
            let mut matcher = Matcher::new(&snapshot, &access, options);
            matcher.consider("host", host);
            let host_classes = matcher.classes;
            assert_eq!(host_classes, Some(classes(host.as_bytes())).filter(|_| host != "1.2.3.4"));
            matcher.candidates.clear();
            matcher.consider_url(host, host_classes, uri);
            assert_eq!(hits(&snapshot, &matcher.candidates), hits(&snapshot, &slow), "{host}{uri}");
        }
    }
}
