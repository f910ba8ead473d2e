//! End-to-end tests of `watchfire constituency`: the operator claims for organisations, approves,
//! rejects and removes claims, the overlap rule refuses with a message naming the other claim, and
//! `list --json` prints one object per claim.

use std::path::Path;
use std::sync::Arc;

use watchfire_server::accounts::Accounts;
use watchfire_store::Store;

mod common;

use common::{Run, watchfire};

fn run(data: &Path, args: &[&str]) -> Run {
    let data = data.to_str().unwrap();
    let mut all = vec!["--data", data, "constituency"];
    all.extend_from_slice(args);
    watchfire(&all, b"")
}

/// Returns the claim id the first column of a claim's output row holds.
fn id_of(run: &Run) -> String {
    assert!(run.ok(), "{}", run.stderr);
    run.stdout.split('\t').next().unwrap().to_owned()
}

#[test]
fn the_operator_claims_approves_and_lists() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store: Arc<dyn Store> = Arc::from(watchfire_store::open(dir.path(), None).unwrap());
        let accounts = Accounts::new(store);
        accounts.create_org("cert-a", true, Vec::new()).unwrap();
        accounts.create_org("cert-b", true, Vec::new()).unwrap();
    }
    let data = dir.path();

    let wide = run(data, &["claim", "--org", "cert-a", "cidr", "198.51.100.9/24", "--approve"]);
    let wide_id = id_of(&wide);
    assert!(
        wide.stdout.ends_with("\tcert-a\tcidr\t198.51.100.0/24\tapproved\n"),
        "{}",
        wide.stdout
    );

    let refused = run(data, &["claim", "--org", "cert-b", "cidr", "198.51.100.128/25"]);
    assert!(!refused.ok());
    assert!(
        refused.stderr.contains(&format!("overlaps claim {wide_id} (198.51.100.0/24)")),
        "{}",
        refused.stderr
    );
    let malformed = run(data, &["claim", "--org", "cert-b", "cidr", "198.51.100.0/99"]);
    assert!(!malformed.ok());
    assert!(
        malformed.stderr.contains("invalid cidr claim \"198.51.100.0/99\""),
        "{}",
        malformed.stderr
    );
    let unknown = run(data, &["claim", "--org", "nobody", "asn", "AS64500"]);
    assert!(unknown.stderr.contains("no organisation \"nobody\""), "{}", unknown.stderr);

    let domain_id = id_of(&run(data, &["claim", "--org", "cert-b", "domain", "example.org"]));
    let asn_id = id_of(&run(data, &["claim", "--org", "cert-b", "asn", "64501"]));
    assert!(run(data, &["approve", &domain_id]).stdout.ends_with("\tapproved\n"));
    assert!(run(data, &["reject", &asn_id]).stdout.ends_with("\trejected\n"));

    let listed = run(data, &["list", "--org", "cert-b", "--json"]);
    assert!(listed.ok(), "{}", listed.stderr);
    let mut rows: Vec<(String, String, String, String)> = listed
        .stdout
        .lines()
        .map(|line| {
            let claim: serde_json::Value = serde_json::from_str(line).unwrap();
            let field = |name: &str| claim[name].as_str().unwrap().to_owned();
            (field("organisation"), field("kind"), field("value"), field("state"))
        })
        .collect();
    rows.sort();
    let row = |kind: &str, value: &str, state: &str| {
        ("cert-b".to_owned(), kind.to_owned(), value.to_owned(), state.to_owned())
    };
    assert_eq!(rows, [row("asn", "AS64501", "rejected"), row("domain", "example.org", "approved")]);

    assert_eq!(run(data, &["remove", &asn_id]).stdout, format!("removed {asn_id}\n"));
    assert!(!run(data, &["remove", &asn_id]).ok());
    let table = run(data, &["list"]);
    assert_eq!(table.stdout.lines().count(), 3, "{}", table.stdout);
    assert!(table.stdout.starts_with("id\torganisation\tkind\tvalue\tstate\n"));
}
