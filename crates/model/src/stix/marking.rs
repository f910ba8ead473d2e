//! The marking-definition object (STIX 2.1 section 7.2): the TLP 1.0 form with
//! `definition_type`/`definition`, statements, and the TLP 2.0 form carried in `extensions`.
//! Which ids mean which TLP level is `crate::tlp`'s business, not this module's.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{Common, ExternalReference, Extra, GranularMarking};
use super::id::StixId;
use super::timestamp::Timestamp;

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
