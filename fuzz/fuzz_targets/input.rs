//! Fuzzes `input::open` (gzip, zip, BOM) and `input::Lines`: see `watchfire_fuzz::check_lines`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| watchfire_fuzz::check_lines(data));
