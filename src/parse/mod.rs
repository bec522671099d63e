//! The pure page parser: one raw page in, one [`Page`] with its articles out.
//!
//! Invariants: no I/O, no clock, no randomness, no async; the same input gives the same
//! output byte for byte; time is linear in the input; every input either parses or fails
//! with a [`ParseError`] — nothing panics.
//!
//! Stages: [`text::normalize_chars`] (characters) → [`blocks::items`] (lines classified as
//! headings, paragraphs, credits, markers, furniture) → [`segment`] (items grouped into
//! article drafts) → [`assemble`] (paragraph clean-up, ids, versions, dates).

pub mod blocks;
pub mod credits;
pub mod dates;
pub mod furniture;
pub mod heads;
pub mod html;
pub mod markers;
mod segment;
pub mod text;

use blocks::Syntax;
use dates::Date;
use markers::Found;

use crate::position::{PositionError, PrintPosition};
use crate::proto::{
    Article, ArticleKind, Credit, CreditRole, Masthead, Page, PageFormat, PagePosition,
    PageReference, PageReferenceKind, RawPage, Warning,
};

/// Limits that bound the parser's work on one page.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest page text accepted, in bytes.
    pub max_bytes: usize,
    /// Largest number of articles one page may yield.
    pub max_articles: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 4 * 1024 * 1024,
            max_articles: 500,
        }
    }
}

/// Why a page could not be parsed. Every variant is permanent: the same input fails the
/// same way again, so the service dead-letters it instead of retrying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The page text is over [`Limits::max_bytes`].
    #[error("page text is {size} bytes, over the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    /// The page yields more than [`Limits::max_articles`] articles.
    #[error("page yields more than {limit} articles")]
    TooManyArticles { limit: usize },
    /// The page holds no article text at all.
    #[error("page holds no articles")]
    NoArticles,
    /// The print position is missing or malformed.
    #[error("invalid {field}: {reason}")]
    InvalidMetadata { field: &'static str, reason: String },
}

impl ParseError {
    /// Short stable code for metrics and dead letters.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::TooLarge { .. } => "too_large",
            ParseError::TooManyArticles { .. } => "too_many_articles",
            ParseError::NoArticles => "no_articles",
            ParseError::InvalidMetadata { .. } => "invalid_metadata",
        }
    }
}

impl From<PositionError> for ParseError {
    fn from(e: PositionError) -> Self {
        ParseError::InvalidMetadata {
            field: e.field,
            reason: e.reason,
        }
    }
}

/// Pages of our own in each format and language, parsed once by [`warm_up`].
const WARM_UP_PAGES: [(PageFormat, &str); 4] = [
    (
        PageFormat::PlainText,
        "THE DAILY HERALD\nVol. 12, No. 40  Monday, April 7, 1986  25 Cents\nCOUNCIL VOTES NEW BUDGET\nBy JANE DOE\nStaff Writer\nSPRINGFIELD, Ill. (AP) — The council voted 5-2 on Monday.\n(By Associated Press.)\nPlease see BUDGET, page 3\nLetters to the Editor\nEditor,\nThe park needs benches.\nJohn Smith Biology junior\nPhoto by Ann Lee\n(AP Photo/Ann Lee)\nJOHN SMITH/Mustang Daily\nAnn Lee/Staff Photographer\nThe Associated Press\nHerald Staff Writers\n",
    ),
    (
        PageFormat::PlainText,
        "某日报 第1版\n我们的新城市\n这是新建成的住宅区。住户们正在搬进新居。\n全市夏粮收购过半\n本报讯（记者 张三 通讯员 李四）截至昨天，全市已收购夏粮十二万吨。（下转第三版）\n新华社北京7月9日电 会议今天召开。\n（新华社记者 王五 摄）\n",
    ),
    (
        PageFormat::Markdown,
        "# 城东新区学校开工\n\n本报讯 城东新区第一所学校昨天开工。详见05版\n\n## 简讯\n\n某市开通城乡公交（据新华社）\n\n![](a.jpg)\n\n记者 祝某 摄\n",
    ),
    (
        PageFormat::Html,
        "<html><body><nav><a href=\"/\">Home</a></nav><article><h1>Fair Draws Record Crowd</h1><p class=\"byline\">By Ann Lee</p><p>Continued on Page A5</p></article></body></html>",
    ),
];

/// Parses a few pages of our own in every format, so that the patterns the parser compiles on
/// first use are compiled before the first real page (the English credit patterns alone take
/// about 0.1 s to compile). The service runs it once at startup, off the async workers.
pub fn warm_up() {
    for (format, content) in WARM_UP_PAGES {
        let raw = RawPage {
            publication: "warm-up".into(),
            issue_date: "1986-04-07".into(),
            page_number: 1,
            format: format as i32,
            content: content.into(),
            ..RawPage::default()
        };
        // the result does not matter, only the patterns it compiled
        let _ = parse_page(&raw, &Limits::default());
    }
}

/// Parses one raw page into its page-level message with articles.
///
/// Validates the print position with the constructors of `position.rs` (the rules the input
/// boundary applies), for callers without an envelope: `pagewire parse`, `pagewire eval`.
pub fn parse_page(raw: &RawPage, limits: &Limits) -> Result<Page, ParseError> {
    check_size(raw, limits)?;
    let position = PrintPosition::from_raw(raw)?;
    parse_at(raw, &position, limits)
}

