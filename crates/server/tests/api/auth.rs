//! Authentication and authorisation: wrong, expired and revoked tokens, scopes, CSRF on
//! session requests, and the throttle on failed log-ins.

use watchfire_server::accounts::Scope;

use crate::common::{Auth, PASSWORD, TestNode};

#[test]
fn bad_credentials_are_refused_never_served_as_anonymous() {
    let node = TestNode::start(true).with_people();
    let good = node.token("a", Some("a-analyst"), vec![Scope::Read], None);
    let wrong_secret = format!("{}x", &good[..good.len() - 1]);
    let unknown_id = "wf_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned();
    let expired = node.token("a", Some("a-analyst"), vec![Scope::Read], Some(1_000_000));
    for (what, auth) in [
        ("wrong password", Auth::Basic("a-analyst".into(), "not the password".into())),
        ("unknown user", Auth::Basic("nobody".into(), PASSWORD.into())),
        ("wrong token secret", Auth::Bearer(wrong_secret)),
        ("unknown token", Auth::Bearer(unknown_id)),
        ("expired token", Auth::Bearer(expired)),
        ("garbage bearer", Auth::Bearer("hello".into())),
        ("unknown session", Auth::Session { cookie: "nope".into(), csrf: None }),
    ] {
        // /api/v1/stats would answer an anonymous caller (the node is public): a 401 shows the
        // bad credentials were not quietly dropped.
        let answer = node.get("/api/v1/stats", &auth);
        assert_eq!(answer.status, 401, "{what}: {}", answer.body);
        assert_eq!(answer.code(), "unauthenticated", "{what}");
        assert!(answer.header("www-authenticate").is_some(), "{what}");
    }
    assert_eq!(node.get("/api/v1/stats", &Auth::Bearer(good.clone())).status, 200);
    // HTTP Basic with any user name and the token as the password.
    assert_eq!(node.get("/api/v1/stats", &Auth::Basic("anything".into(), good)).status, 200);
}

#[test]
fn a_revoked_token_stops_working_at_once() {
    let node = TestNode::start(false).with_people();
    let token = node.token("a", Some("a-analyst"), vec![Scope::Read], None);
    let auth = Auth::Bearer(token.clone());
    assert_eq!(node.get("/api/v1/stats", &auth).status, 200);
    let listed = node.get("/api/v1/tokens", &Auth::user("a-analyst")).json();
    let id = listed["tokens"][0]["id"].as_str().unwrap().to_owned();
    assert!(!listed.to_string().contains(&token[20..]), "a token's secret is never listed");
    // Another organisation's user cannot revoke it, and learns nothing: 404 like a missing token.
    let foreign = node.delete(&format!("/api/v1/tokens/{id}"), &Auth::user("b-analyst"));
    assert_eq!(foreign.status, 404);
    assert_eq!(node.get("/api/v1/stats", &auth).status, 200);
    let revoked = node.delete(&format!("/api/v1/tokens/{id}"), &Auth::user("a-analyst"));
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let after = node.get("/api/v1/stats", &auth);
    assert_eq!(after.status, 401);
}

