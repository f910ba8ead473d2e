//! Walking the elements of a JSON array (top-level, or under one key of a top-level object, as API
//! responses wrap them) with the 1-based line each element starts on, so a bad element is a reject
//! with a line number and the rest still comes out.
//!
//! The document is read into memory with a hard cap of [`MAX_DOCUMENT`] bytes (an
//! [`Error::input`] beyond); elements are then parsed one by one. A syntax error stops the walk
//! with one reject at the line of the element it is in: the elements before it still count.

use std::io::{BufRead, Read};

use serde::de::IgnoredAny;
use serde_json::Value;

use crate::{Context, Error, Item};

/// The most bytes a JSON document may have.
pub const MAX_DOCUMENT: u64 = 256 << 20;

/// Reads `input` whole (capped) and calls `on_element(line, element)` for each element of the
/// array: the top-level array when `key` is `None`, else the array under `key` of the top-level
/// object. An object whose `query_status` is not `ok` and that has no such array yields nothing
/// when the status says there are no results, and an error otherwise.
pub fn for_each_element(
    input: &mut dyn BufRead,
    context: &Context,
    key: Option<&str>,
    on_item: &mut dyn FnMut(Item),
    on_element: &mut dyn FnMut(u64, &Value) -> Result<Item, String>,
) -> Result<(), Error> {
    let file = context.file.as_str();
    let mut bytes = Vec::new();
    input.take(MAX_DOCUMENT + 1).read_to_end(&mut bytes).map_err(|error| Error::io(file, error))?;
    if bytes.len() as u64 > MAX_DOCUMENT {
        return Err(Error::input(
            file,
            format!("JSON document is over the {MAX_DOCUMENT}-byte cap"),
        ));
    }
    let mut walker = Walker { bytes: &bytes, position: 0, line: 1, counted_to: 0 };
    let array_start = match key {
        None => {
            walker.skip_blanks();
            match walker.peek() {
                Some(b'[') => walker.position,
                _ => return Err(Error::input(file, "expected a JSON array")),
            }
        }
        Some(key) => match walker.find_member_array(key) {
            Ok(Some(start)) => start,
            Ok(None) => return Ok(()),
            Err(reason) => return Err(Error::input(file, reason)),
        },
    };
    walker.position = array_start + 1;
    loop {
        walker.skip_blanks();
        if walker.peek() == Some(b']') {
            return Ok(());
        }
        let line = walker.line_here();
        let mut stream =
            serde_json::Deserializer::from_slice(&bytes[walker.position..]).into_iter::<Value>();
        let element = match stream.next() {
            Some(Ok(element)) => element,
            Some(Err(error)) => {
                on_item(context.reject(line, format!("bad JSON: {error}")));
                return Ok(());
            }
            None => {
                on_item(context.reject(line, "JSON array is not closed"));
                return Ok(());
            }
        };
        walker.position += stream.byte_offset();
        match on_element(line, &element) {
            Ok(item) => on_item(item),
            Err(reason) => on_item(context.reject(line, reason)),
        }
        walker.skip_blanks();
        match walker.peek() {
            Some(b',') => walker.position += 1,
            Some(b']') => return Ok(()),
            _ => {
                let line = walker.line_here();
                on_item(context.reject(line, "expected `,` or `]` after an array element"));
                return Ok(());
            }
        }
    }
}

struct Walker<'a> {
    bytes: &'a [u8],
    position: usize,
    /// The line number at `counted_to`.
    line: u64,
    counted_to: usize,
}

impl Walker<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    fn skip_blanks(&mut self) {
        while self.peek().is_some_and(|byte| byte.is_ascii_whitespace()) {
            self.position += 1;
        }
    }

    /// Returns the 1-based line of the current position (positions only move forward).
    fn line_here(&mut self) -> u64 {
        let end = self.position.min(self.bytes.len());
        if end > self.counted_to {
            self.line +=
                memchr::memchr_iter(b'\n', &self.bytes[self.counted_to..end]).count() as u64;
            self.counted_to = end;
        }
        self.line
    }

    /// Walks the members of the top-level object to the array under `key` and returns where it
    /// starts; `None` for an empty answer (`query_status` like `no_result`).
    fn find_member_array(&mut self, key: &str) -> Result<Option<usize>, String> {
        self.skip_blanks();
        if self.peek() != Some(b'{') {
            return Err("expected a JSON object".to_owned());
        }
        self.position += 1;
        let mut query_status: Option<String> = None;
        loop {
            self.skip_blanks();
            if self.peek() == Some(b'}') {
                break;
            }
            let member: String =
                self.parse_next().map_err(|error| format!("bad JSON object key: {error}"))?;
            self.skip_blanks();
            if self.peek() != Some(b':') {
                return Err(format!("expected `:` after {member:?}"));
            }
            self.position += 1;
            self.skip_blanks();
            if member == key && self.peek() == Some(b'[') {
                return Ok(Some(self.position));
            }
            if member == "query_status" {
                let status: Value =
                    self.parse_next().map_err(|error| format!("bad JSON: {error}"))?;
                query_status = status.as_str().map(str::to_owned);
            } else {
                let _: IgnoredAny =
                    self.parse_next().map_err(|error| format!("bad JSON: {error}"))?;
            }
            self.skip_blanks();
            match self.peek() {
                Some(b',') => self.position += 1,
                Some(b'}') => break,
                _ => return Err("expected `,` or `}` in the top-level object".to_owned()),
            }
        }
        match query_status {
            Some(status) if status.starts_with("no_result") => Ok(None),
            Some(status) if status != "ok" => {
                Err(format!("the API answered query_status {status:?}"))
            }
            _ => Err(format!("no {key:?} array in the JSON object")),
        }
    }

    fn parse_next<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, serde_json::Error> {
        let mut stream =
            serde_json::Deserializer::from_slice(&self.bytes[self.position..]).into_iter::<T>();
        let value = match stream.next() {
            Some(result) => result?,
            None => return Err(serde::de::Error::custom("unexpected end of input")),
        };
        self.position += stream.byte_offset();
        Ok(value)
    }
}
