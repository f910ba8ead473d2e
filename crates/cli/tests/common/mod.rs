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

/// `watchfire` running with standard input piped, its output read line by line as it comes: for
/// tests of answers given while the input stays open.
pub struct Running {
    child: std::process::Child,
    /// Standard input; dropping it closes it.
    pub stdin: Option<std::process::ChildStdin>,
    lines: std::sync::mpsc::Receiver<String>,
    reader: std::thread::JoinHandle<()>,
}

impl Running {
    /// Starts `watchfire` with `args`.
    pub fn start(args: &[&str]) -> Running {
        use std::io::BufRead as _;
        let mut child = Command::new(env!("CARGO_BIN_EXE_watchfire"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the watchfire binary runs");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, lines) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let _ = sender.send(line.expect("utf-8 output"));
            }
        });
        let stdin = child.stdin.take();
        Running { child, stdin, lines, reader }
    }

    /// Writes `text` to standard input and flushes it; standard input stays open.
    pub fn write(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("standard input is open");
        stdin.write_all(text.as_bytes()).expect("watchfire reads its input");
        stdin.flush().expect("watchfire reads its input");
    }

    /// The next output line; panics, naming `what`, when none comes within 30 s (generous for a
    /// loaded machine: an answer held back until the input ends never comes while it is open).
    pub fn next_line(&self, what: &str) -> String {
        self.lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no output line for {what} within 30 s"))
    }

    /// Closes standard input and waits for the exit: the lines written after those already read,
    /// and whether the exit status was 0.
    pub fn finish(mut self) -> (Vec<String>, bool) {
        drop(self.stdin.take());
        let ok = self.child.wait().expect("watchfire finishes").success();
        self.reader.join().expect("the output reader finishes");
        (self.lines.try_iter().collect(), ok)
    }
}
