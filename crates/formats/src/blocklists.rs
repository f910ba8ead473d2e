//! Provider blocklists and CSV feeds of one indicator a line: AlienVault reputation, Bambenek,
//! Blocklist.de, CINS Army, danger.rulez, DataPlane, DShield, Emerging Threats, DNS-BH malware
//! domains, Team Cymru full bogons, the Tor exit lists, the Turris greylist, CERT-EU and Zone-H.
//!
//! Most are built-in [`csvmap`](crate::csvmap) mappings (`crates/formats/mappings/*.toml`, each
//! saying what it handles and which category the feed implies). Read here in code:
//! - DShield `block.txt`: a tab-separated `Start, End, Netblock` row is the network
//!   `Start/Netblock` (`Netblock` is the prefix length); a row whose `End` is not that network's
//!   last address is a reject, since the range would not be one network. Category `scanner`
//!   (the top attacking /24s); the network name and country go to the description.
//! - Team Cymru full bogons: bare CIDRs, category `bogon`; the `# last updated <epoch>` header is
//!   each entry's `last_seen`.
//! - Tor `exit-addresses`: stanzas of `ExitNode <fingerprint>`, `Published`, `LastStatus` and
//!   `ExitAddress <ip> <time>` lines; each address is a `tor_exit` indicator whose `last_seen`
//!   is its `ExitAddress` time and whose description names the relay fingerprint.

use std::io::BufRead;
use std::net::IpAddr;

use watchfire_model::observable::{Observable, ObservableKind};
use watchfire_model::record::{Category, IndicatorRecord, Record};

use crate::abusech::has;
use crate::csvmap::mapping_reader;
use crate::input::for_each_line;
use crate::{Context, Error, Format, Item, time};

/// The provider blocklist formats.
pub const FORMATS: &[Format] = &[
    Format {
        name: "alienvault-reputation",
        summary: "AlienVault IP reputation (ip#reliability#risk#type#...)",
        read: read_alienvault_reputation,
        detect: None,
    },
    Format {
        name: "bambenek-c2",
        summary: "Bambenek Consulting C2 domain or IP master list",
        read: read_bambenek_c2,
        detect: Some(|head, _| {
            has(head, b"## Master Feed of known, active and non-sinkholed C&Cs")
        }),
    },
    Format {
        name: "bambenek-dga",
        summary: "Bambenek Consulting DGA domain feed",
        read: read_bambenek_dga,
        detect: Some(|head, _| has(head, b"## Domain feed of known DGA domains")),
    },
    Format {
        name: "blocklist-de",
        summary: "Blocklist.de per-service attacker IP list",
        read: read_blocklist_de,
        detect: None,
    },
    Format {
        name: "cins-army",
        summary: "CINS Army bad-reputation IP list",
        read: read_cins_army,
        detect: None,
    },
    Format {
        name: "danger-rulez",
        summary: "danger.rulez.sk BruteForceBlocker list",
        read: read_danger_rulez,
        detect: Some(|head, _| head.starts_with(b"# IP\t") && has(head, b"# Last Reported")),
    },
    Format {
        name: "dataplane",
        summary: "DataPlane.org report (ASN | ASname | ip | lastseen | category)",
        read: read_dataplane,
        detect: Some(|head, _| has(head, b"# DataPlane.org")),
    },
    Format {
        name: "dshield-block",
        summary: "DShield recommended block list (top attacking /24 networks)",
        read: read_dshield_block,
        detect: Some(|head, _| has(head, b"DShield.org Recommended Block List")),
    },
    Format {
        name: "dshield-suspicious-domains",
        summary: "DShield suspicious domain list",
        read: read_dshield_suspicious_domains,
        detect: Some(|head, _| has(head, b"DShield.org Suspicious Domain List")),
    },
    Format {
        name: "emergingthreats-compromised",
        summary: "Emerging Threats compromised-ips.txt",
        read: read_emergingthreats_compromised,
        detect: None,
    },
    Format {
        name: "malwaredomains",
        summary: "DNS-BH malware domains list (discontinued)",
        read: read_malwaredomains,
        detect: Some(|head, _| has(head, b"##\tnextvalidation\tdomain\ttype")),
    },
    Format {
        name: "team-cymru-fullbogons",
        summary: "Team Cymru full bogons (IPv4 or IPv6 CIDRs)",
        read: read_fullbogons,
        detect: Some(|head, _| head.starts_with(b"# last updated ") && has(head, b" GMT)")),
    },
    Format {
        name: "tor-exit-addresses",
        summary: "Tor Project exit-addresses (ExitNode stanzas)",
        read: read_tor_exit_addresses,
        detect: Some(|head, _| head.starts_with(b"ExitNode ") && has(head, b"\nExitAddress ")),
    },
    Format {
        name: "tor-bulk-exit-list",
        summary: "Tor Project torbulkexitlist (one exit IP a line)",
        read: read_tor_bulk_exit_list,
        detect: None,
    },
    Format {
        name: "turris-greylist",
        summary: "CZ.NIC Turris Sentinel greylist CSV",
        read: read_turris_greylist,
        detect: Some(|head, _| {
            has(head, b"view.sentinel.turris.cz/greylist-data")
                || head.starts_with(b"Address,Tags")
                || head.starts_with(b"Address,Country,Tags,ASN")
        }),
    },
    Format {
        name: "cert-eu",
        summary: "CERT-EU constituent feed CSV",
        read: read_cert_eu,
        detect: Some(|head, _| head.starts_with(b"feed code,source ip,source time")),
    },
    Format {
        name: "zone-h",
        summary: "Zone-H defacement report CSV",
        read: read_zone_h,
        detect: Some(|head, _| {
            head.starts_with(b"\"add_date\",\"accept_date\",\"attacker\",\"domain\"")
        }),
    },
];

