//! The Traffic Light Protocol: the five TLP 2.0 levels, their TLP 1.0 and MISP spellings, and
//! the fixed STIX 2.1 marking-definition ids that carry them.
//!
//! See <https://www.first.org/tlp/> (TLP 2.0) and the STIX 2.1 TLP 2.0 marking extension
//! (`extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A TLP 2.0 level, ordered from the widest audience to the narrowest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tlp {
    /// TLP:CLEAR (TLP 1.0 WHITE): no limit on disclosure.
    Clear,
    /// TLP:GREEN: the community.
    Green,
    /// TLP:AMBER: the named organisations and their clients.
    Amber,
    /// TLP:AMBER+STRICT: the named organisations only.
    AmberStrict,
    /// TLP:RED: the named individuals only.
    Red,
}

/// The STIX 2.1 marking-definition ids of TLP 2.0, from the TLP 2.0 marking extension.
const TLP2_MARKING_IDS: [(Tlp, &str); 5] = [
    (Tlp::Clear, "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"),
    (Tlp::Green, "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"),
    (Tlp::Amber, "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"),
    (Tlp::AmberStrict, "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"),
    (Tlp::Red, "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"),
];

/// The STIX 2.1 marking-definition ids of TLP 1.0 (STIX 2.1 section 7.2.1.4); WHITE maps to CLEAR.
const TLP1_MARKING_IDS: [(Tlp, &str); 4] = [
    (Tlp::Clear, "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
    (Tlp::Green, "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"),
    (Tlp::Amber, "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"),
    (Tlp::Red, "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"),
];

impl Tlp {
    /// Every level, from the widest audience to the narrowest.
    pub const ALL: [Tlp; 5] = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red];

    /// Returns the TLP 2.0 label, `TLP:AMBER+STRICT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }

    /// Returns the bare lower-case level name, `amber+strict`, as the STIX TLP 2.0 extension writes it.
    pub fn level_name(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }

    /// Returns the MISP taxonomy tag, `tlp:amber+strict`.
    pub fn misp_tag(self) -> &'static str {
        match self {
            Tlp::Clear => "tlp:clear",
            Tlp::Green => "tlp:green",
            Tlp::Amber => "tlp:amber",
            Tlp::AmberStrict => "tlp:amber+strict",
            Tlp::Red => "tlp:red",
        }
    }

    /// Returns the id of the TLP 2.0 STIX marking definition for this level.
    pub fn marking_id(self) -> &'static str {
        TLP2_MARKING_IDS.iter().find(|(tlp, _)| *tlp == self).map_or("", |(_, id)| id)
    }

    /// Returns the level of a STIX marking-definition id, TLP 2.0 or TLP 1.0, if it is one.
    pub fn from_marking_id(id: &str) -> Option<Tlp> {
        TLP2_MARKING_IDS
            .iter()
            .chain(&TLP1_MARKING_IDS)
            .find(|(_, known)| *known == id)
            .map(|(tlp, _)| *tlp)
    }

    /// Returns the most restrictive level among the given STIX marking refs, if any is a TLP marking.
    ///
    /// An object carrying two TLP markings (a mistake seen in real feeds) gets the stricter one.
    pub fn from_marking_refs<'a>(refs: impl IntoIterator<Item = &'a str>) -> Option<Tlp> {
        refs.into_iter().filter_map(Tlp::from_marking_id).max()
    }

    /// Parses a MISP tag (`tlp:white`, `tlp:amber+strict`, `TLP:AMBER`); other tags give `None`.
    pub fn from_misp_tag(tag: &str) -> Option<Tlp> {
        let level = tag.trim().strip_prefix("tlp:").or_else(|| tag.trim().strip_prefix("TLP:"))?;
        Tlp::from_level_name(level)
    }

    /// Maps a bare level name of TLP 2.0 or 1.0 in any case (`amber+strict`, `WHITE`).
    pub fn from_level_name(level: &str) -> Option<Tlp> {
        const NAMES: [(&str, Tlp); 7] = [
            ("clear", Tlp::Clear),
            ("white", Tlp::Clear),
            ("green", Tlp::Green),
            ("amber", Tlp::Amber),
            ("amber+strict", Tlp::AmberStrict),
            ("amber-strict", Tlp::AmberStrict),
            ("red", Tlp::Red),
        ];
        NAMES.iter().find(|(name, _)| name.eq_ignore_ascii_case(level)).map(|(_, tlp)| *tlp)
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a text that names no TLP level.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown tlp level {0:?}: expected clear, white, green, amber, amber+strict or red")]
pub struct UnknownTlp(pub String);

impl FromStr for Tlp {
    type Err = UnknownTlp;

    /// Parses `TLP:AMBER+STRICT`, `tlp:white`, `amber`, `WHITE` and the other spellings of TLP 1.0,
    /// TLP 2.0 and MISP tags.
    fn from_str(text: &str) -> Result<Tlp, UnknownTlp> {
        let trimmed = text.trim();
        let level = match trimmed.get(..4) {
            Some(prefix) if prefix.eq_ignore_ascii_case("tlp:") => &trimmed[4..],
            _ => trimmed,
        };
        Tlp::from_level_name(level).ok_or_else(|| UnknownTlp(text.to_owned()))
    }
}

impl Serialize for Tlp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Tlp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Tlp, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling() {
        let cases = [
            ("TLP:CLEAR", Tlp::Clear),
            ("tlp:clear", Tlp::Clear),
            ("tlp:white", Tlp::Clear),
            ("WHITE", Tlp::Clear),
            ("TLP:GREEN", Tlp::Green),
            ("green", Tlp::Green),
            ("TLP:AMBER", Tlp::Amber),
            ("tlp:amber+strict", Tlp::AmberStrict),
            ("TLP:AMBER+STRICT", Tlp::AmberStrict),
            ("amber-strict", Tlp::AmberStrict),
            (" tlp:red ", Tlp::Red),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<Tlp>(), Ok(expected), "{text}");
        }
        assert!("tlp:ex:chr".parse::<Tlp>().is_err());
        assert!("purple".parse::<Tlp>().is_err());
        assert!("".parse::<Tlp>().is_err());
    }

    #[test]
    fn misp_tags_round_trip_and_ignore_other_tags() {
        for tlp in Tlp::ALL {
            assert_eq!(Tlp::from_misp_tag(tlp.misp_tag()), Some(tlp));
            assert_eq!(Tlp::from_level_name(tlp.level_name()), Some(tlp));
        }
        assert_eq!(Tlp::from_misp_tag("tlp:white"), Some(Tlp::Clear));
        assert_eq!(Tlp::from_misp_tag("misp-galaxy:threat-actor=\"APT 28\""), None);
        assert_eq!(Tlp::from_misp_tag("amber"), None, "a MISP tag needs its namespace");
    }

    #[test]
    fn marking_ids_map_both_versions() {
        for tlp in Tlp::ALL {
            assert_eq!(Tlp::from_marking_id(tlp.marking_id()), Some(tlp));
        }
        assert_eq!(
            Tlp::from_marking_id("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
            Some(Tlp::Clear),
            "TLP 1.0 WHITE is TLP 2.0 CLEAR"
        );
        assert_eq!(
            Tlp::from_marking_id("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"),
            Some(Tlp::Amber)
        );
        assert_eq!(
            Tlp::from_marking_id("marking-definition--00000000-0000-4000-8000-000000000000"),
            None
        );
    }

    #[test]
    fn two_tlp_markings_give_the_stricter() {
        let refs =
            [Tlp::Green.marking_id(), "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"];
        assert_eq!(Tlp::from_marking_refs(refs), Some(Tlp::Red));
        assert_eq!(Tlp::from_marking_refs(["marking-definition--x"]), None);
    }

    #[test]
    fn serde_uses_the_tlp2_label() {
        assert_eq!(serde_json::to_string(&Tlp::AmberStrict).unwrap(), r#""TLP:AMBER+STRICT""#);
        assert_eq!(serde_json::from_str::<Tlp>(r#""tlp:white""#).unwrap(), Tlp::Clear);
        assert!(serde_json::from_str::<Tlp>(r#""tlp:purple""#).is_err());
    }
}
