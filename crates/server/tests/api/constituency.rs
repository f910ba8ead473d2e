//! Constituencies over the API: claim-and-approve, the overlap rule, malformed values, and who
//! may do what (viewers cannot claim, only admins decide, an organisation never sees another's).

use serde_json::Value;

use crate::common::{Answer, Auth, TestNode};

fn claim(node: &TestNode, user: &str, kind: &str, value: &str) -> Answer {
    let body = serde_json::json!({"kind": kind, "value": value}).to_string();
    node.post("/api/v1/constituency/claims", &Auth::user(user), "application/json", body.as_bytes())
}

fn decide(node: &TestNode, user: &str, id: &str, decision: &str) -> Answer {
    let path = format!("/api/v1/constituency/claims/{id}/{decision}");
    node.post(&path, &Auth::user(user), "application/json", b"")
}

fn listed(node: &TestNode, user: &str, query: &str) -> Vec<(String, String, String)> {
    let answer = node.get(&format!("/api/v1/constituency{query}"), &Auth::user(user));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let claims = answer.json()["claims"].as_array().unwrap().clone();
    claims
        .iter()
        .map(|claim: &Value| {
            let field = |name: &str| claim[name].as_str().unwrap_or_default().to_owned();
            (field("organisation"), field("value"), field("state"))
        })
        .collect()
}

#[test]
fn claims_are_pending_until_an_admin_approves() {
    let node = TestNode::start(false).with_people();
    let answer = claim(&node, "a-analyst", "cidr", "192.0.2.1/24");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let claimed = answer.json();
    assert_eq!(
        (&claimed["value"], &claimed["state"], &claimed["requested_by"], &claimed["organisation"]),
        (
            &Value::from("192.0.2.0/24"),
            &Value::from("pending"),
            &Value::from("a-analyst"),
            &Value::from("a")
        )
    );
    let id = claimed["id"].as_str().unwrap().to_owned();

    let approved = decide(&node, "a-admin", &id, "approve");
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert_eq!(approved.json()["state"], "approved");
    assert_eq!(approved.json()["decided_by"], "a-admin");
    assert_eq!(decide(&node, "a-admin", &id, "approve").code(), "conflict");

    let domain = claim(&node, "a-analyst", "domain", "Example[.]COM").json();
    assert_eq!(domain["value"], "example.com");
    let rejected = decide(&node, "a-admin", domain["id"].as_str().unwrap(), "reject");
    assert_eq!(rejected.json()["state"], "rejected");

    let mut seen = listed(&node, "a-viewer", "");
    seen.sort();
    assert_eq!(
        seen,
        [
            ("a".to_owned(), "192.0.2.0/24".to_owned(), "approved".to_owned()),
            ("a".to_owned(), "example.com".to_owned(), "rejected".to_owned()),
        ]
    );

    let removed =
        node.delete(&format!("/api/v1/constituency/claims/{id}"), &Auth::user("a-analyst"));
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(listed(&node, "a-analyst", "").len(), 1);
}

#[test]
fn a_claim_overlapping_another_organisations_approved_claim_is_refused() {
    let node = TestNode::start(false).with_people();
    let wide = claim(&node, "a-analyst", "cidr", "10.0.0.0/8").json();
    let wide_id = wide["id"].as_str().unwrap();
    assert_eq!(decide(&node, "a-admin", wide_id, "approve").status, 200);
    // a may nest its own claims.
    assert_eq!(claim(&node, "a-analyst", "cidr", "10.1.0.0/16").status, 200);

    let refused = claim(&node, "b-analyst", "cidr", "10.1.2.0/24");
    assert_eq!((refused.status, refused.code()), (409, "conflict".to_owned()), "{}", refused.body);
    assert!(
        refused.body.contains(wide_id) && refused.body.contains("10.0.0.0/8"),
        "{}",
        refused.body
    );

    // A pending claim of b, made before a's overlapping claim was approved, is refused on approval.
    let asn_b = claim(&node, "b-analyst", "asn", "AS64500").json();
    let asn_a = claim(&node, "a-analyst", "asn", "64500").json();
    assert_eq!(decide(&node, "a-admin", asn_a["id"].as_str().unwrap(), "approve").status, 200);
    let refused = decide(&node, "a-admin", asn_b["id"].as_str().unwrap(), "approve");
    assert_eq!(refused.code(), "conflict", "{}", refused.body);
    assert!(refused.body.contains(asn_a["id"].as_str().unwrap()), "{}", refused.body);
}

#[test]
fn malformed_values_are_a_clear_bad_request() {
    let node = TestNode::start(false).with_people();
    for (kind, value, message) in [
        ("cidr", "10.0.0.0/33", "invalid cidr claim \\\"10.0.0.0/33\\\""),
        ("cidr", "not-a-network", "invalid cidr claim \\\"not-a-network\\\""),
        ("asn", "ASX", "invalid asn claim \\\"ASX\\\""),
        ("domain", "no spaces.example", "invalid domain claim \\\"no spaces.example\\\""),
        ("country", "France", "ISO 3166-1 alpha-2"),
    ] {
        let answer = claim(&node, "a-analyst", kind, value);
        assert_eq!(
            (answer.status, answer.code()),
            (400, "bad_request".to_owned()),
            "{}",
            answer.body
        );
        assert!(answer.body.contains(message), "{kind} {value}: {}", answer.body);
    }
    let answer = claim(&node, "a-analyst", "planet", "earth");
    assert_eq!((answer.status, answer.code()), (400, "invalid_json".to_owned()), "{}", answer.body);
    assert!(listed(&node, "a-admin", "").is_empty());
}

#[test]
fn rights_viewers_cannot_claim_only_admins_decide_and_organisations_stay_apart() {
    let node = TestNode::start(false).with_people();
    assert_eq!(claim(&node, "a-viewer", "cidr", "192.0.2.0/24").code(), "forbidden");
    let id =
        claim(&node, "a-analyst", "cidr", "192.0.2.0/24").json()["id"].as_str().unwrap().to_owned();
    for decision in ["approve", "reject"] {
        assert_eq!(decide(&node, "a-analyst", &id, decision).code(), "forbidden");
        assert_eq!(decide(&node, "b-analyst", &id, decision).code(), "forbidden");
    }
    let anonymous = node.get("/api/v1/constituency", &Auth::None);
    assert_eq!(anonymous.status, 401);

    // b sees none of a's claims, cannot remove them (not found, like a missing one) and cannot
    // list another organisation's.
    assert!(listed(&node, "b-analyst", "").is_empty());
    assert!(listed(&node, "b-analyst", "?org=b").is_empty());
    let path = format!("/api/v1/constituency/claims/{id}");
    assert_eq!(node.delete(&path, &Auth::user("b-analyst")).code(), "not_found");
    let missing = "/api/v1/constituency/claims/00000000-0000-4000-8000-000000000000";
    assert_eq!(node.delete(missing, &Auth::user("b-analyst")).code(), "not_found");
    assert_eq!(
        node.get("/api/v1/constituency?org=a", &Auth::user("b-analyst")).code(),
        "forbidden"
    );
    assert_eq!(node.delete(&path, &Auth::user("a-viewer")).code(), "forbidden");

    // Admins see every organisation's claims, or one's.
    claim(&node, "b-analyst", "country", "de");
    assert_eq!(listed(&node, "a-admin", "").len(), 2);
    assert_eq!(
        listed(&node, "a-admin", "?org=b"),
        [("b".to_owned(), "DE".to_owned(), "pending".to_owned())]
    );
    assert_eq!(node.delete(&path, &Auth::user("a-admin")).status, 200);
}
