//! `watchfire serve`: runs the node server (REST API, live stream, metrics) on the store, and
//! `watchfire admin init`: makes the first organisation and administrator of a node.
//!
//! `--demo` runs on a fresh store of its own in a temporary directory (deleted at exit), filled
//! with the demo organisations, users and generated intelligence, and binds to loopback only:
//! its passwords are printed for anyone to read.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use watchfire_model::policy::Role;
use watchfire_server::accounts::{Accounts, Scope};
use watchfire_server::{Config, Node, TlsFiles};
use watchfire_store::Store;
use watchfire_warn::deliver::{Delivery, NodeKey, Settings, Smtp, SmtpSecurity};

/// Arguments of `watchfire serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: SocketAddr,

    /// The TLS certificate chain (PEM); with --tls-key, the node serves HTTPS only.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,

    /// The TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,

    /// Serve CLEAR data to unauthenticated callers (a public node).
    #[arg(long)]
    public: bool,

    /// Mark the session cookie Secure even without --tls-cert (behind a TLS-terminating proxy).
    #[arg(long)]
    secure_cookies: bool,

    /// Requests per second each caller (token, user, or address) may make, sustained; twice
    /// as many at once.
    #[arg(long, default_value_t = 200, value_name = "N")]
    rate_per_second: u32,

    /// A MaxMind DB file (GeoLite2-ASN, DB-IP ASN lite, or ip-location-db ASN) telling the AS of
    /// an address, for AS constituencies.
    #[arg(long, value_name = "FILE")]
    geo_asn: Option<PathBuf>,

    /// A MaxMind DB file (GeoLite2-Country or -City, DB-IP country lite, or ip-location-db
    /// country) telling the country of an address, for country constituencies.
    #[arg(long, value_name = "FILE")]
    geo_country: Option<PathBuf>,

    /// The alert aggregation window in hours: one alert per organisation, observable and
    /// category per window, counting repeats.
    #[arg(long, default_value_t = 24, value_name = "HOURS", value_parser = clap::value_parser!(u64).range(1..=24 * 365))]
    alert_window: u64,

    /// An outbreak alert needs sightings by this many distinct organisations ...
    #[arg(long, default_value_t = 3, value_name = "K", value_parser = clap::value_parser!(u64).range(2..=1000))]
    outbreak_orgs: u64,

    /// ... within this many hours.
    #[arg(long, default_value_t = 24, value_name = "HOURS", value_parser = clap::value_parser!(u64).range(1..=24 * 365))]
    outbreak_window: u64,

    /// Run a demo node: a fresh temporary store with demo organisations, users (printed
    /// passwords) and generated intelligence, on loopback only.
    #[arg(long)]
    demo: bool,

    /// The SMTP relay alert mails go through; without one, mails stay visible as failed
    /// deliveries.
    #[arg(long, value_name = "HOST:PORT", requires = "smtp_from")]
    smtp_relay: Option<String>,

    /// The sender address of alert mails.
    #[arg(long, value_name = "ADDR", requires = "smtp_relay")]
    smtp_from: Option<String>,

    /// Let webhooks go to loopback, private, link-local and other non-public addresses (off by
    /// default, so a member's webhook cannot reach into the node's own network).
    #[arg(long)]
    webhooks_allow_private: bool,

    /// Upgrade the connection to the relay with STARTTLS (required, not opportunistic).
    #[arg(long, requires = "smtp_relay", conflicts_with = "smtp_tls")]
    smtp_starttls: bool,

    /// Connect to the relay over TLS from the first byte (SMTPS, usually port 465).
    #[arg(long, requires = "smtp_relay")]
    smtp_tls: bool,

    /// The user name to authenticate to the relay with.
    #[arg(long, value_name = "USER", requires_all = ["smtp_relay", "smtp_password_env"])]
    smtp_user: Option<String>,

    /// The environment variable that holds the relay password (never given on the command
    /// line, never stored).
    #[arg(long, value_name = "VAR", requires = "smtp_user")]
    smtp_password_env: Option<String>,
}

