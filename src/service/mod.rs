//! The thin shell around the pure core: raw pages in from a JetStream pull consumer, articles out
//! to the output topics, and the ack / nak / term decision for every page.
//!
//! Shape (see ARCHITECTURE.md): [`run`] connects, provisions, binds the durable consumer, then
//! pulls batches sized to the free in-flight slots. Each page runs in its own task on a
//! [`TaskTracker`]; [`worker`] decides its fate. Shutdown is a [`CancellationToken`] passed in by
//! the caller (signals in `pagewire run`, a test's own token in tests): stop pulling, finish
//! and ack what is in flight, flush, return.
//!
//! Around the consumer: [`micro`] registers the `pagewire` NATS micro service and answers
//! `pagewire.parse`; a poller copies the consumer's lag from JetStream into [`metrics`]; and
//! [`http`] serves the probes and `/metrics` from the shared [`ServiceState`] (started by the
//! caller, which owns the listener).

pub mod http;
pub mod metrics;
pub mod micro;
mod nats;
mod publish;
mod state;
pub mod stitcher;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::PullConsumer};
use futures::StreamExt as _;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use metrics::Metrics;
pub use nats::{
    backoff, check_server_version, connect, connect_options, provision_streams, server_addrs,
    MIN_SERVER_VERSION,
};
pub use state::{ServiceState, Snapshot};

use crate::config::Settings;
use crate::pipeline::Pipeline;
use crate::route::Topics;

/// Why the service stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A setting is unusable in a way only visible at connect time.
    #[error("configuration key `{key}`: {reason}")]
    Config {
        /// Dotted key.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The servers refused the connection (authentication, TLS) or shutdown came first.
    #[error("cannot connect to nats: {0}")]
    Connect(#[from] async_nats::ConnectError),
    /// The server is older than pagewire's minimum: its JetStream API lacks what pagewire
    /// uses, and every request would fail with an answer the client cannot read.
    #[error(
        "nats-server {version} is older than {minimum}, the oldest pagewire works with: it \
         needs the JetStream API of 2.10 (key-value bucket create-or-update, consumers with \
         several filter subjects); upgrade the server"
    )]
    ServerTooOld {
        /// What the server said in its INFO.
        version: String,
        /// [`MIN_SERVER_VERSION`].
        minimum: &'static str,
    },
    /// A stream or the consumer could not be created or found.
    #[error("cannot provision {what}: {source}")]
    Provision {
        /// Which stream or consumer.
        what: String,
        /// The broker's answer.
        source: async_nats::Error,
    },
    /// In-flight pages did not finish within `shutdown.drain_timeout`; they were not acked and
    /// will be redelivered.
    #[error("{in_flight} pages still in flight after the drain timeout of {timeout:?}")]
    DrainTimedOut {
        /// Pages left.
        in_flight: u64,
        /// The timeout.
        timeout: Duration,
    },
}

/// Runs the service until `shutdown` is cancelled, then drains. See [`run_with_state`].
pub async fn run(settings: Settings, shutdown: CancellationToken) -> Result<(), ServiceError> {
    run_with_state(settings, Arc::new(ServiceState::default()), shutdown).await
}

