//! Readers of real threat-feed formats and writers of blocklist formats.
//!
//! Every reader streams: it takes a `BufRead` and hands each [`Item`] (a record or a reject) to a
//! callback as soon as it has it, so a multi-GB feed is never held whole. One bad line is a
//! [`Reject`] naming the file, the line and the reason; the good records around it still come out.
//! A reader fails as a whole ([`Error`]) only when the input cannot be read at all.
//!
//! Invariant: this crate never touches the store; it turns bytes into `model` records and back.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod input;
pub mod time;

// Family modules, in groups (keep each group's lines together, one module per line):
// group lists
pub mod abusech;
pub mod blocklists;
pub mod csvmap;
mod json_elements;
pub mod plain;
pub mod spamhaus;
pub mod team_cymru;
// end lists

// group json
pub mod alienvault_otx;
pub mod json_stream;
pub mod misp;
pub mod openphish;
pub mod phishtank;
pub mod stix;
// end json

// group reports
pub mod cleanmx;
pub mod cybercrime_tracker;
pub mod freetext;
mod markup;
pub mod shadowserver;
// end reports

// group writers
pub mod write;
// end writers

// group catalogue
pub mod catalogue;
// end catalogue

use std::fmt;
use std::io::{self, BufRead};

use watchfire_model::record::Record;

/// One thing a reader found: a record, or a line it had to skip.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // Records are the common case: boxing each would cost an allocation.
pub enum Item {
    /// A normalised record.
    Record(Record),
    /// A line or element that could not be read, and why.
    Reject(Reject),
}

/// A line (or JSON element) that was skipped, with where and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Reject {
    /// The input's name, as the caller gave it in [`Context::file`].
    pub file: String,
    /// The 1-based line where the bad record starts.
    pub line: u64,
    /// Why it was skipped: lower-case, naming the field (`column 3: bad url: ...`).
    pub reason: String,
}

impl Reject {
    /// Returns a reject of `line` in `file`.
    pub fn new(file: &str, line: u64, reason: impl Into<String>) -> Reject {
        Reject { file: file.to_owned(), line, reason: reason.into() }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: line {}: {}", self.file, self.line, self.reason)
    }
}

/// What a reader knows about its input besides the bytes.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The input's name for rejects and errors (a path, `-` for stdin).
    pub file: String,
}

impl Context {
    /// Returns a context for the input named `file`.
    pub fn new(file: impl Into<String>) -> Context {
        Context { file: file.into() }
    }

    /// Returns the last path component of the input's name (`scan_rdp.csv`), which some formats
    /// use to tell report types apart.
    pub fn file_name(&self) -> &str {
        self.file.rsplit(['/', '\\']).next().unwrap_or(&self.file)
    }

    /// Returns a reject at `line` of this input.
    pub fn reject(&self, line: u64, reason: impl Into<String>) -> Item {
        Item::Reject(Reject::new(&self.file, line, reason))
    }
}

/// Why a whole input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading failed.
    #[error("{file}: read failed: {source}")]
    Io {
        /// The input's name.
        file: String,
        /// The I/O error.
        source: io::Error,
    },
    /// The input is not of the format, or is damaged beyond single lines (a bad archive).
    #[error("{file}: {reason}")]
    Input {
        /// The input's name.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// No format of that name, or none recognised from the content.
    #[error("{reason}; known formats: {known}")]
    UnknownFormat {
        /// What was asked or seen.
        reason: String,
        /// The known format names, comma-separated.
        known: String,
    },
}

impl Error {
    /// Returns an I/O error for `file`.
    pub fn io(file: &str, source: io::Error) -> Error {
        Error::Io { file: file.to_owned(), source }
    }

    /// Returns an input error for `file`.
    pub fn input(file: &str, reason: impl Into<String>) -> Error {
        Error::Input { file: file.to_owned(), reason: reason.into() }
    }

    fn too_large(file: &str) -> Error {
        Error::input(
            file,
            format!("decompressed input is over the {}-byte cap", input::MAX_DECOMPRESSED),
        )
    }
}

/// The signature every reader has: read `input` to the end, handing each item to `on_item`.
pub type ReadFn = fn(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error>;

/// A readable format: its name, what it is, how to read it, and how to recognise it.
#[derive(Clone, Copy)]
pub struct Format {
    /// The stable name used by `--format` (`abusech-urlhaus`, `stix`, `shadowserver`).
    pub name: &'static str,
    /// One line on what it reads, for `--help` and error messages.
    pub summary: &'static str,
    /// The reader.
    pub read: ReadFn,
    /// Recognises the format from the first bytes (up to [`DETECT_BYTES`], decompressed, no BOM)
    /// and the file name; `None` for formats that are only chosen by name.
    pub detect: Option<fn(head: &[u8], file_name: &str) -> bool>,
}

impl fmt::Debug for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Format").field("name", &self.name).finish_non_exhaustive()
    }
}

/// How many leading bytes [`detect`] looks at.
pub const DETECT_BYTES: usize = 8192;

/// Every readable format, in detection order: specific formats first, generic ones (plain lists,
/// free text) last, so the first whose `detect` says yes is the most specific.
pub fn formats() -> impl Iterator<Item = &'static Format> {
    FAMILIES.iter().flat_map(|family| family.iter())
}

/// The per-family format lists. Each family module exports `pub const FORMATS: &[Format]`.
const FAMILIES: &[&[Format]] = &[
    // Specific formats first. Each group adds `module::FORMATS,` lines between its markers.
    // group json
    stix::FORMATS,
    misp::FORMATS,
    alienvault_otx::FORMATS,
    phishtank::FORMATS,
    openphish::FORMATS,
    // end json

    // group reports
    cleanmx::FORMATS,
    cybercrime_tracker::FORMATS,
    freetext::FORMATS,
    shadowserver::FORMATS,
    // end reports

    // group lists (the generic plain-list formats go last in this group)
    abusech::FORMATS,
    spamhaus::FORMATS,
    blocklists::FORMATS,
    team_cymru::FORMATS,
    plain::FORMATS,
    // end lists
];

/// Returns the format called `name`, or an error listing the known ones.
pub fn format_by_name(name: &str) -> Result<&'static Format, Error> {
    formats().find(|format| format.name == name).ok_or_else(|| Error::UnknownFormat {
        reason: format!("unknown format {name:?}"),
        known: known_format_names(),
    })
}

/// Recognises the format of an input from its first bytes and its file name.
pub fn detect(head: &[u8], file_name: &str) -> Result<&'static Format, Error> {
    let head = &head[..head.len().min(DETECT_BYTES)];
    formats().find(|format| format.detect.is_some_and(|detect| detect(head, file_name))).ok_or_else(
        || Error::UnknownFormat {
            reason: format!("cannot recognise the format of {file_name}; name one with --format"),
            known: known_format_names(),
        },
    )
}

fn known_format_names() -> String {
    formats().map(|format| format.name).collect::<Vec<_>>().join(", ")
}
