//! One pull of one source, and what it does to the source's health.
//!
//! - An http feed is fetched with a conditional GET; a `304` stores nothing. The whole response
//!   is read and parsed before anything is stored, and its facts go in one `append`: a response
//!   that cannot be read to its end (a truncated archive, an unknown format) or whose every line
//!   is rejected stores nothing, and the source's health says why. The validators are kept only
//!   with a stored response, so a failed one is fetched again.
//! - A MISP feed: the manifest (conditional GET too), then each event whose manifest timestamp
//!   is newer than the one stored, one `append` per event, the event's timestamp kept after it.
//!   A bad event fails the pull (the health names it) and is fetched again next time; the good
//!   ones stay stored.
//! - A TAXII collection: see [`crate::taxii`].
//!
//! After each pull, [`record`] updates the health: a success schedules the next pull one interval
//! later; a failure counts, and retries sooner at first, then, after
//! [`Options::circuit_after`] failures in a row, the circuit opens: the source waits a cool-down
//! that doubles with each further failure.

use std::collections::BTreeSet;
use std::io::Cursor;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use watchfire_formats::misp::{self, ManifestEvent};
use watchfire_formats::{Context, Format, Item, Reject};
use watchfire_model::record::Record;
use watchfire_model::stix::{Precision, Timestamp};
use watchfire_store::{AppendOutcome, Fact, Store};

use crate::fetch::{self, Client, Fetched, Validators};
use crate::source::{self, Source, SourceKind, SourceState};
use crate::{Error, Ingest, Tally};

/// The limits and timings of pulls.
#[derive(Clone, Debug)]
pub struct Options {
    /// Retries of a request that failed transiently (transport error, 5xx, 429).
    pub retries: u32,
    /// The wait before the first retry; it doubles with each retry (at most a minute).
    pub retry_delay: Duration,
    /// The wait before pulling a failed source again; it doubles with each failure in a row, up
    /// to the source's interval.
    pub failure_backoff: Duration,
    /// Failures in a row that open the circuit.
    pub circuit_after: u32,
    /// The first cool-down of an open circuit; it doubles with each further failure.
    pub circuit_cooldown: Duration,
    /// The longest cool-down.
    pub max_cooldown: Duration,
    /// The most bytes of a feed response, a MISP manifest or event (before decompression).
    pub body_bytes: u64,
    /// The most bytes of one TAXII envelope.
    pub envelope_bytes: u64,
    /// Objects asked for per TAXII page (`limit`).
    pub page_size: usize,
    /// TAXII pages per run; the next run goes on from the stored cursor.
    pub max_pages: usize,
    /// MISP events fetched per run; the next run goes on with the rest.
    pub max_events: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            retries: 2,
            retry_delay: Duration::from_secs(2),
            failure_backoff: Duration::from_secs(60),
            circuit_after: 5,
            circuit_cooldown: Duration::from_secs(3600),
            max_cooldown: Duration::from_secs(86_400),
            body_bytes: 256 << 20,
            envelope_bytes: 64 << 20,
            page_size: 1000,
            max_pages: 100,
            max_events: 1000,
        }
    }
}

/// What one successful pull did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The source.
    pub source: String,
    /// Whether the source said nothing changed (`304`, or no new MISP event or TAXII object).
    pub not_modified: bool,
    /// Records (or TAXII objects) read.
    pub records: u64,
    /// Rejected lines or objects.
    pub rejects: u64,
    /// Versions added to the log.
    pub new_versions: u64,
    /// Facts already known.
    pub unchanged: u64,
    /// Requests that brought data: 1 for a feed, the events fetched, the TAXII pages.
    pub fetched: u64,
    /// Whether the run stopped at its cap with more to fetch (the next run goes on).
    pub more: bool,
    /// The first rejects.
    pub shown_rejects: Vec<Reject>,
}

impl Report {
    pub(crate) fn new(source: &str) -> Report {
        Report { source: source.to_owned(), ..Report::default() }
    }

    pub(crate) fn add(&mut self, tally: &Tally, outcome: &AppendOutcome) {
        self.records += tally.n_records;
        self.rejects += tally.n_rejects;
        self.new_versions += outcome.new_versions;
        self.unchanged += outcome.unchanged;
        let room = crate::SHOWN_REJECTS.saturating_sub(self.shown_rejects.len());
        self.shown_rejects.extend(tally.shown_rejects.iter().take(room).cloned());
    }
}

