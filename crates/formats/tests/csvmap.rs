//! The TOML-mapped CSV reader: mapping validation errors, the splitter's edge cases, and every
//! built-in mapping parsing.

mod common;

use std::io::Cursor;

use common::{records, rejects};
use watchfire_formats::csvmap::{BUILTIN, CsvMapping, builtin, read_with_mapping};
use watchfire_formats::{Context, Item};
use watchfire_model::record::Record;

fn read(mapping: &str, input: &str) -> Vec<Item> {
    let mapping = CsvMapping::from_toml(mapping).unwrap_or_else(|error| panic!("{error}"));
    let mut items = Vec::new();
    read_with_mapping(
        &mapping,
        &mut Cursor::new(input.as_bytes()),
        &Context::new("t.csv"),
        &mut |item| items.push(item),
    )
    .unwrap();
    items
}

fn values(items: &[Item]) -> Vec<String> {
    records(items)
        .iter()
        .map(|record| match record {
            Record::Indicator(indicator) => {
                indicator.observable().map_or_else(String::new, ToString::to_string)
            }
            _ => String::new(),
        })
        .collect()
}

fn error(mapping: &str) -> String {
    CsvMapping::from_toml(mapping).expect_err("an invalid mapping").to_string()
}

#[test]
fn every_builtin_mapping_is_valid() {
    for (name, _) in BUILTIN {
        builtin(name).unwrap_or_else(|error| panic!("{name}: {error}"));
    }
}

#[test]
fn mapping_errors_name_the_key() {
    let cases = [
        ("[fields]\nvalue = { index = 0, kidn = \"ipv4\" }", "fields.value: unknown field `kidn`"),
        ("[fields]\nvalue = { index = 0 }", "fields.value.kind: is required"),
        (
            "[fields]\nvalue = { index = 0, kind = \"ipv5\" }",
            "fields.value.kind: unknown observable kind \"ipv5\"",
        ),
        (
            "[fields]\nvalue = { column = \"ip\", kind = \"auto\" }",
            "fields.value.column: the mapping has header = \"none\"",
        ),
        (
            "delimeter = \";\"\n[fields]\nvalue = { index = 0, kind = \"auto\" }",
            "unknown field `delimeter`",
        ),
        (
            "[defaults]\ncategory = \"c2\"\n[fields]\nvalue = { index = 0, kind = \"auto\" }",
            "defaults.category: unknown category \"c2\"",
        ),
        (
            "[defaults]\nconfidence = 101\n[fields]\nvalue = { index = 0, kind = \"auto\" }",
            "defaults.confidence: 101 is over 100",
        ),
        (
            "[fields]\nvalue = { index = 0, kind = \"auto\" }\nport = { index = 1, kind = \"ipv4\" }",
            "fields.port.kind: only applies to fields.value",
        ),
        (
            "[fields]\nvalue = { index = 0, kind = \"auto\" }\ncategory = { index = 1, map = { x = \"c2\" } }",
            "fields.category.map.\"x\": unknown category \"c2\"",
        ),
        (
            "[fields]\nvalue = { index = 0, kind = \"auto\" }\nmalware = { index = 1, separator = \",\" }",
            "fields.malware.separator: only applies to fields.tags",
        ),
        (
            "quote = \"''\"\n[fields]\nvalue = { index = 0, kind = \"auto\" }",
            "quote: \"''\" is more than one character",
        ),
        (
            "[fields]\nvalue = { index = 0, kind = \"md5\", pattern = \"[x:y = 'z']\" }",
            "fields.value.pattern: must contain {value}",
        ),
        ("[fields]\nvalue = []", "fields.value: needs at least one column"),
        ("delimiter = \",\"", "missing field `fields`"),
    ];
    for (mapping, expected) in cases {
        let message = error(mapping);
        assert!(message.contains(expected), "{mapping}\n  gave: {message}\n  want: {expected}");
    }
}

