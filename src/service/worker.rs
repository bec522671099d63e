//! One page's fate: process it, publish its outputs, then ack, term or nak it.
//!
//! The decision table, with what the broker does next:
//!
//! | outcome                                  | reply        | broker                         |
//! |------------------------------------------|--------------|--------------------------------|
//! | every output has its PubAck              | double ack   | forgets the page               |
//! | bad input, dead letter stored            | term         | never redelivers it            |
//! | broker trouble, within `retry.hold`      | (none yet)   | keeps the page; retried in place |
//! | broker trouble, deliveries left          | nak(delay)   | redelivers after the delay     |
//! | broker trouble, last delivery            | dead letter, term (`retries_exhausted`)       |
//! | delivered beyond the budget              | dead letter, term (`retries_exhausted`), not processed again |
//! | dead letter itself cannot be stored      | nak(delay)   | redelivers; tried again        |
//! | still working after a third of ack_wait  | in progress  | restarts the ack wait          |
//!
//! Broker trouble is first retried within the delivery for up to `retry.hold` (a leader
//! election after a node is lost lasts seconds; holding the page through it spends no delivery).
//! The last delivery is pagewire's decision (`input.max_deliver`, its budget), not the
//! broker's: the consumer has no delivery limit, so a page whose dead letter cannot be stored,
//! on any delivery, is nak-ed and comes back until it is. No page ends neither acked nor
//! dead-lettered.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, AckKind};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::{field::Empty, Instrument as _};

use super::publish::{PublishError, Publisher};
use super::stitcher::Planned;
use super::ServiceState;
use crate::config::Settings;
use crate::envelope::Incoming;
use crate::pipeline::{Pipeline, Processed, Rejection, Work};
use crate::proto::{Page, RawPage};
use crate::route::{self, Outbound, Rejected};

/// Pages up to this size are processed on the async worker thread: at the parser's 100 MB/s
/// that is well under a millisecond, cheaper than a hop to the blocking pool. Larger pages (up
/// to the 4 MiB limit, tens of milliseconds) go to `spawn_blocking` so they never stall the
/// runtime's other tasks (PubAcks, heartbeats, other pages).
const INLINE_MAX_BYTES: usize = 64 * 1024;

/// Bytes of memory a page in flight works with per byte of its input, beyond the input itself:
/// its decoded text, the normalized text, the parsed articles and their encoded outputs.
const WORK_PER_BYTE: usize = 6;

/// The work of large pages (over [`INLINE_MAX_BYTES`]) in flight at once, in KiB: as many
/// pages of `limits.max_page_bytes` as there are cores. Parsing is CPU work, so more large
/// pages at once would finish none sooner, only multiply the memory they hold; the pages
/// waiting for a share hold only their input (and keep their delivery with in-progress acks).
fn large_page_budget(settings: &Settings) -> &'static (Semaphore, u32) {
    static BUDGET: OnceLock<(Semaphore, u32)> = OnceLock::new();
    BUDGET.get_or_init(|| {
        tune_allocator();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let kib = cores.saturating_mul(settings.limits.max_page_bytes) / 1024 * WORK_PER_BYTE;
        let kib = kib.clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize)) as u32;
        (Semaphore::new(kib as usize), kib)
    })
}

/// glibc's malloc raises its mmap threshold to the largest block freed, so after one large page
/// the text of every later one comes from the heap arenas, which keep what they once held: the
/// process stays at its peak. A fixed threshold keeps large buffers mapped, given back to the
/// system when freed.
pub(super) fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning parameter of the allocator; any value is valid.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

/// Gives the heap arenas' free memory back to the system after a large page.
fn release_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Code of the dead letter written when a page used up its deliveries on transient failures.
pub const RETRIES_EXHAUSTED: &str = "retries_exhausted";
/// Code of the dead letter written when processing panicked (a bug, kept for replay).
pub const INTERNAL_ERROR: &str = "internal_error";

