//! The ingest service against real nats-server processes (one per test, see `support`).
//!
//! Every test reads the output streams back completely and checks counts, ids and the final
//! consumer state; nothing is judged by eye. Waits are on conditions with deadlines, never
//! fixed sleeps.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use async_nats::{jetstream, HeaderMap};
use prost::Message as _;

use pagewire::config::Settings;
use pagewire::proto::{Article, ArticleKind, DeadLetter, Page, RawPage};
use support::checker::{
    check_outputs, client, count, expected_outputs, header, manifest, markdown_headers, publish,
    seed, seed_pages, settings, stored, stream, wait_drained, wait_for, ChildService, InProcess,
    PUBLICATION, SEED, WAIT,
};
use support::NatsServer;

fn articles(msgs: &[jetstream::message::StreamMessage]) -> Vec<Article> {
    msgs.iter()
        .map(|m| Article::decode(m.payload.clone()).expect("article decodes"))
        .collect()
}

/// (id, version) pairs; panics on a duplicate, which is the property under test.
fn unique_versions(arts: &[Article]) -> BTreeSet<(String, String)> {
    let mut seen = BTreeSet::new();
    for a in arts {
        assert!(
            seen.insert((a.id.clone(), a.version.clone())),
            "article {} version {} stored twice",
            a.id,
            a.version
        );
    }
    seen
}

/// The seed page with one sentence of article 2 corrected.
fn corrected_seed() -> Vec<u8> {
    let text = String::from_utf8(seed()).expect("seed is UTF-8");
    assert!(text.contains("183天太空驻留"));
    text.replace("183天太空驻留", "184天太空驻留").into_bytes()
}

// ---------------------------------------------------------------------------------------------

#[test]
fn the_example_config_loads() {
    let s = Settings::load_from(
        Some(&manifest("deploy/pagewire.toml")),
        Some(HashMap::new()),
    )
    .expect("deploy/pagewire.toml loads");
    assert_eq!(s.input.stream, "PAGES");
    assert_eq!(s.input.consumer, "pagewire");
    assert_eq!(s.output.dlq.subject_prefix, "pages.dlq");
    let names: Vec<_> = s.alerts.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "front-page-lead",
            "wire-agency",
            "state-council",
            "public-safety",
            "front-page-photo"
        ]
    );
}

#[tokio::test]
async fn seed_page_sent_as_markdown_arrives_on_every_topic() {
    let server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[])).await;
    let (_c, js) = client(&server).await;

    let seq = publish(&js, markdown_headers(1), seed()).await;
    wait_drained(&js, seq).await;

    let archive = stored(&js, "ARTICLES_ARCHIVE").await;
    let search = stored(&js, "ARTICLES_SEARCH").await;
    let alert = stored(&js, "ARTICLES_ALERT").await;
    let pages = stored(&js, "PAGES_ARCHIVE").await;
    let dlq = stored(&js, "PAGES_DLQ").await;
    assert!(
        dlq.is_empty(),
        "seed page dead-lettered: {:?}",
        dlq.iter()
            .map(|m| DeadLetter::decode(m.payload.clone()))
            .collect::<Vec<_>>()
    );

    for m in archive.iter().chain(&search).chain(&alert) {
        assert_eq!(header(m, "Content-Type"), Some("application/protobuf"));
        assert_eq!(header(m, "Pagewire-Type"), Some("pagewire.v1.Article"));
        assert!(header(m, "Nats-Msg-Id").is_some_and(|id| !id.is_empty()));
        assert_eq!(m.subject.as_str().rsplit('.').next(), Some(PUBLICATION));
    }
    let archived = articles(&archive);
    assert_eq!(archived.len(), 7, "archive holds every article");
    unique_versions(&archived);
    let kinds: Vec<i32> = archived.iter().map(|a| a.kind).collect();
    use ArticleKind::*;
    assert_eq!(
        kinds,
        [Story, Brief, Brief, Brief, Photo, Teaser, Teaser].map(|k| k as i32)
    );

    let searched = articles(&search);
    assert_eq!(searched.len(), 5, "search holds stories, briefs and photos");
    assert!(searched.iter().all(|a| a.kind != Teaser as i32));

    let alerts: BTreeMap<String, String> = alert
        .iter()
        .map(|m| {
            let a = Article::decode(m.payload.clone()).expect("alert decodes");
            (
                a.headline,
                header(m, "Pagewire-Alert").unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected: BTreeMap<String, String> = [
        (
            "“高效办成一件事”有新部署 将如何惠及你我？",
            "front-page-lead, wire-agency, state-council",
        ),
        ("国家发改委：人均预期寿命达79岁", "state-council"),
        ("艺术盛会 与你共赴", "front-page-photo"),
    ]
    .into_iter()
    .map(|(h, r)| (h.to_owned(), r.to_owned()))
    .collect();
    assert_eq!(alerts, expected);

    assert_eq!(pages.len(), 1, "one page-level message");
    assert_eq!(header(&pages[0], "Pagewire-Type"), Some("pagewire.v1.Page"));
    let page = Page::decode(pages[0].payload.clone()).expect("page decodes");
    assert!(page.articles.is_empty());
    assert_eq!(
        page.article_ids,
        archived.iter().map(|a| a.id.clone()).collect::<Vec<_>>()
    );
    assert_eq!(page.content.as_bytes(), &seed()[..]);
    assert_eq!(
        page.content_hash,
        blake3::hash(&seed()).to_hex().to_string()
    );

    assert_eq!(svc.state.snapshot().pages_acked, 1);
    svc.stop().await;
}

#[tokio::test]
async fn the_same_page_sent_twice_stores_nothing_new() {
    let server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[])).await;
    let (_c, js) = client(&server).await;

    seed_sent_twice_stores_nothing_new(&svc, &js, &settings(&server, &[])).await;
    svc.stop().await;
}

