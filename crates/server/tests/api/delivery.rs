//! Delivery over the API: webhooks and e-mail subscriptions made, listed, rotated and removed
//! by their organisation only (another organisation's are 404), bad URLs and addresses refused,
//! and a delivery that dies against a 500-forever endpoint shown with its error and retried.

#[path = "../../../warn/tests/deliver/receivers.rs"]
mod receivers;

use std::sync::Arc;
use std::time::Duration;

use receivers::{HttpReceiver, Reply, wait_until};
use serde_json::{Value, json};
use watchfire_model::policy::Role;
use watchfire_model::record::Category;
use watchfire_model::stix::{Precision, Timestamp};
use watchfire_server::accounts::Accounts;
use watchfire_store::{Fact, SqliteStore, Store};
use watchfire_warn::deliver::{Backoff, Delivery, NodeKey, Settings};
use watchfire_warn::{ALERT_SOURCE, Alert, Direction, Severity};

use crate::common::{PASSWORD, TestNode, agent};

/// A node with delivery on (fast retries, two tries), organisations `a` and `b`.
struct DeliveryNode {
    node: TestNode,
}

impl std::ops::Deref for DeliveryNode {
    type Target = TestNode;

    fn deref(&self) -> &TestNode {
        &self.node
    }
}

impl DeliveryNode {
    /// A node whose webhooks may reach the loopback receivers of the tests.
    fn start() -> DeliveryNode {
        DeliveryNode::allowing_private(true)
    }

    fn allowing_private(allow_private_targets: bool) -> DeliveryNode {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("watchfire.db")).unwrap());
        let accounts = Accounts::new(Arc::clone(&store));
        let a = accounts.create_org("a", true, Vec::new()).unwrap();
        let b = accounts.create_org("b", true, Vec::new()).unwrap();
        for (name, org, role) in [
            ("a-analyst", &a, Role::Analyst),
            ("a-viewer", &a, Role::Viewer),
            ("b-analyst", &b, Role::Analyst),
        ] {
            accounts.create_user(name, org.id, vec![role], PASSWORD).unwrap();
        }
        let node = TestNode::configured(store, dir, |config, dir| {
            let settings = Settings {
                backoff: Backoff {
                    first: Duration::from_millis(50),
                    max: Duration::from_millis(100),
                },
                max_attempts: 2,
                scan_every: Duration::from_millis(30),
                allow_private_targets,
                ..Settings::default()
            };
            let key = NodeKey::load_or_create(dir).unwrap();
            config.delivery = Some(Delivery { key, smtp: None, settings });
        });
        DeliveryNode { node }
    }

    /// Calls the API as `user` (HTTP Basic); returns the status and the JSON answer.
    fn call(&self, method: &str, path: &str, user: &str, body: Option<Value>) -> (u16, Value) {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("authorization", basic(user))
            .header("content-type", "application/json");
        let body = body.map(|body| body.to_string()).unwrap_or_default();
        let mut response = agent().run(request.body(body).unwrap()).unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    fn alert_for(&self, org_name: &str, value: &str) -> Alert {
        let org = self.accounts.org_by_name(org_name).unwrap().id;
        let time = Timestamp::from_unix_nanos(
            // Now: the node's alert engine expires alerts nothing repeated for a week (a new version).
            watchfire_store::now_micros() * 1000,
            Precision::Millis,
        );
        let observable = watchfire_model::Observable::parse(value).unwrap();
        let window = (time.clone(), time.clone());
        let mut alert =
            Alert::new(Some(org), Direction::Hosted, Category::BotnetC2, observable, window, time);
        alert.severity = Severity::High;
        alert.score = 70;
        alert.count = 1;
        alert.sources = vec!["abusech_feodo".to_owned()];
        let fact = Fact::object(ALERT_SOURCE, alert.audience(None), alert.to_object().unwrap());
        self.store.append(&[fact]).unwrap();
        alert
    }
}

fn basic(user: &str) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{PASSWORD}"));
    format!("Basic {encoded}")
}

