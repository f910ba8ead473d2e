//! The one harness every format test goes through: read a real fixture with a named format and
//! compare a readable rendering (counts, a sample of records, every reject) with a checked-in
//! `.expected` file. A missing file is written on the first run (and the test fails, asking for a
//! review); `UPDATE_EXPECT=1` rewrites them all.

#![allow(dead_code)] // Each test binary uses a different part of the harness.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};

use watchfire_formats::{Context, Item, format_by_name, input};

/// How many records the rendering shows in full; the rest are counted.
pub const SAMPLE: usize = 5;

/// Returns the path of a shared feed fixture, `abusech-urlhaus/csv_recent.csv`.
pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/feeds").join(relative)
}

/// Reads a file with the format `format_name` and returns every item.
pub fn read(format_name: &str, path: &Path) -> Vec<Item> {
    let format = format_by_name(format_name).expect("a known format");
    let file =
        File::open(path).unwrap_or_else(|error| panic!("cannot open {}: {error}", path.display()));
    let name = path.file_name().and_then(|name| name.to_str()).unwrap_or("input").to_owned();
    let mut reader = input::open(&name, file).expect("input opens");
    let mut items = Vec::new();
    (format.read)(&mut reader, &Context::new(name), &mut |item| items.push(item))
        .unwrap_or_else(|error| panic!("{format_name} failed on {}: {error}", path.display()));
    items
}

/// Reads bytes with the format `format_name` under the input name `name`.
pub fn read_bytes(
    format_name: &str,
    name: &str,
    bytes: &[u8],
) -> Result<Vec<Item>, watchfire_formats::Error> {
    let format = format_by_name(format_name).expect("a known format");
    let mut reader = input::open(name, std::io::Cursor::new(bytes.to_vec()))?;
    let mut items = Vec::new();
    (format.read)(&mut reader, &Context::new(name), &mut |item| items.push(item))?;
    Ok(items)
}

/// Renders items for a snapshot: a count line per record kind, the first records in full, and
/// every reject.
pub fn render(items: &[Item]) -> String {
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    let mut n_rejects = 0;
    for item in items {
        match item {
            Item::Record(record) => *by_kind.entry(record.kind_name()).or_default() += 1,
            Item::Reject(_) => n_rejects += 1,
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "records: {}, rejects: {n_rejects}, by kind: {by_kind:?}",
        by_kind.values().sum::<usize>()
    );
    let records = items.iter().filter_map(|item| match item {
        Item::Record(record) => Some(record),
        Item::Reject(_) => None,
    });
    for (index, record) in records.enumerate().take(SAMPLE) {
        let _ = writeln!(out, "\n--- record {} ---\n{record:#?}", index + 1);
    }
    for item in items {
        if let Item::Reject(reject) = item {
            let _ = writeln!(out, "reject: line {}: {}", reject.line, reject.reason);
        }
    }
    out
}

/// Reads `fixture_relative` with `format_name` and compares the rendering with
/// `test_data/<format_name>/<fixture file name>.expected`. Returns the items for further asserts.
pub fn check_fixture(format_name: &str, fixture_relative: &str) -> Vec<Item> {
    let items = read(format_name, &fixture(fixture_relative));
    let file_name = Path::new(fixture_relative)
        .file_name()
        .and_then(|name| name.to_str())
        .expect("a file name");
    let expected_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test_data")
        .join(format_name)
        .join(format!("{file_name}.expected"));
    let actual = render(&items);
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    match std::fs::read_to_string(&expected_path) {
        Ok(expected) if !update => {
            assert!(
                expected == actual,
                "{} differs from the output; review and run with UPDATE_EXPECT=1\n{}",
                expected_path.display(),
                diff(&expected, &actual)
            );
        }
        Ok(_) | Err(_) => {
            std::fs::create_dir_all(expected_path.parent().expect("a parent"))
                .expect("test_data is writable");
            std::fs::write(&expected_path, &actual).expect("test_data is writable");
            assert!(update, "wrote {}: review it, then run again", expected_path.display());
        }
    }
    items
}

fn diff(expected: &str, actual: &str) -> String {
    let mut out = String::new();
    for (index, (left, right)) in expected.lines().zip(actual.lines()).enumerate() {
        if left != right {
            let _ = writeln!(out, "first difference at line {}:\n- {left}\n+ {right}", index + 1);
            return out;
        }
    }
    let _ = writeln!(
        out,
        "expected {} lines, got {}",
        expected.lines().count(),
        actual.lines().count()
    );
    out
}

/// Returns the records of `items`.
pub fn records(items: &[Item]) -> Vec<&watchfire_model::record::Record> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Record(record) => Some(record),
            Item::Reject(_) => None,
        })
        .collect()
}

/// Returns the rejects of `items`.
pub fn rejects(items: &[Item]) -> Vec<&watchfire_formats::Reject> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Reject(reject) => Some(reject),
            Item::Record(_) => None,
        })
        .collect()
}
