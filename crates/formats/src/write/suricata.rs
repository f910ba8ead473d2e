//! Suricata 7/8 rules, IP reputation lists and datasets.
//!
//! Rules, one per indicator, with sids counting up from `WriteOptions::sid_base` (the only state):
//! - an address or CIDR: `alert ip` to it from `$HOME_NET`, or from it to `$HOME_NET` when the
//!   category is a source of attacks (scanner, brute force, spam, amplifier, infected host);
//! - a domain: `alert dns` with `dns.query; dotprefix; content:".evil.example"; nocase; endswith;`,
//!   which matches the name and its subdomains and nothing else;
//! - a URL: `alert http` with `http.host` and `http.uri`, each matched exactly (`bsize`); an
//!   `https` URL matches only where TLS is decrypted in front of Suricata.
//!
//! `msg` names the category, the observable and the source; `classtype` follows the category, from
//! Suricata's stock `classification.config`. Suricata matches file hashes only against list files
//! (`filemd5:` and friends), not inline, so hashes are skipped here, as are emails, ASNs and STIX
//! patterns.
//!
//! The IP reputation list (`iprep`) has one `address,category,score` line per address or CIDR;
//! its categories file is [`iprep_categories`] (one id per watchfire category) and the score is
//! the record's confidence, 100 when it has none. The dataset files hold domains (`type string`,
//! base64) or SHA-256 hashes (`type sha256`); see [`DatasetWriter`].

use std::fmt::Write as _;
use std::io::{self, Write};

use watchfire_model::record::{Category, Confidence, IndicatorRecord, Record};
use watchfire_model::{Observable, ObservableKind};

use super::{
    Outcome, SkipReason, WriteOptions, Writer, category_name, indicator_observable, skip_or,
};

/// Writes Suricata rules.
#[derive(Debug)]
pub(super) struct SuricataWriter {
    options: WriteOptions,
    next_sid: u32,
}

impl SuricataWriter {
    pub(super) fn new(options: WriteOptions) -> SuricataWriter {
        let next_sid = options.sid_base;
        SuricataWriter { options, next_sid }
    }
}

