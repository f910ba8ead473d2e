//! `Bundle::parse` never panics: on arbitrary bytes, and on fixtures cut or altered at random.

use proptest::prelude::*;
use watchfire_model::stix::Bundle;

const FIXTURES: &[&[u8]] = &[
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/feeds/stix21/infrastructure.json"
    )),
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/feeds/stix21/feeds2stix_sslbl_BRAT_bundle.json"
    )),
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/feeds/stix20/misp2stix2_report_bundle.json"
    )),
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/feeds/stix20/indicators-for-C2-with-COA.json"
    )),
];

fn parse_and_reserialise(bytes: &[u8]) {
    if let Ok(parsed) = Bundle::parse_lenient(bytes) {
        // Whatever parsed must serialise and parse back to the same bundle.
        let serialised = serde_json::to_vec(&parsed.bundle).unwrap();
        assert_eq!(Bundle::parse(&serialised).unwrap(), parsed.bundle);
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        parse_and_reserialise(&bytes);
    }

    #[test]
    fn truncated_fixtures(fixture in 0..FIXTURES.len(), cut in 0.0..1.0f64) {
        let bytes = FIXTURES[fixture];
        let end = ((bytes.len() as f64) * cut) as usize;
        parse_and_reserialise(&bytes[..end]);
    }

    #[test]
    fn altered_fixtures(
        fixture in 0..FIXTURES.len(),
        edits in proptest::collection::vec((0.0..1.0f64, any::<u8>()), 1..8),
    ) {
        let mut bytes = FIXTURES[fixture].to_vec();
        for (position, byte) in edits {
            let last = bytes.len() - 1;
            let index = ((bytes.len() as f64) * position) as usize;
            bytes[index.min(last)] = byte;
        }
        parse_and_reserialise(&bytes);
    }

    #[test]
    fn json_shaped_input(text in r#"\{"type":"bundle","id":"bundle--[0-9a-f-]{36}","objects":\[\{("[a-z_]{1,12}":("[a-z0-9:.-]{0,40}"|[0-9]{1,4}|null|\[\]|\{\}|true),?){0,8}\}\]\}"#) {
        parse_and_reserialise(text.as_bytes());
    }
}
