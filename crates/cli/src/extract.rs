//! `watchfire extract`: streams files (or stdin) through the extractor and prints one JSON line per hit.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Serialize;
use watchfire_model::extract::{self as extractor, ExtractOptions};

use crate::live::Live;

/// Bytes read per chunk; a chunk is cut after its last newline so no line is split.
const CHUNK_SIZE: usize = 4 << 20;

/// Arguments of `watchfire extract`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Find only literal observables: do not refang hxxp://, [.], (dot), [@] and the like.
    #[arg(long)]
    no_refang: bool,

    /// Files to read; standard input when none is given (or for `-`).
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// One output line, exactly these fields in this order.
#[derive(Serialize)]
struct Hit<'a> {
    kind: &'a str,
    value: &'a str,
    raw: &'a str,
    line: u64,
}

/// Runs `watchfire extract`.
pub fn run(args: &Args) -> Result<()> {
    let options = ExtractOptions { refang: !args.no_refang };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = extract_all(args, &options, &mut out)
        .and_then(|()| out.flush().map_err(anyhow::Error::from));
    match result {
        // A closed pipe (`watchfire extract log | head`) is the reader saying it has enough.
        Err(error) if is_broken_pipe(&error) => Ok(()),
        other => other,
    }
}

fn extract_all(args: &Args, options: &ExtractOptions, out: &mut impl Write) -> Result<()> {
    if args.files.is_empty() {
        return extract_stream(io::stdin().lock(), &Live::stdin(), options, out).context("stdin");
    }
    for path in &args.files {
        if path.as_os_str() == "-" {
            extract_stream(io::stdin().lock(), &Live::stdin(), options, out).context("stdin")?;
            continue;
        }
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let live = Live::of(&file);
        extract_stream(file, &live, options, out).with_context(|| format!("{}", path.display()))?;
    }
    Ok(())
}

/// Reads `input` in chunks cut at line ends and extracts each, so a file of any size streams.
/// What a live input (a pipe) gave is written out before a read that would wait.
fn extract_stream(
    mut input: impl Read,
    live: &Live,
    options: &ExtractOptions,
    out: &mut impl Write,
) -> Result<()> {
    let mut buffer = vec![0u8; CHUNK_SIZE];
    let mut filled = 0;
    let mut next_line = 1u64;
    loop {
        if filled == buffer.len() {
            // One line longer than the buffer: grow rather than split it.
            buffer.resize(buffer.len() * 2, 0);
        }
        let n_read = match input.read(&mut buffer[filled..]) {
            Ok(n_read) => n_read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error).context("read failed"),
        };
        filled += n_read;
        let at_end = n_read == 0;
        let chunk_end = if at_end {
            filled
        } else {
            match memchr::memrchr(b'\n', &buffer[..filled]) {
                Some(newline) => newline + 1,
                None => continue,
            }
        };
        next_line = extract_chunk(&buffer[..chunk_end], options, next_line, out)?;
        buffer.copy_within(chunk_end..filled, 0);
        filled -= chunk_end;
        if at_end {
            return Ok(());
        }
        if live.would_wait() {
            out.flush().context("cannot write output")?;
        }
    }
}

/// Extracts one chunk of whole lines starting at line `first_line`; returns the next line number.
fn extract_chunk(
    chunk: &[u8],
    options: &ExtractOptions,
    first_line: u64,
    out: &mut impl Write,
) -> Result<u64> {
    let mut write_error = None;
    extractor::extract(chunk, options, first_line, |hit| {
        if write_error.is_some() {
            return;
        }
        let line = Hit {
            kind: hit.observable.kind().as_str(),
            value: hit.observable.value(),
            raw: hit.raw,
            line: hit.line,
        };
        let written = serde_json::to_writer(&mut *out, &line)
            .map_err(io::Error::from)
            .and_then(|()| out.write_all(b"\n"));
        if let Err(error) = written {
            write_error = Some(error);
        }
    });
    if let Some(error) = write_error {
        return Err(error).context("cannot write output");
    }
    let n_newlines = memchr::memchr_iter(b'\n', chunk).count() as u64;
    Ok(first_line + n_newlines)
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
