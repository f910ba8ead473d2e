//! Opening a feed file: transparent gzip and zip decompression (capped), UTF-8 BOM removal, and a
//! line reader that accepts LF and CRLF and reports invalid UTF-8 per line instead of failing.

use std::io::{self, BufRead, BufReader, Cursor, Read};

use crate::{Context, Error, Item, Reject};

/// The most bytes a compressed input may expand to. A feed larger than this is split upstream;
/// a "zip bomb" stops here with an error instead of filling the memory or the disk.
pub const MAX_DECOMPRESSED: u64 = 4 << 30;

/// The most bytes one line may have; a longer line is a reject, and reading goes on after it.
pub const MAX_LINE: usize = 1 << 20;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZIP_MAGIC: [u8; 4] = [b'P', b'K', 3, 4];
const UTF8_BOM: [u8; 3] = [0xef, 0xbb, 0xbf];

/// Wraps raw file bytes in a reader of the feed's own bytes: gzip and zip (its first file) are
/// decompressed, capped at `MAX_DECOMPRESSED`, and a UTF-8 byte-order mark is dropped.
///
/// `name` names the input in errors.
pub fn open(name: &str, raw: impl Read + 'static) -> Result<Box<dyn BufRead>, Error> {
    Ok(Box::new(open_input(name, raw)?))
}

/// [`open`] without the box: the reader is `Send` when `raw` is, so threads can take turns
/// reading it.
pub fn open_input<R: Read>(name: &str, raw: R) -> Result<Opened<R>, Error> {
    let mut raw = BufReader::with_capacity(1 << 16, raw);
    let head = raw.fill_buf().map_err(|error| Error::io(name, error))?;
    let inner = if head.starts_with(&GZIP_MAGIC) {
        let decoder = flate2::bufread::MultiGzDecoder::new(raw);
        Unpacked::Gzip(Box::new(BufReader::with_capacity(1 << 16, Capped::new(decoder))))
    } else if head.starts_with(&ZIP_MAGIC) {
        Unpacked::Zip(Cursor::new(first_zip_entry(name, raw)?))
    } else {
        Unpacked::Plain(raw)
    };
    let mut reader = Opened(inner);
    let head = reader.fill_buf().map_err(|error| Error::io(name, error))?;
    if head.starts_with(&UTF8_BOM) {
        reader.consume(UTF8_BOM.len());
    }
    Ok(reader)
}

/// An input opened by [`open_input`].
pub struct Opened<R>(Unpacked<R>);

impl<R> std::fmt::Debug for Opened<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let packing = match self.0 {
            Unpacked::Plain(_) => "plain",
            Unpacked::Gzip(_) => "gzip",
            Unpacked::Zip(_) => "zip",
        };
        f.debug_tuple("Opened").field(&packing).finish()
    }
}

enum Unpacked<R> {
    Plain(BufReader<R>),
    Gzip(Box<BufReader<Capped<flate2::bufread::MultiGzDecoder<BufReader<R>>>>>),
    Zip(Cursor<Vec<u8>>),
}

impl<R: Read> Read for Opened<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.0 {
            Unpacked::Plain(reader) => reader.read(buf),
            Unpacked::Gzip(reader) => reader.read(buf),
            Unpacked::Zip(reader) => reader.read(buf),
        }
    }
}

impl<R: Read> BufRead for Opened<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match &mut self.0 {
            Unpacked::Plain(reader) => reader.fill_buf(),
            Unpacked::Gzip(reader) => reader.fill_buf(),
            Unpacked::Zip(reader) => reader.fill_buf(),
        }
    }

    fn consume(&mut self, amount: usize) {
        match &mut self.0 {
            Unpacked::Plain(reader) => reader.consume(amount),
            Unpacked::Gzip(reader) => reader.consume(amount),
            Unpacked::Zip(reader) => reader.consume(amount),
        }
    }
}

/// Reads the first file of a zip archive, capped. Zip needs random access, so the archive itself is
/// read into memory first (capped too).
fn first_zip_entry(name: &str, mut raw: impl Read) -> Result<Vec<u8>, Error> {
    let mut archive_bytes = Vec::new();
    raw.by_ref()
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut archive_bytes)
        .map_err(|error| Error::io(name, error))?;
    if archive_bytes.len() as u64 > MAX_DECOMPRESSED {
        return Err(Error::too_large(name));
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(archive_bytes))
        .map_err(|error| Error::input(name, format!("bad zip archive: {error}")))?;
    let file_index = (0..archive.len())
        .find(|&index| archive.by_index(index).is_ok_and(|file| file.is_file()))
        .ok_or_else(|| Error::input(name, "zip archive holds no file"))?;
    let file = archive
        .by_index(file_index)
        .map_err(|error| Error::input(name, format!("bad zip entry: {error}")))?;
    let mut contents = Vec::new();
    file.take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut contents)
        .map_err(|error| Error::io(name, error))?;
    if contents.len() as u64 > MAX_DECOMPRESSED {
        return Err(Error::too_large(name));
    }
    Ok(contents)
}

