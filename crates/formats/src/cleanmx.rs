//! Clean-MX XML feeds (`xmlphishing`, `xmlviruses`): `<output><entries><entry>...` with one
//! flat element per field, read as a stream of entries with the small [`markup`](crate::markup)
//! tokenizer (no XML crate: the documents are flat and only a dozen element names matter).
//!
//! Each entry gives:
//! - its `url` (in CDATA) as a url indicator;
//! - its `ip` (the address the URL's host resolved to) as an ip indicator with the same category,
//!   described as the URL's address;
//! - its `md5` (viruses) as an md5 indicator, `malicious`, described as served by the URL.
//!
//! The category is `phishing` for entries with `phishtank` or `target` elements (the phishing
//! feed) and `malware_distribution` for entries with `md5`, `virusname` or `virustotal` (the
//! viruses feed); otherwise the file name decides (`phish`, `virus`), else there is none.
//! `first` is the first-seen time and `last` the last-seen time, in Unix seconds (`0` while the
//! entry is live, so no last-seen time). `virusname` is the malware family, `target` a
//! `target:<brand>` tag, and the `virustotal` link and the PhishTank entry are references.
//!
//! The `domain` element is not an indicator: it is the registrable domain of the URL's host
//! (`typepad.com` for `quotescar.typepad.com`), often a shared platform, and the host is already
//! in the URL. WHOIS fields (`inetnum`, `netname`, `email`, `ns1`...) are not kept.
//!
//! Quirks handled: the viruses feed declares ISO-8859-15 (decoded as such); empty elements are
//! written `<ns3></ns3>` or `<ns3 />`; an element with a bad value is a reject at its line naming
//! the element (the entry's other indicators still come out); an entry with no usable value, or
//! left open at the end of the input, is a reject at its `<entry>` line. A document whose root is
//! not `<output>` is not a Clean-MX feed and fails as a whole.

use std::io::BufRead;

use watchfire_model::observable::{Observable, ObservableKind};
use watchfire_model::record::{Category, IndicatorRecord, Record};
use watchfire_model::stix::Timestamp;

use crate::markup::{Mode, Token, Tokenizer};
use crate::{Context, Error, Format, Item, time};

/// The formats this module reads.
pub const FORMATS: &[Format] = &[Format {
    name: "cleanmx",
    summary: "Clean-MX XML phishing and viruses feeds",
    read,
    detect: Some(detect),
}];

/// Recognises a Clean-MX document: an XML declaration, the `<output>` root and `<entries>`.
fn detect(head: &[u8], _file_name: &str) -> bool {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start();
    text.starts_with("<?xml")
        && text.find("<output>").is_some_and(|root| text[root..].contains("<entries>"))
}

/// One `<entry>` being read: its line and its fields (name, text, line).
#[derive(Debug)]
struct Entry {
    line: u64,
    fields: Vec<(String, String, u64)>,
}

impl Entry {
    fn field(&self, name: &str) -> Option<(&str, u64)> {
        self.fields
            .iter()
            .find(|(field, value, _)| field == name && !value.trim().is_empty())
            .map(|(_, value, line)| (value.trim(), *line))
    }

    fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|(field, _, _)| field == name)
    }
}

/// Reads a Clean-MX XML feed.
fn read(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    let mut tokenizer = Tokenizer::new(input, Mode::Xml);
    let mut has_root = false;
    let mut entry: Option<Entry> = None;
    // The element being read inside the entry: its name, text so far and line.
    let mut field: Option<(String, String, u64)> = None;
    while let Some((line, token)) =
        tokenizer.next_token().map_err(|error| Error::io(&context.file, error))?
    {
        match token {
            Token::Start { name, .. } if !has_root => {
                if name != "output" {
                    return Err(Error::input(
                        &context.file,
                        format!("line {line}: root element is <{name}>, not the clean-mx <output>"),
                    ));
                }
                has_root = true;
            }
            Token::Start { name, .. } if name == "entry" => {
                if let Some(open) = entry.take() {
                    on_item(context.reject(open.line, "entry not closed before the next one"));
                }
                entry = Some(Entry { line, fields: Vec::new() });
                field = None;
            }
            Token::Start { name, self_closing, .. } => {
                if let Some(entry) = entry.as_mut() {
                    match self_closing {
                        true => entry.fields.push((name, String::new(), line)),
                        false => field = Some((name, String::new(), line)),
                    }
                }
            }
            Token::Text(text) => {
                if let Some((_, value, _)) = field.as_mut() {
                    value.push_str(&text);
                }
            }
            Token::End { name } if name == "entry" => {
                if let Some(entry) = entry.take() {
                    read_entry(context, &entry, on_item);
                }
                field = None;
            }
            Token::End { name } => {
                let closes_field = field.as_ref().is_some_and(|(open, _, _)| *open == name);
                if let (true, Some(entry), Some(closed)) =
                    (closes_field, entry.as_mut(), field.take())
                {
                    entry.fields.push(closed);
                }
            }
            Token::Bad(reason) => on_item(context.reject(line, reason)),
        }
    }
    if let Some(open) = entry {
        on_item(context.reject(open.line, "entry not closed at the end of the input"));
    }
    if !has_root {
        return Err(Error::input(&context.file, "no root element: not a clean-mx xml document"));
    }
    Ok(())
}

