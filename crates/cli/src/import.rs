//! `watchfire import`: reads feed files with the `formats` readers and reports what they hold.
//!
//! Only `--dry-run` works until the store exists: it parses every file and prints, per file, the
//! format, the records counted by kind, and the rejects (a reject is data, so the exit code stays 0).
//! Files that cannot be read at all (missing, unrecognised, a broken archive) make the exit code 1
//! after the other files are done.
//!
//! With `--json`, each reject is printed as it is read, `{"reject":{"file":…,"line":N,"reason":…}}`,
//! and each file ends with its summary line, in the order the files were given:
//! `{"file":…,"format":…,"records":N,"rejects":N,"by_kind":{…}}` (`file` tells the summaries of
//! several files apart; `by_kind` keys are sorted).
//!
//! Record kinds as counted in `by_kind`: the observable kind of an indicator (`ipv4`, `url`,
//! `sha256`, ...), `pattern` for an indicator with a STIX pattern, `event` for a host event,
//! `benign` for a warninglist entry, `feed` for a feed definition, and `stix:<type>` for a STIX
//! object kept as it came (`stix:report`).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufWriter, Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use serde::Serialize;
use watchfire_formats::{self as formats, Context, DETECT_BYTES, Format, Item, Reject, input};
use watchfire_model::record::{Record, Subject};

/// How many rejects the readable summary shows per file; the rest are counted.
const SHOWN_REJECTS: usize = 20;

/// The exit code of a command that cannot run as asked (as clap uses for usage errors).
pub const EXIT_USAGE: u8 = 2;

/// Arguments of `watchfire import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Parse and report only, storing nothing (required until the store exists).
    #[arg(long)]
    dry_run: bool,

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

/// Runs `watchfire import`.
pub fn run(args: &Args) -> Result<ExitCode> {
    if !args.dry_run {
        eprintln!(
            "watchfire: import: the store is not built yet; use --dry-run to parse and report without storing"
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let choice = match FormatChoice::parse(&args.format) {
        Ok(choice) => choice,
        Err(error) => {
            eprintln!("watchfire: import: {error}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut n_failed = 0usize;
    for path in &args.files {
        let result = report_file(&mut out, choice, path, args.json);
        match result {
            Ok(()) => {}
            Err(error) if is_broken_pipe(&error) => return Ok(ExitCode::SUCCESS),
            Err(error) => {
                // Keep what was printed so far in order before the error.
                let _ = out.flush();
                eprintln!("watchfire: import: {error:#}");
                n_failed += 1;
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

/// What reading one file gave, for its summary.
#[derive(Debug, Default)]
struct Tally {
    n_records: u64,
    n_rejects: u64,
    by_kind: BTreeMap<String, u64>,
    shown_rejects: Vec<Reject>,
}

/// The summary line of one file in `--json` mode, exactly these fields in this order.
#[derive(Serialize)]
struct JsonSummary<'a> {
    file: &'a str,
    format: &'a str,
    records: u64,
    rejects: u64,
    by_kind: &'a BTreeMap<String, u64>,
}

/// A reject line in `--json` mode: `{"reject":{"file":…,"line":N,"reason":…}}`.
#[derive(Serialize)]
struct JsonReject<'a> {
    reject: &'a Reject,
}

fn report_file(out: &mut impl Write, choice: FormatChoice, path: &Path, json: bool) -> Result<()> {
    let mut tally = Tally::default();
    // The reader's callback cannot return an error: keep the first write failure and stop writing.
    let mut write_error: Option<io::Error> = None;
    let (name, format) = read_file(choice, path, &mut |item| match item {
        Item::Record(record) => {
            tally.n_records += 1;
            *tally.by_kind.entry(record_kind(&record)).or_default() += 1;
        }
        Item::Reject(reject) => {
            tally.n_rejects += 1;
            if json {
                if write_error.is_none() {
                    write_error = write_json_line(out, &JsonReject { reject: &reject }).err();
                }
            } else if tally.shown_rejects.len() < SHOWN_REJECTS {
                tally.shown_rejects.push(reject);
            }
        }
    })?;
    if let Some(error) = write_error {
        return Err(error).context("cannot write to standard output");
    }
    let written = if json {
        let summary = JsonSummary {
            file: &name,
            format: format.name,
            records: tally.n_records,
            rejects: tally.n_rejects,
            by_kind: &tally.by_kind,
        };
        write_json_line(out, &summary)
    } else {
        write_readable(out, &name, format, &tally)
    };
    written.context("cannot write to standard output")
}

/// Opens `path` (`-` is standard input), unpacks it, picks its format and hands every item to
/// `on_item`. Returns the input's name and the format used.
pub fn read_file(
    choice: FormatChoice,
    path: &Path,
    on_item: &mut dyn FnMut(Item),
) -> Result<(String, &'static Format)> {
    let is_stdin = path.as_os_str() == "-";
    let name = if is_stdin { "-".to_owned() } else { path.display().to_string() };
    let raw: Box<dyn Read> = if is_stdin {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).with_context(|| format!("cannot open {name}"))?)
    };
    let mut reader = input::open(&name, raw)?;
    let context = Context::new(name.as_str());
    let format = match choice {
        FormatChoice::Named(format) => format,
        FormatChoice::Auto => {
            // Peek the decompressed head, then read it again in front of the rest of the input.
            let mut head = Vec::with_capacity(DETECT_BYTES);
            (&mut reader)
                .take(DETECT_BYTES as u64)
                .read_to_end(&mut head)
                .map_err(|error| formats::Error::io(&name, error))?;
            let format = formats::detect(&head, context.file_name())?;
            let mut rejoined: Box<dyn BufRead> = Box::new(Cursor::new(head).chain(reader));
            (format.read)(&mut rejoined, &context, on_item)?;
            return Ok((name, format));
        }
    };
    (format.read)(&mut reader, &context, on_item)?;
    Ok((name, format))
}

/// Returns the `by_kind` key of a record (see the module doc).
pub fn record_kind(record: &Record) -> String {
    match record {
        Record::Indicator(indicator) => match &indicator.subject {
            Subject::Observable(observable) => observable.kind().as_str().to_owned(),
            Subject::Pattern(_) => "pattern".to_owned(),
        },
        Record::Stix(object) => format!("stix:{}", object.object_type()),
        other => other.kind_name().to_owned(),
    }
}

fn write_json_line(out: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

fn write_readable(
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
