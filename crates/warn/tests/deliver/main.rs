//! Delivery end to end on a SQLite store with real endpoints on loopback: signatures a receiver
//! can check, one idempotency key across retries, the backoff schedule, dead-lettering, a
//! hanging endpoint that delays nobody else, a refusing SMTP relay, digests and the outbox cap.

mod receivers;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use receivers::{HttpReceiver, Reply, SmtpSink, wait_until};
use ring::hmac;
use uuid::Uuid;
use watchfire_model::observable::Observable;
use watchfire_model::policy::OrgId;
use watchfire_model::record::Category;
use watchfire_model::stix::{Precision, Timestamp};
use watchfire_store::{Fact, SqliteStore, Store};
use watchfire_warn::deliver::{
    self, Backoff, Channel, Delivery, DeliveryError, DigestMode, Event, Item, ItemState,
    NewSubscription, NewWebhook, NodeKey, Settings, Smtp, SmtpSecurity,
};
use watchfire_warn::{ALERT_SOURCE, Alert, Direction, Severity, Status};

fn org(n: u128) -> OrgId {
    OrgId(Uuid::from_u128(n))
}

fn store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("watchfire.db")).unwrap());
    (dir, store)
}

fn key() -> NodeKey {
    NodeKey::from_hex(&"ab".repeat(32)).unwrap()
}

fn time(seconds: i64) -> Timestamp {
    Timestamp::from_unix_nanos(seconds * 1_000_000_000, Precision::Millis)
}

/// An alert of `org` about `value`, as its version at `modified` (seconds after a base time).
fn alert(
    org: OrgId,
    value: &str,
    severity: Severity,
    count: u64,
    status: Status,
    modified: i64,
) -> Alert {
    const BASE: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
    let observable = Observable::parse(value).unwrap();
    let window = (time(BASE), time(BASE + 86_400));
    let mut alert = Alert::new(
        Some(org),
        Direction::Hosted,
        Category::BotnetC2,
        observable,
        window,
        time(BASE),
    );
    alert.modified = time(BASE + modified);
    alert.last_seen = time(BASE + modified);
    alert.severity = severity;
    alert.score = 70;
    alert.status = status;
    alert.count = count;
    alert.sources = vec!["abusech_feodo".to_owned()];
    alert
}

fn append(store: &dyn Store, alert: &Alert) {
    let fact = Fact::object(ALERT_SOURCE, alert.audience(None), alert.to_object().unwrap());
    assert_eq!(store.append(&[fact]).unwrap().new_versions, 1);
}

fn fast_settings() -> Settings {
    Settings {
        backoff: Backoff { first: Duration::from_millis(50), max: Duration::from_millis(200) },
        max_attempts: 3,
        request_timeout: Duration::from_secs(2),
        scan_every: Duration::from_millis(30),
        housekeeping_every: Duration::from_millis(200),
        // The receivers of these tests listen on the loopback.
        allow_private_targets: true,
        ..Settings::default()
    }
}

fn webhook(store: &dyn Store, org: OrgId, url: &str, min_severity: Severity) -> (String, String) {
    let new = NewWebhook {
        org,
        url: url.to_owned(),
        min_severity,
        categories: Vec::new(),
        enabled: true,
        created_by: "tester".to_owned(),
    };
    let (webhook, secret) = deliver::create_webhook(store, &key(), new, 1, true).unwrap();
    (webhook.id, secret)
}

fn subscription(store: &dyn Store, org: OrgId, mode: DigestMode, now: i64) -> String {
    let new = NewSubscription {
        org,
        org_name: "cert-a".to_owned(),
        address: "soc@a.example".to_owned(),
        mode,
        min_severity: Severity::Medium,
        created_by: "tester".to_owned(),
    };
    deliver::create_subscription(store, new, now).unwrap().id
}

/// A deliverer on its own thread, stopped when dropped.
struct Running {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.take().unwrap().join();
    }
}

fn run(store: &Arc<dyn Store>, settings: Settings, smtp: Option<Smtp>) -> Running {
    let stop = Arc::new(AtomicBool::new(false));
    let mut deliverer =
        deliver::Deliverer::new(Arc::clone(store), Delivery { key: key(), smtp, settings });
    let flag = Arc::clone(&stop);
    let thread = std::thread::spawn(move || deliverer.run(&flag));
    Running { stop, thread: Some(thread) }
}

