//! Extraction of observables from free text: log lines, e-mails, HTML/XML, advisories with
//! defanged values. One pass over the bytes, streaming-friendly, no allocation for rejected text.
//!
//! # How it works
//!
//! The outer loop walks the bytes once with a byte-class table and cuts them into *chunks*:
//! maximal runs of bytes that can be part of an observable. Whitespace, control bytes, every
//! non-ASCII byte (so invalid UTF-8 is a separator too), and the quoting characters
//! `"`, `'`, `` ` ``, `<`, `>`, `|`, `^` end a chunk. While it walks a chunk the loop ORs the class
//! bits of its bytes, so it knows at the chunk's end whether the chunk holds a `.`, `:`, `@`,
//! a defang bracket or other punctuation. A chunk made of letters, digits, `-` and `_` only, shorter
//! than the shortest hash and not shaped like `AS64500`, is skipped without a second look; that
//! is most of the words in prose and logs. So is a chunk shorter than the shortest observable
//! (`::1`, `AS1`), like the lone `:` and `,` between quoted JSON fields.
//!
//! An interesting chunk is refanged into a scratch buffer that keeps a map back to the raw bytes
//! (only when it holds a bracket, brace, parenthesis or backslash), and then looked at in a fixed
//! order, each step claiming the bytes it used so later steps skip them:
//!
//! 1. URLs (`scheme://`), which swallow their host, path and query; a URL nested in another
//!    one's path or query (a redirector, a scanner's report link) is reported too.
//! 2. E-mail addresses, which swallow their domain.
//! 3. IPv6 addresses and networks (`2001:db8::1`, `2001:db8::/32`).
//! 4. Dotted names: IPv4 addresses and networks, and domains.
//! 5. Words: hashes (a hex run of exactly 32, 40, 64 or 128 digits) and `AS64500`.
//!
//! The class bits also decide which steps run at all (no `:` and `/`, no URL step; no `S`, no
//! ASN). Each step runs cheap shape checks (digit and dot counts, group sizes, a public suffix
//! look-up on a stack buffer) and only then calls the canonical parser ([`Observable::parse_as`],
//! or for IPs, networks and ASNs the per-kind parsers, which do not allocate when they fail), so
//! the canonical parser decides every reported value and a rejected candidate costs no allocation.
//!
//! # Decisions
//!
//! - A dotted number run with more than four parts (`1.2.3.4.5`) yields nothing, and so does a
//!   dotted quad glued to a product token (`Chrome/120.0.0.0`): both are version numbers.
//! - A domain must end in a known public suffix, so `report.pdf` and `setup.exe` are not domains.
//!   Some public suffixes are also common file extensions (`.zip`, `.mov`, `.py`, `.sh`, `.md`, `.pid`,
//!   ..., see `FILE_EXTENSION_SUFFIXES`): a literal two-label name with such a suffix, like `invoice.zip`
//!   in prose, is taken as a file name, as a reader would. The same name defanged
//!   (`invoice[.]zip`), with more labels (`login.invoice.zip`), as a URL host or as an e-mail domain
//!   is a domain. Suffixes that are at least as common as real domains in threat data (`.cc`,
//!   `.pl`, `.in`, `.ml`, `.app`, ...) are not on that list.
//! - A name whose last label has upper-case letters while another label has lower-case ones
//!   (`Trojan.Script.GE`, `Js.Tr`) is an anti-virus detection name, not a domain; a literal name
//!   of three or more labels starting with `com.`, `org.`, `net.`, `edu.`, `gov.` or `io.`
//!   (`com.google.android`) is a Java package or app id.
//! - A dotted run right before an `@` that did not make an e-mail address is not a domain either
//!   (`john.doe@localhost`).
//! - A name that is only a public suffix (`co.za`) is not a domain, but a private-section suffix
//!   (`duckdns.org`) is, since it is registered under an ICANN suffix.
//! - A hex run must be bounded by non-word bytes, hold both digits and letters, and have exactly
//!   a hash's length; a 40-digit run inside a 64-digit one is nothing.
//! - IPv6 needs two or more colons, either `::` or all eight groups, and a decimal digit, so times
//!   (`12:30:45`), MAC addresses and `Foo::bar` paths yield nothing.
//! - A URL whose scheme is not one of `http`, `https`, `ftp`, `ftps`, `sftp`, `ws`, `wss` (after
//!   refanging `hxxp`, `hXXps`, `fxp`, ...) is not a URL; its host may still be found as a domain.
//!   A scheme-less `host/path` yields its host. A URL ends at the end of its chunk (whitespace, a
//!   quote, `<`, `>`), a brace or backslash, or a `,`/`;` that starts the next URL; trailing
//!   `.,;:!?*` and closing brackets without an opening partner in the URL are dropped. A URL whose
//!   host is malformed (`http://www..example.com/`) yields nothing, not a guess at the host.
//! - ASNs are `AS64500` or `ASN64500` in one case (`as64500` too), as a whole word.
//! - A non-ASCII byte ends a chunk, so internationalised names are found in their punycode form
//!   (`xn--...`) only.
//! - Defang markers must touch what they join: `evil[.]example` is found, `evil [.] example`
//!   (spaces around the marker) is not, since spaces end a chunk.