impl Writer for SuricataWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let source = self.options.source.replace(['\r', '\n'], " ");
        writeln!(out, "# watchfire Suricata rules from {source}, {}", self.options.created)
    }

    fn write(&mut self, out: &mut dyn Write, record: &Record) -> io::Result<Outcome> {
        let rule = indicator_observable(record).and_then(|(indicator, observable)| {
            let msg = msg(&self.options, indicator, observable);
            let body = match observable.kind() {
                ObservableKind::Cidr | ObservableKind::Ipv4 | ObservableKind::Ipv6 => {
                    format!("{} ({msg}", ip_header(indicator, observable))
                }
                ObservableKind::Domain => format!(
                    "alert dns $HOME_NET any -> any any ({msg} dns.query; dotprefix; content:\".{}\"; nocase; endswith;",
                    content_text(observable.value().as_bytes()),
                ),
                ObservableKind::Url => {
                    let (host, uri) = url_parts(observable);
                    format!(
                        "alert http $HOME_NET any -> $EXTERNAL_NET any ({msg} flow:established,to_server; http.host; content:\"{}\"; bsize:{}; http.uri; content:\"{}\"; bsize:{};",
                        content_text(host.as_bytes()),
                        host.len(),
                        content_text(uri.as_bytes()),
                        uri.len(),
                    )
                }
                kind => return Err(SkipReason::Kind(kind)),
            };
            Ok((body, indicator))
        });
        skip_or(rule, |(body, indicator)| {
            let sid = take_sid(&mut self.next_sid)?;
            writeln!(out, "{body} classtype:{}; sid:{sid}; rev:1;)", classtype(indicator))
        })
    }

    fn finish(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

/// Writes a Suricata IP reputation list.
#[derive(Debug)]
pub(super) struct IprepWriter;

impl Writer for IprepWriter {
    fn begin(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }

    fn write(&mut self, out: &mut dyn Write, record: &Record) -> io::Result<Outcome> {
        let line =
            indicator_observable(record).and_then(|(indicator, observable)| {
                match observable.network() {
                    Some(_) => Ok((indicator, observable)),
                    None => Err(SkipReason::Kind(observable.kind())),
                }
            });
        skip_or(line, |(indicator, observable)| {
            let category = indicator.category.unwrap_or(Category::Malicious);
            let score = indicator.confidence.map_or(100, Confidence::get);
            writeln!(out, "{},{},{score}", observable.value(), iprep_category_id(category))
        })
    }

    fn finish(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

/// Returns the categories file that goes with the `suricata-iprep` lists
/// (`reputation-categories-file`): `id,short name,description`, one line per watchfire category.
pub fn iprep_categories() -> String {
    let mut text = String::new();
    for category in Category::ALL {
        let id = iprep_category_id(category);
        // Writing to a String cannot fail.
        let _ = writeln!(text, "{id},{category},watchfire category {category}");
    }
    text
}

/// The iprep id of a category: its position in `Category::ALL`, from 1 (iprep allows 1 to 60).
fn iprep_category_id(category: Category) -> usize {
    Category::ALL.iter().position(|known| *known == category).map_or(0, |index| index + 1)
}

/// The `alert ip` header (also Snort's) for an address or CIDR, direction by category.
pub(super) fn ip_header(indicator: &IndicatorRecord, observable: &Observable) -> String {
    let address = observable.value();
    match is_attack_source(indicator) {
        true => format!("alert ip [{address}] any -> $HOME_NET any"),
        false => format!("alert ip $HOME_NET any -> [{address}] any"),
    }
}

/// Whether the category names the address as a source of attacks rather than a destination.
pub(super) fn is_attack_source(indicator: &IndicatorRecord) -> bool {
    matches!(
        indicator.category,
        Some(
            Category::BruteForce
                | Category::DdosAmplifier
                | Category::Infected
                | Category::Scanner
                | Category::Spam
        )
    )
}

/// `msg:"...";` naming the category, the observable and the source.
pub(super) fn msg(
    options: &WriteOptions,
    indicator: &IndicatorRecord,
    observable: &Observable,
) -> String {
    let text = format!(
        "watchfire {} {} {} from {}",
        category_name(indicator),
        observable.kind().as_str(),
        observable.value(),
        options.source
    );
    let mut escaped = String::with_capacity(text.len() + 8);
    for character in text.chars() {
        match character {
            '\\' | '"' | ';' => {
                escaped.push('\\');
                escaped.push(character);
            }
            control if control.is_control() => escaped.push(' '),
            other => escaped.push(other),
        }
    }
    format!("msg:\"{escaped}\";")
}

/// Bytes as the inside of a `content:"..."` string: printable ASCII as is, except the characters
/// rules give a meaning (`"`, `;`, `\`, `|`), which are written in hex like every other byte.
pub(super) fn content_text(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for byte in bytes {
        match byte {
            b'"' | b';' | b'\\' | b'|' => {
                let _ = write!(text, "|{byte:02x}|");
            }
            0x20..=0x7e => text.push(char::from(*byte)),
            _ => {
                let _ = write!(text, "|{byte:02x}|");
            }
        }
    }
    text
}

/// The host and the request target (path and query, `/` at least) of a canonical URL.
pub(super) fn url_parts(observable: &Observable) -> (&str, String) {
    let host = observable.host().unwrap_or_default();
    let value = observable.value();
    let after_scheme = value.split_once("://").map_or(value, |(_, rest)| rest);
    let target = after_scheme.find(['/', '?']).map_or("", |start| &after_scheme[start..]);
    let uri = match target.starts_with('/') {
        true => target.to_owned(),
        false => format!("/{target}"),
    };
    (host, uri)
}

/// The rule class of a category, from the stock `classification.config` of Suricata and Snort.
pub(super) fn classtype(indicator: &IndicatorRecord) -> &'static str {
    match indicator.category {
        Some(Category::BotnetC2 | Category::Infected | Category::MalwareDistribution) => {
            "trojan-activity"
        }
        Some(Category::Phishing) => "social-engineering",
        Some(Category::Scanner) => "attempted-recon",
        Some(Category::BruteForce | Category::DdosAmplifier) => "misc-attack",
        Some(Category::TorExit | Category::Spam) => "policy-violation",
        _ => "bad-unknown",
    }
}

/// Returns the next sid and advances, failing when the 32-bit sid space is used up.
pub(super) fn take_sid(next_sid: &mut u32) -> io::Result<u32> {
    let sid = *next_sid;
    *next_sid = sid.checked_add(1).ok_or_else(|| io::Error::other("rule sids exhausted"))?;
    Ok(sid)
}

/// Writes a Suricata dataset file of one type: domains as `type string` (each line the base64 of
/// the name) or SHA-256 hashes as `type sha256` (each line the hex digest, which is also the list
/// format of the `filesha256:` keyword). Rules load them, for example
/// `dns.query; dataset:isset,watchfire-domains,type string,load watchfire-domains.lst;` and
/// `filesha256:watchfire.sha256;`.
#[derive(Debug)]
pub(super) struct DatasetWriter {
    kind: ObservableKind,
}

impl DatasetWriter {
    /// Returns a writer of the observables of `kind` (domain or sha256).
    pub(super) fn new(kind: ObservableKind) -> DatasetWriter {
        DatasetWriter { kind }
    }
}

impl Writer for DatasetWriter {
    fn begin(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }

    fn write(&mut self, out: &mut dyn Write, record: &Record) -> io::Result<Outcome> {
        let value = indicator_observable(record).and_then(|(_, observable)| {
            match observable.kind() == self.kind {
                true => Ok(observable.value()),
                false => Err(SkipReason::Kind(observable.kind())),
            }
        });
        skip_or(value, |value| match self.kind {
            ObservableKind::Sha256 => writeln!(out, "{value}"),
            _ => writeln!(out, "{}", base64(value.as_bytes())),
        })
    }

    fn finish(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

/// Standard base64 with padding (RFC 4648 section 4), as Suricata's string datasets read it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let group = chunk
            .iter()
            .enumerate()
            .fold(0_u32, |group, (index, byte)| group | u32::from(*byte) << (16 - 8 * index));
        for position in 0..4 {
            let is_padding = position > chunk.len();
            let sextet = (group >> (18 - 6 * position)) & 0x3f;
            text.push(if is_padding { '=' } else { char::from(ALPHABET[sextet as usize]) });
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_test_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in vectors {
            assert_eq!(base64(input.as_bytes()), expected, "{input:?}");
        }
    }
}
