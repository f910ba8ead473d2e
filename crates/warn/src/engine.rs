//! Matching at ingest: the engine follows the log and turns every new indicator, host event and
//! sighting that touches an organisation's constituency into an alert for that organisation.
//!
//! Both ways count: "a threat is hosted in your space" (an indicator whose address, network,
//! domain or URL host lies in a claim: a C2 in your range, phishing on your domain) and "your host
//! is reported" (a host event, such as a Shadowserver row, about an address you own). The most
//! specific claim decides the owner: a network before a domain suffix before an AS before a
//! country (AS and country of an address come from the event itself, else from the MaxMind files
//! behind a [`Locator`]).
//!
//! Sharing rules hold: an organisation is alerted only from evidence the one access policy lets
//! it see (a report under AMBER for somebody else never reaches it, not even as an alert), and an
//! alert's audience is that organisation alone. Sightings add evidence to the alerts of the
//! organisation hosting the sighted observable (without naming who sighted it), and raise an
//! outbreak alert when at least K distinct organisations sight the same indicator within T; the
//! outbreak alert has the audience of the indicator sighted.
//!
//! Aggregation: one alert per organisation, direction, observable and category per window (fixed
//! windows of [`Settings::window`] on the node's clock); repeats in the window are counted into
//! it as new versions. The cursor is kept in the directory after each append, and every alert
//! remembers the last entry it counted, so reading the log again after a crash counts nothing twice.
//!
//! Look-back: a claim approved after data arrived would otherwise never warn of what the log
//! already holds (a feed that lists the same thing again adds no new version). When the engine
//! first sees an approved claim, it queues a look-back over the log up to its cursor: the current
//! versions of indicators still valid, and host events reported within [`Settings::expire_after`],
//! matched against the new claims only, raise alerts dated now. The queue is kept in the
//! directory, so a restart finishes it; look-backs run a page per step after the new entries.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use watchfire_model::observable::{Observable, ObservableKind};
use watchfire_model::pattern::Pattern;
use watchfire_model::policy::{Audience, OrgId, Principal, may_see};
use watchfire_model::record::{Category, Reliability};
use watchfire_model::stix::{Precision, StixObject, Timestamp};
use watchfire_store::{Entry, EntryKind, Fact, Put, Query, Reader, Seq, Store, Versions};
use xxhash_rust::xxh3::xxh3_64;

use crate::alert::{
    ALERT_SOURCE, ALERT_TYPE, Alert, Direction, Evidence, MAX_EVIDENCE, Matched, Severity, Status,
};
use crate::inhibit::{Inhibitions, url_host};
use crate::{ClaimKind, ConstituencyIndex, Error, Target};

/// The directory kind of the engine's state (its cursor).
pub const STATE_KIND: &str = "warn_state";

const CURSOR_KEY: &str = "cursor";

const LOOKBACK_KEY: &str = "lookback";

const TYPE_INDICATOR: &str = "indicator";
const TYPE_HOST_EVENT: &str = "x-watchfire-host-event";
const TYPE_SIGHTING: &str = "sighting";

/// Tells the AS number and country of an address (from MaxMind DB files).
pub trait Locator: Send + Sync + fmt::Debug {
    /// Returns the AS number announcing `address`.
    fn asn(&self, address: IpAddr) -> Option<u32>;
    /// Returns the ISO 3166-1 alpha-2 country code of `address`, upper case.
    fn country(&self, address: IpAddr) -> Option<String>;
}

/// Tells who an organisation is to the access policy: its principal as a machine of that
/// organisation (no user: RED evidence never becomes an alert), or `None` for an unknown one.
pub trait Members {
    /// Returns the principal of `org`.
    fn principal(&self, org: OrgId) -> Option<Principal>;
}

impl<F: Fn(OrgId) -> Option<Principal>> Members for F {
    fn principal(&self, org: OrgId) -> Option<Principal> {
        self(org)
    }
}

/// How the engine raises alerts.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The aggregation window: one alert per organisation, observable and category per window.
    pub window: Duration,
    /// An open alert nothing repeated for this long after its last report expires.
    pub expire_after: Duration,
    /// An outbreak needs sightings by at least this many distinct organisations ...
    pub outbreak_orgs: usize,
    /// ... within this time.
    pub outbreak_window: Duration,
    /// The reliability of sources, 0 to 100, by source name.
    pub reliability: HashMap<String, u8>,
    /// The reliability of a source not in `reliability`.
    pub default_reliability: u8,
    /// The most log entries read per step.
    pub batch: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            window: Duration::from_secs(24 * 3600),
            expire_after: Duration::from_secs(7 * 24 * 3600),
            outbreak_orgs: 3,
            outbreak_window: Duration::from_secs(24 * 3600),
            reliability: HashMap::new(),
            default_reliability: 60,
            batch: 1000,
        }
    }
}

/// What one step did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StepOutcome {
    /// Log entries read.
    pub entries: u64,
    /// Alerts raised (first versions).
    pub raised: u64,
    /// Alerts updated (repeats counted).
    pub updated: u64,
    /// Matches an organisation's inhibition muted.
    pub inhibited: u64,
    /// Entries that could not be read (named in the log of the node).
    pub unreadable: u64,
    /// Earlier entries read again for newly approved claims (see the module's look-back).
    pub looked_back: u64,
    /// The cursor after the step.
    pub cursor: Seq,
    /// Whether more entries (or a look-back page) may follow right away.
    pub more: bool,
}

