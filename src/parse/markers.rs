//! Page references: 详见05版, 下转第3版, 上接第二版, Continued on Page A5, See STORM, Page 7,
//! Please see STORM, A7, STORM, From Page 1, STORM/From Page A1, STORM from A1,
//! STORM: Continued from Page A1 — including the OCR damage such markers suffer (`Contmued`,
//! `Pagc`, stray spaces inside the marker). A jump word printed on a line of its own above a
//! from-marker is joined to it by [`crate::parse::blocks`], with [`jump_word`].

use std::sync::LazyLock;

use regex::Regex;

use crate::proto::{PageReference, PageReferenceKind};

/// Chinese markers, optionally in brackets: verb, optional 第, page, 版.
static ZH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"[（(【\[]?\s*(?:全\s*文\s*|内\s*容\s*)?(详\s*见|参\s*见|见|下\s*转|上\s*接|紧\s*接|转|接|续)\s*(?:第\s*)?([A-Za-z]?\s*[0-9]{1,3}|[一二三四五六七八九十〇零百]{1,4})\s*[版板页]\s*[)）】\]]?",
    )
    .expect("valid regex")
});

/// English "continued" markers, tolerant of OCR damage in both words.
static EN_CONTINUED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)[(\[]?\s*(?-u:\b)(c[o0][nm]t[a-z]{0,7}|cont'd|cont\.)\s+(on|from|to)\s+(?:(?:page|pagc|paqe|pg\.?|p\.)\s*)?([a-z]?\s?[0-9]{1,3}[a-z]?)(?-u:\b)\s*[)\]]?",
    )
    .expect("valid regex")
});

/// `See STORM, Page 7` / `Please see STORM on A7` (jump) or `See related story, Page 5` (see
/// also); `Please see STORM, A7` without a page word only as a jump to a section page (group 2
/// is then a bare comma).
static EN_SEE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)[(\[]?\s*(?-u:\b)(?:please\s+)?s(?:ee|ec|ac|oe)(?:\s+([a-z][a-z'’ -]{0,40}?))?\s*(,?\s+(?:(?:on\s+)?(?:page|pagc|paqe|pg\.?|p\.)\s*|on\s+)|,\s*(?:page|pagc|paqe)\s*|,\s*)([a-z]?[0-9]{1,3}[a-z]?|(?:back|hack|bock)\s+page|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)(?-u:\b)\s*[)\]]?",
    )
    .expect("valid regex")
});

/// `STORM, From Page 1` / `STORM/From Page A1` / `From Page 1` opening a continuation; `STORM
/// from A1` without a page word (group 2 empty) only with a jump word and a section page.
static EN_FROM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(?:([a-z][a-z'’ -]{0,40}?)\s*(?:[,/|:—–]\s*|\s+))?(?:from|frorn|fr0m)\s+((?:page|pagc|paqe|pg\.?|p\.)\s*)?([a-z]?[0-9]{1,3}[a-z]?)(?-u:\b)\s*[.)\]]?",
    )
    .expect("valid regex")
});

/// The pointer that ends an entry of a front page's index box: `… / page three`,
/// `… / page 5`, `… / back page` (OCR: `twO`, `hack page`), at the end of the text.
static EN_INDEX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\s/\s*((?:page|pagc|paqe)\s+([a-z]?[0-9]{1,3}[a-z]?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)|(?:back|hack|bock)\s+page)\s*$",
    )
    .expect("valid regex")
});

/// Words every English marker holds, damaged or not: a cheap test before the full patterns.
static EN_CUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)c[o0][nm]t|see|fr[o0r]|page|pagc|paqe|pg|s[ae]c ").expect("valid regex")
});

/// A reference found in a text, with where it sits.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The reference.
    pub reference: PageReference,
    /// Byte range of the marker in the searched text.
    pub range: std::ops::Range<usize>,
    /// The marker words were damaged and matched loosely (e.g. `Contmued`).
    pub fuzzy: bool,
}

/// Most references taken from one text; the rest are ignored with a warning upstream.
pub const MAX_PER_TEXT: usize = 32;

