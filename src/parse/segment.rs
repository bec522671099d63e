//! Segmentation: the page's items grouped into article drafts.
//!
//! One pass over the items in print order. A [`Segmenter`] holds the article being put
//! together and what waits for the next one (credits and continued-from markers printed
//! above a headline, a picture above its caption); each kind of item has its own method, and
//! each decision about a text item is a small named rule:
//! - [`Segmenter::teaser`]: a short title with a see-also marker is a teaser of its own;
//! - [`Segmenter::masthead_line`]: short lines above the first article are the masthead;
//! - [`Segmenter::heads_article`] / [`Segmenter::heads_continuation`]: a paragraph of a
//!   markdown page without headings that reads as a headline starts an article.
//!
//! Headlines of plain text were already decided line by line ([`super::heads`]) and arrive
//! as headings of level 0.

use super::blocks::{Item, Syntax};
use super::furniture::Furniture;
use super::markers::{self, Found};
use super::{credits, cut_ranges, text, Limits, ParseError};
use crate::proto::{Credit, CreditRole, Masthead, PageReferenceKind};

/// An article being put together from items.
#[derive(Debug, Default)]
pub(super) struct Draft {
    /// Headline lines with their heading level (0 for guessed), in print order.
    pub(super) headlines: Vec<(u8, String)>,
    /// The headline lines were one headline wrapped with hard breaks.
    pub(super) headline_wrapped: bool,
    /// Paragraphs as lines still to be joined.
    pub(super) paragraphs: Vec<Vec<String>>,
    pub(super) credits: Vec<Credit>,
    pub(super) references: Vec<Found>,
    pub(super) image: bool,
    pub(super) teaser: bool,
    pub(super) headline_guessed: bool,
    /// An item of a news-in-brief column (it opened with a bullet).
    pub(super) brief: bool,
    /// A picture with a short title over its caption ([`titled_caption_ahead`]).
    pub(super) photo: bool,
}

impl Draft {
    pub(super) fn is_empty(&self) -> bool {
        self.headlines.is_empty() && self.paragraphs.is_empty()
    }
}

/// Groups items into article drafts; masthead lines and page credits go to the page.
pub(super) fn segment(
    items: &[Item],
    syntax: Syntax,
    masthead: &mut Masthead,
    page_credits: &mut Vec<Credit>,
    limits: &Limits,
) -> Result<Vec<Draft>, ParseError> {
    // Headlines of plain text were guessed line by line (`heads`); the paragraph-level guess
    // is for markdown pages without headings that the line guesser left alone.
    let has_headings = items.iter().any(|i| matches!(i, Item::Heading { .. }));
    let mut s = Segmenter {
        guess_headlines: syntax == Syntax::Markdown && !has_headings,
        max_articles: limits.max_articles,
        masthead,
        page_credits,
        drafts: Vec::new(),
        cur: Draft::default(),
        pending_refs: Vec::new(),
        pending_credits: Vec::new(),
        pending_image: false,
        photo_title: false,
        teaser_mode: false,
        jumped: false,
        notice_title: false,
    };
    let mut i = 0;
    while i < items.len() {
        i += s.item(items, i)?;
    }
    s.close()?;
    // Markers and credits left over at the page end belong to the last article.
    if let Some(last) = s.drafts.last_mut() {
        last.references.append(&mut s.pending_refs);
        last.credits.append(&mut s.pending_credits);
    }
    Ok(s.drafts)
}

