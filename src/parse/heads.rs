//! Headlines in text without heading markup: which lines of a page head an article.
//!
//! Plain text (and markdown whose converter marked no headings) separates articles only by
//! their headline lines: short, open-ended lines, in capitals or title case in English, stacked
//! one to a few deep (kicker, headline, decks), and followed by the body — often a dateline or
//! a byline. This module decides, over the whole page, which runs of lines are such stacks.
//! Each rule is a small named function; [`mark`] combines them.
//!
//! Lines are seen as [`Line`]s: their text (already cleaned), their indentation, and whether
//! an earlier stage classified them as something else (credit, marker, furniture).

use crate::parse::credits;
use crate::parse::text::{self, char_len, is_cjk, text_weight};

/// One line of the page as the guesser sees it.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    /// The cleaned text; empty for a blank line.
    pub text: &'a str,
    /// Leading spaces (ASCII space = 1, full-width space = 2).
    pub indent: usize,
    /// What an earlier stage made of the line.
    pub role: Role,
}

/// What a line is, before headlines are guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Blank,
    /// Ordinary text: a headline candidate or body.
    Text,
    /// A credit-only line (byline, `（新华社）`).
    Credit,
    /// A page-reference-only line (`(Continued from Page 1)`).
    Reference,
    /// A photographer's credit: it closes a caption, or stands between a photo's title and
    /// its caption (`A thunderous break` / `NAME/Mustang Daily` / caption).
    PhotoCredit,
    /// Masthead, folio, running head, or a teaser-section label.
    Other,
}

/// The shape of a line that could be a headline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Chinese (or Japanese, Korean): short, no sentence punctuation.
    Cjk,
    /// English in capitals.
    Caps,
    /// English in title case.
    Title,
    /// English in sentence case, short and open-ended.
    Sentence,
}

/// Largest headline line, in CJK characters.
const MAX_CJK_HEAD: usize = 40;
/// Largest headline line, in English words.
const MAX_EN_WORDS: usize = 14;

/// A column tag printed after a headline: `(今日谈)`, `（国际视点）`.
fn without_column_tag(t: &str) -> &str {
    let t = t.trim_end();
    if let Some(stripped) = t.strip_suffix([')', '）']) {
        if let Some(open) = stripped.rfind(['(', '（']) {
            let tag = &stripped[open..];
            // a campaign's column runs long (`（守初心 担使命·深入开展“…”主题教育）`),
            // but it names a column, it says nothing: no sentence punctuation
            let named = char_len(tag) <= 16
                || (char_len(tag) <= 48 && !tag.contains(['，', ',', '。', '；', '！', '？']));
            if named && open > 0 {
                return stripped[..open].trim_end();
            }
        }
    }
    t
}

/// Is the line shaped like a headline on its own?
fn shape(t: &str) -> Option<Shape> {
    let core = without_column_tag(t);
    if core.is_empty() {
        return None;
    }
    // longer than any headline line: 40 CJK characters (3 bytes each) or 14 English words
    if core.len() > 200 {
        return None;
    }
    // CJK lead bytes E3..EF or F0 (extensions): count them without decoding English lines
    let cjk = if core.bytes().any(|b| b >= 0xE3) {
        core.chars().filter(|&c| is_cjk(c)).count()
    } else {
        0
    };
    if cjk > 0 {
        let n = char_len(core);
        // Mostly CJK; no sentence stops inside or at the end (a kicker may end in a colon or
        // a dash).
        // a headline longer than a line of a column runs on without any punctuation (the
        // full name of a meeting: `深入学习贯彻…重要讲话精神理论研讨会在京举行`)
        let long_plain = n <= 2 * MAX_CJK_HEAD
            && !core.contains([
                '，', ',', '。', '；', ';', '：', ':', '、', '！', '!', '？', '?',
            ]);
        if (n > MAX_CJK_HEAD && !long_plain) || cjk * 2 < n || core.contains(['。', '；', ';']) {
            return None;
        }
        if core.ends_with(['，', ',', '、', '。', '；', ';']) {
            return None;
        }
        // commas are rare in headlines: a line with two is a sentence, and so is an
        // exclamation after a comma (`…的纪念,我们伟大的祖国万岁!`)
        let commas = core.matches(['，', ',']).count();
        if commas >= 2 || (commas == 1 && core.ends_with(['!', '！', '?', '？'])) {
            return None;
        }
        // speech opening a quotation that does not close: `“亲爱的同志们和朋友们!`
        if core.matches('“').count() > core.matches('”').count() {
            return None;
        }
        // a colon deep inside introduces text (`电文如下:纽约…`); a short place or topic
        // before it is a headline's (`湖北：一江碧水东流`)
        if let Some(at) = core.find([':', '：']) {
            if char_len(&core[..at]) > 6 && at + 3 < core.len() {
                return None;
            }
        }
        return Some(Shape::Cjk);
    }
    // English: one pass over the words, no allocation (this runs on most lines of a page)
    let core = without_ocr_speck(core);
    let small = [
        "a", "an", "the", "of", "in", "on", "at", "to", "for", "and", "or", "but", "by", "with",
        "from", "as", "is", "are", "be", "de", "la", "du", "vs", "vs.",
    ];
    let (mut words, mut capitalised, mut minor) = (0usize, 0usize, 0usize);
    let mut first_upper = false;
    for w in core.split_whitespace() {
        words += 1;
        if words > MAX_EN_WORDS {
            return None;
        }
        let c = w.chars().next().unwrap_or(' ');
        if words == 1 {
            first_upper = c.is_uppercase();
        }
        if c.is_uppercase() || !c.is_alphabetic() {
            capitalised += 1;
        } else if w.len() <= 4 && small.iter().any(|s| s.eq_ignore_ascii_case(w)) {
            minor += 1;
        }
    }
    if words == 0 || word_broken(core) {
        return None;
    }
    let (mut letters, mut upper) = (0usize, 0usize);
    if core.is_ascii() {
        for b in core.bytes().filter(u8::is_ascii_alphabetic) {
            letters += 1;
            upper += usize::from(b.is_ascii_uppercase());
        }
    } else {
        for c in core.chars().filter(|c| c.is_alphabetic()) {
            letters += 1;
            upper += usize::from(c.is_uppercase());
        }
    }
    if letters < 3 {
        return None;
    }
    if upper * 10 >= letters * 8 {
        return Some(Shape::Caps);
    }
    if core.ends_with([',', ';']) {
        return None;
    }
    if !first_upper {
        // a magazine's deck naming who is interviewed, in lower case under the title
        // (`interview with NAME`): a line of the stack, not the body's first line
        return interview_deck(core).then_some(Shape::Title);
    }
    if core.ends_with('.') && !core.ends_with("..") && !ends_in_initialism(core) {
        // older papers close a title-case headline with a full stop (`Kalen Acquitted.`,
        // `Glendorado Farmers' Club Meeting.`); any other line ending in one is a sentence
        let title = capitalised + minor == words && capitalised >= 2 && words <= 8;
        return title.then_some(Shape::Title);
    }
    if capitalised + minor >= words && capitalised * 2 > words {
        return Some(Shape::Title);
    }
    Some(Shape::Sentence)
}

/// `interview with NAME`, `an interview with NAME`, `in conversation with NAME`: the name one
/// to four capitalised words, nothing after it.
fn interview_deck(t: &str) -> bool {
    let Some(name) = [
        "interview with ",
        "an interview with ",
        "in conversation with ",
    ]
    .iter()
    .find_map(|p| t.strip_prefix(p)) else {
        return false;
    };
    let words = name.split_whitespace().count();
    (1..=4).contains(&words)
        && name
            .split_whitespace()
            .all(|w| w.starts_with(char::is_uppercase) && !w.ends_with(['.', ',', ';', ':']))
}

/// Does the line end in an initialism (`The horror that is O.J.`, `Aid for the U.S.`)? Its
/// stops close no sentence.
fn ends_in_initialism(t: &str) -> bool {
    t.split_whitespace().next_back().is_some_and(|w| {
        w.matches('.').count() >= 2 && w.chars().all(|c| c == '.' || c.is_ascii_uppercase())
    })
}

/// The line without a speck that OCR read off the column rule or the paper's grain, set
/// apart by a space before the first word (`^ Multitude of Receptions`, `| SOLIDARITY OF
/// PEOPLES`); a table row (`| a | b |`) keeps its bars.
fn without_ocr_speck(t: &str) -> &str {
    let Some((first, rest)) = t.split_once(' ') else {
        return t;
    };
    let speck = !first.is_empty()
        && first.chars().count() <= 2
        && first
            .chars()
            .all(|c| matches!(c, '^' | '|' | '!' | '*' | '»' | '«' | '\\' | '~' | '_'))
        && !rest.contains('|');
    if speck {
        rest.trim_start()
    } else {
        t
    }
}

/// Does the English line end inside a word, broken by a hyphen at the line's end
/// (`In 1878 the International Confe-`, `Techno¬`)? Such a line runs on into the next one;
/// headlines are not broken that way.
pub fn word_broken(t: &str) -> bool {
    let Some(head) = t.strip_suffix(['-', '¬']) else {
        return false;
    };
    head.chars().next_back().is_some_and(char::is_lowercase)
}

/// A single capitalised word on a line of its own, however short (`A`, `TO`): a headline
/// set one word a line has such lines among its longer words.
fn one_caps_word(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 16
        && !t.contains(char::is_whitespace)
        && t.chars().all(|c| c.is_uppercase() || c == '\'' || c == '’')
}