/// Sends the seed page twice: every output of the first round is stored, and every one of the
/// second is a duplicate.
async fn seed_sent_twice_stores_nothing_new(
    svc: &InProcess,
    js: &jetstream::Context,
    settings: &Settings,
) {
    publish(js, markdown_headers(1), seed()).await;
    let seq = publish(js, markdown_headers(1), seed()).await;
    wait_drained(js, seq).await;

    let expected = expected_outputs(settings, seed_pages(1..=1));
    check_outputs(js, &expected).await;
    let per_page: usize = expected.values().map(BTreeSet::len).sum();
    let snap = svc.state.snapshot();
    assert_eq!(snap.pages_acked, 2);
    assert_eq!(
        snap.messages_duplicate, per_page as u64,
        "the second round was all duplicates"
    );
}

#[tokio::test]
async fn a_corrected_page_stores_the_new_versions() {
    let server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[])).await;
    let (_c, js) = client(&server).await;

    publish(&js, markdown_headers(1), seed()).await;
    let seq = publish(&js, markdown_headers(1), corrected_seed()).await;
    wait_drained(&js, seq).await;

    let archived = articles(&stored(&js, "ARTICLES_ARCHIVE").await);
    let versions = unique_versions(&archived);
    assert_eq!(
        archived.len(),
        8,
        "seven originals plus one corrected article"
    );
    let ids: BTreeSet<_> = versions.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids.len(), 7, "the correction keeps its article id");
    let changed: Vec<_> = archived
        .iter()
        .filter(|a| a.paragraphs.iter().any(|p| p.contains("184天")))
        .collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].headline, "太空归来首亮相");
    assert_eq!(count(&js, "ARTICLES_SEARCH").await, 6);
    assert_eq!(
        count(&js, "PAGES_ARCHIVE").await,
        2,
        "the corrected page is a new page record"
    );
    svc.stop().await;
}

/// `output.atomic_batches`: every output arrives; a replay (its batches refused whole for their
/// stored `Nats-Msg-Id`s) stores nothing new, and a corrected page, whose batch mixes stored and
/// new ids, still stores its new version.
#[tokio::test]
async fn atomic_batches_store_every_output_once_and_keep_the_revision_contract() {
    let server = NatsServer::start();
    let batched = [("PAGEWIRE_OUTPUT__ATOMIC_BATCHES", "true")];
    let svc = InProcess::start(settings(&server, &batched)).await;
    let (_c, js) = client(&server).await;
    let archive = stream(&js, "ARTICLES_ARCHIVE").await;
    assert!(archive.cached_info().config.allow_atomic_publish);

    seed_sent_twice_stores_nothing_new(&svc, &js, &settings(&server, &batched)).await;

    let seq = publish(&js, markdown_headers(1), corrected_seed()).await;
    wait_drained(&js, seq).await;
    assert_eq!(
        count(&js, "ARTICLES_ARCHIVE").await,
        8,
        "seven originals plus one corrected article"
    );
    assert_eq!(count(&js, "PAGES_ARCHIVE").await, 2);
    svc.stop().await;
}

