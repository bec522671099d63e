//! Scoring parsed pages against gold annotations (`pagewire eval`). Pure: the command line
//! reads the files and the clock; this module compares values.
//!
//! A gold page (`tests/corpus/README.md` documents the format) lists its articles as line
//! ranges of the page text. The parser's articles carry no line numbers, so each is anchored
//! back onto the text: the first characters of its headline, subheadlines, dateline and first
//! paragraph are looked up, as letters and digits only, in the page's own letters and digits,
//! and the earliest line found is where the article starts. A predicted start matches a gold
//! article when it falls on the gold headline stack or the line under it (or, for a headless
//! gold article, on its first line or, when that is its credit, the first line under the
//! credit); matching is one-to-one in reading order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::proto::{Article, ArticleKind, CreditRole, Page, PageReferenceKind};

/// One annotated page, as stored in `gold/<id>.json`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GoldPage {
    pub id: String,
    pub family: String,
    /// `plain`, `markdown` or `html`.
    pub format: String,
    #[serde(default)]
    pub language: String,
    pub position: GoldPosition,
    /// Line ranges that belong to no article.
    #[serde(default)]
    pub furniture: Vec<[usize; 2]>,
    pub articles: Vec<GoldArticle>,
    #[serde(default)]
    pub notes: String,
}

/// The print position of a gold page.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GoldPosition {
    pub publication: String,
    pub issue_date: String,
    pub page_number: u32,
    #[serde(default)]
    pub page_label: String,
}

