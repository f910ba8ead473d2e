//! The embedded backend: one SQLite file in WAL mode with `synchronous=FULL`, so a committed
//! batch survives a crash of the process or the machine.
//!
//! One connection, behind a mutex, serves the process; other processes on the same file are
//! serialised by SQLite's write lock (`BEGIN IMMEDIATE`, waiting up to the busy timeout).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params, params_from_iter};
use watchfire_model::Observable;
use watchfire_model::record::Category;

use crate::plan::{CurrentState, Head, Lookup, Plan, plan};
use crate::read::{self, ClaimFields, RawEntry};
use crate::rows::{Prepared, prepare};
use crate::{
    AppendOutcome, Claim, Entry, Error, Fact, Page, Query, Reader, SCHEMA_VERSION, Seq,
    SightingCount, SourceStats, Stats, Store, Versions, now_micros,
};

/// `PRAGMA application_id` of a watchfire store ("WFIR"), so another program's SQLite file is
/// recognised as not ours before anything is written to it.
const APPLICATION_ID: i64 = 0x5746_4952;

/// The schema, one entry per version; a store at version N runs the entries after N.
const MIGRATIONS: &[&str] = &[
    // Version 1.
    "
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO meta (key, value) VALUES ('last_seq', 0), ('last_added', 0);
    CREATE TABLE log (
        seq INTEGER PRIMARY KEY,
        added INTEGER NOT NULL,
        kind INTEGER NOT NULL,
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        version INTEGER NOT NULL,
        source TEXT NOT NULL,
        tlp TEXT NOT NULL,
        audience TEXT,
        body TEXT NOT NULL
    );
    CREATE UNIQUE INDEX log_version ON log (id, version) WHERE kind = 0;
    CREATE INDEX log_type ON log (type, seq);
    CREATE TABLE current (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        version INTEGER NOT NULL,
        digest INTEGER NOT NULL,
        type TEXT NOT NULL,
        source TEXT NOT NULL,
        tlp TEXT NOT NULL,
        audience TEXT,
        deleted INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE claims (
        value TEXT NOT NULL,
        indicator TEXT NOT NULL,
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        category TEXT,
        confidence INTEGER,
        tlp TEXT NOT NULL,
        audience TEXT,
        valid_until INTEGER,
        last_seen INTEGER NOT NULL,
        score INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (value, indicator)
    ) WITHOUT ROWID;
    CREATE TABLE sightings (
        id TEXT PRIMARY KEY,
        sighting_of TEXT NOT NULL,
        count INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        tlp TEXT NOT NULL,
        audience TEXT,
        seq INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX sightings_of ON sightings (sighting_of);
    ",
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
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    connection: Mutex<Connection>,
}

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
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 PRAGMA cache_size = -262144;
                 PRAGMA mmap_size = 1073741824;
                 PRAGMA wal_autocheckpoint = 16384;
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
        Ok(SqliteStore { path: path.to_owned(), connection: Mutex::new(connection) })
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

// Reads the application id, the schema version and the number of tables, writing nothing.
fn inspect(connection: &Connection) -> rusqlite::Result<(i64, i64, i64)> {
    let application_id = connection.query_row("PRAGMA application_id", [], |row| row.get(0))?;
    let version = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let n_tables =
        connection.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))?;
    Ok((application_id, version, n_tables))
}

