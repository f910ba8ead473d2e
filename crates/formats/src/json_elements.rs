//! Walking the elements of a JSON array (top-level, or under one key of a top-level object, as API
//! responses wrap them) with the 1-based line each element starts on, so a bad element is a reject
//! with a line number and the rest still comes out.
//!
//! It streams through [`json_stream::Splitter`], the crate's one JSON splitter, and parses each
//! element into a `serde_json::Value` for the caller. A truncated document ends the walk with one
//! reject at the line of the unfinished element: the elements before it still count.

use std::io::BufRead;

use serde_json::Value;

use crate::json_stream::{Piece, SplitError, Splitter};
use crate::{Context, Error, Item};

/// Calls `on_element(line, element)` for each element of the array: the top-level array when `key`
/// is `None`, else the array under `key` of the top-level object. An API answer whose
/// `query_status` is not `ok` yields nothing when the status says there are no results
/// (`no_result`), and an error otherwise.
pub fn for_each_element(
    input: &mut dyn BufRead,
    context: &Context,
    key: Option<&str>,
    on_item: &mut dyn FnMut(Item),
    on_element: &mut dyn FnMut(u64, &Value) -> Result<Item, String>,
) -> Result<(), Error> {
    let file = context.file.as_str();
    // The outer shape is checked up front; the splitter also takes an object where an array is wanted.
    let expected_open = if key.is_some() { b'{' } else { b'[' };
    let head = input.fill_buf().map_err(|error| Error::io(file, error))?;
    let first = head.iter().copied().find(|byte| !byte.is_ascii_whitespace());
    if first.is_some_and(|byte| byte != expected_open) {
        let shape = if key.is_some() { "a JSON object" } else { "a JSON array" };
        return Err(Error::input(file, format!("expected {shape}")));
    }
    let key_list = [key.unwrap_or_default()];
    let split_keys: &[&str] = if key.is_some() { &key_list } else { &[] };
    let mut splitter = Splitter::new(input, split_keys);
    let mut n_elements = 0u64;
    loop {
        let piece = match splitter.next_piece() {
            Ok(Some(piece)) => piece,
            Ok(None) => break,
            Err(SplitError::Io(error)) => return Err(Error::io(file, error)),
            Err(SplitError::Broken { line, reason }) => {
                on_item(context.reject(line, reason));
                return Ok(());
            }
        };
        let (line, bytes) = match piece {
            Piece::Element { line, bytes, .. } => (line, bytes),
            Piece::Reject { line, reason } => {
                on_item(context.reject(line, reason));
                continue;
            }
            Piece::Property { .. } => continue,
        };
        n_elements += 1;
        let element: Value = match serde_json::from_slice(bytes) {
            Ok(element) => element,
            Err(error) => {
                on_item(context.reject(line, format!("bad JSON: {error}")));
                continue;
            }
        };
        // An API's "no results" answer puts a message where the array would be.
        if key.is_some() && !is_ok_status(query_status(&splitter).as_deref()) {
            continue;
        }
        match on_element(line, &element) {
            Ok(item) => on_item(item),
            Err(reason) => on_item(context.reject(line, reason)),
        }
    }
    match (key, query_status(&splitter)) {
        (Some(_), Some(status)) if status.starts_with("no_result") => Ok(()),
        (Some(_), Some(status)) if status != "ok" => {
            Err(Error::input(file, format!("the API answered query_status {status:?}")))
        }
        (Some(key), _) if n_elements == 0 && splitter.property(key).is_none() => {
            Err(Error::input(file, format!("no {key:?} array in the JSON object")))
        }
        _ => Ok(()),
    }
}

fn query_status<R: std::io::Read>(splitter: &Splitter<'_, R>) -> Option<String> {
    let raw = splitter.property("query_status")?;
    serde_json::from_slice::<Value>(raw).ok()?.as_str().map(str::to_owned)
}

fn is_ok_status(status: Option<&str>) -> bool {
    status.is_none_or(|status| status == "ok")
}
