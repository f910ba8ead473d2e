//! Shared helpers of the store's tests: fresh stores of both backends, and facts to append.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use tempfile::TempDir;
use uuid::Uuid;
use watchfire_model::Observable;
use watchfire_model::policy::{Audience, Member, OrgId, Origin, Principal, Role, UserId};
use watchfire_model::record::Category;
use watchfire_model::stix::{Indicator, Precision, StixObject, Timestamp};
use watchfire_model::tlp::Tlp;
use watchfire_store::{Fact, FactBody, PostgresStore, SqliteStore, Store};

/// The variable `cargo xtask test` sets to its private PostgreSQL cluster.
pub const POSTGRES_VARIABLE: &str = "WATCHFIRE_TEST_POSTGRES";

/// A store and what keeps it alive (its temporary directory).
pub struct TestStore {
    pub store: Box<dyn Store>,
    pub _dir: Option<TempDir>,
    /// The URL of the PostgreSQL database, for tests that open a second connection.
    pub url: Option<String>,
}

/// Opens a fresh SQLite store in a temporary directory.
pub fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("watchfire.db")).expect("open sqlite store");
    TestStore { store: Box::new(store), _dir: Some(dir), url: None }
}

/// Returns the admin URL of the test cluster. The PostgreSQL tests are part of the suite: run
/// them through `cargo xtask test`, which starts a private cluster and sets the variable.
pub fn postgres_admin_url() -> String {
    std::env::var(POSTGRES_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{POSTGRES_VARIABLE} is not set: run the tests with `cargo xtask test`, which starts a \
             private PostgreSQL cluster (or `cargo xtask postgres` and export the URL it prints)"
        )
    })
}

static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// Creates a fresh database on the test cluster and returns its URL.
pub fn fresh_postgres_database() -> String {
    let admin = postgres_admin_url();
    let name = format!(
        "wf_{}_{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::Relaxed),
        &Uuid::new_v4().simple().to_string()[..8]
    );
    let mut client =
        postgres::Client::connect(&admin, postgres::NoTls).expect("connect to the test cluster");
    client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create a test database");
    let (base, _) = admin.rsplit_once('/').expect("the admin URL names a database");
    format!("{base}/{name}")
}

/// Opens a fresh PostgreSQL store in its own database.
pub fn postgres() -> TestStore {
    let url = fresh_postgres_database();
    let store = PostgresStore::connect(&url).expect("open postgres store");
    TestStore { store: Box::new(store), _dir: None, url: Some(url) }
}

/// A timestamp `days` days after 2026-01-01.
pub fn day(days: i64) -> Timestamp {
    Timestamp::from_unix_nanos((1_767_225_600 + days * 86_400) * 1_000_000_000, Precision::Millis)
}

/// The microseconds of `day(days)`.
pub fn day_micros(days: i64) -> i64 {
    (1_767_225_600 + days * 86_400) * 1_000_000
}

/// An indicator of `value` from `source`, modified on `day(days)`.
pub fn indicator(source: &str, value: &str, days: i64) -> StixObject {
    let observable = Observable::parse(value).expect("a valid observable");
    let mut indicator = Indicator::for_observable(source, &observable, day(0));
    indicator.modified = day(days);
    indicator.confidence = Some(80);
    indicator.name = Some(value.to_owned());
    StixObject::Indicator(indicator)
}

/// A fact of the node's own data at `tlp`.
pub fn fact(source: &str, tlp: Tlp, object: StixObject) -> Fact {
    Fact::object(source, Audience::node(tlp), object)
}

/// A fact with an explicit category.
pub fn categorised(source: &str, object: StixObject, category: Category) -> Fact {
    let mut fact = fact(source, Tlp::Green, object);
    fact.category = Some(category);
    fact
}

/// Returns the indicator inside a fact, to change it.
pub fn indicator_mut(fact: &mut Fact) -> &mut Indicator {
    match &mut fact.body {
        FactBody::Object(object) => match &mut **object {
            StixObject::Indicator(indicator) => indicator,
            _ => panic!("not an indicator"),
        },
        FactBody::Tombstone(_) => panic!("a tombstone"),
    }
}

/// The organisations and people of the access tests.
pub struct Cast {
    pub org_a: OrgId,
    pub org_b: OrgId,
    pub org_named: OrgId,
    pub red_user: UserId,
}

impl Cast {
    pub fn new() -> Cast {
        Cast {
            org_a: OrgId(Uuid::from_u128(0xa)),
            org_b: OrgId(Uuid::from_u128(0xb)),
            org_named: OrgId(Uuid::from_u128(0xc)),
            red_user: UserId(Uuid::from_u128(0xd)),
        }
    }

    /// The audience of an object owned by A at `tlp`, naming `org_named` (AMBER) and `red_user` (RED).
    pub fn audience(&self, tlp: Tlp) -> Audience {
        Audience {
            owner: Some(self.org_a),
            tlp,
            organisations: if matches!(tlp, Tlp::Amber | Tlp::AmberStrict) {
                vec![self.org_named]
            } else {
                Vec::new()
            },
            users: if tlp == Tlp::Red { vec![self.red_user] } else { Vec::new() },
            origin: Origin::Local,
        }
    }

    pub fn member(&self, org: OrgId, user: Option<UserId>) -> Principal {
        Principal::Member(Member {
            org,
            user,
            roles: vec![Role::Analyst],
            in_community: true,
            client_of: Vec::new(),
        })
    }
}
