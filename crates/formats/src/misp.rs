//! MISP: events (`misp-event`), feed event files and manifests (`misp-feed`), the default feed
//! catalogue (`misp-feed-metadata`) and warninglists (`misp-warninglists`).
//!
//! # Events (`misp-event`, `misp-feed`)
//!
//! Accepted shapes: `{"Event": {...}}` (the feed and export format), `{"response": [{"Event":
//! {...}}, ...]}` (REST search results, streamed event by event), a bare event object (keys
//! `Attribute`, `Object`, `info` at the top) and a lone attribute (`type` and `value` at the top).
//! Each event is read whole (at most [`MAX_ELEMENT`](crate::json_stream::MAX_ELEMENT) bytes),
//! since MISP writes its `Tag` list before or after the attributes, and event tags apply to
//! every attribute. Rejects name the line where the event starts.
//!
//! Every attribute, and every attribute of every object, whose type names an observable becomes
//! an indicator record: `ip-src`, `ip-dst` (address or network), `domain`, `hostname`, `url`,
//! `md5`, `sha1`, `sha256`, `sha512`, `email`, `email-src`, `email-dst`, `AS`, the composites
//! `ip-src|port`, `ip-dst|port`, `hostname|port`, `domain|ip` (two records) and
//! `filename|md5` (and the other hashes; the hash is kept). Other types (`text`, `comment`,
//! `filename`, `regkey`, `link`, ...) yield no record; `link` values become references of the
//! event's records. Deleted attributes are skipped. A value that does not canonicalise is a
//! reject naming the attribute's uuid and type. In an object, a `dst-port`/`src-port`/`port`
//! attribute gives the port of the object's address and domain records.
//!
//! Fields: tags are the attribute's then the event's tag names; an attribute with `to_ids:
//! false` is still a record, tagged `to_ids:false` (MISP's own flag for "not for detection"),
//! and gets no category from `to_ids`. TLP: the attribute's `tlp:` tag, else the event's
//! ([`Tlp::from_misp_tag`]). `first_seen`/`last_seen` are the attribute's, and `last_seen`
//! falls back to the attribute's `timestamp` (epoch seconds, when MISP last changed it). The
//! malware is the value of the first galaxy tag of a malware galaxy (`misp-galaxy:tool="Emotet"`,
//! also `malpedia`, `banker`, `botnet`, `ransomware`, `rat`, `stealer`, `backdoor`, `android`).
//! The description is the attribute's comment, else the event's `info`.
//!
//! Category: a tag naming a precise threat (attribute tags first, then event tags, with the
//! keywords of the `stix` reader: `phish`, `c2`, `botnet`, `scan`, `spam`, `brute`, ... as in
//! `ecsirt:fraud="phishing"`); else an address, domain or url in MISP category `Payload
//! delivery` is malware_distribution; else `to_ids: true` is malicious; else none.
//!
//! MISP events are not converted to STIX objects here: the records are indicators only.
//!
//! # Feeds (`misp-feed`)
//!
//! A MISP feed is a directory: `manifest.json` (event uuid -> info, date, timestamp, tags) and
//! one `<uuid>.json` per event. The `misp-feed` format reads one event file exactly as
//! `misp-event` does; [`read_manifest`] reads the manifest into the list of events for the
//! fetcher, and reading a manifest with `misp-feed` is an input error saying so.
//!
//! # Feed catalogue (`misp-feed-metadata`)
//!
//! MISP's `defaults.json`, an array of `{"Feed": {...}}`: one `Record::Feed` per feed, with
//! name, provider, url, `enabled`, and our format name: known urls map to their reader
//! (`abusech-urlhaus`, `abusech-feodotracker`, `abusech-sslbl`, `abusech-threatfox`,
//! `openphish`, `cybercrime-tracker`, `phishtank` for the JSON dump); otherwise MISP
//! `source_format` `misp` is `misp-feed`, and `freetext` and `csv` are `freetext` (a MISP csv
//! feed is read by its value column, which free-text extraction finds as well).
//!
//! # Warninglists (`misp-warninglists`)
//!
//! One `lists/<name>/list.json` per input (the caller walks the folders). Each value that
//! canonicalises becomes a `Record::Benign` named after the list's `name`. Since the lists
//! write `list` before `type` (sorted keys), the values are held until the end of the file.
//! By `type`: `cidr` values are addresses or networks, `hostname` values are domains (a leading
//! `.` is dropped; the list matches subdomains), and a value of either that does not
//! canonicalise is a reject; `string` values are read as whatever observable they are, if the list's
//! `matching_attributes` name that kind, and the others (`localhost`, the ssdeep `3::`) are
//! skipped silently, being legitimate strings; `substring` and
//! `regex` lists match patterns, not values, so the list yields one reject saying it was skipped.

