//! Who points at whom: jump halves paired across two pages, see-also pointers matched to the
//! article they announce. Pure; the rules are documented in README ("Cross-page references").

use std::collections::{BTreeMap, BTreeSet};

use crate::proto::{Article, ArticleKind, PageReference, PageReferenceKind};

use super::{IssueIndex, Record, Records};

/// An article's place in an issue: page number and index in that page's articles.
pub type At = (u32, usize);

/// Jump pairs below this headline similarity (Dice over character bigrams and words) are left
/// to reading order.
pub const HEADLINE_MATCH: f64 = 0.3;
/// A see-also pointer links to the best article on its target page only if at least this share
/// of the pointer's words (bigrams) appear in the article's headline and opening.
pub const TEASER_MATCH: f64 = 0.2;
/// ... and at least this many of them.
pub const TEASER_MIN_SHARED: usize = 2;

/// The resolved references of an issue.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Links {
    /// Earlier part → (its CONTINUED_ON reference index, later part, the later part's
    /// CONTINUED_FROM reference index).
    pub next: BTreeMap<At, (usize, At, usize)>,
    /// Later part → earlier part.
    pub prev: BTreeMap<At, At>,
    /// (pointing article, its SEE_ALSO reference index) → the article it announces.
    pub see_also: BTreeMap<(At, usize), At>,
    /// Announced article → the articles pointing at it, in issue order.
    pub referred: BTreeMap<At, Vec<At>>,
}

impl Links {
    /// Whether anything across pages involves the article.
    pub fn involves(&self, at: At) -> bool {
        self.next.contains_key(&at)
            || self.prev.contains_key(&at)
            || self.referred.contains_key(&at)
            || self
                .see_also
                .range((at, 0)..=(at, usize::MAX))
                .next()
                .is_some()
    }

    /// The first part of the chain `at` belongs to.
    pub fn head(&self, mut at: At) -> At {
        let mut seen = BTreeSet::new();
        while let Some(&p) = self.prev.get(&at) {
            if !seen.insert(at) {
                break;
            }
            at = p;
        }
        at
    }

    /// The chain starting at `head`, in reading order (cycles cut).
    pub fn chain(&self, head: At) -> Vec<At> {
        let mut parts = vec![head];
        let mut at = head;
        while let Some(&(_, next, _)) = self.next.get(&at) {
            if parts.contains(&next) {
                break;
            }
            parts.push(next);
            at = next;
        }
        parts
    }
}

fn kind(r: &PageReference) -> PageReferenceKind {
    PageReferenceKind::try_from(r.kind).unwrap_or_default()
}

/// `A06` → `A6`, `05` → `5`, ` b 3 ` → `B3`.
pub fn normalize_label(label: &str) -> String {
    let upper: String = label
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    let letters: String = upper.chars().take_while(|c| !c.is_ascii_digit()).collect();
    let digits = upper[letters.len()..].trim_start_matches('0');
    let digits = if digits.is_empty() && upper.len() > letters.len() {
        "0"
    } else {
        digits
    };
    format!("{letters}{digits}")
}

/// The registered page a reference printed on `from` points to.
pub fn target_page(index: &IssueIndex, r: &PageReference, from: u32) -> Option<u32> {
    resolve(index, r.page_number, &r.page_label, from)
}

/// The registered page that page number `page_number` (0: none printed) or label `page_label`,
/// printed on `from`, names.
pub fn resolve(index: &IssueIndex, page_number: u32, page_label: &str, from: u32) -> Option<u32> {
    let label = normalize_label(page_label);
    let number = if page_number > 0 {
        Some(page_number)
    } else {
        None
    };
    if let Some(n) = number {
        if n != from && index.pages.contains_key(&n) {
            return Some(n);
        }
    }
    index
        .pages
        .iter()
        .filter(|(n, _)| **n != from)
        .find(|(_, e)| {
            let own = normalize_label(&e.label);
            own == label || number.is_some_and(|n| own == n.to_string())
        })
        .map(|(n, _)| *n)
}

/// One side of a jump, for pairing.
struct Half<'a> {
    at: At,
    reference: usize,
    jump_word: &'a str,
    title: &'a Grams,
}

/// What matching compares of one article, derived once per record.
#[derive(Debug, Clone, Default)]
pub struct Units {
    /// Headline and subheadlines (jump pairing).
    title: Grams,
    /// As a see-also target: headline, subheadlines and opening; `None` for articles that are
    /// never targets (teasers, and continuations, which start elsewhere).
    candidate: Option<Grams>,
    /// As a see-also pointer: title and caption.
    source: Grams,
}

