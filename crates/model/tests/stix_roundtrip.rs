//! Unknown types, custom and unknown properties, and empty values survive parse -> serialise.

use serde_json::{Value, json};
use watchfire_model::stix::{Bundle, StixObject, Timestamp};

const ID: &str = "bundle--5330e3e3-8f58-4d21-9f4b-793a054c0d33";

fn bundle_of(objects: &Value) -> Value {
    json!({"type": "bundle", "id": ID, "objects": objects})
}

/// Parses `input`, checks that serialising gives the same JSON value back, and returns the bundle.
fn check_round_trip(input: &Value) -> Bundle {
    let bytes = serde_json::to_vec(input).unwrap();
    let bundle = Bundle::parse(&bytes).unwrap_or_else(|error| panic!("{error}"));
    let output = serde_json::to_value(&bundle).unwrap();
    assert_eq!(&output, input);
    bundle
}

fn indicator() -> Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2016-04-06T20:03:48.000Z",
        "modified": "2016-04-06T20:03:48.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.1']",
        "pattern_type": "stix",
        "valid_from": "2016-04-06T20:03:48Z"
    })
}

#[test]
fn custom_and_unknown_properties_round_trip() {
    let mut object = indicator();
    let extra = json!({
        "x_acme_score": 7.25,
        "x_acme_tags": ["a", {"nested": [1, 2, {"deep": null}]}],
        "future_property": {"a": 1},
        "confidence": 85,
        "labels": ["phishing"],
        "external_references": [{"source_name": "acme", "x_custom": true, "hashes": {"SHA-256": "ab"}}],
        "kill_chain_phases": [{"kill_chain_name": "lockheed", "phase_name": "delivery", "x_step": 3}],
        "granular_markings": [{"marking_ref": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "selectors": ["description"]}],
        "extensions": {"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e": {"extension_type": "property-extension", "rank": 5}}
    });
    object.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let bundle = check_round_trip(&bundle_of(&json!([object])));
    let StixObject::Indicator(indicator) = &bundle.objects[0] else { panic!("not an indicator") };
    assert_eq!(indicator.confidence, Some(85));
    assert_eq!(indicator.labels, ["phishing"]);
    assert_eq!(indicator.extra["x_acme_score"], json!(7.25));
    assert_eq!(indicator.extra["future_property"], json!({"a": 1}));
    assert!(!indicator.extra.contains_key("confidence"), "typed properties stay out of extra");
    assert_eq!(indicator.external_references[0].extra["x_custom"], json!(true));
    assert_eq!(indicator.kill_chain_phases[0].phase_name, "delivery");
}