use std::collections::BTreeSet;
use std::io::BufRead;

use serde::Deserialize;
use serde_json::{Map, Value};
use watchfire_model::record::{BenignRecord, Category, FeedDefinition, IndicatorRecord, Record};
use watchfire_model::stix::Timestamp;
use watchfire_model::tlp::Tlp;
use watchfire_model::{Observable, ObservableKind};

use crate::json_stream::{self, Piece, SplitError, Splitter};
use crate::{Context, Error, Format, Item, time};

/// The formats this module reads.
pub const FORMATS: &[Format] = &[
    Format {
        name: "misp-event",
        summary: "MISP event JSON ({\"Event\": ...}, REST response, bare event or attribute)",
        read: read_events,
        detect: Some(detect_event),
    },
    Format {
        name: "misp-feed",
        summary: "MISP feed event file (<uuid>.json of a MISP feed directory)",
        read: read_feed,
        detect: Some(detect_manifest),
    },
    Format {
        name: "misp-feed-metadata",
        summary: "MISP default feed catalogue (defaults.json)",
        read: read_feed_metadata,
        detect: Some(detect_feed_metadata),
    },
    Format {
        name: "misp-warninglists",
        summary: "MISP warninglist (lists/<name>/list.json) as known-benign values",
        read: read_warninglist,
        detect: Some(detect_warninglist),
    },
];

/// One event of a MISP feed manifest.
#[derive(Clone, Debug, PartialEq)]
pub struct ManifestEvent {
    /// The event's uuid, which names its file (`<uuid>.json`).
    pub uuid: String,
    /// The event's title.
    pub info: Option<String>,
    /// The event's date, as given (`2015-12-18`).
    pub date: Option<String>,
    /// When the event last changed; a fetcher compares it to skip unchanged events.
    pub timestamp: Option<Timestamp>,
}

/// Reads a MISP feed `manifest.json` (an object keyed by event uuid) into its events, streamed
/// member by member. A member that is not an event object is a reject.
pub fn read_manifest(
    input: &mut dyn BufRead,
    context: &Context,
    on_reject: &mut dyn FnMut(Item),
) -> Result<Vec<ManifestEvent>, Error> {
    #[derive(Deserialize)]
    struct Entry {
        info: Option<String>,
        date: Option<String>,
        timestamp: Option<Value>,
    }
    let mut events = Vec::new();
    let mut splitter = Splitter::new(input, &[]);
    while let Some(piece) = next_piece(&mut splitter, context, on_reject)? {
        let (uuid, line, value) = match piece {
            Piece::Property { name, line, value } => (name, line, value),
            Piece::Element { line, .. } => {
                on_reject(context.reject(line, "manifest: expected an object keyed by event uuid"));
                continue;
            }
            Piece::Reject { line, reason } => {
                on_reject(context.reject(line, reason));
                continue;
            }
        };
        match serde_json::from_slice::<Entry>(value) {
            Ok(entry) => events.push(ManifestEvent {
                uuid: uuid.to_owned(),
                info: entry.info,
                date: entry.date,
                timestamp: entry.timestamp.as_ref().and_then(epoch),
            }),
            Err(error) => {
                on_reject(context.reject(line, format!("manifest event {uuid}: {error}")));
            }
        }
    }
    Ok(events)
}

