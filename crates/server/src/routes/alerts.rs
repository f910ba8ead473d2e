//! Alerts and inhibitions: an organisation lists, filters, acknowledges and resolves the alerts
//! addressed to it, downloads a report of a period (CSV or JSON, like the reports CERTs get from
//! Shadowserver or n6), and mutes networks, domains, categories or known false positives.
//!
//! Alerts are log entries, so every read goes through the caller's reader (the one policy): an
//! organisation sees its own alerts and the outbreaks it may see, never another's; an alert it
//! may not see is not found, like a missing one.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use watchfire_model::record::Category;
use watchfire_store::{Query, Reader, Seq, Versions};
use watchfire_warn::{
    ALERT_TYPE, Alert, AlertFacts, Direction, Inhibition, InhibitionKind, NewInhibition, Severity,
    Status,
};

use super::intel::micros_text;
use super::{JsonBody, QueryParams, RouteDoc, json, parse_time};
use crate::AppState;
use crate::accounts::Scope;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Code};

/// The most alerts one page lists.
const MAX_PAGE: usize = 1000;

/// The most alerts one report holds.
const MAX_REPORT: usize = 100_000;

pub fn routes() -> Vec<(RouteDoc, MethodRouter<AppState>)> {
    vec![
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/alerts",
                summary: "List the alerts the caller may see (its organisation's, and outbreaks), newest change last, filtered",
                tag: "alerts",
                scope: Some("read"),
                params: &[
                    ("status", "query", "new, acknowledged, resolved or expired (comma-separated)"),
                    ("severity", "query", "the lowest severity: low, medium, high, critical"),
                    ("category", "query", "only this category"),
                    ("direction", "query", "hosted, reported or outbreak"),
                    ("after", "query", "the cursor of the previous page"),
                    ("limit", "query", "at most this many (default 100, at most 1000)"),
                ],
                body: None,
                answer: "application/json",
            },
            get(list_alerts),
        ),
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/alerts/report",
                summary: "A report of the caller's alerts seen in a period, as CSV or JSON",
                tag: "alerts",
                scope: Some("read"),
                params: &[
                    (
                        "from",
                        "query",
                        "start of the period (RFC 3339 or microseconds; default 24 h ago)",
                    ),
                    ("to", "query", "end of the period (default now)"),
                    ("format", "query", "csv (default) or json"),
                ],
                body: None,
                answer: "text/csv",
            },
            get(report),
        ),
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/alerts/{id}",
                summary: "One alert with its evidence and counter-measures",
                tag: "alerts",
                scope: Some("read"),
                params: &[("id", "path", "the alert's id")],
                body: None,
                answer: "application/json",
            },
            get(get_alert),
        ),
        (
            RouteDoc {
                method: "post",
                path: "/api/v1/alerts/{id}/acknowledge",
                summary: "Acknowledge an alert {note}",
                tag: "alerts",
                scope: Some("write"),
                params: &[("id", "path", "the alert's id")],
                body: Some("application/json"),
                answer: "application/json",
            },
            post(acknowledge),
        ),
        (
            RouteDoc {
                method: "post",
                path: "/api/v1/alerts/{id}/resolve",
                summary: "Resolve an alert {note}",
                tag: "alerts",
                scope: Some("write"),
                params: &[("id", "path", "the alert's id")],
                body: Some("application/json"),
                answer: "application/json",
            },
            post(resolve),
        ),
        (
            RouteDoc {
                method: "post",
                path: "/api/v1/alerts/{id}/reopen",
                summary: "Open a resolved or expired alert again {note}",
                tag: "alerts",
                scope: Some("write"),
                params: &[("id", "path", "the alert's id")],
                body: Some("application/json"),
                answer: "application/json",
            },
            post(reopen),
        ),
        (
            RouteDoc {
                method: "post",
                path: "/api/v1/alerts/{id}/share",
                summary: "Share an alert of the caller's organisation with {organisations: [names]} (AMBER+STRICT: they see it, no one beyond)",
                tag: "alerts",
                scope: Some("write"),
                params: &[("id", "path", "the alert's id")],
                body: Some("application/json"),
                answer: "application/json",
            },
            post(share),
        ),
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/inhibitions",
                summary: "List the caller's organisation's inhibitions, with how many matches each muted",
                tag: "alerts",
                scope: Some("read"),
                params: &[],
                body: None,
                answer: "application/json",
            },
            get(list_inhibitions),
        ),
        (
            RouteDoc {
                method: "post",
                path: "/api/v1/inhibitions",
                summary: "Mute {kind: network|domain|category|observable, value, reason, expires} for the caller's organisation",
                tag: "alerts",
                scope: Some("write"),
                params: &[],
                body: Some("application/json"),
                answer: "application/json",
            },
            post(create_inhibition),
        ),
        (
            RouteDoc {
                method: "delete",
                path: "/api/v1/inhibitions/{id}",
                summary: "Lift an inhibition of the caller's organisation",
                tag: "alerts",
                scope: Some("write"),
                params: &[("id", "path", "the inhibition's id")],
                body: None,
                answer: "application/json",
            },
            delete(lift_inhibition),
        ),
    ]
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<String>,
    severity: Option<String>,
    category: Option<String>,
    direction: Option<String>,
    after: Option<Seq>,
    limit: Option<usize>,
}