/// The engine: its cursor, the constituency index and the recent sightings.
#[derive(Debug)]
pub struct Engine {
    settings: Settings,
    locator: Option<std::sync::Arc<dyn Locator>>,
    cursor: Seq,
    index: ConstituencyIndex,
    claims_digest: u64,
    /// The approved claims seen and the look-backs they still owe; `None` until first loaded.
    lookback: Option<Lookback>,
    inhibitions: Inhibitions,
    /// Sightings within the outbreak window, per indicator: (organisation, when).
    sightings: HashMap<String, Vec<(OrgId, i64)>>,
    /// Microseconds of the last `modified` the engine wrote, so versions always move forward.
    last_modified: i64,
    /// The reliability of the node's configured sources (0 to 100), by name.
    source_reliability: HashMap<String, u8>,
}

/// The directory kind of the node's configured sources (`watchfire_feeds::SOURCE_KIND`): the
/// engine reads their name and reliability only.
const SOURCE_KIND: &str = "source";

/// What the engine reads of a configured source.
#[derive(Deserialize)]
struct SourceView {
    name: String,
    #[serde(default)]
    reliability: Option<Reliability>,
}

/// One match: an entry touching an organisation (or the community).
#[derive(Clone, Debug)]
struct Hit {
    organisation: Option<OrgId>,
    direction: Direction,
    category: Category,
    observable: Observable,
    matched: Option<Matched>,
    event_type: Option<String>,
    port: Option<u16>,
    confidence: Option<u8>,
    reliability: u8,
    evidence: Evidence,
    added_micros: i64,
    audience: Option<Audience>,
}

/// A host event as the importer stores it (`x-watchfire-host-event`).
#[derive(Deserialize)]
struct HostEventView {
    ip: IpAddr,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    asn: Option<u32>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    category: Option<String>,
    event_type: String,
    #[serde(default)]
    malware: Option<String>,
    modified: Timestamp,
}

impl Engine {
    /// Opens the engine on `store`: reads its cursor and the sightings of the outbreak window
    /// before it.
    pub fn open(
        store: &dyn Store,
        settings: Settings,
        locator: Option<std::sync::Arc<dyn Locator>>,
    ) -> Result<Engine, Error> {
        let cursor = match store.directory_get(STATE_KIND, CURSOR_KEY)? {
            Some(document) => {
                serde_json::from_str::<CursorDoc>(&document)
                    .map_err(|error| Error::Damaged {
                        kind: STATE_KIND,
                        key: CURSOR_KEY.to_owned(),
                        reason: error.to_string(),
                    })?
                    .seq
            }
            None => 0,
        };
        let mut engine = Engine {
            settings,
            locator,
            cursor,
            index: ConstituencyIndex::default(),
            claims_digest: 0,
            lookback: None,
            inhibitions: Inhibitions::default(),
            sightings: HashMap::new(),
            last_modified: 0,
            source_reliability: HashMap::new(),
        };
        engine.reload_sightings(store)?;
        Ok(engine)
    }

    /// Returns the last log entry the engine has dealt with.
    pub fn cursor(&self) -> Seq {
        self.cursor
    }

    /// Returns the settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Reads the next entries after the cursor and appends the alerts they raise; the cursor
    /// moves past them only once the alerts are durable.
    pub fn step(&mut self, store: &dyn Store, members: &dyn Members) -> Result<StepOutcome, Error> {
        self.reload_constituencies(store)?;
        // Every type is read, and the cursor moves to the last entry read: the cursor never
        // passes an entry the query did not see (a head read apart from the query could be
        // newer than the query's view of the log).
        let query =
            Query { after: self.cursor, limit: self.settings.batch.max(1), ..Query::default() };
        let page = store.query(Reader::Operator, &query)?;
        let mut outcome = StepOutcome::default();
        let mut hits = Vec::new();
        for entry in &page.entries {
            outcome.entries += 1;
            let wanted = [TYPE_INDICATOR, TYPE_HOST_EVENT, TYPE_SIGHTING];
            if entry.kind == EntryKind::Tombstone || !wanted.contains(&entry.object_type.as_str()) {
                continue;
            }
            match self.hits(store, entry, members) {
                Ok(found) => hits.extend(found),
                Err(reason) => {
                    outcome.unreadable += 1;
                    tracing_warn(entry, &reason);
                }
            }
        }
        (outcome.raised, outcome.updated, outcome.inhibited) = self.raise(store, hits)?;
        let cursor = match page.next {
            Some(next) => next,
            None => page.entries.last().map_or(self.cursor, |entry| entry.seq),
        };
        if cursor != self.cursor {
            self.cursor = cursor;
            let document = serde_json::json!({ "seq": cursor }).to_string();
            store.directory_put(STATE_KIND, CURSOR_KEY, &document, Put::Replace)?;
        }
        outcome.cursor = self.cursor;
        outcome.more = page.next.is_some();
        if !outcome.more && self.lookback_pending() > 0 {
            let (read, raised, updated, inhibited) = self.look_back(store, members)?;
            outcome.looked_back = read;
            outcome.raised += raised;
            outcome.updated += updated;
            outcome.inhibited += inhibited;
            outcome.more = self.lookback_pending() > 0;
        }
        Ok(outcome)
    }

