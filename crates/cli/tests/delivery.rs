//! The acceptance test of delivery (issue 8): alerts of an organisation on the log, a slow
//! webhook receiver and a slow SMTP sink on loopback, the real `watchfire serve` killed with
//! SIGKILL in the middle of delivery and started again: every alert arrives at least once at
//! both, repeats carry one idempotency key, and none is lost.

#[path = "../../warn/tests/deliver/receivers.rs"]
mod receivers;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use receivers::{HttpReceiver, Reply, SmtpSink, wait_until};
use watchfire_model::policy::{OrgId, Role};
use watchfire_model::record::Category;
use watchfire_model::stix::{Precision, Timestamp};
use watchfire_server::accounts::Accounts;
use watchfire_store::{Fact, Store};
use watchfire_warn::deliver::{self, DigestMode, NewSubscription, NewWebhook, NodeKey};
use watchfire_warn::{ALERT_SOURCE, Alert, Direction, Severity};

const ALERTS: usize = 24;
const PASSWORD: &str = "correct horse battery";

fn alert(org: OrgId, n: usize) -> Alert {
    // Now: the node's alert engine expires alerts nothing repeated for a week (a new version).
    let time = Timestamp::from_unix_nanos(watchfire_store::now_micros() * 1000, Precision::Millis);
    let observable = watchfire_model::Observable::parse(&format!("192.0.2.{n}")).unwrap();
    let window = (time.clone(), time.clone());
    let mut alert =
        Alert::new(Some(org), Direction::Hosted, Category::BotnetC2, observable, window, time);
    alert.severity = Severity::High;
    alert.score = 70;
    alert.count = 1;
    alert.sources = vec!["abusech_feodo".to_owned()];
    alert
}

/// Seeds the node's store: organisation `cert-a` with an analyst, a webhook to `url` and an
/// immediate e-mail subscription, then the alerts. Returns the webhook's id and secret and the
/// alerts' ids.
fn seed(data: &std::path::Path, url: &str) -> (String, String, BTreeSet<String>) {
    let store: Arc<dyn Store> = Arc::from(watchfire_store::open(data, None).unwrap());
    let accounts = Accounts::new(Arc::clone(&store));
    let org = accounts.create_org("cert-a", true, Vec::new()).unwrap();
    accounts.create_user("a-analyst", org.id, vec![Role::Analyst], PASSWORD).unwrap();
    let key = NodeKey::load_or_create(data).unwrap();
    let new = NewWebhook {
        org: org.id,
        url: url.to_owned(),
        min_severity: Severity::Low,
        categories: Vec::new(),
        enabled: true,
        created_by: "test".to_owned(),
    };
    let now = watchfire_store::now_micros();
    let (webhook, secret) = deliver::create_webhook(&*store, &key, new, now, true).unwrap();
    let new = NewSubscription {
        org: org.id,
        org_name: org.name.clone(),
        address: "soc@cert-a.example".to_owned(),
        mode: DigestMode::Immediate,
        min_severity: Severity::Low,
        created_by: "test".to_owned(),
    };
    deliver::create_subscription(&*store, new, now).unwrap();
    let mut ids = BTreeSet::new();
    for n in 1..=ALERTS {
        let alert = alert(org.id, n);
        let fact = Fact::object(ALERT_SOURCE, alert.audience(None), alert.to_object().unwrap());
        store.append(&[fact]).unwrap();
        ids.insert(alert.id);
    }
    (webhook.id, secret, ids)
}

