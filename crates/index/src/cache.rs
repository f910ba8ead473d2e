//! The snapshot on disk: a command run again on an unchanged store loads its match index from a
//! cache file instead of building it (reading every claim, parsing its value, deriving ids and
//! laying out the tables). [`open_cached`] loads the file when its [`CacheKey`] matches the store
//! and otherwise builds the snapshot and writes the file again.
//!
//! The key: the log's head (sequence number and the time its entry was added, which tells two
//! stores at the same position apart), the store's scores version (scores are refreshed in place,
//! without a log entry: [`Store::scores_version`]) and the watchfire build that wrote the file (the
//! public suffix list, the access policy and the indicator id derivation that a snapshot bakes in
//! are code). Known-benign values are log entries, so the head covers them.
//!
//! Format, every integer little-endian: a 64-byte header, then the body.
//!
//! | offset | field |
//! | --- | --- |
//! | 0 | magic `WFINDEX\0` |
//! | 8 | format version ([`FORMAT_VERSION`], u32), then 4 zero bytes |
//! | 16 | key: sequence number (u64), head added (i64, microseconds), scores version (u64), build (u64) |
//! | 48 | body length (u64) |
//! | 56 | XXH3-64 of the body (u64) |
//!
//! The body is the snapshot's tables in a fixed order (see [`Snapshot::write_body`]), each array
//! as its length (u64) and its elements; a list of strings is its length, the byte length of each
//! (u32) and their UTF-8 bytes (u64 length first). Loading checks the checksum, then every length
//! against the body and every reference (claim ids, list offsets, source and audience numbers,
//! network ids, slot key numbers) against its table, and parses every text key again, so a file
//! that loads gives a snapshot whose lookups cannot panic.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::UNIX_EPOCH;

use watchfire_model::record::Category;
use watchfire_store::{Query, Reader, Seq, Store};

use crate::int_hash::IntBuild;
use crate::{BuildError, ClaimsRef, CompactClaim, Snapshot, build};

/// The version of the file format; it changes whenever the layout of the file or of the tables
/// it holds does.
pub const FORMAT_VERSION: u32 = 1;

const MAGIC: [u8; 8] = *b"WFINDEX\0";
const HEADER_LEN: usize = 64;

/// What a cache file must match to stand for the store: a snapshot built when the store's head,
/// its scores version and the running build were these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheKey {
    /// The log's last sequence number.
    pub seq: Seq,
    /// When the log's last entry was added (microseconds since the epoch; 0 for an empty log).
    pub head_added_micros: i64,
    /// The store's [`Store::scores_version`].
    pub scores_version: u64,
    /// The watchfire build that wrote the file (a hash of its executable's size and time).
    pub build: u64,
}

/// A cache file that cannot be read or written, and why.
#[derive(Debug, thiserror::Error)]
#[error("index cache {}: {kind}", path.display())]
pub struct CacheError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub kind: CacheErrorKind,
}

/// Why a cache file cannot be used or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheErrorKind {
    /// Reading or writing failed (a missing file is [`io::ErrorKind::NotFound`]).
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The file is no index cache.
    #[error("not a watchfire index cache")]
    Foreign,
    /// Another build of watchfire wrote the file in another format.
    #[error("format version {found}, this watchfire reads {supported}")]
    Version {
        /// The file's version.
        found: u32,
        /// [`FORMAT_VERSION`].
        supported: u32,
    },
    /// The file holds the snapshot of another state of the store (or of another build).
    #[error("written for another state of the store")]
    Stale,
    /// The file ends before its header says.
    #[error("truncated: {found} of {expected} bytes")]
    Truncated {
        /// The bytes the header announces (header included).
        expected: u64,
        /// The bytes there are.
        found: u64,
    },
    /// The body does not match its checksum.
    #[error("checksum mismatch: the file is damaged")]
    Checksum,
    /// The body passes its checksum but does not hold a valid snapshot.
    #[error("invalid: {0}")]
    Invalid(String),
}

