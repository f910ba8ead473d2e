//! Inhibitions: an organisation mutes the alerts of a network, a domain suffix, a category or
//! one known false positive, until an expiry. Muted matches raise no alert; each inhibition counts
//! how many it muted, so nothing disappears without a trace.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use watchfire_model::observable::{Observable, ObservableKind};
use watchfire_model::policy::OrgId;
use watchfire_model::record::Category;
use watchfire_store::{Put, Store};

use crate::claim::{bits, mask};
use crate::{ClaimKind, Error, Target};

/// The directory kind inhibitions are kept under.
pub const INHIBITION_KIND: &str = "alert_inhibition";

/// The longest an inhibition may last: a year; it must be renewed to last longer.
pub const MAX_INHIBITION_MICROS: i64 = 366 * 86_400_000_000;

/// What an inhibition mutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InhibitionKind {
    /// Every alert about an address in a network (IPv4 or IPv6 CIDR).
    Network,
    /// Every alert about a domain suffix (its names, URLs and e-mail addresses).
    Domain,
    /// Every alert of a category.
    Category,
    /// Alerts about one observable (a known false positive).
    Observable,
}

impl InhibitionKind {
    /// Every kind.
    pub const ALL: [InhibitionKind; 4] = [
        InhibitionKind::Network,
        InhibitionKind::Domain,
        InhibitionKind::Category,
        InhibitionKind::Observable,
    ];

    /// Returns the kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            InhibitionKind::Network => "network",
            InhibitionKind::Domain => "domain",
            InhibitionKind::Category => "category",
            InhibitionKind::Observable => "observable",
        }
    }
}

impl fmt::Display for InhibitionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InhibitionKind {
    type Err = String;

    fn from_str(text: &str) -> Result<InhibitionKind, String> {
        InhibitionKind::ALL.into_iter().find(|kind| kind.as_str() == text).ok_or_else(|| {
            format!(
                "unknown inhibition kind {text:?}: expected network, domain, category or observable"
            )
        })
    }
}

/// One inhibition of one organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inhibition {
    /// Its id (a UUID).
    pub id: String,
    /// The organisation whose alerts it mutes.
    pub org: OrgId,
    /// What it mutes.
    pub kind: InhibitionKind,
    /// The canonical value: a network, a domain suffix, a category name, or `kind:value` of an
    /// observable.
    pub value: String,
    /// Why (shown with it).
    pub reason: String,
    /// Who made it.
    pub created_by: String,
    /// When, microseconds since the epoch.
    pub created_micros: i64,
    /// When it stops muting, microseconds since the epoch.
    pub expires_micros: i64,
    /// How many matches it has muted (counted by the engine).
    #[serde(default)]
    pub muted: u64,
}

/// The rule an inhibition's value parses into.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Rule {
    Network(u128, u8, u8),
    Domain(String),
    Category(Category),
    Observable(Observable),
}

impl Inhibition {
    fn rule(&self) -> Option<Rule> {
        parse_rule(self.kind, &self.value).ok().map(|(rule, _)| rule)
    }
}

