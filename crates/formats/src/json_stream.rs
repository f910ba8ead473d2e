//! A streaming splitter of JSON documents: it hands out the elements of the big array of a
//! document (a STIX bundle's `objects`, a MISP `response`, a top-level array) one at a time, as
//! raw bytes with the line where each starts, without ever holding the whole document.
//!
//! The splitter understands only the document's outer shape: a top-level array, or a top-level
//! object whose members are either *split* (their value is an array handed out element by
//! element; a value that is not an array is handed out whole, as one element) or *kept* (small
//! properties such as a bundle's `id` and `spec_version`, handed out and remembered raw, so a
//! reader can look at them before, during and after the elements). Inside a value it tracks only
//! strings, escapes and bracket nesting; each element's own syntax is checked by whoever parses
//! its bytes (`serde_json`), so one bad element is one reject and the rest still come out.
//!
//! Limits: an element or kept property larger than [`MAX_ELEMENT`] bytes is skipped (scanned
//! to its end without being stored) and reported as a [`Piece::Reject`]; nesting deeper than
//! [`MAX_DEPTH`] ends the document. A truncated document or a broken outer shape ends splitting
//! with [`SplitError::Broken`], naming the line where the unfinished element (or the break)
//! starts; the elements before it have already come out.

use std::io::{self, Read};

/// The most bytes one element (or one kept property) may have.
pub const MAX_ELEMENT: usize = 64 << 20;

/// The deepest bracket nesting the splitter follows.
pub const MAX_DEPTH: usize = 4096;

/// One thing the splitter found.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A member of the top-level object that is not split, with its raw JSON value.
    Property {
        /// The member name.
        name: &'a str,
        /// The 1-based line where the value starts.
        line: u64,
        /// The raw JSON value.
        value: &'a [u8],
    },
    /// One element of a split array (or the whole value of a split member that is no array).
    Element {
        /// The member it belongs to; `None` for a top-level array.
        key: Option<&'a str>,
        /// Its 0-based position in the array.
        index: usize,
        /// The 1-based line where it starts.
        line: u64,
        /// The raw JSON element.
        bytes: &'a [u8],
    },
    /// An element or property that was skipped, and why; splitting goes on after it.
    Reject {
        /// The 1-based line where it starts.
        line: u64,
        /// Why it was skipped.
        reason: String,
    },
}

/// Why splitting stopped before the end of the document.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    /// Reading failed.
    #[error("read failed: {0}")]
    Io(#[from] io::Error),
    /// The document is truncated or its outer shape is broken at `line`.
    #[error("line {line}: {reason}")]
    Broken {
        /// The 1-based line of the unfinished element or of the break.
        line: u64,
        /// What is wrong.
        reason: String,
    },
}

/// Splits a JSON document read from `reader`; see the module doc.
#[derive(Debug)]
pub struct Splitter<'k, R> {
    input: ByteReader<R>,
    split_keys: &'k [&'k str],
    state: State,
    /// The current element or property value.
    sink: Sink,
    /// The name of the last split member whose value was no array.
    last_key: Option<String>,
    /// The kept top-level properties so far, raw.
    properties: Vec<(String, Vec<u8>)>,
}

#[derive(Debug)]
enum State {
    Start,
    /// Inside the top-level object, expecting a member (or `}`); `first` before any member.
    Object {
        first: bool,
    },
    /// Inside a split array; `key` is `None` for a top-level array, `next` the next index.
    Array {
        key: Option<String>,
        next: usize,
    },
    /// After the document (or after a failure).
    Done,
}

/// What one step of the splitter found; the bytes stay in the splitter.
enum Step {
    End,
    Property { line: u64 },
    Element { index: usize, line: u64 },
    Reject { line: u64, reason: String },
}

