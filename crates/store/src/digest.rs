//! The content digest of an object version: what tells a changed object from the same one
//! re-sent. It hashes the stored JSON with the values of `created` and `valid_from` left out,
//! and `modified` too when the time was made up by the importer (a feed line without dates), so a
//! re-import of the same file finds every object unchanged.

use memchr::memmem;
use xxhash_rust::xxh3::Xxh3;

/// Keys whose string values never count as content.
const ALWAYS_SKIPPED: [&[u8]; 2] = [b"\"created\":\"", b"\"valid_from\":\""];
const MODIFIED: &[u8] = b"\"modified\":\"";

/// Returns the digest of `body` (compact JSON as serde_json writes it), skipping the timestamps
/// described in the module doc. serde_json escapes every quote inside a string, so a key pattern
/// such as `"created":"` can only match a real key, never text inside a value.
pub(crate) fn digest(body: &str, skip_modified: bool) -> i64 {
    let bytes = body.as_bytes();
    let mut hasher = Xxh3::new();
    let mut start = 0;
    while start < bytes.len() {
        let next_skip = skipped_keys(skip_modified)
            .filter_map(|key| memmem::find(&bytes[start..], key).map(|at| (start + at, key.len())))
            .min();
        let Some((at, key_len)) = next_skip else {
            hasher.update(&bytes[start..]);
            break;
        };
        let value_start = at + key_len;
        hasher.update(&bytes[start..value_start]);
        // Timestamps hold no quote: the value ends at the next one.
        let value_end = memchr::memchr(b'"', &bytes[value_start..])
            .map_or(bytes.len(), |offset| value_start + offset);
        start = value_end;
    }
    // Stored as a signed 64-bit integer, the widest both databases hold natively.
    i64::from_ne_bytes(hasher.digest().to_ne_bytes())
}

fn skipped_keys(skip_modified: bool) -> impl Iterator<Item = &'static [u8]> {
    ALWAYS_SKIPPED.into_iter().chain(skip_modified.then_some(MODIFIED))
}

#[cfg(test)]
mod tests {
    use super::digest;

    const A: &str = r#"{"type":"indicator","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","valid_from":"2024-01-01T00:00:00.000Z","name":"x"}"#;
    const B: &str = r#"{"type":"indicator","created":"2025-05-05T00:00:00.000Z","modified":"2025-05-05T00:00:00.000Z","valid_from":"2025-05-05T00:00:00.000Z","name":"x"}"#;

    #[test]
    fn made_up_times_do_not_count_as_content() {
        assert_eq!(digest(A, true), digest(B, true));
    }

    #[test]
    fn a_source_given_modified_counts() {
        assert_ne!(digest(A, false), digest(B, false));
    }

    #[test]
    fn other_content_counts() {
        let renamed = A.replace("\"name\":\"x\"", "\"name\":\"y\"");
        assert_ne!(digest(A, true), digest(&renamed, true));
    }

    #[test]
    fn a_key_inside_a_value_is_content() {
        let one = r#"{"description":"see \"created\":\"a\"","created":"1"}"#;
        let two = r#"{"description":"see \"created\":\"b\"","created":"1"}"#;
        assert_ne!(digest(one, true), digest(two, true));
    }
}
