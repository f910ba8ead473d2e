//! A store that is locked, full, corrupt, of another program or of a newer schema gives a clear
//! error and leaves the data as it was; and what one PostgreSQL client appends wakes another.

mod common;

use std::time::{Duration, Instant};

use common::*;
use watchfire_model::tlp::Tlp;
use watchfire_store::{Error, PostgresStore, Reader, SqliteOptions, SqliteStore, Store};

fn some_facts(prefix: u8, n: u8) -> Vec<watchfire_store::Fact> {
    (0..n)
        .map(|index| {
            fact("feed", Tlp::Green, indicator("feed", &format!("10.{prefix}.0.{index}"), 1))
        })
        .collect()
}

#[test]
fn sqlite_a_locked_store_fails_with_locked_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("watchfire.db");
    let options =
        SqliteOptions { busy_timeout: Duration::from_millis(200), ..SqliteOptions::default() };
    let store = SqliteStore::open_with(&path, &options).unwrap();
    store.append(&some_facts(1, 3)).unwrap();
    // Another process holds the write lock.
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let error = store.append(&some_facts(2, 3)).unwrap_err();
    assert!(matches!(error, Error::Locked(_)), "{error:?}");
    assert!(error.to_string().starts_with("the store is locked by another process"), "{error}");
    other.execute_batch("ROLLBACK").unwrap();
    // Nothing of the failed batch is there, and the store works again.
    assert_eq!(store.last_seq().unwrap(), 3);
    assert_eq!(store.append(&some_facts(2, 3)).unwrap().last_seq, 6);
}

/// Regression: two processes opening a new store at once (`import` and a `lookup` started beside
/// it) both saw schema version 0 and both ran the first migration; the second failed with "table
/// meta already exists". Each opener must find the schema the other made.
#[test]
fn sqlite_a_new_store_opened_by_several_at_once_gets_one_schema() {
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("watchfire.db");
        let barrier = std::sync::Barrier::new(4);
        let opened: Vec<Result<SqliteStore, Error>> = std::thread::scope(|scope| {
            let openers: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        SqliteStore::open(&path)
                    })
                })
                .collect();
            openers.into_iter().map(|opener| opener.join().unwrap()).collect()
        });
        for (opener, store) in opened.into_iter().enumerate() {
            let store =
                store.unwrap_or_else(|error| panic!("round {round}, opener {opener}: {error}"));
            store.append(&some_facts(opener as u8, 1)).unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.last_seq().unwrap(), 4, "round {round}");
    }
}

#[test]
fn sqlite_a_full_store_fails_with_full_and_keeps_every_earlier_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("watchfire.db");
    let options = SqliteOptions { max_size: Some(256 * 1024), ..SqliteOptions::default() };
    let store = SqliteStore::open_with(&path, &options).unwrap();
    let mut acknowledged = 0;
    let error = loop {
        let prefix = u8::try_from(acknowledged / 200 % 250).unwrap();
        match store.append(&some_facts(prefix, 200)) {
            Ok(outcome) => acknowledged = outcome.last_seq,
            Err(error) => break error,
        }
        assert!(acknowledged < 100_000, "the size cap never hit");
    };
    assert!(matches!(error, Error::Full(_)), "{error:?}");
    assert!(error.to_string().starts_with("the store's disk is full"), "{error}");
    assert_eq!(store.last_seq().unwrap(), acknowledged);
    drop(store);
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(reopened.last_seq().unwrap(), acknowledged);
    assert_eq!(reopened.stats(Reader::Operator).unwrap().objects, acknowledged);
}

#[test]
fn sqlite_a_file_of_another_program_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    {
        let other = rusqlite::Connection::open(&path).unwrap();
        other
            .execute_batch("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine');")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let error = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(error, Error::Corrupt(_)), "{error:?}");
    assert!(error.to_string().contains("an SQLite file of another program"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn sqlite_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("watchfire.db");
    drop(SqliteStore::open(&path).unwrap());
    rusqlite::Connection::open(&path).unwrap().execute_batch("PRAGMA user_version = 7").unwrap();
    let error = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(error, Error::NewerSchema { found: 7, supported: 2 }), "{error:?}");
}

#[test]
fn sqlite_a_version_1_store_is_upgraded_and_keeps_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("watchfire.db");
    SqliteStore::open(&path).unwrap().append(&some_facts(1, 3)).unwrap();
    // What schema version 1 left on disk: no directory table.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("DROP TABLE directory; PRAGMA user_version = 1")
        .unwrap();
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.last_seq().unwrap(), 3);
    assert!(store.directory_put("org", "a", "{}", watchfire_store::Put::Insert).unwrap());
}

#[test]
fn sqlite_reopening_keeps_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("watchfire.db");
    SqliteStore::open(&path).unwrap().append(&some_facts(1, 5)).unwrap();
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.last_seq().unwrap(), 5);
    assert_eq!(store.append(&some_facts(1, 5)).unwrap().new_versions, 0);
}

