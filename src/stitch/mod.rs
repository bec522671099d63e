//! Cross-page references, resolved: jumped articles stitched into one, see-also pointers
//! (导读 teasers, a photo story's 详见05版) linked to the article they announce; and the
//! revisions and withdrawals that keep a subscriber's copy of an issue right whatever happens
//! to its pages.
//!
//! Pure, like the parser: no I/O, no clock, not async. The service keeps the state in a
//! JetStream key-value bucket (`service::stitcher`) and asks this module what to publish:
//!
//! - [`IssueIndex`] is the per-issue document, updated by compare-and-set. Every change to it
//!   (a page registered, a half reported unresolved) is a *step* with its own number, `seq`,
//!   higher than every earlier one: one more than the last, or the clock the shell passes in
//!   when that is higher ([`next_seq`]), so numbers keep growing when an expired index starts
//!   again.
//! - Every article carries as its `revision` the number of the step that last changed it as
//!   published (its text, a stitch, a link, a warning, a withdrawal). The index records these
//!   per page ([`PageEntry::revisions`]), so composing is a function of the index and the
//!   records: a message is the same bytes whoever composes it, from whichever later snapshot,
//!   and a revision names exactly one content. A step compares every article it can touch
//!   before and after it, and stamps the ones that changed.
//! - A page's *record* is its parsed articles ([`record_of`]), stored under the hash of its
//!   bytes: immutable, so any replica reads exactly what was registered. A page no cross-page
//!   reference connects ([`stores_record`]) may leave it where the shell can make it again
//!   ([`PageEntry::source_seq`]); the hash checks what is made.
//! - [`register`] is the step of a page arriving: what it changes, and the [`Plan`] of what to
//!   publish (the page's own articles, the withdrawals of articles the page no longer has, and
//!   every article elsewhere the step changed). A page registered again unchanged (a
//!   redelivery, a re-send) changes nothing and re-publishes the same messages. [`report`] is
//!   the step of a half whose partner did not arrive in time.
//!
//! Message ids carry the revision (`route`), so a change is never deduplicated against an
//! older state (a correction reverted is a new revision), while a redelivery or an identical
//! re-send repeats ids the broker already holds.

pub mod matching;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use prost::Message as _;
use serde::{Deserialize, Serialize};

use crate::proto::{
    Article, ArticlePart, Credit, Page, PageReference, PageReferenceKind, UnresolvedJump,
    UnresolvedReference, Warning,
};
use matching::{At, Links};

/// Code of the warning on a half whose partner did not arrive within the stitch timeout.
pub const UNRESOLVED_JUMP: &str = "unresolved_jump";
/// Code of the warning on an article whose see-also pointer found no target within the stitch
/// timeout.
pub const UNRESOLVED_REFERENCE: &str = "unresolved_reference";

/// The event of a report: what stayed unresolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Unresolved {
    /// Jumps without a partner.
    Jump(UnresolvedJump),
    /// See-also pointers without a target.
    Reference(UnresolvedReference),
}

/// The parsed pages of an issue, by page number, as stored in the bucket.
pub type Records = BTreeMap<u32, Arc<Record>>;

/// A page's record with what matching derives from it once (the units of every article's
/// title, opening and caption), so planning a registration compares sets instead of re-reading
/// the text of every page in the issue. Derefs to the page.
///
/// The units are derived the first time matching asks for them: most pages have no cross-page
/// reference and are named by none, and matching never looks at their articles.
#[derive(Debug, Clone)]
pub struct Record {
    /// The stored record.
    pub page: Page,
    units: std::sync::OnceLock<Vec<matching::Units>>,
}

impl Record {
    /// The record; its matching units are derived when first needed.
    pub fn new(page: Page) -> Record {
        Record {
            page,
            units: std::sync::OnceLock::new(),
        }
    }

    /// The matching units of every article, in order.
    pub(crate) fn units(&self) -> &[matching::Units] {
        self.units
            .get_or_init(|| self.page.articles.iter().map(matching::Units::of).collect())
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
    /// The number of the last step; the number of this snapshot.
    pub seq: u64,
    /// Registered pages by page number.
    pub pages: BTreeMap<u32, PageEntry>,
    /// Halves reported unresolved: article id → number of the report's step.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unresolved: BTreeMap<String, u64>,
}

/// One registered page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageEntry {
    /// Hash of the page's record; the record's key ends with it.
    pub record: String,
    /// Number of the step that registered this record of the page.
    pub seq: u64,
    /// Page label as printed.
    pub label: String,
    /// Revisions of the page's articles other than `seq`, by ordinal: an article a correction
    /// left as it was keeps its revision, one that another page's registration or a report
    /// changed has that step's number (withdrawn ordinals included).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub revisions: BTreeMap<u32, u64>,
    /// The most articles any registered record of the page had: the ordinals above the
    /// current record's last one, up to this, are withdrawn.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub high: u32,
    /// Ordinals whose message of the current revision goes to search although the article is
    /// not searchable now: it was, and this message takes it out ([`ToSearch`]).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub unsearched: BTreeSet<u32>,
    /// The pages the record's cross-page references name ([`targets_of`]): what the shell
    /// reads records by ([`connected`]) without reading them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    /// Whether `targets` was recorded: false in an index an older version wrote, whose pages
    /// are then read for every step of the issue.
    #[serde(default)]
    pub targets_known: bool,
    /// Where the record is when it was not put in the bucket: the stream sequence of the
    /// page's message in the input stream, which the shell parses again into the record (its
    /// hash, `record`, checks the result) when a step needs it ([`stores_record`]). 0: the
    /// record is in the bucket.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub source_seq: u64,
}

