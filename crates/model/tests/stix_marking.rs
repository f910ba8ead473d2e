//! TLP marking definitions: the standard TLP 2.0 objects we emit, and reading the TLP level of
//! TLP 1.0, TLP 2.0 and extension-only markings.

use expect_test::expect;
use watchfire_model::stix::{MarkingDefinition, StixObject};
use watchfire_model::tlp::Tlp;

fn marking(json: &str) -> MarkingDefinition {
    match serde_json::from_str::<StixObject>(json).expect("valid marking definition") {
        StixObject::MarkingDefinition(marking) => marking,
        other => panic!("not a marking definition: {other:?}"),
    }
}

#[test]
fn standard_tlp2_markings_carry_their_level() {
    for tlp in Tlp::ALL {
        let marking = MarkingDefinition::for_tlp(tlp);
        assert_eq!(marking.tlp(), Some(tlp));
        assert_eq!(marking.id.as_str(), tlp.marking_id());
        let json = serde_json::to_string(&StixObject::MarkingDefinition(marking.clone())).unwrap();
        assert_eq!(self::marking(&json), marking, "round trip of {tlp}");
    }
    let json = serde_json::to_string_pretty(&StixObject::MarkingDefinition(
        MarkingDefinition::for_tlp(Tlp::AmberStrict),
    ))
    .unwrap();
    expect![[r#"
        {
          "type": "marking-definition",
          "spec_version": "2.1",
          "id": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
          "created": "2022-10-01T00:00:00.000Z",
          "name": "TLP:AMBER+STRICT",
          "extensions": {
            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
              "extension_type": "property-extension",
              "tlp_2_0": "amber+strict"
            }
          }
        }"#]]
    .assert_eq(&json);
}

#[test]
fn tlp1_markings_and_extension_only_markings_are_read() {
    let tlp1_white = r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:WHITE","definition":{"tlp":"white"}}"#;
    assert_eq!(marking(tlp1_white).tlp(), Some(Tlp::Clear));
    // A copy of a TLP 1.0 marking under another id still says its level in `definition`.
    let tlp1_other_id = r#"{"type":"marking-definition","id":"marking-definition--11111111-1111-4111-8111-111111111111","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","definition":{"tlp":"amber"}}"#;
    assert_eq!(marking(tlp1_other_id).tlp(), Some(Tlp::Amber));
    // A TLP 2.0 marking under a non-standard id, as some producers write them.
    let tlp2_other_id = r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--939a9414-1955-4a77-93a3-5a4ec65c9b6e","created":"2022-03-11T19:45:00.000Z","name":"TLP:AMBER+STRICT","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber+strict"}}}"#;
    assert_eq!(marking(tlp2_other_id).tlp(), Some(Tlp::AmberStrict));
    let statement = r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--a1cb37d2-3bd3-5b23-8526-47a22694b7e0","created":"2020-01-01T00:00:00.000Z","definition_type":"statement","definition":{"statement":"Copyright"}}"#;
    assert_eq!(marking(statement).tlp(), None);
}
