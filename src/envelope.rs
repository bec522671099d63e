//! The input boundary: one incoming NATS message (subject, headers, body) becomes a validated
//! [`RawPage`], or an [`InputError`] that says why the input itself is unusable.
//!
//! Pure: no I/O, no clock, no async. The service calls [`accept`] on every message it pulls;
//! the tests call it on byte strings. Everything past this point may rely on a page having a
//! subject-safe publication slug, a real calendar date and a page number in range: [`accept`]
//! hands on the [`PrintPosition`] it built (the rules live in `position.rs`).

use prost::Message as _;

use crate::parse::{Limits, ParseError};
use crate::position::PositionError;
pub use crate::position::PrintPosition;
use crate::position::{is_slug, quote, QUOTE_CHARS};
use crate::proto::{PageFormat, RawPage};

/// Header naming the payload format. Absent means `application/protobuf`.
pub const CONTENT_TYPE: &str = "Content-Type";
/// Publication slug of a text payload. Optional: the subject's last token is the publication,
/// and a header that names another one is rejected ([`InputError::PublicationMismatch`]).
pub const HEADER_PUBLICATION: &str = "Pagewire-Publication";
/// Issue date of a text payload, `YYYY-MM-DD`.
pub const HEADER_ISSUE_DATE: &str = "Pagewire-Issue-Date";
/// Page number of a text payload, 1-based.
pub const HEADER_PAGE: &str = "Pagewire-Page";
/// Page label as printed (`01`, `A5`) of a text payload.
pub const HEADER_PAGE_LABEL: &str = "Pagewire-Page-Label";
/// Page name (版名) of a text payload.
pub const HEADER_PAGE_NAME: &str = "Pagewire-Page-Name";
/// Edition of a text payload.
pub const HEADER_EDITION: &str = "Pagewire-Edition";
/// Source URI of a text payload.
pub const HEADER_SOURCE_URI: &str = "Pagewire-Source-Uri";

/// Longest source URI, in bytes. Copied into the page-level message.
pub const MAX_SOURCE_URI_BYTES: usize = 2048;
/// Most producer attributes on one page. Copied into the page-level message.
pub const MAX_ATTRIBUTES: usize = 32;
/// Longest attribute key, in bytes.
pub const MAX_ATTRIBUTE_KEY_BYTES: usize = 64;
/// Longest attribute value, in bytes.
pub const MAX_ATTRIBUTE_VALUE_BYTES: usize = 1024;

/// Bytes a protobuf or JSON envelope may add around the page text before the payload as a
/// whole counts as too large (metadata, attributes, JSON escaping of CJK text is not counted:
/// JSON escapes only control characters and quotes).
pub const ENVELOPE_ALLOWANCE: usize = 64 * 1024;

/// One incoming message as the boundary sees it: borrowed, transport-neutral.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// Subject the message arrived on, e.g. `pages.raw.baotou-daily`.
    pub subject: &'a str,
    /// Header name/value pairs as received; names match case-insensitively.
    pub headers: &'a [(String, String)],
    /// The body, byte for byte.
    pub payload: &'a [u8],
}

impl Incoming<'_> {
    /// First value of header `name`, matched case-insensitively, trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    /// The publication the message was meant for, as far as can be told without decoding the
    /// body: the subject's last token if it is a valid slug (the subject is the authority; a
    /// producer may only publish where the broker lets it). Only a message without a subject
    /// (a `pagewire.parse` request) falls back to the `Pagewire-Publication` header. Used to
    /// route dead letters of undecodable input.
    pub fn publication_hint(&self) -> Option<String> {
        match last_token(self.subject) {
            Some(token) => Some(token).filter(|p| is_slug(p)).map(str::to_owned),
            None => self
                .header(HEADER_PUBLICATION)
                .filter(|p| is_slug(p))
                .map(str::to_owned),
        }
    }
}

