//! Fuzzes the readers of Shadowserver CSV reports, with and without a report name in the file name: see `watchfire_fuzz::check_family`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use watchfire_fuzz::{DEFAULT_FILE_NAME, check_family};

fuzz_target!(|data: &[u8]| check_family(
    data,
    watchfire_formats::shadowserver::FORMATS,
    &[DEFAULT_FILE_NAME, "2024-01-01-scan_rdp-de.csv", "event4_sinkhole_http.csv"]
));
