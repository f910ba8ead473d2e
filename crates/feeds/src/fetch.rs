//! HTTP(S) requests of the pulls: blocking `ureq` over rustls (ring), one agent per source with
//! its timeout, every body capped, transient failures (transport errors, 5xx, 429) retried with
//! a bounded exponential backoff, and conditional GETs (`If-None-Match`, `If-Modified-Since`).

use std::time::Duration;

use ureq::Agent;
use ureq::http::{HeaderMap, StatusCode};

use crate::Options;
use crate::source::Source;

/// A response's validators, for the next conditional GET.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validators {
    /// `ETag`.
    pub etag: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<String>,
}

/// What a GET returned.
#[derive(Debug)]
pub enum Fetched {
    /// `304 Not Modified`: nothing changed since the validators sent.
    NotModified,
    /// A 2xx answer, its body read whole (capped).
    Body {
        /// The body.
        bytes: Vec<u8>,
        /// The response headers.
        headers: HeaderMap,
    },
}

/// One source's HTTP client.
#[derive(Debug)]
pub struct Client<'a> {
    agent: Agent,
    source: &'a Source,
    options: &'a Options,
    auth: Option<(String, String)>,
}

impl<'a> Client<'a> {
    /// Returns the client of `source`, sending `auth` (a header name and value) with every request.
    pub fn new(
        source: &'a Source,
        options: &'a Options,
        auth: Option<(String, String)>,
    ) -> Client<'a> {
        let config = Agent::config_builder()
            .timeout_global(Some(source.timeout()))
            .http_status_as_error(false)
            .max_redirects(5)
            .user_agent(concat!("watchfire/", env!("CARGO_PKG_VERSION")))
            .build();
        Client { agent: config.into(), source, options, auth }
    }

    /// GETs `url` with `accept` (when given) and the validators (when given), retrying transient
    /// failures; reads at most `cap` bytes of body.
    pub fn get(
        &self,
        url: &str,
        accept: Option<&str>,
        validators: &Validators,
        cap: u64,
    ) -> Result<Fetched, String> {
        self.retrying(url, || {
            let mut request = self.agent.get(url);
            if let Some(accept) = accept {
                request = request.header("Accept", accept);
            }
            if let Some(etag) = &validators.etag {
                request = request.header("If-None-Match", etag);
            }
            if let Some(last_modified) = &validators.last_modified {
                request = request.header("If-Modified-Since", last_modified);
            }
            if let Some((name, value)) = &self.auth {
                request = request.header(name, value);
            }
            request.call()
        })
        .and_then(|response| read_answer(url, response, cap))
    }

    /// POSTs `body` to `url` with `content_type` and `accept`; reads at most `cap` bytes of the answer.
    pub fn post(
        &self,
        url: &str,
        content_type: &str,
        accept: &str,
        body: &[u8],
        cap: u64,
    ) -> Result<Fetched, String> {
        // Not retried: a POST that timed out may have been applied.
        let mut request =
            self.agent.post(url).header("Content-Type", content_type).header("Accept", accept);
        if let Some((name, value)) = &self.auth {
            request = request.header(name, value);
        }
        let response = request.send(body).map_err(|error| transport(url, &error))?;
        read_answer(url, response, cap)
    }

    // Runs `call` until it gives a non-transient answer or the retries are spent.
    fn retrying(
        &self,
        url: &str,
        call: impl Fn() -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<ureq::http::Response<ureq::Body>, String> {
        let mut attempt = 0;
        loop {
            let answer = call();
            let is_transient = match &answer {
                Ok(response) => {
                    response.status().is_server_error()
                        || response.status() == StatusCode::TOO_MANY_REQUESTS
                }
                Err(error) => !matches!(error, ureq::Error::BadUri(_)),
            };
            if !is_transient || attempt >= self.options.retries {
                return answer.map_err(|error| transport(url, &error));
            }
            let delay = backoff(self.options.retry_delay, attempt, Duration::from_secs(60));
            tracing::debug!(source = self.source.name, url, attempt, "retrying a failed request");
            std::thread::sleep(delay);
            attempt += 1;
        }
    }
}

/// Returns `base * 2^step`, at most `max`.
pub fn backoff(base: Duration, step: u32, max: Duration) -> Duration {
    base.saturating_mul(1u32.checked_shl(step.min(31)).unwrap_or(u32::MAX)).min(max)
}

fn read_answer(
    url: &str,
    mut response: ureq::http::Response<ureq::Body>,
    cap: u64,
) -> Result<Fetched, String> {
    let status = response.status();
    if status == StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified);
    }
    if !status.is_success() {
        return Err(format!("{url}: HTTP {status}"));
    }
    let bytes =
        response.body_mut().with_config().limit(cap).read_to_vec().map_err(
            |error| match error {
                ureq::Error::BodyExceedsLimit(limit) => {
                    format!("{url}: the response is larger than {limit} bytes")
                }
                other => format!("{url}: cannot read the response: {other}"),
            },
        )?;
    Ok(Fetched::Body { bytes, headers: response.headers().clone() })
}

fn transport(url: &str, error: &ureq::Error) -> String {
    format!("{url}: {error}")
}

/// Returns a header's value as text.
pub fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}
