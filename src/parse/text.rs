//! Character-level normalization and line joining.
//!
//! Everything here works on `&str` and returns owned `String`s; no regexes, one pass each, so
//! the cost is linear in the input whatever it holds.

/// Counts of what [`normalize_chars`] removed or changed, turned into page warnings.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CharReport {
    /// C0/C1 control characters (other than line breaks and tabs) removed.
    pub controls: usize,
    /// Zero-width characters, soft hyphens and stray BOMs removed.
    pub zero_width: usize,
    /// Bidirectional override / isolate characters removed.
    pub bidi: usize,
    /// Combining marks dropped because more than [`MAX_COMBINING`] followed one base character.
    pub combining: usize,
    /// U+FFFD replacement characters seen (kept: they mark damage upstream).
    pub replacement: usize,
}

/// Most combining marks kept on one base character; real scripts need far fewer.
pub const MAX_COMBINING: usize = 3;

/// Is `c` a Han ideograph or other CJK character that is written without spaces?
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // kana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified
        | 0xF900..=0xFAFF    // compatibility ideographs
        | 0x20000..=0x2FA1F  // extensions B..
        | 0xAC00..=0xD7AF    // hangul
    )
}

/// Is `c` CJK punctuation or a full-width form that also binds without spaces?
pub fn is_cjk_punct(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x303F      // CJK symbols and punctuation
        | 0xFF00..=0xFFEF    // full-width forms
        | 0x2018..=0x201F    // curly quotes, used in Chinese text
        | 0x2014..=0x2015 | 0x2026 | 0x00B7 | 0x2027
    )
}

/// Han, kana, hangul or CJK punctuation: joins to its neighbour without a space.
pub fn is_cjk_like(c: char) -> bool {
    is_cjk(c) || is_cjk_punct(c)
}

fn is_combining(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// First normalization pass over the whole page text:
/// - CRLF and lone CR become LF; tabs, NBSP and other space characters become a space;
/// - BOMs, zero-width characters, soft hyphens, bidi controls and control characters go;
/// - full-width ASCII letters and digits become half-width (CJK punctuation stays);
/// - combining-mark storms are trimmed to [`MAX_COMBINING`] marks per base character.
pub fn normalize_chars(input: &str) -> (String, CharReport) {
    let mut out = String::with_capacity(input.len());
    let mut report = CharReport::default();
    let bytes = input.as_bytes();
    // Characters that need no change are copied in runs; only the rest are decoded and
    // looked at. Printable ASCII and the CJK block (lead bytes E4..E9) never need a look.
    let mut run_start = 0;
    let mut combining_run = 0usize;
    let mut last_special_end = usize::MAX;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if (0x20..0x7F).contains(&b) || b == b'\n' {
            i += 1;
            continue;
        }
        if (0xE4..=0xE9).contains(&b) {
            i += 3;
            continue;
        }
        let Some(c) = input[i..].chars().next() else {
            break;
        };
        let end = i + c.len_utf8();
        if !c.is_ascii() && !needs_attention(c) {
            i = end;
            continue;
        }
        out.push_str(&input[run_start..i]);
        run_start = end;
        i = end;
        if is_combining(c) {
            // a run of marks continues only if nothing came between this mark and the last
            combining_run = if last_special_end == end - c.len_utf8() {
                combining_run + 1
            } else {
                1
            };
            last_special_end = end;
            if combining_run > MAX_COMBINING {
                report.combining += 1;
            } else {
                out.push(c);
            }
            continue;
        }
        match c {
            '\r' => {
                if bytes.get(i) == Some(&b'\n') {
                    i += 1;
                    run_start = i;
                }
                out.push('\n');
            }
            '\t'
            | '\u{00A0}'
            | '\u{2000}'..='\u{200A}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
            | '\u{1680}' => out.push(' '),
            '\u{FEFF}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{00AD}' => {
                report.zero_width += 1
            }
            '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
                report.bidi += 1
            }
            '\u{000B}' | '\u{000C}' | '\u{2028}' | '\u{2029}' => out.push('\n'),
            c if c.is_control() => report.controls += 1,
            '\u{FFFD}' => {
                report.replacement += 1;
                out.push(c);
            }
            '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                // Full-width letters and digits: same character, half-width form.
                out.push(char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap_or(c));
            }
            c => out.push(c),
        }
    }
    out.push_str(&input[run_start..]);
    (out, report)
}

