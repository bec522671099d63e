//! The one publisher: owns the JetStream context and the output topics, sends a list of
//! [`Outbound`] messages and waits for their PubAcks. Used alike by the page worker
//! ([`super::worker`]) and the stitch timer loop ([`super::stitcher`]), so neither borrows the
//! other.

use std::sync::Arc;
use std::time::Instant;

use async_nats::jetstream;
use async_nats::jetstream::ErrorCode;
use async_nats::{HeaderMap, HeaderName};
use tokio::sync::Semaphore;

use super::ServiceState;
use crate::route::{Outbound, Topics, HEADER_KIND};
use crate::topic::Topic;

/// Outputs of one page published before their PubAcks are awaited. Bounds the ack permits a
/// page holds, so that `max_in_flight` pages with hundreds of articles each cannot take every
/// permit of the JetStream context and wait on each other forever.
pub const PUBLISH_WINDOW: usize = 256;

/// PubAcks the JetStream context may have outstanding: every page in flight with a full window,
/// plus room for dead letters.
pub fn ack_capacity(max_in_flight: usize) -> usize {
    max_in_flight * PUBLISH_WINDOW + 1024
}

/// Messages of one atomic batch at most (nats-server's limit, ADR-50); a stream's outputs of one
/// page beyond it go in further batches.
const MAX_BATCH: usize = 1000;

/// Atomic batches this publisher keeps open at once. nats-server abandons batches beyond 50 open
/// on one stream (`max_batch_inflight_per_stream`), so a replica keeps well below that.
const OPEN_BATCHES: usize = 16;

/// ADR-50's headers: the batch, the message's place in it (from 1), and the last message's mark.
const HEADER_BATCH_ID: &str = "Nats-Batch-Id";
const HEADER_BATCH_SEQUENCE: &str = "Nats-Batch-Sequence";
const HEADER_BATCH_COMMIT: &str = "Nats-Batch-Commit";

/// The server refused a whole batch because one of its `Nats-Msg-Id`s is already stored (a
/// replayed or revised page): nothing of it was stored, it is published message by message.
const BATCH_HAS_DUPLICATE: ErrorCode = ErrorCode(10201);

/// The broker did not take an output: the message is fine, the broker could not store it now.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The publish could not be sent (connection lost, client closed).
    #[error("publish to {subject} failed: {source}")]
    Publish {
        /// Output subject.
        subject: String,
        /// Client error.
        source: jetstream::context::PublishError,
    },
    /// A message of an atomic batch could not be sent (connection lost, client closed).
    #[error("batch publish to {subject} failed: {source}")]
    BatchPublish {
        /// Output subject.
        subject: String,
        /// Client error.
        source: async_nats::PublishError,
    },
    /// No PubAck in time, or the stream refused the message (full, missing, unavailable).
    #[error("no pub ack for {subject}: {source}")]
    PubAck {
        /// Output subject.
        subject: String,
        /// Client or broker error.
        source: jetstream::context::PublishError,
    },
}

/// Publishes outputs; shared by every page task and the timer loop.
pub(super) struct Publisher {
    js: jetstream::Context,
    topics: Topics,
    /// Open atomic batches (`output.atomic_batches`); `None`: one PubAck per message.
    batches: Option<Semaphore>,
    state: Arc<ServiceState>,
}

impl Publisher {
    pub(super) fn new(
        js: jetstream::Context,
        topics: Topics,
        atomic_batches: bool,
        state: Arc<ServiceState>,
    ) -> Self {
        let batches = atomic_batches.then(|| Semaphore::new(OPEN_BATCHES));
        Publisher {
            js,
            topics,
            batches,
            state,
        }
    }

    /// The configured output topics, to route with.
    pub(super) fn topics(&self) -> &Topics {
        &self.topics
    }

    /// Sends every output without waiting, then waits for all PubAcks.
    /// Returns (published, duplicates).
    /// Borrows the outputs: a caller keeps them for a retry without copying them first.
    pub(super) async fn publish_all(
        &self,
        outputs: &[Outbound],
    ) -> Result<(usize, usize), PublishError> {
        if self.batches.is_some() {
            return self.publish_batched(outputs).await;
        }
        self.publish_windows(outputs).await
    }

