//! The constituency index: who owns an address, a domain, an AS or a country, built from the
//! approved claims. The most specific claim wins: the longest network holding an address, the
//! longest suffix of a name.

use std::collections::HashMap;
use std::net::IpAddr;

use watchfire_model::policy::OrgId;

use crate::claim::{Claim, ClaimState, Target, bits, mask};

/// The approved claims of every organisation, ready for lookups.
#[derive(Clone, Debug, Default)]
pub struct ConstituencyIndex {
    v4: Networks,
    v6: Networks,
    asns: HashMap<u32, Vec<OrgId>>,
    countries: HashMap<String, Vec<OrgId>>,
    domains: HashMap<String, Vec<OrgId>>,
}

/// Networks of one address family, by (network address, prefix length).
#[derive(Clone, Debug, Default)]
struct Networks {
    owners: HashMap<(u128, u8), Vec<OrgId>>,
    /// The prefix lengths present, longest first: a lookup tries each once.
    prefix_lens: Vec<u8>,
}

impl ConstituencyIndex {
    /// Builds the index from claims; only approved claims count.
    pub fn new(claims: &[Claim]) -> ConstituencyIndex {
        let mut index = ConstituencyIndex::default();
        let approved = claims.iter().filter(|claim| claim.state == ClaimState::Approved);
        for claim in approved {
            let owners = match claim.target() {
                Target::Asn(number) => index.asns.entry(*number).or_default(),
                Target::Country(code) => index.countries.entry(code.clone()).or_default(),
                Target::Domain(suffix) => index.domains.entry(suffix.clone()).or_default(),
                Target::Network(address, prefix_len) => {
                    let (address, width) = bits(*address);
                    let networks = if width == 32 { &mut index.v4 } else { &mut index.v6 };
                    networks.prefix_lens.push(*prefix_len);
                    networks
                        .owners
                        .entry((mask(address, width, *prefix_len), *prefix_len))
                        .or_default()
                }
            };
            owners.push(claim.org);
        }
        for networks in [&mut index.v4, &mut index.v6] {
            networks.prefix_lens.sort_unstable_by(|a, b| b.cmp(a));
            networks.prefix_lens.dedup();
            networks.owners.values_mut().for_each(sort_dedup);
        }
        index.asns.values_mut().for_each(sort_dedup);
        index.countries.values_mut().for_each(sort_dedup);
        index.domains.values_mut().for_each(sort_dedup);
        index
    }

    /// Returns the owners of the most specific network holding `address` (an IPv4-mapped IPv6
    /// address is looked up as IPv4), or none.
    pub fn owners(&self, address: IpAddr) -> &[OrgId] {
        self.network_of(address).map_or(&[], |(_, owners)| owners)
    }

    /// Returns the most specific claimed network holding `address` and its owners.
    pub fn network_of(&self, address: IpAddr) -> Option<(Target, &[OrgId])> {
        let address = unmap(address);
        let (bits_of, width) = bits(address);
        let networks = if width == 32 { &self.v4 } else { &self.v6 };
        networks.prefix_lens.iter().find_map(|prefix_len| {
            let key = (mask(bits_of, width, *prefix_len), *prefix_len);
            let owners = networks.owners.get(&key)?;
            Some((Target::Network(from_bits(key.0, width), *prefix_len), owners.as_slice()))
        })
    }

    /// Returns the claimed networks a network touches, with their owners: the most specific one
    /// holding it (if any) and every claimed network inside it (a listed /16 touches each claimed
    /// /24 in it).
    pub fn networks_touching(&self, address: IpAddr, prefix_len: u8) -> Vec<(Target, &[OrgId])> {
        let address = unmap(address);
        let (bits_of, width) = bits(address);
        let prefix_len = prefix_len.min(width);
        let networks = if width == 32 { &self.v4 } else { &self.v6 };
        let mut found: Vec<(Target, &[OrgId])> = Vec::new();
        let holder =
            networks.prefix_lens.iter().filter(|len| **len <= prefix_len).find_map(|len| {
                let key = (mask(bits_of, width, *len), *len);
                networks.owners.get(&key).map(|owners| (key, owners))
            });
        if let Some(((network, len), owners)) = holder {
            found.push((Target::Network(from_bits(network, width), len), owners));
        }
        let network = mask(bits_of, width, prefix_len);
        let mut inside: Vec<_> = networks
            .owners
            .iter()
            .filter(|((claimed, len), _)| {
                *len > prefix_len && mask(*claimed, width, prefix_len) == network
            })
            .map(|((claimed, len), owners)| {
                (Target::Network(from_bits(*claimed, width), *len), owners.as_slice())
            })
            .collect();
        inside.sort_by_key(|(target, _)| target.to_string());
        found.extend(inside);
        found
    }

    /// Returns the most specific claimed domain suffix of `name` and its owners.
    pub fn domain_of<'a>(&'a self, name: &str) -> Option<(&'a str, &'a [OrgId])> {
        let mut suffix = name;
        loop {
            if let Some((claimed, owners)) = self.domains.get_key_value(suffix) {
                return Some((claimed.as_str(), owners.as_slice()));
            }
            match suffix.split_once('.') {
                Some((_, parent)) => suffix = parent,
                None => return None,
            }
        }
    }

    /// Returns the owners of the most specific suffix claim matching `name` (a canonical domain:
    /// lower case, no trailing dot): a suffix matches itself and its subdomains.
    pub fn owners_of_domain(&self, name: &str) -> &[OrgId] {
        self.domain_of(name).map_or(&[], |(_, owners)| owners)
    }

    /// Returns the owners of an AS number.
    pub fn owners_of_asn(&self, number: u32) -> &[OrgId] {
        self.asns.get(&number).map_or(&[], Vec::as_slice)
    }

    /// Returns the owners of a country, by its ISO 3166-1 alpha-2 code (any case).
    pub fn owners_of_country(&self, code: &str) -> &[OrgId] {
        self.countries.get(&code.to_ascii_uppercase()).map_or(&[], Vec::as_slice)
    }
}

// An IPv4-mapped IPv6 address is its IPv4 address.
fn unmap(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

fn from_bits(address: u128, width: u8) -> IpAddr {
    match width {
        // The value came from a 32-bit address, so it fits.
        32 => IpAddr::V4(std::net::Ipv4Addr::from(u32::try_from(address).unwrap_or(0))),
        _ => IpAddr::V6(std::net::Ipv6Addr::from(address)),
    }
}

fn sort_dedup(owners: &mut Vec<OrgId>) {
    owners.sort_unstable();
    owners.dedup();
}
