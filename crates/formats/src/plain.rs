//! The generic lists: `plain-ip` (one IPv4, IPv6 address or CIDR network a line) and
//! `plain-domain` (one domain a line), for the many feeds that are nothing more.
//!
//! Lines whose first non-blank text starts with `#`, `;` or `//` are comments. The value is the
//! first blank-separated word, so trailing comments (`192.0.2.1 # scanner`) and extra columns
//! (`192.0.2.1<TAB>22`) are tolerated; in `plain-domain`, a hosts-file line
//! (`0.0.0.0 host` or `127.0.0.1 host`) gives the host. The records carry no category: the list
//! alone does not say what kind of threat it holds.
//!
//! Detection claims an input only when nearly every (19 of 20) non-comment line in the head is
//! one value of the kind, with at most a trailing comment, and these formats come last.

use std::io::BufRead;

use watchfire_model::observable::{Observable, ObservableKind};
use watchfire_model::record::{IndicatorRecord, Record};

use crate::input::for_each_line;
use crate::{Context, Error, Format, Item};

/// The generic list formats, in detection order.
pub const FORMATS: &[Format] = &[
    Format {
        name: "plain-ip",
        summary: "one IP address or CIDR network a line, # or ; comments",
        read: read_plain_ip,
        detect: Some(|head, _| detect_plain(head, ip_value)),
    },
    Format {
        name: "plain-domain",
        summary: "one domain a line, # or ; comments, hosts-file lines accepted",
        read: read_plain_domain,
        detect: Some(|head, _| detect_plain(head, domain_value)),
    },
];

/// Returns the value word of a line, or `None` for a blank or comment line.
fn value_word(line: &str) -> Option<(&str, Option<&str>)> {
    let content = line.trim();
    let is_comment =
        content.starts_with('#') || content.starts_with(';') || content.starts_with("//");
    if content.is_empty() || is_comment {
        return None;
    }
    let mut words = content.split_whitespace();
    let first = words.next()?;
    let second = words.next().filter(|word| !word.starts_with('#') && !word.starts_with(';'));
    Some((first, second))
}

fn ip_value(first: &str, _second: Option<&str>) -> Result<Observable, String> {
    let observable = Observable::parse(first).map_err(|error| error.to_string())?;
    match observable.kind() {
        ObservableKind::Ipv4 | ObservableKind::Ipv6 | ObservableKind::Cidr => Ok(observable),
        kind => Err(format!(
            "{first:?} is a {kind:?}, not an ip address or network",
            kind = kind.as_str()
        )),
    }
}

fn domain_value(first: &str, second: Option<&str>) -> Result<Observable, String> {
    let word = match second {
        Some(host) if first == "0.0.0.0" || first == "127.0.0.1" || first == "::1" => host,
        _ => first,
    };
    Observable::parse_as(ObservableKind::Domain, word).map_err(|error| error.to_string())
}

fn read_plain(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
    value: fn(&str, Option<&str>) -> Result<Observable, String>,
) -> Result<(), Error> {
    for_each_line(input, context, on_item, &mut |number, text, on_item| {
        let Some((first, second)) = value_word(text) else { return };
        match value(first, second) {
            Ok(observable) => {
                on_item(Item::Record(Record::Indicator(IndicatorRecord::new(observable))));
            }
            Err(reason) => on_item(context.reject(number, reason)),
        }
    })
}

fn read_plain_ip(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    read_plain(input, context, on_item, ip_value)
}

fn read_plain_domain(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    read_plain(input, context, on_item, domain_value)
}

/// Whether at least 19 of 20 value lines of the head (the last, maybe cut, line aside) are one
/// value each.
fn detect_plain(head: &[u8], value: fn(&str, Option<&str>) -> Result<Observable, String>) -> bool {
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(error) => match std::str::from_utf8(&head[..error.valid_up_to()]) {
            Ok(text) => text,
            Err(_) => return false,
        },
    };
    let complete = match text.rfind('\n') {
        Some(end) if end + 1 < text.len() => &text[..end],
        _ => text,
    };
    let (mut n_values, mut n_good) = (0usize, 0usize);
    for line in complete.lines() {
        let Some((first, second)) = value_word(line) else { continue };
        n_values += 1;
        // A hosts-file pair counts for domains; any other second word means more than one value.
        let is_good = value(first, second).is_ok_and(|observable| {
            second.is_none() || observable.value() != first.to_ascii_lowercase()
        });
        n_good += usize::from(is_good);
    }
    n_values > 0 && n_good * 20 >= n_values * 19
}
