//! The deployment, proven against real nats-server processes running the repository's own
//! `deploy/nats/` files (not copies; only ports, store and node names are given as flags).
//!
//! - The single-node profile: the whole pipeline runs as the least-privilege users that
//!   deploy/compose.yaml uses, with the same commands (`pagewire run`, `pagewire publish`,
//!   `pagewire tail`), and every user is refused what its role does not need. pagewire runs
//!   with cross-page stitching on, as deployed: its key-value bucket, its timers and the
//!   unresolved-jump topic work as the `pagewire` user, and nobody else can touch them.
//! - The cluster profile: three nodes, R3 streams and stitch state, two pagewire replicas on
//!   one durable consumer; a node is killed and restarted during a backfill and every message
//!   is stored exactly once, with the stitch state and the articles' final versions intact.
//! - The deploy files agree with each other (grace periods, the k8s settings file loads).
//!
//! Refusals are observed twice: the server's `Permissions Violation` error reaches the client,
//! and the effect did not happen (nothing stored, nothing received). Where everything must be
//! allowed, the servers' logs must show no permission violation at all (see [`violations`]).

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::pull::OrderedConfig, consumer::DeliverPolicy, kv};
use async_nats::{Event, HeaderMap, ServerError};
use bytes::Bytes;
use futures::StreamExt as _;
use prost::Message as _;

use pagewire::config::Settings;
use pagewire::envelope::Incoming;
use pagewire::pipeline::{Pipeline, Work};
use pagewire::proto::{Article, UnresolvedJump};
use pagewire::stitch::{self, IssueIndex, Records};
use support::NatsCluster;

use support::checker::{
    manifest, seed, wait_drained, InProcess as Service, ISSUE_DATE, PUBLICATION, SEED,
};
use support::pagewire::Pagewire;
use support::wait::{wait_for, WAIT};

/// pagewire's stitch bucket (`stitch.bucket`); its stream is `KV_pagewire_stitch`.
const BUCKET: &str = "pagewire_stitch";

/// The single-node profile, as deploy/compose.yaml's one-host variant would run it.
fn single_node() -> NatsCluster {
    NatsCluster::start_with_config(1, &manifest("deploy/nats/single.conf"), &[])
}

/// The cluster profile on three loopback nodes.
fn three_nodes() -> NatsCluster {
    NatsCluster::start_with_config(3, &manifest("deploy/nats/cluster.conf"), &[])
}

// --- users -------------------------------------------------------------------------------------

/// A user of deploy/nats/accounts.conf: its name, example password and private inbox prefix.
#[derive(Debug, Clone, Copy)]
struct User(&'static str);

const ADMIN: User = User("admin");
const PAGEWIRE: User = User("pagewire");
const PRODUCER: User = User("producer");
const SEARCH: User = User("search");
const ARCHIVE: User = User("archive");
const ALERT: User = User("alert");
const EDITOR: User = User("editor");

impl User {
    fn password(self) -> String {
        format!("{}-example", self.0)
    }

    /// The reply prefix its permissions allow (admin may use the shared one).
    fn inbox_prefix(self) -> String {
        match self.0 {
            "admin" => "_INBOX".to_owned(),
            name => format!("_INBOX_{name}"),
        }
    }

    /// The environment that makes any `pagewire` command connect as this user.
    fn env(self, cluster: &NatsCluster) -> Vec<(String, String)> {
        vec![
            ("PAGEWIRE_NATS__SERVERS".into(), cluster.urls().join(",")),
            ("PAGEWIRE_NATS__USER".into(), self.0.into()),
            ("PAGEWIRE_NATS__PASSWORD".into(), self.password()),
            ("PAGEWIRE_NATS__INBOX_PREFIX".into(), self.inbox_prefix()),
            ("PAGEWIRE_NATS__CONNECTION_NAME".into(), self.0.into()),
        ]
    }
}

/// A client connected as one user, keeping every error the server sent it.
struct Session {
    client: async_nats::Client,
    js: jetstream::Context,
    errors: Arc<Mutex<Vec<String>>>,
}

impl Session {
    async fn connect(cluster: &NatsCluster, user: User) -> Self {
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = errors.clone();
        let client = async_nats::ConnectOptions::new()
            .user_and_password(user.0.into(), user.password())
            .custom_inbox_prefix(user.inbox_prefix())
            .event_callback(move |event| {
                let sink = sink.clone();
                async move {
                    if let Event::ServerError(ServerError::Other(e)) = event {
                        sink.lock().expect("errors lock").push(e);
                    }
                }
            })
            .connect(cluster.urls())
            .await
            .unwrap_or_else(|e| panic!("{} connects: {e}", user.0));
        // Short: a refused API request is never answered, and the tests make several.
        let js = jetstream::ContextBuilder::new()
            .timeout(Duration::from_secs(1))
            .build(client.clone());
        Session { client, js, errors }
    }

    /// Waits for the server's `Permissions Violation for <what>`, e.g.
    /// `Publish to "pages.raw.baotou-daily"` or `Subscription to "articles.>"`.
    async fn refused(&self, what: &str) {
        let want = format!("Permissions Violation for {what}");
        let errors = self.errors.clone();
        wait_for(&format!("the server to refuse: {want}"), || {
            let found = errors
                .lock()
                .expect("errors lock")
                .iter()
                .any(|e| e.eq_ignore_ascii_case(&want));
            async move { found }
        })
        .await;
    }

    /// Core-publishes one message and makes sure it left the socket.
    async fn publish(&self, subject: &str, body: &'static str) {
        self.client
            .publish(subject.to_owned(), body.into())
            .await
            .expect("publish queued");
        self.client.flush().await.expect("flush");
    }
}

// --- the service and its outputs ---------------------------------------------------------------

/// The example config with the user's credentials and short timings for tests, stitching on.
fn pagewire_settings(cluster: &NatsCluster, extra: &[(&str, &str)]) -> Settings {
    let mut env: HashMap<String, String> = PAGEWIRE.env(cluster).into_iter().collect();
    for (k, v) in [
        ("PAGEWIRE_NATS__REQUEST_TIMEOUT", "2s"),
        ("PAGEWIRE_NATS__RECONNECT_DELAY_MAX", "500ms"),
        ("PAGEWIRE_INPUT__ACK_WAIT", "5s"),
        ("PAGEWIRE_INPUT__PULL_EXPIRES", "500ms"),
        ("PAGEWIRE_RETRY__NAK_INITIAL", "100ms"),
        ("PAGEWIRE_RETRY__NAK_MAX", "1s"),
        ("PAGEWIRE_SHUTDOWN__DRAIN_TIMEOUT", "20s"),
        // Stitching is on by default and in every deploy file; said here as well because the
        // other suites' environment (support::checker::test_env) turns it off. These tests
        // prove the `pagewire` user may do everything stitching does.
        ("PAGEWIRE_STITCH__ENABLED", "true"),
    ]
    .into_iter()
    .chain(extra.iter().copied())
    {
        env.insert(k.to_owned(), v.to_owned());
    }
    Settings::load_from(Some(&manifest("deploy/pagewire.toml")), Some(env)).expect("settings")
}

fn markdown_headers(page: u32) -> HeaderMap {
    issue_headers(ISSUE_DATE, page)
}

/// A Markdown page of `baotou-daily` of `issue_date`.
fn issue_headers(issue_date: &str, page: u32) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("Content-Type", "text/markdown");
    h.insert("Pagewire-Issue-Date", issue_date);
    h.insert("Pagewire-Page", page.to_string().as_str());
    h
}

