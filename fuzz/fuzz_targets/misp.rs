//! Fuzzes the MISP readers (events, feeds, feed metadata, warninglists) and the feed manifest
//! reader: see `watchfire_fuzz::check_family`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use watchfire_fuzz::{DEFAULT_FILE_NAME, check_family, check_misp_manifest};

fuzz_target!(|data: &[u8]| {
    check_family(data, watchfire_formats::misp::FORMATS, &[DEFAULT_FILE_NAME, "manifest.json"]);
    check_misp_manifest(data);
});