    /// One PubAck per message, [`PUBLISH_WINDOW`] messages at a time.
    async fn publish_windows<'a>(
        &self,
        outputs: impl IntoIterator<Item = &'a Outbound>,
    ) -> Result<(usize, usize), PublishError> {
        let (mut published, mut duplicates) = (0, 0);
        let mut outputs = outputs.into_iter().peekable();
        while outputs.peek().is_some() {
            // A window at a time: a page never holds more than PUBLISH_WINDOW ack permits of the
            // shared JetStream context, so pages in flight cannot starve each other (see
            // `ack_capacity`); within a window the publishes are pipelined.
            let (p, d) = self
                .publish_window(outputs.by_ref().take(PUBLISH_WINDOW))
                .await?;
            published += p;
            duplicates += d;
        }
        Ok((published, duplicates))
    }

    async fn publish_window<'a>(
        &self,
        outputs: impl Iterator<Item = &'a Outbound>,
    ) -> Result<(usize, usize), PublishError> {
        let mut pending = Vec::with_capacity(PUBLISH_WINDOW);
        for o in outputs {
            // Timers are no output topic.
            let topic = o.topic.map_or("other", |t| t.label());
            let kind = o.header(HEADER_KIND).map(super::metrics::kind_label);
            let state = &self.state;
            let sent = Instant::now();
            let ack = self
                .js
                .publish_with_headers(o.subject.clone(), header_map(&o.headers), o.payload.clone())
                .await
                .map_err(|source| PublishError::Publish {
                    subject: o.subject.clone(),
                    source,
                })?;
            pending.push(async move {
                let ack = ack.await.map_err(|source| PublishError::PubAck {
                    subject: o.subject.clone(),
                    source,
                })?;
                state
                    .metrics()
                    .output_acked(topic, kind, ack.duplicate, sent.elapsed());
                Ok::<_, PublishError>(ack)
            });
        }
        let acks = futures::future::try_join_all(pending).await?;
        let duplicates = acks.iter().filter(|a| a.duplicate).count();
        Ok((acks.len(), duplicates))
    }

    /// Each output stream's share of `outputs` as one atomic batch (up to [`MAX_BATCH`]
    /// messages), the streams side by side; a stream's lone output and timers go as usual.
    async fn publish_batched(&self, outputs: &[Outbound]) -> Result<(usize, usize), PublishError> {
        let mut by_topic: Vec<(Option<Topic>, Vec<&Outbound>)> = Vec::new();
        for o in outputs {
            match by_topic.iter_mut().find(|(t, _)| *t == o.topic) {
                Some((_, group)) => group.push(o),
                None => by_topic.push((o.topic, vec![o])),
            }
        }
        let mut sends = Vec::new();
        for (topic, mut group) in by_topic {
            if topic.is_none() || group.len() == 1 {
                sends.push(futures::future::Either::Left(self.publish_windows(group)));
                continue;
            }
            while !group.is_empty() {
                let rest = group.split_off(group.len().min(MAX_BATCH));
                sends.push(futures::future::Either::Right(self.publish_batch(group)));
                group = rest;
            }
        }
        let counts = futures::future::try_join_all(sends).await?;
        Ok(counts
            .into_iter()
            .fold((0, 0), |(p, d), (p1, d1)| (p + p1, d + d1)))
    }

    /// One stream's outputs as one atomic batch: every message but the last sent without a
    /// reply, the last one marked as the commit and answered by the batch's PubAck. A batch the
    /// server refuses for a duplicate `Nats-Msg-Id` stored nothing: it is published again message
    /// by message, where duplicates are counted as usual.
    async fn publish_batch(&self, batch: Vec<&Outbound>) -> Result<(usize, usize), PublishError> {
        let slots = self.batches.as_ref().expect("batches are on");
        let open = slots
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let client = self.js.client();
        let id = client.new_inbox();
        // The inbox's last token is a fresh NUID, unique across replicas.
        let id = id.rsplit('.').next().unwrap_or(&id);
        let sent = Instant::now();
        let (last, rest) = batch.split_last().expect("a batch is not empty");
        for (seq, o) in rest.iter().enumerate() {
            let mut headers = header_map(&o.headers);
            headers.insert(HEADER_BATCH_ID, id);
            headers.insert(HEADER_BATCH_SEQUENCE, (seq + 1).to_string().as_str());
            client
                .publish_with_headers(o.subject.clone(), headers, o.payload.clone())
                .await
                .map_err(|source| PublishError::BatchPublish {
                    subject: o.subject.clone(),
                    source,
                })?;
        }
        let mut headers = header_map(&last.headers);
        headers.insert(HEADER_BATCH_ID, id);
        headers.insert(HEADER_BATCH_SEQUENCE, batch.len().to_string().as_str());
        headers.insert(HEADER_BATCH_COMMIT, "1");
        let ack = self
            .js
            .publish_with_headers(last.subject.clone(), headers, last.payload.clone())
            .await
            .map_err(|source| PublishError::Publish {
                subject: last.subject.clone(),
                source,
            })?
            .await;
        drop(open);
        match ack {
            Ok(_) => {
                let elapsed = sent.elapsed();
                for o in &batch {
                    let topic = o.topic.map_or("other", |t| t.label());
                    let kind = o.header(HEADER_KIND).map(super::metrics::kind_label);
                    self.state
                        .metrics()
                        .output_acked(topic, kind, false, elapsed);
                }
                Ok((batch.len(), 0))
            }
            Err(e) if api_error(&e) == Some(BATCH_HAS_DUPLICATE) => {
                self.publish_windows(batch).await
            }
            Err(source) => Err(PublishError::PubAck {
                subject: last.subject.clone(),
                source,
            }),
        }
    }
}

/// The JetStream API error code behind a refused publish, if the server sent one.
fn api_error(e: &jetstream::context::PublishError) -> Option<ErrorCode> {
    std::error::Error::source(e)?
        .downcast_ref::<jetstream::Error>()
        .map(jetstream::Error::error_code)
}

/// The headers as the client takes them; the names are static (no copy of them per message).
fn header_map(pairs: &[(&'static str, String)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(HeaderName::from_static(k), v.as_str());
    }
    h
}
