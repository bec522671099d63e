//! Hostile producers against real nats-server processes: inputs crafted to make pagewire publish
//! for someone else, to amplify, to escape the dead-letter topic or to collide in the stitch
//! state. Each test here failed on the code before issue 13.

mod support;

use async_nats::HeaderMap;
use bytes::Bytes;
use prost::Message as _;

use pagewire::proto::{DeadLetter, RawPage};
use support::checker::{
    client, count, header, markdown_headers, publish_to, settings, stored, wait_drained, InProcess,
    ISSUE_DATE,
};
use support::NatsServer;

/// Dead letters stored so far, decoded, with their subjects.
async fn dead_letters(js: &async_nats::jetstream::Context) -> Vec<(String, DeadLetter)> {
    stored(js, "PAGES_DLQ")
        .await
        .iter()
        .map(|m| {
            let d = DeadLetter::decode(m.payload.clone()).expect("dead letter decodes");
            assert_eq!(header(m, "Pagewire-Error-Code"), Some(d.code.as_str()));
            (m.subject.to_string(), d)
        })
        .collect()
}

const BRIEF: &[u8] = "## 简讯标题\n\n这是一条简讯的正文内容。\n".as_bytes();

#[tokio::test]
async fn a_publication_other_than_the_subjects_is_dead_lettered_and_publishes_nothing() {
    let server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[])).await;
    let (_c, js) = client(&server).await;

    // A producer allowed only on pages.raw.attacker claims to be the victim, once in a header
    // and once in a protobuf RawPage.
    let mut spoofed = markdown_headers(1);
    spoofed.insert("Pagewire-Publication", "victim");
    let by_header = publish_to(&js, "pages.raw.attacker", spoofed, Bytes::from(BRIEF)).await;
    let page = RawPage {
        publication: "victim".into(),
        issue_date: ISSUE_DATE.into(),
        page_number: 2,
        format: pagewire::proto::PageFormat::Markdown as i32,
        content: String::from_utf8(BRIEF.to_vec()).unwrap(),
        ..Default::default()
    };
    let by_envelope = publish_to(
        &js,
        "pages.raw.attacker",
        HeaderMap::new(),
        page.encode_to_vec().into(),
    )
    .await;
    // Naming its own publication is allowed.
    let mut honest = markdown_headers(3);
    honest.insert("Pagewire-Publication", "attacker");
    let last = publish_to(&js, "pages.raw.attacker", honest, Bytes::from(BRIEF)).await;
    wait_drained(&js, last).await;

    let letters = dead_letters(&js).await;
    assert_eq!(letters.len(), 2, "{letters:?}");
    for (subject, d) in &letters {
        assert_eq!(d.code, "publication_mismatch", "{}", d.reason);
        assert_eq!(
            subject, "pages.dlq.attacker",
            "the subject's dead-letter topic"
        );
        assert!([by_header, by_envelope].contains(&d.stream_sequence));
        assert!(d.reason.contains("\"victim\""), "{}", d.reason);
    }
    for m in stored(&js, "ARTICLES_ARCHIVE").await {
        assert_eq!(
            m.subject.as_str(),
            "articles.archive.attacker",
            "nothing is published for the victim"
        );
    }
    assert_eq!(count(&js, "ARTICLES_ARCHIVE").await, 1, "the honest page");
    assert_eq!(svc.state.snapshot().pages_dead_lettered, 2);
    assert!(svc
        .state
        .encode_metrics()
        .contains("pagewire_dead_letters_total{code=\"publication_mismatch\"} 2"));
    svc.stop().await;
}

/// Bytes the output streams hold (messages with their subjects and headers, as JetStream counts
/// them).
async fn output_bytes(js: &async_nats::jetstream::Context) -> u64 {
    let mut total = 0;
    for name in [
        "ARTICLES_SEARCH",
        "ARTICLES_ARCHIVE",
        "ARTICLES_ALERT",
        "PAGES_ARCHIVE",
        "PAGES_DLQ",
    ] {
        let mut s = support::checker::stream(js, name).await;
        total += s.info().await.expect("stream info").state.bytes;
    }
    total
}

/// `n` briefs of one short paragraph each.
fn briefs(n: usize) -> String {
    (1..=n)
        .map(|i| format!("## 简讯标题第{i}条\n\n这是第{i}条简讯的正文内容。\n\n"))
        .collect()
}

/// Publishes one input on the seed publication, waits until it is handled, and returns
/// (input bytes, output bytes it added).
async fn stored_for(
    js: &async_nats::jetstream::Context,
    headers: HeaderMap,
    body: Vec<u8>,
) -> (u64, u64) {
    let before = output_bytes(js).await;
    let input = body.len() as u64
        + headers
            .iter()
            .map(|(k, v)| {
                k.to_string().len() as u64 + v.iter().map(|v| v.as_str().len() as u64).sum::<u64>()
            })
            .sum::<u64>();
    let seq = support::checker::publish(js, headers, body).await;
    wait_drained(js, seq).await;
    (input, output_bytes(js).await - before)
}