#[test]
fn header_row_names_and_negative_indexes() {
    let mapping = "header = \"row\"\ndelimiter = \"|\"\n[fields]\nvalue = { column = \"ip\", kind = \"ipv4\" }\n\
        last_seen = { index = -2 }\ncategory = { index = -1, map = { sshpwauth = \"brute_force\" } }";
    let items = read(
        mapping,
        "asn | name | ip | seen | cat\n1 | a | b | 192.0.2.1 | 2024-01-01 | sshpwauth\n",
    );
    // The value column is found by name in the header, so the pipe inside the name shifts it.
    assert_eq!(
        rejects(&items)[0].reason,
        "column 3 (ip): invalid observable \"b\": ipv4 address is not four dot-separated decimal octets"
    );
    let items =
        read(mapping, "asn | name | ip | seen | cat\n1 | a | 192.0.2.1 | 2024-01-01 | sshpwauth\n");
    let Record::Indicator(record) = records(&items)[0] else { panic!() };
    assert_eq!(record.category.map(watchfire_model::record::Category::as_str), Some("brute_force"));
    assert_eq!(record.last_seen.as_ref().unwrap().as_str(), "2024-01-01T00:00:00.000Z");
}

#[test]
fn multi_character_delimiter_and_quotes() {
    let mapping = "delimiter = '\", \"'\n[fields]\nvalue = { index = 1, kind = \"auto\", ip_port = true }\ntags = { index = 2, separator = \",\" }";
    let items = read(mapping, "\"2024-07-16\", \"192.0.2.1:443\", \"a,b\"\n");
    let Record::Indicator(record) = records(&items)[0] else { panic!() };
    assert_eq!(record.port, Some(443));
    assert_eq!(record.tags, ["a", "b"]);
}

#[test]
fn quoted_cells_may_span_lines_and_hold_quotes() {
    let mapping = "header = \"row\"\n[fields]\nvalue = { column = \"url\", kind = \"url\" }\ndescription = { column = \"note\" }";
    let items = read(
        mapping,
        "url,note\r\nhttp://a.example/x,\"two\r\nlines, \"\"quoted\"\"\"\r\nhttp://b.example/,plain\r\nhttp://c.example/,\"open\n",
    );
    assert_eq!(values(&items), ["http://a.example/x", "http://b.example/"]);
    let Record::Indicator(record) = records(&items)[0] else { panic!() };
    assert_eq!(record.description.as_deref(), Some("two\nlines, \"quoted\""));
    let reject = rejects(&items)[0];
    assert_eq!(
        (reject.line, reject.reason.as_str()),
        (5, "quoted cell is not closed at the end of the input")
    );
}

#[test]
fn value_alternatives_none_values_and_defaults() {
    let mapping = "header = \"row\"\nnone_values = [\"-\"]\n[defaults]\ncategory = \"phishing\"\ntlp = \"amber\"\ntags = [\"x\"]\n\
        [fields]\nvalue = [{ column = \"url\", kind = \"url\" }, { column = \"ip\", kind = \"ipv4\" }]\ntlp = { column = \"tlp\" }";
    let items = read(mapping, "url,ip,tlp\n-,192.0.2.7,green\nhttp://a.example/,192.0.2.8,\n,,\n");
    assert_eq!(values(&items), ["192.0.2.7", "http://a.example/"]);
    let Record::Indicator(record) = records(&items)[0] else { panic!() };
    assert_eq!(record.tlp.map(watchfire_model::tlp::Tlp::as_str), Some("TLP:GREEN"));
    let Record::Indicator(record) = records(&items)[1] else { panic!() };
    assert_eq!(record.tlp.map(watchfire_model::tlp::Tlp::as_str), Some("TLP:AMBER"));
    assert_eq!(record.tags, ["x"]);
    assert_eq!(rejects(&items)[0].line, 4);
}

#[test]
fn a_missing_value_column_in_the_header_is_an_error() {
    let mapping = CsvMapping::from_toml(
        "header = \"row\"\n[fields]\nvalue = { column = \"url\", kind = \"url\" }",
    )
    .unwrap();
    let error = read_with_mapping(
        &mapping,
        &mut Cursor::new(b"a,b\n1,2\n".to_vec()),
        &Context::new("t.csv"),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "t.csv: the header has no value column [\"url\"]");
}

#[test]
fn a_toml_error_points_at_the_line() {
    let message = error("[fields]\nvalue = { index = 0, kind = \"auto\" }\nport = { idx = 1 }");
    assert!(message.starts_with("bad csv mapping: TOML parse error at line 3"), "{message}");
}
