//! Writers of export formats: STIX 2.1 bundles, MISP events, CSV, JSON lines, plain lists, hosts
//! files, Suricata and Snort rules, Suricata IP reputation lists and datasets, the Zeek Intel framework, DNS
//! response policy zones and nftables scripts.
//!
//! Every writer streams: [`Writer::begin`] writes what comes before the records, [`Writer::write`]
//! writes one record as soon as it has it, and [`Writer::finish`] closes the document. No writer
//! holds the records; the state a writer keeps is bounded by something other than the record
//! count, and each module says what it is (STIX: which of the five TLP markings and which malware
//! families were written; MISP: the strictest TLP seen; Suricata and Snort: the next sid).
//!
//! A record a format cannot express (a host event in a blocklist, a hash in a firewall set, a STIX
//! pattern in a list of values) is skipped and counted by [`SkipReason`] in the [`Summary`].
//! Writers do not deduplicate: the caller exports from a store that already has, and each format
//! that would reject a repeat (none of the consumers here do) would say so in its module doc.

mod csv;
mod hosts;
mod jsonl;
mod misp;
mod nftables;
mod rpz;
mod snort;
mod stix;
mod suricata;
mod text;
mod zeek;

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use watchfire_model::record::{IndicatorRecord, Record, Subject};
use watchfire_model::stix::Timestamp;
use watchfire_model::{Observable, ObservableKind};

pub use self::stix::StixConverter;
pub use self::suricata::iprep_categories;

/// A format writer: the seam every export format implements.
pub trait Writer {
    /// Writes what comes before the first record (a header, the start of a JSON document).
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()>;

    /// Writes one record, or says why the format cannot express it.
    fn write(&mut self, out: &mut dyn Write, record: &Record) -> io::Result<Outcome>;

    /// Writes what comes after the last record (closing brackets, trailing sets).
    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()>;
}

/// What became of one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The record was written.
    Written,
    /// The record was skipped, for this reason.
    Skipped(SkipReason),
}

/// Why a writer skipped a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// A known-benign entry, which no export carries.
    Benign,
    /// A second copy of something the format holds once (a TLP marking definition in STIX).
    Duplicate,
    /// A host event, which only the JSON lines export carries.
    Event,
    /// A feed definition, which only the JSON lines export carries.
    Feed,
    /// An observable of a kind the format has no way to express (a hash in nftables).
    Kind(ObservableKind),
    /// A STIX pattern that is not a single observable.
    Pattern,
    /// A STIX object kept as it came, which only STIX and JSON lines carry.
    Stix,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Benign => f.write_str("benign entry"),
            SkipReason::Duplicate => f.write_str("duplicate"),
            SkipReason::Event => f.write_str("host event"),
            SkipReason::Feed => f.write_str("feed definition"),
            SkipReason::Kind(kind) => write!(f, "{} observable", kind.as_str()),
            SkipReason::Pattern => f.write_str("stix pattern"),
            SkipReason::Stix => f.write_str("stix object"),
        }
    }
}

/// How many records an export wrote and skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records written.
    pub written: u64,
    /// Records skipped, by reason.
    pub skipped: BTreeMap<SkipReason, u64>,
}

impl Summary {
    /// Counts one record's outcome.
    pub fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Written => self.written += 1,
            Outcome::Skipped(reason) => *self.skipped.entry(reason).or_default() += 1,
        }
    }

    /// Returns the number of records skipped for any reason.
    pub fn n_skipped(&self) -> u64 {
        self.skipped.values().sum()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "written {}", self.written)?;
        for (position, (reason, count)) in self.skipped.iter().enumerate() {
            let separator = if position == 0 { ", skipped: " } else { ", " };
            write!(f, "{separator}{reason} {count}")?;
        }
        Ok(())
    }
}

/// What every writer may need besides the records.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// Who produces the export: the STIX identity, the MISP organisation, rule messages and Zeek's
    /// `meta.source`. It also seeds the deterministic STIX and MISP ids.
    pub source: String,
    /// When the export is made: the default `created` of STIX indicators, the MISP event date,
    /// the RPZ serial, and the seed of the bundle and event ids.
    pub created: Timestamp,
    /// The first Suricata/Snort rule id; rules count up from it.
    pub sid_base: u32,
    /// The origin of the RPZ zone (`rpz.watchfire.example`), without a trailing dot.
    pub rpz_zone: String,
    /// The nftables table name (`watchfire`).
    pub nft_table: String,
    /// The Snort rule syntax to write.
    pub snort_version: SnortVersion,
}