/// Turns one entry into its indicators (and rejects for its bad elements).
fn read_entry(context: &Context, entry: &Entry, on_item: &mut dyn FnMut(Item)) {
    let category = if entry.has("phishtank") || entry.has("target") {
        Some(Category::Phishing)
    } else if entry.has("md5") || entry.has("virusname") || entry.has("virustotal") {
        Some(Category::MalwareDistribution)
    } else {
        let file_name = context.file_name().to_ascii_lowercase();
        match (file_name.contains("phish"), file_name.contains("virus")) {
            (true, _) => Some(Category::Phishing),
            (false, true) => Some(Category::MalwareDistribution),
            (false, false) => None,
        }
    };
    let time = |name: &str, on_item: &mut dyn FnMut(Item)| -> Option<Timestamp> {
        let (value, line) = entry.field(name)?;
        if value == "0" {
            return None;
        }
        time::parse(value)
            .map_err(|reason| on_item(context.reject(line, format!("element {name}: {reason}"))))
            .ok()
    };
    let first_seen = time("first", on_item);
    let last_seen = time("last", on_item);
    let observable = |kind: ObservableKind, name: &str, on_item: &mut dyn FnMut(Item)| {
        let (value, line) = entry.field(name)?;
        Observable::parse_as(kind, value)
            .map_err(|error| on_item(context.reject(line, format!("element {name}: {error}"))))
            .ok()
    };
    let url = observable(ObservableKind::Url, "url", on_item);
    let ip_kind = match entry.field("ip") {
        Some((value, _)) if value.contains(':') => ObservableKind::Ipv6,
        _ => ObservableKind::Ipv4,
    };
    let ip = observable(ip_kind, "ip", on_item);
    let md5 = observable(ObservableKind::Md5, "md5", on_item);
    if url.is_none() && ip.is_none() && md5.is_none() {
        on_item(context.reject(entry.line, "entry has no valid url, ip or md5"));
        return;
    }
    let base = |observable: Observable| {
        let mut indicator = IndicatorRecord::new(observable);
        indicator.category = category;
        indicator.first_seen = first_seen.clone();
        indicator.last_seen = last_seen.clone();
        indicator.malware = entry.field("virusname").map(|(name, _)| name.to_owned());
        indicator.tags = entry
            .field("target")
            .map(|(target, _)| format!("target:{target}"))
            .into_iter()
            .collect();
        indicator.references =
            entry.field("virustotal").map(|(link, _)| link.to_owned()).into_iter().collect();
        let phish_id = entry.field("phishtank").map(|(phish_id, _)| phish_id);
        if let Some(phish_id) = phish_id.filter(|id| id.bytes().all(|byte| byte.is_ascii_digit())) {
            indicator
                .references
                .push(format!("https://www.phishtank.com/phish_detail.php?phish_id={phish_id}"));
        }
        indicator
    };
    let url_text = url.as_ref().map(|url| url.value().to_owned());
    if let Some(url) = url {
        on_item(Item::Record(Record::Indicator(base(url))));
    }
    if let Some(ip) = ip {
        let mut indicator = base(ip);
        indicator.description = url_text.as_ref().map(|url| format!("address of {url}"));
        on_item(Item::Record(Record::Indicator(indicator)));
    }
    if let Some(md5) = md5 {
        let mut indicator = base(md5);
        indicator.category = Some(Category::Malicious);
        indicator.description = url_text.as_ref().map(|url| format!("served by {url}"));
        on_item(Item::Record(Record::Indicator(indicator)));
    }
}
