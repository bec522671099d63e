//! The reference subscribers of `examples/subscribers/` against real stores: nats-server running
//! the repository's `deploy/nats/single.conf` (so each subscriber connects as its own
//! least-privilege user), pagewire producing real output from real pages, and
//!
//! - `archive.py` into a real PostgreSQL (the server on 127.0.0.1:5432 when one answers there,
//!   a database of its own per test, dropped afterwards; otherwise a PostgreSQL from PyPI
//!   started by `tests/subscribers/throwaway_postgres.py`);
//! - `search.py` into a Tantivy index in a temporary folder, then its `query` command;
//! - `alert.py` against an HTTP server in this process that answers 500 before it takes them.
//!
//! Each checks the update contract: the highest revision is kept (a lower one published after
//! it changes nothing), withdrawals, stitched articles, and that a message delivered twice (a
//! copy published again, every message again to a new durable) is stored once.
//! Missing Python libraries or no PostgreSQL fail with the command that fixes it.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead as _, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use async_nats::HeaderMap;
use bytes::Bytes;
use prost::Message as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::task::JoinHandle;

use pagewire::config::Settings;
use pagewire::proto::Article;
use support::checker::{manifest, seed, wait_drained, InProcess, WAIT};
use support::python::{python_module, text};
use support::NatsCluster;

const PUBLICATION: &str = "baotou-daily";
/// The jump fixtures' issue: two stories jump from page 1 to page 2 (and one to page 8).
const JUMP_ISSUE: &str = "2025-07-11";
/// The seed's lead story.
const LEAD_HEADLINE: &str = "“高效办成一件事”有新部署 将如何惠及你我？";

// --- Python and the generated module ------------------------------------------------------------

/// The venv with the subscribers' libraries; see [`support::python::python`].
fn python() -> PathBuf {
    support::python::python(
        "nats, google.protobuf, grpc_tools.protoc, psycopg, tantivy",
        "The reference subscribers need nats-py, protobuf, grpcio-tools, psycopg and tantivy",
        "the subscribers' libraries",
    )
}

/// Runs one subscriber script to completion (`--idle-exit`), connected as `user`.
async fn subscriber(
    python: &Path,
    gen: &Path,
    cluster: &NatsCluster,
    user: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let mut cmd = Command::new(python);
    cmd.args(args)
        .current_dir(manifest(""))
        .env("PYTHONPATH", gen)
        .env("NATS_URL", cluster.urls().join(","))
        .env("NATS_USER", user)
        .env("NATS_PASSWORD", format!("{user}-example"))
        .env_remove("NATS_INBOX_PREFIX")
        .env_remove("NATS_DURABLE")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let run = tokio::task::spawn_blocking(move || cmd.output().expect("run the subscriber"));
    let out = tokio::time::timeout(WAIT, run)
        .await
        .expect("the subscriber exits in time")
        .expect("subscriber task");
    assert!(out.status.success(), "{}", text(&out));
    out
}

/// Runs `sql` with psycopg and returns the rows as JSON values.
fn sql(python: &Path, dsn: &str, sql: &str) -> Vec<Vec<serde_json::Value>> {
    let script = "import json, sys, psycopg\n\
                  with psycopg.connect(sys.argv[1], autocommit=True) as c:\n    \
                  cur = c.execute(sys.argv[2])\n    \
                  rows = cur.fetchall() if cur.description else []\n\
                  print(json.dumps([list(r) for r in rows], default=str, ensure_ascii=False))";
    let out = Command::new(python)
        .args(["-c", script, dsn, sql])
        .output()
        .expect("run psycopg");
    assert!(out.status.success(), "{sql}\n{}", text(&out));
    serde_json::from_slice(&out.stdout).expect("rows as JSON")
}

// --- PostgreSQL -----------------------------------------------------------------------------------

/// A PostgreSQL server for the tests: 127.0.0.1:5432 when it answers (trust auth, user
/// postgres), else one from PyPI (`scripts/install-nats-server --postgres`) on a socket in a
/// temp folder, stopped when this is dropped. `SUBSCRIBERS_TEST_POSTGRES=embedded` forces the
/// latter.
struct Postgres {
    /// DSN of the maintenance database, for CREATE / DROP DATABASE.
    admin: String,
    /// The embedded server's helper: it stops the server when its stdin closes.
    helper: Option<(Child, ChildStdin)>,
    /// The databases made for tests, with the python that drops them.
    created: Mutex<Vec<(PathBuf, String)>>,
}