impl CacheErrorKind {
    /// Tells whether the file is simply not there or not for this store and build (missing, stale,
    /// another format version): the snapshot is rebuilt without a word.
    pub fn is_expected(&self) -> bool {
        match self {
            CacheErrorKind::Io(error) => error.kind() == io::ErrorKind::NotFound,
            CacheErrorKind::Stale | CacheErrorKind::Version { .. } => true,
            _ => false,
        }
    }
}

/// What [`open_cached`] did.
#[derive(Debug, Default)]
pub struct CacheReport {
    /// Whether the snapshot was loaded from the file (else it was built from the store).
    pub loaded: bool,
    /// Why the file could not be used, when it exists for this store but is damaged (not when it
    /// is merely missing or stale): the snapshot was built instead.
    pub load_error: Option<CacheError>,
    /// Why the new file could not be written: the snapshot is still good.
    pub save_error: Option<CacheError>,
}

/// Returns the snapshot of `store`: loaded from the cache file `path` when its key matches the
/// store, else built from the store and written to `path` (atomically: a temporary file in the
/// same directory, then a rename; mode 0600 on Unix). Only the store's errors are errors: a
/// damaged file is rebuilt and a file that cannot be written is skipped, and the report says so.
pub fn open_cached(store: &dyn Store, path: &Path) -> Result<(Snapshot, CacheReport), BuildError> {
    let key = CacheKey::of(store)?;
    let mut report = CacheReport::default();
    match load_file(path, &key) {
        Ok(snapshot) => {
            report.loaded = true;
            return Ok((snapshot, report));
        }
        Err(error) if error.kind.is_expected() => {}
        Err(error) => report.load_error = Some(error),
    }
    // The key was read first: if the store moves while the snapshot is built, the file written
    // is keyed to the older state and the next run builds again.
    let snapshot = build(store)?;
    report.save_error = save_file(&snapshot, &key, path).err();
    Ok((snapshot, report))
}

impl CacheKey {
    /// Reads the key of `store` as it is now, for the running build.
    pub fn of(store: &dyn Store) -> Result<CacheKey, watchfire_store::Error> {
        let seq = store.last_seq()?;
        let head_added_micros = match seq {
            0 => 0,
            _ => {
                let query = Query { after: seq - 1, limit: 1, ..Query::default() };
                let page = store.query(Reader::Operator, &query)?;
                page.entries.first().map_or(0, |entry| entry.added_micros)
            }
        };
        let scores_version = store.scores_version()?;
        Ok(CacheKey { seq, head_added_micros, scores_version, build: build_id() })
    }
}

// The running executable's size and modification time, hashed: a rebuilt watchfire never reads
// the files of the one before. 0 when the executable cannot be found.
fn build_id() -> u64 {
    let Some(metadata) = std::env::current_exe().and_then(fs::metadata).ok() else {
        return 0;
    };
    let modified = metadata
        .modified()
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_nanos());
    let mut bytes = [0u8; 24];
    bytes[..8].copy_from_slice(&metadata.len().to_le_bytes());
    bytes[8..].copy_from_slice(&modified.to_le_bytes());
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

fn load_file(path: &Path, key: &CacheKey) -> Result<Snapshot, CacheError> {
    let error = |kind| CacheError { path: path.to_owned(), kind };
    let mut file = File::open(path).map_err(|io| error(CacheErrorKind::Io(io)))?;
    Snapshot::load(&mut file, key).map_err(error)
}

fn save_file(snapshot: &Snapshot, key: &CacheKey, path: &Path) -> Result<(), CacheError> {
    let error = |io| CacheError { path: path.to_owned(), kind: CacheErrorKind::Io(io) };
    let name = path.file_name().map_or_else(|| "index".into(), |name| name.to_string_lossy());
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&temporary).map_err(error)?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    let written = snapshot
        .save(key, &mut writer)
        .and_then(|()| writer.flush())
        .and_then(|()| fs::rename(&temporary, path));
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written.map_err(error)
}