/// Runs `watchfire serve`.
pub fn run(args: &Args, data: &Path, database: Option<&str>) -> Result<ExitCode> {
    init_logging();
    if args.demo && !args.listen.ip().is_loopback() {
        bail!(
            "--demo binds to loopback only (its passwords are public): use --listen 127.0.0.1:PORT"
        );
    }
    let demo_dir = if args.demo {
        let dir = std::env::temp_dir().join(format!("watchfire-demo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Some(TempDir(dir))
    } else {
        None
    };
    let store: Arc<dyn Store> = match &demo_dir {
        Some(dir) => Arc::from(watchfire_store::open(&dir.0, None)?),
        None => Arc::from(watchfire_store::open(data, database)?),
    };
    if let Some(dir) = &demo_dir {
        let accounts = Accounts::new(Arc::clone(&store));
        let demo = watchfire_server::demo::seed(&*store, &accounts)?;
        print_demo(&demo, args.listen, &dir.0);
    }
    let key_dir = demo_dir.as_ref().map_or(data, |dir| dir.0.as_path());
    let settings =
        Settings { allow_private_targets: args.webhooks_allow_private, ..Settings::default() };
    let delivery = Delivery { key: node_key(key_dir)?, smtp: smtp(args)?, settings };
    let mut config = Config::new(args.listen);
    config.delivery = Some(delivery);
    config.public = args.public;
    config.feeds = true;
    config.limits.rate_per_second = args.rate_per_second;
    config.limits.rate_burst = args.rate_per_second.saturating_mul(2);
    config.secure_cookies = args.secure_cookies || args.tls_cert.is_some();
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(TlsFiles { cert: cert.clone(), key: key.clone() });
    }
    config.warn.window = std::time::Duration::from_secs(args.alert_window * 3600);
    config.warn.outbreak_window = std::time::Duration::from_secs(args.outbreak_window * 3600);
    config.warn.outbreak_orgs = usize::try_from(args.outbreak_orgs).unwrap_or(usize::MAX);
    if args.geo_asn.is_some() || args.geo_country.is_some() {
        let geo = watchfire_warn::Geo::open(args.geo_asn.as_deref(), args.geo_country.as_deref())?;
        config.locator = Some(Arc::new(geo));
    }
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    let node = Node::start(Arc::clone(&store), config)?;
    let has_users = !node.state().accounts.users().map_err(anyhow::Error::msg)?.is_empty();
    if !has_users && !args.demo {
        tracing::warn!(
            "this node has no users yet: run `watchfire admin init` to make the first administrator"
        );
    }
    let listener = TcpListener::bind(args.listen)
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, scheme, public = args.public, "watchfire serving");
    eprintln!("watchfire: serving on {scheme}://{address}/ (Ctrl-C stops)");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(node.serve(listener, shutdown_signal())).context("the server failed")?;
    drop(node);
    drop(demo_dir);
    Ok(ExitCode::SUCCESS)
}

/// Returns the node key: `WATCHFIRE_NODE_KEY` (64 hex digits; the same on every node sharing one
/// PostgreSQL), else the key file in the data directory, made on first start.
fn node_key(data: &Path) -> Result<NodeKey> {
    match std::env::var("WATCHFIRE_NODE_KEY") {
        Ok(hex) => NodeKey::from_hex(&hex).context("WATCHFIRE_NODE_KEY"),
        Err(_) => NodeKey::load_or_create(data).map_err(anyhow::Error::from),
    }
}

