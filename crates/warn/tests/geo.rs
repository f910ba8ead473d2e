//! IP to AS and country lookups on small MaxMind DB files that the test builds with the Python
//! package `mmdb-writer` (from the venv `cargo xtask test` makes), in the GeoLite2 layout (ASN,
//! Country, City) and the ip-location-db layout, IPv4 and IPv6; and files that are no database.

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use watchfire_warn::{Error, Geo, Location};

// Builds the databases into the directory given as the first argument. `int_type="u32"` writes AS
// numbers as MaxMind does; the ip-location-db ASN file is left to pick the smallest width, to
// check that any integer width reads.
const BUILD: &str = r#"
import sys
from mmdb_writer import MMDBWriter
from netaddr import IPSet

out = sys.argv[1]

def write(name, ip_version, database_type, networks, int_type="auto"):
    writer = MMDBWriter(ip_version=ip_version, ipv4_compatible=(ip_version == 6),
                        database_type=database_type, languages=["en"],
                        description={"en": "watchfire test " + name}, int_type=int_type)
    for network, record in networks:
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(out + "/" + name)

def country(code, name):
    return {"geoname_id": 1, "iso_code": code, "names": {"en": name}}

write("GeoLite2-ASN.mmdb", 6, "GeoLite2-ASN", [
    ("192.0.2.0/24", {"autonomous_system_number": 64500, "autonomous_system_organization": "Example Net"}),
    ("2001:db8::/32", {"autonomous_system_number": 4200000001, "autonomous_system_organization": "Example Six"}),
], int_type="u32")

write("GeoLite2-Country.mmdb", 6, "GeoLite2-Country", [
    ("192.0.2.0/24", {"continent": {"code": "EU", "names": {"en": "Europe"}},
                      "country": country("FR", "France"),
                      "registered_country": country("FR", "France")}),
    # An anycast network: no `country`, only where it is registered.
    ("198.51.100.0/24", {"registered_country": country("NL", "Netherlands")}),
    ("2001:db8::/32", {"country": country("DE", "Germany")}),
])

write("GeoLite2-City.mmdb", 6, "GeoLite2-City", [
    ("203.0.113.0/24", {"city": {"geoname_id": 2, "names": {"en": "Vienna"}},
                        "country": country("AT", "Austria"),
                        "location": {"latitude": 48.2, "longitude": 16.37, "accuracy_radius": 20}}),
])

write("ip-location-db-asn-ipv4.mmdb", 4, "ip-location-db asn", [
    ("203.0.113.0/24", {"autonomous_system_number": 64511, "autonomous_system_organization": "Small AS"}),
])
write("ip-location-db-asn-ipv6.mmdb", 6, "ip-location-db asn", [
    ("2001:db8:abcd::/48", {"autonomous_system_number": 64512, "autonomous_system_organization": "Six AS"}),
])
write("ip-location-db-country-ipv4.mmdb", 4, "ip-location-db country", [
    ("203.0.113.0/25", {"country_code": "se"}),
    ("203.0.113.128/25", {"country_code": "not a code"}),
])
write("ip-location-db-country-ipv6.mmdb", 6, "ip-location-db country", [
    ("2001:db8:abcd::/48", {"country_code": "JP"}),
])
"#;

