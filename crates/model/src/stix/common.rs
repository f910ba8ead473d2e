//! Properties shared by many STIX objects (external references, kill chain phases, granular
//! markings) and the machinery that turns a JSON object into a typed STIX object without
//! losing any property.

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::error::{Error, ErrorKind};
use super::id::StixId;
use super::timestamp::Timestamp;

/// A pointer to non-STIX information (STIX 2.1 section 2.5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalReference {
    /// The name of the source, such as `capec` or `cve`.
    pub source_name: String,
    /// A human-readable description.
    #[serde(default, deserialize_with = "non_null", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A URL of the external reference.
    #[serde(default, deserialize_with = "non_null", skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Hashes of the content at `url`, keyed by algorithm name (`SHA-256`).
    #[serde(default, deserialize_with = "non_null", skip_serializing_if = "Option::is_none")]
    pub hashes: Option<Map<String, Value>>,
    /// The identifier in the external source, such as `CAPEC-98`.
    #[serde(default, deserialize_with = "non_null", skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Any other property, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A phase of a kill chain (STIX 2.1 section 2.8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillChainPhase {
    /// The name of the kill chain, such as `lockheed-martin-cyber-kill-chain`.
    pub kill_chain_name: String,
    /// The name of the phase, such as `reconnaissance`.
    pub phase_name: String,
    /// Any other property, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A marking applied to some properties of an object only (STIX 2.1 section 7.2.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GranularMarking {
    /// The language of the marked text, for language markings.
    #[serde(default, deserialize_with = "non_null", skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// The marking definition that applies.
    #[serde(default, deserialize_with = "non_null", skip_serializing_if = "Option::is_none")]
    pub marking_ref: Option<StixId>,
    /// Selectors of the marked properties, such as `description` or `labels.[1]`.
    pub selectors: Vec<String>,
    /// Any other property, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Deserialises a JSON string with `parse`, reading it in place where it has no escapes; a failure
/// is reported with the error's reason, and any other JSON value as "expected a string".
pub(crate) fn parse_string<'de, D: Deserializer<'de>, T>(
    deserializer: D,
    parse: fn(&str) -> Result<T, Error>,
) -> Result<T, D::Error> {
    struct ParseVisitor<T>(fn(&str) -> Result<T, Error>);

    impl<T> Visitor<'_> for ParseVisitor<T> {
        type Value = T;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            // The words of serde's own `String` visitor, so messages stay as they were.
            formatter.write_str("a string")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
            (self.0)(text).map_err(|error| E::custom(error.reason()))
        }
    }

    deserializer.deserialize_str(ParseVisitor(parse))
}

// Rejects `null` for an optional property, so that a null never turns silently into an absent
// property (which would break round-tripping).
fn non_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// Access to what every STIX object has, implemented by each object type.
pub(crate) trait Common {
    fn id(&self) -> &StixId;
    fn spec_version(&self) -> Option<&str>;
    fn created(&self) -> Option<&Timestamp> {
        None
    }
    fn modified(&self) -> Option<&Timestamp> {
        None
    }
    fn created_by_ref(&self) -> Option<&StixId> {
        None
    }
    fn object_marking_refs(&self) -> &[StixId];
    fn granular_markings(&self) -> &[GranularMarking];
    fn confidence(&self) -> Option<u8> {
        None
    }
}

/// A typed object with a bag of other properties.
pub(crate) trait Extra {
    fn extra_mut(&mut self) -> &mut Map<String, Value>;
}

/// Tells whether a top-level property value is one a typed field cannot hold exactly:
/// `null`, `[]` or `{}` (a typed list or map would read them as absent and never write them).
fn is_empty_value(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Bool(_) | Value::Number(_) | Value::String(_) => false,
    }
}

