//! The shell around [`crate::stitch`]: issue indexes and page records in a JetStream key-value
//! bucket, timers in a stream with a shared durable consumer.
//!
//! Per page: store the page's record (immutable, keyed by its hash) when a cross-page reference
//! connects the page to another (otherwise the input stream keeps its message, parsed again into
//! the record should a later page name it: [`Source`]), register the page in its
//! issue's index (protobuf) by compare-and-set, read the records of the pages connected to it
//! by cross-page references ([`stitch::reads_for_page`]; none for a page without any), and let
//! the pure core plan what to publish, on the blocking pool. Per timer: once the timeout has passed, report the half unresolved by
//! compare-and-set (unless its partner came) and publish what the core plans for that.
//!
//! Nothing here is kept only in memory: the record cache holds immutable values, and the
//! per-issue lock only spares this replica's own compare-and-set retries. A replica that dies
//! anywhere leaves the input page (or timer) unacked; whoever gets it next repeats the steps,
//! and every step is idempotent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, consumer::PullConsumer, kv, stream, AckKind};
use futures::StreamExt as _;
use prost::Message as _;
use tokio_util::sync::CancellationToken;

use super::publish::Publisher;
use super::{ServiceError, ServiceState};
use crate::config::{Settings, StitchSettings, Storage};
use crate::envelope::Incoming;
use crate::pipeline::{Pipeline, Processed, Work};
use crate::proto::{Page, RawPage};
use crate::route::{self, Outbound, Timer, Topics};
use crate::stitch::{self, IssueIndex, Plan, Record, Records};

/// Compare-and-set attempts on one issue index before the page is retried later.
const CAS_ATTEMPTS: usize = 64;
/// Bytes of records kept in memory; the cache is emptied when it grows past this. Steps read
/// only the records of pages connected to theirs, so this is a small working set.
const CACHE_BYTES: usize = 8 * 1024 * 1024;
/// Record reads one step has in flight at once: with records of up to `max_payload` bytes,
/// what the broker sends this connection for one step is bounded, whatever the issue's size.
const READ_CONCURRENCY: usize = 4;

/// Why the stitch state could not be read or written: broker trouble, retried like a failed
/// publish.
#[derive(Debug, thiserror::Error)]
pub enum StitchError {
    /// A key-value operation failed.
    #[error("stitch state {key}: {source}")]
    Kv {
        /// The key.
        key: String,
        /// The client's error.
        source: async_nats::Error,
    },
    /// The batch the page was registered in failed so (the error as its leader met it).
    #[error("{0}")]
    Batch(Arc<StitchError>),
    /// Other replicas kept changing the index.
    #[error("issue index {0} still contended after {CAS_ATTEMPTS} attempts")]
    Contended(String),
    /// The stored index is not one pagewire wrote.
    #[error("issue index {key} is unreadable: {reason}")]
    Corrupt {
        /// The key.
        key: String,
        /// What failed.
        reason: String,
    },
}

fn kv_error(key: &str, e: impl Into<async_nats::Error>) -> StitchError {
    StitchError::Kv {
        key: key.to_owned(),
        source: e.into(),
    }
}

/// Why a page is published as parsed, without stitching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// The issue has `stitch.max_pages_per_issue` pages already.
    IssueFull,
    /// The page's record does not fit in one key-value message.
    RecordTooLarge,
    /// Composing panicked: a bug in pagewire, logged; the page still goes out as parsed.
    InternalError,
}

impl Skip {
    /// The `reason` label of `pagewire_stitch_skipped_total`.
    pub fn label(self) -> &'static str {
        match self {
            Skip::IssueFull => "issue_full",
            Skip::RecordTooLarge => "record_too_large",
            Skip::InternalError => "internal_error",
        }
    }
}

/// What the stitcher makes of a page.
pub(super) enum Planned {
    /// Registered in its issue.
    Stitched {
        /// What to publish of the page and of the articles elsewhere its step changed.
        plan: Plan,
        /// Timer messages, one per half the plan leaves waiting.
        timers: Vec<Outbound>,
    },
    /// Published as parsed, without stitching.
    Skipped(Skip),
}

/// One page to register: what the pure core's [`stitch::register`] takes.
#[derive(Clone)]
struct Registration {
    number: u32,
    label: String,
    hash: String,
    record: Arc<Record>,
    /// The record's bytes when they are not in the bucket yet (a page without cross-page
    /// references, whose input message is in the input stream): put by the batch leader only
    /// if the index connects the page to another ([`stitch::stores_record`]).
    unstored: Option<bytes::Bytes>,
    /// The stream sequence of the page's message in the input stream (0: unknown).
    source_seq: u64,
}

/// A registration's plan, or why the page goes out as parsed.
enum Registered {
    /// Registered: what to publish.
    Plan(Plan),
    /// Not registered.
    Skipped(Skip),
}

/// What a queued registration hears back.
enum Answer {
    /// Its batch was registered.
    Done(Result<Registered, StitchError>),
    /// It leads the next batch.
    Lead,
}

struct Queued {
    registration: Registration,
    reply: tokio::sync::oneshot::Sender<Answer>,
}

/// Hands an issue's queue to its next waiting registration, or removes it when none waits.
struct Handoff<'a> {
    queues: &'a Mutex<HashMap<String, Vec<Queued>>>,
    key: &'a str,
}

impl Drop for Handoff<'_> {
    fn drop(&mut self) {
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(queue) = queues.get_mut(self.key) {
            if queue.is_empty() {
                queues.remove(self.key);
                return;
            }
            if queue.remove(0).reply.send(Answer::Lead).is_ok() {
                return;
            }
        }
    }
}