impl Snapshot {
    /// Writes the snapshot, keyed by `key`, in the cache format (see the module docs).
    pub fn save(&self, key: &CacheKey, writer: &mut impl Write) -> io::Result<()> {
        let mut body = Output::default();
        self.write_body(&mut body);
        let mut header = Output::default();
        header.bytes.extend_from_slice(&MAGIC);
        header.number(FORMAT_VERSION);
        header.number(0u32);
        header.number(key.seq);
        header.number(key.head_added_micros);
        header.number(key.scores_version);
        header.number(key.build);
        header.number(body.bytes.len() as u64);
        header.number(xxhash_rust::xxh3::xxh3_64(&body.bytes));
        debug_assert_eq!(header.bytes.len(), HEADER_LEN);
        writer.write_all(&header.bytes)?;
        writer.write_all(&body.bytes)
    }

    /// Reads a snapshot written by [`Snapshot::save`] with the key `key`; its position in the log
    /// is `key.seq`. A file of another format version or key is refused before its body is read.
    pub fn load(reader: &mut impl Read, key: &CacheKey) -> Result<Snapshot, CacheErrorKind> {
        let mut header = Vec::with_capacity(HEADER_LEN);
        reader.by_ref().take(HEADER_LEN as u64).read_to_end(&mut header)?;
        let (found, body_len, checksum) = parse_header(&header)?;
        if found != *key {
            return Err(CacheErrorKind::Stale);
        }
        let mut body = Vec::new();
        let reserved =
            usize::try_from(body_len).is_ok_and(|len| body.try_reserve_exact(len).is_ok());
        if !reserved {
            return Err(invalid(format!("a body of {body_len} bytes")));
        }
        reader.by_ref().take(body_len).read_to_end(&mut body)?;
        if (body.len() as u64) < body_len {
            return Err(CacheErrorKind::Truncated {
                expected: HEADER_LEN as u64 + body_len,
                found: (HEADER_LEN + body.len()) as u64,
            });
        }
        if reader.read(&mut [0u8; 1])? != 0 {
            return Err(invalid("bytes after the body".to_owned()));
        }
        if xxhash_rust::xxh3::xxh3_64(&body) != checksum {
            return Err(CacheErrorKind::Checksum);
        }
        let mut input = Input::new(&body);
        let snapshot = Snapshot::read_body(&mut input, key.seq)?;
        input.finish()?;
        Ok(snapshot)
    }

