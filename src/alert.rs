//! Alert rules: which articles also go to the alert topic, and under which rule names.
//!
//! Pure: compiled once from [`crate::config::AlertSettings`], then asked about each article.

use crate::config::{AlertRule, AlertSettings};
use crate::proto::{Article, ArticleKind};

/// Alert rules compiled for matching (keywords and credits lowercased once).
#[derive(Debug, Clone, Default)]
pub struct AlertRules {
    rules: Vec<Compiled>,
}

#[derive(Debug, Clone)]
struct Compiled {
    name: String,
    /// Searchers for the lowercased keywords, each built once (SIMD substring search).
    keywords: Vec<memchr::memmem::Finder<'static>>,
    credits: Vec<String>,
    kinds: Vec<ArticleKind>,
    pages: Vec<u32>,
    lead_of_page_one: bool,
}

impl From<&AlertRule> for Compiled {
    fn from(r: &AlertRule) -> Self {
        Compiled {
            name: r.name.clone(),
            keywords: r
                .keywords
                .iter()
                .map(|k| memchr::memmem::Finder::new(&k.to_lowercase()).into_owned())
                .collect(),
            credits: r.credits.iter().map(|c| c.to_lowercase()).collect(),
            kinds: r.kinds.iter().map(|k| k.to_proto()).collect(),
            pages: r.pages.clone(),
            lead_of_page_one: r.lead_of_page_one,
        }
    }
}

impl AlertRules {
    /// Compiles the configured rules, keeping their order.
    pub fn new(settings: &AlertSettings) -> Self {
        AlertRules {
            rules: settings.rules.iter().map(Compiled::from).collect(),
        }
    }

    /// Names of the rules `article` matches, in configuration order. `lead_id` is the id of
    /// the lead story of page 1 when the article's page is page 1 (see [`lead_story_id`]).
    pub fn matches<'a>(&'a self, article: &Article, lead_id: Option<&str>) -> Vec<&'a str> {
        let mut text: Option<String> = None;
        let page_number = article.page.as_ref().map_or(0, |p| p.page_number);
        self.rules
            .iter()
            .filter(|rule| {
                if rule.lead_of_page_one && lead_id != Some(article.id.as_str()) {
                    return false;
                }
                if !rule.kinds.is_empty() && !rule.kinds.iter().any(|k| *k as i32 == article.kind) {
                    return false;
                }
                if !rule.pages.is_empty() && !rule.pages.contains(&page_number) {
                    return false;
                }
                if !rule.credits.is_empty()
                    && !article
                        .credits
                        .iter()
                        .any(|c| rule.credits.contains(&c.name.to_lowercase()))
                {
                    return false;
                }
                if !rule.keywords.is_empty() {
                    let text = text.get_or_insert_with(|| searchable_text(article));
                    if !rule
                        .keywords
                        .iter()
                        .any(|k| k.find(text.as_bytes()).is_some())
                    {
                        return false;
                    }
                }
                true
            })
            .map(|rule| rule.name.as_str())
            .collect()
    }
}

/// Headline, subheadlines and paragraphs, lowercased, one per line.
fn searchable_text(a: &Article) -> String {
    let parts = std::iter::once(&a.headline)
        .chain(&a.subheadlines)
        .chain(&a.paragraphs);
    let len = parts.clone().map(|s| s.len() + 1).sum();
    let mut text = String::with_capacity(len);
    for (i, s) in parts.enumerate() {
        if i > 0 {
            text.push('\n');
        }
        push_lowercase(&mut text, s);
    }
    text
}