    // Drops the hits an inhibition mutes (counting them), merges the others into alerts and
    // appends those; returns the alerts raised, updated and the hits muted.
    fn raise(&mut self, store: &dyn Store, mut hits: Vec<Hit>) -> Result<(u64, u64, u64), Error> {
        let now = watchfire_store::now_micros();
        let before = hits.len();
        let loaded = self.inhibitions.clone();
        hits.retain(|hit| {
            !self.inhibitions.mutes(hit.organisation, &hit.observable, hit.category, now)
        });
        let inhibited = (before - hits.len()) as u64;
        if inhibited > 0 {
            self.inhibitions.save_counts(store, &loaded)?;
        }
        let (facts, raised, updated) = self.alerts(store, hits)?;
        if !facts.is_empty() {
            store.append(&facts)?;
        }
        Ok((raised, updated, inhibited))
    }

    /// Returns how many look-backs (one per batch of newly approved claims) are still owed.
    pub fn lookback_pending(&self) -> usize {
        self.lookback.as_ref().map_or(0, |lookback| lookback.jobs.len())
    }

    // Reads one page of the oldest look-back and raises the alerts of its claims; returns the
    // entries read and the alerts raised, updated and muted.
    fn look_back(
        &mut self,
        store: &dyn Store,
        members: &dyn Members,
    ) -> Result<(u64, u64, u64, u64), Error> {
        let Some(job) = self.lookback.as_ref().and_then(|lookback| lookback.jobs.first()).cloned()
        else {
            return Ok((0, 0, 0, 0));
        };
        let query = Query {
            after: job.after,
            limit: self.settings.batch.max(1),
            types: vec![TYPE_INDICATOR.to_owned(), TYPE_HOST_EVENT.to_owned()],
            latest_only: true,
            ..Query::default()
        };
        let page = store.query(Reader::Operator, &query)?;
        let now = watchfire_store::now_micros();
        let reported_from = now.saturating_sub(micros(self.settings.expire_after));
        let mut hits = Vec::new();
        let mut read = 0;
        for entry in page.entries.iter().filter(|entry| entry.seq <= job.until) {
            read += 1;
            if entry.kind == EntryKind::Tombstone || !still_current(entry, now, reported_from) {
                continue;
            }
            match self.hits(store, entry, members) {
                Ok(found) => {
                    hits.extend(found.into_iter().filter(|hit| job.owes(hit)).map(|mut hit| {
                        // News to the organisation now, whenever the source said it.
                        hit.added_micros = now;
                        hit
                    }));
                }
                Err(reason) => tracing_warn(entry, &reason),
            }
        }
        let (raised, updated, inhibited) = self.raise(store, hits)?;
        // The job moves on only once its alerts are durable.
        let last = page.entries.last().map_or(job.until, |entry| entry.seq);
        let done = page.next.is_none() || last >= job.until;
        if let Some(lookback) = self.lookback.as_mut() {
            if done {
                lookback.jobs.remove(0);
            } else if let Some(first) = lookback.jobs.first_mut() {
                first.after = page.next.unwrap_or(last);
            }
            lookback.save(store)?;
        }
        Ok((read, raised, updated, inhibited))
    }

    /// Steps until the engine has read the whole log; returns the sum of the steps.
    pub fn catch_up(
        &mut self,
        store: &dyn Store,
        members: &dyn Members,
    ) -> Result<StepOutcome, Error> {
        let mut total = StepOutcome::default();
        loop {
            let step = self.step(store, members)?;
            total.entries += step.entries;
            total.raised += step.raised;
            total.updated += step.updated;
            total.inhibited += step.inhibited;
            total.unreadable += step.unreadable;
            total.looked_back += step.looked_back;
            total.cursor = step.cursor;
            if !step.more {
                return Ok(total);
            }
        }
    }

    /// Expires the open alerts nothing repeated for [`Settings::expire_after`] as of `now_micros`;
    /// returns how many.
    pub fn expire(&mut self, store: &dyn Store, now_micros: i64) -> Result<u64, Error> {
        let horizon = now_micros.saturating_sub(micros(self.settings.expire_after));
        let mut expired = Vec::new();
        let mut query = Query {
            limit: 1000,
            types: vec![ALERT_TYPE.to_owned()],
            latest_only: true,
            ..Query::default()
        };
        loop {
            let page = store.query(Reader::Operator, &query)?;
            for entry in &page.entries {
                let Ok(mut alert) = Alert::from_entry(entry) else { continue };
                if alert.status.is_open() && timestamp_micros(&alert.last_seen) < horizon {
                    alert.status = Status::Expired;
                    alert.status_by = Some("watchfire".to_owned());
                    alert.status_note = Some("nothing repeated it before it expired".to_owned());
                    alert.modified = self.next_modified(&alert.modified, now_micros);
                    expired.push(fact_of(&alert, &entry.audience)?);
                }
            }
            match page.next {
                Some(next) => query.after = next,
                None => break,
            }
        }
        let count = expired.len() as u64;
        for chunk in expired.chunks(1000) {
            store.append(chunk)?;
        }
        Ok(count)
    }

