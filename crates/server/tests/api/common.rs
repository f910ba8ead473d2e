//! A node on a loopback port with a fresh SQLite store, two organisations and their people, and
//! a small HTTP client: what every API test starts from.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use watchfire_model::policy::Role;
use watchfire_server::accounts::{Accounts, Scope};
use watchfire_server::{Config, Limits, Node};
use watchfire_store::{SqliteStore, Store};

/// The password of every test user.
pub const PASSWORD: &str = "correct horse battery";

/// A running node.
pub struct TestNode {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub accounts: Accounts,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// How a request authenticates.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Basic(String, String),
    Bearer(String),
    Session { cookie: String, csrf: Option<String> },
}

impl Auth {
    /// HTTP Basic with a test user's name and the test password.
    pub fn user(name: &str) -> Auth {
        Auth::Basic(name.to_owned(), PASSWORD.to_owned())
    }
}

/// An answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The error code of an error answer.
    pub fn code(&self) -> String {
        let value: serde_json::Value = serde_json::from_str(&self.body).unwrap_or_default();
        value["error"]["code"].as_str().unwrap_or_default().to_owned()
    }
}

impl TestNode {
    /// Starts a node with the default limits; `public` serves CLEAR to anonymous callers.
    pub fn start(public: bool) -> TestNode {
        TestNode::start_with(public, Limits::default())
    }