#[tokio::test]
async fn each_bad_input_class_is_dead_lettered_with_its_code_and_good_pages_still_flow() {
    let server = NatsServer::start();
    let svc = InProcess::start(settings(
        &server,
        &[("PAGEWIRE_LIMITS__MAX_PAGE_BYTES", "2000")],
    ))
    .await;
    let (_c, js) = client(&server).await;

    let text = |pairs: &[(&str, &str)]| {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, *v);
        }
        h
    };
    let md = [
        ("Content-Type", "text/markdown"),
        ("Pagewire-Issue-Date", "2025-07-10"),
        ("Pagewire-Page", "2"),
    ];
    let bad: Vec<(&str, HeaderMap, Vec<u8>)> = vec![
        (
            "invalid_utf8",
            text(&md),
            b"# \xe6\x96\n\nbroken \xff bytes".to_vec(),
        ),
        ("too_large", text(&md), "很".repeat(667).into_bytes()),
        (
            "bad_envelope",
            HeaderMap::new(),
            b"\x0a\xff\xff\xff\xff".to_vec(),
        ),
        (
            "bad_envelope",
            text(&[("Content-Type", "application/json")]),
            b"{\"pageNumber\": \"one\"".to_vec(),
        ),
        (
            "unsupported_content_type",
            text(&[("Content-Type", "application/pdf")]),
            b"%PDF-1.7".to_vec(),
        ),
        (
            "invalid_metadata",
            text(&[("Content-Type", "text/markdown"), ("Pagewire-Page", "2")]),
            b"# Title\n\nBody text.".to_vec(),
        ),
        (
            "invalid_metadata",
            text(&[
                ("Content-Type", "text/plain"),
                ("Pagewire-Issue-Date", "2025-07-10"),
                ("Pagewire-Page", "4294967296"),
            ]),
            b"Body".to_vec(),
        ),
        ("no_articles", text(&md), b" \n\n \t \n".to_vec()),
    ];
    let mut sent = Vec::new();
    for (code, headers, body) in &bad {
        let seq = publish(&js, headers.clone(), body.clone()).await;
        sent.push((seq, *code, body.clone()));
    }
    let good = "## 太空归来首亮相\n\n2025年7月9日下午，中国航天员科研训练中心在北京航天城举行神舟十九号乘组与记者见面会。\n\n（据央视新闻）\n";
    let last = publish(&js, md_headers_page(3), good.as_bytes().to_vec()).await;
    wait_drained(&js, last).await;

    let letters: BTreeMap<u64, DeadLetter> = stored(&js, "PAGES_DLQ")
        .await
        .iter()
        .map(|m| {
            assert_eq!(header(m, "Pagewire-Type"), Some("pagewire.v1.DeadLetter"));
            let d = DeadLetter::decode(m.payload.clone()).expect("dead letter decodes");
            assert_eq!(header(m, "Pagewire-Error-Code"), Some(d.code.as_str()));
            (d.stream_sequence, d)
        })
        .collect();
    assert_eq!(letters.len(), bad.len(), "one dead letter per bad input");
    for (seq, code, body) in &sent {
        let d = &letters[seq];
        assert_eq!(d.code, *code, "input {seq}: {}", d.reason);
        assert_eq!(&d.payload[..], &body[..], "{code}: original bytes kept");
        assert_eq!(d.subject, format!("pages.raw.{PUBLICATION}"));
        assert_eq!(d.stream, "PAGES");
        assert_eq!(d.delivery_count, 1);
        assert!(!d.reason.is_empty());
    }
    assert_eq!(
        letters
            .values()
            .find(|d| d.code == "unsupported_content_type")
            .map(|d| d.headers.get("Content-Type").cloned()),
        Some(Some("application/pdf".to_owned())),
        "headers are kept"
    );
    assert!(
        count(&js, "ARTICLES_ARCHIVE").await >= 1,
        "the good page after them flows"
    );
    assert_eq!(count(&js, "PAGES_ARCHIVE").await, 1);
    assert_eq!(svc.state.snapshot().pages_dead_lettered, bad.len() as u64);
    svc.stop().await;
}

fn md_headers_page(page: u32) -> HeaderMap {
    markdown_headers(page)
}

