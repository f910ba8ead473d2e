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

// The high bit of each zero byte of `word` and of no other byte (no borrow runs upwards).
fn exact_zero_bytes(word: u64) -> u64 {
    !(((word & !HIGH) + !HIGH) | word | !HIGH)
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

/// Whether `bytes` holds `needle` twice in a row: eight bytes a step, each word's `needle`s
/// marked exactly and paired with the byte after them (the last of a word with the next
/// word's first); the last, short step is the last eight bytes again, overlapping.
pub(super) fn has_pair(bytes: &[u8], needle: u8) -> bool {
    if bytes.len() < 8 {
        return bytes.windows(2).any(|two| two == [needle, needle]);
    }
    let pattern = LOW * u64::from(needle);
    let mut carry = 0;
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let found = exact_zero_bytes(word(chunk) ^ pattern);
        if found & (found << 8 | carry) != 0 {
            return true;
        }
        carry = found >> 56;
    }
    // The pair across the last whole word and the rest lies within the last eight bytes.
    !words.remainder().is_empty() && {
        let found = exact_zero_bytes(word(&bytes[bytes.len() - 8..]) ^ pattern);
        found & found << 8 != 0
    }
}

/// The indexes of every `needle` in `bytes`, in order.
pub(super) fn find_iter(bytes: &[u8], needle: u8) -> impl Iterator<Item = usize> + '_ {
    let mut from = 0;
    std::iter::from_fn(move || {
        let at = from + find(bytes.get(from..)?, needle)?;
        from = at + 1;
        Some(at)
    })
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
            let alphabet = [b'\t', b'\n', b'"', b'\\', 0, 1, 0x80, 0xff, b'a', b'\x08', b'-'];
            let bytes = crate::scan::tests::random_bytes(&mut next, length, &alphabet, 1);
            for needle in [b'\t', b'\n', b'"', b'-', 0, 0xff] {
                let plain = bytes.iter().position(|byte| *byte == needle);
                assert_eq!(find(&bytes, needle), plain, "{bytes:?} {needle}");
                let all: Vec<usize> = (0..bytes.len()).filter(|at| bytes[*at] == needle).collect();
                assert_eq!(find_iter(&bytes, needle).collect::<Vec<_>>(), all);
                let pair = bytes.windows(2).any(|two| two == [needle, needle]);
                assert_eq!(has_pair(&bytes, needle), pair, "{bytes:?} {needle}");
            }
        }
    }
}
