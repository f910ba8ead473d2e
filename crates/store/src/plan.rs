//! Planning an append: which facts become new versions, which are already known, and what each
//! changes in the views. The rules live here once; the backends only read what the planner asks
//! ([`Lookup`]) and write the rows it returns, inside one transaction under their write lock.
//!
//! For each fact, in order, against the current state of its id (from the store, then as changed
//! by the earlier facts of the batch):
//! - an object whose digest equals the current version's is unchanged (the same version re-sent);
//! - an object with the current version's `modified` is unchanged (one (id, modified), one version);
//! - an object newer than the current version becomes the current version;
//! - an object older than the current version is added to the log as a past version, unless the
//!   log already holds that (id, modified);
//! - an object of a deleted id comes back as the current version when it is newer than the
//!   deleted one; an older or equal one is unchanged (a deleted version stays deleted);
//! - a tombstone of a live object deletes it; a tombstone of a missing or deleted object is counted
//!   as missing and not logged.
//!
//! The "latest version" view is the `live` flag of log entries: the current version of each live
//! object has it, every other entry not. The planner says which earlier entries lose it.

use std::collections::{HashMap, HashSet};

use watchfire_model::tlp::Tlp;
use xxhash_rust::xxh3::Xxh3DefaultBuilder;

use crate::rows::{ClaimRow, LogRow, Prepared, SightingRow, claim_observables_of_body, hash_key};
use crate::score::score;
use crate::{AppendOutcome, EntryKind, Error, Seq};

/// The state of an id: its current version (or the last one, when deleted).
#[derive(Clone, Debug)]
pub(crate) struct CurrentState {
    pub seq: Seq,
    pub version: i64,
    pub digest: i64,
    pub object_type: String,
    pub source: String,
    pub tlp: Tlp,
    pub audience: Option<String>,
    pub deleted: bool,
}

/// The current states of ids, by id.
pub(crate) type States = HashMap<String, CurrentState, Xxh3DefaultBuilder>;

/// What the planner reads from the store, under the backend's write lock.
pub(crate) trait Lookup {
    /// Returns the current state of each of `ids` that the store knows.
    fn current_states(&mut self, ids: &[&str]) -> Result<States, Error>;
    /// Tells whether the log holds the version (`id`, `version`).
    fn version_exists(&mut self, id: &str, version: i64) -> Result<bool, Error>;
    /// Returns the body of the log entry `seq`.
    fn body_at(&mut self, seq: Seq) -> Result<Option<String>, Error>;
}

/// The head of the log before the batch.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Head {
    pub last_seq: Seq,
    pub last_added: i64,
}

/// The key of the live-object counts: (type, source, TLP, audience).
pub(crate) type CountKey = (String, String, Tlp, Option<String>);

/// What a batch writes.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub log: Vec<LogRow>,
    /// Entries written before this batch that stop being the current version.
    pub unlive: Vec<Seq>,
    /// Changes of the live-object counts.
    pub counts: Vec<(CountKey, i64)>,
    /// Claims to write; each replaces the claim of the same (value, indicator) if there is one.
    pub claims_upsert: Vec<ClaimRow>,
    /// (value, indicator) keys of claims to delete.
    pub claims_delete: Vec<(String, String)>,
    pub sightings_upsert: Vec<SightingRow>,
    pub sightings_delete: Vec<String>,
    pub head: Head,
    pub outcome: AppendOutcome,
}

/// What happens to one object fact.
enum Decision {
    Unchanged,
    NewCurrent,
    PastVersion,
}

/// Plans the batch `prepared` on top of `head`, at `now` (microseconds).
pub(crate) fn plan(
    prepared: Vec<Prepared>,
    head: Head,
    now: i64,
    lookup: &mut dyn Lookup,
) -> Result<Plan, Error> {
    let ids: Vec<&str> = {
        let mut seen = HashSet::with_hasher(Xxh3DefaultBuilder);
        prepared.iter().map(|fact| fact.id.as_str()).filter(|id| seen.insert(*id)).collect()
    };
    let mut states = lookup.current_states(&ids)?;
    // The added time never goes back along the log, whatever the clocks of several writers say.
    let added = now.max(head.last_added);
    let mut builder = Builder {
        plan: Plan::default(),
        seq: head.last_seq,
        first_seq: head.last_seq + 1,
        added,
        now,
        ..Builder::default()
    };
    for mut fact in prepared {
        let state = states.get(&fact.id).cloned();
        match fact.kind {
            EntryKind::Object => match builder.decide(&fact, state.as_ref(), lookup)? {
                Decision::Unchanged => builder.plan.outcome.unchanged += 1,
                Decision::PastVersion => {
                    let body = std::mem::take(&mut fact.body);
                    builder.log(&fact, body, false);
                }
                Decision::NewCurrent => {
                    let new_state = builder.new_current(fact, state.as_ref());
                    states.insert(new_state.0, new_state.1);
                }
            },
            EntryKind::Tombstone => match state {
                Some(state) if !state.deleted => {
                    let id = fact.id.clone();
                    builder.tombstone(fact, &state, lookup)?;
                    if let Some(state) = states.get_mut(&id) {
                        state.deleted = true;
                    }
                }
                _ => builder.plan.outcome.missing += 1,
            },
        }
    }
    Ok(builder.finish())
}

