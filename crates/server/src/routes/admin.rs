//! Organisations, users and tokens. Admins manage everything; any user may list and make
//! tokens for themselves (never with more scopes than their roles give) and revoke their own.
//! A token's secret is in the answer that makes it, and nowhere else ever again.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use watchfire_model::policy::{OrgId, Role};

use super::{JsonBody, RouteDoc, json, parse_time};
use crate::AppState;
use crate::accounts::{Organisation, Scope, Token, User, role_scopes};
use crate::auth::{Caller, account_error};
use crate::error::{ApiError, ApiResult, Code};

pub fn routes() -> Vec<(RouteDoc, MethodRouter<AppState>)> {
    vec![
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/orgs",
                summary: "List the organisations",
                tag: "accounts",
                scope: Some("admin"),
                params: &[],
                body: None,
                answer: "application/json",
            },
            get(list_orgs),
        ),
        (
            RouteDoc {
                method: "post",
                path: "/api/v1/orgs",
                summary: "Make an organisation: {name, in_community, client_of: [names]}",
                tag: "accounts",
                scope: Some("admin"),
                params: &[],
                body: Some("application/json"),
                answer: "application/json",
            },
            post(create_org),
        ),
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/users",
                summary: "List the users (never their password hashes)",
                tag: "accounts",
                scope: Some("admin"),
                params: &[],
                body: None,
                answer: "application/json",
            },
            get(list_users),
        ),
        (
            RouteDoc {
                method: "post",
                path: "/api/v1/users",
                summary: "Make a user: {name, organisation, roles, password (12+ characters)}",
                tag: "accounts",
                scope: Some("admin"),
                params: &[],
                body: Some("application/json"),
                answer: "application/json",
            },
            post(create_user),
        ),
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/tokens",
                summary: "List tokens: all for admins, one's own otherwise (never their secrets)",
                tag: "accounts",
                scope: Some("read"),
                params: &[],
                body: None,
                answer: "application/json",
            },
            get(list_tokens),
        ),
        (
            RouteDoc {
                method: "post",
                path: "/api/v1/tokens",
                summary: "Make a token: {name, scopes, expires, organisation (admins: machine tokens of any organisation)}; the secret is shown once",
                tag: "accounts",
                scope: Some("read"),
                params: &[],
                body: Some("application/json"),
                answer: "application/json",
            },
            post(create_token),
        ),
        (
            RouteDoc {
                method: "delete",
                path: "/api/v1/tokens/{id}",
                summary: "Revoke a token (admins: any; users: their own)",
                tag: "accounts",
                scope: Some("read"),
                params: &[("id", "path", "the token's id")],
                body: None,
                answer: "application/json",
            },
            delete(revoke_token),
        ),
    ]
}

fn org_view(org: &Organisation, names: &[Organisation]) -> Value {
    let client_of: Vec<&str> = org
        .client_of
        .iter()
        .filter_map(|id| {
            names.iter().find(|other| other.id == *id).map(|other| other.name.as_str())
        })
        .collect();
    json!({"id": org.id.0, "name": org.name, "in_community": org.in_community, "client_of": client_of})
}

fn user_view(user: &User, orgs: &[Organisation]) -> Value {
    let org = orgs.iter().find(|org| org.id == user.org).map(|org| org.name.as_str());
    json!({"id": user.id.0, "name": user.name, "organisation": org, "roles": user.roles})
}

fn token_view(token: &Token, orgs: &[Organisation]) -> Value {
    let org = orgs.iter().find(|org| org.id == token.org).map(|org| org.name.as_str());
    json!({
        "id": token.id,
        "name": token.name,
        "organisation": org,
        "user": token.user,
        "scopes": token.scopes,
        "expires": token.expires_micros.map(super::intel::micros_text),
        "revoked": token.revoked,
        "created": super::intel::micros_text(token.created_micros),
    })
}

