//! Page furniture: masthead and colophon lines (国内统一刊号 CN 15-0072, ISSN, 主办), page
//! lines (`2025年7月10日 星期四 第01版`, `A6 THURSDAY, JULY 10, 2025 THE DAILY`), editor lines
//! (本版责编：X 校对：Y). Page metadata, never article text.

use std::sync::LazyLock;

use regex::Regex;

use crate::proto::{Credit, CreditRole};

/// What a furniture line is.
#[derive(Debug, Clone, PartialEq)]
pub enum Furniture {
    /// A serial number (`CN 15-0072`), with the line as printed.
    Serial(String),
    /// An ISSN (`ISSN 1234-5678`).
    Issn(String),
    /// The publisher (包头日报社 from `包头日报社主办`).
    Publisher(String),
    /// Editor, proofreader and designer credits of the page.
    Editors(Vec<Credit>),
    /// Any other masthead, colophon, running head or page line, kept as printed.
    Line,
}

/// A word or shape that every furniture pattern below needs: a cheap first test.
static CUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"CN|SSN|ssn|专栏|主办|出版|星期|周[一二三四五六日天]|版|农历|期|今日|号|址|编|辑部|电话|许可|热线|价|印刷|社\s*长|天气|内部|保存|来源|字号|评论|收藏|纠错|字体|二维码|点击查看|关注|打印|分享|关闭|^[本责编校美组审终二值制排]|^[A-Za-z0-9$©]|https?://|www\.")
        .expect("valid regex")
});
static SERIAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"CN\s*([0-9]{2})\s*[-－—–]\s*([0-9]{4})(?:\s*/\s*([A-Z0-9]{1,4}))?")
        .expect("valid regex")
});
static ISSN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)ISSN\s*[:：]?\s*([0-9]{4})\s*[-－—–]\s*([0-9]{3}[0-9X])").expect("valid regex")
});
static PUBLISHER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:主办(?:单位)?[:：]\s*([\p{Han}（）()·]{2,24})|([\p{Han}（）()·]{2,24}?)\s*(?:主办|主管主办|出版)(?:\s*出版)?)$").expect("valid regex")
});
static EDITOR_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(本版)?(责任编辑|责任校对|责编|编辑|校对|美编|美术编辑|组版|版式|版式设计|审读|审校|终审|二审|值班主任|制图|排版)\s*[:：]?\s*").expect("valid regex")
});
/// Page lines: a date with weekday or a page number in 第N版 form.
static ZH_PAGE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:[0-9]{4}\s*年\s*[0-9]{1,2}\s*月\s*[0-9]{1,2}\s*日\s*(?:星期|周)[一二三四五六日天])|(?:^|\s)第\s*[0-9A-Z]{1,4}\s*版(?:\s|$)|农历\p{Han}{2,4}年|^[A-Z]?[0-9]{1,3}\s*版?\s*$|^\s*第[0-9一二三四五六七八九十百]{1,6}期|^今日\s*[0-9]{1,3}\s*版|^星期[一二三四五六日天]$|^[A-Z]?[0-9]{1,3}\s*版?\s+\p{Han}{2,4}$|(?:本期|共)\s*[0-9一二三四五六七八]{1,2}\s*版|^[0-9]{4}\s*年\s*[0-9]{1,2}\s*月\s*[0-9]{1,2}\s*日\s*\p{Han}{0,10}第\s*[0-9A-Z]{1,4}\s*版$")
        .expect("valid regex")
});
/// The separators of archived page texts: `第1版()`, `专栏:`, `第1版()专栏:评论`.
static SEPARATOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:第\s*[0-9A-Z]{1,4}\s*版\s*[(（][^)）]{0,20}[)）]\s*)?(?:专栏\s*[:：].{0,20})?$",
    )
    .expect("valid regex")
});
static EN_PAGE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:[A-Z]?[0-9]{1,3}\s*[|·•]?\s*)?(?:.{0,40}(?-u:\b))?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday),?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+[0-9]{1,2},?\s+[0-9]{4}(?:\s*[|·•]?\s*.{0,40})?$|^(?:page|pg\.?)\s*[A-Z]?[0-9]{1,3}(?:\s+[0-9]{1,3})?$|^[A-Z][0-9]{1,2}$|^(?-i:[A-Z][A-Z .'&]{2,40})\s*[-–—]\s*page\s*[0-9]{1,3}$|^(?:[A-Z][A-Za-z0-9 ,.()'-]{0,30}\s)?page\s*[0-9]{1,3}\s*[-–—]\s*(?-i:[A-Z][A-Z .'&]{2,40})$")
        .expect("valid regex")
});
static COLOPHON_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"国内统一刊号|国际标准连续出版物号|邮发代号|社\s*址|地\s*址[:：]|邮\s*编[:：]|广告经营许可证|发行热线|订阅热线|新闻热线|广告热线|零售价|定\s*价[:：]|印刷[:：]|本报地址|总编辑[:：]|社\s*长[:：]|^天气[:：]|电话[:：]?\s*[0-9]{5,}|[路街巷]\s*[0-9]+\s*[弄号]|^[^，。,.:：]{0,16}(?:编.部|辑部)(?:合办|主办)?$|^[★☆*\s]*(?:内部参考|内部资料|内部刊物|内部文件|注意保存|仅供参考)[★☆*\s]*$")
        .expect("valid regex")
});
static EN_COLOPHON: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:https?://|www\.)\S+$|(?i:all rights reserved|^©|copyright ©|postmaster:|subscription rates|periodicals postage|^vol\.?\s+[ivxlcdm0-9]+(?-u:\b)|^no\.\s*[0-9,]+$|^\$[0-9]+(?:\.[0-9]{2})?$|^(?:late|final|early|city|national|metro|home|sunday)\s+edition$|^(?:today|tonight|tomorrow)[,:]\s.{0,60}(?-u:\b)(?:high|low)\s+[0-9]{1,3})")
        .expect("valid regex")
});

