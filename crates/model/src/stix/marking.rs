//! The marking-definition object (STIX 2.1 section 7.2): the TLP 1.0 form with
//! `definition_type`/`definition`, statements, and the TLP 2.0 form carried in `extensions`.
//! Which ids mean which TLP level is `crate::tlp`'s business; this module reads and builds the objects.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{Common, ExternalReference, Extra, GranularMarking};
use super::id::StixId;
use super::timestamp::Timestamp;
use crate::tlp::Tlp;

/// The id of the STIX extension that carries TLP 2.0 levels in marking definitions.
pub const TLP2_EXTENSION_ID: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// A marking definition: a TLP level, a statement, or an extension-defined marking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarkingDefinition {
    /// The STIX version, `2.1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_version: Option<String>,
    /// The identifier.
    pub id: StixId,
    /// The identity that created the marking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by_ref: Option<StixId>,
    /// When the marking was created.
    pub created: Timestamp,
    /// The name, such as `TLP:GREEN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The kind of definition (`tlp` or `statement`), for markings not defined by an extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition_type: Option<String>,
    /// The definition, such as `{"tlp": "green"}` or `{"statement": "…"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<Map<String, Value>>,
    /// References to non-STIX information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_references: Vec<ExternalReference>,
    /// The marking definitions that apply to this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub object_marking_refs: Vec<StixId>,
    /// The marking definitions that apply to some properties.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub granular_markings: Vec<GranularMarking>,
    /// Extensions; TLP 2.0 markings carry theirs here, keyed by extension-definition id.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extensions: Map<String, Value>,
    /// Every other property, kept as given (see the SDOs' `extra` for the empty-value rule).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MarkingDefinition {
    /// The value of `type` for this object.
    pub const TYPE: &'static str = "marking-definition";

    /// Returns the TLP 1.0 level (`white`, `green`, `amber`, `red`) when this is a
    /// `definition_type: tlp` marking.
    pub fn tlp_v1_level(&self) -> Option<&str> {
        if self.definition_type.as_deref() != Some("tlp") {
            return None;
        }
        self.definition.as_ref()?.get("tlp")?.as_str()
    }

    /// Returns the standard TLP 2.0 marking definition for `tlp`, as the TLP 2.0 extension publishes it:
    /// the fixed id, `created` 2022-10-01, the name `TLP:…` and the `tlp_2_0` extension property.
    pub fn for_tlp(tlp: Tlp) -> MarkingDefinition {
        let extension = Map::from_iter([
            ("extension_type".to_owned(), Value::from("property-extension")),
            ("tlp_2_0".to_owned(), Value::from(tlp.level_name())),
        ]);
        MarkingDefinition {
            spec_version: Some("2.1".to_owned()),
            // Cannot fail: the TLP 2.0 ids in `crate::tlp` are well-formed marking-definition ids.
            id: StixId::parse(tlp.marking_id()).expect("fixed TLP marking ids are valid"),
            created_by_ref: None,
            // Cannot fail: a constant, valid RFC 3339 timestamp.
            created: Timestamp::parse("2022-10-01T00:00:00.000Z")
                .expect("constant timestamp is valid"),
            name: Some(tlp.as_str().to_owned()),
            definition_type: None,
            definition: None,
            external_references: Vec::new(),
            object_marking_refs: Vec::new(),
            granular_markings: Vec::new(),
            extensions: Map::from_iter([(TLP2_EXTENSION_ID.to_owned(), Value::Object(extension))]),
            extra: Map::new(),
        }
    }

    /// Returns the TLP level this marking stands for: by its fixed TLP 1.0 or 2.0 id, else by a
    /// TLP 1.0 `definition`, else by the TLP 2.0 extension's `tlp_2_0` property.
    pub fn tlp(&self) -> Option<Tlp> {
        if let Some(tlp) = Tlp::from_marking_id(self.id.as_str()) {
            return Some(tlp);
        }
        if let Some(level) = self.tlp_v1_level() {
            return Tlp::from_level_name(level);
        }
        let level = self.extensions.get(TLP2_EXTENSION_ID)?.get("tlp_2_0")?.as_str()?;
        Tlp::from_level_name(level)
    }

    /// Returns the statement text when this is a `definition_type: statement` marking.
    pub fn statement(&self) -> Option<&str> {
        if self.definition_type.as_deref() != Some("statement") {
            return None;
        }
        self.definition.as_ref()?.get("statement")?.as_str()
    }
}

impl Common for MarkingDefinition {
    fn id(&self) -> &StixId {
        &self.id
    }
    fn spec_version(&self) -> Option<&str> {
        self.spec_version.as_deref()
    }
    fn created(&self) -> Option<&Timestamp> {
        Some(&self.created)
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

impl Extra for MarkingDefinition {
    fn extra_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.extra
    }
}
