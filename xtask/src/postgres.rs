//! A private, throwaway PostgreSQL cluster: made in a fresh directory, listening on a free
//! loopback port, stopped and deleted when its [`Cluster`] is dropped. `cargo xtask test` runs
//! the tests against one, `cargo xtask bench-ingest` times imports into one, and
//! `cargo xtask postgres` starts one for a developer.
//!
//! The server is the newest `/usr/lib/postgresql/<version>/bin` (Debian's layout), installed with
//! apt-get when there is none. `initdb` refuses to run as root, so as root every server program
//! runs as the `postgres` system user (made if missing) through `runuser`, in a directory that
//! user owns. Authentication is `trust`: the cluster listens on 127.0.0.1 only, lives as long as
//! the command, and holds generated data.
//!
//! `pg_ctl` starts the server in its own session, so a Ctrl-C (or any signal) that ends xtask
//! before [`Drop`] runs would leave it running. Each cluster therefore has a watchdog: a small
//! shell, deaf to Ctrl-C, reading a pipe only xtask writes to; when xtask exits, however it
//! exits, the pipe ends, and the watchdog stops the server and deletes the directory. A normal
//! drop kills the watchdog first and cleans up itself.

use std::fs;
use std::io::{self, Read};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::tools;

/// The variable holding the test cluster's URL; the store's tests make their databases there.
pub const TEST_URL_VAR: &str = "WATCHFIRE_TEST_POSTGRES";

/// Where Debian installs each PostgreSQL version (`<version>/bin`).
const DEBIAN_POSTGRESQL: &str = "/usr/lib/postgresql";

/// The system user the server runs as when xtask is root.
const SERVER_USER: &str = "postgres";

/// How many lines of the server log an error shows.
const LOG_TAIL_LINES: usize = 30;

/// The watchdog: `sh -c WATCHDOG sh <directory> <stop command...>`, its standard input a pipe
/// from xtask. It ignores the terminal's signals, waits for the pipe to end (xtask exited), then
/// stops the server and deletes the directory.
const WATCHDOG: &str = r#"trap '' INT HUP TERM QUIT
directory=$1
shift
while read -r _; do :; done
"$@" >/dev/null 2>&1
rm -rf "$directory"
echo "xtask postgres: xtask ended, cluster stopped and $directory deleted" >&2
"#;

/// How much the server may trade crash safety for speed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// The server's defaults (fsync on): for benchmark figures that mean something.
    Default,
    /// No fsync, asynchronous commits, no full-page writes: for tests, whose crash tests kill
    /// the client process, never the machine.
    Unsafe,
}

/// A running private cluster; dropping it stops the server and deletes its directory.
#[derive(Debug)]
pub struct Cluster {
    /// The temporary directory holding `data/`, the server `log` and the Unix socket.
    directory: PathBuf,
    /// The directory of `initdb`, `pg_ctl`, `psql` and the server.
    bin: PathBuf,
    /// Whether the server programs run as [`SERVER_USER`] (xtask is root).
    as_server_user: bool,
    port: u16,
    /// The watchdog shell, killed by a normal drop. Its standard input stays open (in the
    /// `Child`) as long as xtask runs; std opens pipes close-on-exec, so no other child holds it.
    watchdog: Option<Child>,
}

impl Cluster {
    /// Makes a cluster in a fresh directory under `parent` and starts it on a free loopback
    /// port. As root, the `postgres` user must be able to enter `parent`.
    pub fn start(parent: &Path, durability: Durability) -> Result<Cluster> {
        let started = Instant::now();
        let bin = server_bin()?;
        let as_server_user = is_root()?;
        if as_server_user {
            ensure_server_user()?;
        }
        let directory = make_directory(parent, as_server_user)?;
        // From here on, dropping `cluster` deletes the directory (and stops a started server).
        let mut cluster = Cluster { directory, bin, as_server_user, port: 0, watchdog: None };
        cluster.initdb()?;
        cluster.port = free_port()?;
        cluster.watchdog = Some(cluster.spawn_watchdog()?);
        cluster.pg_ctl_start(durability)?;
        let fsync = match durability {
            Durability::Default => "fsync on",
            Durability::Unsafe => "fsync off",
        };
        println!(
            "postgres: private cluster ({}, {fsync}) at {} in {}, ready in {:.1?}",
            cluster.bin.display(),
            cluster.url(),
            cluster.directory.display(),
            started.elapsed()
        );
        Ok(cluster)
    }

