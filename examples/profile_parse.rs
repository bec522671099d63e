//! Parses one page file N times, for profilers (perf, callgrind) that want a plain binary:
//! `cargo build --release --example profile_parse &&
//!  valgrind --tool=callgrind target/release/examples/profile_parse tests/fixtures/zh-baotou-daily-2025-07-10-p01.md 200`

use pagewire::parse::{parse_page, Limits};
use pagewire::proto::RawPage;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: profile_parse FILE [ITERATIONS]");
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let content = std::fs::read_to_string(&path).expect("readable UTF-8 file");
    let raw = RawPage {
        publication: "profile".into(),
        issue_date: "2025-07-10".into(),
        page_number: 1,
        content,
        ..RawPage::default()
    };
    let limits = Limits {
        max_articles: usize::MAX,
        ..Limits::default()
    };
    // WARM_UP=1: compile the parser's patterns first, as the service does at startup
    if std::env::var_os("WARM_UP").is_some() {
        pagewire::parse::warm_up();
    }
    let mut articles = 0;
    for _ in 0..n {
        articles += parse_page(&raw, &limits).map_or(0, |p| p.articles.len());
    }
    println!("{n} parses, {articles} articles");
}
