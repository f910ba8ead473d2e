//! The STIX 2.0 to 2.1 upgrade rules, one object each.

use expect_test::{Expect, expect};
use serde_json::{Value, json};
use watchfire_model::stix::{Bundle, SpecVersion};

/// Reads `object` in a 2.0 bundle and snapshots the upgraded object as compact JSON.
fn check(object: &Value, expect: &Expect) {
    let bundle = json!({
        "type": "bundle",
        "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982",
        "spec_version": "2.0",
        "objects": [object]
    });
    let (parsed, version) = Bundle::parse_versioned(&serde_json::to_vec(&bundle).unwrap()).unwrap();
    assert_eq!(version, SpecVersion::V2_0);
    let output = serde_json::to_value(&parsed).unwrap();
    assert_eq!(output.get("spec_version"), None, "the bundle's spec_version is dropped");
    expect.assert_eq(&output["objects"][0].to_string());
}

const COMMON: &str =
    r#""created":"2017-01-27T13:49:53.997Z","modified":"2017-01-27T13:49:53.997Z""#;

fn object(text: &str) -> Value {
    serde_json::from_str(&format!("{{{text},{COMMON}}}")).unwrap()
}

#[test]
fn indicator_labels_become_indicator_types_and_pattern_type_is_added() {
    check(
        &object(
            r#""type":"indicator","id":"indicator--33fe3b22-0201-47cf-85d0-97c02164528d","labels":["malicious-activity","phishing","attribution"],"pattern":"[ipv4-addr:value = '10.0.0.0']","valid_from":"2014-05-08T09:00:00.000000Z""#,
        ),
        &expect![[
            r#"{"type":"indicator","spec_version":"2.1","id":"indicator--33fe3b22-0201-47cf-85d0-97c02164528d","created":"2017-01-27T13:49:53.997Z","modified":"2017-01-27T13:49:53.997Z","labels":["phishing"],"pattern":"[ipv4-addr:value = '10.0.0.0']","pattern_type":"stix","valid_from":"2014-05-08T09:00:00.000000Z","indicator_types":["malicious-activity","attribution"]}"#
        ]],
    );
}

#[test]
fn indicator_with_only_free_labels_keeps_them() {
    check(
        &object(
            r#""type":"indicator","id":"indicator--33fe3b22-0201-47cf-85d0-97c02164528d","labels":["Phishing"],"pattern":"[ipv4-addr:value = '10.0.0.0']","pattern_type":"stix","valid_from":"2014-05-08T09:00:00Z""#,
        ),
        &expect![[
            r#"{"type":"indicator","spec_version":"2.1","id":"indicator--33fe3b22-0201-47cf-85d0-97c02164528d","created":"2017-01-27T13:49:53.997Z","modified":"2017-01-27T13:49:53.997Z","labels":["Phishing"],"pattern":"[ipv4-addr:value = '10.0.0.0']","pattern_type":"stix","valid_from":"2014-05-08T09:00:00Z"}"#
        ]],
    );
}

#[test]
fn malware_gets_types_and_is_family() {
    check(
        &object(
            r#""type":"malware","id":"malware--fdd60b30-b67c-41e3-b0b9-f01faf20d111","name":"Poison Ivy","labels":["remote-access-trojan"]"#,
        ),
        &expect![[
            r#"{"type":"malware","spec_version":"2.1","id":"malware--fdd60b30-b67c-41e3-b0b9-f01faf20d111","created":"2017-01-27T13:49:53.997Z","modified":"2017-01-27T13:49:53.997Z","is_family":true,"name":"Poison Ivy","malware_types":["remote-access-trojan"]}"#
        ]],
    );
    // An explicit is_family is kept.
    check(
        &object(
            r#""type":"malware","id":"malware--fdd60b30-b67c-41e3-b0b9-f01faf20d111","name":"x","is_family":false,"labels":["bot"]"#,
        ),
        &expect![[
            r#"{"type":"malware","spec_version":"2.1","id":"malware--fdd60b30-b67c-41e3-b0b9-f01faf20d111","created":"2017-01-27T13:49:53.997Z","modified":"2017-01-27T13:49:53.997Z","is_family":false,"name":"x","malware_types":["bot"]}"#
        ]],
    );
}

