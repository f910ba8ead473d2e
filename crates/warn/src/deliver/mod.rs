//! Delivery of alerts to where organisations want them: signed webhooks and e-mail (immediate
//! or hourly/daily digests), through a persistent outbox, so a kill at any moment loses nothing.
//!
//! The [`Deliverer`] follows the log like every other consumer: it reads the alert versions
//! after its cursor, writes one outbox item per (alert version, endpoint) into the store's
//! directory, and only then moves its cursor (kept in the directory too). Items are tried with
//! an exponential backoff and jitter, each try bounded by a timeout and at most one at a time
//! per endpoint, so a hanging endpoint never holds up another; after `max_attempts` an item is
//! `dead`, visible with its last error until the organisation retries it. Delivery is at least
//! once: a repeat carries the same idempotency key.
//!
//! Which versions are sent: an alert's first version (`alert.created`), and a later version
//! whose count, severity or status changed (`alert.updated`); a version that changed only its
//! evidence or note is not. Outbreak alerts (no organisation) are left to the live stream.
//!
//! Directory kinds: `webhook`, `email_subscription`, `email_digest` (the last digest period per
//! subscription), `outbox` and `outbox_body` (the items), `delivery_dropped` (items refused
//! because an organisation's outbox was full) and `delivery_cursor` (the log position).

mod compose;
mod endpoint;
mod key;
mod outbox;
mod run;
mod send;

pub use compose::{MAX_DIGEST_LINES, alert_mail, digest_mail, webhook_body};
pub use endpoint::{
    DIGEST_KIND, DigestMode, DigestState, EmailSubscription, MAX_URL_BYTES, NewSubscription,
    NewWebhook, SUBSCRIPTION_KIND, WEBHOOK_KIND, Webhook, check_address, check_url,
    create_subscription, create_webhook, remove_subscription, remove_webhook, rotate_webhook,
    set_webhook_enabled, subscription, subscriptions, webhook, webhooks,
};
pub use key::{NODE_KEY_FILE, NodeKey, SECRET_PREFIX, signature};
pub use outbox::{
    BODY_KIND, Backoff, Channel, DROPPED_KIND, Dropped, Event, Item, ItemState, OUTBOX_KIND,
    all_items, body, dropped, item, items, purge, retry, update_item,
};
pub use run::{
    CURSOR_KIND, Deliverer, Delivery, Settings, cursor, enqueue, enqueue_digests, period_alerts,
};
pub use send::{Mail, Smtp, SmtpSecurity};

/// An error of delivery. Every variant names the endpoint, item or field at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// A field of a new endpoint is not acceptable.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// No endpoint or item has this id.
    #[error("no {what} {id}")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// Only a dead item can be retried.
    #[error("delivery {id} is {state}: only a dead delivery can be retried")]
    NotDead {
        /// The item.
        id: String,
        /// Its state.
        state: ItemState,
    },
    /// A stored document does not parse.
    #[error("the directory record {kind}/{key} is damaged: {reason}")]
    Damaged {
        /// The directory kind.
        kind: &'static str,
        /// The key.
        key: String,
        /// Why it does not parse.
        reason: String,
    },
    /// The node key cannot be read or made.
    #[error("{0}")]
    Key(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] watchfire_store::Error),
}
