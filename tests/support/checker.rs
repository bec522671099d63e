//! The service harness and the reliability checker shared by the integration tests.
//!
//! Harness: settings pointed at a test broker, the service in this process ([`InProcess`]) or
//! as a child process of the built binary ([`ChildService`], for SIGKILL / SIGSTOP / SIGTERM),
//! a test client, publishing with retries, reading streams back.
//!
//! Checker: what a run must store is computed up front with the pure pipeline (the parser is
//! deterministic) — [`Expected`] — and after the run [`check`] reads every output stream
//! completely plus the input consumer's state and returns a [`Report`]: lost (expected but not
//! stored), duplicates (one message id stored twice), unexpected (stored but not expected),
//! dead letters against the poison set, and whether the consumer is clean (nothing pending,
//! nothing awaiting ack). A run passes only when every count is zero and the consumer is clean.
//! [`Table`] sums runs into the figures RELIABILITY.md reports.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, stream::Stream as JsStream};
use async_nats::HeaderMap;
use bytes::Bytes;
use futures::StreamExt as _;
use prost::Message as _;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use pagewire::config::Settings;
use pagewire::envelope::Incoming;
use pagewire::pipeline::{Pipeline, Work};
use pagewire::proto::DeadLetter;
use pagewire::service::{self, ServiceState};

use super::pagewire::Pagewire;
use super::NatsServer;

/// The seed page: 7 articles, 16 output messages.
pub const SEED: &str = "tests/fixtures/zh-baotou-daily-2025-07-10-p01.md";
/// Publication every test page belongs to.
pub const PUBLICATION: &str = "baotou-daily";
/// Issue date every test page carries.
pub const ISSUE_DATE: &str = "2025-07-10";
pub use super::wait::{wait_for, WAIT};

