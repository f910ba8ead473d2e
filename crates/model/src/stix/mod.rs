//! The STIX 2.1 object model: bundles, the SDOs, SROs, SCOs and marking definitions watchfire
//! works with, and every other object type kept as JSON.
//!
//! # Round-tripping
//!
//! Parsing and serialising again yields the same JSON value, property for property (member
//! order aside). Each typed object has an `extra` map with every property its Rust type does not
//! name, custom `x_` properties included; objects of other types are [`GenericObject`]s, which
//! keep all their properties. Identifiers and timestamps keep their exact text. A top-level
//! property that is `null`, `[]` or `{}` is kept in `extra` as given and its typed field is left
//! empty, since a typed optional field cannot tell "empty" from "absent". Inside nested typed
//! values (external references, kill chain phases, granular markings) `null` is rejected.
//!
//! # Versions
//!
//! [`Bundle::parse`] reads STIX 2.1 and STIX 2.0 bundles; 2.0 is rewritten as 2.1 by the rules
//! listed in the `upgrade` module (bundle `spec_version` dropped, `spec_version: "2.1"` on each
//! object, vocabulary `labels` moved to the `*_types` properties, `pattern_type: "stix"` and
//! `is_family: true` added). [`Bundle::parse_versioned`] also says which version it read.
//!
//! # Errors
//!
//! Parsing never panics. Every failure is an [`Error`] naming, where known, the object's index
//! in `objects`, its `id`, and the property. [`Bundle::parse_lenient`] keeps the good objects of
//! a bundle and returns the bad ones' errors beside them.

mod common;
mod convert;
mod error;
mod fast;
mod generic;
mod id;
mod marking;
mod sco;
mod sdo;
mod sro;
mod timestamp;
mod upgrade;

use serde::de::MapAccess;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use self::common::{Common, Extra, typed_from_properties};
pub use self::common::{ExternalReference, GranularMarking, KillChainPhase};
pub use self::convert::{equality_pattern, sco_for_observable};
pub use self::error::{Error, ErrorKind};
pub use self::generic::GenericObject;
pub use self::id::{
    SCO_NAMESPACE, StixId, WATCHFIRE_NAMESPACE, id_contributing_properties, indicator_id, sco_id,
    write_canonical_json,
};
pub use self::marking::{MarkingDefinition, TLP2_EXTENSION_ID};
pub use self::sco::{AutonomousSystem, DomainName, EmailAddr, File, Ipv4Addr, Ipv6Addr, Url};
pub use self::sdo::{
    AttackPattern, Campaign, CourseOfAction, Grouping, Identity, Incident, Indicator,
    Infrastructure, IntrusionSet, Location, Malware, Note, ObservedData, Opinion, Report,
    ThreatActor, Tool, Vulnerability,
};
pub use self::sro::{Relationship, Sighting};
pub use self::timestamp::{Precision, Timestamp};

/// The STIX version a bundle was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpecVersion {
    /// STIX 2.0, upgraded to 2.1 on reading.
    V2_0,
    /// STIX 2.1.
    V2_1,
}

