//! The conformance suite: every case runs against both backends (SQLite and PostgreSQL) through
//! the `Store` trait alone, so the two behave the same.

mod common;

use std::time::{Duration, Instant};

use common::*;
use watchfire_model::Observable;
use watchfire_model::policy::{Audience, Principal};
use watchfire_model::record::Category;
use watchfire_model::stix::{StixId, StixObject};
use watchfire_model::tlp::Tlp;
use watchfire_store::{EntryKind, Fact, Put, Query, Reader, Store, Versions};

fn ids(entries: &[watchfire_store::Entry]) -> Vec<String> {
    entries.iter().map(|entry| entry.id.clone()).collect()
}

fn all(store: &dyn Store) -> Vec<watchfire_store::Entry> {
    let query = Query { limit: 100_000, ..Query::default() };
    store.query(Reader::Operator, &query).expect("query").entries
}

fn appends_get_sequence_numbers_in_order(store: &dyn Store) {
    assert_eq!(store.last_seq().unwrap(), 0);
    let batch = vec![
        fact("feed", Tlp::Clear, indicator("feed", "192.0.2.1", 1)),
        fact("feed", Tlp::Clear, indicator("feed", "evil.example", 1)),
        fact("feed", Tlp::Clear, indicator("feed", "http://evil.example/x", 1)),
    ];
    let outcome = store.append(&batch).unwrap();
    assert_eq!((outcome.new_versions, outcome.unchanged, outcome.last_seq), (3, 0, 3));
    let outcome =
        store.append(&[fact("feed", Tlp::Clear, indicator("feed", "192.0.2.2", 1))]).unwrap();
    assert_eq!(outcome.last_seq, 4);
    assert_eq!(store.last_seq().unwrap(), 4);
    let entries = all(store);
    assert_eq!(entries.iter().map(|entry| entry.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert!(entries.windows(2).all(|pair| pair[0].added_micros <= pair[1].added_micros));
    let object = entries[0].object().unwrap();
    assert_eq!(object.id().as_str(), entries[0].id);
    assert_eq!(entries[0].kind, EntryKind::Object);
    assert_eq!(entries[0].object_type, "indicator");
    assert_eq!(entries[0].version_micros, day_micros(1));
}

fn the_same_version_twice_is_one_version(store: &dyn Store) {
    let one = fact("feed", Tlp::Clear, indicator("feed", "192.0.2.1", 1));
    let outcome = store.append(&[one.clone(), one.clone()]).unwrap();
    assert_eq!((outcome.new_versions, outcome.unchanged), (1, 1));
    let outcome = store.append(&[one]).unwrap();
    assert_eq!((outcome.new_versions, outcome.unchanged, outcome.last_seq), (0, 1, 1));
    // Another body with the same (id, modified) is still that one version.
    let mut renamed = fact("feed", Tlp::Clear, indicator("feed", "192.0.2.1", 1));
    indicator_mut(&mut renamed).name = Some("renamed".to_owned());
    assert_eq!(store.append(&[renamed]).unwrap().new_versions, 0);
    assert_eq!(all(store).len(), 1);
}

fn made_up_times_are_not_a_new_version(store: &dyn Store) {
    let mut first = fact("list", Tlp::Clear, indicator("list", "198.51.100.7", 3));
    first.times_made_up = true;
    assert_eq!(store.append(&[first]).unwrap().new_versions, 1);
    // The same line imported later: only the made-up times differ.
    let mut again = fact("list", Tlp::Clear, indicator("list", "198.51.100.7", 9));
    again.times_made_up = true;
    let outcome = store.append(&[again]).unwrap();
    assert_eq!((outcome.new_versions, outcome.unchanged), (0, 1));
    // A changed claim is a new version, and becomes the current one.
    let mut changed = fact("list", Tlp::Clear, indicator("list", "198.51.100.7", 10));
    changed.times_made_up = true;
    indicator_mut(&mut changed).confidence = Some(30);
    assert_eq!(store.append(&[changed]).unwrap().new_versions, 1);
    let id = all(store)[0].id.clone();
    let versions = store.get(Reader::Operator, &id, Versions::All).unwrap();
    assert_eq!(
        versions.iter().map(|entry| entry.version_micros).collect::<Vec<_>>(),
        [day_micros(3), day_micros(10)]
    );
    let latest = store.get(Reader::Operator, &id, Versions::Latest).unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].object().unwrap().confidence(), Some(30));
}