/// The page a cross-page reference names, as printed.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Target {
    /// Page number, 0 when only a label was printed.
    pub page_number: u32,
    /// Page label as printed.
    pub page_label: String,
}

/// The pages `page`'s cross-page references (jumps either way, see-also pointers) name, each
/// once.
pub fn targets_of(page: &Page) -> Vec<Target> {
    let cross = [
        PageReferenceKind::ContinuedOn as i32,
        PageReferenceKind::ContinuedFrom as i32,
        PageReferenceKind::SeeAlso as i32,
    ];
    let set: BTreeSet<Target> = page
        .articles
        .iter()
        .flat_map(|a| &a.references)
        .filter(|r| cross.contains(&r.kind))
        .map(|r| Target {
            page_number: r.page_number,
            page_label: r.page_label.clone(),
        })
        .collect();
    set.into_iter().collect()
}

/// The pages a step on `seeds` must have the records of: the seeds and every page connected to
/// them through cross-page references, in either direction and through other pages, as any of
/// `indexes` resolves the references. Whatever a step composes, compares or publishes lies in
/// there: links are made between two pages at a time, and a stitch or a see-also target
/// gathers only pages linked to it. Every other page is composed from the same record and the
/// same links before and after the step, so the step does not read it; an issue whose pages
/// have no cross-page references costs one record per step, however many pages it has.
pub fn connected(indexes: &[&IssueIndex], seeds: impl IntoIterator<Item = u32>) -> BTreeSet<u32> {
    let mut out: BTreeSet<u32> = seeds.into_iter().collect();
    if indexes
        .iter()
        .any(|i| i.pages.values().any(|e| !e.targets_known))
    {
        out.extend(indexes.iter().flat_map(|i| i.pages.keys().copied()));
        return out;
    }
    let mut edges: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    for index in indexes {
        for (&n, e) in &index.pages {
            for t in &e.targets {
                if let Some(m) = matching::resolve(index, t.page_number, &t.page_label, n) {
                    edges.entry(n).or_default().insert(m);
                    edges.entry(m).or_default().insert(n);
                }
            }
        }
    }
    let mut todo: Vec<u32> = out.iter().copied().collect();
    while let Some(n) = todo.pop() {
        for &m in edges.get(&n).into_iter().flatten() {
            if out.insert(m) {
                todo.push(m);
            }
        }
    }
    out
}

/// The pages whose records [`register`] needs to register `record` as page `page` (label
/// `label`) in `prev`: [`connected`] to the page before or after it.
pub fn reads_for_page(prev: &IssueIndex, page: u32, label: &str, record: &Page) -> BTreeSet<u32> {
    let mut after = IssueIndex {
        seq: prev.seq,
        pages: prev.pages.clone(),
        unresolved: BTreeMap::new(),
    };
    let entry = after.pages.entry(page).or_default();
    entry.label = label.to_owned();
    entry.targets = targets_of(record);
    entry.targets_known = true;
    connected(&[prev, &after], [page])
}

/// The pages whose records [`report`] and [`is_unresolved`] need for `article_id` (whose id
/// ends in its page number and ordinal): [`connected`] to its page.
pub fn reads_for_article(index: &IssueIndex, article_id: &str) -> BTreeSet<u32> {
    match article_id.rsplit('/').nth(1).and_then(|n| n.parse().ok()) {
        Some(page) => connected(&[index], [page]),
        None => index.pages.keys().copied().collect(),
    }
}