// Parses a value of `kind`; returns the rule and the canonical value.
fn parse_rule(kind: InhibitionKind, text: &str) -> Result<(Rule, String), Error> {
    let invalid =
        |reason: String| Error::InvalidInhibition { kind, value: text.to_owned(), reason };
    match kind {
        InhibitionKind::Network => match Target::parse(ClaimKind::Cidr, text) {
            Ok(Target::Network(address, prefix_len)) => {
                let (value, width) = bits(address);
                Ok((Rule::Network(value, width, prefix_len), format!("{address}/{prefix_len}")))
            }
            Ok(_) => Err(invalid("not a network".to_owned())),
            Err(error) => Err(invalid(error.to_string())),
        },
        InhibitionKind::Domain => match Target::parse(ClaimKind::Domain, text) {
            Ok(Target::Domain(suffix)) => Ok((Rule::Domain(suffix.clone()), suffix)),
            Ok(_) => Err(invalid("not a domain".to_owned())),
            Err(error) => Err(invalid(error.to_string())),
        },
        InhibitionKind::Category => {
            let category: Category = text.trim().parse().map_err(
                |error: watchfire_model::record::UnknownCategory| invalid(error.to_string()),
            )?;
            Ok((Rule::Category(category), category.as_str().to_owned()))
        }
        InhibitionKind::Observable => {
            let observable = match text.split_once(':') {
                Some((kind, value)) if kind.parse::<ObservableKind>().is_ok() => {
                    let kind = kind
                        .parse::<ObservableKind>()
                        .map_err(|_| invalid("unknown kind".to_owned()))?;
                    Observable::parse_as(kind, value)
                }
                _ => Observable::parse(text),
            }
            .map_err(|error| invalid(error.to_string()))?;
            let canonical = format!("{}:{}", observable.kind().as_str(), observable.value());
            Ok((Rule::Observable(observable), canonical))
        }
    }
}

/// What an organisation asks to mute.
#[derive(Clone, Debug)]
pub struct NewInhibition {
    /// What it mutes.
    pub kind: InhibitionKind,
    /// The value (parsed and made canonical).
    pub value: String,
    /// Why.
    pub reason: String,
    /// When it stops muting, microseconds since the epoch: after now, at most a year ahead.
    pub expires_micros: i64,
}

/// Records an inhibition of `org`.
pub fn inhibit(
    store: &dyn Store,
    org: OrgId,
    new: &NewInhibition,
    by: &str,
    now_micros: i64,
) -> Result<Inhibition, Error> {
    let (_, value) = parse_rule(new.kind, &new.value)?;
    let bad_expiry = |reason: &str| Error::InvalidInhibition {
        kind: new.kind,
        value: new.value.clone(),
        reason: reason.to_owned(),
    };
    if new.expires_micros <= now_micros {
        return Err(bad_expiry("it expires in the past"));
    }
    if new.expires_micros > now_micros.saturating_add(MAX_INHIBITION_MICROS) {
        return Err(bad_expiry("it expires more than a year ahead: renew it instead"));
    }
    let inhibition = Inhibition {
        id: Uuid::new_v4().to_string(),
        org,
        kind: new.kind,
        value,
        reason: new.reason.chars().take(1000).collect(),
        created_by: by.to_owned(),
        created_micros: now_micros,
        expires_micros: new.expires_micros,
        muted: 0,
    };
    let document =
        serde_json::to_string(&inhibition).map_err(|error| Error::Alert(error.to_string()))?;
    store.directory_put(INHIBITION_KIND, &inhibition.id, &document, Put::Insert)?;
    Ok(inhibition)
}

/// Lists the inhibitions of `org` (every organisation's with `None`), expired ones included.
pub fn inhibitions(store: &dyn Store, org: Option<OrgId>) -> Result<Vec<Inhibition>, Error> {
    let mut found = Vec::new();
    for (key, document) in store.directory_list(INHIBITION_KIND)? {
        let inhibition: Inhibition = serde_json::from_str(&document).map_err(|error| {
            Error::Damaged { kind: INHIBITION_KIND, key: key.clone(), reason: error.to_string() }
        })?;
        if org.is_none_or(|org| org == inhibition.org) {
            found.push(inhibition);
        }
    }
    Ok(found)
}

/// Lifts an inhibition of `org`; returns whether it existed (another organisation's is not found).
pub fn lift(store: &dyn Store, org: OrgId, id: &str) -> Result<bool, Error> {
    let mine = inhibitions(store, Some(org))?.into_iter().any(|inhibition| inhibition.id == id);
    Ok(mine && store.directory_delete(INHIBITION_KIND, id)?)
}

/// The live inhibitions, by organisation, as the engine applies them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Inhibitions {
    by_org: HashMap<OrgId, Vec<(Inhibition, Rule)>>,
}

