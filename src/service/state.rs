//! What the running service knows about itself: connection, consumer binding, counters.
//!
//! One `Arc<ServiceState>` is shared by the connection's event callback, the pull loop and every
//! page task; the HTTP probes ([`super::http`]) and the metrics ([`Metrics`]) read it. Plain
//! atomics: no lock is ever held across an await.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::metrics::Metrics;

/// Live state of one service instance.
#[derive(Debug, Default)]
pub struct ServiceState {
    /// The client has a live connection to a server.
    connected: AtomicBool,
    /// The durable consumer exists and the last pull request was accepted.
    consumer_bound: AtomicBool,
    /// Shutdown has begun: no new pulls, in-flight pages finishing.
    draining: AtomicBool,
    /// Pages currently being processed.
    in_flight: AtomicU64,
    /// Pages whose outputs all have PubAcks and that were acked.
    pages_acked: AtomicU64,
    /// Pages set aside on the dead-letter topic and termed.
    pages_dead_lettered: AtomicU64,
    /// Pages nak-ed after a transient failure (each nak counts once).
    pages_retried: AtomicU64,
    /// Output messages stored (PubAck received, including duplicates).
    messages_published: AtomicU64,
    /// Output messages the broker reported as duplicates (already stored; not stored again).
    messages_duplicate: AtomicU64,
    /// Times the connection was lost.
    disconnects: AtomicU64,
    /// A connection has been made at least once (so the next one is a reconnect).
    ever_connected: AtomicBool,
    /// Pages whose dead letter could not be stored, nak-ed to come back: (stream, sequence) ->
    /// when it was last tried here. Read as `pagewire_dead_letters_waiting`.
    waiting: Mutex<HashMap<(String, u64), Instant>>,
    /// How long a waiting page counts without being tried again here (it may have gone to
    /// another replica): set from the ack wait and the nak delay at start; 0 means 5 minutes.
    waiting_horizon_ms: AtomicU64,
    /// Prometheus metrics, recorded alongside the counters above.
    metrics: Metrics,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// See [`ServiceState::is_connected`].
    pub connected: bool,
    /// The durable consumer is bound.
    pub consumer_bound: bool,
    /// Shutdown has begun.
    pub draining: bool,
    /// Pages being processed.
    pub in_flight: u64,
    /// Pages acked.
    pub pages_acked: u64,
    /// Pages dead-lettered.
    pub pages_dead_lettered: u64,
    /// Naks sent.
    pub pages_retried: u64,
    /// Output messages with a PubAck.
    pub messages_published: u64,
    /// Of those, duplicates.
    pub messages_duplicate: u64,
    /// Connection losses.
    pub disconnects: u64,
}

impl ServiceState {
    /// Ready to take work: connected, consumer bound, not shutting down.
    pub fn is_ready(&self) -> bool {
        self.is_connected() && self.consumer_bound.load(Relaxed) && !self.draining.load(Relaxed)
    }