/// Returns the next piece, turning a broken document into a reject (and the end).
fn next_piece<'s, R: std::io::Read>(
    splitter: &'s mut Splitter<'_, R>,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<Option<Piece<'s>>, Error> {
    match splitter.next_piece() {
        Ok(piece) => Ok(piece),
        Err(SplitError::Io(error)) => Err(Error::io(&context.file, error)),
        Err(SplitError::Broken { line, reason }) => {
            on_item(context.reject(line, reason));
            Ok(None)
        }
    }
}

fn detect_event(head: &[u8], _file_name: &str) -> bool {
    let is_object = json_stream::first_byte(head) == Some(b'{');
    let has_event = json_stream::head_has_key(head, "Event")
        || json_stream::head_has_key(head, "Attribute")
        || json_stream::head_has_key(head, "Object");
    let has_misp_keys = ["info", "to_ids", "threat_level_id", "category", "uuid"]
        .iter()
        .any(|key| json_stream::head_has_key(head, key));
    is_object && has_event && has_misp_keys
}

fn detect_manifest(head: &[u8], file_name: &str) -> bool {
    let text = head.trim_ascii_start();
    // `{"<uuid>": {"Orgc": ..., "info": ...}}`: the first key is a uuid.
    let first_key = text
        .strip_prefix(b"{")
        .map(<[u8]>::trim_ascii_start)
        .and_then(|rest| rest.strip_prefix(b"\""))
        .and_then(|rest| rest.get(..36));
    let is_uuid_key = first_key.is_some_and(|key| {
        key.iter().enumerate().all(|(at, byte)| match at {
            8 | 13 | 18 | 23 => *byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        })
    });
    is_uuid_key
        && (file_name == "manifest.json" || json_stream::head_has_key(head, "threat_level_id"))
}

fn detect_feed_metadata(head: &[u8], _file_name: &str) -> bool {
    json_stream::first_byte(head) == Some(b'[')
        && json_stream::head_has_key(head, "Feed")
        && json_stream::head_has_key(head, "source_format")
}

fn detect_warninglist(head: &[u8], _file_name: &str) -> bool {
    json_stream::first_byte(head) == Some(b'{')
        && json_stream::head_has_key(head, "list")
        && json_stream::head_has_key(head, "description")
        && (json_stream::head_has_key(head, "matching_attributes")
            || json_stream::head_has_key(head, "type"))
}

fn read_feed(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    let head = input.fill_buf().map_err(|error| Error::io(&context.file, error))?;
    let head = &head[..head.len().min(crate::DETECT_BYTES)];
    if detect_manifest(head, context.file_name()) {
        return Err(Error::input(
            &context.file,
            "a MISP feed manifest lists events and holds no indicators; read its <uuid>.json event files",
        ));
    }
    read_events(input, context, on_item)
}

