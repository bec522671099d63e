//! `pagewire status`: what the broker knows about pagewire, for a person or a smoke check.
//!
//! Connects like the service (same settings), reads the input stream and the durable
//! consumer, every output stream, the dead letters per publication (subject counts of the DLQ
//! stream), and asks `$SRV.INFO.pagewire` / `$SRV.STATS.pagewire` which replicas are
//! registered. Prints a table, or JSON with `--json`.
//!
//! Exit codes: 0 healthy; 1 could not ask (connection, permissions); 2 the input stream or the
//! consumer is missing; 3 the consumer is not making progress (pages waiting and nothing
//! acked for `--stall-after`).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream::context::{ConsumerInfoErrorKind, GetStreamErrorKind};
use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::{self, consumer, stream};
use futures::{StreamExt as _, TryStreamExt as _};
use serde::Serialize;
use time::OffsetDateTime;

use pagewire::config::{duration, Settings};
use pagewire::service::micro::SERVICE_NAME;

/// Exit code when the input stream or the consumer is missing.
pub const EXIT_MISSING: u8 = 2;
/// Exit code when the consumer is not making progress.
pub const EXIT_STALLED: u8 = 3;

/// Arguments of `pagewire status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Settings file (for the NATS connection, stream and consumer names).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// With pages waiting, how long without an ack counts as not making progress.
    #[arg(long, value_parser = duration::parse, default_value = "5m")]
    pub stall_after: Duration,
    /// How long to collect answers from replicas to `$SRV.INFO` and `$SRV.STATS`.
    #[arg(long, value_parser = duration::parse, default_value = "1s")]
    pub discovery_timeout: Duration,
}

/// Everything `status` reports.
#[derive(Debug, Serialize)]
struct Status {
    /// `ok`, `missing` or `stalled`.
    verdict: &'static str,
    /// Why the verdict is not `ok`, and other things worth a look.
    problems: Vec<String>,
    /// The input stream (`None`: missing).
    input_stream: Option<StreamStatus>,
    /// The durable consumer (`None`: missing).
    consumer: Option<ConsumerStatus>,
    /// Every output stream, in topic order.
    outputs: Vec<OutputStatus>,
    /// Dead letters stored, by publication (last subject token).
    dead_letters: BTreeMap<String, u64>,
    /// Instances answering `$SRV.INFO.pagewire`.
    replicas: Vec<Replica>,
}

#[derive(Debug, Serialize)]
struct StreamStatus {
    name: String,
    subjects: Vec<String>,
    messages: u64,
    bytes: u64,
    duplicate_window_seconds: u64,
    first_sequence: u64,
    last_sequence: u64,
}

#[derive(Debug, Serialize)]
struct OutputStatus {
    /// `search`, `archive`, `alert`, `pages`, `dlq`.
    topic: &'static str,
    /// `None` when the stream does not exist.
    stream: Option<StreamStatus>,
    /// The stream name looked for.
    name: String,
}

#[derive(Debug, Serialize)]
struct ConsumerStatus {
    name: String,
    /// Not yet delivered.
    pending: u64,
    /// Delivered, not yet acked.
    ack_pending: u64,
    /// Delivered more than once, not yet acked.
    redelivered: u64,
    /// Open pull requests (replicas waiting for work).
    waiting: u64,
    /// Last stream sequence delivered.
    delivered_stream_sequence: u64,
    /// Everything up to this stream sequence is acked.
    ack_floor_stream_sequence: u64,
    /// Last delivery (RFC 3339).
    last_delivered: Option<String>,
    /// Last ack (RFC 3339).
    last_acked: Option<String>,
    /// Seconds since the last ack (or since the consumer was created, if never).
    seconds_since_ack: u64,
}

#[derive(Debug, Serialize)]
struct Replica {
    id: String,
    version: String,
    git_commit: String,
    endpoints: Vec<String>,
    requests: u64,
    errors: u64,
}

/// Runs `pagewire status`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(args.config.as_deref())?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let status = runtime.block_on(collect(&settings, &args))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&status)?)?;
    } else {
        print_table(&mut out, &status)?;
    }
    out.flush()?;
    Ok(match status.verdict {
        "ok" => ExitCode::SUCCESS,
        "missing" => ExitCode::from(EXIT_MISSING),
        _ => ExitCode::from(EXIT_STALLED),
    })
}

