//! The shared harness of the fuzz targets: feeds bytes through `input::open` and the readers of
//! a format family, and asserts what every reader promises whatever the bytes.
//!
//! The promises: no panic; a failure of the whole input has a message; every reject names the
//! input, a line between 1 and the input's last line, and a non-empty reason; every observable a
//! record carries is canonical (`Observable::parse_as(kind, value)` gives it back unchanged), and
//! every pattern prints as text that parses back equal.

use std::io::{BufRead, Cursor};

use watchfire_formats::{Context, Error, Format, Item, format_by_name, input, json_stream};
use watchfire_model::Observable;
use watchfire_model::pattern::Pattern;
use watchfire_model::record::{Record, Subject};

/// The file name inputs get when the name does not matter to a family.
pub const DEFAULT_FILE_NAME: &str = "fuzz-input.txt";

/// Reads `data` with every format of `family` (looked up by name in the registry, so a format
/// missing from it fails here), and checks every item. The input's file name is one of
/// `file_names`, picked by the input's length, so the fuzzer reaches each at the cost of one.
pub fn check_family(data: &[u8], family: &[Format], file_names: &[&str]) {
    let file_name = pick(data, file_names);
    for format in family {
        if let Some(detect) = format.detect {
            detect(data, file_name);
        }
        let registered = format_by_name(format.name)
            .unwrap_or_else(|error| panic!("{} is not registered: {error}", format.name));
        check_read(data, file_name, |input, context, on_item| {
            (registered.read)(input, context, on_item)
        });
    }
}

/// Recognises the format of `data` with [`watchfire_formats::detect`] under one of `file_names`
/// (picked by the input's length), and reads it with the format found, checking every item.
pub fn check_detect(data: &[u8], file_names: &[&str]) {
    let file_name = pick(data, file_names);
    if let Ok(format) = watchfire_formats::detect(data, file_name) {
        check_read(data, file_name, |input, context, on_item| {
            (format.read)(input, context, on_item)
        });
    }
}

/// Returns the choice the length of `data` picks, so mutations that grow or shrink an input reach
/// every choice while each execution pays for one.
pub fn pick<'a, T>(data: &[u8], choices: &'a [T]) -> &'a T {
    &choices[data.len() % choices.len()]
}

/// Opens `data` with `input::open` under `file_name` and runs `read` over it, checking every item
/// it hands out and the error it ends with, if any.
pub fn check_read(
    data: &[u8],
    file_name: &str,
    read: impl FnOnce(&mut dyn BufRead, &Context, &mut dyn FnMut(Item)) -> Result<(), Error>,
) {
    let context = Context::new(format!("fuzz/{file_name}"));
    let mut input = match input::open(&context.file, Cursor::new(data.to_vec())) {
        Ok(input) => input,
        Err(error) => {
            check_error(&error);
            return;
        }
    };
    let last_line = last_line(data);
    let result = read(&mut input, &context, &mut |item| check_item(&item, &context, last_line));
    if let Err(error) = result {
        check_error(&error);
    }
}

/// Checks one item a reader handed out for the input named in `context`. `last_line` is the
/// input's last line number when it is known (the input is not compressed).
pub fn check_item(item: &Item, context: &Context, last_line: Option<u64>) {
    match item {
        Item::Reject(reject) => {
            assert_eq!(reject.file, context.file, "reject names another input: {reject}");
            assert!(reject.line >= 1, "reject at line 0: {reject}");
            if let Some(last_line) = last_line {
                assert!(
                    reject.line <= last_line,
                    "reject after the last line {last_line}: {reject}"
                );
            }
            assert!(!reject.reason.trim().is_empty(), "reject without a reason: {reject}");
        }
        Item::Record(record) => check_record(record),
    }
}

/// Checks that every observable and pattern of `record` is canonical.
pub fn check_record(record: &Record) {
    match record {
        Record::Indicator(indicator) => match &indicator.subject {
            Subject::Observable(observable) => check_observable(observable),
            Subject::Pattern(pattern) => check_pattern(pattern),
        },
        Record::Benign(benign) => check_observable(&benign.observable),
        // Events, feed definitions and STIX objects carry no observable to check.
        _ => {}
    }
}

/// Checks that `observable` parses back to itself from its kind and value.
pub fn check_observable(observable: &Observable) {
    let again = Observable::parse_as(observable.kind(), observable.value());
    assert_eq!(again.as_ref(), Ok(observable), "observable is not canonical");
}

/// Checks that `pattern` prints as text that parses back equal.
pub fn check_pattern(pattern: &Pattern) {
    let printed = pattern.to_string();
    let again = Pattern::parse(&printed);
    assert_eq!(again.as_ref(), Ok(pattern), "pattern does not round-trip through {printed:?}");
}

/// Checks that a whole-input failure says what went wrong.
pub fn check_error(error: &Error) {
    assert!(!error.to_string().trim().is_empty(), "error without a message: {error:?}");
}

/// Returns the number of the last line of `data` as the readers count them, or `None` when
/// `input::open` would decompress it (its line count is not known from the raw bytes).
pub fn last_line(data: &[u8]) -> Option<u64> {
    let is_compressed = data.starts_with(&[0x1f, 0x8b]) || data.starts_with(b"PK\x03\x04");
    if is_compressed {
        return None;
    }
    let n_newlines = data.iter().filter(|&&byte| byte == b'\n').count() as u64;
    Some(n_newlines + 1)
}