pub fn manifest(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

pub fn seed() -> Vec<u8> {
    std::fs::read(manifest(SEED)).expect("seed fixture")
}

pub fn seed_pages(pages: std::ops::RangeInclusive<u32>) -> Vec<(u32, Vec<u8>)> {
    pages.map(|p| (p, seed())).collect()
}

// --- settings and the service under test -----------------------------------------------------

/// Environment overrides for a test: the servers' URLs and short timings, on top of the
/// example config.
pub fn test_env(servers: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = [
        ("PAGEWIRE_NATS__SERVERS", servers.to_owned()),
        ("PAGEWIRE_NATS__REQUEST_TIMEOUT", "2s".into()),
        ("PAGEWIRE_NATS__RECONNECT_DELAY_MAX", "500ms".into()),
        ("PAGEWIRE_INPUT__ACK_WAIT", "3s".into()),
        ("PAGEWIRE_INPUT__PULL_EXPIRES", "500ms".into()),
        ("PAGEWIRE_RETRY__NAK_INITIAL", "100ms".into()),
        ("PAGEWIRE_RETRY__NAK_MAX", "1s".into()),
        // Broker trouble is nak-ed at once, so the scenarios see the nak path as measured;
        // scenario 10 runs with the default hold.
        ("PAGEWIRE_RETRY__HOLD", "0s".into()),
        ("PAGEWIRE_SHUTDOWN__DRAIN_TIMEOUT", "15s".into()),
        ("PAGEWIRE_LOG__FILTER", "warn,pagewire=info".into()),
        // Several `pagewire run` processes at once must not fight over the default port.
        ("PAGEWIRE_HTTP__LISTEN", "127.0.0.1:0".into()),
        // The checker's oracle is the pure pipeline, page by page; cross-page updates depend on
        // arrival order, so tests/stitch.rs checks them with its own oracle.
        ("PAGEWIRE_STITCH__ENABLED", "false".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in extra {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    env
}

/// The example config with the test's overrides, for one server.
pub fn settings(server: &NatsServer, extra: &[(&str, &str)]) -> Settings {
    settings_at(&server.url(), extra)
}

/// The example config with the test's overrides, for `servers` (comma-separated URLs).
pub fn settings_at(servers: &str, extra: &[(&str, &str)]) -> Settings {
    Settings::load_from(
        Some(&manifest("deploy/pagewire.toml")),
        Some(test_env(servers, extra)),
    )
    .expect("test settings")
}

/// The service running in this process.
pub struct InProcess {
    pub state: Arc<ServiceState>,
    pub shutdown: CancellationToken,
    pub handle: JoinHandle<Result<(), service::ServiceError>>,
}

impl InProcess {
    /// Starts the service without waiting for it (replicas that must start together).
    pub fn spawn(settings: Settings) -> Self {
        let state = Arc::new(ServiceState::default());
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(service::run_with_state(
            settings,
            state.clone(),
            shutdown.clone(),
        ));
        InProcess {
            state,
            shutdown,
            handle,
        }
    }

    /// Starts the service and waits until it is ready (connected, consumer bound).
    pub async fn start(settings: Settings) -> Self {
        let service = Self::spawn(settings);
        let s = service.state.clone();
        wait_for("service ready", || {
            let s = s.clone();
            async move { s.is_ready() }
        })
        .await;
        service
    }

    /// Cancels, drains, and asserts a clean exit.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(WAIT, self.handle)
            .await
            .expect("service stops within the timeout")
            .expect("service task not panicked")
            .expect("service exits cleanly");
    }
}

/// `pagewire run` as a child process (for SIGKILL, SIGSTOP and SIGTERM).
pub type ChildService = Pagewire;

impl Pagewire {
    pub fn start(server: &NatsServer, extra: &[(&str, &str)]) -> Self {
        Self::start_at(&server.url(), extra)
    }

    /// Starts `pagewire run` against `servers` (comma-separated URLs) with [`test_env`].
    pub fn start_at(servers: &str, extra: &[(&str, &str)]) -> Self {
        let mut cmd = super::pagewire::command(&["run", "--config"]);
        cmd.arg(manifest("deploy/pagewire.toml"))
            .envs(test_env(servers, extra));
        Pagewire::spawn(cmd)
    }
}

// --- waiting, clients, streams ---------------------------------------------------------------

pub async fn client(server: &NatsServer) -> (async_nats::Client, jetstream::Context) {
    client_at(&server.url()).await
}

/// A test client that retries its first connection and reconnects forever (tests restart
/// brokers underneath it).
pub async fn client_at(servers: &str) -> (async_nats::Client, jetstream::Context) {
    let addrs: Vec<async_nats::ServerAddr> = servers
        .split(',')
        .map(|s| s.trim().parse().expect("server url"))
        .collect();
    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .max_reconnects(None)
        .reconnect_delay_callback(|n| Duration::from_millis(50 * (n as u64).min(10)))
        .connect(addrs)
        .await
        .expect("test client connects");
    let js = jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(5))
        .build(client.clone());
    (client, js)
}

/// Waits until the stream exists (the service provisions its streams first thing).
pub async fn stream(js: &jetstream::Context, name: &str) -> JsStream {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(s) = js.get_stream(name).await {
            return s;
        }
        assert!(Instant::now() < deadline, "stream {name} never appeared");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub fn markdown_headers(page: u32) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("Content-Type", "text/markdown");
    h.insert("Pagewire-Issue-Date", ISSUE_DATE);
    h.insert("Pagewire-Page", page.to_string().as_str());
    h
}

/// Publishes one input and waits for its PubAck, retrying through broker restarts; returns
/// its stream sequence. Give the headers a `Nats-Msg-Id` when a retry must not store a
/// second copy.
pub async fn publish(js: &jetstream::Context, headers: HeaderMap, body: impl Into<Bytes>) -> u64 {
    publish_to(
        js,
        &format!("pages.raw.{PUBLICATION}"),
        headers,
        body.into(),
    )
    .await
}

pub async fn publish_to(
    js: &jetstream::Context,
    subject: &str,
    headers: HeaderMap,
    body: Bytes,
) -> u64 {
    let deadline = Instant::now() + WAIT;
    loop {
        let attempt = async {
            js.publish_with_headers(subject.to_owned(), headers.clone(), body.clone())
                .await?
                .await
        };
        match attempt.await {
            Ok(ack) => return ack.sequence,
            Err(e) => {
                assert!(Instant::now() < deadline, "publish failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Every message stored in a stream, in order (one direct get per sequence).
pub async fn stored(js: &jetstream::Context, name: &str) -> Vec<jetstream::message::StreamMessage> {
    let mut s = stream(js, name).await;
    let state = s.info().await.expect("stream info").state.clone();
    let mut out = Vec::new();
    for seq in state.first_sequence..=state.last_sequence {
        if state.messages == 0 {
            break;
        }
        if let Ok(m) = s.get_raw_message(seq).await {
            out.push(m);
        }
    }
    out
}

pub async fn count(js: &jetstream::Context, name: &str) -> u64 {
    let mut s = stream(js, name).await;
    s.info().await.map(|i| i.state.messages).unwrap_or(0)
}

/// Waits until the consumer has acked (or termed) everything up to stream sequence `last`
/// and has nothing pending or awaiting ack: the checker's "clean consumer".
pub async fn wait_drained(js: &jetstream::Context, last: u64) {
    if let Err(info) = drained_within(js, "PAGES", "pagewire", last, WAIT).await {
        panic!("consumer not drained within {WAIT:?}: {info}");
    }
}

/// Waits up to `timeout` for the consumer to be clean up to `last`; the consumer state as
/// last seen when it was not.
pub async fn drained_within(
    js: &jetstream::Context,
    stream_name: &str,
    consumer: &str,
    last: u64,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let mut seen = String::from("consumer never appeared");
    loop {
        if let Ok(s) = js.get_stream(stream_name).await {
            if let Ok(info) = s.consumer_info(consumer).await {
                if info.num_pending == 0
                    && info.num_ack_pending == 0
                    && info.ack_floor.stream_sequence >= last
                {
                    return Ok(());
                }
                seen = format!(
                    "pending {}, ack pending {}, ack floor {}, delivered {}",
                    info.num_pending,
                    info.num_ack_pending,
                    info.ack_floor.stream_sequence,
                    info.delivered.stream_sequence
                );
            }
        }
        if Instant::now() >= deadline {
            return Err(seen);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub fn header<'a>(m: &'a jetstream::message::StreamMessage, name: &str) -> Option<&'a str> {
    m.headers.get(name).map(|v| v.as_str())
}

/// Output stream name -> the set of message ids the service must store for these markdown
/// pages of the seed publication (see [`Expected`] for arbitrary inputs).
pub fn expected_outputs(
    settings: &Settings,
    pages: impl IntoIterator<Item = (u32, Vec<u8>)>,
) -> BTreeMap<String, BTreeSet<String>> {
    let inputs: Vec<Input> = pages
        .into_iter()
        .map(|(page, body)| Input::markdown(page, body))
        .collect();
    let expected = Expected::new(settings, usize::MAX, &inputs);
    assert!(
        expected.poison.is_empty(),
        "test pages do not parse: {:?}",
        expected.poison
    );
    let mut outputs = expected.outputs;
    // Healthy pages only: the dead-letter stream must stay empty.
    outputs.insert(expected.dlq_stream, BTreeSet::new());
    outputs
}

/// Every output stream holds exactly the expected message ids, each once.
pub async fn check_outputs(js: &jetstream::Context, expected: &BTreeMap<String, BTreeSet<String>>) {
    for (stream, ids) in expected {
        let msgs = stored(js, stream).await;
        let mut seen = BTreeSet::new();
        for m in &msgs {
            let id = header(m, "Nats-Msg-Id").unwrap_or_default().to_owned();
            assert!(seen.insert(id.clone()), "{stream}: {id} stored twice");
        }
        let lost: Vec<_> = ids.difference(&seen).collect();
        let unexpected: Vec<_> = seen.difference(ids).collect();
        assert!(
            lost.is_empty() && unexpected.is_empty(),
            "{stream}: lost {lost:?}, unexpected {unexpected:?}"
        );
    }
}

// --- the checker -----------------------------------------------------------------------------

/// One raw page event as a producer sends it.
#[derive(Debug, Clone)]
pub struct Input {
    pub subject: String,
    pub headers: Vec<(String, String)>,
    pub payload: Bytes,
}

impl Input {
    /// A markdown page of the seed publication.
    pub fn markdown(page: u32, body: impl Into<Bytes>) -> Self {
        Input::text("text/markdown", page, body)
    }

    /// A text page (`text/markdown` or `text/plain`) of the seed publication.
    pub fn text(content_type: &str, page: u32, body: impl Into<Bytes>) -> Self {
        Input {
            subject: format!("pages.raw.{PUBLICATION}"),
            headers: vec![
                ("Content-Type".into(), content_type.into()),
                ("Pagewire-Issue-Date".into(), ISSUE_DATE.into()),
                ("Pagewire-Page".into(), page.to_string()),
            ],
            payload: body.into(),
        }
    }

    /// Any headers and body on the seed publication's subject.
    pub fn raw(headers: &[(&str, &str)], body: impl Into<Bytes>) -> Self {
        Input {
            subject: format!("pages.raw.{PUBLICATION}"),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            payload: body.into(),
        }
    }

    /// The headers as sent, plus `Nats-Msg-Id: input-<key>` so a retried publish (through a
    /// broker restart) stores one input, not two.
    pub fn header_map(&self, key: usize) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in &self.headers {
            h.append(k.as_str(), v.as_str());
        }
        h.insert("Nats-Msg-Id", format!("input-{key}").as_str());
        h
    }
}

/// A healthy page mix: the fixture pages in turn, page number `n` for the n-th, so every
/// input has its own article ids.
pub fn healthy_pages(n: usize) -> Vec<Input> {
    let bodies: Vec<(&str, Vec<u8>)> = [
        ("text/markdown", SEED),
        ("text/markdown", "tests/fixtures/pages/en-markdown-front.md"),
        (
            "text/plain",
            "tests/fixtures/pages/zh-plain-ocr-city-page.txt",
        ),
        (
            "text/markdown",
            "tests/fixtures/pages/zh-markdown-headline-stack.md",
        ),
        ("text/plain", "tests/fixtures/pages/en-plain-ocr-front.txt"),
        ("text/markdown", "tests/fixtures/pages/zh-teaser-section.md"),
    ]
    .iter()
    .map(|(ct, path)| (*ct, std::fs::read(manifest(path)).expect("fixture page")))
    .collect();
    (0..n)
        .map(|i| {
            let (ct, body) = &bodies[i % bodies.len()];
            Input::text(ct, i as u32 + 1, body.clone())
        })
        .collect()
}

/// Poison pages, one per bad-input class the service must dead-letter; `i` makes each one
/// distinct.
pub fn poison_page(kind: usize, i: usize) -> Input {
    let page = (9_000 + i) as u32;
    match kind % 4 {
        0 => Input::markdown(page, format!("# 标题{i}\n\n正文 \u{fffd}").into_bytes())
            .with_payload_tail(b"\xff\xfe"),
        1 => Input::raw(
            &[("Content-Type", "application/json")],
            format!("{{\"pageNumber\": \"{i}\"").into_bytes(),
        ),
        2 => Input::raw(
            &[
                ("Content-Type", "text/markdown"),
                ("Pagewire-Issue-Date", "2025-02-30"),
                ("Pagewire-Page", "1"),
            ],
            format!("# 标题{i}\n\n正文。").into_bytes(),
        ),
        _ => Input::markdown(page, format!("{}\n", " \n".repeat(i % 7 + 1)).into_bytes()),
    }
}

impl Input {
    fn with_payload_tail(mut self, tail: &[u8]) -> Self {
        let mut v = self.payload.to_vec();
        v.extend_from_slice(tail);
        self.payload = v.into();
        self
    }
}

/// What a run must end with, computed before it starts.
#[derive(Debug, Clone)]
pub struct Expected {
    /// Output stream -> message ids that must each be stored exactly once.
    pub outputs: BTreeMap<String, BTreeSet<String>>,
    /// Input index -> the dead-letter code it must end with.
    pub poison: BTreeMap<usize, &'static str>,
    /// Output subject prefix (with the trailing dot) -> stream.
    by_prefix: Vec<(String, String)>,
    /// The dead-letter stream.
    dlq_stream: String,
    /// Number of inputs.
    inputs: usize,
}

impl Expected {
    /// Runs every input through the pure pipeline, as the service will, for a broker with
    /// this `max_payload`.
    pub fn new(settings: &Settings, max_payload: usize, inputs: &[Input]) -> Self {
        let pipeline = Pipeline::new(settings, max_payload);
        let by_prefix: Vec<(String, String)> = settings
            .output
            .topics()
            .iter()
            .map(|(_, t)| (format!("{}.", t.subject_prefix), t.stream.clone()))
            .collect();
        let dlq_stream = settings.output.dlq.stream.clone();
        // Dead letters are checked against the poison set, not as outputs.
        let mut outputs: BTreeMap<String, BTreeSet<String>> = by_prefix
            .iter()
            .filter(|(_, s)| *s != dlq_stream)
            .map(|(_, s)| (s.clone(), BTreeSet::new()))
            .collect();
        let mut poison = BTreeMap::new();
        for (i, input) in inputs.iter().enumerate() {
            let result = pipeline.process(&Incoming {
                subject: &input.subject,
                headers: &input.headers,
                payload: &input.payload,
            });
            match result {
                Ok(processed) => {
                    let Work::Routed(routed) = processed.work else {
                        panic!("input {i} is routed without stitching");
                    };
                    for o in routed {
                        let stream = stream_of(&by_prefix, &o.subject)
                            .expect("output subject has a topic")
                            .to_owned();
                        outputs
                            .entry(stream)
                            .or_default()
                            .insert(o.msg_id().to_owned());
                    }
                }
                Err(rejection) => {
                    poison.insert(i, rejection.error.code());
                }
            }
        }
        Expected {
            outputs,
            poison,
            by_prefix,
            dlq_stream,
            inputs: inputs.len(),
        }
    }

    /// Messages the healthy inputs must store, over all output streams.
    pub fn output_count(&self) -> usize {
        self.outputs.values().map(BTreeSet::len).sum()
    }
}

fn stream_of<'a>(by_prefix: &'a [(String, String)], subject: &str) -> Option<&'a str> {
    by_prefix
        .iter()
        .find(|(p, _)| subject.starts_with(p.as_str()))
        .map(|(_, s)| s.as_str())
}

/// Publishes `inputs` in order (each with its own input message id), pausing a random
/// `0..=max_gap` between them; returns their stream sequences.
pub async fn publish_inputs(
    js: &jetstream::Context,
    inputs: &[Input],
    first_key: usize,
    rng: &mut Rng,
    max_gap: Duration,
) -> Vec<u64> {
    let mut seqs = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let seq = publish_to(
            js,
            &input.subject,
            input.header_map(first_key + i),
            input.payload.clone(),
        )
        .await;
        seqs.push(seq);
        if !max_gap.is_zero() {
            tokio::time::sleep(rng.duration(Duration::ZERO, max_gap)).await;
        }
    }
    seqs
}

/// Publishes in the background; join the handle for the stream sequences.
pub fn spawn_publisher(
    js: jetstream::Context,
    inputs: Vec<Input>,
    first_key: usize,
    mut rng: Rng,
    max_gap: Duration,
) -> JoinHandle<Vec<u64>> {
    tokio::spawn(async move { publish_inputs(&js, &inputs, first_key, &mut rng, max_gap).await })
}

/// The input consumer as the checker saw it at the end.
#[derive(Debug, Clone, Default)]
pub struct ConsumerState {
    pub num_pending: u64,
    pub num_ack_pending: usize,
    pub ack_floor: u64,
    /// Deliveries in all (the consumer sequence), redeliveries included.
    pub deliveries: u64,
}

/// The verdict on one run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Expected output messages not stored.
    pub lost: usize,
    /// Stored messages whose id was already stored (in any output or dead-letter stream).
    pub duplicates: usize,
    /// Stored messages nobody expected (healthy inputs in the dead-letter stream included).
    pub unexpected: usize,
    /// Dead letters stored for poison inputs with the right code.
    pub dead_letters: usize,
    /// Poison inputs without their dead letter (or with the wrong code).
    pub dead_letters_missing: usize,
    /// Consumer state at the end.
    pub consumer: ConsumerState,
    /// Inputs in the run.
    pub inputs: usize,
    /// Output messages stored (dead letters included).
    pub stored: usize,
    /// Deliveries beyond the first of each input.
    pub redeliveries: u64,
    /// What went wrong, for the assertion message.
    pub problems: Vec<String>,
}

impl Report {
    pub fn consumer_clean(&self, last: u64) -> bool {
        self.consumer.num_pending == 0
            && self.consumer.num_ack_pending == 0
            && self.consumer.ack_floor >= last
    }

    pub fn is_clean(&self) -> bool {
        self.lost == 0
            && self.duplicates == 0
            && self.unexpected == 0
            && self.dead_letters_missing == 0
            && self.problems.is_empty()
    }

    /// Panics with every problem when the run is not clean.
    pub fn assert_clean(&self, context: &str) {
        assert!(
            self.is_clean(),
            "{context}: lost {}, duplicates {}, unexpected {}, dead letters missing {}, \
             consumer {:?}\n{}",
            self.lost,
            self.duplicates,
            self.unexpected,
            self.dead_letters_missing,
            self.consumer,
            self.problems.join("\n")
        );
    }
}

/// Reads the input consumer and every output stream completely and compares them with
/// `expected`. `seqs` are the inputs' stream sequences, in input order. Call it after the
/// services are stopped, so nothing changes underneath.
pub async fn check(
    js: &jetstream::Context,
    settings: &Settings,
    expected: &Expected,
    seqs: &[u64],
) -> Report {
    assert_eq!(seqs.len(), expected.inputs, "one sequence per input");
    let mut report = Report {
        inputs: seqs.len(),
        ..Report::default()
    };

    let input = stream(js, &settings.input.stream).await;
    match input.consumer_info(&settings.input.consumer).await {
        Ok(info) => {
            report.consumer = ConsumerState {
                num_pending: info.num_pending,
                num_ack_pending: info.num_ack_pending,
                ack_floor: info.ack_floor.stream_sequence,
                deliveries: info.delivered.consumer_sequence,
            };
        }
        Err(e) => report.problems.push(format!("consumer info: {e}")),
    }
    let distinct: BTreeSet<u64> = seqs.iter().copied().collect();
    if distinct.len() != seqs.len() {
        report.problems.push(format!(
            "{} inputs stored under {} sequences",
            seqs.len(),
            distinct.len()
        ));
    }
    let last = distinct.last().copied().unwrap_or(0);
    report.redeliveries = report
        .consumer
        .deliveries
        .saturating_sub(distinct.len() as u64);
    if !report.consumer_clean(last) {
        report.problems.push(format!(
            "consumer not clean: {:?} (last input sequence {last})",
            report.consumer
        ));
    }

    let mut seen_ids = BTreeSet::new();
    for (stream_name, ids) in &expected.outputs {
        let msgs = read_all(js, stream_name).await;
        report.stored += msgs.len();
        let mut stored_ids = BTreeSet::new();
        for m in &msgs {
            let id = m.msg_id.clone().unwrap_or_default();
            if stream_of(&expected.by_prefix, &m.subject) != Some(stream_name.as_str()) {
                report.unexpected += 1;
                report.problems.push(format!(
                    "{stream_name}: subject {} in the wrong stream",
                    m.subject
                ));
            }
            if !seen_ids.insert(id.clone()) {
                report.duplicates += 1;
                report
                    .problems
                    .push(format!("{stream_name}: {id:?} stored twice"));
                continue;
            }
            stored_ids.insert(id);
        }
        for id in ids.difference(&stored_ids) {
            report.lost += 1;
            report.problems.push(format!("{stream_name}: lost {id}"));
        }
        for id in stored_ids.difference(ids) {
            report.unexpected += 1;
            report
                .problems
                .push(format!("{stream_name}: unexpected {id}"));
        }
    }

    // Dead letters: exactly the poison inputs, each with its code.
    let letters = read_all(js, &expected.dlq_stream).await;
    report.stored += letters.len();
    let poison_by_seq: BTreeMap<u64, &str> = expected
        .poison
        .iter()
        .map(|(i, code)| (seqs[*i], *code))
        .collect();
    let mut lettered = BTreeMap::new();
    for m in &letters {
        let id = m.msg_id.clone().unwrap_or_default();
        if !seen_ids.insert(id.clone()) {
            report.duplicates += 1;
            report
                .problems
                .push(format!("dead letter {id:?} stored twice"));
            continue;
        }
        match DeadLetter::decode(m.payload.clone()) {
            Ok(d) => {
                lettered.insert(d.stream_sequence, d);
            }
            Err(e) => {
                report.unexpected += 1;
                report.problems.push(format!("dead letter {id:?}: {e}"));
            }
        }
    }
    for (seq, code) in &poison_by_seq {
        match lettered.get(seq) {
            Some(d) if d.code == *code => report.dead_letters += 1,
            Some(d) => {
                report.dead_letters_missing += 1;
                report.problems.push(format!(
                    "input {seq}: dead letter {} ({}), expected {code}",
                    d.code, d.reason
                ));
            }
            None => {
                report.dead_letters_missing += 1;
                report
                    .problems
                    .push(format!("input {seq}: no dead letter, expected {code}"));
            }
        }
    }
    for (seq, d) in &lettered {
        if !poison_by_seq.contains_key(seq) {
            report.unexpected += 1;
            report.problems.push(format!(
                "healthy input {seq} dead-lettered: {} ({})",
                d.code, d.reason
            ));
        }
    }
    report
}

/// One stored message, as much of it as the checker needs.
#[derive(Debug, Clone)]
pub struct Stored {
    pub subject: String,
    pub msg_id: Option<String>,
    pub payload: Bytes,
}

/// Every message of a stream, read with an ordered consumer (fast; no acks).
pub async fn read_all(js: &jetstream::Context, name: &str) -> Vec<Stored> {
    let mut s = stream(js, name).await;
    let total = s.info().await.expect("stream info").state.messages as usize;
    let mut out = Vec::with_capacity(total);
    if total == 0 {
        return out;
    }
    let consumer = s
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .expect("ordered consumer");
    let mut messages = consumer.messages().await.expect("ordered messages");
    while out.len() < total {
        let next = tokio::time::timeout(WAIT, messages.next())
            .await
            .unwrap_or_else(|_| panic!("{name}: read {} of {total} messages", out.len()));
        let m = next
            .expect("ordered consumer ended")
            .expect("ordered consumer message");
        out.push(Stored {
            subject: m.subject.to_string(),
            msg_id: m
                .headers
                .as_ref()
                .and_then(|h| h.get("Nats-Msg-Id"))
                .map(|v| v.as_str().to_owned()),
            payload: m.payload.clone(),
        });
    }
    out
}

// --- watching the service's replies ----------------------------------------------------------

/// What the service replied to one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Ack,
    Nak,
    Term,
    Progress,
    Other,
}

/// Every ack / nak / term the service sends, seen by a plain subscription to the consumer's
/// ack subjects (acks are ordinary publishes, so a second subscriber receives them too).
#[derive(Clone, Default)]
pub struct AckTap {
    seen: Arc<Mutex<Vec<(u64, u64, Reply)>>>,
}

impl AckTap {
    /// Starts watching `$JS.ACK.<stream>.<consumer>.>`.
    pub async fn start(client: &async_nats::Client, stream: &str, consumer: &str) -> Self {
        let tap = AckTap::default();
        let mut sub = client
            .subscribe(format!("$JS.ACK.{stream}.{consumer}.>"))
            .await
            .expect("subscribe to acks");
        client.flush().await.expect("flush subscription");
        let seen = tap.seen.clone();
        tokio::spawn(async move {
            while let Some(m) = sub.next().await {
                // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>...
                let tokens: Vec<&str> = m.subject.as_str().split('.').collect();
                let (Some(delivered), Some(seq)) = (
                    tokens.get(4).and_then(|t| t.parse::<u64>().ok()),
                    tokens.get(5).and_then(|t| t.parse::<u64>().ok()),
                ) else {
                    continue;
                };
                let body = m.payload.as_ref();
                let reply = if body.is_empty() || body.starts_with(b"+ACK") {
                    Reply::Ack
                } else if body.starts_with(b"-NAK") {
                    Reply::Nak
                } else if body.starts_with(b"+TERM") {
                    Reply::Term
                } else if body.starts_with(b"+WPI") {
                    Reply::Progress
                } else {
                    Reply::Other
                };
                seen.lock().expect("tap lock").push((seq, delivered, reply));
            }
        });
        tap
    }

    /// Replies of this kind seen so far.
    pub fn count(&self, kind: Reply) -> usize {
        self.seen
            .lock()
            .expect("tap lock")
            .iter()
            .filter(|(_, _, r)| *r == kind)
            .count()
    }

    /// The most deliveries of one input that got a reply of this kind (from the reply
    /// subjects' delivery counts).
    pub fn most_delivered(&self, kind: Reply) -> u64 {
        self.seen
            .lock()
            .expect("tap lock")
            .iter()
            .filter(|(_, _, r)| *r == kind)
            .map(|(_, d, _)| *d)
            .max()
            .unwrap_or(0)
    }

    /// Distinct stream sequences that got a reply of this kind.
    pub fn sequences(&self, kind: Reply) -> BTreeSet<u64> {
        self.seen
            .lock()
            .expect("tap lock")
            .iter()
            .filter(|(_, _, r)| *r == kind)
            .map(|(s, _, _)| *s)
            .collect()
    }
}

// --- randomized timing and the result table --------------------------------------------------

/// Runs per scenario: `PAGEWIRE_RELIABILITY_RUNS`, else `ci`.
pub fn runs(ci: usize) -> usize {
    std::env::var("PAGEWIRE_RELIABILITY_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ci)
}

/// A small deterministic generator (xorshift64*), seeded per scenario and run from
/// `PAGEWIRE_RELIABILITY_SEED` (or the clock), so a failing run can be replayed.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
    /// The seed, for the failure message.
    pub seed: u64,
}

impl Rng {
    pub fn for_run(scenario: &str, run: usize) -> Self {
        let base = std::env::var("PAGEWIRE_RELIABILITY_SEED")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        let mut h = base ^ 0x9e37_79b9_7f4a_7c15;
        for b in scenario.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        h ^= (run as u64).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        Rng {
            state: h | 1,
            seed: base,
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// Uniform in `lo..=hi`, millisecond steps.
    pub fn duration(&mut self, lo: Duration, hi: Duration) -> Duration {
        Duration::from_millis(self.range(lo.as_millis() as u64, hi.as_millis() as u64))
    }
}

/// One run's figures.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub report: Report,
    /// From the end of the last fault to a clean consumer.
    pub recovery: Duration,
    /// What this run did (faults, timings), for the record.
    pub note: String,
}

/// The runs of one scenario, summed into one row of the RELIABILITY.md table.
pub struct Table {
    name: String,
    runs: Vec<RunResult>,
}

impl Table {
    pub fn new(name: &str) -> Self {
        Table {
            name: name.to_owned(),
            runs: Vec::new(),
        }
    }

    pub fn push(&mut self, result: RunResult) {
        eprintln!(
            "{} run {}: lost {} dup {} unexpected {} dead letters {} redeliveries {} recovery {:?} ({})",
            self.name,
            self.runs.len() + 1,
            result.report.lost,
            result.report.duplicates,
            result.report.unexpected,
            result.report.dead_letters,
            result.report.redeliveries,
            result.recovery,
            result.note
        );
        self.runs.push(result);
    }

    /// `| scenario | runs | inputs | outputs | lost | dup | unexpected | dead letters |
    /// redeliveries (total / max) | recovery (median / max) |`
    pub fn row(&self) -> String {
        let sum = |f: &dyn Fn(&Report) -> usize| -> usize {
            self.runs.iter().map(|r| f(&r.report)).sum()
        };
        let mut rec: Vec<Duration> = self.runs.iter().map(|r| r.recovery).collect();
        rec.sort();
        let median = rec.get(rec.len() / 2).copied().unwrap_or_default();
        let max = rec.last().copied().unwrap_or_default();
        let redeliveries: u64 = self.runs.iter().map(|r| r.report.redeliveries).sum();
        let max_redeliveries = self
            .runs
            .iter()
            .map(|r| r.report.redeliveries)
            .max()
            .unwrap_or(0);
        let mut row = String::new();
        let _ = write!(
            row,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} / {} | {:.2}s / {:.2}s |",
            self.name,
            self.runs.len(),
            sum(&|r| r.inputs),
            sum(&|r| r.stored),
            sum(&|r| r.lost),
            sum(&|r| r.duplicates),
            sum(&|r| r.unexpected),
            sum(&|r| r.dead_letters),
            redeliveries,
            max_redeliveries,
            median.as_secs_f64(),
            max.as_secs_f64(),
        );
        row
    }

    /// Prints the row (visible with `--nocapture`) and appends it to the file named by
    /// `PAGEWIRE_RELIABILITY_REPORT`, if set.
    pub fn print(&self) {
        let row = self.row();
        println!("{row}");
        if let Some(path) = std::env::var_os("PAGEWIRE_RELIABILITY_REPORT") {
            use std::io::Write as _;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                let _ = writeln!(f, "{row}");
            }
        }
    }
}
