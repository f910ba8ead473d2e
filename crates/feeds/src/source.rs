//! Sources a node pulls on its own: their configuration (`source` documents of the store's
//! directory) and their state (`source_state` documents: the conditional-GET validators, the
//! TAXII cursor, the MISP event timestamps, and the health).
//!
//! Credentials are never stored: a source names the environment variables that hold them, and
//! they are read at each pull (ARCHITECTURE.md, "feeds").

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use watchfire_formats::catalogue::CatalogueEntry;
use watchfire_model::record::{Category, Confidence, Reliability};
use watchfire_model::stix::{Precision, Timestamp};
use watchfire_model::tlp::Tlp;
use watchfire_store::{Put, Store};

use crate::Error;

/// The directory kind of source configurations.
pub const SOURCE_KIND: &str = "source";
/// The directory kind of source states.
pub const STATE_KIND: &str = "source_state";

/// How a source is pulled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SourceKind {
    /// A feed URL in any readable format, fetched with a conditional GET.
    Http,
    /// A MISP feed: `manifest.json`, then the events that are new or changed.
    Misp,
    /// A TAXII 2.1 collection (its URL: `{api_root}collections/{id}/`), pulled by `added_after`.
    Taxii,
}

impl SourceKind {
    /// Returns the kind's name as the CLI and the API write it.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Http => "http",
            SourceKind::Misp => "misp",
            SourceKind::Taxii => "taxii",
        }
    }
}

impl std::str::FromStr for SourceKind {
    type Err = String;

    fn from_str(text: &str) -> Result<SourceKind, String> {
        match text {
            "http" => Ok(SourceKind::Http),
            "misp" => Ok(SourceKind::Misp),
            "taxii" => Ok(SourceKind::Taxii),
            _ => Err(format!("unknown source kind {text:?}: expected http, misp or taxii")),
        }
    }
}

/// How a source authenticates. Only the names of environment variables are stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Auth {
    /// No credentials.
    #[default]
    None,
    /// HTTP Basic: a user name and the variable holding the password.
    Basic {
        /// The user name.
        user: String,
        /// The environment variable holding the password.
        password_env: String,
    },
    /// A token, sent as `Authorization: Bearer <token>` or in a header of the provider's choice.
    Token {
        /// The environment variable holding the token.
        token_env: String,
        /// The header that carries the bare token (`Auth-Key`); `None` sends a Bearer token.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
    },
}

impl Auth {
    /// Returns the header to send, read from the environment at call time; an error names the
    /// variable that is missing (never its value).
    pub fn header(&self) -> Result<Option<(String, String)>, String> {
        let read = |variable: &str| {
            std::env::var(variable)
                .map_err(|_| format!("environment variable {variable} is not set or not UTF-8"))
        };
        Ok(match self {
            Auth::None => None,
            Auth::Basic { user, password_env } => {
                let password = read(password_env)?;
                let encoded = base64_encode(format!("{user}:{password}").as_bytes());
                Some(("Authorization".to_owned(), format!("Basic {encoded}")))
            }
            Auth::Token { token_env, header: None } => {
                Some(("Authorization".to_owned(), format!("Bearer {}", read(token_env)?)))
            }
            Auth::Token { token_env, header: Some(header) } => {
                Some((header.clone(), read(token_env)?))
            }
        })
    }

    /// Returns the kind of credentials, for listings (`none`, `basic`, `token`).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Basic { .. } => "basic",
            Auth::Token { .. } => "token",
        }
    }
}

/// One source's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Its unique name, also the `source` of every fact it brings (see [`check_name`]).
    pub name: String,
    /// How it is pulled.
    pub kind: SourceKind,
    /// The feed URL (http), the feed directory (misp) or the collection URL (taxii).
    pub url: String,
    /// The format name of an http feed; `None` detects it from the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Seconds between pulls.
    pub interval_secs: u64,
    /// Seconds one request may take, body included.
    pub timeout_secs: u64,
    /// The TLP of records that carry none.
    pub tlp: Tlp,
    /// The category of indicators that carry none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// The confidence of indicators that carry none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    /// How far it is trusted (the Admiralty code's letter); it weighs in the severity of the
    /// alerts it raises.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reliability: Option<Reliability>,
    /// Whether the scheduler pulls it.
    pub enabled: bool,
    /// Its credentials (names of environment variables).
    #[serde(default)]
    pub auth: Auth,
}

impl Source {
    /// Returns an enabled source with the default interval (1 h), timeout (60 s) and TLP (CLEAR).
    pub fn new(name: &str, kind: SourceKind, url: &str) -> Source {
        Source {
            name: name.to_owned(),
            kind,
            url: url.to_owned(),
            format: None,
            interval_secs: 3600,
            timeout_secs: 60,
            tlp: Tlp::Clear,
            category: None,
            confidence: None,
            reliability: None,
            enabled: true,
            auth: Auth::None,
        }
    }