    // The body: strings first (sources, audiences, category names), then the claims as columns,
    // the kept indicator ids, the shared lists, and the tables of each key kind.
    fn write_body(&self, out: &mut Output) {
        out.strings(self.sources.iter().map(|source| &**source));
        let audiences: Vec<String> = self
            .audiences
            .iter()
            // Cannot fail: an audience is ids, enums and a TLP.
            .map(|audience| serde_json::to_string(audience).expect("an audience serialises"))
            .collect();
        out.strings(audiences.iter().map(String::as_str));
        out.strings(Category::ALL.iter().map(|category| category.as_str()));
        let claims = &self.claims;
        out.array(claims.iter().map(|claim| claim.valid_until_micros));
        out.array(claims.iter().map(|claim| claim.source));
        out.array(claims.iter().map(|claim| claim.audience));
        out.array(claims.iter().map(|claim| claim.score));
        out.array(claims.iter().map(|claim| claim.confidence.unwrap_or(0)));
        out.array(claims.iter().map(|claim| {
            // 0 for none, else 1 + the position in `Category::ALL`.
            claim
                .category
                .and_then(|category| Category::ALL.iter().position(|known| *known == category))
                .map_or(0, |position| position as u8 + 1)
        }));
        out.array(
            claims.iter().map(|claim| {
                u8::from(claim.derived_id) | (u8::from(claim.confidence.is_some()) << 1)
            }),
        );
        let mut indicators: Vec<(u32, &str)> =
            self.indicators.iter().map(|(id, indicator)| (*id, &**indicator)).collect();
        indicators.sort_unstable();
        out.array(indicators.iter().map(|(id, _)| *id));
        out.strings(indicators.iter().map(|(_, indicator)| *indicator));
        out.array(self.lists.iter().copied());
        self.v4.write(out);
        let mut v6: Vec<(u128, ClaimsRef)> =
            self.v6.iter().map(|(bits, claims)| (*bits, *claims)).collect();
        v6.sort_unstable_by_key(|(bits, _)| *bits);
        write_pairs(out, &v6);
        out.number(self.v6_networks.len() as u64);
        for (len, networks) in &self.v6_networks {
            out.number(*len);
            let mut networks: Vec<(u128, ClaimsRef)> =
                networks.iter().map(|(bits, claims)| (*bits, *claims)).collect();
            networks.sort_unstable_by_key(|(bits, _)| *bits);
            write_pairs(out, &networks);
        }
        let mut asns: Vec<(u32, ClaimsRef)> =
            self.asns.iter().map(|(number, claims)| (*number, *claims)).collect();
        asns.sort_unstable_by_key(|(number, _)| *number);
        write_pairs(out, &asns);
        self.texts.write(out);
    }

    fn read_body(input: &mut Input<'_>, seq: Seq) -> Result<Snapshot, CacheErrorKind> {
        let sources: Vec<Box<str>> = input.strings("sources")?.into_iter().map(Box::from).collect();
        let mut audiences = Vec::new();
        for (number, text) in input.strings("audiences")?.into_iter().enumerate() {
            let audience = serde_json::from_str(text)
                .map_err(|error| invalid(format!("audience {number}: {error}")))?;
            audiences.push(audience);
        }
        let mut categories = Vec::new();
        for name in input.strings("categories")? {
            let category = Category::from_str(name)
                .map_err(|_| invalid(format!("unknown category {name:?}")))?;
            categories.push(category);
        }
        let claims = read_claims(input, sources.len(), audiences.len(), &categories)?;
        let n_claims = claims.len();
        let indicator_ids: Vec<u32> = input.array("indicator ids")?;
        let indicator_texts = input.strings("indicators")?;
        if indicator_texts.len() != indicator_ids.len() {
            return Err(invalid("indicator ids and texts differ in number".to_owned()));
        }
        let mut indicators = std::collections::HashMap::with_capacity_and_hasher(
            indicator_ids.len(),
            IntBuild::default(),
        );
        for (id, text) in indicator_ids.into_iter().zip(indicator_texts) {
            if id as usize >= n_claims {
                return Err(invalid(format!("indicator of claim {id}, of {n_claims}")));
            }
            indicators.insert(id, Box::from(text));
        }
        let lists: Vec<u32> = input.array("lists")?;
        let refs = Refs::new(&lists, n_claims)?;
        let v4 = crate::v4::V4Table::read(input, &refs)?;
        let v6 = read_pairs(input, &refs, "ipv6 addresses")?.into_iter().collect();
        let n_lengths: u64 = input.number("ipv6 network lengths")?;
        let mut v6_networks = Vec::new();
        for _ in 0..n_lengths {
            let len: u8 = input.number("ipv6 network length")?;
            if len > 128 {
                return Err(invalid(format!("an ipv6 network of length {len}")));
            }
            let networks = read_pairs(input, &refs, "ipv6 networks")?;
            v6_networks.push((len, networks.into_iter().collect()));
        }
        v6_networks.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
        let asns = read_pairs(input, &refs, "asns")?.into_iter().collect();
        let texts = crate::text::TextTable::read(input, &refs)?;
        Ok(Snapshot {
            seq,
            claims,
            indicators,
            audiences,
            sources,
            lists,
            v4,
            v6,
            v6_networks,
            asns,
            texts,
        })
    }
}