impl<'k, R: Read> Splitter<'k, R> {
    /// Starts splitting `reader`; the arrays of the top-level members named in `split_keys` (and a
    /// top-level array) are handed out element by element.
    pub fn new(reader: R, split_keys: &'k [&'k str]) -> Splitter<'k, R> {
        Splitter::with_max_element(reader, split_keys, MAX_ELEMENT)
    }

    /// Starts splitting with another cap on the size of an element or kept property.
    pub fn with_max_element(
        reader: R,
        split_keys: &'k [&'k str],
        max_element: usize,
    ) -> Splitter<'k, R> {
        Splitter {
            input: ByteReader::new(reader),
            split_keys,
            state: State::Start,
            sink: Sink::new(max_element),
            last_key: None,
            properties: Vec::new(),
        }
    }

    /// Returns the kept top-level properties seen so far, in order, with their raw values.
    pub fn properties(&self) -> &[(String, Vec<u8>)] {
        &self.properties
    }

    /// Returns the raw value of the kept top-level property `name`, if seen so far.
    pub fn property(&self, name: &str) -> Option<&[u8]> {
        self.properties.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_slice())
    }

    /// Returns the next piece, `Ok(None)` at the end of the document, or why the document ends
    /// early. After an error every call returns `Ok(None)`.
    pub fn next_piece(&mut self) -> Result<Option<Piece<'_>>, SplitError> {
        let step = match self.advance() {
            Ok(step) => step,
            Err(error) => {
                self.state = State::Done;
                return Err(error);
            }
        };
        Ok(match step {
            Step::End => None,
            Step::Property { line } => {
                let (name, value) = self
                    .properties
                    .last()
                    .map_or(("", &[][..]), |(name, value)| (name.as_str(), value.as_slice()));
                Some(Piece::Property { name, line, value })
            }
            Step::Element { index, line } => {
                let key = match &self.state {
                    State::Array { key, .. } => key.as_deref(),
                    State::Start | State::Object { .. } | State::Done => self.last_key.as_deref(),
                };
                Some(Piece::Element { key, index, line, bytes: &self.sink.bytes })
            }
            Step::Reject { line, reason } => Some(Piece::Reject { line, reason }),
        })
    }

    fn advance(&mut self) -> Result<Step, SplitError> {
        loop {
            self.input.skip_whitespace()?;
            let line = self.input.line;
            let next = self.input.peek()?;
            match &mut self.state {
                State::Done => return Ok(Step::End),
                State::Start => {
                    self.state = match next {
                        Some(b'{') => State::Object { first: true },
                        Some(b'[') => State::Array { key: None, next: 0 },
                        None => return Err(broken(line, "empty document")),
                        Some(_) => return Err(broken(line, "expected a json object or array")),
                    };
                    self.input.bump();
                }
                State::Object { first } => {
                    match next {
                        None => return Err(broken(line, "truncated document: no closing }")),
                        Some(b'}') => {
                            self.input.bump();
                            self.finish_document()?;
                            continue;
                        }
                        Some(b',') if !*first => {
                            self.input.bump();
                            self.input.skip_whitespace()?;
                        }
                        Some(_) if *first => {}
                        Some(_) => return Err(broken(line, "expected , or } after a member")),
                    }
                    *first = false;
                    return self.member();
                }
                State::Array { key, next: index } => {
                    match next {
                        None => return Err(broken(line, "truncated document: no closing ]")),
                        Some(b']') => {
                            self.input.bump();
                            if key.is_none() {
                                self.finish_document()?;
                            } else {
                                self.state = State::Object { first: false };
                            }
                            continue;
                        }
                        Some(b',') if *index > 0 => {
                            self.input.bump();
                            self.input.skip_whitespace()?;
                        }
                        Some(_) if *index == 0 => {}
                        Some(_) => return Err(broken(line, "expected , or ] after an element")),
                    }
                    let element_index = *index;
                    *index += 1;
                    let line = self.input.line;
                    scan_value(&mut self.input, &mut self.sink, line)?;
                    return Ok(self.element_step(element_index, line));
                }
            }
        }
    }

    /// Reads one member of the top-level object: a split array is entered, anything else is
    /// read whole.
    fn member(&mut self) -> Result<Step, SplitError> {
        let line = self.input.line;
        if self.input.peek()? != Some(b'"') {
            return Err(broken(line, "expected a member name"));
        }
        let mut key_sink = Sink::new(1 << 16);
        self.input.bump();
        key_sink.push(b"\"");
        scan_string(&mut self.input, &mut key_sink, line)?;
        let key = match serde_json::from_slice::<String>(&key_sink.bytes) {
            Ok(key) if !key_sink.overflowed => key,
            _ => return Err(broken(line, "bad member name")),
        };
        self.input.skip_whitespace()?;
        if self.input.peek()? != Some(b':') {
            return Err(broken(self.input.line, "expected : after a member name"));
        }
        self.input.bump();
        self.input.skip_whitespace()?;
        let line = self.input.line;
        let is_split = self.split_keys.contains(&key.as_str());
        if is_split && self.input.peek()? == Some(b'[') {
            self.input.bump();
            self.state = State::Array { key: Some(key), next: 0 };
            return self.advance();
        }
        scan_value(&mut self.input, &mut self.sink, line)?;
        if is_split {
            self.last_key = Some(key);
            return Ok(self.element_step(0, line));
        }
        if self.sink.overflowed {
            let reason = format!("property {key:?} is larger than {} bytes", self.sink.max);
            return Ok(Step::Reject { line, reason });
        }
        self.properties.push((key, self.sink.bytes.clone()));
        Ok(Step::Property { line })
    }

    fn element_step(&self, index: usize, line: u64) -> Step {
        if self.sink.overflowed {
            let reason = format!("element larger than {} bytes", self.sink.max);
            return Step::Reject { line, reason };
        }
        Step::Element { index, line }
    }

    /// Checks that only whitespace follows the document, and ends it.
    fn finish_document(&mut self) -> Result<(), SplitError> {
        self.state = State::Done;
        self.input.skip_whitespace()?;
        match self.input.peek()? {
            None => Ok(()),
            Some(_) => Err(broken(self.input.line, "data after the end of the document")),
        }
    }
}