#[tokio::test]
async fn a_page_whose_output_exceeds_max_payload_is_dead_lettered() {
    let server = NatsServer::with_config("max_payload: 65536");
    let svc = InProcess::start(settings(&server, &[])).await;
    let (_c, js) = client(&server).await;

    // Input just under max_payload; the page-level message adds ids and the hash to the same
    // text and cannot fit.
    let mut page = String::from_utf8(seed()).expect("seed is UTF-8");
    let filler = "实现“一站式”集成服务，打破数据壁垒十分关键。";
    page = page.replacen(
        "改革重在落实。",
        &format!("改革重在落实。\n\n{}", filler.repeat(800)),
        1,
    );
    let target = 65536 - 250;
    while page.len() > target {
        page = page.replacen(filler, "", 1);
    }
    page.push_str(&"x".repeat(target - page.len()));
    let seq = publish(&js, markdown_headers(1), page.into_bytes()).await;
    wait_drained(&js, seq).await;

    let letters = stored(&js, "PAGES_DLQ").await;
    assert_eq!(letters.len(), 1);
    let d = DeadLetter::decode(letters[0].payload.clone()).expect("dead letter decodes");
    assert_eq!(d.code, "output_too_large", "{}", d.reason);
    assert_eq!(d.stream_sequence, seq);
    assert_eq!(
        count(&js, "ARTICLES_ARCHIVE").await,
        0,
        "nothing of the page is published"
    );
    svc.stop().await;
}

#[tokio::test]
async fn the_broker_restarted_mid_stream_loses_nothing() {
    let mut server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[])).await;
    let (_c, js) = client(&server).await;

    for page in 1..=10 {
        publish(&js, markdown_headers(page), seed()).await;
    }
    wait_for("some pages processed", || {
        let js = js.clone();
        async move { count(&js, "PAGES_ARCHIVE").await >= 1 }
    })
    .await;
    server.restart();
    wait_for("service reconnected", || {
        let s = svc.state.clone();
        async move { s.is_connected() }
    })
    .await;
    let mut last = 0;
    for page in 11..=20 {
        last = publish(&js, markdown_headers(page), seed()).await;
    }
    wait_drained(&js, last).await;

    check_outputs(
        &js,
        &expected_outputs(&settings(&server, &[]), seed_pages(1..=20)),
    )
    .await;
    assert!(
        svc.state.snapshot().disconnects >= 1,
        "the restart was noticed"
    );
    svc.stop().await;
}

#[tokio::test]
async fn the_service_killed_and_restarted_loses_and_duplicates_nothing() {
    let server = NatsServer::start();
    let mut first = ChildService::start(&server, &[]);
    let (_c, js) = client(&server).await;
    stream(&js, "ARTICLES_ARCHIVE").await;

    let mut last = 0;
    for page in 1..=40 {
        last = publish(&js, markdown_headers(page), seed()).await;
    }
    wait_for("first pages processed", || {
        let js = js.clone();
        async move { count(&js, "PAGES_ARCHIVE").await >= 1 }
    })
    .await;
    first.signal("KILL");
    let status = first.wait_exit(WAIT).await;
    assert!(!status.success(), "SIGKILL ends the process");

    let second = ChildService::start(&server, &[]);
    wait_drained(&js, last).await;

    check_outputs(
        &js,
        &expected_outputs(&settings(&server, &[]), seed_pages(1..=40)),
    )
    .await;
    // The second instance comes up whether or not anything was left for it.
    second.wait_log("pagewire consuming").await;
}

#[tokio::test]
async fn sigterm_drains_in_flight_pages_and_exits_zero() {
    let server = NatsServer::start();
    let mut svc = ChildService::start(&server, &[]);
    let (_c, js) = client(&server).await;
    stream(&js, "ARTICLES_ARCHIVE").await;

    // Publish concurrently so the service is mid-stream when the signal lands.
    let mut acks = Vec::new();
    for page in 1..=200 {
        let ack = js
            .publish_with_headers(
                format!("pages.raw.{PUBLICATION}"),
                markdown_headers(page),
                seed().into(),
            )
            .await
            .expect("publish");
        acks.push(ack);
    }
    for ack in acks {
        ack.await.expect("pub ack");
    }
    wait_for("processing under way", || {
        let js = js.clone();
        async move { count(&js, "ARTICLES_ARCHIVE").await >= 1 }
    })
    .await;
    svc.signal("TERM");
    let status = svc.wait_exit(Duration::from_secs(20)).await;
    assert!(status.success(), "exit status {status}:\n{}", svc.log());

    let info = stream(&js, "PAGES")
        .await
        .consumer_info("pagewire")
        .await
        .expect("consumer info");
    assert_eq!(
        info.num_ack_pending, 0,
        "nothing delivered was left unacked: {info:?}"
    );
    assert_eq!(info.num_redelivered, 0);
    assert_eq!(
        info.ack_floor.stream_sequence, info.delivered.stream_sequence,
        "every delivered page was acked"
    );
    // Pages 1..=done were delivered and acked (sequence n carries page n): exactly their
    // outputs are stored.
    let done = info.delivered.stream_sequence as u32;
    assert!(done >= 1);
    check_outputs(
        &js,
        &expected_outputs(&settings(&server, &[]), seed_pages(1..=done)),
    )
    .await;
}