mod chunk;
mod refang;
mod shape;

use crate::observable::Observable;

/// Options for [`extract`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtractOptions {
    /// Finds defanged observables too (`hxxp://evil[.]example/x`, `192.0.2[.]55`,
    /// `user[@]evil(dot)example`) and reports them canonical. When false, only literal
    /// observables are found.
    pub refang: bool,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions { refang: true }
    }
}

/// One observable found in the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extracted<'a> {
    /// The canonical observable.
    pub observable: Observable,
    /// The text as it appeared, possibly defanged (`192.0.2[.]55`).
    pub raw: &'a str,
    /// The 1-based line number of the first byte of `raw`, counted from the `first_line` given to
    /// [`extract`].
    pub line: u64,
    /// The byte offset of `raw` in the text given to [`extract`].
    pub offset: usize,
}

/// Finds every observable in `text` and calls `on_hit` for each, in the order of their offsets.
///
/// `first_line` is the line number of the text's first line, so a caller that feeds a large file
/// in chunks cut at newline boundaries passes the running line count. No observable spans a
/// newline, so such chunked calls give the same hits as one call over the whole text. Invalid
/// UTF-8 separates observables like whitespace does.
pub fn extract(
    text: &[u8],
    options: &ExtractOptions,
    first_line: u64,
    mut on_hit: impl FnMut(Extracted<'_>),
) {
    let mut scanner = chunk::Scanner::new(*options);
    // Valid UTF-8, the common case, is checked once here rather than chunk by chunk.
    let whole_text = std::str::from_utf8(text).ok();
    let mut line = first_line;
    let mut position = 0;
    while position < text.len() {
        let class = CLASS[usize::from(text[position])];
        if class & TOKEN == 0 {
            // Chunks never hold a newline, so counting them between chunks is enough.
            line += u64::from(text[position] == b'\n');
            position += 1;
            continue;
        }
        let start = position;
        let mut mask = class;
        position += 1;
        while position < text.len() {
            let class = CLASS[usize::from(text[position])];
            if class & TOKEN == 0 {
                break;
            }
            mask |= class;
            position += 1;
        }
        let chunk = &text[start..position];
        // Refanging only shortens text, so a chunk shorter than the shortest observable holds none.
        let is_interesting = chunk.len() >= shape::MIN_OBSERVABLE_LEN
            && (mask & INTERESTING != 0
                || chunk.len() >= shape::MIN_HASH_LEN
                || shape::starts_like_asn(chunk));
        if !is_interesting {
            continue;
        }
        // Chunks hold ASCII bytes only (see `CLASS`), so they are `str` slices on char boundaries
        // and this conversion cannot fail.
        let chunk = match whole_text {
            Some(whole_text) => whole_text.get(start..position),
            None => std::str::from_utf8(chunk).ok(),
        };
        let Some(chunk) = chunk else { continue };
        scanner.scan(chunk, mask, |hit| {
            let Some(raw) = chunk.get(hit.start..hit.end) else { return };
            on_hit(Extracted { observable: hit.observable, raw, line, offset: start + hit.start });
        });
    }
}

/// The byte belongs to a chunk.
const TOKEN: u8 = 1;
/// `.`
const DOT: u8 = 1 << 1;
/// `:`
const COLON: u8 = 1 << 2;
/// `@`
const AT: u8 = 1 << 3;
/// `[`, `]`, `(`, `)`, `{`, `}`, `\`: may be part of a defanged observable.
const BRACKET: u8 = 1 << 4;
/// Any other punctuation inside a chunk (`=`, `/`, `,`, ...): it splits words, so an ASN or a hash
/// may follow it.
const PUNCT: u8 = 1 << 5;
/// `S` or `s`: without one, a chunk holds no ASN.
const ESS: u8 = 1 << 6;
/// `/`: without one, a chunk holds no URL.
const SLASH: u8 = 1 << 7;
/// The chunk needs a closer look when it holds any of these.
const INTERESTING: u8 = DOT | COLON | AT | BRACKET | PUNCT;

/// The class bits of every byte.
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 128 {
        let b = byte as u8;
        table[byte] = match b {
            b'S' | b's' => TOKEN | ESS,
            b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'-' | b'_' => TOKEN,
            b'.' => TOKEN | DOT,
            b':' => TOKEN | COLON,
            b'@' => TOKEN | AT,
            b'[' | b']' | b'(' | b')' | b'{' | b'}' | b'\\' => TOKEN | BRACKET,
            b'/' => TOKEN | PUNCT | SLASH,
            b'!' | b'#' | b'$' | b'%' | b'&' | b'*' | b'+' | b',' | b';' | b'=' | b'?' | b'~' => {
                TOKEN | PUNCT
            }
            // Whitespace, control bytes and the quoting characters `"`, `'`, `` ` ``, `<`, `>`,
            // `|`, `^` separate chunks.
            _ => 0,
        };
        byte += 1;
    }
    // Bytes from 128 up stay 0: non-ASCII separates chunks.
    table
};
