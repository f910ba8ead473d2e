//! The deliverer: follows the log into the outbox, makes the digests when their period ends,
//! tries the due items on worker threads, records each outcome, and purges old items.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use watchfire_model::policy::OrgId;
use watchfire_model::stix::{Precision, Timestamp};
use watchfire_store::{Entry, EntryKind, Query, Reader, Seq, Store, Versions};

use super::endpoint::{self, DigestState, EmailSubscription, Webhook, get, put};
use super::outbox::{self, Backoff, Channel, Event, Item, ItemState};
use super::send::{self, Mail, Smtp};
use super::{DeliveryError, NodeKey, compose};
use crate::{ALERT_TYPE, Alert, Severity};

/// The directory kind of the deliverer's cursor (key `log`).
pub const CURSOR_KIND: &str = "delivery_cursor";

const CURSOR_KEY: &str = "log";

/// The tuning of delivery.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The waits between tries.
    pub backoff: Backoff,
    /// Tries before an item is dead.
    pub max_attempts: u32,
    /// The longest one try may take (connect, send, answer).
    pub request_timeout: Duration,
    /// Tries running at once (at most one per endpoint).
    pub max_in_flight: usize,
    /// Items an organisation may have pending; beyond, new items are dropped and counted.
    pub max_pending_per_org: usize,
    /// How long delivered items stay visible.
    pub keep_delivered: Duration,
    /// How long dead items stay visible (and retriable).
    pub keep_dead: Duration,
    /// How often the outbox is scanned for due items when nothing else happens.
    pub scan_every: Duration,
    /// How often digests are made and old items purged.
    pub housekeeping_every: Duration,
    /// Whether webhooks may go to loopback, private, link-local and other non-public addresses
    /// (off: a member's webhook cannot reach into the node's own network).
    pub allow_private_targets: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            backoff: Backoff::default(),
            max_attempts: 10,
            request_timeout: Duration::from_secs(10),
            max_in_flight: 16,
            max_pending_per_org: 10_000,
            keep_delivered: Duration::from_secs(7 * 86_400),
            keep_dead: Duration::from_secs(30 * 86_400),
            scan_every: Duration::from_secs(1),
            housekeeping_every: Duration::from_secs(60),
            allow_private_targets: false,
        }
    }
}

/// What delivery needs: the node key (webhook secrets), the SMTP relay (none: mails fail
/// visibly until one is configured) and the tuning.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The node key.
    pub key: NodeKey,
    /// The SMTP relay.
    pub smtp: Option<Smtp>,
    /// The tuning.
    pub settings: Settings,
}

#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    seq: Seq,
}

/// Returns the deliverer's cursor: the log position up to which alert versions are in the outbox.
pub fn cursor(store: &dyn Store) -> Result<Seq, DeliveryError> {
    Ok(get::<Cursor>(store, CURSOR_KIND, CURSOR_KEY)?.map_or(0, |cursor| cursor.seq))
}

/// Follows the log from the cursor to its end: writes the outbox items of every alert version
/// worth sending, then moves the cursor past them, page by page. Returns the items written.
pub fn enqueue(
    store: &dyn Store,
    settings: &Settings,
    now_micros: i64,
) -> Result<usize, DeliveryError> {
    let mut after = cursor(store)?;
    let endpoints = Endpoints::load(store)?;
    // Counted on the first item to write: most passes over a busy log find no alert.
    let mut pending: Option<HashMap<OrgId, usize>> = None;
    let mut written = 0;
    loop {
        // Entries up to `head` have committed (sequence numbers follow commit order), so the
        // cursor may move to it when the page reaches the end.
        let head = store.last_seq()?;
        let query =
            Query { after, limit: 256, types: vec![ALERT_TYPE.to_owned()], ..Query::default() };
        let page = store.query(Reader::Operator, &query)?;
        for entry in &page.entries {
            let mut context = Enqueue { store, settings, pending: &mut pending, now_micros };
            written += context.entry(&endpoints, entry)?;
        }
        let last = page.entries.last().map_or(after, |entry| entry.seq);
        let next = match page.next {
            Some(next) => next.max(last),
            None => last.max(head),
        };
        if next != after {
            put(store, CURSOR_KIND, CURSOR_KEY, &Cursor { seq: next })?;
            after = next;
        }
        if page.next.is_none() {
            return Ok(written);
        }
    }
}

