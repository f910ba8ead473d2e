//! The streaming JSON splitter: element boundaries, lines, strings and escapes, caps, breaks.

use std::fmt::Write as _;

use expect_test::{Expect, expect};
use proptest::prelude::*;
use watchfire_formats::json_stream::{Piece, Splitter};

/// Splits `document` (splitting `objects` and `response`) with an element cap of `max` bytes
/// and renders every piece on one line.
fn render(document: &str, max: usize) -> String {
    let mut splitter =
        Splitter::with_max_element(document.as_bytes(), &["objects", "response"], max);
    let mut out = String::new();
    loop {
        match splitter.next_piece() {
            Ok(None) => break,
            Ok(Some(Piece::Property { name, line, value })) => {
                let _ = writeln!(
                    out,
                    "property {name} line {line}: {}",
                    String::from_utf8_lossy(value)
                );
            }
            Ok(Some(Piece::Element { key, index, line, bytes })) => {
                let _ = writeln!(
                    out,
                    "element {key:?}[{index}] line {line}: {}",
                    String::from_utf8_lossy(bytes)
                );
            }
            Ok(Some(Piece::Reject { line, reason })) => {
                let _ = writeln!(out, "reject line {line}: {reason}");
            }
            Err(error) => {
                let _ = writeln!(out, "error: {error}");
            }
        }
    }
    out
}

fn check(document: &str, expect: &Expect) {
    expect.assert_eq(&render(document, 1 << 20));
}

#[test]
fn splits_a_bundle_and_keeps_its_properties() {
    check(
        "{\"type\": \"bundle\",\n \"objects\": [\n  {\"a\": \"x]}\\\"\"},\n  {\"b\": [1, {\"c\": null}]}\n ],\n \"spec_version\": \"2.0\"\n}\n",
        &expect![[r#"
            property type line 1: "bundle"
            element Some("objects")[0] line 3: {"a": "x]}\""}
            element Some("objects")[1] line 4: {"b": [1, {"c": null}]}
            property spec_version line 6: "2.0"
        "#]],
    );
}

#[test]
fn splits_a_top_level_array_of_any_values() {
    check(
        "[1, -2.5e3 ,\"s\\\\\", true,\r\n null, [], {}]",
        &expect![[r#"
            element None[0] line 1: 1
            element None[1] line 1: -2.5e3
            element None[2] line 1: "s\\"
            element None[3] line 1: true
            element None[4] line 2: null
            element None[5] line 2: []
            element None[6] line 2: {}
        "#]],
    );
}

#[test]
fn a_split_member_that_is_no_array_is_one_element() {
    check(
        "{\"response\": {\"Event\": {}}, \"objects\": []}",
        &expect![[r#"
            element Some("response")[0] line 1: {"Event": {}}
        "#]],
    );
}

#[test]
fn truncation_names_the_unfinished_element() {
    check(
        "{\"objects\": [\n{\"a\": 1},\n{\"b\":\n \"unfinished",
        &expect![[r#"
            element Some("objects")[0] line 2: {"a": 1}
            error: line 3: truncated document: the element starting here is unfinished
        "#]],
    );
    check(
        "{\"objects\": [{\"a\": 1}\n",
        &expect![[r#"
            element Some("objects")[0] line 1: {"a": 1}
            error: line 2: truncated document: no closing ]
        "#]],
    );
}

#[test]
fn broken_shapes_end_splitting() {
    check(
        "",
        &expect![[r#"
        error: line 1: empty document
    "#]],
    );
    check(
        "\"just a string\"",
        &expect![[r#"
        error: line 1: expected a json object or array
    "#]],
    );
    check(
        "[1 2]",
        &expect![[r#"
        element None[0] line 1: 1
        error: line 1: expected , or ] after an element
    "#]],
    );
    check(
        "[{\"a\": [1}]",
        &expect![[r#"
        error: line 1: mismatched bracket
    "#]],
    );
    check(
        "{\"a\": 1} x",
        &expect![[r#"
        property a line 1: 1
        error: line 1: data after the end of the document
    "#]],
    );
}

#[test]
fn an_element_over_the_cap_is_a_reject_and_splitting_goes_on() {
    expect![[r#"
        element Some("objects")[0] line 1: "short"
        reject line 2: element larger than 10 bytes
        element Some("objects")[2] line 3: 3
        reject line 3: property "big" is larger than 10 bytes
    "#]]
    .assert_eq(&render(
        "{\"objects\": [\"short\",\n\"much longer than ten\",\n3], \"big\": [1,2,3,4,5,6]}",
        10,
    ));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut splitter = Splitter::new(bytes.as_slice(), &["objects"]);
        for _ in 0..1000 {
            match splitter.next_piece() {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
    }

    #[test]
    fn json_like_bytes_never_panic(text in "[\\[\\]{}\",:\\\\ \na-c0-9]{0,200}") {
        let mut splitter = Splitter::new(text.as_bytes(), &["a", "b"]);
        while let Ok(Some(_)) = splitter.next_piece() {}
    }

    #[test]
    fn elements_match_serde(values in proptest::collection::vec(any::<(String, i64, bool)>(), 0..8)) {
        let document = serde_json::to_string_pretty(&serde_json::json!({ "objects": values })).unwrap();
        let mut splitter = Splitter::new(document.as_bytes(), &["objects"]);
        let mut elements = Vec::new();
        while let Some(piece) = splitter.next_piece().unwrap() {
            if let Piece::Element { bytes, .. } = piece {
                elements.push(serde_json::from_slice::<(String, i64, bool)>(bytes).unwrap());
            }
        }
        prop_assert_eq!(elements, values);
    }
}
