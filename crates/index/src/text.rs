//! Text keys (domains, URLs, hashes, e-mails) in an open-addressing table: one slot is a 32-bit
//! tag of the key's hash and the key's number, 8 bytes, so a probe reads one cache line and a
//! miss rarely reads a key at all. Linear probing at a load of at most one half.
//!
//! In front of the slots sits a blocked Bloom filter (16 bits per key, two bits in one 64-bit
//! word): most text looked up is no key (a log's names, a name's parents), and the filter, an
//! eighth of the slots' size, answers most of those from the cache instead of memory.
//!
//! A second, smaller filter of the same kind holds the hosts of the URL keys: a scanner asks it
//! before it looks up a request's URL. A log's requests go to hosts no listed URL has, and this
//! filter (16 bits per URL key, so small enough to stay in a core's cache) answers those without
//! the URL being hashed and the large filter read. It is built from the keys, on load as well,
//! so the cache file does not hold it.

use watchfire_model::{Observable, ObservableKind};

use crate::ClaimsRef;
use crate::cache::{CacheErrorKind, Input, Output, Refs, invalid};

/// One text key: its observable and claims.
#[derive(Clone, Debug)]
pub(crate) struct TextKey {
    pub(crate) observable: Observable,
    pub(crate) claims: ClaimsRef,
    /// A listed domain that is itself a public suffix: it matches only itself, never its
    /// subdomains (an indicator on `co.uk` must not match every British name).
    pub(crate) is_suffix: bool,
}

/// The table.
#[derive(Debug)]
pub(crate) struct TextTable {
    /// `tag << 32 | (key number + 1)`; 0 is an empty slot. The length is a power of two.
    slots: Vec<u64>,
    /// The Bloom filter's words; the length is a power of two.
    filter: Vec<u64>,
    /// The filter of the URL keys' hosts (see the module docs); the length is a power of two.
    url_hosts: Vec<u64>,
    keys: Vec<TextKey>,
}

impl Default for TextTable {
    fn default() -> TextTable {
        TextTable::new(Vec::new())
    }
}

/// Hashes a text key (XXH3, one shot).
pub(crate) fn hash(text: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text)
}

impl TextTable {
    /// Builds the table from distinct keys.
    pub(crate) fn new(keys: Vec<TextKey>) -> TextTable {
        let n_slots = (keys.len() * 2).next_power_of_two().max(16);
        let mut slots = vec![0u64; n_slots];
        let mask = n_slots - 1;
        let mut filter = vec![0u64; (keys.len() / 4).next_power_of_two()];
        for (number, key) in keys.iter().enumerate() {
            let hash = hash(key.observable.value().as_bytes());
            filter_add(&mut filter, hash);
            let mut slot = hash as usize & mask;
            while slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            slots[slot] = (hash & 0xffff_ffff_0000_0000) | (number as u64 + 1);
        }
        let url_hosts = url_host_filter(&keys);
        TextTable { slots, filter, url_hosts, keys }
    }

    /// Returns the number of the key `text`, whose hash is `hash`.
    pub(crate) fn find(&self, text: &[u8], hash: u64) -> Option<u32> {
        if !self.admits(hash) {
            return None;
        }
        self.probe(hash, |number| self.keys[number as usize].observable.value().as_bytes() == text)
    }

    // Whether the filter lets `hash` through.
    fn admits(&self, hash: u64) -> bool {
        filter_admits(&self.filter, hash)
    }

    /// Whether a URL key may have the host `host` (as [`Observable::host`] gives it): false for
    /// certain, true maybe.
    pub(crate) fn may_hold_url_host(&self, host: &[u8]) -> bool {
        filter_admits(&self.url_hosts, hash(host))
    }