fn smtp(port: u16) -> Smtp {
    Smtp {
        host: "127.0.0.1".to_owned(),
        port,
        from: "watchfire@node.example".to_owned(),
        security: SmtpSecurity::Plain,
        credentials: None,
    }
}

fn only_item(store: &dyn Store, endpoint: &str) -> Item {
    let items = deliver::items(store, endpoint).unwrap();
    assert_eq!(items.len(), 1, "{items:#?}");
    items.into_iter().next().unwrap()
}

fn settled(store: &dyn Store, endpoint: &str, state: ItemState) -> bool {
    deliver::items(store, endpoint).unwrap().iter().any(|item| item.state == state)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[test]
fn a_receiver_verifies_the_signature_and_retries_carry_one_idempotency_key() {
    let (_dir, store) = store();
    let receiver =
        HttpReceiver::start(|n| if n < 2 { Reply::Status(503) } else { Reply::Status(204) });
    let (hook, secret) = webhook(&*store, org(1), &receiver.url, Severity::Low);
    assert!(secret.starts_with("wfwh_") && secret.len() == 5 + 64, "{secret}");
    let alert = alert(org(1), "192.0.2.1", Severity::High, 1, Status::New, 0);
    append(&*store, &alert);
    let _running = run(&store, fast_settings(), None);
    assert!(wait_until(Duration::from_secs(10), || settled(&*store, &hook, ItemState::Delivered)));

    let requests = receiver.requests();
    assert_eq!(requests.len(), 3, "two failures, then the delivery");
    let hmac_key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    for request in &requests {
        let timestamp = request.header("x-watchfire-timestamp");
        let expected = hmac::sign(&hmac_key, format!("{timestamp}.{}", request.body).as_bytes());
        assert_eq!(
            request.header("x-watchfire-signature"),
            format!("sha256={}", hex(expected.as_ref()))
        );
        let age = watchfire_store::now_micros() / 1_000_000 - timestamp.parse::<i64>().unwrap();
        assert!((0..60).contains(&age), "the timestamp is the time of the try");
        assert_eq!(request.header("x-watchfire-event"), "alert.created");
        assert_eq!(request.header("content-type"), "application/json");
    }
    let keys: Vec<&str> =
        requests.iter().map(|request| request.header("x-watchfire-idempotency-key")).collect();
    assert!(keys[0].starts_with(&format!("{}@", alert.id)), "{keys:?}");
    assert!(keys.iter().all(|key| *key == keys[0]), "{keys:?}");
    assert!(
        requests.iter().all(|request| request.body == requests[0].body),
        "the body is the same on every try"
    );
    let body: serde_json::Value = serde_json::from_str(&requests[0].body).unwrap();
    assert_eq!(body["event"], "alert.created");
    assert_eq!(body["alert"]["id"], alert.id.as_str());
    assert_eq!(body["alert"]["severity"], "high");

    let item = only_item(&*store, &hook);
    assert_eq!((item.attempts, item.last_error, item.idempotency_key.as_str()), (3, None, keys[0]));

    // After a rotation, deliveries are signed with the new secret only.
    let (_, rotated) = deliver::rotate_webhook(&*store, &key(), &hook).unwrap();
    assert_ne!(rotated, secret);
    append(&*store, &self::alert(org(1), "192.0.2.2", Severity::High, 1, Status::New, 0));
    assert!(wait_until(Duration::from_secs(10), || receiver.requests().len() == 4));
    let last = receiver.requests().pop().unwrap();
    let timestamp: i64 = last.header("x-watchfire-timestamp").parse().unwrap();
    let signed = last.header("x-watchfire-signature");
    assert_eq!(signed, deliver::signature(&rotated, timestamp, last.body.as_bytes()));
    assert_ne!(signed, deliver::signature(&secret, timestamp, last.body.as_bytes()));
}

#[test]
fn the_backoff_doubles_from_the_first_wait_up_to_the_limit_with_jitter() {
    let backoff = Backoff::default();
    let mut waits = Vec::new();
    for attempts in 1..=12 {
        let full = Duration::from_secs(5 * (1 << (attempts - 1))).min(Duration::from_secs(3600));
        let wait = backoff.delay(attempts, "item-1");
        assert!(
            wait >= full / 2 && wait <= full,
            "attempt {attempts}: {wait:?} not within {full:?}/2..{full:?}"
        );
        assert_eq!(wait, backoff.delay(attempts, "item-1"), "reproducible");
        waits.push(wait);
    }
    assert!(waits[11] <= Duration::from_secs(3600));
    let spread: std::collections::HashSet<Duration> =
        (0..20).map(|n| backoff.delay(3, &format!("item-{n}"))).collect();
    assert!(spread.len() > 10, "items that failed together do not retry together: {spread:?}");
}

#[test]
fn an_endpoint_answering_500_forever_ends_dead_with_its_error_and_can_be_retried() {
    let (_dir, store) = store();
    let receiver = HttpReceiver::start(|_| Reply::Status(500));
    let (hook, _) = webhook(&*store, org(1), &receiver.url, Severity::Low);
    append(&*store, &alert(org(1), "192.0.2.1", Severity::High, 1, Status::New, 0));
    let running = run(&store, fast_settings(), None);
    assert!(wait_until(Duration::from_secs(10), || settled(&*store, &hook, ItemState::Dead)));
    let item = only_item(&*store, &hook);
    assert_eq!((item.attempts, item.last_error.as_deref()), (3, Some("http status 500")));
    assert_eq!(receiver.requests().len(), 3, "max_attempts tries, then no more");
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(receiver.requests().len(), 3, "a dead item is not tried again by itself");

    let retried = deliver::retry(&*store, &item.id, watchfire_store::now_micros()).unwrap();
    assert_eq!((retried.state, retried.attempts), (ItemState::Pending, 0));
    assert!(wait_until(Duration::from_secs(10), || receiver.requests().len() == 6
        && settled(&*store, &hook, ItemState::Dead)));
    drop(running);
    let pending = deliver::retry(&*store, &item.id, 0).unwrap();
    assert!(matches!(
        deliver::retry(&*store, &pending.id, 0),
        Err(DeliveryError::NotDead { state: ItemState::Pending, .. })
    ));
}

#[test]
fn a_hanging_endpoint_does_not_delay_another_organisations_delivery() {
    let (_dir, store) = store();
    let hanging = HttpReceiver::start(|_| Reply::Hang);
    let fine = HttpReceiver::start(|_| Reply::Status(200));
    let (slow_hook, _) = webhook(&*store, org(1), &hanging.url, Severity::Low);
    let (fine_hook, _) = webhook(&*store, org(2), &fine.url, Severity::Low);
    // The hanging organisation's alerts come first in the log.
    for n in 1..=5 {
        append(&*store, &alert(org(1), &format!("192.0.2.{n}"), Severity::High, 1, Status::New, 0));
    }
    append(&*store, &alert(org(2), "198.51.100.1", Severity::High, 1, Status::New, 0));
    let settings = Settings { request_timeout: Duration::from_secs(3), ..fast_settings() };
    let started = Instant::now();
    let _running = run(&store, settings, None);
    assert!(wait_until(Duration::from_secs(10), || settled(
        &*store,
        &fine_hook,
        ItemState::Delivered
    )));
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500), "the other organisation waited {took:?}");
    assert_eq!(hanging.requests().len(), 1, "one try at a time per endpoint");
    assert!(wait_until(Duration::from_secs(10), || deliver::items(&*store, &slow_hook)
        .unwrap()
        .iter()
        .any(|item| item.last_error.as_deref() == Some("timed out"))));
}

