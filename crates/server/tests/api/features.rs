//! What each route does: search and its cursor, the live stream's resumption, exports, the
//! OpenAPI document, metrics, compression, TLS, and the demo node.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::sync::Arc;

use watchfire_server::accounts::{Accounts, Scope};

use crate::common::{Auth, TestNode, agent};

#[test]
fn search_pages_by_cursor_without_gaps_or_repeats_and_filters_by_kind_and_category() {
    let node = TestNode::start(false).with_people();
    let ips: String = (1..=25).map(|n| format!("192.0.2.{n}\n")).collect();
    node.import("a-analyst", "format=plain-ip&source=ips&tlp=green", &ips);
    node.import(
        "a-analyst",
        "format=plain-domain&source=names&tlp=green",
        "bad.example.com\nworse.example.net\n",
    );
    let auth = Auth::user("b-analyst");
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page =
            node.get(&format!("/api/v1/indicators?source=a/ips&limit=7{cursor}"), &auth).json();
        for indicator in page["indicators"].as_array().unwrap() {
            seen.push(indicator["object"]["pattern"].as_str().unwrap().to_owned());
        }
        match page["next"].as_u64() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 25);
    let domains = node.get("/api/v1/indicators?kind=domain", &auth).json();
    assert_eq!(domains["indicators"].as_array().unwrap().len(), 2, "{domains}");
    let no_phishing = node.get("/api/v1/indicators?category=phishing", &auth).json();
    assert_eq!(no_phishing["indicators"], serde_json::json!([]));
    // By value: a subdomain finds the indicator of its parent domain. A search by value asks
    // the match index, which follows the log on its own thread: it must have caught up with the
    // imports (under a loaded machine it had not, and the search found nothing).
    node.settle();
    let by_value = node.get("/api/v1/indicators?value=www.bad.example.com", &auth).json();
    assert_eq!(by_value["indicators"].as_array().unwrap().len(), 1, "{by_value}");
}

#[test]
fn the_stream_resumes_after_last_event_id_missing_nothing() {
    let node = TestNode::start(false).with_people();
    let auth = Auth::user("a-analyst");
    node.import("a-analyst", "format=plain-ip&source=first&tlp=green", "192.0.2.1\n192.0.2.2\n");
    let head = node.store.last_seq().unwrap();
    // Without a cursor the stream starts at the head: only what is new arrives.
    let reader = open_stream(&node, &auth, None);
    node.import("a-analyst", "format=plain-ip&source=second&tlp=green", "192.0.2.3\n192.0.2.4\n");
    let first = read_events(reader, 1);
    let (id, data) = &first[0];
    assert!(*id > head, "the first event {id} is new (head was {head})");
    assert!(!data.contains("192.0.2.1") && !data.contains("192.0.2.2"), "{data}");
    // Resume after that event: the rest of the second import, no repeat.
    let reader = open_stream(&node, &auth, Some(*id));
    let after = node.store.last_seq().unwrap();
    let rest = read_until(reader, after);
    let ids: Vec<u64> = rest.iter().map(|(id, _)| *id).collect();
    assert!(ids.iter().all(|seq| seq > id), "{ids:?}");
    let text: String = rest.iter().map(|(_, data)| data.as_str()).collect();
    assert!(text.contains("192.0.2.3") && text.contains("192.0.2.4"), "{text}");
}

type EventReader = BufReader<Box<dyn std::io::Read + Send + Sync + 'static>>;

fn open_stream(node: &TestNode, auth: &Auth, last_event_id: Option<u64>) -> EventReader {
    let Auth::Basic(name, password) = auth else { panic!("basic only") };
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"));
    let mut request = ureq::http::Request::builder()
        .uri(node.url("/api/v1/stream"))
        .header("authorization", format!("Basic {encoded}"));
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id.to_string());
    }
    let response = agent().run(request.body(()).unwrap()).unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let reader: Box<dyn std::io::Read + Send + Sync> = Box::new(response.into_body().into_reader());
    BufReader::new(reader)
}

fn read_events(reader: EventReader, n: usize) -> Vec<(u64, String)> {
    let mut events = Vec::new();
    let mut id = 0;
    for line in reader.lines() {
        let line = line.unwrap();
        if let Some(value) = line.strip_prefix("id:") {
            id = value.trim().parse().unwrap();
        } else if let Some(data) = line.strip_prefix("data:") {
            events.push((id, data.to_owned()));
            if events.len() == n {
                break;
            }
        }
    }
    events
}

fn read_until(reader: EventReader, last: u64) -> Vec<(u64, String)> {
    let mut events = Vec::new();
    let mut id = 0;
    for line in reader.lines() {
        let line = line.unwrap();
        if let Some(value) = line.strip_prefix("id:") {
            id = value.trim().parse().unwrap();
        } else if let Some(data) = line.strip_prefix("data:") {
            events.push((id, data.to_owned()));
            if id >= last {
                break;
            }
        }
    }
    events
}

