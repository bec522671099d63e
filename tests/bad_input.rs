//! The bad-input catalogue: every hostile or malformed input a producer can send, with the one
//! fate pagewire gives it — parsed and acked, or dead-lettered with a stable code and termed.
//! Never a panic, never redelivered, within time bounds.
//!
//! Each entry is checked twice: through the pure pipeline (fate, code, time), and through the
//! real service against a real broker, all entries batched through one service instance and
//! judged by the checker (outputs exactly as the pure run says, one dead letter per rejected
//! entry with its code, no redelivery, clean consumer). RELIABILITY.md has the table.

mod support;

#[path = "../fuzz/bodies.rs"]
mod fuzz_bodies;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use prost::Message as _;

use pagewire::config::Settings;
use pagewire::envelope::Incoming;
use pagewire::pipeline::Pipeline;
use pagewire::proto::RawPage;
use support::checker::{
    check, client, drained_within, manifest, publish_inputs, seed, settings, Expected, InProcess,
    Input, Rng, WAIT,
};
use support::NatsServer;

/// Page size limit of the catalogue's service (`limits.max_page_bytes`): small enough that
/// "far over" still fits the broker, large enough for the 1 MiB entries.
const LIMIT: usize = 2 * 1024 * 1024;
/// The catalogue broker's `max_payload`.
const MAX_PAYLOAD: usize = 8 * 1024 * 1024;
/// `max_payload` of the small broker for the output-size entries.
const SMALL_MAX_PAYLOAD: usize = 64 * 1024;
/// Longest any entry may take through the pure pipeline (debug build, busy machine).
const TIME_BOUND: Duration = Duration::from_secs(20);

/// How an entry must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Parsed, its articles published, the input acked.
    Parsed,
    /// Dead-lettered with this code, the input termed.
    DeadLetter(&'static str),
}

struct Entry {
    name: &'static str,
    input: Input,
    fate: Fate,
}

fn entry(name: &'static str, input: Input, fate: Fate) -> Entry {
    Entry { name, input, fate }
}

use Fate::{DeadLetter as Dead, Parsed};

fn md(page: u32, body: impl Into<Vec<u8>>) -> Input {
    Input::markdown(page, body.into())
}

fn plain(page: u32, body: impl Into<Vec<u8>>) -> Input {
    Input::text("text/plain", page, body.into())
}

/// One story padded with body text to exactly `len` bytes.
fn story_of_len(len: usize) -> Vec<u8> {
    let mut s = String::from("# 大标题\n\n");
    let para = "正文内容，记者在现场看到，群众反映良好。\n\n";
    while s.len() + para.len() <= len {
        s.push_str(para);
    }
    s.push_str(&"a".repeat(len - s.len()));
    assert_eq!(s.len(), len);
    s.into_bytes()
}

fn with_body(prefix: &[u8], body: &[u8], suffix: &[u8]) -> Vec<u8> {
    [prefix, body, suffix].concat()
}

fn protobuf(raw: &RawPage) -> Input {
    Input::raw(
        &[("Content-Type", "application/protobuf")],
        raw.encode_to_vec(),
    )
}

fn raw_page(page: u32, content: &str) -> RawPage {
    RawPage {
        publication: "baotou-daily".into(),
        issue_date: "2025-07-10".into(),
        page_number: page,
        content: content.into(),
        ..RawPage::default()
    }
}

