//! The PostgreSQL backend: the same log and views as the embedded store, for several nodes on
//! one database.
//!
//! Writers of every process serialise on one transaction-scoped advisory lock, so sequence
//! numbers are assigned in commit order and a follower never skips an entry that commits later
//! with a smaller number. Log rows and claims go in by binary `COPY`, the other changes by
//! array-parameter statements, all in the one transaction. Each commit sends `NOTIFY watchfire_log`, which wakes the
//! followers of every process (`Store::wait`).

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::fallible_iterator::FallibleIterator as _;
use postgres::types::{ToSql, Type};
use postgres::{Client, GenericClient, NoTls, Transaction};
use watchfire_model::Observable;
use watchfire_model::record::Category;

use crate::plan::{CurrentState, Head, Lookup, Plan, States, plan};
use crate::read::{self, CLAIM_COLUMNS, ClaimFields, Dialect, RawEntry};
use crate::rows::{decode_tlp, hash_key};
use crate::schema;
use crate::{
    AppendOutcome, Batch, Claim, ClaimPage, Entry, Error, Page, Put, Query, Reader, SCHEMA_VERSION,
    Seq, SightingCount, SourceStats, Stats, Store, Versions, now_micros,
};

/// The advisory lock key that serialises writers ("WFIRLOG" in ASCII).
const WRITE_LOCK: i64 = 0x0057_4649_524c_4f47;
/// The advisory lock key that serialises migrations.
const MIGRATE_LOCK: i64 = 0x0057_4649_524d_4947;
/// The notification channel of new log entries.
const CHANNEL: &str = "watchfire_log";