fn broken(line: u64, reason: &str) -> SplitError {
    SplitError::Broken { line, reason: reason.to_owned() }
}

fn truncated(start_line: u64) -> SplitError {
    broken(start_line, "truncated document: the element starting here is unfinished")
}

/// The bytes of the value being read, stored up to a cap.
#[derive(Debug)]
struct Sink {
    bytes: Vec<u8>,
    max: usize,
    overflowed: bool,
    /// Room for the scan's bracket stack, kept from one value to the next.
    closers: Vec<u8>,
}

impl Sink {
    fn new(max: usize) -> Sink {
        Sink { bytes: Vec::new(), max, overflowed: false, closers: Vec::new() }
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.overflowed = false;
    }

    fn push(&mut self, bytes: &[u8]) {
        if self.overflowed {
            return;
        }
        if self.bytes.len() + bytes.len() > self.max {
            // Stop storing; the value is still scanned to its end so splitting can go on.
            self.overflowed = true;
            self.bytes.clear();
            return;
        }
        self.bytes.extend_from_slice(bytes);
    }
}

/// Reads one JSON value (string, object, array or scalar) into `sink`. `start_line` is where it
/// starts, for errors.
fn scan_value<R: Read>(
    input: &mut ByteReader<R>,
    sink: &mut Sink,
    start_line: u64,
) -> Result<(), SplitError> {
    sink.clear();
    match input.peek()? {
        None => Err(truncated(start_line)),
        Some(b'"') => {
            input.bump();
            sink.push(b"\"");
            scan_string(input, sink, start_line)
        }
        Some(b'{' | b'[') => scan_compound(input, sink, start_line),
        Some(b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
            while let Some(byte) = input.peek()? {
                if !(byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.')) {
                    break;
                }
                sink.push(&[byte]);
                input.bump();
            }
            Ok(())
        }
        Some(byte) => Err(broken(
            input.line,
            &format!("unexpected {:?} where a value starts", char::from(byte)),
        )),
    }
}

/// Reads the rest of a string whose opening quote is already read, closing quote included.
fn scan_string<R: Read>(
    input: &mut ByteReader<R>,
    sink: &mut Sink,
    start_line: u64,
) -> Result<(), SplitError> {
    scan_to_end(input, sink, start_line, true)
}

/// Reads an object or array, tracking bracket nesting and skipping over strings.
fn scan_compound<R: Read>(
    input: &mut ByteReader<R>,
    sink: &mut Sink,
    start_line: u64,
) -> Result<(), SplitError> {
    scan_to_end(input, sink, start_line, false)
}

/// Reads up to the end of a string (`in_string`: its opening quote is already read) or of an
/// object or array (starting at its bracket), a buffered chunk at a time: the inside of strings
/// is skipped with `memchr`, and only the bytes between strings are looked at one by one.
fn scan_to_end<R: Read>(
    input: &mut ByteReader<R>,
    sink: &mut Sink,
    start_line: u64,
    mut in_string: bool,
) -> Result<(), SplitError> {
    // The open brackets' closers, innermost last; kept in the sink to reuse its allocation.
    let mut closers = std::mem::take(&mut sink.closers);
    closers.clear();
    // Whether the chunk ended right after a backslash, whose escaped byte starts the next chunk.
    let mut is_escape_pending = false;
    let outcome = loop {
        let chunk = input.chunk()?;
        if chunk.is_empty() {
            break Err(truncated(start_line));
        }
        let mut at = usize::from(std::mem::take(&mut is_escape_pending));
        let mut end = None;
        while at < chunk.len() {
            if in_string {
                let Some(offset) = memchr::memchr2(b'"', b'\\', &chunk[at..]) else {
                    at = chunk.len();
                    break;
                };
                at += offset + 1;
                if chunk[at - 1] == b'\\' {
                    // The escaped byte is taken as it is, whatever it is, so `\"` does not end
                    // the string.
                    if at < chunk.len() {
                        at += 1;
                    } else {
                        is_escape_pending = true;
                    }
                    continue;
                }
                in_string = false;
                if closers.is_empty() {
                    end = Some(End::Done);
                    break;
                }
                continue;
            }
            let byte = chunk[at];
            at += 1;
            match byte {
                b'"' => in_string = true,
                b'{' | b'[' => {
                    if closers.len() >= MAX_DEPTH {
                        end = Some(End::TooDeep);
                        break;
                    }
                    closers.push(if byte == b'{' { b'}' } else { b']' });
                }
                b'}' | b']' => {
                    if closers.pop() != Some(byte) {
                        end = Some(End::MismatchedBracket);
                        break;
                    }
                    if closers.is_empty() {
                        end = Some(End::Done);
                        break;
                    }
                }
                _ => {}
            }
        }
        sink.push(&chunk[..at]);
        input.advance(at);
        match end {
            None => {}
            Some(End::Done) => break Ok(()),
            Some(End::TooDeep) => {
                break Err(broken(start_line, "element nested deeper than 4096 levels"));
            }
            // Reported where it is: the bracket was the last byte consumed.
            Some(End::MismatchedBracket) => break Err(broken(input.line, "mismatched bracket")),
        }
    };
    sink.closers = closers;
    outcome
}

