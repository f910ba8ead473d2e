//! `serve --demo`: a ready node for a newcomer, on a fresh store of its own.
//!
//! Four organisations, as a small community would have them: three national CERTs and the global
//! centre that links them, plus an energy operator that is a client of one CERT. Each has users
//! with fixed, printed demo passwords (the only default credentials watchfire ever has; the
//! demo binds to loopback only). The intelligence is generated here, deterministically: a public
//! feed of the node (CLEAR and GREEN), and each CERT's own AMBER, AMBER+STRICT and RED data, in
//! documentation address ranges (RFC 5737, RFC 3849) and `example.*` names (RFC 2606), so that
//! nothing in it points at a real host.
//!
//! Constituencies: each CERT (and the energy operator) owns networks, an AS and domain suffixes,
//! approved at once. Some cover the demo data (so the demo has alerts to show), and some cover
//! addresses and hosts in the public feeds the node's catalogue lists (Feodo Tracker, Spamhaus
//! DROP, Shadowserver reports, URLhaus), so importing those feeds alerts the right members.

use watchfire_feeds::Ingest;
use watchfire_model::Observable;
use watchfire_model::policy::{Audience, Origin, Role};
use watchfire_model::record::{Category, Confidence, IndicatorRecord, Record};
use watchfire_model::stix::{Precision, Timestamp};
use watchfire_model::tlp::Tlp;
use watchfire_store::Store;

use watchfire_warn::ClaimKind;

use crate::accounts::{AccountError, Accounts, Scope};

/// A demo log-in, printed at start.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
    /// The organisation.
    pub organisation: String,
    /// The roles.
    pub roles: Vec<Role>,
}

/// What the demo made.
#[derive(Debug)]
pub struct Demo {
    /// The users and their passwords.
    pub logins: Vec<DemoLogin>,
    /// An admin API token of the global centre.
    pub admin_token: String,
    /// The objects stored.
    pub objects: u64,
}

