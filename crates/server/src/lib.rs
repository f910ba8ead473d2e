//! The node server: accounts, the REST API under `/api/v1`, the live stream, metrics and health,
//! with the access policy of `model` on every path that reads.
//!
//! Every request that reads goes through [`auth::Caller`]: it authenticates (Bearer or Basic
//! with a token or a password, or a session cookie with its CSRF token), applies the per-caller
//! rate limit, and yields the principal that every store read and index lookup is made for.
//! The store is blocking (SQLite or PostgreSQL behind a mutex), so handlers call it on tokio's
//! blocking pool ([`AppState::blocking`]); the match index is in memory.
//!
//! One background thread follows the log: it publishes the log's head (which wakes the live
//! streams) and swaps in a new match-index snapshot. Another refreshes the claims' decayed
//! scores every hour. With [`Config::feeds`], a third pulls the feed sources on their schedule;
//! with [`Config::delivery`], a fourth delivers alerts to webhooks and by e-mail.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod accounts;
mod auth;
pub mod demo;
pub mod error;
mod guards;
mod metrics;
mod openapi;
mod routes;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use watchfire_index::Index;
use watchfire_store::{Seq, Store};

use crate::accounts::Accounts;
use crate::error::{ApiError, ApiResult};

pub use crate::routes::router;

/// How the server runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The TLS certificate chain and key (PEM files); plain HTTP when `None`.
    pub tls: Option<TlsFiles>,
    /// Whether unauthenticated callers may read CLEAR data (DESIGN.md: "public endpoints if enabled").
    pub public: bool,
    /// Whether the session cookie carries `Secure` (set when TLS is on, or behind a TLS proxy).
    pub secure_cookies: bool,
    /// The limits on requests.
    pub limits: Limits,
    /// Whether the node pulls its enabled feed sources on their schedule (`watchfire serve`).
    pub feeds: bool,
    /// How the alert engine raises alerts.
    pub warn: watchfire_warn::Settings,
    /// Where the AS number and country of an address come from (MaxMind DB files), if anywhere.
    pub locator: Option<Arc<dyn watchfire_warn::Locator>>,
    /// Alert delivery (webhooks, e-mail): the node key, the SMTP relay, the tuning. With `None`
    /// no deliverer runs and webhooks cannot be made (`watchfire serve` always sets it).
    pub delivery: Option<watchfire_warn::deliver::Delivery>,
}

/// A TLS certificate chain and its private key, as PEM files.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// The limits on every request. Every body is capped; every wait is bounded.
#[derive(Clone, Debug)]
pub struct Limits {
    /// A JSON body.
    pub json_bytes: usize,
    /// An uploaded feed file (`POST /api/v1/import`), before decompression.
    pub import_bytes: usize,
    /// A bulk lookup or sightings body (NDJSON).
    pub bulk_bytes: usize,
    /// One line of an NDJSON body.
    pub line_bytes: usize,
    /// The time to answer one request (streams excepted) and to receive its body.
    pub request_timeout: Duration,
    /// The time a client has to send a request's head (slow clients are cut off).
    pub header_timeout: Duration,
    /// Requests per second per caller (token, user, or address of an anonymous caller), sustained.
    pub rate_per_second: u32,
    /// Requests a caller may make at once above the sustained rate.
    pub rate_burst: u32,
    /// Live streams open at once on the node.
    pub max_streams: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            json_bytes: 1 << 20,
            import_bytes: 64 << 20,
            bulk_bytes: 16 << 20,
            line_bytes: 4096,
            request_timeout: Duration::from_secs(60),
            header_timeout: Duration::from_secs(10),
            rate_per_second: 200,
            rate_burst: 400,
            max_streams: 1000,
        }
    }
}

