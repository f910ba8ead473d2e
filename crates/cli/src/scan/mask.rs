//! Where a byte is in a block of 64, as the bits of one word: one compare of sixteen bytes at a
//! time (SSE2, which every x86-64 has; plain bytes elsewhere). A Zeek TSV chunk's lines and
//! fields are cut from these words in one pass: a tab or a newline then costs a few
//! instructions, where a search started for each field pays its set-up on every field.

/// Bytes a block.
pub(super) const BLOCK: usize = 64;

/// The index of the first `one` or `other` in `bytes`, sixteen bytes a step (the last fewer
/// than sixteen a byte at a time): a JSON string's end is mostly within the first step.
pub(super) fn find2(bytes: &[u8], one: u8, other: u8) -> Option<usize> {
    let mut at = 0;
    while let Some(part) = bytes.get(at..).and_then(<[u8]>::first_chunk::<16>) {
        let found = either_of(part, one, other);
        if found != 0 {
            // Cannot truncate: below 16.
            return Some(at + found.trailing_zeros() as usize);
        }
        at += 16;
    }
    let rest = bytes.get(at..).unwrap_or_default();
    rest.iter().position(|byte| *byte == one || *byte == other).map(|offset| at + offset)
}

/// Bit `i` is set when `part[i]` is `one` or `other`.
#[cfg(target_arch = "x86_64")]
fn either_of(part: &[u8; 16], one: u8, other: u8) -> u32 {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };
    let bytes = load_unaligned_m128i(part);
    // Cannot truncate: the same eight bits.
    let one = cmp_eq_mask_i8_m128i(bytes, set_splat_i8_m128i(one as i8));
    let other = cmp_eq_mask_i8_m128i(bytes, set_splat_i8_m128i(other as i8));
    // Cannot truncate or lose a bit: the mask of sixteen bytes is sixteen bits.
    u32::from(move_mask_i8_m128i(bitor_m128i(one, other)) as u16)
}

#[cfg(not(target_arch = "x86_64"))]
fn either_of(part: &[u8; 16], one: u8, other: u8) -> u32 {
    either_of_plain(part, one, other)
}

/// [`either_of`] a byte at a time: elsewhere than on x86-64, and in the tests as the reference.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn either_of_plain(part: &[u8; 16], one: u8, other: u8) -> u32 {
    part.iter()
        .enumerate()
        .fold(0, |found, (index, byte)| found | u32::from(*byte == one || *byte == other) << index)
}

/// Bit `i` is set when `block[i]` is `needle`.
#[cfg(target_arch = "x86_64")]
pub(super) fn of(block: &[u8; BLOCK], needle: u8) -> u64 {
    use safe_arch::{
        cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i, set_splat_i8_m128i,
    };
    // Cannot truncate: the same eight bits.
    let needle = set_splat_i8_m128i(needle as i8);
    let mut found = 0;
    for (index, part) in block.chunks_exact(16).enumerate() {
        let Ok(part) = <&[u8; 16]>::try_from(part) else { continue };
        let equal = cmp_eq_mask_i8_m128i(load_unaligned_m128i(part), needle);
        // Cannot truncate or lose a bit: the mask of sixteen bytes is sixteen bits.
        found |= u64::from(move_mask_i8_m128i(equal) as u16) << (16 * index);
    }
    found
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) fn of(block: &[u8; BLOCK], needle: u8) -> u64 {
    of_plain(block, needle)
}

/// [`of`] a byte at a time: elsewhere than on x86-64, and in the tests as the reference.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn of_plain(block: &[u8; BLOCK], needle: u8) -> u64 {
    block
        .iter()
        .enumerate()
        .fold(0, |found, (index, byte)| found | u64::from(*byte == needle) << index)
}

