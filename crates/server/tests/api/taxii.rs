//! TAXII 2.1: the OASIS taxii2-client drives the server (discovery, collections, adding objects,
//! paging over more than 1 000 objects, versions, manifest, delete) and stix2-validator checks
//! every object served; and the protocol's answers a client may not see through that library:
//! media types, error resources, the date headers, access per collection.

use std::process::Command;

use crate::common::{Auth, PASSWORD, TestNode};

fn venv_python() -> std::path::PathBuf {
    let venv = std::env::var_os("WATCHFIRE_VENV")
        .expect("WATCHFIRE_VENV: run the tests with `cargo xtask test`, which makes the venv with taxii2-client and stix2-validator");
    std::path::Path::new(&venv).join("bin/python")
}

const TAXII: &str = "application/taxii+json;version=2.1";

#[test]
fn taxii2_client_drives_the_server_and_every_object_served_is_valid_stix() {
    let node = TestNode::start(false).with_people();
    // Some of the node's own data too, so that `all` serves more than the client added.
    node.import("b-analyst", "format=plain-ip&tlp=green", "192.0.2.60\n192.0.2.61\n");
    let out = tempfile::NamedTempFile::new().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/taxii/conformance.py");
    let run = Command::new(venv_python())
        .arg(script)
        .arg(&node.base)
        .arg("a-analyst")
        .arg(PASSWORD)
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "taxii2-client conformance failed:\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path()).unwrap()).unwrap();
    assert_eq!(report["paged"], 1201, "{report}");
    assert!(report["served"].as_u64().unwrap() > 1201, "{report}");
}

fn taxii_get(node: &TestNode, path: &str, auth: &Auth) -> crate::common::Answer {
    node.call("GET", path, auth, &[("accept", TAXII)], None)
}

