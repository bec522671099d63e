//! Properties of the parser over generated and pathological input: it never panics, it is
//! deterministic, normalization is idempotent, and hostile shapes finish (linear time) with
//! a result or a stable error code.

use pagewire::parse::text::normalize_chars;
use pagewire::parse::{parse_page, Limits, ParseError};
use pagewire::proto::{PageFormat, RawPage};
use proptest::prelude::*;

fn raw(content: String, format: PageFormat) -> RawPage {
    RawPage {
        publication: "test-paper".into(),
        issue_date: "2025-07-10".into(),
        page_number: 1,
        format: format as i32,
        content,
        ..RawPage::default()
    }
}

/// Text built from the pieces newspaper pages are made of, so generated pages reach deep
/// into the parser instead of failing at the first line.
fn page_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("# ".to_string()),
        Just("## ".to_string()),
        Just("\n".to_string()),
        Just("\n\n".to_string()),
        Just("  \n".to_string()),
        Just("（据新华社）".to_string()),
        Just("记者 祝家乐 摄".to_string()),
        Just("详见05版".to_string()),
        Just("（下转第3版）".to_string()),
        Just("上接第二版".to_string()),
        Just("Continued on Page A5".to_string()),
        Just("See STORM, Page 7".to_string()),
        Just("STORM, From Page 1".to_string()),
        Just("By JANE DOE".to_string()),
        Just("WASHINGTON (AP) — ".to_string()),
        Just("【新华社北京9月14日电】".to_string()),
        Just("本报讯（记者 张三）".to_string()),
        Just("国内统一刊号:CN 15-0072".to_string()),
        Just("本版责编：李华".to_string()),
        Just("2025年7月10日 星期四 第01版".to_string()),
        Just("7月11日".to_string()),
        Just("8日".to_string()),
        Just("![](images/a.jpg)".to_string()),
        Just("**".to_string()),
        Just("&amp;".to_string()),
        Just("&#x".to_string()),
        Just("<br>".to_string()),
        // HTML pieces, for pages parsed as HTML
        Just("<p>".to_string()),
        Just("</p>".to_string()),
        Just("<h1>".to_string()),
        Just("</h3>".to_string()),
        Just("<div class=\"daodu\">".to_string()),
        Just("<li><a href=\"x\">".to_string()),
        Just("<table><tr><td>".to_string()),
        Just("<script>".to_string()),
        Just("<!--".to_string()),
        Just("-->".to_string()),
        Just("<pre>".to_string()),
        Just("<img alt=\"图\">".to_string()),
        Just("&nbsp;".to_string()),
        Just("exam-\nple".to_string()),
        Just("\u{FEFF}\u{200B}\u{202E}\u{0301}\u{0000}\r".to_string()),
        Just("包头日报社主办".to_string()),
        "[\\p{Han}]{1,30}[。，？]?".prop_map(|s| s),
        "[A-Za-z ,.'-]{1,40}".prop_map(|s| s),
        any::<String>(),
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

