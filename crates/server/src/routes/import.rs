//! `POST /api/v1/import`: an organisation uploads a file in any format the node reads.
//!
//! The body is the file (gzip and zip are unpacked, capped by `formats::input`); its format is
//! named or detected. What it holds is owned by the caller's organisation, at the TLP of each
//! record, else the request's `tlp` (default AMBER: an upload is not for everyone unless its
//! owner says so), shared with the organisations and users the request names. Its source is
//! `<organisation>/<source>`, so that an upload can never pass for a feed of the node.
//!
//! The upload is one transaction: when the file cannot be read to its end (a truncated archive,
//! say), nothing of it is stored and the answer says why; rejected lines are data, reported with
//! the good records stored.

use std::io::Cursor;

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{MethodRouter, post};
use serde::Deserialize;
use serde_json::json;
use watchfire_feeds::{Ingest, Tally};
use watchfire_formats::Item;
use watchfire_model::policy::{Audience, Origin};
use watchfire_model::stix::{Precision, Timestamp};
use watchfire_model::tlp::Tlp;

use super::intel::member_user;
use super::{QueryParams, RouteDoc, json, list, read_body};
use crate::AppState;
use crate::accounts::Scope;
use crate::auth::{Caller, account_error};
use crate::error::{ApiError, ApiResult, Code};

pub fn routes() -> Vec<(RouteDoc, MethodRouter<AppState>)> {
    vec![(
        RouteDoc {
            method: "post",
            path: "/api/v1/import",
            summary: "Upload a feed file in any readable format; returns the counts, the rejects and the new versions",
            tag: "intelligence",
            scope: Some("write"),
            params: &[
                (
                    "format",
                    "query",
                    "a format name of `watchfire feeds formats`, or `auto` (default)",
                ),
                ("source", "query", "the source name under the organisation (default `upload`)"),
                ("tlp", "query", "the TLP of records that carry none (default amber)"),
                (
                    "share_orgs",
                    "query",
                    "organisation names the data is shared with (AMBER, AMBER+STRICT), comma-separated",
                ),
                (
                    "share_users",
                    "query",
                    "user names the data is for (RED), comma-separated; the uploader is always one",
                ),
            ],
            body: Some("application/octet-stream"),
            answer: "application/json",
        },
        post(upload),
    )]
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportParams {
    format: Option<String>,
    source: Option<String>,
    tlp: Option<Tlp>,
    share_orgs: Option<String>,
    share_users: Option<String>,
}

async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ImportParams>,
    body: Body,
) -> ApiResult<Response> {
    caller.require(Scope::Write)?;
    let format = match params.format.as_deref() {
        None | Some("auto") => None,
        Some(name) => Some(
            watchfire_formats::format_by_name(name)
                .map_err(|error| ApiError::new(Code::UnknownFormat, error.to_string()))?,
        ),
    };
    let source = params.source.clone().unwrap_or_else(|| "upload".to_owned());
    let is_name = !source.is_empty()
        && source.len() <= 64
        && source.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"-_.".contains(&byte));
    if !is_name {
        return Err(ApiError::new(
            Code::BadRequest,
            "source: 1 to 64 characters of a-z, A-Z, 0-9, '-', '_', '.'",
        ));
    }
    let bytes = read_body(body, state.config.limits.import_bytes).await?;
    let answer = state
        .blocking(move |state| {
            let org = caller.identity.org.clone().ok_or_else(ApiError::unauthenticated)?;
            let mut audience = Audience {
                owner: Some(org.id),
                tlp: Tlp::Amber,
                organisations: Vec::new(),
                users: Vec::new(),
                origin: Origin::Local,
            };
            for name in list(params.share_orgs.as_deref()) {
                let shared = state.accounts.org_by_name(&name).map_err(account_error)?;
                audience.organisations.push(shared.id);
            }
            for name in list(params.share_users.as_deref()) {
                let user = state.accounts.user(&name).map_err(account_error)?;
                let user = user.ok_or_else(|| {
                    ApiError::new(Code::BadRequest, format!("share_users: no user {name:?}"))
                })?;
                audience.users.push(user.id);
            }
            // The author of RED data is among its named users (policy: the store expects it).
            audience.users.extend(member_user(&caller.identity.principal));
            let now = Timestamp::from_unix_nanos(
                watchfire_store::now_micros().saturating_mul(1000),
                Precision::Millis,
            );
            let source = format!("{}/{source}", org.name);
            let mut ingest = Ingest::new(&source, params.tlp.unwrap_or(Tlp::Amber), &now)
                .with_audience(audience);
            let mut tally = Tally::default();
            let mut facts = Vec::new();
            let read = watchfire_feeds::read(
                "upload",
                Box::new(Cursor::new(bytes)),
                format,
                &mut |_| {},
                &mut |item| match item {
                    Item::Record(record) => {
                        tally.count(&record);
                        ingest.facts(&record, &mut facts);
                    }
                    Item::Reject(reject) => tally.reject(reject),
                },
            );
            let format = read.map_err(|error| match error {
                watchfire_formats::Error::UnknownFormat { .. } => {
                    ApiError::new(Code::UnknownFormat, error.to_string())
                }
                _ => ApiError::new(Code::BadRequest, format!("nothing stored: {error}")),
            })?;
            let outcome = state.store.append(&facts)?;
            tracing::info!(
                org = org.name,
                source,
                records = tally.n_records,
                rejects = tally.n_rejects,
                new_versions = outcome.new_versions,
                "import"
            );
            Ok(json!({
                "format": format.name,
                "source": source,
                "records": tally.n_records,
                "rejects": tally.n_rejects,
                "by_kind": tally.by_kind,
                "shown_rejects": tally.shown_rejects,
                "new_versions": outcome.new_versions,
                "unchanged": outcome.unchanged,
            }))
        })
        .await?;
    Ok(json(&answer))
}