/// The schema, one function per version (the `meta` table comes before, in `migrate`).
const MIGRATIONS: &[fn() -> String] = &[
    || {
        format!(
            "{}
         INSERT INTO meta (key, value) VALUES ('last_seq', 0), ('last_added', 0);",
            schema::tables_v1(Dialect::Postgres)
        )
    },
    || schema::directory_v2(Dialect::Postgres),
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
            .query("SELECT type, source, tlp, NULLIF(audience, ''), n FROM counts WHERE n > 0", &[])
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
        transaction.batch_execute(&migration()).map_err(|error| map_error(&error))?;
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
    fn current_states(&mut self, ids: &[&str]) -> Result<States, Error> {
        let keys: Vec<i64> = ids.iter().map(|id| hash_key(id)).collect();
        // The highest version of an id is its current one, or its deleted one when not live.
        let rows = self
            .transaction
            .query(
                "SELECT DISTINCT ON (id) id, seq, version, digest, type, source, tlp, audience, live
                 FROM log WHERE idh = ANY($1) AND kind = 0 ORDER BY id, version DESC",
                &[&keys],
            )
            .map_err(|error| map_error(&error))?;
        let wanted: std::collections::HashSet<&str> = ids.iter().copied().collect();
        let mut states = States::with_capacity_and_hasher(rows.len(), Default::default());
        for row in rows {
            let id: String = row.get(0);
            // Another id with the same hash key.
            if !wanted.contains(id.as_str()) {
                continue;
            }
            let tlp: &str = row.get(6);
            let live: bool = row.get(8);
            states.insert(
                id,
                CurrentState {
                    seq: u64::try_from(row.get::<_, i64>(1)).unwrap_or(0),
                    version: row.get(2),
                    digest: row.get(3),
                    object_type: row.get(4),
                    source: row.get(5),
                    tlp: decode_tlp(tlp)?,
                    audience: row.get(7),
                    deleted: !live,
                },
            );
        }
        Ok(states)
    }

    fn version_exists(&mut self, id: &str, version: i64) -> Result<bool, Error> {
        let row = self
            .transaction
            .query_opt(
                "SELECT 1 FROM log WHERE idh = $1 AND version = $2 AND id = $3 AND kind = 0",
                &[&hash_key(id), &version, &id],
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
            "COPY log (seq, added, kind, idh, id, type, version, digest, source, tlp, audience,
                 live, body) FROM STDIN BINARY",
        )?;
        let types = [
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::TEXT,
            Type::TEXT,
            Type::INT8,
            Type::INT8,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::BOOL,
            Type::TEXT,
        ];
        let mut writer = BinaryCopyInWriter::new(sink, &types);
        for row in &plan.log {
            writer.write(&[
                &to_i64(row.seq),
                &row.added,
                &read::kind_code(row.kind),
                &row.idh,
                &row.id,
                &row.object_type,
                &row.version,
                &row.digest,
                &row.source,
                &row.tlp.level_name(),
                &row.audience,
                &row.live,
                &row.body,
            ])?;
        }
        writer.finish()?;
    }
    if !plan.unlive.is_empty() {
        let seqs: Vec<i64> = plan.unlive.iter().map(|seq| to_i64(*seq)).collect();
        transaction.execute("UPDATE log SET live = FALSE WHERE seq = ANY($1)", &[&seqs])?;
    }
    if !plan.counts.is_empty() {
        let mut types = Vec::new();
        let mut sources = Vec::new();
        let mut tlps = Vec::new();
        let mut audiences = Vec::new();
        let mut deltas = Vec::new();
        for ((object_type, source, tlp, audience), delta) in &plan.counts {
            types.push(object_type.as_str());
            sources.push(source.as_str());
            tlps.push(tlp.level_name());
            audiences.push(audience.as_deref().unwrap_or(""));
            deltas.push(*delta);
        }
        transaction.execute(
            "INSERT INTO counts (type, source, tlp, audience, n)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
             ON CONFLICT (type, source, tlp, audience) DO UPDATE SET n = counts.n + excluded.n",
            &[&types, &sources, &tlps, &audiences, &deltas],
        )?;
    }
    // Claims to delete, and claims about to be replaced.
    let replaced = plan.claims_upsert.iter().filter(|row| row.may_exist);
    let deleted: Vec<(&str, &str)> = plan
        .claims_delete
        .iter()
        .map(|(value, indicator)| (value.as_str(), indicator.as_str()))
        .chain(replaced.map(|row| (row.value.as_str(), row.indicator.as_str())))
        .collect();
    if !deleted.is_empty() {
        let keys: Vec<i64> = deleted.iter().map(|(value, _)| hash_key(value)).collect();
        let (values, indicators): (Vec<&str>, Vec<&str>) = deleted.into_iter().unzip();
        transaction.execute(
            "DELETE FROM claims c USING unnest($1::bigint[], $2::text[], $3::text[])
                 AS d(valueh, value, indicator)
             WHERE c.valueh = d.valueh AND c.value = d.value AND c.indicator = d.indicator",
            &[&keys, &values, &indicators],
        )?;
    }
    if !plan.claims_upsert.is_empty() {
        let sink = transaction.copy_in(
            "COPY claims (valueh, value, indicator, kind, source, category, confidence, tlp,
                 audience, valid_until, last_seen, score, seq) FROM STDIN BINARY",
        )?;
        let types = [
            Type::INT8,
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
                &row.valueh,
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

fn claim_fields(row: &postgres::Row) -> ClaimFields {
    ClaimFields {
        claim: row.get(0),
        value: row.get(1),
        indicator: row.get(2),
        kind: row.get(3),
        source: row.get(4),
        category: row.get(5),
        confidence: row.get(6),
        tlp: row.get(7),
        audience: row.get(8),
        valid_until: row.get(9),
        last_seen: row.get(10),
        score: row.get(11),
        seq: row.get(12),
    }
}

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
    fn append_prepared(&self, batch: Batch) -> Result<AppendOutcome, Error> {
        let prepared = batch.prepared;
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
                "SELECT {ENTRY_COLUMNS} FROM log l WHERE l.idh = $1 AND l.id = $2 AND l.live"
            ),
            // Every version of an id that is live (a deleted id has no live entry).
            Versions::All => format!(
                "SELECT {ENTRY_COLUMNS} FROM log l
                 WHERE l.idh = $1 AND l.id = $2 AND l.kind = 0 AND EXISTS
                     (SELECT 1 FROM log c WHERE c.idh = $1 AND c.id = $2 AND c.live)
                 ORDER BY l.version"
            ),
        };
        let rows =
            self.client().query(&sql, &[&hash_key(id), &id]).map_err(|error| map_error(&error))?;
        read::visible_entries(reader, rows.iter().map(raw_entry).collect())
    }

    fn query(&self, reader: Reader<'_>, query: &Query) -> Result<Page, Error> {
        let (filter, values) = read::query_filter(query, Dialect::Postgres);
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM log l WHERE l.seq > $1 {live} {filter} ORDER BY l.seq LIMIT $2",
            live = if query.latest_only { "AND l.live" } else { "" },
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
        let value = observable.value();
        let sql = format!(
            "SELECT {CLAIM_COLUMNS} FROM claims WHERE valueh = $1 AND value = $2 AND kind = $3
             ORDER BY last_seen DESC, indicator"
        );
        let rows = self
            .client()
            .query(&sql, &[&hash_key(value), &value, &observable.kind().as_str()])
            .map_err(|error| map_error(&error))?;
        read::visible_claims(reader, rows.iter().map(claim_fields).collect())
    }

    fn claims_after(
        &self,
        reader: Reader<'_>,
        after: i64,
        limit: usize,
    ) -> Result<ClaimPage, Error> {
        let sql =
            format!("SELECT {CLAIM_COLUMNS} FROM claims WHERE claim > $1 ORDER BY claim LIMIT $2");
        let mut client = self.client();
        let statement = client.prepare(&sql).map_err(|error| map_error(&error))?;
        read::claim_page(reader, after, limit, |cursor, chunk| {
            let chunk = i64::try_from(chunk).unwrap_or(i64::MAX);
            let rows =
                client.query(&statement, &[&cursor, &chunk]).map_err(|error| map_error(&error))?;
            Ok(rows.iter().map(claim_fields).collect())
        })
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
        let (filter, values) = read::audience_filter(reader, &claims, Dialect::Postgres)?;
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
            .query("SELECT claim, kind, confidence, last_seen, valid_until, score FROM claims", &[])
            .map_err(|error| map_error(&error))?;
        let changed = read::rescore(
            rows.iter()
                .map(|row| read::ScoreRow {
                    claim: row.get(0),
                    kind: row.get(1),
                    confidence: row.get(2),
                    last_seen: row.get(3),
                    valid_until: row.get(4),
                    score: row.get(5),
                })
                .collect(),
            now,
        );
        let mut transaction = client.transaction().map_err(|error| map_error(&error))?;
        for chunk in changed.chunks(10_000) {
            let (claims, scores): (Vec<i64>, Vec<i64>) = chunk.iter().copied().unzip();
            transaction
                .execute(
                    "UPDATE claims SET score = u.score
                     FROM unnest($1::bigint[], $2::bigint[]) AS u(claim, score)
                     WHERE claims.claim = u.claim",
                    &[&claims, &scores],
                )
                .map_err(|error| map_error(&error))?;
        }
        if !changed.is_empty() {
            transaction
                .execute(schema::BUMP_SCORES_VERSION, &[])
                .map_err(|error| map_error(&error))?;
        }
        transaction.commit().map_err(|error| map_error(&error))?;
        Ok(changed.len() as u64)
    }

    fn directory_get(&self, kind: &str, key: &str) -> Result<Option<String>, Error> {
        let row = self
            .client()
            .query_opt(
                "SELECT document FROM directory WHERE kind = $1 AND key = $2",
                &[&kind, &key],
            )
            .map_err(|error| map_error(&error))?;
        Ok(row.map(|row| row.get(0)))
    }

    fn directory_list(&self, kind: &str) -> Result<Vec<(String, String)>, Error> {
        let rows = self
            .client()
            .query("SELECT key, document FROM directory WHERE kind = $1 ORDER BY key", &[&kind])
            .map_err(|error| map_error(&error))?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
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
                "INSERT INTO directory (kind, key, document) VALUES ($1, $2, $3) \
                 ON CONFLICT (kind, key) DO NOTHING"
            }
            Put::Replace => {
                "INSERT INTO directory (kind, key, document) VALUES ($1, $2, $3) \
                 ON CONFLICT (kind, key) DO UPDATE SET document = excluded.document"
            }
        };
        let changed = self
            .client()
            .execute(sql, &[&kind, &key, &document])
            .map_err(|error| map_error(&error))?;
        Ok(changed > 0)
    }

    fn directory_delete(&self, kind: &str, key: &str) -> Result<bool, Error> {
        let changed = self
            .client()
            .execute("DELETE FROM directory WHERE kind = $1 AND key = $2", &[&kind, &key])
            .map_err(|error| map_error(&error))?;
        Ok(changed > 0)
    }
}
