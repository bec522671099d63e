//! pagewire as a NATS micro service: discovery (`$SRV.PING|INFO|STATS.pagewire`) and the
//! synchronous `pagewire.parse` endpoint for tools that want an answer now.
//!
//! A request carries the same input the raw-page topic takes (a `RawPage` in protobuf or JSON by
//! `Content-Type`, or page text with `Pagewire-*` headers); the reply is the parsed
//! `pagewire.v1.Page` with its articles (protobuf, or proto3 JSON when the request says
//! `Accept: application/json`). Nothing is published and nothing is stored. Replicas share the
//! endpoint through a queue group, so one of them answers each request.
//!
//! [`answer`] is the pure part (bytes in, bytes or a rejection out); [`start`] is the shell.

use std::sync::Arc;

use async_nats::service::{self, Service, ServiceExt as _};
use async_nats::HeaderMap;
use bytes::Bytes;
use futures::StreamExt as _;
use prost::Message as _;
use tokio::task::JoinHandle;

use super::ServiceState;
use crate::envelope::{self, Incoming, InputError};
use crate::parse::{self, Limits};
use crate::route::{type_name, HEADER_ERROR_CODE, HEADER_TYPE, PROTOBUF};

/// Service name in `$SRV.*` discovery.
pub const SERVICE_NAME: &str = "pagewire";
/// Subject of the parse endpoint.
pub const PARSE_SUBJECT: &str = "pagewire.parse";
/// Endpoint name shown by `nats micro info`.
pub const PARSE_ENDPOINT: &str = "parse";
/// Queue group shared by every replica.
pub const QUEUE_GROUP: &str = "pagewire";
/// Code of a failure that is pagewire's fault, not the request's (a panic in the parser).
pub const INTERNAL_ERROR: &str = "internal_error";

/// Room kept for the reply's headers under the broker's `max_payload`.
const REPLY_HEADER_ALLOWANCE: usize = 256;

/// A successful reply body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// Encoded `pagewire.v1.Page`.
    pub body: Bytes,
    /// `application/protobuf` or `application/json`.
    pub content_type: &'static str,
}

/// Why a request was not answered with a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The stable code the dead-letter topic uses (`bad_envelope`, `no_articles`, ...).
    pub code: &'static str,
    /// Human-readable reason.
    pub reason: String,
    /// HTTP-like status for `Nats-Service-Error-Code`: 400 bad input, 413 too large,
    /// 415 unsupported content type, 500 pagewire's fault.
    pub status: usize,
}

impl From<InputError> for Rejection {
    fn from(e: InputError) -> Self {
        let status = match e {
            InputError::TooLarge { .. } | InputError::OutputTooLarge { .. } => 413,
            InputError::UnsupportedContentType { .. } => 415,
            _ => 400,
        };
        Rejection {
            code: e.code(),
            reason: e.to_string(),
            status,
        }
    }
}

/// Parses one request. Pure: no I/O, no clock.
///
/// The publication must come from the `Pagewire-Publication` header or the `RawPage`: the
/// request subject says nothing about it.
pub fn answer(
    headers: &[(String, String)],
    payload: &[u8],
    limits: &Limits,
    max_payload: usize,
) -> Result<Reply, Rejection> {
    let incoming = Incoming {
        subject: "",
        headers,
        payload,
    };
    let envelope::Accepted { raw, position } = envelope::accept(&incoming, limits)?;
    let page = parse::parse_at(&raw, &position, limits).map_err(InputError::from)?;
    let wants_json = incoming
        .header("Accept")
        .is_some_and(|a| a.to_ascii_lowercase().contains("application/json"));
    let (body, content_type) = if wants_json {
        let json = serde_json::to_vec(&page).map_err(|e| Rejection {
            code: INTERNAL_ERROR,
            reason: format!("cannot encode the page as JSON: {e}"),
            status: 500,
        })?;
        (json, "application/json")
    } else {
        (page.encode_to_vec(), PROTOBUF)
    };
    let size = body.len() + REPLY_HEADER_ALLOWANCE;
    if size > max_payload {
        return Err(InputError::OutputTooLarge {
            subject: "reply".to_owned(),
            size,
            limit: max_payload,
        }
        .into());
    }
    Ok(Reply {
        body: Bytes::from(body),
        content_type,
    })
}