/// The permission violations the servers logged (`... - "NEWSROOM/user:<name>" - Publish
/// Violation - Subject "..."`, the same for subscriptions). The micro service's endpoint and
/// discovery subscriptions are granted too, so there is no known exception.
fn violations(cluster: &NatsCluster) -> Vec<String> {
    cluster
        .logs()
        .lines()
        .filter(|l| l.contains(" Violation - "))
        .map(str::to_owned)
        .collect()
}

/// Asserts that the servers refused nobody anything.
fn assert_no_violations(cluster: &NatsCluster) {
    let refused = violations(cluster);
    assert!(
        refused.is_empty(),
        "permission violations:\n{}",
        refused.join("\n")
    );
}

/// The index of one `baotou-daily` issue in the stitch bucket, if pagewire wrote one (asking
/// again while a leader is being elected).
async fn issue_index(js: &jetstream::Context, issue_date: &str) -> Option<IssueIndex> {
    let key = format!("issue.{PUBLICATION}.{issue_date}.main");
    let deadline = Instant::now() + WAIT;
    loop {
        let answer = async {
            js.get_key_value(BUCKET)
                .await?
                .get(&key)
                .await
                .map_err(async_nats::Error::from)
        };
        match answer.await {
            Ok(value) => {
                return value.map(|v| {
                    IssueIndex::from_bytes(&v)
                        .unwrap_or_else(|e| panic!("{key} is not an issue index: {e}"))
                })
            }
            Err(e) => assert!(Instant::now() < deadline, "cannot read {key}: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of an unlabelled sample in pagewire's metrics text, e.g. `pagewire_stitched_total`.
fn sample(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no sample {name} in:\n{metrics}"))
}

/// Messages in a stream (asking again while its leader is being elected).
async fn count(js: &jetstream::Context, stream: &str) -> u64 {
    let deadline = Instant::now() + WAIT;
    loop {
        let answer = async {
            js.get_stream(stream)
                .await?
                .info()
                .await
                .map(|i| i.state.messages)
                .map_err(async_nats::Error::from)
        };
        match answer.await {
            Ok(n) => return n,
            Err(e) => assert!(Instant::now() < deadline, "no info on {stream}: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every message id stored in a stream, with how often each occurs.
async fn stored_ids(js: &jetstream::Context, stream: &str) -> BTreeMap<String, usize> {
    let mut ids = BTreeMap::new();
    for (id, _) in stored_messages(js, stream).await {
        *ids.entry(id).or_insert(0) += 1;
    }
    ids
}

/// Every message stored in a stream, in order: (message id, payload).
async fn stored_messages(js: &jetstream::Context, stream: &str) -> Vec<(String, Bytes)> {
    let deadline = Instant::now() + WAIT;
    loop {
        match read_messages(js, stream).await {
            Ok(messages) => return messages,
            // A stream whose leader is being elected answers nothing for a moment.
            Err(e) => assert!(Instant::now() < deadline, "cannot read {stream}: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn read_messages(
    js: &jetstream::Context,
    stream: &str,
) -> Result<Vec<(String, Bytes)>, async_nats::Error> {
    let mut s = js.get_stream(stream).await?;
    let state = s.info().await?.state.clone();
    let mut messages = Vec::new();
    if state.messages == 0 {
        return Ok(messages);
    }
    for seq in state.first_sequence..=state.last_sequence {
        let m = s.get_raw_message(seq).await?;
        let id = m
            .headers
            .get("Nats-Msg-Id")
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        messages.push((id, m.payload));
    }
    Ok(messages)
}

/// What the service must store for these copies of the seed page without stitching, computed
/// with the same pure pipeline: output stream -> message ids.
fn expected_outputs(settings: &Settings, pages: &[u32]) -> BTreeMap<String, BTreeSet<String>> {
    let pipeline = Pipeline::new(settings, usize::MAX);
    let topics: Vec<(String, String)> = settings
        .output
        .topics()
        .iter()
        .map(|(_, t)| (format!("{}.", t.subject_prefix), t.stream.clone()))
        .collect();
    let mut out: BTreeMap<String, BTreeSet<String>> = topics
        .iter()
        .map(|(_, s)| (s.clone(), BTreeSet::new()))
        .collect();
    let body = seed();
    let subject = format!("pages.raw.{PUBLICATION}");
    for page in pages {
        let headers = vec![
            ("Content-Type".to_owned(), "text/markdown".to_owned()),
            ("Pagewire-Issue-Date".to_owned(), ISSUE_DATE.to_owned()),
            ("Pagewire-Page".to_owned(), page.to_string()),
        ];
        let processed = pipeline
            .process(&Incoming {
                subject: &subject,
                headers: &headers,
                payload: &body,
            })
            .unwrap_or_else(|r| panic!("page {page} does not parse: {}", r.error));
        let Work::Routed(outputs) = processed.work else {
            panic!("page {page} is routed without stitching");
        };
        for o in outputs {
            let stream = topics
                .iter()
                .find(|(prefix, _)| o.subject.starts_with(prefix.as_str()))
                .map(|(_, s)| s.clone())
                .expect("output subject belongs to a topic");
            out.entry(stream).or_default().insert(o.msg_id().to_owned());
        }
    }
    out
}

/// The seed page as page `page` of the issue, parsed as the service parses it for stitching.
fn seed_parsed(settings: &Settings, page: u32) -> pagewire::proto::Page {
    let pipeline = Pipeline::new(settings, usize::MAX).stitching(true);
    let headers = vec![
        ("Content-Type".to_owned(), "text/markdown".to_owned()),
        ("Pagewire-Issue-Date".to_owned(), ISSUE_DATE.to_owned()),
        ("Pagewire-Page".to_owned(), page.to_string()),
    ];
    let processed = pipeline
        .process(&Incoming {
            subject: &format!("pages.raw.{PUBLICATION}"),
            headers: &headers,
            payload: &seed(),
        })
        .unwrap_or_else(|r| panic!("page {page} does not parse: {}", r.error));
    let Work::Parsed(parsed) = processed.work else {
        panic!("the page, for the stitcher");
    };
    let (_, parsed) = *parsed;
    parsed
}

/// A stored article message id without its revision (`<id>:<revision>:<version>:<topic>` →
/// `<id>:<version>:<topic>`), as the pure pipeline names it: it has no issue state, so no
/// revision. Other ids are returned as they are.
fn without_revision(msg_id: &str) -> String {
    let parts: Vec<&str> = msg_id.split(':').collect();
    if parts.len() == 4 && parts[1].bytes().all(|b| b.is_ascii_digit()) {
        format!("{}:{}:{}", parts[0], parts[2], parts[3])
    } else {
        msg_id.to_owned()
    }
}

/// Every output stream holds exactly the expected ids (revisions aside), each exactly once.
async fn check_exactly_once(
    js: &jetstream::Context,
    expected: &BTreeMap<String, BTreeSet<String>>,
) {
    for (stream, want) in expected {
        let counted = stored_ids(js, stream).await;
        let twice: Vec<_> = counted.iter().filter(|(_, n)| **n > 1).collect();
        let got: BTreeSet<String> = counted.keys().map(|k| without_revision(k)).collect();
        let lost: Vec<_> = want.difference(&got).collect();
        let unexpected: Vec<_> = got.difference(want).collect();
        assert!(
            twice.is_empty() && lost.is_empty() && unexpected.is_empty(),
            "{stream}: stored twice {twice:?}, lost {lost:?}, unexpected {unexpected:?}"
        );
    }
}

/// Exactly-once storage with stitching on, for copies of the seed page `pages` of one issue.
///
/// Stitching re-publishes an article whenever a page that links to it is registered (every
/// copy's photo story announces the one on page 5), so which versions are stored depends on
/// the order the replicas registered the pages in. What holds whatever the order:
/// - no message id is stored twice in any output stream;
/// - the page-level records are exactly the expected ones, and every article stream holds
///   every expected article id and no other (at one version or more);
/// - the issue's index in the bucket lists every page under the hash of the record the pure
///   core makes of it: no registration was lost;
/// - per article, archived messages of equal revision are equal, and the one with the highest
///   revision is the article as the pure core composes it from that final index: the last
///   update won.
async fn check_stitched_exactly_once(
    js: &jetstream::Context,
    settings: &Settings,
    expected: &BTreeMap<String, BTreeSet<String>>,
    pages: &[u32],
) {
    let article_id = |msg_id: &str| msg_id.split(':').next().unwrap_or_default().to_owned();
    for (stream, want) in expected {
        let counted = stored_ids(js, stream).await;
        let twice: Vec<_> = counted.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "{stream}: stored twice {twice:?}");
        let (got, want): (BTreeSet<String>, BTreeSet<String>) = if stream.starts_with("ARTICLES_") {
            (
                counted.keys().map(|k| article_id(k)).collect(),
                want.iter().map(|k| article_id(k)).collect(),
            )
        } else {
            (counted.keys().cloned().collect(), want.clone())
        };
        let lost: Vec<_> = want.difference(&got).collect();
        let unexpected: Vec<_> = got.difference(&want).collect();
        assert!(
            lost.is_empty() && unexpected.is_empty(),
            "{stream}: lost {lost:?}, unexpected {unexpected:?}"
        );
    }

    let index = issue_index(js, ISSUE_DATE)
        .await
        .expect("the issue's index is in the bucket");
    assert_eq!(
        index.pages.keys().copied().collect::<Vec<_>>(),
        pages,
        "every page registered"
    );
    let mut records = Records::new();
    for &page in pages {
        let record = stitch::record_of(&seed_parsed(settings, page));
        assert_eq!(
            index.pages[&page].record,
            stitch::record_hash(&record.encode_to_vec()),
            "page {page} registered with its record"
        );
        records.insert(page, Arc::new(stitch::Record::new(record)));
    }
    let mut last: BTreeMap<String, Article> = BTreeMap::new();
    for (msg_id, payload) in stored_messages(js, "ARTICLES_ARCHIVE").await {
        let a = Article::decode(payload).unwrap_or_else(|e| panic!("{msg_id}: {e}"));
        match last.get(&a.id) {
            Some(seen) if seen.revision > a.revision => {}
            Some(seen) if seen.revision == a.revision => assert_eq!(
                seen, &a,
                "revision {} of {} stored twice, differently",
                a.revision, a.id
            ),
            _ => {
                last.insert(a.id.clone(), a);
            }
        }
    }
    let without_revision = |a: &Article| Article {
        revision: 0,
        ..a.clone()
    };
    for &page in pages {
        for c in stitch::replay_page(&index, &records, page).own {
            let stored = last
                .get(&c.article.id)
                .unwrap_or_else(|| panic!("{} never archived", c.article.id));
            assert_eq!(
                without_revision(stored),
                without_revision(&c.article),
                "{}: the archived version of the highest revision ({}) is not the final one",
                c.article.id,
                stored.revision
            );
        }
    }
}

// --- pagewire commands as child processes ------------------------------------------------------

/// Runs `pagewire ARGS` as `user`, which must succeed within [`WAIT`]; returns its stdout.
fn pagewire_command(cluster: &NatsCluster, user: User, args: &[&str]) -> String {
    let mut cmd = support::pagewire::command(args);
    cmd.envs(user.env(cluster));
    let mut child = Pagewire::spawn(cmd);
    let Some(status) = child.wait_exit_blocking(WAIT) else {
        panic!(
            "pagewire {args:?} as {} did not finish:\n{}",
            user.0,
            child.log()
        );
    };
    let stdout = child.stdout();
    assert!(
        status.success(),
        "pagewire {args:?} as {} failed ({status}):\n{}",
        user.0,
        child.log()
    );
    stdout
}

/// `pagewire tail TOPIC --all --count N` as `user`: the JSON lines' (subject, Nats-Msg-Id).
fn tail(cluster: &NatsCluster, user: User, topic: &str, n: usize) -> Vec<(String, String)> {
    let stdout = pagewire_command(
        cluster,
        user,
        &["tail", topic, "--all", "--count", &n.to_string()],
    );
    stdout
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("tail prints JSON lines");
            assert!(
                v["message"].get("error").is_none(),
                "undecodable message: {line}"
            );
            (
                v["subject"].as_str().unwrap_or_default().to_owned(),
                v["headers"]["Nats-Msg-Id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

// --- single-node profile: the permission matrix ------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pipeline_runs_end_to_end_as_the_least_privilege_users() {
    let cluster = single_node();
    let settings = pagewire_settings(&cluster, &[]);
    // One page alone: stitching has nothing to join it to, so the messages carry the ids the
    // pure pipeline gives them (their revision is the issue index's, 1).
    let expected = expected_outputs(&settings, &[1]);
    let svc = Service::start(settings).await;

    // The producer sends the seed page as compose's one-shot producer does.
    let seed = manifest(SEED);
    tokio::task::block_in_place(|| {
        pagewire_command(
            &cluster,
            PRODUCER,
            &[
                "publish",
                "--format",
                "text",
                "--publication",
                PUBLICATION,
                "--issue-date",
                ISSUE_DATE,
                "--page",
                "1",
                seed.to_str().expect("utf-8 path"),
            ],
        )
    });

    let admin = Session::connect(&cluster, ADMIN).await;
    wait_drained(&admin.js, 1).await;
    check_exactly_once(&admin.js, &expected).await;
    assert_eq!(
        count(&admin.js, "PAGES_DLQ").await,
        0,
        "nothing dead-lettered"
    );

    // Each subscriber reads its topic as compose's example subscribers do.
    let readers = [
        (SEARCH, "search", "articles.search.", "ARTICLES_SEARCH"),
        (ARCHIVE, "archive", "articles.archive.", "ARTICLES_ARCHIVE"),
        (ARCHIVE, "pages", "pages.archive.", "PAGES_ARCHIVE"),
        (ALERT, "alert", "articles.alert.", "ARTICLES_ALERT"),
    ];
    for (user, topic, prefix, stream) in readers {
        let want = &expected[stream];
        let got = tokio::task::block_in_place(|| tail(&cluster, user, topic, want.len()));
        assert!(
            got.iter().all(|(subject, _)| subject.starts_with(prefix)),
            "{} saw another topic: {got:?}",
            user.0
        );
        let ids: BTreeSet<String> = got
            .into_iter()
            .map(|(_, id)| without_revision(&id))
            .collect();
        assert_eq!(&ids, want, "{} reads all of {stream}", user.0);
    }
    assert_eq!(
        (
            expected["ARTICLES_SEARCH"].len(),
            expected["ARTICLES_ARCHIVE"].len(),
            expected["PAGES_ARCHIVE"].len()
        ),
        (5, 7, 1),
        "the seed page's known shape"
    );
    assert_eq!(svc.state.snapshot().pages_acked, 1);

    // Stitching ran as the `pagewire` user: the page is registered in its issue's index (a
    // record put, the index created by compare-and-set, both read back by direct get).
    let index = issue_index(&admin.js, ISSUE_DATE)
        .await
        .expect("the seed's issue index");
    assert_eq!(index.pages.keys().copied().collect::<Vec<_>>(), [1]);
    svc.stop().await;
    assert_no_violations(&cluster);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stitching_keeps_its_state_fires_timers_and_reports_unresolved_jumps_as_pagewire() {
    // tests/fixtures/issues/zh-baotou-daily-2025-07-11.json: two stories jump from page 1 to
    // page 2, a third to page 8, which never comes.
    const ISSUE: &str = "2025-07-11";
    let cluster = single_node();
    // A half waits 3s for its partner instead of 10 minutes.
    let settings = pagewire_settings(&cluster, &[("PAGEWIRE_STITCH__TIMEOUT", "3s")]);
    let svc = Service::start(settings).await;
    let admin = Session::connect(&cluster, ADMIN).await;
    let producer = Session::connect(&cluster, PRODUCER).await;

    let mut last = 0;
    for page in [1, 2] {
        let body = std::fs::read(manifest(&format!(
            "tests/fixtures/pages/zh-jump-p0{page}.md"
        )))
        .expect("jump fixture");
        last = producer
            .js
            .publish_with_headers(
                format!("pages.raw.{PUBLICATION}"),
                issue_headers(ISSUE, page),
                body.into(),
            )
            .await
            .expect("publish")
            .await
            .expect("PubAck")
            .sequence;
    }
    wait_drained(&admin.js, last).await;

    // The orphan's timer fires: the event reaches the unresolved topic, which the archive
    // user reads with a consumer of its own.
    let orphan = format!("{PUBLICATION}/{ISSUE}/main/1/4");
    let archive = Session::connect(&cluster, ARCHIVE).await;
    let mut events = archive
        .js
        .get_stream("ARTICLES_UNRESOLVED")
        .await
        .expect("archive reads ARTICLES_UNRESOLVED")
        .create_consumer(OrderedConfig {
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .expect("archive's consumer on ARTICLES_UNRESOLVED")
        .messages()
        .await
        .expect("messages");
    let event = tokio::time::timeout(WAIT, async {
        loop {
            let m = events
                .next()
                .await
                .expect("consumer open")
                .expect("message");
            assert_eq!(
                m.subject.as_str(),
                format!("articles.unresolved.{PUBLICATION}")
            );
            let e = UnresolvedJump::decode(m.payload.clone()).expect("an UnresolvedJump");
            if e.article_id == orphan {
                break e;
            }
        }
    })
    .await
    .expect("the orphan is reported unresolved");
    assert_eq!(event.headline, "黄河湿地迎来候鸟育雏高峰");

    // Every timer was worked off and acked (the work queue empties), and the issue's state is
    // in the bucket: both pages, the orphan reported.
    wait_for("the timers worked off", || {
        let js = admin.js.clone();
        async move { count(&js, "PAGEWIRE_TIMERS").await == 0 }
    })
    .await;
    let index = issue_index(&admin.js, ISSUE)
        .await
        .expect("the issue index");
    assert_eq!(index.pages.keys().copied().collect::<Vec<_>>(), [1, 2]);
    assert!(index.unresolved.contains_key(&orphan), "{index:?}");

    let metrics = svc.state.encode_metrics();
    assert_eq!(sample(&metrics, "pagewire_stitched_total"), 2.0);
    assert!(sample(&metrics, "pagewire_unresolved_jumps_total") >= 1.0);
    assert_eq!(
        count(&admin.js, "PAGES_DLQ").await,
        0,
        "nothing dead-lettered"
    );
    svc.stop().await;
    assert_no_violations(&cluster);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_before_its_pointer_is_parsed_again_from_pages_as_pagewire() {
    // Page 3 (no references) stores no record; the seed page's teaser names it, and pagewire
    // reads its raw page back from PAGES by sequence (`STREAM.MSG.GET`, in accounts.conf).
    let cluster = single_node();
    let svc = Service::start(pagewire_settings(&cluster, &[])).await;
    let producer = Session::connect(&cluster, PRODUCER).await;
    let admin = Session::connect(&cluster, ADMIN).await;
    let third =
        "# 让优质医疗资源请进来留得住\n\n北京大学第三医院包头医院正式挂牌运行，优质医疗资源扩容下沉。\n";
    for (page, body) in [(3, third.as_bytes().to_vec()), (1, seed())] {
        let last = producer
            .js
            .publish_with_headers(
                format!("pages.raw.{PUBLICATION}"),
                markdown_headers(page),
                body.into(),
            )
            .await
            .expect("publish")
            .await
            .expect("PubAck")
            .sequence;
        wait_drained(&admin.js, last).await;
    }
    let metrics = svc.state.encode_metrics();
    assert_eq!(
        sample(
            &metrics,
            "pagewire_stitch_source_reads_total{outcome=\"parsed\"}"
        ),
        1.0
    );
    assert_eq!(sample(&metrics, "pagewire_linked_total"), 1.0);
    svc.stop().await;
    assert_no_violations(&cluster);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_provisioning_off_pagewire_binds_to_what_exists() {
    // Where an operator manages the streams (`output.provision = false`), pagewire only looks
    // up the streams, the bucket and its consumers: what accounts.conf keeps for that case.
    let cluster = single_node();
    Service::start(pagewire_settings(&cluster, &[]))
        .await
        .stop()
        .await;
    let settings = pagewire_settings(&cluster, &[("PAGEWIRE_OUTPUT__PROVISION", "false")]);
    let expected = expected_outputs(&settings, &[1]);
    let svc = Service::start(settings).await;
    let producer = Session::connect(&cluster, PRODUCER).await;
    let admin = Session::connect(&cluster, ADMIN).await;
    let last = send_page(&producer, 1).await;
    wait_drained(&admin.js, last).await;
    check_exactly_once(&admin.js, &expected).await;
    svc.stop().await;
    assert_no_violations(&cluster);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pagewire_user_is_refused_raw_pages_and_other_services_topics() {
    let cluster = single_node();
    let svc = Service::start(pagewire_settings(&cluster, &[])).await;
    let admin = Session::connect(&cluster, ADMIN).await;
    let pagewire = Session::connect(&cluster, PAGEWIRE).await;

    // It may not inject raw pages...
    pagewire.publish("pages.raw.baotou-daily", "forged").await;
    pagewire
        .refused("Publish to \"pages.raw.baotou-daily\"")
        .await;
    assert_eq!(count(&admin.js, "PAGES").await, 0, "nothing was stored");

    // ...nor read raw pages except through its durable consumer...
    let pages = pagewire
        .js
        .get_stream("PAGES")
        .await
        .expect("stream info is allowed");
    let other = pages
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await;
    assert!(other.is_err(), "a second consumer on PAGES was created");
    pagewire
        .refused("Publish to \"$JS.API.CONSUMER.CREATE.PAGES\"")
        .await;

    // ...nor listen to a topic meant for another service...
    let mut search = pagewire
        .client
        .subscribe("articles.search.>")
        .await
        .expect("subscribe queued");
    pagewire.client.flush().await.expect("flush");
    pagewire
        .refused("Subscription to \"articles.search.>\"")
        .await;
    admin
        .publish("articles.search.baotou-daily", "for search")
        .await;
    let leaked = tokio::time::timeout(Duration::from_millis(500), search.next()).await;
    assert!(
        leaked.is_err(),
        "pagewire received search traffic: {leaked:?}"
    );

    // ...nor remove what it provisioned.
    assert!(pagewire.js.delete_stream("ARTICLES_SEARCH").await.is_err());
    pagewire
        .refused("Publish to \"$JS.API.STREAM.DELETE.ARTICLES_SEARCH\"")
        .await;
    assert!(admin.js.get_stream("ARTICLES_SEARCH").await.is_ok());

    // Its stitch state is its own bucket and nothing more: no other bucket...
    let other = admin
        .js
        .create_key_value(kv::Config {
            bucket: "other".to_owned(),
            ..Default::default()
        })
        .await
        .expect("admin creates a bucket");
    other.put("secret", "admin's".into()).await.expect("put");
    assert!(pagewire.js.get_key_value("other").await.is_err());
    pagewire
        .refused("Publish to \"$JS.API.STREAM.INFO.KV_other\"")
        .await;
    pagewire
        .publish("$JS.API.DIRECT.GET.KV_other.$KV.other.secret", "")
        .await;
    pagewire
        .refused("Publish to \"$JS.API.DIRECT.GET.KV_other.$KV.other.secret\"")
        .await;
    pagewire.publish("$KV.other.secret", "forged").await;
    pagewire.refused("Publish to \"$KV.other.secret\"").await;
    assert_eq!(
        other.get("secret").await.expect("get").as_deref(),
        Some(&b"admin's"[..]),
        "the other bucket is untouched"
    );

    // ...no watching its own (a consumer on the bucket's stream), no deleting or purging it...
    let mut bucket = pagewire
        .js
        .get_stream(format!("KV_{BUCKET}"))
        .await
        .expect("bucket info is allowed");
    assert!(bucket
        .create_consumer(OrderedConfig::default())
        .await
        .is_err());
    pagewire
        .refused("Publish to \"$JS.API.CONSUMER.CREATE.KV_pagewire_stitch\"")
        .await;
    assert!(pagewire.js.delete_key_value(BUCKET).await.is_err());
    pagewire
        .refused("Publish to \"$JS.API.STREAM.DELETE.KV_pagewire_stitch\"")
        .await;
    assert!(bucket.purge().await.is_err());
    pagewire
        .refused("Publish to \"$JS.API.STREAM.PURGE.KV_pagewire_stitch\"")
        .await;
    assert!(bucket.info().await.is_ok(), "the bucket is still there");

    // ...and no second consumer on its timers.
    let timers = pagewire
        .js
        .get_stream("PAGEWIRE_TIMERS")
        .await
        .expect("timer stream info is allowed");
    assert!(timers
        .create_consumer(OrderedConfig::default())
        .await
        .is_err());
    pagewire
        .refused("Publish to \"$JS.API.CONSUMER.CREATE.PAGEWIRE_TIMERS\"")
        .await;

    svc.stop().await;
    // The servers log each refusal: what `violations` reads in the tests that expect none.
    let logged = violations(&cluster);
    assert!(
        logged
            .iter()
            .any(|l| l.contains("user:pagewire") && l.contains("\"pages.raw.baotou-daily\"")),
        "refusals are logged as expected: {logged:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_producer_publishes_raw_pages_and_cannot_read_articles() {
    let cluster = single_node();
    let svc = Service::start(pagewire_settings(&cluster, &[])).await;
    let admin = Session::connect(&cluster, ADMIN).await;
    let producer = Session::connect(&cluster, PRODUCER).await;

    // Its one right: publish a raw page and get the PubAck on its private inbox.
    let ack = producer
        .js
        .publish_with_headers(
            format!("pages.raw.{PUBLICATION}"),
            markdown_headers(1),
            seed().into(),
        )
        .await
        .expect("publish")
        .await
        .expect("PubAck");
    wait_drained(&admin.js, ack.sequence).await;
    assert!(count(&admin.js, "ARTICLES_ARCHIVE").await > 0);

    let mut articles = producer
        .client
        .subscribe("articles.>")
        .await
        .expect("subscribe queued");
    producer.client.flush().await.expect("flush");
    producer.refused("Subscription to \"articles.>\"").await;
    admin
        .publish("articles.archive.baotou-daily", "for archive")
        .await;
    let leaked = tokio::time::timeout(Duration::from_millis(500), articles.next()).await;
    assert!(leaked.is_err(), "producer received articles: {leaked:?}");

    assert!(producer.js.get_stream("ARTICLES_ARCHIVE").await.is_err());
    producer
        .refused("Publish to \"$JS.API.STREAM.INFO.ARTICLES_ARCHIVE\"")
        .await;

    producer
        .publish("articles.search.baotou-daily", "forged")
        .await;
    producer
        .refused("Publish to \"articles.search.baotou-daily\"")
        .await;

    // Nor can it touch pagewire's stitch state: no timers, no bucket writes.
    producer
        .publish("pagewire.timers.baotou-daily", "forged")
        .await;
    producer
        .refused("Publish to \"pagewire.timers.baotou-daily\"")
        .await;
    let key = format!("$KV.{BUCKET}.issue.{PUBLICATION}.{ISSUE_DATE}.main");
    producer.publish(&key, "forged").await;
    producer.refused(&format!("Publish to \"{key}\"")).await;
    let index = issue_index(&admin.js, ISSUE_DATE)
        .await
        .expect("pagewire's index of the page");
    assert_eq!(index.pages.keys().copied().collect::<Vec<_>>(), [1]);
    // The timers there are pagewire's own (the seed page's three see-also pointers wait for
    // pages 3, 4 and 5); none is the forged one.
    let timers = stored_messages(&admin.js, "PAGEWIRE_TIMERS").await;
    assert!(
        timers
            .iter()
            .all(|(id, body)| id.starts_with("timer:") && &body[..] != b"forged"),
        "{timers:?}"
    );
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_subscriber_user_receives_only_its_own_topics() {
    let cluster = single_node();
    let svc = Service::start(pagewire_settings(&cluster, &[])).await;
    let admin = Session::connect(&cluster, ADMIN).await;

    // The article topics and their streams, and who reads which: search and archive also get
    // the unresolved-jump events (they explain the warning on articles both receive).
    let topics = [
        ("articles.search", "ARTICLES_SEARCH"),
        ("articles.archive", "ARTICLES_ARCHIVE"),
        ("articles.alert", "ARTICLES_ALERT"),
        ("articles.unresolved", "ARTICLES_UNRESOLVED"),
    ];
    let readers: [(User, &[&str]); 3] = [
        (SEARCH, &["articles.search", "articles.unresolved"]),
        (ARCHIVE, &["articles.archive", "articles.unresolved"]),
        (ALERT, &["articles.alert"]),
    ];
    let stream_of = |prefix: &str| {
        topics
            .iter()
            .find(|(p, _)| *p == prefix)
            .map(|(_, s)| *s)
            .expect("a topic")
    };
    for (user, own) in readers {
        let s = Session::connect(&cluster, user).await;
        let mut subscriptions = Vec::new();
        for prefix in own {
            subscriptions.push(
                s.client
                    .subscribe(format!("{prefix}.>"))
                    .await
                    .expect("subscribe"),
            );
        }
        // `flush` only writes the socket; an answered request on the same connection proves
        // the server has registered the subscriptions before anyone publishes.
        s.js.get_stream(stream_of(own[0]))
            .await
            .expect("own stream info");

        // Every topic gets one message; each subscription receives its own.
        for (prefix, _) in topics {
            admin
                .publish(&format!("{prefix}.{PUBLICATION}"), "one")
                .await;
        }
        for (prefix, subscription) in own.iter().zip(&mut subscriptions) {
            let first = tokio::time::timeout(WAIT, subscription.next())
                .await
                .expect("own topic arrives")
                .expect("subscription open");
            assert_eq!(first.subject.as_str(), format!("{prefix}.{PUBLICATION}"));
        }

        // A subscription to anything wider or to another topic is refused and stays silent.
        let mut wide = s.client.subscribe("articles.>").await.expect("queued");
        s.client.flush().await.expect("flush");
        s.refused("Subscription to \"articles.>\"").await;
        for (prefix, stream) in topics {
            if own.contains(&prefix) {
                continue;
            }
            let _other = s
                .client
                .subscribe(format!("{prefix}.>"))
                .await
                .expect("queued");
            s.client.flush().await.expect("flush");
            s.refused(&format!("Subscription to \"{prefix}.>\"")).await;
            // No JetStream consumer on another service's stream either.
            assert!(s.js.get_stream(stream).await.is_err());
            s.refused(&format!("Publish to \"$JS.API.STREAM.INFO.{stream}\""))
                .await;
        }
        admin
            .publish(&format!("articles.archive.{PUBLICATION}"), "two")
            .await;
        let leaked = tokio::time::timeout(Duration::from_millis(500), wide.next()).await;
        assert!(
            leaked.is_err(),
            "{} read beyond its topics: {leaked:?}",
            user.0
        );

        // Read-only: it cannot publish, not even to its own topics.
        for prefix in own {
            s.publish(&format!("{prefix}.{PUBLICATION}"), "forged")
                .await;
            s.refused(&format!("Publish to \"{prefix}.{PUBLICATION}\""))
                .await;
        }

        // pagewire's stitch state is not for subscribers: no bucket read or write, no timer.
        let key = format!("$KV.{BUCKET}.issue.{PUBLICATION}.forged.main");
        s.publish(&key, "forged").await;
        s.refused(&format!("Publish to \"{key}\"")).await;
        let direct = format!("$JS.API.DIRECT.GET.KV_{BUCKET}.{key}");
        s.publish(&direct, "").await;
        s.refused(&format!("Publish to \"{direct}\"")).await;
        assert!(s.js.get_key_value(BUCKET).await.is_err());
        s.refused("Publish to \"$JS.API.STREAM.INFO.KV_pagewire_stitch\"")
            .await;
        let _watch = s
            .client
            .subscribe(format!("$KV.{BUCKET}.>"))
            .await
            .expect("queued");
        s.client.flush().await.expect("flush");
        s.refused("Subscription to \"$KV.pagewire_stitch.>\"").await;
        s.publish("pagewire.timers.baotou-daily", "forged").await;
        s.refused("Publish to \"pagewire.timers.baotou-daily\"")
            .await;
        assert!(s.js.get_stream("PAGEWIRE_TIMERS").await.is_err());
        s.refused("Publish to \"$JS.API.STREAM.INFO.PAGEWIRE_TIMERS\"")
            .await;

        // Its own streams it may read with consumers of its own (what `pagewire tail` does).
        for prefix in own {
            let stream =
                s.js.get_stream(stream_of(prefix))
                    .await
                    .expect("own stream");
            stream
                .create_consumer(OrderedConfig::default())
                .await
                .unwrap_or_else(|e| panic!("{} reads {}: {e}", user.0, stream_of(prefix)));
        }
    }
    // None of the forgeries landed.
    assert_eq!(issue_index(&admin.js, "forged").await, None);
    assert_eq!(count(&admin.js, "PAGEWIRE_TIMERS").await, 0);
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_calls_pagewire_parse_and_discovers_the_service_and_nothing_else() {
    let cluster = single_node();
    let svc = Service::start(pagewire_settings(&cluster, &[])).await;
    let editor = Session::connect(&cluster, EDITOR).await;

    // Discovery, as `nats micro ls` or `pagewire status` ask it: every service, pagewire, one
    // instance. The answers come back on the editor's own inbox, sent by pagewire as replies.
    let ask = |subject: String, headers: HeaderMap, body: Bytes| {
        let client = editor.client.clone();
        async move {
            tokio::time::timeout(
                WAIT,
                client.request_with_headers(subject.clone(), headers, body),
            )
            .await
            .unwrap_or_else(|_| panic!("{subject}: no answer"))
            .unwrap_or_else(|e| panic!("{subject}: {e}"))
        }
    };
    let mut id = String::new();
    for verb in ["PING", "INFO", "STATS"] {
        for subject in [format!("$SRV.{verb}"), format!("$SRV.{verb}.pagewire")] {
            let reply = ask(subject.clone(), HeaderMap::new(), Bytes::new()).await;
            let v: serde_json::Value =
                serde_json::from_slice(&reply.payload).expect("discovery answers JSON");
            assert_eq!(v["name"], "pagewire", "{subject}: {v}");
            id = v["id"].as_str().expect("instance id").to_owned();
        }
    }
    let reply = ask(
        format!("$SRV.INFO.pagewire.{id}"),
        HeaderMap::new(),
        Bytes::new(),
    )
    .await;
    let v: serde_json::Value = serde_json::from_slice(&reply.payload).expect("JSON");
    assert_eq!(v["endpoints"][0]["subject"], "pagewire.parse", "{v}");

    // The parse endpoint: a page in, its articles out.
    let mut h = markdown_headers(1);
    h.insert("Pagewire-Publication", PUBLICATION);
    let reply = ask("pagewire.parse".to_owned(), h, Bytes::from(seed())).await;
    assert_eq!(
        reply
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Service-Error-Code").map(|v| v.to_string())),
        None
    );
    let page = pagewire::proto::Page::decode(reply.payload).expect("a Page");
    assert_eq!(page.articles.len(), 7, "the seed page's articles");
    // Granting all of that refused nothing to anyone, the service's micro subscriptions
    // included.
    assert_no_violations(&cluster);

    // Nothing else: no raw pages, no topics, no streams, no shared inbox, and it cannot serve
    // (or eavesdrop on) the endpoint itself.
    editor
        .publish(&format!("pages.raw.{PUBLICATION}"), "x")
        .await;
    editor
        .refused(&format!("Publish to \"pages.raw.{PUBLICATION}\""))
        .await;
    for subject in ["pagewire.parse", "articles.>", "_INBOX.>", "$SRV.>"] {
        let _sub = editor.client.subscribe(subject).await.expect("queued");
        editor.client.flush().await.expect("flush");
        editor
            .refused(&format!("Subscription to \"{subject}\""))
            .await;
    }
    assert!(editor.js.get_stream("PAGES").await.is_err());
    editor
        .refused("Publish to \"$JS.API.STREAM.INFO.PAGES\"")
        .await;
    editor.publish("$SRV.PING.other", "").await;
    editor.refused("Publish to \"$SRV.PING.other\"").await;

    // The pagewire user answers requests it received, and publishes to no one's inbox
    // otherwise; it serves the endpoint only in its queue group.
    let pw = Session::connect(&cluster, PAGEWIRE).await;
    pw.publish("_INBOX_editor.forged", "forged").await;
    pw.refused("Publish to \"_INBOX_editor.forged\"").await;
    let _plain = pw.client.subscribe("pagewire.parse").await.expect("queued");
    pw.client.flush().await.expect("flush");
    pw.refused("Subscription to \"pagewire.parse\"").await;
    svc.stop().await;
}

// --- cluster profile: fail-over ----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_three_nodes_store_every_article_once_while_a_node_is_killed() {
    const PAGES: u32 = 40;
    let mut cluster = three_nodes();
    // R3 streams, consumers and stitch bucket, as on the compose stack. max_deliver leaves room
    // for a leader election (a few seconds of failed publishes and key-value requests) without
    // exhausting a page's deliveries.
    let extra = [
        ("PAGEWIRE_OUTPUT__REPLICAS", "3"),
        ("PAGEWIRE_INPUT__MAX_DELIVER", "50"),
        // One page at a time per replica: the backfill lasts long enough to be interrupted.
        ("PAGEWIRE_INPUT__BATCH_SIZE", "1"),
        ("PAGEWIRE_LIMITS__MAX_IN_FLIGHT", "1"),
    ];
    // The first start provisions the streams, the bucket and the consumers, as the pagewire
    // user.
    Service::start(pagewire_settings(&cluster, &extra))
        .await
        .stop()
        .await;
    let admin = Session::connect(&cluster, ADMIN).await;
    let producer = Session::connect(&cluster, PRODUCER).await;

    for stream in [
        "PAGES",
        "ARTICLES_SEARCH",
        "ARTICLES_ARCHIVE",
        "ARTICLES_ALERT",
        "ARTICLES_UNRESOLVED",
        "PAGES_ARCHIVE",
        "PAGES_DLQ",
        "KV_pagewire_stitch",
        "PAGEWIRE_TIMERS",
    ] {
        let info = admin
            .js
            .get_stream(stream)
            .await
            .expect("stream")
            .info()
            .await
            .expect("stream info")
            .clone();
        assert_eq!(info.config.num_replicas, 3, "{stream} is R3");
    }
    for (stream, consumer) in [
        ("PAGES", "pagewire"),
        ("PAGEWIRE_TIMERS", "pagewire-timers"),
    ] {
        let info = admin
            .js
            .get_stream(stream)
            .await
            .expect("stream")
            .consumer_info(consumer)
            .await
            .expect("consumer info");
        assert_eq!(info.config.num_replicas, 3, "{stream}.{consumer} is R3");
    }

    // Two replicas, both ready, then a backfill for them to share (started after a waiting
    // backfill, the first replica can finish it before the second is up).
    let victim = consumer_leader(&admin.js, &cluster).await;
    let a = Service::start(pagewire_settings(&cluster, &extra)).await;
    let b = Service::start(pagewire_settings(&cluster, &extra)).await;
    let mut last = 0;
    for page in 1..=PAGES {
        last = send_page(&producer, page).await;
    }

    // Mid-run, once both replicas have finished a page, the node leading the durable consumer
    // dies without warning. (Killed earlier, the replica started second can spend the rest of
    // the backfill re-binding through the elections while the other takes every page.)
    wait_for("both replicas at work", || {
        let done = (
            a.state.snapshot().pages_acked,
            b.state.snapshot().pages_acked,
        );
        async move { done.0 >= 1 && done.1 >= 1 }
    })
    .await;
    let before_kill = count(&admin.js, "PAGES_ARCHIVE").await;
    cluster.kill(victim);
    assert!(
        before_kill < u64::from(PAGES),
        "the kill must land mid-run ({before_kill} of {PAGES} pages done)"
    );

    // Work goes on with two nodes; then the node comes back (same store) and catches up.
    wait_for("pages processed without the node", || {
        let js = admin.js.clone();
        async move { count(&js, "PAGES_ARCHIVE").await >= before_kill + 5 }
    })
    .await;
    tokio::task::block_in_place(|| cluster.start_node(victim));
    assert_eq!(
        last,
        u64::from(PAGES),
        "the input stream deduplicated re-sent pages"
    );
    wait_drained(&admin.js, last).await;

    let pages: Vec<u32> = (1..=PAGES).collect();
    let settings = pagewire_settings(&cluster, &[]);
    let expected = expected_outputs(&settings, &pages);
    check_stitched_exactly_once(&admin.js, &settings, &expected, &pages).await;
    assert_eq!(
        count(&admin.js, "PAGES_DLQ").await,
        0,
        "nothing dead-lettered"
    );
    let (sa, sb) = (a.state.snapshot(), b.state.snapshot());
    assert!(
        sa.pages_acked > 0 && sb.pages_acked > 0,
        "both replicas took pages: {sa:?} {sb:?}"
    );
    a.stop().await;
    b.stop().await;
    assert_no_violations(&cluster);
}

/// Publishes page `n` as the producer with a message id (so a retry after a lost PubAck
/// stores nothing new), retrying through a fail-over; returns its stream sequence.
async fn send_page(producer: &Session, page: u32) -> u64 {
    let mut headers = markdown_headers(page);
    headers.insert("Nats-Msg-Id", format!("backfill-{page}").as_str());
    let deadline = Instant::now() + WAIT;
    loop {
        let attempt = async {
            producer
                .js
                .publish_with_headers(
                    format!("pages.raw.{PUBLICATION}"),
                    headers.clone(),
                    seed().into(),
                )
                .await?
                .await
        };
        match attempt.await {
            Ok(ack) => return ack.sequence,
            Err(e) => assert!(Instant::now() < deadline, "page {page} not stored: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The node leading consumer `pagewire`.
async fn consumer_leader(js: &jetstream::Context, cluster: &NatsCluster) -> usize {
    let stream = js.get_stream("PAGES").await.expect("PAGES");
    let info = stream
        .consumer_info("pagewire")
        .await
        .expect("consumer info");
    let leader = info
        .cluster
        .as_ref()
        .and_then(|c| c.leader.clone())
        .expect("the consumer has a leader");
    cluster.index_of(&leader).expect("the leader is a node")
}

// --- the deploy files agree --------------------------------------------------------------------

/// A settings section as JSON, to compare it (they do not implement `PartialEq`).
fn json<T: serde::Serialize>(section: &T) -> serde_json::Value {
    serde_json::to_value(section).expect("settings serialize")
}

/// A `key: <integer>` or `key: <integer>s` value from a YAML file (no YAML parser needed for
/// these flat keys).
fn yaml_seconds(rel: &str, key: &str) -> Vec<u64> {
    std::fs::read_to_string(manifest(rel))
        .expect("deploy file")
        .lines()
        .filter_map(|l| l.trim().strip_prefix(&format!("{key}:")))
        .map(|v| {
            v.trim()
                .trim_end_matches('s')
                .parse()
                .unwrap_or_else(|_| panic!("{rel}: {key}: {v} is not seconds"))
        })
        .collect()
}

#[test]
fn the_kubernetes_settings_load_and_grace_periods_outlast_the_drain() {
    let k8s = Settings::load_from(
        Some(&manifest("deploy/k8s/pagewire.toml")),
        Some(HashMap::new()),
    )
    .expect("deploy/k8s/pagewire.toml loads");
    let example = Settings::load_from(
        Some(&manifest("deploy/pagewire.toml")),
        Some(HashMap::new()),
    )
    .expect("deploy/pagewire.toml loads");
    assert_eq!(k8s.nats.inbox_prefix, PAGEWIRE.inbox_prefix());
    assert_eq!(k8s.output.replicas, 3);
    let names = |s: &Settings| {
        s.alerts
            .rules
            .iter()
            .map(|r| r.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(&k8s),
        names(&example),
        "the same alert rules as the example"
    );

    // Stitching: the example shows every key of [stitch] with its default (and of
    // [output.unresolved]); the Kubernetes settings keep the defaults, which accounts.conf
    // grants.
    let defaults = Settings::default();
    for s in [&example, &k8s] {
        assert_eq!(json(&s.stitch), json(&defaults.stitch), "stitch defaults");
        assert_eq!(
            json(&s.output.unresolved),
            json(&defaults.output.unresolved),
            "output.unresolved defaults"
        );
    }
    let text = std::fs::read_to_string(manifest("deploy/pagewire.toml")).expect("example");
    let shown: BTreeSet<String> = text
        .lines()
        .skip_while(|l| l.trim() != "[stitch]")
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim().to_owned()))
        .collect();
    let keys: BTreeSet<String> = json(&defaults.stitch)
        .as_object()
        .expect("a table")
        .keys()
        .cloned()
        .collect();
    assert_eq!(shown, keys, "deploy/pagewire.toml shows every [stitch] key");

    // SIGTERM: the pull request open at the time ends, then in-flight pages get drain_timeout.
    let needed = (k8s.shutdown.drain_timeout + k8s.input.pull_expires).as_secs();
    for grace in yaml_seconds(
        "deploy/k8s/deployment.yaml",
        "terminationGracePeriodSeconds",
    ) {
        assert!(grace > needed, "k8s grace {grace}s <= {needed}s");
    }
    let compose = yaml_seconds("deploy/compose.yaml", "stop_grace_period");
    assert!(!compose.is_empty());
    let needed = (example.shutdown.drain_timeout + example.input.pull_expires).as_secs();
    for grace in compose {
        assert!(grace > needed, "compose grace {grace}s <= {needed}s");
    }
}

/// compose's first `up`: two replicas start together on an empty 3-node cluster
/// (cluster.conf, R3) and race to provision the same streams, bucket and consumers. A create
/// the other replica is making at the same moment can go unanswered (the request times out)
/// or be refused; provisioning checks what the server holds instead of giving up, so both
/// become ready, and a page then passes exactly once. (Before: each create timed out and
/// both replicas exited with `cannot provision stream ...`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_starting_together_on_an_empty_cluster_both_become_ready() {
    let cluster = three_nodes();
    let settings = pagewire_settings(&cluster, &[("PAGEWIRE_OUTPUT__REPLICAS", "3")]);
    let replicas = [
        Service::spawn(settings.clone()),
        Service::spawn(settings.clone()),
    ];
    let deadline = Instant::now() + WAIT;
    while !replicas.iter().all(|r| r.state.is_ready()) {
        for (i, r) in replicas.iter().enumerate() {
            assert!(
                !r.handle.is_finished(),
                "replica {i} stopped before it was ready"
            );
        }
        assert!(
            Instant::now() < deadline,
            "replicas not ready within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let expected = expected_outputs(&settings, &[1]);
    let admin = Session::connect(&cluster, ADMIN).await;
    admin
        .js
        .publish_with_headers("pages.raw.baotou-daily", markdown_headers(1), seed().into())
        .await
        .expect("publish")
        .await
        .expect("stored");
    wait_drained(&admin.js, 1).await;
    check_exactly_once(&admin.js, &expected).await;
    assert_no_violations(&cluster);
    for r in replicas {
        r.stop().await;
    }
}
