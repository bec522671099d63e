//! From page text to a flat list of [`Item`]s: headings, paragraphs, credit lines, reference
//! lines, furniture and images, each line classified once. Markdown, plain OCR text and
//! HTML all end up here in the same shape.

use crate::parse::credits;
use crate::parse::furniture::{self, Furniture};
use crate::parse::heads;
use crate::parse::markers::{self, Found};
use crate::parse::text::{self, collapse_ws, strip_inline_markup};
use crate::proto::{Credit, CreditRole, PageReferenceKind};

/// How the page text is written, after sniffing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// `#` headings and blank-line paragraphs.
    Markdown,
    /// No markup: headlines must be guessed.
    Plain,
}

/// One classified piece of the page, in reading order.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A markdown heading that is not furniture, a credit or a marker.
    Heading { level: u8, text: String },
    /// A paragraph as its lines; `hard` when the lines were split by markdown hard breaks.
    Text { lines: Vec<String>, hard: bool },
    /// A line that is only a credit.
    Credit(Vec<Credit>),
    /// A line that is only page references.
    Reference(Vec<Found>),
    /// A masthead, colophon, page or editor line.
    Furniture(Furniture, String),
    /// An image link (the picture of a photo story).
    Image,
    /// A section label such as 导读 / INSIDE: what follows are teasers.
    TeaserSection,
    /// A separator line of symbols (`***`, `☆☆☆`): the item above ends here.
    Separator,
    /// A bullet (`△`) that starts an item of a news-in-brief column: the item is a brief,
    /// headline or not. Follows the separator that ends the item above.
    Bullet,
}

/// Sniffs markdown: any ATX heading or image link.
pub fn sniff(content: &str) -> Syntax {
    let markdown = content.lines().take(5000).any(|l| {
        let t = l.trim_start();
        (t.starts_with('#') && heading(t).is_some()) || t.starts_with("![")
    });
    if markdown {
        Syntax::Markdown
    } else {
        Syntax::Plain
    }
}

