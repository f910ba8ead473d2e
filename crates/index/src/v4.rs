//! IPv4 at memory speed: one 32-byte record per /16 block (two to a cache line) holds the
//! longest network covering it (or a chunk number, for the blocks where a network of /17 to /24
//! starts), a bitmap of its /23 blocks that hold a listed address, and where its listed
//! addresses start, so a random address costs one cache miss to learn that nothing is listed. Each network names its parent (the next shorter network covering
//! it), so a caller who may not see the longest network's claims falls back to the next one.
//!
//! A chunk describes the 256 /24 blocks of a /16 as runs of equal cells: a 256-bit map of where
//! each run starts and the runs' networks. A chunk with one network is 40 bytes plus a few run
//! cells instead of 256 cells, so the chunks of 50 000 networks fit in the cache.
//!
//! Exact addresses are sorted: per /16 block, the low 16 bits of its addresses (binary searched,
//! one or two cache lines at a million addresses) and, beside them, their claims. An address
//! costs 6 bytes, no hash slots.
//!
//! [`V4Table::find_batch`] runs the loads for a block of addresses at once, so the cache misses
//! of one address overlap those of the next. Networks longer than /24, which feeds rarely list,
//! sit in small per-length maps probed first.

use std::collections::HashMap;

use crate::cache::{CacheErrorKind, Input, Output, Refs, invalid};
use crate::int_hash::IntBuild;
use crate::{ClaimsRef, prefetch};

/// A cell value with this bit names a run (while a batch resolves it); without it, 0 is "no
/// network" and n is network n-1.
const CHUNK: u32 = 1 << 31;
pub(crate) const NO_PARENT: u32 = u32::MAX;

/// Addresses looked up together by [`V4Table::find_batch`].
pub(crate) const BATCH: usize = 64;

/// A listed IPv4 network.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Network {
    pub(crate) claims: ClaimsRef,
    pub(crate) parent: u32,
    pub(crate) bits: u32,
    pub(crate) len: u8,
}

/// What the table holds of one /16 block; aligned so that no record straddles a cache line.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(32))]
struct Block16 {
    /// The longest network covering the whole block (the cell of every /24 block not marked in
    /// `nets`).
    cell: u32,
    /// The first of the block's listed addresses in [`V4Table::exact_low`]; the next block's
    /// start ends them.
    exact_start: u32,
    /// One bit per /23 block holding a listed address.
    exact: [u64; 2],
    /// One bit per /22 block holding a /24 block whose cell differs from `cell` (a network of
    /// /17 to /24 in it): only those read the block's chunk, so an address in a /16 where some
    /// small network is listed rarely costs more than this record.
    nets: u64,
}

/// The networks of the 256 /24 blocks of one /16 block, as runs of equal cells.
#[derive(Clone, Copy, Debug, Default)]
struct Chunk {
    /// Bit i: a run starts at /24 block i (bit 0 is always set).
    starts: [u64; 4],
    /// The first run's cell in [`V4Table::runs`].
    base: u32,
}

/// The IPv4 part of a snapshot.
#[derive(Debug)]
pub(crate) struct V4Table {
    /// One record per /16 block, and one more whose `exact_start` ends the last block's range.
    level1: Vec<Block16>,
    /// The chunk of each /16 block with a `nets` bit.
    chunk_of: Vec<u32>,
    chunks: Vec<Chunk>,
    runs: Vec<u32>,
    /// The low 16 bits of each listed address, in address order.
    exact_low: Vec<u16>,
    /// The claims of each listed address, in address order.
    exact_claims: Vec<ClaimsRef>,
    networks: Vec<Network>,
    /// Networks of /25 to /31 by length, longest first: masked address → network id.
    long: Vec<(u8, HashMap<u32, u32, IntBuild>)>,
    /// A bit per /16 block whose record holds anything (8 KiB, made from `level1`): the scan's
    /// question whether a block is empty stays in the core's cache, where the 2 MiB of records
    /// do not, and a block with claims has its record read in a batch, with the loads overlapped.
    holding: Vec<u64>,
}

impl Default for V4Table {
    fn default() -> V4Table {
        V4Table::new(Vec::new(), Vec::new())
    }
}

/// What one address of a batch found: its exact entry and the longest network holding it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Probe {
    pub(crate) exact: Option<ClaimsRef>,
    /// The longest network, or [`NO_PARENT`].
    pub(crate) network: u32,
}