/// The input stream as the other durable copy of a page's record: a page whose record is not
/// in the bucket is parsed again from its input message (by stream sequence), with the
/// worker's parser and settings, and its record's hash checks the result.
pub(super) struct Source {
    /// The input stream.
    stream: stream::Stream,
    /// Whether the stream keeps every page as long as the stitch state lives (limits
    /// retention, no limit below `stitch.retention`): only then are records of pages without
    /// cross-page references left out of the bucket.
    keeps_pages: bool,
}

/// Why the input stream cannot be relied on to keep a page's message as long as the issue's
/// stitch state lives (`retention`), if it cannot.
fn forgets_pages(config: &stream::Config, retention: Duration) -> Option<String> {
    if config.retention != stream::RetentionPolicy::Limits {
        return Some(format!(
            "its retention is {:?}, not limits: acked pages leave it",
            config.retention
        ));
    }
    if !config.max_age.is_zero() && config.max_age < retention {
        return Some(format!(
            "its max_age ({:?}) is below stitch.retention ({retention:?})",
            config.max_age
        ));
    }
    if config.max_messages > 0 || config.max_bytes > 0 || config.max_messages_per_subject > 0 {
        return Some(
            "it has a max_msgs, max_bytes or max_msgs_per_subject limit: old pages leave it"
                .to_owned(),
        );
    }
    None
}

/// The input stream as a [`Source`] of records; says once, at start, whether page records of
/// pages without cross-page references are left to it.
pub(super) async fn source(js: &jetstream::Context, s: &Settings) -> Result<Source, ServiceError> {
    let name = &s.input.stream;
    let stream = js
        .get_stream(name)
        .await
        .map_err(|e| ServiceError::Provision {
            what: format!("stream {name}"),
            source: Box::new(e),
        })?;
    let config = stream.cached_info().config.clone();
    let keeps_pages = match forgets_pages(&config, s.stitch.retention) {
        None => {
            tracing::info!(
                stream = %name,
                "page records are stored only for pages a cross-page reference connects; \
                 the others are parsed again from the input stream if a later page names them"
            );
            true
        }
        Some(why) => {
            tracing::warn!(
                stream = %name,
                reason = %why,
                "input stream cannot keep pages for stitch.retention; every page's record is \
                 stored in the stitch bucket"
            );
            false
        }
    };
    Ok(Source {
        stream,
        keeps_pages,
    })
}

/// The stitch state of this replica's connection.
pub(super) struct Stitcher {
    kv: kv::Store,
    source: Source,
    /// The worker's pipeline, for parsing a page again from its input message.
    pipeline: Arc<Pipeline>,
    settings: StitchSettings,
    timer_prefix: String,
    max_payload: usize,
    state: Arc<ServiceState>,
    cache: Mutex<Cache>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Registrations waiting for their issue's batch, by index key; a key is present while a
    /// batch of the issue is being registered.
    queues: Mutex<HashMap<String, Vec<Queued>>>,
}

#[derive(Default)]
struct Cache {
    records: HashMap<String, Arc<Record>>,
    bytes: usize,
}

/// Key-safe token, injective: each byte of `A-Z a-z 0-9 - _` stands for itself, every other
/// byte becomes `=` and two uppercase hex digits, and the empty value is a lone `=`. `=` never
/// stands for itself, so no raw value can imitate an escaped one: two different values never
/// share a token (a hash could not promise that, and its `x<hex>` form was a plain value
/// too). Plain ASCII values keep the token they always had. At most 3 bytes per byte: an
/// edition (64 bytes at most) is at most 192.
fn token(s: &str) -> String {
    use std::fmt::Write as _;
    if s.is_empty() {
        return "=".to_owned();
    }
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "={b:02X}");
        }
    }
    out
}

/// The clock for step numbers ([`stitch::next_seq`]): microseconds since the Unix epoch.
fn now_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros().min(u128::from(u64::MAX)) as u64)
}

/// After a lost compare-and-set: another replica won; back off a little, growing, then read
/// again.
async fn backoff(key: &str, attempt: usize) {
    let jitter = u64::from(blake3::hash(key.as_bytes()).as_bytes()[attempt % 32]) % 5;
    tokio::time::sleep(Duration::from_millis(1 + attempt as u64 * 2 + jitter)).await;
}

/// `<publication>.<date>.<edition or main>`, key-safe.
fn issue_path(publication: &str, issue_date: &str, edition: &str) -> String {
    let edition = if edition.is_empty() { "main" } else { edition };
    format!(
        "{}.{}.{}",
        token(publication),
        token(issue_date),
        token(edition)
    )
}