#[test]
fn the_protocol_answers_with_taxii_media_types_errors_and_headers() {
    let node = TestNode::start(false).with_people();
    let owner = Auth::user("a-analyst");
    let discovery = taxii_get(&node, "/taxii2/", &owner);
    assert_eq!(discovery.status, 200);
    assert_eq!(discovery.header("content-type"), Some(TAXII));
    // Without the TAXII media type in Accept: 406, as a TAXII error resource.
    let wrong_accept =
        node.call("GET", "/taxii2/", &owner, &[("accept", "application/json")], None);
    assert_eq!(wrong_accept.status, 406);
    assert_eq!(wrong_accept.header("content-type"), Some(TAXII));
    assert_eq!(wrong_accept.json()["http_status"], "406");
    // No credentials on a members-only node: 401 with a TAXII error.
    let anonymous = taxii_get(&node, "/taxii2/root/collections/", &Auth::None);
    assert_eq!(anonymous.status, 401);
    assert!(anonymous.json()["title"].is_string());

    let collections = taxii_get(&node, "/taxii2/root/collections/", &owner).json();
    let inbox = collections["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|collection| collection["alias"] == "inbox-a")
        .unwrap();
    let inbox_id = inbox["id"].as_str().unwrap().to_owned();
    let objects = format!("/taxii2/root/collections/{inbox_id}/objects/");
    // POST without the TAXII content type: 415; a JSON body that is no envelope: 422.
    let plain = node.call(
        "POST",
        &objects,
        &owner,
        &[("accept", TAXII), ("content-type", "application/json")],
        Some(b"{}"),
    );
    assert_eq!(plain.status, 415);
    let not_envelope = node.call(
        "POST",
        &objects,
        &owner,
        &[("accept", TAXII), ("content-type", TAXII)],
        Some(b"[1,2]"),
    );
    assert_eq!(not_envelope.status, 422);
    let envelope = br#"{"objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--6b0e2f4c-2a43-4d1e-9b4f-3c2d1e0f9a8b","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.18.0.1']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}]}"#;
    let added = node.call(
        "POST",
        &objects,
        &owner,
        &[("accept", TAXII), ("content-type", TAXII)],
        Some(envelope),
    );
    assert_eq!(added.status, 202, "{}", added.body);
    assert_eq!(added.json()["status"], "complete");
    let page = taxii_get(&node, &objects, &owner);
    assert_eq!(page.status, 200);
    for name in ["x-taxii-date-added-first", "x-taxii-date-added-last"] {
        let value = page.header(name).unwrap();
        let fraction = value.split('.').nth(1).unwrap();
        assert_eq!(fraction.len(), 7, "{name}: {value}: six digits and Z");
    }
    // Another organisation does not see a's inbox at all: 404, like a collection that does not exist.
    let other = taxii_get(&node, &objects, &Auth::user("b-analyst"));
    assert_eq!(other.status, 404);
    let missing = taxii_get(
        &node,
        "/taxii2/root/collections/00000000-0000-4000-8000-000000000000/objects/",
        &Auth::user("b-analyst"),
    );
    assert_eq!((other.status, other.body.clone()), (missing.status, missing.body));
    // A reader cannot add to the read-only collections.
    let all_id = collections["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|collection| collection["alias"] == "all")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let into_all = node.call(
        "POST",
        &format!("/taxii2/root/collections/{all_id}/objects/"),
        &owner,
        &[("accept", TAXII), ("content-type", TAXII)],
        Some(envelope),
    );
    assert_eq!(into_all.status, 403);
    // The AMBER object added by a is not in b's view of `all`.
    let b_all = taxii_get(
        &node,
        &format!("/taxii2/root/collections/{all_id}/objects/"),
        &Auth::user("b-analyst"),
    );
    assert!(!b_all.body.contains("198.18.0.1"), "{}", b_all.body);
    let a_all = taxii_get(&node, &format!("/taxii2/root/collections/{all_id}/objects/"), &owner);
    assert!(a_all.body.contains("198.18.0.1"), "{}", a_all.body);
    // One collection per TLP level, holding that level only.
    let by_alias = |alias: &str| {
        collections["collections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|collection| collection["alias"] == alias)
            .cloned()
    };
    assert_eq!(by_alias("tlp-amber-strict").unwrap()["title"], "TLP:AMBER+STRICT");
    let amber_id = by_alias("tlp-amber").unwrap()["id"].as_str().unwrap().to_owned();
    let green_id = by_alias("tlp-green").unwrap()["id"].as_str().unwrap().to_owned();
    let in_amber =
        taxii_get(&node, &format!("/taxii2/root/collections/{amber_id}/objects/"), &owner);
    let in_green =
        taxii_get(&node, &format!("/taxii2/root/collections/{green_id}/objects/"), &owner);
    assert!(in_amber.body.contains("198.18.0.1"), "{}", in_amber.body);
    assert!(!in_green.body.contains("198.18.0.1"), "{}", in_green.body);
    // Bad parameters are 400s with TAXII errors.
    let bad_next = taxii_get(&node, &format!("{objects}?next=nonsense"), &owner);
    assert_eq!(bad_next.status, 400);
    assert_eq!(bad_next.header("content-type"), Some(TAXII));
}

#[test]
fn an_administrator_configures_a_collection_with_rights_per_organisation() {
    let node = TestNode::start(false).with_people();
    let admin = Auth::user("a-admin");
    let config = br#"{"alias":"partners","title":"Partner exchange","tlp":["green","amber"],"readers":["b"],"writers":["a"]}"#;
    let made = node.post("/api/v1/taxii-collections", &admin, "application/json", config);
    assert_eq!(made.status, 200, "{}", made.body);
    let id = made.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        node.post("/api/v1/taxii-collections", &admin, "application/json", config).code(),
        "conflict"
    );
    let reserved = br#"{"alias":"all","title":"x"}"#;
    assert_eq!(
        node.post("/api/v1/taxii-collections", &admin, "application/json", reserved).code(),
        "bad_request"
    );
    assert_eq!(
        node.post(
            "/api/v1/taxii-collections",
            &Auth::user("a-analyst"),
            "application/json",
            config
        )
        .status,
        403
    );

    let view = |user: &str| {
        let collections = taxii_get(&node, "/taxii2/root/collections/", &Auth::user(user)).json();
        collections["collections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|collection| collection["id"] == id.as_str())
            .cloned()
    };
    let for_a = view("a-analyst").unwrap();
    assert_eq!(
        (for_a["can_read"].as_bool(), for_a["can_write"].as_bool()),
        (Some(false), Some(true))
    );
    let for_b = view("b-analyst").unwrap();
    assert_eq!(
        (for_b["can_read"].as_bool(), for_b["can_write"].as_bool()),
        (Some(true), Some(false))
    );

    let objects = format!("/taxii2/root/collections/{id}/objects/");
    let envelope = br#"{"objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--0b5a7a8e-1c1e-4c54-8d3e-7f1f7f6b0c01","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[domain-name:value = 'partner.example.com']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}]}"#;
    let post = |user: &str| {
        node.call(
            "POST",
            &objects,
            &Auth::user(user),
            &[("accept", TAXII), ("content-type", TAXII)],
            Some(envelope),
        )
    };
    assert_eq!(post("b-analyst").status, 403);
    assert_eq!(post("a-analyst").status, 202);
    let read = taxii_get(&node, &objects, &Auth::user("b-analyst"));
    assert!(read.body.contains("partner.example.com"), "{}", read.body);
    assert_eq!(taxii_get(&node, &objects, &Auth::user("a-analyst")).status, 403);
    // Removed, it is gone for everyone; its objects stay in the log.
    assert_eq!(node.delete("/api/v1/taxii-collections/partners", &admin).status, 200);
    assert!(view("b-analyst").is_none());
    node.settle();
    let lookup =
        node.get("/api/v1/lookup?value=partner.example.com", &Auth::user("b-analyst")).json();
    assert_eq!(lookup["hits"].as_array().unwrap().len(), 1, "{lookup}");
}

#[test]
fn our_client_pulls_from_our_own_server_incrementally() {
    use watchfire_feeds::source::{Source, SourceKind};
    let node = TestNode::start(false).with_people();
    let ips: String = (1..=30).map(|n| format!("198.51.100.{n}\n")).collect();
    node.import("a-analyst", "format=plain-ip&source=first&tlp=green", &ips);
    let token = node.token("b", None, vec![watchfire_server::accounts::Scope::Peer], None);
    let collections =
        taxii_get(&node, "/taxii2/root/collections/", &Auth::Bearer(token.clone())).json();
    let all = collections["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|collection| collection["alias"] == "all")
        .unwrap();
    let url = node.url(&format!("/taxii2/root/collections/{}/", all["id"].as_str().unwrap()));
    // Another node's store, pulling as the peer b.
    let dir = tempfile::tempdir().unwrap();
    let other = watchfire_store::SqliteStore::open(&dir.path().join("peer.db")).unwrap();
    let source = Source::new("node-a", SourceKind::Taxii, &url);
    let options = watchfire_feeds::Options { page_size: 10, ..watchfire_feeds::Options::default() };
    let authorization = format!("Bearer {token}");
    let first =
        watchfire_feeds::taxii::pull_with_authorization(&other, &source, &authorization, &options)
            .unwrap();
    let indicators = |store: &dyn watchfire_store::Store| {
        store
            .stats(watchfire_store::Reader::Operator)
            .unwrap()
            .by_type
            .get("indicator")
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(indicators(&other), 30, "{first:?}");
    // Received from another node: the policy must know, for AMBER+STRICT's no-onward-sharing.
    let query = watchfire_store::Query {
        limit: 1000,
        types: vec!["indicator".into()],
        ..Default::default()
    };
    let pulled =
        watchfire_store::Store::query(&other, watchfire_store::Reader::Operator, &query).unwrap();
    assert!(
        pulled
            .entries
            .iter()
            .all(|entry| entry.audience.origin == watchfire_model::policy::Origin::Peer)
    );
    // A second pull fetches only what was added since.
    node.import(
        "a-analyst",
        "format=plain-ip&source=second&tlp=green",
        "198.51.100.31\n198.51.100.32\n",
    );
    let second =
        watchfire_feeds::taxii::pull_with_authorization(&other, &source, &authorization, &options)
            .unwrap();
    // The two indicators and the identity of the new source, nothing pulled before.
    assert_eq!(second.records, 3, "only the new objects come: {second:?}");
    assert_eq!(indicators(&other), 32);
    let third =
        watchfire_feeds::taxii::pull_with_authorization(&other, &source, &authorization, &options)
            .unwrap();
    assert_eq!((third.records, third.not_modified), (0, true), "{third:?}");
}