/// Makes the digest of every hourly or daily subscription whose period ended since its last
/// digest (one digest for the whole gap after a stop, so at most one per period); a period
/// without alerts sends nothing. Returns the items written.
pub fn enqueue_digests(store: &dyn Store, now_micros: i64) -> Result<usize, DeliveryError> {
    let mut written = 0;
    for subscription in endpoint::subscriptions(store)? {
        let Some(period) = subscription.mode.period_micros() else { continue };
        let state = get::<DigestState>(store, endpoint::DIGEST_KIND, &subscription.id)?;
        let created = subscription.created_micros;
        let start = state.map_or(created - created.rem_euclid(period), |s| s.last_end_micros);
        let end = now_micros - now_micros.rem_euclid(period);
        if end <= start {
            continue;
        }
        let alerts = period_alerts(store, subscription.org, subscription.min_severity, start, end)?;
        if !alerts.is_empty() {
            let mail = compose::digest_mail(
                subscription.address(),
                &subscription.org_name,
                &micros_text(start),
                &micros_text(end),
                &alerts,
            );
            let idempotency_key = format!("digest@{end}");
            let item = pending_item(
                &subscription.id,
                subscription.org,
                Channel::Email,
                Event::Digest,
                idempotency_key,
                now_micros,
            );
            let body = serde_json::to_string(&mail).unwrap_or_default();
            written += usize::from(outbox::insert(store, &item, &body)?);
        }
        put(store, endpoint::DIGEST_KIND, &subscription.id, &DigestState { last_end_micros: end })?;
    }
    Ok(written)
}

/// Returns the alerts of `org` of at least `min_severity` that changed between `start` and `end`
/// (microseconds, log time), each in its latest version of the period, ordered by id.
pub fn period_alerts(
    store: &dyn Store,
    org: OrgId,
    min_severity: Severity,
    start: i64,
    end: i64,
) -> Result<Vec<Alert>, DeliveryError> {
    let mut latest: BTreeMap<String, Alert> = BTreeMap::new();
    let mut after = 0;
    loop {
        let query = Query {
            after,
            limit: 1000,
            types: vec![ALERT_TYPE.to_owned()],
            added_from: Some(start),
            added_before: Some(end),
            ..Query::default()
        };
        let page = store.query(Reader::Operator, &query)?;
        for entry in page.entries.iter().filter(|entry| entry.kind == EntryKind::Object) {
            match Alert::from_entry(entry) {
                Ok(alert) => {
                    latest.insert(alert.id.clone(), alert);
                }
                Err(error) => tracing::warn!(%error, "skipped an unreadable alert"),
            }
        }
        match page.next {
            Some(next) => after = next,
            None => break,
        }
    }
    Ok(latest
        .into_values()
        .filter(|alert| alert.organisation == Some(org) && alert.severity >= min_severity)
        .collect())
}

/// Runs delivery: follows the log into the outbox and tries due items until stopped.
#[derive(Debug)]
pub struct Deliverer {
    store: Arc<dyn Store>,
    delivery: Arc<Delivery>,
    agent: ureq::Agent,
    in_flight: HashSet<String>,
    busy_endpoints: HashSet<String>,
    queue: Vec<Item>,
    sender: mpsc::Sender<Outcome>,
    outcomes: mpsc::Receiver<Outcome>,
}

/// One try, run on a worker thread: the failure is the text for `last_error`.
type Try = Box<dyn FnOnce() -> Result<(), String> + Send>;

#[derive(Debug)]
struct Outcome {
    item: String,
    endpoint: String,
    result: Result<(), String>,
}

