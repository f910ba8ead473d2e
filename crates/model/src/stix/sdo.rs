//! STIX Domain Objects (STIX 2.1 section 4): the typed properties of each SDO type; everything
//! else an object carries stays in its `extra` map.

use serde_json::{Map, Number, Value};

use super::common::{KillChainPhase, sdo};
use super::id::StixId;
use super::timestamp::Timestamp;

sdo! {
    /// A way adversaries try to compromise targets (STIX 2.1 section 4.1).
    pub struct AttackPattern("attack-pattern") {
        required {
            /// The name.
            name: String,
        }
        optional {
            /// A description.
            description: Option<String>,
            /// Other names.
            aliases: Vec<String>,
            /// The kill chain phases it belongs to.
            kill_chain_phases: Vec<KillChainPhase>,
        }
    }
}

sdo! {
    /// A grouping of adversarial behaviours over time against targets (section 4.2).
    pub struct Campaign("campaign") {
        required {
            /// The name.
            name: String,
        }
        optional {
            /// A description.
            description: Option<String>,
            /// Other names.
            aliases: Vec<String>,
            /// When it was first seen.
            first_seen: Option<Timestamp>,
            /// When it was last seen.
            last_seen: Option<Timestamp>,
            /// Its primary goal.
            objective: Option<String>,
        }
    }
}

sdo! {
    /// An action to prevent or respond to an attack (section 4.3).
    pub struct CourseOfAction("course-of-action") {
        required {
            /// The name.
            name: String,
        }
        optional {
            /// A description.
            description: Option<String>,
        }
    }
}

sdo! {
    /// A set of objects asserted to share a context (section 4.4).
    pub struct Grouping("grouping") {
        required {
            /// The context, from the `grouping-context-ov` vocabulary.
            context: String,
            /// The grouped objects.
            object_refs: Vec<StixId>,
        }
        optional {
            /// The name.
            name: Option<String>,
            /// A description.
            description: Option<String>,
        }
    }
}

sdo! {
    /// An individual, organisation, group or system (section 4.5).
    pub struct Identity("identity") {
        required {
            /// The name.
            name: String,
        }
        optional {
            /// A description.
            description: Option<String>,
            /// Its roles.
            roles: Vec<String>,
            /// Its class, from the `identity-class-ov` vocabulary.
            identity_class: Option<String>,
            /// Its industry sectors, from the `industry-sector-ov` vocabulary.
            sectors: Vec<String>,
            /// How to contact it.
            contact_information: Option<String>,
        }
    }
}

sdo! {
    /// A security incident, a stub in STIX 2.1 (section 4.6).
    pub struct Incident("incident") {
        required {
            /// The name.
            name: String,
        }
        optional {
            /// A description.
            description: Option<String>,
            /// The kill chain phases it belongs to.
            kill_chain_phases: Vec<KillChainPhase>,
        }
    }
}

sdo! {
    /// A pattern that can detect suspicious or malicious activity (section 4.7).
    pub struct Indicator("indicator") {
        required {
            /// The detection pattern, in the language named by `pattern_type`.
            pattern: String,
            /// The pattern language, `stix` for STIX patterns.
            pattern_type: String,
            /// When the indicator starts being valid.
            valid_from: Timestamp,
        }
        optional {
            /// The name.
            name: Option<String>,
            /// A description.
            description: Option<String>,
            /// Its types, from the `indicator-type-ov` vocabulary.
            indicator_types: Vec<String>,
            /// The version of the pattern language.
            pattern_version: Option<String>,
            /// When the indicator stops being valid.
            valid_until: Option<Timestamp>,
            /// The kill chain phases it belongs to.
            kill_chain_phases: Vec<KillChainPhase>,
        }
    }
}

sdo! {
    /// Systems, software services and resources an adversary uses (section 4.8).
    pub struct Infrastructure("infrastructure") {
        required {
            /// The name.
            name: String,
        }
        optional {
            /// A description.
            description: Option<String>,
            /// Its types, from the `infrastructure-type-ov` vocabulary.
            infrastructure_types: Vec<String>,
            /// Other names.
            aliases: Vec<String>,
            /// The kill chain phases it belongs to.
            kill_chain_phases: Vec<KillChainPhase>,
            /// When it was first seen.
            first_seen: Option<Timestamp>,
            /// When it was last seen.
            last_seen: Option<Timestamp>,
        }
    }
}

sdo! {
    /// A set of adversarial behaviours and resources with common properties (section 4.9).
    pub struct IntrusionSet("intrusion-set") {
        required {
            /// The name.
            name: String,
        }
        optional {
            /// A description.
            description: Option<String>,
            /// Other names.
            aliases: Vec<String>,
            /// When it was first seen.
            first_seen: Option<Timestamp>,
            /// When it was last seen.
            last_seen: Option<Timestamp>,
            /// Its high-level goals.
            goals: Vec<String>,
            /// Its organisational level, from the `attack-resource-level-ov` vocabulary.
            resource_level: Option<String>,
            /// Its primary motivation, from the `attack-motivation-ov` vocabulary.
            primary_motivation: Option<String>,
            /// Its other motivations.
            secondary_motivations: Vec<String>,
        }
    }
}

