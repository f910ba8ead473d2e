//! The scheduler: pulls every enabled source when it is due, one at a time, until told to stop.
//!
//! A source is due when its health's `next_due` has passed ([`crate::pull::record`] sets it: one
//! interval after a success, sooner after a first failure, a growing cool-down once the circuit
//! is open). A failing source thus never holds up the others: each tick pulls every due source
//! once, whatever the others did.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use watchfire_store::Store;

use crate::Error;
use crate::pull::{self, Options, Report};
use crate::source;

/// Runs the pulls of the sources configured in a store.
#[derive(Clone, Debug, Default)]
pub struct Scheduler {
    /// The limits and timings of every pull.
    pub options: Options,
}

/// What a tick did with one source.
#[derive(Debug)]
pub struct Pulled {
    /// The source.
    pub name: String,
    /// The report, or why the pull failed.
    pub result: Result<Report, Error>,
}

impl Scheduler {
    /// Returns a scheduler with `options`.
    pub fn new(options: Options) -> Scheduler {
        Scheduler { options }
    }

    /// Pulls due sources until `stop` is set, looking for due sources every second.
    pub fn run(&self, store: &dyn Store, stop: &AtomicBool) {
        const LOOK_EVERY: Duration = Duration::from_secs(1);
        while !stop.load(Ordering::Relaxed) {
            if let Err(error) = self.tick_until(store, watchfire_store::now_micros(), stop) {
                tracing::warn!(%error, "cannot read the feed sources; retrying");
            }
            let mut waited = Duration::ZERO;
            while waited < LOOK_EVERY && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                waited += Duration::from_millis(100);
            }
        }
    }

    /// Pulls, once each, the enabled sources due at `now` (microseconds since the epoch), in name
    /// order; returns what each pull did. Only reading the sources can fail the whole tick.
    pub fn tick(&self, store: &dyn Store, now: i64) -> Result<Vec<Pulled>, Error> {
        self.tick_until(store, now, &AtomicBool::new(false))
    }

    fn tick_until(
        &self,
        store: &dyn Store,
        now: i64,
        stop: &AtomicBool,
    ) -> Result<Vec<Pulled>, Error> {
        let mut pulled = Vec::new();
        for source in source::list(store)? {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            if !source.enabled {
                continue;
            }
            let state = source::state(store, &source.name)?;
            let is_due = state.health.next_due <= now;
            if !is_due {
                continue;
            }
            let result = pull::run_and_record(store, &source, &self.options, now);
            if let Err(Error::Busy(_)) = result {
                continue;
            }
            pulled.push(Pulled { name: source.name.clone(), result });
        }
        Ok(pulled)
    }
}