impl Inhibitions {
    /// Loads every inhibition; one whose value no longer parses is skipped.
    pub(crate) fn load(store: &dyn Store) -> Result<Inhibitions, Error> {
        let mut by_org: HashMap<OrgId, Vec<(Inhibition, Rule)>> = HashMap::new();
        for inhibition in inhibitions(store, None)? {
            if let Some(rule) = inhibition.rule() {
                by_org.entry(inhibition.org).or_default().push((inhibition, rule));
            }
        }
        Ok(Inhibitions { by_org })
    }

    /// Tells whether an inhibition of `org` mutes a match of `observable` in `category` at
    /// `now_micros`, and counts it in the first inhibition that does.
    pub(crate) fn mutes(
        &mut self,
        org: Option<OrgId>,
        observable: &Observable,
        category: Category,
        now_micros: i64,
    ) -> bool {
        let Some(rules) = org.and_then(|org| self.by_org.get_mut(&org)) else {
            return false;
        };
        let hit = rules.iter_mut().find(|(inhibition, rule)| {
            inhibition.expires_micros > now_micros && rule_mutes(rule, observable, category)
        });
        match hit {
            Some((inhibition, _)) => {
                inhibition.muted += 1;
                true
            }
            None => false,
        }
    }

    /// Writes back the counts of the inhibitions that muted something since they were loaded.
    pub(crate) fn save_counts(&self, store: &dyn Store, loaded: &Inhibitions) -> Result<(), Error> {
        for (org, rules) in &self.by_org {
            for (inhibition, _) in rules {
                let before = loaded
                    .by_org
                    .get(org)
                    .and_then(|rules| rules.iter().find(|(old, _)| old.id == inhibition.id))
                    .map_or(0, |(old, _)| old.muted);
                if inhibition.muted != before {
                    let document = serde_json::to_string(inhibition)
                        .map_err(|error| Error::Alert(error.to_string()))?;
                    store.directory_put(
                        INHIBITION_KIND,
                        &inhibition.id,
                        &document,
                        Put::Replace,
                    )?;
                }
            }
        }
        Ok(())
    }
}

fn rule_mutes(rule: &Rule, observable: &Observable, category: Category) -> bool {
    match rule {
        Rule::Category(muted) => *muted == category,
        Rule::Observable(muted) => muted == observable,
        Rule::Network(network, width, prefix_len) => {
            let inside = |address: IpAddr, len: u8| {
                let (value, address_width) = bits(address);
                address_width == *width
                    && len >= *prefix_len
                    && mask(value, *width, *prefix_len) == *network
            };
            match observable.kind() {
                ObservableKind::Ipv4 | ObservableKind::Ipv6 => {
                    observable.ip().is_some_and(|address| inside(address, *width))
                }
                ObservableKind::Cidr => {
                    observable.network().is_some_and(|(address, len)| inside(address, len))
                }
                ObservableKind::Url => url_host(observable.value())
                    .and_then(|host| host.parse::<IpAddr>().ok())
                    .is_some_and(|address| inside(address, *width)),
                _ => false,
            }
        }
        Rule::Domain(suffix) => {
            let name = match observable.kind() {
                ObservableKind::Domain => Some(observable.value()),
                ObservableKind::Url => url_host(observable.value()),
                ObservableKind::Email => {
                    observable.value().rsplit_once('@').map(|(_, domain)| domain)
                }
                _ => None,
            };
            name.is_some_and(|name| {
                name == suffix
                    || name.strip_suffix(suffix.as_str()).is_some_and(|head| head.ends_with('.'))
            })
        }
    }
}

// The host of a canonical URL, without brackets for IPv6.
pub(crate) fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if let Some(inner) = authority.strip_prefix('[') {
        return inner.split_once(']').map(|(host, _)| host);
    }
    Some(authority.split(':').next().unwrap_or(authority))
}
