//! STIX identifiers (`<type>--<uuid>`) and the deterministic ones: UUIDv5 ids of Cyber-observable
//! Objects (STIX 2.1 section 2.9) and of watchfire's own indicators.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::error::{Error, ErrorKind};

/// The namespace of deterministic SCO ids, fixed by STIX 2.1 section 2.9.
pub const SCO_NAMESPACE: Uuid = uuid::uuid!("00abedb4-aa42-466c-9c01-fed23315a9b7");

/// watchfire's namespace for deterministic indicator ids (see [`indicator_id`]).
///
/// Generated once at random (UUIDv4) for this purpose; changing it changes every indicator id
/// watchfire ever minted, so it never changes.
pub const WATCHFIRE_NAMESPACE: Uuid = uuid::uuid!("69a137d2-1f84-4d7a-aa47-e611d1d0b4ab");

/// A STIX identifier: an object type and a UUID joined by `--`.
///
/// The text is kept as given (upper-case hex digits included), and equality is equality of text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StixId {
    // Invariant: `text` is `<type>--<uuid>` where `<type>` passes `is_valid_type_name`, `<uuid>` is
    // 36 characters in the hyphenated 8-4-4-4-12 hex form, and `type_len` is the length of `<type>`.
    text: Box<str>,
    type_len: usize,
}

impl StixId {
    /// Parses `<type>--<uuid>`. The type is 3 to 250 characters of `a-z`, `0-9` and `-`,
    /// starting with a letter and not ending in `-`; the UUID is hyphenated hex of any version.
    pub fn parse(text: &str) -> Result<StixId, Error> {
        // The common case first, without searching: the uuid is the last 36 bytes, after `--`.
        // Where this holds, the last `--` of the text is that one (a uuid holds no `--`), so the
        // general split below would give the same parts.
        let type_len = text.len().saturating_sub(38);
        if let Some((object_type, rest)) = text.split_at_checked(type_len)
            && let Some(uuid_text) = rest.strip_prefix("--")
            && is_valid_type_name(object_type)
            && is_hyphenated_uuid(uuid_text)
        {
            return Ok(StixId { text: text.into(), type_len });
        }
        let invalid =
            |reason: &str| Error::new(ErrorKind::Id, format!("invalid id {text:?}: {reason}"));
        let Some((object_type, uuid_text)) = text.rsplit_once("--") else {
            return Err(invalid("expected <type>--<uuid>"));
        };
        if !is_valid_type_name(object_type) {
            return Err(invalid("bad object type"));
        }
        if !is_hyphenated_uuid(uuid_text) {
            return Err(invalid("bad uuid"));
        }
        Ok(StixId { text: text.into(), type_len: object_type.len() })
    }

    /// Builds the identifier of an object of `object_type` with `uuid`, written in lower case.
    pub fn new(object_type: &str, uuid: Uuid) -> Result<StixId, Error> {
        if !is_valid_type_name(object_type) {
            return Err(Error::new(ErrorKind::Id, format!("invalid object type {object_type:?}")));
        }
        let text = format!("{object_type}--{}", uuid.hyphenated());
        Ok(StixId { text: text.into(), type_len: object_type.len() })
    }

    /// Returns the object type part, `indicator` in `indicator--…`.
    pub fn object_type(&self) -> &str {
        &self.text[..self.type_len]
    }

    /// Returns the UUID part.
    pub fn uuid(&self) -> Uuid {
        // Cannot fail: the invariant says the part after `--` is a hyphenated UUID.
        Uuid::try_parse(&self.text[self.type_len + 2..]).expect("validated uuid")
    }

    /// Returns the whole identifier text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Tells whether `name` is a valid STIX object type name (section 3.1 of STIX 2.1 part 1, as
/// the official JSON schemas check it).
pub(crate) fn is_valid_type_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=250).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || *byte == b'-')
        && bytes[bytes.len() - 1] != b'-'
}

fn is_hyphenated_uuid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(position, byte)| match position {
            8 | 13 | 18 | 23 => byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        })
}

impl fmt::Display for StixId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for StixId {
    type Err = Error;

    fn from_str(text: &str) -> Result<StixId, Error> {
        StixId::parse(text)
    }
}

impl Serialize for StixId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for StixId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<StixId, D::Error> {
        super::common::parse_string(deserializer, StixId::parse)
    }
}

