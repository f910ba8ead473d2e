//! CyberCrime Tracker's index page (`index.php`): the HTML table of malware control panels,
//! scraped with the small [`markup`](crate::markup) tokenizer.
//!
//! The table starts at the header row whose cells read `-::DATE`, `-::URL`, `-::IP`, `-::TYPE`
//! (the columns are found by name, so their order may change); rows before it and after its
//! `</table>` are page layout and are skipped. Each data row gives a url indicator (the URL is
//! written without a scheme: `http://` is assumed) and, when the IP cell is not empty, an ip
//! indicator. Both are `botnet_c2` (the tracker lists command-and-control panels), with the row's
//! `TYPE` as the malware family and its `DATE` (`DD-MM-YYYY`) as the first-seen time.
//!
//! Quirks handled: the IP is inside an `<a>` tag; `<td>` and `<a>` tags may be left unclosed
//! (a new `<td>` or `<tr>` ends the cell); bare `&` in links. A cell with a bad value is a reject
//! at its row's line naming the column, and the row's other indicator still comes out; a row
//! with neither a valid URL nor a valid IP gives only its rejects.

use std::io::BufRead;

use watchfire_model::observable::{Observable, ObservableKind};
use watchfire_model::record::{Category, IndicatorRecord, Record};

use crate::markup::{Mode, Token, Tokenizer};
use crate::{Context, Error, Format, Item, time};

/// The formats this module reads.
pub const FORMATS: &[Format] = &[Format {
    name: "cybercrime-tracker",
    summary: "CyberCrime Tracker index page (HTML table of C2 panels)",
    read,
    detect: Some(detect),
}];

/// Recognises the page: its `-::DATE` and `-::URL` header cells, or its title.
fn detect(head: &[u8], _file_name: &str) -> bool {
    let text = String::from_utf8_lossy(head);
    let has_header = text.contains("-::DATE") && text.contains("-::URL");
    let lowered = text.to_ascii_lowercase();
    let has_title = lowered
        .find("<title>")
        .is_some_and(|start| lowered[start..].starts_with("<title>cybercrime"));
    has_header || has_title
}

/// The columns of the tracker's table, by position.
#[derive(Clone, Copy, Debug)]
struct Columns {
    date: Option<usize>,
    url: usize,
    ip: Option<usize>,
    malware: Option<usize>,
}

/// A `<tr>` being read: its line and its cells' text so far.
#[derive(Debug)]
struct Row {
    line: u64,
    cells: Vec<String>,
    is_in_cell: bool,
}

/// Reads the tracker's index page.
fn read(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
) -> Result<(), Error> {
    let mut tokenizer = Tokenizer::new(input, Mode::Html);
    let mut columns: Option<Columns> = None;
    let mut row: Option<Row> = None;
    while let Some((line, token)) =
        tokenizer.next_token().map_err(|error| Error::io(&context.file, error))?
    {
        match token {
            Token::Start { name, .. } if name == "tr" => {
                if let Some(done) = row.take() {
                    finish_row(context, &mut columns, &done, on_item);
                }
                row = Some(Row { line, cells: Vec::new(), is_in_cell: false });
            }
            Token::Start { name, .. } if name == "td" || name == "th" => {
                if let Some(row) = row.as_mut() {
                    row.cells.push(String::new());
                    row.is_in_cell = true;
                }
            }
            Token::End { name } if name == "td" || name == "th" => {
                if let Some(row) = row.as_mut() {
                    row.is_in_cell = false;
                }
            }
            Token::End { name } if name == "tr" || name == "table" => {
                if let Some(done) = row.take() {
                    finish_row(context, &mut columns, &done, on_item);
                }
                if name == "table" {
                    columns = None;
                }
            }
            Token::Text(text) => {
                let cell =
                    row.as_mut().filter(|row| row.is_in_cell).and_then(|row| row.cells.last_mut());
                if let Some(cell) = cell {
                    cell.push_str(&text);
                }
            }
            // Other tags (`<a>`, `<img>`) only wrap cell text; bad markup outside the table is
            // layout, and inside it the row's values say what is wrong.
            Token::Start { .. } | Token::End { .. } | Token::Bad(_) => {}
        }
    }
    if let Some(done) = row.take() {
        finish_row(context, &mut columns, &done, on_item);
    }
    Ok(())
}

/// Reads a finished row: the header (which starts the table), a data row, or layout.
fn finish_row(
    context: &Context,
    columns: &mut Option<Columns>,
    row: &Row,
    on_item: &mut dyn FnMut(Item),
) {
    let cells: Vec<String> = row
        .cells
        .iter()
        .map(|cell| cell.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let Some(table) = *columns else {
        let position = |name: &str| cells.iter().position(|cell| cell.eq_ignore_ascii_case(name));
        if let Some(url) = position("-::URL") {
            *columns = Some(Columns {
                date: position("-::DATE"),
                url,
                ip: position("-::IP"),
                malware: position("-::TYPE"),
            });
        }
        return;
    };
    if cells.iter().all(String::is_empty) {
        return;
    }
    let cell = |index: Option<usize>| {
        index.and_then(|index| cells.get(index)).map(String::as_str).filter(|cell| !cell.is_empty())
    };
    let reject = |column: &str, reason: String| {
        context.reject(row.line, format!("column {column}: {reason}"))
    };
    let first_seen = cell(table.date).and_then(|date| match time::parse(date) {
        Ok(time) => Some(time),
        Err(reason) => {
            on_item(reject("date", reason));
            None
        }
    });
    let mut observables = Vec::new();
    match cell(Some(table.url)) {
        Some(url) => match Observable::parse_as(ObservableKind::Url, url) {
            Ok(url) => observables.push(url),
            Err(error) => on_item(reject("url", error.to_string())),
        },
        None => on_item(reject("url", "empty".to_owned())),
    }
    if let Some(ip) = cell(table.ip) {
        let kind = if ip.contains(':') { ObservableKind::Ipv6 } else { ObservableKind::Ipv4 };
        match Observable::parse_as(kind, ip) {
            Ok(ip) => observables.push(ip),
            Err(error) => on_item(reject("ip", error.to_string())),
        }
    }
    for observable in observables {
        let mut indicator = IndicatorRecord::new(observable);
        indicator.category = Some(Category::BotnetC2);
        indicator.first_seen = first_seen.clone();
        indicator.malware = cell(table.malware).map(str::to_owned);
        on_item(Item::Record(Record::Indicator(indicator)));
    }
}
