//! The object endpoints of a collection: list (envelope), add (status), one object's versions,
//! delete, versions and manifest. Pages run along the log: `next` is the sequence number to
//! continue after.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use uuid::Uuid;
use watchfire_model::policy::{Audience, Origin};
use watchfire_model::stix::{StixId, StixObject};
use watchfire_model::tlp::Tlp;
use watchfire_store::{Entry, EntryKind, Fact, Reader, Versions};

use super::{Collection, TaxiiError, TaxiiResult, blocking, caller, find_collection, taxii_json};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::routes::intel::{member_user, micros_text};
use crate::routes::{QueryParams, read_body};

/// The most objects of one page.
const MAX_LIMIT: usize = 1000;
/// The objects of a page when the client names no limit.
const DEFAULT_LIMIT: usize = 100;
/// The most log entries one request reads to fill a page when filters drop entries.
const MAX_SCANNED: usize = 50_000;

/// The filter parameters of the object endpoints.
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    added_after: Option<String>,
    limit: Option<String>,
    next: Option<String>,
    #[serde(rename = "match[id]")]
    match_id: Option<String>,
    #[serde(rename = "match[type]")]
    match_type: Option<String>,
    #[serde(rename = "match[version]")]
    match_version: Option<String>,
    #[serde(rename = "match[spec_version]")]
    match_spec_version: Option<String>,
}

/// Which versions of each object to serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum VersionMatch {
    Last,
    First,
    All,
    At(i64),
}

/// The checked filters.
#[derive(Debug)]
struct Filters {
    added_after: Option<i64>,
    limit: usize,
    after: u64,
    ids: Vec<String>,
    types: Vec<String>,
    versions: Vec<VersionMatch>,
    /// False when `match[spec_version]` names no version we hold (we hold 2.1 only).
    spec_ok: bool,
}

fn bad(description: impl Into<String>) -> TaxiiError {
    TaxiiError::new(StatusCode::BAD_REQUEST, "bad request", description)
}

