//! Runs one page file through the service's pipeline N times (decode, parse, alerts, routing,
//! protobuf encoding: everything a page costs except the broker), for profilers that want a
//! plain binary and a split between the parser and the rest:
//! `cargo build --release --example profile_pipeline &&
//!  valgrind --tool=callgrind target/release/examples/profile_pipeline tests/fixtures/zh-baotou-daily-2025-07-10-p01.md 200`
//!
//! The alert rules are the example configuration's (`deploy/pagewire.toml`), as in the
//! end-to-end bench.

use pagewire::config::Settings;
use pagewire::envelope::Incoming;
use pagewire::pipeline::{Pipeline, Work};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: profile_pipeline FILE [ITERATIONS]");
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let content = std::fs::read(&path).expect("readable file");
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/pagewire.toml");
    let example = Settings::load_from(Some(std::path::Path::new(config)), Some(Default::default()))
        .expect("the example configuration loads");
    let settings = Settings {
        alerts: example.alerts,
        ..Settings::default()
    };
    let pipeline = Pipeline::new(&settings, 8 * 1024 * 1024);
    let header = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    let headers = [
        header("Content-Type", "text/markdown"),
        header("Pagewire-Publication", "profile"),
        header("Pagewire-Issue-Date", "2025-07-10"),
        header("Pagewire-Page", "2"),
    ];
    let incoming = Incoming {
        subject: "pages.raw.profile",
        headers: &headers,
        payload: &content,
    };
    let (mut messages, mut bytes) = (0, 0);
    for _ in 0..n {
        let processed = pipeline.process(&incoming).expect("the page is accepted");
        if let Work::Routed(outputs) = processed.work {
            messages += outputs.len();
            bytes += outputs.iter().map(|o| o.payload.len()).sum::<usize>();
        }
    }
    println!("{n} pages, {messages} messages, {bytes} payload bytes");
}
