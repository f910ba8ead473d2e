//! The fast path from an object's JSON text to its typed form: serde reads the text straight into
//! the Rust type, without the intermediate JSON map that [`StixObject::from_properties`] reads.
//!
//! It is taken only where it is sure to give exactly what the general path gives on the same
//! text (parse into a `serde_json::Map`, then `from_properties`), and gives up (`None`) anywhere
//! else; callers then take the general path, which also says what is wrong. What can differ, and
//! how the fast path keeps it the same or gives up:
//!
//! - The general path sets aside top-level `null`, `[]` and `{}` values into `extra` (see
//!   `common::typed_from_properties`), where a typed reading would take them as absent: the fast
//!   path gives up when the text holds `null`, or `[` or `{` closed right away, anywhere.
//! - The general path reads a duplicated member once, with its last value: a duplicated typed
//!   property fails the typed reading (and the fast path gives up), a duplicated other property
//!   ends up in `extra` with its last value both ways, and a second `type` would land in `extra`,
//!   so the fast path gives up when `extra` has a `type`.
//! - The general path takes `type` out of the map with `Map::remove`, which (with the
//!   `preserve_order` feature) moves the last member into its place, so the order of `extra` may
//!   differ from the text's: when `extra` is not empty, the fast path replays the general path's
//!   map operations on the member names and puts `extra` in that order.
//! - Types without a Rust type become [`GenericObject`](super::GenericObject)s, which keep the
//!   JSON map itself: the fast path gives up on them.
//!
//! Values are read by the same serde code both ways (serde_json replays the same visits from a
//! `Value` as from the text), so the typed fields come out the same.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, IntoDeserializer, MapAccess};
use serde::{Deserialize, forward_to_deserialize_any};
use serde_json::{Map, Value};

use super::StixObject;

/// Reads an object from its JSON text when the general path is sure to give the same object; see
/// the module doc.
pub(crate) fn from_slice(bytes: &[u8]) -> Option<StixObject> {
    if has_null_or_empty_value(bytes) {
        return None;
    }
    // Checked once here, so serde_json need not check each string (the general path rejects
    // what is not UTF-8).
    let text = std::str::from_utf8(bytes).ok()?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let mut object = deserializer.deserialize_map(ObjectVisitor).ok()??;
    deserializer.end().ok()?;
    object.check().ok()?;
    // Cannot fail: the fast path only builds typed objects, which all have `extra`.
    let extra = object.extra_mut()?;
    if !extra.is_empty() {
        if extra.contains_key("type") {
            return None;
        }
        *extra = in_general_order(bytes, std::mem::take(extra))?;
    }
    Some(object)
}

/// Tells whether `bytes` hold `null`, `[]` or `{}` (whitespace inside allowed) anywhere, strings
/// included: a cheap, conservative test for a top-level value the general path sets aside.
fn has_null_or_empty_value(bytes: &[u8]) -> bool {
    if memchr::memmem::find(bytes, b"null").is_some() {
        return true;
    }
    memchr::memchr2_iter(b'[', b'{', bytes).any(|at| {
        let next = bytes[at + 1..].iter().find(|byte| !byte.is_ascii_whitespace());
        matches!(next, Some(b']' | b'}'))
    })
}

/// Returns `extra` in the order the general path gives it: the order of the member names in a
/// `Map` built from the text (first occurrence wins) once `type` is removed from it.
fn in_general_order(bytes: &[u8], mut extra: Map<String, Value>) -> Option<Map<String, Value>> {
    let MemberNames(names) = serde_json::from_slice(bytes).ok()?;
    let mut order: Map<String, Value> = names.into_iter().map(|name| (name, Value::Null)).collect();
    order.remove("type");
    let mut ordered = Map::new();
    for name in order.keys() {
        if let Some((name, value)) = extra.remove_entry(name) {
            ordered.insert(name, value);
        }
    }
    extra.is_empty().then_some(ordered)
}

/// The member names of a JSON object, in order, duplicates included.
struct MemberNames(Vec<String>);

impl<'de> Deserialize<'de> for MemberNames {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<MemberNames, D::Error> {
        struct NamesVisitor;

        impl<'de> de::Visitor<'de> for NamesVisitor {
            type Value = MemberNames;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a json object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MemberNames, A::Error> {
                let mut names = Vec::new();
                while let Some((name, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                    names.push(name);
                }
                Ok(MemberNames(names))
            }
        }

        deserializer.deserialize_map(NamesVisitor)
    }
}

/// Reads a whole object: the members up to `type` are kept aside, then the type's Rust type
/// reads them and the rest of the members.
struct ObjectVisitor;

impl<'de> de::Visitor<'de> for ObjectVisitor {
    type Value = Option<StixObject>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a stix object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<StixObject>, A::Error> {
        let mut before = Vec::new();
        let object_type = loop {
            let Some(Text(name)) = map.next_key::<Text<'de>>()? else { return Ok(None) };
            if name == "type" {
                break map.next_value::<Text<'de>>()?.0;
            }
            before.push((name.into_owned(), map.next_value::<Value>()?));
        };
        let rest = Rest { before: before.into_iter(), pending: None, map };
        StixObject::from_typed_map(&object_type, rest)
    }
}

/// A JSON string, borrowed from the text where it has no escapes.
struct Text<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text<'de>, D::Error> {
        struct TextVisitor;

        impl<'de> de::Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}

/// The members of an object after its `type`: those read before `type` first, then the rest of
/// the text. It is both the deserializer a typed object reads from and the map it visits.
pub(crate) struct Rest<A> {
    before: std::vec::IntoIter<(String, Value)>,
    /// The value of the member of `before` whose name was just handed out.
    pending: Option<Value>,
    map: A,
}

impl<'de, A: MapAccess<'de>> Deserializer<'de> for Rest<A> {
    type Error = A::Error;

    fn deserialize_any<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Rest<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        match self.before.next() {
            Some((name, value)) => {
                self.pending = Some(value);
                seed.deserialize(name.into_deserializer()).map(Some)
            }
            None => self.map.next_key_seed(seed),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.pending.take() {
            Some(value) => seed.deserialize(value).map_err(de::Error::custom),
            None => self.map.next_value_seed(seed),
        }
    }
}
