//! Fuzzes the streaming JSON splitter against serde_json: see `watchfire_fuzz::check_json_stream`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| watchfire_fuzz::check_json_stream(data));
