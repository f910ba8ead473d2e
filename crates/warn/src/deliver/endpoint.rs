//! Where an organisation's alerts go: webhooks and e-mail subscriptions, kept in the store's
//! directory (kinds [`WEBHOOK_KIND`] and [`SUBSCRIPTION_KIND`], key = the endpoint's id).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use watchfire_model::policy::OrgId;
use watchfire_model::record::Category;
use watchfire_store::{Put, Store};

use super::{DeliveryError, outbox};
use crate::{Alert, Severity};

/// The directory kind of webhooks.
pub const WEBHOOK_KIND: &str = "webhook";

/// The directory kind of e-mail subscriptions.
pub const SUBSCRIPTION_KIND: &str = "email_subscription";

/// The directory kind of the digest state of each digest subscription (the end of the last
/// period sent).
pub const DIGEST_KIND: &str = "email_digest";

/// The longest webhook URL accepted.
pub const MAX_URL_BYTES: usize = 2048;

/// An organisation's webhook: alerts of at least `min_severity` (and of `categories`, when
/// given) are POSTed to its URL, signed with its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// Its id (a UUID).
    pub id: String,
    /// The organisation whose alerts it receives.
    pub org: OrgId,
    /// Invariant: an absolute `http` or `https` URL with a host and no credentials, at most
    /// [`MAX_URL_BYTES`] long (checked by [`create_webhook`]).
    url: String,
    /// The least severity sent.
    pub min_severity: Severity,
    /// Only these categories (empty: every category).
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Whether alerts are sent to it.
    pub enabled: bool,
    /// Who made it (a user's name or `token:<id>`).
    pub created_by: String,
    /// When it was made, microseconds since the epoch.
    pub created_micros: i64,
    /// The generation of its secret: rotating makes a new one.
    pub generation: u32,
}

impl Webhook {
    /// Returns the URL alerts are POSTed to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Tells whether `alert` is one this webhook wants.
    pub fn wants(&self, alert: &Alert) -> bool {
        self.enabled
            && alert.severity >= self.min_severity
            && (self.categories.is_empty() || self.categories.contains(&alert.category))
    }
}

/// What a new webhook is.
#[derive(Clone, Debug)]
pub struct NewWebhook {
    /// The organisation.
    pub org: OrgId,
    /// The URL as given.
    pub url: String,
    /// The least severity sent.
    pub min_severity: Severity,
    /// Only these categories (empty: all).
    pub categories: Vec<Category>,
    /// Whether it starts enabled.
    pub enabled: bool,
    /// Who makes it.
    pub created_by: String,
}

/// How an e-mail subscription sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DigestMode {
    /// A mail per alert version worth sending, at once.
    Immediate,
    /// One mail per hour with the hour's alerts.
    Hourly,
    /// One mail per day (UTC) with the day's alerts.
    Daily,
}

impl DigestMode {
    /// Returns the mode's name.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestMode::Immediate => "immediate",
            DigestMode::Hourly => "hourly",
            DigestMode::Daily => "daily",
        }
    }

    /// Returns the length of a digest period in microseconds (`None` for immediate).
    pub fn period_micros(self) -> Option<i64> {
        match self {
            DigestMode::Immediate => None,
            DigestMode::Hourly => Some(3_600_000_000),
            DigestMode::Daily => Some(86_400_000_000),
        }
    }
}

impl fmt::Display for DigestMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DigestMode {
    type Err = String;

    fn from_str(text: &str) -> Result<DigestMode, String> {
        [DigestMode::Immediate, DigestMode::Hourly, DigestMode::Daily]
            .into_iter()
            .find(|mode| mode.as_str() == text)
            .ok_or_else(|| {
                format!("unknown mode {text:?}: expected one of immediate, hourly, daily")
            })
    }
}

/// An organisation's e-mail subscription to its alerts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailSubscription {
    /// Its id (a UUID).
    pub id: String,
    /// The organisation whose alerts it receives.
    pub org: OrgId,
    /// The organisation's name when the subscription was made (for the mails' text).
    pub org_name: String,
    /// Invariant: an address lettre parses, at most 254 bytes (checked by [`create_subscription`]).
    address: String,
    /// Immediate, or a digest.
    pub mode: DigestMode,
    /// The least severity sent.
    pub min_severity: Severity,
    /// Who made it.
    pub created_by: String,
    /// When it was made, microseconds since the epoch.
    pub created_micros: i64,
}

