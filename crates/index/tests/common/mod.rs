//! What the index's randomised tests share: a deterministic generator, the time they look up at,
//! and the callers and audiences they mix.

#![allow(dead_code)] // Each test file uses a different part.

use uuid::Uuid;
use watchfire_index::LookupOptions;
use watchfire_model::policy::{Audience, Member, OrgId, Origin, Principal, Role};
use watchfire_model::tlp::Tlp;
use watchfire_store::Reader;

/// The time of the lookups, microseconds since the epoch.
pub const NOW: i64 = 1_800_000_000_000_000;

/// A small deterministic generator (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// AMBER for organisation `org` alone.
pub fn amber_of(org: u128) -> Audience {
    Audience {
        owner: Some(OrgId(Uuid::from_u128(org))),
        tlp: Tlp::Amber,
        organisations: Vec::new(),
        users: Vec::new(),
        origin: Origin::Local,
    }
}

/// An analyst of organisation `org`, in the community.
pub fn member(org: u128) -> Principal {
    Principal::Member(Member {
        org: OrgId(Uuid::from_u128(org)),
        user: None,
        roles: vec![Role::Analyst],
        in_community: true,
        client_of: Vec::new(),
    })
}

/// Calls `check` as each caller the tests ask as: anonymous, two members, the operator.
pub fn each_caller(mut check: impl FnMut(Reader<'_>)) {
    let principals = [Principal::Anonymous, member(1), member(2)];
    principals.iter().map(Reader::Principal).chain([Reader::Operator]).for_each(&mut check);
}

/// The options the tests ask with: every hit, flagged; and expired and benign hits left out.
pub fn option_sets() -> [LookupOptions; 2] {
    [
        LookupOptions::flag_all(NOW),
        LookupOptions { now_micros: NOW, include_expired: false, include_benign: false },
    ]
}
