//! The close look at one interesting chunk: refang it, then find URLs, e-mail addresses, IPv6,
//! dotted names (IPv4, domains) and words (hashes, ASNs), each step claiming the bytes it used.

use super::refang::{canonical_scheme, refang_chunk};
use super::shape::{self, is_host_byte, is_word_byte};
use super::{AT, BRACKET, COLON, DOT, ESS, ExtractOptions, SLASH};
use crate::observable::{self, Observable, ObservableKind};

/// A URL nested in more than this many URLs of one run is not looked at: it bounds the work on
/// hostile input like `http://http://http://...`.
const MAX_NESTED_URLS: usize = 4;

/// One observable found in a chunk, with its raw span relative to the chunk.
#[derive(Debug)]
pub(super) struct Hit {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) observable: Observable,
}

/// Scratch buffers reused from chunk to chunk, so a scan allocates only for what it reports.
#[derive(Debug)]
pub(super) struct Scanner {
    options: ExtractOptions,
    refanged: String,
    map: Vec<usize>,
    state: State,
}

/// What the steps share: the claimed bytes, the hits so far and a buffer for candidate text.
#[derive(Debug, Default)]
struct State {
    /// Whether each byte of the view is claimed; empty while nothing is.
    claimed: Vec<bool>,
    hits: Vec<Hit>,
    candidate: String,
    /// The canonical parsers' buffer.
    scratch: String,
}

/// The chunk as the steps see it: refanged text and the way back to raw offsets.
struct View<'a> {
    /// ASCII only.
    text: &'a str,
    bytes: &'a [u8],
    /// For each byte of `bytes` (and one past the end), its offset in the raw chunk; `None` when
    /// the view is the raw chunk itself.
    map: Option<&'a [usize]>,
    refang: bool,
}

impl View<'_> {
    fn raw_offset(&self, position: usize) -> usize {
        self.map.map_or(position, |map| map[position])
    }

    /// Whether the span reads the same in the raw chunk, i.e. was not defanged.
    fn is_literal(&self, start: usize, end: usize) -> bool {
        self.raw_offset(end) - self.raw_offset(start) == end - start
    }

    fn text(&self, start: usize, end: usize) -> &str {
        // The text is ASCII, so every offset is a char boundary and this cannot fail.
        self.text.get(start..end).unwrap_or_default()
    }
}

impl Scanner {
    pub(super) fn new(options: ExtractOptions) -> Scanner {
        Scanner { options, refanged: String::new(), map: Vec::new(), state: State::default() }
    }

    /// Finds the observables of `chunk` (ASCII), whose bytes' class bits ORed together are
    /// `mask`, and emits them in the order of their offsets.
    pub(super) fn scan(&mut self, chunk: &str, mut mask: u8, mut emit: impl FnMut(Hit)) {
        let refang = self.options.refang;
        let is_refanged =
            refang && mask & BRACKET != 0 && refang_chunk(chunk, &mut self.refanged, &mut self.map);
        let view = match is_refanged {
            true => {
                // Refanging may have written any of these.
                mask |= DOT | COLON | AT | SLASH;
                View {
                    text: &self.refanged,
                    bytes: self.refanged.as_bytes(),
                    map: Some(&self.map),
                    refang,
                }
            }
            false => View { text: chunk, bytes: chunk.as_bytes(), map: None, refang },
        };
        let state = &mut self.state;
        state.claimed.clear();
        state.hits.clear();

        if mask & (COLON | SLASH) == COLON | SLASH {
            find_urls(&view, state);
        }
        if mask & AT != 0 {
            find_emails(&view, state);
        }
        if mask & COLON != 0 {
            find_ipv6(&view, state);
        }
        if mask & DOT != 0 {
            find_dotted(&view, state);
        }
        // A word step is needed only for a hash, at least as long as the shortest one, or for an
        // ASN, which has an `S`.
        if chunk.len() >= shape::MIN_HASH_LEN || mask & ESS != 0 {
            find_words(&view, state);
        }

        if state.hits.len() > 1 {
            state.hits.sort_by_key(|hit| hit.start);
        }
        for hit in state.hits.drain(..) {
            emit(hit);
        }
    }
}

