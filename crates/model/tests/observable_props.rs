//! Property tests for observables: canonical values parse to themselves (under their own kind and
//! by guessing), other spellings of generated values parse to the same observable, and no input
//! makes any parser panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use watchfire_model::observable::{self, Observable, ObservableKind, Reason, refang};

/// Public suffixes to build domains on: ICANN, multi-label, IDN and private-section ones.
const SUFFIXES: &[&str] = &[
    "com",
    "org",
    "net",
    "de",
    "fr",
    "co.uk",
    "com.au",
    "jp",
    "onion",
    "xn--p1ai",
    "рф",
    "duckdns.org",
];

/// Checks that `observable` is canonical: parsing its value under its kind, or by guessing, gives
/// it back, as does parsing its refanged value.
fn assert_canonical(observable: &Observable) -> Result<(), TestCaseError> {
    let value = observable.value();
    prop_assert_eq!(refang(value), value, "refang changes canonical value");
    let reparsed = Observable::parse_as(observable.kind(), value);
    prop_assert_eq!(reparsed.as_ref(), Ok(observable), "parse_as of canonical value");
    let guessed = Observable::parse(value);
    prop_assert_eq!(guessed.as_ref(), Ok(observable), "parse of canonical value");
    prop_assert_eq!(observable.to_string(), value);
    let json = serde_json::to_string(observable)
        .map_err(|error| TestCaseError::fail(error.to_string()))?;
    let from_json: Observable =
        serde_json::from_str(&json).map_err(|error| TestCaseError::fail(error.to_string()))?;
    prop_assert_eq!(&from_json, observable);
    Ok(())
}

/// Parses `text` (guessing, or as `kind`) and checks the result is `expected` and canonical.
fn check(
    kind: Option<ObservableKind>,
    text: &str,
    expected_kind: ObservableKind,
    expected: &str,
) -> Result<(), TestCaseError> {
    let parsed = match kind {
        None => Observable::parse(text),
        Some(kind) => Observable::parse_as(kind, text),
    };
    let observable = parsed.map_err(|error| TestCaseError::fail(format!("{text:?}: {error}")))?;
    prop_assert_eq!(observable.kind(), expected_kind, "kind of {:?}", text);
    prop_assert_eq!(observable.value(), expected, "value of {:?}", text);
    assert_canonical(&observable)
}

fn ipv6_full_upper(address: Ipv6Addr) -> String {
    let groups: Vec<String> =
        address.segments().iter().map(|group| format!("{group:04X}")).collect();
    groups.join(":")
}

fn ldh_label() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?"
        .prop_filter("an xn-- label must be valid punycode", |label| !label.starts_with("xn--"))
}

fn idn_label() -> impl Strategy<Value = String> {
    "[a-zäöüßéñçøå]{1,10}"
}

fn domain() -> impl Strategy<Value = String> {
    let label = prop_oneof![3 => ldh_label(), 1 => idn_label()];
    (prop::collection::vec(label, 1..4), prop::sample::select(SUFFIXES))
        .prop_map(|(labels, suffix)| format!("{}.{suffix}", labels.join(".")))
        // A generated label can happen to make a longer public suffix (`tm.fr`, `ac.jp`).
        .prop_filter("a public suffix is not a domain", |name| {
            observable::domain::parse(name) != Err(Reason::DomainIsSuffix)
        })
}

fn randomise_ascii_case(text: &str, seed: u64) -> String {
    text.chars()
        .enumerate()
        .map(|(idx, ch)| match (seed >> (idx % 64)) & 1 {
            1 => ch.to_ascii_uppercase(),
            _ => ch,
        })
        .collect()
}

fn defang_dots(text: &str, seed: u64) -> String {
    let forms = ["[.]", "(.)", "{.}", "[dot]", "(DOT)", "[ . ]", "."];
    let mut n_dots = 0;
    text.chars()
        .map(|ch| match ch {
            '.' => {
                n_dots += 1;
                forms[usize::try_from((seed >> (n_dots * 3)) % 7).unwrap_or(0)].to_owned()
            }
            ch => ch.to_string(),
        })
        .collect()
}

