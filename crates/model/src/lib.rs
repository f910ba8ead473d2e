//! watchfire's canonical types: observables and their canonicalisation, extraction from free text,
//! STIX 2.1 objects and patterns, TLP and the one access policy. Pure: no I/O.

#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod extract;
pub mod observable;
pub mod pattern;
pub mod policy;
pub mod record;
pub mod stix;
pub mod tlp;

pub use observable::{Observable, ObservableError, ObservableKind};
