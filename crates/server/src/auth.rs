//! Who is calling: the [`Caller`] extractor every route takes.
//!
//! Credentials, in this order: `Authorization: Bearer <token>`; `Authorization: Basic` with a
//! user name and password, or any user name and a token as the password; the session cookie
//! (then a state-changing method must carry the session's `X-CSRF-Token`). A request with
//! credentials that do not check out is refused (401), never served as anonymous. Failed
//! password log-ins are throttled per name and per address. Every caller then takes one request
//! from its rate-limit bucket (per token, user, or address).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Method, header};
use base64::Engine as _;
use watchfire_model::policy::Principal;
use watchfire_store::Reader;

use crate::AppState;
use crate::accounts::{Identity, Scope, User};
use crate::error::{ApiError, ApiResult, Code};

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "watchfire_session";
/// The header carrying the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Who it is and what it may do.
    pub identity: Identity,
}

impl Caller {
    /// Returns the reader for the store and the index, if the caller may read at all: an
    /// anonymous caller only when the node serves CLEAR publicly, a member with the `read` scope,
    /// a peer with the `peer` scope.
    pub fn reader(&self, state: &AppState) -> ApiResult<Reader<'_>> {
        match &self.identity.principal {
            Principal::Anonymous if state.config.public => {}
            Principal::Anonymous => return Err(ApiError::unauthenticated()),
            Principal::Peer(_) => self.require(Scope::Peer)?,
            Principal::Member(_) => self.require(Scope::Read)?,
        }
        Ok(Reader::Principal(&self.identity.principal))
    }

    /// Checks that the caller holds `scope`: an anonymous caller is asked to log in (401), a
    /// logged-in one without it is refused (403).
    pub fn require(&self, scope: Scope) -> ApiResult<()> {
        if matches!(self.identity.principal, Principal::Anonymous) {
            return Err(ApiError::unauthenticated());
        }
        if !self.identity.has(scope) {
            return Err(ApiError::new(
                Code::Forbidden,
                format!("this needs the {} scope", scope.as_str()),
            ));
        }
        Ok(())
    }

    /// Checks that the caller holds one of `scopes`.
    pub fn require_any(&self, scopes: &[Scope]) -> ApiResult<()> {
        match scopes.iter().find(|scope| self.identity.has(**scope)) {
            Some(scope) => self.require(*scope),
            None => self.require(scopes[0]),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Caller> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |info| info.0.ip());
        let credentials = Credentials::of(parts)?;
        let is_safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        let csrf =
            parts.headers.get(CSRF_HEADER).and_then(|value| value.to_str().ok()).map(str::to_owned);
        let recent = match &credentials {
            Credentials::Token(token) => {
                state.accounts.recent_token_identity(token, watchfire_store::now_micros())
            }
            _ => None,
        };
        let identity = match (credentials, recent) {
            (_, Some(identity)) => identity,
            (Credentials::None, None) => Identity::anonymous(),
            (credentials, None) => {
                let state = state.clone();
                state
                    .clone()
                    .blocking(move |_| {
                        authenticate(&state, credentials, address, is_safe, csrf.as_deref())
                    })
                    .await?
            }
        };
        let bucket = match (&identity.token_id, &identity.user_name) {
            (Some(token), _) => format!("token:{token}"),
            (None, Some(user)) => format!("user:{user}"),
            (None, None) => format!("address:{address}"),
        };
        if let Err(seconds) = state.guards.take(&bucket) {
            state.metrics.rate_limited();
            return Err(ApiError::new(Code::TooManyRequests, "too many requests; slow down")
                .retry_after(seconds));
        }
        Ok(Caller { identity })
    }
}

/// What a request presents.
enum Credentials {
    None,
    Token(String),
    Password { name: String, password: String },
    Session(String),
}

