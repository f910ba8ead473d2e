//! Fuzzes the readers of AlienVault OTX pulse exports: see `watchfire_fuzz::check_family`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use watchfire_fuzz::{DEFAULT_FILE_NAME, check_family};

fuzz_target!(|data: &[u8]| check_family(
    data,
    watchfire_formats::alienvault_otx::FORMATS,
    &[DEFAULT_FILE_NAME]
));