mapping_reader!(read_alienvault_reputation, "alienvault-reputation");
mapping_reader!(read_bambenek_c2, "bambenek-c2");
mapping_reader!(read_bambenek_dga, "bambenek-dga");
mapping_reader!(read_blocklist_de, "blocklist-de");
mapping_reader!(read_cins_army, "cins-army");
mapping_reader!(read_danger_rulez, "danger-rulez");
mapping_reader!(read_dataplane, "dataplane");
mapping_reader!(read_dshield_suspicious_domains, "dshield-suspicious-domains");
mapping_reader!(read_emergingthreats_compromised, "emergingthreats-compromised");
mapping_reader!(read_malwaredomains, "malwaredomains");
mapping_reader!(read_tor_bulk_exit_list, "tor-bulk-exit-list");
mapping_reader!(read_turris_greylist, "turris-greylist");
mapping_reader!(read_cert_eu, "cert-eu");
mapping_reader!(read_zone_h, "zone-h");

fn read_dshield_block(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    for_each_line(input, context, on_item, &mut |number, text, on_item| {
        let content = text.trim();
        if content.is_empty() || content.starts_with('#') || content.starts_with("Start\t") {
            return;
        }
        match dshield_block_record(text) {
            Ok(record) => on_item(Item::Record(Record::Indicator(record))),
            Err(reason) => on_item(context.reject(number, reason)),
        }
    })
}