fn a_newer_version_is_current_and_an_older_one_is_history(store: &dyn Store) {
    let newer = fact("feed", Tlp::Clear, indicator("feed", "evil.example", 5));
    let older = fact("feed", Tlp::Clear, indicator("feed", "evil.example", 2));
    store.append(&[newer]).unwrap();
    let outcome = store.append(std::slice::from_ref(&older)).unwrap();
    assert_eq!(outcome.new_versions, 1, "a past version enters the log");
    assert_eq!(store.append(&[older]).unwrap().new_versions, 0, "once");
    let id = all(store)[0].id.clone();
    let latest = store.get(Reader::Operator, &id, Versions::Latest).unwrap();
    assert_eq!(latest[0].version_micros, day_micros(5));
    let versions = store.get(Reader::Operator, &id, Versions::All).unwrap();
    assert_eq!(
        versions.iter().map(|entry| entry.version_micros).collect::<Vec<_>>(),
        [day_micros(2), day_micros(5)]
    );
    let latest_only = Query { limit: 10, latest_only: true, ..Query::default() };
    let page = store.query(Reader::Operator, &latest_only).unwrap();
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.entries[0].version_micros, day_micros(5));
}

fn a_tombstone_deletes_an_object_and_its_claims(store: &dyn Store) {
    let object = indicator("feed", "192.0.2.9", 1);
    let id = object.id().clone();
    store.append(&[fact("feed", Tlp::Green, object)]).unwrap();
    let observable = Observable::parse("192.0.2.9").unwrap();
    assert_eq!(store.claims(Reader::Operator, &observable).unwrap().len(), 1);
    let outcome =
        store.append(&[Fact::tombstone("admin", Audience::node(Tlp::Green), id.clone())]).unwrap();
    assert_eq!((outcome.new_versions, outcome.last_seq), (1, 2));
    assert!(store.get(Reader::Operator, id.as_str(), Versions::Latest).unwrap().is_empty());
    assert!(store.get(Reader::Operator, id.as_str(), Versions::All).unwrap().is_empty());
    assert!(store.claims(Reader::Operator, &observable).unwrap().is_empty());
    let entries = all(store);
    assert_eq!(entries[1].kind, EntryKind::Tombstone);
    assert_eq!(entries[1].id, id.as_str());
    let latest_only = Query { limit: 10, latest_only: true, ..Query::default() };
    assert!(store.query(Reader::Operator, &latest_only).unwrap().entries.is_empty());
    // Deleting again, or deleting what never was, logs nothing.
    let missing = StixId::parse("indicator--00000000-0000-4000-8000-000000000000").unwrap();
    let outcome = store
        .append(&[
            Fact::tombstone("admin", Audience::node(Tlp::Green), id),
            Fact::tombstone("admin", Audience::node(Tlp::Green), missing),
        ])
        .unwrap();
    assert_eq!((outcome.new_versions, outcome.missing), (0, 2));
    assert_eq!(store.stats(Reader::Operator).unwrap().objects, 0);
}

fn a_deleted_version_stays_deleted_and_a_newer_one_comes_back(store: &dyn Store) {
    let first = indicator("feed", "198.51.100.40", 1);
    let id = first.id().clone();
    store.append(&[fact("feed", Tlp::Green, first.clone())]).unwrap();
    store.append(&[Fact::tombstone("admin", Audience::node(Tlp::Green), id.clone())]).unwrap();
    let outcome = store.append(&[fact("feed", Tlp::Green, first)]).unwrap();
    assert_eq!((outcome.new_versions, outcome.unchanged), (0, 1));
    assert!(store.get(Reader::Operator, id.as_str(), Versions::Latest).unwrap().is_empty());
    let newer = indicator("feed", "198.51.100.40", 2);
    assert_eq!(store.append(&[fact("feed", Tlp::Green, newer)]).unwrap().new_versions, 1);
    let latest = store.get(Reader::Operator, id.as_str(), Versions::Latest).unwrap();
    assert_eq!(latest[0].version_micros, day_micros(2));
    let observable = Observable::parse("198.51.100.40").unwrap();
    assert_eq!(store.claims(Reader::Operator, &observable).unwrap().len(), 1);
    assert_eq!(store.stats(Reader::Operator).unwrap().objects, 1);
}

