//! Constituencies: an organisation claims networks, AS numbers, domain suffixes and countries;
//! the node's admins approve or reject each claim (see `watchfire_warn`). An organisation sees
//! and removes its own claims only; another organisation's claim is not found, like a missing one.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use watchfire_model::policy::OrgId;
use watchfire_store::Store;
use watchfire_warn::{Claim, ClaimKind};

use super::intel::micros_text;
use super::{JsonBody, QueryParams, RouteDoc, json};
use crate::AppState;
use crate::accounts::{Organisation, Scope};
use crate::auth::{Caller, account_error};
use crate::error::{ApiError, ApiResult, Code};

pub fn routes() -> Vec<(RouteDoc, MethodRouter<AppState>)> {
    vec![
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/constituency",
                summary: "List the constituency claims of the caller's organisation (admins: all, or ?org=NAME)",
                tag: "constituency",
                scope: Some("read"),
                params: &[("org", "query", "admins: the organisation's name")],
                body: None,
                answer: "application/json",
            },
            get(list_claims),
        ),
        (
            RouteDoc {
                method: "post",
                path: "/api/v1/constituency/claims",
                summary: "Claim {kind: cidr|asn|domain|country, value} for the caller's organisation; pending until an admin approves",
                tag: "constituency",
                scope: Some("write"),
                params: &[],
                body: Some("application/json"),
                answer: "application/json",
            },
            post(create_claim),
        ),
        (
            RouteDoc {
                method: "post",
                path: "/api/v1/constituency/claims/{id}/approve",
                summary: "Approve a claim (refused when it overlaps another organisation's approved claim)",
                tag: "constituency",
                scope: Some("admin"),
                params: &[("id", "path", "the claim's id")],
                body: None,
                answer: "application/json",
            },
            post(approve_claim),
        ),
        (
            RouteDoc {
                method: "post",
                path: "/api/v1/constituency/claims/{id}/reject",
                summary: "Reject a pending claim, or withdraw an approved one",
                tag: "constituency",
                scope: Some("admin"),
                params: &[("id", "path", "the claim's id")],
                body: None,
                answer: "application/json",
            },
            post(reject_claim),
        ),
        (
            RouteDoc {
                method: "delete",
                path: "/api/v1/constituency/claims/{id}",
                summary: "Remove a claim (the organisation's writers, or admins)",
                tag: "constituency",
                scope: Some("write"),
                params: &[("id", "path", "the claim's id")],
                body: None,
                answer: "application/json",
            },
            delete(remove_claim),
        ),
    ]
}

fn claim_view(claim: &Claim, orgs: &[Organisation]) -> Value {
    let org = orgs.iter().find(|org| org.id == claim.org).map(|org| org.name.as_str());
    json!({
        "id": claim.id,
        "organisation": org,
        "kind": claim.kind(),
        "value": claim.value(),
        "state": claim.state,
        "requested_by": claim.requested_by,
        "requested": micros_text(claim.requested_micros),
        "decided_by": claim.decided_by,
        "decided": claim.decided_micros.map(micros_text),
    })
}

fn warn_error(error: watchfire_warn::Error) -> ApiError {
    use watchfire_warn::Error;
    match error {
        Error::Invalid { .. } => ApiError::new(Code::BadRequest, error.to_string()),
        Error::Overlap { .. } | Error::Decided { .. } => {
            ApiError::new(Code::Conflict, error.to_string())
        }
        Error::NotFound(_) => ApiError::not_found(),
        Error::Busy => ApiError::new(Code::Unavailable, error.to_string()),
        Error::Store(error) => ApiError::from(error),
        _ => ApiError::internal(&error),
    }
}

// The caller's organisation; a caller without one (anonymous, a peer) has no constituency.
fn caller_org(caller: &Caller) -> ApiResult<OrgId> {
    caller.identity.org.as_ref().map(|org| org.id).ok_or_else(|| {
        ApiError::new(Code::Forbidden, "only members of an organisation have a constituency")
    })
}