/// Why an input cannot be processed. Every variant is a property of the input, so the same
/// input fails the same way on every delivery: the service dead-letters it and terms the
/// message instead of retrying. (Broker trouble is a different type, in the service.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A text payload, or a text field, is not valid UTF-8.
    #[error("payload is not valid UTF-8 (valid up to byte {valid_up_to})")]
    InvalidUtf8 {
        /// Length of the longest valid UTF-8 prefix.
        valid_up_to: usize,
    },
    /// A text body (`text/plain`, `text/markdown`, `text/html`) is a protobuf page: sent with the wrong
    /// `Content-Type`.
    #[error("text body is a protobuf RawPage (first byte {offset:#04x} at offset {at}); send it as application/protobuf")]
    BinaryText {
        /// The first offending byte.
        offset: u8,
        /// Its offset in the body.
        at: usize,
    },
    /// The payload or the page text is over the configured limit.
    #[error("page is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// Size seen, in bytes.
        size: usize,
        /// The limit, in bytes.
        limit: usize,
    },
    /// A protobuf or JSON envelope does not decode.
    #[error("malformed {format} envelope: {reason}")]
    BadEnvelope {
        /// `protobuf` or `json`.
        format: &'static str,
        /// What the decoder said.
        reason: String,
    },
    /// The `Content-Type` is not one pagewire reads.
    #[error("unsupported content type {content_type}")]
    UnsupportedContentType {
        /// The header value, quoted (a short prefix when long).
        content_type: String,
    },
    /// The print position is missing or malformed.
    #[error("invalid {field}: {reason}")]
    InvalidMetadata {
        /// Which field: `publication`, `issue_date`, `page_number`, ...
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The `Pagewire-Publication` header or the `RawPage`'s `publication` names another
    /// publication than the subject the message was published on. The subject is the authority
    /// (the broker's permissions decide who may publish where), so a producer allowed only on
    /// `pages.raw.a` cannot publish articles of `b`.
    #[error(
        "publication {claimed} differs from {subject_token}, the subject's: the subject decides"
    )]
    PublicationMismatch {
        /// The subject's last token, quoted (a short prefix when long).
        subject_token: String,
        /// The publication the message claims, quoted (a short prefix when long).
        claimed: String,
    },
    /// The page holds no article text (parser).
    #[error("page holds no articles")]
    NoArticles,
    /// The page yields more articles than allowed (parser).
    #[error("page yields more than {limit} articles")]
    TooManyArticles {
        /// The limit.
        limit: usize,
    },
    /// One encoded output message would exceed the broker's `max_payload`.
    #[error("output on {subject} is {size} bytes, over the broker's max_payload of {limit}")]
    OutputTooLarge {
        /// Subject of the message that does not fit.
        subject: String,
        /// Encoded size with headers, in bytes.
        size: usize,
        /// The broker's limit.
        limit: usize,
    },
}

impl InputError {
    /// Short stable code for metrics and dead letters.
    pub fn code(&self) -> &'static str {
        match self {
            InputError::InvalidUtf8 { .. } => "invalid_utf8",
            InputError::BinaryText { .. } => "binary_text",
            InputError::TooLarge { .. } => "too_large",
            InputError::BadEnvelope { .. } => "bad_envelope",
            InputError::UnsupportedContentType { .. } => "unsupported_content_type",
            InputError::InvalidMetadata { .. } => "invalid_metadata",
            InputError::PublicationMismatch { .. } => "publication_mismatch",
            InputError::NoArticles => "no_articles",
            InputError::TooManyArticles { .. } => "too_many_articles",
            InputError::OutputTooLarge { .. } => "output_too_large",
        }
    }

    /// Whether retrying cannot help, so the input goes to the dead-letter topic. Listed arm by
    /// arm so that a new variant has to decide.
    pub fn is_permanent(&self) -> bool {
        match self {
            InputError::InvalidUtf8 { .. }
            | InputError::BinaryText { .. }
            | InputError::TooLarge { .. }
            | InputError::BadEnvelope { .. }
            | InputError::UnsupportedContentType { .. }
            | InputError::InvalidMetadata { .. }
            | InputError::PublicationMismatch { .. }
            | InputError::NoArticles
            | InputError::TooManyArticles { .. }
            // The broker's max_payload does not change between deliveries of one message.
            | InputError::OutputTooLarge { .. } => true,
        }
    }
}

impl From<PositionError> for InputError {
    fn from(e: PositionError) -> Self {
        InputError::InvalidMetadata {
            field: e.field,
            reason: e.reason,
        }
    }
}

impl From<ParseError> for InputError {
    fn from(e: ParseError) -> Self {
        match e {
            ParseError::TooLarge { size, limit } => InputError::TooLarge { size, limit },
            ParseError::TooManyArticles { limit, .. } => InputError::TooManyArticles { limit },
            ParseError::NoArticles => InputError::NoArticles,
            ParseError::InvalidMetadata { field, reason } => {
                InputError::InvalidMetadata { field, reason }
            }
        }
    }
}

