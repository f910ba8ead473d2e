//! Snapshots of every writer's output for the sample records, with what each skipped.
//! `UPDATE_EXPECT=1 cargo test -p watchfire-formats --test writers` rewrites them.

mod sample;

use expect_test::{ExpectFile, expect_file};
use watchfire_formats::write::{Outcome, SnortVersion, WriteOptions, WriterKind, write_records};

fn check(kind: WriterKind, options: &WriteOptions, expect: &ExpectFile) {
    let records = sample::records();
    let mut out = Vec::new();
    let summary = write_records(kind, options, &mut out, &records).expect("writing to memory");
    let output = String::from_utf8(out).expect("writers write UTF-8");
    expect.assert_eq(&format!("# {summary}\n{output}"));
}

#[test]
fn csv() {
    check(WriterKind::Csv, &sample::options(), &expect_file!["../test_data/writers/csv.expected"]);
}

#[test]
fn hosts() {
    check(
        WriterKind::Hosts,
        &sample::options(),
        &expect_file!["../test_data/writers/hosts.expected"],
    );
}

#[test]
fn jsonl() {
    check(
        WriterKind::Jsonl,
        &sample::options(),
        &expect_file!["../test_data/writers/jsonl.expected"],
    );
}

#[test]
fn misp() {
    check(
        WriterKind::Misp,
        &sample::options(),
        &expect_file!["../test_data/writers/misp.expected"],
    );
}

#[test]
fn nftables() {
    check(
        WriterKind::Nftables,
        &sample::options(),
        &expect_file!["../test_data/writers/nftables.expected"],
    );
}

#[test]
fn rpz() {
    check(WriterKind::Rpz, &sample::options(), &expect_file!["../test_data/writers/rpz.expected"]);
}

#[test]
fn snort3() {
    check(
        WriterKind::Snort,
        &sample::options(),
        &expect_file!["../test_data/writers/snort3.expected"],
    );
}

#[test]
fn snort2() {
    let options = WriteOptions { snort_version: SnortVersion::V2_9, ..sample::options() };
    check(WriterKind::Snort, &options, &expect_file!["../test_data/writers/snort2.expected"]);
}

#[test]
fn stix() {
    check(
        WriterKind::Stix,
        &sample::options(),
        &expect_file!["../test_data/writers/stix.expected"],
    );
}

#[test]
fn suricata() {
    let options = WriteOptions { sid_base: 4_200_000, ..sample::options() };
    check(WriterKind::Suricata, &options, &expect_file!["../test_data/writers/suricata.expected"]);
}

#[test]
fn suricata_iprep() {
    check(
        WriterKind::SuricataIprep,
        &sample::options(),
        &expect_file!["../test_data/writers/suricata-iprep.expected"],
    );
}

#[test]
fn text() {
    check(
        WriterKind::Text,
        &sample::options(),
        &expect_file!["../test_data/writers/text.expected"],
    );
}

#[test]
fn zeek() {
    check(
        WriterKind::Zeek,
        &sample::options(),
        &expect_file!["../test_data/writers/zeek.expected"],
    );
}

/// Every writer but nftables (which batches IPv4 and holds IPv6 elements, see its module doc)
/// writes each record before it returns, so memory does not grow with the export.
#[test]
fn writers_write_each_record_as_it_comes() {
    let options = sample::options();
    for kind in WriterKind::ALL {
        if kind == WriterKind::Nftables {
            continue;
        }
        let mut writer = kind.writer(&options);
        let mut out = Vec::new();
        writer.begin(&mut out).expect("writing to memory");
        for record in sample::records() {
            let before = out.len();
            let outcome = writer.write(&mut out, &record).expect("writing to memory");
            let grew = out.len() > before;
            assert_eq!(grew, outcome == Outcome::Written, "{kind}: {outcome:?} for {record:?}");
        }
    }
}

#[test]
fn suricata_dataset_domains() {
    check(
        WriterKind::SuricataDatasetDomains,
        &sample::options(),
        &expect_file!["../test_data/writers/suricata-dataset-domains.expected"],
    );
}

#[test]
fn suricata_dataset_sha256() {
    check(
        WriterKind::SuricataDatasetSha256,
        &sample::options(),
        &expect_file!["../test_data/writers/suricata-dataset-sha256.expected"],
    );
}
