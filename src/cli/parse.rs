//! `pagewire parse FILE`: the parser from the command line, no NATS involved.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use prost::Message;

use pagewire::parse::{self, Limits};
use pagewire::proto::{PageFormat, RawPage};

/// Arguments of `pagewire parse`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The page file (markdown, plain text or HTML).
    pub file: PathBuf,
    /// Print position; what is not given is read from the file name.
    #[command(flatten)]
    pub position: PositionArgs,
    /// How the file is written; sniffed from its extension and contents when absent.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Output encoding.
    #[arg(long, value_enum, default_value_t = Output::Json)]
    pub output: Output,
    /// One line of JSON instead of pretty-printed.
    #[arg(long)]
    pub compact: bool,
    /// Include the raw page text in the output.
    #[arg(long)]
    pub include_content: bool,
    /// Largest page accepted, in bytes.
    #[arg(long, default_value_t = Limits::default().max_bytes)]
    pub max_bytes: usize,
}

/// Print-position flags shared by `parse` and `publish`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PositionArgs {
    /// Publication slug; inferred from a file name like `<publication>-<YYYY-MM-DD>-p<NN>.md`.
    #[arg(long)]
    pub publication: Option<String>,
    /// Issue date, YYYY-MM-DD; inferred from the file name when absent.
    #[arg(long)]
    pub issue_date: Option<String>,
    /// Page number; inferred from the file name (`-p01`) when absent.
    #[arg(long)]
    pub page: Option<u32>,
    /// Page label as printed (`A5`); defaults to the zero-padded page number.
    #[arg(long)]
    pub page_label: Option<String>,
    /// Page name (版名), e.g. 要闻.
    #[arg(long)]
    pub page_name: Option<String>,
    /// Edition, e.g. `morning`.
    #[arg(long)]
    pub edition: Option<String>,
}

/// Input format names on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Markdown,
    Text,
    Html,
}

/// Output encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Canonical proto3 JSON.
    Json,
    /// The binary `pagewire.v1.Page` message.
    Protobuf,
}

/// Print position read off a file name like `baotou-daily-2025-07-10-p01.md`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FromName {
    pub publication: Option<String>,
    pub issue_date: Option<String>,
    pub page: Option<u32>,
}

/// Reads `<publication>-<YYYY-MM-DD>-p<NN>` (any extension) where it can; a leading
/// language tag (`zh-`, `en-`) is not part of the publication.
pub fn infer_from_name(path: &Path) -> FromName {
    let stem = path.file_name().and_then(|s| s.to_str()).unwrap_or("");
    let stem = stem.split('.').next().unwrap_or(stem);
    let mut out = FromName::default();
    let bytes = stem.as_bytes();
    // find the date: ten characters NNNN-NN-NN
    let Some(pos) = (0..bytes.len().saturating_sub(9)).find(|&i| {
        let s = &bytes[i..i + 10];
        s[..4].iter().all(u8::is_ascii_digit)
            && s[4] == b'-'
            && s[5..7].iter().all(u8::is_ascii_digit)
            && s[7] == b'-'
            && s[8..10].iter().all(u8::is_ascii_digit)
    }) else {
        return out;
    };
    out.issue_date = Some(stem[pos..pos + 10].to_owned());
    let before = stem[..pos].trim_end_matches('-');
    let before = ["zh-", "en-", "ja-", "ko-"]
        .iter()
        .fold(before, |b, tag| b.strip_prefix(tag).unwrap_or(b));
    if pagewire::position::is_slug(before) {
        out.publication = Some(before.to_owned());
    }
    let after = stem[pos + 10..].trim_start_matches('-');
    if let Some(n) = after.strip_prefix(['p', 'P']) {
        let digits: String = n.chars().take_while(char::is_ascii_digit).collect();
        out.page = digits.parse().ok();
    }
    out
}

/// Builds the raw page from the file and flags.
pub fn raw_page_from_file(args: &Args) -> anyhow::Result<RawPage> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    if bytes.len() > args.max_bytes {
        bail!(
            "too_large: {} is {} bytes, over the limit of {}",
            args.file.display(),
            bytes.len(),
            args.max_bytes
        );
    }
    let content = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "invalid_utf8: {} is not UTF-8 (first bad byte at offset {})",
            args.file.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    let named = infer_from_name(&args.file);
    let publication = args.position.publication.clone().or(named.publication);
    let issue_date = args.position.issue_date.clone().or(named.issue_date);
    let page = args.position.page.or(named.page);
    let (Some(publication), Some(issue_date), Some(page)) = (publication, issue_date, page) else {
        bail!(
            "invalid_metadata: need --publication, --issue-date and --page (or a file name like <publication>-<YYYY-MM-DD>-p<NN>.md)"
        );
    };
    let ext = args
        .file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let format = match args.format {
        Some(Format::Markdown) => PageFormat::Markdown,
        Some(Format::Text) => PageFormat::PlainText,
        Some(Format::Html) => PageFormat::Html,
        None => match ext.as_str() {
            "md" | "markdown" => PageFormat::Markdown,
            "html" | "htm" => PageFormat::Html,
            "txt" => PageFormat::PlainText,
            _ => PageFormat::Unspecified,
        },
    };
    Ok(RawPage {
        publication,
        issue_date,
        edition: args.position.edition.clone().unwrap_or_default(),
        page_number: page,
        page_label: args.position.page_label.clone().unwrap_or_default(),
        page_name: args.position.page_name.clone().unwrap_or_default(),
        format: format as i32,
        content,
        source_uri: format!("file://{}", args.file.display()),
        attributes: Default::default(),
    })
}

/// Runs `pagewire parse`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let raw = raw_page_from_file(&args)?;
    let limits = Limits {
        max_bytes: args.max_bytes,
        ..Limits::default()
    };
    let mut page =
        parse::parse_page(&raw, &limits).map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
    if args.include_content {
        page.content = raw.content;
    }
    let mut stdout = std::io::stdout().lock();
    match args.output {
        Output::Protobuf => stdout.write_all(&page.encode_to_vec())?,
        Output::Json if args.compact => writeln!(stdout, "{}", serde_json::to_string(&page)?)?,
        Output::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&page)?)?,
    }
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn print_position_comes_from_the_file_name() {
        let got = infer_from_name(Path::new("corpus/zh-baotou-daily-2025-07-10-p01.md"));
        assert_eq!(
            got,
            FromName {
                publication: Some("baotou-daily".into()),
                issue_date: Some("2025-07-10".into()),
                page: Some(1)
            }
        );
        assert_eq!(infer_from_name(Path::new("page.md")), FromName::default());
    }
}
