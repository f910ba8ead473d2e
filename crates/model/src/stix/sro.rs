//! STIX Relationship Objects (STIX 2.1 section 5): relationship and sighting.

use super::common::sdo;
use super::id::StixId;
use super::timestamp::Timestamp;

sdo! {
    /// A link between two objects (section 5.1).
    pub struct Relationship("relationship") {
        required {
            /// The kind of link, such as `indicates` or `uses`.
            relationship_type: String,
            /// The object the link starts from.
            source_ref: StixId,
            /// The object the link points to.
            target_ref: StixId,
        }
        optional {
            /// A description.
            description: Option<String>,
            /// When the link starts being true.
            start_time: Option<Timestamp>,
            /// When the link stops being true.
            stop_time: Option<Timestamp>,
        }
    }
}

sdo! {
    /// The belief that something was seen (section 5.2).
    pub struct Sighting("sighting") {
        required {
            /// What was seen: an SDO, usually an indicator.
            sighting_of_ref: StixId,
        }
        optional {
            /// A description.
            description: Option<String>,
            /// When it was first seen.
            first_seen: Option<Timestamp>,
            /// When it was last seen.
            last_seen: Option<Timestamp>,
            /// How many times it was seen.
            count: Option<u64>,
            /// The observed data that back the sighting.
            observed_data_refs: Vec<StixId>,
            /// Who or where saw it (identities or locations).
            where_sighted_refs: Vec<StixId>,
            /// Whether this is a summary of other sightings.
            summary: Option<bool>,
        }
    }
}
