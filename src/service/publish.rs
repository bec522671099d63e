//! The one publisher: owns the JetStream context and the output topics, sends a list of
//! [`Outbound`] messages and waits for their PubAcks. Used alike by the page worker
//! ([`super::worker`]) and the stitch timer loop ([`super::stitcher`]), so neither borrows the
//! other.

use std::sync::Arc;
use std::time::Instant;

use async_nats::jetstream;
use async_nats::HeaderMap;

use super::ServiceState;
use crate::route::{Outbound, Topics, HEADER_KIND};

/// Outputs of one page published before their PubAcks are awaited. Bounds the ack permits a
/// page holds, so that `max_in_flight` pages with hundreds of articles each cannot take every
/// permit of the JetStream context and wait on each other forever.
pub const PUBLISH_WINDOW: usize = 256;

/// PubAcks the JetStream context may have outstanding: every page in flight with a full window,
/// plus room for dead letters.
pub fn ack_capacity(max_in_flight: usize) -> usize {
    max_in_flight * PUBLISH_WINDOW + 1024
}

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
    state: Arc<ServiceState>,
}

impl Publisher {
    pub(super) fn new(js: jetstream::Context, topics: Topics, state: Arc<ServiceState>) -> Self {
        Publisher { js, topics, state }
    }

    /// The configured output topics, to route with.
    pub(super) fn topics(&self) -> &Topics {
        &self.topics
    }

    /// Sends every output without waiting, then waits for all PubAcks.
    /// Returns (published, duplicates).
    pub(super) async fn publish_all(
        &self,
        outputs: Vec<Outbound>,
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

    async fn publish_window(
        &self,
        outputs: impl Iterator<Item = Outbound>,
    ) -> Result<(usize, usize), PublishError> {
        let mut pending = Vec::with_capacity(PUBLISH_WINDOW);
        for o in outputs {
            let subject = o.subject.clone();
            // Timers are no output topic.
            let topic = o.topic.map_or("other", |t| t.label());
            let kind = o.header(HEADER_KIND).map(super::metrics::kind_label);
            let state = self.state.clone();
            let sent = Instant::now();
            let ack = self
                .js
                .publish_with_headers(o.subject, header_map(&o.headers), o.payload)
                .await
                .map_err(|source| PublishError::Publish {
                    subject: subject.clone(),
                    source,
                })?;
            pending.push(async move {
                let ack = ack
                    .await
                    .map_err(|source| PublishError::PubAck { subject, source })?;
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
}

fn header_map(pairs: &[(&'static str, String)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, v.as_str());
    }
    h
}