async fn collect(settings: &Settings, args: &Args) -> anyhow::Result<Status> {
    let options = pagewire::service::connect_options(&settings.nats, None).await?;
    let client = options
        .connect(pagewire::service::server_addrs(&settings.nats)?)
        .await
        .with_context(|| format!("connecting to {:?}", settings.nats.redacted_servers()))?;
    let js = jetstream::ContextBuilder::new()
        .timeout(settings.nats.request_timeout)
        .build(client.clone());
    let now = OffsetDateTime::now_utc();
    let mut problems = Vec::new();
    let mut verdict = "ok";

    let i = &settings.input;
    let (input_stream, consumer) = match stream_info(&js, &i.stream).await? {
        None => {
            problems.push(format!("input stream {} does not exist", i.stream));
            verdict = "missing";
            (None, None)
        }
        Some(info) => {
            let consumer = match js.get_stream_no_info(&i.stream).await {
                Ok(s) => match s.consumer_info(&i.consumer).await {
                    Ok(c) => Some(consumer_status(&c, now)),
                    Err(e) if e.kind() == ConsumerInfoErrorKind::NotFound => None,
                    Err(e) => return Err(e).context(format!("consumer {}", i.consumer)),
                },
                Err(e) => return Err(e).context(format!("stream {}", i.stream)),
            };
            if consumer.is_none() {
                problems.push(format!(
                    "consumer {} does not exist on stream {}",
                    i.consumer, i.stream
                ));
                verdict = "missing";
            }
            (Some(info), consumer)
        }
    };
    if let Some(c) = &consumer {
        let waiting = c.pending + c.ack_pending;
        if waiting > 0 && c.seconds_since_ack >= args.stall_after.as_secs() {
            problems.push(format!(
                "not making progress: {waiting} pages waiting and no ack for {}",
                human(c.seconds_since_ack)
            ));
            verdict = "stalled";
        }
    }

    let mut outputs = Vec::new();
    for (topic, t) in settings.output.topics() {
        let stream = stream_info(&js, &t.stream).await?;
        if stream.is_none() {
            problems.push(format!("output stream {} does not exist", t.stream));
        }
        outputs.push(OutputStatus {
            topic,
            stream,
            name: t.stream.clone(),
        });
    }

    let dlq = &settings.output.dlq;
    let mut dead_letters = BTreeMap::new();
    if let Ok(s) = js.get_stream_no_info(&dlq.stream).await {
        if let Ok(subjects) = s
            .info_with_subjects(format!("{}.>", dlq.subject_prefix))
            .await
        {
            let counts: Vec<(String, usize)> = subjects.try_collect().await?;
            for (subject, n) in counts {
                let publication = subject.rsplit('.').next().unwrap_or_default().to_owned();
                *dead_letters.entry(publication).or_insert(0) += n as u64;
            }
        }
    }

    let replicas = replicas(&client, args.discovery_timeout).await?;
    if replicas.is_empty() {
        problems.push("no replica answers $SRV.INFO.pagewire".to_owned());
    }
    Ok(Status {
        verdict,
        problems,
        input_stream,
        consumer,
        outputs,
        dead_letters,
        replicas,
    })
}

/// Stream info, `None` when the stream does not exist.
async fn stream_info(js: &jetstream::Context, name: &str) -> anyhow::Result<Option<StreamStatus>> {
    let mut s = match js.get_stream(name).await {
        Ok(s) => s,
        Err(e) => match e.kind() {
            GetStreamErrorKind::JetStream(j) if j.error_code() == ErrorCode::STREAM_NOT_FOUND => {
                return Ok(None)
            }
            _ => return Err(e).context(format!("stream {name}")),
        },
    };
    let info = s.info().await.context(format!("stream {name}"))?;
    Ok(Some(stream_status(info)))
}

fn stream_status(info: &stream::Info) -> StreamStatus {
    StreamStatus {
        name: info.config.name.clone(),
        subjects: info.config.subjects.clone(),
        messages: info.state.messages,
        bytes: info.state.bytes,
        duplicate_window_seconds: info.config.duplicate_window.as_secs(),
        first_sequence: info.state.first_sequence,
        last_sequence: info.state.last_sequence,
    }
}

