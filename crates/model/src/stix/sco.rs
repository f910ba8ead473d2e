//! STIX Cyber-observable Objects (STIX 2.1 section 6) that watchfire types: the ones its
//! observables map to. Other SCO types parse as [`GenericObject`](super::GenericObject).

use std::collections::BTreeMap;

use super::common::sco;
use super::id::StixId;
use super::timestamp::Timestamp;

sco! {
    /// An autonomous system (section 6.2).
    pub struct AutonomousSystem("autonomous-system") {
        required {
            /// The AS number.
            number: u32,
        }
        optional {
            /// The name.
            name: Option<String>,
            /// The Regional Internet Registry that assigned the number.
            rir: Option<String>,
        }
    }
}

sco! {
    /// A domain name (section 6.4).
    pub struct DomainName("domain-name") {
        required {
            /// The domain name.
            value: String,
        }
        optional {
            /// What it resolves to (addresses or domain names).
            resolves_to_refs: Vec<StixId>,
        }
    }
}

sco! {
    /// An e-mail address (section 6.5).
    pub struct EmailAddr("email-addr") {
        required {
            /// The address, `local@domain`.
            value: String,
        }
        optional {
            /// The display name.
            display_name: Option<String>,
            /// The user account it belongs to.
            belongs_to_ref: Option<StixId>,
        }
    }
}

sco! {
    /// A file (section 6.7).
    pub struct File("file") {
        required {}
        optional {
            /// Hashes of the content, keyed by algorithm (`MD5`, `SHA-1`, `SHA-256`, `SHA-512`, …).
            hashes: BTreeMap<String, String>,
            /// The size in bytes.
            size: Option<u64>,
            /// The name.
            name: Option<String>,
            /// The observed encoding of the name.
            name_enc: Option<String>,
            /// The magic number, in hex.
            magic_number_hex: Option<String>,
            /// The MIME type.
            mime_type: Option<String>,
            /// When it was created.
            ctime: Option<Timestamp>,
            /// When it was last written to.
            mtime: Option<Timestamp>,
            /// When it was last accessed.
            atime: Option<Timestamp>,
            /// The directory it is in.
            parent_directory_ref: Option<StixId>,
            /// Objects it contains.
            contains_refs: Vec<StixId>,
            /// Its content, as an artifact.
            content_ref: Option<StixId>,
        }
    }
}

sco! {
    /// One or more IPv4 addresses as a CIDR block (section 6.8).
    pub struct Ipv4Addr("ipv4-addr") {
        required {
            /// The address or CIDR block.
            value: String,
        }
        optional {
            /// The MAC addresses it resolves to.
            resolves_to_refs: Vec<StixId>,
            /// The autonomous systems it belongs to.
            belongs_to_refs: Vec<StixId>,
        }
    }
}

sco! {
    /// One or more IPv6 addresses as a CIDR block (section 6.9).
    pub struct Ipv6Addr("ipv6-addr") {
        required {
            /// The address or CIDR block.
            value: String,
        }
        optional {
            /// The MAC addresses it resolves to.
            resolves_to_refs: Vec<StixId>,
            /// The autonomous systems it belongs to.
            belongs_to_refs: Vec<StixId>,
        }
    }
}

sco! {
    /// A uniform resource locator (section 6.15).
    pub struct Url("url") {
        required {
            /// The URL.
            value: String,
        }
        optional {}
    }
}