impl Config {
    /// Returns the configuration of a node on `listen` with the default limits.
    pub fn new(listen: SocketAddr) -> Config {
        Config {
            listen,
            tls: None,
            public: false,
            secure_cookies: false,
            limits: Limits::default(),
            feeds: false,
            warn: watchfire_warn::Settings::default(),
            locator: None,
            delivery: None,
        }
    }
}

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The accounts (in the store's directory).
    pub accounts: Accounts,
    /// The match index, following the log.
    pub index: Arc<Index>,
    /// The configuration.
    pub config: Arc<Config>,
    metrics: Arc<metrics::Metrics>,
    guards: Arc<guards::Guards>,
    /// The log's last sequence number, as the follower last saw it.
    head: watch::Receiver<Seq>,
    streams: Arc<std::sync::atomic::AtomicUsize>,
    /// The alert engine: the warn thread steps it; status changes go through it too, so the two
    /// never write versions of one alert at once.
    pub warn: Arc<std::sync::Mutex<watchfire_warn::Engine>>,
    /// The log position the alert engine has dealt with (for `/metrics` and readiness).
    warn_cursor: Arc<std::sync::atomic::AtomicU64>,
    /// Look-backs the alert engine still owes (for `/metrics`).
    warn_lookbacks: Arc<std::sync::atomic::AtomicU64>,
}

impl AppState {
    /// Runs `work` on the blocking pool (store calls block) and returns its result.
    pub async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&AppState) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || work(&state))
            .await
            .map_err(|error| ApiError::internal(&error))?
    }
}

