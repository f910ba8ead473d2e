//! OpenPhish (format `openphish`): the public `feed.txt` (one URL per line) and the commercial
//! feed (JSON Lines with `url`, `ip`, `asn`, `brand`, `sector`, `isotime`, `discover_time`).
//! Both are read line by line; a line starting with `{` is a commercial record.
//!
//! Every URL is a phishing indicator (OpenPhish lists phishing only). Commercial records add
//! `first_seen` (`isotime`, else the day-first `discover_time`), and tags `brand:<brand>` and
//! `sector:<sector>`; the hosting `ip` and `asn` are kept as tags (`ip:…`, `asn:AS13335`)
//! rather than made indicators, since phishing sites are mostly on shared hosting. Blank
//! lines and `#` comments are skipped; a URL that does not canonicalise (the sample's
//! `www..example.com`) is a reject.

use std::io::BufRead;

use serde::Deserialize;
use watchfire_model::record::{Category, IndicatorRecord, Record};
use watchfire_model::{Observable, ObservableKind};

use crate::input::Lines;
use crate::{Context, Error, Format, Item, json_stream, time};

/// The format this module reads.
pub const FORMATS: &[Format] = &[Format {
    name: "openphish",
    summary: "OpenPhish feed.txt (phishing URLs) or commercial JSON Lines feed",
    read,
    detect: Some(detect),
}];

fn detect(head: &[u8], file_name: &str) -> bool {
    let is_commercial = json_stream::first_byte(head) == Some(b'{')
        && json_stream::head_has_key(head, "isotime")
        && json_stream::head_has_key(head, "brand")
        && json_stream::head_has_key(head, "family_id");
    // The plain URL list has no banner: the file name is the hint, and the first value line must be
    // a URL, so OpenPhish-derived domain lists (pi-hole exports) stay plain domain lists.
    let first_value_line = head
        .split(|&byte| byte == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|line| !line.is_empty() && !line.starts_with(b"#"));
    let starts_with_url = first_value_line
        .is_some_and(|line| line.starts_with(b"http://") || line.starts_with(b"https://"));
    is_commercial || (file_name.to_ascii_lowercase().contains("openphish") && starts_with_url)
}

#[derive(Deserialize)]
struct Commercial {
    url: String,
    #[serde(default)]
    ip: Option<String>,
    #[serde(default)]
    asn: Option<String>,
    #[serde(default)]
    brand: Option<String>,
    #[serde(default)]
    sector: Option<String>,
    #[serde(default)]
    isotime: Option<String>,
    #[serde(default)]
    discover_time: Option<String>,
}

fn read(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    let mut lines = Lines::new(input);
    while let Some(line) =
        lines.next_line(&context.file).map_err(|error| Error::io(&context.file, error))?
    {
        let (number, text) = match line {
            Ok((number, text)) => (number, text.trim()),
            Err(reject) => {
                on_item(Item::Reject(reject));
                continue;
            }
        };
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let (url, first_seen, tags) = if text.starts_with('{') {
            let record = match serde_json::from_str::<Commercial>(text) {
                Ok(record) => record,
                Err(error) => {
                    on_item(context.reject(number, format!("invalid json: {error}")));
                    continue;
                }
            };
            let first_seen = [&record.isotime, &record.discover_time]
                .into_iter()
                .flatten()
                .find_map(|text| time::parse(text).ok());
            let tags = [
                ("brand", &record.brand),
                ("sector", &record.sector),
                ("ip", &record.ip),
                ("asn", &record.asn),
            ]
            .into_iter()
            .filter_map(|(name, value)| {
                Some(format!("{name}:{}", value.as_deref().filter(|value| !value.is_empty())?))
            })
            .collect();
            (record.url, first_seen, tags)
        } else {
            (text.to_owned(), None, Vec::new())
        };
        let observable = match Observable::parse_as(ObservableKind::Url, &url) {
            Ok(observable) => observable,
            Err(error) => {
                on_item(context.reject(number, format!("url: {error}")));
                continue;
            }
        };
        let record = IndicatorRecord {
            category: Some(Category::Phishing),
            first_seen,
            tags,
            ..IndicatorRecord::new(observable)
        };
        on_item(Item::Record(Record::Indicator(record)));
    }
    Ok(())
}