/// `# text` → (1, "text"); `#hashtag` is not a heading.
fn heading(line: &str) -> Option<(u8, &str)> {
    let t = line.trim_start();
    if line.len() - t.len() > 3 {
        return None;
    }
    let level = t.bytes().take_while(|&b| b == b'#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = &t[level..];
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let rest = rest.trim().trim_end_matches('#').trim_end();
    Some((level as u8, rest))
}

fn is_teaser_section(text: &str) -> bool {
    let t = text
        .trim()
        .trim_matches(['【', '】', '[', ']', '■', '▲', '●', '◆', ' ', ':', '：']);
    matches!(
        t,
        "导读" | "今日导读" | "本期导读" | "要闻导读" | "导 读" | "今日关注"
    ) || t.eq_ignore_ascii_case("inside")
        || t.eq_ignore_ascii_case("inside today")
        || t.eq_ignore_ascii_case("in this section")
}

/// Is the line only page references (plus brackets and punctuation)?
fn reference_only(line: &str) -> Option<Vec<Found>> {
    if line.chars().count() > 60 {
        return None;
    }
    let found = markers::find(line);
    if found.is_empty() {
        return None;
    }
    let mut rest = String::new();
    let mut last = 0;
    for f in &found {
        if f.range.start >= last {
            rest.push_str(&line[last..f.range.start]);
            last = f.range.end;
        }
    }
    rest.push_str(&line[last..]);
    let leftover = rest.chars().filter(|c| c.is_alphanumeric()).count();
    (leftover == 0).then_some(found)
}

/// A classified non-heading line.
enum LineKind {
    Text(String),
    Other(Item),
}

fn classify_line(line: String, page_name: &str) -> LineKind {
    if let Some(f) = furniture::classify(&line, page_name) {
        return LineKind::Other(Item::Furniture(f, line));
    }
    if let Some(found) = reference_only(&line) {
        return LineKind::Other(Item::Reference(found));
    }
    if let Some(c) = credits::credit_line(&line) {
        return LineKind::Other(Item::Credit(c.credits));
    }
    if is_teaser_section(&line) {
        return LineKind::Other(Item::TeaserSection);
    }
    LineKind::Text(line)
}

/// One line of the page after the first pass: what it is, before headlines are guessed and
/// paragraphs grouped.
enum Pre {
    Blank,
    /// A markdown heading that is article text.
    Heading {
        level: u8,
        text: String,
    },
    /// A line of text (a paragraph line or a headline still to be guessed).
    Text(String),
    /// A line that is something else: credit, marker, furniture, image, teaser label.
    Other(Item),
}

/// A line of the first pass with its layout.
struct PreLine {
    pre: Pre,
    indent: usize,
    /// Markdown hard break at the end of the line.
    hard_break: bool,
}

impl PreLine {
    /// A text line becomes a furniture line (other lines keep what they are).
    fn make_furniture(&mut self) {
        if let Pre::Text(t) = &mut self.pre {
            let t = std::mem::take(t);
            self.pre = Pre::Other(Item::Furniture(Furniture::Line, t));
        }
    }
}

/// Leading spaces of a line: an ASCII space counts one, a full-width space two.
fn indent_of(raw: &str) -> usize {
    raw.chars()
        .take_while(|c| matches!(c, ' ' | '\u{3000}' | '\t'))
        .map(|c| if c == ' ' { 1 } else { 2 })
        .sum()
}

/// First pass: each line classified once.
fn pre_lines(content: &str, syntax: Syntax, page_name: &str) -> Vec<PreLine> {
    let mut out = Vec::new();
    for raw in content.split('\n') {
        let hard_break = syntax == Syntax::Markdown && (raw.ends_with("  ") || raw.ends_with('\\'));
        let indent = indent_of(raw);
        let push = |out: &mut Vec<PreLine>, pre: Pre| {
            out.push(PreLine {
                pre,
                indent,
                hard_break,
            })
        };
        if syntax == Syntax::Markdown {
            if let Some((level, text)) = heading(raw) {
                let (clean, image) = strip_inline_markup(text);
                let clean = collapse_ws(&clean);
                if image {
                    push(&mut out, Pre::Other(Item::Image));
                }
                if clean.is_empty() {
                    continue;
                }
                match classify_line(clean, page_name) {
                    LineKind::Text(t) if is_teaser_section(&t) => {
                        push(&mut out, Pre::Other(Item::TeaserSection))
                    }
                    LineKind::Text(t) => push(&mut out, Pre::Heading { level, text: t }),
                    LineKind::Other(item) => push(&mut out, Pre::Other(item)),
                }
                continue;
            }
        }
        let mut line = raw.trim();
        if syntax == Syntax::Markdown {
            line = line.trim_start_matches('>').trim_start();
            for bullet in ["- ", "* ", "+ "] {
                line = line.strip_prefix(bullet).unwrap_or(line);
            }
        }
        let (clean, image) = if syntax == Syntax::Markdown {
            strip_inline_markup(line)
        } else {
            (text::decode_entities(line), false)
        };
        let clean = collapse_ws(&clean);
        if image {
            push(&mut out, Pre::Other(Item::Image));
        }
        // a separator line of symbols (`***`, `———`, `☆☆☆`) ends the item above
        if is_separator(&clean) {
            push(&mut out, Pre::Other(Item::Separator));
            continue;
        }
        if clean.is_empty() {
            if !image {
                push(&mut out, Pre::Blank);
            }
            continue;
        }
        match classify_line(clean, page_name) {
            LineKind::Other(Item::Credit(c))
                if c.first()
                    .is_some_and(|c| byline_runs_on(out.last(), &c.text)) =>
            {
                let line = c.into_iter().next().expect("one credit").text;
                push(&mut out, Pre::Text(line))
            }
            LineKind::Text(t) if index_pointer(&t) => {
                // an entry of the front page's index box, with the section label above it
                let labels = out
                    .iter()
                    .rev()
                    .take(2)
                    .take_while(|l| matches!(&l.pre, Pre::Text(x) if index_label(x)))
                    .count();
                let at = out.len() - labels;
                out.insert(
                    at,
                    PreLine {
                        pre: Pre::Other(Item::TeaserSection),
                        indent: 0,
                        hard_break: false,
                    },
                );
                push(&mut out, Pre::Text(t));
                push(&mut out, Pre::Other(Item::Separator));
            }
            LineKind::Text(t) => push(&mut out, Pre::Text(t)),
            LineKind::Other(item) => push(&mut out, Pre::Other(item)),
        }
    }
    out
}

/// Does the line end in an index box's pointer (`… / page three`, `… / back page`)? A cheap
/// test on the line's end first: most lines have no slash near it.
fn index_pointer(t: &str) -> bool {
    let tail = t.len().saturating_sub(24);
    t.is_char_boundary(tail)
        && t[tail..].contains('/')
        && markers::find(t).last().is_some_and(|f| {
            f.range.end >= t.trim_end().len() && f.reference.kind() == PageReferenceKind::SeeAlso
        })
}

/// A section label over an index entry (`Nation`, `City`, `Sports`), or OCR specks beside
/// it: one or two words, no sentence end.
fn index_label(t: &str) -> bool {
    t.split_whitespace().nth(2).is_none() && !text::ends_sentence(t)
}

/// The writer's title under a byline that ends in a comma, set on lines of its own until one
/// ends without a comma (`by Dr. Edwin ZIEGFELD,` / `Head, Department of Fine Arts,` /
/// `Teachers' College, Columbia University`): part of the credit, not the text. At most
/// three such lines, each short, naming a post or a place of work, and ending no sentence.
fn mark_byline_affiliations(lines: &mut [PreLine]) {
    // a title names a post or a place of work; a column line of the story does not
    // (`The Senate voted on Tuesday to approve the`)
    const POSTS: [&str; 20] = [
        "head",
        "director",
        "professor",
        "lecturer",
        "dean",
        "editor",
        "chairman",
        "president",
        "secretary",
        "fellow",
        "college",
        "university",
        "department",
        "institute",
        "school",
        "museum",
        "society",
        "academy",
        "council",
        "ministry",
    ];
    for i in 0..lines.len() {
        let open = matches!(&lines[i].pre, Pre::Other(Item::Credit(c))
            if c.len() == 1 && c[0].role() == CreditRole::Reporter && c[0].text.ends_with(','));
        if !open {
            continue;
        }
        for k in i + 1..lines.len().min(i + 4) {
            let Pre::Text(t) = &lines[k].pre else {
                break;
            };
            let post = t
                .split(|c: char| !c.is_alphabetic())
                .any(|w| POSTS.iter().any(|p| w.eq_ignore_ascii_case(p)));
            let short = t.split_whitespace().count() <= 10
                && t.starts_with(|c: char| c.is_uppercase())
                && post
                && !t.chars().any(text::is_cjk);
            let more = t.ends_with(',');
            if !short || (!more && ends_paragraph(t)) {
                break;
            }
            lines[k].pre = Pre::Other(Item::Credit(Vec::new()));
            if !more {
                break;
            }
        }
    }
}

/// English month names, lower case.
const EN_MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A magazine's or paper's running head wherever the converter put it: the page number
/// with the title and the issue's month and year (`20 The UNESCO Courier - September 2000`,
/// `4The Courier - July-August 2006`), or the title with its page (`UNESCO COURIER-Page 6`).
/// A short line, no sentence; a jump line (`See BUDGET, page 3`) has no dash before `page`.
fn en_running_head(t: &str) -> bool {
    // a folio at one end: most lines stop here, before anything is allocated
    let b = t.as_bytes();
    if t.len() > 90
        || !(b.first().is_some_and(u8::is_ascii_digit) || b.last().is_some_and(u8::is_ascii_digit))
        || t.split_whitespace().nth(10).is_some()
        || t.chars().any(text::is_cjk)
    {
        return false;
    }
    let lower = t.to_ascii_lowercase();
    // a jump line is no running head
    if ["see ", "continued", "turn to"]
        .iter()
        .any(|j| lower.starts_with(j))
    {
        return false;
    }
    let parts: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .collect();
    let Some(&last) = parts.last() else {
        return false;
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    // the title: a capitalised word of three letters or more that is no month
    let titled = t.split(|c: char| !c.is_alphanumeric()).any(|w| {
        w.len() >= 3
            && w.starts_with(|c: char| c.is_ascii_uppercase())
            && !EN_MONTHS.contains(&w.to_ascii_lowercase().as_str())
    });
    // `… - Page 6`, `…-Page 6`
    let dashed_page = digits(last)
        && last.len() <= 3
        && parts.len() >= 2
        && parts[parts.len() - 2] == "page"
        && lower
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == ' ')
            .strip_suffix("page")
            .is_some_and(|b| b.trim_end().ends_with(['-', '–', '—', '|']));
    // a folio at the start (maybe run into the title: `4The`), a month, and the year at the end
    let folio_first = (1..=3).contains(&t.bytes().take_while(u8::is_ascii_digit).count());
    let month = parts.iter().any(|p| EN_MONTHS.contains(p));
    // the title set off from the date (`Courier - September 2000`), not a headline's number
    // (`15 Americans killed since March 2003`)
    let set_off = t.contains(" - ") || t.contains(['–', '—', '|']);
    let year_last = last.len() == 4 && digits(last) && matches!(&last[..2], "18" | "19" | "20");
    // without a folio: the title closed by a full stop over the month and year, and nothing
    // else (`The Unesco Courier. February 1958`, as OCR damaged it)
    let dated_title = parts.len() >= 4
        && parts.len() <= 7
        && month
        && EN_MONTHS.contains(&parts[parts.len() - 2])
        && t.trim_end()
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .trim_end()
            .trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .trim_end()
            .ends_with('.');
    titled && (dashed_page || (year_last && ((folio_first && set_off && month) || dated_title)))
}

/// Running heads ([`en_running_head`]) are furniture, wherever the converter put them.
fn mark_running_heads(lines: &mut [PreLine]) {
    for l in lines.iter_mut() {
        if matches!(&l.pre, Pre::Text(t) if en_running_head(t)) {
            l.make_furniture();
        }
    }
}

/// A magazine's byline box set line by line: `by` alone, the writer's name in capitals, the
/// writer's title, and perhaps `and` with a second name and title
/// (`by` / `ARTHUR ELTON` / `Director of the Film Institute` / `, and` / `SINCLAIR ROAD` / …).
/// The names are the credits; the other lines are part of them.
fn mark_byline_boxes(lines: &mut [PreLine]) {
    let text_at = |lines: &[PreLine], k: usize| match lines.get(k).map(|l| &l.pre) {
        Some(Pre::Text(t)) => Some(t.clone()),
        _ => None,
    };
    let caps_name = |t: &str| {
        let words = t.split_whitespace().count();
        (2..=4).contains(&words)
            && t.len() <= 40
            && t.chars()
                .filter(|c| c.is_alphabetic())
                .all(char::is_uppercase)
            && t.chars().any(char::is_alphabetic)
    };
    let title = |t: &str| {
        t.len() <= 60
            && t.starts_with(char::is_uppercase)
            && !text::ends_sentence(t)
            && t.split_whitespace().count() <= 9
    };
    let mut i = 0;
    while i < lines.len() {
        let is_by = matches!(&lines[i].pre, Pre::Text(t) if t.eq_ignore_ascii_case("by"));
        if !is_by || !text_at(lines, i + 1).is_some_and(|t| caps_name(&t)) {
            i += 1;
            continue;
        }
        lines[i].pre = Pre::Other(Item::Credit(Vec::new()));
        let mut k = i + 1;
        while let Some(name) = text_at(lines, k).filter(|t| caps_name(t)) {
            lines[k].pre = Pre::Other(Item::Credit(vec![Credit {
                name: name.clone(),
                role: CreditRole::Reporter as i32,
                text: name,
            }]));
            k += 1;
            if text_at(lines, k).is_some_and(|t| title(&t)) {
                lines[k].pre = Pre::Other(Item::Credit(Vec::new()));
                k += 1;
            }
            // a second writer: `and` / `, and` over the next name
            let and = text_at(lines, k)
                .is_some_and(|t| t.trim_start_matches([',', ' ']).eq_ignore_ascii_case("and"));
            if and && text_at(lines, k + 1).is_some_and(|t| caps_name(&t)) {
                lines[k].pre = Pre::Other(Item::Credit(Vec::new()));
                k += 1;
            } else {
                break;
            }
        }
        i = k;
    }
}

/// `…the best essay in this group was won` / `by Millicent Chalmers, Hornsby…`: a line
/// opening with a lower-case `by` under a line of running text that stops mid-sentence (a
/// body line of six words or more ending in a lower-case word) carries the sentence on; it
/// is no byline.
fn byline_runs_on(prev: Option<&PreLine>, line: &str) -> bool {
    // (a writer's title run on to the line makes it a byline: `by Ann Lee StaH Wrilar`)
    if !line.starts_with("by ") || credits::has_run_on_title(line) {
        return false;
    }
    let Some(PreLine {
        pre: Pre::Text(above),
        ..
    }) = prev
    else {
        return false;
    };
    // (or a byline broken mid-word at its end: `by Watson Davis, Direc-`)
    let broken = heads::word_broken(line);
    // (a headline in sentence case stops mid-sentence too: under one of ten words or fewer
    // only a byline that itself runs on, or ends a sentence, carries a sentence on)
    let words = above.split_whitespace().count();
    let runs_on = words > 10 || line.trim_end().ends_with([',', ';', '.']);
    above.ends_with(|c: char| c.is_lowercase()) && ((words > 5 && runs_on) || (broken && words > 2))
}

/// An author's name on its own line between a title and the text (poems, essays, foreign
/// contributors: `穆穆篇` / `郭沫若` / verse) is a credit. Only where it stands tells a name from
/// a short line of text: under a title-shaped line (short, no sentence end) that stands apart
/// from the text above it, and over a line of text.
fn mark_author_lines(lines: &mut [PreLine]) {
    let non_blank = |lines: &[PreLine], from: usize, back: bool| -> Option<usize> {
        if back {
            (0..from)
                .rev()
                .find(|&k| !matches!(lines[k].pre, Pre::Blank))
        } else {
            (from + 1..lines.len()).find(|&k| !matches!(lines[k].pre, Pre::Blank))
        }
    };
    for i in 0..lines.len() {
        let Pre::Text(t) = &lines[i].pre else {
            continue;
        };
        // cheap shape check first: a name line is short and starts with a Han character
        // (lead bytes E3..EF), a bracket or a middle dot
        if t.len() > 60 || !(t.as_bytes()[0] >= 0xE3 || t.starts_with(['〔', '[', '［', '·'])) {
            continue;
        }
        // (a pen name without a known surname only between a title and its text)
        let (credits, pen_name) = match credits::author_line(t) {
            Some(c) => (c, false),
            None => match credits::pen_name_line(t) {
                Some(c) => (c, true),
                None => continue,
            },
        };
        // the title stands apart: above it the page starts, a blank line, a heading or
        // furniture, or a line that ends its paragraph (or a subtitle line under the title)
        let title_at = |k: usize| match &lines[k].pre {
            Pre::Text(p) | Pre::Heading { text: p, .. } => {
                text::char_len(p) <= 30 && !ends_paragraph(p) && text::text_weight(p) > 0
            }
            _ => false,
        };
        let apart = |k: usize| {
            k == 0
                || match &lines[k - 1].pre {
                    Pre::Text(p) => ends_paragraph(p) || heads::closing_line(p),
                    _ => true,
                }
        };
        // (a pen name only right under a one-line title that is no name itself: under a
        // poet's name, `延安` is the title of the first poem)
        let title = non_blank(lines, i, true).is_some_and(|k| {
            let name_above =
                matches!(&lines[k].pre, Pre::Text(p) if credits::author_line(p).is_some());
            title_at(k)
                && if pen_name {
                    apart(k) && !name_above
                } else {
                    apart(k) || (k > 0 && title_at(k - 1) && apart(k - 1))
                }
        });
        let text_at = |k: usize, weight: usize| match &lines[k].pre {
            Pre::Text(n) => text::text_weight(n) >= weight && credits::author_line(n).is_none(),
            _ => false,
        };
        // between the name and the text may stand a part number (`(一)`, `一`, `之一`)
        let part_at = |k: usize| match &lines[k].pre {
            Pre::Text(p) => part_number(p),
            _ => false,
        };
        let below = non_blank(lines, i, false);
        let body = below.is_some_and(|k| {
            text_at(k, 6)
                || (part_at(k) && non_blank(lines, k, false).is_some_and(|m| text_at(m, 6)))
        });
        // a full name (three characters or more) opening the page, the title cut off above
        // it, over a whole paragraph
        let top = match non_blank(lines, i, true) {
            None => true,
            Some(k) => matches!(lines[k].pre, Pre::Other(Item::Furniture(..))),
        } && text::char_len(t) >= 3
            && below.is_some_and(|k| {
                text_at(k, 30) && matches!(&lines[k].pre, Pre::Text(n) if text::ends_sentence(n))
            });
        // the reporters of the article above, named after its last paragraph (`张某  李某某
        // 王某`): two or three names, under finished text, over the next title or the end
        let closing = credits.len() >= 2
            && non_blank(lines, i, true).is_some_and(|k| {
                matches!(&lines[k].pre, Pre::Text(p) if text::text_weight(p) >= 30 && ends_paragraph(p))
            })
            && below.is_none_or(|k| match &lines[k].pre {
                Pre::Heading { .. } => true,
                Pre::Text(n) => text::char_len(n) <= 30 && !ends_paragraph(n),
                _ => false,
            });
        if (title && body) || (!pen_name && (top || closing)) {
            lines[i].pre = Pre::Other(Item::Credit(credits));
        }
    }
}

/// A part number on its own line: `(一)`, `（二）`, `一`, `之一`, `1`.
fn part_number(t: &str) -> bool {
    let core = t
        .trim()
        .trim_start_matches(['(', '（'])
        .trim_end_matches([')', '）', '.', '、'])
        .trim_start_matches('之');
    (1..=3).contains(&text::char_len(core))
        && core
            .chars()
            .all(|c| c.is_ascii_digit() || "一二三四五六七八九十".contains(c))
}

/// Does the paragraph open a letter to the editor (`Editor — In regards to…`, `Dear Editor:`)?
fn opens_letter(t: &str) -> bool {
    let t = t.trim_start_matches(|c: char| !c.is_alphabetic());
    // OCR often misreads the capital E (`Fditor —`)
    let rest = ["Editor", "Fditor", "Dear Editor", "To the Editor"]
        .iter()
        .find_map(|s| t.strip_prefix(s));
    rest.is_some_and(|r| {
        let r = r.trim_start();
        r.starts_with(['—', '–', '-', ':', ','])
    })
}

/// The writer's year or standing that a student paper prints after a letter writer's name
/// (`Keith Elliot Biology junior`, `Ana Ruiz Journalism sophomore`).
fn student_signature(t: &str) -> bool {
    const STANDING: [&str; 9] = [
        "freshman",
        "sophomore",
        "junior",
        "senior",
        "student",
        "alumnus",
        "alumna",
        "professor",
        "lecturer",
    ];
    let Some((name, standing)) = t.rsplit_once(' ') else {
        return false;
    };
    STANDING.contains(&en_letters(standing).as_str())
        && name.split_whitespace().count() >= 2
        && signature_shaped(name)
}

/// A person's name as a letter writer signs it, maybe with a major or title after it:
/// `Julie Champlin`, `A.J. Schuermann`, `KEN STROUD`, `Matt Stephens Electrical Engineering`.
fn signature_shaped(t: &str) -> bool {
    let words: Vec<&str> = t.split_whitespace().collect();
    if !(2..=6).contains(&words.len()) || text::ends_sentence(t) {
        return false;
    }
    let name_word = |w: &str| {
        w.chars().next().is_some_and(char::is_uppercase)
            && w.chars()
                .all(|c| c.is_alphabetic() || matches!(c, '.' | '\'' | '-' | ','))
    };
    let minor = [
        "of", "the", "and", "in", "on", "to", "for", "a", "at", "by", "with",
    ];
    // (the first two words are names, not small words in capitals: `LETTERS TO THE EDITOR`)
    words[..2]
        .iter()
        .all(|w| name_word(w) && !minor.contains(&w.to_ascii_lowercase().as_str()))
        && words
            .iter()
            .all(|w| name_word(w) || minor.contains(&w.to_ascii_lowercase().as_str()))
}

/// On a letters page, each letter is a headline, a body opening `Editor —`, and the writer's
/// name on its own line at the end. The name stands right above the next letter's headline
/// (or its opening, when the letter has no headline), where it would read as the first line
/// of that headline: a name-shaped line after a finished paragraph, followed within three
/// lines by a letter's opening, is the signature of the letter above; so is a name with the
/// writer's year of study (`… Biology junior`) wherever it stands.
/// Returns, per line, whether it opens a letter that starts a new article (a salutation after
/// a finished letter or its signature), and makes the line under a bare salutation
/// (`Editor,` / `Re: …`) text, never a headline.
/// A writer's signature closing a letter or a column on a page with heading markup (a news
/// site's letters page): a name (`Ninfa Wood`), perhaps over a place (`Walnut Creek`), as a
/// paragraph of its own after finished text and right over the next heading or the page end.
fn mark_signatures_over_headings(lines: &mut [PreLine]) {
    let mut i = 0;
    while i < lines.len() {
        // most lines are longer than a signature: the length first
        let Pre::Text(t) = &lines[i].pre else {
            i += 1;
            continue;
        };
        if t.len() > 40 {
            i += 1;
            continue;
        }
        let words = t.split_whitespace().count();
        if !(2..=4).contains(&words) || !signature_shaped(t) {
            i += 1;
            continue;
        }
        // a place may stand on the line under the name
        let place = matches!(&lines.get(i + 1).map(|l| &l.pre), Some(Pre::Text(p))
            if p.len() <= 30 && p.split_whitespace().count() <= 3
                && p.split_whitespace().all(|w| w.starts_with(char::is_uppercase)));
        let end = if place { i + 1 } else { i };
        let above = (0..i).rev().find(|&k| !matches!(lines[k].pre, Pre::Blank));
        let finished = above.is_some_and(|k| {
            k + 1 < i
                && matches!(&lines[k].pre, Pre::Text(p) if ends_paragraph(p) && text::text_weight(p) >= 20)
        });
        let below = (end + 1..lines.len()).find(|&k| !matches!(lines[k].pre, Pre::Blank));
        let apart = below.is_none_or(|k| k > end + 1);
        // (or over a picture: a site sets its author box or a banner after the last letter)
        let over_heading = below
            .is_none_or(|k| matches!(lines[k].pre, Pre::Heading { .. } | Pre::Other(Item::Image)));
        if finished && apart && over_heading {
            // `Kim Gump, Dallas`: the place after a comma is no part of the name
            let name: String = t
                .split(',')
                .next()
                .unwrap_or(t)
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ");
            let text = (i..=end)
                .filter_map(|k| match &lines[k].pre {
                    Pre::Text(p) => Some(p.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(", ");
            let credit = Credit {
                name,
                role: CreditRole::Reporter as i32,
                text,
            };
            lines[i].pre = Pre::Other(Item::Credit(vec![credit]));
            if place {
                lines[end].pre = Pre::Other(Item::Credit(Vec::new()));
            }
        }
        i = end + 1;
    }
}

fn mark_letter_signatures(lines: &mut [PreLine]) -> Vec<bool> {
    let mut opening = Vec::new();
    // only a letters page has them: most pages stop here
    if !lines
        .iter()
        .any(|l| matches!(&l.pre, Pre::Text(t) if opens_letter(t)))
    {
        return opening;
    }
    opening = vec![false; lines.len()];
    let texts: Vec<usize> = (0..lines.len())
        .filter(|&k| matches!(lines[k].pre, Pre::Text(_)))
        .collect();
    for (n, &i) in texts.iter().enumerate() {
        let Pre::Text(t) = &lines[i].pre else {
            continue;
        };
        if n == 0 {
            continue;
        }
        let after_paragraph = matches!(&lines[texts[n - 1]].pre, Pre::Text(p) if ends_paragraph(p));
        if opens_letter(t) {
            // after a finished letter or its signature, a salutation opens the next letter
            let above = (0..i).rev().find(|&k| !matches!(lines[k].pre, Pre::Blank));
            opening[i] = above.is_some_and(|k| match &lines[k].pre {
                Pre::Text(p) => ends_paragraph(p),
                Pre::Other(Item::Credit(_)) => true,
                _ => false,
            });
            continue;
        }
        let student = student_signature(t);
        if t.len() > 80 || !(student || signature_shaped(t)) {
            continue;
        }
        let letter_follows = texts[n + 1..]
            .iter()
            .take(3)
            .any(|&k| matches!(&lines[k].pre, Pre::Text(p) if opens_letter(p)));
        if after_paragraph && (letter_follows || student) {
            let name: String = t.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
            lines[i].pre = Pre::Other(Item::Credit(vec![Credit {
                name,
                role: CreditRole::Reporter as i32,
                text: t.clone(),
            }]));
        }
    }
    opening
}

/// A salutation alone on its line (`Editor,`, `Dear Editor:`): the letter's text follows.
fn bare_salutation(t: &str) -> bool {
    opens_letter(t) && t.split_whitespace().count() <= 3
}

/// The letters of an English word, lower-cased (`Thursday,` → `thursday`, `^Nation` → `nation`).
fn en_letters(w: &str) -> String {
    w.chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// An English folio line: the issue's date (`Thursday, April 2,1987`, `4 TUESDAY, OCTOBER 4,
/// 1995`, `Daily Star Friday, May 15, 1981`: a weekday with a month or a year, or a month
/// with a day and a year) or its volume and number (`Volume 51 No. 99`, `VOL. 12, NO. 3`).
/// OCR damages one part or another, so any two of the parts are enough.
fn en_folio_parts(t: &str) -> Option<FolioParts> {
    const WEEKDAYS: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let words: Vec<&str> = t.split_whitespace().collect();
    if words.is_empty() || words.len() > 16 || t.chars().any(text::is_cjk) {
        return None;
    }
    let number = |w: &str| w.bytes().any(|c| c.is_ascii_digit());
    let (mut volume, mut weekday, mut month, mut year) = (false, false, false, false);
    for (i, w) in words.iter().enumerate() {
        // the word's letters, lower-cased, without allocating: no weekday, month or `volume`
        // has more than nine
        let mut buf = [0u8; 10];
        let mut n = 0;
        for c in w.bytes().filter(u8::is_ascii_alphabetic) {
            if n == buf.len() {
                n = 0;
                break;
            }
            buf[n] = c.to_ascii_lowercase();
            n += 1;
        }
        let Ok(l) = std::str::from_utf8(&buf[..n]) else {
            continue;
        };
        volume |= (l == "vol" || l == "volume") && words.get(i + 1).is_some_and(|n| number(n));
        weekday |= WEEKDAYS.contains(&l);
        let is_month = EN_MONTHS.contains(&l)
            || (l.len() >= 3
                && l.len() <= 4
                && EN_MONTHS.iter().any(|m| m.starts_with(l))
                && w.ends_with('.'));
        month |= is_month && words.get(i + 1).is_some_and(|n| number(n));
        // a year, maybe run into the day (`2,1987`)
        year |= w
            .split(|c: char| !c.is_ascii_digit())
            .any(|d| d.len() == 4 && matches!(&d[..2], "17" | "18" | "19" | "20"));
    }
    Some(FolioParts {
        volume,
        weekday,
        month,
        year,
        words: words.len(),
    })
}

/// What an English folio line holds: `volume` a volume with its number, `month` a month with a
/// day, `year` a year from 1700 to 2099.
struct FolioParts {
    volume: bool,
    weekday: bool,
    month: bool,
    year: bool,
    words: usize,
}

/// An English folio line at the top of the page (see [`en_folio_parts`]).
fn en_folio_line(t: &str) -> bool {
    en_folio_parts(t).is_some_and(|p| {
        p.words <= 14 && (p.volume || (p.weekday && (p.month || p.year)) || (p.month && p.year))
    })
}

/// A masthead line wherever OCR put it on an English page (the reading order of a scanned
/// page often puts the masthead between two columns of text): the volume and number, the
/// full date with its weekday (`TONOPAH, NEVADA, WEDNESDAY EVENING, JULY 26, 1916`), a date in
/// capitals (`NOGALES, SANTA CRUZ COUNTY, ARIZONA, MARCH 16, 1918.`), the price (`ONE CENT`,
/// `PRICE 10 CENTS`, `25c A MONTH.`).
fn en_masthead_line(t: &str) -> bool {
    // a year (four digits), a volume or a price: most lines stop at this one pass
    let b = t.as_bytes();
    let mut run = 0;
    let year = b.iter().any(|c| {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        run == 4
    });
    let cue = year
        || b.get(..3).is_some_and(|p| p.eq_ignore_ascii_case(b"vol"))
        || (b.len() <= 60 && {
            // a price is printed in capitals
            let (letters, upper) = b
                .iter()
                .filter(|c| c.is_ascii_alphabetic())
                .fold((0, 0), |(l, u), c| {
                    (l + 1, u + usize::from(c.is_ascii_uppercase()))
                });
            letters > 0 && upper * 10 >= letters * 7
        });
    if !cue {
        return false;
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    let (letters, upper) = t
        .chars()
        .filter(|c| c.is_alphabetic())
        .fold((0, 0), |(l, u), c| {
            (l + 1, u + usize::from(c.is_uppercase()))
        });
    let capitals = letters > 0 && upper * 10 >= letters * 7;
    let lower = t.to_ascii_lowercase();
    let price = capitals
        && words.len() <= 6
        && ["cent", "a month", "a copy"]
            .iter()
            .any(|w| lower.contains(w));
    // `VOL. XVI-NO. 35`, `VOL.-XIII. NO. DO.`, `Volume 18 …`: a number or a roman one follows
    let volume = ["volume", "vol.", "vol "].iter().any(|v| {
        lower.starts_with(v)
            && t[v.len()..]
                .split_whitespace()
                .next()
                .and_then(|n| {
                    n.split(|c: char| !c.is_alphanumeric())
                        .find(|p| !p.is_empty())
                })
                .is_some_and(|n| {
                    n.chars().any(|c| c.is_ascii_digit()) || n.chars().all(|c| "IVXLC".contains(c))
                })
    });
    price
        || volume
        || en_folio_parts(t).is_some_and(|p| {
            // a date in running text goes on after the year (`On Friday, May 5, 1916, the…`)
            let ends_on_year = words
                .last()
                .is_some_and(|w| w.chars().any(|c| c.is_ascii_digit()));
            (p.weekday && p.month && p.year && (capitals || ends_on_year))
                || (p.month && p.year && capitals && p.words <= 12)
        })
}

/// The paper's name as its masthead prints it: a short line in capitals or title case ending
/// in one of the words newspapers are named with (`The Daily Star`, `EVENING HERALD`).
fn en_paper_name(t: &str) -> bool {
    const NAMES: [&str; 20] = [
        "daily",
        "times",
        "news",
        "herald",
        "post",
        "journal",
        "tribune",
        "gazette",
        "star",
        "review",
        "chronicle",
        "record",
        "courier",
        "sun",
        "register",
        "bulletin",
        "examiner",
        "dispatch",
        "press",
        "observer",
    ];
    let words: Vec<&str> = t.split_whitespace().collect();
    (1..=4).contains(&words.len())
        && words
            .iter()
            .all(|w| w.chars().next().is_some_and(|c| !c.is_lowercase()))
        && words
            .last()
            .is_some_and(|w| NAMES.contains(&en_letters(w).as_str()))
}

/// Section names an English page prints as labels ([`en_section_label`]).
const EN_SECTIONS: [&str; 16] = [
    "opinion",
    "editorial",
    "editorials",
    "sports",
    "world",
    "nation",
    "state",
    "local",
    "business",
    "arts",
    "entertainment",
    "features",
    "commentary",
    "campus",
    "metro",
    "classifieds",
];

/// A section label printed with the folio (`OPINION`, `- editorial.`, `World ■ Nation ■
/// State`): every word a section's name (OCR may turn a bullet before one into a letter).
fn en_section_label(t: &str) -> bool {
    // Each word's letters, lower-cased, end with a section's name and have at most one letter
    // more (a bullet read as a letter); compared in place, without collecting the words.
    let mut words = 0;
    for w in t.split_whitespace() {
        let letters = w
            .bytes()
            .filter(u8::is_ascii_alphabetic)
            .map(|b| b.to_ascii_lowercase());
        let len = letters.clone().count();
        if len == 0 {
            continue;
        }
        words += 1;
        let named = EN_SECTIONS.iter().any(|s| {
            (s.len()..=s.len() + 1).contains(&len)
                && letters.clone().skip(len - s.len()).eq(s.bytes())
        });
        if words > 3 || !named {
            return false;
        }
    }
    words > 0
}

/// The top of an English page carries its masthead and folio: the paper's name, the
/// university or town, the volume and number, the date, a section label. Printed above the
/// first headline, those short lines would read as the top of its stack. When one of the
/// first lines of a plain page is a folio line (a date or a volume), it and the short lines
/// above it are furniture, and so are a paper's name or a section label right under it.
fn mark_page_top_folio(lines: &mut [PreLine]) {
    const TOP: usize = 8;
    let top: Vec<usize> = (0..lines.len())
        .filter(|&k| !matches!(lines[k].pre, Pre::Blank))
        .take(TOP)
        .collect();
    // the last folio line of the top (furniture already, or an English date or volume line),
    // with nothing but short lines above it; at least one of them must be an English folio
    let mut last = None;
    let mut english_folio = false;
    for &k in &top {
        let (text, furniture) = match &lines[k].pre {
            Pre::Text(t) if t.split_whitespace().count() > 14 => break,
            Pre::Text(t) => (t, false),
            Pre::Other(Item::Furniture(_, t)) => (t, true),
            _ => break,
        };
        let english = en_folio_line(text);
        english_folio |= english;
        if english || furniture {
            last = Some(k);
        }
    }
    let Some(last) = last.filter(|_| english_folio) else {
        return;
    };
    let mut end = last;
    for &k in top.iter().filter(|&&k| k > last).take(2) {
        match &lines[k].pre {
            Pre::Text(t) if en_paper_name(t) || en_section_label(t) => end = k,
            _ => break,
        }
    }
    for l in &mut lines[..=end] {
        l.make_furniture();
    }
}

/// One of the first lines of a plain page that prints the publication's name (its slug's
/// letters, `mustang-daily` → `Mustang Daily`), allowing one damaged letter in six
/// (`Mustang Dally`), is the masthead: furniture, not the top of the first headline stack.
fn mark_publication_name(lines: &mut [PreLine], publication: &str) {
    let letters = |s: &str| -> Vec<u8> {
        s.bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| b.to_ascii_lowercase())
            .collect()
    };
    let name = letters(publication);
    if name.len() < 6 || name.len() > 40 {
        return;
    }
    let top: Vec<usize> = (0..lines.len())
        .filter(|&k| !matches!(lines[k].pre, Pre::Blank))
        .take(3)
        .collect();
    for k in top {
        let Pre::Text(t) = &lines[k].pre else {
            continue;
        };
        if t.len() > 60 {
            continue;
        }
        let printed = letters(t);
        if printed.len().abs_diff(name.len()) <= 2
            && strsim::generic_levenshtein(&printed, &name) <= name.len().div_ceil(6)
        {
            lines[k].make_furniture();
        }
    }
}

/// The label of an opinion page's column standing on its own line in the middle of a page
/// (`LETTERS TO THE EDITOR`, `Guest Viewpoint`): it heads no article, it is furniture. (A
/// one-word section name mid-page is left alone: in an index box it labels the entry.)
fn en_standing_label(t: &str) -> bool {
    const LABELS: [&str; 4] = [
        "letters to the editor",
        "guest viewpoint",
        "guest column",
        "guest commentary",
    ];
    // set as a label: capitalised, no full stop (`… all of his` / `letters.` is a sentence's end)
    let core = t.trim().trim_end_matches(':');
    core.starts_with(|c: char| c.is_ascii_uppercase())
        && LABELS.iter().any(|l| l.eq_ignore_ascii_case(core))
}

/// Masthead lines in the middle of an English page ([`en_masthead_line`]) are furniture, and
/// so is the paper's name right above or below one, and a section label standing alone
/// ([`en_standing_label`]).
fn mark_masthead_lines(lines: &mut [PreLine]) {
    fn text_at(lines: &[PreLine], k: usize) -> Option<&str> {
        match &lines[k].pre {
            Pre::Text(t) => Some(t.as_str()),
            _ => None,
        }
    }
    let mut marked = vec![false; lines.len()];
    for i in 0..lines.len() {
        // (a section's label set in capitals, `COMMENTARY`, `SPORTS`, is a standing label
        // wherever the page prints it below its top, where the folio rules read it: no story
        // is headed by a section's name alone; the cheap tests first, as a line of text has
        // lower case)
        let caps_section = |t: &str| {
            i > 0
                && !t.chars().any(char::is_lowercase)
                && t.chars().filter(char::is_ascii_alphabetic).count() >= 4
                && en_section_label(t)
        };
        if matches!(&lines[i].pre, Pre::Text(t) if en_standing_label(t) || caps_section(t)) {
            marked[i] = true;
            continue;
        }
        let masthead = match &lines[i].pre {
            Pre::Text(t) | Pre::Other(Item::Furniture(_, t)) => {
                t.len() <= 120 && en_masthead_line(t)
            }
            _ => false,
        };
        if masthead {
            marked[i] = true;
            for k in [i.wrapping_sub(1), i + 1] {
                if k < lines.len() && text_at(lines, k).is_some_and(en_paper_name) {
                    marked[k] = true;
                }
            }
        }
    }
    for (l, _) in lines.iter_mut().zip(marked).filter(|(_, m)| *m) {
        l.make_furniture();
    }
}

/// A news site's page that gathers several items (a day's letters, a briefing) titles itself
/// with their names set off by bars (`Letters: Bus fares | Park hours | Late trains`), over
/// its deck, a byline row, a posting row and a call for letters, and sets each item under a
/// heading of a lower level. That title, the section label heading above it and the short
/// lines under it down to the first item's heading are the page's furniture, no item of
/// their own: three names or more in the title, three item headings or more under it, at
/// most eight short lines between.
fn mark_roundup_title(lines: &mut [PreLine]) {
    let Some((i, level)) = lines.iter().enumerate().find_map(|(k, l)| match &l.pre {
        Pre::Heading { level, text }
            if text
                .split('|')
                .filter(|p| !p.trim().is_empty())
                .nth(2)
                .is_some() =>
        {
            Some((k, *level))
        }
        _ => None,
    }) else {
        return;
    };
    // the items' level: the highest level under the title that heads three items or more
    let mut counts = [0usize; 7];
    for l in &lines[i + 1..] {
        if let Pre::Heading { level: h, .. } = l.pre {
            if h > level && (h as usize) < counts.len() {
                counts[h as usize] += 1;
            }
        }
    }
    let Some(item) = (usize::from(level) + 1..counts.len()).find(|&h| counts[h] >= 3) else {
        return;
    };
    let Some(first) = (i + 1..lines.len())
        .find(|&k| matches!(lines[k].pre, Pre::Heading { level: h, .. } if usize::from(h) == item))
    else {
        return;
    };
    let between = &lines[i + 1..first];
    let short = between.iter().all(|l| match &l.pre {
        Pre::Text(t) | Pre::Heading { text: t, .. } => t.len() <= 200,
        _ => true,
    });
    let n = between
        .iter()
        .filter(|l| !matches!(l.pre, Pre::Blank))
        .count();
    if !short || n > 8 {
        return;
    }
    // the section's label heading right above the title (`Letters to the Editor |`)
    let mut top = i;
    while let Some(k) = (0..top)
        .rev()
        .find(|&k| !matches!(lines[k].pre, Pre::Blank))
    {
        match &lines[k].pre {
            Pre::Heading { level: h, text } if *h <= level && text.len() <= 60 => top = k,
            _ => break,
        }
    }
    for l in &mut lines[top..first] {
        if let Pre::Heading { text, .. } = &mut l.pre {
            let t = std::mem::take(text);
            l.pre = Pre::Other(Item::Furniture(Furniture::Line, t));
        } else {
            l.make_furniture();
        }
    }
}

/// How many lines under a web copy's title link its article may start (a site's header is a
/// few lines).
const TITLE_LINK_REACH: usize = 40;

/// A web copy's link to an article, its title cut with an ellipsis (`朝鲜和土耳其建交 '...`),
/// above the article itself is furniture: the title it repeats heads the article below,
/// within [`TITLE_LINK_REACH`] lines (a bound that keeps a page of ellipses linear).
fn mark_title_links(lines: &mut [PreLine]) {
    let core = |t: &str| -> Option<String> {
        let c = t
            .trim_end()
            .strip_suffix("...")
            .or_else(|| t.trim_end().strip_suffix('…'))?
            .trim_end_matches(['\'', '"', '’', '”', ' ']);
        (text::char_len(c) >= 4).then(|| c.to_owned())
    };
    for i in 0..lines.len() {
        let Some(title) = (match &lines[i].pre {
            Pre::Text(t) if t.len() <= 200 => core(t),
            _ => None,
        }) else {
            continue;
        };
        let reach = (i + 1 + TITLE_LINK_REACH).min(lines.len());
        let repeated = lines[i + 1..reach].iter().any(|l| {
            matches!(&l.pre, Pre::Text(t) | Pre::Heading { text: t, .. } if t.starts_with(title.as_str()) && core(t).is_none())
        });
        if repeated {
            lines[i].make_furniture();
        }
    }
}

/// A converter sets an article's section heads as headings of the same level as the
/// article's headline (`# 财政助农：…` / `# 改善生态，构建…` / `# 提升质量，奏响…`). Section
/// heads come in parallel runs: two or more headings in a row, each over body text (no
/// byline, dateline or marker under it), shaped alike: a clause of two to eight characters and
/// a comma opening each, or each opening with a quotation. Such a run, under the headline of
/// an article, is text of that article: its lines become paragraphs.
fn demote_parallel_section_headings(lines: &mut [PreLine]) {
    #[derive(PartialEq, Clone, Copy)]
    enum Parallel {
        CommaAt(usize),
        Quoted,
    }
    let shape = |t: &str| -> Option<Parallel> {
        if !t.chars().any(text::is_cjk) || text::char_len(t) > 30 {
            return None;
        }
        if t.starts_with(['“', '「', '『']) {
            return Some(Parallel::Quoted);
        }
        let at = t.chars().position(|c| c == '，')?;
        (2..=8).contains(&at).then_some(Parallel::CommaAt(at))
    };
    let next_line = |lines: &[PreLine], k: usize| {
        (k + 1..lines.len()).find(|&m| !matches!(lines[m].pre, Pre::Blank))
    };
    // the headings, with their shape when they stand over body text
    let headings: Vec<(usize, Option<Parallel>)> = (0..lines.len())
        .filter_map(|k| match &lines[k].pre {
            Pre::Heading { text, .. } => {
                let over_body = next_line(lines, k).is_some_and(
                    |m| matches!(&lines[m].pre, Pre::Text(t) if !heads::opens_with_dateline(t)),
                );
                Some((k, shape(text).filter(|_| over_body)))
            }
            _ => None,
        })
        .collect();
    let mut n = 1; // the first heading heads an article whatever it looks like
    while n < headings.len() {
        let Some(sig) = headings[n].1 else {
            n += 1;
            continue;
        };
        let run = headings[n..]
            .iter()
            .take_while(|h| h.1 == Some(sig))
            .count();
        if run >= 2 {
            for &(k, _) in &headings[n..n + run] {
                if let Pre::Heading { text, .. } = &mut lines[k].pre {
                    let t = std::mem::take(text);
                    lines[k].pre = Pre::Text(t);
                }
            }
        }
        n += run;
    }
}

/// The jobs a newspaper's staff box lists (`Donald Munro Editor`, `Claudia Snow General
/// Manager`, `Photo Editors: …`), as the letters of a word.
fn staff_job(word: &str) -> bool {
    const JOBS: [&str; 16] = [
        "editor",
        "editors",
        "manager",
        "managers",
        "mgr",
        "director",
        "adviser",
        "advisor",
        "executive",
        "executives",
        "photographers",
        "representatives",
        "reporters",
        "publisher",
        "coordinator",
        "writers",
    ];
    let core = word.trim_matches(|c: char| !c.is_ascii_alphabetic());
    (3..=15).contains(&core.len()) && JOBS.iter().any(|j| core.eq_ignore_ascii_case(j))
}
/// A line of an English paper's staff box or colophon: the staff with their jobs (a short
/// line ending in a job, or a list naming two jobs or more), or the paper's offices, telephone
/// numbers, copyright and printer.
fn staff_box_line(t: &str) -> bool {
    let last_is_job = t.split_whitespace().next_back().is_some_and(staff_job);
    // the colophon: telephone numbers, the publisher, the printer, the copyright
    let b = t.as_bytes();
    let digits = b.iter().filter(|b| b.is_ascii_digit()).count();
    let colophon = (digits >= 7 && PHONE.is_match(t))
        || PUBLISHED.find(b).is_some()
        || PRINTED.find(b).is_some()
        || t.contains('©')
        || b.get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"e-mail"))
        || b.get(..17)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"editorial offices"))
        || b.get(..12)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"advertising:"));
    if colophon {
        return true;
    }
    // the staff lists need a job word or three separators
    let separators = b.iter().filter(|&&b| matches!(b, b',' | b';')).count();
    if !(last_is_job || separators >= 1 || b.contains(&b':')) || t.chars().any(text::is_cjk) {
        return false;
    }
    let (mut words, mut capitalised, mut jobs) = (0usize, 0usize, 0usize);
    for w in t.split_whitespace() {
        words += 1;
        capitalised += usize::from(w.chars().next().is_some_and(char::is_uppercase));
        jobs += usize::from(staff_job(w));
    }
    // `Dan Ruthemeyer Managing Editor`: a name and a job, nothing else
    let name_and_job =
        last_is_job && (3..=7).contains(&words) && capitalised == words && !ends_paragraph(t);
    // `April Karys, editor Anna Cekola, managing editor …`: a list of the staff
    let staff_list = jobs >= 2 && (separators >= 1 || b.contains(&b':'));
    // `Carlos Hernandez, Sabrina Li, Erin Martin, …`: the rest of a box's list of names
    let name_list = separators >= 3 && capitalised * 10 >= words * 7;
    name_and_job || staff_list || name_list
}