fn a_tombstone_in_the_same_batch_as_its_object(store: &dyn Store) {
    let object = indicator("feed", "203.0.113.5", 1);
    let id = object.id().clone();
    let outcome = store
        .append(&[
            fact("feed", Tlp::Green, object),
            Fact::tombstone("admin", Audience::node(Tlp::Green), id.clone()),
        ])
        .unwrap();
    assert_eq!(outcome.new_versions, 2);
    assert!(store.get(Reader::Operator, id.as_str(), Versions::Latest).unwrap().is_empty());
    let observable = Observable::parse("203.0.113.5").unwrap();
    assert!(store.claims(Reader::Operator, &observable).unwrap().is_empty());
}

fn one_observable_from_five_sources_has_five_claims(store: &dyn Store) {
    let sources = ["alpha", "bravo", "charlie", "delta", "echo"];
    let facts: Vec<Fact> = sources
        .iter()
        .map(|source| categorised(source, indicator(source, "evil.example", 1), Category::Phishing))
        .collect();
    store.append(&facts).unwrap();
    // The same observable spelt another way is the same observable.
    let observable = Observable::parse("EVIL[.]example").unwrap();
    let claims = store.claims(Reader::Operator, &observable).unwrap();
    let mut names: Vec<&str> = claims.iter().map(|claim| claim.source.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, sources);
    assert!(claims.iter().all(|claim| claim.category == Some(Category::Phishing)));
    assert!(claims.iter().all(|claim| claim.confidence == Some(80)));
    assert!(claims.iter().all(|claim| claim.last_seen_micros == day_micros(1)));
    let stats = store.stats(Reader::Operator).unwrap();
    assert_eq!((stats.claims, stats.observables), (5, 1));
    assert_eq!(stats.claims_by_kind.get("domain"), Some(&5));
    // A revoked version withdraws its source's claim.
    let mut revoked = indicator("alpha", "evil.example", 2);
    if let StixObject::Indicator(indicator) = &mut revoked {
        indicator.revoked = Some(true);
    }
    store.append(&[fact("alpha", Tlp::Green, revoked)]).unwrap();
    assert_eq!(store.claims(Reader::Operator, &observable).unwrap().len(), 4);
}

fn categories_come_from_indicator_types_without_one_of_ours(store: &dyn Store) {
    let mut object = indicator("peer", "tor.example", 1);
    if let StixObject::Indicator(indicator) = &mut object {
        indicator.indicator_types = vec!["anonymization".to_owned()];
    }
    store.append(&[fact("peer", Tlp::Clear, object)]).unwrap();
    let claims =
        store.claims(Reader::Operator, &Observable::parse("tor.example").unwrap()).unwrap();
    assert_eq!(claims[0].category, Some(Category::TorExit));
}

