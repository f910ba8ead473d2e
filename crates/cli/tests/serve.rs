//! `watchfire serve` and `watchfire admin init` as a user runs them: the first administrator
//! once, a server that answers and stops cleanly on SIGTERM, and a demo that refuses to listen
//! beyond loopback.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn watchfire(data: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_watchfire"));
    command.env_remove("WATCHFIRE_DATA").env_remove("WATCHFIRE_DATABASE").arg("--data").arg(data);
    command
}

fn get(address: &str, path: &str, authorization: Option<&str>) -> Option<String> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let authorization =
        authorization.map(|value| format!("Authorization: {value}\r\n")).unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\n{authorization}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

#[test]
fn admin_init_makes_one_administrator_whose_token_works_and_sigterm_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let init = watchfire(dir.path()).args(["admin", "init", "--org", "my-cert"]).output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let text = String::from_utf8_lossy(&init.stdout).into_owned();
    let token =
        text.lines().find_map(|line| line.strip_prefix("token:")).unwrap().trim().to_owned();
    let again = watchfire(dir.path()).args(["admin", "init"]).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("has users already"));

    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let address = format!("127.0.0.1:{port}");
    let mut server = watchfire(dir.path())
        .args(["serve", "--listen", &address])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while get(&address, "/healthz", None).is_none_or(|answer| !answer.contains("200 OK")) {
        assert!(Instant::now() < deadline, "the server did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    let me = get(&address, "/api/v1/me", Some(&format!("Bearer {token}"))).unwrap();
    assert!(
        me.contains("\"organisation\":\"my-cert\"") && me.contains("\"user\":\"admin\""),
        "{me}"
    );
    let anonymous = get(&address, "/api/v1/stats", None).unwrap();
    assert!(anonymous.starts_with("HTTP/1.1 401"), "{anonymous}");

    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let mut log = String::new();
    server.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(log.contains("shutting down"), "{log}");
}

#[test]
fn the_demo_listens_on_loopback_only() {
    let dir = tempfile::tempdir().unwrap();
    let refused =
        watchfire(dir.path()).args(["serve", "--demo", "--listen", "0.0.0.0:0"]).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("loopback only"));
}
