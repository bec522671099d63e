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
//!
//! An HTML page is keyed on its visible text only ([`visible_lines`]: no head, title,
//! script, style, template, comment or markup; character references decoded), each character
//! on the raw line the gold numbers, and there a headline is looked up at the copy its
//! article's text follows (menus, tickers and lists of other articles repeat it). A
//! furniture or credit line leaks there by its visible text.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::parse::html::is_head_element;
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
    /// Keys of an HTML page's visible text: a headline recurs in menus and tickers there.
    html: bool,
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

fn keyed(text: &str) -> Keyed {
    let mut k = Keyed {
        chars: Vec::with_capacity(text.len() / 2),
        lines: Vec::with_capacity(text.len() / 2),
        html: false,
    };
    for (i, line) in text.split('\n').enumerate() {
        for c in line.chars() {
            if let Some(f) = fold(c) {
                k.chars.push(f);
                k.lines.push(i + 1);
            }
        }
    }
    k
}

/// The keys of an HTML page: its visible text only, each character on the raw line it is
/// written on.
fn keyed_lines(lines: &[String]) -> Keyed {
    let mut k = Keyed {
        chars: Vec::new(),
        lines: Vec::new(),
        html: true,
    };
    for (i, line) in lines.iter().enumerate() {
        for c in line.chars() {
            if let Some(f) = fold(c) {
                k.chars.push(f);
                k.lines.push(i + 1);
            }
        }
    }
    k
}

/// Elements whose content is raw text up to their end tag (the tokenizer switches state for
/// them) and is not shown: scripts, styles, the title (shown in the tab, not on the page),
/// form fields, fallbacks for other renderers.
fn is_hidden_raw_text(name: &[u8]) -> bool {
    matches!(
        name,
        b"script"
            | b"style"
            | b"title"
            | b"textarea"
            | b"noscript"
            | b"iframe"
            | b"noembed"
            | b"noframes"
            | b"xmp"
    )
}

/// Elements whose content is markup that is not shown as page text.
fn is_hidden_container(name: &[u8]) -> bool {
    matches!(name, b"template" | b"svg" | b"math")
}