#[test]
fn the_versions_sent_are_the_first_and_those_whose_count_severity_or_status_changed() {
    let (_dir, store) = store();
    let (hook, _) = webhook(&*store, org(1), "http://127.0.0.1:9/hook", Severity::Low);
    let first = alert(org(1), "192.0.2.1", Severity::Medium, 1, Status::New, 0);
    append(&*store, &first);
    let mut note_only = alert(org(1), "192.0.2.1", Severity::Medium, 1, Status::New, 10);
    note_only.status_note = Some("looking".to_owned());
    append(&*store, &note_only);
    append(&*store, &alert(org(1), "192.0.2.1", Severity::Medium, 2, Status::New, 20));
    append(&*store, &alert(org(1), "192.0.2.1", Severity::High, 2, Status::New, 30));
    append(&*store, &alert(org(1), "192.0.2.1", Severity::High, 2, Status::Acknowledged, 40));
    // Another organisation's alert never reaches this organisation's webhook.
    append(&*store, &alert(org(2), "192.0.2.1", Severity::Critical, 1, Status::New, 0));

    let settings = Settings::default();
    assert_eq!(deliver::enqueue(&*store, &settings, 1).unwrap(), 4);
    assert_eq!(deliver::cursor(&*store).unwrap(), store.last_seq().unwrap());
    assert_eq!(deliver::enqueue(&*store, &settings, 2).unwrap(), 0, "nothing twice");
    let mut items = deliver::items(&*store, &hook).unwrap();
    items.sort_by_key(|item| item.seq);
    let events: Vec<Event> = items.iter().map(|item| item.event).collect();
    assert_eq!(
        events,
        [Event::AlertCreated, Event::AlertUpdated, Event::AlertUpdated, Event::AlertUpdated]
    );
    let keys: std::collections::HashSet<&str> =
        items.iter().map(|item| item.idempotency_key.as_str()).collect();
    assert_eq!(keys.len(), 4, "each version has its own key");
    assert!(items.iter().all(|item| item.alert.as_deref() == Some(first.id.as_str())));
    assert!(
        items
            .iter()
            .all(|item| item.channel == Channel::Webhook && item.state == ItemState::Pending)
    );
}