impl Units {
    /// The units of `a`.
    pub fn of(a: &Article) -> Units {
        let mut source = String::new();
        source.push_str(&a.headline);
        for s in &a.subheadlines {
            source.push(' ');
            source.push_str(s);
        }
        let points = a
            .references
            .iter()
            .any(|r| kind(r) == PageReferenceKind::SeeAlso);
        if points {
            for p in &a.paragraphs {
                source.push(' ');
                source.push_str(prefix(p, 300));
            }
        }
        Units {
            title: Grams::of_title(a),
            candidate: candidate_units(a),
            source: if points {
                Grams::of(&source)
            } else {
                Grams::default()
            },
        }
    }
}

/// Every link between the registered pages that have records.
pub fn links(index: &IssueIndex, records: &Records) -> Links {
    let mut out = Links::default();
    // (earlier page, later page) → halves on each side
    let mut outs: BTreeMap<(u32, u32), Vec<Half<'_>>> = BTreeMap::new();
    let mut ins: BTreeMap<(u32, u32), Vec<Half<'_>>> = BTreeMap::new();
    let mut pointers: Vec<(At, usize, u32)> = Vec::new();
    for (&number, record) in visible_records(index, records) {
        for (i, a) in record.articles.iter().enumerate() {
            for (k, r) in a.references.iter().enumerate() {
                let Some(target) = target_page(index, r, number) else {
                    continue;
                };
                let half = || Half {
                    at: (number, i),
                    reference: k,
                    jump_word: &r.jump_word,
                    title: &record.units()[i].title,
                };
                match kind(r) {
                    PageReferenceKind::ContinuedOn => {
                        outs.entry((number, target)).or_default().push(half())
                    }
                    PageReferenceKind::ContinuedFrom => {
                        ins.entry((target, number)).or_default().push(half())
                    }
                    PageReferenceKind::SeeAlso => pointers.push(((number, i), k, target)),
                    _ => {}
                }
            }
        }
    }
    for (pages, earlier) in &outs {
        let Some(later) = ins.get(pages) else {
            continue;
        };
        for (i, j) in pair_jumps(earlier, later) {
            let (e, l) = (&earlier[i], &later[j]);
            // A part continues one article and is continued by one: first pairing wins.
            if out.next.contains_key(&e.at) || out.prev.contains_key(&l.at) {
                continue;
            }
            out.next.insert(e.at, (e.reference, l.at, l.reference));
            out.prev.insert(l.at, e.at);
        }
    }
    for (at, k, target) in pointers {
        // A registered page whose record is gone (past retention) cannot be linked to.
        let Some(target_record) = records.get(&target) else {
            continue;
        };
        let source = &records[&at.0].units()[at.1].source;
        if let Some(best) = announced(source, target_record.units()) {
            out.see_also.insert((at, k), (target, best));
            out.referred.entry((target, best)).or_default().push(at);
        }
    }
    for sources in out.referred.values_mut() {
        sources.sort();
        sources.dedup();
    }
    out
}

impl Links {
    /// The links of the issue before `page` was first registered, from the links after
    /// (`self`, for `after`), when that is exact; `None` when they must be computed anew.
    ///
    /// Pairing is decided per pair of pages and a pointer's target per target page, so
    /// dropping the new page's links leaves the others as they were, unless (a) registering
    /// it moved a reference elsewhere that already had a target (page labels that collide,
    /// e.g. a page labelled `5` that is not page 5), or (b) an article has two jumps of one
    /// direction, so that pairing it with the new page could block its other pairing (the
    /// first pairing wins).
    pub fn before_new_page(
        &self,
        before: &IssueIndex,
        after: &IssueIndex,
        records: &Records,
        page: u32,
    ) -> Option<Links> {
        for (&number, record) in visible_records(before, records) {
            if number == page {
                continue;
            }
            for a in &record.articles {
                let mut jumps = [0u8; 2];
                for r in &a.references {
                    match kind(r) {
                        PageReferenceKind::ContinuedOn => jumps[0] += 1,
                        PageReferenceKind::ContinuedFrom => jumps[1] += 1,
                        _ => {}
                    }
                    let was = target_page(before, r, number);
                    if was.is_some() && was != target_page(after, r, number) {
                        return None;
                    }
                }
                if jumps.iter().any(|n| *n > 1) {
                    return None;
                }
            }
        }
        let keep = |at: &At| at.0 != page;
        let mut out = Links::default();
        for (a, (k, b, l)) in &self.next {
            if keep(a) && keep(b) {
                out.next.insert(*a, (*k, *b, *l));
                out.prev.insert(*b, *a);
            }
        }
        for ((src, k), target) in &self.see_also {
            if keep(src) && keep(target) {
                out.see_also.insert((*src, *k), *target);
                out.referred.entry(*target).or_default().push(*src);
            }
        }
        for sources in out.referred.values_mut() {
            sources.sort();
            sources.dedup();
        }
        Some(out)
    }
}

