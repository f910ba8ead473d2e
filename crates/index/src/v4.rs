//! IPv4 at memory speed: exact addresses behind a bitmap of the /24 blocks that hold any, and
//! networks in a two-level table (DIR-16-8): one cell per /16, and for the /16 blocks where a
//! network of /17 to /24 starts, a chunk of one cell per /24. A cell names the longest network
//! covering it; each network names its parent (the next shorter network covering it), so a
//! caller who may not see the longest network's claims falls back to the next one.
//!
//! A random lookup touches the 2 MB bitmap, the 256 KB first level and at most one 1 KB chunk:
//! no pointer chasing through a trie. Networks longer than /24, which feeds rarely list, sit in
//! small per-length maps probed first.

use std::collections::HashMap;

use crate::ListRef;
use crate::int_hash::IntBuild;

/// A cell value with this bit names a chunk; without it, 0 is "no network" and n is network n-1.
const CHUNK: u32 = 1 << 31;
const NO_PARENT: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Network {
    list: ListRef,
    parent: u32,
    len: u8,
}

/// The IPv4 part of a snapshot.
#[derive(Debug)]
pub(crate) struct V4Table {
    exact_blocks: Vec<u64>,
    exact: HashMap<u32, ListRef, IntBuild>,
    level1: Vec<u32>,
    chunks: Vec<u32>,
    networks: Vec<Network>,
    /// Networks of /25 to /31 by length, longest first: masked address → network id.
    long: Vec<(u8, HashMap<u32, u32, IntBuild>)>,
}

impl Default for V4Table {
    fn default() -> V4Table {
        V4Table {
            exact_blocks: vec![0; 1 << 18],
            exact: HashMap::default(),
            level1: vec![0; 1 << 16],
            chunks: Vec::new(),
            networks: Vec::new(),
            long: Vec::new(),
        }
    }
}

impl V4Table {
    /// Builds the table from exact addresses and networks (masked address, length).
    pub(crate) fn new(
        exact: Vec<(u32, ListRef)>,
        mut networks: Vec<(u32, u8, ListRef)>,
    ) -> V4Table {
        let mut table = V4Table::default();
        for (address, list) in exact {
            table.exact_blocks[(address >> 14) as usize] |= 1 << ((address >> 8) & 63);
            table.exact.insert(address, list);
        }
        networks.sort_by_key(|(_, len, _)| *len);
        let mut long: HashMap<u8, HashMap<u32, u32, IntBuild>> = HashMap::new();
        for (bits, len, list) in networks {
            let id = table.networks.len() as u32;
            let parent = if len <= 24 {
                table.paint(bits, len, id)
            } else {
                table.parent_of_long(&long, bits, len)
            };
            table.networks.push(Network { list, parent, len });
            if len > 24 {
                long.entry(len).or_default().insert(bits, id);
            }
        }
        table.long = long.into_iter().collect();
        table.long.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
        table
    }

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
            self.level1[block] = CHUNK | chunk;
        }
        let chunk = (self.level1[block] & !CHUNK) as usize * 256;
        let start = chunk + ((bits >> 8) & 255) as usize;
        let count = 1usize << (24 - len);
        let parent = cell_network(self.chunks[start]);
        self.chunks[start..start + count].fill(id + 1);
        parent
    }

    // The parent of a network longer than /24: a longer-than-/24 network containing it, else the
    // table's network at its address.
    fn parent_of_long(
        &self,
        long: &HashMap<u8, HashMap<u32, u32, IntBuild>>,
        bits: u32,
        len: u8,
    ) -> u32 {
        (25..len)
            .rev()
            .find_map(|shorter| long.get(&shorter)?.get(&crate::mask_v4(bits, shorter)).copied())
            .unwrap_or_else(|| self.table_network(bits))
    }

    fn table_network(&self, address: u32) -> u32 {
        let cell = self.level1[(address >> 16) as usize];
        let cell = if cell & CHUNK == 0 {
            cell
        } else {
            self.chunks[(cell & !CHUNK) as usize * 256 + ((address >> 8) & 255) as usize]
        };
        cell_network(cell)
    }

    /// Returns the claims list of the exact address, if listed.
    pub(crate) fn exact(&self, address: u32) -> Option<ListRef> {
        let word = self.exact_blocks[(address >> 14) as usize];
        if word & (1 << ((address >> 8) & 63)) == 0 {
            return None;
        }
        self.exact.get(&address).copied()
    }

    /// Returns the longest network of at most `max_len` bits holding `address`, as the first of
    /// a chain to follow with [`V4Table::parent`].
    pub(crate) fn longest(&self, address: u32, max_len: u8) -> Option<u32> {
        let mut id = self
            .long
            .iter()
            .filter(|(len, _)| *len <= max_len)
            .find_map(|(len, networks)| networks.get(&crate::mask_v4(address, *len)).copied())
            .unwrap_or_else(|| self.table_network(address));
        while id != NO_PARENT && self.networks[id as usize].len > max_len {
            id = self.networks[id as usize].parent;
        }
        (id != NO_PARENT).then_some(id)
    }

    /// Returns a network's claims list and its parent.
    pub(crate) fn network(&self, id: u32) -> (ListRef, Option<u32>) {
        let network = self.networks[id as usize];
        (network.list, (network.parent != NO_PARENT).then_some(network.parent))
    }
}

fn cell_network(cell: u32) -> u32 {
    if cell == 0 { NO_PARENT } else { cell - 1 }
}

#[cfg(test)]
mod tests {
    use super::*;
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

    fn list(n: usize) -> ListRef {
        ListRef { start: n as u32, len: 1 }
    }

    /// The table agrees with a plain scan over every network, for nested networks of every
    /// length from /8 to /31, exact addresses, and addresses inside, outside and on the edges.
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
                networks.push((bits, len, list(networks.len())));
            }
        }
        let exact: Vec<(u32, ListRef)> = (0..500)
            .map(|n| ((10 << 24) | (rng.next() & 0x00ff_ffff), list(100_000 + n)))
            .collect();
        let table = V4Table::new(exact.clone(), networks.clone());
        for (address, list) in &exact {
            assert_eq!(table.exact(*address), Some(*list));
        }
        for probe in 0..20_000 {
            let address = match probe % 3 {
                0 => (u32::from(10 + (rng.next() % 4) as u8) << 24) | (rng.next() & 0x00ff_ffff),
                1 => networks[rng.next() as usize % networks.len()].0,
                _ => {
                    let (bits, len, _) = networks[rng.next() as usize % networks.len()];
                    bits | (u32::MAX >> len)
                }
            };
            for max_len in [32, 24, 16] {
                let mut expected: Vec<(u8, u32)> = networks
                    .iter()
                    .filter(|(bits, len, _)| *len <= max_len && mask_v4(address, *len) == *bits)
                    .map(|(_, len, list)| (*len, list.start))
                    .collect();
                expected.sort_by(|a, b| b.cmp(a));
                let mut found = Vec::new();
                let mut id = table.longest(address, max_len);
                while let Some(network) = id {
                    let (list, parent) = table.network(network);
                    found.push((table.networks[network as usize].len, list.start));
                    id = parent;
                }
                assert_eq!(found, expected, "address {address:#x} max /{max_len}");
            }
        }
    }
}