/// Parses the text of `raw` printed at `position`, validated already (the envelope's
/// [`crate::envelope::Accepted`]). The position fields of `raw` are not read: ids, the page
/// and every article's position, and the issue date that resolves dates come from `position`.
pub fn parse_at(
    raw: &RawPage,
    position: &PrintPosition,
    limits: &Limits,
) -> Result<Page, ParseError> {
    check_size(raw, limits)?;
    let issue = Date::from(position.issue_date);
    let (normalized, report) = text::normalize_chars(&raw.content);
    let mut page_warnings = char_warnings(&report);

    let format = PageFormat::try_from(raw.format).unwrap_or(PageFormat::Unspecified);
    let (syntax, source) = match format {
        PageFormat::Html => (Syntax::Markdown, html::to_markdown(&raw.content)),
        PageFormat::Markdown => (Syntax::Markdown, normalized),
        PageFormat::PlainText => (Syntax::Plain, normalized),
        PageFormat::Unspecified => (blocks::sniff(&normalized), normalized),
    };
    let items = blocks::items(
        &source,
        syntax,
        position.page_name.as_str(),
        position.publication.as_str(),
    );

    let mut masthead = Masthead::default();
    let mut page_credits = Vec::new();
    let drafts = segment::segment(&items, syntax, &mut masthead, &mut page_credits, limits)?;

    let id_prefix = format!(
        "{}/{}/{}/{}",
        position.publication.as_str(),
        position.issue_date,
        position.edition.id_token(),
        position.page_number.get()
    );
    let position = position.to_proto();
    let mut articles = Vec::with_capacity(drafts.len());
    let count = drafts.len();
    for (n, draft) in drafts.into_iter().enumerate() {
        let ordinal = articles.len() as u32 + 1;
        let last = n + 1 == count;
        if let Some(article) = assemble(draft, &position, &id_prefix, ordinal, issue, last) {
            articles.push(article);
        }
    }
    if articles.is_empty() {
        return Err(ParseError::NoArticles);
    }
    let language = dominant_language(&articles);
    if report.replacement > 0 {
        page_warnings.push(warning(
            "replacement_character",
            format!(
                "{} U+FFFD replacement characters: the text was damaged before it reached pagewire",
                report.replacement
            ),
        ));
    }
    Ok(Page {
        page: Some(position),
        masthead: Some(masthead),
        article_ids: articles.iter().map(|a| a.id.clone()).collect(),
        articles,
        content_hash: blake3::hash(raw.content.as_bytes()).to_hex().to_string(),
        warnings: page_warnings,
        credits: page_credits,
        language,
        format: match syntax {
            _ if format == PageFormat::Html => PageFormat::Html,
            Syntax::Markdown => PageFormat::Markdown,
            Syntax::Plain => PageFormat::PlainText,
        } as i32,
        content: String::new(),
        source_uri: raw.source_uri.clone(),
        attributes: raw.attributes.clone(),
    })
}

/// The page text over [`Limits::max_bytes`] fails before anything else is looked at.
fn check_size(raw: &RawPage, limits: &Limits) -> Result<(), ParseError> {
    if raw.content.len() > limits.max_bytes {
        return Err(ParseError::TooLarge {
            size: raw.content.len(),
            limit: limits.max_bytes,
        });
    }
    Ok(())
}

fn warning(code: &str, message: impl Into<String>) -> Warning {
    Warning {
        code: code.to_owned(),
        message: message.into(),
    }
}

fn char_warnings(r: &text::CharReport) -> Vec<Warning> {
    let mut w = Vec::new();
    if r.controls > 0 {
        w.push(warning(
            "control_characters_removed",
            format!("{} control characters removed", r.controls),
        ));
    }
    if r.zero_width > 0 {
        w.push(warning(
            "invisible_characters_removed",
            format!(
                "{} zero-width characters, soft hyphens or BOMs removed",
                r.zero_width
            ),
        ));
    }
    if r.bidi > 0 {
        w.push(warning(
            "bidi_controls_removed",
            format!("{} bidirectional override characters removed", r.bidi),
        ));
    }
    if r.combining > 0 {
        w.push(warning(
            "combining_marks_trimmed",
            format!("{} excess combining marks removed", r.combining),
        ));
    }
    w
}

/// Body weight (CJK characters, or two per English word) from which an article of plain text
/// is a story rather than a brief. On the real-page corpus briefs reach about 300 at the 90th
/// percentile and stories start there (QUALITY.md).
const STORY_WEIGHT: usize = 320;
/// The same for headings marked up by a converter: the heading level already tells a lead
/// from the briefs under it, and modern briefs run longer (the seed's are 440–590).
const STORY_WEIGHT_MARKED: usize = 1000;

/// Splits a headline stack into the headline and its kicker/subtitle lines.
fn resolve_headlines(lines: &[(u8, String)], wrapped: bool, issue: Date) -> (String, Vec<String>) {
    if lines.is_empty() {
        return (String::new(), Vec::new());
    }
    if lines.len() == 1 || wrapped {
        let joined = lines
            .iter()
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        return (joined, Vec::new());
    }
    if lines.iter().all(|(l, _)| *l == 0) && !lines.iter().any(|(_, t)| t.chars().any(text::is_cjk))
    {
        // a guessed English stack: wrapped headline lines, kicker and decks
        let texts: Vec<&str> = lines.iter().map(|(_, t)| t.as_str()).collect();
        let main = heads::headline_range(&texts);
        let headline = texts[main.clone()].join(" ");
        let subs = texts
            .iter()
            .enumerate()
            .filter(|(i, _)| !main.contains(i))
            .map(|(_, t)| (*t).to_owned())
            .collect();
        return (headline, subs);
    }
    let is_dash = |t: &str| t.starts_with(['—', '-', '–']);
    let undash = |t: &str| t.trim_start_matches(['—', '-', '–', ' ']).to_owned();
    let min_level = lines.iter().map(|(l, _)| *l).filter(|l| *l > 0).min();
    let levels_differ = lines.iter().any(|(l, _)| Some(*l) != min_level && *l > 0);
    let main_idx = if levels_differ {
        lines
            .iter()
            .position(|(l, _)| Some(*l) == min_level)
            .unwrap_or(0)
    } else {
        // a subtitle after a dash, and a note wholly in brackets under a title
        // (`（在某会议上的讲话摘录）`), are never the headline
        let is_note = |t: &str| t.starts_with(['（', '(']) && t.ends_with(['）', ')']);
        let candidates: Vec<usize> = (0..lines.len())
            .filter(|&i| !is_dash(&lines[i].1) && !is_note(&lines[i].1))
            .collect();
        match candidates.as_slice() {
            [] => 0,
            [only] => *only,
            [first, second, ..] => {
                let a = &lines[*first].1;
                let b = &lines[*second].1;
                let guessed = lines.iter().all(|(l, _)| *l == 0);
                let kicker_cue = a.ends_with(['：', ':', '—'])
                    || ["强调", "指出", "表示", "时强调", "时指出", "发表重要讲话"]
                        .iter()
                        .any(|cue| a.ends_with(cue))
                    || (!guessed && text::char_len(a) * 10 < text::char_len(b) * 6);
                if guessed {
                    // a guessed Chinese stack: the rules measured on the corpus (heads.rs)
                    let texts: Vec<&str> =
                        candidates.iter().map(|&i| lines[i].1.as_str()).collect();
                    candidates[heads::main_of_cjk_stack(&texts, issue.year < 1950)]
                } else if candidates.len() >= 3 {
                    // a kicker in short parts (`积极行动` / `保种保供`) over the headline: the
                    // first line twice as long as the first part, when all above it are short
                    let short = text::char_len(a);
                    candidates
                        .iter()
                        .position(|&i| text::char_len(&lines[i].1) >= 2 * short)
                        .filter(|&p| {
                            p >= 2
                                && candidates[..p]
                                    .iter()
                                    .all(|&i| text::char_len(&lines[i].1) <= 6)
                        })
                        .map_or(*second, |p| candidates[p])
                } else if kicker_cue {
                    *second
                } else {
                    *first
                }
            }
        }
    };
    let headline = lines[main_idx].1.clone();
    let subs = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != main_idx)
        .map(|(_, (_, t))| undash(t))
        .filter(|t| !t.is_empty())
        .collect();
    (headline, subs)
}

