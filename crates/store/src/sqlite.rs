//! The embedded backend: one SQLite file in WAL mode with `synchronous=FULL`, so a committed
//! batch survives a crash of the process or the machine.
//!
//! One connection, behind a mutex, serves the process; other processes on the same file are
//! serialised by SQLite's write lock (`BEGIN IMMEDIATE`, waiting up to the busy timeout).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params, params_from_iter};
use watchfire_model::Observable;
use watchfire_model::record::Category;

use crate::plan::{CurrentState, Head, Lookup, Plan, States, plan};
use crate::read::{self, CLAIM_COLUMNS, ClaimFields, Dialect, RawEntry};
use crate::rows::{Prepared, decode_tlp, hash_key};
use crate::schema;
use crate::{
    AppendOutcome, Batch, Claim, ClaimPage, Entry, Error, Page, Put, Query, Reader, SCHEMA_VERSION,
    Seq, SightingCount, SourceStats, Stats, Store, Versions, now_micros,
};

/// `PRAGMA application_id` of a watchfire store ("WFIR"), so another program's SQLite file is
/// recognised as not ours before anything is written to it.
const APPLICATION_ID: i64 = 0x5746_4952;

/// The schema, one function per version; a store at version N runs the ones after N.
const MIGRATIONS: &[fn() -> String] = &[
    || {
        format!(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
         INSERT INTO meta (key, value) VALUES ('last_seq', 0), ('last_added', 0);
         {}",
            schema::tables_v1(Dialect::Sqlite)
        )
    },
    || schema::directory_v2(Dialect::Sqlite),
];

/// Options of the embedded store.
#[derive(Clone, Debug)]
pub struct SqliteOptions {
    /// How long a writer waits for another process's write lock before failing with
    /// [`Error::Locked`].
    pub busy_timeout: Duration,
    /// A cap on the file size in bytes (rounded down to whole pages); `None` leaves SQLite's own.
    /// A batch that would pass it fails with [`Error::Full`] and changes nothing.
    pub max_size: Option<u64>,
}

impl Default for SqliteOptions {
    fn default() -> SqliteOptions {
        SqliteOptions { busy_timeout: Duration::from_secs(10), max_size: None }
    }
}

/// The embedded store: one SQLite file.
///
/// One connection writes (behind a mutex: SQLite has one writer at a time anyway); reads go to a
/// small pool of read-only connections, so that in WAL mode a read never waits for a long write
/// (a 100 000-fact import) and concurrent requests of the server read in parallel.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    connection: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: std::sync::atomic::AtomicUsize,
    /// Counts this process's commits and wakes its waiters at once (`wait` still polls for
    /// other processes' appends).
    commits: (Mutex<u64>, std::sync::Condvar),
    /// The thread that checkpoints the WAL in the background, and its stop signal.
    checkpointer:
        Option<(std::sync::Arc<std::sync::atomic::AtomicBool>, std::thread::JoinHandle<()>)>,
}

/// How often the background thread checkpoints the WAL.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

// Copies the WAL into the database file in the background (`PRAGMA wal_checkpoint(PASSIVE)`,
// which never blocks a writer), so that no commit pays for a checkpoint: with SQLite's automatic
// checkpoints, the commit that crosses the threshold copies up to 64 MB and fsyncs the file
// before it returns. Another process's checkpoint at the same moment makes one of them busy,
// which is no error here: the next round catches up.
fn checkpoint_in_background(
    path: &Path,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Option<std::thread::JoinHandle<()>> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags).ok()?;
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::park_timeout(CHECKPOINT_EVERY);
                let _ = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
        })
        .ok()
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.checkpointer.take() {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            thread.thread().unpark();
            let _ = thread.join();
        }
        // The readers close first, so the writer is the file's last connection: SQLite then
        // checkpoints the WAL into the database and deletes it. A read-only connection closing
        // last cannot, and the next open would read the whole WAL again to recover it (seconds
        // after a large import).
        self.readers.clear();
    }
}

/// Read-only connections per store.
const READERS: usize = 4;

impl SqliteStore {
    /// Opens (or creates) the store at `path` with the default options.
    pub fn open(path: &Path) -> Result<SqliteStore, Error> {
        SqliteStore::open_with(path, &SqliteOptions::default())
    }