/// Pulls the source `name` now, whether due or not (`watchfire feeds run`, the REST API), and
/// records its health. A failed pull is recorded, then returned as [`Error::Pull`].
pub fn pull_now(store: &dyn Store, name: &str, options: &Options) -> Result<Report, Error> {
    let source = source::get(store, name)?;
    run_and_record(store, &source, options, watchfire_store::now_micros())
}

/// Pulls `source` with its credentials from the environment and records the outcome in its health.
pub(crate) fn run_and_record(
    store: &dyn Store,
    source: &Source,
    options: &Options,
    now: i64,
) -> Result<Report, Error> {
    run_and_record_as(store, source, options, now, source.auth.header())
}

/// Pulls `source` sending `auth` (a header, or why it could not be had) and records the outcome
/// in its health.
pub(crate) fn run_and_record_as(
    store: &dyn Store,
    source: &Source,
    options: &Options,
    now: i64,
    auth: Result<Option<(String, String)>, String>,
) -> Result<Report, Error> {
    let _busy = Busy::claim(store, &source.name)?;
    let mut state = source::state(store, &source.name)?;
    let pulled = match auth {
        Ok(auth) => pull_as(store, source, &mut state, options, auth),
        Err(reason) => Err(Error::Pull { name: source.name.clone(), reason }),
    };
    let ended = watchfire_store::now_micros().max(now);
    let outcome = match &pulled {
        Ok(report) => Ok(report),
        // The health belongs to the source: its reason without the source's name in front.
        Err(Error::Pull { reason, .. }) => Err(reason.clone()),
        Err(error) => Err(error.to_string()),
    };
    record(&mut state, source, options, ended, outcome);
    source::save_state(store, &source.name, &state)?;
    match &pulled {
        Ok(report) => tracing::info!(
            source = source.name,
            records = report.records,
            rejects = report.rejects,
            new_versions = report.new_versions,
            not_modified = report.not_modified,
            "pulled"
        ),
        Err(error) => {
            tracing::warn!(source = source.name, failures = state.health.failures, %error, "pull failed");
        }
    }
    pulled
}

/// Pulls `source` once, with its credentials from the environment, updating `state`'s
/// validators and cursors (saved as it goes where the kind needs it) but not its health.
pub fn pull(
    store: &dyn Store,
    source: &Source,
    state: &mut SourceState,
    options: &Options,
) -> Result<Report, Error> {
    let auth =
        source.auth.header().map_err(|reason| Error::Pull { name: source.name.clone(), reason })?;
    pull_as(store, source, state, options, auth)
}

fn pull_as(
    store: &dyn Store,
    source: &Source,
    state: &mut SourceState,
    options: &Options,
    auth: Option<(String, String)>,
) -> Result<Report, Error> {
    let client = Client::new(source, options, auth);
    match source.kind {
        SourceKind::Http => pull_http(store, &client, source, state, options),
        SourceKind::Misp => pull_misp(store, &client, source, state, options),
        SourceKind::Taxii => crate::taxii::pull_with(store, &client, source, state, options),
    }
}