impl Params {
    fn check(&self) -> TaxiiResult<Filters> {
        let added_after = match &self.added_after {
            Some(text) => Some(
                watchfire_model::stix::Timestamp::parse(text)
                    .map(|timestamp| {
                        i64::try_from(timestamp.unix_nanos() / 1000).unwrap_or(i64::MAX)
                    })
                    .map_err(|_| bad(format!("added_after: not a timestamp: {text:?}")))?,
            ),
            None => None,
        };
        let limit = match &self.limit {
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|limit| *limit >= 1)
                .ok_or_else(|| bad("limit: a positive number"))?,
            None => DEFAULT_LIMIT,
        }
        .min(MAX_LIMIT);
        let after = match &self.next {
            Some(text) => text.parse().map_err(|_| bad("next: not a value this server gave"))?,
            None => 0,
        };
        let split = |text: &Option<String>| -> Vec<String> {
            text.as_deref()
                .map(|text| {
                    text.split(',')
                        .map(|item| item.trim().to_owned())
                        .filter(|item| !item.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut versions = Vec::new();
        for version in split(&self.match_version) {
            versions.push(match version.as_str() {
                "last" => VersionMatch::Last,
                "first" => VersionMatch::First,
                "all" => VersionMatch::All,
                other => VersionMatch::At(
                    watchfire_model::stix::Timestamp::parse(other)
                        .map(|timestamp| {
                            i64::try_from(timestamp.unix_nanos() / 1000).unwrap_or(i64::MAX)
                        })
                        .map_err(|_| {
                            bad(format!(
                                "match[version]: last, first, all or a timestamp, not {other:?}"
                            ))
                        })?,
                ),
            });
        }
        if versions.is_empty() {
            versions.push(VersionMatch::Last);
        }
        let spec_versions = split(&self.match_spec_version);
        let spec_ok =
            spec_versions.is_empty() || spec_versions.iter().any(|version| version == "2.1");
        Ok(Filters {
            added_after,
            limit,
            after,
            ids: split(&self.match_id),
            types: split(&self.match_type),
            versions,
            spec_ok,
        })
    }
}

/// The entries of one page, and whether more may follow.
struct Found {
    entries: Vec<Entry>,
    next: Option<u64>,
}

/// Reads the collection's entries along the log for the filters.
fn find(
    state: &AppState,
    reader: Reader<'_>,
    collection: &Collection,
    filters: &Filters,
) -> TaxiiResult<Found> {
    if !filters.spec_ok {
        return Ok(Found { entries: Vec::new(), next: None });
    }
    let only_last = filters.versions == [VersionMatch::Last];
    let mut query = watchfire_store::Query {
        after: filters.after,
        limit: filters.limit,
        types: if collection.types.is_empty() {
            filters.types.clone()
        } else if filters.types.is_empty() {
            collection.types.clone()
        } else {
            filters.types.iter().filter(|kind| collection.types.contains(kind)).cloned().collect()
        },
        sources: collection.sources.clone(),
        tlp: collection.tlps.clone(),
        added_from: filters.added_after.map(|after| after.saturating_add(1)),
        added_before: None,
        latest_only: only_last,
    };
    let mut entries = Vec::new();
    let mut scanned = 0;
    loop {
        let page = state.store.query(reader, &query)?;
        scanned += page.entries.len().max(1);
        for entry in page.entries {
            if entry.kind != EntryKind::Object
                || (!filters.ids.is_empty() && !filters.ids.contains(&entry.id))
            {
                continue;
            }
            // A `latest_only` read holds the current versions only, so `last` needs no check.
            if only_last || keeps_version(state, reader, &filters.versions, &entry)? {
                entries.push(entry);
            }
        }
        match page.next {
            Some(next) if entries.len() < filters.limit && scanned < MAX_SCANNED => {
                query.after = next;
            }
            next => {
                // A full page continues after its last entry; a short one where the log ended
                // or where the scan stopped.
                let is_full = entries.len() >= filters.limit;
                entries.truncate(filters.limit);
                let next = if is_full { entries.last().map(|entry| entry.seq) } else { next };
                return Ok(Found { entries, next });
            }
        }
    }
}

// Tells whether an entry is one of the versions asked for.
fn keeps_version(
    state: &AppState,
    reader: Reader<'_>,
    versions: &[VersionMatch],
    entry: &Entry,
) -> TaxiiResult<bool> {
    for version in versions {
        let keeps = match version {
            VersionMatch::All => true,
            VersionMatch::At(micros) => entry.version_micros == *micros,
            VersionMatch::Last => state
                .store
                .get(reader, &entry.id, Versions::Latest)?
                .first()
                .is_some_and(|latest| latest.seq == entry.seq),
            VersionMatch::First => state
                .store
                .get(reader, &entry.id, Versions::All)?
                .first()
                .is_some_and(|first| first.seq == entry.seq),
        };
        if keeps {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The version of an entry as TAXII shows it: the object's `modified`, else `created`, else the
/// time it was added.
fn version_text(entry: &Entry) -> String {
    #[derive(Deserialize)]
    struct Times {
        modified: Option<String>,
        created: Option<String>,
    }
    let times: Option<Times> = serde_json::from_str(&entry.body).ok();
    times
        .and_then(|times| times.modified.or(times.created))
        .unwrap_or_else(|| micros_text(entry.added_micros))
}

/// Answers `body` with the date-added headers of `entries`.
fn with_dates(body: &Value, entries: &[Entry]) -> Response {
    bytes_with_dates(serde_json::to_vec(body).unwrap_or_default(), entries)
}

/// Answers the serialised `body` with the date-added headers of `entries`.
fn bytes_with_dates(body: Vec<u8>, entries: &[Entry]) -> Response {
    let mut response =
        (StatusCode::OK, [(header::CONTENT_TYPE, super::TAXII_MEDIA_TYPE)], body).into_response();
    if let (Some(first), Some(last)) = (entries.first(), entries.last()) {
        let headers = response.headers_mut();
        for (name, micros) in [
            ("x-taxii-date-added-first", first.added_micros),
            ("x-taxii-date-added-last", last.added_micros),
        ] {
            if let Ok(value) = HeaderValue::from_str(&micros_text(micros)) {
                headers.insert(name, value);
            }
        }
    }
    response
}

#[derive(Serialize)]
struct Envelope<'a> {
    more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    objects: Vec<&'a RawValue>,
}

/// Serialises the envelope of a page, the stored objects copied as they are (never parsed into
/// a tree and written again).
fn envelope(found: &Found) -> Vec<u8> {
    let objects = found
        .entries
        .iter()
        .filter_map(|entry| serde_json::from_str::<&RawValue>(&entry.body).ok())
        .collect();
    let envelope = Envelope {
        more: found.next.is_some(),
        next: found.next.map(|next| next.to_string()),
        objects,
    };
    serde_json::to_vec(&envelope).unwrap_or_default()
}

fn readable(state: &AppState, caller: &Caller, id: &str) -> TaxiiResult<Collection> {
    let collection = find_collection(state, caller, id)?;
    if !collection.can_read {
        return Err(TaxiiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the caller may not read this collection",
        ));
    }
    Ok(collection)
}

/// Finds one page of a collection's objects for the request: the prologue `list` and
/// `manifest` share.
async fn page(
    state: &AppState,
    caller_result: Result<Caller, ApiError>,
    headers: &HeaderMap,
    id: String,
    params: Result<QueryParams<Params>, ApiError>,
) -> TaxiiResult<Found> {
    let caller = caller(state, caller_result, headers)?;
    let QueryParams(params) = params?;
    let filters = params.check()?;
    blocking(state, move |state| {
        let collection = readable(state, &caller, &id)?;
        let reader = caller.reader(state)?;
        find(state, reader, &collection, &filters)
    })
    .await
}

pub async fn list(
    State(state): State<AppState>,
    caller_result: Result<Caller, ApiError>,
    headers: HeaderMap,
    Path(id): Path<String>,
    params: Result<QueryParams<Params>, ApiError>,
) -> TaxiiResult<Response> {
    let found = page(&state, caller_result, &headers, id, params).await?;
    Ok(bytes_with_dates(envelope(&found), &found.entries))
}

pub async fn manifest(
    State(state): State<AppState>,
    caller_result: Result<Caller, ApiError>,
    headers: HeaderMap,
    Path(id): Path<String>,
    params: Result<QueryParams<Params>, ApiError>,
) -> TaxiiResult<Response> {
    let found = page(&state, caller_result, &headers, id, params).await?;
    let records: Vec<Value> = found
        .entries
        .iter()
        .map(|entry| {
            json!({
                "id": entry.id,
                "date_added": micros_text(entry.added_micros),
                "version": version_text(entry),
                "media_type": super::STIX_MEDIA_TYPE,
            })
        })
        .collect();
    let mut body = json!({ "more": found.next.is_some() });
    if let Some(next) = found.next {
        body["next"] = json!(next.to_string());
    }
    if !records.is_empty() {
        body["objects"] = json!(records);
    }
    Ok(with_dates(&body, &found.entries))
}

// The versions of one object in the collection, for the filters (404 when there are none).
fn object_versions(
    state: &AppState,
    caller: &Caller,
    id: &str,
    object_id: &str,
    filters: &Filters,
) -> TaxiiResult<Vec<Entry>> {
    let collection = readable(state, caller, id)?;
    let reader = caller.reader(state)?;
    let all = state.store.get(reader, object_id, Versions::All)?;
    let in_collection: Vec<Entry> =
        all.into_iter().filter(|entry| collection.holds(entry)).collect();
    if in_collection.is_empty() {
        return Err(TaxiiError::not_found());
    }
    let last_seq = in_collection.last().map(|entry| entry.seq);
    let first_seq = in_collection.first().map(|entry| entry.seq);
    let kept = in_collection
        .into_iter()
        .filter(|entry| {
            filters.spec_ok
                && filters.added_after.is_none_or(|after| entry.added_micros > after)
                && entry.seq > filters.after
        })
        .filter(|entry| {
            filters.versions.iter().any(|version| match version {
                VersionMatch::All => true,
                VersionMatch::Last => Some(entry.seq) == last_seq,
                VersionMatch::First => Some(entry.seq) == first_seq,
                VersionMatch::At(micros) => entry.version_micros == *micros,
            })
        })
        .collect();
    Ok(kept)
}

fn page_of(mut entries: Vec<Entry>, limit: usize) -> Found {
    let more = entries.len() > limit;
    entries.truncate(limit);
    let next = if more { entries.last().map(|entry| entry.seq) } else { None };
    Found { entries, next }
}

pub async fn by_id(
    State(state): State<AppState>,
    caller_result: Result<Caller, ApiError>,
    headers: HeaderMap,
    Path((id, object_id)): Path<(String, String)>,
    params: Result<QueryParams<Params>, ApiError>,
) -> TaxiiResult<Response> {
    let caller = caller(&state, caller_result, &headers)?;
    let QueryParams(params) = params?;
    let filters = params.check()?;
    let found = blocking(&state, move |state| {
        let entries = object_versions(state, &caller, &id, &object_id, &filters)?;
        Ok(page_of(entries, filters.limit))
    })
    .await?;
    Ok(bytes_with_dates(envelope(&found), &found.entries))
}

pub async fn versions(
    State(state): State<AppState>,
    caller_result: Result<Caller, ApiError>,
    headers: HeaderMap,
    Path((id, object_id)): Path<(String, String)>,
    params: Result<QueryParams<Params>, ApiError>,
) -> TaxiiResult<Response> {
    let caller = caller(&state, caller_result, &headers)?;
    let QueryParams(mut params) = params?;
    // The versions endpoint lists every version unless the client narrows it.
    if params.match_version.is_none() {
        params.match_version = Some("all".to_owned());
    }
    let filters = params.check()?;
    let found = blocking(&state, move |state| {
        let entries = object_versions(state, &caller, &id, &object_id, &filters)?;
        Ok(page_of(entries, filters.limit))
    })
    .await?;
    let versions: Vec<String> = found.entries.iter().map(version_text).collect();
    let mut body = json!({ "more": found.next.is_some(), "versions": versions });
    if let Some(next) = found.next {
        body["next"] = json!(next.to_string());
    }
    Ok(with_dates(&body, &found.entries))
}

pub async fn remove(
    State(state): State<AppState>,
    caller_result: Result<Caller, ApiError>,
    headers: HeaderMap,
    Path((id, object_id)): Path<(String, String)>,
) -> TaxiiResult<Response> {
    let caller = caller(&state, caller_result, &headers)?;
    blocking(&state, move |state| {
        let collection = find_collection(state, &caller, &id)?;
        let reader = caller.reader(state)?;
        let latest = state.store.get(reader, &object_id, Versions::Latest)?;
        let entry = latest
            .into_iter()
            .find(|entry| collection.holds(entry))
            .ok_or_else(TaxiiError::not_found)?;
        // Only what the caller's organisation added through this collection can be deleted here.
        let is_own =
            collection.writer.as_ref().is_some_and(|org| entry.audience.owner == Some(org.id))
                && collection.write_source.as_deref() == Some(entry.source.as_str());
        if !collection.can_write || !is_own {
            return Err(TaxiiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "the caller may not delete from this collection",
            ));
        }
        let stix_id =
            StixId::parse(&object_id).map_err(|error| bad(format!("object id: {error}")))?;
        state.store.append(&[Fact::tombstone(
            entry.source.clone(),
            entry.audience.clone(),
            stix_id,
        )])?;
        tracing::info!(object = object_id, collection = collection.alias, "taxii delete");
        Ok(())
    })
    .await?;
    Ok(taxii_json(StatusCode::OK, &json!({})))
}

pub async fn add(
    State(state): State<AppState>,
    caller_result: Result<Caller, ApiError>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> TaxiiResult<Response> {
    let caller = caller(&state, caller_result, &headers)?;
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let content_type = content_type.replace(' ', "").to_ascii_lowercase();
    let is_taxii = content_type == "application/taxii+json"
        || content_type == "application/taxii+json;version=2.1";
    if !is_taxii {
        return Err(TaxiiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported media type",
            format!("send Content-Type: {}", super::TAXII_MEDIA_TYPE),
        ));
    }
    let limit = state.config.limits.bulk_bytes;
    let collection = blocking(&state, {
        let caller = caller.clone();
        move |state| find_collection(state, &caller, &id)
    })
    .await?;
    if !collection.can_write {
        return Err(TaxiiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the caller may not add to this collection",
        ));
    }
    let bytes = read_body(body, limit).await?;
    let envelope: Value =
        serde_json::from_slice(&bytes).map_err(|error| bad(format!("invalid JSON: {error}")))?;
    let Some(objects) = envelope.get("objects").and_then(Value::as_array) else {
        return Err(TaxiiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
            "an envelope with an `objects` array is expected",
        ));
    };
    let objects = objects.clone();
    let status =
        blocking(&state, move |state| store_objects(state, &caller, &collection, objects)).await?;
    Ok(taxii_json(StatusCode::ACCEPTED, &status))
}

// Stores what parses, names what does not, and keeps the status resource for later reads.
fn store_objects(
    state: &AppState,
    caller: &Caller,
    collection: &Collection,
    objects: Vec<Value>,
) -> TaxiiResult<Value> {
    let forbidden = || {
        TaxiiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the caller may not add to this collection",
        )
    };
    let org = collection.writer.as_ref().ok_or_else(forbidden)?;
    let source = collection.write_source.clone().ok_or_else(forbidden)?;
    let requested = micros_text(watchfire_store::now_micros());
    let total = objects.len();
    let mut facts = Vec::new();
    let mut successes = Vec::new();
    let mut failures = Vec::new();
    for object in objects {
        let id = object.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let version = object
            .get("modified")
            .or_else(|| object.get("created"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let Value::Object(properties) = object else {
            failures.push(json!({"id": id, "message": "not a JSON object"}));
            continue;
        };
        match StixObject::from_properties(properties) {
            Ok(parsed) => {
                let refs = parsed.object_marking_refs().iter().map(StixId::as_str);
                let tlp = Tlp::from_marking_refs(refs).unwrap_or(Tlp::Amber);
                let mut audience = Audience {
                    owner: Some(org.id),
                    tlp,
                    organisations: Vec::new(),
                    users: Vec::new(),
                    origin: Origin::Local,
                };
                audience.users.extend(member_user(&caller.identity.principal));
                facts.push(Fact::object(source.clone(), audience, parsed));
                let mut success = json!({"id": id});
                if let Some(version) = version {
                    success["version"] = json!(version);
                }
                successes.push(success);
            }
            Err(error) => failures.push(json!({"id": id, "message": error.to_string()})),
        }
    }
    state.store.append(&facts)?;
    let status_id = Uuid::new_v4().to_string();
    let status = json!({
        "id": status_id,
        "status": "complete",
        "request_timestamp": requested,
        "total_count": total,
        "success_count": successes.len(),
        "successes": successes,
        "failure_count": failures.len(),
        "failures": failures,
        "pending_count": 0,
        "pendings": [],
    });
    let mut kept = status.clone();
    kept["owner"] = json!(org.id.0.to_string());
    state.store.directory_put(
        "taxii_status",
        &status_id,
        &kept.to_string(),
        watchfire_store::Put::Insert,
    )?;
    tracing::info!(collection = collection.alias, total, failures = failures.len(), "taxii add");
    Ok(status)
}