    // The first key of `hash`'s run whose tag matches and which `accept` takes.
    fn probe(&self, hash: u64, accept: impl Fn(u32) -> bool) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let tag = hash & 0xffff_ffff_0000_0000;
        let mut slot = hash as usize & mask;
        loop {
            let entry = self.slots[slot];
            if entry == 0 {
                return None;
            }
            if entry & 0xffff_ffff_0000_0000 == tag {
                let number = (entry as u32) - 1;
                if accept(number) {
                    return Some(number);
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Prefetches the filter word of `hash` (the first load [`TextTable::find`] makes).
    pub(crate) fn prefetch_filter(&self, hash: u64) {
        crate::prefetch(&self.filter[filter_word(self.filter.len(), hash)]);
    }

    /// Whether the filter lets `hash` through; if so, prefetches its first slot.
    pub(crate) fn passes(&self, hash: u64) -> bool {
        let passes = self.admits(hash);
        if passes {
            crate::prefetch(&self.slots[hash as usize & (self.slots.len() - 1)]);
        }
        passes
    }

    /// The key number of the first slot of `hash`'s run whose tag matches, prefetching its key;
    /// `None` when the run ends first. The key's text must still be compared.
    pub(crate) fn first_tagged(&self, hash: u64) -> Option<u32> {
        self.probe(hash, |number| {
            crate::prefetch(&self.keys[number as usize]);
            true
        })
    }

    /// Prefetches the text of key `number`.
    pub(crate) fn prefetch_text(&self, number: u32) {
        let text = self.keys[number as usize].observable.value().as_bytes();
        if let Some(first) = text.first() {
            crate::prefetch(first);
        }
    }

    /// Returns the bytes of the slots, filter and keys, strings included.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * 8
            + self.filter.capacity() * 8
            + self.url_hosts.capacity() * 8
            + self.keys.capacity() * size_of::<TextKey>()
            + self.keys.iter().map(|key| key.observable.value().len()).sum::<usize>()
    }

    /// Returns key `number`.
    pub(crate) fn key(&self, number: u32) -> &TextKey {
        &self.keys[number as usize]
    }

    /// Writes the table for the cache file, in the order [`TextTable::read`] reads them.
    pub(crate) fn write(&self, out: &mut Output) {
        out.array(self.slots.iter().copied());
        out.array(self.filter.iter().copied());
        out.strings(ObservableKind::ALL.iter().map(|kind| kind.as_str()));
        let keys = &self.keys;
        out.array(keys.iter().map(|key| {
            let kind = key.observable.kind();
            // Cannot fail: `ALL` holds every kind.
            ObservableKind::ALL.iter().position(|known| *known == kind).expect("a known kind") as u8
        }));
        out.strings(keys.iter().map(|key| key.observable.value()));
        out.array(keys.iter().map(|key| key.claims.0));
        out.array(keys.iter().map(|key| u8::from(key.is_suffix)));
    }

    /// Reads the table [`TextTable::write`] wrote, checking what a probe relies on: both tables
    /// are powers of two long, a slot is empty or names a key, and one slot at least is empty (so
    /// every probe ends). Each key is parsed again, so it holds canonical text.
    pub(crate) fn read(input: &mut Input<'_>, refs: &Refs) -> Result<TextTable, CacheErrorKind> {
        let slots: Vec<u64> = input.array("text slots")?;
        let filter: Vec<u64> = input.array("text filter")?;
        let mut kinds = Vec::new();
        for name in input.strings("observable kinds")? {
            let kind: ObservableKind =
                name.parse().map_err(|_| invalid(format!("unknown observable kind {name:?}")))?;
            kinds.push(kind);
        }
        let kind_codes: Vec<u8> = input.array("text key kinds")?;
        let n_keys = kind_codes.len();
        let values = input.strings("text keys")?;
        let claims: Vec<u32> = input.array_of_len(n_keys, "text key claims")?;
        let is_suffix: Vec<u8> = input.array_of_len(n_keys, "text key flags")?;
        if values.len() != n_keys {
            return Err(invalid("text keys and kinds differ in number".to_owned()));
        }
        if !slots.len().is_power_of_two() || !filter.len().is_power_of_two() {
            return Err(invalid("text: a table not a power of two long".to_owned()));
        }
        let mut n_full = 0;
        for slot in &slots {
            let number = (*slot as u32) as usize;
            if *slot != 0 && (number == 0 || number > n_keys) {
                return Err(invalid(format!("text: a slot names key {number} of {n_keys}")));
            }
            n_full += usize::from(*slot != 0);
        }
        if n_full == slots.len() {
            return Err(invalid("text: no empty slot".to_owned()));
        }
        let mut keys = Vec::with_capacity(n_keys);
        for (number, value) in values.into_iter().enumerate() {
            let kind = kinds
                .get(usize::from(kind_codes[number]))
                .copied()
                .ok_or_else(|| invalid(format!("text key {number}: unknown kind")))?;
            let observable = Observable::parse_as(kind, value)
                .ok()
                .filter(|observable| observable.kind() == kind && observable.value() == value)
                .ok_or_else(|| invalid(format!("text key {number}: not a canonical {kind}")))?;
            let claims = refs.check(claims[number], "text keys")?;
            keys.push(TextKey { observable, claims, is_suffix: is_suffix[number] != 0 });
        }
        let url_hosts = url_host_filter(&keys);
        Ok(TextTable { slots, filter, url_hosts, keys })
    }
}

// The filter's two bits of a key, from hash bits the word index and the slot do not use.
fn filter_bits(hash: u64) -> u64 {
    (1 << (hash >> 58)) | (1 << ((hash >> 52) & 63))
}

// The word of `hash` in a filter (a power of two words long).
fn filter_word(filter_len: usize, hash: u64) -> usize {
    // Cannot truncate past the mask: the word index is masked below the length.
    (hash >> 20) as usize & (filter_len - 1)
}

// Sets the two bits of `hash` in its word of `filter`.
fn filter_add(filter: &mut [u64], hash: u64) {
    let word = filter_word(filter.len(), hash);
    filter[word] |= filter_bits(hash);
}

// Whether the filter `filter` lets `hash` through: both its bits are set in its word.
fn filter_admits(filter: &[u64], hash: u64) -> bool {
    let bits = filter_bits(hash);
    filter[filter_word(filter.len(), hash)] & bits == bits
}

// The filter of the URL keys' hosts, 16 bits a key (at least one word). A host is the model's
// (without port or user): a URL with a port lets its host through, a superset, never a miss.
fn url_host_filter(keys: &[TextKey]) -> Vec<u64> {
    let hosts = || {
        keys.iter()
            .filter(|key| key.observable.kind() == ObservableKind::Url)
            .filter_map(|key| key.observable.host())
    };
    let mut filter = vec![0u64; (hosts().count() / 4).next_power_of_two()];
    for host in hosts() {
        filter_add(&mut filter, hash(host.as_bytes()));
    }
    filter
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{Input, Output, Refs};

    #[test]
    fn every_key_is_found_and_others_are_not() {
        let keys: Vec<TextKey> = (0..5000)
            .map(|n| TextKey {
                observable: Observable::parse(&format!("d{n}.example")).unwrap(),
                claims: ClaimsRef::single(n),
                is_suffix: false,
            })
            .collect();
        let table = TextTable::new(keys);
        for n in 0..5000u32 {
            let name = format!("d{n}.example");
            let number = table.find(name.as_bytes(), hash(name.as_bytes()));
            assert_eq!(number.map(|number| table.key(number).claims), Some(ClaimsRef::single(n)));
            let other = format!("e{n}.example");
            assert_eq!(table.find(other.as_bytes(), hash(other.as_bytes())), None);
        }
        let empty = TextTable::new(Vec::new());
        assert_eq!(empty.find(b"x.example", hash(b"x.example")), None);
    }

    /// A read refuses slots naming no key and a table without an empty slot (a probe for a
    /// missing key would never end); the table as built passes.
    #[test]
    fn a_read_refuses_slots_a_probe_could_not_follow() {
        let table = || {
            let keys = ["a.example", "b.example", "c.example"]
                .iter()
                .enumerate()
                .map(|(n, name)| TextKey {
                    observable: Observable::parse(name).unwrap(),
                    claims: ClaimsRef::single(n as u32),
                    is_suffix: false,
                })
                .collect();
            TextTable::new(keys)
        };
        let reread = |table: &TextTable| {
            let mut out = Output::default();
            table.write(&mut out);
            TextTable::read(&mut Input::new(out.bytes()), &Refs::new(&[], 3)?)
        };
        let read = reread(&table()).unwrap();
        assert_eq!(read.find(b"b.example", hash(b"b.example")), Some(1));
        let mut full = table();
        full.slots.fill(1);
        assert!(reread(&full).is_err(), "no empty slot");
        let mut dangling = table();
        let slot = dangling.slots.iter().position(|slot| *slot == 0).unwrap();
        dangling.slots[slot] = 4;
        assert!(reread(&dangling).is_err(), "a slot naming no key");
        let mut zero = table();
        zero.slots[slot] = 1 << 32;
        assert!(reread(&zero).is_err(), "a slot with a tag and no key");
        let mut odd = table();
        odd.slots.pop();
        assert!(reread(&odd).is_err(), "a table not a power of two long");
        let mut claims = table();
        claims.keys[0].claims = ClaimsRef::single(3);
        assert!(reread(&claims).is_err(), "a claim out of range");
    }
}