/// The ends of a chunk's lines (its newlines), in order, and the tabs of each line, found a
/// block at a time.
pub(super) struct Lines<'a> {
    bytes: &'a [u8],
    /// Where the block of `newlines` and `tabs_ahead` starts.
    base: usize,
    /// The block's newlines not yet given.
    newlines: u64,
    /// The block's tabs not yet given.
    tabs_ahead: u64,
    /// Where the next line starts.
    line_start: usize,
    /// The tabs of the line last given, where they are in the line: its first `max_tabs` (the
    /// header's columns need no more), and at most a block's more; `n_tabs` of the slots are
    /// filled. Slots written by index, not pushed: a push stores the length back at each tab.
    tabs: Vec<usize>,
    n_tabs: usize,
    max_tabs: usize,
}

impl<'a> Lines<'a> {
    /// The lines of `bytes`, with at least the first `max_tabs` tabs of each.
    pub(super) fn new(bytes: &'a [u8], max_tabs: usize) -> Lines<'a> {
        // No line has more tabs than the chunk has bytes (the tests ask for every tab).
        let tabs = vec![0; max_tabs.saturating_add(BLOCK).min(bytes.len() + BLOCK)];
        let (base, newlines, tabs_ahead, line_start, n_tabs) = (0, 0, 0, 0, 0);
        let mut lines =
            Lines { bytes, base, newlines, tabs_ahead, line_start, tabs, n_tabs, max_tabs };
        lines.load(0);
        lines
    }

    /// The tabs of the line last given, where they are in the line.
    pub(super) fn tabs(&self) -> &[usize] {
        &self.tabs[..self.n_tabs]
    }

    // Reads the masks of the block that starts at `base` (past the end, none): the last, short
    // block is read through a copy padded with zero bytes, neither a newline nor a tab.
    fn load(&mut self, base: usize) {
        self.base = base;
        let rest = self.bytes.get(base..).unwrap_or_default();
        let padded;
        let block = match rest.first_chunk::<BLOCK>() {
            Some(block) => block,
            None => {
                let mut copy = [0; BLOCK];
                copy[..rest.len()].copy_from_slice(rest);
                padded = copy;
                &padded
            }
        };
        self.newlines = of(block, b'\n');
        self.tabs_ahead = of(block, b'\t');
    }

    // Notes the tabs of `bits` (of the current block) as the line's.
    fn take_tabs(&mut self, mut bits: u64) {
        // The line may start inside the block: where the block starts, from the line's start,
        // may be "negative", and each tab's place is not.
        let offset = self.base.wrapping_sub(self.line_start);
        let slots = self.tabs.as_mut_slice();
        let mut n_tabs = self.n_tabs;
        while bits != 0 {
            // Never none: a line takes tabs while it has fewer than `max_tabs`, at most a
            // block's a step.
            let Some(slot) = slots.get_mut(n_tabs) else { break };
            // Cannot truncate: below 64.
            *slot = offset.wrapping_add(bits.trailing_zeros() as usize);
            n_tabs += 1;
            bits &= bits - 1;
        }
        self.n_tabs = n_tabs;
    }
}

impl Iterator for Lines<'_> {
    type Item = usize;