/// Non-ASCII characters [`normalize_chars`] changes, drops or counts.
fn needs_attention(c: char) -> bool {
    matches!(c as u32,
        0x0080..=0x00AD
        | 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F
        | 0x2000..=0x200F | 0x2028..=0x202F | 0x205F..=0x2069
        | 0x1680 | 0x3000 | 0xFEFF | 0xFFFD | 0xFF10..=0xFF19 | 0xFF21..=0xFF3A | 0xFF41..=0xFF5A)
}

/// Decodes the HTML entities converters leave behind (`&amp;`, `&nbsp;`, `&#12290;`, ...).
/// Unknown entities are kept as they are.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        // byte search: `;` is ASCII, so its index is a char boundary
        let end = rest.as_bytes()[..rest.len().min(12)]
            .iter()
            .position(|&b| b == b';');
        let decoded = end.and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" | "ensp" | "emsp" | "thinsp" => Some(' '),
                "mdash" => Some('—'),
                "ndash" => Some('–'),
                "hellip" => Some('…'),
                "middot" => Some('·'),
                "ldquo" => Some('“'),
                "rdquo" => Some('”'),
                "lsquo" => Some('‘'),
                "rsquo" => Some('’'),
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code).filter(|c| !c.is_control() || *c == '\n')
                }
            }?;
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Removes markdown residue from one line: image links (reported), links (text kept),
/// emphasis markers, inline code ticks and inline HTML tags; decodes entities.
/// Returns the cleaned line and whether it held an image.
pub fn strip_inline_markup(line: &str) -> (String, bool) {
    if !line
        .bytes()
        .any(|b| matches!(b, b'!' | b'[' | b'*' | b'`' | b'_' | b'<' | b'&' | b'$'))
    {
        return (line.to_owned(), false);
    }
    let mut had_image = false;
    let mut out = String::with_capacity(line.len());
    let chars: Vec<char> = line.chars().collect();
    // where the next `]` and `)` are: found once, so a run of `[` without `]` stays linear
    let mut brackets = NextOf::new(']');
    let mut parens = NextOf::new(')');
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '!' if chars.get(i + 1) == Some(&'[') => {
                if let Some(end) = link_end(&chars, i + 1, &mut brackets, &mut parens) {
                    had_image = true;
                    i = end;
                    continue;
                }
                out.push(c);
            }
            '[' => {
                if let Some(end) = link_end(&chars, i, &mut brackets, &mut parens) {
                    // keep the link text
                    let close = chars[i..].iter().position(|&c| c == ']').map(|p| p + i);
                    if let Some(close) = close {
                        out.extend(&chars[i + 1..close]);
                    }
                    i = end;
                    continue;
                }
                out.push(c);
            }
            '*' | '`' => {
                // emphasis and code markers: drop unless part of arithmetic like `3 * 4`
                let prev = i.checked_sub(1).map(|p| chars[p]);
                let next = chars.get(i + 1).copied();
                let spaced =
                    prev.is_some_and(char::is_whitespace) && next.is_some_and(char::is_whitespace);
                if spaced && c == '*' {
                    out.push(c);
                }
            }
            '_' if chars.get(i + 1) == Some(&'_') => {
                i += 2;
                continue;
            }
            '<' => {
                if let Some(len) = html_tag_len(&chars[i..]) {
                    i += len;
                    continue;
                }
                out.push(c);
            }
            '$' => {
                // a number a converter set as an inline formula (`$5.2\%$`, `$\$14$`)
                // (the closing sign is not an escaped `\$` inside the formula)
                let close = (i + 1..chars.len().min(i + 1 + MAX_INLINE_MATH))
                    .find(|&k| chars[k] == '$' && chars[k - 1] != '\\');
                let plain = close.and_then(|close| {
                    let inner: String = chars[i + 1..close].iter().collect();
                    inline_math_number(&inner).map(|plain| (close, plain))
                });
                match plain {
                    Some((close, plain)) => {
                        out.push_str(&plain);
                        i = close + 1;
                        continue;
                    }
                    None => out.push(c),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    (decode_entities(&out), had_image)
}

/// The longest inline formula read as a number, in characters between the dollar signs.
const MAX_INLINE_MATH: usize = 60;

/// A number, a percentage, an amount or a measure that a PDF converter (MinerU, marker) set as
/// an inline LaTeX formula, as plain text: `5.2\%` → `5.2%`, `\$14` → `$14`, `2 0 2 5` →
/// `2025`, `3 0 ^ { \circ } \mathrm { C }` → `30°C`. `None` for anything else, so dollar
/// amounts in prose (`$5 and $6`, `$5, $6`) stay as they are: the formula must hold LaTeX (a
/// backslash, a brace, a caret) or digits spaced apart, no letters outside `\mathrm{…}`, and
/// no space just inside its dollar signs.
fn inline_math_number(inner: &str) -> Option<String> {
    if inner.is_empty()
        || inner.starts_with(char::is_whitespace)
        || inner.ends_with(char::is_whitespace)
        || !inner.bytes().any(|b| b.is_ascii_digit())
    {
        return None;
    }
    let spaced_digits = inner
        .as_bytes()
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b' ' && w[2].is_ascii_digit());
    if !(inner.contains(['\\', '{', '^']) || spaced_digits) {
        return None;
    }
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix('\\') {
            let name_len = after
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(after.len());
            let (name, tail) = after.split_at(name_len);
            rest = tail;
            match name {
                "" => {
                    // `\%`, `\$`, and the spacing commands `\,` `\;` `\!` `\ `
                    let sym = rest.chars().next()?;
                    rest = &rest[sym.len_utf8()..];
                    match sym {
                        '%' | '$' | '.' | ',' => out.push(sym),
                        ';' | '!' | ' ' | ':' => {}
                        _ => return None,
                    }
                }
                "circ" => out.push('°'),
                "times" => out.push('×'),
                "sim" => out.push('~'),
                "pm" => out.push('±'),
                "cdot" => out.push('·'),
                "mathrm" | "text" | "mathbf" => {
                    // the unit's letters inside the braces
                    let body = rest.trim_start().strip_prefix('{')?;
                    let end = body.find('}')?;
                    let unit: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
                    if !unit.chars().all(|c| c.is_alphanumeric() || c == '%') {
                        return None;
                    }
                    out.push_str(&unit);
                    rest = &body[end + 1..];
                }
                _ => return None,
            }
            continue;
        }
        rest = &rest[c.len_utf8()..];
        match c {
            '0'..='9' | '.' | ',' | '%' | '+' | '-' | '−' | '/' | ':' => out.push(c),
            '{' | '}' | ' ' => {}
            // a degree sign is the only superscript read (`^ { \circ }`); a power is no number
            '^' if rest.trim_start_matches([' ', '{']).starts_with("\\circ") => {}
            _ => return None,
        }
    }
    Some(out)
}