/// Returns the ID Contributing Properties of an SCO type (STIX 2.1 part 6), or `None` for a type
/// that has none (`process`) or is not a standard SCO.
pub fn id_contributing_properties(object_type: &str) -> Option<&'static [&'static str]> {
    Some(match object_type {
        "artifact" => &["hashes", "payload_bin"],
        "autonomous-system" => &["number"],
        "directory" => &["path"],
        "domain-name" | "email-addr" | "ipv4-addr" | "ipv6-addr" | "mac-addr" | "url" => &["value"],
        "email-message" => &["from_ref", "subject", "body"],
        "file" => &["hashes", "name", "extensions", "parent_directory_ref"],
        "mutex" => &["name"],
        "network-traffic" => &[
            "start",
            "end",
            "src_ref",
            "dst_ref",
            "src_port",
            "dst_port",
            "protocols",
            "extensions",
        ],
        "software" => &["name", "cpe", "swid", "vendor", "version"],
        "user-account" => &["account_type", "user_id", "account_login"],
        "windows-registry-key" => &["key", "values"],
        "x509-certificate" => &["hashes", "serial_number"],
        _ => return None,
    })
}

/// Computes the deterministic id of an SCO from its properties (STIX 2.1 section 2.9).
///
/// The ID Contributing Properties of `object_type` that are present are gathered into one JSON
/// object, which is serialised in the JSON Canonicalization Scheme (RFC 8785) and hashed as a
/// UUIDv5 in [`SCO_NAMESPACE`]. Of `hashes`, only one entry contributes: `MD5` if present, else
/// `SHA-1`, `SHA-256`, `SHA-512`, else the first entry. Returns `None` when the type has no
/// contributing properties or none is present; the specification then asks for a UUIDv4.
pub fn sco_id(object_type: &str, properties: &Map<String, Value>) -> Option<StixId> {
    let names = id_contributing_properties(object_type)?;
    let mut contributing = Map::new();
    for name in names {
        let Some(value) = properties.get(*name) else { continue };
        let value = match (*name, value) {
            ("hashes", Value::Object(hashes)) => {
                let preferred = ["MD5", "SHA-1", "SHA-256", "SHA-512"]
                    .into_iter()
                    .find_map(|algorithm| hashes.get_key_value(algorithm))
                    .or_else(|| hashes.iter().next());
                let Some((algorithm, hash)) = preferred else { continue };
                Value::Object(Map::from_iter([(algorithm.clone(), hash.clone())]))
            }
            _ => value.clone(),
        };
        contributing.insert((*name).to_owned(), value);
    }
    if contributing.is_empty() {
        return None;
    }
    let mut canonical = String::new();
    write_canonical_json(&mut canonical, &Value::Object(contributing));
    let uuid = Uuid::new_v5(&SCO_NAMESPACE, canonical.as_bytes());
    StixId::new(object_type, uuid).ok()
}

/// Computes watchfire's deterministic indicator id for `observable` as claimed by `source`.
///
/// The id is a UUIDv5 in [`WATCHFIRE_NAMESPACE`] over `source NUL kind NUL canonical value`, so
/// importing the same observable from the same source twice yields the same indicator, and
/// two sources yield two indicators.
pub fn indicator_id(source: &str, observable: &crate::Observable) -> StixId {
    let name = [source, observable.kind().as_str(), observable.value()].join("\0");
    let uuid = Uuid::new_v5(&WATCHFIRE_NAMESPACE, name.as_bytes());
    StixId { text: format!("indicator--{}", uuid.hyphenated()).into(), type_len: "indicator".len() }
}

/// Writes `value` in the JSON Canonicalization Scheme (RFC 8785): no whitespace, object members
/// sorted by the UTF-16 code units of their names, strings escaped as ECMAScript does.
///
/// Numbers are written as serde_json writes them, which matches RFC 8785 for integers (the only
/// numbers among ID Contributing Properties) but not for every float.
pub fn write_canonical_json(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|(left, _), (right, _)| left.encode_utf16().cmp(right.encode_utf16()));
            out.push('{');
            for (position, (name, member)) in members.into_iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                write_canonical_string(out, name);
                out.push(':');
                write_canonical_json(out, member);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (position, item) in items.iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                write_canonical_json(out, item);
            }
            out.push(']');
        }
        Value::String(text) => write_canonical_string(out, text),
        Value::Null | Value::Bool(_) | Value::Number(_) => out.push_str(&value.to_string()),
    }
}

// RFC 8785 section 3.2.2.2: escape `"` and `\`, the short forms \b \t \n \f \r, other control
// characters as \u00xx in lower-case hex, and nothing else.
fn write_canonical_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            control if u32::from(control) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", u32::from(control)));
            }
            other => out.push(other),
        }
    }
    out.push('"');
}
