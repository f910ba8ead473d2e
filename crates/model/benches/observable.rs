//! Throughput of [`Observable::parse`] over a fixed mix of every kind, literal and defanged, so
//! that changes to the per-kind parsers and to refanging have a number.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use watchfire_model::observable::Observable;

/// Inputs as feeds and reports write them: canonical, in other spellings, defanged, and a few
/// that are rejected (a rejection costs an error value with the input, as callers see it).
const INPUTS: &[&str] = &[
    // asn
    "AS64500",
    "asn 4200000000",
    "AS1.10",
    // cidr
    "198.51.100.0/24",
    "203.0.113.77/24",
    "2001:db8::/32",
    // domain
    "example.com",
    "Login.Secure-Update.Example.CO.UK",
    "evil.example.",
    "xn--80ak6aa92e.com",
    "bücher.example",
    "_dmarc.mail.example.org",
    // email
    "soc@example.org",
    "mailto:John.Doe@Example.COM",
    // ipv4
    "192.0.2.1",
    "203.0.113.254",
    "10.0.0.1",
    // ipv6
    "2001:db8::1",
    "2001:0DB8:0000:0000:0000:0000:0000:0001",
    "::ffff:192.0.2.1",
    "fe80::1ff:fe23:4567:890a",
    // hashes
    "d41d8cd98f00b204e9800998ecf8427e",
    "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    // url
    "https://example.com/",
    "HTTP://Evil.Example:80/a/./b/../login.php?id=1&next=%2fhome#top",
    "http://192.0.2.1:8080/gate.php",
    "ftp://[2001:db8::1]/pub/file.bin",
    "evil.example/path/to/payload.exe",
    // defanged
    "hxxp://evil[.]example/x",
    "hXXps[://]login[.]secure[.]example[.]com/verify",
    "192.0.2[.]55",
    "198[.]51[.]100[.]7",
    "evil(dot)example(dot)net",
    "user[@]evil[.]example",
    "user [at] example [dot] com",
    "evil\\.example",
    // rejected
    "010.0.0.1",
    "report.pdf",
    "hello world",
    "1.2.3.4.5",
];

fn bench_parse(c: &mut Criterion) {
    // The mix measures what it says only while the inputs parse as intended.
    let rejected: Vec<&str> =
        INPUTS.iter().copied().filter(|input| Observable::parse(input).is_err()).collect();
    assert_eq!(rejected, ["010.0.0.1", "report.pdf", "hello world", "1.2.3.4.5"]);
    let mut group = c.benchmark_group("observable");
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(INPUTS.len() as u64));
    group.bench_function("parse_mix", |bencher| {
        bencher.iter(|| {
            let mut n_parsed = 0usize;
            for input in INPUTS {
                n_parsed += usize::from(Observable::parse(black_box(input)).is_ok());
            }
            n_parsed
        });
    });
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
