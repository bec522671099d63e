//! Credits and datelines: （据新华社）, 新华社北京7月9日电, 本报讯（记者 X）, 记者 X 摄, X/摄,
//! By NAME, Associated Press, WASHINGTON (AP) —.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use regex::Regex;

use crate::proto::{Credit, CreditRole};

/// `（据新华社）`, `(新华社电)`, `（来源：人民日报）`, `（本报综合）` — a whole-line or
/// paragraph-final agency attribution.
static AGENCY_PAREN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[（(]\s*(?:据|来源[:：]?|稿源[:：]?|转自|综合)?\s*([\p{Han}A-Za-z·、，, ]{2,30}?)\s*(?:电|消息|报道|综合|客户端电)?\s*[)）]\s*$")
        .expect("valid regex")
});

/// A Chinese dateline at the start of a paragraph: 【新华社北京9月14日电】, 新华社北京7月9日电,
/// 本报北京7月9日电, 本报讯, 据新华社24日讯 (the day alone), optionally followed by
/// （记者 X 通讯员 Y）.
static ZH_DATELINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^[【\[]?\s*据?\s*(新华社|中新社|中新网|本报|人民网|新华网|央视网|光明网|中国日报网?|经济日报|\p{Han}{2,6}社|\p{Han}{2,4}网)\s*(\p{Han}{0,10}?)\s*((?:(?:[0-9]{1,2}|[一二三四五六七八九十]{1,3})月)?(?:[0-9]{1,2}|[一二三四五六七八九十]{1,3})日)?\s*(电|讯|消息)\s*[】\]]?\s*(?:[（(]([^）)]{1,60})[)）])?\s*[:：]?\s*",
    )
    .expect("valid regex")
});

/// The reporters named after a Chinese dateline: `记者王海涛报道:`, `新华社记者甲、本报记者乙报道：`.
static ZH_REPORTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[\s　]*(\p{Han}{0,4}(?:记者|通讯员)[^:：。，,；]{2,40}?)\s*报道\s*[:：]\s*")
        .expect("valid regex")
});

/// An English dateline: `WASHINGTON (AP) — `, `BEIJING, July 9 (Reuters) - `, `LONDON — `.
static EN_DATELINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([A-Z][A-Z .,'’-]{1,40}?(?:,\s*[A-Z][a-z]{1,8}\.?(?:\s+[0-9]{1,2})?)?)\s*(?:\((AP|Reuters|AFP|Bloomberg|Xinhua|UPI|dpa|CNN)\)\s*)?[—–-]{1,2}\s+")
        .expect("valid regex")
});

/// An English dateline as papers set it before the wire dash became the rule: the place in
/// capitals, maybe a state, then the month and the day, OCR damage and all
/// (`LONDON, July 26. Pozieres…`, `AUSTIN, Tex., March 13 Arguments…`, `WASHINGTON". Mar. IS.
/// Seven…`, `NEW YORK, January 1.?Mrs.…`). The month is what makes it one.
static EN_OLD_DATELINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^([A-Z][A-Z'’. -]{2,30}?)["”']?[,.]\s*(?:[A-Z][a-z]{1,5}\.,?\s+)?(January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Aug|Sept|Sep|Oct|Nov|Dec)\.?,?\s+[0-9IlSsOoi:?!]{1,3}(?:\s*[.,:?]+)?\s*(?:[—–-]+\s*)?"#)
        .expect("valid regex")
});

/// `By NAME[, NAME and NAME]`, optionally followed by a title or agency.
static EN_BYLINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?i:by|hy|bv|8y):?\s+([A-Z][\p{L}.'’-]*(?:\s+[A-Z][\p{L}.'’-]*){0,3}(?:\s*(?:,|and|&)\s*[A-Z][\p{L}.'’-]*(?:\s+[A-Z][\p{L}.'’-]*){0,3})*)\s*(?:[,|/]\s*(.{2,60}))?$")
        .expect("valid regex")
});

/// A whole line naming an agency alone.
static EN_AGENCY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?i)(?:the\s+)?(associated press|reuters|agence france-presse|afp|bloomberg news|bloomberg|xinhua news agency|xinhua|united press international|the new york times|the washington post)\.?$")
        .expect("valid regex")
});

/// The title line under an English byline: `Staff Writer`, `Herald Staff Writers`.
static EN_CREDIT_TITLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:[A-Z][\w.'’-]*\s+){0,3}(?:staff\s+(?:writer|reporter|photographer)s?|(?:special\s+|foreign\s+)?correspondents?|contributing\s+writers?|for\s+the\s+([A-Z][\w ]{2,}))$")
        .expect("valid regex")
});

/// English photo credits: `Photo by NAME`, `NAME/Staff Photographer`, `(AP Photo/NAME)`.
/// The name's length (at most 51 characters) is checked after the match: a counted repetition
/// of a Unicode class compiles one copy of the class per count (megabytes of automaton).
static EN_PHOTO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[(\[]?\s*(?:(?:staff\s+)?photo(?:graph)?s?\s*(?:by|:)\s*([A-Z][\p{L}.'’ -]*?)(?:\s*/\s*[A-Z][\p{L}.'’ -]{1,40})?|(?:ap|reuters|afp|getty images)\s+photo\s*/\s*([\p{L}.'’ -]{2,}?)|([A-Z][\p{L}.'’ -]*?)\s*/\s*(?:staff\s+photographer|the associated press|associated press|getty images|reuters|ap|afp|the new york times))\s*[)\]]?$")
        .expect("valid regex")
});

/// A photo credit naming its agency or calling itself a photo report.
static PHOTO_TAGGED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([\p{Han}·、 　]{2,24}?)\s*(?:摄影报道|摄)\s*(?:[（(][\p{Han}]{2,8}[)）])?$")
        .expect("valid regex")
});

/// A dateline that is the whole text (an article's closing line): the agency as a credit.
fn closing_dateline(text: &str) -> Option<Vec<Credit>> {
    if !(text.ends_with('电') || text.ends_with('讯')) {
        return None;
    }
    let caps = ZH_DATELINE.captures(text)?;
    let whole = caps.get(0)?;
    if whole.end() != text.len() || caps.get(5).is_some() {
        return None;
    }
    let kind = &caps[4];
    let has_place_or_date = !caps[2].is_empty() || caps.get(3).is_some();
    (kind != "消息" && (kind == "讯" || has_place_or_date))
        .then(|| vec![credit(&caps[1], CreditRole::Agency, text.trim())])
}

/// A closing dateline followed by the reporters' byline, the way a reprinted agency story
/// ends: `新华社北京1月21日电  记者梅某、梅某某  参与采写：张某、李某`. The dateline gives
/// the agency, the byline its reporters (and contributors, as correspondents).
fn closing_dateline_with_byline(inner: &str, text: &str) -> Option<Vec<Credit>> {
    if !inner.contains("记者") {
        return None;
    }
    let cut = inner
        .char_indices()
        .filter(|&(_, c)| c == '电' || c == '讯')
        .map(|(i, c)| i + c.len_utf8())
        .find(|&i| inner[i..].starts_with(char::is_whitespace))?;
    let mut credits = closing_dateline(inner[..cut].trim())?;
    credits.extend(zh_byline(&inner[cut..], text)?);
    for c in &mut credits {
        text.trim().clone_into(&mut c.text);
    }
    Some(credits)
}

/// A photographer's name in capitals, a slash and the paper or agency in title case.
static EN_NAME_SLASH_PAPER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^([A-Z][A-Z.'’-]+(?: [A-Z][A-Z.'’-]+){1,3})\s*/\s*[A-Z][a-z]+(?: [A-Z][a-z]+){0,3}$",
    )
    .expect("valid regex")
});

/// The words an English credit line needs, one bit per group (title, agency, photo), found in
/// one case-insensitive pass: each English pattern below runs only on lines holding its words.
static EN_CUES: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(EN_CUE_WORDS.iter().map(|(w, _)| w))
        .expect("static cue words")
});
const EN_CUE_TITLE: u8 = 1;
const EN_CUE_AGENCY: u8 = 2;
const EN_CUE_PHOTO: u8 = 4;
const EN_CUE_WORDS: [(&str, u8); 14] = [
    ("staff", EN_CUE_TITLE),
    ("correspondent", EN_CUE_TITLE),
    ("contributing", EN_CUE_TITLE),
    ("for the", EN_CUE_TITLE),
    ("press", EN_CUE_AGENCY),
    ("reuters", EN_CUE_AGENCY),
    ("afp", EN_CUE_AGENCY),
    ("bloomberg", EN_CUE_AGENCY),
    ("xinhua", EN_CUE_AGENCY),
    ("international", EN_CUE_AGENCY),
    ("times", EN_CUE_AGENCY),
    ("post", EN_CUE_AGENCY),
    ("photo", EN_CUE_PHOTO),
    ("/", EN_CUE_PHOTO),
];

