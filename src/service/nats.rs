//! The NATS side of the shell: connection options from settings, connecting with backoff, and
//! provisioning the streams and the durable consumer.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::PullConsumer, stream};
use async_nats::{ConnectOptions, Event, ServerAddr};
use tokio_util::sync::CancellationToken;

use super::{ServiceError, ServiceState};
use crate::config::{NatsSettings, Settings, Storage};

/// Client options for these settings. `state`, when given, follows the connection's events.
pub async fn connect_options(
    n: &NatsSettings,
    state: Option<Arc<ServiceState>>,
) -> Result<ConnectOptions, ServiceError> {
    let max_delay = n.reconnect_delay_max;
    let mut o = ConnectOptions::new()
        .name(&n.connection_name)
        .connection_timeout(n.connect_timeout)
        .request_timeout(Some(n.request_timeout))
        .custom_inbox_prefix(&n.inbox_prefix)
        // Never give up reconnecting: a service that stops trying is a silent outage.
        .max_reconnects(None)
        .reconnect_delay_callback(move |attempts| backoff(attempts, max_delay))
        .event_callback(move |event| {
            let state = state.clone();
            async move {
                match event {
                    Event::Connected => {
                        tracing::info!("connected to nats");
                        if let Some(s) = &state {
                            s.set_connected(true);
                        }
                    }
                    Event::Disconnected => {
                        tracing::warn!("disconnected from nats; reconnecting");
                        if let Some(s) = &state {
                            s.set_connected(false);
                        }
                    }
                    Event::Closed => {
                        if let Some(s) = &state {
                            s.set_connected(false);
                        }
                    }
                    other => tracing::warn!(event = %other, "nats client event"),
                }
            }
        });
    if let (Some(user), Some(password)) = (&n.user, &n.password) {
        o = o.user_and_password(user.clone(), password.expose().to_owned());
    }
    if let Some(token) = &n.token {
        o = o.token(token.expose().to_owned());
    }
    if let Some(seed) = &n.nkey_seed {
        o = o.nkey(seed.expose().to_owned());
    }
    if let Some(path) = &n.creds_file {
        o = o
            .credentials_file(path)
            .await
            .map_err(|e| ServiceError::Config {
                key: "nats.creds_file",
                reason: format!("{}: {e}", path.display()),
            })?;
    }
    if let Some(tls) = &n.tls {
        o = o.require_tls(tls.required);
        if let Some(ca) = &tls.ca_file {
            o = o.add_root_certificates(ca.clone());
        }
        if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
            o = o.add_client_certificate(cert.clone(), key.clone());
        }
    }
    Ok(o)
}

/// The oldest nats-server pagewire works with. 2.9 answers the key-value bucket's
/// create-or-update and the consumer configuration pagewire sends with replies the client
/// cannot decode.
pub const MIN_SERVER_VERSION: &str = "2.10.0";

/// Refuses a server older than [`MIN_SERVER_VERSION`] (the version from its INFO). A version
/// that does not read as `major.minor.patch` (a custom build) is let through.
pub fn check_server_version(version: &str) -> Result<(), ServiceError> {
    let parse = |v: &str| -> Option<(u64, u64, u64)> {
        let core = v.trim().trim_start_matches('v');
        let core = core.split(['-', '+']).next()?;
        let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
        Some((
            parts.next()??,
            parts.next()??,
            parts.next().flatten().unwrap_or(0),
        ))
    };
    match (parse(version), parse(MIN_SERVER_VERSION)) {
        (Some(have), Some(need)) if have < need => Err(ServiceError::ServerTooOld {
            version: version.to_owned(),
            minimum: MIN_SERVER_VERSION,
        }),
        _ => Ok(()),
    }
}

/// Exponential backoff from 100ms, doubling, capped.
pub fn backoff(attempts: usize, max: Duration) -> Duration {
    let exp = attempts.min(16) as u32;
    Duration::from_millis(100)
        .saturating_mul(1u32 << exp)
        .min(max)
}

/// Parses the configured server URLs.
pub fn server_addrs(n: &NatsSettings) -> Result<Vec<ServerAddr>, ServiceError> {
    n.servers
        .iter()
        .map(|s| {
            s.parse::<ServerAddr>().map_err(|e| ServiceError::Config {
                key: "nats.servers",
                reason: format!("{}: {e}", crate::config::redact_url(s)),
            })
        })
        .collect()
}

