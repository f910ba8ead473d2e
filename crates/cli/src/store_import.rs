//! `watchfire import` without `--dry-run`: parse each file and append what it holds to the store.
//!
//! A reader thread parses the file, turns records into facts (`ingest`) and prepares them for
//! the store (`Batch::prepare`: serialising, digests, claims), in batches of [`BATCH`]; the main
//! thread appends each batch (one durable transaction) while the next one is prepared. On a terminal, a progress line shows how far into the file the import is.
//!
//! A store error (locked, full, corrupt, newer schema) stops the whole import with a non-zero
//! exit: every batch appended before it is durable, nothing after it was written.

use std::cell::{Cell, RefCell};
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use watchfire_feeds::{Ingest, Tally};
use watchfire_formats::{Format, Item, Reject};
use watchfire_model::stix::{Precision, Timestamp};
use watchfire_model::tlp::Tlp;
use watchfire_store::{AppendOutcome, Batch, Fact, Store};

use crate::import::{self, FormatChoice, JsonReject, Watch};

/// Facts per append. Each commit rewrites the index pages it touched, and index keys come in
/// random order, so fewer, larger commits write far less (1 M indicators: 72 s at 10 000, 14 s
/// at 100 000). At most three batches are in memory: one filling, one queued, one being written.
pub const BATCH: usize = 100_000;

/// How the records of a file are stored.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// The source name, or `None` for the format's name.
    pub source: Option<String>,
    /// The TLP of records that carry none.
    pub tlp: Tlp,
    /// Print JSON lines instead of the readable report.
    pub json: bool,
}

/// Why a file's import failed.
#[derive(Debug)]
pub enum ImportError {
    /// The file could not be read; the other files still are.
    File(anyhow::Error),
    /// The store failed; the import stops.
    Store(watchfire_store::Error),
}

enum Message {
    Batch(Result<Batch, watchfire_store::Error>),
    Reject(Reject),
}

/// Imports one file into `store`, printing its report (and, with `--json`, its rejects) to `out`.
pub fn store_file(
    out: &mut impl Write,
    store: &dyn Store,
    choice: FormatChoice,
    path: &Path,
    options: &StoreOptions,
) -> Result<(), ImportError> {
    let watch = Arc::new(Watch::default());
    let total_bytes = if path.as_os_str() == "-" {
        None
    } else {
        std::fs::metadata(path).ok().map(|metadata| metadata.len())
    };
    let mut progress = Progress::new(&path.display().to_string(), total_bytes);
    let (sender, receiver) = mpsc::sync_channel::<Message>(1);
    let mut stored = AppendOutcome::default();
    let mut store_error = None;
    let mut write_error = None;
    let (tally, read) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| read_facts(choice, path, options, &watch, sender));
        for message in &receiver {
            match message {
                Message::Batch(batch) => match batch.and_then(|batch| store.append_prepared(batch))
                {
                    Ok(outcome) => {
                        stored.new_versions += outcome.new_versions;
                        stored.unchanged += outcome.unchanged;
                        stored.last_seq = outcome.last_seq;
                    }
                    Err(error) => {
                        store_error = Some(error);
                        watch.abort.store(true, Ordering::Relaxed);
                        break;
                    }
                },
                Message::Reject(reject) => {
                    if write_error.is_none() {
                        write_error =
                            import::write_json_line(out, &JsonReject { reject: &reject }).err();
                    }
                }
            }
            progress.draw(&watch, stored.new_versions);
        }
        // Unblocks a reader waiting to send, so it sees the channel closed and stops.
        drop(receiver);
        reader.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    progress.clear();
    if let Some(error) = store_error {
        return Err(ImportError::Store(error));
    }
    let (name, format) = read.map_err(ImportError::File)?;
    if let Some(error) = write_error {
        return Err(ImportError::File(
            anyhow::Error::new(error).context("cannot write to standard output"),
        ));
    }
    let written = import::write_summary(out, options.json, &name, format, &tally, Some(&stored));
    written.context("cannot write to standard output").map_err(ImportError::File)
}

/// The facts not yet sent to the main thread, and the channel to it.
struct Outbox {
    batch: Vec<Fact>,
    sender: mpsc::SyncSender<Message>,
    /// The main thread stopped listening.
    closed: bool,
}