#[tokio::test]
async fn two_instances_share_one_consumer_and_every_page_is_processed() {
    let server = NatsServer::start();
    let small = [
        ("PAGEWIRE_INPUT__BATCH_SIZE", "2"),
        ("PAGEWIRE_LIMITS__MAX_IN_FLIGHT", "2"),
    ];
    let a = InProcess::start(settings(&server, &small)).await;
    let b = InProcess::start(settings(&server, &small)).await;
    let (_c, js) = client(&server).await;

    let mut last = 0;
    for page in 1..=40 {
        last = publish(&js, markdown_headers(page), seed()).await;
    }
    wait_drained(&js, last).await;

    let (sa, sb) = (a.state.snapshot(), b.state.snapshot());
    assert_eq!(sa.pages_acked + sb.pages_acked, 40);
    assert!(
        sa.pages_acked > 0 && sb.pages_acked > 0,
        "both share: {sa:?} {sb:?}"
    );
    check_outputs(
        &js,
        &expected_outputs(&settings(&server, &[]), seed_pages(1..=40)),
    )
    .await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn readiness_follows_the_connection() {
    let mut server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[])).await;
    assert!(svc.state.is_ready());

    server.kill();
    wait_for("not ready while the broker is down", || {
        let s = svc.state.clone();
        async move { !s.is_ready() }
    })
    .await;
    server.spawn();
    wait_for("ready again", || {
        let s = svc.state.clone();
        async move { s.is_ready() }
    })
    .await;
    svc.stop().await;
}

#[test]
fn a_raw_page_round_trips_through_proto3_json() {
    // The JSON envelope accepted on the wire is the pbjson encoding of RawPage.
    let raw = RawPage {
        publication: PUBLICATION.into(),
        issue_date: "2025-07-10".into(),
        page_number: 1,
        content: "x".into(),
        ..Default::default()
    };
    let json = serde_json::to_string(&raw).expect("serialize");
    assert!(json.contains("\"issueDate\""));
    assert_eq!(serde_json::from_str::<RawPage>(&json).expect("parse"), raw);
}

#[tokio::test]
async fn publish_command_sends_a_raw_page_and_waits_for_its_pub_ack() {
    let server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[])).await;
    let (_c, js) = client(&server).await;

    let out = support::pagewire::command(&["publish", "--publication", PUBLICATION, "--page", "1"])
        .arg(manifest(SEED))
        .env("PAGEWIRE_NATS__SERVERS", server.url())
        .output()
        .expect("run pagewire publish");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("published 1 of 1 pages"), "{stderr}");

    let inputs = stored(&js, "PAGES").await;
    assert_eq!(inputs.len(), 1);
    assert_eq!(
        header(&inputs[0], "Content-Type"),
        Some("application/protobuf")
    );
    let raw = RawPage::decode(inputs[0].payload.clone()).expect("raw page decodes");
    assert_eq!(raw.publication, PUBLICATION);
    assert_eq!(
        raw.issue_date, "2025-07-10",
        "issue date from the file name"
    );
    assert_eq!(raw.content.as_bytes(), &seed()[..]);
    svc.stop().await;
}

/// A page of `n` briefs: `n` articles, two outputs each (archive and search).
fn page_of_briefs(n: usize) -> Vec<u8> {
    (1..=n)
        .map(|i| format!("## 简讯标题第{i}条\n\n这是第{i}条简讯的正文内容。\n\n"))
        .collect::<String>()
        .into_bytes()
}