/// The state of one pass over a page's items.
struct Segmenter<'m> {
    /// A markdown page without headings: paragraphs may be headlines.
    guess_headlines: bool,
    max_articles: usize,
    masthead: &'m mut Masthead,
    page_credits: &'m mut Vec<Credit>,
    drafts: Vec<Draft>,
    /// The article being put together.
    cur: Draft,
    /// Continued-from markers seen before their article's first text.
    pending_refs: Vec<Found>,
    /// Credits seen before their article's first text.
    pending_credits: Vec<Credit>,
    /// A picture seen before its article's first text.
    pending_image: bool,
    /// A picture over a short title and its caption: the next paragraph is the title.
    photo_title: bool,
    /// Inside a 导读 / "Inside" box: short titles are teasers.
    teaser_mode: bool,
    /// The article's text on this page ended with a jump to another page (`See TEACHING,
    /// page 3`, `（下转第二版）`): text after it is another item.
    jumped: bool,
    /// The last item was a guessed headline taken as the title of a book notice in a list of
    /// them (the line under it may go on with the title).
    notice_title: bool,
}

impl Segmenter<'_> {
    /// Takes the item at `i`; returns how many items it consumed.
    fn item(&mut self, items: &[Item], i: usize) -> Result<usize, ParseError> {
        match &items[i] {
            Item::Heading { level, text } => self.heading(items, i, *level, text)?,
            Item::Text { lines, hard } => return self.text(items, i, lines, *hard),
            Item::Credit(credits) => self.credit(credits),
            Item::Reference(found) => self.reference(found)?,
            Item::Furniture(f, line) => self.furniture(f, line),
            Item::Image => self.image(&items[i + 1..])?,
            Item::TeaserSection => {
                self.close()?;
                self.teaser_mode = true;
            }
            Item::Separator => {
                self.close()?;
                self.teaser_mode = false;
            }
            // the separator above closed the last item: this one is a brief
            Item::Bullet => self.cur.brief = true,
        }
        Ok(1)
    }

    /// Ends the article being put together. A heading with nothing under it (the paper's
    /// name set as a heading, a section label) is page furniture, not an article.
    fn close(&mut self) -> Result<(), ParseError> {
        self.jumped = false;
        let done = std::mem::take(&mut self.cur);
        self.push(done)
    }

    fn push(&mut self, done: Draft) -> Result<(), ParseError> {
        // A guessed headline with nothing under it below other articles is kept: the headline
        // guesser takes one only where a body follows or the page ends on it (a copy cut short)
        let cut_off =
            !self.drafts.is_empty() && done.headlines.iter().all(|(level, _)| *level == 0);
        if !done.teaser
            && done.paragraphs.is_empty()
            && done.references.is_empty()
            && done.credits.is_empty()
            && !done.image
            && !done.headlines.is_empty()
            && !cut_off
        {
            self.masthead
                .lines
                .extend(done.headlines.into_iter().map(|(_, t)| t));
            return Ok(());
        }
        if !done.is_empty() {
            if self.drafts.len() >= self.max_articles {
                return Err(ParseError::TooManyArticles {
                    limit: self.max_articles,
                });
            }
            self.drafts.push(done);
        }
        Ok(())
    }

    /// Opens the current (empty) article: what waited above it becomes its own.
    fn open(&mut self) {
        self.cur.references.append(&mut self.pending_refs);
        self.cur.credits.append(&mut self.pending_credits);
        self.cur.image |= std::mem::take(&mut self.pending_image);
    }

    /// A heading directly under another heading (nothing between) is part of its headline
    /// stack; marked-up stacks hold at most three lines, guessed ones (level 0: kicker,
    /// headline and decks of plain text) a few more. Any other heading starts an article.
    fn heading(
        &mut self,
        items: &[Item],
        i: usize,
        level: u8,
        text: &str,
    ) -> Result<(), ParseError> {
        // a list of book notices (title, author, publisher, price) is one item: a guessed
        // headline under a notice's price line, or under a title so taken, is the next title
        let notice = level == 0
            && (self.notice_title
                || self
                    .cur
                    .paragraphs
                    .last()
                    .is_some_and(|p| ends_with_price(p)));
        self.notice_title = notice;
        if notice {
            self.cur.paragraphs.push(vec![text.to_owned()]);
            return Ok(());
        }
        let cap = if level == 0 { 24 } else { 3 };
        let stacking = !self.cur.headlines.is_empty()
            && self.cur.paragraphs.is_empty()
            && !self.cur.teaser
            && self.cur.headlines.len() < cap
            && matches!(items.get(i.wrapping_sub(1)), Some(Item::Heading { .. }));
        if !stacking {
            self.close()?;
            self.open();
        }
        self.cur.headlines.push((level, text.to_owned()));
        self.cur.headline_guessed |= level == 0;
        self.teaser_mode = false;
        Ok(())
    }

    /// A paragraph: a teaser, masthead, a guessed headline, or body text.
    fn text(
        &mut self,
        items: &[Item],
        i: usize,
        lines: &[String],
        hard: bool,
    ) -> Result<usize, ParseError> {
        self.notice_title = false;
        let next = items.get(i + 1);
        let headline_shaped = headline_like(lines);
        if std::mem::take(&mut self.photo_title) && headline_shaped {
            self.open();
            self.cur.photo = true;
            self.cur
                .headlines
                .extend(lines.iter().map(|l| (0, l.clone())));
            return Ok(1);
        }
        // the continuation of an article from another page (`（上接第一版）…`) after other
        // text is a piece of its own, wherever the converter put it
        if !self.cur.paragraphs.is_empty() && opens_continuation(lines) {
            self.close()?;
            self.open();
            self.cur.paragraphs.push(lines.to_vec());
            return Ok(1);
        }
        if headline_shaped {
            if let Some(consumed) = self.teaser(lines, hard, next)? {
                return Ok(consumed);
            }
        }
        let continuation = headline_shaped && heads_continuation(&self.cur, lines, items, i);
        if !continuation && headline_shaped && self.masthead_line(lines, next) {
            return Ok(1);
        }
        if continuation || (self.heads_article(lines, next) && next_is_body(next, lines)) {
            self.close()?;
            self.open();
            self.cur.headline_guessed = true;
            self.cur.headline_wrapped = hard;
            self.cur
                .headlines
                .extend(lines.iter().map(|l| (0, l.clone())));
        } else {
            // the text of the article above went on to another page: this is another item
            // (unless it repeats a line of that article: a pull quote set after the jump)
            if self.jumped && !self.cur.paragraphs.is_empty() && !pull_quote(&self.cur, lines) {
                self.close()?;
            }
            if self.cur.is_empty() {
                self.open();
            }
            self.cur.paragraphs.push(lines.to_vec());
            self.jumped = lines.last().is_some_and(|l| markers::ends_with_jump(l));
        }
        Ok(1)
    }

    /// A teaser: a short title followed by a see-also marker (导读 style), or, inside a
    /// teaser box, a short title with the marker on the same line. Returns the items it
    /// consumed, or `None` when the paragraph is not a teaser.
    fn teaser(
        &mut self,
        lines: &[String],
        hard: bool,
        next: Option<&Item>,
    ) -> Result<Option<usize>, ParseError> {
        let inline = if self.teaser_mode {
            markers::find(&lines.join(" "))
        } else {
            Vec::new()
        };
        let inline_see = inline.len() == 1
            && inline[0].reference.kind() == PageReferenceKind::SeeAlso
            && inline[0].range.end + 6 >= lines.join(" ").len();
        if !(first_see_also(next) || inline_see) {
            return Ok(None);
        }
        self.close()?;
        let mut teaser = Draft {
            teaser: true,
            headline_wrapped: hard,
            ..Draft::default()
        };
        if inline_see && lines.len() > 1 {
            // a label over the entry (`Nation` / `… / page two`): a kicker
            let (last, labels) = lines.split_last().expect("two lines or more");
            let found = markers::find(last);
            teaser
                .headlines
                .extend(labels.iter().map(|l| (0, l.clone())));
            teaser.headlines.push((0, cut_ranges(last, &found)));
            teaser.references.extend(found);
        } else if inline_see {
            let joined = lines.join(" ");
            teaser.headlines.push((0, cut_ranges(&joined, &inline)));
            teaser.references.extend(inline);
        } else {
            teaser
                .headlines
                .extend(lines.iter().map(|l| (0, l.clone())));
        }
        let mut consumed = 1;
        if let Some(Item::Reference(found)) = next {
            teaser.references.extend(found.iter().cloned());
            consumed += 1;
        }
        self.push(teaser)?;
        Ok(Some(consumed))
    }

    /// Short lines above the first article (the paper's name, a slogan) are masthead, not a
    /// headless article.
    fn masthead_line(&mut self, lines: &[String], next: Option<&Item>) -> bool {
        let above_everything =
            self.drafts.is_empty() && self.cur.is_empty() && self.pending_refs.is_empty();
        if above_everything && text::char_len(&lines.join(" ")) <= 24 && !next_is_body(next, lines)
        {
            self.masthead.lines.push(lines.join(" "));
            return true;
        }
        false
    }

    /// On a markdown page without headings, a headline-shaped paragraph (or one in
    /// capitals) followed by text or a credit starts an article, unless the article above
    /// has only a headline so far.
    fn heads_article(&self, lines: &[String], next: Option<&Item>) -> bool {
        self.guess_headlines
            && (headline_like(lines) || all_caps(lines))
            && matches!(next, Some(Item::Text { .. } | Item::Credit(_)))
            && (self.cur.is_empty() || !self.cur.paragraphs.is_empty())
    }

    fn credit(&mut self, credits: &[Credit]) {
        if self.cur.is_empty() {
            self.pending_credits.extend(credits.iter().cloned());
        } else {
            self.cur.credits.extend(credits.iter().cloned());
        }
    }

    /// A continued-from marker before any text belongs to the article below it; after
    /// text, it ends the article above. Other markers belong to the article they are in.
    fn reference(&mut self, found: &[Found]) -> Result<(), ParseError> {
        let opening = found
            .iter()
            .all(|f| f.reference.kind() == PageReferenceKind::ContinuedFrom);
        if self.cur.is_empty()
            || (opening && self.cur.paragraphs.is_empty() && self.cur.headlines.is_empty())
        {
            self.pending_refs.extend(found.iter().cloned());
        } else if opening && !self.cur.paragraphs.is_empty() {
            self.close()?;
            self.pending_refs.extend(found.iter().cloned());
        } else {
            self.jumped |= !self.cur.paragraphs.is_empty()
                && found
                    .iter()
                    .any(|f| f.reference.kind() == PageReferenceKind::ContinuedOn);
            self.cur.references.extend(found.iter().cloned());
        }
        Ok(())
    }

    /// Masthead facts go to the page's masthead (the first of each kind), editors to the
    /// page's credits, anything else to the masthead's lines.
    fn furniture(&mut self, f: &Furniture, line: &str) {
        let m = &mut *self.masthead;
        match f {
            Furniture::Serial(s) if m.serial_number.is_empty() => m.serial_number = s.clone(),
            Furniture::Issn(s) if m.issn.is_empty() => m.issn = s.clone(),
            Furniture::Publisher(p) if m.publisher.is_empty() => m.publisher = p.clone(),
            Furniture::Editors(e) => self.page_credits.extend(e.iter().cloned()),
            _ => m.lines.push(line.to_owned()),
        }
    }

    /// A picture followed by its caption and photo credit is a photo story of its own, even
    /// when it follows another article's text.
    fn image(&mut self, rest: &[Item]) -> Result<(), ParseError> {
        // a picture over a short title and a caption (no credit printed): a photo story with
        // that title
        if !self.guess_headlines && titled_caption_ahead(rest) {
            self.close()?;
            self.pending_image = true;
            self.photo_title = true;
            return Ok(());
        }
        if !self.cur.paragraphs.is_empty() && photo_unit_ahead(rest) {
            self.close()?;
        }
        if self.cur.is_empty() {
            self.pending_image = true;
        } else {
            self.cur.image = true;
        }
        Ok(())
    }
}