static PUBLISHED: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new("ublished"));
static PRINTED: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new("rinted by"));

/// A telephone number as a colophon prints it: `(805) 756-1796`, `756-1143`.
static PHONE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"(?:\([0-9]{3}\)\s*)?[0-9]{3}-[0-9]{4}(?:[^0-9]|$)").expect("valid regex")
});

/// An English page's staff box (the masthead of an opinion page: editors, managers, offices,
/// telephone numbers, the printer) is furniture. Its lines are short lists of names and jobs
/// that would otherwise read as a headline stack or leak into the article above. Three staff
/// box lines within a run (lines of three words or fewer between them, as OCR breaks a box)
/// make a box; the paper's name right above it belongs to it.
fn mark_staff_box(lines: &mut [PreLine]) {
    // a box names jobs: a page without a line ending in one has none (most pages stop here)
    let jobs = lines
        .iter()
        .filter(|l| match &l.pre {
            Pre::Text(t) | Pre::Other(Item::Furniture(_, t)) => {
                t.split_whitespace().next_back().is_some_and(staff_job)
                    || PUBLISHED.find(t.as_bytes()).is_some()
            }
            _ => false,
        })
        .take(1)
        .count();
    if jobs == 0 {
        return;
    }
    let staff: Vec<bool> = lines
        .iter()
        .map(|l| match &l.pre {
            Pre::Text(t) | Pre::Other(Item::Furniture(_, t)) => staff_box_line(t),
            _ => false,
        })
        .collect();
    let short = |l: &PreLine| match &l.pre {
        Pre::Blank => true,
        Pre::Text(t) => t.split_whitespace().count() <= 3,
        _ => true,
    };
    let mut i = 0;
    while i < lines.len() {
        if !staff[i] {
            i += 1;
            continue;
        }
        // extend the run over staff lines and the short lines between them
        let (start, mut end, mut count, mut k) = (i, i, 1, i + 1);
        while k < lines.len() && (staff[k] || short(&lines[k])) {
            if staff[k] {
                end = k;
                count += 1;
            }
            k += 1;
        }
        if count >= 3 {
            let mut from = start;
            let name_above = (0..start)
                .rev()
                .find(|&m| !matches!(lines[m].pre, Pre::Blank))
                .filter(|&m| matches!(&lines[m].pre, Pre::Text(t) if en_paper_name(t)));
            if let Some(m) = name_above {
                from = m;
            }
            for l in &mut lines[from..=end] {
                l.make_furniture();
            }
        }
        i = end + 1;
    }
}