/// A running node's background work; dropping it stops the threads.
#[derive(Debug)]
pub struct Node {
    state: AppState,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Node {
    /// Opens the node on `store`: builds the match index and starts following the log.
    pub fn start(store: Arc<dyn Store>, config: Config) -> Result<Node, StartError> {
        let index = Arc::new(Index::open(&*store)?);
        let engine =
            watchfire_warn::Engine::open(&*store, config.warn.clone(), config.locator.clone())?;
        let (head_sender, head) = watch::channel(index.snapshot().seq());
        let stop = Arc::new(AtomicBool::new(false));
        let state = AppState {
            accounts: Accounts::new(Arc::clone(&store)),
            store,
            index,
            guards: Arc::new(guards::Guards::new(&config.limits)),
            config: Arc::new(config),
            metrics: Arc::default(),
            head,
            streams: Arc::default(),
            warn_cursor: Arc::new(std::sync::atomic::AtomicU64::new(engine.cursor())),
            warn_lookbacks: Arc::default(),
            warn: Arc::new(std::sync::Mutex::new(engine)),
        };
        let follower = {
            let (state, stop) = (state.clone(), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("log-follower".into())
                .spawn(move || follow_log(&state, &head_sender, &stop))
        };
        let rescorer = {
            let (state, stop) = (state.clone(), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("rescorer".into())
                .spawn(move || refresh_scores(&state, &stop))
        };
        let indexer = {
            let (state, stop) = (state.clone(), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("index".into())
                .spawn(move || follow_index(&state, &stop))
        };
        let warner = {
            let (state, stop) = (state.clone(), Arc::clone(&stop));
            std::thread::Builder::new().name("warn".into()).spawn(move || warn_loop(&state, &stop))
        };
        let mut threads: Vec<_> =
            [follower, indexer, rescorer, warner].into_iter().filter_map(Result::ok).collect();
        if state.config.feeds {
            let (store, stop) = (Arc::clone(&state.store), Arc::clone(&stop));
            let scheduler = std::thread::Builder::new().name("feeds".into()).spawn(move || {
                watchfire_feeds::Scheduler::default().run(&store, &stop);
            });
            threads.extend(scheduler.ok());
        }
        if let Some(delivery) = state.config.delivery.clone() {
            let (store, stop) = (Arc::clone(&state.store), Arc::clone(&stop));
            let deliverer = std::thread::Builder::new().name("deliverer".into()).spawn(move || {
                watchfire_warn::deliver::Deliverer::new(store, delivery).run(&stop);
            });
            threads.extend(deliverer.ok());
        }
        Ok(Node { state, stop, threads })
    }

    /// Returns the shared state (for the router).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves HTTP (or HTTPS) until `shutdown` resolves, then lets open requests finish (up to
    /// 10 s) and stops.
    pub async fn serve(
        &self,
        listener: std::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = router(self.state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let handle = axum_server::Handle::new();
        let graceful = handle.clone();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing open requests");
            graceful.graceful_shutdown(Some(Duration::from_secs(10)));
        });
        listener.set_nonblocking(true)?;
        match &self.state.config.tls {
            Some(files) => {
                let tls =
                    axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.cert, &files.key)
                        .await
                        .map_err(|error| {
                            std::io::Error::other(format!(
                                "cannot load the TLS certificate {} and key {}: {error}",
                                files.cert.display(),
                                files.key.display()
                            ))
                        })?;
                let mut server = axum_server::from_tcp_rustls(listener, tls).handle(handle);
                configure_http(server.http_builder(), &self.state.config.limits);
                server.serve(app).await
            }
            None => {
                let mut server = axum_server::from_tcp(listener).handle(handle);
                configure_http(server.http_builder(), &self.state.config.limits);
                server.serve(app).await
            }
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Bounds what a slow or idle client may hold: the request head must arrive within the header
/// timeout (also between requests of a kept-alive connection) and fit in 64 KiB.
fn configure_http(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    limits: &Limits,
) {
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(64 * 1024);
}

// Follows the log and publishes each new head, waking the streams. Nothing else runs on this
// thread, so a slow index refresh never delays an event (an alert) on its way to a stream.
fn follow_log(state: &AppState, head: &watch::Sender<Seq>, stop: &AtomicBool) {
    let mut last = *head.borrow();
    while !stop.load(Ordering::Relaxed) {
        match state.store.wait(last, Duration::from_millis(250)) {
            Ok(seq) if seq > last => {
                last = seq;
                head.send_replace(seq);
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "cannot follow the log; retrying in 1 s");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

// Follows the log with the match index: a new snapshot after each append, paced by [`Pacer`].
fn follow_index(state: &AppState, stop: &AtomicBool) {
    let mut last = state.index.snapshot().seq();
    let mut pacer = Pacer::default();
    while !stop.load(Ordering::Relaxed) {
        match state.store.wait(last, Duration::from_millis(250)) {
            Ok(seq) if seq > last => {
                let wait = pacer.wait(std::time::Instant::now());
                if !wait.is_zero() {
                    // Checked again after at most 250 ms, so a stop is not held up.
                    std::thread::sleep(wait.min(Duration::from_millis(250)));
                    continue;
                }
                let started = std::time::Instant::now();
                match state.index.refresh(&*state.store) {
                    Ok(_) => {
                        let took = started.elapsed();
                        last = seq.max(state.index.snapshot().seq());
                        pacer.built(started, took);
                        tracing::debug!(seq = last, ?took, "match index refreshed");
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot refresh the match index; retrying");
                        last = seq;
                    }
                }
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "the match index cannot follow the log; retrying in 1 s");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// When the match index may be rebuilt next. A snapshot is built whole, from every claim (about
/// two CPU-seconds at a million indicators), so while the log keeps moving (a large import) one
/// build after another would hold a core. After a build that took `t`, the next starts no sooner
/// than [`Pacer::SPACING`] times `t` later (capped at [`Pacer::MAX_WAIT`]): index builds take at
/// most a quarter of a core, and a lookup sees an append at most about four builds late. A small
/// store's builds take milliseconds, so its index follows at once.
#[derive(Default)]
struct Pacer {
    not_before: Option<std::time::Instant>,
}

impl Pacer {
    const SPACING: u32 = 3;
    const MAX_WAIT: Duration = Duration::from_secs(60);

    // How long to wait before the next build, at `now`.
    fn wait(&self, now: std::time::Instant) -> Duration {
        self.not_before
            .map_or(Duration::ZERO, |not_before| not_before.saturating_duration_since(now))
    }

    // Records a build that started at `started` and took `took`.
    fn built(&mut self, started: std::time::Instant, took: Duration) {
        let pause = took.saturating_mul(Pacer::SPACING).min(Pacer::MAX_WAIT);
        self.not_before = Some(started + took + pause);
    }
}

// Follows the log with the alert engine: matches every new entry against the constituencies as
// it lands and appends the alerts; expires stale alerts every minute.
fn warn_loop(state: &AppState, stop: &AtomicBool) {
    const EXPIRE_EVERY: Duration = Duration::from_secs(60);
    let mut next_expiry = std::time::Instant::now();
    let mut cursor = state.warn.lock().map_or(0, |engine| engine.cursor());
    while !stop.load(Ordering::Relaxed) {
        if let Err(error) = state.store.wait(cursor, Duration::from_millis(250)) {
            tracing::warn!(%error, "the alert engine cannot follow the log; retrying in 1 s");
            std::thread::sleep(Duration::from_secs(1));
            continue;
        }
        let members = |org| state.accounts.org(org).ok().map(|org| org_principal(&org));
        // One step at a time, the lock released in between: a status change from the API waits
        // for one step at most, also while the engine catches up with a long log. A step runs at
        // least every 250 ms even when the log is quiet, so a newly approved claim looks back at
        // the log without waiting for the next entry.
        while !stop.load(Ordering::Relaxed) {
            let Ok(mut engine) = state.warn.lock() else {
                tracing::error!("the alert engine's lock is poisoned; alerts stop");
                return;
            };
            match engine.step(&*state.store, &members) {
                Ok(outcome) => {
                    state.metrics.count_alerts(&outcome);
                    if outcome.raised + outcome.updated > 0 {
                        tracing::info!(
                            raised = outcome.raised,
                            updated = outcome.updated,
                            inhibited = outcome.inhibited,
                            cursor = outcome.cursor,
                            "alerts"
                        );
                    }
                    cursor = outcome.cursor;
                    state.warn_cursor.store(cursor, Ordering::Relaxed);
                    state.warn_lookbacks.store(engine.lookback_pending() as u64, Ordering::Relaxed);
                    if !outcome.more {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "the alert engine failed a step; retrying in 1 s");
                    drop(engine);
                    std::thread::sleep(Duration::from_secs(1));
                    break;
                }
            }
        }
        if std::time::Instant::now() >= next_expiry {
            next_expiry += EXPIRE_EVERY;
            let Ok(mut engine) = state.warn.lock() else {
                tracing::error!("the alert engine's lock is poisoned; alerts stop");
                return;
            };
            match engine.expire(&*state.store, watchfire_store::now_micros()) {
                Ok(0) => {}
                Ok(expired) => tracing::info!(expired, "alerts expired"),
                Err(error) => tracing::warn!(%error, "cannot expire alerts"),
            }
        }
    }
}

/// The principal an organisation's alerts are judged for: a machine of that organisation (no
/// user, so RED evidence never becomes an alert).
pub fn org_principal(org: &accounts::Organisation) -> watchfire_model::policy::Principal {
    watchfire_model::policy::Principal::Member(watchfire_model::policy::Member {
        org: org.id,
        user: None,
        roles: Vec::new(),
        in_community: org.in_community,
        client_of: org.client_of.clone(),
    })
}

/// Why a node cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The match index cannot be built from the store.
    #[error("cannot build the match index: {0}")]
    Index(#[from] watchfire_index::BuildError),
    /// The alert engine cannot read its state.
    #[error("cannot start the alert engine: {0}")]
    Warn(#[from] watchfire_warn::Error),
}

// Recomputes the decayed scores every hour (and once at start), then refreshes the index.
fn refresh_scores(state: &AppState, stop: &AtomicBool) {
    const EVERY: Duration = Duration::from_secs(3600);
    let mut next = std::time::Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if std::time::Instant::now() >= next {
            next += EVERY;
            match state.store.refresh_scores(watchfire_store::now_micros()) {
                Ok(0) => {}
                Ok(changed) => {
                    tracing::info!(changed, "claim scores decayed");
                    if let Err(error) = state.index.rebuild(&*state.store) {
                        tracing::warn!(%error, "cannot rebuild the match index");
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot refresh the claim scores"),
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::Pacer;

    /// The first build starts at once; the next waits three times as long as the last build
    /// took, counted from its end, and never more than a minute.
    #[test]
    fn index_builds_are_paced_by_the_time_the_last_took() {
        let mut pacer = Pacer::default();
        let start = Instant::now();
        assert_eq!(pacer.wait(start), Duration::ZERO);
        pacer.built(start, Duration::from_secs(2));
        assert_eq!(pacer.wait(start + Duration::from_secs(2)), Duration::from_secs(6));
        assert_eq!(pacer.wait(start + Duration::from_secs(7)), Duration::from_secs(1));
        assert_eq!(pacer.wait(start + Duration::from_secs(8)), Duration::ZERO);
        assert_eq!(pacer.wait(start + Duration::from_secs(100)), Duration::ZERO);
        // A small store's build: a few milliseconds' pause.
        pacer.built(start, Duration::from_millis(5));
        assert_eq!(pacer.wait(start + Duration::from_millis(5)), Duration::from_millis(15));
        // A huge one: at most a minute.
        pacer.built(start, Duration::from_secs(40));
        assert_eq!(pacer.wait(start + Duration::from_secs(40)), Pacer::MAX_WAIT);
    }
}
