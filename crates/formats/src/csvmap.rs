//! Reading any delimited feed (CSV, TSV, `|`- or `#`-separated) through a TOML mapping, so that a
//! new feed of that shape needs no code. `docs/csv-mapping.md` is the user guide; this is the
//! reference.
//!
//! A mapping has top-level layout keys, a `[defaults]` table and a `[fields]` table:
//!
//! ```toml
//! delimiter = ","          # one character, "\t", or a longer separator such as ThreatFox's '", "'
//! quote = '"'              # the quote character; "" for none
//! comment = ["#"]          # comment prefixes (a line whose first non-blank text starts with one)
//! header = "comment"       # "none", "row" (first non-comment line) or "comment" (a comment line)
//! none_values = ["None", "-"]  # cells that mean "no value" (an empty cell always does)
//! collapse_delimiters = false  # true: a run of delimiters is one (columns padded with tabs)
//! trim = true              # trim blanks around each cell
//!
//! [defaults]               # used when the row does not say (all optional)
//! category = "malware_distribution"
//! confidence = 80
//! tlp = "clear"
//! malware = "ZeuS"
//! tags = ["urlhaus"]       # added to every record
//!
//! [fields]                 # each field: { column = "name", aliases = [..], index = N, ... }
//! value = { column = "url", index = 2, kind = "url" }
//! first_seen = { column = "dateadded", index = 1 }
//! category = { column = "threat", map = { malware_download = "malware_distribution" } }
//! tags = { column = "tags", separator = "," }
//! ```
//!
//! Columns: `column` (with `aliases`) names a header column, case-insensitively; `index` is the
//! 0-based position, negative counting from the end (`-1` is the last column), and is used when the
//! input has no header. With `header = "comment"`, the header is the first comment line that
//! splits into two cells or more and names a value column. When a header is found, a named optional column it lacks is left empty (so
//! an older layout with fewer columns still reads), and a missing value column is an error.
//!
//! Fields: `value` (required; a table or an array of tables tried in order, the first non-empty
//! cell wins), `category`, `confidence` (0 to 100), `first_seen`, `last_seen`, `valid_until` (read
//! by [`crate::time::parse`]), `malware`, `port`, `tags` (`separator` splits the cell), `reference`,
//! `tlp` (`amber`, `TLP:AMBER`, `tlp:amber`) and `description`. Every field takes `strip_prefix`,
//! `strip_suffix` and `map` (cell text to replacement text, applied after stripping); `value` also
//! takes `kind` (an observable kind name, or `auto` to guess), `ip_port` (split a trailing `:port`
//! into the port) and `pattern` (a STIX pattern template in which `{value}` is replaced with the
//! canonical value, for subjects that are not observables, such as certificate fingerprints).
//! A category cell that is neither mapped nor a category name falls back to the default category.
//!
//! Parsing: cells may be quoted (a doubled quote inside is one quote; blanks before and after the
//! quotes are allowed) and a quoted cell may span lines. With a delimiter of more than one
//! character the line is split on every occurrence of it, and each cell then loses one leading and
//! one trailing quote. A data row equal to the header row is skipped (concatenated dumps repeat it).
//! A row with a bad cell becomes one reject naming the 1-based column, its name and the reason.

use std::collections::BTreeMap;
use std::fmt;
use std::io::BufRead;

use serde::Deserialize;
use watchfire_model::observable::{Observable, ObservableKind};
use watchfire_model::pattern::Pattern;
use watchfire_model::record::{Category, Confidence, IndicatorRecord, Record, Subject};
use watchfire_model::stix::Timestamp;
use watchfire_model::tlp::Tlp;

use crate::input::{Lines, MAX_LINE};
use crate::{Context, Error, Item, time};

/// A validated mapping from the columns of a delimited feed to indicator fields.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "RawMapping")]
pub struct CsvMapping {
    delimiter: String,
    quote: Option<char>,
    comments: Vec<String>,
    header: HeaderMode,
    none_values: Vec<String>,
    collapse_delimiters: bool,
    trim: bool,
    defaults: Defaults,
    values: Vec<Column>,
    /// The optional fields the mapping reads, in `Field` order.
    fields: Vec<(Field, Column)>,
}

/// Why a mapping cannot be used; the message names the key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad csv mapping: {message}")]
pub struct MappingError {
    /// What is wrong, starting with the key.
    pub message: String,
}

impl CsvMapping {
    /// Parses and validates a mapping written in TOML.
    pub fn from_toml(text: &str) -> Result<CsvMapping, MappingError> {
        toml::from_str(text).map_err(|error: toml::de::Error| MappingError {
            message: error.to_string().trim_end().to_owned(),
        })
    }
}

