//! Throughput of the pure parser, `parse_page`, in bytes of page text per second; and the cost
//! of the pure stitching step, `stitch::plan_page`, per page registered in an issue.
//!
//! `cargo bench --bench parser` measures the seed front page as a converter produced it, a
//! ~1 MiB page made of the seed's masthead and its articles repeated (which shows whether the
//! parser stays linear), plain OCR pages, HTML pages (the Chinese e-paper and English web
//! fixtures repeated to 48 KiB and to 1 MiB) and hostile shapes of 1 MiB each. Criterion prints MB/s for each; BENCHMARKS.md records them.
//! Under `cargo test --all-targets` each benchmark runs once, as a smoke test.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use pagewire::parse::{parse_page, Limits};
use pagewire::proto::{PageFormat, RawPage};

/// The seed page, byte for byte (a copy of `shared/corpus`, so a clean clone has it).
const SEED: &str = include_str!("../tests/fixtures/zh-baotou-daily-2025-07-10-p01.md");
/// English plain OCR: three fixture pages of narrow columns, capitals headlines, bylines, jumps.
const EN_OCR: [&str; 3] = [
    include_str!("../tests/fixtures/pages/en-jump-a6.txt"),
    include_str!("../tests/fixtures/pages/en-plain-ocr-front.txt"),
    include_str!("../tests/fixtures/pages/en-jump-heads-a8.txt"),
];
/// Chinese plain text of an archive: one paragraph a line, headline stacks, datelines.
const ZH_PLAIN: &str = include_str!("../tests/fixtures/pages/zh-plain-daily-archive-page.txt");
/// HTML pages: a Chinese e-paper page and an English news site's page (kicker / headline /
/// subtitle stacks, bylines, photos, a 导读 box, script, style and comments).
const HTML: [&str; 2] = [
    include_str!("../tests/fixtures/pages/zh-epaper-p01.html"),
    include_str!("../tests/fixtures/pages/en-web-a1.html"),
];
/// Plain pages are repeated up to about this size (a full printed page of OCR text).
const PLAIN_PAGE_BYTES: usize = 48 * 1024;

/// Size the large page grows to, in bytes of page text.
const LARGE_PAGE_BYTES: usize = 1 << 20;

/// The seed page's print position around `content`.
fn raw_page(content: String) -> RawPage {
    RawPage {
        publication: "baotou-daily".into(),
        issue_date: "2025-07-10".into(),
        page_number: 1,
        page_label: "01".into(),
        format: PageFormat::Markdown.into(),
        content,
        ..RawPage::default()
    }
}

/// The seed's masthead once, then its articles (everything from the first `# ` heading on)
/// repeated until the text reaches `target` bytes.
fn large_page_text(target: usize) -> String {
    let first_heading = SEED.find("\n# ").map_or(0, |i| i + 1);
    let (masthead, articles) = SEED.split_at(first_heading);
    let mut text = String::with_capacity(target + SEED.len());
    text.push_str(masthead);
    while text.len() < target {
        text.push_str(articles.trim_end());
        text.push_str("\n\n");
    }
    text
}

/// Limits that let the large page through: it holds far more articles than any printed page.
// `..Limits::default()` is needless while Limits has two fields; it keeps this compiling when
// the parser gains more.
#[allow(clippy::needless_update)]
fn limits_for(text: &str) -> Limits {
    let default = Limits::default();
    Limits {
        max_bytes: default.max_bytes.max(text.len()),
        max_articles: 100_000,
        ..default
    }
}

/// Says what one parse of `raw` gives, so a run that measures only an error path is visible.
fn report(name: &str, raw: &RawPage, limits: &Limits) {
    match parse_page(raw, limits) {
        Ok(page) => eprintln!(
            "{name}: {} bytes, {} articles",
            raw.content.len(),
            page.articles.len()
        ),
        Err(e) => eprintln!(
            "{name}: {} bytes, parse error {} ({e}): only the error path is measured",
            raw.content.len(),
            e.code()
        ),
    }
}

/// `parts` repeated, one after the other, until the text reaches `target` bytes.
fn repeated(parts: &[&str], target: usize) -> String {
    let mut text = String::with_capacity(target + 4096);
    while text.len() < target {
        for p in parts {
            text.push_str(p.trim_end());
            text.push_str("\n\n");
        }
    }
    text
}

fn plain(content: String) -> RawPage {
    RawPage {
        format: PageFormat::PlainText as i32,
        ..raw_page(content)
    }
}

