//! The third-party programs the writer tests hand their output to (the real consumers of each
//! export format), installed on first use: a Python venv with the OASIS STIX validator, PyMISP and
//! idstools, and Debian's `named-checkzone` and `nft`. `cargo xtask test` runs the consumer tests
//! with their paths in the environment.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// The PyPI packages of the venv, pinned. stix2-validator 3.3.2, not 3.3.1; idstools parses
/// Suricata and Snort rules as rule-management tools (suricata-update's ancestor) do; stix2 is
/// the reference STIX parser of `cargo xtask bench-formats`.
/// `taxii2-client` drives our TAXII server and `medallion` (the OASIS reference server) serves
/// our TAXII client in the conformance tests. `mmdb-writer` builds the small MaxMind DB files the
/// geo tests of `warn` read.
const PYTHON_REQUIREMENTS: [&str; 7] = [
    "stix2-validator==3.3.2",
    "idstools==0.6.5",
    "pymisp==2.5.34.4",
    "stix2==3.0.2",
    "taxii2-client==2.3.0",
    "medallion==3.0.0",
    "mmdb-writer==0.2.7",
];

/// Written into the venv once its packages are installed; a venv with another marker is rebuilt.
const VENV_MARKER: &str = ".watchfire-requirements";

/// The Debian packages of the programs the tests run, by program name.
/// `openssl` and `curl` serve the server's TLS test (a certificate made, a client that checks it).
const DEBIAN_PROGRAMS: [(&str, &str); 4] = [
    ("named-checkzone", "bind9-utils"),
    ("nft", "nftables"),
    ("openssl", "openssl"),
    ("curl", "curl"),
];

/// Where the consumer programs are.
#[derive(Debug)]
pub struct Tools {
    /// The Python venv, `target/venv`.
    pub venv: PathBuf,
    /// `named-checkzone` (BIND), for RPZ zones.
    pub named_checkzone: PathBuf,
    /// `nft`, for nftables scripts.
    pub nft: PathBuf,
}

impl Tools {
    /// Returns the environment the consumer tests read: the switch that turns them on and each
    /// tool's absolute path.
    pub fn env(&self) -> [(&'static str, &Path); 4] {
        [
            ("WATCHFIRE_CONSUMER_CHECKS", Path::new("1")),
            ("WATCHFIRE_VENV", &self.venv),
            ("WATCHFIRE_NAMED_CHECKZONE", &self.named_checkzone),
            ("WATCHFIRE_NFT", &self.nft),
        ]
    }
}

/// Installs what is missing (Debian packages with apt-get, which needs root; the venv with pip)
/// and returns where everything is. Present tools are reused, so a second run costs nothing.
pub fn ensure_test_tools() -> Result<Tools> {
    let mut missing_packages: Vec<&str> = DEBIAN_PROGRAMS
        .iter()
        .filter(|(program, _)| find_program(program).is_none())
        .map(|(_, package)| *package)
        .collect();
    let venv = venv_path()?;
    let venv_is_ready = venv_is_ready(&venv);
    if !venv_is_ready && !python_can_make_venvs() {
        missing_packages.extend(["python3", "python3-venv"]);
    }
    if !missing_packages.is_empty() {
        apt_install(&missing_packages)?;
    }
    if !venv_is_ready {
        make_venv(&venv)?;
    }
    let found = |program: &str| {
        find_program(program).with_context(|| format!("{program} is still missing after apt-get"))
    };
    Ok(Tools { venv, named_checkzone: found("named-checkzone")?, nft: found("nft")? })
}

/// Makes the Python venv if it is missing or outdated (installing `python3-venv` with apt-get
/// only if Python cannot make venvs) and returns its path.
pub fn ensure_venv() -> Result<PathBuf> {
    let venv = venv_path()?;
    if !venv_is_ready(&venv) {
        if !python_can_make_venvs() {
            apt_install(&["python3", "python3-venv"])?;
        }
        make_venv(&venv)?;
    }
    Ok(venv)
}

fn venv_path() -> Result<PathBuf> {
    Ok(env::current_dir().context("cannot read the current directory")?.join("target/venv"))
}

fn venv_is_ready(venv: &Path) -> bool {
    fs::read_to_string(venv.join(VENV_MARKER))
        .is_ok_and(|marker| marker.trim() == PYTHON_REQUIREMENTS.join(" "))
}

/// Runs the writer consumer tests with the tools in their environment, so that a missing tool
/// fails them instead of skipping them.
pub fn consumer_checks() -> Result<()> {
    let tools = ensure_test_tools()?;
    let status = Command::new("cargo")
        .args(["test", "--locked", "-p", "watchfire-formats", "--test", "writers_consumers"])
        .envs(tools.env())
        .status()
        .context("cannot run cargo test")?;
    if !status.success() {
        bail!("writer consumer checks failed: {status}");
    }
    Ok(())
}

/// Installs Debian packages with apt-get (after `apt-get update`); needs root.
pub fn apt_install(packages: &[&str]) -> Result<()> {
    let started = Instant::now();
    println!("installing Debian packages {}", packages.join(" "));
    run(Command::new("apt-get").arg("update").arg("-q"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
    .context("apt-get install failed (it needs root; install the packages by hand otherwise)")?;
    println!("installed {} in {:.1?}", packages.join(" "), started.elapsed());
    Ok(())
}

fn make_venv(venv: &Path) -> Result<()> {
    let started = Instant::now();
    println!("creating {} with {}", venv.display(), PYTHON_REQUIREMENTS.join(" "));
    run(Command::new("python3").args(["-m", "venv", "--clear"]).arg(venv))?;
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "-q", "--disable-pip-version-check"])
        .args(PYTHON_REQUIREMENTS))?;
    let marker = venv.join(VENV_MARKER);
    fs::write(&marker, PYTHON_REQUIREMENTS.join(" "))
        .with_context(|| format!("cannot write {}", marker.display()))?;
    println!("created the venv in {:.1?}", started.elapsed());
    Ok(())
}

// Debian's python3 makes venvs only with python3-venv (ensurepip) installed.
fn python_can_make_venvs() -> bool {
    Command::new("python3")
        .args(["-c", "import venv, ensurepip"])
        .output()
        .is_ok_and(|output| output.status.success())
}

// The program's path in PATH or the sbin directories (apt puts nft in /usr/sbin, which a non-login
// PATH may lack).
fn find_program(program: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH").unwrap_or_default();
    let sbin = ["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from);
    env::split_paths(&path)
        .chain(sbin)
        .map(|directory| directory.join(program))
        .find(|candidate| candidate.is_file())
}

fn run(command: &mut Command) -> Result<()> {
    let description = format!("{command:?}");
    let status = command.status().with_context(|| format!("cannot run {description}"))?;
    if !status.success() {
        bail!("{description} failed: {status}");
    }
    Ok(())
}