/// Finds every page reference in `text`, in order.
pub fn find(text: &str) -> Vec<Found> {
    let mut found = Vec::new();
    if text.contains('版') || text.contains('板') || text.contains('页') {
        for caps in ZH.captures_iter(text) {
            if found.len() >= MAX_PER_TEXT {
                break;
            }
            let whole = caps.get(0).expect("group 0");
            let verb: String = caps[1].chars().filter(|c| !c.is_whitespace()).collect();
            let kind = match verb.as_str() {
                "详见" | "参见" | "见" => PageReferenceKind::SeeAlso,
                "下转" | "转" => PageReferenceKind::ContinuedOn,
                _ => PageReferenceKind::ContinuedFrom,
            };
            // A bare 见/转/接 needs brackets or a 第 to be a marker, not prose ("转版" rarely
            // occurs, but "接5版" without brackets is too weak to act on).
            let bracketed =
                whole.as_str().starts_with(['（', '(', '【', '[']) || whole.as_str().contains('第');
            if verb.chars().count() == 1 && !bracketed {
                continue;
            }
            let label: String = caps[2].chars().filter(|c| !c.is_whitespace()).collect();
            let label = label.to_uppercase();
            found.push(Found {
                reference: reference(kind, &label, whole.as_str(), ""),
                range: whole.range(),
                fuzzy: caps[1].contains(char::is_whitespace),
            });
        }
    }
    // English markers need a few ASCII letters; Chinese text without them skips the regexes.
    let latin = text.bytes().filter(u8::is_ascii_alphabetic).take(4).count() >= 4;
    if latin && EN_CUE.is_match(text) {
        for caps in EN_CONTINUED.captures_iter(text) {
            if found.len() >= MAX_PER_TEXT {
                break;
            }
            let word = caps[1].to_ascii_lowercase();
            if !(word.starts_with("cont") || word == "cont'd" || looks_like(&word, "continued")) {
                continue;
            }
            let kind = match caps[2].to_ascii_lowercase().as_str() {
                "from" => PageReferenceKind::ContinuedFrom,
                _ => PageReferenceKind::ContinuedOn,
            };
            let whole = caps.get(0).expect("group 0");
            let label: String = caps[3].chars().filter(|c| !c.is_whitespace()).collect();
            // `STORM: Continued from Page A1`: a jump word opening the text belongs to the marker
            let mut range = whole.range();
            let mut jump = "";
            if kind == PageReferenceKind::ContinuedFrom && range.start > 0 {
                if let Some(w) = jump_word(&text[..range.start]) {
                    jump = w;
                    range.start = text.len() - text.trim_start().len();
                }
            }
            found.push(Found {
                reference: reference(kind, &label.to_uppercase(), &text[range.clone()], jump),
                range,
                fuzzy: !(word == "continued" || word == "cont'd" || word == "cont."),
            });
        }
        for caps in EN_SEE.captures_iter(text) {
            if found.len() >= MAX_PER_TEXT {
                break;
            }
            let whole = caps.get(0).expect("group 0");
            if found.iter().any(|f| overlaps(&f.range, &whole.range())) {
                continue;
            }
            let word = caps.get(1).map_or("", |m| m.as_str().trim());
            // An all-capitals jump word marks a jump; anything else is a pointer. (OCR reads
            // a capital I as `l`: `DRlVE-lN` is capitals.)
            let upper = word.chars().filter(|c| c.is_uppercase()).count();
            let lower: Vec<char> = word.chars().filter(|c| c.is_lowercase()).collect();
            let capitals =
                lower.is_empty() || (lower.iter().all(|&c| c == 'l') && upper > 2 * lower.len());
            let is_jump = word.chars().any(char::is_alphabetic)
                && capitals
                && word.split_whitespace().count() <= 3;
            // the page as a word: `See STORM, back page`, `see page three`
            let Some(label) = en_page_label(&caps[3]) else {
                continue;
            };
            let back = label == "BACK";
            let number_word = !back && !caps[3].bytes().any(|b| b.is_ascii_digit());
            // `see page three`, never `see Mary, three`
            let page_word = ["pag", "pg", "p."]
                .iter()
                .any(|p| caps[2].to_ascii_lowercase().contains(p));
            if number_word && !page_word {
                continue;
            }
            // `See STORM, A7` without a page word: only a jump word and a section page (or the
            // back page)
            let bare = caps[2].trim() == ",";
            if bare && !(is_jump && (back || caps[3].bytes().any(|b| b.is_ascii_alphabetic()))) {
                continue;
            }
            let mended = word.replace('l', "I");
            let (kind, jump) = if is_jump {
                (PageReferenceKind::ContinuedOn, mended.as_str())
            } else {
                (PageReferenceKind::SeeAlso, "")
            };
            found.push(Found {
                reference: reference(kind, &label, whole.as_str().trim(), jump),
                range: whole.range(),
                fuzzy: false,
            });
        }
        if let Some(caps) = EN_INDEX.captures(text) {
            let whole = caps.get(0).expect("group 0");
            let page = caps.get(2).map_or(&caps[1], |m| m.as_str());
            if let Some(label) = en_page_label(page) {
                if !found.iter().any(|f| overlaps(&f.range, &whole.range())) {
                    found.push(Found {
                        reference: reference(
                            PageReferenceKind::SeeAlso,
                            &label,
                            whole.as_str().trim_start_matches([' ', '/']).trim(),
                            "",
                        ),
                        range: whole.range(),
                        fuzzy: false,
                    });
                }
            }
        }
        if let Some(caps) = EN_FROM.captures(text) {
            let whole = caps.get(0).expect("group 0");
            let word = caps.get(1).map_or("", |m| m.as_str().trim());
            let jump_ok = word.is_empty()
                || (!word.chars().any(char::is_lowercase) && word.split_whitespace().count() <= 3);
            // `STORM from A1` without a page word: only a jump word and a section page
            let page_ok = caps.get(2).is_some()
                || (!word.is_empty() && caps[3].bytes().any(|b| b.is_ascii_alphabetic()));
            if jump_ok && page_ok && !found.iter().any(|f| overlaps(&f.range, &whole.range())) {
                found.push(Found {
                    reference: reference(
                        PageReferenceKind::ContinuedFrom,
                        &caps[3].to_uppercase(),
                        whole.as_str().trim(),
                        word,
                    ),
                    range: whole.range(),
                    fuzzy: !caps[0].to_ascii_lowercase().contains("from"),
                });
            }
        }
    }
    if found.is_empty() && latin {
        if let Some(label) = garbled_jump_line(text) {
            let start = text.len() - text.trim_start().len();
            found.push(Found {
                reference: reference(PageReferenceKind::ContinuedOn, &label, text, ""),
                range: start..text.trim_end().len(),
                fuzzy: true,
            });
        }
    }
    found.sort_by_key(|f| f.range.start);
    found
}