/// Appends `s.to_lowercase()` to `out`, without the case table lookup for ASCII and for the
/// characters of [`caseless`] (most of a Chinese page: a lookup per character was most of the
/// cost of alert matching), copying runs that stay as they are in one go.
fn push_lowercase(out: &mut String, s: &str) {
    // The lowercase of Σ depends on its neighbours (final sigma): std's rule decides.
    if s.contains('Σ') {
        out.push_str(&s.to_lowercase());
        return;
    }
    // Runs of characters that are their own lowercase are copied whole.
    let bytes = s.as_bytes();
    let (mut i, mut copied) = (0, 0);
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 && !b.is_ascii_uppercase() {
            i += 1;
            continue;
        }
        // U+4000..=U+9FFF, the bulk of Chinese text, all within `caseless`: no need to decode.
        if (0xE4..=0xE9).contains(&b) {
            i += 3;
            continue;
        }
        let c = s[i..].chars().next().expect("i is a character boundary");
        let next = i + c.len_utf8();
        if !caseless(c) {
            out.push_str(&s[copied..i]);
            out.extend(c.to_lowercase());
            copied = next;
        }
        i = next;
    }
    out.push_str(&s[copied..]);
}

/// Characters with no lowercase mapping (each its own lowercase; checked over every one of
/// them by a test): general punctuation, CJK symbols and punctuation, kana, CJK ideographs,
/// Yi, Hangul syllables, fullwidth punctuation and digits.
fn caseless(c: char) -> bool {
    matches!(
        c,
        '\u{2000}'..='\u{206F}'
            | '\u{2E80}'..='\u{A4CF}'
            | '\u{AC00}'..='\u{D7A3}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{FF01}'..='\u{FF20}'
            | '\u{FF3B}'..='\u{FF40}'
            | '\u{FF5B}'..='\u{FFEF}'
    )
}

