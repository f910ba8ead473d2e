//! Reading intelligence: indicator search, objects by id, observable lookups (single and bulk
//! NDJSON, through the match index), sightings, sources and stats. Every read is made for the
//! caller's principal: what it may not see is absent, and an invisible id is a 404 exactly like
//! a missing one.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use uuid::Uuid;
use watchfire_index::{Hit, LookupOptions};
use watchfire_model::Observable;
use watchfire_model::observable::ObservableKind;
use watchfire_model::policy::Audience;
use watchfire_model::record::{Category, Subject};
use watchfire_model::stix::{Precision, StixObject, Timestamp};
use watchfire_model::tlp::Tlp;
use watchfire_store::{Entry, Fact, Reader, Versions};

use super::{JsonBody, QueryParams, RouteDoc, json, list, parse_time, read_body};
use crate::AppState;
use crate::accounts::Scope;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Code};

/// The most entries one search page returns.
pub const MAX_PAGE: usize = 1000;
/// The most log entries one search request reads to fill a page when filters drop entries.
const MAX_SCANNED: usize = 20_000;
/// The most values of one bulk lookup or sightings request.
pub const MAX_BULK_VALUES: usize = 100_000;

pub fn routes() -> Vec<(RouteDoc, MethodRouter<AppState>)> {
    vec![
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/indicators",
                summary: "Search the current indicators, newest last, with a cursor",
                tag: "intelligence",
                scope: Some("read"),
                params: &[
                    (
                        "value",
                        "query",
                        "an observable: the indicators claiming it (exact, network, parent domain, URL host)",
                    ),
                    (
                        "kind",
                        "query",
                        "observable kinds, comma-separated (ipv4, domain, url, sha256, ...)",
                    ),
                    ("source", "query", "sources, comma-separated"),
                    ("category", "query", "categories, comma-separated (botnet_c2, phishing, ...)"),
                    (
                        "tlp",
                        "query",
                        "TLP levels, comma-separated (clear, green, amber, amber+strict, red)",
                    ),
                    (
                        "added_after",
                        "query",
                        "added at or after (RFC 3339 or microseconds since the epoch)",
                    ),
                    ("added_before", "query", "added before (RFC 3339 or microseconds)"),
                    ("limit", "query", "entries per page, 1 to 1000 (default 100)"),
                    ("cursor", "query", "the `next` of the previous page"),
                ],
                body: None,
                answer: "application/json",
            },
            get(search),
        ),
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/objects/{id}",
                summary: "One STIX object by id: its current version, or every version with versions=all",
                tag: "intelligence",
                scope: Some("read"),
                params: &[
                    ("id", "path", "the STIX id"),
                    ("versions", "query", "`latest` (default) or `all`"),
                ],
                body: None,
                answer: "application/json",
            },
            get(object),
        ),
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/lookup",
                summary: "What the node knows of one value, through the match index",
                tag: "intelligence",
                scope: Some("read"),
                params: &[
                    ("value", "query", "the value (refanged and canonicalised)"),
                    (
                        "hide_expired",
                        "query",
                        "`true` leaves out expired claims instead of flagging them",
                    ),
                    (
                        "hide_benign",
                        "query",
                        "`true` leaves out known-benign hits instead of flagging them",
                    ),
                ],
                body: None,
                answer: "application/json",
            },
            get(lookup_one),
        ),
        (
            RouteDoc {
                method: "post",
                path: "/api/v1/lookup",
                summary: "Bulk lookup: one value per line (or {\"value\":…}) in, one JSON answer per line out",
                tag: "intelligence",
                scope: Some("read"),
                params: &[
                    ("hide_expired", "query", "`true` leaves out expired claims"),
                    ("hide_benign", "query", "`true` leaves out known-benign hits"),
                ],
                body: Some("application/x-ndjson"),
                answer: "application/x-ndjson",
            },
            post(lookup_bulk),
        ),
        (
            RouteDoc {
                method: "post",
                path: "/api/v1/sightings",
                summary: "Report sightings: an object or an array of {value | sighting_of_ref, count, first_seen, last_seen, tlp}",
                tag: "intelligence",
                scope: Some("sensor or write"),
                params: &[],
                body: Some("application/json"),
                answer: "application/json",
            },
            post(report_sightings),
        ),
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/sightings",
                summary: "How often an object was sighted, over the sightings the caller may see",
                tag: "intelligence",
                scope: Some("read"),
                params: &[("of", "query", "the STIX id of the sighted object")],
                body: None,
                answer: "application/json",
            },
            get(sighting_count),
        ),
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/sources",
                summary: "The sources with their live objects the caller may see",
                tag: "intelligence",
                scope: Some("read"),
                params: &[],
                body: None,
                answer: "application/json",
            },
            get(sources),
        ),
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/stats",
                summary: "What the node holds, counted over what the caller may see",
                tag: "intelligence",
                scope: Some("read"),
                params: &[],
                body: None,
                answer: "application/json",
            },
            get(stats),
        ),
    ]
}