impl Deliverer {
    /// Returns a deliverer of `store`'s alerts.
    pub fn new(store: Arc<dyn Store>, delivery: Delivery) -> Deliverer {
        let (sender, outcomes) = mpsc::channel();
        let agent =
            send::agent(delivery.settings.request_timeout, delivery.settings.allow_private_targets);
        Deliverer {
            store,
            delivery: Arc::new(delivery),
            agent,
            in_flight: HashSet::new(),
            busy_endpoints: HashSet::new(),
            queue: Vec::new(),
            sender,
            outcomes,
        }
    }

    /// Delivers until `stop` is set. Tries still running then are abandoned: their items stay
    /// pending and are tried again after a restart (at least once).
    pub fn run(&mut self, stop: &AtomicBool) {
        let settings = self.delivery.settings.clone();
        let mut seen: Option<Seq> = None;
        let mut next_scan = Instant::now();
        let mut next_housekeeping = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            // While tries run, look for their outcomes often, so an endpoint's next item
            // follows at once; otherwise the log's head is what wakes us.
            let wait = if self.in_flight.is_empty() { 100 } else { 5 };
            let head = match self.store.wait(seen.unwrap_or(0), Duration::from_millis(wait)) {
                Ok(head) => head,
                Err(error) => {
                    tracing::warn!(%error, "delivery cannot follow the log; retrying in 1 s");
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
            };
            let mut written = 0;
            if seen != Some(head) {
                match enqueue(&*self.store, &settings, watchfire_store::now_micros()) {
                    Ok(new_items) => {
                        seen = Some(head);
                        written += new_items;
                    }
                    Err(error) => tracing::warn!(%error, "cannot fill the outbox; retrying"),
                }
            }
            if Instant::now() >= next_housekeeping {
                next_housekeeping = Instant::now() + settings.housekeeping_every;
                written += self.housekeeping(&settings);
            }
            let mut finished = false;
            while let Ok(outcome) = self.outcomes.try_recv() {
                finished = true;
                if let Err(error) = self.record(outcome) {
                    tracing::warn!(%error, "cannot record a delivery outcome");
                }
            }
            if written > 0 || Instant::now() >= next_scan {
                next_scan = Instant::now() + settings.scan_every;
                if let Err(error) = self.rescan() {
                    tracing::warn!(%error, "cannot scan the outbox; retrying");
                }
            }
            let has_work = written > 0 || finished || !self.queue.is_empty();
            if has_work && let Err(error) = self.dispatch() {
                tracing::warn!(%error, "cannot start deliveries; retrying");
            }
        }
    }