fn every_read_follows_the_access_policy(store: &dyn Store) {
    let cast = Cast::new();
    let mut facts = Vec::new();
    for (index, tlp) in Tlp::ALL.into_iter().enumerate() {
        let object = indicator("a-feed", &format!("192.0.2.{}", index + 1), 1);
        facts.push(Fact::object("a-feed", cast.audience(tlp), object));
        let sighting =
            sighting(&format!("indicator--00000000-0000-4000-8000-00000000000{index}"), 2);
        facts.push(Fact::object("a-feed", cast.audience(tlp), sighting));
    }
    // One observable with a claim at every level, each from its own source.
    for tlp in Tlp::ALL {
        let source = format!("src-{}", tlp.level_name());
        facts.push(Fact::object(
            &source,
            cast.audience(tlp),
            indicator(&source, "shared.example", 1),
        ));
    }
    // Sightings of one object at every level.
    let target = "indicator--11111111-1111-4111-8111-111111111111";
    for (index, tlp) in Tlp::ALL.into_iter().enumerate() {
        let mut object = sighting(target, 1);
        if let StixObject::Sighting(sighting) = &mut object {
            sighting.id =
                StixId::parse(&format!("sighting--22222222-2222-4222-8222-22222222222{index}"))
                    .unwrap();
        }
        facts.push(Fact::object("sensor", cast.audience(tlp), object));
    }
    store.append(&facts).unwrap();

    let anonymous = Principal::Anonymous;
    let member_b = cast.member(cast.org_b, None);
    let member_a = cast.member(cast.org_a, None);
    let named = cast.member(cast.org_named, None);
    let red_user = cast.member(cast.org_b, Some(cast.red_user));
    let cases: [(&str, &Principal, &[Tlp]); 5] = [
        ("anonymous", &anonymous, &[Tlp::Clear]),
        ("member of B", &member_b, &[Tlp::Clear, Tlp::Green]),
        (
            "member of A (machine)",
            &member_a,
            &[Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict],
        ),
        ("named organisation", &named, &[Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict]),
        ("named RED user of B", &red_user, &[Tlp::Clear, Tlp::Green, Tlp::Red]),
    ];
    let shared = Observable::parse("shared.example").unwrap();
    for (who, principal, levels) in cases {
        let reader = Reader::Principal(principal);
        let visible: Vec<Tlp> =
            all_for(store, reader).iter().map(|entry| entry.audience.tlp).collect();
        let mut expected: Vec<Tlp> = Vec::new();
        for tlp in Tlp::ALL {
            if levels.contains(&tlp) {
                // An indicator and a sighting per level, then the shared indicator, then the sighting of the target.
                expected.extend([tlp, tlp]);
            }
        }
        for tlp in Tlp::ALL {
            if levels.contains(&tlp) {
                expected.push(tlp);
            }
        }
        for tlp in Tlp::ALL {
            if levels.contains(&tlp) {
                expected.push(tlp);
            }
        }
        assert_eq!(visible, expected, "{who}: query");
        // Single reads: an invisible id reads exactly like a missing one.
        for (index, tlp) in Tlp::ALL.into_iter().enumerate() {
            let id = indicator("a-feed", &format!("192.0.2.{}", index + 1), 1).id().clone();
            let found = store.get(reader, id.as_str(), Versions::All).unwrap();
            assert_eq!(found.len(), usize::from(levels.contains(&tlp)), "{who}: get {tlp}");
        }
        let claims = store.claims(reader, &shared).unwrap();
        let mut claim_levels: Vec<Tlp> = claims.iter().map(|claim| claim.audience.tlp).collect();
        claim_levels.sort_by_key(|tlp| Tlp::ALL.iter().position(|level| level == tlp));
        assert_eq!(claim_levels, levels, "{who}: claims");
        // The whole claims view, page by page, holds exactly the visible claims.
        let mut scanned = Vec::new();
        let mut cursor = 0;
        loop {
            let page = store.claims_after(reader, cursor, 3).unwrap();
            assert!(page.claims.len() <= 3);
            scanned.extend(page.claims.iter().map(|(_, claim)| claim.audience.tlp));
            match page.next {
                Some(next) => cursor = next,
                None => break,
            }
        }
        assert_eq!(scanned.len(), 2 * levels.len(), "{who}: claims_after");
        assert!(scanned.iter().all(|tlp| levels.contains(tlp)), "{who}: claims_after levels");
        let count = store.sightings(reader, target).unwrap();
        assert_eq!(count.sightings, levels.len() as u64, "{who}: sightings");
        let stats = store.stats(reader).unwrap();
        assert_eq!(stats.objects, 4 * levels.len() as u64, "{who}: stats objects");
        assert_eq!(stats.claims, 2 * levels.len() as u64, "{who}: stats claims");
        assert_eq!(stats.observables, 1 + levels.len() as u64, "{who}: stats observables");
        assert_eq!(stats.by_tlp.len(), levels.len(), "{who}: stats by TLP");
        let sources = store.sources(reader).unwrap();
        let n_sources = sources.iter().filter(|source| source.name.starts_with("src-")).count();
        assert_eq!(n_sources, levels.len(), "{who}: sources");
    }
}