/// The networks while they are painted: one cell per /16, 256 per chunk, and each chunk's cell
/// before it was made (the network covering its whole /16 block).
struct Dense {
    level1: Vec<u32>,
    chunks: Vec<u32>,
    inherited: Vec<u32>,
}

impl V4Table {
    /// Builds the table from exact addresses (sorted by address, each once) and networks
    /// (masked address, length).
    pub(crate) fn new(
        exact: Vec<(u32, ClaimsRef)>,
        mut networks: Vec<(u32, u8, ClaimsRef)>,
    ) -> V4Table {
        debug_assert!(exact.windows(2).all(|pair| pair[0].0 < pair[1].0));
        let mut table = V4Table {
            level1: vec![Block16::default(); (1 << 16) + 1],
            chunk_of: vec![0; 1 << 16],
            chunks: Vec::new(),
            runs: Vec::new(),
            exact_low: Vec::with_capacity(exact.len()),
            exact_claims: Vec::with_capacity(exact.len()),
            networks: Vec::new(),
            long: Vec::new(),
            holding: Vec::new(),
        };
        let mut counts = vec![0u32; 1 << 16];
        for (address, claims) in exact {
            let block = &mut table.level1[(address >> 16) as usize];
            let slash23 = (address >> 9) & 127;
            block.exact[(slash23 >> 6) as usize] |= 1 << (slash23 & 63);
            counts[(address >> 16) as usize] += 1;
            // Truncation on purpose: the low 16 bits.
            table.exact_low.push(address as u16);
            table.exact_claims.push(claims);
        }
        let mut start = 0;
        for (block, count) in table.level1.iter_mut().zip(counts.iter().chain([&0])) {
            block.exact_start = start;
            start += count;
        }
        networks.sort_by_key(|(_, len, _)| *len);
        let mut dense =
            Dense { level1: vec![0; 1 << 16], chunks: Vec::new(), inherited: Vec::new() };
        let mut long: HashMap<u8, HashMap<u32, u32, IntBuild>> = HashMap::new();
        for (bits, len, claims) in networks {
            let id = table.networks.len() as u32;
            let parent = if len <= 24 {
                dense.paint(bits, len, id)
            } else {
                (25..len)
                    .rev()
                    .find_map(|shorter| {
                        long.get(&shorter)?.get(&crate::mask_v4(bits, shorter)).copied()
                    })
                    .unwrap_or_else(|| dense.network(bits))
            };
            table.networks.push(Network { claims, parent, bits, len });
            if len > 24 {
                long.entry(len).or_default().insert(bits, id);
            }
        }
        table.compress(&dense);
        table.long = long.into_iter().collect();
        table.long.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
        table.networks.shrink_to_fit();
        table.holding = holding(&table.level1);
        table
    }

    // Copies the painted cells: whole /16 cells as they are, chunks as runs.
    fn compress(&mut self, dense: &Dense) {
        for ((block, cell), chunk_of) in
            self.level1.iter_mut().zip(&dense.level1).zip(&mut self.chunk_of)
        {
            if cell & CHUNK == 0 {
                block.cell = *cell;
                continue;
            }
            let number = (cell & !CHUNK) as usize;
            let cells = &dense.chunks[number * 256..][..256];
            block.cell = dense.inherited[number];
            let mut chunk = Chunk { starts: [0; 4], base: self.runs.len() as u32 };
            for (index, cell) in cells.iter().enumerate() {
                if index == 0 || cells[index - 1] != *cell {
                    chunk.starts[index >> 6] |= 1 << (index & 63);
                    self.runs.push(*cell);
                }
                if *cell != block.cell {
                    block.nets |= 1 << (index >> 2);
                }
            }
            *chunk_of = self.chunks.len() as u32;
            self.chunks.push(chunk);
        }
        self.chunks.shrink_to_fit();
        self.runs.shrink_to_fit();
    }

    fn table_network(&self, address: u32) -> u32 {
        let block = &self.level1[(address >> 16) as usize];
        if !block.in_nets(address) {
            return cell_network(block.cell);
        }
        cell_network(self.runs[self.run_of(address) as usize])
    }

    // The run cell of `address`, whose /22 block is marked in its /16 block's `nets`.
    fn run_of(&self, address: u32) -> u32 {
        let chunk = &self.chunks[self.chunk_of[(address >> 16) as usize] as usize];
        chunk.base + rank256(&chunk.starts, (address >> 8) & 255) - 1
    }

