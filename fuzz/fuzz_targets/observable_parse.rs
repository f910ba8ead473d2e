//! Fuzzes observable parsing: any bytes give a canonical value or a typed error, and a canonical
//! value parses back to itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use watchfire_model::{Observable, ObservableKind, observable};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = observable::refang(text);
    if let Ok(parsed) = Observable::parse(text) {
        let again = Observable::parse(parsed.value()).expect("a canonical value parses");
        assert_eq!(again, parsed, "parsing is not idempotent for {text:?}");
    }
    for kind in ObservableKind::ALL {
        if let Ok(parsed) = Observable::parse_as(kind, text) {
            let again = Observable::parse_as(parsed.kind(), parsed.value())
                .expect("a canonical value parses as its kind");
            assert_eq!(again, parsed, "parse_as({kind}) is not idempotent for {text:?}");
        }
    }
});