    /// Returns the source of a catalogue entry, with the entry's defaults.
    pub fn from_catalogue(entry: &CatalogueEntry) -> Source {
        let kind = if entry.format == "misp-feed" { SourceKind::Misp } else { SourceKind::Http };
        Source {
            format: (kind == SourceKind::Http).then(|| entry.format.clone()),
            interval_secs: entry.refresh.get(),
            tlp: entry.tlp,
            category: entry.category,
            confidence: Some(entry.confidence),
            reliability: None,
            ..Source::new(&entry.name, kind, &entry.url)
        }
    }

    /// Returns the interval between pulls.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.interval_secs.max(1))
    }

    /// Returns the time one request may take.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }

    /// Checks what a stored or new source must hold: a valid name, an http(s) URL, a known format.
    pub fn check(&self) -> Result<(), Error> {
        let invalid = |reason: String| Error::InvalidSource { name: self.name.clone(), reason };
        check_name(&self.name).map_err(invalid)?;
        let is_http = self.url.starts_with("http://") || self.url.starts_with("https://");
        if !is_http {
            return Err(invalid(format!("url {:?} is not http:// or https://", self.url)));
        }
        if let Some(format) = &self.format {
            if self.kind != SourceKind::Http {
                return Err(invalid(format!(
                    "a format applies to http sources, not {}",
                    self.kind
                )));
            }
            watchfire_formats::format_by_name(format)
                .map_err(|error| invalid(error.to_string()))?;
        }
        if self.kind == SourceKind::Taxii && !self.url.contains("/collections/") {
            return Err(invalid(format!(
                "url {:?} is no TAXII collection URL ({{api_root}}collections/{{id}}/)",
                self.url
            )));
        }
        if self.interval_secs == 0 || self.timeout_secs == 0 {
            return Err(invalid("interval and timeout must be at least 1 s".to_owned()));
        }
        Ok(())
    }
}

/// Checks a source name: 1 to 64 characters of `a-z`, `A-Z`, `0-9`, `-`, `_`, `.`.
pub fn check_name(name: &str) -> Result<(), String> {
    let is_name = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"-_.".contains(&byte));
    match is_name {
        true => Ok(()),
        false => Err(format!("bad source name {name:?}: 1 to 64 of a-z, A-Z, 0-9, '-', '_', '.'")),
    }
}

/// What a source's pulls left behind: the validators and cursors of the next pull, and its health.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SourceState {
    /// The `ETag` of the last stored response (http feed, MISP manifest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The `Last-Modified` of the last stored response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// The TAXII `added_after` cursor: the last `X-TAXII-Date-Added-Last` whose page is stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// The MISP events stored, by uuid, with the manifest timestamp (Unix seconds) they had.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub misp_events: BTreeMap<String, i64>,
    /// How the pulls went.
    pub health: Health,
}

/// A source's health, as `feeds list` and `GET /api/v1/feeds` show it. Times are microseconds
/// since the Unix epoch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Health {
    /// When the last pull ended.
    pub last_run: Option<i64>,
    /// When the last pull succeeded.
    pub last_success: Option<i64>,
    /// Why the last pull failed, when it did (cleared by a success).
    pub last_error: Option<String>,
    /// Records read by the last successful pull that read anything.
    pub records: u64,
    /// Rejected lines or objects of that pull.
    pub rejects: u64,
    /// New versions that pull stored.
    pub new_versions: u64,
    /// Failed pulls in a row.
    pub failures: u32,
    /// Whether the circuit breaker is open: the source failed too often and waits out a cool-down.
    pub circuit_open: bool,
    /// When the scheduler pulls it next (0: at once).
    pub next_due: i64,
}

/// A source with its health, as `feeds list --json` and `GET /api/v1/feeds` show it: times in
/// RFC 3339, credentials by kind only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Listing {
    /// The name.
    pub name: String,
    /// How it is pulled.
    pub kind: SourceKind,
    /// Its URL.
    pub url: String,
    /// Its format (http feeds), when named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// How far it is trusted (the Admiralty code's letter); it weighs in the severity of the
    /// alerts it raises.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reliability: Option<Reliability>,
    /// Whether the scheduler pulls it.
    pub enabled: bool,
    /// Seconds between pulls.
    pub interval_secs: u64,
    /// The TLP of records that carry none.
    pub tlp: Tlp,
    /// The kind of credentials: `none`, `basic` or `token`.
    pub auth: &'static str,
    /// When the last pull succeeded.
    pub last_success: Option<String>,
    /// Why the last pull failed, when it did.
    pub last_error: Option<String>,
    /// Records of the last pull that read anything.
    pub records: u64,
    /// Rejects of that pull.
    pub rejects: u64,
    /// New versions of that pull.
    pub new_versions: u64,
    /// Failed pulls in a row.
    pub failures: u32,
    /// Whether the circuit breaker is open.
    pub circuit_open: bool,
    /// When the scheduler pulls it next; `None`: at once.
    pub next_due: Option<String>,
}

