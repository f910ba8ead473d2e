//! The tables of schema version 1, written once for both backends: the dialects differ only in
//! their integer and boolean types, the append-order key of `claims`, and SQLite's `WITHOUT
//! ROWID` for tables keyed by text. ARCHITECTURE.md describes each table.

use crate::read::Dialect;

/// Returns the statements creating the log and its views in `dialect`.
pub(crate) fn tables_v1(dialect: Dialect) -> String {
    let (int, boolean, claim_key, without_rowid) = match dialect {
        Dialect::Sqlite => ("INTEGER", "INTEGER", "INTEGER PRIMARY KEY", " WITHOUT ROWID"),
        Dialect::Postgres => ("BIGINT", "BOOLEAN", "BIGSERIAL PRIMARY KEY", ""),
    };
    format!(
        "CREATE TABLE log (
            seq {int} PRIMARY KEY,
            added {int} NOT NULL,
            kind {int} NOT NULL,
            idh {int} NOT NULL,
            id TEXT NOT NULL,
            type TEXT NOT NULL,
            version {int} NOT NULL,
            digest {int} NOT NULL,
            source TEXT NOT NULL,
            tlp TEXT NOT NULL,
            audience TEXT,
            live {boolean} NOT NULL,
            body TEXT NOT NULL
        );
        CREATE INDEX log_id ON log (idh, version);
        CREATE INDEX log_type ON log (type, seq);
        CREATE TABLE counts (
            type TEXT NOT NULL,
            source TEXT NOT NULL,
            tlp TEXT NOT NULL,
            audience TEXT NOT NULL,
            n {int} NOT NULL,
            PRIMARY KEY (type, source, tlp, audience)
        ){without_rowid};
        CREATE TABLE claims (
            claim {claim_key},
            valueh {int} NOT NULL,
            value TEXT NOT NULL,
            indicator TEXT NOT NULL,
            kind TEXT NOT NULL,
            source TEXT NOT NULL,
            category TEXT,
            confidence {int},
            tlp TEXT NOT NULL,
            audience TEXT,
            valid_until {int},
            last_seen {int} NOT NULL,
            score {int} NOT NULL,
            seq {int} NOT NULL
        );
        CREATE INDEX claims_value ON claims (valueh);
        CREATE TABLE sightings (
            id TEXT PRIMARY KEY,
            sighting_of TEXT NOT NULL,
            count {int} NOT NULL,
            last_seen {int} NOT NULL,
            tlp TEXT NOT NULL,
            audience TEXT,
            seq {int} NOT NULL
        ){without_rowid};
        CREATE INDEX sightings_of ON sightings (sighting_of);"
    )
}

/// Returns the statements of schema version 2: the directory of the node's accounts
/// (organisations, users, tokens, sessions), one JSON document per kind and key. The directory
/// is configuration, not intelligence: it is not part of the log.
pub(crate) fn directory_v2(dialect: Dialect) -> String {
    let without_rowid = match dialect {
        Dialect::Sqlite => " WITHOUT ROWID",
        Dialect::Postgres => "",
    };
    format!(
        "CREATE TABLE directory (
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            document TEXT NOT NULL,
            PRIMARY KEY (kind, key)
        ){without_rowid};"
    )
}

/// The directory document (kind, key) that counts the score refreshes, as
/// [`BUMP_SCORES_VERSION`] writes it.
pub(crate) const SCORES_VERSION: (&str, &str) = ("store", "scores_version");

/// Counts the score refreshes that changed a claim: one more, in the refresh's transaction. The
/// counter is a directory document (kind `store`, key `scores_version`) holding a decimal number,
/// so it needs no schema change; the SQL is the same in both dialects.
pub(crate) const BUMP_SCORES_VERSION: &str = "INSERT INTO directory (kind, key, document) \
     VALUES ('store', 'scores_version', '1') \
     ON CONFLICT (kind, key) DO UPDATE \
     SET document = CAST(CAST(directory.document AS BIGINT) + 1 AS TEXT)";
