//! Objects of types watchfire does not type (`x-foo`, `process`, `extension-definition`, …):
//! kept as their JSON properties, with the common ones read out and checked.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use super::common::{Common, GranularMarking, object_error};
use super::error::{Error, ErrorKind};
use super::id::{StixId, is_valid_type_name};
use super::timestamp::Timestamp;

/// A STIX object of a type without its own Rust type, kept property for property.
#[derive(Clone, Debug, PartialEq)]
pub struct GenericObject {
    // Invariant: `properties` holds `type` (a valid type name equal to `id.object_type()`) and
    // `id`, and the other fields are the typed reading of the like-named properties.
    properties: Map<String, Value>,
    id: StixId,
    spec_version: Option<String>,
    created: Option<Timestamp>,
    modified: Option<Timestamp>,
    created_by_ref: Option<StixId>,
    object_marking_refs: Vec<StixId>,
    granular_markings: Vec<GranularMarking>,
}

// The common properties a generic object must get right when it has them.
#[derive(Deserialize)]
struct CommonView {
    #[serde(rename = "type")]
    object_type: String,
    id: StixId,
    spec_version: Option<String>,
    created: Option<Timestamp>,
    modified: Option<Timestamp>,
    created_by_ref: Option<StixId>,
    #[serde(default)]
    object_marking_refs: Vec<StixId>,
    #[serde(default)]
    granular_markings: Vec<GranularMarking>,
}

impl GenericObject {
    /// Builds a generic object from all its properties, `type` and `id` included.
    pub fn from_properties(properties: Map<String, Value>) -> Result<GenericObject, Error> {
        let mut view_properties = Map::new();
        for name in [
            "type",
            "id",
            "spec_version",
            "created",
            "modified",
            "created_by_ref",
            "object_marking_refs",
            "granular_markings",
        ] {
            match properties.get(name) {
                None | Some(Value::Null) => {}
                Some(value) => {
                    view_properties.insert(name.to_owned(), value.clone());
                }
            }
        }
        let view = read_view(view_properties)?;
        if !is_valid_type_name(&view.object_type) {
            return Err(Error::new(
                ErrorKind::Object,
                format!("invalid type {:?}", view.object_type),
            )
            .with_field("type"));
        }
        if view.id.object_type() != view.object_type {
            return Err(
                Error::new(ErrorKind::Object, "id does not match the type").with_field("id")
            );
        }
        Ok(GenericObject {
            properties,
            id: view.id,
            spec_version: view.spec_version,
            created: view.created,
            modified: view.modified,
            created_by_ref: view.created_by_ref,
            object_marking_refs: view.object_marking_refs,
            granular_markings: view.granular_markings,
        })
    }

    /// Returns the object type.
    pub fn object_type(&self) -> &str {
        self.id.object_type()
    }

    /// Returns every property, `type` and `id` included, as given.
    pub fn properties(&self) -> &Map<String, Value> {
        &self.properties
    }

    /// Returns every property, consuming the object.
    pub fn into_properties(self) -> Map<String, Value> {
        self.properties
    }
}

fn read_view(view_properties: Map<String, Value>) -> Result<CommonView, Error> {
    // Read member by member first so that a failure names the property.
    for (name, value) in &view_properties {
        let check = match name.as_str() {
            "type" | "spec_version" => String::deserialize(value).map(drop),
            "id" | "created_by_ref" => StixId::deserialize(value).map(drop),
            "created" | "modified" => Timestamp::deserialize(value).map(drop),
            "object_marking_refs" => Vec::<StixId>::deserialize(value).map(drop),
            _ => Vec::<GranularMarking>::deserialize(value).map(drop),
        };
        if let Err(error) = check {
            return Err(object_error(&error, Some(name.clone())));
        }
    }
    serde_json::from_value(Value::Object(view_properties))
        .map_err(|error| object_error(&error, None))
}

impl Common for GenericObject {
    fn id(&self) -> &StixId {
        &self.id
    }
    fn spec_version(&self) -> Option<&str> {
        self.spec_version.as_deref()
    }
    fn created(&self) -> Option<&Timestamp> {
        self.created.as_ref()
    }
    fn modified(&self) -> Option<&Timestamp> {
        self.modified.as_ref()
    }
    fn created_by_ref(&self) -> Option<&StixId> {
        self.created_by_ref.as_ref()
    }
    fn object_marking_refs(&self) -> &[StixId] {
        &self.object_marking_refs
    }
    fn granular_markings(&self) -> &[GranularMarking] {
        &self.granular_markings
    }
}

impl Serialize for GenericObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.properties.serialize(serializer)
    }
}