#[test]
fn a_webhook_gets_only_what_its_filters_ask_for() {
    let (_dir, store) = store();
    let (high_only, _) = webhook(&*store, org(1), "http://127.0.0.1:9/a", Severity::High);
    let phishing = NewWebhook {
        org: org(1),
        url: "https://127.0.0.1:9/b".to_owned(),
        min_severity: Severity::Low,
        categories: vec![Category::Phishing],
        enabled: true,
        created_by: "tester".to_owned(),
    };
    let (phishing, _) = deliver::create_webhook(&*store, &key(), phishing, 1, true).unwrap();
    let (disabled, _) = webhook(&*store, org(1), "http://127.0.0.1:9/c", Severity::Low);
    deliver::set_webhook_enabled(&*store, &disabled, false).unwrap();
    append(&*store, &alert(org(1), "192.0.2.1", Severity::Medium, 1, Status::New, 0));
    append(&*store, &alert(org(1), "192.0.2.2", Severity::Critical, 1, Status::New, 0));
    deliver::enqueue(&*store, &Settings::default(), 1).unwrap();
    assert_eq!(deliver::items(&*store, &high_only).unwrap().len(), 1);
    assert_eq!(
        deliver::items(&*store, &phishing.id).unwrap().len(),
        0,
        "botnet_c2 is not phishing"
    );
    assert_eq!(deliver::items(&*store, &disabled).unwrap().len(), 0);
}