// Who asked or decided, as the claim records it: the user, or the machine token.
fn actor(caller: &Caller) -> String {
    match (&caller.identity.user_name, &caller.identity.token_id) {
        (Some(user), _) => user.clone(),
        (None, Some(token)) => format!("token:{token}"),
        (None, None) => "unknown".to_owned(),
    }
}

// Finds a claim the caller may see: admins see every claim, others their organisation's.
fn visible_claim(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Claim> {
    let claim = watchfire_warn::find(&*state.store, id).map_err(warn_error)?;
    let is_admin = caller.identity.has(Scope::Admin);
    let own = caller.identity.org.as_ref().map(|org| org.id);
    claim.filter(|claim| is_admin || Some(claim.org) == own).ok_or_else(ApiError::not_found)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    org: Option<String>,
}

async fn list_claims(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ListParams>,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let is_admin = caller.identity.has(Scope::Admin);
    let views = state
        .blocking(move |state| {
            let orgs = state.accounts.orgs().map_err(account_error)?;
            let only: Option<OrgId> = match (&params.org, is_admin) {
                (Some(name), true) => {
                    Some(state.accounts.org_by_name(name).map_err(account_error)?.id)
                }
                (None, true) => None,
                (Some(name), false)
                    if caller.identity.org.as_ref().is_some_and(|org| org.name == *name) =>
                {
                    Some(caller_org(&caller)?)
                }
                (Some(_), false) => {
                    return Err(ApiError::new(
                        Code::Forbidden,
                        "only admins list the claims of other organisations",
                    ));
                }
                (None, false) => Some(caller_org(&caller)?),
            };
            let claims = watchfire_warn::claims(&*state.store).map_err(warn_error)?;
            let views: Vec<Value> = claims
                .iter()
                .filter(|claim| only.is_none_or(|org| claim.org == org))
                .map(|claim| claim_view(claim, &orgs))
                .collect();
            Ok(views)
        })
        .await?;
    Ok(json(&json!({ "claims": views })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewClaim {
    kind: ClaimKind,
    value: String,
}

async fn create_claim(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<NewClaim>,
) -> ApiResult<Response> {
    caller.require(Scope::Write)?;
    let org = caller_org(&caller)?;
    let view = state
        .blocking(move |state| {
            let now = watchfire_store::now_micros();
            let claim = watchfire_warn::claim(
                &*state.store,
                org,
                request.kind,
                &request.value,
                &actor(&caller),
                now,
            )
            .map_err(warn_error)?;
            tracing::info!(
                claim = claim.id,
                value = claim.value(),
                by = actor(&caller),
                "constituency claimed"
            );
            let orgs = state.accounts.orgs().map_err(account_error)?;
            Ok(claim_view(&claim, &orgs))
        })
        .await?;
    Ok(json(&view))
}

async fn approve_claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    decide(state, caller, id, watchfire_warn::approve).await
}

async fn reject_claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    decide(state, caller, id, watchfire_warn::reject).await
}

/// What an admin does to a claim: [`watchfire_warn::approve`] or [`watchfire_warn::reject`].
type Decision = fn(&dyn Store, &str, &str, i64) -> Result<Claim, watchfire_warn::Error>;

async fn decide(
    state: AppState,
    caller: Caller,
    id: String,
    decision: Decision,
) -> ApiResult<Response> {
    caller.require(Scope::Admin)?;
    let view = state
        .blocking(move |state| {
            let by = actor(&caller);
            let claim = decision(&*state.store, &id, &by, watchfire_store::now_micros())
                .map_err(warn_error)?;
            tracing::info!(
                claim = claim.id,
                state = claim.state.as_str(),
                by,
                "constituency claim decided"
            );
            let orgs = state.accounts.orgs().map_err(account_error)?;
            Ok(claim_view(&claim, &orgs))
        })
        .await?;
    Ok(json(&view))
}

async fn remove_claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Scope::Write)?;
    state
        .blocking(move |state| {
            let claim = visible_claim(state, &caller, &id)?;
            watchfire_warn::remove(&*state.store, &claim.id).map_err(warn_error)?;
            tracing::info!(claim = claim.id, by = actor(&caller), "constituency claim removed");
            Ok(())
        })
        .await?;
    Ok(json(&json!({ "removed": true })))
}