#[test]
fn an_organisation_manages_its_own_webhooks_and_never_sees_anothers() {
    let node = DeliveryNode::start();
    let new = json!({"url": "https://hooks.a.example/watchfire", "min_severity": "high", "categories": ["phishing"]});
    let (status, made) = node.call("POST", "/api/v1/webhooks", "a-analyst", Some(new.clone()));
    assert_eq!(status, 200, "{made}");
    let id = made["id"].as_str().unwrap().to_owned();
    let secret = made["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("wfwh_"), "{made}");
    assert_eq!(
        (&made["url"], &made["min_severity"], &made["categories"], &made["enabled"]),
        (
            &json!("https://hooks.a.example/watchfire"),
            &json!("high"),
            &json!(["phishing"]),
            &json!(true)
        )
    );
    assert_eq!(made["created_by"], "a-analyst");

    let (status, listed) = node.call("GET", "/api/v1/webhooks", "a-analyst", None);
    assert_eq!(status, 200);
    let listed = listed["webhooks"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert!(listed[0].get("secret").is_none(), "the secret is shown once: {}", listed[0]);
    assert_eq!(
        listed[0]["deliveries"],
        json!({"pending": 0, "delivered": 0, "dead": 0, "dropped": 0})
    );
    assert!(!node.store.directory_list("webhook").unwrap()[0].1.contains(&secret), "never stored");

    // A viewer may not manage endpoints; another organisation sees nothing and touches nothing.
    assert_eq!(node.call("POST", "/api/v1/webhooks", "a-viewer", Some(new)).0, 403);
    let (_, others) = node.call("GET", "/api/v1/webhooks", "b-analyst", None);
    assert_eq!(others["webhooks"], json!([]));
    for (method, path) in [
        ("DELETE", format!("/api/v1/webhooks/{id}")),
        ("POST", format!("/api/v1/webhooks/{id}/rotate")),
        ("POST", format!("/api/v1/webhooks/{id}/disable")),
        ("GET", format!("/api/v1/webhooks/{id}/deliveries")),
        ("POST", format!("/api/v1/webhooks/{id}/deliveries/x/retry")),
    ] {
        let (status, answer) = node.call(method, &path, "b-analyst", None);
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{method} {path}"
        );
    }

    let (status, rotated) =
        node.call("POST", &format!("/api/v1/webhooks/{id}/rotate"), "a-analyst", None);
    assert_eq!(status, 200);
    assert_ne!(rotated["secret"].as_str().unwrap(), secret);
    assert_eq!(rotated["secret_generation"], 2);
    let (_, disabled) =
        node.call("POST", &format!("/api/v1/webhooks/{id}/disable"), "a-analyst", None);
    assert_eq!(disabled["enabled"], false);
    assert_eq!(node.call("DELETE", &format!("/api/v1/webhooks/{id}"), "a-analyst", None).0, 200);
    assert_eq!(node.call("DELETE", &format!("/api/v1/webhooks/{id}"), "a-analyst", None).0, 404);
}

#[test]
fn bad_webhook_urls_and_addresses_are_refused_naming_the_field() {
    // A node as `serve` makes it by default: webhooks reach public addresses only.
    let node = DeliveryNode::allowing_private(false);
    let inside = "http://169.254.169.254/latest/meta-data";
    for url in ["ftp://a.example/x", "https://user:secret@a.example/x", "a.example/x", inside] {
        let (status, answer) =
            node.call("POST", "/api/v1/webhooks", "a-analyst", Some(json!({"url": url})));
        assert_eq!(status, 400, "{url}: {answer}");
        assert!(
            answer["error"]["message"].as_str().unwrap().starts_with("invalid url: "),
            "{answer}"
        );
    }
    let (_, answer) =
        node.call("POST", "/api/v1/webhooks", "a-analyst", Some(json!({"url": inside})));
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains("169.254.169.254 is not a public address"), "{message}");
    let (status, answer) = node.call(
        "POST",
        "/api/v1/email-subscriptions",
        "a-analyst",
        Some(json!({"address": "not an address"})),
    );
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]["message"].as_str().unwrap().starts_with("invalid address: "),
        "{answer}"
    );
    let (status, answer) = node.call(
        "POST",
        "/api/v1/email-subscriptions",
        "a-analyst",
        Some(json!({"address": "soc@a.example", "mode": "weekly"})),
    );
    assert_eq!((status, answer["error"]["code"].as_str()), (400, Some("invalid_json")), "{answer}");
}

