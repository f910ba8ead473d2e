//! Scores and decay: a claim's score is the source's confidence, halved every half-life of its
//! observable kind since the source last said it, and 0 once the claim is past its `valid_until`.
//!
//! The score is stored with the claim when it is written and refreshed by a periodic task
//! ([`crate::Store::refresh_scores`]); no read recomputes it.
//!
//! Half-lives follow how fast each kind of infrastructure moves: an IP address changes hands in
//! days, a domain or URL lives for weeks, a network or an ASN for months, and a file hash is the
//! same file forever (it only ages out of interest).

use watchfire_model::ObservableKind;

/// The confidence assumed when a source gives none (STIX 2.1 leaves it unset; the middle of the scale).
pub const DEFAULT_CONFIDENCE: u8 = 50;

const MICROS_PER_DAY: f64 = 86_400_000_000.0;

/// Returns the half-life of claims about `kind`, in days.
pub fn half_life_days(kind: ObservableKind) -> f64 {
    match kind {
        ObservableKind::Ipv4 | ObservableKind::Ipv6 => 14.0,
        ObservableKind::Domain | ObservableKind::Url | ObservableKind::Email => 30.0,
        ObservableKind::Cidr | ObservableKind::Asn => 90.0,
        _ => 365.0,
    }
}

/// Returns the score, 0 to 100, of a claim with `confidence` about a `kind` observable, last said
/// at `last_seen_micros`, valid until `valid_until_micros`, as of `now_micros`.
pub fn score(
    confidence: Option<u8>,
    kind: ObservableKind,
    last_seen_micros: i64,
    valid_until_micros: Option<i64>,
    now_micros: i64,
) -> u8 {
    if valid_until_micros.is_some_and(|until| until <= now_micros) {
        return 0;
    }
    let confidence = f64::from(confidence.unwrap_or(DEFAULT_CONFIDENCE).min(100));
    // A last sighting in the future (clock skew) counts as now.
    let age_days = (now_micros.saturating_sub(last_seen_micros)).max(0) as f64 / MICROS_PER_DAY;
    let decayed = confidence * 0.5_f64.powf(age_days / half_life_days(kind));
    // In 0..=100 by construction, so the cast cannot truncate.
    decayed.round().clamp(0.0, 100.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000_000;

    #[test]
    fn a_fresh_claim_scores_its_confidence() {
        assert_eq!(score(Some(80), ObservableKind::Ipv4, 10 * DAY, None, 10 * DAY), 80);
        assert_eq!(score(None, ObservableKind::Domain, 0, None, 0), DEFAULT_CONFIDENCE);
    }

    #[test]
    fn the_score_halves_every_half_life() {
        assert_eq!(score(Some(80), ObservableKind::Ipv4, 0, None, 14 * DAY), 40);
        assert_eq!(score(Some(80), ObservableKind::Ipv4, 0, None, 28 * DAY), 20);
        assert_eq!(score(Some(80), ObservableKind::Sha256, 0, None, 28 * DAY), 76);
    }

    #[test]
    fn an_expired_claim_scores_zero() {
        assert_eq!(score(Some(100), ObservableKind::Url, 0, Some(5 * DAY), 5 * DAY), 0);
        assert_eq!(score(Some(100), ObservableKind::Url, 0, Some(5 * DAY), 4 * DAY), 91);
    }

    #[test]
    fn a_future_last_seen_counts_as_now() {
        assert_eq!(score(Some(70), ObservableKind::Ipv4, 9 * DAY, None, DAY), 70);
    }
}