/// Classifies one line as page furniture, or `None` when it may be article text.
/// `page_name` is the page's name (版名): a line that is just the name is a running head.
pub fn classify(line: &str, page_name: &str) -> Option<Furniture> {
    let line = line.trim();
    let n = line.chars().count();
    if n == 0 || n > 120 {
        return None;
    }
    // Every rule below needs a line of 100 characters or fewer, except a serial number on a
    // line that names it (`国内统一刊号`) and the page's own name: a paragraph line skips the
    // cue search.
    if n > 100 && !line.contains("刊号") && line != page_name {
        return None;
    }
    if n <= 10 && decorated_folio(line) {
        return Some(Furniture::Line);
    }
    // One pass for every word a furniture line can hold; most article lines stop here.
    if !(CUE.is_match(line) || (!page_name.is_empty() && line == page_name)) {
        return None;
    }
    let serial = if line.contains("CN") {
        SERIAL.captures(line)
    } else {
        None
    };
    if let Some(c) = serial {
        let mut serial = format!("CN {}-{}", &c[1], &c[2]);
        if let Some(suffix) = c.get(3) {
            serial.push('/');
            serial.push_str(suffix.as_str());
        }
        if line.contains("刊号") || n <= 30 {
            return Some(Furniture::Serial(serial));
        }
    }
    let issn = if line.contains("SSN") || line.contains("ssn") {
        ISSN.captures(line)
    } else {
        None
    };
    if let Some(c) = issn {
        if n <= 40 {
            return Some(Furniture::Issn(format!("ISSN {}-{}", &c[1], &c[2])));
        }
    }
    if n <= 30 && (line.contains("主办") || line.contains("出版")) {
        if let Some(c) = PUBLISHER.captures(line) {
            let name = c.get(1).or(c.get(2)).map_or("", |m| m.as_str());
            if name.chars().count() >= 2 {
                return Some(Furniture::Publisher(name.to_owned()));
            }
        }
    }
    let editor_start = line.starts_with([
        '本', '责', '编', '校', '美', '组', '版', '审', '终', '二', '值', '制', '排',
    ]);
    if n <= 80 && editor_start {
        if let Some(editors) = editor_line(line) {
            return Some(Furniture::Editors(editors));
        }
    }
    // a news site's row of article tools copied with the text: `字号+作者:人民日报
    // 来源:人民日报 2001-06-28 19:00 评论(创建话题) 收藏成功收藏本文`
    if n <= 100 && !line.is_ascii() && web_tools_row(line) {
        return Some(Furniture::Line);
    }
    if web_widget_line(line, n) {
        return Some(Furniture::Line);
    }
    let page_line_cue = line.contains(['星', '周', '版', '农', '期', '栏'])
        || line
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphanumeric);
    if (n <= 40 && line.contains(['版', '栏']) && SEPARATOR.is_match(line))
        || (n <= 60
            && page_line_cue
            && ZH_PAGE_LINE.is_match(line)
            && !crate::parse::text::ends_sentence(line))
        || (n <= 100 && line.is_ascii() && EN_PAGE_LINE.is_match(line) && !date_in_text(line))
        || (n <= 80
            && line.contains([
                '号', '址', '编', '许', '线', '价', '印', '长', '天', '话', '部', '存', '考',
            ])
            && COLOPHON_WORDS.is_match(line))
        || (n <= 80
            && line.as_bytes().first().is_some_and(u8::is_ascii)
            && EN_COLOPHON.is_match(line))
        || (!page_name.is_empty() && line == page_name)
    {
        return Some(Furniture::Line);
    }
    None
}

