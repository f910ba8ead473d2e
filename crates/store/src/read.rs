//! What both backends share on the read side: turning stored rows into entries, claims and
//! counts, with the access policy applied to every row before anything is counted or returned.
//!
//! The SQL differs between the backends only in its placeholders, so filters are built here
//! once for both dialects.

use std::collections::{BTreeMap, HashSet};

use watchfire_model::record::Category;
use watchfire_model::{Observable, ObservableKind};

use crate::rows::decode_audience;
use crate::score::score;
use crate::{
    Claim, Entry, EntryKind, Error, Page, Query, Reader, Seq, SightingCount, SourceStats, Stats,
};

/// A log row as both backends select it.
#[derive(Debug)]
pub(crate) struct RawEntry {
    pub seq: i64,
    pub added: i64,
    pub kind: i64,
    pub id: String,
    pub object_type: String,
    pub version: i64,
    pub source: String,
    pub tlp: String,
    pub audience: Option<String>,
    pub body: String,
}

/// The stored code of an entry kind.
pub(crate) fn kind_code(kind: EntryKind) -> i64 {
    match kind {
        EntryKind::Object => 0,
        EntryKind::Tombstone => 1,
    }
}

fn to_seq(value: i64) -> Seq {
    u64::try_from(value).unwrap_or(0)
}

/// Decodes the rows and keeps those the reader may see.
pub(crate) fn visible_entries(reader: Reader<'_>, raw: Vec<RawEntry>) -> Result<Vec<Entry>, Error> {
    let mut entries = Vec::with_capacity(raw.len());
    for row in raw {
        let audience = decode_audience(&row.tlp, row.audience.as_deref())?;
        if !reader.may_see(&audience) {
            continue;
        }
        let kind = match row.kind {
            0 => EntryKind::Object,
            1 => EntryKind::Tombstone,
            other => {
                return Err(Error::Corrupt(format!("entry {} has kind {other}", row.seq)));
            }
        };
        entries.push(Entry {
            seq: to_seq(row.seq),
            added_micros: row.added,
            kind,
            id: row.id,
            object_type: row.object_type,
            version_micros: row.version,
            source: row.source,
            audience,
            body: row.body,
        });
    }
    Ok(entries)
}

/// The placeholder style of a backend.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    fn placeholder(self, number: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{number}"),
            Dialect::Postgres => format!("${number}"),
        }
    }

    fn is_null_safe_equal(self) -> &'static str {
        match self {
            Dialect::Sqlite => "IS",
            Dialect::Postgres => "IS NOT DISTINCT FROM",
        }
    }
}

/// A parameter of a filter.
#[derive(Clone, Debug)]
pub(crate) enum SqlValue {
    Text(String),
    NullableText(Option<String>),
    Int(i64),
}

impl SqlValue {
    pub(crate) fn to_sqlite(&self) -> rusqlite::types::Value {
        match self {
            SqlValue::Text(text) | SqlValue::NullableText(Some(text)) => {
                rusqlite::types::Value::Text(text.clone())
            }
            SqlValue::NullableText(None) => rusqlite::types::Value::Null,
            SqlValue::Int(value) => rusqlite::types::Value::Integer(*value),
        }
    }

    pub(crate) fn to_postgres(&self) -> Box<dyn postgres::types::ToSql + Sync> {
        match self {
            SqlValue::Text(text) => Box::new(text.clone()),
            SqlValue::NullableText(text) => Box::new(text.clone()),
            SqlValue::Int(value) => Box::new(*value),
        }
    }
}

/// Builds the `AND ...` filter of a query over `log l`; its parameters are numbered from 3
/// (1 is the cursor, 2 the chunk size).
pub(crate) fn query_filter(query: &Query, dialect: Dialect) -> (String, Vec<SqlValue>) {
    let mut filter = String::new();
    let mut values = Vec::new();
    let mut any_of = |column: &str, items: Vec<SqlValue>, values: &mut Vec<SqlValue>| {
        if items.is_empty() {
            return;
        }
        let placeholders: Vec<String> = items
            .into_iter()
            .map(|item| {
                values.push(item);
                dialect.placeholder(values.len() + 2)
            })
            .collect();
        filter.push_str(&format!(" AND {column} IN ({})", placeholders.join(", ")));
    };
    any_of("l.type", query.types.iter().cloned().map(SqlValue::Text).collect(), &mut values);
    any_of("l.source", query.sources.iter().cloned().map(SqlValue::Text).collect(), &mut values);
    any_of(
        "l.tlp",
        query.tlp.iter().map(|tlp| SqlValue::Text(tlp.level_name().to_owned())).collect(),
        &mut values,
    );
    if let Some(from) = query.added_from {
        values.push(SqlValue::Int(from));
        filter.push_str(&format!(" AND l.added >= {}", dialect.placeholder(values.len() + 2)));
    }
    if let Some(before) = query.added_before {
        values.push(SqlValue::Int(before));
        filter.push_str(&format!(" AND l.added < {}", dialect.placeholder(values.len() + 2)));
    }
    (filter, values)
}