/// Registers the service and serves the endpoint until the service is stopped.
///
/// Up to `concurrency` requests are taken at once (the rest wait in the subscription); they are
/// parsed on the blocking pool, one per core at a time, in the order they came: parsing is CPU
/// work, so more at once would only finish every request later (and hold more memory), while
/// the async workers stay free for the page worker's I/O.
pub(super) async fn start(
    client: &async_nats::Client,
    limits: Limits,
    max_payload: usize,
    concurrency: usize,
    state: Arc<ServiceState>,
    metadata: std::collections::HashMap<String, String>,
) -> Result<(Service, JoinHandle<()>), async_nats::Error> {
    let service = client
        .service_builder()
        .description("pagewire: printed newspaper pages in, structured articles out")
        .metadata(metadata)
        .queue_group(QUEUE_GROUP)
        .start(SERVICE_NAME, super::metrics::VERSION)
        .await?;
    let endpoint = service
        .endpoint_builder()
        .name(PARSE_ENDPOINT)
        .metadata(
            [
                (
                    "request",
                    "pagewire.v1.RawPage (application/protobuf, application/json) or page text (text/markdown, text/plain, text/html) with Pagewire-* headers",
                ),
                (
                    "response",
                    "pagewire.v1.Page (application/protobuf; application/json with Accept: application/json)",
                ),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        )
        .add(PARSE_SUBJECT)
        .await?;
    super::worker::tune_allocator();
    let limits = Arc::new(limits);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parsers = Arc::new(tokio::sync::Semaphore::new(cores.min(concurrency).max(1)));
    let handle = tokio::spawn(endpoint.for_each_concurrent(concurrency, move |request| {
        let limits = limits.clone();
        let state = state.clone();
        let parsers = parsers.clone();
        async move { respond(request, &limits, &parsers, max_payload, &state).await }
    }));
    Ok((service, handle))
}

/// Answers one request; a failed reply is logged (the requester times out).
async fn respond(
    request: service::Request,
    limits: &Arc<Limits>,
    parsers: &tokio::sync::Semaphore,
    max_payload: usize,
    state: &ServiceState,
) {
    let headers = super::header_pairs(request.message.headers.as_ref());
    let payload = request.message.payload.clone();
    let result = match parsers.acquire().await {
        Ok(_permit) => {
            let limits = limits.clone();
            tokio::task::spawn_blocking(move || {
                catch(|| answer(&headers, &payload, &limits, max_payload))
            })
            .await
            .unwrap_or_else(|e| Err(internal(&e.to_string())))
        }
        Err(_closed) => Err(internal("the parser pool is closed")),
    };
    let mut reply_headers = HeaderMap::new();
    let response = match result {
        Ok(reply) => {
            state.metrics().parse_request("ok");
            reply_headers.insert("Content-Type", reply.content_type);
            reply_headers.insert(HEADER_TYPE, type_name::PAGE);
            Ok(reply.body)
        }
        Err(r) => {
            state.metrics().parse_request(if r.status >= 500 {
                "failed"
            } else {
                "rejected"
            });
            tracing::debug!(code = r.code, reason = %r.reason, "parse request rejected");
            reply_headers.insert(HEADER_ERROR_CODE, r.code);
            Err(service::error::Error {
                status: format!("{}: {}", r.code, r.reason),
                code: r.status,
            })
        }
    };
    if let Err(e) = request.respond_with_headers(response, reply_headers).await {
        tracing::warn!(error = %e, "cannot send the parse reply");
    }
}

/// Runs `f`, turning a panic into an `internal_error` rejection.
fn catch(f: impl FnOnce() -> Result<Reply, Rejection>) -> Result<Reply, Rejection> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let msg = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".to_owned());
        Err(internal(&msg))
    })
}

