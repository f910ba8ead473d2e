//! Fuzzes CSV mappings: the TOML mapping parser, reading with a fuzzed mapping, and reading with
//! every built-in mapping: see `watchfire_fuzz::check_csvmap`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| watchfire_fuzz::check_csvmap(data));