    /// Opens (or creates) the store at `path`. A file of another program, a damaged file or a
    /// store of a newer schema is refused before anything is written to it.
    pub fn open_with(path: &Path, options: &SqliteOptions) -> Result<SqliteStore, Error> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags)
            .map_err(|error| Error::Open(format!("{}: {error}", path.display())))?;
        let name = path.display().to_string();
        connection.busy_timeout(options.busy_timeout).map_err(|error| map_error(&name, &error))?;
        // Read-only checks first: nothing is written to a file that is not ours.
        let (application_id, version, n_tables) =
            inspect(&connection).map_err(|error| map_error(&name, &error))?;
        if n_tables > 0 && application_id != APPLICATION_ID {
            return Err(Error::Corrupt(format!("{name} is an SQLite file of another program")));
        }
        if version > SCHEMA_VERSION {
            return Err(Error::NewerSchema { found: version, supported: SCHEMA_VERSION });
        }
        use_wal(&connection, options.busy_timeout).map_err(|error| map_error(&name, &error))?;
        connection
            .execute_batch(
                "PRAGMA synchronous = FULL;
                 PRAGMA cache_size = -262144;
                 PRAGMA mmap_size = 1073741824;
                 PRAGMA wal_autocheckpoint = 0;
                 PRAGMA temp_store = MEMORY;",
            )
            .map_err(|error| map_error(&name, &error))?;
        if let Some(max_size) = options.max_size {
            let page_size: i64 = connection
                .query_row("PRAGMA page_size", [], |row| row.get(0))
                .map_err(|error| map_error(&name, &error))?;
            let pages = max_size / u64::try_from(page_size.max(512)).unwrap_or(4096);
            connection
                .execute_batch(&format!("PRAGMA max_page_count = {}", pages.max(1)))
                .map_err(|error| map_error(&name, &error))?;
        }
        migrate(&connection, version).map_err(|error| map_error(&name, &error))?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let reader = open_reader(path, options).map_err(|error| map_error(&name, &error))?;
            readers.push(Mutex::new(reader));
        }
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        // Without the thread (it cannot be started), SQLite checkpoints in the commits again.
        let checkpointer = match checkpoint_in_background(path, std::sync::Arc::clone(&stop)) {
            Some(thread) => Some((stop, thread)),
            None => {
                connection
                    .execute_batch("PRAGMA wal_autocheckpoint = 16384")
                    .map_err(|error| map_error(&name, &error))?;
                None
            }
        };
        Ok(SqliteStore {
            path: path.to_owned(),
            connection: Mutex::new(connection),
            readers,
            next_reader: std::sync::atomic::AtomicUsize::new(0),
            commits: (Mutex::new(0), std::sync::Condvar::new()),
            checkpointer,
        })
    }

    /// Returns the path of the store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite itself consistent (the transaction is
        // rolled back when the next BEGIN finds it open), so a poisoned lock is still usable.
        self.connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Returns a read-only connection: a free one if any, else the next in turn.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        for reader in &self.readers {
            if let Ok(guard) = reader.try_lock() {
                return guard;
            }
        }
        let turn = self.next_reader.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // As for the writer: a poisoned lock still guards a usable connection.
        self.readers[turn % self.readers.len()]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn error(&self, error: &rusqlite::Error) -> Error {
        map_error(&self.path.display().to_string(), error)
    }

    fn write(&self, prepared: Vec<Prepared>) -> Result<AppendOutcome, Error> {
        let connection = self.connection();
        // A transaction left open by an earlier failure is rolled back first.
        if !connection.is_autocommit() {
            connection.execute_batch("ROLLBACK").map_err(|error| self.error(&error))?;
        }
        connection.execute_batch("BEGIN IMMEDIATE").map_err(|error| self.error(&error))?;
        let result = write_batch(&connection, prepared);
        match result {
            Ok(outcome) => {
                connection.execute_batch("COMMIT").map_err(|error| {
                    let _ = connection.execute_batch("ROLLBACK");
                    self.error(&error)
                })?;
                let (count, committed) = &self.commits;
                *count.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
                committed.notify_all();
                Ok(outcome)
            }
            Err(error) => {
                let _ = connection.execute_batch("ROLLBACK");
                Err(match error {
                    WriteError::Sqlite(error) => self.error(&error),
                    WriteError::Store(error) => error,
                })
            }
        }
    }
}