    /// Whether the table may hold anything for `address`: false when its /16 record shows no
    /// listed address in its /23 block and no network holding it, which is the answer for most
    /// addresses, from one record.
    #[inline]
    pub(crate) fn may_hold(&self, address: u32) -> bool {
        let block = &self.level1[(address >> 16) as usize];
        let slash23 = (address >> 9) & 127;
        block.cell != 0
            || block.in_nets(address)
            || block.exact[(slash23 >> 6) as usize] & (1 << (slash23 & 63)) != 0
            || !self.long.is_empty()
    }

    /// Whether an address of the /16 block `high16` may be listed or inside a listed network:
    /// false when the block's record shows no network covering it, none inside it, and no listed
    /// address (and no network longer than /24 is listed anywhere).
    #[inline]
    pub(crate) fn block_may_hold(&self, high16: u16) -> bool {
        let word = self.holding.get(usize::from(high16 >> 6)).copied().unwrap_or(u64::MAX);
        word & (1 << (high16 & 63)) != 0 || !self.long.is_empty()
    }

    /// Returns the claims of the exact address, if listed.
    pub(crate) fn exact(&self, address: u32) -> Option<ClaimsRef> {
        let (start, end) = self.exact_range(address)?;
        self.exact_at(start, end, address).map(|at| self.exact_claims[at])
    }

    // The range of listed addresses of `address`'s /16 block, if its /23 block holds any.
    fn exact_range(&self, address: u32) -> Option<(u32, u32)> {
        let index = (address >> 16) as usize;
        let block = &self.level1[index];
        let slash23 = (address >> 9) & 127;
        if block.exact[(slash23 >> 6) as usize] & (1 << (slash23 & 63)) == 0 {
            return None;
        }
        Some((block.exact_start, self.level1[index + 1].exact_start))
    }

    // The position of `address` among the listed addresses `start..end` of its /16 block.
    fn exact_at(&self, start: u32, end: u32, address: u32) -> Option<usize> {
        let (start, end) = (start as usize, end as usize);
        // Truncation on purpose: the low 16 bits.
        let offset = self.exact_low[start..end].binary_search(&(address as u16)).ok()?;
        Some(start + offset)
    }

    /// Returns the longest network of at most `max_len` bits holding `address`, as the first of
    /// a chain to follow with [`V4Table::network`].
    pub(crate) fn longest(&self, address: u32, max_len: u8) -> Option<u32> {
        let mut id =
            self.longest_long(address, max_len).unwrap_or_else(|| self.table_network(address));
        while id != NO_PARENT && self.networks[id as usize].len > max_len {
            id = self.networks[id as usize].parent;
        }
        (id != NO_PARENT).then_some(id)
    }

    fn longest_long(&self, address: u32, max_len: u8) -> Option<u32> {
        self.long
            .iter()
            .filter(|(len, _)| *len <= max_len)
            .find_map(|(len, networks)| networks.get(&crate::mask_v4(address, *len)).copied())
    }