/// Creates (or binds to) the bucket, the timer stream and its consumer.
pub(super) async fn provision(
    js: &jetstream::Context,
    s: &Settings,
) -> Result<(kv::Store, PullConsumer), ServiceError> {
    let st = &s.stitch;
    let err =
        |what: String| move |e: async_nats::Error| ServiceError::Provision { what, source: e };
    let storage = match s.output.storage {
        Storage::File => stream::StorageType::File,
        Storage::Memory => stream::StorageType::Memory,
    };
    let kv = if s.output.provision {
        let config = kv::Config {
            bucket: st.bucket.clone(),
            description: "pagewire: issue indexes and page records for stitching".to_owned(),
            history: 1,
            max_age: st.retention,
            storage,
            num_replicas: s.output.replicas,
            ..Default::default()
        };
        // The bucket's stream as the client makes it, for comparing with what is there.
        let want = stream::Config {
            subjects: vec![format!("$KV.{}.>", st.bucket)],
            max_messages_per_subject: 1,
            max_age: st.retention,
            storage,
            num_replicas: s.output.replicas,
            ..Default::default()
        };
        super::nats::provision_one(
            &format!("key-value bucket {}", st.bucket),
            s.nats.reconnect_delay_max,
            || js.create_or_update_key_value(config.clone()),
            || async {
                let Ok(stream) = js.get_stream(format!("KV_{}", st.bucket)).await else {
                    return super::nats::Found::Missing;
                };
                match super::nats::stream_differs(&stream.cached_info().config, &want) {
                    Some(how) => super::nats::Found::Differs(how),
                    None => match js.get_key_value(&st.bucket).await {
                        Ok(kv) => super::nats::Found::AsConfigured(kv),
                        Err(_) => super::nats::Found::Missing,
                    },
                }
            },
        )
        .await?
    } else {
        js.get_key_value(&st.bucket)
            .await
            .map_err(|e| err(format!("key-value bucket {}", st.bucket))(Box::new(e)))?
    };
    let what = format!("stream {}", st.timer_stream);
    let timers = if s.output.provision {
        super::nats::ensure_stream(
            js,
            stream::Config {
                name: st.timer_stream.clone(),
                subjects: vec![format!("{}.>", st.timer_subject_prefix)],
                retention: stream::RetentionPolicy::WorkQueue,
                max_age: st.retention,
                storage,
                num_replicas: s.output.replicas,
                // A stream's duplicate window cannot outlast its max age; a timer repeated after
                // the window fires, finds its half reported and publishes nothing new.
                duplicate_window: s.output.duplicate_window.min(st.retention),
                ..Default::default()
            },
            s.nats.reconnect_delay_max,
        )
        .await?;
        js.get_stream(&st.timer_stream)
            .await
            .map_err(|e| err(what.clone())(Box::new(e)))?
    } else {
        js.get_stream(&st.timer_stream)
            .await
            .map_err(|e| err(what.clone())(Box::new(e)))?
    };
    let what = format!(
        "consumer {} on stream {}",
        st.timer_consumer, st.timer_stream
    );
    let consumer = if s.output.provision {
        super::nats::ensure_consumer(
            &timers,
            jetstream::consumer::pull::Config {
                durable_name: Some(st.timer_consumer.clone()),
                description: Some("pagewire: stitch timeouts".to_owned()),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(30),
                // Timers are nak-ed until due: every delivery before that is expected.
                max_deliver: -1,
                num_replicas: if s.output.replicas > 1 {
                    s.output.replicas
                } else {
                    0
                },
                ..Default::default()
            },
            s.nats.reconnect_delay_max,
        )
        .await?
    } else {
        timers
            .get_consumer(&st.timer_consumer)
            .await
            .map_err(err(what.clone()))?
    };
    Ok((kv, consumer))
}

/// The steps of one batch on one read of its issue's index: what the blocking pool works on
/// and hands back.
struct Steps {
    /// The index after the steps so far.
    index: IssueIndex,
    /// The records of the pages the steps touch: records[n] is always the record index.pages[n]
    /// names.
    records: Records,
    /// One per registration stepped so far, in order.
    outcomes: Vec<Registered>,
    /// Whether a step changed the index.
    changed: bool,
    /// What each step that changed the index made (stitched, linked), counted once the index
    /// is written.
    counts: Vec<(usize, usize)>,
    /// The registrations (by position in the batch) whose step wrote their page's entry, the
    /// last one per page.
    fresh: std::collections::BTreeMap<u32, usize>,
    /// The registration whose reads were done: it steps with what they found.
    read_for: Option<usize>,
}

impl Steps {
    fn new(index: IssueIndex, len: usize) -> Steps {
        Steps {
            index,
            records: Records::new(),
            outcomes: Vec::with_capacity(len),
            changed: false,
            counts: Vec::new(),
            fresh: Default::default(),
            read_for: None,
        }
    }

    /// Steps through `batch` from the first registration not stepped yet, in order, until one
    /// needs records the steps do not have (returned, for the shell to read) or the batch is
    /// done. Pure work, for the blocking pool. A step that panics (a bug) leaves the index as
    /// it was and its page is published as parsed.
    fn advance(
        mut self,
        batch: &[Registration],
        max: usize,
    ) -> (Steps, Option<std::collections::BTreeSet<u32>>) {
        use std::panic::{catch_unwind, AssertUnwindSafe};
        while let Some(r) = batch.get(self.outcomes.len()) {
            let at = self.outcomes.len();
            let stepped = catch_unwind(AssertUnwindSafe(|| {
                if self
                    .index
                    .pages
                    .get(&r.number)
                    .is_some_and(|e| e.record == r.hash)
                {
                    // Registered with this very record (a redelivery): no need to read it.
                    self.records
                        .entry(r.number)
                        .or_insert_with(|| r.record.clone());
                }
                if self.read_for != Some(at) {
                    let wanted =
                        stitch::reads_for_page(&self.index, r.number, &r.label, &r.record.page);
                    // Only pages the index names have a record to read: a new page's own
                    // is at hand, and would cost a trip to the shell for nothing.
                    let missing: std::collections::BTreeSet<u32> = wanted
                        .into_iter()
                        .filter(|n| {
                            !self.records.contains_key(n) && self.index.pages.contains_key(n)
                        })
                        .collect();
                    if !missing.is_empty() {
                        return Err(missing);
                    }
                }
                Ok(stitch::register_in(
                    &mut self.index,
                    &self.records,
                    r.number,
                    &r.label,
                    &r.hash,
                    r.record.clone(),
                    max,
                    now_micros(),
                ))
            }));
            let outcome = match stepped {
                Ok(Err(missing)) => return (self, Some(missing)),
                Ok(Ok(Ok((changed, plan)))) => {
                    if changed {
                        self.changed = true;
                        self.counts.push((plan.stitched, plan.linked));
                        self.fresh.insert(r.number, at);
                    }
                    self.records.insert(r.number, r.record.clone());
                    Registered::Plan(plan)
                }
                Ok(Ok(Err(_full))) => Registered::Skipped(Skip::IssueFull),
                Err(_panic) => Registered::Skipped(Skip::InternalError),
            };
            self.outcomes.push(outcome);
            self.read_for = None;
        }
        (self, None)
    }
}