/// A page number set between ornaments, as small papers print it at the head of a page:
/// `·3·`, `— 12 —`, `·3.` as OCR reads it. A number alone or with only a full stop after it
/// (`3.`) may be a list's number, so an ornament must come first; ASCII hyphens around a digit
/// (`-5-`) are as often specks of English OCR, so they do not count.
fn decorated_folio(line: &str) -> bool {
    const ORNAMENTS: [char; 4] = ['·', '•', '—', '－'];
    let Some(rest) = line.strip_prefix(ORNAMENTS) else {
        return false;
    };
    let rest = rest.trim_start();
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    (1..=3).contains(&digits)
        && rest[digits..]
            .chars()
            .all(|c| c == ' ' || c == '.' || ORNAMENTS.contains(&c))
}

/// A date that a sentence goes on after (`On Friday, May 5, 1916, the owner said`): after its
/// year come words in lower case, where a page line has the paper's name or nothing.
fn date_in_text(line: &str) -> bool {
    let b = line.as_bytes();
    let Some(end) = (4..=b.len())
        .rev()
        .find(|&e| b[e - 4..e].iter().all(u8::is_ascii_digit))
    else {
        return false;
    };
    let tail = &line[end..];
    let lower = tail
        .split_whitespace()
        .filter(|w| w.starts_with(|c: char| c.is_ascii_lowercase()))
        .count();
    (tail.trim_start().starts_with(',') && lower >= 1) || lower >= 2
}

/// A row of a news site's article tools: two or more of its words (来源:, 作者:, 字号, 评论,
/// 收藏, 分享, 打印, 浏览), one of them the source, the author or the type size, on one line
/// with no sentence in it.
fn web_tools_row(line: &str) -> bool {
    const TOOLS: [&str; 10] = [
        "来源:",
        "来源：",
        "作者:",
        "作者：",
        "字号",
        "评论",
        "收藏",
        "分享到",
        "打印",
        "浏览",
    ];
    let tools = TOOLS.iter().filter(|w| line.contains(*w)).count();
    // or the source with the time of posting: `2019-12-10 07:57:40 来源：新华网`
    let posted = tools == 1 && line.chars().count() <= 60 && posting_time(line);
    !line.contains('。') && (tools >= 2 || posted) && TOOLS[..5].iter().any(|w| line.contains(*w))
}