/// One annotated article.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GoldArticle {
    /// First and last line, 1-based, inclusive.
    pub lines: [usize; 2],
    #[serde(default)]
    pub headline_lines: Option<[usize; 2]>,
    #[serde(default)]
    pub headline: String,
    pub kind: String,
    #[serde(default)]
    pub credits: Vec<GoldCredit>,
    #[serde(default)]
    pub credit_lines: Vec<usize>,
    #[serde(default)]
    pub references: Vec<GoldReference>,
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GoldCredit {
    pub name: String,
    pub role: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GoldReference {
    pub kind: String,
    pub page: String,
}

impl GoldPage {
    /// Checks the annotation against the text it describes: ranges inside the text, in order,
    /// not overlapping, known kinds and roles. Returns every problem found.
    pub fn check(&self, text: &str) -> Vec<String> {
        let n = text.split('\n').count();
        let mut problems = Vec::new();
        let mut last_end = 0;
        let range_ok = |what: String, [a, b]: [usize; 2], problems: &mut Vec<String>| {
            if a == 0 || a > b || b > n {
                problems.push(format!("{what}: range {a}-{b} is not inside 1-{n}"));
            }
        };
        for r in &self.furniture {
            range_ok("furniture".into(), *r, &mut problems);
        }
        for (i, a) in self.articles.iter().enumerate() {
            let what = format!("article {}", i + 1);
            range_ok(what.clone(), a.lines, &mut problems);
            if a.lines[0] <= last_end {
                problems.push(format!(
                    "{what}: starts at line {} inside the article before (ends {last_end})",
                    a.lines[0]
                ));
            }
            last_end = a.lines[1];
            if let Some(h) = a.headline_lines {
                range_ok(format!("{what} headline"), h, &mut problems);
                if h[0] < a.lines[0] || h[1] > a.lines[1] {
                    problems.push(format!("{what}: headline lines outside the article"));
                }
            }
            if kind_of(&a.kind).is_none() {
                problems.push(format!("{what}: unknown kind {:?}", a.kind));
            }
            for c in &a.credits {
                if role_of(&c.role).is_none() {
                    problems.push(format!("{what}: unknown credit role {:?}", c.role));
                }
            }
            for r in &a.references {
                if reference_kind_of(&r.kind).is_none() {
                    problems.push(format!("{what}: unknown reference kind {:?}", r.kind));
                }
            }
        }
        problems
    }
}

fn kind_of(s: &str) -> Option<ArticleKind> {
    Some(match s {
        "story" => ArticleKind::Story,
        "brief" => ArticleKind::Brief,
        "photo" => ArticleKind::Photo,
        "teaser" => ArticleKind::Teaser,
        "fragment" => ArticleKind::Fragment,
        _ => return None,
    })
}

fn role_of(s: &str) -> Option<CreditRole> {
    Some(match s {
        "agency" => CreditRole::Agency,
        "reporter" => CreditRole::Reporter,
        "photographer" => CreditRole::Photographer,
        "correspondent" => CreditRole::Correspondent,
        "editor" => CreditRole::Editor,
        _ => return None,
    })
}

fn reference_kind_of(s: &str) -> Option<PageReferenceKind> {
    Some(match s {
        "see_also" => PageReferenceKind::SeeAlso,
        "continued_on" => PageReferenceKind::ContinuedOn,
        "continued_from" => PageReferenceKind::ContinuedFrom,
        _ => return None,
    })
}

/// Counts for one page; families and the whole corpus add them up.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Counts {
    pub pages: usize,
    pub gold_articles: usize,
    pub predicted_articles: usize,
    /// Predicted articles whose start matched a gold article.
    pub matched: usize,
    pub exact_count_pages: usize,
    /// Gold articles whose headline was found (matched, and the headline agrees).
    pub headlines_matched: usize,
    pub kinds_matched: usize,
    pub gold_credits: usize,
    pub predicted_credits: usize,
    pub credits_matched: usize,
    pub gold_references: usize,
    pub predicted_references: usize,
    pub references_matched: usize,
    /// Furniture or credit lines whose text turned up in an article's paragraphs.
    pub leaked_lines: usize,
    /// Pages with several gold articles that came out as one headline-less fragment.
    pub blob_pages: usize,
    /// Pages the parser refused.
    pub failed_pages: usize,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.pages += o.pages;
        self.gold_articles += o.gold_articles;
        self.predicted_articles += o.predicted_articles;
        self.matched += o.matched;
        self.exact_count_pages += o.exact_count_pages;
        self.headlines_matched += o.headlines_matched;
        self.kinds_matched += o.kinds_matched;
        self.gold_credits += o.gold_credits;
        self.predicted_credits += o.predicted_credits;
        self.credits_matched += o.credits_matched;
        self.gold_references += o.gold_references;
        self.predicted_references += o.predicted_references;
        self.references_matched += o.references_matched;
        self.leaked_lines += o.leaked_lines;
        self.blob_pages += o.blob_pages;
        self.failed_pages += o.failed_pages;
    }

    pub fn scores(&self) -> Scores {
        let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        let precision = ratio(self.matched, self.predicted_articles);
        let recall = ratio(self.matched, self.gold_articles);
        Scores {
            boundary_precision: precision,
            boundary_recall: recall,
            boundary_f1: if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            },
            exact_count: ratio(self.exact_count_pages, self.pages),
            headline: ratio(self.headlines_matched, self.gold_articles),
            kind: ratio(self.kinds_matched, self.matched),
            credit_precision: ratio(self.credits_matched, self.predicted_credits),
            credit_recall: ratio(self.credits_matched, self.gold_credits),
            reference_precision: ratio(self.references_matched, self.predicted_references),
            reference_recall: ratio(self.references_matched, self.gold_references),
        }
    }
}

/// Rates derived from [`Counts`]; a rate with nothing to count is 1.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Scores {
    pub boundary_precision: f64,
    pub boundary_recall: f64,
    pub boundary_f1: f64,
    pub exact_count: f64,
    pub headline: f64,
    pub kind: f64,
    pub credit_precision: f64,
    pub credit_recall: f64,
    pub reference_precision: f64,
    pub reference_recall: f64,
}

/// How one predicted article lined up with the gold.
#[derive(Debug, Clone, Serialize)]
pub struct Alignment {
    /// Index of the predicted article, and the line it was anchored to (None: not found).
    pub predicted: Option<(usize, Option<usize>)>,
    /// Index of the gold article it matched.
    pub gold: Option<usize>,
}