/// Registered pages whose records are at hand.
pub fn visible<'a>(
    index: &'a IssueIndex,
    records: &'a Records,
) -> impl Iterator<Item = (&'a u32, &'a crate::proto::Page)> {
    visible_records(index, records).map(|(n, r)| (n, &r.page))
}

fn visible_records<'a>(
    index: &'a IssueIndex,
    records: &'a Records,
) -> impl Iterator<Item = (&'a u32, &'a Record)> {
    index
        .pages
        .keys()
        .filter_map(move |n| records.get(n).map(|p| (n, p.as_ref())))
}

/// Pairs the jumps from one page to another: jump words first, then headline similarity, then
/// reading order among what is left. Returns (earlier index, later index) pairs.
fn pair_jumps(earlier: &[Half<'_>], later: &[Half<'_>]) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    let mut used_e = vec![false; earlier.len()];
    let mut used_l = vec![false; later.len()];
    // 1. jump words, exact, then within OCR distance
    for strict in [true, false] {
        for (i, e) in earlier.iter().enumerate() {
            if used_e[i] || e.jump_word.is_empty() {
                continue;
            }
            let found = later.iter().enumerate().find(|(j, l)| {
                !used_l[*j]
                    && !l.jump_word.is_empty()
                    && same_word(e.jump_word, l.jump_word, strict)
            });
            if let Some((j, _)) = found {
                used_e[i] = true;
                used_l[j] = true;
                pairs.push((i, j));
            }
        }
    }
    // 2. headline similarity, best pairs first
    let mut scored = Vec::new();
    for (i, e) in earlier.iter().enumerate() {
        for (j, l) in later.iter().enumerate() {
            if used_e[i] || used_l[j] || words_conflict(e, l) {
                continue;
            }
            let s = e.title.dice(l.title);
            if s >= HEADLINE_MATCH {
                scored.push((s, i, j));
            }
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    for (_, i, j) in scored {
        if !used_e[i] && !used_l[j] {
            used_e[i] = true;
            used_l[j] = true;
            pairs.push((i, j));
        }
    }
    // 3. reading order among the rest
    let rest_l: Vec<usize> = (0..later.len()).filter(|j| !used_l[*j]).collect();
    let mut rest_l = rest_l.into_iter();
    for i in (0..earlier.len()).filter(|i| !used_e[*i]) {
        let Some(j) = rest_l.next() else { break };
        if words_conflict(&earlier[i], &later[j]) {
            continue;
        }
        pairs.push((i, j));
    }
    pairs.sort();
    pairs
}

/// Both halves carry a jump word and the words differ: never the same article.
fn words_conflict(e: &Half<'_>, l: &Half<'_>) -> bool {
    !e.jump_word.is_empty()
        && !l.jump_word.is_empty()
        && !same_word(e.jump_word, l.jump_word, false)
}

/// Jump words compared as letters only, uppercase; loosely (one edit for words of four or more
/// letters, OCR's usual damage) unless `strict`.
fn same_word(a: &str, b: &str, strict: bool) -> bool {
    let norm = |s: &str| -> Vec<char> {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_uppercase)
            .map(|c| match c {
                '0' => 'O',
                '1' => 'I',
                '5' => 'S',
                c => c,
            })
            .collect()
    };
    let (a, b) = (norm(a), norm(b));
    if a == b {
        return !a.is_empty();
    }
    !strict && a.len().min(b.len()) >= 4 && edit_distance(&a, &b) <= 1
}

fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diag + usize::from(ca != cb));
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// What a see-also pointer is compared with: an article's headline, subheadlines and opening;
/// `None` for articles that are never targets (teasers, and continuations, which start
/// elsewhere).
fn candidate_units(c: &Article) -> Option<Grams> {
    if c.kind == ArticleKind::Teaser as i32
        || c.references
            .iter()
            .any(|r| kind(r) == PageReferenceKind::ContinuedFrom)
    {
        return None;
    }
    let mut text = String::new();
    text.push_str(&c.headline);
    for s in &c.subheadlines {
        text.push(' ');
        text.push_str(s);
    }
    for p in c.paragraphs.iter().take(3) {
        text.push(' ');
        text.push_str(prefix(p, 400));
    }
    Some(Grams::of(&text))
}