/// The catalogue for a broker with [`MAX_PAYLOAD`] and a service with [`LIMIT`].
fn catalogue() -> Vec<Entry> {
    let story = "# 标题\n\n正文第一段，记者报道。\n\n正文第二段。\n";
    let mut page = 0;
    let mut p = || {
        page += 1;
        page
    };
    // A protobuf RawPage whose content string holds bytes that are not UTF-8: encode a valid
    // page, then corrupt the content in place.
    let mut bad_string = raw_page(900, "正文XYZ").encode_to_vec();
    let at = bad_string
        .windows(3)
        .position(|w| w == b"XYZ")
        .expect("content bytes in the encoding");
    bad_string[at] = 0xff;

    vec![
        // --- sizes and emptiness
        entry("empty payload, markdown", md(p(), ""), Dead("no_articles")),
        entry(
            "empty payload, no Content-Type (protobuf)",
            Input::raw(&[], Vec::new()),
            Dead("invalid_metadata"),
        ),
        entry(
            "whitespace only",
            md(p(), " \t\n\r\n  \n\u{3000}\n"),
            Dead("no_articles"),
        ),
        entry(
            "exactly the size limit",
            md(p(), story_of_len(LIMIT)),
            Parsed,
        ),
        entry(
            "one byte over the limit",
            md(p(), story_of_len(LIMIT + 1)),
            Dead("too_large"),
        ),
        entry(
            "far over the limit (3x)",
            md(p(), story_of_len(3 * LIMIT)),
            Dead("too_large"),
        ),
        // --- invalid UTF-8 in a text payload
        entry(
            "lone continuation byte",
            md(p(), with_body(b"# T\n\nbody ", b"\x80", b" more")),
            Dead("invalid_utf8"),
        ),
        entry(
            "overlong encoding",
            md(p(), with_body(b"# T\n\nbody ", b"\xc0\xaf", b" more")),
            Dead("invalid_utf8"),
        ),
        entry(
            "UTF-16 surrogate encoded as UTF-8",
            md(p(), with_body(b"# T\n\nbody ", b"\xed\xa0\x80", b" more")),
            Dead("invalid_utf8"),
        ),
        entry(
            "0xFF byte",
            md(p(), with_body(b"# T\n\nbody ", b"\xff", b" more")),
            Dead("invalid_utf8"),
        ),
        entry(
            "truncated multibyte at the end",
            md(
                p(),
                with_body(b"# T\n\nbody ", "标题".as_bytes(), b"\xe6\x96"),
            ),
            Dead("invalid_utf8"),
        ),
        entry(
            "invalid UTF-8 inside a protobuf string",
            Input::raw(&[], bad_string),
            Dead("bad_envelope"),
        ),
        // --- a protobuf page in a text payload
        entry(
            "a protobuf page sent as text/plain",
            plain(p(), raw_page(901, "短讯。").encode_to_vec()),
            Dead("binary_text"),
        ),
        // --- encodings and invisible characters
        entry("UTF-8 BOM", md(p(), format!("\u{feff}{story}")), Parsed),
        entry(
            "UTF-16LE with BOM, sent as text/plain",
            plain(
                p(),
                std::iter::once(0xfeff_u16)
                    .chain(story.encode_utf16())
                    .flat_map(u16::to_le_bytes)
                    .collect::<Vec<u8>>(),
            ),
            Dead("invalid_utf8"),
        ),
        entry(
            "UTF-16 declared by charset",
            Input::raw(
                &[
                    ("Content-Type", "text/plain; charset=utf-16"),
                    ("Pagewire-Issue-Date", "2025-07-10"),
                    ("Pagewire-Page", "1"),
                ],
                b"\xff\xfe#\x00".to_vec(),
            ),
            Dead("unsupported_content_type"),
        ),
        entry(
            "NUL and control characters",
            md(
                p(),
                "# 标\0题\u{7}\n\n正文\u{1b}[31m第一段\0。\u{8}\n\n\u{0}\u{1}\u{2}正文第二段。\n",
            ),
            Parsed,
        ),
        entry(
            "CR-only line endings",
            md(p(), story.replace('\n', "\r")),
            Parsed,
        ),
        entry(
            "mixed line endings",
            md(
                p(),
                "# 标题\r\n\r\n正文第一段。\r\r正文第二段。\n\n正文第三段。\r\n",
            ),
            Parsed,
        ),
        // --- hostile shapes
        entry(
            "one 1 MiB line",
            md(
                p(),
                format!("# 标题\n\n{}", "很长的一行，".repeat((1 << 20) / 18)),
            ),
            Parsed,
        ),
        entry("one 1 MiB token", md(p(), "x".repeat(1 << 20)), Parsed),
        entry(
            "50,000 headline-only lines",
            md(
                p(),
                (0..50_000)
                    .map(|i| format!("# 标题{i}\n"))
                    .collect::<String>(),
            ),
            Dead("no_articles"),
        ),
        entry(
            "more stories than limits.max_articles",
            md(
                p(),
                (0..600)
                    .map(|i| format!("# 标题{i}\n\n正文{i}。\n\n"))
                    .collect::<String>(),
            ),
            Dead("too_many_articles"),
        ),
        entry(
            "100,000 repeated markers",
            md(
                p(),
                format!("# 标题\n\n正文。\n\n{}", "详见05版\n".repeat(100_000)),
            ),
            Parsed,
        ),
        entry(
            "combining-mark storm",
            md(
                p(),
                format!("# 标题\n\ne{}正文。\n", "\u{0301}".repeat(200_000)),
            ),
            Parsed,
        ),
        entry(
            "RTL overrides",
            md(
                p(),
                "# \u{202e}标题\u{202c}\n\n\u{202e}正文\u{2066}第一段\u{2069}。\u{200f}\n",
            ),
            Parsed,
        ),
        entry(
            "zero-width characters",
            md(
                p(),
                "# 标\u{200b}题\u{2060}\n\n正\u{200c}文\u{200d}第一段\u{feff}。\n",
            ),
            Parsed,
        ),
        entry(
            "only invisible characters",
            md(p(), "\u{200b}\u{202e}\u{feff}\u{2060}\n\u{200d}\n"),
            Dead("no_articles"),
        ),
        // --- malformed envelopes
        entry(
            "bad protobuf",
            Input::raw(
                &[("Content-Type", "application/protobuf")],
                b"\x0a\xff\xff\xff\xff\x0f".to_vec(),
            ),
            Dead("bad_envelope"),
        ),
        entry(
            "bad JSON",
            Input::raw(
                &[("Content-Type", "application/json")],
                b"{\"issueDate\": \"2025-07-10\",".to_vec(),
            ),
            Dead("bad_envelope"),
        ),
        entry(
            "JSON of the wrong shape",
            Input::raw(
                &[("Content-Type", "application/json")],
                b"[1, 2, 3]".to_vec(),
            ),
            Dead("bad_envelope"),
        ),
        entry(
            "missing issue date",
            Input::raw(
                &[("Content-Type", "text/markdown"), ("Pagewire-Page", "1")],
                story.as_bytes().to_vec(),
            ),
            Dead("invalid_metadata"),
        ),
        entry(
            "invalid issue date",
            Input::raw(
                &[
                    ("Content-Type", "text/markdown"),
                    ("Pagewire-Issue-Date", "2025-02-30"),
                    ("Pagewire-Page", "1"),
                ],
                story.as_bytes().to_vec(),
            ),
            Dead("invalid_metadata"),
        ),
        entry(
            "page number overflow (header)",
            Input::raw(
                &[
                    ("Content-Type", "text/markdown"),
                    ("Pagewire-Issue-Date", "2025-07-10"),
                    ("Pagewire-Page", "4294967296"),
                ],
                story.as_bytes().to_vec(),
            ),
            Dead("invalid_metadata"),
        ),
        entry(
            "page number out of range (protobuf)",
            protobuf(&raw_page(10_000, story)),
            Dead("invalid_metadata"),
        ),
        entry(
            "page number overflow (JSON)",
            Input::raw(
                &[("Content-Type", "application/json")],
                br#"{"issueDate":"2025-07-10","pageNumber":4294967296,"content":"x"}"#.to_vec(),
            ),
            Dead("bad_envelope"),
        ),
        entry(
            "unknown content type",
            Input::raw(&[("Content-Type", "application/pdf")], b"%PDF-1.7".to_vec()),
            Dead("unsupported_content_type"),
        ),
        entry(
            "publication that is not a slug",
            Input {
                subject: "pages.raw.Baotou_Daily".into(),
                ..md(1, story)
            },
            Dead("invalid_metadata"),
        ),
        // --- and a healthy page after all of it
        entry("the seed page", md(p(), seed()), Parsed),
    ]
}

