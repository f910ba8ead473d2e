//! A hasher for integer keys (IPv4 and IPv6 addresses, ASNs): one multiply and a rotate, as the
//! keys are already well spread and the maps are internal (no untrusted key can be chosen to
//! collide: keys come from the store, lookups only read).

use std::hash::{BuildHasherDefault, Hasher};

/// The `BuildHasher` of the integer-keyed maps.
pub(crate) type IntBuild = BuildHasherDefault<IntHasher>;

/// Mixes integer keys with a multiply (the constant of FxHash) and folds 128-bit keys.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct IntHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl IntHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        // The high bits carry the most mixing; hashbrown takes its control bits from the top.
        self.hash ^ (self.hash >> 29)
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    fn write_u128(&mut self, value: u128) {
        // Truncations on purpose: the low and the high half.
        self.add(value as u64);
        self.add((value >> 64) as u64);
    }
}