/// How a scan stopped inside a chunk.
enum End {
    Done,
    TooDeep,
    MismatchedBracket,
}

/// A byte reader with its own buffer that counts lines as bytes are consumed.
#[derive(Debug)]
struct ByteReader<R> {
    reader: R,
    buffer: Box<[u8]>,
    start: usize,
    end: usize,
    /// The 1-based line of the next byte.
    line: u64,
}

impl<R: Read> ByteReader<R> {
    fn new(reader: R) -> ByteReader<R> {
        ByteReader {
            reader,
            buffer: vec![0; 1 << 16].into_boxed_slice(),
            start: 0,
            end: 0,
            line: 1,
        }
    }

    /// Returns the unread buffered bytes, reading more when none are left; empty at the end.
    fn chunk(&mut self) -> io::Result<&[u8]> {
        if self.start == self.end {
            self.start = 0;
            self.end = loop {
                match self.reader.read(&mut self.buffer) {
                    Ok(n_read) => break n_read,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                    Err(error) => return Err(error),
                }
            };
        }
        Ok(&self.buffer[self.start..self.end])
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(self.chunk()?.first().copied())
    }

    /// Consumes `n` bytes of the current chunk, counting their newlines.
    fn advance(&mut self, n: usize) {
        let consumed = &self.buffer[self.start..self.start + n];
        self.line += memchr::memchr_iter(b'\n', consumed).count() as u64;
        self.start += n;
    }

    /// Consumes the byte `peek` returned.
    fn bump(&mut self) {
        if self.start < self.end {
            self.advance(1);
        }
    }

    fn skip_whitespace(&mut self) -> io::Result<()> {
        loop {
            let chunk = self.chunk()?;
            let n_blank = chunk.iter().take_while(|byte| byte.is_ascii_whitespace()).count();
            let is_done = n_blank < chunk.len() || chunk.is_empty();
            self.advance(n_blank);
            if is_done {
                return Ok(());
            }
        }
    }
}

/// Returns the first byte of `head` that is not whitespace.
pub fn first_byte(head: &[u8]) -> Option<u8> {
    head.iter().copied().find(|byte| !byte.is_ascii_whitespace())
}

/// Returns whether `head` (the start of a JSON document) holds the member name `"name"`
/// followed by a colon, at any depth.
pub fn head_has_key(head: &[u8], name: &str) -> bool {
    member_values(head, name).next().is_some()
}

/// Returns whether `head` holds the member `"name": "value"`, at any depth.
pub fn head_has_string_member(head: &[u8], name: &str, value: &str) -> bool {
    member_values(head, name).any(|rest| {
        rest.strip_prefix(b"\"")
            .and_then(|rest| rest.strip_prefix(value.as_bytes()))
            .is_some_and(|rest| rest.starts_with(b"\""))
    })
}

/// Yields, for each `"name":` in `head`, the bytes after the colon and its whitespace.
fn member_values<'h>(head: &'h [u8], name: &str) -> impl Iterator<Item = &'h [u8]> {
    let quoted = format!("\"{name}\"");
    let finder = memchr::memmem::Finder::new(quoted.as_bytes()).into_owned();
    let n_quoted = quoted.len();
    finder.find_iter(head).collect::<Vec<_>>().into_iter().filter_map(move |at| {
        let rest = head[at + n_quoted..].trim_ascii_start();
        let rest = rest.strip_prefix(b":")?;
        Some(rest.trim_ascii_start())
    })
}