/// The result of scoring one page.
#[derive(Debug, Clone, Serialize)]
pub struct PageScore {
    pub counts: Counts,
    pub alignments: Vec<Alignment>,
    /// Texts of leaked lines (line number, text).
    pub leaks: Vec<(usize, String)>,
}

/// Letters and digits of a text, lower-cased, full-width forms folded; each with its line.
struct Keyed {
    chars: Vec<char>,
    lines: Vec<usize>,
}

fn fold(c: char) -> Option<char> {
    let c = match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    };
    c.is_alphanumeric()
        .then(|| c.to_lowercase().next().unwrap_or(c))
}

/// The key characters of a string.
pub fn key(s: &str) -> Vec<char> {
    s.chars().filter_map(fold).collect()
}

fn keyed(text: &str, html: bool) -> Keyed {
    let mut k = Keyed {
        chars: Vec::with_capacity(text.len() / 2),
        lines: Vec::with_capacity(text.len() / 2),
    };
    let mut in_tag = false;
    for (i, line) in text.split('\n').enumerate() {
        for c in line.chars() {
            if html {
                if c == '<' {
                    in_tag = true;
                    continue;
                }
                if c == '>' {
                    in_tag = false;
                    continue;
                }
                if in_tag {
                    continue;
                }
            }
            if let Some(f) = fold(c) {
                k.chars.push(f);
                k.lines.push(i + 1);
            }
        }
    }
    k
}

fn find(hay: &[char], needle: &[char], from: usize) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| hay[i..i + needle.len()] == *needle)
}

/// Where `needle` occurs from `from` on, preferring an occurrence that starts a line (a
/// headline is printed on its own line; the same words may recur inside a paragraph).
fn find_at_line_start(k: &Keyed, needle: &[char], from: usize) -> Option<usize> {
    let mut at = from;
    let mut first = None;
    while let Some(i) = find(&k.chars, needle, at) {
        if i == 0 || k.lines[i - 1] != k.lines[i] {
            return Some(i);
        }
        first.get_or_insert(i);
        at = i + 1;
    }
    first
}

/// The key position a predicted article starts at, searching from key position `from`: its
/// headline (and the stack lines printed next to it), or else its dateline and first
/// paragraph.
fn anchor(a: &Article, k: &Keyed, from: usize) -> Option<usize> {
    let look = |s: &str, len: usize| -> Option<usize> {
        let kk = key(s);
        if kk.len() < 2 {
            return None;
        }
        let needle = &kk[..kk.len().min(len)];
        find_at_line_start(k, needle, from).or_else(|| find_at_line_start(k, needle, 0))
    };
    let mut body = a.dateline.clone();
    body.push_str(a.paragraphs.first().map_or("", String::as_str));
    let Some(head) = look(&a.headline, 12) else {
        return look(&body, 16);
    };
    // a kicker or deck printed above the headline moves the start up, if it is close
    let mut best = head;
    for sub in &a.subheadlines {
        if let Some(at) = look(sub, 12) {
            if at < best && head - at <= 80 {
                best = at;
            }
        }
    }
    Some(best)
}

/// Bigram Dice similarity of two key strings.
fn similar(a: &[char], b: &[char]) -> f64 {
    if a == b {
        return 1.0;
    }
    if a.len() < 2 || b.len() < 2 {
        return 0.0;
    }
    let bigrams = |s: &[char]| -> BTreeMap<(char, char), usize> {
        let mut m = BTreeMap::new();
        for w in s.windows(2) {
            *m.entry((w[0], w[1])).or_insert(0) += 1;
        }
        m
    };
    let (x, y) = (bigrams(a), bigrams(b));
    let common: usize = x
        .iter()
        .map(|(g, n)| (*n).min(*y.get(g).unwrap_or(&0)))
        .sum();
    2.0 * common as f64 / (a.len() - 1 + b.len() - 1) as f64
}

/// Does the predicted headline agree with the gold one? Equal letters and digits, or a
/// bigram similarity of at least 0.8 (OCR noise, a kicker glued on).
pub fn headline_agrees(gold: &str, predicted: &Article) -> bool {
    let g = key(gold);
    let p = key(&predicted.headline);
    if g.is_empty() || p.is_empty() {
        return g.is_empty() && p.is_empty();
    }
    similar(&g, &p) >= 0.8
}

