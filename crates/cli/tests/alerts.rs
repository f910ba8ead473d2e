//! End-to-end tests of `watchfire alerts`: the operator imports a feed, `alerts --match` matches
//! the log against the constituencies, and the alerts list per organisation, status and severity,
//! as lines or JSON.

use std::path::Path;
use std::sync::Arc;

use watchfire_server::accounts::Accounts;
use watchfire_store::Store;

mod common;

use common::{Run, watchfire};

fn run(data: &Path, args: &[&str]) -> Run {
    let data = data.to_str().unwrap();
    let mut all = vec!["--data", data];
    all.extend_from_slice(args);
    watchfire(&all, b"")
}

fn fixture(path: &str) -> String {
    format!("{}/../../../shared/fixtures/feeds/{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_operator_lists_the_alerts_of_an_imported_feed() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store: Arc<dyn Store> = Arc::from(watchfire_store::open(dir.path(), None).unwrap());
        let accounts = Accounts::new(store);
        accounts.create_org("cert-a", true, Vec::new()).unwrap();
        accounts.create_org("cert-b", true, Vec::new()).unwrap();
    }
    let data = dir.path();
    for (org, value) in [("cert-a", "67.213.75.0/24"), ("cert-b", "46.101.0.0/16")] {
        let claimed =
            run(data, &["constituency", "claim", "--org", org, "cidr", value, "--approve"]);
        assert!(claimed.ok(), "{}", claimed.stderr);
    }
    let feed = fixture("abusech-feodotracker/ipblocklist.csv");
    let imported = run(data, &["import", "--tlp", "green", "--source", "feodo", &feed]);
    assert!(imported.ok(), "{}", imported.stderr);

    let empty = run(data, &["alerts"]);
    assert!(empty.ok() && empty.stdout.is_empty(), "nothing matched yet: {}", empty.stdout);
    let matched = run(data, &["alerts", "--match"]);
    assert!(matched.ok(), "{}", matched.stderr);
    assert!(matched.stderr.contains("2 raised"), "{}", matched.stderr);
    let lines: Vec<&str> = matched.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", matched.stdout);
    assert!(lines.iter().any(|line| line.contains("cert-a") && line.contains("67.213.75.205")));
    assert!(lines.iter().any(|line| line.contains("cert-b") && line.contains("46.101.90.205")));
    assert!(lines.iter().all(|line| line.contains("botnet_c2") && line.contains(" new ")));

    let json = run(data, &["alerts", "--json", "--org", "cert-a"]);
    let alerts: Vec<serde_json::Value> =
        json.stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(alerts.len(), 1, "{}", json.stdout);
    assert_eq!(alerts[0]["observable"]["value"], "67.213.75.205");
    assert_eq!(alerts[0]["matched"]["value"], "67.213.75.0/24");
    assert_eq!(alerts[0]["evidence"][0]["source"], "feodo");

    // A second --match raises nothing new; filters by status and severity.
    let again = run(data, &["alerts", "--match", "--status", "new"]);
    assert!(again.stderr.contains("0 raised"), "{}", again.stderr);
    assert_eq!(again.stdout.lines().count(), 2);
    assert!(run(data, &["alerts", "--status", "resolved"]).stdout.is_empty());
    assert_eq!(run(data, &["alerts", "--severity", "medium"]).stdout.lines().count(), 2);
    assert!(run(data, &["alerts", "--severity", "critical"]).stdout.is_empty());

    let bad = run(data, &["alerts", "--status", "sleeping"]);
    assert!(!bad.ok() && bad.stderr.contains("unknown status \"sleeping\""), "{}", bad.stderr);
    let unknown = run(data, &["alerts", "--org", "nobody"]);
    assert!(
        !unknown.ok() && unknown.stderr.contains("no organisation \"nobody\""),
        "{}",
        unknown.stderr
    );
}