#[derive(Default)]
struct Builder {
    plan: Plan,
    seq: Seq,
    /// The first sequence number of this batch: entries before it are in the store.
    first_seq: Seq,
    added: i64,
    now: i64,
    /// Versions (id key, version) logged by this batch, which the store's index cannot know yet.
    logged_versions: HashSet<(i64, i64), Xxh3DefaultBuilder>,
    counts: HashMap<CountKey, i64>,
    /// The count key of the last change and its pending delta: a batch mostly changes one key.
    pending_count: Option<(CountKey, i64)>,
    /// The final state of each claim key (value key, indicator key) the batch touches: the index
    /// of its upsert, or `None` when deleted.
    claim_index: HashMap<(i64, i64), Option<usize>, Xxh3DefaultBuilder>,
    /// Claims deleted: (value key, indicator key, value, indicator).
    claim_deletes: Vec<(i64, i64, String, String)>,
    sighting_index: HashMap<String, Option<usize>>,
}

impl Builder {
    fn decide(
        &self,
        fact: &Prepared,
        state: Option<&CurrentState>,
        lookup: &mut dyn Lookup,
    ) -> Result<Decision, Error> {
        let Some(state) = state else {
            return Ok(Decision::NewCurrent);
        };
        if state.deleted {
            return Ok(if fact.version > state.version {
                Decision::NewCurrent
            } else {
                Decision::Unchanged
            });
        }
        if fact.digest == state.digest || fact.version == state.version {
            return Ok(Decision::Unchanged);
        }
        if fact.version > state.version {
            return Ok(Decision::NewCurrent);
        }
        let known = self.logged_versions.contains(&(fact.idh, fact.version))
            || lookup.version_exists(&fact.id, fact.version)?;
        Ok(if known { Decision::Unchanged } else { Decision::PastVersion })
    }

    fn next_seq(&mut self) -> Seq {
        self.seq += 1;
        self.seq
    }

    // Appends a log row for `fact` with `body` and returns its sequence number.
    fn log(&mut self, fact: &Prepared, body: String, live: bool) -> Seq {
        let seq = self.next_seq();
        self.logged_versions.insert((fact.idh, fact.version));
        self.plan.log.push(LogRow {
            seq,
            added: self.added,
            kind: fact.kind,
            id: fact.id.clone(),
            idh: fact.idh,
            object_type: fact.object_type.clone(),
            version: fact.version,
            digest: fact.digest,
            source: fact.source.clone(),
            tlp: fact.tlp,
            audience: fact.audience.clone(),
            live,
            body,
        });
        self.plan.outcome.new_versions += 1;
        seq
    }

    // The entry `state.seq` stops being the current version of a live object.
    fn unlive(&mut self, state: &CurrentState) {
        if state.seq >= self.first_seq {
            let index = usize::try_from(state.seq - self.first_seq).unwrap_or(usize::MAX);
            if let Some(row) = self.plan.log.get_mut(index) {
                row.live = false;
            }
        } else {
            self.plan.unlive.push(state.seq);
        }
        self.count(&state.object_type, &state.source, state.tlp, state.audience.as_ref(), -1);
    }

    // Changes the live-object count of (type, source, TLP, audience) by `delta`.
    fn count(
        &mut self,
        object_type: &str,
        source: &str,
        tlp: Tlp,
        audience: Option<&String>,
        delta: i64,
    ) {
        if let Some((key, pending)) = &mut self.pending_count
            && key.0 == object_type
            && key.1 == source
            && key.2 == tlp
            && key.3.as_ref() == audience
        {
            *pending += delta;
            return;
        }
        let key = (object_type.to_owned(), source.to_owned(), tlp, audience.cloned());
        if let Some((key, pending)) = self.pending_count.replace((key, delta)) {
            *self.counts.entry(key).or_default() += pending;
        }
    }

    fn delete_claim(&mut self, valueh: i64, value: &str, indicatorh: i64, indicator: &str) {
        self.claim_index.insert((valueh, indicatorh), None);
        self.claim_deletes.push((valueh, indicatorh, value.to_owned(), indicator.to_owned()));
    }

