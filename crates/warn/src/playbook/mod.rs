//! Counter-measure guidance for an alert: a playbook of concrete steps for the affected
//! organisation, chosen by category, direction and (for Shadowserver reports) event type, and
//! rule snippets (nftables, Suricata, RPZ) for the alert's own observables.
//!
//! # Playbooks
//!
//! [`playbook`] picks, in order:
//! - for an exposed, vulnerable or amplifier host event whose `event_type` is a known report
//!   (`scan_rdp`, `scan_ntp`, `ip_spoofer`, ...), that report's playbook (key `report.<event_type>`);
//! - for other exposed, vulnerable or amplifier alerts, the category's playbook (`exposed`,
//!   `vulnerable`, `ddos_amplifier`), the same in both directions;
//! - otherwise the category's playbook for the direction (`phishing.hosted`,
//!   `infected.reported`), with `generic.hosted`/`generic.reported` for `malicious`, `dga`,
//!   `bogon` and categories added later.
//!
//! # Rules
//!
//! What the snippets do depends on what the alert is about:
//! - a threat (every category but the service ones and `tor_exit`): addresses and CIDRs go to the
//!   nftables blocklist (drop both ways at the gateway: containment for a hosted threat, quarantine
//!   for a reported host), domains and the domain hosts of URLs to an RPZ (NXDOMAIN for the name
//!   and its subdomains), and addresses, CIDRs, domains and URLs to Suricata rules, with file-hash
//!   rules for MD5, SHA-1 and SHA-256 hashes (Suricata matches hashes only from list files, which
//!   come with the rules in [`Rules::suricata_lists`]);
//! - an exposed, vulnerable or amplifier service on a known port (the event's, else the report's
//!   usual one): an nftables rule per address dropping that port (TCP and UDP) for every source
//!   outside two trusted sets the operator fills in with the networks that need the service.
//!   No blocklist: the host is the member's own and must stay reachable;
//! - a Tor exit: no rules, since blocking the relay's address stops no abuse.
//!
//! The nftables script, RPZ zone and Suricata rules are written by the export writers of
//! `watchfire_formats::write`, so each format has one writer; the port rules and the file-hash
//! rules, which those writers have no notion of, are added here. Names are derived from the alert
//! id so that two alerts' snippets can be loaded side by side: the nftables table
//! `watchfire_alert_<short>`, the zone `alert-<short>.rpz.watchfire.invalid`, list files
//! `watchfire-alert-<short>.<hash>` and a block of [`SIDS_PER_ALERT`] sids chosen by the same hash
//! (sids of two alerts collide only when their blocks do, about one in 33 million per pair).

mod content;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;
use watchfire_formats::write::{WriteOptions, WriterKind, write_records};
use watchfire_model::record::{Category, IndicatorRecord, Record};
use watchfire_model::stix::{Precision, StixObject, Timestamp, WATCHFIRE_NAMESPACE};
use watchfire_model::{Observable, ObservableKind};

use self::content::REPORTS;
use crate::alert::Direction;

/// The steps an operator of the affected organisation follows for one kind of alert.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct Playbook {
    /// The stable key: `botnet_c2.hosted`, `exposed`, `report.scan_rdp`, `generic.reported`.
    pub key: &'static str,
    /// A one-line title.
    pub title: &'static str,
    /// What the threat is and why it matters, in a sentence or two.
    pub summary: &'static str,
    /// The steps, in the order to follow them.
    pub steps: &'static [&'static str],
    /// Links to guidance behind the steps.
    pub references: &'static [&'static str],
}

/// What an alert is about, as guidance needs it.
#[derive(Clone, Copy, Debug)]
pub struct AlertFacts<'a> {
    /// The alert's id, which names the rule tables, zones and sids.
    pub alert_id: &'a str,
    /// The category of the threat.
    pub category: Category,
    /// Which way it touches the organisation.
    pub direction: Direction,
    /// The host event's type (a Shadowserver report such as `scan_rdp`), for host events.
    pub event_type: Option<&'a str>,
    /// The alert's own observables.
    pub observables: &'a [Observable],
    /// The port concerned (the exposed service's, the C2's), when known.
    pub port: Option<u16>,
}

/// Rule snippets for an alert's own observables. A field is empty when no rule of its kind
/// applies.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Rules {
    /// An nftables script for `nft -f` (a table of its own; loading it again replaces it).
    pub nftables: String,
    /// Suricata rules.
    pub suricata: String,
    /// The hash list files the Suricata file-hash rules load, to be put in the rule directory.
    pub suricata_lists: Vec<RuleFile>,
    /// A DNS response policy zone in master-file syntax.
    pub rpz: String,
    /// The origin of the RPZ zone, for the resolver's configuration; empty with `rpz`.
    pub rpz_zone: String,
}

