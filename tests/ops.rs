//! Operating and integrating pagewire, against real nats-server processes: the HTTP probes and
//! metrics, the `pagewire` micro service and its `pagewire.parse` endpoint, `pagewire status`,
//! the Grafana dashboard and Prometheus rules, and the Python subscriber example.
//!
//! Every wait is on a condition with a deadline, never a fixed sleep.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use async_nats::HeaderMap;
use futures::StreamExt as _;
use prost::Message as _;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use pagewire::config::Settings;
use pagewire::envelope::Incoming;
use pagewire::parse;
use pagewire::pipeline::{Pipeline, Work};
use pagewire::proto::{Page, RawPage};
use pagewire::service::{self, ServiceState};
use support::python::{python_module, text};
use support::{http_get, NatsServer};

const PUBLICATION: &str = "baotou-daily";
const WAIT: Duration = Duration::from_secs(30);

use support::checker::{
    client, manifest, markdown_headers, publish, seed, stream, wait_drained, wait_for,
};

/// The shared test environment plus a fast consumer-lag poll for the metrics tests.
fn test_env(server: &NatsServer, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut env = support::checker::test_env(&server.url(), extra);
    env.entry("PAGEWIRE_METRICS__CONSUMER_POLL_INTERVAL".to_owned())
        .or_insert_with(|| "100ms".to_owned());
    env
}

/// The example config with the test's overrides.
fn settings(server: &NatsServer, extra: &[(&str, &str)]) -> Settings {
    Settings::load_from(
        Some(&manifest("deploy/pagewire.toml")),
        Some(test_env(server, extra)),
    )
    .expect("test settings")
}

/// The service and its probe server, in this process, as `pagewire run` wires them.
struct InProcess {
    state: Arc<ServiceState>,
    /// `127.0.0.1:<port>` of the probe server.
    http: String,
    shutdown: CancellationToken,
    http_stop: CancellationToken,
    handle: JoinHandle<Result<(), service::ServiceError>>,
}

impl InProcess {
    /// Starts the probe server, then the service; returns at once (not waiting for ready).
    async fn spawn(settings: Settings) -> Self {
        let state = Arc::new(ServiceState::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the probe server");
        let http = listener.local_addr().expect("local addr").to_string();
        let http_stop = CancellationToken::new();
        let http_settings = settings.http.clone();
        tokio::spawn({
            let state = state.clone();
            let http_stop = http_stop.clone();
            async move { service::http::serve(listener, state, &http_settings, http_stop).await }
        });
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(service::run_with_state(
            settings,
            state.clone(),
            shutdown.clone(),
        ));
        InProcess {
            state,
            http,
            shutdown,
            http_stop,
            handle,
        }
    }

    /// Starts and waits until `/readyz` answers 200.
    async fn start(settings: Settings) -> Self {
        let svc = Self::spawn(settings).await;
        svc.wait_probe("/readyz", 200).await;
        svc
    }

    async fn get(&self, path: &str) -> Option<(u16, String)> {
        let (addr, path) = (self.http.clone(), path.to_owned());
        tokio::task::spawn_blocking(move || http_get(&addr, &path))
            .await
            .expect("http get task")
    }

    /// Waits until `path` answers `status`; returns the body.
    async fn wait_probe(&self, path: &str, status: u16) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let got = self.get(path).await;
            if let Some((s, body)) = &got {
                if *s == status {
                    return body.clone();
                }
            }
            assert!(
                Instant::now() < deadline,
                "GET {path} never answered {status}; last: {got:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn metrics(&self) -> Metrics {
        let (status, body) = self.get("/metrics").await.expect("GET /metrics answers");
        assert_eq!(status, 200);
        Metrics::parse(&body)
    }

    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(WAIT, self.handle)
            .await
            .expect("service stops within the timeout")
            .expect("service task not panicked")
            .expect("service exits cleanly");
        self.http_stop.cancel();
    }
}

/// Samples of one scrape: `name{labels}` -> value, labels as written by the encoder.
struct Metrics(BTreeMap<String, f64>);

impl Metrics {
    fn parse(text: &str) -> Self {
        Metrics(
            text.lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .filter_map(|l| {
                    let (k, v) = l.rsplit_once(' ')?;
                    Some((k.to_owned(), v.parse().ok()?))
                })
                .collect(),
        )
    }

    /// The sample with exactly this series key, e.g. `pagewire_pages_total{outcome="published"}`.
    fn get(&self, series: &str) -> f64 {
        self.0.get(series).copied().unwrap_or(0.0)
    }

    /// Sum over every series of `name` whose labels contain every `k="v"` in `matching`.
    fn sum(&self, name: &str, matching: &[&str]) -> f64 {
        self.0
            .iter()
            .filter(|(k, _)| k.split('{').next() == Some(name))
            .filter(|(k, _)| matching.iter().all(|m| k.contains(m)))
            .map(|(_, v)| v)
            .sum()
    }
}

