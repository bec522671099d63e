//! Corrections over the life of an article id, against real nats-server processes (issue 13):
//! revisions and message ids (a revert is stored again, an identical re-send is not, revisions
//! keep growing across the expiry of an issue's state and a restart), withdrawals of articles a
//! corrected page no longer has, and stitching that follows a correction both ways.
//!
//! Each test reads what a subscriber reads: every message of the article topics in stream
//! order, folded per id into the message of the highest revision.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_nats::jetstream;
use prost::Message as _;

use pagewire::config::Settings;
use pagewire::envelope::Incoming;
use pagewire::pipeline::{Pipeline, Work};
use pagewire::proto::{Article, Page};
use pagewire::stitch::{self, IssueIndex, Record, Records};
use support::checker::{
    client, count, markdown_headers, publish_to, settings, stored, wait_drained, wait_for,
    InProcess, ISSUE_DATE,
};
use support::NatsServer;

/// Stitching (and so the issue state) on, with this timeout and retention.
fn stateful(timeout: &'static str, retention: &'static str) -> [(&'static str, &'static str); 3] {
    [
        ("PAGEWIRE_STITCH__ENABLED", "true"),
        ("PAGEWIRE_STITCH__TIMEOUT", timeout),
        ("PAGEWIRE_STITCH__RETENTION", retention),
    ]
}

/// A page of three briefs whose second one says `night_market`.
fn three_briefs(night_market: &str) -> String {
    format!(
        "# 城市书房开到家门口\n\n全市新建城市书房12家，市民刷卡即可入内。\n\n\
         # 夜市延长营业时间\n\n{night_market}\n\n\
         # 公交线路调整\n\n自下周一起，3路公交车调整线路。\n"
    )
}

/// Sends `body` as markdown page `page` of `publication` and waits until it is acked.
async fn send(js: &jetstream::Context, publication: &str, page: u32, body: &str) {
    let last = publish_to(
        js,
        &format!("pages.raw.{publication}"),
        markdown_headers(page),
        body.to_owned().into(),
    )
    .await;
    wait_drained(js, last).await;
}

/// Every article message stored in `stream` for `publication`, in stream order.
async fn articles(js: &jetstream::Context, stream: &str, publication: &str) -> Vec<Article> {
    stored(js, stream)
        .await
        .into_iter()
        .filter(|m| m.subject.ends_with(&format!(".{publication}")))
        .map(|m| {
            let a = Article::decode(m.payload).expect("article decodes");
            let header = m
                .headers
                .get("Pagewire-Revision")
                .map(|v| v.as_str().to_owned());
            assert_eq!(header, Some(a.revision.to_string()), "revision header");
            a
        })
        .collect()
}

/// What a subscriber ends with: per id the message of the highest revision. Two messages of
/// one revision must be equal, or the fold fails.
fn fold(messages: &[Article]) -> BTreeMap<String, Article> {
    let mut view: BTreeMap<String, Article> = BTreeMap::new();
    for a in messages {
        match view.get(&a.id) {
            Some(old) if old.revision > a.revision => {}
            Some(old) if old.revision == a.revision => assert_eq!(
                old, a,
                "revision {} of {} stored twice, differently",
                a.revision, a.id
            ),
            _ => {
                view.insert(a.id.clone(), a.clone());
            }
        }
    }
    view
}

fn id(publication: &str, page: u32, ordinal: u32) -> String {
    format!("{publication}/{ISSUE_DATE}/main/{page}/{ordinal}")
}

async fn stream_counts(js: &jetstream::Context, s: &Settings) -> (u64, u64) {
    (
        count(js, &s.output.archive.stream).await,
        count(js, &s.output.search.stream).await,
    )
}

/// The page as the service parses it for stitching.
fn parsed(s: &Settings, publication: &str, page: u32, body: &str) -> Page {
    let pipeline = Pipeline::new(s, usize::MAX).stitching(true);
    let headers = vec![
        ("Content-Type".to_owned(), "text/markdown".to_owned()),
        ("Pagewire-Issue-Date".to_owned(), ISSUE_DATE.to_owned()),
        ("Pagewire-Page".to_owned(), page.to_string()),
    ];
    let processed = pipeline
        .process(&Incoming {
            subject: &format!("pages.raw.{publication}"),
            headers: &headers,
            payload: body.as_bytes(),
        })
        .unwrap_or_else(|r| panic!("page {page} does not parse: {}", r.error));
    let Work::Parsed(parsed) = processed.work else {
        panic!("parsed for the stitcher");
    };
    parsed.1
}

