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

// A word whose byte is 0 where `word`'s is an ASCII digit and not 0 elsewhere. A byte is a digit
// when its high nibble is 3 and its low one below 10 (plus 6, below 16); no carry crosses a
// byte: a nibble plus 6 is below 0x20.
fn off_digits(word: u64) -> u64 {
    const HIGH_NIBBLES: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    ((word & HIGH_NIBBLES) ^ (LOW * 0x30)) | (((word & !HIGH_NIBBLES) + LOW * 6) & (LOW * 0x10))
}

/// Whether the eight bytes of `bytes` fit `pattern`, where a `9` stands for any ASCII digit and
/// any other byte for itself: a timestamp's fixed places in one step of word arithmetic.
#[inline(always)]
pub(super) fn fits(bytes: &[u8; 8], pattern: &[u8; 8]) -> bool {
    let word = u64::from_le_bytes(*bytes);
    let (mut digits, mut literal) = (0u64, 0u64);
    for (index, byte) in pattern.iter().enumerate() {
        if *byte == b'9' {
            digits |= 0xff << (8 * index);
        } else {
            literal |= u64::from(*byte) << (8 * index);
        }
    }
    off_digits(word) & digits == 0 && (word ^ literal) & !digits == 0
}

/// How many ASCII digits `bytes` starts with, eight bytes a step: a JSON number's digits (a
/// flow id has sixteen).
pub(super) fn leading_digits(bytes: &[u8]) -> usize {
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let not_digits = !exact_zero_bytes(off_digits(word(chunk))) & HIGH;
        if not_digits != 0 {
            return at + first(not_digits);
        }
        at += 8;
    }
    at + bytes[at..].iter().take_while(|byte| byte.is_ascii_digit()).count()
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

    /// The digits counted are the plain count, with bytes next to the digits in value (and the
    /// same with the high bit set, or the other nibble changed) anywhere.
    #[test]
    fn the_word_count_of_digits_is_the_plain_count() {
        let mut next = crate::scan::tests::random(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let length = (next() % 40) as usize;
            let alphabet =
                [b'0', b'5', b'9', b'/', b':', b'?', b'@', 0xb0, 0xb9, 0x20, 0x29, 0x3f, b'.'];
            // Mostly digits, so that long runs cross words.
            let bytes: Vec<u8> = (0..length)
                .map(|_| match next() % 4 {
                    0 => alphabet[(next() % alphabet.len() as u64) as usize],
                    _ => b'0' + (next() % 10) as u8,
                })
                .collect();
            let plain = bytes.iter().take_while(|byte| byte.is_ascii_digit()).count();
            assert_eq!(leading_digits(&bytes), plain, "{bytes:?}");
        }
        for byte in 0..=u8::MAX {
            let bytes = [b'1', b'2', b'3', byte, b'4', b'5', b'6', b'7', b'8'];
            let plain = 3 + usize::from(byte.is_ascii_digit()) * 6;
            assert_eq!(leading_digits(&bytes), plain, "{byte}");
        }
    }
}
