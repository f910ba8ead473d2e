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
//! - an object of a deleted id comes back as the current version, unless that very version was
//!   deleted (a deleted version stays deleted);
//! - a tombstone of a live object deletes it; a tombstone of a missing or deleted object is counted
//!   as missing and not logged.

use std::collections::{HashMap, HashSet};

use watchfire_model::Observable;

use crate::rows::{ClaimRow, CurrentRow, LogRow, Prepared, SightingRow, claim_observables_of_body};
use crate::score::score;
use crate::{AppendOutcome, EntryKind, Error, Seq};

/// The state of an id in the "latest version" view.
#[derive(Clone, Debug)]
pub(crate) struct CurrentState {
    pub seq: Seq,
    pub version: i64,
    pub digest: i64,
    pub object_type: String,
    pub tlp: watchfire_model::tlp::Tlp,
    pub audience: Option<String>,
    pub deleted: bool,
}

/// What the planner reads from the store, under the backend's write lock.
pub(crate) trait Lookup {
    /// Returns the current state of each of `ids` that the store knows.
    fn current_states(&mut self, ids: &[&str]) -> Result<HashMap<String, CurrentState>, Error>;
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

/// What a batch writes. Views are keyed, so each key appears once with its final state.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub log: Vec<LogRow>,
    pub current: Vec<CurrentRow>,
    /// Ids whose current row is only marked deleted.
    pub current_deleted: Vec<String>,
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
        let mut seen = HashSet::new();
        prepared.iter().map(|fact| fact.id.as_str()).filter(|id| seen.insert(*id)).collect()
    };
    let mut states = lookup.current_states(&ids)?;
    // The added time never goes back along the log, whatever the clocks of several writers say.
    let added = now.max(head.last_added);
    let mut builder =
        Builder { plan: Plan::default(), seq: head.last_seq, added, now, ..Builder::default() };
    for fact in prepared {
        let state = states.get(&fact.id);
        match fact.kind {
            EntryKind::Object => {
                let decision = builder.decide(&fact, state, lookup)?;
                match decision {
                    Decision::Unchanged => builder.plan.outcome.unchanged += 1,
                    Decision::PastVersion => {
                        let mut fact = fact;
                        let body = std::mem::take(&mut fact.body);
                        builder.log(&fact, body);
                    }
                    Decision::NewCurrent => {
                        let new_state = builder.new_current(fact);
                        states.insert(new_state.0, new_state.1);
                    }
                }
            }
            EntryKind::Tombstone => match state {
                Some(state) if !state.deleted => {
                    let state = state.clone();
                    builder.tombstone(fact, &state, lookup)?;
                    if let Some(state) = states.get_mut(&builder.last_id) {
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
    added: i64,
    now: i64,
    /// Versions logged by this batch, which the store's index cannot know yet.
    logged_versions: HashSet<(String, i64)>,
    /// Bodies logged by this batch by sequence number (for tombstones of objects added in it).
    bodies: HashMap<Seq, usize>,
    current_index: HashMap<String, usize>,
    claim_index: HashMap<(String, String), Option<usize>>,
    sighting_index: HashMap<String, Option<usize>>,
    /// Ids deleted whose current row is not written by this batch.
    current_deleted: HashSet<String>,
    last_id: String,
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
        let key = (fact.id.clone(), fact.version);
        let known = |lookup: &mut dyn Lookup| -> Result<bool, Error> {
            Ok(self.logged_versions.contains(&key)
                || lookup.version_exists(&fact.id, fact.version)?)
        };
        if state.deleted {
            if fact.version > state.version || !known(lookup)? {
                return Ok(Decision::NewCurrent);
            }
            return Ok(Decision::Unchanged);
        }
        if fact.digest == state.digest || fact.version == state.version {
            return Ok(Decision::Unchanged);
        }
        if fact.version > state.version {
            return Ok(Decision::NewCurrent);
        }
        Ok(if known(lookup)? { Decision::Unchanged } else { Decision::PastVersion })
    }

    fn next_seq(&mut self) -> Seq {
        self.seq += 1;
        self.seq
    }

    // Appends a log row for `fact` with `body` and returns its sequence number.
    fn log(&mut self, fact: &Prepared, body: String) -> Seq {
        let seq = self.next_seq();
        self.logged_versions.insert((fact.id.clone(), fact.version));
        self.bodies.insert(seq, self.plan.log.len());
        self.plan.log.push(LogRow {
            seq,
            added: self.added,
            kind: fact.kind,
            id: fact.id.clone(),
            object_type: fact.object_type.clone(),
            version: fact.version,
            source: fact.source.clone(),
            tlp: fact.tlp,
            audience: fact.audience.clone(),
            body,
        });
        self.plan.outcome.new_versions += 1;
        seq
    }

    fn new_current(&mut self, mut fact: Prepared) -> (String, CurrentState) {
        let body = std::mem::take(&mut fact.body);
        let seq = self.log(&fact, body);
        self.set_current(CurrentRow {
            id: fact.id.clone(),
            seq,
            version: fact.version,
            digest: fact.digest,
            object_type: fact.object_type.clone(),
            source: fact.source.clone(),
            tlp: fact.tlp,
            audience: fact.audience.clone(),
            deleted: false,
        });
        if fact.object_type == "indicator" {
            for claim in &fact.claims {
                let key = (claim.value.clone(), fact.id.clone());
                if fact.revoked {
                    self.claim_index.insert(key, None);
                    continue;
                }
                let row = ClaimRow {
                    value: claim.value.clone(),
                    indicator: fact.id.clone(),
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
            object_type: fact.object_type.clone(),
            tlp: fact.tlp,
            audience: fact.audience.clone(),
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
        // A tombstone is seen by whoever could see the object it deletes.
        fact.version = state.version;
        fact.tlp = state.tlp;
        fact.audience.clone_from(&state.audience);
        self.log(&fact, String::new());
        let id = fact.id;
        if state.object_type == "indicator" {
            let body = match self.bodies.get(&state.seq) {
                Some(&index) => Some(self.plan.log[index].body.clone()),
                None => lookup.body_at(state.seq)?,
            };
            let observables: Vec<Observable> =
                body.as_deref().map(claim_observables_of_body).unwrap_or_default();
            for observable in observables {
                self.claim_index.insert((observable.value().to_owned(), id.clone()), None);
            }
        }
        if state.object_type == "sighting" {
            self.sighting_index.insert(id.clone(), None);
        }
        // The view keeps pointing at the last object version; the id is marked deleted.
        match self.current_index.get(&id) {
            Some(&index) => self.plan.current[index].deleted = true,
            None => {
                self.current_deleted.insert(id.clone());
            }
        }
        self.last_id = id;
        Ok(())
    }

    fn set_current(&mut self, row: CurrentRow) {
        self.current_deleted.remove(&row.id);
        match self.current_index.get(&row.id) {
            Some(&index) => self.plan.current[index] = row,
            None => {
                self.current_index.insert(row.id.clone(), self.plan.current.len());
                self.plan.current.push(row);
            }
        }
    }

    fn finish(mut self) -> Plan {
        // Keys deleted after an upsert in this batch: drop the upsert, keep the delete.
        let mut claims = Vec::with_capacity(self.plan.claims_upsert.len());
        // Only the last upsert of a key survives, and none of a key deleted after it.
        for (position, row) in std::mem::take(&mut self.plan.claims_upsert).into_iter().enumerate()
        {
            let key = (row.value.clone(), row.indicator.clone());
            if self.claim_index.get(&key) == Some(&Some(position)) {
                claims.push(row);
            }
        }
        self.plan.claims_upsert = claims;
        self.plan.claims_delete = self
            .claim_index
            .into_iter()
            .filter_map(|(key, index)| index.is_none().then_some(key))
            .collect();
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
        self.plan.current_deleted = self.current_deleted.into_iter().collect();
        self.plan.head = Head { last_seq: self.seq, last_added: self.added };
        self.plan.outcome.last_seq = self.seq;
        self.plan
    }
}
