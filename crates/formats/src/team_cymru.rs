//! Team Cymru CAP (CSIRT Assistance Program) reports: `category|address|asn|timestamp|optional_information|asninfo`,
//! one line per observation about a host of the CERT's constituency, so each is a [`HostEvent`].
//!
//! Quirks handled: the old (2017) format names categories in the plural (`bots`,
//! `openresolvers`) and starts with a `# Format:` comment; `event_type` is the category in the
//! singular. The free-text `optional_information` mixes `key: value;` pairs and the older
//! space-separated `srcport 1337 mwtype Conficker destaddr ...` form: both become `details`
//! (the raw text is kept too, as `optional_information`), and `family` or `mwtype` is the
//! malware. `asninfo` is `AS name, CC`: the name goes to `details.as_name`, the country code
//! to `country`. Categories: bots and `conficker` are `infected`, `controller` is `botnet_c2`,
//! `bruteforce` is `brute_force`, `scanner`, `darknet` and `honeypot` are `scanner`, `proxy`
//! is `exposed`, `openresolver` is `ddos_amplifier`, `phishing` and `spam` are themselves,
//! others `malicious`.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::net::IpAddr;

use watchfire_model::record::{Category, HostEvent, Record};

use crate::input::for_each_line;
use crate::{Context, Error, Format, Item, time};

/// The Team Cymru CAP format.
pub const FORMATS: &[Format] = &[Format {
    name: "team-cymru-cap",
    summary: "Team Cymru CAP report of a constituency's hosts (category|address|asn|...)",
    read: read_cap,
    detect: Some(|head, _| {
        crate::abusech::has(head, b"#category|address|asn|timestamp|optional_information|asninfo")
            || crate::abusech::has(head, b"# Format: report|ip|asn|timestamp|comments|asn_name")
    }),
}];

fn read_cap(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    for_each_line(input, context, on_item, &mut |number, text, on_item| {
        let content = text.trim();
        if content.is_empty() || content.starts_with('#') {
            return;
        }
        match cap_event(content) {
            Ok(event) => on_item(Item::Record(Record::Event(event))),
            Err(reason) => on_item(context.reject(number, reason)),
        }
    })
}

fn cap_event(line: &str) -> Result<HostEvent, String> {
    let cells: Vec<&str> = line.splitn(6, '|').map(str::trim).collect();
    if cells.len() < 4 {
        return Err(format!(
            "row has {} columns, expected category|address|asn|timestamp|...",
            cells.len()
        ));
    }
    let event_type = match cells[0].to_lowercase().as_str() {
        "bots" => "bot".to_owned(),
        "openresolvers" => "openresolver".to_owned(),
        other => other.to_owned(),
    };
    if event_type.is_empty() {
        return Err("column 1 (category): empty".to_owned());
    }
    let ip: IpAddr =
        cells[1].parse().map_err(|_| format!("column 2 (address): bad ip {:?}", cells[1]))?;
    let asn = match cells[2] {
        "" | "0" => None,
        text => Some(text.parse::<u32>().map_err(|_| format!("column 3 (asn): bad asn {text:?}"))?),
    };
    let time = time::parse(cells[3]).map_err(|reason| format!("column 4 (timestamp): {reason}"))?;
    let information = cells.get(4).copied().unwrap_or_default();
    let mut details = parse_information(information);
    let malware = details.get("family").or_else(|| details.get("mwtype")).cloned();
    if !information.is_empty() {
        details.insert("optional_information".to_owned(), information.to_owned());
    }
    let asninfo = cells.get(5).copied().unwrap_or_default();
    let (as_name, country) = match asninfo.rsplit_once(", ") {
        Some((name, code))
            if code.len() == 2 && code.bytes().all(|byte| byte.is_ascii_alphabetic()) =>
        {
            (name, Some(code.to_uppercase()))
        }
        _ => (asninfo, None),
    };
    if !as_name.is_empty() {
        details.insert("as_name".to_owned(), as_name.to_owned());
    }
    let category = match event_type.as_str() {
        "bot" | "conficker" => Category::Infected,
        "controller" => Category::BotnetC2,
        "bruteforce" => Category::BruteForce,
        "scanner" | "darknet" | "honeypot" => Category::Scanner,
        "proxy" => Category::Exposed,
        "openresolver" => Category::DdosAmplifier,
        "phishing" => Category::Phishing,
        "spam" => Category::Spam,
        _ => Category::Malicious,
    };
    Ok(HostEvent {
        ip,
        port: None,
        asn,
        country,
        hostname: details.get("hostname").cloned(),
        event_type,
        category: Some(category),
        time: Some(time),
        malware,
        tags: Vec::new(),
        details,
    })
}

/// Reads `key: value;` pairs, or the old `srcport 1337 mwtype Conficker destaddr ...` words.
fn parse_information(text: &str) -> BTreeMap<String, String> {
    let mut details = BTreeMap::new();
    if text.contains(':') {
        for pair in text.split(';') {
            if let Some((key, value)) = pair.split_once(':') {
                let (key, value) = (key.trim(), value.trim());
                let is_key = !key.is_empty()
                    && key.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
                if is_key && !value.is_empty() && !value.starts_with("//") {
                    details.insert(key.to_owned(), value.to_owned());
                }
            }
        }
        return details;
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut index = 0;
    while index + 1 < words.len() {
        match words[index] {
            "srcport" | "destaddr" | "dstaddr" => {
                details.insert(words[index].to_owned(), words[index + 1].to_owned());
                index += 2;
            }
            "mwtype" => {
                details.insert("mwtype".to_owned(), words[index + 1].to_owned());
                index += 2;
            }
            _ => index += 1,
        }
    }
    details
}