    /// Looks up a block of at most [`BATCH`] addresses in stages. Each stage prefetches, for
    /// every address, the memory the next stage reads (the /16 records; then the chunks and the
    /// listed addresses; then the run cells and the claims; then the networks), so the cache
    /// misses of all the addresses are in flight together instead of one after another.
    pub(crate) fn find_batch(&self, addresses: &[u32], probes: &mut [Probe; BATCH]) {
        debug_assert!(addresses.len() <= BATCH);
        for address in addresses {
            prefetch(&self.level1[(address >> 16) as usize]);
        }
        let mut cells = [0u32; BATCH];
        // The listed addresses of the /16 block, when its /23 block holds any; else empty.
        let mut ranges = [(0u32, 0u32); BATCH];
        for ((address, cell), range) in addresses.iter().zip(&mut cells).zip(&mut ranges) {
            let block = &self.level1[(address >> 16) as usize];
            *cell = block.cell;
            if block.in_nets(*address) {
                let chunk = self.chunk_of[(address >> 16) as usize];
                prefetch(&self.chunks[chunk as usize]);
                *cell = CHUNK | chunk;
            }
            if let Some((start, end)) = self.exact_range(*address)
                && start < end
            {
                *range = (start, end);
                prefetch(&self.exact_low[start as usize]);
                prefetch(&self.exact_low[end as usize - 1]);
            }
        }
        // Chunk cells become run indices; ranges the position of the address, or MAX.
        let mut exact_at = [usize::MAX; BATCH];
        for (((address, cell), range), at) in
            addresses.iter().zip(&mut cells).zip(&ranges).zip(&mut exact_at)
        {
            if *cell & CHUNK != 0 {
                let run = self.run_of(*address);
                prefetch(&self.runs[run as usize]);
                *cell = CHUNK | run;
            }
            if range.0 < range.1 {
                *at = self.exact_at(range.0, range.1, *address).unwrap_or(usize::MAX);
                if *at != usize::MAX {
                    prefetch(&self.exact_claims[*at]);
                }
            }
        }
        for ((cell, at), probe) in cells.iter_mut().zip(&exact_at).zip(probes.iter_mut()) {
            if *cell & CHUNK != 0 {
                *cell = self.runs[(*cell & !CHUNK) as usize];
            }
            if *cell != 0 {
                prefetch(&self.networks[(*cell - 1) as usize]);
            }
            probe.exact = (*at != usize::MAX).then(|| self.exact_claims[*at]);
        }
        for ((address, cell), probe) in addresses.iter().zip(&cells).zip(probes.iter_mut()) {
            probe.network = match self.long.is_empty() {
                true => cell_network(*cell),
                false => self.longest_long(*address, 32).unwrap_or_else(|| cell_network(*cell)),
            };
        }
    }

