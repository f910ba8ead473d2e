//! The match index of `match` and `lookup`: loaded from its cache file beside the SQLite store
//! (`index.snapshot` in the data directory) when the file matches the store, else built from the
//! store and written there for the next run (see `watchfire_index::open_cached`).
//!
//! PostgreSQL stores get no cache file: their data directory may not exist on the machine that
//! runs the command, or may be shared by nodes on different databases; they build every time.
//! A damaged cache file, or one that cannot be written, costs a warning line, never the command.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use watchfire_index::Snapshot;

/// The cache file's name in the data directory.
pub const CACHE_FILE: &str = "index.snapshot";

/// Opens the store at `data` or `database` and returns its snapshot, through the cache file
/// unless `no_cache`; `command` names the command in warnings.
pub fn open(
    data: &Path,
    database: Option<&str>,
    no_cache: bool,
    command: &str,
) -> Result<Snapshot> {
    if std::env::var_os("WATCHFIRE_LOG").is_some() {
        crate::serve::init_logging();
    }
    let store = watchfire_store::open(data, database)?;
    let started = Instant::now();
    if no_cache || database.is_some() {
        let snapshot = watchfire_index::build(&*store)?;
        tracing::debug!(ms = started.elapsed().as_millis(), "built the match index");
        return Ok(snapshot);
    }
    let path = data.join(CACHE_FILE);
    let (snapshot, report) = watchfire_index::open_cached(&*store, &path)?;
    let ms = started.elapsed().as_millis();
    match report.loaded {
        true => tracing::debug!(cache = %path.display(), ms, "loaded the match index"),
        false => tracing::debug!(cache = %path.display(), ms, "built the match index"),
    }
    if let Some(error) = report.load_error {
        eprintln!("watchfire: {command}: warning: {error} (the index was built from the store)");
    }
    if let Some(error) = report.save_error {
        eprintln!(
            "watchfire: {command}: warning: {error} (not written; the next run builds again)"
        );
    }
    Ok(snapshot)
}
