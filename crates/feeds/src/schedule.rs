//! The scheduler: pulls every enabled source when it is due, one at a time, until told to stop.
//!
//! A source is due when its health's `next_due` has passed ([`crate::pull::record`] sets it: one
//! interval after a success, sooner after a first failure, a growing cool-down once the circuit
//! is open). A failing source thus never holds up the others: each tick pulls every due source
//! once, whatever the others did.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use watchfire_store::Store;

use crate::Error;
use crate::pull::{self, Options, Report};
use crate::source::{self, Source};

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
    ///
    /// Each pull runs on a thread of its own while this one watches `stop`: a stop request
    /// returns at once (within 100 ms) even while a slow source is being fetched; the abandoned
    /// pull ends with its timeout, and its append is atomic either way.
    pub fn run(&self, store: &Arc<dyn Store>, stop: &AtomicBool) {
        const LOOK_EVERY: Duration = Duration::from_secs(1);
        const WATCH: Duration = Duration::from_millis(100);
        while !stop.load(Ordering::Relaxed) {
            let due = match due(&**store, watchfire_store::now_micros()) {
                Ok(due) => due,
                Err(error) => {
                    tracing::warn!(%error, "cannot read the feed sources; retrying");
                    Vec::new()
                }
            };
            for source in due {
                let (sender, receiver) = mpsc::channel();
                let (store, options) = (Arc::clone(store), self.options.clone());
                let spawned =
                    std::thread::Builder::new().name("feed-pull".into()).spawn(move || {
                        let now = watchfire_store::now_micros();
                        // The outcome is in the source's health; the channel only says it ended.
                        let _ = pull::run_and_record(&*store, &source, &options, now);
                        let _ = sender.send(());
                    });
                if let Err(error) = spawned {
                    tracing::warn!(%error, "cannot start a pull thread");
                    continue;
                }
                while receiver.recv_timeout(WATCH) == Err(mpsc::RecvTimeoutError::Timeout) {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                }
            }
            let mut waited = Duration::ZERO;
            while waited < LOOK_EVERY && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(WATCH);
                waited += WATCH;
            }
        }
    }

    /// Pulls, once each, the enabled sources due at `now` (microseconds since the epoch), in name
    /// order; returns what each pull did. Only reading the sources can fail the whole tick.
    pub fn tick(&self, store: &dyn Store, now: i64) -> Result<Vec<Pulled>, Error> {
        let mut pulled = Vec::new();
        for source in due(store, now)? {
            let result = pull::run_and_record(store, &source, &self.options, now);
            if let Err(Error::Busy(_)) = result {
                continue;
            }
            pulled.push(Pulled { name: source.name.clone(), result });
        }
        Ok(pulled)
    }
}

/// Returns the enabled sources due at `now`, in name order.
fn due(store: &dyn Store, now: i64) -> Result<Vec<Source>, Error> {
    let mut due = Vec::new();
    for source in source::list(store)? {
        if source.enabled && source::state(store, &source.name)?.health.next_due <= now {
            due.push(source);
        }
    }
    Ok(due)
}