    /// Returns the bytes of the tables.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.level1.capacity() * size_of::<Block16>()
            + self.chunk_of.capacity() * 4
            + self.chunks.capacity() * size_of::<Chunk>()
            + self.runs.capacity() * 4
            + self.exact_low.capacity() * 2
            + self.exact_claims.capacity() * 4
            + self.networks.capacity() * size_of::<Network>()
            + self.long.iter().map(|(_, map)| map.len() * 16).sum::<usize>()
    }

    /// Returns a listed network.
    pub(crate) fn network(&self, id: u32) -> &Network {
        &self.networks[id as usize]
    }

    /// Writes the tables for the cache file, in the order [`V4Table::read`] reads them.
    pub(crate) fn write(&self, out: &mut Output) {
        let level1 = &self.level1;
        out.array(level1.iter().map(|block| block.cell));
        out.array(level1.iter().map(|block| block.exact_start));
        out.array(level1.iter().map(|block| block.exact[0]));
        out.array(level1.iter().map(|block| block.exact[1]));
        out.array(level1.iter().map(|block| block.nets));
        out.array(self.chunk_of.iter().copied());
        let starts: Vec<u64> = self.chunks.iter().flat_map(|chunk| chunk.starts).collect();
        out.array(starts.into_iter());
        out.array(self.chunks.iter().map(|chunk| chunk.base));
        out.array(self.runs.iter().copied());
        out.array(self.exact_low.iter().copied());
        out.array(self.exact_claims.iter().map(|claims| claims.0));
        let networks = &self.networks;
        out.array(networks.iter().map(|network| network.claims.0));
        out.array(networks.iter().map(|network| network.parent));
        out.array(networks.iter().map(|network| network.bits));
        out.array(networks.iter().map(|network| network.len));
        out.number(self.long.len() as u64);
        for (len, networks) in &self.long {
            let mut pairs: Vec<(u32, u32)> =
                networks.iter().map(|(bits, id)| (*bits, *id)).collect();
            pairs.sort_unstable();
            out.number(*len);
            out.array(pairs.iter().map(|(bits, _)| *bits));
            out.array(pairs.iter().map(|(_, id)| *id));
        }
    }

    /// Reads the tables [`V4Table::write`] wrote, checking everything a lookup indexes with:
    /// cells and runs name a network, a block's address range lies inside the address list, a
    /// block with chunk bits names a chunk whose runs exist, a network's parent is shorter (so
    /// every parent chain ends), and every claims reference is valid.
    pub(crate) fn read(input: &mut Input<'_>, refs: &Refs) -> Result<V4Table, CacheErrorKind> {
        const N_BLOCKS: usize = (1 << 16) + 1;
        let cells: Vec<u32> = input.array_of_len(N_BLOCKS, "ipv4 cells")?;
        let exact_starts: Vec<u32> = input.array_of_len(N_BLOCKS, "ipv4 address starts")?;
        let exact_low_words: Vec<u64> = input.array_of_len(N_BLOCKS, "ipv4 address bits")?;
        let exact_high_words: Vec<u64> = input.array_of_len(N_BLOCKS, "ipv4 address bits")?;
        let nets: Vec<u64> = input.array_of_len(N_BLOCKS, "ipv4 chunk bits")?;
        let chunk_of: Vec<u32> = input.array_of_len(1 << 16, "ipv4 chunk numbers")?;
        let starts: Vec<u64> = input.array("ipv4 chunk starts")?;
        let bases: Vec<u32> = input.array_of_len(starts.len() / 4, "ipv4 chunk bases")?;
        let runs: Vec<u32> = input.array("ipv4 runs")?;
        let exact_low: Vec<u16> = input.array("ipv4 addresses")?;
        let exact_claims: Vec<u32> = input.array_of_len(exact_low.len(), "ipv4 address claims")?;
        let network_claims: Vec<u32> = input.array("ipv4 network claims")?;
        let n_networks = network_claims.len();
        let parents: Vec<u32> = input.array_of_len(n_networks, "ipv4 network parents")?;
        let bits: Vec<u32> = input.array_of_len(n_networks, "ipv4 network addresses")?;
        let lens: Vec<u8> = input.array_of_len(n_networks, "ipv4 network lengths")?;
        let is_cell = |cell: u32| cell as usize <= n_networks;
        // Cell values and chunk and run numbers share a word with the `CHUNK` bit.
        let fits = |count: usize| count < CHUNK as usize;
        if !starts.len().is_multiple_of(4)
            || !fits(bases.len())
            || !fits(runs.len())
            || !fits(n_networks)
        {
            return Err(invalid("ipv4: a table too long or cut".to_owned()));
        }
        if !cells.iter().all(|cell| is_cell(*cell)) || !runs.iter().all(|cell| is_cell(*cell)) {
            return Err(invalid("ipv4: a cell names no network".to_owned()));
        }
        let ordered = exact_starts.windows(2).all(|pair| pair[0] <= pair[1]);
        if !ordered || exact_starts[N_BLOCKS - 1] as usize > exact_low.len() {
            return Err(invalid("ipv4: address ranges out of order".to_owned()));
        }
        let mut chunks = Vec::with_capacity(bases.len());
        for (words, base) in starts.chunks_exact(4).zip(bases) {
            let starts = [words[0], words[1], words[2], words[3]];
            let n_runs: u32 = starts.iter().map(|word| word.count_ones()).sum();
            // A run starts at /24 block 0, so a rank is never 0.
            if starts[0] & 1 == 0 || u64::from(base) + u64::from(n_runs) > runs.len() as u64 {
                return Err(invalid(format!("ipv4: chunk {} out of range", chunks.len())));
            }
            chunks.push(Chunk { starts, base });
        }
        let mut level1 = Vec::with_capacity(N_BLOCKS);
        for index in 0..N_BLOCKS {
            let block = Block16 {
                cell: cells[index],
                exact_start: exact_starts[index],
                exact: [exact_low_words[index], exact_high_words[index]],
                nets: nets[index],
            };
            if block.nets != 0 && chunk_of[index] as usize >= chunks.len() {
                return Err(invalid(format!("ipv4: block {index} names no chunk")));
            }
            level1.push(block);
        }
        let mut networks = Vec::with_capacity(n_networks);
        for id in 0..n_networks {
            let (parent, len) = (parents[id], lens[id]);
            let is_shorter = |parent: usize| parent < n_networks && lens[parent] < len;
            if len > 32 || (parent != NO_PARENT && !is_shorter(parent as usize)) {
                return Err(invalid(format!("ipv4: network {id} or its parent out of range")));
            }
            let claims = refs.check(network_claims[id], "ipv4 networks")?;
            networks.push(Network { claims, parent, bits: bits[id], len });
        }
        let mut claims = Vec::with_capacity(exact_claims.len());
        for raw in exact_claims {
            claims.push(refs.check(raw, "ipv4 addresses")?);
        }
        let n_long: u64 = input.number("ipv4 long networks")?;
        let mut long = Vec::new();
        for _ in 0..n_long {
            let len: u8 = input.number("ipv4 long network length")?;
            let keys: Vec<u32> = input.array("ipv4 long networks")?;
            let ids: Vec<u32> = input.array_of_len(keys.len(), "ipv4 long network ids")?;
            if len > 32 || ids.iter().any(|id| *id as usize >= n_networks) {
                return Err(invalid(format!("ipv4: long networks of /{len} out of range")));
            }
            long.push((len, keys.into_iter().zip(ids).collect()));
        }
        long.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
        let holding = holding(&level1);
        Ok(V4Table {
            level1,
            chunk_of,
            chunks,
            runs,
            exact_low,
            exact_claims: claims,
            networks,
            long,
            holding,
        })
    }
}