/// An error while seeding the demo.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The accounts could not be made.
    #[error("cannot make the demo accounts: {0}")]
    Accounts(#[from] AccountError),
    /// The store failed.
    #[error("cannot store the demo data: {0}")]
    Store(#[from] watchfire_store::Error),
    /// The demo constituencies could not be claimed.
    #[error("cannot claim the demo constituencies: {0}")]
    Claim(#[from] watchfire_warn::Error),
}

/// Fills an empty store with the demo organisations, users and intelligence.
pub fn seed(store: &dyn Store, accounts: &Accounts) -> Result<Demo, DemoError> {
    let centre = accounts.create_org("global-centre", true, Vec::new())?;
    let north = accounts.create_org("cert-north", true, Vec::new())?;
    let south = accounts.create_org("cert-south", true, Vec::new())?;
    let east = accounts.create_org("cert-east", true, Vec::new())?;
    let energy = accounts.create_org("north-energy", false, vec![north.id])?;
    let people = [
        ("admin", &centre, vec![Role::Admin], "demo-admin-password"),
        ("analyst-centre", &centre, vec![Role::Analyst], "demo-centre-password"),
        ("analyst-north", &north, vec![Role::Analyst], "demo-north-password"),
        ("analyst-south", &south, vec![Role::Analyst], "demo-south-password"),
        ("analyst-east", &east, vec![Role::Analyst], "demo-east-password"),
        ("viewer-energy", &energy, vec![Role::Viewer], "demo-energy-password"),
    ];
    let mut logins = Vec::new();
    let mut users = Vec::new();
    for (name, org, roles, password) in people {
        users.push(accounts.create_user(name, org.id, roles.clone(), password)?);
        logins.push(DemoLogin {
            user: name.to_owned(),
            password: password.to_owned(),
            organisation: org.name.clone(),
            roles,
        });
    }
    let admin = &users[0];
    let (_, admin_token) = accounts.create_token(
        "demo-admin",
        centre.id,
        Some(admin),
        vec![Scope::Read, Scope::Write, Scope::Admin],
        None,
    )?;

    let now = Timestamp::from_unix_nanos(
        watchfire_store::now_micros().saturating_mul(1000),
        Precision::Millis,
    );
    let mut facts = Vec::new();
    let mut rng = XorShift(0x005e_ed0f_de30);
    // The node's public feed: CLEAR and GREEN.
    let mut feed = Ingest::new("demo-feed", Tlp::Green, &now);
    for index in 0..3000u32 {
        let tlp = if index % 3 == 0 { Tlp::Clear } else { Tlp::Green };
        let record = demo_record(&mut rng, index, tlp);
        feed.facts(&Record::Indicator(record), &mut facts);
    }
    // Each CERT's own data, at the restricted levels.
    let cert_users = [(&north, &users[2]), (&south, &users[3]), (&east, &users[4])];
    for (slot, (org, user)) in cert_users.iter().enumerate() {
        let audience = Audience {
            owner: Some(org.id),
            tlp: Tlp::Amber,
            // Each CERT shares with the global centre.
            organisations: vec![centre.id],
            users: vec![user.id],
            origin: Origin::Local,
        };
        let source = format!("{}/cases", org.name);
        let mut ingest = Ingest::new(&source, Tlp::Amber, &now).with_audience(audience);
        for index in 0..200u32 {
            let tlp = [Tlp::Amber, Tlp::Amber, Tlp::AmberStrict, Tlp::Red][index as usize % 4];
            let record = demo_record(&mut rng, 10_000 * (slot as u32 + 1) + index, tlp);
            ingest.facts(&Record::Indicator(record), &mut facts);
        }
    }
    // The constituencies first, so the engine matches the data as it arrives.
    for (org, kind, value) in [
        (&north, ClaimKind::Cidr, "67.213.75.0/24"),
        (&north, ClaimKind::Cidr, "198.123.245.0/24"),
        (&north, ClaimKind::Cidr, "192.0.2.0/25"),
        (&energy, ClaimKind::Cidr, "162.144.127.0/24"),
        (&energy, ClaimKind::Cidr, "192.0.2.192/26"),
        (&south, ClaimKind::Cidr, "222.138.150.0/24"),
        (&south, ClaimKind::Cidr, "1.10.16.0/20"),
        (&south, ClaimKind::Asn, "AS8708"),
        (&south, ClaimKind::Cidr, "198.51.100.0/24"),
        (&east, ClaimKind::Domain, "cbd-planet.ch"),
        (&east, ClaimKind::Cidr, "2001:db8::/64"),
        (&east, ClaimKind::Domain, "example.com"),
    ] {
        let claim = watchfire_warn::claim(store, org.id, kind, value, "demo", 0)?;
        watchfire_warn::approve(store, &claim.id, "demo", 0)?;
    }
    let outcome = store.append(&facts)?;
    Ok(Demo { logins, admin_token, objects: outcome.new_versions })
}

fn demo_record(rng: &mut XorShift, index: u32, tlp: Tlp) -> IndicatorRecord {
    let (text, category, malware) = match index % 5 {
        0 => (format!("192.0.2.{}", rng.next() % 254 + 1), Category::BotnetC2, Some("DemoBot")),
        1 => (format!("198.51.100.{}", rng.next() % 254 + 1), Category::Scanner, None),
        2 => (format!("login-{}.example.com", rng.next() % 100_000), Category::Phishing, None),
        3 => (
            format!("http://203.0.113.{}/files/{}.exe", rng.next() % 254 + 1, rng.next() % 100_000),
            Category::MalwareDistribution,
            Some("DemoLoader"),
        ),
        _ => (format!("2001:db8::{:x}", rng.next() % 0xffff), Category::Spam, None),
    };
    // Cannot fail: every text above is a valid IPv4, IPv6, domain or URL.
    let observable = Observable::parse(&text).expect("demo values are observables");
    let mut record = IndicatorRecord::new(observable);
    record.category = Some(category);
    record.confidence = Confidence::new(50 + (rng.next() % 50) as u8);
    record.malware = malware.map(str::to_owned);
    record.tlp = Some(tlp);
    record.description = Some("generated demo data".to_owned());
    record
}

/// A small deterministic generator (xorshift64), so every demo has the same data.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