// Opens a read-only connection to the store's file (after the writer made and migrated it).
fn open_reader(path: &Path, options: &SqliteOptions) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let reader = Connection::open_with_flags(path, flags)?;
    reader.busy_timeout(options.busy_timeout)?;
    reader.execute_batch(
        "PRAGMA cache_size = -65536;
         PRAGMA mmap_size = 1073741824;
         PRAGMA temp_store = MEMORY;",
    )?;
    Ok(reader)
}

// Puts the file in WAL mode (it stays so). On a new file the switch needs the file to itself, and
// SQLite answers "busy" at once, without its busy handler, while another process opening the same
// new store holds it: the switch is tried again until `timeout`.
fn use_wal(connection: &Connection, timeout: Duration) -> rusqlite::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        match connection.execute_batch("PRAGMA journal_mode = WAL") {
            Err(error)
                if error.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

// Reads the application id, the schema version and the number of tables, writing nothing. One
// read transaction, so the three come from one state: read one by one, a migration committed by
// another process in between showed its tables without its application id.
fn inspect(connection: &Connection) -> rusqlite::Result<(i64, i64, i64)> {
    connection.execute_batch("BEGIN")?;
    let read = (|| {
        let application_id = connection.query_row("PRAGMA application_id", [], |row| row.get(0))?;
        let version = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        let n_tables =
            connection.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))?;
        Ok((application_id, version, n_tables))
    })();
    connection.execute_batch("COMMIT")?;
    read
}

// Runs the migrations after version `from`, each in its own write transaction. Another process
// may open the same new store at the same moment (an `import` and a `lookup` beside it): the
// version read before the write lock may be stale, so each step reads it again under the lock
// and skips what the other process already did.
fn migrate(connection: &Connection, from: i64) -> rusqlite::Result<()> {
    let from = usize::try_from(from).unwrap_or(0);
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(from) {
        let version = index + 1;
        connection.execute_batch("BEGIN IMMEDIATE")?;
        let step = (|| {
            let current: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
            if usize::try_from(current).unwrap_or(0) >= version {
                return Ok(());
            }
            let migration = migration();
            connection.execute_batch(&format!(
                "{migration}
                 PRAGMA application_id = {APPLICATION_ID};
                 PRAGMA user_version = {version};"
            ))
        })();
        match step {
            Ok(()) => connection.execute_batch("COMMIT")?,
            Err(error) => {
                let _ = connection.execute_batch("ROLLBACK");
                return Err(error);
            }
        }
    }
    Ok(())
}

fn map_error(name: &str, error: &rusqlite::Error) -> Error {
    let message = format!("{name}: {error}");
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Locked(message),
        Some(ErrorCode::DiskFull) => Error::Full(message),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => Error::Corrupt(message),
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => {
            Error::Open(message)
        }
        _ => Error::Database(message),
    }
}

enum WriteError {
    Sqlite(rusqlite::Error),
    Store(Error),
}

impl From<rusqlite::Error> for WriteError {
    fn from(error: rusqlite::Error) -> WriteError {
        WriteError::Sqlite(error)
    }
}

impl From<Error> for WriteError {
    fn from(error: Error) -> WriteError {
        WriteError::Store(error)
    }
}

fn read_head(connection: &Connection) -> rusqlite::Result<Head> {
    let mut statement = connection.prepare_cached("SELECT key, value FROM meta")?;
    let mut head = Head::default();
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let key: String = row.get(0)?;
        let value: i64 = row.get(1)?;
        match key.as_str() {
            "last_seq" => head.last_seq = u64::try_from(value).unwrap_or(0),
            "last_added" => head.last_added = value,
            _ => {}
        }
    }
    Ok(head)
}

/// A log row as the planner's lookup reads it.
struct CurrentRaw {
    seq: i64,
    version: i64,
    digest: i64,
    object_type: String,
    source: String,
    tlp: String,
    audience: Option<String>,
    live: bool,
}

impl CurrentRaw {
    fn into_state(self) -> Result<CurrentState, Error> {
        Ok(CurrentState {
            seq: u64::try_from(self.seq).unwrap_or(0),
            version: self.version,
            digest: self.digest,
            object_type: self.object_type,
            source: self.source,
            tlp: decode_tlp(&self.tlp)?,
            audience: self.audience,
            deleted: !self.live,
        })
    }
}