/// Does the line end with a jump to another page (`… See TEACHING, page 3`, `（下转第二版）`)?
/// The article's text on this page ends there.
pub fn ends_with_jump(line: &str) -> bool {
    let line = line.trim_end();
    // it ends on the page (`page 3`, `A5`, `back page`, `第二版`), perhaps in brackets: most
    // lines end on a full stop and stop here
    // (`Page 8.)`: a full stop only after a figure)
    let mut core = line.trim_end_matches([')', '）', ']', '】']);
    if let Some(rest) = core.strip_suffix('.') {
        if rest.ends_with(|c: char| c.is_ascii_digit()) {
            core = rest;
        }
    }
    let last_word = core
        .rsplit(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("");
    let page_end =
        core.chars().next_back().is_some_and(|c| {
            c.is_ascii_digit() || c.is_ascii_uppercase() || c == '版' || c == '页'
        }) || [
            "page", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve",
        ]
        .iter()
        .any(|w| last_word.eq_ignore_ascii_case(w));
    if !page_end {
        return false;
    }
    // a jump marker is short: only the line's last 80 bytes are searched, so a long
    // paragraph costs no more than a short one
    let mut from = line.len().saturating_sub(80);
    while !line.is_char_boundary(from) {
        from += 1;
    }
    let tail = &line[from..];
    find(tail).last().is_some_and(|f| {
        f.reference.kind() == PageReferenceKind::ContinuedOn && f.range.end + 3 >= tail.len()
    })
}

/// A jump line OCR read past the patterns, alone on its line: four words shaped like
/// `Please see page 2` (`PI«aM see p«g« 2`, `Ptaasa saa page 2`): a word of five to seven
/// letters opening with P, a three-letter word opening with s, a four-letter one opening with
/// p, and the page. Only the whole line counts, so prose never matches.
fn garbled_jump_line(text: &str) -> Option<String> {
    if text.len() > 40 || !text.trim_start().starts_with(['P', 'p']) {
        return None;
    }
    // four words, read without allocating: this runs on every short line without a marker
    let mut words = text.split_whitespace();
    let (Some(please), Some(see), Some(page), Some(label), None) = (
        words.next(),
        words.next(),
        words.next(),
        words.next(),
        words.next(),
    ) else {
        return None;
    };
    let n = |w: &str| w.chars().count();
    let label_ok = (1..=4).contains(&label.len())
        && label.bytes().any(|b| b.is_ascii_digit())
        && label.bytes().all(|b| b.is_ascii_alphanumeric());
    (please.starts_with(['P', 'p'])
        && (5..=7).contains(&n(please))
        && see.starts_with(['s', 'S'])
        && n(see) == 3
        && page.starts_with(['p', 'P'])
        && n(page) == 4
        && label_ok)
        .then(|| label.to_uppercase())
}

/// A page named in an English marker, as its label: `A7` → `A7`, `three` → `3`, `back page`
/// (OCR: `hack page`) → `BACK`.
fn en_page_label(page: &str) -> Option<String> {
    const NUMBERS: [&str; 12] = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve",
    ];
    let lower = page.to_ascii_lowercase();
    if lower.ends_with("page") {
        return Some("BACK".to_owned());
    }
    match NUMBERS.iter().position(|n| *n == lower) {
        Some(i) => Some((i + 1).to_string()),
        None if lower.bytes().any(|b| b.is_ascii_digit()) => Some(page.to_uppercase()),
        None => None,
    }
}

