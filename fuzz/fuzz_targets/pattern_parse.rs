//! Fuzzes the STIX pattern parser: any text gives a pattern or a column-precise error, a parsed
//! pattern prints as text that parses back equal, and the observable conversion never panics.

#![no_main]

use libfuzzer_sys::fuzz_target;
use watchfire_model::pattern::Pattern;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(pattern) = Pattern::parse(text) else { return };
    let printed = pattern.to_string();
    let again = Pattern::parse(&printed).expect("a printed pattern parses");
    assert_eq!(again, pattern, "display does not round-trip for {text:?}");
    if let Ok(observables) = pattern.observables() {
        for observable in &observables {
            let back = Pattern::from_observable(observable)
                .observables()
                .expect("an observable's pattern is matchable");
            assert_eq!(back, vec![observable.clone()]);
        }
    }
});