fn page_key(s: &str) -> String {
    let s = s.trim().to_uppercase();
    let digits_start = s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
    let (prefix, digits) = s.split_at(digits_start);
    let digits = digits.trim_start_matches('0');
    format!("{prefix}{digits}")
}

fn reference_keys(a: &Article) -> Vec<(i32, String)> {
    a.references
        .iter()
        .filter(|r| r.kind() != PageReferenceKind::ReferredFrom)
        .map(|r| {
            // a Chinese numeral label (三) compares as its number
            let page = if r.page_label.chars().all(|c| !c.is_ascii()) {
                r.page_number.to_string()
            } else {
                r.page_label.clone()
            };
            (r.kind, page_key(&page))
        })
        .collect()
}

/// Scores one parsed page (or a parse failure: `None`) against its gold annotation.
pub fn score_page(gold: &GoldPage, text: &str, parsed: Option<&Page>) -> PageScore {
    let k = keyed(text, gold.format == "html");
    let lines: Vec<&str> = text.split('\n').collect();
    let articles: &[Article] = parsed.map_or(&[], |p| &p.articles);
    let mut c = Counts {
        pages: 1,
        gold_articles: gold.articles.len(),
        predicted_articles: articles.len(),
        failed_pages: usize::from(parsed.is_none()),
        ..Counts::default()
    };
    c.exact_count_pages = usize::from(parsed.is_some() && articles.len() == gold.articles.len());
    if parsed.is_some()
        && gold.articles.len() >= 2
        && articles.len() == 1
        && articles[0].headline.is_empty()
    {
        c.blob_pages = 1;
    }
    // anchor every predicted article, in order
    let mut alignments = Vec::with_capacity(articles.len());
    let mut taken = vec![false; gold.articles.len()];
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut from = 0;
    for (pi, a) in articles.iter().enumerate() {
        let at = anchor(a, &k, from);
        if let Some(at) = at {
            from = from.max(at);
        }
        let line = at.map(|i| k.lines[i]);
        let gi = line.and_then(|l| {
            gold.articles.iter().enumerate().position(|(gi, g)| {
                let window_end = match g.headline_lines {
                    Some([_, e]) => e + 1,
                    // a headless article may open with its credit (an author's name): its
                    // text starts under it
                    None => (g.lines[0]..)
                        .find(|l| !g.credit_lines.contains(l))
                        .unwrap_or(g.lines[0]),
                };
                !taken[gi] && l >= g.lines[0] && l <= window_end.min(g.lines[1].max(g.lines[0]))
            })
        });
        if let Some(gi) = gi {
            taken[gi] = true;
            pairs.push((gi, pi));
        }
        alignments.push(Alignment {
            predicted: Some((pi, line)),
            gold: gi,
        });
    }
    c.matched = pairs.len();
    for (gi, pi) in &pairs {
        let g = &gold.articles[*gi];
        let a = &articles[*pi];
        if headline_agrees(&g.headline, a) {
            c.headlines_matched += 1;
        }
        if kind_of(&g.kind) == Some(a.kind()) {
            c.kinds_matched += 1;
        }
    }
    // credits and references: matched pairs compare; unmatched gold items count as misses,
    // unmatched predicted items as false finds
    let mut pred_of_gold: Vec<Option<usize>> = vec![None; gold.articles.len()];
    for (gi, pi) in &pairs {
        pred_of_gold[*gi] = Some(*pi);
    }
    let mut paired_pred = vec![false; articles.len()];
    for (gi, g) in gold.articles.iter().enumerate() {
        let gold_names: Vec<Vec<char>> = g.credits.iter().map(|c| key(&c.name)).collect();
        let gold_refs: Vec<(i32, String)> = g
            .references
            .iter()
            .filter_map(|r| Some((reference_kind_of(&r.kind)? as i32, page_key(&r.page))))
            .collect();
        c.gold_credits += dedup(gold_names.clone()).len();
        c.gold_references += dedup(gold_refs.clone()).len();
        if let Some(pi) = pred_of_gold[gi] {
            paired_pred[pi] = true;
            let a = &articles[pi];
            let names = dedup(a.credits.iter().map(|c| key(&c.name)).collect());
            c.predicted_credits += names.len();
            c.credits_matched += dedup(gold_names)
                .iter()
                .filter(|g| names.iter().any(|n| n == *g))
                .count();
            let refs = dedup(reference_keys(a));
            c.predicted_references += refs.len();
            c.references_matched += dedup(gold_refs).iter().filter(|g| refs.contains(g)).count();
        }
    }
    for (pi, a) in articles.iter().enumerate() {
        if !paired_pred[pi] {
            c.predicted_credits += dedup(a.credits.iter().map(|c| key(&c.name)).collect()).len();
            c.predicted_references += dedup(reference_keys(a)).len();
        }
    }
    // leaks: furniture and credit-only lines whose text is inside a paragraph
    let body: Vec<Vec<char>> = articles
        .iter()
        .flat_map(|a| a.paragraphs.iter().map(|p| key(p)))
        .collect();
    let mut suspects: Vec<usize> = gold
        .furniture
        .iter()
        .flat_map(|[a, b]| *a..=*b)
        .chain(gold.articles.iter().flat_map(|a| a.credit_lines.clone()))
        .collect();
    suspects.sort_unstable();
    suspects.dedup();
    let mut leaks = Vec::new();
    for l in suspects {
        let Some(line) = lines.get(l.wrapping_sub(1)) else {
            continue;
        };
        let kk = key(line);
        if kk.len() < 6 {
            continue;
        }
        if body.iter().any(|p| find(p, &kk, 0).is_some()) {
            leaks.push((l, line.trim().to_owned()));
        }
    }
    c.leaked_lines = leaks.len();
    PageScore {
        counts: c,
        alignments,
        leaks,
    }
}