fn consumer_status(c: &consumer::Info, now: OffsetDateTime) -> ConsumerStatus {
    let since = c.ack_floor.last_active.unwrap_or(c.created);
    ConsumerStatus {
        name: c.name.clone(),
        pending: c.num_pending,
        ack_pending: c.num_ack_pending as u64,
        redelivered: c.num_redelivered as u64,
        waiting: c.num_waiting as u64,
        delivered_stream_sequence: c.delivered.stream_sequence,
        ack_floor_stream_sequence: c.ack_floor.stream_sequence,
        last_delivered: c.delivered.last_active.map(rfc3339),
        last_acked: c.ack_floor.last_active.map(rfc3339),
        seconds_since_ack: (now - since).whole_seconds().max(0) as u64,
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// Every reply to one discovery request within `timeout`.
async fn discover(
    client: &async_nats::Client,
    verb: &str,
    timeout: Duration,
) -> anyhow::Result<Vec<serde_json::Value>> {
    let inbox = client.new_inbox();
    let mut replies = client.subscribe(inbox.clone()).await?;
    client
        .publish_with_reply(format!("$SRV.{verb}.{SERVICE_NAME}"), inbox, "".into())
        .await?;
    client.flush().await?;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut out = Vec::new();
    while let Ok(Some(m)) = tokio::time::timeout_at(deadline, replies.next()).await {
        if let Ok(v) = serde_json::from_slice(&m.payload) {
            out.push(v);
        }
    }
    Ok(out)
}

/// The registered replicas: `$SRV.INFO` joined with `$SRV.STATS` by instance id.
async fn replicas(client: &async_nats::Client, timeout: Duration) -> anyhow::Result<Vec<Replica>> {
    let (infos, stats) = tokio::try_join!(
        discover(client, "INFO", timeout),
        discover(client, "STATS", timeout)
    )?;
    let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let mut out: Vec<Replica> = infos
        .iter()
        .map(|info| {
            let id = text(info, "id");
            let (requests, errors) = stats
                .iter()
                .filter(|s| s["id"] == info["id"])
                .flat_map(|s| s["endpoints"].as_array().cloned().unwrap_or_default())
                .fold((0, 0), |(r, e), ep| {
                    (
                        r + ep["num_requests"].as_u64().unwrap_or(0),
                        e + ep["num_errors"].as_u64().unwrap_or(0),
                    )
                });
            Replica {
                version: text(info, "version"),
                git_commit: info["metadata"]["git_commit"]
                    .as_str()
                    .unwrap_or("unknown")
                    .to_owned(),
                endpoints: info["endpoints"]
                    .as_array()
                    .map(|eps| eps.iter().map(|e| text(e, "subject")).collect())
                    .unwrap_or_default(),
                requests,
                errors,
                id,
            }
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

fn print_table(out: &mut impl std::io::Write, s: &Status) -> std::io::Result<()> {
    writeln!(out, "INPUT")?;
    match &s.input_stream {
        Some(st) => writeln!(
            out,
            "  stream    {}  ({})  {} messages, {}",
            st.name,
            st.subjects.join(", "),
            st.messages,
            bytes(st.bytes)
        )?,
        None => writeln!(out, "  stream    missing")?,
    }
    match &s.consumer {
        Some(c) => {
            writeln!(
                out,
                "  consumer  {}  pending {}  ack pending {}  redelivered {}  waiting pulls {}",
                c.name, c.pending, c.ack_pending, c.redelivered, c.waiting
            )?;
            writeln!(
                out,
                "            delivered up to seq {} (last {})  acked up to seq {} (last {})",
                c.delivered_stream_sequence,
                c.last_delivered.as_deref().unwrap_or("never"),
                c.ack_floor_stream_sequence,
                c.last_acked.as_deref().unwrap_or("never"),
            )?;
        }
        None => writeln!(out, "  consumer  missing")?,
    }
    writeln!(out)?;
    writeln!(
        out,
        "OUTPUTS\n  {:<10} {:<19} {:>10} {:>12} {:>10}",
        "TOPIC", "STREAM", "MESSAGES", "BYTES", "DEDUP"
    )?;
    for o in &s.outputs {
        match &o.stream {
            Some(st) => writeln!(
                out,
                "  {:<10} {:<19} {:>10} {:>12} {:>10}",
                o.topic,
                st.name,
                st.messages,
                bytes(st.bytes),
                human(st.duplicate_window_seconds)
            )?,
            None => writeln!(out, "  {:<10} {:<19} {:>10}", o.topic, o.name, "missing")?,
        }
    }
    writeln!(out)?;
    writeln!(out, "DEAD LETTERS BY PUBLICATION")?;
    if s.dead_letters.is_empty() {
        writeln!(out, "  none")?;
    }
    for (publication, n) in &s.dead_letters {
        writeln!(out, "  {publication:<32} {n:>8}")?;
    }
    writeln!(out)?;
    writeln!(out, "REPLICAS ({})", s.replicas.len())?;
    for r in &s.replicas {
        writeln!(
            out,
            "  {}  v{} ({})  {}  requests {}  errors {}",
            r.id,
            r.version,
            r.git_commit,
            r.endpoints.join(", "),
            r.requests,
            r.errors
        )?;
    }
    writeln!(out)?;
    for p in &s.problems {
        writeln!(out, "! {p}")?;
    }
    writeln!(out, "status: {}", s.verdict)
}

/// `45s`, `12m`, `3h20m`, `1d`.
fn human(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let parts = [(d, "d"), (h, "h"), (m, "m"), (s, "s")];
    let shown: String = parts
        .iter()
        .skip_while(|(n, _)| *n == 0)
        .take(2)
        .filter(|(n, _)| *n > 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect();
    if shown.is_empty() {
        "0s".to_owned()
    } else {
        shown
    }
}

fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_their_two_largest_units() {
        assert_eq!(human(0), "0s");
        assert_eq!(human(45), "45s");
        assert_eq!(human(86_400), "1d");
        assert_eq!(human(3 * 3600 + 20 * 60 + 5), "3h20m");
        assert_eq!(human(3600 + 5), "1h");
    }
}
