//! `GET /api/v1/stream`: Server-Sent Events of new intelligence as it lands in the log, each
//! event filtered by the policy for the caller.
//!
//! An event's id is its log sequence number; a client that reconnects with `Last-Event-ID`
//! (or `?after=`) resumes right after it, missing nothing. Without either, the stream starts at
//! the log's head: only what is new. Event `object` carries a new version, `tombstone` a
//! deletion; the data is the entry as the REST API shows it. A comment every 15 s keeps proxies
//! from closing an idle stream. Open streams are capped per node.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::intel::EntryView;
use super::{QueryParams, RouteDoc};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Code};

/// Entries read per page while catching up.
const PAGE: usize = 500;

pub fn routes() -> Vec<(RouteDoc, MethodRouter<AppState>)> {
    vec![(
        RouteDoc {
            method: "get",
            path: "/api/v1/stream",
            summary: "Server-Sent Events of new intelligence the caller may see; resumable with Last-Event-ID",
            tag: "stream",
            scope: Some("read"),
            params: &[
                ("after", "query", "resume after this log sequence number (as Last-Event-ID does)"),
                ("types", "query", "only these STIX types, comma-separated"),
            ],
            body: None,
            answer: "text/event-stream",
        },
        get(stream),
    )]
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamParams {
    after: Option<u64>,
    types: Option<String>,
}

/// Releases a stream's slot when the stream ends.
struct Slot(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    QueryParams(params): QueryParams<StreamParams>,
) -> ApiResult<Response> {
    caller.reader(&state)?;
    let last_event_id = match headers.get("last-event-id") {
        Some(value) => {
            Some(value.to_str().ok().and_then(|text| text.trim().parse::<u64>().ok()).ok_or_else(
                || ApiError::new(Code::BadRequest, "Last-Event-ID: not a log sequence number"),
            )?)
        }
        None => None,
    };
    let open = state.streams.fetch_add(1, Ordering::Relaxed);
    let slot = Slot(std::sync::Arc::clone(&state.streams));
    if open >= state.config.limits.max_streams {
        return Err(ApiError::new(
            Code::TooManyRequests,
            "too many live streams open; retry later",
        )
        .retry_after(30));
    }
    // Without a cursor, "now" is the store's head (the follower's published head may lag it).
    let mut cursor = match last_event_id.or(params.after) {
        Some(after) => after,
        None => state.blocking(|state| Ok(state.store.last_seq()?)).await?,
    };
    let types = super::list(params.types.as_deref());
    let (sender, receiver) = mpsc::channel::<Event>(PAGE);
    let mut head = state.head.clone();
    tokio::spawn(async move {
        let _slot = slot;
        loop {
            // Catch up page by page, then wait for the head to move. Every entry up to the head
            // seen before the read is in the read (sequence numbers follow commit order).
            let head_before = *head.borrow_and_update();
            let query = watchfire_store::Query {
                after: cursor,
                limit: PAGE,
                types: types.clone(),
                ..watchfire_store::Query::default()
            };
            let caller = caller.clone();
            let page = state
                .blocking(move |state| {
                    let reader = caller.reader(state)?;
                    let page = state.store.query(reader, &query)?;
                    let events: Vec<Event> = page.entries.iter().map(event).collect();
                    Ok((events, page.next, page.entries.last().map(|entry| entry.seq)))
                })
                .await;
            let Ok((events, next, last)) = page else {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            };
            for event in events {
                if sender.send(event).await.is_err() {
                    return;
                }
            }
            match next {
                Some(next) => cursor = next,
                None => {
                    cursor = last.unwrap_or(cursor).max(cursor).max(head_before);
                    if *head.borrow() > cursor {
                        continue;
                    }
                    tokio::select! {
                        changed = head.changed() => if changed.is_err() { return },
                        () = sender.closed() => return,
                    }
                }
            }
        }
    });
    let events = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|event| (Ok::<_, Infallible>(event), receiver))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

fn event(entry: &watchfire_store::Entry) -> Event {
    let name = match entry.kind {
        watchfire_store::EntryKind::Object => "object",
        watchfire_store::EntryKind::Tombstone => "tombstone",
    };
    let data = serde_json::to_string(&EntryView::of(entry)).unwrap_or_default();
    Event::default().id(entry.seq.to_string()).event(name).data(data)
}
