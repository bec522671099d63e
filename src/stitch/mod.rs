//! Cross-page references, resolved: jumped articles stitched into one, see-also pointers
//! (导读 teasers, a photo story's 详见05版) linked to the article they announce.
//!
//! Pure, like the parser: no I/O, no clock, not async. The service keeps the state in a
//! JetStream key-value bucket (`service::stitcher`) and asks this module what to publish:
//!
//! - [`IssueIndex`] is the per-issue document, updated by compare-and-set. Registering a page
//!   hands it the next sequence number; the index's `seq` numbers its snapshots, and every
//!   message composed from a snapshot carries that number as its `revision`. Equal revisions
//!   therefore mean equal content, and a later snapshot always outranks an earlier one.
//! - A page's *record* is its parsed articles ([`record_of`]), stored under the hash of its
//!   bytes: immutable, so any replica reads exactly what was registered.
//! - [`plan_page`] says what to publish when a page is registered: its own articles (composed
//!   where another page touches them), plus every article elsewhere in the issue whose composed
//!   form changed because this page arrived. [`plan_unresolved`] does the same for a half
//!   whose partner did not arrive in time.
//!
//! Composition is a function of the snapshot alone, so two replicas working from one snapshot
//! publish identical bytes (and the duplicate window absorbs the second copy), and no replica
//! can publish a stitched version that another snapshot of equal number contradicts.

pub mod matching;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use prost::Message as _;
use serde::{Deserialize, Serialize};

use crate::proto::{
    Article, ArticlePart, Credit, Page, PageReference, PageReferenceKind, UnresolvedJump, Warning,
};
use matching::{At, Links};

/// Code of the warning on a half whose partner did not arrive within the stitch timeout.
pub const UNRESOLVED_JUMP: &str = "unresolved_jump";

/// The parsed pages of an issue, by page number, as stored in the bucket.
pub type Records = BTreeMap<u32, Arc<Record>>;

/// A page's record with what matching derives from it once (the units of every article's
/// title, opening and caption), so planning a registration compares sets instead of re-reading
/// the text of every page in the issue. Derefs to the page.
#[derive(Debug, Clone)]
pub struct Record {
    /// The stored record.
    pub page: Page,
    units: Vec<matching::Units>,
}

impl Record {
    /// The record with its matching units.
    pub fn new(page: Page) -> Record {
        let units = page.articles.iter().map(matching::Units::of).collect();
        Record { page, units }
    }
}

impl std::ops::Deref for Record {
    type Target = Page;

    fn deref(&self) -> &Page {
        &self.page
    }
}

/// The registered pages of one issue: what the key-value bucket holds under the issue's key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueIndex {
    /// The last sequence number handed out; the number of this snapshot.
    pub seq: u64,
    /// Registered pages by page number.
    pub pages: BTreeMap<u32, PageEntry>,
    /// Halves reported unresolved: article id → sequence number of the report.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unresolved: BTreeMap<String, u64>,
}

/// One registered page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageEntry {
    /// Hash of the page's record; the record's key ends with it.
    pub record: String,
    /// Sequence number of the registration.
    pub seq: u64,
    /// Page label as printed.
    pub label: String,
}

/// The issue already has the most pages stitching follows; the page is published as parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("issue already has {0} registered pages; stitching skipped for this page")]
pub struct IssueFull(pub usize);

impl IssueIndex {
    /// The index with `page` registered under `record`, or `None` when it already is (a
    /// redelivery or a replay: nothing changes, the same snapshot is reused). A changed record
    /// (a corrected page) replaces the old one under a new sequence number.
    pub fn register(
        &self,
        page: u32,
        label: &str,
        record: &str,
        max_pages: usize,
    ) -> Result<Option<IssueIndex>, IssueFull> {
        match self.pages.get(&page) {
            Some(e) if e.record == record => return Ok(None),
            None if self.pages.len() >= max_pages => return Err(IssueFull(self.pages.len())),
            _ => {}
        }
        let mut next = self.clone();
        next.seq += 1;
        next.pages.insert(
            page,
            PageEntry {
                record: record.to_owned(),
                seq: next.seq,
                label: label.to_owned(),
            },
        );
        Ok(Some(next))
    }

    /// The index with `article_id` reported unresolved, or `None` when it already is.
    pub fn report_unresolved(&self, article_id: &str) -> Option<IssueIndex> {
        if self.unresolved.contains_key(article_id) {
            return None;
        }
        let mut next = self.clone();
        next.seq += 1;
        next.unresolved.insert(article_id.to_owned(), next.seq);
        Some(next)
    }