fn html(content: String) -> RawPage {
    RawPage {
        format: PageFormat::Html as i32,
        ..raw_page(content)
    }
}

/// Hostile HTML, 1 MiB each: shapes that make a tree builder or a tokenizer quadratic.
fn hostile_html() -> Vec<(&'static str, RawPage)> {
    let mib = LARGE_PAGE_BYTES;
    vec![
        (
            "html_nested_div_1mib",
            format!("{}x{}", "<div>".repeat(mib / 11), "</div>".repeat(mib / 11)),
        ),
        (
            "html_unclosed_li_1mib",
            format!("{}x", "<ul><li>".repeat(mib / 8)),
        ),
        (
            "html_misnested_1mib",
            format!("{}x", "<b><i><div></b>".repeat(mib / 15)),
        ),
        (
            "html_attributes_1mib",
            format!(
                "<p {}>x</p>",
                (0..mib / 8).map(|i| format!("a{i} ")).collect::<String>()
            ),
        ),
        (
            "html_attribute_value_1mib",
            format!("<p title=\"{}\">x</p>", "a>".repeat(mib / 2)),
        ),
        (
            "html_comment_1mib",
            format!("<p>x</p><!--{}", "<p>".repeat(mib / 3)),
        ),
    ]
    .into_iter()
    .map(|(name, text)| (name, html(text)))
    .collect()
}

fn parse_pages(c: &mut Criterion) {
    let seed = raw_page(SEED.to_owned());
    let en_ocr = plain(repeated(&EN_OCR, PLAIN_PAGE_BYTES));
    let zh_plain = plain(repeated(&[ZH_PLAIN], PLAIN_PAGE_BYTES));
    // hostile: 1 MiB of `[` without `]`, once 2,048 steps a character in the markup stripper
    let brackets = raw_page("[".repeat(1 << 20));
    // hostile: 1 MiB of datelines that read as questions (`本报讯 好吗?`), once quadratic in
    // the rule that reads question lines over a dateline as a headline stack
    let questions = plain("本报讯 好吗?\n".repeat((1 << 20) / "本报讯 好吗?\n".len()));
    let html_page = html(repeated(&HTML, PLAIN_PAGE_BYTES));
    let html_large = html(repeated(&HTML, LARGE_PAGE_BYTES));
    let hostile = hostile_html();
    let plain_limits = limits_for(&en_ocr.content);
    let seed_limits = Limits::default();
    let large = raw_page(large_page_text(LARGE_PAGE_BYTES));
    let large_limits = limits_for(&large.content);
    report("seed_page", &seed, &seed_limits);
    report("large_page", &large, &large_limits);
    report("en_ocr_page", &en_ocr, &plain_limits);
    report("zh_plain_page", &zh_plain, &plain_limits);
    report("brackets_1mib", &brackets, &large_limits);
    report("questions_1mib", &questions, &large_limits);
    report("html_page", &html_page, &plain_limits);
    let html_limits = limits_for(&html_large.content);
    report("html_large_page", &html_large, &html_limits);
    for (name, raw) in &hostile {
        report(name, raw, &html_limits);
    }

    let mut group = c.benchmark_group("parse_page");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    group.throughput(Throughput::Bytes(seed.content.len() as u64));
    group.bench_function("seed_page", |b| {
        b.iter(|| parse_page(black_box(&seed), black_box(&seed_limits)))
    });

    for (name, raw) in [
        ("en_ocr_page", &en_ocr),
        ("zh_plain_page", &zh_plain),
        ("html_page", &html_page),
    ] {
        group.throughput(Throughput::Bytes(raw.content.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| parse_page(black_box(raw), black_box(&plain_limits)))
        });
    }

    // Milliseconds per iteration: flat sampling with fewer samples keeps this within ~3 s.
    group.sampling_mode(SamplingMode::Flat).sample_size(20);
    group.throughput(Throughput::Bytes(large.content.len() as u64));
    group.bench_function("large_page", |b| {
        b.iter(|| parse_page(black_box(&large), black_box(&large_limits)))
    });
    group.throughput(Throughput::Bytes(brackets.content.len() as u64));
    group.bench_function("brackets_1mib", |b| {
        b.iter(|| parse_page(black_box(&brackets), black_box(&large_limits)))
    });
    group.throughput(Throughput::Bytes(questions.content.len() as u64));
    group.bench_function("questions_1mib", |b| {
        b.iter(|| parse_page(black_box(&questions), black_box(&large_limits)))
    });
    group.throughput(Throughput::Bytes(html_large.content.len() as u64));
    group.bench_function("html_large_page", |b| {
        b.iter(|| parse_page(black_box(&html_large), black_box(&html_limits)))
    });
    for (name, raw) in &hostile {
        group.throughput(Throughput::Bytes(raw.content.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| parse_page(black_box(raw), black_box(&html_limits)))
        });
    }
    group.finish();
}