/// Deserialises a typed object from its properties (without `type`).
///
/// Properties whose value is `null`, `[]` or `{}` are set aside and put into the object's
/// `extra` as they were, so they round-trip; the typed field stays empty. A failure names the
/// property it happened in.
pub(crate) fn typed_from_properties<T: DeserializeOwned + Extra>(
    mut properties: Map<String, Value>,
) -> Result<T, Error> {
    let mut set_aside = Map::new();
    properties.retain(|name, value| {
        let keep = !is_empty_value(value);
        if !keep {
            set_aside.insert(name.clone(), value.take());
        }
        keep
    });
    let mut failed_key = None;
    let deserializer = KeyedMap { entries: properties.into_iter(), failed_key: &mut failed_key };
    match T::deserialize(deserializer) {
        Ok(mut object) => {
            object.extra_mut().extend(set_aside);
            Ok(object)
        }
        Err(error) => Err(object_error(&error, failed_key)),
    }
}

/// Turns a serde error into ours, naming the property that failed or is missing.
pub(crate) fn object_error(error: &serde_json::Error, failed_key: Option<String>) -> Error {
    let reason = error.to_string();
    let missing = reason
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_owned());
    match (failed_key, missing) {
        (Some(field), _) => Error::new(ErrorKind::Object, reason).with_field(field),
        (None, Some(field)) => Error::new(ErrorKind::Object, "missing").with_field(field),
        (None, None) => Error::new(ErrorKind::Object, reason),
    }
}

// A deserializer over a JSON object's members that records which member's value failed, since
// serde_json's own errors do not say.
struct KeyedMap<'a> {
    entries: serde_json::map::IntoIter,
    failed_key: &'a mut Option<String>,
}

impl<'de> Deserializer<'de> for KeyedMap<'_> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(KeyedMapAccess {
            entries: self.entries,
            pending_value: None,
            failed_key: self.failed_key,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct KeyedMapAccess<'a> {
    entries: serde_json::map::IntoIter,
    pending_value: Option<Value>,
    failed_key: &'a mut Option<String>,
}

impl<'de> MapAccess<'de> for KeyedMapAccess<'_> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, value)) = self.entries.next() else { return Ok(None) };
        self.pending_value = Some(value);
        *self.failed_key = Some(key.clone());
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let value =
            self.pending_value.take().ok_or_else(|| de::Error::custom("value without key"))?;
        let result = seed.deserialize(value)?;
        *self.failed_key = None;
        Ok(result)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// Declares an SDO type: the common properties of STIX 2.1 section 3.2 and the type's own.