/// Runs the service with a caller-owned state (read by probes, metrics and tests).
pub async fn run_with_state(
    settings: Settings,
    state: Arc<ServiceState>,
    shutdown: CancellationToken,
) -> Result<(), ServiceError> {
    let settings = Arc::new(settings);
    // The parser's patterns compile on first use; compile them while connecting, so the first
    // page does not wait for them.
    let warm_up = tokio::task::spawn_blocking(crate::parse::warm_up);
    // A page waiting for its dead letter comes back within a nak delay (or an ack wait when a
    // nak is lost); one not seen for longer went to another replica or was set aside there.
    state.set_waiting_horizon(settings.input.ack_wait + settings.retry.nak_max.saturating_mul(2));
    tracing::info!(
        servers = ?settings.nats.redacted_servers(),
        stream = %settings.input.stream,
        consumer = %settings.input.consumer,
        "pagewire starting"
    );
    let Some(client) = nats::connect(&settings.nats, Some(state.clone()), &shutdown).await? else {
        tracing::info!("shutdown before a connection was made");
        return Ok(());
    };
    // Before anything else is asked of it: an old server fails every JetStream request in a
    // way that says nothing about the version.
    let server = client.server_info();
    check_server_version(&server.version)?;
    tracing::info!(version = %server.version, "nats-server version supported");
    let js = jetstream::ContextBuilder::new()
        .timeout(settings.nats.request_timeout)
        .max_ack_inflight(publish::ack_capacity(settings.limits.max_in_flight))
        .build(client.clone());

    let Some((consumer, stitching)) = setup(&js, &settings, &state, &shutdown).await? else {
        tracing::info!("shutdown before the consumer was bound");
        return Ok(());
    };
    let max_payload = client.server_info().max_payload;
    let input_budget = settings
        .limits
        .input_budget(max_payload)
        .map_err(|reason| ServiceError::Config {
            key: "limits.max_in_flight_bytes",
            reason,
        })?;
    tracing::info!(
        budget = input_budget.0,
        max_payload,
        "input byte budget: pages in flight hold at most this many bytes of input"
    );
    // One pipeline for the worker and the stitcher: a page the stitcher parses again from its
    // input message gives the record the worker's parse gave. It leaves routing to the
    // stitcher exactly when there is one.
    let pipeline = Arc::new(Pipeline::new(&settings, max_payload).stitching(stitching.is_some()));
    let (stitcher, timer_consumer) = match stitching {
        Some((kv, timer_consumer, source)) => {
            let stitcher = stitcher::Stitcher::new(
                kv,
                source,
                pipeline.clone(),
                &settings.stitch,
                max_payload,
                state.clone(),
            );
            (Some(Arc::new(stitcher)), Some(timer_consumer))
        }
        None => (None, None),
    };
    let publisher = Arc::new(publish::Publisher::new(
        js.clone(),
        Topics::from(&settings.output),
        settings.output.atomic_batches,
        state.clone(),
    ));
    let worker = Arc::new(worker::Worker {
        publisher: publisher.clone(),
        settings: settings.clone(),
        pipeline,
        state: state.clone(),
        stitcher: stitcher.clone(),
        shutdown: shutdown.clone(),
    });
    // Timers stop with the pulling; the one being handled finishes (or is redelivered).
    let timers_stop = CancellationToken::new();
    let timers = match (stitcher, timer_consumer) {
        (Some(stitcher), Some(timer_consumer)) => Some(tokio::spawn(stitcher::timer_loop(
            publisher,
            stitcher,
            timer_consumer,
            timers_stop.clone(),
        ))),
        _ => None,
    };
    let lag = tokio::spawn(poll_consumer_lag(
        js.clone(),
        settings.clone(),
        state.clone(),
    ));
    let micro = start_micro(&client, &settings, max_payload, &state).await;
    if warm_up.await.is_err() {
        // a pattern that fails to compile panics the first page the same way; that page is
        // dead-lettered with the panic, the service goes on
        tracing::error!("the parser's warm-up panicked");
    }
    tracing::info!(max_payload, "pagewire consuming");

    let tracker = TaskTracker::new();
    let pulling = pull_loop(
        consumer,
        &js,
        worker,
        &tracker,
        &settings,
        &state,
        input_budget,
        &shutdown,
    );
    tokio::pin!(pulling);
    let ended_early = tokio::select! {
        result = &mut pulling => Some(result),
        _ = shutdown.cancelled() => None,
    };

    state.set_draining();
    timers_stop.cancel();
    // Parse requests go to other replicas from now on; the ones being answered finish.
    let micro_task = match micro {
        Some((service, task)) => {
            let _ = service.stop().await;
            Some(task)
        }
        None => None,
    };
    if let Some(Err(e)) = ended_early {
        // Only a fatal error ends the loop before shutdown; in-flight pages are left unacked
        // and JetStream redelivers them.
        lag.abort();
        if let Some(task) = &timers {
            task.abort();
        }
        return Err(e);
    }
    let timeout = settings.shutdown.drain_timeout;
    tracing::info!(in_flight = state.snapshot().in_flight, ?timeout, "draining");
    let drained = tokio::time::timeout(timeout, async {
        // The open pull request is finished, not abandoned: what it delivers is processed.
        let result = match ended_early {
            Some(result) => result,
            None => pulling.await,
        };
        tracker.close();
        tracker.wait().await;
        if let Some(task) = micro_task {
            let _ = task.await;
        }
        if let Some(task) = timers {
            let _ = task.await;
        }
        result
    })
    .await;
    lag.abort();
    // Acks and naks are plain publishes: make sure they left the socket before returning.
    if let Err(e) = tokio::time::timeout(Duration::from_secs(5), client.flush()).await {
        tracing::warn!(error = %e, "flush timed out at shutdown");
    }
    match drained {
        Ok(result) => {
            result?;
            tracing::info!(snapshot = ?state.snapshot(), "pagewire stopped");
            Ok(())
        }
        Err(_) => Err(ServiceError::DrainTimedOut {
            in_flight: state.snapshot().in_flight,
            timeout,
        }),
    }
}

