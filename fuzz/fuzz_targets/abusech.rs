//! Fuzzes the readers of abuse.ch feeds (URLhaus, Feodo Tracker, ThreatFox, SSLBL and the legacy lists): see `watchfire_fuzz::check_family`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use watchfire_fuzz::{DEFAULT_FILE_NAME, check_family};

fuzz_target!(|data: &[u8]| check_family(
    data,
    watchfire_formats::abusech::FORMATS,
    &[DEFAULT_FILE_NAME]
));
