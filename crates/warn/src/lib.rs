//! Early warning: the constituencies organisations claim and the node's admins approve, and the
//! index that tells who owns an address, a domain, an AS or a country.
//!
//! Claim-and-approve: an organisation claims a network (IPv4 or IPv6 CIDR), an AS number, a domain
//! suffix or a country; the claim is `pending` until a node admin approves or rejects it. Only
//! approved claims count, in the [`ConstituencyIndex`] and for the overlap rule.
//!
//! The overlap rule: a claim that overlaps another organisation's approved claim is refused, when
//! claimed and again when approved. Networks overlap when one contains the other; AS numbers,
//! domain suffixes and countries overlap when equal. An organisation may hold nested claims of its
//! own, and nested domain suffixes of different organisations are allowed (`example.com` and
//! `cert.example.com`): the index gives a name to the most specific suffix, and an address to the
//! most specific network.
//!
//! Claims are kept in the store's directory (kind [`DIRECTORY_KIND`], key = the claim's id); they
//! are the node's configuration, not intelligence, and never enter the log.

#![warn(missing_docs)]
#![deny(clippy::print_stdout)]

mod alert;
mod claim;
pub mod deliver;
mod engine;
mod geo;
mod index;
mod inhibit;
mod playbook;

pub use alert::{
    ALERT_SOURCE, ALERT_TYPE, Alert, BadAlert, Direction, Evidence, MAX_EVIDENCE, Matched,
    Severity, Status,
};
pub use claim::{
    Claim, ClaimKind, ClaimState, DIRECTORY_KIND, Target, approve, claim, claims, find, reject,
    remove,
};
pub use engine::{Engine, Locator, Members, STATE_KIND, Settings, StepOutcome};
pub use geo::{Geo, Location};
pub use index::ConstituencyIndex;
pub use inhibit::{
    INHIBITION_KIND, Inhibition, InhibitionKind, MAX_INHIBITION_MICROS, NewInhibition, inhibit,
    inhibitions, lift,
};
pub use playbook::{
    AlertFacts, Guidance, Playbook, RuleFile, Rules, SIDS_PER_ALERT, course_of_action, guidance,
    playbook, report_event_types,
};

/// An error of the constituencies. Every variant names the value or claim at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The claimed value is not a valid value of its kind.
    #[error("invalid {kind} claim {value:?}: {reason}")]
    Invalid {
        /// The kind claimed.
        kind: ClaimKind,
        /// The value as given.
        value: String,
        /// Why it is not valid.
        reason: String,
    },
    /// The claim overlaps an approved claim of another organisation.
    #[error(
        "{kind} claim {value} overlaps claim {other_id} ({other_value}) approved for another organisation"
    )]
    Overlap {
        /// The kind claimed.
        kind: ClaimKind,
        /// The canonical value claimed.
        value: String,
        /// The id of the other organisation's claim.
        other_id: String,
        /// Its canonical value.
        other_value: String,
    },
    /// No claim has this id.
    #[error("no constituency claim {0}")]
    NotFound(String),
    /// The claim was decided already (approved or rejected).
    #[error("constituency claim {id} is {state} already")]
    Decided {
        /// The claim's id.
        id: String,
        /// Its state.
        state: ClaimState,
    },
    /// A stored claim does not parse.
    #[error("the directory record {kind}/{key} is damaged: {reason}")]
    Damaged {
        /// The directory kind.
        kind: &'static str,
        /// The key.
        key: String,
        /// Why it does not parse.
        reason: String,
    },
    /// An inhibition's value or expiry is not valid.
    #[error("invalid {kind} inhibition {value:?}: {reason}")]
    InvalidInhibition {
        /// The kind asked for.
        kind: InhibitionKind,
        /// The value as given.
        value: String,
        /// Why it is not valid.
        reason: String,
    },
    /// An alert cannot be written.
    #[error("cannot write an alert: {0}")]
    Alert(String),
    /// A MaxMind DB file cannot be read or is not one.
    #[error("cannot open MaxMind DB file {}: {reason}", path.display())]
    Geo {
        /// The file.
        path: std::path::PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// Another claim or decision held the constituency lock for too long; try again.
    #[error("another constituency decision is in progress; try again")]
    Busy,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] watchfire_store::Error),
}