/// What a subscriber of an issue whose pages are `pages` (as they are now) must hold if the
/// issue had only ever had these pages: the pure core composes them into a fresh index. The
/// archive's fold, and the search index (the ids whose last search message is not a removal).
fn fresh(
    s: &Settings,
    publication: &str,
    pages: &[(u32, &str)],
) -> (BTreeMap<String, Article>, BTreeMap<String, Article>) {
    let (mut index, mut records) = (IssueIndex::default(), Records::new());
    let (mut archive, mut search) = (Vec::new(), Vec::new());
    for &(n, body) in pages {
        let record = Arc::new(Record::new(stitch::record_of(&parsed(
            s,
            publication,
            n,
            body,
        ))));
        let hash = stitch::record_hash(&record.page.encode_to_vec());
        let label = format!("{n:02}");
        let step = stitch::register(&index, &records, n, &label, &hash, record.clone(), 1000, 0)
            .expect("room");
        index = step.index;
        records.insert(n, record);
        for c in step.plan.own.iter().chain(&step.plan.updates) {
            archive.push(c.article.clone());
            search.extend(c.search_article());
        }
    }
    (fold(&archive), live(&fold(&search)))
}

/// The ids a search index keeps: those whose last message neither withdraws nor stitches
/// them into another.
fn live(view: &BTreeMap<String, Article>) -> BTreeMap<String, Article> {
    view.iter()
        .filter(|(_, a)| !a.withdrawn && a.stitched_into.is_empty())
        .map(|(id, a)| (id.clone(), a.clone()))
        .collect()
}

fn unrevised(a: &Article) -> Article {
    Article {
        revision: 0,
        ..a.clone()
    }
}

/// Subscribers of archive and search hold exactly what a fresh issue of `pages` composes:
/// every article as it would be composed now (no stale stitch, no stale part), every id the
/// pages no longer have withdrawn, and search the same live articles.
async fn assert_current(
    js: &jetstream::Context,
    s: &Settings,
    publication: &str,
    pages: &[(u32, &str)],
    context: &str,
) {
    let (want_archive, want_search) = fresh(s, publication, pages);
    let archive = fold(&articles(js, &s.output.archive.stream, publication).await);
    let ids: BTreeSet<&String> = archive.keys().chain(want_archive.keys()).collect();
    for id in ids {
        match (archive.get(id), want_archive.get(id)) {
            (Some(got), Some(want)) => assert_eq!(
                unrevised(got),
                unrevised(want),
                "{context}: archive holds a stale {id}"
            ),
            (Some(got), None) => assert!(got.withdrawn, "{context}: {id} not withdrawn"),
            (None, _) => panic!("{context}: {id} never archived"),
        }
    }
    let search = live(&fold(
        &articles(js, &s.output.search.stream, publication).await,
    ));
    assert_eq!(
        search.keys().collect::<Vec<_>>(),
        want_search.keys().collect::<Vec<_>>(),
        "{context}: search index"
    );
    for (id, got) in &search {
        assert_eq!(
            unrevised(got),
            unrevised(&want_search[id]),
            "{context}: search holds a stale {id}"
        );
    }
}