/// Returns the position of the first `byte` in `bytes`: a plain loop for the short slices that
/// most chunks are, where `memchr`'s set-up costs more than it saves.
fn find_byte(byte: u8, bytes: &[u8]) -> Option<usize> {
    match bytes.len() < 64 {
        true => bytes.iter().position(|&candidate| candidate == byte),
        false => memchr::memchr(byte, bytes),
    }
}

impl State {
    fn is_claimed(&self, start: usize, end: usize) -> bool {
        !self.claimed.is_empty() && self.claimed[start..end].contains(&true)
    }

    /// Parses the candidate span and records a hit for it; returns whether it parsed.
    fn try_hit(&mut self, view: &View<'_>, kind: ObservableKind, start: usize, end: usize) -> bool {
        let text = view.text(start, end);
        self.try_parse(view, kind, text, start, end)
    }

    /// Parses `text`, the candidate for the view span `start..end`, and records a hit for it;
    /// returns whether it parsed.
    fn try_parse(
        &mut self,
        view: &View<'_>,
        kind: ObservableKind,
        text: &str,
        start: usize,
        end: usize,
    ) -> bool {
        let Some(observable) = parse_candidate(kind, text, &mut self.scratch) else { return false };
        self.hits.push(Hit {
            start: view.raw_offset(start),
            end: view.raw_offset(end),
            observable,
        });
        if self.claimed.is_empty() {
            self.claimed.resize(view.bytes.len(), false);
        }
        self.claimed[start..end].fill(true);
        true
    }
}

/// Parses a candidate that has passed the shape checks, without allocating when it fails.
///
/// Only a URL candidate can hold a defang marker that the chunk's refanging left (`[.` inside a
/// path, a nested `hxxp:`), so only it goes through [`observable::refang`] as
/// [`Observable::parse_as`] would do. The other kinds' candidates are made of letters, digits and
/// `.`, `-`, `_`, `%`, `+`, `@`, `/` and (IPv6) `:` between hex digits, which form no marker: every
/// marker needs a bracket, a backslash or a defanged scheme before a `:`. No candidate holds
/// whitespace, so none needs trimming either.
fn parse_candidate(kind: ObservableKind, text: &str, scratch: &mut String) -> Option<Observable> {
    match kind {
        ObservableKind::Url => observable::parse_token(kind, &observable::refang(text), scratch),
        _ => observable::parse_token(kind, text, scratch),
    }
    .ok()
}

/// Finds `scheme://...` URLs. A URL runs to the end of the chunk, or to a brace or backslash, or
/// to a `,` or `;` that starts another URL, less trailing punctuation and unbalanced closing
/// brackets. Its host is not reported separately, but a URL nested in its path is.
fn find_urls(view: &View<'_>, state: &mut State) {
    let bytes = view.bytes;
    let mut from = 0;
    // URLs that start inside one run share its end, so it is found once per run.
    let mut run_end = 0;
    let mut n_nested = 0;
    while let Some(found) = find_byte(b':', &bytes[from..]) {
        let colon = from + found;
        from = colon + 1;
        if !bytes[colon..].starts_with(b"://") {
            continue;
        }
        let Some((start, scheme)) = scheme_before(view, colon) else { continue };
        let body_start = colon + 3;
        if body_start < run_end {
            n_nested += 1;
            if n_nested > MAX_NESTED_URLS {
                continue;
            }
        } else {
            n_nested = 0;
            run_end = url_run_end(view, body_start);
        }
        let end = trim_url_end(bytes, start, run_end);
        if end <= body_start {
            continue;
        }
        let mut candidate = std::mem::take(&mut state.candidate);
        candidate.clear();
        candidate.push_str(scheme);
        candidate.push_str(view.text(colon, end));
        state.try_parse(view, ObservableKind::Url, &candidate, start, end);
        state.candidate = candidate;
    }
}

