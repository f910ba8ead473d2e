//! The crash test: a child process appends batches and is killed (SIGKILL) at random moments,
//! 20 times per backend. After each kill the store opens, every batch the child was told is
//! durable is there, and no batch is there in part.
//!
//! Each batch holds `BATCH` indicators under a source named after the batch, so the per-source
//! counts of `stats` show a partial batch at once. This file has its own `main` (`harness =
//! false`): the child is this same test binary started with `--child`.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{fact, indicator};
use watchfire_model::tlp::Tlp;
use watchfire_store::{PostgresStore, Reader, SqliteStore, Store};

const BATCH: u64 = 50;
const KILLS: usize = 20;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|arg| arg == "--child") {
        child(&args[position + 1], &args[position + 2], args[position + 3].parse().unwrap());
        return;
    }
    // `cargo test` passes filters and flags to every test binary; this one runs its one test.
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    println!("crash test seed {seed}");
    let mut random = XorShift(seed);
    let dir = tempfile::tempdir().unwrap();
    let sqlite_location = dir.path().join("watchfire.db").display().to_string();
    kill_and_check("sqlite", &sqlite_location, &mut random);
    let postgres_location = common::fresh_postgres_database();
    kill_and_check("postgres", &postgres_location, &mut random);
    println!("test crash ... ok");
}

fn open(backend: &str, location: &str) -> Box<dyn Store> {
    match backend {
        "sqlite" => {
            Box::new(SqliteStore::open(std::path::Path::new(location)).expect("open sqlite"))
        }
        _ => Box::new(PostgresStore::connect(location).expect("open postgres")),
    }
}

// The child: append batches from `first` on, saying "acked N" once batch N is durable.
fn child(backend: &str, location: &str, first: u64) {
    let store = open(backend, location);
    let stdout = std::io::stdout();
    for batch in first.. {
        let facts: Vec<_> = (0..BATCH)
            .map(|index| {
                let n = batch * BATCH + index;
                let value = format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255);
                let source = format!("batch-{batch}");
                fact(&source, Tlp::Green, indicator(&source, &value, 1))
            })
            .collect();
        store.append(&facts).expect("append");
        let mut out = stdout.lock();
        writeln!(out, "acked {batch}").unwrap();
        out.flush().unwrap();
    }
}

fn kill_and_check(backend: &str, location: &str, random: &mut XorShift) {
    let started = Instant::now();
    let mut acknowledged: Vec<u64> = Vec::new();
    let mut next_batch = 1;
    for round in 0..KILLS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--child", backend, location, &next_batch.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the child");
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut acked = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(batch) = line.strip_prefix("acked ") {
                    acked.push(batch.parse::<u64>().unwrap());
                }
            }
            acked
        });
        // Let it open the store and append for a random while, then kill it mid-flight.
        std::thread::sleep(Duration::from_millis(30 + random.next() % 300));
        child.kill().expect("SIGKILL the child");
        child.wait().unwrap();
        let acked = reader.join().unwrap();
        next_batch = acked.last().map_or(next_batch, |last| last + 1) + 1_000;
        acknowledged.extend(acked);
        check(backend, location, &acknowledged, round);
    }
    println!(
        "{backend}: {KILLS} kills, {} batches acknowledged, all durable, none partial ({:.1} s)",
        acknowledged.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(acknowledged.len() >= KILLS, "the child acknowledged too little to test anything");
}

fn check(backend: &str, location: &str, acknowledged: &[u64], round: usize) {
    let store = open(backend, location);
    let stats = store.stats(Reader::Operator).expect("stats after a kill");
    for (source, count) in &stats.by_source {
        assert_eq!(*count, BATCH, "{backend} round {round}: {source} is partial");
    }
    for batch in acknowledged {
        let source = format!("batch-{batch}");
        assert!(
            stats.by_source.contains_key(&source),
            "{backend} round {round}: acknowledged {source} is lost"
        );
    }
    // The log has no gap: every sequence number up to the last holds one of the batches' objects.
    assert_eq!(stats.last_seq, stats.objects, "{backend} round {round}");
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