impl Postgres {
    fn start(python: &Path) -> Self {
        let forced = std::env::var("SUBSCRIBERS_TEST_POSTGRES").unwrap_or_default() == "embedded";
        if !forced && TcpStream::connect("127.0.0.1:5432").is_ok() {
            return Postgres {
                admin: "postgresql://postgres@127.0.0.1:5432/postgres".into(),
                helper: None,
                created: Mutex::default(),
            };
        }
        let mut child = Command::new(python)
            .arg(manifest("tests/subscribers/throwaway_postgres.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run tests/subscribers/throwaway_postgres.py");
        let stdin = child.stdin.take().expect("helper stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("helper stdout"))
            .read_line(&mut line)
            .expect("read the helper's DSN");
        let admin = line.trim().to_owned();
        assert!(
            admin.starts_with("postgresql://"),
            "no PostgreSQL on 127.0.0.1:5432 and the embedded one did not start (got {line:?}); \
             install it with `scripts/install-nats-server --postgres` or start a server there"
        );
        Postgres {
            admin,
            helper: Some((child, stdin)),
            created: Mutex::default(),
        }
    }

    /// A new, empty database for one test; its DSN. Dropped with `self`, pass or fail.
    fn database(&self, python: &Path) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "pagewire_subscribers_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        sql(python, &self.admin, &format!("CREATE DATABASE {name}"));
        self.created
            .lock()
            .expect("databases")
            .push((python.to_owned(), name.clone()));
        let (head, query) = match self.admin.split_once('?') {
            Some((head, q)) => (head, format!("?{q}")),
            None => (self.admin.as_str(), String::new()),
        };
        let base = head.rsplit_once('/').expect("the DSN names a database").0;
        format!("{base}/{name}{query}")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // No panic here (it may run while a failed test unwinds): a database left behind is
        // named after the test process.
        for (python, name) in self.created.lock().map(|c| c.clone()).unwrap_or_default() {
            let _ = Command::new(python)
                .args(["-c", "import sys, psycopg\nwith psycopg.connect(sys.argv[1], autocommit=True) as c:\n    c.execute(sys.argv[2])"])
                .arg(&self.admin)
                .arg(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .output();
        }
        if let Some((mut child, stdin)) = self.helper.take() {
            drop(stdin);
            let _ = child.wait();
        }
    }
}

// --- NATS, pagewire, pages ------------------------------------------------------------------------

fn single_node() -> NatsCluster {
    NatsCluster::start_with_config(1, &manifest("deploy/nats/single.conf"), &[])
}

/// A client connected as a user of deploy/nats/accounts.conf.
async fn connect(cluster: &NatsCluster, user: &str) -> jetstream::Context {
    let client = async_nats::ConnectOptions::new()
        .user_and_password(user.into(), format!("{user}-example"))
        .custom_inbox_prefix(if user == "admin" {
            "_INBOX".to_owned()
        } else {
            format!("_INBOX_{user}")
        })
        .connect(cluster.urls())
        .await
        .unwrap_or_else(|e| panic!("{user} connects: {e}"));
    jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(5))
        .build(client)
}

/// `pagewire run` in this process as the `pagewire` user, stitching on, as deployed.
struct Service(InProcess);

impl Service {
    async fn start(cluster: &NatsCluster) -> Self {
        let env: HashMap<String, String> = [
            ("PAGEWIRE_NATS__SERVERS", cluster.urls().join(",")),
            ("PAGEWIRE_NATS__USER", "pagewire".into()),
            ("PAGEWIRE_NATS__PASSWORD", "pagewire-example".into()),
            ("PAGEWIRE_NATS__INBOX_PREFIX", "_INBOX_pagewire".into()),
            ("PAGEWIRE_INPUT__PULL_EXPIRES", "500ms".into()),
            ("PAGEWIRE_STITCH__ENABLED", "true".into()),
            ("PAGEWIRE_SHUTDOWN__DRAIN_TIMEOUT", "20s".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let settings = Settings::load_from(Some(&manifest("deploy/pagewire.toml")), Some(env))
            .expect("settings");
        Service(InProcess::start(settings).await)
    }

    async fn stop(self) {
        self.0.stop().await;
    }
}

/// Asserts that the server refused nobody anything: each subscriber did all it does with the
/// permissions of its user.
fn assert_no_violations(cluster: &NatsCluster) {
    let logs = cluster.logs();
    let refused: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(" Violation - "))
        .collect();
    assert!(
        refused.is_empty(),
        "permission violations:\n{}",
        refused.join("\n")
    );
}

async fn publish_page(producer: &jetstream::Context, issue: &str, page: u32, body: Vec<u8>) -> u64 {
    let mut h = HeaderMap::new();
    h.insert("Content-Type", "text/markdown");
    h.insert("Pagewire-Issue-Date", issue);
    h.insert("Pagewire-Page", page.to_string().as_str());
    producer
        .publish_with_headers(format!("pages.raw.{PUBLICATION}"), h, body.into())
        .await
        .expect("publish")
        .await
        .expect("PubAck")
        .sequence
}

fn brief(n: u32) -> String {
    format!("# 第{n}条简讯标题\n\n本市第{n}项民生工程今日开工建设。\n\n")
}

/// The pages every test feeds pagewire: the seed front page (2025-07-10), the jump pages 1 and
/// 2 of 2025-07-11 (two stories stitched across them), and page 5 of 2025-07-11 with three
/// briefs, then corrected to one (two withdrawals).
async fn feed(cluster: &NatsCluster) {
    let producer = connect(cluster, "producer").await;
    let admin = connect(cluster, "admin").await;
    publish_page(&producer, "2025-07-10", 1, seed()).await;
    for page in [1, 2] {
        let body = std::fs::read(manifest(&format!(
            "tests/fixtures/pages/zh-jump-p0{page}.md"
        )))
        .expect("jump fixture");
        publish_page(&producer, JUMP_ISSUE, page, body).await;
    }
    let three: String = (1..=3).map(brief).collect();
    let last = publish_page(&producer, JUMP_ISSUE, 5, three.into_bytes()).await;
    wait_drained(&admin, last).await;
    let last = publish_page(&producer, JUMP_ISSUE, 5, brief(1).into_bytes()).await;
    wait_drained(&admin, last).await;
}

/// Every message of `stream` as stored: (subject, headers, payload).
async fn stored(admin: &jetstream::Context, stream: &str) -> Vec<(String, HeaderMap, Bytes)> {
    let mut s = admin.get_stream(stream).await.expect("stream");
    let state = s.info().await.expect("stream info").state.clone();
    let mut out = Vec::new();
    for seq in state.first_sequence..=state.last_sequence {
        if state.messages == 0 {
            break;
        }
        let m = s.get_raw_message(seq).await.expect("stored message");
        out.push((m.subject.to_string(), m.headers, m.payload));
    }
    out
}

/// The update contract folded over a topic as stored: id -> the article of highest revision.
fn latest(messages: &[(String, HeaderMap, Bytes)]) -> BTreeMap<String, Article> {
    let mut latest: BTreeMap<String, Article> = BTreeMap::new();
    for (_, _, payload) in messages {
        let a = Article::decode(payload.clone()).expect("an Article");
        if latest
            .get(&a.id)
            .is_none_or(|have| have.revision < a.revision)
        {
            latest.insert(a.id.clone(), a);
        }
    }
    latest
}

/// Publishes `payload` again on `subject` as the admin, without a message id (so the stream's
/// duplicate window does not drop it): what a late redelivery looks like to a subscriber.
async fn publish_again(
    admin: &jetstream::Context,
    subject: &str,
    headers: &HeaderMap,
    payload: Bytes,
) {
    let mut h = HeaderMap::new();
    for (name, values) in headers.iter() {
        let name = name.to_string();
        if name != "Nats-Msg-Id" {
            for v in values {
                h.append(name.as_str(), v.as_str());
            }
        }
    }
    admin
        .publish_with_headers(subject.to_owned(), h, payload)
        .await
        .expect("publish")
        .await
        .expect("PubAck");
}

/// The first (lowest-revision) message of `id` on a topic, with its subject and headers.
fn first_of(
    messages: &[(String, HeaderMap, Bytes)],
    id: &str,
) -> (String, HeaderMap, Bytes, Article) {
    messages
        .iter()
        .map(|(s, h, p)| {
            (
                s.clone(),
                h.clone(),
                p.clone(),
                Article::decode(p.clone()).expect("an Article"),
            )
        })
        .filter(|m| m.3.id == id)
        .min_by_key(|m| m.3.revision)
        .expect("the id is on the topic")
}

fn jump_id(page: u32, n: u32) -> String {
    format!("{PUBLICATION}/{JUMP_ISSUE}/main/{page}/{n}")
}

// --- archive -> PostgreSQL ------------------------------------------------------------------------

/// The archive as the tests compare it: one row per id.
fn archive_rows(python: &Path, dsn: &str) -> Vec<Vec<serde_json::Value>> {
    sql(
        python,
        dsn,
        "SELECT id, revision, withdrawn, stitched_into, md5(message), headline \
         FROM pagewire_articles ORDER BY id",
    )
}

fn count_rows(python: &Path, dsn: &str, table: &str) -> u64 {
    sql(python, dsn, &format!("SELECT count(*) FROM {table}"))[0][0]
        .as_u64()
        .expect("a count")
}

#[tokio::test]
async fn archive_keeps_the_highest_revision_marks_withdrawals_records_stitches_and_stores_once() {
    let python = python();
    let gen = python_module(&python);
    let pg = Postgres::start(&python);
    let dsn = pg.database(&python);

    let cluster = single_node();
    let svc = Service::start(&cluster).await;
    feed(&cluster).await;
    let admin = connect(&cluster, "admin").await;
    let articles = stored(&admin, "ARTICLES_ARCHIVE").await;
    let pages = stored(&admin, "PAGES_ARCHIVE").await;
    let want = latest(&articles);

    let archive = |durable: &'static str| {
        let (python, gen, dsn) = (python.clone(), gen.path().to_owned(), dsn.clone());
        let cluster = &cluster;
        async move {
            subscriber(
                &python,
                &gen,
                cluster,
                "archive",
                &[
                    "examples/subscribers/archive.py",
                    "--idle-exit",
                    "3",
                    "--durable",
                    durable,
                ],
                &[("ARCHIVE_DSN", &dsn)],
            )
            .await
        }
    };
    archive("archive").await;