/// Under an English byline (`By NAME`) the lines that finish it: a second writer (`and
/// NAME`) and the writers' title (`Staff Writer`, `Managing Editor`, `Special to the Daily`),
/// however OCR garbled it (`St>M WrlUf`). On a page of one paragraph a line, a short line
/// there that ends no sentence is no body text; without it, it would be a paragraph or the
/// top of a headline stack. The second writer is a credit, the title a credit line.
/// Returns whether each line is a byline with its title under it: such a byline opens an
/// article, so after finished body text it starts a new one (its headline was lost or set
/// elsewhere).
fn mark_byline_continuations(lines: &mut [PreLine]) -> Vec<bool> {
    let mut opening = vec![false; lines.len()];
    let is_byline = |l: &PreLine| {
        matches!(&l.pre, Pre::Other(Item::Credit(c))
            if c.len() == 1 && c[0].text.get(..3).is_some_and(|b| b.eq_ignore_ascii_case("by ")))
    };
    for i in 0..lines.len() {
        if !is_byline(&lines[i]) {
            continue;
        }
        let mut k = i + 1;
        // a second writer
        if let Some(Pre::Text(t)) = lines.get(k).map(|l| &l.pre) {
            if let Some(name) = t.strip_prefix("and ").map(str::trim) {
                let words = name.split_whitespace().count();
                let capitalised = name
                    .split_whitespace()
                    .all(|w| w.chars().next().is_some_and(char::is_uppercase));
                if (2..=4).contains(&words) && capitalised && !ends_paragraph(name) {
                    let credit = Credit {
                        name: name.to_owned(),
                        role: CreditRole::Reporter as i32,
                        text: t.clone(),
                    };
                    lines[k].pre = Pre::Other(Item::Credit(vec![credit]));
                    k += 1;
                }
            }
        }
        // the writers' title, over the body
        let title = matches!(lines.get(k).map(|l| &l.pre), Some(Pre::Text(t))
            if t.split_whitespace().count() <= 5
                && t.chars().next().is_some_and(char::is_uppercase)
                && !ends_paragraph(t)
                && !t.chars().any(text::is_cjk));
        let body_follows = matches!(lines.get(k + 1).map(|l| &l.pre), Some(Pre::Text(b))
            if text::text_weight(b) >= 30);
        let read_title = matches!(lines.get(k).map(|l| &l.pre), Some(Pre::Other(Item::Credit(c))) if c.is_empty());
        if title && body_follows {
            lines[k].pre = Pre::Other(Item::Credit(Vec::new()));
        }
        opening[i] = (title || read_title) && body_follows;
    }
    opening
}

