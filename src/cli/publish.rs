//! `pagewire publish FILE|DIR...`: send page files as raw page events and wait for PubAcks.
//!
//! Each file becomes one message on `<input subject prefix>.<publication>`, with a
//! `Nats-Msg-Id` built from its print position and a hash of its text, so re-running a
//! backfill within the input stream's duplicate window sends nothing twice.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use async_nats::jetstream;
use bytes::Bytes;
use futures::stream::{FuturesUnordered, StreamExt as _};
use prost::Message as _;

use pagewire::config::Settings;
use pagewire::envelope::{
    HEADER_EDITION, HEADER_ISSUE_DATE, HEADER_PAGE, HEADER_PAGE_LABEL, HEADER_PAGE_NAME,
    HEADER_PUBLICATION, HEADER_SOURCE_URI,
};
use pagewire::position::{IssueDate, Publication};
use pagewire::proto::{PageFormat, RawPage};
use pagewire::route::{type_name, HEADER_MSG_ID, HEADER_TYPE};

/// How to send each page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A binary `RawPage` (`application/protobuf`).
    Protobuf,
    /// A `RawPage` in proto3 JSON (`application/json`).
    Json,
    /// The file as it is (`text/markdown` for .md, `text/html` for .html/.htm, else
    /// `text/plain`), position in headers.
    Text,
}

/// Arguments of `pagewire publish`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Page files, or directories to search for `.md`, `.markdown`, `.txt`, `.html` and `.htm`
    /// files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print position; what is not given is read from each file name.
    #[command(flatten)]
    pub position: crate::cli::parse::PositionArgs,
    /// Wire format.
    #[arg(long, value_enum, default_value = "protobuf")]
    pub format: Format,
    /// Subject prefix (default: the first `input.subjects` entry without its `>`).
    #[arg(long)]
    pub subject_prefix: Option<String>,
    /// Most pages awaiting their PubAck at once.
    #[arg(long, default_value_t = 256)]
    pub window: usize,
    /// Settings file (for the NATS connection and the input subject).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
}

/// Publishes every page, prints progress for large runs and a summary; fails if any page
/// was not stored.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(args.config.as_deref())?;
    let files = collect_files(&args.paths)?;
    if files.is_empty() {
        bail!("no page files (.md, .markdown, .txt, .html, .htm) under the given paths");
    }
    let prefix = match &args.subject_prefix {
        Some(p) => p.trim_end_matches('.').to_owned(),
        None => settings.input.subjects[0]
            .strip_suffix(".>")
            .map(str::to_owned)
            .context("input.subjects[0] does not end in `.>`; pass --subject-prefix")?,
    };
    let mut pages = Vec::with_capacity(files.len());
    for f in &files {
        pages.push(build(f, &args, &prefix).with_context(|| f.display().to_string())?);
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let failed = runtime.block_on(send(&settings, pages, args.window.max(1)))?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One page ready to send.
struct Outgoing {
    file: PathBuf,
    subject: String,
    headers: async_nats::HeaderMap,
    payload: Bytes,
}

fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).with_context(|| p.display().to_string())?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            bail!("{}: no such file or directory", p.display());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if matches!(
            p.extension().and_then(|x| x.to_str()),
            Some("md" | "markdown" | "txt" | "html" | "htm")
        ) {
            out.push(p);
        }
    }
    Ok(())
}

/// Print position from a file name `[<lang>-]<publication>-<YYYY-MM-DD>-p<NN>.<ext>`, read the
/// same way as `pagewire parse` reads it.
pub fn position_from_file_name(path: &Path) -> Option<(String, String, u32)> {
    let named = crate::cli::parse::infer_from_name(path);
    Some((named.publication?, named.issue_date?, named.page?))
}

/// How a page file is written, by its extension: markdown, HTML, else plain text.
fn page_format(file: &Path) -> PageFormat {
    match file
        .extension()
        .and_then(|x| x.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("md" | "markdown") => PageFormat::Markdown,
        Some("html" | "htm") => PageFormat::Html,
        _ => PageFormat::PlainText,
    }
}