#[test]
fn scopes_and_roles_limit_what_a_caller_may_do() {
    let node = TestNode::start(false).with_people();
    let upload = |auth: &Auth| {
        node.post("/api/v1/import?format=plain-ip", auth, "text/plain", b"192.0.2.10\n")
    };
    let sensor = Auth::Bearer(node.token("a", None, vec![Scope::Sensor], None));
    let reader = Auth::Bearer(node.token("a", Some("a-analyst"), vec![Scope::Read], None));
    // A sensor token reports sightings but reads nothing.
    assert_eq!(node.get("/api/v1/indicators", &sensor).status, 403);
    let sighting =
        node.post("/api/v1/sightings", &sensor, "application/json", br#"{"value":"192.0.2.10"}"#);
    assert_eq!(sighting.status, 200, "{}", sighting.body);
    // A read token and a viewer cannot write.
    assert_eq!(upload(&reader).code(), "forbidden");
    assert_eq!(upload(&Auth::user("a-viewer")).code(), "forbidden");
    assert_eq!(upload(&Auth::user("a-analyst")).status, 200);
    // Only admins manage organisations and users.
    assert_eq!(node.get("/api/v1/orgs", &Auth::user("a-analyst")).status, 403);
    assert_eq!(node.get("/api/v1/orgs", &Auth::user("a-admin")).status, 200);
    assert_eq!(node.get("/metrics", &Auth::user("a-analyst")).status, 403);
    // A user cannot give a token more than their roles allow.
    let too_much = node.post(
        "/api/v1/tokens",
        &Auth::user("a-viewer"),
        "application/json",
        br#"{"name":"mine","scopes":["read","write"]}"#,
    );
    assert_eq!(too_much.status, 403, "{}", too_much.body);
    // A token of a user never does more than the user's roles allow, whatever it was given.
    let viewer = node.accounts.user("a-viewer").unwrap().unwrap();
    let org = node.accounts.org_by_name("a").unwrap();
    let (_, inflated) = node
        .accounts
        .create_token("inflated", org.id, Some(&viewer), vec![Scope::Write], None)
        .unwrap();
    assert_eq!(upload(&Auth::Bearer(inflated)).status, 403);
    // Anonymous callers of a members-only node are asked to log in.
    assert_eq!(node.get("/api/v1/indicators", &Auth::None).status, 401);
    assert_eq!(node.get("/api/v1/lookup?value=192.0.2.10", &Auth::None).status, 401);
}

#[test]
fn a_session_needs_its_csrf_token_for_changes() {
    let node = TestNode::start(false).with_people();
    let login = node.post(
        "/api/v1/session",
        &Auth::None,
        "application/json",
        format!(r#"{{"username":"a-analyst","password":"{PASSWORD}"}}"#).as_bytes(),
    );
    assert_eq!(login.status, 200, "{}", login.body);
    let set_cookie = login.header("set-cookie").unwrap().to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    let cookie =
        set_cookie.split(';').next().unwrap().trim_start_matches("watchfire_session=").to_owned();
    let csrf = login.json()["csrf_token"].as_str().unwrap().to_owned();
    let without = Auth::Session { cookie: cookie.clone(), csrf: None };
    let wrong = Auth::Session { cookie: cookie.clone(), csrf: Some("forged".into()) };
    let with = Auth::Session { cookie: cookie.clone(), csrf: Some(csrf) };
    // Reads need no CSRF token.
    let me = node.get("/api/v1/me", &without);
    assert_eq!(me.json()["user"], "a-analyst");
    let upload = |auth: &Auth| {
        node.post("/api/v1/import?format=plain-ip", auth, "text/plain", b"192.0.2.11\n")
    };
    assert_eq!(upload(&without).code(), "csrf_failed");
    assert_eq!(upload(&wrong).code(), "csrf_failed");
    assert_eq!(upload(&with).status, 200);
    // After log-out the cookie is worth nothing.
    assert_eq!(node.delete("/api/v1/session", &with).status, 200);
    assert_eq!(node.get("/api/v1/me", &without).status, 401);
}

#[test]
fn repeated_failed_logins_are_throttled() {
    let node = TestNode::start(false).with_people();
    let wrong = Auth::Basic("a-analyst".into(), "guess guess guess".into());
    for _ in 0..5 {
        assert_eq!(node.get("/api/v1/me", &wrong).status, 401);
    }
    // Now even the right password is refused for a while, with a Retry-After.
    let throttled = node.get("/api/v1/me", &Auth::user("a-analyst"));
    assert_eq!(throttled.status, 429, "{}", throttled.body);
    assert!(throttled.header("retry-after").is_some());
    // Another user is not affected.
    assert_eq!(node.get("/api/v1/me", &Auth::user("b-analyst")).status, 200);
    let login = node.post(
        "/api/v1/session",
        &Auth::None,
        "application/json",
        format!(r#"{{"username":"a-analyst","password":"{PASSWORD}"}}"#).as_bytes(),
    );
    assert_eq!(login.status, 429);
}

#[test]
fn a_password_proven_once_does_not_let_a_wrong_one_pass() {
    let node = TestNode::start(false).with_people();
    assert_eq!(node.get("/api/v1/me", &Auth::user("a-analyst")).status, 200);
    assert_eq!(node.get("/api/v1/me", &Auth::user("a-analyst")).status, 200);
    let wrong = Auth::Basic("a-analyst".into(), format!("{PASSWORD}!"));
    assert_eq!(node.get("/api/v1/me", &wrong).status, 401);
    // Another user's right password is not this user's.
    let crossed = Auth::Basic("b-analyst".into(), "not it at all".into());
    assert_eq!(node.get("/api/v1/me", &crossed).status, 401);
}