fn all_for(store: &dyn Store, reader: Reader<'_>) -> Vec<watchfire_store::Entry> {
    store.query(reader, &Query { limit: 100_000, ..Query::default() }).unwrap().entries
}

fn sighting(of: &str, count: u64) -> StixObject {
    let mut properties = serde_json::Map::new();
    properties.insert("type".into(), "sighting".into());
    properties.insert("spec_version".into(), "2.1".into());
    properties.insert("id".into(), format!("sighting--{}", uuid::Uuid::new_v4()).into());
    properties.insert("created".into(), day(1).to_string().into());
    properties.insert("modified".into(), day(1).to_string().into());
    properties.insert("sighting_of_ref".into(), of.into());
    properties.insert("count".into(), count.into());
    StixObject::from_properties(properties).unwrap()
}

fn pages_follow_the_sequence_without_gaps_or_repeats(store: &dyn Store) {
    let cast = Cast::new();
    // 250 visible to a member of B (GREEN), with an invisible AMBER one after every second.
    let mut facts = Vec::new();
    for index in 0..250 {
        let value = format!("host{index}.example");
        facts.push(Fact::object("feed", Audience::node(Tlp::Green), indicator("feed", &value, 1)));
        if index % 2 == 0 {
            let hidden = format!("hidden{index}.example");
            facts.push(Fact::object(
                "feed",
                cast.audience(Tlp::Amber),
                indicator("feed", &hidden, 1),
            ));
        }
    }
    store.append(&facts).unwrap();
    let member_b = cast.member(cast.org_b, None);
    let reader = Reader::Principal(&member_b);
    let mut query = Query { limit: 100, ..Query::default() };
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    loop {
        let page = store.query(reader, &query).unwrap();
        pages.push(page.entries.len());
        seen.extend(page.entries.iter().map(|entry| entry.seq));
        match page.next {
            Some(next) => query.after = next,
            None => break,
        }
    }
    assert_eq!(pages[..3], [100, 100, 50]);
    assert!(pages[3..].iter().all(|&n| n == 0));
    assert_eq!(seen.len(), 250);
    assert!(seen.windows(2).all(|pair| pair[0] < pair[1]));
    assert!(all_for(store, reader).iter().all(|entry| entry.audience.tlp == Tlp::Green));
}

fn filters_select_by_type_source_tlp_and_time(store: &dyn Store) {
    store
        .append(&[
            fact("one", Tlp::Clear, indicator("one", "192.0.2.1", 1)),
            fact("two", Tlp::Green, indicator("two", "192.0.2.2", 1)),
            fact("two", Tlp::Clear, sighting("indicator--00000000-0000-4000-8000-000000000001", 1)),
        ])
        .unwrap();
    let by = |query: Query| -> Vec<u64> {
        let query = Query { limit: 100, ..query };
        store
            .query(Reader::Operator, &query)
            .unwrap()
            .entries
            .iter()
            .map(|entry| entry.seq)
            .collect()
    };
    assert_eq!(by(Query { types: vec!["sighting".into()], ..Query::default() }), [3]);
    assert_eq!(by(Query { sources: vec!["two".into()], ..Query::default() }), [2, 3]);
    assert_eq!(by(Query { tlp: vec![Tlp::Clear], ..Query::default() }), [1, 3]);
    assert_eq!(
        by(Query { types: vec!["indicator".into()], tlp: vec![Tlp::Green], ..Query::default() }),
        [2]
    );
    let added = all(store)[0].added_micros;
    assert_eq!(by(Query { added_from: Some(added), ..Query::default() }), [1, 2, 3]);
    assert!(by(Query { added_before: Some(added), ..Query::default() }).is_empty());
    assert_eq!(by(Query { after: 2, ..Query::default() }), [3]);
}

