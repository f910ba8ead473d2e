//! Test endpoints on loopback: an HTTP receiver that records every request and answers as told
//! (a status, late, or never), and an SMTP sink that accepts or refuses mail. Shared with the
//! CLI's acceptance test (`crates/cli/tests/delivery.rs` includes this file).

#![allow(dead_code)] // each test crate uses a part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    /// Header names lower-cased, with their values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
    /// When it arrived.
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(key, _)| key == &name.to_ascii_lowercase())
            .map_or("", |(_, value)| value.as_str())
    }
}

/// How the receiver answers its n-th request (0-based).
#[derive(Clone, Copy, Debug)]
pub enum Reply {
    /// At once with this status.
    Status(u16),
    /// With this status after this wait.
    Late(Duration, u16),
    /// Never (the connection stays open for a minute).
    Hang,
}

/// An HTTP receiver on 127.0.0.1.
pub struct HttpReceiver {
    pub url: String,
    requests: Arc<Mutex<Vec<Received>>>,
}

impl HttpReceiver {
    pub fn start(reply: impl Fn(usize) -> Reply + Send + Sync + 'static) -> HttpReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let requests: Arc<Mutex<Vec<Received>>> = Arc::default();
        let reply = Arc::new(reply);
        let counter = Arc::new(AtomicUsize::new(0));
        let recorded = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (recorded, reply, counter) =
                    (Arc::clone(&recorded), Arc::clone(&reply), Arc::clone(&counter));
                std::thread::spawn(move || serve_http(stream, &recorded, &*reply, &counter));
            }
        });
        HttpReceiver { url, requests }
    }

    pub fn requests(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve_http(
    stream: TcpStream,
    recorded: &Mutex<Vec<Received>>,
    reply: &(dyn Fn(usize) -> Reply + Send + Sync),
    counter: &AtomicUsize,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(stream);
    let mut headers = Vec::new();
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let n = counter.fetch_add(1, Ordering::SeqCst);
    recorded.lock().unwrap().push(Received {
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    });
    let status = match reply(n) {
        Reply::Status(status) => status,
        Reply::Late(wait, status) => {
            std::thread::sleep(wait);
            status
        }
        Reply::Hang => {
            std::thread::sleep(Duration::from_secs(60));
            return;
        }
    };
    let mut stream = reader.into_inner();
    let _ = write!(stream, "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

/// An SMTP sink on 127.0.0.1: accepts every mail (recording its data), or refuses every
/// sender with 550.
pub struct SmtpSink {
    pub port: u16,
    mails: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    pub fn start(refuse: bool) -> SmtpSink {
        SmtpSink::start_slow(refuse, Duration::ZERO)
    }

    /// Starts a sink that waits `delay` before accepting each mail's data.
    pub fn start_slow(refuse: bool, delay: Duration) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails: Arc<Mutex<Vec<String>>> = Arc::default();
        let recorded = Arc::clone(&mails);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let recorded = Arc::clone(&recorded);
                std::thread::spawn(move || serve_smtp(stream, &recorded, refuse, delay));
            }
        });
        SmtpSink { port, mails }
    }

    /// The DATA of every mail accepted.
    pub fn mails(&self) -> Vec<String> {
        self.mails.lock().unwrap().clone()
    }
}

fn serve_smtp(stream: TcpStream, mails: &Mutex<Vec<String>>, refuse: bool, delay: Duration) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let _ = writer.write_all(b"220 sink.test ESMTP test sink\r\n");
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_ascii_uppercase();
        let answer: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
            b"250 sink.test\r\n"
        } else if command.starts_with("MAIL FROM") && refuse {
            b"550 5.7.1 relaying denied by the test sink\r\n"
        } else if command.starts_with("MAIL FROM")
            || command.starts_with("RCPT TO")
            || command.starts_with("RSET")
            || command.starts_with("NOOP")
        {
            b"250 ok\r\n"
        } else if command == "DATA" {
            let _ = writer.write_all(b"354 go ahead\r\n");
            let mut data = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(&line);
            }
            std::thread::sleep(delay);
            mails.lock().unwrap().push(data);
            b"250 queued\r\n"
        } else if command == "QUIT" {
            let _ = writer.write_all(b"221 bye\r\n");
            return;
        } else {
            b"500 unknown command\r\n"
        };
        let _ = writer.write_all(answer);
    }
}

/// Waits until `done` holds, at most `limit`; tells whether it did.
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}
