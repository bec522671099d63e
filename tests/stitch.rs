//! Cross-page references: jumped articles stitched, see-also pointers linked.
//!
//! First the pure core against the issue manifests (`tests/fixtures/issues/`), with the pages
//! arriving in every order and timeouts firing early or late; then the service against real
//! nats-server processes: both orders, redelivery, two replicas racing, a replica killed
//! between the halves, a missing half timing out, and a broker restart.

mod support;

use prost::Message as _;
use std::collections::{BTreeMap, BTreeSet};

use pagewire::parse::{parse_page, Limits};
use pagewire::proto::{Article, PageReferenceKind, RawPage, UnresolvedJump};
use pagewire::stitch::{
    self, is_unresolved, plan_page, plan_unresolved, record_hash, record_of, Composed, IssueIndex,
    Records,
};
use support::issues::{self, Manifest};

// --- the pure core over the manifests --------------------------------------------------------

/// A consumer's view: per id the message with the highest revision. Equal revisions must carry
/// equal content; that is the contract, so the fold checks it.
#[derive(Default, Debug, Clone)]
struct View(BTreeMap<String, Article>);

impl View {
    fn apply(&mut self, a: &Article) {
        match self.0.get(&a.id) {
            Some(old) if old.revision > a.revision => {}
            Some(old) if old.revision == a.revision => {
                assert_eq!(
                    old, a,
                    "revision {} of {} published twice, differently",
                    a.revision, a.id
                )
            }
            _ => {
                self.0.insert(a.id.clone(), a.clone());
            }
        }
    }
}

/// An issue fed to the pure core page by page, as the service does.
#[derive(Default)]
struct Sim {
    index: IssueIndex,
    records: Records,
    archive: View,
    search: View,
    events: Vec<UnresolvedJump>,
    pending: BTreeSet<String>,
}

impl Sim {
    fn publish(&mut self, composed: &[Composed]) {
        for c in composed {
            self.archive.apply(&c.article);
            if c.search {
                self.search.apply(&c.article);
            }
        }
    }

    fn add(&mut self, raw: &RawPage) {
        let page = parse_page(raw, &Limits::default()).expect("fixture parses");
        let record = record_of(&page);
        let hash = record_hash(&record.encode_to_vec());
        if let Some(next) = self
            .index
            .register(raw.page_number, &raw.page_label, &hash, 1000)
            .expect("room")
        {
            self.index = next;
        }
        self.records
            .insert(raw.page_number, std::sync::Arc::new(record));
        let plan = plan_page(&self.index, &self.records, raw.page_number);
        assert_eq!(plan.own.len(), page.articles.len());
        self.publish(&plan.own);
        self.publish(&plan.updates);
        self.pending.extend(plan.pending);
    }

    /// Every timer started so far fires.
    fn expire(&mut self) {
        for id in std::mem::take(&mut self.pending) {
            if !is_unresolved(&self.index, &self.records, &id) {
                continue;
            }
            let Some(next) = self.index.report_unresolved(&id) else {
                continue;
            };
            self.index = next;
            let (updates, event) = plan_unresolved(&self.index, &self.records, &id);
            self.publish(&updates);
            self.events.extend(event);
        }
    }
}

/// The arrival orders tried for an issue of `n` pages: forward, backward, and rotations.
fn orders(n: usize) -> Vec<Vec<usize>> {
    let mut out = vec![(0..n).collect::<Vec<_>>(), (0..n).rev().collect()];
    for r in 1..n {
        out.push((0..n).map(|i| (i + r) % n).collect());
    }
    out.push(
        (0..n)
            .filter(|i| i % 2 == 1)
            .chain((0..n).filter(|i| i % 2 == 0))
            .collect(),
    );
    out.sort();
    out.dedup();
    out
}

fn refs(a: &Article, kind: PageReferenceKind) -> Vec<&str> {
    a.references
        .iter()
        .filter(|r| r.kind == kind as i32 && !r.article_id.is_empty())
        .map(|r| r.article_id.as_str())
        .collect()
}