/// A Chinese line that opens with a bullet (`△`, `▲`, `●`, `■`, `◆`, `★`): the text after it.
fn bullet_item(t: &str) -> Option<&str> {
    let rest = t.strip_prefix(['△', '▲', '●', '○', '■', '□', '◆', '◇', '★', '☆'])?;
    rest.trim_start()
        .chars()
        .next()
        .filter(|&c| text::is_cjk(c))?;
    Some(rest.trim_start())
}

/// The label of a news-in-brief column alone on its line: `简讯`, `短讯`, `快讯` (also in
/// traditional or mixed forms, as old OCR gives them), `简明新闻`, with up to four characters
/// of topic before it (`本市简讯`, `国际短讯`), brackets and ornaments aside.
fn brief_column_label(t: &str) -> bool {
    const LABELS: [&str; 12] = [
        "简讯",
        "簡讯",
        "簡訊",
        "简訊",
        "短讯",
        "短訊",
        "快讯",
        "快訊",
        "简明新闻",
        "簡明新聞",
        "新闻简报",
        "要闻简报",
    ];
    // the longest label with its topic and ornaments fits in 40 bytes; most lines do not
    if t.len() > 40 || t.is_ascii() {
        return false;
    }
    let t = t.trim_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '【' | '】' | '[' | ']' | '■' | '▲' | '●' | '◆' | '★' | '☆'
            )
    });
    let Some(label) = LABELS.iter().find(|l| t.ends_with(*l)) else {
        return false;
    };
    let topic = &t[..t.len() - label.len()];
    topic.chars().count() <= 4 && topic.chars().all(text::is_cjk)
}

/// Does the line open with a day of the month, `八月二十三日` or `9月2日`?
fn opens_with_date(t: &str) -> bool {
    fn number(s: &str) -> Option<&str> {
        let n = s
            .char_indices()
            .take_while(|&(_, c)| c.is_ascii_digit() || "一二三四五六七八九十〇".contains(c))
            .take(3)
            .last()
            .map(|(i, c)| i + c.len_utf8())?;
        Some(&s[n..])
    }
    number(t)
        .and_then(|r| r.strip_prefix('月'))
        .and_then(number)
        .is_some_and(|r| r.starts_with(['日', '号']))
}

/// Whether bullet lines start items of their own. A column of news in brief (简讯, 动态) is a
/// run of items each opening with `△`; the same bullets right under a headline are that
/// article's summary points (`■非洲拥有…` under its title) or its body. So the first bullet of a
/// run decides for the run: after body text it starts a new item, and so does every bullet
/// after it until the next headline; right under a headline none does.
#[derive(Default)]
struct BulletRun {
    splits: Option<bool>,
}

impl BulletRun {
    fn heading(&mut self) {
        self.splits = None;
    }

    /// Does this bullet line start a new item, given the items so far?
    fn splits(&mut self, items: &[Item]) -> bool {
        *self.splits.get_or_insert_with(|| {
            matches!(items.last(), Some(Item::Text { .. } | Item::Credit(_)))
        })
    }
}

/// Is the page one paragraph a line (archive text, OCR tagged by line), rather than lines
/// wrapped at a column? Then most long lines end a sentence; wrapped lines rarely do.
fn one_paragraph_a_line(lines: &[PreLine]) -> bool {
    let (mut long, mut ending) = (0usize, 0usize);
    for l in lines {
        if let Pre::Text(t) = &l.pre {
            if text::text_weight(t) >= 30 {
                long += 1;
                ending += usize::from(ends_paragraph(t));
            }
        }
    }
    long >= 3 && ending * 10 >= long * 6
}

/// A line of three or more separator symbols and nothing else.
fn is_separator(line: &str) -> bool {
    line.chars().count() >= 3
        && line.chars().all(|c| {
            matches!(
                c,
                '*' | '＊' | '☆' | '★' | '—' | '-' | '=' | '·' | '…' | '×' | '※' | ' '
            )
        })
}

/// Second pass, for pages without heading markup: which text lines are guessed headlines.
fn guess_heads(lines: &[PreLine]) -> Vec<bool> {
    let view: Vec<heads::Line<'_>> = lines
        .iter()
        .map(|l| heads::Line {
            text: match &l.pre {
                Pre::Text(t) => t.as_str(),
                _ => "",
            },
            indent: l.indent,
            role: match &l.pre {
                Pre::Blank => heads::Role::Blank,
                Pre::Text(_) => heads::Role::Text,
                // a photo credit ends a caption; a byline sits between headline and body
                Pre::Other(Item::Credit(c))
                    if c.iter().any(|c| c.role() == CreditRole::Photographer) =>
                {
                    heads::Role::PhotoCredit
                }
                Pre::Other(Item::Credit(_)) => heads::Role::Credit,
                Pre::Other(Item::Reference(_)) => heads::Role::Reference,
                _ => heads::Role::Other,
            },
        })
        .collect();
    let mut heads = heads::mark(&view);
    // the lines of an index box's entry are the teaser, its label no headline
    let mut in_entry = false;
    for (l, h) in lines.iter().zip(heads.iter_mut()) {
        match l.pre {
            Pre::Other(Item::TeaserSection) => in_entry = true,
            Pre::Other(Item::Separator) => in_entry = false,
            _ if in_entry => *h = false,
            _ => {}
        }
    }
    heads
}

/// Splits the page into items.
/// `publication` is the page's publication slug (`mustang-daily`): the paper's name printed at
/// the top of the page, even as OCR damaged it, is its masthead (empty: not known).
pub fn items(content: &str, syntax: Syntax, page_name: &str, publication: &str) -> Vec<Item> {
    let mut lines = pre_lines(content, syntax, page_name);
    if syntax == Syntax::Plain {
        mark_publication_name(&mut lines, publication);
    }
    mark_author_lines(&mut lines);
    mark_byline_boxes(&mut lines);
    mark_byline_affiliations(&mut lines);
    if syntax == Syntax::Markdown {
        demote_parallel_section_headings(&mut lines);
    }
    let letter_openings = mark_letter_signatures(&mut lines);
    if syntax == Syntax::Markdown {
        mark_signatures_over_headings(&mut lines);
    }
    mark_title_links(&mut lines);
    mark_running_heads(&mut lines);
    if syntax == Syntax::Markdown {
        mark_roundup_title(&mut lines);
    }
    if syntax == Syntax::Plain {
        mark_page_top_folio(&mut lines);
        mark_masthead_lines(&mut lines);
        mark_staff_box(&mut lines);
    }
    let line_per_paragraph = syntax == Syntax::Plain && one_paragraph_a_line(&lines);
    let opening_bylines = if line_per_paragraph {
        mark_byline_continuations(&mut lines)
    } else {
        Vec::new()
    };
    // Headlines are guessed where the text has no heading markup for articles: plain text,
    // and markdown whose few headings (page links, section labels) head no articles.
    let headings = lines
        .iter()
        .filter(|l| matches!(l.pre, Pre::Heading { .. }))
        .count();
    let text_lines = lines
        .iter()
        .filter(|l| matches!(l.pre, Pre::Text(_)))
        .count();
    let guess = syntax == Syntax::Plain || headings * 40 < text_lines;
    let mut heads = if guess {
        guess_heads(&lines)
    } else {
        vec![false; lines.len()]
    };
    // a letter's salutation is text, and so is the line under a bare one (`Editor,` / `Re: …`)
    for (i, &opens) in letter_openings.iter().enumerate() {
        let salutation = matches!(&lines[i].pre, Pre::Text(t) if bare_salutation(t));
        if opens || salutation {
            heads[i] = false;
        }
        if salutation {
            if let Some(k) = (i + 1..lines.len()).find(|&k| !matches!(lines[k].pre, Pre::Blank)) {
                heads[k] = false;
            }
        }
    }
    let mut items = Vec::new();
    let mut para: Vec<String> = Vec::new();
    let mut para_hard = false;
    let mut prev_hard = false;
    let flush = |items: &mut Vec<Item>, para: &mut Vec<String>, hard: &mut bool| {
        if !para.is_empty() {
            items.push(Item::Text {
                lines: std::mem::take(para),
                hard: *hard,
            });
        }
        *hard = false;
    };
    let mut bullets = BulletRun::default();
    // under a news-in-brief label, until the next headline
    let mut brief_column = false;
    for (n, (line, head)) in lines.into_iter().zip(heads).enumerate() {
        if head || matches!(line.pre, Pre::Heading { .. }) {
            brief_column = false;
        }
        let letter = letter_openings.get(n).copied().unwrap_or(false);
        if letter || opening_bylines.get(n).copied().unwrap_or(false) {
            // a byline with its title after finished body text opens the next article, and so
            // does a letter's salutation after the letter above or its signature
            let finished = match para.last() {
                Some(last) => ends_paragraph(last),
                None => match items.last() {
                    Some(Item::Text { lines, .. }) => {
                        lines.last().is_some_and(|l| ends_paragraph(l))
                    }
                    Some(Item::Credit(_)) => letter,
                    _ => false,
                },
            };
            if finished {
                flush(&mut items, &mut para, &mut para_hard);
                items.push(Item::Separator);
            }
        }
        // a news-in-brief column's label (`簡讯`) set between columns of text: the item above
        // ends, the label is furniture, and the column's items are briefs
        if let Pre::Text(t) = &line.pre {
            let text_above = !para.is_empty() || matches!(items.last(), Some(Item::Text { .. }));
            if text_above && brief_column_label(t) {
                flush(&mut items, &mut para, &mut para_hard);
                items.push(Item::Separator);
                items.push(Item::Furniture(Furniture::Line, t.clone()));
                items.push(Item::Bullet);
                brief_column = true;
                prev_hard = false;
                continue;
            }
            // in that column, a finished item and a line opening with a date or a dateline
            // (`八月二十三日晚，…`, `本报讯 …`): the next brief
            if brief_column
                && !head
                && para.last().is_some_and(|l| ends_paragraph(l))
                && (opens_with_date(t) || heads::opens_with_dateline(t))
            {
                flush(&mut items, &mut para, &mut para_hard);
                items.push(Item::Separator);
                items.push(Item::Bullet);
            }
        }
        match line.pre {
            Pre::Blank => {
                flush(&mut items, &mut para, &mut para_hard);
                prev_hard = false;
                continue;
            }
            Pre::Heading { level, text } => {
                flush(&mut items, &mut para, &mut para_hard);
                items.push(Item::Heading { level, text });
                bullets.heading();
                prev_hard = false;
                continue;
            }
            Pre::Text(t) if head => {
                flush(&mut items, &mut para, &mut para_hard);
                items.push(Item::Heading { level: 0, text: t });
                bullets.heading();
            }
            Pre::Text(mut t) => {
                if let Some(rest) = bullet_item(&t) {
                    flush(&mut items, &mut para, &mut para_hard);
                    if bullets.splits(&items) {
                        items.push(Item::Separator);
                        items.push(Item::Bullet);
                        t = rest.to_owned();
                    }
                }
                // Plain text: an indented line opens a new paragraph.
                if syntax == Syntax::Plain && line.indent >= 2 {
                    flush(&mut items, &mut para, &mut para_hard);
                }
                if !para.is_empty() && prev_hard {
                    para_hard = true;
                }
                para.push(t);
            }
            Pre::Other(mut item) => {
                if let Item::Reference(found) = &mut item {
                    join_jump_word(found, &mut items, &mut para);
                }
                flush(&mut items, &mut para, &mut para_hard);
                items.push(item);
            }
        }
        prev_hard = line.hard_break;
    }
    flush(&mut items, &mut para, &mut para_hard);
    if syntax == Syntax::Plain {
        let items = split_plain_paragraphs(items, line_per_paragraph);
        if line_per_paragraph {
            separate_headless_items(items)
        } else {
            items
        }
    } else {
        items
    }
}