/// Broker-side trouble: the page is fine, the broker could not take its outputs now.
#[derive(Debug, thiserror::Error)]
pub enum TransientError {
    /// An output was not stored.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The stitch state could not be read or written.
    #[error(transparent)]
    Stitch(#[from] super::stitcher::StitchError),
}

/// What happened to a page, before the reply to the broker: each step of a page (process,
/// resolve, publish) either goes on or ends the page with one of these.
enum Outcome {
    /// All outputs stored; `took` runs from receipt to the last PubAck.
    Stored {
        published: usize,
        duplicates: usize,
        took: Duration,
    },
    /// The input itself is bad.
    Rejected(Rejection),
    /// Processing panicked: a bug in pagewire, not in the broker.
    Panicked(String),
    /// Broker trouble.
    Transient(TransientError),
}

/// Why a parsed page has no outputs yet (see [`Worker::resolve`]).
enum Unresolved {
    /// The stitch state could not be reached: the page, kept for the next attempt.
    Later(Box<(RawPage, Page)>, super::stitcher::StitchError),
    /// An output is too large for the broker.
    Rejected(Rejection),
}

/// Shared by every page task.
pub(super) struct Worker {
    /// Sends the outputs (shared with the stitch timer loop).
    pub(super) publisher: Arc<Publisher>,
    pub(super) settings: Arc<Settings>,
    pub(super) pipeline: Arc<Pipeline>,
    pub(super) state: Arc<ServiceState>,
    /// Resolves cross-page references; `None` with `stitch.enabled = false`.
    pub(super) stitcher: Option<Arc<super::stitcher::Stitcher>>,
    /// The service's shutdown: ends a hold at once, so a draining replica naks the page for
    /// another one instead of waiting out broker trouble.
    pub(super) shutdown: CancellationToken,
}

/// Gives memory back once a large page is done with (see [`release_memory`]).
struct ReleaseMemory;

impl Drop for ReleaseMemory {
    fn drop(&mut self) {
        release_memory();
    }
}

/// The input message's identity, copied out of it for dead letters and logs.
struct Delivery {
    /// When the page was handed to its task: the start of `pagewire_page_duration_seconds`.
    received: Instant,
    subject: String,
    headers: Vec<(String, String)>,
    stream: String,
    stream_sequence: u64,
    delivered: i64,
}

impl Worker {
    /// Processes one message and replies to the broker. Never panics, never returns an error:
    /// whatever happens ends in ack, term, nak, or (if even the reply fails) the ack wait.
    pub(super) async fn handle(self: Arc<Self>, message: jetstream::Message) {
        let _in_flight = super::state::InFlight::new(&self.state);
        let received = Instant::now();
        let (stream, stream_sequence, delivered) = match message.info() {
            Ok(info) => (info.stream.to_owned(), info.stream_sequence, info.delivered),
            Err(e) => {
                // Not a JetStream delivery: nothing to ack.
                tracing::warn!(subject = %message.subject, error = %e, "message without jetstream metadata ignored");
                return;
            }
        };
        if delivered > 1 {
            self.state.metrics().redelivered();
        }
        let delivery = Delivery {
            received,
            subject: message.subject.to_string(),
            headers: super::header_pairs(message.headers.as_ref()),
            stream,
            stream_sequence,
            delivered,
        };
        let span = tracing::info_span!(
            "page",
            subject = %delivery.subject,
            stream_seq = stream_sequence,
            delivered,
            publication = Empty,
            issue_date = Empty,
            page = Empty,
        );
        let work = self.handle_delivery(&message, delivery).instrument(span);
        tokio::pin!(work);
        let every = progress_interval(self.settings.input.ack_wait);
        loop {
            tokio::select! {
                biased;
                () = &mut work => return,
                () = tokio::time::sleep(every) => {
                    // Still working (a large page, slow PubAcks): restart the ack wait, or
                    // JetStream would hand the page to another delivery meanwhile and, at
                    // max_deliver, give up on it with neither an ack nor a dead letter.
                    if let Err(e) = message.ack_with(AckKind::Progress).await {
                        tracing::debug!(error = %e, "in-progress ack not sent");
                    }
                }
            }
        }
    }

