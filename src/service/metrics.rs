//! The Prometheus metrics of one service instance, for `GET /metrics`.
//!
//! Every metric is named `pagewire_*` and every label has a bounded set of values: outcome
//! (`published`, `dead_lettered`, `retried`), topic (`search`, `archive`, `alert`, `pages`,
//! `dlq`), article kind, and the stable dead-letter codes. Nothing per page, per publication or
//! per subject becomes a label: those belong in logs and in `pagewire status`.
//!
//! Counters and histograms are recorded where things happen (the worker, the connection
//! callback); gauges that mirror [`super::ServiceState`] are set at scrape time, and the
//! consumer lag gauges by a poller of JetStream's consumer info.

use std::fmt;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

/// `Content-Type` of the `/metrics` body (the OpenMetrics text format Prometheus negotiates).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The crate version, as in `pagewire --version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit this binary was built from (`unknown` without git at build time).
pub const GIT_COMMIT: &str = env!("BUILD_GIT_COMMIT");

/// What became of a page.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    /// `published`, `dead_lettered`, `retried`.
    outcome: &'static str,
}

/// An article message by output topic and article kind.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TopicKindLabels {
    /// `search`, `archive`, `alert`.
    topic: &'static str,
    /// `story`, `brief`, `photo`, `teaser`, `fragment`, `other`.
    kind: &'static str,
}

/// An output topic.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TopicLabel {
    /// `search`, `archive`, `alert`, `pages`, `dlq`.
    topic: &'static str,
}

/// A dead-letter code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    /// One of the stable codes (`bad_envelope`, `retries_exhausted`, ...).
    code: &'static str,
}

/// A part of a dead letter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PartLabel {
    /// `payload`, `reason`, `headers`.
    part: &'static str,
}

/// Version and commit of the running binary.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    /// Crate version.
    version: &'static str,
    /// Git commit (12 hex digits) or `unknown`.
    git_commit: &'static str,
}