    fn without_page(&self, page: u32) -> IssueIndex {
        let mut before = self.clone();
        before.pages.remove(&page);
        before
    }
}

/// The record stored for a parsed page: its position, language and articles.
pub fn record_of(page: &Page) -> Page {
    Page {
        page: page.page.clone(),
        articles: page.articles.clone(),
        language: page.language.clone(),
        ..Default::default()
    }
}

/// The record's key suffix: BLAKE3 of its bytes, 16 hex digits.
pub fn record_hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex()[..16].to_owned()
}

/// An article as it should be published now, and whether search gets it.
#[derive(Debug, Clone, PartialEq)]
pub struct Composed {
    /// The article, `revision` set.
    pub article: Article,
    /// Whether the search topic receives it (see [`searchable`]).
    pub search: bool,
}

/// What to publish once a page is registered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// The snapshot's number: every article below carries it as `revision`.
    pub revision: u64,
    /// The page's own articles, in reading order.
    pub own: Vec<Composed>,
    /// Articles on other pages whose composed form changed.
    pub updates: Vec<Composed>,
    /// Ids of this page's halves still without a partner: their timers start now.
    pub pending: Vec<String>,
    /// Counts for the metrics: stitched articles, see-also links made, both by this step.
    pub stitched: usize,
    /// See-also links made by this step.
    pub linked: usize,
}

/// Whether search receives an article: searchable kinds, except continuations waiting for the
/// part before them and later parts of stitched articles, which search gets only once the
/// article was reported unresolved (then as itself, and after a late stitch as a withdrawal).
pub fn searchable(a: &Article, reported: bool) -> bool {
    let waiting = a
        .references
        .iter()
        .any(|r| r.kind == PageReferenceKind::ContinuedFrom as i32 && r.article_id.is_empty());
    if !a.stitched_into.is_empty() || waiting {
        return reported;
    }
    crate::route::is_searchable(a.kind)
}

/// What to publish now that `page` is registered in `index` (whose records are in `records`).
pub fn plan_page(index: &IssueIndex, records: &Records, page: u32) -> Plan {
    let before_index = index.without_page(page);
    let links = matching::links(index, records);
    let scope = affected(&links, records, page);
    let before = compose_with(
        &before_index,
        records,
        &links.without_page(page),
        Some(&scope),
    );
    let after = compose_with(index, records, &links, Some(&scope));
    let revision = index.seq;
    let mut plan = Plan {
        revision,
        ..Default::default()
    };
    let Some(record) = records.get(&page) else {
        return plan;
    };
    for a in &record.articles {
        let mut c = after
            .articles
            .get(&a.id)
            .cloned()
            .unwrap_or_else(|| Composed {
                search: searchable(a, false),
                article: a.clone(),
            });
        c.article.revision = revision;
        if c.article.stitched_into.is_empty() && has_unresolved(&c.article) {
            plan.pending.push(a.id.clone());
        }
        plan.own.push(c);
    }
    plan.updates = changed(&before, &after, index, records, |p| p != page, revision);
    plan.stitched = after.stitched.saturating_sub(before.stitched);
    plan.linked = after.linked.saturating_sub(before.linked);
    plan
}

/// What to publish once `article_id` is reported unresolved in `index`: the article with its
/// warning (and whatever else changed), and the event.
pub fn plan_unresolved(
    index: &IssueIndex,
    records: &Records,
    article_id: &str,
) -> (Vec<Composed>, Option<UnresolvedJump>) {
    let mut before_index = index.clone();
    before_index.unresolved.remove(article_id);
    let links = matching::links(index, records);
    let before = compose_with(&before_index, records, &links, None);
    let after = compose_with(index, records, &links, None);
    let updates = changed(&before, &after, index, records, |_| true, index.seq);
    let event = updates
        .iter()
        .map(|c| &c.article)
        .find(|a| a.id == article_id)
        .map(|a| UnresolvedJump {
            article_id: a.id.clone(),
            article_version: a.version.clone(),
            page: a.page.clone(),
            references: unresolved_refs(a).cloned().collect(),
            revision: index.seq,
            headline: a.headline.clone(),
        });
    (updates, event)
}

/// Whether the article (as parsed, or composed) still has a jump without a partner.
pub fn has_unresolved(a: &Article) -> bool {
    unresolved_refs(a).next().is_some()
}