fn en_cues(text: &str) -> u8 {
    EN_CUES
        .find_overlapping_iter(text)
        .fold(0, |bits, m| bits | EN_CUE_WORDS[m.pattern().as_usize()].1)
}

/// `Staff Writer` as OCR damages it: two words, the first five or six characters starting
/// like `St`, the second starting with `W` and five to seven long (`Steff Writer`,
/// `8t«H Writer`, `SteH Wrtlw`, `St>M WrlUf`).
fn garbled_staff_writer(line: &str) -> bool {
    if !line.starts_with(['S', 's', '8', '$', '5']) || line.len() > 24 {
        return false;
    }
    let mut words = line.split_whitespace();
    let (Some(first), Some(second), None) = (words.next(), words.next(), words.next()) else {
        return false;
    };
    let n1 = first.chars().count();
    let n2 = second.chars().count();
    let mut c = first.chars();
    let starts = matches!(c.next(), Some('S' | 's' | '8' | '$' | '5'))
        && matches!(c.next(), Some('t' | 'l' | 'i'));
    starts
        && (4..=6).contains(&n1)
        && second.starts_with(['W', 'w'])
        && (5..=7).contains(&n2)
        && (second.contains("rit")
            || second.contains("rt")
            || second.contains("rl")
            || second.ends_with("er"))
}

/// What a credit line yielded.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CreditLine {
    /// The credits, in print order.
    pub credits: Vec<Credit>,
}

fn credit(name: &str, role: CreditRole, text: &str) -> Credit {
    Credit {
        name: name.trim().to_owned(),
        role: role as i32,
        text: text.trim().to_owned(),
    }
}

/// Is `s` a plausible Chinese personal name (2–5 Han characters, or with a middle dot)?
fn is_zh_name(s: &str) -> bool {
    let n = s.chars().count();
    (2..=5).contains(&n) && s.chars().all(crate::parse::text::is_cjk)
        || (n <= 12
            && s.contains('·')
            && s.chars().all(|c| c == '·' || crate::parse::text::is_cjk(c)))
}

/// Common Chinese surnames (the single-character ones that cover nearly all of the population).
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由光";

/// Compound surnames.
const COMPOUND_SURNAMES: [&str; 14] = [
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "令狐",
];

/// Does the name start with a common Chinese surname?
fn has_surname(name: &str) -> bool {
    COMPOUND_SURNAMES.iter().any(|s| name.starts_with(s))
        || name.chars().next().is_some_and(|c| SURNAMES.contains(c))
}

/// A line that is only an author's name, as printed under the title of a poem, an essay or a
/// foreign contributor's piece: `郭沫若`, `〔越南〕 范能洪`, `〔阿尔巴尼亚〕阿列克斯·恰奇`, `张三 李四`.
/// Whether it is an author depends on where it stands (under a title, over the text), which
/// the caller checks; this reads the shape only: one to three names of two or three Han
/// characters that start with a common surname (any length with a middle dot, or after a
/// bracketed country).
pub fn author_line(line: &str) -> Option<Vec<Credit>> {
    let text = line.trim();
    // a name set between middle dots, as literary pages print it (`·毛毛·`)
    let text = text
        .strip_prefix(['·', '•'])
        .and_then(|t| t.strip_suffix(['·', '•']))
        .map_or(text, str::trim);
    let (country, names) = match text.strip_prefix(['〔', '[', '［']) {
        Some(rest) => {
            let close = rest.find(['〕', ']', '］'])?;
            let country = &rest[..close];
            if !(1..=8).contains(&country.chars().count())
                || !country.chars().all(crate::parse::text::is_cjk)
            {
                return None;
            }
            (
                true,
                rest[close..].trim_start_matches(['〕', ']', '］']).trim(),
            )
        }
        None => (false, text),
    };
    let names: Vec<&str> = names
        .split(|c: char| c.is_whitespace() || c == '、')
        .filter(|t| !t.is_empty())
        .collect();
    let ok = |n: &str| {
        let len = n.chars().count();
        if n.contains('·') || country {
            is_zh_name(n)
        } else {
            n.chars().all(crate::parse::text::is_cjk)
                && has_surname(n)
                && (len == 2
                    || len == 3
                    || (len == 4 && COMPOUND_SURNAMES.iter().any(|s| n.starts_with(s))))
        }
    };
    if names.is_empty() || names.len() > 3 || !names.iter().all(|n| ok(n)) {
        return None;
    }
    Some(
        names
            .iter()
            .map(|n| credit(n, CreditRole::Reporter, text))
            .collect(),
    )
}

/// A writer's pen name alone on a line (`飞舟`, `司马文`): two or three Han characters with no
/// known surname, which are not a column or genre label (`短评`, `述评`) or an agency. Only a
/// line set between a title and its text is read so ([`super::blocks`] decides that).
pub fn pen_name_line(line: &str) -> Option<Vec<Credit>> {
    const LABELS: &[&str] = &[
        "社论",
        "短评",
        "评论",
        "述评",
        "综述",
        "专访",
        "特写",
        "通讯",
        "简讯",
        "消息",
        "来信",
        "调查",
        "随笔",
        "杂谈",
        "札记",
        "漫画",
        "图片",
        "新闻",
        "专稿",
        "特稿",
        "连载",
        "附记",
        "按语",
        "编者按",
        "本报讯",
        "新华社",
        "续完",
        "待续",
        "快讯",
        "时评",
        "国际",
        "要闻",
    ];
    let t = line.trim();
    let n = t.chars().count();
    let plain = (2..=3).contains(&n)
        && t.chars().all(crate::parse::text::is_cjk)
        && !t
            .chars()
            .any(|c| "一二三四五六七八九十上下续完".contains(c))
        && !LABELS.iter().any(|l| t == *l || t.ends_with(l))
        && !t.ends_with(['社', '报', '讯', '电', '评', '论', '稿', '办', '编', '印']);
    plain.then(|| vec![credit(t, CreditRole::Reporter, t)])
}

/// Splits a run of names separated by spaces, 、 or ，.
fn zh_names(s: &str) -> Option<Vec<String>> {
    let tokens: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || matches!(c, '、' | '，' | ',' | '　'))
        .filter(|t| !t.is_empty())
        .collect();
    // Typesetters pad a two-character name to the width of a three-character one
    // (`朱  磊  饶庆平`, `雷  声`): two single characters in a row are one name.
    let mut names: Vec<String> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let single = |t: &str| t.chars().count() == 1;
        if single(tokens[i]) && tokens.get(i + 1).is_some_and(|t| single(t)) {
            names.push(format!("{}{}", tokens[i], tokens[i + 1]));
            i += 2;
        } else {
            names.push(tokens[i].to_owned());
            i += 1;
        }
    }
    (!names.is_empty() && names.iter().all(|n| is_zh_name(n))).then_some(names)
}

/// A photo an agency released, as its caption's last line: `传真照片(新华社发)`,
/// `图片（中新社发）`, `新华社发`. The agency is the credit.
fn released_photo(text: &str) -> Option<Vec<Credit>> {
    if !text.ends_with(['发', ')', '）']) {
        return None;
    }
    let (label, inner) = match text.strip_suffix([')', '）']) {
        Some(t) => {
            let open = t.rfind(['(', '（'])?;
            (&t[..open], t[open..].trim_start_matches(['(', '（']))
        }
        None => ("", text),
    };
    let agency = inner.trim().strip_suffix('发')?.trim();
    let n = agency.chars().count();
    let label_ok = label.is_empty()
        || (label.chars().count() <= 8 && (label.contains("照片") || label.contains("图片")));
    let agency_ok = (2..=8).contains(&n)
        && agency.chars().all(crate::parse::text::is_cjk)
        && ["社", "报", "网", "台"].iter().any(|e| agency.ends_with(e));
    (label_ok && agency_ok).then(|| vec![credit(agency, CreditRole::Agency, text)])
}

/// The art forms a caption names in brackets after an artwork's title.
const ART_FORMS: [&str; 16] = [
    "中国画",
    "国画",
    "油画",
    "版画",
    "木刻",
    "漫画",
    "素描",
    "水彩",
    "水彩画",
    "雕塑",
    "剪纸",
    "年画",
    "宣传画",
    "水墨画",
    "速写",
    "书法",
];

/// An artwork's caption: its title, the art form in brackets and the artist's name
/// (`杜甫草堂(中国画) 李可染`). The artist is credited as the image's maker.
fn artwork_caption(text: &str) -> Option<Vec<Credit>> {
    // most lines hold no closing bracket: one memchr-backed search each before anything else
    if !(text.contains('）') || text.contains(')')) {
        return None;
    }
    let close = text.rfind([')', '）'])?;
    let open = text[..close].rfind(['(', '（'])?;
    let form = text[open..close].trim_start_matches(['(', '（']);
    if open == 0 || !ART_FORMS.contains(&form) {
        return None;
    }
    let artist = text[close..].trim_start_matches([')', '）']).trim();
    let names = zh_names(artist)?;
    if !names
        .iter()
        .all(|n| n.contains('·') || (has_surname(n) && n.chars().count() <= 4))
    {
        return None;
    }
    Some(
        names
            .iter()
            .map(|n| credit(n, CreditRole::Photographer, text))
            .collect(),
    )
}