/// Returns the SMTP relay of the flags, its password read from the named environment variable.
fn smtp(args: &Args) -> Result<Option<Smtp>> {
    let (Some(relay), Some(from)) = (&args.smtp_relay, &args.smtp_from) else {
        return Ok(None);
    };
    let (host, port) = relay
        .rsplit_once(':')
        .filter(|(host, _)| !host.is_empty())
        .with_context(|| format!("--smtp-relay {relay:?}: expected HOST:PORT"))?;
    let port: u16 =
        port.parse().with_context(|| format!("--smtp-relay {relay:?}: bad port {port:?}"))?;
    let from = watchfire_warn::deliver::check_address(from).context("--smtp-from")?;
    let credentials = match (&args.smtp_user, &args.smtp_password_env) {
        (Some(user), Some(variable)) => {
            let password = std::env::var(variable).with_context(|| {
                format!("--smtp-password-env {variable}: the variable is not set")
            })?;
            Some((user.clone(), password))
        }
        _ => None,
    };
    let security = match (args.smtp_starttls, args.smtp_tls) {
        (true, _) => SmtpSecurity::StartTls,
        (false, true) => SmtpSecurity::Tls,
        (false, false) => SmtpSecurity::Plain,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    Ok(Some(Smtp { host, port, from, security, credentials }))
}

/// A directory deleted when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn print_demo(demo: &watchfire_server::demo::Demo, listen: SocketAddr, dir: &Path) {
    let bar = "=".repeat(78);
    eprintln!("{bar}");
    eprintln!("  DEMO NODE: these accounts and passwords are public. Never expose this node.");
    eprintln!(
        "  Store: {} (fresh, deleted at exit); {} objects of generated intelligence.",
        dir.display(),
        demo.objects
    );
    eprintln!("  Log in at http://{listen}/ (POST /api/v1/session) or with HTTP Basic:");
    for login in &demo.logins {
        let roles: Vec<&str> = login
            .roles
            .iter()
            .map(|role| match role {
                Role::Admin => "admin",
                Role::Analyst => "analyst",
                Role::Viewer => "viewer",
            })
            .collect();
        eprintln!(
            "    {:<16} {:<22} {:<14} {}",
            login.user,
            login.password,
            login.organisation,
            roles.join(",")
        );
    }
    eprintln!("  Admin API token: {}", demo.admin_token);
    eprintln!(
        "    curl -H 'Authorization: Bearer {}' http://{listen}/api/v1/stats",
        demo.admin_token
    );
    eprintln!("{bar}");
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// Logs to standard error at the level of `WATCHFIRE_LOG` (default `info`).
pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WATCHFIRE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Arguments of `watchfire admin`.
#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AdminCommand {
    /// Makes the first organisation and administrator of a node and prints a one-time password
    /// and API token. Refused when the node has users already.
    Init {
        /// The operator's organisation.
        #[arg(long, default_value = "operator")]
        org: String,
        /// The administrator's user name.
        #[arg(long, default_value = "admin")]
        user: String,
    },
}

/// Runs `watchfire admin`.
pub fn run_admin(args: &AdminArgs, data: &Path, database: Option<&str>) -> Result<ExitCode> {
    let AdminCommand::Init { org, user } = &args.command;
    let store: Arc<dyn Store> = Arc::from(watchfire_store::open(data, database)?);
    let accounts = Accounts::new(Arc::clone(&store));
    if !accounts.users().map_err(anyhow::Error::msg)?.is_empty() {
        bail!(
            "admin init: the node has users already; an administrator makes more through the API"
        );
    }
    let organisation = accounts.create_org(org, true, Vec::new()).map_err(anyhow::Error::msg)?;
    let password = base64_password();
    let admin = accounts
        .create_user(user, organisation.id, vec![Role::Admin], &password)
        .map_err(anyhow::Error::msg)?;
    let (_, token) = accounts
        .create_token(
            "admin-init",
            organisation.id,
            Some(&admin),
            vec![Scope::Read, Scope::Write, Scope::Admin],
            None,
        )
        .map_err(anyhow::Error::msg)?;
    println!("organisation: {}", organisation.name);
    println!("user:         {}", admin.name);
    println!("password:     {password}");
    println!("token:        {token}");
    println!("These are shown once and stored only as argon2id hashes: keep them safe.");
    Ok(ExitCode::SUCCESS)
}

fn base64_password() -> String {
    let bytes = watchfire_server::accounts::random_bytes::<18>();
    bytes
        .iter()
        .map(|byte| {
            char::from(
                b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
                    [usize::from(*byte) % 57],
            )
        })
        .collect()
}