/// Which alerts a list or report keeps.
#[derive(Debug, Default)]
struct Filter {
    statuses: Vec<Status>,
    severity: Option<Severity>,
    category: Option<Category>,
    direction: Option<Direction>,
}

impl Filter {
    fn parse(params: &ListParams) -> ApiResult<Filter> {
        let bad =
            |name: &str, error: String| ApiError::new(Code::BadRequest, format!("{name}: {error}"));
        let mut filter = Filter::default();
        if let Some(statuses) = &params.status {
            for status in statuses.split(',').filter(|status| !status.is_empty()) {
                filter.statuses.push(status.parse().map_err(|error| bad("status", error))?);
            }
        }
        if let Some(severity) = &params.severity {
            filter.severity = Some(severity.parse().map_err(|error| bad("severity", error))?);
        }
        if let Some(category) = &params.category {
            filter.category = Some(category.parse().map_err(
                |error: watchfire_model::record::UnknownCategory| {
                    bad("category", error.to_string())
                },
            )?);
        }
        if let Some(direction) = &params.direction {
            filter.direction = Some(match direction.as_str() {
                "hosted" => Direction::Hosted,
                "reported" => Direction::Reported,
                "outbreak" => Direction::Outbreak,
                other => {
                    return Err(bad(
                        "direction",
                        format!(
                            "unknown direction {other:?}: expected hosted, reported or outbreak"
                        ),
                    ));
                }
            });
        }
        Ok(filter)
    }

    fn keeps(&self, alert: &Alert) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&alert.status))
            && self.severity.is_none_or(|lowest| alert.severity >= lowest)
            && self.category.is_none_or(|category| alert.category == category)
            && self.direction.is_none_or(|direction| alert.direction == direction)
    }
}

/// Reads the current alerts `reader` may see after `after`, keeping those `keep` accepts, until
/// `limit` are found or the log ends; returns them and the cursor of the next page.
fn read_alerts(
    state: &AppState,
    reader: Reader<'_>,
    after: Seq,
    limit: usize,
    added_from: Option<i64>,
    keep: &dyn Fn(&Alert) -> bool,
) -> ApiResult<(Vec<Alert>, Option<Seq>)> {
    let mut query = Query {
        after,
        limit: limit.clamp(1, MAX_PAGE),
        types: vec![ALERT_TYPE.to_owned()],
        latest_only: true,
        added_from,
        ..Query::default()
    };
    let mut found = Vec::new();
    loop {
        let page = state.store.query(reader, &query)?;
        for entry in &page.entries {
            match Alert::from_entry(entry) {
                Ok(alert) if keep(&alert) => {
                    found.push(alert);
                    if found.len() == limit {
                        return Ok((found, Some(entry.seq)));
                    }
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "skipping an unreadable alert"),
            }
        }
        match page.next {
            Some(next) => query.after = next,
            None => return Ok((found, None)),
        }
    }
}