fn dshield_block_record(text: &str) -> Result<IndicatorRecord, String> {
    let cells: Vec<&str> = text.split('\t').map(str::trim).collect();
    if cells.len() < 3 {
        return Err(format!("row has {} columns, expected start, end and netblock", cells.len()));
    }
    let start: IpAddr =
        cells[0].parse().map_err(|_| format!("column 1 (start): bad ip {:?}", cells[0]))?;
    let end: IpAddr =
        cells[1].parse().map_err(|_| format!("column 2 (end): bad ip {:?}", cells[1]))?;
    let prefix_len: u8 = cells[2]
        .parse()
        .map_err(|_| format!("column 3 (netblock): bad prefix length {:?}", cells[2]))?;
    let observable = Observable::parse_as(ObservableKind::Cidr, &format!("{start}/{prefix_len}"))
        .map_err(|error| format!("column 3 (netblock): {error}"))?;
    let (network, _) = observable.network().ok_or("column 3 (netblock): not a network")?;
    let last = last_address(network, prefix_len);
    if network != start || last != Some(end) {
        return Err(format!("{start} to {end} is not the network {start}/{prefix_len}"));
    }
    let mut record = IndicatorRecord::new(observable);
    record.category = Some(Category::Scanner);
    let name = cells.get(4).copied().filter(|name| !name.is_empty());
    let country = cells.get(5).copied().filter(|country| !country.is_empty());
    record.description = match (name, country) {
        (Some(name), Some(country)) => Some(format!("{name} ({country})")),
        (Some(text), None) | (None, Some(text)) => Some(text.to_owned()),
        (None, None) => None,
    };
    Ok(record)
}

/// Returns the last address of the network `address/prefix_len`.
fn last_address(address: IpAddr, prefix_len: u8) -> Option<IpAddr> {
    Some(match address {
        IpAddr::V4(v4) => {
            let host_bits = 32u32.checked_sub(u32::from(prefix_len))?;
            let mask = u32::MAX.checked_shr(32 - host_bits).unwrap_or(0);
            IpAddr::V4((u32::from(v4) | mask).into())
        }
        IpAddr::V6(v6) => {
            let host_bits = 128u32.checked_sub(u32::from(prefix_len))?;
            let mask = u128::MAX.checked_shr(128 - host_bits).unwrap_or(0);
            IpAddr::V6((u128::from(v6) | mask).into())
        }
    })
}

fn read_fullbogons(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    let mut updated = None;
    for_each_line(input, context, on_item, &mut |number, text, on_item| {
        let content = text.trim();
        if let Some(comment) = content.strip_prefix('#') {
            let epoch = comment
                .trim()
                .strip_prefix("last updated ")
                .and_then(|rest| rest.split_whitespace().next());
            if let Some(epoch) = epoch {
                updated = time::parse(epoch).ok();
            }
            return;
        }
        if content.is_empty() {
            return;
        }
        match Observable::parse_as(ObservableKind::Cidr, content) {
            Ok(observable) => {
                let mut record = IndicatorRecord::new(observable);
                record.category = Some(Category::Bogon);
                record.last_seen = updated.clone();
                on_item(Item::Record(Record::Indicator(record)));
            }
            Err(error) => on_item(context.reject(number, format!("entry: {error}"))),
        }
    })
}

fn read_tor_exit_addresses(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    let mut relay: Option<String> = None;
    for_each_line(input, context, on_item, &mut |number, text, on_item| {
        let content = text.trim();
        let (keyword, rest) = content.split_once(' ').unwrap_or((content, ""));
        match keyword {
            "ExitNode" => relay = Some(rest.trim().to_owned()),
            "ExitAddress" => {
                let (address, seen) = rest.trim().split_once(' ').unwrap_or((rest.trim(), ""));
                let observable = match Observable::parse(address) {
                    Ok(observable) if observable.ip().is_some() => observable,
                    Ok(_) => {
                        on_item(context.reject(
                            number,
                            format!("ExitAddress: {address:?} is not an ip address"),
                        ));
                        return;
                    }
                    Err(error) => {
                        on_item(context.reject(number, format!("ExitAddress: {error}")));
                        return;
                    }
                };
                let mut record = IndicatorRecord::new(observable);
                record.category = Some(Category::TorExit);
                if !seen.trim().is_empty() {
                    match time::parse(seen) {
                        Ok(timestamp) => record.last_seen = Some(timestamp),
                        Err(reason) => {
                            on_item(context.reject(number, format!("ExitAddress: {reason}")));
                            return;
                        }
                    }
                }
                record.description =
                    relay.as_ref().map(|fingerprint| format!("tor relay {fingerprint}"));
                on_item(Item::Record(Record::Indicator(record)));
            }
            _ => {}
        }
    })
}