// --- item 1: message ids and revisions for the whole life of an article id -------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_reverted_and_made_again_is_stored_each_time_in_order() {
    let server = NatsServer::start();
    let s = settings(&server, &stateful("10m", "7d"));
    let svc = InProcess::start(s.clone()).await;
    let (_c, js) = client(&server).await;
    let p = "reverts";
    let original = three_briefs("本市夜市延长营业至凌晨一点。");
    let corrected = three_briefs("本市夜市延长营业至晚上十一点。");

    // Original, correction, revert, the correction again: all within the duplicate window.
    for body in [&original, &corrected, &original, &corrected] {
        send(&js, p, 2, body).await;
    }
    let changed = id(p, 2, 2);
    for stream in [&s.output.archive.stream, &s.output.search.stream] {
        let all = articles(&js, stream, p).await;
        let texts: Vec<(u64, &str)> = all
            .iter()
            .filter(|a| a.id == changed)
            .map(|a| (a.revision, a.paragraphs[0].as_str()))
            .collect();
        let want = [
            "本市夜市延长营业至凌晨一点。",
            "本市夜市延长营业至晚上十一点。",
            "本市夜市延长营业至凌晨一点。",
            "本市夜市延长营业至晚上十一点。",
        ];
        assert_eq!(
            texts.iter().map(|(_, t)| *t).collect::<Vec<_>>(),
            want,
            "{stream}: every state stored, in order"
        );
        assert!(
            texts.windows(2).all(|w| w[0].0 < w[1].0),
            "{stream}: revisions grow: {texts:?}"
        );
        // The articles the corrections left alone were stored once.
        for unchanged in [id(p, 2, 1), id(p, 2, 3)] {
            assert_eq!(
                all.iter().filter(|a| a.id == unchanged).count(),
                1,
                "{stream}: {unchanged}"
            );
        }
        let view = fold(&all);
        assert_eq!(
            view[&changed].paragraphs[0], want[3],
            "{stream}: the last one wins"
        );
    }
    eprintln!(
        "revisions of {changed}: {:?}",
        articles(&js, &s.output.archive.stream, p)
            .await
            .iter()
            .filter(|a| a.id == changed)
            .map(|a| a.revision)
            .collect::<Vec<_>>()
    );

    // An identical re-send stores nothing, on any topic.
    let before = stream_counts(&js, &s).await;
    send(&js, p, 2, &corrected).await;
    assert_eq!(
        stream_counts(&js, &s).await,
        before,
        "a re-send stored messages"
    );
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_after_the_issue_state_expired_outranks_what_subscribers_hold() {
    let server = NatsServer::start();
    // The issue's state lives 3 s here (7 days by default).
    let s = settings(&server, &stateful("1s", "3s"));
    let (_c, js) = client(&server).await;
    let p = "expiry";
    let first = InProcess::start(s.clone()).await;
    send(&js, p, 2, &three_briefs("本市夜市延长营业至凌晨一点。")).await;
    let held = fold(&articles(&js, &s.output.archive.stream, p).await);
    first.stop().await;

    // The index and the records expire from the bucket.
    let kv = js.get_key_value(&s.stitch.bucket).await.expect("bucket");
    let key = format!("issue.{p}.{ISSUE_DATE}.main");
    assert!(
        kv.entry(&key).await.expect("read").is_some(),
        "index written"
    );
    let expired = std::time::Instant::now();
    wait_for("the issue's index to expire", || {
        let kv = kv.clone();
        let key = key.clone();
        async move { kv.entry(&key).await.expect("read").is_none() }
    })
    .await;
    eprintln!("index gone {:?} after the check", expired.elapsed());

    // A restarted pagewire gets the correction.
    let second = InProcess::start(s.clone()).await;
    send(&js, p, 2, &three_briefs("本市夜市延长营业至晚上十一点。")).await;
    let all = articles(&js, &s.output.archive.stream, p).await;
    let view = fold(&all);
    let changed = id(p, 2, 2);
    assert!(
        view[&changed].revision > held[&changed].revision,
        "the correction ({}) does not outrank what subscribers hold ({})",
        view[&changed].revision,
        held[&changed].revision
    );
    assert_eq!(
        view[&changed].paragraphs[0],
        "本市夜市延长营业至晚上十一点。"
    );
    for ordinal in [1, 3] {
        let unchanged = id(p, 2, ordinal);
        assert!(view[&unchanged].revision > held[&unchanged].revision);
        assert_eq!(
            Article {
                revision: 0,
                ..view[&unchanged].clone()
            },
            Article {
                revision: 0,
                ..held[&unchanged].clone()
            }
        );
    }
    eprintln!(
        "held {} (revision {}), correction after expiry revision {}",
        changed, held[&changed].revision, view[&changed].revision
    );
    second.stop().await;
}

// --- item 2: a corrected page that drops articles withdraws them -----------------------------