async fn list_orgs(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.require(Scope::Admin)?;
    let orgs = state.blocking(|state| state.accounts.orgs().map_err(account_error)).await?;
    let views: Vec<Value> = orgs.iter().map(|org| org_view(org, &orgs)).collect();
    Ok(json(&json!({ "organisations": views })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOrg {
    name: String,
    #[serde(default = "yes")]
    in_community: bool,
    #[serde(default)]
    client_of: Vec<String>,
}

fn yes() -> bool {
    true
}

async fn create_org(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<NewOrg>,
) -> ApiResult<Response> {
    caller.require(Scope::Admin)?;
    let view = state
        .blocking(move |state| {
            let mut client_of = Vec::new();
            for name in &request.client_of {
                client_of.push(state.accounts.org_by_name(name).map_err(account_error)?.id);
            }
            let org = state
                .accounts
                .create_org(&request.name, request.in_community, client_of)
                .map_err(account_error)?;
            let orgs = state.accounts.orgs().map_err(account_error)?;
            tracing::info!(org = org.name, by = ?caller.identity.user_name, "organisation made");
            Ok(org_view(&org, &orgs))
        })
        .await?;
    Ok(json(&view))
}

async fn list_users(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.require(Scope::Admin)?;
    let (users, orgs) = state
        .blocking(|state| {
            Ok((
                state.accounts.users().map_err(account_error)?,
                state.accounts.orgs().map_err(account_error)?,
            ))
        })
        .await?;
    let views: Vec<Value> = users.iter().map(|user| user_view(user, &orgs)).collect();
    Ok(json(&json!({ "users": views })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
    organisation: String,
    roles: Vec<Role>,
    password: String,
}

async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<NewUser>,
) -> ApiResult<Response> {
    caller.require(Scope::Admin)?;
    let view = state
        .blocking(move |state| {
            let org = state.accounts.org_by_name(&request.organisation).map_err(account_error)?;
            let user = state
                .accounts
                .create_user(&request.name, org.id, request.roles, &request.password)
                .map_err(account_error)?;
            tracing::info!(user = user.name, org = org.name, by = ?caller.identity.user_name, "user made");
            Ok(user_view(&user, &[org]))
        })
        .await?;
    Ok(json(&view))
}

async fn list_tokens(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let (tokens, orgs) = state
        .blocking(|state| {
            Ok((
                state.accounts.tokens().map_err(account_error)?,
                state.accounts.orgs().map_err(account_error)?,
            ))
        })
        .await?;
    let views: Vec<Value> = tokens
        .iter()
        .filter(|token| may_manage(&caller, token))
        .map(|token| token_view(token, &orgs))
        .collect();
    Ok(json(&json!({ "tokens": views })))
}

// Admins manage every token; a user manages the tokens made for them.
fn may_manage(caller: &Caller, token: &Token) -> bool {
    caller.identity.has(Scope::Admin)
        || (caller.identity.user_name.is_some() && token.user == caller.identity.user_name)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    scopes: Vec<Scope>,
    expires: Option<String>,
    /// For admins: a machine token (no user) of this organisation.
    organisation: Option<String>,
}

async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<NewToken>,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let expires = request.expires.as_deref().map(|text| parse_time("expires", text)).transpose()?;
    let answer = state
        .blocking(move |state| {
            let accounts = &state.accounts;
            let (org, user): (OrgId, Option<User>) = match &request.organisation {
                Some(name) => {
                    caller.require(Scope::Admin)?;
                    (accounts.org_by_name(name).map_err(account_error)?.id, None)
                }
                None => {
                    let name = caller.identity.user_name.as_deref().ok_or_else(|| {
                        ApiError::new(Code::Forbidden, "a machine token cannot make tokens")
                    })?;
                    let user = accounts
                        .user(name)
                        .map_err(account_error)?
                        .ok_or_else(ApiError::unauthenticated)?;
                    let allowed = role_scopes(&user.roles);
                    if let Some(scope) =
                        request.scopes.iter().find(|scope| !allowed.contains(scope))
                    {
                        return Err(ApiError::new(
                            Code::Forbidden,
                            format!("your roles do not give the {} scope", scope.as_str()),
                        ));
                    }
                    (user.org, Some(user))
                }
            };
            let (token, secret) = accounts
                .create_token(&request.name, org, user.as_ref(), request.scopes, expires)
                .map_err(account_error)?;
            let orgs = accounts.orgs().map_err(account_error)?;
            tracing::info!(token = token.id, by = ?caller.identity.user_name, "token made");
            let mut view = token_view(&token, &orgs);
            view["token"] = json!(secret);
            Ok(view)
        })
        .await?;
    Ok(json(&answer))
}

async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    state
        .blocking(move |state| {
            let token = state.accounts.token(&id).map_err(account_error)?;
            // A token the caller may not manage is not found, like a missing one.
            let token =
                token.filter(|token| may_manage(&caller, token)).ok_or_else(ApiError::not_found)?;
            state.accounts.revoke_token(&token.id).map_err(account_error)?;
            tracing::info!(token = token.id, by = ?caller.identity.user_name, "token revoked");
            Ok(())
        })
        .await?;
    Ok(json(&json!({ "revoked": true })))
}