/// The Snort rule syntax: Snort 3 uses sticky buffers where 2.9 uses content modifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnortVersion {
    /// Snort 2.9.
    V2_9,
    /// Snort 3.
    V3,
}

impl WriteOptions {
    /// Returns the options for an export by `source` at `created`, with the default sid base
    /// (9 000 000, in the range left to local rules), RPZ zone, nftables table and Snort 3.
    pub fn new(source: impl Into<String>, created: Timestamp) -> WriteOptions {
        WriteOptions {
            source: source.into(),
            created,
            sid_base: 9_000_000,
            rpz_zone: "rpz.watchfire.invalid".to_owned(),
            nft_table: "watchfire".to_owned(),
            snort_version: SnortVersion::V3,
        }
    }
}

/// Every export format by name.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WriterKind {
    /// CSV with a header row, one indicator per row.
    Csv,
    /// A hosts file sending each domain to `0.0.0.0`.
    Hosts,
    /// One JSON object per record, every record kind.
    Jsonl,
    /// One MISP event with an attribute per indicator.
    Misp,
    /// An nftables script: IPv4 and IPv6 sets and drop rules.
    Nftables,
    /// A DNS response policy zone.
    Rpz,
    /// Snort rules (2.9 and 3 both read them).
    Snort,
    /// A STIX 2.1 bundle.
    Stix,
    /// Suricata rules.
    Suricata,
    /// A Suricata dataset of domains (`type string`, base64 lines).
    SuricataDatasetDomains,
    /// A Suricata dataset of SHA-256 hashes (`type sha256`), also a `filesha256:` list.
    SuricataDatasetSha256,
    /// A Suricata IP reputation list (`ip,category,score`).
    SuricataIprep,
    /// One observable value per line.
    Text,
    /// A Zeek Intel framework file.
    Zeek,
}

impl WriterKind {
    /// Every export format, in name order.
    pub const ALL: [WriterKind; 14] = [
        WriterKind::Csv,
        WriterKind::Hosts,
        WriterKind::Jsonl,
        WriterKind::Misp,
        WriterKind::Nftables,
        WriterKind::Rpz,
        WriterKind::Snort,
        WriterKind::Stix,
        WriterKind::Suricata,
        WriterKind::SuricataDatasetDomains,
        WriterKind::SuricataDatasetSha256,
        WriterKind::SuricataIprep,
        WriterKind::Text,
        WriterKind::Zeek,
    ];

    /// Returns the stable name used by `--to`, `suricata-iprep`.
    pub fn as_str(self) -> &'static str {
        match self {
            WriterKind::Csv => "csv",
            WriterKind::Hosts => "hosts",
            WriterKind::Jsonl => "jsonl",
            WriterKind::Misp => "misp",
            WriterKind::Nftables => "nftables",
            WriterKind::Rpz => "rpz",
            WriterKind::Snort => "snort",
            WriterKind::Stix => "stix",
            WriterKind::Suricata => "suricata",
            WriterKind::SuricataDatasetDomains => "suricata-dataset-domains",
            WriterKind::SuricataDatasetSha256 => "suricata-dataset-sha256",
            WriterKind::SuricataIprep => "suricata-iprep",
            WriterKind::Text => "text",
            WriterKind::Zeek => "zeek",
        }
    }

    /// Returns a new writer of this format.
    pub fn writer(self, options: &WriteOptions) -> Box<dyn Writer> {
        let options = options.clone();
        match self {
            WriterKind::Csv => Box::new(csv::CsvWriter),
            WriterKind::Hosts => Box::new(hosts::HostsWriter::new(options)),
            WriterKind::Jsonl => Box::new(jsonl::JsonlWriter),
            WriterKind::Misp => Box::new(misp::MispWriter::new(options)),
            WriterKind::Nftables => Box::new(nftables::NftablesWriter::new(options)),
            WriterKind::Rpz => Box::new(rpz::RpzWriter::new(options)),
            WriterKind::Snort => Box::new(snort::SnortWriter::new(options)),
            WriterKind::Stix => Box::new(stix::StixWriter::new(options)),
            WriterKind::Suricata => Box::new(suricata::SuricataWriter::new(options)),
            WriterKind::SuricataDatasetDomains => {
                Box::new(suricata::DatasetWriter::new(ObservableKind::Domain))
            }
            WriterKind::SuricataDatasetSha256 => {
                Box::new(suricata::DatasetWriter::new(ObservableKind::Sha256))
            }
            WriterKind::SuricataIprep => Box::new(suricata::IprepWriter),
            WriterKind::Text => Box::new(text::TextWriter),
            WriterKind::Zeek => Box::new(zeek::ZeekWriter::new(options)),
        }
    }
}