    fn new_current(
        &mut self,
        mut fact: Prepared,
        previous: Option<&CurrentState>,
    ) -> (String, CurrentState) {
        if let Some(previous) = previous.filter(|state| !state.deleted) {
            self.unlive(previous);
        }
        let body = std::mem::take(&mut fact.body);
        let seq = self.log(&fact, body, true);
        self.count(&fact.object_type, &fact.source, fact.tlp, fact.audience.as_ref(), 1);
        if fact.object_type == "indicator" {
            for claim in &fact.claims {
                if fact.revoked {
                    self.delete_claim(claim.valueh, &claim.value, fact.idh, &fact.id);
                    continue;
                }
                let key = (claim.valueh, fact.idh);
                let row = ClaimRow {
                    value: claim.value.clone(),
                    valueh: claim.valueh,
                    indicator: fact.id.clone(),
                    indicatorh: fact.idh,
                    kind: claim.kind,
                    source: fact.source.clone(),
                    category: claim.category,
                    confidence: claim.confidence,
                    tlp: fact.tlp,
                    audience: fact.audience.clone(),
                    valid_until: claim.valid_until,
                    last_seen: claim.last_seen,
                    score: score(
                        claim.confidence,
                        claim.kind,
                        claim.last_seen,
                        claim.valid_until,
                        self.now,
                    ),
                    seq,
                    may_exist: previous.is_some(),
                };
                self.claim_index.insert(key, Some(self.plan.claims_upsert.len()));
                self.plan.claims_upsert.push(row);
            }
        }
        if let Some(sighting) = &fact.sighting {
            let row = SightingRow {
                id: fact.id.clone(),
                of: sighting.of.clone(),
                count: sighting.count,
                last_seen: sighting.last_seen,
                tlp: fact.tlp,
                audience: fact.audience.clone(),
                seq,
            };
            self.sighting_index.insert(row.id.clone(), Some(self.plan.sightings_upsert.len()));
            self.plan.sightings_upsert.push(row);
        }
        let state = CurrentState {
            seq,
            version: fact.version,
            digest: fact.digest,
            object_type: fact.object_type,
            source: fact.source,
            tlp: fact.tlp,
            audience: fact.audience,
            deleted: false,
        };
        (fact.id, state)
    }

    fn tombstone(
        &mut self,
        mut fact: Prepared,
        state: &CurrentState,
        lookup: &mut dyn Lookup,
    ) -> Result<(), Error> {
        self.unlive(state);
        // A tombstone is seen by whoever could see the object it deletes.
        fact.version = state.version;
        fact.tlp = state.tlp;
        fact.audience.clone_from(&state.audience);
        self.log(&fact, String::new(), false);
        let id = fact.id;
        if state.object_type == "indicator" {
            let body = if state.seq >= self.first_seq {
                let index = usize::try_from(state.seq - self.first_seq).unwrap_or(usize::MAX);
                self.plan.log.get(index).map(|row| row.body.clone())
            } else {
                lookup.body_at(state.seq)?
            };
            let idh = hash_key(&id);
            for observable in body.as_deref().map(claim_observables_of_body).unwrap_or_default() {
                let value = observable.value();
                self.delete_claim(hash_key(value), value, idh, &id);
            }
        }
        if state.object_type == "sighting" {
            self.sighting_index.insert(id, None);
        }
        Ok(())
    }

    fn finish(mut self) -> Plan {
        // Only the last upsert of a key survives, and none of a key deleted after it.
        let mut claims = Vec::with_capacity(self.plan.claims_upsert.len());
        for (position, row) in std::mem::take(&mut self.plan.claims_upsert).into_iter().enumerate()
        {
            let key = (row.valueh, row.indicatorh);
            if self.claim_index.get(&key) == Some(&Some(position)) {
                claims.push(row);
            }
        }
        self.plan.claims_upsert = claims;
        for (valueh, indicatorh, value, indicator) in std::mem::take(&mut self.claim_deletes) {
            // Deleted at the end of the batch, and listed once.
            if self.claim_index.get(&(valueh, indicatorh)) == Some(&None) {
                self.claim_index.remove(&(valueh, indicatorh));
                self.plan.claims_delete.push((value, indicator));
            }
        }
        let mut sightings = Vec::with_capacity(self.plan.sightings_upsert.len());
        for (position, row) in
            std::mem::take(&mut self.plan.sightings_upsert).into_iter().enumerate()
        {
            if self.sighting_index.get(&row.id) == Some(&Some(position)) {
                sightings.push(row);
            }
        }
        self.plan.sightings_upsert = sightings;
        self.plan.sightings_delete = self
            .sighting_index
            .into_iter()
            .filter_map(|(id, index)| index.is_none().then_some(id))
            .collect();
        if let Some((key, pending)) = self.pending_count.take() {
            *self.counts.entry(key).or_default() += pending;
        }
        self.plan.counts = self.counts.into_iter().filter(|(_, delta)| *delta != 0).collect();
        self.plan.head = Head { last_seq: self.seq, last_added: self.added };
        self.plan.outcome.last_seq = self.seq;
        self.plan
    }
}
