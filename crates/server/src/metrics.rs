//! The node's metrics, served at `/metrics` in the Prometheus text format (version 0.0.4):
//! requests per route and status, their durations as a histogram, failed log-ins, rate-limited
//! requests, open streams, the log's head and the match index's size.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The upper bounds of the duration histogram's buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// The counters of one node.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    durations: Mutex<BTreeMap<String, Histogram>>,
    auth_failures: AtomicU64,
    rate_limited: AtomicU64,
    alerts_raised: AtomicU64,
    alerts_updated: AtomicU64,
    alerts_inhibited: AtomicU64,
    entries_unmatchable: AtomicU64,
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// What the node reports besides its counters.
#[derive(Debug)]
pub struct Gauges {
    /// The log's last sequence number.
    pub log_head: u64,
    /// The claims in the current match-index snapshot.
    pub index_claims: u64,
    /// The sequence number the snapshot was built at.
    pub index_seq: u64,
    /// Live streams open now.
    pub streams: u64,
    /// The log position the alert engine has dealt with.
    pub warn_cursor: u64,
    /// Look-backs for newly approved claims the alert engine still owes.
    pub warn_lookbacks: u64,
}

impl Metrics {
    /// Counts one answered request of `route` (the route's pattern, never the raw path, so that
    /// callers cannot grow the table).
    pub fn request(&self, route: &str, status: u16, took: Duration) {
        let mut requests = self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *requests.entry((route.to_owned(), status)).or_default() += 1;
        drop(requests);
        let seconds = took.as_secs_f64();
        let mut durations =
            self.durations.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let histogram = durations.entry(route.to_owned()).or_default();
        for (slot, bound) in histogram.counts.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *slot += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// Counts what a step of the alert engine did.
    pub fn count_alerts(&self, outcome: &watchfire_warn::StepOutcome) {
        self.alerts_raised.fetch_add(outcome.raised, Ordering::Relaxed);
        self.alerts_updated.fetch_add(outcome.updated, Ordering::Relaxed);
        self.alerts_inhibited.fetch_add(outcome.inhibited, Ordering::Relaxed);
        self.entries_unmatchable.fetch_add(outcome.unreadable, Ordering::Relaxed);
    }

    /// Counts a failed authentication.
    pub fn auth_failed(&self) {
        self.auth_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request refused by the rate limit.
    pub fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// Renders every metric in the Prometheus text format.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP watchfire_http_requests_total HTTP requests answered, by route and status.\n",
        );
        out.push_str("# TYPE watchfire_http_requests_total counter\n");
        let requests =
            self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        for ((route, status), count) in &requests {
            let _ = writeln!(
                out,
                "watchfire_http_requests_total{{route=\"{}\",status=\"{status}\"}} {count}",
                escape(route)
            );
        }
        out.push_str(
            "# HELP watchfire_http_request_duration_seconds Time to answer a request, by route.\n",
        );
        out.push_str("# TYPE watchfire_http_request_duration_seconds histogram\n");
        let durations =
            self.durations.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        for (route, histogram) in &durations {
            let route = escape(route);
            for (count, bound) in histogram.counts.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "watchfire_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "watchfire_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "watchfire_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "watchfire_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                histogram.count
            );
        }
        let counters = [
            (
                "watchfire_auth_failures_total",
                "Failed authentications (wrong password, bad token).",
                self.auth_failures.load(Ordering::Relaxed),
            ),
            (
                "watchfire_rate_limited_total",
                "Requests refused by the per-caller rate limit.",
                self.rate_limited.load(Ordering::Relaxed),
            ),
            (
                "watchfire_alerts_raised_total",
                "Alerts raised by the alert engine (first versions).",
                self.alerts_raised.load(Ordering::Relaxed),
            ),
            (
                "watchfire_alerts_updated_total",
                "Alert versions counting a repeat.",
                self.alerts_updated.load(Ordering::Relaxed),
            ),
            (
                "watchfire_alerts_inhibited_total",
                "Matches an organisation's inhibition muted.",
                self.alerts_inhibited.load(Ordering::Relaxed),
            ),
            (
                "watchfire_warn_unreadable_total",
                "Log entries the alert engine could not read.",
                self.entries_unmatchable.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
        }
        let gauges = [
            ("watchfire_log_head", "The sequence number of the log's last entry.", gauges.log_head),
            (
                "watchfire_index_claims",
                "Claims in the current match-index snapshot.",
                gauges.index_claims,
            ),
            (
                "watchfire_index_seq",
                "The log position the match-index snapshot was built at.",
                gauges.index_seq,
            ),
            ("watchfire_streams_open", "Live streams open now.", gauges.streams),
            (
                "watchfire_warn_cursor",
                "The log position the alert engine has matched up to.",
                gauges.warn_cursor,
            ),
            (
                "watchfire_warn_lookbacks",
                "Look-backs over the log for newly approved claims still owed.",
                gauges.warn_lookbacks,
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
        }
        out
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
