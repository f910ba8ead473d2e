//! Text keys (domains, URLs, hashes, e-mails) in an open-addressing table: one slot is a 32-bit
//! tag of the key's hash and the key's number, 8 bytes, so a probe reads one cache line and a
//! miss rarely reads a key at all. Linear probing at a load of at most one half.
//!
//! In front of the slots sits a blocked Bloom filter (16 bits per key, two bits in one 64-bit
//! word): most text looked up is no key (a log's names, a name's parents), and the filter, an
//! eighth of the slots' size, answers most of those from the cache instead of memory.

use watchfire_model::Observable;

use crate::ClaimsRef;

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
        let filter_mask = filter.len() - 1;
        for (number, key) in keys.iter().enumerate() {
            let hash = hash(key.observable.value().as_bytes());
            filter[(hash >> 20) as usize & filter_mask] |= filter_bits(hash);
            let mut slot = hash as usize & mask;
            while slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            slots[slot] = (hash & 0xffff_ffff_0000_0000) | (number as u64 + 1);
        }
        TextTable { slots, filter, keys }
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
        let word = self.filter[(hash >> 20) as usize & (self.filter.len() - 1)];
        let bits = filter_bits(hash);
        word & bits == bits
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
        crate::prefetch(&self.filter[(hash >> 20) as usize & (self.filter.len() - 1)]);
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
            + self.keys.capacity() * size_of::<TextKey>()
            + self.keys.iter().map(|key| key.observable.value().len()).sum::<usize>()
    }

    /// Returns key `number`.
    pub(crate) fn key(&self, number: u32) -> &TextKey {
        &self.keys[number as usize]
    }
}

// The filter's two bits of a key, from hash bits the word index and the slot do not use.
fn filter_bits(hash: u64) -> u64 {
    (1 << (hash >> 58)) | (1 << ((hash >> 52) & 63))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
