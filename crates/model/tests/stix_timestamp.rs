//! Timestamps: exact text, ordering by instant, construction from Unix time and formatting.

use proptest::prelude::*;
use watchfire_model::stix::{Precision, Timestamp};

fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn keeps_the_text_and_compares_instants() {
    let plain = ts("2016-01-20T12:31:12Z");
    let millis = ts("2016-01-20T12:31:12.000Z");
    assert_eq!(plain.as_str(), "2016-01-20T12:31:12Z");
    assert_eq!(millis.to_string(), "2016-01-20T12:31:12.000Z");
    assert_eq!(plain, millis);
    assert!(ts("2016-01-20T12:31:12.1Z") > ts("2016-01-20T12:31:12.099999Z"));
    assert!(ts("1969-12-31T23:59:59.999Z") < ts("1970-01-01T00:00:00Z"));
    assert_eq!(ts("1970-01-01T00:00:00.000000001Z").unix_nanos(), 1);
    assert_eq!(ts("1969-12-31T23:59:59.5Z").unix_nanos(), -500_000_000);
    assert_eq!(ts("2000-02-29T00:00:00Z").unix_seconds(), 951_782_400);
    assert_eq!(ts("9999-12-31T23:59:59.123456789123Z").subsec_nanos(), 123_456_789);
    assert_eq!(ts("0000-01-01T00:00:00Z").unix_seconds(), -62_167_219_200);
    let json = serde_json::to_string(&ts("2016-01-20T12:31:12.12Z")).unwrap();
    assert_eq!(json, "\"2016-01-20T12:31:12.12Z\"");
}

#[test]
fn rejects_what_stix_does_not_allow() {
    for bad in [
        "2016-01-20T12:31:12",
        "2016-01-20T12:31:12+00:00",
        "2016-01-20t12:31:12z",
        "2016-01-20 12:31:12Z",
        "2016-01-20T12:31:12.Z",
        "2016-01-20T12:31:60Z",
        "2016-01-20T24:00:00Z",
        "2015-02-29T00:00:00Z",
        "2016-13-01T00:00:00Z",
        "2016-00-01T00:00:00Z",
        "2016-01-00T00:00:00Z",
        "+016-01-20T12:31:12Z",
        "2016-01-20T12:31:12.5ZZ",
        "２０16-01-20T12:31:12Z",
    ] {
        assert!(Timestamp::parse(bad).is_err(), "{bad:?} parsed");
    }
}

#[test]
fn formats_with_three_or_six_digits() {
    let nanos = 1_453_293_072_123_456_789;
    assert_eq!(
        Timestamp::from_unix_nanos(nanos, Precision::Millis).as_str(),
        "2016-01-20T12:31:12.123Z"
    );
    assert_eq!(
        Timestamp::from_unix_nanos(nanos, Precision::Micros).as_str(),
        "2016-01-20T12:31:12.123456Z"
    );
    assert_eq!(
        Timestamp::from_unix_nanos(0, Precision::Millis).as_str(),
        "1970-01-01T00:00:00.000Z"
    );
    assert_eq!(
        Timestamp::from_unix_nanos(-1, Precision::Micros).as_str(),
        "1969-12-31T23:59:59.999999Z"
    );
    assert_eq!(
        Timestamp::from_unix_nanos(i64::MIN, Precision::Micros).as_str(),
        "1677-09-21T00:12:43.145224Z"
    );
    assert_eq!(
        Timestamp::from_unix_nanos(1_000_000_000 * 86_400 + 7_000_000, Precision::Millis).as_str(),
        "1970-01-02T00:00:00.007Z"
    );
    assert_eq!(
        ts("2016-01-20T12:31:12Z").with_precision(Precision::Micros).as_str(),
        "2016-01-20T12:31:12.000000Z"
    );
    assert_eq!(
        ts("2016-01-20T12:31:12.987654321Z").with_precision(Precision::Millis).as_str(),
        "2016-01-20T12:31:12.987Z"
    );
}

proptest! {
    #[test]
    fn unix_nanos_round_trip_through_text(nanos in any::<i64>()) {
        let micros = Timestamp::from_unix_nanos(nanos, Precision::Micros);
        let reparsed = Timestamp::parse(micros.as_str()).unwrap();
        prop_assert_eq!(reparsed.unix_nanos(), i128::from(nanos.div_euclid(1000) * 1000));
        prop_assert_eq!(&reparsed, &micros);
    }

    #[test]
    fn ordering_follows_unix_time(a in any::<i64>(), b in any::<i64>()) {
        let left = Timestamp::from_unix_nanos(a, Precision::Micros);
        let right = Timestamp::from_unix_nanos(b, Precision::Micros);
        prop_assert_eq!(left.cmp(&right), (a.div_euclid(1000)).cmp(&b.div_euclid(1000)));
    }

    #[test]
    fn parse_never_panics(text in "\\PC{0,40}") {
        let _ = Timestamp::parse(&text);
    }
}