macro_rules! stix_objects {
    ($( $(#[$meta:meta])* $variant:ident, )*) => {
        /// One STIX object of a bundle.
        #[non_exhaustive]
        #[derive(Clone, Debug, PartialEq)]
        pub enum StixObject {
            $( $(#[$meta])* $variant($variant), )*
            /// An object of any other type, kept as JSON.
            Other(GenericObject),
        }

        impl StixObject {
            fn common(&self) -> &dyn Common {
                match self {
                    $( StixObject::$variant(object) => object, )*
                    StixObject::Other(object) => object,
                }
            }

            /// Returns the value of `type`.
            pub fn object_type(&self) -> &str {
                match self {
                    $( StixObject::$variant(_) => $variant::TYPE, )*
                    StixObject::Other(object) => object.object_type(),
                }
            }

            // Reads an object of the given type: typed when it has a Rust type, else generic.
            fn from_typed_properties(
                object_type: &str,
                mut properties: Map<String, Value>,
            ) -> Result<StixObject, Error> {
                $(
                    if object_type == $variant::TYPE {
                        properties.remove("type");
                        return typed_from_properties(properties).map(StixObject::$variant);
                    }
                )*
                GenericObject::from_properties(properties).map(StixObject::Other)
            }

            // Reads the rest of an object of the given type straight from its JSON text when it has
            // a Rust type; `None` for the other types (see `fast`).
            fn from_typed_map<'de, A: MapAccess<'de>>(
                object_type: &str,
                rest: fast::Rest<A>,
            ) -> Result<Option<StixObject>, A::Error> {
                $(
                    if object_type == $variant::TYPE {
                        return $variant::deserialize(rest).map(|object| Some(StixObject::$variant(object)));
                    }
                )*
                Ok(None)
            }

            // Returns the map of other properties of a typed object; `None` for a generic one.
            fn extra_mut(&mut self) -> Option<&mut Map<String, Value>> {
                match self {
                    $( StixObject::$variant(object) => Some(object.extra_mut()), )*
                    StixObject::Other(_) => None,
                }
            }
        }

        impl Serialize for StixObject {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(
                        StixObject::$variant(object) => {
                            Tagged { object_type: $variant::TYPE, object }.serialize(serializer)
                        }
                    )*
                    StixObject::Other(object) => object.serialize(serializer),
                }
            }
        }
    };
}

stix_objects! {
    /// An `attack-pattern`.
    AttackPattern,
    /// An `autonomous-system`.
    AutonomousSystem,
    /// A `campaign`.
    Campaign,
    /// A `course-of-action`.
    CourseOfAction,
    /// A `domain-name`.
    DomainName,
    /// An `email-addr`.
    EmailAddr,
    /// A `file`.
    File,
    /// A `grouping`.
    Grouping,
    /// An `identity`.
    Identity,
    /// An `incident`.
    Incident,
    /// An `indicator`.
    Indicator,
    /// An `infrastructure`.
    Infrastructure,
    /// An `intrusion-set`.
    IntrusionSet,
    /// An `ipv4-addr`.
    Ipv4Addr,
    /// An `ipv6-addr`.
    Ipv6Addr,
    /// A `location`.
    Location,
    /// A `malware`.
    Malware,
    /// A `marking-definition`.
    MarkingDefinition,
    /// A `note`.
    Note,
    /// An `observed-data`.
    ObservedData,
    /// An `opinion`.
    Opinion,
    /// A `relationship`.
    Relationship,
    /// A `report`.
    Report,
    /// A `sighting`.
    Sighting,
    /// A `threat-actor`.
    ThreatActor,
    /// A `tool`.
    Tool,
    /// A `url`.
    Url,
    /// A `vulnerability`.
    Vulnerability,
}

// Writes `type` first, then the typed object's own properties.
#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "type")]
    object_type: &'a str,
    #[serde(flatten)]
    object: &'a T,
}

impl StixObject {
    /// Reads an object from all its properties, `type` included.
    pub fn from_properties(properties: Map<String, Value>) -> Result<StixObject, Error> {
        let object_type = match properties.get("type") {
            Some(Value::String(object_type)) => object_type.clone(),
            Some(_) => {
                return Err(Error::new(ErrorKind::Object, "expected a string").with_field("type"));
            }
            None => {
                return Err(Error::new(ErrorKind::Object, "missing").with_field("type"));
            }
        };
        let object = StixObject::from_typed_properties(&object_type, properties)?;
        object.check()?;
        Ok(object)
    }

    /// Reads an object straight from its JSON text, typed, when that is sure to give what
    /// [`StixObject::from_properties`] gives on the text parsed into a JSON map; returns `None`
    /// when it cannot be sure, and the caller then takes that general path (which also says what
    /// is wrong).
    ///
    /// It is two to three times as fast, and gives up on: text that is not a valid object, types
    /// without a Rust type (which become [`GenericObject`]s), and text holding `null`, `[]` or
    /// `{}` anywhere (even inside strings), since the general path keeps top-level empty values
    /// aside. It does not upgrade STIX 2.0: callers that read 2.0 upgrade before the general path.
    pub fn from_slice_fast(bytes: &[u8]) -> Option<StixObject> {
        fast::from_slice(bytes)
    }

    /// Returns the identifier.
    pub fn id(&self) -> &StixId {
        self.common().id()
    }

    /// Returns `spec_version`, if present.
    pub fn spec_version(&self) -> Option<&str> {
        self.common().spec_version()
    }

    /// Returns `created`, if the object has it.
    pub fn created(&self) -> Option<&Timestamp> {
        self.common().created()
    }

    /// Returns `modified`, if the object has it.
    pub fn modified(&self) -> Option<&Timestamp> {
        self.common().modified()
    }

    /// Returns `created_by_ref`, if present.
    pub fn created_by_ref(&self) -> Option<&StixId> {
        self.common().created_by_ref()
    }

    /// Returns `confidence`, if present.
    pub fn confidence(&self) -> Option<u8> {
        self.common().confidence()
    }

    /// Returns the marking definitions that apply to the whole object.
    pub fn object_marking_refs(&self) -> &[StixId] {
        self.common().object_marking_refs()
    }

    /// Returns the markings that apply to some properties.
    pub fn granular_markings(&self) -> &[GranularMarking] {
        self.common().granular_markings()
    }

    // Checks what serde cannot: the id names the object's own type, confidence is at most 100.
    fn check(&self) -> Result<(), Error> {
        if self.id().object_type() != self.object_type() {
            return Err(
                Error::new(ErrorKind::Object, "id does not match the type").with_field("id")
            );
        }
        if self.confidence().is_some_and(|confidence| confidence > 100) {
            return Err(
                Error::new(ErrorKind::Object, "confidence above 100").with_field("confidence")
            );
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for StixObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<StixObject, D::Error> {
        let properties = Map::deserialize(deserializer)?;
        StixObject::from_properties(properties).map_err(serde::de::Error::custom)
    }
}

/// Rewrites the properties of one object of a STIX 2.0 bundle as STIX 2.1, by the rules
/// [`Bundle::parse`] applies to each object of a 2.0 bundle (`spec_version: "2.1"` added,
/// vocabulary `labels` moved to the `*_types` properties, `pattern_type` and `is_family` added).
///
/// Streaming readers, which see a bundle's objects one at a time, use it before
/// [`StixObject::from_properties`].
pub fn upgrade_2_0_object(properties: &mut Map<String, Value>) {
    upgrade::upgrade_object(properties);
}

/// A STIX bundle: a container of objects (STIX 2.1 section 8).
#[derive(Clone, Debug, PartialEq)]
pub struct Bundle {
    /// The identifier, `bundle--…`.
    pub id: StixId,
    /// The objects, in the order given.
    pub objects: Vec<StixObject>,
    /// Every other property of the bundle, kept as given (an empty `objects: []` included).
    pub extra: Map<String, Value>,
}

/// A bundle read leniently: the good objects, and an error for each object left out.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedBundle {
    /// The bundle, without the rejected objects.
    pub bundle: Bundle,
    /// The version the bundle was written in.
    pub version: SpecVersion,
    /// Why each rejected object was left out; each error names its object index.
    pub rejects: Vec<Error>,
}

impl Bundle {
    /// Parses a STIX 2.1 or 2.0 bundle (2.0 is upgraded to 2.1); fails on the first bad object.
    pub fn parse(bytes: &[u8]) -> Result<Bundle, Error> {
        Bundle::parse_versioned(bytes).map(|(bundle, _)| bundle)
    }

    /// Parses like [`Bundle::parse`] and also returns the version the bundle was written in.
    pub fn parse_versioned(bytes: &[u8]) -> Result<(Bundle, SpecVersion), Error> {
        let parsed = Bundle::parse_lenient(bytes)?;
        match parsed.rejects.into_iter().next() {
            Some(error) => Err(error),
            None => Ok((parsed.bundle, parsed.version)),
        }
    }

    /// Parses a bundle, leaving out the objects that fail and reporting why. Fails only when the
    /// bytes are not JSON or not a bundle.
    pub fn parse_lenient(bytes: &[u8]) -> Result<ParsedBundle, Error> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|error| Error::new(ErrorKind::Json, format!("invalid json: {error}")))?;
        let Value::Object(mut properties) = value else {
            return Err(Error::new(ErrorKind::Bundle, "expected a json object"));
        };
        match properties.remove("type") {
            Some(Value::String(object_type)) if object_type == "bundle" => {}
            _ => {
                return Err(Error::new(ErrorKind::Bundle, "expected \"bundle\"").with_field("type"));
            }
        }
        let id = match properties.remove("id") {
            Some(Value::String(text)) => {
                StixId::parse(&text).map_err(|error| error.with_field("id"))?
            }
            _ => {
                return Err(
                    Error::new(ErrorKind::Bundle, "missing or not a string").with_field("id")
                );
            }
        };
        if id.object_type() != "bundle" {
            return Err(Error::new(ErrorKind::Bundle, "id does not name a bundle").with_field("id"));
        }
        let version = match properties.get("spec_version") {
            Some(Value::String(version)) if version == "2.0" => SpecVersion::V2_0,
            _ => SpecVersion::V2_1,
        };
        if version == SpecVersion::V2_0 {
            properties.remove("spec_version");
        }
        let values = match properties.remove("objects") {
            None => Vec::new(),
            Some(Value::Array(values)) if values.is_empty() => {
                properties.insert("objects".to_owned(), Value::Array(values));
                Vec::new()
            }
            Some(Value::Array(values)) => values,
            Some(_) => {
                return Err(Error::new(ErrorKind::Bundle, "expected a list").with_field("objects"));
            }
        };
        let mut objects = Vec::with_capacity(values.len());
        let mut rejects = Vec::new();
        for (index, value) in values.into_iter().enumerate() {
            let Value::Object(mut object) = value else {
                rejects.push(
                    Error::new(ErrorKind::Object, "expected a json object").in_object(index, None),
                );
                continue;
            };
            if version == SpecVersion::V2_0 {
                upgrade::upgrade_object(&mut object);
            }
            let id_text = object.get("id").and_then(Value::as_str).map(str::to_owned);
            match StixObject::from_properties(object) {
                Ok(object) => objects.push(object),
                Err(error) => rejects.push(error.in_object(index, id_text.as_deref())),
            }
        }
        Ok(ParsedBundle { bundle: Bundle { id, objects, extra: properties }, version, rejects })
    }
}

impl Serialize for Bundle {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let n_entries = 2 + usize::from(!self.objects.is_empty()) + self.extra.len();
        let mut map = serializer.serialize_map(Some(n_entries))?;
        map.serialize_entry("type", "bundle")?;
        map.serialize_entry("id", &self.id)?;
        if !self.objects.is_empty() {
            map.serialize_entry("objects", &self.objects)?;
        }
        for (name, value) in &self.extra {
            let is_shadowed =
                name == "type" || name == "id" || (name == "objects" && !self.objects.is_empty());
            if !is_shadowed {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}