fn unresolved_refs(a: &Article) -> impl Iterator<Item = &PageReference> {
    a.references.iter().filter(|r| {
        (r.kind == PageReferenceKind::ContinuedOn as i32
            || r.kind == PageReferenceKind::ContinuedFrom as i32)
            && r.article_id.is_empty()
    })
}

/// Whether `article_id` is still a half without a partner in this snapshot.
pub fn is_unresolved(index: &IssueIndex, records: &Records, article_id: &str) -> bool {
    let composed = compose(index, records);
    if let Some(c) = composed.articles.get(article_id) {
        return c.article.stitched_into.is_empty() && has_unresolved(&c.article);
    }
    matching::visible(index, records)
        .flat_map(|(_, p)| &p.articles)
        .any(|a| a.id == article_id && has_unresolved(a))
}

/// Articles not on the excluded page whose composed form differs between the snapshots, in
/// issue order; an article that lost every link goes back to its parsed form.
fn changed(
    before: &Composition,
    after: &Composition,
    index: &IssueIndex,
    records: &Records,
    include_page: impl Fn(u32) -> bool,
    revision: u64,
) -> Vec<Composed> {
    let mut out = Vec::new();
    for (&number, page) in matching::visible(index, records) {
        if !include_page(number) {
            continue;
        }
        for a in &page.articles {
            let (b, n) = (before.articles.get(&a.id), after.articles.get(&a.id));
            let now = match (b, n) {
                (None, None) => continue,
                (Some(b), Some(n)) if b == n => continue,
                (_, Some(n)) => n.clone(),
                (Some(_), None) => Composed {
                    search: searchable(a, index.unresolved.contains_key(&a.id)),
                    article: a.clone(),
                },
            };
            let mut now = now;
            now.article.revision = revision;
            out.push(now);
        }
    }
    out
}

/// The composed form of every article another page touches, by id.
#[derive(Debug, Default)]
struct Composition {
    articles: BTreeMap<String, Composed>,
    stitched: usize,
    linked: usize,
}

fn compose(index: &IssueIndex, records: &Records) -> Composition {
    compose_with(index, records, &matching::links(index, records), None)
}

/// The articles whose composed form can differ with and without `page`: its own, every
/// article linked with one of them, and every part of their chains. Everything else is
/// composed from the same inputs either way.
fn affected(links: &Links, records: &Records, page: u32) -> BTreeSet<At> {
    let mut set: BTreeSet<At> = records
        .get(&page)
        .map(|p| (0..p.articles.len()).map(|i| (page, i)).collect())
        .unwrap_or_default();
    for (&a, &(_, b, _)) in &links.next {
        if a.0 == page || b.0 == page {
            set.extend([a, b]);
        }
    }
    for (&(src, _), &target) in &links.see_also {
        if src.0 == page || target.0 == page {
            set.extend([src, target]);
        }
    }
    let seeds: Vec<At> = set.iter().copied().collect();
    for at in seeds {
        set.extend(links.chain(links.head(at)));
    }
    set
}

