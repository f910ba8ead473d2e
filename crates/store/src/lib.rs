//! The one log and the views derived from it, behind one [`Store`] trait with two backends:
//! an embedded SQLite file (the default) and PostgreSQL (several nodes on one database).
//!
//! Every fact that enters the node is a [`Fact`]: a STIX object version, or a tombstone that
//! deletes an object. [`Store::append`] writes a batch of facts atomically and returns only once
//! the batch is durable; each new version gets the next sequence number of the log. The views
//! (the latest version per id, the claims per observable, the sightings) are kept in the same
//! transaction, so a reader never sees a log entry without its views or the other way round.
//!
//! Versions: an object version is identified by its id and its `modified` time (or `created`,
//! for objects without `modified`; SCOs have one version). The same (id, modified) twice is one
//! version, and a version whose content equals the current version's (ignoring `created`,
//! `modified` and `valid_from`) is no new version either: re-importing a feed adds nothing.
//!
//! Reads go through the access policy of `model`: every read takes a [`Reader`], and only the
//! local operator (who holds the store's files anyway) reads without a principal.
//!
//! The schema and the invariants of the log are described in ARCHITECTURE.md.

#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod digest;
mod plan;
mod postgres;
mod read;
mod rows;
mod schema;
mod score;
mod sqlite;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use watchfire_model::Observable;
use watchfire_model::policy::{Audience, Principal, may_see};
use watchfire_model::record::Category;
use watchfire_model::stix::{StixId, StixObject};
use watchfire_model::tlp::Tlp;

pub use crate::postgres::PostgresStore;
pub use crate::score::{half_life_days, score};
pub use crate::sqlite::{SqliteOptions, SqliteStore};

/// The version of the schema this build writes. A store of a newer version is refused.
pub const SCHEMA_VERSION: i64 = 2;

/// The name of the SQLite file inside the data directory.
pub const SQLITE_FILE: &str = "watchfire.db";

/// A position in the log: the sequence number of an entry. The first entry is 1; 0 means "before
/// everything".
pub type Seq = u64;

/// One fact to append: an object version or a tombstone, with where it came from and who may see it.
#[derive(Clone, Debug)]
pub struct Fact {
    /// The source that said it (a feed, a peer, an organisation's push).
    pub source: String,
    /// Who may see it.
    pub audience: Audience,
    /// The category of an indicator when the source gave a finer one than STIX's `indicator_types`.
    pub category: Option<Category>,
    /// Whether the object's `created`/`modified` were made up by the importer (the import time,
    /// for a feed line without dates): they then carry no information, and an object that differs
    /// from the current version only in them is the same version.
    pub times_made_up: bool,
    /// The object version or the tombstone.
    pub body: FactBody,
}

/// What a [`Fact`] holds.
#[derive(Clone, Debug)]
pub enum FactBody {
    /// A version of a STIX object.
    Object(Box<StixObject>),
    /// The deletion of an object (all its versions disappear from reads; the log keeps the tombstone).
    Tombstone(StixId),
}

impl Fact {
    /// Returns a fact holding `object`, from `source`, for `audience`.
    pub fn object(source: impl Into<String>, audience: Audience, object: StixObject) -> Fact {
        Fact {
            source: source.into(),
            audience,
            category: None,
            times_made_up: false,
            body: FactBody::Object(Box::new(object)),
        }
    }
}

impl Fact {
    /// Returns a tombstone deleting the object `id`, from `source`.
    pub fn tombstone(source: impl Into<String>, audience: Audience, id: StixId) -> Fact {
        Fact {
            source: source.into(),
            audience,
            category: None,
            times_made_up: false,
            body: FactBody::Tombstone(id),
        }
    }
}

/// A batch of facts prepared for appending: serialised, versioned and digested, with their
/// claims extracted. Preparing is CPU work that needs no lock, so it can overlap the writing of
/// the previous batch.
#[derive(Debug)]
pub struct Batch {
    prepared: Vec<rows::Prepared>,
}

impl Batch {
    /// Prepares `facts`; fails on an object that cannot be serialised.
    pub fn prepare(facts: &[Fact]) -> Result<Batch, Error> {
        let prepared = facts.iter().map(rows::prepare).collect::<Result<Vec<_>, _>>()?;
        Ok(Batch { prepared })
    }