/// A file that goes with rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleFile {
    /// The file name, without a directory.
    pub name: String,
    /// The contents.
    pub contents: String,
}

/// The counter-measure guidance of an alert: served with the alert over REST and as a STIX
/// `course-of-action`.
#[derive(Clone, Debug, Serialize)]
pub struct Guidance {
    /// The steps.
    pub playbook: &'static Playbook,
    /// Ready rules for the alert's observables.
    pub rules: Rules,
}

/// How many sids one alert's Suricata rules may use.
pub const SIDS_PER_ALERT: u32 = 100;

/// The first sid of the alert blocks: sids from one billion up are unassigned by the public rule
/// sets (Emerging Threats uses 2 000 000 to 2 999 999, Snort's local range is 1 000 000 to
/// 1 999 999, the export's default base 9 000 000).
const SID_FLOOR: u32 = 1_000_000_000;

/// Returns the playbook for an alert of `category` in `direction`, with the host event's type
/// when the alert comes from one.
pub fn playbook(
    category: Category,
    direction: Direction,
    event_type: Option<&str>,
) -> &'static Playbook {
    use Direction::{Hosted, Outbreak, Reported};

    let report = event_type.and_then(report_playbook);
    if let Some(report) = report.filter(|_| is_service(category)) {
        return &report.playbook;
    }
    match (category, direction) {
        // Many members sight it: block and hunt, whatever it is.
        (_, Outbreak) => &content::OUTBREAK,
        (Category::DdosAmplifier, _) => &content::DDOS_AMPLIFIER,
        (Category::Exposed, _) => &content::EXPOSED,
        (Category::Vulnerable, _) => &content::VULNERABLE,
        (Category::BotnetC2, Hosted) => &content::BOTNET_C2_HOSTED,
        (Category::BotnetC2, Reported) => &content::BOTNET_C2_REPORTED,
        (Category::BruteForce, Hosted) => &content::BRUTE_FORCE_HOSTED,
        (Category::BruteForce, Reported) => &content::BRUTE_FORCE_REPORTED,
        (Category::Compromised, Hosted) => &content::COMPROMISED_HOSTED,
        (Category::Compromised, Reported) => &content::COMPROMISED_REPORTED,
        (Category::Infected, Hosted) => &content::INFECTED_HOSTED,
        (Category::Infected, Reported) => &content::INFECTED_REPORTED,
        (Category::MalwareDistribution, Hosted) => &content::MALWARE_DISTRIBUTION_HOSTED,
        (Category::MalwareDistribution, Reported) => &content::MALWARE_DISTRIBUTION_REPORTED,
        (Category::Phishing, Hosted) => &content::PHISHING_HOSTED,
        (Category::Phishing, Reported) => &content::PHISHING_REPORTED,
        (Category::Scanner, Hosted) => &content::SCANNER_HOSTED,
        (Category::Scanner, Reported) => &content::SCANNER_REPORTED,
        (Category::Spam, Hosted) => &content::SPAM_HOSTED,
        (Category::Spam, Reported) => &content::SPAM_REPORTED,
        (Category::TorExit, Hosted) => &content::TOR_EXIT_HOSTED,
        (Category::TorExit, Reported) => &content::TOR_EXIT_REPORTED,
        // Bogon, DGA, malicious, and categories added later.
        (_, Hosted) => &content::GENERIC_HOSTED,
        (_, Reported) => &content::GENERIC_REPORTED,
    }
}

/// Returns the event types that have a playbook of their own, in name order.
pub fn report_event_types() -> impl Iterator<Item = &'static str> {
    REPORTS.iter().map(|report| report.event_type)
}

/// Returns the guidance for an alert: its playbook and rule snippets for its observables, made
/// at `now` (the RPZ serial and the comments).
pub fn guidance(alert: &AlertFacts<'_>, now: &Timestamp) -> Guidance {
    let playbook = playbook(alert.category, alert.direction, alert.event_type);
    let names = Names::for_alert(alert.alert_id);
    let mut options = WriteOptions::new(format!("watchfire alert {}", alert.alert_id), now.clone());
    options.sid_base = names.sid_base;
    options.rpz_zone.clone_from(&names.rpz_zone);
    options.nft_table.clone_from(&names.nft_table);

    let rules = if is_service(alert.category) {
        let report_port = alert.event_type.and_then(report_playbook).and_then(|report| report.port);
        match alert.port.or(report_port) {
            Some(port) => Rules {
                nftables: port_script(&options, alert.observables, port),
                ..Rules::default()
            },
            None => Rules::default(),
        }
    } else if alert.category == Category::TorExit {
        Rules::default()
    } else {
        threat_rules(&options, &names, alert)
    };
    Guidance { playbook, rules }
}