impl IssueIndex {
    /// The index as stored: protobuf ([`crate::proto::StitchIndex`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        use crate::proto::{StitchIndex, StitchPage, StitchTarget};
        let pages = self
            .pages
            .iter()
            .map(|(&n, e)| {
                let page = StitchPage {
                    record: e.record.clone(),
                    seq: e.seq,
                    page_label: e.label.clone(),
                    revisions: e.revisions.clone(),
                    high: e.high,
                    unsearched: e.unsearched.iter().copied().collect(),
                    targets: e
                        .targets
                        .iter()
                        .map(|t| StitchTarget {
                            page_number: t.page_number,
                            page_label: t.page_label.clone(),
                        })
                        .collect(),
                    targets_known: e.targets_known,
                    source_seq: e.source_seq,
                };
                (n, page)
            })
            .collect();
        StitchIndex {
            seq: self.seq,
            pages,
            unresolved: self.unresolved.clone(),
        }
        .encode_to_vec()
    }

    /// An index as stored: protobuf, or the JSON that versions before it wrote (an index lives
    /// for `stitch.retention`, so a rolling update meets both).
    pub fn from_bytes(bytes: &[u8]) -> Result<IssueIndex, String> {
        if bytes.first() == Some(&b'{') {
            return serde_json::from_slice(bytes).map_err(|e| e.to_string());
        }
        let stored = crate::proto::StitchIndex::decode(bytes).map_err(|e| e.to_string())?;
        let pages = stored
            .pages
            .into_iter()
            .map(|(n, p)| {
                let entry = PageEntry {
                    record: p.record,
                    seq: p.seq,
                    label: p.page_label,
                    revisions: p.revisions,
                    high: p.high,
                    unsearched: p.unsearched.into_iter().collect(),
                    targets: p
                        .targets
                        .into_iter()
                        .map(|t| Target {
                            page_number: t.page_number,
                            page_label: t.page_label,
                        })
                        .collect(),
                    targets_known: p.targets_known,
                    source_seq: p.source_seq,
                };
                (n, entry)
            })
            .collect();
        Ok(IssueIndex {
            seq: stored.seq,
            pages,
            unresolved: stored.unresolved,
        })
    }
}

fn is_zero<T: Default + PartialEq>(n: &T) -> bool {
    *n == T::default()
}

/// Whether page `page`'s record must be in the bucket, as `index` (where it is registered)
/// stands: when the page has cross-page references of its own, or a reference of another
/// page names it ([`connected`] to any other page). Such a record is read by its neighbours'
/// steps; any other page's record is read by no step but a correction of the page, and may
/// stay where it came from ([`PageEntry::source_seq`]). An index an older version wrote
/// (targets unknown) connects every page: every record is stored.
pub fn stores_record(index: &IssueIndex, page: u32) -> bool {
    let Some(entry) = index.pages.get(&page) else {
        return true;
    };
    !entry.targets.is_empty() || connected(&[index], [page]).len() > 1
}

impl PageEntry {
    /// The revision of the article at `ordinal`.
    pub fn revision(&self, ordinal: u32) -> u64 {
        self.revisions.get(&ordinal).copied().unwrap_or(self.seq)
    }
}

/// The issue already has the most pages stitching follows; the page is published as parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("issue already has {0} registered pages; stitching skipped for this page")]
pub struct IssueFull(pub usize);

/// The number of the step after `last`: one more, or `now` (the shell's clock, microseconds
/// since the Unix epoch; 0 in tests) when that is higher. An issue's index expires after
/// `stitch.retention`; the next one starts from the clock, above every number the old one
/// handed out as long as the clocks of the replicas differ by less than the retention.
pub fn next_seq(last: u64, now: u64) -> u64 {
    last.saturating_add(1).max(now)
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

/// What the search topic receives of an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToSearch {
    /// Nothing: search never had it (teasers, continuations waiting for their head).
    Skip,
    /// The article (a later part of a stitch says so with `stitched_into`, which withdraws it).
    Article,
    /// A withdrawal ([`withdrawal_of`]): it was in search and no longer belongs there.
    Withdrawal,
}

/// An article as it should be published now, and what search gets of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Composed {
    /// The article, `revision` set.
    pub article: Article,
    /// What the search topic receives.
    pub search: ToSearch,
}

impl Composed {
    /// The message for the search topic, if any.
    pub fn search_article(&self) -> Option<Article> {
        match self.search {
            ToSearch::Skip => None,
            ToSearch::Article => Some(self.article.clone()),
            ToSearch::Withdrawal => Some(withdrawal_of(&self.article)),
        }
    }
}

/// The withdrawal of `a`'s id at `a`'s revision: id, position, `withdrawn`, and a version
/// hashing that.
pub fn withdrawal_of(a: &Article) -> Article {
    let mut w = Article {
        id: a.id.clone(),
        page: a.page.clone(),
        withdrawn: true,
        ..Default::default()
    };
    w.version = content_version(&w);
    w.revision = a.revision;
    w
}

/// What to publish for one step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// The step's number.
    pub revision: u64,
    /// The page's own articles, in reading order, each at its revision (an article a
    /// correction left unchanged keeps its earlier one).
    pub own: Vec<Composed>,
    /// The page's withdrawn ordinals, then every article elsewhere in the issue this step
    /// changed.
    pub updates: Vec<Composed>,
    /// Ids of halves without a partner among the messages above, not yet reported: their
    /// timers start now.
    pub pending: Vec<String>,
    /// Stitched articles made by this step (for the metrics).
    pub stitched: usize,
    /// See-also links made by this step.
    pub linked: usize,
}

