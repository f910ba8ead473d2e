//! Browser sessions: log in (a cookie `HttpOnly; SameSite=Strict`, `Secure` on TLS, and a CSRF
//! token the page sends back in `X-CSRF-Token`), log out, and who am I.

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use serde::Deserialize;
use serde_json::json;

use super::{JsonBody, RouteDoc, json};
use crate::AppState;
use crate::accounts::SESSION_SECONDS;
use crate::auth::{Caller, SESSION_COOKIE, account_error, check_password, cookie};
use crate::error::{ApiError, ApiResult};

pub fn routes() -> Vec<(RouteDoc, MethodRouter<AppState>)> {
    vec![
        (
            RouteDoc {
                method: "post",
                path: "/api/v1/session",
                summary: "Log in with a user name and password: sets the session cookie and returns the CSRF token",
                tag: "accounts",
                scope: None,
                params: &[],
                body: Some("application/json"),
                answer: "application/json",
            },
            post(log_in),
        ),
        (
            RouteDoc {
                method: "delete",
                path: "/api/v1/session",
                summary: "Log out: ends the session of the cookie",
                tag: "accounts",
                scope: None,
                params: &[],
                body: None,
                answer: "application/json",
            },
            delete(log_out),
        ),
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/me",
                summary: "Who the caller is: organisation, user, scopes",
                tag: "accounts",
                scope: None,
                params: &[],
                body: None,
                answer: "application/json",
            },
            get(me),
        ),
    ]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogIn {
    username: String,
    password: String,
}

async fn log_in(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<std::net::SocketAddr>,
    JsonBody(request): JsonBody<LogIn>,
) -> ApiResult<Response> {
    let (cookie_value, session, identity) = state
        .blocking(move |state| {
            let user = check_password(state, &request.username, &request.password, address.ip())?;
            let now = watchfire_store::now_micros();
            let (cookie_value, session) =
                state.accounts.create_session(&user, now).map_err(account_error)?;
            let identity = state.accounts.user_identity(&user).map_err(account_error)?;
            Ok((cookie_value, session, identity))
        })
        .await?;
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    let set_cookie = format!(
        "{SESSION_COOKIE}={cookie_value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}{secure}"
    );
    let mut response = json(&json!({
        "user": identity.user_name,
        "organisation": identity.org.as_ref().map(|org| &org.name),
        "scopes": identity.scopes,
        "csrf_token": session.csrf,
    }));
    let value = HeaderValue::from_str(&set_cookie).map_err(|error| ApiError::internal(&error))?;
    response.headers_mut().insert(header::SET_COOKIE, value);
    Ok(response)
}

async fn log_out(
    State(state): State<AppState>,
    caller: Caller,
    request: axum::extract::Request,
) -> ApiResult<Response> {
    let (parts, _) = request.into_parts();
    if let Some(value) = cookie(&parts, SESSION_COOKIE) {
        // The Caller extractor has checked the CSRF token of this state-changing request.
        let _ = caller;
        state
            .blocking(move |state| state.accounts.end_session(&value).map_err(account_error))
            .await?;
    }
    let mut response = json(&json!({ "logged_out": true }));
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "watchfire_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    Ok(response.into_response())
}

async fn me(caller: Caller) -> Response {
    let identity = &caller.identity;
    json(&json!({
        "authenticated": identity.org.is_some(),
        "organisation": identity.org.as_ref().map(|org| &org.name),
        "organisation_id": identity.org.as_ref().map(|org| org.id.0),
        "user": identity.user_name,
        "token": identity.token_id,
        "scopes": identity.scopes,
    }))
}
