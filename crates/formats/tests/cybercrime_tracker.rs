//! The `cybercrime-tracker` reader on the tracker's index page.

mod common;

use proptest::prelude::*;
use watchfire_formats::detect;
use watchfire_model::record::{Category, IndicatorRecord, Record};

fn summaries(items: &[watchfire_formats::Item]) -> Vec<String> {
    common::records(items)
        .into_iter()
        .filter_map(|record| match record {
            Record::Indicator(indicator) => Some(summary(indicator)),
            _ => None,
        })
        .collect()
}

fn summary(indicator: &IndicatorRecord) -> String {
    let observable = indicator.observable().expect("an observable");
    format!(
        "{} {} {:?} {:?} {:?}",
        observable.kind().as_str(),
        observable.value(),
        indicator.category.map(Category::as_str),
        indicator.malware,
        indicator.first_seen.as_ref().map(|time| time.as_str().to_owned()),
    )
}

#[test]
fn index_fixture() {
    let items = common::check_fixture("cybercrime-tracker", "cybercrime-tracker/index.php.html");
    assert!(common::rejects(&items).is_empty());
    expect_test::expect![[r#"
        [
            "url http://servicestatus.one/b2ccsaG/login.php Some(\"botnet_c2\") Some(\"Amadey\") Some(\"2019-02-15T00:00:00.000Z\")",
            "ipv4 51.15.130.100 Some(\"botnet_c2\") Some(\"Amadey\") Some(\"2019-02-15T00:00:00.000Z\")",
            "url http://checkz.tk/base/admin.php Some(\"botnet_c2\") Some(\"Pony\") Some(\"2019-02-13T00:00:00.000Z\")",
            "ipv4 176.114.9.43 Some(\"botnet_c2\") Some(\"Pony\") Some(\"2019-02-13T00:00:00.000Z\")",
            "url http://qick.icu/panel/admin.php Some(\"botnet_c2\") Some(\"AZORult\") Some(\"2019-02-13T00:00:00.000Z\")",
            "ipv4 51.68.170.34 Some(\"botnet_c2\") Some(\"AZORult\") Some(\"2019-02-13T00:00:00.000Z\")",
            "url http://rgshops.ru/ Some(\"botnet_c2\") Some(\"Gazorp\") Some(\"2019-02-11T00:00:00.000Z\")",
            "ipv4 81.90.180.146 Some(\"botnet_c2\") Some(\"Gazorp\") Some(\"2019-02-11T00:00:00.000Z\")",
            "url http://bixtoj.gq/sc01/panel/admin.php Some(\"botnet_c2\") Some(\"AZORult\") Some(\"2019-02-11T00:00:00.000Z\")",
            "ipv4 185.195.236.147 Some(\"botnet_c2\") Some(\"AZORult\") Some(\"2019-02-11T00:00:00.000Z\")",
            "url http://190.97.166.194/WebPanel/login.php Some(\"botnet_c2\") Some(\"Tesla\") Some(\"2019-02-09T00:00:00.000Z\")",
            "url http://solaceday.xyz/newlife/panel/admin.php Some(\"botnet_c2\") Some(\"Pony\") Some(\"2019-02-09T00:00:00.000Z\")",
            "ipv4 89.41.173.146 Some(\"botnet_c2\") Some(\"Pony\") Some(\"2019-02-09T00:00:00.000Z\")",
            "url http://solaceday.xyz/tscl/panel/admin.php Some(\"botnet_c2\") Some(\"Pony\") Some(\"2019-02-09T00:00:00.000Z\")",
            "ipv4 89.41.173.146 Some(\"botnet_c2\") Some(\"Pony\") Some(\"2019-02-09T00:00:00.000Z\")",
            "url http://tansu.ir/pony/admin.php Some(\"botnet_c2\") Some(\"Pony\") Some(\"2019-02-09T00:00:00.000Z\")",
            "ipv4 94.130.195.117 Some(\"botnet_c2\") Some(\"Pony\") Some(\"2019-02-09T00:00:00.000Z\")",
        ]
    "#]]
    .assert_debug_eq(&summaries(&items));
}

#[test]
fn the_fixture_and_a_titled_page_are_detected() {
    let bytes = std::fs::read(common::fixture("cybercrime-tracker/index.php.html")).unwrap();
    assert_eq!(
        detect(&bytes, "index.php").map(|format| format.name).ok(),
        Some("cybercrime-tracker")
    );
    let page = b"<html><head><title>CyberCrime</title></head><body></body></html>";
    assert_eq!(
        detect(page, "index.php").map(|format| format.name).ok(),
        Some("cybercrime-tracker")
    );
    assert!(detect(b"<html><head><title>Other</title></head></html>", "index.php").is_err());
}

#[test]
fn unclosed_cells_layout_rows_and_bad_values() {
    let page = "<html><head><title>CyberCrime</title><script>var a = '<tr><td>x';</script></head>\r\n\
        <table><tr><td>menu</td></tr></table>\r\n\
        <table class=ExploitTable><tr><td>-::TYPE<td>-::DATE<td>-::URL<td>-::IP</tr>\r\n\
        <tr><td>Pony<td>01-02-2019<td>evil.example.com/gate.php<td><a href=x>192.0.2.1</a>\r\n\
        <tr><td>Pony<td>31-02-2019<td>bad host!/x<td>192.0.2.999</tr>\r\n\
        <tr><td></td><td></td></tr>\r\n\
        </table><table><tr><td>footer</td></tr></table>";
    let items = common::read_bytes("cybercrime-tracker", "index.php", page.as_bytes()).unwrap();
    expect_test::expect![[r#"
        [
            "url http://evil.example.com/gate.php Some(\"botnet_c2\") Some(\"Pony\") Some(\"2019-02-01T00:00:00.000Z\")",
            "ipv4 192.0.2.1 Some(\"botnet_c2\") Some(\"Pony\") Some(\"2019-02-01T00:00:00.000Z\")",
        ]
    "#]]
    .assert_debug_eq(&summaries(&items));
    let rejects: Vec<String> = common::rejects(&items)
        .iter()
        .map(|reject| format!("{}: {}", reject.line, reject.reason))
        .collect();
    expect_test::expect![[r#"
        [
            "5: column date: bad timestamp \"31-02-2019\"",
            "5: column url: invalid observable \"bad host!/x\": url authority contains whitespace, a control character or a backslash",
            "5: column ip: invalid observable \"192.0.2.999\": ipv4 octet is larger than 255",
        ]
    "#]]
    .assert_debug_eq(&rejects);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = common::read_bytes("cybercrime-tracker", "index.php", &bytes);
        let mut framed = b"<table><tr><td>-::DATE<td>-::URL<td>-::IP<td>-::TYPE<tr><td>".to_vec();
        framed.extend_from_slice(&bytes);
        let _ = common::read_bytes("cybercrime-tracker", "index.php", &framed);
    }
}
