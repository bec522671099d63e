//! Memory bounds against a real nats-server: the input bytes a replica holds stay within its
//! byte budget (`limits.max_in_flight_bytes`) however many large pages wait in the stream.

mod support;

use std::time::Duration;

use support::checker::{
    client, count, markdown_headers, publish, seed, settings, wait_drained, ChildService,
};
use support::{http_get, NatsServer};

/// A page of `bytes` of the seed's paragraphs under a few headlines: large, and clean input.
fn large_page(tag: u32, bytes: usize) -> Vec<u8> {
    let seed = String::from_utf8(seed()).expect("seed is UTF-8");
    let sentences: Vec<&str> = seed
        .lines()
        .filter(|l| !l.starts_with('#') && !l.contains('版') && l.chars().count() > 20)
        .collect();
    let articles = 8;
    let mut out = String::new();
    let mut k = 0;
    for a in 0..articles {
        out.push_str(&format!("## 第{tag}版第{a}篇报道\n\n"));
        let start = out.len();
        while out.len() - start < bytes / articles {
            out.push_str(sentences[k % sentences.len()]);
            k += 1;
            if k % 40 == 0 {
                out.push_str("\n\n");
            }
        }
        out.push_str("\n\n");
    }
    out.into_bytes()
}

/// The value of an unlabelled metric in a `/metrics` body.
fn metric(body: &str, name: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} not in /metrics:\n{body}"))
        .trim()
        .parse()
        .expect("metric value")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_large_pages_at_once_never_put_more_input_in_flight_than_the_byte_budget() {
    // 24 pages of about 1 MB wait in the stream before pagewire starts; 64 slots and batches of
    // 16 would take them all at once (24 MB), the budget of 3 MiB takes three at a time.
    const PAGES: u32 = 24;
    const PAGE_BYTES: usize = 1_000_000;
    const BUDGET: usize = 3 << 20;
    let server = NatsServer::with_config("max_payload: 2MB");
    let extra = [
        ("PAGEWIRE_LIMITS__MAX_PAGE_BYTES", "1572864"),
        ("PAGEWIRE_LIMITS__MAX_IN_FLIGHT_BYTES", "3145728"),
        ("PAGEWIRE_LOG__FORMAT", "json"),
        // Parsing a 1 MB page in a debug build takes seconds.
        ("PAGEWIRE_INPUT__ACK_WAIT", "30s"),
    ];
    let (_c, js) = client(&server).await;
    pagewire::service::provision_streams(&js, &settings(&server, &extra))
        .await
        .expect("streams provisioned");
    let mut last = 0;
    for page in 1..=PAGES {
        last = publish(&js, markdown_headers(page), large_page(page, PAGE_BYTES)).await;
    }

    let svc = ChildService::start(&server, &extra);
    svc.wait_log("serving /healthz").await;
    let log = svc.log();
    let addr = log
        .split("\"addr\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no http address in the log:\n{log}"))
        .to_owned();
    wait_drained(&js, last).await;
    // a page's bytes are given back when its task ends, just after its ack reached the
    // broker: wait for the gauge to come back to zero rather than read it once
    let scrape = || http_get(&addr, "/metrics").expect("GET /metrics answers");
    support::wait::wait_for_within(
        "the input bytes of every page given back",
        Duration::from_secs(10),
        || {
            let (_, body) = scrape();
            async move { metric(&body, "pagewire_in_flight_input_bytes") == 0.0 }
        },
    )
    .await;

    let (status, body) = scrape();
    assert_eq!(status, 200);
    assert_eq!(metric(&body, "pagewire_input_bytes_budget"), BUDGET as f64);
    let peak = metric(&body, "pagewire_in_flight_input_bytes_max");
    eprintln!("input bytes in flight at most: {peak} of a budget of {BUDGET}");
    assert!(peak >= PAGE_BYTES as f64, "a page was counted: {peak}");
    assert!(
        peak <= BUDGET as f64,
        "{peak} bytes in flight over the budget"
    );
    assert_eq!(metric(&body, "pagewire_in_flight_input_bytes"), 0.0);
    // Every page published, none set aside, and every pull request that ran out of bytes
    // ended as a request does, not as an error.
    assert_eq!(
        metric(&body, "pagewire_pages_total{outcome=\"published\"}"),
        PAGES as f64
    );
    assert_eq!(count(&js, "PAGES_DLQ").await, 0);
    let log = svc.log();
    assert!(!log.contains("pull request ended with an error"), "{log}");
    assert!(!log.contains("more bytes than it asked for"), "{log}");

    svc.signal("TERM");
    let mut svc = svc;
    assert!(svc.wait_exit(Duration::from_secs(30)).await.success());
}

#[tokio::test]
async fn a_budget_that_cannot_hold_the_largest_message_stops_the_service_with_the_key() {
    // The server takes messages of 1 MB; a budget of 1 MB (limits.max_page_bytes lowered to
    // fit it) could never take one with its subjects.
    let server = NatsServer::start();
    let mut svc = ChildService::start(
        &server,
        &[
            ("PAGEWIRE_LIMITS__MAX_PAGE_BYTES", "1048576"),
            ("PAGEWIRE_LIMITS__MAX_IN_FLIGHT_BYTES", "1048576"),
        ],
    );
    let status = svc.wait_exit(Duration::from_secs(30)).await;
    assert!(!status.success());
    let log = svc.log();
    assert!(log.contains("limits.max_in_flight_bytes"), "{log}");
    assert!(log.contains("max_payload"), "{log}");
}
