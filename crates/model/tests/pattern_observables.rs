//! Tests of the bridge between STIX patterns and observables: which patterns reduce to a list of
//! observables (and why the others do not), the canonical pattern of each observable, and the
//! round trip observable -> pattern -> observables.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use expect_test::{Expect, expect};
use proptest::prelude::*;
use watchfire_model::Observable;
use watchfire_model::pattern::Pattern;

/// Reports what each pattern reduces to, one line per pattern.
fn check_observables(patterns: &[&str], expect: &Expect) {
    let mut report = String::new();
    for text in patterns {
        let pattern = Pattern::parse(text).unwrap_or_else(|error| panic!("{text:?}: {error}"));
        let outcome = match pattern.observables() {
            Ok(observables) => observables
                .iter()
                .map(|observable| format!("{}:{observable}", observable.kind()))
                .collect::<Vec<_>>()
                .join(" "),
            Err(reason) => format!("not matchable: {reason}"),
        };
        report.push_str(&format!("{text}\n  => {outcome}\n"));
    }
    expect.assert_eq(&report);
}

#[test]
fn matchable_patterns_give_canonical_observables() {
    check_observables(
        &[
            "[ipv4-addr:value = '192.0.2.1']",
            "[ipv4-addr:value = '198.51.100.0/24']",
            "[ipv4-addr:value = '198.51.100.7/24']",
            "[ipv4-addr:value = '198.51.100.1/32']",
            "[ipv4-addr:value ISSUBSET '203.0.113.0/24']",
            "[ipv4-addr:value ISSUBSET '203.0.113.9']",
            "[ipv6-addr:value = '2001:0DB8:dead:beef:dead:beef:dead:0001/128']",
            "[ipv6-addr:value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
            "[ipv6-addr:value = '::ffff:192.0.2.1']",
            "[domain-name:value = 'WWW.Example.COM.']",
            "[url:value = 'HTTP://Example.com:80/a?b=c#frag']",
            "[email-addr:value = 'John.Doe@Example.com']",
            "[file:hashes.MD5 = 'CEAD3F77F6CDA6EC00F57D76C9A6879F']",
            "[file:hashes.'md5' = 'cead3f77f6cda6ec00f57d76c9a6879f']",
            "[file:hashes.'SHA-1' = '5336e04495132330a766b2332013eff8bd9481e6']",
            "[file:hashes.SHA1 = '5336e04495132330a766b2332013eff8bd9481e6']",
            "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
            "[file:hashes.SHA256 = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
            "[file:hashes.SHA-256 = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
            "[file:hashes.sha_256 = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
            "[file:hashes.SHA512 = 'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e']",
            "[autonomous-system:number = 64500]",
            "[autonomous-system:number = 'AS64501']",
            "[domain-name:value IN ('a.example.com', 'B.example.com', 'a.example.com')]",
            "[ipv4-addr:value = '192.0.2.1' OR domain-name:value = 'example.com'] OR ([url:value = 'https://example.com/'] OR [ipv4-addr:value = '192.0.2.1'])",
            "[(ipv4-addr:value = '192.0.2.1' OR ipv4-addr:value = '192.0.2.2')]",
            "[domain-name:value IN ()]",
        ],
        &expect![[r#"
            [ipv4-addr:value = '192.0.2.1']
              => ipv4:192.0.2.1
            [ipv4-addr:value = '198.51.100.0/24']
              => cidr:198.51.100.0/24
            [ipv4-addr:value = '198.51.100.7/24']
              => cidr:198.51.100.0/24
            [ipv4-addr:value = '198.51.100.1/32']
              => ipv4:198.51.100.1
            [ipv4-addr:value ISSUBSET '203.0.113.0/24']
              => cidr:203.0.113.0/24
            [ipv4-addr:value ISSUBSET '203.0.113.9']
              => ipv4:203.0.113.9
            [ipv6-addr:value = '2001:0DB8:dead:beef:dead:beef:dead:0001/128']
              => ipv6:2001:db8:dead:beef:dead:beef:dead:1
            [ipv6-addr:value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']
              => cidr:2001:db8:dead:beef::/64
            [ipv6-addr:value = '::ffff:192.0.2.1']
              => ipv4:192.0.2.1
            [domain-name:value = 'WWW.Example.COM.']
              => domain:www.example.com
            [url:value = 'HTTP://Example.com:80/a?b=c#frag']
              => url:http://example.com/a?b=c
            [email-addr:value = 'John.Doe@Example.com']
              => email:John.Doe@example.com
            [file:hashes.MD5 = 'CEAD3F77F6CDA6EC00F57D76C9A6879F']
              => md5:cead3f77f6cda6ec00f57d76c9a6879f
            [file:hashes.'md5' = 'cead3f77f6cda6ec00f57d76c9a6879f']
              => md5:cead3f77f6cda6ec00f57d76c9a6879f
            [file:hashes.'SHA-1' = '5336e04495132330a766b2332013eff8bd9481e6']
              => sha1:5336e04495132330a766b2332013eff8bd9481e6
            [file:hashes.SHA1 = '5336e04495132330a766b2332013eff8bd9481e6']
              => sha1:5336e04495132330a766b2332013eff8bd9481e6
            [file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']
              => sha256:aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f
            [file:hashes.SHA256 = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']
              => sha256:aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f
            [file:hashes.SHA-256 = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']
              => sha256:aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f
            [file:hashes.sha_256 = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']
              => sha256:aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f
            [file:hashes.SHA512 = 'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e']
              => sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e
            [autonomous-system:number = 64500]
              => asn:AS64500
            [autonomous-system:number = 'AS64501']
              => asn:AS64501
            [domain-name:value IN ('a.example.com', 'B.example.com', 'a.example.com')]
              => domain:a.example.com domain:b.example.com
            [ipv4-addr:value = '192.0.2.1' OR domain-name:value = 'example.com'] OR ([url:value = 'https://example.com/'] OR [ipv4-addr:value = '192.0.2.1'])
              => ipv4:192.0.2.1 domain:example.com url:https://example.com/
            [(ipv4-addr:value = '192.0.2.1' OR ipv4-addr:value = '192.0.2.2')]
              => ipv4:192.0.2.1 ipv4:192.0.2.2
            [domain-name:value IN ()]
              => 
        "#]],
    );
}

#[test]
fn other_patterns_say_why_they_are_not_matchable() {
    check_observables(
        &[
            "[ipv4-addr:value = '192.0.2.1'] AND [domain-name:value = 'example.com']",
            "[ipv4-addr:value = '192.0.2.1'] FOLLOWEDBY [domain-name:value = 'example.com']",
            "[ipv4-addr:value = '192.0.2.1'] OR ([ipv4-addr:value = '192.0.2.2'] AND [ipv4-addr:value = '192.0.2.3'])",
            "[ipv4-addr:value = '192.0.2.1'] WITHIN 60 SECONDS",
            "[ipv4-addr:value = '192.0.2.1'] START t'2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00Z'",
            "[ipv4-addr:value = '192.0.2.1' AND ipv4-addr:value = '192.0.2.2']",
            "[ipv4-addr:value != '192.0.2.1']",
            "[ipv4-addr:value NOT = '192.0.2.1']",
            "[domain-name:value LIKE '%.example.com']",
            "[domain-name:value MATCHES '^evil']",
            "[domain-name:value ISSUBSET 'example.com']",
            "[ipv4-addr:value ISSUPERSET '203.0.113.0/24']",
            "[EXISTS domain-name:value]",
            "[network-traffic:dst_ref.value = '192.0.2.1']",
            "[file:name = 'evil.exe']",
            "[file:hashes.'SHA3-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
            "[file:hashes = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
            "[x509-certificate:hashes.'SHA-1' = '5336e04495132330a766b2332013eff8bd9481e6']",
            "[ipv4-addr:value = 3221225985]",
            "[domain-name:value IN ('example.com', 42)]",
            "[autonomous-system:number = true]",
            "[ipv4-addr:value = '192.0.2.256']",
            "[ipv4-addr:value = '2001:db8::1']",
            "[file:hashes.MD5 = 'not-a-hash']",
            "[autonomous-system:number = -1]",
            "[url:value = 'not a url']",
        ],
        &expect![[r#"
            [ipv4-addr:value = '192.0.2.1'] AND [domain-name:value = 'example.com']
              => not matchable: observations joined by AND
            [ipv4-addr:value = '192.0.2.1'] FOLLOWEDBY [domain-name:value = 'example.com']
              => not matchable: observations joined by FOLLOWEDBY
            [ipv4-addr:value = '192.0.2.1'] OR ([ipv4-addr:value = '192.0.2.2'] AND [ipv4-addr:value = '192.0.2.3'])
              => not matchable: observations joined by AND
            [ipv4-addr:value = '192.0.2.1'] WITHIN 60 SECONDS
              => not matchable: observation has a qualifier
            [ipv4-addr:value = '192.0.2.1'] START t'2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00Z'
              => not matchable: observation has a qualifier
            [ipv4-addr:value = '192.0.2.1' AND ipv4-addr:value = '192.0.2.2']
              => not matchable: comparisons joined by AND
            [ipv4-addr:value != '192.0.2.1']
              => not matchable: unsupported operator !=
            [ipv4-addr:value NOT = '192.0.2.1']
              => not matchable: comparison negated with NOT
            [domain-name:value LIKE '%.example.com']
              => not matchable: unsupported operator LIKE
            [domain-name:value MATCHES '^evil']
              => not matchable: unsupported operator MATCHES
            [domain-name:value ISSUBSET 'example.com']
              => not matchable: unsupported operator ISSUBSET
            [ipv4-addr:value ISSUPERSET '203.0.113.0/24']
              => not matchable: unsupported operator ISSUPERSET
            [EXISTS domain-name:value]
              => not matchable: unsupported operator EXISTS
            [network-traffic:dst_ref.value = '192.0.2.1']
              => not matchable: unsupported object path network-traffic:dst_ref.value
            [file:name = 'evil.exe']
              => not matchable: unsupported object path file:name
            [file:hashes.'SHA3-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']
              => not matchable: unsupported object path file:hashes.'SHA3-256'
            [file:hashes = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']
              => not matchable: unsupported object path file:hashes
            [x509-certificate:hashes.'SHA-1' = '5336e04495132330a766b2332013eff8bd9481e6']
              => not matchable: unsupported object path x509-certificate:hashes.'SHA-1'
            [ipv4-addr:value = 3221225985]
              => not matchable: unsupported value 3221225985 for ipv4-addr:value
            [domain-name:value IN ('example.com', 42)]
              => not matchable: unsupported value 42 for domain-name:value
            [autonomous-system:number = true]
              => not matchable: unsupported value true for autonomous-system:number
            [ipv4-addr:value = '192.0.2.256']
              => not matchable: bad value for ipv4-addr:value: invalid observable "192.0.2.256": ipv4 octet is larger than 255
            [ipv4-addr:value = '2001:db8::1']
              => not matchable: bad value for ipv4-addr:value: invalid observable "2001:db8::1": ipv4 address is not four dot-separated decimal octets
            [file:hashes.MD5 = 'not-a-hash']
              => not matchable: bad value for file:hashes.MD5: invalid observable "not-a-hash": hash contains a character that is not a hex digit
            [autonomous-system:number = -1]
              => not matchable: bad value for autonomous-system:number: invalid observable "-1": asn is not a number like AS64500, ASN64500, AS1.10 or 64500
            [url:value = 'not a url']
              => not matchable: bad value for url:value: invalid observable "not a url": url authority contains whitespace, a control character or a backslash
        "#]],
    );
}

/// One observable of each kind, including both cidr families and a `/32` that is an address.
const OBSERVABLES: &[&str] = &[
    "AS64500",
    "203.0.113.0/24",
    "2001:db8::/32",
    "www.example.com",
    "john.doe@example.com",
    "192.0.2.1",
    "2001:db8::1",
    "cead3f77f6cda6ec00f57d76c9a6879f",
    "5336e04495132330a766b2332013eff8bd9481e6",
    "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f",
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    "https://example.com/path?q=1",
];

/// Checks observable -> pattern -> text -> pattern -> observables gives the observable back.
fn check_round_trip(observable: &Observable) -> String {
    let pattern = Pattern::from_observable(observable);
    let printed = pattern.to_string();
    let reparsed = Pattern::parse(&printed).unwrap_or_else(|error| panic!("{printed:?}: {error}"));
    assert_eq!(reparsed, pattern);
    assert_eq!(reparsed.observables(), Ok(vec![observable.clone()]), "{printed}");
    printed
}

#[test]
fn every_observable_kind_round_trips_through_its_pattern() {
    let mut report = String::new();
    for text in OBSERVABLES {
        let observable =
            Observable::parse(text).unwrap_or_else(|error| panic!("{text:?}: {error}"));
        report.push_str(&format!("{}: {}\n", observable.kind(), check_round_trip(&observable)));
    }
    expect![[r#"
        asn: [autonomous-system:number = 64500]
        cidr: [ipv4-addr:value ISSUBSET '203.0.113.0/24']
        cidr: [ipv6-addr:value ISSUBSET '2001:db8::/32']
        domain: [domain-name:value = 'www.example.com']
        email: [email-addr:value = 'john.doe@example.com']
        ipv4: [ipv4-addr:value = '192.0.2.1']
        ipv6: [ipv6-addr:value = '2001:db8::1']
        md5: [file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']
        sha1: [file:hashes.'SHA-1' = '5336e04495132330a766b2332013eff8bd9481e6']
        sha256: [file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']
        sha512: [file:hashes.'SHA-512' = 'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e']
        url: [url:value = 'https://example.com/path?q=1']
    "#]].assert_eq(&report);
}

proptest! {
    #[test]
    fn random_networks_round_trip(octets in any::<[u8; 4]>(), segments in any::<[u16; 8]>(), v4_prefix in 0..=32u8, v6_prefix in 0..=128u8) {
        let v4 = Observable::from_network(IpAddr::V4(Ipv4Addr::from(octets)), v4_prefix);
        let v6 = Observable::from_network(IpAddr::V6(Ipv6Addr::from(segments)), v6_prefix);
        check_round_trip(&v4);
        check_round_trip(&v6);
    }

    #[test]
    fn random_hashes_and_asns_round_trip(bytes in proptest::collection::vec(any::<u8>(), 64), asn in any::<u32>()) {
        let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        for len in [32, 40, 64, 128] {
            let observable = Observable::parse(&hex[..len]).unwrap();
            check_round_trip(&observable);
        }
        check_round_trip(&Observable::from_asn(asn));
    }
}