#[tokio::test]
async fn pages_with_hundreds_of_articles_each_are_stored_completely() {
    // 20 pages x 400 articles x 2 outputs = 16,000 PubAcks, more than a JetStream context
    // allows outstanding by default (5,000). Whether pages in flight would starve each other
    // of ack permits depends on scheduling (the e2e benchmark's 256 KiB pages showed it); the
    // worker rules it out by construction (PUBLISH_WINDOW x max_in_flight <= ack capacity).
    // This checks the volume flows through completely.
    let server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[])).await;
    let (_c, js) = client(&server).await;
    let body = page_of_briefs(400);
    let mut last = 0;
    for page in 1..=20 {
        last = publish(&js, markdown_headers(page), body.clone()).await;
    }
    wait_drained(&js, last).await;
    assert_eq!(count(&js, "ARTICLES_ARCHIVE").await, 20 * 400);
    assert_eq!(count(&js, "ARTICLES_SEARCH").await, 20 * 400);
    assert_eq!(count(&js, "PAGES_DLQ").await, 0);
    svc.stop().await;
}

/// An article as far as its page's text decides it: the publication (in `id` and `page`) and
/// the revision taken out.
fn as_printed(a: &Article) -> Article {
    let mut a = a.clone();
    a.id =
        a.id.split_once('/')
            .map(|(_, rest)| rest.to_owned())
            .unwrap_or_default();
    if let Some(p) = &mut a.page {
        p.publication.clear();
    }
    a.revision = 0;
    a
}

#[tokio::test]
async fn an_html_page_sent_as_text_html_publishes_the_articles_of_its_markdown_twin() {
    let server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[])).await;
    let (_c, js) = client(&server).await;

    // each page twice, as HTML and as its markdown twin, each on a publication of its own
    let pages = [
        ("zh-epaper-p01", "html-zh", "md-zh", "1", "01"),
        ("en-web-a1", "html-en", "md-en", "1", "A1"),
    ];
    let mut last = 0;
    for (file, html_publication, md_publication, page, label) in pages {
        for (publication, ext, content_type) in [
            (html_publication, "html", "text/html; charset=utf-8"),
            (md_publication, "md", "text/markdown"),
        ] {
            let body = std::fs::read(manifest(&format!("tests/fixtures/pages/{file}.{ext}")))
                .expect("fixture page");
            let mut h = HeaderMap::new();
            h.insert("Content-Type", content_type);
            h.insert("Pagewire-Issue-Date", "2025-07-10");
            h.insert("Pagewire-Page", page);
            h.insert("Pagewire-Page-Label", label);
            last = support::checker::publish_to(
                &js,
                &format!("pages.raw.{publication}"),
                h,
                body.into(),
            )
            .await;
        }
    }
    wait_drained(&js, last).await;

    assert_eq!(count(&js, "PAGES_DLQ").await, 0, "no page dead-lettered");
    let archive = stored(&js, "ARTICLES_ARCHIVE").await;
    let by_publication = |publication: &str| -> Vec<Article> {
        archive
            .iter()
            .filter(|m| m.subject.as_str() == format!("articles.archive.{publication}"))
            .map(|m| Article::decode(m.payload.clone()).expect("article decodes"))
            .collect()
    };
    for (file, html_publication, md_publication, _, _) in pages {
        let html = by_publication(html_publication);
        let markdown = by_publication(md_publication);
        assert!(
            html.len() >= 3,
            "{file}: {} articles from the HTML page",
            html.len()
        );
        assert_eq!(
            html.iter().map(as_printed).collect::<Vec<_>>(),
            markdown.iter().map(as_printed).collect::<Vec<_>>(),
            "{file}: the HTML page and its markdown twin publish different articles"
        );
        assert!(html
            .iter()
            .all(|a| a.id.starts_with(&format!("{html_publication}/"))));
    }
    // the Chinese page: kicker / headline / subtitle, dateline, byline, photo, teasers
    let zh = by_publication("html-zh");
    let heads: Vec<(&str, i32)> = zh.iter().map(|a| (a.headline.as_str(), a.kind)).collect();
    use ArticleKind::*;
    assert_eq!(
        heads,
        [
            ("抓实抓细防汛备汛各项工作", Brief as i32),
            ("上半年全市外贸进出口增长一成", Brief as i32),
            ("荷香满园迎客来", Photo as i32),
            ("老旧小区改造开工过半", Teaser as i32),
            ("暑期托管班报名启动", Teaser as i32),
        ]
    );
    assert_eq!(zh[1].dateline, "新华社北城7月9日电");
    // the English page's jump is there to be stitched
    let en = by_publication("html-en");
    assert_eq!(en[0].references[0].page_label, "A5");
    svc.stop().await;
}
