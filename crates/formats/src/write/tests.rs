//! Unit tests of the writer registry and summaries; the per-format snapshots are in
//! `tests/writers.rs`.

use super::*;

#[test]
fn writer_names_round_trip() {
    for kind in WriterKind::ALL {
        assert_eq!(kind.as_str().parse::<WriterKind>(), Ok(kind));
    }
    let error = "pdf".parse::<WriterKind>().unwrap_err();
    assert!(
        error.to_string().starts_with("unknown export format \"pdf\"; known formats: csv, hosts")
    );
}

#[test]
fn summary_counts_and_prints_by_reason() {
    let mut summary = Summary::default();
    summary.count(Outcome::Written);
    summary.count(Outcome::Skipped(SkipReason::Event));
    summary.count(Outcome::Skipped(SkipReason::Kind(ObservableKind::Md5)));
    summary.count(Outcome::Skipped(SkipReason::Event));
    assert_eq!(summary.n_skipped(), 3);
    assert_eq!(summary.to_string(), "written 1, skipped: host event 2, md5 observable 1");
}