impl Stitcher {
    pub(super) fn new(
        kv: kv::Store,
        source: Source,
        pipeline: Arc<Pipeline>,
        settings: &StitchSettings,
        max_payload: usize,
        state: Arc<ServiceState>,
    ) -> Self {
        Stitcher {
            kv,
            source,
            pipeline,
            timer_prefix: settings.timer_subject_prefix.clone(),
            settings: settings.clone(),
            max_payload,
            state,
            cache: Mutex::default(),
            locks: Mutex::default(),
            queues: Mutex::default(),
        }
    }

    /// Registers a parsed page and plans its messages, timers included.
    ///
    /// Pages of one issue in flight together on this replica are registered as one batch: the
    /// first to come leads, registers every page queued meanwhile step by step in the pure
    /// core and writes the issue's index once; the others wait for their plans. A batch is
    /// the same steps in the same order as one page at a time, so whatever the batch, each
    /// page's plan is what its own registration would have planned.
    ///
    /// `source_seq` is the page's stream sequence in the input stream (0: not known): a page
    /// without cross-page references is registered with it instead of putting its record,
    /// unless the index already connects the page to another.
    pub(super) async fn page(
        &self,
        raw: &RawPage,
        page: &Page,
        source_seq: u64,
    ) -> Result<Planned, StitchError> {
        // Room for the key-value subject and headers; checked before the record is copied.
        let approximate: usize = page.articles.iter().map(|a| a.encoded_len() + 8).sum();
        if approximate + 1024 > self.max_payload {
            return Ok(Planned::Skipped(Skip::RecordTooLarge));
        }
        let record = stitch::record_of(page);
        let bytes = record.encode_to_vec();
        if bytes.len() + 1024 > self.max_payload {
            return Ok(Planned::Skipped(Skip::RecordTooLarge));
        }
        let hash = stitch::record_hash(&bytes);
        let size = bytes.len();
        let path = issue_path(&raw.publication, &raw.issue_date, &raw.edition);
        let record_key = format!("page.{path}.{}.{hash}", raw.page_number);
        let targets = stitch::targets_of(&record);
        let bytes = bytes::Bytes::from(bytes);
        let unstored = if self.source.keeps_pages && source_seq != 0 && targets.is_empty() {
            // Left to the batch leader, which knows whether another page names this one.
            Some(bytes)
        } else {
            // Before the index names it.
            self.kv
                .put(&record_key, bytes)
                .await
                .map_err(|e| kv_error(&record_key, e))?;
            None
        };
        let record = Arc::new(Record::new(record));
        if !targets.is_empty() {
            // Its neighbours' steps read it next.
            self.remember(&record_key, record.clone(), size);
        }
        let label = page
            .page
            .as_ref()
            .map(|p| p.page_label.clone())
            .unwrap_or_default();
        let registration = Registration {
            number: raw.page_number,
            label,
            hash: hash.clone(),
            record,
            unstored,
            source_seq,
        };
        let plan = match self.register(&path, registration).await? {
            Registered::Plan(plan) => plan,
            Registered::Skipped(skip) => return Ok(Planned::Skipped(skip)),
        };
        let timers = plan
            .pending
            .iter()
            .map(|id| {
                let timer = Timer {
                    publication: raw.publication.clone(),
                    issue_date: raw.issue_date.clone(),
                    edition: raw.edition.clone(),
                    article_id: id.clone(),
                };
                route::timer_message(&self.timer_prefix, &timer, &hash)
            })
            .collect();
        Ok(Planned::Stitched { plan, timers })
    }

    /// Queues the registration in its issue's batch and waits for its plan, leading the batch
    /// when no other registration of the issue does.
    async fn register(
        &self,
        path: &str,
        registration: Registration,
    ) -> Result<Registered, StitchError> {
        let key = format!("issue.{path}");
        let (reply, mut answer) = tokio::sync::oneshot::channel();
        let mut leading = {
            let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
            let queued = Queued {
                registration: registration.clone(),
                reply,
            };
            match queues.get_mut(&key) {
                Some(queue) => {
                    queue.push(queued);
                    false
                }
                None => {
                    queues.insert(key.clone(), vec![queued]);
                    true
                }
            }
        };
        loop {
            if leading {
                self.lead(&key, path).await;
            }
            match (&mut answer).await {
                Ok(Answer::Done(result)) => return result,
                Ok(Answer::Lead) => {
                    // The last leader handed the queue over: this registration leads the
                    // next batch, itself first.
                    let (reply, next) = tokio::sync::oneshot::channel();
                    let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
                    queues.entry(key.clone()).or_default().insert(
                        0,
                        Queued {
                            registration: registration.clone(),
                            reply,
                        },
                    );
                    answer = next;
                    leading = true;
                }
                // The leader's task ended without answering (it panicked): try again later.
                Err(_) => return Err(StitchError::Contended(key)),
            }
        }
    }

