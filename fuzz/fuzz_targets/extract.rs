//! Fuzzes extraction: any bytes give hits or none, never a panic; every hit's `raw` stands at its
//! offset, hits come in order, and every observable found is canonical.

#![no_main]

use libfuzzer_sys::fuzz_target;
use watchfire_model::Observable;
use watchfire_model::extract::{ExtractOptions, extract};

fuzz_target!(|data: &[u8]| {
    for refang in [true, false] {
        let mut last_offset = 0;
        extract(data, &ExtractOptions { refang }, 1, |hit| {
            assert_eq!(
                &data[hit.offset..hit.offset + hit.raw.len()],
                hit.raw.as_bytes(),
                "raw is not at its offset"
            );
            assert!(hit.offset >= last_offset, "hits out of order");
            last_offset = hit.offset;
            let again = Observable::parse_as(hit.observable.kind(), hit.observable.value());
            assert_eq!(again.as_ref(), Ok(&hit.observable), "extracted value is not canonical");
        });
    }
});