    /// Why the instance is not ready, or `None` when it is: the `/readyz` answer.
    pub fn not_ready_reason(&self) -> Option<&'static str> {
        if self.draining.load(Relaxed) {
            Some("draining: shutting down")
        } else if !self.is_connected() {
            Some("not connected to nats")
        } else if !self.consumer_bound.load(Relaxed) {
            Some("consumer not bound")
        } else {
            None
        }
    }

    /// The metrics of this instance.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The `/metrics` body: the metrics with the gauges mirrored from this state set now.
    pub fn encode_metrics(&self) -> String {
        self.metrics.encode(
            self.in_flight.load(Relaxed),
            self.is_connected(),
            self.is_ready(),
            self.dead_letters_waiting() as u64,
        )
    }

    /// Pages this instance could not dead-letter and nak-ed, still waiting for their dead
    /// letter (tried here within the horizon and not stored since).
    pub fn dead_letters_waiting(&self) -> usize {
        let horizon = match self.waiting_horizon_ms.load(Relaxed) {
            0 => Duration::from_secs(300),
            ms => Duration::from_millis(ms),
        };
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        waiting.retain(|_, tried| tried.elapsed() <= horizon);
        waiting.len()
    }

    /// How long a waiting page counts after it was last tried here.
    pub(crate) fn set_waiting_horizon(&self, horizon: Duration) {
        self.waiting_horizon_ms
            .store(horizon.as_millis().max(1) as u64, Relaxed);
    }

    pub(crate) fn dead_letter_failed(&self, stream: &str, sequence: u64) {
        self.metrics.dead_letter_failed();
        self.waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((stream.to_owned(), sequence), Instant::now());
    }

    /// Whether the client currently has a live connection.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Relaxed)
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            connected: self.connected.load(Relaxed),
            consumer_bound: self.consumer_bound.load(Relaxed),
            draining: self.draining.load(Relaxed),
            in_flight: self.in_flight.load(Relaxed),
            pages_acked: self.pages_acked.load(Relaxed),
            pages_dead_lettered: self.pages_dead_lettered.load(Relaxed),
            pages_retried: self.pages_retried.load(Relaxed),
            messages_published: self.messages_published.load(Relaxed),
            messages_duplicate: self.messages_duplicate.load(Relaxed),
            disconnects: self.disconnects.load(Relaxed),
        }
    }

    pub(crate) fn set_connected(&self, up: bool) {
        let was = self.connected.swap(up, Relaxed);
        if was && !up {
            self.disconnects.fetch_add(1, Relaxed);
        }
        if !was && up && self.ever_connected.swap(true, Relaxed) {
            self.metrics.reconnected();
        }
    }
    pub(crate) fn set_consumer_bound(&self, bound: bool) {
        self.consumer_bound.store(bound, Relaxed);
    }
    pub(crate) fn set_draining(&self) {
        self.draining.store(true, Relaxed);
    }
    pub(crate) fn page_started(&self) {
        self.in_flight.fetch_add(1, Relaxed);
    }
    pub(crate) fn page_finished(&self) {
        self.in_flight.fetch_sub(1, Relaxed);
    }
    pub(crate) fn page_acked(&self, published: u64, duplicates: u64, took: Duration) {
        self.metrics.page_published(took);
        self.pages_acked.fetch_add(1, Relaxed);
        self.messages_published.fetch_add(published, Relaxed);
        self.messages_duplicate.fetch_add(duplicates, Relaxed);
    }
    pub(crate) fn page_dead_lettered(&self, code: &'static str, stream: &str, sequence: u64) {
        self.metrics.page_dead_lettered(code);
        self.pages_dead_lettered.fetch_add(1, Relaxed);
        self.waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(stream.to_owned(), sequence));
    }
    pub(crate) fn page_retried(&self) {
        self.metrics.page_retried();
        self.pages_retried.fetch_add(1, Relaxed);
    }
}

/// Counts a page as in flight for as long as it lives (also when its task is aborted).
pub(crate) struct InFlight<'a>(pub(crate) &'a ServiceState);

impl<'a> InFlight<'a> {
    pub(crate) fn new(state: &'a ServiceState) -> Self {
        state.page_started();
        InFlight(state)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.page_finished();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_reasons_name_the_first_thing_missing() {
        let s = ServiceState::default();
        assert_eq!(s.not_ready_reason(), Some("not connected to nats"));
        s.set_connected(true);
        assert_eq!(s.not_ready_reason(), Some("consumer not bound"));
        s.set_consumer_bound(true);
        assert_eq!(s.not_ready_reason(), None);
        assert!(s.is_ready());
        s.set_draining();
        assert_eq!(s.not_ready_reason(), Some("draining: shutting down"));
        assert!(!s.is_ready());
    }

    #[test]
    fn a_page_waits_for_its_dead_letter_until_it_is_stored_or_the_horizon_passes() {
        let s = ServiceState::default();
        s.dead_letter_failed("PAGES", 7);
        s.dead_letter_failed("PAGES", 7);
        s.dead_letter_failed("PAGES", 8);
        assert_eq!(s.dead_letters_waiting(), 2);
        assert!(s
            .encode_metrics()
            .contains("pagewire_dead_letters_waiting 2"));
        s.page_dead_lettered("retries_exhausted", "PAGES", 7);
        assert_eq!(s.dead_letters_waiting(), 1);
        s.set_waiting_horizon(Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(s.dead_letters_waiting(), 0, "gone to another replica");
    }

    #[test]
    fn only_a_regained_connection_counts_as_a_reconnect() {
        let s = ServiceState::default();
        s.set_connected(true);
        assert!(!s.encode_metrics().contains("pagewire_reconnects_total 1"));
        s.set_connected(false);
        s.set_connected(true);
        assert!(s.encode_metrics().contains("pagewire_reconnects_total 1"));
        assert_eq!(s.snapshot().disconnects, 1);
    }
}
