//! The outbox: one item per (alert version or digest, endpoint), written to the store's
//! directory before the deliverer's cursor moves past the alert, so a kill at any moment loses
//! nothing. Items are keyed by a UUIDv5 of the endpoint and the idempotency key, so writing one
//! twice (after a crash, or by two nodes on one PostgreSQL) is writing it once.
//!
//! Directory kinds: [`OUTBOX_KIND`] (the item's state, small, listed on every scan),
//! [`BODY_KIND`] (what is sent, read once per attempt), [`DROPPED_KIND`] (per endpoint, the
//! items refused because the organisation's outbox was full).

use std::fmt;
use std::hash::{Hash as _, Hasher as _};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use watchfire_model::policy::OrgId;
use watchfire_model::stix::WATCHFIRE_NAMESPACE;
use watchfire_store::{Put, Seq, Store};

use super::DeliveryError;
use super::endpoint::{get, not_found, parse, put};

/// The directory kind of outbox items.
pub const OUTBOX_KIND: &str = "outbox";

/// The directory kind of the bodies of outbox items (same key as the item).
pub const BODY_KIND: &str = "outbox_body";

/// The directory kind of the count of items dropped per endpoint.
pub const DROPPED_KIND: &str = "delivery_dropped";

/// Where an item goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// An e-mail subscription.
    Email,
    /// A webhook.
    Webhook,
}

impl Channel {
    /// Returns the channel's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }
}

/// Where an item is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemState {
    /// Not delivered yet: waiting for its next try.
    Pending,
    /// Accepted by the endpoint (a 2xx answer, or the SMTP relay took the mail).
    Delivered,
    /// Every try failed: kept with its last error until the organisation retries it.
    Dead,
}

impl ItemState {
    /// Returns the state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Pending => "pending",
            ItemState::Delivered => "delivered",
            ItemState::Dead => "dead",
        }
    }
}

impl fmt::Display for ItemState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an item announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Event {
    /// The first version of an alert.
    #[serde(rename = "alert.created")]
    AlertCreated,
    /// A later version whose count, severity or status changed.
    #[serde(rename = "alert.updated")]
    AlertUpdated,
    /// A digest mail of a period's alerts.
    #[serde(rename = "digest")]
    Digest,
}

impl Event {
    /// Returns the event's name (the `X-Watchfire-Event` header).
    pub fn as_str(self) -> &'static str {
        match self {
            Event::AlertCreated => "alert.created",
            Event::AlertUpdated => "alert.updated",
            Event::Digest => "digest",
        }
    }
}

/// One delivery to make: an alert version (or a digest) to one endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Its id: a UUIDv5 of the endpoint and the idempotency key.
    pub id: String,
    /// The organisation it belongs to.
    pub org: OrgId,
    /// Webhook or e-mail.
    pub channel: Channel,
    /// The endpoint's id.
    pub endpoint: String,
    /// What it announces.
    pub event: Event,
    /// The same on every try: `<alert id>@<version in microseconds>`, or `digest@<period end>`.
    pub idempotency_key: String,
    /// The alert, for an alert version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    /// The alert version's log entry (0 for a digest).
    pub seq: Seq,
    /// Pending, delivered or dead.
    pub state: ItemState,
    /// Tries made.
    pub attempts: u32,
    /// When the next try is due (pending items), microseconds since the epoch.
    pub next_try_micros: i64,
    /// Why the last try failed: the HTTP status, the SMTP reply or the transport error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When it was written.
    pub created_micros: i64,
    /// When its state last changed.
    pub updated_micros: i64,
}

impl Item {
    /// Returns the id of the item of `idempotency_key` for `endpoint`.
    pub fn derive_id(endpoint: &str, idempotency_key: &str) -> String {
        let name = format!("watchfire outbox\0{endpoint}\0{idempotency_key}");
        Uuid::new_v5(&WATCHFIRE_NAMESPACE, name.as_bytes()).to_string()
    }
}

/// The wait between tries: it doubles from `first` up to `max`, and each wait is drawn between
/// half and all of that ("equal jitter"), so endpoints that failed together do not retry together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure (before jitter).
    pub first: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff { first: Duration::from_secs(5), max: Duration::from_secs(3600) }
    }
}

impl Backoff {
    /// Returns the wait after `attempts` failed tries (1 or more) of the item `id`. The jitter is
    /// a hash of the id and the attempt, so the schedule is reproducible.
    pub fn delay(&self, attempts: u32, id: &str) -> Duration {
        let exponent = attempts.saturating_sub(1).min(30);
        let full = self.first.saturating_mul(1u32 << exponent).min(self.max);
        let mut hasher = std::hash::DefaultHasher::new();
        (id, attempts).hash(&mut hasher);
        let fraction = (hasher.finish() % 1001) as f64 / 1000.0;
        full.div_f64(2.0).saturating_add(full.div_f64(2.0).mul_f64(fraction))
    }
}

/// How many items an endpoint had dropped because its organisation's outbox was full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    /// Items dropped.
    pub count: u64,
    /// When the last one was, microseconds since the epoch.
    pub last_micros: i64,
}