/// `stitch::register` of the last page of an issue of `n` pages, every one a copy of the seed
/// page (each with a photo story and two teasers pointing at pages 3, 4 and 5): composing the
/// issue before and after the registration, matching every pointer, stamping what changed.
fn plan_pages(c: &mut Criterion) {
    use pagewire::stitch::{register, Records};
    let mut group = c.benchmark_group("stitch_plan_page");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for n in [8u32, 24, 96] {
        let (index, records, (label, hash, record)) = issue(n, |_| SEED.to_owned(), |_| true);
        let step =
            register(&index, &records, n, &label, &hash, record.clone(), 1000, 0).expect("room");
        eprintln!(
            "stitch_plan_page/{n}: {} own, {} updates, {} linked",
            step.plan.own.len(),
            step.plan.updates.len(),
            step.plan.linked
        );
        group.bench_function(format!("{n}_pages"), |b| {
            b.iter(|| {
                register(
                    black_box(&index),
                    black_box(&records),
                    n,
                    &label,
                    &hash,
                    record.clone(),
                    1000,
                    0,
                )
            })
        });
    }
    // The common case: the last page of an issue as a printed daily has it, whose front page
    // alone carries see-also pointers (to pages 3, 4 and 5): a page that no cross-page
    // reference connects, registered with the records a step reads for it (its own only).
    for n in [8u32, 24, 96] {
        let text = |number: u32| {
            if number == 1 {
                SEED.to_owned()
            } else {
                without_pointers(SEED)
            }
        };
        let (index, _, (label, hash, record)) =
            issue(n, text, |number| [1, 3, 4, 5].contains(&number));
        let unconnected = Records::new();
        group.bench_function(format!("{n}_pages_unconnected"), |b| {
            b.iter(|| {
                register(
                    black_box(&index),
                    black_box(&unconnected),
                    n,
                    &label,
                    &hash,
                    record.clone(),
                    1000,
                    0,
                )
            })
        });
    }
    group.finish();
}

/// The last page of an issue of `n` pages (`text` of each page number) with the index of the
/// `n - 1` before it registered and the records of those `keep` selects: (index, records, the
/// last page's label, hash and record).
#[allow(clippy::type_complexity)]
fn issue(
    n: u32,
    text: impl Fn(u32) -> String,
    keep: impl Fn(u32) -> bool,
) -> (
    pagewire::stitch::IssueIndex,
    pagewire::stitch::Records,
    (String, String, std::sync::Arc<pagewire::stitch::Record>),
) {
    use pagewire::stitch::{record_hash, record_of, register, IssueIndex, Record, Records};
    use prost::Message as _;
    use std::sync::Arc;
    let mut index = IssueIndex::default();
    let mut records = Records::new();
    for number in 1..=n {
        let mut raw = raw_page(text(number));
        raw.page_number = number;
        raw.page_label = format!("{number:02}");
        let page = parse_page(&raw, &Limits::default()).expect("seed parses");
        let record = Arc::new(Record::new(record_of(&page)));
        let hash = record_hash(&record.page.encode_to_vec());
        if number == n {
            return (index, records, (raw.page_label, hash, record));
        }
        index = register(
            &index,
            &records,
            number,
            &raw.page_label,
            &hash,
            record.clone(),
            1000,
            0,
        )
        .expect("room")
        .index;
        if keep(number) {
            records.insert(number, record);
        }
    }
    unreachable!("an issue has a last page")
}

/// The seed without its see-also pointers (`详见NN版` lines), as the e2e bench's inner pages.
fn without_pointers(text: &str) -> String {
    text.split_inclusive('\n')
        .filter(|l| {
            let l = l.trim();
            !(l.starts_with("详见") && l.ends_with('版') && l.chars().count() <= 8)
        })
        .collect()
}

criterion_group!(benches, parse_pages, plan_pages);
criterion_main!(benches);