/// An English headline over a continued-from marker and its text (a jump page repeating the
/// headline) heads the continuation; it is not the last line of the article above, nor
/// masthead.
fn heads_continuation(cur: &Draft, lines: &[String], items: &[Item], i: usize) -> bool {
    matches!(items.get(i + 1), Some(Item::Reference(found)) if english_opening(found))
        && !lines.iter().any(|l| l.chars().any(text::is_cjk))
        && next_is_body(items.get(i + 2), lines)
        && (cur.is_empty() || !cur.paragraphs.is_empty())
}

/// Can this paragraph be a headline? Short, not a finished sentence.
fn headline_like(lines: &[String]) -> bool {
    // a headline is at most ~40 CJK characters or 16 words: longer text is not one
    if lines.is_empty() || lines.len() > 3 || lines.iter().map(String::len).sum::<usize>() > 200 {
        return false;
    }
    let joined: String = lines.join(" ");
    let cjk = joined.chars().filter(|&c| text::is_cjk(c)).count();
    if cjk > 0 {
        let n = text::char_len(&joined);
        n <= 40 && !text::ends_sentence(&joined) && !joined.contains('，') && !joined.contains('。')
    } else {
        let words = joined.split_whitespace().count();
        let first_upper = joined.chars().next().is_some_and(char::is_uppercase);
        (1..=16).contains(&words) && first_upper && !text::ends_sentence(&joined)
    }
}