/// A jump word standing alone, as printed above a from-marker (`STORM` over `From Page A1`) or
/// before one (`STORM: Continued from Page A1`): one to three words in capitals, at most 25
/// characters, at least two letters, starting with a letter; a trailing `,` `:` `/` `|` or
/// dash is not part of it. A paper's name (`THE DAILY HERALD`) is no jump word. Returns the
/// word without the trailing separator.
pub fn jump_word(line: &str) -> Option<&str> {
    let word = line
        .trim()
        .trim_end_matches([',', ':', '/', '|', '—', '–', '-', ' '])
        .trim_end();
    let (first, last) = (word.chars().next()?, word.chars().next_back()?);
    if !first.is_ascii_uppercase()
        || !last.is_ascii_alphanumeric()
        || word.chars().count() > 25
        || !word.chars().all(|c| {
            c.is_ascii_uppercase()
                || c.is_ascii_digit()
                || matches!(c, ' ' | '\'' | '’' | '-' | '&' | '.')
        })
        || word.bytes().filter(u8::is_ascii_uppercase).count() < 2
    {
        return None;
    }
    let words = word.split_whitespace().count();
    (words <= 3 && !(words > 1 && word.starts_with("THE "))).then_some(word)
}

fn overlaps(a: &std::ops::Range<usize>, b: &std::ops::Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Loose match for OCR-damaged words: same first letter, same length ±1, at most two
/// characters differing.
fn looks_like(word: &str, target: &str) -> bool {
    let (w, t): (Vec<char>, Vec<char>) = (word.chars().collect(), target.chars().collect());
    if w.first() != t.first() || w.len().abs_diff(t.len()) > 1 {
        return false;
    }
    let diff = w.iter().zip(&t).filter(|(a, b)| a != b).count() + w.len().abs_diff(t.len());
    diff <= 2
}

fn reference(kind: PageReferenceKind, label: &str, text: &str, jump: &str) -> PageReference {
    PageReference {
        kind: kind as i32,
        page_number: page_number(label),
        page_label: label.to_owned(),
        text: text.trim().to_owned(),
        jump_word: jump.to_uppercase(),
        ..Default::default()
    }
}

/// The page number of a label: `05` → 5, `二` → 2, `十二` → 12; 0 for labels with a
/// section letter (`A5`), whose number only counts within the section.
pub fn page_number(label: &str) -> u32 {
    if let Ok(n) = label.parse::<u32>() {
        return n;
    }
    chinese_number(label).unwrap_or(0)
}

/// Reads a Chinese numeral up to 999: 五, 十二, 二十, 一百零五.
pub fn chinese_number(s: &str) -> Option<u32> {
    let digit = |c: char| -> Option<u32> {
        Some(match c {
            '〇' | '零' => 0,
            '一' => 1,
            '二' => 2,
            '三' => 3,
            '四' => 4,
            '五' => 5,
            '六' => 6,
            '七' => 7,
            '八' => 8,
            '九' => 9,
            _ => return None,
        })
    };
    let mut total = 0;
    let mut current = 0;
    let mut any = false;
    for c in s.chars() {
        any = true;
        match c {
            '百' => {
                total += current.max(1) * 100;
                current = 0;
            }
            '十' => {
                total += current.max(1) * 10;
                current = 0;
            }
            c => current = current * 10 + digit(c)?,
        }
    }
    any.then_some(total + current)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> PageReference {
        let found = find(text);
        assert_eq!(found.len(), 1, "{text}: {found:?}");
        found
            .into_iter()
            .next()
            .map(|f| f.reference)
            .unwrap_or_default()
    }

    #[test]
    fn a_jump_line_read_badly_is_a_jump() {
        for (line, page) in [
            ("PI«aM see p«g« 2", "2"),
            ("Ptaasa saa page 2", "2"),
            ("Plaese sea pago 3A", "3A"),
        ] {
            let r = one(line);
            assert_eq!(r.kind(), PageReferenceKind::ContinuedOn, "{line}");
            assert_eq!(r.page_label, page, "{line}");
        }
        // prose of the same length is not
        for line in [
            "Plans set pace for 1985",
            "Please send page 2",
            "People say pigs fly 2",
        ] {
            assert!(find(line).is_empty(), "{line}");
        }
    }

    #[test]
    fn an_index_box_pointer_at_the_end_of_a_line() {
        let r = one("The council began its review of next year's budget / page three");
        assert_eq!(
            (r.kind(), r.page_label.as_str()),
            (PageReferenceKind::SeeAlso, "3")
        );
        assert_eq!(
            one("Two runners from the track team / hack page").page_label,
            "BACK"
        );
        assert_eq!(
            one("A new envoy to the trade talks / page 5").page_label,
            "5"
        );
        // only at the end, and only with the page word
        assert!(find("The page / page three of the report was missing, he said.").is_empty());
        assert!(find("Fees rose 3 / 4 of a point").is_empty());
    }

    #[test]
    fn chinese_markers() {
        let r = one("详见05版");
        assert_eq!(
            (r.kind(), r.page_number, r.page_label.as_str()),
            (PageReferenceKind::SeeAlso, 5, "05")
        );
        assert_eq!(one("（下转第3版）").kind(), PageReferenceKind::ContinuedOn);
        let r = one("（上接第二版）");
        assert_eq!(
            (r.kind(), r.page_number),
            (PageReferenceKind::ContinuedFrom, 2)
        );
        assert_eq!(one("（转第十二版）").page_number, 12);
        assert_eq!(one("详 见 第 5 版").page_number, 5);
        assert!(find("他见过5版的稿子").is_empty());
    }

    #[test]
    fn english_markers() {
        let r = one("Continued on Page A5");
        assert_eq!(
            (r.kind(), r.page_label.as_str(), r.page_number),
            (PageReferenceKind::ContinuedOn, "A5", 0)
        );
        // the page word glued to the comma, OCR's `l` for a capital I in the jump word
        let r = one("See DRlVE-lN,page6");
        assert_eq!(
            (r.kind(), r.page_label.as_str(), r.jump_word.as_str()),
            (PageReferenceKind::ContinuedOn, "6", "DRIVE-IN")
        );
        let r = one("See STORM, Page 7");
        assert_eq!(
            (r.kind(), r.jump_word.as_str(), r.page_number),
            (PageReferenceKind::ContinuedOn, "STORM", 7)
        );
        let r = one("STORM, From Page 1");
        assert_eq!(
            (r.kind(), r.jump_word.as_str()),
            (PageReferenceKind::ContinuedFrom, "STORM")
        );
        assert_eq!(
            one("(Contmued from Page 1)").kind(),
            PageReferenceKind::ContinuedFrom
        );
        assert_eq!(
            one("See related story, Page 5").kind(),
            PageReferenceKind::SeeAlso
        );
        let r = one("Please see STORM on A7");
        assert_eq!(
            (r.kind(), r.jump_word.as_str(), r.page_label.as_str()),
            (PageReferenceKind::ContinuedOn, "STORM", "A7")
        );
        assert_eq!(
            one("（紧接第1版）").kind(),
            PageReferenceKind::ContinuedFrom
        );
        assert_eq!(one("见第二版").page_number, 2);
    }

    #[test]
    fn chinese_numerals() {
        assert_eq!(chinese_number("二十"), Some(20));
        assert_eq!(chinese_number("一百零五"), Some(105));
        assert_eq!(chinese_number("十"), Some(10));
    }

    #[test]
    fn jump_words_are_short_capitals() {
        assert_eq!(jump_word("STORM"), Some("STORM"));
        assert_eq!(jump_word(" CITY BUDGET "), Some("CITY BUDGET"));
        assert_eq!(jump_word("STORM,"), Some("STORM"));
        assert_eq!(jump_word("STORM /"), Some("STORM"));
        assert_eq!(jump_word("O'BRIEN"), Some("O'BRIEN"));
        assert_eq!(jump_word("ST0RM"), Some("ST0RM"));
        // headlines, mixed case, labels and the paper's name are not
        assert_eq!(jump_word("SCHOOL BOARD PICKS NEW SUPERINTENDENT"), None);
        assert_eq!(jump_word("FOUR WORDS IN CAPS"), None);
        assert_eq!(jump_word("SUPERCALIFRAGILISTICEXPIALIDOCIOUS"), None);
        assert_eq!(jump_word("Storm"), None);
        assert_eq!(jump_word("A6"), None);
        assert_eq!(jump_word("2025"), None);
        assert_eq!(jump_word("U.S."), None);
        assert_eq!(jump_word("THE DAILY HERALD"), None);
        assert_eq!(jump_word("STORM!"), None);
        assert_eq!(jump_word("风暴"), None);
        assert_eq!(jump_word(""), None);
    }

    #[test]
    fn jump_words_on_the_line_of_a_from_marker() {
        for (text, word, label) in [
            ("STORM/From Page A1", "STORM", "A1"),
            ("STORM / From Page A1", "STORM", "A1"),
            ("STORM | From Page A1", "STORM", "A1"),
            ("CITY BUDGET: From Page A1", "CITY BUDGET", "A1"),
            ("STORM, from A1", "STORM", "A1"),
            ("STORM from 1A", "STORM", "1A"),
            ("STORM: Continued from Page A1", "STORM", "A1"),
            ("STORM (Continued from Page A1)", "STORM", "A1"),
            ("FAIR, Contmued from Page 3", "FAIR", "3"),
        ] {
            let r = one(text);
            assert_eq!(
                (r.kind(), r.jump_word.as_str(), r.page_label.as_str()),
                (PageReferenceKind::ContinuedFrom, word, label),
                "{text}"
            );
            assert_eq!(r.text, text, "the whole line is the marker");
        }
        // without a page word the jump word and a section page are both needed
        assert!(find("From 12 to 15 people came.").is_empty());
        assert!(find("NASA from 12 states").is_empty());
        // a lower-case word before the marker stays outside it
        let r = one("the crews, Continued from Page A1");
        assert_eq!(
            (r.jump_word.as_str(), r.text.as_str()),
            ("", "Continued from Page A1")
        );
        // a Continued-on marker takes no word from before it
        assert_eq!(one("STORM: Continued on Page A6").jump_word, "");
    }

    #[test]
    fn see_lines_without_a_page_word() {
        let r = one("Please see FAIR, A7");
        assert_eq!(
            (
                r.kind(),
                r.jump_word.as_str(),
                r.page_label.as_str(),
                r.text.as_str()
            ),
            (
                PageReferenceKind::ContinuedOn,
                "FAIR",
                "A7",
                "Please see FAIR, A7"
            )
        );
        let r = one("Please see STORM, Page A6");
        assert_eq!(
            (r.jump_word.as_str(), r.text.as_str()),
            ("STORM", "Please see STORM, Page A6")
        );
        assert_eq!(one("See BUDGET on A6").jump_word, "BUDGET");
        // a bare comma form needs capitals and a section page
        assert!(find("see Mary, A1 for details").is_empty());
        assert!(find("See NATO, 12 members agreed").is_empty());
    }

    #[test]
    fn pages_named_in_words_and_see_read_badly() {
        let r = one("Sec TUITION, back page");
        assert_eq!(
            (r.kind(), r.page_label.as_str()),
            (PageReferenceKind::ContinuedOn, "BACK")
        );
        assert_eq!(r.jump_word, "TUITION");
        assert_eq!(one("Sac RALLY, hack page").page_label, "BACK");
        let r = one("For more pictures, see page three.");
        assert_eq!((r.kind(), r.page_number), (PageReferenceKind::SeeAlso, 3));
        // a number word needs the page word; the back page a jump word
        assert!(find("see Mary, three times a week").is_empty());
        assert!(find("see them, back page stories").is_empty());
    }
}
