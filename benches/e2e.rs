//! End-to-end benchmark: pagewire against the limit of the machinery it runs on, side by side.
//!
//! `cargo bench --bench e2e` (a few minutes on 2 cores) or `cargo bench --bench e2e -- --long`.
//! Options:
//! - `--pages N`: pages per throughput run; `--only NAME`: one workload (name prefix);
//!   `--json PATH`: where the raw figures go;
//! - `--systems LIST`: which systems, comma-separated from `b0,b1,off,on,x2` (default all);
//! - `--latency LIST`: which systems get latency runs (default: every selected one but `x2`),
//!   `--loads LIST` (default `0.5,0.8`), `--latency-rate-of on`: offer every system the same
//!   rate, a fraction of the stitching-on system's maximum (default: each its own maximum);
//! - `--issue-pages N`: pages per issue (default 24, a daily's size); stitching works per issue;
//!   `--teasers front`: see-also pointers on each issue's first page only (default `all`: every
//!   page is the seed, a front page with three of them);
//! - `--atomic-batches`: B1 and pagewire publish a page's outputs to each stream as one atomic
//!   batch (`output.atomic_batches`, ADR-50), on output streams made with `allow_atomic`; B0
//!   publishes as without it.
//! - `--soak SECS [--rate R] [--systems off|on]`: one replica under steady load, RSS and the
//!   stitch bucket's size every 10 s.
//! - `--stress NAME`: one adversarial run against one replica with stitching on: `big-issue`
//!   (a 300-page issue of 900 KB pages published at once while another publication's pages
//!   keep coming), `large-pages` (64 pages of 4 MB at once: RSS idle, peak, after), `parse`
//!   (200 concurrent 64 KiB `pagewire.parse` requests: latency percentiles).
//!
//! For each workload these systems process the same pre-loaded input stream on a fresh
//! nats-server with file storage:
//! - **B0**: plain async-nats in this process: pull consume, publish the same number and sizes of
//!   messages per page with async publishes, await the PubAcks, ack. No pagewire code.
//! - **B1**: `pagewire run` with `bench.pass_through`: pagewire's consume / publish / ack
//!   machinery with the parser replaced by a byte chunker emitting the same messages (never
//!   stitches: pass-through turns stitching off).
//! - **pagewire, stitching off**: `pagewire run` with `stitch.enabled = false`.
//! - **pagewire, stitching on**: `pagewire run` as shipped: cross-page stitching through the
//!   key-value bucket, which it provisions itself at start (`output.provision = true`).
//! - **pagewire x2**: two stitching replicas on one durable consumer.
//!
//! Throughput comes from a run over a pre-loaded stream (no producer competing for the CPUs).
//! Latency comes from paced runs at a fraction of a measured maximum: a page's latency is the
//! time from its publish to the moment a subscriber has seen the last message its processing
//! published (see `latency` for how that is told with stitching).

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read as _, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::pull, AckKind};
use async_nats::HeaderMap;
use bytes::Bytes;
use futures::StreamExt;
use hdrhistogram::Histogram;
use pagewire::config::Settings;
use pagewire::envelope::Incoming;
use pagewire::pipeline::{Pipeline, Work};
use pagewire::topic::Topic;
use support::NatsServer;

const SEED: &str = include_str!("../tests/fixtures/zh-baotou-daily-2025-07-10-p01.md");
const PUBLICATION: &str = "bench";
const ISSUE_DATE: &str = "2025-07-10";

/// Pages per issue (publication, date, edition): `--issue-pages`, default 24. Stitching keeps
/// one index per issue and reads all of an issue's records for each of its pages, so this is
/// what its cost per page depends on; B0, B1 and pagewire without stitching do not care.
static ISSUE_PAGES: AtomicUsize = AtomicUsize::new(24);

fn issue_pages() -> usize {
    ISSUE_PAGES.load(Ordering::Relaxed)
}

/// `--teasers front`: only the first page of each issue keeps the seed's see-also pointers (its
/// photo story's and two teasers' `详见NN版`, pointing at pages 3, 4 and 5), as in a printed daily
/// where they sit on the front page; the other pages carry the same text without them. Default
/// (`all`): every page is the seed as it is, three pointers on every page, a harder case for
/// stitching (it re-matches every pointer of the issue for each page).
static FRONT_TEASERS: AtomicBool = AtomicBool::new(false);

fn teasers_mode() -> &'static str {
    if FRONT_TEASERS.load(Ordering::Relaxed) {
        "front"
    } else {
        "all"
    }
}

/// `--atomic-batches`: output streams with `allow_atomic` and `output.atomic_batches = true`
/// for every `pagewire run`.
static ATOMIC_BATCHES: AtomicBool = AtomicBool::new(false);

fn atomic_batches() -> bool {
    ATOMIC_BATCHES.load(Ordering::Relaxed)
}

/// One distinct page body with the outputs the real pipeline makes of it.
#[derive(Clone)]
struct Body {
    text: Arc<String>,
    /// `<topic letter>:<bytes>` per output, the chunkers' plan.
    plan: String,
    outputs: usize,
    out_bytes: usize,
    /// The same page without its see-also pointers (`详见05版` lines): what the pages after an
    /// issue's first carry with `--teasers front`.
    inner: Option<Arc<Body>>,
}

struct Workload {
    name: &'static str,
    bodies: Vec<(Body, u32)>, // body and its weight in the mix
}

impl Workload {
    /// The body of raw page `i`.
    fn body(&self, i: usize) -> &Body {
        let b = self.drawn(i);
        match &b.inner {
            Some(inner) if FRONT_TEASERS.load(Ordering::Relaxed) && i % issue_pages() != 0 => inner,
            _ => b,
        }
    }

    fn drawn(&self, i: usize) -> &Body {
        let total: u32 = self.bodies.iter().map(|(_, w)| w).sum();
        let mut slot = (i as u32 * 7919) % total;
        for (b, w) in &self.bodies {
            if slot < *w {
                return b;
            }
            slot -= w;
        }
        &self.bodies[0].0
    }

    /// Every distinct body, variants included.
    fn all_bodies(&self) -> impl Iterator<Item = &Body> {
        self.bodies
            .iter()
            .flat_map(|(b, _)| std::iter::once(b).chain(b.inner.as_deref()))
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum System {
    B0,
    B1,
    /// `pagewire run` with `stitch.enabled = false`.
    PagewireNoStitch,
    /// `pagewire run` as shipped: stitching on.
    Pagewire,
    /// Two pagewire replicas (stitching on) bound to the same durable consumer.
    PagewireTwo,
}

impl System {
    const ALL: [System; 5] = [
        System::B0,
        System::B1,
        System::PagewireNoStitch,
        System::Pagewire,
        System::PagewireTwo,
    ];

    fn name(self) -> &'static str {
        match self {
            System::B0 => "B0 async-nats",
            System::B1 => "B1 pass-through",
            System::PagewireNoStitch => "pagewire, stitching off",
            System::Pagewire => "pagewire, stitching on",
            System::PagewireTwo => "pagewire x2",
        }
    }

    /// The name on the command line (`--systems`, `--latency`, `--latency-rate-of`).
    fn short(self) -> &'static str {
        match self {
            System::B0 => "b0",
            System::B1 => "b1",
            System::PagewireNoStitch => "off",
            System::Pagewire => "on",
            System::PagewireTwo => "x2",
        }
    }