fn read_events(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    let mut splitter = Splitter::new(input, &["Event", "response"]);
    let mut n_events = 0;
    while let Some(piece) = next_piece(&mut splitter, context, on_item)? {
        let (key, line, bytes) = match piece {
            Piece::Element { key, line, bytes, .. } => (key, line, bytes),
            Piece::Property { .. } => continue,
            Piece::Reject { line, reason } => {
                on_item(context.reject(line, reason));
                continue;
            }
        };
        n_events += 1;
        let event = match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(mut object)) => match (key, object.remove("Event")) {
                (Some("response") | None, Some(Value::Object(event))) => event,
                (_, Some(_)) => {
                    on_item(context.reject(line, "event: \"Event\" is not an object"));
                    continue;
                }
                (_, None) => object,
            },
            Ok(_) => {
                on_item(context.reject(line, "event: expected a json object"));
                continue;
            }
            Err(error) => {
                on_item(context.reject(line, format!("event: invalid json: {error}")));
                continue;
            }
        };
        read_event(context, on_item, line, &event);
    }
    if n_events > 0 {
        return Ok(());
    }
    // No `Event` or `response`: the document is a bare event or a lone attribute.
    let document: Map<String, Value> = splitter
        .properties()
        .iter()
        .filter_map(|(name, raw)| Some((name.clone(), serde_json::from_slice(raw).ok()?)))
        .collect();
    let is_attribute = document.contains_key("type") && document.contains_key("value");
    if is_attribute {
        let event =
            Map::from_iter([("Attribute".to_owned(), Value::Array(vec![Value::Object(document)]))]);
        read_event(context, on_item, 1, &event);
    } else if !document.is_empty() {
        read_event(context, on_item, 1, &document);
    }
    Ok(())
}

/// What an event gives each of its attributes.
struct EventContext<'e> {
    tags: Vec<&'e str>,
    tlp: Option<Tlp>,
    malware: Option<String>,
    references: Vec<String>,
    info: Option<&'e str>,
}

/// Reads one event (starting at `line`) into its indicator records.
fn read_event(
    context: &Context,
    on_item: &mut dyn FnMut(Item),
    line: u64,
    event: &Map<String, Value>,
) {
    let tags = tag_names(event);
    let attributes = array(event, "Attribute");
    let references = attributes
        .iter()
        .filter(|attribute| str_field(attribute, "type") == Some("link") && !is_deleted(attribute))
        .filter_map(|attribute| str_field(attribute, "value"))
        .map(str::to_owned)
        .collect();
    let event_context = EventContext {
        tlp: tags.iter().filter_map(|tag| Tlp::from_misp_tag(tag)).max(),
        malware: tags.iter().find_map(|tag| galaxy_malware(tag)),
        info: str_field(event, "info"),
        references,
        tags,
    };
    for attribute in attributes {
        read_attribute(context, on_item, line, &event_context, attribute, None);
    }
    for object in array(event, "Object") {
        let object_attributes = array(object, "Attribute");
        let port = object_attributes
            .iter()
            .filter(|attribute| {
                matches!(
                    str_field(attribute, "object_relation"),
                    Some("dst-port" | "src-port" | "port")
                )
            })
            .find_map(|attribute| str_field(attribute, "value")?.trim().parse::<u16>().ok());
        for attribute in object_attributes {
            read_attribute(context, on_item, line, &event_context, attribute, port);
        }
    }
}