    // Inlined into the line loop: called out of line (as the compiler chose once the scan grew),
    // a `conn` line cost about 30 instructions more.
    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        self.n_tabs = 0;
        loop {
            if self.newlines != 0 {
                let lowest = self.newlines & self.newlines.wrapping_neg();
                let before = self.tabs_ahead & (lowest - 1);
                if self.n_tabs < self.max_tabs {
                    self.take_tabs(before);
                }
                self.tabs_ahead &= !before;
                self.newlines &= self.newlines - 1;
                // Cannot truncate: below 64.
                let end = self.base + lowest.trailing_zeros() as usize;
                self.line_start = end + 1;
                return Some(end);
            }
            // A line of a million tabs keeps no more than its header has columns, and a block's.
            if self.n_tabs < self.max_tabs {
                self.take_tabs(self.tabs_ahead);
            }
            if self.base + BLOCK >= self.bytes.len() {
                return None;
            }
            self.load(self.base + BLOCK);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::tests::random_bytes;

    /// Every line end and every tab equal the plain search's, at every length around the
    /// block's edges, with newlines and tabs (and bytes near them in value) anywhere.
    #[test]
    fn the_block_search_finds_the_lines_and_tabs_a_plain_search_finds() {
        let mut next = crate::scan::tests::random(0x9e37_79b9_7f4a_7c15);
        for round in 0..20_000 {
            let length = match round % 3 {
                0 => (next() % 300) as usize,
                1 => BLOCK * (1 + (next() % 3) as usize) + (next() % 3) as usize - 1,
                _ => (next() % 5) as usize,
            };
            let alphabet = [b'\n', b'\t', b'\x0b', b'\x08', 0, 0xff, 0x80, b'a'];
            let bytes = random_bytes(&mut next, length, &alphabet, 3);
            let mut plain = Vec::new();
            let mut start = 0;
            for end in (0..bytes.len()).filter(|at| bytes[*at] == b'\n') {
                let line_tabs: Vec<usize> =
                    (start..end).filter(|at| bytes[*at] == b'\t').map(|at| at - start).collect();
                plain.push((end, line_tabs));
                start = end + 1;
            }
            let mut lines = Lines::new(&bytes, usize::MAX);
            let mut got = Vec::new();
            while let Some(end) = lines.next() {
                got.push((end, lines.tabs().to_vec()));
            }
            assert_eq!(got, plain, "{bytes:?}");
            // With a cap, each line keeps its first tabs, and at most a block's more.
            let cap = (next() % 6) as usize;
            let mut lines = Lines::new(&bytes, cap);
            for (end, line_tabs) in &plain {
                assert_eq!(lines.next(), Some(*end));
                let kept = lines.tabs();
                assert!(kept.len() < cap + BLOCK, "{bytes:?}");
                assert_eq!(kept, &line_tabs[..kept.len()], "{bytes:?}");
                assert!(kept.len() >= cap.min(line_tabs.len()), "{bytes:?}");
            }
        }
    }

    /// The first of two bytes is where a plain search finds it, at every length and offset.
    #[test]
    fn the_wide_search_finds_the_first_of_two_bytes() {
        let mut next = crate::scan::tests::random(0x6a09_e667_f3bc_c908);
        for _ in 0..20_000 {
            let length = (next() % 80) as usize;
            let alphabet = [b'"', b'\\', b'!', b']', 0, 0xff, 0xa2, b'a'];
            let bytes = random_bytes(&mut next, length, &alphabet, 1);
            for (one, other) in [(b'"', b'\\'), (0, 0xff)] {
                let plain = bytes.iter().position(|byte| *byte == one || *byte == other);
                assert_eq!(find2(&bytes, one, other), plain, "{bytes:?}");
            }
        }
    }

    /// The masks of a block and of sixteen bytes are the plain ones (the code other machines
    /// run), for each byte value as the needle.
    #[test]
    fn a_blocks_mask_has_the_bits_of_its_needles() {
        let mut next = crate::scan::tests::random(0x2f1e_a9c3_55d0_1b47);
        for _ in 0..2_000 {
            let block: [u8; BLOCK] = std::array::from_fn(|_| (next() % 7) as u8 * 37);
            for needle in (0..=u8::MAX).step_by(37) {
                let plain = (0..BLOCK)
                    .filter(|at| block[*at] == needle)
                    .fold(0u64, |bits, at| bits | 1 << at);
                assert_eq!(of(&block, needle), plain);
                assert_eq!(of_plain(&block, needle), plain);
                let part = block.first_chunk::<16>().unwrap();
                let other = needle.wrapping_add(37);
                assert_eq!(either_of(part, needle, other), either_of_plain(part, needle, other));
            }
        }
    }
}