/// The seed page as the parser sees it, for comparing replies and outputs.
fn seed_page() -> Page {
    let raw = RawPage {
        publication: PUBLICATION.into(),
        issue_date: "2025-07-10".into(),
        page_number: 1,
        page_label: "01".into(),
        format: pagewire::proto::PageFormat::Markdown as i32,
        content: String::from_utf8(seed()).expect("seed is UTF-8"),
        ..Default::default()
    };
    parse::parse_page(&raw, &parse::Limits::default()).expect("the seed parses")
}

/// Headlines of the seed's articles on the search topic, computed with the pure pipeline.
fn seed_search_headlines(settings: &Settings) -> BTreeSet<String> {
    let pipeline = Pipeline::new(settings, usize::MAX);
    let headers = [
        ("Content-Type", "text/markdown"),
        ("Pagewire-Issue-Date", "2025-07-10"),
        ("Pagewire-Page", "1"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let subject = format!("pages.raw.{PUBLICATION}");
    let processed = pipeline
        .process(&Incoming {
            subject: &subject,
            headers: &headers,
            payload: &seed(),
        })
        .unwrap_or_else(|r| panic!("seed does not parse: {}", r.error));
    let Work::Routed(outputs) = processed.work else {
        panic!("the seed is routed without stitching");
    };
    outputs
        .iter()
        .filter(|o| o.subject.starts_with("articles.search."))
        .map(|o| {
            pagewire::proto::Article::decode(o.payload.clone())
                .expect("article decodes")
                .headline
        })
        .collect()
}

/// `pagewire <args>` against `server`.
fn pagewire_cmd(server: &NatsServer, args: &[&str]) -> Command {
    let mut cmd = support::pagewire::command(args);
    cmd.env("PAGEWIRE_NATS__SERVERS", server.url())
        .env("PAGEWIRE_NATS__CONNECT_TIMEOUT", "2s");
    cmd
}

/// Runs `pagewire <args>` against `server` and returns its output.
fn pagewire(server: &NatsServer, args: &[&str]) -> Output {
    pagewire_cmd(server, args).output().expect("run pagewire")
}

async fn pagewire_async(server: &NatsServer, args: &[&str]) -> Output {
    let mut cmd = pagewire_cmd(server, args);
    let run = tokio::task::spawn_blocking(move || cmd.output().expect("run pagewire"));
    tokio::time::timeout(WAIT, run)
        .await
        .expect("pagewire finishes in time")
        .expect("pagewire task")
}

// ---------------------------------------------------------------------------------------------
// Probes

#[tokio::test]
async fn readyz_flips_when_the_broker_goes_away_and_comes_back_while_healthz_stays_ok() {
    let mut server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[])).await;
    assert!(svc.state.is_ready(), "/readyz answers what the state says");
    assert_eq!(svc.get("/healthz").await.map(|r| r.0), Some(200));

    server.kill();
    let reason = svc.wait_probe("/readyz", 503).await;
    assert_eq!(reason.trim(), "not connected to nats");
    assert_eq!(
        svc.get("/healthz").await.map(|r| r.0),
        Some(200),
        "alive while disconnected"
    );
    assert_eq!(svc.metrics().await.get("pagewire_ready"), 0.0);

    server.spawn();
    assert_eq!(svc.wait_probe("/readyz", 200).await.trim(), "ready");
    wait_for("a reconnect counted", || async {
        svc.metrics().await.get("pagewire_reconnects_total") >= 1.0
    })
    .await;
    let m = svc.metrics().await;
    assert_eq!(m.get("pagewire_connected"), 1.0);
    assert_eq!(m.get("pagewire_ready"), 1.0);
    svc.stop().await;
}