#[tokio::test]
async fn a_page_name_copied_into_every_article_cannot_amplify_a_page() {
    let server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[])).await;
    let (_c, js) = client(&server).await;

    // The issue's two attacks: a 0.9 MB protobuf page with a 900 KB page_name and 50 briefs
    // (stored 90.9 MB, 101x, before), and 400 briefs with a 60 KB Pagewire-Page-Name header
    // (48.5 MB, 593x).
    let pb = RawPage {
        issue_date: ISSUE_DATE.into(),
        page_number: 1,
        page_name: "要".repeat(300_000),
        format: pagewire::proto::PageFormat::Markdown as i32,
        content: briefs(50),
        ..Default::default()
    };
    let (input_a, out_a) = stored_for(&js, HeaderMap::new(), pb.encode_to_vec()).await;
    let mut h = markdown_headers(2);
    h.insert("Pagewire-Page-Name", "闻".repeat(20_000).as_str());
    let (input_b, out_b) = stored_for(&js, h, briefs(400).into_bytes()).await;

    let letters = dead_letters(&js).await;
    assert_eq!(letters.len(), 2);
    for (_, d) in &letters {
        assert_eq!(d.code, "invalid_metadata", "{}", d.reason);
        assert!(d.reason.starts_with("invalid page_name"), "{}", d.reason);
        assert!(d.reason.len() < 400, "reason of {} bytes", d.reason.len());
    }
    assert_eq!(count(&js, "ARTICLES_ARCHIVE").await, 0);
    // A dead letter holds the input once, plus a bounded envelope.
    for (input, out) in [(input_a, out_a), (input_b, out_b)] {
        eprintln!("rejected: input {input} B, stored {out} B");
        assert!(out <= input + 4096, "input {input} B stored {out} B");
    }

    // The largest page name allowed (64 characters, 192 bytes) on the same 400 briefs, against
    // none at all: what the limit still lets a page name add.
    let plain = stored_for(&js, markdown_headers(3), briefs(400).into_bytes()).await;
    let mut h = markdown_headers(4);
    h.insert("Pagewire-Page-Name", "闻".repeat(64).as_str());
    let longest = stored_for(&js, h, briefs(400).into_bytes()).await;
    let ratio = |(i, o): (u64, u64)| o as f64 / i as f64;
    eprintln!(
        "400 briefs: no page name {} B -> {} B ({:.1}x); 64-character page name {} B -> {} B ({:.1}x)",
        plain.0,
        plain.1,
        ratio(plain),
        longest.0,
        longest.1,
        ratio(longest)
    );
    // What a page stores is bounded by its input and its article count (at most
    // limits.max_articles): each article's messages carry its text plus a bounded envelope
    // (ids, headers, the print position), 2 KiB with every copied field at its limit. The page
    // name adds at most 2 x 192 bytes per article (archive and search), not its size times the
    // articles.
    let per_article = |(i, o): (u64, u64)| (o.saturating_sub(2 * i)) as f64 / 400.0;
    eprintln!(
        "envelope per article beyond twice the input: {:.0} B without, {:.0} B with the longest page name",
        per_article(plain),
        per_article(longest)
    );
    assert!(per_article(longest) <= 2048.0, "{longest:?}");
    assert!(
        longest.1 <= plain.1 + 2 * 400 * 192 + 4096,
        "{longest:?} vs {plain:?}"
    );
    svc.stop().await;
}

#[tokio::test]
async fn a_huge_page_label_gets_its_dead_letter_and_the_page_is_termed() {
    let server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[])).await;
    let (c, js) = client(&server).await;
    let tap = support::checker::AckTap::start(&c, "PAGES", "pagewire").await;

    // The issue's page: 600,000 DEL characters as page_label. Debug formatting made the reason
    // 3.6 MB, the letter never fit, and the page was retried five times and left with a log
    // line.
    let page = RawPage {
        issue_date: ISSUE_DATE.into(),
        page_number: 1,
        page_label: "\u{7f}".repeat(600_000),
        format: pagewire::proto::PageFormat::Markdown as i32,
        content: briefs(3),
        ..Default::default()
    };
    let seq = support::checker::publish(&js, HeaderMap::new(), page.encode_to_vec()).await;
    wait_drained(&js, seq).await;

    let letters = dead_letters(&js).await;
    assert_eq!(letters.len(), 1);
    let d = &letters[0].1;
    assert_eq!(d.code, "invalid_metadata", "{}", d.reason);
    assert!(d.reason.starts_with("invalid page_label"), "{}", d.reason);
    assert!(d.reason.len() < 400, "reason of {} bytes", d.reason.len());
    assert_eq!(
        d.payload.len(),
        page.encoded_len(),
        "the input fits, so it is copied"
    );
    assert_eq!(d.delivery_count, 1);
    assert_eq!(tap.sequences(support::checker::Reply::Term).len(), 1);
    assert!(svc
        .state
        .encode_metrics()
        .contains("pagewire_dead_letters_total{code=\"invalid_metadata\"} 1"));
    svc.stop().await;
}