/// One log entry as the API shows it.
#[derive(Serialize)]
pub struct EntryView<'a> {
    seq: u64,
    added: String,
    id: &'a str,
    #[serde(rename = "type")]
    object_type: &'a str,
    source: &'a str,
    tlp: Tlp,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<&'a RawValue>,
}

impl<'a> EntryView<'a> {
    /// Returns the view of an entry (a tombstone shows `deleted: true` and no object).
    pub fn of(entry: &'a Entry) -> EntryView<'a> {
        let is_tombstone = entry.kind == watchfire_store::EntryKind::Tombstone;
        EntryView {
            seq: entry.seq,
            added: micros_text(entry.added_micros),
            id: &entry.id,
            object_type: &entry.object_type,
            source: &entry.source,
            tlp: entry.audience.tlp,
            deleted: is_tombstone.then_some(true),
            object: if is_tombstone { None } else { serde_json::from_str(&entry.body).ok() },
        }
    }
}

/// Formats microseconds since the epoch as an RFC 3339 time with six digits.
pub fn micros_text(micros: i64) -> String {
    Timestamp::from_unix_nanos(micros.saturating_mul(1000), Precision::Micros).as_str().to_owned()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    value: Option<String>,
    kind: Option<String>,
    source: Option<String>,
    category: Option<String>,
    tlp: Option<String>,
    added_after: Option<String>,
    added_before: Option<String>,
    limit: Option<usize>,
    cursor: Option<u64>,
}

/// The filters of a search, checked.
struct Filters {
    kinds: Vec<ObservableKind>,
    categories: Vec<Category>,
}

impl Filters {
    fn keeps(&self, entry: &Entry) -> bool {
        if self.kinds.is_empty() && self.categories.is_empty() {
            return true;
        }
        let Ok(StixObject::Indicator(indicator)) = entry.object() else {
            return false;
        };
        watchfire_formats::stix::indicator_records(&indicator).iter().any(|record| {
            let kind_ok = self.kinds.is_empty()
                || matches!(&record.subject, Subject::Observable(observable) if self.kinds.contains(&observable.kind()));
            let category_ok = self.categories.is_empty()
                || record.category.is_some_and(|category| self.categories.contains(&category));
            kind_ok && category_ok
        })
    }
}

fn parsed_list<T: std::str::FromStr>(name: &str, text: Option<&str>) -> ApiResult<Vec<T>> {
    list(text)
        .iter()
        .map(|item| {
            item.parse().map_err(|_| {
                ApiError::new(Code::BadRequest, format!("{name}: unknown value {item:?}"))
            })
        })
        .collect()
}

async fn search(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<SearchParams>,
) -> ApiResult<Response> {
    caller.reader(&state)?;
    let limit = params.limit.unwrap_or(100);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::new(Code::BadRequest, format!("limit: between 1 and {MAX_PAGE}")));
    }
    let filters = Filters {
        kinds: parsed_list("kind", params.kind.as_deref())?,
        categories: parsed_list("category", params.category.as_deref())?,
    };
    let query = watchfire_store::Query {
        after: params.cursor.unwrap_or(0),
        limit,
        types: vec!["indicator".to_owned()],
        sources: list(params.source.as_deref()),
        tlp: parsed_list("tlp", params.tlp.as_deref())?,
        added_from: params
            .added_after
            .as_deref()
            .map(|text| parse_time("added_after", text))
            .transpose()?,
        added_before: params
            .added_before
            .as_deref()
            .map(|text| parse_time("added_before", text))
            .transpose()?,
        latest_only: true,
    };
    let value = match params.value.as_deref() {
        Some(text) => Some(
            Observable::parse(text)
                .map_err(|error| ApiError::new(Code::BadRequest, format!("value: {error}")))?,
        ),
        None => None,
    };
    let body = state
        .blocking(move |state| {
            let reader = caller.reader(state)?;
            let (entries, next) = match value {
                Some(observable) => {
                    let entries = by_value(state, reader, &observable, &query)?;
                    (entries.into_iter().filter(|entry| filters.keeps(entry)).collect(), None)
                }
                None => scan(state, reader, query, &filters)?,
            };
            let views: Vec<_> = entries.iter().map(EntryView::of).collect();
            serde_json::to_vec(&json!({ "indicators": views, "next": next }))
                .map_err(|error| ApiError::internal(&error))
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

// Reads pages until `limit` entries pass the filters or MAX_SCANNED entries were read; the
// cursor says where the scan stopped, so the next request goes on from there.
fn scan(
    state: &AppState,
    reader: Reader<'_>,
    mut query: watchfire_store::Query,
    filters: &Filters,
) -> ApiResult<(Vec<Entry>, Option<u64>)> {
    let limit = query.limit;
    let mut found = Vec::new();
    let mut scanned = 0;
    loop {
        let page = state.store.query(reader, &query)?;
        scanned += page.entries.len().max(1);
        for entry in page.entries {
            if filters.keeps(&entry) {
                found.push(entry);
            }
        }
        match page.next {
            Some(next) if found.len() < limit && scanned < MAX_SCANNED => query.after = next,
            next => return Ok((found, next)),
        }
    }
}

// The indicators that claim `observable` (through the index), as the reader may see them.
fn by_value(
    state: &AppState,
    reader: Reader<'_>,
    observable: &Observable,
    query: &watchfire_store::Query,
) -> ApiResult<Vec<Entry>> {
    let snapshot = state.index.snapshot();
    let access = snapshot.access(reader);
    let hits = snapshot.lookup(
        &access,
        observable,
        LookupOptions::flag_all(watchfire_store::now_micros()),
    );
    let ids: BTreeSet<&str> =
        hits.iter().flat_map(|hit| hit.claims.iter().map(|claim| &*claim.indicator)).collect();
    let mut entries = Vec::new();
    for id in ids {
        for entry in state.store.get(reader, id, Versions::Latest)? {
            let source_ok = query.sources.is_empty() || query.sources.contains(&entry.source);
            let tlp_ok = query.tlp.is_empty() || query.tlp.contains(&entry.audience.tlp);
            let time_ok = query.added_from.is_none_or(|from| entry.added_micros >= from)
                && query.added_before.is_none_or(|before| entry.added_micros < before);
            if source_ok && tlp_ok && time_ok {
                entries.push(entry);
            }
        }
    }
    entries.sort_by_key(|entry| entry.seq);
    entries.truncate(query.limit);
    Ok(entries)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObjectParams {
    versions: Option<String>,
}

async fn object(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    QueryParams(params): QueryParams<ObjectParams>,
) -> ApiResult<Response> {
    caller.reader(&state)?;
    let versions = match params.versions.as_deref() {
        None | Some("latest") => Versions::Latest,
        Some("all") => Versions::All,
        Some(other) => {
            return Err(ApiError::new(
                Code::BadRequest,
                format!("versions: `latest` or `all`, not {other:?}"),
            ));
        }
    };
    let body = state
        .blocking(move |state| {
            let entries = state.store.get(caller.reader(state)?, &id, versions)?;
            if entries.is_empty() {
                return Err(ApiError::not_found());
            }
            let views: Vec<_> = entries.iter().map(EntryView::of).collect();
            let answer = match versions {
                Versions::Latest => json!(views[0]),
                Versions::All => json!({ "versions": views }),
            };
            serde_json::to_vec(&answer).map_err(|error| ApiError::internal(&error))
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupParams {
    value: Option<String>,
    hide_expired: Option<bool>,
    hide_benign: Option<bool>,
}

impl LookupParams {
    fn options(&self) -> LookupOptions {
        LookupOptions {
            now_micros: watchfire_store::now_micros(),
            include_expired: !self.hide_expired.unwrap_or(false),
            include_benign: !self.hide_benign.unwrap_or(false),
        }
    }
}

#[derive(Serialize)]
struct Answer<'a> {
    value: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    canonical: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Value>,
    hits: &'a [Hit<'a>],
}

// Answers one value as one JSON value (the same shape as `watchfire lookup --json`).
fn answer(
    snapshot: &watchfire_index::Snapshot,
    access: &watchfire_index::Access,
    options: LookupOptions,
    value: &str,
) -> Vec<u8> {
    let answer = match Observable::parse(value) {
        Ok(observable) => {
            let hits = snapshot.lookup(access, &observable, options);
            serde_json::to_vec(&Answer {
                value,
                kind: Some(observable.kind().as_str()),
                canonical: Some(observable.value()),
                error: None,
                hits: &hits,
            })
        }
        Err(error) => serde_json::to_vec(&Answer {
            value,
            kind: None,
            canonical: None,
            error: Some(json!({"code": "bad_request", "message": error.to_string()})),
            hits: &[],
        }),
    };
    // Cannot fail: the answer holds strings, numbers and the index's serialisable hits.
    answer.expect("lookup answers serialise")
}

async fn lookup_one(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<LookupParams>,
) -> ApiResult<Response> {
    let reader = caller.reader(&state)?;
    let value = params
        .value
        .as_deref()
        .ok_or_else(|| ApiError::new(Code::BadRequest, "value: required"))?;
    Observable::parse(value)
        .map_err(|error| ApiError::new(Code::BadRequest, format!("value: {error}")))?;
    let snapshot = state.index.snapshot();
    let access = snapshot.access(reader);
    let body = answer(&snapshot, &access, params.options(), value);
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn lookup_bulk(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<LookupParams>,
    body: Body,
) -> ApiResult<Response> {
    caller.reader(&state)?;
    let limits = &state.config.limits;
    let bytes = read_body(body, limits.bulk_bytes).await?;
    let values = ndjson_values(&bytes, limits.line_bytes)?;
    let options = params.options();
    // Answers are made in chunks on the blocking pool and streamed out as they are ready.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let snapshot = state.index.snapshot();
        let Ok(reader) = caller.reader(&state) else {
            return;
        };
        let access = snapshot.access(reader);
        for chunk in values.chunks(1000) {
            let mut out = Vec::with_capacity(chunk.len() * 64);
            for value in chunk {
                out.extend_from_slice(&answer(&snapshot, &access, options, value));
                out.push(b'\n');
            }
            if sender.blocking_send(Ok(out)).is_err() {
                return;
            }
        }
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], Body::from_stream(stream))
        .into_response())
}

/// Splits an NDJSON body into values: each non-empty line is a value, or a JSON string, or an
/// object with a string `value`. A line over `line_bytes`, invalid UTF-8, or more than
/// [`MAX_BULK_VALUES`] values is a 400 naming the line.
pub fn ndjson_values(bytes: &[u8], line_bytes: usize) -> ApiResult<Vec<String>> {
    let mut values = Vec::new();
    for (index, line) in bytes.split(|byte| *byte == b'\n').enumerate() {
        let line_number = index + 1;
        if line.len() > line_bytes {
            return Err(ApiError::new(
                Code::LineTooLong,
                format!("line {line_number}: longer than {line_bytes} bytes"),
            ));
        }
        let line = std::str::from_utf8(line)
            .map_err(|_| ApiError::new(Code::BadRequest, format!("line {line_number}: not UTF-8")))?
            .trim();
        if line.is_empty() {
            continue;
        }
        let value = if line.starts_with('{') || line.starts_with('"') {
            let parsed: Value = serde_json::from_str(line).map_err(|error| {
                ApiError::new(Code::InvalidJson, format!("line {line_number}: {error}"))
            })?;
            let value = match &parsed {
                Value::String(text) => Some(text.clone()),
                Value::Object(object) => {
                    object.get("value").and_then(Value::as_str).map(str::to_owned)
                }
                _ => None,
            };
            value.ok_or_else(|| {
                ApiError::new(
                    Code::InvalidJson,
                    format!("line {line_number}: expected a string or {{\"value\": …}}"),
                )
            })?
        } else {
            line.to_owned()
        };
        if values.len() == MAX_BULK_VALUES {
            return Err(ApiError::new(
                Code::BadRequest,
                format!("more than {MAX_BULK_VALUES} values"),
            ));
        }
        values.push(value);
    }
    Ok(values)
}

/// One reported sighting.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SightingReport {
    value: Option<String>,
    sighting_of_ref: Option<String>,
    count: Option<u64>,
    first_seen: Option<String>,
    last_seen: Option<String>,
    tlp: Option<Tlp>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Reports {
    Many(Vec<SightingReport>),
    One(SightingReport),
}

async fn report_sightings(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(reports): JsonBody<Reports>,
) -> ApiResult<Response> {
    caller.require_any(&[Scope::Sensor, Scope::Write])?;
    let reports = match reports {
        Reports::Many(reports) => reports,
        Reports::One(report) => vec![report],
    };
    if reports.len() > MAX_BULK_VALUES {
        return Err(ApiError::new(
            Code::BadRequest,
            format!("more than {MAX_BULK_VALUES} sightings"),
        ));
    }
    let answer = state.blocking(move |state| record_sightings(state, &caller, &reports)).await?;
    Ok(json(&answer))
}

// Turns reports into STIX sightings owned by the caller's organisation: a value becomes one
// sighting of each indicator the caller can see claiming it; a value nobody claims (that the
// caller can see) is answered with `unknown`, so nothing is learnt about invisible claims.
fn record_sightings(
    state: &AppState,
    caller: &Caller,
    reports: &[SightingReport],
) -> ApiResult<Value> {
    let org = caller.identity.org.as_ref().ok_or_else(ApiError::unauthenticated)?;
    let reader = Reader::Principal(&caller.identity.principal);
    let snapshot = state.index.snapshot();
    let access = snapshot.access(reader);
    let now = Timestamp::from_unix_nanos(
        watchfire_store::now_micros().saturating_mul(1000),
        Precision::Millis,
    );
    let mut facts = Vec::new();
    let mut results = Vec::new();
    for (index, report) in reports.iter().enumerate() {
        let targets: Vec<String> = match (&report.value, &report.sighting_of_ref) {
            (Some(value), None) => match Observable::parse(value) {
                Ok(observable) => {
                    let hits = snapshot.lookup(
                        &access,
                        &observable,
                        LookupOptions::flag_all(watchfire_store::now_micros()),
                    );
                    let ids: BTreeSet<String> = hits
                        .iter()
                        .flat_map(|hit| hit.claims.iter().map(|claim| claim.indicator.to_string()))
                        .collect();
                    ids.into_iter().collect()
                }
                Err(error) => {
                    results.push(json!({"index": index, "error": {"code": "bad_request", "message": format!("value: {error}")}}));
                    continue;
                }
            },
            (None, Some(id)) => {
                if state.store.get(reader, id, Versions::Latest)?.is_empty() {
                    results.push(json!({"index": index, "error": {"code": "not_found", "message": "sighting_of_ref: not found"}}));
                    continue;
                }
                vec![id.clone()]
            }
            _ => {
                results.push(json!({"index": index, "error": {"code": "bad_request", "message": "give exactly one of value and sighting_of_ref"}}));
                continue;
            }
        };
        if targets.is_empty() {
            results.push(json!({"index": index, "unknown": true, "sightings": []}));
            continue;
        }
        let times = [("first_seen", &report.first_seen), ("last_seen", &report.last_seen)];
        let mut ids = Vec::new();
        for target in targets {
            let id = format!("sighting--{}", Uuid::new_v4());
            let mut object = json!({
                "type": "sighting",
                "spec_version": "2.1",
                "id": id,
                "created": now.as_str(),
                "modified": now.as_str(),
                "sighting_of_ref": target,
                "count": report.count.unwrap_or(1),
            });
            for (name, time) in times {
                if let Some(time) = time {
                    let time = watchfire_formats::time::parse(time).map_err(|reason| {
                        ApiError::new(
                            Code::BadRequest,
                            format!("sighting {index}: {name}: {reason}"),
                        )
                    })?;
                    object[name] = json!(time.with_precision(Precision::Millis).as_str());
                }
            }
            let Value::Object(properties) = object else { continue };
            let object = StixObject::from_properties(properties).map_err(|error| {
                ApiError::new(Code::BadRequest, format!("sighting {index}: {error}"))
            })?;
            let audience = Audience {
                owner: Some(org.id),
                ..Audience::node(report.tlp.unwrap_or(Tlp::Amber))
            };
            let mut audience = audience;
            if audience.tlp == Tlp::Red {
                audience.users.extend(member_user(&caller.identity.principal));
            }
            facts.push(Fact::object(format!("{}/sightings", org.name), audience, object));
            ids.push(id);
        }
        results.push(json!({"index": index, "sightings": ids}));
    }
    let outcome = state.store.append(&facts)?;
    Ok(json!({ "stored": outcome.new_versions, "results": results }))
}

/// Returns the user of a member principal (a RED object names its author).
pub fn member_user(
    principal: &watchfire_model::policy::Principal,
) -> Option<watchfire_model::policy::UserId> {
    match principal {
        watchfire_model::policy::Principal::Member(member) => member.user,
        _ => None,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SightingParams {
    of: String,
}

async fn sighting_count(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<SightingParams>,
) -> ApiResult<Response> {
    caller.reader(&state)?;
    let answer = state
        .blocking(move |state| {
            let reader = caller.reader(state)?;
            // An object the caller cannot see is not found, whatever its sightings.
            if state.store.get(reader, &params.of, Versions::Latest)?.is_empty() {
                return Err(ApiError::not_found());
            }
            let count = state.store.sightings(reader, &params.of)?;
            Ok(json!({
                "of": params.of,
                "sightings": count.sightings,
                "count": count.count,
                "last_seen": count.last_seen_micros.map(micros_text),
            }))
        })
        .await?;
    Ok(json(&answer))
}

async fn sources(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.reader(&state)?;
    let answer = state
        .blocking(move |state| {
            let sources = state.store.sources(caller.reader(state)?)?;
            Ok(json!({ "sources": sources }))
        })
        .await?;
    Ok(json(&answer))
}

async fn stats(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.reader(&state)?;
    let answer = state
        .blocking(move |state| {
            let mut stats = state.store.stats(caller.reader(state)?)?;
            // The log's head counts every entry, visible or not: not for callers.
            stats.last_seq = 0;
            Ok(json!({
                "objects": stats.objects,
                "by_type": stats.by_type,
                "by_source": stats.by_source,
                "by_tlp": stats.by_tlp,
                "claims": stats.claims,
                "claims_by_kind": stats.claims_by_kind,
                "observables": stats.observables,
            }))
        })
        .await?;
    Ok(json(&answer))
}