#[test]
fn threat_actor_tool_and_report_labels_move_to_their_types() {
    check(
        &object(
            r#""type":"threat-actor","id":"threat-actor--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","name":"Evil Org","labels":["crime-syndicate","x-other"]"#,
        ),
        &expect![[
            r#"{"type":"threat-actor","spec_version":"2.1","id":"threat-actor--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2017-01-27T13:49:53.997Z","modified":"2017-01-27T13:49:53.997Z","labels":["x-other"],"name":"Evil Org","threat_actor_types":["crime-syndicate"]}"#
        ]],
    );
    check(
        &object(
            r#""type":"tool","id":"tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","name":"VNC","labels":["remote-access"]"#,
        ),
        &expect![[
            r#"{"type":"tool","spec_version":"2.1","id":"tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2017-01-27T13:49:53.997Z","modified":"2017-01-27T13:49:53.997Z","name":"VNC","tool_types":["remote-access"]}"#
        ]],
    );
    check(
        &object(
            r#""type":"report","id":"report--f90bb8c1-8505-4d74-af34-3dcffec6b6d4","name":"R","published":"2021-08-24T10:53:28Z","object_refs":["identity--5d397c4b-3474-466a-80cd-624838d4ff94"],"labels":["threat-report","Threat-Report"]"#,
        ),
        &expect![[
            r#"{"type":"report","spec_version":"2.1","id":"report--f90bb8c1-8505-4d74-af34-3dcffec6b6d4","created":"2017-01-27T13:49:53.997Z","modified":"2017-01-27T13:49:53.997Z","labels":["Threat-Report"],"name":"R","published":"2021-08-24T10:53:28Z","object_refs":["identity--5d397c4b-3474-466a-80cd-624838d4ff94"],"report_types":["threat-report"]}"#
        ]],
    );
}

#[test]
fn identity_labels_stay_and_existing_21_properties_win() {
    check(
        &object(
            r#""type":"identity","id":"identity--f690c992-8e7d-4b9a-9303-3312616c0220","name":"ACME","identity_class":"organization","labels":["cert"]"#,
        ),
        &expect![[
            r#"{"type":"identity","spec_version":"2.1","id":"identity--f690c992-8e7d-4b9a-9303-3312616c0220","created":"2017-01-27T13:49:53.997Z","modified":"2017-01-27T13:49:53.997Z","labels":["cert"],"name":"ACME","identity_class":"organization"}"#
        ]],
    );
    check(
        &object(
            r#""type":"tool","id":"tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","name":"VNC","labels":["remote-access"],"tool_types":["exploitation"],"spec_version":"2.1""#,
        ),
        &expect![[
            r#"{"type":"tool","spec_version":"2.1","id":"tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2017-01-27T13:49:53.997Z","modified":"2017-01-27T13:49:53.997Z","labels":["remote-access"],"name":"VNC","tool_types":["exploitation"]}"#
        ]],
    );
}

#[test]
fn other_objects_only_get_spec_version() {
    check(
        &json!({"type": "x-acme", "id": "x-acme--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "labels": ["malicious-activity"]}),
        &expect![[
            r#"{"type":"x-acme","id":"x-acme--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","labels":["malicious-activity"],"spec_version":"2.1"}"#
        ]],
    );
    check(
        &json!({"type": "marking-definition", "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
                "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "definition": {"tlp": "green"}}),
        &expect![[
            r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","definition":{"tlp":"green"}}"#
        ]],
    );
}

#[test]
fn a_21_bundle_is_not_upgraded() {
    let bundle = json!({
        "type": "bundle",
        "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982",
        "objects": [{"type": "malware", "spec_version": "2.1", "id": "malware--fdd60b30-b67c-41e3-b0b9-f01faf20d111",
                     "created": "2017-01-27T13:49:53.997Z", "modified": "2017-01-27T13:49:53.997Z", "is_family": false, "labels": ["bot"]}]
    });
    let (parsed, version) = Bundle::parse_versioned(&serde_json::to_vec(&bundle).unwrap()).unwrap();
    assert_eq!(version, SpecVersion::V2_1);
    assert_eq!(serde_json::to_value(&parsed).unwrap(), bundle);
}