    fn parse_list(list: &str) -> Vec<System> {
        list.split(',')
            .filter(|s| !s.is_empty())
            .map(|s| {
                System::ALL
                    .into_iter()
                    .find(|x| x.short() == s.trim())
                    .unwrap_or_else(|| panic!("unknown system {s:?}: b0, b1, off, on or x2"))
            })
            .collect()
    }
}

#[derive(Default, Clone, serde::Serialize)]
struct Figures {
    workload: String,
    system: String,
    pages: usize,
    seconds: f64,
    pages_per_s: f64,
    articles_per_s: f64,
    mb_in_per_s: f64,
    mb_out_per_s: f64,
    cpu_s_system: f64,
    cpu_s_nats: f64,
    peak_rss_mb: f64,
    /// Pages per issue in this run.
    issue_pages: usize,
    /// Which pages carry see-also pointers: `all` or `front` (`--teasers`).
    teasers: String,
    /// B1 and pagewire published each stream's share of a page as one atomic batch.
    atomic_batches: bool,
    /// Messages and bytes the output streams hold after the run (duplicates not counted):
    /// with stitching this includes the updates of other pages' articles.
    stored_messages: u64,
    stored_bytes: u64,
    /// The stitch bucket's stream (`KV_<bucket>`) after the run: live entries and bytes.
    kv_messages: u64,
    kv_bytes: u64,
    /// Messages left in the timer stream (halves waiting for a partner).
    timer_messages: u64,
    /// Counters scraped from the replicas' `/metrics` just before they stop, summed.
    metrics: BTreeMap<String, f64>,
    latency_ms: Vec<LatencyFigures>,
}

#[derive(Default, Clone, serde::Serialize)]
struct LatencyFigures {
    load: f64,
    /// The system whose maximum `load` is a fraction of.
    rate_of: String,
    rate: f64,
    pages: usize,
    p50: f64,
    p99: f64,
    p999: f64,
    max: f64,
}

/// What the real pipeline produces for a page body: the chunkers' plan.
fn plan_of(text: &str) -> Body {
    let settings = Settings {
        alerts: bench_alerts(),
        ..Settings::default()
    };
    let pipeline = Pipeline::new(&settings, 8 * 1024 * 1024);
    let headers = page_headers(0, None);
    let processed = pipeline
        .process(&Incoming {
            subject: "pages.raw.bench",
            headers: &headers,
            payload: text.as_bytes(),
        })
        .unwrap_or_else(|e| panic!("bench page does not parse: {}", e.error));
    let Work::Routed(outputs) = processed.work else {
        panic!("bench page is routed without stitching");
    };
    let mut plan = Vec::new();
    let mut out_bytes = 0;
    for o in &outputs {
        let letter = o.topic.map_or('a', Topic::letter);
        plan.push(format!("{letter}:{}", o.payload.len()));
        out_bytes += o.payload.len();
    }
    Body {
        text: Arc::new(text.to_owned()),
        plan: plan.join(","),
        outputs: outputs.len(),
        out_bytes,
        inner: None,
    }
}

/// A page body with its variant without see-also pointers (see [`FRONT_TEASERS`]).
fn body_of(text: &str) -> Body {
    let stripped: String = text
        .split_inclusive('\n')
        .filter(|l| {
            let l = l.trim();
            !(l.starts_with("详见") && l.ends_with('版') && l.chars().count() <= 8)
        })
        .collect();
    let mut body = plan_of(text);
    if stripped != text {
        body.inner = Some(Arc::new(plan_of(&stripped)));
    }
    body
}

/// The example configuration's alert rules, so alert traffic is realistic.
fn bench_alerts() -> pagewire::config::AlertSettings {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/pagewire.toml");
    Settings::load_from(Some(std::path::Path::new(path)), Some(HashMap::new()))
        .expect("example config loads")
        .alerts
}

/// A page of about `target` bytes made of the seed's lines, cut at a paragraph boundary.
fn sized_page(target: usize) -> String {
    let lines: Vec<&str> = SEED.split('\n').collect();
    let mut out = String::new();
    let mut i = 0;
    while out.len() < target {
        let line = lines[i % lines.len()];
        if out.len() + line.len() + 1 > target && !line.is_empty() && out.len() > target / 2 {
            break;
        }
        out.push_str(line);
        out.push('\n');
        i += 1;
    }
    out
}

fn workloads() -> Vec<Workload> {
    let seed = body_of(SEED);
    let sized = |n: usize| body_of(&sized_page(n));
    let (k4, k16, k64, k256) = (
        sized(4 << 10),
        sized(16 << 10),
        sized(64 << 10),
        sized(256 << 10),
    );
    vec![
        Workload {
            name: "seed page (9.4 KiB)",
            bodies: vec![(seed.clone(), 1)],
        },
        Workload {
            name: "4 KiB",
            bodies: vec![(k4.clone(), 1)],
        },
        Workload {
            name: "16 KiB",
            bodies: vec![(k16.clone(), 1)],
        },
        Workload {
            name: "64 KiB",
            bodies: vec![(k64.clone(), 1)],
        },
        Workload {
            name: "256 KiB",
            bodies: vec![(k256.clone(), 1)],
        },
        // A day of a real paper: mostly seed-like pages, some light, a few heavy.
        Workload {
            name: "mix",
            bodies: vec![(seed, 55), (k4, 25), (k16, 14), (k64, 5), (k256, 1)],
        },
    ]
}

/// Headers of raw page `i` (a unique print position), with the chunkers' plan: issue (edition)
/// `e<i / issue_pages>`, page `i % issue_pages + 2`. Page numbers start at 2: front-page alert
/// rules would give page 1 a different plan from the rest.
fn page_headers(i: usize, plan: Option<&str>) -> Vec<(String, String)> {
    let n = issue_pages();
    let mut h = vec![
        ("Content-Type".to_owned(), "text/markdown".to_owned()),
        ("Pagewire-Publication".to_owned(), PUBLICATION.to_owned()),
        ("Pagewire-Issue-Date".to_owned(), ISSUE_DATE.to_owned()),
        ("Pagewire-Edition".to_owned(), format!("e{}", i / n)),
        ("Pagewire-Page".to_owned(), (i % n + 2).to_string()),
    ];
    if let Some(plan) = plan {
        h.push((
            pagewire::pipeline::HEADER_BENCH_PLAN.to_owned(),
            plan.to_owned(),
        ));
    }
    h
}

fn header_map(pairs: &[(String, String)]) -> HeaderMap {
    let mut m = HeaderMap::new();
    for (k, v) in pairs {
        m.insert(k.as_str(), v.as_str());
    }
    m
}