    async fn handle_delivery(&self, message: &jetstream::Message, d: Delivery) {
        let budget = self.settings.input.max_deliver;
        if d.delivered > budget {
            // The budget is spent: earlier deliveries failed, or their dead letter could not be
            // stored and the page was nak-ed. Not processed again (a page that crashed the
            // process would crash it again); only set aside, with its bytes.
            let hint = incoming(&d, &message.payload).publication_hint();
            let reason = format!(
                "delivered {} times, over input.max_deliver = {budget}: not processed again \
                 (earlier deliveries failed transiently, or their dead letter could not be \
                 stored)",
                d.delivered
            );
            self.dead_letter(message, &d, RETRIES_EXHAUSTED, &reason, hint.as_deref())
                .await;
            return;
        }
        let large = message.payload.len() > INLINE_MAX_BYTES;
        let (budget, total) = large_page_budget(&self.settings);
        let _work = if large {
            let kib = (message.payload.len() / 1024 * WORK_PER_BYTE).clamp(1, *total as usize);
            budget.acquire_many(kib as u32).await.ok()
        } else {
            None
        };
        // Built only for a large page: `then_some` would build it and drop it at once, and its
        // drop trims the heap (a malloc_trim on every page, about a sixth of the CPU).
        let _release = large.then(|| ReleaseMemory);
        let outcome = match self.process(&d, &message.payload).await {
            Ok(p) => {
                let span = tracing::Span::current();
                span.record("publication", p.publication.as_str());
                span.record("issue_date", p.issue_date.as_str());
                span.record("page", p.page_number);
                match &p.work {
                    Work::Routed(outputs) => {
                        tracing::debug!(
                            articles = p.articles,
                            outputs = outputs.len(),
                            "page parsed"
                        )
                    }
                    Work::Parsed(_) => {
                        tracing::debug!(articles = p.articles, "page parsed, for the stitcher")
                    }
                }
                // The page's message stays in the input stream: the stitcher may leave its
                // record there.
                let source_seq = if d.stream == self.settings.input.stream {
                    d.stream_sequence
                } else {
                    0
                };
                self.store(p, d.received, source_seq).await
            }
            Err(outcome) => outcome,
        };

        match outcome {
            Outcome::Stored {
                published,
                duplicates,
                took,
            } => {
                // Every PubAck is in: only now may the input go.
                match message.double_ack().await {
                    Ok(()) => {
                        self.state
                            .page_acked(published as u64, duplicates as u64, took);
                        tracing::debug!(published, duplicates, "page acked");
                    }
                    // Not acked: JetStream redelivers after ack_wait and the duplicate window
                    // absorbs the second round of publishes.
                    Err(e) => {
                        tracing::warn!(error = %e, "ack not confirmed; page will be redelivered")
                    }
                }
            }
            Outcome::Rejected(r) => {
                if let Some(p) = &r.publication {
                    tracing::Span::current().record("publication", p.as_str());
                }
                let code = r.error.code();
                tracing::warn!(code, reason = %r.error, "page rejected");
                self.dead_letter(
                    message,
                    &d,
                    code,
                    &r.error.to_string(),
                    r.publication.as_deref(),
                )
                .await;
            }
            Outcome::Panicked(msg) => {
                tracing::error!(panic = %msg, "processing panicked");
                let hint = incoming(&d, &message.payload).publication_hint();
                self.dead_letter(
                    message,
                    &d,
                    INTERNAL_ERROR,
                    &format!("processing panicked: {msg}"),
                    hint.as_deref(),
                )
                .await;
            }
            Outcome::Transient(e) => {
                if d.delivered >= self.settings.input.max_deliver {
                    // pagewire's budget for this page is spent: set it aside with the reason
                    // instead of retrying for ever.
                    tracing::error!(error = %e, "transient failure on the last allowed delivery");
                    let hint = incoming(&d, &message.payload).publication_hint();
                    let reason =
                        format!("gave up after {} deliveries; last error: {e}", d.delivered);
                    self.dead_letter(message, &d, RETRIES_EXHAUSTED, &reason, hint.as_deref())
                        .await;
                } else {
                    self.nak(message, &d, &e.to_string()).await;
                }
            }
        }
    }

