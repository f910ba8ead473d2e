//! Delivery endpoints of an organisation: webhooks (made with a secret shown once, rotated,
//! enabled, removed) and e-mail subscriptions, each with its deliveries (the outbox items:
//! state, tries, next try, last error) and the retry of a dead one (see
//! `watchfire_warn::deliver`). Admins and analysts manage their own organisation's endpoints;
//! another organisation's endpoint is not found, like a missing one.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use watchfire_model::policy::OrgId;
use watchfire_model::record::Category;
use watchfire_warn::Severity;
use watchfire_warn::deliver::{
    self, DeliveryError, DigestMode, EmailSubscription, Item, ItemState, NewSubscription,
    NewWebhook, NodeKey, Webhook,
};

use super::intel::micros_text;
use super::{JsonBody, QueryParams, RouteDoc, json};
use crate::AppState;
use crate::accounts::{Organisation, Scope};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Code};

pub fn routes() -> Vec<(RouteDoc, MethodRouter<AppState>)> {
    const ID: &[(&str, &str, &str)] = &[("id", "path", "the endpoint's id")];
    const ITEM: &[(&str, &str, &str)] =
        &[("id", "path", "the endpoint's id"), ("delivery", "path", "the delivery's id")];
    const LIST: &[(&str, &str, &str)] = &[
        ("id", "path", "the endpoint's id"),
        ("state", "query", "only pending, delivered or dead deliveries"),
        ("limit", "query", "at most this many, newest first (default 100)"),
    ];
    let doc = |method, path, summary, params, body: bool| RouteDoc {
        method,
        path,
        summary,
        tag: "delivery",
        scope: Some("write"),
        params,
        body: body.then_some("application/json"),
        answer: "application/json",
    };
    vec![
        (
            doc(
                "get",
                "/api/v1/webhooks",
                "List the webhooks of the caller's organisation, with counts of their deliveries by state",
                &[],
                false,
            ),
            get(list_webhooks),
        ),
        (
            doc(
                "post",
                "/api/v1/webhooks",
                "Make a webhook {url, min_severity, categories, enabled}; its signing secret is in this answer only",
                &[],
                true,
            ),
            post(create_webhook),
        ),
        (
            doc(
                "delete",
                "/api/v1/webhooks/{id}",
                "Remove a webhook and its deliveries",
                ID,
                false,
            ),
            delete(remove_webhook),
        ),
        (
            doc(
                "post",
                "/api/v1/webhooks/{id}/rotate",
                "Make a new signing secret (the old one stops at once); the secret is in this answer only",
                ID,
                false,
            ),
            post(rotate_webhook),
        ),
        (
            doc(
                "post",
                "/api/v1/webhooks/{id}/enable",
                "Send alerts to the webhook again",
                ID,
                false,
            ),
            post(enable_webhook),
        ),
        (
            doc(
                "post",
                "/api/v1/webhooks/{id}/disable",
                "Stop sending alerts to the webhook (what is pending waits)",
                ID,
                false,
            ),
            post(disable_webhook),
        ),
        (
            doc(
                "get",
                "/api/v1/webhooks/{id}/deliveries",
                "List a webhook's deliveries: state, tries, next try, last error",
                LIST,
                false,
            ),
            get(webhook_deliveries),
        ),
        (
            doc(
                "post",
                "/api/v1/webhooks/{id}/deliveries/{delivery}/retry",
                "Try a dead delivery again",
                ITEM,
                false,
            ),
            post(retry_webhook_delivery),
        ),
        (
            doc(
                "get",
                "/api/v1/email-subscriptions",
                "List the e-mail subscriptions of the caller's organisation",
                &[],
                false,
            ),
            get(list_subscriptions),
        ),
        (
            doc(
                "post",
                "/api/v1/email-subscriptions",
                "Subscribe {address, mode: immediate|hourly|daily, min_severity} to the organisation's alerts",
                &[],
                true,
            ),
            post(create_subscription),
        ),
        (
            doc(
                "delete",
                "/api/v1/email-subscriptions/{id}",
                "Remove an e-mail subscription and its deliveries",
                ID,
                false,
            ),
            delete(remove_subscription),
        ),
        (
            doc(
                "get",
                "/api/v1/email-subscriptions/{id}/deliveries",
                "List a subscription's deliveries: state, tries, next try, last error",
                LIST,
                false,
            ),
            get(subscription_deliveries),
        ),
        (
            doc(
                "post",
                "/api/v1/email-subscriptions/{id}/deliveries/{delivery}/retry",
                "Try a dead delivery again",
                ITEM,
                false,
            ),
            post(retry_subscription_delivery),
        ),
    ]
}