#[tokio::test]
async fn readyz_is_unavailable_until_the_service_has_connected() {
    let server = NatsServer::start();
    let mut s = settings(&server, &[]);
    // Nothing listens here: the service keeps retrying and never becomes ready.
    s.nats.servers = vec![format!("nats://127.0.0.1:{}", support::free_port())];
    let svc = InProcess::spawn(s).await;
    let (status, body) = svc.get("/readyz").await.expect("probe answers at once");
    assert_eq!((status, body.trim()), (503, "not connected to nats"));
    assert_eq!(svc.get("/healthz").await.map(|r| r.0), Some(200));
    assert_eq!(svc.get("/nope").await.map(|r| r.0), Some(404));
    svc.shutdown.cancel();
    let result = tokio::time::timeout(WAIT, svc.handle)
        .await
        .expect("stops within the timeout")
        .expect("not panicked");
    // A shutdown asked for while still connecting is a clean stop, not a connect error
    // (`pagewire run` exits 0 on a SIGTERM during start-up).
    assert!(
        result.is_ok(),
        "stopping before any connection is a clean stop: {result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Metrics

#[tokio::test]
async fn metrics_move_when_pages_flow() {
    let server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[])).await;
    let (_c, js) = client(&server).await;
    let before = svc.metrics().await;
    assert_eq!(before.sum("pagewire_pages_total", &[]), 0.0);
    assert_eq!(
        before.sum(
            "pagewire_build_info",
            &[&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );

    publish(&js, markdown_headers(1), seed()).await;
    let mut bad = HeaderMap::new();
    bad.insert("Content-Type", "application/pdf");
    let last = publish(&js, bad, b"%PDF-1.7".to_vec()).await;
    wait_drained(&js, last).await;

    let m = svc.metrics().await;
    assert_eq!(m.get("pagewire_pages_total{outcome=\"published\"}"), 1.0);
    assert_eq!(
        m.get("pagewire_pages_total{outcome=\"dead_lettered\"}"),
        1.0
    );
    assert_eq!(
        m.get("pagewire_dead_letters_total{code=\"unsupported_content_type\"}"),
        1.0
    );
    assert_eq!(
        m.sum("pagewire_articles_published_total", &["topic=\"search\""]),
        5.0
    );
    assert_eq!(
        m.sum("pagewire_articles_published_total", &["topic=\"archive\""]),
        7.0
    );
    assert_eq!(
        m.get("pagewire_articles_published_total{topic=\"archive\",kind=\"teaser\"}"),
        2.0
    );
    assert_eq!(m.get("pagewire_page_duration_seconds_count"), 1.0);
    // 7 archive + 5 search + 3 alert + 1 page + 1 dead letter, one PubAck each.
    assert_eq!(m.get("pagewire_publish_ack_duration_seconds_count"), 17.0);
    assert!(m.get("pagewire_page_duration_seconds_sum") > 0.0);
    assert_eq!(m.get("pagewire_in_flight_pages"), 0.0);
    assert_eq!(m.sum("pagewire_duplicates_total", &[]), 0.0);

    // The same page again: every output is a duplicate the streams absorb.
    let last = publish(&js, markdown_headers(1), seed()).await;
    wait_drained(&js, last).await;
    let m = svc.metrics().await;
    assert_eq!(m.get("pagewire_pages_total{outcome=\"published\"}"), 2.0);
    assert_eq!(m.get("pagewire_duplicates_total{topic=\"search\"}"), 5.0);
    assert_eq!(m.get("pagewire_duplicates_total{topic=\"pages\"}"), 1.0);
    svc.stop().await;
}

#[tokio::test]
async fn consumer_lag_is_read_from_jetstream() {
    let server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[])).await;
    let (_c, js) = client(&server).await;
    let input = stream(&js, "PAGES").await;

    // A paused consumer delivers nothing: what is published waits as pending.
    let until = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    input
        .pause_consumer("pagewire", until)
        .await
        .expect("pause the consumer");
    for page in 1..=3 {
        publish(&js, markdown_headers(page), seed()).await;
    }
    wait_for("pending lag of 3 reported", || async {
        svc.metrics().await.get("pagewire_consumer_pending") == 3.0
    })
    .await;

    input
        .resume_consumer("pagewire")
        .await
        .expect("resume the consumer");
    wait_for("lag back to zero", || async {
        let m = svc.metrics().await;
        m.get("pagewire_consumer_pending") == 0.0
            && m.get("pagewire_consumer_ack_pending") == 0.0
            && m.get("pagewire_pages_total{outcome=\"published\"}") == 3.0
    })
    .await;
    svc.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The micro service

async fn parse_request(
    client: &async_nats::Client,
    headers: HeaderMap,
    body: Vec<u8>,
) -> async_nats::Message {
    tokio::time::timeout(
        WAIT,
        client.request_with_headers("pagewire.parse", headers, body.into()),
    )
    .await
    .expect("reply in time")
    .expect("pagewire.parse answers")
}

fn header(m: &async_nats::Message, name: &str) -> Option<String> {
    m.headers
        .as_ref()
        .and_then(|h| h.get(name))
        .map(|v| v.as_str().to_owned())
}

#[tokio::test]
async fn pagewire_parse_answers_with_the_page_in_protobuf_and_in_json() {
    let server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[])).await;
    let (c, js) = client(&server).await;

    let mut h = markdown_headers(1);
    h.insert("Pagewire-Publication", PUBLICATION);
    let reply = parse_request(&c, h.clone(), seed()).await;
    assert_eq!(header(&reply, "Nats-Service-Error-Code"), None);
    assert_eq!(
        header(&reply, "Content-Type").as_deref(),
        Some("application/protobuf")
    );
    assert_eq!(
        header(&reply, "Pagewire-Type").as_deref(),
        Some("pagewire.v1.Page")
    );
    let page = Page::decode(reply.payload).expect("reply is a Page");
    assert_eq!(page, seed_page(), "the reply is what the parser makes");
    assert_eq!(page.articles.len(), 7);

    h.insert("Accept", "application/json");
    let reply = parse_request(&c, h, seed()).await;
    assert_eq!(
        header(&reply, "Content-Type").as_deref(),
        Some("application/json")
    );
    let json: Page = serde_json::from_slice(&reply.payload).expect("reply is proto3 JSON");
    assert_eq!(json, seed_page());

    // A RawPage in protobuf answers the same; nothing is published.
    let raw = RawPage {
        publication: PUBLICATION.into(),
        issue_date: "2025-07-10".into(),
        page_number: 1,
        format: pagewire::proto::PageFormat::Markdown as i32,
        content: String::from_utf8(seed()).expect("UTF-8"),
        ..Default::default()
    };
    let reply = parse_request(&c, HeaderMap::new(), raw.encode_to_vec()).await;
    assert_eq!(Page::decode(reply.payload).expect("Page").articles.len(), 7);
    for name in ["ARTICLES_ARCHIVE", "PAGES_ARCHIVE", "PAGES"] {
        let mut s = stream(&js, name).await;
        let info = s.info().await.expect("stream info");
        assert_eq!(info.state.messages, 0, "{name}: parse publishes nothing");
    }
    assert_eq!(
        svc.metrics()
            .await
            .get("pagewire_parse_requests_total{outcome=\"ok\"}"),
        3.0
    );
    svc.stop().await;
}