/// The payload formats pagewire reads, chosen by `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadFormat {
    /// `application/protobuf`: a binary `RawPage` (the default when the header is absent).
    Protobuf,
    /// `application/json`: a `RawPage` in proto3 JSON.
    Json,
    /// `text/markdown`: the page text, position in headers.
    Markdown,
    /// `text/plain`: the page text, position in headers.
    PlainText,
    /// `text/html`: the page as an HTML document (an e-paper article page, a news site's
    /// page), position in headers.
    Html,
}

impl PayloadFormat {
    /// Reads a `Content-Type` value; parameters other than a UTF-8 charset are ignored.
    pub fn from_content_type(value: Option<&str>) -> Result<Self, InputError> {
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(PayloadFormat::Protobuf);
        };
        let unsupported = || InputError::UnsupportedContentType {
            content_type: quote(value),
        };
        let mut parts = value.split(';');
        let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        for param in parts {
            let (k, v) = param.split_once('=').unwrap_or((param, ""));
            if k.trim().eq_ignore_ascii_case("charset") {
                let v = v.trim().trim_matches('"');
                if !v.eq_ignore_ascii_case("utf-8") && !v.eq_ignore_ascii_case("utf8") {
                    return Err(unsupported());
                }
            }
        }
        match essence.as_str() {
            "application/protobuf" | "application/x-protobuf" => Ok(PayloadFormat::Protobuf),
            "application/json" => Ok(PayloadFormat::Json),
            "text/markdown" => Ok(PayloadFormat::Markdown),
            "text/plain" => Ok(PayloadFormat::PlainText),
            "text/html" => Ok(PayloadFormat::Html),
            _ => Err(unsupported()),
        }
    }
}

/// A message that passed the boundary: the page, and its print position validated once.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The page, its position fields written back from `position` (the label defaulted).
    pub raw: RawPage,
    /// The print position, for the parser (`parse::parse_at`) and everything after it.
    pub position: PrintPosition,
}

/// Decodes and validates one incoming message: the page and its [`PrintPosition`], built here
/// once and handed to the parser.
///
/// The page text is checked against `limits.max_bytes` here already, before any decoding work
/// that scales with it; the parser checks its own limits again.
pub fn accept(incoming: &Incoming<'_>, limits: &Limits) -> Result<Accepted, InputError> {
    let format = PayloadFormat::from_content_type(incoming.header(CONTENT_TYPE))?;
    let size = incoming.payload.len();
    let mut raw = match format {
        PayloadFormat::Protobuf | PayloadFormat::Json => {
            let limit = limits.max_bytes.saturating_add(ENVELOPE_ALLOWANCE);
            if size > limit {
                return Err(InputError::TooLarge { size, limit });
            }
            let raw = if format == PayloadFormat::Protobuf {
                RawPage::decode(incoming.payload).map_err(|e| InputError::BadEnvelope {
                    format: "protobuf",
                    reason: cut(e.to_string()),
                })?
            } else {
                serde_json::from_slice::<RawPage>(incoming.payload).map_err(|e| {
                    // serde_json quotes the offending value: keep a short prefix.
                    InputError::BadEnvelope {
                        format: "json",
                        reason: cut(e.to_string()),
                    }
                })?
            };
            if raw.content.len() > limits.max_bytes {
                return Err(InputError::TooLarge {
                    size: raw.content.len(),
                    limit: limits.max_bytes,
                });
            }
            raw
        }
        PayloadFormat::Markdown | PayloadFormat::PlainText | PayloadFormat::Html => {
            if size > limits.max_bytes {
                return Err(InputError::TooLarge {
                    size,
                    limit: limits.max_bytes,
                });
            }
            binary_check(incoming.payload)?;
            let content = utf8(incoming.payload)?;
            raw_from_headers(incoming, content, format)?
        }
    };
    // The subject is the authority for the publication; a message without one (a
    // `pagewire.parse` request) must name it itself.
    if let Some(token) = last_token(incoming.subject) {
        if !raw.publication.is_empty() && raw.publication != token {
            return Err(InputError::PublicationMismatch {
                subject_token: quote(token),
                claimed: quote(&raw.publication),
            });
        }
        raw.publication = token.to_owned();
    }
    let position = validate(&mut raw)?;
    Ok(Accepted { raw, position })
}

/// `bytes` as text: validated with SIMD (std's check, a byte at a time on Chinese text, was a
/// twentieth of a seed page's CPU in the pipeline); std says where invalid text goes wrong.
fn utf8(bytes: &[u8]) -> Result<&str, InputError> {
    simdutf8::basic::from_utf8(bytes).map_err(|_| InputError::InvalidUtf8 {
        valid_up_to: std::str::from_utf8(bytes).map_or_else(|e| e.valid_up_to(), str::len),
    })
}