/// An English line in capitals (OCR headlines).
fn all_caps(lines: &[String]) -> bool {
    let letters: Vec<char> = lines
        .iter()
        .flat_map(|l| l.chars())
        .filter(|c| c.is_alphabetic())
        .collect();
    letters.len() >= 4 && letters.iter().all(|c| c.is_uppercase() && c.is_ascii())
}

/// Does the paragraph repeat the start of one of the article's paragraph lines (a pull quote:
/// `Police said Coles may have been "somewhat despondent…"` set again beside the story)?
/// Compared on the first five words' letters, lower-cased.
fn pull_quote(cur: &Draft, lines: &[String]) -> bool {
    let words = |t: &str| -> Vec<String> {
        t.split_whitespace()
            .take(5)
            .map(|w| {
                w.chars()
                    .filter(|c| c.is_alphanumeric())
                    .flat_map(char::to_lowercase)
                    .collect::<String>()
            })
            .collect()
    };
    let Some(first) = lines.first() else {
        return false;
    };
    let key = words(first);
    key.len() == 5 && cur.paragraphs.iter().flatten().any(|l| words(l) == key)
}

/// Does the paragraph end on a price in brackets, as a book notice does (`1970 (£3,
/// $10.00).`, `(7/6 and 95 cents per copy).`, `(358 pp., $13.00).`)? Reads its last two lines.
/// A notice is short (an author, a publisher, a price): a paragraph of more than six lines
/// that ends on a price is prose, a news item that names one.
fn ends_with_price(paragraph: &[String]) -> bool {
    if paragraph.len() > 6 {
        return false;
    }
    let tail = match paragraph {
        [.., a, b] => format!("{a} {b}"),
        [b] => b.clone(),
        [] => return false,
    };
    let t = tail.trim_end().trim_end_matches('.');
    let Some(inner) = t
        .strip_suffix(')')
        .and_then(|t| t.rsplit_once('('))
        .map(|(_, i)| i)
    else {
        return false;
    };
    let b = inner.as_bytes();
    let shillings = b
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b'/' && (w[2] == b'-' || w[2].is_ascii_digit()));
    inner.len() <= 80 && (inner.contains(['$', '£', '€']) || shillings)
}