/// An agency's name as printed before `记者` (`新华社` in `新华社记者 X`, `中央电视台`,
/// `新华社驻某地`): two to eight Han characters naming an agency, a paper, a station or a
/// site, not the start of a sentence that mentions reporters (`某某接受记者采访时指出`).
fn agency_name(s: &str) -> bool {
    let org = s.split('驻').next().unwrap_or(s);
    (2..=8).contains(&s.chars().count())
        && s.chars().all(crate::parse::text::is_cjk)
        && org.ends_with(['社', '报', '台', '网', '刊', '讯', '志', '站'])
}

/// A paper or station named before its reporter: `《内蒙古日报》`, `中央电视台`.
fn affiliation(s: &str) -> bool {
    (s.starts_with('《') && s.ends_with('》')) || (agency_name(s) && s.chars().count() >= 3)
}

/// The names in a bracket that holds only writers' names: each of two to four Han characters
/// starting with a common surname (so `（附图片）`, `（外一首）`, `（待续）` are no names).
fn bracketed_writers(inner: &str) -> Option<Vec<String>> {
    zh_names(inner).filter(|names| {
        names
            .iter()
            .all(|n| (2..=4).contains(&n.chars().count()) && has_surname(n))
    })
}

/// Reads a Chinese byline body such as `本报记者 张三 李四 通讯员 王五`, `记者 祝家乐 摄`,
/// `新华社记者 X 摄`, `文/X 图/Y`, `X/摄`, `X 摄`. The whole text must be credits.
fn zh_byline(body: &str, text: &str) -> Option<Vec<Credit>> {
    let body = body.trim();
    // every byline names a role (记者, 通讯员, 实习生, 摄影) or uses 摄 or a slash
    if !body.contains(['记', '摄', '/', '／', '员', '生'])
        || body.len() > 120
        || body.contains(['，', '。', '；', '！', '？', '“', '”'])
    {
        return None;
    }
    let photo = body.ends_with('摄');
    let body_core = body
        .trim_end_matches('摄')
        .trim_end_matches(['/', '／', ' '])
        .trim();
    let mut credits = Vec::new();
    // `文/X 图/Y` style
    if body_core.contains('/') || body_core.contains('／') {
        let parts: Vec<&str> = body_core.split_whitespace().collect();
        for part in parts {
            let (label, names) = match part.split_once(['/', '／']) {
                Some((l, n)) => (l, n),
                None if photo => ("图", part),
                None => return None,
            };
            let role = match label {
                "文" | "" => CreditRole::Reporter,
                "图" | "摄影" | "摄" => CreditRole::Photographer,
                _ if photo => CreditRole::Photographer,
                _ => return None,
            };
            let role = if photo {
                CreditRole::Photographer
            } else {
                role
            };
            for n in zh_names(names)? {
                credits.push(credit(&n, role, text));
            }
        }
        return (!credits.is_empty()).then_some(credits);
    }
    let mut role = None;
    let mut own_paper = false;
    let mut rest = body_core;
    let role_words: &[(&str, CreditRole)] = &[
        ("本报特约记者", CreditRole::Correspondent),
        ("特约记者", CreditRole::Correspondent),
        ("本报通讯员", CreditRole::Correspondent),
        ("通讯员", CreditRole::Correspondent),
        ("实习生", CreditRole::Reporter),
        ("本报记者", CreditRole::Reporter),
        ("记者", CreditRole::Reporter),
        ("见习记者", CreditRole::Reporter),
        ("首席记者", CreditRole::Reporter),
        ("摄影", CreditRole::Photographer),
        ("参与采写", CreditRole::Correspondent),
    ];
    while !rest.is_empty() {
        let trimmed = rest.trim_start();
        if let Some((word, r)) = role_words.iter().find(|(w, _)| trimmed.starts_with(w)) {
            own_paper |= word.starts_with("本报");
            role = Some(*r);
            rest = trimmed[word.len()..].trim_start_matches(['：', ':']);
            continue;
        }
        // an agency before 记者: 新华社记者 X
        if role.is_none() {
            if let Some(pos) = trimmed.find("记者") {
                let agency = &trimmed[..pos];
                if agency_name(agency) {
                    credits.push(credit(agency, CreditRole::Agency, text));
                    rest = &trimmed[pos..];
                    continue;
                }
            }
        }
        // names up to the next role word
        let end = role_words
            .iter()
            .filter_map(|(w, _)| trimmed.find(w))
            .filter(|&p| p > 0)
            .min()
            .unwrap_or(trimmed.len());
        // a writer and a photographer on one line: `本报记者 X文 本报记者 Y摄`
        // (`文` marks the writer only there: names end in 文 too)
        let segment = trimmed[..end].trim_end();
        let more = end < trimmed.len();
        // the next reporter's paper after the names (`新华社记者X、《内蒙古日报》记者Y`): no
        // name, and not this article's source
        let segment = match segment.rsplit_once('、') {
            Some((names, paper)) if more && affiliation(paper) => names,
            _ => segment,
        };
        let (segment, own) = match (segment.strip_suffix('文'), segment.strip_suffix('摄')) {
            (Some(s), _) if photo && more && zh_names(s).is_some() => {
                (s, Some(CreditRole::Reporter))
            }
            (_, Some(s)) => (s, Some(CreditRole::Photographer)),
            _ => (segment, None),
        };
        let names = zh_names(segment)?;
        let r = match own {
            Some(r) => r,
            None if photo => CreditRole::Photographer,
            None => role?,
        };
        for n in names {
            credits.push(credit(&n, r, text));
        }
        rest = &trimmed[end..];
    }
    // the paper's own staff: 本报记者 X → X, then the paper (本报) as the agency
    if own_paper && !credits.iter().any(|c| c.name == "本报") {
        credits.push(credit("本报", CreditRole::Agency, text));
    }
    credits
        .iter()
        .any(|c| c.role != CreditRole::Agency as i32)
        .then_some(credits)
}