    /// Changes the status of the alert `id` that `reader` may see; `None` when there is no such
    /// alert (or the reader may not see it). A resolved or expired alert may be opened again.
    pub fn set_status(
        &mut self,
        store: &dyn Store,
        reader: Reader<'_>,
        id: &str,
        status: Status,
        by: &str,
        note: Option<String>,
    ) -> Result<Option<Alert>, Error> {
        let Some(entry) = store.get(reader, id, Versions::Latest)?.pop() else {
            return Ok(None);
        };
        let Ok(mut alert) = Alert::from_entry(&entry) else {
            return Ok(None);
        };
        if alert.status == status {
            return Ok(Some(alert));
        }
        alert.status = status;
        alert.status_by = Some(by.to_owned());
        alert.status_note = note;
        alert.modified = self.next_modified(&alert.modified, watchfire_store::now_micros());
        store.append(&[fact_of(&alert, &entry.audience)?])?;
        Ok(Some(alert))
    }

    /// Shares the alert `id` of `org` with the organisations `with` (added to its distribution:
    /// they see it, AMBER+STRICT, and no one beyond them); `None` when `reader` may not see it or
    /// it is not addressed to `org`. The alert's content does not change: the new version only
    /// widens its audience.
    pub fn share(
        &mut self,
        store: &dyn Store,
        reader: Reader<'_>,
        org: OrgId,
        id: &str,
        with: &[OrgId],
    ) -> Result<Option<(Alert, Audience)>, Error> {
        let Some(entry) = store.get(reader, id, Versions::Latest)?.pop() else {
            return Ok(None);
        };
        let Ok(mut alert) = Alert::from_entry(&entry) else {
            return Ok(None);
        };
        if alert.organisation != Some(org) {
            return Ok(None);
        }
        let mut audience = entry.audience.clone();
        let before = audience.organisations.len();
        for other in with {
            if *other != org && !audience.organisations.contains(other) {
                audience.organisations.push(*other);
            }
        }
        if audience.organisations.len() == before {
            return Ok(Some((alert, audience)));
        }
        audience.organisations.sort();
        alert.shared_with.clone_from(&audience.organisations);
        alert.modified = self.next_modified(&alert.modified, watchfire_store::now_micros());
        store.append(&[fact_of(&alert, &audience)?])?;
        Ok(Some((alert, audience)))
    }

    // Reloads the constituency index and the inhibitions when the directory changed.
    fn reload_constituencies(&mut self, store: &dyn Store) -> Result<(), Error> {
        let documents = store.directory_list(crate::DIRECTORY_KIND)?;
        let digest = documents.iter().fold(0u64, |acc, (key, doc)| {
            acc.rotate_left(7) ^ xxh3_64(key.as_bytes()) ^ xxh3_64(doc.as_bytes())
        });
        if digest != self.claims_digest || self.claims_digest == 0 {
            let claims = crate::claims(store)?;
            self.index = ConstituencyIndex::new(&claims);
            self.claims_digest = digest;
            let lookback = match self.lookback.take() {
                Some(lookback) => lookback,
                None => Lookback::load(store, &claims)?,
            };
            self.lookback = Some(lookback.update(store, &claims, self.cursor)?);
        }
        self.inhibitions = Inhibitions::load(store)?;
        self.source_reliability = store
            .directory_list(SOURCE_KIND)?
            .iter()
            .filter_map(|(_, document)| {
                let source: SourceView = serde_json::from_str(document).ok()?;
                Some((source.name, source.reliability?.score()?))
            })
            .collect();
        Ok(())
    }

    // Reads the sightings of the outbreak window up to the cursor (the later ones come in steps).
    fn reload_sightings(&mut self, store: &dyn Store) -> Result<(), Error> {
        let from =
            watchfire_store::now_micros().saturating_sub(micros(self.settings.outbreak_window));
        let mut query = Query {
            limit: 1000,
            types: vec![TYPE_SIGHTING.to_owned()],
            added_from: Some(from),
            ..Query::default()
        };
        loop {
            let page = store.query(Reader::Operator, &query)?;
            for entry in page.entries.iter().filter(|entry| entry.seq <= self.cursor) {
                if let (Some(owner), Ok(StixObject::Sighting(sighting))) =
                    (entry.audience.owner, entry.object())
                {
                    self.sightings
                        .entry(sighting.sighting_of_ref.as_str().to_owned())
                        .or_default()
                        .push((owner, entry.added_micros));
                }
            }
            match page.next {
                Some(next) if page.entries.last().is_some_and(|entry| entry.seq < self.cursor) => {
                    query.after = next;
                }
                _ => return Ok(()),
            }
        }
    }

    // The matches of one entry.
    fn hits(
        &mut self,
        store: &dyn Store,
        entry: &Entry,
        members: &dyn Members,
    ) -> Result<Vec<Hit>, String> {
        let mut hits = match entry.object_type.as_str() {
            TYPE_INDICATOR => self.indicator_hits(store, entry)?,
            TYPE_HOST_EVENT => self.event_hits(entry)?,
            TYPE_SIGHTING => self.sighting_hits(store, entry)?,
            _ => Vec::new(),
        };
        // Only evidence the organisation may see raises its alert.
        hits.retain(|hit| match hit.organisation {
            Some(org) => {
                members.principal(org).is_some_and(|principal| may_see(&principal, &entry.audience))
            }
            None => true,
        });
        Ok(hits)
    }

    // The settings' value for a source, else its configured letter's, else the default.
    fn reliability(&self, source: &str) -> u8 {
        self.settings
            .reliability
            .get(source)
            .or_else(|| self.source_reliability.get(source))
            .copied()
            .unwrap_or(self.settings.default_reliability)
    }