fn delivery_error(error: DeliveryError) -> ApiError {
    match error {
        DeliveryError::Invalid { .. } => ApiError::new(Code::BadRequest, error.to_string()),
        DeliveryError::NotFound { .. } => ApiError::not_found(),
        DeliveryError::NotDead { .. } => ApiError::new(Code::Conflict, error.to_string()),
        DeliveryError::Store(error) => ApiError::from(error),
        _ => ApiError::internal(&error),
    }
}

// The caller's organisation, for a caller who may manage its endpoints (admins and analysts).
fn caller_org(caller: &Caller) -> ApiResult<Organisation> {
    caller.require(Scope::Write)?;
    caller.identity.org.clone().ok_or_else(|| {
        ApiError::new(Code::Forbidden, "only members of an organisation have delivery endpoints")
    })
}

// Who made it: the user, or the machine token.
fn actor(caller: &Caller) -> String {
    match (&caller.identity.user_name, &caller.identity.token_id) {
        (Some(user), _) => user.clone(),
        (None, Some(token)) => format!("token:{token}"),
        (None, None) => "unknown".to_owned(),
    }
}

fn node_key(state: &AppState) -> ApiResult<NodeKey> {
    state
        .config
        .delivery
        .as_ref()
        .map(|delivery| delivery.key.clone())
        .ok_or_else(|| ApiError::new(Code::Unavailable, "delivery is not configured on this node"))
}

// Counts an endpoint's deliveries by state, with what it dropped.
fn counts(state: &AppState, endpoint: &str, items: &[Item]) -> ApiResult<Value> {
    let count = |wanted: ItemState| items.iter().filter(|item| item.state == wanted).count();
    let dropped = deliver::dropped(&*state.store, endpoint).map_err(delivery_error)?;
    Ok(json!({
        "pending": count(ItemState::Pending),
        "delivered": count(ItemState::Delivered),
        "dead": count(ItemState::Dead),
        "dropped": dropped.count,
    }))
}

fn webhook_view(webhook: &Webhook, deliveries: Value) -> Value {
    let mut view = json!({
        "id": webhook.id,
        "url": webhook.url(),
        "min_severity": webhook.min_severity,
        "categories": webhook.categories,
        "enabled": webhook.enabled,
        "created_by": webhook.created_by,
        "created": micros_text(webhook.created_micros),
        "secret_generation": webhook.generation,
    });
    view["deliveries"] = deliveries;
    view
}

fn subscription_view(subscription: &EmailSubscription, deliveries: Value) -> Value {
    let mut view = json!({
        "id": subscription.id,
        "address": subscription.address(),
        "mode": subscription.mode,
        "min_severity": subscription.min_severity,
        "created_by": subscription.created_by,
        "created": micros_text(subscription.created_micros),
    });
    view["deliveries"] = deliveries;
    view
}

fn item_view(item: &Item) -> Value {
    json!({
        "id": item.id,
        "event": item.event,
        "alert": item.alert,
        "idempotency_key": item.idempotency_key,
        "state": item.state,
        "attempts": item.attempts,
        "next_try": (item.state == ItemState::Pending).then(|| micros_text(item.next_try_micros)),
        "last_error": item.last_error,
        "created": micros_text(item.created_micros),
        "updated": micros_text(item.updated_micros),
    })
}

// Finds a webhook of the caller's organisation; another organisation's is not found.
fn own_webhook(state: &AppState, org: OrgId, id: &str) -> ApiResult<Webhook> {
    let webhook = deliver::webhook(&*state.store, id).map_err(delivery_error)?;
    webhook.filter(|webhook| webhook.org == org).ok_or_else(ApiError::not_found)
}

fn own_subscription(state: &AppState, org: OrgId, id: &str) -> ApiResult<EmailSubscription> {
    let subscription = deliver::subscription(&*state.store, id).map_err(delivery_error)?;
    subscription.filter(|subscription| subscription.org == org).ok_or_else(ApiError::not_found)
}