/// Refuses a text body that is a protobuf page sent with the wrong `Content-Type`: it decodes
/// as a `RawPage` with a page text and an issue date. (Text that happens to decode so would
/// need field tags and lengths in the right places; stray control characters in OCR text do
/// not, and stay the parser's to remove and report.)
fn binary_check(body: &[u8]) -> Result<(), InputError> {
    match RawPage::decode(body) {
        Ok(r) if !r.content.is_empty() && !r.issue_date.is_empty() => Err(InputError::BinaryText {
            offset: body.first().copied().unwrap_or(0),
            at: 0,
        }),
        _ => Ok(()),
    }
}

/// Builds a `RawPage` from a text body and the `Pagewire-*` headers.
fn raw_from_headers(
    incoming: &Incoming<'_>,
    content: &str,
    format: PayloadFormat,
) -> Result<RawPage, InputError> {
    let text = |name| incoming.header(name).unwrap_or_default().to_owned();
    let page_number = match incoming.header(HEADER_PAGE) {
        None | Some("") => {
            return Err(InputError::InvalidMetadata {
                field: "page_number",
                reason: format!("header {HEADER_PAGE} is missing"),
            })
        }
        Some(v) => v.parse::<u32>().map_err(|e| InputError::InvalidMetadata {
            field: "page_number",
            reason: format!("{} is not a page number: {e}", quote(v)),
        })?,
    };
    Ok(RawPage {
        publication: text(HEADER_PUBLICATION),
        issue_date: text(HEADER_ISSUE_DATE),
        edition: text(HEADER_EDITION),
        page_number,
        page_label: text(HEADER_PAGE_LABEL),
        page_name: text(HEADER_PAGE_NAME),
        format: match format {
            PayloadFormat::Markdown => PageFormat::Markdown,
            PayloadFormat::Html => PageFormat::Html,
            _ => PageFormat::PlainText,
        } as i32,
        content: content.to_owned(),
        source_uri: text(HEADER_SOURCE_URI),
        attributes: Default::default(),
    })
}

/// Checks the print position ([`PrintPosition::from_raw`], the rules of `position.rs`) and
/// everything else pagewire copies from the producer into its outputs (the source URI and
/// attributes into the page-level message), each against its limit; fills the page label from
/// the number when it is absent.
///
/// The limits bound what a page can make pagewire store: a field copied into each of up to
/// `limits.max_articles` articles is at most a few hundred bytes, so no page can make its
/// outputs grow with the size of a field.
fn validate(raw: &mut RawPage) -> Result<PrintPosition, InputError> {
    let invalid =
        |field: &'static str, reason: String| InputError::InvalidMetadata { field, reason };
    let position = PrintPosition::from_raw(raw)?;
    if raw.source_uri.len() > MAX_SOURCE_URI_BYTES
        || raw
            .source_uri
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(invalid(
            "source_uri",
            format!(
                "{} must be at most {MAX_SOURCE_URI_BYTES} bytes without spaces or controls",
                quote(&raw.source_uri)
            ),
        ));
    }
    if raw.attributes.len() > MAX_ATTRIBUTES {
        return Err(invalid(
            "attributes",
            format!(
                "{} attributes, more than {MAX_ATTRIBUTES}",
                raw.attributes.len()
            ),
        ));
    }
    for (k, v) in &raw.attributes {
        if k.is_empty()
            || k.len() > MAX_ATTRIBUTE_KEY_BYTES
            || v.len() > MAX_ATTRIBUTE_VALUE_BYTES
            || k.chars().any(char::is_control)
        {
            return Err(invalid(
                "attributes",
                format!(
                    "attribute {} ({} bytes of value): keys are 1-{MAX_ATTRIBUTE_KEY_BYTES} \
                     bytes without controls, values at most {MAX_ATTRIBUTE_VALUE_BYTES} bytes",
                    quote(k),
                    v.len()
                ),
            ));
        }
    }
    position.write_to(raw);
    Ok(position)
}

/// A decoder's message cut to a few hundred bytes (at a character boundary): some quote the
/// offending value whole.
fn cut(mut message: String) -> String {
    const MAX: usize = 8 * QUOTE_CHARS;
    if message.len() > MAX {
        let mut at = MAX;
        while !message.is_char_boundary(at) {
            at -= 1;
        }
        message.truncate(at);
        message.push_str("...");
    }
    message
}