/// A reader that fails once more than `MAX_DECOMPRESSED` bytes came out of it.
struct Capped<R> {
    inner: R,
    n_read: u64,
}

impl<R> Capped<R> {
    fn new(inner: R) -> Capped<R> {
        Capped { inner, n_read: 0 }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n_read = self.inner.read(buf)?;
        self.n_read += n_read as u64;
        if self.n_read > MAX_DECOMPRESSED {
            return Err(io::Error::other(format!(
                "decompressed input is over the {MAX_DECOMPRESSED}-byte cap"
            )));
        }
        Ok(n_read)
    }
}

/// Reads lines (LF or CRLF, the ending removed) with their 1-based numbers. A line that is not
/// UTF-8 or is longer than [`MAX_LINE`] comes back as a reject and is skipped.
///
/// The line last returned may still be in the reader's buffer, consumed on the next call, so the
/// reader is for `Lines` alone until the end.
#[derive(Debug)]
pub struct Lines<R> {
    reader: R,
    buffer: Vec<u8>,
    line: u64,
    /// The bytes of the reader's buffer that the last line, lent straight from it, took up.
    n_lent: usize,
}

impl<R: BufRead> Lines<R> {
    /// Starts reading `reader` at line 1.
    pub fn new(reader: R) -> Lines<R> {
        Lines { reader, buffer: Vec::with_capacity(256), line: 0, n_lent: 0 }
    }

    /// Returns the next line and its number, `Ok(None)` at the end, or an I/O error. Bad lines
    /// (invalid UTF-8, too long) come back as `Err(reject)` in the inner result.
    #[allow(clippy::type_complexity)] // The two layers are the point: I/O failure vs. one bad line.
    pub fn next_line(&mut self, file: &str) -> io::Result<Option<Result<(u64, &str), Reject>>> {
        self.reader.consume(std::mem::take(&mut self.n_lent));
        // A line that lies whole in the reader's buffer is lent from there, not copied, and found
        // with a vector search. (Finding it and lending it are two calls because a borrow returned
        // on one branch only would still hold the reader on the other.)
        let newline = memchr::memchr(b'\n', self.reader.fill_buf()?);
        if let Some(newline) = newline.filter(|&newline| newline <= MAX_LINE) {
            self.n_lent = newline + 1;
            self.line += 1;
            let line = &self.reader.fill_buf()?[..newline];
            return Ok(Some(checked_text(file, self.line, line)));
        }
        self.buffer.clear();
        let n_read =
            (&mut self.reader).take(MAX_LINE as u64 + 1).read_until(b'\n', &mut self.buffer)?;
        if n_read == 0 {
            return Ok(None);
        }
        self.line += 1;
        if !self.buffer.ends_with(b"\n") && self.buffer.len() > MAX_LINE {
            // Skip the rest of the over-long line so the next call starts on a line boundary.
            let mut rest = Vec::new();
            loop {
                rest.clear();
                let n_rest = (&mut self.reader).take(1 << 16).read_until(b'\n', &mut rest)?;
                if n_rest == 0 || rest.ends_with(b"\n") {
                    break;
                }
            }
            return Ok(Some(Err(Reject::new(
                file,
                self.line,
                format!("line longer than {MAX_LINE} bytes"),
            ))));
        }
        let line = self.buffer.strip_suffix(b"\n").unwrap_or(&self.buffer);
        Ok(Some(checked_text(file, self.line, line)))
    }
}

/// Returns line `number` without a final CR as text, or its reject when it is not UTF-8.
fn checked_text<'a>(file: &str, number: u64, line: &'a [u8]) -> Result<(u64, &'a str), Reject> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match std::str::from_utf8(line) {
        Ok(text) => Ok((number, text)),
        Err(error) => Err(Reject::new(
            file,
            number,
            format!("invalid UTF-8 at byte {}", error.valid_up_to() + 1),
        )),
    }
}

/// The per-line callback of [`for_each_line`]: the line number, its text, and where items go.
pub type OnLine<'a> = dyn FnMut(u64, &str, &mut dyn FnMut(Item)) + 'a;

