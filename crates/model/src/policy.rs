//! The one access policy: may this principal see this object?
//!
//! Every read path (REST, TAXII, lookups, the match index, exports, the live stream, search and
//! federation) asks [`may_see`] or builds a [`Visible`], which only this module can make. The rules
//! follow TLP 2.0 and the table in `DESIGN.md`:
//!
//! | TLP | members of this node | peers (other nodes) |
//! | --- | --- | --- |
//! | CLEAR | anyone, anonymous callers too | every peer |
//! | GREEN | members of the community, the owner and the named organisations | peers in the community |
//! | AMBER | the owner, the named organisations and their clients | peers whose organisation is named |
//! | AMBER+STRICT | the owner and the named organisations only | as AMBER, and never onward: an object received from a peer stays here |
//! | RED | the named users only | never |
//!
//! Decisions the table leaves open, made here:
//! - Roles never widen visibility: an admin manages the node, it does not read RED it was not given.
//! - A machine token (a sensor) acts for its organisation but is nobody in person, so it never sees RED.
//! - "Their clients" are organisations that declare another organisation as their coordinator
//!   (a national CERT's constituents); AMBER reaches the clients of the owner and of each named organisation.
//! - The author of a RED object is expected among its named users; the store adds them.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::tlp::Tlp;

/// The id of an organisation (a member of the community, or the organisation behind a peer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OrgId(pub Uuid);

/// The id of a user (a person).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserId(pub Uuid);

/// A user's role on the node. Roles decide what a user may do, never what they may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages organisations, users, tokens, sources and peers.
    Admin,
    /// Reads and writes intelligence, works incidents.
    Analyst,
    /// Reads.
    Viewer,
}

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// An unauthenticated caller.
    Anonymous,
    /// A user or a machine token of an organisation on this node.
    Member(Member),
    /// Another node, acting for its organisation.
    Peer(Peer),
}

/// A user or machine token of an organisation on this node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The organisation the caller belongs to.
    pub org: OrgId,
    /// The person, or `None` for a machine token (a sensor), which acts for `org` alone.
    pub user: Option<UserId>,
    /// The caller's roles; they never widen visibility.
    pub roles: Vec<Role>,
    /// Whether `org` is a member of the community (sees GREEN).
    pub in_community: bool,
    /// The organisations `org` is a client of (its coordinators, e.g. its national CERT).
    pub client_of: Vec<OrgId>,
}

/// Another node, acting for its organisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    /// The organisation that runs the peer.
    pub org: OrgId,
    /// Whether that organisation is part of the community (receives GREEN).
    pub in_community: bool,
}

/// Who an object is for: its owner, its TLP and its distribution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    /// The organisation that owns the object, or `None` for data of the node itself (a public feed).
    pub owner: Option<OrgId>,
    /// The object's TLP.
    pub tlp: Tlp,
    /// The recipient organisations named in the distribution (AMBER, AMBER+STRICT, and GREEN outside the community).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organisations: Vec<OrgId>,
    /// The individual users named in the distribution (RED).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<UserId>,
    /// Where the object came from: received objects may not be shared onward under AMBER+STRICT.
    #[serde(default)]
    pub origin: Origin,
}

/// Where an object entered this node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Created here, or pulled from a provider by this node.
    #[default]
    Local,
    /// Received from another node.
    Peer,
}

impl Audience {
    /// Returns an audience of the node's own data (no owner, no named recipients) at `tlp`.
    pub fn node(tlp: Tlp) -> Audience {
        Audience {
            owner: None,
            tlp,
            organisations: Vec::new(),
            users: Vec::new(),
            origin: Origin::Local,
        }
    }

    fn is_owned_by(&self, org: OrgId) -> bool {
        self.owner == Some(org)
    }

    fn names_org(&self, org: OrgId) -> bool {
        self.organisations.contains(&org)
    }
}

/// Decides whether `principal` may see an object for `audience`. This is the one policy function.
pub fn may_see(principal: &Principal, audience: &Audience) -> bool {
    match principal {
        Principal::Anonymous => audience.tlp == Tlp::Clear,
        Principal::Member(member) => member_may_see(member, audience),
        Principal::Peer(peer) => peer_may_see(peer, audience),
    }
}

fn member_may_see(member: &Member, audience: &Audience) -> bool {
    let is_owner_or_named = audience.is_owned_by(member.org) || audience.names_org(member.org);
    match audience.tlp {
        Tlp::Clear => true,
        Tlp::Green => member.in_community || is_owner_or_named,
        Tlp::Amber => {
            let is_client = member.client_of.iter().any(|&coordinator| {
                audience.is_owned_by(coordinator) || audience.names_org(coordinator)
            });
            is_owner_or_named || is_client
        }
        Tlp::AmberStrict => is_owner_or_named,
        Tlp::Red => member.user.is_some_and(|user| audience.users.contains(&user)),
    }
}

fn peer_may_see(peer: &Peer, audience: &Audience) -> bool {
    match audience.tlp {
        Tlp::Clear => true,
        Tlp::Green => peer.in_community,
        Tlp::Amber => audience.names_org(peer.org),
        Tlp::AmberStrict => audience.origin == Origin::Local && audience.names_org(peer.org),
        Tlp::Red => false,
    }
}

/// A value that the policy has cleared for one principal. Only [`Visible::check`] makes one, so a
/// function that takes `Visible<T>` cannot be handed data that skipped the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visible<T> {
    // Invariant: `may_see` returned true for the principal this was checked for.
    value: T,
}

impl<T> Visible<T> {
    /// Returns the value if `principal` may see an object for `audience`, and `None` otherwise.
    pub fn check(principal: &Principal, audience: &Audience, value: T) -> Option<Visible<T>> {
        may_see(principal, audience).then_some(Visible { value })
    }

    /// Returns the cleared value.
    pub fn get(&self) -> &T {
        &self.value
    }

    /// Returns the cleared value, ending the proof.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// Transforms the cleared value; what is derived from visible data is visible.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Visible<U> {
        Visible { value: f(self.value) }
    }
}

#[cfg(test)]
mod tests;