#[tokio::test]
async fn pagewire_parse_rejects_bad_input_with_the_dead_letter_code() {
    let server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[])).await;
    let (c, _js) = client(&server).await;

    let reply = parse_request(&c, HeaderMap::new(), b"\x0a\xff\xff\xff\xff".to_vec()).await;
    assert_eq!(
        header(&reply, "Nats-Service-Error-Code").as_deref(),
        Some("400")
    );
    assert_eq!(
        header(&reply, "Pagewire-Error-Code").as_deref(),
        Some("bad_envelope")
    );
    let status = header(&reply, "Nats-Service-Error").unwrap_or_default();
    assert!(status.starts_with("bad_envelope: "), "{status}");
    assert!(reply.payload.is_empty());

    // Page text without a publication: the subject cannot stand in for it here.
    let reply = parse_request(&c, markdown_headers(1), seed()).await;
    assert_eq!(
        header(&reply, "Pagewire-Error-Code").as_deref(),
        Some("invalid_metadata")
    );

    let mut pdf = HeaderMap::new();
    pdf.insert("Content-Type", "application/pdf");
    let reply = parse_request(&c, pdf, b"%PDF".to_vec()).await;
    assert_eq!(
        (
            header(&reply, "Nats-Service-Error-Code").as_deref(),
            header(&reply, "Pagewire-Error-Code").as_deref()
        ),
        (Some("415"), Some("unsupported_content_type"))
    );
    assert_eq!(
        svc.metrics()
            .await
            .get("pagewire_parse_requests_total{outcome=\"rejected\"}"),
        3.0
    );
    svc.stop().await;
}

/// Every reply to a `$SRV` discovery request within one second.
async fn discover(client: &async_nats::Client, subject: &str) -> Vec<serde_json::Value> {
    let inbox = client.new_inbox();
    let mut replies = client.subscribe(inbox.clone()).await.expect("subscribe");
    client
        .publish_with_reply(subject.to_owned(), inbox, "".into())
        .await
        .expect("publish");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    let mut out = Vec::new();
    while let Ok(Some(m)) = tokio::time::timeout_at(deadline, replies.next()).await {
        out.push(serde_json::from_slice(&m.payload).expect("discovery reply is JSON"));
    }
    out
}