/// Reads one attribute into zero, one or two indicator records.
fn read_attribute(
    context: &Context,
    on_item: &mut dyn FnMut(Item),
    line: u64,
    event: &EventContext<'_>,
    attribute: &Map<String, Value>,
    object_port: Option<u16>,
) {
    if is_deleted(attribute) {
        return;
    }
    let (Some(attribute_type), Some(value)) =
        (str_field(attribute, "type"), str_field(attribute, "value"))
    else {
        return;
    };
    let Some(parts) = split_value(attribute_type, value) else { return };
    let uuid = str_field(attribute, "uuid").unwrap_or("without uuid");
    let to_ids =
        attribute.get("to_ids").is_some_and(|to_ids| to_ids == &Value::Bool(true) || to_ids == "1");
    let attribute_tags = tag_names(attribute);
    let mut tags: Vec<String> = Vec::new();
    for tag in attribute_tags.iter().chain(&event.tags) {
        if !tags.iter().any(|known| known == tag) {
            tags.push((*tag).to_owned());
        }
    }
    if !to_ids {
        tags.push("to_ids:false".to_owned());
    }
    let tag_category = attribute_tags.iter().chain(&event.tags).find_map(|tag| tag_category(tag));
    let is_payload_delivery = str_field(attribute, "category") == Some("Payload delivery");
    let timestamp = |name: &str| attribute.get(name).and_then(epoch_or_text);
    for (kind, text, port) in parts {
        let observable = match parse_observable(kind, text) {
            Ok(observable) => observable,
            Err(reason) => {
                on_item(
                    context.reject(line, format!("attribute {uuid} ({attribute_type}): {reason}")),
                );
                continue;
            }
        };
        let is_network = matches!(
            observable.kind(),
            ObservableKind::Ipv4
                | ObservableKind::Ipv6
                | ObservableKind::Cidr
                | ObservableKind::Domain
                | ObservableKind::Url
        );
        let category = tag_category
            .or((is_payload_delivery && is_network).then_some(Category::MalwareDistribution))
            .or(to_ids.then_some(Category::Malicious));
        let port = port.or(if is_network { object_port } else { None });
        let description = str_field(attribute, "comment")
            .filter(|comment| !comment.trim().is_empty())
            .or(event.info);
        let record = IndicatorRecord {
            category,
            first_seen: timestamp("first_seen"),
            last_seen: timestamp("last_seen").or_else(|| timestamp("timestamp")),
            malware: event.malware.clone(),
            port,
            tags: tags.clone(),
            references: event.references.clone(),
            tlp: attribute_tags
                .iter()
                .filter_map(|tag| Tlp::from_misp_tag(tag))
                .max()
                .or(event.tlp),
            description: description.map(str::to_owned),
            ..IndicatorRecord::new(observable)
        };
        on_item(Item::Record(Record::Indicator(record)));
    }
}

/// How one part of an attribute's value is read: `None` kind means any address or network.
type Part<'v> = (Option<ObservableKind>, &'v str, Option<u16>);

/// Splits an attribute value by its MISP type into the parts that are observables; `None` for
/// types that name no observable.
fn split_value<'v>(attribute_type: &str, value: &'v str) -> Option<Vec<Part<'v>>> {
    let single = |kind: Option<ObservableKind>| Some(vec![(kind, value, None)]);
    let (first, second) = value.split_once('|').unwrap_or((value, ""));
    let port = second.trim().parse::<u16>().ok();
    match attribute_type {
        "ip-src" | "ip-dst" => single(None),
        "domain" | "hostname" => single(Some(ObservableKind::Domain)),
        "url" => single(Some(ObservableKind::Url)),
        "md5" => single(Some(ObservableKind::Md5)),
        "sha1" => single(Some(ObservableKind::Sha1)),
        "sha256" => single(Some(ObservableKind::Sha256)),
        "sha512" => single(Some(ObservableKind::Sha512)),
        "email" | "email-src" | "email-dst" => single(Some(ObservableKind::Email)),
        "AS" => single(Some(ObservableKind::Asn)),
        "ip-src|port" | "ip-dst|port" => Some(vec![(None, first, port)]),
        "hostname|port" => Some(vec![(Some(ObservableKind::Domain), first, port)]),
        "domain|ip" => {
            Some(vec![(Some(ObservableKind::Domain), first, None), (None, second, None)])
        }
        "filename|md5" => Some(vec![(Some(ObservableKind::Md5), second, None)]),
        "filename|sha1" => Some(vec![(Some(ObservableKind::Sha1), second, None)]),
        "filename|sha256" => Some(vec![(Some(ObservableKind::Sha256), second, None)]),
        "filename|sha512" => Some(vec![(Some(ObservableKind::Sha512), second, None)]),
        _ => None,
    }
}

/// Canonicalises one part; `None` kind accepts an IPv4 or IPv6 address or network.
fn parse_observable(kind: Option<ObservableKind>, text: &str) -> Result<Observable, String> {
    // The observable error names the text: `invalid observable "x": ...`.
    let invalid = |error: &dyn std::fmt::Display| error.to_string();
    match kind {
        Some(kind) => Observable::parse_as(kind, text).map_err(|error| invalid(&error)),
        None => {
            let kind = if text.contains('/') {
                ObservableKind::Cidr
            } else if text.contains(':') {
                ObservableKind::Ipv6
            } else {
                ObservableKind::Ipv4
            };
            Observable::parse_as(kind, text).map_err(|error| invalid(&error))
        }
    }
}