/// Connects, retrying with backoff while the servers are unreachable; `None` when `shutdown`
/// comes first (also in the middle of an attempt). Authentication and TLS failures are fatal:
/// retrying cannot fix them.
pub async fn connect(
    n: &NatsSettings,
    state: Option<Arc<ServiceState>>,
    shutdown: &CancellationToken,
) -> Result<Option<async_nats::Client>, ServiceError> {
    use async_nats::ConnectErrorKind as K;
    let addrs = server_addrs(n)?;
    let mut attempt = 0;
    loop {
        let options = connect_options(n, state.clone()).await?;
        let connected = tokio::select! {
            _ = shutdown.cancelled() => return Ok(None),
            connected = options.connect(addrs.clone()) => connected,
        };
        match connected {
            Ok(client) => {
                if let Some(s) = &state {
                    s.set_connected(true);
                }
                return Ok(Some(client));
            }
            Err(e)
                if matches!(
                    e.kind(),
                    K::Authentication | K::AuthorizationViolation | K::Tls
                ) =>
            {
                return Err(ServiceError::Connect(e));
            }
            Err(e) => {
                attempt += 1;
                let delay = backoff(attempt, n.reconnect_delay_max);
                tracing::warn!(error = %e, servers = ?n.redacted_servers(), retry_in = ?delay, "cannot reach nats");
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(None),
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}

fn storage(s: Storage) -> stream::StorageType {
    match s {
        Storage::File => stream::StorageType::File,
        Storage::Memory => stream::StorageType::Memory,
    }
}

/// Creates or updates the input stream and every output stream.
pub async fn provision_streams(js: &jetstream::Context, s: &Settings) -> Result<(), ServiceError> {
    let o = &s.output;
    let base = stream::Config {
        storage: storage(o.storage),
        num_replicas: o.replicas,
        duplicate_window: o.duplicate_window,
        ..Default::default()
    };
    let input = stream::Config {
        name: s.input.stream.clone(),
        subjects: s.input.subjects.clone(),
        ..base.clone()
    };
    ensure_stream(js, input, s.nats.reconnect_delay_max).await?;
    for (_, topic) in o.topics() {
        let cfg = stream::Config {
            name: topic.stream.clone(),
            subjects: vec![format!("{}.>", topic.subject_prefix)],
            allow_atomic_publish: o.atomic_batches,
            ..base.clone()
        };
        ensure_stream(js, cfg, s.nats.reconnect_delay_max).await?;
    }
    Ok(())
}

/// How often one stream, bucket or consumer is created again after a create that failed while
/// the server did not hold it as configured (a few minutes at the default request timeout).
const PROVISION_ATTEMPTS: usize = 12;
/// How long the first create waits for its answer before the object is read back; each retry
/// waits twice as long as the one before, and never longer than `nats.request_timeout` (the
/// client's own limit). A racing create that goes unanswered has most often made the object:
/// the read-back finds it after this wait instead of after the whole request timeout.
const FIRST_CREATE_WAIT: Duration = Duration::from_secs(2);
/// The same, when the server holds the object configured otherwise.
const CONFLICT_ATTEMPTS: usize = 3;

/// What a failed create found when it read the object back.
pub(super) enum Found<T> {
    /// There, as configured: created by another replica, or by our own unanswered request.
    AsConfigured(T),
    /// There, configured otherwise (what differs).
    Differs(String),
    /// Not there, or not readable now.
    Missing,
}

/// Creates one stream, bucket or consumer, safe against replicas doing the same at once.
///
/// Replicas that start together (compose's first `up`) create the same objects at the same
/// moment. A create racing another one for the same name can go unanswered (the request times
/// out although the object is made) or be refused; so a create that fails is not an answer:
/// `read_back` reads the object and compares it with the configuration. As configured, it is
/// done; otherwise the create is retried with backoff ([`PROVISION_ATTEMPTS`] times, or
/// [`CONFLICT_ATTEMPTS`] when it is there configured otherwise), and the last error is returned
/// with what differs, if anything. A create unanswered after [`create_wait`] counts as failed
/// (the request may still be applied: the read-back and the retry find out), so the race
/// resolves in seconds rather than after a whole `nats.request_timeout`.
pub(super) async fn provision_one<T, E, C, CF, R, RF>(
    what: &str,
    max_delay: Duration,
    mut create: C,
    mut read_back: R,
) -> Result<T, ServiceError>
where
    E: std::error::Error + Send + Sync + 'static,
    C: FnMut() -> CF,
    CF: std::future::Future<Output = Result<T, E>>,
    R: FnMut() -> RF,
    RF: std::future::Future<Output = Found<T>>,
{
    let mut attempt = 0;
    loop {
        let wait = create_wait(attempt);
        let error: async_nats::Error = match tokio::time::timeout(wait, create()).await {
            Ok(Ok(made)) => return Ok(made),
            Ok(Err(e)) => Box::new(e),
            Err(_) => format!("no answer within {wait:?}").into(),
        };
        let differs = match read_back().await {
            Found::AsConfigured(made) => {
                tracing::info!(object = what, error = %error, "create not confirmed, but the server holds it as configured");
                return Ok(made);
            }
            Found::Differs(how) => Some(how),
            Found::Missing => None,
        };
        attempt += 1;
        // Configured otherwise: most likely a real conflict (another version of pagewire, an
        // operator's change), so fewer tries; unanswered or missing: the race, or an outage.
        let limit = if differs.is_some() {
            CONFLICT_ATTEMPTS
        } else {
            PROVISION_ATTEMPTS
        };
        if attempt >= limit {
            let what = match differs {
                Some(how) => format!("{what} (the server holds it with {how})"),
                None => what.to_owned(),
            };
            return Err(ServiceError::Provision {
                what,
                source: error,
            });
        }
        let delay = backoff(attempt + 2, max_delay);
        tracing::warn!(object = what, error = %error, differs = ?differs, retry_in = ?delay, "cannot create yet; retrying");
        tokio::time::sleep(delay).await;
    }
}

/// How long create number `attempt` (from 0) of [`provision_one`] waits for its answer:
/// [`FIRST_CREATE_WAIT`], doubled per attempt (the client's request timeout bounds it too).
fn create_wait(attempt: usize) -> Duration {
    FIRST_CREATE_WAIT.saturating_mul(1 << attempt.min(8))
}

/// Creates or updates a stream ([`provision_one`]).
pub(super) async fn ensure_stream(
    js: &jetstream::Context,
    config: stream::Config,
    max_delay: Duration,
) -> Result<stream::Info, ServiceError> {
    let what = format!("stream {}", config.name);
    provision_one(
        &what,
        max_delay,
        || js.create_or_update_stream(config.clone()),
        || async {
            match js.get_stream(&config.name).await {
                Ok(s) => {
                    let info = s.cached_info().clone();
                    match stream_differs(&info.config, &config) {
                        None => Found::AsConfigured(info),
                        Some(how) => Found::Differs(how),
                    }
                }
                Err(_) => Found::Missing,
            }
        },
    )
    .await
}

/// What of `want` (the fields pagewire sets) the server's `have` does not match, if anything.
pub(super) fn stream_differs(have: &stream::Config, want: &stream::Config) -> Option<String> {
    let mut subjects = (have.subjects.clone(), want.subjects.clone());
    subjects.0.sort();
    subjects.1.sort();
    let mut d = Vec::new();
    if subjects.0 != subjects.1 {
        d.push(format!("subjects {:?}", have.subjects));
    }
    if have.storage != want.storage {
        d.push(format!("storage {:?}", have.storage));
    }
    if have.num_replicas.max(1) != want.num_replicas.max(1) {
        d.push(format!("{} replicas", have.num_replicas));
    }
    if want.allow_atomic_publish && !have.allow_atomic_publish {
        d.push("allow_atomic false".to_owned());
    }
    if have.retention != want.retention {
        d.push(format!("retention {:?}", have.retention));
    }
    if have.max_age != want.max_age {
        d.push(format!("max_age {:?}", have.max_age));
    }
    // Zero asks for the server's default.
    if want.duplicate_window != Duration::ZERO && have.duplicate_window != want.duplicate_window {
        d.push(format!("duplicate_window {:?}", have.duplicate_window));
    }
    if want.max_messages_per_subject != 0
        && have.max_messages_per_subject != want.max_messages_per_subject
    {
        d.push(format!(
            "max_messages_per_subject {}",
            have.max_messages_per_subject
        ));
    }
    (!d.is_empty()).then(|| d.join(", "))
}

/// Creates or updates a durable pull consumer ([`provision_one`]).
pub(super) async fn ensure_consumer(
    stream: &stream::Stream,
    config: jetstream::consumer::pull::Config,
    max_delay: Duration,
) -> Result<PullConsumer, ServiceError> {
    let name = config.durable_name.clone().unwrap_or_default();
    let what = format!(
        "consumer {name} on stream {}",
        stream.cached_info().config.name
    );
    provision_one(
        &what,
        max_delay,
        || stream.create_consumer(config.clone()),
        || async {
            match stream
                .get_consumer::<jetstream::consumer::pull::Config>(&name)
                .await
            {
                Ok(c) => match consumer_differs(&c.cached_info().config, &config) {
                    None => Found::AsConfigured(c),
                    Some(how) => Found::Differs(how),
                },
                Err(_) => Found::Missing,
            }
        },
    )
    .await
}

/// What of `want` the server's consumer `have` does not match, if anything.
pub(super) fn consumer_differs(
    have: &jetstream::consumer::Config,
    want: &jetstream::consumer::pull::Config,
) -> Option<String> {
    let mut d = Vec::new();
    if have.filter_subject != want.filter_subject || have.filter_subjects != want.filter_subjects {
        d.push(format!(
            "filter {:?} {:?}",
            have.filter_subject, have.filter_subjects
        ));
    }
    if have.ack_policy != want.ack_policy {
        d.push(format!("ack_policy {:?}", have.ack_policy));
    }
    if have.ack_wait != want.ack_wait {
        d.push(format!("ack_wait {:?}", have.ack_wait));
    }
    if have.max_deliver != want.max_deliver {
        d.push(format!("max_deliver {}", have.max_deliver));
    }
    if want.num_replicas != 0 && have.num_replicas != want.num_replicas {
        d.push(format!("{} replicas", have.num_replicas));
    }
    (!d.is_empty()).then(|| d.join(", "))
}

/// Binds the durable pull consumer, creating or updating it when provisioning.
pub async fn bind_consumer(
    js: &jetstream::Context,
    s: &Settings,
) -> Result<PullConsumer, ServiceError> {
    let i = &s.input;
    let err = |e: async_nats::Error| ServiceError::Provision {
        what: format!("consumer {} on stream {}", i.consumer, i.stream),
        source: e,
    };
    let stream = js
        .get_stream(&i.stream)
        .await
        .map_err(|e| err(Box::new(e)))?;
    if !s.output.provision {
        let consumer: PullConsumer = stream.get_consumer(&i.consumer).await.map_err(err)?;
        let limit = consumer.cached_info().config.max_deliver;
        if limit > 0 && limit <= i.max_deliver {
            // The broker would stop delivering a page whose dead letter could not be stored on
            // its last delivery: the one way to lose a page. pagewire keeps the budget itself.
            tracing::warn!(
                consumer = %i.consumer,
                max_deliver = limit,
                budget = i.max_deliver,
                "the consumer's max_deliver is not above input.max_deliver; set it to -1 so that a page waiting for its dead letter is never dropped"
            );
        }
        return Ok(consumer);
    }
    let (filter_subject, filter_subjects) = match i.subjects.as_slice() {
        [one] => (one.clone(), Vec::new()),
        many => (String::new(), many.to_vec()),
    };
    let config = jetstream::consumer::pull::Config {
        durable_name: Some(i.consumer.clone()),
        description: Some("pagewire: raw pages to articles".to_owned()),
        ack_policy: jetstream::consumer::AckPolicy::Explicit,
        ack_wait: i.ack_wait,
        // No limit on the broker's side: pagewire counts deliveries against its own budget
        // (input.max_deliver) and dead-letters at the end of it, and a page whose dead letter
        // cannot be stored yet must come back, not be dropped.
        max_deliver: -1,
        filter_subject,
        filter_subjects,
        num_replicas: if s.output.replicas > 1 {
            s.output.replicas
        } else {
            0
        },
        ..Default::default()
    };
    ensure_consumer(&stream, config, s.nats.reconnect_delay_max).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_read_back_matches_only_on_the_fields_pagewire_sets() {
        let want = stream::Config {
            name: "ARTICLES_SEARCH".to_owned(),
            subjects: vec!["articles.search.>".to_owned(), "x.>".to_owned()],
            num_replicas: 3,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        };
        // As the server answers: its defaults filled in, subjects in another order.
        let have = stream::Config {
            subjects: vec!["x.>".to_owned(), "articles.search.>".to_owned()],
            max_messages: -1,
            max_bytes: -1,
            description: Some("set by the server".to_owned()),
            ..want.clone()
        };
        assert_eq!(stream_differs(&have, &want), None);
        let other = stream::Config {
            num_replicas: 1,
            storage: stream::StorageType::Memory,
            ..have
        };
        let how = stream_differs(&other, &want).expect("differs");
        assert!(
            how.contains("1 replicas") && how.contains("Memory"),
            "{how}"
        );
    }

    #[test]
    fn a_consumer_read_back_matches_only_on_the_fields_pagewire_sets() {
        let want = jetstream::consumer::pull::Config {
            durable_name: Some("pagewire".to_owned()),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: Duration::from_secs(30),
            max_deliver: -1,
            filter_subject: "pages.raw.>".to_owned(),
            ..Default::default()
        };
        let have = jetstream::consumer::Config {
            durable_name: Some("pagewire".to_owned()),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: Duration::from_secs(30),
            max_deliver: -1,
            filter_subject: "pages.raw.>".to_owned(),
            num_replicas: 3,
            max_ack_pending: 1000,
            ..Default::default()
        };
        assert_eq!(consumer_differs(&have, &want), None);
        let other = jetstream::consumer::Config {
            max_deliver: 5,
            ..have
        };
        assert_eq!(
            consumer_differs(&other, &want).as_deref(),
            Some("max_deliver 5")
        );
    }

    #[test]
    fn servers_older_than_2_10_are_refused_with_their_version() {
        for old in ["2.9.10", "2.9.25", "v2.2.0", "1.4.1"] {
            let e = check_server_version(old).unwrap_err().to_string();
            assert!(e.contains(old) && e.contains("2.10.0"), "{e}");
            assert!(!e.contains('\n'));
        }
        for ok in [
            "2.10.0",
            "2.10.0-beta.1",
            "2.11.3",
            "2.15.1",
            "3.0.0",
            "dev",
            "",
        ] {
            assert!(check_server_version(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn each_create_waits_twice_as_long_as_the_one_before() {
        assert_eq!(create_wait(0), FIRST_CREATE_WAIT);
        assert_eq!(create_wait(1), FIRST_CREATE_WAIT * 2);
        assert_eq!(create_wait(3), FIRST_CREATE_WAIT * 8);
        // Bounded (the client's request timeout is the real limit long before).
        assert_eq!(create_wait(PROVISION_ATTEMPTS), create_wait(100));
    }

    /// A create that never answers is not waited out: after [`FIRST_CREATE_WAIT`] the object is
    /// read back (found as configured: done) or created again (missing: the second create
    /// answers).
    #[tokio::test]
    async fn an_unanswered_create_is_read_back_after_the_first_wait_then_retried() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        for (found, creates_wanted) in [(true, 1), (false, 2)] {
            let creates = AtomicUsize::new(0);
            let started = std::time::Instant::now();
            let provision = provision_one(
                "stream TEST",
                Duration::from_millis(10),
                || {
                    let n = creates.fetch_add(1, Ordering::SeqCst);
                    async move {
                        if n == 0 {
                            std::future::pending::<()>().await;
                        }
                        Ok::<_, std::io::Error>("created")
                    }
                },
                || async move {
                    if found {
                        Found::AsConfigured("read back")
                    } else {
                        Found::Missing
                    }
                },
            );
            // Without its own wait, provision_one would wait for the create forever.
            let made = tokio::time::timeout(FIRST_CREATE_WAIT * 5, provision)
                .await
                .expect("provision_one kept waiting for the unanswered create")
                .expect("provisioned");
            let took = started.elapsed();
            assert_eq!(made, if found { "read back" } else { "created" });
            assert_eq!(creates.load(Ordering::SeqCst), creates_wanted);
            assert!(
                took >= FIRST_CREATE_WAIT && took < FIRST_CREATE_WAIT * 3,
                "took {took:?}"
            );
        }
    }
}