/// Recognizes a line that is only a credit. `None` when it is anything else.
pub fn credit_line(line: &str) -> Option<CreditLine> {
    let text = line.trim();
    let n = text.chars().count();
    if !(2..=80).contains(&n) {
        return None;
    }
    // a web copy's editor: `【编辑：姚某】`, `【责任编辑：X】`
    if let Some(names) = text
        .strip_prefix('【')
        .and_then(|t| t.strip_suffix('】'))
        .and_then(|t| {
            ["责任编辑", "编辑", "责编"]
                .iter()
                .find_map(|w| t.strip_prefix(w))
        })
        .and_then(|t| t.trim_start().strip_prefix(['：', ':']))
        .and_then(|t| zh_names(t.trim()))
    {
        return Some(CreditLine {
            credits: names
                .iter()
                .map(|n| credit(n, CreditRole::Editor, text))
                .collect(),
        });
    }
    // the signature under an editor's note: `——编者`, `——编 者`
    if let Some(signed) = text.strip_prefix("——") {
        let signed: String = signed.chars().filter(|c| !c.is_whitespace()).collect();
        if signed == "编者" {
            return Some(CreditLine {
                credits: vec![credit("编者", CreditRole::Editor, text)],
            });
        }
    }
    // （据新华社） / （据央视新闻客户端） / （新华社记者 X 摄）
    let inner = text
        .strip_prefix(['（', '('])
        .and_then(|t| t.strip_suffix(['）', ')']))
        .map(str::trim);
    if let Some(credits) = en_wire_credit(text) {
        return Some(CreditLine { credits });
    }
    if let Some(inner) = inner {
        // a collective correspondent, an office rather than a person (1950s):
        // （本报集体通讯员某某工人报编辑部）
        if let Some(office) = ["本报集体通讯员", "集体通讯员"]
            .iter()
            .find_map(|w| inner.strip_prefix(w))
            .map(str::trim)
            .filter(|o| {
                (2..=16).contains(&o.chars().count()) && o.chars().all(crate::parse::text::is_cjk)
            })
        {
            return Some(CreditLine {
                credits: vec![credit(office, CreditRole::Correspondent, text)],
            });
        }
        if let Some(credits) = zh_byline(
            inner
                .trim_start_matches("记者")
                .trim_start_matches(['：', ':']),
            text,
        )
        .filter(|_| inner.contains("记者") || inner.contains("通讯员") || inner.ends_with('摄'))
        .or_else(|| zh_byline(inner, text))
        {
            return Some(CreditLine { credits });
        }
        if let Some(credits) = agency_paren(text) {
            return Some(CreditLine { credits });
        }
        // a closing dateline: （本报伦敦2月21日电）, (新华社北京电)
        if let Some(d) = closing_dateline(inner) {
            return Some(CreditLine { credits: d });
        }
        // a closing dateline with its reporters: （新华社北京1月21日电  记者X、Y  参与采写：Z）
        if let Some(credits) = closing_dateline_with_byline(inner, text) {
            return Some(CreditLine { credits });
        }
        // an author note: （作者为本报地方部记者）
        if inner.starts_with("作者") && n <= 60 {
            return Some(CreditLine {
                credits: Vec::new(),
            });
        }
        // the writer's name alone in brackets, closing a report: `（秦某某）`, `(何某 李某)`
        if let Some(names) = bracketed_writers(inner) {
            return Some(CreditLine {
                credits: names
                    .iter()
                    .map(|n| credit(n, CreditRole::Reporter, text))
                    .collect(),
            });
        }
        // an English photo credit in brackets (`(Photo by NAME/Paper)`, `(AP Photo/NAME)`)
        // goes on to the English patterns
        if !inner
            .get(..5)
            .is_some_and(|p| p.eq_ignore_ascii_case("photo"))
            && !inner.contains(" Photo/")
        {
            return None;
        }
    }
    if text.chars().any(crate::parse::text::is_cjk) {
        if let Some(credits) = zh_byline(text, text) {
            return Some(CreditLine { credits });
        }
        // a photo credit with its agency tag: 陈某摄（影像中国）, 某某摄影报道
        let tagged = text
            .contains('摄')
            .then(|| PHOTO_TAGGED.captures(text))
            .flatten();
        if let Some(body) = tagged.and_then(|c| c.get(1)) {
            // the agency's staff, unnamed (`新华社记者摄(传真照片)`): the agency is credited
            if let Some(agency) = body.as_str().trim().strip_suffix("记者") {
                if agency_name(agency) {
                    return Some(CreditLine {
                        credits: vec![credit(agency, CreditRole::Agency, text)],
                    });
                }
            }
            if let Some(names) = zh_names(body.as_str()) {
                return Some(CreditLine {
                    credits: names
                        .iter()
                        .map(|n| credit(n, CreditRole::Photographer, text))
                        .collect(),
                });
            }
        }
        // a photo released by an agency: `传真照片(新华社发)`, `新华社发`
        if let Some(credits) = released_photo(text) {
            return Some(CreditLine { credits });
        }
        // an artwork's caption with its artist: `杜甫草堂(中国画) 李可染`
        if let Some(credits) = artwork_caption(text) {
            return Some(CreditLine { credits });
        }
        // a closing dateline on its own line: 新华社北京4月28日电
        if let Some(d) = closing_dateline(text) {
            return Some(CreditLine { credits: d });
        }
        // Chinese: only these; the English patterns below cannot match
        return None;
    }
    // The English patterns are anchored and full of Unicode classes, so the regex engine runs
    // them with a backtracker whose per-call setup grows with the pattern: on an English page
    // that was 85% of the parse. Each pattern therefore runs only on lines holding the words
    // it needs, found in one pass (`en_cues`).
    let cues = en_cues(text);
    if garbled_staff_writer(text) {
        // `Steff Writer`, `8t«H Writer`, `SteH Wrtlw`: the title line under a byline, read badly
        return Some(CreditLine {
            credits: Vec::new(),
        });
    }
    // `SHIRLEY THOMPSON/Mustang Daily`: a photographer in capitals, slash, the paper
    if let Some(c) = (text.contains('/'))
        .then(|| EN_NAME_SLASH_PAPER.captures(text))
        .flatten()
    {
        return Some(CreditLine {
            credits: vec![credit(c[1].trim(), CreditRole::Photographer, text)],
        });
    }
    // (the paper's name after `for the` is at most 31 characters, checked here for the reason
    // given at EN_PHOTO)
    // (`By Ann Lee Staff Writer` is a byline with its title run on, read below)
    if cues & EN_CUE_TITLE != 0
        && !text.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("by "))
        && EN_CREDIT_TITLE
            .captures(text)
            .is_some_and(|c| c.get(1).is_none_or(|m| m.as_str().chars().count() <= 31))
    {
        // `Staff Writer` under a byline: part of the credit, names nothing new
        return Some(CreditLine {
            credits: Vec::new(),
        });
    }
    let agency = cues & EN_CUE_AGENCY != 0;
    if let Some(caps) = agency.then(|| EN_AGENCY.captures(text)).flatten() {
        return Some(CreditLine {
            credits: vec![credit(
                &title_case_agency(&caps[1]),
                CreditRole::Agency,
                text,
            )],
        });
    }
    let photo = cues & EN_CUE_PHOTO != 0;
    let photo_name = photo
        .then(|| EN_PHOTO.captures(text))
        .flatten()
        .map(|caps| {
            caps.get(1)
                .or(caps.get(2))
                .or(caps.get(3))
                .map_or("", |m| m.as_str())
        })
        .filter(|name| name.chars().count() <= 51);
    if let Some(name) = photo_name {
        return Some(CreditLine {
            credits: vec![credit(name, CreditRole::Photographer, text)],
        });
    }
    // an interviewer's line after the text (`Interview by NAME`) is a byline too
    let text_by = interviewer_byline(text).unwrap_or(text);
    // OCR reads a small `b` as `h` and a `y` as `v` (`hy Erin Massey`, `Bv JOHN SMITH`);
    // a site's byline row puts a colon after it (`by: NAME`)
    let byline = text_by.get(..2).is_some_and(|p| {
        ["by", "hy", "bv", "8y"]
            .iter()
            .any(|b| p.eq_ignore_ascii_case(b))
    }) && text_by[2..]
        .strip_prefix(':')
        .unwrap_or(&text_by[2..])
        .starts_with(char::is_whitespace);
    // a byline whose writer's title runs on to the next line ends in a comma
    // (`by Dr. Edwin ZIEGFELD,` over `Head, Department of Fine Arts,`)
    let named = if byline {
        without_run_on_title(text_by)
    } else {
        text
    };
    let matched = byline
        .then(|| {
            EN_BYLINE
                .captures(named)
                .or_else(|| EN_BYLINE.captures(named.strip_suffix(',')?))
        })
        .flatten();
    if let Some(caps) = matched {
        let mut credits = Vec::new();
        for name in caps[1].split([',', '&']).flat_map(|p| p.split(" and ")) {
            let name = without_honorific(name.trim());
            if !name.is_empty() {
                credits.push(credit(name, CreditRole::Reporter, text));
            }
        }
        if let Some(extra) = caps.get(2) {
            if let Some(a) = EN_AGENCY.captures(extra.as_str().trim()) {
                credits.push(credit(&title_case_agency(&a[1]), CreditRole::Agency, text));
            }
        }
        return Some(CreditLine { credits });
    }
    if let Some(name) = en_author_note(text) {
        return Some(CreditLine {
            credits: vec![credit(name, CreditRole::Reporter, text)],
        });
    }
    // a news site's byline row naming the paper: `From: Herald Tribune`
    if let Some(paper) = site_source_row(text) {
        return Some(CreditLine {
            credits: vec![credit(paper, CreditRole::Agency, text)],
        });
    }
    None
}

/// `Interview by NAME`, `Interviewed by NAME`: the interviewer's line, from its `by` on.
fn interviewer_byline(text: &str) -> Option<&str> {
    let first = text.split_ascii_whitespace().next()?;
    if !(first.eq_ignore_ascii_case("interview") || first.eq_ignore_ascii_case("interviewed")) {
        return None;
    }
    let rest = text[first.len()..].trim_start();
    rest.get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case("by "))
        .then_some(rest)
}

/// A site's byline row that names the paper the piece comes from: `From: NAME`, the name one
/// to four capitalised words (`Source: Supplied` under a photo names nobody, so not that).
fn site_source_row(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("From:")?.trim();
    let words = rest.split_whitespace().count();
    ((1..=4).contains(&words)
        && rest.len() <= 40
        && rest.split_whitespace().all(|w| {
            w.starts_with(|c: char| c.is_uppercase())
                && w.chars()
                    .all(|c| c.is_alphabetic() || matches!(c, '.' | '\'' | '’' | '-' | '&'))
        }))
    .then_some(rest)
}

/// A byline with the writer's title run on to its line, as OCR reads it (`by Kristen Simon
/// StaH Wrilar`, `by Jenny Coyle staff Wiltaf`, glued: `by Frank Van Brocklin SlaHWfUer`):
/// the byline without the title, so the title is not taken for part of the name.
fn without_run_on_title(text: &str) -> &str {
    let staff = |w: &str| {
        let mut c = w.chars();
        (4..=6).contains(&w.chars().count())
            && matches!(c.next(), Some('S' | 's' | '8' | '$' | '5'))
            && matches!(c.next(), Some('t' | 'l' | 'i' | 'I'))
    };
    let writer = |w: &str| (5..=7).contains(&w.chars().count()) && w.starts_with(['W', 'w']);
    let glued = |w: &str| {
        let n = w.chars().count();
        (8..=11).contains(&n)
            && w.char_indices()
                .any(|(i, c)| matches!(c, 'W' | 'w') && (4..=5).contains(&i) && staff(&w[..i]))
    };
    let t = text.trim_end();
    let Some((rest, last)) = t.rsplit_once(char::is_whitespace) else {
        return text;
    };
    let rest = rest.trim_end();
    // the name must keep two words after `by`
    let names_left = |r: &str| r.split_whitespace().count() >= 3;
    if glued(last) && names_left(rest) {
        return rest;
    }
    match rest.rsplit_once(char::is_whitespace) {
        Some((name, before)) if staff(before) && writer(last) && names_left(name.trim_end()) => {
            name.trim_end()
        }
        _ => text,
    }
}

