//! The in-memory guards of one node: the per-caller rate limit (a token bucket) and the
//! throttle of failed log-ins (per name and per address). Both forget old entries, so a flood of
//! distinct callers cannot grow them without bound.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::Limits;

/// Failed log-ins allowed per name (and per address, ten times as many) in [`FAILURE_WINDOW`].
pub const MAX_FAILURES: u32 = 5;
/// The window over which failed log-ins are counted.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Entries kept at most per table before the oldest are dropped.
const MAX_ENTRIES: usize = 100_000;

/// The guards.
#[derive(Debug)]
pub struct Guards {
    rate_per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
    failures: Mutex<HashMap<String, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

impl Guards {
    /// Returns the guards for `limits`.
    pub fn new(limits: &Limits) -> Guards {
        Guards {
            rate_per_second: f64::from(limits.rate_per_second.max(1)),
            burst: f64::from(limits.rate_burst.max(1)),
            buckets: Mutex::default(),
            failures: Mutex::default(),
        }
    }

    /// Takes one request from the caller's bucket; returns the seconds to wait when it is empty.
    pub fn take(&self, caller: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_ENTRIES {
            let full = self.burst;
            let rate = self.rate_per_second;
            // A bucket that has refilled is the same as no bucket.
            buckets.retain(|_, bucket| {
                bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate < full
            });
        }
        let bucket =
            buckets.entry(caller.to_owned()).or_insert(Bucket { tokens: self.burst, at: now });
        let refill = now.duration_since(bucket.at).as_secs_f64() * self.rate_per_second;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = (1.0 - bucket.tokens) / self.rate_per_second;
        Err(wait.ceil().max(1.0) as u64)
    }

    /// Tells whether log-ins for `name` from `address` are throttled now; returns the seconds to
    /// wait when they are.
    pub fn throttled(&self, name: &str, address: IpAddr) -> Option<u64> {
        let now = Instant::now();
        let failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let over = |key: &str, limit: u32| {
            failures.get(key).and_then(|entry| {
                let age = now.duration_since(entry.since);
                (entry.count >= limit && age < FAILURE_WINDOW)
                    .then(|| (FAILURE_WINDOW - age).as_secs().max(1))
            })
        };
        over(&name_key(name), MAX_FAILURES)
            .or_else(|| over(&address_key(address), MAX_FAILURES * 10))
    }

    /// Counts a failed log-in for `name` from `address`.
    pub fn failed(&self, name: &str, address: IpAddr) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if failures.len() >= MAX_ENTRIES {
            failures.retain(|_, entry| now.duration_since(entry.since) < FAILURE_WINDOW);
        }
        for key in [name_key(name), address_key(address)] {
            let entry = failures.entry(key).or_insert(Failures { count: 0, since: now });
            if now.duration_since(entry.since) >= FAILURE_WINDOW {
                *entry = Failures { count: 0, since: now };
            }
            entry.count += 1;
        }
    }

    /// Forgets the failures of `name` after a successful log-in.
    pub fn succeeded(&self, name: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        failures.remove(&name_key(name));
    }
}

fn name_key(name: &str) -> String {
    format!("name:{}", name.to_lowercase())
}

fn address_key(address: IpAddr) -> String {
    format!("address:{address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refuses() {
        let limits = Limits { rate_per_second: 1, rate_burst: 3, ..Limits::default() };
        let guards = Guards::new(&limits);
        for _ in 0..3 {
            assert_eq!(guards.take("token-a"), Ok(()));
        }
        assert!(guards.take("token-a").is_err());
        // Another caller has its own bucket.
        assert_eq!(guards.take("token-b"), Ok(()));
    }

    #[test]
    fn failed_logins_throttle_the_name_until_a_success() {
        let guards = Guards::new(&Limits::default());
        let address: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert_eq!(guards.throttled("Alice", address), None);
            guards.failed("alice", address);
        }
        assert!(guards.throttled("ALICE", address).is_some());
        assert_eq!(guards.throttled("bob", address), None);
        guards.succeeded("alice");
        assert_eq!(guards.throttled("alice", address), None);
    }
}
