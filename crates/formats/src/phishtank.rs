//! PhishTank's `online-valid.json` (format `phishtank`): a JSON array of verified, online
//! phishing URLs, streamed entry by entry.
//!
//! Every entry is a phishing indicator of its `url`, with `first_seen` the `submission_time`,
//! the entry's PhishTank page (`phish_detail_url`) as reference, and the phished brand as a tag
//! (`target:AEON Card`; PhishTank's catch-all `Other` is left out). Entries with `verified` or
//! `online` set to `"no"` (absent from `online-valid`, present in other dumps) are skipped: they
//! are no claim. The resolved addresses in `details` are not made indicators, since phishing
//! sites are mostly on shared hosting.

use std::io::BufRead;

use serde::Deserialize;
use watchfire_model::record::{Category, IndicatorRecord, Record};
use watchfire_model::{Observable, ObservableKind};

use crate::json_stream::{self, Piece, SplitError, Splitter};
use crate::{Context, Error, Format, Item, time};

/// The format this module reads.
pub const FORMATS: &[Format] = &[Format {
    name: "phishtank",
    summary: "PhishTank online-valid.json (verified phishing URLs)",
    read,
    detect: Some(detect),
}];

fn detect(head: &[u8], _file_name: &str) -> bool {
    json_stream::first_byte(head) == Some(b'[')
        && json_stream::head_has_key(head, "phish_id")
        && json_stream::head_has_key(head, "phish_detail_url")
}

#[derive(Deserialize)]
struct Entry {
    url: String,
    #[serde(default)]
    phish_detail_url: Option<String>,
    #[serde(default)]
    submission_time: Option<String>,
    #[serde(default)]
    verified: Option<String>,
    #[serde(default)]
    online: Option<String>,
    #[serde(default)]
    target: Option<String>,
}

fn read(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    let mut splitter = Splitter::new(input, &[]);
    loop {
        let (line, bytes) = match splitter.next_piece() {
            Ok(None) => return Ok(()),
            Ok(Some(Piece::Element { line, bytes, .. })) => (line, bytes),
            Ok(Some(Piece::Property { line, .. })) => {
                on_item(context.reject(line, "expected a json array of phish entries"));
                return Ok(());
            }
            Ok(Some(Piece::Reject { line, reason })) => {
                on_item(context.reject(line, reason));
                continue;
            }
            Err(SplitError::Io(error)) => return Err(Error::io(&context.file, error)),
            Err(SplitError::Broken { line, reason }) => {
                on_item(context.reject(line, reason));
                return Ok(());
            }
        };
        let entry = match serde_json::from_slice::<Entry>(bytes) {
            Ok(entry) => entry,
            Err(error) => {
                on_item(context.reject(line, format!("entry: {error}")));
                continue;
            }
        };
        let is_no_claim =
            entry.verified.as_deref() == Some("no") || entry.online.as_deref() == Some("no");
        if is_no_claim {
            continue;
        }
        let observable = match Observable::parse_as(ObservableKind::Url, &entry.url) {
            Ok(observable) => observable,
            Err(error) => {
                on_item(context.reject(line, format!("url: {error}")));
                continue;
            }
        };
        let target = entry.target.filter(|target| !target.is_empty() && target != "Other");
        let record = IndicatorRecord {
            category: Some(Category::Phishing),
            first_seen: entry.submission_time.as_deref().and_then(|text| time::parse(text).ok()),
            tags: target.map(|target| format!("target:{target}")).into_iter().collect(),
            references: entry.phish_detail_url.into_iter().collect(),
            ..IndicatorRecord::new(observable)
        };
        on_item(Item::Record(Record::Indicator(record)));
    }
}