/// The visible text of an HTML page, one string per raw line (`\n`-separated, as gold line
/// numbers count them): text outside tags, with character references decoded; nothing of
/// `<head>`, `<title>`, scripts, styles, templates, `<noscript>`, comments, tags or their
/// attribute values.
pub fn visible_lines(html: &str) -> Vec<String> {
    use html5gum::emitters::callback::{CallbackEmitter, CallbackEvent};
    use html5gum::{Span, Tokenizer};

    let starts: Vec<usize> = std::iter::once(0)
        .chain(html.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let mut out = vec![String::new(); starts.len()];
    let line_of = |pos: usize| starts.partition_point(|&s| s <= pos).saturating_sub(1);
    let mut in_head = false;
    let mut raw = false;
    let mut hidden = 0usize;
    let mut tag: Option<Vec<u8>> = None;
    {
        let mut emitter = CallbackEmitter::new(
            |event: CallbackEvent<'_>, span: Span<usize>| -> Option<std::convert::Infallible> {
                match event {
                    CallbackEvent::OpenStartTag { name } => tag = Some(name.to_vec()),
                    CallbackEvent::CloseStartTag { self_closing } => {
                        let name = tag.take()?;
                        if name == b"head" {
                            in_head = true;
                        } else if name != b"html" && !is_head_element(&name) {
                            in_head = false;
                        }
                        if is_hidden_raw_text(&name) {
                            raw = true;
                        } else if is_hidden_container(&name) && !self_closing {
                            hidden += 1;
                        }
                    }
                    CallbackEvent::EndTag { name } => {
                        tag = None;
                        raw = false;
                        if name == b"head" {
                            in_head = false;
                        } else if is_hidden_container(name) {
                            hidden = hidden.saturating_sub(1);
                        }
                    }
                    CallbackEvent::String { value } if !in_head && !raw && hidden == 0 => {
                        let source = html.get(span.start..span.end)?;
                        let first = line_of(span.start);
                        let decoded = String::from_utf8_lossy(value);
                        // a reference never spans lines: the decoded text has the source's
                        // lines, unless a reference decoded to a line break or a lone CR was
                        // made one
                        if decoded.split('\n').count() == source.split('\n').count() {
                            for (i, piece) in decoded.split('\n').enumerate() {
                                if let Some(line) = out.get_mut(first + i) {
                                    line.push_str(piece);
                                }
                            }
                        } else {
                            for (i, piece) in source.split('\n').enumerate() {
                                if let Some(line) = out.get_mut(first + i) {
                                    line.push_str(&crate::parse::text::decode_entities(piece));
                                }
                            }
                        }
                    }
                    _ => {}
                }
                None
            },
        );
        // script, style, title, ... are raw text until their end tag
        emitter.naively_switch_states(true);
        // reading from a string cannot fail
        let _ = Tokenizer::new_with_emitter(html, emitter).finish();
    }
    out
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
    // on an HTML page the headline also stands in menus, tickers and lists of other
    // articles: the copy the article's own text follows is the headline
    // (the dateline the parser keeps may leave out what the page printed inside it, such as
    // `（记者X）`: then the first paragraph alone is what follows the headline)
    let head = if k.html {
        let para = key(a.paragraphs.first().map_or("", String::as_str));
        let (h, b) = (key(&a.headline), key(&body));
        followed_by(k, &h, &b, from)
            .or_else(|| followed_by(k, &h, &b, 0))
            .or_else(|| followed_by(k, &h, &para, from))
            .or_else(|| followed_by(k, &h, &para, 0))
            .unwrap_or(head)
    } else {
        head
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

/// How far (in key characters) under its headline an article's text may start: past a
/// byline, a photo and its caption.
const BODY_REACH: usize = 3000;

/// Where `head` stands, from `from` on, right above `body`: the first occurrence that `body`
/// follows within [`BODY_REACH`], or the last copy of `head` before that text (a ticker
/// may show the headline just above the article).
fn followed_by(k: &Keyed, head: &[char], body: &[char], from: usize) -> Option<usize> {
    if head.len() < 2 || body.len() < 2 {
        return None;
    }
    let body = &body[..body.len().min(16)];
    let mut at = from;
    while let Some(i) = find(&k.chars, head, at) {
        let after = i + head.len();
        let end = (after + BODY_REACH).min(k.chars.len());
        if let Some(j) = find(&k.chars[after..end], body, 0) {
            let text = &k.chars[..after + j];
            let mut best = i;
            while let Some(later) = find(text, head, best + 1) {
                best = later;
            }
            return Some(best);
        }
        at = i + 1;
    }
    None
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
    let lines: Vec<&str> = text.split('\n').collect();
    // an HTML page is scored on its visible text, on the raw lines the gold numbers
    let visible = (gold.format == "html").then(|| visible_lines(text));
    let k = match &visible {
        Some(v) => keyed_lines(v),
        None => keyed(text),
    };
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
                    // a headless article may open with its credit (an author's name) or
                    // with a line that is only its continued-from marker (`From page 1`):
                    // its text starts under them
                    None => (g.lines[0]..)
                        .find(|&l| !g.credit_lines.contains(&l) && !marker_line(&lines, l))
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
    // on an HTML page a furniture line is often a short label (a menu entry, a section
    // name) that the articles' own text may also say: there its words in a paragraph are no
    // sign of a leak
    let own: Vec<char> = match &visible {
        Some(v) => gold
            .articles
            .iter()
            .flat_map(|a| (a.lines[0]..=a.lines[1]).filter(|l| !a.credit_lines.contains(l)))
            .filter_map(|l| v.get(l - 1))
            .flat_map(|t| key(t))
            .collect(),
        None => Vec::new(),
    };
    let mut leaks = Vec::new();
    for l in suspects {
        let Some(line) = lines.get(l.wrapping_sub(1)) else {
            continue;
        };
        // an HTML line is its visible text: markup alone is no leak
        let shown = match &visible {
            Some(v) => v.get(l - 1).map_or("", String::as_str),
            None => line,
        };
        let kk = key(shown);
        if kk.len() < 6 || find(&own, &kk, 0).is_some() {
            continue;
        }
        if body.iter().any(|p| find(p, &kk, 0).is_some()) {
            let shown = match &visible {
                Some(_) => shown.split_whitespace().collect::<Vec<_>>().join(" "),
                None => line.trim().to_owned(),
            };
            leaks.push((l, shown));
        }
    }
    c.leaked_lines = leaks.len();
    PageScore {
        counts: c,
        alignments,
        leaks,
    }
}

/// Is 1-based line `n` only a page-reference marker (`From page 1`, `（上接第一版）`)?
fn marker_line(lines: &[&str], n: usize) -> bool {
    let Some(line) = n.checked_sub(1).and_then(|i| lines.get(i)) else {
        return false;
    };
    let line = line.trim();
    let found = crate::parse::markers::find(line);
    let covered: usize = found.iter().map(|f| f.range.len()).sum();
    !found.is_empty() && line.len() - covered.min(line.len()) <= 3
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
    fn a_continuation_opening_with_its_marker_line_matches_under_the_marker() {
        let page = "THE HERALD\nPARK OPENS\nThe new park opened on Sunday with a concert.\nFrom page 1\nthe council said the bridge would reopen in May.\n";
        let gold: GoldPage = serde_json::from_str(
            r#"{"id":"t","family":"f","format":"plain","position":{"publication":"herald","issue_date":"2025-07-12","page_number":2},
            "furniture":[[1,1]],
            "articles":[
              {"lines":[2,3],"headline_lines":[2,2],"headline":"PARK OPENS","kind":"brief"},
              {"lines":[4,5],"headline":"","kind":"fragment","references":[{"kind":"continued_from","page":"1"}]}]}"#,
        )
        .expect("gold parses");
        let parsed = Page {
            articles: vec![
                article(
                    "PARK OPENS",
                    "The new park opened on Sunday with a concert.",
                    None,
                ),
                article("", "the council said the bridge would reopen in May.", None),
            ],
            ..Page::default()
        };
        let s = score_page(&gold, page, Some(&parsed));
        assert_eq!(s.counts.matched, 2);
        assert_eq!(s.counts.scores().boundary_f1, 1.0);
        // a text line is never skipped: the continuation must start at or under its marker
        assert!(marker_line(&page.split('\n').collect::<Vec<_>>(), 4));
        assert!(!marker_line(&page.split('\n').collect::<Vec<_>>(), 5));
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
    /// An HTML page of our own: the headline also in the `<title>`, in a script string next
    /// to a `<` comparison, and in a comment; an entity in the headline; a furniture line
    /// wrapped in markup; `</script>` alone on a line.
    const HTML_PAGE: &str = "<!DOCTYPE html>
<html>
<head>
<title>Week\u{2019}s Ferry Talks Resume | The Herald</title>
<script>var t = \"Week\u{2019}s Ferry Talks Resume\"; for (var i = 0; i <tabs.length; i++) {}
</script>
</head>
<body>
<nav class=\"menu\"><a href=\"/\" title=\"Week's Ferry Talks Resume\">Home</a></nav>
<!-- Week's Ferry Talks Resume -->
<h1 class=\"title\" data-x=\"a > b\">Week&#8217;s Ferry Talks Resume</h1>
<p>Talks on the ferry subscription scheme resumed on Tuesday after a week&#8217;s pause.</p>
<p class=\"byline\">By Tom Reed</p>
<div class=\"footer\">Ferry timetable changes</div>
</body>
</html>
";

    #[test]
    fn an_html_page_is_keyed_on_its_visible_text_only() {
        let gold: GoldPage = serde_json::from_str(
            r#"{"id":"t","family":"f","format":"html","position":{"publication":"herald","issue_date":"2025-07-12","page_number":1},
            "furniture":[[1,10],[14,17]],
            "articles":[
              {"lines":[11,13],"headline_lines":[11,11],"headline":"Week’s Ferry Talks Resume","kind":"story","credits":[{"name":"Tom Reed","role":"reporter"}],"credit_lines":[13]}]}"#,
        )
        .expect("gold parses");
        assert_eq!(gold.check(HTML_PAGE), Vec::<String>::new());
        let mut a = article(
            "Week’s Ferry Talks Resume",
            "Talks on the ferry subscription scheme resumed on Tuesday after a week’s pause.",
            Some("Tom Reed"),
        );
        a.kind = ArticleKind::Story as i32;
        let parsed = Page {
            articles: vec![a.clone()],
            ..Page::default()
        };
        let s = score_page(&gold, HTML_PAGE, Some(&parsed));
        assert_eq!(s.alignments[0].predicted, Some((0, Some(11))), "{s:?}");
        assert_eq!(s.counts.matched, 1);
        assert_eq!(s.counts.headlines_matched, 1);
        // `</script>` is no leak though a paragraph says "subscription"
        assert_eq!(s.counts.leaked_lines, 0, "{:?}", s.leaks);
        // a furniture line wrapped in markup leaks by its visible text
        a.paragraphs.push("Ferry timetable changes".into());
        let parsed = Page {
            articles: vec![a],
            ..Page::default()
        };
        let s = score_page(&gold, HTML_PAGE, Some(&parsed));
        assert_eq!(s.leaks, vec![(14, "Ferry timetable changes".to_owned())]);
        // the visible text keeps the raw lines
        let v = visible_lines(HTML_PAGE);
        assert_eq!(v.len(), 17);
        assert_eq!(v[10], "Week’s Ferry Talks Resume");
        assert_eq!(v[8].trim(), "Home");
        assert!(v[..8].iter().all(|l| l.trim().is_empty()), "{v:?}");
    }

    /// A perfect parse of the corpus HTML pages (articles made of the gold headlines and the
    /// first lines under them) matches every gold article. It needs the git-ignored corpus
    /// texts, which CI cannot rebuild offline, so it runs on demand and fails when they are
    /// missing: `scripts/fetch-corpus && cargo test --lib -- --ignored perfect_parse`.
    #[test]
    #[ignore = "needs the corpus texts (scripts/fetch-corpus)"]
    fn a_perfect_parse_of_the_corpus_html_pages_matches_every_gold_article() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
        let entries = std::fs::read_dir(dir.join("gold")).expect("tests/corpus/gold");
        let (mut gold_total, mut matched, mut pages, mut leaks) = (0, 0, 0, 0);
        let mut misses = Vec::new();
        for e in entries.flatten() {
            let Ok(g) = std::fs::read_to_string(e.path()) else {
                continue;
            };
            let gold: GoldPage = serde_json::from_str(&g).expect("gold parses");
            if gold.format != "html" {
                continue;
            }
            let path = dir.join("text").join(format!("{}.html", gold.id));
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (run scripts/fetch-corpus)", path.display()));
            let visible = visible_lines(&text);
            let articles = gold
                .articles
                .iter()
                .map(|g| {
                    let first = g.headline_lines.map_or(g.lines[0], |[_, e]| e + 1);
                    let body = (first..=g.lines[1])
                        .filter(|l| !g.credit_lines.contains(l))
                        .map(|l| visible[l - 1].trim())
                        .find(|t| key(t).len() >= 2)
                        .unwrap_or("");
                    let mut a = article(&g.headline, body, None);
                    a.kind = kind_of(&g.kind).unwrap_or(ArticleKind::Story) as i32;
                    a
                })
                .collect();
            let page = Page {
                articles,
                ..Page::default()
            };
            let s = score_page(&gold, &text, Some(&page));
            pages += 1;
            leaks += s.counts.leaked_lines;
            gold_total += s.counts.gold_articles;
            matched += s.counts.matched;
            if s.counts.matched != s.counts.gold_articles {
                misses.push((gold.id.clone(), s.alignments.clone()));
            }
        }
        eprintln!(
            "perfect parse of {pages} HTML pages: {matched} of {gold_total} gold articles matched, {leaks} lines leaked"
        );
        assert!(misses.is_empty(), "{misses:?}");
        assert_eq!(leaks, 0);
    }
}