/// Reads one page of the log: see [`paginate`].
pub(crate) fn page(
    reader: Reader<'_>,
    query: &Query,
    fetch: impl FnMut(Seq, usize) -> Result<Vec<RawEntry>, Error>,
) -> Result<Page, Error> {
    let (entries, next) = paginate(
        query.limit,
        query.after,
        fetch,
        |row| to_seq(row.seq),
        |row| Ok(visible_entries(reader, vec![row])?.pop()),
    )?;
    Ok(Page { entries, next })
}

/// Reads one page of rows in cursor order: fetches chunks after the cursor with
/// `fetch(after, chunk)` until `limit` rows pass `keep` or the rows end. Rows `keep` drops
/// (invisible ones) move the cursor but are never returned or counted. Returns the kept rows and
/// the cursor of the next page, `None` at the end.
pub(crate) fn paginate<C: Copy, R, T>(
    limit: usize,
    after: C,
    mut fetch: impl FnMut(C, usize) -> Result<Vec<R>, Error>,
    position: impl Fn(&R) -> C,
    mut keep: impl FnMut(R) -> Result<Option<T>, Error>,
) -> Result<(Vec<T>, Option<C>), Error> {
    let limit = limit.max(1);
    let chunk = limit.clamp(100, 10_000);
    let mut cursor = after;
    let mut kept = Vec::new();
    loop {
        let rows = fetch(cursor, chunk)?;
        let n_fetched = rows.len();
        for row in rows {
            if kept.len() == limit {
                // A full page with more rows behind it.
                return Ok((kept, Some(cursor)));
            }
            cursor = position(&row);
            kept.extend(keep(row)?);
        }
        if n_fetched < chunk {
            return Ok((kept, None));
        }
        if kept.len() == limit {
            return Ok((kept, Some(cursor)));
        }
    }
}

/// The columns of a claims row as both backends select them, `claim` first.
pub(crate) const CLAIM_COLUMNS: &str = "claim, value, indicator, kind, source, category, confidence, tlp, audience, valid_until, last_seen, score, seq";

/// A claims row as both backends select it.
#[derive(Debug)]
pub(crate) struct ClaimFields {
    pub claim: i64,
    pub value: String,
    pub indicator: String,
    pub kind: String,
    pub source: String,
    pub category: Option<String>,
    pub confidence: Option<i64>,
    pub tlp: String,
    pub audience: Option<String>,
    pub valid_until: Option<i64>,
    pub last_seen: i64,
    pub score: i64,
    pub seq: i64,
}

/// Decodes the claims rows and keeps those the reader may see.
pub(crate) fn visible_claims(
    reader: Reader<'_>,
    rows: Vec<ClaimFields>,
) -> Result<Vec<Claim>, Error> {
    let mut claims = Vec::new();
    for row in rows {
        claims.extend(visible_claim(reader, row)?.map(|(_, claim)| claim));
    }
    Ok(claims)
}

/// Reads one page of the claims view: see [`paginate`].
pub(crate) fn claim_page(
    reader: Reader<'_>,
    after: i64,
    limit: usize,
    fetch: impl FnMut(i64, usize) -> Result<Vec<ClaimFields>, Error>,
) -> Result<crate::ClaimPage, Error> {
    let (claims, next) =
        paginate(limit, after, fetch, |row| row.claim, |row| visible_claim(reader, row))?;
    Ok(crate::ClaimPage { claims, next })
}

// A claim row as the reader may see it (with its row id), or `None` when it may not.
fn visible_claim(reader: Reader<'_>, row: ClaimFields) -> Result<Option<(i64, Claim)>, Error> {
    let audience = decode_audience(&row.tlp, row.audience.as_deref())?;
    if !reader.may_see(&audience) {
        return Ok(None);
    }
    let kind: ObservableKind =
        row.kind.parse().map_err(|_| Error::Corrupt(format!("claim kind {:?}", row.kind)))?;
    let observable = Observable::parse_as(kind, &row.value)
        .map_err(|error| Error::Corrupt(format!("claim value {:?}: {error}", row.value)))?;
    let category = match row.category {
        Some(name) => Some(
            name.parse::<Category>()
                .map_err(|error| Error::Corrupt(format!("claim category: {error}")))?,
        ),
        None => None,
    };
    Ok(Some((
        row.claim,
        Claim {
            observable,
            indicator: row.indicator,
            source: row.source,
            category,
            confidence: row.confidence.and_then(|value| u8::try_from(value).ok()),
            audience,
            valid_until_micros: row.valid_until,
            last_seen_micros: row.last_seen,
            score: u8::try_from(row.score.clamp(0, 100)).unwrap_or(0),
            seq: to_seq(row.seq),
        },
    )))
}