// The key, body length and checksum of a header, once its magic and format version are ours.
fn parse_header(header: &[u8]) -> Result<(CacheKey, u64, u64), CacheErrorKind> {
    let is_ours =
        header.get(..MAGIC.len()).map_or(MAGIC.starts_with(header), |magic| magic == MAGIC);
    if !is_ours {
        return Err(CacheErrorKind::Foreign);
    }
    if header.len() < HEADER_LEN {
        let found = header.len() as u64;
        return Err(CacheErrorKind::Truncated { expected: HEADER_LEN as u64, found });
    }
    let mut fields = Input::new(&header[MAGIC.len()..]);
    let version: u32 = fields.number("format version")?;
    if version != FORMAT_VERSION {
        return Err(CacheErrorKind::Version { found: version, supported: FORMAT_VERSION });
    }
    let padding: u32 = fields.number("header")?;
    if padding != 0 {
        return Err(CacheErrorKind::Foreign);
    }
    let key = CacheKey {
        seq: fields.number("header")?,
        head_added_micros: fields.number("header")?,
        scores_version: fields.number("header")?,
        build: fields.number("header")?,
    };
    Ok((key, fields.number("header")?, fields.number("header")?))
}

// The claims' columns, each source and audience number checked against its table.
fn read_claims(
    input: &mut Input<'_>,
    n_sources: usize,
    n_audiences: usize,
    categories: &[Category],
) -> Result<Vec<CompactClaim>, CacheErrorKind> {
    let valid_until = input.values::<i64>("claim validity")?;
    let n_claims = valid_until.len();
    if n_claims > ClaimsRef::MAX as usize + 1 {
        return Err(invalid(format!("{n_claims} claims, more than a snapshot numbers")));
    }
    let claim_sources = input.values_of_len::<u32>(n_claims, "claim sources")?;
    let claim_audiences = input.values_of_len::<u32>(n_claims, "claim audiences")?;
    let scores = input.values_of_len::<u8>(n_claims, "claim scores")?;
    let confidences = input.values_of_len::<u8>(n_claims, "claim confidences")?;
    let claim_categories = input.values_of_len::<u8>(n_claims, "claim categories")?;
    let flags = input.values_of_len::<u8>(n_claims, "claim flags")?;
    let mut claims = Vec::with_capacity(n_claims);
    // Each column is read once, a claim at a time, straight from the body.
    let columns = valid_until
        .zip(claim_sources)
        .zip(claim_audiences)
        .zip(scores)
        .zip(confidences)
        .zip(claim_categories)
        .zip(flags);
    for (id, ((((((valid_until, source), audience), score), confidence), category), flags)) in
        columns.enumerate()
    {
        if source as usize >= n_sources || audience as usize >= n_audiences {
            return Err(invalid(format!("claim {id}: source or audience out of range")));
        }
        let category = match category {
            0 => None,
            code => match categories.get(usize::from(code) - 1) {
                Some(category) => Some(*category),
                None => return Err(invalid(format!("claim {id}: category {code}"))),
            },
        };
        claims.push(CompactClaim {
            valid_until_micros: valid_until,
            source,
            audience,
            score,
            confidence: (flags & 2 != 0).then_some(confidence),
            category,
            derived_id: flags & 1 != 0,
        });
    }
    Ok(claims)
}

fn write_pairs<K: Le>(out: &mut Output, pairs: &[(K, ClaimsRef)]) {
    out.array(pairs.iter().map(|(key, _)| *key));
    out.array(pairs.iter().map(|(_, claims)| claims.0));
}