/// Every metric of one instance, registered once.
pub struct Metrics {
    /// The registry the text encoder walks; holds clones (shared handles) of the fields below.
    registry: Registry,
    /// `pagewire_pages_total{outcome}`: pages by their fate.
    pages: Family<OutcomeLabel, Counter>,
    /// `pagewire_articles_published_total{topic,kind}`: article messages with a PubAck.
    articles_published: Family<TopicKindLabels, Counter>,
    /// `pagewire_duplicates_total{topic}`: output messages the stream had already stored.
    duplicates: Family<TopicLabel, Counter>,
    /// `pagewire_dead_letters_total{code}`: dead letters stored.
    dead_letters: Family<CodeLabel, Counter>,
    /// `pagewire_dead_letter_cuts_total{part}`: dead letters stored without their copy of the
    /// input's `payload` or `headers`, or with their `reason` cut, to fit `max_payload`.
    dead_letter_cuts: Family<PartLabel, Counter>,
    /// `pagewire_dead_letter_failures_total`: dead letters the broker did not store; the page
    /// was nak-ed to come back.
    dead_letter_failures: Counter,
    /// `pagewire_dead_letters_waiting`: pages waiting for their dead letter to be stored (set
    /// at scrape time).
    dead_letters_waiting: Gauge,
    /// `pagewire_redeliveries_total`: deliveries of a page that had been delivered before.
    redeliveries: Counter,
    /// `pagewire_page_duration_seconds`: received to last PubAck, for published pages.
    page_duration: Histogram,
    /// `pagewire_publish_ack_duration_seconds`: one publish to its PubAck.
    publish_ack_duration: Histogram,
    /// `pagewire_in_flight_pages`: pages being processed (set at scrape time).
    in_flight: Gauge,
    /// `pagewire_in_flight_input_bytes`: bytes of the input messages delivered and not yet
    /// acked, termed or nak-ed, as the broker counts them against a pull's `max_bytes`.
    in_flight_input_bytes: Gauge,
    /// `pagewire_in_flight_input_bytes_max`: the most `in_flight_input_bytes` has been since
    /// start (a high-water mark, so a scrape sees a peak between scrapes).
    in_flight_input_bytes_max: Gauge,
    /// `pagewire_input_bytes_budget`: the input byte budget in force
    /// (`limits.max_in_flight_bytes`, or derived).
    input_bytes_budget: Gauge,
    /// `pagewire_consumer_pending`: pages in the input stream not yet delivered.
    consumer_pending: Gauge,
    /// `pagewire_consumer_ack_pending`: pages delivered and not yet acked.
    consumer_ack_pending: Gauge,
    /// `pagewire_consumer_redelivered`: pages delivered more than once and not yet acked.
    consumer_redelivered: Gauge,
    /// `pagewire_connected`: 1 while connected to NATS (set at scrape time).
    connected: Gauge,
    /// `pagewire_ready`: 1 while `/readyz` answers 200 (set at scrape time).
    ready: Gauge,
    /// `pagewire_reconnects_total`: connections regained after a loss.
    reconnects: Counter,
    /// `pagewire_parse_requests_total{outcome}`: `pagewire.parse` requests answered.
    parse_requests: Family<OutcomeLabel, Counter>,
    /// `pagewire_build_info{version,git_commit}`: always 1.
    build_info: Family<BuildLabels, Gauge>,
    /// `pagewire_retries_in_place_total`: broker trouble retried within a delivery
    /// (`retry.hold`) instead of a nak.
    retries_in_place: Counter,
    /// `pagewire_stitched_total`: jumped articles stitched from their parts.
    stitched: Counter,
    /// `pagewire_linked_total`: see-also pointers linked to the article they announce.
    linked: Counter,
    /// `pagewire_unresolved_jumps_total`: halves reported unresolved (orphaned) at the timeout.
    unresolved: Counter,
    /// `pagewire_unresolved_references_total`: articles whose see-also pointer found no target
    /// by the timeout.
    unresolved_references: Counter,
    /// `pagewire_stitch_skipped_total{reason}`: pages published without stitching.
    stitch_skipped: Family<ReasonLabel, Counter>,
    /// `pagewire_stitch_conflicts_total`: issue-index writes lost to another writer and retried.
    stitch_conflicts: Counter,
    /// `pagewire_stitch_leader_reads_total{outcome}`: page records a direct get did not find,
    /// read again from the bucket's stream leader: `found` (a replica had not applied it yet) or
    /// `missing` (gone: past `stitch.retention`).
    stitch_leader_reads: Family<OutcomeLabel, Counter>,
    /// `pagewire_stitch_source_reads_total{outcome}`: page records not stored in the bucket,
    /// parsed again from the page's input message when a later page named the page: `parsed`,
    /// `gone` (the message left the input stream) or `changed` (it parses into another record
    /// now); the last two leave the page out.
    stitch_source_reads: Family<OutcomeLabel, Counter>,
}