/// Does the byline carry its writer's title run on to its line ([`without_run_on_title`])?
pub fn has_run_on_title(text: &str) -> bool {
    without_run_on_title(text).len() < text.len()
}

/// A writer's name without the honorific printed before it (`Dr. Edwin Ziegfeld`,
/// `PROF. ANN LEE`): the credit names the person. An honorific alone (`Mr.` in `Mr. and Mrs.
/// John Smith`) names no one: empty.
fn without_honorific(name: &str) -> &str {
    const HONORIFICS: [&str; 8] = ["dr", "prof", "professor", "mr", "mrs", "ms", "sir", "rev"];
    let name = name.trim();
    let (first, rest) = name.split_once(' ').unwrap_or((name, ""));
    let honorific = HONORIFICS
        .iter()
        .any(|h| first.trim_end_matches('.').eq_ignore_ascii_case(h));
    if honorific {
        rest.trim_start()
    } else {
        name
    }
}

/// An English wire or agency credit set in brackets under a headline, as old papers print
/// it: `(By Associated Press)`, `(By Review Leased Wire)`, `(By JOHN SMITH, United Press
/// Staff Correspondent)`, and as OCR damages the brackets and the `By` (`( By Associated
/// Press.)`, `(B? Associated Press.)`, `By Associated Press,)`). Words naming a wire service
/// make an agency; a person's name (two words or more, before a comma) a reporter. A `By`
/// that OCR damaged counts only before a service's name.
fn en_wire_credit(text: &str) -> Option<Vec<Credit>> {
    const SERVICE: [&str; 6] = ["wire", "press", "service", "news", "associated", "agency"];
    // how old papers said a story came: `(By Cable)`, `(By Telegraph)`, no one's name
    const MEANS: [&str; 8] = [
        "cable",
        "telegraph",
        "wireless",
        "radio",
        "mail",
        "telephone",
        "appointment",
        "request",
    ];
    let open = text.starts_with('(');
    let inner = text.trim_start_matches(['(', ' ']);
    let core = inner.trim_end_matches(['.', ',', ' ']);
    let closed = core.ends_with(')');
    let core = core
        .trim_end_matches([')', ' '])
        .trim_end_matches(['.', ',']);
    let (by, name) = core.split_once(char::is_whitespace)?;
    let exact_by = by.eq_ignore_ascii_case("by");
    let damaged_by = matches!(
        by.to_ascii_lowercase().as_str(),
        "hy" | "bv" | "8y" | "bj" | "b" | "b?" | "gy" | "dy" | "3y" | "ey"
    );
    // OCR damage to the service's last word (`United PreBS.`, `United Presi.`)
    let mended = mend_press(name.trim());
    let name = mended.as_str();
    if !(exact_by || damaged_by)
        || name.is_empty()
        || name.len() > 60
        || name.chars().any(crate::parse::text::is_cjk)
    {
        return None;
    }
    let service_words = |s: &str| {
        s.split_whitespace().any(|w| {
            SERVICE.iter().any(|v| {
                w.trim_matches(|c: char| !c.is_alphabetic())
                    .eq_ignore_ascii_case(v)
            })
        })
    };
    let capitalised = |s: &str| {
        s.split_whitespace()
            .all(|w| w.starts_with(|c: char| c.is_uppercase()))
    };
    let agency = |s: &str| -> Option<String> {
        if let Some(a) = EN_AGENCY.captures(s) {
            return Some(title_case_agency(&a[1]));
        }
        let n = s.split_whitespace().count();
        (capitalised(s) && (1..=5).contains(&n) && service_words(s)).then(|| s.to_owned())
    };
    // (without brackets, as some papers set it on its own line: `By United Press.`, OCR's
    // `Gy United Press.`, only a service's name)
    if let Some(a) = agency(name) {
        return Some(vec![credit(&a, CreditRole::Agency, text)]);
    }
    if !exact_by || !(open || closed) {
        return None;
    }
    // a writer, perhaps with the service after a comma
    let (person, after) = name.split_once(',').unwrap_or((name, ""));
    let person = without_honorific(person.trim());
    let words = person.split_whitespace().count();
    let means = person.split_whitespace().any(|w| {
        MEANS.iter().any(|m| {
            w.trim_matches(|c: char| !c.is_alphabetic())
                .eq_ignore_ascii_case(m)
        })
    });
    if !capitalised(person) || !(2..=4).contains(&words) || means {
        return None;
    }
    let mut credits = vec![credit(person, CreditRole::Reporter, text)];
    let after = after.trim();
    if let Some(a) = (!after.is_empty())
        .then(|| EN_AGENCY.captures(after))
        .flatten()
    {
        credits.push(credit(&title_case_agency(&a[1]), CreditRole::Agency, text));
    } else if service_words(after) {
        // `United Press Staff Correspondent`: the service is the words before the title
        let service = after
            .split_whitespace()
            .take_while(|w| {
                !["staff", "writer", "correspondent"]
                    .iter()
                    .any(|t| w.eq_ignore_ascii_case(t))
            })
            .collect::<Vec<_>>()
            .join(" ");
        if service_words(&service) {
            credits.push(credit(&service, CreditRole::Agency, text));
        }
    }
    Some(credits)
}

/// [`trailing_credit`]'s English run-on photo credit: the text after the last sentence of the
/// caption (at most 60 bytes, no bracket: bracketed ones are read as a whole) is a photo
/// credit.
fn english_photo_run_on(trimmed: &str) -> Option<(String, Vec<Credit>)> {
    let window = trimmed.len().saturating_sub(64);
    let at = (window..trimmed.len())
        .rev()
        .filter(|&i| trimmed.is_char_boundary(i))
        .find(|&i| {
            let b = trimmed.as_bytes();
            matches!(b[i], b'.' | b'?' | b'!') && b.get(i + 1) == Some(&b' ')
        })?;
    let tail = trimmed[at + 1..].trim();
    let cue = tail
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("photo"))
        || tail.contains('/');
    if !cue || tail.ends_with(')') || tail.chars().any(crate::parse::text::is_cjk) {
        return None;
    }
    let credits = credit_line(tail)?.credits;
    credits
        .iter()
        .all(|c| c.role() == CreditRole::Photographer)
        .then(|| (trimmed[..at + 1].to_owned(), credits))
}

/// A name whose last word OCR damaged from `Press` (`United PreBS`, `United Presi`) with that
/// word mended; other names as they are.
fn mend_press(name: &str) -> String {
    match name.rsplit_once(' ') {
        Some((head, last))
            if (5..=6).contains(&last.len())
                && last.starts_with("Pre")
                && !last.eq_ignore_ascii_case("press")
                && last[3..].chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            format!("{head} Press")
        }
        _ => name.to_owned(),
    }
}

/// The note that closes a column or a letter with who wrote it: `Jane Doe is a senior
/// English major.`, `John Smith is the Daily's arts editor.`, `Ann Lee is a staff writer`.
/// The name, `is a` / `is an` / `is the`, and a clause naming a job or a year of study.
fn en_author_note(text: &str) -> Option<&str> {
    const JOBS: [&str; 18] = [
        "major",
        "editor",
        "writer",
        "columnist",
        "student",
        "reporter",
        "professor",
        "correspondent",
        "freshman",
        "sophomore",
        "junior",
        "senior",
        "member",
        "contributor",
        "director",
        "lecturer",
        "graduate",
        "photographer",
    ];
    if text.len() > 140 {
        return None;
    }
    static IS: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(" is "));
    let at = IS.find(text.as_bytes())?;
    let after = &text[at + 4..];
    if !["a ", "an ", "the "].iter().any(|a| after.starts_with(a)) {
        return None;
    }
    let (name, rest) = (&text[..at], &text[at..]);
    let words: Vec<&str> = name.split_whitespace().collect();
    let name_word = |w: &&str| {
        w.chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || c == '.')
            && w.chars()
                .all(|c| c.is_alphabetic() || matches!(c, '.' | '\'' | '’' | '-'))
    };
    let job = rest.trim_end_matches('.').split_whitespace().any(|w| {
        JOBS.contains(
            &w.trim_matches(|c: char| !c.is_alphabetic())
                .to_ascii_lowercase()
                .as_str(),
        )
    });
    // one sentence: nothing after its full stop
    let one_sentence = !rest.trim_end_matches('.').contains(". ");
    ((2..=4).contains(&words.len()) && words.iter().all(name_word) && job && one_sentence)
        .then(|| name.trim())
}

