//! `watchfire convert`: reads feed files in any supported format and writes every record to one
//! output in an export format (a blocklist, rules, STIX, ...), with a summary on standard error.
//!
//! Records stream from reader to writer; nothing is held. A record the export format cannot express
//! is skipped by the writer and counted; rejected input lines are counted and the first ones shown.
//! An unreadable input file is reported and the others are still converted, the output is still
//! closed properly, and the exit code is 1.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use watchfire_formats::{Item, Reject};

use crate::import::{self, EXIT_USAGE, FormatChoice};

use self::writer_seam::{Outcome, RecordWriter};

/// How many rejects the summary shows in full; the rest are counted.
const SHOWN_REJECTS: usize = 20;

/// Arguments of `watchfire convert`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The format of every input file, or `auto` to recognise each from its first bytes and name.
    #[arg(long, value_name = "FORMAT", default_value = "auto")]
    from: String,

    /// The export format to write.
    #[arg(long, value_name = "FORMAT")]
    to: String,

    /// Write to this file instead of standard output (`-` is standard output).
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,

    /// Files to read (gzip and zip are unpacked); `-` reads standard input.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

/// What a conversion did, for the summary.
#[derive(Debug, Default)]
struct Tally {
    n_written: u64,
    skipped: BTreeMap<String, u64>,
    n_rejects: u64,
    shown_rejects: Vec<Reject>,
}