sdo! {
    /// A geographic location (section 4.10).
    pub struct Location("location") {
        required {}
        optional {
            /// The name.
            name: Option<String>,
            /// A description.
            description: Option<String>,
            /// The latitude in decimal degrees, kept as the JSON number given.
            latitude: Option<Number>,
            /// The longitude in decimal degrees, kept as the JSON number given.
            longitude: Option<Number>,
            /// The precision of the coordinates in metres.
            precision: Option<Number>,
            /// The region, from the `region-ov` vocabulary.
            region: Option<String>,
            /// The ISO 3166-1 alpha-2 country code.
            country: Option<String>,
            /// The state, province or other sub-national area.
            administrative_area: Option<String>,
            /// The city.
            city: Option<String>,
            /// The street address.
            street_address: Option<String>,
            /// The postal code.
            postal_code: Option<String>,
        }
    }
}

sdo! {
    /// Malicious code, a family or an instance (section 4.11).
    pub struct Malware("malware") {
        required {
            /// Whether this is a family (`true`) or an instance.
            is_family: bool,
        }
        optional {
            /// The name.
            name: Option<String>,
            /// A description.
            description: Option<String>,
            /// Its types, from the `malware-type-ov` vocabulary.
            malware_types: Vec<String>,
            /// Other names.
            aliases: Vec<String>,
            /// The kill chain phases it belongs to.
            kill_chain_phases: Vec<KillChainPhase>,
            /// When it was first seen.
            first_seen: Option<Timestamp>,
            /// When it was last seen.
            last_seen: Option<Timestamp>,
            /// The operating systems it runs on, as `software` SCOs.
            operating_system_refs: Vec<StixId>,
            /// The processor architectures it runs on.
            architecture_execution_envs: Vec<String>,
            /// The programming languages it is written in.
            implementation_languages: Vec<String>,
            /// What it can do, from the `malware-capabilities-ov` vocabulary.
            capabilities: Vec<String>,
            /// Samples of it, as `file` or `artifact` SCOs.
            sample_refs: Vec<StixId>,
        }
    }
}

sdo! {
    /// Added context: a comment on other objects (section 4.12).
    pub struct Note("note") {
        required {
            /// The content of the note.
            content: String,
            /// The objects it is about.
            object_refs: Vec<StixId>,
        }
        optional {
            /// A summary.
            #[serde(rename = "abstract")]
            abstract_: Option<String>,
            /// Its authors' names.
            authors: Vec<String>,
        }
    }
}

sdo! {
    /// Raw cyber-observable data seen over a period (section 4.13).
    pub struct ObservedData("observed-data") {
        required {
            /// When the data was first observed.
            first_observed: Timestamp,
            /// When the data was last observed.
            last_observed: Timestamp,
            /// How many times it was observed.
            number_observed: u64,
        }
        optional {
            /// The observed SCOs and SROs.
            object_refs: Vec<StixId>,
            /// The deprecated observable container of STIX 2.0, keyed `"0"`, `"1"`, ….
            objects: Map<String, Value>,
        }
    }
}

sdo! {
    /// An assessment of the correctness of other objects (section 4.14).
    pub struct Opinion("opinion") {
        required {
            /// The opinion, from `strongly-disagree` to `strongly-agree`.
            opinion: String,
            /// The objects it is about.
            object_refs: Vec<StixId>,
        }
        optional {
            /// Why the opinion is held.
            explanation: Option<String>,
            /// Its authors' names.
            authors: Vec<String>,
        }
    }
}

sdo! {
    /// A collection of threat intelligence on one or more topics (section 4.15).
    pub struct Report("report") {
        required {
            /// The name.
            name: String,
            /// When it was published.
            published: Timestamp,
            /// The objects it refers to.
            object_refs: Vec<StixId>,
        }
        optional {
            /// A description.
            description: Option<String>,
            /// Its types, from the `report-type-ov` vocabulary.
            report_types: Vec<String>,
        }
    }
}

sdo! {
    /// An individual, group or organisation believed to act with malicious intent (section 4.16).
    pub struct ThreatActor("threat-actor") {
        required {
            /// The name.
            name: String,
        }
        optional {
            /// A description.
            description: Option<String>,
            /// Its types, from the `threat-actor-type-ov` vocabulary.
            threat_actor_types: Vec<String>,
            /// Other names.
            aliases: Vec<String>,
            /// When it was first seen.
            first_seen: Option<Timestamp>,
            /// When it was last seen.
            last_seen: Option<Timestamp>,
            /// Its roles, from the `threat-actor-role-ov` vocabulary.
            roles: Vec<String>,
            /// Its high-level goals.
            goals: Vec<String>,
            /// Its skill, from the `threat-actor-sophistication-ov` vocabulary.
            sophistication: Option<String>,
            /// Its organisational level, from the `attack-resource-level-ov` vocabulary.
            resource_level: Option<String>,
            /// Its primary motivation, from the `attack-motivation-ov` vocabulary.
            primary_motivation: Option<String>,
            /// Its other motivations.
            secondary_motivations: Vec<String>,
            /// Its personal motivations.
            personal_motivations: Vec<String>,
        }
    }
}

sdo! {
    /// Legitimate software that can be used to perform attacks (section 4.17).
    pub struct Tool("tool") {
        required {
            /// The name.
            name: String,
        }
        optional {
            /// A description.
            description: Option<String>,
            /// Its types, from the `tool-type-ov` vocabulary.
            tool_types: Vec<String>,
            /// Other names.
            aliases: Vec<String>,
            /// The kill chain phases it belongs to.
            kill_chain_phases: Vec<KillChainPhase>,
            /// Its version.
            tool_version: Option<String>,
        }
    }
}

sdo! {
    /// A mistake in software that can be exploited (section 4.18).
    pub struct Vulnerability("vulnerability") {
        required {
            /// The name, often a CVE id.
            name: String,
        }
        optional {
            /// A description.
            description: Option<String>,
        }
    }
}