/// A registration's outcome: the index to write and what to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The index after the step; the one it started from when nothing changed.
    pub index: IssueIndex,
    /// Whether the index changed (and must be written by compare-and-set).
    pub changed: bool,
    /// What to publish.
    pub plan: Plan,
}

/// Whether search receives an article: searchable kinds, except continuations waiting for the
/// part before them and later parts of stitched articles, which search gets only once the
/// article was reported unresolved (then as itself, and after a late stitch as a withdrawal).
pub fn searchable(a: &Article, reported: bool) -> bool {
    if a.withdrawn {
        return true;
    }
    let waiting = a
        .references
        .iter()
        .any(|r| r.kind == PageReferenceKind::ContinuedFrom as i32 && r.article_id.is_empty());
    if !a.stitched_into.is_empty() || waiting {
        return reported;
    }
    crate::topic::is_searchable(a.kind)
}

/// The step of `page` arriving with the record `record` (hash `hash`, label `label`) in the
/// issue whose index is `prev` and whose records are `prev_records` (the page's earlier record
/// included, when it had one). `now` is the shell's clock ([`next_seq`]).
///
/// A page registered again with the same record changes nothing: the plan repeats the
/// messages of its registration ([`replay_page`]). A changed record (a correction) is a new
/// step: the page's articles that changed get its number, unchanged ones keep theirs, ordinals
/// the page no longer has are withdrawn, and every article elsewhere whose composed form
/// changed (a stitch made or undone, a link moved) gets the new number too.
#[allow(clippy::too_many_arguments)]
pub fn register(
    prev: &IssueIndex,
    prev_records: &Records,
    page: u32,
    label: &str,
    hash: &str,
    record: Arc<Record>,
    max_pages: usize,
    now: u64,
) -> Result<Step, IssueFull> {
    let mut index = prev.clone();
    let (changed, plan) = register_in(
        &mut index,
        prev_records,
        page,
        label,
        hash,
        record,
        max_pages,
        now,
    )?;
    Ok(Step {
        index,
        changed,
        plan,
    })
}

/// [`register`] on the index in place: `index` becomes the step's index (it is left as it was
/// when nothing changes, on [`IssueFull`] and when the step panics); returns whether it
/// changed and the plan. A page that no cross-page reference connects, most pages of an
/// issue, costs its entry and its own articles: the index is not copied and the issue's links
/// are not matched.
#[allow(clippy::too_many_arguments)]
pub fn register_in(
    index: &mut IssueIndex,
    prev_records: &Records,
    page: u32,
    label: &str,
    hash: &str,
    record: Arc<Record>,
    max_pages: usize,
    now: u64,
) -> Result<(bool, Plan), IssueFull> {
    let mut records = prev_records.clone();
    let count = record.articles.len() as u32;
    let targets = targets_of(&record.page);
    records.insert(page, record);
    let old = index.pages.get(&page);
    match old {
        Some(e) if e.record == hash => return Ok((false, replay_page(index, &records, page))),
        None if index.pages.len() >= max_pages => return Err(IssueFull(index.pages.len())),
        _ => {}
    }
    let seq = next_seq(index.seq, now);
    let old_count = old
        .and(prev_records.get(&page))
        .map_or(0, |r| r.articles.len() as u32);
    let entry = PageEntry {
        record: hash.to_owned(),
        seq,
        label: label.to_owned(),
        revisions: BTreeMap::new(),
        high: old.map_or(0, |e| e.high).max(old_count).max(count),
        unsearched: BTreeSet::new(),
        targets,
        targets_known: true,
        // The shell says where the record is ([`stores_record`]).
        source_seq: 0,
    };
    if old.is_none() && entry.targets.is_empty() {
        // Registered in place, and taken out again unless the page turns out unconnected (or
        // should planning panic).
        let mut undo = Undo {
            index,
            page,
            seq: None,
        };
        undo.seq = Some(std::mem::replace(&mut undo.index.seq, seq));
        undo.index.pages.insert(page, entry.clone());
        // Adding a page changes where a reference resolves only to the page itself
        // (`matching::resolve`), so the index with the page in is the one to ask.
        if connected(&[undo.index], [page]).len() == 1 {
            // Nothing links to the page or from it, so nothing else changes: its articles
            // are published as parsed at the step's number.
            let snap = Snapshot {
                index: undo.index,
                records: &records,
                comp: Composition::default(),
            };
            let plan = plan_for(undo.index, &snap, page, seq);
            #[cfg(debug_assertions)]
            {
                let mut prev = undo.index.clone();
                prev.pages.remove(&page);
                prev.seq = undo.seq.expect("set above");
                let full = register_linked(&prev, prev_records, &records, page, undo.index.clone());
                debug_assert_eq!(
                    full.index, *undo.index,
                    "the index of unconnected page {page}"
                );
                debug_assert_eq!(full.plan, plan, "the plan of unconnected page {page}");
            }
            undo.seq = None;
            return Ok((true, plan));
        }
    }
    let prev = index.clone();
    let mut next = prev.clone();
    next.seq = seq;
    next.pages.insert(page, entry);
    let step = register_linked(&prev, prev_records, &records, page, next);
    *index = step.index;
    Ok((step.changed, step.plan))
}