#[test]
fn postgres_a_newer_schema_is_refused_untouched() {
    let url = fresh_postgres_database();
    PostgresStore::connect(&url).unwrap().append(&some_facts(1, 2)).unwrap();
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client.batch_execute("UPDATE meta SET value = 9 WHERE key = 'schema_version'").unwrap();
    let error = PostgresStore::connect(&url).unwrap_err();
    assert!(matches!(error, Error::NewerSchema { found: 9, supported: 2 }), "{error:?}");
    let count: i64 = client.query_one("SELECT count(*) FROM log", &[]).unwrap().get(0);
    assert_eq!(count, 2);
}

#[test]
fn postgres_a_database_of_another_program_is_refused_untouched() {
    let url = fresh_postgres_database();
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client.batch_execute("CREATE TABLE invoices (id INT)").unwrap();
    let error = PostgresStore::connect(&url).unwrap_err();
    assert!(matches!(error, Error::Corrupt(_)), "{error:?}");
    let tables: i64 = client
        .query_one("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", &[])
        .unwrap()
        .get(0);
    assert_eq!(tables, 1, "nothing was created");
}

#[test]
fn postgres_an_unreachable_server_is_a_clear_error() {
    let error = PostgresStore::connect("postgres://nobody@127.0.0.1:1/none").unwrap_err();
    assert!(matches!(error, Error::Open(_)), "{error:?}");
    assert!(error.to_string().starts_with("cannot open the store: cannot connect to PostgreSQL"));
}

/// Two stores on one database stand for two processes (each has its own connections): a
/// follower waiting in one is woken by LISTEN/NOTIFY when the other appends.
#[test]
fn postgres_an_append_by_one_client_wakes_a_follower_in_another() {
    let url = fresh_postgres_database();
    let writer = PostgresStore::connect(&url).unwrap();
    let follower = &PostgresStore::connect(&url).unwrap();
    // Open the listening connection first.
    assert_eq!(follower.wait(0, Duration::from_millis(1)).unwrap(), 0);
    let mut latencies = Vec::new();
    for round in 0..5u8 {
        std::thread::scope(|scope| {
            let after = follower.last_seq().unwrap();
            let waiting = scope.spawn(move || {
                let seq = follower.wait(after, Duration::from_secs(30)).unwrap();
                (seq, Instant::now())
            });
            std::thread::sleep(Duration::from_millis(50));
            let appended = Instant::now();
            writer.append(&some_facts(round, 1)).unwrap();
            let (seq, woken) = waiting.join().unwrap();
            assert_eq!(seq, after + 1);
            latencies.push(woken.duration_since(appended));
        });
    }
    // Woken by the notification, never by the 30 s timeout.
    eprintln!("wake latencies after an append by the other client: {latencies:?}");
    assert!(latencies.iter().all(|latency| *latency < Duration::from_secs(5)), "{latencies:?}");
}

#[test]
fn sqlite_reads_do_not_wait_for_a_long_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("watchfire.db")).unwrap();
    store.append(&some_facts(1, 1)).unwrap();
    let facts: Vec<_> = (0..120_000u32)
        .map(|index| {
            let address =
                format!("10.{}.{}.{}", 100 + index / 65_536, (index / 256) % 256, index % 256);
            fact("feed", Tlp::Green, indicator("feed", &address, 1))
        })
        .collect();
    let batch = watchfire_store::Batch::prepare(&facts).unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            store.append_prepared(batch).unwrap();
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        // Reads while the write holds the writer answer at once with the committed head (with
        // one connection for both, they would wait for the commit and see the new head).
        std::thread::sleep(Duration::from_millis(50));
        let mut old_heads_read = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            let head = store.last_seq().unwrap();
            let objects = store.stats(Reader::Operator).unwrap().objects;
            assert!([1, 120_001].contains(&head) && [1, 120_001].contains(&objects));
            if head == 1 {
                old_heads_read += 1;
            }
        }
        assert!(old_heads_read > 0, "no read answered during the write");
    });
    assert_eq!(store.last_seq().unwrap(), 120_001);
}

#[test]
fn a_closed_sqlite_store_leaves_no_wal_to_recover() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("watchfire.db");
    let wal = dir.path().join("watchfire.db-wal");
    let store = SqliteStore::open(&path).unwrap();
    store.append(&some_facts(1, 200)).unwrap();
    // Read through the read-only connections too, so each has the file open.
    for _ in 0..8 {
        assert_eq!(store.stats(Reader::Operator).unwrap().objects, 200);
    }
    assert!(wal.exists(), "the append went to the WAL");
    drop(store);
    // The writer closed last, checkpointed and removed the WAL: the next open reads no WAL.
    assert!(!wal.exists(), "{} is left behind", wal.display());
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.stats(Reader::Operator).unwrap().objects, 200);
}