/// If `chars[open]` starts `[text](target)`, the index just past the `)`.
fn link_end(
    chars: &[char],
    open: usize,
    brackets: &mut NextOf,
    parens: &mut NextOf,
) -> Option<usize> {
    // a link's text and target are short: a `]` or `)` further away does not close it
    let close = brackets
        .at_or_after(chars, open)
        .filter(|&c| c - open <= 2048)?;
    if chars.get(close + 1) != Some(&'(') {
        return None;
    }
    let paren = parens
        .at_or_after(chars, close + 1)
        .filter(|&p| p - close <= 2048)?;
    Some(paren + 1)
}

/// The next position of one character at or after a position. Callers ask with positions
/// that only move forward, so each character of the line is looked at once however often it
/// is asked (a position behind the last one asked searches again, correctly but not cheaply).
struct NextOf {
    target: char,
    /// The last position asked, and the answer: the target's position or the line's length.
    asked: Option<(usize, usize)>,
}

impl NextOf {
    fn new(target: char) -> Self {
        Self {
            target,
            asked: None,
        }
    }

    fn at_or_after(&mut self, chars: &[char], from: usize) -> Option<usize> {
        let found = match self.asked {
            Some((last, found)) if last <= from && from <= found => found,
            _ => chars
                .get(from..)
                .and_then(|rest| rest.iter().position(|&c| c == self.target))
                .map_or(chars.len(), |p| p + from),
        };
        self.asked = Some((from, found));
        (found < chars.len()).then_some(found)
    }
}