    /// Returns the number of facts.
    pub fn len(&self) -> usize {
        self.prepared.len()
    }

    /// Tells whether the batch holds no fact.
    pub fn is_empty(&self) -> bool {
        self.prepared.is_empty()
    }
}

/// What an append did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AppendOutcome {
    /// Versions (and tombstones) added to the log.
    pub new_versions: u64,
    /// Facts that were already known: the same version, or the same content as the current version.
    pub unchanged: u64,
    /// Tombstones of objects that do not exist (or were deleted before).
    pub missing: u64,
    /// The sequence number of the log's last entry after the append.
    pub last_seq: Seq,
}

/// Whether a log entry is an object version or a tombstone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A version of an object.
    Object,
    /// The deletion of an object.
    Tombstone,
}

/// One entry of the log, as a reader gets it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    /// Its sequence number.
    pub seq: Seq,
    /// When it was added, in microseconds since the Unix epoch (never decreasing along the log).
    pub added_micros: i64,
    /// Object version or tombstone.
    pub kind: EntryKind,
    /// The STIX id of the object.
    pub id: String,
    /// The STIX type of the object.
    pub object_type: String,
    /// The version: `modified` (or `created`) in microseconds since the epoch, 0 for SCOs.
    pub version_micros: i64,
    /// The source that said it.
    pub source: String,
    /// Who may see it.
    pub audience: Audience,
    /// The object's JSON as it was stored (empty for a tombstone).
    pub body: String,
}

impl Entry {
    /// Parses the stored JSON back into a STIX object.
    pub fn object(&self) -> Result<StixObject, Error> {
        let value: serde_json::Value = serde_json::from_str(&self.body)
            .map_err(|error| Error::Corrupt(format!("entry {}: {error}", self.seq)))?;
        let serde_json::Value::Object(properties) = value else {
            return Err(Error::Corrupt(format!("entry {}: not a JSON object", self.seq)));
        };
        StixObject::from_properties(properties)
            .map_err(|error| Error::Corrupt(format!("entry {}: {error}", self.seq)))
    }
}

/// Who reads.
#[derive(Clone, Copy, Debug)]
pub enum Reader<'a> {
    /// The local operator running a command on the store's own files (`watchfire stats`), who can
    /// read the files anyway. Never used for a request that arrives over the network.
    Operator,
    /// A principal: every entry passes `model::policy::may_see` for it.
    Principal(&'a Principal),
}

impl Reader<'_> {
    /// Tells whether this reader may see an object for `audience`.
    pub fn may_see(&self, audience: &Audience) -> bool {
        match self {
            Reader::Operator => true,
            Reader::Principal(principal) => may_see(principal, audience),
        }
    }
}

/// Which versions of an object to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Versions {
    /// The current version only.
    Latest,
    /// Every version, oldest first.
    All,
}

/// A filtered read of the log in sequence order, from a cursor.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// Entries after this sequence number (the cursor; 0 reads from the start).
    pub after: Seq,
    /// At most this many entries (at least 1 is used).
    pub limit: usize,
    /// Only these STIX types (empty: all).
    pub types: Vec<String>,
    /// Only these sources (empty: all).
    pub sources: Vec<String>,
    /// Only these TLP levels (empty: all).
    pub tlp: Vec<Tlp>,
    /// Only entries added at or after this time (microseconds since the epoch).
    pub added_from: Option<i64>,
    /// Only entries added before this time (microseconds since the epoch).
    pub added_before: Option<i64>,
    /// Only entries that are the current version of a live object (no older versions, no tombstones).
    pub latest_only: bool,
}

/// One page of a [`Query`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    /// The visible entries, in sequence order.
    pub entries: Vec<Entry>,
    /// The cursor for the next page, when more entries may follow; `None` at the end of the log.
    pub next: Option<Seq>,
}