// The bits of [`V4Table::holding`]: one per /16 block whose record has a network cell, a
// network inside it or a listed address.
fn holding(level1: &[Block16]) -> Vec<u64> {
    let mut bits = vec![0u64; (1 << 16) / 64];
    for (index, block) in level1.iter().take(1 << 16).enumerate() {
        if block.cell != 0 || block.nets != 0 || block.exact != [0, 0] {
            bits[index / 64] |= 1 << (index % 64);
        }
    }
    bits
}

impl Block16 {
    // Whether `address`'s /22 block may hold a cell other than the block's own.
    #[inline]
    fn in_nets(&self, address: u32) -> bool {
        self.nets & (1 << ((address >> 10) & 63)) != 0
    }
}

impl Dense {
    // Points the cells of network `id` (`bits`/`len`, at most /24) at it; returns its parent.
    // Networks come shortest first, so every cell of the range holds the longest network
    // containing this one (or none), which is its parent.
    fn paint(&mut self, bits: u32, len: u8, id: u32) -> u32 {
        let block = (bits >> 16) as usize;
        if len <= 16 {
            let count = 1usize << (16 - len);
            let parent = cell_network(self.level1[block]);
            self.level1[block..block + count].fill(id + 1);
            return parent;
        }
        if self.level1[block] & CHUNK == 0 {
            let inherited = self.level1[block];
            let chunk = (self.chunks.len() / 256) as u32;
            self.chunks.extend(std::iter::repeat_n(inherited, 256));
            self.inherited.push(inherited);
            self.level1[block] = CHUNK | chunk;
        }
        let chunk = (self.level1[block] & !CHUNK) as usize * 256;
        let start = chunk + ((bits >> 8) & 255) as usize;
        let count = 1usize << (24 - len);
        let parent = cell_network(self.chunks[start]);
        self.chunks[start..start + count].fill(id + 1);
        parent
    }

    fn network(&self, address: u32) -> u32 {
        let cell = self.level1[(address >> 16) as usize];
        let cell = if cell & CHUNK == 0 {
            cell
        } else {
            self.chunks[(cell & !CHUNK) as usize * 256 + ((address >> 8) & 255) as usize]
        };
        cell_network(cell)
    }
}

/// The set bits of a 256-bit map at positions up to and including `index`.
fn rank256(words: &[u64; 4], index: u32) -> u32 {
    let word = (index >> 6) as usize;
    let below: u32 = words[..word].iter().map(|word| word.count_ones()).sum();
    below + (words[word] & (u64::MAX >> (63 - (index & 63)))).count_ones()
}