/// A picture's caption at the top of a Chinese page: the first item, one short paragraph (at
/// most 120 characters) with no dateline and no credit, under a photo title or none
/// (`我们伟大的祖国` / `这是一个繁忙的工地。汽车队正在…`). Older pages print no photographer;
/// on the corpus pages every such item is a caption, while briefs open with a dateline and
/// stories run longer. A quotation box (`毛主席语录`) is no caption, nor is the end of a story
/// continued from another page (the caller checks its references).
fn caption_at_top(
    ordinal: u32,
    headline: &str,
    paragraphs: &[String],
    credits: &[Credit],
    dateline: &str,
) -> bool {
    let [caption] = paragraphs else {
        return false;
    };
    ordinal == 1
        && credits.is_empty()
        && dateline.is_empty()
        && !heads::quotation_label(headline)
        && caption.chars().filter(|&c| text::is_cjk(c)).count() >= 20
        && text::char_len(caption) <= 120
        && caption.trim_end().ends_with(['。', '！', '”'])
}

/// Whether a Chinese paragraph stops without closing punctuation (`…他们沉`, `新华社北京4月1`).
fn cut_off_cjk(paragraph: &str) -> bool {
    const CLOSERS: [char; 18] = [
        '。', '！', '？', '!', '?', '.', '…', '”', '’', '"', '\'', '」', '』', '）', ')', '】',
        ']', '》',
    ];
    paragraph.chars().any(text::is_cjk) && !paragraph.trim_end().ends_with(CLOSERS)
}

/// Removes marker ranges from a text.
fn cut_ranges(text: &str, found: &[Found]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for f in found {
        if f.range.start >= last && f.range.end <= text.len() {
            out.push_str(&text[last..f.range.start]);
            last = f.range.end;
        }
    }
    out.push_str(&text[last..]);
    text::collapse_ws(&out)
}