impl Credentials {
    fn of(parts: &Parts) -> ApiResult<Credentials> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let value = value.to_str().map_err(|_| ApiError::unauthenticated())?;
            let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
            let rest = rest.trim();
            return match scheme.to_ascii_lowercase().as_str() {
                "bearer" => Ok(Credentials::Token(rest.to_owned())),
                "basic" => {
                    let decoded = base64::engine::general_purpose::STANDARD
                        .decode(rest)
                        .ok()
                        .and_then(|bytes| String::from_utf8(bytes).ok())
                        .ok_or_else(ApiError::unauthenticated)?;
                    let (name, password) =
                        decoded.split_once(':').ok_or_else(ApiError::unauthenticated)?;
                    if password.starts_with("wf_") {
                        Ok(Credentials::Token(password.to_owned()))
                    } else {
                        Ok(Credentials::Password {
                            name: name.to_owned(),
                            password: password.to_owned(),
                        })
                    }
                }
                _ => Err(ApiError::new(
                    Code::Unauthenticated,
                    "unsupported authorization scheme: use Bearer or Basic",
                )),
            };
        }
        Ok(cookie(parts, SESSION_COOKIE).map_or(Credentials::None, Credentials::Session))
    }
}

/// Returns the value of the cookie `name`.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts.headers.get_all(header::COOKIE).iter().filter_map(|value| value.to_str().ok()).find_map(
        |cookies| {
            cookies.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                (key == name).then(|| value.to_owned())
            })
        },
    )
}

// Runs on the blocking pool: argon2 and the directory reads block.
fn authenticate(
    state: &AppState,
    credentials: Credentials,
    address: IpAddr,
    is_safe: bool,
    csrf: Option<&str>,
) -> ApiResult<Identity> {
    let now = watchfire_store::now_micros();
    let accounts = &state.accounts;
    let identity = match credentials {
        Credentials::None => return Ok(Identity::anonymous()),
        Credentials::Token(presented) => {
            let token = accounts.check_token(&presented, now).map_err(account_error)?;
            let Some(token) = token else {
                state.metrics.auth_failed();
                return Err(ApiError::new(
                    Code::Unauthenticated,
                    "the token is unknown, expired or revoked",
                ));
            };
            let identity = accounts.token_identity(&token).map_err(account_error)?;
            accounts.remember_token_identity(&presented, &token, &identity);
            identity
        }
        Credentials::Password { name, password } => {
            let user = check_password(state, &name, &password, address)?;
            accounts.user_identity(&user).map_err(account_error)?
        }
        Credentials::Session(cookie) => {
            let session = accounts.session(&cookie, now).map_err(account_error)?;
            let Some(session) = session else {
                return Err(ApiError::new(
                    Code::Unauthenticated,
                    "the session has ended; log in again",
                ));
            };
            // Double-submit check: a page of another site can send the cookie, never the header.
            let is_csrf_ok = csrf.is_some_and(|csrf| constant_time_eq(csrf, &session.csrf));
            if !is_safe && !is_csrf_ok {
                return Err(ApiError::new(
                    Code::CsrfFailed,
                    "a state-changing request of a session needs its X-CSRF-Token header",
                ));
            }
            let user = accounts.user(&session.user).map_err(account_error)?;
            let user = user.ok_or_else(|| {
                ApiError::new(Code::Unauthenticated, "the session's user is gone")
            })?;
            accounts.user_identity(&user).map_err(account_error)?
        }
    };
    Ok(identity)
}

/// Checks a user name and password with the failed-log-in throttle (shared by Basic
/// authentication and the log-in route).
pub fn check_password(
    state: &AppState,
    name: &str,
    password: &str,
    address: IpAddr,
) -> ApiResult<User> {
    if let Some(seconds) = state.guards.throttled(name, address) {
        state.metrics.auth_failed();
        return Err(ApiError::new(
            Code::TooManyRequests,
            "too many failed log-ins; wait before trying again",
        )
        .retry_after(seconds));
    }
    match state.accounts.check_password(name, password).map_err(account_error)? {
        Some(user) => {
            state.guards.succeeded(name);
            Ok(user)
        }
        None => {
            state.guards.failed(name, address);
            state.metrics.auth_failed();
            tracing::info!(user = name, %address, "failed log-in");
            Err(ApiError::new(Code::Unauthenticated, "wrong user name or password"))
        }
    }
}

/// Maps an accounts failure to an answer.
pub fn account_error(error: crate::accounts::AccountError) -> ApiError {
    use crate::accounts::AccountError;
    match error {
        AccountError::Store(error) => ApiError::from(error),
        AccountError::Taken { .. } => ApiError::new(Code::Conflict, error.to_string()),
        AccountError::Missing { .. } | AccountError::Invalid(_) => {
            ApiError::new(Code::BadRequest, error.to_string())
        }
        AccountError::Damaged(_) => ApiError::internal(&error),
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
