//! `watchfire import`: reads feed files with the `formats` readers and stores what they hold
//! (`store_import`), or with `--dry-run` only reports it.
//!
//! Per file it prints the format, the records counted by kind, and the rejects (a reject is data,
//! so the exit code stays 0), and when storing the new versions the log gained. Files that cannot
//! be read at all (missing, unrecognised, a broken archive) make the exit code 1 after the other
//! files are done; a store error (locked, full, corrupt, newer schema) stops at once with exit 1.
//!
//! With `--json`, each reject is printed as it is read, `{"reject":{"file":…,"line":N,"reason":…}}`,
//! and each file ends with its summary line, in the order the files were given:
//! `{"file":…,"format":…,"records":N,"rejects":N,"by_kind":{…},"new_versions":N}` (`file` tells
//! the summaries of several files apart; `by_kind` keys are sorted; `new_versions` only when storing).
//!
//! Record kinds as counted in `by_kind`: the observable kind of an indicator (`ipv4`, `url`,
//! `sha256`, ...), `pattern` for an indicator with a STIX pattern, `event` for a host event,
//! `benign` for a warninglist entry, `feed` for a feed definition, and `stix:<type>` for a STIX
//! object kept as it came (`stix:report`).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use anyhow::{Context as _, Result};
use serde::Serialize;
use watchfire_formats::{self as formats, Format, Item, Reject};
use watchfire_model::tlp::Tlp;
use watchfire_store::AppendOutcome;

use watchfire_feeds::Tally;

use crate::live::Live;
use crate::store_import::{ImportError, StoreOptions, store_file};

/// The exit code of a command that cannot run as asked (as clap uses for usage errors).
pub const EXIT_USAGE: u8 = 2;

/// Arguments of `watchfire import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Parse and report only, storing nothing.
    #[arg(long)]
    dry_run: bool,

    /// The source name the records are stored under (default: the format's name, such as
    /// `abusech-urlhaus`).
    #[arg(long, value_name = "NAME")]
    source: Option<String>,

    /// The TLP of records that carry none: clear, green, amber, amber+strict or red.
    #[arg(long, value_name = "TLP", default_value = "green")]
    tlp: String,

    /// The format of every file, or `auto` to recognise each file from its first bytes and name.
    #[arg(long, value_name = "FORMAT", default_value = "auto")]
    format: String,

    /// Print one JSON line per reject and one summary line per file instead of the readable report.
    #[arg(long)]
    json: bool,

    /// Files to read (gzip and zip are unpacked); `-` reads standard input.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