struct SqliteLookup<'a> {
    connection: &'a Connection,
    error: Option<rusqlite::Error>,
}

impl SqliteLookup<'_> {
    fn fail(&mut self, error: rusqlite::Error) -> Error {
        let message = error.to_string();
        self.error = Some(error);
        Error::Database(message)
    }
}

impl Lookup for SqliteLookup<'_> {
    fn current_states(&mut self, ids: &[&str]) -> Result<States, Error> {
        let result = (|| -> rusqlite::Result<Vec<(String, CurrentRaw)>> {
            // The highest version of an id is its current one, or its deleted one when not live.
            let mut statement = self.connection.prepare_cached(
                "SELECT seq, version, digest, type, source, tlp, audience, live FROM log
                 WHERE idh = ?1 AND id = ?2 AND kind = 0 ORDER BY version DESC LIMIT 1",
            )?;
            let mut found = Vec::new();
            for id in ids {
                let state = statement
                    .query_row(params![hash_key(id), id], |row| {
                        Ok(CurrentRaw {
                            seq: row.get(0)?,
                            version: row.get(1)?,
                            digest: row.get(2)?,
                            object_type: row.get(3)?,
                            source: row.get(4)?,
                            tlp: row.get(5)?,
                            audience: row.get(6)?,
                            live: row.get(7)?,
                        })
                    })
                    .optional()?;
                if let Some(state) = state {
                    found.push(((*id).to_owned(), state));
                }
            }
            Ok(found)
        })();
        let found = result.map_err(|error| self.fail(error))?;
        found.into_iter().map(|(id, raw)| Ok((id, raw.into_state()?))).collect()
    }

    fn version_exists(&mut self, id: &str, version: i64) -> Result<bool, Error> {
        let result = self
            .connection
            .prepare_cached(
                "SELECT 1 FROM log WHERE idh = ?1 AND version = ?2 AND id = ?3 AND kind = 0",
            )
            .and_then(|mut statement| statement.exists(params![hash_key(id), version, id]));
        result.map_err(|error| self.fail(error))
    }

    fn body_at(&mut self, seq: Seq) -> Result<Option<String>, Error> {
        let result =
            self.connection.prepare_cached("SELECT body FROM log WHERE seq = ?1").and_then(
                |mut statement| statement.query_row([to_i64(seq)], |row| row.get(0)).optional(),
            );
        result.map_err(|error| self.fail(error))
    }
}

fn to_i64(seq: Seq) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

fn write_batch(
    connection: &Connection,
    prepared: Vec<Prepared>,
) -> Result<AppendOutcome, WriteError> {
    let head = read_head(connection)?;
    let mut lookup = SqliteLookup { connection, error: None };
    let planned = plan(prepared, head, now_micros(), &mut lookup);
    if let Some(error) = lookup.error {
        return Err(WriteError::Sqlite(error));
    }
    let planned = planned?;
    write_plan(connection, &planned)?;
    Ok(planned.outcome)
}

