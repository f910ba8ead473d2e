//! The exhaustive policy table: every principal archetype against every TLP and origin.

use std::fmt::Write as _;

use expect_test::expect;
use uuid::Uuid;

use super::*;

fn org(n: u128) -> OrgId {
    OrgId(Uuid::from_u128(n))
}

fn user(n: u128) -> UserId {
    UserId(Uuid::from_u128(0x1000 + n))
}

const OWNER: u128 = 1; // org A owns the object
const NAMED: u128 = 2; // org B is named in the distribution
const CLIENT_OF_NAMED: u128 = 3;
const CLIENT_OF_OWNER: u128 = 4;
const COMMUNITY: u128 = 5; // a community member neither owning nor named
const GUEST: u128 = 6; // an organisation on the node outside the community
const RED_USER: u128 = 7; // a user of org B named for RED

fn member(
    org_n: u128,
    user_n: Option<u128>,
    roles: &[Role],
    in_community: bool,
    client_of: &[u128],
) -> Principal {
    Principal::Member(Member {
        org: org(org_n),
        user: user_n.map(user),
        roles: roles.to_vec(),
        in_community,
        client_of: client_of.iter().copied().map(org).collect(),
    })
}

fn archetypes() -> Vec<(&'static str, Principal)> {
    vec![
        ("anonymous", Principal::Anonymous),
        ("owner analyst", member(OWNER, Some(1), &[Role::Analyst], true, &[])),
        ("owner sensor token", member(OWNER, None, &[], true, &[])),
        ("named-org viewer", member(NAMED, Some(2), &[Role::Viewer], true, &[])),
        ("named RED user", member(NAMED, Some(RED_USER), &[Role::Analyst], true, &[])),
        ("client of named org", member(CLIENT_OF_NAMED, Some(3), &[Role::Analyst], true, &[NAMED])),
        ("client of owner", member(CLIENT_OF_OWNER, Some(4), &[Role::Analyst], true, &[OWNER])),
        ("community analyst", member(COMMUNITY, Some(5), &[Role::Analyst], true, &[])),
        ("community admin", member(COMMUNITY, Some(6), &[Role::Admin], true, &[])),
        ("guest (no community)", member(GUEST, Some(8), &[Role::Analyst], false, &[])),
        ("peer of named org", Principal::Peer(Peer { org: org(NAMED), in_community: true })),
        ("peer in community", Principal::Peer(Peer { org: org(COMMUNITY), in_community: true })),
        ("peer outside", Principal::Peer(Peer { org: org(GUEST), in_community: false })),
    ]
}

fn audience(tlp: Tlp, origin: Origin) -> Audience {
    Audience {
        owner: Some(org(OWNER)),
        tlp,
        organisations: vec![org(NAMED)],
        users: vec![user(RED_USER)],
        origin,
    }
}

/// Renders who sees what: `Y` sees, `.` does not; `local` and `peer` are the object's origin.
fn render_table() -> String {
    let mut table = format!("{:<22}", "");
    for tlp in Tlp::ALL {
        let _ = write!(table, "| {:<16} ", tlp.as_str());
    }
    table.push_str("|\n");
    table.push_str(&format!("{:<22}", ""));
    for _ in Tlp::ALL {
        table.push_str("| local    peer    ");
    }
    table.push_str("|\n");
    for (name, principal) in archetypes() {
        let _ = write!(table, "{name:<22}");
        for tlp in Tlp::ALL {
            let cell = |origin| if may_see(&principal, &audience(tlp, origin)) { "Y" } else { "." };
            let _ = write!(table, "| {:<8} {:<7} ", cell(Origin::Local), cell(Origin::Peer));
        }
        table.push_str("|\n");
    }
    table
}

#[test]
fn every_principal_against_every_tlp_and_origin() {
    expect![[r#"
                              | TLP:CLEAR        | TLP:GREEN        | TLP:AMBER        | TLP:AMBER+STRICT | TLP:RED          |
                              | local    peer    | local    peer    | local    peer    | local    peer    | local    peer    |
        anonymous             | Y        Y       | .        .       | .        .       | .        .       | .        .       |
        owner analyst         | Y        Y       | Y        Y       | Y        Y       | Y        Y       | .        .       |
        owner sensor token    | Y        Y       | Y        Y       | Y        Y       | Y        Y       | .        .       |
        named-org viewer      | Y        Y       | Y        Y       | Y        Y       | Y        Y       | .        .       |
        named RED user        | Y        Y       | Y        Y       | Y        Y       | Y        Y       | Y        Y       |
        client of named org   | Y        Y       | Y        Y       | Y        Y       | .        .       | .        .       |
        client of owner       | Y        Y       | Y        Y       | Y        Y       | .        .       | .        .       |
        community analyst     | Y        Y       | Y        Y       | .        .       | .        .       | .        .       |
        community admin       | Y        Y       | Y        Y       | .        .       | .        .       | .        .       |
        guest (no community)  | Y        Y       | .        .       | .        .       | .        .       | .        .       |
        peer of named org     | Y        Y       | Y        Y       | Y        Y       | Y        .       | .        .       |
        peer in community     | Y        Y       | Y        Y       | .        .       | .        .       | .        .       |
        peer outside          | Y        Y       | .        .       | .        .       | .        .       | .        .       |
    "#]]
    .assert_eq(&render_table());
}

#[test]
fn node_data_without_owner() {
    let analyst = member(COMMUNITY, Some(5), &[Role::Analyst], true, &[]);
    let admin = member(COMMUNITY, Some(6), &[Role::Admin], true, &[]);
    assert!(may_see(&analyst, &Audience::node(Tlp::Green)));
    assert!(!may_see(&member(GUEST, Some(8), &[], false, &[]), &Audience::node(Tlp::Green)));
    for tlp in [Tlp::Amber, Tlp::AmberStrict, Tlp::Red] {
        assert!(
            !may_see(&admin, &Audience::node(tlp)),
            "{tlp}: nobody is named, so nobody sees it"
        );
    }
    assert!(may_see(&Principal::Anonymous, &Audience::node(Tlp::Clear)));
}

#[test]
fn visible_is_only_made_by_the_policy() {
    let secret = audience(Tlp::Red, Origin::Local);
    assert_eq!(Visible::check(&Principal::Anonymous, &secret, "x"), None);
    let red_user = member(NAMED, Some(RED_USER), &[], true, &[]);
    let visible = Visible::check(&red_user, &secret, "x").expect("the named user sees RED");
    assert_eq!(visible.map(str::len).into_inner(), 1);
}