impl EmailSubscription {
    /// Returns the address mails go to.
    pub fn address(&self) -> &str {
        &self.address
    }
}

/// What a new e-mail subscription is.
#[derive(Clone, Debug)]
pub struct NewSubscription {
    /// The organisation.
    pub org: OrgId,
    /// Its name, for the mails.
    pub org_name: String,
    /// The address as given.
    pub address: String,
    /// Immediate, hourly or daily.
    pub mode: DigestMode,
    /// The least severity sent.
    pub min_severity: Severity,
    /// Who makes it.
    pub created_by: String,
}

/// Where a digest subscription stands: the end of the last period whose digest was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestState {
    /// The end of the last period covered, microseconds since the epoch.
    pub last_end_micros: i64,
}

/// Checks a webhook URL: absolute `http`/`https`, a host, no credentials, not too long, and
/// (unless `allow_private`) no address literal that is not public. Names are checked when a try
/// resolves them ([`super::send::agent`]).
pub fn check_url(url: &str, allow_private: bool) -> Result<(), DeliveryError> {
    let invalid = |reason: &str| DeliveryError::Invalid { field: "url", reason: reason.to_owned() };
    if url.len() > MAX_URL_BYTES {
        return Err(invalid(&format!("longer than {MAX_URL_BYTES} bytes")));
    }
    let uri: ureq::http::Uri = url.parse().map_err(|error| invalid(&format!("{error}")))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(scheme) => return Err(invalid(&format!("scheme {scheme:?} is not http or https"))),
        None => return Err(invalid("not an absolute URL")),
    }
    let Some(authority) = uri.authority() else {
        return Err(invalid("no host"));
    };
    if authority.as_str().contains('@') {
        return Err(invalid("credentials in the URL are refused: the signature authenticates"));
    }
    let host = authority.host();
    if host.is_empty() {
        return Err(invalid("no host"));
    }
    let literal = host.strip_prefix('[').and_then(|host| host.strip_suffix(']')).unwrap_or(host);
    if let Ok(address) = literal.parse::<std::net::IpAddr>()
        && !allow_private
        && !super::send::is_public(address)
    {
        return Err(invalid(&format!(
            "{address} is not a public address: webhooks to loopback, private, link-local and other special addresses are refused (serve --webhooks-allow-private allows them)"
        )));
    }
    Ok(())
}

/// Checks an e-mail address (at most 254 bytes, as lettre parses it); returns it trimmed.
pub fn check_address(address: &str) -> Result<String, DeliveryError> {
    let address = address.trim();
    let invalid = |reason: String| DeliveryError::Invalid { field: "address", reason };
    if address.len() > 254 {
        return Err(invalid("longer than 254 bytes".into()));
    }
    let parsed: lettre::Address = address.parse().map_err(|error| invalid(format!("{error}")))?;
    Ok(parsed.to_string())
}

/// Makes a webhook; returns it with its secret, which is shown this once. `allow_private` is
/// the node's [`super::Settings::allow_private_targets`].
pub fn create_webhook(
    store: &dyn Store,
    key: &super::NodeKey,
    new: NewWebhook,
    now_micros: i64,
    allow_private: bool,
) -> Result<(Webhook, String), DeliveryError> {
    check_url(&new.url, allow_private)?;
    let webhook = Webhook {
        id: Uuid::new_v4().to_string(),
        org: new.org,
        url: new.url,
        min_severity: new.min_severity,
        categories: new.categories,
        enabled: new.enabled,
        created_by: new.created_by,
        created_micros: now_micros,
        generation: 1,
    };
    put(store, WEBHOOK_KIND, &webhook.id, &webhook)?;
    let secret = key.webhook_secret(&webhook.id, webhook.generation);
    Ok((webhook, secret))
}

/// Lists every webhook (of every organisation), ordered by id.
pub fn webhooks(store: &dyn Store) -> Result<Vec<Webhook>, DeliveryError> {
    list(store, WEBHOOK_KIND)
}

/// Finds a webhook by id.
pub fn webhook(store: &dyn Store, id: &str) -> Result<Option<Webhook>, DeliveryError> {
    get(store, WEBHOOK_KIND, id)
}