#[test]
fn exports_write_block_rules_and_lists_of_what_the_caller_sees() {
    let node = TestNode::start(false).with_people();
    node.import("a-analyst", "format=plain-ip&source=ips&tlp=green", "192.0.2.30\n192.0.2.31\n");
    node.import("a-analyst", "format=plain-domain&source=names&tlp=green", "evil.example.org\n");
    let auth = Auth::user("b-analyst");
    let nft = node.get("/api/v1/export?format=nftables", &auth);
    assert_eq!(nft.status, 200);
    assert!(nft.body.contains("192.0.2.30") && nft.body.contains("table"), "{}", nft.body);
    let rpz = node.get("/api/v1/export?format=rpz", &auth);
    assert!(rpz.body.contains("evil.example.org"), "{}", rpz.body);
    assert!(!rpz.body.contains("192.0.2.30 CNAME"), "{}", rpz.body);
    let stix = node.get("/api/v1/export?format=stix", &auth);
    let bundle = stix.json();
    assert_eq!(bundle["type"], "bundle");
    let indicators = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|object| object["type"] == "indicator")
        .count();
    assert_eq!(indicators, 3);
    let text = node.get("/api/v1/export?format=text&source=a/ips", &auth);
    let lines: BTreeSet<&str> = text.body.lines().filter(|line| !line.starts_with('#')).collect();
    assert_eq!(lines, ["192.0.2.30", "192.0.2.31"].into_iter().collect(), "{}", text.body);
}

#[test]
fn the_openapi_document_lists_every_route_and_each_answers() {
    let node = TestNode::start(false).with_people();
    let document = node.get("/api/v1/openapi.json", &Auth::None).json();
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.len() >= 15, "{}", paths.len());
    let admin = Auth::user("a-admin");
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().unwrap() {
            assert!(
                operation["summary"].as_str().is_some_and(|summary| !summary.is_empty()),
                "{method} {path}"
            );
            if path == "/api/v1/stream" {
                continue; // never ends; tested on its own
            }
            // Every path parameter gets a well-formed value that names nothing.
            let concrete: String = path
                .split('/')
                .map(|segment| match segment {
                    "{id}" | "{object_id}" => "indicator--00000000-0000-4000-8000-000000000000",
                    "{status_id}" => "00000000-0000-4000-8000-000000000000",
                    parameter if parameter.starts_with('{') => "nothing",
                    segment => segment,
                })
                .collect::<Vec<_>>()
                .join("/");
            assert!(!concrete.contains('{'), "{concrete}");
            let answer = node.call(&method.to_uppercase(), &concrete, &admin, &[], Some(b""));
            // Whatever the answer (a missing body is a 400), the route exists with this method.
            assert_ne!(answer.code(), "method_not_allowed", "{method} {path}: {}", answer.body);
            let is_no_route = answer.status == 404 && answer.body.contains("no such route");
            assert!(!is_no_route, "{method} {path} is documented but not routed");
        }
    }
    // The error table names every code the document's Error schema allows.
    let errors = node.get("/api/v1/errors", &Auth::None).json();
    let codes = document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"].clone();
    assert_eq!(errors["errors"].as_array().unwrap().len(), codes.as_array().unwrap().len());
}