fn sightings_count_each_sighting_once(store: &dyn Store) {
    let target = "indicator--00000000-0000-4000-8000-0000000000aa";
    let first = sighting(target, 3);
    let second = sighting(target, 4);
    store.append(&[fact("s", Tlp::Green, first.clone()), fact("s", Tlp::Green, second)]).unwrap();
    let count = store.sightings(Reader::Operator, target).unwrap();
    assert_eq!((count.sightings, count.count), (2, 7));
    // A new version of the first sighting replaces its count.
    let StixObject::Sighting(mut updated) = first else { unreachable!() };
    updated.count = Some(5);
    updated.modified = day(2);
    store.append(&[fact("s", Tlp::Green, StixObject::Sighting(updated.clone()))]).unwrap();
    let count = store.sightings(Reader::Operator, target).unwrap();
    assert_eq!((count.sightings, count.count), (2, 9));
    store.append(&[Fact::tombstone("s", Audience::node(Tlp::Green), updated.id.clone())]).unwrap();
    assert_eq!(store.sightings(Reader::Operator, target).unwrap().count, 4);
}

fn stats_count_live_objects(store: &dyn Store) {
    store
        .append(&[
            fact("one", Tlp::Clear, indicator("one", "192.0.2.1", 1)),
            fact("one", Tlp::Clear, indicator("one", "192.0.2.1", 2)),
            fact("two", Tlp::Amber, indicator("two", "2001:db8::1", 1)),
            fact("two", Tlp::Green, sighting("indicator--00000000-0000-4000-8000-000000000001", 1)),
        ])
        .unwrap();
    let stats = store.stats(Reader::Operator).unwrap();
    assert_eq!(stats.last_seq, 4);
    assert_eq!(stats.objects, 3);
    assert_eq!(stats.by_type.get("indicator"), Some(&2));
    assert_eq!(stats.by_type.get("sighting"), Some(&1));
    assert_eq!(stats.by_source.get("one"), Some(&1));
    assert_eq!(stats.by_source.get("two"), Some(&2));
    assert_eq!(stats.by_tlp.get("amber"), Some(&1));
    assert_eq!(stats.claims_by_kind.get("ipv6"), Some(&1));
    assert_eq!(stats.observables, 2);
}

fn scores_decay_when_refreshed(store: &dyn Store) {
    // Last said on day 0 (2026-01-01), which lies in the past of any test run.
    let mut object = indicator("feed", "192.0.2.77", 0);
    if let StixObject::Indicator(indicator) = &mut object {
        indicator.confidence = Some(100);
    }
    store.append(&[fact("feed", Tlp::Green, object)]).unwrap();
    let observable = Observable::parse("192.0.2.77").unwrap();
    assert_eq!(store.refresh_scores(day_micros(0)).unwrap(), 1);
    assert_eq!(store.claims(Reader::Operator, &observable).unwrap()[0].score, 100);
    assert_eq!(store.refresh_scores(day_micros(14)).unwrap(), 1);
    assert_eq!(store.claims(Reader::Operator, &observable).unwrap()[0].score, 50);
    assert_eq!(store.refresh_scores(day_micros(14)).unwrap(), 0, "nothing changes twice");
}

fn a_refresh_that_changes_a_score_moves_the_scores_version(store: &dyn Store) {
    assert_eq!(store.scores_version().unwrap(), 0, "a new store");
    store.append(&[fact("feed", Tlp::Green, indicator("feed", "192.0.2.78", 0))]).unwrap();
    assert_eq!(store.scores_version().unwrap(), 0, "an append is seen through the log, not here");
    assert_eq!(store.refresh_scores(day_micros(0)).unwrap(), 1);
    assert_eq!(store.scores_version().unwrap(), 1);
    assert_eq!(store.refresh_scores(day_micros(0)).unwrap(), 0);
    assert_eq!(store.scores_version().unwrap(), 1, "a refresh that changes nothing");
    assert_eq!(store.refresh_scores(day_micros(30)).unwrap(), 1);
    assert_eq!(store.scores_version().unwrap(), 2);
    assert_eq!(store.last_seq().unwrap(), 1, "a refresh adds nothing to the log");
}

fn wait_wakes_on_an_append(store: &dyn Store) {
    let after = store.last_seq().unwrap();
    let started = Instant::now();
    assert_eq!(store.wait(after, Duration::from_millis(50)).unwrap(), after, "times out");
    assert!(started.elapsed() >= Duration::from_millis(50));
    std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(100));
            store.append(&[fact("feed", Tlp::Clear, indicator("feed", "192.0.2.5", 1))]).unwrap();
        });
        let started = Instant::now();
        let seq = store.wait(after, Duration::from_secs(20)).unwrap();
        assert_eq!(seq, after + 1);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "woken by the append, not the timeout"
        );
    });
}

