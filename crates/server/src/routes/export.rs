//! `GET /api/v1/export`: the current indicators the caller may see, streamed in any written
//! format (STIX bundle, MISP, CSV, JSON lines, text, hosts, Suricata, Snort, Zeek, RPZ,
//! nftables), filtered by source, TLP and time.
//!
//! The log is read page by page on the blocking pool and written through the format's writer
//! into a bounded channel, so an export of any size holds a few pages in memory. The STIX writer
//! is given the stored objects as they are; the other writers the indicator records made from
//! them, exactly as `watchfire convert` writes a STIX bundle.

use std::io::{self, Write};

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde::Deserialize;
use tokio::sync::mpsc;
use watchfire_formats::write::{WriteOptions, WriterKind};
use watchfire_model::record::Record;
use watchfire_model::stix::{Precision, StixObject, Timestamp};

use super::{QueryParams, RouteDoc, list, parse_time};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Code};

/// Log entries read per page of an export.
const PAGE: usize = 5000;
/// Bytes written per chunk sent to the client.
const CHUNK: usize = 64 * 1024;

pub fn routes() -> Vec<(RouteDoc, MethodRouter<AppState>)> {
    vec![(
        RouteDoc {
            method: "get",
            path: "/api/v1/export",
            summary: "Stream the current indicators the caller may see in a written format (block rules, lists, STIX, MISP)",
            tag: "intelligence",
            scope: Some("read"),
            params: &[
                (
                    "format",
                    "query",
                    "csv, hosts, jsonl, misp, nftables, rpz, snort, stix, suricata, suricata-dataset-domains, suricata-dataset-sha256, suricata-iprep, text, zeek",
                ),
                ("source", "query", "sources, comma-separated"),
                ("tlp", "query", "TLP levels, comma-separated"),
                ("added_after", "query", "added at or after (RFC 3339 or microseconds)"),
                ("added_before", "query", "added before (RFC 3339 or microseconds)"),
            ],
            body: None,
            answer: "text/plain",
        },
        get(export),
    )]
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportParams {
    format: Option<String>,
    source: Option<String>,
    tlp: Option<String>,
    added_after: Option<String>,
    added_before: Option<String>,
}

async fn export(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ExportParams>,
) -> ApiResult<Response> {
    caller.reader(&state)?;
    let name = params
        .format
        .as_deref()
        .ok_or_else(|| ApiError::new(Code::BadRequest, "format: required"))?;
    let kind: WriterKind =
        name.parse().map_err(|error: watchfire_formats::write::UnknownWriter| {
            ApiError::new(Code::UnknownFormat, error.to_string())
        })?;
    let mut tlp = Vec::new();
    for level in list(params.tlp.as_deref()) {
        tlp.push(level.parse().map_err(|_| {
            ApiError::new(Code::BadRequest, format!("tlp: unknown level {level:?}"))
        })?);
    }
    let query = watchfire_store::Query {
        after: 0,
        limit: PAGE,
        types: vec!["indicator".to_owned()],
        sources: list(params.source.as_deref()),
        tlp,
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
    let (sender, receiver) = mpsc::channel::<io::Result<Vec<u8>>>(4);
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter { buffer: Vec::with_capacity(CHUNK), sender };
        if let Err(error) = write_export(&state, &caller, kind, query, &mut out) {
            // The status line is gone: end the body with an error so the client sees a broken
            // transfer rather than a short file it might take as whole.
            tracing::warn!(%error, "export stopped");
            let _ = out.sender.blocking_send(Err(io::Error::other("export stopped")));
            return;
        }
        let _ = out.flush();
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let media_type = match kind {
        WriterKind::Stix | WriterKind::Misp => "application/json",
        WriterKind::Jsonl => "application/x-ndjson",
        WriterKind::Csv => "text/csv; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };
    Ok(([(header::CONTENT_TYPE, media_type)], Body::from_stream(stream)).into_response())
}

fn write_export(
    state: &AppState,
    caller: &Caller,
    kind: WriterKind,
    mut query: watchfire_store::Query,
    out: &mut ChannelWriter,
) -> Result<(), Box<dyn std::error::Error>> {
    let reader = watchfire_store::Reader::Principal(&caller.identity.principal);
    let now = Timestamp::from_unix_nanos(
        watchfire_store::now_micros().saturating_mul(1000),
        Precision::Millis,
    );
    let options = WriteOptions::new("watchfire", now);
    let mut writer = kind.writer(&options);
    writer.begin(out)?;
    loop {
        let page = state.store.query(reader, &query)?;
        for entry in &page.entries {
            let Ok(object) = entry.object() else { continue };
            if kind == WriterKind::Stix {
                writer.write(out, &Record::Stix(Box::new(object)))?;
                continue;
            }
            if let StixObject::Indicator(indicator) = &object {
                for record in watchfire_formats::stix::indicator_records(indicator) {
                    writer.write(out, &Record::Indicator(record))?;
                }
            }
        }
        match page.next {
            Some(next) => query.after = next,
            None => break,
        }
    }
    writer.finish(out)?;
    Ok(())
}

/// A writer that sends what it is given to the response body in chunks, waiting while the
/// client is slow (the channel is bounded) and failing once the client is gone.
struct ChannelWriter {
    buffer: Vec<u8>,
    sender: mpsc::Sender<io::Result<Vec<u8>>>,
}

impl Write for ChannelWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}