    /// Registers one batch of the issue's queue, then hands the queue to the next waiting
    /// registration (or removes it), so that no page waits for batches after its own.
    async fn lead(&self, key: &str, path: &str) {
        let batch = {
            let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
            queues.get_mut(key).map(std::mem::take).unwrap_or_default()
        };
        let (registrations, replies): (Vec<Registration>, Vec<_>) =
            batch.into_iter().map(|q| (q.registration, q.reply)).unzip();
        // Handed over even if this future is dropped mid-batch (its waiters then retry).
        let _handoff = Handoff {
            queues: &self.queues,
            key,
        };
        let results = self.register_batch(key, path, registrations.into()).await;
        for (reply, result) in replies.into_iter().zip(results) {
            let _ = reply.send(Answer::Done(result));
        }
    }

    /// Registers `batch` in order in the issue's index and writes it once by compare-and-set;
    /// one result per registration.
    ///
    /// The steps run on the blocking pool, as many in one go as need no record they do not
    /// have: a batch whose pages no cross-page reference connects is planned in one hop, and
    /// the index and records move to the pool and back instead of being copied for each step.
    async fn register_batch(
        &self,
        key: &str,
        path: &str,
        batch: Arc<[Registration]>,
    ) -> Vec<Result<Registered, StitchError>> {
        let lock = self.lock(key);
        let _serial = lock.lock().await;
        let failed = |e: StitchError| -> Vec<Result<Registered, StitchError>> {
            let e = Arc::new(e);
            batch
                .iter()
                .map(|_| Err(StitchError::Batch(e.clone())))
                .collect()
        };
        let max = self.settings.max_pages_per_issue;
        for attempt in 0..CAS_ATTEMPTS {
            let (index, revision) = match self.read_index(key).await {
                Ok(read) => read,
                Err(e) => return failed(e),
            };
            let mut steps = Steps::new(index, batch.len());
            loop {
                let todo = batch.clone();
                let advanced = tokio::task::spawn_blocking(move || steps.advance(&todo, max)).await;
                let missing;
                (steps, missing) = match advanced {
                    Ok(advanced) => advanced,
                    Err(e) => std::panic::resume_unwind(e.into_panic()),
                };
                let Some(missing) = missing else { break };
                match self.records(path, &steps.index, &missing).await {
                    Ok(read) => steps.records.extend(read),
                    Err(e) => return failed(e),
                }
                // What was found is all there is: the step goes on with it.
                steps.read_for = Some(steps.outcomes.len());
            }
            let Steps {
                mut index,
                outcomes,
                changed,
                counts,
                fresh,
                ..
            } = steps;
            let results: Vec<Result<Registered, StitchError>> = outcomes
                .into_iter()
                .map(|outcome| {
                    if let Registered::Skipped(Skip::InternalError) = outcome {
                        tracing::error!(issue = %key, "composing the issue panicked; page published as parsed");
                    }
                    Ok(outcome)
                })
                .collect();
            let fresh: std::collections::BTreeMap<u32, &Registration> =
                fresh.into_iter().map(|(n, i)| (n, &batch[i])).collect();
            if changed {
                if let Err(e) = self.place(path, &mut index, &fresh).await {
                    return failed(e);
                }
                match self.write_index(key, &index, revision).await {
                    Ok(true) => {}
                    Ok(false) => {
                        self.state.metrics().stitch_conflict();
                        backoff(key, attempt).await;
                        continue;
                    }
                    Err(e) => return failed(e),
                }
                for &(stitched, linked) in &counts {
                    self.count(stitched, linked);
                }
            }
            return results;
        }
        batch
            .iter()
            .map(|_| Err(StitchError::Contended(key.to_owned())))
            .collect()
    }

