//! The TAXII 2.1 client: pulls a remote collection incrementally, and pushes objects to one.
//!
//! A pull asks `GET {collection}/objects/?added_after=CURSOR&limit=N` (TAXII 2.1 section 5.4)
//! and follows the envelope's `next`; when a server says `more` without `next`, it goes on with
//! `added_after` set to the page's `X-TAXII-Date-Added-Last`. Each page is one `append`, and the
//! cursor (the last `X-TAXII-Date-Added-Last`) is saved only after its page is stored, so an
//! interrupted run resumes where the stored data ends.
//!
//! Everything a peer sends is bounded: the envelope's bytes, the pages of one run; a peer that
//! says `more` without moving its cursor or `next`, sends malformed JSON, or objects without an
//! `id` ends the run with an error naming the source and the reason, and the bad page stores
//! nothing. An object with an id that is not valid STIX is a reject, like a bad line of a feed.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use watchfire_formats::Reject;
use watchfire_model::policy::{Audience, Origin};
use watchfire_model::record::Record;
use watchfire_model::stix::{Precision, StixObject, Timestamp};
use watchfire_store::{Fact, Store};

use crate::fetch::{self, Client, Fetched, Validators};
use crate::pull::{Options, Report};
use crate::source::{self, Source, SourceState};
use crate::{Error, Ingest, Tally};

/// The TAXII 2.1 media type (TAXII 2.1 section 1.6.8.1).
pub const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// A TAXII status resource (TAXII 2.1 section 4.3.1), as a push reads it back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The status id.
    pub id: String,
    /// `complete` or `pending`.
    pub status: String,
    /// Objects in the request.
    #[serde(default)]
    pub total_count: u64,
    /// Objects stored.
    #[serde(default)]
    pub success_count: u64,
    /// Objects refused.
    #[serde(default)]
    pub failure_count: u64,
    /// Objects not processed yet.
    #[serde(default)]
    pub pending_count: u64,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    more: bool,
    next: Option<String>,
    #[serde(default)]
    objects: Vec<Value>,
}

/// Pulls the TAXII source `source` (whether due or not) and records the outcome in its health;
/// the cursor is persisted in its state.
pub fn pull(store: &dyn Store, source: &Source, options: &Options) -> Result<Report, Error> {
    crate::pull::run_and_record(store, source, options, watchfire_store::now_micros())
}

/// Pulls like [`pull`], but sends `authorization` as the `Authorization` header instead of
/// reading the source's credentials from the environment: for a caller that holds the
/// credential in memory (a test against a node's own TAXII server, a federation peer).
pub fn pull_with_authorization(
    store: &dyn Store,
    source: &Source,
    authorization: &str,
    options: &Options,
) -> Result<Report, Error> {
    let auth = Some(("Authorization".to_owned(), authorization.to_owned()));
    crate::pull::run_and_record_as(store, source, options, watchfire_store::now_micros(), Ok(auth))
}

/// Pulls a collection with `client`, from `state.cursor` on.
pub(crate) fn pull_with(
    store: &dyn Store,
    client: &Client<'_>,
    source: &Source,
    state: &mut SourceState,
    options: &Options,
) -> Result<Report, Error> {
    let failed = |reason: String| Error::Pull { name: source.name.clone(), reason };
    let objects_url = format!("{}/objects/", source.url.trim_end_matches('/'));
    let mut added_after = state.cursor.clone();
    let mut next: Option<String> = None;
    let mut report = Report::new(&source.name);
    for page in 1..=options.max_pages {
        let url = page_url(&objects_url, added_after.as_deref(), next.as_deref(), options);
        let fetched =
            client.get(&url, Some(MEDIA_TYPE), &Validators::default(), options.envelope_bytes);
        let (bytes, headers) =
            match fetched.map_err(|reason| failed(format!("page {page}: {reason}")))? {
                Fetched::Body { bytes, headers } => (bytes, headers),
                Fetched::NotModified => {
                    return Err(failed(format!("page {page}: HTTP 304 to an unconditional GET")));
                }
            };
        let envelope: Envelope = serde_json::from_slice(&bytes).map_err(|error| {
            failed(format!("page {page}: malformed envelope, nothing of it stored: {error}"))
        })?;
        let (tally, facts) = envelope_facts(source, &url, &envelope.objects)
            .map_err(|reason| failed(format!("page {page}: {reason}, nothing of it stored")))?;
        let outcome =
            store.append(&facts).map_err(|error| failed(format!("page {page}: store: {error}")))?;
        report.fetched += 1;
        report.add(&tally, &outcome);
        // medallion sends only `-First` on a page of one object; it is then also the last.
        let last_added = fetch::header(&headers, "X-TAXII-Date-Added-Last")
            .or_else(|| fetch::header(&headers, "X-TAXII-Date-Added-First"))
            .map(str::to_owned);
        if let Some(last_added) = &last_added {
            state.cursor = Some(last_added.clone());
            source::save_state(store, &source.name, state)?;
        }
        if !envelope.more {
            report.not_modified = report.records == 0 && report.rejects == 0;
            return Ok(report);
        }
        match envelope.next {
            // A server may keep one `next` for a whole listing (medallion does), but one that
            // repeats it with an empty page is not moving.
            Some(token) if envelope.objects.is_empty() && next.as_deref() == Some(&token) => {
                return Err(failed(format!(
                    "page {page}: the server says more but sends nothing and repeats next {token:?}"
                )));
            }
            Some(token) => next = Some(token),
            None => {
                let is_moved = last_added.is_some() && last_added != added_after;
                if !is_moved {
                    return Err(failed(format!(
                        "page {page}: the server says more without next and without moving \
                         X-TAXII-Date-Added-Last (still {})",
                        last_added.as_deref().unwrap_or("absent")
                    )));
                }
                added_after = last_added;
                next = None;
            }
        }
    }
    // The page cap: the next run goes on from the saved cursor.
    report.more = true;
    Ok(report)
}