fn dedup<T: PartialEq>(v: Vec<T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(v.len());
    for x in v {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "THE HERALD\nBRIDGE TO CLOSE\nBy ANN LEE\nThe bridge closes Monday for repairs that will take a month.\n\nPARK OPENS\nThe new park opened on Sunday with a concert for families.\n";

    fn gold() -> GoldPage {
        serde_json::from_str(
            r#"{"id":"t","family":"f","format":"plain","position":{"publication":"herald","issue_date":"2025-07-12","page_number":1},
            "furniture":[[1,1]],
            "articles":[
              {"lines":[2,4],"headline_lines":[2,2],"headline":"BRIDGE TO CLOSE","kind":"brief","credits":[{"name":"ANN LEE","role":"reporter"}],"credit_lines":[3]},
              {"lines":[6,7],"headline_lines":[6,6],"headline":"PARK OPENS","kind":"brief"}]}"#,
        )
        .expect("gold parses")
    }

    fn article(headline: &str, paragraph: &str, credit: Option<&str>) -> Article {
        Article {
            headline: headline.into(),
            paragraphs: vec![paragraph.into()],
            kind: ArticleKind::Brief as i32,
            credits: credit
                .map(|n| crate::proto::Credit {
                    name: n.into(),
                    role: CreditRole::Reporter as i32,
                    text: String::new(),
                })
                .into_iter()
                .collect(),
            ..Article::default()
        }
    }

    /// What a perfect parser would return for PAGE.
    fn perfect() -> Page {
        Page {
            articles: vec![
                article(
                    "BRIDGE TO CLOSE",
                    "The bridge closes Monday for repairs that will take a month.",
                    Some("Ann Lee"),
                ),
                article(
                    "PARK OPENS",
                    "The new park opened on Sunday with a concert for families.",
                    None,
                ),
            ],
            ..Page::default()
        }
    }

    #[test]
    fn a_gold_page_checks_its_ranges() {
        assert_eq!(gold().check(PAGE), Vec::<String>::new());
        let mut bad = gold();
        bad.articles[1].lines = [4, 9];
        let problems = bad.check(PAGE);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn a_perfect_parse_scores_one_and_a_blob_scores_low() {
        let s = score_page(&gold(), PAGE, Some(&perfect()));
        let all = s.counts.scores();
        assert_eq!((s.counts.matched, s.counts.exact_count_pages), (2, 1));
        for rate in [
            all.boundary_f1,
            all.headline,
            all.kind,
            all.credit_precision,
            all.credit_recall,
            all.reference_recall,
        ] {
            assert_eq!(rate, 1.0, "{all:?}");
        }
        assert_eq!((s.counts.leaked_lines, s.counts.blob_pages), (0, 0));
        // the second article starting one line late still matches (the line under a
        // headline); starting inside the first article's body does not
        let mut late = perfect();
        late.articles[1].headline.clear();
        assert_eq!(score_page(&gold(), PAGE, Some(&late)).counts.matched, 2);
        let mut early = perfect();
        early.articles[1].headline = "repairs that will take".into();
        let s = score_page(&gold(), PAGE, Some(&early));
        assert_eq!(s.counts.matched, 1);
        assert_eq!(s.counts.scores().boundary_f1, 0.5);
        // a blob: one headless article with all the text
        let mut blob = perfect();
        blob.articles.truncate(1);
        blob.articles[0] = article("", &PAGE.replace('\n', " "), None);
        let s = score_page(&gold(), PAGE, Some(&blob));
        assert_eq!(s.counts.blob_pages, 1);
        assert_eq!(s.counts.headlines_matched, 0);
        assert_eq!(s.counts.credits_matched, 0);
        assert!(s.counts.scores().boundary_recall <= 0.5);
        assert_eq!(s.counts.leaked_lines, 2, "{:?}", s.leaks);
        // a failed parse counts every gold article as missed
        let s = score_page(&gold(), PAGE, None);
        assert_eq!((s.counts.failed_pages, s.counts.matched), (1, 0));
        assert_eq!(s.counts.scores().boundary_recall, 0.0);
    }

    #[test]
    fn a_headless_article_opening_with_its_authors_name_matches_under_the_name() {
        let page = "THE HERALD\nMARY JONES\nThe river ran high all spring, and the village waited.\n\nPARK OPENS\nThe new park opened on Sunday with a concert for families.\n";
        let gold: GoldPage = serde_json::from_str(
            r#"{"id":"t","family":"f","format":"plain","position":{"publication":"herald","issue_date":"2025-07-12","page_number":1},
            "furniture":[[1,1]],
            "articles":[
              {"lines":[2,3],"headline":"","kind":"story","credits":[{"name":"MARY JONES","role":"reporter"}],"credit_lines":[2]},
              {"lines":[5,6],"headline_lines":[5,5],"headline":"PARK OPENS","kind":"brief"}]}"#,
        )
        .expect("gold parses");
        let parsed = Page {
            articles: vec![
                article(
                    "",
                    "The river ran high all spring, and the village waited.",
                    Some("Mary Jones"),
                ),
                article(
                    "PARK OPENS",
                    "The new park opened on Sunday with a concert for families.",
                    None,
                ),
            ],
            ..Page::default()
        };
        let s = score_page(&gold, page, Some(&parsed));
        assert_eq!(s.counts.matched, 2);
        assert_eq!(s.counts.scores().boundary_f1, 1.0);
    }

    #[test]
    fn headlines_agree_through_noise_but_not_across_articles() {
        let a = |h: &str| Article {
            headline: h.into(),
            ..Article::default()
        };
        assert!(headline_agrees("BRIDGE TO CLOSE", &a("Bridge to close")));
        assert!(headline_agrees(
            "全国军民兴高采烈共庆新春佳节",
            &a("全国军民兴高采烈共庆新春佳节")
        ));
        assert!(!headline_agrees("BRIDGE TO CLOSE", &a("PARK OPENS")));
        assert!(!headline_agrees("BRIDGE TO CLOSE", &a("")));
        assert!(headline_agrees("", &a("")));
        assert_eq!(page_key("A05"), "A5");
        assert_eq!(page_key("03"), "3");
    }
}