/// Length of an HTML tag such as `<br>`, `</span>`, `<img src="...">` at the start of `chars`.
fn html_tag_len(chars: &[char]) -> Option<usize> {
    let first = *chars.get(1)?;
    if !(first.is_ascii_alphabetic() || first == '/') {
        return None;
    }
    let limit = chars.len().min(256);
    let end = chars[..limit].iter().position(|&c| c == '>')?;
    let name: String = chars[1..end]
        .iter()
        .skip_while(|&&c| c == '/')
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    const TAGS: &[&str] = &[
        "br", "p", "span", "div", "sup", "sub", "b", "i", "u", "em", "strong", "img", "a", "font",
        "center", "small", "big", "table", "tr", "td", "th", "tbody", "thead", "h1", "h2", "h3",
        "h4", "h5", "h6", "ul", "ol", "li", "hr", "section", "article", "header", "footer",
    ];
    TAGS.contains(&name.to_ascii_lowercase().as_str())
        .then_some(end + 1)
}

/// Collapses runs of whitespace to one space and trims the ends.
pub fn collapse_ws(s: &str) -> String {
    collapse_ws_cow(s).into_owned()
}

/// [`collapse_ws`] without a copy when the text is already clean (the common case).
pub fn collapse_ws_cow(s: &str) -> std::borrow::Cow<'_, str> {
    // Fast path, one pass over the bytes: most lines have single ASCII spaces only and no
    // space at either end. U+3000, U+1680 and U+0085 are the other whitespace left after
    // normalize_chars.
    let b = s.as_bytes();
    let clean = b.first() != Some(&b' ')
        && b.last() != Some(&b' ')
        && memchr::memchr3(b'\t', b'\n', b'\r', b).is_none()
        && memchr::memchr2(0x0B, 0x0C, b).is_none()
        && !memchr::memchr_iter(b' ', b).any(|k| b.get(k + 1) == Some(&b' '))
        && !memchr::memchr3_iter(0xE3, 0xE1, 0xC2, b).any(|k| {
            matches!(
                b.get(k..k + 3),
                Some([0xE3, 0x80, 0x80] | [0xE1, 0x9A, 0x80])
            ) || matches!(b.get(k..k + 2), Some([0xC2, 0x85]))
        });
    if clean {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Joins the wrapped lines of one paragraph: nothing between CJK characters, one space
/// between Latin words, and a hyphen at a line end followed by a lower-case letter undone
/// (`exam-` + `ple` → `example`). Returns the text and how many hyphens were undone.
pub fn join_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> (String, usize) {
    let mut out = String::new();
    let mut dehyphenated = 0;
    for line in lines {
        let line = collapse_ws_cow(line);
        if line.is_empty() {
            continue;
        }
        if out.is_empty() {
            out.push_str(&line);
            continue;
        }
        let first = line.chars().next().unwrap_or(' ');
        let mut tail = out.chars().rev();
        let last = tail.next().unwrap_or(' ');
        let before_last = tail.next().unwrap_or(' ');
        if last == '-'
            && before_last.is_alphabetic()
            && !is_cjk(before_last)
            && first.is_lowercase()
        {
            out.pop();
            dehyphenated += 1;
        } else if !(is_cjk_like(last) || is_cjk_like(first)) {
            out.push(' ');
        }
        out.push_str(&line);
    }
    (out, dehyphenated)
}

/// Number of Unicode scalar values.
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Rough reading weight of a text: CJK characters count one each, other words count two
/// (an English word carries about as much as two Chinese characters).
pub fn text_weight(s: &str) -> usize {
    let b = s.as_bytes();
    let mut weight = 0;
    let mut in_word = false;
    let mut i = 0;
    while i < b.len() {
        let x = b[i];
        if x < 0x80 {
            if x.is_ascii_alphanumeric() {
                if !in_word {
                    weight += 2;
                }
                in_word = true;
            } else {
                in_word = false;
            }
            i += 1;
            continue;
        }
        // CJK unified ideographs (lead bytes E4..E9) without decoding
        if (0xE4..=0xE9).contains(&x) {
            weight += 1;
            in_word = false;
            i += 3;
            continue;
        }
        let Some(c) = s[i..].chars().next() else {
            break;
        };
        i += c.len_utf8();
        if is_cjk(c) {
            weight += 1;
            in_word = false;
        } else if !is_cjk_punct(c) && c.is_alphanumeric() {
            if !in_word {
                weight += 2;
            }
            in_word = true;
        } else {
            in_word = false;
        }
    }
    weight
}

/// Does the text end like a sentence (a full stop rather than a headline's open end)?
pub fn ends_sentence(s: &str) -> bool {
    let s = s.trim_end_matches(['”', '"', '’', '\'', ')', '）', '」', '』']);
    s.ends_with(['。', '.', '!', '！', ';', '；', '…', ':', '：', ','])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_letters_and_digits_become_half_width_but_punctuation_stays() {
        let (s, _) = normalize_chars("ＡＢＣ１２３，（）：");
        assert_eq!(s, "ABC123，（）：");
    }

    #[test]
    fn invisible_and_control_characters_are_removed_and_counted() {
        let (s, r) = normalize_chars("\u{FEFF}a\u{200B}b\u{0007}c\u{202E}d\r\ne\rf");
        assert_eq!(s, "abcd\ne\nf");
        assert_eq!((r.zero_width, r.controls, r.bidi), (2, 1, 1));
    }

    #[test]
    fn combining_storms_are_trimmed() {
        let storm = format!("e{}", "\u{0301}".repeat(50));
        let (s, r) = normalize_chars(&storm);
        assert_eq!(s.chars().count(), 1 + MAX_COMBINING);
        assert_eq!(r.combining, 50 - MAX_COMBINING);
    }

    #[test]
    fn lines_join_without_space_in_cjk_and_with_space_in_latin() {
        assert_eq!(join_lines(["包头", "日报"]).0, "包头日报");
        assert_eq!(
            join_lines(["the quick", "brown fox"]).0,
            "the quick brown fox"
        );
        assert_eq!(
            join_lines(["an exam-", "ple here"]),
            ("an example here".into(), 1)
        );
        assert_eq!(join_lines(["well-", "Known"]).0, "well- Known");
    }

    #[test]
    fn markdown_residue_is_removed() {
        let (s, img) =
            strip_inline_markup("**粗体** and *em* ![](images/a.jpg) [link](http://x) &amp; <br>");
        assert_eq!(collapse_ws(&s), "粗体 and em link &");
        assert!(img);
    }

    #[test]
    fn numbers_a_converter_set_as_inline_formulas_are_plain_text() {
        let plain = |s: &str| strip_inline_markup(s).0;
        assert_eq!(plain("增长$5.2\\%$，高于预期"), "增长5.2%，高于预期");
        assert_eq!(plain("costs $\\$14$ million"), "costs $14 million");
        assert_eq!(plain("于$2 0 2 5$年"), "于2025年");
        assert_eq!(plain("气温$3 0 ^ { \\circ } \\mathrm { C }$"), "气温30°C");
        assert_eq!(plain("fell $-8\\%$ in May"), "fell -8% in May");
        // dollar amounts in prose, a power, a real formula: as they are
        for prose in [
            "between $5 and $6 a pound",
            "raised $5, $6 and $7",
            "a grant of $10^{6}$",
            "where $x + y$ holds",
            "$ 5 $",
        ] {
            assert_eq!(plain(prose), prose);
        }
        // a long run of dollar signs stays linear
        let many = "$".repeat(100_000);
        assert_eq!(plain(&many), many);
    }

    #[test]
    fn entities_decode_numeric_and_named() {
        assert_eq!(
            decode_entities("&#12290;&#x4E2D;&nbsp;&bogus;&"),
            "。中 &bogus;&"
        );
    }
}