/// Records the outcome of a pull that ended at `now` in `state`'s health.
pub fn record(
    state: &mut SourceState,
    source: &Source,
    options: &Options,
    now: i64,
    outcome: Result<&Report, String>,
) {
    let health = &mut state.health;
    health.last_run = Some(now);
    match outcome {
        Ok(report) => {
            health.last_success = Some(now);
            health.last_error = None;
            health.failures = 0;
            health.circuit_open = false;
            if !report.not_modified {
                health.records = report.records;
                health.rejects = report.rejects;
                health.new_versions = report.new_versions;
            }
            let wait = if report.more { Duration::ZERO } else { source.interval() };
            health.next_due = now.saturating_add(micros(wait));
        }
        Err(reason) => {
            health.last_error = Some(reason);
            health.failures = health.failures.saturating_add(1);
            health.circuit_open = health.failures >= options.circuit_after;
            let wait = if health.circuit_open {
                let step = health.failures - options.circuit_after;
                fetch::backoff(options.circuit_cooldown, step, options.max_cooldown)
            } else {
                let step = health.failures - 1;
                fetch::backoff(options.failure_backoff, step, source.interval())
            };
            health.next_due = now.saturating_add(micros(wait));
        }
    }
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

fn pull_http(
    store: &dyn Store,
    client: &Client<'_>,
    source: &Source,
    state: &mut SourceState,
    options: &Options,
) -> Result<Report, Error> {
    let failed = |reason: String| Error::Pull { name: source.name.clone(), reason };
    let validators =
        Validators { etag: state.etag.clone(), last_modified: state.last_modified.clone() };
    let mut report = Report::new(&source.name);
    let (bytes, headers) = match client.get(&source.url, None, &validators, options.body_bytes) {
        Ok(Fetched::NotModified) => {
            report.not_modified = true;
            return Ok(report);
        }
        Ok(Fetched::Body { bytes, headers }) => (bytes, headers),
        Err(reason) => return Err(failed(reason)),
    };
    let format = match &source.format {
        Some(name) => Some(
            watchfire_formats::format_by_name(name).map_err(|error| failed(error.to_string()))?,
        ),
        None => None,
    };
    let (tally, facts) = read_facts(source, &source.url, bytes, format).map_err(failed)?;
    let outcome = store.append(&facts).map_err(|error| failed(format!("store: {error}")))?;
    report.fetched = 1;
    report.add(&tally, &outcome);
    state.etag = fetch::header(&headers, "etag").map(str::to_owned);
    state.last_modified = fetch::header(&headers, "last-modified").map(str::to_owned);
    Ok(report)
}

/// Reads a whole response into facts; an input error, or an input whose every line is rejected,
/// is an error naming the reason (nothing of it is stored).
fn read_facts(
    source: &Source,
    name: &str,
    bytes: Vec<u8>,
    format: Option<&'static Format>,
) -> Result<(Tally, Vec<Fact>), String> {
    let now = Timestamp::from_unix_nanos(
        watchfire_store::now_micros().saturating_mul(1000),
        Precision::Millis,
    );
    let mut ingest = Ingest::new(&source.name, source.tlp, &now);
    let mut tally = Tally::default();
    let mut facts = Vec::new();
    let read =
        crate::read(
            name,
            Box::new(Cursor::new(bytes)),
            format,
            &mut |_| {},
            &mut |item| match item {
                Item::Record(mut record) => {
                    apply_defaults(source, &mut record);
                    tally.count(&record);
                    ingest.facts(&record, &mut facts);
                }
                Item::Reject(reject) => tally.reject(reject),
            },
        );
    let format = read.map_err(|error| format!("nothing stored: {error}"))?;
    if tally.n_records == 0 && tally.n_rejects > 0 {
        let first = tally.shown_rejects.first().map_or(String::new(), |reject| {
            format!(" (first: line {}: {})", reject.line, reject.reason)
        });
        return Err(format!(
            "nothing stored: every one of {} lines was rejected as {}{first}",
            tally.n_rejects, format.name
        ));
    }
    Ok((tally, facts))
}

// The source's category and confidence for indicators that carry none.
fn apply_defaults(source: &Source, record: &mut Record) {
    if let Record::Indicator(indicator) = record {
        if indicator.category.is_none() {
            indicator.category = source.category;
        }
        if indicator.confidence.is_none() {
            indicator.confidence = source.confidence;
        }
    }
}

fn pull_misp(
    store: &dyn Store,
    client: &Client<'_>,
    source: &Source,
    state: &mut SourceState,
    options: &Options,
) -> Result<Report, Error> {
    let failed = |reason: String| Error::Pull { name: source.name.clone(), reason };
    let base =
        if source.url.ends_with('/') { source.url.clone() } else { format!("{}/", source.url) };
    let manifest_url = format!("{base}manifest.json");
    let validators =
        Validators { etag: state.etag.clone(), last_modified: state.last_modified.clone() };
    let mut report = Report::new(&source.name);
    let (bytes, headers) = match client.get(&manifest_url, None, &validators, options.body_bytes) {
        Ok(Fetched::NotModified) => {
            report.not_modified = true;
            return Ok(report);
        }
        Ok(Fetched::Body { bytes, headers }) => (bytes, headers),
        Err(reason) => return Err(failed(reason)),
    };
    let context = Context::new(&manifest_url);
    let mut manifest_rejects = Vec::new();
    let events = misp::read_manifest(&mut Cursor::new(bytes), &context, &mut |item| {
        if let Item::Reject(reject) = item {
            manifest_rejects.push(reject);
        }
    })
    .map_err(|error| failed(format!("manifest: {error}")))?;
    if let (true, Some(first)) = (events.is_empty(), manifest_rejects.first()) {
        return Err(failed(format!(
            "manifest: no event read, {} rejected (first: line {}: {})",
            manifest_rejects.len(),
            first.line,
            first.reason
        )));
    }
    let listed: BTreeSet<&str> = events.iter().map(|event| event.uuid.as_str()).collect();
    state.misp_events.retain(|uuid, _| listed.contains(uuid.as_str()));
    let changed: Vec<&ManifestEvent> = events
        .iter()
        .filter(|event| {
            let timestamp = event_seconds(event);
            state.misp_events.get(&event.uuid).is_none_or(|stored| timestamp > *stored)
        })
        .collect();
    let format = watchfire_formats::format_by_name("misp-feed")
        .map_err(|error| failed(error.to_string()))?;
    let mut errors = Vec::new();
    for event in changed.iter().take(options.max_events) {
        let stored = misp_event(store, client, source, options, &base, event, format);
        match stored {
            Ok((tally, outcome)) => {
                report.fetched += 1;
                report.add(&tally, &outcome);
                state.misp_events.insert(event.uuid.clone(), event_seconds(event));
                source::save_state(store, &source.name, state)?;
            }
            Err(reason) => errors.push(format!("event {}: {reason}", event.uuid)),
        }
    }
    report.more = changed.len() > options.max_events;
    report.not_modified = report.fetched == 0 && errors.is_empty();
    report.rejects += manifest_rejects.len() as u64;
    if let Some(first) = errors.first() {
        let more = match errors.len() {
            1 => String::new(),
            n => format!(" (and {} more events)", n - 1),
        };
        return Err(failed(format!("{first}{more}")));
    }
    // The manifest's validators only once every event it lists is stored.
    state.etag = fetch::header(&headers, "etag").map(str::to_owned);
    state.last_modified = fetch::header(&headers, "last-modified").map(str::to_owned);
    if report.more {
        state.etag = None;
        state.last_modified = None;
    }
    Ok(report)
}

fn misp_event(
    store: &dyn Store,
    client: &Client<'_>,
    source: &Source,
    options: &Options,
    base: &str,
    event: &ManifestEvent,
    format: &'static Format,
) -> Result<(Tally, AppendOutcome), String> {
    // The uuid names a file under the feed: only a uuid's characters, so it cannot leave it.
    let is_uuid = !event.uuid.is_empty()
        && event.uuid.len() <= 64
        && event.uuid.bytes().all(|byte| byte.is_ascii_hexdigit() || byte == b'-');
    if !is_uuid {
        return Err("not a uuid".to_owned());
    }
    let url = format!("{base}{}.json", event.uuid);
    let bytes = match client.get(&url, None, &Validators::default(), options.body_bytes)? {
        Fetched::Body { bytes, .. } => bytes,
        Fetched::NotModified => return Err("HTTP 304 to an unconditional GET".to_owned()),
    };
    let (tally, facts) = read_facts(source, &url, bytes, Some(format))?;
    let outcome = store.append(&facts).map_err(|error| format!("store: {error}"))?;
    Ok((tally, outcome))
}

// An event's manifest timestamp in Unix seconds (0 when it has none: fetched once).
fn event_seconds(event: &ManifestEvent) -> i64 {
    event.timestamp.as_ref().map_or(0, |timestamp| {
        i64::try_from(timestamp.unix_nanos() / 1_000_000_000).unwrap_or(i64::MAX)
    })
}

/// The sources being pulled in this process, by store and name: a source is pulled by one
/// thread at a time (the scheduler and `POST /api/v1/feeds/{name}/run` may ask at once).
static PULLING: Mutex<BTreeSet<(usize, String)>> = Mutex::new(BTreeSet::new());

struct Busy((usize, String));

impl Busy {
    fn claim(store: &dyn Store, name: &str) -> Result<Busy, Error> {
        // The store's address tells stores apart (tests run several in one process).
        let key = (std::ptr::from_ref(store).cast::<()>() as usize, name.to_owned());
        let mut pulling = PULLING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !pulling.insert(key.clone()) {
            return Err(Error::Busy(name.to_owned()));
        }
        Ok(Busy(key))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut pulling = PULLING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        pulling.remove(&self.0);
    }
}
