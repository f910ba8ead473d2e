//! What the end-to-end benches share: a fresh work directory, the release `watchfire` binary,
//! `watchfire --data DIR ...` commands, the first administrator, and a `watchfire serve` on a
//! free loopback port that is killed when dropped, an HTTP agent, readiness and the log's head.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Deletes `directory` if it exists and makes it again, empty.
pub fn fresh_directory(directory: &Path) -> Result<()> {
    if directory.exists() {
        fs::remove_dir_all(directory)
            .with_context(|| format!("cannot delete {}", directory.display()))?;
    }
    fs::create_dir_all(directory).with_context(|| format!("cannot create {}", directory.display()))
}

/// Builds the release binary and returns its path.
pub fn build_release() -> Result<PathBuf> {
    println!("building watchfire (release)");
    let status = Command::new("cargo")
        .args(["build", "--release", "--quiet", "-p", "watchfire-cli"])
        .env("CARGO_INCREMENTAL", "0")
        .status()
        .context("cannot run cargo build")?;
    if !status.success() {
        bail!("building watchfire failed: {status}");
    }
    Ok(PathBuf::from("target/release/watchfire"))
}

/// Returns `watchfire --data DATA`, free of the caller's `WATCHFIRE_*` store settings.
pub fn watchfire(binary: &Path, data: &Path) -> Command {
    let mut command = Command::new(binary);
    command.env_remove("WATCHFIRE_DATA").env_remove("WATCHFIRE_DATABASE");
    command.arg("--data").arg(data);
    command
}

/// What `watchfire admin init` printed.
#[derive(Debug)]
pub struct Admin {
    pub user: String,
    pub password: String,
    pub token: String,
}

/// Makes the first administrator of the node at `data`.
pub fn admin_init(binary: &Path, data: &Path) -> Result<Admin> {
    let init = watchfire(binary, data)
        .args(["admin", "init"])
        .output()
        .context("cannot run admin init")?;
    let text = String::from_utf8_lossy(&init.stdout).into_owned();
    if !init.status.success() {
        bail!("admin init failed: {}", String::from_utf8_lossy(&init.stderr));
    }
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .map(|value| value.trim().to_owned())
            .with_context(|| format!("admin init printed no {name} {text}"))
    };
    Ok(Admin { user: field("user:")?, password: field("password:")?, token: field("token:")? })
}

/// Returns a loopback port nobody listens on now.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A child process, killed when dropped (also when a bench fails half-way).
#[derive(Debug)]
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `watchfire serve` on the node at `data`, on 127.0.0.1:`port`, without a rate limit
/// (the bench is the only caller) and with warnings only in its log; returns it and its base URL.
pub fn serve(binary: &Path, data: &Path, port: u16) -> Result<(Process, String)> {
    let listen = format!("127.0.0.1:{port}");
    let child = watchfire(binary, data)
        .args(["serve", "--listen", &listen, "--rate-per-second", "10000000"])
        .env("WATCHFIRE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start watchfire serve")?;
    Ok((Process(child), format!("http://{listen}")))
}

/// An HTTP agent for the benches: answers of any status are values, 30 s per request.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Waits until `watchfire serve` answers `/readyz` (at most 300 s), failing if it exits.
pub fn wait_ready(base: &str, server: &mut Child) -> Result<()> {
    let agent = agent();
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        if let Some(status) = server.try_wait()? {
            bail!("watchfire serve exited: {status}");
        }
        if agent.get(format!("{base}/readyz")).call().is_ok_and(|response| response.status() == 200)
        {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("watchfire serve did not get ready in 300 s")
}

/// Returns the log's head as the node's `/metrics` tells it (needs an admin token).
pub fn last_seq(base: &str, token: &str) -> Result<u64> {
    let mut response = agent()
        .get(format!("{base}/metrics"))
        .header("authorization", format!("Bearer {token}"))
        .call()
        .context("cannot read /metrics")?;
    let text = response.body_mut().read_to_string()?;
    text.lines()
        .find_map(|line| line.strip_prefix("watchfire_log_head "))
        .and_then(|value| value.trim().parse().ok())
        .context("no watchfire_log_head in /metrics")
}