async fn list_webhooks(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let org = caller_org(&caller)?;
    let views = state
        .blocking(move |state| {
            let items = deliver::all_items(&*state.store).map_err(delivery_error)?;
            let mut views = Vec::new();
            for webhook in deliver::webhooks(&*state.store).map_err(delivery_error)? {
                if webhook.org != org.id {
                    continue;
                }
                let own: Vec<Item> =
                    items.iter().filter(|item| item.endpoint == webhook.id).cloned().collect();
                views.push(webhook_view(&webhook, counts(state, &webhook.id, &own)?));
            }
            Ok(views)
        })
        .await?;
    Ok(json(&json!({ "webhooks": views })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWebhookBody {
    url: String,
    #[serde(default = "lowest")]
    min_severity: Severity,
    #[serde(default)]
    categories: Vec<Category>,
    #[serde(default = "yes")]
    enabled: bool,
}

fn lowest() -> Severity {
    Severity::Low
}

fn yes() -> bool {
    true
}

async fn create_webhook(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewWebhookBody>,
) -> ApiResult<Response> {
    let org = caller_org(&caller)?;
    let key = node_key(&state)?;
    let allow_private = state
        .config
        .delivery
        .as_ref()
        .is_some_and(|delivery| delivery.settings.allow_private_targets);
    let view = state
        .blocking(move |state| {
            let new = NewWebhook {
                org: org.id,
                url: body.url,
                min_severity: body.min_severity,
                categories: body.categories,
                enabled: body.enabled,
                created_by: actor(&caller),
            };
            let now = watchfire_store::now_micros();
            let (webhook, secret) =
                deliver::create_webhook(&*state.store, &key, new, now, allow_private)
                    .map_err(delivery_error)?;
            tracing::info!(
                webhook = webhook.id,
                org = org.name,
                by = actor(&caller),
                "webhook made"
            );
            let mut view = webhook_view(&webhook, counts(state, &webhook.id, &[])?);
            view["secret"] = Value::from(secret);
            Ok(view)
        })
        .await?;
    Ok(json(&view))
}

async fn remove_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let org = caller_org(&caller)?;
    state
        .blocking(move |state| {
            let webhook = own_webhook(state, org.id, &id)?;
            deliver::remove_webhook(&*state.store, &webhook.id).map_err(delivery_error)?;
            tracing::info!(webhook = webhook.id, by = actor(&caller), "webhook removed");
            Ok(())
        })
        .await?;
    Ok(json(&json!({ "removed": true })))
}

async fn rotate_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let org = caller_org(&caller)?;
    let key = node_key(&state)?;
    let view = state
        .blocking(move |state| {
            let webhook = own_webhook(state, org.id, &id)?;
            let (webhook, secret) = deliver::rotate_webhook(&*state.store, &key, &webhook.id)
                .map_err(delivery_error)?;
            tracing::info!(webhook = webhook.id, by = actor(&caller), "webhook secret rotated");
            let items = deliver::items(&*state.store, &webhook.id).map_err(delivery_error)?;
            let mut view = webhook_view(&webhook, counts(state, &webhook.id, &items)?);
            view["secret"] = Value::from(secret);
            Ok(view)
        })
        .await?;
    Ok(json(&view))
}

async fn enable_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    switch_webhook(state, caller, id, true).await
}

async fn disable_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    switch_webhook(state, caller, id, false).await
}

async fn switch_webhook(
    state: AppState,
    caller: Caller,
    id: String,
    enabled: bool,
) -> ApiResult<Response> {
    let org = caller_org(&caller)?;
    let view = state
        .blocking(move |state| {
            let webhook = own_webhook(state, org.id, &id)?;
            let webhook = deliver::set_webhook_enabled(&*state.store, &webhook.id, enabled)
                .map_err(delivery_error)?;
            tracing::info!(webhook = webhook.id, enabled, by = actor(&caller), "webhook switched");
            let items = deliver::items(&*state.store, &webhook.id).map_err(delivery_error)?;
            Ok(webhook_view(&webhook, counts(state, &webhook.id, &items)?))
        })
        .await?;
    Ok(json(&view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveriesParams {
    state: Option<String>,
    limit: Option<usize>,
}

async fn webhook_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    QueryParams(params): QueryParams<DeliveriesParams>,
) -> ApiResult<Response> {
    let org = caller_org(&caller)?;
    let views = state
        .blocking(move |state| {
            let webhook = own_webhook(state, org.id, &id)?;
            deliveries(state, &webhook.id, &params)
        })
        .await?;
    Ok(json(&json!({ "deliveries": views })))
}

async fn subscription_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    QueryParams(params): QueryParams<DeliveriesParams>,
) -> ApiResult<Response> {
    let org = caller_org(&caller)?;
    let views = state
        .blocking(move |state| {
            let subscription = own_subscription(state, org.id, &id)?;
            deliveries(state, &subscription.id, &params)
        })
        .await?;
    Ok(json(&json!({ "deliveries": views })))
}

fn deliveries(
    state: &AppState,
    endpoint: &str,
    params: &DeliveriesParams,
) -> ApiResult<Vec<Value>> {
    let wanted = match params.state.as_deref() {
        None => None,
        Some("pending") => Some(ItemState::Pending),
        Some("delivered") => Some(ItemState::Delivered),
        Some("dead") => Some(ItemState::Dead),
        Some(other) => {
            return Err(ApiError::new(
                Code::BadRequest,
                format!("state: unknown state {other:?}: expected pending, delivered or dead"),
            ));
        }
    };
    let limit = params.limit.unwrap_or(100).clamp(1, 1000);
    let items = deliver::items(&*state.store, endpoint).map_err(delivery_error)?;
    Ok(items
        .iter()
        .filter(|item| wanted.is_none_or(|wanted| item.state == wanted))
        .take(limit)
        .map(item_view)
        .collect())
}

async fn retry_webhook_delivery(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, delivery)): Path<(String, String)>,
) -> ApiResult<Response> {
    let org = caller_org(&caller)?;
    let view = state
        .blocking(move |state| {
            let webhook = own_webhook(state, org.id, &id)?;
            retry(state, &caller, &webhook.id, &delivery)
        })
        .await?;
    Ok(json(&view))
}