fn tlp_of_a_later_version_governs_that_version(store: &dyn Store) {
    let cast = Cast::new();
    let first = indicator("feed", "192.0.2.60", 1);
    let id = first.id().clone();
    store.append(&[Fact::object("feed", cast.audience(Tlp::Clear), first)]).unwrap();
    let second = indicator("feed", "192.0.2.60", 2);
    store.append(&[Fact::object("feed", cast.audience(Tlp::Amber), second)]).unwrap();
    let anonymous = Principal::Anonymous;
    let versions = store.get(Reader::Principal(&anonymous), id.as_str(), Versions::All).unwrap();
    assert_eq!(versions.len(), 1);
    assert!(
        store.get(Reader::Principal(&anonymous), id.as_str(), Versions::Latest).unwrap().is_empty()
    );
    assert_eq!(ids(&store.get(Reader::Operator, id.as_str(), Versions::All).unwrap()).len(), 2);
}

fn the_directory_keeps_documents_per_kind_and_key(store: &dyn Store) {
    assert_eq!(store.directory_get("user", "alice").unwrap(), None);
    assert!(store.directory_put("user", "alice", r#"{"v":1}"#, Put::Insert).unwrap());
    // A taken key is not overwritten by an insert: the caller learns the name is taken.
    assert!(!store.directory_put("user", "alice", r#"{"v":2}"#, Put::Insert).unwrap());
    assert_eq!(store.directory_get("user", "alice").unwrap().as_deref(), Some(r#"{"v":1}"#));
    assert!(store.directory_put("user", "alice", r#"{"v":3}"#, Put::Replace).unwrap());
    store.directory_put("user", "bob", "{}", Put::Insert).unwrap();
    store.directory_put("org", "alice", "[]", Put::Insert).unwrap();
    let users = store.directory_list("user").unwrap();
    assert_eq!(
        users,
        vec![("alice".to_owned(), r#"{"v":3}"#.to_owned()), ("bob".to_owned(), "{}".to_owned())]
    );
    assert!(store.directory_delete("user", "alice").unwrap());
    assert!(!store.directory_delete("user", "alice").unwrap());
    assert_eq!(store.directory_list("user").unwrap().len(), 1);
    assert_eq!(store.directory_get("org", "alice").unwrap().as_deref(), Some("[]"));
    // The directory is not intelligence: it adds nothing to the log.
    assert_eq!(store.last_seq().unwrap(), 0);
}

macro_rules! conformance {
    ($backend:ident: $($case:ident),* $(,)?) => {
        mod $backend {
            $(
                #[test]
                fn $case() {
                    let test_store = super::common::$backend();
                    super::$case(&*test_store.store);
                }
            )*
        }
    };
}

macro_rules! both_backends {
    ($($case:ident),* $(,)?) => {
        conformance!(sqlite: $($case),*);
        conformance!(postgres: $($case),*);
    };
}

both_backends!(
    appends_get_sequence_numbers_in_order,
    the_same_version_twice_is_one_version,
    made_up_times_are_not_a_new_version,
    a_newer_version_is_current_and_an_older_one_is_history,
    a_tombstone_deletes_an_object_and_its_claims,
    a_tombstone_in_the_same_batch_as_its_object,
    a_deleted_version_stays_deleted_and_a_newer_one_comes_back,
    one_observable_from_five_sources_has_five_claims,
    categories_come_from_indicator_types_without_one_of_ours,
    every_read_follows_the_access_policy,
    pages_follow_the_sequence_without_gaps_or_repeats,
    filters_select_by_type_source_tlp_and_time,
    sightings_count_each_sighting_once,
    stats_count_live_objects,
    scores_decay_when_refreshed,
    a_refresh_that_changes_a_score_moves_the_scores_version,
    wait_wakes_on_an_append,
    tlp_of_a_later_version_governs_that_version,
    the_directory_keeps_documents_per_kind_and_key,
);