/// On a page of one paragraph a line, a paragraph that cannot go on from the finished one
/// above it starts another item even without a headline: a wire story's opening (`SACRAMENTO
/// (AP) — …`: a dateline opens only a story's first paragraph), or text opening with a
/// lower-case word (the rest of a story whose head and from-marker the OCR put elsewhere).
/// A separator goes between the two.
fn separate_headless_items(items: Vec<Item>) -> Vec<Item> {
    let mut out = Vec::with_capacity(items.len());
    // the paragraph above ended a sentence; and it was a body paragraph, not a caption or a
    // scrap (a photo's caption often stands between a story's text and its rest)
    let (mut finished_above, mut body_above) = (false, false);
    for item in items {
        if let Item::Text { lines, .. } = &item {
            let first = lines.first().map_or("", String::as_str);
            let opens_other =
                (body_above && lower_case_opening(first)) || english_wire_opening(first);
            if finished_above && opens_other {
                out.push(Item::Separator);
            }
            let last = lines.last().map_or("", String::as_str);
            finished_above = finished_sentence(last);
            body_above = last.len() >= 100;
        } else {
            (finished_above, body_above) = (false, false);
        }
        out.push(item);
    }
    out
}

/// Does the line end a sentence with a full stop, a question or an exclamation mark (closing
/// quotes after it allowed), not an abbreviation's point?
fn finished_sentence(line: &str) -> bool {
    let core = line.trim_end().trim_end_matches(['”', '"', '’', '\'', ')']);
    core.ends_with(['.', '?', '!']) && !ends_in_initial(core)
}

/// `… Prof. H.`: a single capital before the final point is an initial, not a sentence's end.
fn ends_in_initial(core: &str) -> bool {
    let mut rev = core.chars().rev().skip(1);
    matches!((rev.next(), rev.next()), (Some(c), Some(' ' | '.') | None) if c.is_uppercase())
}

/// A long line of text opening with a lower-case word (not a run-on list or a short scrap).
fn lower_case_opening(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let first_lower = words
        .next()
        .is_some_and(|w| w.chars().all(|c| c.is_ascii_lowercase()) && w.len() >= 2);
    first_lower && words.count() >= 8
}

/// An English wire story's opening: a place in capitals and a dateline (`DETROIT (AP) —`).
fn english_wire_opening(line: &str) -> bool {
    line.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && !line.chars().any(text::is_cjk)
        && heads::opens_with_dateline(line)
}

/// A jump head printed over two lines: the jump word alone, then the from-marker
/// (`STORM` / `From Page A1`, `## BUDGET` / `Continued from Page A1`, `CITY BUDGET` /
/// `(Continued from Page A1)`). When `found` is one English continued-from marker without a
/// jump word and the line directly above it (the last line of the open paragraph, or else the
/// last item: a one-line paragraph, the last line of a paragraph whose line before ends a
/// sentence, or a heading) is a [`markers::jump_word`], that line is taken out of the text and
/// becomes the marker's jump word; the marker's text is the two lines joined by a space.
fn join_jump_word(found: &mut [Found], items: &mut Vec<Item>, para: &mut Vec<String>) {
    let [f] = found else { return };
    if f.reference.kind() != PageReferenceKind::ContinuedFrom
        || !f.reference.jump_word.is_empty()
        || f.reference.text.chars().any(text::is_cjk)
    {
        return;
    }
    // the line above, if it starts its paragraph or follows a finished sentence
    let above = |lines: &[String]| -> Option<String> {
        let (last, before) = lines.split_last()?;
        let starts = before.last().is_none_or(|l| ends_paragraph(l));
        starts
            .then(|| markers::jump_word(last))
            .flatten()
            .map(str::to_owned)
    };
    let (word, line) = if !para.is_empty() {
        let Some(word) = above(para) else { return };
        (word, para.pop().unwrap_or_default())
    } else {
        match items.last_mut() {
            Some(Item::Heading { text, .. }) => {
                let Some(word) = markers::jump_word(text).map(str::to_owned) else {
                    return;
                };
                let line = std::mem::take(text);
                items.pop();
                (word, line)
            }
            Some(Item::Text { lines, .. }) => {
                let Some(word) = above(lines) else { return };
                let line = lines.pop().unwrap_or_default();
                if lines.is_empty() {
                    items.pop();
                }
                (word, line)
            }
            _ => return,
        }
    };
    f.reference.jump_word = word.to_uppercase();
    f.reference.text = format!("{line} {}", f.reference.text);
}

/// Plain OCR text wraps lines at the column width: inside a block, a line that ends a
/// sentence well short of the block's widest line ends its paragraph.
fn split_plain_paragraphs(items: Vec<Item>, line_per_paragraph: bool) -> Vec<Item> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Item::Text { lines, hard } = item else {
            out.push(item);
            continue;
        };
        if lines.len() < 2 {
            out.push(Item::Text { lines, hard });
            continue;
        }
        // each line's weight once: the rules below compare a line with the next and the widest
        let weights: Vec<usize> = lines.iter().map(|l| text::text_weight(l)).collect();
        let width = weights.iter().copied().max().unwrap_or(0);
        let mut current: Vec<String> = Vec::new();
        for (i, line) in lines.into_iter().enumerate() {
            let weight = weights[i];
            let next = weights.get(i + 1);
            // A headline line glued to its body (no blank line, no indent): short, open-ended,
            // capitals or CJK without commas, and followed by a clearly longer line.
            if current.is_empty()
                && next.is_some_and(|&n| n * 2 > weight * 3)
                && headline_shaped(&line)
            {
                out.push(Item::Text {
                    lines: vec![line],
                    hard: false,
                });
                continue;
            }
            // CJK text ends its paragraph at a line-final full stop (a wrapped line rarely
            // ends exactly on one); English needs the line to be short as well
            let cjk_stop = line.ends_with(['。', '！', '？', '”', '」'])
                && line.chars().rev().nth(1).is_some_and(text::is_cjk_like);
            let short = cjk_stop || line_per_paragraph || weight * 100 < width * 85;
            // (and so does a jump to another page: the story's text here ends with it)
            let ends = ends_paragraph(&line)
                || (line.ends_with(|c: char| c.is_ascii_alphanumeric())
                    && markers::ends_with_jump(&line));
            current.push(line);
            if short && ends {
                out.push(Item::Text {
                    lines: std::mem::take(&mut current),
                    hard: false,
                });
            }
        }
        if !current.is_empty() {
            out.push(Item::Text {
                lines: current,
                hard: false,
            });
        }
    }
    out
}

/// Can a wrapped OCR line be the last of its paragraph? It must end a sentence; a comma
/// (even inside closing quotes: `crumbling,"`) only pauses one, so the next line goes on
/// with it.
fn ends_paragraph(line: &str) -> bool {
    let core = line.trim_end_matches(['”', '"', '’', '\'', ')', '）', '」', '』']);
    if core.ends_with([',', '，', '、']) {
        return false;
    }
    text::ends_sentence(line) || line.ends_with(['？', '?', '！', '!', '”', '"'])
}

