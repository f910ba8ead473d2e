//! The way into the node: reading provider data (a file, an upload, a scheduled pull) with the
//! `formats` readers and turning its records into facts for the store.
//!
//! `formats` parses and never touches the store; `store` stores and never parses. This crate is
//! the step between them that every entry point shares: `watchfire import`, the REST import of
//! the server, and the pulls of the sources a node subscribes to: http feeds, MISP feeds and
//! TAXII 2.1 collections ([`source`], [`pull`], [`taxii`]), run on a schedule by [`Scheduler`].

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod fetch;
mod ingest;
pub mod pull;
mod schedule;
pub mod source;
pub mod taxii;

use std::io::{BufRead, Cursor, Read};

use std::collections::BTreeMap;

use watchfire_formats::{self as formats, Context, DETECT_BYTES, Format, Item, Reject, input};
use watchfire_model::record::{Record, Subject};

/// How many rejects a summary keeps per input; the rest are counted.
pub const SHOWN_REJECTS: usize = 20;

pub use crate::ingest::Ingest;
pub use crate::pull::{Options, Report, pull_now};
pub use crate::schedule::{Pulled, Scheduler};
pub use crate::source::{Auth, Health, Source, SourceKind, SourceState};

/// An error of the sources and their pulls. Each names the source and the reason.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A pull failed: the fetch, the response (corrupt, wrong format, malformed envelope), or
    /// storing it. Nothing of the failed response is stored.
    #[error("{name}: {reason}")]
    Pull {
        /// The source.
        name: String,
        /// Why.
        reason: String,
    },
    /// The source is being pulled by another thread of this process.
    #[error("{0}: a pull is already running")]
    Busy(String),
    /// No source has this name.
    #[error("no source named {0:?}")]
    UnknownSource(String),
    /// A source's configuration is invalid, or its name is taken.
    #[error("source {name:?}: {reason}")]
    InvalidSource {
        /// The source.
        name: String,
        /// Why.
        reason: String,
    },
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] watchfire_store::Error),
}

/// Reads one input named `name`: unpacks it (gzip, zip; capped by `formats::input`), picks its
/// format (`format`, or detected from its head when `None`), tells `on_format` the format before
/// the first item, and hands every record and reject to `on_item`. Returns the format used.
pub fn read(
    name: &str,
    raw: Box<dyn Read>,
    format: Option<&'static Format>,
    on_format: &mut dyn FnMut(&'static Format),
    on_item: &mut dyn FnMut(Item),
) -> Result<&'static Format, formats::Error> {
    let mut reader = input::open(name, raw)?;
    let context = Context::new(name);
    if let Some(format) = format {
        on_format(format);
        (format.read)(&mut reader, &context, on_item)?;
        return Ok(format);
    }
    // Peek the decompressed head, then read it again in front of the rest of the input.
    let mut head = Vec::with_capacity(DETECT_BYTES);
    (&mut reader)
        .take(DETECT_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|error| formats::Error::io(name, error))?;
    let format = formats::detect(&head, context.file_name())?;
    on_format(format);
    let mut rejoined: Box<dyn BufRead> = Box::new(Cursor::new(head).chain(reader));
    (format.read)(&mut rejoined, &context, on_item)?;
    Ok(format)
}

/// What reading one file gave, for its summary.
#[derive(Debug, Default)]
pub struct Tally {
    /// Records read.
    pub n_records: u64,
    /// Rejected lines or objects.
    pub n_rejects: u64,
    /// Records per kind (see [`record_kind`]).
    pub by_kind: BTreeMap<String, u64>,
    /// The first [`SHOWN_REJECTS`] rejects.
    pub shown_rejects: Vec<Reject>,
}

impl Tally {
    /// Counts a record by its kind.
    pub fn count(&mut self, record: &Record) {
        self.n_records += 1;
        *self.by_kind.entry(record_kind(record)).or_default() += 1;
    }

    /// Counts a reject, keeping the first few for the readable report.
    pub fn reject(&mut self, reject: Reject) {
        self.n_rejects += 1;
        if self.shown_rejects.len() < SHOWN_REJECTS {
            self.shown_rejects.push(reject);
        }
    }
}

/// Returns the `by_kind` key of a record: the observable kind of an indicator (`ipv4`, `url`,
/// ...), `pattern` for an indicator with a STIX pattern, `event`, `benign`, `feed`, and
/// `stix:<type>` for a STIX object kept as it came.
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