    // Makes the digests that are due and purges old items; returns the items written.
    fn housekeeping(&self, settings: &Settings) -> usize {
        let now = watchfire_store::now_micros();
        let written = match enqueue_digests(&*self.store, now) {
            Ok(written) => written,
            Err(error) => {
                tracing::warn!(%error, "cannot make the digests; retrying");
                0
            }
        };
        match outbox::purge(&*self.store, now, settings.keep_delivered, settings.keep_dead) {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "old deliveries purged"),
            Err(error) => tracing::warn!(%error, "cannot purge old deliveries"),
        }
        written
    }

    // Reads the pending items, soonest due first, into the queue.
    fn rescan(&mut self) -> Result<(), DeliveryError> {
        let mut pending: Vec<Item> = outbox::all_items(&*self.store)?
            .into_iter()
            .filter(|item| item.state == ItemState::Pending && !self.in_flight.contains(&item.id))
            .collect();
        pending.sort_by_key(|item| (item.next_try_micros, item.seq));
        self.queue = pending;
        Ok(())
    }

    // Starts a try of every due item of the queue, at most one per endpoint and
    // `max_in_flight` in all. The queue may be stale: `job` reads each item again.
    fn dispatch(&mut self) -> Result<(), DeliveryError> {
        let max_in_flight = self.delivery.settings.max_in_flight;
        let now = watchfire_store::now_micros();
        let mut index = 0;
        while index < self.queue.len() && self.in_flight.len() < max_in_flight {
            let item = &self.queue[index];
            let is_waiting = item.next_try_micros > now
                || self.busy_endpoints.contains(&item.endpoint)
                || self.in_flight.contains(&item.id);
            if is_waiting {
                index += 1;
                continue;
            }
            let item = self.queue.remove(index);
            let Some(job) = self.job(&item.id)? else { continue };
            self.in_flight.insert(item.id.clone());
            self.busy_endpoints.insert(item.endpoint.clone());
            let (item_id, endpoint) = (item.id.clone(), item.endpoint.clone());
            let sender = self.sender.clone();
            let spawned = std::thread::Builder::new().name("delivery".into()).spawn(move || {
                let _ = sender.send(Outcome { item: item_id, endpoint, result: job() });
            });
            if let Err(error) = spawned {
                let result = Err(format!("cannot start a try: {error}"));
                let outcome = Outcome { item: item.id, endpoint: item.endpoint, result };
                let _ = self.sender.send(outcome);
            }
        }
        Ok(())
    }

    // Prepares the try of one item, or settles it when it cannot be tried: it is no longer
    // pending (removed or retried meanwhile), its endpoint is gone (the item goes too) or
    // disabled (it waits), or its body is missing or damaged (dead).
    fn job(&self, id: &str) -> Result<Option<Try>, DeliveryError> {
        let store = &*self.store;
        let Some(item) = outbox::item(store, id)? else { return Ok(None) };
        if item.state != ItemState::Pending {
            return Ok(None);
        }
        let item = &item;
        let Some(body) = outbox::body(store, &item.id)? else {
            self.settle(item, Err("the body of this delivery is missing".into()), true)?;
            return Ok(None);
        };
        let timeout = self.delivery.settings.request_timeout;
        Ok(match item.channel {
            Channel::Webhook => {
                let Some(webhook) = endpoint::webhook(store, &item.endpoint)? else {
                    outbox::remove(store, &item.id)?;
                    return Ok(None);
                };
                if !webhook.enabled {
                    return Ok(None);
                }
                let secret = self.delivery.key.webhook_secret(&webhook.id, webhook.generation);
                let (agent, item) = (self.agent.clone(), item.clone());
                Some(Box::new(move || {
                    let timestamp = watchfire_store::now_micros() / 1_000_000;
                    send::post_webhook(&agent, webhook.url(), &secret, &item, &body, timestamp)
                }))
            }
            Channel::Email => {
                if endpoint::subscription(store, &item.endpoint)?.is_none() {
                    outbox::remove(store, &item.id)?;
                    return Ok(None);
                }
                let mail: Mail = match serde_json::from_str(&body) {
                    Ok(mail) => mail,
                    Err(error) => {
                        let reason = format!("the body of this delivery is damaged: {error}");
                        self.settle(item, Err(reason), true)?;
                        return Ok(None);
                    }
                };
                let (smtp, item) = (self.delivery.smtp.clone(), item.clone());
                Some(Box::new(move || match smtp {
                    Some(smtp) => send::send_mail(&smtp, &item, &mail, timeout),
                    None => Err("no smtp relay is configured on this node".to_owned()),
                }))
            }
        })
    }

    // Records the outcome of a try.
    fn record(&mut self, outcome: Outcome) -> Result<(), DeliveryError> {
        self.in_flight.remove(&outcome.item);
        self.busy_endpoints.remove(&outcome.endpoint);
        // The item may have been removed (its endpoint deleted) or retried meanwhile.
        let Some(item) = outbox::item(&*self.store, &outcome.item)? else { return Ok(()) };
        if item.state != ItemState::Pending {
            return Ok(());
        }
        self.settle(&item, outcome.result, false)
    }

    // Writes the state after a try: delivered, pending with its next try, or dead (after the
    // last try, or at once when `fatal`).
    fn settle(
        &self,
        item: &Item,
        result: Result<(), String>,
        fatal: bool,
    ) -> Result<(), DeliveryError> {
        let settings = &self.delivery.settings;
        let now = watchfire_store::now_micros();
        let mut item = item.clone();
        item.attempts = item.attempts.saturating_add(1);
        item.updated_micros = now;
        match result {
            Ok(()) => {
                item.state = ItemState::Delivered;
                item.last_error = None;
                tracing::debug!(delivery = item.id, endpoint = item.endpoint, "delivered");
            }
            Err(error) if fatal || item.attempts >= settings.max_attempts => {
                tracing::warn!(
                    delivery = item.id,
                    endpoint = item.endpoint,
                    attempts = item.attempts,
                    %error,
                    "delivery dead after its last try"
                );
                item.state = ItemState::Dead;
                item.last_error = Some(error);
            }
            Err(error) => {
                let wait = settings.backoff.delay(item.attempts, &item.id);
                item.next_try_micros =
                    now.saturating_add(i64::try_from(wait.as_micros()).unwrap_or(i64::MAX));
                tracing::info!(
                    delivery = item.id,
                    endpoint = item.endpoint,
                    attempts = item.attempts,
                    %error,
                    wait_ms = wait.as_millis() as u64,
                    "delivery failed; will retry"
                );
                item.last_error = Some(error);
            }
        }
        outbox::update_item(&*self.store, &item)
    }
}