    // One row per id at its highest revision, exactly what the contract folds the topic into.
    let rows = archive_rows(&python, &dsn);
    let got: BTreeMap<String, (u64, bool, Option<String>)> = rows
        .iter()
        .map(|r| {
            (
                r[0].as_str().expect("id").to_owned(),
                (
                    r[1].as_u64().expect("revision"),
                    r[2].as_bool().expect("withdrawn"),
                    r[3].as_str().map(str::to_owned),
                ),
            )
        })
        .collect();
    let expected: BTreeMap<String, (u64, bool, Option<String>)> = want
        .iter()
        .map(|(id, a)| {
            let into = (!a.stitched_into.is_empty()).then(|| a.stitched_into.clone());
            (id.clone(), (a.revision, a.withdrawn, into))
        })
        .collect();
    assert_eq!(got, expected);
    // Every message once in the history, every page record once.
    assert_eq!(
        count_rows(&python, &dsn, "pagewire_article_revisions"),
        articles.len() as u64
    );
    assert_eq!(
        count_rows(&python, &dsn, "pagewire_pages"),
        pages.len() as u64
    );
    assert_eq!(pages.len(), 5, "5 pages published, none identical");

    // The correction withdrew briefs 2 and 3 of page 5; the archive keeps their text, marked.
    let withdrawn = sql(
        &python,
        &dsn,
        "SELECT id, headline FROM pagewire_articles WHERE withdrawn ORDER BY id",
    );
    let want_withdrawn: Vec<Vec<serde_json::Value>> = [(2, "第2条简讯标题"), (3, "第3条简讯标题")]
        .into_iter()
        .map(|(n, headline)| vec![jump_id(5, n).into(), headline.into()])
        .collect();
    assert_eq!(withdrawn, want_withdrawn);

