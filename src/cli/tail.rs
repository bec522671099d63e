//! `pagewire tail`: watch an output topic as JSON lines.
//!
//! Reads through an ordered consumer (ephemeral, flow-controlled, no acks, recreated by the
//! client on gaps) on the topic's stream, so it can start from the newest message or replay
//! the stream with `--all`, and leaves no state behind on the server.
//!
//! SIGTERM and SIGINT end it with exit 0, also while it connects or waits for a message: as a
//! container's main process (PID 1, where the kernel ignores a signal without a handler) it
//! stops at once on `docker stop` instead of being killed after the grace period.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use async_nats::jetstream::{self, consumer::DeliverPolicy};
use futures::StreamExt as _;
use prost::Message as _;

use pagewire::config::Settings;
use pagewire::proto::{Article, DeadLetter, Page, RawPage, UnresolvedJump, UnresolvedReference};
use pagewire::route::{type_name, HEADER_TYPE};
use pagewire::topic::Topic;

/// Arguments of `pagewire tail`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The output topic to watch.
    #[arg(value_enum, default_value = "archive")]
    pub topic: Topic,
    /// Only this publication.
    #[arg(long)]
    pub publication: Option<String>,
    /// Replay the whole stream instead of starting with new messages.
    #[arg(long)]
    pub all: bool,
    /// Stop after this many messages.
    #[arg(long)]
    pub count: Option<usize>,
    /// Pretty-print each message over several lines instead of one JSON line each.
    #[arg(long)]
    pub pretty: bool,
    /// Settings file (for the NATS connection and topic names).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
}

/// Prints decoded messages, one JSON object per line:
/// `{"subject": ..., "headers": {...}, "message": <proto3 JSON>}`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(args.config.as_deref())?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(tail(settings, args))?;
    Ok(ExitCode::SUCCESS)
}

async fn tail(settings: Settings, args: Args) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let stop = async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    };
    tokio::select! {
        result = watch(settings, args) => result,
        () = stop => Ok(()),
    }
}

async fn watch(settings: Settings, args: Args) -> anyhow::Result<()> {
    let o = &settings.output;
    let topic = o.topic(args.topic);
    let filter = format!(
        "{}.{}",
        topic.subject_prefix,
        args.publication.as_deref().unwrap_or("*")
    );
    let options = pagewire::service::connect_options(&settings.nats, None).await?;
    let client = options
        .connect(pagewire::service::server_addrs(&settings.nats)?)
        .await
        .context("connecting to nats")?;
    let js = jetstream::new(client);
    let stream = js.get_stream(&topic.stream).await.with_context(|| {
        format!(
            "stream {} (has `pagewire run` provisioned it?)",
            topic.stream
        )
    })?;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            filter_subject: filter.clone(),
            deliver_policy: if args.all {
                DeliverPolicy::All
            } else {
                DeliverPolicy::New
            },
            ..Default::default()
        })
        .await
        .context("creating an ordered consumer")?;
    let mut messages = consumer.messages().await.context("subscribing")?;
    eprintln!("tailing {filter} on stream {}", topic.stream);
    let mut seen = 0usize;
    let stdout = std::io::stdout();
    while let Some(message) = messages.next().await {
        let message = message.context("reading the stream")?;
        let line = to_json_line(&message.subject, message.headers.as_ref(), &message.payload);
        let mut out = stdout.lock();
        if args.pretty {
            writeln!(out, "{}", serde_json::to_string_pretty(&line)?)?;
        } else {
            writeln!(out, "{line}")?;
        }
        out.flush()?;
        seen += 1;
        if args.count.is_some_and(|n| seen >= n) {
            break;
        }
    }
    Ok(())
}

/// One message as a JSON line; an undecodable payload is shown as an error field.
pub fn to_json_line(
    subject: &str,
    headers: Option<&async_nats::HeaderMap>,
    payload: &[u8],
) -> serde_json::Value {
    let mut hs = serde_json::Map::new();
    let mut type_header = None;
    for (name, values) in headers.into_iter().flat_map(|h| h.iter()) {
        let joined = values
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if name.to_string().eq_ignore_ascii_case(HEADER_TYPE) {
            type_header = Some(joined.clone());
        }
        hs.insert(name.to_string(), joined.into());
    }
    fn json<M: serde::Serialize>(m: Result<M, prost::DecodeError>) -> serde_json::Value {
        match m {
            Ok(m) => serde_json::to_value(m)
                .unwrap_or_else(|e| serde_json::json!({"error": e.to_string()})),
            Err(e) => serde_json::json!({ "error": format!("undecodable payload: {e}") }),
        }
    }
    let message = match type_header.as_deref() {
        Some(type_name::ARTICLE) => json(Article::decode(payload)),
        Some(type_name::PAGE) => json(Page::decode(payload)),
        Some(type_name::DEAD_LETTER) => json(DeadLetter::decode(payload)),
        Some(type_name::RAW_PAGE) => json(RawPage::decode(payload)),
        Some(type_name::UNRESOLVED_JUMP) => json(UnresolvedJump::decode(payload)),
        Some(type_name::UNRESOLVED_REFERENCE) => json(UnresolvedReference::decode(payload)),
        other => serde_json::json!({ "error": format!("unknown message type {other:?}") }),
    };
    serde_json::json!({ "subject": subject, "headers": hs, "message": message })
}