/// Only English continued-from markers: the opening of a continuation.
fn english_opening(found: &[Found]) -> bool {
    !found.is_empty()
        && found.iter().all(|f| {
            f.reference.kind() == PageReferenceKind::ContinuedFrom
                && !f.reference.text.chars().any(text::is_cjk)
        })
}

fn first_see_also(item: Option<&Item>) -> bool {
    matches!(item, Some(Item::Reference(found)) if found.first().is_some_and(|f| f.reference.kind() == PageReferenceKind::SeeAlso))
}

/// Do the next items read as a caption and a photo credit (one or two short paragraphs,
/// then a photographer's credit, on its own line or closing the caption)? Not where the
/// text goes on under them without a headline: a picture set inside a story, its caption
/// between two paragraphs of the story (`![](…)` / `Commuters wait…. Photo by NAME` /
/// `“This is…,” said…`).
fn photo_unit_ahead(rest: &[Item]) -> bool {
    let is_photographer = |c: &Credit| c.role() == CreditRole::Photographer;
    // (a paragraph that cannot be a headline and opens with no dateline: the story's text,
    // not another item's start)
    let story_goes_on = |n: usize| {
        matches!(rest.get(n + 1), Some(Item::Text { lines, .. }) if {
            let (para, _) = text::join_lines(lines.iter().map(String::as_str));
            !headline_like(lines) && credits::dateline(&para).is_none()
        })
    };
    for (n, item) in rest.iter().take(3).enumerate() {
        match item {
            Item::Text { lines, .. } => {
                let (para, _) = text::join_lines(lines.iter().map(String::as_str));
                if text::text_weight(&para) > 400 {
                    return false;
                }
                if credits::trailing_credit(&para)
                    .is_some_and(|(_, c)| c.iter().any(is_photographer))
                {
                    return !story_goes_on(n);
                }
            }
            Item::Credit(c) => return n > 0 && c.iter().any(is_photographer) && !story_goes_on(n),
            _ => return false,
        }
    }
    false
}