/// The lead story of a page 1: its first article of kind STORY in reading order. `None` on
/// other pages or when page 1 has no story.
pub fn lead_story_id(page_number: u32, articles: &[Article]) -> Option<&str> {
    if page_number != 1 {
        return None;
    }
    articles
        .iter()
        .find(|a| a.kind == ArticleKind::Story as i32)
        .map(|a| a.id.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Kind;
    use crate::proto::{Credit, PagePosition};

    fn article(id: &str, kind: ArticleKind, page: u32, credit: &str, text: &str) -> Article {
        Article {
            id: id.into(),
            kind: kind as i32,
            headline: text.into(),
            page: Some(PagePosition {
                page_number: page,
                ..Default::default()
            }),
            credits: vec![Credit {
                name: credit.into(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn caseless_characters_are_their_own_lowercase() {
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            if caseless(c) {
                assert_eq!(c.to_lowercase().collect::<String>(), c.to_string(), "{c:?}");
            }
        }
    }

    #[test]
    fn push_lowercase_is_std_lowercase() {
        for s in [
            "",
            "State Council 国务院 发布",
            "ΣΑΣ ΟΔΟΣ, Σ. σΣ ὈΔΥΣΣΕΎΣ",
            "İstanbul ǅ ẞ Ｆｕｌｌ ＷＩＤＴＨ，“引号”！",
            "ÀÉÎ ÕÜ Ǆ Ω K Å ⅛ Ⅻ Ⓐ 𐐀 한국어 ｶﾀｶﾅ",
            "MiXeD ascii and Кириллица И ГРЕЧЕСКИЙ",
        ] {
            let mut out = String::from("x");
            push_lowercase(&mut out, s);
            assert_eq!(out, format!("x{}", s.to_lowercase()), "{s}");
        }
    }

    proptest::proptest! {
        #[test]
        fn push_lowercase_matches_std(s in "\\PC*") {
            let mut out = String::new();
            push_lowercase(&mut out, &s);
            proptest::prop_assert_eq!(out, s.to_lowercase());
        }
    }

    fn rules(rules: Vec<AlertRule>) -> AlertRules {
        AlertRules::new(&AlertSettings { rules })
    }

    #[test]
    fn criteria_in_one_rule_must_all_match() {
        let r = rules(vec![AlertRule {
            name: "front-photo".into(),
            kinds: vec![Kind::Photo],
            pages: vec![1],
            ..Default::default()
        }]);
        let on_front = article("a", ArticleKind::Photo, 1, "", "");
        let inside = article("b", ArticleKind::Photo, 2, "", "");
        let story = article("c", ArticleKind::Story, 1, "", "");
        assert_eq!(r.matches(&on_front, None), ["front-photo"]);
        assert!(r.matches(&inside, None).is_empty());
        assert!(r.matches(&story, None).is_empty());
    }

    #[test]
    fn keywords_shared_by_rules_or_inside_one_another_each_count() {
        let r = rules(vec![
            AlertRule {
                name: "weather".into(),
                keywords: vec!["暴雨".into(), "Flood".into()],
                ..Default::default()
            },
            AlertRule {
                name: "rain".into(),
                keywords: vec!["雨".into()],
                ..Default::default()
            },
            AlertRule {
                name: "floods".into(),
                keywords: vec!["floods".into(), "flood".into()],
                ..Default::default()
            },
        ]);
        let storm = article("a", ArticleKind::Story, 2, "", "今日暴雨");
        assert_eq!(r.matches(&storm, None), ["weather", "rain"]);
        let flood = article("b", ArticleKind::Story, 2, "", "FLOODS in the valley");
        assert_eq!(r.matches(&flood, None), ["weather", "floods"]);
        let calm = article("c", ArticleKind::Story, 2, "", "晴 fine");
        assert!(r.matches(&calm, None).is_empty());
    }

    proptest::proptest! {
        /// The prebuilt finders match as `str::contains` on the lowercased text does.
        #[test]
        fn keyword_rules_match_as_str_contains_would(
            keywords in proptest::collection::vec(proptest::collection::vec("[ab雨Ä]{1,3}", 0..3), 1..4),
            text in "[abAB雨ä \n]{0,24}",
        ) {
            let r = rules(keywords.iter().enumerate().map(|(i, ks)| AlertRule {
                name: format!("r{i}"),
                keywords: ks.clone(),
                ..Default::default()
            }).collect());
            let a = article("a", ArticleKind::Story, 2, "", &text);
            let lower = searchable_text(&a);
            let expected: Vec<String> = keywords
                .iter()
                .enumerate()
                .filter(|(_, ks)| ks.is_empty() || ks.iter().any(|k| lower.contains(&k.to_lowercase())))
                .map(|(i, _)| format!("r{i}"))
                .collect();
            proptest::prop_assert_eq!(r.matches(&a, None), expected);
        }
    }

    #[test]
    fn keywords_and_credits_match_case_insensitively_and_rule_order_is_kept() {
        let r = rules(vec![
            AlertRule {
                name: "wire".into(),
                credits: vec!["associated press".into()],
                ..Default::default()
            },
            AlertRule {
                name: "storm".into(),
                keywords: vec!["Hurricane".into()],
                ..Default::default()
            },
        ]);
        let a = article(
            "a",
            ArticleKind::Story,
            3,
            "Associated Press",
            "HURRICANE hits",
        );
        assert_eq!(r.matches(&a, None), ["wire", "storm"]);
        let b = article("b", ArticleKind::Story, 3, "Associated Pressure", "calm");
        assert!(r.matches(&b, None).is_empty());
    }

    #[test]
    fn lead_of_page_one_is_the_first_story_on_page_one() {
        let arts = vec![
            article("t", ArticleKind::Teaser, 1, "", ""),
            article("s1", ArticleKind::Story, 1, "", ""),
            article("s2", ArticleKind::Story, 1, "", ""),
        ];
        assert_eq!(lead_story_id(1, &arts), Some("s1"));
        assert_eq!(lead_story_id(2, &arts), None);
        let r = rules(vec![AlertRule {
            name: "lead".into(),
            lead_of_page_one: true,
            ..Default::default()
        }]);
        let lead = lead_story_id(1, &arts);
        let hits: Vec<_> = arts.iter().map(|a| r.matches(a, lead).len()).collect();
        assert_eq!(hits, [0, 1, 0]);
    }
}