#[tokio::test]
async fn srv_ping_info_and_stats_show_the_parse_endpoint_of_every_replica() {
    let server = NatsServer::start();
    let a = InProcess::start(settings(&server, &[])).await;
    let b = InProcess::start(settings(&server, &[])).await;
    let (c, _js) = client(&server).await;

    let pings = discover(&c, "$SRV.PING.pagewire").await;
    assert_eq!(pings.len(), 2, "{pings:?}");
    for p in &pings {
        assert_eq!(p["name"], "pagewire");
        assert_eq!(p["version"], env!("CARGO_PKG_VERSION"));
    }

    let infos = discover(&c, "$SRV.INFO.pagewire").await;
    assert_eq!(infos.len(), 2);
    for info in &infos {
        let endpoints = info["endpoints"].as_array().expect("endpoints");
        assert_eq!(endpoints.len(), 1, "{info}");
        assert_eq!(endpoints[0]["name"], "parse");
        assert_eq!(endpoints[0]["subject"], "pagewire.parse");
        assert_eq!(endpoints[0]["queue_group"], "pagewire");
        assert_eq!(info["metadata"]["consumer"], "pagewire");
    }

    // The queue group spreads requests over the replicas; STATS counts them per replica.
    let mut h = markdown_headers(1);
    h.insert("Pagewire-Publication", PUBLICATION);
    for _ in 0..20 {
        parse_request(&c, h.clone(), seed()).await;
    }
    parse_request(&c, HeaderMap::new(), b"\xff".to_vec()).await;
    let stats = discover(&c, "$SRV.STATS.pagewire").await;
    assert_eq!(stats.len(), 2);
    let per_replica: Vec<(u64, u64)> = stats
        .iter()
        .map(|s| {
            let e = &s["endpoints"][0];
            (
                e["num_requests"].as_u64().unwrap_or(0),
                e["num_errors"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let requests: u64 = per_replica.iter().map(|r| r.0).sum();
    let errors: u64 = per_replica.iter().map(|r| r.1).sum();
    assert_eq!((requests, errors), (21, 1), "{stats:?}");
    assert!(
        per_replica.iter().all(|r| r.0 > 0),
        "both replicas answer: {per_replica:?}"
    );

    // A stopping replica leaves the service.
    a.stop().await;
    wait_for("one replica left", || async {
        discover(&c, "$SRV.PING.pagewire").await.len() == 1
    })
    .await;
    b.stop().await;
}

// ---------------------------------------------------------------------------------------------
// `pagewire run` and `pagewire status` as processes

#[tokio::test]
async fn pagewire_run_serves_the_probes_on_http_listen_and_stops_on_sigterm() {
    let server = NatsServer::start();
    let addr = format!("127.0.0.1:{}", support::free_port());
    let svc = support::checker::ChildService::start(&server, &[("PAGEWIRE_HTTP__LISTEN", &addr)]);
    let read_log = || svc.log();

    let deadline = Instant::now() + WAIT;
    loop {
        let a = addr.clone();
        let got = tokio::task::spawn_blocking(move || http_get(&a, "/readyz"))
            .await
            .expect("probe task");
        if matches!(got, Some((200, _))) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never ready: {got:?}\n{}",
            read_log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let a = addr.clone();
    let (status, body) = tokio::task::spawn_blocking(move || http_get(&a, "/metrics"))
        .await
        .expect("metrics task")
        .expect("metrics answer");
    assert_eq!(status, 200);
    assert!(body.contains("pagewire_build_info{"), "{body}");
    assert!(read_log().contains("serving /healthz"), "{}", read_log());

    // SIGTERM: drains and exits 0 (asserted by `terminate`)
    svc.terminate().await;
}

#[test]
fn a_taken_http_port_fails_the_start_naming_the_key() {
    let server = NatsServer::start();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = support::pagewire::command(&["run"])
        .env("PAGEWIRE_NATS__SERVERS", server.url())
        .env("PAGEWIRE_HTTP__LISTEN", &addr)
        .output()
        .expect("run pagewire");
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("http.listen"), "{stderr}");
}

#[test]
fn status_exits_two_when_the_input_stream_or_consumer_is_missing() {
    let server = NatsServer::start();
    let out = pagewire(&server, &["status"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("input stream PAGES does not exist"),
        "{stdout}"
    );
    assert!(stdout.contains("status: missing"), "{stdout}");

    // The stream exists, the consumer does not.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let (_c, js) = client(&server).await;
        js.create_stream(jetstream::stream::Config {
            name: "PAGES".into(),
            subjects: vec!["pages.raw.>".into()],
            ..Default::default()
        })
        .await
        .expect("create stream");
    });
    let out = pagewire(&server, &["status", "--json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["verdict"], "missing");
    assert!(v["consumer"].is_null());
    assert_eq!(v["input_stream"]["name"], "PAGES");
}

#[tokio::test]
async fn status_exits_zero_for_a_healthy_service_and_reports_streams_dead_letters_and_replicas() {
    let server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[])).await;
    let (_c, js) = client(&server).await;
    publish(&js, markdown_headers(1), seed()).await;
    let mut bad = HeaderMap::new();
    bad.insert("Content-Type", "application/pdf");
    let last = publish(&js, bad, b"%PDF-1.7".to_vec()).await;
    wait_drained(&js, last).await;

    let out = pagewire_async(&server, &["status", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["verdict"], "ok", "{v:#}");
    assert_eq!(v["consumer"]["name"], "pagewire");
    assert_eq!(v["consumer"]["pending"], 0);
    assert_eq!(v["consumer"]["ack_pending"], 0);
    assert_eq!(v["consumer"]["ack_floor_stream_sequence"], last);
    assert!(v["consumer"]["last_acked"].is_string());
    let outputs: BTreeMap<String, u64> = v["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .map(|o| {
            (
                o["stream"]["name"].as_str().unwrap_or("missing").to_owned(),
                o["stream"]["messages"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(outputs["ARTICLES_SEARCH"], 5);
    assert_eq!(outputs["ARTICLES_ARCHIVE"], 7);
    assert_eq!(outputs["PAGES_DLQ"], 1);
    assert_eq!(
        v["outputs"][0]["stream"]["duplicate_window_seconds"],
        24 * 3600
    );
    assert_eq!(v["dead_letters"], serde_json::json!({ PUBLICATION: 1 }));
    let replicas = v["replicas"].as_array().expect("replicas");
    assert_eq!(replicas.len(), 1);
    assert_eq!(
        replicas[0]["endpoints"],
        serde_json::json!(["pagewire.parse"])
    );

    // The table says the same for a person.
    let out = pagewire_async(&server, &["status"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    for want in [
        "consumer  pagewire",
        "ARTICLES_SEARCH",
        PUBLICATION,
        "REPLICAS (1)",
        "status: ok",
    ] {
        assert!(table.contains(want), "{want:?} missing:\n{table}");
    }
    svc.stop().await;
}

#[tokio::test]
async fn status_exits_three_when_pages_wait_and_nothing_is_acked() {
    let server = NatsServer::start();
    // The service provisions the streams and the consumer, then goes away.
    InProcess::start(settings(&server, &[])).await.stop().await;
    let (_c, js) = client(&server).await;
    publish(&js, markdown_headers(1), seed()).await;

    let out = pagewire_async(&server, &["status", "--stall-after", "0s"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("not making progress: 1 pages waiting"),
        "{stdout}"
    );
    assert!(stdout.contains("no replica answers"), "{stdout}");

    // With the default patience a fresh backlog is not a stall yet.
    let out = pagewire_async(&server, &["status"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

// ---------------------------------------------------------------------------------------------
// Dashboard and alert rules

/// Metric names in a real scrape: a service that has published a page twice (duplicates),
/// dead-lettered one and answered `pagewire.parse`, so that every labelled family has series.
/// Stitching is on, as deployed (the shared test environment turns it off).
async fn exported_metric_names() -> BTreeSet<String> {
    let server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[("PAGEWIRE_STITCH__ENABLED", "true")])).await;
    let (c, js) = client(&server).await;
    publish(&js, markdown_headers(1), seed()).await;
    publish(&js, markdown_headers(1), seed()).await;
    let mut bad = HeaderMap::new();
    bad.insert("Content-Type", "application/pdf");
    let last = publish(&js, bad, b"%PDF-1.7".to_vec()).await;
    wait_drained(&js, last).await;
    parse_request(&c, HeaderMap::new(), b"\xff".to_vec()).await;
    let metrics = svc.metrics().await;
    svc.stop().await;
    metrics
        .0
        .keys()
        .map(|series| series.split('{').next().unwrap_or_default().to_owned())
        .collect()
}

/// The metric names a PromQL expression selects, failing on a syntax error.
fn promql_metric_names(expr: &str) -> BTreeSet<String> {
    // Grafana's variables are not PromQL; give them values the parser accepts.
    let expr = expr
        .replace("$__rate_interval", "5m")
        .replace("$__interval", "1m")
        .replace("$__range", "1h");
    let ast =
        promql_parser::parser::parse(&expr).unwrap_or_else(|e| panic!("bad PromQL {expr:?}: {e}"));
    let mut names = BTreeSet::new();
    collect_names(&ast, &mut names);
    assert!(!names.is_empty(), "{expr:?} selects no metric");
    names
}

fn collect_names(e: &promql_parser::parser::Expr, out: &mut BTreeSet<String>) {
    use promql_parser::parser::Expr as E;
    match e {
        E::Aggregate(a) => {
            collect_names(&a.expr, out);
            if let Some(p) = &a.param {
                collect_names(p, out);
            }
        }
        E::Unary(u) => collect_names(&u.expr, out),
        E::Binary(b) => {
            collect_names(&b.lhs, out);
            collect_names(&b.rhs, out);
        }
        E::Paren(p) => collect_names(&p.expr, out),
        E::Subquery(s) => collect_names(&s.expr, out),
        E::NumberLiteral(_) | E::StringLiteral(_) => {}
        E::VectorSelector(v) => out.extend(v.name.clone()),
        E::MatrixSelector(m) => out.extend(m.vs.name.clone()),
        E::Call(c) => c.args.args.iter().for_each(|a| collect_names(a, out)),
        E::Extension(_) => {}
    }
}

/// Every `expr` and templating query in the dashboard, with where it is.
fn dashboard_queries(dash: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    fn walk_panels(panels: &[serde_json::Value], out: &mut Vec<(String, String)>) {
        for p in panels {
            let title = p["title"].as_str().unwrap_or("?").to_owned();
            for t in p["targets"].as_array().into_iter().flatten() {
                if let Some(expr) = t["expr"].as_str() {
                    out.push((format!("panel {title:?}"), expr.to_owned()));
                }
            }
            if let Some(inner) = p["panels"].as_array() {
                walk_panels(inner, out);
            }
        }
    }
    walk_panels(dash["panels"].as_array().expect("panels"), &mut out);
    for v in dash["templating"]["list"].as_array().into_iter().flatten() {
        let q = v["query"]["query"]
            .as_str()
            .or(v["query"].as_str())
            .unwrap_or_default();
        // label_values(<selector>, <label>): the selector is PromQL.
        if let Some(args) = q
            .strip_prefix("label_values(")
            .and_then(|r| r.strip_suffix(')'))
        {
            let selector = args.rsplit_once(',').map_or(args, |(s, _)| s);
            out.push((
                format!("variable {}", v["name"]),
                selector.trim().to_owned(),
            ));
        }
    }
    out
}

#[tokio::test]
async fn the_dashboard_queries_only_metrics_the_service_exports() {
    let exported = exported_metric_names().await;
    let dash: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(manifest("deploy/grafana/pagewire-dashboard.json"))
            .expect("dashboard file"),
    )
    .expect("the dashboard is JSON");
    assert_eq!(dash["uid"], "pagewire");
    assert!(dash["title"].is_string() && dash["schemaVersion"].is_u64());

    let panels = dash["panels"].as_array().expect("panels");
    let ids: Vec<u64> = panels.iter().filter_map(|p| p["id"].as_u64()).collect();
    assert_eq!(ids.len(), panels.len(), "every panel has an id");
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        ids.len(),
        "panel ids are unique"
    );
    for p in panels {
        for k in ["x", "y", "w", "h"] {
            assert!(p["gridPos"][k].is_u64(), "{}: gridPos.{k}", p["title"]);
        }
    }

    let queries = dashboard_queries(&dash);
    let mut used = BTreeSet::new();
    for (where_, expr) in &queries {
        for name in promql_metric_names(expr) {
            assert!(
                exported.contains(&name),
                "{where_}: {name} is not exported (exported: {exported:?})"
            );
            used.insert(name);
        }
    }
    // What the issue asks the dashboard to show.
    for must in [
        "pagewire_pages_total",
        "pagewire_page_duration_seconds_bucket",
        "pagewire_consumer_pending",
        "pagewire_dead_letters_total",
        "pagewire_ready",
        "pagewire_stitched_total",
        "pagewire_linked_total",
        "pagewire_unresolved_jumps_total",
        "pagewire_stitch_skipped_total",
        "pagewire_stitch_conflicts_total",
    ] {
        assert!(used.contains(must), "the dashboard does not show {must}");
    }
}

#[tokio::test]
async fn the_alert_rules_parse_and_use_only_exported_metrics() {
    let path = manifest("deploy/prometheus/alerts.yaml");
    let exported = exported_metric_names().await;
    let rules: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(&path).expect("rules file"))
            .expect("the rules are YAML");
    let groups = rules["groups"].as_sequence().expect("groups");
    let mut alerts = BTreeSet::new();
    for g in groups {
        assert!(g["name"].as_str().is_some(), "group without a name");
        for r in g["rules"].as_sequence().expect("rules") {
            let alert = r["alert"].as_str().expect("alert name").to_owned();
            let expr = r["expr"].as_str().expect("expr");
            if let Some(d) = r["for"].as_str() {
                assert!(
                    d.trim_end_matches(['s', 'm', 'h', 'd'])
                        .parse::<u32>()
                        .is_ok(),
                    "{alert}: for {d:?}"
                );
            }
            assert!(
                r["labels"]["severity"].as_str().is_some(),
                "{alert}: severity"
            );
            assert!(
                r["annotations"]["summary"].as_str().is_some(),
                "{alert}: summary"
            );
            for name in promql_metric_names(expr) {
                // `up` is Prometheus' own per-target series.
                assert!(
                    name == "up" || exported.contains(&name),
                    "{alert}: {name} is not exported"
                );
            }
            assert!(alerts.insert(alert.clone()), "{alert} defined twice");
        }
    }
    for must in [
        "PagewireNotReady",
        "PagewireConsumerLagGrowing",
        "PagewireDeadLettersSpiking",
        "PagewireNoThroughput",
        "PagewireUnresolvedJumpsSustained",
        "PagewireStitchSkipping",
        "PagewireDeadLettersWaiting",
    ] {
        assert!(alerts.contains(must), "missing alert {must}");
    }

    // Prometheus' own validator, where it is installed (Debian: package prometheus).
    match Command::new("promtool")
        .args(["check", "rules"])
        .arg(&path)
        .output()
    {
        Ok(out) => assert!(out.status.success(), "promtool:\n{}", text(&out)),
        Err(_) => eprintln!("promtool not on PATH: checked with promql-parser only"),
    }
}

// ---------------------------------------------------------------------------------------------
// The Python subscriber example

/// The venv with the example's dependencies; see [`support::python::python`].
fn python_with_example_deps() -> PathBuf {
    support::python::python(
        "nats, google.protobuf, grpc_tools.protoc",
        "The Python subscriber test needs nats-py, protobuf and grpcio-tools",
        "the example's dependencies",
    )
}

#[tokio::test]
async fn the_python_subscriber_decodes_the_seed_pages_search_articles() {
    let python = python_with_example_deps();
    let gen = python_module(&python);

    let server = NatsServer::start();
    let s = settings(&server, &[]);
    let want = seed_search_headlines(&s);
    assert_eq!(want.len(), 5);
    let svc = InProcess::start(s).await;
    let (_c, js) = client(&server).await;
    let last = publish(&js, markdown_headers(1), seed()).await;
    wait_drained(&js, last).await;

    let url = server.url();
    let gen_path = gen.path().to_owned();
    let run = tokio::task::spawn_blocking(move || {
        Command::new(&python)
            .arg(manifest("examples/python/subscriber.py"))
            .args(["--server", &url, "--count", "5", "--idle-exit", "20"])
            .env("PYTHONPATH", &gen_path)
            .stdin(Stdio::null())
            .output()
            .expect("run the subscriber")
    });
    let out = tokio::time::timeout(WAIT, run)
        .await
        .expect("the subscriber exits in time")
        .expect("subscriber task");
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let got: BTreeSet<String> = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("headline:"))
        .map(|h| h.trim().to_owned())
        .collect();
    assert_eq!(got, want, "{}", text(&out));
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.trim() == "page:       baotou-daily 2025-07-10 page 01")
            .count(),
        5,
        "{stdout}"
    );
    assert!(stdout.contains("references:"), "{stdout}");

    // Its durable consumer remembers: all five are acked, nothing is left for it.
    let info = stream(&js, "ARTICLES_SEARCH")
        .await
        .consumer_info("python-search-example")
        .await
        .expect("the durable exists");
    assert_eq!((info.num_pending, info.num_ack_pending), (0, 0));
    assert_eq!(info.ack_floor.stream_sequence, 5);
    svc.stop().await;
}

#[tokio::test]
async fn the_python_subscriber_drops_the_articles_a_correction_withdraws() {
    let python = python_with_example_deps();
    let gen = python_module(&python);

    // With issue state on, a corrected page with one brief instead of three withdraws two.
    let server = NatsServer::start();
    let s = settings(&server, &[("PAGEWIRE_STITCH__ENABLED", "true")]);
    let svc = InProcess::start(s).await;
    let (_c, js) = client(&server).await;
    let brief = |n: u32| format!("# 第{n}条简讯标题\n\n本市第{n}项民生工程今日开工建设。\n\n");
    let three: String = (1..=3).map(brief).collect();
    let last = publish(&js, markdown_headers(2), three).await;
    wait_drained(&js, last).await;
    let last = publish(&js, markdown_headers(2), brief(1)).await;
    wait_drained(&js, last).await;
    let mut search = stream(&js, "ARTICLES_SEARCH").await;
    let stored = search.info().await.expect("stream info").state.messages;
    assert_eq!(stored, 5, "3 briefs, 2 withdrawals");

    let url = server.url();
    let gen_path = gen.path().to_owned();
    let run = tokio::task::spawn_blocking(move || {
        Command::new(&python)
            .arg(manifest("examples/python/subscriber.py"))
            .args(["--server", &url, "--count", "5", "--idle-exit", "20"])
            .arg("--show-index")
            .env("PYTHONPATH", &gen_path)
            .stdin(Stdio::null())
            .output()
            .expect("run the subscriber")
    });
    let out = tokio::time::timeout(WAIT, run)
        .await
        .expect("the subscriber exits in time")
        .expect("subscriber task");
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let id = |n: u32| format!("baotou-daily/2025-07-10/main/2/{n}");
    for n in [2, 3] {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains("  withdraw  ") && l.contains(&format!("{}  ", id(n)))),
            "{stdout}"
        );
    }
    let indexed: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("indexed "))
        .map(|l| l.split(' ').next().unwrap_or_default())
        .collect();
    assert_eq!(indexed, [id(1)], "{stdout}");
    svc.stop().await;
}