fn title_case_agency(s: &str) -> String {
    match s.to_ascii_lowercase().as_str() {
        "associated press" => "Associated Press".into(),
        "reuters" => "Reuters".into(),
        "afp" | "agence france-presse" => "AFP".into(),
        "bloomberg" | "bloomberg news" => "Bloomberg".into(),
        "xinhua" | "xinhua news agency" => "Xinhua".into(),
        "united press international" => "UPI".into(),
        "the new york times" => "The New York Times".into(),
        "the washington post" => "The Washington Post".into(),
        other => other.to_owned(),
    }
}

/// An agency attribution in brackets at the end of `text`: （据新华社）, (据央视新闻客户端).
fn agency_paren(text: &str) -> Option<Vec<Credit>> {
    let caps = AGENCY_PAREN.captures(text)?;
    let whole = caps.get(0)?.as_str();
    let has_cue = whole.contains('据')
        || whole.contains("来源")
        || whole.contains("综合")
        || whole.contains("稿源")
        || whole.contains("转自");
    let names: Vec<&str> = caps[1]
        .split(['、', '，', ','])
        .map(|s| s.trim().trim_end_matches("电").trim())
        .filter(|s| !s.is_empty())
        .collect();
    let known = |n: &str| {
        n.ends_with('社')
            || n.ends_with('网')
            || n.ends_with("新闻")
            || n.ends_with("客户端")
            || n.ends_with("日报")
            || n.ends_with("晚报")
            || n.ends_with("报")
            || n.ends_with("台")
    };
    if names.is_empty() || !(has_cue || names.iter().all(|n| known(n))) {
        return None;
    }
    Some(
        names
            .into_iter()
            .map(|n| credit(n, CreditRole::Agency, whole))
            .collect(),
    )
}

/// Takes a credit off the end of a paragraph: `……开幕。（新华社记者 X 摄）`, `……（据新华社）`.
/// Returns the paragraph without it and the credits.
pub fn trailing_credit(paragraph: &str) -> Option<(String, Vec<Credit>)> {
    let trimmed = paragraph.trim_end();
    // a photo credit run on after the caption's last sentence: `…在装运棉花。杨某某摄`,
    // `…图为宾主步入大厅。 新华社记者摄(传真照片)` (looked for only where the paragraph's
    // last characters hold a 摄)
    let window = (trimmed.len().saturating_sub(60)..trimmed.len())
        .find(|&i| trimmed.is_char_boundary(i))
        .unwrap_or(trimmed.len());
    let near_end = trimmed[window..].contains('摄');
    if near_end {
        let run_on = trimmed
            .char_indices()
            .rev()
            .find(|(_, c)| matches!(c, '。' | '！' | '？'))
            .and_then(|(at, stop)| {
                let tail = trimmed[at + stop.len_utf8()..].trim();
                if !tail.contains('摄') || tail.chars().count() > 20 {
                    return None;
                }
                let mut credits = credit_line(tail)?.credits;
                let photo = credits.iter().any(|c| c.role() == CreditRole::Photographer);
                // an agency's unnamed staff photographer (`新华社记者摄(传真照片)`)
                let agency = credits.len() == 1 && credits[0].role() == CreditRole::Agency;
                if !(photo || agency) {
                    return None;
                }
                // the team a photographer belongs to is no name: `城市摄影队 周某 摄`
                credits.retain(|c| {
                    c.role() != CreditRole::Photographer
                        || !c.name.ends_with(['队', '组', '部', '社', '站'])
                });
                Some((trimmed[..at + stop.len_utf8()].to_owned(), credits))
            });
        if run_on.is_some() || trimmed.ends_with('摄') {
            return run_on;
        }
    }
    // an English photo credit run on after the caption's last sentence: `…on Friday. Photo
    // by Sam Reed`, `…on Friday. Sam Reed/Staff Photographer`
    if let Some(run_on) = english_photo_run_on(trimmed) {
        return Some(run_on);
    }
    if !trimmed.ends_with(['）', ')']) {
        return None;
    }
    let open = trimmed.rfind(['（', '('])?;
    if open == 0 {
        return None;
    }
    let tail = &trimmed[open..];
    let mut rest = trimmed[..open].trim_end();
    // a writer's name in brackets closes the last sentence (`…保住了堤防。 (某某)`); after
    // other text it says who or where (`第四名何某(解放军)`)
    let inner = tail
        .trim_start_matches(['（', '('])
        .trim_end_matches(['）', ')'])
        .trim();
    if bracketed_writers(inner).is_some() && !rest.ends_with(['。', '！', '？', '”', '!', '?', '"'])
    {
        return None;
    }
    let mut credits = credit_line(tail)?.credits;
    // 新华社发（李四摄）: the agency that sent the picture
    if let Some(sent) = rest.strip_suffix('发') {
        let agency: String = sent
            .chars()
            .rev()
            .take_while(|&c| crate::parse::text::is_cjk(c))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if agency.ends_with('社') && (3..=6).contains(&agency.chars().count()) {
            credits.insert(
                0,
                credit(&agency, CreditRole::Agency, &format!("{agency}发")),
            );
            rest = rest[..rest.len() - agency.len() - '发'.len_utf8()].trim_end();
        }
    }
    Some((rest.to_owned(), credits))
}

/// A dateline taken off the start of a paragraph.
#[derive(Debug, Clone, PartialEq)]
pub struct Dateline {
    /// The dateline as printed, e.g. `新华社北京9月14日电`.
    pub text: String,
    /// Agency and reporter credits it carried.
    pub credits: Vec<Credit>,
    /// The paragraph after the dateline.
    pub rest: String,
}

/// Finds a dateline at the start of a paragraph.
pub fn dateline(paragraph: &str) -> Option<Dateline> {
    if let Some(caps) = ZH_DATELINE.captures(paragraph) {
        let whole = caps.get(0)?;
        let src = &caps[1];
        let kind = &caps[4];
        // 本报讯 needs no date; an agency 电 needs a place or a date to be a dateline;
        // 消息 (央视网消息) follows the source directly
        let has_place_or_date = !caps[2].is_empty() || caps.get(3).is_some();
        let ok = match kind {
            "讯" => true,
            "消息" => !has_place_or_date && whole.as_str().trim_end().ends_with(['：', ':']),
            _ => has_place_or_date,
        };
        if !ok {
            return None;
        }
        let head = paragraph[..caps.get(5).map_or(whole.end(), |m| m.start())].trim();
        let head = head.trim_end_matches(['（', '(']).trim();
        let text = head
            .trim_start_matches(['【', '['])
            .trim_end_matches([']', '】', ':', '：'])
            .trim()
            .to_owned();
        let mut credits = vec![credit(src, CreditRole::Agency, &text)];
        if let Some(people) = caps.get(5) {
            let people_text = format!("（{}）", people.as_str());
            // what the reporter did to the text is no name: `（记者陈某 整合）`
            let people = people.as_str().trim_end();
            let people = ["整合", "整理", "编译", "综合", "综述"]
                .iter()
                .find_map(|w| people.strip_suffix(w))
                .unwrap_or(people)
                .trim_end();
            // `（记者X）`, or the reporters' names alone: `（付文、涂晓晨）`
            let named = || {
                zh_names(people).map(|names| {
                    names
                        .iter()
                        .map(|n| credit(n, CreditRole::Reporter, &people_text))
                        .collect()
                })
            };
            match zh_byline(people, &people_text).or_else(named) {
                Some(more) => credits.extend(more),
                None => return None,
            }
        }
        let mut rest = paragraph[whole.end()..].trim().to_owned();
        // `本报讯 记者李青报道:` / `新华社记者X、本报记者Y报道:` after the dateline
        if caps.get(5).is_none() {
            if let Some(r) = ZH_REPORTED.captures(&rest) {
                if let Some(more) = zh_byline(&r[1], r[0].trim()) {
                    credits.extend(more);
                    rest = rest[r.get(0).map_or(0, |m| m.end())..].trim().to_owned();
                }
            }
        }
        if rest.is_empty() {
            return None;
        }
        return Some(Dateline {
            text,
            credits,
            rest,
        });
    }
    if let Some(caps) = EN_DATELINE.captures(paragraph) {
        let place = caps[1].trim();
        if place.len() < 3 || !place.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
            return None;
        }
        // a real dateline's place is capitals (and maybe ", July 9")
        let place_word = place.split(',').next().unwrap_or(place);
        if place_word.chars().any(char::is_lowercase) {
            return None;
        }
        let whole = caps.get(0)?;
        let text = paragraph[..whole.end()]
            .trim()
            .trim_end_matches(['—', '–', '-'])
            .trim()
            .to_owned();
        let mut credits = Vec::new();
        // the agency as printed (`AP`, `UPI`), like every other credit name
        if let Some(agency) = caps.get(2) {
            credits.push(credit(agency.as_str(), CreditRole::Agency, &text));
        }
        return Some(Dateline {
            text,
            credits,
            rest: paragraph[whole.end()..].trim().to_owned(),
        });
    }
    old_english_dateline(paragraph)
}