/// Takes a page's entry out of an index again and restores its step number, unless disarmed
/// (`seq` set to `None`): on the way out of [`register_in`]'s shortcut when the page is
/// connected after all, and when planning panics.
struct Undo<'a> {
    index: &'a mut IssueIndex,
    page: u32,
    seq: Option<u64>,
}

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        if let Some(seq) = self.seq {
            self.index.pages.remove(&self.page);
            self.index.seq = seq;
        }
    }
}

/// [`register`] of a page the issue's references connect to another (or a correction): the
/// issue composed before and after within what the page's links can change. `records` are
/// `prev_records` and the page's record; `next` is `prev` with the page's new entry, at the
/// step's number.
fn register_linked(
    prev: &IssueIndex,
    prev_records: &Records,
    records: &Records,
    page: u32,
    mut next: IssueIndex,
) -> Step {
    let seq = next.seq;
    let old = prev.pages.get(&page);
    let old_count = old
        .and(prev_records.get(&page))
        .map_or(0, |r| r.articles.len() as u32);
    let count = records.get(&page).map_or(0, |r| r.articles.len() as u32);
    let shape = next.clone();
    let links_after = matching::links(&shape, records);
    // A new page's links are most of the difference: the links before are those after
    // without it, when that is exact; otherwise (a correction, colliding labels) they are
    // matched anew.
    let carried = match old {
        None => links_after.before_new_page(prev, &shape, prev_records, page),
        Some(_) => None,
    };
    let links_before = match carried {
        Some(links) => {
            debug_assert_eq!(
                links,
                matching::links(prev, prev_records),
                "links before page {page}"
            );
            links
        }
        None => matching::links(prev, prev_records),
    };
    let scope = changed_scope(&links_before, &links_after, page, old_count.max(count));
    let before = Snapshot::with(prev, prev_records, &links_before, Some(&scope));
    let after = Snapshot::with(&shape, records, &links_after, Some(&scope));
    // The page's own ordinals: kept as they were, or new at this step.
    for ordinal in 1..=after.ordinals(page) {
        let (b, a) = (before.form(page, ordinal), after.form(page, ordinal));
        let Some(a) = a else { continue };
        let entry = next.pages.get_mut(&page).expect("just registered");
        match (b, old) {
            (Some(b), Some(old)) if b == a => {
                let kept = old.revision(ordinal);
                if kept != seq {
                    entry.revisions.insert(ordinal, kept);
                }
                if old.unsearched.contains(&ordinal) {
                    entry.unsearched.insert(ordinal);
                }
            }
            (b, _) => {
                if leaves_search(b.as_ref(), &a) {
                    entry.unsearched.insert(ordinal);
                }
            }
        }
    }
    // Articles elsewhere that the page touches, before or after.
    stamp_changes(&mut next, &before, &after, |p| p != page, seq);
    let mut plan = plan_for(&next, &after, page, seq);
    plan.stitched = after.comp.stitched.saturating_sub(before.comp.stitched);
    plan.linked = after.comp.linked.saturating_sub(before.comp.linked);
    Step {
        index: next,
        changed: true,
        plan,
    }
}

/// What `page`'s registration published, composed again from `index` (where it is
/// registered, maybe with later steps after it): its own articles and withdrawals at their
/// revisions, and everything elsewhere that still carries the registration's number. A
/// redelivered page stores nothing new with this, whenever it comes back.
pub fn replay_page(index: &IssueIndex, records: &Records, page: u32) -> Plan {
    let snap = Snapshot::new(index, records);
    let seq = index.pages.get(&page).map_or(0, |e| e.seq);
    plan_for(index, &snap, page, seq)
}

/// A report's outcome: the index to write, what to publish and the event.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The index after the report; the one it started from when the half was reported before.
    pub index: IssueIndex,
    /// Whether the index changed (and must be written by compare-and-set).
    pub changed: bool,
    /// The articles the report changed (the half with its warning, a continuation released to
    /// search), at the report's revision.
    pub updates: Vec<Composed>,
    /// The events (jumps, see-also pointers: one of each at most), while the article is still
    /// in its reported state.
    pub events: Vec<Unresolved>,
}