    fn indicator_hits(&self, store: &dyn Store, entry: &Entry) -> Result<Vec<Hit>, String> {
        let Ok(StixObject::Indicator(indicator)) = entry.object() else {
            return Err("not a readable indicator".to_owned());
        };
        // A listing that had expired when it arrived (an old feed file) warns nobody.
        let expired = indicator
            .valid_until
            .as_ref()
            .is_some_and(|until| timestamp_micros(until) <= entry.added_micros);
        if indicator.pattern_type != "stix" || expired {
            return Ok(Vec::new());
        }
        let Ok(observables) =
            Pattern::parse(&indicator.pattern).map(|pattern| pattern.observables())
        else {
            return Ok(Vec::new());
        };
        let observables = observables.unwrap_or_default();
        let mut hits = Vec::new();
        for observable in observables {
            let owners = self.owners_of_observable(&observable);
            if owners.is_empty() {
                continue;
            }
            // The category and confidence the store extracted for this indicator's claim.
            let claim = store
                .claims(Reader::Operator, &observable)
                .map_err(|error| error.to_string())?
                .into_iter()
                .find(|claim| claim.indicator == entry.id);
            let category =
                claim.as_ref().and_then(|claim| claim.category).unwrap_or(Category::Malicious);
            let confidence =
                claim.as_ref().and_then(|claim| claim.confidence).or(indicator.confidence);
            let evidence = Evidence {
                source: entry.source.clone(),
                object: entry.id.clone(),
                seq: entry.seq,
                time: micros_timestamp(entry.version_micros.max(1)),
                category: Some(category),
                confidence,
                detail: indicator.name.clone().unwrap_or_default(),
            };
            for (matched, orgs) in owners {
                for org in orgs {
                    hits.push(Hit {
                        organisation: Some(org),
                        direction: Direction::Hosted,
                        category,
                        observable: observable.clone(),
                        matched: Some(matched.clone()),
                        event_type: None,
                        port: None,
                        confidence,
                        reliability: self.reliability(&entry.source),
                        evidence: evidence.clone(),
                        added_micros: entry.added_micros,
                        audience: None,
                    });
                }
            }
        }
        Ok(hits)
    }

    fn event_hits(&self, entry: &Entry) -> Result<Vec<Hit>, String> {
        let event: HostEventView =
            serde_json::from_str(&entry.body).map_err(|error| format!("host event: {error}"))?;
        let Some((matched, orgs)) = self.owners_of_host(&event) else {
            return Ok(Vec::new());
        };
        let category = event
            .category
            .as_deref()
            .and_then(|name| name.parse().ok())
            .unwrap_or(Category::Malicious);
        let observable =
            Observable::parse(&event.ip.to_string()).map_err(|error| error.to_string())?;
        let mut detail = event.event_type.clone();
        if let Some(malware) = &event.malware {
            detail = format!("{detail}: {malware}");
        }
        let evidence = Evidence {
            source: entry.source.clone(),
            object: entry.id.clone(),
            seq: entry.seq,
            time: event.modified.clone(),
            category: Some(category),
            confidence: None,
            detail,
        };
        Ok(orgs
            .into_iter()
            .map(|org| Hit {
                organisation: Some(org),
                direction: Direction::Reported,
                category,
                observable: observable.clone(),
                matched: Some(matched.clone()),
                event_type: Some(event.event_type.clone()),
                port: event.port,
                confidence: None,
                reliability: self.reliability(&entry.source),
                evidence: evidence.clone(),
                added_micros: entry.added_micros,
                audience: None,
            })
            .collect())
    }

    fn sighting_hits(&mut self, store: &dyn Store, entry: &Entry) -> Result<Vec<Hit>, String> {
        let Ok(StixObject::Sighting(sighting)) = entry.object() else {
            return Err("not a readable sighting".to_owned());
        };
        let target = sighting.sighting_of_ref.as_str().to_owned();
        let Some(indicator_entry) = store
            .get(Reader::Operator, &target, Versions::Latest)
            .map_err(|error| error.to_string())?
            .pop()
        else {
            return Ok(Vec::new());
        };
        if indicator_entry.object_type != TYPE_INDICATOR {
            return Ok(Vec::new());
        }
        // The hosting organisations get the sighting as evidence, without who sighted it.
        let mut hits: Vec<Hit> = self
            .indicator_hits(store, &indicator_entry)?
            .into_iter()
            .map(|mut hit| {
                hit.evidence = Evidence {
                    source: "sightings".to_owned(),
                    object: entry.id.clone(),
                    seq: entry.seq,
                    time: micros_timestamp(entry.added_micros),
                    category: Some(hit.category),
                    confidence: None,
                    detail: format!(
                        "sighted {} time(s) by a member organisation",
                        sighting.count.unwrap_or(1)
                    ),
                };
                hit.added_micros = entry.added_micros;
                hit
            })
            .collect();
        // Outbreak: K distinct organisations within T.
        let Some(owner) = entry.audience.owner else {
            return Ok(hits);
        };
        let from = entry.added_micros.saturating_sub(micros(self.settings.outbreak_window));
        let seen = self.sightings.entry(target).or_default();
        seen.retain(|(_, when)| *when >= from);
        seen.push((owner, entry.added_micros));
        let orgs: BTreeSet<OrgId> = seen.iter().map(|(org, _)| *org).collect();
        if orgs.len() >= self.settings.outbreak_orgs.max(1) {
            let Ok(StixObject::Indicator(indicator)) = indicator_entry.object() else {
                return Ok(hits);
            };
            let observables = Pattern::parse(&indicator.pattern)
                .ok()
                .and_then(|pattern| pattern.observables().ok())
                .unwrap_or_default();
            for observable in observables {
                let category = store
                    .claims(Reader::Operator, &observable)
                    .map_err(|error| error.to_string())?
                    .into_iter()
                    .find(|claim| claim.indicator == indicator_entry.id)
                    .and_then(|claim| claim.category)
                    .unwrap_or(Category::Malicious);
                hits.push(Hit {
                    organisation: None,
                    direction: Direction::Outbreak,
                    category,
                    observable,
                    matched: None,
                    event_type: None,
                    port: None,
                    confidence: indicator.confidence,
                    reliability: self.settings.default_reliability,
                    evidence: Evidence {
                        source: "sightings".to_owned(),
                        object: indicator_entry.id.clone(),
                        seq: entry.seq,
                        time: micros_timestamp(entry.added_micros),
                        category: Some(category),
                        confidence: None,
                        detail: format!(
                            "sighted by {} organisations within the outbreak window",
                            orgs.len()
                        ),
                    },
                    added_micros: entry.added_micros,
                    audience: Some(indicator_entry.audience.clone()),
                });
            }
        }
        Ok(hits)
    }