    /// Resolves and publishes the page's outputs. Broker trouble is retried in place, the
    /// delivery kept (the in-progress acks of [`Worker::handle`] go on), for up to
    /// `retry.hold` from the first failure, every `retry.nak_initial` doubling up to a second;
    /// every attempt repeats the same message ids, so what an earlier attempt stored is not
    /// stored again. What still fails after the hold, or at shutdown, is nak-ed by the caller.
    ///
    /// The page and its parse are given up as soon as its outputs exist (they are encoded in
    /// them): a page in flight holds its input and its outputs, not three copies of its text.
    async fn store(&self, p: Processed, received: Instant, source_seq: u64) -> Outcome {
        let retry = &self.settings.retry;
        let mut failing_since: Option<Instant> = None;
        let mut attempt = 0u32;
        let mut work = p.work;
        loop {
            let e = match work {
                Work::Parsed(parsed) => match self.resolve(parsed, source_seq).await {
                    Ok(outputs) => {
                        // Resolved: published at once, and kept should publishing fail.
                        work = Work::Routed(outputs);
                        continue;
                    }
                    Err(Unresolved::Later(parsed, e)) => {
                        work = Work::Parsed(parsed);
                        TransientError::from(e)
                    }
                    Err(Unresolved::Rejected(r)) => return Outcome::Rejected(r),
                },
                Work::Routed(outputs) => {
                    // Kept for a retry: published from a borrow.
                    let sent = self.publisher.publish_all(&outputs).await;
                    work = Work::Routed(outputs);
                    match sent {
                        Ok((published, duplicates)) => {
                            return Outcome::Stored {
                                published,
                                duplicates,
                                took: received.elapsed(),
                            }
                        }
                        Err(e) => TransientError::from(e),
                    }
                }
            };
            let since = *failing_since.get_or_insert_with(Instant::now);
            let delay = retry
                .nak_initial
                .saturating_mul(1 << attempt.min(16))
                .min(Duration::from_secs(1));
            if since.elapsed() + delay > retry.hold || self.shutdown.is_cancelled() {
                return Outcome::Transient(e);
            }
            tracing::debug!(error = %e, retry_in = ?delay, "broker trouble; retrying in place");
            self.state.metrics().retried_in_place();
            tokio::select! {
                _ = self.shutdown.cancelled() => return Outcome::Transient(e),
                () = tokio::time::sleep(delay) => {}
            }
            attempt += 1;
        }
    }

    /// Decodes, parses and routes, off the runtime when the page is large.
    /// Fails with [`Outcome::Rejected`] or [`Outcome::Panicked`].
    async fn process(&self, d: &Delivery, payload: &bytes::Bytes) -> Result<Processed, Outcome> {
        if payload.len() <= INLINE_MAX_BYTES {
            let run = || self.pipeline.process(&incoming(d, payload));
            return match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
                Ok(result) => result.map_err(Outcome::Rejected),
                Err(panic) => Err(Outcome::Panicked(panic_message(panic.as_ref()))),
            };
        }
        let pipeline = self.pipeline.clone();
        let subject = d.subject.clone();
        let headers = d.headers.clone();
        let payload = payload.clone();
        let joined = tokio::task::spawn_blocking(move || {
            pipeline.process(&Incoming {
                subject: &subject,
                headers: &headers,
                payload: &payload,
            })
        })
        .await;
        match joined {
            Ok(result) => result.map_err(Outcome::Rejected),
            Err(e) if e.is_panic() => {
                Err(Outcome::Panicked(panic_message(e.into_panic().as_ref())))
            }
            Err(e) => Err(Outcome::Panicked(e.to_string())),
        }
    }