/// Returns the precise category a MISP tag names (`ecsirt:fraud="phishing"`), if any.
fn tag_category(tag: &str) -> Option<Category> {
    if tag.starts_with("tlp:") || tag.starts_with("misp-galaxy:") {
        return None;
    }
    crate::stix::label_category(&tag.to_ascii_lowercase())
}

/// Returns the malware family of a galaxy tag of a malware galaxy.
fn galaxy_malware(tag: &str) -> Option<String> {
    const MALWARE_GALAXIES: &[&str] = &[
        "malpedia",
        "tool",
        "banker",
        "botnet",
        "ransomware",
        "rat",
        "stealer",
        "backdoor",
        "android",
    ];
    let (galaxy, value) = tag.strip_prefix("misp-galaxy:")?.split_once('=')?;
    let value = value.trim_matches('"');
    (MALWARE_GALAXIES.contains(&galaxy) && !value.is_empty()).then(|| value.to_owned())
}

fn tag_names(object: &Map<String, Value>) -> Vec<&str> {
    array(object, "Tag").iter().filter_map(|tag| str_field(tag, "name")).collect()
}

fn array<'o>(object: &'o Map<String, Value>, name: &str) -> Vec<&'o Map<String, Value>> {
    match object.get(name) {
        Some(Value::Array(values)) => values.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    }
}

fn str_field<'o>(object: &'o Map<String, Value>, name: &str) -> Option<&'o str> {
    object.get(name).and_then(Value::as_str)
}

fn is_deleted(attribute: &Map<String, Value>) -> bool {
    attribute.get("deleted").is_some_and(|deleted| deleted == &Value::Bool(true) || deleted == "1")
}

/// Reads epoch seconds given as a number or a string of digits.
fn epoch(value: &Value) -> Option<Timestamp> {
    match value {
        Value::Number(number) => time::parse(&number.to_string()).ok(),
        Value::String(text)
            if !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) =>
        {
            time::parse(text).ok()
        }
        _ => None,
    }
}

/// Reads epoch seconds or a timestamp text (MISP `first_seen` is ISO 8601).
fn epoch_or_text(value: &Value) -> Option<Timestamp> {
    epoch(value).or_else(|| time::parse(value.as_str()?).ok())
}

fn read_feed_metadata(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    #[derive(Deserialize)]
    struct Entry {
        #[serde(rename = "Feed")]
        feed: Feed,
    }
    #[derive(Deserialize)]
    struct Feed {
        name: String,
        #[serde(default)]
        provider: String,
        url: String,
        #[serde(default)]
        source_format: String,
        #[serde(default)]
        enabled: bool,
    }
    let mut splitter = Splitter::new(input, &[]);
    while let Some(piece) = next_piece(&mut splitter, context, on_item)? {
        let (line, bytes) = match piece {
            Piece::Element { key: None, line, bytes, .. } => (line, bytes),
            Piece::Element { line, .. } | Piece::Property { line, .. } => {
                on_item(context.reject(line, "expected an array of {\"Feed\": ...} entries"));
                return Ok(());
            }
            Piece::Reject { line, reason } => {
                on_item(context.reject(line, reason));
                continue;
            }
        };
        match serde_json::from_slice::<Entry>(bytes) {
            Ok(Entry { feed }) => {
                let format = feed_format(&feed.url, &feed.source_format).to_owned();
                on_item(Item::Record(Record::Feed(FeedDefinition {
                    name: feed.name,
                    provider: feed.provider,
                    url: feed.url,
                    format,
                    enabled: feed.enabled,
                })));
            }
            Err(error) => on_item(context.reject(line, format!("feed: {error}"))),
        }
    }
    Ok(())
}