async fn list_alerts(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ListParams>,
) -> ApiResult<Response> {
    let filter = Filter::parse(&params)?;
    let limit = params.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    let after = params.after.unwrap_or(0);
    let answer = state
        .blocking(move |state| {
            let reader = caller.reader(state)?;
            let (alerts, next) =
                read_alerts(state, reader, after, limit, None, &|alert| filter.keeps(alert))?;
            Ok(json!({ "alerts": alerts, "next": next }))
        })
        .await?;
    Ok(json(&answer))
}

async fn get_alert(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let answer = state
        .blocking(move |state| {
            let reader = caller.reader(state)?;
            let versions = state.store.get(reader, &id, Versions::All)?;
            let alert = versions
                .last()
                .filter(|entry| entry.object_type == ALERT_TYPE)
                .and_then(|entry| Alert::from_entry(entry).ok())
                .ok_or_else(ApiError::not_found)?;
            Ok(alert_view(&alert, versions.len()))
        })
        .await?;
    Ok(json(&answer))
}

/// An alert as the API answers it: the alert, how many versions it has, and its counter-measures
/// (the playbook's steps and rule snippets for its observable, and the same as a STIX
/// `course-of-action`).
fn alert_view(alert: &Alert, versions: usize) -> Value {
    let observables = [alert.observable.clone()];
    let facts = AlertFacts {
        alert_id: &alert.id,
        category: alert.category,
        direction: alert.direction,
        event_type: alert.event_type.as_deref(),
        observables: &observables,
        port: alert.port,
    };
    // Made at the alert's last change, so the same version always gives the same snippets.
    let guidance = watchfire_warn::guidance(&facts, &alert.modified);
    let course_of_action = watchfire_warn::course_of_action(&guidance, &alert.id, &alert.created);
    let mut view = serde_json::to_value(alert).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut view {
        fields.insert("versions".into(), versions.into());
        fields.insert("guidance".into(), serde_json::to_value(&guidance).unwrap_or(Value::Null));
        fields.insert(
            "course_of_action".into(),
            serde_json::to_value(&course_of_action).unwrap_or(Value::Null),
        );
    }
    view
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    #[serde(default)]
    note: Option<String>,
}

async fn acknowledge(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    change_status(state, caller, id, body, Status::Acknowledged).await
}

async fn resolve(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    change_status(state, caller, id, body, Status::Resolved).await
}

async fn reopen(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    change_status(state, caller, id, body, Status::New).await
}

async fn change_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
    status: Status,
) -> ApiResult<Response> {
    caller.require(Scope::Write)?;
    // The body is optional: `{"note": "..."}` or nothing.
    let change: StatusChange = if body.iter().all(u8::is_ascii_whitespace) {
        StatusChange::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|error| ApiError::new(Code::InvalidJson, format!("body: {error}")))?
    };
    let note = change.note.map(|note| note.chars().take(2000).collect());
    let answer = state
        .blocking(move |state| {
            let reader = caller.reader(state)?;
            // Outbreaks belong to nobody: only the organisation addressed changes an alert.
            let entry = state.store.get(reader, &id, Versions::Latest)?.pop();
            let own = caller.identity.org.as_ref().map(|org| org.id);
            let addressed = entry
                .as_ref()
                .and_then(|entry| Alert::from_entry(entry).ok())
                .is_some_and(|alert| alert.organisation.is_some() && alert.organisation == own);
            if !addressed {
                return Err(ApiError::not_found());
            }
            let by = caller.identity.user_name.clone().unwrap_or_else(|| "token".to_owned());
            let mut engine =
                state.warn.lock().map_err(|_| ApiError::internal(&"the alert engine failed"))?;
            let alert = engine
                .set_status(&*state.store, reader, &id, status, &by, note)
                .map_err(warn_error)?
                .ok_or_else(ApiError::not_found)?;
            tracing::info!(alert = %alert.id, status = %alert.status, by, "alert status changed");
            Ok(serde_json::to_value(&alert).unwrap_or(Value::Null))
        })
        .await?;
    Ok(json(&answer))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareBody {
    organisations: Vec<String>,
}