/// Turns a draft into an article: joins and cleans paragraphs, takes credits, datelines
/// and markers out of the text, decides the kind, computes id, version and dates.
fn assemble(
    draft: segment::Draft,
    position: &PagePosition,
    id_prefix: &str,
    ordinal: u32,
    issue: Date,
    last_on_page: bool,
) -> Option<Article> {
    let mut warnings = Vec::new();
    let (headline, mut subheadlines) =
        resolve_headlines(&draft.headlines, draft.headline_wrapped, issue);
    let mut credits = draft.credits;
    let mut found_refs = draft.references;
    let mut dateline = String::new();
    let mut paragraphs = Vec::with_capacity(draft.paragraphs.len());
    let mut dehyphenated = 0;
    for (n, lines) in draft.paragraphs.iter().enumerate() {
        let (mut para, undone) = text::join_lines(lines.iter().map(String::as_str));
        dehyphenated += undone;
        let inline = markers::find(&para);
        if !inline.is_empty() {
            para = cut_ranges(&para, &inline);
            found_refs.extend(inline);
        }
        if let Some((rest, more)) = credits::trailing_credit(&para) {
            para = rest;
            credits.extend(more);
        }
        if n == 0 || (paragraphs.is_empty() && dateline.is_empty()) {
            if let Some(d) = credits::dateline(&para) {
                dateline = d.text;
                credits.extend(d.credits);
                para = d.rest;
            }
        }
        // A subtitle line printed under the headline as its own paragraph: ——副题
        if paragraphs.is_empty()
            && para.starts_with("——")
            && text::char_len(&para) <= 40
            && !headline.is_empty()
        {
            subheadlines.push(para.trim_start_matches(['—', ' ']).to_owned());
            continue;
        }
        if para.chars().any(char::is_alphanumeric) {
            paragraphs.push(para);
        }
    }
    if headline.is_empty() && paragraphs.is_empty() && !draft.teaser {
        return None;
    }
    let fuzzy: Vec<&str> = found_refs
        .iter()
        .filter(|f| f.fuzzy)
        .map(|f| f.reference.text.as_str())
        .collect();
    if !fuzzy.is_empty() {
        warnings.push(warning(
            "fuzzy_marker",
            format!("page marker read loosely: {}", fuzzy.join(", ")),
        ));
    }
    if found_refs.len() > markers::MAX_PER_TEXT {
        warnings.push(warning(
            "too_many_markers",
            format!(
                "{} page markers; kept the first {}",
                found_refs.len(),
                markers::MAX_PER_TEXT
            ),
        ));
        found_refs.truncate(markers::MAX_PER_TEXT);
    }
    let mut references: Vec<PageReference> = Vec::new();
    for f in found_refs {
        if !references.iter().any(|r| {
            r.kind == f.reference.kind
                && r.page_label == f.reference.page_label
                && r.jump_word == f.reference.jump_word
        }) {
            references.push(f.reference);
        }
    }
    dedup_credits(&mut credits);
    if dehyphenated > 0 {
        warnings.push(warning(
            "hyphenation_joined",
            format!("{dehyphenated} words split by a line-end hyphen were joined"),
        ));
    }
    if draft.headline_guessed {
        warnings.push(warning(
            "headline_guessed",
            "no heading markup: the headline was taken from a short first line",
        ));
    }

    let body_weight: usize = paragraphs.iter().map(|p| text::text_weight(p)).sum();
    let has_photographer = credits.iter().any(|c| c.role() == CreditRole::Photographer);
    let kind = if draft.teaser {
        ArticleKind::Teaser
    } else if (has_photographer && paragraphs.len() <= 2 && (draft.image || body_weight <= 600))
        || (draft.photo && paragraphs.len() <= 1)
        || (references.is_empty()
            && caption_at_top(ordinal, &headline, &paragraphs, &credits, &dateline))
    {
        ArticleKind::Photo
    } else if headline.is_empty() && draft.brief {
        // an item of a news-in-brief column: briefs there often run in without a headline
        ArticleKind::Brief
    } else if headline.is_empty() {
        ArticleKind::Fragment
    } else if (draft.headline_guessed && (body_weight >= STORY_WEIGHT || paragraphs.len() >= 5))
        || body_weight >= STORY_WEIGHT_MARKED
        || paragraphs.len() >= 7
        // briefs do not jump between pages
        || references.iter().any(|r| r.kind() != PageReferenceKind::SeeAlso)
        // nor are they cut off: a Chinese page that ends mid-sentence (a jump without a jump
        // line, a copy cut short) holds only the start of its last item (English OCR pages
        // end on ads and scraps as often, so they are left to their weight)
        || (last_on_page && draft.headline_guessed && paragraphs.last().is_some_and(|p| cut_off_cjk(p)))
        || (ordinal == 1
            && draft.headlines.first().is_some_and(|(l, _)| *l == 1)
            && body_weight >= 400)
    {
        ArticleKind::Story
    } else {
        ArticleKind::Brief
    };
    if kind == ArticleKind::Fragment
        && !references
            .iter()
            .any(|r| r.kind() == PageReferenceKind::ContinuedFrom)
    {
        warnings.push(warning("no_headline", "text with no headline of its own"));
    }
    if paragraphs.iter().any(|p| mixed_script_word(p)) {
        warnings.push(warning(
            "latin_word_in_cjk_text",
            "a Latin word stands alone between Chinese characters; check the source",
        ));
    }

    let mut all_text = String::new();
    for s in std::iter::once(&headline)
        .chain(&subheadlines)
        .chain(&paragraphs)
    {
        all_text.push_str(s);
        all_text.push('\n');
    }
    // scalar values = bytes that do not continue a UTF-8 sequence, newlines excluded
    let char_count = all_text
        .bytes()
        .filter(|&b| (b & 0xC0) != 0x80 && b != b'\n')
        .count() as u32;
    let language = language_of(&all_text).to_owned();
    let mut date_text = dateline.clone();
    date_text.push('\n');
    date_text.push_str(&all_text);
    let dates = dates::find(&date_text, Some(issue))
        .into_iter()
        .map(|d| d.to_string())
        .collect();

    let mut page = position.clone();
    page.ordinal = ordinal;
    let id = format!("{id_prefix}/{ordinal}");
    let mut article = Article {
        id,
        version: String::new(),
        kind: kind as i32,
        language,
        headline,
        subheadlines,
        paragraphs,
        page: Some(page),
        references,
        credits,
        dates,
        char_count,
        warnings,
        dateline,
        ..Default::default()
    };
    article.version = version_of(&article);
    Some(article)
}

/// The content hash of an article: headline, subheadlines, paragraphs, dateline, credits and
/// references, each field length-prefixed so boundaries cannot shift.
pub fn version_of(a: &Article) -> String {
    let mut buf = Vec::with_capacity(a.char_count as usize * 3 + 256);
    let mut put = |s: &str| {
        buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
        buf.extend_from_slice(s.as_bytes());
    };
    put(&a.headline);
    for s in &a.subheadlines {
        put(s);
    }
    put("\u{0}paragraphs");
    for s in &a.paragraphs {
        put(s);
    }
    put(&a.dateline);
    for c in &a.credits {
        put(&c.text);
        put(&c.name);
    }
    for r in &a.references {
        put(&r.text);
    }
    put(&a.kind.to_string());
    blake3::hash(&buf).to_hex()[..16].to_owned()
}