/// Returns our format name for a MISP feed (see the module doc).
fn feed_format(url: &str, source_format: &str) -> &'static str {
    const BY_URL: &[(&str, &str)] = &[
        ("urlhaus.abuse.ch/downloads/csv", "abusech-urlhaus"),
        ("feodotracker.abuse.ch/downloads/ipblocklist.csv", "abusech-feodotracker"),
        ("sslbl.abuse.ch/blacklist/sslblacklist.csv", "abusech-sslbl"),
        ("threatfox.abuse.ch/export/csv", "abusech-threatfox"),
        ("openphish.com/feed.txt", "openphish"),
        ("cybercrime-tracker.net/all.php", "cybercrime-tracker"),
        ("phishtank.com/data/online-valid.json", "phishtank"),
    ];
    if let Some((_, format)) = BY_URL.iter().find(|(part, _)| url.contains(part)) {
        return format;
    }
    match source_format {
        "misp" => "misp-feed",
        _ => "freetext",
    }
}

fn read_warninglist(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    let mut splitter = Splitter::new(input, &["list"]);
    let mut values: Vec<(u64, String)> = Vec::new();
    while let Some(piece) = next_piece(&mut splitter, context, on_item)? {
        match piece {
            Piece::Element { line, bytes, .. } => match serde_json::from_slice::<String>(bytes) {
                Ok(value) => values.push((line, value)),
                Err(_) => on_item(context.reject(line, "list: expected a string")),
            },
            Piece::Property { .. } => {}
            Piece::Reject { line, reason } => on_item(context.reject(line, reason)),
        }
    }
    let property =
        |name: &str| -> Option<String> { serde_json::from_slice(splitter.property(name)?).ok() };
    let list_type = property("type").unwrap_or_default();
    let matching: Vec<String> = splitter
        .property("matching_attributes")
        .and_then(|raw| serde_json::from_slice(raw).ok())
        .unwrap_or_default();
    let Some(list) = property("name") else {
        return Err(Error::input(&context.file, "warninglist has no \"name\""));
    };
    let kind = match list_type.as_str() {
        "cidr" => None,
        "hostname" => Some(ObservableKind::Domain),
        "string" => {
            // Only kinds the list's `matching_attributes` name, so `3::` (an ssdeep hash of
            // nothing) in a list of hashes is not read as an IPv6 address.
            let mut kinds = BTreeSet::new();
            for attribute_type in &matching {
                for (kind, _, _) in split_value(attribute_type, "|").unwrap_or_default() {
                    match kind {
                        Some(kind) => kinds.extend([kind]),
                        None => kinds.extend([
                            ObservableKind::Ipv4,
                            ObservableKind::Ipv6,
                            ObservableKind::Cidr,
                        ]),
                    }
                }
            }
            for (_, value) in values {
                let observable = Observable::parse(&value);
                let observable = observable
                    .ok()
                    .filter(|observable| matching.is_empty() || kinds.contains(&observable.kind()));
                if let Some(observable) = observable {
                    on_item(Item::Record(Record::Benign(BenignRecord {
                        observable,
                        list: list.clone(),
                    })));
                }
            }
            return Ok(());
        }
        other => {
            let reason =
                format!("warninglist type {other:?} matches patterns, not values: list skipped");
            on_item(context.reject(1, reason));
            return Ok(());
        }
    };
    let mut seen = BTreeSet::new();
    for (line, value) in values {
        let text = if kind.is_some() { value.trim_start_matches('.') } else { value.as_str() };
        match parse_observable(kind, text) {
            Ok(observable) if seen.insert(observable.clone()) => {
                on_item(Item::Record(Record::Benign(BenignRecord {
                    observable,
                    list: list.clone(),
                })));
            }
            Ok(_) => {}
            Err(reason) => on_item(context.reject(line, format!("list: {reason}"))),
        }
    }
    Ok(())
}