/// Builds the databases once per test into a directory of its own and returns it.
fn databases(test: &str) -> PathBuf {
    let venv = std::env::var_os("WATCHFIRE_VENV").expect(
        "WATCHFIRE_VENV is not set: run the tests with `cargo xtask test`, which makes the venv with mmdb-writer",
    );
    let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join("geo").join(test);
    fs::create_dir_all(&directory).expect("scratch directory");
    let output = Command::new(Path::new(&venv).join("bin/python"))
        .args(["-c", BUILD])
        .arg(&directory)
        .output()
        .expect("run the venv's python");
    assert!(
        output.status.success(),
        "mmdb-writer failed (is the venv up to date? run `cargo xtask test`):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    directory
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("valid address")
}

fn location(asn: Option<u32>, as_name: Option<&str>, country: Option<&str>) -> Location {
    Location { asn, as_name: as_name.map(str::to_owned), country: country.map(str::to_owned) }
}

#[test]
fn geolite2_layout_gives_as_and_country_for_v4_and_v6() {
    let directory = databases("geolite2");
    let geo = Geo::open(
        Some(&directory.join("GeoLite2-ASN.mmdb")),
        Some(&directory.join("GeoLite2-Country.mmdb")),
    )
    .expect("open GeoLite2 files");
    let cases = [
        ("192.0.2.77", location(Some(64500), Some("Example Net"), Some("FR"))),
        // IPv4-mapped IPv6 is looked up as IPv4.
        ("::ffff:192.0.2.1", location(Some(64500), Some("Example Net"), Some("FR"))),
        ("198.51.100.9", location(None, None, Some("NL"))),
        // A 32-bit AS number (above 65535).
        ("2001:db8:1::5", location(Some(4_200_000_001), Some("Example Six"), Some("DE"))),
        // Misses, v4 and v6.
        ("8.8.8.8", Location::default()),
        ("2001:db9::1", Location::default()),
    ];
    for (address, expected) in cases {
        assert_eq!(geo.lookup(ip(address)), expected, "{address}");
    }
}

#[test]
fn city_file_gives_the_country() {
    let directory = databases("city");
    let geo = Geo::open(None, Some(&directory.join("GeoLite2-City.mmdb"))).expect("open City");
    assert_eq!(geo.lookup(ip("203.0.113.8")), location(None, None, Some("AT")));
    assert_eq!(geo.lookup(ip("192.0.2.1")), Location::default());
}

#[test]
fn ip_location_db_layout_reads_in_v4_only_and_v6_files() {
    let directory = databases("ip-location-db");
    let v4 = Geo::open(
        Some(&directory.join("ip-location-db-asn-ipv4.mmdb")),
        Some(&directory.join("ip-location-db-country-ipv4.mmdb")),
    )
    .expect("open ip-location-db IPv4 files");
    // The country code comes upper-cased; a value that is no code is no country.
    assert_eq!(v4.lookup(ip("203.0.113.5")), location(Some(64511), Some("Small AS"), Some("SE")));
    assert_eq!(v4.lookup(ip("203.0.113.200")), location(Some(64511), Some("Small AS"), None));
    // An IPv6 address in IPv4-only files is a miss, not an error.
    assert_eq!(v4.lookup(ip("2001:db8:abcd::1")), Location::default());

    let v6 = Geo::open(
        Some(&directory.join("ip-location-db-asn-ipv6.mmdb")),
        Some(&directory.join("ip-location-db-country-ipv6.mmdb")),
    )
    .expect("open ip-location-db IPv6 files");
    assert_eq!(
        v6.lookup(ip("2001:db8:abcd:1::2")),
        location(Some(64512), Some("Six AS"), Some("JP"))
    );
    assert_eq!(v6.lookup(ip("2001:db8:abce::1")), Location::default());
}

#[test]
fn one_file_may_give_what_the_other_lacks() {
    let directory = databases("fallback");
    // The ASN file alone: no country. The country file alone: no AS.
    let asn_only = Geo::open(Some(&directory.join("GeoLite2-ASN.mmdb")), None).expect("open");
    assert_eq!(asn_only.lookup(ip("192.0.2.1")), location(Some(64500), Some("Example Net"), None));
    let country_only =
        Geo::open(None, Some(&directory.join("GeoLite2-Country.mmdb"))).expect("open");
    assert_eq!(country_only.lookup(ip("192.0.2.1")), location(None, None, Some("FR")));
    // Files in the wrong slots still answer.
    let swapped = Geo::open(
        Some(&directory.join("GeoLite2-Country.mmdb")),
        Some(&directory.join("GeoLite2-ASN.mmdb")),
    )
    .expect("open");
    assert_eq!(
        swapped.lookup(ip("192.0.2.1")),
        location(Some(64500), Some("Example Net"), Some("FR"))
    );
}

#[test]
fn empty_geo_finds_nothing() {
    let geo = Geo::empty();
    assert_eq!(geo.lookup(ip("192.0.2.1")), Location::default());
    assert_eq!(geo.lookup(ip("2001:db8::1")), Location::default());
}

/// Returns the message of the error opening `path` as the AS database.
fn open_error(path: &Path) -> String {
    match Geo::open(Some(path), None) {
        Ok(geo) => panic!("{} opened: {geo:?}", path.display()),
        Err(error @ Error::Geo { .. }) => error.to_string(),
        Err(other) => panic!("{} failed with another error: {other}", path.display()),
    }
}

#[test]
fn files_that_are_no_database_are_refused_naming_the_file() {
    let directory = databases("broken");
    let good = fs::read(directory.join("GeoLite2-ASN.mmdb")).expect("built file");

    let garbage = directory.join("garbage.mmdb");
    fs::write(&garbage, b"this is not a MaxMind DB file\n".repeat(100)).expect("write");
    let empty = directory.join("empty.mmdb");
    fs::write(&empty, b"").expect("write");
    let half = directory.join("half.mmdb");
    fs::write(&half, &good[..good.len() / 2]).expect("write");
    // The metadata marker survives, the metadata map after it does not.
    let cut_metadata = directory.join("cut-metadata.mmdb");
    fs::write(&cut_metadata, &good[..good.len() - 20]).expect("write");
    // The metadata is intact, but the search tree it describes is longer than the file.
    let marker = b"\xab\xcd\xefMaxMind.com";
    let marker_at =
        good.windows(marker.len()).rposition(|window| window == marker).expect("marker");
    let mut short_tree = good[..16].to_vec();
    short_tree.extend_from_slice(&good[marker_at..]);
    let cut_tree = directory.join("cut-tree.mmdb");
    fs::write(&cut_tree, short_tree).expect("write");

    for path in [&garbage, &empty, &half, &cut_metadata, &cut_tree] {
        let message = open_error(path);
        let expected_start = format!(
            "cannot open MaxMind DB file {}: not a valid MaxMind DB file: ",
            path.display()
        );
        assert!(message.starts_with(&expected_start), "{message}");
    }

    let missing = directory.join("missing.mmdb");
    let message = open_error(&missing);
    assert!(
        message.starts_with(&format!("cannot open MaxMind DB file {}: ", missing.display())),
        "{message}"
    );
    assert!(message.contains("No such file"), "{message}");
    // A bad country file fails too, even with a good ASN file.
    let error = Geo::open(Some(&directory.join("GeoLite2-ASN.mmdb")), Some(&garbage)).unwrap_err();
    assert!(error.to_string().contains("garbage.mmdb"), "{error}");
}

/// The alert engine with real MaxMind files behind it: a listed address nobody claims by network
/// reaches the owner of its AS (from GeoLite2-ASN) or of its country (from GeoLite2-Country).
#[test]
fn the_engine_warns_owners_of_an_as_or_a_country_through_the_files() {
    use watchfire_model::Observable;
    use watchfire_model::policy::{Member, OrgId, Principal};
    use watchfire_model::record::{Category, IndicatorRecord, Record};
    use watchfire_model::stix::{Precision, Timestamp};
    use watchfire_model::tlp::Tlp;
    use watchfire_store::{Query, Reader, SqliteStore, Store};
    use watchfire_warn::{ALERT_TYPE, Alert, ClaimKind, Engine, Settings};

    let directory = databases("engine");
    let geo = Geo::open(
        Some(&directory.join("GeoLite2-ASN.mmdb")),
        Some(&directory.join("GeoLite2-Country.mmdb")),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("watchfire.db")).unwrap();
    let (as_owner, country_owner) =
        (OrgId(uuid::Uuid::from_u128(1)), OrgId(uuid::Uuid::from_u128(2)));
    for (org, kind, value) in
        [(as_owner, ClaimKind::Asn, "AS64500"), (country_owner, ClaimKind::Country, "de")]
    {
        let claim = watchfire_warn::claim(&store, org, kind, value, "t", 1).unwrap();
        watchfire_warn::approve(&store, &claim.id, "admin", 2).unwrap();
    }
    let now = Timestamp::from_unix_nanos(watchfire_store::now_micros() * 1000, Precision::Millis);
    let mut ingest = watchfire_feeds::Ingest::new("feed", Tlp::Green, &now);
    let mut facts = Vec::new();
    for value in ["192.0.2.9", "2001:db8::5", "198.51.100.7"] {
        let mut record = IndicatorRecord::new(Observable::parse(value).unwrap());
        record.category = Some(Category::BotnetC2);
        ingest.facts(&Record::Indicator(record), &mut facts);
    }
    store.append(&facts).unwrap();
    let members = |org: OrgId| {
        Some(Principal::Member(Member {
            org,
            user: None,
            roles: Vec::new(),
            in_community: true,
            client_of: Vec::new(),
        }))
    };
    let locator: std::sync::Arc<dyn watchfire_warn::Locator> = std::sync::Arc::new(geo);
    let mut engine = Engine::open(&store, Settings::default(), Some(locator)).unwrap();
    engine.catch_up(&store, &members).unwrap();
    let query = Query { limit: 100, types: vec![ALERT_TYPE.to_owned()], ..Query::default() };
    let mut alerts: Vec<(OrgId, String, String)> = store
        .query(Reader::Operator, &query)
        .unwrap()
        .entries
        .iter()
        .map(|entry| Alert::from_entry(entry).unwrap())
        .map(|alert| {
            let matched = alert.matched.unwrap().value;
            (alert.organisation.unwrap(), alert.observable.value().to_owned(), matched)
        })
        .collect();
    alerts.sort();
    // 198.51.100.7 is registered in NL (no AS in the file): nobody claims it.
    assert_eq!(
        alerts,
        [
            (as_owner, "192.0.2.9".to_owned(), "AS64500".to_owned()),
            (country_owner, "2001:db8::5".to_owned(), "DE".to_owned()),
        ]
    );
}