fn write_plan(connection: &Connection, plan: &Plan) -> rusqlite::Result<()> {
    let mut insert_log = connection.prepare_cached(
        "INSERT INTO log (seq, added, kind, idh, id, type, version, digest, source, tlp, audience,
             live, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    for row in &plan.log {
        insert_log.execute(params![
            to_i64(row.seq),
            row.added,
            read::kind_code(row.kind),
            row.idh,
            row.id,
            row.object_type,
            row.version,
            row.digest,
            row.source,
            row.tlp.level_name(),
            row.audience,
            row.live,
            row.body,
        ])?;
    }
    let mut unlive = connection.prepare_cached("UPDATE log SET live = 0 WHERE seq = ?1")?;
    for seq in &plan.unlive {
        unlive.execute([to_i64(*seq)])?;
    }
    let mut count = connection.prepare_cached(
        "INSERT INTO counts (type, source, tlp, audience, n) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (type, source, tlp, audience) DO UPDATE SET n = n + excluded.n",
    )?;
    for ((object_type, source, tlp, audience), delta) in &plan.counts {
        count.execute(params![
            object_type,
            source,
            tlp.level_name(),
            audience.as_deref().unwrap_or(""),
            delta
        ])?;
    }
    let mut delete_claim = connection
        .prepare_cached("DELETE FROM claims WHERE valueh = ?1 AND value = ?2 AND indicator = ?3")?;
    for (value, indicator) in &plan.claims_delete {
        delete_claim.execute(params![hash_key(value), value, indicator])?;
    }
    let mut insert_claim = connection.prepare_cached(
        "INSERT INTO claims (valueh, value, indicator, kind, source, category, confidence, tlp,
             audience, valid_until, last_seen, score, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    for row in &plan.claims_upsert {
        let valueh = row.valueh;
        if row.may_exist {
            delete_claim.execute(params![valueh, row.value, row.indicator])?;
        }
        insert_claim.execute(params![
            valueh,
            row.value,
            row.indicator,
            row.kind.as_str(),
            row.source,
            row.category.map(Category::as_str),
            row.confidence,
            row.tlp.level_name(),
            row.audience,
            row.valid_until,
            row.last_seen,
            row.score,
            to_i64(row.seq),
        ])?;
    }
    let mut delete_sighting = connection.prepare_cached("DELETE FROM sightings WHERE id = ?1")?;
    for id in &plan.sightings_delete {
        delete_sighting.execute([id])?;
    }
    let mut upsert_sighting = connection.prepare_cached(
        "INSERT OR REPLACE INTO sightings (id, sighting_of, count, last_seen, tlp, audience, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for row in &plan.sightings_upsert {
        upsert_sighting.execute(params![
            row.id,
            row.of,
            row.count,
            row.last_seen,
            row.tlp.level_name(),
            row.audience,
            to_i64(row.seq),
        ])?;
    }
    let mut set_meta = connection.prepare_cached("UPDATE meta SET value = ?2 WHERE key = ?1")?;
    set_meta.execute(params!["last_seq", to_i64(plan.head.last_seq)])?;
    set_meta.execute(params!["last_added", plan.head.last_added])?;
    Ok(())
}

const ENTRY_COLUMNS: &str =
    "l.seq, l.added, l.kind, l.id, l.type, l.version, l.source, l.tlp, l.audience, l.body";

fn claim_fields(row: &rusqlite::Row<'_>) -> rusqlite::Result<ClaimFields> {
    Ok(ClaimFields {
        claim: row.get(0)?,
        value: row.get(1)?,
        indicator: row.get(2)?,
        kind: row.get(3)?,
        source: row.get(4)?,
        category: row.get(5)?,
        confidence: row.get(6)?,
        tlp: row.get(7)?,
        audience: row.get(8)?,
        valid_until: row.get(9)?,
        last_seen: row.get(10)?,
        score: row.get(11)?,
        seq: row.get(12)?,
    })
}

fn raw_entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawEntry> {
    Ok(RawEntry {
        seq: row.get(0)?,
        added: row.get(1)?,
        kind: row.get(2)?,
        id: row.get(3)?,
        object_type: row.get(4)?,
        version: row.get(5)?,
        source: row.get(6)?,
        tlp: row.get(7)?,
        audience: row.get(8)?,
        body: row.get(9)?,
    })
}

impl Store for SqliteStore {
    fn append_prepared(&self, batch: Batch) -> Result<AppendOutcome, Error> {
        self.write(batch.prepared)
    }

    fn get(&self, reader: Reader<'_>, id: &str, versions: Versions) -> Result<Vec<Entry>, Error> {
        let connection = self.reader();
        let sql = match versions {
            Versions::Latest => format!(
                "SELECT {ENTRY_COLUMNS} FROM log l WHERE l.idh = ?1 AND l.id = ?2 AND l.live = 1"
            ),
            // Every version of an id that is live (a deleted id has no live entry).
            Versions::All => format!(
                "SELECT {ENTRY_COLUMNS} FROM log l
                 WHERE l.idh = ?1 AND l.id = ?2 AND l.kind = 0 AND EXISTS
                     (SELECT 1 FROM log c WHERE c.idh = ?1 AND c.id = ?2 AND c.live = 1)
                 ORDER BY l.version"
            ),
        };
        let raw = connection
            .prepare_cached(&sql)
            .and_then(|mut statement| {
                statement
                    .query_map(params![hash_key(id), id], raw_entry)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|error| self.error(&error))?;
        read::visible_entries(reader, raw)
    }

    fn query(&self, reader: Reader<'_>, query: &Query) -> Result<Page, Error> {
        let connection = self.reader();
        let (filter, values) = read::query_filter(query, Dialect::Sqlite);
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM log l WHERE l.seq > ?1 {live} {filter} ORDER BY l.seq LIMIT ?2",
            live = if query.latest_only { "AND l.live = 1" } else { "" },
        );
        let mut statement = connection.prepare_cached(&sql).map_err(|error| self.error(&error))?;
        read::page(reader, query, |after, chunk| {
            let mut parameters: Vec<rusqlite::types::Value> =
                vec![to_i64(after).into(), i64::try_from(chunk).unwrap_or(i64::MAX).into()];
            parameters.extend(values.iter().map(read::SqlValue::to_sqlite));
            statement
                .query_map(params_from_iter(parameters), raw_entry)
                .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
                .map_err(|error| self.error(&error))
        })
    }

    fn claims(&self, reader: Reader<'_>, observable: &Observable) -> Result<Vec<Claim>, Error> {
        let connection = self.reader();
        let value = observable.value();
        let sql = format!(
            "SELECT {CLAIM_COLUMNS} FROM claims WHERE valueh = ?1 AND value = ?2 AND kind = ?3
             ORDER BY last_seen DESC, indicator"
        );
        let rows = connection
            .prepare_cached(&sql)
            .and_then(|mut statement| {
                statement
                    .query_map(
                        params![hash_key(value), value, observable.kind().as_str()],
                        claim_fields,
                    )?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|error| self.error(&error))?;
        read::visible_claims(reader, rows)
    }

    fn claims_after(
        &self,
        reader: Reader<'_>,
        after: i64,
        limit: usize,
    ) -> Result<ClaimPage, Error> {
        let connection = self.reader();
        let sql =
            format!("SELECT {CLAIM_COLUMNS} FROM claims WHERE claim > ?1 ORDER BY claim LIMIT ?2");
        let mut statement = connection.prepare_cached(&sql).map_err(|error| self.error(&error))?;
        read::claim_page(reader, after, limit, |cursor, chunk| {
            statement
                .query_map(params![cursor, i64::try_from(chunk).unwrap_or(i64::MAX)], claim_fields)
                .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
                .map_err(|error| self.error(&error))
        })
    }

    fn sightings(&self, reader: Reader<'_>, sighting_of: &str) -> Result<SightingCount, Error> {
        let connection = self.reader();
        let rows = connection
            .prepare_cached(
                "SELECT count, last_seen, tlp, audience FROM sightings WHERE sighting_of = ?1",
            )
            .and_then(|mut statement| {
                statement
                    .query_map([sighting_of], |row| {
                        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|error| self.error(&error))?;
        read::count_sightings(reader, rows)
    }

    fn sources(&self, reader: Reader<'_>) -> Result<Vec<SourceStats>, Error> {
        let groups = self.object_groups()?;
        read::sources(reader, &groups)
    }

    fn stats(&self, reader: Reader<'_>) -> Result<Stats, Error> {
        let objects = self.object_groups()?;
        let connection = self.reader();
        let claims = connection
            .prepare_cached(
                "SELECT kind, tlp, audience, count(*) FROM claims GROUP BY kind, tlp, audience",
            )
            .and_then(|mut statement| {
                statement
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|error| self.error(&error))?;
        let last_seq = read_head(&connection).map_err(|error| self.error(&error))?.last_seq;
        let mut stats = read::stats(reader, &objects, &claims)?;
        stats.last_seq = last_seq;
        let (filter, values) = read::audience_filter(reader, &claims, Dialect::Sqlite)?;
        let sql = format!("SELECT count(DISTINCT value) FROM claims WHERE {filter}");
        let parameters: Vec<rusqlite::types::Value> =
            values.iter().map(read::SqlValue::to_sqlite).collect();
        let observables: i64 = connection
            .query_row(&sql, params_from_iter(parameters), |row| row.get(0))
            .map_err(|error| self.error(&error))?;
        stats.observables = u64::try_from(observables).unwrap_or(0);
        Ok(stats)
    }

    fn last_seq(&self) -> Result<Seq, Error> {
        let connection = self.reader();
        read_head(&connection).map(|head| head.last_seq).map_err(|error| self.error(&error))
    }

    fn wait(&self, after: Seq, timeout: Duration) -> Result<Seq, Error> {
        // SQLite has no notifications across processes: poll the head, which is one indexed
        // read, every 10 ms; a commit of this process wakes the wait at once.
        let deadline = Instant::now() + timeout;
        let (count, committed) = &self.commits;
        loop {
            let seen = *count.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let last_seq = self.last_seq()?;
            let now = Instant::now();
            if last_seq > after || now >= deadline {
                return Ok(last_seq);
            }
            let pause = (deadline - now).min(Duration::from_millis(10));
            let guard = count.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            // A commit between the read of the head and here changed the count: read again.
            if *guard == seen {
                let _ = committed
                    .wait_timeout(guard, pause)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        }
    }

    fn refresh_scores(&self, now: i64) -> Result<u64, Error> {
        let connection = self.connection();
        let rows = connection
            .prepare_cached(
                "SELECT claim, kind, confidence, last_seen, valid_until, score FROM claims",
            )
            .and_then(|mut statement| {
                statement
                    .query_map([], |row| {
                        Ok(read::ScoreRow {
                            claim: row.get(0)?,
                            kind: row.get(1)?,
                            confidence: row.get(2)?,
                            last_seen: row.get(3)?,
                            valid_until: row.get(4)?,
                            score: row.get(5)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|error| self.error(&error))?;
        let changed = read::rescore(rows, now);
        let result = (|| -> rusqlite::Result<()> {
            connection.execute_batch("BEGIN IMMEDIATE")?;
            let mut update =
                connection.prepare_cached("UPDATE claims SET score = ?2 WHERE claim = ?1")?;
            for (claim, score) in &changed {
                update.execute(params![claim, score])?;
            }
            if !changed.is_empty() {
                connection.execute(schema::BUMP_SCORES_VERSION, [])?;
            }
            connection.execute_batch("COMMIT")
        })();
        if let Err(error) = result {
            let _ = connection.execute_batch("ROLLBACK");
            return Err(self.error(&error));
        }
        Ok(changed.len() as u64)
    }

    fn directory_get(&self, kind: &str, key: &str) -> Result<Option<String>, Error> {
        let connection = self.reader();
        connection
            .prepare_cached("SELECT document FROM directory WHERE kind = ?1 AND key = ?2")
            .and_then(|mut statement| statement.query_row(params![kind, key], |row| row.get(0)))
            .optional()
            .map_err(|error| self.error(&error))
    }

    fn directory_list(&self, kind: &str) -> Result<Vec<(String, String)>, Error> {
        let connection = self.reader();
        connection
            .prepare_cached("SELECT key, document FROM directory WHERE kind = ?1 ORDER BY key")
            .and_then(|mut statement| {
                statement
                    .query_map(params![kind], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|error| self.error(&error))
    }

    fn directory_put(
        &self,
        kind: &str,
        key: &str,
        document: &str,
        put: Put,
    ) -> Result<bool, Error> {
        let sql = match put {
            Put::Insert => {
                "INSERT INTO directory (kind, key, document) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (kind, key) DO NOTHING"
            }
            Put::Replace => {
                "INSERT INTO directory (kind, key, document) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (kind, key) DO UPDATE SET document = excluded.document"
            }
        };
        let connection = self.connection();
        let changed = connection
            .prepare_cached(sql)
            .and_then(|mut statement| statement.execute(params![kind, key, document]))
            .map_err(|error| self.error(&error))?;
        Ok(changed > 0)
    }

    fn directory_delete(&self, kind: &str, key: &str) -> Result<bool, Error> {
        let connection = self.connection();
        let changed = connection
            .prepare_cached("DELETE FROM directory WHERE kind = ?1 AND key = ?2")
            .and_then(|mut statement| statement.execute(params![kind, key]))
            .map_err(|error| self.error(&error))?;
        Ok(changed > 0)
    }
}

impl SqliteStore {
    fn object_groups(&self) -> Result<Vec<read::ObjectGroup>, Error> {
        let connection = self.reader();
        connection
            .prepare_cached(
                "SELECT type, source, tlp, NULLIF(audience, ''), n FROM counts WHERE n > 0",
            )
            .and_then(|mut statement| {
                statement
                    .query_map([], |row| {
                        Ok(read::ObjectGroup {
                            object_type: row.get(0)?,
                            source: row.get(1)?,
                            tlp: row.get(2)?,
                            audience: row.get(3)?,
                            count: row.get(4)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|error| self.error(&error))
    }
}
