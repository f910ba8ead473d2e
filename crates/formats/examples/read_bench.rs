//! Times one reader over one file through the real registry path (`format_by_name`, then
//! `input::open` of the file, then the format's `read`), single-threaded, for
//! `cargo xtask bench-formats`.
//!
//! Usage: `read_bench FORMAT FILE RUNS`. Prints one line per run: `records rejects seconds
//! cpu_seconds`, where the time covers opening the file, reading it to the end and dropping every
//! item, and the CPU time is the thread's time on a CPU over the same span (from
//! `/proc/thread-self/schedstat`; `-1` where that file is missing), which a busy machine does not
//! inflate.

use std::fs::File;
use std::process::ExitCode;
use std::time::Instant;

use watchfire_formats::{Context, Item, format_by_name, input};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [format_name, path, runs] = args.as_slice() else {
        eprintln!("usage: read_bench FORMAT FILE RUNS");
        return ExitCode::FAILURE;
    };
    match bench(format_name, path, runs) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("read_bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn bench(format_name: &str, path: &str, runs: &str) -> Result<(), String> {
    let runs: u32 = runs.parse().map_err(|_| format!("bad run count {runs:?}"))?;
    let format = format_by_name(format_name).map_err(|error| error.to_string())?;
    let context = Context::new(path);
    for _ in 0..runs {
        let started = Instant::now();
        let cpu_started = thread_cpu_nanos();
        let file = File::open(path).map_err(|error| format!("cannot open {path}: {error}"))?;
        let mut reader = input::open(path, file).map_err(|error| error.to_string())?;
        let (mut n_records, mut n_rejects) = (0u64, 0u64);
        let mut first_reject = None;
        (format.read)(&mut reader, &context, &mut |item| match item {
            Item::Record(_) => n_records += 1,
            Item::Reject(reject) => {
                n_rejects += 1;
                first_reject.get_or_insert(reject);
            }
        })
        .map_err(|error| error.to_string())?;
        let seconds = started.elapsed().as_secs_f64();
        let cpu_seconds = match (cpu_started, thread_cpu_nanos()) {
            (Some(start), Some(end)) => end.saturating_sub(start) as f64 / 1e9,
            _ => -1.0,
        };
        if let Some(reject) = first_reject {
            eprintln!("read_bench: first reject: {reject}");
        }
        println!("{n_records} {n_rejects} {seconds:.6} {cpu_seconds:.6}");
    }
    Ok(())
}

/// Returns the nanoseconds this thread has run on a CPU (Linux).
fn thread_cpu_nanos() -> Option<u64> {
    let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    schedstat.split_whitespace().next()?.parse().ok()
}