/// Does the line hold a posting time, `2019-12-10 07:57` (seconds optional)?
fn posting_time(line: &str) -> bool {
    let b = line.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    (0..b.len().saturating_sub(15)).any(|i| {
        digits(i..i + 4)
            && b[i + 4] == b'-'
            && digits(i + 5..i + 7)
            && b[i + 7] == b'-'
            && digits(i + 8..i + 10)
            && b[i + 10] == b' '
            && digits(i + 11..i + 13)
            && b[i + 13] == b':'
            && digits(i + 14..i + 16)
    })
}

/// A news site's widget label copied with the article's text: `评论`, `【纠错】`, `调整字体`,
/// `关注新华网`, `扫二维码上移动长江网`, `点击查看高清原图`.
fn web_widget_line(line: &str, n: usize) -> bool {
    const LABELS: [&str; 8] = [
        "评论",
        "纠错",
        "【纠错】",
        "调整字体",
        "打印",
        "分享",
        "关闭窗口",
        "打印本页",
    ];
    n <= 20
        && (LABELS.contains(&line)
            || (line.starts_with("关注") && n <= 8 && line.ends_with(['网', '号']))
            || (line.contains("二维码") && !line.contains(['。', '，']))
            || (line.starts_with("点击查看") && n <= 12))
}