    // The claims an observable of an indicator lies in, with their owners.
    fn owners_of_observable(&self, observable: &Observable) -> Vec<(Matched, Vec<OrgId>)> {
        let mut found = Vec::new();
        let network = |target: Target| Matched { kind: ClaimKind::Cidr, value: target.to_string() };
        match observable.kind() {
            ObservableKind::Ipv4 | ObservableKind::Ipv6 => {
                if let Some(address) = observable.ip() {
                    found.extend(self.owners_of_address(address));
                }
            }
            ObservableKind::Cidr => {
                if let Some((address, prefix_len)) = observable.network() {
                    for (target, orgs) in self.index.networks_touching(address, prefix_len) {
                        found.push((network(target), orgs.to_vec()));
                    }
                }
            }
            ObservableKind::Domain => found.extend(self.owners_of_name(observable.value())),
            ObservableKind::Url => {
                if let Some(host) = url_host(observable.value()) {
                    match host.parse::<IpAddr>() {
                        Ok(address) => found.extend(self.owners_of_address(address)),
                        Err(_) => found.extend(self.owners_of_name(host)),
                    }
                }
            }
            ObservableKind::Email => {
                if let Some((_, domain)) = observable.value().rsplit_once('@') {
                    found.extend(self.owners_of_name(domain));
                }
            }
            ObservableKind::Asn => {
                if let Some(number) = observable.asn() {
                    let orgs = self.index.owners_of_asn(number);
                    if !orgs.is_empty() {
                        let matched =
                            Matched { kind: ClaimKind::Asn, value: format!("AS{number}") };
                        found.push((matched, orgs.to_vec()));
                    }
                }
            }
            _ => {}
        }
        found
    }

    // The most specific claim of an address: its network, else its AS, else its country.
    fn owners_of_address(&self, address: IpAddr) -> Option<(Matched, Vec<OrgId>)> {
        if let Some((target, orgs)) = self.index.network_of(address) {
            return Some((
                Matched { kind: ClaimKind::Cidr, value: target.to_string() },
                orgs.to_vec(),
            ));
        }
        let locator = self.locator.as_ref()?;
        self.owners_of_as_or_country(locator.asn(address), locator.country(address))
    }

    fn owners_of_name(&self, name: &str) -> Option<(Matched, Vec<OrgId>)> {
        let (suffix, orgs) = self.index.domain_of(name)?;
        Some((Matched { kind: ClaimKind::Domain, value: suffix.to_owned() }, orgs.to_vec()))
    }

    fn owners_of_as_or_country(
        &self,
        asn: Option<u32>,
        country: Option<String>,
    ) -> Option<(Matched, Vec<OrgId>)> {
        if let Some(number) = asn {
            let orgs = self.index.owners_of_asn(number);
            if !orgs.is_empty() {
                return Some((
                    Matched { kind: ClaimKind::Asn, value: format!("AS{number}") },
                    orgs.to_vec(),
                ));
            }
        }
        let code = country?.to_ascii_uppercase();
        let orgs = self.index.owners_of_country(&code);
        (!orgs.is_empty())
            .then(|| (Matched { kind: ClaimKind::Country, value: code }, orgs.to_vec()))
    }

    // The most specific claim of a reported host: its network, its name's domain, its AS (the
    // report's, else the MaxMind file's), its country.
    fn owners_of_host(&self, event: &HostEventView) -> Option<(Matched, Vec<OrgId>)> {
        if let Some((target, orgs)) = self.index.network_of(event.ip) {
            return Some((
                Matched { kind: ClaimKind::Cidr, value: target.to_string() },
                orgs.to_vec(),
            ));
        }
        if let Some(found) = event
            .hostname
            .as_deref()
            .and_then(|name| Observable::parse_as(ObservableKind::Domain, name).ok())
            .and_then(|domain| self.owners_of_name(domain.value()))
        {
            return Some(found);
        }
        let asn = event.asn.or_else(|| self.locator.as_ref()?.asn(event.ip));
        let country = event.country.clone().or_else(|| self.locator.as_ref()?.country(event.ip));
        self.owners_of_as_or_country(asn, country)
    }