/// What the archive ends with must be what the manifest says: the stitched articles with their
/// parts, the links both ways, the unresolved halves; and nothing else.
fn check_final(m: &Manifest, sim: &Sim, context: &str, early_timeouts: bool) {
    let parsed: BTreeMap<String, Article> = m
        .raw_pages()
        .iter()
        .flat_map(|raw| parse_page(raw, &Limits::default()).unwrap().articles)
        .map(|a| (a.id.clone(), a))
        .collect();
    let state = &sim.archive.0;
    assert_eq!(
        state.keys().collect::<Vec<_>>(),
        parsed.keys().collect::<Vec<_>>(),
        "{context}: every article reaches the archive"
    );
    let mut later_parts = BTreeSet::new();
    for s in &m.stitched {
        let ids: Vec<String> = s.parts.iter().map(|p| m.id(p)).collect();
        let head = &state[&ids[0]];
        let got: Vec<&str> = head.parts.iter().map(|p| p.article_id.as_str()).collect();
        assert_eq!(got, ids, "{context}: parts of {}", ids[0]);
        assert_eq!(head.headline, s.headline, "{context}");
        let paragraphs: Vec<&String> = ids.iter().flat_map(|id| &parsed[id].paragraphs).collect();
        assert_eq!(
            head.paragraphs.iter().collect::<Vec<_>>(),
            paragraphs,
            "{context}"
        );
        assert_eq!(
            head.page, parsed[&ids[0]].page,
            "{context}: page is where it starts"
        );
        for later in &ids[1..] {
            assert_eq!(state[later].stitched_into, ids[0], "{context}: {later}");
            later_parts.insert(later.clone());
            // Search has the stitched article; a part it never had is never sent to it.
            if !early_timeouts {
                assert!(
                    !sim.search.0.contains_key(later),
                    "{context}: {later} in search"
                );
            } else if let Some(s) = sim.search.0.get(later) {
                assert_eq!(
                    s.stitched_into, ids[0],
                    "{context}: search withdrew {later}"
                );
            }
        }
        assert_eq!(
            sim.search.0.get(&ids[0]),
            Some(head),
            "{context}: search has the stitch"
        );
    }
    for (id, a) in state {
        let stitched = m.stitched.iter().any(|s| m.id(&s.parts[0]) == *id);
        assert_eq!(!a.parts.is_empty(), stitched, "{context}: parts on {id}");
        assert_eq!(
            !a.stitched_into.is_empty(),
            later_parts.contains(id),
            "{context}: {id}"
        );
    }
    let expected: BTreeSet<(String, String)> = m
        .linked
        .iter()
        .map(|l| (m.id(&l.from), m.id(&l.to)))
        .collect();
    let mut made = BTreeSet::new();
    let mut recorded = BTreeSet::new();
    for (id, a) in state {
        for t in refs(a, PageReferenceKind::SeeAlso) {
            made.insert((id.clone(), t.to_owned()));
        }
        for s in refs(a, PageReferenceKind::ReferredFrom) {
            recorded.insert((s.to_owned(), id.clone()));
        }
    }
    assert_eq!(made, expected, "{context}: links made");
    assert_eq!(
        recorded, expected,
        "{context}: links recorded on the targets"
    );
    let warned: BTreeSet<String> = state
        .values()
        .filter(|a| a.warnings.iter().any(|w| w.code == stitch::UNRESOLVED_JUMP))
        .map(|a| a.id.clone())
        .collect();
    let unresolved: BTreeSet<String> = m.unresolved.iter().map(|u| m.id(u)).collect();
    assert_eq!(warned, unresolved, "{context}: unresolved halves");
    let reported: BTreeSet<String> = sim.events.iter().map(|e| e.article_id.clone()).collect();
    assert!(reported.is_superset(&unresolved), "{context}: events");
    if !early_timeouts {
        assert_eq!(reported, unresolved, "{context}: events");
    }
}

/// Content as a subscriber reads it, without the version and revision (which name the
/// registrations, so they differ between arrival orders).
fn content(v: &View) -> BTreeMap<String, Article> {
    v.0.iter()
        .map(|(id, a)| {
            let mut a = a.clone();
            a.version.clear();
            a.revision = 0;
            a.warnings.retain(|w| w.code != stitch::UNRESOLVED_JUMP);
            (id.clone(), a)
        })
        .collect()
}

#[test]
fn every_manifest_comes_out_the_same_in_every_arrival_order() {
    let manifests = issues::all();
    assert!(manifests.len() >= 3, "issue manifests present");
    for (name, m) in &manifests {
        let raws = m.raw_pages();
        let mut finals = Vec::new();
        for order in orders(raws.len()) {
            let mut sim = Sim::default();
            for &i in &order {
                sim.add(&raws[i]);
                // A redelivered page changes nothing.
                let before = (sim.archive.0.clone(), sim.index.clone());
                sim.add(&raws[i]);
                assert_eq!((sim.archive.0.clone(), sim.index.clone()), before, "{name}");
            }
            sim.expire();
            check_final(m, &sim, &format!("{name} in order {order:?}"), false);
            finals.push(content(&sim.archive));
        }
        for f in &finals[1..] {
            assert_eq!(f, &finals[0], "{name}: arrival order changed the result");
        }
    }
}

#[test]
fn timeouts_firing_before_the_partners_arrive_still_end_stitched() {
    for (name, m) in issues::all() {
        let raws = m.raw_pages();
        for order in orders(raws.len()) {
            let mut sim = Sim::default();
            for &i in &order {
                sim.add(&raws[i]);
                sim.expire();
            }
            check_final(
                &m,
                &sim,
                &format!("{name} early timeouts, order {order:?}"),
                true,
            );
        }
    }
}

#[test]
fn a_corrected_page_restitches_under_a_higher_revision() {
    let m = issues::load("en-daily-herald-2025-07-12");
    let raws = m.raw_pages();
    let mut sim = Sim::default();
    for raw in &raws {
        sim.add(raw);
    }
    let head = m.id("1/1");
    let before = sim.archive.0[&head].clone();
    let mut corrected = raws[1].clone();
    assert!(corrected.content.contains("Sunday night"), "fixture text");
    corrected.content = corrected.content.replace("Sunday night", "Monday morning");
    sim.add(&corrected);
    let after = &sim.archive.0[&head];
    assert!(after.revision > before.revision);
    assert_ne!(after.version, before.version);
    assert!(after
        .paragraphs
        .iter()
        .any(|p| p.contains("Monday morning")));
    assert_eq!(after.parts.len(), 2);
}