    /// Returns the directory of the server's programs (`psql`, `pgbench`, ...).
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// Returns the URL of the `postgres` database as the `postgres` superuser.
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// Returns the URL of `database` as the `postgres` superuser.
    pub fn database_url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Runs one SQL statement with `psql` in the `postgres` database, as the client (not the
    /// server user): it goes through TCP like any client.
    pub fn execute(&self, sql: &str) -> Result<()> {
        let output = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &self.url(), "-c", sql])
            .output()
            .context("cannot run psql")?;
        if !output.status.success() {
            bail!("psql {sql:?} failed: {}", String::from_utf8_lossy(&output.stderr).trim());
        }
        Ok(())
    }

    fn data(&self) -> PathBuf {
        self.directory.join("data")
    }

    fn log(&self) -> PathBuf {
        self.directory.join("log")
    }

    /// Returns a command running the server program `program`, as the server user when root.
    fn server_command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut command = match self.as_server_user {
            true => {
                let mut command = Command::new("runuser");
                command.args(["-u", SERVER_USER, "--"]).arg(path);
                command
            }
            false => Command::new(path),
        };
        // The server user may not be allowed into xtask's directory.
        command.current_dir(&self.directory);
        command
    }

    fn initdb(&self) -> Result<()> {
        let output = self
            .server_command("initdb")
            .arg("-D")
            .arg(self.data())
            .args(["-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"])
            .output()
            .context("cannot run initdb")?;
        if !output.status.success() {
            bail!(
                "initdb failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    fn pg_ctl_start(&self, durability: Durability) -> Result<()> {
        let mut options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=200",
            self.port,
            self.directory.display()
        );
        if durability == Durability::Unsafe {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        let output = self
            .server_command("pg_ctl")
            .args(["-w", "-D"])
            .arg(self.data())
            .arg("-l")
            .arg(self.log())
            .args(["-o", &options, "start"])
            // pg_ctl's server inherits these: keep it off xtask's pipes (a test harness may wait
            // for them to close).
            .stdin(Stdio::null())
            .output()
            .context("cannot run pg_ctl start")?;
        if !output.status.success() {
            bail!(
                "pg_ctl start failed ({}): {}\nend of the server log:\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim(),
                log_tail(&self.log())
            );
        }
        Ok(())
    }

    /// Returns the command that stops the server (fast shutdown: open sessions are ended).
    fn stop_command(&self) -> Command {
        let mut command = self.server_command("pg_ctl");
        command.args(["-w", "-D"]).arg(self.data()).args(["-m", "fast", "stop"]);
        command
    }

    fn spawn_watchdog(&self) -> Result<Child> {
        let stop = self.stop_command();
        Command::new("sh")
            .args(["-c", WATCHDOG, "sh"])
            .arg(&self.directory)
            .arg(stop.get_program())
            .args(stop.get_args())
            .current_dir(&self.directory)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .context("cannot start the cluster's watchdog shell")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        let is_running = self.data().join("postmaster.pid").exists();
        if is_running {
            match self.stop_command().output() {
                Ok(output) if output.status.success() => {}
                Ok(output) => eprintln!(
                    "postgres: pg_ctl stop failed ({}): {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
                Err(error) => eprintln!("postgres: cannot run pg_ctl stop: {error}"),
            }
        }
        if let Err(error) = fs::remove_dir_all(&self.directory) {
            eprintln!("postgres: cannot delete {}: {error}", self.directory.display());
        }
    }
}

/// `cargo xtask postgres`: starts a cluster, prints its URL, and waits until standard input ends
/// (Ctrl-D) or Ctrl-C, then stops it.
pub fn serve() -> Result<()> {
    let cluster = Cluster::start(&std::env::temp_dir(), Durability::Unsafe)?;
    println!("{}", cluster.url());
    println!("press Ctrl-D or Ctrl-C to stop the cluster and delete it");
    // Ctrl-C ends xtask at once; the watchdog then cleans up.
    let mut sink = Vec::new();
    io::stdin().lock().read_to_end(&mut sink).context("cannot read standard input")?;
    drop(cluster);
    println!("postgres: stopped and deleted");
    Ok(())
}

/// Returns the `bin` directory of the newest PostgreSQL under [`DEBIAN_POSTGRESQL`], installing
/// Debian's `postgresql` package first when there is none.
fn server_bin() -> Result<PathBuf> {
    if let Some(bin) = newest_server_bin() {
        return Ok(bin);
    }
    println!("postgres: no server under {DEBIAN_POSTGRESQL}, installing one");
    tools::apt_install(&["postgresql"])?;
    newest_server_bin()
        .with_context(|| format!("no PostgreSQL under {DEBIAN_POSTGRESQL} after apt-get"))
}

fn newest_server_bin() -> Option<PathBuf> {
    let entries = fs::read_dir(DEBIAN_POSTGRESQL).ok()?;
    entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            // Versions are `15`, `16`, or `9.6` for old ones: compare them as numbers.
            let name = path.file_name()?.to_str()?;
            let (major, minor) = name.split_once('.').unwrap_or((name, "0"));
            let version: (u32, u32) = (major.parse().ok()?, minor.parse().ok()?);
            let bin = path.join("bin");
            let is_complete = ["initdb", "pg_ctl", "postgres", "psql"]
                .iter()
                .all(|program| bin.join(program).is_file());
            is_complete.then_some((version, bin))
        })
        .max()
        .map(|(_, bin)| bin)
}

