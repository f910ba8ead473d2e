//! The one error type of the HTTP API: a stable code, a status from one table, a message for the
//! caller and a link to the code's description. Internal failures are logged with their cause and
//! answered with the bare code `internal`: nothing of the node's insides reaches a client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Every error code the API answers with, its status and what it means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Code {
    /// A parameter or body field is missing or invalid.
    BadRequest,
    /// The body of a state-changing request made with a session cookie lacked the CSRF token.
    CsrfFailed,
    /// The caller may not do this (a missing scope or role).
    Forbidden,
    /// Something failed inside the node; the log has the cause.
    Internal,
    /// The body is not valid JSON, or not of the expected shape.
    InvalidJson,
    /// A line of an NDJSON body is longer than the limit.
    LineTooLong,
    /// The login is rejected: wrong credentials, an expired or revoked token.
    Unauthenticated,
    /// No such object, or one the caller may not see (the two are answered the same).
    NotFound,
    /// The body is larger than the limit of the route.
    PayloadTooLarge,
    /// The caller sent too many requests (per token) or failed logins (per name and address).
    TooManyRequests,
    /// A unique name is already taken.
    Conflict,
    /// The store cannot serve now (locked, full, unreachable); retry later.
    Unavailable,
    /// The format named is not one the node reads or writes, or the input's format is not recognised.
    UnknownFormat,
    /// The route exists but not with this method.
    MethodNotAllowed,
}

impl Code {
    /// Every code, in the order the error table lists them.
    pub const ALL: [Code; 14] = [
        Code::BadRequest,
        Code::InvalidJson,
        Code::LineTooLong,
        Code::UnknownFormat,
        Code::Unauthenticated,
        Code::CsrfFailed,
        Code::Forbidden,
        Code::NotFound,
        Code::MethodNotAllowed,
        Code::Conflict,
        Code::PayloadTooLarge,
        Code::TooManyRequests,
        Code::Internal,
        Code::Unavailable,
    ];

    /// Returns the HTTP status of the code.
    pub fn status(self) -> StatusCode {
        match self {
            Code::BadRequest | Code::InvalidJson | Code::LineTooLong | Code::UnknownFormat => {
                StatusCode::BAD_REQUEST
            }
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::CsrfFailed | Code::Forbidden => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::Conflict => StatusCode::CONFLICT,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// Returns the code as it appears in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadRequest => "bad_request",
            Code::CsrfFailed => "csrf_failed",
            Code::Forbidden => "forbidden",
            Code::Internal => "internal",
            Code::InvalidJson => "invalid_json",
            Code::LineTooLong => "line_too_long",
            Code::Unauthenticated => "unauthenticated",
            Code::NotFound => "not_found",
            Code::PayloadTooLarge => "payload_too_large",
            Code::TooManyRequests => "too_many_requests",
            Code::Conflict => "conflict",
            Code::Unavailable => "unavailable",
            Code::UnknownFormat => "unknown_format",
            Code::MethodNotAllowed => "method_not_allowed",
        }
    }

    /// Returns what the code means, for the error table at `/api/v1/errors`.
    pub fn meaning(self) -> &'static str {
        match self {
            Code::BadRequest => "a parameter or body field is missing or invalid",
            Code::CsrfFailed => {
                "a state-changing request with a session cookie lacked the X-CSRF-Token header of the session"
            }
            Code::Forbidden => "the caller may not do this: a scope or role is missing",
            Code::Internal => "the node failed; its log has the cause",
            Code::InvalidJson => "the body is not valid JSON of the expected shape",
            Code::LineTooLong => "a line of an NDJSON body is longer than the limit",
            Code::Unauthenticated => {
                "no valid credentials: wrong password, unknown, expired or revoked token, or an expired session"
            }
            Code::NotFound => "no such object, or none the caller may see (answered the same)",
            Code::PayloadTooLarge => "the body is larger than the route's limit",
            Code::TooManyRequests => {
                "too many requests for the token, or too many failed logins for the name; see Retry-After"
            }
            Code::Conflict => "the name is already taken",
            Code::Unavailable => {
                "the store cannot serve now (locked, full or unreachable); retry later"
            }
            Code::UnknownFormat => {
                "the format is not one the node reads or writes, or was not recognised"
            }
            Code::MethodNotAllowed => "the route exists, but not with this method",
        }
    }
}

/// An error answer: `{"error":{"code":…,"message":…,"link":…}}` with the code's status.
#[derive(Debug)]
pub struct ApiError {
    code: Code,
    message: String,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    /// Returns an error of `code` with a message for the caller.
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into(), retry_after_secs: None }
    }

    /// Returns the answer to a request for something missing or invisible: the same for both.
    pub fn not_found() -> ApiError {
        ApiError::new(Code::NotFound, "not found")
    }

    /// Returns the answer to a request without valid credentials.
    pub fn unauthenticated() -> ApiError {
        ApiError::new(Code::Unauthenticated, "valid credentials are required")
    }

    /// Returns an internal failure: `cause` goes to the log, the caller gets the code only.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "request failed");
        ApiError::new(Code::Internal, "the node failed to answer; the operator's log has the cause")
    }

    /// Tells the caller when to retry.
    pub fn retry_after(mut self, seconds: u64) -> ApiError {
        self.retry_after_secs = Some(seconds);
        self
    }

    /// Returns the error's code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// Returns the message for the caller.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<watchfire_store::Error> for ApiError {
    fn from(error: watchfire_store::Error) -> ApiError {
        match error {
            watchfire_store::Error::Locked(_)
            | watchfire_store::Error::Full(_)
            | watchfire_store::Error::Open(_) => {
                tracing::warn!(%error, "store unavailable");
                ApiError::new(Code::Unavailable, "the store cannot serve now; retry later")
                    .retry_after(5)
            }
            other => ApiError::internal(&other),
        }
    }
}

impl From<watchfire_index::BuildError> for ApiError {
    fn from(error: watchfire_index::BuildError) -> ApiError {
        ApiError::internal(&error)
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'static str,
    message: &'a str,
    link: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code.as_str(),
                message: &self.message,
                link: format!("/api/v1/errors#{}", self.code.as_str()),
            },
        };
        let mut response = (self.code.status(), axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if self.code == Code::Unauthenticated {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"watchfire\", Bearer"),
            );
        }
        if let Some(seconds) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
