//! A Zeek Intel framework file (`Intel::read_files`): a `#fields` header, then one tab-separated
//! line per indicator: the indicator, its `Intel::Type`, `meta.source` and `meta.desc`.
//!
//! Types: addresses `Intel::ADDR`, CIDRs `Intel::SUBNET`, domains `Intel::DOMAIN`, emails
//! `Intel::EMAIL`, hashes `Intel::FILE_HASH`, and URLs `Intel::URL` without their scheme, as
//! Zeek's HTTP analyser builds the URL it looks up (`host[:port]/path?query`). ASNs and STIX
//! patterns have no Intel type and are skipped. `meta.desc` is the category, then the malware
//! family and description. Tabs and line breaks inside values become spaces (Zeek's ASCII reader
//! splits on them); an empty field is written `-`, Zeek's unset marker.

use std::io::{self, Write};

use watchfire_model::ObservableKind;
use watchfire_model::record::Record;

use super::{
    Outcome, SkipReason, WriteOptions, Writer, category_name, indicator_observable, skip_or,
};

/// Writes a Zeek Intel file.
#[derive(Debug)]
pub(super) struct ZeekWriter {
    options: WriteOptions,
}

impl ZeekWriter {
    pub(super) fn new(options: WriteOptions) -> ZeekWriter {
        ZeekWriter { options }
    }
}

impl Writer for ZeekWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc")
    }

    fn write(&mut self, out: &mut dyn Write, record: &Record) -> io::Result<Outcome> {
        let line = indicator_observable(record).and_then(|(indicator, observable)| {
            let value = observable.value();
            let (indicator_text, intel_type) = match observable.kind() {
                ObservableKind::Ipv4 | ObservableKind::Ipv6 => (value, "Intel::ADDR"),
                ObservableKind::Cidr => (value, "Intel::SUBNET"),
                ObservableKind::Domain => (value, "Intel::DOMAIN"),
                ObservableKind::Email => (value, "Intel::EMAIL"),
                ObservableKind::Md5
                | ObservableKind::Sha1
                | ObservableKind::Sha256
                | ObservableKind::Sha512 => (value, "Intel::FILE_HASH"),
                ObservableKind::Url => {
                    (value.split_once("://").map_or(value, |(_, rest)| rest), "Intel::URL")
                }
                kind => return Err(SkipReason::Kind(kind)),
            };
            let mut description = category_name(indicator).to_owned();
            for part in [&indicator.malware, &indicator.description].into_iter().flatten() {
                description.push_str(": ");
                description.push_str(part);
            }
            Ok((indicator_text, intel_type, description))
        });
        skip_or(line, |(indicator_text, intel_type, description)| {
            writeln!(
                out,
                "{}\t{intel_type}\t{}\t{}",
                field(indicator_text),
                field(&self.options.source),
                field(&description)
            )
        })
    }

    fn finish(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

// A value as Zeek's ASCII reader takes it: no separators inside, `-` for empty.
fn field(value: &str) -> String {
    let value = value.replace(['\t', '\r', '\n'], " ");
    if value.is_empty() { "-".to_owned() } else { value }
}