/// Registers the micro service; without it pagewire still consumes (discovery and
/// `pagewire.parse` are extras), so a failure is logged, not fatal.
async fn start_micro(
    client: &async_nats::Client,
    settings: &Settings,
    max_payload: usize,
    state: &Arc<ServiceState>,
) -> Option<(async_nats::service::Service, tokio::task::JoinHandle<()>)> {
    let metadata = [
        ("git_commit", metrics::GIT_COMMIT.to_owned()),
        ("input_stream", settings.input.stream.clone()),
        ("consumer", settings.input.consumer.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    match micro::start(
        client,
        settings.limits.parser_limits(),
        max_payload,
        settings.limits.max_in_flight,
        state.clone(),
        metadata,
    )
    .await
    {
        Ok(started) => Some(started),
        Err(e) => {
            tracing::warn!(error = %e, "cannot register the micro service; pagewire.parse is unavailable");
            None
        }
    }
}

/// Copies the consumer's lag from JetStream's consumer info into the metrics, every
/// `metrics.consumer_poll_interval`, until aborted. A failed read keeps the last values (the
/// `pagewire_connected` and `pagewire_ready` gauges say why they are stale).
async fn poll_consumer_lag(
    js: jetstream::Context,
    settings: Arc<Settings>,
    state: Arc<ServiceState>,
) {
    let mut tick = tokio::time::interval(settings.metrics.consumer_poll_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let info = async {
            js.get_stream_no_info(&settings.input.stream)
                .await?
                .consumer_info(&settings.input.consumer)
                .await
                .map_err(async_nats::Error::from)
        };
        match info.await {
            Ok(info) => state.metrics().set_consumer_lag(
                info.num_pending,
                info.num_ack_pending as u64,
                info.num_redelivered as u64,
            ),
            Err(e) => tracing::debug!(error = %e, "cannot read consumer info for metrics"),
        }
    }
}

/// The stitch bucket, the timer consumer and the input stream as a source of records, when
/// stitching is on.
type Stitching = Option<(jetstream::kv::Store, PullConsumer, stitcher::Source)>;

/// Provisions streams (unless disabled) and binds the consumers, retrying while the broker is
/// unreachable. `None` when shutdown came first.
async fn setup(
    js: &jetstream::Context,
    settings: &Settings,
    state: &ServiceState,
    shutdown: &CancellationToken,
) -> Result<Option<(PullConsumer, Stitching)>, ServiceError> {
    let mut attempt = 0;
    loop {
        let attempt_once = async {
            if settings.output.provision {
                nats::provision_streams(js, settings).await?;
            }
            let stitching = if settings.stitch.enabled && !settings.bench.pass_through {
                let (kv, timers) = stitcher::provision(js, settings).await?;
                Some((kv, timers, stitcher::source(js, settings).await?))
            } else {
                None
            };
            Ok::<_, ServiceError>((nats::bind_consumer(js, settings).await?, stitching))
        };
        // Each request may wait `nats.request_timeout` for an absent broker: shutdown does not.
        let result = tokio::select! {
            _ = shutdown.cancelled() => return Ok(None),
            result = attempt_once => result,
        };
        match result {
            Ok(consumer) => {
                state.set_consumer_bound(true);
                return Ok(Some(consumer));
            }
            // While connected, a refusal is an answer (conflicting config, missing stream
            // with provision = false): stop and say so. While not, it is just the outage.
            Err(e) if state.is_connected() && attempt >= 3 => return Err(e),
            Err(e) => {
                attempt += 1;
                let delay = backoff(attempt + 2, settings.nats.reconnect_delay_max);
                tracing::warn!(error = %e, retry_in = ?delay, "cannot set up streams and consumer yet");
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(None),
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}

/// `n` permits of `semaphore`, or `None` once shutdown is asked for (shutdown wins a tie).
async fn acquire_or_stop(
    semaphore: &Arc<Semaphore>,
    n: u32,
    shutdown: &CancellationToken,
) -> Option<tokio::sync::OwnedSemaphorePermit> {
    tokio::select! {
        biased;
        _ = shutdown.cancelled() => None,
        permits = semaphore.clone().acquire_many_owned(n) => permits.ok(),
    }
}

/// Pulls batches sized to the free in-flight slots and the free part of the input byte budget,
/// and hands each page to its own task.
///
/// One pull request is open at a time and asks for no more pages than there are free slots,
/// and for no more bytes (`max_bytes`, enforced by the broker) than the budget's permits it
/// holds, so every delivered page is processed at once: none waits in a buffer while its ack
/// wait runs out, none is dropped at shutdown (the open request is read to its end), and the
/// input messages held never exceed the budget. A request always holds at least `one_message`
/// bytes (the server's `max_payload` with subjects), so the largest page can be delivered.
#[allow(clippy::too_many_arguments)]
async fn pull_loop(
    mut consumer: PullConsumer,
    js: &jetstream::Context,
    worker: Arc<worker::Worker>,
    tracker: &TaskTracker,
    settings: &Settings,
    state: &Arc<ServiceState>,
    (budget, one_message): (usize, usize),
    shutdown: &CancellationToken,
) -> Result<(), ServiceError> {
    let slots = Arc::new(Semaphore::new(settings.limits.max_in_flight));
    let batch_size = settings.input.batch_size.min(settings.limits.max_in_flight);
    // Permits are bytes. One request takes at most u32::MAX of them (acquire_many's bound).
    let bytes = Arc::new(Semaphore::new(budget));
    let one_message = one_message.min(budget).min(u32::MAX as usize);
    let request_cap = if settings.input.batch_max_bytes > 0 {
        settings.input.batch_max_bytes.max(one_message)
    } else {
        budget
    }
    .min(u32::MAX as usize);
    state.metrics().set_input_bytes_budget(budget);
    let mut failures = 0usize;
    loop {
        let Some(mut permits) = acquire_or_stop(&slots, batch_size as u32, shutdown).await else {
            return Ok(());
        };
        // Room for the largest message first, then whatever else of the budget is free now.
        let Some(mut room) = acquire_or_stop(&bytes, one_message as u32, shutdown).await else {
            return Ok(());
        };
        let more = bytes.available_permits().min(request_cap - one_message);
        if more > 0 {
            if let Ok(p) = bytes.clone().try_acquire_many_owned(more as u32) {
                room.merge(p);
            }
        }
        let request = jetstream::consumer::pull::BatchConfig {
            batch: batch_size,
            max_bytes: room.num_permits(),
            expires: Some(settings.input.pull_expires),
            ..Default::default()
        };
        let requested = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            requested = PullBatch::open(&consumer, js, request) => requested,
        };
        let mut batch = match requested {
            Ok(batch) => batch,
            Err(e) => {
                failures += 1;
                state.set_consumer_bound(false);
                let delay = backoff(failures, settings.nats.reconnect_delay_max);
                tracing::warn!(error = %e, retry_in = ?delay, "pull request failed");
                drop(permits);
                drop(room);
                if sleep_or_cancel(delay, shutdown).await {
                    return Ok(());
                }
                continue;
            }
        };
        let mut delivered = 0usize;
        let mut ended_with_error = None;
        while let Some(item) = batch.next().await {
            match item {
                Ok(message) => {
                    delivered += 1;
                    // A batch never delivers more than it asked for; should it ever, the page
                    // waits for a free slot instead of overrunning the bound.
                    let permit = match permits.split(1) {
                        Some(p) => p,
                        None => match slots.clone().acquire_owned().await {
                            Ok(p) => p,
                            Err(_) => return Ok(()),
                        },
                    };
                    let input = InputBytes::take(&bytes, &mut room, message.length, state).await;
                    let worker = worker.clone();
                    tracker.spawn(async move {
                        worker.handle(message).await;
                        drop(input);
                        drop(permit);
                    });
                }
                Err(e) => {
                    ended_with_error = Some(e);
                    break;
                }
            }
        }
        drop(permits);
        // What the delivered pages did not take goes back to the budget.
        drop(room);
        match ended_with_error {
            None => {
                failures = 0;
                state.set_consumer_bound(true);
            }
            Some(e) => {
                // Status errors end a pull request (consumer deleted, limits exceeded, server
                // restarted). Re-bind before the next pull so a recreated consumer is found.
                failures += 1;
                tracing::warn!(error = %e, delivered, "pull request ended with an error");
                state.set_consumer_bound(false);
                let delay = backoff(failures, settings.nats.reconnect_delay_max);
                if sleep_or_cancel(delay, shutdown).await {
                    return Ok(());
                }
                match nats::bind_consumer(js, settings).await {
                    Ok(c) => {
                        consumer = c;
                        state.set_consumer_bound(true);
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot re-bind the consumer yet"),
                }
            }
        }
    }
}

/// One pull request (`max_messages` and `max_bytes`) read to its end.
///
/// async-nats' `Batch` ends at the first 409 status. A request with `max_bytes` ends with one
/// even when all goes well: `409 Batch Completed` once it has its count of messages, or `409
/// Message Size Exceeds MaxBytes` when the next message would not fit. On a replicated
/// consumer (R3) the broker holds each delivery until its replicas have it, but sends those
/// statuses at once, so they overtake the request's last messages: a `Batch` ends early and
/// drops its subscription, and the messages still on their way go to an inbox nobody reads;
/// delivered, never processed, redelivered after the ack wait to the next request, which loses
/// them the same way (nothing was acked in a rolling restart of a 3-node cluster). So this
/// reads the status's `Nats-Pending-Messages`, the request's count it did not deliver, and
/// keeps reading until the rest has arrived (or `pull_expires` + 5 s have passed, as `Batch`).
struct PullBatch {
    subscriber: async_nats::Subscriber,
    context: jetstream::Context,
    /// Messages asked for, then, once an end status has said so, messages delivered.
    expected: usize,
    received: usize,
    deadline: tokio::time::Instant,
}

impl PullBatch {
    async fn open(
        consumer: &PullConsumer,
        js: &jetstream::Context,
        request: jetstream::consumer::pull::BatchConfig,
    ) -> Result<Self, async_nats::Error> {
        let client = js.client();
        let inbox = async_nats::Subject::from(client.new_inbox());
        let subscriber = client.subscribe(inbox.clone()).await?;
        let deadline = tokio::time::Instant::now()
            + request
                .expires
                .unwrap_or_default()
                .saturating_add(Duration::from_secs(5));
        let expected = request.batch;
        consumer.request_batch(request, inbox).await?;
        Ok(PullBatch {
            subscriber,
            context: js.clone(),
            expected,
            received: 0,
            deadline,
        })
    }

    /// The next delivered message; `None` at the request's end.
    async fn next(&mut self) -> Option<Result<jetstream::Message, async_nats::Error>> {
        use async_nats::StatusCode;
        loop {
            if self.received >= self.expected {
                return None;
            }
            let message = match tokio::time::timeout_at(self.deadline, self.subscriber.next()).await
            {
                Ok(Some(m)) => m,
                // Deliveries still missing now were lost with a leader: the ack wait
                // brings them back.
                Ok(None) | Err(_) => return None,
            };
            match message.status {
                None | Some(StatusCode::OK) => {
                    self.received += 1;
                    return Some(Ok(jetstream::Message {
                        message,
                        context: self.context.clone(),
                    }));
                }
                Some(StatusCode::IDLE_HEARTBEAT) => continue,
                Some(StatusCode::TIMEOUT) | Some(StatusCode::NOT_FOUND) => return None,
                Some(StatusCode::REQUEST_TERMINATED) if ends_normally(&message) => {
                    let not_delivered = message
                        .headers
                        .as_ref()
                        .and_then(|h| h.get("Nats-Pending-Messages"))
                        .and_then(|v| v.as_str().parse::<usize>().ok());
                    match not_delivered {
                        Some(n) => self.expected = self.expected.saturating_sub(n),
                        None => return None,
                    }
                }
                Some(status) => {
                    return Some(Err(format!(
                        "error while processing messages from the stream: {status}, {:?}",
                        message.description
                    )
                    .into()))
                }
            }
        }
    }
}

/// The 409 statuses that end a pull request with `max_bytes` in the normal course: its count
/// of messages delivered with bytes to spare, or its next message larger than the bytes left
/// (the broker keeps it for the next request).
fn ends_normally(status: &async_nats::Message) -> bool {
    status.description.as_deref().is_some_and(|d| {
        let d = d.to_ascii_lowercase();
        d.contains("batch completed") || d.contains("message size exceeds maxbytes")
    })
}

/// One delivered page's share of the input byte budget, held by its task until the page is
/// acked, termed or nak-ed, and counted in `pagewire_in_flight_input_bytes` meanwhile.
struct InputBytes {
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
    size: usize,
    state: Arc<ServiceState>,
}

impl InputBytes {
    /// Takes `size` bytes out of the request's `room`. The broker counts a message as
    /// `message.length` does and never delivers more than the request's `max_bytes`, so the
    /// room always suffices; should it not, the rest is waited for from the budget (pages in
    /// flight give theirs back as they finish), the page counted from its delivery on.
    async fn take(
        budget: &Arc<Semaphore>,
        room: &mut tokio::sync::OwnedSemaphorePermit,
        size: usize,
        state: &Arc<ServiceState>,
    ) -> Self {
        state.metrics().input_delivered(size);
        let permit = match room.split(size) {
            Some(p) => Some(p),
            None => {
                let mut p = room.split(room.num_permits());
                let missing = size - p.as_ref().map_or(0, |p| p.num_permits());
                tracing::warn!(
                    size,
                    missing,
                    "a pull request delivered more bytes than it asked for"
                );
                let more = u32::try_from(missing).unwrap_or(u32::MAX);
                if let Ok(more) = budget.clone().acquire_many_owned(more).await {
                    match &mut p {
                        Some(p) => p.merge(more),
                        None => p = Some(more),
                    }
                }
                p
            }
        };
        InputBytes {
            _permit: permit,
            size,
            state: state.clone(),
        }
    }
}

impl Drop for InputBytes {
    fn drop(&mut self) {
        self.state.metrics().input_released(self.size);
    }
}

/// Sleeps for `delay`; true when shutdown came first.
async fn sleep_or_cancel(delay: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => true,
        _ = tokio::time::sleep(delay) => false,
    }
}

/// Header pairs in a stable order (by name, values in received order): what the envelope reads
/// of a message's headers, for the worker and for the stitcher parsing a page again.
fn header_pairs(headers: Option<&async_nats::HeaderMap>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = headers
        .into_iter()
        .flat_map(|h| h.iter())
        .flat_map(|(name, values)| {
            values
                .iter()
                .map(move |v| (name.to_string(), v.as_str().to_owned()))
        })
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs
}