/// Reads a delimited feed with `mapping`, handing each indicator or reject to `on_item`.
pub fn read_with_mapping(
    mapping: &CsvMapping,
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    let file = context.file.as_str();
    let mut lines = Lines::new(input);
    let mut header: Option<Vec<String>> = None;
    let mut layout: Option<Layout> = None;
    let mut cells = Cells::default();
    // A row whose quoted cell continues on the next line: its first line number and text so far.
    let mut pending: Option<(u64, String)> = None;
    while let Some(line) = lines.next_line(file).map_err(|error| Error::io(file, error))? {
        let (number, text) = match line {
            Ok(line) => line,
            Err(reject) => {
                on_item(Item::Reject(reject));
                continue;
            }
        };
        let (row_line, row_text) = match pending.take() {
            Some((start, mut so_far)) => {
                so_far.push('\n');
                so_far.push_str(text);
                (start, std::borrow::Cow::Owned(so_far))
            }
            None => (number, std::borrow::Cow::Borrowed(text)),
        };
        let content = row_text.trim_start();
        if content.trim_end().is_empty() {
            continue;
        }
        if let Some(comment) = mapping.strip_comment(content) {
            let wants_header = mapping.header == HeaderMode::Comment && layout.is_none();
            if let Some(names) =
                wants_header.then(|| mapping.header_names(comment, &mut cells)).flatten()
            {
                layout = Some(mapping.layout(Some(&names), file)?);
                header = Some(names);
            }
            continue;
        }
        let Some(row) = mapping.split(&row_text, &mut cells) else {
            if row_text.len() > MAX_LINE {
                on_item(context.reject(row_line, "quoted cell is not closed"));
            } else {
                pending = Some((row_line, row_text.into_owned()));
            }
            continue;
        };
        if mapping.header == HeaderMode::Row && header.is_none() {
            header = Some(row.iter().map(str::to_lowercase).collect());
            layout = Some(mapping.layout(header.as_deref(), file)?);
            continue;
        }
        let layout = match &layout {
            Some(layout) => layout,
            None => layout.insert(mapping.layout(None, file)?),
        };
        let is_repeated_header = header.as_ref().is_some_and(|header| {
            header.len() == row.len()
                && header.iter().zip(row.iter()).all(|(name, cell)| name.eq_ignore_ascii_case(cell))
        });
        if is_repeated_header {
            continue;
        }
        match mapping.record(layout, row) {
            Ok(record) => on_item(Item::Record(Record::Indicator(record))),
            Err(reason) => on_item(context.reject(row_line, reason)),
        }
    }
    if let Some((start, _)) = pending {
        on_item(context.reject(start, "quoted cell is not closed at the end of the input"));
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum HeaderMode {
    None,
    Row,
    Comment,
}

/// The optional fields a column can fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Field {
    Category,
    Confidence,
    Description,
    FirstSeen,
    LastSeen,
    Malware,
    Port,
    Reference,
    Tags,
    Tlp,
    ValidUntil,
}

impl Field {
    const ALL: [(Field, &'static str); 11] = [
        (Field::Category, "category"),
        (Field::Confidence, "confidence"),
        (Field::Description, "description"),
        (Field::FirstSeen, "first_seen"),
        (Field::LastSeen, "last_seen"),
        (Field::Malware, "malware"),
        (Field::Port, "port"),
        (Field::Reference, "reference"),
        (Field::Tags, "tags"),
        (Field::Tlp, "tlp"),
        (Field::ValidUntil, "valid_until"),
    ];

    fn name(self) -> &'static str {
        Field::ALL.iter().find(|(field, _)| *field == self).map_or("?", |(_, name)| name)
    }
}

#[derive(Clone, Debug, Default)]
struct Defaults {
    category: Option<Category>,
    confidence: Option<Confidence>,
    tlp: Option<Tlp>,
    malware: Option<String>,
    tags: Vec<String>,
}

/// One field's column and how to read its cell.
#[derive(Clone, Debug)]
struct Column {
    names: Vec<String>,
    index: Option<i64>,
    kind: Option<ObservableKind>,
    ip_port: bool,
    pattern: Option<String>,
    separator: Option<String>,
    strip_prefix: Option<String>,
    strip_suffix: Option<String>,
    map: BTreeMap<String, String>,
}

/// Where each field's cell is in the rows of one input: `Some(position)` or `None` (absent).
#[derive(Debug)]
struct Layout {
    values: Vec<Position>,
    /// One for each of [`CsvMapping::fields`], in the same order.
    fields: Vec<Option<Position>>,
}

#[derive(Clone, Debug)]
struct Position {
    /// The 0-based index, negative from the end.
    index: i64,
    /// The column's name for messages: the header name, or the field name.
    label: String,
}

impl Position {
    fn resolve(&self, n_cells: usize) -> Option<usize> {
        match self.index {
            index if index >= 0 => usize::try_from(index).ok().filter(|index| *index < n_cells),
            index => n_cells.checked_sub(usize::try_from(index.unsigned_abs()).ok()?),
        }
    }
}

impl CsvMapping {
    fn strip_comment<'a>(&self, content: &'a str) -> Option<&'a str> {
        self.comments.iter().find_map(|prefix| content.strip_prefix(prefix.as_str()))
    }

    /// Returns the lower-cased cells of a comment line that is the header: it has two cells or
    /// more and names a value column.
    fn header_names(&self, comment: &str, cells: &mut Cells) -> Option<Vec<String>> {
        let row = self.split(comment, cells).filter(|row| row.len() >= 2)?;
        let has = |name: &String| row.iter().any(|cell| cell.eq_ignore_ascii_case(name));
        let is_header = self.values.iter().any(|column| column.names.iter().any(has));
        is_header.then(|| row.iter().map(str::to_lowercase).collect())
    }

    fn layout(&self, header: Option<&[String]>, file: &str) -> Result<Layout, Error> {
        let position = |column: &Column, field_name: &str| -> Result<Option<Position>, String> {
            let found = header.and_then(|header| {
                column
                    .names
                    .iter()
                    .find_map(|name| header.iter().position(|cell| cell.eq_ignore_ascii_case(name)))
            });
            Ok(match (found, header, column.index) {
                (Some(found), Some(header), _) => {
                    Some(Position { index: found as i64, label: header[found].clone() })
                }
                (None, Some(_), _) if !column.names.is_empty() => None,
                (None, _, Some(index)) => Some(Position { index, label: field_name.to_owned() }),
                (None, _, None) => {
                    return Err(format!(
                        "no header line names column {:?}",
                        column.names.first().map_or("", String::as_str)
                    ));
                }
                (Some(_), None, _) => None,
            })
        };
        let mut values = Vec::new();
        for column in &self.values {
            if let Some(found) =
                position(column, "value").map_err(|reason| Error::input(file, reason))?
            {
                values.push(found);
            }
        }
        if values.is_empty() {
            let names: Vec<&str> =
                self.values.iter().flat_map(|column| &column.names).map(String::as_str).collect();
            return Err(Error::input(file, format!("the header has no value column {names:?}")));
        }
        let mut fields = Vec::new();
        for (field, column) in &self.fields {
            fields
                .push(position(column, field.name()).map_err(|reason| Error::input(file, reason))?);
        }
        Ok(Layout { values, fields })
    }

    /// Splits a line into cells; `None` when a quoted cell is still open at the end of it.
    ///
    /// A cell is a span of `line` unless unquoting changed its text, so splitting a row copies
    /// nothing, and allocates nothing once the buffers of `cells` have grown.
    fn split<'a>(&self, line: &'a str, cells: &'a mut Cells) -> Option<Row<'a>> {
        cells.spans.clear();
        cells.unescaped.clear();
        if self.delimiter.chars().count() > 1 {
            let mut raw_start = 0;
            for raw in line.split(self.delimiter.as_str()) {
                let mut start = raw_start + (raw.len() - raw.trim_start().len());
                let mut cell = raw.trim();
                if let Some(quote) = self.quote {
                    if let Some(unquoted) = cell.strip_prefix(quote) {
                        start += quote.len_utf8();
                        cell = unquoted;
                    }
                    cell = cell.strip_suffix(quote).unwrap_or(cell);
                }
                cells.spans.push(Span { in_unescaped: false, start, end: start + cell.len() });
                raw_start += raw.len() + self.delimiter.len();
            }
            return Some(Row { text: line, cells });
        }
        // Cannot fail to find a char: validation made the delimiter one character here.
        let delimiter = self.delimiter.chars().next().unwrap_or(',');
        let is_blank =
            |character: char| (character == ' ' || character == '\t') && character != delimiter;
        // Every slice below is a suffix of `line`, so its offset in `line` is the length it lacks.
        let offset = |suffix: &str| line.len() - suffix.len();
        let mut rest = line;
        loop {
            let after_blanks = match rest.as_bytes().first() {
                Some(b' ' | b'\t') => rest.trim_start_matches(is_blank),
                _ => rest,
            };
            let (span, remainder) = match self.quote {
                Some(quote) if strip_char(after_blanks, quote).is_some() => {
                    let body = &after_blanks[quote.len_utf8()..];
                    let (close, has_pair) = closing_quote(body, quote)?;
                    let after = &body[close + quote.len_utf8()..];
                    // Text between the closing quote and the delimiter is kept (lenient).
                    let (extra, remainder) = match strip_char(after, delimiter) {
                        Some(next) => ("", Some(next)),
                        None => match find_char(after, delimiter) {
                            Some(at) => {
                                (after[..at].trim(), Some(&after[at + delimiter.len_utf8()..]))
                            }
                            None => (after.trim(), None),
                        },
                    };
                    let span = match !has_pair && extra.is_empty() {
                        true => Span {
                            in_unescaped: false,
                            start: offset(body),
                            end: offset(body) + close,
                        },
                        false => {
                            let start = cells.unescaped.len();
                            // Inside the closing quote every quote is doubled: keep one of each two.
                            let mut characters = body[..close].chars();
                            while let Some(character) = characters.next() {
                                cells.unescaped.push(character);
                                if character == quote {
                                    characters.next();
                                }
                            }
                            cells.unescaped.push_str(extra);
                            Span { in_unescaped: true, start, end: cells.unescaped.len() }
                        }
                    };
                    (span, remainder)
                }
                _ => {
                    let (end, remainder) = match find_char(rest, delimiter) {
                        Some(at) => (at, Some(&rest[at + delimiter.len_utf8()..])),
                        None => (rest.len(), None),
                    };
                    (
                        Span { in_unescaped: false, start: offset(rest), end: offset(rest) + end },
                        remainder,
                    )
                }
            };
            let span = match self.trim {
                true => span.trimmed(Row { text: line, cells }.text_of(span)),
                false => span,
            };
            cells.spans.push(span);
            match remainder {
                Some(next) if self.collapse_delimiters => rest = next.trim_start_matches(delimiter),
                Some(next) => rest = next,
                None => return Some(Row { text: line, cells }),
            }
        }
    }
}