/// The article on the target page a see-also pointer announces, if one matches well enough:
/// the best overlap of the pointer's title and caption (`want`) with a candidate's units.
fn announced(want: &Grams, candidates: &[Units]) -> Option<usize> {
    if want.is_empty() {
        return None;
    }
    let mut best: Option<(f64, usize)> = None;
    for (i, units) in candidates.iter().enumerate() {
        let Some(have) = &units.candidate else {
            continue;
        };
        let shared = want.shared(have);
        let score = shared as f64 / want.len() as f64;
        if shared >= TEASER_MIN_SHARED
            && score >= TEASER_MATCH
            && best.is_none_or(|(b, _)| score > b)
        {
            best = Some((score, i));
        }
    }
    best.map(|(_, i)| i)
}

fn prefix(s: &str, chars: usize) -> &str {
    match s.char_indices().nth(chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The comparable units of a text: bigrams of Han characters, and lowercase words of three or
/// more letters that are not function words. Each unit is a 64-bit key: a bigram is its two
/// code points side by side (exact), a word the hash of its letters.
#[derive(Debug, Default, Clone)]
pub struct Grams(Vec<u64>);

const STOPWORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "with",
    "from",
    "that",
    "this",
    "was",
    "were",
    "are",
    "has",
    "have",
    "had",
    "but",
    "not",
    "its",
    "his",
    "her",
    "their",
    "they",
    "said",
    "will",
    "would",
    "into",
    "than",
    "then",
    "page",
    "see",
    "continued",
    "also",
    "who",
    "which",
    "about",
    "after",
];

/// Words get the high bit, so they never equal a bigram key (code points use 42 bits).
const WORD: u64 = 1 << 63;

fn word_key(word: &str) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    word.hash(&mut h);
    h.finish() | WORD
}

impl Grams {
    /// Units of `text`.
    pub fn of(text: &str) -> Grams {
        let mut set = Vec::with_capacity(text.len() / 3);
        let mut prev: Option<char> = None;
        let mut word = String::new();
        let flush = |word: &mut String, set: &mut Vec<u64>| {
            if word.chars().count() >= 3 && !STOPWORDS.contains(&word.as_str()) {
                set.push(word_key(word));
            }
            word.clear();
        };
        for c in text.chars() {
            if is_han(c) {
                if let Some(p) = prev {
                    set.push((u64::from(p) << 21) | u64::from(c));
                }
                prev = Some(c);
                if !word.is_empty() {
                    flush(&mut word, &mut set);
                }
            } else {
                prev = None;
                if c.is_alphanumeric() {
                    word.extend(c.to_lowercase());
                } else if c != '\'' && c != '’' && !word.is_empty() {
                    flush(&mut word, &mut set);
                }
            }
        }
        flush(&mut word, &mut set);
        set.sort_unstable();
        set.dedup();
        Grams(set)
    }

    /// Units of an article's headline and subheadlines.
    pub fn of_title(a: &Article) -> Grams {
        let mut t = a.headline.clone();
        for s in &a.subheadlines {
            t.push(' ');
            t.push_str(s);
        }
        Grams::of(&t)
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Units in both (a merge of the two sorted lists).
    fn shared(&self, other: &Grams) -> usize {
        let (a, b) = (&self.0, &other.0);
        let (mut i, mut j, mut n) = (0, 0, 0);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    n += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        n
    }

    /// Dice similarity, 0 when either side is empty.
    pub fn dice(&self, other: &Grams) -> f64 {
        if self.is_empty() || other.is_empty() {
            return 0.0;
        }
        2.0 * self.shared(other) as f64 / (self.len() + other.len()) as f64
    }
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{f900}'..='\u{faff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_normalize() {
        assert_eq!(normalize_label("A06"), "A6");
        assert_eq!(normalize_label("05"), "5");
        assert_eq!(normalize_label(" b 3"), "B3");
        assert_eq!(normalize_label("00"), "0");
    }

    #[test]
    fn jump_words_tolerate_one_ocr_edit() {
        assert!(same_word("STORM", "storm", true));
        assert!(same_word("BUDGET", "BUDCET", false));
        assert!(!same_word("BUDGET", "BUDCET", true));
        assert!(!same_word("STORM", "BUDGET", false));
        assert!(!same_word("ART", "ARM", false));
        assert!(same_word("STORM", "5TORM", true));
    }

    #[test]
    fn grams_mix_han_bigrams_and_words() {
        let g = Grams::of("包头司机 The Storm hits");
        assert!(g.shared(&Grams::of("包头")) == 1 && g.shared(&Grams::of("司机")) == 1);
        assert_eq!(g.shared(&Grams::of("STORM")), 1);
        assert_eq!(g.shared(&Grams::of("the")), 0);
        assert_eq!(g.len(), 5, "包头 头司 司机 storm hits");
        assert!(Grams::of("让优质医疗资源").dice(&Grams::of("让优质医疗资源 请进来")) > 0.6);
    }
}