/// Sums the sightings rows (count, last seen, TLP, audience) the reader may see.
pub(crate) fn count_sightings(
    reader: Reader<'_>,
    rows: Vec<(i64, i64, String, Option<String>)>,
) -> Result<SightingCount, Error> {
    let mut total = SightingCount::default();
    for (count, last_seen, tlp, audience) in rows {
        if !reader.may_see(&decode_audience(&tlp, audience.as_deref())?) {
            continue;
        }
        total.sightings += 1;
        total.count = total.count.saturating_add(u64::try_from(count).unwrap_or(0));
        total.last_seen_micros = total.last_seen_micros.max(Some(last_seen));
    }
    Ok(total)
}

/// Live objects of one type, source and audience (a row of the counts view; `audience` is empty
/// for the node's own data, as keys cannot hold NULL).
#[derive(Debug)]
pub(crate) struct ObjectGroup {
    pub object_type: String,
    pub source: String,
    pub tlp: String,
    pub audience: Option<String>,
    pub count: i64,
}

/// Lists the sources with the objects the reader may see; a source with nothing visible is left out.
pub(crate) fn sources(
    reader: Reader<'_>,
    groups: &[ObjectGroup],
) -> Result<Vec<SourceStats>, Error> {
    let mut by_source: BTreeMap<&str, u64> = BTreeMap::new();
    for group in groups {
        if reader.may_see(&decode_audience(&group.tlp, group.audience.as_deref())?) {
            *by_source.entry(&group.source).or_default() += u64::try_from(group.count).unwrap_or(0);
        }
    }
    Ok(by_source
        .into_iter()
        .map(|(name, objects)| SourceStats { name: name.to_owned(), objects })
        .collect())
}

/// Claims of one observable kind and audience: (kind, TLP, audience, count).
pub(crate) type ClaimGroup = (String, String, Option<String>, i64);

/// Counts what the reader may see (all but `last_seq` and `observables`, which need the database).
pub(crate) fn stats(
    reader: Reader<'_>,
    objects: &[ObjectGroup],
    claims: &[ClaimGroup],
) -> Result<Stats, Error> {
    let mut stats = Stats::default();
    for group in objects {
        let audience = decode_audience(&group.tlp, group.audience.as_deref())?;
        if !reader.may_see(&audience) {
            continue;
        }
        let count = u64::try_from(group.count).unwrap_or(0);
        stats.objects += count;
        *stats.by_type.entry(group.object_type.clone()).or_default() += count;
        *stats.by_source.entry(group.source.clone()).or_default() += count;
        *stats.by_tlp.entry(audience.tlp.level_name().to_owned()).or_default() += count;
    }
    for (kind, tlp, audience, count) in claims {
        if !reader.may_see(&decode_audience(tlp, audience.as_deref())?) {
            continue;
        }
        let count = u64::try_from(*count).unwrap_or(0);
        stats.claims += count;
        *stats.claims_by_kind.entry(kind.clone()).or_default() += count;
    }
    Ok(stats)
}

/// Builds a condition on `tlp` and `audience` that holds exactly for the claim audiences the
/// reader may see (from the claim groups), with its parameters numbered from 1.
pub(crate) fn audience_filter(
    reader: Reader<'_>,
    claims: &[ClaimGroup],
    dialect: Dialect,
) -> Result<(String, Vec<SqlValue>), Error> {
    if matches!(reader, Reader::Operator) {
        return Ok(("TRUE".to_owned(), Vec::new()));
    }
    let mut seen = HashSet::new();
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    for (_, tlp, audience, _) in claims {
        if !seen.insert((tlp, audience)) {
            continue;
        }
        if !reader.may_see(&decode_audience(tlp, audience.as_deref())?) {
            continue;
        }
        values.push(SqlValue::Text(tlp.clone()));
        values.push(SqlValue::NullableText(audience.clone()));
        conditions.push(format!(
            "(tlp = {} AND audience {} {})",
            dialect.placeholder(values.len() - 1),
            dialect.is_null_safe_equal(),
            dialect.placeholder(values.len()),
        ));
    }
    if conditions.is_empty() {
        return Ok(("FALSE".to_owned(), values));
    }
    Ok((conditions.join(" OR "), values))
}

/// A claims row as the score refresh reads it.
#[derive(Debug)]
pub(crate) struct ScoreRow {
    pub claim: i64,
    pub kind: String,
    pub confidence: Option<i64>,
    pub last_seen: i64,
    pub valid_until: Option<i64>,
    pub score: i64,
}

/// Returns (claim, new score) of every claim whose score changes at `now`.
pub(crate) fn rescore(rows: Vec<ScoreRow>, now: i64) -> Vec<(i64, i64)> {
    rows.into_iter()
        .filter_map(|row| {
            let kind: ObservableKind = row.kind.parse().ok()?;
            let confidence = row.confidence.and_then(|value| u8::try_from(value).ok());
            let new = i64::from(score(confidence, kind, row.last_seen, row.valid_until, now));
            (new != row.score).then_some((row.claim, new))
        })
        .collect()
}