/// The last `.`-separated token of a subject.
fn last_token(subject: &str) -> Option<&str> {
    subject.rsplit('.').next().filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::position::is_calendar_date;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn decode_with(
        subject: &str,
        h: &[(&str, &str)],
        payload: &[u8],
    ) -> Result<RawPage, InputError> {
        let h = headers(h);
        accept(
            &Incoming {
                subject,
                headers: &h,
                payload,
            },
            &Limits::default(),
        )
        .map(|a| a.raw)
    }

    const MD: &[(&str, &str)] = &[
        ("Content-Type", "text/markdown"),
        ("Pagewire-Issue-Date", "2025-07-10"),
        ("Pagewire-Page", "1"),
    ];

    #[test]
    fn markdown_takes_publication_from_the_subject_and_position_from_headers() {
        let raw = decode_with("pages.raw.baotou-daily", MD, "# 标题\n\n正文".as_bytes()).unwrap();
        assert_eq!(raw.publication, "baotou-daily");
        assert_eq!(raw.issue_date, "2025-07-10");
        assert_eq!(raw.page_number, 1);
        assert_eq!(raw.page_label, "01");
        assert_eq!(raw.format, PageFormat::Markdown as i32);
        assert_eq!(raw.content, "# 标题\n\n正文");
    }

    #[test]
    fn html_is_page_text_with_its_position_in_headers() {
        for ct in [
            "text/html",
            "text/html; charset=utf-8",
            "Text/HTML; charset=\"UTF-8\"",
        ] {
            let raw = decode_with(
                "pages.raw.baotou-daily",
                &[
                    ("Content-Type", ct),
                    ("Pagewire-Issue-Date", "2025-07-10"),
                    ("Pagewire-Page", "5"),
                    ("Pagewire-Page-Label", "A5"),
                ],
                "<h1>标题</h1><p>正文</p>".as_bytes(),
            )
            .unwrap();
            assert_eq!(raw.format, PageFormat::Html as i32, "{ct}");
            assert_eq!(raw.page_number, 5);
            assert_eq!(raw.page_label, "A5");
            assert_eq!(raw.content, "<h1>标题</h1><p>正文</p>");
        }
        let err = decode_with(
            "pages.raw.baotou-daily",
            &[("Content-Type", "text/html; charset=gb2312")],
            b"<p>x</p>",
        )
        .unwrap_err();
        assert_eq!(err.code(), "unsupported_content_type");
        let err = decode_with(
            "pages.raw.baotou-daily",
            &[("Content-Type", "text/html"), ("Pagewire-Page", "1")],
            b"<p>x</p>",
        )
        .unwrap_err();
        assert_eq!(err.code(), "invalid_metadata");
    }

    #[test]
    fn header_names_match_case_insensitively() {
        let raw = decode_with(
            "pages.raw.baotou-daily",
            &[
                ("content-type", "text/plain; charset=UTF-8"),
                ("pagewire-publication", "baotou-daily"),
                ("PAGEWIRE-ISSUE-DATE", "2024-02-29"),
                ("Pagewire-Page", "12"),
                ("Pagewire-Page-Label", "A12"),
                ("Pagewire-Page-Name", "要闻"),
            ],
            b"text",
        )
        .unwrap();
        assert_eq!(raw.publication, "baotou-daily");
        assert_eq!(raw.page_label, "A12");
        assert_eq!(raw.page_name, "要闻");
        assert_eq!(raw.format, PageFormat::PlainText as i32);
    }

    #[test]
    fn protobuf_is_the_default_when_content_type_is_absent() {
        let sent = RawPage {
            publication: "baotou-daily".into(),
            issue_date: "2025-07-10".into(),
            page_number: 3,
            content: "x".into(),
            ..Default::default()
        };
        let raw = decode_with("pages.raw.baotou-daily", &[], &sent.encode_to_vec()).unwrap();
        assert_eq!(raw.page_number, 3);
        assert_eq!(raw.page_label, "03");
    }

    #[test]
    fn a_protobuf_page_sent_as_text_is_refused_not_published_as_text() {
        let sent = RawPage {
            publication: "baotou-daily".into(),
            issue_date: "2025-07-10".into(),
            page_number: 1,
            content: "本报讯 一篇文章。".repeat(200),
            ..Default::default()
        };
        let mut short = sent.clone();
        short.content = "本报讯 一篇文章。".into();
        // a long page's length prefix is not UTF-8, a short one's is: both are refused
        for (ct, sent) in [
            ("text/plain", &sent),
            ("text/markdown", &short),
            ("text/plain", &short),
            ("text/html", &sent),
            ("text/html; charset=utf-8", &short),
        ] {
            let err = decode_with(
                "pages.raw.baotou-daily",
                &[
                    ("Content-Type", ct),
                    ("Pagewire-Issue-Date", "2025-07-10"),
                    ("Pagewire-Page", "1"),
                ],
                &sent.encode_to_vec(),
            )
            .unwrap_err();
            assert_eq!(err.code(), "binary_text", "{ct}: {err}");
        }
        let headers = [
            ("Content-Type", "text/plain"),
            ("Pagewire-Issue-Date", "2025-07-10"),
            ("Pagewire-Page", "1"),
        ];
        // control characters and NULs in OCR text are noise for the parser, not a protobuf page
        for text in [
            "标题\n正文\u{7}里有一个响铃符。",
            "text\0with a NUL\u{1}\u{2}",
        ] {
            let ok = decode_with("pages.raw.baotou-daily", &headers, text.as_bytes());
            assert!(ok.is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn json_envelope_is_proto3_json() {
        let body = br#"{"issueDate":"2025-07-10","pageNumber":2,"content":"x","format":"PAGE_FORMAT_MARKDOWN"}"#;
        let raw = decode_with(
            "pages.raw.baotou-daily",
            &[("Content-Type", "application/json")],
            body,
        )
        .unwrap();
        assert_eq!(raw.publication, "baotou-daily");
        assert_eq!(raw.page_number, 2);
        assert_eq!(raw.format, PageFormat::Markdown as i32);
    }

    proptest::proptest! {
        /// The SIMD check accepts what std accepts and reports the same offset for the rest.
        #[test]
        fn text_is_checked_as_std_checks_it(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            text in "\\PC{0,80}",
        ) {
            let mut mixed = text.into_bytes();
            mixed.extend_from_slice(&bytes);
            for input in [&bytes, &mixed] {
                match (utf8(input), std::str::from_utf8(input)) {
                    (Ok(ours), Ok(std)) => proptest::prop_assert_eq!(ours, std),
                    (Err(InputError::InvalidUtf8 { valid_up_to }), Err(e)) => {
                        proptest::prop_assert_eq!(valid_up_to, e.valid_up_to())
                    }
                    (ours, std) => proptest::prop_assert!(false, "{ours:?} against {std:?}"),
                }
            }
        }
    }

    #[test]
    fn each_bad_input_class_has_its_stable_code() {
        type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<u8>);
        let cases: Vec<Case> = vec![
            ("invalid_utf8", MD.to_vec(), b"ok \xff\xfe".to_vec()),
            ("too_large", MD.to_vec(), vec![b'a'; 4 * 1024 * 1024 + 1]),
            ("bad_envelope", vec![], b"\xff\xff\xff".to_vec()),
            (
                "bad_envelope",
                vec![("Content-Type", "application/json")],
                b"{not json".to_vec(),
            ),
            (
                "unsupported_content_type",
                vec![("Content-Type", "image/png")],
                b"x".to_vec(),
            ),
            (
                "unsupported_content_type",
                vec![("Content-Type", "text/plain; charset=latin1")],
                b"x".to_vec(),
            ),
            (
                "invalid_metadata",
                vec![("Content-Type", "text/plain"), ("Pagewire-Page", "1")],
                b"x".to_vec(),
            ),
            (
                "invalid_metadata",
                vec![
                    ("Content-Type", "text/plain"),
                    ("Pagewire-Issue-Date", "2025-02-30"),
                    ("Pagewire-Page", "1"),
                ],
                b"x".to_vec(),
            ),
            (
                "invalid_metadata",
                vec![
                    ("Content-Type", "text/plain"),
                    ("Pagewire-Issue-Date", "2025-07-10"),
                    ("Pagewire-Page", "99999999999"),
                ],
                b"x".to_vec(),
            ),
            (
                "invalid_metadata",
                vec![
                    ("Content-Type", "text/plain"),
                    ("Pagewire-Issue-Date", "2025-07-10"),
                    ("Pagewire-Page", "0"),
                ],
                b"x".to_vec(),
            ),
        ];
        for (code, h, body) in cases {
            let err = decode_with("pages.raw.baotou-daily", &h, &body).unwrap_err();
            assert_eq!(err.code(), code, "{h:?}: {err}");
            assert!(err.is_permanent());
        }
    }

    #[test]
    fn a_publication_other_than_the_subjects_is_rejected_in_headers_and_envelopes() {
        let mut h = MD.to_vec();
        h.push(("Pagewire-Publication", "victim"));
        let err = decode_with("pages.raw.attacker", &h, b"# t\n\nbody").unwrap_err();
        assert_eq!(err.code(), "publication_mismatch");
        assert!(err.is_permanent());
        let sent = RawPage {
            publication: "victim".into(),
            issue_date: "2025-07-10".into(),
            page_number: 3,
            content: "x".into(),
            ..Default::default()
        };
        let err = decode_with("pages.raw.attacker", &[], &sent.encode_to_vec()).unwrap_err();
        assert!(
            matches!(err, InputError::PublicationMismatch { .. }),
            "{err}"
        );
        // Naming the subject's own publication is fine.
        let mut h = MD.to_vec();
        h.push(("Pagewire-Publication", "attacker"));
        let raw = decode_with("pages.raw.attacker", &h, b"# t\n\nbody").unwrap();
        assert_eq!(raw.publication, "attacker");
        // Without a subject (a pagewire.parse request) the message names it.
        let raw = decode_with("", &h, b"# t\n\nbody").unwrap();
        assert_eq!(raw.publication, "attacker");
    }

    #[test]
    fn dead_letters_of_spoofed_input_go_to_the_subjects_publication() {
        let h = headers(&[("Pagewire-Publication", "victim")]);
        let inc = Incoming {
            subject: "pages.raw.attacker",
            headers: &h,
            payload: b"",
        };
        assert_eq!(inc.publication_hint().as_deref(), Some("attacker"));
    }

    #[test]
    fn every_copied_field_has_a_limit_and_its_reason_quotes_a_short_prefix() {
        let base = RawPage {
            issue_date: "2025-07-10".into(),
            page_number: 3,
            content: "x".into(),
            ..Default::default()
        };
        let long = "\u{7f}要".repeat(300_000);
        let mut attrs = std::collections::BTreeMap::new();
        attrs.insert("k".to_owned(), long.clone());
        let cases: Vec<(&str, RawPage)> = vec![
            (
                "edition",
                RawPage {
                    edition: "e".repeat(65),
                    ..base.clone()
                },
            ),
            (
                "edition",
                RawPage {
                    edition: "a.b".into(),
                    ..base.clone()
                },
            ),
            (
                "page_label",
                RawPage {
                    page_label: long.clone(),
                    ..base.clone()
                },
            ),
            (
                "page_name",
                RawPage {
                    page_name: "要".repeat(65),
                    ..base.clone()
                },
            ),
            (
                "page_name",
                RawPage {
                    page_name: long.clone(),
                    ..base.clone()
                },
            ),
            (
                "page_name",
                RawPage {
                    page_name: "a\nb".into(),
                    ..base.clone()
                },
            ),
            (
                "source_uri",
                RawPage {
                    source_uri: "u".repeat(2049),
                    ..base.clone()
                },
            ),
            (
                "source_uri",
                RawPage {
                    source_uri: "file:///a b".into(),
                    ..base.clone()
                },
            ),
            (
                "attributes",
                RawPage {
                    attributes: attrs,
                    ..base.clone()
                },
            ),
            (
                "attributes",
                RawPage {
                    attributes: (0..33).map(|i| (i.to_string(), String::new())).collect(),
                    ..base.clone()
                },
            ),
        ];
        for (field, raw) in cases {
            let err = decode_with("pages.raw.p", &[], &raw.encode_to_vec()).unwrap_err();
            match &err {
                InputError::InvalidMetadata { field: f, reason } => {
                    assert_eq!(*f, field, "{reason}");
                    assert!(
                        reason.len() < 400,
                        "{field}: reason of {} bytes",
                        reason.len()
                    );
                }
                other => panic!("{field}: {other}"),
            }
        }
        // At the limits: accepted.
        let ok = RawPage {
            edition: "e".repeat(64),
            page_label: "L".repeat(32),
            page_name: "要".repeat(64),
            source_uri: "u".repeat(2048),
            attributes: (0..32).map(|i| (i.to_string(), "v".repeat(1024))).collect(),
            ..base
        };
        decode_with("pages.raw.p", &[], &ok.encode_to_vec()).unwrap();
    }

    #[test]
    fn header_values_are_limited_like_envelope_fields() {
        let long = "版".repeat(20_000);
        for name in [
            "Pagewire-Page-Name",
            "Pagewire-Page-Label",
            "Pagewire-Edition",
        ] {
            let mut h = MD.to_vec();
            h.push((name, long.as_str()));
            let err = decode_with("pages.raw.p", &h, b"x").unwrap_err();
            assert_eq!(err.code(), "invalid_metadata", "{name}");
            assert!(err.to_string().len() < 400, "{name}");
        }
        let bad_page = "9".repeat(100_000);
        let h = [
            ("Content-Type", "text/plain"),
            ("Pagewire-Issue-Date", "2025-07-10"),
            ("Pagewire-Page", bad_page.as_str()),
        ];
        assert!(
            decode_with("pages.raw.p", &h, b"x")
                .unwrap_err()
                .to_string()
                .len()
                < 400
        );
        let ct = format!("text/{}", "x".repeat(100_000));
        let err = decode_with("pages.raw.p", &[("Content-Type", ct.as_str())], b"x").unwrap_err();
        assert!(err.to_string().len() < 400);
        let json = format!("{{\"pageNumber\": \"{}\"}}", "1".repeat(100_000));
        let err = decode_with(
            "pages.raw.p",
            &[("Content-Type", "application/json")],
            json.as_bytes(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "bad_envelope");
        assert!(err.to_string().len() < 400, "{}", err.to_string().len());
    }

    #[test]
    fn quotes_are_short_prefixes() {
        assert_eq!(quote("ab"), "\"ab\"");
        let long = "\u{7f}".repeat(600_000);
        let q = quote(&long);
        assert!(q.len() < 300, "{}", q.len());
        assert!(q.ends_with("... (600000 bytes)"), "{q}");
    }

    #[test]
    fn the_boundary_applies_the_position_rules_and_hands_the_position_on() {
        // the year range the parser had alone, and a control character in the edition
        for (date, edition, field) in [
            ("1799-12-31", "", "issue_date"),
            ("2201-01-01", "", "issue_date"),
            ("2025-07-10", "late\u{7}", "edition"),
        ] {
            let h = [
                ("Content-Type", "text/markdown"),
                ("Pagewire-Issue-Date", date),
                ("Pagewire-Page", "1"),
                ("Pagewire-Edition", edition),
            ];
            match decode_with("pages.raw.baotou-daily", &h, b"x").unwrap_err() {
                InputError::InvalidMetadata { field: f, reason } => {
                    assert_eq!(f, field, "{date} {edition:?}: {reason}")
                }
                e => panic!("{date} {edition:?}: {e}"),
            }
        }
        let h = headers(&[
            ("Content-Type", "text/markdown"),
            ("Pagewire-Issue-Date", "1800-01-01"),
            ("Pagewire-Page", "7"),
            ("Pagewire-Edition", "晚版"),
        ]);
        let accepted = accept(
            &Incoming {
                subject: "pages.raw.baotou-daily",
                headers: &h,
                payload: b"x",
            },
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(
            accepted.position,
            PrintPosition::from_raw(&accepted.raw).unwrap()
        );
        assert_eq!(accepted.position.page_label.as_str(), "07");
        assert_eq!(accepted.raw.page_label, "07");
    }

    #[test]
    fn a_subject_token_that_is_not_a_slug_is_invalid_metadata() {
        let err = decode_with("pages.raw.Baotou_Daily", MD, b"x").unwrap_err();
        assert!(matches!(
            err,
            InputError::InvalidMetadata {
                field: "publication",
                ..
            }
        ));
    }

    #[test]
    fn utf8_error_reports_where_the_valid_prefix_ends() {
        let err = decode_with("pages.raw.p", MD, b"abc\xc3").unwrap_err();
        assert_eq!(err, InputError::InvalidUtf8 { valid_up_to: 3 });
    }

    #[test]
    fn parser_errors_keep_their_codes() {
        for e in [
            ParseError::NoArticles,
            ParseError::TooLarge { size: 2, limit: 1 },
        ] {
            assert_eq!(InputError::from(e.clone()).code(), e.code());
        }
    }

    #[test]
    fn calendar_dates_are_checked_for_real_days() {
        assert!(is_calendar_date("2024-02-29"));
        assert!(!is_calendar_date("2023-02-29"));
        assert!(!is_calendar_date("2025-13-01"));
        assert!(!is_calendar_date("2025-7-10"));
        assert!(!is_calendar_date("2025-07-1a"));
        assert!(!is_calendar_date("+025-07-10"));
    }

    #[test]
    fn publication_hint_falls_back_to_the_subject() {
        let h = headers(&[]);
        let inc = Incoming {
            subject: "pages.raw.baotou-daily",
            headers: &h,
            payload: b"",
        };
        assert_eq!(inc.publication_hint().as_deref(), Some("baotou-daily"));
        let inc = Incoming {
            subject: "pages.raw.*",
            ..inc
        };
        assert_eq!(inc.publication_hint(), None);
    }
}
