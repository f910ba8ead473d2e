//! The routes: one table that both builds the router and documents it (`/api/v1/openapi.json`
//! is made from the same rows, so no route can be left out of the document), the shared layers
//! (metrics and request log, compression, time limits) and the helpers handlers share.

mod admin;
mod alerts;
mod constituency;
mod delivery;
mod export;
mod feeds;
mod import;
mod intel;
mod ops;
mod session;
mod stream;
mod taxii;

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequest, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use crate::AppState;
use crate::error::{ApiError, ApiResult, Code};

/// One route: its method and path, and what the OpenAPI document says of it.
#[derive(Debug)]
pub struct RouteDoc {
    /// The HTTP method, lower-case as OpenAPI writes it.
    pub method: &'static str,
    /// The path, with `{name}` for path parameters (the same syntax in axum and OpenAPI).
    pub path: &'static str,
    /// A one-line summary.
    pub summary: &'static str,
    /// The group it belongs to.
    pub tag: &'static str,
    /// The scope it needs (`None`: anyone; reads by anonymous callers need `--public`).
    pub scope: Option<&'static str>,
    /// Its query and path parameters: (name, where, description).
    pub params: &'static [(&'static str, &'static str, &'static str)],
    /// The media type of its request body, if it takes one.
    pub body: Option<&'static str>,
    /// The media type of its success answer.
    pub answer: &'static str,
}

/// Every route of the node: its document and its handler.
pub fn table() -> Vec<(RouteDoc, MethodRouter<AppState>)> {
    let mut routes = Vec::new();
    routes.extend(ops::routes());
    routes.extend(session::routes());
    routes.extend(intel::routes());
    routes.extend(import::routes());
    routes.extend(export::routes());
    routes.extend(stream::routes());
    routes.extend(admin::routes());
    routes.extend(constituency::routes());
    routes.extend(alerts::routes());
    routes.extend(delivery::routes());
    routes.extend(feeds::routes());
    routes.extend(taxii::routes());
    routes
}

/// Builds the application: every route of [`table`] with the shared layers.
pub fn router(state: AppState) -> Router {
    let limits = state.config.limits.clone();
    let mut router = Router::new();
    for (doc, handler) in table() {
        router = router.route(doc.path, handler);
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(CompressionLayer::new())
        .layer(RequestBodyTimeoutLayer::new(limits.request_timeout))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limits.request_timeout))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(Code::NotFound, "no such route; see /api/v1/openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        Code::MethodNotAllowed,
        "this route does not take this method; see /api/v1/openapi.json",
    )
}

// Counts and logs every request by its route pattern, and adds the security headers.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().clone();
    let mut response = next.run(request).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    state.metrics.request(&route, status, took);
    tracing::info!(%method, route, status, micros = took.as_micros() as u64, "request");
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

/// A JSON request body, read up to the node's JSON limit: too large is 413 `payload_too_large`,
/// not JSON of the expected shape is 400 `invalid_json` naming the line, column and reason.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> ApiResult<JsonBody<T>> {
        let bytes = read_body(request.into_body(), state.config.limits.json_bytes).await?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|error| {
            ApiError::new(Code::InvalidJson, format!("invalid JSON body: {error}"))
        })
    }
}

/// Query parameters of a route: a parameter that is unknown or of the wrong type is a 400
/// `bad_request` naming it, as a JSON error like every other (axum's own rejection is plain text).
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> ApiResult<QueryParams<T>> {
        let query = axum::extract::Query::<T>::from_request_parts(parts, state).await;
        query
            .map(|axum::extract::Query(params)| QueryParams(params))
            .map_err(|error| ApiError::new(Code::BadRequest, error.body_text()))
    }
}

/// Reads a body up to `limit` bytes.
pub async fn read_body(body: Body, limit: usize) -> ApiResult<axum::body::Bytes> {
    axum::body::to_bytes(body, limit).await.map_err(|error| {
        let is_too_large = std::error::Error::source(&error)
            .is_some_and(<dyn std::error::Error>::is::<http_body_util::LengthLimitError>);
        if is_too_large {
            ApiError::new(Code::PayloadTooLarge, format!("the body is larger than {limit} bytes"))
        } else {
            ApiError::new(Code::BadRequest, format!("cannot read the body: {error}"))
        }
    })
}

/// A JSON answer with status 200.
pub fn json(value: &impl Serialize) -> Response {
    axum::Json(value).into_response()
}

/// Parses a time parameter: RFC 3339 (`2026-01-02T03:04:05Z`) or microseconds since the epoch.
pub fn parse_time(name: &str, text: &str) -> ApiResult<i64> {
    if let Ok(micros) = text.parse::<i64>() {
        return Ok(micros);
    }
    watchfire_formats::time::parse(text)
        .map(|timestamp| i64::try_from(timestamp.unix_nanos() / 1000).unwrap_or(i64::MAX))
        .map_err(|_| {
            ApiError::new(
                Code::BadRequest,
                format!("{name}: not an RFC 3339 time or microseconds: {text:?}"),
            )
        })
}

/// Splits a comma-separated list parameter.
pub fn list(text: Option<&str>) -> Vec<String> {
    text.map(|text| {
        text.split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
    })
    .unwrap_or_default()
}