/// Returns the STIX 2.1 `course-of-action` of an alert's guidance: the playbook's title as its
/// name, the summary and numbered steps as its description, the references as external
/// references. Its id is a UUIDv5 of the alert id and the playbook key, so the same alert always
/// gets the same object.
pub fn course_of_action(guidance: &Guidance, alert_id: &str, created: &Timestamp) -> StixObject {
    let playbook = guidance.playbook;
    let uuid = Uuid::new_v5(
        &WATCHFIRE_NAMESPACE,
        format!("course-of-action\0{alert_id}\0{}", playbook.key).as_bytes(),
    );
    let created = created.with_precision(Precision::Millis);
    let mut description = format!("{}\n", playbook.summary);
    for (number, step) in playbook.steps.iter().enumerate() {
        // Writing to a String cannot fail.
        let _ = write!(description, "\n{}. {step}", number + 1);
    }
    let mut properties = Map::new();
    properties.insert("type".into(), "course-of-action".into());
    properties.insert("spec_version".into(), "2.1".into());
    properties.insert("id".into(), format!("course-of-action--{uuid}").into());
    properties.insert("created".into(), created.as_str().into());
    properties.insert("modified".into(), created.as_str().into());
    properties.insert("name".into(), playbook.title.into());
    properties.insert("description".into(), description.into());
    if !playbook.references.is_empty() {
        let references = playbook.references.iter().map(|url| {
            let source_name = url.split('/').nth(2).unwrap_or("reference");
            serde_json::json!({ "source_name": source_name, "url": url })
        });
        properties.insert("external_references".into(), Value::Array(references.collect()));
    }
    // Cannot fail: every property is built here from the fixed playbooks and a valid timestamp
    // (the alert id only seeds the UUID), and the tests run each playbook through the OASIS
    // validator.
    StixObject::from_properties(properties).expect("course-of-action properties are valid")
}

/// Whether the category is about a service of the host rather than a threat.
fn is_service(category: Category) -> bool {
    matches!(category, Category::DdosAmplifier | Category::Exposed | Category::Vulnerable)
}

fn report_playbook(event_type: &str) -> Option<&'static content::ReportPlaybook> {
    REPORTS.iter().find(|report| report.event_type == event_type)
}

/// The names of one alert's rules, derived from its id.
struct Names {
    short: String,
    sid_base: u32,
    nft_table: String,
    rpz_zone: String,
}

impl Names {
    fn for_alert(alert_id: &str) -> Names {
        let uuid = Uuid::new_v5(&WATCHFIRE_NAMESPACE, format!("alert\0{alert_id}").as_bytes());
        let short: String = uuid.simple().to_string().chars().take(12).collect();
        let n_blocks = (u32::MAX - SID_FLOOR) / SIDS_PER_ALERT;
        // Cannot fail: the remainder is below `n_blocks`, a u32.
        let block = u32::try_from(uuid.as_u128() % u128::from(n_blocks)).expect("below a u32");
        Names {
            sid_base: SID_FLOOR + block * SIDS_PER_ALERT,
            nft_table: format!("watchfire_alert_{short}"),
            rpz_zone: format!("alert-{short}.rpz.watchfire.invalid"),
            short,
        }
    }
}