fn migrate(connection: &Connection, from: i64) -> rusqlite::Result<()> {
    let from = usize::try_from(from).unwrap_or(0);
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(from) {
        let version = index + 1;
        connection.execute_batch(&format!(
            "BEGIN IMMEDIATE;
             {migration}
             PRAGMA application_id = {APPLICATION_ID};
             PRAGMA user_version = {version};
             COMMIT;"
        ))?;
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
    fn current_states(&mut self, ids: &[&str]) -> Result<HashMap<String, CurrentState>, Error> {
        let result = (|| -> rusqlite::Result<HashMap<String, CurrentState>> {
            let mut statement = self.connection.prepare_cached(
                "SELECT seq, version, digest, type, tlp, audience, deleted FROM current WHERE id = ?1",
            )?;
            let mut states = HashMap::new();
            for id in ids {
                let state = statement
                    .query_row([id], |row| {
                        Ok((
                            row.get::<_, i64>(0)?,
                            row.get::<_, i64>(1)?,
                            row.get::<_, i64>(2)?,
                            row.get::<_, String>(3)?,
                            row.get::<_, String>(4)?,
                            row.get::<_, Option<String>>(5)?,
                            row.get::<_, bool>(6)?,
                        ))
                    })
                    .optional()?;
                if let Some((seq, version, digest, object_type, tlp, audience, deleted)) = state {
                    let Ok(tlp) = crate::rows::decode_tlp(&tlp) else {
                        continue;
                    };
                    states.insert(
                        (*id).to_owned(),
                        CurrentState {
                            seq: u64::try_from(seq).unwrap_or(0),
                            version,
                            digest,
                            object_type,
                            tlp,
                            audience,
                            deleted,
                        },
                    );
                }
            }
            Ok(states)
        })();
        result.map_err(|error| self.fail(error))
    }

    fn version_exists(&mut self, id: &str, version: i64) -> Result<bool, Error> {
        let result = self
            .connection
            .prepare_cached("SELECT 1 FROM log WHERE id = ?1 AND version = ?2 AND kind = 0")
            .and_then(|mut statement| statement.exists(params![id, version]));
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
        "INSERT INTO log (seq, added, kind, id, type, version, source, tlp, audience, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for row in &plan.log {
        insert_log.execute(params![
            to_i64(row.seq),
            row.added,
            read::kind_code(row.kind),
            row.id,
            row.object_type,
            row.version,
            row.source,
            row.tlp.level_name(),
            row.audience,
            row.body,
        ])?;
    }
    let mut upsert_current = connection.prepare_cached(
        "INSERT OR REPLACE INTO current (id, seq, version, digest, type, source, tlp, audience, deleted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for row in &plan.current {
        upsert_current.execute(params![
            row.id,
            to_i64(row.seq),
            row.version,
            row.digest,
            row.object_type,
            row.source,
            row.tlp.level_name(),
            row.audience,
            row.deleted,
        ])?;
    }
    let mut mark_deleted =
        connection.prepare_cached("UPDATE current SET deleted = 1 WHERE id = ?1")?;
    for id in &plan.current_deleted {
        mark_deleted.execute([id])?;
    }
    let mut delete_claim =
        connection.prepare_cached("DELETE FROM claims WHERE value = ?1 AND indicator = ?2")?;
    for (value, indicator) in &plan.claims_delete {
        delete_claim.execute([value, indicator])?;
    }
    let mut upsert_claim = connection.prepare_cached(
        "INSERT OR REPLACE INTO claims (value, indicator, kind, source, category, confidence, tlp,
             audience, valid_until, last_seen, score, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for row in &plan.claims_upsert {
        upsert_claim.execute(params![
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
    fn append(&self, facts: &[Fact]) -> Result<AppendOutcome, Error> {
        let prepared = facts.iter().map(prepare).collect::<Result<Vec<_>, _>>()?;
        self.write(prepared)
    }

    fn get(&self, reader: Reader<'_>, id: &str, versions: Versions) -> Result<Vec<Entry>, Error> {
        let connection = self.connection();
        let sql = match versions {
            Versions::Latest => format!(
                "SELECT {ENTRY_COLUMNS} FROM current c JOIN log l ON l.seq = c.seq
                 WHERE c.id = ?1 AND c.deleted = 0"
            ),
            Versions::All => format!(
                "SELECT {ENTRY_COLUMNS} FROM log l JOIN current c ON c.id = l.id AND c.deleted = 0
                 WHERE l.id = ?1 AND l.kind = 0 ORDER BY l.version"
            ),
        };
        let raw = connection
            .prepare_cached(&sql)
            .and_then(|mut statement| {
                statement.query_map([id], raw_entry)?.collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|error| self.error(&error))?;
        read::visible_entries(reader, raw)
    }

    fn query(&self, reader: Reader<'_>, query: &Query) -> Result<Page, Error> {
        let connection = self.connection();
        let (filter, values) = read::query_filter(query, read::Dialect::Sqlite);
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM log l {join} WHERE l.seq > ?1 {filter} ORDER BY l.seq LIMIT ?2",
            join = if query.latest_only {
                "JOIN current c ON c.seq = l.seq AND c.deleted = 0"
            } else {
                ""
            },
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
        let connection = self.connection();
        let rows = connection
            .prepare_cached(
                "SELECT value, indicator, kind, source, category, confidence, tlp, audience,
                        valid_until, last_seen, score, seq
                 FROM claims WHERE value = ?1 AND kind = ?2 ORDER BY last_seen DESC, indicator",
            )
            .and_then(|mut statement| {
                statement
                    .query_map(params![observable.value(), observable.kind().as_str()], |row| {
                        Ok(ClaimFields {
                            value: row.get(0)?,
                            indicator: row.get(1)?,
                            kind: row.get(2)?,
                            source: row.get(3)?,
                            category: row.get(4)?,
                            confidence: row.get(5)?,
                            tlp: row.get(6)?,
                            audience: row.get(7)?,
                            valid_until: row.get(8)?,
                            last_seen: row.get(9)?,
                            score: row.get(10)?,
                            seq: row.get(11)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|error| self.error(&error))?;
        read::visible_claims(reader, rows)
    }

    fn sightings(&self, reader: Reader<'_>, sighting_of: &str) -> Result<SightingCount, Error> {
        let connection = self.connection();
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
        let connection = self.connection();
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
        let (filter, values) = read::audience_filter(reader, &claims, read::Dialect::Sqlite)?;
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
        let connection = self.connection();
        read_head(&connection).map(|head| head.last_seq).map_err(|error| self.error(&error))
    }

    fn wait(&self, after: Seq, timeout: Duration) -> Result<Seq, Error> {
        // SQLite has no notifications across processes: poll the head, which is one indexed read.
        let deadline = Instant::now() + timeout;
        loop {
            let last_seq = self.last_seq()?;
            let now = Instant::now();
            if last_seq > after || now >= deadline {
                return Ok(last_seq);
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(10)));
        }
    }

    fn refresh_scores(&self, now: i64) -> Result<u64, Error> {
        let connection = self.connection();
        let rows = connection
            .prepare_cached(
                "SELECT value, indicator, kind, confidence, last_seen, valid_until, score FROM claims",
            )
            .and_then(|mut statement| {
                statement
                    .query_map([], |row| {
                        Ok(read::ScoreRow {
                            value: row.get(0)?,
                            indicator: row.get(1)?,
                            kind: row.get(2)?,
                            confidence: row.get(3)?,
                            last_seen: row.get(4)?,
                            valid_until: row.get(5)?,
                            score: row.get(6)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|error| self.error(&error))?;
        let changed = read::rescore(rows, now);
        let result = (|| -> rusqlite::Result<()> {
            connection.execute_batch("BEGIN IMMEDIATE")?;
            let mut update = connection.prepare_cached(
                "UPDATE claims SET score = ?3 WHERE value = ?1 AND indicator = ?2",
            )?;
            for (value, indicator, score) in &changed {
                update.execute(params![value, indicator, score])?;
            }
            connection.execute_batch("COMMIT")
        })();
        if let Err(error) = result {
            let _ = connection.execute_batch("ROLLBACK");
            return Err(self.error(&error));
        }
        Ok(changed.len() as u64)
    }
}

impl SqliteStore {
    fn object_groups(&self) -> Result<Vec<read::ObjectGroup>, Error> {
        let connection = self.connection();
        connection
            .prepare_cached(
                "SELECT type, source, tlp, audience, count(*) FROM current WHERE deleted = 0
                 GROUP BY type, source, tlp, audience",
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