    /// Says in `index` where the records of the batch's pages not in the bucket yet are: the
    /// ones the index connects to another page are put now (before the index that names them
    /// is written), the others are left in the input stream and their entries name their
    /// stream sequence.
    async fn place(
        &self,
        path: &str,
        index: &mut IssueIndex,
        fresh: &std::collections::BTreeMap<u32, &Registration>,
    ) -> Result<(), StitchError> {
        use futures::TryStreamExt as _;
        let mut puts = Vec::new();
        for (&n, r) in fresh {
            let Some(bytes) = &r.unstored else { continue };
            if index.pages.get(&n).is_none_or(|e| e.record != r.hash) {
                continue;
            }
            if stitch::stores_record(index, n) {
                puts.push((format!("page.{path}.{n}.{}", r.hash), bytes.clone()));
            } else if let Some(entry) = index.pages.get_mut(&n) {
                entry.source_seq = r.source_seq;
            }
        }
        if puts.is_empty() {
            // Most batches: nothing to put, no stream of futures to build.
            return Ok(());
        }
        let puts = puts.into_iter().map(|(key, bytes)| async move {
            self.kv
                .put(&key, bytes)
                .await
                .map(|_| ())
                .map_err(|e| kv_error(&key, e))
        });
        futures::stream::iter(puts)
            .buffer_unordered(READ_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    fn count(&self, stitched: usize, linked: usize) {
        let m = self.state.metrics();
        m.stitched(stitched as u64);
        m.linked(linked as u64);
    }

    /// A due timer: reports the half unresolved unless its partner came, and returns what to
    /// publish (nothing when the half was resolved meanwhile).
    pub(super) async fn fire(
        &self,
        timer: &Timer,
        topics: &Topics,
    ) -> Result<Vec<Outbound>, StitchError> {
        let path = issue_path(&timer.publication, &timer.issue_date, &timer.edition);
        let key = format!("issue.{path}");
        let lock = self.lock(&key);
        let _serial = lock.lock().await;
        let id = timer.article_id.as_str();
        for attempt in 0..CAS_ATTEMPTS {
            let (index, revision) = self.read_index(&key).await?;
            let wanted = stitch::reads_for_article(&index, id);
            let records = self.records(&path, &index, &wanted).await?;
            let now = now_micros();
            let owned = id.to_owned();
            let report = tokio::task::spawn_blocking(move || {
                if !index.unresolved.contains_key(&owned)
                    && !stitch::is_unresolved(&index, &records, &owned)
                {
                    return None;
                }
                // Reported now, or by an earlier delivery of this timer (then its messages are
                // composed again; the duplicate window absorbs a repeat).
                Some(stitch::report(&index, &records, &owned, now))
            })
            .await;
            let report = match report {
                Ok(Some(report)) => report,
                Ok(None) => return Ok(Vec::new()),
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            };
            if report.changed {
                if !self.write_index(&key, &report.index, revision).await? {
                    self.state.metrics().stitch_conflict();
                    backoff(&key, attempt).await;
                    continue;
                }
                for event in &report.events {
                    match event {
                        stitch::Unresolved::Jump(_) => {
                            self.state.metrics().unresolved();
                            tracing::info!(
                                article = id,
                                "jump unresolved after the stitch timeout"
                            );
                        }
                        stitch::Unresolved::Reference(_) => {
                            self.state.metrics().unresolved_reference();
                            tracing::info!(
                                article = id,
                                "see-also pointer unresolved after the stitch timeout"
                            );
                        }
                    }
                }
            }
            return Ok(route::route_unresolved(
                &timer.publication,
                &report.updates,
                &report.events,
                topics,
            ));
        }
        Err(StitchError::Contended(key))
    }

    fn lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        if locks.len() > 4096 {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(key.to_owned()).or_default().clone()
    }

    async fn read_index(&self, key: &str) -> Result<(IssueIndex, Option<u64>), StitchError> {
        let entry = self.kv.entry(key).await.map_err(|e| kv_error(key, e))?;
        Ok(match entry {
            Some(e) if e.operation == kv::Operation::Put => {
                let index =
                    IssueIndex::from_bytes(&e.value).map_err(|reason| StitchError::Corrupt {
                        key: key.to_owned(),
                        reason,
                    })?;
                (index, Some(e.revision))
            }
            Some(e) => (IssueIndex::default(), Some(e.revision)),
            None => (IssueIndex::default(), None),
        })
    }

    /// Writes `next` if the key is still at `revision`; false when someone else wrote first.
    async fn write_index(
        &self,
        key: &str,
        next: &IssueIndex,
        revision: Option<u64>,
    ) -> Result<bool, StitchError> {
        let bytes: bytes::Bytes = next.to_bytes().into();
        let written = match revision {
            None => self.kv.create(key, bytes).await.map_err(|e| {
                if e.kind() == kv::CreateErrorKind::AlreadyExists {
                    None
                } else {
                    Some(kv_error(key, e))
                }
            }),
            Some(r) => self.kv.update(key, bytes, r).await.map_err(|e| {
                if e.kind() == kv::UpdateErrorKind::WrongLastRevision {
                    None
                } else {
                    Some(kv_error(key, e))
                }
            }),
        };
        match written {
            Ok(_) => Ok(true),
            Err(None) => Ok(false),
            Err(Some(e)) => Err(e),
        }
    }

    /// The records of the pages in `pages` the index names, [`READ_CONCURRENCY`] reads at a
    /// time; a record gone from the bucket (past its retention) leaves its page out. A record
    /// the index says is in the input stream (and that is not in the bucket yet) is parsed
    /// again from there ([`Stitcher::reparse`]).
    async fn records(
        &self,
        path: &str,
        index: &IssueIndex,
        pages: &std::collections::BTreeSet<u32>,
    ) -> Result<Records, StitchError> {
        use futures::TryStreamExt as _;
        let wanted: Vec<(u32, String, String, u64)> = index
            .pages
            .iter()
            .filter(|(n, _)| pages.contains(n))
            .map(|(n, e)| {
                let key = format!("page.{path}.{n}.{}", e.record);
                (*n, key, e.record.clone(), e.source_seq)
            })
            .collect();
        let loads = wanted.into_iter().map(|(n, key, hash, seq)| async move {
            if let Some(hit) = self.cached(&key) {
                return Ok(Some((n, hit)));
            }
            let bytes = if seq == 0 {
                self.read_record(&key).await?
            } else {
                // Put by an earlier step that parsed it again, or not: a replica that has not
                // applied that put only makes this step parse it once more.
                self.kv.get(&key).await.map_err(|e| kv_error(&key, e))?
            };
            let Some(bytes) = bytes else {
                if seq != 0 {
                    return Ok(self.reparse(&key, &hash, seq).await?.map(|r| (n, r)));
                }
                tracing::warn!(key, "page record missing from the bucket; page left out");
                return Ok(None);
            };
            let size = bytes.len();
            match Page::decode(bytes) {
                Ok(page) => {
                    let record = Arc::new(Record::new(page));
                    self.remember(&key, record.clone(), size);
                    Ok(Some((n, record)))
                }
                Err(e) => {
                    tracing::warn!(key, error = %e, "page record unreadable; page left out");
                    Ok(None)
                }
            }
        });
        let loaded: Vec<Option<(u32, Arc<Record>)>> = futures::stream::iter(loads)
            .buffer_unordered(READ_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(loaded.into_iter().flatten().collect())
    }

    /// The record `hash` of a page registered without putting it, parsed again from its input
    /// message (stream sequence `seq`) as the worker parsed it, on the blocking pool, and put in
    /// the bucket (a later page named it: its neighbours read it next). `None`, the
    /// page left out, when the message is gone from the input stream or parses into another
    /// record (the parser or its settings changed since).
    async fn reparse(
        &self,
        key: &str,
        hash: &str,
        seq: u64,
    ) -> Result<Option<Arc<Record>>, StitchError> {
        let metrics = self.state.metrics();
        // Answered by the stream leader: a committed message is never missed.
        let message = match self.source.stream.get_raw_message(seq).await {
            Ok(message) => message,
            Err(e) if e.kind() == stream::RawMessageErrorKind::NoMessageFound => {
                metrics.stitch_source_read("gone");
                tracing::warn!(
                    key,
                    stream_seq = seq,
                    "page record not stored and its input message is gone; page left out"
                );
                return Ok(None);
            }
            Err(e) => return Err(kv_error(key, e)),
        };
        let pipeline = self.pipeline.clone();
        let want = hash.to_owned();
        let parsed = tokio::task::spawn_blocking(move || {
            let headers = super::header_pairs(Some(&message.headers));
            let incoming = Incoming {
                subject: message.subject.as_str(),
                headers: &headers,
                payload: &message.payload,
            };
            match pipeline.process(&incoming) {
                Ok(Processed {
                    work: Work::Parsed(parsed),
                    ..
                }) => {
                    let record = stitch::record_of(&parsed.1);
                    let bytes = record.encode_to_vec();
                    (stitch::record_hash(&bytes) == want).then_some((record, bytes))
                }
                _ => None,
            }
        })
        .await;
        let Ok(Some((record, bytes))) = parsed else {
            metrics.stitch_source_read("changed");
            tracing::warn!(
                key,
                stream_seq = seq,
                "page record not stored and its input message parses into another record now \
                 (the parser or its settings changed); page left out"
            );
            return Ok(None);
        };
        self.kv
            .put(key, bytes.into())
            .await
            .map_err(|e| kv_error(key, e))?;
        metrics.stitch_source_read("parsed");
        tracing::debug!(
            key,
            stream_seq = seq,
            "page record parsed again from the input stream"
        );
        // Not cached: like every record of a page without references, it is read from the
        // bucket by the next step that needs it.
        Ok(Some(Arc::new(Record::new(record))))
    }

    /// A record's bytes. A direct get is answered by whichever replica of the bucket's stream
    /// the request reaches (an R3 follower, a mirror serving direct gets), and one that has not
    /// applied the write yet answers "not found" although the index naming the record is
    /// committed. So a miss is asked again of the stream leader, which has every committed
    /// write; only its "not found" means the record is gone.
    async fn read_record(&self, key: &str) -> Result<Option<bytes::Bytes>, StitchError> {
        if let Some(bytes) = self.kv.get(key).await.map_err(|e| kv_error(key, e))? {
            return Ok(Some(bytes));
        }
        let subject = format!("{}{key}", self.kv.prefix);
        let found = match self
            .kv
            .stream
            .get_last_raw_message_by_subject(&subject)
            .await
        {
            Ok(message) => {
                let deleted = message
                    .headers
                    .get("KV-Operation")
                    .is_some_and(|op| op.as_str() != "PUT");
                (!deleted).then_some(message.payload)
            }
            Err(e) if e.kind() == stream::LastRawMessageErrorKind::NoMessageFound => None,
            Err(e) => return Err(kv_error(key, e)),
        };
        self.state.metrics().stitch_leader_read(found.is_some());
        if found.is_some() {
            tracing::debug!(
                key,
                "page record read from the stream leader after a replica missed it"
            );
        }
        Ok(found)
    }

    fn cached(&self, key: &str) -> Option<Arc<Record>> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.records.get(key).cloned()
    }

    /// Caches a record of `size` stored bytes.
    fn remember(&self, key: &str, page: Arc<Record>, size: usize) {
        // The units take about as much again as the record's text.
        let size = size * 2;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.bytes + size > CACHE_BYTES {
            cache.records.clear();
            cache.bytes = 0;
        }
        if cache.records.insert(key.to_owned(), page).is_none() {
            cache.bytes += size;
        }
    }
}

/// Fires due timers until `shutdown`: a timer not yet due is nak-ed with the time it has left,
/// a due one is handled and acked, a failure is nak-ed and tried again.
pub(super) async fn timer_loop(
    publisher: Arc<Publisher>,
    stitcher: Arc<Stitcher>,
    consumer: PullConsumer,
    shutdown: CancellationToken,
) {
    let timeout = stitcher.settings.timeout;
    let mut failures = 0usize;
    while !shutdown.is_cancelled() {
        let batch = consumer
            .batch()
            .max_messages(16)
            .expires(Duration::from_secs(2))
            .messages()
            .await;
        let mut batch = match batch {
            Ok(b) => b,
            Err(e) => {
                failures += 1;
                tracing::debug!(error = %e, "timer pull failed");
                let delay = super::backoff(failures, Duration::from_secs(8));
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(delay) => continue,
                }
            }
        };
        failures = 0;
        loop {
            // At shutdown the rest of the batch is left: unacked timers come back to a replica
            // after the consumer's ack wait.
            let next = tokio::select! {
                biased;
                _ = shutdown.cancelled() => return,
                next = batch.next() => next,
            };
            let Some(Ok(message)) = next else { break };
            handle_timer(&publisher, &stitcher, &message, timeout).await;
        }
    }
}

async fn handle_timer(
    publisher: &Publisher,
    stitcher: &Stitcher,
    message: &jetstream::Message,
    timeout: Duration,
) {
    let Ok(info) = message.info() else { return };
    let published = info.published.unix_timestamp_nanos();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    let due = published + timeout.as_nanos() as i128;
    if now < due {
        let left = Duration::from_nanos((due - now).min(u64::MAX as i128) as u64);
        let _ = message
            .ack_with(AckKind::Nak(Some(left.max(Duration::from_millis(10)))))
            .await;
        return;
    }
    let timer: Timer = match serde_json::from_slice(&message.payload) {
        Ok(t) => t,
        Err(e) => {
            // Not ours: nothing to do with it ever, so it must not come back.
            tracing::warn!(error = %e, subject = %message.subject, "timer message unreadable; dropped");
            let _ = message.ack_with(AckKind::Term).await;
            return;
        }
    };
    let fired = std::panic::AssertUnwindSafe(stitcher.fire(&timer, publisher.topics()));
    let Ok(fired) = futures::FutureExt::catch_unwind(fired).await else {
        tracing::error!(article = %timer.article_id, "timer handling panicked; timer dropped");
        let _ = message.ack_with(AckKind::Term).await;
        return;
    };
    let result = match fired {
        Ok(out) if out.is_empty() => Ok(()),
        Ok(out) => publisher
            .publish_all(&out)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match result {
        Ok(()) => {
            let _ = message.double_ack().await;
        }
        Err(e) => {
            tracing::warn!(error = %e, article = %timer.article_id, "timer not handled; retrying");
            let _ = message
                .ack_with(AckKind::Nak(Some(Duration::from_secs(2))))
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_safe_whatever_the_edition() {
        assert_eq!(
            issue_path("baotou-daily", "2025-07-10", ""),
            "baotou-daily.2025-07-10.main"
        );
        let odd = issue_path("p", "2025-07-10", "晚 版.*");
        assert_eq!(odd, "p.2025-07-10.=E6=99=9A=20=E7=89=88=2E=2A");
    }

    #[test]
    fn no_raw_value_imitates_another_values_token() {
        // The issue's collision: the hash token of 晚版 was an ASCII edition of its own.
        let hashed = format!("x{}", &blake3::hash("晚版".as_bytes()).to_hex()[..16]);
        assert_eq!(hashed, "x3aebf6e012c3c50f");
        assert_ne!(token("晚版"), token(&hashed));
        // Escapes cannot be imitated: '=' itself is escaped.
        assert_ne!(token("=E6"), token("\u{e6}"));
        assert_ne!(token(""), token("=3D"));
        let values = [
            "",
            "=",
            "==",
            "=3D",
            "main",
            "晚版",
            "x3aebf6e012c3c50f",
            "a.b",
            "a=2Eb",
            "_",
            "-",
            "A",
            "a",
            "=41",
        ];
        let tokens: std::collections::BTreeSet<_> = values.iter().map(|v| token(v)).collect();
        assert_eq!(tokens.len(), values.len(), "{tokens:?}");
        for t in &tokens {
            assert!(async_nats_key_safe(t), "{t}");
        }
    }

    #[test]
    fn records_are_left_to_an_input_stream_only_if_it_keeps_pages() {
        let week = Duration::from_secs(7 * 24 * 3600);
        // What provision_streams makes, as the server reports it: limits, no limits.
        let provisioned = stream::Config {
            name: "PAGES".to_owned(),
            retention: stream::RetentionPolicy::Limits,
            max_messages: -1,
            max_bytes: -1,
            max_messages_per_subject: -1,
            ..Default::default()
        };
        assert_eq!(forgets_pages(&provisioned, week), None);
        let longer = stream::Config {
            max_age: week * 2,
            ..provisioned.clone()
        };
        assert_eq!(forgets_pages(&longer, week), None);
        for forgetful in [
            stream::Config {
                retention: stream::RetentionPolicy::WorkQueue,
                ..provisioned.clone()
            },
            stream::Config {
                retention: stream::RetentionPolicy::Interest,
                ..provisioned.clone()
            },
            stream::Config {
                max_age: Duration::from_secs(3600),
                ..provisioned.clone()
            },
            stream::Config {
                max_messages: 1_000_000,
                ..provisioned.clone()
            },
            stream::Config {
                max_bytes: 1 << 30,
                ..provisioned.clone()
            },
            stream::Config {
                max_messages_per_subject: 1,
                ..provisioned.clone()
            },
        ] {
            assert!(forgets_pages(&forgetful, week).is_some(), "{forgetful:?}");
        }
    }

    /// async-nats's key rule, for one token (no dots).
    fn async_nats_key_safe(t: &str) -> bool {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'='))
    }
}