    // Two stories stitched across pages 1 and 2: each continuation records `stitched_into`, each
    // head its printed parts in order, as the stitched message lists them.
    let stitched: Vec<&Article> = want.values().filter(|a| !a.parts.is_empty()).collect();
    assert_eq!(stitched.len(), 2, "{want:#?}");
    let into = sql(
        &python,
        &dsn,
        "SELECT id, stitched_into FROM pagewire_articles WHERE stitched_into IS NOT NULL ORDER BY id",
    );
    assert_eq!(into.len(), 2, "{into:?}");
    for head in &stitched {
        let parts = sql(
            &python,
            &dsn,
            &format!(
                "SELECT part_id, page_number, paragraph_count FROM pagewire_article_parts \
                 WHERE article_id = '{}' ORDER BY position",
                head.id
            ),
        );
        let want_parts: Vec<Vec<serde_json::Value>> = head
            .parts
            .iter()
            .map(|p| {
                vec![
                    p.article_id.clone().into(),
                    p.page.as_ref().map_or(0, |pos| pos.page_number).into(),
                    p.paragraph_count.into(),
                ]
            })
            .collect();
        assert_eq!(parts, want_parts, "parts of {}", head.id);
        assert_eq!(parts.len(), 2);
        let part = head.parts[1].article_id.clone();
        assert!(
            into.contains(&vec![part.clone().into(), head.id.clone().into()]),
            "{part} stitched into {}: {into:?}",
            head.id
        );
    }