/// The most organisations one share names.
const MAX_SHARE: usize = 100;

async fn share(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ShareBody>,
) -> ApiResult<Response> {
    caller.require(Scope::Write)?;
    let org = caller_org(&caller)?;
    if body.organisations.is_empty() || body.organisations.len() > MAX_SHARE {
        return Err(ApiError::new(
            Code::BadRequest,
            format!("organisations: name 1 to {MAX_SHARE} organisations"),
        ));
    }
    let answer = state
        .blocking(move |state| {
            let mut with = Vec::new();
            for name in &body.organisations {
                let other = state.accounts.org_by_name(name).map_err(|_| {
                    ApiError::new(
                        Code::BadRequest,
                        format!("organisations: no organisation {name:?}"),
                    )
                })?;
                with.push(other.id);
            }
            let reader = caller.reader(state)?;
            let mut engine =
                state.warn.lock().map_err(|_| ApiError::internal(&"the alert engine failed"))?;
            let (alert, audience) = engine
                .share(&*state.store, reader, org, &id, &with)
                .map_err(warn_error)?
                .ok_or_else(ApiError::not_found)?;
            let orgs = state.accounts.orgs().map_err(crate::auth::account_error)?;
            let names: Vec<&str> = audience
                .organisations
                .iter()
                .filter_map(|id| orgs.iter().find(|org| org.id == *id).map(|org| org.name.as_str()))
                .collect();
            tracing::info!(alert = %alert.id, with = ?names, "alert shared");
            Ok(json!({ "alert": alert, "shared_with": names }))
        })
        .await?;
    Ok(json(&answer))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportParams {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

/// The columns of the CSV report, in order.
const REPORT_COLUMNS: [&str; 16] = [
    "id",
    "first_seen",
    "last_seen",
    "severity",
    "score",
    "status",
    "direction",
    "category",
    "kind",
    "value",
    "matched",
    "event_type",
    "port",
    "count",
    "sources",
    "window_start",
];

async fn report(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ReportParams>,
) -> ApiResult<Response> {
    let now = watchfire_store::now_micros();
    let to = params.to.as_deref().map(|text| parse_time("to", text)).transpose()?.unwrap_or(now);
    let from = match params.from.as_deref() {
        Some(text) => parse_time("from", text)?,
        None => to - 86_400_000_000,
    };
    if from > to {
        return Err(ApiError::new(Code::BadRequest, "from: after to"));
    }
    let csv = match params.format.as_deref() {
        None | Some("csv") => true,
        Some("json") => false,
        Some(other) => {
            return Err(ApiError::new(
                Code::BadRequest,
                format!("format: unknown report format {other:?}: expected csv or json"),
            ));
        }
    };
    let alerts = state
        .blocking(move |state| {
            let reader = caller.reader(state)?;
            // An alert last seen in the period was changed in it or later: read from `from`.
            let within = |alert: &Alert| {
                let seen = alert.last_seen.unix_nanos() / 1000;
                let first = alert.first_seen.unix_nanos() / 1000;
                seen >= i128::from(from) && first <= i128::from(to)
            };
            let (alerts, _) = read_alerts(state, reader, 0, MAX_REPORT, Some(from), &within)?;
            Ok(alerts)
        })
        .await?;
    if !csv {
        let period = json!({ "from": micros_text(from), "to": micros_text(to) });
        return Ok(json(&json!({ "period": period, "alerts": alerts })));
    }
    let mut text = REPORT_COLUMNS.join(",");
    text.push('\n');
    for alert in &alerts {
        let row = [
            alert.id.clone(),
            alert.first_seen.to_string(),
            alert.last_seen.to_string(),
            alert.severity.to_string(),
            alert.score.to_string(),
            alert.status.to_string(),
            alert.direction.to_string(),
            alert.category.to_string(),
            alert.observable.kind().as_str().to_owned(),
            alert.observable.value().to_owned(),
            alert.matched.as_ref().map(|matched| matched.value.clone()).unwrap_or_default(),
            alert.event_type.clone().unwrap_or_default(),
            alert.port.map(|port| port.to_string()).unwrap_or_default(),
            alert.count.to_string(),
            alert.sources.join(" "),
            alert.window_start.to_string(),
        ];
        let cells: Vec<String> = row.iter().map(|cell| csv_cell(cell)).collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response())
}

// A CSV cell, quoted when it holds a separator, a quote or a line break; a cell a spreadsheet
// would read as a formula is prefixed with a quote.
fn csv_cell(cell: &str) -> String {
    let cell =
        if cell.starts_with(['=', '+', '-', '@']) { format!("'{cell}") } else { cell.to_owned() };
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

fn warn_error(error: watchfire_warn::Error) -> ApiError {
    use watchfire_warn::Error;
    match error {
        Error::InvalidInhibition { .. } | Error::Invalid { .. } => {
            ApiError::new(Code::BadRequest, error.to_string())
        }
        Error::NotFound(_) => ApiError::not_found(),
        Error::Store(error) => ApiError::from(error),
        _ => ApiError::internal(&error),
    }
}

fn inhibition_view(inhibition: &Inhibition) -> Value {
    json!({
        "id": inhibition.id,
        "kind": inhibition.kind,
        "value": inhibition.value,
        "reason": inhibition.reason,
        "created_by": inhibition.created_by,
        "created": micros_text(inhibition.created_micros),
        "expires": micros_text(inhibition.expires_micros),
        "active": inhibition.expires_micros > watchfire_store::now_micros(),
        "muted": inhibition.muted,
    })
}

// The caller's organisation: alerts and inhibitions are an organisation's.
fn caller_org(caller: &Caller) -> ApiResult<watchfire_model::policy::OrgId> {
    caller.identity.org.as_ref().map(|org| org.id).ok_or_else(|| {
        ApiError::new(
            Code::Forbidden,
            "only members of an organisation have alerts and inhibitions",
        )
    })
}

async fn list_inhibitions(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let org = caller_org(&caller)?;
    let views = state
        .blocking(move |state| {
            let inhibitions =
                watchfire_warn::inhibitions(&*state.store, Some(org)).map_err(warn_error)?;
            Ok(inhibitions.iter().map(inhibition_view).collect::<Vec<_>>())
        })
        .await?;
    Ok(json(&json!({ "inhibitions": views })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewInhibitionBody {
    kind: InhibitionKind,
    value: String,
    #[serde(default)]
    reason: String,
    /// RFC 3339 or microseconds; default 30 days ahead.
    #[serde(default)]
    expires: Option<String>,
}

async fn create_inhibition(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewInhibitionBody>,
) -> ApiResult<Response> {
    caller.require(Scope::Write)?;
    let org = caller_org(&caller)?;
    let now = watchfire_store::now_micros();
    let expires_micros = match body.expires.as_deref() {
        Some(text) => parse_time("expires", text)?,
        None => now + 30 * 86_400_000_000,
    };
    let new =
        NewInhibition { kind: body.kind, value: body.value, reason: body.reason, expires_micros };
    let by = caller.identity.user_name.clone().unwrap_or_else(|| "token".to_owned());
    let view = state
        .blocking(move |state| {
            let inhibition =
                watchfire_warn::inhibit(&*state.store, org, &new, &by, now).map_err(warn_error)?;
            tracing::info!(
                inhibition = inhibition.id,
                value = inhibition.value,
                by,
                "inhibition made"
            );
            Ok(inhibition_view(&inhibition))
        })
        .await?;
    Ok(json(&view))
}

async fn lift_inhibition(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Scope::Write)?;
    let org = caller_org(&caller)?;
    state
        .blocking(move |state| {
            if watchfire_warn::lift(&*state.store, org, &id).map_err(warn_error)? {
                Ok(())
            } else {
                Err(ApiError::not_found())
            }
        })
        .await?;
    Ok(json(&json!({ "lifted": true })))
}