    // Groups hits into alerts (one per dedup key and window), merges each into its stored
    // version, and returns the facts to append with the counts of raised and updated alerts.
    fn alerts(
        &mut self,
        store: &dyn Store,
        hits: Vec<Hit>,
    ) -> Result<(Vec<Fact>, u64, u64), Error> {
        let window = micros(self.settings.window).max(1);
        let outbreak_window = micros(self.settings.outbreak_window).max(1);
        let mut groups: BTreeMap<(String, i64), Vec<Hit>> = BTreeMap::new();
        for hit in hits {
            let key =
                Alert::dedup_key(hit.organisation, hit.direction, &hit.observable, hit.category);
            let width = if hit.direction == Direction::Outbreak { outbreak_window } else { window };
            let start = hit.added_micros.div_euclid(width) * width;
            groups.entry((key, start)).or_default().push(hit);
        }
        let now = watchfire_store::now_micros();
        let (mut facts, mut raised, mut updated) = (Vec::new(), 0, 0);
        for ((key, start), hits) in groups {
            let width =
                if hits[0].direction == Direction::Outbreak { outbreak_window } else { window };
            let window_start = micros_timestamp(start);
            let id = Alert::derive_id(&key, &window_start);
            let stored = store.get(Reader::Operator, &id, Versions::Latest)?.pop();
            let existing = stored.as_ref().and_then(|entry| Alert::from_entry(entry).ok());
            let is_new = existing.is_none();
            let Some(alert) = self.merge(existing, &hits, start, width, now) else {
                continue;
            };
            // A later version keeps the audience of the stored one (an organisation may have
            // shared its alert).
            let audience = match &stored {
                Some(entry) => entry.audience.clone(),
                None => alert.audience(hits[0].audience.as_ref()),
            };
            facts.push(fact_of(&alert, &audience)?);
            if is_new {
                raised += 1;
            } else {
                updated += 1;
            }
        }
        Ok((facts, raised, updated))
    }

    // Counts `hits` into the alert (a new one when `existing` is none); `None` when every hit
    // was counted before.
    fn merge(
        &mut self,
        existing: Option<Alert>,
        hits: &[Hit],
        start: i64,
        width: i64,
        now: i64,
    ) -> Option<Alert> {
        let first = &hits[0];
        let was_new = existing.is_none();
        let mut alert = existing.unwrap_or_else(|| {
            let window = (micros_timestamp(start), micros_timestamp(start.saturating_add(width)));
            let mut alert = Alert::new(
                first.organisation,
                first.direction,
                first.category,
                first.observable.clone(),
                window,
                micros_timestamp(now),
            );
            alert.matched.clone_from(&first.matched);
            alert.event_type.clone_from(&first.event_type);
            alert.port = first.port;
            alert.first_seen = micros_timestamp(first.added_micros);
            alert.last_seen = micros_timestamp(first.added_micros);
            alert
        });
        let mut counted = false;
        let mut best_reliability = 0;
        for hit in hits {
            best_reliability = best_reliability.max(hit.reliability);
            if hit.evidence.seq <= alert.through_seq {
                continue;
            }
            counted = true;
            alert.count += 1;
            alert.through_seq = hit.evidence.seq;
            if !alert.sources.contains(&hit.evidence.source) {
                alert.sources.push(hit.evidence.source.clone());
                alert.sources.sort();
            }
            alert.confidence = alert.confidence.max(hit.confidence);
            if alert.port.is_none() {
                alert.port = hit.port;
            }
            let seen = micros_timestamp(hit.added_micros);
            if seen > alert.last_seen {
                alert.last_seen = seen;
            }
            alert.evidence.push(hit.evidence.clone());
        }
        if !counted {
            return None;
        }
        let excess = alert.evidence.len().saturating_sub(MAX_EVIDENCE);
        alert.evidence.drain(..excess);
        alert.score = score(&alert, best_reliability, self.settings.outbreak_orgs);
        alert.severity = Severity::of_score(alert.score);
        if !was_new {
            if matches!(alert.status, Status::Resolved | Status::Expired) {
                alert.status = Status::New;
                alert.status_by = Some("watchfire".to_owned());
                alert.status_note = Some(format!("reported again after it was {}", alert.status));
            }
            alert.modified = self.next_modified(&alert.modified, now);
        } else {
            self.last_modified = self.last_modified.max(now);
        }
        Some(alert)
    }

    // A `modified` after `previous` (by at least a millisecond, the stored precision) and now.
    fn next_modified(&mut self, previous: &Timestamp, now: i64) -> Timestamp {
        let after_previous = timestamp_micros(previous) + 1000;
        let micros = now.max(after_previous).max(self.last_modified);
        self.last_modified = micros;
        micros_timestamp(micros)
    }
}

/// The score of an alert, 0 to 100: the weight of its category (and direction), moved by the
/// best confidence and source reliability, plus 5 per corroborating source (up to 15); an
/// outbreak adds 5 per organisation beyond the threshold.
fn score(alert: &Alert, reliability: u8, outbreak_orgs: usize) -> u8 {
    let base: i32 = match alert.category {
        Category::BotnetC2 => 80,
        Category::MalwareDistribution => 75,
        Category::Phishing | Category::Compromised | Category::Infected => 70,
        Category::Dga | Category::Vulnerable => 60,
        Category::DdosAmplifier => 55,
        Category::Scanner | Category::Spam => 40,
        Category::TorExit | Category::Bogon => 20,
        _ => 50,
    };

    let confidence = i32::from(alert.confidence.unwrap_or(50));
    let corroboration = 5 * (alert.sources.len().saturating_sub(1).min(3) as i32);
    let outbreak = match alert.direction {
        Direction::Outbreak => {
            let orgs = alert.evidence.len().min(10) as i32;
            10 + 5 * (orgs - outbreak_orgs as i32).clamp(0, 4)
        }
        _ => 0,
    };
    let value =
        base + (confidence - 50) / 5 + (i32::from(reliability) - 60) / 5 + corroboration + outbreak;
    // Clamped into 0..=100, so the cast cannot truncate.
    value.clamp(0, 100) as u8
}