/// Why a page was not stitched.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    /// `issue_full`, `record_too_large`, `internal_error`.
    reason: &'static str,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric under the `pagewire_` prefix.
    pub fn new() -> Self {
        let mut root = Registry::default();
        let r = root.sub_registry_with_prefix("pagewire");
        let m = Metrics {
            registry: Registry::default(),
            pages: Family::default(),
            articles_published: Family::default(),
            duplicates: Family::default(),
            dead_letters: Family::default(),
            dead_letter_cuts: Family::default(),
            dead_letter_failures: Counter::default(),
            dead_letters_waiting: Gauge::default(),
            redeliveries: Counter::default(),
            // 1ms .. ~16s
            page_duration: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            // 0.5ms .. ~4s
            publish_ack_duration: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            in_flight: Gauge::default(),
            in_flight_input_bytes: Gauge::default(),
            in_flight_input_bytes_max: Gauge::default(),
            input_bytes_budget: Gauge::default(),
            consumer_pending: Gauge::default(),
            consumer_ack_pending: Gauge::default(),
            consumer_redelivered: Gauge::default(),
            connected: Gauge::default(),
            ready: Gauge::default(),
            reconnects: Counter::default(),
            parse_requests: Family::default(),
            build_info: Family::default(),
            retries_in_place: Counter::default(),
            stitched: Counter::default(),
            linked: Counter::default(),
            unresolved: Counter::default(),
            unresolved_references: Counter::default(),
            stitch_skipped: Family::default(),
            stitch_conflicts: Counter::default(),
            stitch_leader_reads: Family::default(),
            stitch_source_reads: Family::default(),
        };
        r.register(
            "pages",
            "Pages by outcome: published (every output has its PubAck, then acked), dead_lettered (set aside with a code, then termed), retried (nak-ed after a transient failure)",
            m.pages.clone(),
        );
        r.register(
            "articles_published",
            "Article messages with a PubAck, by output topic and article kind (duplicates included)",
            m.articles_published.clone(),
        );
        r.register(
            "duplicates",
            "Output messages the stream had already stored (Nats-Msg-Id within the duplicate window), by topic",
            m.duplicates.clone(),
        );
        r.register(
            "dead_letters",
            "Dead letters stored, by error code",
            m.dead_letters.clone(),
        );
        r.register(
            "dead_letter_cuts",
            "Dead letters stored with a part left out to fit the broker's max_payload, by part: payload (the copy of the input's body; the input stays in its stream), reason (cut to its first 512 bytes), headers (the copy of the input's headers)",
            m.dead_letter_cuts.clone(),
        );
        for part in ["payload", "reason", "headers"] {
            let _ = m.dead_letter_cuts.get_or_create(&PartLabel { part });
        }
        r.register(
            "dead_letter_failures",
            "Dead letters the broker did not store (dead-letter stream missing, full or unavailable); the page was nak-ed and comes back until its dead letter is stored",
            m.dead_letter_failures.clone(),
        );
        r.register(
            "dead_letters_waiting",
            "Pages this replica could not dead-letter yet: nak-ed, kept in the input stream, waiting for the dead-letter stream",
            m.dead_letters_waiting.clone(),
        );
        r.register(
            "redeliveries",
            "Deliveries of a page that had been delivered before",
            m.redeliveries.clone(),
        );
        r.register_with_unit(
            "page_duration",
            "Time from receiving a page to the last PubAck of its outputs, for published pages",
            Unit::Seconds,
            m.page_duration.clone(),
        );
        r.register_with_unit(
            "publish_ack_duration",
            "Time from one publish to its PubAck",
            Unit::Seconds,
            m.publish_ack_duration.clone(),
        );
        r.register(
            "in_flight_pages",
            "Pages being processed now",
            m.in_flight.clone(),
        );
        r.register(
            "in_flight_input_bytes",
            "Bytes of input messages delivered and not yet acked, termed or nak-ed (subject, reply subject, headers and body, as the broker counts them against a pull's max_bytes)",
            m.in_flight_input_bytes.clone(),
        );
        r.register(
            "in_flight_input_bytes_max",
            "The most pagewire_in_flight_input_bytes has been since start; never above pagewire_input_bytes_budget",
            m.in_flight_input_bytes_max.clone(),
        );
        r.register(
            "input_bytes_budget",
            "The input byte budget in force: limits.max_in_flight_bytes, or derived from the other limits and the server's max_payload",
            m.input_bytes_budget.clone(),
        );
        r.register(
            "consumer_pending",
            "Pages in the input stream not yet delivered to the consumer (JetStream consumer info)",
            m.consumer_pending.clone(),
        );
        r.register(
            "consumer_ack_pending",
            "Pages delivered and not yet acked (JetStream consumer info)",
            m.consumer_ack_pending.clone(),
        );
        r.register(
            "consumer_redelivered",
            "Pages delivered more than once and not yet acked (JetStream consumer info)",
            m.consumer_redelivered.clone(),
        );
        r.register(
            "connected",
            "1 while connected to a NATS server",
            m.connected.clone(),
        );
        r.register(
            "ready",
            "1 while ready: connected, consumer bound, not draining (what /readyz answers)",
            m.ready.clone(),
        );
        r.register(
            "reconnects",
            "Connections to NATS regained after a loss",
            m.reconnects.clone(),
        );
        r.register(
            "parse_requests",
            "Requests to the pagewire.parse endpoint by outcome: ok, rejected (bad input), failed",
            m.parse_requests.clone(),
        );
        r.register(
            "build_info",
            "Version and git commit of the running binary (always 1)",
            m.build_info.clone(),
        );
        r.register(
            "retries_in_place",
            "Attempts at a page's outputs repeated within its delivery after broker trouble (retry.hold), instead of a nak that spends a delivery",
            m.retries_in_place.clone(),
        );
        r.register(
            "stitched",
            "Jumped articles stitched from their printed parts (a new stitched version published)",
            m.stitched.clone(),
        );
        r.register(
            "linked",
            "See-also pointers (teasers, photo stories) linked to the article they announce",
            m.linked.clone(),
        );
        r.register(
            "unresolved_jumps",
            "Jump halves reported unresolved (orphaned): no partner within stitch.timeout",
            m.unresolved.clone(),
        );
        r.register(
            "unresolved_references",
            "Articles whose see-also pointer (a teaser, a photo story) found no target article within stitch.timeout",
            m.unresolved_references.clone(),
        );
        r.register(
            "stitch_skipped",
            "Pages published without stitching, by reason: issue_full, record_too_large, internal_error",
            m.stitch_skipped.clone(),
        );
        r.register(
            "stitch_conflicts",
            "Issue-index writes that lost a compare-and-set to another writer and were retried",
            m.stitch_conflicts.clone(),
        );
        r.register(
            "stitch_leader_reads",
            "Page records a direct get (answered by any replica of the bucket) did not find, read again from the stream leader, by outcome: found (a lagging replica), missing (past stitch.retention)",
            m.stitch_leader_reads.clone(),
        );
        r.register(
            "stitch_source_reads",
            "Page records not stored in the stitch bucket, parsed again from the page's input message when a later page named the page, by outcome: parsed, gone (the message left the input stream; page left out), changed (it parses into another record now; page left out)",
            m.stitch_source_reads.clone(),
        );
        for reason in ["issue_full", "record_too_large", "internal_error"] {
            let _ = m.stitch_skipped.get_or_create(&ReasonLabel { reason });
        }
        for outcome in ["found", "missing"] {
            let _ = m
                .stitch_leader_reads
                .get_or_create(&OutcomeLabel { outcome });
        }
        for outcome in ["parsed", "gone", "changed"] {
            let _ = m
                .stitch_source_reads
                .get_or_create(&OutcomeLabel { outcome });
        }
        // Known outcomes start at 0, so rate() and "no throughput" alerts see a series from the
        // first scrape on.
        for outcome in ["published", "dead_lettered", "retried"] {
            let _ = m.pages.get_or_create(&OutcomeLabel { outcome });
        }
        for outcome in ["ok", "rejected", "failed"] {
            let _ = m.parse_requests.get_or_create(&OutcomeLabel { outcome });
        }
        m.build_info
            .get_or_create(&BuildLabels {
                version: VERSION,
                git_commit: GIT_COMMIT,
            })
            .set(1);
        Metrics {
            registry: root,
            ..m
        }
    }

    /// The text exposition, with the scrape-time gauges set first.
    pub fn encode(
        &self,
        in_flight: u64,
        connected: bool,
        ready: bool,
        dead_letters_waiting: u64,
    ) -> String {
        self.in_flight.set(in_flight as i64);
        self.dead_letters_waiting.set(dead_letters_waiting as i64);
        self.connected.set(connected.into());
        self.ready.set(ready.into());
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    pub(crate) fn set_input_bytes_budget(&self, bytes: usize) {
        self.input_bytes_budget.set(bytes as i64);
    }

    /// A message of `bytes` was delivered: counted until [`Metrics::input_released`].
    pub(crate) fn input_delivered(&self, bytes: usize) {
        let now = self.in_flight_input_bytes.inc_by(bytes as i64) + bytes as i64;
        self.in_flight_input_bytes_max
            .inner()
            .fetch_max(now, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn input_released(&self, bytes: usize) {
        self.in_flight_input_bytes.dec_by(bytes as i64);
    }

    pub(crate) fn page_published(&self, took: Duration) {
        self.pages
            .get_or_create(&OutcomeLabel {
                outcome: "published",
            })
            .inc();
        self.page_duration.observe(took.as_secs_f64());
    }

    pub(crate) fn page_dead_lettered(&self, code: &'static str) {
        self.pages
            .get_or_create(&OutcomeLabel {
                outcome: "dead_lettered",
            })
            .inc();
        self.dead_letters.get_or_create(&CodeLabel { code }).inc();
    }

    pub(crate) fn dead_letter_cut(&self, part: &'static str) {
        self.dead_letter_cuts
            .get_or_create(&PartLabel { part })
            .inc();
    }

    pub(crate) fn dead_letter_failed(&self) {
        self.dead_letter_failures.inc();
    }

    pub(crate) fn page_retried(&self) {
        self.pages
            .get_or_create(&OutcomeLabel { outcome: "retried" })
            .inc();
    }

    pub(crate) fn redelivered(&self) {
        self.redeliveries.inc();
    }

    pub(crate) fn reconnected(&self) {
        self.reconnects.inc();
    }

    /// One output message stored (or found already stored).
    pub(crate) fn output_acked(
        &self,
        topic: &'static str,
        kind: Option<&'static str>,
        duplicate: bool,
        took: Duration,
    ) {
        self.publish_ack_duration.observe(took.as_secs_f64());
        if let Some(kind) = kind {
            self.articles_published
                .get_or_create(&TopicKindLabels { topic, kind })
                .inc();
        }
        if duplicate {
            self.duplicates.get_or_create(&TopicLabel { topic }).inc();
        }
    }

    pub(crate) fn parse_request(&self, outcome: &'static str) {
        self.parse_requests
            .get_or_create(&OutcomeLabel { outcome })
            .inc();
    }

    pub(crate) fn retried_in_place(&self) {
        self.retries_in_place.inc();
    }

    pub(crate) fn stitched(&self, n: u64) {
        self.stitched.inc_by(n);
    }

    pub(crate) fn linked(&self, n: u64) {
        self.linked.inc_by(n);
    }

    pub(crate) fn unresolved(&self) {
        self.unresolved.inc();
    }

    pub(crate) fn unresolved_reference(&self) {
        self.unresolved_references.inc();
    }

    pub(crate) fn stitch_skipped(&self, reason: &'static str) {
        self.stitch_skipped
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    pub(crate) fn stitch_conflict(&self) {
        self.stitch_conflicts.inc();
    }

    pub(crate) fn stitch_leader_read(&self, found: bool) {
        let outcome = if found { "found" } else { "missing" };
        self.stitch_leader_reads
            .get_or_create(&OutcomeLabel { outcome })
            .inc();
    }

    pub(crate) fn stitch_source_read(&self, outcome: &'static str) {
        self.stitch_source_reads
            .get_or_create(&OutcomeLabel { outcome })
            .inc();
    }

    /// Consumer lag as JetStream last reported it.
    pub(crate) fn set_consumer_lag(&self, pending: u64, ack_pending: u64, redelivered: u64) {
        self.consumer_pending.set(pending as i64);
        self.consumer_ack_pending.set(ack_pending as i64);
        self.consumer_redelivered.set(redelivered as i64);
    }
}

/// The `kind` label for a `Pagewire-Kind` header value; anything unexpected is `other`, so the
/// label set stays bounded whatever the parser grows.
pub(crate) fn kind_label(kind: &str) -> &'static str {
    match kind {
        "story" => "story",
        "brief" => "brief",
        "photo" => "photo",
        "teaser" => "teaser",
        "fragment" => "fragment",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_prefixed_and_build_info_is_one() {
        let m = Metrics::new();
        m.page_published(Duration::from_millis(3));
        m.page_dead_lettered("bad_envelope");
        m.output_acked("search", Some("story"), true, Duration::from_millis(1));
        let text = m.encode(2, true, false, 0);
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("pagewire_"), "{line}");
        }
        assert!(text.contains("pagewire_pages_total{outcome=\"published\"} 1"));
        assert!(text.contains("pagewire_dead_letters_total{code=\"bad_envelope\"} 1"));
        assert!(
            text.contains("pagewire_articles_published_total{topic=\"search\",kind=\"story\"} 1")
        );
        assert!(text.contains("pagewire_duplicates_total{topic=\"search\"} 1"));
        assert!(text.contains("pagewire_in_flight_pages 2"));
        assert!(text.contains("pagewire_connected 1"));
        assert!(text.contains("pagewire_ready 0"));
        assert!(text.contains("pagewire_page_duration_seconds_count 1"));
        assert!(text.contains(&format!(
            "pagewire_build_info{{version=\"{VERSION}\",git_commit=\"{GIT_COMMIT}\"}} 1"
        )));
    }

    #[test]
    fn unknown_kinds_share_one_label_value() {
        assert_eq!(kind_label("story"), "story");
        assert_eq!(kind_label("17"), "other");
    }
}