/// Pushes `objects` to the collection `source.url` (an envelope, TAXII 2.1 section 5.5) and reads
/// the status resource back from `{api_root}status/{id}/`.
pub fn push(source: &Source, objects: &[Value], options: &Options) -> Result<Status, Error> {
    let failed = |reason: String| Error::Pull { name: source.name.clone(), reason };
    let client = Client::new(source, options, source.auth.header().map_err(failed)?);
    let collection = source.url.trim_end_matches('/');
    let api_root = match collection.rfind("/collections/") {
        Some(at) => &collection[..=at],
        None => return Err(failed(format!("{} is not a collection URL", source.url))),
    };
    let body = serde_json::to_vec(&serde_json::json!({ "objects": objects }))
        .map_err(|error| failed(error.to_string()))?;
    let url = format!("{collection}/objects/");
    let answer = client.post(&url, MEDIA_TYPE, MEDIA_TYPE, &body, options.envelope_bytes);
    let status = parse_status(answer).map_err(|reason| failed(format!("push: {reason}")))?;
    let status_url = format!("{api_root}status/{}/", percent_encode(&status.id));
    let answer =
        client.get(&status_url, Some(MEDIA_TYPE), &Validators::default(), options.envelope_bytes);
    parse_status(answer).map_err(|reason| failed(format!("status: {reason}")))
}

fn parse_status(answer: Result<Fetched, String>) -> Result<Status, String> {
    match answer? {
        Fetched::Body { bytes, .. } => serde_json::from_slice(&bytes)
            .map_err(|error| format!("malformed status resource: {error}")),
        Fetched::NotModified => Err("HTTP 304".to_owned()),
    }
}

// Turns an envelope's objects into facts: an object without an id fails the page, an invalid
// one is a reject.
fn envelope_facts(
    source: &Source,
    url: &str,
    objects: &[Value],
) -> Result<(Tally, Vec<Fact>), String> {
    let now = Timestamp::from_unix_nanos(
        watchfire_store::now_micros().saturating_mul(1000),
        Precision::Millis,
    );
    // Objects received over TAXII come from another node (or a provider's node): marked so, the
    // policy never passes AMBER+STRICT ones on to other peers.
    let audience = Audience { origin: Origin::Peer, ..Audience::node(source.tlp) };
    let mut ingest = Ingest::new(&source.name, source.tlp, &now).with_audience(audience);
    let mut tally = Tally::default();
    let mut facts = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        let position = index + 1;
        let Value::Object(properties) = object else {
            return Err(format!("object {position} is not a JSON object"));
        };
        let has_id = properties.get("id").is_some_and(Value::is_string);
        if !has_id {
            return Err(format!("object {position} has no id"));
        }
        match StixObject::from_properties(properties.clone()) {
            Ok(object) => {
                let record = Record::Stix(Box::new(object));
                tally.count(&record);
                ingest.facts(&record, &mut facts);
            }
            Err(error) => {
                let reject = Reject::new(url, position as u64, error.to_string());
                tally.reject(reject);
            }
        }
    }
    Ok((tally, facts))
}

fn page_url(
    objects_url: &str,
    added_after: Option<&str>,
    next: Option<&str>,
    options: &Options,
) -> String {
    let mut url = format!("{objects_url}?limit={}", options.page_size.max(1));
    if let Some(added_after) = added_after {
        url.push_str("&added_after=");
        url.push_str(&percent_encode(added_after));
    }
    if let Some(next) = next {
        url.push_str("&next=");
        url.push_str(&percent_encode(next));
    }
    url
}

// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