fn cell_network(cell: u32) -> u32 {
    if cell == 0 { NO_PARENT } else { cell - 1 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{CacheErrorKind, Input, Output, Refs};
    use crate::mask_v4;

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 16) as u32
        }
    }

    fn claims(n: usize) -> ClaimsRef {
        ClaimsRef::single(n as u32)
    }

    /// The table agrees with a plain scan over every network, for nested networks of every
    /// length from /8 to /31, exact addresses, and addresses inside, outside and on the edges;
    /// a batch finds what single lookups find.
    #[test]
    fn the_table_finds_every_network_holding_an_address_longest_first() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut networks = Vec::new();
        let mut seen = std::collections::HashSet::new();
        // Clustered in a few /8s, so networks nest.
        for _ in 0..3000 {
            let len = 8 + (rng.next() % 24) as u8;
            let address =
                (u32::from(10 + (rng.next() % 3) as u8) << 24) | (rng.next() & 0x00ff_ffff);
            let bits = mask_v4(address, len);
            if seen.insert((bits, len)) {
                networks.push((bits, len, claims(networks.len())));
            }
        }
        // Clustered too, so /24 blocks hold several addresses.
        let mut exact: Vec<(u32, ClaimsRef)> = Vec::new();
        for n in 0..500 {
            exact.push(((10 << 24) | (rng.next() & 0x0000_0fff), claims(100_000 + n)));
            exact.push(((10 << 24) | (rng.next() & 0x00ff_ffff), claims(200_000 + n)));
        }
        exact.sort_by_key(|(address, _)| *address);
        exact.dedup_by_key(|(address, _)| *address);
        let table = V4Table::new(exact.clone(), networks.clone());
        for (address, claims) in &exact {
            assert_eq!(table.exact(*address), Some(*claims));
        }
        let mut batch = Vec::new();
        for probe in 0..20_000 {
            let address = match probe % 4 {
                0 => (u32::from(10 + (rng.next() % 4) as u8) << 24) | (rng.next() & 0x00ff_ffff),
                1 => networks[rng.next() as usize % networks.len()].0,
                2 => exact[rng.next() as usize % exact.len()].0 ^ (rng.next() & 3),
                _ => {
                    let (bits, len, _) = networks[rng.next() as usize % networks.len()];
                    bits | (u32::MAX >> len)
                }
            };
            let listed = exact.binary_search_by_key(&address, |(address, _)| *address);
            assert_eq!(table.exact(address), listed.ok().map(|index| exact[index].1));
            batch.push(address);
            for max_len in [32, 24, 16] {
                let mut expected: Vec<(u8, ClaimsRef)> = networks
                    .iter()
                    .filter(|(bits, len, _)| *len <= max_len && mask_v4(address, *len) == *bits)
                    .map(|(_, len, claims)| (*len, *claims))
                    .collect();
                expected.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
                let mut found = Vec::new();
                let mut id = table.longest(address, max_len);
                while let Some(network) = id {
                    let network = table.network(network);
                    found.push((network.len, network.claims));
                    id = (network.parent != NO_PARENT).then_some(network.parent);
                }
                assert_eq!(found, expected, "address {address:#x} max /{max_len}");
            }
        }
        let mut probes = [Probe::default(); BATCH];
        for addresses in batch.chunks(BATCH) {
            table.find_batch(addresses, &mut probes);
            for (address, probe) in addresses.iter().zip(&probes) {
                assert_eq!(probe.exact, table.exact(*address));
                assert_eq!(
                    Some(probe.network).filter(|id| *id != NO_PARENT),
                    table.longest(*address, 32)
                );
            }
        }
    }

    /// Reads `table` back from the cache format, with `n_claims` claims and no lists.
    fn reread(table: &V4Table, n_claims: usize) -> Result<V4Table, CacheErrorKind> {
        let mut out = Output::default();
        table.write(&mut out);
        let mut input = Input::new(out.bytes());
        V4Table::read(&mut input, &Refs::new(&[], n_claims)?)
    }

    /// Each check of a read refuses the table it is there for; the table as built passes.
    #[test]
    fn a_read_refuses_what_would_make_a_lookup_panic_or_loop() {
        let table = || {
            let networks = vec![
                (mask_v4(0x0a00_0000, 8), 8, claims(0)),
                (mask_v4(0x0a01_0000, 20), 20, claims(1)),
                (mask_v4(0x0a01_0000, 28), 28, claims(2)),
            ];
            V4Table::new(vec![(0x0a01_0203, claims(3)), (0x0a02_0000, claims(3))], networks)
        };
        assert!(reread(&table(), 4).is_ok());
        type Break = fn(&mut V4Table);
        let breaks: [(&str, Break); 8] = [
            ("a claim out of range", |table| table.exact_claims[0] = claims(4)),
            ("a network claim out of range", |table| table.networks[1].claims = claims(9)),
            ("a parent cycle", |table| table.networks[0].parent = 2),
            ("a parent of its own length", |table| table.networks[1].parent = 1),
            ("a cell naming no network", |table| table.runs[0] = 4),
            ("a chunk without its first run", |table| table.chunks[0].starts[0] = 0),
            ("address ranges out of order", |table| table.level1[5].exact_start = 9),
            ("a block naming no chunk", |table| {
                table.level1[7].nets = 1;
                table.chunk_of[7] = 1;
            }),
        ];
        for (name, break_table) in breaks {
            let mut broken = table();
            break_table(&mut broken);
            assert!(reread(&broken, 4).is_err(), "{name}");
        }
    }
}