/// The blocklist, RPZ and Suricata rules for a threat's observables.
fn threat_rules(options: &WriteOptions, names: &Names, alert: &AlertFacts<'_>) -> Rules {
    let indicator = |observable: Observable| {
        let mut indicator = IndicatorRecord::new(observable);
        indicator.category = Some(alert.category);
        indicator.port = alert.port;
        Record::Indicator(indicator)
    };
    let mut networks = Vec::new();
    let mut domains = BTreeSet::new();
    let mut suricata = Vec::new();
    let mut hashes: [(ObservableKind, &str, Vec<&str>); 3] = [
        (ObservableKind::Md5, "filemd5", Vec::new()),
        (ObservableKind::Sha1, "filesha1", Vec::new()),
        (ObservableKind::Sha256, "filesha256", Vec::new()),
    ];
    for observable in alert.observables {
        match observable.kind() {
            ObservableKind::Cidr | ObservableKind::Ipv4 | ObservableKind::Ipv6 => {
                networks.push(indicator(observable.clone()));
                suricata.push(indicator(observable.clone()));
            }
            ObservableKind::Domain => {
                domains.insert(observable.clone());
                suricata.push(indicator(observable.clone()));
            }
            ObservableKind::Url => {
                let host = observable
                    .host()
                    .map(|host| Observable::parse_as(ObservableKind::Domain, host));
                if let Some(Ok(domain)) = host {
                    domains.insert(domain);
                }
                suricata.push(indicator(observable.clone()));
            }
            kind => {
                let list = hashes.iter_mut().find(|(hash_kind, _, _)| *hash_kind == kind);
                if let Some((_, _, values)) = list {
                    values.push(observable.value());
                }
            }
        }
    }
    let n_hash_rules = hashes.iter().filter(|(_, _, values)| !values.is_empty()).count();
    // Keeps the rules inside the alert's sid block; an alert has a handful of observables.
    let room = usize::try_from(SIDS_PER_ALERT).unwrap_or(usize::MAX) - n_hash_rules;
    suricata.truncate(room);

    let nftables = match networks.is_empty() {
        true => String::new(),
        false => export(WriterKind::Nftables, options, &networks).0,
    };
    let domains: Vec<Record> = domains.into_iter().map(indicator).collect();
    let (rpz, rpz_zone) = match domains.is_empty() {
        true => (String::new(), String::new()),
        false => (export(WriterKind::Rpz, options, &domains).0, options.rpz_zone.clone()),
    };
    let (mut suricata_text, n_written) = match suricata.is_empty() && n_hash_rules == 0 {
        true => (String::new(), 0),
        false => export(WriterKind::Suricata, options, &suricata),
    };
    let mut suricata_lists = Vec::new();
    let mut next_sid = options.sid_base.saturating_add(u32::try_from(n_written).unwrap_or(0));
    for (kind, keyword, values) in hashes {
        if values.is_empty() {
            continue;
        }
        let name = format!("watchfire-alert-{}.{}", names.short, kind.as_str());
        // Writing to a String cannot fail.
        let _ = writeln!(
            suricata_text,
            "alert http any any -> any any (msg:\"watchfire {} file {} hash listed in {name}\"; {keyword}:{name}; classtype:trojan-activity; sid:{next_sid}; rev:1;)",
            alert.category,
            kind.as_str(),
        );
        next_sid += 1;
        let mut contents = values.join("\n");
        contents.push('\n');
        suricata_lists.push(RuleFile { name, contents });
    }
    Rules { nftables, suricata: suricata_text, suricata_lists, rpz, rpz_zone }
}

/// Writes `records` with an export writer; returns the text and how many records were written.
fn export(kind: WriterKind, options: &WriteOptions, records: &[Record]) -> (String, u64) {
    let mut out = Vec::new();
    // Writing to memory fails only when a writer's own limit is passed (more IPv6 entries than
    // an nftables script holds), which the few observables of an alert never reach; the rules are
    // then left out rather than half written.
    let Ok(summary) = write_records(kind, options, &mut out, records) else {
        return (String::new(), 0);
    };
    (String::from_utf8_lossy(&out).into_owned(), summary.written)
}

/// The nftables script restricting `port` on the observables' addresses: the export's table
/// (with empty blocklists) plus trusted sets and a drop rule per address in the input and forward
/// chains.
fn port_script(options: &WriteOptions, observables: &[Observable], port: u16) -> String {
    let networks: Vec<(&str, bool)> = observables
        .iter()
        .filter_map(|observable| {
            let (address, _) = observable.network()?;
            Some((observable.value(), address.is_ipv6()))
        })
        .collect();
    if networks.is_empty() {
        return String::new();
    }
    let (mut script, _) = export(WriterKind::Nftables, options, &[]);
    let table = &options.nft_table;
    // Writing to a String cannot fail.
    let _ = write!(
        script,
        "# Port {port} is dropped for every source outside these two sets: add the networks that need the service, e.g.
# add element inet {table} trusted_v4 {{ 192.0.2.0/24 }}
add set inet {table} trusted_v4 {{ type ipv4_addr; flags interval; auto-merge; }}
add set inet {table} trusted_v6 {{ type ipv6_addr; flags interval; auto-merge; }}
"
    );
    for (network, is_v6) in networks {
        let (family, trusted) = match is_v6 {
            true => ("ip6", "trusted_v6"),
            false => ("ip", "trusted_v4"),
        };
        for chain in ["input", "forward"] {
            let _ = writeln!(
                script,
                "add rule inet {table} {chain} {family} daddr {network} meta l4proto {{ tcp, udp }} th dport {port} {family} saddr != @{trusted} drop"
            );
        }
    }
    script
}