/// Makes a new secret for a webhook (the old one stops working at once); returns the webhook
/// and the new secret, shown this once.
pub fn rotate_webhook(
    store: &dyn Store,
    key: &super::NodeKey,
    id: &str,
) -> Result<(Webhook, String), DeliveryError> {
    let mut webhook = webhook(store, id)?.ok_or_else(|| not_found("webhook", id))?;
    webhook.generation = webhook.generation.saturating_add(1);
    put(store, WEBHOOK_KIND, id, &webhook)?;
    let secret = key.webhook_secret(&webhook.id, webhook.generation);
    Ok((webhook, secret))
}

/// Turns a webhook on or off (alerts of the time it is off are not sent to it later).
pub fn set_webhook_enabled(
    store: &dyn Store,
    id: &str,
    enabled: bool,
) -> Result<Webhook, DeliveryError> {
    let mut webhook = webhook(store, id)?.ok_or_else(|| not_found("webhook", id))?;
    webhook.enabled = enabled;
    put(store, WEBHOOK_KIND, id, &webhook)?;
    Ok(webhook)
}

/// Removes a webhook and its outbox items.
pub fn remove_webhook(store: &dyn Store, id: &str) -> Result<(), DeliveryError> {
    if !store.directory_delete(WEBHOOK_KIND, id)? {
        return Err(not_found("webhook", id));
    }
    outbox::remove_endpoint_items(store, id)
}

/// Makes an e-mail subscription.
pub fn create_subscription(
    store: &dyn Store,
    new: NewSubscription,
    now_micros: i64,
) -> Result<EmailSubscription, DeliveryError> {
    let address = check_address(&new.address)?;
    let subscription = EmailSubscription {
        id: Uuid::new_v4().to_string(),
        org: new.org,
        org_name: new.org_name,
        address,
        mode: new.mode,
        min_severity: new.min_severity,
        created_by: new.created_by,
        created_micros: now_micros,
    };
    if let Some(period) = subscription.mode.period_micros() {
        // The first digest covers the period the subscription was made in.
        let state = DigestState { last_end_micros: now_micros - now_micros.rem_euclid(period) };
        put(store, DIGEST_KIND, &subscription.id, &state)?;
    }
    put(store, SUBSCRIPTION_KIND, &subscription.id, &subscription)?;
    Ok(subscription)
}

/// Lists every e-mail subscription (of every organisation), ordered by id.
pub fn subscriptions(store: &dyn Store) -> Result<Vec<EmailSubscription>, DeliveryError> {
    list(store, SUBSCRIPTION_KIND)
}

/// Finds an e-mail subscription by id.
pub fn subscription(
    store: &dyn Store,
    id: &str,
) -> Result<Option<EmailSubscription>, DeliveryError> {
    get(store, SUBSCRIPTION_KIND, id)
}

/// Removes an e-mail subscription, its digest state and its outbox items.
pub fn remove_subscription(store: &dyn Store, id: &str) -> Result<(), DeliveryError> {
    if !store.directory_delete(SUBSCRIPTION_KIND, id)? {
        return Err(not_found("e-mail subscription", id));
    }
    store.directory_delete(DIGEST_KIND, id)?;
    outbox::remove_endpoint_items(store, id)
}

pub(super) fn not_found(what: &'static str, id: &str) -> DeliveryError {
    DeliveryError::NotFound { what, id: id.to_owned() }
}

pub(super) fn put<T: Serialize>(
    store: &dyn Store,
    kind: &str,
    key: &str,
    value: &T,
) -> Result<(), DeliveryError> {
    // Serialising plain data with string keys cannot fail.
    let document = serde_json::to_string(value).unwrap_or_default();
    store.directory_put(kind, key, &document, Put::Replace)?;
    Ok(())
}

pub(super) fn get<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    kind: &'static str,
    key: &str,
) -> Result<Option<T>, DeliveryError> {
    match store.directory_get(kind, key)? {
        Some(document) => parse(kind, key, &document).map(Some),
        None => Ok(None),
    }
}

pub(super) fn list<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    kind: &'static str,
) -> Result<Vec<T>, DeliveryError> {
    let mut values = Vec::new();
    for (key, document) in store.directory_list(kind)? {
        values.push(parse(kind, &key, &document)?);
    }
    Ok(values)
}

pub(super) fn parse<T: serde::de::DeserializeOwned>(
    kind: &'static str,
    key: &str,
    document: &str,
) -> Result<T, DeliveryError> {
    serde_json::from_str(document).map_err(|error| DeliveryError::Damaged {
        kind,
        key: key.to_owned(),
        reason: error.to_string(),
    })
}