/// Splits `data` with the JSON splitter under the key sets the readers use and a tiny element
/// cap. When `data` is a valid JSON object or array, splitting must not fail, and a top-level
/// array must come out as exactly its elements, in order. (A scalar document is no feed: the
/// splitter refuses it.)
pub fn check_json_stream(data: &[u8]) {
    use watchfire_formats::json_stream::{Piece, Splitter};

    let parsed = serde_json::from_slice::<serde_json::Value>(data)
        .ok()
        .filter(|value| value.is_object() || value.is_array());
    let last_line = last_line(data);
    let key_sets: [&[&str]; 4] = [&[], &["objects"], &["Event", "response"], &["results", "list"]];
    for split_keys in key_sets {
        for max_element in [json_stream::MAX_ELEMENT, 16] {
            let mut splitter = Splitter::with_max_element(data, split_keys, max_element);
            let mut elements = Vec::new();
            let mut n_rejects = 0;
            loop {
                let piece = match splitter.next_piece() {
                    Ok(Some(piece)) => piece,
                    Ok(None) => break,
                    Err(error) => {
                        assert!(parsed.is_none(), "a valid json document failed to split: {error}");
                        break;
                    }
                };
                let line = match piece {
                    Piece::Property { line, .. } => line,
                    Piece::Element { line, bytes, .. } => {
                        elements.push(serde_json::from_slice::<serde_json::Value>(bytes).ok());
                        line
                    }
                    Piece::Reject { line, reason } => {
                        assert!(!reason.is_empty(), "splitter reject without a reason");
                        n_rejects += 1;
                        line
                    }
                };
                assert!(line >= 1, "piece at line 0");
                if let Some(last_line) = last_line {
                    assert!(line <= last_line, "piece after the last line {last_line}");
                }
            }
            if let (Some(serde_json::Value::Array(items)), true) =
                (&parsed, max_element == json_stream::MAX_ELEMENT)
            {
                let expected: Vec<_> = items.iter().cloned().map(Some).collect();
                assert_eq!(n_rejects, 0, "valid array elements were rejected");
                assert_eq!(elements, expected, "array elements differ from the document's");
            }
        }
    }
}

/// Reads `data` as a MISP feed manifest, checking its rejects.
pub fn check_misp_manifest(data: &[u8]) {
    check_read(data, "manifest.json", |input, context, on_item| {
        watchfire_formats::misp::read_manifest(input, context, on_item).map(drop)
    });
}

/// Fuzzes CSV mappings: the text before the first NUL byte of `data` (all of it when there is
/// none) is parsed as a TOML mapping, and when it is one, the text after the NUL (all of it when
/// there is none) is read with it. That text is also read with one built-in mapping, picked by
/// the input's length (the `abusech` and `blocklists` targets read every built-in on each input).
pub fn check_csvmap(data: &[u8]) {
    use watchfire_formats::csvmap::{BUILTIN, CsvMapping, builtin, read_with_mapping};

    let (mapping_bytes, rows) = match data.iter().position(|&byte| byte == 0) {
        Some(nul) => (&data[..nul], &data[nul + 1..]),
        None => (data, data),
    };
    if let Ok(mapping_text) = std::str::from_utf8(mapping_bytes) {
        match CsvMapping::from_toml(mapping_text) {
            Ok(mapping) => check_read(rows, DEFAULT_FILE_NAME, |input, context, on_item| {
                read_with_mapping(&mapping, input, context, on_item)
            }),
            Err(error) => assert!(!error.message.is_empty(), "mapping error without a message"),
        }
    }
    let (name, _) = pick(data, BUILTIN);
    let mapping = builtin(name).unwrap_or_else(|error| panic!("built-in {name}: {error}"));
    check_read(rows, DEFAULT_FILE_NAME, |input, context, on_item| {
        read_with_mapping(&mapping, input, context, on_item)
    });
}

/// Opens `data` with `input::open` and reads it with `input::Lines`: line numbers count up from
/// 1 without gaps, lines hold no line break, and for an input that is not compressed, the lines
/// are exactly the input (less a UTF-8 BOM) split at LF with one CR removed before each LF.
pub fn check_lines(data: &[u8]) {
    let mut reader = match input::open("fuzz", Cursor::new(data.to_vec())) {
        Ok(reader) => reader,
        Err(error) => {
            check_error(&error);
            return;
        }
    };
    let is_compressed = last_line(data).is_none();
    let mut lines = input::Lines::new(&mut reader);
    let mut seen: Vec<Result<String, ()>> = Vec::new();
    loop {
        let line = match lines.next_line("fuzz") {
            Ok(Some(line)) => line,
            Ok(None) => break,
            // A damaged archive fails while it is read; plain bytes from memory never fail.
            Err(_) if is_compressed => return,
            Err(error) => panic!("reading uncompressed bytes failed: {error}"),
        };
        let expected_number = seen.len() as u64 + 1;
        match line {
            Ok((number, text)) => {
                assert_eq!(number, expected_number, "line numbers skip");
                assert!(!text.contains('\n'), "line {number} holds a line feed");
                seen.push(Ok(text.to_owned()));
            }
            Err(reject) => {
                assert_eq!(reject.line, expected_number, "reject line numbers skip");
                assert!(!reject.reason.is_empty(), "line reject without a reason");
                seen.push(Err(()));
            }
        }
    }
    if is_compressed || data.len() > input::MAX_LINE {
        return;
    }
    let text = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let mut expected: Vec<&[u8]> = text.split(|&byte| byte == b'\n').collect();
    if expected.last().is_some_and(|last| last.is_empty()) {
        expected.pop();
    }
    assert_eq!(seen.len(), expected.len(), "line count differs from the input's");
    for (got, want) in seen.iter().zip(expected) {
        let want = want.strip_suffix(b"\r").unwrap_or(want);
        match (got, std::str::from_utf8(want)) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "line text differs from the input's"),
            (Err(()), Err(_)) => {}
            (got, want) => panic!("line {got:?} read from {want:?}"),
        }
    }
}