/// Whether xtask runs with effective user id 0, from `/proc/self/status` (no `libc` needed).
fn is_root() -> Result<bool> {
    let status =
        fs::read_to_string("/proc/self/status").context("cannot read /proc/self/status")?;
    // `Uid:` lists the real, effective, saved and file-system user ids.
    let effective = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .context("no Uid line in /proc/self/status")?;
    Ok(effective == "0")
}

fn ensure_server_user() -> Result<()> {
    let exists = Command::new("id")
        .args(["-u", SERVER_USER])
        .output()
        .is_ok_and(|output| output.status.success());
    if exists {
        return Ok(());
    }
    println!("postgres: creating the system user {SERVER_USER}");
    run(Command::new("useradd").args(["--system", SERVER_USER]))
}

/// Makes a new directory for the cluster under `parent`, owned by the server user when root.
fn make_directory(parent: &Path, as_server_user: bool) -> Result<PathBuf> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |time| time.subsec_nanos());
    let name = format!("watchfire-postgres-{}-{nanos}", std::process::id());
    // Absolute: the server programs run in the directory itself, and pg_ctl hands the paths on.
    let directory = std::path::absolute(parent.join(name))
        .with_context(|| format!("cannot make {} absolute", parent.display()))?;
    fs::create_dir(&directory).with_context(|| format!("cannot create {}", directory.display()))?;
    if as_server_user {
        let chown = run(Command::new("chown").arg(SERVER_USER).arg(&directory));
        if let Err(error) = chown {
            let _ = fs::remove_dir_all(&directory);
            return Err(error);
        }
    }
    Ok(directory)
}

/// Returns a loopback port nobody listens on now (the kernel picks it for a throwaway socket).
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("cannot bind a loopback port to find a free one")?;
    Ok(listener.local_addr().context("cannot read the bound port")?.port())
}

fn log_tail(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_else(|error| format!("(cannot read: {error})"));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

fn run(command: &mut Command) -> Result<()> {
    let description = format!("{command:?}");
    let output = command.output().with_context(|| format!("cannot run {description}"))?;
    if !output.status.success() {
        bail!(
            "{description} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