    // Late and repeated messages: the head's first revision (before the stitch) and a copy of
    // the latest message of a withdrawn brief, published again. The archive stays as it was.
    let before = archive_rows(&python, &dsn);
    let head = &stitched[0].id;
    let (subject, headers, payload, old) = first_of(&articles, head);
    assert!(old.revision < want[head].revision && old.parts.is_empty());
    publish_again(&admin, &subject, &headers, payload).await;
    let (subject, headers, payload) = articles
        .iter()
        .rev()
        .find(|(_, _, p)| Article::decode(p.clone()).expect("article").id == jump_id(5, 2))
        .cloned()
        .expect("the brief's withdrawal");
    publish_again(&admin, &subject, &headers, payload).await;
    archive("archive").await;
    assert_eq!(archive_rows(&python, &dsn), before);
    assert_eq!(
        count_rows(&python, &dsn, "pagewire_article_revisions"),
        articles.len() as u64
    );

    // Everything delivered again (a new durable replays both streams): nothing changes.
    archive("archive-replay").await;
    assert_eq!(archive_rows(&python, &dsn), before);
    assert_eq!(
        count_rows(&python, &dsn, "pagewire_article_revisions"),
        articles.len() as u64
    );
    assert_eq!(
        count_rows(&python, &dsn, "pagewire_pages"),
        pages.len() as u64
    );