/// The step of `article_id` being reported unresolved (its timer is due): a jump half without
/// its partner, or an article whose see-also pointer found no target. Reported before (a
/// redelivered timer): nothing changes and the report's messages are composed again.
pub fn report(prev: &IssueIndex, records: &Records, article_id: &str, now: u64) -> Report {
    if let Some(&seq) = prev.unresolved.get(article_id) {
        let snap = Snapshot::new(prev, records);
        return Report {
            index: prev.clone(),
            changed: false,
            updates: published_at(prev, &snap, seq, |_| true),
            events: events_for(prev, &snap, article_id, seq),
        };
    }
    let seq = next_seq(prev.seq, now);
    let mut next = prev.clone();
    next.seq = seq;
    next.unresolved.insert(article_id.to_owned(), seq);
    let before = Snapshot::new(prev, records);
    let shape = next.clone();
    let after = Snapshot::new(&shape, records);
    stamp_changes(&mut next, &before, &after, |_| true, seq);
    Report {
        updates: published_at(&next, &after, seq, |_| true),
        events: events_for(&next, &after, article_id, seq),
        index: next,
        changed: true,
    }
}

/// Whether the article (as parsed, or composed) still has a jump without a partner or a
/// see-also pointer without a target.
pub fn has_unresolved(a: &Article) -> bool {
    unresolved_jumps(a).next().is_some() || unresolved_pointers(a).next().is_some()
}

fn unresolved_jumps(a: &Article) -> impl Iterator<Item = &PageReference> {
    a.references.iter().filter(|r| {
        (r.kind == PageReferenceKind::ContinuedOn as i32
            || r.kind == PageReferenceKind::ContinuedFrom as i32)
            && r.article_id.is_empty()
    })
}

fn unresolved_pointers(a: &Article) -> impl Iterator<Item = &PageReference> {
    a.references
        .iter()
        .filter(|r| r.kind == PageReferenceKind::SeeAlso as i32 && r.article_id.is_empty())
}

/// Whether `article_id` is still a half without a partner (or a pointer without a target) in
/// this snapshot.
pub fn is_unresolved(index: &IssueIndex, records: &Records, article_id: &str) -> bool {
    let snap = Snapshot::new(index, records);
    let Some((page, ordinal)) = snap.find(article_id) else {
        return false;
    };
    snap.form(page, ordinal)
        .is_some_and(|f| is_open_half(&f.article))
}

/// A half without a partner: not part of a stitch, with a jump or a see-also pointer
/// unresolved.
fn is_open_half(a: &Article) -> bool {
    !a.withdrawn && a.stitched_into.is_empty() && has_unresolved(a)
}

/// An article as a snapshot composes it, before the revision: what two snapshots compare.
/// Borrowed from the composition or the record where it can be.
#[derive(Debug, Clone, PartialEq)]
struct Form<'a> {
    article: Cow<'a, Article>,
    searchable: bool,
}

/// The articles whose composed form the registration of `page` (whose records have up to
/// `len` articles) can change: the page's own, both ends of every link that involves the page
/// or that only one of the two snapshots has (a reference can resolve elsewhere when page
/// labels collide), and every part of their chains in either snapshot. Everything else is
/// composed from the same records and the same links either way.
fn changed_scope(before: &Links, after: &Links, page: u32, len: u32) -> BTreeSet<At> {
    let mut set: BTreeSet<At> = (0..len as usize).map(|i| (page, i)).collect();
    for (this, other) in [(before, after), (after, before)] {
        for (&a, &link) in &this.next {
            let (_, b, _) = link;
            if a.0 == page || b.0 == page || other.next.get(&a) != Some(&link) {
                set.extend([a, b]);
            }
        }
        for (&(src, k), &target) in &this.see_also {
            if src.0 == page || target.0 == page || other.see_also.get(&(src, k)) != Some(&target) {
                set.extend([src, target]);
            }
        }
    }
    let seeds: Vec<At> = set.iter().copied().collect();
    for links in [before, after] {
        for &at in &seeds {
            set.extend(links.chain(links.head(at)));
        }
    }
    set
}

/// One snapshot of an issue, composed: the links between its pages and the composed form of
/// every article another page touches (within a scope, when one is given: then only forms in
/// it may be asked for).
struct Snapshot<'a> {
    index: &'a IssueIndex,
    records: &'a Records,
    comp: Composition,
}

impl<'a> Snapshot<'a> {
    fn new(index: &'a IssueIndex, records: &'a Records) -> Self {
        let links = matching::links(index, records);
        Self::with(index, records, &links, None)
    }

    fn with(
        index: &'a IssueIndex,
        records: &'a Records,
        links: &Links,
        scope: Option<&BTreeSet<At>>,
    ) -> Self {
        Snapshot {
            index,
            records,
            comp: compose_with(index, records, links, scope),
        }
    }

    /// Ordinals the page has had: its articles and its withdrawn ones (0 while its record is
    /// not at hand).
    fn ordinals(&self, page: u32) -> u32 {
        match (self.index.pages.get(&page), self.records.get(&page)) {
            (Some(e), Some(r)) => e.high.max(r.articles.len() as u32),
            _ => 0,
        }
    }