impl Outbox {
    // Prepares the facts gathered (here, so that it overlaps the writing of the previous batch)
    // and sends them as one batch.
    fn send_batch(&mut self) {
        if self.closed || self.batch.is_empty() {
            return;
        }
        let prepared = Batch::prepare(&self.batch);
        self.batch.clear();
        self.closed = self.sender.send(Message::Batch(prepared)).is_err();
    }
}

// Runs in the reader thread: parses `path`, sends batches of facts and (for JSON) rejects. A live
// input (a pipe) also sends what it has gathered before a read that would wait, so what a feed
// writes into it is stored now, not when a batch fills or the pipe closes.
fn read_facts(
    choice: FormatChoice,
    path: &Path,
    options: &StoreOptions,
    watch: &Arc<Watch>,
    sender: mpsc::SyncSender<Message>,
) -> (Tally, Result<(String, &'static Format)>) {
    let now = Timestamp::from_unix_nanos(
        watchfire_store::now_micros().saturating_mul(1000),
        Precision::Millis,
    );
    let detected: Cell<Option<&'static Format>> = Cell::new(None);
    let mut ingest: Option<Ingest> = None;
    let mut tally = Tally::default();
    let outbox = Rc::new(RefCell::new(Outbox {
        batch: Vec::with_capacity(BATCH + 16),
        sender,
        closed: false,
    }));
    // Called from inside a read, never while an item is being handled: the borrows never meet.
    let on_idle: import::OnIdle = {
        let outbox = Rc::clone(&outbox);
        Rc::new(move || outbox.borrow_mut().send_batch())
    };
    let result = import::read_file_watched(
        choice,
        path,
        Some((Arc::clone(watch), on_idle)),
        &mut |format| detected.set(Some(format)),
        &mut |item| {
            let mut outbox = outbox.borrow_mut();
            match item {
                Item::Record(record) => {
                    tally.count(&record);
                    if outbox.closed {
                        return;
                    }
                    let ingest = ingest.get_or_insert_with(|| {
                        let format_name = detected.get().map_or("import", |format| format.name);
                        let source = options.source.as_deref().unwrap_or(format_name);
                        Ingest::new(source, options.tlp, &now)
                    });
                    ingest.facts(&record, &mut outbox.batch);
                    if outbox.batch.len() >= BATCH {
                        outbox.send_batch();
                    }
                }
                Item::Reject(reject) => {
                    if options.json && !outbox.closed {
                        outbox.closed =
                            outbox.sender.send(Message::Reject(reject.clone())).is_err();
                    }
                    tally.reject(reject);
                }
            }
        },
    );
    // The last batch; dropping the outbox (the reader's `on_idle` is gone with the read) closes
    // the channel, which ends the main thread's loop.
    outbox.borrow_mut().send_batch();
    drop(outbox);
    (tally, result)
}

/// The progress line on a terminal: how far into the file, and what was stored.
struct Progress {
    enabled: bool,
    name: String,
    total_bytes: Option<u64>,
    started: Instant,
    last_drawn: Option<Instant>,
}

impl Progress {
    fn new(name: &str, total_bytes: Option<u64>) -> Progress {
        Progress {
            enabled: io::stderr().is_terminal(),
            name: name.to_owned(),
            total_bytes,
            started: Instant::now(),
            last_drawn: None,
        }
    }

    fn draw(&mut self, watch: &Watch, new_versions: u64) {
        if !self.enabled
            || self.last_drawn.is_some_and(|at| at.elapsed() < Duration::from_millis(200))
        {
            return;
        }
        self.last_drawn = Some(Instant::now());
        let bytes = watch.bytes.load(Ordering::Relaxed);
        let rate = new_versions as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        let bar = match self.total_bytes {
            Some(total) if total > 0 => {
                let done = (bytes.min(total) * 30 / total) as usize;
                format!(
                    "[{}{}] {:>3}% ",
                    "#".repeat(done),
                    "-".repeat(30 - done),
                    bytes * 100 / total
                )
            }
            _ => format!("{} MB ", bytes / 1_000_000),
        };
        eprint!("\r{}: {bar}{new_versions} stored, {rate:.0}/s   ", self.name);
    }

    fn clear(&self) {
        if self.enabled && self.last_drawn.is_some() {
            eprint!("\r\x1b[2K");
        }
    }
}