    // The durable consumers acked everything.
    for (stream, durable) in [
        ("ARTICLES_ARCHIVE", "archive-articles"),
        ("PAGES_ARCHIVE", "archive-pages"),
    ] {
        let info = admin
            .get_stream(stream)
            .await
            .expect("stream")
            .consumer_info(durable)
            .await
            .expect("the durable exists");
        assert_eq!(
            (info.num_pending, info.num_ack_pending),
            (0, 0),
            "{durable}"
        );
    }
    svc.stop().await;
    assert_no_violations(&cluster);
}

// --- search -> Tantivy ----------------------------------------------------------------------------

/// `search.py query WORDS --json`: the hits' (id, headline).
fn query(python: &Path, gen: &Path, index: &Path, words: &[&str]) -> Vec<(String, String)> {
    let out = Command::new(python)
        .current_dir(manifest(""))
        .env("PYTHONPATH", gen)
        .arg("examples/subscribers/search.py")
        .arg("--index-dir")
        .arg(index)
        .arg("query")
        .args(words)
        .arg("--json")
        .output()
        .expect("run search.py query");
    // Exit 1 with no hit: an empty answer, not a failure.
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let hit: serde_json::Value = serde_json::from_str(l).expect("a JSON hit");
            (
                hit["id"].as_str().expect("id").to_owned(),
                hit["headline"].as_str().expect("headline").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn search_applies_revisions_withdrawals_and_stitches_and_finds_a_word_of_the_lead_story() {
    let python = python();
    let gen = python_module(&python);
    let index = tempfile::tempdir().expect("index dir");

    let cluster = single_node();
    let svc = Service::start(&cluster).await;
    feed(&cluster).await;
    let admin = connect(&cluster, "admin").await;
    let messages = stored(&admin, "ARTICLES_SEARCH").await;
    let want = latest(&messages);

    let index_dir = index.path().to_str().expect("utf-8 path").to_owned();
    let search = |durable: &'static str| {
        let (python, gen, index_dir) = (python.clone(), gen.path().to_owned(), index_dir.clone());
        let cluster = &cluster;
        async move {
            subscriber(
                &python,
                &gen,
                cluster,
                "search",
                &[
                    "examples/subscribers/search.py",
                    "--index-dir",
                    &index_dir,
                    "run",
                    "--idle-exit",
                    "3",
                    "--durable",
                    durable,
                ],
                &[],
            )
            .await
        }
    };
    search("search-index").await;
    let q = |words: &[&str]| query(&python, gen.path(), index.path(), words);

    // A word of the seed's lead story finds it (Chinese, no spaces: found by character pairs).
    let lead = q(&["高效办成"]);
    assert_eq!(
        lead.first().map(|h| h.1.as_str()),
        Some(LEAD_HEADLINE),
        "{lead:?}"
    );
    assert!(q(&["数字政府建设"]).iter().any(|h| h.1 == LEAD_HEADLINE));
    assert!(q(&["没有这个词语"]).is_empty());

    // Stitched: a phrase printed only in a continuation on page 2 finds the head's id on page
    // 1 (the stitched article), and the continuation itself is not in the index.
    let stitched: Vec<&Article> = want.values().filter(|a| !a.parts.is_empty()).collect();
    assert_eq!(stitched.len(), 2);
    let rare_earth = q(&["稀土应用高地"]);
    let heads: BTreeSet<&str> = stitched.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(rare_earth.len(), 1, "{rare_earth:?}");
    assert!(heads.contains(rare_earth[0].0.as_str()), "{rare_earth:?}");
    for a in want.values().filter(|a| !a.stitched_into.is_empty()) {
        assert!(a.id.contains("/2/"), "a page-2 continuation: {}", a.id);
    }
    let page2 = q(&["白名单"]);
    assert!(
        page2
            .iter()
            .all(|(id, _)| !id.contains(&format!("{JUMP_ISSUE}/main/2/"))),
        "{page2:?}"
    );
    assert_eq!(page2.len(), 1, "{page2:?}");

    // Withdrawn briefs are gone, the one the correction kept is found.
    assert_eq!(q(&["第1项民生工程"]).len(), 1);
    assert!(q(&["第2项民生工程"]).is_empty());
    assert!(q(&["第3项民生工程"]).is_empty());

    // Late messages: the stitched head's first revision (only its page-1 text) and brief 2's
    // first revision (before its withdrawal), published again. Neither is applied.
    let head = &rare_earth[0].0;
    for id in [head.clone(), jump_id(5, 2)] {
        let (subject, headers, payload, old) = first_of(&messages, &id);
        assert!(old.revision < want[&id].revision);
        publish_again(&admin, &subject, &headers, payload).await;
    }
    search("search-index").await;
    assert_eq!(q(&["稀土应用高地"]), rare_earth);
    assert!(q(&["第2项民生工程"]).is_empty());

    // Everything again, to a new durable: the same answers.
    search("search-replay").await;
    assert_eq!(q(&["稀土应用高地"]), rare_earth);
    assert_eq!(q(&["高效办成"]), lead);
    assert!(q(&["第2项民生工程"]).is_empty());
    assert_eq!(q(&["第1项民生工程"]).len(), 1);
    svc.stop().await;
    assert_no_violations(&cluster);
}

// --- alert -> webhook -----------------------------------------------------------------------------

/// One request the webhook received: its Idempotency-Key, body and the status it answered.
#[derive(Debug, Clone)]
struct Received {
    key: String,
    body: serde_json::Value,
    status: u16,
}

/// An HTTP server on loopback that answers 500 to the first `failures` POSTs, then 204.
struct Webhook {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    /// How many of the next requests fail with 500.
    failures: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Webhook {
    async fn start(failures: usize) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(AtomicUsize::new(failures));
        let (log, fail) = (received.clone(), failures.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut conn, _)) = listener.accept().await else {
                    return;
                };
                let (log, fail) = (log.clone(), fail.clone());
                tokio::spawn(async move {
                    let Some((key, body)) = read_request(&mut conn).await else {
                        return;
                    };
                    let failing = fail
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    let status = if failing { 500 } else { 204 };
                    log.lock()
                        .expect("log")
                        .push(Received { key, body, status });
                    let reason = if failing {
                        "Internal Server Error"
                    } else {
                        "No Content"
                    };
                    let reply = format!(
                        "HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                    let _ = conn.write_all(reply.as_bytes()).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        Webhook {
            url,
            received,
            failures,
            task,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("log").clone()
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one HTTP/1.1 request: (Idempotency-Key, JSON body).
async fn read_request(conn: &mut tokio::net::TcpStream) -> Option<(String, serde_json::Value)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let header = |name: &str| {
        head.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    };
    let length: usize = header("Content-Length")?.parse().ok()?;
    while buf.len() < head_end + length {
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&buf[head_end..head_end + length]).ok()?;
    Some((header("Idempotency-Key").unwrap_or_default(), body))
}

#[tokio::test]
async fn alert_posts_each_alert_once_retrying_after_500s_and_keeps_them_while_the_webhook_is_down()
{
    let python = python();
    let gen = python_module(&python);
    let cluster = single_node();
    let svc = Service::start(&cluster).await;
    feed(&cluster).await;
    let admin = connect(&cluster, "admin").await;
    let alerts = stored(&admin, "ARTICLES_ALERT").await;
    let keys: BTreeSet<String> = alerts
        .iter()
        .map(|(_, h, _)| h.get("Nats-Msg-Id").expect("message id").to_string())
        .collect();
    assert!(
        alerts.len() >= 3,
        "the seed page raises alerts: {}",
        alerts.len()
    );
    assert_eq!(keys.len(), alerts.len());

    let alert = |url: String, durable: &'static str, extra: &'static [&'static str]| {
        let (python, gen) = (python.clone(), gen.path().to_owned());
        let cluster = &cluster;
        async move {
            let mut args = vec![
                "examples/subscribers/alert.py",
                "--idle-exit",
                "3",
                "--durable",
                durable,
                "--backoff",
                "0.05",
            ];
            args.extend_from_slice(extra);
            subscriber(
                &python,
                &gen,
                cluster,
                "alert",
                &args,
                &[("ALERT_WEBHOOK_URL", &url)],
            )
            .await
        }
    };

    // Two 500s: the first alert is posted three times, then every alert once, each acked.
    let hook = Webhook::start(2).await;
    alert(hook.url.clone(), "alert-webhook", &[]).await;
    let got = hook.received();
    assert_eq!(got.len(), alerts.len() + 2, "{got:#?}");
    assert_eq!(got[0].key, got[1].key);
    assert_eq!(got[1].key, got[2].key);
    assert_eq!(
        got.iter().map(|r| r.status).collect::<Vec<_>>()[..3],
        [500, 500, 204]
    );
    let delivered: Vec<&Received> = got.iter().filter(|r| r.status == 204).collect();
    assert_eq!(
        delivered
            .iter()
            .map(|r| r.key.clone())
            .collect::<BTreeSet<_>>(),
        keys,
        "every alert delivered, each once"
    );
    assert_eq!(delivered.len(), keys.len());
    for r in &delivered {
        assert!(
            !r.body["rules"].as_array().expect("rules").is_empty(),
            "{r:?}"
        );
        assert!(
            !r.body["headline"].as_str().expect("headline").is_empty(),
            "{r:?}"
        );
        assert_eq!(r.body["msg_id"].as_str(), Some(r.key.as_str()));
    }
    // Run again: the durable acked them all, nothing is posted twice.
    alert(hook.url.clone(), "alert-webhook", &[]).await;
    assert_eq!(hook.received().len(), got.len());

    // A webhook that stays down: after its attempts each alert is nak'ed (to come again in 8
    // s), not lost; once the webhook is back they all arrive, each once.
    let down = Webhook::start(usize::MAX).await;
    alert(
        down.url.clone(),
        "alert-outage",
        &["--attempts", "2", "--redeliver-after", "8"],
    )
    .await;
    assert!(down.received().iter().all(|r| r.status == 500));
    assert!(!down.received().is_empty());
    let info = admin
        .get_stream("ARTICLES_ALERT")
        .await
        .expect("stream")
        .consumer_info("alert-outage")
        .await
        .expect("durable");
    assert_eq!(
        info.ack_floor.stream_sequence, 0,
        "nothing acked while down"
    );
    down.failures.store(0, Ordering::SeqCst);
    alert(down.url.clone(), "alert-outage", &["--idle-exit", "15"]).await;
    let after: Vec<Received> = down
        .received()
        .into_iter()
        .filter(|r| r.status == 204)
        .collect();
    assert_eq!(
        after.iter().map(|r| r.key.clone()).collect::<BTreeSet<_>>(),
        keys
    );
    assert_eq!(after.len(), keys.len());
    svc.stop().await;
    assert_no_violations(&cluster);
}
