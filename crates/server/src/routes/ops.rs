//! Operability: the front page, health and readiness, metrics, the OpenAPI document and the
//! error table.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde_json::json;

use super::{RouteDoc, json};
use crate::AppState;
use crate::accounts::Scope;
use crate::auth::Caller;
use crate::error::{ApiResult, Code};
use crate::metrics::Gauges;

pub fn routes() -> Vec<(RouteDoc, MethodRouter<AppState>)> {
    vec![
        (
            RouteDoc {
                method: "get",
                path: "/",
                summary: "A page saying what runs here, with links to the API document",
                tag: "operations",
                scope: None,
                params: &[],
                body: None,
                answer: "text/html",
            },
            get(front_page),
        ),
        (
            RouteDoc {
                method: "get",
                path: "/healthz",
                summary: "Liveness: the process answers",
                tag: "operations",
                scope: None,
                params: &[],
                body: None,
                answer: "text/plain",
            },
            get(|| async { "ok\n" }),
        ),
        (
            RouteDoc {
                method: "get",
                path: "/readyz",
                summary: "Readiness: the store answers (503 otherwise)",
                tag: "operations",
                scope: None,
                params: &[],
                body: None,
                answer: "text/plain",
            },
            get(ready),
        ),
        (
            RouteDoc {
                method: "get",
                path: "/metrics",
                summary: "Prometheus metrics (text format 0.0.4); counts of the whole log, so admins only",
                tag: "operations",
                scope: Some("admin"),
                params: &[],
                body: None,
                answer: "text/plain",
            },
            get(metrics),
        ),
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/openapi.json",
                summary: "This API's OpenAPI 3.1 document",
                tag: "operations",
                scope: None,
                params: &[],
                body: None,
                answer: "application/json",
            },
            get(|| async { json(&crate::openapi::document()) }),
        ),
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/errors",
                summary: "Every error code with its status and meaning",
                tag: "operations",
                scope: None,
                params: &[],
                body: None,
                answer: "application/json",
            },
            get(errors),
        ),
    ]
}

async fn front_page(State(state): State<AppState>) -> Html<String> {
    let public = if state.config.public { "served to anyone" } else { "for members only" };
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>watchfire</title></head>\n\
         <body><h1>watchfire {version}</h1>\n\
         <p>This is a watchfire node: threat intelligence aggregated from many providers, early warnings for each member, \
         shared under the Traffic Light Protocol. CLEAR data is {public}.</p>\n\
         <ul><li><a href=\"/api/v1/openapi.json\">REST API (OpenAPI 3.1 document)</a></li>\n\
         <li><a href=\"/api/v1/errors\">error codes</a></li>\n\
         <li><a href=\"/healthz\">health</a>, <a href=\"/readyz\">readiness</a></li></ul>\n\
         <p>Log in with <code>POST /api/v1/session</code>, or call the API with a token: \
         <code>Authorization: Bearer wf_…</code>. The web UI comes later.</p></body></html>\n",
        version = env!("CARGO_PKG_VERSION"),
    ))
}

async fn ready(State(state): State<AppState>) -> Response {
    let answer = state.blocking(|state| Ok(state.store.last_seq()?)).await;
    match answer {
        Ok(_) => "ready\n".into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "the store does not answer\n").into_response(),
    }
}

async fn metrics(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.require(Scope::Admin)?;
    let snapshot = state.index.snapshot();
    let gauges = Gauges {
        log_head: *state.head.borrow(),
        index_claims: snapshot.n_claims() as u64,
        index_seq: snapshot.seq(),
        streams: state.streams.load(std::sync::atomic::Ordering::Relaxed) as u64,
        warn_cursor: state.warn_cursor.load(std::sync::atomic::Ordering::Relaxed),
        warn_lookbacks: state.warn_lookbacks.load(std::sync::atomic::Ordering::Relaxed),
    };
    let text = state.metrics.render(&gauges);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

async fn errors() -> Response {
    let codes: Vec<_> = Code::ALL
        .iter()
        .map(|code| json!({"code": code.as_str(), "status": code.status().as_u16(), "meaning": code.meaning()}))
        .collect();
    json(&json!({ "errors": codes }))
}