/// The cells of the row last split, reused from row to row: each is a span of the row's text,
/// or of `unescaped` when unquoting changed it (a doubled quote inside, text after the closing
/// quote).
#[derive(Debug, Default)]
struct Cells {
    spans: Vec<Span>,
    unescaped: String,
}

/// Where a cell's text is: `start..end` of the row's text, or of [`Cells::unescaped`].
#[derive(Clone, Copy, Debug)]
struct Span {
    in_unescaped: bool,
    start: usize,
    end: usize,
}

impl Span {
    /// Returns the span without the blanks around `text`, the text it spans.
    fn trimmed(self, text: &str) -> Span {
        // Most cells have no blanks around them, which a look at two bytes settles.
        let is_kept = |byte: &u8| byte.is_ascii() && !char::from(*byte).is_whitespace();
        let bytes = text.as_bytes();
        if bytes.first().is_none_or(is_kept) && bytes.last().is_none_or(is_kept) {
            return self;
        }
        let start = self.start + (text.len() - text.trim_start().len());
        Span { start, end: start + text.trim().len(), ..self }
    }
}

/// A split row: its text and the spans of its cells.
#[derive(Clone, Copy, Debug)]
struct Row<'a> {
    text: &'a str,
    cells: &'a Cells,
}

impl<'a> Row<'a> {
    fn len(self) -> usize {
        self.cells.spans.len()
    }