fn read_pairs<K: Le>(
    input: &mut Input<'_>,
    refs: &Refs,
    what: &'static str,
) -> Result<Vec<(K, ClaimsRef)>, CacheErrorKind> {
    let keys = input.values::<K>(what)?;
    let claims = input.values_of_len::<u32>(keys.len(), what)?;
    let mut pairs = Vec::with_capacity(keys.len());
    for (key, claims) in keys.zip(claims) {
        pairs.push((key, refs.check(claims, what)?));
    }
    Ok(pairs)
}

pub(crate) fn invalid(reason: String) -> CacheErrorKind {
    CacheErrorKind::Invalid(reason)
}

/// The claim references a loaded body may hold: a claim id below the number of claims, or the
/// offset of a list in the shared list (one of the positions where a list starts, found by walking
/// them once, each list's ids checked then).
pub(crate) struct Refs {
    n_claims: usize,
    /// One bit per position of the shared list: a list starts there.
    starts: Vec<u64>,
}

impl Refs {
    pub(crate) fn new(lists: &[u32], n_claims: usize) -> Result<Refs, CacheErrorKind> {
        let mut starts = vec![0u64; lists.len().div_ceil(64)];
        let mut at = 0;
        while at < lists.len() {
            let len = lists[at] as usize;
            let ids = lists.get(at + 1..at + 1 + len).ok_or_else(|| {
                invalid(format!("the list at {at} runs past the end of the lists"))
            })?;
            if ids.iter().any(|id| *id as usize >= n_claims) {
                return Err(invalid(format!("the list at {at} names a claim out of range")));
            }
            starts[at / 64] |= 1 << (at % 64);
            at += 1 + len;
        }
        Ok(Refs { n_claims, starts })
    }

    /// Returns `raw` as a [`ClaimsRef`] if it names a claim or a list start.
    pub(crate) fn check(&self, raw: u32, what: &str) -> Result<ClaimsRef, CacheErrorKind> {
        let value = (raw & ClaimsRef::MAX) as usize;
        let is_valid = match raw & ClaimsRef::LIST {
            0 => value < self.n_claims,
            _ => self.starts.get(value / 64).is_some_and(|word| word & (1 << (value % 64)) != 0),
        };
        match is_valid {
            true => Ok(ClaimsRef(raw)),
            false => Err(invalid(format!("{what}: claims {raw:#x} out of range"))),
        }
    }
}

/// A fixed-size number in little-endian bytes.
pub(crate) trait Le: Copy {
    const SIZE: usize;
    fn put(self, out: &mut Vec<u8>);
    /// Reads the number from exactly [`Le::SIZE`] bytes.
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! le {
    ($($number:ty),*) => {
        $(
            impl Le for $number {
                const SIZE: usize = size_of::<$number>();

                fn put(self, out: &mut Vec<u8>) {
                    out.extend_from_slice(&self.to_le_bytes());
                }

                fn get(bytes: &[u8]) -> $number {
                    let mut array = [0u8; size_of::<$number>()];
                    // Cannot panic: callers pass `chunks_exact(SIZE)` chunks.
                    array.copy_from_slice(bytes);
                    <$number>::from_le_bytes(array)
                }
            }
        )*
    };
}

le!(u8, u16, u32, u64, i64, u128);

/// The bytes of a file being written.
#[derive(Default)]
pub(crate) struct Output {
    bytes: Vec<u8>,
}

impl Output {
    /// Returns the bytes written.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn number<T: Le>(&mut self, value: T) {
        value.put(&mut self.bytes);
    }

    /// Writes the length, then the values.
    pub(crate) fn array<T: Le>(&mut self, values: impl ExactSizeIterator<Item = T>) {
        self.number(values.len() as u64);
        self.bytes.reserve(values.len() * T::SIZE);
        for value in values {
            value.put(&mut self.bytes);
        }
    }