async fn retry_subscription_delivery(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, delivery)): Path<(String, String)>,
) -> ApiResult<Response> {
    let org = caller_org(&caller)?;
    let view = state
        .blocking(move |state| {
            let subscription = own_subscription(state, org.id, &id)?;
            retry(state, &caller, &subscription.id, &delivery)
        })
        .await?;
    Ok(json(&view))
}

// Retries a dead delivery of `endpoint` (a delivery of another endpoint is not found).
fn retry(state: &AppState, caller: &Caller, endpoint: &str, delivery: &str) -> ApiResult<Value> {
    let item = deliver::item(&*state.store, delivery).map_err(delivery_error)?;
    if item.is_none_or(|item| item.endpoint != endpoint) {
        return Err(ApiError::not_found());
    }
    let now = watchfire_store::now_micros();
    let item = deliver::retry(&*state.store, delivery, now).map_err(delivery_error)?;
    tracing::info!(delivery = item.id, endpoint, by = actor(caller), "dead delivery retried");
    Ok(item_view(&item))
}

async fn list_subscriptions(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let org = caller_org(&caller)?;
    let views = state
        .blocking(move |state| {
            let items = deliver::all_items(&*state.store).map_err(delivery_error)?;
            let mut views = Vec::new();
            for subscription in deliver::subscriptions(&*state.store).map_err(delivery_error)? {
                if subscription.org != org.id {
                    continue;
                }
                let own: Vec<Item> =
                    items.iter().filter(|item| item.endpoint == subscription.id).cloned().collect();
                views
                    .push(subscription_view(&subscription, counts(state, &subscription.id, &own)?));
            }
            Ok(views)
        })
        .await?;
    Ok(json(&json!({ "email_subscriptions": views })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSubscriptionBody {
    address: String,
    #[serde(default = "immediate")]
    mode: DigestMode,
    #[serde(default = "lowest")]
    min_severity: Severity,
}

fn immediate() -> DigestMode {
    DigestMode::Immediate
}

async fn create_subscription(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewSubscriptionBody>,
) -> ApiResult<Response> {
    let org = caller_org(&caller)?;
    let view = state
        .blocking(move |state| {
            let new = NewSubscription {
                org: org.id,
                org_name: org.name.clone(),
                address: body.address,
                mode: body.mode,
                min_severity: body.min_severity,
                created_by: actor(&caller),
            };
            let now = watchfire_store::now_micros();
            let subscription =
                deliver::create_subscription(&*state.store, new, now).map_err(delivery_error)?;
            tracing::info!(
                subscription = subscription.id,
                org = org.name,
                by = actor(&caller),
                "e-mail subscription made"
            );
            Ok(subscription_view(&subscription, counts(state, &subscription.id, &[])?))
        })
        .await?;
    Ok(json(&view))
}

async fn remove_subscription(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let org = caller_org(&caller)?;
    state
        .blocking(move |state| {
            let subscription = own_subscription(state, org.id, &id)?;
            deliver::remove_subscription(&*state.store, &subscription.id)
                .map_err(delivery_error)?;
            tracing::info!(
                subscription = subscription.id,
                by = actor(&caller),
                "e-mail subscription removed"
            );
            Ok(())
        })
        .await?;
    Ok(json(&json!({ "removed": true })))
}