fn serve(data: &std::path::Path, address: &str, smtp_port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_watchfire"))
        .env_remove("WATCHFIRE_DATA")
        .env_remove("WATCHFIRE_DATABASE")
        .env_remove("WATCHFIRE_NODE_KEY")
        .arg("--data")
        .arg(data)
        .args(["serve", "--listen", address])
        // The webhook receiver of the test listens on the loopback.
        .arg("--webhooks-allow-private")
        .args(["--smtp-relay", &format!("127.0.0.1:{smtp_port}")])
        .args(["--smtp-from", "watchfire@node.example"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn free_address() -> String {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("127.0.0.1:{port}")
}

/// GETs `path` as the analyst of `cert-a`; returns the JSON body of a 200 answer.
fn get_json(address: &str, path: &str) -> Option<serde_json::Value> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    // base64 of "a-analyst:correct horse battery".
    let credentials = "YS1hbmFseXN0OmNvcnJlY3QgaG9yc2UgYmF0dGVyeQ==";
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Basic {credentials}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    if !head.starts_with("HTTP/1.1 200") {
        return None;
    }
    serde_json::from_str(body).ok()
}

/// The alert id named in a webhook body.
fn webhook_alert(body: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).unwrap();
    value["alert"]["id"].as_str().unwrap().to_owned()
}

/// The alert id and idempotency key of a mail's data.
fn mail_alert(data: &str) -> (String, String) {
    let key = data
        .lines()
        .find_map(|line| line.strip_prefix("X-Watchfire-Idempotency-Key: "))
        .unwrap()
        .trim()
        .to_owned();
    let id = data.lines().find_map(|line| line.strip_prefix("alert ")).unwrap().trim().to_owned();
    (id, key)
}

#[test]
fn a_node_killed_in_the_middle_of_delivery_loses_no_alert() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = HttpReceiver::start(|_| Reply::Late(Duration::from_millis(150), 200));
    let sink = SmtpSink::start_slow(false, Duration::from_millis(150));
    let (webhook, secret, ids) = seed(dir.path(), &receiver.url);

    let started = Instant::now();
    let mut node = serve(dir.path(), &free_address(), sink.port);
    let some_arrived = wait_until(Duration::from_secs(60), || {
        receiver.requests().len() >= ALERTS / 4 && sink.mails().len() >= ALERTS / 4
    });
    assert!(some_arrived, "delivery did not start");
    node.kill().unwrap(); // SIGKILL: no shutdown, no flushing
    node.wait().unwrap();
    let (posted, mailed) = (receiver.requests().len(), sink.mails().len());
    eprintln!("killed after {posted} posts and {mailed} mails");
    assert!(
        posted < ALERTS && mailed < ALERTS,
        "killed in the middle: {posted} posts, {mailed} mails"
    );

    let address = free_address();
    let mut node = serve(dir.path(), &address, sink.port);
    let all_arrived = wait_until(Duration::from_secs(90), || {
        let posted: BTreeSet<String> =
            receiver.requests().iter().map(|request| webhook_alert(&request.body)).collect();
        let mailed: BTreeSet<String> = sink.mails().iter().map(|data| mail_alert(data).0).collect();
        posted == ids && mailed == ids
    });
    let took = started.elapsed();
    assert!(
        all_arrived,
        "lost alerts: {} posts, {} mails",
        receiver.requests().len(),
        sink.mails().len()
    );

    // Repeats carry one idempotency key per alert; every post is signed with the secret.
    let mut keys: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for request in receiver.requests() {
        let timestamp: i64 = request.header("x-watchfire-timestamp").parse().unwrap();
        let signature = deliver::signature(&secret, timestamp, request.body.as_bytes());
        assert_eq!(request.header("x-watchfire-signature"), signature);
        let key = request.header("x-watchfire-idempotency-key").to_owned();
        keys.entry(webhook_alert(&request.body)).or_default().insert(key);
    }
    for data in sink.mails() {
        let (id, key) = mail_alert(&data);
        keys.entry(id).or_default().insert(key);
    }
    assert_eq!(keys.len(), ALERTS);
    for (id, keys) in &keys {
        assert_eq!(keys.len(), 1, "{id}: {keys:?}");
        assert!(keys.iter().all(|key| key.starts_with(&format!("{id}@"))), "{keys:?}");
    }

    // The API shows every delivery delivered.
    let path = format!("/api/v1/webhooks/{webhook}/deliveries?state=delivered&limit=1000");
    let shown = wait_until(Duration::from_secs(30), || {
        get_json(&address, &path)
            .is_some_and(|answer| answer["deliveries"].as_array().map(Vec::len) == Some(ALERTS))
    });
    assert!(shown, "{:?}", get_json(&address, &path));
    eprintln!(
        "delivery: {ALERTS} alerts to a webhook and by mail (150 ms per answer) in {took:?} with a kill: {} posts, {} mails",
        receiver.requests().len(),
        sink.mails().len()
    );
    node.kill().unwrap();
    node.wait().unwrap();
}

#[test]
fn bad_smtp_flags_are_refused_before_serving() {
    let dir = tempfile::tempdir().unwrap();
    for (flags, reason) in [
        (&["--smtp-relay", "mail.example", "--smtp-from", "a@b.example"][..], "expected HOST:PORT"),
        (&["--smtp-relay", "mail.example:99999", "--smtp-from", "a@b.example"][..], "bad port"),
        (&["--smtp-relay", "mail.example:25", "--smtp-from", "not-an-address"][..], "--smtp-from"),
        (
            &[
                "--smtp-relay",
                "mail.example:25",
                "--smtp-from",
                "a@b.example",
                "--smtp-user",
                "u",
                "--smtp-password-env",
                "WATCHFIRE_TEST_UNSET_PASSWORD",
            ][..],
            "WATCHFIRE_TEST_UNSET_PASSWORD: the variable is not set",
        ),
        (&["--smtp-from", "a@b.example"][..], "--smtp-relay"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_watchfire"))
            .env_remove("WATCHFIRE_DATA")
            .env_remove("WATCHFIRE_DATABASE")
            .env_remove("WATCHFIRE_TEST_UNSET_PASSWORD")
            .arg("--data")
            .arg(dir.path())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(flags)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success() && stderr.contains(reason), "{flags:?}: {stderr}");
    }
}
