//! Fuzzes format detection over every format, then reads with the format found: see
//! `watchfire_fuzz::check_detect`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use watchfire_fuzz::{DEFAULT_FILE_NAME, check_detect};

fuzz_target!(|data: &[u8]| check_detect(
    data,
    &[DEFAULT_FILE_NAME, "manifest.json", "scan_rdp.csv"]
));
