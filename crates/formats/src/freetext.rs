//! Free text (a log, an advisory, an e-mail, a web page saved as text): every observable the
//! extractor ([`watchfire_model::extract`]) finds, defanged ones too, becomes an indicator.
//!
//! The category is none: free text names benign values as often as malicious ones (the
//! reporter's own domain, the vendor's links, a resolver's address), so the text being read
//! says nothing about what each value is; the importer or the analyst decides. Nothing else is
//! invented either (no time, no confidence). Every hit is a record, repeats included: a value
//! that appears twice is deduplicated where records are stored. There are no rejects: text that
//! is no observable is simply not one.
//!
//! The input streams in chunks cut at line ends, as the CLI's `extract` does, so a file of any
//! size is read in bounded memory. A line longer than [`MAX_CHUNK`] is cut at its last
//! whitespace (or, with none, anywhere), so an observable straddling that cut may be missed.
//! This format is never auto-detected: any input is text, so it is chosen by name only.

use std::io::{BufRead, ErrorKind};

use watchfire_model::extract::{self, ExtractOptions};
use watchfire_model::record::{IndicatorRecord, Record};

use crate::{Context, Error, Format, Item};

/// The formats this module reads.
pub const FORMATS: &[Format] = &[Format {
    name: "freetext",
    summary: "any text: every observable found in it (defanged too), without a category",
    read,
    detect: None,
}];

/// The chunk size the input is read in.
const CHUNK: usize = 1 << 16;

/// The most bytes one chunk may grow to while waiting for a line end.
pub const MAX_CHUNK: usize = 1 << 22;

/// Reads free text.
fn read(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    let options = ExtractOptions::default();
    let mut buffer = vec![0u8; CHUNK];
    let mut filled = 0;
    let mut next_line = 1u64;
    loop {
        if filled == buffer.len() && buffer.len() < MAX_CHUNK {
            // One line longer than the buffer: grow (up to the cap) rather than split it.
            buffer.resize((buffer.len() * 2).min(MAX_CHUNK), 0);
        }
        let n_read = match input.read(&mut buffer[filled..]) {
            Ok(n_read) => n_read,
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) => return Err(Error::io(&context.file, error)),
        };
        filled += n_read;
        let at_end = n_read == 0;
        let chunk_end = match (at_end, memchr::memrchr(b'\n', &buffer[..filled])) {
            (true, _) => filled,
            (false, Some(newline)) => newline + 1,
            (false, None) if filled < MAX_CHUNK => continue,
            (false, None) => buffer[..filled]
                .iter()
                .rposition(u8::is_ascii_whitespace)
                .map_or(filled, |space| space + 1),
        };
        let chunk = &buffer[..chunk_end];
        extract::extract(chunk, &options, next_line, |hit| {
            on_item(Item::Record(Record::Indicator(IndicatorRecord::new(hit.observable))));
        });
        next_line += memchr::memchr_iter(b'\n', chunk).count() as u64;
        buffer.copy_within(chunk_end..filled, 0);
        filled -= chunk_end;
        if at_end {
            return Ok(());
        }
    }
}
