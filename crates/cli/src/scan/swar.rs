//! Finding a byte in short text eight bytes at a time, in plain integer arithmetic: a log's
//! values and lines are short, and setting up a vector search for each costs more than reading a
//! value in words. Past [`SHORT`] bytes the search is handed to `memchr`.

/// Bytes searched in words before `memchr` takes over.
const SHORT: usize = 64;

const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

// The high bit of each zero byte of `word`, and perhaps of bytes above a zero byte (a borrow
// runs upwards), so the lowest bit set is always the first zero byte.
fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(LOW) & !word & HIGH
}

fn word(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(bytes);
    u64::from_le_bytes(word)
}

// The index of the byte whose high bit is the lowest set in `found` (not 0).
fn first(found: u64) -> usize {
    (found.trailing_zeros() / 8) as usize
}

/// The index of the first `needle` in `bytes`.
pub(super) fn find(bytes: &[u8], needle: u8) -> Option<usize> {
    let head = &bytes[..bytes.len().min(SHORT)];
    let pattern = LOW * u64::from(needle);
    let mut words = head.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut words {
        let found = zero_bytes(word(chunk) ^ pattern);
        if found != 0 {
            return Some(at + first(found));
        }
        at += 8;
    }
    if let Some(offset) = words.remainder().iter().position(|byte| *byte == needle) {
        return Some(at + offset);
    }
    memchr::memchr(needle, &bytes[head.len()..]).map(|offset| head.len() + offset)
}

/// The index of the first `one` or `other` in `bytes`.
pub(super) fn find2(bytes: &[u8], one: u8, other: u8) -> Option<usize> {
    let head = &bytes[..bytes.len().min(SHORT)];
    let (one_pattern, other_pattern) = (LOW * u64::from(one), LOW * u64::from(other));
    let mut words = head.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut words {
        let word = word(chunk);
        let found = zero_bytes(word ^ one_pattern) | zero_bytes(word ^ other_pattern);
        if found != 0 {
            return Some(at + first(found));
        }
        at += 8;
    }
    let rest = words.remainder().iter().position(|byte| *byte == one || *byte == other);
    if let Some(offset) = rest {
        return Some(at + offset);
    }
    memchr::memchr2(one, other, &bytes[head.len()..]).map(|offset| head.len() + offset)
}

/// The indexes of every `needle` in `bytes`, in order.
pub(super) fn find_iter(bytes: &[u8], needle: u8) -> Positions<'_> {
    let mut positions = Positions { bytes, pattern: LOW * u64::from(needle), base: 0, mask: 0 };
    positions.mask = positions.matches(0);
    positions
}

/// The indexes of a byte in text, found a word at a time: one mask of the matching bytes per
/// eight bytes, then one bit per match (a field search started afresh at each tab costs more).
#[derive(Debug)]
pub(super) struct Positions<'a> {
    bytes: &'a [u8],
    pattern: u64,
    /// Where the word of `mask` starts.
    base: usize,
    /// The high bits of that word's matching bytes not returned yet.
    mask: u64,
}

impl Positions<'_> {
    // The high bits of the matching bytes of the word at `at` (past the end, none).
    fn matches(&self, at: usize) -> u64 {
        let (word, valid) = match self.bytes.get(at..at + 8) {
            Some(eight) => (word(eight), HIGH),
            None => {
                // The last bytes: the word that ends the text, shifted down (no copy through
                // memory, which a load right after would stall on), or, in text shorter than a
                // word, its bytes one by one.
                let rest = self.bytes.len().saturating_sub(at);
                let word = match self.bytes.len().checked_sub(8) {
                    Some(last) => word(&self.bytes[last..]) >> ((8 - rest) * 8),
                    None => self.bytes[at..]
                        .iter()
                        .rev()
                        .fold(0, |word, byte| word << 8 | u64::from(*byte)),
                };
                // Cannot truncate: `rest` is below eight.
                (word, HIGH & !(u64::MAX << (rest as u32 * 8)))
            }
        };
        exact_zero_bytes(word ^ self.pattern) & valid
    }
}

impl Iterator for Positions<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.base += 8;
            if self.base >= self.bytes.len() {
                return None;
            }
            self.mask = self.matches(self.base);
        }
        let at = self.base + first(self.mask);
        self.mask &= self.mask - 1;
        Some(at)
    }
}

// The high bit of each zero byte of `word`, and of no other byte.
fn exact_zero_bytes(word: u64) -> u64 {
    !(((word & !HIGH).wrapping_add(!HIGH)) | word) & HIGH
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every answer equals the plain one, at every offset and length, with the needle (and bytes
    /// just below and above it, which trip borrows) anywhere.
    #[test]
    fn the_word_search_finds_what_a_plain_search_finds() {
        let mut next = crate::scan::tests::random(0x2545_f491_4f6c_dd1d);
        for _ in 0..20_000 {
            let length = (next() % 150) as usize;
            let alphabet = [b'\t', b'\n', b'"', b'\\', 0, 1, 0x80, 0xff, b'a', b'\x08', b'\x0a'];
            let bytes: Vec<u8> = (0..length)
                .map(|_| match next() % 4 {
                    0 => alphabet[(next() % alphabet.len() as u64) as usize],
                    _ => (next() % 256) as u8,
                })
                .collect();
            for needle in [b'\t', b'\n', b'"', 0, 0xff] {
                let plain = bytes.iter().position(|byte| *byte == needle);
                assert_eq!(find(&bytes, needle), plain, "{bytes:?} {needle}");
                let all: Vec<usize> = (0..bytes.len()).filter(|at| bytes[*at] == needle).collect();
                assert_eq!(find_iter(&bytes, needle).collect::<Vec<_>>(), all);
            }
            let plain = bytes.iter().position(|byte| *byte == b'"' || *byte == b'\\');
            assert_eq!(find2(&bytes, b'"', b'\\'), plain, "{bytes:?}");
        }
    }
}