#[test]
fn metrics_count_requests_and_answers_are_compressed_on_request() {
    let node = TestNode::start(false).with_people();
    let ips: String = (1..=200).map(|n| format!("198.51.100.{}\n", n % 250)).collect();
    node.import("a-analyst", "format=plain-ip&tlp=green", &ips);
    let auth = Auth::user("a-analyst");
    for _ in 0..3 {
        node.get("/api/v1/stats", &auth);
    }
    let token = node.token("a", None, vec![Scope::Admin], None);
    let metrics = node.get("/metrics", &Auth::Bearer(token));
    assert_eq!(metrics.status, 200);
    assert!(metrics.header("content-type").unwrap().starts_with("text/plain"));
    let line = metrics
        .body
        .lines()
        .find(|line| {
            line.starts_with(
                "watchfire_http_requests_total{route=\"/api/v1/stats\",status=\"200\"}",
            )
        })
        .unwrap_or_else(|| panic!("{}", metrics.body));
    assert!(line.ends_with(" 3"), "{line}");
    assert!(metrics.body.contains("# TYPE watchfire_http_request_duration_seconds histogram"));
    // A large answer is gzip-compressed for a client that accepts it.
    let compressed = node.call(
        "GET",
        "/api/v1/indicators?limit=200",
        &auth,
        &[("accept-encoding", "gzip")],
        None,
    );
    assert_eq!(compressed.header("content-encoding"), Some("gzip"), "{:?}", compressed.headers);
    // Every answer carries the security headers.
    assert_eq!(compressed.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(node.get("/readyz", &Auth::None).status, 200);
}

#[test]
fn the_demo_node_gives_each_organisation_its_own_view() {
    let node = TestNode::start(false);
    let accounts = Accounts::new(Arc::clone(&node.store));
    let demo = watchfire_server::demo::seed(&*node.store, &accounts).unwrap();
    assert!(demo.objects > 1000, "{}", demo.objects);
    node.settle();
    let by_tlp = |user: &str, password: &str| {
        let stats = node.get("/api/v1/stats", &Auth::Basic(user.into(), password.into())).json();
        stats["by_source"].as_object().unwrap().keys().cloned().collect::<BTreeSet<String>>()
    };
    let password =
        |user: &str| demo.logins.iter().find(|login| login.user == user).unwrap().password.clone();
    // The centre is named on every CERT's data; a CERT sees its own and the public feed; the
    // energy operator, a client of cert-north, sees cert-north's AMBER.
    let centre = by_tlp("analyst-centre", &password("analyst-centre"));
    assert!(
        ["cert-north/cases", "cert-south/cases", "cert-east/cases", "demo-feed"]
            .iter()
            .all(|source| centre.contains(*source)),
        "{centre:?}"
    );
    let north = by_tlp("analyst-north", &password("analyst-north"));
    let south = node
        .get("/api/v1/stats", &Auth::Basic("analyst-north".into(), password("analyst-north")))
        .json();
    assert!(north.contains("cert-north/cases"), "{north:?}");
    assert!(
        south["by_source"]["cert-south/cases"].as_u64().unwrap_or(0) <= 1,
        "only the CLEAR identity of cert-south: {south}"
    );
    let energy = node
        .get("/api/v1/stats", &Auth::Basic("viewer-energy".into(), password("viewer-energy")))
        .json();
    assert!(energy["by_tlp"]["amber"].as_u64().unwrap_or(0) > 0, "{energy}");
    assert!(
        energy["by_tlp"].get("green").is_none(),
        "north-energy is outside the community: {energy}"
    );
    let token = node.get("/api/v1/me", &Auth::Bearer(demo.admin_token.clone())).json();
    assert_eq!(token["organisation"], "global-centre");
}

#[test]
fn the_node_serves_https_with_a_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed (cargo xtask test installs it)");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let store: Arc<dyn watchfire_store::Store> =
        Arc::new(watchfire_store::SqliteStore::open(&dir.path().join("w.db")).unwrap());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let mut config = watchfire_server::Config::new(address);
    config.tls = Some(watchfire_server::TlsFiles { cert: cert.clone(), key });
    let node = watchfire_server::Node::start(store, config).unwrap();
    let (sender, receiver) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        runtime
            .block_on(node.serve(listener, async {
                let _ = receiver.await;
            }))
            .unwrap();
    });
    let curl = |scheme: &str| {
        std::process::Command::new("curl")
            .args(["-sS", "--max-time", "10", "--cacert"])
            .arg(&cert)
            .arg(format!("{scheme}://{address}/healthz"))
            .output()
            .expect("curl is installed (cargo xtask test installs it)")
    };
    let https = curl("https");
    assert_eq!(
        String::from_utf8_lossy(&https.stdout),
        "ok\n",
        "{}",
        String::from_utf8_lossy(&https.stderr)
    );
    // Plain HTTP on the TLS port gets no answer.
    let http = curl("http");
    assert_ne!(String::from_utf8_lossy(&http.stdout), "ok\n");
    let _ = sender.send(());
    thread.join().unwrap();
}

#[test]
fn a_node_on_postgresql_follows_appends_of_another_node_sharing_the_database() {
    let url = crate::common::fresh_postgres_database();
    let store: Arc<dyn watchfire_store::Store> =
        Arc::new(watchfire_store::PostgresStore::connect(&url).unwrap());
    let node = TestNode::on_store(
        store,
        tempfile::tempdir().unwrap(),
        false,
        watchfire_server::Limits::default(),
    )
    .with_people();
    let auth = Auth::user("a-analyst");
    node.import("a-analyst", "format=plain-ip&source=here&tlp=green", "192.0.2.40\n");
    let reader = open_stream(&node, &auth, Some(node.store.last_seq().unwrap()));
    // Another process (another node behind the same load balancer) appends to the shared log.
    let other = watchfire_store::PostgresStore::connect(&url).unwrap();
    let org = node.accounts.org_by_name("a").unwrap();
    let audience = watchfire_model::policy::Audience {
        owner: Some(org.id),
        ..watchfire_model::policy::Audience::node(watchfire_model::tlp::Tlp::Green)
    };
    let now = watchfire_model::stix::Timestamp::from_unix_nanos(
        1_767_225_600_000_000_000,
        watchfire_model::stix::Precision::Millis,
    );
    let mut facts = Vec::new();
    let mut ingest =
        watchfire_feeds::Ingest::new("elsewhere", watchfire_model::tlp::Tlp::Green, &now)
            .with_audience(audience);
    let record = watchfire_model::record::IndicatorRecord::new(
        watchfire_model::Observable::parse("192.0.2.41").unwrap(),
    );
    ingest.facts(&watchfire_model::record::Record::Indicator(record), &mut facts);
    let appended = watchfire_store::Store::append(&other, &facts).unwrap();
    let events = read_until(reader, appended.last_seq);
    assert!(events.iter().any(|(_, data)| data.contains("192.0.2.41")), "{events:?}");
    node.settle();
    let lookup = node.get("/api/v1/lookup?value=192.0.2.41", &auth).json();
    assert_eq!(lookup["hits"].as_array().unwrap().len(), 1, "{lookup}");
}