proptest! {
    #[test]
    fn ipv4_is_canonical(octets in any::<[u8; 4]>(), seed in any::<u64>()) {
        let address = Ipv4Addr::from(octets);
        let text = address.to_string();
        check(None, &text, ObservableKind::Ipv4, &text)?;
        check(None, &defang_dots(&text, seed), ObservableKind::Ipv4, &text)?;
        check(None, &format!("::ffff:{text}"), ObservableKind::Ipv4, &text)?;
        prop_assert_eq!(observable::ipv4::parse(&text), Ok(address));
    }

    #[test]
    fn ipv6_is_canonical(bits in any::<u128>(), zero_run in 0usize..6) {
        // Zero a run of groups so that compression is exercised, not only full addresses.
        let mut segments = Ipv6Addr::from(bits).segments();
        for segment in segments.iter_mut().skip(zero_run).take(3) {
            *segment = 0;
        }
        let address = Ipv6Addr::from(segments);
        let expected = Observable::from_ip(IpAddr::V6(address));
        let expected_kind = match address.to_ipv4_mapped() {
            Some(_) => ObservableKind::Ipv4,
            None => ObservableKind::Ipv6,
        };
        prop_assert_eq!(expected.kind(), expected_kind);
        check(None, &address.to_string(), expected_kind, expected.value())?;
        check(None, &ipv6_full_upper(address), expected_kind, expected.value())?;
        check(Some(ObservableKind::Ipv6), &format!("[{address}]"), expected_kind, expected.value())?;
    }

    #[test]
    fn cidr_is_canonical(bits in any::<u128>(), v4 in any::<u32>(), prefix_len in 0u8..=128) {
        for (address, max) in [(IpAddr::V6(Ipv6Addr::from(bits)), 128), (IpAddr::V4(Ipv4Addr::from(v4)), 32)] {
            let prefix_len = prefix_len % (max + 1);
            let expected = Observable::from_network(address, prefix_len);
            let parsed = check(None, &format!("{address}/{prefix_len}"), expected.kind(), expected.value());
            parsed?;
            if let Some((network, network_len)) = expected.cidr() {
                prop_assert_eq!(Observable::from_network(network, network_len), expected.clone());
                prop_assert!(network_len < max);
            }
            let network = expected.network().ok_or_else(|| TestCaseError::fail("no network"))?;
            prop_assert_eq!(Observable::from_network(network.0, network.1), expected);
        }
    }

    #[test]
    fn domain_is_canonical(name in domain(), seed in any::<u64>()) {
        let observable = Observable::parse_as(ObservableKind::Domain, &name)
            .map_err(|error| TestCaseError::fail(format!("{name:?}: {error}")))?;
        prop_assert!(observable.value().is_ascii());
        prop_assert!(observable::domain::is_domain(observable.value()));
        prop_assert!(observable::domain::is_domain(&name));
        assert_canonical(&observable)?;
        let respelt = format!("{}.", defang_dots(&randomise_ascii_case(&name, seed), seed));
        check(None, &respelt, ObservableKind::Domain, observable.value())?;
        prop_assert_eq!(observable.host(), Some(observable.value()));
    }

    #[test]
    fn url_is_canonical(
        scheme in prop::sample::select(&["http", "https", "ftp", "ws", "wss", "ssh"][..]),
        host in domain(),
        port in prop::option::of(any::<u16>()),
        path in "(/[a-zA-Z0-9._~%!$&'()*+,;=:@ ü-]{0,12}){0,4}",
        query in prop::option::of("[a-zA-Z0-9._~%&=?/ +-]{0,16}"),
        fragment in prop::option::of("[a-z0-9]{0,8}"),
        seed in any::<u64>(),
    ) {
        let mut url = format!("{scheme}://{host}");
        if let Some(port) = port {
            url.push_str(&format!(":{port}"));
        }
        url.push_str(&path);
        if let Some(query) = &query {
            url.push_str(&format!("?{query}"));
        }
        if let Some(fragment) = &fragment {
            url.push_str(&format!("#{fragment}"));
        }
        let observable = Observable::parse(&url).map_err(|error| TestCaseError::fail(format!("{url:?}: {error}")))?;
        prop_assert_eq!(observable.kind(), ObservableKind::Url);
        assert_canonical(&observable)?;
        let canonical_host = observable::domain::parse(&host).map_err(|error| TestCaseError::fail(error.to_string()))?;
        prop_assert_eq!(observable.host(), Some(&*canonical_host));
        prop_assert!(!observable.value().contains('#'));
        let upper_scheme = format!("{}{}", scheme.to_ascii_uppercase(), &url[scheme.len()..]);
        check(None, &upper_scheme, ObservableKind::Url, observable.value())?;
        let defanged = match scheme.starts_with("http") {
            true => url.replacen("http", "hxxp", 1).replacen("://", "[://]", 1),
            false => url.replacen("://", "[://]", 1),
        };
        let defanged_host = defanged.replacen(&host, &defang_dots(&host, seed), 1);
        check(None, &defanged_host, ObservableKind::Url, observable.value())?;
    }

    #[test]
    fn email_is_canonical(local in "[a-zA-Z0-9_+-]{1,12}(\\.[a-zA-Z0-9!#$%&'*+/=?^_`|}~-]{1,6})?", name in domain(), seed in any::<u64>()) {
        let email = format!("{local}@{name}");
        let observable = Observable::parse(&email).map_err(|error| TestCaseError::fail(format!("{email:?}: {error}")))?;
        prop_assert_eq!(observable.kind(), ObservableKind::Email);
        assert_canonical(&observable)?;
        let (value_local, value_domain) = observable.value().rsplit_once('@').ok_or_else(|| TestCaseError::fail("no @"))?;
        prop_assert_eq!(value_local, local.as_str());
        prop_assert_eq!(observable.host(), Some(value_domain));
        let defanged = format!("{local} [at] {}", defang_dots(&randomise_ascii_case(&name, seed), seed));
        check(None, &defanged, ObservableKind::Email, observable.value())?;
    }

    #[test]
    fn hash_is_canonical(bytes in prop::sample::select(&[16usize, 20, 32, 64][..]).prop_flat_map(|len| prop::collection::vec(any::<u8>(), len)), upper in any::<bool>()) {
        let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        let kind = observable::hash::kind_for_len(hex.len()).ok_or_else(|| TestCaseError::fail("no kind"))?;
        let text = if upper { hex.to_ascii_uppercase() } else { hex.clone() };
        check(None, &text, kind, &hex)?;
        check(Some(kind), &text, kind, &hex)?;
    }

    #[test]
    fn asn_is_canonical(number in any::<u32>()) {
        let expected = format!("AS{number}");
        let asdot = format!("AS{}.{}", number >> 16, number & 0xffff);
        for text in [expected.clone(), format!("as{number}"), format!("ASN{number}"), format!("AS {number}"), asdot] {
            check(None, &text, ObservableKind::Asn, &expected)?;
        }
        check(Some(ObservableKind::Asn), &number.to_string(), ObservableKind::Asn, &expected)?;
        prop_assert!(Observable::parse(&number.to_string()).is_err());
        prop_assert_eq!(Observable::from_asn(number).asn(), Some(number));
    }

    #[test]
    fn any_string_never_panics(text in any::<String>()) {
        check_never_panics(&text)?;
    }

    #[test]
    fn observable_like_string_never_panics(text in "[a-fA-Z0-9.:/@%\\[\\](){}\\\\ _xX?#=&-]{0,48}|[hxtpsHXTPSf:/\\[\\]. a-z]{0,24}") {
        check_never_panics(&text)?;
    }

    #[test]
    fn fragment_soup_never_panics(fragments in prop::collection::vec(prop::sample::select(FRAGMENTS), 0..14)) {
        check_never_panics(&fragments.concat())?;
    }

    #[test]
    fn any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        check_never_panics(&String::from_utf8_lossy(&bytes))?;
    }
}