/// Lists every source with its health, ordered by name.
pub fn listing(store: &dyn Store) -> Result<Vec<Listing>, Error> {
    let mut listed = Vec::new();
    for source in list(store)? {
        let health = state(store, &source.name)?.health;
        listed.push(Listing {
            auth: source.auth.kind_name(),
            last_success: health.last_success.map(rfc3339),
            last_error: health.last_error,
            records: health.records,
            rejects: health.rejects,
            new_versions: health.new_versions,
            failures: health.failures,
            circuit_open: health.circuit_open,
            next_due: (health.next_due > 0).then(|| rfc3339(health.next_due)),
            name: source.name,
            kind: source.kind,
            url: source.url,
            format: source.format,
            reliability: source.reliability,
            enabled: source.enabled,
            interval_secs: source.interval_secs,
            tlp: source.tlp,
        });
    }
    Ok(listed)
}

/// Writes microseconds since the epoch as an RFC 3339 time to the second (`2026-01-02T03:04:05Z`).
pub fn rfc3339(micros: i64) -> String {
    let timestamp = Timestamp::from_unix_nanos(micros.saturating_mul(1000), Precision::Millis);
    let text = timestamp.as_str();
    match text.find('.') {
        Some(dot) => format!("{}Z", &text[..dot]),
        None => text.to_owned(),
    }
}

/// Reads every source, ordered by name.
pub fn list(store: &dyn Store) -> Result<Vec<Source>, Error> {
    let mut sources = Vec::new();
    for (key, document) in store.directory_list(SOURCE_KIND)? {
        sources.push(parse_document(&key, &document)?);
    }
    Ok(sources)
}

/// Reads the source `name`.
pub fn get(store: &dyn Store, name: &str) -> Result<Source, Error> {
    match store.directory_get(SOURCE_KIND, name)? {
        Some(document) => parse_document(name, &document),
        None => Err(Error::UnknownSource(name.to_owned())),
    }
}

/// Writes a source; with [`Put::Insert`], a name already taken is an error.
pub fn put(store: &dyn Store, source: &Source, mode: Put) -> Result<(), Error> {
    source.check()?;
    let document = serde_json::to_string(source).map_err(|error| Error::InvalidSource {
        name: source.name.clone(),
        reason: error.to_string(),
    })?;
    if !store.directory_put(SOURCE_KIND, &source.name, &document, mode)? {
        return Err(Error::InvalidSource {
            name: source.name.clone(),
            reason: "a source of that name exists".to_owned(),
        });
    }
    Ok(())
}

/// Deletes a source and its state; returns whether it existed.
pub fn remove(store: &dyn Store, name: &str) -> Result<bool, Error> {
    store.directory_delete(STATE_KIND, name)?;
    Ok(store.directory_delete(SOURCE_KIND, name)?)
}

/// Reads a source's state (the default when it was never pulled).
pub fn state(store: &dyn Store, name: &str) -> Result<SourceState, Error> {
    match store.directory_get(STATE_KIND, name)? {
        // A state that no longer parses (written by a newer build, say) starts over: the next
        // pull fetches everything again, which stores nothing new.
        Some(document) => Ok(serde_json::from_str(&document).unwrap_or_default()),
        None => Ok(SourceState::default()),
    }
}

/// Writes a source's state.
pub fn save_state(store: &dyn Store, name: &str, state: &SourceState) -> Result<(), Error> {
    // Cannot fail: the state holds strings, numbers and maps with string keys only.
    let document = serde_json::to_string(state).expect("a source state serialises");
    store.directory_put(STATE_KIND, name, &document, Put::Replace)?;
    Ok(())
}

fn parse_document(name: &str, document: &str) -> Result<Source, Error> {
    serde_json::from_str(document).map_err(|error| Error::InvalidSource {
        name: name.to_owned(),
        reason: format!("stored configuration does not parse: {error}"),
    })
}

/// Parses a duration: a number with a unit (`90s`, `30m`, `1h`, `1d`) or bare seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("bad duration {text:?}: no number"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("bad duration {text:?}: the unit is s, m, h or d")),
    };
    match number.checked_mul(scale) {
        Some(0) | None => Err(format!("bad duration {text:?}: from 1 s to years")),
        Some(seconds) => Ok(Duration::from_secs(seconds)),
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// Standard base64 with padding (RFC 4648 section 4), for the one Basic header.
fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let word = chunk
            .iter()
            .enumerate()
            .fold(0u32, |word, (i, byte)| word | (u32::from(*byte) << (16 - 8 * i)));
        for position in 0..4 {
            if position <= chunk.len() {
                out.push(char::from(ALPHABET[(word >> (18 - 6 * position)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_base64_as_rfc_4648() {
        // RFC 4648 section 10 test vectors.
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in cases {
            assert_eq!(base64_encode(input.as_bytes()), expected, "{input:?}");
        }
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("15"), Ok(Duration::from_secs(15)));
        for bad in ["", "h", "0s", "1w", "-1s", "99999999999999999999d", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn checks_names() {
        assert!(check_name("abusech-urlhaus_recent.v2").is_ok());
        for bad in ["", "a/b", "a b", "é", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