#[test]
fn a_delivery_that_dies_is_shown_with_its_error_and_its_organisation_retries_it() {
    let node = DeliveryNode::start();
    let receiver = HttpReceiver::start(|_| Reply::Status(500));
    let (_, made) =
        node.call("POST", "/api/v1/webhooks", "a-analyst", Some(json!({"url": receiver.url})));
    let id = made["id"].as_str().unwrap().to_owned();
    let alert = node.alert_for("a", "192.0.2.1");
    node.alert_for("b", "198.51.100.1");
    let path = format!("/api/v1/webhooks/{id}/deliveries");
    let dead = || {
        let (_, answer) = node.call("GET", &format!("{path}?state=dead"), "a-analyst", None);
        answer["deliveries"].as_array().cloned().unwrap_or_default()
    };
    assert!(wait_until(Duration::from_secs(10), || dead().len() == 1));
    let delivery = dead()[0].clone();
    assert_eq!(
        (&delivery["event"], &delivery["alert"], &delivery["attempts"], &delivery["last_error"]),
        (&json!("alert.created"), &json!(alert.id), &json!(2), &json!("http status 500"))
    );
    assert!(delivery["next_try"].is_null());
    assert_eq!(receiver.requests().len(), 2, "only organisation a's alert, tried twice");
    let (_, listed) = node.call("GET", "/api/v1/webhooks", "a-analyst", None);
    assert_eq!(listed["webhooks"][0]["deliveries"]["dead"], 1);

    let retry = format!("{path}/{}/retry", delivery["id"].as_str().unwrap());
    assert_eq!(node.call("POST", &retry, "b-analyst", None).0, 404);
    let (status, retried) = node.call("POST", &retry, "a-analyst", None);
    assert_eq!(
        (status, &retried["state"], &retried["attempts"]),
        (200, &json!("pending"), &json!(0))
    );
    assert!(
        wait_until(Duration::from_secs(10), || receiver.requests().len() == 4 && dead().len() == 1)
    );
    let (status, _) = node.call("GET", &format!("{path}?state=lost"), "a-analyst", None);
    assert_eq!(status, 400);
}

#[test]
fn e_mail_subscriptions_belong_to_their_organisation() {
    let node = DeliveryNode::start();
    let (status, made) = node.call(
        "POST",
        "/api/v1/email-subscriptions",
        "a-analyst",
        Some(json!({"address": "SOC@a.example", "mode": "daily", "min_severity": "medium"})),
    );
    assert_eq!(status, 200, "{made}");
    assert_eq!((&made["mode"], &made["min_severity"]), (&json!("daily"), &json!("medium")));
    let id = made["id"].as_str().unwrap().to_owned();
    let (_, listed) = node.call("GET", "/api/v1/email-subscriptions", "a-analyst", None);
    assert_eq!(listed["email_subscriptions"].as_array().unwrap().len(), 1);
    let (_, others) = node.call("GET", "/api/v1/email-subscriptions", "b-analyst", None);
    assert_eq!(others["email_subscriptions"], json!([]));
    let path = format!("/api/v1/email-subscriptions/{id}");
    assert_eq!(node.call("DELETE", &path, "b-analyst", None).0, 404);
    assert_eq!(node.call("GET", &format!("{path}/deliveries"), "b-analyst", None).0, 404);
    assert_eq!(node.call("GET", &format!("{path}/deliveries"), "a-analyst", None).0, 200);
    assert_eq!(node.call("DELETE", &path, "a-analyst", None).0, 200);
    let (_, listed) = node.call("GET", "/api/v1/email-subscriptions", "a-analyst", None);
    assert_eq!(listed["email_subscriptions"], json!([]));
}