#[tokio::test]
async fn a_dead_letter_is_cut_until_it_fits_a_small_broker() {
    // 64 KiB max_payload, and an input within 50 bytes of it, nearly all headers (a converter's
    // trace): the broker takes the input, but a letter with its headers copied does not fit
    // whatever else is left out.
    let server = NatsServer::with_config("max_payload: 65536");
    let svc = InProcess::start(settings(&server, &[])).await;
    let (c, js) = client(&server).await;
    let tap = support::checker::AckTap::start(&c, "PAGES", "pagewire").await;

    let mut h = markdown_headers(1);
    let block = |h: &HeaderMap| {
        "NATS/1.0\r\n\r\n".len()
            + h.iter()
                .map(|(k, v)| {
                    v.iter()
                        .map(|v| k.to_string().len() + v.as_str().len() + 4)
                        .sum::<usize>()
                })
                .sum::<usize>()
    };
    let body = b"\xff".to_vec();
    let trace = 65_536 - 50 - body.len() - block(&h) - "X-Converter-Trace: \r\n".len();
    h.insert("X-Converter-Trace", "t".repeat(trace).as_str());
    assert_eq!(block(&h) + body.len(), 65_536 - 50);
    let seq = support::checker::publish(&js, h, body).await;
    wait_drained(&js, seq).await;

    let letters = dead_letters(&js).await;
    assert_eq!(letters.len(), 1);
    let d = &letters[0].1;
    assert_eq!(d.code, "invalid_utf8", "{}", d.reason);
    assert!(
        d.payload.is_empty() && d.headers.is_empty(),
        "{:?}",
        d.headers.keys()
    );
    assert!(
        d.reason.contains(&format!("sequence {seq}")),
        "names where the input is: {}",
        d.reason
    );
    assert_eq!(d.stream_sequence, seq);
    assert_eq!(d.subject, "pages.raw.baotou-daily");
    assert_eq!(tap.sequences(support::checker::Reply::Term).len(), 1);
    let m = svc.state.encode_metrics();
    assert!(
        m.contains("pagewire_dead_letter_cuts_total{part=\"payload\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("pagewire_dead_letter_cuts_total{part=\"headers\"} 1"),
        "{m}"
    );
    assert!(m.contains("pagewire_dead_letters_total{code=\"invalid_utf8\"} 1"));
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edition_shaped_like_anothers_key_token_is_a_different_issue() {
    let server = NatsServer::start();
    let s = settings(
        &server,
        &[
            ("PAGEWIRE_STITCH__ENABLED", "true"),
            ("PAGEWIRE_STITCH__TIMEOUT", "10m"),
        ],
    );
    let svc = InProcess::start(s).await;
    let (_c, js) = client(&server).await;
    let page = |n: u32| {
        std::fs::read(support::checker::manifest(&format!(
            "tests/fixtures/pages/zh-jump-p0{n}.md"
        )))
        .expect("fixture")
    };
    let headers = |n: u32, edition: &str| {
        let mut h = HeaderMap::new();
        h.insert("Content-Type", "text/markdown");
        h.insert("Pagewire-Issue-Date", "2025-07-11");
        h.insert("Pagewire-Page", n.to_string().as_str());
        h.insert("Pagewire-Edition", edition);
        h
    };
    // Before: a non-ASCII edition was keyed by `x` + 16 hex digits of its hash, and an ASCII
    // edition of that shape was keyed as itself. Page 1 of 晚版 and page 2 of
    // x3aebf6e012c3c50f shared one issue index and were stitched together.
    let collide = "x3aebf6e012c3c50f";
    publish_to(&js, "pages.raw.collide", headers(1, "晚版"), page(1).into()).await;
    let last = publish_to(
        &js,
        "pages.raw.collide",
        headers(2, collide),
        page(2).into(),
    )
    .await;
    wait_drained(&js, last).await;
    let stitched = |m: &str| {
        m.lines()
            .find_map(|l| l.strip_prefix("pagewire_stitched_total "))
            .and_then(|v| v.parse::<f64>().ok())
            .expect("pagewire_stitched_total")
    };
    assert_eq!(
        stitched(&svc.state.encode_metrics()),
        0.0,
        "two editions, two issues"
    );
    for m in stored(&js, "ARTICLES_ARCHIVE").await {
        let a = pagewire::proto::Article::decode(m.payload.clone()).expect("article");
        assert!(a.parts.is_empty(), "{} stitched across editions", a.id);
    }
    // The same two pages in one edition do stitch (the two jumps from page 1 to page 2).
    publish_to(&js, "pages.raw.control", headers(1, "晚版"), page(1).into()).await;
    let last = publish_to(&js, "pages.raw.control", headers(2, "晚版"), page(2).into()).await;
    wait_drained(&js, last).await;
    assert_eq!(stitched(&svc.state.encode_metrics()), 2.0);
    svc.stop().await;
}
