//! Bad input yields a typed error that names the object and the property, never a panic.

use expect_test::{Expect, expect};
use serde_json::{Value, json};
use watchfire_model::stix::{Bundle, ErrorKind, StixObject};

fn bundle_with(object: &Value) -> Vec<u8> {
    let bundle = json!({
        "type": "bundle",
        "id": "bundle--5330e3e3-8f58-4d21-9f4b-793a054c0d33",
        "objects": [
            {"type": "ipv4-addr", "id": "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4", "value": "198.51.100.3"},
            object
        ]
    });
    serde_json::to_vec(&bundle).unwrap()
}

fn indicator_with(property: &str, value: Value) -> Value {
    let mut indicator = json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2016-04-06T20:03:48.000Z",
        "modified": "2016-04-06T20:03:48.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.1']",
        "pattern_type": "stix",
        "valid_from": "2016-04-06T20:03:48Z"
    });
    match value {
        Value::Null => indicator.as_object_mut().unwrap().remove(property),
        value => indicator.as_object_mut().unwrap().insert(property.to_owned(), value),
    };
    indicator
}

/// Parses `bytes`, expecting an error; snapshots its kind, location and message.
fn check(bytes: &[u8], expect: &Expect) {
    let error = Bundle::parse(bytes).expect_err("parsed");
    let actual = format!(
        "{:?} index={:?} id={:?} field={:?}\n{error}",
        error.kind(),
        error.object_index(),
        error.object_id(),
        error.field()
    );
    expect.assert_eq(&actual);
}

#[test]
fn truncated_json() {
    let whole = bundle_with(&indicator_with("x", json!(1)));
    check(
        &whole[..whole.len() / 2],
        &expect![[r#"
            Json index=None id=None field=None
            invalid json: EOF while parsing a string at line 1 column 231"#]],
    );
    check(
        b"",
        &expect![[r#"
        Json index=None id=None field=None
        invalid json: EOF while parsing a value at line 1 column 0"#]],
    );
}

#[test]
fn not_a_bundle() {
    check(
        b"[1, 2]",
        &expect![[r#"
        Bundle index=None id=None field=None
        expected a json object"#]],
    );
    check(
        br#"{"type": "indicator", "id": "bundle--5330e3e3-8f58-4d21-9f4b-793a054c0d33"}"#,
        &expect![[r#"
            Bundle index=None id=None field=Some("type")
            property type: expected "bundle""#]],
    );
    check(
        br#"{"type": "bundle", "id": "bundle--nope"}"#,
        &expect![[r#"
            Id index=None id=None field=Some("id")
            property id: invalid id "bundle--nope": bad uuid"#]],
    );
    check(
        br#"{"type": "bundle", "id": "bundle--5330e3e3-8f58-4d21-9f4b-793a054c0d33", "objects": {}}"#,
        &expect![[r#"
            Bundle index=None id=None field=Some("objects")
            property objects: expected a list"#]],
    );
}

#[test]
fn wrong_id_format() {
    check(
        &bundle_with(&indicator_with("id", json!("indicator--8e2e2d2b"))),
        &expect![[r#"
            Object index=Some(1) id=Some("indicator--8e2e2d2b") field=Some("id")
            object 1 (indicator--8e2e2d2b): property id: invalid id "indicator--8e2e2d2b": bad uuid"#]],
    );
    check(
        &bundle_with(&indicator_with(
            "created_by_ref",
            json!("identity_f690c992-8e7d-4b9a-9303-3312616c0220"),
        )),
        &expect![[r#"
            Object index=Some(1) id=Some("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f") field=Some("created_by_ref")
            object 1 (indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f): property created_by_ref: invalid id "identity_f690c992-8e7d-4b9a-9303-3312616c0220": expected <type>--<uuid>"#]],
    );
    check(
        &bundle_with(&indicator_with("id", json!("malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"))),
        &expect![[r#"
            Object index=Some(1) id=Some("malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f") field=Some("id")
            object 1 (malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f): property id: id does not match the type"#]],
    );
}

#[test]
fn bad_timestamps() {
    check(
        &bundle_with(&indicator_with("modified", json!("2016-02-30T20:03:48.000Z"))),
        &expect![[r#"
            Object index=Some(1) id=Some("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f") field=Some("modified")
            object 1 (indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f): property modified: invalid timestamp "2016-02-30T20:03:48.000Z": no such date"#]],
    );
    check(
        &bundle_with(&indicator_with("valid_from", json!("2016-04-06 20:03:48+01:00"))),
        &expect![[r#"
            Object index=Some(1) id=Some("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f") field=Some("valid_from")
            object 1 (indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f): property valid_from: invalid timestamp "2016-04-06 20:03:48+01:00": expected YYYY-MM-DDTHH:MM:SS"#]],
    );
    let widget = json!({"type": "x-widget", "id": "x-widget--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "yesterday"});
    check(
        &bundle_with(&widget),
        &expect![[r#"
            Object index=Some(1) id=Some("x-widget--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f") field=Some("created")
            object 1 (x-widget--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f): property created: invalid timestamp "yesterday": too short"#]],
    );
}

#[test]
fn missing_and_mistyped_properties() {
    check(
        &bundle_with(&indicator_with("pattern", Value::Null)),
        &expect![[r#"
            Object index=Some(1) id=Some("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f") field=Some("pattern")
            object 1 (indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f): property pattern: missing"#]],
    );
    check(
        &bundle_with(&indicator_with("confidence", json!("high"))),
        &expect![[r#"
            Object index=Some(1) id=Some("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f") field=Some("confidence")
            object 1 (indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f): property confidence: invalid type: string "high", expected u8"#]],
    );
    check(
        &bundle_with(&indicator_with("confidence", json!(101))),
        &expect![[r#"
            Object index=Some(1) id=Some("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f") field=Some("confidence")
            object 1 (indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f): property confidence: confidence above 100"#]],
    );
    check(
        &bundle_with(&indicator_with(
            "external_references",
            json!([{"source_name": "x", "url": null}]),
        )),
        &expect![[r#"
            Object index=Some(1) id=Some("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f") field=Some("external_references")
            object 1 (indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f): property external_references: invalid type: null, expected a string"#]],
    );
    check(
        &bundle_with(&json!({"id": "x-widget--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"})),
        &expect![[r#"
            Object index=Some(1) id=Some("x-widget--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f") field=Some("type")
            object 1 (x-widget--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f): property type: missing"#]],
    );
    check(
        &bundle_with(&json!("indicator")),
        &expect![[r#"
            Object index=Some(1) id=None field=None
            object 1: expected a json object"#]],
    );
}

#[test]
fn lenient_parsing_keeps_the_good_objects() {
    let bytes = bundle_with(&indicator_with("created", json!("bad")));
    let parsed = Bundle::parse_lenient(&bytes).unwrap();
    assert_eq!(parsed.bundle.objects.len(), 1);
    assert_eq!(parsed.bundle.objects[0].object_type(), "ipv4-addr");
    assert_eq!(parsed.rejects.len(), 1);
    assert_eq!(parsed.rejects[0].object_index(), Some(1));
    assert_eq!(parsed.rejects[0].field(), Some("created"));
    assert_eq!(parsed.rejects[0].kind(), ErrorKind::Object);
}

#[test]
fn single_objects_deserialise_with_the_same_checks() {
    let error =
        serde_json::from_value::<StixObject>(indicator_with("valid_from", json!(5))).unwrap_err();
    assert_eq!(
        error.to_string(),
        "property valid_from: invalid type: integer `5`, expected a string"
    );
}