/// A headline set one word a line: three or more lines of a single capitalised word each.
/// The short words among them (`A`, `TO`) are too short to look like a headline alone; in
/// such a run they are capitals like the rest.
fn one_word_a_line(lines: &[Line<'_>], shapes: &mut [Option<Shape>]) {
    let caps_word = |l: &Line<'_>| l.role == Role::Text && one_caps_word(l.text);
    let mut i = 0;
    while i < lines.len() {
        if !caps_word(&lines[i]) {
            i += 1;
            continue;
        }
        let end = (i..lines.len())
            .find(|&k| !caps_word(&lines[k]))
            .unwrap_or(lines.len());
        if end - i >= 3 && (i..end).filter(|&k| shapes[k] == Some(Shape::Caps)).count() >= 2 {
            for s in &mut shapes[i..end] {
                *s = Some(Shape::Caps);
            }
        }
        i = end;
    }
}

/// Questions set as a headline stack over a dateline (`修建…的两种做法,你赞成哪一种?` /
/// `是因陋就简,满足更多人的需要?` / … / `本报讯 …`): a question with a comma reads as a
/// sentence alone, but two or more short question lines right above a dateline are the
/// stack of the report it opens.
fn questions_over_dateline(lines: &[Line<'_>], shapes: &mut [Option<Shape>]) {
    let question = |l: &Line<'_>| {
        l.role == Role::Text
            && l.text.trim_end().ends_with(['？', '?'])
            && char_len(l.text.trim()) <= MAX_CJK_HEAD
            && l.text.matches(['，', ',']).count() <= 1
            && !l.text.contains(['。', '；', ';', '“'])
            && l.text.chars().any(is_cjk)
    };
    // one pass: `run` is where the run of question lines just above line `i` starts, and
    // `marked` how far an earlier dateline in the same run has marked it already (a dateline
    // may itself read as a question: `本报讯 好吗?` a line, thousands of lines)
    let (mut run, mut marked) = (0, 0);
    for i in 0..lines.len() {
        if i >= run + 2 && lines[i].role == Role::Text && opens_with_dateline(lines[i].text) {
            for s in &mut shapes[run.max(marked)..i] {
                *s = Some(Shape::Cjk);
            }
            marked = i;
        }
        if !question(&lines[i]) {
            run = i + 1;
        }
    }
}

/// A sentence-case headline wrapped onto a second line in lower case (`Grants for` /
/// `village schools`): a short line of at most three words (five under a line of at most
/// four) under a sentence-case line, neither ending a sentence, has that line's shape.
fn wrapped_sentence_heads(lines: &[Line<'_>], shapes: &mut [Option<Shape>]) {
    for i in 1..lines.len() {
        if shapes[i - 1] != Some(Shape::Sentence) || shapes[i].is_some() {
            continue;
        }
        let (above, l) = (lines[i - 1].text, lines[i].text);
        // (up to five words under a short first line: `Group discusses` / `format of
        // spring commencement`)
        let words = l.split_whitespace().count();
        if l.starts_with(|c: char| c.is_lowercase())
            && (words <= 3 || (words <= 5 && above.split_whitespace().nth(4).is_none()))
            && !closes_paragraph(l)
            && !closes_paragraph(above)
            && lines[i].role == Role::Text
        {
            shapes[i] = Some(Shape::Sentence);
        }
    }
}

/// Does the line open a body: a dateline (新华社北京5月11日电, 本报讯, WASHINGTON (AP) —)?
pub fn opens_with_dateline(t: &str) -> bool {
    // `又电` / `又讯`: a second report of the same agency, its dateline shortened
    if t.starts_with("又电") || t.starts_with("又讯") {
        return true;
    }
    // cheap cues first: a Chinese dateline names 电, 讯 or 消息; an English one has a dash
    let b = t.as_bytes();
    let cue = if b.first().is_some_and(u8::is_ascii_uppercase) {
        // WASHINGTON (AP) —, PORTLAND, Ore. —: a place in capitals first
        // (or, in an old paper, `LONDON, July 26.`: a place and a date)
        b.get(1).is_some_and(|c| c.is_ascii_uppercase())
            && (t.contains(['—', '-', '–']) || names_a_month(t))
    } else {
        t.contains(['电', '讯', '息']) || t.contains(['—', '-', '–'])
    };
    cue && credits::dateline(t).is_some()
}

/// Does the line name a month in the first 60 bytes (a cheap cue for an old dateline)?
fn names_a_month(t: &str) -> bool {
    let head = &t.as_bytes()[..t.len().min(60)];
    [
        "Jan", "Feb", "Mar", "Apr", "May", "June", "July", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .any(|m| head.windows(m.len()).any(|w| w == m.as_bytes()))
}

/// The label of a quotation box (`毛主席语录`, `最高指示`, `毛主席最新指示`; OCR may damage
/// the name): it always starts an item of its own, whatever the lines under it look like.
pub fn quotation_label(t: &str) -> bool {
    // OCR may read a speck before it as a letter (`a毛主席语录`)
    let t = t.trim_start_matches(|c: char| c.is_ascii_alphanumeric());
    let n = char_len(t);
    (2..=10).contains(&n)
        && ["语录", "語录", "語錄", "语錄", "指示"]
            .iter()
            .any(|end| t.ends_with(end))
        && t.chars().all(is_cjk)
}

/// A numbered subhead inside an article: 一、 （二） 1. 第三，
fn numbered_subhead(t: &str) -> bool {
    let mut chars = t.chars();
    let first = chars.next().unwrap_or(' ');
    let second = chars.next().unwrap_or(' ');
    ("一二三四五六七八九十".contains(first) && matches!(second, '、' | '是' | '要'))
        || (matches!(first, '（' | '(') && "一二三四五六七八九十".contains(second))
        || (first.is_ascii_digit() && matches!(second, '.' | '、' | '．'))
}

/// A line that closes the item above rather than heading the next: a date line under a
/// letter (`一九五三年十一月五日 北京`), a signature of names (`某某边区政府 张三 李四`).
pub fn closing_line(t: &str) -> bool {
    let first = t.split_whitespace().next().unwrap_or("");
    let zh_date = first.ends_with('日')
        && first.contains('年')
        && first.contains('月')
        && char_len(first) <= 14
        && char_len(t) <= 24;
    let tokens: Vec<&str> = t.split_whitespace().collect();
    let signature = tokens.len() >= 2
        && tokens[1..]
            .iter()
            .all(|w| (2..=3).contains(&char_len(w)) && w.chars().all(is_cjk));
    // a closing dateline in brackets (（本报伦敦2月21日电）), a photo credit (某某摄（影像中国）)
    let bracketed = (t.starts_with(['(', '（', '[', '【']) && t.ends_with([')', '）', ']', '】']))
        || (t.starts_with('《') && t.ends_with('》'));
    let photo_credit = char_len(t) <= 24 && without_column_tag(t).trim_end().ends_with('摄');
    // the date a poem or letter was written (`七月十七日作`, `一九六四年七月于北京`)
    let written = char_len(t) <= 20
        && t.contains('月')
        && (t.ends_with("日作") || t.ends_with("月作") || t.contains("日于") || t.contains("月于"));
    zh_date || signature || bracketed || photo_credit || written
}

/// Page texts are often copies cut at a size, so the page may end on a headline whose body
/// was cut away. A Chinese run that ends the page is that headline when it is a full line
/// (six characters or more and no comma, so a paragraph's first words cut off are not taken
/// for one) and the item above closed: its last line ends a sentence or is a closing line (a
/// date, a signature), or is no text at all.
///
/// A line that stops mid-phrase is the cut paragraph, whatever its length: it ends in a
/// numeral or a word that needs more after it (`…在七`, `…提出三`, `…的`). So is a line set like
/// the page's paragraphs where its headlines are set apart: flush under headlines that are
/// all indented over flush paragraphs (`accepted`: the headline runs found above it).
fn headline_cut_off(
    lines: &[Line<'_>],
    accepted: &[(usize, usize)],
    start: usize,
    end: usize,
    width: usize,
) -> bool {
    let run = &lines[start..=end];
    let last = run[run.len() - 1].text;
    if last.ends_with([
        '一', '二', '三', '四', '五', '六', '七', '八', '九', '十', '两', '在', '的', '和', '与',
        '对', '把', '被', '从', '向', '将', '于', '及', '并', '为', '是', '由', '以',
    ]) {
        return false;
    }
    let heads_indented =
        !accepted.is_empty() && accepted.iter().all(|&(a, _)| lines[a].indent >= 2);
    let flush_body = lines
        .iter()
        .filter(|l| l.role == Role::Text && text_weight(l.text) * 2 > width)
        .all(|l| l.indent < 2);
    if heads_indented && flush_body && run[0].indent < 2 {
        return false;
    }
    // a full line with no comma, on a page whose body lines are at least twice as long (in
    // raw OCR every line is short, and a short last line is a cut box of text)
    if run.len() > 3
        || run.iter().any(|l| {
            char_len(l.text) < 6 || l.text.contains(['，', ',']) || text_weight(l.text) * 2 > width
        })
    {
        return false;
    }
    lines[..start]
        .iter()
        .rev()
        .find(|l| l.role != Role::Blank)
        .is_some_and(|p| p.role != Role::Text || closes_paragraph(p.text) || closing_line(p.text))
}

/// The first characters of a Chinese dateline, the rest cut away with the end of the page's
/// copy: `新华社北京4月1`, `本报讯`, `新华社`.
fn dateline_cut_off(t: &str) -> bool {
    ["新华社", "本报", "中新社"]
        .iter()
        .any(|a| t.starts_with(a))
        && char_len(t) <= 14
        && !t.contains(['，', ',', '。', '：', ':'])
}

/// The source of a quotation under it (`——某某在某次会议上的报告`): a dash line right under
/// text that ends a sentence closes that text. Under a headline (no sentence end) the same dash
/// opens a subtitle.
fn attribution(t: &str, above: &str) -> bool {
    t.starts_with("——") && closes_paragraph(above)
}

/// A short line set far to the right under text (`               本报通联科`): the signature
/// of the item above, not the first line of the next headline.
fn signature_set_right(lines: &[Line<'_>], i: usize) -> bool {
    lines[i].indent >= 8
        && lines[i - 1].indent + 4 <= lines[i].indent
        && lines[i].text.chars().any(is_cjk)
}

/// Lines inside a quotation that opened on an earlier line and has not closed (a toast, a
/// slogan read out: `“欢迎各位朋友来到中国!` … `祝贺世界和平更加巩固!”`) are speech, not
/// headlines. A quotation is followed over at most six lines, so a lost closing mark in OCR
/// text cannot silence the rest of the page.
fn outside_quotations(lines: &[Line<'_>], mut shapes: Vec<Option<Shape>>) -> Vec<Option<Shape>> {
    let mut open_since: Option<usize> = None;
    for (i, l) in lines.iter().enumerate() {
        if l.role != Role::Text {
            open_since = None;
            continue;
        }
        // most lines are outside any quotation and open none: nothing to do
        if open_since.is_none() && !l.text.contains('“') {
            continue;
        }
        // Chinese text only: English OCR loses and confuses its quotation marks
        if !l.text.bytes().any(|b| b >= 0xE3) || !l.text.chars().any(is_cjk) {
            open_since = None;
            continue;
        }
        if open_since.is_some_and(|at| i - at <= 6) {
            shapes[i] = None;
        } else {
            open_since = None;
        }
        // only lines with curly quotes can change the state: skip the count otherwise
        if l.text.contains(['“', '”']) {
            let mut depth: i32 = i32::from(open_since.is_some());
            for c in l.text.chars() {
                match c {
                    '“' => depth += 1,
                    '”' => depth = (depth - 1).max(0),
                    _ => {}
                }
            }
            open_since = match (depth > 0, open_since) {
                (true, Some(at)) => Some(at),
                (true, None) => Some(i),
                (false, _) => None,
            };
        }
    }
    shapes
}

/// How long the body lines of the page are: the weight of text lines that are not
/// headline-shaped, at the 75th percentile (ads and lists add many short lines).
fn body_width(lines: &[Line<'_>], shapes: &[Option<Shape>]) -> usize {
    let mut w: Vec<usize> = lines
        .iter()
        .zip(shapes)
        .filter(|(l, s)| l.role == Role::Text && s.is_none())
        .map(|(l, _)| text_weight(l.text))
        .collect();
    if w.is_empty() {
        return 0;
    }
    w.sort_unstable();
    w[w.len() * 3 / 4]
}

/// Is the line plainly body text under a headline of the given shape and weight: not
/// headline-shaped (or much heavier than the headline), or sentence case under capitals or
/// title case, or a paragraph indented under a flush headline?
fn is_body(
    line: &Line<'_>,
    shape: Option<Shape>,
    head: Option<Shape>,
    head_indent: usize,
    head_weight: usize,
) -> bool {
    if line.role != Role::Text {
        return false;
    }
    let weight = text_weight(line.text);
    match shape {
        None => weight > head_weight || !matches!(head, Some(Shape::Cjk)),
        Some(Shape::Sentence) if matches!(head, Some(Shape::Caps | Shape::Title)) => true,
        Some(_) if line.indent >= 2 && head_indent < 2 => true,
        Some(_) => weight > head_weight * 2 + 4,
    }
}

/// Does the line end where a paragraph can end (so a headline may follow it)?
fn closes_paragraph(t: &str) -> bool {
    let core = t.trim_end_matches(['”', '"', '’', '\'', ')', '）', '」', '』', ']', '】']);
    text::ends_sentence(t)
        || core.ends_with(['？', '?', '！', '!', '。', '.'])
        || t.ends_with([')', '）', '”', '"'])
        // the work a quotation is taken from, alone on its line under it (`《论某某》`)
        || (t.starts_with('《') && t.ends_with('》') && t.matches('《').count() == 1)
}

/// Does the line end in a short capitalised abbreviation (`the Hon.`, `Mr.`, `St.`), whose full
/// stop ends no sentence?
fn ends_in_abbreviation(t: &str) -> bool {
    t.split_whitespace().next_back().is_some_and(|w| {
        let core = w.trim_end_matches('.');
        w.ends_with('.')
            && core.starts_with(|c: char| c.is_ascii_uppercase())
            && core.chars().filter(char::is_ascii_alphabetic).count() <= 3
            && core.chars().all(|c| c.is_ascii_alphabetic() || c == '.')
    })
}

/// Can line `b` be the next line of a headline stack that `a` is in? Not when it is set as a
/// paragraph (indented under a flush line), nor when a sentence-case line follows capitals
/// (the body under an all-caps headline).
fn stacks_on(a: &Line<'_>, sa: Option<Shape>, b: &Line<'_>, sb: Option<Shape>) -> bool {
    if b.indent >= 2 && a.indent < 2 {
        return false;
    }
    !(sa == Some(Shape::Caps)
        && sb == Some(Shape::Sentence)
        && b.text.split_whitespace().count() > 3)
}

/// Does the English line stop on a word that needs more after it (`the`, `of`, `by`)?
fn ends_on_small_word(t: &str) -> bool {
    let last = t.split_whitespace().last().unwrap_or("");
    [
        "a", "an", "the", "of", "in", "on", "at", "to", "for", "and", "or", "but", "by", "with",
        "from", "as", "is", "are", "was", "were", "be", "that",
    ]
    .iter()
    .any(|w| w.eq_ignore_ascii_case(last))
}

/// A short English line that OCR damage kept from looking like a headline (`fin Midst`,
/// `of Fights`): at most three words, no sentence end.
fn garbled_deck_line(line: &Line<'_>) -> bool {
    line.role == Role::Text
        && !line.text.chars().any(is_cjk)
        && line.text.split_whitespace().count() <= 3
        && !closes_paragraph(line.text)
}

/// A short title-case deck line closed by a full stop (`During the Day.`, `Feeling Due to
/// War.`): a sentence to the shape rules, but set as a deck.
fn closed_deck_line(line: &Line<'_>) -> bool {
    line.role == Role::Text
        && line.text.ends_with('.')
        && !line.text.ends_with("..")
        && line.text.split_whitespace().count() <= 6
        && shape(line.text) == Some(Shape::Title)
}

/// Which lines of a guessed headline stack are the headline proper; the others are kicker
/// and decks. English headlines wrap: the first lines of the same shape and about the same
/// width are one headline (`BRITISH HOLD` / `FULL CONTROL`), the wider lines under them a
/// deck; a line in lower or title case above capitals is a kicker. Chinese stacks keep one
/// line per headline; the caller picks it.
pub fn headline_range(stack: &[&str]) -> std::ops::Range<usize> {
    if stack.is_empty() || stack.iter().any(|l| l.chars().any(is_cjk)) {
        return 0..stack.len().min(1);
    }
    // a headline set one word a line (`A` / `ROYAL` / `VISITOR` / `TO` / …): all its words
    let one_word = stack
        .iter()
        .take_while(|l| !l.trim().contains(char::is_whitespace))
        .count();
    if one_word >= 3 {
        return 0..one_word;
    }
    let shapes: Vec<Option<Shape>> = stack.iter().map(|l| shape(l)).collect();
    let mut first = 0;
    // a kicker in small letters over a headline in capitals: lighter than its first line, or
    // over a capitals headline of two lines or more (`A phenomenon of our time` / `THE
    // DIVORCE` / `OF SCIENCE`)
    if stack.len() >= 2
        && shapes[0] != Some(Shape::Caps)
        && shapes[1] == Some(Shape::Caps)
        && (text_weight(stack[0]) <= text_weight(stack[1])
            || shapes.get(2) == Some(&Some(Shape::Caps)))
    {
        first = 1;
    }
    // a kicker that leads in (`ON BEHALF OF 7,000,000 BLIND...`, `Inside:`), or a one-word
    // label over a headline three times its weight (`UNESCO` / `HUMAN RIGHTS EXHIBITION
    // OPENS`)
    if first == 0
        && stack.len() >= 2
        && (stack[0].ends_with(['…', ':']) || stack[0].ends_with("..."))
    {
        first = 1;
    }
    if first == 0
        && stack.len() >= 2
        && !stack[0].trim().contains(char::is_whitespace)
        && stack[1].split_whitespace().nth(2).is_some()
    {
        first = 1;
    }
    let width = text_weight(stack[first]).max(1);
    let mut end = first + 1;
    // (a sentence-case headline runs on into a line in lower case, however wide: `Group
    // discusses` / `format of spring commencement`)
    let runs_on = |k: usize| {
        shapes[first] == Some(Shape::Sentence)
            && stack[k].starts_with(|c: char| c.is_lowercase())
            && !closes_paragraph(stack[k - 1])
    };
    // (a sentence-case line that opens with a capital under a sentence-case headline is a
    // deck, `City council approves transit plan` / `Bus routes to reach three suburbs`, unless
    // the line above stops on a word that needs more: `Fees to rise at` / `Cal Poly next fall`)
    let deck = |k: usize| {
        shapes[first] == Some(Shape::Sentence)
            && shapes[k] == Some(Shape::Sentence)
            && stack[k].starts_with(|c: char| c.is_uppercase())
            && !ends_on_small_word(stack[k - 1])
    };
    // (an interview's deck, `interview with NAME`, is no part of the headline over it)
    while end < stack.len()
        && end - first < 4
        && !interview_deck(stack[end])
        && !deck(end)
        && ((shapes[end] == shapes[first] && text_weight(stack[end]) * 10 <= width * 14 + 20)
            || runs_on(end))
    {
        end += 1;
    }
    first..end
}

/// Which line of a guessed Chinese headline stack (subtitles starting with a dash already
/// left out) is the headline proper. Kicker (引题), headline (主题) and subtitle (副题) are told
/// apart by print size on paper; in plain text only these cues are left:
/// - a column tag printed after a title (`（经济聚焦）`) marks the headline;
/// - a first line that introduces the next is a kicker: it ends in a colon, a dash, an
///   ellipsis or a verb of saying (`…强调`, `…认为`), names an occasion (`在…之际`, `庆祝…`) or
///   a topic (`就…一事`), announces an article (`…发表…文章`), is a bare speaker
///   (`外交部发言人`: at most seven characters over a line twice as long), a slogan of two
///   parallel halves (`截污清淤 美化河岸`), or a clause with a comma over a line without one;
/// - otherwise, in a stack of three lines the middle one is the headline (kicker, headline,
///   subtitle: 21 of 22 such stacks on corpus pages printed since 1950), except on pages
///   printed before 1950, whose papers set the first line largest over two decks (6 of 6);
/// - otherwise the first line is the headline and the lines under it are decks.
pub fn main_of_cjk_stack(stack: &[&str], printed_before_1950: bool) -> usize {
    if stack.len() < 2 {
        return 0;
    }
    if let Some(i) = stack
        .iter()
        .position(|l| without_column_tag(l).len() < l.trim_end().len())
    {
        return i;
    }
    let (a, b) = (stack[0].trim(), stack[1].trim());
    let saying = ["强调", "指出", "表示", "认为", "时说", "宣布", "说"]
        .iter()
        .any(|cue| a.ends_with(cue));
    let occasion = (a.starts_with('在') && a.ends_with("之际"))
        || ["庆祝", "纪念", "祝贺", "欢庆", "热烈庆祝"]
            .iter()
            .any(|cue| a.starts_with(cue));
    let speaker = (char_len(a) <= 7 && char_len(b) >= 2 * char_len(a))
        || ["发言人", "负责人", "发表声明", "答记者问"]
            .iter()
            .any(|cue| a.ends_with(cue))
        || (["委员会", "政府"].iter().any(|cue| a.ends_with(cue)) && char_len(b) > char_len(a))
        // a paper or station that says or prints what the line under it tells
        // (`某国出版的《某某》周刊` / `详细摘要刊登…`)
        || (["周刊", "杂志", "日报", "电台", "通讯社", "》"]
            .iter()
            .any(|cue| a.ends_with(cue))
            && !a.starts_with('《')
            && char_len(b) > char_len(a));
    // (two to four parallel phrases: `截污清淤 美化河岸`, `与时俱进 开拓创新 奋发有为`)
    let halves: Vec<&str> = a.split_whitespace().collect();
    let slogan = (2..=4).contains(&halves.len())
        && halves
            .iter()
            .all(|h| (4..=9).contains(&char_len(h)) && h.chars().all(is_cjk));
    // a lead-in that trails off (`举办“云聘会”、建设人才平台……`), a topic (`就…一事`), an
    // article announced by name (`《求是》杂志发表…重要文章`), or a clause with a comma over a
    // line without one (`河北全面实施控烟行动，推进控烟立法`)
    let lead_in = a.ends_with('…')
        || a.starts_with('就')
        // a purpose the event serves (`为社会进步与和平而奋斗` over `某党举行代表大会`)
        || (a.starts_with('为') && a.contains('而'))
        || a.ends_with("文章")
        || (a.contains(['，', ',']) && !b.contains(['，', ',']));
    // a letter or message under the line naming its senders (`全国双拥工作领导小组…` /
    // `向全国双拥模范致慰问信`): the letter's title is the headline
    let letter = b.starts_with(['向', '致', '给'])
        && b.ends_with(['信', '电', '书'])
        && !a.starts_with(['向', '致', '给']);
    // a document under the body that issues it (`某某部邮政总局` / `关于…的重要通知`): the
    // document's title is the headline (a title, `关于…` / `…的通知`, not a report that one
    // was issued, `双方发表联合公报`)
    const DOCUMENTS: [&str; 9] = [
        "通知", "决定", "公告", "通告", "布告", "命令", "决议", "指示", "公报",
    ];
    let document = DOCUMENTS.iter().any(|w| b.ends_with(w))
        && (b.starts_with("关于") || b.contains('的'))
        && ![
            "发表", "发布", "通过", "作出", "做出", "签署", "颁布", "下达",
        ]
        .iter()
        .any(|v| b.contains(v))
        && !a.contains(['，', ',', '：', ':'])
        && !DOCUMENTS.iter().any(|w| a.ends_with(w));
    let three_decks = stack.len() == 3 && !printed_before_1950;
    if a.ends_with(['：', ':', '—'])
        || saying
        || occasion
        || speaker
        || slogan
        || lead_in
        || letter
        || document
        || three_decks
    {
        1
    } else {
        0
    }
}

/// Marks the lines that are headline lines. `lines` is the whole page in order.
pub fn mark(lines: &[Line<'_>]) -> Vec<bool> {
    // a dateline opens a body, however short the stored line is, and so does the start of
    // one that the end of a cut copy left
    let last = lines.iter().rposition(|l| l.role != Role::Blank);
    let shapes: Vec<Option<Shape>> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            (l.role == Role::Text)
                .then(|| shape(l.text))
                .flatten()
                .filter(|_| !opens_with_dateline(l.text))
                .filter(|_| !(Some(i) == last && dateline_cut_off(l.text)))
        })
        .collect();
    let mut shapes = outside_quotations(lines, shapes);
    one_word_a_line(lines, &mut shapes);
    wrapped_sentence_heads(lines, &mut shapes);
    questions_over_dateline(lines, &mut shapes);
    let width = body_width(lines, &shapes);
    // in narrow columns most body lines are short and open-ended, so sentence-case ones
    // look like headlines; one as wide as the column is body
    // (and a title-case line closed by a full stop heads only after finished text)
    let shapes: Vec<Option<Shape>> = shapes
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let l = &lines[i];
            s.filter(|&s| !(s == Shape::Sentence && text_weight(l.text) * 10 >= width * 8))
                .filter(|_| {
                    let after_text = i == 0
                        || lines[i - 1].role != Role::Text
                        || (closes_paragraph(lines[i - 1].text)
                            && !ends_in_abbreviation(lines[i - 1].text));
                    // a title in a list runs on into a lower-case line (`Modern English.` /
                    // `and Michael Gregory (6/-)`)
                    // (an OCR-read byline, `hy Erin Massey`, is no such line)
                    let runs_on = lines.get(i + 1).is_some_and(|n| {
                        n.role == Role::Text && n.text.starts_with(|c: char| c.is_lowercase())
                    });
                    !l.text.ends_with('.') || ends_in_initialism(l.text) || (after_text && !runs_on)
                })
        })
        .collect();
    let indented_body = {
        let body: Vec<&Line<'_>> = lines
            .iter()
            .zip(&shapes)
            .filter(|(l, s)| l.role == Role::Text && s.is_none())
            .map(|(l, _)| l)
            .collect();
        !body.is_empty() && body.iter().filter(|l| l.indent >= 2).count() * 10 >= body.len() * 7
    };
    let mut heads = vec![false; lines.len()];
    let mut accepted: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if shapes[i].is_none() {
            i += 1;
            continue;
        }
        // a run of headline-shaped lines, without blank lines inside; closing lines of the
        // item above (a date, a signature) are not part of it
        // (a writer's name over the date it was signed, `毛泽东` / `一九六七年八月二十五日`)
        let signed = char_len(lines[i].text) <= 4
            && lines[i].text.chars().all(is_cjk)
            && lines
                .get(i + 1)
                .is_some_and(|n| n.role == Role::Text && closing_line(n.text));
        if i > 0
            && matches!(lines[i - 1].role, Role::Text | Role::Credit)
            && (closing_line(lines[i].text)
                || signed
                || signature_set_right(lines, i)
                || attribution(lines[i].text, lines[i - 1].text))
        {
            i += 1;
            continue;
        }
        let mut start = i;
        let mut end = i;
        while end + 1 < lines.len() && end + 1 - start < 24 {
            if shapes[end + 1].is_some()
                && stacks_on(&lines[end], shapes[end], &lines[end + 1], shapes[end + 1])
            {
                end += 1;
            } else if end + 2 < lines.len()
                && shapes[end + 2].is_some()
                && garbled_deck_line(&lines[end + 1])
            {
                // an OCR-damaged deck line between two headline lines (`fin Midst`)
                end += 2;
            } else if end + 2 < lines.len()
                && shapes[end + 2] == Some(Shape::Caps)
                && closed_deck_line(&lines[end + 1])
                && (start..=end).any(|k| shapes[k] == Some(Shape::Caps))
            {
                // a deck closed by a full stop between two capitals decks of one stack
                // (`NEW YEAR ADVENT` / `Occupies the City` / `During the Day.` / `GLOOMY
                // WEATHER KEEPS`): old papers set decks of capitals and of title case by
                // turns, each of the latter closed like a sentence
                end += 2;
            } else {
                break;
            }
        }
        // a summary deck under Chinese headlines, over the dateline: one long line that ends
        // no sentence (`某大队坚持…,批判…,干部和群众的精神面貌发生了深刻变化`) belongs to
        // the stack, however many commas it holds
        // (or a short one that does, under a stack of two: `大会进入讨论阶段,…一致表示满意。`)
        if lines[end].text.chars().any(is_cjk)
            && lines.get(end + 1).is_some_and(|d| {
                d.role == Role::Text
                    && shapes[end + 1].is_none()
                    && d.text.chars().any(is_cjk)
                    && (!closes_paragraph(d.text) || (end > start && char_len(d.text) <= 60))
                    && !opens_with_dateline(d.text)
            })
            && lines
                .get(end + 2)
                .is_some_and(|l| l.role == Role::Text && opens_with_dateline(l.text))
        {
            end += 1;
        }
        i = end + 1;
        // short Chinese lines that end a sentence inside the run close the text above, as a
        // poem's last lines do (`颂今朝` / `解放地球军,` / `强哉矫!` / title / author): the
        // run starts under the last of them
        if let Some(k) = (start..end).rev().find(|&k| {
            lines[k].text.chars().any(is_cjk) && lines[k].text.ends_with(['。', '！', '!'])
        }) {
            start = k + 1;
        }
        // a quotation-box label inside a run starts the item: the lines above it are the
        // paper's name or issue line beside the box, and the label alone heads it: the
        // short lines under it are the quotation, however much they look like a stack. Every
        // label of the run heads its own box (the masthead's lines may run between two).
        let mut labels = (start..=end)
            .filter(|&k| quotation_label(lines[k].text))
            .peekable();
        if labels.peek().is_some() {
            for k in labels {
                heads[k] = true;
                accepted.push((k, k));
            }
            continue;
        }
        if run_heads_article(lines, &accepted, &shapes, start, end, width, indented_body) {
            for h in &mut heads[start..=end] {
                *h = true;
            }
            accepted.push((start, end));
        }
    }
    unmark_parallel_subheads(lines, &accepted, &mut heads);
    unmark_closed_subheads_under_decks(lines, &shapes, &accepted, &mut heads);
    unmark_section_heads(lines, &accepted, &mut heads);
    unmark_english_section_heads(lines, &accepted, &mut heads);
    unmark_interview_heads(lines, &accepted, &mut heads);
    mark_lead_under_masthead(lines, &mut heads);
    heads
}

/// On an old paper whose articles are headed by decks in capitals, a single title-case line
/// closed by a full stop (`Greetings Sent to the President.`) between paragraphs is a section
/// head inside the story, not a headline: such a page sets its headlines in capitals. Three
/// capitals decks of two lines or more make the page such a page.
fn unmark_closed_subheads_under_decks(
    lines: &[Line<'_>],
    shapes: &[Option<Shape>],
    accepted: &[(usize, usize)],
    heads: &mut [bool],
) {
    let decks = accepted
        .iter()
        .filter(|&&(s, e)| e > s && (s..=e).any(|k| shapes[k] == Some(Shape::Caps)))
        .count();
    if decks < 3 {
        return;
    }
    for &(s, e) in accepted {
        let t = lines[s].text;
        let after_text = s > 0 && lines[s - 1].role == Role::Text;
        let next_text = lines.get(e + 1).is_some_and(|l| l.role == Role::Text);
        // (or one over the sentence that opens its section, `The cablegrams follow:`)
        let over_sentence = e == s + 1
            && shapes[e] == Some(Shape::Sentence)
            && text_weight(lines[e].text) > text_weight(t);
        if (s == e || over_sentence)
            && shapes[s] == Some(Shape::Title)
            && t.ends_with('.')
            && after_text
            && next_text
            && !opens_with_dateline(lines[e + 1].text)
        {
            for h in &mut heads[s..=e] {
                *h = false;
            }
        }
    }
}

/// The first English line under the page's masthead and folio heads the page's first
/// article, whatever its case (`14-year-old wins county spelling bee`, `Rally; U.S.`): a
/// short line that ends no sentence (an initialism may end it) over a byline, a dateline or
/// a paragraph at least twice its weight.
fn mark_lead_under_masthead(lines: &[Line<'_>], heads: &mut [bool]) {
    let Some(first) = lines.iter().position(|l| l.role != Role::Blank) else {
        return;
    };
    if lines[first].role != Role::Other {
        return;
    }
    let Some(at) = (first..lines.len())
        .find(|&k| !matches!(lines[k].role, Role::Blank | Role::Other | Role::PhotoCredit))
    else {
        return;
    };
    let t = lines[at].text;
    let last_word = t.split_whitespace().last().unwrap_or("");
    let initialism = last_word.matches('.').count() >= 2;
    if heads[at]
        || lines[at].role != Role::Text
        || t.chars().any(is_cjk)
        || t.split_whitespace().count() > MAX_EN_WORDS
        || (closes_paragraph(t) && !initialism)
        || opens_with_dateline(t)
    {
        return;
    }
    let Some(next) = lines[at + 1..].iter().find(|l| l.role != Role::Blank) else {
        return;
    };
    let body = match next.role {
        Role::Credit => true,
        Role::Text => {
            opens_with_dateline(next.text) || text_weight(next.text) >= 2 * text_weight(t)
        }
        _ => false,
    };
    if body {
        heads[at] = true;
    }
}

/// The first line under the run that ends at `end`, blank lines skipped.
fn line_under<'a, 'b>(lines: &'b [Line<'a>], end: usize) -> Option<&'b Line<'a>> {
    lines[end + 1..].iter().find(|l| l.role != Role::Blank)
}

/// Is the run `start..=end` followed by a byline or a dateline (its article's opening)?
/// Is the line under a stack ending at `end` a byline (a credit line, not a dateline)?
fn bylined(lines: &[Line<'_>], end: usize) -> bool {
    line_under(lines, end).is_some_and(|l| l.role == Role::Credit)
}

fn opens_with_credit(lines: &[Line<'_>], end: usize) -> bool {
    line_under(lines, end).is_some_and(|l| {
        l.role == Role::Credit || (l.role == Role::Text && opens_with_dateline(l.text))
    })
}

/// On a page whose articles open with a dateline or a byline (a wire page, most of a modern
/// daily; or, in a copy cut to three headlines or fewer, a feature under its byline line, or
/// a report under its dateline where the page indents its headlines apart from the text and
/// the line is indented like the text), a single Chinese line with neither under it, inside
/// an article that opened with
/// one and has not closed, is a section head of that article (`推动服务业扩能提质` under
/// `促进服务业优质高效发展` / `新华社记者 X`), not a new article. An article closes with a
/// closing credit or dateline line (`新华社北京4月28日电`, `（记者 X）`).
fn unmark_section_heads(lines: &[Line<'_>], accepted: &[(usize, usize)], heads: &mut [bool]) {
    let chinese: Vec<(usize, usize, bool)> = accepted
        .iter()
        .filter(|&&(a, _)| lines[a].text.chars().any(is_cjk) && heads[a])
        .map(|&(a, b)| (a, b, opens_with_credit(lines, b)))
        .collect();
    let strong = chinese.iter().filter(|r| r.2).count();
    // a copy cut to a few headlines has too few to tell a wire page; there a feature under
    // its writer's byline line (`本报记者 X`, not a dateline: a brief's `本报讯` may well be
    // followed by an article of another kind) is open until it closes
    let small = chinese.len() <= 3 && strong < 3;
    if !small && (strong < 3 || strong * 3 < chinese.len() * 2) {
        return;
    }
    let mut open_article = false;
    // in a small copy, an article opened by a dateline stays open only where the page sets
    // its headline apart from the text by indentation: then a head indented like the text is
    // a section head (`  苏联革命人民热爱毛主席` / `新华社十一日讯…` / `“乌拉,毛泽东!”`), and
    // one indented like the headline heads the next article
    let mut text_indent: Option<usize> = None;
    let mut last_end = 0;
    for (k, &(a, b, opens)) in chinese.iter().enumerate() {
        let set_apart = line_under(lines, b)
            .map(|l| l.indent)
            .filter(|&indent| indent != lines[a].indent);
        let (opens, indent) = if !small {
            (opens, None)
        } else if bylined(lines, b) {
            (true, None)
        } else {
            (opens && set_apart.is_some(), set_apart)
        };
        let next_head = chinese.get(k + 1).map_or(lines.len(), |r| r.0);
        if opens {
            open_article = true;
            text_indent = indent;
        } else if a == b
            && open_article
            && text_indent.is_none_or(|indent| lines[a].indent == indent)
            // (a line with nothing under it is the headline a cut copy ends on)
            && lines[b + 1..next_head].iter().any(|l| l.role == Role::Text)
            && !closes_after_text(&lines[last_end + 1..a], true)
            && !closes_after_text(&lines[b + 1..next_head], false)
            && !quotation_label(lines[a].text)
        {
            heads[a] = false;
            continue;
        } else {
            open_article = false;
        }
        last_end = b;
    }
}

/// On an English page whose stories open with a byline (`Emergency worries top Diablo hearing
/// agenda` / `BY SHARYN SEARS` / `Staff Writer`: two such stories or more), a head of one to
/// three words alone on its line inside a bylined story, not in capitals, with text and no
/// byline, photo credit or dateline under it (`Wrong Classification`, `Shortcomings`), is a
/// section head of that story: the paper's headlines are longer, and a story of its own there
/// would carry a byline or a dateline. The story stays open until a headline with more words,
/// or anything that closes it (a photo credit, furniture, a closing credit).
fn unmark_english_section_heads(
    lines: &[Line<'_>],
    accepted: &[(usize, usize)],
    heads: &mut [bool],
) {
    let english: Vec<(usize, usize, bool)> = accepted
        .iter()
        .filter(|&&(a, _)| heads[a] && !lines[a].text.chars().any(is_cjk))
        .map(|&(a, b)| (a, b, opens_with_credit(lines, b)))
        .collect();
    if english
        .iter()
        .filter(|&&(_, b, _)| bylined(lines, b))
        .count()
        < 2
    {
        return;
    }
    let mut open_story = false;
    let mut last_end = 0;
    for (k, &(a, b, opens)) in english.iter().enumerate() {
        let next_head = english.get(k + 1).map_or(lines.len(), |r| r.0);
        let words = lines[a].text.split_whitespace().count();
        if opens {
            open_story = bylined(lines, b);
        } else if a == b
            && open_story
            && words <= 3
            // a box's label in capitals (`IN QUOTES`) or a photo's title over its credit
            // heads an item of its own
            && shape(lines[a].text) != Some(Shape::Caps)
            && line_under(lines, b).is_some_and(|l| l.role == Role::Text)
            && lines[b + 1..next_head].iter().any(|l| l.role == Role::Text)
            && !closes_after_text(&lines[last_end + 1..a], true)
        {
            heads[a] = false;
            continue;
        } else {
            open_story = false;
        }
        last_end = b;
    }
}

/// The number of a notice, a decree or an order, on its own line under its title:
/// `（2002年第3号）`, `第十二号`, `(第3号)`.
pub fn document_number(line: &str) -> bool {
    let t = line.trim();
    let t = t
        .strip_prefix(['（', '('])
        .and_then(|t| t.strip_suffix(['）', ')']))
        .unwrap_or(t);
    let Some(t) = t.strip_suffix('号') else {
        return false;
    };
    let t = match t.split_once('年') {
        Some((year, rest)) if year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => t,
    };
    let t = t.strip_prefix('第').unwrap_or(t);
    !t.is_empty()
        && char_len(t) <= 6
        && t.chars()
            .all(|c| c.is_ascii_digit() || "〇零一二三四五六七八九十百".contains(c))
}

/// Does the line open a question or an answer of an interview (`问：`, `答:`)?
fn question_or_answer(t: &str) -> bool {
    let t = t.trim_start_matches([' ', '　']);
    ["问：", "问:", "答：", "答:"]
        .iter()
        .any(|p| t.starts_with(p))
}

/// An interview is printed as questions and answers under section heads (`以支点建设扛牢…`
/// / `问：中央强调…` / `答：…`). A single Chinese line over a question, inside an article that
/// announces an interview (`——专访…`, `访谈`, `答记者问`) or has printed questions and answers
/// already, is a section head of that interview, not a new article: an article of its own
/// opens with a headline over a dateline, a byline or an introduction, not with a question.
fn unmark_interview_heads(lines: &[Line<'_>], accepted: &[(usize, usize)], heads: &mut [bool]) {
    let cue = |t: &str| {
        ["专访", "访谈", "答记者问", "对话"]
            .iter()
            .any(|c| t.contains(c))
    };
    let mut interview = false;
    let mut last_end = 0;
    for &(a, b) in accepted {
        if !heads[a] || !lines[a].text.chars().any(is_cjk) {
            continue;
        }
        let between = lines.get(last_end..a).unwrap_or(&[]);
        interview |= between
            .iter()
            .any(|l| l.role == Role::Text && question_or_answer(l.text));
        let over_question = lines[b + 1..]
            .iter()
            .find(|l| l.role != Role::Blank)
            .is_some_and(|l| l.role == Role::Text && question_or_answer(l.text));
        if a == b && interview && over_question {
            heads[a] = false;
        } else {
            interview = lines[a..=b].iter().any(|l| cue(l.text));
        }
        last_end = b + 1;
    }
}

/// Is there a closing line after text in `lines`: a photo credit under a caption (a photo
/// unit of its own), or with `credits`, also a closing dateline or a reporter's name in
/// brackets (the end of the article above)?
fn closes_after_text(lines: &[Line<'_>], credits: bool) -> bool {
    let mut text = false;
    for l in lines {
        match l.role {
            Role::Text => text = true,
            Role::Other | Role::PhotoCredit if text => return true,
            Role::Credit if text && credits => return true,
            _ => {}
        }
    }
    false
}

/// Section heads inside one Chinese article come in parallel sets (`向远方，扎根奉献` /
/// `向顶峰，不懈攀登`, `黄金水道 通达全球` / `一江文脉 兴文铸魂`, `有何目的` / `能否实施`):
/// single short lines of the same length and the same inner punctuation, none of them over a
/// dateline or byline. Headlines of separate articles rarely match that way.
fn unmark_parallel_subheads(lines: &[Line<'_>], accepted: &[(usize, usize)], heads: &mut [bool]) {
    /// Length in characters and the inner punctuation with its positions.
    type Signature = (usize, Vec<(usize, char)>);
    let signature = |t: &str| -> Option<Signature> {
        let n = char_len(t);
        if n > 12 || !t.chars().any(is_cjk) {
            return None;
        }
        let seps = t
            .chars()
            .enumerate()
            .filter(|(_, c)| matches!(c, ' ' | '　' | '，' | ',' | '、' | '：' | ':'))
            .collect();
        Some((n, seps))
    };
    let weak: Vec<(usize, Signature)> = accepted
        .iter()
        .filter(|(a, b)| a == b)
        .filter_map(|&(a, _)| {
            let next = lines[a + 1..].iter().find(|l| l.role != Role::Blank)?;
            let strong = next.role == Role::Credit
                || (next.role == Role::Text && opens_with_dateline(next.text));
            // quotation-box labels (`最高指示`, `毛主席语录`) are alike on every page that has
            // two boxes, and each heads its box
            (!strong && !quotation_label(lines[a].text)).then_some(())?;
            Some((a, signature(lines[a].text)?))
        })
        .collect();
    let mut count: std::collections::HashMap<&Signature, usize> = std::collections::HashMap::new();
    for (_, sig) in &weak {
        *count.entry(sig).or_insert(0) += 1;
    }
    for (line, sig) in &weak {
        if count.get(sig).is_some_and(|&n| n >= 2) {
            heads[*line] = false;
        }
    }
}

/// Does the run of headline-shaped lines `start..=end` head an article?
fn run_heads_article(
    lines: &[Line<'_>],
    accepted: &[(usize, usize)],
    shapes: &[Option<Shape>],
    start: usize,
    end: usize,
    width: usize,
    indented_body: bool,
) -> bool {
    let run = &lines[start..=end];
    let head_weight = run.iter().map(|l| text_weight(l.text)).max().unwrap_or(0);
    let english = shapes[start..=end]
        .iter()
        .all(|s| !matches!(s, Some(Shape::Cjk)));
    // Chinese runs are short; a long run of short lines is verse or a list.
    if !english && run.len() > 5 {
        return false;
    }
    if run.iter().any(|l| numbered_subhead(l.text)) && run.len() == 1 {
        return false;
    }
    // what follows: skip blank lines, then a byline or a from-marker may come first
    let past_blanks = |from: usize| {
        (from..lines.len())
            .find(|&k| lines[k].role != Role::Blank)
            .unwrap_or(lines.len())
    };
    let mut n = past_blanks(end + 1);
    // a notice's number under its title (`（2002年第3号）`): the body comes after it, and
    // nothing but a title has one
    let numbered = lines
        .get(n)
        .is_some_and(|l| l.role == Role::Text && document_number(l.text));
    if numbered {
        n = past_blanks(n + 1);
    }
    let Some(next) = lines.get(n) else {
        return !english && headline_cut_off(lines, accepted, start, end, width);
    };
    // a copy cut short may end inside the dateline under the last headline (`新华社北京4月1`)
    let cut_dateline = next.role == Role::Text
        && lines[n + 1..].iter().all(|l| l.role == Role::Blank)
        && dateline_cut_off(next.text);
    let next_shape = shapes.get(n).copied().flatten();
    let label = run.iter().any(|l| quotation_label(l.text));
    // a photo's title: one short line over the photographer's credit and the caption
    let photo_title = next.role == Role::PhotoCredit
        && start == end
        && lines[n + 1..]
            .iter()
            .find(|l| l.role != Role::Blank)
            .is_some_and(|l| l.role == Role::Text && text_weight(l.text) > 2 * head_weight);
    let followed = label
        || match next.role {
            Role::Credit => true,
            Role::PhotoCredit => photo_title,
            // a from-marker under a headline: the body must come after it
            Role::Reference => lines[n + 1..]
                .iter()
                .find(|l| l.role != Role::Blank)
                .is_some_and(|l| l.role == Role::Text && text_weight(l.text) > head_weight),
            Role::Text => {
                opens_with_dateline(next.text)
                    || cut_dateline
                    // a Chinese title closed by a colon introduces the text under it
                    // (`毛主席对…的批示：` over `同意，这样答复很好。`)
                    || (lines[end].text.ends_with('：')
                        && next_shape.is_none()
                        && closes_paragraph(next.text))
                    || is_body(
                        next,
                        next_shape,
                        shapes[end],
                        lines[end].indent,
                        head_weight.max(1),
                    )
            }
            _ => false,
        };
    if !followed {
        return false;
    }
    // a contributor's note: a name in capitals whose sentence runs on in lower case under it
    // (`ANA RUIZ` / `is a geographer who …`) heads nothing
    if english
        && start == end
        && next.role == Role::Text
        && (next.text.starts_with("is ") || next.text.starts_with("was "))
    {
        return false;
    }
    // what comes before: the start of the page, a blank line, furniture, or a line that
    // ends its paragraph — not a wrapped line whose sentence runs on into this one
    let prev = lines[..start].iter().rev().find(|l| l.role != Role::Blank);
    let after_blank = start == 0 || lines[start - 1].role == Role::Blank;
    // (a scrap of a word or two that OCR left between columns, far shorter than a column
    // line, runs into no deck of capitals: `his` / `ROY-ED NOT IN U. S,` / `DESPITE RUMORS`)
    let caps_deck = end > start
        && shapes[start..=end]
            .iter()
            .all(|s| matches!(s, Some(Shape::Caps)));
    // (a closing line, a letter's signature or date, ends the item above it; a title closed
    // by a colon under it is the next letter of a series, `某某请示毛主席：`)
    let closed_above =
        |p: &Line<'_>| !english && closing_line(p.text) && !lines[end].text.ends_with(['：', ':']);
    // (a deck of two capitals lines or more, each of two words or more, over a paragraph
    // that opens with a capital: the OCR's column order cut the story above in mid-sentence,
    // `…chairman of the committee in` / `TANGLED SKEIN OF` / `ILLICIT LOVE DRAWS` / `A
    // lecture…`; body text is not set in capitals line after line)
    // (a paragraph may open in lower case where OCR lost its drop capital, `ith C. A.
    // Lansdowne…`, under a deck of three words a line or more, unless the line above stops
    // on a word that needs the capitals to go on: `…graded by the` / `COUNTY ROAD BOARD`)
    let deck_over_paragraph = caps_deck
        && run.iter().all(|l| l.text.split_whitespace().count() >= 2)
        && next.role == Role::Text
        && next_shape != Some(Shape::Caps)
        && (!next.text.starts_with(char::is_lowercase)
            || (run.iter().all(|l| l.text.split_whitespace().count() >= 3)
                && !prev.is_some_and(|p| ends_on_small_word(p.text))));
    let prev_open = match prev {
        Some(p) if p.role == Role::Text && !after_blank => {
            let scrap = caps_deck && text_weight(p.text) * 3 <= width;
            !(closes_paragraph(p.text) || scrap || deck_over_paragraph || closed_above(p))
        }
        _ => false,
    };
    let dateline_next = (next.role == Role::Text && opens_with_dateline(next.text))
        || cut_dateline
        || run.iter().any(|l| quotation_label(l.text));
    let credit_next = next.role == Role::Credit;
    let strong = dateline_next || credit_next || numbered || photo_title;
    if prev_open && !strong {
        return false;
    }
    // A subhead inside an article is set like its paragraphs (indented); headlines are not.
    if indented_body && run.iter().all(|l| l.indent >= 2) && !strong {
        return false;
    }
    let shapes_run = &shapes[start..=end];
    if english {
        // under a byline comes the body, not another headline (a signature closing the
        // item above, after its last paragraph, is no byline)
        if start > 0 && lines[start - 1].role == Role::Credit {
            let signature = start > 1
                && lines[start - 2].role == Role::Text
                && closes_paragraph(lines[start - 2].text);
            if !signature {
                return false;
            }
        }
        // the body goes on in lower case: the last line was the start of its sentence
        // (not under a capitals headline over its decks: a deck's last word broken across
        // lines, `Iu Wash` / `ington Sunday`)
        let caps_over_decks = end > start && shapes[start] == Some(Shape::Caps);
        if !strong
            && !caps_over_decks
            && shapes[end] != Some(Shape::Caps)
            && next.role == Role::Text
            && next.text.chars().next().is_some_and(char::is_lowercase)
        {
            return false;
        }
        // a single sentence-case line needs a page of long lines under it to stand out
        let only_sentence = shapes_run
            .iter()
            .all(|s| matches!(s, Some(Shape::Sentence)));
        if only_sentence && !strong {
            let w = text_weight(run[0].text);
            // (two short lines, both at most half the column, are a wrapped headline)
            let two_short = run.len() == 2 && run.iter().all(|l| text_weight(l.text) * 2 <= width);
            // (in justified columns only a paragraph's last line is short: a short line
            // after a finished paragraph, over a full line, is a headline)
            let justified = run.len() == 1
                && prev.is_some_and(|p| p.role == Role::Text)
                && w * 10 <= width * 6
                && text_weight(next.text) * 10 >= width * 8;
            if run.len() > 2
                || (width < w * 3 && !two_short && !justified)
                || text_weight(next.text) < w * 2
            {
                return false;
            }
        }
        // a title-case line that is the first of a wrapped paragraph: the body width lines
        if !strong
            && shapes_run.iter().all(|s| matches!(s, Some(Shape::Title)))
            && run.iter().any(|l| text_weight(l.text) * 10 >= width * 9)
        {
            return false;
        }
    } else if !strong {
        // Chinese: without a dateline, the body below must be clearly heavier than the head
        let w = run.iter().map(|l| char_len(l.text)).max().unwrap_or(0);
        if char_len(next.text) < w + 6 && !indented_body {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(page: &str) -> Vec<Line<'_>> {
        page.split('\n')
            .map(|raw| {
                let t = raw.trim();
                let indent = raw
                    .chars()
                    .take_while(|c| *c == ' ' || *c == '\u{3000}')
                    .map(|c| if c == ' ' { 1 } else { 2 })
                    .sum();
                Line {
                    text: t,
                    indent,
                    role: if t.is_empty() {
                        Role::Blank
                    } else if credits::credit_line(t).is_some() {
                        Role::Credit
                    } else {
                        Role::Text
                    },
                }
            })
            .collect()
    }

    fn heads(page: &str) -> Vec<String> {
        let l = lines(page);
        let m = mark(&l);
        l.iter()
            .zip(m)
            .filter(|(_, h)| *h)
            .map(|(l, _)| l.text.to_owned())
            .collect()
    }

    #[test]
    fn narrow_columns_of_an_old_paper_with_titles_closed_by_a_full_stop() {
        // column-wrapped text: body lines are as short as the headlines; the old titles end
        // in a full stop
        let page = "Creamery Opens Monday.\nThe new creamery on Mill street\nwill open its doors on Monday\nmorning, and the farmers of the\nvicinity are invited to bring in\ntheir cream from that day on.\nThe building cost about $4,000.\nCounty Fair Board Meets.\nThe members of the fair board\nmet at the court house Tuesday\nand voted to hold the fair in\nSeptember as in former years.\nMr. Olson was chosen president.\n";
        assert_eq!(
            heads(page),
            ["Creamery Opens Monday.", "County Fair Board Meets."]
        );
        // not after an unfinished line, nor when the line runs on in lower case
        let page = "The speakers were the Hon.\nJohn Hall Of Elk River.\nHe spoke about the roads of the county and the taxes.\nBooks received:\nModern English.\nand other essays by the same author (6/-).\n";
        assert!(heads(page).is_empty(), "{:?}", heads(page));
    }

    #[test]
    fn a_capitals_deck_under_a_scrap_of_ocr_between_columns() {
        // the scraps (`his`, `m`) end no sentence, but they are far shorter than a column
        // line, and a deck of capitals does not run on from them
        let page = "The mayor said the work on the bridge over the\nriver would start in the first week of May and\nwould take at least two summers to complete.\nof\nhis\nm\nSHIP SEIZED IN PORT,\nOWNERS PROTEST\nThe freighter was held at the pier this morning while\nthe customs officers searched the hold for the goods.\n";
        assert_eq!(heads(page), ["SHIP SEIZED IN PORT,", "OWNERS PROTEST"]);
        // a single line in capitals after an open line still runs on from it
        let page = "The committee reported that the new hall of the\nGRANGE\nwould be finished by the fall, and the members were\nglad to hear that the cost was less than planned.\n";
        assert!(heads(page).is_empty(), "{:?}", heads(page));
    }

    #[test]
    fn a_capitals_deck_after_a_column_the_ocr_cut_in_mid_sentence() {
        // the story above goes on in another column: its last line here ends mid-sentence,
        // but a deck of capitals lines over a paragraph is a new story's head
        let page = "The new road to the mine will be graded this
summer, the county board said at its meeting,
and the work will be paid for by the
FARMERS PLAN
A NEW GRANGE HALL
ON THE RIVER ROAD
The members of the grange voted on Tuesday
to build a hall of their own before winter.
";
        assert_eq!(
            heads(page),
            ["FARMERS PLAN", "A NEW GRANGE HALL", "ON THE RIVER ROAD"]
        );
        // not a deck that runs on in lower case, nor capitals over more capitals
        let page = "The new road to the mine will be graded by the
COUNTY ROAD BOARD
OF THE STATE
which met on Tuesday and voted the money for it.
";
        assert!(heads(page).is_empty(), "{:?}", heads(page));
    }

    #[test]
    fn a_capitals_deck_over_a_paragraph_whose_drop_capital_ocr_lost() {
        // the story above stops mid-sentence (its rest is in another column); the deck's
        // story opens in lower case because OCR dropped the large first letter
        let page = "and the mill, which has stood idle since last
WORK ON NEW BRIDGE
AT THE FORD IS BEGUN
ith the county engineer of Elm Grove in charge,
the crew began driving piles this morning.
";
        assert_eq!(heads(page), ["WORK ON NEW BRIDGE", "AT THE FORD IS BEGUN"]);
    }

    #[test]
    fn a_capitals_deck_over_an_old_dateline() {
        // a deck between a line the column order cut and a dateline of an old paper: the
        // place in capitals and the date, no dash
        let page = "of the ranchers who had come to town for the
STEAMER LOST OFF
THE CAPE: TEN SAVED
BOSTON, Aug. 14. Ten men of the crew
were picked up by a schooner at dawn.
";
        assert_eq!(heads(page), ["STEAMER LOST OFF", "THE CAPE: TEN SAVED"]);
        assert!(opens_with_dateline("BOSTON, Aug. 14. Ten men of the crew"));
        assert!(opens_with_dateline("SAN ANTONIO, Tex., April 3."));
        assert!(opens_with_dateline("PARIS\". Mar. IS. Seven lives"));
        // a masthead's date line, a headline in capitals, a name in a sentence are none
        assert!(!opens_with_dateline(
            "ELM GROVE, KANSAS, MONDAY, MAY 1, 1916."
        ));
        assert!(!opens_with_dateline("Boston, Aug. 14. Ten men"));
        assert!(!opens_with_dateline("MAYOR SEES MARCH 4 PLANS"));
    }

    #[test]
    fn decks_of_capitals_and_closed_title_case_by_turns_are_one_stack() {
        // an old paper's stack: capitals, a title-case deck closed by a full stop (one line
        // of it after an OCR speck), capitals again, another closed deck, then the story
        let page = "TOWN GREETS\nTHE NEW YEAR\n^ Many Private Parties\nFill the Evening.\nBELLS RING AT MIDNIGHT\nWhistles and Horns Heard\nin Every Street.\nThe new year came in quietly in the town, for the rain kept\nmost people at home, though the bells of every church rang.\n";
        // (the last deck line, closed after an open one, is read as the body's first line)
        assert_eq!(
            heads(page),
            [
                "TOWN GREETS",
                "THE NEW YEAR",
                "^ Many Private Parties",
                "Fill the Evening.",
                "BELLS RING AT MIDNIGHT",
                "Whistles and Horns Heard"
            ]
        );
        // a closed line under a stack with no capitals deck after it is the body
        let page = "TOWN GREETS\nTHE NEW YEAR\nAll Were Glad.\nThe new year came in quietly in the town, for the rain kept\nmost people at home, though the bells of every church rang.\n";
        assert_eq!(heads(page), ["TOWN GREETS", "THE NEW YEAR"]);
    }

    #[test]
    fn a_headline_ending_in_an_initialism_over_an_ocr_read_byline() {
        // the stops of `O.K.` close no sentence, and `hy NAME` is a byline, not a line that
        // carries a title on in lower case
        let page = "The lots were full again by eight this morning, as they are every day.\n\nThe trouble with being O.K.\nhy Ann Lowe\nAs I sat in the library at ten in the morning I wondered why everyone around me seemed so sure that things were fine.\n";
        assert_eq!(heads(page), ["The trouble with being O.K."]);
    }

    #[test]
    fn a_closed_section_head_over_its_opening_sentence_on_a_page_of_capitals_decks() {
        let story = "The council met in the town hall last night and voted to\nbuild the new bridge over the river before the end of the\ncoming summer, at a cost of some twelve thousand dollars.\n";
        let page = format!(
            "MILL BURNS DOWN\nON THE RIVER ROAD\n{story}Messages Received.\nThe letters, in part, follow:\n{story}NEW BRIDGE VOTED\nOVER WEST RIVER\n{story}SCHOOL BOARD\nNAMES TEACHERS\n{story}"
        );
        let found = heads(&page);
        assert!(
            !found.iter().any(|h| h.starts_with("Messages")),
            "{found:?}"
        );
        assert_eq!(found.len(), 6, "{found:?}");
    }

    #[test]
    fn closed_title_lines_inside_stories_of_a_page_of_capitals_decks() {
        let story = "The council met in the town hall last night\nand voted to build the new bridge over the\nriver before the end of the coming summer.\n";
        let page = format!(
            "MILL BURNS DOWN\nON THE RIVER ROAD\n{story}Loss Is Heavy.\n{story}NEW BRIDGE VOTED\nOVER WEST RIVER\n{story}SCHOOL BOARD\nNAMES TEACHERS\n{story}"
        );
        let found = heads(&page);
        assert!(!found.iter().any(|h| h == "Loss Is Heavy."), "{found:?}");
        assert_eq!(found.len(), 6, "{found:?}");
    }

    #[test]
    fn a_headline_under_a_letters_signature_or_closing_date() {
        // readers' letters one after another: the writer's unit and name close one letter,
        // and the next letter's title follows with no blank line
        let page = "公交车站该有个顶棚\n我们小区门口的公交车站没有顶棚，下雨时候车的老人孩子淋得透湿，希望有关部门早日解决。\n甲市乙区丙街道 何小平\n楼道里的灯坏了半年该修一修了\n读了前天的来信，我想起我们楼道里的灯坏了半年，晚上上下楼很不方便，物业一直没有来修。\n";
        assert_eq!(
            heads(page),
            ["公交车站该有个顶棚", "楼道里的灯坏了半年该修一修了"]
        );
        // a notice closed by its date, then the next report's stack
        let page = "关于调整夏季作息时间的通知\n各单位自六月一日起实行夏季作息时间，上午八时上班，下午六时下班。\n一九五○年五月二十日\n全市举行夏收动员大会\n号召各区做好抢收准备\n本报讯 全市夏收动员大会昨日举行，各区负责同志和农民代表八百余人参加。\n";
        assert_eq!(
            heads(page),
            [
                "关于调整夏季作息时间的通知",
                "全市举行夏收动员大会",
                "号召各区做好抢收准备"
            ]
        );
        // a title closed by a colon under a date is the next letter of a series
        let page = "某某同志的来信\n我们的工作已经安排好了，请放心。\n一九六七年一月十七日\n某某同志复信：\n同意你们的安排，望继续努力，做好各项工作。\n";
        assert_eq!(heads(page), ["某某同志的来信"]);
    }

    #[test]
    fn a_long_headline_without_punctuation_over_a_dateline() {
        let page = "市民可以通过手机查询全市所有公共停车场的空余车位。\n全市第三届社区志愿服务项目交流展示暨优秀志愿服务组织和个人表彰大会在市民中心举行\n新华社甲市4月28日电 4月28日，大会在市民中心举行，三百多名志愿者参加。\n";
        assert_eq!(
            heads(page),
            ["全市第三届社区志愿服务项目交流展示暨优秀志愿服务组织和个人表彰大会在市民中心举行"]
        );
        // a long line with a comma is a sentence
        let page = "市民可以通过手机查询全市所有公共停车场的空余车位。\n全市第三届社区志愿服务项目交流展示暨优秀志愿服务组织和个人表彰，大会在市民中心举行\n新华社甲市4月28日电 4月28日，大会在市民中心举行，三百多名志愿者参加。\n";
        assert!(heads(page).is_empty());
    }

    #[test]
    fn chinese_headline_stacks_between_one_line_paragraphs() {
        let page = "甲市新建三座污水处理厂\n日处理能力提高一倍\n新华社甲市5月3日电 甲市今年新建的三座污水处理厂本周全部投入运行，全市日处理能力提高了一倍。\n市环保局说，新厂采用了新的工艺，出水水质达到一级标准。\n乙县举办农民运动会\n本报讯 乙县第三届农民运动会昨天开幕，来自全县十二个乡镇的八百多名运动员参加比赛。\n";
        assert_eq!(
            heads(page),
            [
                "甲市新建三座污水处理厂",
                "日处理能力提高一倍",
                "乙县举办农民运动会"
            ]
        );
    }

    #[test]
    fn an_indented_subhead_inside_an_indented_story_is_not_a_headline() {
        let page = "丙河治理见成效\n　　本报讯 丙河沿岸十个村庄今年完成了河道清淤和岸线整治，河水重新变清。\n　　先治污水\n　　村里修建了污水管网，生活污水不再直排河道，河里的鱼又多了起来。\n";
        assert_eq!(heads(page), ["丙河治理见成效"]);
    }

    #[test]
    fn short_heads_in_justified_magazine_columns() {
        // every body line is about as wide as the column; only a paragraph's last line is
        // short, and it ends its sentence
        let body = "The new reading rooms of the city library were opened\nto the public on Monday after two years of building\nwork, and more than four hundred readers came in on\nthe first day to borrow books and to see the halls.\n";
        let page = format!(
            "{body}Grants for\nvillage schools\nDonors from four countries have pledged new money\nto build classrooms in the villages of the northern\nprovince, and the first of them will open next year.\nSeismic stations planned\nA network of twelve stations to record earthquakes\nwill be set up in three countries of the region over\nthe next five years with the help of the agency.\nIn 1880 the first international confe-\nrence of geologists met in the city and agreed on\nthe rules that the surveys of the region still use.\n"
        );
        assert_eq!(
            heads(&page),
            ["Grants for", "village schools", "Seismic stations planned"]
        );
    }

    #[test]
    fn a_capitals_headline_over_decks_whose_last_word_breaks_across_lines() {
        let page = "and the meeting closed at ten o'clock.\nJOHN H. BARLOW\nWell Known Farmer Of The County\nDied Suddenly At His Home In Spring\nfield Sunday Evening.\nMr. John Barlow, aged 70 years, was found dead on Sunday evening at his farm near\nthe village, having died of heart failure, his family said.\n";
        assert_eq!(
            heads(page),
            [
                "JOHN H. BARLOW",
                "Well Known Farmer Of The County",
                "Died Suddenly At His Home In Spring"
            ]
        );
    }

    #[test]
    fn a_sentence_case_deck_under_a_sentence_case_headline() {
        // a deck opens with a capital; a wrapped headline goes on in lower case or after a
        // word that needs more
        assert_eq!(
            headline_range(&[
                "Ferry fares to rise in spring",
                "Board says the new boat must be paid for"
            ]),
            0..1
        );
        assert_eq!(
            headline_range(&["Group discusses", "format of spring commencement"]),
            0..2
        );
        assert_eq!(
            headline_range(&["Fees to rise next fall at", "Port Ellen after vote"]),
            0..2
        );
    }

    #[test]
    fn a_headline_set_one_word_a_line() {
        let page = "The reading rooms were full on the first day.\nA\nNEW\nSCHOOL\nFOR\nTHE\nBLIND\nThe school that opened in the capital last month teaches forty children to read with their fingers.\n";
        assert_eq!(heads(page), ["A", "NEW", "SCHOOL", "FOR", "THE", "BLIND"]);
        assert_eq!(
            headline_range(&["A", "NEW", "SCHOOL", "FOR", "THE", "BLIND"]),
            0..6
        );
    }

    #[test]
    fn an_english_lead_in_or_a_one_word_label_is_no_headline() {
        // a kicker that leads in with an ellipsis or a colon
        assert_eq!(
            headline_range(&["ON BEHALF OF ALL FARMERS...", "MINISTERS MEET", "IN ROME"]),
            1..3
        );
        assert_eq!(
            headline_range(&["Inside:", "NEW BRIDGE OPENS", "TO TRAFFIC"]),
            1..3
        );
        // a one-word label over a headline of three words or more
        assert_eq!(
            headline_range(&["AGENCY", "LIBRARY EXHIBITION OPENS", "IN LIMA"]),
            1..3
        );
        // a kicker in small letters over a capitals headline of two lines or more
        assert_eq!(
            headline_range(&["A question for every reader", "THE LIBRARY", "OF TOMORROW"]),
            1..3
        );
        // a headline wrapped over lines of about the same width stays whole, a word more or
        // less (`CITY MARKS` / `NEW YEAR QUIETLY`), and the deck in another case is not in it
        assert_eq!(headline_range(&["BRITISH HOLD", "FULL CONTROL"]), 0..2);
        // a sentence-case headline run on in lower case, over a deck
        assert_eq!(
            headline_range(&[
                "Council debates",
                "future of old town hall",
                "Sale of the building could pay for two new libraries"
            ]),
            0..2
        );
        let page = "Council debates\nfuture of old town hall\nSale of the building could pay for two new libraries\nBy Ann Lee\nThe city council met on Tuesday to talk about what should happen to the old town hall, which has stood empty for years.\n";
        assert_eq!(heads(page).len(), 3, "{:?}", heads(page));
        assert_eq!(
            headline_range(&[
                "CITY MARKS",
                "NEW YEAR QUIETLY",
                "WITH OPEN HOUSES",
                "Many Receptions Held"
            ]),
            0..3
        );
    }

    #[test]
    fn english_caps_decks_and_sentence_case_heads() {
        let page = "FIRE DESTROYS MILL\nLoss Placed at $40,000 by Owners\nWASHINGTON, Jan. 5.-The mill on the river road burned to the ground last night after\na lamp was overturned in the engine room.\n";
        assert_eq!(
            heads(page),
            ["FIRE DESTROYS MILL", "Loss Placed at $40,000 by Owners"]
        );
        let page = "The council voted on Thursday to raise the fees that students pay for parking next year.\nSenate panel weighs fee hike\nThe student senate will meet on Monday to consider a proposal that would raise the fee for every student by ten dollars.\n";
        assert_eq!(heads(page), ["Senate panel weighs fee hike"]);
    }

    #[test]
    fn lines_of_a_quoted_toast_are_speech_not_headlines() {
        let page = "市长举行招待会\n本报讯 市长昨晚举行招待会，欢迎来访的友好城市代表团，宾主共有二百多人出席。\n市长举杯说:\n“欢迎各位朋友!\n祝贺我们的友谊更加增进!\n祝贺各位朋友身体健康!”\n他的讲话引起了全场热烈的掌声，代表团团长随后致答词，感谢主人的盛情款待。\n";
        assert_eq!(heads(page), ["市长举行招待会"]);
    }

    #[test]
    fn a_signature_set_right_closes_the_item_above() {
        let page = "来信照登\n各位通讯员同志:上月寄来的稿件已经收到，编辑部正在逐篇阅读，请大家继续来稿。\n               本报通联科\n警告破坏者\n【新华社二日电】发言人称，凡破坏工厂和仓库者，必将受到严厉的惩处，决不宽恕。\n";
        assert_eq!(heads(page), ["来信照登", "警告破坏者"]);
    }

    #[test]
    fn section_heads_inside_a_wire_story_are_not_articles() {
        let page = "甲市推进老旧小区改造\n新华社记者 王明 李华\n　　甲市今年启动老旧小区改造，涉及一百二十个小区、四万多户居民，年底前全部完工。\n加装电梯\n　　改造的重点之一是加装电梯，市里为每部电梯补贴二十万元，居民分摊其余费用。\n老化管网一并更换\n　　小区的供水、供暖管网也一并更换，困扰居民多年的跑冒滴漏问题将得到解决。\n　　新华社甲市5月3日电\n乙县农产品上网销售\n　　新华社乙县5月3日电（记者赵强）乙县今年建成电商服务站八十个，农产品网上销售额同比增长三成。\n丙省发布防汛预警\n　　新华社丙市5月3日电 丙省气象台今天发布暴雨预警，提醒各地做好防汛准备工作。\n丁市开通夜间公交\n　　新华社丁市5月3日电（记者钱林）丁市新开通的八条夜间公交线路今晚投入运营，方便市民出行。\n";
        assert_eq!(
            heads(page),
            [
                "甲市推进老旧小区改造",
                "乙县农产品上网销售",
                "丙省发布防汛预警",
                "丁市开通夜间公交"
            ]
        );
    }

    #[test]
    fn a_section_head_in_a_copy_cut_to_one_or_two_articles() {
        // a stored copy cut short: one bylined feature, its section head inside it
        let page = "老钳工带出新徒弟
本报记者 周明
　　甲厂的老钳工刘师傅今年带了五个徒弟，个个都能独立操作新设备。
手把手教到会
　　刘师傅说，教徒弟没有捷径，只能一遍一遍地做给他们看，再看着他们做。
";
        assert_eq!(heads(page), ["老钳工带出新徒弟"]);
        // the headline such a copy ends on, with nothing under it, is kept
        let page = "老钳工带出新徒弟
本报记者 周明
　　甲厂的老钳工刘师傅今年带了五个徒弟，个个都能独立操作新设备。
乙县新建三座水库
";
        assert_eq!(heads(page), ["老钳工带出新徒弟", "乙县新建三座水库"]);
    }

    #[test]
    fn a_section_head_indented_like_the_text_of_a_wire_story_in_a_cut_copy() {
        // the page indents its headlines and not its text: the quoted heads set like the
        // text are section heads of the one report
        let page = "  边疆牧民喜迎新草场
新华社九日讯 边疆各地牧民今年迁入新开辟的草场，到处是一片兴旺景象，牧民们奔走相告。
“草场就是我们的家!”
一位老牧民站在新草场边上，对前来采访的记者说，祖祖辈辈都没有见过这样好的草场。
“明年还要再来!”
一队转场的牧民在路上遇见记者，笑着说今年的羊群长得特别壮，明年还要再来这里放牧。
";
        assert_eq!(heads(page), ["边疆牧民喜迎新草场"]);
        // indented like the headline, the next line heads an article of its own, dateline or
        // not (a book notice after a report)
        let page = "  边疆牧民喜迎新草场
新华社九日讯 边疆各地牧民今年迁入新开辟的草场，到处是一片兴旺景象，牧民们奔走相告。
  《草原文集》篇目介绍
《草原文集》收入了作者多年来写草原生活的文章八十篇，按写作时间分为三个部分。
";
        assert_eq!(heads(page), ["边疆牧民喜迎新草场", "《草原文集》篇目介绍"]);
    }

    #[test]
    fn the_source_of_a_quotation_box_closes_it() {
        // the box: label, quotation, the work it is taken from; then an editorial, no dateline
        let page = "毛主席语录
我们应当相信群众，我们应当相信党，这是两条根本的原理。
《某某问题》
团结起来办好农业合作社
今年春天以来，各地农业合作社的社员们团结一致，克服了种种困难，生产搞得很有起色。
这个事实说明，只要依靠群众，办好合作社就有了可靠的保证。
";
        assert_eq!(heads(page), ["毛主席语录", "团结起来办好农业合作社"]);
    }

    #[test]
    fn a_purpose_over_an_event_is_a_kicker() {
        let stack = ["为改善职工生活而努力", "某厂召开职工代表大会"];
        assert_eq!(main_of_cjk_stack(&stack, false), 1);
        // a headline that starts with 为 and states no purpose clause stays first
        let stack = ["为人民服务的好榜样", "记某县医院外科医生"];
        assert_eq!(main_of_cjk_stack(&stack, false), 0);
    }

    #[test]
    fn a_document_under_its_issuer_and_a_slogan_of_parallel_phrases_are_kickers() {
        let stack = ["某某省交通厅公路管理局", "关于冬季道路养护工作的通知"];
        assert_eq!(main_of_cjk_stack(&stack, false), 1);
        let stack = ["某某局", "对各县接办邮递工作的重要指示"];
        assert_eq!(main_of_cjk_stack(&stack, false), 1);
        // a report that a document was issued is no document title
        let stack = ["某国总统强调加强地区合作", "两国代表团会谈后发表联合公报"];
        assert_eq!(main_of_cjk_stack(&stack, false), 0);
        let stack = ["团结奋进 开拓创新 务求实效", "某省人民代表大会在省会开幕"];
        assert_eq!(main_of_cjk_stack(&stack, false), 1);
    }

    #[test]
    fn a_summary_deck_over_the_dateline_is_part_of_the_stack() {
        let page = "认真学习科学种田的经验
某县推广良种获得丰收
某县各公社坚持科学种田,推广良种,改进耕作方法,粮食产量连续三年大幅度增长
新华社某地十日电 某县今年粮食总产量比去年增长百分之十五，这是推广良种的结果。
";
        assert_eq!(
            heads(page),
            [
                "认真学习科学种田的经验",
                "某县推广良种获得丰收",
                "某县各公社坚持科学种田,推广良种,改进耕作方法,粮食产量连续三年大幅度增长"
            ]
        );
        let l = lines(page);
        let stack: Vec<&str> = l[..3].iter().map(|l| l.text).collect();
        assert_eq!(main_of_cjk_stack(&stack, false), 1);
        // a short deck that ends its sentence, under a kicker and a headline
        let page = "  全省农业工作会议第三日
各地代表介绍抗旱经验
会议进入讨论阶段,代表们一致表示要把抗旱工作放在首位。
【新华社某地十日电】全省农业工作会议今天继续举行，各地代表分组讨论今年的抗旱工作。
";
        assert_eq!(
            heads(page),
            [
                "全省农业工作会议第三日",
                "各地代表介绍抗旱经验",
                "会议进入讨论阶段,代表们一致表示要把抗旱工作放在首位。"
            ]
        );
        // a paragraph of its own under a single headline is no deck
        let page = "各地代表介绍抗旱经验
会议进入讨论阶段,代表们一致表示要把抗旱工作放在首位。
【新华社某地十日电】全省农业工作会议今天继续举行，各地代表分组讨论今年的抗旱工作。
";
        assert_eq!(heads(page), ["各地代表介绍抗旱经验"]);
    }

    #[test]
    fn a_long_column_tag_marks_the_headline_under_a_kicker() {
        let stack = [
            "某市创新金融服务",
            "科技贷 为企业救急（经济聚焦·园区里见高招①）",
        ];
        assert_eq!(main_of_cjk_stack(&stack, false), 1);
    }

    #[test]
    fn a_campaign_column_tag_longer_than_a_column_name_still_marks_the_headline() {
        let page = "甲乙丙三省——\n多措并举为基层松绑（守初心 担使命·深入开展“走基层、转作风”专题活动）\n　　活动开展以来，甲乙丙三省精简会议文件，减少督查检查，让基层干部把更多时间用在抓落实上。\n";
        let stack: Vec<String> = heads(page);
        assert_eq!(stack.len(), 2, "{stack:?}");
        let refs: Vec<&str> = stack.iter().map(String::as_str).collect();
        assert_eq!(main_of_cjk_stack(&refs, false), 1);
    }

    #[test]
    fn a_notice_title_over_its_number_heads_the_notice_however_it_is_indented() {
        let page = "  某某省财政厅公告\n  （2024年第5号）\n  根据有关规定，本厅决定发行本年度第二期地方政府债券，现将有关事项公告如下。\n  一、本期债券发行总额五十亿元，期限五年。\n  特此公告。\n  某某省财政厅\n  2024年5月6日\n";
        assert_eq!(heads(page), ["某某省财政厅公告"]);
        for number in ["（2024年第5号）", "(第3号)", "第十二号"] {
            assert!(document_number(number), "{number}");
        }
        for text in ["（第一版）", "三号楼", "（2024年5月6日）"] {
            assert!(!document_number(text), "{text}");
        }
    }

    #[test]
    fn two_quotation_boxes_alike_each_head_their_box() {
        let page = "主席语录\n团结起来，争取更大的胜利。\n某厂工人掀起生产新高潮\n本报讯 某厂工人响应号召，开展劳动竞赛，本月产量比上月提高三成，质量也有提高。\n最高指示\n要抓革命，促生产。\n某县春耕生产全面展开\n本报讯 某县各公社抓住有利时机，组织劳力，全面开展春耕生产，进度比去年同期快。\n";
        assert_eq!(
            heads(page),
            [
                "主席语录",
                "某厂工人掀起生产新高潮",
                "最高指示",
                "某县春耕生产全面展开"
            ]
        );
        // the traditional forms OCR reads from old type
        assert!(quotation_label("毛主席語录"));
    }

    #[test]
    fn every_quotation_label_in_a_run_of_short_lines_heads_its_box() {
        // raw OCR of a tabloid's top: boxes of quotations with the issue and publisher lines
        // printed beside them between their labels (the last damaged by the OCR), short
        // lines with no blank between
        let page = "毛主席语录\n要团结，不要分裂。\n第5期\n共四版\n最高指示\n某市红代会某某公社驻南方联络站\n主办\n某某学院红旗战斗队联络站\n毛主度最新指示\n要抓革命，促生产，促工作，促战备，这是一个总的题目，大家\n都要认真去做，做好了，人民就满意。\n";
        let got = heads(page);
        assert!(
            got.iter().any(|h| h == "最高指示") && got.iter().any(|h| h == "毛主度最新指示"),
            "{got:?}"
        );
    }

    #[test]
    fn a_paper_that_prints_what_the_line_under_it_tells_is_a_kicker() {
        for stack in [
            ["某国出版的《晨星》周刊", "全文刊登我国领导人在大会上的讲话"],
            ["邻国《劳动报》", "发表评论支持两国人民的正义斗争"],
        ] {
            assert_eq!(main_of_cjk_stack(&stack, false), 1, "{stack:?}");
        }
        // a title that is itself a work's name stays the headline
        assert_eq!(
            main_of_cjk_stack(&["《海边的渔村》", "一部反映渔民新生活的电影"], false),
            0
        );
    }

    #[test]
    fn a_letter_under_the_names_of_its_senders_is_the_headline() {
        for stack in [
            ["某某工作领导小组某某部某某委员会", "向全省先进集体致慰问信"],
            ["某某省人民政府", "致全省广大教师的公开信"],
        ] {
            assert_eq!(main_of_cjk_stack(&stack, false), 1, "{stack:?}");
        }
        // a headline that sends a letter itself stays first
        assert_eq!(
            main_of_cjk_stack(&["向抗洪一线官兵致慰问信", "全市各界踊跃捐款捐物"], false),
            0
        );
    }

    #[test]
    fn section_heads_over_the_questions_of_an_interview_stay_in_it() {
        let page = "把港口建成开放枢纽\n——专访某省交通运输厅厅长某某\n新华社记者 甲乙 丙丁\n　　某省地处江海交汇处，港口是全省对外开放的门户。\n扩大航线网络\n　　问：今年在拓展航线方面有哪些安排？\n　　答：今年计划新开国际航线十条，重点对接东南亚和中东市场。\n让货物通关再快一些\n　　问：企业关心通关时间，有什么新举措？\n　　答：我们推行“提前申报、抵港直装”，通关时间压缩到一天以内。\n邻市港口吞吐量创新高\n　　新华社某市5月3日电 今年一季度，邻市港口货物吞吐量同比增长一成，创历史同期新高。\n";
        assert_eq!(
            heads(page),
            [
                "把港口建成开放枢纽",
                "——专访某省交通运输厅厅长某某",
                "邻市港口吞吐量创新高"
            ]
        );
        // a question-and-answer article under its own headline after an ordinary story
        let page = "某县举办农民运动会\n　　本报讯 某县第三届农民运动会今天开幕，两千多名农民运动员参加比赛。\n外交部发言人答记者问\n　　问：有报道称某国将举行大选，中方有何评论？\n　　答：这是某国的内政，我们尊重某国人民的选择。\n";
        assert_eq!(heads(page), ["某县举办农民运动会", "外交部发言人答记者问"]);
    }

    #[test]
    fn a_copy_cut_short_ends_on_a_headline_or_a_dateline() {
        let body = "某市举行集会，欢迎来访的友好代表团，市长在会上讲话，介绍了本市近年来在农业、工业和交通方面的发展情况。\n代表团是今天中午到达的。\n";
        // the page ends on a headline whose body the copy cut away
        let page = format!("某市集会欢迎友好代表团\n{body}邻国密切注视联合国大会辩论\n");
        assert_eq!(
            heads(&page),
            ["某市集会欢迎友好代表团", "邻国密切注视联合国大会辩论"]
        );
        // or inside the dateline under it
        let page =
            format!("某市集会欢迎友好代表团\n{body}某国外长谴责邻国侵犯边界\n新华社北京4月1\n");
        assert_eq!(
            heads(&page),
            ["某市集会欢迎友好代表团", "某国外长谴责邻国侵犯边界"]
        );
        // the first words of a paragraph cut off are no headline
        for end in ["他表示,中国共产党不断总", "他说"] {
            let page = format!("某市集会欢迎友好代表团\n{body}{end}\n");
            assert_eq!(heads(&page), ["某市集会欢迎友好代表团"], "{end}");
        }
        // nor is a line that stops mid-phrase, on a numeral or on a word that needs more
        for end in [
            "副市长在七",
            "市长还就加强两市合作提出三",
            "代表团团长感谢市长的",
        ] {
            let page = format!("某市集会欢迎友好代表团\n{body}{end}\n");
            assert_eq!(heads(&page), ["某市集会欢迎友好代表团"], "{end}");
        }
        // nor a flush line where headlines are indented over flush paragraphs
        let page = format!("  某市集会欢迎友好代表团\n{body}各界人士参加了集会和游行\n");
        assert_eq!(heads(&page), ["某市集会欢迎友好代表团"]);
        let page = format!("  某市集会欢迎友好代表团\n{body}  各界人士参加集会和游行\n");
        assert_eq!(
            heads(&page),
            ["某市集会欢迎友好代表团", "各界人士参加集会和游行"]
        );
    }

    #[test]
    fn the_source_under_a_quotation_is_not_a_headline() {
        let page = "在少数民族地区，各族人民同心协力，建设自己的家乡，他们正在一日千里地向前发展。\n——某某在某次会议上的报告\n自治区成立十年 生产大发展\n草原跨进新时代\n本报讯 今年是自治区成立十周年，各族人民在党的民族政策的光辉照耀下，取得了很大的成就。\n";
        assert_eq!(heads(page), ["自治区成立十年 生产大发展", "草原跨进新时代"]);
    }

    #[test]
    fn a_kicker_that_leads_in_sits_above_the_headline() {
        for stack in [
            ["开设夜市、延长营业、发放消费券……", "老城街巷 夜里更亮"],
            ["就邻国修建水坝一事", "外交部发言人答记者问"],
            [
                "《某某》杂志发表某某同志重要文章",
                "坚持人民至上 推动事业发展",
            ],
            ["某省全面推进垃圾分类，完善回收体系", "小区里的新风尚"],
        ] {
            assert_eq!(main_of_cjk_stack(&stack, false), 1, "{stack:?}");
        }
        // a headline with a subtitle under it keeps the first line
        for stack in [
            ["某市夏粮收购进展顺利", "截至7月5日，累计收购小麦12亿斤"],
            ["全市公园延长开放时间", "市民夜游有了好去处"],
        ] {
            assert_eq!(main_of_cjk_stack(&stack, false), 0, "{stack:?}");
        }
    }

    #[test]
    fn a_photo_title_over_the_photographer_and_the_caption_heads_the_photo() {
        let page = "The council will vote on the new budget next Tuesday, the mayor said on Friday afternoon.\n>>\nA quiet afternoon\n\n\nJANE DOE/Campus Daily\nA student reads under the old oak tree in the quad. For more pictures of the quad, see page 4.\n";
        let mut l = lines(page);
        for line in &mut l {
            if line.text.contains('/') {
                line.role = Role::PhotoCredit;
            }
        }
        let m = mark(&l);
        assert!(m[2], "{m:?}");
        // a short line over a photographer's credit that closes a caption is caption text
        let page = "Snow on the pass\nJANE DOE/Campus Daily\nRoads closed\n";
        let mut l = lines(page);
        l[1].role = Role::PhotoCredit;
        assert!(!mark(&l)[0]);
    }

    #[test]
    fn the_first_line_under_the_masthead_heads_the_first_article() {
        let page = "\n\n19-year-old wins county spelling bee\nShe spelled forty words without a single mistake and took home the trophy on Saturday.\n";
        let mut l = lines(page);
        l[0].role = Role::Other;
        let m = mark(&l);
        assert!(m[2], "{m:?}");
        let page = "\nRally; U.S.\nThousands marched through the capital on Sunday to protest the new tax law passed last week.\n";
        let mut l = lines(page);
        l[0].role = Role::Other;
        assert!(mark(&l)[1]);
        // without a masthead above it, a line in lower case stays text
        let page = "19-year-old wins county spelling bee\nShe spelled forty words without a single mistake and took home the trophy on Saturday.\n";
        assert!(heads(page).is_empty());
    }

    #[test]
    fn a_wrapped_line_is_not_a_headline() {
        let page = "  The committee said the new bridge over the\nRiver Road\nwill open in the spring of next year if the weather holds.\n";
        assert!(heads(page).is_empty());
    }

    #[test]
    fn questions_stacked_over_a_dateline_head_the_report() {
        let page = "办托儿所的两种做法,你赞成哪一种?\n是自己动手,多办几所?\n还是等待拨款,只办一所?\n本报讯 某市的街道居民自己动手，今年办起了二十所托儿所。\n经费来自居民集资和街道工厂。\n";
        assert_eq!(
            heads(page),
            [
                "办托儿所的两种做法,你赞成哪一种?",
                "是自己动手,多办几所?",
                "还是等待拨款,只办一所?"
            ]
        );
        // one question closing a paragraph over a dateline is the text above it
        let page =
            "某厂的试验成功了。\n工人们问,下一步怎么办?\n本报讯 某市今年办起了二十所托儿所。\n";
        assert!(heads(page).is_empty());
    }

    #[test]
    fn short_heads_inside_bylined_english_stories_are_section_heads() {
        let page = "Council weighs new parking rules for downtown\nBy Ann Lee\nStaff Writer\nThe city council on Monday took up a plan to change parking downtown.\nMerchants said the meters drive shoppers away.\nMeter Costs\nThe plan would raise the hourly rate by a quarter.\nIN QUOTES\n\"We need the spaces,\" a merchant said.\nLibrary extends its weekend hours this spring\nBy Bob Cole\nStaff Writer\nThe campus library will stay open until midnight on weekends.\nStudents asked for the change last fall.\nA late night\nJOHN SMITH/Mustang Daily\nStudents study in the library on Sunday.\n";
        let found = heads(page);
        assert!(!found.contains(&"Meter Costs".to_owned()), "{found:?}");
        for head in [
            "Council weighs new parking rules for downtown",
            "IN QUOTES",
            "Library extends its weekend hours this spring",
            "A late night",
        ] {
            assert!(found.contains(&head.to_owned()), "{head}: {found:?}");
        }
    }
}