fn build(file: &Path, args: &Args, prefix: &str) -> anyhow::Result<Outgoing> {
    let bytes = std::fs::read(file).context("reading")?;
    let from_name = position_from_file_name(file);
    let publication = args
        .position
        .publication
        .clone()
        .or_else(|| from_name.as_ref().map(|p| p.0.clone()))
        .context("no --publication and none in the file name")?;
    let issue_date = args
        .position
        .issue_date
        .clone()
        .or_else(|| from_name.as_ref().map(|p| p.1.clone()))
        .context("no --issue-date and none in the file name")?;
    let page = args
        .position
        .page
        .or_else(|| from_name.as_ref().map(|p| p.2))
        .context("no --page and none in the file name")?;
    // The boundary's own rules, so that what is published is not dead-lettered for them.
    Publication::new(&publication)?;
    IssueDate::parse(&issue_date)?;
    let format = page_format(file);
    let source_uri = format!("file://{}", file.display());
    let edition = args.position.edition.clone().unwrap_or_default();
    let content_hash = blake3::hash(&bytes).to_hex();
    let msg_id = format!(
        "raw:{publication}/{issue_date}/{}/{page}:{}",
        if edition.is_empty() { "main" } else { &edition },
        &content_hash[..16]
    );
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(HEADER_MSG_ID, msg_id.as_str());
    let payload = match args.format {
        Format::Text => {
            let ct = match format {
                PageFormat::Markdown => "text/markdown",
                PageFormat::Html => "text/html",
                _ => "text/plain",
            };
            headers.insert("Content-Type", ct);
            headers.insert(HEADER_PUBLICATION, publication.as_str());
            headers.insert(HEADER_ISSUE_DATE, issue_date.as_str());
            headers.insert(HEADER_PAGE, page.to_string().as_str());
            for (name, value) in [
                (HEADER_PAGE_LABEL, &args.position.page_label),
                (HEADER_PAGE_NAME, &args.position.page_name),
                (HEADER_EDITION, &args.position.edition),
            ] {
                if let Some(v) = value {
                    headers.insert(name, v.as_str());
                }
            }
            headers.insert(HEADER_SOURCE_URI, source_uri.as_str());
            Bytes::from(bytes)
        }
        Format::Protobuf | Format::Json => {
            let content = String::from_utf8(bytes).context("the file is not UTF-8")?;
            let raw = RawPage {
                publication: publication.clone(),
                issue_date,
                edition,
                page_number: page,
                page_label: args.position.page_label.clone().unwrap_or_default(),
                page_name: args.position.page_name.clone().unwrap_or_default(),
                format: format as i32,
                content,
                source_uri,
                attributes: Default::default(),
            };
            headers.insert(HEADER_TYPE, type_name::RAW_PAGE);
            if args.format == Format::Json {
                headers.insert("Content-Type", "application/json");
                Bytes::from(serde_json::to_vec(&raw)?)
            } else {
                headers.insert("Content-Type", "application/protobuf");
                Bytes::from(raw.encode_to_vec())
            }
        }
    };
    Ok(Outgoing {
        file: file.to_owned(),
        subject: format!("{prefix}.{publication}"),
        headers,
        payload,
    })
}

/// Sends with up to `window` PubAcks outstanding; returns how many pages failed.
async fn send(settings: &Settings, pages: Vec<Outgoing>, window: usize) -> anyhow::Result<usize> {
    let options = pagewire::service::connect_options(&settings.nats, None).await?;
    let client = options
        .connect(pagewire::service::server_addrs(&settings.nats)?)
        .await
        .context("connecting to nats")?;
    let js = jetstream::ContextBuilder::new()
        .timeout(settings.nats.request_timeout)
        .build(client.clone());
    let total = pages.len();
    let show_progress = total >= 20;
    let started = Instant::now();
    let (mut stored, mut duplicates, mut failed, mut bytes) = (0usize, 0usize, 0usize, 0usize);
    let mut last_progress = Instant::now();
    let mut pending = FuturesUnordered::new();
    let mut queue = pages.into_iter();
    loop {
        while pending.len() < window {
            let Some(p) = queue.next() else { break };
            let size = p.payload.len();
            match js
                .publish_with_headers(p.subject.clone(), p.headers, p.payload)
                .await
            {
                Ok(ack) => pending.push(async move { (p.file, size, ack.await) }),
                Err(e) => {
                    failed += 1;
                    eprintln!("{}: publish failed: {e}", p.file.display());
                }
            }
        }
        let Some((file, size, result)) = pending.next().await else {
            break;
        };
        match result {
            Ok(ack) => {
                stored += 1;
                bytes += size;
                duplicates += usize::from(ack.duplicate);
            }
            Err(e) => {
                failed += 1;
                eprintln!("{}: not stored: {e}", file.display());
            }
        }
        if show_progress && last_progress.elapsed() >= Duration::from_millis(200) {
            last_progress = Instant::now();
            eprint!("\r{}/{total} pages, {} KiB", stored + failed, bytes / 1024);
            let _ = std::io::stderr().flush();
        }
    }
    if show_progress {
        eprintln!();
    }
    eprintln!(
        "published {stored} of {total} pages ({} KiB) in {:.1?}: {} new, {duplicates} already stored, {failed} failed",
        bytes / 1024,
        started.elapsed(),
        stored - duplicates
    );
    Ok(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_comes_from_the_file_name() {
        assert_eq!(
            position_from_file_name(Path::new("x/zh-baotou-daily-2025-07-10-p01.md")),
            Some(("baotou-daily".into(), "2025-07-10".into(), 1))
        );
        assert_eq!(position_from_file_name(Path::new("page.md")), None);
    }

    #[test]
    fn the_content_type_follows_the_file_extension() {
        for (file, format) in [
            ("p.md", PageFormat::Markdown),
            ("p.markdown", PageFormat::Markdown),
            ("content_123.htm", PageFormat::Html),
            ("p.HTML", PageFormat::Html),
            ("p.txt", PageFormat::PlainText),
            ("p", PageFormat::PlainText),
        ] {
            assert_eq!(page_format(Path::new(file)), format, "{file}");
        }
    }
}