/// Returns the start and canonical name of the scheme that ends at `colon`, if it is one that is
/// extracted and not the tail of a longer word.
fn scheme_before(view: &View<'_>, colon: usize) -> Option<(usize, &'static str)> {
    let bytes = view.bytes;
    let mut start = colon;
    while start > 0 && (bytes[start - 1].is_ascii_alphabetic() || bytes[start - 1] == b'*') {
        start -= 1;
    }
    // `*` masks letters inside a scheme (`h**p`); in front of one it is Markdown (`**http://`).
    while start < colon && bytes[start] == b'*' {
        start += 1;
    }
    if start > 0 && is_word_byte(bytes[start - 1]) {
        return None;
    }
    Some((start, canonical_scheme(&bytes[start..colon], view.refang)?))
}

/// Returns where a URL whose body starts at `from` stops, before trimming.
fn url_run_end(view: &View<'_>, from: usize) -> usize {
    let bytes = view.bytes;
    let is_end = |(position, byte): &(usize, &u8)| match byte {
        b'{' | b'}' | b'\\' => true,
        b',' | b';' => starts_url(view, position + 1),
        _ => false,
    };
    bytes.iter().enumerate().skip(from).find(is_end).map_or(bytes.len(), |(position, _)| position)
}

/// Whether an extracted scheme followed by `://` starts at `position`.
fn starts_url(view: &View<'_>, position: usize) -> bool {
    let rest = &view.bytes[position.min(view.bytes.len())..];
    let scheme_len = rest.iter().take(6).take_while(|byte| byte.is_ascii_alphabetic()).count();
    rest[scheme_len..].starts_with(b"://")
        && canonical_scheme(&rest[..scheme_len], view.refang).is_some()
}

/// Drops trailing sentence punctuation and closing brackets that have no opening partner in the URL.
fn trim_url_end(bytes: &[u8], start: usize, mut end: usize) -> usize {
    let count = |byte: u8, end: usize| bytes[start..end].iter().filter(|&&b| b == byte).count();
    let mut open_parens = None;
    let mut open_squares = None;
    while end > start {
        match bytes[end - 1] {
            b'.' | b',' | b';' | b':' | b'!' | b'?' | b'*' => {}
            b')' => {
                let (opens, closes) =
                    *open_parens.get_or_insert_with(|| (count(b'(', end), count(b')', end)));
                if closes <= opens {
                    break;
                }
                open_parens = Some((opens, closes - 1));
            }
            b']' => {
                let (opens, closes) =
                    *open_squares.get_or_insert_with(|| (count(b'[', end), count(b']', end)));
                if closes <= opens {
                    break;
                }
                open_squares = Some((opens, closes - 1));
            }
            _ => break,
        }
        end -= 1;
    }
    end
}