/// Runs `watchfire convert`.
pub fn run(args: &Args) -> Result<ExitCode> {
    let choice = match FormatChoice::parse(&args.from) {
        Ok(choice) => choice,
        Err(error) => {
            eprintln!("watchfire: convert: --from: {error}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let mut writer = match writer_seam::writer_by_name(&args.to) {
        Ok(writer) => writer,
        Err(message) => {
            eprintln!("watchfire: convert: --to: {message}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) if path.as_os_str() != "-" => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            Box::new(BufWriter::with_capacity(1 << 16, file))
        }
        _ => Box::new(BufWriter::with_capacity(1 << 16, io::stdout().lock())),
    };
    let mut tally = Tally::default();
    let mut n_failed = 0usize;
    let converted = convert_all(args, choice, writer.as_mut(), &mut out, &mut tally, &mut n_failed);
    match converted {
        // A closed pipe (`watchfire convert ... | head`) is the reader saying it has enough.
        Err(error) if import::is_broken_pipe(&error) => return Ok(ExitCode::SUCCESS),
        other => other?,
    }
    print_summary(&tally);
    Ok(if n_failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Writes the document: begin, the records of every file, finish. Returns an error only for a
/// failed write; an unreadable input is reported, counted in `n_failed`, and skipped.
fn convert_all(
    args: &Args,
    choice: FormatChoice,
    writer: &mut dyn RecordWriter,
    out: &mut dyn Write,
    tally: &mut Tally,
    n_failed: &mut usize,
) -> Result<()> {
    writer.begin(out).context("cannot write the output")?;
    for path in &args.files {
        match convert_file(choice, path, writer, out, tally)? {
            Ok(()) => {}
            Err(error) => {
                eprintln!("watchfire: convert: {error:#}");
                *n_failed += 1;
            }
        }
    }
    writer.finish(out).context("cannot write the output")?;
    out.flush().context("cannot write the output")
}

/// Converts one file. The outer error is a failed write (which ends the conversion), the inner
/// one an unreadable input (which skips the file).
fn convert_file(
    choice: FormatChoice,
    path: &Path,
    writer: &mut dyn RecordWriter,
    out: &mut dyn Write,
    tally: &mut Tally,
) -> Result<Result<()>> {
    let n_before = (tally.n_written, tally.skipped.values().sum::<u64>(), tally.n_rejects);
    // The reader's callback cannot return an error: keep the first write failure and stop writing.
    let mut write_error: Option<io::Error> = None;
    let read = import::read_file(choice, path, &mut |item| match item {
        Item::Record(record) => {
            if write_error.is_some() {
                return;
            }
            match writer.write(&record, out) {
                Ok(Outcome::Written) => tally.n_written += 1,
                Ok(Outcome::Skipped(reason)) => *tally.skipped.entry(reason).or_default() += 1,
                Err(error) => write_error = Some(error),
            }
        }
        Item::Reject(reject) => {
            tally.n_rejects += 1;
            if tally.shown_rejects.len() < SHOWN_REJECTS {
                tally.shown_rejects.push(reject);
            }
        }
    });
    if let Some(error) = write_error {
        return Err(error).context("cannot write the output");
    }
    let (name, format) = match read {
        Ok(read) => read,
        Err(error) => return Ok(Err(error)),
    };
    eprintln!(
        "{name}: format {}, written {}, skipped {}, rejects {}",
        format.name,
        tally.n_written - n_before.0,
        tally.skipped.values().sum::<u64>() - n_before.1,
        tally.n_rejects - n_before.2,
    );
    Ok(Ok(()))
}

fn print_summary(tally: &Tally) {
    let skipped: Vec<String> =
        tally.skipped.iter().map(|(reason, count)| format!("{reason} {count}")).collect();
    let n_skipped: u64 = tally.skipped.values().sum();
    if skipped.is_empty() {
        eprintln!("total: written {}, skipped 0, rejects {}", tally.n_written, tally.n_rejects);
    } else {
        eprintln!(
            "total: written {}, skipped {n_skipped} ({}), rejects {}",
            tally.n_written,
            skipped.join(", "),
            tally.n_rejects
        );
    }
    for reject in &tally.shown_rejects {
        eprintln!("  reject: {reject}");
    }
    let n_hidden = tally.n_rejects - tally.shown_rejects.len() as u64;
    if n_hidden > 0 {
        eprintln!(
            "  ... and {n_hidden} more rejects (watchfire import --dry-run --json lists them all)"
        );
    }
}

/// The one place `convert` meets the export writers of `watchfire_formats::write`.
mod writer_seam {
    use std::io::{self, Write};
    use std::time::{SystemTime, UNIX_EPOCH};

    use watchfire_formats::write::{self, WriteOptions, WriterKind};
    use watchfire_model::record::Record;
    use watchfire_model::stix::{Precision, Timestamp};

    /// What became of one record.
    pub enum Outcome {
        /// The record was written.
        Written,
        /// The export format cannot express the record, for this reason (`host event`).
        Skipped(String),
    }

    /// One export being written.
    pub trait RecordWriter {
        /// Writes what comes before the first record.
        fn begin(&mut self, out: &mut dyn Write) -> io::Result<()>;
        /// Writes one record, or says why the format skips it.
        fn write(&mut self, record: &Record, out: &mut dyn Write) -> io::Result<Outcome>;
        /// Writes what comes after the last record.
        fn finish(&mut self, out: &mut dyn Write) -> io::Result<()>;
    }

    /// Returns a writer of the export format `name`, or a message listing the known ones.
    pub fn writer_by_name(name: &str) -> Result<Box<dyn RecordWriter>, String> {
        let kind: WriterKind =
            name.parse().map_err(|error: write::UnknownWriter| error.to_string())?;
        // A clock before 1970 or past 2262 is no time to export at: fall back to the epoch.
        let unix_nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|since| i64::try_from(since.as_nanos()).ok())
            .unwrap_or(0);
        let options = WriteOptions::new(
            "watchfire",
            Timestamp::from_unix_nanos(unix_nanos, Precision::Millis),
        );
        Ok(Box::new(Adapter(kind.writer(&options))))
    }

    /// A `watchfire_formats::write::Writer` seen through [`RecordWriter`].
    struct Adapter(Box<dyn write::Writer>);

    impl RecordWriter for Adapter {
        fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
            self.0.begin(out)
        }

        fn write(&mut self, record: &Record, out: &mut dyn Write) -> io::Result<Outcome> {
            Ok(match self.0.write(out, record)? {
                write::Outcome::Written => Outcome::Written,
                write::Outcome::Skipped(reason) => Outcome::Skipped(reason.to_string()),
            })
        }

        fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
            self.0.finish(out)
        }
    }
}