/// A page of `n` briefs.
fn briefs(n: u32) -> String {
    (1..=n)
        .map(|i| format!("# 第{i}条简讯标题\n\n本市第{i}项民生工程今日开工建设。\n\n"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrected_page_with_fewer_articles_withdraws_the_rest() {
    let server = NatsServer::start();
    let s = settings(&server, &stateful("10m", "7d"));
    let svc = InProcess::start(s.clone()).await;
    let (_c, js) = client(&server).await;
    let p = "shrinks";
    let (full, short) = (briefs(40), briefs(1));
    send(&js, p, 4, &full).await;
    assert_current(&js, &s, p, &[(4, &full)], "40 briefs").await;

    // The issue's case: ids …/4/2 to …/4/40 must not stay in search and archive.
    send(&js, p, 4, &short).await;
    assert_current(&js, &s, p, &[(4, &short)], "shrunk to 1").await;
    for stream in [&s.output.archive.stream, &s.output.search.stream] {
        let all = articles(&js, stream, p).await;
        let view = fold(&all);
        let withdrawn: Vec<&Article> = view.values().filter(|a| a.withdrawn).collect();
        assert_eq!(withdrawn.len(), 39, "{stream}");
        for w in &withdrawn {
            let before = all.iter().find(|a| a.id == w.id && !a.withdrawn).unwrap();
            assert!(w.revision > before.revision, "{stream}: {}", w.id);
            assert!(
                w.paragraphs.is_empty() && w.headline.is_empty(),
                "{stream}: a bare id"
            );
            assert_eq!(w.page.as_ref().unwrap().ordinal, ordinal_of(&w.id));
        }
        assert!(
            !view[&id(p, 4, 1)].withdrawn,
            "{stream}: the remaining brief stays"
        );
    }
    let withdrawal = stored(&js, &s.output.search.stream)
        .await
        .into_iter()
        .find(|m| {
            m.headers
                .get("Pagewire-Withdrawn")
                .is_some_and(|v| v.as_str() == "true")
        })
        .expect("withdrawals carry Pagewire-Withdrawn: true");
    assert!(withdrawal.headers.get("Pagewire-Kind").is_none());

    // A re-send of the short page stores nothing; the long page again brings them back.
    let before = stream_counts(&js, &s).await;
    send(&js, p, 4, &short).await;
    assert_eq!(
        stream_counts(&js, &s).await,
        before,
        "a re-send stored messages"
    );
    send(&js, p, 4, &full).await;
    assert_current(&js, &s, p, &[(4, &full)], "grown back to 40").await;
    svc.stop().await;
}

fn ordinal_of(id: &str) -> u32 {
    id.rsplit('/').next().unwrap().parse().unwrap()
}

// --- item 3: stitching follows corrections both ways -----------------------------------------

const FRONT: &str = "# 黄河流域生态保护取得新进展\n\n本报讯 今年以来，我市持续推进黄河流域生态保护。\n\n沿黄湿地面积较去年增加三成。（下转第2版）\n\n# 城市书房开到家门口\n\n全市新建城市书房12家。（下转第二版）\n\n## 简讯\n\n市民文化节本周末开幕。\n";
const SECOND: &str = "# 城市书房开到家门口\n\n（上接第1版）书房实行24小时开放，市民刷卡即可入内。\n\n# 黄河流域生态保护\n\n（上接第一版）下一步，我市将实施一批生态修复项目。\n\n# 本地新闻\n\n今日我市气温回升，最高气温28摄氏度。\n";

/// The page without its jump markers.
fn unmarked(page: &str) -> String {
    [
        "（下转第2版）",
        "（下转第二版）",
        "（上接第1版）",
        "（上接第一版）",
    ]
    .iter()
    .fold(page.to_owned(), |text, marker| text.replace(marker, ""))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stitching_follows_a_correction_that_removes_or_restores_jump_markers() {
    let server = NatsServer::start();
    let s = settings(&server, &stateful("10m", "7d"));
    let svc = InProcess::start(s.clone()).await;
    let (_c, js) = client(&server).await;
    let p = "destitch";
    let (front, second) = (FRONT.to_owned(), SECOND.to_owned());
    let (front_plain, second_plain) = (unmarked(FRONT), unmarked(SECOND));
    let river = id(p, 1, 1);
    let revision_of = |view: &BTreeMap<String, Article>, id: &str| view[id].revision;

    send(&js, p, 1, &front).await;
    send(&js, p, 2, &second).await;
    assert_current(&js, &s, p, &[(1, &front), (2, &second)], "stitched").await;
    let stitched = fold(&articles(&js, &s.output.archive.stream, p).await);
    assert_eq!(stitched[&river].parts.len(), 2);

    // Page 2 loses its markers: the heads lose page 2's paragraphs at once, the pieces on
    // page 2 become briefs of their own (and reach search).
    let steps: [(&str, &[(u32, &str)]); 4] = [
        (
            "page 2 loses its markers",
            &[(1, &front), (2, &second_plain)],
        ),
        ("page 2 gets them back", &[(1, &front), (2, &second)]),
        (
            "page 1 loses its markers",
            &[(1, &front_plain), (2, &second)],
        ),
        ("page 1 gets them back", &[(1, &front), (2, &second)]),
    ];
    let mut last = stitched;
    for (what, pages) in steps {
        let (page, body) = if what.starts_with("page 2") {
            pages[1]
        } else {
            pages[0]
        };
        send(&js, p, page, body).await;
        assert_current(&js, &s, p, pages, what).await;
        let now = fold(&articles(&js, &s.output.archive.stream, p).await);
        assert!(
            revision_of(&now, &river) > revision_of(&last, &river),
            "{what}: the head is recomposed at a higher revision"
        );
        eprintln!(
            "{what}: head {} parts, revision {}",
            now[&river].parts.len(),
            now[&river].revision
        );
        last = now;
    }
    svc.stop().await;
}