fn internal(msg: &str) -> Rejection {
    Rejection {
        code: INTERNAL_ERROR,
        reason: format!("processing panicked: {msg}"),
        status: 500,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Page;

    fn text_headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const PAGE: &str = "## 太空归来首亮相\n\n2025年7月9日下午，中国航天员科研训练中心举行见面会。\n\n（据央视新闻）\n";

    #[test]
    fn page_text_with_headers_is_answered_with_the_parsed_page() {
        let h = text_headers(&[
            ("Content-Type", "text/markdown"),
            ("Pagewire-Publication", "baotou-daily"),
            ("Pagewire-Issue-Date", "2025-07-10"),
            ("Pagewire-Page", "3"),
        ]);
        let reply = answer(&h, PAGE.as_bytes(), &Limits::default(), 1 << 20).unwrap();
        assert_eq!(reply.content_type, PROTOBUF);
        let page = Page::decode(reply.body).unwrap();
        assert_eq!(page.articles.len(), 1);
        assert_eq!(page.articles[0].headline, "太空归来首亮相");
    }

    #[test]
    fn accept_json_gets_proto3_json() {
        let h = text_headers(&[
            ("Content-Type", "text/markdown"),
            ("Accept", "application/json"),
            ("Pagewire-Publication", "baotou-daily"),
            ("Pagewire-Issue-Date", "2025-07-10"),
            ("Pagewire-Page", "3"),
        ]);
        let reply = answer(&h, PAGE.as_bytes(), &Limits::default(), 1 << 20).unwrap();
        assert_eq!(reply.content_type, "application/json");
        let page: Page = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(page.articles[0].headline, "太空归来首亮相");
    }

    #[test]
    fn the_publication_is_never_taken_from_the_request_subject() {
        let h = text_headers(&[
            ("Content-Type", "text/markdown"),
            ("Pagewire-Issue-Date", "2025-07-10"),
            ("Pagewire-Page", "3"),
        ]);
        let r = answer(&h, PAGE.as_bytes(), &Limits::default(), 1 << 20).unwrap_err();
        assert_eq!((r.code, r.status), ("invalid_metadata", 400));
        assert!(r.reason.contains("publication"), "{}", r.reason);
    }

    #[test]
    fn bad_input_is_rejected_with_its_dead_letter_code_and_a_status() {
        /// Headers, body, expected code, expected status.
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a [u8], &'a str, usize);
        let cases: [Case; 3] = [
            (&[], b"\x0a\xff\xff\xff\xff", "bad_envelope", 400),
            (
                &[("Content-Type", "application/pdf")],
                b"%PDF",
                "unsupported_content_type",
                415,
            ),
            (
                &[
                    ("Content-Type", "text/plain"),
                    ("Pagewire-Publication", "x"),
                    ("Pagewire-Issue-Date", "2025-07-10"),
                    ("Pagewire-Page", "1"),
                ],
                b" \n\n ",
                "no_articles",
                400,
            ),
        ];
        for (headers, body, code, status) in cases {
            let r = answer(&text_headers(headers), body, &Limits::default(), 1 << 20).unwrap_err();
            assert_eq!((r.code, r.status), (code, status), "{}", r.reason);
        }
    }

    #[test]
    fn a_reply_over_max_payload_is_rejected_as_output_too_large() {
        let h = text_headers(&[
            ("Content-Type", "text/markdown"),
            ("Pagewire-Publication", "baotou-daily"),
            ("Pagewire-Issue-Date", "2025-07-10"),
            ("Pagewire-Page", "3"),
        ]);
        let r = answer(&h, PAGE.as_bytes(), &Limits::default(), 300).unwrap_err();
        assert_eq!((r.code, r.status), ("output_too_large", 413));
    }
}