/// The page an output belongs to: `e<N>/<page>` from its message id.
fn page_key(msg_id: &str) -> Option<String> {
    let path = msg_id.split(':').find(|t| t.contains('/'))?;
    let mut parts = path.split('/').skip(2);
    Some(format!("{}/{}", parts.next()?, parts.next()?))
}

/// `e<N>/<page>` of raw page `i`, as [`page_key`] finds it in the page's outputs.
fn key_of(i: usize) -> String {
    let n = issue_pages();
    format!("e{}/{}", i / n, i % n + 2)
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn connect(server: &NatsServer) -> (async_nats::Client, jetstream::Context) {
    let client = async_nats::connect(server.url())
        .await
        .expect("connect to the bench server");
    // Room for 64 pages of a few hundred outputs each awaiting PubAcks at once: the default
    // of 5,000 makes B0's concurrent pages wait on each other forever on 256 KiB pages.
    let js = jetstream::ContextBuilder::new()
        .max_ack_inflight(1 << 17)
        .build(client.clone());
    (client, js)
}

async fn provision(js: &jetstream::Context) -> Settings {
    let mut settings = Settings::default();
    settings.output.atomic_batches = atomic_batches();
    pagewire::service::provision_streams(js, &settings)
        .await
        .expect("provision streams");
    settings
}

/// Publishes pages `range` to the input stream, `window` PubAcks outstanding at most.
async fn preload(
    js: &jetstream::Context,
    w: &Workload,
    range: std::ops::Range<usize>,
    with_plan: bool,
) {
    let mut pending = futures::stream::FuturesUnordered::new();
    for i in range {
        let body = w.body(i);
        let headers = header_map(&page_headers(i, with_plan.then_some(body.plan.as_str())));
        let ack = js
            .publish_with_headers(
                format!("pages.raw.{PUBLICATION}"),
                headers,
                body.text.as_bytes().to_vec().into(),
            )
            .await
            .expect("publish page");
        pending.push(std::future::IntoFuture::into_future(ack));
        if pending.len() >= 512 {
            pending.next().await.map(|r| r.expect("page stored"));
        }
    }
    while let Some(r) = pending.next().await {
        r.expect("page stored");
    }
}

/// Waits until the input consumer has nothing pending and nothing unacked.
async fn wait_drained(js: &jetstream::Context, consumer: &str, deadline: Duration) -> bool {
    let start = Instant::now();
    let stream = js.get_stream("PAGES").await.expect("input stream");
    while start.elapsed() < deadline {
        if let Ok(info) = stream.consumer_info(consumer).await {
            if info.num_pending == 0
                && info.num_ack_pending == 0
                && info.delivered.stream_sequence > 0
            {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

/// A `pagewire run` child process, ready once it logs that it is consuming, and the address
/// of its `/metrics`.
struct Service {
    child: Child,
    http: Option<String>,
}

fn spawn_service(server: &NatsServer, pass_through: bool, stitch: bool) -> Service {
    // pagewire::cli logs the probe server's address; pagewire::service that it consumes
    let filter = "warn,pagewire::service=info,pagewire::cli=info";
    let mut child = Command::new(env!("CARGO_BIN_EXE_pagewire"))
        .arg("run")
        // the example configuration: its alert rules are the ones the plans were made with
        .arg("--config")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/pagewire.toml"))
        .env("PAGEWIRE_NATS__SERVERS", server.url())
        .env("PAGEWIRE_BENCH__PASS_THROUGH", pass_through.to_string())
        .env("PAGEWIRE_HTTP__LISTEN", "127.0.0.1:0")
        .env("PAGEWIRE_LOG__FILTER", filter)
        .env("PAGEWIRE_LOG__FORMAT", "json")
        .env("RUST_LOG", filter)
        .envs(tuning_env())
        .env(
            "PAGEWIRE_OUTPUT__ATOMIC_BATCHES",
            atomic_batches().to_string(),
        )
        // after the tuning: the system under test is not a knob
        .env("PAGEWIRE_STITCH__ENABLED", stitch.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pagewire run");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut http = None;
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("pagewire consuming") => break,
            Some(Ok(line)) if line.contains("serving /healthz") => {
                http = serde_json::from_str::<serde_json::Value>(&line)
                    .ok()
                    .and_then(|v| {
                        let addr = v.get("addr").or_else(|| v.get("fields")?.get("addr"))?;
                        addr.as_str().map(str::to_owned)
                    });
            }
            Some(Ok(_)) => {}
            _ => panic!("pagewire run ended before it consumed"),
        }
        assert!(Instant::now() < deadline, "pagewire did not start");
    }
    // keep draining stderr so the child never blocks on a full pipe
    std::thread::spawn(move || for _ in lines {});
    Service { child, http }
}

/// The counters of one replica's `/metrics` (plain HTTP/1.1 over a socket: no client needed),
/// summed over their labels, by metric name without the `pagewire_` prefix and `_total`.
fn scrape(addr: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let Ok(mut socket) = std::net::TcpStream::connect(addr) else {
        return out;
    };
    let _ = socket.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut text = String::new();
    if socket.write_all(request.as_bytes()).is_err() || socket.read_to_string(&mut text).is_err() {
        return out;
    }
    for line in text.lines().filter(|l| l.starts_with("pagewire_")) {
        let Some((name, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let name = name.split('{').next().unwrap_or(name);
        let Some(name) = name.strip_suffix("_total") else {
            continue;
        };
        let name = name.trim_start_matches("pagewire_").to_owned();
        if let Ok(v) = value.parse::<f64>() {
            *out.entry(name).or_default() += v;
        }
    }
    out
}

/// Tuning under test, passed through from the bench's own environment.
fn tuning_env() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("PAGEWIRE_") && k != "PAGEWIRE_NATS__SERVERS")
        .collect()
}

fn stop(mut child: Child) {
    // SAFETY-free: plain kill(2) via the command line keeps this file dependency-free
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// B0: consume, publish the plan's messages with async publishes, await PubAcks, ack.
async fn run_b0(
    js: jetstream::Context,
    w: &Workload,
    stop_after: Option<usize>,
    cancel: tokio_util::sync::CancellationToken,
) {
    let stream = js.get_stream("PAGES").await.expect("input stream");
    let consumer = stream
        .get_or_create_consumer(
            "b0",
            pull::Config {
                durable_name: Some("b0".into()),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                max_ack_pending: 1024,
                ..Default::default()
            },
        )
        .await
        .expect("b0 consumer");
    let plans: HashMap<String, String> = w
        .all_bodies()
        .map(|b| (b.text.as_str().to_owned(), b.plan.clone()))
        .collect();
    let plans = Arc::new(plans);
    let slots = Arc::new(tokio::sync::Semaphore::new(64));
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(16)
        .messages()
        .await
        .expect("b0 messages");
    let mut seen = 0;
    loop {
        let next = tokio::select! {
            m = messages.next() => m,
            _ = cancel.cancelled() => None,
        };
        let message = match next {
            Some(Ok(message)) => message,
            // missed heartbeats while every slot was busy: the stream recovers, keep reading
            Some(Err(e)) => {
                eprintln!("  B0: {e}; pulling on");
                continue;
            }
            None => break,
        };
        let permit = slots.clone().acquire_owned().await.expect("semaphore");
        let js = js.clone();
        let plans = plans.clone();
        tokio::spawn(async move {
            let text = std::str::from_utf8(&message.payload).unwrap_or_default();
            let headers = message.headers.clone().unwrap_or_default();
            let edition = headers
                .get("Pagewire-Edition")
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default();
            let page = headers
                .get("Pagewire-Page")
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default();
            let plan = plans.get(text).cloned().unwrap_or_default();
            let bytes = text.as_bytes();
            let mut acks = Vec::new();
            for (i, (topic, size)) in plan
                .split(',')
                .filter_map(|p| p.split_once(':'))
                .enumerate()
            {
                let size: usize = size.parse().unwrap_or(0);
                let subject = match topic {
                    "s" => "articles.search.bench",
                    "l" => "articles.alert.bench",
                    "p" => "pages.archive.bench",
                    _ => "articles.archive.bench",
                };
                let mut payload = Vec::with_capacity(size);
                while payload.len() < size {
                    let take = (size - payload.len()).min(bytes.len());
                    payload.extend_from_slice(&bytes[..take]);
                }
                let mut h = HeaderMap::new();
                h.insert(
                    "Nats-Msg-Id",
                    format!("b0:{PUBLICATION}/{ISSUE_DATE}/{edition}/{page}:{i}").as_str(),
                );
                acks.push(
                    js.publish_with_headers(subject, h, payload.into())
                        .await
                        .expect("b0 publish"),
                );
            }
            for ack in acks {
                ack.await.expect("b0 pub ack");
            }
            message.ack_with(AckKind::Ack).await.expect("b0 ack");
            drop(permit);
        });
        seen += 1;
        if stop_after.is_some_and(|n| seen >= n) {
            break;
        }
    }
}

struct Running {
    services: Vec<Service>,
    b0: Option<(
        tokio::task::JoinHandle<()>,
        tokio_util::sync::CancellationToken,
    )>,
}

impl Running {
    fn pids(&self) -> Vec<u32> {
        self.services.iter().map(|s| s.child.id()).collect()
    }

    /// The replicas' counters, summed (empty for B0).
    fn metrics(&self) -> BTreeMap<String, f64> {
        let mut sum = BTreeMap::new();
        for addr in self.services.iter().filter_map(|s| s.http.as_deref()) {
            for (k, v) in scrape(addr) {
                *sum.entry(k).or_default() += v;
            }
        }
        sum
    }
}

async fn start(
    system: System,
    server: &NatsServer,
    js: &jetstream::Context,
    w: &Arc<Workload>,
) -> Running {
    let services = match system {
        System::B0 => {
            let cancel = tokio_util::sync::CancellationToken::new();
            let (js, w2, c) = (js.clone(), w.clone(), cancel.clone());
            let handle = tokio::spawn(async move { run_b0(js, &w2, None, c).await });
            return Running {
                services: Vec::new(),
                b0: Some((handle, cancel)),
            };
        }
        System::B1 => vec![spawn_service(server, true, false)],
        System::PagewireNoStitch => vec![spawn_service(server, false, false)],
        System::Pagewire => vec![spawn_service(server, false, true)],
        System::PagewireTwo => vec![
            spawn_service(server, false, true),
            spawn_service(server, false, true),
        ],
    };
    Running { services, b0: None }
}

async fn finish(running: Running) {
    for service in running.services {
        tokio::task::spawn_blocking(move || stop(service.child))
            .await
            .expect("stop");
    }
    if let Some((handle, cancel)) = running.b0 {
        cancel.cancel();
        let _ = handle.await;
    }
}

fn consumer_name(system: System) -> &'static str {
    if system == System::B0 {
        "b0"
    } else {
        "pagewire"
    }
}

/// Messages and bytes held by `stream`, zeros when it does not exist.
async fn stream_state(js: &jetstream::Context, stream: &str) -> (u64, u64) {
    match js.get_stream(stream).await {
        Ok(mut s) => match s.info().await {
            Ok(info) => (info.state.messages, info.state.bytes),
            Err(_) => (0, 0),
        },
        Err(_) => (0, 0),
    }
}

/// Maximum sustainable rate: the system drains a pre-loaded stream of `pages`.
async fn throughput(system: System, w: &Arc<Workload>, pages: usize) -> Figures {
    let server = NatsServer::start();
    let (_client, js) = connect(&server).await;
    let settings = provision(&js).await;
    let t_preload = Instant::now();
    preload(&js, w, 0..pages, system == System::B1).await;
    eprintln!(
        "  {} / {}: {pages} pages pre-loaded in {:.1}s",
        w.name,
        system.name(),
        t_preload.elapsed().as_secs_f64()
    );
    let nats_pid = server.pid().expect("server pid");
    let running = start(system, &server, &js, w).await;
    let self_pid = std::process::id();
    let pids: Vec<u32> = if running.services.is_empty() {
        vec![self_pid]
    } else {
        running.pids()
    };
    let cpu = |pids: &[u32]| pids.iter().map(|&p| cpu_seconds(p)).sum::<f64>();
    let (cpu0, nats0, t0) = (cpu(&pids), cpu_seconds(nats_pid), Instant::now());
    let drained = wait_drained(&js, consumer_name(system), Duration::from_secs(600)).await;
    let seconds = t0.elapsed().as_secs_f64();
    assert!(drained, "{} did not drain {pages} pages", system.name());
    // peak RSS of the largest replica
    let rss = pids.iter().map(|&p| peak_rss_mb(p)).fold(0.0, f64::max);
    let (cpu1, nats1) = (cpu(&pids), cpu_seconds(nats_pid));
    let metrics = running.metrics();
    finish(running).await;
    let (mut stored_messages, mut stored_bytes) = (0, 0);
    for (_, topic) in settings.output.topics() {
        let (m, b) = stream_state(&js, &topic.stream).await;
        stored_messages += m;
        stored_bytes += b;
    }
    let (kv_messages, kv_bytes) =
        stream_state(&js, &format!("KV_{}", settings.stitch.bucket)).await;
    let (timer_messages, _) = stream_state(&js, &settings.stitch.timer_stream).await;
    let (mut bytes_in, mut bytes_out, mut outputs) = (0usize, 0usize, 0usize);
    for i in 0..pages {
        let b = w.body(i);
        bytes_in += b.text.len();
        bytes_out += b.out_bytes;
        outputs += b.outputs;
    }
    Figures {
        workload: w.name.to_owned(),
        system: system.name().to_owned(),
        pages,
        seconds,
        pages_per_s: pages as f64 / seconds,
        articles_per_s: outputs as f64 / seconds,
        mb_in_per_s: bytes_in as f64 / seconds / 1e6,
        mb_out_per_s: bytes_out as f64 / seconds / 1e6,
        cpu_s_system: cpu1 - cpu0,
        cpu_s_nats: nats1 - nats0,
        peak_rss_mb: if system == System::B0 {
            peak_rss_mb(self_pid)
        } else {
            rss
        },
        issue_pages: issue_pages(),
        teasers: teasers_mode().to_owned(),
        atomic_batches: atomic_batches(),
        stored_messages,
        stored_bytes,
        kv_messages,
        kv_bytes,
        timer_messages,
        metrics,
        latency_ms: Vec::new(),
    }
}

/// Latency at a fixed offered rate: publish paced pages, see each page's last output stored.
///
/// When is a page done? Every system publishes a page's messages in one sequence on one
/// connection, and the page record (`pages.archive.*`, message id `<publication>/<date>/
/// <edition>/<page>:...`) is always the last of them: `route_page` and `route_plan` put it
/// after the page's own articles and, with stitching, after the updates of other pages'
/// articles this page caused; B0 and B1 follow the same plan. NATS delivers one connection's
/// messages in order, so when the page record of page P reaches us, every message P's
/// processing published before it has too. Counting messages per page key would not do with
/// stitching: updates of page 5's article arrive under page 5's key while other pages are
/// processed (before or after page 5's own outputs), and a stitched article goes out under its
/// head's id; the number of messages per page then depends on arrival order. Timer messages
/// (a stitching page's last publishes, on `pagewire.timers.>`) are not watched: they are small
/// and leave right after the page record.
async fn latency(
    system: System,
    w: &Arc<Workload>,
    rate: f64,
    load: f64,
    rate_of: System,
    pages: usize,
) -> LatencyFigures {
    let server = NatsServer::start();
    let (client, js) = connect(&server).await;
    provision(&js).await;
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let done: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let mut pages_sub = client
        .subscribe("pages.archive.>")
        .await
        .expect("subscribe");
    client.flush().await.expect("flush");
    let collector = {
        let (sent, done) = (sent.clone(), done.clone());
        tokio::spawn(async move {
            // a redelivered page publishes its record again: count its first completion
            let mut finished: HashSet<String> = HashSet::new();
            while let Some(message) = pages_sub.next().await {
                let at = Instant::now();
                let Some(id) = message
                    .headers
                    .as_ref()
                    .and_then(|h| h.get("Nats-Msg-Id"))
                    .map(|v| v.as_str().to_owned())
                else {
                    continue;
                };
                let Some(key) = page_key(&id) else { continue };
                let Some(t) = sent.lock().expect("lock").get(&key).copied() else {
                    continue;
                };
                if finished.insert(key) {
                    done.lock().expect("lock").push(at - t);
                }
            }
        })
    };
    let running = start(system, &server, &js, w).await;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut acks = futures::stream::FuturesUnordered::new();
    for i in 0..pages {
        ticker.tick().await;
        let body = w.body(i);
        let headers = header_map(&page_headers(
            i,
            (system == System::B1).then_some(body.plan.as_str()),
        ));
        sent.lock().expect("lock").insert(key_of(i), Instant::now());
        let ack = js
            .publish_with_headers(
                format!("pages.raw.{PUBLICATION}"),
                headers,
                body.text.as_bytes().to_vec().into(),
            )
            .await
            .expect("publish");
        acks.push(std::future::IntoFuture::into_future(ack));
        while let Some(Some(r)) = futures::FutureExt::now_or_never(acks.next()) {
            r.expect("page stored");
        }
    }
    while let Some(r) = acks.next().await {
        r.expect("page stored");
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while done.lock().expect("lock").len() < pages && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    finish(running).await;
    collector.abort();
    let samples = done.lock().expect("lock").clone();
    assert_eq!(
        samples.len(),
        pages,
        "{}: not every page arrived",
        system.name()
    );
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    for s in &samples {
        h.saturating_record(s.as_micros() as u64);
    }
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    assert_eq!(h.len(), samples.len() as u64, "every page timed");
    LatencyFigures {
        load,
        rate_of: rate_of.name().to_owned(),
        rate,
        pages,
        p50: ms(0.5),
        p99: ms(0.99),
        p999: ms(0.999),
        max: h.max() as f64 / 1000.0,
    }
}

fn print_table(w: &str, rows: &[Figures]) {
    println!("\n### {w}\n");
    let mut loads: Vec<(f64, String)> = Vec::new();
    for l in rows.iter().flat_map(|r| &r.latency_ms) {
        if !loads
            .iter()
            .any(|(x, o)| (x - l.load).abs() < 1e-9 && *o == l.rate_of)
        {
            loads.push((l.load, l.rate_of.clone()));
        }
    }
    let mut head = "| system | pages/s | articles/s | MB/s in | MB/s out | CPU s (system) | CPU s (nats-server) | peak RSS MB |".to_owned();
    for (load, of) in &loads {
        head.push_str(&format!(
            " p50/p99/p99.9 ms @{:.0}% of {of} |",
            load * 100.0
        ));
    }
    println!("{head}");
    println!("|{}", "---|".repeat(8 + loads.len()));
    for r in rows {
        let mut line = format!(
            "| {} | {:.0} | {:.0} | {:.1} | {:.1} | {:.2} | {:.2} | {:.0} |",
            r.system,
            r.pages_per_s,
            r.articles_per_s,
            r.mb_in_per_s,
            r.mb_out_per_s,
            r.cpu_s_system,
            r.cpu_s_nats,
            r.peak_rss_mb,
        );
        for (load, of) in &loads {
            let cell = r
                .latency_ms
                .iter()
                .find(|l| (l.load - load).abs() < 1e-9 && l.rate_of == *of)
                .map_or("—".to_owned(), |l| {
                    format!("{:.1} / {:.1} / {:.1}", l.p50, l.p99, l.p999)
                });
            line.push_str(&format!(" {cell} |"));
        }
        println!("{line}");
    }
    println!("\n| system | CPU ms/page (system) | CPU ms/page (nats-server) | messages stored/page | MB stored/page | KV bytes/page | timers left | stitch conflicts | linked | stitched | skipped |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let n = r.pages as f64;
        let m = |k: &str| {
            r.metrics
                .get(k)
                .map_or("—".to_owned(), |v| format!("{v:.0}"))
        };
        println!(
            "| {} | {:.3} | {:.3} | {:.2} | {:.4} | {:.0} | {} | {} | {} | {} | {} |",
            r.system,
            r.cpu_s_system / n * 1e3,
            r.cpu_s_nats / n * 1e3,
            r.stored_messages as f64 / n,
            r.stored_bytes as f64 / n / 1e6,
            r.kv_bytes as f64 / n,
            r.timer_messages,
            m("stitch_conflicts"),
            m("linked"),
            m("stitched"),
            m("stitch_skipped"),
        );
    }
    let find = |s: System| rows.iter().find(|r| r.system == s.name());
    if let (Some(b0), Some(b1)) = (find(System::B0), find(System::B1)) {
        println!(
            "\nB1/B0 = {:.2} messages/s",
            b1.articles_per_s / b0.articles_per_s
        );
    }
    for s in [System::PagewireNoStitch, System::Pagewire] {
        if let (Some(b1), Some(pw)) = (find(System::B1), find(s)) {
            println!(
                "{} / B1 = {:.2} pages/s",
                s.name(),
                pw.pages_per_s / b1.pages_per_s
            );
        }
    }
    if let (Some(off), Some(on)) = (find(System::PagewireNoStitch), find(System::Pagewire)) {
        println!(
            "stitching on / off = {:.2} pages/s; CPU per page (pagewire + nats-server) {:.3} ms -> {:.3} ms",
            on.pages_per_s / off.pages_per_s,
            (off.cpu_s_system + off.cpu_s_nats) / off.pages as f64 * 1e3,
            (on.cpu_s_system + on.cpu_s_nats) / on.pages as f64 * 1e3,
        );
    }
    if let (Some(pw), Some(two)) = (find(System::Pagewire), find(System::PagewireTwo)) {
        println!(
            "pagewire x2 / pagewire = {:.2} pages/s",
            two.pages_per_s / pw.pages_per_s
        );
    }
}

/// `--soak SECS`: one replica (stitching on unless `--systems off`) under a steady offered load
/// (seed pages at `--rate`, default 200 pages/s); prints pagewire's resident set and the stitch
/// bucket's size every 10 s. Output and input streams are capped at 512 MB each (discard old) so
/// the broker's disk stays bounded over a long soak; the bucket is not (pagewire provisions it
/// with its own limits: one entry per key, `stitch.retention`).
async fn soak(seconds: u64, rate: f64, system: System) {
    let server = NatsServer::start();
    let (_client, js) = connect(&server).await;
    let settings = provision(&js).await;
    for name in [
        "PAGES",
        "ARTICLES_SEARCH",
        "ARTICLES_ARCHIVE",
        "ARTICLES_ALERT",
        "PAGES_ARCHIVE",
        "PAGES_DLQ",
    ] {
        let mut stream = js.get_stream(name).await.expect("stream");
        let mut config = stream.info().await.expect("stream info").config.clone();
        config.max_bytes = 512 << 20;
        js.update_stream(config).await.expect("cap stream");
    }
    let w = Arc::new(Workload {
        name: "soak",
        bodies: vec![(body_of(SEED), 1)],
    });
    let running = start(system, &server, &js, &w).await;
    let pid = running.pids()[0];
    let bucket = format!("KV_{}", settings.stitch.bucket);
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let start_at = Instant::now();
    let mut next_report = Duration::ZERO;
    let mut i = 0usize;
    println!(
        "{}, {seconds} s at {rate} pages/s, {} pages per issue, see-also pointers on {} pages\n",
        system.name(),
        issue_pages(),
        teasers_mode()
    );
    println!("| t (s) | pages sent | RSS (MB) | peak RSS (MB) | KV entries | KV MB |\n|---|---|---|---|---|---|");
    let mut acks = futures::stream::FuturesUnordered::new();
    let report = |t: Duration, i: usize, kv: (u64, u64)| {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let rss = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0);
        println!(
            "| {} | {i} | {rss:.1} | {:.1} | {} | {:.1} |",
            t.as_secs(),
            peak_rss_mb(pid),
            kv.0,
            kv.1 as f64 / 1e6
        );
    };
    while start_at.elapsed() < Duration::from_secs(seconds) {
        ticker.tick().await;
        let body = w.body(i);
        let headers = header_map(&page_headers(i, None));
        let ack = js
            .publish_with_headers(
                format!("pages.raw.{PUBLICATION}"),
                headers,
                body.text.as_bytes().to_vec().into(),
            )
            .await
            .expect("publish");
        acks.push(std::future::IntoFuture::into_future(ack));
        while let Some(Some(r)) = futures::FutureExt::now_or_never(acks.next()) {
            r.expect("page stored");
        }
        i += 1;
        if start_at.elapsed() >= next_report {
            report(next_report, i, stream_state(&js, &bucket).await);
            next_report += Duration::from_secs(10);
        }
    }
    while let Some(r) = acks.next().await {
        r.expect("page stored");
    }
    let drained = wait_drained(&js, "pagewire", Duration::from_secs(120)).await;
    report(start_at.elapsed(), i, stream_state(&js, &bucket).await);
    println!(
        "\ndrained: {drained}; after {:.0} s: {} pages",
        start_at.elapsed().as_secs_f64(),
        i
    );
    let (kv_messages, kv_bytes) = stream_state(&js, &bucket).await;
    if kv_messages > 0 {
        println!(
            "stitch bucket {bucket}: {kv_messages} entries, {:.1} MB, {:.0} bytes per page sent",
            kv_bytes as f64 / 1e6,
            kv_bytes as f64 / i as f64
        );
    }
    for (k, v) in running.metrics() {
        if k.starts_with("stitch") || k == "linked" || k == "stitched" || k == "pages" {
            println!("pagewire_{k}_total {v}");
        }
    }
    finish(running).await;
}

/// `--stress NAME`: see the module documentation.
async fn stress(name: &str) {
    match name {
        "big-issue" => big_issue().await,
        "large-pages" => large_pages().await,
        "parse" => parse_requests().await,
        other => panic!("--stress {other}: big-issue, large-pages or parse"),
    }
}

/// Page text of about `bytes` bytes in `articles` articles: headlines unique to `tag`, long
/// paragraphs of the seed's sentences, no cross-page references.
fn long_page(tag: &str, articles: usize, bytes: usize) -> String {
    let sentences: Vec<&str> = SEED
        .lines()
        .filter(|l| !l.starts_with('#') && !l.contains('版') && l.chars().count() > 20)
        .collect();
    let mut out = String::new();
    let per = bytes / articles;
    let mut k = 0;
    for a in 0..articles {
        out.push_str(&format!("## {tag}第{a}篇报道\n\n"));
        let start = out.len();
        while out.len() - start < per {
            out.push_str(sentences[k % sentences.len()]);
            k += 1;
            if k % 40 == 0 {
                out.push_str("\n\n");
            }
        }
        out.push_str("\n\n");
    }
    out
}

fn stress_headers(publication: &str, edition: &str, page: usize) -> HeaderMap {
    header_map(&[
        ("Content-Type".to_owned(), "text/markdown".to_owned()),
        ("Pagewire-Publication".to_owned(), publication.to_owned()),
        ("Pagewire-Issue-Date".to_owned(), ISSUE_DATE.to_owned()),
        ("Pagewire-Edition".to_owned(), edition.to_owned()),
        ("Pagewire-Page".to_owned(), page.to_string()),
    ])
}

/// Publishes every page without waiting, then waits for each acknowledgement. A page the
/// server refused with 429 (too many publishes awaiting storage: nothing was stored) is
/// published again, one at a time, until stored.
async fn publish_at_once(js: &jetstream::Context, pages: Vec<(String, HeaderMap, Bytes)>) {
    let mut acks = Vec::with_capacity(pages.len());
    for (subject, headers, body) in &pages {
        let ack = js
            .publish_with_headers(subject.clone(), headers.clone(), body.clone())
            .await
            .expect("publish page");
        acks.push(std::future::IntoFuture::into_future(ack));
    }
    for (ack, (subject, headers, body)) in acks.into_iter().zip(&pages) {
        let mut stored = ack.await;
        for _ in 0..100 {
            match &stored {
                Err(e) if too_many_requests(e) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    stored = js
                        .publish_with_headers(subject.clone(), headers.clone(), body.clone())
                        .await
                        .expect("publish page")
                        .await;
                }
                _ => break,
            }
        }
        stored.expect("page stored");
    }
}

fn too_many_requests(e: &jetstream::context::PublishError) -> bool {
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<jetstream::Error>())
        .is_some_and(|e| e.code() == 429)
}

/// A 300-page issue of 900 KB pages published at once, then 300 pages of another publication:
/// no slow-consumer disconnect, and the other publication's pages are not held up behind the
/// issue (their processing time is printed beside the issue's).
async fn big_issue() {
    let server = NatsServer::with_config("max_payload: 8MB");
    let (client, js) = connect(&server).await;
    let _settings = provision(&js).await;
    let service = spawn_service(&server, false, true);
    let pid = service.child.id();
    let mut done = client
        .subscribe("pages.archive.>")
        .await
        .expect("subscribe");
    let t0 = Instant::now();
    let mut pages: Vec<_> = (1..=300)
        .map(|page| {
            let text = long_page(&format!("第{page}版"), 4, 900_000);
            (
                format!("pages.raw.{PUBLICATION}"),
                stress_headers(PUBLICATION, "big", page),
                Bytes::from(text),
            )
        })
        .collect();
    let small = Bytes::from(SEED);
    pages.extend((0..300).map(|page| {
        (
            "pages.raw.other".to_owned(),
            stress_headers("other", &format!("e{}", page / 24), page % 24 + 2),
            small.clone(),
        )
    }));
    publish_at_once(&js, pages).await;
    let published = t0.elapsed();
    let (mut big, mut other) = (0usize, 0usize);
    let (mut big_done, mut other_done) = (Duration::ZERO, Duration::ZERO);
    while big < 300 || other < 300 {
        let next = tokio::time::timeout(Duration::from_secs(120), done.next()).await;
        let Ok(Some(m)) = next else {
            panic!("stalled: {big} of the issue's pages and {other} of the other publication's done after {:?}", t0.elapsed());
        };
        if m.subject.as_str() == "pages.archive.other" {
            other += 1;
            other_done = t0.elapsed();
        } else {
            big += 1;
            big_done = t0.elapsed();
        }
    }
    let log = server.log();
    let slow = log.matches("Slow Consumer").count();
    let metrics = scrape(service.http.as_deref().expect("metrics address"));
    let peak = peak_rss_mb(pid);
    stop(service.child);
    println!("\n### stress: a 300-page issue of 900 KB pages, then 300 seed pages of another publication\n");
    println!("| pages published in | issue done at | other publication done at | slow-consumer disconnects | redelivered | stitch skipped | peak RSS MB |\n|---|---|---|---|---|---|---|");
    println!(
        "| {:.1} s | {:.1} s | {:.1} s | {slow} | {} | {} | {peak:.0} |",
        published.as_secs_f64(),
        big_done.as_secs_f64(),
        other_done.as_secs_f64(),
        metrics.get("redelivered").copied().unwrap_or(0.0),
        metrics.get("stitch_skipped").copied().unwrap_or(0.0),
    );
    assert_eq!(slow, 0, "slow-consumer disconnects");
}

/// 64 pages of 4 MB at once (the default `max_in_flight` and about `max_page_bytes`): RSS of
/// the replica idle, at its peak, and a few seconds after the last page.
async fn large_pages() {
    let server = NatsServer::with_config("max_payload: 8MB");
    let (_client, js) = connect(&server).await;
    let settings = provision(&js).await;
    let service = spawn_service(&server, false, true);
    let pid = service.child.id();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = rss_mb(pid);
    let pages = (0..64)
        .map(|page| {
            let text = long_page(&format!("第{page}版"), 40, 4_000_000);
            (
                format!("pages.raw.{PUBLICATION}"),
                stress_headers(PUBLICATION, "large", page + 1),
                Bytes::from(text),
            )
        })
        .collect();
    publish_at_once(&js, pages).await;
    let t0 = Instant::now();
    let drained = wait_drained(&js, "pagewire", Duration::from_secs(600)).await;
    let took = t0.elapsed();
    assert!(drained, "64 large pages not drained");
    let peak = peak_rss_mb(pid);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = rss_mb(pid);
    let metrics = scrape(service.http.as_deref().expect("metrics address"));
    stop(service.child);
    let bound = (settings.limits.max_in_flight * settings.limits.max_page_bytes) as f64 / 1048576.0;
    println!("\n### stress: 64 pages of 4 MB at once, stitching on\n");
    println!("| drained in | RSS idle MB | peak RSS MB | RSS 5 s after MB | max_in_flight × max_page_bytes MB | dead letters |\n|---|---|---|---|---|---|");
    println!(
        "| {:.1} s | {idle:.0} | {peak:.0} | {after:.0} | {bound:.0} | {} |",
        took.as_secs_f64(),
        metrics.get("dead_letters").copied().unwrap_or(0.0),
    );
}

/// 200 concurrent `pagewire.parse` requests of 64 KiB each.
async fn parse_requests() {
    let server = NatsServer::start();
    let (client, js) = connect(&server).await;
    let _settings = provision(&js).await;
    let service = spawn_service(&server, false, true);
    let pid = service.child.id();
    // The endpoint is up once a request finds a responder.
    let deadline = Instant::now() + Duration::from_secs(30);
    while client
        .request_with_headers(
            "pagewire.parse",
            stress_headers(PUBLICATION, "parse", 2),
            Bytes::from(SEED),
        )
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "pagewire.parse never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let idle = rss_mb(pid);
    let text = bytes::Bytes::from(sized_page(64 << 10));
    let t0 = Instant::now();
    let mut calls = futures::stream::FuturesUnordered::new();
    for i in 0..200 {
        let client = client.clone();
        let text = text.clone();
        calls.push(async move {
            let sent = Instant::now();
            let headers = stress_headers(PUBLICATION, "parse", i % 24 + 2);
            let reply = tokio::time::timeout(
                Duration::from_secs(60),
                client.request_with_headers("pagewire.parse", headers, text),
            )
            .await;
            let took = sent.elapsed();
            let ok = match &reply {
                Ok(Ok(m)) => {
                    m.headers
                        .as_ref()
                        .is_none_or(|h| h.get("Nats-Service-Error-Code").is_none())
                        && !m.payload.is_empty()
                }
                Ok(Err(e)) => {
                    eprintln!("request {i}: {e}");
                    false
                }
                Err(_) => false,
            };
            if let Ok(Ok(m)) = &reply {
                if let Some(e) = m.headers.as_ref().and_then(|h| h.get("Nats-Service-Error")) {
                    eprintln!("request {i}: {e}");
                }
            }
            (took, ok)
        });
    }
    let mut h = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("histogram");
    let mut failed = 0;
    while let Some((took, ok)) = calls.next().await {
        h.saturating_record(took.as_micros() as u64);
        failed += usize::from(!ok);
    }
    let all = t0.elapsed();
    let peak = peak_rss_mb(pid);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = rss_mb(pid);
    stop(service.child);
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    assert_eq!(h.len(), 200, "every request timed");
    println!("\n### stress: 200 concurrent 64 KiB pagewire.parse requests\n");
    println!("| all answered in | p50 ms | p99 ms | max ms | failed | RSS idle / peak / 3 s after MB |\n|---|---|---|---|---|---|");
    println!(
        "| {:.2} s | {:.1} | {:.1} | {:.1} | {failed} | {idle:.0} / {peak:.0} / {after:.0} |",
        all.as_secs_f64(),
        ms(0.5),
        ms(0.99),
        h.max() as f64 / 1000.0
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return; // test harness probes
    }
    // `cargo bench` passes --bench; `cargo test --all-targets` does not: then a smoke run of a
    // few hundred pages keeps this harness from rotting without costing the suite minutes.
    let smoke = !args.iter().any(|a| a == "--bench");
    let long = args.iter().any(|a| a == "--long");
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if let Some(n) = value("--issue-pages").and_then(|n| n.parse::<usize>().ok()) {
        ISSUE_PAGES.store(n.max(1), Ordering::Relaxed);
    }
    match value("--teasers").as_deref() {
        None | Some("all") => {}
        Some("front") => FRONT_TEASERS.store(true, Ordering::Relaxed),
        Some(other) => panic!("--teasers {other}: front or all"),
    }
    if args.iter().any(|a| a == "--atomic-batches") {
        ATOMIC_BATCHES.store(true, Ordering::Relaxed);
    }
    let only = value("--only");
    let json = value("--json").unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/e2e-results.json").to_owned()
    });
    let pages_flag = value("--pages")
        .and_then(|p| p.parse::<usize>().ok())
        .or(smoke.then_some(200));
    let only = only.or(smoke.then(|| "seed".to_owned()));
    let systems = value("--systems").map_or(System::ALL.to_vec(), |l| System::parse_list(&l));
    // Smoke: one short latency run of the stitching system, so the completion rule is exercised.
    let latency_systems = value("--latency").map_or_else(
        || {
            if smoke {
                vec![System::Pagewire]
            } else {
                systems
                    .iter()
                    .copied()
                    .filter(|&s| s != System::PagewireTwo)
                    .collect()
            }
        },
        |l| System::parse_list(&l),
    );
    let loads: Vec<f64> = value("--loads").map_or_else(
        || if smoke { vec![0.5] } else { vec![0.5, 0.8] },
        |l| l.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
    );
    let rate_of = value("--latency-rate-of").map(|s| {
        let v = System::parse_list(&s);
        assert!(v.len() == 1, "--latency-rate-of takes one system");
        v[0]
    });
    // Quick runs cap the bytes per run so the 64 and 256 KiB workloads finish in seconds.
    let pages_for = |w: &Workload| -> usize {
        if let Some(n) = pages_flag {
            return n;
        }
        let avg = (0..1000).map(|i| w.body(i).text.len()).sum::<usize>() / 1000;
        if long {
            10_000
        } else {
            10_000.min((200 << 20) / avg.max(1)).max(500)
        }
    };
    let latency_workloads = ["seed page (9.4 KiB)", "mix"];
    if let Some(name) = value("--stress") {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(stress(&name));
        return;
    }
    if let Some(secs) = value("--soak").and_then(|s| s.parse::<u64>().ok()) {
        let rate = value("--rate")
            .and_then(|r| r.parse::<f64>().ok())
            .unwrap_or(200.0);
        let system = value("--systems").map_or(System::Pagewire, |_| systems[0]);
        assert!(
            matches!(system, System::Pagewire | System::PagewireNoStitch),
            "--soak runs one pagewire replica: --systems on or off"
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(soak(secs, rate, system));
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut all = Vec::new();
    println!(
        "e2e benchmark: nats-server {}; {} pages per issue; see-also pointers on {} pages; \
         atomic batches {}",
        support::nats_server_bin().display(),
        issue_pages(),
        teasers_mode(),
        if atomic_batches() { "on" } else { "off" }
    );
    for w in workloads() {
        if only.as_deref().is_some_and(|o| !w.name.starts_with(o)) {
            continue;
        }
        let w = Arc::new(w);
        let pages = pages_for(&w);
        let mut rows: Vec<Figures> = Vec::new();
        let wants_latency = smoke || long || latency_workloads.contains(&w.name);
        for &system in &systems {
            // two replicas: where scaling out is asked about (seed, mix; every workload in --long)
            if system == System::PagewireTwo && !(long || latency_workloads.contains(&w.name)) {
                continue;
            }
            let f = runtime.block_on(throughput(system, &w, pages));
            eprintln!(
                "{} / {}: {:.0} pages/s",
                w.name,
                system.name(),
                f.pages_per_s
            );
            rows.push(f);
        }
        // Latency after every throughput run, so a common rate (`--latency-rate-of`) is known.
        if wants_latency {
            for r in 0..rows.len() {
                let system = systems
                    .iter()
                    .copied()
                    .find(|s| s.name() == rows[r].system)
                    .expect("system");
                if !latency_systems.contains(&system) || system == System::PagewireTwo {
                    continue;
                }
                let base = rate_of.unwrap_or(system);
                let Some(max) = rows
                    .iter()
                    .find(|x| x.system == base.name())
                    .map(|x| x.pages_per_s)
                else {
                    panic!(
                        "--latency-rate-of {}: not measured in this run",
                        base.short()
                    );
                };
                for &load in &loads {
                    let rate = max * load;
                    // four seconds of pages, and at least a thousand so p99.9 is not the maximum
                    let n = if smoke {
                        200
                    } else {
                        ((rate * 4.0) as usize).clamp(1_000, 5_000)
                    };
                    let l = runtime.block_on(latency(system, &w, rate, load, base, n));
                    eprintln!(
                        "{} / {}: p50 {:.1} p99 {:.1} p99.9 {:.1} ms at {:.0} pages/s",
                        w.name,
                        system.name(),
                        l.p50,
                        l.p99,
                        l.p999,
                        rate
                    );
                    rows[r].latency_ms.push(l);
                }
            }
        }
        print_table(w.name, &rows);
        all.extend(rows);
    }
    std::fs::write(&json, serde_json::to_string_pretty(&all).expect("json"))
        .expect("write results");
    println!("\nraw figures: {json}");
}