/// A source's claim about one observable: the view "observable → claims".
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Claim {
    /// The observable.
    pub observable: Observable,
    /// The indicator that makes the claim.
    pub indicator: String,
    /// The source.
    pub source: String,
    /// What kind of threat.
    pub category: Option<Category>,
    /// The source's confidence, 0 to 100.
    pub confidence: Option<u8>,
    /// Who may see it (the index keeps it to answer each caller with what it may see).
    pub audience: Audience,
    /// When the claim stops being valid (microseconds since the epoch).
    pub valid_until_micros: Option<i64>,
    /// When the source last said it (the indicator's `modified`, microseconds since the epoch).
    pub last_seen_micros: i64,
    /// The decayed score, 0 to 100, as of the last refresh.
    pub score: u8,
    /// The log entry of the indicator version that made the claim.
    pub seq: Seq,
}

/// One page of [`Store::claims_after`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClaimPage {
    /// The visible claims, each with its position (the cursor value after it).
    pub claims: Vec<(i64, Claim)>,
    /// The cursor for the next page, when more claims may follow; `None` at the end.
    pub next: Option<i64>,
}

/// How often an object was sighted, counted over the sightings the reader may see.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SightingCount {
    /// The number of sighting objects.
    pub sightings: u64,
    /// The sum of their counts (a sighting without `count` counts once).
    pub count: u64,
    /// The latest `last_seen` (or `modified`) among them, microseconds since the epoch.
    pub last_seen_micros: Option<i64>,
}

/// One source and what it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceStats {
    /// The source's name.
    pub name: String,
    /// Its live objects (current versions) visible to the reader.
    pub objects: u64,
}

/// What the store holds, as the reader may see it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// The sequence number of the log's last entry (the same for every reader).
    pub last_seq: Seq,
    /// Live objects (current versions, not deleted).
    pub objects: u64,
    /// Live objects per STIX type.
    pub by_type: BTreeMap<String, u64>,
    /// Live objects per source.
    pub by_source: BTreeMap<String, u64>,
    /// Live objects per TLP level.
    pub by_tlp: BTreeMap<String, u64>,
    /// Claims (one per observable and indicator).
    pub claims: u64,
    /// Claims per observable kind.
    pub claims_by_kind: BTreeMap<String, u64>,
    /// Distinct observables with at least one claim.
    pub observables: u64,
}

/// An error of the store. Every variant names the reason; none leaves the data half-written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store was written by a newer watchfire.
    #[error(
        "the store has schema version {found}, newer than this watchfire's {supported}: upgrade watchfire"
    )]
    NewerSchema {
        /// The store's schema version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// Another process holds the store's write lock for too long.
    #[error("the store is locked by another process: {0}")]
    Locked(String),
    /// The disk (or the database's quota) is full.
    #[error("the store's disk is full: {0}")]
    Full(String),
    /// The store's files are not a watchfire store, or are damaged.
    #[error("the store is corrupt or not a watchfire store: {0}")]
    Corrupt(String),
    /// The store cannot be opened or reached.
    #[error("cannot open the store: {0}")]
    Open(String),
    /// A fact cannot be stored (for example an object that cannot be serialised).
    #[error("cannot store {id}: {reason}")]
    Fact {
        /// The object's id.
        id: String,
        /// Why.
        reason: String,
    },
    /// Any other database error.
    #[error("database error: {0}")]
    Database(String),
}