// The enabled endpoints of each organisation, read once per pass over the log.
struct Endpoints {
    webhooks: HashMap<OrgId, Vec<Webhook>>,
    immediate: HashMap<OrgId, Vec<EmailSubscription>>,
}

impl Endpoints {
    fn load(store: &dyn Store) -> Result<Endpoints, DeliveryError> {
        let mut webhooks: HashMap<OrgId, Vec<Webhook>> = HashMap::new();
        for webhook in endpoint::webhooks(store)? {
            webhooks.entry(webhook.org).or_default().push(webhook);
        }
        let mut immediate: HashMap<OrgId, Vec<EmailSubscription>> = HashMap::new();
        for subscription in endpoint::subscriptions(store)? {
            if subscription.mode == endpoint::DigestMode::Immediate {
                immediate.entry(subscription.org).or_default().push(subscription);
            }
        }
        Ok(Endpoints { webhooks, immediate })
    }
}

// One pass's writing of outbox items.
struct Enqueue<'a> {
    store: &'a dyn Store,
    settings: &'a Settings,
    pending: &'a mut Option<HashMap<OrgId, usize>>,
    now_micros: i64,
}

impl Enqueue<'_> {
    // Writes the items of one log entry; returns how many were new.
    fn entry(&mut self, endpoints: &Endpoints, entry: &Entry) -> Result<usize, DeliveryError> {
        if entry.kind != EntryKind::Object {
            return Ok(0);
        }
        let alert = match Alert::from_entry(entry) {
            Ok(alert) => alert,
            Err(error) => {
                tracing::warn!(%error, "skipped an unreadable alert");
                return Ok(0);
            }
        };
        // Outbreaks go to the community over the stream; an alert is delivered only to the
        // organisation that owns it on the log.
        let Some(org) = alert.organisation else { return Ok(0) };
        if entry.audience.owner != Some(org) {
            tracing::warn!(
                alert = alert.id,
                seq = entry.seq,
                "skipped an alert not owned by its organisation"
            );
            return Ok(0);
        }
        let Some(event) = self.event(entry, &alert)? else { return Ok(0) };
        let idempotency_key = format!("{}@{}", alert.id, entry.version_micros);
        let mut written = 0;
        for webhook in endpoints.webhooks.get(&org).into_iter().flatten() {
            if !webhook.wants(&alert) {
                continue;
            }
            let body = compose::webhook_body(event, &idempotency_key, &alert, &entry.body);
            let item = Item {
                alert: Some(alert.id.clone()),
                seq: entry.seq,
                ..pending_item(
                    &webhook.id,
                    webhook.org,
                    Channel::Webhook,
                    event,
                    idempotency_key.clone(),
                    self.now_micros,
                )
            };
            written += self.add(&item, &body)?;
        }
        for subscription in endpoints.immediate.get(&org).into_iter().flatten() {
            if alert.severity < subscription.min_severity {
                continue;
            }
            let mail =
                compose::alert_mail(subscription.address(), &subscription.org_name, event, &alert);
            let body = serde_json::to_string(&mail).unwrap_or_default();
            let item = Item {
                alert: Some(alert.id.clone()),
                seq: entry.seq,
                ..pending_item(
                    &subscription.id,
                    subscription.org,
                    Channel::Email,
                    event,
                    idempotency_key.clone(),
                    self.now_micros,
                )
            };
            written += self.add(&item, &body)?;
        }
        Ok(written)
    }

    // Tells whether the version is worth sending: the first version, or one whose count,
    // severity or status changed since the version before it. A deleted alert is not sent.
    fn event(&self, entry: &Entry, alert: &Alert) -> Result<Option<Event>, DeliveryError> {
        let versions = self.store.get(Reader::Operator, &entry.id, Versions::All)?;
        let Some(position) = versions.iter().position(|version| version.seq == entry.seq) else {
            return Ok(None);
        };
        let previous = position.checked_sub(1).and_then(|index| versions.get(index));
        let Some(previous) = previous.and_then(|previous| Alert::from_entry(previous).ok()) else {
            return Ok(Some(Event::AlertCreated));
        };
        let changed = previous.count != alert.count
            || previous.severity != alert.severity
            || previous.status != alert.status;
        Ok(changed.then_some(Event::AlertUpdated))
    }

    // Writes an item unless it exists; refuses it (counted per endpoint) when its organisation
    // has `max_pending_per_org` pending items already.
    fn add(&mut self, item: &Item, body: &str) -> Result<usize, DeliveryError> {
        if outbox::item(self.store, &item.id)?.is_some() {
            return Ok(0);
        }
        let counts = match self.pending {
            Some(counts) => counts,
            None => self.pending.insert(pending_per_org(self.store)?),
        };
        let pending = counts.entry(item.org).or_default();
        if *pending >= self.settings.max_pending_per_org {
            tracing::warn!(
                endpoint = item.endpoint,
                alert = item.alert,
                "outbox full: delivery dropped"
            );
            outbox::count_dropped(self.store, &item.endpoint, self.now_micros)?;
            return Ok(0);
        }
        let is_new = outbox::insert(self.store, item, body)?;
        *pending += usize::from(is_new);
        Ok(usize::from(is_new))
    }
}

/// A pending item for `endpoint` of `org`, due now; the caller names the alert and log entry.
fn pending_item(
    endpoint: &str,
    org: OrgId,
    channel: Channel,
    event: Event,
    idempotency_key: String,
    now_micros: i64,
) -> Item {
    Item {
        id: Item::derive_id(endpoint, &idempotency_key),
        org,
        channel,
        endpoint: endpoint.to_owned(),
        event,
        idempotency_key,
        alert: None,
        seq: 0,
        state: ItemState::Pending,
        attempts: 0,
        next_try_micros: now_micros,
        last_error: None,
        created_micros: now_micros,
        updated_micros: now_micros,
    }
}

// Counts the pending items of each organisation.
fn pending_per_org(store: &dyn Store) -> Result<HashMap<OrgId, usize>, DeliveryError> {
    let mut pending: HashMap<OrgId, usize> = HashMap::new();
    for item in outbox::all_items(store)? {
        if item.state == ItemState::Pending {
            *pending.entry(item.org).or_default() += 1;
        }
    }
    Ok(pending)
}

fn micros_text(micros: i64) -> String {
    Timestamp::from_unix_nanos(micros.saturating_mul(1000), Precision::Millis).as_str().to_owned()
}