    /// A parsed page's outputs, as planned once the page is registered in its issue. A page
    /// stitching must skip is published as parsed, and so is one this worker has no stitcher
    /// for. Gives the page back with the error when the stitch state could not be reached,
    /// for the next attempt. `source_seq`: the page's sequence in the input stream (0: not
    /// known).
    async fn resolve(
        &self,
        parsed: Box<(RawPage, Page)>,
        source_seq: u64,
    ) -> Result<Vec<Outbound>, Unresolved> {
        let topics = self.publisher.topics();
        let alerts = &self.pipeline.alerts;
        let planned = match &self.stitcher {
            Some(stitcher) => match stitcher.page(&parsed.0, &parsed.1, source_seq).await {
                Ok(planned) => Some(planned),
                Err(e) => return Err(Unresolved::Later(parsed, e)),
            },
            // The service builds a stitching pipeline only beside its stitcher.
            None => None,
        };
        let (raw, page) = *parsed;
        let outputs = match planned {
            Some(Planned::Stitched { plan, timers }) => {
                let mut out = route::route_plan(&raw, page, &plan, topics, alerts);
                out.extend(timers);
                out
            }
            Some(Planned::Skipped(skip)) => {
                tracing::warn!(reason = skip.label(), "page published without stitching");
                self.state.metrics().stitch_skipped(skip.label());
                route::route_page(&raw, page, topics, alerts)
            }
            None => route::route_page(&raw, page, topics, alerts),
        };
        self.pipeline
            .check_sizes(&outputs)
            .map(|()| outputs)
            .map_err(|error| {
                Unresolved::Rejected(Rejection {
                    error,
                    publication: Some(raw.publication.clone()),
                })
            })
    }

    /// Stores a dead letter for the input (cut to fit the broker, see
    /// [`route::fitting_dead_letter`]), then terms it; naks if the dead letter cannot be
    /// stored, on any delivery: the page comes back until it is.
    async fn dead_letter(
        &self,
        message: &jetstream::Message,
        d: &Delivery,
        code: &'static str,
        reason: &str,
        publication: Option<&str>,
    ) {
        let rejected = Rejected {
            subject: &d.subject,
            headers: &d.headers,
            payload: &message.payload,
            delivery_count: d.delivered.max(0) as u64,
            stream_sequence: d.stream_sequence,
            stream: &d.stream,
            publication,
        };
        let (letter, cuts) = route::fitting_dead_letter(
            &rejected,
            code,
            reason,
            self.publisher.topics(),
            self.pipeline.max_payload,
        );
        match self
            .publisher
            .publish_all(std::slice::from_ref(&letter))
            .await
        {
            Ok(_) => {
                // Term: the broker will not redeliver it; the dead letter is its record.
                if let Err(e) = message.ack_with(AckKind::Term).await {
                    tracing::warn!(error = %e, "term not sent; page will be redelivered and dead-lettered again (deduplicated)");
                }
                self.state
                    .page_dead_lettered(code, &d.stream, d.stream_sequence);
                for part in cuts.labels() {
                    self.state.metrics().dead_letter_cut(part);
                }
                tracing::info!(code, ?cuts, "page dead-lettered");
            }
            Err(e) => {
                // Not termed, not dropped: the consumer has no delivery limit, so the nak
                // brings the page back, and it waits (pagewire_dead_letters_waiting) until the
                // dead-letter stream takes it.
                tracing::error!(error = %e, code, "dead letter not stored; page nak-ed to wait for the dead-letter stream");
                self.state.dead_letter_failed(&d.stream, d.stream_sequence);
                self.nak(message, d, &format!("dead letter not stored: {e}"))
                    .await
            }
        }
    }

    /// Naks with a delay that grows with the delivery count.
    async fn nak(&self, message: &jetstream::Message, d: &Delivery, reason: &str) {
        let delay: Duration = self.settings.retry.nak_delay(d.delivered);
        tracing::warn!(reason, retry_in = ?delay, "page will be retried");
        self.state.page_retried();
        // If the nak is lost the ack wait runs out instead: the page is redelivered either way.
        if let Err(e) = message.ack_with(AckKind::Nak(Some(delay))).await {
            tracing::warn!(error = %e, "nak not sent; page will be redelivered after ack_wait");
        }
    }
}

/// How often a page still being worked on tells the broker so: a third of the ack wait, so
/// two can be lost before the wait runs out.
fn progress_interval(ack_wait: Duration) -> Duration {
    (ack_wait / 3).max(Duration::from_millis(100))
}

fn incoming<'a>(d: &'a Delivery, payload: &'a [u8]) -> Incoming<'a> {
    Incoming {
        subject: &d.subject,
        headers: &d.headers,
        payload,
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}
