//! Table-driven canonicalisation tests: every row of `data/canonical/cases.tsv` is parsed and
//! compared, and every failing row is reported, not only the first. Snapshot tests cover serde,
//! error messages, the typed accessors and the per-kind helpers.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

use expect_test::{Expect, expect};
use watchfire_model::observable::{self, Observable, ObservableError, ObservableKind, Reason};

const CASES: &str = include_str!("data/canonical/cases.tsv");

#[test]
fn canonical_cases() {
    let mut n_cases = 0;
    let mut failures = Vec::new();
    for (line_idx, line) in CASES.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        n_cases += 1;
        let line_no = line_idx + 1;
        let fields: Vec<&str> = line.split('\t').collect();
        let [kind, input, expected] = fields[..] else {
            failures.push(format!(
                "line {line_no}: expected 3 tab-separated fields, got {}",
                fields.len()
            ));
            continue;
        };
        let input = unescape(input);
        let parsed = match kind {
            "auto" => Observable::parse(&input),
            name => match name.parse::<ObservableKind>() {
                Ok(kind) => Observable::parse_as(kind, &input),
                Err(error) => {
                    failures.push(format!("line {line_no}: {error}"));
                    continue;
                }
            },
        };
        if let Err(mismatch) = check(&parsed, expected) {
            failures
                .push(format!("line {line_no}: {kind} {input:?}: expected {expected}, {mismatch}"));
        }
    }
    assert!(n_cases >= 150, "only {n_cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {n_cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Compares one parse result with an expectation from the table.
fn check(parsed: &Result<Observable, ObservableError>, expected: &str) -> Result<(), String> {
    let matches = match (parsed, expected.split_once(':')) {
        (Err(ObservableError::Unrecognised { .. }), _) => expected == "unrecognised",
        (Err(error), Some(("error", reason))) => error.to_string().contains(reason),
        (Ok(observable), Some((kind, value))) => {
            observable.kind().as_str() == kind && observable.value() == value
        }
        _ => false,
    };
    match (matches, parsed) {
        (true, _) => Ok(()),
        (false, Ok(observable)) => Err(format!("got {}:{}", observable.kind(), observable.value())),
        (false, Err(error)) => Err(format!("got error: {error}")),
    }
}

/// Replaces `\t` with a tab and `\s` with a space, leaving every other backslash alone.
fn unescape(input: &str) -> String {
    input.replace("\\t", "\t").replace("\\s", " ")
}

fn parse(text: &str) -> Observable {
    match Observable::parse(text) {
        Ok(observable) => observable,
        Err(error) => panic!("{text:?}: {error}"),
    }
}

#[test]
fn serialises_as_kind_and_value() {
    let observables: Vec<Observable> =
        ["192.0.2.1", "hxxp://Example[.]com:80/a#b", "AS64500", "203.0.113.77/24"]
            .into_iter()
            .map(parse)
            .collect();
    let json = serde_json::to_string(&observables).expect("observables serialise");
    expect![[r#"[{"kind":"ipv4","value":"192.0.2.1"},{"kind":"url","value":"http://example.com/a"},{"kind":"asn","value":"AS64500"},{"kind":"cidr","value":"203.0.113.0/24"}]"#]]
    .assert_eq(&json);
    let back: Vec<Observable> = serde_json::from_str(&json).expect("observables deserialise");
    assert_eq!(back, observables);
}

#[test]
fn deserialises_through_parse_as() {
    let check = |json: &str, expect: Expect| {
        let parsed = serde_json::from_str::<Observable>(json);
        let shown = match parsed {
            Ok(observable) => format!("{}:{}", observable.kind(), observable.value()),
            Err(error) => format!("error: {error}"),
        };
        expect.assert_eq(&shown);
    };
    check(r#"{"kind":"domain","value":"WWW.Bücher.DE."}"#, expect!["domain:www.xn--bcher-kva.de"]);
    check(r#"{"kind":"cidr","value":"192.0.2.9/32"}"#, expect!["ipv4:192.0.2.9"]);
    check(r#"{"kind":"asn","value":"64500"}"#, expect!["asn:AS64500"]);
    check(
        r#"{"kind":"ipv4","value":"010.0.0.1"}"#,
        expect![[r#"error: invalid observable "010.0.0.1": ipv4 octet has a leading zero"#]],
    );
    check(
        r#"{"kind":"ipv5","value":"x"}"#,
        expect![[r#"error: unknown observable kind "ipv5" at line 1 column 14"#]],
    );
    check(
        r#"{"kind":"md5","value":"x","extra":1}"#,
        expect!["error: unknown field `extra`, expected `kind` or `value` at line 1 column 33"],
    );
}

#[test]
fn errors_name_input_and_reason() {
    let error = Observable::parse("report[.]pdf").expect_err("report.pdf is no domain");
    assert_eq!(error.input(), "report[.]pdf");
    assert_eq!(error.reason(), Some(Reason::DomainUnknownSuffix));
    expect![[r#"invalid observable "report[.]pdf": domain does not end in a known public suffix"#]]
        .assert_eq(&error.to_string());
    let error = Observable::parse("hello").expect_err("hello is no observable");
    assert_eq!(error.reason(), None);
    expect![[r#"not an observable: "hello""#]].assert_eq(&error.to_string());
}

#[test]
fn typed_accessors() {
    let show = |text: &str| {
        let observable = parse(text);
        format!(
            "{} ip={:?} cidr={:?} network={:?} asn={:?} host={:?}",
            observable.kind(),
            observable.ip(),
            observable.cidr(),
            observable.network(),
            observable.asn(),
            observable.host()
        )
    };
    let shown: Vec<String> = [
        "192.0.2.1",
        "2001:db8::1",
        "203.0.113.77/24",
        "AS1.10",
        "Example.com",
        "https://user@[2001:db8::1]:8443/x",
        "http://192.0.2.1:8080/",
        "user@Bücher.de",
        "d41d8cd98f00b204e9800998ecf8427e",
    ]
    .into_iter()
    .map(show)
    .collect();
    expect![[r#"
        ipv4 ip=Some(192.0.2.1) cidr=None network=Some((192.0.2.1, 32)) asn=None host=None
        ipv6 ip=Some(2001:db8::1) cidr=None network=Some((2001:db8::1, 128)) asn=None host=None
        cidr ip=None cidr=Some((203.0.113.0, 24)) network=Some((203.0.113.0, 24)) asn=None host=None
        asn ip=None cidr=None network=None asn=Some(65546) host=None
        domain ip=None cidr=None network=None asn=None host=Some("example.com")
        url ip=None cidr=None network=None asn=None host=Some("2001:db8::1")
        url ip=None cidr=None network=None asn=None host=Some("192.0.2.1")
        email ip=None cidr=None network=None asn=None host=Some("xn--bcher-kva.de")
        md5 ip=None cidr=None network=None asn=None host=None"#]]
    .assert_eq(&shown.join("\n"));
}

#[test]
fn builds_from_typed_values() {
    let v4_mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped());
    assert_eq!(Observable::from_ip(v4_mapped), parse("192.0.2.1"));
    assert_eq!(Observable::from_network(v4_mapped, 128), parse("192.0.2.1"));
    assert_eq!(
        Observable::from_network(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)), 8),
        parse("10.0.0.0/8")
    );
    assert_eq!(Observable::from_asn(64500), parse("AS64500"));
}

#[test]
fn per_kind_helpers() {
    assert_eq!(observable::ipv4::parse("192.0.2.1"), Ok(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(observable::ipv4::parse("192.0.2.01"), Err(Reason::Ipv4LeadingZero));
    assert_eq!(observable::ipv6::parse("fe80::1%1"), Err(Reason::Ipv6ZoneId));
    assert_eq!(
        observable::cidr::parse("203.0.113.77/24"),
        Ok((IpAddr::V4(Ipv4Addr::new(203, 0, 113, 0)), 24))
    );
    assert_eq!(observable::asn::parse("ASN 64500"), Ok(64500));
    assert!(matches!(observable::domain::parse("example.com"), Ok(Cow::Borrowed("example.com"))));
    assert_eq!(observable::domain::parse("Example.COM.").as_deref(), Ok("example.com"));
    assert!(observable::domain::is_domain("WWW.EXAMPLE.CO.UK."));
    assert!(!observable::domain::is_domain("report.pdf"));
    assert!(!observable::domain::is_domain("co.uk"));
    assert_eq!(observable::domain::registrable("a.b.example.co.uk"), Some("example.co.uk"));
    assert_eq!(observable::domain::registrable("duckdns.org"), None);
    assert_eq!(observable::hash::kind_for_len(64), Some(ObservableKind::Sha256));
    assert!(matches!(
        observable::hash::parse("d41d8cd98f00b204e9800998ecf8427e"),
        Ok((ObservableKind::Md5, Cow::Borrowed(_)))
    ));
    assert!(
        observable::url::has_scheme("hxxp://x") && !observable::url::has_scheme("example.com/x")
    );
    assert_eq!(observable::url::host("http://u:p@[2001:db8::1]:80/"), Some("2001:db8::1"));
    assert!(matches!(observable::refang("nothing to do"), Cow::Borrowed(_)));
}