    /// Returns the text of the cell at `index`, which must be below [`Row::len`].
    fn cell(self, index: usize) -> &'a str {
        self.text_of(self.cells.spans[index])
    }

    fn iter(self) -> impl Iterator<Item = &'a str> {
        self.cells.spans.iter().map(move |span| self.text_of(*span))
    }

    fn text_of(self, span: Span) -> &'a str {
        let source = match span.in_unescaped {
            true => self.cells.unescaped.as_str(),
            false => self.text,
        };
        // Cannot panic: `split` made every span from char boundaries of its source.
        &source[span.start..span.end]
    }
}

/// Returns the offset of the quote that closes a quoted cell's `body` (the text after the
/// opening quote), and whether a doubled quote (one quote of the text) comes before it.
fn closing_quote(body: &str, quote: char) -> Option<(usize, bool)> {
    let mut from = 0;
    let mut has_pair = false;
    loop {
        let at = from + find_char(&body[from..], quote)?;
        let after_quote = &body[at + quote.len_utf8()..];
        if strip_char(after_quote, quote).is_none() {
            return Some((at, has_pair));
        }
        has_pair = true;
        from = at + 2 * quote.len_utf8();
    }
}

/// Splits `text` on every `separator` as `str::split` does, or not at all without one; a
/// one-character separator is found with [`find_char`] (`str::split` runs a two-way search for
/// any string).
fn split_on<'a>(text: &'a str, separator: Option<&'a str>) -> impl Iterator<Item = &'a str> {
    let mut separator_chars = separator.unwrap_or_default().chars();
    let single = match (separator_chars.next(), separator_chars.next()) {
        (Some(character), None) => Some(character),
        _ => None,
    };
    // Validation keeps the separator from being empty, which would find itself at 0 forever.
    let separator = separator.filter(|separator| !separator.is_empty());
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        let found = match (single, separator) {
            (Some(character), _) => find_char(current, character),
            (None, Some(separator)) => current.find(separator),
            (None, None) => None,
        };
        let separator_len = separator.map_or(0, str::len);
        match found {
            Some(at) => {
                rest = Some(&current[at + separator_len..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// Returns the byte offset of the first `character` in `text`: `memchr` for an ASCII character
/// (`str::find` compares each candidate with `memcmp`, a third of the time of a CSV row).
#[inline]
fn find_char(text: &str, character: char) -> Option<usize> {
    match u8::try_from(character) {
        Ok(byte) if byte.is_ascii() => memchr::memchr(byte, text.as_bytes()),
        _ => text.find(character),
    }
}

/// Returns `text` without its first character if that is `character` (a byte comparison for an
/// ASCII character, where `str::strip_prefix` calls `memcmp`).
#[inline]
fn strip_char(text: &str, character: char) -> Option<&str> {
    match u8::try_from(character) {
        // Cannot split a character: the first byte is ASCII, a whole character.
        Ok(byte) if byte.is_ascii() => (text.as_bytes().first() == Some(&byte)).then(|| &text[1..]),
        _ => text.strip_prefix(character),
    }
}

impl CsvMapping {
    /// Returns the cleaned text of a field's cell, or `None` when it is absent or a none value.
    fn cell<'a>(
        &self,
        column: &'a Column,
        position: &'a Position,
        row: Row<'a>,
    ) -> Option<Cell<'a>> {
        let index = position.resolve(row.len())?;
        let mut text = row.cell(index);
        if text.is_empty() || self.none_values.iter().any(|none| none == text) {
            return None;
        }
        if let Some(prefix) = &column.strip_prefix {
            text = text.strip_prefix(prefix.as_str()).unwrap_or(text).trim();
        }
        if let Some(suffix) = &column.strip_suffix {
            text = text.strip_suffix(suffix.as_str()).unwrap_or(text).trim();
        }
        let text = match column.map.get(text) {
            Some(mapped) => mapped.as_str(),
            None => text,
        };
        let is_none = text.is_empty() || self.none_values.iter().any(|none| none == text);
        (!is_none).then_some(Cell { text, index, position })
    }

    fn record(&self, layout: &Layout, row: Row<'_>) -> Result<IndicatorRecord, String> {
        let value = self
            .values
            .iter()
            .zip(&layout.values)
            .find_map(|(column, position)| Some((column, self.cell(column, position, row)?)));
        let Some((value_column, value)) = value else {
            return Err(match layout.values.first() {
                Some(position) if position.resolve(row.len()).is_none() => format!(
                    "row has {} columns, the value is in {}",
                    row.len(),
                    describe_index(position)
                ),
                _ => "the value column is empty".to_owned(),
            });
        };
        let (subject, split_port) = self.subject(value_column, &value)?;
        let mut record = IndicatorRecord::for_subject(subject);
        record.category = self.defaults.category;
        record.confidence = self.defaults.confidence;
        record.tlp = self.defaults.tlp;
        record.malware = self.defaults.malware.clone();
        record.tags = self.defaults.tags.clone();
        record.port = split_port;
        for ((field, column), position) in self.fields.iter().zip(&layout.fields) {
            let Some(position) = position else { continue };
            let Some(cell) = self.cell(column, position, row) else { continue };
            let text = cell.text;
            let bad = |reason: String| format!("{}: {reason}", cell.label());
            match field {
                Field::Category => {
                    if let Ok(category) = text.parse::<Category>() {
                        record.category = Some(category);
                    }
                }
                Field::Confidence => {
                    let confidence =
                        text.parse::<u8>().ok().and_then(Confidence::new).ok_or_else(|| {
                            bad(format!("bad confidence {text:?}, expected 0 to 100"))
                        })?;
                    record.confidence = Some(confidence);
                }
                Field::Description => record.description = Some(text.to_owned()),
                Field::FirstSeen => record.first_seen = Some(parse_time(text).map_err(bad)?),
                Field::LastSeen => record.last_seen = Some(parse_time(text).map_err(bad)?),
                Field::ValidUntil => record.valid_until = Some(parse_time(text).map_err(bad)?),
                Field::Malware => record.malware = Some(text.to_owned()),
                Field::Port => {
                    let port =
                        text.parse::<u16>().map_err(|_| bad(format!("bad port {text:?}")))?;
                    record.port = Some(port);
                }
                Field::Reference => record.references.push(text.to_owned()),
                Field::Tags => {
                    for tag in split_on(text, column.separator.as_deref()) {
                        let tag = tag.trim();
                        let is_none =
                            tag.is_empty() || self.none_values.iter().any(|none| none == tag);
                        if !is_none && !record.tags.iter().any(|known| known == tag) {
                            record.tags.push(tag.to_owned());
                        }
                    }
                }
                Field::Tlp => {
                    let tlp = Tlp::from_level_name(text)
                        .or_else(|| Tlp::from_misp_tag(text))
                        .ok_or_else(|| bad(format!("unknown tlp {text:?}")))?;
                    record.tlp = Some(tlp);
                }
            }
        }
        Ok(record)
    }

    /// Reads the value cell as the subject, with the port split off an `ip:port` value.
    fn subject(&self, column: &Column, value: &Cell<'_>) -> Result<(Subject, Option<u16>), String> {
        let (text, port) = match column.ip_port {
            true => split_port(value.text),
            false => (value.text, None),
        };
        let observable = match column.kind {
            Some(kind) => Observable::parse_as(kind, text),
            None => Observable::parse(text),
        }
        .map_err(|error| format!("{}: {error}", value.label()))?;
        let Some(template) = &column.pattern else {
            return Ok((Subject::Observable(observable), port));
        };
        let pattern_text = template.replace("{value}", observable.value());
        let pattern = Pattern::parse(&pattern_text)
            .map_err(|error| format!("{}: bad pattern {pattern_text:?}: {error}", value.label()))?;
        Ok((Subject::Pattern(pattern), port))
    }
}

/// A cell's text after cleaning, with where it is for messages.
struct Cell<'a> {
    text: &'a str,
    /// The 0-based index of the cell in its row.
    index: usize,
    position: &'a Position,
}

impl Cell<'_> {
    /// Returns `column N (name)`, made only when a message needs it (not for every cell).
    fn label(&self) -> String {
        format!("column {} ({})", self.index + 1, self.position.label)
    }
}

fn describe_index(position: &Position) -> String {
    match position.index {
        index if index >= 0 => format!("column {} ({})", index + 1, position.label),
        index => format!("column {} from the end ({})", index.unsigned_abs(), position.label),
    }
}

fn parse_time(text: &str) -> Result<Timestamp, String> {
    time::parse(text)
}

/// Splits `192.0.2.1:443` or `[2001:db8::1]:443` into the host and the port. Other text, and
/// a bare IPv6 address, come back whole.
pub(crate) fn split_port(text: &str) -> (&str, Option<u16>) {
    let Some((host, port)) = text.rsplit_once(':') else { return (text, None) };
    let is_port =
        !port.is_empty() && port.len() <= 5 && port.bytes().all(|byte| byte.is_ascii_digit());
    let Some(port) = port.parse::<u16>().ok().filter(|_| is_port) else { return (text, None) };
    if let Some(bracketed) = host.strip_prefix('[').and_then(|host| host.strip_suffix(']')) {
        return (bracketed, Some(port));
    }
    match host.contains(':') || host.contains('/') {
        true => (text, None),
        false => (host, Some(port)),
    }
}

// --- Deserialisation and validation ---

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default = "default_delimiter")]
    delimiter: String,
    #[serde(default = "default_quote")]
    quote: String,
    #[serde(default = "default_comment")]
    comment: Vec<String>,
    #[serde(default = "default_header")]
    header: HeaderMode,
    #[serde(default)]
    none_values: Vec<String>,
    #[serde(default)]
    collapse_delimiters: bool,
    #[serde(default = "default_true")]
    trim: bool,
    #[serde(default)]
    defaults: RawDefaults,
    fields: RawFields,
}

