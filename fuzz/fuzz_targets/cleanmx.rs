//! Fuzzes the readers of Clean-MX XML feeds, and through them the markup tokenizer: see `watchfire_fuzz::check_family`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use watchfire_fuzz::check_family;

fuzz_target!(|data: &[u8]| check_family(
    data,
    watchfire_formats::cleanmx::FORMATS,
    &["xmlphishing", "xmlviruses"]
));