#[test]
fn webhook_urls_must_be_http_without_credentials() {
    for (url, reason) in [
        ("ftp://example.com/hook", "scheme \"ftp\""),
        ("https://user:pw@example.com/hook", "credentials"),
        ("/hook", "not an absolute URL"),
        ("http://", ""),
    ] {
        let error = deliver::check_url(url, false).unwrap_err().to_string();
        assert!(error.starts_with("invalid url: ") && error.contains(reason), "{url}: {error}");
    }
    let long = format!("https://example.com/{}", "a".repeat(3000));
    assert!(deliver::check_url(&long, false).is_err());
    deliver::check_url("https://hooks.example.com:8443/watchfire?team=soc", false).unwrap();
    // Address literals of the node's own networks are refused unless the node allows them.
    for (url, address) in [
        ("http://127.0.0.1:8080/hook", "127.0.0.1"),
        ("http://10.1.2.3/hook", "10.1.2.3"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("http://100.64.0.1/hook", "100.64.0.1"),
        ("http://0.0.0.0/hook", "0.0.0.0"),
        ("http://[::1]/hook", "::1"),
        ("http://[fd00::1]/hook", "fd00::1"),
        ("http://[fe80::1]/hook", "fe80::1"),
        ("http://[::ffff:192.168.1.1]/hook", "::ffff:192.168.1.1"),
    ] {
        let error = deliver::check_url(url, false).unwrap_err().to_string();
        assert!(error.contains(&format!("{address} is not a public address")), "{url}: {error}");
        deliver::check_url(url, true).unwrap();
    }
    deliver::check_url("https://8.8.8.8/hook", false).unwrap();
    deliver::check_url("https://[2606:4700::1111]/hook", false).unwrap();
}

#[test]
fn a_webhook_name_that_resolves_to_the_node_network_is_refused_when_tried() {
    let (_dir, store) = store();
    let receiver = HttpReceiver::start(|_| Reply::Status(204));
    // A name passes the check at registration; the address it resolves to is checked per try.
    let url = receiver.url.replace("127.0.0.1", "localhost");
    let (hook, _) = webhook(&*store, org(1), &url, Severity::Low);
    append(&*store, &alert(org(1), "192.0.2.1", Severity::High, 1, Status::New, 0));
    let settings = Settings { max_attempts: 1, allow_private_targets: false, ..fast_settings() };
    let _running = run(&store, settings, None);
    assert!(wait_until(Duration::from_secs(10), || settled(&*store, &hook, ItemState::Dead)));
    let error = only_item(&*store, &hook).last_error.unwrap();
    assert!(error.contains("is not a public address"), "{error}");
    assert!(receiver.requests().is_empty(), "nothing reached the loopback receiver");
}

#[test]
fn the_outbox_of_an_organisation_is_capped_and_what_is_dropped_is_counted() {
    let (_dir, store) = store();
    let (hook, _) = webhook(&*store, org(1), "http://127.0.0.1:9/hook", Severity::Low);
    let (other, _) = webhook(&*store, org(2), "http://127.0.0.1:9/hook", Severity::Low);
    for n in 1..=3 {
        append(&*store, &alert(org(1), &format!("192.0.2.{n}"), Severity::High, 1, Status::New, 0));
    }
    append(&*store, &alert(org(2), "198.51.100.1", Severity::High, 1, Status::New, 0));
    let settings = Settings { max_pending_per_org: 2, ..Settings::default() };
    assert_eq!(deliver::enqueue(&*store, &settings, 1).unwrap(), 3);
    assert_eq!(deliver::items(&*store, &hook).unwrap().len(), 2);
    assert_eq!(deliver::dropped(&*store, &hook).unwrap().count, 1);
    assert_eq!(deliver::items(&*store, &other).unwrap().len(), 1, "the cap is per organisation");
}

#[test]
fn an_smtp_relay_that_refuses_leaves_the_mail_dead_with_its_reply() {
    let (_dir, store) = store();
    let sink = SmtpSink::start(true);
    let id = subscription(&*store, org(1), DigestMode::Immediate, 1);
    append(&*store, &alert(org(1), "192.0.2.1", Severity::High, 1, Status::New, 0));
    let settings = Settings { max_attempts: 2, ..fast_settings() };
    let _running = run(&store, settings, Some(smtp(sink.port)));
    assert!(wait_until(Duration::from_secs(10), || settled(&*store, &id, ItemState::Dead)));
    let item = only_item(&*store, &id);
    let error = item.last_error.unwrap();
    assert!(
        item.attempts == 2 && error.contains("550") && error.contains("relaying denied"),
        "{error}"
    );
    assert!(sink.mails().is_empty());
}

#[test]
fn an_immediate_subscription_gets_one_mail_per_alert_with_its_idempotency_key() {
    let (_dir, store) = store();
    let sink = SmtpSink::start(false);
    let id = subscription(&*store, org(1), DigestMode::Immediate, 1);
    let sent = alert(org(1), "192.0.2.1", Severity::High, 1, Status::New, 0);
    append(&*store, &sent);
    append(&*store, &alert(org(1), "192.0.2.2", Severity::Low, 1, Status::New, 0));
    let _running = run(&store, fast_settings(), Some(smtp(sink.port)));
    assert!(wait_until(Duration::from_secs(10), || settled(&*store, &id, ItemState::Delivered)));
    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "the low alert is below the subscription's minimum");
    let item = only_item(&*store, &id);
    assert!(
        mails[0].contains(&format!("X-Watchfire-Idempotency-Key: {}", item.idempotency_key)),
        "{}",
        mails[0]
    );
    assert!(
        mails[0].contains("Subject: [watchfire] high hosted botnet_c2: 192.0.2.1"),
        "{}",
        mails[0]
    );
    assert!(mails[0].contains("To: soc@a.example"), "{}", mails[0]);
    assert!(mails[0].contains(&sent.id), "{}", mails[0]);
}

#[test]
fn mails_without_a_relay_configured_fail_visibly() {
    let (_dir, store) = store();
    let id = subscription(&*store, org(1), DigestMode::Immediate, 1);
    append(&*store, &alert(org(1), "192.0.2.1", Severity::High, 1, Status::New, 0));
    let _running = run(&store, Settings { max_attempts: 1, ..fast_settings() }, None);
    assert!(wait_until(Duration::from_secs(10), || settled(&*store, &id, ItemState::Dead)));
    let item = only_item(&*store, &id);
    assert_eq!(item.last_error.as_deref(), Some("no smtp relay is configured on this node"));
}

