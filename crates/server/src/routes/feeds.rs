//! The feed sources the node pulls: their health (`GET /api/v1/feeds`, read scope) and a pull on
//! demand (`POST /api/v1/feeds/{name}/run`, admin scope). Credentials are shown by kind only;
//! the sources are configured with `watchfire feeds`.
//!
//! A failed pull is an outcome, not an API error: the answer is 200 with `ok: false` and the
//! reason, as the source's health records it.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};
use serde_json::json;
use watchfire_feeds::{Error as FeedError, Options};

use super::{RouteDoc, json};
use crate::AppState;
use crate::accounts::Scope;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Code};

pub fn routes() -> Vec<(RouteDoc, MethodRouter<AppState>)> {
    vec![
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/feeds",
                summary: "The feed sources with their health: last success, last error, records, rejects, failures, circuit, next pull",
                tag: "feeds",
                scope: Some("read"),
                params: &[],
                body: None,
                answer: "application/json",
            },
            get(list),
        ),
        (
            RouteDoc {
                method: "post",
                path: "/api/v1/feeds/{name}/run",
                summary: "Pull a source now; answers its report, or ok: false with the reason",
                tag: "feeds",
                scope: Some("admin"),
                params: &[("name", "path", "the source's name")],
                body: None,
                answer: "application/json",
            },
            post(run),
        ),
    ]
}

async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let sources = state
        .blocking(|state| watchfire_feeds::source::listing(&*state.store).map_err(feed_error))
        .await?;
    Ok(json(&json!({ "sources": sources })))
}

async fn run(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    caller.require(Scope::Admin)?;
    let answer = state
        .blocking(move |state| {
            match watchfire_feeds::pull_now(&*state.store, &name, &Options::default()) {
                Ok(report) => Ok(json!({ "ok": true, "report": report })),
                Err(FeedError::Pull { name, reason }) => {
                    Ok(json!({ "ok": false, "source": name, "error": reason }))
                }
                Err(error) => Err(feed_error(error)),
            }
        })
        .await?;
    Ok(json(&answer))
}

fn feed_error(error: FeedError) -> ApiError {
    match error {
        FeedError::UnknownSource(_) => ApiError::not_found(),
        FeedError::Busy(name) => {
            ApiError::new(Code::Conflict, format!("{name}: a pull is already running"))
        }
        FeedError::Store(error) => error.into(),
        other => ApiError::internal(&other),
    }
}
