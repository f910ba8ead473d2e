//! The built-in feed catalogue: real public feeds with their canonical URL, the format that reads
//! them, the provider's terms, and the defaults (TLP, category, confidence, refresh interval) their
//! records get when the feed itself says nothing.
//!
//! The data is `catalogue/feeds.toml`, compiled into the binary and parsed once on first use.
//! `tests/catalogue.rs` checks it (unique names, canonical URLs, known formats) and that
//! `docs/feeds.md` lists exactly these entries.

use std::num::NonZeroU64;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use watchfire_model::record::{Category, Confidence, FeedDefinition};
use watchfire_model::tlp::Tlp;

/// The catalogue's source, compiled in.
const CATALOGUE_TOML: &str = include_str!("../catalogue/feeds.toml");

/// One feed of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueEntry {
    /// The unique kebab-case id, after the provider and the list (`abusech-urlhaus-recent`).
    pub name: String,
    /// Who publishes the feed.
    pub provider: String,
    /// One line on what the feed lists.
    pub description: String,
    /// The canonical download URL.
    pub url: String,
    /// The name of the format that reads it (`abusech-urlhaus`), as `format_by_name` knows it.
    pub format: String,
    /// The licence or terms of use, as the provider states them.
    pub terms: String,
    /// The TLP its records get when the feed gives none.
    pub tlp: Tlp,
    /// The category its records get when the feed gives none; `None` when the reader takes it
    /// from each row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// The confidence its records get when the feed gives none: our default, not the provider's.
    pub confidence: Confidence,
    /// Seconds between fetches: the provider's stated update interval or request limit where it
    /// gives one, IntelMQ's default otherwise.
    pub refresh: NonZeroU64,
    /// Whether fetching needs an account, an API key or another credential.
    pub api_key: bool,
}

impl CatalogueEntry {
    /// Returns the entry as the feed-definition record the store keeps.
    pub fn feed_definition(&self) -> FeedDefinition {
        FeedDefinition {
            name: self.name.clone(),
            provider: self.provider.clone(),
            url: self.url.clone(),
            format: self.format.clone(),
            enabled: false,
        }
    }
}

/// The file's shape: a list of `[[feed]]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    feed: Vec<CatalogueEntry>,
}

/// Returns every feed of the built-in catalogue, in the order of the data file.
pub fn catalogue() -> &'static [CatalogueEntry] {
    static CATALOGUE: OnceLock<Vec<CatalogueEntry>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        // Cannot fail at run time: the text is compiled in, and `tests/catalogue.rs` parses it.
        let file: CatalogueFile =
            toml::from_str(CATALOGUE_TOML).expect("the built-in feed catalogue parses");
        file.feed
    })
}

/// Returns the catalogue's feed called `name`.
pub fn by_name(name: &str) -> Option<&'static CatalogueEntry> {
    catalogue().iter().find(|entry| entry.name == name)
}