    /// The article at `ordinal` of `page` as published in this snapshot: composed, as parsed,
    /// or withdrawn; `None` for an ordinal the page never had or a page without its record.
    fn form(&self, page: u32, ordinal: u32) -> Option<Form<'_>> {
        let entry = self.index.pages.get(&page)?;
        let record = self.records.get(&page)?;
        let count = record.articles.len() as u32;
        if (1..=count).contains(&ordinal) {
            if let Some((a, searchable)) = self.comp.forms.get(&(page, ordinal)) {
                return Some(Form {
                    article: Cow::Borrowed(a),
                    searchable: *searchable,
                });
            }
            let a = &record.articles[ordinal as usize - 1];
            return Some(Form {
                searchable: searchable(a, false),
                article: Cow::Borrowed(a),
            });
        }
        if ordinal > count && ordinal <= entry.high {
            let mut position = record.page.page.clone().unwrap_or_default();
            position.ordinal = ordinal;
            let edition = if position.edition.is_empty() {
                "main"
            } else {
                position.edition.as_str()
            };
            let id = format!(
                "{}/{}/{edition}/{}/{ordinal}",
                position.publication, position.issue_date, position.page_number
            );
            let stub = Article {
                id,
                page: Some(position),
                ..Default::default()
            };
            return Some(Form {
                article: Cow::Owned(withdrawal_of(&stub)),
                searchable: true,
            });
        }
        None
    }

    /// Page and ordinal of the article `id`, among the pages at hand.
    fn find(&self, id: &str) -> Option<(u32, u32)> {
        matching::visible(self.index, self.records).find_map(|(&n, p)| {
            p.articles
                .iter()
                .position(|a| a.id == id)
                .map(|i| (n, i as u32 + 1))
        })
    }
}

/// Whether an article that was in search (`before`) is not now, so that this message must
/// take it out.
fn leaves_search(before: Option<&Form<'_>>, after: &Form<'_>) -> bool {
    before.is_some_and(|b| b.searchable) && !after.searchable
}

/// Gives every article of the pages `include` selects whose form differs between the
/// snapshots the revision `seq` in `next`. Only articles another page touches (in either
/// snapshot's composition) can differ: everything else is its page's record, the same in both.
fn stamp_changes(
    next: &mut IssueIndex,
    before: &Snapshot<'_>,
    after: &Snapshot<'_>,
    include: impl Fn(u32) -> bool,
    seq: u64,
) {
    let touched: BTreeSet<(u32, u32)> = before
        .comp
        .forms
        .keys()
        .chain(after.comp.forms.keys())
        .copied()
        .filter(|(p, _)| include(*p))
        .collect();
    for (page, ordinal) in touched {
        let (b, a) = (before.form(page, ordinal), after.form(page, ordinal));
        let Some(a) = a else { continue };
        if b.as_ref() == Some(&a) {
            continue;
        }
        let Some(entry) = next.pages.get_mut(&page) else {
            continue;
        };
        entry.revisions.insert(ordinal, seq);
        if leaves_search(b.as_ref(), &a) {
            entry.unsearched.insert(ordinal);
        } else {
            entry.unsearched.remove(&ordinal);
        }
    }
}

/// The message of the article at `ordinal` of `page`, at its revision.
fn publish(index: &IssueIndex, snap: &Snapshot<'_>, page: u32, ordinal: u32) -> Option<Composed> {
    let entry = index.pages.get(&page)?;
    let form = snap.form(page, ordinal)?;
    let mut article = form.article.into_owned();
    article.revision = entry.revision(ordinal);
    let search = if form.searchable {
        ToSearch::Article
    } else if entry.unsearched.contains(&ordinal) {
        if article.stitched_into.is_empty() {
            ToSearch::Withdrawal
        } else {
            ToSearch::Article
        }
    } else {
        ToSearch::Skip
    };
    Some(Composed { article, search })
}

/// Every article of the pages `include` selects whose revision is `seq`, in issue order.
fn published_at(
    index: &IssueIndex,
    snap: &Snapshot<'_>,
    seq: u64,
    include: impl Fn(u32) -> bool,
) -> Vec<Composed> {
    let mut out = Vec::new();
    for (&page, entry) in &index.pages {
        if !include(page) {
            continue;
        }
        for ordinal in 1..=snap.ordinals(page) {
            if entry.revision(ordinal) == seq {
                out.extend(publish(index, snap, page, ordinal));
            }
        }
    }
    out
}

/// The plan of `page`'s registration at `seq`: its articles, its withdrawals, and what the
/// step changed elsewhere.
fn plan_for(index: &IssueIndex, snap: &Snapshot<'_>, page: u32, seq: u64) -> Plan {
    let mut plan = Plan {
        revision: seq,
        ..Default::default()
    };
    let count = snap
        .records
        .get(&page)
        .map_or(0, |r| r.articles.len() as u32);
    for ordinal in 1..=snap.ordinals(page) {
        if let Some(c) = publish(index, snap, page, ordinal) {
            if ordinal <= count {
                plan.own.push(c);
            } else {
                plan.updates.push(c);
            }
        }
    }
    plan.updates
        .extend(published_at(index, snap, seq, |p| p != page));
    plan.pending = plan
        .own
        .iter()
        .chain(&plan.updates)
        .map(|c| &c.article)
        .filter(|a| is_open_half(a) && !index.unresolved.contains_key(&a.id))
        .map(|a| a.id.clone())
        .collect();
    plan
}