#[test]
fn a_digest_collects_the_periods_alerts_once() {
    let (_dir, store) = store();
    let now = watchfire_store::now_micros();
    let id = subscription(&*store, org(1), DigestMode::Hourly, now);
    let a = alert(org(1), "192.0.2.1", Severity::High, 1, Status::New, 0);
    append(&*store, &a);
    append(&*store, &alert(org(1), "192.0.2.1", Severity::Critical, 3, Status::New, 10));
    append(&*store, &alert(org(1), "192.0.2.2", Severity::Medium, 1, Status::New, 0));
    append(&*store, &alert(org(1), "192.0.2.3", Severity::Low, 1, Status::New, 0));
    append(&*store, &alert(org(2), "198.51.100.1", Severity::Critical, 1, Status::New, 0));

    assert_eq!(deliver::enqueue_digests(&*store, now).unwrap(), 0, "the period has not ended");
    let later = now + 3_600_000_000;
    assert_eq!(deliver::enqueue_digests(&*store, later).unwrap(), 1);
    assert_eq!(deliver::enqueue_digests(&*store, later).unwrap(), 0, "once per period");
    let item = only_item(&*store, &id);
    assert_eq!((item.event, item.channel), (Event::Digest, Channel::Email));
    let mail: deliver::Mail =
        serde_json::from_str(&deliver::body(&*store, &item.id).unwrap().unwrap()).unwrap();
    assert_eq!(mail.subject, "[watchfire] digest for cert-a: 2 alerts");
    let lines: Vec<&str> = mail.text.lines().collect();
    assert_eq!(lines[0], "watchfire digest for cert-a");
    assert!(lines[1].starts_with("period: ") && lines[1].ends_with(":00:00.000Z"), "{}", lines[1]);
    assert_eq!(lines[2], "alerts: 2 (critical 1, high 0, medium 1, low 0)");
    assert!(
        lines[4].starts_with(
            "critical new          hosted    botnet_c2                192.0.2.1 count=3"
        ),
        "{}",
        lines[4]
    );
    assert!(lines[4].ends_with(&format!("id={}", a.id)), "{}", lines[4]);
    assert!(
        lines[5].starts_with("medium   new") && lines[5].contains(" 192.0.2.2 "),
        "{}",
        lines[5]
    );
    assert_eq!(lines[6], "");
    assert!(!mail.text.contains("198.51.100.1") && !mail.text.contains("192.0.2.3"));
}

#[test]
fn delivered_items_are_purged_after_a_while_and_dead_ones_kept_longer() {
    let (_dir, store) = store();
    let (hook, _) = webhook(&*store, org(1), "http://127.0.0.1:9/hook", Severity::Low);
    append(&*store, &alert(org(1), "192.0.2.1", Severity::High, 1, Status::New, 0));
    append(&*store, &alert(org(1), "192.0.2.2", Severity::High, 1, Status::New, 0));
    deliver::enqueue(&*store, &Settings::default(), 1).unwrap();
    let mut items = deliver::items(&*store, &hook).unwrap();
    items[0].state = ItemState::Delivered;
    items[1].state = ItemState::Dead;
    for item in &items {
        deliver::update_item(&*store, item).unwrap();
    }
    let (day, week) = (Duration::from_secs(86_400), Duration::from_secs(7 * 86_400));
    assert_eq!(deliver::purge(&*store, 1 + 2 * 86_400_000_000, day, week).unwrap(), 1);
    let left = only_item(&*store, &hook);
    assert_eq!(left.state, ItemState::Dead);
    assert!(deliver::body(&*store, &items[0].id).unwrap().is_none(), "the body goes with its item");
}

#[test]
fn the_node_key_file_is_made_once_private_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let first = NodeKey::load_or_create(dir.path()).unwrap();
    let again = NodeKey::load_or_create(dir.path()).unwrap();
    assert_eq!(first.webhook_secret("w", 1), again.webhook_secret("w", 1));
    assert_ne!(first.webhook_secret("w", 1), first.webhook_secret("w", 2));
    assert_ne!(first.webhook_secret("w", 1), key().webhook_secret("w", 1));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join(deliver::NODE_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(format!("{first:?}"), "NodeKey(..)", "the key is never logged");
    assert!(NodeKey::from_hex("abc").is_err());
    assert!(NodeKey::from_hex(&"zz".repeat(32)).is_err());
}