    /// Writes the number of strings, each one's byte length, then their bytes.
    pub(crate) fn strings<'a>(&mut self, values: impl Iterator<Item = &'a str> + Clone) {
        let lengths: Vec<u32> = values
            .clone()
            // Cannot truncate: no key, source or id of a snapshot comes near 4 GiB.
            .map(|value| u32::try_from(value.len()).expect("a string under 4 GiB"))
            .collect();
        self.array(lengths.iter().copied());
        self.number(lengths.iter().map(|len| u64::from(*len)).sum::<u64>());
        for value in values {
            self.bytes.extend_from_slice(value.as_bytes());
        }
    }
}

/// The bytes of a body being read, from the front.
pub(crate) struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Input<'a> {
        Input { bytes }
    }

    fn take(&mut self, len: u64, what: &str) -> Result<&'a [u8], CacheErrorKind> {
        match usize::try_from(len).ok().filter(|len| *len <= self.bytes.len()) {
            Some(len) => {
                let (taken, rest) = self.bytes.split_at(len);
                self.bytes = rest;
                Ok(taken)
            }
            None => Err(invalid(format!("{what}: {len} bytes run past the end"))),
        }
    }

    pub(crate) fn number<T: Le>(&mut self, what: &str) -> Result<T, CacheErrorKind> {
        Ok(T::get(self.take(T::SIZE as u64, what)?))
    }

    /// Reads a length and that many values.
    pub(crate) fn array<T: Le>(&mut self, what: &str) -> Result<Vec<T>, CacheErrorKind> {
        Ok(self.values(what)?.collect())
    }

    /// Reads an array that must hold `len` values.
    pub(crate) fn array_of_len<T: Le>(
        &mut self,
        len: usize,
        what: &str,
    ) -> Result<Vec<T>, CacheErrorKind> {
        Ok(self.values_of_len(len, what)?.collect())
    }

    /// Reads a length and that many values, read from the body as they are taken (no copy of
    /// the column is kept: a caller that turns columns into rows reads each once).
    pub(crate) fn values<T: Le>(
        &mut self,
        what: &str,
    ) -> Result<impl ExactSizeIterator<Item = T> + use<'a, T>, CacheErrorKind> {
        let len: u64 = self.number(what)?;
        let n_bytes = len.saturating_mul(T::SIZE as u64);
        let bytes = self.take(n_bytes, what)?;
        Ok(bytes.chunks_exact(T::SIZE).map(T::get))
    }

    /// Reads values that must number `len`.
    pub(crate) fn values_of_len<T: Le>(
        &mut self,
        len: usize,
        what: &str,
    ) -> Result<impl ExactSizeIterator<Item = T> + use<'a, T>, CacheErrorKind> {
        let values = self.values(what)?;
        match values.len() == len {
            true => Ok(values),
            false => Err(invalid(format!("{what}: {} values, expected {len}", values.len()))),
        }
    }

    /// Reads strings written by [`Output::strings`].
    pub(crate) fn strings(&mut self, what: &str) -> Result<Vec<&'a str>, CacheErrorKind> {
        let lengths: Vec<u32> = self.array(what)?;
        let n_bytes: u64 = self.number(what)?;
        let bytes = self.take(n_bytes, what)?;
        let text = std::str::from_utf8(bytes)
            .map_err(|error| invalid(format!("{what}: not UTF-8: {error}")))?;
        let mut strings = Vec::with_capacity(lengths.len());
        let mut start = 0usize;
        for len in lengths {
            let end = start.saturating_add(len as usize);
            let value = text
                .get(start..end)
                .ok_or_else(|| invalid(format!("{what}: a string at byte {start} out of range")))?;
            strings.push(value);
            start = end;
        }
        match start == text.len() {
            true => Ok(strings),
            false => Err(invalid(format!("{what}: lengths do not add up"))),
        }
    }

    fn finish(&self) -> Result<(), CacheErrorKind> {
        match self.bytes.is_empty() {
            true => Ok(()),
            false => Err(invalid(format!("{} bytes after the last table", self.bytes.len()))),
        }
    }
}