/// [`EN_OLD_DATELINE`]: a place of capitals (three letters or more, no lower case) and a date.
fn old_english_dateline(paragraph: &str) -> Option<Dateline> {
    let caps = EN_OLD_DATELINE.captures(paragraph)?;
    let place = &caps[1];
    if place.chars().filter(char::is_ascii_uppercase).count() < 3 {
        return None;
    }
    let whole = caps.get(0)?;
    let text = paragraph[..whole.end()]
        .trim()
        .trim_end_matches(['—', '–', '-', '?', ' '])
        .to_owned();
    Some(Dateline {
        text,
        credits: Vec::new(),
        rest: paragraph[whole.end()..].trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(line: &CreditLine) -> Vec<(String, CreditRole)> {
        line.credits
            .iter()
            .map(|c| (c.name.clone(), c.role()))
            .collect()
    }

    #[test]
    fn an_english_photo_credit_at_a_captions_end() {
        let (rest, credits) =
            trailing_credit("Riders wait for the ferry at dawn. (Photo by Ada Lind/Gazette)")
                .expect("bracketed, with the paper after a slash");
        assert_eq!(rest, "Riders wait for the ferry at dawn.");
        assert_eq!(credits[0].name, "Ada Lind");
        for caption in [
            "Riders wait for the ferry at dawn. Photo by Ada Lind",
            "Riders wait for the ferry at dawn. Ada Lind/Staff Photographer",
        ] {
            let (rest, credits) = trailing_credit(caption).expect(caption);
            assert_eq!(rest, "Riders wait for the ferry at dawn.");
            assert_eq!(
                (credits[0].name.as_str(), credits[0].role()),
                ("Ada Lind", CreditRole::Photographer)
            );
        }
        let (_, credits) =
            trailing_credit("Riders wait for the ferry. (AP Photo/Ada Lind)").expect("agency");
        assert_eq!(credits[0].name, "Ada Lind");
        // a sentence that merely mentions a photo, or a byline, is no credit
        assert!(
            trailing_credit("He smiled. Photos of the flood were shown to the board.").is_none()
        );
        assert!(trailing_credit("The vote was close. By Ada Lind").is_none());
    }

    #[test]
    fn a_closing_dateline_in_brackets_with_its_reporters() {
        let l = credit_line("（新华社上海3月2日电  记者柳青、白桦  参与采写：江河、甘霖）")
            .expect("credit");
        assert_eq!(
            names(&l),
            vec![
                ("新华社".into(), CreditRole::Agency),
                ("柳青".into(), CreditRole::Reporter),
                ("白桦".into(), CreditRole::Reporter),
                ("江河".into(), CreditRole::Correspondent),
                ("甘霖".into(), CreditRole::Correspondent),
            ]
        );
        let l = credit_line("（本报杭州5月6日电  记者钱塘）").expect("credit");
        assert_eq!(
            names(&l),
            vec![
                ("本报".into(), CreditRole::Agency),
                ("钱塘".into(), CreditRole::Reporter),
            ]
        );
        // a sentence in brackets is no credit
        assert!(credit_line("（新华社北京电 记者会上，他说了很多话。）").is_none());
    }

    #[test]
    fn agency_in_brackets() {
        let l = credit_line("（据新华社）").expect("credit");
        assert_eq!(names(&l), vec![("新华社".into(), CreditRole::Agency)]);
        let l = credit_line("（据央视新闻客户端）").expect("credit");
        assert_eq!(
            names(&l),
            vec![("央视新闻客户端".into(), CreditRole::Agency)]
        );
        assert!(credit_line("（二〇二五年）").is_none());
    }

    #[test]
    fn photo_and_reporter_bylines() {
        let l = credit_line("记者 祝家乐 摄").expect("credit");
        assert_eq!(names(&l), vec![("祝家乐".into(), CreditRole::Photographer)]);
        let l = credit_line("本报记者 张三 李四 通讯员 王五").expect("credit");
        assert_eq!(
            names(&l),
            vec![
                ("张三".into(), CreditRole::Reporter),
                ("李四".into(), CreditRole::Reporter),
                ("王五".into(), CreditRole::Correspondent),
                ("本报".into(), CreditRole::Agency),
            ]
        );
        // a writer and a photographer on one line, a two-character name padded to three
        let l = credit_line("本报记者  谷业凯文  本报记者  雷  声摄").expect("credit");
        assert_eq!(
            names(&l),
            vec![
                ("谷业凯".into(), CreditRole::Reporter),
                ("雷声".into(), CreditRole::Photographer),
                ("本报".into(), CreditRole::Agency),
            ]
        );
        // a name ending in 文 stays whole where no photographer follows
        let l = credit_line("本报记者 王晓文").expect("credit");
        assert_eq!(names(&l)[0], ("王晓文".into(), CreditRole::Reporter));
        let l = credit_line("朱  磊  饶庆平摄影报道").expect("credit");
        assert_eq!(
            names(&l),
            vec![
                ("朱磊".into(), CreditRole::Photographer),
                ("饶庆平".into(), CreditRole::Photographer),
            ]
        );
        // a photo an agency released
        let l = credit_line("传真照片(新华社发)").expect("credit");
        assert_eq!(names(&l), vec![("新华社".into(), CreditRole::Agency)]);
        assert!(credit_line("他说这件事很快就会有新的进展发").is_none());
        // an artwork's caption credits its artist; an art form alone is not a credit
        let l = credit_line("杜甫草堂(中国画) 李可染").expect("credit");
        assert_eq!(names(&l), vec![("李可染".into(), CreditRole::Photographer)]);
        assert!(credit_line("我们去看了一幅画(中国画) 很好看的").is_none());
        let l = credit_line("（新华社记者 李贺 摄）").expect("credit");
        assert!(names(&l).contains(&("李贺".into(), CreditRole::Photographer)));
        let l = credit_line("陈福平摄（影像中国）").expect("credit");
        assert_eq!(names(&l), vec![("陈福平".into(), CreditRole::Photographer)]);
        // an unnamed staff photographer credits the agency, not a person named 新华社记者
        let l = credit_line("新华社记者摄(传真照片)").expect("credit");
        assert_eq!(names(&l), vec![("新华社".into(), CreditRole::Agency)]);
        let l = credit_line("（本报伦敦2月21日电）").expect("credit");
        assert_eq!(names(&l), vec![("本报".into(), CreditRole::Agency)]);
        assert!(credit_line("（作者为本报地方部记者）").is_some_and(|l| l.credits.is_empty()));
        // the title run on to the byline's line, read badly or glued
        for (line, name) in [
            ("by Kristen Simon StaH Wrilar", "Kristen Simon"),
            ("by Jenny Coyle staff Wiltaf", "Jenny Coyle"),
            ("by Frank Van Brocklin SlaHWfUer", "Frank Van Brocklin"),
            ("By Ann Lee Staff Writer", "Ann Lee"),
            ("by Nancy Sringer StaH Wrllar", "Nancy Sringer"),
        ] {
            let l = credit_line(line).expect(line);
            assert_eq!(
                names(&l),
                vec![(name.into(), CreditRole::Reporter)],
                "{line}"
            );
        }
        // a name of two words whose second looks like a title keeps it
        let l = credit_line("by Ann Stiles").expect("credit");
        assert_eq!(names(&l), vec![("Ann Stiles".into(), CreditRole::Reporter)]);
        for garbled in ["Steff Writer", "8t«H Writer", "SteH Wrtlw", "St>M WrlUf"] {
            assert!(
                credit_line(garbled).is_some_and(|l| l.credits.is_empty()),
                "{garbled}"
            );
        }
        assert!(credit_line("Staff Wanted").is_none());
        let l = credit_line("SHIRLEY THOMPSON/Mustang Daily").expect("credit");
        assert_eq!(
            names(&l),
            vec![("SHIRLEY THOMPSON".into(), CreditRole::Photographer)]
        );
        let l = credit_line("王五/摄").expect("credit");
        assert_eq!(names(&l), vec![("王五".into(), CreditRole::Photographer)]);
        assert!(credit_line("记者会上他说了很多话，大家都听见了。").is_none());
    }

    #[test]
    fn a_byline_whose_title_runs_on_names_the_writer_without_honorific() {
        assert_eq!(
            names(&credit_line("by Dr. Ruth KELLER,").expect("credit")),
            vec![("Ruth KELLER".to_owned(), CreditRole::Reporter)]
        );
        assert_eq!(
            names(&credit_line("By Prof. Amos Tate").expect("credit")),
            vec![("Amos Tate".to_owned(), CreditRole::Reporter)]
        );
        assert_eq!(
            names(&credit_line("By Mr. and Mrs. Amos Tate").expect("credit")),
            vec![("Amos Tate".to_owned(), CreditRole::Reporter)]
        );
        assert_eq!(
            names(&credit_line("By DR. RUTH KELLER").expect("credit")),
            vec![("RUTH KELLER".to_owned(), CreditRole::Reporter)]
        );
    }

    #[test]
    fn a_wire_credit_in_brackets_under_an_old_headline() {
        assert_eq!(
            names(&credit_line("(By Review Leased Wire)").expect("credit")),
            vec![("Review Leased Wire".to_owned(), CreditRole::Agency)]
        );
        assert_eq!(
            names(&credit_line("(By Associated Press.)").expect("credit")),
            vec![("Associated Press".to_owned(), CreditRole::Agency)]
        );
        assert_eq!(
            names(&credit_line("(By Mary Ellen Cole).").expect("credit")),
            vec![("Mary Ellen Cole".to_owned(), CreditRole::Reporter)]
        );
        for damaged in [
            "( By Associated Press.)",
            "(B? Associated Press.)",
            "By Associated Press,)",
            "By Associated Press.",
            "Gy Associated Press.",
            "3y Associated Presi.",
        ] {
            assert_eq!(
                names(&credit_line(damaged).expect(damaged)),
                vec![("Associated Press".to_owned(), CreditRole::Agency)]
            );
        }
        assert_eq!(
            names(&credit_line("(By JOHN SMITH, United Press Staff Correspondent)").expect("ap")),
            vec![
                ("JOHN SMITH".to_owned(), CreditRole::Reporter),
                ("United Press".to_owned(), CreditRole::Agency)
            ]
        );
        // a bracketed aside that starts with `by` is no credit, nor is how the story came
        for aside in [
            "(by way of the north road)",
            "(B Street)",
            "(By Cable)",
            "(By Telegraph)",
            "(By Appointment Only)",
            "(Hy Peskin Photo)",
        ] {
            assert!(credit_line(aside).is_none(), "{aside}");
        }
    }

    #[test]
    fn english_credits() {
        let l = credit_line("By JANE DOE and John Smith").expect("credit");
        assert_eq!(names(&l).len(), 2);
        let l = credit_line("Associated Press").expect("credit");
        assert_eq!(
            names(&l),
            vec![("Associated Press".into(), CreditRole::Agency)]
        );
        let l = credit_line("Photo by Maria Lopez").expect("credit");
        assert_eq!(
            names(&l),
            vec![("Maria Lopez".into(), CreditRole::Photographer)]
        );
        assert!(credit_line("By the time the storm hit, it was late.").is_none());
    }

    #[test]
    fn english_bylines_read_badly_and_author_notes() {
        let l = credit_line("hy Nora Pell").expect("an OCR-read `by`");
        assert_eq!(names(&l), vec![("Nora Pell".into(), CreditRole::Reporter)]);
        assert!(credit_line("hy the river").is_none());
        let l = credit_line("Tomas Reyes is a senior history major.").expect("author note");
        assert_eq!(
            names(&l),
            vec![("Tomas Reyes".into(), CreditRole::Reporter)]
        );
        let l = credit_line("A.B. Castell is the Daily's music editor").expect("author note");
        assert_eq!(
            names(&l),
            vec![("A.B. Castell".into(), CreditRole::Reporter)]
        );
        // a sentence of the text that happens to say who someone is
        assert!(credit_line("The dean is a former student of the college.").is_none());
        assert!(credit_line("Mary Jones is a senior. She said the fees are too high.").is_none());
    }

    #[test]
    fn a_news_sites_dateline_and_editor() {
        let d = dateline("某江网5月6日讯（记者柳青 整合） 长假过半，游客不减。").expect("dateline");
        let got: Vec<(&str, CreditRole)> = d
            .credits
            .iter()
            .map(|c| (c.name.as_str(), c.role()))
            .collect();
        assert_eq!(
            got,
            [
                ("某江网", CreditRole::Agency),
                ("柳青", CreditRole::Reporter)
            ]
        );
        let l = credit_line("【编辑：白桦】").expect("credit");
        assert_eq!(names(&l), vec![("白桦".into(), CreditRole::Editor)]);
        let l = credit_line("【责任编辑：江河】").expect("credit");
        assert_eq!(names(&l), vec![("江河".into(), CreditRole::Editor)]);
        assert!(credit_line("【编辑部的话】").is_none());
    }

    #[test]
    fn datelines() {
        let d = dateline("【新华社北京9月14日电】国务院今天发布通知。").expect("dateline");
        assert_eq!(d.text, "新华社北京9月14日电");
        assert_eq!(d.rest, "国务院今天发布通知。");
        let d = dateline("本报北京7月9日电 （记者 王小明）会议今天召开。").expect("dateline");
        assert_eq!(d.credits.len(), 2);
        assert_eq!(d.credits[1].name, "王小明");
        let d = dateline("本报讯（记者 张三 通讯员 李四）近日，").expect("dateline");
        assert_eq!(d.text, "本报讯");
        let d = dateline("WASHINGTON (AP) — The Senate voted.").expect("dateline");
        assert_eq!(d.credits[0].name, "AP");
        assert_eq!(d.rest, "The Senate voted.");
        assert!(dateline("新华社发布的消息显示，").is_none());
        // the day alone, in figures
        let d = dateline("据新华社24日讯 首都的一万多名毕业生走向工作岗位。").expect("dateline");
        assert_eq!(
            (d.text.as_str(), d.credits[0].name.as_str()),
            ("据新华社24日讯", "新华社")
        );
        // the signature under an editor's note
        let signed = credit_line("——编 者").expect("credit");
        assert_eq!(signed.credits[0].name, "编者");
        // a writer's name alone in brackets, on its own line or closing the last sentence;
        // not a place, a side or a note in brackets
        assert_eq!(
            credit_line("(何某某)").expect("credit").credits[0].name,
            "何某某"
        );
        assert!(credit_line("（附图片）").is_none());
        assert!(credit_line("（外一首）").is_none());
        let (rest, credits) = trailing_credit("大家终于保住了堤防。 (毛某)").expect("credit");
        assert_eq!(
            (rest.as_str(), credits[0].name.as_str()),
            ("大家终于保住了堤防。", "毛某")
        );
        assert!(trailing_credit("第四名是何某(解放军)").is_none());
        // a second reporter from another paper, named with it: the paper is no credit
        let d = dateline("新华社某地5月3日电(新华社记者王某、《某省日报》记者李某)会议闭幕。")
            .expect("dateline");
        let names: Vec<&str> = d.credits.iter().map(|c| c.name.as_str()).collect();
        assert!(names.ends_with(&["王某", "李某"]), "{names:?}");
        assert!(!names.iter().any(|n| n.contains("日报")), "{names:?}");
    }

    #[test]
    fn english_credit_patterns_keep_their_length_limits() {
        // checked after the match, no longer counted by EN_PHOTO and EN_CREDIT_TITLE
        let photo = credit_line("Photo by Ann Lee").expect("credit");
        assert_eq!(photo.credits[0].name, "Ann Lee");
        let long = format!("Photo by {}", "Ann Lee ".repeat(8));
        assert!(credit_line(long.trim()).is_none_or(|l| l.credits.is_empty()));
        assert!(credit_line("Special Correspondent for the Daily Herald").is_some());
        let title = format!(
            "Special Correspondent for the {}",
            "Daily Herald ".repeat(3)
        );
        assert!(credit_line(title.trim()).is_none());
    }

    #[test]
    fn a_photographer_run_on_after_a_captions_last_sentence() {
        let (rest, credits) =
            trailing_credit("某师的棉花喜获丰收。图为农工们在装运棉花。杨某勤摄").expect("credit");
        assert_eq!(rest, "某师的棉花喜获丰收。图为农工们在装运棉花。");
        assert_eq!(credits[0].name, "杨某勤");
        assert!(trailing_credit("他说：“请给我们摄。”").is_none());
        let (rest, credits) =
            trailing_credit("某国总理举行午宴。图为宾主步入大厅。 新华社记者摄(传真照片)")
                .expect("credit");
        assert_eq!(rest, "某国总理举行午宴。图为宾主步入大厅。");
        assert_eq!(credits[0].name, "新华社");
        let (_, credits) = trailing_credit("雨中游览照样开心。城市摄影队 周某 摄").expect("credit");
        assert_eq!(credits.len(), 1);
        assert_eq!(credits[0].name, "周某");
    }

    #[test]
    fn a_collective_correspondent_in_brackets() {
        let l = credit_line("（本报集体通讯员某县农民报编辑部）").expect("credit");
        assert_eq!(l.credits[0].name, "某县农民报编辑部");
        assert_eq!(l.credits[0].role(), CreditRole::Correspondent);
    }
}