/// `本版责编：李华 校对：张三` → editor credits; `None` unless the whole line is such credits.
fn editor_line(line: &str) -> Option<Vec<Credit>> {
    let mut credits = Vec::new();
    let mut matches = EDITOR_WORD.find_iter(line).peekable();
    let first = matches.peek()?;
    if first.start() != 0 {
        return None;
    }
    let found: Vec<_> = EDITOR_WORD.find_iter(line).collect();
    for (i, m) in found.iter().enumerate() {
        let end = found.get(i + 1).map_or(line.len(), |next| next.start());
        let names = line[m.end()..end].trim();
        if names.is_empty() {
            return None;
        }
        for name in names
            .split(|c: char| c.is_whitespace() || matches!(c, '、' | '，' | ',' | '　'))
            .filter(|s| !s.is_empty())
        {
            let ok = (1..=5).contains(&name.chars().count())
                && name
                    .chars()
                    .all(|c| crate::parse::text::is_cjk(c) || c == '·');
            if !ok {
                return None;
            }
            credits.push(Credit {
                name: name.to_owned(),
                role: CreditRole::Editor as i32,
                text: line.to_owned(),
            });
        }
    }
    (!credits.is_empty()).then_some(credits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_number_between_ornaments_is_a_folio() {
        for line in ["·3·", "·3.", "— 12 —", "－4－", "•7"] {
            assert_eq!(classify(line, ""), Some(Furniture::Line), "{line}");
        }
        for line in ["3.", "-5-", "·3·个", "—2024—"] {
            assert_eq!(classify(line, ""), None, "{line}");
        }
    }

    #[test]
    fn masthead_lines() {
        assert_eq!(
            classify("国内统一刊号:CN 15-0072", ""),
            Some(Furniture::Serial("CN 15-0072".into()))
        );
        assert_eq!(
            classify("CN15－0072", ""),
            Some(Furniture::Serial("CN 15-0072".into()))
        );
        assert_eq!(
            classify("包头日报社主办", ""),
            Some(Furniture::Publisher("包头日报社".into()))
        );
        assert_eq!(
            classify("主办：人民日报社", ""),
            Some(Furniture::Publisher("人民日报社".into()))
        );
        assert_eq!(
            classify("ISSN 1234-567X", ""),
            Some(Furniture::Issn("ISSN 1234-567X".into()))
        );
    }

    #[test]
    fn page_and_editor_lines() {
        assert_eq!(
            classify("2025年7月10日 星期四 第01版", ""),
            Some(Furniture::Line)
        );
        assert_eq!(
            classify("A6 THURSDAY, JULY 10, 2025 THE DAILY HERALD", ""),
            Some(Furniture::Line)
        );
        let Some(Furniture::Editors(e)) = classify("本版责编：李华 校对：张三", "")
        else {
            panic!("editor line")
        };
        assert_eq!(
            e.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            vec!["李华", "张三"]
        );
        assert_eq!(classify("要闻", "要闻"), Some(Furniture::Line));
        // a magazine's running head: its name and the page joined by a dash
        for line in [
            "THE WORLD REVIEW-Page 4",
            "MARCH 1948 Page 5-THE WORLD REVIEW",
        ] {
            assert_eq!(classify(line, ""), Some(Furniture::Line), "{line}");
        }
        assert_eq!(classify("(continued on Page 8.)", ""), None);
        // a date in running text is no page line
        assert_eq!(classify("On Friday, May 5, 1916, the owner said", ""), None);
        assert_eq!(
            classify("Friday, May 5, 1916 and the rest of the week", ""),
            None
        );
        assert_eq!(classify("Turn to the story-page 4", ""), None);
    }

    #[test]
    fn a_tabloids_masthead_and_colophon_lines() {
        for line in [
            "1967年8月24日 本期4版",
            "共四版",
            "《红旗快报》编辑部合办",
            "某某中学《东方红》编辑部",
            "发行组：电话562375",
            "本刊编辑部 某市人民路727弄19号",
        ] {
            assert_eq!(classify(line, ""), Some(Furniture::Line), "{line}");
        }
        // an internal bulletin's marks
        for line in ["★内部参考", "注意保存★"] {
            assert_eq!(classify(line, ""), Some(Furniture::Line), "{line}");
        }
        // text that names an editorial office or a street is not furniture
        for line in [
            "编辑部的同志们到工厂去了",
            "他住在人民路上，每天走路去上班。",
        ] {
            assert_eq!(classify(line, ""), None, "{line}");
        }
    }

    #[test]
    fn a_news_sites_header_copied_with_the_page() {
        for line in [
            "2003年5月6日晨报第4版",
            "字号+ 作者:晨报 来源:晨报 2003-05-06 08:00 评论(0) 收藏本文",
            "来源：本报 浏览 1200 次 打印",
        ] {
            assert_eq!(classify(line, ""), Some(Furniture::Line), "{line}");
        }
        for line in [
            "记者从评论区收到读者来信。",
            "2003年5月6日，晨报第4版刊登了一篇来信",
            "读者可以收藏这份评论",
        ] {
            assert_eq!(classify(line, ""), None, "{line}");
        }
    }

    #[test]
    fn a_news_sites_posting_row_and_widget_labels_are_furniture() {
        for line in [
            "2024-03-05 08:12:30 来源：某某网",
            "2024-03-05 08:12 来源: 某某日报",
            "【纠错】",
            "调整字体",
            "关注某某网",
            "扫二维码上移动某某网",
            "点击查看高清原图",
        ] {
            assert_eq!(classify(line, ""), Some(Furniture::Line), "{line}");
        }
        for line in [
            "来源：某某网的消息称，今年的展会将于2024-03-05 08:12开幕。",
            "评论员文章：把实事办到群众心坎上",
            "关注民生，办好实事",
        ] {
            assert_eq!(classify(line, ""), None, "{line}");
        }
    }

    #[test]
    fn article_text_is_not_furniture() {
        assert_eq!(classify("据介绍，编辑部今年共编辑稿件三千篇。", ""), None);
        assert_eq!(
            classify("2025年7月9日下午，中国航天员科研训练中心举行见面会。", ""),
            None
        );
        assert_eq!(classify("艺术盛会 与你共赴", ""), None);
    }
}