fn formats() -> impl Strategy<Value = PageFormat> {
    prop_oneof![
        Just(PageFormat::Unspecified),
        Just(PageFormat::Markdown),
        Just(PageFormat::PlainText),
        Just(PageFormat::Html),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parsing_never_panics_and_is_deterministic(text in page_text(), format in formats()) {
        let page = raw(text, format);
        let first = parse_page(&page, &Limits::default());
        let second = parse_page(&page, &Limits::default());
        prop_assert_eq!(&first, &second);
        if let Ok(parsed) = first {
            prop_assert!(!parsed.articles.is_empty());
            for (i, a) in parsed.articles.iter().enumerate() {
                prop_assert_eq!(a.page.as_ref().map(|p| p.ordinal), Some(i as u32 + 1));
                prop_assert_eq!(a.version.len(), 16);
                prop_assert!(a.paragraphs.iter().all(|p| !p.is_empty() && p.trim() == p));
            }
        }
    }

    #[test]
    fn character_normalization_is_idempotent(text in any::<String>()) {
        let (once, _) = normalize_chars(&text);
        let (twice, report) = normalize_chars(&once);
        prop_assert_eq!(&once, &twice);
        prop_assert_eq!(report.controls + report.zero_width + report.bidi, 0);
    }

    #[test]
    fn arbitrary_unicode_never_panics(text in any::<String>(), format in formats()) {
        let _ = parse_page(&raw(text, format), &Limits::default());
    }
}

#[test]
fn text_changes_change_versions_and_nothing_else() {
    let a = parse_page(
        &raw("# 标题\n\n正文第一段。\n".into(), PageFormat::Markdown),
        &Limits::default(),
    )
    .expect("parses");
    let b = parse_page(
        &raw(
            "# 标题\n\n正文第一段有改动。\n".into(),
            PageFormat::Markdown,
        ),
        &Limits::default(),
    )
    .expect("parses");
    assert_eq!(a.articles[0].id, b.articles[0].id);
    assert_ne!(a.articles[0].version, b.articles[0].version);
}

fn parses_or_fails_with(content: String, allowed: &[&str]) {
    match parse_page(&raw(content, PageFormat::Unspecified), &Limits::default()) {
        Ok(page) => assert!(!page.articles.is_empty()),
        Err(e) => assert!(allowed.contains(&e.code()), "unexpected {}: {e}", e.code()),
    }
}

#[test]
fn hostile_shapes_finish_with_a_result_or_a_stable_code() {
    // one 3.9 MB line, one 1 MiB token, 100k headings, 1M blank lines, 100k markers
    parses_or_fails_with("国".repeat(1_300_000), &[]);
    parses_or_fails_with("x".repeat(1 << 20), &[]);
    // headings with nothing under them are page furniture, not articles
    parses_or_fails_with(
        "# 标题\n".repeat(100_000),
        &["no_articles", "too_many_articles"],
    );
    parses_or_fails_with("# 标题\n\n正文。\n".repeat(100_000), &["too_many_articles"]);
    parses_or_fails_with(format!("{}正文。", "\n".repeat(1_000_000)), &[]);
    parses_or_fails_with(format!("# 标题\n\n{}", "详见05版".repeat(100_000)), &[]);
    parses_or_fails_with("Continued on Page A5 ".repeat(50_000), &[]);
    parses_or_fails_with("（".repeat(200_000), &["no_articles"]);
    parses_or_fails_with("&".repeat(500_000), &["no_articles"]);
    parses_or_fails_with("![".repeat(300_000), &["no_articles"]);
    parses_or_fails_with("<a".repeat(300_000), &[]);
    parses_or_fails_with(format!("e{}", "\u{0301}".repeat(500_000)), &[]);
    parses_or_fails_with("短\n".repeat(200_000), &["too_many_articles"]);
    // a run of `[` without `]` (the inline-markup stripper once looked 2,048 characters
    // ahead for each), and headline-shaped lines between bodies by the hundred thousand
    parses_or_fails_with("[".repeat(4 << 20), &["no_articles"]);
    parses_or_fails_with(
        "标题\n正文很长的一段话，说的是一件事情。\n".repeat(60_000),
        &["too_many_articles"],
    );
}

#[test]
fn hostile_html_finishes_with_a_result_or_a_stable_code() {
    let parse = |content: String, allowed: &[&str]| match parse_page(
        &raw(content, PageFormat::Html),
        &Limits::default(),
    ) {
        Ok(page) => assert!(!page.articles.is_empty()),
        Err(e) => assert!(allowed.contains(&e.code()), "unexpected {}: {e}", e.code()),
    };
    let mib = 1 << 20;
    parse(format!("{}正文。", "<div>".repeat(mib / 5)), &[]);
    parse(format!("{}正文。", "<ul><li>".repeat(mib / 8)), &[]);
    parse(
        "<b><i><div></b>正文。".repeat(mib / 24),
        &["too_many_articles"],
    );
    parse(
        format!(
            "<p {}>正文。</p>",
            (0..mib / 8).map(|i| format!("a{i} ")).collect::<String>()
        ),
        &[],
    );
    parse(
        format!("<p title=\"{}\">正文。</p>", "a>".repeat(mib / 2)),
        &[],
    );
    parse(
        format!("<p>正文。</p><!--{}", "<p>x</p>".repeat(mib / 8)),
        &[],
    );
    parse("<script>".repeat(mib / 8), &["no_articles"]);
    parse("<".repeat(4 * mib - 1), &["no_articles"]);
    parse(
        "<h1>标题</h1>".repeat(mib / 16),
        &["no_articles", "too_many_articles"],
    );
}

#[test]
fn size_and_article_limits_have_stable_codes() {
    let limits = Limits {
        max_bytes: 16,
        max_articles: 2,
    };
    let err =
        parse_page(&raw("a".repeat(17), PageFormat::PlainText), &limits).expect_err("too large");
    assert_eq!(
        err,
        ParseError::TooLarge {
            size: 17,
            limit: 16
        }
    );
    let exactly = parse_page(&raw("a".repeat(16), PageFormat::PlainText), &limits);
    assert!(exactly.is_ok(), "{exactly:?}");
    let three = "# 一\n\n正文。\n\n# 二\n\n正文。\n\n# 三\n\n正文。\n".to_string();
    let limits = Limits {
        max_bytes: 1024,
        max_articles: 2,
    };
    let err = parse_page(&raw(three, PageFormat::Markdown), &limits).expect_err("too many");
    assert_eq!(err.code(), "too_many_articles");
}