/// Composes the articles other pages touch (only those in `scope`, when given).
fn compose_with(
    index: &IssueIndex,
    records: &Records,
    links: &Links,
    scope: Option<&BTreeSet<At>>,
) -> Composition {
    let article = |at: At| -> &Article { &records[&at.0].articles[at.1] };
    let mut out = Composition {
        linked: links.see_also.len(),
        ..Default::default()
    };
    for (&number, page) in matching::visible(index, records) {
        for (i, a) in page.articles.iter().enumerate() {
            let at = (number, i);
            if scope.is_some_and(|s| !s.contains(&at)) {
                continue;
            }
            let reported = index.unresolved.get(&a.id).copied();
            if !links.involves(at) && reported.is_none() {
                continue;
            }
            let mut contributors = BTreeSet::from([number]);
            let mut c = linked(index, records, links, at, &mut contributors);
            if links.prev.contains_key(&at) {
                c.stitched_into = article(links.head(at)).id.clone();
            } else if links.next.contains_key(&at) {
                let parts: Vec<Article> = links
                    .chain(at)
                    .into_iter()
                    .map(|p| linked(index, records, links, p, &mut contributors))
                    .collect();
                c = stitch(parts);
                out.stitched += 1;
            }
            if reported.is_some() && c.stitched_into.is_empty() && has_unresolved(&c) {
                c.warnings.push(Warning {
                    code: UNRESOLVED_JUMP.to_owned(),
                    message: format!(
                        "no partner for {} arrived within the stitch timeout",
                        unresolved_refs(&c)
                            .map(|r| format!("`{}`", r.text))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            let seqs: Vec<(u32, u64)> = contributors
                .iter()
                .map(|p| (*p, index.pages.get(p).map_or(0, |e| e.seq)))
                .collect();
            c.version = composed_version(&c, &seqs, reported);
            out.articles.insert(
                a.id.clone(),
                Composed {
                    search: searchable(&c, reported.is_some()),
                    article: c,
                },
            );
        }
    }
    out
}

/// The article at `at` with its references resolved: jump partners' and announced articles'
/// ids filled in, and a REFERRED_FROM reference for every pointer announcing it.
fn linked(
    index: &IssueIndex,
    records: &Records,
    links: &Links,
    at: At,
    contributors: &mut BTreeSet<u32>,
) -> Article {
    let article = |at: At| -> &Article { &records[&at.0].articles[at.1] };
    let mut a = article(at).clone();
    if let Some(&(k, next, _)) = links.next.get(&at) {
        a.references[k].article_id = article(next).id.clone();
        contributors.insert(next.0);
    }
    if let Some(&prev) = links.prev.get(&at) {
        let (_, _, l) = links.next[&prev];
        a.references[l].article_id = article(prev).id.clone();
        contributors.insert(prev.0);
    }
    for (&(src, k), &target) in links.see_also.range((at, 0)..=(at, usize::MAX)) {
        debug_assert_eq!(src, at);
        a.references[k].article_id = article(target).id.clone();
        contributors.insert(target.0);
    }
    if let Some(sources) = links.referred.get(&at) {
        for &src in sources {
            let s = article(src);
            let label = index
                .pages
                .get(&src.0)
                .map(|e| e.label.clone())
                .unwrap_or_default();
            a.references.push(PageReference {
                kind: PageReferenceKind::ReferredFrom as i32,
                page_number: src.0,
                page_label: label,
                text: s.headline.clone(),
                jump_word: String::new(),
                article_id: s.id.clone(),
            });
            contributors.insert(src.0);
        }
    }
    a
}

/// One article from its printed parts (each already linked), in reading order: the first
/// part's id, kind, headlines, dateline and position; every part's paragraphs, references,
/// credits, dates and warnings.
fn stitch(parts: Vec<Article>) -> Article {
    let mut parts = parts.into_iter();
    let mut s = parts.next().unwrap_or_default();
    s.parts.push(part_of(&s));
    for p in parts {
        s.parts.push(part_of(&p));
        s.paragraphs.extend(p.paragraphs);
        s.references.extend(p.references);
        for c in p.credits {
            if !s
                .credits
                .iter()
                .any(|x: &Credit| x.name == c.name && x.role == c.role)
            {
                s.credits.push(c);
            }
        }
        for d in p.dates {
            if !s.dates.contains(&d) {
                s.dates.push(d);
            }
        }
        for w in p.warnings {
            if !s.warnings.contains(&w) {
                s.warnings.push(w);
            }
        }
    }
    s.char_count = (s.headline.chars().count()
        + s.subheadlines
            .iter()
            .map(|x| x.chars().count())
            .sum::<usize>()
        + s.paragraphs
            .iter()
            .map(|x| x.chars().count())
            .sum::<usize>()) as u32;
    s
}

fn part_of(a: &Article) -> ArticlePart {
    ArticlePart {
        article_id: a.id.clone(),
        page: a.page.clone(),
        paragraph_count: a.paragraphs.len() as u32,
    }
}

/// Version of a composed article: its whole message (without version and revision) and the
/// registrations it was built from, so a corrected and then restored page never reuses an old
/// version's deduplication id.
fn composed_version(a: &Article, seqs: &[(u32, u64)], reported: Option<u64>) -> String {
    let mut copy = a.clone();
    copy.version.clear();
    copy.revision = 0;
    let mut buf = copy.encode_to_vec();
    for (page, seq) in seqs {
        buf.extend_from_slice(&page.to_le_bytes());
        buf.extend_from_slice(&seq.to_le_bytes());
    }
    buf.extend_from_slice(&reported.unwrap_or(0).to_le_bytes());
    blake3::hash(&buf).to_hex()[..16].to_owned()
}

#[cfg(test)]
mod tests;