fn default_delimiter() -> String {
    ",".to_owned()
}

fn default_quote() -> String {
    "\"".to_owned()
}

fn default_comment() -> Vec<String> {
    vec!["#".to_owned()]
}

fn default_header() -> HeaderMode {
    HeaderMode::None
}

fn default_true() -> bool {
    true
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    category: Option<String>,
    confidence: Option<u8>,
    tlp: Option<String>,
    malware: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFields {
    value: toml::Value,
    category: Option<RawColumn>,
    confidence: Option<RawColumn>,
    description: Option<RawColumn>,
    first_seen: Option<RawColumn>,
    last_seen: Option<RawColumn>,
    malware: Option<RawColumn>,
    port: Option<RawColumn>,
    reference: Option<RawColumn>,
    tags: Option<RawColumn>,
    tlp: Option<RawColumn>,
    valid_until: Option<RawColumn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    column: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    index: Option<i64>,
    kind: Option<String>,
    #[serde(default)]
    ip_port: bool,
    pattern: Option<String>,
    separator: Option<String>,
    strip_prefix: Option<String>,
    strip_suffix: Option<String>,
    #[serde(default)]
    map: BTreeMap<String, String>,
}

/// A validation failure, naming the key.
struct Invalid(String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn invalid(key: &str, reason: impl fmt::Display) -> Invalid {
    Invalid(format!("{key}: {reason}"))
}

impl TryFrom<RawMapping> for CsvMapping {
    type Error = Invalid;

    fn try_from(raw: RawMapping) -> Result<CsvMapping, Invalid> {
        if raw.delimiter.is_empty() {
            return Err(invalid("delimiter", "must not be empty"));
        }
        let quote = match raw.quote.chars().count() {
            0 => None,
            1 => raw.quote.chars().next(),
            _ => {
                return Err(invalid(
                    "quote",
                    format!("{:?} is more than one character", raw.quote),
                ));
            }
        };
        if quote.is_some_and(|quote| {
            raw.delimiter.chars().count() == 1 && raw.delimiter.starts_with(quote)
        }) {
            return Err(invalid("quote", "must differ from the delimiter"));
        }
        if raw.comment.iter().any(String::is_empty) {
            return Err(invalid("comment", "a comment prefix must not be empty"));
        }
        if raw.header == HeaderMode::Comment && raw.comment.is_empty() {
            return Err(invalid("header", "\"comment\" needs at least one comment prefix"));
        }
        let defaults = validate_defaults(raw.defaults)?;
        let header = raw.header;
        let value_columns: Vec<RawColumn> = match raw.fields.value {
            toml::Value::Array(alternatives) => {
                let mut columns = Vec::new();
                for (index, alternative) in alternatives.into_iter().enumerate() {
                    columns.push(alternative.try_into().map_err(|error: toml::de::Error| {
                        invalid(&format!("fields.value[{index}]"), error.message())
                    })?);
                }
                columns
            }
            table @ toml::Value::Table(_) => vec![
                table
                    .try_into()
                    .map_err(|error: toml::de::Error| invalid("fields.value", error.message()))?,
            ],
            _ => return Err(invalid("fields.value", "expected a table or an array of tables")),
        };
        if value_columns.is_empty() {
            return Err(invalid("fields.value", "needs at least one column"));
        }
        let mut values = Vec::new();
        for (index, column) in value_columns.into_iter().enumerate() {
            let key = match index {
                0 => "fields.value".to_owned(),
                _ => format!("fields.value[{index}]"),
            };
            values.push(validate_column(&key, column, None, header)?);
        }
        let optional = [
            (Field::Category, raw.fields.category),
            (Field::Confidence, raw.fields.confidence),
            (Field::Description, raw.fields.description),
            (Field::FirstSeen, raw.fields.first_seen),
            (Field::LastSeen, raw.fields.last_seen),
            (Field::Malware, raw.fields.malware),
            (Field::Port, raw.fields.port),
            (Field::Reference, raw.fields.reference),
            (Field::Tags, raw.fields.tags),
            (Field::Tlp, raw.fields.tlp),
            (Field::ValidUntil, raw.fields.valid_until),
        ];
        let mut fields = Vec::new();
        for (field, column) in optional {
            let Some(column) = column else { continue };
            let key = format!("fields.{}", field.name());
            fields.push((field, validate_column(&key, column, Some(field), header)?));
        }
        Ok(CsvMapping {
            delimiter: raw.delimiter,
            quote,
            comments: raw.comment,
            header,
            none_values: raw.none_values,
            collapse_delimiters: raw.collapse_delimiters,
            trim: raw.trim,
            defaults,
            values,
            fields,
        })
    }
}

fn validate_defaults(raw: RawDefaults) -> Result<Defaults, Invalid> {
    let category = match raw.category {
        Some(name) => {
            Some(name.parse::<Category>().map_err(|error| invalid("defaults.category", error))?)
        }
        None => None,
    };
    let confidence = match raw.confidence {
        Some(value) => Some(
            Confidence::new(value)
                .ok_or_else(|| invalid("defaults.confidence", format!("{value} is over 100")))?,
        ),
        None => None,
    };
    let tlp = match raw.tlp {
        Some(name) => Some(
            Tlp::from_level_name(&name)
                .or_else(|| Tlp::from_misp_tag(&name))
                .ok_or_else(|| invalid("defaults.tlp", format!("unknown tlp {name:?}")))?,
        ),
        None => None,
    };
    Ok(Defaults { category, confidence, tlp, malware: raw.malware, tags: raw.tags })
}

fn validate_column(
    key: &str,
    raw: RawColumn,
    field: Option<Field>,
    header: HeaderMode,
) -> Result<Column, Invalid> {
    if raw.column.is_none() && raw.index.is_none() {
        return Err(invalid(key, "needs `column` (a header name) or `index` (a 0-based position)"));
    }
    if raw.column.is_none() && !raw.aliases.is_empty() {
        return Err(invalid(&format!("{key}.aliases"), "needs `column`"));
    }
    if raw.column.is_some() && raw.index.is_none() && header == HeaderMode::None {
        return Err(invalid(
            &format!("{key}.column"),
            "the mapping has header = \"none\", so columns can only be found by `index`",
        ));
    }
    let is_value = field.is_none();
    let value_only = [
        ("kind", raw.kind.is_some()),
        ("ip_port", raw.ip_port),
        ("pattern", raw.pattern.is_some()),
    ];
    if let Some((name, _)) = value_only.iter().find(|(_, set)| *set && !is_value) {
        return Err(invalid(&format!("{key}.{name}"), "only applies to fields.value"));
    }
    if raw.separator.is_some() && field != Some(Field::Tags) {
        return Err(invalid(&format!("{key}.separator"), "only applies to fields.tags"));
    }
    if raw.separator.as_deref() == Some("") {
        return Err(invalid(&format!("{key}.separator"), "must not be empty"));
    }
    let kind = match raw.kind.as_deref() {
        None if is_value => {
            return Err(invalid(
                &format!("{key}.kind"),
                "is required: an observable kind or \"auto\"",
            ));
        }
        None | Some("auto") => None,
        Some(name) => Some(name.parse::<ObservableKind>().map_err(|_| {
            let known: Vec<&str> = ObservableKind::ALL.iter().map(|kind| kind.as_str()).collect();
            invalid(
                &format!("{key}.kind"),
                format!("unknown observable kind {name:?}; expected auto, {}", known.join(", ")),
            )
        })?),
    };
    if let Some(pattern) = &raw.pattern {
        if !pattern.contains("{value}") {
            return Err(invalid(&format!("{key}.pattern"), "must contain {value}"));
        }
        if kind.is_none() {
            return Err(invalid(&format!("{key}.pattern"), "needs a `kind` other than auto"));
        }
    }
    if field == Some(Field::Category) {
        for (from, to) in &raw.map {
            to.parse::<Category>()
                .map_err(|error| invalid(&format!("{key}.map.{from:?}"), error))?;
        }
    }
    let names = raw.column.into_iter().chain(raw.aliases).collect();
    Ok(Column {
        names,
        index: raw.index,
        kind,
        ip_port: raw.ip_port,
        pattern: raw.pattern,
        separator: raw.separator,
        strip_prefix: raw.strip_prefix,
        strip_suffix: raw.strip_suffix,
        map: raw.map,
    })
}

/// The built-in mappings, by format name: the TOML of each (a starting point for similar feeds).
pub const BUILTIN: &[(&str, &str)] = &[
    ("abusech-urlhaus", include_str!("../mappings/abusech-urlhaus.toml")),
    ("abusech-urlhaus-hostfile", include_str!("../mappings/abusech-urlhaus-hostfile.toml")),
    ("abusech-feodotracker", include_str!("../mappings/abusech-feodotracker.toml")),
    ("abusech-threatfox", include_str!("../mappings/abusech-threatfox.toml")),
    ("abusech-sslbl", include_str!("../mappings/abusech-sslbl.toml")),
    ("abusech-sslbl-ja3", include_str!("../mappings/abusech-sslbl-ja3.toml")),
    ("abusech-feodo-domains", include_str!("../mappings/abusech-feodo-domains.toml")),
    ("abusech-zeus-ips", include_str!("../mappings/abusech-zeus-ips.toml")),
    ("abusech-ransomwaretracker", include_str!("../mappings/abusech-ransomwaretracker.toml")),
    ("alienvault-reputation", include_str!("../mappings/alienvault-reputation.toml")),
    ("bambenek-c2", include_str!("../mappings/bambenek-c2.toml")),
    ("bambenek-dga", include_str!("../mappings/bambenek-dga.toml")),
    ("blocklist-de", include_str!("../mappings/blocklist-de.toml")),
    ("cins-army", include_str!("../mappings/cins-army.toml")),
    ("danger-rulez", include_str!("../mappings/danger-rulez.toml")),
    ("dataplane", include_str!("../mappings/dataplane.toml")),
    ("dshield-suspicious-domains", include_str!("../mappings/dshield-suspicious-domains.toml")),
    ("emergingthreats-compromised", include_str!("../mappings/emergingthreats-compromised.toml")),
    ("malwaredomains", include_str!("../mappings/malwaredomains.toml")),
    ("tor-bulk-exit-list", include_str!("../mappings/tor-bulk-exit-list.toml")),
    ("turris-greylist", include_str!("../mappings/turris-greylist.toml")),
    ("cert-eu", include_str!("../mappings/cert-eu.toml")),
    ("zone-h", include_str!("../mappings/zone-h.toml")),
];

/// Defines a [`crate::ReadFn`] that reads with the built-in mapping of a format name.
macro_rules! mapping_reader {
    ($function:ident, $format_name:literal) => {
        fn $function(
            input: &mut dyn std::io::BufRead,
            context: &$crate::Context,
            on_item: &mut dyn FnMut($crate::Item),
        ) -> Result<(), $crate::Error> {
            static MAPPING: std::sync::OnceLock<
                Result<$crate::csvmap::CsvMapping, $crate::csvmap::MappingError>,
            > = std::sync::OnceLock::new();
            let mapping = MAPPING.get_or_init(|| $crate::csvmap::builtin($format_name));
            match mapping {
                Ok(mapping) => $crate::csvmap::read_with_mapping(mapping, input, context, on_item),
                Err(error) => Err($crate::Error::input(&context.file, error.to_string())),
            }
        }
    };
}
pub(crate) use mapping_reader;

/// Returns the built-in mapping of a format name.
pub fn builtin(format_name: &str) -> Result<CsvMapping, MappingError> {
    let (_, text) = BUILTIN.iter().find(|(name, _)| *name == format_name).ok_or_else(|| {
        MappingError { message: format!("no built-in mapping for {format_name:?}") }
    })?;
    CsvMapping::from_toml(text)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The splitter before cells became spans, which copied each cell into its own string: the
    /// reference that `split` must agree with.
    fn split_by_copying(mapping: &CsvMapping, line: &str, cells: &mut Vec<String>) -> bool {
        let mut n_cells = 0;
        if mapping.delimiter.chars().count() > 1 {
            for cell in line.split(mapping.delimiter.as_str()) {
                let mut cell = cell.trim();
                if let Some(quote) = mapping.quote {
                    cell = cell.strip_prefix(quote).unwrap_or(cell);
                    cell = cell.strip_suffix(quote).unwrap_or(cell);
                }
                next_cell(cells, &mut n_cells).push_str(cell);
            }
            cells.truncate(n_cells);
            return true;
        }
        // Cannot fail to find a char: validation made the delimiter one character here.
        let delimiter = mapping.delimiter.chars().next().unwrap_or(',');
        let is_blank =
            |character: char| (character == ' ' || character == '\t') && character != delimiter;
        let mut rest = line;
        loop {
            let cell = next_cell(cells, &mut n_cells);
            let after_blanks = rest.trim_start_matches(is_blank);
            let remainder = match mapping.quote {
                Some(quote) if strip_char(after_blanks, quote).is_some() => {
                    // The body up to the closing quote, a doubled quote standing for one.
                    let mut body = &after_blanks[quote.len_utf8()..];
                    let after = loop {
                        let Some(at) = find_char(body, quote) else { return false };
                        cell.push_str(&body[..at]);
                        let after_quote = &body[at + quote.len_utf8()..];
                        match strip_char(after_quote, quote) {
                            Some(after_pair) => {
                                cell.push(quote);
                                body = after_pair;
                            }
                            None => break after_quote,
                        }
                    };
                    // Text between the closing quote and the delimiter is kept (lenient).
                    match find_char(after, delimiter) {
                        Some(at) => {
                            cell.push_str(after[..at].trim());
                            Some(&after[at + delimiter.len_utf8()..])
                        }
                        None => {
                            cell.push_str(after.trim());
                            None
                        }
                    }
                }
                _ => match find_char(rest, delimiter) {
                    Some(at) => {
                        cell.push_str(&rest[..at]);
                        Some(&rest[at + delimiter.len_utf8()..])
                    }
                    None => {
                        cell.push_str(rest);
                        None
                    }
                },
            };
            if mapping.trim {
                let end = cell.trim_end().len();
                cell.truncate(end);
                let start = cell.len() - cell.trim_start().len();
                cell.drain(..start);
            }
            match remainder {
                Some(next) if mapping.collapse_delimiters => {
                    rest = next.trim_start_matches(delimiter);
                }
                Some(next) => rest = next,
                None => {
                    cells.truncate(n_cells);
                    return true;
                }
            }
        }
    }

    fn next_cell<'a>(cells: &'a mut Vec<String>, n_cells: &mut usize) -> &'a mut String {
        if *n_cells == cells.len() {
            cells.push(String::new());
        }
        let cell = &mut cells[*n_cells];
        *n_cells += 1;
        cell.clear();
        cell
    }

    fn check_split(mapping: &CsvMapping, line: &str) {
        let mut copied = Vec::new();
        let expected = split_by_copying(mapping, line, &mut copied).then_some(copied);
        let mut cells = Cells::default();
        let actual = mapping
            .split(line, &mut cells)
            .map(|row| row.iter().map(str::to_owned).collect::<Vec<_>>());
        assert_eq!(actual, expected, "{line:?} with {mapping:?}");
    }

    /// The layouts the splitter has branches for: one-character and longer delimiters, quotes or
    /// none, trimming or not, collapsed delimiters.
    fn layouts() -> Vec<CsvMapping> {
        let fields = "[fields]\nvalue = { index = 0, kind = \"auto\" }\n";
        [
            "",
            "trim = false",
            "collapse_delimiters = true",
            "delimiter = \"\\t\"\ncollapse_delimiters = true\ntrim = false",
            "delimiter = \" \"",
            "delimiter = \"|\"\nquote = \"\"",
            "quote = \"'\"\ntrim = false",
            "delimiter = '\", \"'",
            "delimiter = \"::\"\nquote = \"\"",
            "delimiter = \"\u{e9}\"\nquote = \"\u{ab}\"",
        ]
        .iter()
        .map(|layout| {
            CsvMapping::from_toml(&format!("{layout}\n{fields}"))
                .unwrap_or_else(|error| panic!("{layout}: {error}"))
        })
        .collect()
    }

    #[test]
    fn split_agrees_with_copying_cells_on_edge_cases() {
        let lines = [
            "",
            "a",
            "a,b,c",
            " a , b ,c ",
            "\"a\",\"b\"",
            "\"a,b\",c",
            "\"a\"\"b\",c",
            "\"a\"\"\",\"\"\"\"",
            "  \"a\"  ,\"b\" x ,c",
            "\"a\" tail",
            "\"open,b",
            "a,\"open",
            "\"\"",
            "\"\",",
            ",,",
            "a,,b,,,",
            "\ta\t,\t\"b\"\t",
            "\"2021-08-17 10:51:12\",\"http://evil.example/\",\"None\"",
            "\"a\", \"b\", \"c\"",
            "a::b:::c",
            "\u{ab}x\u{ab}\u{ab}y\u{ab}\u{e9}z\u{e9} \u{ab}w\u{ab} ",
            "\u{3000}a\u{3000},b",
        ];
        for mapping in layouts() {
            for line in lines {
                check_split(&mapping, line);
            }
        }
    }

    #[test]
    fn split_on_agrees_with_str_split() {
        let texts = ["", ",", "a", "a,b", ",a,,b,", "a, b,, c", "\u{e9}a\u{e9}\u{e9}", "a::b:::"];
        for text in texts {
            assert_eq!(split_on(text, None).collect::<Vec<_>>(), [text], "{text:?}");
            for separator in [",", ", ", "\u{e9}", "::"] {
                assert_eq!(
                    split_on(text, Some(separator)).collect::<Vec<_>>(),
                    text.split(separator).collect::<Vec<_>>(),
                    "{text:?} on {separator:?}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn split_agrees_with_copying_cells(line in "[a\"', \t|:\u{e9}\u{ab}\u{3000}]{0,24}") {
            for mapping in layouts() {
                check_split(&mapping, &line);
            }
        }
    }
}
