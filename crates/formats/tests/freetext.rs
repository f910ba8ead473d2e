//! The `freetext` reader: every observable in any text, without a category or rejects.

mod common;

use proptest::prelude::*;
use watchfire_formats::{detect, format_by_name};
use watchfire_model::record::Record;

fn values(items: &[watchfire_formats::Item]) -> Vec<String> {
    common::records(items)
        .into_iter()
        .map(|record| match record {
            Record::Indicator(indicator) => {
                assert_eq!(indicator.category, None);
                let observable = indicator.observable().expect("an observable");
                format!("{} {}", observable.kind().as_str(), observable.value())
            }
            other => panic!("not an indicator: {other:?}"),
        })
        .collect()
}

#[test]
fn a_web_page_as_text() {
    let items = common::check_fixture("freetext", "cybercrime-tracker/index.php.html");
    assert!(common::rejects(&items).is_empty());
    let values = values(&items);
    assert!(values.contains(&"ipv4 51.15.130.100".to_owned()));
    assert!(values.contains(&"url https://www.virustotal.com/latest-scan/http://servicestatus.one/b2ccsaG/login.php".to_owned()));
}

#[test]
fn defanged_values_crlf_and_invalid_utf8() {
    let text = b"\xef\xbb\xbfC2 at hxxp://evil[.]example/gate\r\nalso 192.0.2[.]55 and \xff\xfe d41d8cd98f00b204e9800998ecf8427e\r\nnothing here";
    let items = common::read_bytes("freetext", "mail.txt", text).unwrap();
    expect_test::expect![[r#"
        [
            "url http://evil.example/gate",
            "ipv4 192.0.2.55",
            "md5 d41d8cd98f00b204e9800998ecf8427e",
        ]
    "#]]
    .assert_debug_eq(&values(&items));
}

#[test]
fn a_line_longer_than_the_chunk_cap_is_cut_at_whitespace() {
    let mut text = Vec::new();
    while text.len() < watchfire_formats::freetext::MAX_CHUNK + 1000 {
        text.extend_from_slice(b"word 198.51.100.7 ");
    }
    let n_words = text.len() / b"word 198.51.100.7 ".len();
    text.extend_from_slice(b"\nlast 203.0.113.9\n");
    let items = common::read_bytes("freetext", "long.txt", &text).unwrap();
    let values = values(&items);
    assert_eq!(values.len(), n_words + 1, "no hit lost or doubled at the cut");
    assert_eq!(values.last().map(String::as_str), Some("ipv4 203.0.113.9"));
}

#[test]
fn it_is_never_detected() {
    assert!(format_by_name("freetext").unwrap().detect.is_none());
    assert!(detect(b"see 192.0.2.1 and evil.example\n", "notes.txt").is_err());
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let items = common::read_bytes("freetext", "x.txt", &bytes).unwrap();
        prop_assert!(common::rejects(&items).is_empty());
    }
}
