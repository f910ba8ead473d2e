//! IP address to autonomous system and country, from MaxMind DB (MMDB) files: MaxMind's
//! GeoLite2-ASN, GeoLite2-Country and GeoLite2-City, DB-IP's lite files (the same layout), and the
//! CC0 ip-location-db files (another layout).
//!
//! The layouts differ in field names only, so one record type reads them all:
//! - AS number and name: `autonomous_system_number` and `autonomous_system_organization`, in
//!   GeoLite2-ASN, DB-IP ASN lite and ip-location-db's ASN files alike;
//! - country: `country.iso_code` (GeoLite2 and DB-IP; `registered_country.iso_code` when a network
//!   has no `country`, as anycast and satellite networks do), or a flat `country_code`
//!   (ip-location-db).
//!
//! Each file may give any field: the ASN file is asked first for the AS, the country file first
//! for the country, and the other file fills what the first lacks (so one ip-location-db file with
//! both, or a City file alone, works too). A country is kept only as two ASCII letters, in upper
//! case; AS 0 (reserved, "not routed") is no AS.
//!
//! Files are read whole into memory when opened (GeoLite2-City, the largest, is about 70 MB) and
//! checked there: a file that is not an MMDB, or is truncated, fails to open with an error naming
//! the path. A lookup never fails: a miss or a record that does not decode is an absent field.

use std::fmt;
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;

/// The largest MMDB file opened, 2 GiB; the largest real ones (GeoLite2-City, DB-IP City lite)
/// are well under 200 MB, so a larger file is a wrong path rather than a database.
const MAX_FILE_LEN: u64 = 2 << 30;

/// The AS and country databases of a node, either or both absent.
pub struct Geo {
    asn: Option<Database>,
    country: Option<Database>,
}

/// What the databases say about one address. Absent fields are unknown.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The number of the autonomous system that announces the address.
    pub asn: Option<u32>,
    /// The autonomous system's organisation name.
    pub as_name: Option<String>,
    /// The ISO 3166-1 alpha-2 code of the address's country, upper case (`FR`).
    pub country: Option<String>,
}

impl Geo {
    /// Opens the AS database and the country database, either of which may be absent, and fails
    /// naming the file when one cannot be read or is not a valid MaxMind DB.
    pub fn open(asn_db: Option<&Path>, country_db: Option<&Path>) -> Result<Geo, Error> {
        let asn = asn_db.map(Database::open).transpose()?;
        let country = country_db.map(Database::open).transpose()?;
        Ok(Geo { asn, country })
    }

    /// Returns a `Geo` without databases, whose lookups find nothing.
    pub fn empty() -> Geo {
        Geo { asn: None, country: None }
    }

    /// Returns what the databases know about `ip`. An IPv4-mapped IPv6 address is looked up as
    /// its IPv4 address.
    pub fn lookup(&self, ip: IpAddr) -> Location {
        let ip = ip.to_canonical();
        let from_asn = self.asn.as_ref().map(|database| database.record(ip)).unwrap_or_default();
        let from_country =
            self.country.as_ref().map(|database| database.record(ip)).unwrap_or_default();
        let (asn, as_name) = match from_asn.asn() {
            Some(asn) => (Some(asn), from_asn.as_name()),
            None => (from_country.asn(), from_country.as_name()),
        };
        let country = from_country.country().or_else(|| from_asn.country());
        Location { asn, as_name, country }
    }
}

impl fmt::Debug for Geo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Geo").field("asn", &self.asn).field("country", &self.country).finish()
    }
}

/// One opened MMDB file.
struct Database {
    path: PathBuf,
    reader: maxminddb::Reader<Vec<u8>>,
}

impl Database {
    fn open(path: &Path) -> Result<Database, Error> {
        let failed = |reason: String| Error::Geo { path: path.to_owned(), reason };
        let len = fs::metadata(path).map_err(|error| failed(error.to_string()))?.len();
        if len > MAX_FILE_LEN {
            return Err(failed(format!("{len} bytes is over the limit of {MAX_FILE_LEN}")));
        }
        let bytes = fs::read(path).map_err(|error| failed(error.to_string()))?;
        // `from_source` finds and decodes the metadata at the end of the file and checks that the
        // search tree it describes fits in the file, so a truncated file fails here.
        let reader = maxminddb::Reader::from_source(bytes)
            .map_err(|error| failed(format!("not a valid MaxMind DB file: {error}")))?;
        Ok(Database { path: path.to_owned(), reader })
    }

    /// Returns the file's record for `ip`, empty on a miss or a record that does not decode.
    fn record(&self, ip: IpAddr) -> GeoRecord {
        let found = self.reader.lookup(ip).and_then(|result| result.decode::<GeoRecord>());
        match found {
            Ok(Some(record)) => record,
            // A miss, an IPv6 address in an IPv4-only file, or a record of another shape.
            Ok(None) | Err(_) => GeoRecord::default(),
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path)
            .field("database_type", &self.reader.metadata().database_type)
            .finish_non_exhaustive()
    }
}

/// The fields of every supported layout; unknown fields (names, cities, coordinates) are skipped.
#[derive(Debug, Default, Deserialize)]
struct GeoRecord {
    autonomous_system_number: Option<Number>,
    autonomous_system_organization: Option<String>,
    country: Option<CountryRecord>,
    registered_country: Option<CountryRecord>,
    country_code: Option<String>,
}

/// `country` and `registered_country` in the GeoLite2 layout.
#[derive(Debug, Default, Deserialize)]
struct CountryRecord {
    iso_code: Option<String>,
}

/// An AS number as an integer of any width, or as decimal text (some converted files hold it so).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Number {
    Integer(u64),
    Text(String),
}

impl GeoRecord {
    fn asn(&self) -> Option<u32> {
        let number = match self.autonomous_system_number.as_ref()? {
            Number::Integer(number) => u32::try_from(*number).ok()?,
            Number::Text(text) => text.trim().trim_start_matches("AS").parse().ok()?,
        };
        (number != 0).then_some(number)
    }

    fn as_name(&self) -> Option<String> {
        let name = self.autonomous_system_organization.as_deref()?.trim();
        (!name.is_empty()).then(|| name.to_owned())
    }

    fn country(&self) -> Option<String> {
        let nested = |country: &Option<CountryRecord>| {
            country.as_ref().and_then(|country| country.iso_code.as_deref()).and_then(country_code)
        };
        nested(&self.country)
            .or_else(|| self.country_code.as_deref().and_then(country_code))
            .or_else(|| nested(&self.registered_country))
    }
}

/// Returns an ISO 3166-1 alpha-2 code in upper case, if `text` is two ASCII letters.
fn country_code(text: &str) -> Option<String> {
    let is_code = text.len() == 2 && text.bytes().all(|byte| byte.is_ascii_alphabetic());
    is_code.then(|| text.to_ascii_uppercase())
}

impl crate::Locator for Geo {
    fn asn(&self, address: IpAddr) -> Option<u32> {
        self.lookup(address).asn
    }

    fn country(&self, address: IpAddr) -> Option<String> {
        self.lookup(address).country
    }
}