/// A line shaped like a headline in plain OCR text: short and open-ended, and either in
/// capitals (English) or CJK without sentence punctuation.
fn headline_shaped(line: &str) -> bool {
    if text::ends_sentence(line) || line.contains(['，', '。', '；']) {
        return false;
    }
    let cjk = line.chars().filter(|&c| text::is_cjk(c)).count();
    if cjk > 0 {
        return text::char_len(line) <= 30;
    }
    let letters: Vec<char> = line.chars().filter(|c| c.is_alphabetic()).collect();
    letters.len() >= 4
        && letters.iter().all(|c| c.is_uppercase())
        && line.split_whitespace().count() <= 12
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_news_in_brief_label_between_columns_ends_the_item_above_and_opens_briefs() {
        // raw OCR of a tabloid page, lines wrapped at the column: a report runs on, then the
        // brief column's label and its first item, no blank lines and no bullets
        let page = "区里的群众大会开了整整一天，各单位的代表轮流\n发言，会场里不时响起掌声。会后，大家表示要\n继续做好本单位的各项工作：\n簡讯\n城西区的三个工厂联合起来，于九月二日开会\n庆祝新的指挥部成立，到会的有各厂代表。\n";
        let got = items(page, Syntax::Plain, "");
        let label = got
            .iter()
            .position(|i| matches!(i, Item::Furniture(Furniture::Line, l) if l == "簡讯"))
            .expect("the label is furniture");
        assert!(matches!(got[label - 1], Item::Separator), "{got:?}");
        assert!(matches!(got[label + 1], Item::Bullet), "{got:?}");
        // the same word as a paper's name at the top of a page, or inside a sentence, is not
        assert!(
            !items("简讯\n第一条消息说，工厂开工了。\n", Syntax::Plain, "")
                .iter()
                .any(|i| matches!(i, Item::Bullet))
        );
        // the column's next item opens with a date after a finished sentence
        let page = format!("{page}九月五日上午，城东区的工人们召开大会，\n庆祝新厂房落成。\n");
        let got = items(&page, Syntax::Plain, "");
        assert_eq!(
            got.iter().filter(|i| matches!(i, Item::Bullet)).count(),
            2,
            "{got:?}"
        );
        assert!(opens_with_date("12月3日晚") && !opens_with_date("十二个月以来"));
        assert!(brief_column_label("本市简讯") && brief_column_label("【国际短讯】"));
        assert!(!brief_column_label("今天又收到一条简讯") && !brief_column_label("简讯说明"));
    }

    /// The items of a page whose publication is not known.
    fn items(content: &str, syntax: Syntax, page_name: &str) -> Vec<Item> {
        super::items(content, syntax, page_name, "")
    }

    #[test]
    fn a_letter_writers_name_above_the_next_letters_headline_is_a_signature() {
        let page = "Parking fees are too high\nEditor — The new parking fees will cost each of us more than a textbook every quarter.\nPlease reconsider them before the fall.\nMaria Lopez Civil Engineering\nThank the library staff\nEditor: The library stayed open late all of finals week, and the staff kept smiling.\nTom Reed\n";
        let items = items(page, Syntax::Plain, "");
        let signatures: Vec<String> = items
            .iter()
            .filter_map(|i| match i {
                Item::Credit(c) => Some(c[0].name.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(signatures, ["Maria Lopez"]);
        assert_eq!(
            heading_texts(&items),
            ["Parking fees are too high", "Thank the library staff"]
        );
    }

    #[test]
    fn a_lower_case_by_that_carries_a_sentence_on_is_no_byline() {
        let page = "The first prize for the best drawing in the younger group was won\nby Anna Berg, Northside Grammar School, Oslo,\nand the second prize went to a pupil from Lyon.\n";
        let found = items(page, Syntax::Plain, "");
        assert!(credit_names(&found).is_empty(), "{found:?}");
        // a byline under a headline, or under a finished sentence, is one
        let page = "Harbour works begin\nby Anna Berg\nThe first stones of the new quay were laid on Monday morning.\n";
        assert_eq!(credit_names(&items(page, Syntax::Plain, "")), ["Anna Berg"]);
        // so is one with the writer's title run on, under a long headline in sentence case
        let page = "New harbour works change the whole shape of the bay\nby Anna Berg StaH Wrilar\nThe first stones of the new quay were laid on Monday morning.\n";
        assert_eq!(credit_names(&items(page, Syntax::Plain, "")), ["Anna Berg"]);
        // and a plain one under a sentence-case headline that ends in a lower-case word
        let page = "Six more pickets arrested in latest of harbour protests\nby Anna Berg\nSfaH Wrltar\n   Six more people were arrested on Monday at the gates of the new quay.\n";
        assert_eq!(credit_names(&items(page, Syntax::Plain, "")), ["Anna Berg"]);
        // a `by` line that ends a sentence carries the one above on
        let page = "The teacher first showed the children slides of paintings\nby Braque, Picasso and Matisse.\nThen they drew what they remembered of them.\n";
        assert!(credit_names(&items(page, Syntax::Plain, "")).is_empty());
    }

    #[test]
    fn a_letters_section_label_signs_nothing() {
        let page = "Pollution of the sea\nThe oceans are the main garbage can of an industrial society, and the waste stays in them for a long time.\nLETTERS TO THE EDITOR\nFoundation loan to athletics is a scam\nEditor — The paper reported on Thursday that the foundation loaned money to the athletic department.\n";
        let found = items(page, Syntax::Plain, "");
        assert!(credit_names(&found).is_empty(), "{found:?}");
    }

    #[test]
    fn a_letters_label_in_mid_page_is_furniture_and_the_letter_keeps_its_title() {
        let page = "Parking fees\nThe fees will rise again next year, and nobody asked the students who pay them.\nLETTERS TO THE EDITOR\nLibrary hours are too short\nEditor - The library closes at nine, just when most of us finish work and could start to study.\n";
        let found = items(page, Syntax::Plain, "");
        assert!(
            found
                .iter()
                .any(|i| matches!(i, Item::Furniture(_, t) if t == "LETTERS TO THE EDITOR")),
            "{found:?}"
        );
        assert!(en_standing_label("Guest Viewpoint"));
        assert!(!en_standing_label("Letters were sent to every member"));
        assert!(!en_standing_label("letters."));
        // the first line of a story under a byline ending in a comma is the story's
        let page = "Senate passes the budget\nBy JOHN SMITH,\nThe Senate voted on Tuesday to approve the\nnew budget for the state's schools and roads.\n";
        let found = items(page, Syntax::Plain, "");
        assert!(
            found.iter().any(|i| matches!(i, Item::Text { lines, .. } if lines.iter().any(|l| l.starts_with("The Senate voted")))),
            "{found:?}"
        );
    }

    #[test]
    fn running_heads_are_furniture_but_jump_lines_and_dates_are_not() {
        for head in [
            "12 The Harbour Review - March 2003",
            "7The Harbour Review - May-June 2011",
            "HARBOUR REVIEW-Page 9",
            "Harbour Review — Page 14",
            "The Harbour Revlew. March 2003",
        ] {
            assert!(en_running_head(head), "{head}");
        }
        for not_head in [
            "15 Americans killed since March 2003",
            "The board met again. In March 2003",
            "Storms. March 2003",
            "See BUDGET — Page 3",
            "See BUDGET, page 3",
            "Continued from page 1",
            "12 September 2003",
            "On 12 March 2003 the board met again in",
            "The report was published in March 2003",
        ] {
            assert!(!en_running_head(not_head), "{not_head}");
        }
        let page = "## [Page 12](x.pdf#page=12)\n12 The Harbour Review - March 2003\nBRIDGES OF THE NORTH\nThe old bridges of the northern valleys were built of stone by farmers who had never seen a plan.\n";
        let found = items(page, Syntax::Markdown, "");
        assert!(
            !found.iter().any(|i| matches!(i, Item::Text { lines, .. } if lines.iter().any(|l| l.contains("Harbour Review")))),
            "{found:?}"
        );
    }

    #[test]
    fn a_writers_title_under_a_byline_ending_in_a_comma_is_part_of_the_credit() {
        let page = "WHY CHILDREN SHOULD PAINT\nby Dr. Ruth KELLER,\nDean, School of Applied Design,\nNorthfield State College\nEVERY child who holds a brush is making a choice about colour, line and space.\n";
        let found = items(page, Syntax::Plain, "");
        assert_eq!(credit_names(&found), ["Ruth KELLER"]);
        let text = text_lines(&found);
        assert!(
            !text
                .iter()
                .any(|l| l.contains("Dean") || l.contains("College")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|l| l.starts_with("EVERY child")),
            "{text:?}"
        );
    }

    #[test]
    fn a_magazine_byline_box_set_line_by_line() {
        let page = "Films for the classroom\nThe newsreel, too, has the merit of\nby\nJOHN HARLOW\nDirector of the Northern Film School\n, and\nMARY QUINN\nSecretary of the Film Guild, York\ncontinuity and could be used to a far greater extent to present science.\n";
        let found = items(page, Syntax::Plain, "");
        assert_eq!(credit_names(&found), ["JOHN HARLOW", "MARY QUINN"]);
        // none of the box's lines is left in the text
        let text = text_lines(&found);
        assert!(
            !text
                .iter()
                .any(|l| l.contains("Director") || l.contains(", and") || l.contains("Guild")),
            "{text:?}"
        );
        // a byline broken mid-word under a line that stops mid-sentence carries it on
        let page = "The picture was described in words\nby Alan Pryce, Direc-\ntor of the Science Service, who wrote the following.\n";
        assert!(credit_names(&items(page, Syntax::Plain, "")).is_empty());
    }

    #[test]
    fn a_wire_opening_or_a_lower_case_rest_after_finished_text_starts_another_item() {
        // one paragraph a line: a story, a photo's caption, the story's rest after it, a
        // finished paragraph, the rest of another story (its head elsewhere), a wire brief
        let page = "Council delays vote on the new bus depot\n\
The city council put off its vote on the bus depot on Tuesday after neighbors asked for another hearing on noise.\n\
Members said the hearing would be held before the end of the month in the library annex downtown.\n\
Neighbors crowd the council chamber.\n\
at least three members said they would vote for the depot if the hours of work were limited at night.\n\
The mayor said she expected a vote in June and that the plan would not change much after the hearing.\n\
programs that teach students to build and repair engines are full every quarter, the dean of the college said.\n\
Most students in the program find work before they graduate, he said, and many stay in the county.\n\
FRESNO, Calif. (AP) — A farm worker union called off its march on Thursday after talks with growers resumed.\n\
The talks will go on next week, a spokesman for the union said.\n";
        let got = items(page, Syntax::Plain, "");
        let opening = |start: &str| {
            got.iter()
                .position(|i| matches!(i, Item::Text { lines, .. } if lines[0].starts_with(start)))
                .unwrap_or_else(|| panic!("{start}: {got:?}"))
        };
        let separated = |at: usize| matches!(got[at - 1], Item::Separator);
        assert!(separated(opening("programs that teach")), "{got:?}");
        assert!(separated(opening("FRESNO, Calif.")), "{got:?}");
        // the story's text goes on under its photo's caption
        assert!(!separated(opening("at least three")), "{got:?}");
        assert_eq!(
            got.iter().filter(|i| matches!(i, Item::Separator)).count(),
            2,
            "{got:?}"
        );
    }

    #[test]
    fn headless_letters_start_at_their_salutation_and_end_at_the_writers_year() {
        let page = "Letters to the Editor\nEditor,\nRe: the column on bike lanes last Tuesday\nThe writer forgot that most of us ride to campus because parking costs too much.\nBuilding more lanes would help everyone.\nLena Ortiz Physics sophomore\nEditor,\nThe library should stay open later during finals week.\nMany of us work until nine.\nSam Whitt Forestry senior\n";
        let items = items(page, Syntax::Plain, "");
        // no headline: neither the salutation nor the subject line under it
        assert!(!items.iter().any(|i| matches!(i, Item::Heading { .. })));
        assert_eq!(credit_names(&items), ["Lena Ortiz", "Sam Whitt"]);
        // the second letter starts after the first one's signature
        let second = items
            .iter()
            .rposition(|i| matches!(i, Item::Text { lines, .. } if lines[0] == "Editor,"))
            .expect("second salutation");
        assert!(second > 1, "{items:?}");
        assert!(matches!(items[second - 1], Item::Separator), "{items:?}");
        // without its standing, a name after a letter is text, not a signature
        let page = "Editor,\nThe fees are too high.\nLena Ortiz\n";
        assert!(credit_names(&self::items(page, Syntax::Plain, "")).is_empty());
    }

    #[test]
    fn the_publications_name_at_the_top_is_the_masthead() {
        let page = "Campus Herald\nLibrary opens on Sundays\nby Ann Lee\nThe campus library will open on Sundays from next month, the director said on Friday.\n";
        let furniture = |items: &[Item]| -> Vec<String> {
            items
                .iter()
                .filter_map(|i| match i {
                    Item::Furniture(_, t) => Some(t.clone()),
                    _ => None,
                })
                .collect()
        };
        for printed in ["Campus Herald", "Campus Hcrald", "CAMPUS HERALD"] {
            let page = page.replace("Campus Herald", printed);
            let got = super::items(&page, Syntax::Plain, "", "campus-herald");
            assert_eq!(furniture(&got), [printed], "{printed}");
        }
        // another paper's name, or a page whose publication is not known, is left alone
        assert!(furniture(&super::items(page, Syntax::Plain, "", "valley-times")).is_empty());
        assert!(furniture(&items(page, Syntax::Plain, "")).is_empty());
    }

    #[test]
    fn masthead_lines_between_columns_are_furniture() {
        let page = "COUNCIL MEETS\nThe council met on Tuesday and\nvoted to pave the main street\nbefore the fall, at a cost of\nabout six thousand dollars.\nThe mayor said the work would\nstart in June, and the board will\nmeet again on the first Monday.\nThe Valley Herald\nVOL. XII-NO. 40\nRIVERTON, OREGON, FRIDAY EVENING, MAY 5, 1916\nPRICE FIVE CENTS\nMILL BURNS DOWN\nThe old mill on the river road\nburned to the ground last night.\nThe owner paid 25 cents a\nbushel for the wheat it held.\nThe owner said he would build again.\n";
        let furniture = furniture_lines(page);
        assert_eq!(
            furniture,
            [
                "The Valley Herald",
                "VOL. XII-NO. 40",
                "RIVERTON, OREGON, FRIDAY EVENING, MAY 5, 1916",
                "PRICE FIVE CENTS"
            ]
        );
    }

    #[test]
    fn a_sections_label_in_capitals_mid_page_is_furniture() {
        // one paragraph a line: a letter, then the label of the column section under it
        let page = "Bike lanes are needed\nThe city should paint lanes on Foothill before someone is hurt there, as nearly happened to me last week on my way to class.\nJane Roe\nCOMMENTARY\n\nThe parking problem is ours\nby Sam Poe\nEvery morning the lots fill before eight, and the students who drive in from the county have nowhere to go but the streets.\n";
        let furniture = furniture_lines(page);
        assert!(furniture.iter().any(|f| f == "COMMENTARY"), "{furniture:?}");
    }

    #[test]
    fn a_web_copys_link_to_the_article_below_is_furniture() {
        let page = "河道清淤工程完工 '...\n\n  河道清淤工程完工\n本报讯 全长十二公里的河道清淤工程昨天完工。\n读者来信摘登...\n";
        let furniture = furniture_lines(page);
        // the last line links to nothing on the page: it stays
        assert_eq!(furniture, ["河道清淤工程完工 '..."]);
    }

    #[test]
    fn parallel_section_headings_of_a_converted_article_are_its_text() {
        let page = "# 山区果农迎来丰收年\n\n本报记者  林一\n\n今年全县苹果产量再创新高。\n\n# 改良品种，提高果品质量\n\n县里引进了三个新品种。\n\n# 修建道路，打通运输渠道\n\n新修的果园路通到了每个村。\n\n# 河道清淤工程完工\n\n本报讯 全长十二公里的河道清淤工程昨天完工。\n";
        let got = items(page, Syntax::Markdown, "");
        assert_eq!(
            heading_texts(&got),
            ["山区果农迎来丰收年", "河道清淤工程完工"]
        );
        // one such heading alone is a headline: parallel heads come in runs
        let page = "# 山区果农迎来丰收年\n\n今年全县苹果产量再创新高。\n\n# 改良品种，提高果品质量\n\n县里引进了三个新品种。\n";
        assert_eq!(
            items(page, Syntax::Markdown, "")
                .iter()
                .filter(|i| matches!(i, Item::Heading { .. }))
                .count(),
            2
        );
    }

    #[test]
    fn a_staff_box_is_furniture() {
        let page = "Fees go up again\nStudents will pay more next fall after the trustees approved a new fee schedule on Friday.\nThe vote was five to two.\nThe Campus Herald\nRuth Gale Editor\nOmar Diaz Managing Editor\nPia Kent Sports Editor\nTed Moss General Manager\nNewsroom: (555) 201-3344; Advertising: (555) 201-3345\nAd staff: Ann Bell, Cy Park, Dee Lowe, Eli Ross\n";
        let furniture = furniture_lines(page);
        assert_eq!(furniture.len(), 7, "{furniture:?}");
        assert_eq!(furniture[0], "The Campus Herald");
        // one name with a job is a byline's title, not a box
        let page = "Fees go up again\nBy Ruth Gale\nManaging Editor\nStudents will pay more next fall after the trustees approved a new fee schedule.\n";
        assert!(!items(page, Syntax::Plain, "")
            .iter()
            .any(|i| matches!(i, Item::Furniture(..))));
    }

    #[test]
    fn the_masthead_and_folio_above_the_first_headline_are_furniture() {
        // name, school, volume and a date whose year OCR ran into the day
        let page = "The Campus Herald\nNorthfield State College, Ridgeway\nVolume 12 No. 40\nMonday, March 3,1986\nDorm fees rise again\nBy Anne Walsh\nStaff Writer\nStudents living on campus will pay more next fall after the trustees approved a new fee schedule on Friday.\n";
        assert_eq!(
            furniture_lines(page),
            [
                "The Campus Herald",
                "Northfield State College, Ridgeway",
                "Volume 12 No. 40",
                "Monday, March 3,1986"
            ]
        );
        // the date first, then the paper's name and a section label set with bullets
        let page = "TUESDAY, MAY 6, 1986\nCampus Herald\nWorld ■ Nation ■ State\nFloods close mountain roads\nDENVER (AP) — Heavy rain closed three mountain highways on Monday and forced hundreds of families from their homes.\n";
        assert_eq!(
            furniture_lines(page),
            [
                "TUESDAY, MAY 6, 1986",
                "Campus Herald",
                "World ■ Nation ■ State"
            ]
        );
        // a page without a folio at its top keeps its first lines
        let page = "Dorm fees rise again\nStudents living on campus will pay more next fall after the trustees approved a new fee schedule on Friday.\n";
        assert!(furniture_lines(page).is_empty());
    }

    #[test]
    fn a_second_writer_and_a_garbled_title_under_a_byline_are_credits() {
        let page = "Library hours cut\nBy Dana Reyes\nand Paul T. Okafor\nNews Staf___\nThe university library will close at ten on weeknights starting next month, the dean said on Tuesday.\nStudents said the change would hurt those who work during the day and study at night.\nStudy rooms fill up\nBy Lee Park\nSpecial to the Daily\nThe study rooms on the third floor are booked solid every evening of finals week, staff said.\nThe library will add ten rooms next year.\n";
        let got = items(page, Syntax::Plain, "");
        assert_eq!(
            credit_names(&got),
            ["Dana Reyes", "Paul T. Okafor", "Lee Park"]
        );
        assert!(texts(&got)
            .iter()
            .all(|t| !t.contains("Staf___") && !t.contains("Special to")));
        // after finished body text, a byline with its title opens the next article
        let page = "Library hours cut\nThe university library will close at ten on weeknights starting next month, the dean said on Tuesday.\nStudents said the change would hurt those who work during the day and study at night.\nBy Lee Park\nStaf Wrtr___\nThe study rooms on the third floor are booked solid every evening of finals week, staff said.\n";
        let got = items(page, Syntax::Plain, "");
        let at = got
            .iter()
            .position(|i| matches!(i, Item::Credit(c) if !c.is_empty()))
            .expect("byline");
        assert!(matches!(got[at - 1], Item::Separator), "{got:?}");
    }

    /// The furniture lines of a plain page.
    fn furniture_lines(page: &str) -> Vec<String> {
        items(page, Syntax::Plain, "")
            .iter()
            .filter_map(|i| match i {
                Item::Furniture(_, line) => Some(line.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_poems_last_short_lines_close_it_over_the_next_title() {
        // the stanza's short lines run into the next poem's title and its poet; the line that
        // ends the sentence (`好日子来!`) ends the poem above, and the title starts under it
        let page = "春天的歌\n王某某\n河水向东流去，\n麦苗在风里摇。\n迎春风\n千家万户，\n好日子来!\n写给炼钢工人\n李某某\n炉火映红了你们的脸，汗水湿透了你们的衣裳，\n你们把钢水一炉一炉地送出了车间。\n";
        let got = items(page, Syntax::Plain, "");
        assert_eq!(heading_texts(&got), ["春天的歌", "写给炼钢工人"]);
        assert_eq!(credit_names(&got), ["王某某", "李某某"]);
    }

    /// The texts of the headings among the items, in order.
    fn heading_texts(items: &[Item]) -> Vec<&str> {
        items
            .iter()
            .filter_map(|i| match i {
                Item::Heading { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    fn credit_names(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .filter_map(|i| match i {
                Item::Credit(c) => Some(c.iter().map(|c| c.name.clone()).collect::<Vec<_>>()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    #[test]
    fn an_author_over_a_part_number_or_opening_a_cut_page_is_a_credit() {
        // title, author, part number, verse
        let poem = "秋天的河\n李青山\n(一)\n河水慢慢地流过村口,\n流过我们的田野和学校。\n";
        assert_eq!(credit_names(&items(poem, Syntax::Plain, "")), ["李青山"]);
        // a page whose title was cut off: the author's full name first, over a paragraph
        let cut = "1957年8月25日人民日报 第5版\n\n王明起\n小河在两座山之间流着，靠河的北岸山崖下有个小村，那就是我的家乡，我小时候常在河边放牛。\n";
        assert_eq!(credit_names(&items(cut, Syntax::Plain, "")), ["王明起"]);
        // a two-character column title there is not a name
        let column = "1949年2月26日人民日报 第1版\n\n信箱\n各地读者来信询问的几件事情，现在统一答复如下，请大家留意并转告身边的亲友和同事们。\n";
        assert!(credit_names(&items(column, Syntax::Plain, "")).is_empty());
        // nor is a short line over a poem's own title
        let subtitle = "读报杂感\n李青山\n夜里读报\n报上的字一个一个亮起来,\n";
        assert!(credit_names(&items(subtitle, Syntax::Plain, "")).is_empty());
        // a literary page sets the name between middle dots, indented
        let essay = "1983年5月6日人民日报 第8版\n在北方的那些年\n  ·林山·\n那些年的冬天很长,我们住在一间小屋里,每天早上要先把炉子生起来才能开始做事。\n";
        assert_eq!(credit_names(&items(essay, Syntax::Plain, "")), ["林山"]);
    }

    #[test]
    fn a_pen_name_between_a_title_and_its_text_is_a_credit() {
        // a commentary signed with a pen name that starts with no known surname
        let page = "会议在友好气氛中结束,双方同意明年再次举行会谈。\n第三世界国家的团结日益加强\n启明\n近年来,亚非拉国家在国际事务中发挥的作用越来越大,这是战后世界的一个显著变化。\n";
        assert_eq!(credit_names(&items(page, Syntax::Plain, "")), ["启明"]);
        // under a poet's name, a short line is the first poem's title, not a second name
        let poems = "1997年8月5日人民日报 第12版\n\n江南行\n李青山\n湖州\n春水绕城流不尽,\n";
        assert_eq!(
            credit_names(&items(poems, Syntax::Plain, "")),
            Vec::<String>::new()
        );
        // a genre label under a title is no name
        let label = "会议在友好气氛中结束。\n关于加强农田水利建设的几点意见\n短评\n今年冬季各地要把农田水利建设放在重要位置,早作安排。\n";
        assert!(credit_names(&items(label, Syntax::Plain, "")).is_empty());
    }

    #[test]
    fn a_signature_over_the_next_heading_is_the_writers_credit() {
        let page = "#### Bike lanes\n\nThe new bike lanes on Main Street have made my commute safer and faster.\n\nMaria Lopez\nOak Grove\n\n#### Library hours\n\nPlease keep the branch library open on Sundays, when families can visit.\n\nTom Reed, Millbrook\n";
        let got = items(page, Syntax::Markdown, "");
        assert_eq!(credit_names(&got), ["Maria Lopez", "Tom Reed"]);
        assert!(!texts(&got).iter().any(|t| t.contains("Oak Grove")));
        // a short title-case line under text and over more text is text
        let page = "#### Parade\n\nThe parade starts at noon on Saturday.\n\nMain Street Closed\n\nDrivers should use Elm Street instead.\n";
        assert!(credit_names(&items(page, Syntax::Markdown, "")).is_empty());
    }

    #[test]
    fn reporters_named_after_the_last_paragraph_are_credits() {
        let page = "# 某镇建起蔬菜大棚\n\n本报讯 某镇今年新建蔬菜大棚三百个，冬季蔬菜自给率提高到七成，菜价比去年同期下降一成。\n\n王青山  李明  赵大海\n\n# 某县修通进村公路\n\n本报讯 某县今年修通进村公路一百公里。\n";
        assert_eq!(
            credit_names(&items(page, Syntax::Markdown, "")),
            ["王青山", "李明", "赵大海"]
        );
        // one name after a letter is its writer's signature, not a reporters' line
        let letter = "编辑同志：\n我们村的路修好了，感谢各级政府的关心，村民们出行方便多了，特此来信表示感谢。\n王青山\n";
        assert!(credit_names(&items(letter, Syntax::Plain, "")).is_empty());
    }

    #[test]
    fn bullets_after_text_start_items_and_bullets_under_a_headline_do_not() {
        let briefs = "本市简讯\n栏目介绍文字，由本报编辑部整理。\n△市图书馆新馆昨天开放，首日接待读者\n三千多人次。\n△东郊公园的荷花节将于下周开幕。\n";
        let got = items(briefs, Syntax::Plain, "");
        assert_eq!(
            got.iter().filter(|i| matches!(i, Item::Separator)).count(),
            2
        );
        assert!(texts(&got).iter().any(|t| t.starts_with("市图书馆新馆")));
        let summary = "某地推进垃圾分类\n■全市八成小区已设分类投放点。\n■明年起将对违规投放处以罚款。\n新华社某地5月3日电 某地今年全面推进生活垃圾分类，已有八成小区设立了分类投放点。\n";
        let items = items(summary, Syntax::Plain, "");
        assert!(!items.iter().any(|i| matches!(i, Item::Separator)));
    }

    #[test]
    fn headings_need_a_space_after_the_hashes() {
        assert_eq!(heading("# 标题"), Some((1, "标题")));
        assert_eq!(heading("## Title ##"), Some((2, "Title")));
        assert_eq!(heading("#hashtag"), None);
    }

    #[test]
    fn a_credit_and_a_marker_under_one_hard_break_become_two_items() {
        let items = items("记者 祝家乐 摄  \n详见05版\n", Syntax::Markdown, "");
        assert!(matches!(items[0], Item::Credit(_)));
        assert!(matches!(items[1], Item::Reference(_)));
    }

    #[test]
    fn hard_broken_short_lines_stay_one_item_marked_hard() {
        let items = items("让优质医疗资源  \n请进来留得住\n", Syntax::Markdown, "");
        assert_eq!(
            items,
            vec![Item::Text {
                lines: vec!["让优质医疗资源".into(), "请进来留得住".into()],
                hard: true
            }]
        );
    }

    #[test]
    fn a_short_ocr_line_ending_in_a_comma_does_not_end_its_paragraph() {
        let line_counts = |page: &str| -> Vec<usize> {
            items(page, Syntax::Plain, "")
                .iter()
                .map(|i| match i {
                    Item::Text { lines, .. } => lines.len(),
                    _ => 0,
                })
                .collect()
        };
        let quote = "  \"We are asking families to pay more\nwhile the bridge keeps crumbling,\"\nshe said.\n  Mayor Tom Brennan defended the plan.\n";
        assert_eq!(line_counts(quote), vec![3, 1]);
        let zh = "　　九原区今年计划改造老旧小区32个，涉及居民\n1.1万余户，\n目前已有18个小区开工建设。\n";
        assert_eq!(line_counts(zh), vec![3]);
        // a short line that does end a sentence still ends its paragraph
        let two = "  The council met Thursday night to vote on\nthe plan.\nA second vote is set for July 24 at City Hall.\n";
        assert_eq!(line_counts(two), vec![2, 1]);
    }

    /// The references of the reference items, as (jump word, text).
    fn jumps(items: &[Item]) -> Vec<(String, String)> {
        items
            .iter()
            .filter_map(|i| match i {
                Item::Reference(found) => Some(found),
                _ => None,
            })
            .flatten()
            .map(|f| (f.reference.jump_word.clone(), f.reference.text.clone()))
            .collect()
    }

    /// Every line of the text items, in order.
    fn text_lines(items: &[Item]) -> Vec<&String> {
        items
            .iter()
            .filter_map(|i| match i {
                Item::Text { lines, .. } => Some(lines),
                _ => None,
            })
            .flatten()
            .collect()
    }

    fn texts(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .filter_map(|i| match i {
                Item::Text { lines, .. } => Some(lines.join(" / ")),
                Item::Heading { text, .. } => Some(format!("# {text}")),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_jump_word_on_its_own_line_joins_the_from_marker_below() {
        let page = "STORM\nFrom Page A1\n  Crews worked on.\n";
        let it = items(page, Syntax::Plain, "");
        assert_eq!(jumps(&it), [("STORM".into(), "STORM From Page A1".into())]);
        assert_eq!(texts(&it), ["Crews worked on."]);
        // after the last line of the article above, in the same block
        let page =
            "  The vote is set for July 24.\nCITY BUDGET\n(Continued from Page A1)\n  More.\n";
        let it = items(page, Syntax::Plain, "");
        assert_eq!(
            jumps(&it),
            [(
                "CITY BUDGET".into(),
                "CITY BUDGET (Continued from Page A1)".into()
            )]
        );
        assert_eq!(texts(&it), ["The vote is set for July 24.", "More."]);
        // a markdown heading, a bold line a blank line away, a marker set as a heading
        let md = "## BUDGET\nContinued from Page A1\n\nThe vote.\n\n**STORM**\n\nFrom Page A1\n\nCrews.\n\n## PARKS\n### From Page A1\n\nPools.\n";
        let it = items(md, Syntax::Markdown, "");
        assert_eq!(
            jumps(&it),
            [
                ("BUDGET".into(), "BUDGET Continued from Page A1".into()),
                ("STORM".into(), "STORM From Page A1".into()),
                ("PARKS".into(), "PARKS From Page A1".into()),
            ]
        );
        assert_eq!(texts(&it), ["The vote.", "Crews.", "Pools."]);
    }

    #[test]
    fn headlines_and_running_text_above_a_from_marker_stay_text() {
        for (page, kept) in [
            (
                "Fair Draws Record Crowd\nContinued from Page A1\n",
                "Fair Draws Record Crowd",
            ),
            (
                "SCHOOL BOARD PICKS NEW SUPERINTENDENT\nFrom Page A1\n",
                "SCHOOL BOARD PICKS NEW SUPERINTENDENT",
            ),
            ("THE DAILY HERALD\nFrom Page A1\n", "THE DAILY HERALD"),
            // the capitals end a sentence that runs on from the line before
            (
                "  A grant from the\nUSDA\nFrom Page A1\n",
                "A grant from the / USDA",
            ),
        ] {
            let it = items(page, Syntax::Plain, "");
            assert_eq!(jumps(&it)[0].0, "", "{page}");
            assert_eq!(texts(&it), [kept], "{page}");
        }
        // a marker that has its word already, a continued-on marker, a Chinese marker
        let it = items("LOCAL\nSTORM, From Page A1\n", Syntax::Plain, "");
        assert_eq!(jumps(&it)[0].0, "STORM");
        assert_eq!(texts(&it), ["LOCAL"]);
        let it = items("STORM\nContinued on Page A6\n", Syntax::Plain, "");
        assert_eq!(jumps(&it)[0].0, "");
        let it = items("STORM\n（上接第一版）\n", Syntax::Plain, "");
        assert_eq!(jumps(&it)[0].0, "");
        assert_eq!(texts(&it), ["STORM"]);
    }

    proptest::proptest! {
        /// The in-place comparison reads section labels as collecting each word's letters did.
        #[test]
        fn section_labels_read_as_by_collected_words(
            words in proptest::collection::vec(
                "(OPINION|Sports|world|nATION|arts|Xcommentary|editorials|campus|metro|[a-zA-Z■•.-]{0,6})",
                0..5,
            ),
            sep in "[ ■•\t]{1,3}",
        ) {
            let t = words.join(&sep);
            let collected: Vec<String> = t
                .split_whitespace()
                .map(en_letters)
                .filter(|l| !l.is_empty())
                .collect();
            let expected = (1..=3).contains(&collected.len())
                && collected.iter().all(|l| {
                    EN_SECTIONS.iter().any(|s| l.ends_with(s) && l.len() <= s.len() + 1)
                });
            proptest::prop_assert_eq!(en_section_label(&t), expected, "{:?}", t);
        }
    }
}