/// The events of `article_id`'s report at `seq`, while the article is still as reported: one
/// for its unresolved jumps, one for its unresolved see-also pointers.
fn events_for(
    index: &IssueIndex,
    snap: &Snapshot<'_>,
    article_id: &str,
    seq: u64,
) -> Vec<Unresolved> {
    let Some((page, ordinal)) = snap.find(article_id) else {
        return Vec::new();
    };
    let Some(c) = publish(index, snap, page, ordinal) else {
        return Vec::new();
    };
    let a = &c.article;
    if a.revision != seq || !is_open_half(a) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let jumps: Vec<PageReference> = unresolved_jumps(a).cloned().collect();
    if !jumps.is_empty() {
        out.push(Unresolved::Jump(UnresolvedJump {
            article_id: a.id.clone(),
            article_version: a.version.clone(),
            page: a.page.clone(),
            references: jumps,
            revision: seq,
            headline: a.headline.clone(),
        }));
    }
    let pointers: Vec<PageReference> = unresolved_pointers(a).cloned().collect();
    if !pointers.is_empty() {
        out.push(Unresolved::Reference(UnresolvedReference {
            article_id: a.id.clone(),
            article_version: a.version.clone(),
            page: a.page.clone(),
            references: pointers,
            revision: seq,
            headline: a.headline.clone(),
        }));
    }
    out
}

/// The composed form of every article another page touches (or that was reported), by page
/// and ordinal: the article and whether search receives it.
#[derive(Debug, Default)]
struct Composition {
    forms: BTreeMap<(u32, u32), (Article, bool)>,
    stitched: usize,
    linked: usize,
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
            let reported = index.unresolved.contains_key(&a.id);
            if !links.involves(at) && !reported {
                continue;
            }
            let mut c = linked(index, records, links, at);
            if links.prev.contains_key(&at) {
                c.stitched_into = article(links.head(at)).id.clone();
            } else if links.next.contains_key(&at) {
                let parts: Vec<Article> = links
                    .chain(at)
                    .into_iter()
                    .map(|p| linked(index, records, links, p))
                    .collect();
                c = stitch(parts);
                out.stitched += 1;
            }
            if reported && is_open_half(&c) {
                let quoted = |refs: Vec<&PageReference>| {
                    refs.iter()
                        .map(|r| format!("`{}`", r.text))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let jumps = quoted(unresolved_jumps(&c).collect());
                let pointers = quoted(unresolved_pointers(&c).collect());
                if !jumps.is_empty() {
                    c.warnings.push(Warning {
                        code: UNRESOLVED_JUMP.to_owned(),
                        message: format!(
                            "no partner for {jumps} arrived within the stitch timeout"
                        ),
                    });
                }
                if !pointers.is_empty() {
                    c.warnings.push(Warning {
                        code: UNRESOLVED_REFERENCE.to_owned(),
                        message: format!(
                            "no article matching {pointers} arrived within the stitch timeout"
                        ),
                    });
                }
            }
            if c != *a {
                c.version = content_version(&c);
            }
            let search = searchable(&c, reported);
            out.forms.insert((number, i as u32 + 1), (c, search));
        }
    }
    out
}

/// The article at `at` with its references resolved: jump partners' and announced articles'
/// ids filled in, and a REFERRED_FROM reference for every pointer announcing it.
fn linked(index: &IssueIndex, records: &Records, links: &Links, at: At) -> Article {
    let article = |at: At| -> &Article { &records[&at.0].articles[at.1] };
    let mut a = article(at).clone();
    if let Some(&(k, next, _)) = links.next.get(&at) {
        a.references[k].article_id = article(next).id.clone();
    }
    if let Some(&prev) = links.prev.get(&at) {
        let (_, _, l) = links.next[&prev];
        a.references[l].article_id = article(prev).id.clone();
    }
    for (&(src, k), &target) in links.see_also.range((at, 0)..=(at, usize::MAX)) {
        debug_assert_eq!(src, at);
        a.references[k].article_id = article(target).id.clone();
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

/// Version of a message pagewire composed (or a withdrawal): its content without version and
/// revision, so equal versions mean equal content. Which state of the article it is, the
/// revision says.
fn content_version(a: &Article) -> String {
    let mut copy = a.clone();
    copy.version.clear();
    copy.revision = 0;
    blake3::hash(&copy.encode_to_vec()).to_hex()[..16].to_owned()
}

#[cfg(test)]
mod tests;