impl fmt::Display for WriterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a name that is no [`WriterKind`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown export format {0:?}; known formats: {known}", known = known_writer_names())]
pub struct UnknownWriter(pub String);

impl FromStr for WriterKind {
    type Err = UnknownWriter;

    fn from_str(name: &str) -> Result<WriterKind, UnknownWriter> {
        WriterKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| UnknownWriter(name.to_owned()))
    }
}

fn known_writer_names() -> String {
    WriterKind::ALL.map(WriterKind::as_str).join(", ")
}

/// Writes `records` in the format `kind` to `out`, from [`Writer::begin`] to [`Writer::finish`],
/// and returns what was written and skipped.
pub fn write_records<'a>(
    kind: WriterKind,
    options: &WriteOptions,
    out: &mut dyn Write,
    records: impl IntoIterator<Item = &'a Record>,
) -> io::Result<Summary> {
    let mut writer = kind.writer(options);
    let mut summary = Summary::default();
    writer.begin(out)?;
    for record in records {
        summary.count(writer.write(out, record)?);
    }
    writer.finish(out)?;
    Ok(summary)
}

/// Returns the indicator and its observable, or why a list format skips the record.
fn indicator_observable(record: &Record) -> Result<(&IndicatorRecord, &Observable), SkipReason> {
    let indicator = indicator_of(record)?;
    match &indicator.subject {
        Subject::Observable(observable) => Ok((indicator, observable)),
        Subject::Pattern(_) => Err(SkipReason::Pattern),
    }
}

/// Returns the indicator, or why a format of indicators skips the record.
fn indicator_of(record: &Record) -> Result<&IndicatorRecord, SkipReason> {
    match record {
        Record::Indicator(indicator) => Ok(indicator),
        Record::Benign(_) => Err(SkipReason::Benign),
        Record::Event(_) => Err(SkipReason::Event),
        Record::Feed(_) => Err(SkipReason::Feed),
        // `Record` is non-exhaustive: a record kind added later counts as a passthrough object
        // until its writers learn it.
        _ => Err(SkipReason::Stix),
    }
}

/// Turns the result of the helpers above into an outcome, writing with `write` on success.
fn skip_or<T>(
    found: Result<T, SkipReason>,
    write: impl FnOnce(T) -> io::Result<()>,
) -> io::Result<Outcome> {
    match found {
        Ok(found) => write(found).map(|()| Outcome::Written),
        Err(reason) => Ok(Outcome::Skipped(reason)),
    }
}

/// The kind name of an indicator's subject for the tabular exports: the observable kind, or
/// `stix-pattern`.
fn subject_kind(subject: &Subject) -> &'static str {
    match subject {
        Subject::Observable(observable) => observable.kind().as_str(),
        Subject::Pattern(_) => "stix-pattern",
    }
}

/// The text of an indicator's subject: the canonical value or the printed pattern.
fn subject_value(subject: &Subject) -> String {
    match subject {
        Subject::Observable(observable) => observable.value().to_owned(),
        Subject::Pattern(pattern) => pattern.to_string(),
    }
}

/// Returns a category name for messages: the record's category or `malicious`.
fn category_name(indicator: &IndicatorRecord) -> &'static str {
    indicator.category.map_or("malicious", |category| category.as_str())
}

#[cfg(test)]
mod tests;