fn dedup_credits(credits: &mut Vec<Credit>) {
    // an agency printed twice, once in full and once as its initials in the dateline
    // (`Associated Press` over `WASHINGTON (AP) —`): one credit, as first printed
    let agency_key = |name: &str| match name {
        "AP" => "Associated Press".to_owned(),
        other => other.to_owned(),
    };
    let mut seen: Vec<(String, i32)> = Vec::new();
    credits.retain(|c| {
        let key = (agency_key(&c.name), c.role);
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
}

/// `巩固率 and 基本`: a lone lower-case Latin word between CJK characters, usually a
/// converter or translation artefact worth a look.
fn mixed_script_word(p: &str) -> bool {
    let bytes = p.as_bytes();
    let mut from = 0;
    while let Some(pos) = p[from..].find(' ').map(|i| i + from) {
        from = pos + 1;
        let before = p[..pos].chars().next_back();
        let word_len = bytes[pos + 1..]
            .iter()
            .take_while(|b| b.is_ascii_lowercase())
            .count();
        if word_len == 0 || !before.is_some_and(text::is_cjk) {
            continue;
        }
        let after_word = &p[pos + 1 + word_len..];
        if after_word.starts_with(' ') && after_word[1..].chars().next().is_some_and(text::is_cjk) {
            return true;
        }
    }
    false
}

fn language_of(text: &str) -> &'static str {
    // Bytes, not chars: a lead byte E4..E9 starts a CJK unified ideograph; other non-ASCII
    // characters count for neither side.
    let (mut cjk, mut latin) = (0usize, 0usize);
    for &b in text.as_bytes() {
        if (0xE4..=0xE9).contains(&b) {
            cjk += 1;
        } else if b.is_ascii_alphabetic() {
            latin += 1;
        }
    }
    if cjk == 0 && latin == 0 {
        "und"
    } else if cjk * 3 >= latin {
        "zh"
    } else {
        "en"
    }
}

fn dominant_language(articles: &[Article]) -> String {
    let mut weights: Vec<(&str, u32)> = Vec::new();
    for a in articles {
        match weights.iter_mut().find(|(l, _)| *l == a.language) {
            Some((_, w)) => *w += a.char_count,
            None => weights.push((&a.language, a.char_count)),
        }
    }
    weights
        .into_iter()
        .max_by_key(|(_, w)| *w)
        .map_or("und", |(l, _)| l)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(content: &str, format: PageFormat) -> Page {
        let raw = RawPage {
            publication: "daily-herald".into(),
            issue_date: "2025-07-12".into(),
            page_number: 8,
            page_label: "A8".into(),
            format: format as i32,
            content: content.into(),
            ..RawPage::default()
        };
        parse_page(&raw, &Limits::default()).expect("parses")
    }

    #[test]
    fn a_note_in_brackets_under_a_title_is_not_the_headline() {
        // a short title over a longer note: without the rule the note is taken for the headline
        let page = "多问善听\n（一次年会上的话摘录）\n调查研究要多听各方面的意见，听了再想，想了再问，问清楚了再下结论。\n";
        let page = parse(page, PageFormat::PlainText);
        assert_eq!(
            page.articles[0].headline, "多问善听",
            "{:#?}",
            page.articles
        );
        assert_eq!(page.articles[0].subheadlines, ["（一次年会上的话摘录）"]);
    }

    #[test]
    fn a_sites_byline_rows_and_an_interviewers_line_are_credits() {
        // a column page of a news site: the writer in a `by:` row, the paper in a `From:` row
        let page = "<h1>Harbour plan needs a second look</h1>\n<p>by: Mara Quinlan</p>\n<p>From: The Coast Ledger</p>\n<p>The port board met on Monday to weigh the plan for the new quay, which would close the old ferry slip for two years.</p>\n<p>Fishers who use the slip say the board has not heard them, and they will ask for a vote.</p>\n";
        let page = parse(page, PageFormat::Html);
        assert_eq!(page.articles.len(), 1, "{:#?}", page.articles);
        let a = &page.articles[0];
        let names: Vec<(&str, CreditRole)> = a
            .credits
            .iter()
            .map(|c| (c.name.as_str(), c.role()))
            .collect();
        assert_eq!(
            names,
            [
                ("Mara Quinlan", CreditRole::Reporter),
                ("The Coast Ledger", CreditRole::Agency)
            ],
            "{a:#?}"
        );
        assert!(a.paragraphs.iter().all(|p| !p.contains("Ledger")), "{a:#?}");
        // a magazine interview: who asked the questions, on a line after the answers
        let page = "# Rivers in the dry season\n\nWhat changes when the rains fail?\n\nThe wells sink first, then the small canals, and the farmers must choose which fields to save.\n\nInterview by Tomas Velde\n";
        let page = parse(page, PageFormat::Markdown);
        let a = &page.articles[0];
        assert!(
            a.credits
                .iter()
                .any(|c| c.name == "Tomas Velde" && c.role() == CreditRole::Reporter),
            "{a:#?}"
        );
        assert!(a.paragraphs.iter().all(|p| !p.contains("Velde")), "{a:#?}");
    }

    #[test]
    fn an_interviews_title_over_the_line_naming_who_is_interviewed() {
        // a magazine's converted page, one printed line a line: the title, the interview
        // line in lower case, a deck, then the first question, which opens with a date
        let page = "## [Page 12](review.pdf#page=12) 0\nPower from the wind\ninterview with Lena Moravec\nA quiet turn in the energy debate\nIn March 1994 a group of engineers met in a small coastal town to ask\nwhether the region could live on wind alone. What came of it?\nThe group wrote a plan for twelve small farms along the cliffs, each\nowned by the villages near it, and the first two were built the next year.\nWhy did the villages agree so quickly? Because the plan let them sell the power they did not use, and the money\nwent to the schools and the harbour, which everyone could see.\nInterview by Tomas Velde\n";
        let page = parse(page, PageFormat::Markdown);
        let a = page
            .articles
            .iter()
            .find(|a| a.paragraphs.iter().any(|p| p.contains("engineers met")))
            .expect("the interview");
        assert_eq!(a.headline, "Power from the wind", "{:#?}", page.articles);
        assert!(
            a.credits.iter().any(|c| c.name == "Tomas Velde"),
            "{:#?}",
            page.articles
        );
    }

    #[test]
    fn a_sites_title_over_a_days_letters_is_no_item_of_its_own() {
        // a letters page of a news site: the section's label, the page's title naming the
        // letters with bars between, its deck, the desk's byline and posting rows and a call
        // for letters, then each letter under a lower heading with its writer's signature
        let page = "<h1>Readers Write |</h1>\n<h1>Letters: Bus fares | Park hours | Late trains</h1>\n<h2>Valley Courier letters for March 3</h2>\n<p>By Readers Write |</p>\n<p>POSTED: March 2 at 5 p.m.</p>\n<p>Send us your letter through the form. More Readers Write.</p>\n<h4>Bus fares hurt the people who ride most</h4>\n<p>The new fares fall hardest on those who take the bus every day to work, and the council should think again before the vote.</p>\n<p>Ida Brenner</p>\n<h4>Keep the park open until dark</h4>\n<p>Closing the gates at six in summer makes no sense when the light lasts until nine and families want to be outside.</p>\n<p>Oskar Lind</p>\n<h4>The late trains are late again</h4>\n<p>Three times this month the last train home left forty minutes behind time, and no one told the passengers why it waited.</p>\n<p>Ruth Adeyemi</p>\n";
        let page = parse(page, PageFormat::Html);
        let heads: Vec<&str> = page.articles.iter().map(|a| a.headline.as_str()).collect();
        assert_eq!(
            heads,
            [
                "Bus fares hurt the people who ride most",
                "Keep the park open until dark",
                "The late trains are late again"
            ],
            "{:#?}",
            page.articles
        );
    }

    #[test]
    fn the_last_letters_signature_over_a_picture_is_its_writers_credit() {
        // the page's last letter, its writer's name and town, then the site's author box
        // with its picture and a banner
        let page = "<h4>Keep the park open until dark</h4>\n<p>Closing the gates at six in summer makes no sense when the light lasts until nine and families want to be outside.</p>\n<p><strong>Oskar Lind</strong><br><em>Riverside</em></p>\n<img src=\"desk.png\" alt=\"\">\n<p>Readers Desk</p>\n";
        let page = parse(page, PageFormat::Html);
        let a = &page.articles[0];
        assert!(
            a.credits.iter().any(|c| c.name == "Oskar Lind"),
            "{:#?}",
            page.articles
        );
        assert!(a.paragraphs.iter().all(|p| !p.contains("Oskar")), "{a:#?}");
    }

    #[test]
    fn a_contributors_note_under_an_interview_is_part_of_it() {
        // after the interviewer's line and the folio, a note on the one interviewed: the name
        // in capitals, its sentence running on in lower case
        let page = "## [Page 12](review.pdf#page=12) 0\nPower from the wind\nThe engineers of a small coastal town asked in the spring whether the\nregion could live on wind alone, and wrote a plan for twelve small farms\nalong the cliffs, each owned by the villages near it.\nInterview by Tomas Velde\n13\nLENA MORAVEC\nis an engineer who has built wind farms on three coasts and teaches at\nthe technical college of the region.\n";
        let page = parse(page, PageFormat::Markdown);
        assert!(
            page.articles.iter().all(|a| a.headline != "LENA MORAVEC"),
            "{:#?}",
            page.articles
        );
        let a = page
            .articles
            .iter()
            .find(|a| a.headline == "Power from the wind")
            .expect("the interview");
        assert!(
            a.paragraphs.iter().any(|p| p.contains("is an engineer")),
            "{a:#?}"
        );
    }

    #[test]
    fn items_of_a_news_in_brief_column_are_briefs_with_or_without_a_headline() {
        let page = "本市简讯\n栏目介绍文字，由本报编辑部整理，每周一期。\n△市图书馆新馆昨天开放，首日接待读者三千多人次。\n△东郊公园的荷花节将于下周开幕，届时有游船和灯会。\n";
        let page = parse(page, PageFormat::PlainText);
        let items: Vec<(ArticleKind, &str)> = page
            .articles
            .iter()
            .filter(|a| a.paragraphs.iter().any(|p| p.starts_with(['市', '东'])))
            .map(|a| (a.kind(), a.headline.as_str()))
            .collect();
        assert_eq!(
            items,
            [(ArticleKind::Brief, ""), (ArticleKind::Brief, "")],
            "{:#?}",
            page.articles
        );
    }

    #[test]
    fn text_after_a_story_jumped_to_another_page_is_another_item() {
        // one paragraph a line: the story's part on this page ends with its jump; the line
        // after it is a pointer to another page, and a photo caption follows
        let page = "Council cuts parks budget\nBy Ann Lee\nThe city council voted on Tuesday to cut the budget of the parks by a tenth, and the mayor said she would sign it.\nTwo members voted against the cut, saying the parks had been cut enough in recent years.\nThe vote came after a long hearing at which forty residents spoke about the pools.\nThe mayor said the cut would fall on the summer programs first. See BUDGET, page 3\nStudents who want to study abroad may find the forms harder than the trip. See TRAVEL, page 5\n";
        let page = parse(page, PageFormat::PlainText);
        assert_eq!(page.articles.len(), 2, "{:#?}", page.articles);
        assert!(page.articles[1].paragraphs[0].starts_with("Students who want"));
        // a line of the story set again after the jump (a pull quote) stays in the story
        let page = "Council cuts parks budget\nBy Ann Lee\nThe mayor said the cut would fall on the summer programs first, and the pools would close early.\nThe city council voted on Tuesday to cut the budget of the parks by a tenth.\nSee BUDGET, page 3\nThe mayor said the cut would \"fall on the summer programs first.\"\n";
        let page = parse(page, PageFormat::PlainText);
        assert_eq!(page.articles.len(), 1, "{:#?}", page.articles);
    }

    #[test]
    fn entries_of_a_front_page_index_box_are_teasers() {
        let page = "Council cuts parks budget\nThe city council voted on Tuesday to cut the budget of the parks by a tenth, and the mayor said she would sign it.\nSee BUDGET, page 5\n\nNation\nThe president named a new envoy to the talks on trade / page twO\nCity\nThe council began its review of next year's budget / page three\nSports\nThe athletes of the week are two runners from the track team / back page\n";
        let page = parse(page, PageFormat::PlainText);
        let teasers: Vec<(&str, &str)> = page
            .articles
            .iter()
            .filter(|a| a.kind() == ArticleKind::Teaser)
            .map(|a| (a.headline.as_str(), a.references[0].page_label.as_str()))
            .collect();
        assert_eq!(
            teasers,
            [
                ("The president named a new envoy to the talks on trade", "2"),
                ("The council began its review of next year's budget", "3"),
                (
                    "The athletes of the week are two runners from the track team",
                    "BACK"
                )
            ]
        );
        // the labels are not text of the story above
        assert!(!page.articles[0]
            .paragraphs
            .iter()
            .any(|p| p.contains("Nation")));
    }

    #[test]
    fn parse_page_checks_the_position_by_the_boundary_rules() {
        let ok = RawPage {
            publication: "daily-herald".into(),
            issue_date: "2025-07-12".into(),
            page_number: 8,
            format: PageFormat::Markdown as i32,
            content: "# Title\n\nText of the article.\n".into(),
            ..RawPage::default()
        };
        let field = |raw: RawPage| match parse_page(&raw, &Limits::default()) {
            Err(ParseError::InvalidMetadata { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        // rules the parser did not have before: controls in the edition, the label and name
        // limits, signs in the date's digits
        assert_eq!(
            field(RawPage {
                edition: "a\u{7}".into(),
                ..ok.clone()
            }),
            "edition"
        );
        assert_eq!(
            field(RawPage {
                page_label: "x".repeat(33),
                ..ok.clone()
            }),
            "page_label"
        );
        assert_eq!(
            field(RawPage {
                page_name: "a\nb".into(),
                ..ok.clone()
            }),
            "page_name"
        );
        assert_eq!(
            field(RawPage {
                issue_date: "2025-+7-12".into(),
                ..ok.clone()
            }),
            "issue_date"
        );
        let page = parse_page(&ok, &Limits::default()).expect("parses");
        assert_eq!(page.articles[0].id, "daily-herald/2025-07-12/main/8/1");
        let position = page.page.expect("position");
        assert_eq!((position.page_label.as_str(), position.ordinal), ("08", 0));
        // parse_at reads the position it is given, not the raw page's fields
        let at = PrintPosition::from_raw(&RawPage {
            edition: "late".into(),
            ..ok.clone()
        })
        .unwrap();
        let page = parse_at(&ok, &at, &Limits::default()).expect("parses");
        assert_eq!(page.articles[0].id, "daily-herald/2025-07-12/late/8/1");
    }

    #[test]
    fn a_list_of_book_notices_is_one_item_and_the_news_under_it_is_another() {
        let page = "## [Page 9](review.pdf#page=9) 0\nBOOK NOTES\nNEW TITLES\nRivers of the Dry Plain\nA survey of small irrigation works\nBy Ana Ruiz\nHarbour Press, Leeds\n1968 (£2, $6.00).\nMaps for Village Schools\n(Teaching Aids, No. 4)\n1969 (40p, $1.20).\nA Short History\nof Hand Printing\nBy Tom Reyes and Lena Park\n(5/6).\nNew museum of tools\nopens in the old port\nA museum of farm and workshop tools opened\nlast month in the old port warehouse, with\nploughs, looms and presses given by the\nfamilies of the district. Entry is free for\nschool classes, and the museum plans a\nseries of talks on old crafts this winter\n(tickets $2).\nPrize for young\nwriters announced\nA prize for writers under twenty-five was\nannounced by the review this month. Stories\nof up to three thousand words may be sent\nbefore the end of the year, and the winning\nstory will be printed in the spring issue.\n";
        let page = parse(page, PageFormat::Markdown);
        let heads: Vec<&str> = page.articles.iter().map(|a| a.headline.as_str()).collect();
        // the notices (each title over its author, publisher and price) are one item (the
        // headline right under the last notice is taken for a title too: a known loss)
        assert!(
            page.articles[0]
                .paragraphs
                .join(" ")
                .contains("Maps for Village Schools"),
            "{heads:?}"
        );
        assert!(
            page.articles[0]
                .paragraphs
                .join(" ")
                .contains("of Hand Printing"),
            "{heads:?}"
        );
        // a news item of prose that names a price does not swallow the headline under it
        assert_eq!(
            heads.last(),
            Some(&"Prize for young writers announced"),
            "{heads:?}"
        );
        assert_eq!(heads.len(), 2, "{heads:?}");
    }

    #[test]
    fn a_converted_page_with_a_titled_photo_and_a_continuation_from_page_one() {
        let page = "# 某县推广节水灌溉\n\n本报讯 某县今年推广滴灌和喷灌面积五万亩，每亩节水三成，农民增收明显，县里还将继续扩大推广范围。\n\n![](./imgs/p2_1.jpg)\n\n专家田间教修剪\n\n近日，省农科院专家来到某村，在果园里为果农讲解修剪技术。\n\n（上接第一版）全年粮食产量比上年增加一成，农民人均收入增长百分之八，各项事业全面进步。\n\n农村改革继续深化，土地承包关系保持稳定。\n\n# 某市开通城乡公交\n\n本报讯 某市新开通城乡公交线路十二条，覆盖全部乡镇。\n";
        let page = parse(page, PageFormat::Markdown);
        let got: Vec<(ArticleKind, &str)> = page
            .articles
            .iter()
            .map(|a| (a.kind(), a.headline.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (ArticleKind::Brief, "某县推广节水灌溉"),
                (ArticleKind::Photo, "专家田间教修剪"),
                (ArticleKind::Fragment, ""),
                (ArticleKind::Brief, "某市开通城乡公交"),
            ]
        );
        assert_eq!(
            page.articles[2].references[0].kind(),
            PageReferenceKind::ContinuedFrom
        );
    }

    #[test]
    fn a_picture_inside_a_converted_story_keeps_the_story_whole() {
        // a converter puts the picture and its caption where they sit in the column; the
        // story goes on under the caption, whose photo credit (run on, or in brackets with
        // the paper after a slash) is the story's
        for caption in [
            "Ferry riders wait in the rain at the west dock. Photo by Ada Lind",
            "Ferry riders wait in the rain at the west dock. (Photo by Ada Lind/Harbor News)",
        ] {
            let page = format!(
                "# Ferry fares to rise in spring\n\nBy Tom Reyes\n\nPORT ELLEN — The ferry board voted on Tuesday to raise fares by ten percent from April.\n\n![](images/p1_2.jpg)\n\n{caption}\n\n\"We had no other way to pay for the new boat,\" the board's chair said after the vote.\n\n# Library hours grow\n\nThe town library will open on Sundays from May, the council said on Monday.\n"
            );
            let page = parse(&page, PageFormat::Markdown);
            let got: Vec<(ArticleKind, &str)> = page
                .articles
                .iter()
                .map(|a| (a.kind(), a.headline.as_str()))
                .collect();
            assert_eq!(
                got,
                [
                    (ArticleKind::Brief, "Ferry fares to rise in spring"),
                    (ArticleKind::Brief, "Library hours grow"),
                ],
                "{caption}"
            );
            let story = &page.articles[0];
            let names: Vec<(&str, CreditRole)> = story
                .credits
                .iter()
                .map(|c| (c.name.as_str(), c.role()))
                .collect();
            assert_eq!(
                names,
                [
                    ("Tom Reyes", CreditRole::Reporter),
                    ("Ada Lind", CreditRole::Photographer)
                ]
            );
            assert!(story.paragraphs[1].ends_with("at the west dock."));
            assert!(story.paragraphs[2].starts_with("\"We had no other way"));
        }
    }

    #[test]
    fn a_jump_word_line_is_neither_masthead_nor_text_of_the_article_above() {
        let page = parse(
            "STORM\nFrom Page A1\n  Crews worked through the night to restore power.\n\nCITY BUDGET\n(Continued from Page A1)\n  The council will vote on July 24.\n",
            PageFormat::PlainText,
        );
        assert!(page.masthead.unwrap_or_default().lines.is_empty());
        let got: Vec<(&str, String, &str)> = page
            .articles
            .iter()
            .map(|a| {
                (
                    a.headline.as_str(),
                    a.paragraphs.join(" | "),
                    a.references[0].jump_word.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "",
                    "Crews worked through the night to restore power.".into(),
                    "STORM"
                ),
                (
                    "",
                    "The council will vote on July 24.".into(),
                    "CITY BUDGET"
                ),
            ]
        );
    }

    #[test]
    fn a_headline_over_a_from_marker_heads_the_continuation() {
        let page = parse(
            "  The last words of the article above.\n\nFair Draws Record Crowd\nContinued from Page A1\n  Vendors said sales were the best they had seen in years.\n",
            PageFormat::PlainText,
        );
        let [above, cont] = page.articles.as_slice() else {
            panic!("two articles: {:?}", page.articles);
        };
        assert_eq!(above.paragraphs, ["The last words of the article above."]);
        assert!(above.references.is_empty());
        assert_eq!(cont.headline, "Fair Draws Record Crowd");
        assert_eq!(
            (
                cont.references[0].kind(),
                cont.references[0].jump_word.as_str()
            ),
            (PageReferenceKind::ContinuedFrom, "")
        );
        // at the top of a page it is no masthead line either
        let page = parse(
            "Fair Draws Record Crowd\nContinued from Page A1\n\nVendors said sales were the best they had seen in years.\n",
            PageFormat::Markdown,
        );
        assert!(page.masthead.unwrap_or_default().lines.is_empty());
        assert_eq!(page.articles[0].headline, "Fair Draws Record Crowd");
    }

    #[test]
    fn a_kicker_in_short_parts_over_a_converted_headline() {
        let stack = |lines: &[&str]| {
            let l: Vec<(u8, String)> = lines.iter().map(|t| (1, (*t).to_owned())).collect();
            resolve_headlines(
                &l,
                false,
                Date {
                    year: 2025,
                    month: 7,
                    day: 12,
                },
            )
            .0
        };
        assert_eq!(
            stack(&["稳产量", "保供给", "全省多举措扶持秋粮生产"]),
            "全省多举措扶持秋粮生产"
        );
        // a long first line is no short kicker: the second line stays the headline
        assert_eq!(
            stack(&["全省多举措扶持秋粮生产", "稳产量保供给", "十个市县先行先试"]),
            "稳产量保供给"
        );
    }

    #[test]
    fn a_three_line_chinese_stack_is_kicker_headline_and_subtitle() {
        let page = "1963年5月2日某日报 第2版\n为秋收打好基础\n全县农机站完成检修\n三百台拖拉机将分批下乡支援各公社\n本报讯 县农机局昨天说，全县二十个农机站已经完成了今年的检修任务。\n检修后的机具由各站统一调配。\n";
        let page = parse(page, PageFormat::PlainText);
        assert_eq!(page.articles[0].headline, "全县农机站完成检修");
        assert_eq!(
            page.articles[0].subheadlines,
            ["为秋收打好基础", "三百台拖拉机将分批下乡支援各公社"]
        );
    }

    #[test]
    fn a_chinese_page_that_stops_mid_sentence_ends_on_the_start_of_a_story() {
        let page = |last: &str| {
            format!(
                "某日报 第4版\n全市夏粮收购过半\n本报讯 截至昨天，全市已收购夏粮十二万吨，比去年同期多两成。\n收购点延长了开放时间，农民不必排长队。\n新建的两座粮库下月投入使用。\n城东新区学校开工\n本报讯 {last}\n"
            )
        };
        let cut = parse(
            &page("城东新区第一所九年制学校昨天开工，计划明年秋季招生，设"),
            PageFormat::PlainText,
        );
        assert_eq!(cut.articles.len(), 2);
        assert_eq!(cut.articles[1].kind(), ArticleKind::Story);
        let whole = parse(
            &page("城东新区第一所九年制学校昨天开工，计划明年秋季招生。"),
            PageFormat::PlainText,
        );
        assert_eq!(whole.articles[1].kind(), ArticleKind::Brief);
    }

    #[test]
    fn a_short_caption_without_a_dateline_at_the_top_of_a_page_is_a_photo() {
        let page = |top: &str| {
            format!(
                "某日报 第1版\n{top}\n全市夏粮收购过半\n本报讯 截至昨天，全市已收购夏粮十二万吨，比去年同期多两成。\n"
            )
        };
        let captioned = parse(
            &page("我们的新城市\n这是新建成的城东工人住宅区。住户们正在搬进新居，区里的商店和学校也已开门。"),
            PageFormat::PlainText,
        );
        assert_eq!(captioned.articles[0].kind(), ArticleKind::Photo);
        assert_eq!(captioned.articles[1].kind(), ArticleKind::Brief);
        // a brief with a dateline is no caption, nor is a quotation box
        let brief = parse(
            &page(
                "城东住宅区建成\n本报讯 新建成的城东工人住宅区昨天交付使用，住户们正在搬进新居。",
            ),
            PageFormat::PlainText,
        );
        assert_eq!(brief.articles[0].kind(), ArticleKind::Brief);
        let quotation = parse(
            &page("毛主席语录\n我们的教育方针，应该使受教育者在德育、智育、体育几方面都得到发展。"),
            PageFormat::PlainText,
        );
        assert_ne!(quotation.articles[0].kind(), ArticleKind::Photo);
    }

    #[test]
    fn every_warm_up_page_parses() {
        for (format, content) in WARM_UP_PAGES {
            let page = parse(content, format);
            assert!(!page.articles.is_empty(), "{content}");
        }
        warm_up();
    }
}