/// The one log and its views. Both backends implement it and pass the same conformance suite.
///
/// Every method is safe to call from several threads; writers are serialised by the backend, so
/// sequence numbers follow commit order (a reader following the log never skips an entry that
/// commits later with a smaller number).
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Appends a batch of facts atomically; returns once the batch is durable.
    fn append(&self, facts: &[Fact]) -> Result<AppendOutcome, Error> {
        self.append_prepared(Batch::prepare(facts)?)
    }

    /// Appends a batch prepared with [`Batch::prepare`] (which a bulk importer runs on another
    /// thread while the previous batch is written); atomic and durable like [`Store::append`].
    fn append_prepared(&self, batch: Batch) -> Result<AppendOutcome, Error>;

    /// Returns an object's current version, or all its versions oldest first, if the reader may
    /// see them. A deleted or invisible object gives an empty list, exactly like a missing one.
    fn get(&self, reader: Reader<'_>, id: &str, versions: Versions) -> Result<Vec<Entry>, Error>;

    /// Reads the log in sequence order after `query.after`, filtered, up to `query.limit` entries.
    fn query(&self, reader: Reader<'_>, query: &Query) -> Result<Page, Error>;

    /// Returns the claims about `observable` the reader may see, most recent first.
    fn claims(&self, reader: Reader<'_>, observable: &Observable) -> Result<Vec<Claim>, Error>;

    /// Reads every claim the reader may see, in the order the claims were written, after the
    /// cursor `after` (0 reads from the start), up to `limit`: what the match index is built from.
    fn claims_after(
        &self,
        reader: Reader<'_>,
        after: i64,
        limit: usize,
    ) -> Result<ClaimPage, Error>;

    /// Counts the sightings of the object `sighting_of` that the reader may see.
    fn sightings(&self, reader: Reader<'_>, sighting_of: &str) -> Result<SightingCount, Error>;

    /// Lists the sources with their live objects the reader may see.
    fn sources(&self, reader: Reader<'_>) -> Result<Vec<SourceStats>, Error>;

    /// Counts what the store holds, as the reader may see it.
    fn stats(&self, reader: Reader<'_>) -> Result<Stats, Error>;

    /// Returns the sequence number of the log's last entry.
    fn last_seq(&self) -> Result<Seq, Error>;

    /// Waits until the log has an entry after `after` (appended by this or another process) or
    /// `timeout` passes; returns the last sequence number.
    fn wait(&self, after: Seq, timeout: Duration) -> Result<Seq, Error>;

    /// Recomputes every claim's decayed score as of `now_micros`; returns how many changed. A
    /// refresh that changes a score moves [`Store::scores_version`] in the same transaction.
    fn refresh_scores(&self, now_micros: i64) -> Result<u64, Error>;

    /// Returns how many score refreshes changed a claim (0 for a store never refreshed). Scores
    /// are the one part of the claims that changes without a log entry: a copy of the claims
    /// made at log position `last_seq` and scores version `v` (the match index's cache file)
    /// is current while both stay the same.
    fn scores_version(&self) -> Result<u64, Error> {
        match self.directory_get(schema::SCORES_VERSION.0, schema::SCORES_VERSION.1)? {
            None => Ok(0),
            Some(document) => document.trim().parse().map_err(|_| {
                Error::Corrupt(format!("scores version {document:?} is not a number"))
            }),
        }
    }

    /// Returns the directory document of `kind` under `key` (accounts: organisations, users,
    /// tokens, sessions). The directory is the node's configuration, read by the server's access
    /// layer only; it holds no intelligence and is not part of the log.
    fn directory_get(&self, kind: &str, key: &str) -> Result<Option<String>, Error>;

    /// Lists the directory documents of `kind` as (key, document), ordered by key.
    fn directory_list(&self, kind: &str) -> Result<Vec<(String, String)>, Error>;

    /// Writes a directory document. With [`Put::Insert`] an existing key is left alone and the
    /// call returns false (a unique name taken); with [`Put::Replace`] it is overwritten.
    fn directory_put(&self, kind: &str, key: &str, document: &str, put: Put)
    -> Result<bool, Error>;

    /// Deletes a directory document; returns whether it existed.
    fn directory_delete(&self, kind: &str, key: &str) -> Result<bool, Error>;
}

/// How [`Store::directory_put`] treats an existing key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Put {
    /// Only a new key is written.
    Insert,
    /// The document is written whether or not the key exists.
    Replace,
}

/// Opens the store a node is configured with: PostgreSQL when `database` is given, otherwise the
/// SQLite file in `data_dir` (created with its directory when missing).
pub fn open(data_dir: &Path, database: Option<&str>) -> Result<Box<dyn Store>, Error> {
    match database {
        Some(url) => Ok(Box::new(PostgresStore::connect(url)?)),
        None => {
            std::fs::create_dir_all(data_dir).map_err(|error| {
                Error::Open(format!("cannot create {}: {error}", data_dir.display()))
            })?;
            Ok(Box::new(SqliteStore::open(&data_dir.join(SQLITE_FILE))?))
        }
    }
}

/// Returns the current time in microseconds since the Unix epoch.
pub fn now_micros() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |elapsed| i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX))
}