/// Finds `local@domain` addresses whose domain looks like a domain.
fn find_emails(view: &View<'_>, state: &mut State) {
    const MAX_LOCAL_LEN: usize = 64;
    let bytes = view.bytes;
    let is_local_byte = |byte: u8| is_word_byte(byte) || matches!(byte, b'.' | b'%' | b'+' | b'-');
    let mut from = 0;
    while let Some(found) = find_byte(b'@', &bytes[from..]) {
        let at = from + found;
        from = at + 1;
        let mut start = at;
        while start > 0 && is_local_byte(bytes[start - 1]) {
            start -= 1;
        }
        while start < at && bytes[start] == b'.' {
            start += 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && is_host_byte(bytes[end]) {
            end += 1;
        }
        while end > at + 1 && matches!(bytes[end - 1], b'.' | b'-' | b'_') {
            end -= 1;
        }
        let domain = &bytes[at + 1..end];
        let is_candidate = start < at
            && at - start <= MAX_LOCAL_LEN
            && !domain.windows(2).any(|pair| pair == b"..")
            && shape::is_domain_like(domain, false)
            && !state.is_claimed(start, end);
        if is_candidate {
            state.try_hit(view, ObservableKind::Email, start, end);
        }
    }
}

/// Finds IPv6 addresses and networks: runs of hex digits, `:` and `.` bounded by non-word bytes.
fn find_ipv6(view: &View<'_>, state: &mut State) {
    let bytes = view.bytes;
    let is_v6_byte = |byte: u8| byte.is_ascii_hexdigit() || byte == b':' || byte == b'.';
    // `ip:port`, `sshd[42]:` and `key:value` have one colon and no address.
    let Some(first_colon) = find_byte(b':', bytes) else { return };
    let Some(second_colon) = find_byte(b':', &bytes[first_colon + 1..]) else { return };
    // Times (`12:30:45`) have no `::` and fewer than six colons, and `shape::is_ipv6_like`
    // refuses every candidate with neither, so a view with neither holds no address.
    let after_first = &bytes[first_colon + 1..];
    let has_double_colon = second_colon == 0 || after_first.windows(2).any(|pair| pair == b"::");
    if !has_double_colon && after_first.iter().filter(|&&byte| byte == b':').count() < 5 {
        return;
    }
    let mut from = 0;
    while let Some(found) = find_byte(b':', &bytes[from..]) {
        let colon = from + found;
        let mut start = colon;
        while start > from && is_v6_byte(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = colon;
        while end < bytes.len() && is_v6_byte(bytes[end]) {
            end += 1;
        }
        from = end;
        // A lone `:` or `.` at either end is punctuation (`from 2001:db8::1:` or `addr:2001:...`).
        while start < end && bytes[start] == b'.' {
            start += 1;
        }
        if bytes[start..end].starts_with(b":") && !bytes[start..end].starts_with(b"::") {
            start += 1;
        }
        while end > start && bytes[end - 1] == b'.' {
            end -= 1;
        }
        if bytes[start..end].ends_with(b":") && !bytes[start..end].ends_with(b"::") {
            end -= 1;
        }
        let is_bounded = (start == 0 || !is_word_byte(bytes[start - 1]))
            && (end == bytes.len() || !is_word_byte(bytes[end]));
        if !is_bounded || !shape::is_ipv6_like(&bytes[start..end]) || state.is_claimed(start, end) {
            continue;
        }
        if let Some(prefix_end) = prefix_length_end(bytes, end, 3)
            && state.try_hit(view, ObservableKind::Cidr, start, prefix_end)
        {
            continue;
        }
        state.try_hit(view, ObservableKind::Ipv6, start, end);
    }
}

/// Returns the end of a `/prefix-length` of at most `max_digits` digits at `position`, if one is
/// there and is not followed by a word byte.
fn prefix_length_end(bytes: &[u8], position: usize, max_digits: usize) -> Option<usize> {
    if bytes.get(position) != Some(&b'/') {
        return None;
    }
    let digits = bytes[position + 1..].iter().take_while(|byte| byte.is_ascii_digit()).count();
    let end = position + 1 + digits;
    let is_bounded = bytes.get(end).is_none_or(|&byte| !is_word_byte(byte));
    ((1..=max_digits).contains(&digits) && is_bounded).then_some(end)
}

/// Finds dotted names: runs of letters, digits, `-`, `_` and `.` that hold a dot.
fn find_dotted(view: &View<'_>, state: &mut State) {
    let bytes = view.bytes;
    let mut from = 0;
    while let Some(found) = find_byte(b'.', &bytes[from..]) {
        let dot = from + found;
        let mut classes = 0;
        let mut start = dot;
        while start > from {
            let class = shape::byte_class(bytes[start - 1]);
            if !shape::is_host_class(class) {
                break;
            }
            classes |= class;
            start -= 1;
        }
        let mut end = dot;
        while end < bytes.len() {
            let class = shape::byte_class(bytes[end]);
            if !shape::is_host_class(class) {
                break;
            }
            classes |= class;
            end += 1;
        }
        from = end;
        // A dotted run right before `@` is the local part of an address that did not parse.
        if bytes.get(end) == Some(&b'@') {
            continue;
        }
        if classes & shape::ALPHA != 0 {
            domain_in_run(view, state, start, end);
        } else if classes & shape::DASH == 0 {
            ipv4_in_run(view, state, start, end);
        } else {
            // `10.0.0.1-10.0.0.255`: digits split at `-` and `_` are separate numbers.
            let mut piece_start = start;
            for (position, byte) in bytes[..end].iter().enumerate().skip(start) {
                if matches!(byte, b'-' | b'_') {
                    ipv4_in_run(view, state, piece_start, position);
                    piece_start = position + 1;
                }
            }
            ipv4_in_run(view, state, piece_start, end);
        }
    }
}

/// Trims leading and trailing `.`, `-` and `_` from a span; returns `None` if what is left has no
/// dot or has an empty label.
fn trim_dotted(bytes: &[u8], mut start: usize, mut end: usize) -> Option<(usize, usize)> {
    while start < end && matches!(bytes[start], b'.' | b'-' | b'_') {
        start += 1;
    }
    while end > start && matches!(bytes[end - 1], b'.' | b'-' | b'_') {
        end -= 1;
    }
    let mut has_dot = false;
    let mut previous = 0;
    for &byte in &bytes[start..end] {
        if byte == b'.' {
            if previous == b'.' {
                return None;
            }
            has_dot = true;
        }
        previous = byte;
    }
    has_dot.then_some((start, end))
}

/// Reports the IPv4 address or network in a run of digits and dots, if it is a dotted quad.
fn ipv4_in_run(view: &View<'_>, state: &mut State, start: usize, end: usize) {
    let bytes = view.bytes;
    // Trailing sentence dots go; `is_dotted_quad` refuses any other stray dot or dash.
    let is_trimmed = |byte: u8| matches!(byte, b'.' | b'-' | b'_');
    let start = start + bytes[start..end].iter().take_while(|&&byte| is_trimmed(byte)).count();
    let end = end - bytes[start..end].iter().rev().take_while(|&&byte| is_trimmed(byte)).count();
    if !shape::is_dotted_quad(&bytes[start..end]) || state.is_claimed(start, end) {
        return;
    }
    // `Chrome/120.0.0.0`, `Version/1.2.3.4`: a version after a product token.
    let is_version =
        start >= 2 && bytes[start - 1] == b'/' && bytes[start - 2].is_ascii_alphanumeric();
    if is_version {
        return;
    }
    if let Some(prefix_end) = prefix_length_end(bytes, end, 2)
        && state.try_hit(view, ObservableKind::Cidr, start, prefix_end)
    {
        return;
    }
    state.try_hit(view, ObservableKind::Ipv4, start, end);
}

/// Reports the domain in a run of host bytes that holds a letter.
fn domain_in_run(view: &View<'_>, state: &mut State, start: usize, end: usize) {
    let Some((start, end)) = trim_dotted(view.bytes, start, end) else { return };
    let name = &view.bytes[start..end];
    if shape::is_domain_like(name, view.is_literal(start, end)) && !state.is_claimed(start, end) {
        state.try_hit(view, ObservableKind::Domain, start, end);
    }
}

/// Finds hashes and ASNs: maximal runs of letters, digits and `_` that are exactly a hash's
/// length of hex digits or read `AS64500`.
fn find_words(view: &View<'_>, state: &mut State) {
    let bytes = view.bytes;
    let might_hold_hash = bytes.len() >= shape::MIN_HASH_LEN && shape::has_long_hex_run(bytes);
    if !might_hold_hash && !shape::has_asn_start(bytes) {
        return;
    }
    let mut position = 0;
    while position < bytes.len() {
        // Claimed bytes (a URL's path, say) are skipped one by one, cheaply.
        if !is_word_byte(bytes[position]) || state.claimed.get(position) == Some(&true) {
            position += 1;
            continue;
        }
        let start = position;
        while position < bytes.len() && is_word_byte(bytes[position]) {
            position += 1;
        }
        let word = &bytes[start..position];
        let kind = match shape::hash_kind(word) {
            Some(kind) => kind,
            None if shape::is_asn(word) => ObservableKind::Asn,
            None => continue,
        };
        if !state.is_claimed(start, position) {
            state.try_hit(view, kind, start, position);
        }
    }
}
