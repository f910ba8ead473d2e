//! What the pull tests share: a small HTTP/1.1 server on loopback (std `TcpListener`, one thread
//! per connection, `Connection: close`) whose answers each test sets per path, with a log of
//! the requests it got; and a store in a temporary directory.

#![allow(dead_code)] // Each test binary uses part of it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use watchfire_store::{Entry, Query, Reader, SqliteStore, Store};

/// A request as the server read it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// The path without the query.
    pub path: String,
    /// The query (after `?`), empty when none.
    pub query: String,
    /// Headers, names lower-cased.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// Returns a query parameter, percent-decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| percent_decode(value))
        })
    }
}

/// An answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply { status: 200, headers: Vec::new(), body: body.into() }
    }

    pub fn status(status: u16) -> Reply {
        Reply { status, headers: Vec::new(), body: Vec::new() }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// The loopback server.
pub struct Server {
    pub base: String,
    routes: Arc<Mutex<BTreeMap<String, Handler>>>,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        let routes: Arc<Mutex<BTreeMap<String, Handler>>> = Arc::default();
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let (thread_routes, thread_requests) = (Arc::clone(&routes), Arc::clone(&requests));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (routes, requests) = (Arc::clone(&thread_routes), Arc::clone(&thread_requests));
                std::thread::spawn(move || serve(stream, &routes, &requests));
            }
        });
        Server { base, routes, requests }
    }

    /// Answers every request for `path` with `handler`.
    pub fn route(&self, path: &str, handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) {
        self.routes.lock().unwrap().insert(path.to_owned(), Arc::new(handler));
    }

    /// Answers every request for `path` with `reply`.
    pub fn fixed(&self, path: &str, reply: Reply) {
        self.route(path, move |_| reply.clone());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The requests so far for `path`.
    pub fn requests(&self, path: &str) -> Vec<Request> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|request| request.path == path)
            .cloned()
            .collect()
    }

    pub fn clear_requests(&self) {
        self.requests.lock().unwrap().clear();
    }
}

fn serve(
    stream: TcpStream,
    routes: &Mutex<BTreeMap<String, Handler>>,
    requests: &Mutex<Vec<Request>>,
) {
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path.to_owned(), query.to_owned()),
        None => (target, String::new()),
    };
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length = headers.get("content-length").and_then(|value| value.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let request = Request { method, path, query, headers, body };
    requests.lock().unwrap().push(request.clone());
    let handler = routes.lock().unwrap().get(&request.path).cloned();
    let reply = match handler {
        Some(handler) => handler(&request),
        None => Reply::status(404),
    };
    let mut head = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", reply.status);
    let has_length =
        reply.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-length"));
    if !has_length {
        head.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = writer.write_all(head.as_bytes());
    let _ = writer.write_all(&reply.body);
    let _ = writer.flush();
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let decoded = (bytes[index] == b'%')
            .then(|| text.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(byte) => {
                out.push(byte);
                index += 3;
            }
            None => {
                out.push(if bytes[index] == b'+' { b' ' } else { bytes[index] });
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A fresh SQLite store in a temporary directory (kept alive by the returned guard).
pub fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(&dir.path().join("watchfire.db")).expect("open the store");
    (dir, store)
}

/// Every log entry, for before/after comparisons.
pub fn entries(store: &dyn Store) -> Vec<Entry> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page = store
            .query(Reader::Operator, &Query { after, limit: 10_000, ..Query::default() })
            .expect("query the log");
        all.extend(page.entries);
        match page.next {
            Some(next) => after = next,
            None => return all,
        }
    }
}

/// Reads a fixture of `shared/fixtures/feeds/`.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/../../../shared/fixtures/feeds/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|error| panic!("read {full}: {error}"))
}