    pub fn start_with(public: bool, limits: Limits) -> TestNode {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("watchfire.db")).unwrap());
        TestNode::on_store(store, dir, public, limits)
    }

    /// Starts a node on `store`.
    pub fn on_store(
        store: Arc<dyn Store>,
        dir: tempfile::TempDir,
        public: bool,
        limits: Limits,
    ) -> TestNode {
        TestNode::configured(store, dir, |config, _| {
            config.public = public;
            config.limits = limits;
        })
    }

    /// Starts a node on `store` with the configuration `configure` makes of the default one
    /// (it gets the node's directory too).
    pub fn configured(
        store: Arc<dyn Store>,
        dir: tempfile::TempDir,
        configure: impl FnOnce(&mut Config, &std::path::Path),
    ) -> TestNode {
        let accounts = Accounts::new(Arc::clone(&store));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut config = Config::new(listener.local_addr().unwrap());
        configure(&mut config, dir.path());
        let node = Node::start(Arc::clone(&store), config).unwrap();
        let (sender, receiver) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime
                .block_on(node.serve(listener, async {
                    let _ = receiver.await;
                }))
                .unwrap();
        });
        TestNode { base, store, accounts, shutdown: Some(sender), thread: Some(thread), _dir: dir }
    }

    /// Makes organisations `a` and `b` (both in the community) with an analyst each
    /// (`a-analyst`, `b-analyst`), a viewer of `a` (`a-viewer`), a user of `b` who is named as
    /// a RED recipient (`b-red`) and an admin of `a` (`a-admin`).
    pub fn with_people(self) -> TestNode {
        let a = self.accounts.create_org("a", true, Vec::new()).unwrap();
        let b = self.accounts.create_org("b", true, Vec::new()).unwrap();
        for (name, org, role) in [
            ("a-analyst", &a, Role::Analyst),
            ("a-viewer", &a, Role::Viewer),
            ("a-admin", &a, Role::Admin),
            ("b-analyst", &b, Role::Analyst),
            ("b-red", &b, Role::Analyst),
        ] {
            self.accounts.create_user(name, org.id, vec![role], PASSWORD).unwrap();
        }
        self
    }

    /// Makes a token for `user` (or a machine token of org `org_name` when `user` is None).
    pub fn token(
        &self,
        org_name: &str,
        user: Option<&str>,
        scopes: Vec<Scope>,
        expires: Option<i64>,
    ) -> String {
        let org = self.accounts.org_by_name(org_name).unwrap();
        let user = user.map(|name| self.accounts.user(name).unwrap().unwrap());
        self.accounts.create_token("test", org.id, user.as_ref(), scopes, expires).unwrap().1
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str, auth: &Auth) -> Answer {
        self.call("GET", path, auth, &[], None)
    }

    pub fn post(&self, path: &str, auth: &Auth, content_type: &str, body: &[u8]) -> Answer {
        self.call("POST", path, auth, &[("content-type", content_type)], Some(body))
    }

    pub fn delete(&self, path: &str, auth: &Auth) -> Answer {
        self.call("DELETE", path, auth, &[], None)
    }

    pub fn call(
        &self,
        method: &str,
        path: &str,
        auth: &Auth,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Answer {
        let agent = agent();
        let mut request = ureq::http::Request::builder().method(method).uri(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        match auth {
            Auth::None => {}
            Auth::Basic(name, password) => {
                let encoded =
                    base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"));
                request = request.header("authorization", format!("Basic {encoded}"));
            }
            Auth::Bearer(token) => {
                request = request.header("authorization", format!("Bearer {token}"));
            }
            Auth::Session { cookie, csrf } => {
                request = request.header("cookie", format!("watchfire_session={cookie}"));
                if let Some(csrf) = csrf {
                    request = request.header("x-csrf-token", csrf.as_str());
                }
            }
        }
        let response = match body {
            Some(body) => agent.run(request.body(body.to_vec()).unwrap()),
            None => agent.run(request.body(()).unwrap()),
        };
        let mut response = response.unwrap_or_else(|error| panic!("{method} {path}: {error}"));
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned())
            })
            .collect();
        let body =
            response.body_mut().with_config().limit(512 << 20).read_to_string().unwrap_or_default();
        Answer { status, headers, body }
    }

    /// Uploads `body` as organisation member `user` with the query `params`.
    pub fn import(&self, user: &str, params: &str, body: &str) -> serde_json::Value {
        let answer = self.post(
            &format!("/api/v1/import?{params}"),
            &Auth::user(user),
            "text/plain",
            body.as_bytes(),
        );
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()
    }

    /// Waits until the match index has caught up with the log.
    pub fn settle(&self) {
        let head = self.store.last_seq().unwrap();
        for _ in 0..500 {
            let answer = self.get("/healthz", &Auth::None);
            assert_eq!(answer.status, 200);
            // The index follows the log on its own thread; give it time.
            if index_seq(self) >= head {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the match index did not catch up with the log");
    }
}

fn index_seq(node: &TestNode) -> u64 {
    // An admin token reads /metrics, which reports the snapshot's log position.
    thread_local! {
        static TOKENS: std::cell::RefCell<std::collections::HashMap<String, String>> = Default::default();
    }
    let token = TOKENS.with(|tokens| {
        tokens
            .borrow_mut()
            .entry(node.base.clone())
            .or_insert_with(|| {
                let org = match node.accounts.orgs().unwrap().into_iter().next() {
                    Some(org) => org,
                    None => node.accounts.create_org("ops", true, Vec::new()).unwrap(),
                };
                node.accounts
                    .create_token("metrics", org.id, None, vec![Scope::Admin], None)
                    .unwrap()
                    .1
            })
            .clone()
    });
    let metrics = node.get("/metrics", &Auth::Bearer(token));
    metrics
        .body
        .lines()
        .find_map(|line| line.strip_prefix("watchfire_index_seq "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0)
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Returns the URL of a fresh database in the test cluster (`cargo xtask test` starts it).
pub fn fresh_postgres_database() -> String {
    let admin = std::env::var("WATCHFIRE_TEST_POSTGRES")
        .expect("WATCHFIRE_TEST_POSTGRES: run the tests with `cargo xtask test`, which starts a PostgreSQL cluster");
    let name = format!(
        "wf_server_{}_{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let mut client =
        postgres::Client::connect(&admin, postgres::NoTls).expect("connect to the test cluster");
    client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create a test database");
    let (base, _) = admin.rsplit_once('/').expect("the admin URL names a database");
    format!("{base}/{name}")
}