/// Pieces of observables, markers and near misses, concatenated at random so that generated texts
/// often parse and exercise the interplay of refanging, decoding and guessing.
const FRAGMENTS: &[&str] = &[
    "http",
    "hxxp",
    "HXXPS",
    "fxp",
    "://",
    "[://]",
    ":",
    "[:]",
    "/",
    "[/]",
    "//",
    "?",
    "#",
    "=",
    "&",
    ".",
    "[.]",
    "(.)",
    "{.}",
    "[dot]",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "\\",
    ".]",
    "[.",
    " ",
    "\t",
    "%",
    "%2E",
    "%2e",
    "%28",
    "%41",
    "%68",
    "%zz",
    "..",
    "@",
    "[@]",
    "(at)",
    "a",
    "Z",
    "x",
    "_",
    "-",
    "0",
    "1",
    "192",
    "255",
    "256",
    "010",
    "ffff",
    "::",
    "%eth0",
    "/24",
    "/128",
    "com",
    "co.uk",
    "de",
    "onion",
    "example",
    "xn--",
    "xn--bcher-kva",
    "bücher",
    "ß",
    "。",
    "AS",
    "ASN",
    "64500",
    "mailto:",
    "d41d8cd98f00b204e9800998ecf8427e",
    "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
];

/// Runs every parser on `text`; whatever parses must be canonical, and refanging must be
/// idempotent. A panic fails the test case.
fn check_never_panics(text: &str) -> Result<(), TestCaseError> {
    let refanged = refang(text);
    prop_assert_eq!(refang(&refanged), refanged.clone(), "refang is not idempotent");
    if let Ok(observable) = Observable::parse(text) {
        assert_canonical(&observable)?;
    }
    for kind in ObservableKind::ALL {
        if let Ok(observable) = Observable::parse_as(kind, text) {
            let reparsed = Observable::parse_as(observable.kind(), observable.value());
            prop_assert_eq!(reparsed.as_ref(), Ok(&observable), "parse_as({}) of {:?}", kind, text);
        }
    }
    let _ = observable::domain::is_domain(text);
    let _ = observable::asn::parse(text);
    let _ = observable::cidr::parse(text);
    Ok(())
}