/// Entries for a broker with [`SMALL_MAX_PAYLOAD`]: outputs, and dead letters, that do not fit.
fn small_broker_catalogue() -> Vec<Entry> {
    // Input just under max_payload; the page-level message adds ids and the hash to the same
    // text and cannot fit.
    let near = story_of_len(SMALL_MAX_PAYLOAD - 300);
    let mut bad = story_of_len(SMALL_MAX_PAYLOAD - 300);
    bad[100] = 0xff;
    vec![
        entry(
            "a page whose encoded output would exceed max_payload",
            md(1, near),
            Dead("output_too_large"),
        ),
        entry(
            "a rejected page whose dead letter cannot carry a copy",
            md(2, bad),
            Dead("invalid_utf8"),
        ),
        entry("a page that fits", md(3, seed()), Parsed),
    ]
}

fn service_settings(server: &NatsServer) -> Settings {
    settings(
        server,
        &[("PAGEWIRE_LIMITS__MAX_PAGE_BYTES", &LIMIT.to_string())],
    )
}

/// The pure pipeline gives every entry its catalogued fate, quickly and without panicking.
fn check_pure(entries: &[Entry], settings: &Settings, max_payload: usize) {
    let pipeline = Pipeline::new(settings, max_payload);
    let mut wrong = Vec::new();
    for e in entries {
        let started = Instant::now();
        let result = pipeline.process(&Incoming {
            subject: &e.input.subject,
            headers: &e.input.headers,
            payload: &e.input.payload,
        });
        let took = started.elapsed();
        eprintln!("{:>8.1?}  {:<55} {:?}", took, e.name, e.fate);
        let fate = match &result {
            Ok(_) => Parsed,
            Err(r) => {
                assert!(r.error.is_permanent(), "{}: {}", e.name, r.error);
                Dead(r.error.code())
            }
        };
        if fate != e.fate {
            let why = result
                .err()
                .map(|r| r.error.to_string())
                .unwrap_or_default();
            wrong.push(format!(
                "{}: {fate:?}, catalogued {:?} {why}",
                e.name, e.fate
            ));
        }
        assert!(took < TIME_BOUND, "{} took {took:?}", e.name);
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn every_entry_has_its_fate_in_the_pure_pipeline() {
    let server_less = support::checker::settings_at(
        "nats://127.0.0.1:1",
        &[("PAGEWIRE_LIMITS__MAX_PAGE_BYTES", &LIMIT.to_string())],
    );
    check_pure(&catalogue(), &server_less, MAX_PAYLOAD);
    check_pure(&small_broker_catalogue(), &server_less, SMALL_MAX_PAYLOAD);
}

/// Publishes the entries to a fresh broker, runs one service instance over all of them, and
/// checks every fate with the checker.
async fn run_through_the_service(entries: Vec<Entry>, server: NatsServer, max_payload: usize) {
    let s = service_settings(&server);
    let inputs: Vec<Input> = entries.iter().map(|e| e.input.clone()).collect();
    let expected = Expected::new(&s, max_payload, &inputs);
    for (i, e) in entries.iter().enumerate() {
        let fate = match expected.poison.get(&i) {
            Some(code) => Dead(code),
            None => Parsed,
        };
        assert_eq!(fate, e.fate, "{}", e.name);
    }
    let (_c, js) = client(&server).await;
    let svc = InProcess::start(s.clone()).await;
    let mut rng = Rng::for_run("bad-input", 0);
    let seqs = publish_inputs(&js, &inputs, 0, &mut rng, Duration::ZERO).await;
    let last = seqs.iter().copied().max().unwrap_or(0);
    if let Err(state) = drained_within(&js, "PAGES", "pagewire", last, WAIT * 2).await {
        panic!("catalogue not drained: {state}");
    }
    // Counted once the service has stopped: the broker records an ack before pagewire reads
    // its confirmation and counts the page, so a snapshot taken as the consumer drains can
    // miss the last page.
    let state = svc.state.clone();
    svc.stop().await;
    let snapshot = state.snapshot();

    let report = check(&js, &s, &expected, &seqs).await;
    report.assert_clean("bad-input catalogue");
    assert_eq!(
        report.redeliveries, 0,
        "every entry decided on its first delivery"
    );
    assert_eq!(report.dead_letters, expected.poison.len());
    assert_eq!(
        snapshot.pages_dead_lettered + snapshot.pages_acked,
        entries.len() as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_entry_ends_parsed_or_dead_lettered_through_the_service() {
    let server = NatsServer::with_config(&format!("max_payload: {MAX_PAYLOAD}"));
    run_through_the_service(catalogue(), server, MAX_PAYLOAD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_over_max_payload_are_dead_lettered_through_the_service() {
    let server = NatsServer::with_config(&format!("max_payload: {SMALL_MAX_PAYLOAD}"));
    run_through_the_service(small_broker_catalogue(), server, SMALL_MAX_PAYLOAD).await;
}

// --- fuzzing: the regression fixtures, and the stable-toolchain fallback ---------------------

fn fuzz_pipeline() -> &'static Pipeline {
    static PIPELINE: OnceLock<Pipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| fuzz_bodies::example_pipeline(&manifest("deploy/pagewire.toml")))
}

#[test]
fn fuzz_regressions_replay_cleanly() {
    let mut replayed = 0;
    for target in ["parse_page", "envelope"] {
        let dir = manifest(&format!("fuzz/regressions/{target}"));
        let Ok(files) = std::fs::read_dir(&dir) else {
            continue;
        };
        for file in files {
            let path = file.expect("regression entry").path();
            if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                continue;
            }
            let data = std::fs::read(&path).expect("regression file");
            match target {
                "parse_page" => fuzz_bodies::parse_page(&data),
                _ => fuzz_bodies::envelope(fuzz_pipeline(), &data),
            }
            replayed += 1;
        }
    }
    eprintln!("{replayed} fuzz regressions replayed");
}

/// Cases per property: `PAGEWIRE_FUZZ_CASES` (the long fallback run when cargo-fuzz cannot
/// be used), else 256.
fn fuzz_cases() -> u32 {
    std::env::var("PAGEWIRE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// A wire body: raw bytes, UTF-8 text, or a protobuf RawPage around arbitrary text.
fn wire_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..2048),
        any::<String>().prop_map(String::into_bytes),
        "(# |## |\\n|\\n\\n|（据新华社）|详见05版|记者 张三 摄|[\\p{Han}]{1,20}|[A-Za-z ]{1,20})*"
            .prop_map(String::into_bytes),
        (any::<String>(), any::<u32>(), any::<String>()).prop_map(|(content, page, date)| {
            RawPage {
                issue_date: date,
                page_number: page,
                content,
                ..RawPage::default()
            }
            .encode_to_vec()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: fuzz_cases(), ..ProptestConfig::default() })]

    #[test]
    fn any_wire_input_ends_processed_or_with_a_stable_code(
        ct in any::<u8>(),
        meta in any::<u8>(),
        body in wire_body(),
    ) {
        let data = [&[ct, meta][..], &body].concat();
        fuzz_bodies::envelope(fuzz_pipeline(), &data);
    }

    #[test]
    fn any_page_text_parses_or_fails_with_a_stable_code(
        format in any::<u8>(),
        body in wire_body(),
    ) {
        fuzz_bodies::parse_page(&[&[format][..], &body].concat());
    }
}