fn fact_of(alert: &Alert, audience: &Audience) -> Result<Fact, Error> {
    let object = alert.to_object().map_err(|error| Error::Alert(error.to_string()))?;
    Ok(Fact::object(ALERT_SOURCE, audience.clone(), object))
}

#[derive(Serialize, Deserialize)]
struct CursorDoc {
    seq: Seq,
}

/// The approved claims the engine has taken in, and the look-backs they still owe (the directory
/// document `warn_state/lookback`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Lookback {
    /// Ids of the approved claims taken in.
    known: BTreeSet<String>,
    /// Look-backs still owed, oldest first.
    jobs: Vec<LookbackJob>,
}

/// One look-back: the log up to `until` read again for `claims`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct LookbackJob {
    /// The claims it matches, by owner.
    claims: Vec<(OrgId, Matched)>,
    /// Read up to here.
    after: Seq,
    /// The engine's cursor when the claims were seen: later entries get the claims in steps.
    until: Seq,
}

impl LookbackJob {
    fn owes(&self, hit: &Hit) -> bool {
        let (Some(org), Some(matched)) = (hit.organisation, &hit.matched) else { return false };
        self.claims.iter().any(|(owner, claim)| *owner == org && claim == matched)
    }
}

impl Lookback {
    // The stored document; without one (a new node, or one from before look-backs), the claims
    // approved now count as taken in.
    fn load(store: &dyn Store, claims: &[crate::Claim]) -> Result<Lookback, Error> {
        match store.directory_get(STATE_KIND, LOOKBACK_KEY)? {
            Some(document) => serde_json::from_str(&document).map_err(|error| Error::Damaged {
                kind: STATE_KIND,
                key: LOOKBACK_KEY.to_owned(),
                reason: error.to_string(),
            }),
            None => Ok(Lookback {
                known: approved(claims).map(|claim| claim.id.clone()).collect(),
                jobs: Vec::new(),
            }),
        }
    }

    // Queues a look-back for the claims approved since the last update, up to `cursor`, and
    // forgets withdrawn ones (a claim approved again later looks back again).
    fn update(
        mut self,
        store: &dyn Store,
        claims: &[crate::Claim],
        cursor: Seq,
    ) -> Result<Lookback, Error> {
        let now: BTreeSet<String> = approved(claims).map(|claim| claim.id.clone()).collect();
        let fresh: Vec<(OrgId, Matched)> = approved(claims)
            .filter(|claim| !self.known.contains(&claim.id))
            .map(|claim| (claim.org, Matched { kind: claim.kind(), value: claim.value() }))
            .collect();
        let live: BTreeSet<(OrgId, Matched)> = approved(claims)
            .map(|claim| (claim.org, Matched { kind: claim.kind(), value: claim.value() }))
            .collect();
        for job in &mut self.jobs {
            job.claims.retain(|claim| live.contains(claim));
        }
        self.jobs.retain(|job| !job.claims.is_empty());
        let changed = now != self.known || !fresh.is_empty();
        if !fresh.is_empty() && cursor > 0 {
            self.jobs.push(LookbackJob { claims: fresh, after: 0, until: cursor });
        }
        self.known = now;
        if changed {
            self.save(store)?;
        }
        Ok(self)
    }

    fn save(&self, store: &dyn Store) -> Result<(), Error> {
        let document =
            serde_json::to_string(self).map_err(|error| Error::Alert(error.to_string()))?;
        store.directory_put(STATE_KIND, LOOKBACK_KEY, &document, Put::Replace)?;
        Ok(())
    }
}

fn approved(claims: &[crate::Claim]) -> impl Iterator<Item = &crate::Claim> {
    claims.iter().filter(|claim| claim.state == crate::ClaimState::Approved)
}

// Whether an entry still says something now: an indicator not revoked and valid (no end, or an
// end after now), a host event reported after `reported_from`.
fn still_current(entry: &Entry, now: i64, reported_from: i64) -> bool {
    match entry.object() {
        Ok(StixObject::Indicator(indicator)) => {
            !indicator.revoked.unwrap_or(false)
                && indicator.valid_until.as_ref().is_none_or(|until| timestamp_micros(until) > now)
        }
        _ => entry.object_type == TYPE_HOST_EVENT && entry.added_micros >= reported_from,
    }
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

fn micros_timestamp(micros: i64) -> Timestamp {
    Timestamp::from_unix_nanos(micros.saturating_mul(1000), Precision::Millis)
}

fn timestamp_micros(timestamp: &Timestamp) -> i64 {
    i64::try_from(timestamp.unix_nanos() / 1000).unwrap_or(i64::MAX)
}

fn tracing_warn(entry: &Entry, reason: &str) {
    tracing::warn!(seq = entry.seq, id = %entry.id, source = %entry.source, %reason, "cannot match a log entry");
}
