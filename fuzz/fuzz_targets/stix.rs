//! Fuzzes the readers of STIX 2.0/2.1 bundles: see `watchfire_fuzz::check_family`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use watchfire_fuzz::{DEFAULT_FILE_NAME, check_family};

fuzz_target!(|data: &[u8]| check_family(
    data,
    watchfire_formats::stix::FORMATS,
    &[DEFAULT_FILE_NAME]
));