/// Does the paragraph open with a Chinese continued-from marker (`（上接第一版）`,
/// `[上接第一版）` as OCR closes it, `上接第2版`), as [`markers::find`] reads it?
fn opens_continuation(lines: &[String]) -> bool {
    let Some(first) = lines.first() else {
        return false;
    };
    // a cheap test of the opening first, then the marker patterns the references come from
    let t = first.trim_start_matches(['(', '（', '[', '【', '〔', ' ', '　']);
    let opening = first.len() - t.len();
    (t.starts_with("上接") || t.starts_with("接上") || t.starts_with("接第"))
        && markers::find(first).first().is_some_and(|f| {
            f.reference.kind() == PageReferenceKind::ContinuedFrom && f.range.start <= opening
        })
}

/// Do the next items read as a photo's short title and its caption, with no credit: a
/// headline-shaped paragraph of at most 20 characters (not a finished sentence) over a
/// paragraph of caption length, followed by a heading, another picture, the page's end or a
/// continuation from another page?
fn titled_caption_ahead(rest: &[Item]) -> bool {
    let [Item::Text { lines: title, .. }, Item::Text { lines: caption, .. }, after @ ..] = rest
    else {
        return false;
    };
    let short = title.len() == 1 && text::char_len(&title[0]) <= 20 && headline_like(title);
    let weight: usize = caption.iter().map(|l| text::text_weight(l)).sum();
    let ends = match after.first() {
        None | Some(Item::Heading { .. } | Item::Image | Item::Separator) => true,
        Some(Item::Text { lines, .. }) => opens_continuation(lines),
        _ => false,
    };
    short && !headline_like(caption) && weight <= 400 && ends
}

/// A guessed headline needs a body under it that is longer than itself.
fn next_is_body(next: Option<&Item>, headline: &[String]) -> bool {
    match next {
        Some(Item::Text { lines, .. }) => {
            let body: usize = lines.iter().map(|l| text::text_weight(l)).sum();
            let head: usize = headline.iter().map(|l| text::text_weight(l)).sum();
            body > head * 2 || !headline_like(lines)
        }
        Some(Item::Credit(_)) => true,
        _ => false,
    }
}