/// Runs `watchfire import`, storing into the store at `data` or `database` unless `--dry-run`.
pub fn run(args: &Args, data: &Path, database: Option<&str>) -> Result<ExitCode> {
    let choice = match FormatChoice::parse(&args.format) {
        Ok(choice) => choice,
        Err(error) => {
            eprintln!("watchfire: import: {error}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let Ok(tlp) = args.tlp.parse::<Tlp>() else {
        eprintln!(
            "watchfire: import: --tlp {:?} is no TLP level (clear, green, amber, amber+strict, red)",
            args.tlp
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let store = if args.dry_run {
        None
    } else {
        match watchfire_store::open(data, database) {
            Ok(store) => Some(store),
            Err(error) => {
                eprintln!("watchfire: import: {error}");
                return Ok(ExitCode::FAILURE);
            }
        }
    };
    let options = StoreOptions { source: args.source.clone(), tlp, json: args.json };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut n_failed = 0usize;
    for path in &args.files {
        let result = match &store {
            None => report_file(&mut out, choice, path, args.json).map_err(ImportError::File),
            Some(store) => store_file(&mut out, &**store, choice, path, &options),
        };
        match result {
            Ok(()) => {}
            Err(ImportError::File(error)) if is_broken_pipe(&error) => {
                return Ok(ExitCode::SUCCESS);
            }
            Err(ImportError::File(error)) => {
                // Keep what was printed so far in order before the error.
                let _ = out.flush();
                eprintln!("watchfire: import: {error:#}");
                n_failed += 1;
            }
            Err(ImportError::Store(error)) => {
                let _ = out.flush();
                eprintln!("watchfire: import: {}: {error}", path.display());
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    match out.flush() {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other.context("cannot write to standard output")?,
    }
    Ok(if n_failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The `--format` (or `--from`) choice: one named format for every file, or detection per file.
#[derive(Clone, Copy, Debug)]
pub enum FormatChoice {
    /// Recognise each file from its first bytes and name.
    Auto,
    /// Read every file with this format.
    Named(&'static Format),
}

impl FormatChoice {
    /// Parses `auto` or a format name; an unknown name gives the registry's error, which lists
    /// the known formats.
    pub fn parse(name: &str) -> Result<FormatChoice, formats::Error> {
        match name {
            "auto" => Ok(FormatChoice::Auto),
            name => formats::format_by_name(name).map(FormatChoice::Named),
        }
    }
}

/// The summary line of one file in `--json` mode, exactly these fields in this order
/// (`new_versions` only when storing).
#[derive(Serialize)]
struct JsonSummary<'a> {
    file: &'a str,
    format: &'a str,
    records: u64,
    rejects: u64,
    by_kind: &'a BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_versions: Option<u64>,
}

/// A reject line in `--json` mode: `{"reject":{"file":…,"line":N,"reason":…}}`.
#[derive(Serialize)]
pub struct JsonReject<'a> {
    pub reject: &'a Reject,
}

fn report_file(out: &mut impl Write, choice: FormatChoice, path: &Path, json: bool) -> Result<()> {
    let mut tally = Tally::default();
    // The reader's callback cannot return an error: keep the first write failure and stop writing.
    let mut write_error: Option<io::Error> = None;
    let (name, format) = read_file(choice, path, &mut |item| match item {
        Item::Record(record) => tally.count(&record),
        Item::Reject(reject) => {
            if json && write_error.is_none() {
                write_error = write_json_line(out, &JsonReject { reject: &reject }).err();
            }
            tally.reject(reject);
        }
    })?;
    if let Some(error) = write_error {
        return Err(error).context("cannot write to standard output");
    }
    write_summary(out, json, &name, format, &tally, None).context("cannot write to standard output")
}

/// Writes the summary of one file: its JSON line (with `new_versions` when `stored` is given) or
/// the readable report (with a `stored:` line).
pub fn write_summary(
    out: &mut impl Write,
    json: bool,
    name: &str,
    format: &Format,
    tally: &Tally,
    stored: Option<&AppendOutcome>,
) -> io::Result<()> {
    if json {
        let summary = JsonSummary {
            file: name,
            format: format.name,
            records: tally.n_records,
            rejects: tally.n_rejects,
            by_kind: &tally.by_kind,
            new_versions: stored.map(|stored| stored.new_versions),
        };
        return write_json_line(out, &summary);
    }
    write_readable(out, name, format, tally)?;
    match stored {
        Some(stored) => writeln!(
            out,
            "  stored: {} new versions, {} unchanged (log at {})",
            stored.new_versions, stored.unchanged, stored.last_seq
        ),
        None => Ok(()),
    }
}

/// Opens `path` (`-` is standard input), unpacks it, picks its format and hands every item to
/// `on_item`. Returns the input's name and the format used.
pub fn read_file(
    choice: FormatChoice,
    path: &Path,
    on_item: &mut dyn FnMut(Item),
) -> Result<(String, &'static Format)> {
    read_file_watched(choice, path, None, &mut |_| {}, on_item)
}

/// What a long import shares with its progress display: the bytes read from the file (before
/// unpacking), and a flag that makes further reads fail, to stop a reader whose records can no
/// longer be stored.
#[derive(Debug, Default)]
pub struct Watch {
    /// Bytes read so far.
    pub bytes: AtomicU64,
    /// Set to stop reading.
    pub abort: AtomicBool,
}

/// A reader that counts for a [`Watch`] and stops when it is aborted; on a live input (a pipe), it
/// calls `on_idle` before a read that would wait.
struct Watched<R> {
    inner: R,
    watch: Arc<Watch>,
    idle: Option<(Live, OnIdle)>,
}

/// What a reader calls before it waits on a live input.
pub type OnIdle = Rc<dyn Fn()>;

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.watch.abort.load(Ordering::Relaxed) {
            return Err(io::Error::other("the import was stopped"));
        }
        if let Some((live, on_idle)) = &self.idle
            && live.would_wait()
        {
            on_idle();
        }
        let n = self.inner.read(buffer)?;
        self.watch.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// [`read_file`], counting the bytes read into `watch` when given, and telling `on_format` the
/// format before the first item. With `watch`, a live input (a pipe, a named pipe) calls
/// `on_idle` before a read that would wait, after the items of the lines read so far.
pub fn read_file_watched(
    choice: FormatChoice,
    path: &Path,
    watch: Option<(Arc<Watch>, OnIdle)>,
    on_format: &mut dyn FnMut(&'static Format),
    on_item: &mut dyn FnMut(Item),
) -> Result<(String, &'static Format)> {
    let is_stdin = path.as_os_str() == "-";
    let name = if is_stdin { "-".to_owned() } else { path.display().to_string() };
    let (raw, live): (Box<dyn Read>, Live) = if is_stdin {
        (Box::new(io::stdin()), Live::stdin())
    } else {
        let file = File::open(path).with_context(|| format!("cannot open {name}"))?;
        let live = Live::of(&file);
        (Box::new(file), live)
    };
    let raw: Box<dyn Read> = match watch {
        Some((watch, on_idle)) => {
            let idle = live.is_live().then_some((live, on_idle));
            Box::new(Watched { inner: raw, watch, idle })
        }
        None => raw,
    };
    let format = match choice {
        FormatChoice::Named(format) => Some(format),
        FormatChoice::Auto => None,
    };
    let format = watchfire_feeds::read(&name, raw, format, on_format, on_item)?;
    Ok((name, format))
}

pub fn write_json_line(out: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

pub fn write_readable(
    out: &mut impl Write,
    name: &str,
    format: &Format,
    tally: &Tally,
) -> io::Result<()> {
    writeln!(out, "{name}: format {}", format.name)?;
    writeln!(out, "  records: {}", tally.n_records)?;
    let width = tally.by_kind.keys().map(String::len).max().unwrap_or(0);
    for (kind, count) in &tally.by_kind {
        writeln!(out, "    {kind:<width$}  {count}")?;
    }
    writeln!(out, "  rejects: {}", tally.n_rejects)?;
    for reject in &tally.shown_rejects {
        writeln!(out, "    line {}: {}", reject.line, reject.reason)?;
    }
    let n_hidden = tally.n_rejects - tally.shown_rejects.len() as u64;
    if n_hidden > 0 {
        writeln!(out, "    ... and {n_hidden} more (--json lists them all)")?;
    }
    Ok(())
}

/// Tells whether an error is a closed output pipe (`watchfire import ... | head`), which ends the
/// command quietly.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|error| error.kind() == io::ErrorKind::BrokenPipe)
    })
}