#[test]
fn objects_of_other_types_round_trip_as_generic_objects() {
    let objects = json!([
        {"type": "x-acme-widget", "id": "x-acme-widget--4527e5de-8572-446a-a57a-706f15467461", "spec_version": "2.1",
         "created": "2020-01-01T00:00:00Z", "modified": "2020-01-01T00:00:00Z", "power": 9001,
         "object_marking_refs": ["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]},
        {"type": "process", "id": "process--f52a906a-0dfc-40bd-92f1-e7778ead38a9", "spec_version": "2.1", "pid": 1221,
         "command_line": "./gedit-bin --new-window"},
        {"type": "network-traffic", "id": "network-traffic--2568d22a-8998-58eb-99ec-3c8ca74f527d", "src_ref": "ipv4-addr--4d22aae0-2bf9-5427-8819-e4f6abf20a53",
         "protocols": ["tcp"], "src_port": 2487},
        {"type": "extension-definition", "id": "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e", "spec_version": "2.1",
         "created_by_ref": "identity--11b76a96-5d2b-45e0-8a5a-f6994f370731", "created": "2014-02-20T09:16:08.989000Z",
         "modified": "2014-02-20T09:16:08.989000Z", "name": "New SDO 1", "schema": "https://example.com/schema.json",
         "version": "1.2.1", "extension_types": ["new-sdo"]},
        {"type": "language-content", "id": "language-content--b86bd89f-98bb-4fa9-8cb2-9ad421da981d", "spec_version": "2.1",
         "created": "2017-02-08T21:31:22.007Z", "modified": "2017-02-08T21:31:22.007Z",
         "object_ref": "campaign--12a111f0-b824-4baf-a224-83b80237a094", "object_modified": "2017-02-08T21:31:22.007Z",
         "contents": {"de": {"name": "Bank Angriff 1"}}}
    ]);
    let bundle = check_round_trip(&bundle_of(&objects));
    let types: Vec<&str> = bundle.objects.iter().map(StixObject::object_type).collect();
    assert_eq!(
        types,
        ["x-acme-widget", "process", "network-traffic", "extension-definition", "language-content"]
    );
    assert!(bundle.objects.iter().all(|object| matches!(object, StixObject::Other(_))));
    let widget = &bundle.objects[0];
    assert_eq!(widget.id().as_str(), "x-acme-widget--4527e5de-8572-446a-a57a-706f15467461");
    assert_eq!(widget.created().map(Timestamp::as_str), Some("2020-01-01T00:00:00Z"));
    assert_eq!(widget.object_marking_refs()[0].object_type(), "marking-definition");
    let StixObject::Other(generic) = widget else { panic!() };
    assert_eq!(generic.properties()["power"], json!(9001));
}

#[test]
fn null_and_empty_values_round_trip() {
    let mut object = indicator();
    let empties =
        json!({"description": null, "labels": [], "extensions": {}, "name": "", "x_empty": []});
    object.as_object_mut().unwrap().extend(empties.as_object().unwrap().clone());
    let bundle = check_round_trip(&bundle_of(&json!([object])));
    let StixObject::Indicator(indicator) = &bundle.objects[0] else { panic!() };
    assert_eq!(indicator.description, None);
    assert!(indicator.labels.is_empty());
    assert_eq!(indicator.name.as_deref(), Some(""));
    // An empty `objects` list and extra bundle properties round-trip too.
    check_round_trip(&json!({"type": "bundle", "id": ID, "objects": [], "x_note": "n"}));
    check_round_trip(&json!({"type": "bundle", "id": ID}));
}

#[test]
fn typed_objects_of_every_kind_round_trip() {
    let common = |object_type: &str, uuid: &str| {
        json!({"type": object_type, "spec_version": "2.1", "id": format!("{object_type}--{uuid}"),
               "created": "2020-02-02T02:02:02.020Z", "modified": "2020-02-02T02:02:02.020Z"})
    };
    let uuid = "0f4a4e8c-39b7-4c1d-9c2c-07ad9f6e2c21";
    let specifics = [
        (
            "attack-pattern",
            json!({"name": "Spear Phishing", "aliases": ["sp"], "kill_chain_phases": [{"kill_chain_name": "k", "phase_name": "p"}]}),
        ),
        (
            "campaign",
            json!({"name": "Green Group", "first_seen": "2016-04-06T20:03:00Z", "objective": "x"}),
        ),
        ("course-of-action", json!({"name": "Block"})),
        (
            "grouping",
            json!({"context": "suspicious-activity", "object_refs": ["indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2"]}),
        ),
        (
            "identity",
            json!({"name": "ACME", "identity_class": "organization", "sectors": ["technology"], "roles": ["r"]}),
        ),
        ("incident", json!({"name": "Breach"})),
        (
            "infrastructure",
            json!({"name": "C2", "infrastructure_types": ["command-and-control"], "last_seen": "2020-01-01T00:00:00Z"}),
        ),
        (
            "intrusion-set",
            json!({"name": "APT1", "goals": ["g"], "resource_level": "government", "primary_motivation": "x"}),
        ),
        (
            "location",
            json!({"latitude": 48, "longitude": 2.35, "precision": 1000.0, "country": "fr", "city": "Paris"}),
        ),
        (
            "malware",
            json!({"name": "Poison Ivy", "is_family": false, "malware_types": ["remote-access-trojan"], "sample_refs": ["file--00967b13-6ef8-53e0-ac11-fcfb64b3c756"]}),
        ),
        (
            "note",
            json!({"abstract": "A", "content": "B", "authors": ["me"], "object_refs": ["campaign--12a111f0-b824-4baf-a224-83b80237a094"]}),
        ),
        (
            "observed-data",
            json!({"first_observed": "2015-12-21T19:00:00Z", "last_observed": "2015-12-21T19:00:00Z", "number_observed": 50, "object_refs": ["ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"]}),
        ),
        (
            "opinion",
            json!({"opinion": "strongly-disagree", "explanation": "no", "object_refs": ["campaign--12a111f0-b824-4baf-a224-83b80237a094"]}),
        ),
        (
            "report",
            json!({"name": "R", "published": "2016-01-20T17:00:00.000Z", "report_types": ["campaign"], "object_refs": ["campaign--12a111f0-b824-4baf-a224-83b80237a094"]}),
        ),
        (
            "threat-actor",
            json!({"name": "Evil Org", "threat_actor_types": ["crime-syndicate"], "sophistication": "expert", "personal_motivations": ["x"]}),
        ),
        ("tool", json!({"name": "VNC", "tool_types": ["remote-access"], "tool_version": "1.0"})),
        (
            "vulnerability",
            json!({"name": "CVE-2016-1234", "external_references": [{"source_name": "cve", "external_id": "CVE-2016-1234"}]}),
        ),
        (
            "relationship",
            json!({"relationship_type": "indicates", "source_ref": "indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2", "target_ref": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b", "start_time": "2016-01-01T00:00:00Z"}),
        ),
        (
            "sighting",
            json!({"sighting_of_ref": "indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2", "count": 3, "where_sighted_refs": ["identity--b67d30ff-02ac-498a-92f9-32f845f448ff"], "summary": false}),
        ),
        (
            "marking-definition",
            json!({"name": "TLP:GREEN", "definition_type": "tlp", "definition": {"tlp": "green"}}),
        ),
    ];
    let mut objects = Vec::new();
    for (object_type, specific) in specifics {
        let mut object = common(object_type, uuid);
        let object_map = object.as_object_mut().unwrap();
        if object_type == "marking-definition" {
            object_map.remove("modified");
        }
        object_map.extend(specific.as_object().unwrap().clone());
        objects.push(object);
    }
    let scos = json!([
        {"type": "autonomous-system", "id": "autonomous-system--3aa27478-50b5-5ab8-9da9-cdc12b657fff", "number": 15139, "name": "Slime Industries", "rir": "ARIN"},
        {"type": "domain-name", "spec_version": "2.1", "id": "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7", "value": "example.com", "resolves_to_refs": ["ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"]},
        {"type": "email-addr", "id": "email-addr--6deb37bd-12b7-54ae-805f-5f7146f3d171", "value": "jdoe@example.com", "display_name": "John Doe"},
        {"type": "file", "id": "file--02fff920-f614-527c-81d1-6353633a6d21", "hashes": {"MD5": "d41d8cd98f00b204e9800998ecf8427e", "SHA3-256": "x"}, "size": 0, "name": "empty", "mtime": "2020-01-01T00:00:00Z", "defanged": false},
        {"type": "ipv4-addr", "id": "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4", "value": "198.51.100.3", "belongs_to_refs": ["autonomous-system--3aa27478-50b5-5ab8-9da9-cdc12b657fff"]},
        {"type": "ipv6-addr", "id": "ipv6-addr--6469e3a9-b053-5e34-a025-9396ae051d26", "value": "2001:db8::1"},
        {"type": "url", "id": "url--b824cd67-7670-5ef1-bcf7-1605f3bb3d69", "value": "https://example.com/a?b=1&c='d'"}
    ]);
    objects.extend(scos.as_array().unwrap().iter().cloned());
    let bundle = check_round_trip(&bundle_of(&Value::Array(objects)));
    assert!(
        bundle.objects.iter().all(|object| !matches!(object, StixObject::Other(_))),
        "every object is typed"
    );
    assert!(bundle.objects.iter().all(|object| object.id().object_type() == object.object_type()));
    let StixObject::MarkingDefinition(marking) = &bundle.objects[19] else { panic!() };
    assert_eq!(marking.tlp_v1_level(), Some("green"));
    let StixObject::Location(location) = &bundle.objects[8] else { panic!() };
    assert_eq!(location.latitude.as_ref().and_then(serde_json::Number::as_f64), Some(48.0));
}

#[test]
fn tlp2_marking_keeps_its_extension() {
    let marking = json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:GREEN",
        "extensions": {
            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {"extension_type": "property-extension", "tlp_2_0": "green"}
        }
    });
    let bundle = check_round_trip(&bundle_of(&json!([marking])));
    let StixObject::MarkingDefinition(marking) = &bundle.objects[0] else { panic!() };
    assert_eq!(marking.name.as_deref(), Some("TLP:GREEN"));
    assert_eq!(marking.tlp_v1_level(), None);
    let extension =
        &marking.extensions["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"];
    assert_eq!(extension["tlp_2_0"], json!("green"));
}