/// Calls `on_line(number, text, on_item)` for each line of `input`, passing bad lines (invalid
/// UTF-8, over-long) on as rejects. This is the one line loop of the line-based readers.
pub fn for_each_line(
    input: &mut dyn BufRead,
    context: &Context,
    on_item: &mut dyn FnMut(Item),
    on_line: &mut OnLine<'_>,
) -> Result<(), Error> {
    let file = context.file.as_str();
    let mut lines = Lines::new(input);
    while let Some(line) = lines.next_line(file).map_err(|error| Error::io(file, error))? {
        match line {
            Ok((number, text)) => on_line(number, text, on_item),
            Err(reject) => on_item(Item::Reject(reject)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn read_all(bytes: Vec<u8>) -> (Vec<(u64, String)>, Vec<Reject>) {
        let reader = open("test", Cursor::new(bytes)).unwrap();
        let mut lines = Lines::new(reader);
        let (mut good, mut bad) = (Vec::new(), Vec::new());
        while let Some(line) = lines.next_line("test").unwrap() {
            match line {
                Ok((number, text)) => good.push((number, text.to_owned())),
                Err(reject) => bad.push(reject),
            }
        }
        (good, bad)
    }

    /// Lines lent from the reader's buffer and lines copied across its refills read the same as
    /// splitting the whole input at once, whatever the buffer's size.
    #[test]
    fn lines_are_the_same_across_buffer_boundaries() {
        let input: &[u8] =
            b"a,b\r\n\n\"long line, longer than the buffer\"\r\nbad \xff\n\rx\r\r\nlast";
        let expected: Vec<Result<(u64, String), u64>> = input
            .split(|&byte| byte == b'\n')
            .enumerate()
            .map(|(idx, line)| {
                let number = idx as u64 + 1;
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                std::str::from_utf8(line).map(|text| (number, text.to_owned())).map_err(|_| number)
            })
            .collect();
        for capacity in [1, 2, 3, 5, 8, 13, 64] {
            let mut lines = Lines::new(BufReader::with_capacity(capacity, input));
            let mut actual = Vec::new();
            while let Some(line) = lines.next_line("test").unwrap() {
                let line = line.map(|(number, text)| (number, text.to_owned()));
                actual.push(line.map_err(|reject| reject.line));
            }
            assert_eq!(actual, expected, "buffer of {capacity} bytes");
        }
    }

    #[test]
    fn crlf_bom_and_a_missing_final_newline() {
        let (good, bad) = read_all(b"\xef\xbb\xbfa\r\nb\n\nc".to_vec());
        assert_eq!(good, vec![(1, "a".into()), (2, "b".into()), (3, "".into()), (4, "c".into())]);
        assert!(bad.is_empty());
    }

    #[test]
    fn invalid_utf8_is_a_reject_with_its_line() {
        let (good, bad) = read_all(b"ok\nbad \xff here\nok again\n".to_vec());
        assert_eq!(good, vec![(1, "ok".into()), (3, "ok again".into())]);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].line, 2);
        assert_eq!(bad[0].reason, "invalid UTF-8 at byte 5");
    }

    #[test]
    fn gzip_is_decompressed() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"192.0.2.1\r\n198.51.100.2\r\n").unwrap();
        let (good, _) = read_all(encoder.finish().unwrap());
        assert_eq!(good, vec![(1, "192.0.2.1".into()), (2, "198.51.100.2".into())]);
    }

    #[test]
    fn zip_first_file_is_read() {
        let mut archive = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        archive.start_file("list.txt", options).unwrap();
        archive.write_all(b"\xef\xbb\xbfevil.example\n").unwrap();
        let bytes = archive.finish().unwrap().into_inner();
        let (good, _) = read_all(bytes);
        assert_eq!(good, vec![(1, "evil.example".into())]);
    }

    #[test]
    fn a_broken_zip_is_an_error_naming_the_input() {
        let error =
            open("feed.zip", Cursor::new(b"PK\x03\x04garbage".to_vec())).err().expect("an error");
        assert!(error.to_string().starts_with("feed.zip: bad zip archive"), "{error}");
    }

    #[test]
    fn an_over_long_line_is_a_reject_and_reading_goes_on() {
        let mut bytes = vec![b'x'; MAX_LINE + 10];
        bytes.extend_from_slice(b"\nnext\n");
        let (good, bad) = read_all(bytes);
        assert_eq!(good, vec![(2, "next".into())]);
        assert_eq!(bad[0].line, 1);
    }
}
