//! The PostgreSQL backend: the same log and views as the embedded store, for several nodes on
//! one database.
//!
//! Writers of every process serialise on one transaction-scoped advisory lock, so sequence
//! numbers are assigned in commit order and a follower never skips an entry that commits later
//! with a smaller number. Log rows go in by binary `COPY`; the views are upserted from staging
//! tables in the same transaction. Each commit sends `NOTIFY watchfire_log`, which wakes the
//! followers of every process (`Store::wait`).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::fallible_iterator::FallibleIterator as _;
use postgres::types::{ToSql, Type};
use postgres::{Client, GenericClient, NoTls, Transaction};
use watchfire_model::Observable;
use watchfire_model::record::Category;

use crate::plan::{CurrentState, Head, Lookup, Plan, plan};
use crate::read::{self, ClaimFields, RawEntry};
use crate::rows::{Prepared, decode_tlp, prepare};
use crate::{
    AppendOutcome, Claim, Entry, Error, Fact, Page, Query, Reader, SCHEMA_VERSION, Seq,
    SightingCount, SourceStats, Stats, Store, Versions, now_micros,
};

/// The advisory lock key that serialises writers ("WFIRLOG" in ASCII).
const WRITE_LOCK: i64 = 0x0057_4649_524c_4f47;
/// The advisory lock key that serialises migrations.
const MIGRATE_LOCK: i64 = 0x0057_4649_524d_4947;
/// The notification channel of new log entries.
const CHANNEL: &str = "watchfire_log";

/// The schema, one entry per version.
const MIGRATIONS: &[&str] = &[
    // Version 1.
    "
    CREATE TABLE log (
        seq BIGINT PRIMARY KEY,
        added BIGINT NOT NULL,
        kind BIGINT NOT NULL,
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        version BIGINT NOT NULL,
        source TEXT NOT NULL,
        tlp TEXT NOT NULL,
        audience TEXT,
        body TEXT NOT NULL
    );
    CREATE UNIQUE INDEX log_version ON log (id, version) WHERE kind = 0;
    CREATE INDEX log_type ON log (type, seq);
    CREATE TABLE current (
        id TEXT PRIMARY KEY,
        seq BIGINT NOT NULL,
        version BIGINT NOT NULL,
        digest BIGINT NOT NULL,
        type TEXT NOT NULL,
        source TEXT NOT NULL,
        tlp TEXT NOT NULL,
        audience TEXT,
        deleted BOOLEAN NOT NULL
    );
    CREATE TABLE claims (
        value TEXT NOT NULL,
        indicator TEXT NOT NULL,
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        category TEXT,
        confidence BIGINT,
        tlp TEXT NOT NULL,
        audience TEXT,
        valid_until BIGINT,
        last_seen BIGINT NOT NULL,
        score BIGINT NOT NULL,
        seq BIGINT NOT NULL,
        PRIMARY KEY (value, indicator)
    );
    CREATE TABLE sightings (
        id TEXT PRIMARY KEY,
        sighting_of TEXT NOT NULL,
        count BIGINT NOT NULL,
        last_seen BIGINT NOT NULL,
        tlp TEXT NOT NULL,
        audience TEXT,
        seq BIGINT NOT NULL
    );
    CREATE INDEX sightings_of ON sightings (sighting_of);
    INSERT INTO meta (key, value) VALUES ('last_seq', 0), ('last_added', 0);
    ",
];