/// Writes an item and its body, unless the item exists already (then nothing changes); returns
/// whether it was new. The body goes first, so an item never lacks its body.
pub fn insert(store: &dyn Store, item: &Item, body: &str) -> Result<bool, DeliveryError> {
    if store.directory_get(OUTBOX_KIND, &item.id)?.is_some() {
        return Ok(false);
    }
    store.directory_put(BODY_KIND, &item.id, body, Put::Replace)?;
    // Serialising plain data with string keys cannot fail.
    let document = serde_json::to_string(item).unwrap_or_default();
    Ok(store.directory_put(OUTBOX_KIND, &item.id, &document, Put::Insert)?)
}

/// Lists every item; a damaged one is logged and left out (it never blocks the others).
pub fn all_items(store: &dyn Store) -> Result<Vec<Item>, DeliveryError> {
    let mut items = Vec::new();
    for (key, document) in store.directory_list(OUTBOX_KIND)? {
        match parse::<Item>(OUTBOX_KIND, &key, &document) {
            Ok(item) => items.push(item),
            Err(error) => tracing::warn!(%error, "skipped a damaged outbox item"),
        }
    }
    Ok(items)
}

/// Lists the items of one endpoint, newest first.
pub fn items(store: &dyn Store, endpoint: &str) -> Result<Vec<Item>, DeliveryError> {
    let mut items: Vec<Item> =
        all_items(store)?.into_iter().filter(|item| item.endpoint == endpoint).collect();
    items.sort_by(|a, b| b.created_micros.cmp(&a.created_micros).then(b.seq.cmp(&a.seq)));
    Ok(items)
}

/// Finds an item by id.
pub fn item(store: &dyn Store, id: &str) -> Result<Option<Item>, DeliveryError> {
    get(store, OUTBOX_KIND, id)
}

/// Returns the body of an item.
pub fn body(store: &dyn Store, id: &str) -> Result<Option<String>, DeliveryError> {
    Ok(store.directory_get(BODY_KIND, id)?)
}

/// Writes an item's new state.
pub fn update_item(store: &dyn Store, item: &Item) -> Result<(), DeliveryError> {
    put(store, OUTBOX_KIND, &item.id, item)
}

/// Makes a dead item pending again, with a fresh count of tries, due at once.
pub fn retry(store: &dyn Store, id: &str, now_micros: i64) -> Result<Item, DeliveryError> {
    let mut item = item(store, id)?.ok_or_else(|| not_found("delivery", id))?;
    if item.state != ItemState::Dead {
        return Err(DeliveryError::NotDead { id: id.to_owned(), state: item.state });
    }
    item.state = ItemState::Pending;
    item.attempts = 0;
    item.next_try_micros = now_micros;
    item.updated_micros = now_micros;
    update_item(store, &item)?;
    Ok(item)
}

/// Deletes an item and its body.
pub fn remove(store: &dyn Store, id: &str) -> Result<(), DeliveryError> {
    store.directory_delete(OUTBOX_KIND, id)?;
    store.directory_delete(BODY_KIND, id)?;
    Ok(())
}

/// Deletes delivered items older than `keep_delivered` and dead ones older than `keep_dead`
/// (by their last change); returns how many went.
pub fn purge(
    store: &dyn Store,
    now_micros: i64,
    keep_delivered: Duration,
    keep_dead: Duration,
) -> Result<usize, DeliveryError> {
    let micros = |keep: Duration| i64::try_from(keep.as_micros()).unwrap_or(i64::MAX);
    let mut purged = 0;
    for item in all_items(store)? {
        let keep = match item.state {
            ItemState::Pending => continue,
            ItemState::Delivered => micros(keep_delivered),
            ItemState::Dead => micros(keep_dead),
        };
        if item.updated_micros.saturating_add(keep) <= now_micros {
            remove(store, &item.id)?;
            purged += 1;
        }
    }
    Ok(purged)
}

/// Counts an item refused for `endpoint` because its organisation's outbox was full.
pub fn count_dropped(
    store: &dyn Store,
    endpoint: &str,
    now_micros: i64,
) -> Result<(), DeliveryError> {
    let mut dropped = dropped(store, endpoint)?;
    dropped.count += 1;
    dropped.last_micros = now_micros;
    put(store, DROPPED_KIND, endpoint, &dropped)
}

/// Returns what `endpoint` had dropped.
pub fn dropped(store: &dyn Store, endpoint: &str) -> Result<Dropped, DeliveryError> {
    Ok(get(store, DROPPED_KIND, endpoint)?.unwrap_or_default())
}

/// Deletes every item of an endpoint and its dropped count (the endpoint is gone).
pub(super) fn remove_endpoint_items(
    store: &dyn Store,
    endpoint: &str,
) -> Result<(), DeliveryError> {
    for item in all_items(store)? {
        if item.endpoint == endpoint {
            remove(store, &item.id)?;
        }
    }
    store.directory_delete(DROPPED_KIND, endpoint)?;
    Ok(())
}