macro_rules! sdo {
    (
        $(#[$struct_meta:meta])*
        pub struct $name:ident($type_name:literal) {
            required {
                $( $(#[$req_meta:meta])* $req:ident: $req_ty:ty, )*
            }
            optional {
                $( $(#[$opt_meta:meta])* $opt:ident: $opt_ty:ty, )*
            }
        }
    ) => {
        $(#[$struct_meta])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            /// The STIX version, `2.1`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub spec_version: Option<String>,
            /// The identifier.
            pub id: $crate::stix::StixId,
            /// The identity that created the object.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub created_by_ref: Option<$crate::stix::StixId>,
            /// When this object was first created.
            pub created: $crate::stix::Timestamp,
            /// When this version of the object was created.
            pub modified: $crate::stix::Timestamp,
            /// Whether the object is revoked.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub revoked: Option<bool>,
            /// Free terms that classify the object.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub labels: Vec<String>,
            /// The creator's confidence in the object, 0 to 100.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub confidence: Option<u8>,
            /// The language of the text properties (RFC 5646).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub lang: Option<String>,
            /// References to non-STIX information.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub external_references: Vec<$crate::stix::ExternalReference>,
            /// The marking definitions that apply to the whole object.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub object_marking_refs: Vec<$crate::stix::StixId>,
            /// The marking definitions that apply to some properties.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub granular_markings: Vec<$crate::stix::GranularMarking>,
            /// Extensions, keyed by extension name or extension-definition id.
            #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
            pub extensions: serde_json::Map<String, serde_json::Value>,
            $( $(#[$req_meta])* pub $req: $req_ty, )*
            $(
                $(#[$opt_meta])*
                #[serde(default, skip_serializing_if = "crate::stix::common::Absent::is_absent")]
                pub $opt: $opt_ty,
            )*
            /// Every other property (custom ones included), kept as given. It also holds the
            /// properties that were `null`, `[]` or `{}` in the input, whose typed field is then
            /// empty; remove such a name from here before setting its typed field.
            #[serde(flatten)]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }

        impl $name {
            /// The value of `type` for this object.
            pub const TYPE: &'static str = $type_name;
        }

        impl $crate::stix::common::Common for $name {
            fn id(&self) -> &$crate::stix::StixId {
                &self.id
            }
            fn spec_version(&self) -> Option<&str> {
                self.spec_version.as_deref()
            }
            fn created(&self) -> Option<&$crate::stix::Timestamp> {
                Some(&self.created)
            }
            fn modified(&self) -> Option<&$crate::stix::Timestamp> {
                Some(&self.modified)
            }
            fn created_by_ref(&self) -> Option<&$crate::stix::StixId> {
                self.created_by_ref.as_ref()
            }
            fn object_marking_refs(&self) -> &[$crate::stix::StixId] {
                &self.object_marking_refs
            }
            fn granular_markings(&self) -> &[$crate::stix::GranularMarking] {
                &self.granular_markings
            }
            fn confidence(&self) -> Option<u8> {
                self.confidence
            }
        }

        impl $crate::stix::common::Extra for $name {
            fn extra_mut(&mut self) -> &mut serde_json::Map<String, serde_json::Value> {
                &mut self.extra
            }
        }
    };
}

/// Declares an SCO type: the common properties of STIX 2.1 section 3.3 and the type's own.
macro_rules! sco {
    (
        $(#[$struct_meta:meta])*
        pub struct $name:ident($type_name:literal) {
            required {
                $( $(#[$req_meta:meta])* $req:ident: $req_ty:ty, )*
            }
            optional {
                $( $(#[$opt_meta:meta])* $opt:ident: $opt_ty:ty, )*
            }
        }
    ) => {
        $(#[$struct_meta])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            /// The STIX version; `2.1` when absent.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub spec_version: Option<String>,
            /// The identifier.
            pub id: $crate::stix::StixId,
            /// The marking definitions that apply to the whole object.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub object_marking_refs: Vec<$crate::stix::StixId>,
            /// The marking definitions that apply to some properties.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub granular_markings: Vec<$crate::stix::GranularMarking>,
            /// Whether the values are defanged.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub defanged: Option<bool>,
            /// Extensions, keyed by extension name or extension-definition id.
            #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
            pub extensions: serde_json::Map<String, serde_json::Value>,
            $( $(#[$req_meta])* pub $req: $req_ty, )*
            $(
                $(#[$opt_meta])*
                #[serde(default, skip_serializing_if = "crate::stix::common::Absent::is_absent")]
                pub $opt: $opt_ty,
            )*
            /// Every other property (custom ones included), kept as given. It also holds the
            /// properties that were `null`, `[]` or `{}` in the input, whose typed field is then
            /// empty; remove such a name from here before setting its typed field.
            #[serde(flatten)]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }

        impl $name {
            /// The value of `type` for this object.
            pub const TYPE: &'static str = $type_name;
        }

        impl $crate::stix::common::Common for $name {
            fn id(&self) -> &$crate::stix::StixId {
                &self.id
            }
            fn spec_version(&self) -> Option<&str> {
                self.spec_version.as_deref()
            }
            fn object_marking_refs(&self) -> &[$crate::stix::StixId] {
                &self.object_marking_refs
            }
            fn granular_markings(&self) -> &[$crate::stix::GranularMarking] {
                &self.granular_markings
            }
        }

        impl $crate::stix::common::Extra for $name {
            fn extra_mut(&mut self) -> &mut serde_json::Map<String, serde_json::Value> {
                &mut self.extra
            }
        }
    };
}

pub(crate) use {sco, sdo};

/// An optional property's "not there" test, for `skip_serializing_if`.
pub(crate) trait Absent {
    fn is_absent(&self) -> bool;
}

impl<T> Absent for Option<T> {
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

impl<T> Absent for Vec<T> {
    fn is_absent(&self) -> bool {
        self.is_empty()
    }
}

impl<K, V> Absent for std::collections::BTreeMap<K, V> {
    fn is_absent(&self) -> bool {
        self.is_empty()
    }
}

impl Absent for Map<String, Value> {
    fn is_absent(&self) -> bool {
        self.is_empty()
    }
}