/// The PostgreSQL store.
pub struct PostgresStore {
    url: String,
    client: Mutex<Client>,
    /// A second connection that LISTENs, opened by the first `wait`.
    listener: Mutex<Option<Client>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: only say that it is PostgreSQL.
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`), creating or upgrading
    /// the schema; a database of a newer schema is refused before anything is written.
    pub fn connect(url: &str) -> Result<PostgresStore, Error> {
        let mut client = open_client(url)?;
        migrate(&mut client)?;
        client
            .batch_execute(
                "CREATE TEMP TABLE IF NOT EXISTS current_stage (LIKE current) ON COMMIT DELETE ROWS;
                 CREATE TEMP TABLE IF NOT EXISTS claims_stage (LIKE claims) ON COMMIT DELETE ROWS;",
            )
            .map_err(|error| map_error(&error))?;
        Ok(PostgresStore {
            url: url.to_owned(),
            client: Mutex::new(client),
            listener: Mutex::new(None),
        })
    }

    fn client(&self) -> MutexGuard<'_, Client> {
        // The client is usable after a panic elsewhere: an open transaction was dropped (rolled back).
        self.client.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn object_groups(client: &mut Client) -> Result<Vec<read::ObjectGroup>, Error> {
        let rows = client
            .query(
                "SELECT type, source, tlp, audience, count(*) FROM current WHERE NOT deleted
                 GROUP BY type, source, tlp, audience",
                &[],
            )
            .map_err(|error| map_error(&error))?;
        Ok(rows
            .iter()
            .map(|row| read::ObjectGroup {
                object_type: row.get(0),
                source: row.get(1),
                tlp: row.get(2),
                audience: row.get(3),
                count: row.get(4),
            })
            .collect())
    }
}

fn open_client(url: &str) -> Result<Client, Error> {
    let mut client = Client::connect(url, NoTls).map_err(|error| {
        // The URL may carry a password: name the failure, not the URL.
        Error::Open(format!("cannot connect to PostgreSQL: {error}"))
    })?;
    client
        .batch_execute("SET lock_timeout = '30s'; SET client_min_messages = warning;")
        .map_err(|error| map_error(&error))?;
    Ok(client)
}

fn migrate(client: &mut Client) -> Result<(), Error> {
    let mut transaction = client.transaction().map_err(|error| map_error(&error))?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])
        .map_err(|error| map_error(&error))?;
    let has_meta: bool = transaction
        .query_one("SELECT to_regclass('meta') IS NOT NULL", &[])
        .map_err(|error| map_error(&error))?
        .get(0);
    let version: i64 = if has_meta {
        transaction
            .query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])
            .map_err(|error| map_error(&error))?
            .map_or(0, |row| row.get(0))
    } else {
        let has_tables: bool = transaction
            .query_one(
                "SELECT count(*) > 0 FROM pg_tables WHERE schemaname = current_schema()",
                &[],
            )
            .map_err(|error| map_error(&error))?
            .get(0);
        if has_tables {
            return Err(Error::Corrupt(
                "the database holds tables of another program; give watchfire its own database"
                    .to_owned(),
            ));
        }
        transaction
            .batch_execute(
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
                 INSERT INTO meta (key, value) VALUES ('schema_version', 0);",
            )
            .map_err(|error| map_error(&error))?;
        0
    };
    if version > SCHEMA_VERSION {
        return Err(Error::NewerSchema { found: version, supported: SCHEMA_VERSION });
    }
    let from = usize::try_from(version).unwrap_or(0);
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(from) {
        transaction.batch_execute(migration).map_err(|error| map_error(&error))?;
        let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
        transaction
            .execute("UPDATE meta SET value = $1 WHERE key = 'schema_version'", &[&version])
            .map_err(|error| map_error(&error))?;
    }
    transaction.commit().map_err(|error| map_error(&error))
}

fn map_error(error: &postgres::Error) -> Error {
    let message = error.to_string();
    let Some(database_error) = error.as_db_error() else {
        if error.is_closed() {
            return Error::Open(format!("the connection to PostgreSQL is closed: {message}"));
        }
        return Error::Database(message);
    };
    let message = format!("{}: {}", database_error.code().code(), database_error.message());
    match database_error.code().code() {
        "53100" | "53200" | "54000" => Error::Full(message),
        "55P03" | "57014" | "40P01" => Error::Locked(message),
        "XX001" | "XX002" => Error::Corrupt(message),
        code if code.starts_with("08") || code.starts_with("28") || code == "3D000" => {
            Error::Open(message)
        }
        _ => Error::Database(message),
    }
}

fn to_i64(seq: Seq) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

fn read_head(client: &mut impl GenericClient) -> Result<Head, Error> {
    let rows = client
        .query("SELECT key, value FROM meta WHERE key IN ('last_seq', 'last_added')", &[])
        .map_err(|error| map_error(&error))?;
    let mut head = Head::default();
    for row in rows {
        let key: &str = row.get(0);
        let value: i64 = row.get(1);
        match key {
            "last_seq" => head.last_seq = u64::try_from(value).unwrap_or(0),
            "last_added" => head.last_added = value,
            _ => {}
        }
    }
    Ok(head)
}

struct PostgresLookup<'a, 'b> {
    transaction: &'a mut Transaction<'b>,
}

impl Lookup for PostgresLookup<'_, '_> {
    fn current_states(&mut self, ids: &[&str]) -> Result<HashMap<String, CurrentState>, Error> {
        let rows = self
            .transaction
            .query(
                "SELECT id, seq, version, digest, type, tlp, audience, deleted FROM current
                 WHERE id = ANY($1)",
                &[&ids],
            )
            .map_err(|error| map_error(&error))?;
        let mut states = HashMap::with_capacity(rows.len());
        for row in rows {
            let tlp: &str = row.get(5);
            states.insert(
                row.get(0),
                CurrentState {
                    seq: u64::try_from(row.get::<_, i64>(1)).unwrap_or(0),
                    version: row.get(2),
                    digest: row.get(3),
                    object_type: row.get(4),
                    tlp: decode_tlp(tlp)?,
                    audience: row.get(6),
                    deleted: row.get(7),
                },
            );
        }
        Ok(states)
    }

    fn version_exists(&mut self, id: &str, version: i64) -> Result<bool, Error> {
        let row = self
            .transaction
            .query_opt(
                "SELECT 1 FROM log WHERE id = $1 AND version = $2 AND kind = 0",
                &[&id, &version],
            )
            .map_err(|error| map_error(&error))?;
        Ok(row.is_some())
    }

    fn body_at(&mut self, seq: Seq) -> Result<Option<String>, Error> {
        let row = self
            .transaction
            .query_opt("SELECT body FROM log WHERE seq = $1", &[&to_i64(seq)])
            .map_err(|error| map_error(&error))?;
        Ok(row.map(|row| row.get(0)))
    }
}

fn write_plan(transaction: &mut Transaction<'_>, plan: &Plan) -> Result<(), postgres::Error> {
    if !plan.log.is_empty() {
        let sink = transaction.copy_in(
            "COPY log (seq, added, kind, id, type, version, source, tlp, audience, body)
             FROM STDIN BINARY",
        )?;
        let types = [
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::TEXT,
            Type::TEXT,
            Type::INT8,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
        ];
        let mut writer = BinaryCopyInWriter::new(sink, &types);
        for row in &plan.log {
            writer.write(&[
                &to_i64(row.seq),
                &row.added,
                &read::kind_code(row.kind),
                &row.id,
                &row.object_type,
                &row.version,
                &row.source,
                &row.tlp.level_name(),
                &row.audience,
                &row.body,
            ])?;
        }
        writer.finish()?;
    }
    if !plan.current.is_empty() {
        let sink = transaction.copy_in(
            "COPY current_stage (id, seq, version, digest, type, source, tlp, audience, deleted)
             FROM STDIN BINARY",
        )?;
        let types = [
            Type::TEXT,
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::BOOL,
        ];
        let mut writer = BinaryCopyInWriter::new(sink, &types);
        for row in &plan.current {
            writer.write(&[
                &row.id,
                &to_i64(row.seq),
                &row.version,
                &row.digest,
                &row.object_type,
                &row.source,
                &row.tlp.level_name(),
                &row.audience,
                &row.deleted,
            ])?;
        }
        writer.finish()?;
        transaction.batch_execute(
            "INSERT INTO current SELECT * FROM current_stage
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, version = excluded.version,
                 digest = excluded.digest, type = excluded.type, source = excluded.source,
                 tlp = excluded.tlp, audience = excluded.audience, deleted = excluded.deleted",
        )?;
    }
    if !plan.current_deleted.is_empty() {
        transaction.execute(
            "UPDATE current SET deleted = TRUE WHERE id = ANY($1)",
            &[&plan.current_deleted],
        )?;
    }
    if !plan.claims_delete.is_empty() {
        let (values, indicators): (Vec<&str>, Vec<&str>) = plan
            .claims_delete
            .iter()
            .map(|(value, indicator)| (value.as_str(), indicator.as_str()))
            .unzip();
        transaction.execute(
            "DELETE FROM claims WHERE (value, indicator) IN
                 (SELECT * FROM unnest($1::text[], $2::text[]))",
            &[&values, &indicators],
        )?;
    }
    if !plan.claims_upsert.is_empty() {
        let sink = transaction.copy_in(
            "COPY claims_stage (value, indicator, kind, source, category, confidence, tlp, audience,
                 valid_until, last_seen, score, seq) FROM STDIN BINARY",
        )?;
        let types = [
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::INT8,
            Type::TEXT,
            Type::TEXT,
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::INT8,
        ];
        let mut writer = BinaryCopyInWriter::new(sink, &types);
        for row in &plan.claims_upsert {
            writer.write(&[
                &row.value,
                &row.indicator,
                &row.kind.as_str(),
                &row.source,
                &row.category.map(Category::as_str),
                &row.confidence.map(i64::from),
                &row.tlp.level_name(),
                &row.audience,
                &row.valid_until,
                &row.last_seen,
                &i64::from(row.score),
                &to_i64(row.seq),
            ])?;
        }
        writer.finish()?;
        transaction.batch_execute(
            "INSERT INTO claims SELECT * FROM claims_stage
             ON CONFLICT (value, indicator) DO UPDATE SET kind = excluded.kind,
                 source = excluded.source, category = excluded.category,
                 confidence = excluded.confidence, tlp = excluded.tlp,
                 audience = excluded.audience, valid_until = excluded.valid_until,
                 last_seen = excluded.last_seen, score = excluded.score, seq = excluded.seq",
        )?;
    }
    if !plan.sightings_delete.is_empty() {
        transaction
            .execute("DELETE FROM sightings WHERE id = ANY($1)", &[&plan.sightings_delete])?;
    }
    for row in &plan.sightings_upsert {
        transaction.execute(
            "INSERT INTO sightings (id, sighting_of, count, last_seen, tlp, audience, seq)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (id) DO UPDATE SET sighting_of = excluded.sighting_of,
                 count = excluded.count, last_seen = excluded.last_seen, tlp = excluded.tlp,
                 audience = excluded.audience, seq = excluded.seq",
            &[
                &row.id,
                &row.of,
                &row.count,
                &row.last_seen,
                &row.tlp.level_name(),
                &row.audience,
                &to_i64(row.seq),
            ],
        )?;
    }
    transaction.execute(
        "UPDATE meta SET value = CASE key WHEN 'last_seq' THEN $1::bigint ELSE $2::bigint END
         WHERE key IN ('last_seq', 'last_added')",
        &[&to_i64(plan.head.last_seq), &plan.head.last_added],
    )?;
    if !plan.log.is_empty() {
        transaction
            .execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &plan.head.last_seq.to_string()])?;
    }
    Ok(())
}

const ENTRY_COLUMNS: &str =
    "l.seq, l.added, l.kind, l.id, l.type, l.version, l.source, l.tlp, l.audience, l.body";

fn raw_entry(row: &postgres::Row) -> RawEntry {
    RawEntry {
        seq: row.get(0),
        added: row.get(1),
        kind: row.get(2),
        id: row.get(3),
        object_type: row.get(4),
        version: row.get(5),
        source: row.get(6),
        tlp: row.get(7),
        audience: row.get(8),
        body: row.get(9),
    }
}

fn parameters(values: &[Box<dyn ToSql + Sync>]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|value| &**value as &(dyn ToSql + Sync)).collect()
}

impl Store for PostgresStore {
    fn append(&self, facts: &[Fact]) -> Result<AppendOutcome, Error> {
        let prepared: Vec<Prepared> = facts.iter().map(prepare).collect::<Result<_, _>>()?;
        let mut client = self.client();
        let mut transaction = client.transaction().map_err(|error| map_error(&error))?;
        transaction
            .execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
            .map_err(|error| map_error(&error))?;
        let head = read_head(&mut transaction)?;
        let planned = plan(
            prepared,
            head,
            now_micros(),
            &mut PostgresLookup { transaction: &mut transaction },
        )?;
        write_plan(&mut transaction, &planned).map_err(|error| map_error(&error))?;
        // Dropping the transaction on an error above rolls it back.
        transaction.commit().map_err(|error| map_error(&error))?;
        Ok(planned.outcome)
    }

    fn get(&self, reader: Reader<'_>, id: &str, versions: Versions) -> Result<Vec<Entry>, Error> {
        let sql = match versions {
            Versions::Latest => format!(
                "SELECT {ENTRY_COLUMNS} FROM current c JOIN log l ON l.seq = c.seq
                 WHERE c.id = $1 AND NOT c.deleted"
            ),
            Versions::All => format!(
                "SELECT {ENTRY_COLUMNS} FROM log l JOIN current c ON c.id = l.id AND NOT c.deleted
                 WHERE l.id = $1 AND l.kind = 0 ORDER BY l.version"
            ),
        };
        let rows = self.client().query(&sql, &[&id]).map_err(|error| map_error(&error))?;
        read::visible_entries(reader, rows.iter().map(raw_entry).collect())
    }

    fn query(&self, reader: Reader<'_>, query: &Query) -> Result<Page, Error> {
        let (filter, values) = read::query_filter(query, read::Dialect::Postgres);
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM log l {join} WHERE l.seq > $1 {filter} ORDER BY l.seq LIMIT $2",
            join = if query.latest_only {
                "JOIN current c ON c.seq = l.seq AND NOT c.deleted"
            } else {
                ""
            },
        );
        let mut client = self.client();
        let statement = client.prepare(&sql).map_err(|error| map_error(&error))?;
        read::page(reader, query, |after, chunk| {
            let mut values_boxed: Vec<Box<dyn ToSql + Sync>> =
                vec![Box::new(to_i64(after)), Box::new(i64::try_from(chunk).unwrap_or(i64::MAX))];
            values_boxed.extend(values.iter().map(read::SqlValue::to_postgres));
            let rows = client
                .query(&statement, &parameters(&values_boxed))
                .map_err(|error| map_error(&error))?;
            Ok(rows.iter().map(raw_entry).collect())
        })
    }

    fn claims(&self, reader: Reader<'_>, observable: &Observable) -> Result<Vec<Claim>, Error> {
        let rows = self
            .client()
            .query(
                "SELECT value, indicator, kind, source, category, confidence, tlp, audience,
                        valid_until, last_seen, score, seq
                 FROM claims WHERE value = $1 AND kind = $2 ORDER BY last_seen DESC, indicator",
                &[&observable.value(), &observable.kind().as_str()],
            )
            .map_err(|error| map_error(&error))?;
        let fields = rows
            .iter()
            .map(|row| ClaimFields {
                value: row.get(0),
                indicator: row.get(1),
                kind: row.get(2),
                source: row.get(3),
                category: row.get(4),
                confidence: row.get(5),
                tlp: row.get(6),
                audience: row.get(7),
                valid_until: row.get(8),
                last_seen: row.get(9),
                score: row.get(10),
                seq: row.get(11),
            })
            .collect();
        read::visible_claims(reader, fields)
    }

    fn sightings(&self, reader: Reader<'_>, sighting_of: &str) -> Result<SightingCount, Error> {
        let rows = self
            .client()
            .query(
                "SELECT count, last_seen, tlp, audience FROM sightings WHERE sighting_of = $1",
                &[&sighting_of],
            )
            .map_err(|error| map_error(&error))?;
        read::count_sightings(
            reader,
            rows.iter().map(|row| (row.get(0), row.get(1), row.get(2), row.get(3))).collect(),
        )
    }

    fn sources(&self, reader: Reader<'_>) -> Result<Vec<SourceStats>, Error> {
        let groups = PostgresStore::object_groups(&mut self.client())?;
        read::sources(reader, &groups)
    }

    fn stats(&self, reader: Reader<'_>) -> Result<Stats, Error> {
        let mut client = self.client();
        let objects = PostgresStore::object_groups(&mut client)?;
        let claims: Vec<read::ClaimGroup> = client
            .query(
                "SELECT kind, tlp, audience, count(*) FROM claims GROUP BY kind, tlp, audience",
                &[],
            )
            .map_err(|error| map_error(&error))?
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3)))
            .collect();
        let mut stats = read::stats(reader, &objects, &claims)?;
        stats.last_seq = read_head(&mut *client)?.last_seq;
        let (filter, values) = read::audience_filter(reader, &claims, read::Dialect::Postgres)?;
        let values: Vec<Box<dyn ToSql + Sync>> =
            values.iter().map(read::SqlValue::to_postgres).collect();
        let observables: i64 = client
            .query_one(
                &format!("SELECT count(DISTINCT value) FROM claims WHERE {filter}"),
                &parameters(&values),
            )
            .map_err(|error| map_error(&error))?
            .get(0);
        stats.observables = u64::try_from(observables).unwrap_or(0);
        Ok(stats)
    }

    fn last_seq(&self) -> Result<Seq, Error> {
        read_head(&mut *self.client()).map(|head| head.last_seq)
    }

    fn wait(&self, after: Seq, timeout: Duration) -> Result<Seq, Error> {
        let deadline = Instant::now() + timeout;
        let mut listener = self.listener.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if listener.is_none() {
            let mut client = open_client(&self.url)?;
            client
                .batch_execute(&format!("LISTEN {CHANNEL}"))
                .map_err(|error| map_error(&error))?;
            *listener = Some(client);
        }
        let Some(client) = listener.as_mut() else {
            return Err(Error::Open("no listening connection".to_owned()));
        };
        loop {
            // LISTEN is active before the head is read, so no commit falls between the two.
            let last_seq = read_head(client)?.last_seq;
            let now = Instant::now();
            if last_seq > after || now >= deadline {
                return Ok(last_seq);
            }
            let mut notifications = client.notifications();
            let mut wake = notifications.timeout_iter(deadline - now);
            // A notification or the timeout: either way, read the head again.
            wake.next().map_err(|error| map_error(&error))?;
        }
    }

    fn refresh_scores(&self, now: i64) -> Result<u64, Error> {
        let mut client = self.client();
        let rows = client
            .query(
                "SELECT value, indicator, kind, confidence, last_seen, valid_until, score FROM claims",
                &[],
            )
            .map_err(|error| map_error(&error))?;
        let changed = read::rescore(
            rows.iter()
                .map(|row| read::ScoreRow {
                    value: row.get(0),
                    indicator: row.get(1),
                    kind: row.get(2),
                    confidence: row.get(3),
                    last_seen: row.get(4),
                    valid_until: row.get(5),
                    score: row.get(6),
                })
                .collect(),
            now,
        );
        let mut transaction = client.transaction().map_err(|error| map_error(&error))?;
        for chunk in changed.chunks(10_000) {
            let values: Vec<&str> = chunk.iter().map(|(value, _, _)| value.as_str()).collect();
            let indicators: Vec<&str> =
                chunk.iter().map(|(_, indicator, _)| indicator.as_str()).collect();
            let scores: Vec<i64> = chunk.iter().map(|(_, _, score)| *score).collect();
            transaction
                .execute(
                    "UPDATE claims SET score = u.score
                     FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(value, indicator, score)
                     WHERE claims.value = u.value AND claims.indicator = u.indicator",
                    &[&values, &indicators, &scores],
                )
                .map_err(|error| map_error(&error))?;
        }
        transaction.commit().map_err(|error| map_error(&error))?;
        Ok(changed.len() as u64)
    }
}
