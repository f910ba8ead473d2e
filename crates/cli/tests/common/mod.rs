//! What every end-to-end test of the `watchfire` binary shares: running it with arguments and
//! standard input, and finding the shared feed fixtures.

#![allow(dead_code)] // Each test binary uses a different part.

use std::io::Write;
use std::process::{Command, Stdio};

/// What one run of the binary gave.
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
}

impl Run {
    /// Tells whether the binary exited with status 0.
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

/// Runs `watchfire` with `args`, feeding `stdin` from a thread so large inputs cannot deadlock.
pub fn watchfire(args: &[&str], stdin: &[u8]) -> Run {
    watchfire_with_env(args, &[], stdin)
}

/// Runs `watchfire` with `args` and the environment variables `env` added.
pub fn watchfire_with_env(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_watchfire"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the watchfire binary runs");
    let mut child_stdin = child.stdin.take().expect("stdin is piped");
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = child_stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("watchfire finishes");
    writer.join().expect("the stdin writer finishes");
    Run {
        stdout: String::from_utf8(output.stdout).expect("utf-8 output"),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code(),
    }
}

/// Returns the path of a shared feed fixture, `plain-ip-list/blocklist-de_imap.txt`.
pub fn fixture(path: &str) -> String {
    format!("{}/../../../shared/fixtures/feeds/{path}", env!("CARGO_MANIFEST_DIR"))
}
